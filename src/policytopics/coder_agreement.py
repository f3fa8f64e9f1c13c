"""Agreement between two or more coders of passages, their disagreements, and adjudication.

:func:`coder_agreement` measures how far coders agree on the items they all answered:
Krippendorff's alpha (nominal; the ``krippendorff`` package) with a bootstrap interval over
items, Cohen's kappa for every pair of coders (scikit-learn) and raw agreement, and lists the
disagreements. :func:`disagreement_rows` gives the rows of an adjudication sheet
(``item_id,coder_<name>...,adjudicated,reason``); :func:`adjudicated_labels` turns the coders'
answers and that sheet into one label per item, leaving unresolved items out instead of
guessing.

In: each coder's answer rows (``item_id``, ``answer``; :func:`policytopics.intrusion.read_answers`)
and the categories (the codebook's theme ids, then ``none``). Out: plain dicts and lists.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["CONFIDENCE", "adjudicated_labels", "coder_agreement", "disagreement_rows"]

#: Confidence level of the bootstrap interval of alpha.
CONFIDENCE = 0.95


def _category_ids(categories: Sequence[str | Mapping[str, Any]]) -> list[str]:
    """Category ids from ids or from the coding page's category dicts (``{"id": ...}``)."""
    ids = [str(category["id"] if isinstance(category, Mapping) else category).strip() for category in categories]
    if not ids or any(not category for category in ids):
        raise ValueError("categories: give at least one non-empty category id")
    duplicates = sorted({category for category in ids if ids.count(category) > 1})
    if duplicates:
        raise ValueError(f"categories: {', '.join(duplicates)} listed twice")
    return ids


def _coder_answers(
    answers_by_coder: Mapping[str, Sequence[Mapping[str, Any]]], categories: Sequence[str] | None
) -> tuple[dict[str, dict[str, str]], list[str]]:
    """Each coder's non-empty passage answers by item id (checked), and all item ids in order.

    Rows of another kind than ``passage`` (intrusion items in the same file) are left out.
    The items come in the order they first appear, coder by coder.
    """
    if len(answers_by_coder) < 2:
        raise ValueError(f"coder agreement needs at least two coders, not {len(answers_by_coder)}")
    allowed = set(categories) if categories is not None else None
    answers: dict[str, dict[str, str]] = {}
    items: dict[str, None] = {}
    for coder, rows in answers_by_coder.items():
        if not str(coder).strip():
            raise ValueError("coder names must not be empty")
        found: dict[str, str] = {}
        for row in rows:
            if str(row.get("kind") or "passage").strip() != "passage":
                continue
            item_id = str(row.get("item_id") or "").strip()
            if not item_id:
                raise ValueError(f"coder {coder!r}: a row without item_id")
            if item_id in found:
                raise ValueError(f"coder {coder!r}: item {item_id} is answered twice")
            answer = str(row.get("answer", row.get("theme")) or "").strip()
            items.setdefault(item_id, None)
            if not answer:
                found.setdefault(item_id, "")
                continue
            if allowed is not None and answer not in allowed:
                raise ValueError(
                    f"coder {coder!r}: item {item_id}: answer {answer!r} is not a category "
                    f"({', '.join(categories or ())})"
                )
            found[item_id] = answer
        answers[str(coder)] = {item_id: answer for item_id, answer in found.items() if answer}
    return answers, list(items)


def _alpha(data: np.ndarray, domain: Sequence[int]) -> float | None:
    """Nominal Krippendorff's alpha of coders × items category indices; None where undefined."""
    import krippendorff

    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        value = float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal", value_domain=domain))
    return value if np.isfinite(value) else None


