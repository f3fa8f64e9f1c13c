"""Tests of validation.py and its parts (validation_inputs, _methods, _stats, _report):
reading a run folder, label matching, the methods and the statistics.

Every test builds a tiny run folder by hand (three themes, eight units) in ``tmp_path``.
"""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO_ROOT
from policytopics.records import Unit
from policytopics.validation import (
    LabelsError,
    RunFolderError,
    agreement_statistics,
    keyword_count_labels,
    load_labels,
    load_run_folder,
    mcnemar_test,
    method_labels,
    validate_run,
    validation_json,
    validation_results,
    wilson_interval,
)

THEMES = ["investment", "livelihood", "planning"]
SEED = 7

#: unit_id -> (text, the run's label, tokens, topic shares: investment, livelihood, free topic)
UNITS = {
    "d1-u0000": ("抓招商，上项目。", "investment", ["招商", "项目", "民生"], [0.1, 0.8, 0.1]),
    "d1-u0001": ("保民生，做规划。", "mixed", ["民生", "规划"], [0.3, 0.3, 0.4]),
    "d1-u0002": ("盘活土地，改善民生。", "livelihood", ["土地", "土地", "民生"], [0.1, 0.7, 0.2]),
    "d1-u0003": ("同志们，今天开会。", "unassigned", ["会议", "同志"], [0.2, 0.2, 0.6]),
    "d2-u0000": ("科学规划，招商引资。", "planning", ["规划", "规划", "招商"], [0.5, 0.1, 0.4]),
    "d2-u0001": ("民生民生民生，招商项目。", "livelihood", ["民生", "民生", "民生", "招商", "项目"], [0.3, 0.6, 0.1]),
    "d2-u0002": ("GDP 规划。", "planning", ["gdp"], [0.1, 0.1, 0.8]),
    "d2-u0003": ("招商项目再抓。", "investment", ["招商"], [0.9, 0.05, 0.05]),
}

KEYWORDS = [  # theme, keyword, status
    ("investment", "招商", "used"),
    ("investment", "项目", "used"),
    ("livelihood", "民生", "used"),
    ("livelihood", "就业", "absent from corpus"),
    ("planning", "规划", "used"),
    ("planning", "土地", "split: 土 地"),  # not usable: its tokens must not count
    ("planning", "GDP", "used"),  # an ASCII keyword is a lower-case token
]

#: unit_id, hand label, split
LABELS = [
    ("d1-u0000", "investment", "design"),
    ("d1-u0001", "livelihood", "design"),
    ("d1-u0002", "livelihood", "heldout"),
    ("d1-u0003", "none", "heldout"),
    ("d2-u0000", "planning", "heldout"),
    ("d2-u0001", "livelihood", "design"),
    ("d2-u0002", "mixed", "heldout"),
    ("d2-u0003", "investment", "heldout"),
]


def _write_csv(path, header, rows):
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def make_run(folder, *, config=True):
    """A run folder as `run` writes it, reduced to the files validation reads."""
    folder.mkdir(parents=True)
    _write_csv(folder / "units.csv", ["unit_id", "doc_id", "position", "heading", "text", "n_chars", "theme"], [
        [unit_id, unit_id.split("-")[0], 0, "", text, len(text), theme] for unit_id, (text, theme, _, _) in UNITS.items()
    ])
    (folder / "tokens.jsonl").write_text("".join(
        json.dumps({"unit_id": unit_id, "tokens": tokens}, ensure_ascii=False) + "\n"
        for unit_id, (_, _, tokens, _) in UNITS.items()
    ), encoding="utf-8")
    _write_csv(folder / "keywords.csv", ["theme", "keyword", "status"], KEYWORDS)
    _write_csv(folder / "topics.csv", ["topic", "theme", "seeded", "share"], [
        [0, "investment", "true", 0.4], [1, "livelihood", "true", 0.4], [2, "unassigned", "false", 0.2],
    ])
    _write_csv(folder / "unit_topic.csv", ["unit_id", "doc_id", "topic_0", "topic_1", "topic_2"], [
        [unit_id, unit_id.split("-")[0], *shares] for unit_id, (_, _, _, shares) in UNITS.items()
    ])
    (folder / "summary.json").write_text(json.dumps({"themes": THEMES}), encoding="utf-8")
    (folder / "manifest.json").write_text(json.dumps({"config_sha256": "abc"}), encoding="utf-8")
    if config:
        (folder / "config.resolved.yaml").write_text(f"name: tiny\nseed: {SEED}\n", encoding="utf-8")
    return folder


