"""The run's decisions from its measures: the choice of K (``selection.choose``) and whether
the TF-IDF clustering agrees with the themes.

:func:`choose_num_topics` applies the rule of docs/methods.md section 6 (stability, then the
one-standard-error rule on held-out perplexity, then coherence) and says why;
:func:`mark_chosen` marks the chosen K in the rows; :func:`selection_summary` gives the
``summary.json`` keys; :func:`clustering_check` states plainly whether the clustering agrees.

In: the sweep's rows, the ``selection`` settings, the cluster themes. Out: the chosen K with
its reason, and the clustering check's statement.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from policytopics.codebook import UNASSIGNED

__all__ = [
    "CLUSTERING_MIN_ARI",
    "CLUSTERING_MIN_MAPPED",
    "NumTopicsChoice",
    "choose_num_topics",
    "clustering_check",
    "mark_chosen",
    "selection_summary",
]

#: The clustering agrees with the themes when the adjusted Rand index of the two unit
#: labelings is at least this ...
CLUSTERING_MIN_ARI = 0.2
#: ... and at least this share of the units is in clusters mapped to a theme (docs/methods.md, 5).
CLUSTERING_MIN_MAPPED = 0.5



# ---------------------------------------------------------------------------- the choice of K


@dataclass(frozen=True)
class NumTopicsChoice:
    """The run's K and why (:func:`choose_num_topics`).

    Attributes
    ----------
    num_topics : int
        The chosen K.
    choose : {"auto", "fixed"}
        How it was chosen (``selection.choose``).
    reason : str
        One paragraph a reader can check against ``model_selection.csv``.
    heldout_units : int
        The units the sweep's perplexity was computed on.
    """

    num_topics: int
    choose: str
    reason: str
    heldout_units: int

    def summary(self) -> dict[str, Any]:
        """The ``summary.json`` keys: ``num_topics_choice``, ``num_topics_reason``, ``heldout_units``."""
        return {"num_topics_choice": self.choose, "num_topics_reason": self.reason, "heldout_units": self.heldout_units}


def _per_k(rows: Sequence[Mapping[str, Any]], measure: str) -> dict[int, dict[str, Any]]:
    """Per K: mean and standard error of the perplexity over seeds, mean coherence, stability.

    Row values are rounded to 6 decimals first, as ``model_selection.csv`` holds them, so that
    the choice can be re-derived from the file.
    """
    table: dict[int, dict[str, Any]] = {}
    for k in sorted({int(row["num_topics"]) for row in rows}):
        fits = [row for row in rows if int(row["num_topics"]) == k]
        perplexities = np.array([round(float(row["perplexity"]), 6) for row in fits])
        jaccards = [round(float(row["jaccard"]), 6) for row in fits if row.get("jaccard") not in (None, "")]
        se = float(np.std(perplexities, ddof=1) / np.sqrt(len(perplexities))) if len(perplexities) > 1 else 0.0
        table[k] = {
            "perplexity": float(np.mean(perplexities)),
            "se": se,
            "coherence": float(np.mean([round(float(row[measure]), 6) for row in fits])),
            "stability": float(np.mean(jaccards)) if jaccards else None,
            "fits": len(fits),
        }
    return table


def _ks(values: Sequence[int]) -> str:
    return ", ".join(str(k) for k in values)


def choose_num_topics(rows: Sequence[Mapping[str, Any]], selection: Any, fixed_num_topics: int) -> NumTopicsChoice:
    """The run's K: ``lda.num_topics`` (``selection.choose: fixed``) or chosen from the sweep.

    The rule of ``selection.choose: auto`` (docs/methods.md, section 6), on the means over
    seeds of each K's rows:

    1. **Stable.** A K is eligible if its mean top-term Jaccard overlap with the run seed's
       fit is at least ``selection.min_stability`` (Greene et al. 2014). Without refits every
       K is eligible; if no K reaches the threshold, only the most stable K is.
    2. **Fits as well as the best.** Among the eligible K, those whose mean held-out
       perplexity is at most the lowest mean plus ``selection.perplexity_se`` standard errors
       (over seeds) of that lowest mean: the one-standard-error rule (Breiman et al. 1984;
       Hastie, Tibshirani & Friedman 2009, 7.10).
    3. **Most coherent.** Of those, the K with the highest mean ``selection.coherence``
       (data-only top terms); ties go to the smaller K.

    Parameters
    ----------
    rows : sequence of mapping
        The sweep's rows (:func:`sweep_rows`, or ``model_selection.csv`` read as text).
    selection : SelectionConfig
        ``choose``, ``min_stability``, ``perplexity_se`` and ``coherence``.
    fixed_num_topics : int
        ``lda.num_topics``, the K of ``choose: fixed``.

    Returns
    -------
    NumTopicsChoice

    Examples
    --------
    >>> from policytopics.config import SelectionConfig
    >>> rows = [{"num_topics": k, "seed": s, "perplexity": p, "c_npmi": c, "jaccard": j, "heldout_units": 3}
    ...         for k, s, p, c, j in [(8, 1, 100.0, 0.02, None), (8, 2, 102.0, 0.04, 0.9),
    ...                               (10, 1, 101.0, 0.05, None), (10, 2, 101.5, 0.07, 0.7),
    ...                               (12, 1, 99.0, 0.09, None), (12, 2, 99.5, 0.10, 0.3)]]
    >>> choice = choose_num_topics(rows, SelectionConfig(), 12)
    >>> choice.num_topics, choice.choose
    (10, 'auto')
    >>> choose_num_topics(rows, SelectionConfig(choose="fixed"), 12).num_topics
    12
    """
    heldout_units = max((int(row.get("heldout_units") or 0) for row in rows), default=0)
    swept = sorted({int(row["num_topics"]) for row in rows})
    if selection.choose == "fixed":
        where = "it is one of the swept K" if fixed_num_topics in swept else "it is not one of the swept K"
        reason = f"K = {fixed_num_topics}, lda.num_topics (selection.choose: fixed; {where})."
        return NumTopicsChoice(int(fixed_num_topics), "fixed", reason, heldout_units)
    if not swept:
        raise ValueError("choose_num_topics: the sweep has no rows")
    measure = selection.coherence
    table = _per_k(rows, measure)
    if len(swept) == 1:
        reason = f"K = {swept[0]}, the only K swept (selection.num_topics; selection.choose: auto)."
        return NumTopicsChoice(swept[0], "auto", reason, heldout_units)
    parts = [f"selection.choose: auto, over K = {_ks(swept)}."]
    if all(table[k]["stability"] is None for k in swept):
        eligible = swept
        parts.append("Step 1 (stability) is skipped: no refits (selection.stability_seeds: 0).")
    else:
        threshold = float(selection.min_stability)
        eligible = [k for k in swept if table[k]["stability"] >= threshold]
        if eligible:
            parts.append(f"Step 1: the K with mean stability (Jaccard) >= {threshold:g}: {_ks(eligible)}.")
        else:
            best = max(table[k]["stability"] for k in swept)
            eligible = [min(k for k in swept if table[k]["stability"] == best)]
            parts.append(
                f"Step 1: no K reaches mean stability (Jaccard) {threshold:g}; only the most stable, "
                f"K = {eligible[0]} ({best:.3f}), stays."
            )
    best_k = min(eligible, key=lambda k: (table[k]["perplexity"], k))
    limit = round(table[best_k]["perplexity"] + float(selection.perplexity_se) * table[best_k]["se"], 6)
    fits_well = [k for k in eligible if round(table[k]["perplexity"], 6) <= limit]
    parts.append(
        f"Step 2: the lowest mean held-out perplexity among them is K = {best_k}'s, "
        f"{table[best_k]['perplexity']:.3f} (standard error {table[best_k]['se']:.3f} over "
        f"{table[best_k]['fits']} seeds); within {float(selection.perplexity_se):g} standard "
        f"error(s) of it (<= {limit:.3f}): {_ks(fits_well)}."
    )
    chosen = max(fits_well, key=lambda k: (round(table[k]["coherence"], 6), -k))
    if len(fits_well) > 1:
        others = ", ".join(f"K = {k}: {table[k]['coherence']:.3f}" for k in fits_well if k != chosen)
        parts.append(
            f"Step 3: the highest mean {measure} of those is K = {chosen}'s, "
            f"{table[chosen]['coherence']:.3f} ({others})."
        )
    else:
        parts.append(f"Step 3 has one K left: K = {chosen}.")
    return NumTopicsChoice(chosen, "auto", f"K = {chosen}. " + " ".join(parts), heldout_units)


def mark_chosen(rows: Sequence[Mapping[str, Any]], num_topics: int) -> list[dict[str, Any]]:
    """The sweep's rows with a last column ``chosen``: whether the row's K is the run's K.

    Parameters
    ----------
    rows : sequence of mapping
        The rows of ``model_selection.csv`` (each with ``num_topics``).
    num_topics : int
        The run's K.

    Returns
    -------
    list of dict
        Copies of the rows with ``chosen`` added.

    Examples
    --------
    >>> [row["chosen"] for row in mark_chosen([{"num_topics": 8}, {"num_topics": 10}], 10)]
    [False, True]
    """
    return [{**row, "chosen": int(row["num_topics"]) == int(num_topics)} for row in rows]


def selection_summary(rows: Sequence[Mapping[str, Any]], selection: Any, fixed_num_topics: int) -> dict[str, Any]:
    """The ``summary.json`` keys of the choice of K (:meth:`NumTopicsChoice.summary`), from
    the sweep's rows and the settings; the same choice :func:`choose_num_topics` made.

    Parameters
    ----------
    rows : sequence of mapping
        The rows of ``model_selection.csv``.
    selection : SelectionConfig
        The ``selection`` settings.
    fixed_num_topics : int
        ``lda.num_topics`` (the K of ``choose: fixed``).

    Returns
    -------
    dict
        ``num_topics_choice``, ``num_topics_reason`` and the other keys of the choice.

    Examples
    --------
    >>> from policytopics.config import SelectionConfig
    >>> rows = [{"num_topics": 12, "seed": 1, "perplexity": 99.0, "c_npmi": 0.1, "jaccard": None, "heldout_units": 3}]
    >>> selection_summary(rows, SelectionConfig(), 12)["num_topics_choice"]
    'auto'
    """
    return choose_num_topics(rows, selection, fixed_num_topics).summary()


# ---------------------------------------------------------------------------- the clustering check


def clustering_check(
    ari: float,
    cluster_themes: Sequence[str],
    min_ari: float = CLUSTERING_MIN_ARI,
    min_mapped: float = CLUSTERING_MIN_MAPPED,
) -> dict[str, Any]:
    """Whether the TF-IDF clustering agrees with the themes, in figures and in plain words.

    The clustering agrees when the adjusted Rand index of the unit themes and the cluster
    themes is at least ``min_ari`` and at least ``min_mapped`` of the units are in clusters
    that map to a theme (the rest are in ``unassigned`` clusters, or have no term).

    Parameters
    ----------
    ari : float
        Adjusted Rand index of the unit themes and the cluster themes.
    cluster_themes : sequence of str
        The theme of each unit's cluster (``"unassigned"`` for none).
    min_ari, min_mapped : float
        The thresholds (:data:`CLUSTERING_MIN_ARI`, :data:`CLUSTERING_MIN_MAPPED`).

    Returns
    -------
    dict
        The ``summary.json`` keys: ``clustering_agrees`` (bool), ``clustering_mapped_share``
        (share of units in clusters mapped to a theme), ``clustering_unassigned_share`` (the
        rest) and ``clustering_statement`` (two or three sentences for the report).

    Examples
    --------
    >>> check = clustering_check(0.049, ["cadre"] * 110 + ["unassigned"] * 119)
    >>> check["clustering_agrees"], round(check["clustering_mapped_share"], 3)
    (False, 0.48)
    """
    units = len(cluster_themes)
    mapped = sum(theme != UNASSIGNED for theme in cluster_themes)
    share = mapped / units if units else 0.0
    agrees = bool(ari >= min_ari and share >= min_mapped)
    figures = (
        f"adjusted Rand index {ari:.3f} (agreement needs at least {min_ari:g}; 0 is chance); "
        f"{mapped} of {units} units ({share:.1%}) are in clusters mapped to a theme and "
        f"{units - mapped} ({1 - share if units else 0.0:.1%}) in clusters mapped to none "
        f"(agreement needs at least {min_mapped:.0%} mapped)."
    )
    if agrees:
        statement = (
            f"The TF-IDF clustering agrees with the themes: {figures} A clustering fitted "
            "without the codebook finds much of the same grouping of the units, which supports "
            "the themes without proving them."
        )
    else:
        statement = (
            f"The TF-IDF clustering does not agree with the themes: {figures} The clustering, "
            "which is fitted without the codebook's keywords, does not recover the codebook's "
            "themes; the theme shares rest on the guided model and its validation against hand "
            "codes, not on this check."
        )
    return {
        "clustering_agrees": agrees,
        "clustering_mapped_share": round(share, 6),
        "clustering_unassigned_share": round(1.0 - share, 6) if units else 0.0,
        "clustering_statement": statement,
    }
