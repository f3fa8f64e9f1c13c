"""Segmentation: cleaned texts -> documents -> analysis units.

In: ``CleanedText`` records (simplified script, boilerplate removed, full-width Chinese
punctuation, line structure kept) and the ``segment`` section of the config
(``SegmentConfig``). Out: ``Document`` records (one per speech, near-duplicates flagged)
and ``Unit`` records (one per paragraph or outline section, each carrying one point).

The three steps are pure functions over the records and can be called alone:

``split_documents``
    Cuts a text holding several speeches (``某某讲话 篇1``, ``第一篇：标题``) into
    documents, each with its own title; for a single speech, finds the title (leading
    heading-like lines, or a title glued before a salutation such as ``同志们：``).
``mark_duplicates``
    Flags near-duplicate documents (character 5-gram shingles; Jaccard, or containment
    for truncated copies) against the earliest kept document.
``segment_document``
    Cuts a document into units at paragraphs and outline markers (``一、`` > ``（一）`` >
    ``1、`` > ``（1）`` > ``一是``/``第一，`` > ``①``), cuts units that are too long at inner
    markers, sentence ends, clause ends and finally by length, merges fragments that are
    too short, and gives every unit its heading path.

Text-preservation rule (what a property test can rely on)
---------------------------------------------------------
Every ``Unit.text`` is an exact slice of ``Document.text``, the slices are in reading
order and do not overlap, and they start and end with a non-whitespace character. What
lies between two consecutive units (and before the first / after the last) is only
whitespace and *removed headings*: a standalone heading line (``一、充分肯定成绩，增强发展
信心``) or a heading with no body before the next marker (``一、上半年工作基本情况`` directly
followed by ``（一）...``). Each removed heading is, verbatim, one component of the heading
path of the unit that follows it; a heading with no unit under it (the next heading is of
the same or a higher level, or the document ends) is a unit of its own, so only
whitespace follows the last unit. Every heading component is itself an exact slice of the
document text. ``Document.text`` is the speech without its title (and, in a collection,
without its header and title-repeat lines), with outer whitespace stripped.

Patterns (speech headers, salutations, outline markers, heading/body boundaries) live in
``resources/segment.yaml``.
"""

from __future__ import annotations

import bisect
import math
import re
from collections import defaultdict
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
import yaml

from policytopics.config import SegmentConfig
from policytopics.records import CleanedText, Document, Unit

__all__ = [
    "split_documents",
    "mark_duplicates",
    "segment_document",
    "segment_corpus",
    "shingle_similarity",
]

# ---------------------------------------------------------------------------------------
# Resources and constants
# ---------------------------------------------------------------------------------------


