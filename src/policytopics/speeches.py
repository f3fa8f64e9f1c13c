"""Speeches in a cleaned text: numbered speech headers, and the title of a single speech.

:func:`policytopics.segment.split_documents` cuts a text at the headers
:func:`find_headers` finds (:func:`split_at_headers`), or takes the whole text as one speech
titled by :func:`single_title`. Header and salutation patterns live in
``resources/segment.yaml``.
"""

from __future__ import annotations

import re

from policytopics.segment_patterns import MARKER_KINDS, RESOURCE, SPACE, line_spans, ordinal_value, squash

__all__ = [
    "GLUED_TITLE_MAX_CHARS",
    "TITLE_LINE_MAX_CHARS",
    "TITLE_MAX_LINES",
    "find_headers",
    "header_title",
    "single_title",
    "split_at_headers",
]

#: Longest line (characters) that can be a title line of a single speech.
TITLE_LINE_MAX_CHARS = 50
#: At most this many leading lines form a title block.
TITLE_MAX_LINES = 5
#: Longest glued title before a salutation.
GLUED_TITLE_MAX_CHARS = 80

_HEADER_RES = [re.compile(p) for p in RESOURCE["speech_headers"]]
_TITLE_REPEAT_SUFFIX_RE = re.compile(RESOURCE["title_repeat_suffix"])
_SENTENCE_PUNCT = frozenset(RESOURCE["sentence_punctuation"])
_SALUTATION_RE = re.compile(
    r"(?P<title>[^\n%s]{2,%d}?)[ \t\u3000]*(?=(?:%s))"
    % (
        re.escape(RESOURCE["sentence_punctuation"]),
        GLUED_TITLE_MAX_CHARS,
        "|".join(re.escape(s) for s in RESOURCE["salutations"]),
    )
)
_SALUTATION_LINE_RE = re.compile(
    r"(?:%s)" % "|".join(re.escape(s) for s in RESOURCE["salutations"])
)


def find_headers(text: str) -> list[tuple[int, int, int, str]]:
    """Speech header lines as (line_start, line_end, number, title), or [] if none.

    The header form used is the one that numbers the longest run 1, 2, 3, ... (at least
    two speeches); header lines outside that run are ignored.

    Parameters
    ----------
    text : str
        A cleaned text.

    Returns
    -------
    list of (int, int, int, str)
        The offsets of each header line, its number and the title it carries (``""`` when
        the line holds only the ordinal), in reading order.

    Examples
    --------
    >>> find_headers("精选2篇\\n讲话 篇1\\n同志们：今天开会。\\n讲话 篇2\\n同志们：明天开会。")
    [(5, 10, 1, '讲话'), (21, 26, 2, '讲话')]
    >>> find_headers("讲话 篇1\\n同志们：今天开会。")
    []
    """
    best: list[tuple[int, int, int, str]] = []
    for regex in _HEADER_RES:
        found = []
        for start, end in line_spans(text):
            match = regex.fullmatch(text[start:end])
            if match:
                found.append((start, end, ordinal_value(match["num"]), match["title"].strip()))
        run: list[tuple[int, int, int, str]] = []
        for header in found:
            if header[2] == len(run) + 1:
                run.append(header)
        if len(run) >= 2 and len(run) > len(best):
            best = run
    return best


def _is_title_line(line: str) -> bool:
    """A short heading-like line: no sentence punctuation, no outline marker."""
    line = line.strip(SPACE)
    if not line or len(line) > TITLE_LINE_MAX_CHARS:
        return False
    if any(ch in _SENTENCE_PUNCT for ch in line):
        return False
    if _SALUTATION_LINE_RE.match(line) or any(r.fullmatch(line) for r in _HEADER_RES):
        return False
    return not any(k.regex.match(line) for k in MARKER_KINDS)


