"""Figures of a run: theme shares, theme flow, topic terms and model selection.

In: the tables a run has written to its folder (``documents.csv``, ``units.csv``,
``topics.csv``, ``topic_terms.csv``, ``model_selection.csv``, ``stability.csv``), the theme
labels in codebook order and the chosen number of topics K. Out: five figures, each as a PNG
(200 dpi, for papers) and an SVG (glyphs drawn as paths, so it shows Chinese text on a machine
without a CJK font), in ``<run>/figures/`` by default:

==================== =========================================================================
``theme_heatmap``    documents × themes, the share printed in every cell, ``unassigned`` apart
``theme_bars``       one stacked bar of theme shares per document, grouped by dominant theme
``topic_terms``      one panel per topic: its top terms by weight, coloured by its theme
``model_selection``  coherence, diversity and stability over K, the chosen K marked
``theme_flow``       each speech's units in reading order, coloured by their theme
==================== =========================================================================

Each figure has a public function that takes the tables as ``pandas.DataFrame`` and returns
a :class:`matplotlib.figure.Figure`, so a notebook can draw one without writing files;
:func:`write_figures` reads the tables of a run folder and writes all of them.

Nothing here touches matplotlib's global state: figures are built as ``Figure`` objects on an
Agg canvas (no ``pyplot``), and settings are applied with ``matplotlib.rc_context`` only while
a figure is built and saved. Chinese text is set in Noto Sans CJK SC, shipped by the
``mplfonts`` package and registered with matplotlib's font manager on first use. The same
tables give byte-identical PNG and SVG files: no timestamps or software versions are written
and SVG ids are derived from a fixed salt. Documents with a non-empty ``duplicate_of`` carry
no theme shares and are left out of every figure. Colours follow one helper,
:func:`theme_colors`, so a theme has the same colour in all figures.
"""

from __future__ import annotations

import contextvars
import functools
import math
import os
import unicodedata
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PathCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.transforms import TransformedPatchPath
from matplotlib.path import Path as MplPath
from matplotlib.ticker import MaxNLocator

from policytopics.errors import PolicytopicsError
from policytopics.fonts import cjk_font_path

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

UNASSIGNED = "unassigned"  # the same id as policytopics.themes.UNASSIGNED (not imported: it pulls in pydantic)

#: File stems of the figures :func:`write_figures` writes, in the order it writes them.
FIGURE_STEMS = ("theme_heatmap", "theme_bars", "topic_terms", "model_selection", "theme_flow")

#: Tables read from the run folder, with the columns each figure needs.
_TABLE_COLUMNS = {
    "documents.csv": ("doc_id", "title", "duplicate_of", "theme"),
    "units.csv": ("doc_id", "position", "theme", "n_chars"),
    "topics.csv": ("topic", "theme"),
    "topic_terms.csv": ("topic", "rank", "term", "weight"),
    "model_selection.csv": ("num_topics", "seed", "c_v", "c_npmi", "diversity"),
    "stability.csv": ("num_topics", "seed", "jaccard"),
}
#: Columns read as text whatever they hold (a term such as ``5G`` or a title ``NA`` stays a string).
_TEXT_COLUMNS = ("doc_id", "title", "duplicate_of", "theme", "term", "source", "unit_id", "heading", "text")

_DPI = 200
_BASE_FONT_SIZE = 9.0
_RC = {
    "font.size": _BASE_FONT_SIZE,
    "axes.titlesize": _BASE_FONT_SIZE + 1,
    "axes.labelsize": _BASE_FONT_SIZE,
    "xtick.labelsize": _BASE_FONT_SIZE - 1,
    "ytick.labelsize": _BASE_FONT_SIZE - 1,
    "legend.fontsize": _BASE_FONT_SIZE - 1,
    "axes.unicode_minus": True,  # the CJK font has U+2212
    "svg.hashsalt": "policytopics",  # fixed SVG ids: byte-identical files
    "svg.fonttype": "path",  # glyphs as paths: the SVG needs no installed font
    "path.simplify": True,
    "image.interpolation": "nearest",
    "figure.autolayout": False,  # the layout engine is chosen per figure (and detached by _save)
    "figure.constrained_layout.use": False,
}

