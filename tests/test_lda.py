"""LdaTopicModel: determinism, guided seeding, theme mapping, term orderings, persistence.

The planted corpus (tests/data/models/planted_themes.jsonl, written by make_planted.py) has
four themes whose words are known, half of every unit background words and 15 % noise from
other themes; the keywords of each theme are three of its mid-frequency words.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from gensim.models import LdaModel
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from policytopics.config import FeaturesConfig, LdaConfig
from policytopics.cache import CacheStore
from policytopics.features import corpus_features, to_bow
from policytopics.models.lda import (
    UNASSIGNED,
    LdaTopicModel,
    factory_from_config,
    fit_cache_key,
    frex_scores,
    load_cached_fit,
    map_topics_to_themes,
    save_cached_fit,
)

DATA = Path(__file__).parent / "data" / "models"

# The provisional codebook keywords (theme -> keywords), as the project lists them.
CODEBOOK = {
    "investment": ["招商引资", "招商", "项目建设", "投资", "招大引强", "项目落地", "到位资金", "签约"],
    "livelihood": ["民生", "就业", "教育", "医疗", "社会保障", "安置房", "群众", "民生工程"],
    "planning": ["规划", "土地", "基础设施", "路网", "征地拆迁", "城市", "道路", "空间"],
    "cadre": ["干部", "干部队伍建设", "作风建设", "党风廉政建设", "领导班子", "党建", "廉政", "四风"],
    "industry": ["产业", "科技", "创新", "人才", "高新技术", "企业"],
    "environment": ["环保", "生态", "环境保护", "节能减排", "污染", "绿化"],
    "reform": ["改革", "体制", "机制", "营商环境", "放管服", "审批"],
    "economy": ["经济", "财政收入", "地区生产总值", "固定资产投资", "工业增加值", "增长"],
}


@pytest.fixture(scope="module")
def planted():
    rows = [json.loads(line) for line in (DATA / "planted_themes.jsonl").read_text(encoding="utf-8").splitlines()]
    keywords = json.loads((DATA / "planted_keywords.json").read_text(encoding="utf-8"))
    return [row["tokens"] for row in rows], np.array([row["label"] for row in rows]), keywords


@pytest.fixture(scope="module")
def guided(planted):
    tokens, _, keywords = planted
    return LdaTopicModel(6, seed_keywords=keywords, passes=10, random_state=0).fit(tokens)


@pytest.fixture(scope="module")
def seed_tokens(seed_run):
    return [seed_run.tokens[unit_id] for unit_id in sorted(seed_run.tokens)]


def theme_accuracy(doc_topic, labels, num_themes):
    """Share of units whose largest theme topic (0..T-1) is their planted theme."""
    return float(np.mean(doc_topic[:, :num_themes].argmax(axis=1) == labels))


# ---------------------------------------------------------------- fitted attributes
def test_fitted_attributes_are_consistent(guided, planted):
    tokens, _, keywords = planted
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


def test_init_only_stores_settings_and_fit_returns_self(planted):
    tokens, _, keywords = planted
    model = LdaTopicModel(5, seed_keywords=keywords, passes=2)
    assert not [name for name in vars(model) if name.endswith("_")]
    assert clone(model).get_params() == model.get_params()
    with pytest.raises(NotFittedError):
        model.transform(tokens[:2])
    assert model.fit(tokens) is model


# ---------------------------------------------------------------- determinism
@pytest.mark.parametrize("guided_mode", [True, False])
def test_same_seed_same_bytes_other_seed_other_topics(planted, guided_mode):
    tokens, _, keywords = planted
    params = {"seed_keywords": keywords if guided_mode else None, "passes": 3}
    a = LdaTopicModel(6, random_state=11, **params).fit(tokens)
    b = LdaTopicModel(6, random_state=11, **params).fit(tokens)
    c = LdaTopicModel(6, random_state=12, **params).fit(tokens)
    assert np.array_equal(a.topic_term_, b.topic_term_)
    assert np.array_equal(a.doc_topic_, b.doc_topic_)
    assert np.array_equal(a.topic_term_counts_, b.topic_term_counts_)
    assert not np.array_equal(a.topic_term_, c.topic_term_)
    assert not np.array_equal(a.doc_topic_, c.doc_topic_)


def test_transform_is_deterministic_and_independent_of_batching(guided, planted):
    tokens = planted[0]
    batch = guided.transform(tokens[:20])
    assert np.array_equal(batch, guided.doc_topic_[:20])
    assert np.array_equal(guided.transform(tokens[7:8]), batch[7:8])
    assert np.array_equal(guided.transform(tokens[:20]), batch)  # no hidden random state moves
    empty = guided.transform([[], ["not-in-vocabulary"]])
    alpha = np.asarray(guided.model_.alpha)
    assert np.allclose(empty, alpha / alpha.sum())


# ---------------------------------------------------------------- guided seeding
def test_guided_topics_recover_planted_themes_where_a_naive_prior_does_not(planted):
    tokens, labels, keywords = planted
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


def test_more_themes_than_topics_is_an_error_naming_both(planted):
    tokens, _, keywords = planted
    with pytest.raises(ValueError, match=r"num_topics=3 .*number of themes \(4"):
        LdaTopicModel(3, seed_keywords=keywords).fit(tokens)


@pytest.mark.parametrize("bad", [{"a": "招商 项目"}, {"a": ["招商", 3]}, {}, [("a", ["招商"])]])
def test_malformed_keywords_are_rejected(planted, bad):
    with pytest.raises(ValueError):
        LdaTopicModel(4, seed_keywords=bad, passes=1).fit(planted[0])


def test_missing_keywords_are_reported(planted):
    tokens, _, keywords = planted
    model = LdaTopicModel(5, seed_keywords={**keywords, "theme3": ["t3w02", "absent"]}, passes=2).fit(tokens)
    assert model.seed_keywords_used_["theme3"] == ["t3w02"]
    assert model.seed_keywords_missing_["theme3"] == ["absent"]


# ---------------------------------------------------------------- mapped
def test_mapping_clear_and_unclear_topics():
    vocabulary = ["招商", "投资", "干部", "党建", "开发区"]
    keywords = {"investment": ["招商", "投资"], "cadre": ["干部", "党建"]}
    phi = np.array([
        [0.30, 0.25, 0.05, 0.00, 0.40],  # investment 0.55 vs cadre 0.05: clear
        [0.02, 0.00, 0.30, 0.30, 0.38],  # cadre: clear
        [0.10, 0.10, 0.10, 0.06, 0.64],  # 0.20 vs 0.16: below the margin
        [0.005, 0.005, 0.0, 0.0, 0.99],  # 0.01: below min_weight
        [0.10, 0.10, 0.10, 0.10, 0.60],  # a tie is never a winner
    ])
    assert map_topics_to_themes(phi, vocabulary, keywords, min_weight=0.02, margin=1.5) == [
        "investment", "cadre", UNASSIGNED, UNASSIGNED, UNASSIGNED]
    # a lower margin lets the third topic through; a tie still is not
    assert map_topics_to_themes(phi, vocabulary, keywords, min_weight=0.02, margin=1.0)[2:] == [
        "investment", UNASSIGNED, UNASSIGNED]
    with pytest.raises(ValueError, match="shape"):
        map_topics_to_themes(phi, vocabulary[:3], keywords, 0.02, 1.5)


def test_mapped_plain_lda_topics_find_the_planted_themes(planted):
    tokens, labels, keywords = planted
    model = LdaTopicModel(4, passes=10, random_state=4).fit(tokens)
    assert model.topic_theme_ == [None] * 4 and model.seed_keywords_used_ == {}
    themes = map_topics_to_themes(model.topic_term_, model.vocabulary_, keywords, 0.02, 1.5)
    assert sorted(themes) == sorted(keywords)
    # each topic is mapped to the planted theme of the units it dominates
    dominant = model.doc_topic_.argmax(axis=1)
    for topic, theme in enumerate(themes):
        majority = np.bincount(labels[dominant == topic], minlength=4).argmax()
        assert theme == f"theme{majority}"


# ---------------------------------------------------------------- term orderings
def test_relevance_and_frex_push_shared_background_terms_down(planted):
    tokens = planted[0]
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


def test_topic_terms_come_from_the_data_not_from_the_prior(planted):
    """A keyword with a huge seed prior but no occurrence in the units tops its topic's
    posterior (topic_term_) but is nowhere among the topic's terms (topic_term_data_)."""
    from policytopics.features import build_dictionary

    tokens, _, keywords = planted
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
    # the theme's own (planted) words lead its data-only list
    top = [term for term, _ in model.top_terms(10)[0]]
    assert sum(term.startswith("t0w") for term in top) >= 5, top
    with pytest.raises(ValueError, match="weights"):
        model.top_terms(weights="prior")


