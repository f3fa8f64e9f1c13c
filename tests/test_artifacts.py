"""Tests of artifacts.py: atomic run folders, deterministic writers, manifest."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from policytopics import artifacts
from policytopics.provenance import sha256_bytes


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
    assert manifest["artifacts"]["documents.csv"] == sha256_bytes(b"x")
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


# -- never clobber: leftovers of killed runs, atomic swap, config guard, manifest check -----------


def _dead_pid():
    """The id of a process that has exited (and been reaped)."""
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _files(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_staging_left_by_a_killed_run_is_removed_by_the_next_run_and_a_live_ones_kept(tmp_path):
    import subprocess
    import sys

    target = tmp_path / "run"
    with artifacts.atomic_run_folder(target) as staging:
        (staging / "a.txt").write_text("previous")
    dead = tmp_path / f".run.tmp-{_dead_pid()}"  # what SIGKILL leaves: a half-written staging folder
    dead.mkdir()
    (dead / "units.csv").write_text("half")
    other = tmp_path / ".other.tmp-1"  # another run name's business
    other.mkdir()
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) as alive:
        try:
            running = tmp_path / f".run.tmp-{alive.pid}"  # a run still in progress
            running.mkdir()
            with artifacts.atomic_run_folder(target) as staging:
                (staging / "b.txt").write_text("new")
            assert not dead.exists()
            assert running.is_dir() and other.is_dir()
        finally:
            alive.kill()
    assert _files(target) == {"b.txt": b"new"}


def test_a_run_folder_a_kill_took_away_mid_swap_is_restored(tmp_path):
    target = tmp_path / "run"
    retired = tmp_path / f".run.old-{_dead_pid()}"  # killed between moving the old folder aside and the rename
    retired.mkdir()
    (retired / "manifest.json").write_text("{}")
    staged = tmp_path / f".run.tmp-{_dead_pid()}"
    staged.mkdir()
    (staged / "units.csv").write_text("unconfirmed")
    assert set(artifacts.tidy_run_folder(target)) == {retired, staged}
    assert _files(target) == {"manifest.json": b"{}"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    # with the run folder in place, a retired copy is only debris
    retired.mkdir()
    artifacts.tidy_run_folder(target)
    assert not retired.exists() and _files(target) == {"manifest.json": b"{}"}


def test_the_swap_is_one_atomic_exchange_on_linux(tmp_path):
    import sys

    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    (first / "a").write_text("1")
    (second / "b").write_text("2")
    exchanged = artifacts._exchange(first, second)
    assert exchanged or not sys.platform.startswith("linux")
    if exchanged:
        assert _files(first) == {"b": b"2"} and _files(second) == {"a": b"1"}


@pytest.mark.parametrize("exchange", [True, False], ids=["exchange", "two-renames"])
def test_replacing_works_with_and_without_the_atomic_exchange(tmp_path, monkeypatch, exchange):
    if not exchange:
        monkeypatch.setattr(artifacts, "_exchange", lambda first, second: False)
    target = tmp_path / "run"
    for text in ("first", "second"):
        with artifacts.atomic_run_folder(target) as staging:
            (staging / f"{text}.txt").write_text(text)
        assert _files(target) == {f"{text}.txt": text.encode()}
        assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_an_interrupt_between_the_two_renames_puts_the_previous_folder_back(tmp_path, monkeypatch):
    monkeypatch.setattr(artifacts, "_exchange", lambda first, second: False)
    target = tmp_path / "run"
    with artifacts.atomic_run_folder(target) as staging:
        (staging / "a.txt").write_text("kept")
    real_replace = artifacts.os.replace

    def interrupted(source, destination):
        if ".tmp-" in str(source):  # the new folder's rename, after the old one was moved aside
            raise KeyboardInterrupt
        return real_replace(source, destination)

    monkeypatch.setattr(artifacts.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        with artifacts.atomic_run_folder(target) as staging:
            (staging / "b.txt").write_text("new")
    monkeypatch.undo()
    assert _files(target) == {"a.txt": b"kept"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def _write_run(folder, config_yaml):
    folder.mkdir(parents=True)
    (folder / "config.resolved.yaml").write_text(config_yaml, encoding="utf-8")
    (folder / "units.csv").write_text("unit_id\n", encoding="utf-8")
    manifest = artifacts.build_manifest(
        folder, config_sha256=sha256_bytes(config_yaml.encode("utf-8")), inputs={}, stages=["ingest"])
    artifacts.write_json(folder / "manifest.json", manifest)
    return folder


CONFIG_A = "name: run\nseed: 1\noutput:\n  results_dir: results\ncache:\n  dir: .cache\n"


def test_a_run_folder_of_another_config_is_refused_unless_forced(tmp_path):
    from policytopics.errors import PolicytopicsError, RunFolderConflictError

    target = _write_run(tmp_path / "run", CONFIG_A)
    artifacts.check_replaceable(target, CONFIG_A)  # the same config: a reproduction
    # written through other results and cache folders: still the same run
    artifacts.check_replaceable(target, CONFIG_A.replace("results_dir: results", f"results_dir: {tmp_path}")
                                .replace("dir: .cache", "dir: /tmp/elsewhere"))
    other = CONFIG_A.replace("seed: 1", "seed: 2")
    with pytest.raises(RunFolderConflictError) as caught:
        artifacts.check_replaceable(target, other)
    message = str(caught.value)
    assert isinstance(caught.value, PolicytopicsError) and "\n" not in message
    assert str(target) in message and "another config" in message and "config hash" in message
    recorded = json.loads((target / "manifest.json").read_text())["config_sha256"]
    assert recorded[:12] in message and sha256_bytes(other.encode())[:12] in message
    assert "--force" in message and "name" in message
    artifacts.check_replaceable(target, other, force=True)
    artifacts.check_replaceable(tmp_path / "absent", other)
    (tmp_path / "empty").mkdir()
    artifacts.check_replaceable(tmp_path / "empty", other)


def test_a_folder_without_a_manifest_is_not_replaced(tmp_path):
    from policytopics.errors import RunFolderConflictError

    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "notes.txt").write_text("a researcher's file")
    with pytest.raises(RunFolderConflictError, match="no readable manifest.json"):
        artifacts.check_replaceable(folder, CONFIG_A)
    (folder / "manifest.json").write_text("{truncated")
    with pytest.raises(RunFolderConflictError, match="no readable manifest.json"):
        artifacts.check_replaceable(folder, CONFIG_A)
    artifacts.check_replaceable(folder, CONFIG_A, force=True)


def test_a_refusal_at_the_end_discards_the_new_folder(tmp_path):
    from policytopics.errors import RunFolderConflictError

    target = _write_run(tmp_path / "run", CONFIG_A)
    before = _files(target)
    other = CONFIG_A.replace("seed: 1", "seed: 2")
    with pytest.raises(RunFolderConflictError):
        with artifacts.atomic_run_folder(target, lambda: artifacts.check_replaceable(target, other)) as staging:
            (staging / "units.csv").write_text("new")
    assert _files(target) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_verify_artifacts_names_changed_unlisted_and_missing_files(tmp_path):
    from policytopics.errors import ArtifactMismatchError

    folder = _write_run(tmp_path / "run", CONFIG_A)
    (folder / "model").mkdir()
    assert set(artifacts.verify_artifacts(folder)) == {"config.resolved.yaml", "units.csv"}
    with pytest.raises(ArtifactMismatchError, match="lists no file under model/"):
        artifacts.verify_artifacts(folder, "model")
    (folder / "units.csv").write_text("unit_id\nu1\n")
    (folder / "extra.csv").write_text("x")
    (folder / "config.resolved.yaml").unlink()
    with pytest.raises(ArtifactMismatchError) as caught:
        artifacts.verify_artifacts(folder)
    message = str(caught.value)
    assert "units.csv differs from the hash" in message
    assert "extra.csv has no entry in manifest.json" in message
    assert "config.resolved.yaml is listed in manifest.json but missing" in message
    (folder / "manifest.json").unlink()
    with pytest.raises(ArtifactMismatchError, match="no manifest.json"):
        artifacts.verify_artifacts(folder)


def test_checksums_stand_alone_and_artifacts_reexports_them(tmp_path):
    import subprocess
    import sys

    from policytopics import checksums
    from policytopics.errors import ArtifactMismatchError

    assert artifacts.verify_artifacts is checksums.verify_artifacts
    assert artifacts.hash_tree is checksums.hash_tree and artifacts.UNHASHED_FILES is checksums.UNHASHED_FILES
    code = "import sys, policytopics.checksums; print(sorted(m for m in sys.modules if m.startswith('policytopics.')))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "['policytopics.checksums', 'policytopics.errors', 'policytopics.provenance']"
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "a.bin").write_bytes(b"a")
    (tmp_path / "other.txt").write_text("not checked")
    digests = {"model/a.bin": sha256_bytes(b"a")}
    assert checksums.verify_checksums(tmp_path, digests, "model", listing="checksums.json") == digests
    with pytest.raises(ArtifactMismatchError, match="model/a.bin differs from the hash checksums.json records"):
        checksums.verify_checksums(tmp_path, {"model/a.bin": sha256_bytes(b"b")}, "model", listing="checksums.json")
