"""The fitting stage: from unit tokens to topic models, clusters and theme measurements.

:func:`fit_models` builds the features, runs the model-selection sweep (:mod:`policytopics.sweep`),
chooses K (:mod:`policytopics.selection`), fits the run's model and the TF-IDF clustering, and
measures the themes (:class:`policytopics.themes.ThemeScorer`) with the sweep's ensemble of
fits. It returns a :class:`ModelResults`; the run folder's tables are made from it by
:mod:`policytopics.outputs`.

In: the config, the units and documents, their tokens and the tokenizer. Out: a
:class:`ModelResults`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import pandas as pd

from policytopics.codebook import UNASSIGNED, Codebook, KeywordCheck, check_keywords, load_codebook
from policytopics.config import Config, ConfigError
from policytopics.errors import PolicytopicsError
from policytopics.features import corpus_features
from policytopics.models.cluster import TfidfKMeans, agreement
from policytopics.models.factories import clusterer_from_config, factory_from_config
from policytopics.models.lda import LdaTopicModel
from policytopics.packed import PackedTokens
from policytopics.records import Document, TableRow, Unit
from policytopics.selection import choose_num_topics, mark_chosen
from policytopics.sweep import FitPool, heldout_split, sweep_rows
from policytopics.themes import (
    DocumentThemes,
    ThemeScorer,
    UnitThemes,
    document_theme_shares,
    map_topics_to_themes,
    theme_dirichlet,
    unassigned_by_fit_group,
)
from policytopics.workers import resolve_workers

logger = logging.getLogger("policytopics")


@dataclass(frozen=True, kw_only=True)
class ModelResults:
    """Everything the fitting stage produced.

    Attributes
    ----------
    codebook : Codebook
        The themes in use.
    keyword_check : KeywordCheck
        Which keywords were usable, split by the tokenizer, or absent from the corpus.
    lda : LdaTopicModel
        The run's model: the chosen K with the run seed, fitted on all units.
    topic_themes : list of str
        The theme of each of its topics (``unassigned`` for a free topic).
    unit_measures, doc_measures : UnitThemes, DocumentThemes
        The theme measurement of every unit and kept document (:class:`~policytopics.themes.ThemeScorer`).
    doc_topic : numpy.ndarray
        Kept documents × topics of the run's model (length-weighted unit proportions).
    coherence : dict of str to list of float
        Per measure, the coherence of each topic of the run's model.
    clusters : TfidfKMeans
        The fitted TF-IDF clustering.
    cluster_themes : list of str
        The theme of each unit's cluster.
    agreement_ari : float
        Adjusted Rand index of the unit themes and the cluster themes.
    agreement_table : pandas.DataFrame
        Units by LDA theme (rows) and cluster theme (columns).
    selection : list of dict
        The sweep's rows (``model_selection.csv``), the chosen K marked.
    fit_counts : dict of str to int
        LDA fits of the run (``lda_fits``), fitted now (``lda_fitted``), read from the cache.
    ensemble : dict
        The fits that measured the themes, and how the speeches' unassigned shares differ by K
        (``summary.json``'s ``theme_ensemble``).
    document_draws : numpy.ndarray or None
        Joint posterior draws of the kept documents' shares, draws × documents × (themes +
        unassigned) (:meth:`~policytopics.themes.ThemeScorer.document_draws`): what the
        comparisons across documents (:mod:`policytopics.effects`) refit their regressions on.
    ensemble_members : list of dict
        What each fit that measured the themes needs to measure new units the same way
        (:func:`_member_parameters`; saved in ``model/ensemble/`` and read by
        :func:`policytopics.apply.load`).
    """

    codebook: Codebook
    keyword_check: KeywordCheck
    lda: LdaTopicModel
    topic_themes: list[str]
    unit_measures: UnitThemes
    doc_measures: DocumentThemes
    doc_topic: np.ndarray
    coherence: dict[str, list[float]]
    clusters: TfidfKMeans
    cluster_themes: list[str]
    agreement_ari: float
    agreement_table: pd.DataFrame
    selection: list[TableRow]
    fit_counts: dict[str, int] = field(default_factory=dict)
    ensemble: dict[str, object] = field(default_factory=dict)
    document_draws: np.ndarray | None = None
    ensemble_members: list[dict[str, Any]] = field(default_factory=list)

    @property
    def theme_columns(self) -> list[str]:
        """Theme ids plus ``unassigned``: the columns of the share matrices."""
        return [*self.codebook.ids, UNASSIGNED]

    @property
    def unit_shares(self) -> np.ndarray:
        """Units × (themes + unassigned) shares (see :class:`policytopics.themes.UnitThemes`)."""
        return self.unit_measures.shares

    @property
    def unit_themes(self) -> list[str]:
        """Each unit's label: a theme id, ``mixed`` or ``none``."""
        return self.unit_measures.labels

    @property
    def doc_ids(self) -> list[str]:
        """The kept documents, in row order of :attr:`doc_shares`."""
        return self.doc_measures.doc_ids

    @property
    def doc_shares(self) -> np.ndarray:
        """Documents × (themes + unassigned) shares."""
        return self.doc_measures.shares

    @property
    def doc_themes(self) -> list[str]:
        """Each kept document's dominant theme, or ``none``."""
        return self.doc_measures.labels