# Paul Tol's "muted" qualitative scheme: nine colours distinguishable with the common forms of
# colour blindness and none of them grey, so grey stays reserved for ``unassigned``.
_PALETTE = (
    "#CC6677", "#332288", "#DDCC77", "#117733", "#88CCEE",
    "#882255", "#44AA99", "#999933", "#AA4499",
)
# Beyond nine themes: tab20 without its greys (no longer safe for every reader; a codebook of
# more than nine themes is hard to tell apart by colour anyway).
_EXTRA_PALETTE = (
    "#1F77B4", "#AEC7E8", "#FF7F0E", "#FFBB78", "#2CA02C", "#98DF8A", "#D62728", "#FF9896",
    "#9467BD", "#C5B0D5", "#8C564B", "#C49C94", "#E377C2", "#F7B6D2", "#BCBD22", "#DBDB8D",
    "#17BECF", "#9EDAE5",
)
_UNASSIGNED_COLOR = "#BBBBBB"
_HEATMAP_CMAP = "YlGnBu"
_UNASSIGNED_CMAP = "Greys"


class FigureError(PolicytopicsError):
    """A run folder, table or font the figures cannot be drawn from; the message names it."""


# --------------------------------------------------------------------------------------------
# Font, colours, labels


@functools.cache
def _cjk_family() -> str:
    """Register the CJK font with matplotlib's font manager (once) and return its family name."""
    from matplotlib import font_manager

    path = cjk_font_path()
    font_manager.fontManager.addfont(str(path))
    return font_manager.FontProperties(fname=str(path)).get_name()


@contextmanager
def _style() -> Iterator[None]:
    """Local matplotlib settings for building and saving a figure (global rcParams untouched)."""
    with matplotlib.rc_context({**_RC, "font.family": [_cjk_family()]}):
        yield


def theme_colors(theme_ids: Sequence[str]) -> dict[str, str]:
    """Colour of every theme, in codebook order, plus grey for ``unassigned``.

    The colour of a theme depends only on its position in the codebook, so all figures of a
    run (and runs with the same codebook) agree. The first nine themes get Paul Tol's
    colour-blind-safe "muted" colours; ``unassigned`` is always grey.

    Parameters
    ----------
    theme_ids : sequence of str
        Theme ids in codebook order (``unassigned`` may be included or not).

    Returns
    -------
    dict
        Theme id to a hex colour, ``unassigned`` last.

    Examples
    --------
    >>> theme_colors(["investment", "livelihood"])
    {'investment': '#CC6677', 'livelihood': '#332288', 'unassigned': '#BBBBBB'}
    """
    palette = _PALETTE + _EXTRA_PALETTE
    ids = [theme for theme in theme_ids if theme != UNASSIGNED]
    colors = {theme: palette[index % len(palette)] for index, theme in enumerate(ids)}
    colors[UNASSIGNED] = _UNASSIGNED_COLOR
    return colors


def _labels_with_unassigned(theme_labels: Mapping[str, str]) -> dict[str, str]:
    """Theme id to display label, ``unassigned`` last (its label may be given in the mapping)."""
    labels = {theme: str(label) for theme, label in theme_labels.items() if theme != UNASSIGNED}
    labels[UNASSIGNED] = str(theme_labels.get(UNASSIGNED, UNASSIGNED))
    return labels


def _char_width(char: str) -> int:
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def _text_width(text: str) -> int:
    return sum(_char_width(char) for char in text)


