"""Headless-browser check of the run folder's HTML pages (``lda.html``, ``report.html``).

Each page is opened from a ``file://`` address in headless Chromium (Debian's
``/usr/bin/chromium``, driven by playwright; no browser download) with the network
blocked, and must render, log no console error, raise no uncaught error and request
nothing but ``file:``/``data:``/``blob:``/``about:`` addresses. A full-page screenshot of
each page is kept in ``test-artifacts/browser/`` (overwritten on every run).

The tests marked "the check can fail" run the same helpers on small hand-made pages
(and on a broken copy of ``lda.html``) to show that every check catches what it is for.
The tests are skipped only when no Chromium executable exists, and never under CI=true:
`make test` installs Chromium there, so a missing one is a failure to report, not to hide.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import numpy as np
import pytest
from matplotlib.image import imsave
from playwright.sync_api import Browser, Page, Route, sync_playwright

from conftest import REPO_ROOT

ARTIFACTS = REPO_ROOT / "test-artifacts" / "browser"
PAGES = ["lda.html", "report.html"]
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")
#: Flags that work as root in a container and keep Chromium from calling Google hosts.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]
TIMEOUT_MS = 15_000
VIS_ID = "policytopics-ldavis"  # policytopics.ldavis.VIS_ID, repeated to test the page as shipped


def chromium_executable() -> str | None:
    """Debian's Chromium, else a ``chromium`` on PATH, else None."""
    if Path("/usr/bin/chromium").is_file():
        return "/usr/bin/chromium"
    return shutil.which("chromium")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the module; skips the tests when no Chromium exists."""
    executable = chromium_executable()
    if executable is None and os.environ.get("CI") == "true":
        pytest.fail("CI=true but no Chromium: `make test` should have installed it with apt-get (see its output)")
    if executable is None:
        pytest.skip("no Chromium: /usr/bin/chromium is missing and no 'chromium' is on PATH "
                    "(`make test` installs it with apt-get when run as root)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class Visit:
    """An open page and everything it did while loading and being used."""

    page: Page
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)


def _is_local(url: str) -> bool:
    return url.startswith(LOCAL_SCHEMES)


@contextmanager
def visit(browser: Browser, path: Path) -> Iterator[Visit]:
    """Open ``path`` via ``file://`` in a fresh, offline context that aborts network requests."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
    try:
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        seen = Visit(page)

        def route(route: Route) -> None:
            if _is_local(route.request.url):
                route.continue_()
            else:
                seen.blocked.append(route.request.url)
                route.abort("blockedbyclient")

        context.route("**/*", route)
        context.set_offline(True)
        context.on("request", lambda request: seen.requests.append(request.url))
        page.on("websocket", lambda socket: seen.requests.append(socket.url))
        page.on("console", lambda message: seen.console_errors.append(message.text)
                if message.type == "error" else None)
        page.on("pageerror", lambda error: seen.page_errors.append(str(error)))
        page.goto(path.resolve().as_uri(), wait_until="load")
        yield seen
    finally:
        context.close()


# --- checks (each raises AssertionError with a message saying what is wrong) ---------------

def check_no_console_errors(seen: Visit) -> None:
    assert seen.console_errors == [], f"console errors: {seen.console_errors}"


def check_no_page_errors(seen: Visit) -> None:
    assert seen.page_errors == [], f"uncaught page errors: {seen.page_errors}"


def check_only_local_requests(seen: Visit) -> None:
    external = [url for url in seen.requests if not _is_local(url)]
    assert external == [], f"external requests (must be file:/data:/blob:/about:): {external}"


def check_renders(seen: Visit) -> None:
    text = seen.page.evaluate("document.body ? document.body.innerText.trim() : ''")
    assert text, "the page body has no visible text"


def check_images_loaded(seen: Visit) -> None:
    broken = seen.page.evaluate(
        """async () => {
            const images = Array.from(document.images);
            await Promise.all(images.map(img => img.complete ? null : new Promise(done => {
                img.addEventListener("load", done); img.addEventListener("error", done);
                setTimeout(done, 5000);
            })));
            return images.filter(img => !img.complete || img.naturalWidth === 0)
                         .map(img => (img.getAttribute("src") || "").slice(0, 80));
        }"""
    )
    assert broken == [], f"images not loaded (naturalWidth 0): {broken}"


