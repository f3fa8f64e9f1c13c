"""The batched E-step against gensim's own loop, and its independence of blocks and order."""

from __future__ import annotations

import numpy as np
import pytest
from gensim.corpora import Dictionary
from gensim.models import LdaModel

from policytopics.models import variational
from policytopics.models.lda import LdaTopicModel
from policytopics.models.variational import estep
from policytopics.packed import PackedBows

from model_fixtures import planted, planted_labelled  # noqa: F401  (fixtures)


@pytest.fixture(scope="module")
def gensim_model(planted):  # noqa: F811
    dictionary = Dictionary(planted)
    bows = [dictionary.doc2bow(tokens) for tokens in planted]
    model = LdaModel(bows, id2word=dictionary, num_topics=4, passes=2, random_state=3, dtype=np.float64)
    return model, bows


def test_estep_makes_gensims_updates(gensim_model):
    model, bows = gensim_model
    bows = [*bows, []]  # a unit without terms gets alpha, as in gensim
    start = np.random.RandomState(11).gamma(100.0, 1.0 / 100.0, (len(bows), model.num_topics))
    model.random_state = np.random.RandomState(11)  # gensim draws the same start
    expected_gamma, expected_counts = model.inference(bows, collect_sstats=True)
    gamma, counts = estep(model.expElogbeta, model.alpha, PackedBows.of(bows), start, model.iterations,
                          model.gamma_threshold, collect_counts=True)
    np.testing.assert_allclose(gamma, expected_gamma, rtol=1e-9)
    np.testing.assert_allclose(counts, expected_counts, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(gamma[-1], model.alpha)


@pytest.mark.parametrize("iterations", [1, 3])
def test_estep_caps_iterations_as_gensim_does(gensim_model, iterations):
    """Units still changing when the iterations run out keep their last update, as in gensim."""
    model, bows = gensim_model
    start = np.random.RandomState(5).gamma(100.0, 1.0 / 100.0, (len(bows), model.num_topics))
    capped = LdaModel(id2word=model.id2word, num_topics=model.num_topics, iterations=iterations, dtype=np.float64)
    capped.expElogbeta, capped.alpha = model.expElogbeta, model.alpha
    capped.random_state = np.random.RandomState(5)
    expected, _ = capped.inference(bows)
    gamma, _ = estep(model.expElogbeta, model.alpha, PackedBows.of(bows), start, iterations, capped.gamma_threshold)
    np.testing.assert_allclose(gamma, expected, rtol=1e-9)
    converged, _ = estep(model.expElogbeta, model.alpha, PackedBows.of(bows), start, 400, capped.gamma_threshold)
    assert not np.allclose(gamma, converged)


def test_estep_does_not_depend_on_blocks_or_neighbours(gensim_model, monkeypatch):
    model, bows = gensim_model
    start = np.ones((len(bows), model.num_topics))
    whole, counts = estep(model.expElogbeta, model.alpha, PackedBows.of(bows), start, 400, 1e-4, collect_counts=True)
    monkeypatch.setattr(variational, "BLOCK_ENTRIES", 7)  # many small blocks
    blocked, blocked_counts = estep(model.expElogbeta, model.alpha, PackedBows.of(bows), start, 400, 1e-4, collect_counts=True)
    np.testing.assert_array_equal(blocked, whole)  # a unit's result is its own, bit for bit
    np.testing.assert_allclose(blocked_counts, counts, rtol=1e-12)
    alone, _ = estep(model.expElogbeta, model.alpha, PackedBows.of(bows[5:6]), start[5:6], 400, 1e-4)
    np.testing.assert_array_equal(alone[0], whole[5])


def test_estep_rejects_a_start_of_the_wrong_shape(gensim_model):
    model, bows = gensim_model
    with pytest.raises(ValueError, match="gamma_start"):
        estep(model.expElogbeta, model.alpha, PackedBows.of(bows), np.ones((2, 2)), 10, 1e-3)


@pytest.mark.parametrize("guided", [False, True])
def test_batched_fit_is_gensims_fit(planted_labelled, guided):  # noqa: F811
    """Same random starts, rho, alpha and M-step: the fit is gensim's up to rounding."""
    tokens, _, keywords = planted_labelled
    params = {"seed_keywords": keywords} if guided else {}
    gensim_fit = LdaTopicModel(6, passes=5, random_state=2, estep="gensim", alpha="auto", **params).fit(tokens)
    batched_fit = LdaTopicModel(6, passes=5, random_state=2, estep="batched", alpha="auto", **params).fit(tokens)
    np.testing.assert_allclose(batched_fit.model_.alpha, gensim_fit.model_.alpha, rtol=1e-6)
    np.testing.assert_allclose(batched_fit.topic_term_, gensim_fit.topic_term_, rtol=1e-6)
    np.testing.assert_allclose(batched_fit.doc_topic_, gensim_fit.doc_topic_, atol=1e-6)


def test_batched_guided_fit_is_reproducible(planted_labelled):  # noqa: F811
    tokens, _, keywords = planted_labelled
    first = LdaTopicModel(6, seed_keywords=keywords, passes=5, random_state=1).fit(tokens)
    again = LdaTopicModel(6, seed_keywords=keywords, passes=5, random_state=1).fit(tokens)
    other_seed = LdaTopicModel(6, seed_keywords=keywords, passes=5, random_state=2).fit(tokens)
    np.testing.assert_array_equal(first.topic_term_, again.topic_term_)
    assert not np.allclose(first.topic_term_, other_seed.topic_term_)


def test_an_unknown_estep_is_an_error(planted):  # noqa: F811
    with pytest.raises(ValueError, match="estep"):
        LdaTopicModel(4, estep="warm").fit(planted)