def _outline_width(path: MplPath) -> float:
    """``path.get_extents().width``, computed faster for outlines with many curves.

    ``Path.get_extents`` evaluates every Bézier segment at its extrema (most of the time spent
    measuring a title). Only segments whose control points reach the extreme x of the segment
    end points can widen the extent, so only those are evaluated, with matplotlib's own
    ``BezierSegment``: the result is the same float.
    """
    from matplotlib.bezier import BezierSegment

    cleaned = path.cleaned(remove_nans=True, snap=False, stroke_width=1.0, simplify=None, curves=True)
    vertices, codes = cleaned.vertices, cleaned.codes
    if codes is None or not np.isin(codes, [MplPath.CURVE3, MplPath.CURVE4]).any():
        return float(path.get_extents().width)
    ends: list[float] = []
    curves: list[np.ndarray] = []
    first = previous = None
    index = 0
    while index < len(codes):
        code = int(codes[index])
        if code == MplPath.STOP:
            break
        count = int(MplPath.NUM_VERTICES_FOR_CODE[code])
        segment = vertices[index:index + count]
        if code == MplPath.MOVETO:
            first = segment[0]
            ends.append(float(first[0]))
        elif code == MplPath.CLOSEPOLY:
            ends += [float(previous[0]), float(first[0])]
        else:  # LINETO, CURVE3, CURVE4: from the previous vertex
            ends += [float(previous[0]), float(segment[-1][0])]
            if code != MplPath.LINETO:
                curves.append(np.vstack([previous[None, :], segment]))
        previous = segment[-1]
        index += count
    low, high = min(ends), max(ends)
    margin = 1e-6 * max(1.0, high - low)
    for control in curves:
        xs = control[:, 0]
        if xs.min() <= low + margin or xs.max() >= high - margin:
            curve = BezierSegment(control)
            _, zeros = curve.axis_aligned_extrema()
            values = curve([0, *zeros, 1])[:, 0]
            low, high = min(low, float(values.min())), max(high, float(values.max()))
    return high - low