def make_labels(path, rows=LABELS, header=("unit_id", "theme", "split")):
    _write_csv(path, list(header), rows)
    return path


@pytest.fixture
def run_dir(tmp_path):
    return make_run(tmp_path / "results" / "tiny")


@pytest.fixture
def labels_path(tmp_path):
    return make_labels(tmp_path / "labels.csv")


# -- reading the run folder and the labels ---------------------------------------------------------


def test_the_run_folder_is_read_in_unit_order(run_dir):
    run = load_run_folder(run_dir)
    assert run.theme_ids == tuple(THEMES) and run.seed == SEED and run.config_sha256 == "abc"
    assert [unit.unit_id for unit in run.units] == list(UNITS)
    assert run.keywords == {"investment": ["招商", "项目"], "livelihood": ["民生"], "planning": ["规划", "gdp"]}
    assert run.topic_themes == ("investment", "livelihood", None)
    assert run.unit_topic.shape == (8, 3) and run.unit_topic[1].tolist() == [0.3, 0.3, 0.4]


def test_an_incomplete_run_folder_is_an_error_naming_the_file(run_dir):
    (run_dir / "unit_topic.csv").unlink()
    with pytest.raises(RunFolderError, match="unit_topic.csv"):
        load_run_folder(run_dir)


def test_labels_match_by_id_then_by_snippet(tmp_path):
    units = [
        Unit("d-u0000", "d", 0, "", "抓项目，调结构，全年新引进项目五十个。"),
        Unit("d-u0001", "d", 1, "", "保民生，新建安置房一千套。"),
    ]
    path = tmp_path / "labels.csv"
    path.write_text("unit_id,theme,snippet\nd-u0000,investment,抓项目\nold-id,livelihood,保民生，新建\n", encoding="utf-8")
    assert load_labels(path, units) == [("d-u0000", "investment"), ("d-u0001", "livelihood")]


def test_a_label_of_an_unknown_unit_is_an_error_naming_the_row(tmp_path, run_dir):
    path = make_labels(tmp_path / "labels.csv", [("d1-u0000", "investment", "a"), ("d9-u0000", "cadre", "a")])
    with pytest.raises(LabelsError, match=r"labels.csv:3: unit 'd9-u0000' not found"):
        validation_results(run_dir, path)
    with pytest.raises(LabelsError, match="not found"):
        validation_results(run_dir, tmp_path / "missing.csv")


def test_a_unit_labelled_twice_is_an_error(tmp_path, run_dir):
    path = make_labels(tmp_path / "labels.csv", [("d1-u0000", "investment", "a"), ("d1-u0000", "planning", "a")])
    with pytest.raises(LabelsError, match="labels.csv:3.*first on row 2"):
        validation_results(run_dir, path)


