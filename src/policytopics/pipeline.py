"""The pipeline driver: ``run(config) -> RunResult``, the one function the CLI and notebooks call.

In: a ``Config`` (or the path of a YAML config). Out: a run folder ``results/<name>/``
and a ``RunResult`` holding the records of every stage, so that a notebook can explore
them without re-reading the files.

Stages run one way, each a pure function over the records of the stage before::

    ingest -> clean -> segment (documents, near-duplicates, units) -> tokenize
           -> model (LDA, themes, clusters, selection) -> artefacts
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from policytopics import artifacts
from policytopics.config import Config, load_config
from policytopics.provenance import sha256_bytes, sha256_file
from policytopics.outputs import write_corpus_outputs, write_token_outputs
from policytopics.records import CleanedText, CorpusRecords, Document, SkippedSource, Unit, UnitField

if TYPE_CHECKING:
    from policytopics.codebook import Theme
    from policytopics.fitting import ModelResults
    from policytopics.tokenize import TokenizedCorpus, Tokenizer

logger = logging.getLogger("policytopics")

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
    models: ModelResults | None = None

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


def _log_progress(stage: str, bar: Any) -> Callable[[int, int, str], None]:
    """A ``progress(done, total, current)`` callback: a debug line per entry, and the bar."""
    from policytopics.progress import progress_callback

    advance = progress_callback(bar)

    def report(done: int, total: int, current: str) -> None:
        logger.debug("%s: %d/%d %s", stage, done, total, current)
        advance(done, total)

    return report


def prepare_corpus(config: Config, timings: dict[str, float]) -> CorpusRecords:
    """Run ingestion, cleaning and segmentation; return cleaned texts, documents, units, skips.

    Parameters
    ----------
    config : Config
        The run's config (``corpus``, ``clean`` and ``segment`` are used).
    timings : dict of str to float
        Filled in place with the seconds spent on ``ingest``, ``clean`` and ``segment``.

    Returns
    -------
    CorpusRecords
        The cleaned texts, documents, units and skipped entries.

    Raises
    ------
    CorpusError
        If the corpus cannot be used at all.
    ValueError
        If a boilerplate file or the OpenCC profile of ``config.clean`` is unusable.

    Examples
    --------
    >>> from policytopics.config import Config
    >>> corpus = prepare_corpus(Config(), {})  # doctest: +SKIP
    >>> len(corpus.units)  # doctest: +SKIP
    229
    """
    from policytopics import clean, ingest
    from policytopics.corpus_cache import corpus_key, corpus_store, load_corpus, store_corpus
    from policytopics.progress import progress_bar, progress_callback
    from policytopics.workers import resolve_workers

    entries = "file" if Path(config.corpus.path).is_dir() else "row"
    with _timed(timings, "ingest"), progress_bar(None, "ingest", entries) as bar:
        ingested = ingest.read_corpus(config.corpus, progress=_log_progress("ingest", bar))
    for skip in ingested.skipped:
        logger.warning("skipped %s: %s", skip.source, skip.reason)
    for text in ingested.repaired:
        logger.warning("repaired %s: %s", text.source, text.repair)
    logger.info("ingest: %d texts read, %d skipped", len(ingested.texts), len(ingested.skipped))
    skipped = ingested.skipped

    # a rerun on the same texts with the same clean and segment settings (and code) reads them back
    store = corpus_store(config)
    key, found = "", None
    with _timed(timings, "clean"):
        if store is not None:
            key = corpus_key(config, ingested.texts)
            found = load_corpus(store, key, ingested.texts)
    lookup = timings["clean"]
    if found is not None:
        with _timed(timings, "segment"):
            cleaned, documents, units = found
        logger.info("clean, segment: read from the cache (entry %s)", key[:12])
        return _corpus_records(cleaned, documents, units, skipped)

    with _timed(timings, "clean"), progress_bar(len(ingested.texts), "clean", "text") as bar:
        rules = clean.load_boilerplate_rules(config.clean)
        cleaned = clean.clean_sources(
            ingested.texts, config.clean, rules, workers=resolve_workers(config.clean.workers),
            progress=progress_callback(bar),
        )
    timings["clean"] = round(timings["clean"] + lookup, 4)
    del ingested  # the raw texts (the cleaned ones keep their provenance, not their text)

    with _timed(timings, "segment"):
        documents, units = segment_cleaned(cleaned, config)
    if store is not None:
        store_corpus(store, key, cleaned, documents, units)
    return _corpus_records(cleaned, documents, units, skipped)


def segment_cleaned(cleaned: Sequence[CleanedText], config: Config) -> tuple[list[Document], list[Unit]]:
    """Split cleaned texts into documents, mark near-duplicates and cut the others into units
    (``config.segment``): the segmentation stage, as every run (and ``apply``) does it.

    Parameters
    ----------
    cleaned : sequence of CleanedText
        The cleaning stage's texts.
    config : Config
        The run's config (``segment`` is used).

    Returns
    -------
    documents : list of Document
        Every document, near-duplicates marked.
    units : list of Unit
        The units of the documents that are not near-duplicates, sorted by ``unit_id``.

    Examples
    --------
    >>> documents, units = segment_cleaned(corpus.cleaned, Config())  # doctest: +SKIP
    """
    from policytopics import segment
    from policytopics.progress import progress_bar

    documents: list[Document] = []
    for item in cleaned:
        documents.extend(segment.split_documents(item, config.segment))
    documents = segment.mark_duplicates(documents, config.segment)
    units: list[Unit] = []
    with progress_bar(len(documents), "segment", "document") as bar:
        for document in documents:
            if not document.duplicate_of:
                units.extend(segment.segment_document(document, config.segment))
            bar.update(1)
    units.sort(key=lambda unit: unit.unit_id)
    return documents, units


def _corpus_records(
    cleaned: list[CleanedText], documents: list[Document], units: list[Unit], skipped: list[SkippedSource]
) -> CorpusRecords:
    """The corpus stages' records, with the segment log lines (the same whether read from the cache or not)."""
    duplicates = [doc for doc in documents if doc.duplicate_of]
    for doc in duplicates:
        logger.info("segment: %s is a near-duplicate of %s (%s)", doc.doc_id, doc.duplicate_of, doc.duplicate_reason)
    logger.info("segment: %d documents (%d near-duplicates), %d units", len(documents), len(duplicates), len(units))
    return CorpusRecords(cleaned=cleaned, documents=documents, units=units, skipped=skipped)


