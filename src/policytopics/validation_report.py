"""The validation results as text for the terminal and as JSON (same bytes for the same results)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from policytopics.validation_methods import METHODS

__all__ = ["format_validation", "validation_json"]


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
        :func:`~policytopics.validation.validation_results`.

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
        :func:`~policytopics.validation.validation_results`.

    Returns
    -------
    str
        The report, without a final newline.

    Examples
    --------
    >>> from policytopics.validation import validation_results
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
    coders = results.get("coders")
    if coders:
        lines += ["", "== agreement between coders ==",
                  f"  coders: {', '.join(coders['coders'])}; {coders['n_items']} items answered by all"
                  f" ({', '.join(f'{c} missed {n}' for c, n in coders['missed'].items() if n) or 'none missed'})",
                  f"  agreement {_number(coders['agreement'])}; Krippendorff's alpha (nominal) {_number(coders['alpha'])}"
                  f" {_interval(coders['alpha_interval'])}"]
        lines += [f"  Cohen's kappa {' vs '.join(pair['coders'])}: {_number(pair['kappa'])}" for pair in coders["kappa"]]
        lines.append(f"  disagreements {len(coders['disagreements'])}: adjudicated {len(coders['adjudicated'])}, "
                     f"unresolved {len(coders['unresolved'])} (an unresolved item is left out of the figures below)")
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
        if "weighted_accuracy" in stats:
            lines.append(f"  accuracy re-weighted to the corpus (sampling weights) {_number(stats['weighted_accuracy'])} "
                         f"{_interval(stats['weighted_accuracy_ci'])}")
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
    intrusion = results.get("intrusion")
    if intrusion:
        words, topics = intrusion["word_intrusion"], intrusion["topic_intrusion"]
        lines += ["", f"== topic validity (intrusion tests, {intrusion['n_coders']} coders) ==",
                  f"  word intrusion: model precision {_number(words['model_precision'])} over {words['n_answered']} of "
                  f"{words['n_items']} items (the share of answers that find the intruder; chance 1/6)",
                  f"  topic intrusion: mean topic log odds {_number(topics['mean_log_odds'])} over {topics['n_answered']} of "
                  f"{topics['n_items']} items (0: the intruder always found; more negative: worse)"]
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
