"""The documentation stays true to the code.

* docs/configuration.md is what scripts/config_docs.py generates from the config schema;
* docs/outputs.md describes every file and every column a run writes, and nothing a run no
  longer writes (checked against the committed results/default/ and its manifest);
* every config key the README and docs/methods.md name exists in the schema;
* the example config of the README checks, and its codebook keywords are single tokens;
* CITATION.cff is valid YAML with the version of pyproject.toml; CHANGELOG.md has its sections;
* stage modules say what comes in and goes out, and public functions carry numpydoc docstrings.
"""

from __future__ import annotations

import csv
import importlib
import importlib.util
import inspect
import json
import re
import tomllib
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
DOCS = REPO_ROOT / "docs"
RESULTS = REPO_ROOT / "results" / "default"
OUTPUTS_DOC = DOCS / "outputs.md"
SOURCE = REPO_ROOT / "src" / "policytopics"
EXAMPLE_CONFIG = DOCS / "examples" / "city-reports.yaml"

STAGE_MODULES = (
    "ingest", "clean", "segment", "tokenize", "features", "models.lda", "models.cluster",
    "models.persistence", "models.factories", "fitting", "codebook", "themes", "metrics", "sweep",
    "selection", "outputs", "artifacts", "report", "figures", "validation", "pipeline",
)


# -- docs/configuration.md ------------------------------------------------------------------


