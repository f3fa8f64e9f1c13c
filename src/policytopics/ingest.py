"""Ingestion: read a corpus from disk into decoded ``SourceText`` records.

In: a ``CorpusConfig`` naming either

* a **folder** of ``.txt`` files, searched recursively. Hidden files and folders (names
  starting with ``.``) are skipped, other files (``README.md``, ``LICENSE``, the manifest)
  are ignored silently: only ``.txt`` files are corpus. Symbolic links to files are read;
  symbolic links to folders are not followed (so links cannot loop) and are reported as
  skipped. Entries are sorted by their relative POSIX path (NFC-normalised, compared as
  strings), so the order is the same on every machine; or
* a single **table**, a ``.csv`` file (with a header row) or a ``.jsonl`` file (one JSON
  object per line), one text per row in ``text_column``; ``metadata_columns`` (or every
  other column) travel with it as strings, missing values becoming ``""``. A row is named
  ``<file name>#<id>`` by ``id_column``, else by its 1-based row number
  (``speeches.csv#3``).

Out: an ``IngestResult`` holding one ``SourceText`` per usable entry (decoded text with line
ends normalised to ``\\n``, the encoding, metadata, the sha256 of the raw file bytes, and
what had to be repaired, if anything), and one ``SkippedSource`` with a reason per entry that
could not be used: a binary file, undecodable, empty or whitespace-only, unreadable, not a
regular file (a named pipe), a broken symbolic link, a symbolic link loop.

A corpus that cannot be used at all raises ``CorpusError`` with a one-line message naming
the path: a missing path, a path that is neither a folder nor a .csv/.jsonl file, a table
without the text column, a folder without .txt files, a malformed manifest, or a corpus
whose every entry was skipped.

Encoding detection (``decode_bytes``)
-------------------------------------
1. A byte-order mark decides: UTF-8 BOM -> ``utf-8-sig``, UTF-16 LE/BE BOM -> ``utf-16``.
2. UTF-8, decoded strictly, wins whenever it succeeds.
3. Otherwise every other candidate that decodes strictly is scored. UTF-16 without a BOM is
   a candidate only when the bytes contain NUL bytes (which text in UTF-8, GB18030 or Big5
   never does), decoded both little- and big-endian (``utf-16-le``, ``utf-16-be``).
   A decoding that contains control characters (other than tab, line ends, vertical tab
   and form feed) is rejected: those bytes are binary, or read in the wrong encoding.
   The score is the share of the non-ASCII, non-space characters that are common Chinese
   characters or common CJK punctuation, after converting the text to simplified script
   with OpenCC ``t2s``. "Common" means the Han characters that make up 99.5 % of the
   frequency mass of jieba's own dictionary (about 4,300 characters, computed once on first
   use and cached). GB18030 and Big5 each decode much of the other's bytes into valid but
   wrong characters; those are rarely common, so the right decoding scores far higher
   (0.99-1.0 against 0.23-0.27 on the seed and city-report texts re-encoded). The best
   score wins, ties going to the earlier candidate; if even the best scores below
   ``min_plausibility`` (0.5) the bytes are rejected rather than guessed.
4. Bytes that no candidate decodes raise ``DecodeError``, whose message names every
   encoding tried and why it failed. ``decode_bytes`` never replaces a byte.

Binary files and repairs (``read_corpus`` on a folder)
------------------------------------------------------
A ``.txt`` file that starts with the signature of a binary format (PDF, ZIP and the Office
formats built on it, Office 97-2003, RTF, gzip, 7-Zip, RAR, PNG, JPEG, GIF) is skipped as
such, before any decoding is tried. A file that no candidate decodes strictly is *repaired*
when only a few of its bytes are invalid (``decode_bytes_repairing``): each run of invalid
bytes is replaced by U+FFFD (which cleaning's ``drop_mojibake`` then removes), provided at
most ``MAX_REPLACED_SHARE`` (1 %) of the bytes are replaced, the result holds no control
characters and, without a byte-order mark, it is still plausible as Chinese text. The text is
kept, and ``SourceText.repair`` and ``SourceText.bytes_replaced`` say how many bytes were
replaced, in how many places, and where the first was; the run reports it under
``repaired`` in ``cleaning_report.json``. A file in the wrong encoding has far more invalid
bytes and is skipped, never "repaired" into mojibake. A CSV row with fewer cells than the
header is kept with its missing cells empty, and reported the same way. A CSV/JSONL table
itself is decoded strictly: invalid bytes in it are a ``CorpusError`` naming the byte.
Line ends (CRLF, CR) becoming ``\n`` and a byte-order mark being dropped are not repairs:
the text is the same (``SourceText.encoding`` records the BOM).

Manifest (``corpus.yaml`` in the corpus folder, see ``CorpusConfig.manifest``)
-------------------------------------------------------------------------------
A YAML mapping (read with ``yaml.safe_load``), every key optional, no other keys allowed::

    description: What the corpus is.
    source: Where it comes from and how it was obtained.
    files:
      000_c653e3a235d9673d.txt:        # path relative to the corpus folder, with "/"
        description: What this file is.
        source: Where this file comes from.
        metadata:                      # merged into SourceText.metadata
          genre: 年终工作会议讲话
          published: "2023-04-18"

Metadata values must be single values (text, numbers, booleans, dates) and become strings
(``true``/``false`` for booleans, ISO dates, ``""`` for null). An unknown key, a wrong type,
or an entry naming a file that is not a ``.txt`` file of the corpus raises ``CorpusError``
naming the manifest and the key. Files without an entry are fine.

Examples
--------
>>> from policytopics.config import CorpusConfig
>>> result = read_corpus(CorpusConfig(path="seeds"))  # doctest: +SKIP
>>> [(t.source, t.encoding) for t in result.texts][:1]  # doctest: +SKIP
[('000_c653e3a235d9673d.txt', 'utf-8')]
"""

