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

import yaml

import policytopics
from policytopics.artifacts import sha256_file


#: Settings verify changes to run in a scratch folder; they move files but change no result.
LOCATION_SETTINGS = (("output", "results_dir"), ("cache", "dir"))


def _without_locations(resolved_yaml: str) -> dict:
    data = yaml.safe_load(resolved_yaml)
    for section, key in LOCATION_SETTINGS:
        data[section].pop(key, None)
    return data


def verify(config: str, committed: Path) -> list[str]:
    """Differences between the committed run folder and a fresh run of ``config``.

    The fresh run writes to a scratch folder with a fresh cache, so its resolved config
    differs from the committed one in those two location settings only: the configs are
    compared without them, and so are the manifest entries derived from the config file.
    """
    manifest = json.loads((committed / "manifest.json").read_text(encoding="utf-8"))
    scratch = Path(tempfile.mkdtemp(prefix="verify-"))
    fresh = policytopics.run(
        config, [f"output.results_dir={scratch}", f"cache.dir={scratch / 'cache'}", f"name={committed.name}"]
    ).run_dir
    fresh_manifest = json.loads((fresh / "manifest.json").read_text(encoding="utf-8"))
    problems = []
    committed_config = _without_locations((committed / "config.resolved.yaml").read_text(encoding="utf-8"))
    if committed_config != _without_locations((fresh / "config.resolved.yaml").read_text(encoding="utf-8")):
        problems.append("config.resolved.yaml: the configs differ (beyond output and cache folders)")
    for key in ("seed", "inputs", "resources", "packages", "stages"):
        if manifest.get(key) != fresh_manifest.get(key):
            problems.append(f"manifest '{key}' differs (installed versions, inputs or resources changed?)")
    recorded, produced = manifest["artifacts"], fresh_manifest["artifacts"]
    for name in sorted((set(recorded) | set(produced)) - {"config.resolved.yaml"}):
        if recorded.get(name) != produced.get(name):
            state = "missing from the fresh run" if name not in produced else "new in the fresh run" if name not in recorded else "differs"
            problems.append(f"{name}: {state}")
    for path in sorted(committed.rglob("*")):
        relative = path.relative_to(committed).as_posix()
        if path.is_file() and relative not in ("timings.json", "manifest.json", "config.resolved.yaml"):
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