def _config_docs_script():
    spec = importlib.util.spec_from_file_location("config_docs", REPO_ROOT / "scripts" / "config_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_configuration_doc_is_generated_from_the_schema():
    script = _config_docs_script()
    committed = (DOCS / "configuration.md").read_text(encoding="utf-8")
    assert committed == script.generate(), (
        "docs/configuration.md differs from the config schema: regenerate it with "
        "`.venv/bin/python scripts/config_docs.py` (or `make docs`) and commit the result"
    )


def _schema_keys() -> set[str]:
    from pydantic import BaseModel

    from policytopics.config import Config

    from typing import get_args, get_origin

    keys: set[str] = set()

    def nested(annotation):
        """The section a field holds and how its key goes on (section, optional, list, by name)."""
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return annotation, ""
        origin, args = get_origin(annotation), get_args(annotation)
        models = [arg for arg in args if isinstance(arg, type) and issubclass(arg, BaseModel)]
        if not models:
            return None
        return models[0], {list: "[]", dict: ".<name>"}.get(origin, "")

    def walk(model, prefix):
        for name, field in model.model_fields.items():
            keys.add(prefix + name)
            inner = nested(field.annotation)
            if inner is not None:
                walk(inner[0], f"{prefix}{name}{inner[1]}.")

    walk(Config, "")
    return keys


def test_configuration_doc_lists_every_key():
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `([a-z_.<>\[\]]+)` \|", text, re.M))
    assert listed == _schema_keys()


@pytest.mark.parametrize("doc", ["README.md", "docs/methods.md", "docs/outputs.md"])
def test_config_keys_named_in_the_docs_exist(doc):
    sections = {"corpus", "clean", "segment", "tokenize", "themes", "features", "lda", "selection",
                "cluster", "output", "cache"}
    text = (REPO_ROOT / doc).read_text(encoding="utf-8")
    named = {
        match.split("=")[0].rstrip(":")
        for match in re.findall(r"`([a-z_]+\.[a-z_.]+[a-z_](?:=[^`]*)?)`", text)
        if match.split(".")[0] in sections
    }
    named |= {m for m in re.findall(r"--set ([a-z_]+\.[a-z_.]+)=", text) if m.split(".")[0] in sections}
    file_suffixes = {"yaml", "html", "csv", "json", "jsonl", "npy", "txt", "md", "png", "svg", "pkl", "gensim"}
    named = {key for key in named if key.rsplit(".", 1)[-1] not in file_suffixes}
    unknown = sorted(named - _schema_keys())
    assert not unknown, f"{doc} names config keys the schema does not have: {unknown}"


# -- docs/outputs.md ------------------------------------------------------------------------


def _pattern(name: str) -> re.Pattern[str]:
    """A documented name to a regex: ``<...>`` stands for any text (no ``/`` in a path)."""
    parts = re.split(r"<[^>]+>", name)
    return re.compile("[^/]+".join(re.escape(part) for part in parts) + r"\Z")


def _parse_outputs_doc() -> list[dict]:
    """The file sections of docs/outputs.md: files, whether optional, and the listed names."""
    text = OUTPUTS_DOC.read_text(encoding="utf-8")
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    sections: list[dict] = []
    current = None
    for line in text.splitlines():
        if line.startswith("#"):
            current = None
            if line.startswith("### "):
                files = re.findall(r"`([^`]+)`", line.split("(")[0] if "(" in line else line)
                optional = "(only with" in line or "(not committed)" in line
                current = {"files": files, "optional": optional, "table": None, "in_table": False}
                sections.append(current)
            continue
        if current is None:
            continue
        if line.startswith("|"):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if current["table"] is None and not current["in_table"] and cells[0] in ("column", "key"):
                current["table"], current["in_table"], current["kind"] = [], True, cells[0]
            elif current["in_table"] and not set(cells[0]) <= set("-: "):
                current["table"].append(re.findall(r"`([^`]+)`", cells[0])[0])
        elif current["in_table"]:
            current["in_table"] = False
    return sections


def _run_files() -> set[str]:
    """The files of the default run: what is on disk plus what its manifest lists."""
    manifest = json.loads((RESULTS / "manifest.json").read_text(encoding="utf-8"))
    on_disk = {p.relative_to(RESULTS).as_posix() for p in RESULTS.rglob("*") if p.is_file()}
    return on_disk | set(manifest["artifacts"]) | {"manifest.json"}


def _documented(name: str, sections: list[dict]) -> dict | None:
    for section in sections:
        if any(_pattern(pattern).match(name) for pattern in section["files"]):
            return section
    return None


def _match_columns(spec: list[str], header: list[str]) -> list[list[str]] | None:
    """Match a header to the documented column list in order. Literal names match one equal
    column, ``<...>`` patterns zero or more matching columns. Returns the columns each entry
    took, or None when the header does not fit."""
    patterns = [_pattern(name) if "<" in name else None for name in spec]

    def match(i: int, j: int) -> list[list[str]] | None:
        if i == len(spec):
            return [] if j == len(header) else None
        if patterns[i] is None:
            if j < len(header) and header[j] == spec[i]:
                rest = match(i + 1, j + 1)
                return None if rest is None else [[header[j]], *rest]
            return None
        end = j
        while end < len(header) and patterns[i].match(header[end]):
            end += 1
        for stop in range(end, j - 1, -1):  # greedy, then give back
            rest = match(i + 1, stop)
            if rest is not None:
                return [header[j:stop], *rest]
        return None

    return match(0, 0)


def test_outputs_doc_describes_every_file_of_a_run():
    sections = _parse_outputs_doc()
    missing = sorted(name for name in _run_files() if _documented(name, sections) is None)
    assert not missing, f"docs/outputs.md does not describe these files of results/default/: {missing}"


def test_outputs_doc_describes_no_file_a_run_no_longer_writes():
    files = _run_files()
    source = "\n".join(path.read_text(encoding="utf-8") for path in SOURCE.rglob("*.py"))
    stale = []
    for section in _parse_outputs_doc():
        for pattern in section["files"]:
            if any(_pattern(pattern).match(name) for name in files):
                continue
            # the file's stem as the start of a string in the code: "phrases.pkl", "theme_by_year"
            # (+ ".png"), f"effects_{analysis}" for figures/effects_<analysis>.png
            basename = pattern.rsplit("/", 1)[-1]
            stem = basename.split("<")[0] if "<" in basename else basename.rsplit(".", 1)[0]
            if section["optional"] and f'"{stem}' in source:
                continue
            stale.append(pattern)
    assert not stale, f"docs/outputs.md describes files no run writes (stale docs): {stale}"


def _csv_files() -> list[str]:
    return sorted(p.name for p in RESULTS.glob("*.csv"))


@pytest.mark.parametrize("name", _csv_files())
def test_outputs_doc_lists_the_columns_of(name):
    section = _documented(name, _parse_outputs_doc())
    assert section is not None and section["table"], f"docs/outputs.md has no column table for {name}"
    with open(RESULTS / name, encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    matched = _match_columns(section["table"], header)
    assert matched is not None, (
        f"docs/outputs.md lists the columns of {name} as {section['table']}, "
        f"but the file has {header} (a column added, removed or moved?)"
    )
    unused = [spec for spec, taken in zip(section["table"], matched) if not taken]
    assert not unused, f"{name}: documented patterns that match no column of results/default/{name}: {unused}"


#: The JSON files of a run folder. model/settings.json and timings.json are git-ignored under
#: results/default/, so the keys are read from the seed run the test session makes.
RUN_JSON_FILES = [
    "cleaning_report.json", "manifest.json", "model/ensemble.json", "model/settings.json", "summary.json", "timings.json",
    "tokens.jsonl",
]


def _json_files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.json*") if p.is_file())


def test_every_json_file_of_a_run_has_its_keys_checked(seed_run):
    assert _json_files(seed_run.run_dir) == RUN_JSON_FILES


@pytest.mark.parametrize("name", RUN_JSON_FILES)
def test_outputs_doc_lists_the_keys_of(name, seed_run):
    section = _documented(name, _parse_outputs_doc())
    assert section is not None and section["table"], f"docs/outputs.md has no key table for {name}"
    text = (seed_run.run_dir / name).read_text(encoding="utf-8")
    if name.endswith(".jsonl"):
        keys = set().union(*(json.loads(line).keys() for line in text.splitlines()[:50]))
    else:
        keys = set(json.loads(text))
    literal = {key for key in section["table"] if "<" not in key}
    patterns = [_pattern(key) for key in section["table"] if "<" in key]
    undocumented = sorted(k for k in keys - literal if not any(p.match(k) for p in patterns))
    stale = sorted(literal - keys)
    assert not undocumented, f"{name}: keys not described in docs/outputs.md: {undocumented}"
    assert not stale, f"{name}: docs/outputs.md describes keys the file does not have: {stale}"


def test_column_matching_needs_declared_patterns():
    assert _match_columns(["a", "theme_<id>", "theme"], ["a", "theme_x", "theme_y", "theme"]) == [
        ["a"], ["theme_x", "theme_y"], ["theme"]]
    assert _match_columns(["a", "b"], ["a", "extra", "b"]) is None
    assert _match_columns(["a", "b"], ["a"]) is None


def test_readme_links_the_docs():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    for target in ("docs/outputs.md", "docs/configuration.md", "docs/methods.md", "CHANGELOG.md", "CITATION.cff"):
        assert target in readme, f"README.md does not link {target}"
        assert (REPO_ROOT / target).is_file()


# -- the README's example config ------------------------------------------------------------


def test_example_config_checks_and_its_keywords_are_tokens(tmp_path):
    """The example of the README: it validates, its files exist, its codebook loads and
    every keyword comes out of the tokenizer (with the example dictionary) as one kept token."""
    from policytopics.config import load_config
    from policytopics.fitting import check_model_config
    from policytopics.tokenize import Tokenizer

    import os

    old = os.getcwd()
    os.chdir(REPO_ROOT)  # the example's paths are relative to the repository root
    try:
        config = load_config(EXAMPLE_CONFIG)
        for path in [*config.tokenize.dictionaries, *config.tokenize.stopword_files, config.themes.codebook]:
            assert Path(path).is_file(), path
        codebook = check_model_config(config)
        tokenizer = Tokenizer(config.tokenize, cache_dir=tmp_path / "jieba")
        for theme in codebook.themes:
            for keyword in theme.keywords:
                assert tokenizer.tokenize(keyword) == [keyword], f"{theme.id}: {keyword} is not one kept token"
        for stopword in config.tokenize.stopwords:
            assert stopword not in tokenizer.tokenize(f"今年{stopword}推进工作")
    finally:
        os.chdir(old)
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert EXAMPLE_CONFIG.read_text(encoding="utf-8").strip() in readme, (
        "README.md must quote docs/examples/city-reports.yaml verbatim"
    )


# -- CITATION.cff and CHANGELOG.md ----------------------------------------------------------


def test_citation_file_is_valid_and_has_the_package_version():
    citation = yaml.safe_load((REPO_ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert citation["cff-version"] == "1.2.0"
    for key in ("message", "title", "authors", "version", "date-released", "license", "abstract", "keywords"):
        assert citation.get(key), key
    assert str(citation["version"]) == project["version"]
    assert citation["license"] == "MIT"
    assert citation["authors"] == [{"name": "policytopics developers"}]


def test_changelog_has_an_unreleased_section_and_the_current_version():
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    text = (REPO_ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "## [Unreleased]" in text
    assert re.search(rf"^## \[{re.escape(project['version'])}\] - \d{{4}}-\d{{2}}-\d{{2}}$", text, re.M)


# -- docstrings -----------------------------------------------------------------------------


def test_stage_modules_say_what_comes_in_and_goes_out():
    missing = []
    for name in STAGE_MODULES:
        doc = importlib.import_module(f"policytopics.{name}").__doc__ or ""
        if not (re.search(r"\bIn\b:?", doc) and re.search(r"\bOut\b:?", doc)):
            missing.append(name)
    assert not missing, f"module docstrings without 'In:' and 'Out:': {missing}"


def _docstring_offenders() -> list[str]:
    offenders = []
    for name in STAGE_MODULES:
        module = importlib.import_module(f"policytopics.{name}")
        public = getattr(module, "__all__", None) or [n for n in vars(module) if not n.startswith("_")]
        for attribute in public:
            function = getattr(module, attribute)
            if not inspect.isfunction(function) or function.__module__ != module.__name__:
                continue
            doc = inspect.getdoc(function) or ""
            problems = []
            if not doc:
                problems.append("no docstring")
            else:
                if not re.search(r"^(Parameters|Returns|Yields)\n-{3,}$", doc, re.M):
                    problems.append("no Parameters/Returns section")
                if not re.search(r"^Examples\n-{3,}$", doc, re.M):
                    problems.append("no Examples section")
            if problems:
                offenders.append(f"policytopics.{name}.{attribute}: {', '.join(problems)}")
    return offenders


def test_public_functions_have_numpydoc_docstrings():
    offenders = _docstring_offenders()
    assert not offenders, "docstrings to complete:\n" + "\n".join(offenders)
