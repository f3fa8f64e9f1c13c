"""Agreement statistics of predicted labels with hand labels, and paired tests of two methods.

Wilson intervals and McNemar's exact test come from statsmodels. Macro-F1 and Cohen's kappa
come from the confusion matrices of all bootstrap resamples at once (one ``bincount``, for the
percentile intervals); tests/test_validation.py checks them against scikit-learn.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["CONFIDENCE", "agreement_statistics", "mcnemar_test", "wilson_interval"]

#: Confidence level of every interval.
CONFIDENCE = 0.95


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
        or ``none``; :func:`~policytopics.validation_methods.as_category`).
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


def weighted_accuracy(correct: np.ndarray, weights: np.ndarray, resamples: np.ndarray,
                      confidence: float = CONFIDENCE) -> dict[str, Any]:
    """Accuracy re-weighted to the population a stratified sample was drawn from.

    Each unit counts with its sampling weight (its stratum's size over its draws: the
    Horvitz-Thompson ratio estimator), so over-sampled rare themes do not inflate or deflate
    the corpus-wide accuracy; the interval is the percentile bootstrap over the same
    resamples as the other figures.

    Parameters
    ----------
    correct : numpy.ndarray of bool
        Per labelled unit, whether the method got it right.
    weights : numpy.ndarray
        Per labelled unit, its sampling weight.
    resamples : numpy.ndarray
        Bootstrap resamples × units (row indices).
    confidence : float
        Level of the interval.

    Returns
    -------
    dict
        ``weighted_accuracy`` and ``weighted_accuracy_ci``.

    Examples
    --------
    >>> result = weighted_accuracy(np.array([True, False]), np.array([3.0, 1.0]), np.array([[0, 1], [0, 0], [1, 1]]))
    >>> result["weighted_accuracy"]
    0.75
    """
    correct = np.asarray(correct, dtype=float)
    weights = np.asarray(weights, dtype=float)
    value = float(weights @ correct / weights.sum())
    picked = weights[resamples]
    values = (picked * correct[resamples]).sum(axis=1) / picked.sum(axis=1)
    return {"weighted_accuracy": value, "weighted_accuracy_ci": _percentile_interval(values, confidence)}


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
