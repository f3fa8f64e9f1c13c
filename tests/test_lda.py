"""LdaTopicModel: the estimator's conventions, determinism, guided seeding, term orderings.

The planted corpus (tests/data/models/planted_themes.jsonl, written by make_planted.py) has
four themes whose words are known, half of every unit background words and 15 % noise from
other themes; the keywords of each theme are three of its mid-frequency words.
"""

from __future__ import annotations


import numpy as np
import pytest
from gensim.models import LdaModel
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from model_fixtures import CODEBOOK, guided, planted_labelled  # noqa: F401 (fixtures)
from policytopics.config import FeaturesConfig
from policytopics.features import to_bow
from policytopics.models.lda import LdaTopicModel, frex_scores
from policytopics.themes import map_topics_to_themes



@pytest.fixture(scope="module")
def seed_tokens(seed_run):
    return [seed_run.tokens[unit_id] for unit_id in sorted(seed_run.tokens)]


def theme_accuracy(doc_topic, labels, num_themes):
    """Share of units whose largest theme topic (0..T-1) is their planted_labelled theme."""
    return float(np.mean(doc_topic[:, :num_themes].argmax(axis=1) == labels))


# ---------------------------------------------------------------- fitted attributes
def test_fitted_attributes_are_consistent(guided, planted_labelled):
    tokens, _, keywords = planted_labelled
    K, V = 6, len(guided.vocabulary_)
    assert guided.topic_term_.shape == (K, V) and guided.doc_topic_.shape == (len(tokens), K)
    assert np.allclose(guided.topic_term_.sum(axis=1), 1.0)
    assert np.allclose(guided.doc_topic_.sum(axis=1), 1.0)
    assert guided.vocabulary_ == sorted(guided.vocabulary_)
    assert guided.term_frequency_.sum() == sum(count for bow in to_bow(guided.dictionary_, tokens) for _, count in bow)
    assert guided.topic_theme_ == ["theme0", "theme1", "theme2", "theme3", None, None]
    assert guided.seed_keywords_used_ == keywords
    assert guided.seed_keywords_missing_ == {theme: [] for theme in keywords}
    assert guided.model_.num_topics == K
    # expected counts hold the data only: they add up to the corpus
    assert np.isclose(guided.topic_term_counts_.sum(), guided.term_frequency_.sum())


def test_init_only_stores_settings_and_fit_returns_self(planted_labelled):
    tokens, _, keywords = planted_labelled
    model = LdaTopicModel(5, seed_keywords=keywords, passes=2)
    assert not [name for name in vars(model) if name.endswith("_")]
    assert clone(model).get_params() == model.get_params()
    with pytest.raises(NotFittedError):
        model.transform(tokens[:2])
    assert model.fit(tokens) is model


# ---------------------------------------------------------------- determinism
@pytest.mark.parametrize("guided_mode", [True, False])
def test_same_seed_same_bytes_other_seed_other_topics(planted_labelled, guided_mode):
    tokens, _, keywords = planted_labelled
    params = {"seed_keywords": keywords if guided_mode else None, "passes": 3}
    a = LdaTopicModel(6, random_state=11, **params).fit(tokens)
    b = LdaTopicModel(6, random_state=11, **params).fit(tokens)
    c = LdaTopicModel(6, random_state=12, **params).fit(tokens)
    assert np.array_equal(a.topic_term_, b.topic_term_)
    assert np.array_equal(a.doc_topic_, b.doc_topic_)
    assert np.array_equal(a.topic_term_counts_, b.topic_term_counts_)
    assert not np.array_equal(a.topic_term_, c.topic_term_)
    assert not np.array_equal(a.doc_topic_, c.doc_topic_)


def test_transform_is_deterministic_and_independent_of_batching(guided, planted_labelled):
    tokens = planted_labelled[0]
    batch = guided.transform(tokens[:20])
    assert np.array_equal(batch, guided.doc_topic_[:20])
    assert np.array_equal(guided.transform(tokens[7:8]), batch[7:8])
    assert np.array_equal(guided.transform(tokens[:20]), batch)  # no hidden random state moves
    empty = guided.transform([[], ["not-in-vocabulary"]])
    alpha = np.asarray(guided.model_.alpha)
    assert np.allclose(empty, alpha / alpha.sum())