def test_data_only_terms_survive_save_and_load(guided, tmp_path):
    loaded = LdaTopicModel.load(guided.save(tmp_path / "lda"))
    assert np.array_equal(loaded.topic_term_data_, guided.topic_term_data_)
    for by in ("probability", "relevance", "frex"):
        assert loaded.top_terms(10, by=by) == guided.top_terms(10, by=by)


def test_frex_is_the_harmonic_mean_of_frequency_and_exclusivity_ranks():
    phi = np.array([[0.4, 0.3, 0.2, 0.1], [0.4, 0.05, 0.15, 0.4]])
    # topic 0: frequency ECDF (1, .75, .5, .25); exclusivity .5, .857, .571, .2 -> ECDF (.5, 1, .75, .25)
    expected = 1 / (0.5 / np.array([0.5, 1, 0.75, 0.25]) + 0.5 / np.array([1, 0.75, 0.5, 0.25]))
    assert np.allclose(frex_scores(phi)[0], expected)


# ---------------------------------------------------------------- persistence and config
def test_save_load_round_trip(guided, planted, tmp_path):
    tokens = planted[0]
    folder = guided.save(tmp_path / "lda")
    loaded = LdaTopicModel.load(folder)
    assert loaded.get_params() == guided.get_params()
    assert np.array_equal(loaded.transform(tokens), guided.transform(tokens))
    assert np.array_equal(loaded.topic_term_, guided.topic_term_)
    assert np.array_equal(loaded.doc_topic_, guided.doc_topic_)
    assert np.array_equal(loaded.topic_term_counts_, guided.topic_term_counts_)
    assert loaded.vocabulary_ == guided.vocabulary_
    assert loaded.topic_theme_ == guided.topic_theme_
    assert loaded.seed_keywords_used_ == guided.seed_keywords_used_
    assert loaded.top_terms(5, by="frex") == guided.top_terms(5, by="frex")
    settings = json.loads((folder / "settings.json").read_text(encoding="utf-8"))
    assert settings["params"]["random_state"] == 0