def check_report_page(seen: Visit) -> None:
    """report.html: a title, a table, a visible figure, loaded images, a link to lda.html."""
    page = seen.page
    check_renders(seen)
    h1 = page.locator("h1")
    assert h1.count() >= 1 and h1.first.inner_text().strip(), "no <h1> with text"
    assert page.locator("table").count() >= 1, "no <table>"
    figures = page.evaluate(
        """() => Array.from(document.querySelectorAll("img, svg")).filter(el => {
                const box = el.getBoundingClientRect(); return box.width > 0 && box.height > 0;
            }).length"""
    )
    assert figures >= 1, "no visible figure (<img> or <svg> with a non-empty box)"
    check_images_loaded(seen)
    links = page.evaluate("Array.from(document.links).map(a => a.href.split('#')[0])")
    lda_links = [link for link in links if link.endswith("/lda.html")]
    assert lda_links, f"no link to lda.html among {links[:10]}"
    for link in lda_links:
        target = Path(url2pathname(urlparse(link).path))
        assert link.startswith("file:") and target.is_file(), f"the link to lda.html leads nowhere: {link}"


def _lda_state(page: Page) -> dict:
    return page.evaluate(
        """(visId) => {
            const root = document.getElementById(visId);
            const q = sel => Array.from(root.querySelectorAll(sel));
            const tool = root.querySelector(".bubble-tool");
            return {
                svgs: q("svg").length,
                circles: q("circle.dot").map(c => [c.id, +c.getAttribute("r")]),
                bars: q(".bar-totals").map(b => +b.getAttribute("width")),
                overlays: q(".overlay").map(b => +b.getAttribute("width")),
                terms: q(".terms").map(t => t.textContent),
                tool: tool ? tool.textContent : null,
                selected: (document.getElementById(visId + "-topic") || {value: null}).value,
            };
        }""",
        VIS_ID,
    )


def check_lda_page(seen: Visit) -> None:
    """lda.html: the LDAvis SVGs, one drawn circle per topic and the term bar chart."""
    check_renders(seen)
    page = seen.page
    assert page.locator(f"#{VIS_ID}").count() == 1, f"no #{VIS_ID} container"
    n_topics = page.evaluate("typeof policytopicsLdavisData === 'undefined' ? 0 "
                             ": policytopicsLdavisData['topic.order'].length")
    assert n_topics > 0, "no LDAvis data (policytopicsLdavisData) in the page"
    state = _lda_state(page)
    assert state["svgs"] >= 2, f"LDAvis drew {state['svgs']} <svg> (expected the map and the bars)"
    assert len(state["circles"]) == n_topics, f"{len(state['circles'])} topic circles for {n_topics} topics"
    assert all(radius > 0 for _, radius in state["circles"]), f"empty topic circles: {state['circles']}"
    assert state["bars"] and all(width > 0 for width in state["bars"]), "no term bars drawn"
    assert len(state["terms"]) == len(state["bars"]) and all(state["terms"]), "term labels missing"


def check_lda_interaction(seen: Visit) -> None:
    """Clicking a topic circle redraws the bar chart with that topic's terms (red overlays)."""
    page = seen.page
    before = _lda_state(page)
    assert before["overlays"] == [] and before["selected"] == "0", "a topic is selected before any click"
    circle_id = page.evaluate(
        """() => {
            for (const c of document.querySelectorAll("circle.dot")) {
                c.scrollIntoView({block: "center"});
                const box = c.getBoundingClientRect();
                if (document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2) === c) return c.id;
            }
            return null;
        }"""
    )
    assert circle_id, "no topic circle can be reached with the mouse"
    topic = int(circle_id.removeprefix(f"{VIS_ID}-topic"))
    page.locator(f"#{circle_id}").click()
    after = _lda_state(page)
    topic_terms = set(page.evaluate(
        """(category) => policytopicsLdavisData.tinfo.Term.filter(
               (term, i) => policytopicsLdavisData.tinfo.Category[i] === category)""",
        f"Topic{topic}",
    ))
    assert after["selected"] == str(topic), f"topic input shows {after['selected']!r}, clicked topic {topic}"
    assert after["tool"] and f"Topic {topic}" in after["tool"], f"bar chart title not updated: {after['tool']!r}"
    assert after["overlays"] and any(width > 0 for width in after["overlays"]), "no red topic bars after the click"
    assert after["terms"] != before["terms"], "the term bars did not change after clicking a topic"
    assert set(after["terms"]) <= topic_terms, f"bars show terms not in topic {topic}: {set(after['terms']) - topic_terms}"
    assert f"topic={topic}" in page.evaluate("location.hash"), "the selection was not saved in the address"


