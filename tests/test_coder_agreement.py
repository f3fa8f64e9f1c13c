"""Agreement between coders: alpha, kappa, disagreements, adjudication, missing items."""

from __future__ import annotations

import csv
import itertools

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from policytopics.coder_agreement import adjudicated_labels, coder_agreement, disagreement_rows

CATEGORIES = ["investment", "planning", "cadre", "none"]


def rows(*answers: str, prefix: str = "s") -> list[dict[str, str]]:
    """Answer rows s001, s002, ... of one coder (``None`` leaves an item out)."""
    return [
        {"item_id": f"{prefix}{number:03d}", "kind": "passage", "answer": answer, "second": "", "note": ""}
        for number, answer in enumerate(answers, start=1)
        if answer is not None
    ]


def hand_alpha(matrix: list[list[str]]) -> float:
    """Nominal Krippendorff's alpha from the coincidence matrix (Krippendorff 2011), items
    answered by every coder: 1 - (n - 1) * (pairs that differ) / (n^2 - sum of n_c^2)."""
    coders = len(matrix)
    items = list(zip(*matrix, strict=True))
    n = coders * len(items)
    disagreeing = 0.0
    totals: dict[str, int] = {}
    for values in items:
        for first, second in itertools.permutations(range(coders), 2):
            disagreeing += (values[first] != values[second]) / (coders - 1)
        for value in values:
            totals[value] = totals.get(value, 0) + 1
    return 1.0 - (n - 1) * disagreeing / (n * n - sum(count * count for count in totals.values()))


def test_alpha_and_kappa_of_a_tiny_planted_case_by_hand():
    # 5 items, 2 coders (n = 10 values): only s004 differs. By hand:
    a = rows("investment", "investment", "planning", "cadre", "none")
    b = rows("investment", "investment", "planning", "planning", "none")
    # pairs differing: s004 contributes 2 ordered pairs (cadre-planning, planning-cadre) / (m - 1 = 1) = 2
    # n_c: investment 4, planning 3, cadre 1, none 2 -> sum of squares 16 + 9 + 1 + 4 = 30
    # alpha = 1 - 9 * 2 / (100 - 30) = 1 - 18/70 = 26/35
    result = coder_agreement({"a": a, "b": b}, CATEGORIES, n_resamples=0)
    assert result["alpha"] == pytest.approx(26 / 35)
    # kappa: p_o = 4/5; a: inv 2/5, pla 1/5, cad 1/5, none 1/5; b: inv 2/5, pla 2/5, none 1/5
    # p_e = 4/25 + 2/25 + 0 + 1/25 = 7/25; kappa = (4/5 - 7/25) / (1 - 7/25) = 13/18
    assert result["kappa"] == [{"coders": ["a", "b"], "kappa": pytest.approx(13 / 18), "agreement": 0.8}]
    assert result["agreement"] == 0.8
    assert result["n_items"] == result["n_items_total"] == 5
    assert result["disagreements"] == [{"item_id": "s004", "answers": {"a": "cadre", "b": "planning"}}]
    assert hand_alpha([[r["answer"] for r in a], [r["answer"] for r in b]]) == pytest.approx(26 / 35)


def test_alpha_and_kappa_match_the_packages_on_planted_random_codes():
    rng = np.random.default_rng(3)
    truth = rng.choice(CATEGORIES, size=60)
    coders = {}
    for name, error in (("a", 0.1), ("b", 0.25), ("c", 0.4)):
        noisy = [str(rng.choice(CATEGORIES)) if rng.random() < error else str(value) for value in truth]
        coders[name] = rows(*noisy)
    result = coder_agreement(coders, CATEGORIES, n_resamples=200, random_state=1)
    matrix = [[row["answer"] for row in coders[name]] for name in "abc"]
    index = {category: position for position, category in enumerate(CATEGORIES)}
    numeric = [[index[value] for value in coder] for coder in matrix]
    expected = krippendorff.alpha(reliability_data=numeric, level_of_measurement="nominal")
    assert result["alpha"] == pytest.approx(float(expected))
    assert result["alpha"] == pytest.approx(hand_alpha(matrix))
    assert [pair["coders"] for pair in result["kappa"]] == [["a", "b"], ["a", "c"], ["b", "c"]]
    for pair in result["kappa"]:
        first, second = (matrix["abc".index(name)] for name in pair["coders"])
        assert pair["kappa"] == pytest.approx(cohen_kappa_score(first, second))
        assert pair["agreement"] == pytest.approx(np.mean([x == y for x, y in zip(first, second, strict=True)]))
    all_same = [len(set(values)) == 1 for values in zip(*matrix, strict=True)]
    assert result["agreement"] == pytest.approx(np.mean(all_same))
    assert [d["item_id"] for d in result["disagreements"]] == [
        f"s{number:03d}" for number, same in enumerate(all_same, start=1) if not same
    ]
    low, high = result["alpha_interval"]
    assert low < result["alpha"] < high and high - low > 0.05
    assert result["alpha_resamples"] == 200
    # seeded: the same interval again, another with another seed
    assert coder_agreement(coders, CATEGORIES, n_resamples=200, random_state=1)["alpha_interval"] == [low, high]
    assert coder_agreement(coders, CATEGORIES, n_resamples=200, random_state=2)["alpha_interval"] != [low, high]


