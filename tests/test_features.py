"""Vocabulary and bag-of-words features: filters, deterministic ids, unknown terms."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from policytopics.config import FeaturesConfig
from policytopics.features import build_dictionary, to_bow

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
