"""Comparisons across documents (effects.py): planted effects are recovered, absent ones are
not found, bad analyses fail with one line, and the tables are byte-reproducible."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from policytopics.artifacts import write_csv
from policytopics.config import ConfigError, EffectConfig, EffectsConfig, PeriodConfig
from policytopics.effects import (
    DRAWS_FILE,
    EFFECTS_COLUMNS,
    derive_columns,
    estimate_effects,
    shares_by,
    term_contrast,
    write_effect_outputs,
)

COLUMNS = ["environment", "investment", "unassigned"]


def _corpus(seed, n_documents=120, effect=0.0, n_draws=40, clusters=12, noise=0.05, posterior=80.0):
    """Synthetic documents with a period and a cluster, and posterior draws of their shares.

    A document's true environment share is 0.1, plus ``effect`` after the period change, plus
    a cluster effect and document noise; its draws are Beta draws around it (concentration
    ``posterior``), as a measurement with uncertainty would give them. Investment has no effect.
    """
    rng = np.random.default_rng(seed)
    year = rng.integers(2003, 2024, size=n_documents)
    cluster = rng.integers(0, clusters, size=n_documents)
    cluster_shift = rng.normal(0, 0.01, size=clusters)[cluster]
    environment = np.clip(0.1 + effect * (year >= 2013) + cluster_shift + rng.normal(0, noise, n_documents), 0.01, 0.9)
    investment = np.clip(0.2 + cluster_shift + rng.normal(0, noise, n_documents), 0.01, 0.9)
    truth = np.stack([environment, investment, 1 - environment - investment], axis=1)
    draws = np.empty((n_draws, n_documents, 3))
    for column in range(2):
        mean = truth[:, column]
        draws[:, :, column] = rng.beta(mean * posterior, (1 - mean) * posterior, size=(n_draws, n_documents))
    draws[:, :, 2] = 1 - draws[:, :, :2].sum(axis=2)
    table = pd.DataFrame({"year": year, "province": [f"p{c}" for c in cluster]})
    return table, draws, truth


PERIODS = {"period": PeriodConfig(column="year", bins={"before_2013": [2003, 2012], "from_2013": [2013, 2023]})}


def _period_effect(rows, theme="environment"):
    (row,) = [row for row in rows if row["theme"] == theme and row["term"] == "period[T.from_2013]"]
    return row


@pytest.mark.parametrize("model", ["ols", "fractional_logit"])
def test_a_planted_effect_is_recovered_with_its_sign_and_size(model):
    table, draws, truth = _corpus(seed=1, effect=0.05)
    table = derive_columns(table, PERIODS)
    analysis = EffectConfig(name="period", formula="theme ~ period", cluster="province", model=model)
    rows = estimate_effects(table, draws, COLUMNS, analysis, random_state=7)
    row = _period_effect(rows)
    assert row["reference"] == "before_2013" and row["n_documents"] == 120 and row["n_draws"] == 40
    assert row["cluster"] == "province" and row["model"] == model
    assert row["ci_low"] > 0  # the sign, with an interval that excludes zero
    if model == "ols":  # the size, in share points: the planted 0.05 is inside the interval
        assert row["ci_low"] <= 0.05 <= row["ci_high"]
    else:  # log-odds: the planted difference on that scale
        before, after = truth[table["period"] == "before_2013", 0].mean(), truth[table["period"] == "from_2013", 0].mean()
        planted = np.log(after / (1 - after)) - np.log(before / (1 - before))
        assert row["ci_low"] <= planted <= row["ci_high"]
    assert row["ci_low"] <= row["estimate"] <= row["ci_high"] and row["p_value"] < 0.05
    assert set(rows[0]) == set(EFFECTS_COLUMNS)


def test_no_planted_effect_is_found_in_at_least_90_percent_of_repetitions():
    analysis = EffectConfig(name="period", formula="theme ~ period", cluster="province")
    found = 0
    for seed in range(40):
        table, draws, _ = _corpus(seed=100 + seed, effect=0.0, n_draws=20)
        row = _period_effect(estimate_effects(derive_columns(table, PERIODS), draws, COLUMNS, analysis, random_state=seed))
        found += row["ci_low"] > 0 or row["ci_high"] < 0
    assert found <= 4, f"{found} of 40 repetitions found an effect that is not there"


def test_the_measurement_uncertainty_widens_the_interval():
    # the same documents, measured precisely or loosely: composition carries the difference
    table, precise, _ = _corpus(seed=3, effect=0.05, posterior=2000.0)
    _, loose, _ = _corpus(seed=3, effect=0.05, posterior=20.0)
    table = derive_columns(table, PERIODS)
    analysis = EffectConfig(name="period", formula="theme ~ period")
    narrow = _period_effect(estimate_effects(table, precise, COLUMNS, analysis, 1))
    wide = _period_effect(estimate_effects(table, loose, COLUMNS, analysis, 1))
    assert wide["std_error"] > 1.2 * narrow["std_error"]
    assert narrow["cluster"] == ""  # HC1 without a cluster column


def test_fixed_effects_are_absorbed_and_not_reported_and_continuous_terms_have_no_reference():
    table, draws, _ = _corpus(seed=4, effect=0.05)
    table = derive_columns(table, PERIODS)
    analysis = EffectConfig(name="fe", formula="theme ~ period + year", fixed_effects=["province"], themes=["environment"])
    rows = estimate_effects(table, draws, COLUMNS, analysis, 1)
    assert [(row["term"], row["reference"]) for row in rows] == [("period[T.from_2013]", "before_2013"), ("year", "")]
    assert {row["theme"] for row in rows} == {"environment"}


@pytest.mark.parametrize(("change", "message"), [
    ({"formula": "theme ~ region"}, "column 'region' is not in the corpus metadata"),
    ({"formula": "share ~ period"}, "expected 'theme ~ covariates'"),
    ({"formula": "theme ~ constant"}, "'constant' has one level (east)"),
    ({"themes": ["cadres"]}, "'cadres' is not a theme of the codebook"),
    ({"formula": "theme ~ C(doc)"}, "12 documents for 12 parameters"),
    ({"cluster": "county"}, "column 'county' is not in the corpus metadata"),
])
def test_bad_analyses_fail_with_one_line_naming_the_key(change, message):
    table, draws, _ = _corpus(seed=5, n_documents=12)
    table = derive_columns(table.assign(constant="east", doc=[f"d{i}" for i in range(12)]), PERIODS)
    analysis = EffectConfig(**{"name": "bad", "formula": "theme ~ period", **change})
    with pytest.raises(ConfigError, match="^effects.analyses\\[2\\]") as error:
        estimate_effects(table, draws, COLUMNS, analysis, 1, key="effects.analyses[2]")
    assert message in str(error.value) and "\n" not in str(error.value)


def test_derived_periods_take_the_first_range_as_reference_and_leave_other_values_out():
    table = derive_columns(pd.DataFrame({"year": [2003, 2012, 2013, 2023, 1999]}), PERIODS)
    assert table["period"].tolist()[:4] == ["before_2013", "before_2013", "from_2013", "from_2013"]
    assert pd.isna(table["period"].iloc[4]) and list(table["period"].cat.categories) == ["before_2013", "from_2013"]
    with pytest.raises(ConfigError, match="effects.derived.period: column 'year' is not in the corpus metadata"):
        derive_columns(pd.DataFrame({"region": ["east"]}), PERIODS)


def test_shares_by_year_average_the_documents_with_intervals_over_the_draws():
    table, draws, truth = _corpus(seed=6, effect=0.05)
    point = draws.mean(axis=0)
    rows = shares_by(table, draws, point, COLUMNS, "year")
    years = sorted(set(table["year"]))
    assert [row["level"] for row in rows[: len(years)]] == years and len(rows) == 3 * len(years)
    first = rows[0]
    members = table["year"] == first["level"]
    assert first["share"] == pytest.approx(point[members, 0].mean())
    assert first["ci_low"] <= first["share"] <= first["ci_high"] and first["n_documents"] == members.sum()
    assert isinstance(first["level"], int)


def _run_folder(tmp_path, seed=8):
    """A run folder with what the effects stage reads: documents.csv and the draws."""
    table, draws, _ = _corpus(seed=seed, effect=0.05, n_draws=30)
    tmp_path.mkdir(parents=True, exist_ok=True)
    rows = []
    for index, record in table.iterrows():
        row = {"doc_id": f"d{index}", "duplicate_of": "", **record.to_dict()}
        row.update({f"theme_{theme}": float(draws[:, index, column].mean()) for column, theme in enumerate(COLUMNS)})
        rows.append(row)
    rows.append({**rows[0], "doc_id": "copy", "duplicate_of": "d0"})  # a duplicate has no draws
    write_csv(tmp_path / "documents.csv", rows, list(rows[0]))
    (tmp_path / "model").mkdir()
    np.save(tmp_path / DRAWS_FILE, draws)
    return tmp_path


def test_two_runs_write_byte_identical_tables(tmp_path):
    settings = EffectsConfig(
        derived=PERIODS, group_column="province", draws=20,
        analyses=[EffectConfig(name="period", formula="theme ~ period", cluster="province")],
    )
    written = {}
    for name in ("first", "second"):
        folder = _run_folder(tmp_path / name)
        assert write_effect_outputs(folder, settings, 11, COLUMNS[:2]) == [
            "effects.csv", "theme_by_year.csv", "theme_by_group.csv"]
        written[name] = {file: (folder / file).read_bytes() for file in ("effects.csv", "theme_by_year.csv", "theme_by_group.csv")}
    assert written["first"] == written["second"]
    effects = pd.read_csv(tmp_path / "first" / "effects.csv")
    assert len(effects) == 2 and set(effects["n_draws"]) == {20} and set(effects["n_documents"]) == {120}
    by_group = pd.read_csv(tmp_path / "first" / "theme_by_group.csv")
    assert set(by_group["group_column"]) == {"province"} and list(by_group["theme"].unique()) == COLUMNS
    # another seed draws other coefficients
    write_effect_outputs(tmp_path / "first", settings, 12, COLUMNS[:2])
    assert (tmp_path / "first" / "effects.csv").read_bytes() != written["first"]["effects.csv"]


def test_more_draws_than_the_run_saved_is_an_error(tmp_path):
    folder = _run_folder(tmp_path)
    settings = EffectsConfig(draws=31, analyses=[EffectConfig(name="p", formula="theme ~ year")])
    with pytest.raises(ConfigError, match="effects.draws: 31 is more than the run's 30 draws"):
        write_effect_outputs(folder, settings, 1, COLUMNS[:2])


def test_term_labels_name_the_level_and_its_reference():
    assert term_contrast("period[T.from_2013]", "before_2013") == "from_2013 vs before_2013"
    assert term_contrast("C(region)[T.east]", "central") == "east vs central"
    assert term_contrast("year", "") == "year"