def _skip_blank(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in SPACE:
        pos += 1
    return pos


def _next_line(text: str, pos: int) -> tuple[int, int]:
    end = text.find("\n", pos)
    return pos, (len(text) if end < 0 else end)


def single_title(text: str) -> tuple[str, int]:
    """Title of a single speech and the offset where its body starts.

    The title is the text's leading short heading-like lines (no sentence punctuation, no
    outline marker; at most ``TITLE_MAX_LINES`` lines of at most ``TITLE_LINE_MAX_CHARS``
    characters), or else a title glued before a salutation (``...讲话稿同志们：``).

    Parameters
    ----------
    text : str
        The text of one speech.

    Returns
    -------
    title : str
        The title lines joined by spaces, or ``""`` when none is found.
    body : int
        Where the speech's body starts in ``text``.

    Examples
    --------
    >>> single_title("标题\\n副标题\\n一、总体情况")
    ('标题 副标题', 7)
    >>> single_title("在全区大会上的讲话同志们：今天开会。")
    ('在全区大会上的讲话', 9)
    """
    pos = _skip_blank(text, 0)
    title_lines: list[str] = []
    body = pos
    while pos < len(text) and len(title_lines) < TITLE_MAX_LINES:
        start, end = _next_line(text, pos)
        if not _is_title_line(text[start:end]):
            break
        title_lines.append(text[start:end].strip(SPACE))
        pos = _skip_blank(text, end)
        body = pos
    if title_lines and body < len(text):
        return " ".join(title_lines), body
    start = _skip_blank(text, 0)
    match = _SALUTATION_RE.match(text, start)
    if (match and len(match["title"].strip(SPACE)) >= 4
            and not _SALUTATION_LINE_RE.match(text, start)):
        return match["title"].strip(SPACE), _skip_blank(text, match.end())
    return "", start


def header_title(header_line: str, title: str) -> str:
    """The header line as a title (whitespace runs folded), with the title appended when
    the header line does not carry it (a bare "第三篇" with the title on the next line).

    Parameters
    ----------
    header_line : str
        The text of a speech header line.
    title : str
        The speech's title (from the header line or the line after it).

    Returns
    -------
    str
        A title that tells apart speeches of one text that share their title.

    Examples
    --------
    >>> header_title("讲话  篇1", "讲话"), header_title("第三篇", "讲话")
    ('讲话 篇1', '第三篇 讲话')
    """
    line = " ".join(header_line.split())
    return line if squash(title) in squash(line) else f"{line} {title}".strip()


def split_at_headers(
    text: str, headers: list[tuple[int, int, int, str]]
) -> list[tuple[str, str]]:
    """(title, body) of each speech under its header; text before the first is dropped.

    A header without a title takes the next line as its title when that line is heading-like;
    lines right after a header that repeat its title are dropped.

    Parameters
    ----------
    text : str
        A cleaned text.
    headers : list of (int, int, int, str)
        Its headers, from :func:`find_headers`.

    Returns
    -------
    list of (str, str)
        The title and the body (outer whitespace stripped; possibly empty) of each speech.

    Examples
    --------
    >>> text = "精选2篇\\n讲话 篇1\\n同志们：今天开会。\\n讲话 篇2\\n同志们：明天开会。"
    >>> split_at_headers(text, find_headers(text))
    [('讲话', '同志们：今天开会。'), ('讲话', '同志们：明天开会。')]
    """
    parts = []
    for i, (_, line_end, _, title) in enumerate(headers):
        stop = headers[i + 1][0] if i + 1 < len(headers) else len(text)
        pos = _skip_blank(text, line_end)
        if not title:
            start, end = _next_line(text, pos)
            if pos < stop and _is_title_line(text[start:end]):
                title = text[start:end].strip(SPACE)
                pos = _skip_blank(text, end)
        squashed = squash(title)
        while squashed and pos < stop:
            start, end = _next_line(text, pos)
            line = squash(text[start:min(end, stop)])
            if not (line.startswith(squashed)
                    and _TITLE_REPEAT_SUFFIX_RE.match(line[len(squashed):])):
                break
            pos = _skip_blank(text, end)
        parts.append((title, text[pos:stop].strip(SPACE)))
    return parts
