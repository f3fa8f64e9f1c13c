"""Cleaning step 5: normalise character widths, punctuation, spaces, blank lines and
placeholder years.

Chinese punctuation is made full width where its context is Chinese (so that later stages
can split sentences at ``。！？；``) and left ASCII in Latin context; see :func:`normalise`.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable

from policytopics.characters import SPACES, fold, is_han, neighbour, sanitise

__all__ = ["normalise"]

_SPACE_RUN_RE = re.compile(f"[{SPACES}]+")
_QUOTE_VARIANTS = str.maketrans({"〝": "“", "〞": "”"})
_TO_FULL_WIDTH = {",": "，", ":": "：", ";": "；", "!": "！", "?": "？", "(": "（", ")": "）"}
_CJK_PUNCT = "，。：；！？（）、“”‘’《》【】…—"
_SPACE_AROUND_PUNCT_RE = re.compile(f" *([{_CJK_PUNCT}]) *")
_PLACEHOLDER_YEAR_RE = re.compile(r"(?<![0-9A-Za-z])(?:20[xX]{2}|20\*{1,2}|[xX]{2,4})(?=年)")
_PLACEHOLDER_20XX_RE = re.compile(r"(?<![0-9A-Za-z])20[xX]{2}(?![0-9A-Za-z])")
_PAREN_PAIR_RE = re.compile(r"\(([^()\n]*)\)")
_BLANK_LINES_RE = re.compile(r"\n{3,}")


def _is_chinese(char: str) -> bool:
    """Is ``char`` Chinese text or Chinese punctuation (the context for full-width marks)?"""
    if not char:
        return False
    code = ord(char)
    return (
        is_han(char)
        or 0x3000 <= code <= 0x303F
        or 0xFF00 <= code <= 0xFFEF
        or char in "“”‘’…—"
        or 0x3040 <= code <= 0x30FF
    )


# Runs of the characters _context_table looks across: spaces and the ASCII marks that may
# become full width (every character it is asked about lies in such a run).
_CONTEXT_SKIP_RUN_RE = re.compile("[%s]+" % re.escape(" ." + "".join(_TO_FULL_WIDTH)))


def _context_table(text: str) -> dict[int, tuple[str, str]]:
    """For every space or convertible ASCII mark of ``text``: the nearest character before
    and after it on its line that is not a space, a ``.`` or a convertible mark ("" at a line
    end). All characters of one run of such characters share it, so the table is built in
    one pass (looking outwards from every mark was quadratic on long runs such as ``()()()``
    or a long Latin line)."""
    table: dict[int, tuple[str, str]] = {}
    for run in _CONTEXT_SKIP_RUN_RE.finditer(text):
        start, end = run.span()
        before = text[start - 1] if start and text[start - 1] != "\n" else ""
        after = text[end] if end < len(text) and text[end] != "\n" else ""
        for index in range(start, end):
            table[index] = (before, after)
    return table


def _chinese_punctuation(text: str) -> str:
    chars = list(text)
    # Full stop: an ASCII "." after a Han character and not followed by a letter or digit.
    for index, char in enumerate(chars):
        if char == ".":
            before, after = neighbour(text, index, -1), neighbour(text, index, 1)
            if is_han(before) and not (after.isascii() and after.isalnum()):
                chars[index] = "。"
    text = "".join(chars)
    # Bracket pairs, innermost first: full width when the content or the context is Chinese.
    table = _context_table(text)  # of the current text: rebuilt after every pass

    def chinese_context(index: int) -> bool:
        before, after = table[index]
        return _is_chinese(before) or _is_chinese(after)

    def pair(match: re.Match[str]) -> str:
        inner = match[1]
        chinese = (
            any(_is_chinese(c) for c in inner)
            or chinese_context(match.start())
            or chinese_context(match.end() - 1)
        )
        return f"（{inner}）" if chinese else f"\x00{inner}\x01"

    while True:
        converted = _PAREN_PAIR_RE.sub(pair, text)
        if converted == text:
            break
        text = converted
        table = _context_table(text)
    line_starts = [0, *(match.end() for match in re.finditer("\n", text))]
    han_lines: dict[int, bool] = {}

    def line_has_han(index: int) -> bool:
        number = bisect.bisect_right(line_starts, index) - 1
        if number not in han_lines:
            end = line_starts[number + 1] - 1 if number + 1 < len(line_starts) else len(text)
            han_lines[number] = any(is_han(c) for c in text[line_starts[number]:end])
        return han_lines[number]

    chars = list(text)
    for index, char in enumerate(chars):
        if char in _TO_FULL_WIDTH and not _keeps_ascii(
            text, index, char, table[index], line_has_han
        ):
            chars[index] = _TO_FULL_WIDTH[char]
    return "".join(chars).replace("\x00", "(").replace("\x01", ")")


# A thousands separator is a digit, a comma, then exactly three digits ("1,000", "12,345.6").
_THOUSANDS_GROUP_RE = re.compile(r"\d{3}(?!\d)")


def _keeps_ascii(
    text: str,
    index: int,
    char: str,
    context: tuple[str, str],
    line_has_han: Callable[[int], bool],
) -> bool:
    """Does the ASCII mark at ``index`` stay ASCII? Yes for a thousands separator, a colon
    between digits (``09:47``, ``1:2``), and marks with no Chinese on their line or Latin
    letters on both sides (``CAD,CAXA``); no otherwise, so that ``80%,99%`` and ``第3,7个``
    in a Chinese sentence get their Chinese comma. ``context`` is the mark's entry of
    :func:`_context_table`."""
    before, after = context
    if char == "," and before.isdigit() and _THOUSANDS_GROUP_RE.match(text, index + 1):
        return True
    if char == ":" and before.isdigit() and after.isdigit():
        return True
    if _is_chinese(before) or _is_chinese(after):
        return False
    if not line_has_han(index):
        return True
    return before.isascii() and before.isalpha() and after.isascii() and after.isalpha()


def normalise(text: str) -> str:
    """Normalise widths, punctuation, spaces, blank lines and placeholder years.

    Conventions:

    * Full-width letters, digits and symbols become ASCII (``ＧＤＰ２０`` -> ``GDP20``).
    * Chinese punctuation is full width: ``,:;!?()`` become ``，：；！？（）`` when the nearest
      letter or character beside them is Chinese (not between digits: ``1,000``, ``09:47``),
      bracket pairs are converted together, and a ``.`` after a Han character that does not
      precede a letter or digit becomes ``。``. Marks in Latin context stay ASCII, so later
      stages can split sentences on ``。！？；``. ``〝〞`` become ``“”``.
    * Placeholder years ``20xx年``, ``XX年``, ``XXX年``, ``20*年`` become ``20XX年``, and
      ``20xx`` becomes ``20XX``.
    * Runs of spaces, tabs and ideographic spaces become one space; spaces next to Chinese
      punctuation are dropped (a space between two Han characters is kept: pages use it to
      separate a title from ``篇1``); every line is stripped; at most one blank line is kept
      between paragraphs, none at the start or end. Line breaks are never added or joined.
    * Control and zero-width characters are dropped, line-break variants become ``\\n``.

    Parameters
    ----------
    text : str
        Text in any state.

    Returns
    -------
    str
        The normalised text.

    Examples
    --------
    >>> normalise("  今天,我们召开２０xx年总结会(GDP)!\\n\\n\\n\\n  同志们:  ")
    '今天，我们召开20XX年总结会（GDP）！\\n\\n同志们：'
    """
    text = sanitise(text)
    text = fold(text).translate(_QUOTE_VARIANTS)
    text = _SPACE_RUN_RE.sub(" ", text)
    text = _chinese_punctuation(text)
    text = _PLACEHOLDER_YEAR_RE.sub("20XX", text)
    text = _PLACEHOLDER_20XX_RE.sub("20XX", text)
    text = _SPACE_AROUND_PUNCT_RE.sub(r"\1", text)
    lines = [line.strip(" \t") for line in text.split("\n")]
    text = _BLANK_LINES_RE.sub("\n\n", "\n".join(lines))
    return text.strip("\n")
