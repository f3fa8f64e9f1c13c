"""Tokenisation throughput, old path against new, cold and cached, in MB/s of UTF-8 text.

Run with ``make bench`` (or ``python benchmarks/bench_tokenize.py [--megabytes N]``).
Writes ``benchmarks/results/tokenize.csv`` (one row per corpus x path x run) and
``benchmarks/results/tokenize.md``.

Corpora (``--corpora``):

* ``city``: the 143 city government work reports (``../shared/corpora/city-reports-2024``,
  2.3 M characters, 6.6 MB), cleaned and segmented into units by the default config: a real
  corpus, no text repeated on purpose. At most ``--megabytes`` of it (all of it by default);
* ``scaled``: the seed corpus's units repeated until their UTF-8 size reaches
  ``--megabytes`` (20 by default). Each copy's units get a distinct prefix (``副本k：``),
  so every unit text, and hence every cache key, is unique; but the text after the prefix
  repeats, so whatever the new path remembers (unknown spans, filter decisions) it learns
  on the first copy: this input flatters the new path, the city corpus does not.

Paths (``--paths``):

* ``old``: ``jieba.posseg`` and the filter called word by word, as before the fast path
  (``Tokenizer(..., reference=True)``), through today's worker pool;
* ``new``: the default: the fast re-implementation of posseg (same tokens) with memoised
  filter decisions;
* ``rjieba``: ``tokenize.backend: rjieba`` (jieba-rs); its kept tokens are compared with
  the old path's and the share that differs is reported.

Runs, each in a fresh, empty cache folder, with jieba's dictionaries loaded beforehand
(outside the timing, as a real run loads them once) and everything the new path memoises
forgotten (``forget_memos``), so "cold" is cold:

* cold, 1 worker: nothing cached, one process;
* cold, N workers: nothing cached, one process per core (forked after the load);
* cached: the same texts again with the cache filled by the cold 1-worker run.

``--profile old|new`` runs no benchmark: it profiles a cold 1-worker run of that path on the
city corpus with pyinstrument (``pip install pyinstrument``; not a dependency) and writes
``profile_tokenize_before.txt`` (old) or ``profile_tokenize_after.txt`` (new): the shares of
the HMM, the DAG, the filter and the cache, the profile tree, and what the worker pool costs
(pickling the work packages and their tokens, CPU seconds of 1 against 2 workers).

MB is 10^6 bytes of the texts' UTF-8 encoding (about 2.9 bytes a character here). Seconds
are wall-clock; CPU seconds add this process's and its worker processes' CPU time, so a
machine busy with other work shows as wall seconds well above CPU seconds / workers. The
load average before each run is recorded; compare ratios from one run.
"""

from __future__ import annotations

import argparse
import csv
import difflib
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from policytopics.config import load_config
from policytopics.pipeline import prepare_corpus
from policytopics.tokenize import TokenCache, Tokenizer, forget_memos, tokenize_texts
from policytopics.workers import resolve_workers

ROOT = Path(__file__).resolve().parents[1]
CITY = ROOT.parent / "shared" / "corpora" / "city-reports-2024"
PATHS = ("old", "new", "rjieba")


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


def first_megabytes(texts: list[str], megabytes: float) -> list[str]:
    """The leading texts up to ``megabytes`` of UTF-8 (at least one)."""
    out: list[str] = []
    size = 0
    for text in texts:
        if out and size >= megabytes * 1_000_000:
            break
        out.append(text)
        size += len(text.encode("utf-8"))
    return out


def unit_texts(config_path: str, corpus: Path) -> list[str]:
    """The cleaned unit texts of ``corpus`` under the config (as a pipeline run makes them)."""
    config = load_config(config_path, [f"corpus.path={corpus}"])
    units = prepare_corpus(config, {}).units
    return [unit.text for unit in units]


def city_texts(config_path: str, folder: Path, megabytes: float) -> list[str]:
    """The unit texts of the city reports, at most ``megabytes`` of them.

    Only as many files as needed are cleaned (in name order): the whole corpus takes a
    while to clean, a small benchmark needs a few reports.
    """
    files = sorted(folder.glob("*.txt"))
    chosen, size = [], 0
    for path in files:
        if size >= megabytes * 1_000_000:
            break
        chosen.append(path)
        size += path.stat().st_size
    if len(chosen) == len(files):
        return first_megabytes(unit_texts(config_path, folder), megabytes)
    with tempfile.TemporaryDirectory(prefix="bench-city-") as part:
        for path in chosen:
            shutil.copy(path, part)
        return first_megabytes(unit_texts(config_path, Path(part)), megabytes)