# ---------------------------------------------------------------- guided seeding
def test_guided_topics_recover_planted_themes_where_a_naive_prior_does_not(planted_labelled):
    tokens, labels, keywords = planted_labelled
    guided_scores, naive_scores = [], []
    for seed in (0, 1, 2):
        model = LdaTopicModel(6, seed_keywords=keywords, passes=10, random_state=seed).fit(tokens)
        guided_scores.append(theme_accuracy(model.doc_topic_, labels, 4))
        # the usual recipe: gensim as is, eta = 1 on each theme's keywords in its topic
        eta = np.full((6, len(model.vocabulary_)), 0.01)
        for topic, words in enumerate(keywords.values()):
            eta[topic, [model.dictionary_.token2id[w] for w in words]] = 1.0
        bows = to_bow(model.dictionary_, tokens)
        naive = LdaModel(bows, id2word=model.dictionary_, num_topics=6, eta=eta, passes=10, chunksize=len(bows),
                         eval_every=None, random_state=seed, dtype=np.float64)
        naive_scores.append(theme_accuracy(naive.inference(bows)[0], labels, 4))
    assert min(guided_scores) >= 0.9, guided_scores
    assert np.mean(naive_scores) < 0.6, naive_scores


def test_guided_theme_topics_hold_their_theme_words(guided):
    counts = guided.topic_term_counts_
    for theme in range(4):
        ids = [i for i, term in enumerate(guided.vocabulary_) if term.startswith(f"t{theme}w")]
        # most of the theme's (mostly non-keyword) word mass sits in its topic
        assert counts[theme, ids].sum() / counts[:, ids].sum() > 0.6
        top = [term for term, _ in guided.top_terms(10)[theme]]
        assert sum(term.startswith(f"t{theme}w") for term in top) >= 5, top
        assert not [term for term in top if term.startswith("t") and not term.startswith(f"t{theme}w")], top


def test_keywords_stay_in_their_theme_topic(guided):
    counts = guided.topic_term_counts_
    for topic, words in enumerate(guided.seed_keywords_used_.values()):
        ids = [guided.dictionary_.token2id[w] for w in words]
        assert np.all(counts[topic, ids] / counts[:, ids].sum(axis=0) > 0.99)


def test_codebook_keywords_rank_high_in_their_topics_on_the_seed_speeches(seed_tokens):
    model = LdaTopicModel(10, seed_keywords=CODEBOOK, passes=10, random_state=20240601).fit(seed_tokens)
    assert model.topic_theme_ == list(CODEBOOK) + [None, None]
    assert "签约" in model.seed_keywords_missing_["investment"]  # not in the seed speeches
    counts = model.topic_term_counts_  # data only: the prior does not count
    for topic, (theme, words) in enumerate(model.seed_keywords_used_.items()):
        ids = [model.dictionary_.token2id[w] for w in words]
        ranks = sorted(int((counts[topic] > counts[topic, i]).sum()) + 1 for i in ids)
        most_frequent = max(ids, key=lambda i: model.term_frequency_[i])
        assert int((counts[topic] > counts[topic, most_frequent]).sum()) + 1 <= 3, theme
        assert np.median(ranks) <= 25, (theme, ranks)
        top = [term for term, _ in model.top_terms(10)[topic]]
        assert len(set(top) & set(words)) >= 2, (theme, top)


def test_more_themes_than_topics_is_an_error_naming_both(planted_labelled):
    tokens, _, keywords = planted_labelled
    with pytest.raises(ValueError, match=r"num_topics=3 .*number of themes \(4"):
        LdaTopicModel(3, seed_keywords=keywords).fit(tokens)


@pytest.mark.parametrize("bad", [{"a": "招商 项目"}, {"a": ["招商", 3]}, {}, [("a", ["招商"])]])
def test_malformed_keywords_are_rejected(planted_labelled, bad):
    with pytest.raises(ValueError):
        LdaTopicModel(4, seed_keywords=bad, passes=1).fit(planted_labelled[0])


def test_missing_keywords_are_reported(planted_labelled):
    tokens, _, keywords = planted_labelled
    model = LdaTopicModel(5, seed_keywords={**keywords, "theme3": ["t3w02", "absent"]}, passes=2).fit(tokens)
    assert model.seed_keywords_used_["theme3"] == ["t3w02"]
    assert model.seed_keywords_missing_["theme3"] == ["absent"]