def coder_agreement(
    answers_by_coder: Mapping[str, Sequence[Mapping[str, Any]]],
    categories: Sequence[str | Mapping[str, Any]],
    *,
    n_resamples: int = 1000,
    random_state: int | None = 0,
    confidence: float = CONFIDENCE,
) -> dict[str, Any]:
    """Agreement of two or more coders on the passages they all answered.

    Parameters
    ----------
    answers_by_coder : mapping of str to sequence of dict
        Per coder (by name), the answer rows with ``item_id`` and ``answer`` (``theme`` in
        the older sheets); rows whose ``kind`` is not ``passage`` are left out, an empty
        answer counts as not answered.
    categories : sequence of str or of dict
        The category ids (or the coding page's categories, dicts with ``id``).
    n_resamples : int
        Bootstrap resamples of the items for the interval of alpha (0: no interval).
    random_state : int or None
        Seed of ``numpy.random.default_rng`` for the bootstrap.
    confidence : float
        Level of the percentile interval of alpha.

    Returns
    -------
    dict
        - ``coders``: the coder names; ``categories``: the category ids.
        - ``n_items``: the items every coder answered (all figures below are over them);
          ``n_items_total``: the items any coder answered.
        - ``missed``: per coder, how many of ``n_items_total`` it did not answer;
          ``missing_items``: per coder, their ids.
        - ``agreement``: share of items on which all coders gave the same answer.
        - ``alpha``: Krippendorff's alpha, nominal (``krippendorff.alpha``).
        - ``alpha_interval``: ``[low, high]``, the percentile interval of alpha over
          ``n_resamples`` resamples of the items with replacement (resamples where alpha is
          undefined are left out); ``alpha_resamples``: the number of resamples.
        - ``kappa``: per pair of coders, ``{"coders": [a, b], "kappa": ..., "agreement": ...}``
          (Cohen's kappa by scikit-learn's ``cohen_kappa_score`` and raw agreement).
        - ``disagreements``: ``{"item_id": ..., "answers": {coder: answer}}`` per item on
          which the coders differ, in item order.

        Statistics that are undefined (no items; every answer the same category) are None.

    Raises
    ------
    ValueError
        For fewer than two coders, an item answered twice by a coder, or an answer that is
        not a category (naming the coder and the item).

    Examples
    --------
    >>> a = [{"item_id": "s1", "answer": "x"}, {"item_id": "s2", "answer": "y"},
    ...      {"item_id": "s3", "answer": "y"}, {"item_id": "s4", "answer": "x"}]
    >>> b = [{"item_id": "s1", "answer": "x"}, {"item_id": "s2", "answer": "y"},
    ...      {"item_id": "s3", "answer": "x"}]
    >>> result = coder_agreement({"a": a, "b": b}, ["x", "y", "none"], n_resamples=0)
    >>> result["n_items"], result["missed"], round(result["alpha"], 4), round(result["kappa"][0]["kappa"], 4)
    (3, {'a': 0, 'b': 1}, 0.4444, 0.4)
    >>> result["disagreements"]
    [{'item_id': 's3', 'answers': {'a': 'y', 'b': 'x'}}]
    """
    from sklearn.metrics import cohen_kappa_score

    ids = _category_ids(categories)
    answers, items = _coder_answers(answers_by_coder, ids)
    coders = list(answers)
    common = [item for item in items if all(item in answers[coder] for coder in coders)]
    missing = {coder: [item for item in items if item not in answers[coder]] for coder in coders}
    index = {category: position for position, category in enumerate(ids)}
    data = np.array([[index[answers[coder][item]] for item in common] for coder in coders], dtype=float).reshape(
        len(coders), len(common)
    )
    same = [len({answers[coder][item] for coder in coders}) == 1 for item in common]

    alpha = _alpha(data, list(range(len(ids)))) if common else None
    interval = None
    if common and alpha is not None and n_resamples > 0:
        rng = np.random.default_rng(random_state)
        draws = [
            _alpha(data[:, rng.integers(0, len(common), size=len(common))], list(range(len(ids))))
            for _ in range(n_resamples)
        ]
        finite = np.array([draw for draw in draws if draw is not None], dtype=float)
        if finite.size:
            tail = (1.0 - confidence) / 2.0
            interval = [float(np.quantile(finite, tail)), float(np.quantile(finite, 1.0 - tail))]

    pairs = []
    for first, second in itertools.combinations(coders, 2):
        left = [answers[first][item] for item in common]
        right = [answers[second][item] for item in common]
        kappa = None
        if common:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                value = float(cohen_kappa_score(left, right, labels=ids))
            kappa = value if np.isfinite(value) else None
        pairs.append(
            {
                "coders": [first, second],
                "kappa": kappa,
                "agreement": float(np.mean([x == y for x, y in zip(left, right, strict=True)])) if common else None,
            }
        )
    return {
        "coders": coders,
        "categories": ids,
        "n_items": len(common),
        "n_items_total": len(items),
        "missed": {coder: len(missing[coder]) for coder in coders},
        "missing_items": missing,
        "agreement": float(np.mean(same)) if common else None,
        "alpha": alpha,
        "alpha_interval": interval,
        "alpha_resamples": n_resamples if interval is not None else 0,
        "kappa": pairs,
        "disagreements": [
            {"item_id": item, "answers": {coder: answers[coder][item] for coder in coders}}
            for item, agreed in zip(common, same, strict=True)
            if not agreed
        ],
    }


