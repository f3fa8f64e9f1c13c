"""Tests of tokenisation (tokenize.py and its parts): filters, jieba state, the cache, parallel order."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import jieba
import jieba.posseg
import pytest

from policytopics.config import PhrasesConfig, TokenizeConfig
from policytopics.tokenize import (
    CachedTokenize,
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


def test_cached_tokenize_gives_the_tokenizers_tokens_without_building_jieba_again(make_tokenizer, tmp_path):
    keywords = ["招大引强", "干部队伍建设", "营商环境"]
    expected = [make_tokenizer().tokenize(keyword) for keyword in keywords]
    first = CachedTokenize(make_tokenizer(), tmp_path / "cache")
    assert [first(keyword) for keyword in keywords] == expected
    fresh = make_tokenizer()
    again = CachedTokenize(fresh, tmp_path / "cache")
    assert [again(keyword) for keyword in keywords] == expected
    assert "_segmenter" not in fresh.__dict__  # every keyword came from the cache: jieba was not built
    uncached = make_tokenizer()
    assert CachedTokenize(uncached, None)("招大引强") == expected[0] and "_segmenter" in uncached.__dict__


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


def test_pool_starts_once_and_only_when_a_batch_needs_it(resources, make_tokenizer, monkeypatch):
    import policytopics.tokenize as module

    started = []
    real = module.process_pool
    monkeypatch.setattr(module, "process_pool", lambda n, context: started.append(n) or real(n, context=context))
    tokenize_texts(SENTENCES, make_tokenizer(), workers=2)  # one work package: no pool
    assert started == []
    texts = SENTENCES * 8  # four batches of several packages each: one pool for all of them
    two = tokenize_texts(texts, make_tokenizer(), workers=2, chunk_chars=100, batch_chars=300)
    assert started == [2]
    assert two.tokens == tokenize_texts(texts, make_tokenizer()).tokens


def test_names_other_modules_import_stay_importable():
    from policytopics import jieba_segmenter, token_cache, token_resources
    from policytopics.tokenize import DEFAULT_DICTIONARY, TokenCache, forget_memos

    assert DEFAULT_DICTIONARY is token_resources.DEFAULT_DICTIONARY and DEFAULT_DICTIONARY.is_file()
    assert TokenCache is token_cache.TokenCache and forget_memos is jieba_segmenter.forget_memos


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


# -- the fast path reproduces jieba.posseg -----------------------------------------------------

SEEDS = Path(__file__).resolve().parents[1] / "seeds"

# Spans where posseg's HMM finds no allowed state for a character (jieba's own Viterbi then
# decides), characters the HMM has never seen, Latin, digits, mixed scripts and whitespace.
EDGE_CASES = [
    "宜荆段和宜涪段，潍焦薛能，鑫淼森，徐淙祥有淄有爱。",
    "勠力同心，垟垱垾埇塆墈，栟槜毘沚泇洸浉浰湶。",
    "GDP增长5.2%，PM2.5浓度下降，ISO14000认证，5G基站3,000个，C++与C#，a&b_c.d",
    "20XX年XX月，１２３ＡＢＣ，ⅡⅢ期工程， 全角　空格\t制表\r\n换行",
    "",
    "。",
    "的",
]


@pytest.fixture(scope="module")
def seed_lines():
    """Sentences of the raw seed speeches (boilerplate, pinyin, traditional script and all),
    every tenth one (jieba.posseg itself takes half a minute on all of them), and the edge cases."""
    import re

    sentences = []
    for path in sorted(SEEDS.glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            sentences += [s for s in re.split(r"(?<=[。！？!?；;])", line) if len(s.strip()) >= 4]
    sample = sentences[::10]
    assert len(sample) > 100 and sum(map(len, sample)) > 8_000
    return sample + EDGE_CASES


@pytest.mark.parametrize("hmm", [True, False])
def test_fast_path_gives_the_pairs_of_jieba_posseg(seed_lines, jieba_cache, hmm):
    fast = Tokenizer(TokenizeConfig(hmm=hmm), cache_dir=jieba_cache)
    posseg = fast._pos_tokenizer  # jieba.posseg over our own jieba.Tokenizer, as before
    assert isinstance(posseg, jieba.posseg.POSTokenizer)
    expected = [[(pair.word, pair.flag) for pair in posseg.cut(line, HMM=hmm)] for line in seed_lines]
    assert [fast.segment(line) for line in seed_lines] == expected
    kept = [[(d.word, d.pos) for d in (fast.decide(*pair) for pair in line) if d.kept] for line in expected]
    assert [fast.tokenize_with_pos(line) for line in seed_lines] == kept  # the memoised filter
    # the lines do reach every branch: words only the HMM makes, numbers, Latin, whitespace
    freq = posseg.tokenizer.FREQ
    pairs = [pair for line in expected for pair in line]
    if hmm:
        assert sum(1 for word, _ in pairs if len(word) > 1 and not freq.get(word) and "\u4e00" <= word[0] <= "\u9fd5") > 50
    assert any(tag == "eng" for _, tag in pairs)
    assert any(tag == ("m" if hmm else "eng") and word.isdigit() for word, tag in pairs)
    assert any(word.isspace() for word, _ in pairs)


def test_fast_viterbi_is_jiebas_viterbi():
    import random

    from jieba.posseg import char_state_tab_P, emit_P, start_P, trans_P
    from jieba.posseg.viterbi import viterbi

    from policytopics.jieba_segmenter import _PosHmm

    rng = random.Random(6)
    common = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处理府研质"
    rare = "潍淙涪淄翌淼勠垟垱垾埇塆墈栟槜毘沚泇洸浉浰湶圪鑫"
    spans = ["宜荆段和宜涪段", "潍焦薛能", "鑫淼森", "徐淙祥", "圪且", "勠", "垟垱"]
    for _ in range(400):
        spans.append("".join(rng.choice(common if rng.random() < 0.8 else rare) for _ in range(rng.randint(1, 9))))
    hmm = _PosHmm.get()
    for span in spans:
        assert hmm.viterbi(span) == viterbi(span, char_state_tab_P, start_P, trans_P, emit_P)[1], span


def test_fast_viterbi_breaks_ties_and_rounds_as_jieba():
    """Small made-up models whose scores tie often (integer log-probabilities), round visibly
    (1e16 swallows a 1), include -inf and dead-end states: the states must be jieba's."""
    import random

    from jieba.posseg.viterbi import viterbi

    from policytopics.jieba_segmenter import _PosHmm

    rng = random.Random(42)
    values = [-1.0, -2.0, -3.0, -0.5, -1e16, -1e16 + 2, -3.14e100, float("-inf")]
    states = [(position, tag) for position in "BMES" for tag in "ab"]
    chars = "甲乙丙丁"
    compared = 0
    for _ in range(60):
        start = {y: rng.choice(values[:-1]) for y in states}
        trans = {y: {z: rng.choice(values) for z in states if rng.random() < 0.6} for y in states}
        trans[states[0]] = {}  # a dead end, as jieba's model has
        emit = {y: {c: rng.choice(values[:-2]) for c in chars if rng.random() < 0.7} for y in states}
        allowed = {c: tuple(y for y in states if rng.random() < 0.7) or tuple(states) for c in chars[:3]}  # 丁: any
        hmm = _PosHmm((allowed, start, trans, emit))
        for _ in range(30):
            obs = "".join(rng.choice(chars) for _ in range(rng.randint(1, 7)))
            try:
                expected = viterbi(obs, allowed, start, trans, emit)[1]
            except ValueError:  # jieba fails when every previous state is a dead end; so must we
                with pytest.raises(ValueError):
                    hmm.viterbi(obs)
                continue
            assert hmm.viterbi(obs) == expected, obs
            compared += 1
    assert compared > 1000


