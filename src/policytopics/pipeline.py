"""The pipeline driver: ``run(config) -> RunResult``, the one function the CLI and notebooks call.

In: a ``Config`` (or the path of a YAML config). Out: a run folder ``results/<name>/``
and a ``RunResult`` holding the records of every stage, so that a notebook can explore
them without re-reading the files.

Stages run one way, each a pure function over the records of the stage before::

    ingest -> clean -> segment (documents, near-duplicates, units) -> tokenize
           -> model (LDA, themes, clusters, selection) -> artefacts
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policytopics import artifacts
from policytopics.config import Config, load_config
from policytopics.provenance import sha256_bytes, sha256_file
from policytopics.records import CleanedText, Document, SkippedSource, Unit
from policytopics.themes import MIXED, NONE

logger = logging.getLogger("policytopics")

#: Fixed columns of documents.csv; metadata columns are inserted after ``title``.
DOCUMENT_COLUMNS = ("doc_id", "source", "title", "n_chars", "n_units", "duplicate_of", "duplicate_reason")
#: Columns of units.csv.
UNIT_COLUMNS = ("unit_id", "doc_id", "position", "heading", "text", "n_chars")
#: Columns of vocabulary.csv.
VOCABULARY_COLUMNS = ("term", "document_frequency", "corpus_frequency", "in_dictionary", "pos")


@dataclass(frozen=True)
class RunResult:
    """Everything a run produced.

    Attributes
    ----------
    config : Config
        The resolved configuration.
    run_dir : Path
        The run folder, ``results_dir/name``.
    cleaned : list of CleanedText
        Every source text after cleaning.
    documents : list of Document
        Every document found, duplicates included (flagged by ``duplicate_of``).
    units : list of Unit
        The analysis units of the non-duplicate documents, sorted by ``unit_id``.
    skipped : list of SkippedSource
        Corpus entries that were not used, with the reason.
    timings : dict of str to float
        Seconds spent per stage.
    tokens : dict of str to list of str, or None
        The tokens of every unit, keyed by ``unit_id`` (``None`` for ``clean_corpus``).
    tokenization : dict of str to int
        ``units``, ``cache_hits`` and ``tokenised``: how many units came from the cache.
    models : ModelResults or None
        LDA, themes, clusters and model selection (``None`` for ``clean_corpus``).
    """

    config: Config
    run_dir: Path
    cleaned: list[CleanedText]
    documents: list[Document]
    units: list[Unit]
    skipped: list[SkippedSource]
    timings: dict[str, float] = field(default_factory=dict)
    tokens: Mapping[str, list[str]] | None = None  # unit id -> tokens (read on access)
    tokenization: dict[str, int] = field(default_factory=dict)
    models: Any = None

    def kept_documents(self) -> list[Document]:
        """The documents that are not near-duplicates of an earlier one."""
        return [doc for doc in self.documents if not doc.duplicate_of]


@contextmanager
def _timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    start = time.perf_counter()
    yield
    timings[stage] = round(time.perf_counter() - start, 4)
    logger.info("%s: done in %.2fs", stage, timings[stage])


def _as_config(config: Config | str | Path, overrides: list[str] | None) -> Config:
    if isinstance(config, Config):
        if overrides:
            from policytopics.config import apply_overrides, config_from_dict

            return config_from_dict(apply_overrides(config.model_dump(mode="json"), overrides))
        return config
    return load_config(config, overrides)


def _log_progress(stage: str) -> Callable[[int, int, str], None]:
    def report(done: int, total: int, current: str) -> None:
        logger.debug("%s: %d/%d %s", stage, done, total, current)

    return report


def prepare_corpus(config: Config, timings: dict[str, float]) -> tuple[
    list[CleanedText], list[Document], list[Unit], list[SkippedSource]
]:
    """Run ingestion, cleaning and segmentation; return cleaned texts, documents, units, skips.

    Parameters
    ----------
    config : Config
        The run's config (``corpus``, ``clean`` and ``segment`` are used).
    timings : dict of str to float
        Filled in place with the seconds spent on ``ingest``, ``clean`` and ``segment``.

    Returns
    -------
    cleaned : list of CleanedText
        Every usable source text after cleaning.
    documents : list of Document
        Every document found, near-duplicates included (flagged by ``duplicate_of``).
    units : list of Unit
        The units of the documents that are not near-duplicates, sorted by ``unit_id``.
    skipped : list of SkippedSource
        The corpus entries that were not used, with the reason.

    Raises
    ------
    CorpusError
        If the corpus cannot be used at all.
    ValueError
        If a boilerplate file or the OpenCC profile of ``config.clean`` is unusable.

    Examples
    --------
    >>> from policytopics.config import Config
    >>> cleaned, documents, units, skipped = prepare_corpus(Config(), {})  # doctest: +SKIP
    """
    from policytopics import clean, ingest, segment
    from policytopics.workers import resolve_workers

    with _timed(timings, "ingest"):
        ingested = ingest.read_corpus(config.corpus, progress=_log_progress("ingest"))
    for skip in ingested.skipped:
        logger.warning("skipped %s: %s", skip.source, skip.reason)
    for text in ingested.repaired:
        logger.warning("repaired %s: %s", text.source, text.repair)
    logger.info("ingest: %d texts read, %d skipped", len(ingested.texts), len(ingested.skipped))

    with _timed(timings, "clean"):
        rules = clean.load_boilerplate_rules(config.clean)
        cleaned = clean.clean_sources(ingested.texts, config.clean, rules, workers=resolve_workers(config.clean.workers))
    skipped = ingested.skipped
    del ingested  # the raw texts (the cleaned ones keep their provenance, not their text)

    with _timed(timings, "segment"):
        documents: list[Document] = []
        for item in cleaned:
            documents.extend(segment.split_documents(item, config.segment))
        documents = segment.mark_duplicates(documents, config.segment)
        units: list[Unit] = []
        for document in documents:
            if not document.duplicate_of:
                units.extend(segment.segment_document(document, config.segment))
    duplicates = [doc for doc in documents if doc.duplicate_of]
    for doc in duplicates:
        logger.info("segment: %s is a near-duplicate of %s (%s)", doc.doc_id, doc.duplicate_of, doc.duplicate_reason)
    logger.info("segment: %d documents (%d near-duplicates), %d units", len(documents), len(duplicates), len(units))
    units.sort(key=lambda unit: unit.unit_id)
    return cleaned, documents, units, skipped


def _metadata_columns(documents: list[Document]) -> list[str]:
    keys = sorted({key for doc in documents for key in doc.metadata})
    return [f"meta_{key}" if key in DOCUMENT_COLUMNS else key for key in keys]


def document_rows(
    documents: list[Document], units: list[Unit], themes: Any = None
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
        from policytopics.modelling import document_theme_values, theme_share_columns

        values = document_theme_values(themes)
        for row in rows:
            row.update(values.get(row["doc_id"], {}))  # duplicates keep empty theme cells
        columns += theme_share_columns(themes) + ["theme_distinct", "theme_ranking"]
    return rows, columns


def unit_rows(units: list[Unit], themes: Any = None) -> tuple[Iterator[dict[str, Any]], list[str]]:
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
        from policytopics.modelling import theme_share_columns, unit_theme_values

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


def _write_corpus_outputs(
    folder: Path,
    config: Config,
    cleaned: list[CleanedText],
    documents: list[Document],
    units: list[Unit],
    skipped: list[SkippedSource],
    themes: Any = None,
) -> None:
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


def tokenize_units(config: Config, units: list[Unit], timings: dict[str, float]) -> tuple[Any, Any]:
    """Tokenise ``units`` under ``config.tokenize`` (cached, parallel); return (tokenizer, corpus).

    Parameters
    ----------
    config : Config
        The run's config (``tokenize`` and ``cache`` are used).
    units : list of Unit
        The units to tokenise.
    timings : dict of str to float
        Filled in place with the seconds spent on ``tokenize``.

    Returns
    -------
    tokenizer : Tokenizer
        The run's tokenizer.
    corpus : TokenizedCorpus
        The tokens of each unit, in the order of ``units``, and how many came from the
        cache.

    Raises
    ------
    ResourceError
        If a dictionary or stopword file cannot be read.

    Examples
    --------
    >>> tokenizer, corpus = tokenize_units(Config(), units, {})  # doctest: +SKIP
    >>> corpus.cache_hits, corpus.tokenised  # doctest: +SKIP
    (229, 0)
    """
    from policytopics.progress import ProgressLine
    from policytopics.tokenize import TokenCache, Tokenizer, tokenize_texts
    from policytopics.workers import resolve_workers

    tokenizer = Tokenizer(config.tokenize, cache_dir=Path(config.cache.dir) / "jieba")
    cache = TokenCache(config.cache.dir) if config.cache.enabled else None
    progress = ProgressLine("tokenise", "units")
    try:
        with _timed(timings, "tokenize"):
            corpus = tokenize_texts(
                _UnitField(units, "text"),  # cut from the documents batch by batch, not all at once
                tokenizer,
                cache=cache,
                workers=resolve_workers(config.tokenize.workers),
                progress=progress,
                phrases=config.tokenize.phrases,
            )
    finally:
        progress.close()
        if cache is not None:
            cache.close()
    logger.info(
        "tokenize: %d units, %d from the cache, %d tokenised",
        len(units), corpus.cache_hits, corpus.tokenised,
    )
    return tokenizer, corpus


class _UnitField(Sequence[Any]):
    """One attribute of every unit, read on access (no list of it is made)."""

    def __init__(self, units: Sequence[Unit], name: str) -> None:
        self.units, self.name = units, name

    def __len__(self) -> int:
        return len(self.units)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [getattr(unit, self.name) for unit in self.units[index]]
        return getattr(self.units[index], self.name)


def _write_token_outputs(folder: Path, units: list[Unit], tokenizer: Any, corpus: Any) -> None:
    from policytopics.tokenize import vocabulary_rows

    artifacts.write_text(folder / "tokens.jsonl", (
        json.dumps({"unit_id": unit.unit_id, "tokens": tokens}, ensure_ascii=False) + "\n"
        for unit, tokens in zip(units, corpus.tokens)
    ))
    artifacts.write_csv(
        folder / "vocabulary.csv",
        vocabulary_rows(corpus, tokenizer.dictionary_terms),
        VOCABULARY_COLUMNS,
    )
    if corpus.phrases is not None:
        (folder / "model").mkdir(exist_ok=True)
        corpus.phrases.save(str(folder / "model" / "phrases.pkl"))


def resource_hashes(config: Config) -> dict[str, str]:
    """SHA-256 of every resource file that shaped a run: the package's own and the user's.

    Parameters
    ----------
    config : Config
        The run's config: its boilerplate, dictionary and stopword files and its codebook.

    Returns
    -------
    dict of str to str
        Path to hex SHA-256: ``policytopics/resources/<file>`` for the package's files, the
        path as the config gives it for the user's. The codebook is left out when the file
        does not exist.

    Raises
    ------
    OSError
        If a boilerplate, dictionary or stopword file named in the config cannot be read.

    Examples
    --------
    >>> hashes = resource_hashes(Config())
    >>> len(hashes["policytopics/resources/boilerplate.yaml"])
    64
    """
    resources = Path(__file__).parent / "resources"
    hashes = {
        f"policytopics/resources/{path.name}": sha256_file(path)
        for path in sorted(resources.iterdir())
        if path.is_file()
    }
    for path in [*config.clean.boilerplate_files, *config.tokenize.dictionaries, *config.tokenize.stopword_files]:
        hashes[path] = sha256_file(path)
    if Path(config.themes.codebook).is_file():  # a run without models may not have one
        hashes[config.themes.codebook] = sha256_file(config.themes.codebook)
    return hashes


def _write_model_outputs(folder: Path, config: Config, units: list[Unit], results: Any, corpus: Any) -> None:
    from policytopics import modelling
    from policytopics.evaluate import clustering_check, selection_summary
    from policytopics.ldavis import model_ldavis_html

    lda = results.lda
    rows, columns = modelling.topic_matrix_rows(
        _UnitField(units, "unit_id"), "unit_id", lda.doc_topic_, {"doc_id": _UnitField(units, "doc_id")}
    )
    artifacts.write_csv(folder / "unit_topic.csv", rows, columns)
    rows, columns = modelling.topic_matrix_rows(results.doc_ids, "doc_id", results.doc_topic)
    artifacts.write_csv(folder / "doc_topic.csv", rows, columns)
    rows = modelling.topics_rows(results, config)
    artifacts.write_csv(folder / "topics.csv", rows, list(rows[0]))
    artifacts.write_csv(folder / "topic_terms.csv", modelling.topic_terms_rows(results, config), ("topic", "rank", "term", "weight"))
    artifacts.write_csv(folder / "clusters.csv", modelling.cluster_rows(results, units), ("unit_id", "cluster", "cluster_theme"))
    artifacts.write_csv(folder / "cluster_terms.csv", modelling.cluster_terms_rows(results), ("cluster", "theme", "rank", "term", "weight"))
    artifacts.write_csv(folder / "agreement.csv", modelling.agreement_rows(results), ("lda_theme", "cluster_theme", "units"))
    artifacts.write_csv(folder / "keywords.csv", results.keyword_check.rows(results.codebook), ("theme", "keyword", "status"))
    selection_columns = list(results.selection[0])
    artifacts.write_csv(folder / "model_selection.csv", results.selection, selection_columns)
    stability = [
        {"num_topics": row["num_topics"], "seed": row["seed"], "jaccard": row["jaccard"]}
        for row in results.selection
        if row.get("jaccard") is not None
    ]
    artifacts.write_csv(folder / "stability.csv", stability, ("num_topics", "seed", "jaccard"))
    artifacts.write_json(folder / "summary.json", {
        "method": config.lda.method,
        "num_topics": int(lda.topic_term_.shape[0]),
        "themes": results.codebook.ids,
        "keywords_used": sum(len(v) for v in results.keyword_check.usable.values()),
        "keywords_split": len(results.keyword_check.split),
        "keywords_absent": len(results.keyword_check.absent),
        "clusters": int(results.clusters.k_),
        "agreement_ari": round(float(results.agreement_ari), 6),
        **clustering_check(round(float(results.agreement_ari), 6), results.cluster_themes),
        **selection_summary(results.selection, config.selection, config.lda.num_topics),
        "unit_themes": {t: results.unit_themes.count(t) for t in [*results.codebook.ids, MIXED, NONE]},
        "document_themes": dict(zip(results.doc_ids, results.doc_themes)),
        "theme_ensemble": results.ensemble,
    })
    # the data-only topic-term distribution (no prior pseudo-counts); units of length 0 left out
    artifacts.write_text(
        folder / "lda.html",
        model_ldavis_html(
            lda, corpus.tokens.lengths(), title=f"policytopics: {config.name}", embed_font=config.output.embed_font,
        ),
    )
    lda.save(folder / "model")


def _write_figures_and_report(folder: Path, config: Config, models: Any, manifest: dict[str, Any], timings: dict[str, float]) -> None:
    """Figures from the written tables, then the report that inlines them (and cites the manifest)."""
    from policytopics.figures import write_figures
    from policytopics.report import write_report

    themes = models.codebook.themes
    figures: list[str] = []
    if config.output.figures:
        with _timed(timings, "figures"):
            figures = write_figures(
                folder, {theme.id: theme.label_zh for theme in themes}, models.lda.num_topics,
                max_speeches=config.output.max_speeches_shown,
            )
    if config.output.report:
        provenance = {key: manifest[key] for key in ("config_sha256", "seed", "inputs", "resources", "packages")}
        with _timed(timings, "report"):
            write_report(
                folder, themes, provenance, figures, models.lda.num_topics, config.output.embed_font, config.name,
                max_speeches=config.output.max_speeches_shown,
            )


def _execute(config: Config, stages: tuple[str, ...], force: bool = False) -> RunResult:
    timings: dict[str, float] = {}
    run_dir = Path(config.output.results_dir) / config.name
    resolved_yaml = config.to_yaml()
    # before the slow stages: leftovers of killed runs go, another config's run folder stays
    artifacts.tidy_run_folder(run_dir)
    artifacts.check_replaceable(run_dir, resolved_yaml, force=force)
    logger.info("run '%s': reading %s", config.name, config.corpus.path)
    codebook = None
    if "model" in stages:  # fail on a bad codebook or model setting before the slow stages
        from policytopics.modelling import check_model_config

        codebook = check_model_config(config)
    cleaned, documents, units, skipped = prepare_corpus(config, timings)
    tokenizer = corpus = models = None
    if "tokenize" in stages:
        tokenizer, corpus = tokenize_units(config, units, timings)
    if "model" in stages:
        from policytopics.modelling import fit_models

        with _timed(timings, "model"):
            models = fit_models(config, units, documents, corpus.tokens, tokenizer.tokenize, codebook)

    def still_replaceable() -> None:  # another run may have written run_dir meanwhile
        artifacts.check_replaceable(run_dir, resolved_yaml, force=force)

    with _timed(timings, "artifacts"), artifacts.atomic_run_folder(run_dir, still_replaceable) as staging:
        artifacts.write_text(staging / "config.resolved.yaml", resolved_yaml)
        _write_corpus_outputs(staging, config, cleaned, documents, units, skipped, models)
        if corpus is not None:
            _write_token_outputs(staging, units, tokenizer, corpus)
        if models is not None:
            _write_model_outputs(staging, config, units, models, corpus)
        manifest = artifacts.build_manifest(
            staging,
            config_sha256=sha256_bytes(resolved_yaml.encode("utf-8")),
            inputs={item.source.source: item.source.sha256 for item in cleaned},
            resources=resource_hashes(config),
            stages=stages,
            seed=config.seed,
        )
        if models is not None:
            _write_figures_and_report(staging, config, models, manifest, timings)
            manifest["artifacts"] = artifacts.hash_tree(staging)  # now with the figures and report
        artifacts.write_json(staging / "manifest.json", manifest)
        artifacts.write_json(staging / "timings.json", timings)
    logger.info("run '%s': wrote %s", config.name, run_dir)
    tokens = tokenization = None
    if corpus is not None:
        from policytopics.packed import TokensByUnit

        tokens = TokensByUnit([unit.unit_id for unit in units], corpus.tokens)
        tokenization = {"units": len(units), "cache_hits": corpus.cache_hits, "tokenised": corpus.tokenised}
    return RunResult(config, run_dir, cleaned, documents, units, skipped, timings, tokens, tokenization or {}, models)


def run(config: Config | str | Path, overrides: list[str] | None = None, *, force: bool = False) -> RunResult:
    """Run the whole pipeline for ``config`` and write its run folder.

    The run folder ``results_dir/name`` is written into a hidden temporary folder and
    renamed into place only when the run succeeds, so an interrupted run leaves the previous
    results as they were. An existing run folder of the same config is replaced (a
    reproduction); one made from another config is refused before any stage runs, unless
    ``force``.

    Parameters
    ----------
    config : Config or path
        A validated config, or the path of a YAML config file.
    overrides : list of str, optional
        ``dotted.key=value`` settings applied on top of the config.
    force : bool
        Replace the run folder even if another config made it (``--force``).

    Returns
    -------
    RunResult
        The records of every stage and the run folder path.

    Raises
    ------
    RunFolderConflictError
        If the run folder exists and was made from another config (and not ``force``).

    Examples
    --------
    >>> import policytopics
    >>> result = policytopics.run("configs/default.yaml")  # doctest: +SKIP
    >>> len(result.kept_documents())  # doctest: +SKIP
    10
    """
    return _execute(_as_config(config, overrides), ("ingest", "clean", "segment", "tokenize", "model"), force)


def clean_corpus(
    config: Config | str | Path, overrides: list[str] | None = None, *, force: bool = False
) -> RunResult:
    """Run only ingestion, cleaning and segmentation, and write the cleaned documents.

    The run folder gets ``documents.csv``, ``units.csv``, ``cleaned/<doc_id>.txt`` and
    ``cleaning_report.json``, so a researcher can inspect what cleaning did before
    modelling. It is written, and guarded with ``force``, as by :func:`run`.

    Parameters
    ----------
    config : Config or path
        A validated config, or the path of a YAML config file.
    overrides : list of str, optional
        ``dotted.key=value`` settings applied on top of the config.
    force : bool
        Replace the run folder even if another config made it.

    Returns
    -------
    RunResult
        The cleaned texts, documents, units and skipped entries, and the run folder path;
        ``tokens`` and ``models`` are ``None``.

    Raises
    ------
    RunFolderConflictError
        If the run folder exists and was made from another config (and not ``force``).

    Examples
    --------
    >>> result = clean_corpus("configs/default.yaml", ["name=inspect"])  # doctest: +SKIP
    """
    return _execute(_as_config(config, overrides), ("ingest", "clean", "segment"), force)