def check_page_in_browser(seen: Visit, name: str) -> None:
    """Everything asserted of a run-folder page: content, (for lda.html) one click, clean logs."""
    if name == "lda.html":
        check_lda_page(seen)
        check_lda_interaction(seen)
    else:
        check_report_page(seen)
    check_no_page_errors(seen)
    check_no_console_errors(seen)
    check_only_local_requests(seen)


# --- the run folder's pages -------------------------------------------------------------

@pytest.mark.parametrize("name", PAGES)
def test_run_page_in_headless_chromium(browser, seed_run, name):
    """The page renders offline, works, logs no error and loads nothing from the network."""
    path = Path(seed_run.run_dir) / name
    screenshot = ARTIFACTS / f"{Path(name).stem}.png"
    screenshot.unlink(missing_ok=True)  # never leave an old screenshot for a page that failed
    assert path.is_file(), f"the pipeline did not write {name} into the run folder {seed_run.run_dir}"
    with visit(browser, path) as seen:
        try:
            check_page_in_browser(seen, name)
        finally:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            seen.page.screenshot(path=screenshot, full_page=True)


# --- the checks can fail ------------------------------------------------------------------

def _page(tmp_path: Path, body: str, head: str = "") -> Path:
    path = tmp_path / "page.html"
    path.write_text(f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>t</title>{head}</head>'
                    f"<body>{body}</body></html>", encoding="utf-8")
    return path


def _report_like(tmp_path: Path, **replace: str) -> Path:
    """A small page with everything check_report_page wants; ``replace`` swaps parts out."""
    imsave(tmp_path / "figure.png", np.linspace(0, 1, 48).reshape(4, 4, 3))
    (tmp_path / "lda.html").write_text("<p>lda</p>", encoding="utf-8")
    parts = {
        "h1": "<h1>报告 report</h1>",
        "table": "<table><tr><th>topic</th></tr><tr><td>招商</td></tr></table>",
        "figure": '<img src="figure.png" alt="f">',
        "svg": '<svg width="40" height="20"><rect width="40" height="20"/></svg>',
        "link": '<a href="lda.html">topics</a>',
    }
    parts.update(replace)
    return _page(tmp_path, "".join(parts.values()))


def test_a_clean_hand_made_page_passes_every_check(browser, tmp_path):
    """Control for the tests below: a local page with a file image, a data: image and a blob."""
    page = _report_like(tmp_path, svg=(
        '<img src="data:image/svg+xml,%3Csvg xmlns=%22http://www.w3.org/2000/svg%22 width=%224%22'
        ' height=%224%22%3E%3C/svg%3E"><script>URL.createObjectURL(new Blob(["x"]));'
        'console.log("a log line is fine");</script>'))
    with visit(browser, page) as seen:
        check_report_page(seen)
        check_no_page_errors(seen)
        check_no_console_errors(seen)
        check_only_local_requests(seen)
        assert any(url.startswith("file:") for url in seen.requests)


@pytest.mark.parametrize(
    "head, body",
    [
        ('<script src="https://cdn.example.com/x.js"></script>', "<p>script</p>"),
        ('<link rel="stylesheet" href="http://cdn.example.com/x.css">', "<p>stylesheet</p>"),
        ("<style>@import url('https://fonts.example.com/f.css');</style>", "<p>css import</p>"),
        ("", '<p>image</p><img src="https://img.example.com/x.png">'),
        ("", '<p>fetch</p><script>fetch("https://api.example.com/data.json").catch(() => {});</script>'),
    ],
    ids=["script", "stylesheet", "css-import", "img", "fetch"],
)
def test_the_request_check_catches_and_blocks_external_urls(browser, tmp_path, head, body):
    """The check can fail: any http(s) request fails the check, and the route aborts it."""
    with visit(browser, _page(tmp_path, body, head)) as seen:
        seen.page.wait_for_timeout(300)  # let the script's fetch start
        with pytest.raises(AssertionError, match="external requests.*example.com"):
            check_only_local_requests(seen)
        assert any("example.com" in url for url in seen.blocked), "the request was not blocked"