def _load_resource() -> dict[str, Any]:
    text = resources.files("policytopics").joinpath("resources/segment.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict):  # pragma: no cover - broken package
        raise RuntimeError("resources/segment.yaml: expected a mapping")
    return data


_RES = _load_resource()

#: Longest line (characters) that can be a title line of a single speech.
TITLE_LINE_MAX_CHARS = 50
#: At most this many leading lines form a title block.
TITLE_MAX_LINES = 5
#: Longest glued title before a salutation.
GLUED_TITLE_MAX_CHARS = 80
#: Inline headings without a sentence end are cut to at most this many characters.
INLINE_HEADING_MAX_CHARS = 40
#: Shingle length for near-duplicate detection.
SHINGLE_K = 5
#: Consistent sampling rate of shingles in the candidate index (power of two).
SAMPLE_MOD = 16
#: Shingles shared by more kept documents than this are ignored when looking for
#: candidates (generic phrases of the genre); exact verification still uses all shingles.
POSTING_CAP = 200
#: A pair is verified exactly when its sampled overlap estimate reaches this fraction of
#: the threshold.
CANDIDATE_FACTOR = 0.5
#: The containment rule only applies when the shorter text has at least this many
#: shingles (so that short generic fragments are not "contained" in long speeches).
MIN_CONTAINMENT_SHINGLES = 100

_SPACE = " \t\r\n\u3000\xa0"
_WS_RE = re.compile(r"[\s\u3000\xa0]+")

_HEADER_RES = [re.compile(p) for p in _RES["speech_headers"]]
_TITLE_REPEAT_SUFFIX_RE = re.compile(_RES["title_repeat_suffix"])
_SENTENCE_PUNCT = frozenset(_RES["sentence_punctuation"])
_SALUTATION_RE = re.compile(
    r"(?P<title>[^\n%s]{2,%d}?)[ \t\u3000]*(?=(?:%s))"
    % (
        re.escape(_RES["sentence_punctuation"]),
        GLUED_TITLE_MAX_CHARS,
        "|".join(re.escape(s) for s in _RES["salutations"]),
    )
)
_SALUTATION_LINE_RE = re.compile(
    r"(?:%s)" % "|".join(re.escape(s) for s in _RES["salutations"])
)
_SENTENCE_ENDS = _RES["sentence_ends"]
_CLAUSE_ENDS = _RES["clause_ends"]
_CLOSING = _RES["closing_marks"]
_SENTENCE_CUT_RE = re.compile(
    "[%s]+[%s]*" % (re.escape(_SENTENCE_ENDS), re.escape(_CLOSING))
)
_CLAUSE_CUT_RE = re.compile("[%s]+[%s]*" % (re.escape(_CLAUSE_ENDS), re.escape(_CLOSING)))
_HEADING_STOP_RE = re.compile("[。！？；：!?;:\\s\u3000]")
_BODY_START_RE = re.compile(
    "(?:%s)(?=[，,])" % "|".join(re.escape(s) for s in _RES["heading_body_starts"])
)
_STRONG_BEFORE = frozenset("。！？；：!?;:" + _CLOSING)
_WEAK_BEFORE = _STRONG_BEFORE | frozenset("，,、")


@dataclass(frozen=True)
class _MarkerKind:
    kind: str
    rank: int
    boundary: str
    inline_heading: bool
    regex: re.Pattern[str]


_MARKER_KINDS = [
    _MarkerKind(
        kind=m["kind"],
        rank=int(m["rank"]),
        boundary=m["boundary"],
        inline_heading=bool(m["inline_heading"]),
        regex=re.compile(m["pattern"]),
    )
    for m in _RES["outline_markers"]
]
#: Kinds taken inside running text even when their run has one member only.
_SINGLE_OK = frozenset(("cn_dun", "cn_paren"))

_CN_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
              "七": 7, "八": 8, "九": 9}
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩"


def _ordinal_value(text: str) -> int:
    """Value of an ordinal written in Arabic digits, Chinese numerals (1-99) or ①-⑩."""
    if text.isdecimal():  # not isdigit(): "①".isdigit() is True but int("①") fails
        return int(text)
    if len(text) == 1 and text in _CIRCLED:
        return _CIRCLED.index(text) + 1
    if "十" in text:
        tens, _, units = text.partition("十")
        return (_CN_DIGITS.get(tens, 1) if tens else 1) * 10 + (_CN_DIGITS.get(units, 0))
    return _CN_DIGITS.get(text, 0)


# ---------------------------------------------------------------------------------------
# Documents
# ---------------------------------------------------------------------------------------


def source_stem(source: str) -> str:
    """The doc_id stem of a source: extension dropped, ``/`` -> ``__``, ``#`` -> ``-r``.

    Examples
    --------
    >>> source_stem("000_c653e3a235d9673d.txt")
    '000_c653e3a235d9673d'
    >>> source_stem("2019/speeches.csv#3")
    '2019__speeches-r3'
    """
    base, sep, row = source.partition("#")
    base = re.sub(r"\.[A-Za-z0-9]{1,6}$", "", base)
    stem = base.replace("/", "__")
    return f"{stem}-r{row}" if sep else stem


def _lines(text: str) -> list[tuple[int, int]]:
    """(start, end) of every line of ``text`` (without the newline)."""
    spans = []
    start = 0
    for line in text.split("\n"):
        spans.append((start, start + len(line)))
        start += len(line) + 1
    return spans


