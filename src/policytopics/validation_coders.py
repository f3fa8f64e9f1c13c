"""Hand labels from two or more coders' sheets: agreement between them, the disagreements to
adjudicate, and one label per unit with its sampling weight.

:func:`coded_labels` reads the sample's key (``sample.csv`` from ``python -m policytopics
sample``: ``sample_id``, ``unit_id``, ``split``, ``weight``) and every coder's answers
(:func:`policytopics.intrusion.read_answers`: the coding page's CSV or a hand-filled
sheet), measures their agreement (:func:`policytopics.coder_agreement.coder_agreement`:
Krippendorff's alpha, Cohen's kappa per pair) and resolves each unit's label: the coders'
common answer, or the adjudicator's (``--adjudication``); a unit still in dispute is left out
and counted, never guessed.

In: the key, the coders' sheets, an adjudication sheet. Out: ``(unit_id, label)`` pairs,
their weights, and the agreement figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from policytopics import artifacts
from policytopics.validation_inputs import LabelsError, read_coded_csv

__all__ = ["CodedLabels", "coded_labels"]


@dataclass(frozen=True)
class CodedLabels:
    """What :func:`coded_labels` returns.

    Attributes
    ----------
    labels : list of (str, str)
        ``(unit_id, label)`` of every resolved unit of the split, in key order.
    weights : dict of str to float
        Each labelled unit's sampling weight (1 for a uniform sample).
    agreement : dict
        :func:`policytopics.coder_agreement.coder_agreement` over the split's items, plus
        ``unresolved`` (items left out) and ``adjudicated`` (items the adjudicator decided).
    intrusion : dict or None
        With an ``intrusion_key.csv`` beside the key: the coders' word- and topic-intrusion
        answers scored (:func:`policytopics.intrusion.score_intrusion`).
    """

    labels: list[tuple[str, str]]
    weights: dict[str, float]
    agreement: dict[str, Any]
    intrusion: dict[str, Any] | None = None


def _read_rows(path: Path) -> list[dict[str, str]]:
    return [row for _, row in read_coded_csv(path, "sheet")[1]]


def _item_of(row: dict[str, str]) -> str:
    """The item an adjudication row decides (``item_id``; ``sample_id`` or ``case`` in older sheets)."""
    return (row.get("item_id") or row.get("sample_id") or row.get("case") or "").strip()


def coded_labels(
    key_path: str | Path,
    coder_paths: Sequence[str | Path],
    categories: Sequence[str],
    *,
    adjudication: str | Path | None = None,
    disagreements_out: str | Path | None = None,
    split: str | None = None,
    seed: int = 0,
) -> CodedLabels:
    """The hand labels of a double- (or more-) coded sample, with the coders' agreement.

    Parameters
    ----------
    key_path : str or Path
        The sample's key, ``sample.csv`` (``sample_id``, ``unit_id``; ``split`` and
        ``weight`` optional).
    coder_paths : sequence of str or Path
        Two or more coders' answer sheets; a coder is named by its file's stem.
    categories : sequence of str
        The categories a passage may get (theme ids, then ``none``).
    adjudication : str or Path, optional
        The adjudication sheet (the disagreements with ``adjudicated`` filled in).
    disagreements_out : str or Path, optional
        Write the disagreements there, as an adjudication sheet to fill in.
    split : str, optional
        Keep only the items of this split of the key.
    seed : int
        Seed of the bootstrap interval of alpha.

    Returns
    -------
    CodedLabels

    Raises
    ------
    LabelsError
        Fewer than two coders, a missing file or column, an answer that is not a category,
        or an item of a sheet that the key does not have.

    Examples
    --------
    >>> coded = coded_labels("sample.csv", ["coder_a.csv", "coder_b.csv"], ["investment", "none"])  # doctest: +SKIP
    >>> coded.agreement["alpha"]  # doctest: +SKIP
    0.93
    """
    from policytopics.coder_agreement import adjudicated_labels, coder_agreement, disagreement_rows
    from policytopics.intrusion import read_answers, score_intrusion

    if len(coder_paths) < 2:
        raise LabelsError("validate: --coder needs two or more coders' sheets (agreement needs a second coder)")
    key_path = Path(key_path)
    key = _read_rows(key_path)
    if not key or not {"sample_id", "unit_id"} <= set(key[0]):
        raise LabelsError(f"{key_path}: expected the sample's key with columns sample_id and unit_id (sample.csv)")
    sample_ids = {row["sample_id"] for row in key}  # every item of the sample, whatever the split
    if split is not None:
        key = [row for row in key if (row.get("split") or "") == split]
        if not key:
            raise LabelsError(f"{key_path}: no item has split '{split}'")
    items = {row["sample_id"]: row for row in key}
    answers: dict[str, list[dict[str, Any]]] = {}
    tests: dict[str, list[dict[str, Any]]] = {}  # the intrusion answers
    for path in map(Path, coder_paths):
        name = path.stem
        if name in answers:
            raise LabelsError(f"validate: two coders' sheets are named {name}; rename one")
        try:
            every = read_answers(path)
        except ValueError as error:
            raise LabelsError(f"{path}: {error}") from None
        rows = [row for row in every if row.get("kind", "passage") == "passage"]
        tests[name] = [row for row in every if row.get("kind", "passage") != "passage"]
        unknown = sorted({row["item_id"] for row in rows} - sample_ids)
        if unknown:
            raise LabelsError(f"{path}: items not in {key_path}: {', '.join(unknown[:5])}")
        answers[name] = [row for row in rows if row["item_id"] in items]
    adjudication_rows = _read_rows(Path(adjudication)) if adjudication is not None else []
    # the sheet covers the whole sample; a split keeps its own items (an item of no sample is an error)
    stray = sorted({_item_of(row) for row in adjudication_rows} - sample_ids)
    if stray:
        raise LabelsError(f"{adjudication}: items not in {key_path}: {', '.join(stray[:5])}")
    adjudication_rows = [row for row in adjudication_rows if _item_of(row) in items]
    try:
        agreement = coder_agreement(answers, categories, random_state=seed)
        resolved, unresolved = adjudicated_labels(answers, adjudication_rows, categories)
        to_adjudicate = disagreement_rows(answers, categories)
    except ValueError as error:
        raise LabelsError(f"validate: {error}") from None
    if disagreements_out is not None and to_adjudicate:
        artifacts.write_csv(disagreements_out, to_adjudicate, list(to_adjudicate[0]))
    adjudicated = sorted({_item_of(row) for row in adjudication_rows if (row.get("adjudicated") or "").strip()})
    agreement = {**agreement, "unresolved": unresolved, "adjudicated": adjudicated}
    labels = [(items[item]["unit_id"], label) for item, label in resolved.items() if item in items]
    weights = {items[item]["unit_id"]: float(items[item].get("weight") or 1.0) for item in resolved if item in items}
    intrusion = None
    key_file = key_path.parent / "intrusion_key.csv"
    if key_file.is_file() and any(tests.values()):
        try:
            intrusion = score_intrusion(_read_rows(key_file), tests)
        except ValueError as error:
            raise LabelsError(f"{key_file}: {error}") from None
    return CodedLabels(labels, weights, agreement, intrusion)
