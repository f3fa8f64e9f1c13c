"""Figures of a run folder: files, byte-reproducibility, Chinese glyphs and what each figure shows.

The run folder is built here from tiny tables (no pipeline run), so the tests are fast and do
not depend on the committed results.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import sys
import warnings
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure

from policytopics import figure_style, figure_tables
from policytopics.figures import (
    FIGURE_STEMS,
    FigureError,
    model_selection,
    theme_bars,
    theme_colors,
    theme_flow,
    theme_heatmap,
    topic_terms,
    write_figures,
)

LABELS = {"investment": "招商引资与项目", "livelihood": "民生与社会事业"}
SHARE_COLUMNS = ["theme_investment", "theme_livelihood", "theme_unassigned"]
EXPECTED_PATHS = sorted(f"figures/{stem}.{ext}" for stem in FIGURE_STEMS for ext in ("png", "svg"))
DUPLICATE_TITLE = "第五篇：开发区年终工作总结（重复）"


def _documents() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "doc_id": ["d1", "d2", "d3", "d4"],
            "source": ["a.txt", "a.txt", "b.txt", "b.txt"],
            "title": [
                "开发区年终工作会议领导讲话 篇1",
                "高新区上半年工作总结暨下半年工作安排会议上的领导讲话稿",
                "第三篇：开发区去年工作总结",
                DUPLICATE_TITLE,
            ],
            "n_chars": [900, 300, 500, 880],
            "n_units": [3, 2, 2, 0],
            "duplicate_of": [None, None, None, "d1"],
            "duplicate_reason": [None, None, None, "char 5-gram containment 0.96 >= 0.80"],
            "theme_investment": [0.6, 0.2, 0.7, None],
            "theme_livelihood": [0.3, 0.5, 0.25, None],
            "theme_unassigned": [0.1, 0.3, 0.05, None],
            "theme": ["investment", "livelihood", "investment", None],
            "theme_ranking": ["investment > livelihood", "livelihood > investment", "investment > livelihood", None],
        }
    )


def _units() -> pd.DataFrame:
    # rows deliberately not in reading order: the flow must sort by position
    rows = [
        ("d1", 2, "livelihood", 300),
        ("d1", 0, "unassigned", 100),
        ("d1", 1, "investment", 500),
        ("d2", 1, "livelihood", 200),
        ("d2", 0, "investment", 100),
        ("d3", 0, "investment", 400),
        ("d3", 1, "unassigned", 100),
    ]
    table = pd.DataFrame(rows, columns=["doc_id", "position", "theme", "n_chars"])
    table.insert(0, "unit_id", [f"{d}-u{p:04d}" for d, p, _, _ in rows])
    table["text"] = "招商引资，项目建设。"
    return table


def _topics() -> pd.DataFrame:
    return pd.DataFrame(
        {"topic": [0, 1, 2], "theme": ["investment", "livelihood", "unassigned"], "share": [0.5, 0.3, 0.2]}
    )


def _topic_terms() -> pd.DataFrame:
    rows = []
    terms = {
        0: ["项目", "招商引资", "项目建设", "招商", "大项目", "投资", "重点项目", "园区", "投产", "资金", "落户", "签约"],
        1: ["民生", "就业", "教育", "医疗"],
        2: ["开发区", "经济", "NA"],  # "NA" is a term, not a missing value
    }
    for topic, words in terms.items():
        for rank, word in enumerate(words, start=1):
            rows.append({"topic": topic, "rank": rank, "term": word, "weight": round(0.2 / rank, 6)})
    return pd.DataFrame(rows)


def _selection() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "num_topics": [2, 2, 3, 3],
            "seed": [1, 2, 1, 2],
            "c_v": [0.40, 0.42, 0.45, 0.47],
            "c_npmi": [-0.08, -0.06, -0.02, 0.01],
            "u_mass": [-4.0, -4.2, -3.9, -3.8],
            "diversity": [0.9, 0.85, 0.8, 0.82],
            "perplexity": [110.0, 111.0, 108.0, 109.0],
            "jaccard": [None, 0.8, None, 0.7],
        }
    )


def _stability() -> pd.DataFrame:
    return pd.DataFrame({"num_topics": [2, 3], "seed": [2, 2], "jaccard": [0.8, 0.7]})


def _write_run(run_dir: Path) -> Path:
    run_dir.mkdir(parents=True, exist_ok=True)
    tables = {
        "documents.csv": _documents(),
        "units.csv": _units(),
        "topics.csv": _topics(),
        "topic_terms.csv": _topic_terms(),
        "model_selection.csv": _selection(),
        "stability.csv": _stability(),
    }
    for name, table in tables.items():
        table.to_csv(run_dir / name, index=False, encoding="utf-8")
    return run_dir


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """One run folder with its figures written, and every warning raised while writing them."""
    run_dir = _write_run(tmp_path_factory.mktemp("figures") / "run")
    before = dict(matplotlib.rcParams)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        paths = write_figures(run_dir, LABELS, num_topics=3)
    return {"run_dir": run_dir, "paths": paths, "warnings": caught, "rc_before": before}


def _glyph_warnings(caught) -> list[str]:
    return [str(w.message) for w in caught if "missing from font" in str(w.message)]


# --------------------------------------------------------------------------------------------
# write_figures


def test_every_figure_is_written_as_png_and_svg(written):
    run_dir = written["run_dir"]
    assert written["paths"] == EXPECTED_PATHS
    assert sorted(p.relative_to(run_dir).as_posix() for p in (run_dir / "figures").iterdir()) == EXPECTED_PATHS
    for stem in FIGURE_STEMS:
        png = (run_dir / "figures" / f"{stem}.png").read_bytes()
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        # 200 dpi is 7874 pixels per metre in the pHYs chunk
        phys = png.index(b"pHYs")
        assert struct.unpack(">IIB", png[phys + 4 : phys + 13]) == (7874, 7874, 1)
        assert b"Software" not in png and b"matplotlib" not in png.lower()
        svg = (run_dir / "figures" / f"{stem}.svg").read_text(encoding="utf-8")
        assert "<svg" in svg
        assert "<text" not in svg  # glyphs drawn as paths: readable without the font
        assert "<dc:date>" not in svg


def test_output_is_byte_identical_on_rerun(written):
    run_dir = written["run_dir"]
    paths = write_figures(run_dir, LABELS, num_topics=3, out_dir=run_dir / "plots" / "again")
    assert paths == [p.replace("figures/", "plots/again/") for p in written["paths"]]
    for first, second in zip(written["paths"], paths, strict=True):
        assert (run_dir / second).read_bytes() == (run_dir / first).read_bytes(), first


def test_chinese_text_has_no_missing_glyphs(written):
    assert _glyph_warnings(written["warnings"]) == []


def test_the_glyph_check_would_catch_a_font_without_chinese():
    # the same check on a figure set in DejaVu Sans (no CJK glyphs) must find the missing glyphs,
    # so the test above is not passing vacuously
    figure = Figure()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with matplotlib.rc_context({"font.family": ["DejaVu Sans"]}):
            figure.text(0.5, 0.5, LABELS["investment"])
            figure.savefig(Path("/dev/null"), format="png")
    assert _glyph_warnings(caught)


def test_global_matplotlib_state_is_untouched(written):
    assert dict(matplotlib.rcParams) == written["rc_before"]


def test_module_does_not_import_pyplot():
    code = "import sys, policytopics.figures; print('matplotlib.pyplot' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize("table", ["documents.csv", "units.csv", "stability.csv"])
def test_missing_table_is_a_clear_error(tmp_path, table):
    run_dir = _write_run(tmp_path / "run")
    (run_dir / table).unlink()
    with pytest.raises(FigureError, match=table.replace(".", r"\.")):
        write_figures(run_dir, LABELS, num_topics=3)
    assert not (run_dir / "figures").exists()  # nothing half-written


def test_missing_column_is_a_clear_error(tmp_path):
    run_dir = _write_run(tmp_path / "run")
    _units().drop(columns=["n_chars"]).to_csv(run_dir / "units.csv", index=False)
    with pytest.raises(FigureError, match="units.csv.*n_chars"):
        write_figures(run_dir, LABELS, num_topics=3)


def test_missing_run_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FigureError, match="not found"):
        write_figures(tmp_path / "nope", LABELS, num_topics=3)


def test_theme_labels_must_match_the_theme_columns():
    with pytest.raises(FigureError, match="theme_planning"):
        theme_heatmap(_documents(), {**LABELS, "planning": "规划"})
    with pytest.raises(FigureError, match="theme_livelihood"):
        theme_heatmap(_documents(), {"investment": "招商引资与项目"})


# --------------------------------------------------------------------------------------------
# The figures


def _rectangles(collection) -> list[tuple[float, float, float, float]]:
    """(left, right, bottom, top) of every segment of a bar-segment collection, in drawing order."""
    result = []
    for path in collection.get_paths():
        for polygon in path.to_polygons():
            xs, ys = polygon[:, 0], polygon[:, 1]
            result.append((float(xs.min()), float(xs.max()), float(ys.min()), float(ys.max())))
    return result


def _heatmap_cells(figure: Figure) -> list[list[str]]:
    ax = figure.axes[0]
    texts = sorted(ax.texts, key=lambda t: (t.get_position()[1], t.get_position()[0]))
    rows: dict[float, list[str]] = {}
    for text in texts:
        rows.setdefault(text.get_position()[1], []).append(text.get_text())
    return [rows[y] for y in sorted(rows)]


def test_heatmap_prints_every_share_in_its_cell():
    documents = _documents()
    figure = theme_heatmap(documents, LABELS)
    analysed = documents.loc[documents["duplicate_of"].isna(), SHARE_COLUMNS].to_numpy()
    expected = [[f"{value:.2f}" for value in row] for row in analysed]
    assert _heatmap_cells(figure) == expected
    ax = figure.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == [*LABELS.values(), "unassigned"]
    assert len(ax.get_yticklabels()) == 3


def test_heatmap_cell_text_contrasts_with_the_cell():
    documents = _documents()
    documents.loc[0, SHARE_COLUMNS] = [0.95, 0.0, 0.05]
    figure = theme_heatmap(documents, LABELS)
    colours = {t.get_text(): t.get_color() for t in figure.axes[0].texts}
    assert colours["0.95"] == "white"  # darkest cell
    assert colours["0.00"] != "white"  # lightest cell


def test_heatmap_row_labels_are_short_unique_titles():
    figure = theme_heatmap(_documents(), LABELS)
    labels = [t.get_text() for t in figure.axes[0].get_yticklabels()]
    assert labels[0] == "开发区年终工作会议领导讲话 篇1"
    assert "…" in labels[1] and labels[1].startswith("高新区") and labels[1].endswith("讲话稿")
    assert len(set(labels)) == len(labels)


def test_duplicates_are_left_out_of_every_figure():
    documents, units = _documents(), _units()
    for figure in (theme_heatmap(documents, LABELS), theme_bars(documents, LABELS), theme_flow(documents, units, LABELS)):
        labels = [t.get_text() for t in figure.axes[0].get_yticklabels()]
        assert len(labels) == 3
        assert DUPLICATE_TITLE not in labels


def test_bars_are_ordered_by_dominant_theme_then_its_share():
    figure = theme_bars(_documents(), LABELS)
    labels = [t.get_text() for t in figure.axes[0].get_yticklabels()]
    assert labels[0] == "第三篇：开发区去年工作总结"  # investment 0.70
    assert labels[1] == "开发区年终工作会议领导讲话 篇1"  # investment 0.60
    assert labels[2].startswith("高新区")  # livelihood


def test_bars_stack_the_shares_in_the_theme_colours():
    figure = theme_bars(_documents(), LABELS)
    ax = figure.axes[0]
    colours = theme_colors(list(LABELS))
    segments = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert [matplotlib.colors.to_hex(c.get_facecolor()[0]).upper() for c in segments] == [
        colours["investment"], colours["livelihood"], colours["unassigned"],
    ]
    assert [len(_rectangles(c)) for c in segments] == [3, 3, 3]  # one segment per analysed document
    # the first bar (d3) ends at 0.70 + 0.25 + 0.05
    right_edges = [_rectangles(c)[0][1] for c in segments]
    np.testing.assert_allclose(right_edges, [0.70, 0.95, 1.00])
    legend = figure.legends[0]
    assert sorted(t.get_text() for t in legend.get_texts()) == sorted([*LABELS.values(), "unassigned"])


def test_topic_panels_show_the_top_ten_terms_titled_by_theme():
    figure = topic_terms(_topics(), _topic_terms(), LABELS)
    panels = [ax for ax in figure.axes if ax.get_visible()]
    assert [ax.get_title(loc="left") for ax in panels] == [
        "Topic 0 · 招商引资与项目", "Topic 1 · 民生与社会事业", "Topic 2 · unassigned",
    ]
    terms = [t.get_text() for t in panels[0].get_yticklabels()]
    assert terms == ["项目", "招商引资", "项目建设", "招商", "大项目", "投资", "重点项目", "园区", "投产", "资金"]
    colours = theme_colors(list(LABELS))
    assert matplotlib.colors.to_hex(panels[0].patches[0].get_facecolor()).upper() == colours["investment"]
    assert matplotlib.colors.to_hex(panels[2].patches[0].get_facecolor()).upper() == colours["unassigned"]


def test_terms_stay_text_when_read_from_the_run(written):
    table = figure_tables._read_table(written["run_dir"], "topic_terms.csv")
    assert "NA" in set(table["term"])


def test_model_selection_marks_the_chosen_k():
    figure = model_selection(_selection(), _stability(), num_topics=3)
    axes = [ax for ax in figure.axes if ax.get_title(loc="left")]
    assert [ax.get_title(loc="left") for ax in axes] == [
        "coherence c_v", "coherence c_npmi", "topic diversity", "stability (Jaccard)",
    ]
    for ax in axes:
        verticals = [line for line in ax.lines if list(line.get_xdata()) == [3, 3]]
        assert verticals, ax.get_title(loc="left")
        assert any("K = 3" in t.get_text() for t in ax.texts)
    # the mean over seeds is plotted
    mean_line = [line for line in axes[0].lines if len(line.get_xdata()) == 2][0]
    np.testing.assert_allclose(mean_line.get_ydata(), [0.41, 0.46])
    stability_line = [line for line in axes[3].lines if len(line.get_xdata()) == 2][0]
    np.testing.assert_allclose(stability_line.get_ydata(), [0.8, 0.7])


def test_model_selection_without_stability_refits():
    figure = model_selection(_selection(), _stability().iloc[0:0], num_topics=2)
    assert any("not computed" in t.get_text() for t in figure.axes[3].texts)


def test_flow_segments_follow_reading_order_with_length_widths():
    figure = theme_flow(_documents(), _units(), LABELS)
    ax = figure.axes[0]
    colours = theme_colors(list(LABELS))
    segments = []  # (row, left, width, colour)
    for collection in ax.collections:
        colour = matplotlib.colors.to_hex(collection.get_facecolor()[0]).upper()
        assert len(collection.get_paths()) <= 1  # one compound path per theme
        for left, right, bottom, top in _rectangles(collection):
            segments.append((round((bottom + top) / 2), round(left, 6), round(right - left, 6), colour))
    d1 = sorted(s for s in segments if s[0] == 0)
    # d1 in reading order: unassigned 100, investment 500, livelihood 300 characters
    assert [s[3] for s in d1] == [colours["unassigned"], colours["investment"], colours["livelihood"]]
    np.testing.assert_allclose([s[2] for s in d1], [100 / 900, 500 / 900, 300 / 900], atol=1e-6)
    np.testing.assert_allclose([s[1] for s in d1], [0.0, 100 / 900, 600 / 900], atol=1e-6)
    assert len(segments) == len(_units())


def test_flow_rejects_an_unknown_unit_theme():
    units = _units()
    units.loc[0, "theme"] = "planning"
    with pytest.raises(FigureError, match="planning"):
        theme_flow(_documents(), units, LABELS)


def test_figures_scale_with_the_number_of_documents():
    documents = pd.concat([_documents().iloc[:3]] * 20, ignore_index=True)
    documents["doc_id"] = [f"d{i}" for i in range(len(documents))]
    small = theme_heatmap(_documents(), LABELS)
    large = theme_heatmap(documents, LABELS)
    assert large.get_size_inches()[1] > small.get_size_inches()[1] * 4
    labels = [t.get_text() for t in large.axes[0].get_yticklabels()]
    assert len(set(labels)) == 60  # repeated titles told apart


# --------------------------------------------------------------------------------------------
# Helpers


def test_theme_colours_are_fixed_distinct_and_grey_for_unassigned():
    ids = ["investment", "livelihood", "planning", "cadre", "industry", "environment", "reform", "economy"]
    colours = theme_colors(ids)
    assert list(colours) == [*ids, "unassigned"]
    assert len(set(colours.values())) == len(colours)
    red, green, blue = matplotlib.colors.to_rgb(colours["unassigned"])
    assert red == green == blue  # grey
    assert all(len({*matplotlib.colors.to_rgb(c)}) > 1 for t, c in colours.items() if t != "unassigned")
    assert theme_colors(ids[:2]) == {k: colours[k] for k in (*ids[:2], "unassigned")}


def test_short_titles_cut_the_middle_and_stay_unique():
    titles = ["政府工作报告", "政府工作报告", None, "经济技术开发区上半年工作总结暨下半年工作部署会议领导讲话稿 篇1",
              "经济技术开发区上半年工作总结暨下半年工作部署会议领导讲话稿 篇2"]
    labels = figure_style._short_titles(titles, ["三亚", "上海", "北京", "d4", "d5"], max_width=30)
    assert labels[:3] == ["政府工作报告 [三亚]", "政府工作报告 [上海]", "北京"]
    assert labels[3] != labels[4] and labels[3].endswith("篇1") and labels[4].endswith("篇2")
    assert all("…" in label for label in labels[3:])
    assert len(set(labels)) == len(labels)
    assert figure_style._text_width(figure_style._shorten("很长" * 40, 30)) <= 30


# --------------------------------------------------------------------------------------------
# Speed measures that must not change what is drawn


@pytest.mark.parametrize("text", ["开发区年终工作会议领导讲话 篇1", "招商引资与项目", "GDP 5G", "0.25", "…", "Topic 11 · unassigned", "一"])
@pytest.mark.parametrize("size", [7.5, 9.0])
def test_fast_outline_width_is_matplotlibs_extent(text, size):
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextPath

    path = TextPath((0, 0), text, prop=FontProperties(family=figure_style._cjk_family(), size=size))
    assert figure_style._outline_width(path) == path.get_extents().width  # the same float, not a close one


def test_heatmap_cell_labels_stay_out_of_the_layout_and_are_restored_after_it():
    figure = theme_heatmap(_documents(), LABELS)
    cells = figure.axes[0].texts
    assert cells and not any(text.get_in_layout() for text in cells)
    assert all(text.get_visible() for text in cells)  # hidden only while the layout is computed


def test_saving_keeps_the_figure_layout_engine(tmp_path):
    figure = theme_bars(_documents(), LABELS)
    engine = figure.get_layout_engine()
    figure_style._save(figure, tmp_path, "bars")
    assert figure.get_layout_engine() is engine
    assert (tmp_path / "bars.png").is_file() and (tmp_path / "bars.svg").is_file()


def test_segments_are_one_snapped_compound_path_per_colour():
    figure = theme_flow(_documents(), _units(), LABELS)
    collections = [c for c in figure.axes[0].collections if c.get_paths()]
    assert len(collections) == 3  # investment, livelihood, unassigned
    assert all(len(c.get_paths()) == 1 and c.get_snap() is True for c in collections)


def test_per_speech_figures_show_at_most_max_speeches_and_say_so(tmp_path):
    run_dir = _write_run(tmp_path / "run")
    write_figures(run_dir, LABELS, num_topics=3, out_dir=tmp_path / "all")
    write_figures(run_dir, LABELS, num_topics=3, out_dir=tmp_path / "two", max_speeches=2)
    for stem in ("theme_heatmap", "theme_bars", "theme_flow"):
        svg = (tmp_path / "two" / f"{stem}.svg").read_text(encoding="utf-8")
        assert "the first 2 of 3 speeches" in svg
        assert "the first" not in (tmp_path / "all" / f"{stem}.svg").read_text(encoding="utf-8")
    # the figures of the whole run are the same as with a cap no run reaches
    write_figures(run_dir, LABELS, num_topics=3, out_dir=tmp_path / "cap", max_speeches=3)
    for name in EXPECTED_PATHS:
        stem = Path(name).name
        assert (tmp_path / "cap" / stem).read_bytes() == (tmp_path / "all" / stem).read_bytes()


def test_first_speeches_keeps_the_first_analysed_documents_and_their_units():
    documents, units = _documents(), _units()
    shown, shown_units, note = figure_tables._first_speeches(documents, units, 2)
    analysed = documents.loc[documents["duplicate_of"].fillna("") == "", "doc_id"].tolist()
    assert shown["doc_id"].tolist() == analysed[:2]
    assert set(shown_units["doc_id"]) == set(analysed[:2])
    assert note.startswith("the first 2 of 3 speeches")


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def test_a_figure_drawn_from_the_same_data_is_read_from_the_cache(tmp_path, monkeypatch):
    from policytopics import figures

    run_dir = _write_run(tmp_path / "run")
    cache_dir = tmp_path / "cache"
    drawn: list[str] = []
    for stem in FIGURE_STEMS:
        original = getattr(figures, stem)
        monkeypatch.setattr(figures, stem, lambda *args, _stem=stem, _draw=original, **kwargs: drawn.append(_stem) or _draw(*args, **kwargs))
    write_figures(run_dir, LABELS, num_topics=3, cache_dir=cache_dir)
    first = _snapshot(run_dir / "figures")
    assert sorted(drawn) == sorted(FIGURE_STEMS) and len(first) == 2 * len(FIGURE_STEMS)
    assert len(list((tmp_path / "cache" / "figures").iterdir())) == len(FIGURE_STEMS)

    # a rerun draws nothing: every file is copied, byte for byte
    shutil.rmtree(run_dir / "figures")
    drawn.clear()
    write_figures(run_dir, LABELS, num_topics=3, cache_dir=cache_dir)
    assert drawn == []
    assert _snapshot(run_dir / "figures") == first

    # other theme shares: only the per-speech figures are drawn again
    table = _documents()
    table.loc[0, ["theme_investment", "theme_livelihood"]] = [0.5, 0.4]
    table.to_csv(run_dir / "documents.csv", index=False, encoding="utf-8")
    write_figures(run_dir, LABELS, num_topics=3, cache_dir=cache_dir)
    assert sorted(drawn) == ["theme_bars", "theme_flow", "theme_heatmap"]
    changed = _snapshot(run_dir / "figures")
    # (the flow is drawn from the documents too, but not from their shares)
    assert {name for name in first if changed[name] != first[name]} == {
        f"{stem}.{ext}" for stem in ("theme_bars", "theme_heatmap") for ext in ("png", "svg")}
    # another chosen K redraws model selection only
    drawn.clear()
    write_figures(run_dir, LABELS, num_topics=2, cache_dir=cache_dir)
    assert drawn == ["model_selection"]
    # without a cache folder every figure is drawn and nothing is kept
    drawn.clear()
    entries = len(list(cache_dir.joinpath("figures").iterdir()))
    write_figures(run_dir, LABELS, num_topics=3, out_dir=tmp_path / "uncached")
    assert sorted(drawn) == sorted(FIGURE_STEMS) and len(list(cache_dir.joinpath("figures").iterdir())) == entries
