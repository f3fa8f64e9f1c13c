"""Validation of a run's unit themes against hand-coded labels, read from its run folder.

In: a run folder written by ``run`` (``results/<name>/``: ``units.csv`` with each unit's
``theme``, ``tokens.jsonl``, ``keywords.csv``, ``topics.csv``, ``unit_topic.csv``,
``summary.json``, and ``config.resolved.yaml`` for the seed) and a CSV of hand labels
(``unit_id`` or ``snippet``, the start of the unit's text; ``theme``; optionally ``split``).
Nothing is re-run.

Out: for three labelling methods — the run's labels, the plain keyword count and the
previous keyword-mixing method — accuracy with a Wilson interval, macro-F1 and Cohen's kappa
with percentile bootstrap intervals, per-category precision, recall and F1, and the
confusion table (rows: hand label, columns: prediction); then McNemar's exact test of the
run's labels against each other method. As text for the terminal and as JSON (sorted keys,
floats rounded to 6 places), the same bytes for the same inputs and seed.

A label, predicted or hand-coded, that is not a theme id of the run (``none``, ``mixed``,
``unassigned``, ...) counts as the category ``none``.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from policytopics.errors import PolicytopicsError

#: The category of every label that is not a theme id.
NONE = "none"
#: Bootstrap resamples for the intervals of macro-F1 and kappa.
RESAMPLES = 2000
#: Confidence level of every interval.
CONFIDENCE = 0.95
#: Settings of the previous method, kept for comparison (keyword weight, minimum share).
MIXING_KEYWORD_WEIGHT = 0.5
MIXING_MIN_SHARE = 0.3
#: The methods compared, in report order, with their titles.
METHODS = {
    "run": "the run's labels (units.csv `theme`)",
    "keyword_count": "plain keyword count (most hits of `used` keywords; ties: first theme in codebook order)",
    "keyword_mixing": (
        f"keyword mixing, the previous method (topic shares averaged with keyword shares at weight "
        f"{MIXING_KEYWORD_WEIGHT:g}; dominant theme from share {MIXING_MIN_SHARE:g})"
    ),
}
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
    if not path.is_file():
        raise LabelsError(f"labels file not found: {path}")
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            columns = set(reader.fieldnames or ())
            rows = list(enumerate(reader, start=2))
    except (UnicodeDecodeError, csv.Error) as error:
        raise LabelsError(f"{path}: not a UTF-8 CSV file ({error})") from None
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


def as_category(label: str, theme_ids: Sequence[str]) -> str:
    """A label as a category: itself if it is a theme id, else ``none``.

    Parameters
    ----------
    label : str
        A predicted or hand label.
    theme_ids : sequence of str
        The run's theme ids.

    Returns
    -------
    str
        ``label`` or ``"none"``.

    Examples
    --------
    >>> [as_category(label, ["investment"]) for label in ["investment", "mixed", "unassigned", "none"]]
    ['investment', 'none', 'none', 'none']
    """
    return label if label in theme_ids else NONE


def keyword_count_labels(token_lists: Sequence[Sequence[str]], keywords: Mapping[str, Sequence[str]]) -> list[str]:
    """The plain keyword count: each unit's theme with the most keyword hits.

    Every occurrence counts; ties go to the theme listed first in ``keywords`` (codebook
    order), and a unit without any hit is ``none``.

    Parameters
    ----------
    token_lists : sequence of sequence of str
        The tokens of each unit.
    keywords : mapping of str to sequence of str
        Theme id to its usable keywords, in codebook order.

    Returns
    -------
    list of str
        A theme id or ``"none"`` per unit.

    Examples
    --------
    >>> keyword_count_labels([["民生", "招商", "民生"], ["招商", "民生"], ["会议"]],
    ...                      {"investment": ["招商"], "livelihood": ["民生"]})
    ['livelihood', 'investment', 'none']
    """
    from policytopics.themes import keyword_theme_shares

    theme_ids = list(keywords)
    if not theme_ids:
        return [NONE] * len(token_lists)
    shares = keyword_theme_shares(token_lists, keywords)
    # the last column is the no-hit column; np.argmax gives ties to the first theme
    return [theme_ids[int(np.argmax(row[:-1]))] if row[-1] < 1.0 else NONE for row in shares]


def method_labels(run: RunFolder) -> dict[str, dict[str, str]]:
    """The labels of each method of :data:`METHODS`, unit_id -> label as the method gives it.

    ``run``: units.csv ``theme``; ``keyword_count``: :func:`keyword_count_labels`;
    ``keyword_mixing``: ``themes.topic_theme_shares`` of the unit × topic matrix combined
    with ``themes.keyword_theme_shares`` (``combine_theme_shares``, weight 0.5), then
    ``themes.dominant_themes`` with a minimum share of 0.3.

    Parameters
    ----------
    run : RunFolder
        A run folder (:func:`load_run_folder`).

    Returns
    -------
    dict of str to dict of str to str
        Method key to its labels (``unassigned`` etc. are left as they are).

    Examples
    --------
    >>> labels = method_labels(load_run_folder("results/default"))  # doctest: +SKIP
    >>> list(labels)  # doctest: +SKIP
    ['run', 'keyword_count', 'keyword_mixing']
    """
    from policytopics.themes import combine_theme_shares, dominant_themes, keyword_theme_shares, topic_theme_shares

    ids = list(run.theme_ids)
    unit_ids = [unit.unit_id for unit in run.units]
    keyword_shares = keyword_theme_shares(run.tokens, run.keywords)
    model_shares = topic_theme_shares(run.unit_topic, list(run.topic_themes), ids)
    combined = combine_theme_shares(model_shares, keyword_shares, MIXING_KEYWORD_WEIGHT)
    return {
        "run": {unit.unit_id: unit.theme for unit in run.units},
        "keyword_count": dict(zip(unit_ids, keyword_count_labels(run.tokens, run.keywords))),
        "keyword_mixing": dict(zip(unit_ids, dominant_themes(combined, ids, MIXING_MIN_SHARE))),
    }


def wilson_interval(successes: int, trials: int, confidence: float = CONFIDENCE) -> tuple[float, float] | None:
    """The Wilson score interval of a proportion (``statsmodels`` ``proportion_confint``).

    Parameters
    ----------
    successes : int
        Number of successes.
    trials : int
        Number of trials.
    confidence : float
        Confidence level.

    Returns
    -------
    tuple of float, or None
        ``(low, high)``; ``None`` when ``trials`` is 0.

    Examples
    --------
    >>> [round(bound, 4) for bound in wilson_interval(8, 10)]
    [0.4902, 0.9433]
    """
    if trials == 0:
        return None
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(successes, trials, alpha=1 - confidence, method="wilson")
    return float(low), float(high)


def _confusions(truth: np.ndarray, predicted: np.ndarray, size: int, resamples: np.ndarray) -> np.ndarray:
    """Confusion matrices (rows: truth) of every resample of row indices: resamples × size × size."""
    out = np.empty((len(resamples), size, size), dtype=np.int64)
    chunk = max(1, 2_000_000 // max(1, resamples.shape[1]))
    for start in range(0, len(resamples), chunk):
        block = resamples[start:start + chunk]
        cells = truth[block] * size + predicted[block] + (np.arange(len(block)) * size * size)[:, None]
        out[start:start + chunk] = np.bincount(cells.ravel(), minlength=len(block) * size * size).reshape(-1, size, size)
    return out


def _macro_f1_and_kappa(confusions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Macro-F1 (over the categories with hand labels) and kappa of confusion matrices."""
    tp = np.diagonal(confusions, axis1=1, axis2=2).astype(float)
    support = confusions.sum(axis=2).astype(float)
    predicted = confusions.sum(axis=1).astype(float)
    n = support.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(support + predicted > 0, 2 * tp / (support + predicted), 0.0)
        present = support > 0
        macro = (f1 * present).sum(axis=1) / present.sum(axis=1)
        observed = tp.sum(axis=1) / n
        expected = (support * predicted).sum(axis=1) / (n * n)
        kappa = np.where(expected < 1.0, (observed - expected) / (1.0 - expected), np.nan)
    return macro, kappa


