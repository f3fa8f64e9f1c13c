"""Tests of tokenize.py: filtering rules, no global jieba state, the cache, parallel order."""

from __future__ import annotations

import sqlite3

import jieba
import pytest

from policytopics.config import PhrasesConfig, TokenizeConfig
from policytopics.tokenize import (
    ResourceError,
    TokenCache,
    Tokenizer,
    read_dictionary,
    tokenize_texts,
    vocabulary_rows,
)

SENTENCES = [
    "党工委坚持招大引强，全力优化营商环境，推动项目落地。",
    "2023年完成固定资产投资3亿元，增长12.5%，GDP突破20XX亿元。",
    "同志们，我们要进一步加强干部队伍建设和党风廉政建设。",
    "加快建设标准厂房，完善路网和基础设施，推进征地拆迁工作。",
    "实施民生工程，为民办实事，建设安置房，保障义务教育。",
]


@pytest.fixture
def resources(tmp_path):
    """A tiny dictionary and stopword list, so these tests do not depend on the curated ones."""
    dictionary = tmp_path / "dict.txt"
    dictionary.write_text(
        "# address\n同志们 1000 r\n# zone bodies\n党工委 2000 nt\n# investment\n招大引强 1000 nz\n项目落地 1000 nz\n"
        "# cadre building\n干部队伍建设 1000 nz\n党风廉政建设 1000 nz\n",
        encoding="utf-8",
    )
    stopwords = tmp_path / "stop.txt"
    stopwords.write_text("# fillers\n同志们\n工作\n", encoding="utf-8")
    return dictionary, stopwords


@pytest.fixture(scope="module")
def jieba_cache(tmp_path_factory):
    """One jieba cache folder for the module, so equal dictionaries share a loaded jieba."""
    return tmp_path_factory.mktemp("jieba-cache")


@pytest.fixture
def make_tokenizer(resources, jieba_cache):
    def make(**settings):
        dictionary, stopwords = resources
        config = TokenizeConfig(
            default_dictionary=False, default_stopwords=False,
            dictionaries=[str(dictionary)], stopword_files=[str(stopwords)], **settings,
        )
        return Tokenizer(config, cache_dir=jieba_cache)

    return make


def test_dictionary_terms_stay_whole(resources, make_tokenizer, tmp_path):
    tokens = make_tokenizer().tokenize(SENTENCES[0])
    assert "党工委" in tokens and "招大引强" in tokens and "项目落地" in tokens
    assert "营商" in tokens  # not in this tiny dictionary: jieba's own split survives


def test_filler_numbers_punctuation_and_short_tokens_go(resources, make_tokenizer, tmp_path):
    tokenizer = make_tokenizer()
    decisions = {d.word: d for d in tokenizer.explain(SENTENCES[1] + SENTENCES[2])}
    assert decisions["同志们"].reason == "stopword"
    for word in ("2023", "12.5", "20", "xx"):
        assert decisions[word].reason == "number", word
    assert decisions["，"].reason == "punctuation"
    assert decisions["gdp"].kept  # Latin is lower-cased and kept as eng
    kept = tokenizer.tokenize(SENTENCES[1] + SENTENCES[2])
    assert all(len(token) >= 2 for token in kept)
    assert "干部队伍建设" in kept and "党风廉政建设" in kept


def test_numbers_are_kept_on_request(resources, make_tokenizer, tmp_path):
    kept = make_tokenizer(keep_numbers=True, keep_pos=[]).tokenize(SENTENCES[1])
    assert "2023" in kept


def test_pos_filter_and_dictionary_terms(resources, make_tokenizer, tmp_path):
    tokenizer = make_tokenizer(keep_pos=["n"])
    decisions = tokenizer.explain(SENTENCES[0])
    assert all(d.pos == "n" or d.reason == "dictionary" for d in decisions if d.kept)
    assert any(d.word == "党工委" and d.kept and d.reason == "dictionary" for d in decisions)
    strict = make_tokenizer(keep_pos=["n"], keep_dictionary_terms=False)
    assert "党工委" not in strict.tokenize(SENTENCES[0])  # nt is not n


def test_no_global_jieba_state_and_cache_in_project_folder(resources, make_tokenizer, tmp_path):
    tokenizer = make_tokenizer()
    tokenizer.tokenize(SENTENCES[0])
    assert "招大引强" not in jieba.dt.FREQ  # the module-level dictionary is untouched
    assert (tokenizer.cache_dir / "jieba.cache").is_file()


def test_dictionary_files_may_have_comments_and_bad_lines_are_named(tmp_path):
    path = tmp_path / "d.txt"
    path.write_text("# comment\n\n亩均效益 50 nz\n", encoding="utf-8")
    assert [entry.word for entry in read_dictionary(path)] == ["亩均效益"]
    path.write_text("亩均效益 fifty nz extra\n", encoding="utf-8")
    with pytest.raises(ResourceError, match=r"d.txt:1"):
        read_dictionary(path)
    missing = Tokenizer(TokenizeConfig(dictionaries=[str(tmp_path / "none.txt")]))
    with pytest.raises(ResourceError, match="tokenize.dictionaries: file not found"):
        missing.fingerprint


