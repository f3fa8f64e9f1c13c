"""Whole-pipeline benchmark: seconds per stage and peak memory, ours against a hand-written reference.

Run with ``make bench`` (or ``python benchmarks/bench_pipeline.py [--scales 1 10 50] [--quick]``).
Writes ``benchmarks/results/pipeline.csv`` (one row per corpus x pipeline x stage) and
``benchmarks/results/pipeline.md`` (the short tables), and prints progress as it goes: the
whole benchmark takes about an hour with 50x (half of it the reference at 50x); ``--scales 1 10`` or
``--quick`` for less.

Corpora:

* ``seeds``: the five raw seed files (``seeds/``), default config;
* ``city``: the 143 city government work reports (``../shared/corpora/city-reports-2024``,
  2.3 M characters), default config;
* ``province``: the 640 provincial government work reports
  (``../shared/corpora/province-reports-2003-2023/reports.jsonl``, 11.6 M characters, five
  times the city corpus), default config;
* ``city-xN`` for every N of ``--scales``: every city report copied N times under distinct
  names, with near-duplicate removal off (``segment.deduplicate=false``) and the model
  settings of ``SCALED_OVERRIDES`` (one LDA pass, 50 E-step iterations, online updates in
  chunks of 2,000 units, a one-K sweep with
  no stability refits, ``cluster.k`` fixed: silhouette selection is quadratic in the units),
  so that memory, not the model's passes, is the question; figures and report stay on.

Pipelines, each run in a fresh subprocess (nothing shared between measurements but the
operating system's file cache), cold (an empty cache folder) unless said otherwise:

* ``ours``: ``policytopics.run`` with the corpus's config, as a user gets it;
* ``ours-rerun``, ``ours-rerun-k`` (city only): ``ours`` again in the same cache folder with
  one model setting changed (``RERUNS``): a prior (``lda.alpha``), which every LDA fit
  depends on, and then the run's K (``lda.num_topics``), a K the sweep fitted already;
* ``ours-equal`` (seeds, city): the same work as the reference: no figures, no report and
  the smallest model-selection sweep the config allows (one K, the run's, no refits: the
  sweep cannot be switched off, so this still fits LDA twice);
* ``reference``: ``benchmarks/reference_pipeline.py``, the pipeline a researcher would
  write by hand with the same dictionary, stopwords, POS filter and model settings.

Seconds come from the run itself (``RunResult.timings``: ingest, clean, segment, tokenize,
model, artifacts, with figures and report nested inside artifacts); the model, tokenize and
artifacts stages are split further by wrapping the functions they call (dictionary/BoW,
LDA, TF-IDF + clustering, coherence, sweep; segmentation, cache reads and writes; tables,
LDAvis), best effort: a function that is renamed drops out of the split, not the run.
Memory: the subprocess's own peak RSS (``ru_maxrss``, exact), and the peak over its whole
process tree (it starts tokenising and sweep workers) by sampling every 0.2 s with psutil,
as the sum of RSS (counts memory shared by forked workers more than once) and of PSS
(shared pages split between the processes: the real footprint); per-stage peaks come from
the samples taken while each stage ran.

Timings are wall-clock seconds on a possibly busy machine: the load average before and after
each measurement is recorded; compare ratios from one run.
"""

from __future__ import annotations

import argparse
import csv
import importlib.abc
import importlib.machinery
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG = ROOT / "configs" / "default.yaml"
SEEDS = ROOT / "seeds"
CITY = ROOT.parent / "shared" / "corpora" / "city-reports-2024"
PROVINCE = ROOT.parent / "shared" / "corpora" / "province-reports-2003-2023" / "reports.jsonl"
REFERENCE = Path(__file__).resolve().parent / "reference_pipeline.py"

