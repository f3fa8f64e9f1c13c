"""Apply a published run to new texts: theme shares from the same model, not from a refit.

:func:`load` reads a run folder into a :class:`PublishedModel`, after checking its model
files and resolved config against the run's ``manifest.json`` and its resource files
(dictionaries, stopwords, boilerplate rules, codebook) against the hashes the manifest
recorded. :meth:`PublishedModel.transform` cleans, segments and tokenises new texts exactly
as the run did (its resolved config), maps their tokens to the run's vocabulary and measures
every unit with the run's ensemble of fits (``model/ensemble/``, the same deterministic
E-step) and theme settings: a text that was in the run gets the shares the run gave it.
:func:`apply_corpus` does it for a corpus folder or file and writes ``documents.csv`` and
``units.csv`` in the run's format, with a manifest naming the model (``python -m
policytopics apply RUN_DIR CORPUS``).

Intervals are drawn as in the run (seeded by its ``seed``) but over the units applied
together, so a unit's interval bounds can differ from the run's by the draws' noise; its
shares do not.

In: a run folder and new texts. Out: their unit and document theme shares.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from policytopics import artifacts
from policytopics.codebook import UNASSIGNED, Codebook
from policytopics.config import Config
from policytopics.errors import ArtifactMismatchError, PolicytopicsError
from policytopics.records import CleanedText, Document, SourceText, Unit
from policytopics.themes import DocumentThemes, ThemeScorer, UnitThemes

logger = logging.getLogger("policytopics")

__all__ = ["AppliedThemes", "PublishedModel", "apply_corpus", "load"]


@dataclass(frozen=True)
class AppliedThemes:
    """The theme measurement of applied texts, in the shape the run's tables are written from.

    Attributes
    ----------
    codebook : Codebook
    documents, units : list
        The applied texts' documents (near-duplicates flagged) and units.
    unit_measures, doc_measures : UnitThemes, DocumentThemes
        As a run's (:class:`policytopics.themes.ThemeScorer`).
    cleaned : list of CleanedText
        The cleaned texts (for ``cleaned/`` and the cleaning report).
    """

    codebook: Codebook
    documents: list[Document]
    units: list[Unit]
    unit_measures: UnitThemes
    doc_measures: DocumentThemes
    cleaned: list[CleanedText] = field(default_factory=list)

    @property
    def theme_columns(self) -> list[str]:
        """Theme ids plus ``unassigned``: the columns of the share matrices."""
        return [*self.codebook.ids, UNASSIGNED]

    def tables(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """``documents.csv`` and ``units.csv`` of the applied texts, as data frames."""
        from policytopics.outputs import document_rows, unit_rows

        rows, columns = document_rows(self.documents, self.units, self)  # type: ignore[arg-type]
        documents = pd.DataFrame(rows, columns=columns)
        rows, columns = unit_rows(self.units, self)  # type: ignore[arg-type]
        return documents, pd.DataFrame(list(rows), columns=columns)


@dataclass
class PublishedModel:
    """A run's measurement, ready to apply to new texts (see :func:`load`).

    Attributes
    ----------
    run_dir : Path
    config : Config
        The run's resolved config.
    codebook : Codebook
    members : list of dict
        The fits that measured the run's themes (:func:`policytopics.models.ensemble.load_ensemble`).
    dictionary : gensim.corpora.Dictionary
        The run's model vocabulary.
    manifest : dict
        The run's ``manifest.json`` (what applied tables name as their model).
    """

    run_dir: Path
    config: Config
    codebook: Codebook
    members: list[dict[str, Any]]
    dictionary: Any
    manifest: dict[str, Any]

    def measure(self, token_lists: Sequence[Sequence[str]], units: Sequence[Unit],
                documents: Sequence[Document]) -> tuple[UnitThemes, DocumentThemes]:
        """Theme shares of tokenised units and of their documents, with the run's fits and settings.

        Parameters
        ----------
        token_lists : sequence of sequence of str
            Each unit's tokens (as the run's tokenizer gives them).
        units : sequence of Unit
            The units, in the order of ``token_lists``.
        documents : sequence of Document
            Their documents; near-duplicates get no shares.

        Returns
        -------
        (UnitThemes, DocumentThemes)
        """
        from policytopics.models.lda import _normalise_rows
        from policytopics.models.variational import estep
        from policytopics.packed import PackedBows
        from policytopics.themes import theme_dirichlet

        bows = PackedBows.from_lists([self.dictionary.doc2bow(list(tokens)) for tokens in token_lists])
        n_tokens = bows.token_counts()
        ids = self.codebook.ids
        dirichlet = []
        for member in self.members:
            beta = np.asarray(member["exp_elog_beta"], dtype=np.float64)
            alpha = np.asarray(member["alpha"], dtype=np.float64)
            gamma, _ = estep(beta, alpha, bows, np.ones((len(bows), len(alpha))), int(member["iterations"]),
                             float(member["gamma_threshold"]))
            themes = [theme if theme != UNASSIGNED else None for theme in member["themes"]]
            dirichlet.append(theme_dirichlet(_normalise_rows(gamma), float(np.sum(member["alpha"])), n_tokens, themes, ids))
        scorer = ThemeScorer.from_config(self.config, ids)
        unit_measures = scorer.score_units(np.stack(dirichlet))
        kept = [doc.doc_id for doc in documents if not doc.duplicate_of]
        doc_measures = scorer.score_documents(unit_measures, [u.doc_id for u in units], [u.n_chars for u in units], kept)
        return unit_measures, doc_measures

    def apply_sources(self, sources: Sequence[SourceText]) -> AppliedThemes:
        """Clean, segment, tokenise and measure source texts as the run did."""
        from policytopics import clean
        from policytopics.pipeline import segment_cleaned, tokenize_units

        rules = clean.load_boilerplate_rules(self.config.clean)
        cleaned = clean.clean_sources(sources, self.config.clean, rules)
        documents, units = segment_cleaned(cleaned, self.config)
        if not units:
            raise PolicytopicsError("apply: no text left to measure after cleaning and segmentation")
        # the run's tokenising stage itself (its token cache and worker processes), without
        # learning collocations anew: the run's own (model/phrases.pkl) are applied instead
        phrases = self.config.tokenize.phrases.enabled
        config = self.config
        if phrases:
            tokenize = config.tokenize.model_copy(update={"phrases": config.tokenize.phrases.model_copy(update={"enabled": False})})
            config = config.model_copy(update={"tokenize": tokenize})
        _, corpus = tokenize_units(config, units, {})
        token_lists: Sequence[Sequence[str]] = corpus.tokens
        if phrases:
            from gensim.models.phrases import FrozenPhrases

            model = FrozenPhrases.load(str(self.run_dir / "model" / "phrases.pkl"))  # checked by load()
            token_lists = [model[list(tokens)] for tokens in corpus.tokens]
        unit_measures, doc_measures = self.measure(token_lists, units, documents)
        return AppliedThemes(self.codebook, documents, units, unit_measures, doc_measures, cleaned)

    def transform(self, texts: Sequence[str] | Mapping[str, str]) -> AppliedThemes:
        """Theme shares of new texts, with intervals, cleaned and tokenised as in the run.

        Parameters
        ----------
        texts : sequence of str, or mapping of str to str
            The texts (each one source, which may hold several speeches), or ids to texts;
            a sequence's texts are named ``text-0001``, ``text-0002``, ...

        Returns
        -------
        AppliedThemes
            Its :meth:`~AppliedThemes.tables` are ``documents.csv`` and ``units.csv``.

        Examples
        --------
        >>> model = load("results/default")  # doctest: +SKIP
        >>> documents, units = model.transform(["各位代表：今年我们将加快招商引资……"]).tables()  # doctest: +SKIP
        """
        named = dict(texts) if isinstance(texts, Mapping) else {f"text-{i:04d}": text for i, text in enumerate(texts, 1)}
        sources = [
            SourceText(source=name, text=text.replace("\r\n", "\n").replace("\r", "\n"), encoding="text",
                       sha256=hashlib.sha256(text.encode("utf-8")).hexdigest())
            for name, text in named.items()
        ]
        return self.apply_sources(sources)


def _check_resources(manifest: Mapping[str, Any], config: Config, run_dir: Path) -> None:
    """Every resource file the run read (the package's and the user's) must still have the
    bytes it had then (:func:`policytopics.pipeline.resource_hashes`)."""
    from policytopics.pipeline import resource_hashes

    recorded = manifest.get("resources", {})
    try:
        current = resource_hashes(config)
    except OSError as error:
        raise ArtifactMismatchError(f"apply: a resource file of run {run_dir} cannot be read: {error}") from None
    changed = sorted(path for path in recorded.keys() | current.keys() if recorded.get(path) != current.get(path))
    if changed:
        raise ArtifactMismatchError(
            f"apply: the resource files of run {run_dir} differ from those it was made with: {', '.join(changed)}; "
            "new texts would not be tokenised or measured as in the run (restore them, or run the config again)"
        )


def load(run_dir: str | Path) -> PublishedModel:
    """Read a run folder's measurement, checked against its manifest, to apply it to new texts.

    Parameters
    ----------
    run_dir : str or Path
        A run folder written by ``run`` (``results/<name>``). Relative resource paths in its
        config (dictionaries, stopwords, codebook) are read from the current directory, as
        the run read them.

    Returns
    -------
    PublishedModel

    Raises
    ------
    ArtifactMismatchError
        A model file or the resolved config differs from the manifest, or a resource file
        differs from the one the run read.
    FileNotFoundError
        No manifest, or a run folder without the measuring fits (made by an older version).

    Examples
    --------
    >>> import policytopics
    >>> model = policytopics.load("results/default")  # doctest: +SKIP
    >>> model.transform(["……"]).unit_measures.shares.shape  # doctest: +SKIP
    (1, 9)
    """
    import json

    import yaml
    from gensim.corpora import Dictionary

    from policytopics.checksums import verify_artifacts
    from policytopics.codebook import load_codebook
    from policytopics.config import config_from_dict
    from policytopics.models.ensemble import load_ensemble
    from policytopics.provenance import sha256_file

    run_dir = Path(run_dir)
    manifest_path = run_dir / "manifest.json"
    if not manifest_path.is_file():
        raise FileNotFoundError(f"apply: {run_dir} has no manifest.json: not a run folder")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    verify_artifacts(run_dir, "model")
    resolved = run_dir / "config.resolved.yaml"
    if sha256_file(resolved) != manifest.get("artifacts", {}).get("config.resolved.yaml"):
        raise ArtifactMismatchError(f"apply: {resolved} differs from the one manifest.json records")
    config = config_from_dict(yaml.safe_load(resolved.read_text(encoding="utf-8")), source=str(resolved))
    _check_resources(manifest, config, run_dir)
    codebook = load_codebook(config.themes.codebook, config.themes.ids)
    return PublishedModel(
        run_dir, config, codebook, load_ensemble(run_dir), Dictionary.load(str(run_dir / "model" / "dictionary.gensim")),
        manifest,
    )


def apply_corpus(run_dir: str | Path, corpus: str | Path, out: str | Path | None = None,
                 overrides: Sequence[str] = ()) -> Path:
    """Measure a corpus with a published run and write ``documents.csv`` and ``units.csv``.

    The corpus is read with the run's ``corpus`` settings (``overrides`` such as
    ``corpus.text_column=...`` apply to them), cleaned, segmented and tokenised as in the run,
    and measured by :meth:`PublishedModel.measure`. The output folder gets the two tables in
    the run's format, ``cleaned/``, ``cleaning_report.json`` and a ``manifest.json`` naming
    the model it came from (the run folder, its config hash and the hashes of its model
    files); it is written in full or not at all.

    Parameters
    ----------
    run_dir : str or Path
        The run folder (:func:`load`).
    corpus : str or Path
        A folder of ``.txt`` files or a ``.csv``/``.jsonl`` file.
    out : str or Path, optional
        The output folder (default: ``<run_dir>-applied-<corpus name>`` beside the run folder).
    overrides : sequence of str
        ``corpus.key=value`` settings for reading the new corpus.

    Returns
    -------
    Path
        The output folder.

    Examples
    --------
    >>> apply_corpus("results/city-2024", "new-reports/")  # doctest: +SKIP
    PosixPath('results/city-2024-applied-new-reports')
    """
    from policytopics import ingest
    from policytopics.config import ConfigError, apply_overrides, config_from_dict
    from policytopics.outputs import write_corpus_outputs
    from policytopics.provenance import package_versions, sha256_bytes

    model = load(run_dir)
    run_dir, corpus = Path(run_dir), Path(corpus)
    if any(not text.startswith("corpus.") for text in overrides):
        raise ConfigError("apply: only corpus.* settings may be changed (the rest is the run's)")
    data = apply_overrides({**model.config.model_dump(mode="json"), "corpus": {
        **model.config.corpus.model_dump(mode="json"), "path": str(corpus)}}, list(overrides))
    config = config_from_dict(data, source=f"{run_dir}/config.resolved.yaml with corpus.path={corpus}")
    ingested = ingest.read_corpus(config.corpus)
    for skip in ingested.skipped:
        logger.warning("skipped %s: %s", skip.source, skip.reason)
    model.config = config
    applied = model.apply_sources(ingested.texts)
    out = Path(out) if out is not None else run_dir.parent / f"{run_dir.name}-applied-{corpus.stem}"
    with artifacts.atomic_run_folder(out) as staging:
        write_corpus_outputs(staging, config, applied.cleaned, applied.documents, applied.units,
                             ingested.skipped, applied)  # type: ignore[arg-type]
        artifacts.write_json(staging / "manifest.json", {
            "manifest_version": 1,
            "applied_model": {
                "run_dir": str(run_dir),
                "config_sha256": model.manifest["config_sha256"],
                "model_artifacts": {k: v for k, v in model.manifest["artifacts"].items() if k.startswith("model/")},
            },
            "corpus": str(corpus),
            "corpus_settings_sha256": sha256_bytes(config.corpus.model_dump_json().encode("utf-8")),
            "inputs": dict(sorted({item.source.source: item.source.sha256 for item in applied.cleaned}.items())),
            "packages": package_versions(),
            "artifacts": artifacts.hash_tree(staging),
        })
    logger.info("apply: %d documents, %d units measured with %s; wrote %s",
                len(applied.documents), len(applied.units), run_dir, out)
    return out