def make_tokenizer(config_path: str, path: str, cache_dir: Path) -> Tokenizer:
    """A loaded tokenizer for one path, with nothing memoised."""
    overrides = ["tokenize.backend=rjieba"] if path == "rjieba" else []
    config = load_config(config_path, overrides)
    forget_memos()
    return Tokenizer(config.tokenize, cache_dir=cache_dir, reference=path == "old").load()


def _cpu_seconds() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def measure(run: str, corpus: str, path: str, texts: list[str], tokenizer: Tokenizer,
            cache_dir: Path | None, workers: int) -> tuple[dict, list[list[str]]]:
    """Tokenise ``texts`` once; the row of timings and the tokens."""
    cache = TokenCache(cache_dir) if cache_dir is not None else None
    load = os.getloadavg()[0]
    cpu = _cpu_seconds()
    start = time.perf_counter()
    result = tokenize_texts(texts, tokenizer, cache=cache, workers=workers)
    seconds = time.perf_counter() - start
    cpu = _cpu_seconds() - cpu
    if cache is not None:
        cache.close()
    chars = sum(len(text) for text in texts)
    megabytes = sum(len(text.encode("utf-8")) for text in texts) / 1e6
    row = {
        "run": run,
        "workers": workers,
        "units": len(texts),
        "characters": chars,
        "megabytes_utf8": round(megabytes, 2),
        "tokenised": result.tokenised,
        "cache_hits": result.cache_hits,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),
        "chars_per_second": round(chars / seconds),
        "megabytes_per_second": round(megabytes / seconds, 3),
        "corpus": corpus,
        "path": path,
        "load_before": round(load, 2),
    }
    print(f"{corpus:>7} {path:>6} {run:>16}: {row['seconds']:8.2f} s  {row['chars_per_second']:>11,} chars/s"
          f"  {row['megabytes_per_second']:7.3f} MB/s  (cpu {row['cpu_seconds']:.2f} s, load {load:.1f})",
          file=sys.stderr)
    return row, result.tokens


def token_difference(reference: list[list[str]], other: list[list[str]]) -> tuple[int, int]:
    """(reference tokens without a match in ``other``, reference tokens), unit by unit."""
    differing = total = 0
    for ref, oth in zip(reference, other):
        matcher = difflib.SequenceMatcher(None, ref, oth, autojunk=False)
        differing += len(ref) - sum(block.size for block in matcher.get_matching_blocks())
        total += len(ref)
    return differing, total


def _rjieba_available() -> bool:
    try:
        import rjieba  # noqa: F401
    except ImportError:
        return False
    return True


