"""Tests of ldavis.py: a self-contained, deterministic LDAvis page from a real gensim LdaModel.

What the URL test allows: the page may contain ``http(s)://`` text only where nothing is
fetched, namely (1) inside a JavaScript/CSS comment line (d3's licence header, LDAvis'
source attributions) and (2) d3's XML namespace identifiers (``http://www.w3.org/...``).
Any URL in ``src=``/``href=``/``url(``/``@import``, in a script-made link or request, or in
any other place fails the test.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from importlib import resources

import numpy as np
import pytest
from gensim.corpora import Dictionary
from gensim.models import LdaModel

from policytopics.ldavis import VIS_ID, ldavis_data, ldavis_html, model_ldavis_html, write_ldavis_html

GROUPS = [
    ["招商", "项目", "投资", "签约", "落地", "企业"],
    ["生态", "环保", "污染", "治理", "绿色", "河道"],
    ["党建", "干部", "作风", "廉政", "队伍", "考核"],
]

#: XML namespace names in d3 (identifiers that are compared, never loaded).
NAMESPACE_URIS = {
    "http://www.w3.org/1999/xhtml",
    "http://www.w3.org/1999/xlink",
    "http://www.w3.org/2000/svg",
    "http://www.w3.org/2000/xmlns/",
    "http://www.w3.org/XML/1998/namespace",
}
_LOADS = [
    re.compile(r"""\b(?:src|href|srcset|action|formaction|poster|data|background)\s*=\s*["']?\s*(?:https?:)?//""", re.I),
    re.compile(r"""url\(\s*["']?\s*(?:https?:)?//""", re.I),
    re.compile(r"@import", re.I),
    re.compile(r"""\.attr\(\s*["'](?:xlink:)?(?:href|src)["']\s*,\s*["'](?:https?:)?//""", re.I),
    re.compile(
        r"""\b(?:fetch|importScripts|open|d3\.(?:json|csv|tsv|text|xml|html|image|buffer|blob|dsv))"""
        r"""\(\s*(?:["'][A-Z]+["']\s*,\s*)?["'](?:https?:)?//""",
        re.I,
    ),
]
_URL = re.compile(r"https?://[^\s\"'<>()\\]+", re.I)


def network_references(page: str) -> list[str]:
    """Everything in ``page`` that loads, or might load, a network address."""
    problems = [match.group(0) for pattern in _LOADS for match in pattern.finditer(page)]
    for match in _URL.finditer(page):
        url = match.group(0)
        line_start = page.rfind("\n", 0, match.start()) + 1
        line = page[line_start : match.start()].lstrip()
        in_comment = line.startswith(("//", "/*", "*"))
        if url in NAMESPACE_URIS or in_comment:
            continue
        problems.append(url)
    return problems


