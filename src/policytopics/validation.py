"""Validation of a run's unit themes against hand-coded labels, read from its run folder.

For the run's labels and two keyword baselines: accuracy with a Wilson interval, macro-F1
and Cohen's kappa with bootstrap intervals, per-category precision, recall and F1, the
confusion table, and McNemar's exact test of the run's labels against each baseline; as text
and as JSON. Nothing is re-run. The parts: :mod:`policytopics.validation_inputs` (reading),
:mod:`policytopics.validation_methods` (the methods), :mod:`policytopics.validation_stats`
(the statistics) and :mod:`policytopics.validation_report` (text and JSON).

In: a run folder and a CSV of hand labels. Out: the figures above, as text or JSON.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from policytopics.validation_inputs import (
    RUN_FILES,
    LabelsError,
    RunFolder,
    RunFolderError,
    RunUnit,
    load_labels,
    load_run_folder,
)
from policytopics.validation_methods import (
    METHODS,
    MIXING_KEYWORD_WEIGHT,
    MIXING_MIN_SHARE,
    NONE,
    as_category,
    keyword_count_labels,
    method_labels,
)
from policytopics.validation_report import format_validation, validation_json
from policytopics.validation_coders import coded_labels
from policytopics.validation_stats import (
    CONFIDENCE,
    agreement_statistics,
    mcnemar_test,
    weighted_accuracy,
    wilson_interval,
)

__all__ = [
    "CONFIDENCE",
    "METHODS",
    "MIXING_KEYWORD_WEIGHT",
    "MIXING_MIN_SHARE",
    "NONE",
    "RESAMPLES",
    "RUN_FILES",
    "LabelsError",
    "RunFolder",
    "RunFolderError",
    "RunUnit",
    "agreement_statistics",
    "as_category",
    "format_validation",
    "keyword_count_labels",
    "load_labels",
    "load_run_folder",
    "mcnemar_test",
    "method_labels",
    "validate_run",
    "validation_json",
    "validation_results",
    "wilson_interval",
]

#: Bootstrap resamples for the intervals of macro-F1 and kappa.
RESAMPLES = 2000


def validation_results(
    run_dir: str | Path,
    labels_path: str | Path,
    *,
    split: str | None = None,
    seed: int | None = None,
    resamples: int = RESAMPLES,
    coders: Sequence[str | Path] = (),
    adjudication: str | Path | None = None,
    disagreements_out: str | Path | None = None,
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
    coders : sequence of str or Path
        Two or more coders' sheets: ``labels_path`` is then the sample's key (``sample.csv``
        of ``python -m policytopics sample``) and the labels are the coders' common answers
        or the adjudicated ones (:func:`policytopics.validation_coders.coded_labels`); the
        results gain ``coders`` (their agreement) and, for a weighted (stratified) sample,
        every method's ``weighted_accuracy`` with its bootstrap interval.
    adjudication : str or Path, optional
        With ``coders``: the filled-in adjudication sheet.
    disagreements_out : str or Path, optional
        With ``coders``: write the disagreements there, as an adjudication sheet.

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
    if seed is None:
        seed = run.seed
    if seed is None:
        raise RunFolderError(f"{run.path}: no seed in config.resolved.yaml; give one with --seed")
    ids = list(run.theme_ids)
    categories = [*ids, NONE]
    coded = None
    if coders:
        coded = coded_labels(labels_path, coders, categories, adjudication=adjudication,
                             disagreements_out=disagreements_out, split=split, seed=seed)
        known = {unit.unit_id for unit in run.units}
        missing = [unit_id for unit_id, _ in coded.labels if unit_id not in known]
        if missing:
            raise LabelsError(f"{labels_path}: units not in the run {run.path}: {', '.join(missing[:5])}")
        labels = coded.labels
        if not labels:
            raise LabelsError(f"{labels_path}: no item has a label yet (the coders disagree on all; adjudicate them)")
    else:
        labels = load_labels(labels_path, run.units, split=split)
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
        if coded is not None and any(weight != 1.0 for weight in coded.weights.values()):
            weights = np.array([coded.weights[unit_id] for unit_id in unit_ids])
            correct = np.array([t == as_category(p, ids) for t, p in zip(truth, predictions[key])])
            statistics.update(weighted_accuracy(correct, weights, draws))
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
        **({"coders": coded.agreement} if coded is not None else {}),
        **({"intrusion": coded.intrusion} if coded is not None and coded.intrusion is not None else {}),
    }


def validate_run(
    run_dir: str | Path,
    labels_path: str | Path,
    *,
    split: str | None = None,
    seed: int | None = None,
    out: str | Path | None = None,
    coders: Sequence[str | Path] = (),
    adjudication: str | Path | None = None,
    disagreements_out: str | Path | None = None,
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
    coders, adjudication, disagreements_out
        Two or more coders' sheets, the adjudication sheet, and where to write the
        disagreements (see :func:`validation_results`).

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
    results = validation_results(run_dir, labels_path, split=split, seed=seed, coders=coders,
                                 adjudication=adjudication, disagreements_out=disagreements_out)
    if out is not None:
        with open(out, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(validation_json(results))
    return format_validation(results)