#: Model settings of the scaled corpora (and of --quick): memory is the question there.
SCALED_OVERRIDES = [
    "segment.deduplicate=false",
    "lda.passes=1",
    "lda.iterations=50",
    "lda.chunksize=2000",  # online updates: a full batch would hold every bag of words at once
    "selection.num_topics=[12]",
    "selection.stability_seeds=0",
    "cluster.k=8",
]
#: --quick: the same model settings, without figures and the report (the real corpora keep
#: near-duplicate removal on; the scaled ones switch it off).
QUICK_OVERRIDES = [*SCALED_OVERRIDES[1:], "output.figures=false", "output.report=false"]
QUICK_SCALED_OVERRIDES = [*SCALED_OVERRIDES, "output.figures=false", "output.report=false"]
#: ours-equal: no figures, no report, the smallest sweep (K is the run's num_topics).
EQUAL_OVERRIDES = ["output.figures=false", "output.report=false", "selection.stability_seeds=0"]
#: The one model setting a rerun changes.
RERUNS = {"ours-rerun": "lda.alpha=asymmetric", "ours-rerun-k": "lda.num_topics=10"}
#: The largest share of the cold run's wall time each rerun may take (issue 17).
RERUN_TARGETS = {"ours-rerun": 0.35, "ours-rerun-k": 0.10}
#: Top-level stages of RunResult.timings (figures and report are nested in artifacts).
TOP_STAGES = ("ingest", "clean", "segment", "tokenize", "model", "artifacts")
#: Sub-stages timed by wrapping functions in the child: (module, attribute, stage/label).
SECTIONS = [
    ("policytopics.features", "corpus_features", "model/dictionary_bow"),
    ("policytopics.features", "build_dictionary", "model/dictionary_bow"),
    ("policytopics.features", "to_bow", "model/dictionary_bow"),
    ("policytopics.models.lda", "build_dictionary", "model/dictionary_bow"),
    ("policytopics.models.lda", "to_bow", "model/dictionary_bow"),
    ("policytopics.models.lda", "LdaTopicModel.fit", "model/lda"),
    ("policytopics.models.lda", "LdaTopicModel.fit_bow", "model/lda"),
    ("policytopics.sweep", "FitPool.__init__", "model/lda"),  # starts the fits' workers
    ("policytopics.sweep", "FitPool.result", "model/lda"),  # waits for them (or fits here)
    ("policytopics.sweep", "FitPool.model", "model/lda"),
    ("policytopics.sweep", "FitPool.close", "model/lda"),
    ("policytopics.metrics", "perplexity_of_units", "model/lda"),
    ("policytopics.models.cluster", "TfidfKMeans.fit", "model/tfidf_kmeans"),
    ("policytopics.metrics", "coherence", "model/coherence"),
    ("policytopics.sweep", "sweep", "model/sweep"),
    ("policytopics.tokenize", "TokenCache.get_many", "tokenize/cache_read"),
    ("policytopics.tokenize", "TokenCache.put_many", "tokenize/cache_write"),
    ("policytopics.tokenize", "_tokenize_texts", "tokenize/jieba"),
    ("policytopics.pipeline", "_write_corpus_outputs", "artifacts/corpus_tables"),
    ("policytopics.pipeline", "_write_token_outputs", "artifacts/token_tables"),
    ("policytopics.pipeline", "_write_model_outputs", "artifacts/model_tables"),
    ("policytopics.ldavis", "ldavis_html", "artifacts/ldavis"),
]
#: Rows compared between ours and the reference: (label, our stages, reference stages). Our
#: sections are this process's own time: LDA fits that run in worker processes while this
#: process clusters show up as the time it then waits for them ("LDA").
COMPARED = [
    ("ingest", ["ingest"], ["ingest"]),
    ("clean", ["clean"], []),
    ("segment", ["segment"], ["segment"]),
    ("tokenise", ["tokenize"], ["tokenize_setup", "tokenize"]),
    ("imports of gensim and scikit-learn", [], ["imports"]),
    ("dictionary/BoW", ["model/dictionary_bow"], ["dictionary_bow"]),
    ("LDA (fits + unit topics; ours: with the sweep's)", ["model/lda"], ["lda", "lda_inference"]),
    ("TF-IDF + KMeans", ["model/tfidf_kmeans"], ["tfidf_kmeans"]),
    ("coherence", ["model/coherence"], []),
    ("model-selection sweep (separate)", ["model/sweep"], []),
    ("imports during the model stage", ["model/imports"], []),
    ("themes and the rest of model", ["model/other"], []),
    ("artifacts (tables, LDAvis, model)", ["artifacts/tables"], ["artifacts"]),
    ("figures", ["figures"], []),
    ("report", ["report"], []),
    ("**total (stages)**", ["total"], ["total"]),
    ("wall (process, with start-up)", ["wall"], ["wall"]),
]
CSV_COLUMNS = [
    "corpus", "scale", "pipeline", "stage", "seconds", "mb_per_s", "peak_rss_main_mb",
    "peak_rss_tree_mb", "peak_pss_tree_mb", "cpu_seconds", "units", "input_mb", "status",
    "settings", "commit", "load_before", "load_after", "notes",
]


# -- the child: one run of our pipeline, instrumented -----------------------------------------


class _Sections:
    """Exclusive seconds per label of wrapped functions, and (label, start, end) marks."""

    def __init__(self, progress: str | None = None) -> None:
        self.stage = "startup"  # the pipeline stage running now (set by the child's _timed)
        self.seconds: dict[str, float] = {}
        self.marks: list[list[Any]] = []
        self.stack: list[list[Any]] = []
        self.progress = progress

    def log(self, kind: str, label: str, start: float, end: float, seconds: float) -> None:
        """Append one finished stage or section to the progress file (read if the run is killed)."""
        if self.progress:
            with open(self.progress, "a", encoding="utf-8") as handle:
                handle.write(json.dumps({"kind": kind, "label": label, "start": start, "end": end, "seconds": seconds}) + "\n")

    def wrap(self, function: Any, label: str | None) -> Any:
        """``function`` timed under ``label`` (``None``: "<current stage>/imports")."""
        if getattr(function, "__bench_label__", None):
            return function
        sections = self

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if any(frame[0] == "model/sweep" for frame in sections.stack):
                return function(*args, **kwargs)  # everything in the sweep is the sweep's
            name = label or f"{sections.stage}/imports"
            frame = [name, time.perf_counter(), 0.0]
            wall_start = time.time()
            sections.stack.append(frame)
            try:
                return function(*args, **kwargs)
            finally:
                sections.stack.pop()
                elapsed = time.perf_counter() - frame[1]
                sections.seconds[name] = sections.seconds.get(name, 0.0) + elapsed - frame[2]
                if sections.stack:
                    sections.stack[-1][2] += elapsed
                if elapsed >= 0.05:
                    sections.marks.append([name, wall_start, time.time()])
                    sections.log("section", name, wall_start, time.time(), elapsed - frame[2])

        wrapper.__bench_label__ = label  # type: ignore[attr-defined]
        wrapper.__wrapped__ = function  # type: ignore[attr-defined]
        return wrapper

    def patch(self, module: Any) -> None:
        for name, attribute, label in SECTIONS:
            if name != module.__name__:
                continue
            owner_name, _, function_name = attribute.rpartition(".")
            owner = getattr(module, owner_name, None) if owner_name else module
            function = getattr(owner, function_name, None) if owner is not None else None
            if callable(function):
                setattr(owner, function_name, self.wrap(function, label))


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Wrap the SECTIONS functions of a module right after it is imported, and time the
    imports of the package's modules (with the libraries they pull in) as "<stage>/imports"."""

    def __init__(self, sections: _Sections) -> None:
        self.sections = sections
        self.names = {name for name, _, _ in SECTIONS}

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if not fullname.startswith("policytopics."):
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        loader, sections = spec.loader, self.sections
        original = loader.exec_module

        def exec_module(module: Any) -> None:
            original(module)
            sections.patch(module)

        loader.exec_module = sections.wrap(exec_module, None)  # type: ignore[method-assign]
        return spec