def _docs() -> list[list[str]]:
    docs = []
    for i in range(36):
        words = GROUPS[i % 3]
        docs.append([words[(i // 3 + j) % 6] for j in range(5)] + [words[(i // 3) % 6]])
    return docs


@pytest.fixture(scope="module")
def lda_inputs():
    """A small real gensim LdaModel and the five LDAvis inputs derived from it."""
    docs = _docs()
    dictionary = Dictionary(docs)
    corpus = [dictionary.doc2bow(doc) for doc in docs]
    lda = LdaModel(corpus, id2word=dictionary, num_topics=3, passes=20, iterations=100,
                   random_state=7, alpha="symmetric", eta=0.05)
    doc_topic = np.zeros((len(corpus), 3))
    for i, bow in enumerate(corpus):
        for topic, prob in lda.get_document_topics(bow, minimum_probability=0.0):
            doc_topic[i, topic] = prob
    term_frequency = np.zeros(len(dictionary))
    for bow in corpus:
        for term_id, count in bow:
            term_frequency[term_id] += count
    inputs = {
        "topic_term": lda.get_topics(),
        "doc_topic": doc_topic,
        "doc_lengths": [sum(count for _, count in bow) for bow in corpus],
        "vocabulary": [dictionary[i] for i in range(len(dictionary))],
        "term_frequency": term_frequency,
    }
    return lda, inputs


@pytest.fixture(scope="module")
def page(lda_inputs) -> str:
    return ldavis_html(**lda_inputs[1], R=10, title="测试 <LDA> & 主题")


def _data(page: str) -> dict:
    match = re.search(r"var policytopicsLdavisData = (\{.*?\});\n", page)
    assert match, "data assignment not found"
    return json.loads(match.group(1))


def test_page_loads_nothing_from_the_network(page):
    assert network_references(page) == []
    assert not re.search(r"<script[^>]*\bsrc\s*=", page, re.I)
    assert not re.search(r"<link\b", page, re.I)
    # Everything is inlined: d3 and LDAvis themselves are in the page.
    assert "d3js.org v5" in page
    assert "var LDAvis = function" in page
    assert page.count("<script") == page.count("</script>") == 3


def test_the_url_check_catches_what_pyldavis_ships():
    """The check can fail: pyLDAvis' own LDAvis script links to two papers, and its
    templates load d3/LDAvis from a CDN."""
    raw = (resources.files("pyLDAvis") / "js" / "ldavis.v3.0.0.js").read_text(encoding="utf-8")
    flagged = network_references(raw)
    assert any("sievert-illvi2014.pdf" in item for item in flagged)
    assert len(network_references('<script src="https://d3js.org/d3.v5.js"></script>')) == 2
    assert network_references("<style>@import 'x.css';</style>")
    assert network_references('<div style="background: url(//cdn.example/x.png)">')
    assert network_references('var u = "https://example.org/data.json";')
    assert network_references("x = 1;\n    // see https://example.org\n") == []  # a comment line


def test_fixed_element_id(page):
    assert page.count(f'id="{VIS_ID}"') == 1
    assert f'new LDAvis("#{VIS_ID}", policytopicsLdavisData);' in page
    assert "ldavis_el" not in page  # pyLDAvis' random ids look like ldavis_el<pid><id><rand>


def test_identical_inputs_give_identical_bytes(lda_inputs, page, tmp_path):
    _, inputs = lda_inputs
    again = ldavis_html(**{k: (v.copy() if isinstance(v, np.ndarray) else list(v)) for k, v in inputs.items()},
                        R=10, title="测试 <LDA> & 主题")
    assert again.encode("utf-8") == page.encode("utf-8")
    # ...also in another process with another hash seed (ids, set or dict order would show).
    np.savez(tmp_path / "inputs.npz", topic_term=inputs["topic_term"], doc_topic=inputs["doc_topic"],
             doc_lengths=np.asarray(inputs["doc_lengths"]), term_frequency=inputs["term_frequency"])
    (tmp_path / "vocab.json").write_text(json.dumps(inputs["vocabulary"]), encoding="utf-8")
    script = (
        "import json, sys, numpy as np\n"
        "from policytopics.ldavis import write_ldavis_html\n"
        "d = np.load(sys.argv[1] + '/inputs.npz')\n"
        "vocab = json.loads(open(sys.argv[1] + '/vocab.json', encoding='utf-8').read())\n"
        "write_ldavis_html(sys.argv[1] + '/page.html', d['topic_term'], d['doc_topic'],\n"
        "                  d['doc_lengths'], vocab, d['term_frequency'], R=10, title='测试 <LDA> & 主题')\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-c", script, str(tmp_path)], check=True, env=env, timeout=120)
    assert (tmp_path / "page.html").read_bytes() == page.encode("utf-8")


def test_chinese_topic_terms_are_in_the_page(lda_inputs, page):
    lda, _ = lda_inputs
    assert '<meta charset="utf-8">' in page
    data = _data(page)
    assert data["topic.order"] == [1, 2, 3]  # model order kept
    assert data["mdsDat"]["topics"] == [1, 2, 3]
    for topic in range(3):
        top_terms = [term for term, _ in lda.show_topic(topic, topn=3)]
        listed = {term for term, category in zip(data["tinfo"]["Term"], data["tinfo"]["Category"])
                  if category == f"Topic{topic + 1}"}
        assert set(top_terms) <= listed
        for term in top_terms:
            assert f'"{term}"' in page  # raw UTF-8, not \u escapes


def test_planted_groups_are_the_topics(page):
    data = _data(page)
    for topic in (1, 2, 3):
        rows = [(term, logprob) for term, category, logprob in
                zip(data["tinfo"]["Term"], data["tinfo"]["Category"], data["tinfo"]["logprob"])
                if category == f"Topic{topic}"]
        heaviest = max(rows, key=lambda row: row[1])[0]
        group = next(words for words in GROUPS if heaviest in words)
        top6 = [term for term, _ in sorted(rows, key=lambda row: -row[1])[:6]]
        assert set(top6) == set(group)


def test_title_is_escaped_and_terms_cannot_end_the_script():
    page = ldavis_html([[0.5, 0.3, 0.2], [0.1, 0.1, 0.8]], [[0.6, 0.4], [0.3, 0.7]], [5, 7],
                       ["招商", "</script><b>x", "生态&"], [4, 3, 5], R=3, title="<b>标题</b>")
    assert "<title>&lt;b&gt;标题&lt;/b&gt;</title>" in page
    assert page.count("</script") == 3
    assert "\\u003c/script\\u003e\\u003cb\\u003ex" in page
    assert "</script><b>x" in _data(page)["tinfo"]["Term"]


def test_floats_are_rounded(page):
    data = _data(page)
    for value in data["mdsDat"]["x"] + data["tinfo"]["loglift"] + data["token.table"]["Freq"]:
        assert float(f"{value:.6g}") == value


def test_write_ldavis_html_writes_the_same_utf8_bytes(lda_inputs, page, tmp_path):
    path = write_ldavis_html(tmp_path / "ldavis.html", **lda_inputs[1], R=10, title="测试 <LDA> & 主题")
    assert path.read_bytes() == page.encode("utf-8")


def test_inconsistent_inputs_are_refused(lda_inputs):
    inputs = dict(lda_inputs[1])
    with pytest.raises(ValueError, match="vocabulary"):
        ldavis_data(**{**inputs, "vocabulary": inputs["vocabulary"][:-1]})
    with pytest.raises(ValueError, match="topics"):
        ldavis_data(**{**inputs, "doc_topic": inputs["doc_topic"][:, :2]})
    with pytest.raises(ValueError, match="doc_lengths"):
        ldavis_data(**{**inputs, "doc_lengths": inputs["doc_lengths"][:-1]})
    with pytest.raises(ValueError, match="non-negative"):
        ldavis_data(**{**inputs, "topic_term": -inputs["topic_term"]})


def test_a_models_page_shows_its_data_only_topics():
    """model_ldavis_html (what a run writes) draws the data-only topic-term distribution: a
    keyword whose seed prior has no data behind it is not among its topic's terms."""
    from policytopics.config import FeaturesConfig
    from policytopics.features import build_dictionary, to_bow
    from policytopics.models.lda import LdaTopicModel

    docs = _docs()
    # "幽灵" has a corpus frequency of 30 (scaling its prior to 30 pseudo-counts, more than
    # any investment word's 12 occurrences) but no unit the model sees uses it
    dictionary = build_dictionary([*docs, ["幽灵"] * 15, ["幽灵"] * 15], FeaturesConfig(no_below=2, no_above=1.0))
    keywords = {"investment": ["招商", "幽灵"], "environment": ["生态"], "cadre": ["党建"]}
    model = LdaTopicModel(3, seed_keywords=keywords, passes=5, no_above=1.0, random_state=7).fit_bow(
        dictionary, to_bow(dictionary, docs))
    assert model.topic_term_[0].argmax() == model.dictionary_.token2id["幽灵"]  # the prior's echo
    lengths = [len(doc) for doc in docs[:-1]] + [0]  # a unit of length 0 is left out
    page = model_ldavis_html(model, lengths, R=6, embed_font=False)
    assert page == ldavis_html(model.topic_term_data_, model.doc_topic_[:-1], lengths[:-1], model.vocabulary_,
                               model.term_frequency_, R=6, embed_font=False)

    def topic1(page):
        data = _data(page)
        return [term for term, category in zip(data["tinfo"]["Term"], data["tinfo"]["Category"]) if category == "Topic1"]

    assert set(topic1(page)) == set(GROUPS[0])  # the investment words, and only they
    posterior = ldavis_html(model.topic_term_, model.doc_topic_[:-1], lengths[:-1], model.vocabulary_,
                            model.term_frequency_, R=6, embed_font=False)
    assert "幽灵" in topic1(posterior)  # what the page showed from topic_term_
    with pytest.raises(ValueError, match="doc_lengths"):
        model_ldavis_html(model, lengths[:-1])


def test_a_page_of_the_same_inputs_is_read_from_the_cache(lda_inputs, page, tmp_path, monkeypatch):
    from policytopics import ldavis

    _, inputs = lda_inputs
    cache = tmp_path / "cache"
    first = ldavis_html(**inputs, R=10, title="测试 <LDA> & 主题", cache_dir=cache)
    assert first == page  # the same bytes as without the cache
    assert len(list((cache / "ldavis").iterdir())) == 1 and (cache / "fonts").is_dir()

    def prepared(*args, **kwargs):
        prepared.calls += 1
        return ldavis_data(*args, **kwargs)

    prepared.calls = 0
    monkeypatch.setattr(ldavis, "ldavis_data", prepared)
    assert ldavis_html(**inputs, R=10, title="测试 <LDA> & 主题", cache_dir=cache) == page
    assert prepared.calls == 0  # read back, not prepared again
    # any other input or setting is prepared again
    changed = {**inputs, "term_frequency": inputs["term_frequency"] + 1.0}
    assert ldavis_html(**changed, R=10, title="测试 <LDA> & 主题", cache_dir=cache) == ldavis_html(
        **changed, R=10, title="测试 <LDA> & 主题")
    ldavis_html(**inputs, R=9, title="测试 <LDA> & 主题", cache_dir=cache)
    ldavis_html(**inputs, R=10, title="测试 <LDA> & 主题", embed_font=False, cache_dir=cache)
    assert prepared.calls == 4
    assert len(list((cache / "ldavis").iterdir())) == 4
