"""Re-run a config and check that it reproduces the committed run folder byte for byte.

Usage: ``python scripts/verify_results.py [CONFIG] [COMMITTED_RUN_FOLDER]`` (``make verify``
runs it on configs/default.yaml and results/default). The config is re-run into a scratch
folder with a fresh cache; then every artefact listed in the committed manifest.json is
compared by SHA-256 with the fresh run's (files not committed, such as the model binaries,
are compared through the hashes the committed manifest records), and every committed file
is compared with its fresh twin. Exit code 0 when everything matches, 1 otherwise.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import policytopics
from policytopics.artifacts import compare_run_folders


def verify(config: str, committed: Path) -> list[str]:
    """Differences between the committed run folder and a fresh run of ``config``.

    The fresh run writes to a scratch folder with a fresh cache; the comparison
    (:func:`policytopics.artifacts.compare_run_folders`) sets aside only those two locations.
    """
    scratch = Path(tempfile.mkdtemp(prefix="verify-"))
    fresh = policytopics.run(
        config, [f"output.results_dir={scratch}", f"cache.dir={scratch / 'cache'}", f"name={committed.name}"]
    ).run_dir
    return compare_run_folders(committed, fresh)


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
