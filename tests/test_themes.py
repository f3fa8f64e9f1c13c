"""Tests of themes.py: shares, dominant themes, the theme measurement and the baselines."""

from __future__ import annotations

import numpy as np
import pytest

from policytopics.codebook import UNASSIGNED
from policytopics.themes import (
    combine_theme_shares,
    document_theme_shares,
    dominant_themes,
    keyword_theme_shares,
    theme_ranking,
    topic_theme_shares,
)

def test_topic_shares_sum_to_one_and_free_topics_are_unassigned():
    doc_topic = np.array([[0.5, 0.2, 0.3], [0.1, 0.1, 0.8]])
    shares = topic_theme_shares(doc_topic, ["a", "a", None], ["a", "b"])
    assert np.allclose(shares, [[0.7, 0.0, 0.3], [0.2, 0.0, 0.8]])
    assert np.allclose(shares.sum(axis=1), 1.0)


def test_dominant_theme_needs_min_share_and_ties_go_first():
    shares = np.array([[0.4, 0.4, 0.2], [0.25, 0.25, 0.5], [0.29, 0.0, 0.0]])
    assert dominant_themes(shares, ["a", "b"], 0.3) == ["a", UNASSIGNED, UNASSIGNED]


def test_document_shares_weight_units_by_length():
    unit_shares = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    shares = document_theme_shares(unit_shares, ["d1", "d1", "d2"], [300, 100, 50], ["d1", "d2", "d3"])
    assert shares[0].tolist() == pytest.approx([0.75, 0.25, 0.0])
    assert shares[1].tolist() == pytest.approx([0.0, 0.0, 1.0])
    assert np.isnan(shares[2]).all()  # a document without units has no shares
    assert theme_ranking(shares[0], ["a", "b"]) == ["a", "b"]


def test_keyword_count_baseline():
    shares = keyword_theme_shares([["招商引资", "安置房", "安置房"], ["会议"]], {"investment": ["招商引资"], "livelihood": ["安置房"]})
    assert shares[0].tolist() == pytest.approx([1 / 3, 2 / 3, 0.0])
    assert shares[1].tolist() == [0.0, 0.0, 1.0]


def test_keyword_evidence_is_averaged_in_only_where_a_keyword_occurs():
    model = np.array([[0.1, 0.6, 0.3], [0.2, 0.2, 0.6]])
    keywords = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])  # second unit: no keyword hit
    combined = combine_theme_shares(model, keywords, 0.5)
    assert combined[0].tolist() == pytest.approx([0.55, 0.3, 0.15])
    assert combined[1].tolist() == pytest.approx(model[1].tolist())
    assert combined.sum(axis=1) == pytest.approx([1.0, 1.0])
    assert combine_theme_shares(model, keywords, 0.0).tolist() == model.tolist()
    assert combine_theme_shares(model, keywords, 1.0)[0].tolist() == [1.0, 0.0, 0.0]
    with pytest.raises(ValueError, match="keyword_weight"):
        combine_theme_shares(model, keywords, 1.5)


# -- ThemeScorer ------------------------------------------------------------------------------

from policytopics.themes import MIXED, NONE, ThemeScorer, theme_dirichlet, unassigned_by_fit_group  # noqa: E402


def _synthetic_speech(n_units, seed=0, tokens=40):
    """Units of a speech about theme a (60%) and b (30%): Dirichlet parameters as a fitted
    model would give, from multinomial counts of ``tokens`` words per unit."""
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(tokens, [0.6, 0.3, 0.1], size=n_units).astype(float)
    return counts + 0.1


def test_theme_dirichlet_aggregates_topics_and_restores_the_posterior_scale():
    doc_topic = np.array([[0.4, 0.1, 0.3, 0.2], [0.25, 0.25, 0.25, 0.25]])
    dirichlet = theme_dirichlet(doc_topic, 2.0, np.array([8, 0]), ["a", "b", "a", None], ["a", "b"])
    assert dirichlet[0].tolist() == pytest.approx([7.0, 1.0, 2.0])  # (2 + 8) x (0.7, 0.1, 0.2)
    assert dirichlet[1].tolist() == [0.0, 0.0, 2.0]  # no token: no evidence of a theme


def test_units_are_none_below_the_theme_mass_and_mixed_below_the_margin():
    scorer = ThemeScorer(["a", "b"], min_theme_mass=0.5, min_margin=0.2, draws=20)
    units = scorer.score_units(np.array([[8.0, 1.0, 1.0], [5.0, 4.0, 1.0], [1.0, 1.0, 8.0], [0.0, 0.0, 1.0]]))
    assert units.labels == ["a", MIXED, NONE, NONE]
    assert units.shares[2].tolist() == [0.0, 0.0, 1.0]
    assert units.shares[0, :2].sum() == pytest.approx(1.0) and units.shares[0, 2] == 0.0
    assert units.assigned.tolist() == [True, True, False, False]


def test_intervals_contain_the_point_estimate_and_narrow_as_a_speech_grows():
    scorer = ThemeScorer(["a", "b"], draws=400, random_state=3)
    widths = []
    for n_units in (4, 16, 64, 256):
        units = scorer.score_units(_synthetic_speech(n_units, seed=n_units))
        docs = scorer.score_documents(units, ["d"] * n_units, [100] * n_units, ["d"])
        assert (docs.low <= docs.shares + 1e-12).all() and (docs.shares <= docs.high + 1e-12).all()
        assert (units.low <= units.shares + 1e-12).all() and (units.shares <= units.high + 1e-12).all()
        widths.append(float(docs.high[0, 0] - docs.low[0, 0]))
    assert widths == sorted(widths, reverse=True) and widths[-1] < widths[0] / 4, widths
    assert docs.labels == ["a"] and docs.distinct == [True]
    assert docs.rankings[0] == "a > b"