def test_missing_items_are_reported_and_left_out():
    a = rows("investment", "planning", "cadre", "none", "planning")
    b = rows("investment", "planning", None, "none", "cadre")  # s003 not answered
    c = rows("investment", "", "cadre", "none", "planning", "none")  # s002 left empty; s006 only c
    result = coder_agreement({"a": a, "b": b, "c": c}, CATEGORIES, n_resamples=0)
    assert result["n_items"] == 3  # s001, s004, s005
    assert result["n_items_total"] == 6
    assert result["missed"] == {"a": 1, "b": 2, "c": 1}
    assert result["missing_items"] == {"a": ["s006"], "b": ["s003", "s006"], "c": ["s002"]}
    assert result["disagreements"] == [
        {"item_id": "s005", "answers": {"a": "planning", "b": "cadre", "c": "planning"}}
    ]
    assert result["agreement"] == pytest.approx(2 / 3)
    expected = hand_alpha([["investment", "none", "planning"], ["investment", "none", "cadre"],
                           ["investment", "none", "planning"]])
    assert result["alpha"] == pytest.approx(expected)
    nothing = coder_agreement({"a": rows("none"), "b": rows(None, "none")}, CATEGORIES)
    assert nothing["n_items"] == 0 and nothing["alpha"] is None and nothing["kappa"][0]["kappa"] is None


def test_undefined_statistics_are_none_and_perfect_agreement_is_one():
    same = coder_agreement({"a": rows("none", "none"), "b": rows("none", "none")}, CATEGORIES, n_resamples=50)
    assert same["alpha"] is None and same["alpha_interval"] is None and same["kappa"][0]["kappa"] is None
    assert same["agreement"] == 1.0
    perfect = coder_agreement({"a": rows("none", "cadre", "none"), "b": rows("none", "cadre", "none")},
                              [{"id": c, "label": c, "description": ""} for c in CATEGORIES], n_resamples=50)
    assert perfect["alpha"] == 1.0 and perfect["kappa"][0]["kappa"] == 1.0
    assert perfect["disagreements"] == []


def test_inputs_are_validated():
    with pytest.raises(ValueError, match=r"coder 'b': item s002: answer 'roads' is not a category"):
        coder_agreement({"a": rows("none", "cadre"), "b": rows("none", "roads")}, CATEGORIES)
    with pytest.raises(ValueError, match="coder 'a': item s001 is answered twice"):
        coder_agreement({"a": rows("none") + rows("cadre"), "b": rows("none")}, CATEGORIES)
    with pytest.raises(ValueError, match="at least two coders"):
        coder_agreement({"a": rows("none")}, CATEGORIES)
    with pytest.raises(ValueError, match="listed twice"):
        coder_agreement({"a": rows("none"), "b": rows("none")}, ["none", "none"])
    # intrusion answers in the same file are not passages: left out, not an error
    mixed = rows("none", "cadre") + [{"item_id": "w001", "kind": "word_intrusion", "answer": "土地"}]
    result = coder_agreement({"a": mixed, "b": rows("none", "cadre")}, CATEGORIES, n_resamples=0)
    assert result["n_items_total"] == 2 and result["alpha"] == 1.0


def test_disagreement_rows_and_adjudication(tmp_path):
    a = rows("investment", "planning", "cadre", "none", "planning", "cadre")
    b = rows("investment", "cadre", "cadre", "planning", None, "none")
    answers = {"a": a, "b": b}
    sheet = disagreement_rows(answers, CATEGORIES)
    assert sheet == [
        {"item_id": "s002", "coder_a": "planning", "coder_b": "cadre", "adjudicated": "", "reason": ""},
        {"item_id": "s004", "coder_a": "none", "coder_b": "planning", "adjudicated": "", "reason": ""},
        {"item_id": "s006", "coder_a": "cadre", "coder_b": "none", "adjudicated": "", "reason": ""},
    ]
    assert list(sheet[0]) == ["item_id", "coder_a", "coder_b", "adjudicated", "reason"]
    assert sheet == [
        {"item_id": d["item_id"], **{f"coder_{k}": v for k, v in d["answers"].items()}, "adjudicated": "", "reason": ""}
        for d in coder_agreement(answers, CATEGORIES, n_resamples=0)["disagreements"]
    ]
    # the adjudicator fills two of three rows; the sheet goes through a CSV file
    sheet[0].update(adjudicated="planning", reason="roads and land, mainly")
    sheet[1].update(adjudicated="none", reason='a slogan, "no subject"')
    path = tmp_path / "adjudication.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(sheet[0]))
        writer.writeheader()
        writer.writerows(sheet)
    with open(path, encoding="utf-8", newline="") as handle:
        filled = list(csv.DictReader(handle))
    labels, unresolved = adjudicated_labels(answers, filled, CATEGORIES)
    assert labels == {"s001": "investment", "s002": "planning", "s003": "cadre", "s004": "none"}
    assert list(labels) == ["s001", "s002", "s003", "s004"]
    assert unresolved == ["s005", "s006"]  # s005: b did not answer; s006: not adjudicated
    # an adjudication decides its item, also one a coder missed
    labels, unresolved = adjudicated_labels(answers, [*filled, {"item_id": "s005", "adjudicated": "planning"}])
    assert labels["s005"] == "planning" and unresolved == ["s006"]
    # the older adjudication.csv columns (case, theme) are read too
    labels, _ = adjudicated_labels(answers, [{"case": "s006", "theme": "cadre", "reason": "x"}])
    assert labels["s006"] == "cadre"
    with pytest.raises(ValueError, match="s099"):
        adjudicated_labels(answers, [{"item_id": "s099", "adjudicated": "none"}])
    with pytest.raises(ValueError, match="s002: label 'roads' is not a category"):
        adjudicated_labels(answers, [{"item_id": "s002", "adjudicated": "roads"}], CATEGORIES)
    with pytest.raises(ValueError, match="s002 is adjudicated twice"):
        adjudicated_labels(answers, [{"item_id": "s002", "adjudicated": "none"}] * 2)
    with pytest.raises(ValueError, match="coder 'b': item s001"):
        disagreement_rows({"a": a, "b": rows("roads")}, CATEGORIES)