def child_main(spec_path: str) -> int:
    """Run our pipeline as described by the JSON file ``spec_path``; write its result JSON."""
    import logging
    import resource

    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    started = time.time()
    sections = _Sections(spec.get("progress"))
    sys.meta_path.insert(0, _PatchOnImport(sections))
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger = logging.getLogger("policytopics")
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    messages: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.INFO and len(messages) < 200:
                messages.append(record.getMessage()[:300])

    logger.addHandler(Keep())

    import policytopics
    from policytopics import pipeline

    stage_marks: list[list[Any]] = []
    original_timed = pipeline._timed

    @contextmanager
    def timed(timings: dict[str, float], stage: str) -> Any:
        start = time.time()
        outer, sections.stage = sections.stage, stage
        with original_timed(timings, stage):
            yield
        sections.stage = outer
        stage_marks.append([stage, start, time.time()])
        sections.log("stage", stage, start, time.time(), timings.get(stage, time.time() - start))

    pipeline._timed = timed
    imported = time.time()
    result = policytopics.run(spec["config"], spec["overrides"])
    finished = time.time()
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    models = result.models
    output = {
        "timings": dict(result.timings),
        "sections": {label: round(seconds, 4) for label, seconds in sections.seconds.items()},
        "marks": stage_marks + sections.marks,
        "started": started,
        "imported": imported,
        "finished": finished,
        "documents": len(result.documents),
        "kept_documents": len(result.kept_documents()),
        "units": len(result.units),
        "unit_characters": sum(unit.n_chars for unit in result.units),
        "tokenization": result.tokenization,
        "tokens": sum(len(tokens) for tokens in (result.tokens or {}).values()),
        "vocabulary": len(models.lda.vocabulary_) if models is not None else None,
        "clusters": int(models.clusters.k_) if models is not None else None,
        "peak_rss_mb": own.ru_maxrss / 1024,
        "peak_rss_largest_child_mb": children.ru_maxrss / 1024,
        "cpu_seconds": own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime,
        "run_dir": str(result.run_dir),
        "messages": messages,
    }
    Path(spec["out"]).write_text(json.dumps(output, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


# -- the parent: corpora, subprocesses, memory sampling -----------------------------------------


@dataclass
class Measurement:
    corpus: str
    scale: int | str
    pipeline: str
    settings: str
    input_mb: float
    result: dict[str, Any] = field(default_factory=dict)
    samples: list[tuple[float, int, int, int]] = field(default_factory=list)
    wall: float = 0.0
    status: str = "ok"
    load_before: float = 0.0
    load_after: float = 0.0
    folder: Path | None = None


def _say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _last_line(path: Path) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 2000))
            lines = handle.read().decode("utf-8", "replace").strip().splitlines()
        return lines[-1][-120:] if lines else ""
    except OSError:
        return ""


def _tree_memory(process: Any) -> tuple[int, int, int]:
    """RSS of ``process``, and the RSS and PSS summed over it and all its descendants."""
    import psutil

    main = process.memory_info().rss
    rss, pss = 0, 0
    for member in [process, *process.children(recursive=True)]:
        try:
            info = member.memory_full_info()
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
        rss += info.rss
        pss += getattr(info, "pss", info.rss)
    return main, rss, pss


def run_monitored(
    command: list[str], log_path: Path, label: str, interval: float = 0.2,
    max_rss_gb: float = 0.0, timeout_min: float = 0.0, heartbeat: float = 60.0,
    cwd: Path = ROOT, env: dict[str, str] | None = None,
) -> tuple[int, float, list[tuple[float, int, int, int]], str]:
    """Run ``command`` in its own session, sampling its tree's memory; (rc, wall, samples, status)."""
    import psutil

    samples: list[tuple[float, int, int, int]] = []
    status = "ok"
    start = time.perf_counter()
    next_beat = start + heartbeat
    with open(log_path, "wb") as log:
        child = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        process = psutil.Process(child.pid)
        while child.poll() is None:
            try:
                main, rss, pss = _tree_memory(process)
                samples.append((time.time(), main, rss, pss))
            except (psutil.NoSuchProcess, psutil.ZombieProcess):
                pass
            now = time.perf_counter()
            over_memory = max_rss_gb and samples and samples[-1][3] > max_rss_gb * 1e9
            over_time = timeout_min and now - start > timeout_min * 60
            if over_memory or over_time:
                status = f"killed: tree PSS over {max_rss_gb} GB" if over_memory else f"killed: over {timeout_min} min"
                _say(f"{label}: {status} ({_last_line(log_path)})")
                os.killpg(child.pid, signal.SIGKILL)  # our own session: the child and its workers
                child.wait()
                break
            if now >= next_beat and samples:
                _, main, rss, pss = samples[-1]
                _say(f"  {label}: {now - start:6.0f} s, RSS {main / 1e6:,.0f} MB (tree PSS {pss / 1e6:,.0f} MB) | {_last_line(log_path)}")
                next_beat = now + heartbeat
            time.sleep(interval)
    wall = time.perf_counter() - start
    if status == "ok" and child.returncode != 0:
        status = f"failed (exit {child.returncode})"
    return child.returncode, wall, samples, status


def _peaks(samples: list[tuple[float, int, int, int]], start: float | None = None, end: float | None = None) -> tuple[float, float, float]:
    """Peak (main RSS, tree RSS, tree PSS) in MB of the samples between start and end."""
    chosen = samples
    if start is not None and end is not None:
        chosen = [s for s in samples if start - 0.1 <= s[0] <= end + 0.1]
        if not chosen:  # a stage shorter than the sampling interval: the next sample
            later = [s for s in samples if s[0] >= start]
            chosen = later[:1]
    if not chosen:
        return (float("nan"),) * 3  # type: ignore[return-value]
    return tuple(max(s[i] for s in chosen) / 1e6 for i in (1, 2, 3))  # type: ignore[return-value]


def _load() -> float:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return float("nan")


