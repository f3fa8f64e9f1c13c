"""Tests of the command line: exit codes and one-line errors, run in a real subprocess."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
import yaml

from conftest import DEFAULT_CONFIG, REPO_ROOT, SEEDS
from policytopics.artifacts import compare_run_folders


def run_cli(*args, cwd=REPO_ROOT):
    return subprocess.run(
        [sys.executable, "-m", "policytopics", *map(str, args)],
        cwd=cwd, capture_output=True, text=True, timeout=600,
    )


def assert_one_line_error(completed, *fragments):
    assert completed.returncode == 2, completed.stderr
    lines = [line for line in completed.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, completed.stderr
    assert "Traceback" not in completed.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_unknown_key(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("lda:\n  num_topic: 12\n", encoding="utf-8")
    assert_one_line_error(run_cli("run", config), "unknown key 'lda.num_topic'", str(config))


def test_wrong_type(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("segment:\n  max_unit_chars: many\n", encoding="utf-8")
    assert_one_line_error(run_cli("clean", config), "segment.max_unit_chars", str(config))


def test_missing_corpus_folder(tmp_path):
    completed = run_cli("run", DEFAULT_CONFIG, "--set", f"corpus.path={tmp_path / 'nowhere'}",
                        "--set", f"output.results_dir={tmp_path}")
    assert_one_line_error(completed, str(tmp_path / "nowhere"))
    assert not (tmp_path / "default").exists()


def test_undecodable_file_is_skipped_with_a_warning(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good.txt").write_text("同志们：今天我们召开开发区工作会议，部署招商引资和项目建设工作。\n", encoding="utf-8")
    (corpus / "garbled.txt").write_bytes(b"\xff\xfe\x00\xd8" * 3 + b"\x81")
    completed = run_cli("clean", DEFAULT_CONFIG, "--set", f"corpus.path={corpus}",
                        "--set", f"output.results_dir={tmp_path / 'results'}")
    assert completed.returncode == 0, completed.stderr
    warnings = [line for line in completed.stderr.splitlines() if line.startswith("WARNING")]
    assert any("garbled.txt" in line for line in warnings), completed.stderr
    assert (tmp_path / "results" / "default" / "documents.csv").is_file()


def test_check_prints_resolved_config():
    completed = run_cli("check", DEFAULT_CONFIG, "--set", "segment.max_unit_chars=900")
    assert completed.returncode == 0, completed.stderr
    assert "max_unit_chars: 900" in completed.stdout


def test_run_writes_the_run_folder(tmp_path):
    completed = run_cli("run", DEFAULT_CONFIG, "--set", f"corpus.path={SEEDS}",
                        "--set", f"output.results_dir={tmp_path}", "--set", f"cache.dir={tmp_path / 'cache'}", "-q")
    assert completed.returncode == 0, completed.stderr
    folder = tmp_path / "default"
    for name in ("documents.csv", "units.csv", "tokens.jsonl", "vocabulary.csv", "cleaning_report.json",
                 "manifest.json", "config.resolved.yaml"):
        assert (folder / name).is_file(), name


def test_tokens_command_explains_each_word(tmp_path):
    completed = run_cli("tokens", DEFAULT_CONFIG, "同志们，党工委坚持招大引强，2023年完成投资3亿元。",
                        "--set", f"cache.dir={tmp_path}")
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    assert any(line.startswith("党工委") and "kept" in line for line in lines)
    # jieba always cuts 同志们 as 同志/们: the stopword list drops 同志, the length filter 们
    assert any(line.startswith("同志 ") and "dropped: stopword" in line for line in lines)
    assert any(line.startswith("们 ") and "dropped: short" in line for line in lines)
    assert lines[-1].startswith("tokens: ") and "招大引强" in lines[-1].split()


def test_model_config_errors(tmp_path):
    common = ["--set", f"corpus.path={SEEDS}", "--set", f"output.results_dir={tmp_path}", "--set", f"cache.dir={tmp_path / 'c'}"]
    assert_one_line_error(run_cli("run", DEFAULT_CONFIG, "--set", "lda.num_topics=1", *common), "lda.num_topics")
    assert_one_line_error(run_cli("run", DEFAULT_CONFIG, "--set", "themes.ids=[investment, tourism]", *common),
                          "themes.ids: tourism not in the codebook")
    assert_one_line_error(run_cli("run", DEFAULT_CONFIG, "--set", "lda.num_topics=5", *common),
                          "lda.num_topics: 5 is fewer than the 8 themes")
    assert not (tmp_path / "default").exists()


def test_empty_corpus_after_cleaning(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "greeting.txt").write_text("同志们：\n谢谢大家！我们一定努力。\n", encoding="utf-8")
    completed = run_cli("run", DEFAULT_CONFIG, "--set", f"corpus.path={corpus}", "--set", f"output.results_dir={tmp_path}",
                        "--set", f"cache.dir={tmp_path / 'c'}")
    assert_one_line_error(completed, "empty corpus after cleaning")


def test_validate_reads_a_run_folder_and_prints_the_run_and_both_baselines(tmp_path):
    # Light settings keep this quick; the accuracy itself is tested on the default run.
    light = ["--set", f"output.results_dir={tmp_path}", "--set", f"cache.dir={tmp_path / 'cache'}",
             "--set", "lda.passes=2", "--set", "selection.num_topics=[8]", "--set", "selection.stability_seeds=0",
             "--set", "output.figures=false", "--set", "output.report=false", "-q"]
    assert run_cli("run", DEFAULT_CONFIG, *light).returncode == 0
    completed = run_cli("validate", tmp_path / "default", REPO_ROOT / "tests/data/labels/seed_units.csv", "-q")
    assert completed.returncode == 0, completed.stderr
    assert "119 labelled units" in completed.stdout
    blocks = [line for line in completed.stdout.splitlines() if line.startswith("== ")]
    assert len(blocks) == 4 and "run's labels" in blocks[0] and "keyword count" in blocks[1], blocks
    assert "McNemar" in blocks[3]
    assert completed.stdout.count("Cohen's kappa") == 3
    assert_one_line_error(run_cli("validate", DEFAULT_CONFIG, REPO_ROOT / "tests/data/labels/seed_units.csv"),
                          "run folder")


HEAVY_MODULES = ("gensim", "sklearn", "matplotlib", "jieba", "pandas", "scipy", "pyLDAvis", "opencc")


def _imported_modules(*args):
    """Top-level modules a fresh interpreter imports for ``args`` (from ``python -X importtime``)."""
    completed = subprocess.run(
        [sys.executable, "-X", "importtime", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    modules = set()
    for line in completed.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            if name != "imported package":
                modules.add(name.split(".")[0])
    assert "policytopics" in modules  # the parsing works
    return modules


def test_importing_the_package_and_the_help_load_no_heavy_library():
    # `import policytopics` and `python -m policytopics --help` must stay instant: the heavy
    # libraries are imported by the stages that use them.
    for args in (["-c", "import policytopics"], ["-m", "policytopics", "--help"]):
        heavy = sorted(_imported_modules(*args) & set(HEAVY_MODULES))
        assert heavy == [], (args, heavy)


def test_the_import_check_sees_heavy_libraries():
    # the check above would catch a heavy import (it is not passing vacuously)
    assert {"numpy", "pandas"} <= _imported_modules("-c", "import policytopics, pandas")


# -- interrupted runs and run folders of another config -------------------------------------------

#: Light model settings: the runs below are about the run folder, not the models.
LIGHT = ["--set", "lda.passes=2", "--set", "selection.num_topics=[8]", "--set", "selection.stability_seeds=0"]


def _seed_settings(results, cache):
    return ["--set", f"corpus.path={SEEDS}", "--set", f"output.results_dir={results}", "--set", f"cache.dir={cache}", *LIGHT]


def _snapshot(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def previous_run(tmp_path_factory):
    """A finished run of the seeds (the results a killed rerun must not cost) and its warm cache."""
    root = tmp_path_factory.mktemp("previous")
    results, cache = root / "results", root / "cache"
    completed = run_cli("run", DEFAULT_CONFIG, *_seed_settings(results, cache), "-q")
    assert completed.returncode == 0, completed.stderr
    return results, cache


def _wait_for(condition, process, log, what, timeout=300):
    """Poll until ``condition()``; fail (with the run's log) if the run ends or time runs out first."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, f"the run ended (code {process.returncode}) before {what}:\n{log.read_text()}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}:\n{log.read_text()}"
        time.sleep(0.01)


@pytest.mark.parametrize(("sig", "when"), [
    (signal.SIGINT, "model"),  # after tokenising, before any run folder is staged
    (signal.SIGINT, "artifacts"),  # with a half-written staging folder
    (signal.SIGKILL, "artifacts"),  # no chance to clean up
], ids=["sigint-model", "sigint-artifacts", "sigkill-artifacts"])
def test_a_killed_run_leaves_the_previous_results_intact(previous_run, tmp_path, sig, when):
    # The rerun has the previous run's config, so had it finished it would have replaced the
    # folder (timings.json would differ): the kill has to land while it runs, which the polls
    # below make sure of (the model and artefact stages take seconds; the polls 10 ms).
    previous, cache = previous_run
    results = tmp_path / "results"
    shutil.copytree(previous, results)
    folder = results / "default"
    before = _snapshot(folder)
    log = tmp_path / "stderr.log"
    with log.open("w", encoding="utf-8") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "policytopics", "run", str(DEFAULT_CONFIG), *_seed_settings(results, cache)],
            cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=stderr, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    staging = results / f".default.tmp-{process.pid}"
    try:
        if when == "model":
            _wait_for(lambda: "tokenize: done" in log.read_text(encoding="utf-8"), process, log, "tokenising ended")
            assert "model: done" not in log.read_text(encoding="utf-8")
        else:
            _wait_for(lambda: (staging / "units.csv").is_file(), process, log, "the run folder was being written")
        process.send_signal(sig)
        code = process.wait(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    text = log.read_text(encoding="utf-8")
    assert _snapshot(folder) == before, "the previous results changed"
    visible = sorted(p.name for p in results.iterdir() if not p.name.startswith("."))
    assert visible == ["default"]
    if sig == signal.SIGINT:
        assert code == 130, text
        assert text.splitlines()[-1] == f"interrupted: the run was stopped; {results}/default was left as it was"
        assert "Traceback" not in text
        assert sorted(p.name for p in results.iterdir()) == ["default"]  # no staging left
        return
    assert code == -signal.SIGKILL, text
    assert staging.is_dir()  # the leftover: hidden, never read as results...
    # ...and removed by the next run of that name, which reproduces the previous results (the
    # copied folder records another results_dir: the same run, written elsewhere)
    completed = run_cli("run", DEFAULT_CONFIG, *_seed_settings(results, cache), "-q")
    assert completed.returncode == 0, completed.stderr
    assert sorted(p.name for p in results.iterdir()) == ["default"]
    assert _snapshot(folder) != before  # replaced...
    assert compare_run_folders(previous / "default", folder) == []  # ...by the same results


def test_a_run_folder_of_another_config_is_refused_unless_forced(tmp_path):
    results, cache = tmp_path / "results", tmp_path / "cache"
    common = ["--set", f"corpus.path={SEEDS}", "--set", f"output.results_dir={results}", "--set", f"cache.dir={cache}", "-q"]
    assert run_cli("clean", DEFAULT_CONFIG, *common).returncode == 0
    folder = results / "default"
    before = _snapshot(folder)
    other = ["--set", "segment.max_unit_chars=800"]
    for command in (["run"], ["clean"]):
        completed = run_cli(*command[:1], DEFAULT_CONFIG, *command[1:], *common, *other)
        assert_one_line_error(completed, str(folder), "another config", "config hash", "--force", "name")
        assert _snapshot(folder) == before
    # the same config again is a reproduction: replaced, byte for byte the same
    assert run_cli("clean", DEFAULT_CONFIG, *common).returncode == 0
    again = _snapshot(folder)
    assert again.pop("timings.json") and before.pop("timings.json") and again == before
    forced = run_cli("clean", DEFAULT_CONFIG, *common, *other, "--force")
    assert forced.returncode == 0, forced.stderr
    assert "max_unit_chars: 800" in (folder / "config.resolved.yaml").read_text(encoding="utf-8")
    beside = run_cli("clean", DEFAULT_CONFIG, *common, "--set", "name=beside")
    assert beside.returncode == 0 and (results / "beside" / "manifest.json").is_file()


def test_force_is_offered_by_the_commands_that_write_a_run_folder():
    for command, offered in (("run", True), ("clean", True), ("validate", False), ("check", False), ("tokens", False)):
        completed = run_cli(command, "--help")
        assert ("--force" in completed.stdout) == offered, command


def _small_corpus(folder):
    """Ten seed paragraphs per file, two files: about twenty units."""
    folder.mkdir()
    lines = [line for line in (SEEDS / "003_79fffe570bc6bca6.txt").read_text(encoding="utf-8").splitlines()
             if len(line) > 200]
    (folder / "a.txt").write_text("\n".join(lines[0:10]) + "\n", encoding="utf-8")
    (folder / "b.txt").write_text("\n".join(lines[10:20]) + "\n", encoding="utf-8")
    return folder


RUN_TIME_BAD_CONFIGS = [
    # (case, config text, fragments): only detectable with the corpus or the codebook in hand
    ("topics-above-units", "lda:\n  num_topics: 60\n", ["lda.num_topics: 60 topics for a corpus of only", "units"]),
    ("sweep-k-above-units", "lda:\n  num_topics: 8\nselection:\n  num_topics: [8, 40]\n",
     ["selection.num_topics: 40 topics for a corpus of only"]),
    ("clusters-above-units", "lda:\n  num_topics: 8\nselection:\n  num_topics: [8]\ncluster:\n  k: 40\n",
     ["cluster.k: 40 clusters for a corpus of only"]),
    ("guided-fewer-topics-than-themes", "lda:\n  num_topics: 5\n", ["lda.num_topics: 5 is fewer than the 8 themes"]),
    ("empty-keyword-list", "themes:\n  codebook: CODEBOOK\n", ["CODEBOOK", "theme 'cadre' has an empty keyword list"]),
    ("missing-codebook", "themes:\n  codebook: no/such/codebook.yaml\n", ["themes.codebook: file not found"]),
]


@pytest.mark.parametrize(("text", "fragments"), [case[1:] for case in RUN_TIME_BAD_CONFIGS],
                         ids=[case[0] for case in RUN_TIME_BAD_CONFIGS])
def test_impossible_values_found_at_run_time_give_one_line(tmp_path, capsys, text, fragments):
    # detected before tokenising (K against the units) or before reading the corpus (codebook):
    # one line naming the key and the file, never a gensim or scikit-learn traceback
    from policytopics.cli import main

    codebook = yaml.safe_load((REPO_ROOT / "configs/themes/devzone.yaml").read_text(encoding="utf-8"))
    for theme in codebook["themes"]:
        if theme["id"] == "cadre":
            theme["keywords"] = []
    (tmp_path / "codebook.yaml").write_text(yaml.safe_dump(codebook, allow_unicode=True), encoding="utf-8")
    text = text.replace("CODEBOOK", str(tmp_path / "codebook.yaml"))
    fragments = [fragment.replace("CODEBOOK", str(tmp_path / "codebook.yaml")) for fragment in fragments]
    config = tmp_path / "bad.yaml"
    config.write_text(text, encoding="utf-8")
    corpus = _small_corpus(tmp_path / "corpus")
    code = main(["run", str(config), "-q", "--set", f"corpus.path={corpus}", "--set", f"output.results_dir={tmp_path}",
                 "--set", f"cache.dir={tmp_path / 'cache'}"])
    captured = capsys.readouterr()
    assert code == 2, captured
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("error: ") and "Traceback" not in captured.err
    # the config file, or for a bad codebook the codebook file that holds the bad key
    assert str(config) in lines[0] or str(tmp_path / "codebook.yaml") in lines[0], lines[0]
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert not (tmp_path / "default").exists()


def test_compare_errors_give_one_line(tmp_path):
    common = ["--set", f"corpus.path={SEEDS}", "--set", f"output.results_dir={tmp_path}", "--set", f"cache.dir={tmp_path / 'c'}"]
    assert_one_line_error(run_cli("compare", DEFAULT_CONFIG, *common), "no effects section")
    effects = "effects={analyses: [{name: script, formula: 'theme ~ script'}]}"
    assert_one_line_error(run_cli("compare", DEFAULT_CONFIG, *common, "--set", effects), "run it first")
    assert_one_line_error(run_cli("compare", DEFAULT_CONFIG, *common, "--set", "effects={analyses: [{name: 'a b', formula: x}]}"),
                          "effects.analyses.0.name")
    # run checks the analyses against the documents' metadata before fitting any model
    one_level = "effects={analyses: [{name: s, formula: 'theme ~ site_kind + script', themes: [environment]}]}"
    assert_one_line_error(run_cli("run", DEFAULT_CONFIG, *common, "--set", effects.replace("script", "region")),
                          "effects.analyses[0]: column 'region' is not in the corpus metadata")
    assert_one_line_error(run_cli("run", DEFAULT_CONFIG, *common, "--set", one_level.replace("environment", "tourism")),
                          "effects.analyses[0].themes: 'tourism' is not a theme of the codebook")
    assert not (tmp_path / "default").exists() and not (tmp_path / "c" / "lda").exists()