def test_split_keeps_only_its_rows(run_dir, labels_path, tmp_path):
    heldout = validation_results(run_dir, labels_path, split="heldout")
    everything = validation_results(run_dir, labels_path)
    assert heldout["labels"]["n"] == 5 and heldout["labels"]["split"] == "heldout"
    assert everything["labels"]["n"] == 8
    # d1-u0000 and d2-u0001 (design) are gone from the hand labels of every method
    assert heldout["methods"]["run"]["per_category"]["investment"]["support"] == 1
    assert everything["methods"]["run"]["per_category"]["investment"]["support"] == 2
    with pytest.raises(LabelsError, match="no row has split 'test'.*design, heldout"):
        validation_results(run_dir, labels_path, split="test")
    no_column = make_labels(tmp_path / "plain.csv", [row[:2] for row in LABELS], header=("unit_id", "theme"))
    with pytest.raises(LabelsError, match="column 'split'"):
        validation_results(run_dir, no_column, split="heldout")


# -- the methods -----------------------------------------------------------------------------------


def test_the_keyword_count_counts_every_occurrence_with_ties_to_the_first_theme():
    keywords = {"investment": ["招商", "项目"], "livelihood": ["民生"], "planning": ["规划"]}
    tokens = [
        ["民生", "民生", "民生", "招商", "项目"],  # 3 occurrences beat 2 distinct keywords
        ["规划", "民生"],                          # a tie: livelihood comes first in the codebook
        ["会议"],                                  # no hit
        ["规划", "规划", "招商"],
    ]
    assert keyword_count_labels(tokens, keywords) == ["livelihood", "livelihood", "none", "planning"]


def test_the_methods_of_a_run_folder(run_dir):
    labels = method_labels(load_run_folder(run_dir))
    assert list(labels) == ["run", "keyword_count", "keyword_mixing"]
    assert labels["run"]["d1-u0001"] == "mixed"  # as the run wrote it
    assert labels["keyword_count"] == {
        "d1-u0000": "investment", "d1-u0001": "livelihood",
        "d1-u0002": "livelihood",  # 土地 is split by the tokenizer: not a keyword hit
        "d1-u0003": "none", "d2-u0000": "planning", "d2-u0001": "livelihood",
        "d2-u0002": "planning",  # the ASCII keyword GDP is the token gdp
        "d2-u0003": "investment",
    }
    mixing = labels["keyword_mixing"]
    # investment 0.5 * 2/3 + 0.5 * 0.1 = 0.38 < livelihood 0.5 * 1/3 + 0.5 * 0.8 = 0.57
    assert mixing["d1-u0000"] == "livelihood"
    assert mixing["d1-u0003"] == "unassigned"  # no keyword hit: the model's shares, mostly the free topic
    assert mixing["d2-u0002"] == "planning"  # 0.5 * 1 + 0.5 * 0 = 0.5 beats 0.4 unassigned


def test_labels_that_are_not_themes_count_as_none(run_dir, labels_path):
    results = validation_results(run_dir, labels_path)
    assert results["categories"] == [*THEMES, "none"]
    assert results["labels"]["non_theme_labels"] == {"mixed": 1, "none": 1}
    run = results["methods"]["run"]
    assert run["non_theme_predictions"] == {"mixed": 1, "unassigned": 1}
    # hand none/mixed (d1-u0003, d2-u0002) vs run unassigned/planning; hand livelihood vs run mixed (d1-u0001)
    assert run["confusion"]["none"] == {"investment": 0, "livelihood": 0, "planning": 1, "none": 1}
    assert run["confusion"]["livelihood"]["none"] == 1
    assert run["per_category"]["none"]["support"] == 2
    assert "none" in run["macro_f1_categories"]
    assert run["correct"] == 6  # d1-u0001 (mixed) and d2-u0002 (planning vs mixed) are wrong


# -- the statistics --------------------------------------------------------------------------------


def test_the_wilson_interval_contains_the_accuracy(run_dir, labels_path):
    for statistics in validation_results(run_dir, labels_path)["methods"].values():
        low, high = statistics["accuracy_ci"]
        assert low < statistics["accuracy"] < high
    # the closed form of Wilson (1927), z = 1.959964
    z, successes, trials = 1.959963985, 8, 10
    p = successes / trials
    centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z / (1 + z * z / trials) * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials))
    assert wilson_interval(successes, trials) == pytest.approx((centre - half, centre + half), abs=1e-9)
    assert wilson_interval(0, 0) is None