def corpus_mb(folder: Path) -> float:
    """UTF-8 size in MB of the .txt files of ``folder`` (recursively), or of one corpus file."""
    if folder.is_file():
        return folder.stat().st_size / 1e6
    return sum(path.stat().st_size for path in folder.rglob("*.txt")) / 1e6


def scaled_corpus(source: Path, scale: int, target: Path) -> Path:
    """Every .txt of ``source`` copied ``scale`` times under distinct names into ``target``."""
    if target.exists():
        return target
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    for path in sorted(source.rglob("*.txt")):
        data = path.read_bytes()
        for copy in range(1, scale + 1):
            (partial / f"{path.stem}_r{copy:03d}.txt").write_bytes(data)
    partial.rename(target)
    return target


def reference_settings(overrides: list[str], config: Path = DEFAULT_CONFIG) -> dict[str, Any]:
    """The reference pipeline's settings, read from our resolved config (in this process)."""
    from policytopics.config import load_config

    cfg = load_config(config, overrides)
    return {
        "keep_pos": list(cfg.tokenize.keep_pos),
        "min_chars": cfg.tokenize.min_chars,
        "no_below": cfg.features.no_below,
        "no_above": cfg.features.no_above,
        "keep_n": cfg.features.keep_n,
        "num_topics": cfg.lda.num_topics,
        "alpha": cfg.lda.alpha,
        "eta": cfg.lda.eta,
        "passes": cfg.lda.passes,
        "iterations": cfg.lda.iterations,
        "chunksize": cfg.lda.chunksize,
        "seed": cfg.seed,
        "k": cfg.cluster.k,
        "k_range": list(cfg.cluster.k_range),
        "n_init": cfg.cluster.n_init,
    }


def snapshot_code(target: Path) -> Path:
    """Copy the code under test (src, configs, benchmarks) to ``target``: a benchmark takes
    hours, and edits made meanwhile must not mix code versions between its measurements."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "results")
    for name in ("src", "configs", "benchmarks"):
        shutil.copytree(ROOT / name, target / name, ignore=ignore, dirs_exist_ok=True)
    return target


def code_hash(root: Path) -> str:
    """A short hash of the code under test (.py and .yaml files, resources), to tell versions apart."""
    import hashlib

    digest = hashlib.sha256()
    for name in ("src", "configs", "benchmarks"):
        for path in sorted((root / name).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and "results" not in path.relative_to(root).parts:
                digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:10]


class Bench:
    """Runs the measurements of one benchmark invocation and keeps their results."""

    def __init__(self, args: argparse.Namespace, work: Path, code: Path = ROOT) -> None:
        self.args = args
        self.work = work
        self.code = code  # where the code under test is (a snapshot, or the repository)
        self.config = code / args.config.resolve().relative_to(ROOT) if args.config.resolve().is_relative_to(ROOT) else args.config
        self.env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(code / "src"), os.environ.get("PYTHONPATH")]))}
        self.measurements: list[Measurement] = []
        self.count = 0

    def settings(self, overrides: list[str]) -> dict[str, Any]:
        """The reference's settings from our config, read by the code under test."""
        command = [sys.executable, str(self.code / "benchmarks" / "bench_pipeline.py"), "--reference-settings", str(self.config), *overrides]
        done = subprocess.run(command, cwd=self.code, env=self.env, capture_output=True, text=True, check=True)
        return json.loads(done.stdout)

    def _folder(self, name: str) -> Path:
        self.count += 1
        folder = self.work / f"{self.count:02d}-{name}"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def ours(
        self, corpus_name: str, scale: int | str, pipeline: str, corpus: Path, overrides: list[str],
        cache: Path | None = None,
    ) -> Measurement:
        folder = self._folder(f"{corpus_name}-{pipeline}")
        cache = cache or folder / "cache"
        out = folder / "result.json"
        every = [
            f"corpus.path={corpus}",
            f"name=bench-{corpus_name}-{pipeline}",
            f"output.results_dir={folder / 'results'}",
            f"cache.dir={cache}",
            *overrides,
        ]
        spec = {"config": str(self.config), "overrides": every, "out": str(out), "progress": str(folder / "progress.jsonl")}
        (folder / "spec.json").write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
        command = [sys.executable, str(self.code / "benchmarks" / "bench_pipeline.py"), "--child", str(folder / "spec.json")]
        return self._measure(corpus_name, scale, pipeline, corpus, " ".join(overrides), command, folder, out, folder / "progress.jsonl")

    def reference(self, corpus_name: str, scale: int | str, corpus: Path, overrides: list[str]) -> Measurement:
        folder = self._folder(f"{corpus_name}-reference")
        try:
            settings = self.settings(overrides)
        except subprocess.CalledProcessError as error:  # our config does not load: say so, go on
            measurement = Measurement(corpus_name, scale, "reference", " ".join(overrides), round(corpus_mb(corpus), 3),
                                      status=f"failed (settings: {error.stderr.strip().splitlines()[-1:]})", folder=folder)
            _say(f"{corpus_name} / reference: {measurement.status}")
            self.measurements.append(measurement)
            return measurement
        command = [
            sys.executable, str(self.code / "benchmarks" / "reference_pipeline.py"), str(corpus), str(folder / "out"),
            "--settings", json.dumps(settings), "--jieba-cache", str(folder / "jieba"),
        ]
        described = " ".join(f"{k}={v}" for k, v in settings.items() if k != "keep_pos")
        return self._measure(
            corpus_name, scale, "reference", corpus, described, command, folder,
            folder / "out" / "reference.json", folder / "out" / "progress.jsonl",
        )

    def _measure(
        self, corpus_name: str, scale: int | str, pipeline: str, corpus: Path, settings: str,
        command: list[str], folder: Path, out: Path, progress: Path,
    ) -> Measurement:
        label = f"{corpus_name} / {pipeline}"
        measurement = Measurement(corpus_name, scale, pipeline, settings, round(corpus_mb(corpus), 3), folder=folder)
        measurement.load_before = _load()
        _say(f"{label}: start ({measurement.input_mb:.1f} MB; log {folder / 'log.txt'})")
        rc, wall, samples, status = run_monitored(
            command, folder / "log.txt", label, max_rss_gb=self.args.max_rss_gb, timeout_min=self.args.timeout,
            cwd=self.code, env=self.env,
        )
        measurement.wall, measurement.samples, measurement.status = wall, samples, status
        measurement.load_after = _load()
        if out.is_file():
            measurement.result = json.loads(out.read_text(encoding="utf-8"))
        elif progress.is_file():  # killed or failed: the stages it finished
            measurement.result = partial_result(progress)
        if not out.is_file() and status == "ok":
            measurement.status = "failed (no result)"
        if not measurement.status.startswith("ok"):
            tail = (folder / "log.txt").read_text(encoding="utf-8", errors="replace").splitlines()[-15:]
            _say(f"{label}: {measurement.status}\n    " + "\n    ".join(tail))
        else:
            main, rss, pss = _peaks(samples)
            main = max(main, measurement.result.get("peak_rss_mb", 0))
            total = sum(stage_seconds(measurement).get(s, 0) for s in ("total",))
            _say(f"{label}: done in {wall:.1f} s (stages {total:.1f} s), peak RSS {main:,.0f} MB, tree PSS {pss:,.0f} MB")
        self.measurements.append(measurement)
        return measurement


