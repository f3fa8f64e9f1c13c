"""Tests of policytopics.workers: the forked pool freezes the heap only while a pool runs."""

from __future__ import annotations

import gc

import pytest

from policytopics.workers import ForkedPool


def _frozen_in_worker(_: int) -> int:
    return gc.get_freeze_count()


def test_the_heap_is_frozen_while_a_pool_runs_and_thawed_after():
    corpus = [[f"token{i}"] for i in range(10_000)]  # objects that exist before the fork
    with ForkedPool(2) as pool:
        assert gc.get_freeze_count() >= len(corpus)
        # the forked workers inherit the frozen objects and so never collect them
        assert min(pool.map(_frozen_in_worker, range(4))) >= len(corpus)
    assert gc.get_freeze_count() == 0


def test_nested_pools_thaw_when_the_last_one_shuts_down():
    outer = ForkedPool(1)
    inner = ForkedPool(1)
    inner.shutdown()
    assert gc.get_freeze_count() > 0  # the outer pool still runs
    outer.shutdown()
    outer.shutdown()  # a second shutdown does not thaw twice
    assert gc.get_freeze_count() == 0


def test_a_pool_that_cannot_start_leaves_the_heap_thawed():
    with pytest.raises(ValueError):
        ForkedPool(0)
    assert gc.get_freeze_count() == 0
