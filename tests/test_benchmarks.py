"""The benchmark scripts run end to end on a tiny input (timings are never asserted)."""

from __future__ import annotations

import importlib.util

from conftest import REPO_ROOT


def load(name):
    spec = importlib.util.spec_from_file_location(name, REPO_ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tokenize_benchmark_runs_on_a_tiny_corpus(tmp_path):
    bench = load("bench_tokenize")
    assert bench.main(["--megabytes", "0.3", "--out", str(tmp_path)]) == 0
    table = (tmp_path / "tokenize.md").read_text(encoding="utf-8")
    assert "| cached |" in table and "cold, 1 worker" in table
    rows = (tmp_path / "tokenize.csv").read_text(encoding="utf-8").splitlines()
    assert rows[0].startswith("run,workers,units,characters")
    cached = rows[-1].split(",")
    assert cached[0] == "cached" and cached[5] == "0"  # nothing tokenised the second time


def test_repeated_texts_are_unique_and_reach_the_size():
    bench = load("bench_tokenize")
    texts = bench.repeated_texts(["招商引资", "民生工程"], 0.001)
    assert len(set(texts)) == len(texts)
    assert sum(len(t.encode("utf-8")) for t in texts) >= 1000
