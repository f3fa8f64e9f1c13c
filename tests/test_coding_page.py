"""The offline coding page (``policytopics.coding_page``): its HTML, and a coder's session in headless Chromium.

Without a browser: the items' JSON block parses back to what was given (and only to the
fields a coder should see), corpus text such as ``</script>`` cannot end it, the
Content-Security-Policy is there and the page names no ``http(s)://`` address.

In Chromium (the ``browser`` fixture and ``visit`` of ``test_browser``: Debian's Chromium,
network blocked, skipped without Chromium except under CI=true): a coder codes passages with
the keyboard (a second category with Shift, a note with a comma and a quote typed into the
note field), answers a word-intrusion item with the mouse and a theme-intrusion item with a
digit, downloads ``answers.csv`` and the test reads it back with :mod:`csv`; a reload keeps the
answers (``localStorage``), and a browser that refuses ``localStorage`` still gets a working page.
"""

from __future__ import annotations

import csv
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from policytopics.coding_page import coding_page_html
from policytopics.errors import PolicytopicsError
from test_browser import (  # noqa: F401  (browser is a fixture: imported to be used here)
    Visit,
    browser,
    check_no_console_errors,
    check_no_page_errors,
    check_only_local_requests,
    visit,
)

TITLE = "coder A · city-2024"
CSP = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:")
HEADER = ["item_id", "kind", "answer", "second", "note"]
THEMES = [
    ("investment", "招商引资与项目", "招商引资、重大项目建设与投资"),
    ("industry", "产业升级", "制造业转型升级、现代化产业体系"),
    ("innovation", "科技创新", "研发投入、创新平台与人才"),
    ("environment", "生态环境", "污染防治、生态保护与绿色发展"),
    ("livelihood", "民生保障", "就业、社会保障与养老"),
    ("education", "教育", "各级各类教育"),
    ("health", "医疗卫生", "医疗服务与公共卫生"),
    ("housing", "住房", "住房保障与城市更新"),
    ("governance", "政府建设", "政务服务、依法行政与营商环境"),
]
CATEGORIES = [{"id": i, "label": label, "description": d} for i, label, d in THEMES] + [
    {"id": "none", "label": "none", "description": "no theme of the codebook / not a policy subject"}
]
#: The passage with a comma, a quote and a script end tag (and a try at running a script).
TRICKY = '坚持"绿水青山就是金山银山", 打好污染防治攻坚战。</script><script>window.pwned = 1;</script>'
ITEMS = [
    {"item_id": "s001", "kind": "passage", "text": "加快建设现代化产业体系，推动制造业高端化、智能化、绿色化发展。"},
    {"item_id": "s002", "kind": "passage", "text": TRICKY},
    {"item_id": "s003", "kind": "passage", "text": "扩大优质教育资源供给，办好人民满意的教育。"},
    {"item_id": "s004", "kind": "passage", "text": "完善住房保障体系，\n稳步推进城中村改造。"},
    {"item_id": "w001", "kind": "word_intrusion", "words": ["规划", "土地", "建设", "石油", "城市", "用地"]},
    {"item_id": "t001", "kind": "topic_intrusion", "text": "深化“放管服”改革，优化营商环境，提高政务服务效能。",
     "options": [{"id": "governance", "label": "政府建设"}, {"id": "investment", "label": "招商引资与项目"},
                 {"id": "health", "label": "医疗卫生"}, {"id": "industry", "label": "产业升级"}]},
]
NOTE = 'unsure, "p" or n 3 — 也许是 环境'
EXPECTED_ROWS = [
    HEADER,
    ["s001", "passage", "industry", "innovation", ""],
    ["s002", "passage", "none", "", NOTE],
    ["s004", "passage", "housing", "", ""],
    ["w001", "word_intrusion", "石油", "", ""],
    ["t001", "topic_intrusion", "health", "", ""],
]
#: localStorage that throws, as some browsers do for pages opened from a file.
NO_STORAGE = """Object.defineProperty(window, "localStorage", {
    configurable: true, get() { throw new DOMException("storage is off", "SecurityError"); }});"""


