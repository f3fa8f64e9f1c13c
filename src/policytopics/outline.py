"""Outline structure of a document and its cut into analysis units.

:func:`unit_pieces` finds the outline markers of a document (``一、`` > ``（一）`` > ``1、`` >
``（1）`` > ``一是``/``第一，`` > ``①``; patterns in ``resources/segment.yaml``), cuts it into
paragraph and section pieces with their heading paths, cuts pieces that are too long and
merges those that are too short. :func:`policytopics.segment.segment_document` turns the
pieces into units.
"""

from __future__ import annotations

import bisect
import math
import re
from dataclasses import dataclass

from policytopics.segment_patterns import MARKER_KINDS, RESOURCE, SPACE, line_spans, ordinal_value

__all__ = ["INLINE_HEADING_MAX_CHARS", "Piece", "unit_pieces"]

#: Inline headings without a sentence end are cut to at most this many characters.
INLINE_HEADING_MAX_CHARS = 40

_SENTENCE_ENDS = RESOURCE["sentence_ends"]
_CLAUSE_ENDS = RESOURCE["clause_ends"]
_CLOSING = RESOURCE["closing_marks"]
_SENTENCE_CUT_RE = re.compile(
    "[%s]+[%s]*" % (re.escape(_SENTENCE_ENDS), re.escape(_CLOSING))
)
_CLAUSE_CUT_RE = re.compile("[%s]+[%s]*" % (re.escape(_CLAUSE_ENDS), re.escape(_CLOSING)))
_HEADING_STOP_RE = re.compile("[。！？；：!?;:\\s\u3000]")
_BODY_START_RE = re.compile(
    "(?:%s)(?=[，,])" % "|".join(re.escape(s) for s in RESOURCE["heading_body_starts"])
)
_STRONG_BEFORE = frozenset("。！？；：!?;:" + _CLOSING)
_WEAK_BEFORE = _STRONG_BEFORE | frozenset("，,、")
#: Kinds taken inside running text even when their run has one member only.
_SINGLE_OK = frozenset(("cn_dun", "cn_paren"))


@dataclass(frozen=True)
class _Marker:
    pos: int  # absolute offset in the document text
    end: int  # end of the marker itself
    kind: str
    rank: int
    number: int
    line_start: bool
    inline_heading: bool

    @property
    def is_section(self) -> bool:
        """Whether the marker opens an outline section (enters the heading path)."""
        return self.inline_heading or self.line_start


@dataclass(frozen=True)
class Piece:
    """A span of a document that becomes one unit.

    Attributes
    ----------
    start, end : int
        Its offsets in the document text.
    section : int
        Id of the innermost section the piece sits in.
    path : tuple of (int, int)
        The spans of its headings in the document text, outermost first.
    """

    start: int
    end: int
    section: int
    path: tuple[tuple[int, int], ...]


def _boundary_ok(text: str, pos: int, line_start: int, boundary: str) -> tuple[bool, bool]:
    """(accepted, at_line_start) for a marker at ``pos`` of a line starting at ``line_start``."""
    before = pos - 1
    while before >= line_start and text[before] in SPACE:
        before -= 1
    if before < line_start:
        return True, True
    if boundary == "any" or before < pos - 1:  # "any", or whitespace before the marker
        return True, False
    allowed = _STRONG_BEFORE if boundary == "strong" else _WEAK_BEFORE
    return text[before] in allowed, False