def test_saved_files_are_byte_identical_across_processes_and_folders(tmp_path):
    # no dates or paths in gensim's pickles, nothing ordered by Python's (per-process) hash seed
    code = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from policytopics.models.lda import LdaTopicModel\n"
        "data = Path(sys.argv[1])\n"
        "rows = [json.loads(line) for line in (data / 'planted_themes.jsonl').read_text().splitlines()][:80]\n"
        "keywords = json.loads((data / 'planted_keywords.json').read_text())\n"
        "model = LdaTopicModel(5, seed_keywords=keywords, passes=2, random_state=3)\n"
        "model.fit([row['tokens'] for row in rows]).save(sys.argv[2])\n"
    )
    folders = []
    for hash_seed in ("1", "2"):
        folder = tmp_path / f"hash{hash_seed}"
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        subprocess.run([sys.executable, "-c", code, str(DATA), str(folder)], env=env, check=True, capture_output=True)
        folders.append(folder)
    files = sorted(path.name for path in folders[0].iterdir())
    assert "lda.gensim" in files and "dictionary.gensim" in files
    assert files == sorted(path.name for path in folders[1].iterdir())
    for name in files:
        assert (folders[0] / name).read_bytes() == (folders[1] / name).read_bytes(), name


def test_from_config_takes_every_setting():
    lda = LdaConfig(method="guided", num_topics=9, alpha=0.2, eta=0.05, seed_weight=2.0, passes=7,
                    iterations=50, chunksize=300)
    features = FeaturesConfig(no_below=3, no_above=0.4, keep_n=500)
    model = LdaTopicModel.from_config(lda, features, seed=42, seed_keywords=CODEBOOK)
    assert model.get_params() == {
        "num_topics": 9, "seed_keywords": CODEBOOK, "alpha": 0.2, "eta": 0.05, "seed_weight": 2.0, "passes": 7,
        "iterations": 50, "chunksize": 300, "no_below": 3, "no_above": 0.4, "keep_n": 500, "random_state": 42,
    }
    with pytest.raises(ValueError, match="guided"):
        LdaTopicModel.from_config(lda, features, seed=42)
    mapped = LdaTopicModel.from_config(LdaConfig(method="mapped"), features, seed=1, seed_keywords=CODEBOOK)
    assert mapped.seed_keywords is None
    factory = factory_from_config(lda, features, CODEBOOK)
    assert factory(10, 5).get_params() == {**model.get_params(), "num_topics": 10, "random_state": 5}