def _commit() -> str:
    try:
        out = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
                             capture_output=True, text=True, timeout=10)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def markdown(rows: list[dict], notes: dict[str, list[str]], header: dict[str, str]) -> str:
    lines = [
        "# Tokenisation throughput",
        "",
        f"{header['cores']} cores; commit {header['commit']}; `{header['command']}`. "
        "MB = 10^6 bytes of UTF-8 text. Seconds are wall-clock on a shared machine (load = the "
        "1-minute load average before the run); CPU seconds include the worker processes. "
        "`old` = jieba.posseg word by word, `new` = the fast path (same tokens), `rjieba` = "
        "jieba-rs (`tokenize.backend: rjieba`). Cold runs start with an empty cache and nothing "
        "memoised; jieba's dictionaries are loaded before the clock starts. Cores used = CPU "
        "seconds / seconds: below N on an N-worker run, other work held the cores. MB per "
        "CPU-second is what one core does; a cold run on N free cores reaches at most N times it.",
    ]
    for corpus in dict.fromkeys(row["corpus"] for row in rows):
        these = [row for row in rows if row["corpus"] == corpus]
        first = these[0]
        old = {row["run"]: row["seconds"] for row in these if row["path"] == "old"}
        lines += [
            "",
            f"## {corpus}: {first['megabytes_utf8']} MB, {first['characters']:,} characters, {first['units']:,} units",
            "",
            "| run | path | seconds | CPU seconds | cores used | characters/s | MB/s | MB per CPU-second "
            "| speed-up vs old | load |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for row in these:
            speedup = f"{old[row['run']] / row['seconds']:.1f}x" if row["run"] in old and row["seconds"] else ""
            per_cpu = f"{row['megabytes_utf8'] / row['cpu_seconds']:.2f}" if row["cpu_seconds"] else ""
            cores = f"{row['cpu_seconds'] / row['seconds']:.2f}" if row["seconds"] else ""
            lines.append(
                f"| {row['run']} | {row['path']} | {row['seconds']} | {row['cpu_seconds']} | {cores} | "
                f"{row['chars_per_second']:,} | {row['megabytes_per_second']:.3f} | {per_cpu} | {speedup} | "
                f"{row['load_before']} |"
            )
        if notes.get(corpus):
            lines += [""] + [f"- {note}" for note in notes[corpus]]
    return "\n".join(lines) + "\n"


def _inclusive(frame, match) -> float:
    """Seconds in frames that ``match`` (not counting a match nested in another twice)."""
    if match(frame):
        return frame.time
    return sum(_inclusive(child, match) for child in frame.children)


def _named(*names: str):
    return lambda frame: frame.function in names or f"{frame.class_name}.{frame.function}" in names


def profile(path: str, texts: list[str], config_path: str, out: Path, workers: int) -> Path:
    """Profile a cold 1-worker run of ``path`` with pyinstrument; write the summary file."""
    import pickle

    try:
        from pyinstrument import Profiler
    except ImportError:
        raise SystemExit("bench_tokenize --profile needs pyinstrument: pip install pyinstrument") from None

    scratch = Path(tempfile.mkdtemp(prefix="bench-tokenize-profile-"))
    try:
        tokenizer = make_tokenizer(config_path, path, scratch / "jieba")
        cache = TokenCache(scratch / "cache")
        profiler = Profiler(interval=0.001)
        load = os.getloadavg()[0]
        profiler.start()
        result = tokenize_texts(texts, tokenizer, cache=cache, workers=1)
        profiler.stop()
        cache.close()
        root = profiler.last_session.root_frame()
        total = _inclusive(root, _named("tokenize_texts"))
        hmm = _inclusive(root, _named("_POSTokenizer__cut_detail", "__cut_detail", "_cut_unknown"))
        viterbi = _inclusive(root, lambda f: f.function == "viterbi")
        dag = _inclusive(root, _named("get_DAG", "calc", "_route"))
        segment = _inclusive(root, _named("Tokenizer.segment"))
        tokenize = _inclusive(root, _named("Tokenizer.tokenize_with_pos"))
        cache_seconds = _inclusive(root, lambda f: _named("TokenCache.get_many", "TokenCache.put_many")(f) or (
            f.function == "key" and f.file_path.endswith(("tokenize.py", "token_cache.py"))))
        shares = [
            ("posseg's HMM on unknown spans (segmentation + tagging)", hmm),
            ("  of which the Viterbi itself", viterbi),
            ("DAG + best route over the prefix dictionary", dag),
            ("rest of the segmentation (blocks, dictionary tags, pair objects)", segment - hmm - dag),
            ("our filter (decide, memo)", tokenize - segment),
            ("SQLite token cache (keys, reads, writes)", cache_seconds),
            ("everything else in tokenize_texts", total - tokenize - cache_seconds),
        ]
        # the worker pool: what crosses the process boundary, and CPU of 1 against N workers
        chunks = [texts[i:i + 500] for i in range(0, len(texts), 500)]
        start = time.perf_counter()
        sent = sum(len(pickle.dumps(chunk, protocol=pickle.HIGHEST_PROTOCOL)) for chunk in chunks)
        pairs = [[(t, p) for t, p in zip(tokens, tags)] for tokens, tags in zip(result.tokens, result.pos)]
        back = pickle.dumps(pairs, protocol=pickle.HIGHEST_PROTOCOL)
        pickle.loads(back)
        pickle_seconds = time.perf_counter() - start
        tokenizer_bytes = len(pickle.dumps(tokenizer))
        rows = {}
        for n in (1, workers):
            tokenizer = make_tokenizer(config_path, path, scratch / "jieba")
            rows[n], _ = measure(f"cold, {n} workers", "city", path, texts, tokenizer, None, n)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    chars = sum(map(len, texts))
    megabytes = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    name = "profile_tokenize_before.txt" if path == "old" else "profile_tokenize_after.txt"
    lines = [
        f"Profile of a cold 1-worker tokenisation, path '{path}' "
        f"({'jieba.posseg and the filter word by word' if path == 'old' else 'the fast path'}),",
        f"city reports: {len(texts):,} units, {chars:,} characters, {megabytes:.2f} MB UTF-8; "
        f"pyinstrument, 1 ms samples; load average {load:.1f} on {os.cpu_count()} cores.",
        f"Command: python benchmarks/bench_tokenize.py --profile {path}",
        "Seconds are under the profiler (slower than without it); the shares are what counts.",
        "",
        f"{'where the time goes':<68}{'seconds':>9}{'share':>8}",
    ]
    lines += [f"{label:<68}{seconds:>9.2f}{seconds / total:>8.1%}" for label, seconds in shares]
    lines += [f"{'tokenize_texts in all':<68}{total:>9.2f}{1:>8.1%}", ""]
    one, many = rows[1], rows[workers]
    lines += [
        "Worker pool (measured without the profiler, no token cache):",
        f"  pickling every text to the workers and every unit's tokens back: {sent / 1e6:.1f} MB + "
        f"{len(back) / 1e6:.1f} MB, {pickle_seconds:.2f} s in all; the Tokenizer itself: {tokenizer_bytes} bytes "
        "(settings only: workers forked after the parent loaded jieba share its dictionaries)",
        f"  cold, 1 worker: {one['seconds']} s wall, {one['cpu_seconds']} s CPU; "
        f"cold, {workers} workers: {many['seconds']} s wall, {many['cpu_seconds']} s CPU "
        f"(load {one['load_before']} / {many['load_before']} before)",
        "",
        "Profile tree (pyinstrument, library frames folded):",
        "",
        profiler.output_text(unicode=True, color=False, show_all=False),
    ]
    target = out / name
    target.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines[:16]))
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=20.0,
                        help="size of the scaled input, and the most of the city corpus used (UTF-8 MB)")
    parser.add_argument("--config", default=str(ROOT / "configs" / "default.yaml"))
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    parser.add_argument("--corpora", nargs="+", choices=["city", "scaled"], default=["city", "scaled"])
    parser.add_argument("--paths", nargs="+", choices=PATHS, default=None,
                        help="default: old, new, and rjieba when it is installed")
    parser.add_argument("--city", type=Path, default=CITY, help="the city reports folder")
    parser.add_argument("--profile", choices=["old", "new"], default=None,
                        help="profile a cold 1-worker run of this path on the city corpus instead (needs pyinstrument)")
    args = parser.parse_args(argv)
    if args.profile:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        texts = city_texts(args.config, args.city, args.megabytes)
        profile(args.profile, texts, args.config, out, resolve_workers(load_config(args.config).tokenize.workers))
        return 0
    paths = args.paths or [p for p in PATHS if p != "rjieba" or _rjieba_available()]

    config = load_config(args.config)
    workers = resolve_workers(config.tokenize.workers)
    corpora: list[tuple[str, list[str]]] = []
    for corpus in args.corpora:
        if corpus == "city":
            if not args.city.is_dir():
                print(f"bench_tokenize: {args.city} not found; the city corpus is skipped", file=sys.stderr)
                continue
            corpora.append(("city", city_texts(args.config, args.city, args.megabytes)))
        else:
            corpora.append(("scaled", repeated_texts(unit_texts(args.config, ROOT / "seeds"), args.megabytes)))

    rows: list[dict] = []
    notes: dict[str, list[str]] = {}
    scratch = Path(tempfile.mkdtemp(prefix="bench-tokenize-"))
    try:
        for corpus, texts in corpora:
            tokens: dict[str, list[list[str]]] = {}
            for path in paths:
                folder = scratch / corpus / path
                tokenizer = make_tokenizer(args.config, path, scratch / "jieba")
                row, tokens[path] = measure("cold, 1 worker", corpus, path, texts, tokenizer, folder / "one", 1)
                rows.append(row)
                if workers > 1:
                    tokenizer = make_tokenizer(args.config, path, scratch / "jieba")
                    row, many = measure(f"cold, {workers} workers", corpus, path, texts, tokenizer,
                                        folder / "many", workers)
                    rows.append(row)
                    if many != tokens[path]:
                        raise SystemExit(f"bench_tokenize: {path} gives other tokens with {workers} workers")
                row, _ = measure("cached", corpus, path, texts, tokenizer, folder / "one", workers)
                rows.append(row)
            notes[corpus] = _notes(tokens)
            del tokens
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "tokenize.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    given = argv if argv is not None else sys.argv[1:]
    command = " ".join(["python benchmarks/bench_tokenize.py", *given])
    header = {"cores": str(os.cpu_count()), "commit": _commit(), "command": command}
    table = markdown(rows, notes, header)
    (out / "tokenize.md").write_text(table, encoding="utf-8")
    print(table)
    return 0


def _notes(tokens: dict[str, list[list[str]]]) -> list[str]:
    """How the kept tokens of each path compare with the old path's."""
    notes = []
    if "old" not in tokens:
        return notes
    for path, other in tokens.items():
        if path == "old":
            continue
        if other == tokens["old"]:
            notes.append(f"`{path}`: the kept tokens are identical to `old` in every unit.")
        else:
            differing, total = token_difference(tokens["old"], other)
            units = sum(a != b for a, b in zip(tokens["old"], other))
            notes.append(f"`{path}`: {differing:,} of {total:,} kept tokens of `old` ({differing / total:.2%}) "
                         f"have no match in `{path}`'s; {units:,} of {len(other):,} units differ.")
    return notes


if __name__ == "__main__":
    raise SystemExit(main())