def partial_result(progress: Path) -> dict[str, Any]:
    """What a run that did not finish reported: its finished stages and sections."""
    timings: dict[str, float] = {}
    sections: dict[str, float] = {}
    marks = []
    for line in progress.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        target = timings if item["kind"] == "stage" else sections
        target[item["label"]] = target.get(item["label"], 0.0) + item["seconds"]
        marks.append([item["label"], item["start"], item["end"]])
    return {"timings": timings, "sections": sections, "marks": marks, "partial": True}


def stage_seconds(m: Measurement) -> dict[str, float]:
    """Seconds per stage of a measurement, with derived rows (total, wall, model/other, ...)."""
    result = m.result
    if not result:
        return {"wall": m.wall}
    if m.pipeline == "reference":
        seconds = dict(result["timings"])
        seconds["total"] = sum(result["timings"].values())
        seconds["wall"] = m.wall
        return seconds
    timings = result["timings"]
    sections = result.get("sections", {})
    seconds = dict(timings)
    seconds.update(sections)
    model_parts = [k for k in sections if k.startswith("model/")]
    if "model" in timings and model_parts:
        seconds["model/other"] = max(0.0, timings["model"] - sum(sections[k] for k in model_parts))
    if "artifacts" in timings:
        seconds["artifacts/tables"] = max(0.0, timings["artifacts"] - timings.get("figures", 0) - timings.get("report", 0))
        art_parts = [k for k in sections if k.startswith("artifacts/")]
        if art_parts:
            seconds["artifacts/other"] = max(0.0, seconds["artifacts/tables"] - sum(sections[k] for k in art_parts))
    tok_parts = [k for k in sections if k.startswith("tokenize/")]
    if "tokenize" in timings and tok_parts:
        seconds["tokenize/other"] = max(0.0, timings["tokenize"] - sum(sections[k] for k in tok_parts))
    seconds["total"] = sum(timings.get(s, 0) for s in TOP_STAGES)
    if "imported" in result:
        seconds["startup"] = result["imported"] - result["started"]
    seconds["wall"] = m.wall
    return seconds


def _stage_window(m: Measurement, stage: str) -> tuple[float, float] | None:
    raw = m.result.get("marks", [])
    marks = list(raw.items()) if isinstance(raw, dict) else [(mark[0], mark[1:]) for mark in raw]
    windows = [(start, end) for name, (start, end) in marks if name == stage]
    if not windows:
        return None
    return min(w[0] for w in windows), max(w[1] for w in windows)


def rows_of(m: Measurement, commit: str) -> list[dict[str, Any]]:
    """CSV rows of one measurement: one per stage, then total and wall."""
    seconds = stage_seconds(m)
    units = m.result.get("units", "")
    throughput_stages = {"ingest", "clean", "segment", "tokenize", "total", "wall"}
    rows = []
    for stage, value in seconds.items():
        window = _stage_window(m, stage)
        if stage in ("total", "wall"):
            main, rss, pss = _peaks(m.samples)
            main = max(main, m.result.get("peak_rss_mb", 0)) if m.result else main
        elif window is not None:
            main, rss, pss = _peaks(m.samples, *window)
        else:
            main = rss = pss = float("nan")
        rows.append({
            "corpus": m.corpus,
            "scale": m.scale,
            "pipeline": m.pipeline,
            "stage": stage,
            "seconds": round(value, 3),
            "mb_per_s": round(m.input_mb / value, 3) if stage in throughput_stages and value > 0 else "",
            "peak_rss_main_mb": _mb(main),
            "peak_rss_tree_mb": _mb(rss),
            "peak_pss_tree_mb": _mb(pss),
            "cpu_seconds": round(m.result.get("cpu_seconds", 0), 1) if stage == "wall" and m.result else "",
            "units": units,
            "input_mb": m.input_mb,
            "status": m.status,
            "settings": m.settings,
            "commit": commit,
            "load_before": m.load_before,
            "load_after": m.load_after,
            "notes": notes_of(m) if stage in ("total", "wall") else "",
        })
    return rows


def notes_of(m: Measurement) -> str:
    """The run's own account of its cache use and fits (from its log messages)."""
    keep = []
    for message in m.result.get("messages", []):
        if message.startswith(("tokenize: ", "models: ", "segment: ")) and " done in " not in message and "near-duplicate of" not in message:
            keep.append(message)
    return " | ".join(keep)


def _mb(value: float) -> Any:
    return "" if value != value else round(value, 1)  # NaN -> empty


