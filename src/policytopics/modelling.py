"""The models and themes stages: from unit tokens to topics, clusters and theme shares.

In: the units, their tokens, the tokenizer and the config. Out: a ``ModelResults`` holding
the fitted LDA (guided or mapped), each topic's theme, the theme shares and dominant theme
of every unit and document, the TF-IDF clusters with their themes and their agreement with
the LDA themes, and the model-selection sweep over K with its stability report; plus the
rows of every table the run folder gets (``*_rows`` functions), so writing stays trivial.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from policytopics.config import Config, ConfigError
from policytopics.errors import PolicytopicsError
from policytopics.records import Document, Unit
from policytopics.themes import (
    UNASSIGNED,
    Codebook,
    DocumentThemes,
    KeywordCheck,
    ThemeScorer,
    UnitThemes,
    check_keywords,
    document_theme_shares,
    load_codebook,
    theme_dirichlet,
    unassigned_by_fit_group,
)

logger = logging.getLogger("policytopics")


@dataclass
class ModelResults:
    """Everything the models and themes stages produced (see the module docstring)."""

    codebook: Codebook
    keyword_check: KeywordCheck
    lda: Any
    topic_themes: list[str]
    #: the theme measurement of every unit and kept document (:class:`policytopics.themes.ThemeScorer`)
    unit_measures: UnitThemes
    doc_measures: DocumentThemes
    doc_topic: np.ndarray
    coherence: dict[str, list[float]]
    clusters: Any
    cluster_themes: list[str]
    agreement_ari: float
    agreement_table: Any
    selection: list[dict[str, Any]]
    #: LDA fits of the run (``lda_fits``: the run's model and the sweep's, counted once),
    #: how many were fitted now and how many read from the cache
    fit_counts: dict[str, int] = field(default_factory=dict)
    #: the fits that measured the themes, and how the speeches' unassigned shares differ by K
    ensemble: dict[str, Any] = field(default_factory=dict)

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


def check_model_config(config: Config) -> Codebook:
    """Load the codebook and check the model settings against it, before any heavy stage.

    Raises ``CodebookError`` or ``ConfigError`` naming the key: a theme id the codebook
    lacks, or a guided model with fewer topics than themes (in ``lda.num_topics`` or any K
    of ``selection.num_topics``).
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

    Raises ``ConfigError`` naming the key, the value and the number of units. A corpus without
    such units is left to the "empty corpus" error.
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
    """The cache folder for features and fitted models (``None`` when ``cache.enabled`` or
    ``cache.models`` is off: nothing is read or kept)."""
    return config.cache.dir if config.cache.enabled and config.cache.models else None


def fit_models(
    config: Config,
    units: Sequence[Unit],
    documents: Sequence[Document],
    token_lists: Sequence[Sequence[str]],
    tokenize: Any,
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
    :class:`policytopics.evaluate.FitPool`); the results are the same either way.

    Examples
    --------
    >>> results = fit_models(config, units, documents, token_lists, tokenizer.tokenize)  # doctest: +SKIP
    >>> results.doc_themes  # doctest: +SKIP
    """
    from policytopics.evaluate import FitPool, sweep_rows
    from policytopics.features import corpus_features
    from policytopics.models.cluster import TfidfKMeans, agreement
    from policytopics.models.lda import factory_from_config, map_topics_to_themes
    from policytopics.workers import resolve_workers

    from policytopics.packed import PackedTokens

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

    def _member(model: Any, unit_topics: np.ndarray) -> tuple[float, list[str], np.ndarray]:
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
    from policytopics.evaluate import choose_num_topics, heldout_split, mark_chosen

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
        clusters = TfidfKMeans.from_config(config.cluster, config.seed, memory=cache_dir).fit(
            token_lists.restricted(model_vocabulary)
        )
        evaluations = {task: pool.result(*task) for task in grid}
        fitted = pool.fitted
        # the ensemble that measures the themes: every unit under every fit of the sweep
        members = grid if config.themes.ensemble == "sweep" else []
        ensemble = [_member(pool.model(*task), pool.unit_topics(*task)) for task in members]
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

    topic_themes = _member(lda, lda.doc_topic_)[1]
    ids = codebook.ids
    # The codebook has entered the models (prior and start); theme shares are their posterior.
    scorer = ThemeScorer.from_config(config, ids)
    n_tokens = features.bows.token_counts()
    dirichlet = np.stack([
        theme_dirichlet(unit_topics, alpha_sum, n_tokens, [t if t != UNASSIGNED else None for t in themes], ids)
        for alpha_sum, themes, unit_topics in ensemble or [_member(lda, lda.doc_topic_)]
    ])
    unit_measures = scorer.score_units(dirichlet)
    kept = [doc for doc in documents if not doc.duplicate_of]
    doc_ids = [doc.doc_id for doc in kept]
    lengths = [unit.n_chars for unit in units]
    doc_of_unit = [unit.doc_id for unit in units]
    doc_measures = scorer.score_documents(unit_measures, doc_of_unit, lengths, doc_ids)
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
        codebook, keyword_check, lda, topic_themes, unit_measures, doc_measures, doc_topic, scores, clusters, cluster_themes, ari, table, selection,
        {"lda_fits": len(tasks), "lda_fitted": fitted, "lda_from_cache": len(tasks) - fitted}, ensemble_summary,
    )


# -- table rows -----------------------------------------------------------------------------


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