def _member_parameters(model: LdaTopicModel, themes: list[str]) -> dict[str, Any]:
    """A fit of the measuring ensemble as new units need it: its E-step's topics
    (``exp(E[log beta])``, as gensim stores them), ``alpha``, iteration settings and the theme
    of each topic (``unassigned`` for a free one)."""
    lda = model.model_
    return {
        "num_topics": int(model.num_topics), "seed": int(model.random_state), "themes": list(themes),
        "exp_elog_beta": lda.expElogbeta, "alpha": np.asarray(lda.alpha),
        "iterations": int(lda.iterations), "gamma_threshold": float(lda.gamma_threshold),
    }


def check_model_config(config: Config) -> Codebook:
    """Load the codebook and check the model settings against it, before any heavy stage.

    Parameters
    ----------
    config : Config
        The run's config (``themes``, ``lda`` and ``selection``).

    Returns
    -------
    Codebook
        The themes the run uses.

    Raises
    ------
    CodebookError, ConfigError
        Naming the key: a theme id the codebook lacks, or a guided model with fewer topics
        than themes (in ``lda.num_topics`` or any K of ``selection.num_topics``).

    Examples
    --------
    >>> check_model_config(Config()).ids[:2]  # doctest: +SKIP
    ['investment', 'livelihood']
    """
    codebook = load_codebook(config.themes.codebook, config.themes.ids)
    n_themes = len(codebook.themes)
    if config.lda.method == "guided" and config.lda.num_topics < n_themes:
        raise ConfigError(
            f"lda.num_topics: {config.lda.num_topics} is fewer than the {n_themes} themes a "
            f"guided model needs (one topic per theme)"
        )
    too_small = [k for k in config.selection.num_topics if config.lda.method == "guided" and k < n_themes]
    if too_small or any(k < 2 for k in config.selection.num_topics):
        raise ConfigError(
            f"selection.num_topics: {too_small or config.selection.num_topics} — every K must be "
            f"at least 2 and, for a guided model, at least the {n_themes} themes"
        )
    return codebook


def check_against_units(config: Config, n_units: int) -> None:
    """Check the settings that cannot exceed the number of units the models see (units with at
    least one token), after tokenising and before any fit: ``lda.num_topics``, every K of
    ``selection.num_topics``, ``cluster.k`` and the smallest k of ``cluster.k_range``.

    Parameters
    ----------
    config : Config
        The run's config.
    n_units : int
        The units with at least one token (0: left to the "empty corpus" error).

    Returns
    -------
    None

    Raises
    ------
    ConfigError
        Naming the key, the value and the number of units.

    Examples
    --------
    >>> check_against_units(Config(), 500)
    >>> check_against_units(Config(), 5)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    policytopics.config.ConfigError: lda.num_topics: 12 topics for a corpus of only 5 units ...
    """
    if n_units == 0:
        return
    checks = [("lda.num_topics", config.lda.num_topics, "topics")]
    checks += [("selection.num_topics", k, "topics") for k in config.selection.num_topics]
    if config.cluster.k is not None:
        checks.append(("cluster.k", config.cluster.k, "clusters"))
    else:
        checks.append(("cluster.k_range", config.cluster.k_range[0], "clusters at least"))
    for key, value, what in checks:
        if value > n_units:
            raise ConfigError(
                f"{key}: {value} {what} for a corpus of only {n_units} units with tokens (after "
                f"cleaning, segmentation and tokenising); it cannot exceed the number of units"
            )


def model_cache_dir(config: Config) -> str | None:
    """The cache folder for features and fitted models.

    Parameters
    ----------
    config : Config
        The run's config (``cache``).

    Returns
    -------
    str or None
        ``cache.dir``; ``None`` when ``cache.enabled`` or ``cache.models`` is off (nothing
        is read or kept).

    Examples
    --------
    >>> model_cache_dir(Config())
    '.cache'
    """
    return config.cache.dir if config.cache.enabled and config.cache.models else None


