"""Estimators built from the config (models/factories.py)."""

from __future__ import annotations

import pytest

from model_fixtures import CODEBOOK
from policytopics.config import ClusterConfig, FeaturesConfig, LdaConfig
from policytopics.models.factories import clusterer_from_config, factory_from_config, lda_from_config


def test_from_config_takes_every_setting():
    lda = LdaConfig(method="guided", num_topics=9, alpha=0.2, eta=0.05, seed_weight=2.0, passes=7,
                    iterations=50, chunksize=300, estep="gensim")
    features = FeaturesConfig(no_below=3, no_above=0.4, keep_n=500)
    model = lda_from_config(lda, features, seed=42, seed_keywords=CODEBOOK)
    assert model.get_params() == {
        "num_topics": 9, "seed_keywords": CODEBOOK, "alpha": 0.2, "eta": 0.05, "seed_weight": 2.0, "passes": 7,
        "iterations": 50, "chunksize": 300, "estep": "gensim", "no_below": 3, "no_above": 0.4, "keep_n": 500, "random_state": 42,
    }
    with pytest.raises(ValueError, match="guided"):
        lda_from_config(lda, features, seed=42)
    mapped = lda_from_config(LdaConfig(method="mapped"), features, seed=1, seed_keywords=CODEBOOK)
    assert mapped.seed_keywords is None
    factory = factory_from_config(lda, features, CODEBOOK)
    assert factory(10, 5).get_params() == {**model.get_params(), "num_topics": 10, "random_state": 5}


def test_the_clusterer_takes_every_cluster_setting_and_the_seed():
    clusterer = clusterer_from_config(ClusterConfig(k=5, k_range=[3, 9], top_n=7, silhouette_sample=500), seed=11)
    assert (clusterer.k, clusterer.k_range, clusterer.top_n, clusterer.random_state, clusterer.silhouette_sample) == (
        5, (3, 9), 7, 11, 500)
