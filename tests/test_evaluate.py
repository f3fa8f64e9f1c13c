"""Evaluation: coherence, diversity, perplexity, Hungarian topic alignment, stability, sweeps,
the held-out split, the choice of K and the clustering check."""

from __future__ import annotations

import functools
import json
import logging
import math
from pathlib import Path

import numpy as np
import pytest

from policytopics.config import FeaturesConfig, SelectionConfig
from policytopics.evaluate import (
    CLUSTERING_MIN_ARI,
    CLUSTERING_MIN_MAPPED,
    FitPool,
    align_topics,
    choose_num_topics,
    clustering_check,
    coherence,
    heldout_split,
    mark_chosen,
    perplexity,
    selection_summary,
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
    assert set(one[0]) == {"num_topics", "seed", "c_v", "c_npmi", "u_mass", "diversity", "perplexity", "heldout_units", "jaccard"}
    assert all(row["heldout_units"] == 0 for row in one)  # no split: every unit is a training unit
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


# ---------------------------------------------------------------- held-out split
def test_the_heldout_split_is_seeded_disjoint_and_leaves_empty_units_in_training():
    sizes = [0 if i % 7 == 0 else 3 for i in range(200)]  # 28 units without a term
    split = heldout_split(sizes, 0.1, seed=20240601)
    again = heldout_split(list(sizes), 0.1, seed=20240601)
    assert np.array_equal(split.heldout, again.heldout) and np.array_equal(split.train, again.train)
    assert not np.array_equal(split.heldout, heldout_split(sizes, 0.1, seed=20240602).heldout)
    eligible = [i for i, size in enumerate(sizes) if size > 0]
    assert len(split.heldout) == round(0.1 * len(eligible)) == 17
    assert set(split.heldout) <= set(eligible)  # a unit without a term is never held out
    assert not set(split.heldout) & set(split.train)
    assert sorted([*split.heldout, *split.train]) == list(range(200))
    assert list(split.heldout) == sorted(split.heldout) and list(split.train) == sorted(split.train)
    # a tiny fraction still holds one unit out; a large one leaves one training unit
    assert len(heldout_split([1, 1, 1], 0.01, 0).heldout) == 1
    assert len(heldout_split([1, 1, 1], 0.99, 0).train) == 1
    with pytest.raises(ValueError, match="at least 2"):
        heldout_split([0, 4, 0], 0.1, 0)
    with pytest.raises(ValueError, match=r"\(0, 1\)"):
        heldout_split(sizes, 0.0, 0)


def test_sweep_fits_see_only_the_training_units(planted, tmp_path):
    factory = functools.partial(make_model, passes=3, iterations=50)
    features = corpus_features(planted, FeaturesConfig(no_below=2, no_above=0.5))
    split = heldout_split(np.diff(features.bows.offsets), 0.1, seed=3)
    train_tokens = [planted[i] for i in split.train]
    heldout_tokens = [planted[i] for i in split.heldout]
    with FitPool(planted, features, factory, [(4, 1)], workers=1, cache_dir=tmp_path, heldout=split) as pool:
        evaluation = pool.result(4, 1)
        model = pool.model(4, 1)
    assert evaluation.heldout_units == len(split.heldout) == 24  # 10% of 240
    # fitted on the training units only: one row of proportions per training unit, and the
    # corpus frequencies (which scale a guided prior) count training occurrences only
    assert model.doc_topic_.shape[0] == len(split.train)
    train_counts = np.zeros(len(model.vocabulary_), dtype=np.int64)
    for bow in to_bow(model.dictionary_, train_tokens):
        for term_id, count in bow:
            train_counts[term_id] += count
    assert np.array_equal(model.term_frequency_, train_counts)
    assert model.vocabulary_ == sorted(features.dictionary.token2id)  # the run's vocabulary
    # the perplexity is the held-out one, scaled to the training size
    assert evaluation.perplexity == perplexity(model, heldout_tokens, total_units=len(split.train))
    assert evaluation.perplexity != perplexity(model, train_tokens)
    # coherence: the fit's data-only top terms on all units
    assert evaluation.coherence == coherence(model, planted)
    # and a fit on all units is another cache entry
    with FitPool(planted, features, factory, [(4, 1)], workers=1, cache_dir=tmp_path) as pool:
        assert pool.cached == 0 and pool.model(4, 1).doc_topic_.shape[0] == len(planted)


def test_heldout_perplexity_is_gensims_bound_with_the_subsample_ratio(plain, planted):
    heldout, total = planted[:20], 180
    value = perplexity(plain, heldout, total_units=total)
    bows = to_bow(plain.dictionary_, heldout)
    gamma, _ = plain._gamma(bows)
    ratio = total / len(bows)
    words = sum(count for bow in bows for _, count in bow)
    # what gensim's log_perplexity(chunk, total_docs) computes, with the deterministic gamma
    gensim_bound = plain.model_.bound(bows, gamma=gamma[:, None, :], subsample_ratio=ratio)
    assert value == pytest.approx(2 ** (-gensim_bound / (ratio * words)), rel=1e-10)
    # without the ratio the topics' own terms would weigh on 20 units' words only
    assert perplexity(plain, heldout) != pytest.approx(value, rel=1e-3)


def test_a_heldout_sweep_is_repeatable_and_marks_its_rows(planted):
    factory = functools.partial(make_model, passes=3, iterations=50)
    one = sweep(planted, [4, 5], [1, 2], factory, workers=1, heldout_fraction=0.2)
    two = sweep(planted, [4, 5], [1, 2], factory, workers=2, heldout_fraction=0.2)
    assert one == two
    assert all(row["heldout_units"] == 48 for row in one)
    assert one != sweep(planted, [4, 5], [1, 2], factory, workers=1)


# ---------------------------------------------------------------- the choice of K
def _table(values):
    """Sweep rows from (K, seed, perplexity, c_npmi, c_v, jaccard)."""
    return [
        {"num_topics": k, "seed": seed, "perplexity": p, "c_npmi": npmi, "c_v": cv, "jaccard": j, "heldout_units": 23}
        for k, seed, p, npmi, cv, j in values
    ]


#: K=8 fits best but K=15 better still and unstable; K=10 is within one SE of K=8 and more coherent.
SWEEP = _table([
    (8, 1, 100.0, 0.02, 0.40, None), (8, 2, 102.0, 0.04, 0.42, 0.90), (8, 3, 101.0, 0.03, 0.41, 0.80),
    (10, 1, 101.5, 0.06, 0.38, None), (10, 2, 101.7, 0.08, 0.36, 0.70), (10, 3, 101.6, 0.07, 0.37, 0.60),
    (12, 1, 104.0, 0.20, 0.50, None), (12, 2, 104.0, 0.22, 0.52, 0.70), (12, 3, 104.0, 0.21, 0.51, 0.60),
    (15, 1, 90.0, 0.30, 0.60, None), (15, 2, 91.0, 0.31, 0.61, 0.30), (15, 3, 92.0, 0.32, 0.62, 0.20),
])


def test_auto_applies_stability_then_one_standard_error_then_coherence():
    choice = choose_num_topics(SWEEP, SelectionConfig(), fixed_num_topics=12)
    # step 1 drops K=15 (stability 0.25); step 2: K=8 has the lowest mean, 101.0 with a standard
    # error of 0.577, and K=10's 101.6 is above 101.577: only K=8 fits as well as the best
    assert choice.choose == "auto" and choice.heldout_units == 23
    assert ">= 0.5: 8, 10, 12." in choice.reason and "(<= 101.577): 8." in choice.reason
    assert choice.num_topics == 8
    wider = choose_num_topics(SWEEP, SelectionConfig(perplexity_se=2.0), 12)
    assert wider.num_topics == 10  # <= 102.155 keeps 8 and 10; 10 is more coherent (c_npmi)
    assert choose_num_topics(SWEEP, SelectionConfig(perplexity_se=2.0, coherence="c_v"), 12).num_topics == 8
    # without the stability step the better-fitting, unstable K=15 wins
    assert choose_num_topics(SWEEP, SelectionConfig(min_stability=0.0), 12).num_topics == 15
    assert choose_num_topics(SWEEP, SelectionConfig(perplexity_se=10.0), 12).num_topics == 12


def test_auto_ties_go_to_the_smaller_k_and_no_stable_k_keeps_the_most_stable():
    tied = _table([(9, 1, 50.0, 0.1, 0.4, None), (9, 2, 50.0, 0.1, 0.4, 0.9),
                   (11, 1, 50.0, 0.1, 0.4, None), (11, 2, 50.0, 0.1, 0.4, 0.9)])
    assert choose_num_topics(tied, SelectionConfig(), 11).num_topics == 9
    unstable = _table([(9, 1, 50.0, 0.1, 0.4, None), (9, 2, 52.0, 0.1, 0.4, 0.3),
                       (11, 1, 40.0, 0.5, 0.4, None), (11, 2, 41.0, 0.5, 0.4, 0.4)])
    choice = choose_num_topics(unstable, SelectionConfig(), 9)
    assert choice.num_topics == 11 and "no K reaches" in choice.reason


def test_auto_without_refits_takes_the_lowest_heldout_perplexity():
    single = _table([(8, 1, 60.0, 0.5, 0.4, None), (10, 1, 55.0, 0.1, 0.4, None), (12, 1, 58.0, 0.9, 0.4, None)])
    choice = choose_num_topics(single, SelectionConfig(stability_seeds=0), 12)
    assert choice.num_topics == 10 and "skipped" in choice.reason
    only = choose_num_topics(single[:1], SelectionConfig(), 12)
    assert only.num_topics == 8 and "only K swept" in only.reason


def test_fixed_uses_lda_num_topics_swept_or_not():
    fixed = choose_num_topics(SWEEP, SelectionConfig(choose="fixed"), fixed_num_topics=12)
    assert fixed.num_topics == 12 and fixed.choose == "fixed" and "lda.num_topics" in fixed.reason
    assert choose_num_topics(SWEEP, SelectionConfig(choose="fixed"), 9).num_topics == 9
    assert "not one of the swept K" in choose_num_topics(SWEEP, SelectionConfig(choose="fixed"), 9).reason


def test_the_choice_can_be_rederived_from_model_selection_csv(tmp_path):
    import csv

    from policytopics.artifacts import write_csv

    rows = mark_chosen(SWEEP, choose_num_topics(SWEEP, SelectionConfig(perplexity_se=2.0), 12).num_topics)
    assert [row["num_topics"] for row in rows if row["chosen"]] == [10, 10, 10]
    write_csv(tmp_path / "model_selection.csv", rows, list(rows[0]))
    with (tmp_path / "model_selection.csv").open(encoding="utf-8", newline="") as handle:
        text_rows = list(csv.DictReader(handle))
    assert selection_summary(text_rows, SelectionConfig(perplexity_se=2.0), 12) == selection_summary(
        SWEEP, SelectionConfig(perplexity_se=2.0), 12)
    assert selection_summary(SWEEP, SelectionConfig(), 12).keys() == {"num_topics_choice", "num_topics_reason", "heldout_units"}


# ---------------------------------------------------------------- the clustering check
def test_the_clustering_check_says_plainly_when_it_fails():
    themes = ["cadre"] * 110 + ["unassigned"] * 119  # the seed corpus before this check existed
    check = clustering_check(0.049, themes)
    assert check["clustering_agrees"] is False
    assert check["clustering_mapped_share"] == pytest.approx(110 / 229, abs=1e-6)
    assert check["clustering_unassigned_share"] == pytest.approx(119 / 229, abs=1e-6)
    statement = check["clustering_statement"]
    assert statement.startswith("The TF-IDF clustering does not agree with the themes")
    assert "0.049" in statement and "110 of 229" in statement and "validation" in statement
    # agreement needs both figures; the thresholds themselves pass
    assert clustering_check(0.5, themes)["clustering_agrees"] is False  # too few units mapped
    mapped = ["cadre"] * 50 + ["unassigned"] * 50
    assert clustering_check(0.1, mapped)["clustering_agrees"] is False  # ARI too low
    passing = clustering_check(CLUSTERING_MIN_ARI, mapped, min_mapped=CLUSTERING_MIN_MAPPED)
    assert passing["clustering_agrees"] is True
    assert passing["clustering_statement"].startswith("The TF-IDF clustering agrees with the themes")
