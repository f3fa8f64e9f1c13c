"""Tests of the command line: exit codes and one-line errors, run in a real subprocess."""

from __future__ import annotations

import subprocess
import sys

from conftest import DEFAULT_CONFIG, REPO_ROOT, SEEDS


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


def test_validate_prints_the_run_the_model_alone_and_the_keyword_count(tmp_path):
    # Light settings keep this quick; the accuracy itself is tested on the default run.
    completed = run_cli(
        "validate", DEFAULT_CONFIG, REPO_ROOT / "tests/data/labels/seed_units.csv", "-q",
        "--set", f"output.results_dir={tmp_path}", "--set", f"cache.dir={tmp_path / 'cache'}",
        "--set", "lda.passes=2", "--set", "selection.num_topics=[8]", "--set", "selection.stability_seeds=0",
    )
    assert completed.returncode == 0, completed.stderr
    titles = [line for line in completed.stdout.splitlines() if "labelled units matched" in line]
    assert len(titles) == 3, completed.stdout
    assert "with keyword evidence" in titles[0] and "alone" in titles[1] and "keyword count" in titles[2]
    assert all("119 of 119" in title for title in titles)
    assert completed.stdout.count("Cohen's kappa") == 3


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
