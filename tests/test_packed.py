"""Tests of policytopics.packed: compact token and bag-of-words sequences behave like lists."""

import pickle

import numpy as np
import pytest

from policytopics.packed import PackedBows, PackedTokens, TokenPacker, TokensByUnit

UNITS = [["招商", "项目", "招商"], [], ["土地"], ["项目", "土地", "园区"]]


def test_packed_tokens_read_back_every_unit_in_order():
    tokens = PackedTokens.from_lists(UNITS)
    assert len(tokens) == 4
    assert [tokens[i] for i in range(4)] == UNITS
    assert list(tokens) == UNITS
    assert tokens[-1] == UNITS[-1] and tokens[1:3] == UNITS[1:3]
    assert tokens.lengths().tolist() == [3, 0, 1, 3]
    assert tokens == UNITS and tokens != UNITS[:3]
    with pytest.raises(IndexError):
        tokens[4]


def test_iteration_crosses_block_boundaries():
    units = [[f"t{i % 7}"] * (i % 3) for i in range(10_000)]  # more units than one block of 4096
    assert list(PackedTokens.from_lists(units)) == units


def test_a_token_is_stored_once_and_costs_one_byte_in_a_small_vocabulary():
    tokens = PackedTokens.from_lists([["招商"] * 1000, ["招商", "项目"]])
    assert tokens.vocabulary == ["招商", "项目"]
    assert tokens.ids.dtype == np.uint8 and len(tokens.ids) == 1002


@pytest.mark.parametrize("distinct, dtype", [(256, np.uint8), (257, np.int32)])
def test_token_ids_take_four_bytes_beyond_256_distinct_strings(distinct, dtype):
    units = [[f"t{i}" for i in range(distinct)], ["t0", f"t{distinct - 1}"]]
    tokens = PackedTokens.from_lists(units)
    assert tokens.ids.dtype == dtype
    assert list(tokens) == units and list(tokens.restricted({"t0", f"t{distinct - 1}"}))[1] == units[1]


def test_bag_of_words_counts_take_four_bytes():
    bows = PackedBows.from_lists([[(0, 2), (7, 2**31 - 1)]])
    assert bows.ids.dtype == np.int32 and bows.counts.dtype == np.int32
    assert bows[0] == [(0, 2), (7, 2**31 - 1)] and bows.num_words() == 2**31 + 1


@pytest.mark.parametrize("keep", [set(), {"a"}, {"b", "c"}, {"a", "b", "c"}])
def test_restricted_with_empty_units_anywhere(keep):
    # empty units first, last and in a row: the per-unit counts must not spill into them
    lists = [[], [], ["a", "b"], [], [], ["c", "a", "a"], ["b"], [], []]
    kept = PackedTokens.from_lists(lists).restricted(keep)
    assert kept[:] == [[t for t in unit if t in keep] for unit in lists]
    assert kept.offsets.dtype == np.int64 and len(kept) == len(lists)


def test_restricted_keeps_only_the_given_tokens():
    kept = PackedTokens.from_lists(UNITS).restricted({"土地", "项目"})
    assert list(kept) == [["项目"], [], ["土地"], ["项目", "土地"]]


def test_packed_bows_match_the_lists_and_pickle_compactly():
    bows = [[(0, 2), (5, 1)], [], [(3, 4)]]
    packed = PackedBows.from_lists(bows)
    assert list(packed) == bows and packed[2] == [(3, 4)] and packed.num_words() == 7
    again = pickle.loads(pickle.dumps(packed))
    assert list(again) == bows


def test_the_packer_builds_incrementally():
    packer = TokenPacker()
    for unit in UNITS:
        packer.add(unit)
    assert packer.finish() == UNITS


def test_tokens_by_unit_is_a_read_only_mapping():
    mapping = TokensByUnit(["a", "b", "c", "d"], PackedTokens.from_lists(UNITS))
    assert mapping["d"] == UNITS[3] and list(mapping) == ["a", "b", "c", "d"]
    with pytest.raises(KeyError):
        mapping["z"]
    with pytest.raises(ValueError):
        TokensByUnit(["a"], PackedTokens.from_lists(UNITS))
