"""Metrics: coherence, diversity, perplexity, Hungarian topic alignment and stability."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from policytopics.features import to_bow
from policytopics.models.lda import LdaTopicModel
from policytopics.metrics import align_topics, coherence, perplexity, stability, topic_diversity
from model_fixtures import DATA, plain, planted  # noqa: F401 (fixtures)


# ---------------------------------------------------------------- coherence
def test_coherence_per_topic_in_range_and_repeatable(plain, planted):
    scores = coherence(plain, planted, topn=10)
    assert sorted(scores) == ["c_npmi", "c_v", "u_mass"]
    assert all(len(values) == 4 for values in scores.values())
    assert all(0.0 <= value <= 1.0 for value in scores["c_v"])
    assert all(-1.0 <= value <= 1.0 for value in scores["c_npmi"])
    assert all(value <= 0.0 for value in scores["u_mass"])
    assert coherence(plain, planted, topn=10) == scores


def test_planted_topics_are_more_coherent_than_a_one_topic_model(plain, planted):
    # the topics of a 4-topic fit each hold one theme's words, which co-occur; one topic mixes all
    single = LdaTopicModel(1, passes=5, random_state=4).fit(planted)
    good = coherence(plain, planted, measures=("c_npmi",))["c_npmi"]
    mixed = coherence(single, planted, measures=("c_npmi",))["c_npmi"]
    assert min(good) > mixed[0]


# ---------------------------------------------------------------- diversity, perplexity
def test_topic_diversity():
    assert topic_diversity([["a", "b"], ["c", "d"]]) == 1.0
    assert topic_diversity([["a", "b"], ["b", "a"], ["a", "b"]]) == pytest.approx(1 / 3)
    assert topic_diversity([[("a", 0.5), ("b", 0.1)], [("a", 0.4), ("c", 0.2)]]) == 0.75
    with pytest.raises(ValueError):
        topic_diversity([[], []])


def test_perplexity_is_gensims_bound_deterministic_and_rewards_training(plain, planted):
    value = perplexity(plain, planted)
    assert math.isfinite(value) and 1.0 < value < len(plain.vocabulary_)
    assert perplexity(plain, planted) == value
    # the figure gensim's log_perplexity reports, with the model's deterministic gamma
    bows = to_bow(plain.dictionary_, planted)
    gamma, _ = plain._gamma(bows)
    words = sum(count for bow in bows for _, count in bow)
    gensim_bound = plain.model_.bound(bows, gamma=gamma[:, None, :])  # gensim wants 2-D rows here
    assert value == pytest.approx(2 ** (-gensim_bound / words), rel=1e-10)
    # one pass of one E-step iteration leaves the topics far from the data
    untrained = LdaTopicModel(4, passes=1, iterations=1, random_state=4).fit(planted)
    assert perplexity(untrained, planted) > value * 1.2
    with pytest.raises(ValueError, match="vocabulary"):
        perplexity(plain, [["unknown"]])


def test_perplexity_of_a_guided_model(planted):
    keywords = json.loads((DATA / "planted_keywords.json").read_text(encoding="utf-8"))
    guided = LdaTopicModel(6, seed_keywords=keywords, passes=5, random_state=0).fit(planted)
    assert math.isfinite(perplexity(guided, planted))


# ---------------------------------------------------------------- alignment and stability
def test_alignment_recovers_a_permutation_of_fitted_topics(plain):
    terms = [[term for term, _ in topic] for topic in plain.top_terms(10)]
    permutation = [2, 0, 3, 1]
    permuted = [list(reversed(terms[i])) for i in permutation]
    matches = align_topics(terms, permuted)
    assert [(i, permutation[j], value) for i, j, value in matches] == [(i, i, 1.0) for i in range(4)]


def test_alignment_maximises_total_overlap_and_handles_unequal_sizes():
    a = [["x", "y", "z"], ["x", "p", "q"]]
    b = [["x", "y", "w"], ["x", "y", "z"]]
    # greedy would pair a0-b1 (1.0) and a1-b0 (0.2); that is also the optimum here
    assert align_topics(a, b) == [(0, 1, 1.0), (1, 0, 0.2)]
    matches = align_topics([["a", "b"], ["c", "d"], ["e", "f"]], [["d", "c"]])
    assert matches == [(1, 0, 1.0)]


def test_stability_of_identical_and_different_refits(plain, planted):
    mean, table = stability([plain, plain.top_terms(10)])
    assert mean == 1.0 and [row["mean_jaccard"] for row in table] == [1.0] * 4
    other = LdaTopicModel(4, passes=10, random_state=5).fit(planted)
    noisy = LdaTopicModel(4, passes=1, iterations=2, random_state=6).fit(planted)
    mean, table = stability([plain, other, noisy])
    assert len(table) == 4 and all(len(row["jaccard"]) == 2 and len(row["matched"]) == 2 for row in table)
    assert 0.0 < mean < 1.0
    assert mean == pytest.approx(np.mean([value for row in table for value in row["jaccard"]]))
    with pytest.raises(ValueError):
        stability([plain])
