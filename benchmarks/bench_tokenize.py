"""Tokenisation throughput, cold and cached, on the seed corpus repeated to >= 20 MB.

Run with ``make bench`` (or ``python benchmarks/bench_tokenize.py [--megabytes N]``).
Writes ``benchmarks/results/tokenize.csv`` and ``benchmarks/results/tokenize.md``.

The seed corpus is cleaned and segmented once; its units are then repeated until their
UTF-8 size reaches the target. Each copy's units get a distinct prefix (``副本k：``), so
every unit text, and hence every cache key, is unique, as in a real large corpus.
Measured, each in a fresh, empty cache folder:

* cold, 1 worker: nothing cached, one process;
* cold, N workers: nothing cached, one process per core;
* cached: the same texts again with the cache filled by the cold run.

Timings are wall-clock seconds on this machine; quote them as ratios from one run.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from policytopics.config import load_config
from policytopics.pipeline import prepare_corpus
from policytopics.tokenize import TokenCache, Tokenizer, resolve_workers, tokenize_texts

ROOT = Path(__file__).resolve().parents[1]


def repeated_texts(unit_texts: list[str], megabytes: float) -> list[str]:
    """Unit texts repeated (with a distinct prefix per copy) until they reach ``megabytes``."""
    target = megabytes * 1_000_000
    texts: list[str] = []
    size = 0
    copy = 0
    while size < target:
        copy += 1
        for text in unit_texts:
            texts.append(f"副本{copy}：{text}")
            size += len(texts[-1].encode("utf-8"))
    return texts


def measure(label: str, texts: list[str], tokenizer: Tokenizer, cache_dir: Path | None, workers: int) -> dict:
    cache = TokenCache(cache_dir) if cache_dir is not None else None
    start = time.perf_counter()
    result = tokenize_texts(texts, tokenizer, cache=cache, workers=workers)
    seconds = time.perf_counter() - start
    if cache is not None:
        cache.close()
    chars = sum(len(text) for text in texts)
    row = {
        "run": label,
        "workers": workers,
        "units": len(texts),
        "characters": chars,
        "megabytes_utf8": round(sum(len(t.encode("utf-8")) for t in texts) / 1e6, 2),
        "tokenised": result.tokenised,
        "cache_hits": result.cache_hits,
        "seconds": round(seconds, 2),
        "chars_per_second": round(chars / seconds),
    }
    print(f"{label:>16}: {row['seconds']:8.2f} s  {row['chars_per_second']:>12,} chars/s", file=sys.stderr)
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=20.0, help="corpus size to reach (UTF-8)")
    parser.add_argument("--config", default=str(ROOT / "configs" / "default.yaml"))
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    args = parser.parse_args(argv)

    config = load_config(args.config, [f"corpus.path={ROOT / 'seeds'}"])
    _, _, units, _ = prepare_corpus(config, {})
    texts = repeated_texts([unit.text for unit in units], args.megabytes)
    workers = resolve_workers(config.tokenize.workers)
    scratch = Path(tempfile.mkdtemp(prefix="bench-tokenize-"))
    try:
        tokenizer = Tokenizer(config.tokenize, cache_dir=scratch / "jieba")
        tokenizer.tokenize("预热：加载词典")  # load jieba once, outside the timings
        rows = [measure("cold, 1 worker", texts, tokenizer, scratch / "one", 1)]
        if workers > 1:
            rows.append(measure(f"cold, {workers} workers", texts, tokenizer, scratch / "many", workers))
        rows.append(measure("cached", texts, tokenizer, scratch / "one", workers))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "tokenize.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    base = rows[0]["seconds"]
    lines = [
        f"# Tokenisation throughput ({rows[0]['megabytes_utf8']} MB, {rows[0]['units']:,} units, "
        f"{os.cpu_count()} cores)",
        "",
        "| run | seconds | characters/s | time vs cold 1 worker |",
        "|---|---:|---:|---:|",
    ]
    lines += [
        f"| {r['run']} | {r['seconds']} | {r['chars_per_second']:,} | {r['seconds'] / base:.3f} |" for r in rows
    ]
    (out / "tokenize.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