from __future__ import annotations

import codecs
import csv
import datetime
import errno
import functools
import hashlib
import io
import json
import os
import re
import stat
import threading
import unicodedata
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from policytopics.config import CorpusConfig
from policytopics.errors import PolicytopicsError
from policytopics.records import IngestResult, SkippedSource, SourceText

__all__ = [
    "CorpusError",
    "DecodeError",
    "Manifest",
    "ManifestEntry",
    "binary_kind",
    "decode_bytes",
    "decode_bytes_repairing",
    "load_manifest",
    "read_corpus",
]

Progress = Callable[[int, int, str], None]

#: Encoding name reported for the rows of a CSV/JSONL table (see ``SourceText.encoding``).
TABLE_ENCODING = "table"
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

_TABLE_SUFFIXES = (".csv", ".jsonl")
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


class CorpusError(PolicytopicsError):
    """A corpus that cannot be read at all; the one-line message names the path."""


class DecodeError(PolicytopicsError):
    """Bytes that no candidate encoding decodes into plausible text; names the encodings."""


# --------------------------------------------------------------------------------------
# Encoding detection
# --------------------------------------------------------------------------------------


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


def _canonical_encoding(name: str) -> str:
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


def _normalise_newlines(text: str) -> str:
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
_COUNTED_REPLACE = "policytopics.ingest.counted-replace"


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
    names = list(dict.fromkeys(_canonical_encoding(name) for name in encodings))
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            text, budget, why = _replacing_decode(data, _BOM_CODECS[bom], len(bom), limit)
            if text is None:
                raise DecodeError(f"{strict}; not repaired: {why}")
            return _normalise_newlines(text), encoding, _repair_note(budget, encoding), budget.bytes

    refusals: list[str] = []
    if any(name in _UTF8_NAMES for name in names):
        text, budget, why = _replacing_decode(data, "utf-8", 0, limit)
        if text is not None:
            score = _plausibility(text)
            if score >= min_plausibility:
                return _normalise_newlines(text), "utf-8", _repair_note(budget, "utf-8"), budget.bytes
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
            return _normalise_newlines(text), encoding, _repair_note(budget, encoding), budget.bytes
        refusals.append(f"best repair {encoding} implausible as Chinese text ({score:.2f} < {min_plausibility})")
    raise DecodeError(f"{strict}; not repaired: " + "; ".join(refusals or ["no candidate"]))


