"""Validation of unit themes against hand-coded labels.

In: a CSV of hand labels (``unit_id``, ``theme``, optionally ``snippet``: the start of the
unit's text, used when an id is not found, e.g. after a change in segmentation) and the
units with their predicted themes. Out: accuracy, Cohen's kappa, per-theme precision,
recall and F1, and the confusion table (rows: hand label, columns: prediction).
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from policytopics.errors import PolicytopicsError
from policytopics.records import Unit
from policytopics.themes import UNASSIGNED


class LabelsError(PolicytopicsError):
    """A labels file that cannot be used."""


@dataclass(frozen=True)
class ValidationReport:
    """Agreement of predicted unit themes with hand labels."""

    n_labels: int
    n_matched: int
    accuracy: float
    kappa: float
    per_theme: pd.DataFrame
    confusion: pd.DataFrame

    def format(self, title: str) -> str:
        """The report as text for the terminal."""
        lines = [
            f"{title}: {self.n_matched} of {self.n_labels} labelled units matched",
            f"  accuracy {self.accuracy:.3f}   Cohen's kappa {self.kappa:.3f}",
            "",
            self.per_theme.to_string(float_format=lambda v: f"{v:.3f}"),
            "",
            "confusion (rows: hand label, columns: predicted)",
            self.confusion.to_string(),
        ]
        return "\n".join(lines)


def load_labels(path: str | Path, units: Sequence[Unit]) -> list[tuple[str, str]]:
    """Hand labels as (unit_id, theme), matched to ``units`` by id, else by text snippet.

    A label whose id is unknown and whose snippet starts no unit (or several) is an error
    naming the row: a validation set that silently shrinks would mislead.

    Examples
    --------
    >>> labels = load_labels("tests/data/labels/seed_units.csv", result.units)  # doctest: +SKIP
    """
    path = Path(path)
    if not path.is_file():
        raise LabelsError(f"labels file not found: {path}")
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or "theme" not in rows[0] or not ({"unit_id", "snippet"} & set(rows[0])):
        raise LabelsError(f"{path}: expected columns unit_id (or snippet) and theme")
    by_id = {unit.unit_id: unit for unit in units}
    labels = []
    for number, row in enumerate(rows, start=2):
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
        labels.append((unit_id, row["theme"].strip()))
    return labels


def evaluate_labels(predicted: Mapping[str, str], labels: Sequence[tuple[str, str]], theme_ids: Sequence[str]) -> ValidationReport:
    """Compare ``predicted`` (unit_id -> theme) with hand ``labels``.

    Examples
    --------
    >>> report = evaluate_labels({"u1": "a", "u2": "b"}, [("u1", "a"), ("u2", "a")], ["a", "b"])
    >>> report.accuracy
    0.5
    """
    from sklearn.metrics import cohen_kappa_score, precision_recall_fscore_support

    pairs = [(theme, predicted[unit_id]) for unit_id, theme in labels if unit_id in predicted]
    truth = [t for t, _ in pairs]
    guess = [g for _, g in pairs]
    order = list(theme_ids) + [UNASSIGNED]
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, guess, labels=list(theme_ids), zero_division=0
    )
    per_theme = pd.DataFrame(
        {"precision": precision, "recall": recall, "f1": f1, "support": support}, index=list(theme_ids)
    )
    per_theme.index.name = "theme"
    confusion = pd.crosstab(
        pd.Categorical(truth, categories=order), pd.Categorical(guess, categories=order), dropna=False
    )
    confusion.index.name, confusion.columns.name = "label", "predicted"
    accuracy = sum(t == g for t, g in pairs) / len(pairs) if pairs else float("nan")
    kappa = float(cohen_kappa_score(truth, guess)) if len(set(truth) | set(guess)) > 1 else float("nan")
    return ValidationReport(len(labels), len(pairs), accuracy, kappa, per_theme, confusion)
