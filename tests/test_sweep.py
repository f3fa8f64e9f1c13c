"""The sweep: the held-out split, the pool of fits through the cache, and the sweep's rows."""

from __future__ import annotations

import functools
import logging
import math

import numpy as np
import pytest

from policytopics.config import FeaturesConfig
from policytopics.features import corpus_features, to_bow
from policytopics.models.lda import make_model
from policytopics.metrics import coherence, perplexity
from policytopics.sweep import FitPool, heldout_split, sweep, sweep_rows
from model_fixtures import plain, planted  # noqa: F401 (fixtures)


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
