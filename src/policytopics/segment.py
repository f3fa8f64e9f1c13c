"""Segmentation: cleaned texts -> documents -> analysis units.

In: ``CleanedText`` records (simplified script, boilerplate removed, full-width Chinese
punctuation, line structure kept) and the ``segment`` section of the config
(``SegmentConfig``). Out: ``Document`` records (one per speech, near-duplicates flagged)
and ``Unit`` records (one per paragraph or outline section, each carrying one point).

Three steps, each callable alone: :func:`split_documents` (speeches and their titles, with
:mod:`policytopics.speeches`), :func:`mark_duplicates` (character-shingle near-duplicates,
with :mod:`policytopics.duplicates`) and :func:`segment_document` (units and their heading
paths, with :mod:`policytopics.outline`). The method is described in docs/methods.md,
section 1.3.

Text-preservation rule (what a property test can rely on): every ``Unit.text`` is an exact
slice of ``Document.text``; the slices are in reading order, do not overlap, and start and
end with a non-whitespace character. Between two units (and before the first) lies only
whitespace and removed headings, each verbatim one component of the heading path of the
unit that follows it; a heading with no unit under it is a unit of its own, so only
whitespace follows the last unit. ``Document.text`` is the speech without its title (and,
in a collection, without its header and title-repeat lines), outer whitespace stripped.
"""

from __future__ import annotations

import re
from collections import defaultdict

import numpy as np

from policytopics.config import SegmentConfig
from policytopics.duplicates import (
    CANDIDATE_FACTOR,
    MIN_CONTAINMENT_SHINGLES,
    POSTING_CAP,
    SAMPLE_MOD,
    SHINGLE_K,
    hash_similarity,
    shingle_hashes,
)
from policytopics.outline import unit_pieces
from policytopics.records import CleanedText, Document, Unit
from policytopics.segment_patterns import SPACE
from policytopics.speeches import (
    find_headers,
    header_title,
    single_title,
    split_at_headers,
)

__all__ = [
    "split_documents",
    "mark_duplicates",
    "segment_document",
    "segment_corpus",
]

# ---------------------------------------------------------------------------------------
# Documents
# ---------------------------------------------------------------------------------------


def source_stem(source: str) -> str:
    """The doc_id stem of a source: extension dropped, ``/`` -> ``__``, ``#`` -> ``-r``.

    Parameters
    ----------
    source : str
        The source name of a corpus entry (a path, with ``#row`` for a table row).

    Returns
    -------
    str
        The stem of the ids of its documents.

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
    headers = find_headers(text) if config.split_speeches else []
    if not headers:
        title, body = single_title(text)
        return [Document(stem, source, title, text[body:].strip(SPACE), dict(metadata))]
    parts = split_at_headers(text, headers)
    titles = [title for title, _ in parts]
    if len(set(titles)) < len(titles):
        # Speeches of one page often share a title ("...讲话 篇1", "...讲话 篇2"): then the
        # page's own header line, ordinal included, is the title that tells them apart.
        titles = [header_title(text[start:end], title) for (start, end, _, _), title in zip(headers, titles)]
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
        hashes = shingle_hashes(doc.text)
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
                jaccard, containment = hash_similarity(hashes, kept_hashes[j])
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
    units = []
    for position, piece in enumerate(unit_pieces(text, config.max_unit_chars, config.min_unit_chars)):
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