def _find_headers(text: str) -> list[tuple[int, int, int, str]]:
    """Speech header lines as (line_start, line_end, number, title), or [] if none.

    The header form used is the one that numbers the longest run 1, 2, 3, ... (at least
    two speeches); header lines outside that run are ignored.
    """
    best: list[tuple[int, int, int, str]] = []
    for regex in _HEADER_RES:
        found = []
        for start, end in _lines(text):
            match = regex.fullmatch(text[start:end])
            if match:
                found.append((start, end, _ordinal_value(match["num"]), match["title"].strip()))
        run: list[tuple[int, int, int, str]] = []
        for header in found:
            if header[2] == len(run) + 1:
                run.append(header)
        if len(run) >= 2 and len(run) > len(best):
            best = run
    return best


def _squash(text: str) -> str:
    return _WS_RE.sub("", text)


def _is_title_line(line: str) -> bool:
    """A short heading-like line: no sentence punctuation, no outline marker."""
    line = line.strip(_SPACE)
    if not line or len(line) > TITLE_LINE_MAX_CHARS:
        return False
    if any(ch in _SENTENCE_PUNCT for ch in line):
        return False
    if _SALUTATION_LINE_RE.match(line) or any(r.fullmatch(line) for r in _HEADER_RES):
        return False
    return not any(k.regex.match(line) for k in _MARKER_KINDS)


