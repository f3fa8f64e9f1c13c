"""policytopics: policy-theme and topic modelling of Chinese development-zone speeches.

The one entry point is :func:`policytopics.run`, which the command line
(``python -m policytopics run CONFIG``) and notebooks both call::

    >>> import policytopics
    >>> result = policytopics.run("configs/default.yaml")  # doctest: +SKIP
    >>> result.run_dir  # doctest: +SKIP
    PosixPath('results/default')

Heavy libraries are imported by the stages that use them, so importing the package is cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = [
    "ArtifactMismatchError", "Config", "ConfigError", "RunFolderConflictError", "RunResult", "clean_corpus",
    "compare", "load", "load_config", "run",
]

if TYPE_CHECKING:  # pragma: no cover
    from policytopics.config import Config, ConfigError, load_config
    from policytopics.errors import ArtifactMismatchError, RunFolderConflictError
    from policytopics.apply import load
    from policytopics.pipeline import RunResult, clean_corpus, compare, run

_LAZY = {
    "ArtifactMismatchError": "policytopics.errors",
    "RunFolderConflictError": "policytopics.errors",
    "Config": "policytopics.config",
    "ConfigError": "policytopics.config",
    "load_config": "policytopics.config",
    "RunResult": "policytopics.pipeline",
    "clean_corpus": "policytopics.pipeline",
    "compare": "policytopics.pipeline",
    "load": "policytopics.apply",
    "run": "policytopics.pipeline",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'policytopics' has no attribute {name!r}")
