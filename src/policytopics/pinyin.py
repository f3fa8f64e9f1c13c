"""Cleaning step 1: remove pinyin annotations (``開(kāi)發(fā)區(qū)`` -> ``開發區``).

Where an annotation shows that the character before it was garbled, :func:`strip_pinyin`
leaves :data:`~policytopics.characters.GARBLE_MARK` (and restores the character when the
text's own annotations tell which it was); see docs/methods.md, section 1.2.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

from policytopics.characters import ASCII_ALNUM_RE, GARBLE_MARK, fold, is_han

__all__ = ["PINYIN_LETTERS", "is_syllable", "strip_pinyin"]

_RESOURCES = "policytopics.resources"

_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ"
_TONE_BASE = str.maketrans(_TONED, "aaaaeeeeiiiioooouuuuüüüü")
#: The letters of a pinyin syllable, as the inside of a regex character class.
PINYIN_LETTERS = f"a-zü{_TONED}"


@lru_cache(maxsize=1)
def _pinyin_syllables() -> frozenset[str]:
    text = resources.files(_RESOURCES).joinpath("pinyin_syllables.txt").read_text("utf-8")
    syllables: set[str] = set()
    for line in text.splitlines():
        syllables.update(line.split("#", 1)[0].split())
    return frozenset(syllables)


def is_syllable(token: str, *, need_tone: bool) -> bool:
    """Is ``token`` one pinyin syllable? At most one tone mark; toneless needs 2+ letters.

    Parameters
    ----------
    token : str
        Lowercase letters, possibly tone-marked.
    need_tone : bool
        Refuse a syllable without a tone mark.

    Returns
    -------
    bool
        Whether ``token``, its tone mark removed, is listed in
        ``resources/pinyin_syllables.txt`` (and has the tone marks asked for).

    Examples
    --------
    >>> is_syllable("kāi", need_tone=True), is_syllable("men", need_tone=False)
    (True, True)
    >>> is_syllable("men", need_tone=True), is_syllable("gdp", need_tone=False)
    (False, False)
    """
    tones = sum(char in _TONED for char in token)
    if tones > 1 or (tones == 0 and (need_tone or len(token) < 2)):
        return False
    return token.translate(_TONE_BASE) in _pinyin_syllables()


# A `?` that swallowed the "(" of an annotation ("?yún)"), or a run of annotations with the
# character before them when that character could be a GBK trail byte turned ASCII.
_PINYIN_RE = re.compile(
    rf"(?P<orphan>\?(?P<orphan_syllable>[{PINYIN_LETTERS}]{{1,6}})\))"
    rf"|(?P<trail>[@-~])?(?P<run>(?:\([{PINYIN_LETTERS}]{{1,6}}\))+)"
)
_ANNOTATION_RE = re.compile(rf"\(([{PINYIN_LETTERS}]{{1,6}})\)")


def _reading_table(folded: str) -> dict[str, set[str]]:
    """Characters annotated with each (toned) syllable in this text: ``{"shí": {"時", "實"}}``."""
    table: dict[str, set[str]] = {}
    for match in _ANNOTATION_RE.finditer(folded):
        start = match.start()
        if start and is_han(folded[start - 1]) and is_syllable(match[1], need_tone=True):
            table.setdefault(match[1], set()).add(folded[start - 1])
    return table


def _recover(trail: str, syllable: str, table: dict[str, set[str]]) -> str | None:
    """The one character read ``syllable`` whose GBK trail byte is the ASCII ``trail``."""
    found = []
    for char in table.get(syllable, ()):
        try:
            encoded = char.encode("gbk")
        except UnicodeEncodeError:
            continue
        if len(encoded) == 2 and encoded[1] == ord(trail):
            found.append(char)
    return found[0] if len(found) == 1 else None


def strip_pinyin(text: str) -> str:
    """Remove pinyin annotations that follow characters; mark garbled spots with U+FFFD.

    An annotation is a bracketed lowercase pinyin syllable (``(kāi)``, ``（fā）``, or toneless
    with two or more letters, ``(men)``) right after a Han character; runs of them are removed
    together. A syllable is valid when, tone mark removed, it is listed in
    ``resources/pinyin_syllables.txt``, so ``(一)``, ``(GDP)``, ``(含增资)`` and ``(a)`` stay.

    Annotations that betray a garbled character are replaced by :data:`GARBLE_MARK`:
    ``?yún)`` (a ``?`` swallowed the bracket) and a toned annotation after a non-Han character.
    When that character is a lone ASCII letter or symbol (a GBK trail byte whose lead byte was
    lost) and exactly one character of this text is annotated with the same syllable and has
    that trail byte, the character is restored after the mark: ``袝r(shí)候`` ->
    ``袝\\ufffd時候``.

    Parameters
    ----------
    text : str
        Text, possibly annotated.

    Returns
    -------
    str
        The text without annotations.

    Examples
    --------
    >>> strip_pinyin("開(kāi)發(fā)區(qū)(一)GDP(GDP)")
    '開發區(一)GDP(GDP)'
    >>> strip_pinyin("入?yún)^(qū)區(qū)") == "入\\ufffd\\ufffd區區"
    True
    """
    folded = fold(text)
    if "(" not in folded and ")" not in folded:
        return text
    table: dict[str, set[str]] | None = None
    parts: list[str] = []
    done = 0
    for match in _PINYIN_RE.finditer(folded):
        start, end = match.span()
        if match["orphan"]:
            if not is_syllable(match["orphan_syllable"], need_tone=True):
                continue
            replacement = GARBLE_MARK
        else:
            trail = match["trail"] or ""
            run_start = match.start("run")
            before = folded[run_start - 1] if run_start else ""
            syllables = _ANNOTATION_RE.findall(match["run"])
            after_han = not trail and is_han(before)
            valid = 0  # leading annotations that are pinyin; the rest of the run stays
            need_tone = not after_han
            while valid < len(syllables) and is_syllable(syllables[valid], need_tone=need_tone):
                valid += 1
            if not valid:
                continue
            end = run_start + sum(len(s) + 2 for s in syllables[:valid])
            first = syllables[0]
            if after_han:
                replacement = ""
            else:
                replacement = text[start:run_start] + GARBLE_MARK
                lone = bool(trail) and not (start and ASCII_ALNUM_RE.match(folded[start - 1]))
                if lone:
                    if table is None:
                        table = _reading_table(folded)
                    recovered = _recover(trail, first, table)
                    if recovered:
                        replacement = GARBLE_MARK + recovered
        parts.append(text[done:start])
        parts.append(replacement)
        done = end
    parts.append(text[done:])
    return "".join(parts)
