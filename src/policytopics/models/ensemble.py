"""The fits that measured a run's themes, as files: what measuring new units needs.

Every run with models writes ``model/ensemble.json`` and, per fit, its E-step's topics
(``exp(E[log beta])``, as gensim stores them) and ``alpha`` as ``.npy`` arrays in
``model/ensemble/``: with the run's vocabulary (``model/dictionary.gensim``) and its theme
settings, they give a new unit exactly the theme shares the run gives the same text
(:mod:`policytopics.apply`). The files are plain numpy arrays and JSON (no pickle), and the
same fits give the same bytes.

In: the fitting stage's ensemble members. Out: their files, or the members read back.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from policytopics import artifacts

__all__ = ["ENSEMBLE_FILE", "load_ensemble", "save_ensemble"]

#: The list of fits, relative to the run folder.
ENSEMBLE_FILE = "model/ensemble.json"
_ARRAYS = ("exp_elog_beta", "alpha")
_FORMAT_VERSION = 1


def save_ensemble(run_dir: str | Path, members: Sequence[dict[str, Any]]) -> None:
    """Write the measuring fits into ``run_dir`` (:data:`ENSEMBLE_FILE` and ``model/ensemble/``).

    Parameters
    ----------
    run_dir : str or Path
        The run folder being written.
    members : sequence of dict
        Per fit: ``num_topics``, ``seed``, ``themes`` (one per topic), ``iterations``,
        ``gamma_threshold`` and the arrays ``exp_elog_beta`` (K x V) and ``alpha`` (K).

    Returns
    -------
    None

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> member = {"num_topics": 2, "seed": 1, "themes": ["a", "unassigned"], "iterations": 50,
    ...           "gamma_threshold": 0.001, "exp_elog_beta": np.full((2, 3), 0.3), "alpha": np.full(2, 0.5)}
    >>> save_ensemble(folder, [member])
    >>> load_ensemble(folder)[0]["exp_elog_beta"].shape
    (2, 3)
    """
    run_dir = Path(run_dir)
    (run_dir / "model" / "ensemble").mkdir(parents=True, exist_ok=True)
    listed = []
    for number, member in enumerate(members):
        entry = {key: value for key, value in member.items() if key not in _ARRAYS}
        for name in _ARRAYS:
            relative = f"model/ensemble/{number:02d}.{name}.npy"
            np.save(run_dir / relative, np.asarray(member[name]), allow_pickle=False)
            entry[name] = relative
        listed.append(entry)
    artifacts.write_json(run_dir / ENSEMBLE_FILE, {"format_version": _FORMAT_VERSION, "members": listed})


def load_ensemble(run_dir: str | Path) -> list[dict[str, Any]]:
    """The fits :func:`save_ensemble` wrote into ``run_dir``, with their arrays.

    Parameters
    ----------
    run_dir : str or Path
        A run folder.

    Returns
    -------
    list of dict

    Raises
    ------
    FileNotFoundError
        If the run folder has no :data:`ENSEMBLE_FILE` (a run of an older version: run it again).
    ValueError
        If the file's format is not one this version reads.
    """
    import json

    run_dir = Path(run_dir)
    path = run_dir / ENSEMBLE_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{run_dir}: no {ENSEMBLE_FILE} (a run made before runs saved their measuring fits): run its config again")
    listing = json.loads(path.read_text(encoding="utf-8"))
    if listing.get("format_version") != _FORMAT_VERSION:
        raise ValueError(f"{path}: unsupported format_version {listing.get('format_version')!r}")
    members = []
    for entry in listing["members"]:
        member = dict(entry)
        for name in _ARRAYS:
            member[name] = np.load(run_dir / entry[name], allow_pickle=False)
        members.append(member)
    return members
