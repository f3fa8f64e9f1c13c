"""Profile one whole run of the pipeline with pyinstrument: where each stage spends its time.

Usage::

    python benchmarks/profile_run.py LABEL [--corpus PATH] [--src SRC] [--clean-only] [--set key=value ...]

Runs ``policytopics.run`` on ``--corpus`` (default: the city reports) in one process (every
``workers`` setting is forced to 1, so the profiler sees all the work) with a fresh cache, and
writes ``benchmarks/results/profile_run_LABEL.txt``: the seconds of each stage, the functions
with the most time of their own, and the call tree. ``--src`` imports the package from another
checkout's ``src/`` (e.g. a ``git worktree`` of an older commit), to profile the code as it was
before an optimisation. Needs pyinstrument (``pip install pyinstrument``; not a dependency).
Seconds are under the profiler, hence slower than without it: the shares are what counts.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CITY = ROOT.parent / "shared" / "corpora" / "city-reports-2024"
SINGLE_PROCESS = ["clean.workers=1", "tokenize.workers=1", "selection.workers=1"]


def _self_times(frame, totals: dict[str, float]) -> None:
    """Add each frame's own time (its time minus its real children's) under ``file:function``.

    pyinstrument records a frame's own time as synthetic ``[self]`` children; those are
    counted with their parent (``total_self_time``), not as frames of their own.
    """
    where = f"{Path(frame.file_path or '?').name}:{frame.function}"
    totals[where] += frame.total_self_time
    for child in frame.children:
        if not child.is_synthetic:
            _self_times(child, totals)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("label", help="names the output file: profile_run_LABEL.txt")
    parser.add_argument("--corpus", type=Path, default=CITY)
    parser.add_argument("--config", type=Path, default=ROOT / "configs" / "default.yaml")
    parser.add_argument("--src", type=Path, default=None, help="import policytopics from this src/ folder")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--clean-only", action="store_true", help="ingest, clean and segment only (policytopics.clean_corpus)")
    parser.add_argument("--top", type=int, default=25, help="how many functions to list by own time")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args(argv)
    if args.src is not None:
        sys.path.insert(0, str(args.src.resolve()))
    try:
        from pyinstrument import Profiler
    except ImportError:
        raise SystemExit("profile_run needs pyinstrument: pip install pyinstrument") from None
    import policytopics
    from policytopics.config import Config

    def known(setting: str) -> bool:  # an older checkout may not have every workers setting
        section, key = setting.split("=")[0].split(".")
        return key in Config.model_fields[section].annotation.model_fields

    scratch = Path(tempfile.mkdtemp(prefix="profile-run-"))
    overrides = [
        f"corpus.path={args.corpus}", f"output.results_dir={scratch}", f"cache.dir={scratch / 'cache'}",
        f"name=profile-{args.label}", *filter(known, SINGLE_PROCESS), *args.overrides,
    ]
    profiler = Profiler(interval=0.001)
    load = os.getloadavg()[0]
    start = time.perf_counter()
    profiler.start()
    result = (policytopics.clean_corpus if args.clean_only else policytopics.run)(args.config, overrides)
    profiler.stop()
    wall = time.perf_counter() - start
    root = profiler.last_session.root_frame()
    own: dict[str, float] = defaultdict(float)
    _self_times(root, own)
    commit = subprocess.run(["git", "-C", str((args.src or ROOT / "src").resolve()), "log", "-1", "--format=%h"],
                            capture_output=True, text=True).stdout.strip() or "unknown"
    lines = [
        f"Profile of one run ({args.label}): policytopics from {policytopics.__file__} (commit {commit}),",
        f"corpus {args.corpus.name}, {len(result.units):,} units; pyinstrument, 1 ms samples; "
        f"load average {load:.1f} on {os.cpu_count()} cores; {wall:.1f} s under the profiler.",
        "Command: python benchmarks/profile_run.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "Settings: " + " ".join(overrides[4:]),
        "Seconds are under the profiler (slower than without it); the shares are what counts.",
        "",
        f"{'stage (RunResult.timings)':<60}{'seconds':>9}{'share':>8}",
    ]
    stage_total = sum(v for k, v in result.timings.items() if k not in ("figures", "report"))
    for stage, seconds in result.timings.items():
        lines.append(f"{stage:<60}{seconds:>9.2f}{seconds / stage_total:>8.1%}")
    lines += ["", f"{'functions with the most time of their own':<60}{'seconds':>9}{'share':>8}"]
    for where, seconds in sorted(own.items(), key=lambda item: -item[1])[: args.top]:
        lines.append(f"{where[:59]:<60}{seconds:>9.2f}{seconds / root.time:>8.1%}")
    lines += ["", "Profile tree (pyinstrument, library frames folded):", "",
              profiler.output_text(unicode=True, color=False, show_all=False)]
    args.out.mkdir(parents=True, exist_ok=True)
    target = args.out / f"profile_run_{args.label}.txt"
    target.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines[: 9 + len(result.timings) + args.top]))
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
