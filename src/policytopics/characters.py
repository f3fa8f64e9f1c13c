"""Character classes, width folding and sanitising shared by the cleaning steps.

:func:`fold` maps full-width ASCII forms and the ideographic space to ASCII one character for
one, so a span found in folded text is a span of the original; :func:`sanitise` makes any
``str`` well-formed. The cleaning steps (:mod:`policytopics.pinyin`,
:mod:`policytopics.boilerplate`, :mod:`policytopics.mojibake`,
:mod:`policytopics.normalisation`) and the driver (:mod:`policytopics.clean`) use them.
"""

from __future__ import annotations

import re

__all__ = [
    "ASCII_ALNUM_RE",
    "GARBLE_MARK",
    "INVISIBLE_RE",
    "LINE_BREAK_RE",
    "SPACES",
    "SURROGATE_RE",
    "fold",
    "is_han",
    "neighbour",
    "remove_spans",
    "sanitise",
]

GARBLE_MARK = "\ufffd"
"""Left by :func:`policytopics.pinyin.strip_pinyin` where a character was garbled; removed by
:func:`policytopics.mojibake.drop_mojibake`."""

# Full-width ASCII forms -> ASCII, ideographic space -> space. One character for one, so spans
# found in the folded text are spans of the original text.
_FOLD = {**{cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}, 0x3000: 0x20}

#: Tab and every Unicode space separator (Zs) but the ideographic space, which :func:`fold`
#: makes " ".
SPACES = " \t\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f"

ASCII_ALNUM_RE = re.compile("[0-9A-Za-z]")

SURROGATE_RE = re.compile("[\ud800-\udfff]")
LINE_BREAK_RE = re.compile("\r\n|[\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
# C0/C1 controls except \n and \t, and invisible format characters (zero-width spaces and
# joiners, word joiner, BOM, bidi controls, soft hyphen).
INVISIBLE_RE = re.compile(
    "[\x00-\x08\x0e-\x1b\x1f\x7f-\x84\x86-\x9f\u00ad\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u2069\ufeff]"
)


def fold(text: str) -> str:
    """``text`` with full-width ASCII forms as ASCII and ideographic spaces as spaces.

    Parameters
    ----------
    text : str
        Any text.

    Returns
    -------
    str
        The folded text, of the same length (one character for one).

    Examples
    --------
    >>> fold("ＧＤＰ２０\\u3000（一）")
    'GDP20 (一)'
    """
    return text.translate(_FOLD)


def remove_spans(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` without the characters of ``spans``.

    Parameters
    ----------
    text : str
        Any text.
    spans : list of (int, int)
        Sorted, non-overlapping ``(start, end)`` offsets into ``text``.

    Returns
    -------
    str
        The text with those characters left out.

    Examples
    --------
    >>> remove_spans("开发区经济", [(0, 1), (3, 4)])
    '发区济'
    """
    if not spans:
        return text
    pieces, done = [], 0
    for start, end in spans:
        pieces.append(text[done:start])
        done = end
    pieces.append(text[done:])
    return "".join(pieces)


def is_han(char: str) -> bool:
    """Is ``char`` one Han character (CJK unified ideographs, extensions, compatibility, 〇)?

    Parameters
    ----------
    char : str
        Usually one character; anything longer or empty is not Han.

    Returns
    -------
    bool
        Whether ``char`` is a single Han character.

    Examples
    --------
    >>> is_han("区"), is_han("〇"), is_han("A"), is_han("区区")
    (True, True, False, False)
    """
    if len(char) != 1:
        return False
    code = ord(char)
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0xF900 <= code <= 0xFAFF
        or 0x20000 <= code <= 0x3134F
        or code == 0x3007
    )


def sanitise(text: str) -> str:
    """Make ``text`` well-formed: lone surrogates become U+FFFD, every line-break form becomes
    ``\\n``, control and zero-width characters are dropped.

    Parameters
    ----------
    text : str
        Any text.

    Returns
    -------
    str
        The well-formed text.

    Examples
    --------
    >>> sanitise("开\\u200b发\\r\\n区\\x00") == "开发\\n区"
    True
    """
    text = SURROGATE_RE.sub(GARBLE_MARK, text)
    text = LINE_BREAK_RE.sub("\n", text)
    return INVISIBLE_RE.sub("", text)


def neighbour(text: str, index: int, step: int) -> str:
    """The nearest character before or after ``index`` on the same line, skipping spaces.

    Parameters
    ----------
    text : str
        The text.
    index : int
        The position to look from (its own character is not looked at).
    step : {-1, 1}
        -1 looks before ``index``, 1 after it.

    Returns
    -------
    str
        The character, or ``""`` when a line end (or the text's end) comes first.

    Examples
    --------
    >>> neighbour("开 , 发", 2, -1), neighbour("开 , 发", 2, 1), neighbour("开\\n,", 2, -1)
    ('开', '发', '')
    """
    index += step
    while 0 <= index < len(text):
        char = text[index]
        if char == "\n":
            return ""
        if char not in SPACES:
            return char
        index += step
    return ""
