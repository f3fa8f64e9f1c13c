"""Shared fixtures: the repository paths and one pipeline run on the real seed corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SEEDS = REPO_ROOT / "seeds"
DEFAULT_CONFIG = REPO_ROOT / "configs" / "default.yaml"
CITY_REPORTS = REPO_ROOT.parent / "shared" / "corpora" / "city-reports-2024"


@pytest.fixture(scope="session")
def seed_run(tmp_path_factory):
    """The default config run once on seeds/, written to a temporary results folder."""
    import policytopics

    results = tmp_path_factory.mktemp("results")
    cache = tmp_path_factory.mktemp("cache")
    return policytopics.run(
        DEFAULT_CONFIG,
        [f"corpus.path={SEEDS}", f"output.results_dir={results}", f"cache.dir={cache}"],
    )