class _Scripts(HTMLParser):
    """The page's <script> elements as the HTML parser sees them: (attributes, text)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self._open: dict[str, str | None] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self._open = dict(attrs)
            self.scripts.append((self._open, ""))

    def handle_data(self, data):
        if self._open is not None:
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)

    def handle_endtag(self, tag):
        if tag == "script":
            self._open = None


def _scripts(page: str) -> list[tuple[dict[str, str | None], str]]:
    parser = _Scripts()
    parser.feed(page)
    parser.close()
    return parser.scripts


def _embedded(page: str) -> dict:
    blocks = [text for attrs, text in _scripts(page) if attrs.get("type") == "application/json"]
    assert len(blocks) == 1, f"{len(blocks)} JSON blocks"
    return json.loads(blocks[0])


# --- the HTML, without a browser -------------------------------------------------------------

def test_the_json_block_round_trips():
    page = coding_page_html(ITEMS, CATEGORIES, TITLE, protocol_note="Code each passage.")
    assert _embedded(page) == {"title": TITLE, "items": ITEMS, "categories": CATEGORIES}


def test_only_what_a_coder_sees_is_embedded():
    items = [dict(ITEMS[0], model_theme="SECRET_THEME"), dict(ITEMS[4], intruder="SECRET_WORD"),
             dict(ITEMS[5], intruder="SECRET_OPTION", shares=[0.5, 0.3, 0.2, 0.0])]
    page = coding_page_html(items, CATEGORIES, TITLE)
    assert "SECRET" not in page
    assert _embedded(page)["items"] == [ITEMS[0], ITEMS[4], ITEMS[5]]


@pytest.mark.parametrize("text", [TRICKY, "<!--<script>", "</SCRIPT >x", "a]]></script><!-- -->&amp;<b>"])
def test_corpus_text_cannot_break_out_of_the_json_block(text):
    page = coding_page_html([{"item_id": "s1", "kind": "passage", "text": text}], CATEGORIES, "t")
    scripts = _scripts(page)
    assert [attrs.get("type") for attrs, _ in scripts] == ["application/json", None], "a script element too many"
    assert len(re.findall(r"</script", page, flags=re.IGNORECASE)) == 2
    assert "<!--" not in page.split('id="coding-data">')[1].split("</script>")[0]
    assert _embedded(page)["items"][0]["text"] == text


def test_title_and_note_are_escaped():
    page = coding_page_html(ITEMS[:1], CATEGORIES, "<b>A & B</b>", protocol_note="<i>read</i> first")
    assert "<b>A" not in page and "&lt;b&gt;A &amp; B&lt;/b&gt;" in page
    assert "<i>read" not in page and "&lt;i&gt;read&lt;/i&gt; first" in page
    assert _embedded(page)["title"] == "<b>A & B</b>"


def test_the_page_is_self_contained():
    page = coding_page_html(ITEMS, CATEGORIES, TITLE)
    head = page.split("</head>")[0]
    assert f'<meta http-equiv="Content-Security-Policy" content="{CSP}">' in head
    assert head.index("Content-Security-Policy") < page.index("<script")
    assert re.search(r"https?://", page, flags=re.IGNORECASE) is None
    assert re.search(r"<(link|img|iframe|object|embed)\b|\bsrc=|@import", page, flags=re.IGNORECASE) is None
    assert re.search(r"\burl\(", page) is None  # CSS url(); the script's URL.createObjectURL is for the download
    for family in ('"Noto Sans CJK SC"', '"PingFang SC"', '"Microsoft YaHei"', "sans-serif"):
        assert family in page
    assert "Download answers (CSV)" in page


@pytest.mark.parametrize(
    "items, categories, message",
    [
        ([{"item_id": "x", "kind": "essay", "text": "t"}], CATEGORIES, "kind 'essay'"),
        ([{"item_id": "x", "kind": "word_intrusion"}], CATEGORIES, "lacks.*words"),
        ([ITEMS[0], ITEMS[0]], CATEGORIES, r"repeated item ids \['s001'\]"),
        (ITEMS[:1], CATEGORIES + CATEGORIES[:1], r"repeated category ids \['investment'\]"),
    ],
    ids=["kind", "field", "item-id", "category-id"],
)
def test_bad_items_are_refused(items, categories, message):
    with pytest.raises(PolicytopicsError, match=message):
        coding_page_html(items, categories, TITLE)


# --- a coder's session in Chromium --------------------------------------------------------------

@pytest.fixture
def page_file(tmp_path) -> Path:
    path = tmp_path / "coding.html"
    path.write_text(coding_page_html(ITEMS, CATEGORIES, TITLE, protocol_note="Read the codebook first."),
                    encoding="utf-8")
    return path


def _progress(seen: Visit) -> str:
    return seen.page.locator("#progress").inner_text().strip()


def _state(seen: Visit) -> dict:
    return seen.page.evaluate(
        """() => ({
            main: Array.from(document.querySelectorAll("#choices button.choice.chosen")).map(b => b.dataset.value),
            second: Array.from(document.querySelectorAll("#choices button.second.chosen")).map(b => b.dataset.value),
            note: document.getElementById("note").value,
        })"""
    )


def _download(seen: Visit) -> tuple[bytes, list[list[str]]]:
    with seen.page.expect_download() as info:
        seen.page.locator("#download").click()
    download = info.value
    assert download.suggested_filename == "answers.csv"
    assert download.failure() is None
    raw = Path(download.path()).read_bytes()
    return raw, list(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))


def _check_clean(seen: Visit) -> None:
    check_no_page_errors(seen)
    check_no_console_errors(seen)
    check_only_local_requests(seen)
    assert seen.blocked == [], f"the page tried to load {seen.blocked}"


def test_a_coding_session_downloads_the_answers_csv(browser, page_file):
    with visit(browser, page_file) as seen:
        page, keys = seen.page, seen.page.keyboard
        assert _progress(seen) == "item 1 of 6, 0 answered"
        assert page.locator("#passage").inner_text() == ITEMS[0]["text"]
        descriptions = page.locator("#choices .description").all_inner_texts()
        assert descriptions == [c["description"] for c in CATEGORIES], "the codebook's descriptions are not shown"
        assert "Read the codebook first." in page.locator("header").inner_text()
        assert "kept in this browser" in page.locator("#storage").inner_text()

        # s001: main category 2 (industry), second Shift+3 (innovation)
        keys.press("2")
        keys.press("Shift+3")
        assert _state(seen) == {"main": ["industry"], "second": ["innovation"], "note": ""}
        keys.press("n")

        # s002: 0 is the 10th category (none); a note typed in the note field triggers no shortcut
        assert _progress(seen) == "item 2 of 6, 1 answered"
        assert page.locator("#passage").inner_text() == TRICKY, "the passage with </script> is not shown as text"
        assert page.evaluate("typeof window.pwned") == "undefined"
        keys.press("0")
        keys.press("e")
        assert page.evaluate("document.activeElement.id") == "note"
        keys.type(NOTE)
        keys.press("ArrowLeft")  # moves the caret, not the page
        assert _progress(seen) == "item 2 of 6, 2 answered"
        assert _state(seen) == {"main": ["none"], "second": [], "note": NOTE}
        keys.press("Escape")
        assert page.evaluate("document.activeElement.id") != "note"
        keys.press("ArrowRight")

        # s003 is skipped; s004: 1 then 8 (the last choice counts); Shift+8 = the main one is refused
        assert _progress(seen) == "item 3 of 6, 2 answered"
        keys.press("n")
        assert page.locator("#passage").inner_text() == ITEMS[3]["text"]
        keys.press("1")
        keys.press("8")
        keys.press("Shift+8")
        assert _state(seen) == {"main": ["housing"], "second": [], "note": ""}
        assert "must differ" in page.locator("#message").inner_text()
        keys.press("ArrowRight")

        # w001: six word buttons, no passage, no second category; answered with the mouse
        assert _progress(seen) == "item 5 of 6, 3 answered"
        assert page.locator("#text-panel").is_hidden()
        assert page.locator("#choices button.choice").all_inner_texts() == [
            f"{n} {word}" for n, word in enumerate(ITEMS[4]["words"], start=1)]
        assert page.locator("#choices button.second").count() == 0
        page.locator("#choices button.choice", has_text="石油").click()
        assert _state(seen)["main"] == ["石油"]
        keys.press("p")
        assert _progress(seen) == "item 4 of 6, 4 answered"
        keys.press("n")
        keys.press("n")

        # t001: the passage and four options; digit 3 chooses the third option
        assert page.locator("#passage").inner_text() == ITEMS[5]["text"]
        assert page.locator("#choices button.choice").count() == 4
        keys.press("3")
        keys.press("n")  # the last item: stays
        assert _progress(seen) == "item 6 of 6, 5 answered"
        assert _state(seen)["main"] == ["health"]

        raw, rows = _download(seen)
        assert not raw.startswith(b"\xef\xbb\xbf"), "the CSV starts with a BOM"
        assert raw.startswith(b"item_id,kind,answer,second,note\r\n")
        assert '"unsure, ""p"" or n 3 — 也许是 环境"'.encode() in raw
        assert rows == EXPECTED_ROWS

        # a reload keeps the answers and the position (localStorage)
        page.reload(wait_until="load")
        assert _progress(seen) == "item 6 of 6, 5 answered"
        for _ in range(5):
            keys.press("ArrowLeft")
        assert _progress(seen) == "item 1 of 6, 5 answered"
        assert _state(seen) == {"main": ["industry"], "second": ["innovation"], "note": ""}
        keys.press("n")
        assert _state(seen) == {"main": ["none"], "second": [], "note": NOTE}
        assert _download(seen) == (raw, rows)
        _check_clean(seen)


def test_the_page_works_without_local_storage(browser, page_file):
    with visit(browser, page_file) as seen:
        page, keys = seen.page, seen.page.keyboard
        page.context.add_init_script(NO_STORAGE)
        page.reload(wait_until="load")
        assert page.evaluate("(() => { try { localStorage; return 'on'; } catch (e) { return 'off'; } })()") == "off"
        assert "does not let the page keep answers" in page.locator("#storage").inner_text()
        assert _progress(seen) == "item 1 of 6, 0 answered"

        keys.press("Shift+2")  # a second category before the main one is refused
        assert "main category first" in page.locator("#message").inner_text()
        page.locator("#choices button.choice", has_text="生态环境").click()
        page.locator("#choices li", has_text="科技创新").locator("button.second").click()
        assert _state(seen) == {"main": ["environment"], "second": ["innovation"], "note": ""}
        keys.press("Shift+3")  # again: the second category is removed
        assert _state(seen)["second"] == []
        page.locator("#choices li", has_text="住房").locator("button.second").click()
        _, rows = _download(seen)
        assert rows == [HEADER, ["s001", "passage", "environment", "housing", ""]]

        page.reload(wait_until="load")  # nothing kept, and the page says so
        assert _progress(seen) == "item 1 of 6, 0 answered"
        _check_clean(seen)