def fit_models(
    config: Config,
    units: Sequence[Unit],
    documents: Sequence[Document],
    token_lists: Sequence[Sequence[str]],
    tokenize: Callable[[str], list[str]],
    codebook: Codebook | None = None,
) -> ModelResults:
    """Fit LDA and the clusters, assign themes, and run the model-selection sweep.

    Parameters
    ----------
    config : Config
    units : sequence of Unit
        The analysis units, aligned with ``token_lists``.
    documents : sequence of Document
        Every document; duplicates (without units) get no shares.
    token_lists : sequence of list of str
        The tokens of each unit.
    tokenize : callable
        ``str -> list[str]``, used to check the codebook keywords.
    codebook : Codebook, optional
        The result of :func:`check_model_config` (called here when omitted).

    Notes
    -----
    With ``cache.enabled`` and ``cache.models``, the vocabulary and bags of words, every LDA
    fit (with its coherence and perplexity) and every KMeans fit are read from ``cache.dir``
    when computed before for the same tokens and settings, and stored there otherwise (see
    :class:`policytopics.sweep.FitPool`); the results are the same either way.

    Examples
    --------
    >>> results = fit_models(config, units, documents, token_lists, tokenizer.tokenize)  # doctest: +SKIP
    >>> results.doc_themes  # doctest: +SKIP
    """
    if codebook is None:
        codebook = check_model_config(config)
    if not isinstance(token_lists, PackedTokens):  # compact arrays, whatever the caller passes
        token_lists = PackedTokens.from_lists(token_lists)
    if not any(token_lists.lengths()):
        raise PolicytopicsError(
            f"empty corpus after cleaning: none of the {len(token_lists)} units of "
            f"{config.corpus.path} has a token left to model"
        )
    check_against_units(config, int(np.count_nonzero(token_lists.lengths())))  # before any fit
    vocabulary = set(token_lists.vocabulary)  # every distinct token of the units
    keyword_check = check_keywords(codebook, tokenize, vocabulary)
    for keyword, tokens in sorted(keyword_check.split.items()):
        logger.warning("themes: keyword '%s' is not one token (%s); it is not used", keyword, " ".join(tokens) or "dropped")
    if keyword_check.absent:
        logger.warning("themes: %d keywords never occur in the corpus: %s", len(keyword_check.absent), " ".join(keyword_check.absent))

    guided = config.lda.method == "guided"
    seed_keywords = keyword_check.usable if guided else None

    def _member(model: LdaTopicModel, unit_topics: np.ndarray) -> tuple[float, list[str], np.ndarray]:
        """A fit as the theme measurement uses it: sum(alpha), each topic's theme, unit topics."""
        if guided:
            themes = [theme or UNASSIGNED for theme in model.topic_theme_]
        else:
            themes = map_topics_to_themes(
                model.topic_term_, model.vocabulary_, keyword_check.usable, config.lda.map_min_weight, config.lda.map_margin
            )
        return float(np.sum(model.model_.alpha)), themes, unit_topics
    cache_dir = model_cache_dir(config)
    try:
        features = corpus_features(token_lists, config.features, cache_dir)
    except ValueError as error:  # no term survives the vocabulary filter
        raise PolicytopicsError(f"features: {error}") from None

    # Two pools of fits, read from the cache when computed before. (1) The model-selection
    # sweep: every (K, seed) of selection.num_topics x the run seed and the stability seeds,
    # fitted on the training units of a split drawn with the run seed (perplexity on the
    # held-out units); its fits run in worker processes while this process clusters the units.
    # (2) The run's model: the chosen K (selection.choose) with the run seed, fitted on all units.
    seeds = [config.seed + offset for offset in range(config.selection.stability_seeds + 1)]
    grid = [(int(k), seed) for k in config.selection.num_topics for seed in seeds]
    factory = factory_from_config(config.lda, config.features, seed_keywords)
    try:
        split = heldout_split(np.diff(features.bows.offsets), config.selection.heldout_fraction, config.seed)
    except ValueError as error:  # fewer than 2 units with a term
        raise PolicytopicsError(f"selection.heldout_fraction: {error}") from None
    with FitPool(
        token_lists, features, factory, grid, resolve_workers(config.selection.workers),
        topn=config.lda.top_n, cache_dir=cache_dir, heldout=split,
    ) as pool:
        # The clusters see the same vocabulary as LDA (after filter_extremes), so the two are compared fairly.
        model_vocabulary = set(features.dictionary.token2id)
        # verbose: a bar over the k it tries (shown only on a terminal or in a notebook)
        clusterer = clusterer_from_config(config.cluster, config.seed, memory=cache_dir).set_params(verbose=True)
        clusters = clusterer.fit(token_lists.restricted(model_vocabulary))
        evaluations = {task: pool.result(*task) for task in grid}
        fitted = pool.fitted
        # the ensemble that measures the themes: every unit under every fit of the sweep
        members = grid if config.themes.ensemble == "sweep" else []
        ensemble, parameters = [], []
        for model in (pool.model(*task) for task in members):
            ensemble.append(_member(model, pool.unit_topics(model)))
            parameters.append(_member_parameters(model, ensemble[-1][1]))
    rows = sweep_rows(evaluations, [int(k) for k in config.selection.num_topics], seeds)
    choice = choose_num_topics(rows, config.selection, int(config.lda.num_topics))
    selection = mark_chosen(rows, choice.num_topics)
    logger.info("models: %s", choice.reason)
    main = (choice.num_topics, config.seed)
    # one fit: in this process (a worker would only wait for it)
    with FitPool(token_lists, features, factory, [main], 1, topn=config.lda.top_n, cache_dir=cache_dir) as final:
        lda = final.model(*main)
        scores = final.result(*main).coherence
        fitted += final.fitted
    tasks = [*grid, main]  # the sweep's fits and the run's model: len(grid) + 1 fits
    logger.info(
        "models: %d LDA fits, %d read from the cache, %d fitted", len(tasks), len(tasks) - fitted, fitted
    )

    run_member = _member(lda, lda.doc_topic_)
    topic_themes = run_member[1]
    parameters = parameters or [_member_parameters(lda, topic_themes)]
    ids = codebook.ids
    # The codebook has entered the models (prior and start); theme shares are their posterior.
    scorer = ThemeScorer.from_config(config, ids)
    n_tokens = features.bows.token_counts()
    dirichlet = np.stack([
        theme_dirichlet(unit_topics, alpha_sum, n_tokens, [t if t != UNASSIGNED else None for t in themes], ids)
        for alpha_sum, themes, unit_topics in ensemble or [run_member]
    ])
    unit_measures = scorer.score_units(dirichlet)
    kept = [doc for doc in documents if not doc.duplicate_of]
    doc_ids = [doc.doc_id for doc in kept]
    lengths = [unit.n_chars for unit in units]
    doc_of_unit = [unit.doc_id for unit in units]
    doc_measures = scorer.score_documents(unit_measures, doc_of_unit, lengths, doc_ids)
    document_draws = scorer.document_draws(unit_measures, doc_of_unit, lengths, doc_ids)
    doc_topic = document_theme_shares(lda.doc_topic_, doc_of_unit, lengths, doc_ids)
    members = members or [main]
    ensemble_summary = {
        "source": config.themes.ensemble,
        "fits": [{"num_topics": k, "seed": seed} for k, seed in members],
        "unassigned_by_num_topics": unassigned_by_fit_group(
            unit_measures, [k for k, _ in members], doc_of_unit, lengths, doc_ids
        ),
    }

    cluster_topic_themes = map_topics_to_themes(
        clusters.centroid_term_, list(clusters.terms_), keyword_check.usable, config.lda.map_min_weight, config.lda.map_margin
    )
    cluster_themes = [cluster_topic_themes[label] if label >= 0 else UNASSIGNED for label in clusters.labels_]
    ari, table = agreement(unit_measures.labels, cluster_themes)
    logger.info(
        "models: %s LDA with %d topics, %d clusters (ARI with LDA themes %.3f), %d sweep fits",
        config.lda.method, lda.topic_term_.shape[0], clusters.k_, ari, len(selection),
    )
    return ModelResults(
        codebook=codebook, keyword_check=keyword_check, lda=lda, topic_themes=topic_themes,
        unit_measures=unit_measures, doc_measures=doc_measures, doc_topic=doc_topic, coherence=scores,
        clusters=clusters, cluster_themes=cluster_themes, agreement_ari=ari, agreement_table=table,
        selection=selection, ensemble=ensemble_summary, document_draws=document_draws, ensemble_members=parameters,
        fit_counts={"lda_fits": len(tasks), "lda_fitted": fitted, "lda_from_cache": len(tasks) - fitted},
    )