def _find_markers(text: str, lines: list[tuple[int, int]]) -> list[_Marker]:
    """Outline markers of a document, in reading order, with false markers removed.

    A marker at the start of a line is always taken. Inside running text a marker must
    continue the numbered run of its kind (1, or the previous number + 1; a marker of a
    higher level closes the runs of deeper levels), and such a run must reach at least 2
    (a lone ``1、``, ``（1）``, ``一是``, ``第一，`` or ``①`` in running text is not an
    outline); a lone ``一、`` after a sentence end or ``（一）`` is taken.
    """
    candidates: list[_Marker] = []
    for start, end in lines:
        found: list[_Marker] = []
        for kind in MARKER_KINDS:
            for match in kind.regex.finditer(text, start, end):
                ok, at_start = _boundary_ok(text, match.start(), start, kind.boundary)
                if ok:
                    found.append(_Marker(match.start(), match.end(), kind.kind, kind.rank,
                                         ordinal_value(match["num"]), at_start,
                                         kind.inline_heading))
        taken_until = start
        for marker in sorted(found, key=lambda m: (m.pos, m.rank)):
            if marker.pos >= taken_until:
                candidates.append(marker)
                taken_until = marker.end
    accepted: list[_Marker] = []
    last: dict[str, int] = {}
    run_of: dict[str, list[int]] = {}  # open run of each kind, as indices into accepted
    runs: list[list[int]] = []
    for marker in candidates:
        in_run = marker.number == 1 or marker.number == last.get(marker.kind, 0) + 1
        if not marker.line_start and not in_run:
            continue
        for kind in MARKER_KINDS:  # a marker closes the runs of deeper levels
            if kind.rank > marker.rank:
                last.pop(kind.kind, None)
                run_of.pop(kind.kind, None)
        if marker.number == 1 or marker.kind not in run_of:
            run_of[marker.kind] = []
            runs.append(run_of[marker.kind])
        last[marker.kind] = marker.number
        run_of[marker.kind].append(len(accepted))
        accepted.append(marker)
    rejected = {
        i
        for run in runs
        if len(run) < 2
        for i in run
        if not accepted[i].line_start and accepted[i].kind not in _SINGLE_OK
    }
    return [m for i, m in enumerate(accepted) if i not in rejected]


def _heading_end(text: str, marker: _Marker, limit: int) -> int:
    """End (exclusive) of the heading text of a section opened by ``marker``.

    The heading runs to the first sentence end, colon or whitespace gap, to a body
    opener such as ``上半年，`` glued to it, or to ``limit`` (the next marker / the end of
    the piece), and is at most ``INLINE_HEADING_MAX_CHARS`` long (cut at a comma when
    possible).
    """
    text_start = _lstrip(text, marker.end, limit)
    bound = min(limit, text_start + INLINE_HEADING_MAX_CHARS)
    stop = _HEADING_STOP_RE.search(text, text_start, bound)
    end = stop.start() if stop else bound
    body = _BODY_START_RE.search(text, min(text_start + 2, end), end)
    if body:
        end = body.start()
    elif not stop and bound < limit:
        comma = max(text.rfind("，", text_start, end), text.rfind(",", text_start, end))
        if comma > text_start + 4:
            end = comma
    return _rstrip(text, marker.pos, end)


def _rstrip(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1] in SPACE:
        end -= 1
    return end


def _lstrip(text: str, start: int, end: int) -> int:
    while start < end and text[start] in SPACE:
        start += 1
    return start


_HEADING_TAIL = SPACE + _SENTENCE_ENDS + _CLOSING + "：:，,"