def tokenize_units(config: Config, units: list[Unit], timings: dict[str, float]) -> tuple[Tokenizer, TokenizedCorpus]:
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
    from policytopics.progress import progress_bar, progress_callback
    from policytopics.tokenize import TokenCache, Tokenizer, tokenize_texts
    from policytopics.workers import resolve_workers

    tokenizer = Tokenizer(config.tokenize, cache_dir=Path(config.cache.dir) / "jieba")
    cache = TokenCache(config.cache.dir) if config.cache.enabled else None
    try:
        with _timed(timings, "tokenize"), progress_bar(len(units), "tokenise", "unit") as bar:
            corpus = tokenize_texts(
                UnitField(units, "text"),  # cut from the documents batch by batch, not all at once
                tokenizer,
                cache=cache,
                workers=resolve_workers(config.tokenize.workers),
                progress=progress_callback(bar),
                phrases=config.tokenize.phrases,
            )
    finally:
        if cache is not None:
            cache.close()
    logger.info(
        "tokenize: %d units, %d from the cache, %d tokenised",
        len(units), corpus.cache_hits, corpus.tokenised,
    )
    return tokenizer, corpus


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


def _write_figures_and_report(
    folder: Path, config: Config, themes: Sequence[Theme], num_topics: int, manifest: dict[str, Any], timings: dict[str, float]
) -> None:
    """Figures from the written tables (the comparisons' too), then the report that inlines
    them (and cites the manifest)."""
    from policytopics.effect_figures import write_effect_figures
    from policytopics.figures import write_figures
    from policytopics.report import write_report

    figures: list[str] = []
    if config.output.figures:
        labels = {theme.id: theme.label_zh for theme in themes}
        with _timed(timings, "figures"):
            figures = write_figures(
                folder, labels, num_topics, max_speeches=config.output.max_speeches_shown, cache_dir=config.cache.folder(),
            )
            figures = sorted([*figures, *write_effect_figures(folder, labels)])
    if config.output.report:
        provenance = {key: manifest[key] for key in ("config_sha256", "seed", "inputs", "resources", "packages")}
        with _timed(timings, "report"):
            write_report(
                folder, themes, provenance, figures, num_topics, config.output.embed_font, config.name,
                max_speeches=config.output.max_speeches_shown, cache_dir=config.cache.folder(),
            )


