"""Saving and loading fitted models (models/persistence.py): model folders, a run folder's
model/ checked against its manifest, and the cache of fits."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from sklearn.base import clone

from model_fixtures import DATA, guided, planted_labelled  # noqa: F401 (fixtures)
from policytopics.cache import CacheStore
from policytopics.config import FeaturesConfig
from policytopics.features import corpus_features
from policytopics.models.lda import LdaTopicModel
from policytopics.models.persistence import fit_cache_key, load_cached_fit, load_model, save_cached_fit, save_model


def test_data_only_terms_survive_save_and_load(guided, tmp_path):
    loaded = load_model(save_model(guided, tmp_path / "lda"))
    assert np.array_equal(loaded.topic_term_data_, guided.topic_term_data_)
    for by in ("probability", "relevance", "frex"):
        assert loaded.top_terms(10, by=by) == guided.top_terms(10, by=by)


def test_save_load_round_trip(guided, planted_labelled, tmp_path):
    tokens = planted_labelled[0]
    folder = save_model(guided, tmp_path / "lda")
    loaded = load_model(folder)
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
        "from policytopics.models.persistence import save_model\n"
        "data = Path(sys.argv[1])\n"
        "rows = [json.loads(line) for line in (data / 'planted_themes.jsonl').read_text().splitlines()][:80]\n"
        "keywords = json.loads((data / 'planted_keywords.json').read_text())\n"
        "model = LdaTopicModel(5, seed_keywords=keywords, passes=2, random_state=3)\n"
        "save_model(model.fit([row['tokens'] for row in rows]), sys.argv[2])\n"
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


def _saved_bytes(model, folder):
    save_model(model, folder)
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


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


def test_a_cached_fit_reads_back_as_the_fit(guided, planted_labelled, tmp_path):
    tokens = planted_labelled[0]
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

    save_model(model, folder / "model")
    artifacts.write_text(folder / "config.resolved.yaml", "seed: 0\n")
    manifest = artifacts.build_manifest(folder, config_sha256="c" * 64, inputs={}, stages=["model"])
    artifacts.write_json(folder / "manifest.json", manifest)
    return folder


@pytest.fixture(scope="module")
def other_seed(planted_labelled):
    """Another run's model: the same vocabulary and number of topics, another seed."""
    tokens, _, keywords = planted_labelled
    return LdaTopicModel(6, seed_keywords=keywords, passes=2, random_state=1).fit(tokens)


def test_a_run_folders_model_is_checked_and_loads(guided, planted_labelled, tmp_path):
    run = _run_folder(guided, tmp_path / "run")
    for folder in (run / "model", run):  # the model folder, or the run folder holding it
        loaded = load_model(folder)
        assert np.array_equal(loaded.transform(planted_labelled[0][:20]), guided.transform(planted_labelled[0][:20]))


def test_a_model_file_from_another_run_is_refused(guided, other_seed, tmp_path):
    from policytopics.errors import ArtifactMismatchError, PolicytopicsError

    run = _run_folder(guided, tmp_path / "run")
    other = save_model(other_seed, tmp_path / "other")
    for path in other.glob("lda.gensim*"):
        (run / "model" / path.name).write_bytes(path.read_bytes())
    with pytest.raises(ArtifactMismatchError) as caught:
        load_model(run / "model")
    message = str(caught.value)
    assert isinstance(caught.value, PolicytopicsError) and str(run) in message
    assert "model/lda.gensim differs from the hash manifest.json records" in message
    assert "model/dictionary.gensim" not in message  # only the replaced files are named


def test_a_dictionary_from_another_run_is_refused(guided, planted_labelled, tmp_path):
    from policytopics.errors import ArtifactMismatchError

    smaller = LdaTopicModel(6, passes=1, random_state=0).fit(planted_labelled[0][:40])  # another vocabulary
    assert len(smaller.dictionary_) != len(guided.dictionary_)
    run = _run_folder(guided, tmp_path / "run")
    save_model(smaller, tmp_path / "smaller")
    (run / "model" / "dictionary.gensim").write_bytes((tmp_path / "smaller" / "dictionary.gensim").read_bytes())
    with pytest.raises(ArtifactMismatchError, match="model/dictionary.gensim differs from the hash"):
        load_model(run / "model")
    # even without a manifest (check_manifest=False), model and dictionary must agree
    with pytest.raises(ArtifactMismatchError, match="dictionary.gensim has .* terms"):
        load_model(run / "model", check_manifest=False)


def test_a_missing_manifest_entry_or_manifest_is_refused(guided, tmp_path):
    from policytopics.errors import ArtifactMismatchError

    run = _run_folder(guided, tmp_path / "run")
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    del manifest["artifacts"]["model/settings.json"]
    (run / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(ArtifactMismatchError, match="model/settings.json has no entry in manifest.json"):
        load_model(run / "model")
    (run / "manifest.json").unlink()  # config.resolved.yaml still says it is a run folder
    with pytest.raises(ArtifactMismatchError, match="no manifest.json"):
        load_model(run / "model")
    plain = save_model(guided, tmp_path / "plain" / "lda")  # saved on its own: no manifest to check
    assert load_model(plain).num_topics == guided.num_topics
    with pytest.raises(ArtifactMismatchError, match="no manifest.json"):
        load_model(plain, check_manifest=True)


def test_fit_bow_is_fit_on_prepared_features(planted_labelled, tmp_path):
    tokens, _, keywords = planted_labelled
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