# -- the report ---------------------------------------------------------------------------------


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine_line() -> str:
    versions = []
    for package in ("policytopics", "jieba", "gensim", "scikit-learn", "numpy", "scipy", "matplotlib", "psutil"):
        try:
            versions.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            pass
    return (
        f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()} "
        f"({platform.system()}); " + ", ".join(versions)
    )


def _index(rows: list[dict[str, Any]]) -> dict[tuple[str, str, str], dict[str, Any]]:
    return {(r["corpus"], r["pipeline"], r["stage"]): r for r in rows}


def _num(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if number != number else number


def _fmt(value: Any, digits: int = 1) -> str:
    number = _num(value)
    return "—" if number is None else f"{number:,.{digits}f}"


def _ratio(a: Any, b: Any) -> str:
    a, b = _num(a), _num(b)
    return "—" if a is None or b is None or b == 0 else f"{a / b:.2f}"


def _stage_sum(index: dict, corpus: str, pipeline: str, stages: list[str]) -> float | None:
    values = [_num(index.get((corpus, pipeline, s), {}).get("seconds")) for s in stages]
    values = [v for v in values if v is not None]
    return sum(values) if values else None


def markdown(rows: list[dict[str, Any]], header: dict[str, str]) -> str:
    index = _index(rows)
    corpora = list(dict.fromkeys(r["corpus"] for r in rows))
    pipelines_of = {c: list(dict.fromkeys(r["pipeline"] for r in rows if r["corpus"] == c)) for c in corpora}
    statuses = {(r["corpus"], r["pipeline"]): r["status"] for r in rows}
    lines = [
        "# Pipeline benchmark: ours against a hand-written reference",
        "",
        f"Machine: {header['machine']}.  ",
        f"Code: commit {header['commit']} ({header['dirty']}).  ",
        f"Run: `{header['command']}`, {header['date']}; load average (1 min) "
        f"{header['load']}: the machine may be shared, so compare ratios from one run.",
        "",
        "Seconds are wall-clock, per stage as the run measures it; `reference` is "
        "`benchmarks/reference_pipeline.py` (jieba.posseg.lcut per paragraph, gensim Dictionary + "
        "LdaModel, scikit-learn TF-IDF + KMeans, same dictionary, stopwords, POS filter and "
        "model settings, no cleaning, no cache, one process). `ours-equal` does the reference's "
        f"work: `{' '.join(EQUAL_OVERRIDES)} selection.num_topics=[K]` with K the run's own: the "
        "smallest model-selection sweep allowed (it cannot be switched off; the CSV's notes say "
        "how many LDA fits a run made). Our model stage is split by timing, in the run's own "
        "process, the functions it calls (see the script's docstring); LDA fits made in worker "
        "processes count as the time the run waits for them.",
        "",
    ]
    for corpus in corpora:
        pipes = pipelines_of[corpus]
        if "reference" not in pipes or not any(p.startswith("ours") for p in pipes):
            continue
        ours_pipes = [p for p in pipes if p.startswith("ours") and p not in RERUNS]
        units = {p: index.get((corpus, p, "wall"), {}).get("units", "") for p in pipes}
        mb = index.get((corpus, "reference", "wall"), {}).get("input_mb", "")
        lines += [
            f"## {corpus}: cold run per stage (seconds; {mb} MB of text; units: "
            + ", ".join(f"{p} {units[p]}" for p in pipes if units[p] != "") + ")",
            "",
            "| stage | " + " | ".join(ours_pipes) + " | reference | " + " | ".join(f"{p} / reference" for p in ours_pipes) + " |",
            "|---|" + "---:|" * (2 * len(ours_pipes) + 1),
        ]
        for label, our_stages, ref_stages in COMPARED:
            ours_values = [_stage_sum(index, corpus, p, our_stages) for p in ours_pipes]
            ref_value = _stage_sum(index, corpus, "reference", ref_stages) if ref_stages else None
            if all(v is None for v in ours_values) and ref_value is None:
                continue
            ratios = [_ratio(v, ref_value) if ref_stages else "—" for v in ours_values]
            lines.append(f"| {label} | " + " | ".join(_fmt(v, 2) for v in ours_values) + f" | {_fmt(ref_value, 2)} | " + " | ".join(ratios) + " |")
        peaks = [index.get((corpus, p, "wall"), {}) for p in [*ours_pipes, "reference"]]
        lines.append("| peak RSS, main process (MB) | " + " | ".join(_fmt(r.get("peak_rss_main_mb"), 0) for r in peaks) + " | " + " | ".join(_ratio(r.get("peak_rss_main_mb"), peaks[-1].get("peak_rss_main_mb")) for r in peaks[:-1]) + " |")
        lines.append("| peak PSS, process tree (MB) | " + " | ".join(_fmt(r.get("peak_pss_tree_mb"), 0) for r in peaks) + " | " + " | ".join(_ratio(r.get("peak_pss_tree_mb"), peaks[-1].get("peak_pss_tree_mb")) for r in peaks[:-1]) + " |")
        cpu = [index.get((corpus, p, "wall"), {}).get("cpu_seconds") for p in [*ours_pipes, "reference"]]
        lines.append("| CPU seconds (process tree) | " + " | ".join(_fmt(c, 0) for c in cpu) + " | " + " | ".join(_ratio(c, cpu[-1]) for c in cpu[:-1]) + " |")
        bad = [f"{p}: {statuses[(corpus, p)]}" for p in pipes if statuses.get((corpus, p), "ok") != "ok"]
        if bad:
            lines.append("")
            lines.append("Not complete: " + "; ".join(bad))
        lines.append("")

    for corpus in corpora:
        reruns = [p for p in RERUNS if p in pipelines_of[corpus]]
        if not reruns:
            continue
        lines += [
            f"## {corpus}: rerun with one model setting changed (same cache folder as the cold run, in this order)",
            "",
            "| stage | cold run (s) | " + " | ".join(f"{p}: `{RERUNS[p]}` (s)" for p in reruns) + " | " + " | ".join(f"{p} / cold" for p in reruns) + " |",
            "|---|---:|" + "---:|" * (2 * len(reruns)),
        ]
        for stage in ("tokenize", "tokenize/cache_read", "model", "model/dictionary_bow", "model/lda", "model/tfidf_kmeans", "artifacts", "total", "wall"):
            a = index.get((corpus, "ours", stage), {}).get("seconds")
            b = [index.get((corpus, p, stage), {}).get("seconds") for p in reruns]
            if a is None and all(v is None for v in b):
                continue
            lines.append(f"| {stage} | {_fmt(a, 2)} | " + " | ".join(_fmt(v, 2) for v in b) + " | " + " | ".join(_ratio(v, a) for v in b) + " |")
        lines.append("")
        for p in reruns:
            warm = index.get((corpus, p, "total"), {})
            lines.append(f"- {p} (`{RERUNS[p]}`): **{_ratio(warm.get('seconds'), index.get((corpus, 'ours', 'total'), {}).get('seconds'))}** "
                         f"of the cold run's time; it logged: {warm.get('notes') or '—'}")
        lines.append("")

    scaled = [c for c in corpora if c.startswith("city-x")]
    if scaled:
        base = scaled[0]
        lines += [
            "## Scaled city corpus (each report repeated N times; near-duplicate removal off)",
            "",
            f"Settings of these runs: `{' '.join(SCALED_OVERRIDES)}` (figures and report on), for "
            "ours and the reference alike: one LDA pass with 50 E-step iterations, one sweep fit, "
            "k fixed, so that the runs are about memory and data volume, not model passes.",
            "",
            "| corpus | MB | units | ours: stages (s) | reference (s) | ours / reference | ours peak RSS main (MB) | ours peak PSS tree (MB) | ours peak tree vs " + base + " | reference peak RSS (MB) | status |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        base_pss = _num(index.get((base, "ours", "wall"), {}).get("peak_pss_tree_mb"))
        for corpus in scaled:
            o, r = index.get((corpus, "ours", "total"), {}), index.get((corpus, "reference", "total"), {})
            ow, rw = index.get((corpus, "ours", "wall"), {}), index.get((corpus, "reference", "wall"), {})
            pss = _num(ow.get("peak_pss_tree_mb"))
            status = "; ".join(f"{p}: {statuses[(corpus, p)]}" for p in pipelines_of[corpus] if statuses.get((corpus, p)) != "ok") or "ok"
            lines.append(
                f"| {corpus} | {ow.get('input_mb', rw.get('input_mb', ''))} | {ow.get('units', '')} | {_fmt(o.get('seconds'))} | "
                f"{_fmt(r.get('seconds'))} | {_ratio(o.get('seconds'), r.get('seconds'))} | {_fmt(ow.get('peak_rss_main_mb'), 0)} | "
                f"{_fmt(pss, 0)} | {_ratio(pss, base_pss)} | {_fmt(rw.get('peak_rss_main_mb'), 0)} | {status} |"
            )
        stages = [s for s in ("ingest", "clean", "segment", "tokenize", "model", "model/dictionary_bow", "model/lda", "model/tfidf_kmeans", "model/coherence", "model/sweep", "model/other", "artifacts/tables", "figures", "report", "total")
                  if any((c, "ours", s) in index for c in scaled)]
        lines += [
            "",
            "Ours per stage at each scale: seconds, and peak PSS of the process tree while the stage ran (MB):",
            "",
            "| stage | " + " | ".join(scaled) + " |",
            "|---|" + "---:|" * len(scaled),
        ]
        for stage in stages:
            cells = []
            for corpus in scaled:
                row = index.get((corpus, "ours", stage), {})
                cells.append(f"{_fmt(row.get('seconds'))} s / {_fmt(row.get('peak_pss_tree_mb'), 0)} MB" if row else "—")
            lines.append(f"| {stage} | " + " | ".join(cells) + " |")
        lines.append("")

    targets = []
    for corpus in ("city", "province"):
        ours_wall, ref_wall = index.get((corpus, "ours", "wall"), {}), index.get((corpus, "reference", "wall"), {})
        a, b = _num(ours_wall.get("seconds")), _num(ref_wall.get("seconds"))
        if a and b:
            targets.append(f"- {corpus}, default config: cold run {a:.1f} s against the reference's {b:.1f} s (wall) = "
                           f"{a / b:.2f}x the reference's time (target at most 0.5x: {'met' if a / b <= 0.5 else 'not met'})")
        pss = _num(ours_wall.get("peak_pss_tree_mb"))
        if corpus == "province" and pss:
            targets.append(f"- province: peak PSS of the process tree {pss:,.0f} MB (target at most 2,500 MB: "
                           f"{'met' if pss <= 2500 else 'not met'})")
    city_wall = _num(index.get(("city", "ours", "wall"), {}).get("seconds"))
    for pipeline, change in RERUNS.items():
        rerun = _num(index.get(("city", pipeline, "wall"), {}).get("seconds"))
        if rerun is not None and city_wall:
            limit = RERUN_TARGETS[pipeline]
            targets.append(f"- city rerun with only `{change}`: {rerun:.1f} s = {rerun / city_wall:.0%} of the cold run "
                           f"(wall; target at most {limit:.0%}: {'met' if rerun / city_wall <= limit else 'not met'})")
    if targets:
        lines += ["## Targets (issue 17)", "", *targets, ""]
    lines += [
        "## Measurements",
        "",
        "| corpus | pipeline | status | code | load avg before / after | peak RSS main / tree PSS (MB) | wall (s) | CPU (s) |",
        "|---|---|---|---|---|---|---:|---:|",
    ]
    for row in rows:
        if row["stage"] == "wall":
            lines.append(
                f"| {row['corpus']} | {row['pipeline']} | {row['status']} | {row['commit']} | {row['load_before']} / "
                f"{row['load_after']} | {_fmt(row['peak_rss_main_mb'], 0)} / {_fmt(row['peak_pss_tree_mb'], 0)} | "
                f"{_fmt(row['seconds'])} | {_fmt(row['cpu_seconds'], 0)} |"
            )
    return "\n".join(lines).rstrip() + "\n"


def write_outputs(rows: list[dict[str, Any]], out: Path, header: dict[str, str]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "pipeline.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    (out / "pipeline.md").write_text(markdown(rows, header), encoding="utf-8")


# -- main -----------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--child"]:
        return child_main(argv[1])
    if argv[:1] == ["--reference-settings"]:
        print(json.dumps(reference_settings(argv[2:], Path(argv[1]))))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=int, nargs="*", default=[1, 10, 50], help="copies of the city corpus (default 1 10 50)")
    parser.add_argument("--corpora", nargs="+", choices=["seeds", "city", "province", "scaled"], default=None,
                        help="which parts to run (default all; --quick: city and scaled)")
    parser.add_argument("--pipelines", nargs="+", choices=["ours", "reference"], default=["ours", "reference"])
    parser.add_argument("--quick", action="store_true", help="short run: one LDA pass, no figures or report, no seeds")
    parser.add_argument("--seeds", type=Path, default=SEEDS, help="the seed corpus folder")
    parser.add_argument("--city", type=Path, default=CITY, help="the city reports folder")
    parser.add_argument("--province", type=Path, default=PROVINCE, help="the province panel (a JSONL file)")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--work", type=Path, default=None, help="scratch folder (default: a new temporary one, removed)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    parser.add_argument("--merge", action="store_true", help="keep rows of other corpora/pipelines already in OUT/pipeline.csv")
    parser.add_argument("--max-rss-gb", type=float, default=18.0, help="kill a run whose process tree passes this PSS (0 = never)")
    parser.add_argument("--timeout", type=float, default=0.0, help="kill a run after this many minutes (0 = never)")
    parser.add_argument("--no-snapshot", action="store_true",
                        help="run the repository's code as it is at each measurement, not a copy made at the start")
    parser.add_argument("--code", type=Path, default=None,
                        help="run the code copied by an earlier run (its WORK/code), to add measurements of the same version")
    args = parser.parse_args(argv)
    corpora = args.corpora or (["city", "scaled"] if args.quick else ["seeds", "city", "province", "scaled"])
    model = QUICK_OVERRIDES if args.quick else []
    scaled_model = QUICK_SCALED_OVERRIDES if args.quick else SCALED_OVERRIDES
    commit = _git("log", "-1", "--format=%h")
    dirty = _git("status", "--short")
    header = {
        "machine": machine_line(),
        "commit": commit,
        "dirty": f"{len(dirty.splitlines())} files changed or untracked" if dirty and dirty != "unknown" else "clean",
        "command": "python benchmarks/bench_pipeline.py " + " ".join(argv),
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "load": f"{_load()} at the start",
    }
    _say(f"{header['machine']}; commit {commit} ({header['dirty']})")
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    work.mkdir(parents=True, exist_ok=True)
    code = args.code.resolve() if args.code else ROOT if args.no_snapshot else snapshot_code(work / "code")
    version = code_hash(code)
    if (dirty and dirty != "unknown") or args.code:
        commit = f"{commit}+{version}"  # uncommitted changes: the hash of the code under test
    header["commit"] = commit
    _say(f"code under test: {code} (commit {commit})")
    bench = Bench(args, work, code)
    ours, ref = "ours" in args.pipelines, "reference" in args.pipelines
    num_topics = bench.settings(model)["num_topics"]
    equal = [*model, *EQUAL_OVERRIDES, f"selection.num_topics=[{num_topics}]"]
    try:
        if "seeds" in corpora:
            if ours:
                bench.ours("seeds", "", "ours", args.seeds, model)
                bench.ours("seeds", "", "ours-equal", args.seeds, equal)
            if ref:
                bench.reference("seeds", "", args.seeds, model)
        if "city" in corpora:
            if ours:
                cold = bench.ours("city", 1, "ours", args.city, model)
                assert cold.folder is not None
                for pipeline, change in RERUNS.items():
                    bench.ours("city", 1, pipeline, args.city, [*model, change], cache=cold.folder / "cache")
                bench.ours("city", 1, "ours-equal", args.city, equal)
            if ref:
                bench.reference("city", 1, args.city, model)
        if "province" in corpora:  # the default config as shipped reads the JSONL's text column
            if ours:
                bench.ours("province", 1, "ours", args.province, model)
            if ref:
                bench.reference("province", 1, args.province, model)
        if "scaled" in corpora:
            for scale in args.scales:
                corpus = scaled_corpus(args.city, scale, work / "corpora" / f"city-x{scale}")
                if ours:
                    bench.ours(f"city-x{scale}", scale, "ours", corpus, scaled_model)
                if ref:
                    bench.reference(f"city-x{scale}", scale, corpus, scaled_model)
                if scale > 1 and not args.keep:
                    shutil.rmtree(corpus, ignore_errors=True)
    except KeyboardInterrupt:
        _say("interrupted: writing what was measured")
    finally:
        rows = [row for m in bench.measurements for row in rows_of(m, commit)]
        if args.merge and (args.out / "pipeline.csv").is_file():
            done = {(r["corpus"], r["pipeline"]) for r in rows}
            with open(args.out / "pipeline.csv", encoding="utf-8") as handle:
                old = [r for r in csv.DictReader(handle) if (r["corpus"], r["pipeline"]) not in done]
            rows = old + rows
        header["load"] += f", {_load()} at the end"
        write_outputs(rows, args.out, header)
        if not args.keep and args.work is None:
            shutil.rmtree(work, ignore_errors=True)
        elif args.keep:
            _say(f"scratch kept in {work}")
    print((args.out / "pipeline.md").read_text(encoding="utf-8"))
    return 0 if all(m.status == "ok" for m in bench.measurements) else 1


if __name__ == "__main__":
    raise SystemExit(main())
