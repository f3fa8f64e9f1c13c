"""Evaluation: coherence, diversity, perplexity, Hungarian topic alignment, stability, sweeps."""

from __future__ import annotations

import functools
import json
import logging
import math
from pathlib import Path

import numpy as np
import pytest

from policytopics.config import FeaturesConfig
from policytopics.evaluate import (
    FitPool,
    align_topics,
    coherence,
    perplexity,
    stability,
    sweep,
    sweep_rows,
    topic_diversity,
)
from policytopics.features import corpus_features, to_bow
from policytopics.models.lda import LdaTopicModel, make_model

DATA = Path(__file__).parent / "data" / "models"


@pytest.fixture(scope="module")
def planted():
    rows = [json.loads(line) for line in (DATA / "planted_themes.jsonl").read_text(encoding="utf-8").splitlines()]
    return [row["tokens"] for row in rows]


@pytest.fixture(scope="module")
def plain(planted):
    """Plain LDA with one topic per planted theme."""
    return LdaTopicModel(4, passes=10, random_state=4).fit(planted)


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


# ---------------------------------------------------------------- sweep
def test_sweep_rows_do_not_depend_on_the_number_of_workers(planted):
    factory = functools.partial(make_model, passes=3, iterations=50)
    one = sweep(planted, [4, 5], [1, 2], factory, workers=1)
    two = sweep(planted, [4, 5], [1, 2], factory, workers=2)
    assert one == two
    assert [(row["num_topics"], row["seed"]) for row in one] == [(4, 1), (4, 2), (5, 1), (5, 2)]
    assert set(one[0]) == {"num_topics", "seed", "c_v", "c_npmi", "u_mass", "diversity", "perplexity", "jaccard"}
    assert one[0]["jaccard"] is None and one[2]["jaccard"] is None
    assert all(0.0 <= row["jaccard"] <= 1.0 for row in (one[1], one[3]))
    assert all(math.isfinite(row[key]) for row in one for key in ("c_v", "c_npmi", "u_mass", "diversity", "perplexity"))
    # a row is the evaluation of that fit
    model = factory(5, 2).fit(planted)
    assert one[3]["perplexity"] == perplexity(model, planted)
    assert one[3]["c_v"] == float(np.mean(coherence(model, planted)["c_v"]))


def test_sweep_rejects_repeated_seeds(planted):
    with pytest.raises(ValueError, match="distinct"):
        sweep(planted, [4], [1, 1], functools.partial(make_model, passes=1), workers=1)


# ---------------------------------------------------------------- cached fits
def test_sweep_through_the_cache_gives_the_same_rows_and_refits_nothing(planted, tmp_path):
    factory = functools.partial(make_model, passes=3, iterations=50)
    plain = sweep(planted, [4, 5], [1, 2], factory, workers=1)
    cold = sweep(planted, [4, 5], [1, 2], factory, workers=2, cache_dir=tmp_path)
    assert cold == plain
    fits = sorted(p.name for p in (tmp_path / "lda").iterdir())
    assert len(fits) == 4
    features = corpus_features(planted, FeaturesConfig(no_below=2, no_above=0.5), tmp_path)
    with FitPool(planted, features, factory, [(4, 1), (4, 2), (5, 1), (5, 2)], workers=2, cache_dir=tmp_path) as pool:
        assert pool.cached == 4  # everything read: no worker started
        evaluations = {(k, s): pool.result(k, s) for k in (4, 5) for s in (1, 2)}
        assert pool.fitted == 0
        model = pool.model(5, 2)
    assert sweep_rows(evaluations, [4, 5], [1, 2]) == plain
    assert sorted(p.name for p in (tmp_path / "lda").iterdir()) == fits
    direct = factory(5, 2).fit(planted)
    assert np.array_equal(model.doc_topic_, direct.doc_topic_)
    assert evaluations[(5, 2)].coherence == coherence(direct, planted)
    assert evaluations[(5, 2)].perplexity == perplexity(direct, planted)


def test_a_changed_top_n_reuses_the_fits_and_rescores_them(planted, tmp_path):
    factory = functools.partial(make_model, passes=3, iterations=50)
    sweep(planted, [4], [1], factory, workers=1, cache_dir=tmp_path)
    features = corpus_features(planted, FeaturesConfig(no_below=2, no_above=0.5), tmp_path)
    with FitPool(planted, features, factory, [(4, 1)], workers=1, topn=5, cache_dir=tmp_path) as pool:
        assert pool.cached == 1  # the fit and its perplexity (which top_n does not change) are read...
        evaluation = pool.result(4, 1)
        assert pool.fitted == 0
    assert evaluation.coherence == coherence(factory(4, 1).fit(planted), planted, topn=5)


def test_a_corrupt_cached_fit_is_refitted(planted, tmp_path, caplog):
    factory = functools.partial(make_model, passes=3, iterations=50)
    first = sweep(planted, [4], [1, 2], factory, workers=1, cache_dir=tmp_path)
    entry = next((tmp_path / "lda").iterdir())
    state = entry / "lda.gensim.state"
    state.write_bytes(state.read_bytes()[:100])
    with caplog.at_level(logging.WARNING, logger="policytopics"):
        again = sweep(planted, [4], [1, 2], factory, workers=1, cache_dir=tmp_path)
    assert "corrupt" in caplog.text
    assert again == first
    assert (entry / "CHECKSUMS.json").is_file()  # rewritten


def test_the_fit_pool_computes_each_task_once(planted, tmp_path):
    factory = functools.partial(make_model, passes=2, iterations=20)
    features = corpus_features(planted, FeaturesConfig(no_below=2, no_above=0.5))
    with FitPool(planted, features, factory, [(4, 1), (4, 1), (5, 1)], workers=1, cache_dir=tmp_path) as pool:
        pool.result(4, 1), pool.result(5, 1), pool.model(4, 1)
        assert pool.fitted == 2
    assert len(list((tmp_path / "lda").iterdir())) == 2
