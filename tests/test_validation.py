"""Tests of validation.py: label matching and agreement metrics."""

from __future__ import annotations

import pytest

from policytopics.records import Unit
from policytopics.validation import LabelsError, evaluate_labels, load_labels

UNITS = [
    Unit("d-u0000", "d", 0, "", "抓项目，调结构，全年新引进项目五十个。"),
    Unit("d-u0001", "d", 1, "", "保民生，新建安置房一千套。"),
    Unit("d-u0002", "d", 2, "", "加强干部队伍建设。"),
]


def test_labels_match_by_id_then_by_snippet(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("unit_id,theme,snippet\nd-u0000,investment,抓项目\nold-id,livelihood,保民生，新建\n", encoding="utf-8")
    assert load_labels(path, UNITS) == [("d-u0000", "investment"), ("d-u0001", "livelihood")]


def test_unmatched_label_is_an_error_naming_the_row(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("unit_id,theme,snippet\nnone,cadre,不存在的文字\n", encoding="utf-8")
    with pytest.raises(LabelsError, match=r"labels.csv:2"):
        load_labels(path, UNITS)
    with pytest.raises(LabelsError, match="not found"):
        load_labels(tmp_path / "missing.csv", UNITS)


def test_metrics():
    labels = [("u1", "a"), ("u2", "a"), ("u3", "b"), ("u4", "b")]
    report = evaluate_labels({"u1": "a", "u2": "b", "u3": "b", "u4": "unassigned"}, labels, ["a", "b"])
    assert report.accuracy == 0.5 and report.n_matched == 4
    assert report.per_theme.loc["a", "precision"] == 1.0 and report.per_theme.loc["a", "recall"] == 0.5
    assert report.per_theme.loc["b", "precision"] == 0.5
    assert report.confusion.loc["b", "unassigned"] == 1
    perfect = evaluate_labels({"u1": "a", "u2": "a", "u3": "b", "u4": "b"}, labels, ["a", "b"])
    assert perfect.accuracy == 1.0 and perfect.kappa == pytest.approx(1.0)
    assert "accuracy 1.000" in perfect.format("test")