def decode_bytes(
    data: bytes, encodings: list[str], *, min_plausibility: float = MIN_PLAUSIBILITY
) -> tuple[str, str]:
    """Decode the bytes of a text file, detecting its encoding among ``encodings``.

    A byte-order mark decides first; then UTF-8 (strict) wins if it is a candidate and
    succeeds; then every other candidate that decodes strictly is scored for plausibility
    as Chinese text and the best one wins (see the module docstring). UTF-16 without a BOM
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
    names = list(dict.fromkeys(_canonical_encoding(name) for name in encodings))
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            text, why = _strict_decode(data, encoding)
            if text is None:
                raise DecodeError(f"starts with a {encoding} byte-order mark but {why}")
            return _normalise_newlines(text), encoding

    failures: list[str] = []
    if any(name in _UTF8_NAMES for name in names):
        text, why = _strict_decode(data, "utf-8")
        if text is not None:
            return _normalise_newlines(text), "utf-8"
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
            return _normalise_newlines(text), encoding
        failures.append(
            f"best decoding {encoding} is implausible as Chinese text "
            f"({score:.2f} < {min_plausibility} common characters)"
        )
    if not names:
        raise DecodeError("no byte-order mark, and no candidate encodings given")
    raise DecodeError(f"not decodable as {', '.join(names)}: " + "; ".join(failures))


# --------------------------------------------------------------------------------------
# Manifest
# --------------------------------------------------------------------------------------


def _metadata_value(value: Any) -> Any:
    """Turn one YAML scalar into the string that travels as metadata."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return value
    raise ValueError(f"expected a single value (text, number, date), got {type(value).__name__}")


MetadataValue = Annotated[str, BeforeValidator(_metadata_value)]


class ManifestEntry(BaseModel):
    """One file's entry in a corpus manifest."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = ""
    source: str = ""
    metadata: dict[str, MetadataValue] = Field(default_factory=dict)


class Manifest(BaseModel):
    """A corpus manifest: what the corpus is, where it comes from, and per-file entries."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = ""
    source: str = ""
    files: dict[str, ManifestEntry] = Field(default_factory=dict)


