"""Tests of artifacts.py: atomic run folders, deterministic writers, manifest."""

from __future__ import annotations

import pandas as pd
import pytest

from policytopics import artifacts


def test_csv_round_trips_awkward_text_through_pandas(tmp_path):
    rows = [
        {"id": "a", "text": "逗号,引号\"和\n换行", "share": 0.123456789},
        {"id": "b", "text": "", "share": None},
    ]
    path = tmp_path / "t.csv"
    artifacts.write_csv(path, rows, ["id", "text", "share"])
    frame = pd.read_csv(path, keep_default_na=False, dtype=str)
    assert frame["text"].tolist() == ["逗号,引号\"和\n换行", ""]
    assert frame["share"].tolist() == ["0.123457", ""]
    assert path.read_bytes().count(b"\r") == 0


def test_json_is_sorted_and_unicode(tmp_path):
    path = tmp_path / "t.json"
    artifacts.write_json(path, {"b": 1, "a": "开发区"})
    assert path.read_text(encoding="utf-8") == '{\n  "a": "开发区",\n  "b": 1\n}\n'


def test_atomic_folder_replaces_on_success(tmp_path):
    target = tmp_path / "run"
    with artifacts.atomic_run_folder(target) as staging:
        (staging / "a.txt").write_text("first")
    with artifacts.atomic_run_folder(target) as staging:
        assert not (staging / "a.txt").exists()
        (staging / "b.txt").write_text("second")
    assert sorted(p.name for p in target.iterdir()) == ["b.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_failed_run_leaves_previous_results_and_no_debris(tmp_path):
    target = tmp_path / "run"
    with artifacts.atomic_run_folder(target) as staging:
        (staging / "a.txt").write_text("kept")
    with pytest.raises(RuntimeError):
        with artifacts.atomic_run_folder(target) as staging:
            (staging / "half.txt").write_text("half-written")
            raise RuntimeError("boom")
    assert (target / "a.txt").read_text() == "kept"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_manifest_hashes_every_artifact_but_itself(tmp_path):
    (tmp_path / "documents.csv").write_text("x")
    (tmp_path / "timings.json").write_text("{}")
    (tmp_path / "cleaned").mkdir()
    (tmp_path / "cleaned" / "d.txt").write_text("y")
    manifest = artifacts.build_manifest(tmp_path, config_sha256="c", inputs={"b.txt": "2", "a.txt": "1"}, stages=["ingest"])
    assert set(manifest["artifacts"]) == {"documents.csv", "cleaned/d.txt"}
    assert manifest["artifacts"]["documents.csv"] == artifacts.sha256_bytes(b"x")
    assert list(manifest["inputs"]) == ["a.txt", "b.txt"]
    assert manifest["packages"]["gensim"] != "not installed"


def _run_folder(folder, results_dir, table="a,b\n1,2\n"):
    import hashlib
    import json

    from markupsafe import escape

    folder.mkdir()
    config = f"seed: 1\noutput:\n  results_dir: {results_dir}\n"
    (folder / "config.resolved.yaml").write_text(config, encoding="utf-8")
    (folder / "table.csv").write_text(table, encoding="utf-8")
    config_hash = hashlib.sha256(config.encode("utf-8")).hexdigest()
    (folder / "report.html").write_text(f"<pre>{escape(config)}</pre><td>{config_hash}</td>", encoding="utf-8")
    manifest = {"seed": 1, "artifacts": artifacts.hash_tree(folder)}
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return folder


def test_compare_run_folders_sets_aside_only_the_output_location(tmp_path):
    reference = _run_folder(tmp_path / "reference", "results")
    elsewhere = _run_folder(tmp_path / "elsewhere", "/tmp/scratch <&>")
    assert artifacts.compare_run_folders(reference, elsewhere) == []
    changed = _run_folder(tmp_path / "changed", "/tmp/scratch", table="a,b\n1,3\n")
    problems = artifacts.compare_run_folders(reference, changed)
    assert any(p.startswith("table.csv: hash differs") for p in problems), problems
    assert any(p.startswith("table.csv: differs from the reference (first differing byte 6") for p in problems), problems
