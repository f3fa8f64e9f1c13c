"""Estimators built from the config: the only place where ``lda`` and ``cluster`` settings
become estimator parameters (the estimators themselves know nothing of the config).

In: the ``lda``, ``features`` and ``cluster`` config sections and the run seed. Out: unfitted
estimators (or a picklable factory of LDA models).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from policytopics.config import ClusterConfig, FeaturesConfig, LdaConfig
from policytopics.models.cluster import TfidfKMeans
from policytopics.models.lda import LdaTopicModel, make_model

__all__ = ["clusterer_from_config", "factory_from_config", "lda_from_config"]


def lda_from_config(
    config: LdaConfig,
    features: FeaturesConfig,
    seed: int,
    seed_keywords: Mapping[str, Sequence[str]] | None = None,
) -> LdaTopicModel:
    """An unfitted model with the settings of the ``lda`` and ``features`` config sections.

    Parameters
    ----------
    config : LdaConfig
        ``method``, ``num_topics``, priors and training settings.
    features : FeaturesConfig
        The vocabulary filter.
    seed : int
        The run seed, used as ``random_state``.
    seed_keywords : mapping of str to sequence of str, optional
        Theme keywords: required by ``method: guided``; with ``method: mapped`` they are
        not used for fitting (map the topics with
        :func:`policytopics.themes.map_topics_to_themes`).

    Returns
    -------
    LdaTopicModel

    Examples
    --------
    >>> model = lda_from_config(LdaConfig(method="mapped"), FeaturesConfig(), 7)
    >>> model.num_topics, model.random_state, model.seed_keywords
    (12, 7, None)
    """
    return LdaTopicModel(**_params_from_config(config, features, seed_keywords), random_state=seed)


def _params_from_config(
    config: LdaConfig, features: FeaturesConfig, seed_keywords: Mapping[str, Sequence[str]] | None
) -> dict[str, Any]:
    if config.method == "guided":
        if not seed_keywords:
            raise ValueError("lda.method is 'guided' but no theme keywords were given")
        keywords: Mapping[str, Sequence[str]] | None = seed_keywords
    else:
        keywords = None
    return {
        "num_topics": config.num_topics,
        "seed_keywords": keywords,
        "alpha": config.alpha,
        "eta": config.eta,
        "seed_weight": config.seed_weight,
        "passes": config.passes,
        "iterations": config.iterations,
        "chunksize": config.chunksize,
        "estep": config.estep,
        "no_below": features.no_below,
        "no_above": features.no_above,
        "keep_n": features.keep_n,
    }


def factory_from_config(
    config: LdaConfig,
    features: FeaturesConfig,
    seed_keywords: Mapping[str, Sequence[str]] | None = None,
) -> functools.partial[LdaTopicModel]:
    """A picklable ``(num_topics, seed) -> LdaTopicModel`` factory with the config's settings.

    Parameters
    ----------
    config : LdaConfig
        The ``lda`` settings: method, priors, ``seed_weight`` and training settings
        (``num_topics`` is left to the factory's caller).
    features : FeaturesConfig
        The ``features`` settings (``no_below``, ``no_above``, ``keep_n``) the model's
        vocabulary is built with.
    seed_keywords : mapping of str to sequence of str, optional
        Theme id to its keywords, in theme order; used only when ``config.method`` is
        ``"guided"``, which requires them.

    Returns
    -------
    functools.partial
        :func:`make_model` with every setting but the number of topics and the seed bound.

    Raises
    ------
    ValueError
        If ``config.method`` is ``"guided"`` and no ``seed_keywords`` are given.

    Examples
    --------
    >>> factory = factory_from_config(LdaConfig(method="mapped", passes=3), FeaturesConfig())
    >>> model = factory(8, 11)
    >>> model.num_topics, model.random_state, model.passes
    (8, 11, 3)
    """
    params = _params_from_config(config, features, seed_keywords)
    params.pop("num_topics")
    if params["seed_keywords"] is not None:
        params["seed_keywords"] = {theme: list(words) for theme, words in params["seed_keywords"].items()}
    return functools.partial(make_model, **params)


def clusterer_from_config(config: ClusterConfig, seed: int, memory: str | Path | None = None) -> TfidfKMeans:
    """An unfitted TF-IDF + KMeans clustering from the ``cluster`` section and the run seed.

    Parameters
    ----------
    config : ClusterConfig
        ``k``, ``k_range``, ``top_n``, ``n_init`` and ``silhouette_sample``.
    seed : int
        The run seed, used as ``random_state``.
    memory : str or Path, optional
        The cache folder (see :class:`~policytopics.models.cluster.TfidfKMeans`).

    Returns
    -------
    TfidfKMeans

    Examples
    --------
    >>> clusterer_from_config(ClusterConfig(k_range=[3, 6]), seed=7).k_range
    (3, 6)
    """
    return TfidfKMeans(
        k=config.k,
        k_range=(int(config.k_range[0]), int(config.k_range[1])),
        top_n=config.top_n,
        random_state=seed,
        n_init=config.n_init,
        memory=memory,
        silhouette_sample=config.silhouette_sample,
    )
