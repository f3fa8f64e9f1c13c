"""Tests of report.py: the self-contained report page of a run."""

from __future__ import annotations

import csv
import re
import shutil

import pytest

from policytopics.report import render_report, report_context, write_report


@pytest.fixture()
def run_copy(seed_run, tmp_path):
    """A private copy of the seed run's folder, free to be edited."""
    folder = tmp_path / "run"
    shutil.copytree(seed_run.run_dir, folder)
    return folder


def provenance_of(seed_run):
    import json

    manifest = json.loads((seed_run.run_dir / "manifest.json").read_text(encoding="utf-8"))
    return {key: manifest[key] for key in ("config_sha256", "seed", "inputs", "resources", "packages")}


def test_the_run_writes_a_self_contained_report(seed_run):
    html = (seed_run.run_dir / "report.html").read_text(encoding="utf-8")
    assert "<title>policytopics report: default</title>" in html  # the run's name, not the staging folder's
    # no script, and nothing fetched from elsewhere: every src is a data: URI
    assert "<script" not in html
    sources = re.findall(r'\ssrc="([^"]*)"', html)
    assert sources and all(source.startswith("data:image/png;base64,") for source in sources)
    assert not re.search(r"url\((?!data:)", html)
    assert re.findall(r'href="([^"#][^"]*)"', html) == ["lda.html", "lda.html"]
    # every figure the run wrote is inlined, and the CJK font subset is embedded
    pngs = sorted(p.name for p in (seed_run.run_dir / "figures").glob("*.png"))
    assert len(sources) == len(pngs) >= 5
    assert "@font-face { font-family: 'policytopics-cjk'" in html
    # in reading order: what the speeches emphasise first, model selection last
    positions = [html.index(f'id="figure-{stem}"') for stem in ("theme_heatmap", "theme_bars", "theme_flow", "topic_terms", "model_selection")]
    assert positions == sorted(positions)
    # every kept speech, with its ranking; the duplicate is left out of the table
    for document in seed_run.documents:
        if not document.duplicate_of:
            assert document.title in html
    assert seed_run.models.doc_themes[0] in html
    assert provenance_of(seed_run)["config_sha256"] in html


def test_the_report_states_the_ensemble_and_what_one_k_alone_would_give(seed_run):
    html = (seed_run.run_dir / "report.html").read_text(encoding="utf-8")
    sensitivity = seed_run.models.ensemble["unassigned_by_num_topics"]
    assert "averaged over 12 fits of the topic model" in html
    worst = sensitivity["document"]
    shown = ", ".join(f"K = {k}: {value:.3f}" for k, value in zip(sensitivity["groups"], worst["unassigned"]))
    assert f"{worst['doc_id']}: {shown}" in html
    assert " at 0x" not in html  # no object repr leaks into the page


def test_evidence_quotes_the_units_that_carry_each_theme(seed_run, run_copy):
    context = report_context(run_copy, seed_run.models.codebook.themes, provenance_of(seed_run))
    first = context["speeches"][0]
    assert first["doc_id"] == "000_c653e3a235d9673d-01"
    planning = next(item for item in first["evidence"] if item["theme"] == "planning")
    assert 1 <= len(planning["units"]) <= 3
    carried = [unit["share"] * unit["n_chars"] for unit in planning["units"]]
    assert carried == sorted(carried, reverse=True)
    units = {unit.unit_id: unit for unit in seed_run.units}
    quote = planning["units"][0]["quote"].rstrip("…")
    assert quote[:50] in " ".join(units[planning["units"][0]["unit_id"]].text.split())
    assert [item["theme"] for item in first["ranking"]][:2] == [item["theme"] for item in first["evidence"]][:2]


def test_corpus_text_is_escaped(seed_run, run_copy):
    hostile = '<script>alert("x")</script> & "quoted", comma'
    for name, column in (("documents.csv", "title"), ("units.csv", "text")):
        path = run_copy / name
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        rows[0][column] = hostile + rows[0][column]
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    html = render_report(report_context(run_copy, seed_run.models.codebook.themes, provenance_of(seed_run)), embed_font=False)
    assert "<script" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#34;quoted&#34;, comma" in html


def test_report_bytes_are_reproducible(seed_run, run_copy):
    themes = seed_run.models.codebook.themes
    first = write_report(run_copy, themes, provenance_of(seed_run)).read_bytes()
    assert write_report(run_copy, themes, provenance_of(seed_run)).read_bytes() == first
    # the run's own report inlined its figures; given the same figures, the same bytes
    figures = sorted(p.relative_to(run_copy).as_posix() for p in (run_copy / "figures").iterdir())
    rebuilt = write_report(run_copy, themes, provenance_of(seed_run), figures, 12, name="default").read_bytes()
    assert rebuilt != first
    assert rebuilt == (seed_run.run_dir / "report.html").read_bytes()


def test_a_missing_table_is_named(seed_run, run_copy):
    (run_copy / "topics.csv").unlink()
    with pytest.raises(FileNotFoundError, match="topics.csv is missing"):
        report_context(run_copy, seed_run.models.codebook.themes, provenance_of(seed_run))


def test_evidence_is_quoted_for_the_first_max_speeches_only(seed_run, run_copy):
    themes, provenance = seed_run.models.codebook.themes, provenance_of(seed_run)
    everything = report_context(run_copy, themes, provenance)
    capped = report_context(run_copy, themes, provenance, max_speeches=2)
    assert len(capped["speeches"]) == len(everything["speeches"]) == 10  # the table lists every speech
    assert [s["has_evidence"] for s in capped["speeches"]] == [True] * 2 + [False] * 8
    assert capped["speeches"][:2] == everything["speeches"][:2]
    assert capped["evidence_note"].startswith("Evidence is quoted for the first 2 of 10 speeches")
    assert everything["evidence_note"] == ""
    html = render_report(capped, embed_font=False)
    assert capped["evidence_note"] in html
    assert html.count("<summary>") < render_report(everything, embed_font=False).count("<summary>")


def test_the_page_is_rendered_once_and_its_font_subset_is_kept_in_the_run_cache(seed_run, run_copy, tmp_path, monkeypatch):
    import copy

    from policytopics import fonts, report

    context = report_context(run_copy, seed_run.models.codebook.themes, provenance_of(seed_run))
    # rendered with a mark where the font goes: what rendering twice gives (the page without
    # the font, then with the subset of that page's characters)
    without_font = report._template().render(**context, font_face="")
    expected = report._template().render(**context, font_face=fonts.font_face_css(without_font))
    assert render_report(context, embed_font=True) == expected
    # a corpus text that holds the mark itself: rendered twice, the same way
    marked = copy.deepcopy(context)
    marked["speeches"][0]["title"] += report._FONT_MARK
    without_font = report._template().render(**marked, font_face="")
    assert render_report(marked) == report._template().render(**marked, font_face=fonts.font_face_css(without_font))

    # write_report keeps the subset in the cache folder it is given (the run's cache.dir)
    themes = seed_run.models.codebook.themes
    first = write_report(run_copy, themes, provenance_of(seed_run), cache_dir=tmp_path / "cache").read_bytes()
    assert len(list((tmp_path / "cache" / "fonts").iterdir())) == 2  # the page's subset, and the base
    monkeypatch.setattr(fonts, "_make_subset", lambda *args: pytest.fail("the subset was cut again"))
    fonts._subset_in_memory.cache_clear()
    assert write_report(run_copy, themes, provenance_of(seed_run), cache_dir=tmp_path / "cache").read_bytes() == first