def test_equal_routes_go_to_the_longer_first_word_as_in_jieba(tmp_path, jieba_cache):
    # 甲乙|丙 and 甲|乙丙 score exactly the same: jieba takes the longer first word
    dictionary = tmp_path / "tie.txt"
    dictionary.write_text("甲 10 n\n甲乙 10 n\n丙 10 n\n乙丙 10 n\n", encoding="utf-8")
    config = TokenizeConfig(default_dictionary=False, dictionaries=[str(dictionary)])
    fast = Tokenizer(config, cache_dir=jieba_cache)
    for text in ("甲乙丙", "甲乙丙甲乙丙，甲乙丙"):
        assert fast.segment(text) == [(p.word, p.flag) for p in fast._pos_tokenizer.cut(text)]
    assert fast.segment("甲乙丙") == [("甲乙", "n"), ("丙", "n")]


def test_cache_filled_by_jieba_posseg_serves_the_fast_path(seed_lines, jieba_cache, tmp_path):
    texts = seed_lines[:40]
    cache = TokenCache(tmp_path / "cache")
    reference = Tokenizer(TokenizeConfig(), cache_dir=jieba_cache, reference=True)
    fast = Tokenizer(TokenizeConfig(), cache_dir=jieba_cache)
    assert fast.fingerprint == reference.fingerprint  # same tokens, same cache keys
    first = tokenize_texts(texts, reference, cache=cache)
    again = tokenize_texts(texts, fast, cache=cache)
    assert (again.cache_hits, again.tokenised) == (len(texts), 0)
    assert again.tokens == first.tokens == tokenize_texts(texts, fast).tokens
    cache.close()


def test_workers_give_the_tokens_of_one_on_seed_text(seed_lines, jieba_cache):
    texts = seed_lines
    tokenizer = Tokenizer(TokenizeConfig(), cache_dir=jieba_cache)
    one = tokenize_texts(texts, tokenizer, workers=1)
    packages = []  # progress is reported once per work package from the pool
    two = tokenize_texts(texts, Tokenizer(TokenizeConfig(), cache_dir=jieba_cache), workers=2, chunk_chars=5_000,
                         progress=lambda done, total: packages.append(done))
    assert 1 < len(packages) < len(texts) and packages[-1] == len(texts)
    assert two.tokens == one.tokens and two.pos == one.pos
    assert one.tokens == [[token for token, _ in tokenizer.tokenize_with_pos(text)] for text in texts]


def test_rjieba_backend(resources, make_tokenizer):
    pytest.importorskip("rjieba")
    tokenizer = make_tokenizer(backend="rjieba")
    tokens = tokenizer.tokenize(SENTENCES[0])
    assert "党工委" in tokens and "招大引强" in tokens and "项目落地" in tokens  # our dictionary
    assert dict(tokenizer.segment("招大引强"))["招大引强"] == "nz"
    assert tokenizer.fingerprint != make_tokenizer().fingerprint  # other tokens, other cache keys
    two = tokenize_texts(SENTENCES * 8, tokenizer, workers=2, chunk_chars=100)
    assert two.tokens == tokenize_texts(SENTENCES * 8, tokenizer).tokens
