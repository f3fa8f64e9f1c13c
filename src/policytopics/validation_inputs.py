"""What validation reads: a run folder's units, tokens, keywords and topic shares, and hand labels.

:func:`load_run_folder` reads a folder written by ``run`` (re-running nothing);
:func:`load_labels` matches a CSV of hand labels to its units by id, else by a text snippet.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from policytopics.errors import PolicytopicsError

if TYPE_CHECKING:
    from policytopics.codebook import Codebook

__all__ = [
    "RUN_FILES", "LabelsError", "RunFolder", "RunFolderError", "RunUnit", "load_labels", "load_run_folder",
    "read_coded_csv", "run_codebook",
]

#: Files a run folder must hold for validation.
RUN_FILES = ("units.csv", "tokens.jsonl", "keywords.csv", "topics.csv", "unit_topic.csv", "summary.json")


class LabelsError(PolicytopicsError):
    """A labels file that cannot be used."""


class RunFolderError(PolicytopicsError):
    """A run folder that cannot be validated (missing, incomplete, or not a folder)."""


@dataclass(frozen=True)
class RunUnit:
    """One unit of a run folder: its id, document, text and the run's label (``theme``)."""

    unit_id: str
    doc_id: str
    text: str
    theme: str


@dataclass(frozen=True)
class RunFolder:
    """What validation reads from a run folder, with every unit-wise list in ``units`` order.

    Attributes
    ----------
    path : Path
        The run folder.
    theme_ids : tuple of str
        The theme ids in codebook order (``summary.json``).
    units : tuple of RunUnit
        The units of ``units.csv``, in file order.
    tokens : tuple of tuple of str
        The tokens of each unit (``tokens.jsonl``).
    keywords : dict of str to list of str
        Per theme (codebook order), its ``used`` keywords as tokens (``keywords.csv``).
    topic_themes : tuple of str or None
        The theme of each topic (``topics.csv``); ``None`` for a free topic.
    unit_topic : numpy.ndarray
        Units × topics (``unit_topic.csv``).
    seed : int or None
        ``seed`` of ``config.resolved.yaml`` (``None`` without that file or key).
    config_sha256 : str or None
        ``config_sha256`` of ``manifest.json`` (``None`` without it).
    """

    path: Path
    theme_ids: tuple[str, ...]
    units: tuple[RunUnit, ...]
    tokens: tuple[tuple[str, ...], ...]
    keywords: dict[str, list[str]]
    topic_themes: tuple[str | None, ...]
    unit_topic: np.ndarray
    seed: int | None
    config_sha256: str | None


def _read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _require_columns(path: Path, rows: list[dict[str, str]], columns: Sequence[str]) -> None:
    present = set(rows[0]) if rows else set()
    missing = [column for column in columns if column not in present]
    if missing:
        raise RunFolderError(f"{path}: no rows or missing columns {', '.join(missing)}")


