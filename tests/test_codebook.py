"""The default theme codebook (configs/themes/devzone.yaml) and the hand-labelled seed units
(tests/data/labels/seed_units.csv).

Real tokenizer and real corpora throughout: the codebook's keywords must be single kept
tokens of the default tokenizer and must occur in the seed speeches or the city reports;
the labels must point at real units of the seed run (the ``seed_run`` fixture) and at real
themes of the codebook.
"""

from __future__ import annotations

import csv
import re
from collections import Counter

import pytest
import yaml

from conftest import CITY_REPORTS, REPO_ROOT

CODEBOOK = REPO_ROOT / "configs" / "themes" / "devzone.yaml"
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
MIN_KEYWORDS, MAX_KEYWORDS = 15, 40
MIN_PRESENT_SHARE = 0.8  # of each theme's keywords, found in the seed or city corpus tokens
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


def _city_paragraphs() -> list[str]:
    paragraphs = []
    for path in sorted(CITY_REPORTS.glob("*.txt")):
        paragraphs.extend(p.strip() for p in path.read_text(encoding="utf-8").splitlines() if p.strip())
    return paragraphs


# -- the codebook -----------------------------------------------------------------------


def test_codebook_parses_with_the_package_loader(themes):
    from policytopics.themes import load_codebook

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


def test_every_theme_has_15_to_40_distinct_keywords(themes):
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


def test_most_keywords_of_each_theme_occur_in_the_seed_or_city_corpus(themes, tokenizer, seed_run):
    if not CITY_REPORTS.is_dir():
        pytest.skip(f"city reports not found at {CITY_REPORTS}")
    assert seed_run.tokens, "the seed run has no tokens"
    seed_vocabulary = {token for tokens in seed_run.tokens.values() for token in tokens}
    paragraphs = _city_paragraphs()
    assert len(paragraphs) > 1000

    def in_city(keyword: str) -> bool:
        # Tokenise only paragraphs that contain the keyword's characters, up to the first hit.
        return any(keyword in tokenizer.tokenize(p) for p in paragraphs if keyword in p.lower())

    short = {}
    for theme in themes:
        missing = [k for k in theme["keywords"] if k not in seed_vocabulary and not in_city(k)]
        if len(missing) > (1 - MIN_PRESENT_SHARE) * len(theme["keywords"]):
            short[theme["id"]] = missing
    assert not short, f"themes with fewer than {MIN_PRESENT_SHARE:.0%} of their keywords in either corpus: {short}"


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