def _ends_sentence(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` ends with a sentence end (closing quotes skipped)."""
    while end > start and text[end - 1] in _CLOSING:
        end -= 1
    return end > start and text[end - 1] in _SENTENCE_ENDS


def _structure(text: str, lines: list[tuple[int, int]], markers: list[_Marker]) -> list[Piece]:
    """Cut the document into paragraph/section pieces and give each its heading path.

    - Every non-empty line is cut before each section marker in it. A line with a section
      marker inside its running text (a speech stored as one long line) is also cut
      before its inner points (一是, 第一，), except right after a heading that has no
      body of its own.
    - A line that continues a sentence broken by a page break (the previous piece does
      not end with a sentence end, and the line does not open a section) is joined to the
      previous piece.
    - A section opened by an outline heading (一、 （一） 1、 （1）) whose piece holds only
      the heading is no unit: the heading just enters the path of the pieces after it. When
      its section closes with no piece in it (the next heading is of the same or a higher
      level, or the document ends), the heading becomes a piece of its own, so that its
      text is not lost.
    - A section opened by an inner point at the start of a line (一是...) is a unit and
      lasts until the next paragraph that is not a continuation.
    """
    pieces: list[Piece] = []
    # open sections: (rank, heading span, outline?, len(pieces) when opened, section id)
    stack: list[tuple[int, tuple[int, int], bool, int, int]] = []
    section = 0

    def close_section() -> None:
        _, span, _, pieces_before, opened = stack[-1]
        if len(pieces) == pieces_before:  # nothing carries the heading: it is a piece itself
            pieces.append(Piece(span[0], span[1], opened, tuple(entry[1] for entry in stack)))
        stack.pop()

    by_line: dict[int, list[_Marker]] = {}
    line_no = 0
    for marker in markers:
        while lines[line_no][1] < marker.pos:
            line_no += 1
        by_line.setdefault(line_no, []).append(marker)
    for number, (line_start, line_end) in enumerate(lines):
        start = _lstrip(text, line_start, line_end)
        end = _rstrip(text, start, line_end)
        if start == end:
            continue
        line_markers = by_line.get(number, [])
        opens_section = bool(line_markers) and line_markers[0].line_start
        continuation = (
            not opens_section
            and bool(pieces)
            and pieces[-1].section == section
            and not _ends_sentence(text, pieces[-1].start, pieces[-1].end)
        )
        if not opens_section and not continuation and stack and not stack[-1][2]:
            while stack and not stack[-1][2]:  # a new paragraph closes inner points
                close_section()
            section += 1
        run_on = any(m.inline_heading and not m.line_start for m in line_markers)
        heading_ends: dict[int, int] = {}
        cuts: dict[int, _Marker] = {}
        bare_heading_until = -1  # a heading with no body reaches up to here
        for i, marker in enumerate(line_markers):
            limit = line_markers[i + 1].pos if i + 1 < len(line_markers) else end
            if marker.is_section:
                heading_ends[marker.pos] = _heading_end(text, marker, limit)
                cuts[marker.pos] = marker
                if (marker.inline_heading
                        and not text[heading_ends[marker.pos]:limit].strip(_HEADING_TAIL)):
                    bare_heading_until = limit
            elif run_on and marker.pos != bare_heading_until:
                cuts[marker.pos] = marker
        bounds = sorted({start, end, *cuts})
        for piece_start, piece_end in zip(bounds, bounds[1:]):
            piece_end = _rstrip(text, piece_start, piece_end)
            marker = cuts.get(piece_start)
            if marker is not None and marker.is_section:
                heading_end = min(heading_ends[piece_start], piece_end)
                bare = marker.inline_heading and not text[heading_end:piece_end].strip(
                    _HEADING_TAIL)
                while stack and stack[-1][0] >= marker.rank:
                    close_section()
                section += 1
                stack.append((marker.rank, (piece_start, piece_end if bare else heading_end),
                              marker.inline_heading, len(pieces), section))
                if bare:
                    continue
            elif piece_start == start and continuation:
                previous = pieces.pop()
                piece_start = previous.start
            pieces.append(Piece(piece_start, piece_end, section,
                                 tuple(entry[1] for entry in stack)))
    while stack:
        close_section()
    return pieces


def _pack(start: int, end: int, points: list[int], limit: int) -> list[int]:
    """Choose cut points among ``points`` so that pieces are shorter than ``limit``.

    Uses as few cuts as a farthest-fit pass needs, placed near even intervals. Where no
    point lies within ``limit`` of the last cut, the nearest point after it is taken (that
    piece stays too long and is cut at a finer level by the caller).
    """
    points = sorted(p for p in set(points) if start < p < end)

    def fit(target: float) -> list[int]:
        chosen: list[int] = []
        here = start
        while end - here >= limit:
            i = bisect.bisect_right(points, here)
            if i == len(points):
                break
            j = bisect.bisect_right(points, here + target) - 1
            if j < i:  # nothing within the target: take the nearest point
                j = i
            chosen.append(points[j])
            here = points[j]
        return chosen

    def too_long(cuts: list[int]) -> int:
        return sum(b - a >= limit for a, b in zip([start, *cuts], [*cuts, end]))

    fewest = fit(limit - 1)
    even = fit((end - start) / (len(fewest) + 1) * 1.15)
    if len(even) == len(fewest) and too_long(even) <= too_long(fewest):
        return even
    return fewest


def _split_long(text: str, piece: Piece, inner: list[int], max_chars: int,
                level: int = 0) -> list[Piece]:
    """Cut a piece of ``max_chars`` or more: at inner markers (level 0), then sentence ends
    (1), clause ends (2) and finally into equal lengths (3)."""
    if piece.end - piece.start < max_chars:
        return [piece]
    start, end = piece.start, piece.end
    if level == 0:
        cuts = [p for p in inner if start < p < end]
    elif level == 1:
        points = [m.end() for m in _SENTENCE_CUT_RE.finditer(text, start, end)]
        cuts = _pack(start, end, points, max_chars)
    elif level == 2:
        points = [m.end() for m in _CLAUSE_CUT_RE.finditer(text, start, end)]
        cuts = _pack(start, end, points, max_chars)
    else:
        n = math.ceil((end - start) / (max_chars - 1))
        size = math.ceil((end - start) / n)
        cuts = list(range(start + size, end, size))
    result: list[Piece] = []
    for a, b in zip([start, *cuts], [*cuts, end]):
        a = _lstrip(text, a, b)
        b = _rstrip(text, a, b)
        if a < b:
            sub = Piece(a, b, piece.section, piece.path)
            result.extend(_split_long(text, sub, inner, max_chars, level + 1))
    return result


def _merge_short(pieces: list[Piece], min_chars: int, max_chars: int) -> list[Piece]:
    """Merge pieces shorter than ``min_chars`` into the following piece of the same
    section, or else the preceding one, when the merged piece stays under ``max_chars``."""
    pieces = list(pieces)
    i = 0
    while i < len(pieces):
        piece = pieces[i]
        if piece.end - piece.start >= min_chars:
            i += 1
            continue
        nxt = pieces[i + 1] if i + 1 < len(pieces) else None
        prev = pieces[i - 1] if i > 0 else None
        if nxt is not None and nxt.section == piece.section and nxt.end - piece.start < max_chars:
            pieces[i : i + 2] = [Piece(piece.start, nxt.end, piece.section, piece.path)]
        elif (prev is not None and prev.section == piece.section
              and piece.end - prev.start < max_chars):
            pieces[i - 1 : i + 1] = [Piece(prev.start, piece.end, prev.section, prev.path)]
            i -= 1
        else:
            i += 1
    return pieces



def unit_pieces(text: str, max_chars: int, min_chars: int) -> list[Piece]:
    """The pieces of a document text that become its units, in reading order.

    Outline markers are found, the text is cut into paragraph and section pieces with
    their heading paths, pieces of ``max_chars`` or more are cut (at inner markers, then
    sentence ends, clause ends and by length), and pieces shorter than ``min_chars`` are
    merged into a neighbour of the same section. The steps are described in
    :func:`policytopics.segment.segment_document`.

    Parameters
    ----------
    text : str
        The text of one document.
    max_chars : int
        No piece reaches this many characters.
    min_chars : int
        Pieces shorter than this are merged when the merged piece stays under ``max_chars``.

    Returns
    -------
    list of Piece
        Non-overlapping spans of ``text``, in reading order.

    Examples
    --------
    >>> text = "一、总体情况\\n今年经济运行平稳，主要指标好于预期。"
    >>> [(text[p.start:p.end], [text[a:b] for a, b in p.path]) for p in unit_pieces(text, 1500, 20)]
    [('今年经济运行平稳，主要指标好于预期。', ['一、总体情况'])]
    """
    lines = line_spans(text)
    markers = _find_markers(text, lines)
    pieces = _structure(text, lines, markers)
    inner = [m.pos for m in markers if not m.is_section]
    cut: list[Piece] = []
    for piece in pieces:
        cut.extend(_split_long(text, piece, inner, max_chars))
    return _merge_short(cut, min_chars, max_chars)