def test_mcnemar_on_a_known_table():
    # both right 10, b (first right only) 2, c (second right only) 8, both wrong 5:
    # exact p = 2 * P(X <= 2), X ~ Binomial(10, 1/2) = 2 * (1 + 10 + 45) / 1024
    truth = ["a"] * 25
    first = ["a"] * 12 + ["b"] * 13
    second = ["a"] * 10 + ["b"] * 2 + ["a"] * 8 + ["b"] * 5
    assert mcnemar_test(truth, first, second) == {
        "both_correct": 10, "b": 2, "c": 8, "both_wrong": 5, "p_value": pytest.approx(112 / 1024),
    }
    assert mcnemar_test(truth, first, first)["p_value"] == 1.0


def test_comparisons_pair_the_run_with_each_other_method(run_dir, labels_path):
    comparisons = validation_results(run_dir, labels_path)["comparisons"]
    assert list(comparisons) == ["keyword_count", "keyword_mixing"]
    # the keyword count is right on d1-u0001 (livelihood), where the run says mixed, and wrong only where
    # the run is wrong too (d2-u0002): b = 0, c = 1
    count = comparisons["keyword_count"]
    assert (count["b"], count["c"]) == (0, 1) and count["p_value"] == 1.0


def test_kappa_and_macro_f1_agree_with_scikit_learn():
    from sklearn.metrics import cohen_kappa_score, f1_score

    rng = np.random.default_rng(3)
    categories = ["a", "b", "c", "none"]
    truth = list(rng.choice(categories[:3], size=60))  # "none" has no hand label: not in macro-F1
    predicted = [t if rng.random() < 0.6 else str(rng.choice(categories)) for t in truth]
    statistics = agreement_statistics(truth, predicted, categories, rng.integers(0, 60, size=(200, 60)))
    assert statistics["kappa"] == pytest.approx(cohen_kappa_score(truth, predicted))
    assert statistics["macro_f1"] == pytest.approx(
        f1_score(truth, predicted, labels=["a", "b", "c"], average="macro", zero_division=0)
    )
    assert statistics["macro_f1_categories"] == ["a", "b", "c"]
    for key in ("macro_f1", "kappa"):
        low, high = statistics[f"{key}_ci"]
        assert low < statistics[key] < high


def test_the_seed_comes_from_the_run_or_the_option(tmp_path, labels_path):
    run_dir = make_run(tmp_path / "results" / "tiny")
    assert validation_results(run_dir, labels_path)["seed"] == SEED
    bare = make_run(tmp_path / "results" / "bare", config=False)
    with pytest.raises(RunFolderError, match="--seed"):
        validation_results(bare, labels_path)
    assert validation_results(bare, labels_path, seed=SEED) == validation_results(run_dir, labels_path) | {
        "run": {"path": bare.as_posix(), "config_sha256": "abc"}
    }


# -- output and command line -------------------------------------------------------------------------


def test_two_calls_write_the_same_json(run_dir, labels_path, tmp_path):
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    report = validate_run(run_dir, labels_path, out=first)
    assert validate_run(run_dir, labels_path, out=second) == report
    assert first.read_bytes() == second.read_bytes()
    data = json.loads(first.read_text(encoding="utf-8"))
    assert data == json.loads(validation_json(validation_results(run_dir, labels_path)))
    assert list(data) == sorted(data) and data["resamples"] == 2000
    assert data["methods"]["run"]["accuracy"] == 0.75
    assert "the run's labels" in report and "McNemar" in report and report.count("Cohen's kappa") == 3


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "policytopics", *map(str, args)],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)