def disagreement_rows(
    answers_by_coder: Mapping[str, Sequence[Mapping[str, Any]]],
    categories: Sequence[str | Mapping[str, Any]] | None = None,
) -> list[dict[str, str]]:
    """Rows of an adjudication sheet: the items every coder answered but not alike.

    Parameters
    ----------
    answers_by_coder : mapping of str to sequence of dict
        Per coder, the answer rows (as for :func:`coder_agreement`).
    categories : sequence of str or of dict, optional
        When given, every answer must be one of them.

    Returns
    -------
    list of dict of str
        One row per disagreement, in item order, with the columns ``item_id``,
        ``coder_<name>`` per coder (its answer), and empty ``adjudicated`` and ``reason``
        for the adjudicator to fill.

    Raises
    ------
    ValueError
        As :func:`coder_agreement`.

    Examples
    --------
    >>> a = [{"item_id": "s1", "answer": "x"}, {"item_id": "s2", "answer": "y"}]
    >>> b = [{"item_id": "s1", "answer": "x"}, {"item_id": "s2", "answer": "none"}]
    >>> disagreement_rows({"a": a, "b": b})
    [{'item_id': 's2', 'coder_a': 'y', 'coder_b': 'none', 'adjudicated': '', 'reason': ''}]
    """
    answers, items = _coder_answers(answers_by_coder, _category_ids(categories) if categories is not None else None)
    rows = []
    for item in items:
        given = [answers[coder].get(item) for coder in answers]
        if all(given) and len(set(given)) > 1:
            row = {"item_id": item}
            row.update({f"coder_{coder}": answers[coder][item] for coder in answers})
            row.update({"adjudicated": "", "reason": ""})
            rows.append(row)
    return rows


def adjudicated_labels(
    answers_by_coder: Mapping[str, Sequence[Mapping[str, Any]]],
    adjudication_rows: Sequence[Mapping[str, Any]],
    categories: Sequence[str | Mapping[str, Any]] | None = None,
) -> tuple[dict[str, str], list[str]]:
    """One label per item: the coders' common answer, or the adjudicator's where given.

    An adjudicated label (a non-empty ``adjudicated``) decides its item, also where the
    coders agreed. Any other item gets the label all coders gave it; an item the coders
    answered differently, or that some coder did not answer, and that is not adjudicated is
    *unresolved*: returned separately, never guessed.

    Parameters
    ----------
    answers_by_coder : mapping of str to sequence of dict
        Per coder, the answer rows (as for :func:`coder_agreement`).
    adjudication_rows : sequence of dict
        The adjudication sheet's rows (:func:`disagreement_rows`, filled in): ``item_id`` and
        ``adjudicated`` (also read: ``case`` or ``sample_id``, and ``theme``, as in
        ``validation/adjudication.csv``). Rows with an empty ``adjudicated`` are ignored.
    categories : sequence of str or of dict, optional
        When given, every answer and adjudicated label must be one of them.

    Returns
    -------
    labels : dict of str to str
        Item id to its label, in item order (resolved items only).
    unresolved : list of str
        The item ids without a label, in item order.

    Raises
    ------
    ValueError
        As :func:`coder_agreement`; also for an adjudicated item no coder answered, an item
        adjudicated twice, or an adjudicated label that is not a category.

    Examples
    --------
    >>> a = [{"item_id": "s1", "answer": "x"}, {"item_id": "s2", "answer": "y"},
    ...      {"item_id": "s3", "answer": "x"}]
    >>> b = [{"item_id": "s1", "answer": "x"}, {"item_id": "s2", "answer": "none"},
    ...      {"item_id": "s3", "answer": "y"}]
    >>> sheet = [{"item_id": "s2", "adjudicated": "none", "reason": "a slogan"},
    ...          {"item_id": "s3", "adjudicated": "", "reason": ""}]
    >>> adjudicated_labels({"a": a, "b": b}, sheet)
    ({'s1': 'x', 's2': 'none'}, ['s3'])
    """
    ids = _category_ids(categories) if categories is not None else None
    answers, items = _coder_answers(answers_by_coder, ids)
    decided: dict[str, str] = {}
    for row in adjudication_rows:
        item = str(row.get("item_id") or row.get("case") or row.get("sample_id") or "").strip()
        label = str(row.get("adjudicated", row.get("theme")) or "").strip()
        if not label:
            continue
        if item not in items:
            raise ValueError(f"adjudication: item {item!r} was not answered by any coder")
        if item in decided:
            raise ValueError(f"adjudication: item {item} is adjudicated twice")
        if ids is not None and label not in ids:
            raise ValueError(f"adjudication: item {item}: label {label!r} is not a category ({', '.join(ids)})")
        decided[item] = label
    labels: dict[str, str] = {}
    unresolved: list[str] = []
    for item in items:
        given = {answers[coder].get(item) for coder in answers}
        if item in decided:
            labels[item] = decided[item]
        elif len(given) == 1 and None not in given:
            labels[item] = given.pop()  # type: ignore[assignment]
        else:
            unresolved.append(item)
    return labels, unresolved
