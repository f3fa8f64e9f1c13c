"""Style and canvas of the run figures: font, colours, labels and deterministic saving.

Matplotlib settings are applied with ``rc_context`` only while a figure is built and saved
(global rcParams untouched, no ``pyplot``); Chinese text is set in Noto Sans CJK SC from
``mplfonts``; PNG and SVG files carry no timestamps or versions, so the same figure gives
the same bytes. :func:`theme_colors` gives every theme one colour in all figures.
"""

from __future__ import annotations

import contextvars
import functools
import unicodedata
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.path import Path as MplPath

from policytopics.errors import PolicytopicsError
from policytopics.fonts import cjk_font_path

__all__ = ["UNASSIGNED", "FigureError", "theme_colors"]

UNASSIGNED = "unassigned"  # the same id as policytopics.themes.UNASSIGNED (not imported: it pulls in pydantic)

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
# Canvas: drawing, layout and saving


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


#: Set by :func:`policytopics.figures.write_figures`, which lays every figure out when saving it
#: (under the same style): the figure functions then skip their own layout pass.
_SAVING: contextvars.ContextVar[bool] = contextvars.ContextVar("policytopics_figures_saving", default=False)


def _finish(figure: Figure) -> Figure:
    """Lay out and draw once under the local style, so lazily created tick labels get its font."""
    if not _SAVING.get():
        _layout(figure)
    return figure


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