# ---------------------------------------------------------------- mapped
def test_mapped_plain_lda_topics_find_the_planted_themes(planted_labelled):
    tokens, labels, keywords = planted_labelled
    model = LdaTopicModel(4, passes=10, random_state=4).fit(tokens)
    assert model.topic_theme_ == [None] * 4 and model.seed_keywords_used_ == {}
    themes = map_topics_to_themes(model.topic_term_, model.vocabulary_, keywords, 0.02, 1.5)
    assert sorted(themes) == sorted(keywords)
    # each topic is mapped to the planted_labelled theme of the units it dominates
    dominant = model.doc_topic_.argmax(axis=1)
    for topic, theme in enumerate(themes):
        majority = np.bincount(labels[dominant == topic], minlength=4).argmax()
        assert theme == f"theme{majority}"


# ---------------------------------------------------------------- term orderings
def test_relevance_and_frex_push_shared_background_terms_down(planted_labelled):
    tokens = planted_labelled[0]
    model = LdaTopicModel(4, passes=10, random_state=4, no_above=1.0).fit(tokens)

    def background_share(lists):
        terms = [term for topic in lists for term, _ in topic]
        return sum(term.startswith("bg") for term in terms) / len(terms)

    by_probability = model.top_terms(10)
    assert background_share(by_probability) >= 0.3  # frequent everywhere: on top by probability
    assert background_share(model.top_terms(10, by="relevance", lambda_=0.3)) < background_share(by_probability) / 2
    assert background_share(model.top_terms(10, by="frex")) < background_share(by_probability) / 2
    # lambda = 1 is the probability ordering; scores are returned with the terms
    assert [[t for t, _ in topic] for topic in model.top_terms(10, by="relevance", lambda_=1.0)] == [
        [t for t, _ in topic] for topic in by_probability]
    assert all(s1 >= s2 for topic in by_probability for (_, s1), (_, s2) in zip(topic, topic[1:]))
    with pytest.raises(ValueError, match="by must be"):
        model.top_terms(by="lift")


def test_topic_terms_come_from_the_data_not_from_the_prior(planted_labelled):
    """A keyword with a huge seed prior but no occurrence in the units tops its topic's
    posterior (topic_term_) but is nowhere among the topic's terms (topic_term_data_)."""
    from policytopics.features import build_dictionary

    tokens, _, keywords = planted_labelled
    # "ghost" is in the vocabulary with a corpus frequency of 1000 (which scales its prior),
    # but the units the model is fitted on never use it
    dictionary = build_dictionary([*tokens, ["ghost"] * 500, ["ghost"] * 500], FeaturesConfig(no_below=2, no_above=0.5))
    assert dictionary.cfs[dictionary.token2id["ghost"]] == 1000
    seeded = {**keywords, "theme0": [*keywords["theme0"], "ghost"]}
    model = LdaTopicModel(6, seed_keywords=seeded, passes=5, random_state=0).fit_bow(dictionary, to_bow(dictionary, tokens))
    ghost = model.dictionary_.token2id["ghost"]
    assert model.topic_term_counts_[:, ghost].sum() == 0  # no data
    assert model.topic_term_[0].argmax() == ghost  # the prior alone makes it topic 0's top term
    posterior = [term for term, _ in model.top_terms(10, weights="posterior")[0]]
    assert posterior[0] == "ghost"  # what topics.csv showed before: the codebook echoed
    for by in ("probability", "relevance", "frex"):
        for topic in model.top_terms(10, by=by):  # the default: data-only weights
            assert "ghost" not in [term for term, _ in topic], by
    data = model.topic_term_data_
    assert np.allclose(data.sum(axis=1), 1.0) and np.all(data > 0)
    counts = model.topic_term_counts_
    assert np.allclose(data, counts / counts.sum(axis=1, keepdims=True), rtol=1e-6, atol=1e-9)
    assert data[0, ghost] < 1e-9
    # the theme's own (planted_labelled) words lead its data-only list
    top = [term for term, _ in model.top_terms(10)[0]]
    assert sum(term.startswith("t0w") for term in top) >= 5, top
    with pytest.raises(ValueError, match="weights"):
        model.top_terms(weights="prior")


def test_frex_is_the_harmonic_mean_of_frequency_and_exclusivity_ranks():
    phi = np.array([[0.4, 0.3, 0.2, 0.1], [0.4, 0.05, 0.15, 0.4]])
    # topic 0: frequency ECDF (1, .75, .5, .25); exclusivity .5, .857, .571, .2 -> ECDF (.5, 1, .75, .25)
    expected = 1 / (0.5 / np.array([0.5, 1, 0.75, 0.25]) + 0.5 / np.array([1, 0.75, 0.5, 0.25]))
    assert np.allclose(frex_scores(phi)[0], expected)


