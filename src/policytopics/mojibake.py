"""Cleaning step 4: drop fragments garbled by lost GBK bytes, keeping real Latin content.

:func:`drop_mojibake` collects clues of garble (characters that garbled GBK produces but
Chinese prose does not use), groups nearby clues into clusters and drops the clusters that
are certainly garbled; see docs/methods.md, section 1.2.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from policytopics.characters import SPACES, fold, is_han, neighbour, remove_spans
from policytopics.pinyin import PINYIN_LETTERS, is_syllable

__all__ = ["drop_mojibake"]

_MAX_GAP = 10  # characters of apparently normal text a garbled run may span between two clues
_SHORT_GAP = 2  # ... and across ASCII punctuation (a realigned byte stream)
_BLOCKING = frozenset("\n。、“”‘’《》【】〔〕「」『』…—〝〞")
_ASCII_PUNCT = frozenset(",.;:!()\"'")
_TOKEN_RE = re.compile(r"[0-9A-Za-z@\\^_`|~\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f]+")
_STRAY_ASCII = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz@\\^_`|~")
_ORPHAN_RE = re.compile(rf"\?([{PINYIN_LETTERS}]{{1,6}})\)")
_DOUBLE_MARK_RE = re.compile(r"\?[?!]")


def _script(char: str) -> str | None:
    """The class of a character that garbled GBK produces but Chinese prose does not use."""
    code = ord(char)
    if code == 0xFFFD:
        return "replacement"
    if 0xE000 <= code <= 0xF8FF or code >= 0xF0000:
        return "private"
    if 0x0400 <= code <= 0x052F:
        return "cyrillic"
    if (0x3041 <= code <= 0x30FF and code not in (0x306E, 0x30FB)) or 0x31F0 <= code <= 0x31FF:
        return "kana"  # の (see "symbol") and the middle dot ・ are used in Chinese writing
    if 0x3100 <= code <= 0x312F or 0x31A0 <= code <= 0x31BF:
        return "bopomofo"
    if 0x2500 <= code <= 0x257F:
        return "box"
    if 0x0370 <= code <= 0x03FF:
        return "greek"
    if 0x2160 <= code <= 0x217F or 0x2460 <= code <= 0x24FF or 0xFE50 <= code <= 0xFE6F:
        return "symbol"  # Roman numerals, enclosed numbers, small-form punctuation
    if code == 0x306E:
        return "symbol"  # の, which Chinese brand names borrow
    return None


_STRONG_SCRIPTS = frozenset({"replacement", "private", "cyrillic", "kana", "bopomofo", "box"})


@dataclass(frozen=True)
class _Clue:
    start: int
    end: int
    strong: bool
    kind: str


def _is_wide(char: str) -> bool:
    return bool(char) and not char.isascii() and not char.isspace()


def _is_anchor_context(char: str) -> bool:
    """Is ``char`` Chinese text, a ``?`` or an already certain clue (U+FFFD, private use)?"""
    if is_han(char) or char == "?":
        return True
    return len(char) == 1 and _script(char) in ("replacement", "private")


def _clues(text: str, folded: str) -> list[_Clue]:
    clues: list[_Clue] = []
    covered: set[int] = set()
    for match in _ORPHAN_RE.finditer(folded):
        if is_syllable(match[1], need_tone=True):
            clues.append(_Clue(match.start(), match.end(), True, "orphan"))
            covered.update(range(match.start(), match.end()))
    for match in _DOUBLE_MARK_RE.finditer(text):
        for index in range(match.start(), match.end()):
            if index not in covered:
                clues.append(_Clue(index, index + 1, True, "double_mark"))
                covered.add(index)
    for match in _TOKEN_RE.finditer(folded):
        if match.end() - match.start() != 1 or match.start() in covered:
            continue
        index, char = match.start(), match[0]
        left, right = neighbour(folded, index, -1), neighbour(folded, index, 1)
        if char in _STRAY_ASCII and (_is_wide(left) or _is_wide(right)):
            clues.append(_Clue(index, index + 1, False, "stray"))
        elif not char.isascii() and (_is_anchor_context(left) or _is_anchor_context(right)):
            clues.append(_Clue(index, index + 1, True, "latin"))  # e.g. a lone tone-marked vowel
    run_start = run_end = 0  # the run of one script the current character belongs to
    for index, char in enumerate(folded):
        if index in covered:
            continue
        if char == "?":  # "？" too: the text is width-folded
            clues.append(_Clue(index, index + 1, False, "question"))
            continue
        if char.isascii():
            continue
        script = _script(char)
        if script is None:
            continue
        if script in ("replacement", "private"):
            clues.append(_Clue(index, index + 1, True, script))
            continue
        # A real word in these scripts is a run; garble leaves one or two characters. The
        # run is measured once, at its first character (per character was quadratic).
        if not run_start <= index < run_end:
            run_start, run_end = index, index + 1
            while run_start > 0 and _script(folded[run_start - 1]) == script:
                run_start -= 1
            while run_end < len(folded) and _script(folded[run_end]) == script:
                run_end += 1
        if run_end - run_start > 2:
            continue
        left, right = neighbour(folded, run_start, -1), neighbour(folded, run_end - 1, 1)
        if script == "symbol":
            if _is_anchor_context(left) and _is_anchor_context(right):
                clues.append(_Clue(index, index + 1, False, "symbol"))
        elif _is_anchor_context(left) or _is_anchor_context(right):
            clues.append(_Clue(index, index + 1, script in _STRONG_SCRIPTS, script))
    return sorted(clues, key=lambda clue: clue.start)


def _bridgeable(gap: str) -> bool:
    """May one garbled run span ``gap``, the text between two clues?"""
    if any(char in _BLOCKING for char in gap):
        return False
    size = sum(1 for char in gap if char not in SPACES)
    if size > _MAX_GAP:
        return False
    return size <= _SHORT_GAP or not any(char in _ASCII_PUNCT for char in gap)


def _garbled_spans(text: str) -> list[tuple[int, int]]:
    folded = fold(text)
    clues = _clues(text, folded)
    spans: list[tuple[int, int]] = []
    cluster: list[_Clue] = []

    def close() -> None:
        if not cluster:
            return
        # A "?" only widens a cluster: question marks and Latin letters are both real text.
        weak_kinds = {clue.kind for clue in cluster if not clue.strong} - {"question"}
        if any(clue.strong for clue in cluster) or len(weak_kinds) >= 2:
            spans.append((cluster[0].start, max(clue.end for clue in cluster)))

    for clue in clues:
        if cluster and (
            clue.start < cluster[-1].end or _bridgeable(folded[cluster[-1].end : clue.start])
        ):
            cluster.append(clue)
            continue
        close()
        cluster = [clue]
    close()
    return spans


def drop_mojibake(text: str) -> str:
    """Drop fragments garbled by lost GBK bytes, keeping real Latin content.

    Clues of garble are collected first. Certain ones: U+FFFD (left by :func:`strip_pinyin`
    or by a decoder), private-use code points, kana, bopomofo, Cyrillic or box-drawing
    characters standing alone (one or two) next to Chinese, a leftover pinyin fragment
    (``?yún)``), ``??`` or ``?!``, and a lone accented Latin letter next to Chinese. Weak ones:
    a ``?`` (real questions use it too), a lone ASCII letter or ``@\\^_`|~`` glued to Chinese
    (a GBK trail byte), a lone Greek letter, and enclosed numbers or small-form symbols glued
    between Chinese characters. Clues at most 10 characters apart on the same line, with no
    Chinese punctuation between them (and ASCII punctuation only in a gap of two or less), form
    a cluster, which is one garbled run. A cluster holding a certain clue, or weak clues of two
    different kinds other than ``?``, is dropped from its first to its last clue; other clusters
    are kept (``行不行?能不能?``, ``A股和B股``, ``是A股?还是B股?``). Latin words of two or more
    characters (``GDP``, ``ISO14000``, ``110kv``, ``M6``, ``ab集团``) are never clues. A few
    garbled characters outside any clue may stay (``增强信心?傊,``); real text between two
    clues of one run goes with it.

    Parameters
    ----------
    text : str
        Text, ideally after :func:`strip_pinyin` and :func:`to_simplified`.

    Returns
    -------
    str
        The text without the garbled fragments.

    Examples
    --------
    >>> drop_mojibake("人居环境?朔\\ue49d刂乩щy,大力加强ISO14000和GDP")
    '人居环境,大力加强ISO14000和GDP'
    >>> drop_mojibake("能否保持?在宏观经济不确定")
    '能否保持?在宏观经济不确定'
    """
    for _ in range(5):
        spans = _garbled_spans(text)
        if not spans:
            break
        text = remove_spans(text, spans)
    return text
