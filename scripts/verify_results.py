"""Re-run a config and check that it reproduces the committed run folder byte for byte.

Usage: ``python scripts/verify_results.py [CONFIG] [COMMITTED_RUN_FOLDER]`` (``make verify``
runs it on configs/default.yaml and results/default). The config is re-run into a scratch
folder with a fresh cache; then every artefact listed in the committed manifest.json is
compared by SHA-256 with the fresh run's (files not committed, such as the model binaries,
are compared through the hashes the committed manifest records), and every committed file
is compared with its fresh twin. Exit code 0 when everything matches, 1 otherwise.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import policytopics
from policytopics.artifacts import sha256_file


def verify(config: str, committed: Path) -> list[str]:
    """Differences between the committed run folder and a fresh run of ``config``."""
    manifest = json.loads((committed / "manifest.json").read_text(encoding="utf-8"))
    scratch = Path(tempfile.mkdtemp(prefix="verify-"))
    fresh = policytopics.run(
        config, [f"output.results_dir={scratch}", f"cache.dir={scratch / 'cache'}", f"name={committed.name}"]
    ).run_dir
    fresh_manifest = json.loads((fresh / "manifest.json").read_text(encoding="utf-8"))
    problems = []
    for key in ("config_sha256", "seed", "inputs", "resources", "packages"):
        if manifest.get(key) != fresh_manifest.get(key):
            problems.append(f"manifest '{key}' differs (installed versions or inputs changed?)")
    recorded, produced = manifest["artifacts"], fresh_manifest["artifacts"]
    for name in sorted(set(recorded) | set(produced)):
        if recorded.get(name) != produced.get(name):
            problems.append(f"{name}: {'missing from the fresh run' if name not in produced else 'new in the fresh run' if name not in recorded else 'differs'}")
    for path in sorted(committed.rglob("*")):
        relative = path.relative_to(committed).as_posix()
        if path.is_file() and relative != "timings.json":
            twin = fresh / relative
            if not twin.is_file() or sha256_file(twin) != sha256_file(path):
                problems.append(f"{relative}: committed file differs from the fresh run")
    return problems


def main(argv: list[str]) -> int:
    config = argv[0] if argv else "configs/default.yaml"
    committed = Path(argv[1] if len(argv) > 1 else "results/default")
    problems = verify(config, committed)
    for problem in problems:
        print(f"DIFFERENT {problem}")
    print("verify: identical to the committed results" if not problems else f"verify: {len(problems)} differences")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