def _percentile_interval(values: np.ndarray, confidence: float) -> list[float] | None:
    values = values[np.isfinite(values)]
    if not len(values):
        return None
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return [float(low), float(high)]


def agreement_statistics(
    truth: Sequence[str],
    predicted: Sequence[str],
    categories: Sequence[str],
    resamples: np.ndarray,
    confidence: float = CONFIDENCE,
) -> dict[str, Any]:
    """Agreement of predicted categories with hand labels, with intervals.

    Parameters
    ----------
    truth, predicted : sequence of str
        The hand label and the prediction of each unit, both already categories (theme ids
        or ``none``; :func:`as_category`).
    categories : sequence of str
        Every category, in report order (themes, then ``none``).
    resamples : numpy.ndarray
        Bootstrap resamples × units: row indices into ``truth`` (the same for every method,
        so that their intervals are comparable).
    confidence : float
        Confidence level of every interval.

    Returns
    -------
    dict
        ``n``, ``correct``, ``accuracy`` and ``accuracy_ci`` (Wilson); ``macro_f1`` (mean F1
        over the categories present in the hand labels, listed in
        ``macro_f1_categories``; in a resample, over those present in the resample) and
        ``kappa`` (Cohen's), each with a percentile bootstrap ``_ci`` (resamples where kappa
        is undefined are left out); ``per_category``: category to ``support``,
        ``predicted``, ``precision``/``recall`` with Wilson ``_ci``, and ``f1`` (``None``
        where undefined); ``confusion``: hand label to prediction to count.

    Examples
    --------
    >>> stats = agreement_statistics(["a", "a", "b", "none"], ["a", "b", "b", "none"], ["a", "b", "none"],
    ...                              np.array([[0, 1, 2, 3], [0, 0, 2, 3]]))
    >>> stats["accuracy"], round(stats["macro_f1"], 3), stats["confusion"]["a"]
    (0.75, 0.778, {'a': 1, 'b': 1, 'none': 0})
    """
    index = {category: i for i, category in enumerate(categories)}
    t = np.array([index[label] for label in truth], dtype=np.int64)
    p = np.array([index[label] for label in predicted], dtype=np.int64)
    size, n = len(categories), len(t)
    confusion = _confusions(t, p, size, np.arange(n)[None, :])[0]
    macro, kappa = _macro_f1_and_kappa(confusion[None])
    boot_macro, boot_kappa = _macro_f1_and_kappa(_confusions(t, p, size, resamples))
    correct = int(np.trace(confusion))
    per_category = {}
    for i, category in enumerate(categories):
        tp, support, guessed = int(confusion[i, i]), int(confusion[i].sum()), int(confusion[:, i].sum())
        per_category[category] = {
            "support": support,
            "predicted": guessed,
            "precision": tp / guessed if guessed else None,
            "precision_ci": wilson_interval(tp, guessed, confidence),
            "recall": tp / support if support else None,
            "recall_ci": wilson_interval(tp, support, confidence),
            "f1": 2 * tp / (support + guessed) if support + guessed else None,
        }
    return {
        "n": n,
        "correct": correct,
        "accuracy": correct / n if n else None,
        "accuracy_ci": wilson_interval(correct, n, confidence),
        "macro_f1": float(macro[0]),
        "macro_f1_ci": _percentile_interval(boot_macro, confidence),
        "macro_f1_categories": [c for i, c in enumerate(categories) if confusion[i].sum()],
        "kappa": float(kappa[0]) if np.isfinite(kappa[0]) else None,
        "kappa_ci": _percentile_interval(boot_kappa, confidence),
        "per_category": per_category,
        "confusion": {
            category: {column: int(confusion[i, j]) for j, column in enumerate(categories)}
            for i, category in enumerate(categories)
        },
    }