# ---------------------------------------------------------------- prepared features and the fit cache
def _saved_bytes(model, folder):
    model.save(folder)
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def test_fit_bow_is_fit_on_prepared_features(planted, tmp_path):
    tokens, _, keywords = planted
    params = {"seed_keywords": keywords, "passes": 3, "random_state": 7}
    direct = LdaTopicModel(6, **params).fit(tokens)
    features = corpus_features(tokens, FeaturesConfig(no_below=2, no_above=0.5))
    prepared = LdaTopicModel(6, **params).fit_bow(features.dictionary, features.bows)
    assert np.array_equal(direct.doc_topic_, prepared.doc_topic_)
    assert np.array_equal(direct.topic_term_counts_, prepared.topic_term_counts_)
    assert prepared.dictionary_ is not features.dictionary  # each model gets its own copy
    assert _saved_bytes(direct, tmp_path / "a") == _saved_bytes(prepared, tmp_path / "b")
    # a second fit on the same (now twice used) features saves the same bytes, and so does a second save
    again = LdaTopicModel(6, **params).fit_bow(features.dictionary, features.bows)
    assert _saved_bytes(again, tmp_path / "c") == _saved_bytes(direct, tmp_path / "a")
    assert _saved_bytes(direct, tmp_path / "d") == _saved_bytes(direct, tmp_path / "a")


def test_fit_cache_key_covers_every_parameter():
    base = LdaTopicModel(8, seed_keywords={"a": ["x", "y"], "b": ["z"]}, random_state=1)
    key = fit_cache_key(base, "f" * 64)
    assert key == fit_cache_key(clone(base), "f" * 64)
    variants = [
        {"num_topics": 9}, {"random_state": 2}, {"seed_weight": 0.5}, {"eta": 0.02}, {"alpha": "asymmetric"},
        {"passes": 21}, {"iterations": 100}, {"chunksize": 500}, {"no_below": 3}, {"no_above": 0.4},
        {"keep_n": 100}, {"seed_keywords": None},
        {"seed_keywords": {"b": ["z"], "a": ["x", "y"]}},  # theme order is topic order
        {"seed_keywords": {"a": ["x"], "b": ["z"]}},
    ]
    keys = {fit_cache_key(clone(base).set_params(**change), "f" * 64) for change in variants}
    assert len(keys) == len(variants) and key not in keys
    assert fit_cache_key(base, "e" * 64) != key  # other tokens or features settings


def test_a_cached_fit_reads_back_as_the_fit(guided, planted, tmp_path):
    tokens = planted[0]
    store = CacheStore(tmp_path / "cache", "lda")
    assert load_cached_fit(store, "k") is None
    fresh = LdaTopicModel(**guided.get_params()).fit(tokens)
    expected = _saved_bytes(LdaTopicModel(**guided.get_params()).fit(tokens), tmp_path / "expected")
    save_cached_fit(store, "k", fresh)
    cached = load_cached_fit(store, "k")
    assert np.array_equal(cached.doc_topic_, guided.doc_topic_)
    assert cached.top_terms(10) == guided.top_terms(10)
    assert _saved_bytes(cached, tmp_path / "again") == expected  # model/ gets the same bytes
    (store.path("k") / "doc_topic.npy").write_bytes(b"broken")
    assert load_cached_fit(store, "k") is None  # detected by its checksum, never used