def test_the_blocked_script_does_not_run(browser, tmp_path):
    page = _page(tmp_path, "<p>x</p><script>window.ran = typeof externalThing;</script>",
                 '<script src="https://cdn.example.com/x.js"></script>')
    with visit(browser, page) as seen:
        assert seen.page.evaluate("window.ran") == "undefined"
        assert seen.blocked == ["https://cdn.example.com/x.js"]


@pytest.mark.parametrize(
    "script, check",
    [
        ('console.error("x")', check_no_console_errors),
        ('throw new Error("boom")', check_no_page_errors),
        ('Promise.reject(new Error("rejected"))', check_no_page_errors),
        ('setTimeout(() => { undefinedFunction(); }, 0)', check_no_page_errors),
    ],
    ids=["console-error", "thrown", "unhandled-rejection", "later-error"],
)
def test_the_error_checks_catch_errors(browser, tmp_path, script, check):
    """The check can fail: console.error and uncaught errors are caught."""
    with visit(browser, _page(tmp_path, f"<p>x</p><script>{script}</script>")) as seen:
        seen.page.wait_for_timeout(200)
        with pytest.raises(AssertionError, match="errors"):
            check(seen)


def test_the_render_check_catches_an_empty_page(browser, tmp_path):
    with visit(browser, _page(tmp_path, '<div style="display:none">hidden</div>')) as seen:
        with pytest.raises(AssertionError, match="no visible text"):
            check_renders(seen)


@pytest.mark.parametrize(
    "replace, message",
    [
        ({"h1": "<h2>no title</h2>"}, "no <h1>"),
        ({"table": "<p>no table</p>"}, "no <table>"),
        ({"figure": "", "svg": ""}, "no visible figure"),
        ({"figure": '<img src="missing.png">'}, "images not loaded"),
        ({"figure": '<img src="data:image/png;base64,bm90IGEgcG5n">'}, "images not loaded"),
        ({"link": '<a href="other.html">x</a>'}, "no link to lda.html"),
    ],
    ids=["h1", "table", "figure", "missing-image", "corrupt-image", "lda-link"],
)
def test_the_report_check_catches_a_broken_report(browser, tmp_path, replace, message):
    with visit(browser, _report_like(tmp_path, **replace)) as seen:
        with pytest.raises(AssertionError, match=message):
            check_report_page(seen)


def test_the_report_check_catches_a_dead_lda_link(browser, tmp_path):
    page = _report_like(tmp_path)
    (tmp_path / "lda.html").unlink()
    with visit(browser, page) as seen:
        with pytest.raises(AssertionError, match="the link to lda.html leads nowhere"):
            check_report_page(seen)


def _broken_lda(seed_run, tmp_path: Path, after_draw: str) -> Path:
    """A copy of the run's lda.html with ``after_draw`` run right after LDAvis draws."""
    call = f'new LDAvis("#{VIS_ID}", policytopicsLdavisData);'
    page = (Path(seed_run.run_dir) / "lda.html").read_text(encoding="utf-8")
    assert page.count(call) == 1
    path = tmp_path / "lda.html"
    path.write_text(page.replace(call, call + "\n" + after_draw), encoding="utf-8")
    return path


def test_the_lda_check_catches_a_page_that_does_not_draw(browser, seed_run, tmp_path):
    path = _broken_lda(seed_run, tmp_path, f'document.getElementById("{VIS_ID}").innerHTML = "";')
    with visit(browser, path) as seen:
        with pytest.raises(AssertionError, match="LDAvis drew 0"):
            check_lda_page(seen)


def test_the_lda_click_check_catches_dead_topic_circles(browser, seed_run, tmp_path):
    path = _broken_lda(seed_run, tmp_path, 'd3.selectAll("circle.dot").on("mouseover", null).on("click", null);')
    with visit(browser, path) as seen:
        check_lda_page(seen)  # still drawn...
        with pytest.raises(AssertionError, match="topic input shows '0'"):
            check_lda_interaction(seen)  # ...but a click changes nothing
