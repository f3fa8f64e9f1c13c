"""The default theme codebook (configs/themes/devzone.yaml) and the hand-labelled seed units
(tests/data/labels/seed_units.csv).

Real tokenizer and real corpora throughout: the codebook's keywords must be single kept
tokens of the default tokenizer, and must occur in the seed speeches, the 2024 city reports
or the provincial reports of 2003-2023. Tokenising the city and provincial corpora takes
minutes, so their counts are read from tests/data/codebook/keyword_coverage.csv, which
scripts/keyword_coverage.py writes; the tests check that the file lists exactly the
codebook's keywords and that its seed counts are those of the seed corpus tokenised now
(so a codebook or dictionary change without re-running the script fails). The labels must
point at real units of the seed run (the ``seed_run`` fixture) and at real themes of the
codebook.
"""

from __future__ import annotations

import csv
import re
from collections import Counter

import pytest
import yaml

from conftest import DEFAULT_CONFIG, REPO_ROOT, SEEDS

CODEBOOK = REPO_ROOT / "configs" / "themes" / "devzone.yaml"
COVERAGE = REPO_ROOT / "tests" / "data" / "codebook" / "keyword_coverage.csv"
CORPUS_SIZES = REPO_ROOT / "tests" / "data" / "codebook" / "corpus_sizes.csv"
COVERAGE_DOC = REPO_ROOT / "docs" / "keyword_coverage.md"
REGENERATE = ".venv/bin/python scripts/keyword_coverage.py configs/themes/devzone.yaml"
LABELS = REPO_ROOT / "tests" / "data" / "labels" / "seed_units.csv"
LABELS_README = REPO_ROOT / "tests" / "data" / "labels" / "README.md"

#: The themes the brief requires, with the Chinese labels it gives the first four.
REQUIRED_THEMES = {
    "investment": "招商引资与项目",
    "livelihood": "民生与社会事业",
    "planning": "规划、城建、土地与基础设施",
    "cadre": "干部队伍、党建、作风与廉政",
    "industry": None,
    "environment": None,
    "reform": None,
    "economy": None,
}
MIN_KEYWORDS, MAX_KEYWORDS = 35, 50
MIN_PRESENT_SHARE = 0.8  # of each theme's keywords, found in the tokens of at least one corpus
#: The corpora of the coverage file (column suffixes), and the periods of the provincial panel.
CORPORA = ("seeds", "city", "province")
PERIODS = ("province_2003_2012", "province_2013_2023")
COVERAGE_COLUMNS = ["theme", "keyword", "one_token"] + [
    f"{kind}_{corpus}" for corpus in CORPORA + PERIODS for kind in ("units", "docs")
]
#: A keyword in more than this share of the units of the city or provincial corpus is too
#: common to mark one theme (the seeds, 229 units of development-zone speeches, are exempt).
MAX_UNIT_SHARE = 0.10
MIN_LABELS_PER_THEME = 5
LABEL_COLUMNS = ["unit_id", "theme", "snippet", "basis"]
SNIPPET_CHARS = 20


# -- fixtures ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def raw_codebook():
    """The codebook as plain YAML (so duplicates the package loader rejects can be listed)."""
    data = yaml.safe_load(CODEBOOK.read_text(encoding="utf-8"))
    assert isinstance(data, dict) and isinstance(data.get("themes"), list), "no 'themes' list"
    return data


@pytest.fixture(scope="module")
def themes(raw_codebook):
    return raw_codebook["themes"]


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
    """The default tokenizer (default dictionary and stopwords), as the pipeline builds it."""
    from policytopics.config import TokenizeConfig
    from policytopics.tokenize import Tokenizer

    return Tokenizer(TokenizeConfig(), cache_dir=tmp_path_factory.mktemp("jieba"))


