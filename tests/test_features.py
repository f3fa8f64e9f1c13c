"""Vocabulary and bag-of-words features: filters, deterministic ids, unknown terms; the cache store."""

from __future__ import annotations

import json
import logging
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

from policytopics.config import FeaturesConfig
from policytopics.cache import CacheStore
from policytopics.features import build_dictionary, corpus_features, features_key, to_bow

# "项目" in 4 units, "招商" in 3, "土地" and "干部" in 2 each, "园区" in 1, "开发区" in all 5.
UNITS = [
    ["开发区", "项目", "招商", "干部"],
    ["开发区", "项目", "土地", "招商"],
    ["开发区", "项目", "招商", "园区"],
    ["开发区", "土地", "项目", "项目"],
    ["开发区", "干部"],
]


def terms_by_id(dictionary):
    return [dictionary[i] for i in range(len(dictionary))]


def test_filters_rare_and_common_terms_and_keeps_frequencies():
    dictionary = build_dictionary(UNITS, FeaturesConfig(no_below=2, no_above=0.9))
    assert terms_by_id(dictionary) == sorted(["项目", "招商", "土地", "干部"])
    project = dictionary.token2id["项目"]
    assert dictionary.dfs[project] == 4
    assert dictionary.cfs[project] == 5
    assert dictionary.num_docs == 5


def test_ids_follow_sorted_terms_whatever_the_unit_order():
    a = build_dictionary(UNITS, FeaturesConfig(no_below=1, no_above=1.0))
    b = build_dictionary(list(reversed([list(reversed(unit)) for unit in UNITS])), FeaturesConfig(no_below=1, no_above=1.0))
    assert a.token2id == b.token2id
    assert terms_by_id(a) == sorted(terms_by_id(a))
    assert a.dfs == b.dfs and a.cfs == b.cfs


def test_keep_n_breaks_document_frequency_ties_by_term():
    # "土地" and "干部" tie (2 units each); "干部" is seen first, but "土地" sorts first.
    dictionary = build_dictionary(UNITS, FeaturesConfig(no_below=1, no_above=0.9, keep_n=3))
    assert sorted(dictionary.token2id) == sorted(["项目", "招商", "土地"])


def test_ids_do_not_depend_on_the_hash_seed():
    code = (
        "import json, sys\n"
        "from policytopics.config import FeaturesConfig\n"
        "from policytopics.features import build_dictionary\n"
        "units = json.loads(sys.argv[1])\n"
        "d = build_dictionary(units, FeaturesConfig(no_below=1, no_above=1.0, keep_n=4))\n"
        "print(json.dumps(sorted(d.token2id.items(), key=lambda kv: kv[1]), ensure_ascii=False))\n"
    )
    outputs = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run(
            [sys.executable, "-c", code, json.dumps(UNITS)], env=env, capture_output=True, text=True, check=True
        )
        outputs.add(done.stdout)
    assert len(outputs) == 1


def test_nothing_left_is_an_error_naming_the_settings():
    with pytest.raises(ValueError, match="no_below=10"):
        build_dictionary(UNITS, FeaturesConfig(no_below=10))


def test_a_string_instead_of_a_token_list_is_an_error():
    with pytest.raises(ValueError, match="unit 1"):
        build_dictionary([["项目"], "项目 招商"], FeaturesConfig())
    dictionary = build_dictionary(UNITS, FeaturesConfig(no_above=1.0))
    with pytest.raises(ValueError, match="unit 0"):
        to_bow(dictionary, ["项目 招商"])


def test_bow_counts_sorted_by_id_and_ignores_unknown_terms():
    dictionary = build_dictionary(UNITS, FeaturesConfig(no_below=2, no_above=0.9))
    ids = dictionary.token2id
    bows = to_bow(dictionary, [["项目", "园区", "招商", "项目", "开发区"], [], ["未知"]])
    assert bows[0] == sorted([(ids["项目"], 2), (ids["招商"], 1)])
    assert bows[1:] == [[], []]
    assert len(dictionary) == 4  # to_bow never adds terms


# ---------------------------------------------------------------- cached features


def _same_dictionary(a, b):
    return (a.token2id, a.dfs, a.cfs, a.num_docs, a.num_pos, a.num_nnz) == (b.token2id, b.dfs, b.cfs, b.num_docs, b.num_pos, b.num_nnz)


def test_corpus_features_equal_the_built_ones_with_or_without_the_cache(tmp_path):
    config = FeaturesConfig(no_below=2, no_above=0.9)
    dictionary = build_dictionary(UNITS, config)
    built = corpus_features(UNITS, config)
    stored = corpus_features(UNITS, config, tmp_path)  # builds and stores
    read = corpus_features(UNITS, config, tmp_path)  # reads
    assert (tmp_path / "features" / read.key / "CHECKSUMS.json").is_file()
    for features in (built, stored, read):
        assert _same_dictionary(features.dictionary, dictionary)
        assert features.bows == to_bow(dictionary, UNITS)
        assert all(type(i) is int and type(n) is int for bow in features.bows for i, n in bow)
    # the dictionary read back pickles to the same bytes (what the saved models contain)
    assert pickle.dumps(read.dictionary) == pickle.dumps(dictionary)


def test_features_key_follows_tokens_order_and_settings():
    config = FeaturesConfig()
    key = features_key(UNITS, config)
    assert key == features_key([list(unit) for unit in UNITS], config)
    assert key != features_key(UNITS[::-1], config)
    assert key != features_key(UNITS[:-1], config)
    assert key != features_key(UNITS, FeaturesConfig(no_above=0.4))
    assert key != features_key(UNITS, FeaturesConfig(keep_n=3))


def test_a_corrupt_features_entry_is_detected_and_rebuilt(tmp_path, caplog):
    config = FeaturesConfig(no_below=1, no_above=1.0)
    first = corpus_features(UNITS, config, tmp_path)
    bows = tmp_path / "features" / first.key / "bows.npz"
    bows.write_bytes(bows.read_bytes()[:-20])  # truncated
    with caplog.at_level(logging.WARNING, logger="policytopics"):
        again = corpus_features(UNITS, config, tmp_path)
    assert "corrupt" in caplog.text
    assert again.bows == first.bows and _same_dictionary(again.dictionary, first.dictionary)
    assert CacheStore(tmp_path, "features").get(first.key) is not None  # rewritten intact


def test_cache_store_entries_are_checksummed(tmp_path, caplog):
    store = CacheStore(tmp_path, "demo")
    store.put_json("a", {"value": 0.1 + 0.2, "values": [float("nan"), 1e-300]})
    value = store.get_json("a")
    assert value["value"] == 0.1 + 0.2 and np.isnan(value["values"][0]) and value["values"][1] == 1e-300
    assert store.get_json("missing") is None
    entry = store.path("a")
    (entry / "value.json").write_text('{"value": 1.0}', encoding="utf-8")  # changed behind the store's back
    with caplog.at_level(logging.WARNING, logger="policytopics"):
        assert store.get_json("a") is None
    assert not entry.exists()  # a bad entry is removed, never used
    store.put("b", lambda folder: (folder / "x.bin").write_bytes(b"123"))
    (store.path("b") / "CHECKSUMS.json").unlink()  # half-written: no listing
    assert store.get("b") is None
    assert not [p for p in store.folder.iterdir() if p.name.startswith(".tmp")]  # no staging left behind
