"""Plain records that flow between the pipeline stages.

Every stage is a function from these records to these records, so that each stage can be
called and tested alone::

    ingest -> SourceText -> clean -> CleanedText -> segment -> Document -> Unit

All records are frozen dataclasses holding only built-in types, so they are cheap to
compare in tests and trivial to serialise. A ``Unit`` refers to its document's text instead
of copying its span (see its docstring).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

#: One row of a results table: column name to a cell value.
TableRow = dict[str, int | float | bool | str | None]


@dataclass(frozen=True)
class SourceText:
    """The decoded text of one corpus entry: a ``.txt`` file, or one row of a CSV/JSONL file.

    Attributes
    ----------
    source : str
        Where the text came from, relative to the corpus root, with ``/`` separators:
        ``"000_c653e3a235d9673d.txt"`` or ``"speeches.csv#3"`` (row 3, counted from 1).
    text : str
        The decoded text with line ends normalised to ``\\n``; nothing else is changed.
    encoding : str
        The encoding the bytes were decoded with (``"utf-8"``, ``"utf-8-sig"``,
        ``"gb18030"``, ``"big5"``, ``"utf-16"`` with a BOM, ``"utf-16-le"``/``"utf-16-be"``
        without one), or ``"table"`` for the cells of a CSV/JSONL file.
    metadata : dict of str to str
        Metadata columns of a CSV/JSONL row, or the file's entry in ``corpus.yaml``.
    sha256 : str
        Hash of the raw bytes of the file this text came from (a table's rows share it).
    repair : str
        "" when the entry was used as it is; otherwise what ingestion had to repair and how,
        e.g. ``"3 invalid bytes in 1 place (first at byte 1385) are not valid utf-8;
        each run of them was replaced by U+FFFD"``, or for a CSV row with missing trailing
        cells which ones were read as empty. Reported in ``cleaning_report.json``.
    bytes_replaced : int
        How many bytes of the file were not valid in ``encoding`` and were replaced by
        U+FFFD (0 unless the file was repaired).
    """

    source: str
    text: str
    encoding: str
    metadata: dict[str, str] = field(default_factory=dict)
    sha256: str = ""
    repair: str = ""
    bytes_replaced: int = 0


@dataclass(frozen=True)
class SkippedSource:
    """A corpus entry that was not used, and why (undecodable, empty, unreadable, ...)."""

    source: str
    reason: str


@dataclass(frozen=True)
class IngestResult:
    """What ingestion found: the usable texts, and every entry it skipped with a reason."""

    texts: list[SourceText]
    skipped: list[SkippedSource]

    @property
    def repaired(self) -> list[SourceText]:
        """The texts that were used only after a repair (``SourceText.repair`` says which)."""
        return [text for text in self.texts if text.repair]


@dataclass(frozen=True)
class CleanedText:
    """A source text after cleaning.

    Attributes
    ----------
    source : SourceText
        Where the text came from (name, encoding, hash, metadata, repair), so that
        provenance travels with the result. A cleaned corpus does not keep the raw text:
        :func:`policytopics.clean.clean_source` empties ``source.text`` (the raw corpus
        would otherwise stay in memory for the whole run); re-read the file for it.
    text : str
        The cleaned text.
    removed : dict of str to int
        Characters removed by each cleaning step, keyed by step name, with boilerplate
        counted per rule category, e.g. ``{"strip_pinyin": 5120, "boilerplate.breadcrumb": 42}``.
        Script conversion counts changed characters; ``normalise`` is a net count (it can
        be negative where ``XX年`` becomes ``20XX年``); ``sanitise`` appears when control or
        zero-width characters or lone surrogates were removed from the input.
    chars_in : int
        Characters of the raw text (``source.text`` is empty once cleaned).
    """

    source: SourceText
    text: str
    removed: dict[str, int]
    chars_in: int


@dataclass(frozen=True)
class Document:
    """One speech or report: a whole file, or one of several speeches found in a file.

    Attributes
    ----------
    doc_id : str
        Stable id: the source's file stem, plus ``-NN`` (1-based) when the file holds
        several speeches, e.g. ``"000_c653e3a235d9673d-02"``.
    source : str
        The ``SourceText.source`` it was cut from.
    title : str
        The speech's title ("" when none could be found).
    text : str
        The cleaned text of the speech, without its title line.
    metadata : dict of str to str
        Metadata inherited from the source.
    duplicate_of : str
        ``doc_id`` of the document this one near-duplicates ("" when it is not a duplicate).
        Duplicates are kept in ``documents.csv`` for the record but get no units.
    duplicate_reason : str
        Why it was flagged, e.g. ``"char 5-gram Jaccard 0.97 >= 0.80"``.
    """

    doc_id: str
    source: str
    title: str
    text: str
    metadata: dict[str, str] = field(default_factory=dict)
    duplicate_of: str = ""
    duplicate_reason: str = ""


@dataclass(frozen=True, eq=False)
class Unit:
    """One analysis unit: a paragraph or section of a document carrying one point.

    A unit is a span of its document's text and keeps a reference to that text, not a copy
    of the span: a corpus's units would otherwise hold all of its text a second time (about
    230 MB at 340 MB of UTF-8 Chinese). ``text`` cuts the span on access.

    Attributes
    ----------
    unit_id : str
        ``f"{doc_id}-u{position:04d}"``.
    doc_id : str
        The document it belongs to.
    position : int
        0-based reading order within the document.
    heading : str
        The heading path of the outline sections it sits in, joined by ``" > "``,
        e.g. ``"二、抓住三个重点 > (二)保民生"``; "" before the first heading.
    document_text : str
        The text the unit is a span of (its document's; or the unit's own text when built
        by hand, with the default span).
    start, end : int
        The span of ``document_text`` (``end=None``: to its end).

    Two units are equal when their ids, positions, headings and texts are, whatever text
    they are spans of.

    Examples
    --------
    >>> document = "推进招商引资。保障民生。"
    >>> unit = Unit("d-u0001", "d", 1, "", document, 7, 12)
    >>> unit.text, unit.n_chars
    ('保障民生。', 5)
    >>> unit == Unit("d-u0001", "d", 1, "", "保障民生。")
    True
    """

    unit_id: str
    doc_id: str
    position: int
    heading: str
    document_text: str
    start: int = 0
    end: int | None = None

    def __post_init__(self) -> None:
        end = len(self.document_text) if self.end is None else self.end
        if not 0 <= self.start <= end <= len(self.document_text):
            raise ValueError(f"unit {self.unit_id}: span {self.start}:{self.end} outside its text of {len(self.document_text)} characters")

    @property
    def text(self) -> str:
        """The cleaned text of the unit (a new string each time, unless it is the whole text)."""
        return self.document_text[self.start:self.end]

    @property
    def n_chars(self) -> int:
        """Number of characters of the unit text (counted from the span, without cutting it)."""
        return (len(self.document_text) if self.end is None else self.end) - self.start

    def _key(self) -> tuple[str, str, int, str, str]:
        return self.unit_id, self.doc_id, self.position, self.heading, self.text

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Unit):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (f"Unit(unit_id={self.unit_id!r}, doc_id={self.doc_id!r}, position={self.position!r}, "
                f"heading={self.heading!r}, text={self.text!r})")


class UnitField(Sequence[Any]):
    """One attribute of every unit, read on access (no list of it is made).

    Examples
    --------
    >>> units = [Unit("d-u0000", "d", 0, "", "推进招商。"), Unit("d-u0001", "d", 1, "", "民生。")]
    >>> field = UnitField(units, "n_chars")
    >>> len(field), field[1], field[:2]
    (2, 3, [5, 3])
    """

    def __init__(self, units: Sequence[Unit], name: str) -> None:
        self.units, self.name = units, name

    def __len__(self) -> int:
        return len(self.units)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [getattr(unit, self.name) for unit in self.units[index]]
        return getattr(self.units[index], self.name)


@dataclass(frozen=True, kw_only=True)
class CorpusRecords:
    """What the corpus stages (ingest, clean, segment) produce.

    Attributes
    ----------
    cleaned : list of CleanedText
        Every usable source text after cleaning.
    documents : list of Document
        Every document found, near-duplicates included (flagged by ``duplicate_of``).
    units : list of Unit
        The units of the documents that are not near-duplicates, sorted by ``unit_id``.
    skipped : list of SkippedSource
        The corpus entries that were not used, with the reason.

    Examples
    --------
    >>> CorpusRecords(cleaned=[], documents=[], units=[], skipped=[]).units
    []
    """

    cleaned: list[CleanedText]
    documents: list[Document]
    units: list[Unit]
    skipped: list[SkippedSource]
