"""Applying a published run to new texts (apply.py): the same text gets the same shares as in
the run, the tables have the run's format, and a run folder or resource that changed is refused."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

import policytopics
from conftest import SEEDS
from policytopics.apply import apply_corpus, load
from policytopics.errors import ArtifactMismatchError

SHARE_SUFFIXES = ("_low", "_high")


def _share_columns(table):
    return [c for c in table.columns if c.startswith("theme_") and not c.endswith(SHARE_SUFFIXES)
            and c not in ("theme_ranking", "theme_distinct")]


def test_applying_the_run_to_its_own_corpus_reproduces_its_shares(seed_run, tmp_path):
    out = apply_corpus(seed_run.run_dir, SEEDS, out=tmp_path / "applied")
    for name in ("units.csv", "documents.csv"):
        run = pd.read_csv(seed_run.run_dir / name, keep_default_na=False)
        applied = pd.read_csv(out / name, keep_default_na=False)
        assert list(applied.columns) == list(run.columns), name  # the run's format
        key = "unit_id" if name == "units.csv" else "doc_id"
        assert applied[key].tolist() == run[key].tolist()
        columns = _share_columns(run)
        kept = run["duplicate_of"] == "" if "duplicate_of" in run else np.ones(len(run), dtype=bool)
        difference = np.abs(run.loc[kept, columns].to_numpy(float) - applied.loc[kept, columns].to_numpy(float))
        assert difference.max() <= 1e-6, name
        assert applied["theme"].tolist() == run["theme"].tolist()  # the same labels
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    run_manifest = json.loads((seed_run.run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["applied_model"]["config_sha256"] == run_manifest["config_sha256"]
    assert manifest["applied_model"]["model_artifacts"]["model/ensemble.json"] == run_manifest["artifacts"]["model/ensemble.json"]
    assert set(manifest["inputs"]) == {path.name for path in SEEDS.glob("*.txt")}


def test_transform_gives_a_text_the_shares_the_run_gave_it(seed_run):
    model = policytopics.load(seed_run.run_dir)
    path = next(SEEDS.glob("004_*.txt"))
    applied = model.transform({path.name: path.read_text(encoding="utf-8")})
    documents, units = applied.tables()
    run_units = pd.read_csv(seed_run.run_dir / "units.csv", keep_default_na=False).set_index("unit_id")
    assert len(units) and set(units["unit_id"]) <= set(run_units.index), path.name
    columns = _share_columns(run_units)
    mine = units.set_index("unit_id")[columns].to_numpy(float)
    assert np.abs(mine - run_units.loc[units["unit_id"], columns].to_numpy(float)).max() <= 1e-6
    assert (documents["theme_unassigned"].between(0, 1)).all()
    # unnamed texts are numbered; intervals contain the shares
    other = model.transform(["各位代表：今年我们将加快招商引资，推进重大项目建设，优化营商环境。"])
    assert other.documents[0].doc_id == "text-0001"
    shares, low, high = other.unit_measures.shares, other.unit_measures.low, other.unit_measures.high
    assert ((low <= shares + 1e-12) & (shares <= high + 1e-12)).all()


def test_a_run_folder_that_changed_is_refused(seed_run, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(seed_run.run_dir, copy)
    load(copy)  # intact: fine
    beta = copy / "model" / "ensemble" / "00.exp_elog_beta.npy"
    array = np.load(beta)
    np.save(beta, array * 1.01)
    with pytest.raises(ArtifactMismatchError, match="model/ensemble/00.exp_elog_beta.npy"):
        load(copy)
    np.save(beta, array)
    manifest = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
    manifest["resources"]["policytopics/resources/stopwords_general.txt"] = "0" * 64  # as if the file changed since
    (copy / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(ArtifactMismatchError, match="stopwords_general.txt"):
        load(copy)


def test_apply_reads_a_new_corpus_with_the_runs_settings_and_only_corpus_overrides(seed_run, tmp_path):
    corpus = tmp_path / "new.csv"
    pd.DataFrame({"id": ["a", "b"], "body": ["加快招商引资，推进重大项目建设。" * 3, "加强生态环境保护，推进污染防治。" * 3],
                  "year": [2023, 2024]}).to_csv(corpus, index=False)
    out = apply_corpus(seed_run.run_dir, corpus, tmp_path / "out", ["corpus.text_column=body", "corpus.id_column=id"])
    documents = pd.read_csv(out / "documents.csv")
    assert documents["year"].tolist() == [2023, 2024]  # metadata travels
    assert documents.loc[0, "theme_investment"] > documents.loc[0, "theme_environment"]
    assert documents.loc[1, "theme_environment"] > documents.loc[1, "theme_investment"]
    from policytopics.config import ConfigError

    with pytest.raises(ConfigError, match="only corpus"):
        apply_corpus(seed_run.run_dir, corpus, tmp_path / "other", ["lda.num_topics=5"])


def test_a_run_with_collocations_applies_its_own_phrases(tmp_path):
    # tokenize.phrases learns bigrams from the run's corpus; apply must join the run's, not learn new ones
    light = [f"corpus.path={SEEDS}", f"output.results_dir={tmp_path}", f"cache.dir={tmp_path / 'cache'}",
             "tokenize.phrases.enabled=true", "tokenize.phrases.min_count=3", "lda.passes=2", "lda.iterations=50",
             "selection.num_topics=[8]", "selection.stability_seeds=1", "lda.num_topics=8", "selection.choose=fixed",
             "cluster.k_range=[4, 6]", "output.figures=false", "output.report=false"]
    from conftest import DEFAULT_CONFIG

    run = policytopics.run(DEFAULT_CONFIG, light)
    vocabulary = pd.read_csv(run.run_dir / "vocabulary.csv", keep_default_na=False)["term"]
    assert vocabulary.str.contains("_").any()  # the run joined some bigrams
    path = next(SEEDS.glob("001_*.txt"))
    documents, units = policytopics.load(run.run_dir).transform({path.name: path.read_text(encoding="utf-8")}).tables()
    run_units = pd.read_csv(run.run_dir / "units.csv", keep_default_na=False).set_index("unit_id")
    columns = _share_columns(run_units)
    mine = units.set_index("unit_id")[columns].to_numpy(float)
    assert np.abs(mine - run_units.loc[units["unit_id"], columns].to_numpy(float)).max() <= 1e-6
