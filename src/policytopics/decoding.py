"""Decoding the bytes of a corpus file: encoding detection, binary signatures, bounded repair.

:func:`decode_bytes` picks the encoding of a text file among candidates (a byte-order mark,
then strict UTF-8, then the candidate most plausible as Chinese text) and never replaces a
byte; :func:`decode_bytes_repairing` also accepts a file with a few invalid bytes, replaced
by U+FFFD; :func:`binary_kind` recognises binary formats saved under a ``.txt`` name. The
method is described in ``docs/methods.md``, section 1.1.
"""

from __future__ import annotations

import codecs
import functools
import os
import re
import threading
from collections.abc import Callable

from policytopics.errors import PolicytopicsError

__all__ = [
    "BINARY_SIGNATURES",
    "MAX_REPLACED_SHARE",
    "MIN_PLAUSIBILITY",
    "DecodeError",
    "binary_kind",
    "canonical_encoding",
    "decode_bytes",
    "decode_bytes_repairing",
    "normalise_newlines",
]

#: Share of jieba's character-frequency mass that counts as "common" characters.
COMMON_MASS = 0.995
#: Below this plausibility score no decoding is accepted.
MIN_PLAUSIBILITY = 0.5
#: Characters scored per candidate decoding (the head of the text is enough to tell).
SCORE_SAMPLE_CHARS = 200_000
#: A file that no candidate decodes strictly is repaired (its invalid byte sequences replaced
#: by U+FFFD) only when at most this share of its bytes is invalid in the chosen encoding.
MAX_REPLACED_SHARE = 0.01
#: What replaces a run of invalid bytes (cleaning's drop_mojibake removes it as garble).
REPLACEMENT_CHAR = "\ufffd"
#: Signatures (leading bytes) of binary formats often saved under a .txt name.
BINARY_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (or a .docx/.xlsx/.pptx/.epub, which are ZIP archives)"),
    (b"PK\x05\x06", "an empty ZIP archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "a Microsoft Office 97-2003 file (.doc/.xls/.ppt)"),
    (b"{\\rtf", "an RTF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
)

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_UTF8_NAMES = frozenset({"utf-8", "utf-8-sig"})
_UTF16_VARIANTS = {
    "utf-16": ("utf-16-le", "utf-16-be"),
    "utf-16-le": ("utf-16-le",),
    "utf-16-be": ("utf-16-be",),
}
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_NEWLINES = re.compile(r"\r\n?")
#: Common punctuation and symbols of Chinese text, and the toned vowels of pinyin.
_COMMON_SYMBOLS = frozenset(
    ",。、:;?!“”‘’()《》〈〉【】「」『』〔〕[]{}—–…·・%‰℃°×÷±~"
    "①②③④⑤⑥⑦⑧⑨⑩⑴⑵⑶⑷⑸⑹⑺⑻⑼⑽ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩ"
    "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü"
    + "".join(chr(code) for code in range(0xFF01, 0xFF5F))  # full-width ASCII forms
)


class DecodeError(PolicytopicsError):
    """Bytes that no candidate encoding decodes into plausible text; names the encodings."""


@functools.lru_cache(maxsize=1)
def _common_hanzi() -> frozenset[str]:
    """Han characters covering ``COMMON_MASS`` of the frequency mass of jieba's dictionary.

    Each line of ``jieba/dict.txt`` is ``word frequency part-of-speech``; a character's mass
    is the summed frequency of the words it occurs in.
    """
    import jieba

    path = os.path.join(os.path.dirname(jieba.__file__), "dict.txt")
    mass: dict[str, int] = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            parts = line.split()
            if len(parts) < 2 or not parts[1].isdigit():
                continue
            frequency = int(parts[1])
            for char in parts[0]:
                if _is_han(char):
                    mass[char] = mass.get(char, 0) + frequency
    total = sum(mass.values())
    common: set[str] = set()
    covered = 0
    for char, value in sorted(mass.items(), key=lambda item: (-item[1], item[0])):
        if covered >= COMMON_MASS * total:
            break
        common.add(char)
        covered += value
    return frozenset(common)


@functools.lru_cache(maxsize=1)
def _to_simplified() -> Callable[[str], str]:
    import opencc

    return opencc.OpenCC("t2s").convert


def _is_han(char: str) -> bool:
    code = ord(char)
    return (
        0x4E00 <= code <= 0x9FFF  # CJK Unified Ideographs
        or 0x3400 <= code <= 0x4DBF  # Extension A
        or 0xF900 <= code <= 0xFAFF  # Compatibility Ideographs
        or 0x20000 <= code <= 0x323AF  # Extensions B-H
    )


def _plausibility(text: str) -> float:
    """Share of non-ASCII, non-space characters that are common Chinese characters/symbols.

    The text is converted to simplified script first. Text without such characters
    (pure ASCII) scores 1.0.
    """
    sample = _to_simplified()(text[:SCORE_SAMPLE_CHARS])
    common = _common_hanzi()
    scored = good = 0
    for char in sample:
        if char < "\x80" or char.isspace():
            continue
        scored += 1
        if char in common or char in _COMMON_SYMBOLS:
            good += 1
    return good / scored if scored else 1.0


def canonical_encoding(name: str) -> str:
    """The canonical Python codec name of an encoding name.

    Parameters
    ----------
    name : str
        An encoding name or alias (``"UTF8"``, ``"gbk"``, ...).

    Returns
    -------
    str
        The name :func:`codecs.lookup` gives it.

    Raises
    ------
    ValueError
        If ``name`` is not a known encoding.

    Examples
    --------
    >>> canonical_encoding("UTF8"), canonical_encoding("Big5")
    ('utf-8', 'big5')
    """
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise ValueError(f"unknown encoding {name!r}") from None


def _strict_decode(data: bytes, encoding: str) -> tuple[str | None, str]:
    """Decode strictly; return (text, "") or (None, why it failed)."""
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        return None, f"{exc.reason} at byte {exc.start}"
    match = _CONTROL_CHARS.search(text)
    if match:
        return None, f"control character U+{ord(match.group()):04X} at character {match.start()}"
    return text, ""


def normalise_newlines(text: str) -> str:
    """``text`` with its CRLF and CR line ends replaced by ``\\n``.

    Parameters
    ----------
    text : str
        Decoded text.

    Returns
    -------
    str
        The same text with every line end a ``\\n``.

    Examples
    --------
    >>> normalise_newlines("一\\r\\n二\\r三\\n")
    '一\\n二\\n三\\n'
    """
    return _NEWLINES.sub("\n", text)


def binary_kind(data: bytes) -> str | None:
    """The binary format the bytes start with (``"a PDF document"``, ...), or ``None``.

    Parameters
    ----------
    data : bytes
        The raw bytes of a file (only its first bytes matter).

    Returns
    -------
    str or None
        A description of the format whose signature (:data:`BINARY_SIGNATURES`) the bytes
        start with, or ``None`` when they start with none of them.

    Examples
    --------
    >>> binary_kind(b"%PDF-1.4\\n...")
    'a PDF document'
    >>> binary_kind("开发区".encode("utf-8")) is None
    True
    """
    for signature, kind in BINARY_SIGNATURES:
        if data.startswith(signature):
            return kind
    return None


class _ReplacementBudget:
    """Counts the invalid byte sequences a decoder replaces; gives up above ``limit`` bytes."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.bytes = 0
        self.places = 0
        self.first = -1


_BUDGET = threading.local()
_COUNTED_REPLACE = "policytopics.decoding.counted-replace"


def _counted_replace(error: UnicodeError) -> tuple[str, int]:
    budget: _ReplacementBudget | None = getattr(_BUDGET, "current", None)
    if budget is None or not isinstance(error, UnicodeDecodeError):
        raise error
    budget.bytes += error.end - error.start
    budget.places += 1
    if budget.first < 0:
        budget.first = error.start
    if budget.bytes > budget.limit:
        raise error
    return REPLACEMENT_CHAR, error.end


codecs.register_error(_COUNTED_REPLACE, _counted_replace)


def _replacing_decode(
    data: bytes, codec: str, offset: int, limit: int
) -> tuple[str | None, _ReplacementBudget, str]:
    """Decode ``data[offset:]`` replacing at most ``limit`` invalid bytes by U+FFFD.

    Returns (text or None, the budget with what was replaced, why it failed).
    """
    budget = _ReplacementBudget(limit)
    previous = getattr(_BUDGET, "current", None)
    _BUDGET.current = budget
    try:
        text = data[offset:].decode(codec, _COUNTED_REPLACE)
    except UnicodeDecodeError:
        return None, budget, f"more than {limit} invalid bytes ({MAX_REPLACED_SHARE:.0%} of the file)"
    finally:
        _BUDGET.current = previous
    budget.first += offset if budget.first >= 0 else 0
    match = _CONTROL_CHARS.search(text)
    if match:
        why = f"control character U+{ord(match.group()):04X} at character {match.start()}"
        return None, budget, why
    return text, budget, ""


def _repair_note(budget: _ReplacementBudget, encoding: str) -> str:
    plural = "s" if budget.bytes != 1 else ""
    places = f"{budget.places} place{'s' if budget.places != 1 else ''}"
    return (
        f"{budget.bytes} invalid byte{plural} in {places} (first at byte {budget.first}) "
        f"are not valid {encoding}; each run of them was replaced by U+FFFD"
    )


_BOM_CODECS = {
    codecs.BOM_UTF8: "utf-8",
    codecs.BOM_UTF16_LE: "utf-16-le",
    codecs.BOM_UTF16_BE: "utf-16-be",
}


def decode_bytes_repairing(
    data: bytes,
    encodings: list[str],
    *,
    min_plausibility: float = MIN_PLAUSIBILITY,
    max_replaced_share: float = MAX_REPLACED_SHARE,
) -> tuple[str, str, str, int]:
    """Decode like :func:`decode_bytes`; if no candidate decodes strictly, try a bounded repair.

    A repair decodes with each invalid byte sequence replaced by U+FFFD, and is accepted only
    when at most ``max_replaced_share`` of the bytes are replaced, the result holds no control
    characters, and (without a byte-order mark, which fixes the encoding) the decoding is
    plausible as Chinese text, U+FFFD counting as an uncommon character. Candidates are tried
    as in :func:`decode_bytes`: the byte-order mark's encoding alone; else UTF-8 first, then
    the most plausible of the others. A file in the wrong encoding has far more invalid bytes
    than that and is never "repaired" into mojibake.

    Parameters
    ----------
    data, encodings, min_plausibility
        As :func:`decode_bytes`.
    max_replaced_share : float, optional
        The largest share of the bytes a repair may replace (:data:`MAX_REPLACED_SHARE`).

    Returns
    -------
    text, encoding : str
        As :func:`decode_bytes`.
    repair : str
        "" when the bytes decoded strictly; otherwise how many bytes were replaced, in how
        many places, and where the first was.
    bytes_replaced : int
        The number of bytes replaced by U+FFFD.

    Raises
    ------
    DecodeError
        If neither a strict decoding nor a bounded repair works; the message gives the strict
        failures and why the repair was refused.

    Examples
    --------
    >>> data = "开发区要坚持招商引资，推进项目建设，优化营商环境。".encode("utf-8")
    >>> text, encoding, repair, replaced = decode_bytes_repairing(
    ...     data[:30] + b"\\xff" + data[30:] * 4, ["utf-8", "gb18030"])
    >>> encoding, replaced, text.count("\\ufffd")
    ('utf-8', 1, 1)
    """
    try:
        text, encoding = decode_bytes(data, encodings, min_plausibility=min_plausibility)
    except DecodeError as error:
        strict = str(error)
    else:
        return text, encoding, "", 0
    limit = int(len(data) * max_replaced_share)
    if limit < 1:
        raise DecodeError(f"{strict}; not repaired: too short to repair ({len(data)} bytes)")
    names = list(dict.fromkeys(canonical_encoding(name) for name in encodings))
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            text, budget, why = _replacing_decode(data, _BOM_CODECS[bom], len(bom), limit)
            if text is None:
                raise DecodeError(f"{strict}; not repaired: {why}")
            return normalise_newlines(text), encoding, _repair_note(budget, encoding), budget.bytes

    refusals: list[str] = []
    if any(name in _UTF8_NAMES for name in names):
        text, budget, why = _replacing_decode(data, "utf-8", 0, limit)
        if text is not None:
            score = _plausibility(text)
            if score >= min_plausibility:
                return normalise_newlines(text), "utf-8", _repair_note(budget, "utf-8"), budget.bytes
            why = f"implausible as Chinese text ({score:.2f} < {min_plausibility})"
        refusals.append(f"utf-8 ({why})")
    scored: list[tuple[float, int, str, str, _ReplacementBudget]] = []
    for name in names:
        if name in _UTF8_NAMES:
            continue
        if name in _UTF16_VARIANTS:
            if b"\x00" not in data:
                continue
            variants = _UTF16_VARIANTS[name]
        else:
            variants = (name,)
        for variant in variants:
            text, budget, why = _replacing_decode(data, variant, 0, limit)
            if text is None:
                refusals.append(f"{variant} ({why})")
                continue
            scored.append((_plausibility(text), -len(scored), variant, text, budget))
    if scored:
        score, _, encoding, text, budget = max(scored, key=lambda item: item[:2])
        if score >= min_plausibility:
            return normalise_newlines(text), encoding, _repair_note(budget, encoding), budget.bytes
        refusals.append(f"best repair {encoding} implausible as Chinese text ({score:.2f} < {min_plausibility})")
    raise DecodeError(f"{strict}; not repaired: " + "; ".join(refusals or ["no candidate"]))


def decode_bytes(
    data: bytes, encodings: list[str], *, min_plausibility: float = MIN_PLAUSIBILITY
) -> tuple[str, str]:
    """Decode the bytes of a text file, detecting its encoding among ``encodings``.

    A byte-order mark decides first; then UTF-8 (strict) wins if it is a candidate and
    succeeds; then every other candidate that decodes strictly is scored for plausibility
    as Chinese text and the best one wins (``docs/methods.md``, section 1.1). UTF-16 without a BOM
    is tried (little- and big-endian) only when the bytes contain NUL bytes.

    Parameters
    ----------
    data : bytes
        The raw bytes of a file.
    encodings : list of str
        Candidate encodings in order of preference (Python codec names), e.g.
        ``["utf-8", "gb18030", "big5", "utf-16"]``.
    min_plausibility : float, optional
        The lowest plausibility score (share of common Chinese characters and punctuation
        among non-ASCII characters) a scored candidate must reach.

    Returns
    -------
    text : str
        The decoded text with CRLF and CR line ends replaced by ``\\n``.
    encoding : str
        The codec that decoded it: ``"utf-8"``, ``"utf-8-sig"`` or ``"utf-16"`` (BOM),
        ``"utf-16-le"``/``"utf-16-be"`` (no BOM), or the canonical name of another
        candidate (``"gb18030"``, ``"big5"``, ...).

    Raises
    ------
    DecodeError
        If no candidate decodes the bytes strictly into plausible text; the message names
        every encoding tried and why it failed.
    ValueError
        If a candidate is not a known encoding.

    Examples
    --------
    >>> decode_bytes("开发区\\r\\n".encode("gb18030"), ["utf-8", "gb18030", "big5"])
    ('开发区\\n', 'gb18030')
    >>> decode_bytes("開發區".encode("big5"), ["utf-8", "gb18030", "big5"])
    ('開發區', 'big5')
    """
    names = list(dict.fromkeys(canonical_encoding(name) for name in encodings))
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            text, why = _strict_decode(data, encoding)
            if text is None:
                raise DecodeError(f"starts with a {encoding} byte-order mark but {why}")
            return normalise_newlines(text), encoding

    failures: list[str] = []
    if any(name in _UTF8_NAMES for name in names):
        text, why = _strict_decode(data, "utf-8")
        if text is not None:
            return normalise_newlines(text), "utf-8"
        failures.append(f"utf-8 ({why})")

    scored: list[tuple[float, int, str, str]] = []
    for name in names:
        if name in _UTF8_NAMES:
            continue
        if name in _UTF16_VARIANTS:
            if b"\x00" not in data:
                failures.append(f"{name} (no byte-order mark and no NUL bytes)")
                continue
            variants = _UTF16_VARIANTS[name]
        else:
            variants = (name,)
        for variant in variants:
            text, why = _strict_decode(data, variant)
            if text is None:
                failures.append(f"{variant} ({why})")
                continue
            scored.append((_plausibility(text), -len(scored), variant, text))

    if scored:
        score, _, encoding, text = max(scored)
        if score >= min_plausibility:
            return normalise_newlines(text), encoding
        failures.append(
            f"best decoding {encoding} is implausible as Chinese text "
            f"({score:.2f} < {min_plausibility} common characters)"
        )
    if not names:
        raise DecodeError("no byte-order mark, and no candidate encodings given")
    raise DecodeError(f"not decodable as {', '.join(names)}: " + "; ".join(failures))