def _skip_blank(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _SPACE:
        pos += 1
    return pos


def _next_line(text: str, pos: int) -> tuple[int, int]:
    end = text.find("\n", pos)
    return pos, (len(text) if end < 0 else end)


def _single_title(text: str) -> tuple[str, int]:
    """Title of a single speech and the offset where its body starts."""
    pos = _skip_blank(text, 0)
    title_lines: list[str] = []
    body = pos
    while pos < len(text) and len(title_lines) < TITLE_MAX_LINES:
        start, end = _next_line(text, pos)
        if not _is_title_line(text[start:end]):
            break
        title_lines.append(text[start:end].strip(_SPACE))
        pos = _skip_blank(text, end)
        body = pos
    if title_lines and body < len(text):
        return " ".join(title_lines), body
    start = _skip_blank(text, 0)
    match = _SALUTATION_RE.match(text, start)
    if (match and len(match["title"].strip(_SPACE)) >= 4
            and not _SALUTATION_LINE_RE.match(text, start)):
        return match["title"].strip(_SPACE), _skip_blank(text, match.end())
    return "", start


def _header_title(header_line: str, title: str) -> str:
    """The header line as a title (whitespace runs folded), with the title appended when
    the header line does not carry it (a bare "第三篇" with the title on the next line)."""
    line = " ".join(header_line.split())
    return line if _squash(title) in _squash(line) else f"{line} {title}".strip()


def _split_at_headers(
    text: str, headers: list[tuple[int, int, int, str]]
) -> list[tuple[str, str]]:
    """(title, body) of each speech under its header; text before the first is dropped."""
    parts = []
    for i, (_, line_end, _, title) in enumerate(headers):
        stop = headers[i + 1][0] if i + 1 < len(headers) else len(text)
        pos = _skip_blank(text, line_end)
        if not title:
            start, end = _next_line(text, pos)
            if pos < stop and _is_title_line(text[start:end]):
                title = text[start:end].strip(_SPACE)
                pos = _skip_blank(text, end)
        squashed = _squash(title)
        while squashed and pos < stop:
            start, end = _next_line(text, pos)
            line = _squash(text[start:min(end, stop)])
            if not (line.startswith(squashed)
                    and _TITLE_REPEAT_SUFFIX_RE.match(line[len(squashed):])):
                break
            pos = _skip_blank(text, end)
        parts.append((title, text[pos:stop].strip(_SPACE)))
    return parts


def split_documents(cleaned: CleanedText, config: SegmentConfig) -> list[Document]:
    """Split a cleaned text into speeches, each a ``Document`` with its own title.

    A text whose lines number two or more speeches in order (``标题 篇1``, ``标题 篇2``;
    or ``第一篇：标题``, ``第二篇：标题``) is cut at those header lines; text before the
    first header (a collection title) is dropped, and lines right after a header that
    repeat its title are dropped. Otherwise the text is one speech whose title is its
    leading short heading-like lines (no sentence punctuation), or a title glued before
    a salutation (``...领导讲话稿同志们：...``). The title never stays in ``text``.

    Parameters
    ----------
    cleaned : CleanedText
        One cleaned source text.
    config : SegmentConfig
        ``split_speeches=False`` keeps the whole text as one document (its title is
        still looked for at its start).

    Returns
    -------
    list of Document
        In reading order. ``doc_id`` is :func:`source_stem` of the source, plus
        ``-01``, ``-02``, ... when the text holds several speeches. When speeches of one
        text share a title, each is titled by its own header line instead ("讲话 篇1").
        Empty speeches are
        dropped (their numbers are kept, so ids stay stable).

    Examples
    --------
    >>> from policytopics.records import SourceText
    >>> text = "精选2篇\\n讲话 篇1\\n同志们：今天开会。\\n讲话 篇2\\n同志们：明天开会。"
    >>> docs = split_documents(CleanedText(SourceText("a/x.txt", text, "utf-8"), text, {}, len(text)),
    ...                        SegmentConfig())
    >>> [(d.doc_id, d.title, d.text) for d in docs]
    [('a__x-01', '讲话 篇1', '同志们：今天开会。'), ('a__x-02', '讲话 篇2', '同志们：明天开会。')]
    """
    source = cleaned.source.source
    stem = source_stem(source)
    metadata = dict(cleaned.source.metadata)
    text = cleaned.text
    headers = _find_headers(text) if config.split_speeches else []
    if not headers:
        title, body = _single_title(text)
        return [Document(stem, source, title, text[body:].strip(_SPACE), dict(metadata))]
    parts = _split_at_headers(text, headers)
    titles = [title for title, _ in parts]
    if len(set(titles)) < len(titles):
        # Speeches of one page often share a title ("...讲话 篇1", "...讲话 篇2"): then the
        # page's own header line, ordinal included, is the title that tells them apart.
        titles = [_header_title(text[start:end], title) for (start, end, _, _), title in zip(headers, titles)]
    documents = []
    for number, (title, (_, body)) in enumerate(zip(titles, parts), start=1):
        if body:
            documents.append(
                Document(f"{stem}-{number:02d}", source, title, body, dict(metadata))
            )
    return documents


# ---------------------------------------------------------------------------------------
# Near-duplicates
# ---------------------------------------------------------------------------------------

_BASE = np.uint64(0x100000001B3)


def _mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser (vectorised, wraps modulo 2**64)."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _shingle_hashes(text: str, k: int = SHINGLE_K) -> np.ndarray:
    """Sorted unique 64-bit hashes of the character k-grams of ``text`` (no whitespace).

    Deterministic across runs and machines (no use of Python's salted ``hash``).
    A text shorter than ``k`` (but not empty) is one shingle.
    """
    squashed = _squash(text)
    if not squashed:
        return np.zeros(0, dtype=np.uint64)
    codes = np.frombuffer(squashed.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    n = max(len(codes) - k + 1, 1)
    width = min(k, len(codes))
    hashes = np.zeros(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for offset in range(width):
            hashes = hashes * _BASE + codes[offset:offset + n]
        hashes = _mix64(hashes + np.uint64(width))
    hashes.sort()
    keep = np.ones(hashes.size, dtype=bool)
    keep[1:] = hashes[1:] != hashes[:-1]
    return hashes[keep]


def shingle_similarity(a: str, b: str) -> tuple[float, float]:
    """Jaccard and containment of the character 5-gram shingle sets of two texts.

    Whitespace is removed first. Containment is the share of the smaller set found in
    the larger one.

    Parameters
    ----------
    a, b : str
        The two texts. A text shorter than five characters (but not empty) is one shingle.

    Returns
    -------
    jaccard : float
        Size of the intersection of the two shingle sets over the size of their union.
    containment : float
        Size of the intersection over the size of the smaller set. Both are 0.0 when
        either text is empty (or only whitespace).

    Examples
    --------
    >>> shingle_similarity("开发区工作总结报告", "开发区工作总结报告")
    (1.0, 1.0)
    >>> round(shingle_similarity("开发区工作总结报告", "开发区工作总结")[1], 2)
    1.0
    """
    return _similarity(_shingle_hashes(a), _shingle_hashes(b))


def _similarity(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    if a.size == 0 or b.size == 0:
        return 0.0, 0.0
    inter = np.intersect1d(a, b, assume_unique=True).size
    return inter / (a.size + b.size - inter), inter / min(a.size, b.size)


def mark_duplicates(documents: list[Document], config: SegmentConfig) -> list[Document]:
    """Flag near-duplicate documents; the first of each group in corpus order is kept.

    Two documents are near-duplicates when the Jaccard similarity of their character
    5-gram shingle sets (whitespace removed) is at least ``config.duplicate_threshold``,
    or when at least that share of the shorter one's shingles (it having at least
    ``MIN_CONTAINMENT_SHINGLES`` of them) is found in the other: a truncated copy (a
    preview, a copy missing its last pages) is a duplicate too, although its Jaccard is
    low. A later document is compared with the earlier *kept* documents only, so
    ``duplicate_of`` always names a kept document (the most similar one; the earliest on
    a tie).

    Candidates are found without comparing all pairs: each kept document's shingles whose
    hash is 0 modulo ``SAMPLE_MOD`` go into an inverted index, and a new document is
    verified exactly (all shingles) only against kept documents sharing enough sampled
    shingles (shingles shared by more than ``POSTING_CAP`` kept documents, generic
    phrases of the genre, are not used to find candidates). Hashing is a fixed polynomial
    hash with a splitmix64 finaliser (not Python's salted ``hash``), so results are the
    same in every run. A document too short to have a sampled shingle (about 30
    characters or less) is never flagged and never matched. Cost: one pass over each
    document plus exact checks of the few candidates (7,000 synthetic documents of
    15,000 characters: about 20 s).

    Parameters
    ----------
    documents : list of Document
        In corpus order.
    config : SegmentConfig
        ``duplicate_threshold``; ``deduplicate=False`` returns the list unchanged.

    Returns
    -------
    list of Document
        The same documents in the same order; duplicates carry ``duplicate_of`` and a
        ``duplicate_reason`` such as ``"char 5-gram Jaccard 0.97 >= 0.80"``.

    Examples
    --------
    >>> body = "今年开发区经济运行平稳，招商引资成效显著，项目建设加快推进，民生持续改善。"
    >>> docs = [Document("a", "a.txt", "", body * 3), Document("b", "b.txt", "", body * 3 + "完")]
    >>> [d.duplicate_of for d in mark_duplicates(docs, SegmentConfig())]
    ['', 'a']
    """
    if not config.deduplicate:
        return list(documents)
    threshold = config.duplicate_threshold
    index: defaultdict[int, list[int]] = defaultdict(list)
    kept_hashes: dict[int, np.ndarray] = {}
    n_samples = np.zeros(len(documents), dtype=np.int64)  # 0 for documents not kept
    result: list[Document] = []
    mask = np.uint64(SAMPLE_MOD - 1)
    for i, doc in enumerate(documents):
        hashes = _shingle_hashes(doc.text)
        samples = hashes[(hashes & mask) == 0].tolist()
        hits: list[int] = []
        for posting in map(index.get, samples):
            if posting is not None and len(posting) <= POSTING_CAP:
                hits.extend(posting)
        best: tuple[float, float, float, int] | None = None
        if hits:
            shared = np.bincount(np.asarray(hits, dtype=np.int64), minlength=i)[:i]
            floor = np.maximum(np.minimum(n_samples[:i], len(samples)), 1)
            candidates = np.flatnonzero(shared >= threshold * CANDIDATE_FACTOR * floor)
            for j in candidates.tolist():
                jaccard, containment = _similarity(hashes, kept_hashes[j])
                small = min(hashes.size, kept_hashes[j].size)
                if jaccard >= threshold:
                    score = jaccard
                elif containment >= threshold and small >= MIN_CONTAINMENT_SHINGLES:
                    score = containment
                else:
                    continue
                if best is None or score > best[0]:
                    best = (score, jaccard, containment, j)
        if best is None:
            result.append(doc)
            if samples:
                kept_hashes[i] = hashes
                n_samples[i] = len(samples)
                for h in samples:
                    index[h].append(i)
            continue
        _, jaccard, containment, j = best
        if jaccard >= threshold:
            reason = f"char {SHINGLE_K}-gram Jaccard {jaccard:.2f} >= {threshold:.2f}"
        else:
            reason = (
                f"char {SHINGLE_K}-gram containment {containment:.2f} >= {threshold:.2f} "
                f"(Jaccard {jaccard:.2f}; truncated copy)"
            )
        result.append(
            Document(
                doc.doc_id, doc.source, doc.title, doc.text, dict(doc.metadata),
                duplicate_of=documents[j].doc_id, duplicate_reason=reason,
            )
        )
    return result


# ---------------------------------------------------------------------------------------
# Units
# ---------------------------------------------------------------------------------------


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
class _Piece:
    start: int
    end: int
    section: int  # id of the innermost section the piece sits in
    path: tuple[tuple[int, int], ...]  # heading spans, outermost first


def _boundary_ok(text: str, pos: int, line_start: int, boundary: str) -> tuple[bool, bool]:
    """(accepted, at_line_start) for a marker at ``pos`` of a line starting at ``line_start``."""
    before = pos - 1
    while before >= line_start and text[before] in _SPACE:
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
        for kind in _MARKER_KINDS:
            for match in kind.regex.finditer(text, start, end):
                ok, at_start = _boundary_ok(text, match.start(), start, kind.boundary)
                if ok:
                    found.append(_Marker(match.start(), match.end(), kind.kind, kind.rank,
                                         _ordinal_value(match["num"]), at_start,
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
        for kind in _MARKER_KINDS:  # a marker closes the runs of deeper levels
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
    while end > start and text[end - 1] in _SPACE:
        end -= 1
    return end


def _lstrip(text: str, start: int, end: int) -> int:
    while start < end and text[start] in _SPACE:
        start += 1
    return start


_HEADING_TAIL = _SPACE + _SENTENCE_ENDS + _CLOSING + "：:，,"


def _ends_sentence(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` ends with a sentence end (closing quotes skipped)."""
    while end > start and text[end - 1] in _CLOSING:
        end -= 1
    return end > start and text[end - 1] in _SENTENCE_ENDS


def _structure(text: str, lines: list[tuple[int, int]], markers: list[_Marker]) -> list[_Piece]:
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
    pieces: list[_Piece] = []
    # open sections: (rank, heading span, outline?, len(pieces) when opened, section id)
    stack: list[tuple[int, tuple[int, int], bool, int, int]] = []
    section = 0

    def close_section() -> None:
        _, span, _, pieces_before, opened = stack[-1]
        if len(pieces) == pieces_before:  # nothing carries the heading: it is a piece itself
            pieces.append(_Piece(span[0], span[1], opened, tuple(entry[1] for entry in stack)))
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
            pieces.append(_Piece(piece_start, piece_end, section,
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


def _split_long(text: str, piece: _Piece, inner: list[int], max_chars: int,
                level: int = 0) -> list[_Piece]:
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
    result: list[_Piece] = []
    for a, b in zip([start, *cuts], [*cuts, end]):
        a = _lstrip(text, a, b)
        b = _rstrip(text, a, b)
        if a < b:
            sub = _Piece(a, b, piece.section, piece.path)
            result.extend(_split_long(text, sub, inner, max_chars, level + 1))
    return result


def _merge_short(pieces: list[_Piece], min_chars: int, max_chars: int) -> list[_Piece]:
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
            pieces[i : i + 2] = [_Piece(piece.start, nxt.end, piece.section, piece.path)]
        elif (prev is not None and prev.section == piece.section
              and piece.end - prev.start < max_chars):
            pieces[i - 1 : i + 1] = [_Piece(prev.start, piece.end, prev.section, prev.path)]
            i -= 1
        else:
            i += 1
    return pieces


def segment_document(document: Document, config: SegmentConfig) -> list[Unit]:
    """Cut a document into analysis units, each with its outline heading path.

    1. Paragraphs: every non-empty line is cut separately.
    2. Sections: a line is also cut before every outline marker inside it (``一、``,
       ``（一）``, ``1、``/``1.``, ``（1）``); in such run-on lines, and in lines of
       ``max_unit_chars`` or more, also before inner points (``一是``, ``第一，``, ``①``).
       Markers continue a numbered run or sit at the start of a line; ``2.9倍``,
       ``1-6月``, ``10.44个百分点``, dates and ``之一是`` are not markers.
    3. Headings: a marker opens a section whose heading is the marker plus its text up to
       the first sentence end or colon (or the next marker, a body opener such as
       ``上半年，``, or ``INLINE_HEADING_MAX_CHARS``); a standalone heading line is the
       whole line. Levels nest ``一、`` > ``（一）`` > ``1、`` > ``（1）`` > ``一是`` > ``①``;
       a marker closes every deeper level. ``一是``/``第一，`` enter the path only at the
       start of a line. A heading without body text is not a unit: it only enters the
       heading path of the units below it (a heading with no unit below it, such as
       ``一、甲`` right before ``二、乙`` or at the end, is a unit of its own).
    4. Long units (``>= max_unit_chars``) are cut at their inner markers, then at sentence
       ends (。！？；), then at clause ends (，、：), then by length, so no unit reaches
       ``max_unit_chars``.
    5. Units shorter than ``min_unit_chars`` are merged into the following unit of the
       same section, else the preceding one, when the result stays under the maximum.

    See the module docstring for the text-preservation rule.

    Parameters
    ----------
    document : Document
        The document to cut (duplicates are expected to be skipped by the caller).
    config : SegmentConfig
        ``max_unit_chars`` and ``min_unit_chars``.

    Returns
    -------
    list of Unit
        In reading order; ``position`` counts from 0 and
        ``unit_id == f"{doc_id}-u{position:04d}"``.

    Examples
    --------
    >>> doc = Document("d", "d.txt", "", "一、总体情况\\n今年经济运行平稳，主要指标好于预期。\\n"
    ...                "（一）项目建设。新开工项目二十个，完成投资五十亿元。")
    >>> [(u.unit_id, u.heading, u.text) for u in segment_document(doc, SegmentConfig())]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('d-u0000', '一、总体情况', '今年经济运行平稳，主要指标好于预期。'),
     ('d-u0001', '一、总体情况 > （一）项目建设', '（一）项目建设。新开工项目二十个，完成投资五十亿元。')]
    """
    text = document.text
    max_chars = config.max_unit_chars
    lines = _lines(text)
    markers = _find_markers(text, lines)
    pieces = _structure(text, lines, markers)
    inner = [m.pos for m in markers if not m.is_section]
    cut: list[_Piece] = []
    for piece in pieces:
        cut.extend(_split_long(text, piece, inner, max_chars))
    merged = _merge_short(cut, config.min_unit_chars, max_chars)
    units = []
    for position, piece in enumerate(merged):
        heading = " > ".join(text[a:b] for a, b in piece.path)
        units.append(
            Unit(f"{document.doc_id}-u{position:04d}", document.doc_id, position, heading,
                 text, piece.start, piece.end)
        )
    return units


def segment_corpus(
    cleaned: list[CleanedText], config: SegmentConfig
) -> tuple[list[Document], list[Unit]]:
    """Split, deduplicate and segment a whole corpus.

    Parameters
    ----------
    cleaned : list of CleanedText
        The cleaned texts in corpus order.
    config : SegmentConfig
        The segment section of the run config.

    Returns
    -------
    documents : list of Document
        All documents, duplicates included (flagged).
    units : list of Unit
        The units of the documents that are not duplicates, in corpus order.

    Examples
    --------
    >>> from policytopics.records import SourceText
    >>> text = "标题\\n一、总体情况\\n今年经济运行平稳，主要指标好于预期。"
    >>> docs, units = segment_corpus([CleanedText(SourceText("x.txt", text, "utf-8"), text, {}, len(text))],
    ...                              SegmentConfig())
    >>> docs[0].title, units[0].heading
    ('标题', '一、总体情况')
    """
    documents: list[Document] = []
    for item in cleaned:
        documents.extend(split_documents(item, config))
    documents = mark_duplicates(documents, config)
    units: list[Unit] = []
    for document in documents:
        if not document.duplicate_of:
            units.extend(segment_document(document, config))
    return documents, units