def _check_effects(config: Config, documents: list[Document], units: list[Unit], theme_ids: Sequence[str]) -> None:
    """Check the ``effects`` analyses against the documents' metadata, typed as documents.csv
    will be read (:func:`policytopics.effects.check_effects`)."""
    import io

    import pandas as pd

    from policytopics.effects import check_effects
    from policytopics.outputs import document_rows

    rows, columns = document_rows(documents, units)
    text = pd.DataFrame(rows, columns=columns).to_csv(index=False)
    table = pd.read_csv(io.StringIO(text), dtype={"doc_id": str, "duplicate_of": str})
    assert config.effects is not None
    check_effects(config.effects, table[table["duplicate_of"].isna()].reset_index(drop=True), theme_ids)


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
        # the fitting stage (gensim, scikit-learn) is imported only by runs that fit models
        from policytopics.fitting import check_model_config, fit_models
        from policytopics.outputs import write_model_outputs

        codebook = check_model_config(config)
    records = prepare_corpus(config, timings)
    if config.effects is not None and codebook is not None:  # bad analyses fail before the models
        _check_effects(config, records.documents, records.units, codebook.ids)
    cleaned, documents, units, skipped = records.cleaned, records.documents, records.units, records.skipped
    tokenizer = corpus = models = None
    if "tokenize" in stages:
        tokenizer, corpus = tokenize_units(config, units, timings)
    if "model" in stages:
        with _timed(timings, "model"):
            from policytopics.tokenize import CachedTokenize

            # keywords through the token cache: a rerun does not build jieba for them
            keyword_tokenize = CachedTokenize(tokenizer, config.cache.folder())
            models = fit_models(config, units, documents, corpus.tokens, keyword_tokenize, codebook)

    def still_replaceable() -> None:  # another run may have written run_dir meanwhile
        artifacts.check_replaceable(run_dir, resolved_yaml, force=force)

    with _timed(timings, "artifacts"), artifacts.atomic_run_folder(run_dir, still_replaceable) as staging:
        artifacts.write_text(staging / "config.resolved.yaml", resolved_yaml)
        write_corpus_outputs(staging, config, cleaned, documents, units, skipped, models)
        if corpus is not None:
            write_token_outputs(staging, units, tokenizer, corpus, config.cache.folder())
        if models is not None:
            write_model_outputs(staging, config, units, models, corpus)
            if config.effects is not None:
                from policytopics.effects import write_effect_outputs

                with _timed(timings, "effects"):
                    write_effect_outputs(staging, config.effects, config.seed, models.codebook.ids)
        manifest = artifacts.build_manifest(
            staging,
            config_sha256=sha256_bytes(resolved_yaml.encode("utf-8")),
            inputs={item.source.source: item.source.sha256 for item in cleaned},
            resources=resource_hashes(config),
            stages=stages,
            seed=config.seed,
        )
        if models is not None:
            _write_figures_and_report(staging, config, models.codebook.themes, models.lda.num_topics, manifest, timings)
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


