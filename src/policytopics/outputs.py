"""The run folder's tables: every table's columns and rows, and the writers of each group.

The one module that knows what ``documents.csv``, ``units.csv``, ``topics.csv`` and the
other tables hold (docs/outputs.md documents them, and tests/test_docs.py checks the two
agree). Rows are made from the stages' records (:class:`policytopics.records.Document`,
:class:`~policytopics.records.Unit`, :class:`policytopics.fitting.ModelResults`); the
``write_*`` functions write one group of files into a run folder through the deterministic
writers of :mod:`policytopics.artifacts`.

In: the stages' records and :class:`~policytopics.fitting.ModelResults`. Out: the rows of
every table, and the files of a run folder.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from policytopics import artifacts
from policytopics.codebook import UNASSIGNED
from policytopics.config import Config
from policytopics.records import CleanedText, Document, SkippedSource, Unit, UnitField
from policytopics.selection import clustering_check, selection_summary
from policytopics.themes import MIXED, NONE

if TYPE_CHECKING:  # the fitting stage imports gensim; the corpus tables do not need it
    from policytopics.fitting import ModelResults
    from policytopics.tokenize import TokenizedCorpus, Tokenizer

__all__ = [
    "DOCUMENT_COLUMNS",
    "UNIT_COLUMNS",
    "VOCABULARY_COLUMNS",
    "cleaning_report",
    "document_rows",
    "unit_rows",
    "write_corpus_outputs",
    "write_model_outputs",
    "write_token_outputs",
]

#: Fixed columns of documents.csv; metadata columns are inserted after ``title``.
DOCUMENT_COLUMNS = ("doc_id", "source", "title", "n_chars", "n_units", "duplicate_of", "duplicate_reason")
#: Columns of units.csv.
UNIT_COLUMNS = ("unit_id", "doc_id", "position", "heading", "text", "n_chars")
#: Columns of vocabulary.csv.
VOCABULARY_COLUMNS = ("term", "document_frequency", "corpus_frequency", "in_dictionary", "pos")
#: Columns of the other tables (topics.csv's depend on the coherence measures).
TOPIC_TERMS_COLUMNS = ("topic", "rank", "term", "weight")
CLUSTERS_COLUMNS = ("unit_id", "cluster", "cluster_theme")
CLUSTER_TERMS_COLUMNS = ("cluster", "theme", "rank", "term", "weight")
AGREEMENT_COLUMNS = ("lda_theme", "cluster_theme", "units")
KEYWORDS_COLUMNS = ("theme", "keyword", "status")
STABILITY_COLUMNS = ("num_topics", "seed", "jaccard")


def _metadata_columns(documents: list[Document]) -> list[str]:
    keys = sorted({key for doc in documents for key in doc.metadata})
    return [f"meta_{key}" if key in DOCUMENT_COLUMNS else key for key in keys]


def document_rows(
    documents: list[Document], units: list[Unit], themes: ModelResults | None = None
) -> tuple[list[dict[str, Any]], list[str]]:
    """Rows and columns of documents.csv: fixed columns with metadata after ``title``, then
    (after modelling) the theme share columns, dominant theme and theme ranking.

    Parameters
    ----------
    documents : list of Document
        Every document, near-duplicates included.
    units : list of Unit
        The units (counted per document for ``n_units``).
    themes : ModelResults, optional
        The model stage's results; without them the theme columns are left out.

    Returns
    -------
    rows : list of dict
        One row per document, sorted by ``doc_id``. A metadata key that clashes with a
        fixed column is renamed ``meta_<key>``; near-duplicates get empty theme cells.
    columns : list of str
        The columns of documents.csv, in order.

    Examples
    --------
    >>> from policytopics.records import Document, Unit
    >>> documents = [Document("d1", "d1.txt", "工作报告", "推进招商引资。", {"year": "2021"})]
    >>> rows, columns = document_rows(documents, [Unit("d1-u0000", "d1", 0, "", "推进招商引资。")])
    >>> columns
    ['doc_id', 'source', 'title', 'year', 'n_chars', 'n_units', 'duplicate_of', 'duplicate_reason']
    >>> rows[0]["year"], rows[0]["n_units"]
    ('2021', 1)
    """
    units_per_doc: dict[str, int] = {}
    for unit in units:
        units_per_doc[unit.doc_id] = units_per_doc.get(unit.doc_id, 0) + 1
    meta_columns = _metadata_columns(documents)
    rows = []
    for doc in sorted(documents, key=lambda d: d.doc_id):
        row: dict[str, Any] = {
            "doc_id": doc.doc_id,
            "source": doc.source,
            "title": doc.title,
            "n_chars": len(doc.text),
            "n_units": units_per_doc.get(doc.doc_id, 0),
            "duplicate_of": doc.duplicate_of,
            "duplicate_reason": doc.duplicate_reason,
        }
        for key, value in doc.metadata.items():
            row[f"meta_{key}" if key in DOCUMENT_COLUMNS else key] = value
        rows.append(row)
    columns = list(DOCUMENT_COLUMNS[:3]) + meta_columns + list(DOCUMENT_COLUMNS[3:])
    if themes is not None:
        values = document_theme_values(themes)
        for row in rows:
            row.update(values.get(row["doc_id"], {}))  # duplicates keep empty theme cells
        columns += theme_share_columns(themes) + ["theme_distinct", "theme_ranking"]
    return rows, columns


def unit_rows(units: list[Unit], themes: ModelResults | None = None) -> tuple[Iterator[dict[str, Any]], list[str]]:
    """Rows and columns of units.csv, in ``unit_id`` order (units arrive sorted), with the
    theme share columns and dominant theme after modelling; rows are made as they are read.

    Parameters
    ----------
    units : list of Unit
        The units, sorted by ``unit_id`` (the order of the model's unit shares).
    themes : ModelResults, optional
        The model stage's results; without them the theme columns are left out.

    Returns
    -------
    rows : iterator of dict
        One row per unit, made as it is read (so the table is never all in memory).
    columns : list of str
        The columns of units.csv, in order.

    Examples
    --------
    >>> from policytopics.records import Unit
    >>> rows, columns = unit_rows([Unit("d1-u0000", "d1", 0, "", "推进招商引资。")])
    >>> columns
    ['unit_id', 'doc_id', 'position', 'heading', 'text', 'n_chars']
    >>> next(rows)["n_chars"]
    7
    """
    columns = list(UNIT_COLUMNS)
    values: Iterator[dict[str, Any]] | None = None
    if themes is not None:
        values = unit_theme_values(themes)
        columns += theme_share_columns(themes) + ["theme_mass"]

    def rows() -> Iterator[dict[str, Any]]:
        for unit in units:
            row = {
                "unit_id": unit.unit_id,
                "doc_id": unit.doc_id,
                "position": unit.position,
                "heading": unit.heading,
                "text": unit.text,
                "n_chars": unit.n_chars,
            }
            if values is not None:
                row.update(next(values))
            yield row

    return rows(), columns


def cleaning_report(
    config: Config,
    cleaned: list[CleanedText],
    documents: list[Document],
    units: list[Unit],
    skipped: list[SkippedSource],
) -> dict[str, Any]:
    """What each cleaning step removed per file, what was skipped or repaired (with the reason,
    and the bytes replaced by U+FFFD), and what was found.

    Parameters
    ----------
    config : Config
        The run's config (``clean`` says which steps ran).
    cleaned : list of CleanedText
        Every source text after cleaning.
    documents : list of Document
        Every document found, near-duplicates included.
    units : list of Unit
        The analysis units.
    skipped : list of SkippedSource
        The corpus entries that were not used.

    Returns
    -------
    dict
        The content of cleaning_report.json: ``steps``, ``files`` (per source: encoding,
        characters in and out, what each step removed, its documents), ``totals``,
        ``skipped``, ``repaired``, ``n_documents``, ``duplicates`` and ``n_units``.

    Examples
    --------
    >>> from policytopics.records import CleanedText, Document, SkippedSource, SourceText, Unit
    >>> source = SourceText("d1.txt", "首页\\n推进招商引资。", "utf-8")
    >>> cleaned = [CleanedText(source, "推进招商引资。", {"boilerplate.breadcrumb": 3}, 10)]
    >>> documents = [Document("d1", "d1.txt", "", "推进招商引资。")]
    >>> units = [Unit("d1-u0000", "d1", 0, "", "推进招商引资。")]
    >>> report = cleaning_report(Config(), cleaned, documents, units, [SkippedSource("scan.pdf", "a PDF document")])
    >>> report["files"]["d1.txt"]
    {'encoding': 'utf-8', 'chars_in': 10, 'chars_out': 7, 'removed': {'boilerplate.breadcrumb': 3}, 'documents': ['d1']}
    >>> report["skipped"], report["n_units"]
    ([{'source': 'scan.pdf', 'reason': 'a PDF document'}], 1)
    """
    steps = [name for name in ("strip_pinyin", "to_simplified", "remove_boilerplate", "drop_mojibake", "normalise")
             if getattr(config.clean, name)]
    files = {}
    totals: dict[str, int] = {}
    doc_ids: dict[str, list[str]] = {}
    for doc in documents:
        doc_ids.setdefault(doc.source, []).append(doc.doc_id)
    for item in cleaned:
        files[item.source.source] = {
            "encoding": item.source.encoding,
            "chars_in": item.chars_in,
            "chars_out": len(item.text),
            "removed": dict(sorted(item.removed.items())),
            "documents": doc_ids.get(item.source.source, []),
        }
        for key, value in item.removed.items():
            totals[key] = totals.get(key, 0) + value
    return {
        "steps": steps,
        "files": files,
        "totals": dict(sorted(totals.items())),
        "skipped": [{"source": s.source, "reason": s.reason} for s in skipped],
        "repaired": [
            {"source": item.source.source, "reason": item.source.repair, "bytes_replaced": item.source.bytes_replaced}
            for item in cleaned
            if item.source.repair
        ],
        "n_documents": len(documents),
        "duplicates": [
            {"doc_id": d.doc_id, "duplicate_of": d.duplicate_of, "reason": d.duplicate_reason}
            for d in documents
            if d.duplicate_of
        ],
        "n_units": len(units),
    }


def write_corpus_outputs(
    folder: Path,
    config: Config,
    cleaned: list[CleanedText],
    documents: list[Document],
    units: list[Unit],
    skipped: list[SkippedSource],
    themes: ModelResults | None = None,
) -> None:
    """Write the corpus stages' files: documents.csv, units.csv (with the theme columns when
    ``themes`` is given), cleaned/<doc_id>.txt and cleaning_report.json.

    Parameters
    ----------
    folder : Path
        The run folder being written (its staging folder).
    config : Config
        The run's config.
    cleaned, documents, units, skipped
        The corpus stages' records.
    themes : ModelResults, optional
        The fitting stage's results (the theme columns).

    Returns
    -------
    None

    Examples
    --------
    >>> write_corpus_outputs(run_dir, config, cleaned, documents, units, skipped)  # doctest: +SKIP
    """
    rows, columns = document_rows(documents, units, themes)
    artifacts.write_csv(folder / "documents.csv", rows, columns)
    rows, columns = unit_rows(units, themes)
    artifacts.write_csv(folder / "units.csv", rows, columns)
    for doc in documents:
        heading = f"{doc.title}\n\n" if doc.title else ""
        artifacts.write_text(folder / "cleaned" / f"{doc.doc_id}.txt", heading + doc.text.rstrip("\n") + "\n")
    artifacts.write_json(
        folder / "cleaning_report.json", cleaning_report(config, cleaned, documents, units, skipped)
    )




def theme_share_columns(results: ModelResults) -> list[str]:
    """``theme_<id>`` share columns (themes, then unassigned), their ``_low``/``_high``
    interval columns, then ``theme``."""
    shares = [f"theme_{column}" for column in results.theme_columns]
    bounds = [f"{column}_{bound}" for column in shares for bound in ("low", "high")]
    return shares + bounds + ["theme"]


def _share_values(columns: list[str], shares: np.ndarray, low: np.ndarray, high: np.ndarray) -> dict[str, float]:
    values = dict(zip(columns, map(float, shares)))
    for column, lo, hi in zip(columns, low, high):
        values[f"{column}_low"], values[f"{column}_high"] = float(lo), float(hi)
    return values


def unit_theme_values(results: ModelResults) -> Iterator[dict[str, Any]]:
    """Per unit (in unit order, one at a time): shares, intervals, theme mass and label."""
    columns = [f"theme_{column}" for column in results.theme_columns]
    measures = results.unit_measures
    return (
        {**_share_values(columns, shares, low, high), "theme": label, "theme_mass": float(mass)}
        for shares, low, high, label, mass in zip(
            measures.shares, measures.low, measures.high, measures.labels, measures.theme_mass
        )
    )


def document_theme_values(results: ModelResults) -> dict[str, dict[str, Any]]:
    """Per kept document: shares with intervals, dominant theme and ranking."""
    columns = [f"theme_{column}" for column in results.theme_columns]
    measures = results.doc_measures
    values = {}
    for index, doc_id in enumerate(measures.doc_ids):
        values[doc_id] = {
            **_share_values(columns, measures.shares[index], measures.low[index], measures.high[index]),
            "theme": measures.labels[index],
            "theme_distinct": measures.distinct[index],
            "theme_ranking": measures.rankings[index],
        }
    return values


def topic_matrix_rows(
    ids: Sequence[str], id_column: str, matrix: np.ndarray, extra: Mapping[str, Sequence[Any]] | None = None
) -> tuple[Iterator[dict[str, Any]], list[str]]:
    """Rows of a (units or documents) × topics matrix: id, any extra columns (name -> one
    value per row), topic_0...topic_{K-1}; the rows are made one at a time as they are read."""
    topics = [f"topic_{k}" for k in range(matrix.shape[1])]
    extra = dict(extra or {})

    def rows() -> Iterator[dict[str, Any]]:
        for index, (row_id, values) in enumerate(zip(ids, matrix)):
            row = {id_column: row_id, **{name: column[index] for name, column in extra.items()}}
            row.update(zip(topics, map(float, values)))
            yield row

    return rows(), [id_column, *extra, *topics]


def topics_rows(results: ModelResults, config: Config) -> list[dict[str, Any]]:
    """topics.csv: topic, theme, seeded (guided), share, top/relevance/FREX terms, coherence.

    Every term list and the coherence of its top terms come from the data-only topic-term
    distribution (``lda.topic_term_data_``: the units' expected counts, without the guided
    prior's keyword pseudo-counts), so they show what the units put in a topic rather than
    echo the codebook. ``share`` is the mean of the units' topic proportions.
    """
    lda = results.lda
    n = config.lda.top_n
    by_probability = lda.top_terms(n, by="probability", weights="data")
    by_relevance = lda.top_terms(n, by="relevance", lambda_=config.lda.relevance_lambda, weights="data")
    by_frex = lda.top_terms(n, by="frex", weights="data")
    shares = results.lda.doc_topic_.mean(axis=0)
    rows = []
    for k, theme in enumerate(results.topic_themes):
        rows.append({
            "topic": k,
            "theme": theme,
            "seeded": lda.topic_theme_[k] is not None,
            "share": float(shares[k]),
            "top_terms": " ".join(term for term, _ in by_probability[k]),
            "relevance_terms": " ".join(term for term, _ in by_relevance[k]),
            "frex_terms": " ".join(term for term, _ in by_frex[k]),
            **{measure: float(values[k]) for measure, values in sorted(results.coherence.items())},
        })
    return rows


def topic_terms_rows(results: ModelResults, config: Config) -> list[dict[str, Any]]:
    """topic_terms.csv: topic, rank, term, weight: the top terms of each topic by their
    data-only probability (``lda.topic_term_data_``, without the prior's pseudo-counts)."""
    rows = []
    probability = results.lda.top_terms(config.lda.top_n, by="probability", weights="data")
    for k, terms in enumerate(probability):
        for rank, (term, weight) in enumerate(terms, start=1):
            rows.append({"topic": k, "rank": rank, "term": term, "weight": float(weight)})
    return rows


def cluster_rows(results: ModelResults, units: Sequence[Unit]) -> Iterator[dict[str, Any]]:
    """clusters.csv: unit_id, cluster, cluster_theme (one row at a time)."""
    return (
        {"unit_id": unit.unit_id, "cluster": int(label), "cluster_theme": theme}
        for unit, label, theme in zip(units, results.clusters.labels_, results.cluster_themes)
    )


def cluster_terms_rows(results: ModelResults) -> list[dict[str, Any]]:
    """cluster_terms.csv: cluster, theme, rank, term, weight (centroid TF-IDF weight)."""
    themes_by_cluster: dict[int, str] = {}
    for label, theme in zip(results.clusters.labels_, results.cluster_themes):
        themes_by_cluster.setdefault(int(label), theme)
    rows = []
    for cluster, terms in enumerate(results.clusters.cluster_terms_):
        for rank, (term, weight) in enumerate(terms, start=1):
            rows.append({"cluster": cluster, "theme": themes_by_cluster.get(cluster, UNASSIGNED), "rank": rank, "term": term, "weight": float(weight)})
    return rows


def agreement_rows(results: ModelResults) -> list[dict[str, Any]]:
    """agreement.csv (long form): lda_theme, cluster_theme, units."""
    table = results.agreement_table
    return [
        {"lda_theme": row, "cluster_theme": column, "units": int(table.loc[row, column])}
        for row in table.index
        for column in table.columns
    ]


def model_summary(results: ModelResults, config: Config) -> dict[str, Any]:
    """summary.json: the run's headline figures (docs/outputs.md lists every key)."""
    ari = round(float(results.agreement_ari), 6)
    return {
        "method": config.lda.method,
        "num_topics": int(results.lda.topic_term_.shape[0]),
        "themes": results.codebook.ids,
        "keywords_used": sum(len(v) for v in results.keyword_check.usable.values()),
        "keywords_split": len(results.keyword_check.split),
        "keywords_absent": len(results.keyword_check.absent),
        "clusters": int(results.clusters.k_),
        "agreement_ari": ari,
        **clustering_check(ari, results.cluster_themes),
        **selection_summary(results.selection, config.selection, config.lda.num_topics),
        "unit_themes": {t: results.unit_themes.count(t) for t in [*results.codebook.ids, MIXED, NONE]},
        "document_themes": dict(zip(results.doc_ids, results.doc_themes)),
        "theme_ensemble": results.ensemble,
    }


def stability_rows(results: ModelResults) -> list[dict[str, Any]]:
    """stability.csv: num_topics, seed, jaccard of every refit of the sweep."""
    return [
        {"num_topics": row["num_topics"], "seed": row["seed"], "jaccard": row["jaccard"]}
        for row in results.selection
        if row.get("jaccard") is not None
    ]


def write_model_outputs(
    folder: Path, config: Config, units: list[Unit], results: ModelResults, corpus: TokenizedCorpus
) -> None:
    """Write the fitting stage's files: unit_topic.csv, doc_topic.csv, topics.csv,
    topic_terms.csv, clusters.csv, cluster_terms.csv, agreement.csv, keywords.csv,
    model_selection.csv, stability.csv, summary.json, lda.html and model/ (with the documents'
    posterior share draws, :data:`policytopics.effects.DRAWS_FILE`).

    Parameters
    ----------
    folder : Path
        The run folder being written (its staging folder).
    config : Config
        The run's config.
    units : list of Unit
        The units, in the order of the model's rows.
    results : ModelResults
        The fitting stage's results.
    corpus : TokenizedCorpus
        The units' tokens (their lengths weigh the LDAvis page).

    Returns
    -------
    None

    Examples
    --------
    >>> write_model_outputs(run_dir, config, result.units, result.models, corpus)  # doctest: +SKIP
    """
    from policytopics.ldavis import model_ldavis_html
    from policytopics.models.persistence import save_model

    lda = results.lda
    rows, columns = topic_matrix_rows(
        UnitField(units, "unit_id"), "unit_id", lda.doc_topic_, {"doc_id": UnitField(units, "doc_id")}
    )
    artifacts.write_csv(folder / "unit_topic.csv", rows, columns)
    rows, columns = topic_matrix_rows(results.doc_ids, "doc_id", results.doc_topic)
    artifacts.write_csv(folder / "doc_topic.csv", rows, columns)
    rows = topics_rows(results, config)
    artifacts.write_csv(folder / "topics.csv", rows, list(rows[0]))
    artifacts.write_csv(folder / "topic_terms.csv", topic_terms_rows(results, config), TOPIC_TERMS_COLUMNS)
    artifacts.write_csv(folder / "clusters.csv", cluster_rows(results, units), CLUSTERS_COLUMNS)
    artifacts.write_csv(folder / "cluster_terms.csv", cluster_terms_rows(results), CLUSTER_TERMS_COLUMNS)
    artifacts.write_csv(folder / "agreement.csv", agreement_rows(results), AGREEMENT_COLUMNS)
    artifacts.write_csv(folder / "keywords.csv", results.keyword_check.rows(results.codebook), KEYWORDS_COLUMNS)
    artifacts.write_csv(folder / "model_selection.csv", results.selection, list(results.selection[0]))
    artifacts.write_csv(folder / "stability.csv", stability_rows(results), STABILITY_COLUMNS)
    artifacts.write_json(folder / "summary.json", model_summary(results, config))
    # the data-only topic-term distribution (no prior pseudo-counts); units of length 0 left out
    artifacts.write_text(
        folder / "lda.html",
        model_ldavis_html(
            lda, corpus.tokens.lengths(), title=f"policytopics: {config.name}", embed_font=config.output.embed_font,
            cache_dir=config.cache.folder(),
        ),
    )
    save_model(lda, folder / "model")
    if results.document_draws is not None:  # the comparisons' input (policytopics.effects)
        from policytopics.effects import DRAWS_FILE

        np.save(folder / DRAWS_FILE, results.document_draws, allow_pickle=False)
    if results.ensemble_members:  # what measuring new texts needs (policytopics.apply)
        from policytopics.models.ensemble import save_ensemble

        save_ensemble(folder, results.ensemble_members)


def write_token_outputs(
    folder: Path, units: list[Unit], tokenizer: Tokenizer, corpus: TokenizedCorpus, cache_dir: str | Path | None = None
) -> None:
    """Write the tokenising stage's files: tokens.jsonl, vocabulary.csv and, with phrases,
    model/phrases.pkl.

    Parameters
    ----------
    folder : Path
        The run folder being written (its staging folder).
    units : list of Unit
        The units, in the order of ``corpus``.
    tokenizer : Tokenizer
        The run's tokenizer (its dictionary terms mark vocabulary.csv).
    corpus : TokenizedCorpus
        The units' tokens.
    cache_dir : str or Path, optional
        The cache folder (``cache.dir``) where vocabulary.csv is kept for a rerun; ``None``:
        it is counted every time.

    Returns
    -------
    None

    Examples
    --------
    >>> write_token_outputs(run_dir, result.units, tokenizer, corpus)  # doctest: +SKIP
    """
    from policytopics.tokenize import vocabulary_rows

    artifacts.write_text(folder / "tokens.jsonl", (
        json.dumps({"unit_id": unit.unit_id, "tokens": tokens}, ensure_ascii=False) + "\n"
        for unit, tokens in zip(units, corpus.tokens)
    ))
    _write_vocabulary(folder / "vocabulary.csv", corpus, tokenizer.dictionary_terms, vocabulary_rows, cache_dir)
    if corpus.phrases is not None:
        (folder / "model").mkdir(exist_ok=True)
        corpus.phrases.save(str(folder / "model" / "phrases.pkl"))


#: Bumped when what a ``vocabulary`` cache entry holds changes.
_VOCABULARY_FORMAT = 1


def _packed_digest(tokens: Any) -> list[Any] | None:
    """A hash of a :class:`~policytopics.packed.PackedTokens` (its strings, ids and offsets),
    or ``None`` for another kind of sequence."""
    from policytopics.packed import PackedTokens
    from policytopics.provenance import array_digest, sha256_bytes

    if type(tokens) is not PackedTokens:
        return None
    strings = json.dumps(list(tokens.vocabulary), ensure_ascii=False).encode("utf-8", "surrogatepass")
    return [sha256_bytes(strings), array_digest(tokens.ids), array_digest(tokens.offsets)]


def _write_vocabulary(
    path: Path, corpus: TokenizedCorpus, dictionary_terms: frozenset[str], rows: Any, cache_dir: str | Path | None
) -> None:
    """Write vocabulary.csv; the same tokens, tags and dictionary give the same file, which is
    kept in ``cache_dir`` (kind ``vocabulary``) so that a rerun copies it instead of counting
    every token again."""
    from policytopics.cache import CacheStore, fingerprint
    from policytopics.provenance import source_hash

    digests = [_packed_digest(corpus.tokens), _packed_digest(corpus.pos)]
    if cache_dir is None or None in digests:
        artifacts.write_csv(path, rows(corpus, dictionary_terms), VOCABULARY_COLUMNS)
        return
    import policytopics.packed
    import policytopics.tokenize

    key = fingerprint(
        "vocabulary", _VOCABULARY_FORMAT, digests, sorted(dictionary_terms), list(VOCABULARY_COLUMNS),
        [source_hash(module.__file__) for module in (policytopics.tokenize, policytopics.packed, artifacts)],
    )
    store = CacheStore(cache_dir, "vocabulary")
    cached = store.get_bytes(key, path.name)
    if cached is not None:
        path.write_bytes(cached)
        return
    artifacts.write_csv(path, rows(corpus, dictionary_terms), VOCABULARY_COLUMNS)
    store.put_bytes(key, path.name, path.read_bytes())
