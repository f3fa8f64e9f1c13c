"""The tokenisation resources: the development-zone dictionary and the stopword lists.

Real jieba throughout, no mocks. The domain-term sentences in
tests/data/tokenize/domain_terms.tsv are clauses of the cleaned seed corpus; the tests
check that they still are, that the dictionary makes each term one token, and that the
dictionary is needed for that (plain jieba splits at least half of them).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from conftest import DEFAULT_CONFIG, REPO_ROOT, SEEDS

RESOURCES = REPO_ROOT / "src" / "policytopics" / "resources"
DICTIONARY = RESOURCES / "devzone_dict.txt"
STOPWORD_FILES = (RESOURCES / "stopwords_general.txt", RESOURCES / "stopwords_speech.txt")
DOMAIN_TERMS = REPO_ROOT / "tests" / "data" / "tokenize" / "domain_terms.tsv"

#: The POS tags of the ICTCLAS set as jieba uses them (jieba/dict.txt, jieba.posseg).
ICTCLAS_TAGS = frozenset(
    "a ad ag an b bg c d df dg e en f g h i in j jn k l ln m mg mq n ng nr nrfg nrt ns nt "
    "nz o p q r rg rr rz s t tg u ud ug uj ul uv uz v vd vg vi vn vq x y z zg eng".split()
)

#: Fillers the speech list must hold (the brief names them).
REQUIRED_FILLERS = (
    "同志们 各位代表 大家 进一步 切实 全面 不断 深入 大力 积极 认真 扎实 着力 努力 "
    "推进 加强 坚持 推动 抓好 做好 实现 提高 工作 方面 问题 情况 水平 能力 重要 "
    "今年 去年 一年来 全区 我区 我们 建设 发展"
).split()

#: Words that carry a policy theme and must never be stopwords.
THEMATIC_WORDS = (
    "招商引资 招商 项目 项目建设 企业 民生 规划 土地 征地 拆迁 干部 党建 作风 廉政 环保 "
    "污染 生态 创新 科技创新 产业 工业 投资 资金 园区 开发区 管委会 党工委 基础设施 "
    "基础设施建设 改革 营商环境 环境 经济 科技 人才 城市 社区 就业 教育 医疗 养老 住房 "
    "交通 文化 服务 群众 政策 考核 安全生产 社会保障 招大引强 专精特新 亩均效益"
).split()

_DICT_LINE = re.compile(r"^(?P<word>\S+)(?: (?P<freq>\d+))?(?: (?P<tag>[a-z]+))?$")


# -- helpers and fixtures ---------------------------------------------------------------


def _content_lines(path: Path) -> list[tuple[int, str]]:
    lines = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if line and not line.startswith("#"):
            lines.append((number, line))
    return lines


def _stopwords(path: Path) -> list[str]:
    return [line for _, line in _content_lines(path)]


def _dictionary_words() -> list[str]:
    return [line.split()[0] for _, line in _content_lines(DICTIONARY)]


def _domain_terms() -> list[tuple[str, str]]:
    rows = []
    for number, line in _content_lines(DOMAIN_TERMS):
        term, sep, sentence = line.partition("\t")
        assert sep and term and sentence and "\t" not in sentence, f"line {number}: {line!r}"
        rows.append((term, sentence))
    return rows


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
    """The project tokenizer with the default config (default dictionary and stopwords)."""
    from policytopics.config import TokenizeConfig
    from policytopics.tokenize import Tokenizer

    return Tokenizer(TokenizeConfig(), cache_dir=tmp_path_factory.mktemp("jieba"))


@pytest.fixture(scope="module")
def plain_jieba(tmp_path_factory):
    """A fresh jieba instance without our dictionary, tagged with posseg (HMM on)."""
    import jieba
    import jieba.posseg

    base = jieba.Tokenizer()
    base.tmp_dir = str(tmp_path_factory.mktemp("plain-jieba"))
    return jieba.posseg.POSTokenizer(base)


@pytest.fixture(scope="module")
def seed_units():
    """Unit texts of the cleaned seed corpus (ingest, clean, segment; nothing written)."""
    from policytopics.config import load_config
    from policytopics.pipeline import prepare_corpus

    config = load_config(DEFAULT_CONFIG, [f"corpus.path={SEEDS}"])
    units = prepare_corpus(config, {}).units
    return [unit.text for unit in units]


# -- the domain terms -------------------------------------------------------------------


def test_domain_term_fixture_has_sixty_distinct_terms_each_in_its_sentence():
    rows = _domain_terms()
    terms = [term for term, _ in rows]
    assert len(rows) >= 60
    assert not [t for t, n in Counter(terms).items() if n > 1], "a term is listed twice"
    assert not [(t, s) for t, s in rows if t not in s], "a sentence lacks its term"
    assert not [t for t in terms if t not in set(_dictionary_words())], "term not in the dictionary"


def test_domain_term_sentences_are_copied_from_the_cleaned_seed_corpus(seed_units):
    missing = [(term, sentence) for term, sentence in _domain_terms()
               if not any(sentence in text for text in seed_units)]
    assert not missing


def test_domain_terms_are_one_token_with_the_default_dictionary(tokenizer):
    failures = []
    for term, sentence in _domain_terms():
        words = [word for word, _ in tokenizer.segment(sentence)]
        if term not in words:
            failures.append(f"{term}: {'/'.join(words)}")
    assert not failures, "\n".join(failures)


def test_domain_terms_survive_the_token_filter(tokenizer):
    lost = [(term, tokenizer.tokenize(sentence)) for term, sentence in _domain_terms()
            if term.lower() not in tokenizer.tokenize(sentence)]
    assert not lost


def test_plain_jieba_splits_at_least_half_of_the_domain_terms(plain_jieba):
    rows = _domain_terms()
    split = [term for term, sentence in rows
             if term not in [pair.word for pair in plain_jieba.cut(sentence, HMM=True)]]
    assert len(split) >= len(rows) / 2, f"plain jieba splits only {len(split)} of {len(rows)}"


def test_dictionary_tags_reach_the_tagger(tokenizer):
    assert tokenizer.segment("管委会") == [("管委会", "nt")]  # jieba alone: j
    assert tokenizer.segment("招商引资") == [("招商引资", "vn")]  # jieba alone: n
    assert tokenizer.segment("拆迁") == [("拆迁", "vn")]  # jieba alone: v


# -- the dictionary file ----------------------------------------------------------------


def test_every_dictionary_line_is_word_freq_tag_with_an_ictclas_tag():
    bad = []
    for number, line in _content_lines(DICTIONARY):
        match = _DICT_LINE.match(line)
        if not match or not match["freq"] or int(match["freq"]) < 1 or match["tag"] not in ICTCLAS_TAGS:
            bad.append(f"{number}: {line}")
    assert not bad


def test_dictionary_has_no_duplicates_and_hundreds_of_entries():
    words = _dictionary_words()
    assert len(words) >= 400
    assert not [w for w, n in Counter(words).items() if n > 1]


def test_dictionary_parses_with_the_tokenizer_reader():
    from policytopics.tokenize import read_dictionary

    entries = read_dictionary(DICTIONARY)
    assert [e.word for e in entries] == _dictionary_words()
    assert all(e.freq and e.tag in ICTCLAS_TAGS for e in entries)


def test_every_dictionary_section_opens_with_a_comment_and_holds_entries():
    sections: list[tuple[str, int]] = []
    for raw in DICTIONARY.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("# ---"):
            assert len(line[5:].strip()) >= 10, f"section comment says nothing: {line!r}"
            sections.append((line, 0))
        elif line and not line.startswith("#"):
            assert sections, f"entry before the first section: {line!r}"
            sections[-1] = (sections[-1][0], sections[-1][1] + 1)
    assert len(sections) >= 8
    assert not [title for title, count in sections if count == 0]


def test_no_dictionary_entry_is_a_stopword():
    stopwords = {w for path in STOPWORD_FILES for w in _stopwords(path)}
    assert not sorted(set(_dictionary_words()) & stopwords)


# -- the stopword files -----------------------------------------------------------------


@pytest.mark.parametrize("path", STOPWORD_FILES, ids=lambda p: p.name)
def test_stopword_file_is_one_word_a_line_without_duplicates_in_sections(path):
    words = _stopwords(path)
    assert len(words) >= 200
    assert not [w for w in words if re.search(r"\s", w)]
    assert not [w for w, n in Counter(words).items() if n > 1]
    first = path.read_text(encoding="utf-8").splitlines()
    assert sum(line.startswith("# ---") for line in first) >= 4


def test_stopword_files_do_not_repeat_each_other():
    general, speech = (set(_stopwords(path)) for path in STOPWORD_FILES)
    assert not sorted(general & speech)


def test_speech_fillers_named_in_the_brief_are_stopwords():
    stopwords = {w for path in STOPWORD_FILES for w in _stopwords(path)}
    assert not [w for w in REQUIRED_FILLERS if w not in stopwords]


def test_thematic_words_are_never_stopwords():
    stopwords = {w for path in STOPWORD_FILES for w in _stopwords(path)}
    assert not [w for w in THEMATIC_WORDS if w in stopwords]


def test_top_tokens_of_the_seed_corpus_are_free_of_fillers_numbers_and_characters(tokenizer, seed_units):
    counts = Counter(token for text in seed_units for token in tokenizer.tokenize(text))
    top = [token for token, _ in counts.most_common(50)]
    fillers = set(REQUIRED_FILLERS) | {"市委", "市政府", "同志", "任务", "目标", "力度", "重点"}
    assert not [t for t in top if t in fillers]
    assert not [t for t in top if len(t) < 2 or re.search(r"\d", t)]
    assert {"开发区", "项目", "企业", "招商引资"} <= set(top)
