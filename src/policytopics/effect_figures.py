"""Figures of the comparisons: theme shares over years and groups, and the regression effects.

Three kinds of figure, each a function from a table of the run folder (``pandas.DataFrame``)
to a :class:`matplotlib.figure.Figure`; :func:`write_effect_figures` reads the tables that
exist and writes their figures as PNG (200 dpi) and SVG, byte-identical for the same tables:

======================== =====================================================================
``theme_by_year``        one panel per theme: the mean share over years with its 95% band
``theme_by_group``       one panel per theme: the mean share of every level, with its interval
``effects_<analysis>``   a forest plot: one row per theme × term, estimate and 95% interval
======================== =====================================================================

Style, fonts and deterministic saving are those of the run figures (:mod:`policytopics.figure_style`).

In: a run folder's comparison tables. Out: ``figures/*.png`` and ``*.svg``.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from policytopics.figure_style import (
    _BASE_FONT_SIZE,
    _SAVING,
    UNASSIGNED,
    FigureError,
    _cjk_family,
    _finish,
    _labels_with_unassigned,
    _new_figure,
    _save,
    _style,
    _text_inches,
    theme_colors,
)
from policytopics.effects import term_contrast
from policytopics.figure_tables import _check_known_themes, _require_columns

__all__ = ["effects_forest", "theme_by_group", "theme_by_year", "write_effect_figures"]

#: The comparison tables, the columns their figures need, and which of those are numbers.
_EFFECT_TABLES = {
    "theme_by_year.csv": (("theme", "year", "share", "ci_low", "ci_high"), ("year", "share", "ci_low", "ci_high")),
    "theme_by_group.csv": (("group_column", "level", "theme", "share", "ci_low", "ci_high"), ("share", "ci_low", "ci_high")),
    "effects.csv": (("analysis", "model", "theme", "term", "reference", "estimate", "ci_low", "ci_high"),
                    ("estimate", "ci_low", "ci_high")),
}
#: Columns read as text whatever they hold (a level ``NA`` or ``2013`` stays a string).
_TEXT_COLUMNS = ("analysis", "model", "theme", "term", "reference", "cluster", "group_column", "level")
#: What an estimate is measured in, by model: the x label of the forest plot.
_EFFECT_UNITS = {"ols": "difference in share (ols)", "fractional_logit": "log-odds (fractional logit)"}
_ANALYSIS_NAME = re.compile(r"[A-Za-z0-9_]+")  # as the config allows: it is a file name
_INTERVAL = "#555555"


def _numbers(table: pd.DataFrame, columns: Sequence[str], name: str) -> pd.DataFrame:
    """``table`` with ``columns`` as floats (an empty cell is NaN); text there is an error."""
    table = table.copy()
    for column in columns:
        try:
            table[column] = pd.to_numeric(table[column]).astype(float)
        except (TypeError, ValueError) as error:
            raise FigureError(f"{name}: column {column} is not numeric ({error})") from None
    return table


def _prepare(table: pd.DataFrame, theme_labels: Mapping[str, str], name: str) -> tuple[pd.DataFrame, dict[str, str], list[str]]:
    """The table checked and with numbers; the labels with ``unassigned``; the table's themes
    (every one labelled) in codebook order, ``unassigned`` last."""
    columns, numeric = _EFFECT_TABLES[f"{name}.csv"]
    _require_columns(table, columns, name)
    table = _numbers(table, numeric, name)
    table["theme"] = table["theme"].fillna(UNASSIGNED).astype(str)
    labels = _labels_with_unassigned(theme_labels)
    _check_known_themes(table["theme"], labels, name)
    return table, labels, [theme for theme in labels if theme in set(table["theme"])]


def _grid(n_panels: int) -> tuple[int, int]:
    """Rows and columns of small multiples: at most four panels a row."""
    n_columns = max(1, min(n_panels, 4))
    return max(1, math.ceil(n_panels / n_columns)), n_columns


def _tidy(ax) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _interval_legend(figure: Figure, point: str, interval: Patch | Line2D) -> None:
    figure.legend(handles=[Line2D([], [], color=_INTERVAL, marker="o", linestyle="-", markersize=4, label=point), interval],
                  loc="outside upper center", ncols=2, frameon=False)


def theme_by_year(table: pd.DataFrame, theme_labels: Mapping[str, str]) -> Figure:
    """Small multiples: one panel per theme with its mean share over the years and a 95% band.

    Panels follow the codebook order, ``unassigned`` last, each in its theme's colour and titled
    by its label: the mean share of that year's documents (posterior mean) and its 95% interval
    over the posterior draws. Each panel has its own share axis from 0; all span the same years.

    Parameters
    ----------
    table : pandas.DataFrame
        ``theme_by_year.csv``: ``theme``, ``year``, ``share``, ``ci_low``, ``ci_high``.
    theme_labels : mapping of str to str
        Theme id to display label, in codebook order; an ``unassigned`` entry relabels it.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"theme": ["investment"] * 2, "year": [2012, 2013], "share": [0.4, 0.5],
    ...                       "ci_low": [0.3, 0.4], "ci_high": [0.5, 0.6]})
    >>> [ax.get_title(loc="left") for ax in theme_by_year(table, {"investment": "招商引资"}).axes]
    ['招商引资']
    """
    with _style():
        table, labels, themes = _prepare(table, theme_labels, "theme_by_year")
        colors = theme_colors(list(labels))
        n_rows, n_columns = _grid(len(themes))
        panel_width = max(2.4, _text_inches([labels[t] for t in themes], _BASE_FONT_SIZE + 1) + 0.6)
        figure = _new_figure(0.5 + panel_width * n_columns, 0.7 + 1.9 * n_rows)
        first_ax = None
        for index, theme in enumerate(themes):
            ax = figure.add_subplot(n_rows, n_columns, index + 1, sharex=first_ax)  # one span of years
            first_ax = first_ax or ax
            rows = table.loc[table["theme"] == theme].sort_values("year", kind="stable")
            x = rows["year"].to_numpy()
            color = colors[theme]
            ax.fill_between(x, rows["ci_low"].to_numpy(), rows["ci_high"].to_numpy(), color=color, alpha=0.25, linewidth=0)
            if len(rows) == 1:  # a band of one year is no area: its interval as a bar
                ax.vlines(x, rows["ci_low"], rows["ci_high"], color=color, linewidth=1.2)
            ax.plot(x, rows["share"].to_numpy(), color=color, marker="o", markersize=3, linewidth=1.4)
            ax.set_title(labels[theme], loc="left")
            ax.set_ylim(bottom=0.0)
            ax.xaxis.set_major_locator(MaxNLocator(5, integer=True))
            ax.yaxis.set_major_locator(MaxNLocator(4))
            _tidy(ax)
        figure.supxlabel("year", fontsize=_BASE_FONT_SIZE)
        figure.supylabel("mean theme share", fontsize=_BASE_FONT_SIZE)
        _interval_legend(figure, "mean share", Patch(facecolor=_INTERVAL, alpha=0.25, label="95% interval"))
        return _finish(figure)


def theme_by_group(table: pd.DataFrame, theme_labels: Mapping[str, str]) -> Figure:
    """One panel per theme: the mean share of every group level, a point with its 95% interval.

    The levels (sorted; ``column = level`` when the table has more than one group column) are
    the rows, the same in every panel; panels follow the codebook order, ``unassigned`` last,
    each in its theme's colour, with its own share axis starting at 0.

    Parameters
    ----------
    table : pandas.DataFrame
        ``theme_by_group.csv``: ``group_column``, ``level``, ``theme``, ``share``, ``ci_low``,
        ``ci_high``.
    theme_labels : mapping of str to str
        Theme id to display label, in codebook order.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> table = pd.read_csv("results/default/theme_by_group.csv", keep_default_na=False)  # doctest: +SKIP
    >>> figure = theme_by_group(table, {"investment": "招商引资与项目"})  # doctest: +SKIP
    """
    with _style():
        table, labels, themes = _prepare(table, theme_labels, "theme_by_group")
        colors = theme_colors(list(labels))
        table["group_column"] = table["group_column"].fillna("").astype(str)
        table["level"] = table["level"].fillna("").astype(str)
        several = table["group_column"].nunique() > 1
        levels = sorted(set(zip(table["group_column"], table["level"])))
        row_of = {pair: index for index, pair in enumerate(levels)}
        row_labels = [f"{column} = {level}" if several else level for column, level in levels]
        group_name = " / ".join(sorted(set(table["group_column"]))) or "group"

        n_rows, n_columns = _grid(len(themes))
        label_width = _text_inches(row_labels) + 0.2
        panel_width = max(2.0, _text_inches([labels[t] for t in themes], _BASE_FONT_SIZE + 1) + 0.4)
        figure = _new_figure(0.6 + label_width + panel_width * n_columns, 0.8 + (0.6 + 0.24 * max(len(levels), 1)) * n_rows)
        first_ax = None
        for index, theme in enumerate(themes):
            ax = figure.add_subplot(n_rows, n_columns, index + 1, sharey=first_ax)
            first_ax = first_ax or ax
            rows = table.loc[table["theme"] == theme]
            y = np.array([row_of[pair] for pair in zip(rows["group_column"], rows["level"])], dtype=float)
            color = colors[theme]
            ax.hlines(y, rows["ci_low"].to_numpy(), rows["ci_high"].to_numpy(), color=color, linewidth=1.6)
            ax.plot(rows["share"].to_numpy(), y, color=color, marker="o", markersize=4.5, linestyle="none")
            ax.set_title(labels[theme], loc="left")
            ax.set_yticks(range(len(levels)), row_labels)
            ax.set_ylim(len(levels) - 0.5, -0.5)
            ax.set_xlim(left=0.0)
            ax.xaxis.set_major_locator(MaxNLocator(4))
            ax.tick_params(axis="y", length=0, labelleft=index % n_columns == 0)
            ax.grid(axis="y", color="#EEEEEE", linewidth=0.6)
            _tidy(ax)
        figure.supxlabel(f"mean theme share of the documents of each {group_name} level", fontsize=_BASE_FONT_SIZE)
        _interval_legend(figure, "mean share", Line2D([], [], color=_INTERVAL, linewidth=1.6, label="95% interval"))
        return _finish(figure)


def effects_forest(table: pd.DataFrame, analysis: str, theme_labels: Mapping[str, str]) -> Figure:
    """Coefficient (forest) plot of one analysis: one row per theme × term, estimate and 95% interval.

    Rows are grouped by theme (codebook order, ``unassigned`` last; terms in table order) and
    labelled ``<theme label> · <term>``, a categorical term as ``<level> vs <reference>``. In the
    theme's colour, the point is filled when the interval excludes zero, hollow when it includes
    it; a dashed line marks zero. The x label gives the unit: difference in share (``ols``) or
    log-odds (``fractional_logit``).

    Parameters
    ----------
    table : pandas.DataFrame
        ``effects.csv``: ``analysis``, ``model``, ``theme``, ``term``, ``reference``,
        ``estimate``, ``ci_low``, ``ci_high`` (rows of other analyses are ignored).
    analysis : str
        The analysis to draw.
    theme_labels : mapping of str to str
        Theme id to display label, in codebook order.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    FigureError
        A missing column, an unlabelled theme, no row of ``analysis``, or more than one model in it.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"analysis": ["period"], "model": ["ols"], "theme": ["investment"],
    ...                       "term": ["period[T.from_2013]"], "reference": ["before_2013"],
    ...                       "estimate": [0.025], "ci_low": [0.018], "ci_high": [0.032]})
    >>> figure = effects_forest(table, "period", {"investment": "招商引资"})
    >>> [label.get_text() for label in figure.axes[0].get_yticklabels()]
    ['招商引资 · from_2013 vs before_2013']
    """
    with _style():
        table, labels, _ = _prepare(table, theme_labels, "effects")
        rows = table.loc[table["analysis"].astype(str) == analysis].copy()
        if rows.empty:
            raise FigureError(f"effects: no row of analysis {analysis!r}")
        models = sorted(set(rows["model"].fillna("").astype(str)))
        if len(models) != 1:
            raise FigureError(f"effects: analysis {analysis!r} has more than one model ({', '.join(models)})")
        model = models[0]
        colors = theme_colors(list(labels))
        rank = {theme: index for index, theme in enumerate(labels)}
        rows["rank"] = rows["theme"].map(rank)
        rows = rows.sort_values("rank", kind="stable")  # within a theme: table order
        references = rows["reference"].fillna("").astype(str)
        row_labels = [f"{labels[theme]} · {term_contrast(str(term), reference)}"
                      for theme, term, reference in zip(rows["theme"], rows["term"], references)]
        estimate, low, high = (rows[c].to_numpy() for c in ("estimate", "ci_low", "ci_high"))
        n_rows = len(rows)

        figure = _new_figure(1.0 + _text_inches(row_labels) + 4.5, 1.4 + 0.26 * n_rows)
        ax = figure.add_subplot()
        y = np.arange(n_rows, dtype=float)
        excludes_zero = (low > 0) | (high < 0)
        row_colors = [colors[theme] for theme in rows["theme"]]
        ax.hlines(y, low, high, colors=row_colors, linewidth=1.6, zorder=2)
        faces = [color if filled else "white" for color, filled in zip(row_colors, excludes_zero)]
        ax.scatter(estimate, y, s=28, facecolors=faces, edgecolors=row_colors, linewidths=1.2, zorder=3)
        ax.axvline(0.0, color="#333333", linestyle="--", linewidth=0.9, zorder=1)
        for boundary in np.flatnonzero(rows["theme"].to_numpy()[1:] != rows["theme"].to_numpy()[:-1]):
            ax.axhline(boundary + 0.5, color="#DDDDDD", linewidth=0.6, zorder=0)
        values = np.concatenate([estimate, low, high, [0.0]])
        lowest, highest = float(np.nanmin(values)), float(np.nanmax(values))
        pad = 0.08 * (highest - lowest or 1.0)
        ax.set_xlim(lowest - pad, highest + pad)
        ax.set_yticks(y, row_labels)
        ax.set_ylim(n_rows - 0.5, -0.5)
        ax.tick_params(axis="y", length=0)
        ax.set_xlabel(_EFFECT_UNITS.get(model, f"estimate ({model})"))
        ax.set_title(f"{analysis}: estimate and 95% interval", loc="left")
        _tidy(ax)
        ax.spines["left"].set_visible(False)
        figure.legend(handles=[
            Line2D([], [], color=_INTERVAL, marker="o", markersize=5, label="interval excludes zero"),
            Line2D([], [], color=_INTERVAL, marker="o", markersize=5, markerfacecolor="white", label="interval includes zero"),
        ], loc="outside lower center", ncols=2, frameon=False)
        return _finish(figure)


def _read(path: Path) -> pd.DataFrame:
    """One comparison table: text columns stay text (only an empty field is missing), checked."""
    header = pd.read_csv(path, nrows=0, encoding="utf-8").columns
    dtypes = {column: str for column in header if column in _TEXT_COLUMNS}
    table = pd.read_csv(path, encoding="utf-8", dtype=dtypes, keep_default_na=False, na_values=[""])
    _require_columns(table, _EFFECT_TABLES[path.name][0], str(path))
    return _numbers(table, _EFFECT_TABLES[path.name][1], str(path))


def write_effect_figures(run_dir: Path, theme_labels: Mapping[str, str], out_dir: Path | None = None) -> list[str]:
    """Draw the comparison figures of a run folder and write each as PNG (200 dpi) and SVG.

    Reads ``theme_by_year.csv``, ``theme_by_group.csv`` and ``effects.csv`` from ``run_dir``
    where they exist and writes ``theme_by_year``, ``theme_by_group`` and one
    ``effects_<analysis>`` per analysis of ``effects.csv`` (``.png`` and ``.svg`` each) into
    ``out_dir``. All figures are drawn before any file is written, so a broken table leaves
    no partial set; without any of the tables nothing is written. The same tables give
    byte-identical files.

    Parameters
    ----------
    run_dir : pathlib.Path
        The run folder (``results/<name>``).
    theme_labels : mapping of str to str
        Theme id to display label in codebook order, e.g. ``{"investment": "招商引资与项目"}``.
    out_dir : pathlib.Path, optional
        Where to write; ``run_dir / "figures"`` by default (created if needed).

    Returns
    -------
    list of str
        The written files relative to ``run_dir`` (forward slashes, sorted); ``[]`` when the
        run folder has none of the tables.

    Raises
    ------
    FigureError
        A missing column, an unlabelled theme, an analysis name that is no file name, no CJK font.

    Examples
    --------
    >>> from pathlib import Path
    >>> write_effect_figures(Path("results/default"), labels)  # doctest: +SKIP
    ['figures/effects_period.png', 'figures/effects_period.svg', 'figures/theme_by_year.png', ...]
    """
    run_dir = Path(run_dir)
    out_dir = run_dir / "figures" if out_dir is None else Path(out_dir)
    paths = [run_dir / name for name in _EFFECT_TABLES if (run_dir / name).is_file()]
    if not paths:
        return []
    _cjk_family()  # a missing font fails before anything is read
    tables = {path.name: _read(path) for path in paths}
    draw = {}
    if "theme_by_year.csv" in tables:
        draw["theme_by_year"] = lambda: theme_by_year(tables["theme_by_year.csv"], theme_labels)
    if "theme_by_group.csv" in tables:
        draw["theme_by_group"] = lambda: theme_by_group(tables["theme_by_group.csv"], theme_labels)
    if "effects.csv" in tables:
        for analysis in sorted(set(tables["effects.csv"]["analysis"].fillna("").astype(str))):
            if not _ANALYSIS_NAME.fullmatch(analysis):
                raise FigureError(f"{run_dir / 'effects.csv'}: analysis name {analysis!r} is not letters, digits, underscores")
            draw[f"effects_{analysis}"] = lambda a=analysis: effects_forest(tables["effects.csv"], a, theme_labels)
    saving = _SAVING.set(True)  # _save lays each figure out
    try:
        figures = {stem: make() for stem, make in draw.items()}
    finally:
        _SAVING.reset(saving)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [path for stem, figure in figures.items() for path in _save(figure, out_dir, stem)]
    return sorted(Path(os.path.relpath(path, run_dir)).as_posix() for path in written)
