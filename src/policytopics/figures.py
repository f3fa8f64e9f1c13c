"""Figures of a run: theme shares, theme flow, topic terms and model selection.

Five figures, each a function from the run's tables (``pandas.DataFrame``) to a
:class:`matplotlib.figure.Figure`; :func:`write_figures` reads a run folder and writes all
of them as PNG (200 dpi) and SVG, byte-identical for the same tables:

==================== =========================================================================
``theme_heatmap``    documents × themes, the share printed in every cell, ``unassigned`` apart
``theme_bars``       one stacked bar of theme shares per document, grouped by dominant theme
``topic_terms``      one panel per topic: its top terms by weight, coloured by its theme
``model_selection``  coherence, diversity and stability over K, the chosen K marked
``theme_flow``       each speech's units in reading order, coloured by their theme
==================== =========================================================================

Style, fonts and saving are in :mod:`policytopics.figure_style`, reading and checking the
tables in :mod:`policytopics.figure_tables`.

In: a run folder's tables. Out: ``figures/*.png`` and ``*.svg``.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import TransformedPatchPath

from policytopics.cache import CacheStore, fingerprint
from policytopics.figure_style import (
    _BASE_FONT_SIZE,
    _HEATMAP_CMAP,
    _SAVING,
    _UNASSIGNED_CMAP,
    UNASSIGNED,
    FigureError,
    _cjk_family,
    _finish,
    _labels_with_unassigned,
    _new_figure,
    _save,
    _segments,
    _short_titles,
    _style,
    _text_color,
    _text_inches,
    _theme_legend,
    theme_colors,
)
from policytopics.figure_tables import (
    _NOT_A_THEME,
    _TABLE_COLUMNS,
    _analysed_documents,
    _check_known_themes,
    _first_speeches,
    _read_table,
    _require_columns,
    _share_matrix,
    _theme_columns,
)
from policytopics.provenance import environment_versions, sha256_bytes, source_hash

__all__ = [
    "FIGURE_STEMS",
    "FigureError",
    "model_selection",
    "theme_bars",
    "theme_colors",
    "theme_flow",
    "theme_heatmap",
    "topic_terms",
    "write_figures",
]

#: File stems of the figures :func:`write_figures` writes, in the order it writes them.
FIGURE_STEMS = ("theme_heatmap", "theme_bars", "topic_terms", "model_selection", "theme_flow")


# --------------------------------------------------------------------------------------------
# Figures


def theme_heatmap(documents: pd.DataFrame, theme_labels: Mapping[str, str]) -> Figure:
    """Documents × themes heatmap of theme shares, the share printed in every cell.

    Rows are the documents (in table order, duplicates left out) labelled by their title,
    shortened in the middle with an ellipsis where long; columns are the themes in codebook
    order and, set apart in a lighter grey scale, ``unassigned``. The colour scale runs from 0
    to the largest share shown rounded up to a tenth (so it differs between runs; the printed
    shares do not). Long tables repeat the theme names at the top.

    Parameters
    ----------
    documents : pandas.DataFrame
        ``documents.csv``: ``doc_id``, ``title``, ``duplicate_of`` and ``theme_<id>`` for every
        theme plus ``theme_unassigned``.
    theme_labels : mapping of str to str
        Theme id to display label, in codebook order; an ``unassigned`` entry relabels that column.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> documents = pd.DataFrame({"doc_id": ["d1"], "title": ["开发区工作报告"], "duplicate_of": [None],
    ...                           "theme_investment": [0.7], "theme_unassigned": [0.3]})
    >>> figure = theme_heatmap(documents, {"investment": "招商引资"})
    >>> sorted(text.get_text() for text in figure.axes[0].texts)
    ['0.30', '0.70']
    """
    with _style():
        labels = _labels_with_unassigned(theme_labels)
        columns = _theme_columns(documents, theme_labels, "documents")
        table = _analysed_documents(documents)
        shares = _share_matrix(table, columns, "documents")
        rows = _short_titles(list(table["title"]), list(table["doc_id"]))
        n_rows, n_themes = shares.shape[0], len(columns) - 1

        label_width = _text_inches(rows) + 0.15
        column_label_height = _text_inches(list(labels.values())) * 0.7 + 0.2  # labels turned by 40°
        width = 1.2 + label_width + 0.62 * (n_themes + 1) + 0.9
        height = 0.9 + column_label_height + 0.3 * max(n_rows, 1)
        figure = _new_figure(width, height)
        ax = figure.add_subplot()

        vmax = max(0.1, math.ceil(float(np.nanmax(shares)) * 10 - 1e-9) / 10) if n_rows else 1.0
        norm = Normalize(0.0, vmax)
        grey_norm = Normalize(0.0, vmax * 1.6)  # lighter greys: the column reads as set apart
        theme_cmap = matplotlib.colormaps[_HEATMAP_CMAP]
        grey_cmap = matplotlib.colormaps[_UNASSIGNED_CMAP]
        gap = 0.35  # the unassigned column sits apart
        if n_rows:
            image = ax.imshow(
                shares[:, :n_themes], cmap=theme_cmap, norm=norm, aspect="auto",
                extent=(-0.5, n_themes - 0.5, n_rows - 0.5, -0.5), interpolation="nearest",
            )
            ax.imshow(
                shares[:, n_themes:], cmap=grey_cmap, norm=grey_norm, aspect="auto",
                extent=(n_themes - 0.5 + gap, n_themes + 0.5 + gap, n_rows - 0.5, -0.5),
                interpolation="nearest",
            )
            # One clip path object for every cell label (Axes.text would build one per label from
            # the axes patch; the labels are not clipped either way: clip_on is off for text).
            cell_clip = TransformedPatchPath(ax.patch)
            for row in range(n_rows):
                for column in range(n_themes + 1):
                    value = shares[row, column]
                    if column < n_themes:
                        x, rgb = column, theme_cmap(norm(value))
                    else:
                        x, rgb = column + gap, grey_cmap(grey_norm(value))
                    # inside the axes: not part of the layout (measuring ~1,000 cell labels
                    # in every layout pass is most of the cost of a long table)
                    ax.text(
                        x, row, f"{value:.2f}", ha="center", va="center",
                        fontsize=_BASE_FONT_SIZE - 1.5, color=_text_color(rgb), in_layout=False,
                        clip_path=cell_clip,
                    )
            colorbar = figure.colorbar(
                image, ax=ax, shrink=min(1.0, 4.0 / max(height - 1.5, 1.0)), aspect=20,
                anchor=(0.0, 1.0), pad=0.02,
            )
            colorbar.set_label("theme share of the document")
            colorbar.ax.yaxis.set_major_locator(MaxNLocator(5))
        ax.set_xlim(-0.5, n_themes + 0.5 + gap)
        ax.set_ylim(n_rows - 0.5, -0.5)
        ax.set_xticks([*range(n_themes), n_themes + gap], list(labels.values()))
        ax.set_yticks(range(n_rows), rows)
        ax.tick_params(length=0)
        if n_rows > 25:  # long tables: the theme names at the top as well
            ax.tick_params(axis="x", labeltop=True)
        for label in ax.get_xticklabels():
            label.set_rotation(40)
            label.set_horizontalalignment("right")
            label.set_rotation_mode("anchor")
        if n_rows > 25:
            for tick in ax.xaxis.get_major_ticks():
                tick.label2.set_rotation(40)
                tick.label2.set_horizontalalignment("left")
                tick.label2.set_rotation_mode("anchor")
        unassigned_tick = ax.xaxis.get_major_ticks()[-1]
        unassigned_tick.label1.set_color("#555555")
        unassigned_tick.label2.set_color("#555555")
        for spine in ax.spines.values():
            spine.set_visible(False)
        return _finish(figure)


def theme_bars(documents: pd.DataFrame, theme_labels: Mapping[str, str]) -> Figure:
    """One horizontal stacked bar of theme shares per document, grouped by dominant theme.

    Documents are ordered by their dominant theme (``theme``, in codebook order) and within a
    group by that theme's share, largest first; thin lines separate the groups and the group's
    theme is named at the right. Colours are those of :func:`theme_colors`, ``unassigned`` grey;
    the legend sits above the bars.

    Parameters
    ----------
    documents : pandas.DataFrame
        ``documents.csv``: ``doc_id``, ``title``, ``duplicate_of``, ``theme`` and the
        ``theme_<id>`` share columns.
    theme_labels : mapping of str to str
        Theme id to display label, in codebook order.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> from policytopics.codebook import load_codebook  # doctest: +SKIP
    >>> labels = {t.id: t.label_zh for t in load_codebook("configs/themes/devzone.yaml").themes}  # doctest: +SKIP
    >>> documents = pd.read_csv("results/default/documents.csv")  # doctest: +SKIP
    >>> theme_bars(documents, labels).savefig("bars.png", dpi=200)  # doctest: +SKIP
    """
    with _style():
        labels = _labels_with_unassigned(theme_labels)
        themes = list(labels)
        colors = theme_colors(themes)
        columns = _theme_columns(documents, theme_labels, "documents")
        _require_columns(documents, ("theme",), "documents")
        table = _analysed_documents(documents)
        table["theme"] = table["theme"].replace(_NOT_A_THEME)
        _check_known_themes(table["theme"], labels, "documents")
        shares = _share_matrix(table, columns, "documents")
        rows = _short_titles(list(table["title"]), list(table["doc_id"]))

        rank = {theme: index for index, theme in enumerate(themes)}
        dominant = [str(theme) if isinstance(theme, str) else UNASSIGNED for theme in table["theme"]]
        own_share = [shares[i, rank[theme]] for i, theme in enumerate(dominant)]
        order = sorted(range(len(rows)), key=lambda i: (rank[dominant[i]], -own_share[i], i))
        n_rows = len(order)

        label_width = _text_inches(rows) + 0.15
        group_width = _text_inches(list(labels.values())) + 0.3
        n_legend_columns = min(len(themes), 5)
        legend_height = 0.25 * math.ceil(len(themes) / n_legend_columns) + 0.1
        figure = _new_figure(1.0 + label_width + 5.5 + group_width, 0.9 + legend_height + 0.26 * max(n_rows, 1))
        ax = figure.add_subplot()
        y = np.arange(n_rows)
        left = np.zeros(n_rows)
        for index, theme in enumerate(themes):
            values = shares[order, index] if n_rows else np.zeros(0)
            _segments(ax, y, left, values, colors[theme], 0.78, 0.3, labels[theme])
            left = left + values
        ax.set_yticks(y, [rows[i] for i in order])
        ax.set_ylim(n_rows - 0.5, -0.5)
        ax.set_xlim(0.0, 1.0)
        ax.set_xlabel("theme share of the document (grouped by dominant theme, named at the right)")
        ax.tick_params(axis="y", length=0)
        if n_rows > 25:  # long figures: the scale at the top as well
            ax.tick_params(axis="x", top=True, labeltop=True)
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
        # group separators, and at the right a strip in the group's colour with its name
        groups = [dominant[i] for i in order]
        start = 0
        for position in range(1, n_rows + 1):
            if position == n_rows or groups[position] != groups[start]:
                if position < n_rows:
                    ax.axhline(position - 0.5, color="#333333", linewidth=0.8)
                theme = groups[start]
                ax.plot([1.012, 1.012], [start - 0.39, position - 1 + 0.39], transform=ax.get_yaxis_transform(),
                        color=colors[theme], linewidth=4, solid_capstyle="butt", clip_on=False)
                ax.text(1.022, (start + position - 1) / 2, labels[theme], transform=ax.get_yaxis_transform(),
                        ha="left", va="center", color="#1A1A1A", fontsize=_BASE_FONT_SIZE - 1)
                start = position
        _theme_legend(figure, themes, labels, colors)
        return _finish(figure)


def topic_terms(topics: pd.DataFrame, terms: pd.DataFrame, theme_labels: Mapping[str, str], top_n: int = 10) -> Figure:
    """Small multiples: one panel per topic with its top terms by weight, coloured by its theme.

    Each panel is titled ``Topic k · <theme label>`` (k as in ``topics.csv``) and shows the
    ``top_n`` terms of largest weight as horizontal bars, the heaviest at the top, in the
    theme's colour (grey for a topic with no theme).

    Parameters
    ----------
    topics : pandas.DataFrame
        ``topics.csv``: ``topic`` and its ``theme`` (a theme id or ``unassigned``).
    terms : pandas.DataFrame
        ``topic_terms.csv``: ``topic``, ``rank``, ``term``, ``weight``.
    theme_labels : mapping of str to str
        Theme id to display label, in codebook order.
    top_n : int, default 10
        Terms per panel.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> topics = pd.read_csv("results/default/topics.csv")  # doctest: +SKIP
    >>> terms = pd.read_csv("results/default/topic_terms.csv")  # doctest: +SKIP
    >>> figure = topic_terms(topics, terms, labels)  # doctest: +SKIP
    """
    with _style():
        _require_columns(topics, ("topic", "theme"), "topics")
        _require_columns(terms, ("topic", "rank", "term", "weight"), "topic_terms")
        labels = _labels_with_unassigned(theme_labels)
        colors = theme_colors(list(labels))
        topic_themes = topics[["topic", "theme"]].copy()
        topic_themes["theme"] = topic_themes["theme"].fillna(UNASSIGNED).astype(str)
        _check_known_themes(topic_themes["theme"], labels, "topics")
        topic_ids = sorted(int(t) for t in topic_themes["topic"])
        theme_of = {int(t): str(theme) for t, theme in zip(topic_themes["topic"], topic_themes["theme"])}

        n_topics = len(topic_ids)
        titles = {t: f"Topic {t} · {labels[theme_of[t]]}" for t in topic_ids}
        # a panel is its term labels plus an axes at least as wide as the longest panel title
        term_width = _text_inches([str(t) for t in terms["term"]])
        panel_width = term_width + 0.25 + max(1.4, _text_inches(list(titles.values()), _BASE_FONT_SIZE) + 0.1)
        # as many columns as fit in a page-wide 12 inches (at least 2, at most 5)
        n_columns = max(1, min(n_topics, 5, max(2, int(12.0 // panel_width))))
        n_grid_rows = max(1, math.ceil(n_topics / n_columns))
        figure = _new_figure(0.3 + panel_width * n_columns, 0.4 + (0.22 * top_n + 0.6) * n_grid_rows)
        axes = figure.subplots(n_grid_rows, n_columns, squeeze=False)
        for index, ax in enumerate(axes.flat):
            if index >= n_topics:
                ax.set_visible(False)
                continue
            topic = topic_ids[index]
            theme = theme_of[topic]
            rows = terms.loc[terms["topic"].astype(int) == topic]
            rows = rows.sort_values(["weight", "rank"], ascending=[False, True], kind="stable").head(top_n)
            y = np.arange(len(rows))
            ax.barh(y, rows["weight"].to_numpy(dtype=float), color=colors[theme], height=0.72)
            ax.set_yticks(y, [str(term) for term in rows["term"]])
            ax.set_ylim(top_n - 0.5, -0.5)
            ax.set_title(titles[topic], loc="left", color="#1A1A1A", fontsize=_BASE_FONT_SIZE)
            ax.xaxis.set_major_locator(MaxNLocator(3))
            ax.tick_params(axis="y", length=0)
            for side in ("top", "right"):
                ax.spines[side].set_visible(False)
            if not len(rows):
                ax.text(0.5, 0.5, "no terms", transform=ax.transAxes, ha="center", va="center", color="#777777")
            if index >= n_topics - n_columns:
                ax.set_xlabel("weight (term probability)")
        return _finish(figure)


def model_selection(selection: pd.DataFrame, stability: pd.DataFrame, num_topics: int) -> Figure:
    """Coherence, diversity and stability over the number of topics K, the chosen K marked.

    Four panels: coherence c_v, coherence c_npmi, topic diversity (from ``model_selection.csv``)
    and stability, the mean Jaccard overlap of matched topics between refits (from
    ``stability.csv``). Each panel shows every seed's value as a light point and the mean over
    seeds as a line; a dashed vertical line marks the chosen K.

    Parameters
    ----------
    selection : pandas.DataFrame
        ``model_selection.csv``: ``num_topics``, ``seed``, ``c_v``, ``c_npmi``, ``diversity``.
    stability : pandas.DataFrame
        ``stability.csv``: ``num_topics``, ``seed``, ``jaccard`` (may have no rows).
    num_topics : int
        The chosen K.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> selection = pd.read_csv("results/default/model_selection.csv")  # doctest: +SKIP
    >>> stability = pd.read_csv("results/default/stability.csv")  # doctest: +SKIP
    >>> figure = model_selection(selection, stability, num_topics=12)  # doctest: +SKIP
    """
    with _style():
        _require_columns(selection, ("num_topics", "seed", "c_v", "c_npmi", "diversity"), "model_selection")
        _require_columns(stability, ("num_topics", "seed", "jaccard"), "stability")
        panels = (
            (selection, "c_v", "coherence c_v", "higher is better"),
            (selection, "c_npmi", "coherence c_npmi", "higher is better"),
            (selection, "diversity", "topic diversity", "share of unique top terms"),
            (stability, "jaccard", "stability (Jaccard)", "mean overlap of matched topics between seeds"),
        )
        ks = sorted({int(k) for k in (*selection["num_topics"], *stability["num_topics"], num_topics)})
        figure = _new_figure(8.0, 5.6)
        axes = figure.subplots(2, 2, squeeze=False).flat
        for ax, (table, column, title, note) in zip(axes, panels):
            data = table[["num_topics", column]].dropna()
            data = data.assign(num_topics=data["num_topics"].astype(int), value=data[column].astype(float))
            if len(data):
                ax.scatter(data["num_topics"], data["value"], s=14, color="#999999", alpha=0.7,
                           linewidths=0, label="one seed", zorder=2)
                means = data.groupby("num_topics", sort=True)["value"].mean()
                ax.plot(means.index, means.to_numpy(), color="#332288", marker="o", markersize=4,
                        linewidth=1.4, label="mean over seeds", zorder=3)
            else:
                note_missing = "not computed\n(no refits with other seeds)" if column == "jaccard" else "not computed"
                ax.text(0.5, 0.5, note_missing, transform=ax.transAxes, ha="center", va="center", color="#777777", zorder=4,
                        bbox={"facecolor": "white", "edgecolor": "none", "pad": 3})
                ax.set_yticks([])
            ax.axvline(num_topics, color="#CC6677", linestyle="--", linewidth=1.1, zorder=1)
            ax.text(num_topics, 1.0, f" K = {num_topics} (chosen)", transform=ax.get_xaxis_transform(),
                    ha="left", va="top", color="#CC6677", fontsize=_BASE_FONT_SIZE - 1.5)
            ax.set_title(title, loc="left")
            ax.set_xticks(ks)
            ax.set_xlim(min(ks) - 1, max(ks) + 1)
            ax.set_xlabel("number of topics K")
            ax.set_ylabel(note, fontsize=_BASE_FONT_SIZE - 1.5, color="#555555")
            if len(data):
                ax.yaxis.set_major_locator(MaxNLocator(5))
            ax.margins(y=0.18)
            for side in ("top", "right"):
                ax.spines[side].set_visible(False)
        figure.legend(
            handles=[
                Line2D([], [], color="#999999", marker="o", linestyle="none", markersize=4, label="one seed"),
                Line2D([], [], color="#332288", marker="o", markersize=4, label="mean over seeds"),
                Line2D([], [], color="#CC6677", linestyle="--", label="chosen K"),
            ],
            loc="outside lower center", ncols=3, frameon=False,
        )
        return _finish(figure)


def theme_flow(documents: pd.DataFrame, units: pd.DataFrame, theme_labels: Mapping[str, str]) -> Figure:
    """The theme of each unit of each speech, in reading order: where a speech turns.

    One row per document (table order, duplicates left out), labelled by its title and, at the
    right, its length. Its units follow one another from left to right by ``position``, each a
    segment in the colour of its theme (grey for ``unassigned``), the row spanning the whole
    speech from 0 (start) to 1 (end).

    Parameters
    ----------
    documents : pandas.DataFrame
        ``documents.csv``: ``doc_id``, ``title``, ``duplicate_of``.
    units : pandas.DataFrame
        ``units.csv``: ``doc_id``, ``position``, ``theme``, ``n_chars``.
    theme_labels : mapping of str to str
        Theme id to display label, in codebook order.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> units = pd.read_csv("results/default/units.csv")  # doctest: +SKIP
    >>> figure = theme_flow(documents, units, labels)  # doctest: +SKIP
    """
    with _style():
        _require_columns(units, ("doc_id", "position", "theme", "n_chars"), "units")
        labels = _labels_with_unassigned(theme_labels)
        themes = list(labels)
        colors = theme_colors(themes)
        table = _analysed_documents(documents)
        rows = _short_titles(list(table["title"]), list(table["doc_id"]))
        row_of = {str(doc_id): index for index, doc_id in enumerate(table["doc_id"])}
        flow = units.loc[units["doc_id"].astype(str).isin(row_of)].copy()
        flow["theme"] = flow["theme"].fillna(UNASSIGNED).astype(str).replace(_NOT_A_THEME)
        _check_known_themes(flow["theme"], labels, "units")
        flow["row"] = flow["doc_id"].astype(str).map(row_of)
        flow = flow.sort_values(["row", "position"], kind="stable")
        # Widths are proportional to n_chars, not equal: a unit weighs in its speech's theme
        # shares by its length (the heatmap and bars are length-weighted), and the reader should
        # see how much of the speech is spent on a theme. Equal widths would give a one-line
        # greeting or heading as much room as a page of programme. Each row is scaled to the
        # speech's total length, so speeches of different length share the 0-1 reading axis.
        n_chars = flow["n_chars"].astype(float).clip(lower=0.0)
        totals = n_chars.groupby(flow["row"]).transform("sum").replace(0.0, np.nan)
        flow["width"] = (n_chars / totals).fillna(0.0)
        flow["left"] = flow.groupby("row")["width"].cumsum() - flow["width"]
        n_rows = len(rows)

        label_width = _text_inches(rows) + 0.15
        n_legend_columns = min(len(themes), 5)
        legend_height = 0.25 * math.ceil(len(themes) / n_legend_columns) + 0.1
        figure = _new_figure(1.0 + label_width + 6.5 + 0.8, 0.9 + legend_height + 0.26 * max(n_rows, 1))
        ax = figure.add_subplot()
        edge = 0.25 if len(flow) <= 4000 else 0.0
        for theme in themes:
            part = flow.loc[flow["theme"] == theme]
            _segments(ax, part["row"], part["left"], part["width"], colors[theme], 0.78, edge, labels[theme])
        ax.set_yticks(range(n_rows), rows)
        ax.set_ylim(n_rows - 0.5, -0.5)
        ax.set_xlim(0.0, 1.0)
        ax.set_xticks([0.0, 0.25, 0.5, 0.75, 1.0], ["start", "¼", "½", "¾", "end"])
        ax.set_xlabel("position in the speech (share of its characters, units in reading order)")
        lengths = flow.groupby("row")["n_chars"].sum()
        n_units = flow.groupby("row").size()
        for row in range(n_rows):
            text = f"{int(lengths.get(row, 0)):,} chars · {int(n_units.get(row, 0))} units"
            ax.text(1.01, row, text, transform=ax.get_yaxis_transform(), ha="left", va="center",
                    color="#666666", fontsize=_BASE_FONT_SIZE - 2)
        ax.tick_params(axis="y", length=0)
        if n_rows > 25:  # long figures: the scale at the top as well
            ax.tick_params(axis="x", top=True, labeltop=True)
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
        _theme_legend(figure, themes, labels, colors)
        return _finish(figure)


# --------------------------------------------------------------------------------------------
# Run folder


def write_figures(
    run_dir: Path,
    theme_labels: Mapping[str, str],
    num_topics: int,
    out_dir: Path | None = None,
    max_speeches: int | None = None,
    cache_dir: str | Path | None = None,
) -> list[str]:
    """Draw the figures of a run folder and write each as PNG (200 dpi) and SVG.

    Reads ``documents.csv``, ``units.csv``, ``topics.csv``, ``topic_terms.csv``,
    ``model_selection.csv`` and ``stability.csv`` from ``run_dir`` and writes
    ``theme_heatmap``, ``theme_bars``, ``topic_terms``, ``model_selection`` and ``theme_flow``
    (``.png`` and ``.svg`` each) into ``out_dir``. All figures are drawn before any file is
    written, so a missing table or column leaves no partial set. The same tables give
    byte-identical files.

    With ``cache_dir`` (the run's ``cache.dir``), a figure drawn before from the very same
    data is copied from its ``figures`` entries instead of being drawn again: its key is the data the figure is drawn from
    (the tables' exact values, the theme labels, the chosen K or the note), the versions of
    matplotlib, numpy, pandas, Pillow and mplfonts, the source of the figure modules and the
    matplotlib settings in force. Reruns that change a model setting but not, e.g., the theme
    shares of the speeches redraw only what changed.

    Parameters
    ----------
    run_dir : pathlib.Path
        The run folder (``results/<name>``).
    theme_labels : mapping of str to str
        Theme id to display label in codebook order, e.g. ``{"investment": "招商引资与项目"}``;
        an ``unassigned`` entry relabels the unassigned share (default ``unassigned``).
    num_topics : int
        The chosen number of topics K, marked on the model-selection curves.
    out_dir : pathlib.Path, optional
        Where to write; ``run_dir / "figures"`` by default (created if needed).
    max_speeches : int, optional
        The per-speech figures (``theme_heatmap``, ``theme_bars``, ``theme_flow``) show only
        the first this many speeches of ``documents.csv``, and say so in a line at their top;
        ``None`` shows all.
    cache_dir : str or Path, optional
        The cache folder (``cache.dir``); ``None``: every figure is drawn, nothing is kept.

    Returns
    -------
    list of str
        The written files relative to ``run_dir`` (``..`` where ``out_dir`` lies outside it),
        with forward slashes, sorted.

    Raises
    ------
    FigureError
        A missing table or column, a theme without a label, or the CJK font not installed.

    Examples
    --------
    >>> from pathlib import Path
    >>> from policytopics.codebook import load_codebook  # doctest: +SKIP
    >>> labels = {t.id: t.label_zh for t in load_codebook("configs/themes/devzone.yaml").themes}  # doctest: +SKIP
    >>> write_figures(Path("results/default"), labels, 12)  # doctest: +SKIP
    ['figures/model_selection.png', 'figures/model_selection.svg', 'figures/theme_bars.png', ...]
    """
    run_dir = Path(run_dir)
    out_dir = run_dir / "figures" if out_dir is None else Path(out_dir)
    if not run_dir.is_dir():
        raise FigureError(f"figures: run folder {run_dir} not found")
    _cjk_family()  # a missing font fails before anything is read
    tables = {name: _read_table(run_dir, name) for name in _TABLE_COLUMNS}
    documents, units, note = _first_speeches(tables["documents.csv"], tables["units.csv"], max_speeches)
    # what each figure is drawn from (with the note on the per-speech figures)
    inputs = {
        "theme_heatmap": ([documents], note),
        "theme_bars": ([documents], note),
        "topic_terms": ([tables["topics.csv"], tables["topic_terms.csv"]], ""),
        "model_selection": ([tables["model_selection.csv"], tables["stability.csv"]], int(num_topics)),
        "theme_flow": ([documents, units], note),
    }
    draw = {
        "theme_heatmap": lambda: theme_heatmap(documents, theme_labels),
        "theme_bars": lambda: theme_bars(documents, theme_labels),
        "topic_terms": lambda: topic_terms(tables["topics.csv"], tables["topic_terms.csv"], theme_labels),
        "model_selection": lambda: model_selection(tables["model_selection.csv"], tables["stability.csv"], int(num_topics)),
        "theme_flow": lambda: theme_flow(documents, units, theme_labels),
    }
    store = CacheStore(cache_dir, "figures") if cache_dir is not None else None
    keys: dict[str, str] = {}
    cached: dict[str, Path] = {}
    if store is not None:
        environment = _figure_environment()
        for stem in FIGURE_STEMS:
            frames, extra = inputs[stem]
            keys[stem] = _figure_key(stem, frames, extra, theme_labels, environment)
            entry = store.get(keys[stem])
            if entry is not None:
                cached[stem] = entry
    saving = _SAVING.set(True)  # _save lays each figure out
    try:
        figures = {stem: draw[stem]() for stem in FIGURE_STEMS if stem not in cached}
        if note:
            for stem in ("theme_heatmap", "theme_bars", "theme_flow"):
                if stem in figures:
                    figures[stem].suptitle(note, x=0.01, ha="left", fontsize=_BASE_FONT_SIZE - 1, color="0.35")
    finally:
        _SAVING.reset(saving)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for stem in FIGURE_STEMS:
        if stem in cached:
            for suffix in (".png", ".svg"):
                target = out_dir / f"{stem}{suffix}"
                target.write_bytes((cached[stem] / f"{stem}{suffix}").read_bytes())
                written.append(target)
            continue
        paths = _save(figures.pop(stem), out_dir, stem)
        written.extend(paths)
        if store is not None:
            store.put(keys[stem], lambda folder, paths=paths: [
                (folder / path.name).write_bytes(path.read_bytes()) for path in paths
            ])
    return sorted(Path(os.path.relpath(path, run_dir)).as_posix() for path in written)


#: The modules that draw and save the figures: their source is part of a figure's cache key.
_FIGURE_SOURCES = ("figures.py", "figure_style.py", "figure_tables.py", "fonts.py")
#: Bumped when what a figure cache entry holds changes.
_FIGURE_FORMAT = 1


def _figure_environment() -> list[Any]:
    """What every figure depends on besides its tables: package versions, the code, and the
    matplotlib settings in force while drawing (the run's style over the user's rcParams)."""
    here = Path(__file__).resolve().parent
    with _style():
        rc = sorted((key, str(value)) for key, value in matplotlib.rcParams.items())
    return [
        environment_versions("matplotlib", "numpy", "pandas", "pillow", "mplfonts"),
        [[name, source_hash(here / name)] for name in _FIGURE_SOURCES],
        rc,
    ]


def _frame_digest(frame: pd.DataFrame) -> str:
    """SHA-256 of a table's columns, dtypes, index and exact values."""
    values = pd.util.hash_pandas_object(frame, index=True).to_numpy()
    header = json.dumps([[str(c) for c in frame.columns], [str(t) for t in frame.dtypes], len(frame)])
    return sha256_bytes(header.encode("utf-8") + b"\0" + values.tobytes())


def _figure_key(stem: str, frames: list[pd.DataFrame], extra: Any, theme_labels: Mapping[str, str], environment: list[Any]) -> str:
    """The cache key of one figure: its name, the tables it is drawn from, the theme labels (in
    order), its other argument (the chosen K, or the note), and :func:`_figure_environment`."""
    return fingerprint(
        "figure", _FIGURE_FORMAT, stem, [_frame_digest(frame) for frame in frames], extra,
        [[key, value] for key, value in theme_labels.items()], environment,
    )