def test_fingerprint_tracks_what_changes_tokens(resources, make_tokenizer, tmp_path):
    base = make_tokenizer().fingerprint
    assert make_tokenizer(workers=7).fingerprint == base
    assert make_tokenizer(phrases=PhrasesConfig(enabled=True)).fingerprint == base
    assert make_tokenizer(min_chars=3).fingerprint != base
    dictionary, _ = resources
    dictionary.write_text(dictionary.read_text(encoding="utf-8") + "营商环境 1000 nz\n", encoding="utf-8")
    assert make_tokenizer().fingerprint != base


def test_cache_hits_and_invalidation(resources, make_tokenizer, tmp_path):
    cache = TokenCache(tmp_path / "cache")
    first = tokenize_texts(SENTENCES, make_tokenizer(), cache=cache)
    assert (first.cache_hits, first.tokenised) == (0, len(SENTENCES))
    again = tokenize_texts(SENTENCES, make_tokenizer(workers=2), cache=cache)
    assert (again.cache_hits, again.tokenised) == (len(SENTENCES), 0)
    assert again.tokens == first.tokens
    # a changed dictionary makes every unit a miss under the new fingerprint ...
    dictionary, _ = resources
    dictionary.write_text(dictionary.read_text(encoding="utf-8") + "营商环境 1000 nz\n", encoding="utf-8")
    changed = tokenize_texts(SENTENCES, make_tokenizer(), cache=cache)
    assert changed.cache_hits == 0 and "营商环境" in changed.tokens[0]
    # ... and one new unit text is the only miss
    more = tokenize_texts(SENTENCES + ["新建安置房一千套。"], make_tokenizer(), cache=cache)
    assert (more.cache_hits, more.tokenised) == (len(SENTENCES), 1)
    cache.close()


def test_corrupt_cache_entry_is_rebuilt(resources, make_tokenizer, tmp_path):
    tokenizer = make_tokenizer()
    cache = TokenCache(tmp_path / "cache")
    expected = tokenize_texts(SENTENCES, tokenizer, cache=cache).tokens
    cache.close()
    with sqlite3.connect(tmp_path / "cache" / "tokens.sqlite") as db:
        db.execute("UPDATE tokens SET payload = substr(payload, 1, 5)")  # truncate every entry
    cache = TokenCache(tmp_path / "cache")
    rebuilt = tokenize_texts(SENTENCES, tokenizer, cache=cache)
    assert rebuilt.tokenised == len(SENTENCES) and rebuilt.tokens == expected
    assert tokenize_texts(SENTENCES, tokenizer, cache=cache).cache_hits == len(SENTENCES)
    cache.close()


def test_two_workers_give_the_tokens_of_one(resources, make_tokenizer, tmp_path):
    texts = SENTENCES * 8
    tokenizer = make_tokenizer()
    one = tokenize_texts(texts, tokenizer, workers=1)
    # chunks of ~100 characters force several work packages across the two processes
    two = tokenize_texts(texts, tokenizer, workers=2, chunk_chars=100)
    assert two.tokens == one.tokens and two.pos == one.pos


def test_progress_is_reported(resources, make_tokenizer, tmp_path):
    calls = []
    tokenize_texts(SENTENCES, make_tokenizer(), progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (len(SENTENCES), len(SENTENCES))


def test_phrases_join_collocations(resources, make_tokenizer, tmp_path):
    texts = ["招商 引资 工作 成效 明显"] * 10 + ["园区 建设 成效 明显"] * 3
    tokenizer = make_tokenizer(keep_pos=[])
    plain = tokenize_texts(texts, tokenizer)
    joined = tokenize_texts(texts, tokenizer, phrases=PhrasesConfig(enabled=True, min_count=2, threshold=0.5))
    assert any("_" in token for unit in joined.tokens for token in unit)
    assert not any("_" in token for unit in plain.tokens for token in unit)
    assert joined.phrases is not None
    assert {tag for unit, tags in zip(joined.tokens, joined.pos) for t, tag in zip(unit, tags) if "_" in t} == {"phrase"}


def test_vocabulary_rows(resources, make_tokenizer, tmp_path):
    tokenizer = make_tokenizer()
    corpus = tokenize_texts(SENTENCES + SENTENCES[:1], tokenizer)
    rows = {row["term"]: row for row in vocabulary_rows(corpus, tokenizer.dictionary_terms)}
    assert rows["党工委"] == {"term": "党工委", "document_frequency": 2, "corpus_frequency": 2,
                            "in_dictionary": True, "pos": "nt"}
    frequencies = [row["corpus_frequency"] for row in vocabulary_rows(corpus, tokenizer.dictionary_terms)]
    assert frequencies == sorted(frequencies, reverse=True)
