"""Figures of the comparisons: what each shows, the files written, no partial set, byte-identical reruns.

The tables are tiny synthetic ones written with :func:`policytopics.artifacts.write_csv` (no
regression is run), so the tests are fast.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba

from policytopics.artifacts import write_csv
from policytopics.effect_figures import (
    _read,
    effects_forest,
    theme_by_group,
    theme_by_year,
    write_effect_figures,
)
from policytopics.figure_style import FigureError, theme_colors

LABELS = {"investment": "招商引资与项目", "livelihood": "民生与社会事业"}
THEMES = ["investment", "livelihood", "unassigned"]
TITLES = ["招商引资与项目", "民生与社会事业", "unassigned"]
YEARS = [2011, 2012, 2013]
LEVELS = ["central", "east", "west"]
EFFECTS_COLUMNS = ["analysis", "model", "theme", "term", "reference", "estimate", "std_error", "ci_low",
                   "ci_high", "p_value", "n_documents", "n_draws", "cluster"]
STEMS = ["effects_period", "effects_region_trend", "theme_by_group", "theme_by_year"]
EXPECTED = sorted(f"figures/{stem}.{ext}" for stem in STEMS for ext in ("png", "svg"))


def _by_year() -> pd.DataFrame:
    rows = []
    for i, theme in enumerate(THEMES):
        for j, year in enumerate(YEARS):
            share = 0.2 + 0.1 * i + 0.02 * j
            rows.append({"theme": theme, "year": year, "share": share, "ci_low": share - 0.03 - 0.01 * j,
                         "ci_high": share + 0.04, "n_documents": 3 + j})
    return pd.DataFrame(rows)


def _by_group() -> pd.DataFrame:
    rows = []
    for i, theme in enumerate(THEMES):
        for j, level in enumerate(LEVELS):
            share = 0.15 + 0.1 * i + 0.05 * j
            rows.append({"group_column": "region", "level": level, "theme": theme, "share": share,
                         "ci_low": share - 0.05, "ci_high": share + 0.06, "n_documents": 2 + j})
    return pd.DataFrame(rows)


def _effects() -> pd.DataFrame:
    # rows deliberately not in codebook order: the forest plot orders themes by the codebook
    rows = [
        ("period", "ols", "unassigned", "period[T.from_2013]", "before_2013", -0.02, -0.05, 0.01),
        ("period", "ols", "livelihood", "period[T.from_2013]", "before_2013", 0.03, 0.01, 0.05),
        ("period", "ols", "investment", "period[T.from_2013]", "before_2013", -0.04, -0.06, -0.02),
        ("region_trend", "fractional_logit", "investment", "C(region)[T.east]", "central", 0.4, 0.1, 0.7),
        ("region_trend", "fractional_logit", "investment", "year", None, 0.01, -0.01, 0.03),
        ("region_trend", "fractional_logit", "livelihood", "C(region)[T.east]", "central", -0.2, -0.5, 0.1),
        ("region_trend", "fractional_logit", "livelihood", "year", None, -0.05, -0.08, -0.02),
    ]
    columns = ["analysis", "model", "theme", "term", "reference", "estimate", "ci_low", "ci_high"]
    table = pd.DataFrame(rows, columns=columns)
    table["std_error"] = (table["ci_high"] - table["ci_low"]) / 3.92
    table["p_value"], table["n_documents"], table["n_draws"], table["cluster"] = 0.5, 12, 100, "province"
    return table


def _write(table: pd.DataFrame, path: Path) -> None:
    write_csv(path, [{k: (None if pd.isna(v) else v) for k, v in row.items()} for row in table.to_dict("records")],
              list(table.columns))


def _write_run(run_dir: Path, tables=("effects.csv", "theme_by_year.csv", "theme_by_group.csv")) -> Path:
    run_dir.mkdir(parents=True, exist_ok=True)
    make = {"effects.csv": _effects, "theme_by_year.csv": _by_year, "theme_by_group.csv": _by_group}
    for name in tables:
        _write(make[name](), run_dir / name)
    return run_dir


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    run_dir = _write_run(tmp_path_factory.mktemp("effect_figures") / "run")
    return run_dir, write_effect_figures(run_dir, LABELS)


def _segments(collection) -> np.ndarray:
    """One row (x0, y0, x1, y1) per segment of a hlines/vlines collection, in drawing order."""
    return np.array([np.ravel(segment) for segment in collection.get_segments()], dtype=float)


# --------------------------------------------------------------------------------------------
# The figures


def test_theme_by_year_draws_one_panel_per_theme_with_its_line_and_band():
    table = _by_year()
    figure = theme_by_year(table, LABELS)
    assert [ax.get_title(loc="left") for ax in figure.axes] == TITLES
    colors = theme_colors(THEMES)
    for ax, theme in zip(figure.axes, THEMES, strict=True):
        rows = table.loc[table["theme"] == theme]
        (line,) = ax.lines
        assert list(line.get_xdata()) == YEARS
        assert np.allclose(line.get_ydata(), rows["share"])
        assert to_rgba(line.get_color()) == to_rgba(colors[theme])
        (band,) = ax.collections
        vertices = band.get_paths()[0].vertices
        assert np.isclose(vertices[:, 1].min(), rows["ci_low"].min())
        assert np.isclose(vertices[:, 1].max(), rows["ci_high"].max())
        assert ax.get_ylim()[0] == 0.0
    assert figure._supxlabel.get_text() == "year"


def test_theme_by_year_sorts_years_and_shows_a_single_year_as_an_interval_bar():
    table = _by_year().iloc[::-1].reset_index(drop=True)
    assert list(theme_by_year(table, LABELS).axes[0].lines[0].get_xdata()) == YEARS
    # a theme with fewer years still spans the years of the others
    gap = theme_by_year(table.loc[lambda t: (t["theme"] != "livelihood") | (t["year"] != 2013)], LABELS)
    assert list(gap.axes[1].lines[0].get_xdata()) == YEARS[:2]
    assert gap.axes[1].get_xlim() == gap.axes[0].get_xlim() and gap.axes[1].get_xlim()[1] > 2013
    one = _by_year().loc[lambda t: t["year"] == 2012]
    ax = theme_by_year(one, LABELS).axes[0]
    share = one.loc[one["theme"] == "investment"].iloc[0]
    bars = [c for c in ax.collections if isinstance(c, LineCollection)]
    np.testing.assert_allclose(_segments(bars[0]), [(2012, share["ci_low"], 2012, share["ci_high"])])


def test_theme_by_year_follows_the_codebook_order_and_relabels_unassigned():
    table = _by_year().loc[lambda t: t["theme"] != "livelihood"]
    figure = theme_by_year(table, {"livelihood": "民生", "investment": "招商", "unassigned": "其他"})
    assert [ax.get_title(loc="left") for ax in figure.axes] == ["招商", "其他"]


def test_theme_by_group_draws_each_level_as_a_point_with_its_interval():
    table = _by_group().sample(frac=1.0, random_state=3)  # the rows follow the sorted levels anyway
    figure = theme_by_group(table, LABELS)
    assert [ax.get_title(loc="left") for ax in figure.axes] == TITLES
    for index, (ax, theme) in enumerate(zip(figure.axes, THEMES, strict=True)):
        rows = table.loc[table["theme"] == theme].set_index("level")
        # the level names at the left of the first panel of a row only, the rows shared
        assert [label.get_text() for label in ax.get_yticklabels()] == (LEVELS if index == 0 else [])
        assert list(ax.get_yticks()) == [0, 1, 2]
        (intervals,) = ax.collections
        expected = [(rows.at[level, "ci_low"], y, rows.at[level, "ci_high"], y) for y, level in enumerate(LEVELS)]
        segments = _segments(intervals)
        np.testing.assert_allclose(segments[np.argsort(segments[:, 1])], expected)
        (points,) = ax.lines
        order = np.argsort(points.get_ydata())
        np.testing.assert_allclose(points.get_ydata()[order], range(len(LEVELS)))
        np.testing.assert_allclose(points.get_xdata()[order], [rows.at[level, "share"] for level in LEVELS])
    assert "region" in figure._supxlabel.get_text()


def test_theme_by_group_names_the_column_when_there_are_several():
    table = pd.concat([_by_group(), _by_group().assign(group_column="tier", level="A")])
    labels = [label.get_text() for label in theme_by_group(table, LABELS).axes[0].get_yticklabels()]
    assert labels == ["region = central", "region = east", "region = west", "tier = A"]


def test_forest_has_one_row_per_theme_and_term_in_codebook_order():
    figure = effects_forest(_effects(), "region_trend", LABELS)
    (ax,) = figure.axes
    assert [label.get_text() for label in ax.get_yticklabels()] == [
        "招商引资与项目 · east vs central", "招商引资与项目 · year",
        "民生与社会事业 · east vs central", "民生与社会事业 · year",
    ]
    intervals = next(c for c in ax.collections if len(c.get_segments()) == 4)
    np.testing.assert_allclose(_segments(intervals), [(0.1, 0, 0.7, 0), (-0.01, 1, 0.03, 1), (-0.5, 2, 0.1, 2), (-0.08, 3, -0.02, 3)])
    points = next(c for c in ax.collections if c.get_offsets().shape == (4, 2))
    assert points.get_offsets()[:, 0].tolist() == pytest.approx([0.4, 0.01, -0.2, -0.05])
    # filled where the interval excludes zero, hollow (white) where it includes it
    colors = theme_colors(THEMES)
    faces = [tuple(face) for face in points.get_facecolors()]
    assert faces == [to_rgba(colors["investment"]), to_rgba("white"), to_rgba("white"), to_rgba(colors["livelihood"])]
    assert ax.get_xlabel() == "log-odds (fractional logit)"
    assert ax.get_title(loc="left").startswith("region_trend")


def test_forest_marks_zero_with_a_dashed_line_inside_the_axis():
    ax = effects_forest(_effects(), "period", LABELS).axes[0]
    zero = [line for line in ax.lines if line.get_linestyle() == "--"]
    assert len(zero) == 1 and list(zero[0].get_xdata()) == [0.0, 0.0]
    low, high = ax.get_xlim()
    assert low < -0.06 and high > 0.05
    assert ax.get_xlabel() == "difference in share (ols)"
    assert [label.get_text() for label in ax.get_yticklabels()] == [f"{t} · from_2013 vs before_2013" for t in TITLES]
    # an interval entirely above zero still shows zero
    positive = _effects().loc[lambda t: t["analysis"] == "period"].assign(estimate=0.5, ci_low=0.4, ci_high=0.6)
    assert effects_forest(positive, "period", LABELS).axes[0].get_xlim()[0] < 0.0


@pytest.mark.parametrize(
    ("draw", "table", "column"),
    [
        (lambda t: theme_by_year(t, LABELS), _by_year, "ci_high"),
        (lambda t: theme_by_group(t, LABELS), _by_group, "level"),
        (lambda t: effects_forest(t, "period", LABELS), _effects, "reference"),
    ],
)
def test_a_missing_column_names_the_table_and_column(draw, table, column):
    name = {_by_year: "theme_by_year", _by_group: "theme_by_group", _effects: "effects"}[table]
    with pytest.raises(FigureError, match=f"{name}: missing column.*{column}"):
        draw(table().drop(columns=[column]))


def test_forest_rejects_what_it_cannot_draw():
    with pytest.raises(FigureError, match="no row of analysis 'nope'"):
        effects_forest(_effects(), "nope", LABELS)
    mixed = _effects().assign(model=["ols", "fractional_logit"] + ["ols"] * 5)
    with pytest.raises(FigureError, match="more than one model"):
        effects_forest(mixed, "period", LABELS)
    with pytest.raises(FigureError, match="planning"):
        effects_forest(_effects().assign(theme="planning"), "period", LABELS)
    with pytest.raises(FigureError, match="effects: column estimate is not numeric"):
        effects_forest(_effects().assign(estimate="n/a"), "period", LABELS)


# --------------------------------------------------------------------------------------------
# write_effect_figures


def test_every_figure_is_written_as_png_and_svg(written):
    run_dir, paths = written
    assert paths == EXPECTED
    assert sorted(p.relative_to(run_dir).as_posix() for p in (run_dir / "figures").iterdir()) == EXPECTED
    for stem in STEMS:
        png = (run_dir / "figures" / f"{stem}.png").read_bytes()
        phys = png.index(b"pHYs")  # 200 dpi is 7874 pixels per metre
        assert struct.unpack(">IIB", png[phys + 4 : phys + 13]) == (7874, 7874, 1)
        assert b"matplotlib" not in png.lower()
        svg = (run_dir / "figures" / f"{stem}.svg").read_text(encoding="utf-8")
        assert "<svg" in svg and "<text" not in svg and "<dc:date>" not in svg


def test_a_second_call_writes_byte_identical_files(written):
    run_dir, paths = written
    again = write_effect_figures(run_dir, LABELS, out_dir=run_dir / "plots" / "again")
    assert again == [p.replace("figures/", "plots/again/") for p in paths]
    for first, second in zip(paths, again, strict=True):
        assert (run_dir / second).read_bytes() == (run_dir / first).read_bytes(), first


def test_only_the_figures_of_existing_tables_are_written(tmp_path):
    run_dir = _write_run(tmp_path / "run", tables=("theme_by_group.csv",))
    assert write_effect_figures(run_dir, LABELS) == ["figures/theme_by_group.png", "figures/theme_by_group.svg"]


def test_without_tables_nothing_is_written(tmp_path):
    (tmp_path / "run").mkdir()
    assert write_effect_figures(tmp_path / "run", LABELS) == []
    assert list((tmp_path / "run").iterdir()) == []


@pytest.mark.parametrize(
    ("table", "column"), [("effects.csv", "estimate"), ("theme_by_year.csv", "year"), ("theme_by_group.csv", "theme")]
)
def test_one_broken_table_writes_no_figure_at_all(tmp_path, table, column):
    run_dir = _write_run(tmp_path / "run")
    broken = pd.read_csv(run_dir / table, keep_default_na=False).drop(columns=[column])
    _write(broken, run_dir / table)
    with pytest.raises(FigureError, match=re.escape(f"{table}: missing column(s) {column}")):
        write_effect_figures(run_dir, LABELS)
    assert not (run_dir / "figures").exists()


def test_an_unlabelled_theme_writes_no_figure_at_all(tmp_path):
    run_dir = _write_run(tmp_path / "run")
    _write(_by_group().assign(theme="planning"), run_dir / "theme_by_group.csv")
    with pytest.raises(FigureError, match="theme_by_group: theme\\(s\\) planning not in theme_labels"):
        write_effect_figures(run_dir, LABELS)
    assert not (run_dir / "figures").exists()


def test_text_columns_stay_text_and_analysis_names_must_be_file_names(tmp_path):
    run_dir = _write_run(tmp_path / "run", tables=())
    # a level "NA" is a level, not a missing value
    _write(_by_group().assign(level=lambda t: t["level"].replace("west", "NA")), run_dir / "theme_by_group.csv")
    assert sorted(set(_read(run_dir / "theme_by_group.csv")["level"])) == ["NA", "central", "east"]
    assert write_effect_figures(run_dir, LABELS, out_dir=tmp_path / "out") == [
        "../out/theme_by_group.png", "../out/theme_by_group.svg"]
    _write(_effects().assign(analysis="../escape"), run_dir / "effects.csv")
    with pytest.raises(FigureError, match="analysis name '../escape'"):
        write_effect_figures(run_dir, LABELS, out_dir=tmp_path / "out2")
    assert not (tmp_path / "out2").exists()