def _format_location(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        elif str(part).isidentifier():
            parts.append(f".{part}" if parts else str(part))
        else:
            parts.append(f"[{str(part)!r}]")
    return "".join(parts) or "(top level)"


def _yaml_problem(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error).split("\n")[0] or "syntax error"
    if mark is None:
        return problem
    return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"


def load_manifest(path: str | Path) -> Manifest:
    """Load and validate a corpus manifest (format in the module docstring).

    Parameters
    ----------
    path : str or Path
        The manifest YAML file.

    Returns
    -------
    Manifest
        The validated manifest; metadata values are strings. An empty file is an empty
        manifest.

    Raises
    ------
    CorpusError
        If the file cannot be read, is not YAML, or does not follow the format; the
        message names the file and the offending key.

    Examples
    --------
    >>> manifest = load_manifest("seeds/corpus.yaml")  # doctest: +SKIP
    >>> manifest.files["004_22f2e348fe793403.txt"].metadata["published"]  # doctest: +SKIP
    '2023-04-22'
    """
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_bytes().decode("utf-8"))
    except OSError as exc:
        raise CorpusError(f"{path}: cannot read manifest ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        reason = f"{exc.reason} at byte {exc.start}"
        raise CorpusError(f"{path}: manifest is not UTF-8 ({reason})") from None
    except yaml.YAMLError as exc:
        raise CorpusError(f"{path}: manifest is not valid YAML ({_yaml_problem(exc)})") from None
    if data is None:
        return Manifest()
    if not isinstance(data, dict):
        raise CorpusError(
            f"{path}: expected a mapping with description, source and files, "
            f"got {type(data).__name__}"
        )
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        problems = []
        for item in exc.errors():
            key = _format_location(item["loc"])
            if item["type"] == "extra_forbidden":
                problems.append(f"unknown key {key}")
            else:
                message = item["msg"].removeprefix("Value error, ")
                given = repr(item.get("input"))
                given = given if len(given) <= 60 else given[:57] + "..."
                problems.append(f"key {key}: {message} (got {given})")
        raise CorpusError(f"{path}: invalid manifest: " + "; ".join(problems)) from None


def _manifest_metadata(
    manifest_path: Path, manifest: Manifest, corpus_files: set[str], all_files: set[str]
) -> dict[str, dict[str, str]]:
    """Map each corpus file to its manifest metadata, checking every entry names one."""
    metadata: dict[str, dict[str, str]] = {}
    for key, entry in manifest.files.items():
        name = unicodedata.normalize("NFC", key)
        posix = PurePosixPath(name)
        if "\\" in name or posix.is_absolute() or ".." in posix.parts:
            raise CorpusError(
                f"{manifest_path}: key files[{key!r}]: expected a path relative to the "
                "corpus folder with '/' separators"
            )
        name = posix.as_posix()
        if name not in corpus_files:
            why = (
                "is not a .txt corpus file (hidden, or another kind of file)"
                if name in all_files
                else "names a file that does not exist in the corpus folder"
            )
            raise CorpusError(f"{manifest_path}: key files[{key!r}] {why}")
        metadata[name] = dict(entry.metadata)
    return metadata


# --------------------------------------------------------------------------------------
# Folders of .txt files
# --------------------------------------------------------------------------------------


def _relative(root: str, path: str) -> str:
    return unicodedata.normalize("NFC", Path(os.path.relpath(path, root)).as_posix())


def _has_surrogates(text: str) -> bool:
    return any(0xD800 <= ord(char) <= 0xDFFF for char in text)


def _scan_folder(root: str) -> tuple[list[tuple[str, str]], list[SkippedSource], set[str]]:
    """Find the corpus files of a folder.

    Returns the (relative path, full path) of every non-hidden ``.txt`` file, the
    entries skipped while walking (unreadable folders, folder symlinks), and the relative
    paths of every file seen (for checking the manifest).
    """
    found: list[tuple[str, str]] = []
    skipped: list[SkippedSource] = []
    seen: set[str] = set()

    def on_error(error: OSError) -> None:
        failed = error.filename if isinstance(error.filename, str) else root
        if os.path.abspath(failed) == os.path.abspath(root):
            raise CorpusError(f"{root}: cannot read corpus folder ({error.strerror})")
        reason = f"folder unreadable ({error.strerror})"
        skipped.append(SkippedSource(_relative(root, failed) + "/", reason))

    for dirpath, dirnames, filenames in os.walk(root, onerror=on_error, followlinks=False):
        kept = []
        for name in dirnames:
            full = os.path.join(dirpath, name)
            seen.add(_relative(root, full))
            if name.startswith("."):
                continue
            if os.path.islink(full):
                reason = "symbolic link to a folder; not followed (so links cannot loop)"
                skipped.append(SkippedSource(_relative(root, full) + "/", reason))
                continue
            kept.append(name)
        dirnames[:] = kept
        for name in filenames:
            full = os.path.join(dirpath, name)
            relative = _relative(root, full)
            seen.add(relative)
            if name.startswith(".") or not name.lower().endswith(".txt"):
                continue
            found.append((relative, full))
    found.sort(key=lambda item: item[0])
    return found, skipped, seen


def _read_bytes(path: str) -> bytes | str:
    """The bytes of a file, or the reason they cannot be read."""
    try:
        info = os.stat(path)  # follows symbolic links
    except FileNotFoundError:
        if os.path.islink(path):
            return f"broken symbolic link (target {os.readlink(path)!r} does not exist)"
        return "file disappeared while reading the corpus"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symbolic link loop (the link resolves to itself)"
        return f"unreadable ({exc.strerror})"
    if not stat.S_ISREG(info.st_mode):
        return "not a regular file"
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except PermissionError:
        return "unreadable (permission denied)"
    except OSError as exc:
        return f"unreadable ({exc.strerror})"


def _read_text_file(path: str, encodings: list[str]) -> tuple[str, str, str, str, int] | str:
    """Decode one corpus file: (text, encoding, sha256, repair, bytes replaced), or the reason
    it is skipped."""
    data = _read_bytes(path)
    if isinstance(data, str):
        return data
    if not data:
        return "empty file (0 bytes)"
    kind = binary_kind(data)
    if kind is not None:
        return f"binary file, not text: {kind} ({len(data)} bytes)"
    try:
        text, encoding, repair, replaced = decode_bytes_repairing(data, encodings)
    except DecodeError as exc:
        return str(exc)
    if not text.strip():
        return f"no text: only whitespace ({len(data)} bytes, {encoding})"
    return text, encoding, hashlib.sha256(data).hexdigest(), repair, replaced


def _read_folder(root: str, config: CorpusConfig, progress: Progress | None) -> IngestResult:
    found, skipped, seen = _scan_folder(root)
    if not found:
        raise CorpusError(f"{root}: no .txt files in the corpus folder (hidden ones are ignored)")

    metadata: dict[str, dict[str, str]] = {}
    if config.manifest:
        manifest_path = Path(root) / config.manifest
        if manifest_path.is_file():
            manifest = load_manifest(manifest_path)
            metadata = _manifest_metadata(
                manifest_path, manifest, {relative for relative, _ in found}, seen
            )

    texts: list[SourceText] = []
    for done, (relative, full) in enumerate(found, start=1):
        if _has_surrogates(relative):
            shown = relative.encode("utf-8", "backslashreplace").decode("ascii", "replace")
            skipped.append(SkippedSource(shown, "file name is not valid UTF-8"))
        else:
            outcome = _read_text_file(full, config.encodings)
            if isinstance(outcome, str):
                skipped.append(SkippedSource(relative, outcome))
            else:
                text, encoding, digest, repair, replaced = outcome
                texts.append(SourceText(
                    relative, text, encoding, dict(metadata.get(relative, {})), digest, repair, replaced
                ))
        if progress is not None:
            progress(done, len(found), relative)
    _require_some_texts(texts, skipped, f"{root}: all {len(found)} .txt files were skipped")
    return IngestResult(texts=texts, skipped=skipped)


# --------------------------------------------------------------------------------------
# CSV / JSONL tables
# --------------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    """A table value as metadata/text: strings as they are, JSON values as JSON, null as ""."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _csv_records(text: str, path: str) -> tuple[list[str], list[dict[str, str] | str], dict[int, str]]:
    """Columns and rows of a CSV text; a row is a mapping, or the reason it is unusable.

    The third value notes, by 0-based row index, the rows that had fewer cells than the
    header: their missing trailing cells are read as empty, and the repair is reported.
    """
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None:
            raise CorpusError(f"{path}: empty CSV file (no header row)")
        duplicated = sorted({name for name in header if header.count(name) > 1})
        if duplicated:
            raise CorpusError(f"{path}: duplicate CSV column(s) {', '.join(duplicated)}")
        rows: list[dict[str, str] | str] = []
        short: dict[int, str] = {}
        for cells in reader:
            if not cells:
                continue  # a blank line
            if len(cells) > len(header):
                rows.append(f"{len(cells)} cells but the header has {len(header)} columns")
                continue
            if len(cells) < len(header):
                missing = ", ".join(header[len(cells):])
                short[len(rows)] = (
                    f"the row has {len(cells)} of the header's {len(header)} cells (line "
                    f"{reader.line_num}); the missing cells ({missing}) were read as empty"
                )
                cells = cells + [""] * (len(header) - len(cells))
            rows.append(dict(zip(header, cells, strict=True)))
    except csv.Error as exc:
        raise CorpusError(f"{path}: not valid CSV (line {reader.line_num}: {exc})") from None
    return header, rows, short


def _jsonl_records(text: str) -> tuple[list[str], list[dict[str, str] | str]]:
    """Columns (keys in order of first appearance) and rows of a JSONL text."""
    columns: dict[str, None] = {}
    rows: list[dict[str, str] | str] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            rows.append(f"line {number} is not valid JSON ({exc.msg})")
            continue
        if not isinstance(record, dict):
            rows.append(f"line {number} is not a JSON object")
            continue
        columns.update(dict.fromkeys(record))
        rows.append({key: _cell(value) for key, value in record.items()})
    return list(columns), rows


def _read_table(path: str, config: CorpusConfig, progress: Progress | None) -> IngestResult:
    data = _read_bytes(path)
    if isinstance(data, str):
        raise CorpusError(f"{path}: {data}")
    kind = binary_kind(data)
    if kind is not None:
        raise CorpusError(f"{path}: binary file, not a {path.rsplit('.', 1)[-1].upper()} table: {kind}")
    digest = hashlib.sha256(data).hexdigest()
    try:
        text, _ = decode_bytes(data, config.encodings)
    except DecodeError as exc:
        raise CorpusError(f"{path}: {exc}") from None
    short: dict[int, str] = {}
    if path.lower().endswith(".csv"):
        columns, rows, short = _csv_records(text, path)
    else:
        columns, rows = _jsonl_records(text)

    if not rows:
        raise CorpusError(f"{path}: the table has no rows")
    if not columns:
        raise CorpusError(f"{path}: no valid rows (first: {rows[0]})")
    if config.text_column not in columns:
        raise CorpusError(
            f"{path}: no text column {config.text_column!r} (columns: {', '.join(columns)})"
        )
    if config.id_column is not None and config.id_column not in columns:
        raise CorpusError(
            f"{path}: no id column {config.id_column!r} (columns: {', '.join(columns)})"
        )
    if config.metadata_columns is None:
        metadata_columns = [name for name in columns if name != config.text_column]
    else:
        missing = [name for name in config.metadata_columns if name not in columns]
        if missing:
            raise CorpusError(
                f"{path}: no metadata column(s) {', '.join(missing)} "
                f"(columns: {', '.join(columns)})"
            )
        metadata_columns = list(config.metadata_columns)

    name = os.path.basename(path)
    texts: list[SourceText] = []
    skipped: list[SkippedSource] = []
    ids: dict[str, int] = {}
    for number, row in enumerate(rows, start=1):
        source = f"{name}#{number}"
        if isinstance(row, dict) and config.id_column is not None:
            row_id = row.get(config.id_column, "").strip()
            if not row_id:
                raise CorpusError(f"{path}: row {number} has an empty id ({config.id_column!r})")
            if row_id in ids:
                raise CorpusError(
                    f"{path}: id {row_id!r} ({config.id_column!r}) is used by rows "
                    f"{ids[row_id]} and {number}"
                )
            ids[row_id] = number
            source = f"{name}#{row_id}"
        note = short.get(number - 1, "")
        if isinstance(row, str):
            skipped.append(SkippedSource(source, row))
        elif config.text_column not in row:
            skipped.append(SkippedSource(source, f"no {config.text_column!r} field"))
        elif not row[config.text_column].strip():
            why = f"empty text in column {config.text_column!r}"
            skipped.append(SkippedSource(source, f"{why} ({note})" if note else why))
        else:
            metadata = {key: _normalise_newlines(row.get(key, "")) for key in metadata_columns}
            body = _normalise_newlines(row[config.text_column])
            texts.append(SourceText(source, body, TABLE_ENCODING, metadata, digest, note))
        if progress is not None:
            progress(number, len(rows), source)
    _require_some_texts(texts, skipped, f"{path}: all {len(rows)} rows were skipped")
    return IngestResult(texts=texts, skipped=skipped)


# --------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------



def _require_some_texts(texts: list[SourceText], skipped: list[SkippedSource], message: str) -> None:
    """Raise ``CorpusError(message + first skip reason)`` when nothing usable was found."""
    if not texts:
        first = skipped[0]
        raise CorpusError(f"{message} (first: {first.source}: {first.reason})")

def read_corpus(config: CorpusConfig, progress: Progress | None = None) -> IngestResult:
    """Read a corpus folder of ``.txt`` files, or a ``.csv``/``.jsonl`` table, into texts.

    Parameters
    ----------
    config : CorpusConfig
        Where the corpus is (``path``) and how to read it (``encodings``, ``manifest``,
        and for tables ``text_column``, ``id_column``, ``metadata_columns``).
    progress : callable, optional
        Called after each entry (file or table row) as ``progress(done, total, source)``.

    Returns
    -------
    IngestResult
        The usable texts in deterministic order (sorted relative paths, or row order), and
        the skipped entries with their reasons.

    Raises
    ------
    CorpusError
        If the corpus cannot be used at all (see the module docstring); the one-line
        message names the path.

    Examples
    --------
    >>> from policytopics.config import CorpusConfig
    >>> result = read_corpus(CorpusConfig(path="seeds"))  # doctest: +SKIP
    >>> len(result.texts), result.texts[0].metadata["genre"]  # doctest: +SKIP
    (5, '年终工作会议讲话')
    """
    path = config.path
    if not config.encodings:
        raise CorpusError(f"{path}: corpus.encodings is empty; give at least one encoding")
    for name in config.encodings:
        try:
            _canonical_encoding(name)
        except ValueError:
            raise CorpusError(f"{path}: corpus.encodings: unknown encoding {name!r}") from None
    if os.path.isdir(path):
        return _read_folder(path, config, progress)
    if not os.path.lexists(path):
        raise CorpusError(f"{path}: corpus not found (no such file or folder)")
    if not os.path.isfile(path):
        raise CorpusError(f"{path}: corpus is not a folder or a regular file")
    if not path.lower().endswith(_TABLE_SUFFIXES):
        raise CorpusError(f"{path}: corpus must be a folder of .txt files or a .csv/.jsonl file")
    return _read_table(path, config, progress)
