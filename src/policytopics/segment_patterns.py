"""The patterns of ``resources/segment.yaml`` and the text helpers segmentation shares.

The resource is loaded once, at import. :mod:`policytopics.speeches` (speech headers and
titles), :mod:`policytopics.duplicates` (shingles) and :mod:`policytopics.outline` (outline
markers and units) read it and the helpers here: whitespace, line spans, ordinals and the
outline marker kinds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

__all__ = ["MARKER_KINDS", "RESOURCE", "SPACE", "MarkerKind", "line_spans", "ordinal_value", "squash"]


def _load_resource() -> dict[str, Any]:
    text = resources.files("policytopics").joinpath("resources/segment.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict):  # pragma: no cover - broken package
        raise RuntimeError("resources/segment.yaml: expected a mapping")
    return data


#: The content of ``resources/segment.yaml``.
RESOURCE = _load_resource()

#: The whitespace characters segmentation strips.
SPACE = " \t\r\n\u3000\xa0"
_WS_RE = re.compile(r"[\s\u3000\xa0]+")


def squash(text: str) -> str:
    """``text`` without any whitespace.

    Parameters
    ----------
    text : str
        Any text.

    Returns
    -------
    str
        The text with every whitespace character (ideographic space included) removed.

    Examples
    --------
    >>> squash("开发区 经济\\n快速\\u3000发展")
    '开发区经济快速发展'
    """
    return _WS_RE.sub("", text)


def line_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every line of ``text`` (without the newline).

    Parameters
    ----------
    text : str
        Any text.

    Returns
    -------
    list of (int, int)
        The offsets of each line, in order (an empty text is one empty line).

    Examples
    --------
    >>> line_spans("一、甲\\n\\n乙")
    [(0, 3), (4, 4), (5, 6)]
    """
    spans = []
    start = 0
    for line in text.split("\n"):
        spans.append((start, start + len(line)))
        start += len(line) + 1
    return spans


_CN_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
              "七": 7, "八": 8, "九": 9}
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩"


def ordinal_value(text: str) -> int:
    """Value of an ordinal written in Arabic digits, Chinese numerals (1-99) or ①-⑩.

    Parameters
    ----------
    text : str
        The ordinal of a header or an outline marker, such as ``3``, ``十二`` or ``②``.

    Returns
    -------
    int
        Its value (0 for a text that is no ordinal).

    Examples
    --------
    >>> ordinal_value("12"), ordinal_value("二十三"), ordinal_value("十"), ordinal_value("②")
    (12, 23, 10, 2)
    """
    if text.isdecimal():  # not isdigit(): "①".isdigit() is True but int("①") fails
        return int(text)
    if len(text) == 1 and text in _CIRCLED:
        return _CIRCLED.index(text) + 1
    if "十" in text:
        tens, _, units = text.partition("十")
        return (_CN_DIGITS.get(tens, 1) if tens else 1) * 10 + (_CN_DIGITS.get(units, 0))
    return _CN_DIGITS.get(text, 0)


@dataclass(frozen=True)
class MarkerKind:
    """One kind of outline marker of ``resources/segment.yaml`` (``一、``, ``（一）``, ...).

    Attributes
    ----------
    kind : str
        Its name, such as ``cn_dun``.
    rank : int
        Its outline level (smaller is higher).
    boundary : str
        What must precede it inside running text: ``strong``, ``weak`` or ``any``.
    inline_heading : bool
        Whether the marker opens a section (with a heading) also inside running text.
    regex : re.Pattern
        The marker, with its ordinal in group ``num``.
    """

    kind: str
    rank: int
    boundary: str
    inline_heading: bool
    regex: re.Pattern[str]


#: The outline marker kinds, in the order of ``resources/segment.yaml``.
MARKER_KINDS = [
    MarkerKind(
        kind=m["kind"],
        rank=int(m["rank"]),
        boundary=m["boundary"],
        inline_heading=bool(m["inline_heading"]),
        regex=re.compile(m["pattern"]),
    )
    for m in RESOURCE["outline_markers"]
]