def test_documents_weight_units_by_length_and_label_by_threshold():
    scorer = ThemeScorer(["a", "b"], document_min_share=0.6, draws=50)
    units = scorer.score_units(np.array([[9.0, 1.0, 0.1], [1.0, 9.0, 0.1], [0.1, 0.1, 9.0]]))
    docs = scorer.score_documents(units, ["d1", "d1", "d2"], [30, 10, 5], ["d1", "d2", "d3"])
    assert docs.shares[0].round(3).tolist() == [0.7, 0.3, 0.0]
    assert docs.labels == ["a", NONE, NONE]  # d2: all unassigned; d3: no units
    assert np.isnan(docs.shares[2]).all() and docs.rankings[2] == ""
    spread = scorer.score_documents(units, ["d", "d", "d"], [10, 10, 1], ["d"])
    assert spread.labels == [MIXED]  # top share 0.48 < 0.6, little unassigned


def test_scoring_is_reproducible_from_the_seed_and_varies_with_it():
    dirichlet = _synthetic_speech(20)
    def run(seed):
        scorer = ThemeScorer(["a", "b"], draws=50, random_state=seed)
        return scorer.score_documents(scorer.score_units(dirichlet), ["d"] * 20, [50] * 20, ["d"]).low
    assert (run(1) == run(1)).all()
    assert not (run(1) == run(2)).all()


def test_an_ensemble_averages_its_fits_and_its_intervals_carry_their_disagreement():
    scorer = ThemeScorer(["a", "b"], min_theme_mass=0.5, draws=400, random_state=5)
    speech = _synthetic_speech(32, seed=1)
    agreeing = scorer.score_units(np.stack([speech, speech, speech]))
    single = scorer.score_units(speech)
    assert np.allclose(agreeing.shares, single.shares) and agreeing.labels == single.labels
    # a third of the fits put every unit's text outside the themes
    outside = speech.copy()
    outside[:, -1] = outside[:, :-1].sum(axis=1) * 4
    mixed = scorer.score_units(np.stack([speech, speech, outside]))
    assert np.allclose(mixed.shares[:, -1], 1 / 3)  # the fraction of fits that find the unit none
    assert mixed.labels == single.labels  # two of three fits assign it
    assert (mixed.fit_assigned.sum(axis=0) == 2).all()
    docs_single = scorer.score_documents(single, ["d"] * 32, [100] * 32, ["d"])
    docs_mixed = scorer.score_documents(mixed, ["d"] * 32, [100] * 32, ["d"])
    assert docs_mixed.shares[0, -1] == pytest.approx(1 / 3)
    assert docs_mixed.low[0, -1] == 0.0 and docs_mixed.high[0, -1] == 1.0  # one fit is drawn per draw
    assert (docs_mixed.high - docs_mixed.low)[0, 0] > (docs_single.high - docs_single.low)[0, 0]
    assert (docs_mixed.low <= docs_mixed.shares).all() and (docs_mixed.shares <= docs_mixed.high).all()
    none_by_majority = scorer.score_units(np.stack([speech, outside, outside]))
    assert set(none_by_majority.labels) == {NONE}


def test_unassigned_by_fit_group_shows_how_far_one_k_alone_would_move_a_speech():
    speech = _synthetic_speech(10, seed=2)
    outside = speech.copy()
    outside[:5, -1] = outside[:5, :-1].sum(axis=1) * 4  # the first half of the units: no theme
    units = ThemeScorer(["a", "b"], min_theme_mass=0.5).score_units(np.stack([speech, speech, outside, outside]))
    doc_ids = ["d1"] * 5 + ["d2"] * 5
    sensitivity = unassigned_by_fit_group(units, [10, 10, 15, 15], doc_ids, [100] * 10, ["d1", "d2"])
    assert sensitivity["groups"] == [10, 15]
    assert sensitivity["max_spread"] == 1.0 and sensitivity["document"] == {"doc_id": "d1", "unassigned": [0.0, 1.0]}
    assert sensitivity["median_spread"] == 0.5
    same = unassigned_by_fit_group(units, [10, 15, 10, 15], doc_ids, [100] * 10, ["d1", "d2"])
    assert same["max_spread"] == 0.0


# -- topic-to-theme mapping -----------------------------------------------------------------------

from policytopics.themes import map_topics_to_themes  # noqa: E402


def test_mapping_clear_and_unclear_topics():
    vocabulary = ["招商", "投资", "干部", "党建", "开发区"]
    keywords = {"investment": ["招商", "投资"], "cadre": ["干部", "党建"]}
    phi = np.array([
        [0.30, 0.25, 0.05, 0.00, 0.40],  # investment 0.55 vs cadre 0.05: clear
        [0.02, 0.00, 0.30, 0.30, 0.38],  # cadre: clear
        [0.10, 0.10, 0.10, 0.06, 0.64],  # 0.20 vs 0.16: below the margin
        [0.005, 0.005, 0.0, 0.0, 0.99],  # 0.01: below min_weight
        [0.10, 0.10, 0.10, 0.10, 0.60],  # a tie is never a winner
    ])
    assert map_topics_to_themes(phi, vocabulary, keywords, min_weight=0.02, margin=1.5) == [
        "investment", "cadre", UNASSIGNED, UNASSIGNED, UNASSIGNED]
    # a lower margin lets the third topic through; a tie still is not
    assert map_topics_to_themes(phi, vocabulary, keywords, min_weight=0.02, margin=1.0)[2:] == [
        "investment", UNASSIGNED, UNASSIGNED]
    with pytest.raises(ValueError, match="shape"):
        map_topics_to_themes(phi, vocabulary[:3], keywords, 0.02, 1.5)