# ---------------------------------------------------------------- a run folder's model/
def _run_folder(model, folder):
    """A run folder holding ``model`` in model/, with the manifest a run writes."""
    from policytopics import artifacts

    model.save(folder / "model")
    artifacts.write_text(folder / "config.resolved.yaml", "seed: 0\n")
    manifest = artifacts.build_manifest(folder, config_sha256="c" * 64, inputs={}, stages=["model"])
    artifacts.write_json(folder / "manifest.json", manifest)
    return folder


@pytest.fixture(scope="module")
def other_seed(planted):
    """Another run's model: the same vocabulary and number of topics, another seed."""
    tokens, _, keywords = planted
    return LdaTopicModel(6, seed_keywords=keywords, passes=2, random_state=1).fit(tokens)


def test_a_run_folders_model_is_checked_and_loads(guided, planted, tmp_path):
    run = _run_folder(guided, tmp_path / "run")
    for folder in (run / "model", run):  # the model folder, or the run folder holding it
        loaded = LdaTopicModel.load(folder)
        assert np.array_equal(loaded.transform(planted[0][:20]), guided.transform(planted[0][:20]))


def test_a_model_file_from_another_run_is_refused(guided, other_seed, tmp_path):
    from policytopics.errors import ArtifactMismatchError, PolicytopicsError

    run = _run_folder(guided, tmp_path / "run")
    other = other_seed.save(tmp_path / "other")
    for path in other.glob("lda.gensim*"):
        (run / "model" / path.name).write_bytes(path.read_bytes())
    with pytest.raises(ArtifactMismatchError) as caught:
        LdaTopicModel.load(run / "model")
    message = str(caught.value)
    assert isinstance(caught.value, PolicytopicsError) and str(run) in message
    assert "model/lda.gensim differs from the hash manifest.json records" in message
    assert "model/dictionary.gensim" not in message  # only the replaced files are named


def test_a_dictionary_from_another_run_is_refused(guided, planted, tmp_path):
    from policytopics.errors import ArtifactMismatchError

    smaller = LdaTopicModel(6, passes=1, random_state=0).fit(planted[0][:40])  # another vocabulary
    assert len(smaller.dictionary_) != len(guided.dictionary_)
    run = _run_folder(guided, tmp_path / "run")
    smaller.save(tmp_path / "smaller")
    (run / "model" / "dictionary.gensim").write_bytes((tmp_path / "smaller" / "dictionary.gensim").read_bytes())
    with pytest.raises(ArtifactMismatchError, match="model/dictionary.gensim differs from the hash"):
        LdaTopicModel.load(run / "model")
    # even without a manifest (check_manifest=False), model and dictionary must agree
    with pytest.raises(ArtifactMismatchError, match="dictionary.gensim has .* terms"):
        LdaTopicModel.load(run / "model", check_manifest=False)


def test_a_missing_manifest_entry_or_manifest_is_refused(guided, tmp_path):
    from policytopics.errors import ArtifactMismatchError

    run = _run_folder(guided, tmp_path / "run")
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    del manifest["artifacts"]["model/settings.json"]
    (run / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(ArtifactMismatchError, match="model/settings.json has no entry in manifest.json"):
        LdaTopicModel.load(run / "model")
    (run / "manifest.json").unlink()  # config.resolved.yaml still says it is a run folder
    with pytest.raises(ArtifactMismatchError, match="no manifest.json"):
        LdaTopicModel.load(run / "model")
    plain = guided.save(tmp_path / "plain" / "lda")  # saved on its own: no manifest to check
    assert LdaTopicModel.load(plain).num_topics == guided.num_topics
    with pytest.raises(ArtifactMismatchError, match="no manifest.json"):
        LdaTopicModel.load(plain, check_manifest=True)
