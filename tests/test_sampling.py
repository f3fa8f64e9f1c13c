"""Validation samples (sampling.py): seeded draws, stratification with weights, and a coding
package that shows coders the passages and the codebook, never the model's labels."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from conftest import REPO_ROOT
from policytopics.errors import PolicytopicsError
from policytopics.sampling import SAMPLE_COLUMNS, draw_sample, sample_run


def _units(n=200, seed=0):
    rng = np.random.default_rng(seed)
    themes = rng.choice(["investment", "livelihood", "none", "environment"], size=n, p=[0.5, 0.3, 0.15, 0.05])
    return pd.DataFrame({
        "unit_id": [f"d{i // 10}-u{i:04d}" for i in range(n)], "doc_id": [f"d{i // 10}" for i in range(n)],
        "n_chars": 100, "text": [f"passage {i}" for i in range(n)], "theme": themes,
    })


def test_a_uniform_draw_is_seeded_split_in_halves_and_independent_of_row_order():
    units = _units()
    sample = draw_sample(units, 40, random_state=7)
    assert list(sample.columns) == SAMPLE_COLUMNS and len(sample) == 40 and sample["unit_id"].is_unique
    assert (sample["split"] == "design").sum() == 20 and set(sample["weight"]) == {1.0}
    shuffled = units.sample(frac=1.0, random_state=3)
    assert draw_sample(shuffled, 40, random_state=7).equals(sample)  # drawn over units sorted by unit_id
    assert not draw_sample(units, 40, random_state=8)["unit_id"].equals(sample["unit_id"])
    assert set(draw_sample(units, 10, 7, split=False)["split"]) == {"heldout"}


def test_the_uniform_draw_is_the_one_the_city_validation_sample_was_drawn_with():
    # validation/city-2024 was drawn by scripts/draw_validation_sample.py (seed 20240601, 240 of
    # the city run's units); the same algorithm over the same unit ids must give the same units
    key = pd.read_csv(REPO_ROOT / "validation" / "city-2024" / "sample.csv", dtype=str, keep_default_na=False)
    # a stand-in population: the sample's own units plus others, sorted as the run sorts them
    rng = np.random.default_rng(1)
    population = sorted(set(key["unit_id"]) | {f"zz-u{i:04d}" for i in range(500)})
    units = pd.DataFrame({"unit_id": population, "doc_id": "d", "n_chars": 1, "text": "x"})
    ours = draw_sample(units, 240, random_state=20240601)
    picked = np.random.default_rng(20240601).choice(len(units), size=240, replace=False)
    assert ours["unit_id"].tolist() == units["unit_id"].iloc[picked].tolist()
    del rng


def test_stratified_draws_allocate_equally_and_record_weights_that_sum_to_the_population():
    units = _units()
    sample = draw_sample(units, 40, random_state=1, stratify="theme")
    counts = sample["stratum"].value_counts()
    sizes = units["theme"].value_counts()
    assert counts.max() - counts.min() <= 1 or counts.min() == sizes.min()  # equal, unless a stratum runs out
    for stratum, group in sample.groupby("stratum"):
        assert np.allclose(group["weight"], sizes[stratum] / len(group))
    assert sample["weight"].sum() == pytest.approx(len(units))  # Horvitz-Thompson: the population size
    small = draw_sample(units, 60, random_state=1, stratify="theme")  # environment has ~10 units only
    assert small["stratum"].value_counts()["environment"] == sizes["environment"] and len(small) == 60


def test_impossible_draws_are_refused():
    with pytest.raises(PolicytopicsError, match="cannot draw 500 of 200"):
        draw_sample(_units(), 500)
    with pytest.raises(PolicytopicsError, match="no column 'topic'"):
        draw_sample(_units(), 5, stratify="topic")


def test_the_coding_package_shows_passages_and_the_codebook_never_the_models_labels(seed_run, tmp_path):
    out = sample_run(seed_run.run_dir, 12, stratify="theme", out=tmp_path / "coding", seed=5)
    assert sorted(p.name for p in out.iterdir()) == ["coding.html", "coding_sheet.csv", "sample.csv", "sample.json"]
    sheet = pd.read_csv(out / "coding_sheet.csv", keep_default_na=False)
    assert list(sheet.columns) == ["sample_id", "text"] and len(sheet) == 12
    key = pd.read_csv(out / "sample.csv", keep_default_na=False)
    assert list(key.columns) == SAMPLE_COLUMNS
    page = (out / "coding.html").read_text(encoding="utf-8")
    assert "招商引资与项目" in page  # the codebook's categories
    for unit_id in key["unit_id"]:  # nothing that leads back to the run's rows or labels
        assert unit_id not in page
    assert '"weight"' not in page and "stratum" not in page
    settings = json.loads((out / "sample.json").read_text(encoding="utf-8"))
    assert settings["stratify"] == "theme" and settings["population"] == len(seed_run.units) and settings["seed"] == 5


def test_sample_code_validate_end_to_end_with_intrusion_tests(seed_run, tmp_path):
    # sample -> (coders answer in the page's CSV format) -> validate with two coders
    import csv

    from policytopics.validation import validation_results

    out = sample_run(seed_run.run_dir, 10, out=tmp_path / "coding", seed=3, word_intrusion=1, topic_intrusion=4)
    key = pd.read_csv(out / "sample.csv", keep_default_na=False)
    tests = pd.read_csv(out / "intrusion_key.csv", keep_default_na=False)
    assert set(tests["kind"]) == {"word_intrusion", "topic_intrusion"}
    page = (out / "coding.html").read_text(encoding="utf-8")
    assert '"intruder"' not in page and '"shares"' not in page  # the answer key stays out of the page
    units = pd.read_csv(seed_run.run_dir / "units.csv", keep_default_na=False).set_index("unit_id")
    for coder, careless in (("a", False), ("b", True)):
        labels = units.loc[key["unit_id"], "theme"].replace({"mixed": "none"})  # a coder's categories: themes, none
        rows = [[item, "passage", label, "", ""] for item, label in zip(key["sample_id"], labels)]
        for row in tests.itertuples():  # coder a finds every intruder; coder b picks the first candidate
            rows.append([row.item_id, row.kind, row.candidates.split(" ")[0] if careless else row.intruder, "", ""])
        with open(tmp_path / f"coder_{coder}.csv", "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["item_id", "kind", "answer", "second", "note"])
            writer.writerows(rows)
    results = validation_results(seed_run.run_dir, out / "sample.csv", resamples=100,
                                 coders=[tmp_path / "coder_a.csv", tmp_path / "coder_b.csv"])
    assert results["coders"]["agreement"] == 1.0 and results["labels"]["n"] == 10
    assert results["methods"]["run"]["accuracy"] == 1.0  # the coders copied the run's labels
    words = results["intrusion"]["word_intrusion"]
    assert words["n_items"] == len(tests[tests["kind"] == "word_intrusion"]) and 0.5 <= words["model_precision"] < 1.0


def test_a_grouped_draw_takes_the_same_number_in_every_group_with_their_weights():
    units = _units().assign(year=lambda t: [2003 + i % 4 for i in range(len(t))])
    sample = draw_sample(units, random_state=2, group_by="year", per_group=5, split=False)
    assert sample["stratum"].value_counts().to_dict() == {"2003": 5, "2004": 5, "2005": 5, "2006": 5}
    assert set(sample["weight"]) == {10.0} and set(sample["split"]) == {"heldout"}  # 50 units a year
    with pytest.raises(PolicytopicsError, match="no column 'region'"):
        draw_sample(units, group_by="region", per_group=5)
