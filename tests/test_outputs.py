"""Tests of outputs.py: the run tables written from the stages' records."""

from __future__ import annotations

import pytest

from policytopics import outputs
from policytopics.packed import PackedTokens
from policytopics.tokenize import TokenizedCorpus, vocabulary_rows


def _corpus(token_lists, tag_lists):
    return TokenizedCorpus(PackedTokens.from_lists(token_lists), PackedTokens.from_lists(tag_lists))


def test_vocabulary_csv_is_kept_in_the_cache_and_keyed_by_tokens_tags_and_dictionary(tmp_path):
    run_dir, plain = tmp_path / "run", tmp_path / "plain"
    run_dir.mkdir(), plain.mkdir()
    corpus = _corpus([["招商", "项目", "项目"], ["项目", "民生"]], [["v", "n", "n"], ["n", "n"]])
    counted = []

    def rows(corpus, terms):
        counted.append(1)
        return vocabulary_rows(corpus, terms)

    def write(corpus, terms, folder=run_dir):
        cache_dir = tmp_path / "cache" if folder == run_dir else None
        outputs._write_vocabulary(folder / "vocabulary.csv", corpus, frozenset(terms), rows, cache_dir)
        return (folder / "vocabulary.csv").read_bytes()

    first = write(corpus, {"招商"})
    assert first == write(corpus, {"招商"}, plain)  # plain: no cache folder, nothing cached
    assert len(counted) == 2 and len(list((tmp_path / "cache" / "vocabulary").iterdir())) == 1
    assert write(corpus, {"招商"}) == first and len(counted) == 2  # read back, not counted again
    # other tokens, other tags or another dictionary: counted again, as without the cache
    for changed, terms in (
        (_corpus([["招商", "项目"], ["项目", "民生"]], [["v", "n"], ["n", "n"]]), {"招商"}),
        (_corpus([["招商", "项目", "项目"], ["项目", "民生"]], [["v", "v", "v"], ["n", "n"]]), {"招商"}),
        (corpus, {"招商", "民生"}),
    ):
        before = len(counted)
        assert write(changed, terms) == write(changed, terms, plain)
        assert len(counted) == before + 2
    assert len(list((tmp_path / "cache" / "vocabulary").iterdir())) == 4


@pytest.mark.parametrize("tokens", [[["a", "b"], ["b"]], [["a"], ["b", "b"]]])
def test_a_packed_digest_tells_token_lists_apart(tokens):
    assert outputs._packed_digest(PackedTokens.from_lists(tokens)) != outputs._packed_digest(
        PackedTokens.from_lists([["a", "b", "b"]]))
    assert outputs._packed_digest([["a"]]) is None