@pytest.fixture(scope="module")
def labels():
    with open(LABELS, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
        assert reader.fieldnames == LABEL_COLUMNS
    return rows


@pytest.fixture(scope="module")
def units_by_id(seed_run):
    return {unit.unit_id: unit for unit in seed_run.units}


@pytest.fixture(scope="module")
def coverage():
    """The rows of keyword_coverage.csv, counts as int."""
    with open(COVERAGE, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
        assert reader.fieldnames == COVERAGE_COLUMNS, f"unexpected columns; regenerate with {REGENERATE}"
    return [{key: (value if key in ("theme", "keyword") else int(value)) for key, value in row.items()}
            for row in rows]


@pytest.fixture(scope="module")
def seed_tokens(tmp_path_factory):
    """(doc_id, tokens) of every unit of the seed corpus, tokenised as a run does (no models)."""
    from policytopics.config import load_config
    from policytopics.pipeline import prepare_corpus, tokenize_units

    cache = tmp_path_factory.mktemp("seed-tokens")
    config = load_config(DEFAULT_CONFIG, [f"corpus.path={SEEDS}", f"cache.dir={cache}"])
    units = prepare_corpus(config, {}).units
    _, corpus = tokenize_units(config, units, {})
    return [(unit.doc_id, list(tokens)) for unit, tokens in zip(units, corpus.tokens)]


@pytest.fixture(scope="module")
def corpus_sizes():
    with open(CORPUS_SIZES, encoding="utf-8", newline="") as handle:
        return {row["corpus"]: (int(row["documents"]), int(row["units"])) for row in csv.DictReader(handle)}


# -- the codebook -----------------------------------------------------------------------


def test_codebook_parses_with_the_package_loader(themes):
    from policytopics.codebook import load_codebook

    codebook = load_codebook(CODEBOOK)
    assert codebook.ids == [theme["id"] for theme in themes]
    assert codebook.keywords() == {theme["id"]: theme["keywords"] for theme in themes}


def test_codebook_has_version_one_and_every_field_filled(raw_codebook, themes):
    assert raw_codebook.get("version") == 1
    empty = [
        (theme.get("id"), field)
        for theme in themes
        for field in ("id", "label_zh", "label_en", "description")
        if not isinstance(theme.get(field), str) or not theme[field].strip()
    ]
    assert not empty
    assert all(re.search(r"[\u4e00-\u9fff]", theme["label_zh"]) for theme in themes)


def test_codebook_has_the_required_themes_with_their_labels(themes):
    by_id = {theme["id"]: theme for theme in themes}
    assert not [theme_id for theme_id in REQUIRED_THEMES if theme_id not in by_id]
    wrong = {theme_id: by_id[theme_id]["label_zh"] for theme_id, label in REQUIRED_THEMES.items()
             if label is not None and by_id[theme_id]["label_zh"] != label}
    assert not wrong


def test_theme_ids_are_unique_identifiers(themes):
    ids = [theme["id"] for theme in themes]
    assert not [theme_id for theme_id, n in Counter(ids).items() if n > 1]
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", theme_id) for theme_id in ids)


def test_every_theme_has_35_to_50_distinct_keywords(themes):
    counts = {theme["id"]: len(theme["keywords"]) for theme in themes}
    assert all(MIN_KEYWORDS <= n <= MAX_KEYWORDS for n in counts.values()), counts
    repeated = {theme["id"]: [k for k, n in Counter(theme["keywords"]).items() if n > 1] for theme in themes}
    assert not {theme_id: words for theme_id, words in repeated.items() if words}


def test_no_keyword_belongs_to_two_themes(themes):
    owners: dict[str, set[str]] = {}
    for theme in themes:
        for keyword in theme["keywords"]:
            owners.setdefault(keyword, set()).add(theme["id"])
    assert not {keyword: sorted(ids) for keyword, ids in owners.items() if len(ids) > 1}


def test_every_keyword_is_one_kept_token_of_the_default_tokenizer(themes, tokenizer):
    split = {keyword: tokenizer.tokenize(keyword)
             for theme in themes for keyword in theme["keywords"]
             if tokenizer.tokenize(keyword) != [keyword]}
    assert not split, "keywords the tokenizer splits or drops (keyword: tokens): " + str(split)


# -- where the keywords occur (tests/data/codebook/keyword_coverage.csv) ------------------


def test_coverage_file_lists_exactly_the_codebook_keywords(themes, coverage):
    listed = [(row["theme"], row["keyword"]) for row in coverage]
    expected = [(theme["id"], keyword) for theme in themes for keyword in theme["keywords"]]
    assert listed == expected, f"keyword_coverage.csv is stale: regenerate it with {REGENERATE}"


def test_coverage_file_seed_counts_are_those_of_the_seed_tokens(coverage, seed_tokens):
    """The file's seed counts equal the seed corpus's tokens now, so the file is as current as
    the codebook, the dictionary and the stopwords (which change the seed tokens too)."""
    units: Counter = Counter()
    docs: dict[str, set[str]] = {}
    keywords = {row["keyword"] for row in coverage}
    for doc_id, tokens in seed_tokens:
        for keyword in keywords & set(tokens):
            units[keyword] += 1
            docs.setdefault(keyword, set()).add(doc_id)
    stale = {row["keyword"]: (row["units_seeds"], row["docs_seeds"], units[row["keyword"]],
                              len(docs.get(row["keyword"], ())))
             for row in coverage
             if (row["units_seeds"], row["docs_seeds"]) != (units[row["keyword"]], len(docs.get(row["keyword"], ())))}
    assert not stale, f"seed counts (file units, docs; run units, docs) differ, regenerate with {REGENERATE}: {stale}"


def test_coverage_file_agrees_with_the_tokenizer_and_the_corpus_sizes(coverage, corpus_sizes, seed_tokens):
    assert [row["keyword"] for row in coverage if not row["one_token"]] == []
    assert sorted(corpus_sizes) == sorted(CORPORA + PERIODS)
    assert corpus_sizes["seeds"] == (len({doc_id for doc_id, _ in seed_tokens}), len(seed_tokens))
    assert sum(corpus_sizes[period][1] for period in PERIODS) == corpus_sizes["province"][1]
    too_many = [(row["keyword"], corpus) for row in coverage for corpus in CORPORA + PERIODS
                if row[f"units_{corpus}"] > corpus_sizes[corpus][1] or row[f"docs_{corpus}"] > corpus_sizes[corpus][0]]
    assert not too_many


def test_most_keywords_of_each_theme_occur_in_one_of_the_three_corpora(coverage):
    short = {}
    for theme_id in dict.fromkeys(row["theme"] for row in coverage):
        rows = [row for row in coverage if row["theme"] == theme_id]
        missing = [row["keyword"] for row in rows if not any(row[f"units_{corpus}"] for corpus in CORPORA)]
        if len(missing) > (1 - MIN_PRESENT_SHARE) * len(rows):
            short[theme_id] = missing
    assert not short, f"themes with fewer than {MIN_PRESENT_SHARE:.0%} of their keywords in any corpus: {short}"


def test_every_theme_has_keywords_in_each_corpus_and_period(coverage):
    """The codebook carries over: seeds, city reports and provincial reports of both decades."""
    absent = {(theme_id, corpus)
              for theme_id in {row["theme"] for row in coverage}
              for corpus in CORPORA + PERIODS
              if not any(row[f"units_{corpus}"] for row in coverage if row["theme"] == theme_id)}
    assert not absent, f"themes without a keyword in a corpus: {sorted(absent)}"


def test_no_keyword_is_in_more_than_a_tenth_of_the_city_or_provincial_units(coverage, corpus_sizes):
    common = {(row["keyword"], corpus): round(row[f"units_{corpus}"] / corpus_sizes[corpus][1], 3)
              for row in coverage for corpus in ("city", "province") + PERIODS
              if row[f"units_{corpus}"] > MAX_UNIT_SHARE * corpus_sizes[corpus][1]}
    assert not common, f"keywords too common to mark one theme (share of units): {common}"


def test_coverage_doc_tables_list_exactly_the_codebook_keywords(themes):
    """docs/keyword_coverage.md, written with the CSV, has one table per theme in codebook order."""
    text = COVERAGE_DOC.read_text(encoding="utf-8")
    assert REGENERATE in text.split("## Corpora")[0], "the doc does not start with the command that wrote it"
    tables: dict[str, list[str]] = {}
    theme_id = None
    for line in text.split("## Keywords per theme", 1)[1].splitlines():
        heading = re.fullmatch(r"### `([a-z_]+)`", line)
        if heading:
            theme_id = heading[1]
            tables[theme_id] = []
        elif theme_id and line.startswith("| ") and not line.startswith("| keyword |"):
            tables[theme_id].append(line.split("|")[1].strip())
    assert tables == {theme["id"]: list(theme["keywords"]) for theme in themes}, (
        f"docs/keyword_coverage.md is stale: regenerate it with {REGENERATE}")


# -- the hand-labelled seed units ------------------------------------------------------


def test_labels_file_has_one_row_per_unit_and_a_basis_for_each(labels):
    assert 80 <= len(labels) <= 120
    ids = [row["unit_id"] for row in labels]
    assert not [unit_id for unit_id, n in Counter(ids).items() if n > 1]
    assert not [row for row in labels if not re.match(r"(heading: \S|content\b)", row["basis"])]


def test_labelled_units_exist_in_the_seed_run(labels, units_by_id):
    assert not [row["unit_id"] for row in labels if row["unit_id"] not in units_by_id]


def test_labelled_themes_are_codebook_ids(labels, themes):
    ids = {theme["id"] for theme in themes}
    assert not sorted({row["theme"] for row in labels} - ids)


def test_snippets_are_the_first_20_characters_of_their_unit(labels, units_by_id):
    wrong = [row["unit_id"] for row in labels
             if row["unit_id"] in units_by_id
             and (len(row["snippet"]) != SNIPPET_CHARS
                  or units_by_id[row["unit_id"]].text[:SNIPPET_CHARS] != row["snippet"])]
    assert not wrong


def test_snippets_find_their_unit_when_ids_change(labels, seed_run):
    """Matched by text as policytopics.validation does (snippet stripped, prefix of one unit)."""
    from policytopics.validation import load_labels

    ambiguous = {}
    for row in labels:
        matches = [u.unit_id for u in seed_run.units if u.text.startswith(row["snippet"].strip())]
        if matches != [row["unit_id"]]:
            ambiguous[row["unit_id"]] = matches
    assert not ambiguous
    assert load_labels(LABELS, seed_run.units) == [(row["unit_id"], row["theme"]) for row in labels]


def test_every_theme_has_at_least_five_labelled_units(labels, themes):
    counts = Counter(row["theme"] for row in labels)
    assert not {theme["id"]: counts[theme["id"]] for theme in themes
                if counts[theme["id"]] < MIN_LABELS_PER_THEME}


def test_labels_cover_every_document_of_the_seed_run(labels, seed_run):
    documents = {unit.doc_id for unit in seed_run.units}
    labelled = {unit.doc_id for unit in seed_run.units if unit.unit_id in {row["unit_id"] for row in labels}}
    assert not sorted(documents - labelled)


def test_readme_states_the_per_theme_counts(labels):
    text = LABELS_README.read_text(encoding="utf-8")
    stated = {m["theme"]: int(m["n"]) for m in re.finditer(r"^\| `(?P<theme>[a-z_]+)` \|[^|\n]*\| (?P<n>\d+) \|$", text, re.M)}
    assert stated == dict(Counter(row["theme"] for row in labels))


# -- codebook.py: loading and checking any codebook ---------------------------------------------

from policytopics.codebook import CodebookError, check_keywords, load_codebook  # noqa: E402

SMALL_CODEBOOK = """\
version: 1
themes:
  - id: investment
    label_zh: 招商引资与项目
    label_en: Investment
    description: Attracting investors and projects.
    keywords: [招商引资, 项目落地]
  - id: livelihood
    label_zh: 民生
    label_en: Livelihood
    description: Jobs, schools, housing.
    keywords: [民生工程, 安置房]
"""


def write(tmp_path, text, name="codebook.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_load_codebook_and_select_ids(tmp_path):
    path = write(tmp_path, SMALL_CODEBOOK)
    codebook = load_codebook(path)
    assert codebook.ids == ["investment", "livelihood"]
    assert codebook.keywords()["livelihood"] == ["民生工程", "安置房"]
    assert load_codebook(path, ["livelihood"]).ids == ["livelihood"]
    assert len(codebook.sha256) == 64


@pytest.mark.parametrize(
    "text, message",
    [
        (SMALL_CODEBOOK.replace("[民生工程, 安置房]", "[]"), "empty keyword list"),
        (SMALL_CODEBOOK.replace("[民生工程, 安置房]", "[民生工程, 招商引资]"), "belongs to both"),
        (SMALL_CODEBOOK.replace("id: livelihood", "id: investment"), "used twice"),
        (SMALL_CODEBOOK.replace("label_en: Livelihood", "label_english: Livelihood"), "label_english"),
        ("themes: [unclosed\n", "not valid YAML"),
    ],
)
def test_bad_codebooks_are_named(tmp_path, text, message):
    with pytest.raises(CodebookError, match=message):
        load_codebook(write(tmp_path, text))


def test_theme_id_missing_from_codebook(tmp_path):
    with pytest.raises(CodebookError, match=r"themes.ids: cadre not in the codebook"):
        load_codebook(write(tmp_path, SMALL_CODEBOOK), ["investment", "cadre"])
    with pytest.raises(CodebookError, match="file not found"):
        load_codebook(tmp_path / "none.yaml")


def test_keyword_check_reports_split_and_absent(tmp_path):
    codebook = load_codebook(write(tmp_path, SMALL_CODEBOOK))
    splitter = {"招商引资": ["招商引资"], "项目落地": ["项目", "落地"], "民生工程": ["民生工程"], "安置房": ["安置房"]}
    check = check_keywords(codebook, lambda word: splitter[word], {"招商引资", "民生工程"})
    assert check.usable == {"investment": ["招商引资"], "livelihood": ["民生工程"]}
    assert check.split == {"项目落地": ["项目", "落地"]}
    assert check.absent == ["安置房"]
    assert [row["status"] for row in check.rows(codebook)] == ["used", "split: 项目 落地", "used", "absent from corpus"]
    with pytest.raises(CodebookError, match="theme 'livelihood' has no usable keyword"):
        check_keywords(codebook, lambda word: splitter[word], {"招商引资"})
