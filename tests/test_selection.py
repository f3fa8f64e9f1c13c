"""The choice of K from the sweep's rows, and the clustering check."""

from __future__ import annotations

import pytest

from policytopics.config import SelectionConfig
from policytopics.selection import (
    CLUSTERING_MIN_ARI,
    CLUSTERING_MIN_MAPPED,
    choose_num_topics,
    clustering_check,
    mark_chosen,
    selection_summary,
)


# ---------------------------------------------------------------- the choice of K
def _table(values):
    """Sweep rows from (K, seed, perplexity, c_npmi, c_v, jaccard)."""
    return [
        {"num_topics": k, "seed": seed, "perplexity": p, "c_npmi": npmi, "c_v": cv, "jaccard": j, "heldout_units": 23}
        for k, seed, p, npmi, cv, j in values
    ]


#: K=8 fits best but K=15 better still and unstable; K=10 is within one SE of K=8 and more coherent.
SWEEP = _table([
    (8, 1, 100.0, 0.02, 0.40, None), (8, 2, 102.0, 0.04, 0.42, 0.90), (8, 3, 101.0, 0.03, 0.41, 0.80),
    (10, 1, 101.5, 0.06, 0.38, None), (10, 2, 101.7, 0.08, 0.36, 0.70), (10, 3, 101.6, 0.07, 0.37, 0.60),
    (12, 1, 104.0, 0.20, 0.50, None), (12, 2, 104.0, 0.22, 0.52, 0.70), (12, 3, 104.0, 0.21, 0.51, 0.60),
    (15, 1, 90.0, 0.30, 0.60, None), (15, 2, 91.0, 0.31, 0.61, 0.30), (15, 3, 92.0, 0.32, 0.62, 0.20),
])


def test_auto_applies_stability_then_one_standard_error_then_coherence():
    choice = choose_num_topics(SWEEP, SelectionConfig(), fixed_num_topics=12)
    # step 1 drops K=15 (stability 0.25); step 2: K=8 has the lowest mean, 101.0 with a standard
    # error of 0.577, and K=10's 101.6 is above 101.577: only K=8 fits as well as the best
    assert choice.choose == "auto" and choice.heldout_units == 23
    assert ">= 0.5: 8, 10, 12." in choice.reason and "(<= 101.577): 8." in choice.reason
    assert choice.num_topics == 8
    wider = choose_num_topics(SWEEP, SelectionConfig(perplexity_se=2.0), 12)
    assert wider.num_topics == 10  # <= 102.155 keeps 8 and 10; 10 is more coherent (c_npmi)
    assert choose_num_topics(SWEEP, SelectionConfig(perplexity_se=2.0, coherence="c_v"), 12).num_topics == 8
    # without the stability step the better-fitting, unstable K=15 wins
    assert choose_num_topics(SWEEP, SelectionConfig(min_stability=0.0), 12).num_topics == 15
    assert choose_num_topics(SWEEP, SelectionConfig(perplexity_se=10.0), 12).num_topics == 12


def test_auto_ties_go_to_the_smaller_k_and_no_stable_k_keeps_the_most_stable():
    tied = _table([(9, 1, 50.0, 0.1, 0.4, None), (9, 2, 50.0, 0.1, 0.4, 0.9),
                   (11, 1, 50.0, 0.1, 0.4, None), (11, 2, 50.0, 0.1, 0.4, 0.9)])
    assert choose_num_topics(tied, SelectionConfig(), 11).num_topics == 9
    unstable = _table([(9, 1, 50.0, 0.1, 0.4, None), (9, 2, 52.0, 0.1, 0.4, 0.3),
                       (11, 1, 40.0, 0.5, 0.4, None), (11, 2, 41.0, 0.5, 0.4, 0.4)])
    choice = choose_num_topics(unstable, SelectionConfig(), 9)
    assert choice.num_topics == 11 and "no K reaches" in choice.reason


def test_auto_without_refits_takes_the_lowest_heldout_perplexity():
    single = _table([(8, 1, 60.0, 0.5, 0.4, None), (10, 1, 55.0, 0.1, 0.4, None), (12, 1, 58.0, 0.9, 0.4, None)])
    choice = choose_num_topics(single, SelectionConfig(stability_seeds=0), 12)
    assert choice.num_topics == 10 and "skipped" in choice.reason
    only = choose_num_topics(single[:1], SelectionConfig(), 12)
    assert only.num_topics == 8 and "only K swept" in only.reason


def test_fixed_uses_lda_num_topics_swept_or_not():
    fixed = choose_num_topics(SWEEP, SelectionConfig(choose="fixed"), fixed_num_topics=12)
    assert fixed.num_topics == 12 and fixed.choose == "fixed" and "lda.num_topics" in fixed.reason
    assert choose_num_topics(SWEEP, SelectionConfig(choose="fixed"), 9).num_topics == 9
    assert "not one of the swept K" in choose_num_topics(SWEEP, SelectionConfig(choose="fixed"), 9).reason


def test_the_choice_can_be_rederived_from_model_selection_csv(tmp_path):
    import csv

    from policytopics.artifacts import write_csv

    rows = mark_chosen(SWEEP, choose_num_topics(SWEEP, SelectionConfig(perplexity_se=2.0), 12).num_topics)
    assert [row["num_topics"] for row in rows if row["chosen"]] == [10, 10, 10]
    write_csv(tmp_path / "model_selection.csv", rows, list(rows[0]))
    with (tmp_path / "model_selection.csv").open(encoding="utf-8", newline="") as handle:
        text_rows = list(csv.DictReader(handle))
    assert selection_summary(text_rows, SelectionConfig(perplexity_se=2.0), 12) == selection_summary(
        SWEEP, SelectionConfig(perplexity_se=2.0), 12)
    assert selection_summary(SWEEP, SelectionConfig(), 12).keys() == {"num_topics_choice", "num_topics_reason", "heldout_units"}


# ---------------------------------------------------------------- the clustering check
def test_the_clustering_check_says_plainly_when_it_fails():
    themes = ["cadre"] * 110 + ["unassigned"] * 119  # the seed corpus before this check existed
    check = clustering_check(0.049, themes)
    assert check["clustering_agrees"] is False
    assert check["clustering_mapped_share"] == pytest.approx(110 / 229, abs=1e-6)
    assert check["clustering_unassigned_share"] == pytest.approx(119 / 229, abs=1e-6)
    statement = check["clustering_statement"]
    assert statement.startswith("The TF-IDF clustering does not agree with the themes")
    assert "0.049" in statement and "110 of 229" in statement and "validation" in statement
    # agreement needs both figures; the thresholds themselves pass
    assert clustering_check(0.5, themes)["clustering_agrees"] is False  # too few units mapped
    mapped = ["cadre"] * 50 + ["unassigned"] * 50
    assert clustering_check(0.1, mapped)["clustering_agrees"] is False  # ARI too low
    passing = clustering_check(CLUSTERING_MIN_ARI, mapped, min_mapped=CLUSTERING_MIN_MAPPED)
    assert passing["clustering_agrees"] is True
    assert passing["clustering_statement"].startswith("The TF-IDF clustering agrees with the themes")