def mcnemar_test(truth: Sequence[str], first: Sequence[str], second: Sequence[str]) -> dict[str, Any]:
    """McNemar's exact test of two methods' correct/incorrect pairs on the same units.

    Parameters
    ----------
    truth : sequence of str
        The hand label of each unit.
    first, second : sequence of str
        Each method's prediction of the same units (compared with ``truth`` as they are).

    Returns
    -------
    dict
        ``both_correct``, ``b`` (``first`` right, ``second`` wrong), ``c`` (the reverse),
        ``both_wrong``, and ``p_value`` of the exact (binomial) test
        (``statsmodels.stats.contingency_tables.mcnemar(exact=True)``).

    Examples
    --------
    >>> truth = ["a"] * 25
    >>> first = ["a"] * 10 + ["a"] * 2 + ["b"] * 8 + ["b"] * 5
    >>> second = ["a"] * 10 + ["b"] * 2 + ["a"] * 8 + ["b"] * 5
    >>> test = mcnemar_test(truth, first, second)
    >>> test["b"], test["c"], test["p_value"]
    (2, 8, 0.109375)
    """
    from statsmodels.stats.contingency_tables import mcnemar

    pairs = Counter((f == t, s == t) for t, f, s in zip(truth, first, second))
    table = [[pairs[True, True], pairs[True, False]], [pairs[False, True], pairs[False, False]]]
    return {
        "both_correct": table[0][0],
        "b": table[0][1],
        "c": table[1][0],
        "both_wrong": table[1][1],
        "p_value": float(mcnemar(table, exact=True).pvalue),
    }


