"""The labelling methods validation compares: the run's labels and two keyword baselines.

A label that is not a theme id of the run (``mixed``, ``unassigned``, ...) counts as the
category ``none`` (:func:`as_category`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from policytopics.validation_inputs import RunFolder

__all__ = [
    "METHODS",
    "MIXING_KEYWORD_WEIGHT",
    "MIXING_MIN_SHARE",
    "NONE",
    "as_category",
    "keyword_count_labels",
    "method_labels",
]

#: The category of every label that is not a theme id.
NONE = "none"
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
        A run folder (:func:`~policytopics.validation_inputs.load_run_folder`).

    Returns
    -------
    dict of str to dict of str to str
        Method key to its labels (``unassigned`` etc. are left as they are).

    Examples
    --------
    >>> from policytopics.validation_inputs import load_run_folder
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