def compare(config: Config | str | Path, overrides: list[str] | None = None) -> Path:
    """Estimate the config's ``effects`` from its existing run folder, without re-running it.

    Reads the run folder ``results_dir/name`` that ``run`` wrote for the same config (any
    ``effects`` section aside), writes ``effects.csv``, ``theme_by_year.csv`` and
    ``theme_by_group.csv`` (:func:`policytopics.effects.write_effect_outputs`), their figures
    and the report into a copy of it, updates ``config.resolved.yaml`` and ``manifest.json``,
    and puts the copy in its place: an error leaves the folder as it was. The folder is then
    what ``run`` writes for this config (``run`` computes the effects too when the section
    is present).

    Parameters
    ----------
    config : Config or path
        A validated config, or the path of a YAML config file, with an ``effects`` section.
    overrides : list of str, optional
        ``dotted.key=value`` settings applied on top of the config.

    Returns
    -------
    Path
        The run folder.

    Raises
    ------
    ConfigError
        No ``effects`` section, or an analysis that cannot be estimated (a column the corpus
        lacks, a covariate with one level, a theme not in the codebook, too few documents).
    RunFolderConflictError
        No run folder of this config yet (run it first).

    Examples
    --------
    >>> import policytopics
    >>> policytopics.compare("configs/province-panel.yaml")  # doctest: +SKIP
    PosixPath('results/province-panel')
    """
    import json
    import shutil

    from policytopics.codebook import load_codebook
    from policytopics.config import ConfigError
    from policytopics.effects import DRAWS_FILE, write_effect_outputs
    from policytopics.errors import RunFolderConflictError

    config = _as_config(config, overrides)
    if config.effects is None:
        raise ConfigError("effects: the config has no effects section: there is nothing to compare")
    run_dir = Path(config.output.results_dir) / config.name
    recorded = run_dir / "config.resolved.yaml"
    resolved_yaml = config.to_yaml()
    if not (recorded.is_file() and (run_dir / DRAWS_FILE).is_file() and (run_dir / "manifest.json").is_file()):
        raise RunFolderConflictError(
            f"compare: {run_dir} holds no run with models of this config (or one written before "
            f"{DRAWS_FILE} existed): run it first, e.g. python -m policytopics run CONFIG"
        )
    if not artifacts.configs_match(recorded.read_text(encoding="utf-8"), resolved_yaml):
        raise RunFolderConflictError(
            f"compare: {run_dir} was made from another config (beyond its effects section): "
            "run this config first, e.g. python -m policytopics run CONFIG"
        )
    codebook = load_codebook(config.themes.codebook, config.themes.ids)
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    num_topics = int(json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))["num_topics"])
    timings: dict[str, float] = {}
    with artifacts.atomic_run_folder(run_dir) as staging:
        shutil.copytree(run_dir, staging, dirs_exist_ok=True)
        for path in staging.glob("figures/*"):  # redrawn below (from the figure cache if unchanged)
            path.unlink()
        artifacts.write_text(staging / "config.resolved.yaml", resolved_yaml)
        with _timed(timings, "effects"):
            write_effect_outputs(staging, config.effects, config.seed, codebook.ids)
        manifest["config_sha256"] = sha256_bytes(resolved_yaml.encode("utf-8"))
        _write_figures_and_report(staging, config, codebook.themes, num_topics, manifest, timings)
        manifest["artifacts"] = artifacts.hash_tree(staging)
        artifacts.write_json(staging / "manifest.json", manifest)
        previous = json.loads((staging / "timings.json").read_text(encoding="utf-8"))
        artifacts.write_json(staging / "timings.json", {**previous, **timings})
    logger.info("compare '%s': wrote %s", config.name, run_dir)
    return run_dir


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