@functools.lru_cache(maxsize=65536)
def _text_points(text: str, size: float) -> float:
    """Width in points of ``text`` set in the CJK font at ``size`` points (its outline's extent)."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextPath

    prop = FontProperties(family=_cjk_family(), size=size)
    return _outline_width(TextPath((0, 0), text, prop=prop))


def _text_inches(texts: Sequence[str], size: float = _BASE_FONT_SIZE - 1) -> float:
    """Width in inches of the widest of ``texts`` set in the CJK font at ``size`` points."""
    widths = [_text_points(text, float(size)) for text in texts if text]
    return max(widths, default=0.0) / 72.0


def _shorten(text: str, max_width: int) -> str:
    """Cut ``text`` in the middle to at most ``max_width`` (a CJK character counts 2).

    The middle goes, not the end: titles of one collection often differ only at the end
    (``... 篇1``, ``... 篇2``), and the start names the speech.
    """
    if _text_width(text) <= max_width:
        return text
    budget = max_width - 1  # the ellipsis counts 1
    tail_budget = budget // 3
    tail: list[str] = []
    width = 0
    for char in reversed(text):
        if width + _char_width(char) > tail_budget:
            break
        tail.insert(0, char)
        width += _char_width(char)
    head: list[str] = []
    width = 0
    for char in text:
        if width + _char_width(char) > budget - _text_width("".join(tail)):
            break
        head.append(char)
        width += _char_width(char)
    return "".join(head).rstrip() + "…" + "".join(tail).lstrip()


def _short_titles(titles: Sequence[object], doc_ids: Sequence[object], max_width: int = 30) -> list[str]:
    """Row labels: titles shortened in the middle with an ellipsis, and unique.

    A missing title is replaced by the document id. Two different titles that shorten to the
    same label get longer labels until they differ; documents sharing one title are told apart by their id
    (``政府工作报告 [三亚]``); any label still repeated gets ``(2)``, ``(3)``, ...
    """
    ids = [str(doc_id) for doc_id in doc_ids]
    full = [
        str(title).strip() if isinstance(title, str) and title.strip() else doc_id
        for title, doc_id in zip(titles, ids, strict=True)
    ]
    labels = [_shorten(title, max_width) for title in full]
    titles_of: dict[str, set[str]] = {}
    for title, label in zip(full, labels):
        titles_of.setdefault(label, set()).add(title)
    for group in (sorted(group) for group in titles_of.values() if len(group) > 1):
        # different titles cut to one label: widen their labels until they differ
        width = max_width
        while len({_shorten(title, width) for title in group}) < len(group):
            width += 2
        for index, title in enumerate(full):
            if title in group:
                labels[index] = _shorten(title, width)
    repeated = Counter(labels)
    labels = [
        f"{_shorten(title, max(max_width - 12, 8))} [{_shorten(doc_id, 16)}]"
        if repeated[label] > 1 and title != doc_id
        else label
        for title, doc_id, label in zip(full, ids, labels)
    ]
    seen: Counter[str] = Counter()
    taken = set(labels)
    unique = []
    for label in labels:
        seen[label] += 1
        if seen[label] == 1:
            unique.append(label)
            continue
        number = seen[label]
        while f"{label} ({number})" in taken:
            number += 1
        taken.add(f"{label} ({number})")
        unique.append(f"{label} ({number})")
    return unique


def _row_major(handles: list, n_columns: int) -> list:
    """Order legend entries so that they read left to right, row by row, in codebook order.

    Matplotlib fills a legend column by column (``numpy.array_split`` of the entries).
    """
    return [handles[i] for column in range(n_columns) for i in range(column, len(handles), n_columns)]


def _theme_legend(figure: Figure, themes: Sequence[str], labels: Mapping[str, str], colors: Mapping[str, str]) -> None:
    """The theme legend above the axes, outside them, in codebook order read row by row."""
    n_columns = min(len(themes), 5)
    handles = [Patch(facecolor=colors[t], label=labels[t]) for t in themes]
    figure.legend(handles=_row_major(handles, n_columns), loc="outside upper center", ncols=n_columns, frameon=False)


def _text_color(rgb: Sequence[float]) -> str:
    """Dark text on a light background, white on a dark one (relative luminance, WCAG)."""

    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(float(v)) for v in rgb[:3])
    luminance = 0.2126 * red + 0.7152 * green + 0.0722 * blue
    return "#1A1A1A" if luminance > 0.3 else "white"


# --------------------------------------------------------------------------------------------
# Table checks


def _require_columns(table: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    missing = [column for column in columns if column not in table.columns]
    if missing:
        raise FigureError(f"{name}: missing column(s) {', '.join(missing)}")


#: Labels of units and speeches that name no single theme (policytopics.themes.NONE and MIXED),
#: drawn in the grey of ``unassigned``.
_NOT_A_THEME = {"none": UNASSIGNED, "mixed": UNASSIGNED}
#: ``theme_*`` columns of the run tables that are not a theme's share (nor its interval bounds).
_NON_SHARE_COLUMNS = frozenset({"theme_ranking", "theme_distinct", "theme_mass"})


def _theme_columns(table: pd.DataFrame, theme_labels: Mapping[str, str], name: str) -> list[str]:
    """The ``theme_<id>`` columns of the labelled themes plus ``theme_unassigned``, checked."""
    labels = _labels_with_unassigned(theme_labels)
    columns = [f"theme_{theme}" for theme in labels]
    _require_columns(table, columns, name)
    present = [
        c for c in table.columns
        if c.startswith("theme_") and c not in _NON_SHARE_COLUMNS and not c.endswith(("_low", "_high"))
    ]
    extra = sorted(set(present) - set(columns))
    if extra:
        raise FigureError(
            f"{name}: theme column(s) {', '.join(extra)} have no label in theme_labels "
            f"(labelled: {', '.join(labels)})"
        )
    return columns


def _analysed_documents(documents: pd.DataFrame) -> pd.DataFrame:
    """Documents that carry theme shares: those without a ``duplicate_of``."""
    _require_columns(documents, ("doc_id", "title", "duplicate_of"), "documents")
    duplicate = documents["duplicate_of"].fillna("").astype(str).str.strip() != ""
    return documents.loc[~duplicate].reset_index(drop=True)


def _check_known_themes(values: pd.Series, labels: Mapping[str, str], name: str) -> None:
    unknown = sorted({str(v) for v in values.dropna()} - set(labels))
    if unknown:
        raise FigureError(f"{name}: theme(s) {', '.join(unknown)} not in theme_labels")


def _share_matrix(documents: pd.DataFrame, columns: Sequence[str], name: str) -> np.ndarray:
    shares = documents[list(columns)].to_numpy(dtype=float)
    if np.isnan(shares).any():
        row = int(np.where(np.isnan(shares).any(axis=1))[0][0])
        raise FigureError(f"{name}: document {documents['doc_id'].iloc[row]} has an empty theme share")
    return shares


def _segments(ax, rows, left, width, color: str, height: float, edge: float, label: str) -> PathCollection:
    """Horizontal bar segments of one colour as one compound path in one collection.

    One path of many rectangles draws as fast as one rectangle in both backends (a collection
    of thousands of separate paths costs a ``<path>`` element with its style each in the SVG),
    and neighbouring segments of the same colour join without an antialiasing seam; the edge
    (white, ``edge`` points) is still stroked around every segment.
    """
    rows, left, width = (np.asarray(v, dtype=float) for v in (rows, left, width))
    half = height / 2
    n = len(rows)
    vertices = np.empty((n, 5, 2))
    vertices[:, 0] = np.column_stack([left, rows - half])
    vertices[:, 1] = np.column_stack([left + width, rows - half])
    vertices[:, 2] = np.column_stack([left + width, rows + half])
    vertices[:, 3] = np.column_stack([left, rows + half])
    vertices[:, 4] = vertices[:, 0]
    codes = np.tile(
        np.array([MplPath.MOVETO, MplPath.LINETO, MplPath.LINETO, MplPath.LINETO, MplPath.CLOSEPOLY], dtype=MplPath.code_type), n
    )
    paths = [MplPath(vertices.reshape(-1, 2), codes)] if n else []
    # snap=True: pixel-aligned edges as Agg gives a single rectangle (auto-snapping stops at 1,024 vertices)
    collection = PathCollection(paths, facecolors=color, edgecolors="white", linewidths=edge, label=label, snap=True)
    ax.add_collection(collection, autolim=False)
    return collection


def _new_figure(width: float, height: float) -> Figure:
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _layout(figure: Figure) -> None:
    """Draw without rendering (which runs the layout engine). Texts kept out of the layout
    (``in_layout=False``, e.g. the heatmap's cell labels) are hidden meanwhile: they would
    only be measured, at a cost that grows with the size of the table."""
    hidden = [
        text for ax in figure.axes for text in ax.texts if text.get_visible() and not text.get_in_layout()
    ]
    for text in hidden:
        text.set_visible(False)
    try:
        figure.draw_without_rendering()
    finally:
        for text in hidden:
            text.set_visible(True)


#: Set by :func:`write_figures`, which lays every figure out when saving it (under the same
#: style): the figure functions then skip their own layout pass.
_SAVING: contextvars.ContextVar[bool] = contextvars.ContextVar("policytopics_figures_saving", default=False)


def _finish(figure: Figure) -> Figure:
    """Lay out and draw once under the local style, so lazily created tick labels get its font."""
    if not _SAVING.get():
        _layout(figure)
    return figure


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
    >>> from policytopics.themes import load_codebook
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


#: Tables of which the figures read only the columns they need (units.csv holds every unit's text).
_COLUMNS_ONLY = ("units.csv",)


def _read_table(run_dir: Path, name: str) -> pd.DataFrame:
    path = run_dir / name
    if not path.is_file():
        raise FigureError(f"figures: {path} not found (the run folder lacks {name}; was the run completed?)")
    header = pd.read_csv(path, nrows=0, encoding="utf-8").columns
    columns = [c for c in header if c in _TABLE_COLUMNS[name]] if name in _COLUMNS_ONLY else None
    dtypes = {column: str for column in header if column in _TEXT_COLUMNS}
    # only an empty field is missing: a title or term "NA" stays text
    table = pd.read_csv(path, encoding="utf-8", dtype=dtypes, keep_default_na=False, na_values=[""], usecols=columns)
    _require_columns(table, _TABLE_COLUMNS[name], str(path))
    return table


def _save(figure: Figure, out_dir: Path, stem: str) -> list[Path]:
    """Write the PNG and the SVG with one layout: the constrained layout is computed once at the
    PNG's resolution and kept for both files (with a layout engine attached, ``savefig`` redoes
    the layout, a full extra draw of every artist, for each file it writes)."""
    png, svg = out_dir / f"{stem}.png", out_dir / f"{stem}.svg"
    with _style():
        engine, dpi = figure.get_layout_engine(), figure.dpi
        figure.set_dpi(_DPI)
        _layout(figure)
        figure.set_dpi(dpi)
        figure.set_layout_engine(None)  # rc figure.autolayout/constrained_layout.use are off in _RC
        try:
            figure.savefig(png, format="png", dpi=_DPI, metadata={"Software": None})
            figure.savefig(svg, format="svg", metadata={"Date": None, "Creator": None})
        finally:
            figure.set_layout_engine(engine)
    return [png, svg]


def _first_speeches(documents: pd.DataFrame, units: pd.DataFrame, max_speeches: int | None) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """The first ``max_speeches`` analysed documents and their units, and a note when that cut any."""
    analysed = _analysed_documents(documents)
    if max_speeches is None or len(analysed) <= max_speeches:
        return documents, units, ""
    shown = analysed.iloc[:max_speeches]
    note = (f"the first {max_speeches} of {len(analysed)} speeches (output.max_speeches_shown); "
            "documents.csv and units.csv have every speech")
    return shown, units.loc[units["doc_id"].isin(set(shown["doc_id"]))].reset_index(drop=True), note


def write_figures(
    run_dir: Path,
    theme_labels: Mapping[str, str],
    num_topics: int,
    out_dir: Path | None = None,
    max_speeches: int | None = None,
) -> list[str]:
    """Draw the figures of a run folder and write each as PNG (200 dpi) and SVG.

    Reads ``documents.csv``, ``units.csv``, ``topics.csv``, ``topic_terms.csv``,
    ``model_selection.csv`` and ``stability.csv`` from ``run_dir`` and writes
    ``theme_heatmap``, ``theme_bars``, ``topic_terms``, ``model_selection`` and ``theme_flow``
    (``.png`` and ``.svg`` each) into ``out_dir``. All figures are drawn before any file is
    written, so a missing table or column leaves no partial set. The same tables give
    byte-identical files.

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
    >>> from policytopics.themes import load_codebook
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
    saving = _SAVING.set(True)  # _save lays each figure out
    try:
        figures = {
            "theme_heatmap": theme_heatmap(documents, theme_labels),
            "theme_bars": theme_bars(documents, theme_labels),
            "topic_terms": topic_terms(tables["topics.csv"], tables["topic_terms.csv"], theme_labels),
            "model_selection": model_selection(tables["model_selection.csv"], tables["stability.csv"], int(num_topics)),
            "theme_flow": theme_flow(documents, units, theme_labels),
        }
        if note:
            for stem in ("theme_heatmap", "theme_bars", "theme_flow"):
                figures[stem].suptitle(note, x=0.01, ha="left", fontsize=_BASE_FONT_SIZE - 1, color="0.35")
    finally:
        _SAVING.reset(saving)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for stem in FIGURE_STEMS:
        written.extend(_save(figures[stem], out_dir, stem))
    return sorted(Path(os.path.relpath(path, run_dir)).as_posix() for path in written)