def load_run_folder(run_dir: str | Path) -> RunFolder:
    """Read what validation needs from a run folder written by ``run``, re-running nothing.

    Parameters
    ----------
    run_dir : str or Path
        The run folder, ``results/<name>/``.

    Returns
    -------
    RunFolder
        The theme ids, units with their run labels, tokens, used keywords, topic themes,
        unit × topic matrix, seed and config hash.

    Raises
    ------
    RunFolderError
        If ``run_dir`` is a YAML config (run it first), is not a folder, lacks one of
        :data:`RUN_FILES`, or its files disagree (a unit without tokens or topic shares).

    Examples
    --------
    >>> run = load_run_folder("results/default")  # doctest: +SKIP
    >>> run.theme_ids[:2], len(run.units)  # doctest: +SKIP
    (('investment', 'livelihood'), 229)
    """
    path = Path(run_dir)
    if path.suffix.lower() in (".yaml", ".yml"):
        raise RunFolderError(
            f"{path} is a config, but validate reads a run folder: run it first "
            f"(python -m policytopics run {path}) and pass its run folder, e.g. results/<name>/"
        )
    if not path.is_dir():
        raise RunFolderError(
            f"run folder not found: {path} (validate reads the folder `python -m policytopics run CONFIG` "
            f"writes, e.g. results/<name>/)"
        )
    missing = [name for name in RUN_FILES if not (path / name).is_file()]
    if missing:
        raise RunFolderError(
            f"{path}: not a finished run folder with the model stage (missing {', '.join(missing)}); "
            f"`clean` writes no model files: use the folder of a `run`"
        )
    try:
        summary = json.loads((path / "summary.json").read_text(encoding="utf-8"))
        theme_ids = tuple(str(theme_id) for theme_id in summary["themes"])
    except (ValueError, KeyError, TypeError):
        raise RunFolderError(f"{path / 'summary.json'}: no list of theme ids under 'themes'") from None

    unit_rows = _read_csv(path / "units.csv")
    _require_columns(path / "units.csv", unit_rows, ("unit_id", "doc_id", "text", "theme"))
    units = tuple(RunUnit(row["unit_id"], row["doc_id"], row["text"], row["theme"].strip()) for row in unit_rows)

    tokens_by_id: dict[str, tuple[str, ...]] = {}
    with open(path / "tokens.jsonl", encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                try:
                    record = json.loads(line)
                    tokens_by_id[str(record["unit_id"])] = tuple(str(token) for token in record["tokens"])
                except (ValueError, KeyError, TypeError):
                    raise RunFolderError(f"{path / 'tokens.jsonl'}:{number}: not a unit_id/tokens record") from None

    keyword_rows = _read_csv(path / "keywords.csv")
    _require_columns(path / "keywords.csv", keyword_rows, ("theme", "keyword", "status"))
    keywords: dict[str, list[str]] = {theme_id: [] for theme_id in theme_ids}
    for row in keyword_rows:
        if row["status"].strip() == "used" and row["theme"] in keywords:
            keyword = row["keyword"].strip()
            keywords[row["theme"]].append(keyword.lower() if keyword.isascii() else keyword)  # as tokenised

    topic_rows = _read_csv(path / "topics.csv")
    _require_columns(path / "topics.csv", topic_rows, ("topic", "theme"))
    try:
        topic_rows.sort(key=lambda row: int(row["topic"]))
    except ValueError:
        raise RunFolderError(f"{path / 'topics.csv'}: a topic number that is not an integer") from None
    topic_themes = tuple(row["theme"] if row["theme"] in theme_ids else None for row in topic_rows)

    matrix_rows = _read_csv(path / "unit_topic.csv")
    topic_columns = [f"topic_{topic}" for topic in range(len(topic_themes))]
    _require_columns(path / "unit_topic.csv", matrix_rows, ("unit_id", *topic_columns))
    shares_by_id = {row["unit_id"]: [float(row[column]) for column in topic_columns] for row in matrix_rows}

    for name, found in (("tokens.jsonl", tokens_by_id), ("unit_topic.csv", shares_by_id)):
        absent = [unit.unit_id for unit in units if unit.unit_id not in found]
        if absent:
            raise RunFolderError(f"{path / name}: no row for unit {absent[0]} of units.csv ({len(absent)} units)")

    seed = None
    config_path = path / "config.resolved.yaml"
    if config_path.is_file():
        import yaml

        config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
        if isinstance(config, dict) and isinstance(config.get("seed"), int):
            seed = config["seed"]
    config_sha256 = None
    if (path / "manifest.json").is_file():
        try:
            config_sha256 = json.loads((path / "manifest.json").read_text(encoding="utf-8")).get("config_sha256")
        except (ValueError, AttributeError):
            config_sha256 = None
    return RunFolder(
        path=path,
        theme_ids=theme_ids,
        units=units,
        tokens=tuple(tokens_by_id[unit.unit_id] for unit in units),
        keywords=keywords,
        topic_themes=topic_themes,
        unit_topic=np.array([shares_by_id[unit.unit_id] for unit in units], dtype=float).reshape(
            len(units), len(topic_themes)
        ),
        seed=seed,
        config_sha256=config_sha256,
    )


def read_coded_csv(path: str | Path, what: str = "labels") -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """A hand-coded CSV (labels, a coder's answers, a key): its column names, stripped, and its
    rows numbered as a spreadsheet numbers them (the header is row 1).

    Parameters
    ----------
    path : str or Path
        A UTF-8 CSV file (a byte-order mark is allowed: spreadsheets write one).
    what : str
        What the file is, for the error message (``labels``, ``answers``).

    Returns
    -------
    (list of str, list of (int, dict))

    Raises
    ------
    LabelsError
        For a missing file, or one that is not UTF-8 CSV.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "labels.csv")
    >>> _ = open(path, "w", encoding="utf-8").write(" unit_id ,theme\\nd-u0000,none\\n")
    >>> read_coded_csv(path)
    (['unit_id', 'theme'], [(2, {'unit_id': 'd-u0000', 'theme': 'none'})])
    """
    path = Path(path)
    if not path.is_file():
        raise LabelsError(f"{what} file not found: {path}")
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            header = [name.strip() for name in (reader.fieldnames or ())]
            reader.fieldnames = header
            return header, list(enumerate(reader, start=2))
    except (UnicodeDecodeError, csv.Error) as error:
        raise LabelsError(f"{path}: not a UTF-8 CSV file ({error})") from None


def load_labels(path: str | Path, units: Sequence[Any], *, split: str | None = None) -> list[tuple[str, str]]:
    """Hand labels as (unit_id, theme), matched to ``units`` by id, else by text snippet.

    A label whose id is unknown and whose snippet starts no unit (or several) is an error
    naming the row: a validation set that silently shrinks would mislead. So are two rows
    for the same unit and a row without a theme.

    Parameters
    ----------
    path : str or Path
        CSV with the columns ``unit_id`` (or ``snippet``: the start of the unit's text) and
        ``theme``; optionally ``split``.
    units : sequence
        The units, each with ``unit_id`` and ``text`` (:class:`RunUnit`, ``records.Unit``).
    split : str, optional
        Keep only the rows whose ``split`` is this (e.g. ``"heldout"``).

    Returns
    -------
    list of tuple of str
        ``(unit_id, theme)`` per kept row, in file order; the theme as written.

    Raises
    ------
    LabelsError
        For a missing file, missing columns (``split`` included when ``split`` is given), no
        row in the split, a row matching no unit, a unit labelled twice, or an empty theme.

    Examples
    --------
    >>> labels = load_labels("tests/data/labels/seed_units.csv", load_run_folder("results/default").units)  # doctest: +SKIP
    >>> labels[0]  # doctest: +SKIP
    ('000_c653e3a235d9673d-01-u0003', 'economy')
    """
    path = Path(path)
    header, rows = read_coded_csv(path)
    columns = set(header)
    if "theme" not in columns or not ({"unit_id", "snippet"} & columns):
        raise LabelsError(f"{path}: expected columns unit_id (or snippet) and theme")
    if split is not None:
        if "split" not in columns:
            raise LabelsError(f"{path}: --split {split} needs a column 'split', and the file has none")
        names = sorted({(row.get("split") or "").strip() for _, row in rows})
        rows = [(number, row) for number, row in rows if (row.get("split") or "").strip() == split]
        if not rows:
            raise LabelsError(f"{path}: no row has split '{split}' (splits: {', '.join(names)})")
    if not rows:
        raise LabelsError(f"{path}: no labels")
    by_id = {unit.unit_id: unit for unit in units}
    labels: list[tuple[str, str]] = []
    seen: dict[str, int] = {}
    for number, row in rows:
        unit_id = (row.get("unit_id") or "").strip()
        if unit_id not in by_id:
            snippet = (row.get("snippet") or "").strip()
            matches = [u.unit_id for u in units if snippet and u.text.startswith(snippet)]
            if len(matches) != 1:
                raise LabelsError(
                    f"{path}:{number}: unit '{unit_id}' not found and its snippet matches "
                    f"{len(matches)} units"
                )
            unit_id = matches[0]
        theme = (row.get("theme") or "").strip()
        if not theme:
            raise LabelsError(f"{path}:{number}: empty theme (write a theme id or none)")
        if unit_id in seen:
            raise LabelsError(f"{path}:{number}: unit '{unit_id}' is labelled again (first on row {seen[unit_id]})")
        seen[unit_id] = number
        labels.append((unit_id, theme))
    return labels


def _codebook_path(run_dir: Path, configured: str) -> Path:
    """The codebook file of a run: as configured (absolute or from the working directory), else
    relative to the run folder or the folders above it (``results/<name>/`` sits two levels
    below the project where the run was started)."""
    path = Path(configured)
    candidates = [path] if path.is_absolute() else [path, run_dir / path, run_dir.parent / path, run_dir.parent.parent / path]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise RunFolderError(
        f"{run_dir / 'config.resolved.yaml'}: themes.codebook {configured} not found (from the working "
        f"directory or the run folder); pass codebook=PATH"
    )


def run_codebook(run_dir: str | Path, codebook: str | Path | None = None) -> Codebook:
    """The codebook a run used, checked against its ``summary.json`` themes.

    Parameters
    ----------
    run_dir : str or Path
        A run folder.
    codebook : str or Path, optional
        The codebook file (default: the run's ``themes.codebook``, from the working
        directory, else relative to the run folder or the two folders above it).

    Returns
    -------
    Codebook
        With the run's ``themes.ids``.

    Raises
    ------
    RunFolderError
        No codebook found, or one whose themes are not those the run used.

    Examples
    --------
    >>> run_codebook("results/default").ids[:2]  # doctest: +SKIP
    ['investment', 'livelihood']
    """
    import yaml

    from policytopics.codebook import load_codebook

    run_dir = Path(run_dir)
    config_path = run_dir / "config.resolved.yaml"
    ids = None
    configured = None
    if config_path.is_file():
        config = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
        themes = config.get("themes") if isinstance(config, dict) else None
        if isinstance(themes, dict):
            configured = themes.get("codebook")
            ids = themes.get("ids")
    if codebook is None:
        if not configured:
            raise RunFolderError(f"{config_path}: no themes.codebook (is this a run folder?); pass codebook=PATH")
        codebook = _codebook_path(run_dir, str(configured))
    loaded = load_codebook(codebook, ids)
    summary_path = run_dir / "summary.json"
    if summary_path.is_file():
        try:
            used = [str(theme) for theme in json.loads(summary_path.read_text(encoding="utf-8"))["themes"]]
        except (ValueError, KeyError, TypeError):
            used = None
        if used is not None and used != loaded.ids:
            raise RunFolderError(
                f"{loaded.path}: themes {' '.join(loaded.ids)}, but the run used {' '.join(used)} "
                f"({summary_path}); pass the run's codebook=PATH"
            )
    return loaded