def _one_error_line(completed):
    assert completed.returncode == 2, completed.stderr
    assert "Traceback" not in completed.stderr
    lines = [line for line in completed.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ")
    return lines[0]


def test_cli_refuses_a_config_and_a_missing_run_folder(tmp_path, labels_path):
    line = _one_error_line(run_cli("validate", "configs/default.yaml", labels_path))
    assert "configs/default.yaml" in line and "run folder" in line and "run configs/default.yaml" in line
    line = _one_error_line(run_cli("validate", tmp_path / "nowhere", labels_path))
    assert "run folder not found" in line and "nowhere" in line


def test_cli_writes_what_the_library_writes(run_dir, labels_path, tmp_path):
    out = tmp_path / "cli.json"
    completed = run_cli("validate", run_dir, labels_path, "--split", "heldout", "--seed", "11", "--out", out)
    assert completed.returncode == 0, completed.stderr
    library = tmp_path / "library.json"
    report = validate_run(run_dir, labels_path, split="heldout", seed=11, out=library)
    assert completed.stdout == report + "\n"
    assert out.read_bytes() == library.read_bytes()
    assert _one_error_line(run_cli("validate", run_dir, labels_path, "--split", "nope")).count("nope") == 1


# -- two or more coders' sheets (sample -> coding page -> validate) ---------------------------------

#: sample_id, unit_id, split, weight (the key of a stratified sample) and two coders' answers
KEY = [("s1", "d1-u0000", "design", 1.0), ("s2", "d1-u0002", "heldout", 1.0), ("s3", "d1-u0003", "heldout", 3.0),
       ("s4", "d2-u0000", "heldout", 3.0), ("s5", "d2-u0003", "heldout", 1.0)]
CODER_A = [("s1", "investment"), ("s2", "livelihood"), ("s3", "none"), ("s4", "planning"), ("s5", "investment")]
CODER_B = [("s1", "investment"), ("s2", "livelihood"), ("s3", "none"), ("s4", "investment"), ("s5", "investment")]


def _coding(tmp_path):
    key = tmp_path / "sample.csv"
    _write_csv(key, ["sample_id", "unit_id", "doc_id", "split", "stratum", "weight", "n_chars", "text"],
               [[s, u, u.split("-")[0], split, "", weight, 5, UNITS[u][0]] for s, u, split, weight in KEY])
    # coder A answered on the coding page (its CSV), coder B in a spreadsheet (the older sheet format)
    page = tmp_path / "coder_a.csv"
    _write_csv(page, ["item_id", "kind", "answer", "second", "note"], [[s, "passage", t, "", ""] for s, t in CODER_A])
    sheet = tmp_path / "coder_b.csv"
    _write_csv(sheet, ["sample_id", "theme", "second", "note"], [[s, t, "", "a, \"quoted\" note"] for s, t in CODER_B])
    return key, [page, sheet]


def test_two_coders_agreement_disagreements_and_adjudicated_labels(run_dir, tmp_path):
    key, coders = _coding(tmp_path)
    disagreements = tmp_path / "disagreements.csv"
    results = validation_results(run_dir, key, coders=coders, disagreements_out=disagreements, resamples=200)
    agreement = results["coders"]
    assert agreement["coders"] == ["coder_a", "coder_b"] and agreement["n_items"] == 5
    assert agreement["agreement"] == pytest.approx(0.8) and agreement["unresolved"] == ["s4"]
    assert agreement["kappa"][0]["kappa"] == pytest.approx((0.8 - 0.32) / 0.68)  # Cohen: (p_o - p_e) / (1 - p_e)
    assert results["labels"]["n"] == 4  # the unresolved unit is left out, not guessed
    with open(disagreements, encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(row["item_id"], row["adjudicated"]) for row in rows] == [("s4", "")]
    rows[0]["adjudicated"] = "planning"
    _write_csv(tmp_path / "adjudication.csv", list(rows[0]), [list(rows[0].values())])
    adjudicated = validation_results(run_dir, key, coders=coders, adjudication=tmp_path / "adjudication.csv", resamples=200)
    assert adjudicated["labels"]["n"] == 5 and adjudicated["coders"]["adjudicated"] == ["s4"]
    run = adjudicated["methods"]["run"]
    # the run's labels match all five (s3's 'unassigned' counts as none)
    assert run["correct"] == 5 and run["accuracy"] == 1.0
    # the key's weights (a stratified sample) re-weight accuracy to the corpus
    assert "weighted_accuracy" in run and run["weighted_accuracy"] == 1.0
    text = validate_run(run_dir, key, coders=coders, adjudication=tmp_path / "adjudication.csv", split="heldout")
    assert "Krippendorff's alpha" in text and "re-weighted" in text and "4 labelled units" in text


def test_weighted_accuracy_counts_each_unit_by_its_weight(run_dir, tmp_path):
    key, coders = _coding(tmp_path)
    # two coders who agree that s3 is livelihood (the run: unassigned) and s4 investment (the run: planning)
    wrong = tmp_path / "coder_c.csv"
    _write_csv(wrong, ["sample_id", "theme"], [(s, "livelihood" if s == "s3" else t) for s, t in CODER_B])
    again = tmp_path / "coder_d.csv"
    _write_csv(again, ["sample_id", "theme"], [(s, "livelihood" if s == "s3" else t) for s, t in CODER_B])
    results = validation_results(run_dir, key, coders=[wrong, again], resamples=200)
    run = results["methods"]["run"]
    # s3 (weight 3) now wrong, s4 labelled investment (weight 3) wrong: 2 of 5 units, 6 of 9 weight
    assert run["correct"] == 3 and run["weighted_accuracy"] == pytest.approx(3 / 9)
    low, high = run["weighted_accuracy_ci"]
    assert low <= run["weighted_accuracy"] <= high


def test_coders_sheets_that_cannot_be_used_are_errors(run_dir, tmp_path):
    key, coders = _coding(tmp_path)
    with pytest.raises(LabelsError, match="two or more coders"):
        validation_results(run_dir, key, coders=coders[:1])
    bad = tmp_path / "coder_x.csv"
    _write_csv(bad, ["sample_id", "theme"], [("s1", "tourism")])
    with pytest.raises(LabelsError, match="tourism"):
        validation_results(run_dir, key, coders=[coders[0], bad])
    stray = tmp_path / "coder_y.csv"
    _write_csv(stray, ["sample_id", "theme"], [("s9", "none")])
    with pytest.raises(LabelsError, match="items not in"):
        validation_results(run_dir, key, coders=[coders[0], stray])


def test_an_adjudication_sheet_of_the_whole_sample_serves_each_split(run_dir, tmp_path):
    key, coders = _coding(tmp_path)
    # a disagreement in the design half (s1) too, adjudicated with the held-out one (s4)
    _write_csv(coders[0], ["item_id", "kind", "answer", "second", "note"],
               [[s, "passage", "livelihood" if s == "s1" else t, "", ""] for s, t in CODER_A])
    sheet = tmp_path / "adjudication.csv"
    _write_csv(sheet, ["item_id", "adjudicated", "reason"], [["s1", "investment", ""], ["s4", "planning", ""]])
    heldout = validation_results(run_dir, key, coders=coders, adjudication=sheet, split="heldout", resamples=100)
    assert heldout["labels"]["n"] == 4 and heldout["coders"]["adjudicated"] == ["s4"]
    design = validation_results(run_dir, key, coders=coders, adjudication=sheet, split="design", resamples=100)
    assert design["labels"]["n"] == 1 and design["coders"]["adjudicated"] == ["s1"]
    _write_csv(sheet, ["item_id", "adjudicated", "reason"], [["s9", "none", ""]])
    with pytest.raises(LabelsError, match="items not in"):
        validation_results(run_dir, key, coders=coders, adjudication=sheet, resamples=100)