def validation_results(
    run_dir: str | Path,
    labels_path: str | Path,
    *,
    split: str | None = None,
    seed: int | None = None,
    resamples: int = RESAMPLES,
) -> dict[str, Any]:
    """Every figure of the validation of a run folder against hand labels, JSON-able.

    Parameters
    ----------
    run_dir : str or Path
        A run folder written by ``run`` (:func:`load_run_folder`).
    labels_path : str or Path
        The hand labels (:func:`load_labels`).
    split : str, optional
        Keep only the labels of this split.
    seed : int, optional
        Seed of the bootstrap; the run's ``seed`` (``config.resolved.yaml``) when omitted.
    resamples : int
        Bootstrap resamples of the labelled units.

    Returns
    -------
    dict
        ``run`` (path, config hash), ``labels`` (path, SHA-256, split, ``n``, hand labels
        counted as ``none``), ``seed``, ``resamples``, ``confidence``, ``categories``
        (themes, then ``none``), ``methods`` (key to ``title``, the
        :func:`agreement_statistics` and the predictions counted as ``none``) and
        ``comparisons`` (other method to :func:`mcnemar_test` of the run's labels against it).

    Raises
    ------
    RunFolderError
        For a run folder that cannot be read, or no seed (neither ``seed`` nor the run's).
    LabelsError
        For a labels file that cannot be used.

    Examples
    --------
    >>> results = validation_results("results/default", "tests/data/labels/seed_units.csv")  # doctest: +SKIP
    >>> round(results["methods"]["run"]["accuracy"], 3)  # doctest: +SKIP
    0.95
    """
    run = load_run_folder(run_dir)
    labels = load_labels(labels_path, run.units, split=split)
    if seed is None:
        seed = run.seed
    if seed is None:
        raise RunFolderError(f"{run.path}: no seed in config.resolved.yaml; give one with --seed")
    ids = list(run.theme_ids)
    categories = [*ids, NONE]
    unit_ids = [unit_id for unit_id, _ in labels]
    truth = [as_category(theme, ids) for _, theme in labels]
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(labels), size=(resamples, len(labels)))
    raw = method_labels(run)
    predictions = {key: [raw[key][unit_id] for unit_id in unit_ids] for key in METHODS}
    methods = {}
    for key, title in METHODS.items():
        statistics = agreement_statistics(truth, [as_category(label, ids) for label in predictions[key]], categories, draws)
        statistics["title"] = title
        statistics["non_theme_predictions"] = dict(Counter(label for label in predictions[key] if label not in ids))
        methods[key] = statistics
    truth_raw = [theme for _, theme in labels]
    categorised = {key: [as_category(label, ids) for label in values] for key, values in predictions.items()}
    comparisons = {key: mcnemar_test(truth, categorised["run"], categorised[key]) for key in METHODS if key != "run"}
    return {
        "run": {"path": Path(run_dir).as_posix(), "config_sha256": run.config_sha256},
        "labels": {
            "path": Path(labels_path).as_posix(),
            "sha256": hashlib.sha256(Path(labels_path).read_bytes()).hexdigest(),
            "split": split,
            "n": len(labels),
            "non_theme_labels": dict(Counter(theme for theme in truth_raw if theme not in ids)),
        },
        "seed": seed,
        "resamples": resamples,
        "confidence": CONFIDENCE,
        "categories": categories,
        "methods": methods,
        "comparisons": comparisons,
    }


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return None if not math.isfinite(value) else round(value, 6) + 0.0  # + 0.0: no "-0.0"
    if isinstance(value, Mapping):
        return {str(key): _rounded(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_rounded(item) for item in value]
    return value


def validation_json(results: Mapping[str, Any]) -> str:
    """The results as JSON text: sorted keys, floats rounded to 6 places, a final newline.

    Parameters
    ----------
    results : mapping
        :func:`validation_results`.

    Returns
    -------
    str
        Indented UTF-8 JSON; NaN is written as ``null``.

    Examples
    --------
    >>> print(validation_json({"seed": 7, "kappa": 0.12345678, "ci": (-1e-9, 0.5)}), end="")
    {
      "ci": [
        0.0,
        0.5
      ],
      "kappa": 0.123457,
      "seed": 7
    }
    """
    return json.dumps(_rounded(results), ensure_ascii=False, indent=2, sort_keys=True, allow_nan=False) + "\n"


def _number(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _interval(bounds: Sequence[float] | None) -> str:
    return "[-, -]" if bounds is None else f"[{bounds[0]:.3f}, {bounds[1]:.3f}]"


def _p_value(value: float) -> str:
    return f"{value:.4f}" if value >= 1e-4 else f"{value:.1e}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], indent: str = "  ") -> list[str]:
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = []
    for row in [header, *rows]:
        cells = [str(row[0]).ljust(widths[0])] + [str(cell).rjust(width) for cell, width in zip(row[1:], widths[1:])]
        lines.append((indent + "  ".join(cells)).rstrip())
    return lines


def _counts(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{label} {count}" for label, count in sorted(counts.items()))


def format_validation(results: Mapping[str, Any]) -> str:
    """The results as text for the terminal: one block per method, then the comparisons.

    Parameters
    ----------
    results : mapping
        :func:`validation_results`.

    Returns
    -------
    str
        The report, without a final newline.

    Examples
    --------
    >>> print(format_validation(validation_results("results/default", "tests/data/labels/seed_units.csv")))  # doctest: +SKIP
    """
    labels, categories = results["labels"], results["categories"]
    level = f"{results['confidence'] * 100:g}%"
    lines = [
        f"validation of {results['run']['path']} against {labels['path']}"
        + (f" (split {labels['split']})" if labels["split"] is not None else ""),
        f"{labels['n']} labelled units; {level} intervals: Wilson for proportions, percentile bootstrap "
        f"({results['resamples']} resamples, seed {results['seed']}) for macro-F1 and kappa",
    ]
    if labels["non_theme_labels"]:
        lines.append(f"hand labels that are not a theme id, counted as none: {_counts(labels['non_theme_labels'])}")
    for key, title in METHODS.items():
        stats = results["methods"][key]
        lines += [
            "",
            f"== {title} ==",
            f"  accuracy  {_number(stats['accuracy'])} {_interval(stats['accuracy_ci'])}"
            f"  ({stats['correct']} of {stats['n']})",
            f"  macro-F1  {_number(stats['macro_f1'])} {_interval(stats['macro_f1_ci'])}"
            f"  (over {len(stats['macro_f1_categories'])} categories with hand labels)",
            f"  Cohen's kappa {_number(stats['kappa'])} {_interval(stats['kappa_ci'])}",
        ]
        if stats["non_theme_predictions"]:
            lines.append(f"  predictions that are not a theme id, counted as none: {_counts(stats['non_theme_predictions'])}")
        rows = [
            [category, str(row["support"]), str(row["predicted"]), _number(row["precision"]), _interval(row["precision_ci"]),
             _number(row["recall"]), _interval(row["recall_ci"]), _number(row["f1"])]
            for category, row in stats["per_category"].items()
        ]
        lines += [""] + _table(
            ["category", "support", "predicted", "precision", f"{level} CI", "recall", f"{level} CI", "F1"], rows
        )
        confusion = stats["confusion"]
        lines += ["", "  confusion (rows: hand label, columns: predicted)"] + _table(
            ["", *categories], [[category, *(str(confusion[category][c]) for c in categories)] for category in categories]
        )
    lines += [
        "",
        "== paired comparisons with the run's labels (McNemar's exact test) ==",
        "  b: units the run's labels get right and the other method wrong; c: the reverse",
    ]
    lines += _table(
        ["method", "b", "c", "p-value"],
        [[key, str(test["b"]), str(test["c"]), _p_value(test["p_value"])] for key, test in results["comparisons"].items()],
    )
    return "\n".join(lines)


def validate_run(
    run_dir: str | Path,
    labels_path: str | Path,
    *,
    split: str | None = None,
    seed: int | None = None,
    out: str | Path | None = None,
) -> str:
    """Validate a run folder against hand labels: the text report, and the JSON in ``out``.

    What ``python -m policytopics validate RUN_DIR LABELS.csv`` calls. Nothing is re-run.

    Parameters
    ----------
    run_dir : str or Path
        A run folder written by ``run``, e.g. ``results/default``.
    labels_path : str or Path
        The hand labels (:func:`load_labels`).
    split : str, optional
        Keep only the labels of this split.
    seed : int, optional
        Seed of the bootstrap (default: the run's ``seed``).
    out : str or Path, optional
        Write every figure as JSON (:func:`validation_json`) to this file.

    Returns
    -------
    str
        The report (:func:`format_validation`).

    Raises
    ------
    RunFolderError
        For a run folder that cannot be read (or a YAML config given instead).
    LabelsError
        For a labels file that cannot be used.

    Examples
    --------
    >>> print(validate_run("results/default", "tests/data/labels/seed_units.csv", out="validation.json"))  # doctest: +SKIP
    """
    results = validation_results(run_dir, labels_path, split=split, seed=seed)
    if out is not None:
        with open(out, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(validation_json(results))
    return format_validation(results)
