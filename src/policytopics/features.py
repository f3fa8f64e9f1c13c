"""Model features: the vocabulary (a gensim ``Dictionary``) and bag-of-words vectors.

In: one token list per analysis unit (``tokens.jsonl``) and the ``features`` section of the
config. Out: a gensim ``Dictionary`` whose ids run over the kept terms in sorted (Unicode
code point) order, and one bag of words per unit, a list of ``(term_id, count)`` pairs sorted
by id.

The vocabulary is filtered with gensim's ``Dictionary.filter_extremes``: terms found in fewer
than ``no_below`` units or in more than ``no_above`` of them are dropped; with ``keep_n`` only
the ``keep_n`` terms found in the most units stay (ties broken by the term itself, so that the
choice does not depend on the order in which terms were first seen). The ids are then
re-assigned in sorted term order: the same set of units, in any order, gives the same ids, and
nothing depends on Python's hash seed. The dictionary keeps no gensim lifecycle log (which
records the date and file names), so saving the same dictionary twice writes the same bytes.

:func:`corpus_features` does both and caches the result on disk: the dictionary and the bags
of words are stored under a key that hashes the token lists, the ``features`` settings, the
gensim version and this module's code, so a rerun on the same tokens (whatever model settings
changed) reads them instead of rebuilding them. The store is
:class:`policytopics.cache.CacheStore`.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from gensim.corpora import Dictionary

from policytopics.cache import CacheStore, fingerprint
from policytopics.config import FeaturesConfig
from policytopics.packed import PackedBows
from policytopics.provenance import environment_versions, source_hash

__all__ = [
    "Features",
    "build_dictionary",
    "copy_dictionary",
    "corpus_features",
    "features_key",
    "packed_bows",
    "to_bow",
]

logger = logging.getLogger("policytopics")

#: Bump when the stored form of the features changes (old entries are then ignored).
_FEATURES_FORMAT = 2  # 2: bags of words stored as int32 (1: int64)


def _new_dictionary(
    terms: Sequence[str], dfs: Sequence[int], cfs: Sequence[int], num_docs: int, num_pos: int, num_nnz: int
) -> Dictionary:
    """A fresh ``Dictionary`` with ids ``0..V-1`` for ``terms``, built the same way every time.

    Every dictionary the models see is built here, so that two of them with the same content
    are the same objects down to their pickles (gensim's ``save`` leaves attributes behind on
    a dictionary it has saved, so a saved one is never handed on).
    """
    result = Dictionary()
    result.token2id = {term: term_id for term_id, term in enumerate(terms)}
    result.dfs = {term_id: int(value) for term_id, value in enumerate(dfs)}
    result.cfs = {term_id: int(value) for term_id, value in enumerate(cfs)}
    result.num_docs = int(num_docs)
    result.num_pos = int(num_pos)
    result.num_nnz = int(num_nnz)
    # no gensim lifecycle log: it would put the date and file names into saved files
    result.lifecycle_events = None
    return result


def _sorted_dictionary(dictionary: Dictionary) -> Dictionary:
    """A copy of ``dictionary`` whose ids are assigned in sorted term order."""
    terms = sorted(dictionary.token2id)
    old_ids = [dictionary.token2id[term] for term in terms]
    return _new_dictionary(
        terms,
        [dictionary.dfs.get(old_id, 0) for old_id in old_ids],
        [dictionary.cfs.get(old_id, 0) for old_id in old_ids],
        dictionary.num_docs, dictionary.num_pos, dictionary.num_nnz,
    )


def copy_dictionary(dictionary: Dictionary) -> Dictionary:
    """A fresh copy of a dictionary whose ids run ``0..V-1`` (e.g. from :func:`build_dictionary`).

    Parameters
    ----------
    dictionary : gensim.corpora.Dictionary
        The dictionary to copy; it is not modified.

    Returns
    -------
    gensim.corpora.Dictionary
        A new dictionary with the same term ids, document and corpus frequencies, and
        document, position and non-zero counts.

    Raises
    ------
    ValueError
        If the ids of ``dictionary`` do not run ``0..V-1`` (e.g. after ``filter_tokens``
        without ``compactify``).

    Examples
    --------
    >>> d = build_dictionary([["招商", "项目"], ["项目", "土地"]], FeaturesConfig(no_below=1, no_above=1.0))
    >>> copy = copy_dictionary(d)
    >>> copy is d, copy.token2id == d.token2id, copy.cfs == d.cfs
    (False, True, True)
    """
    terms = [term for term, _ in sorted(dictionary.token2id.items(), key=lambda item: item[1])]
    if [dictionary.token2id[term] for term in terms] != list(range(len(terms))):
        raise ValueError("copy_dictionary needs a dictionary whose ids run 0..V-1")
    return _new_dictionary(
        terms,
        [dictionary.dfs.get(i, 0) for i in range(len(terms))],
        [dictionary.cfs.get(i, 0) for i in range(len(terms))],
        dictionary.num_docs, dictionary.num_pos, dictionary.num_nnz,
    )


def build_dictionary(token_lists: Iterable[Sequence[str]], config: FeaturesConfig) -> Dictionary:
    """Build the model vocabulary from token lists.

    Parameters
    ----------
    token_lists : iterable of sequence of str
        The tokens of each unit.
    config : FeaturesConfig
        ``no_below`` (minimum number of units), ``no_above`` (maximum share of units) and
        ``keep_n`` (at most this many terms, the most widespread first; ``None`` keeps all).

    Returns
    -------
    gensim.corpora.Dictionary
        The kept terms, ids ``0..V-1`` in sorted term order; ``dfs`` and ``cfs`` hold each
        term's unit and corpus frequency, ``num_docs`` the number of units.

    Raises
    ------
    ValueError
        If a unit is given as a string instead of a token list, or no term survives the
        filter (the message names the settings).

    Examples
    --------
    >>> from policytopics.config import FeaturesConfig
    >>> units = [["招商", "项目"], ["招商", "土地"], ["项目", "招商"], ["土地"]]
    >>> d = build_dictionary(units, FeaturesConfig(no_below=2, no_above=0.7))
    >>> sorted(d.token2id.items(), key=lambda item: item[1])
    [('土地', 0), ('项目', 1)]
    >>> d.cfs[1], d.dfs[1], d.num_docs
    (2, 2, 4)
    """
    dictionary = Dictionary(_checked(token_lists))  # one pass: token lists may be a stream
    dictionary.filter_extremes(no_below=config.no_below, no_above=config.no_above, keep_n=None)
    if config.keep_n is not None and len(dictionary) > config.keep_n:
        ranked = sorted(dictionary.token2id.items(), key=lambda item: (-dictionary.dfs[item[1]], item[0]))
        dictionary.filter_tokens(good_ids=[term_id for _, term_id in ranked[: config.keep_n]])
    dictionary.compactify()
    if len(dictionary) == 0:
        raise ValueError(
            f"no term is left after filtering {dictionary.num_docs} units with "
            f"features.no_below={config.no_below} and features.no_above={config.no_above}"
        )
    return _sorted_dictionary(dictionary)


def to_bow(dictionary: Dictionary, token_lists: Iterable[Sequence[str]]) -> list[list[tuple[int, int]]]:
    """Turn token lists into bags of words over ``dictionary`` (unknown terms are ignored).

    Parameters
    ----------
    dictionary : gensim.corpora.Dictionary
        The vocabulary, e.g. from :func:`build_dictionary`; it is not modified.
    token_lists : iterable of sequence of str
        The tokens of each unit.

    Returns
    -------
    list of list of (int, int)
        One list per unit of ``(term_id, count)`` pairs sorted by ``term_id``; a unit without
        a known term gives an empty list.

    Examples
    --------
    >>> from policytopics.config import FeaturesConfig
    >>> d = build_dictionary([["招商", "项目"], ["项目", "土地"], ["招商", "土地"]], FeaturesConfig(no_above=1.0))
    >>> to_bow(d, [["项目", "项目", "招商", "园区"], []])
    [[(1, 1), (2, 2)], []]
    """
    bows = []
    for position, tokens in enumerate(token_lists):
        if isinstance(tokens, str):
            raise ValueError(f"unit {position}: expected a list of tokens, got a string")
        bows.append(dictionary.doc2bow(list(tokens)))
    return bows


def _checked(token_lists: Iterable[Sequence[str]]) -> Iterator[Sequence[str]]:
    """``token_lists``, refusing a unit given as a string (which would be taken as characters)."""
    for position, tokens in enumerate(token_lists):
        if isinstance(tokens, str):
            raise ValueError(f"unit {position}: expected a list of tokens, got a string")
        yield tokens


def packed_bows(dictionary: Dictionary, token_lists: Iterable[Sequence[str]]) -> PackedBows:
    """:func:`to_bow` into compact arrays (:class:`~policytopics.packed.PackedBows`), one unit
    at a time: a streamed gensim corpus, not a list of lists.

    Parameters
    ----------
    dictionary : gensim.corpora.Dictionary
        The vocabulary, e.g. from :func:`build_dictionary`; it is not modified.
    token_lists : iterable of sequence of str
        The tokens of each unit (terms not in ``dictionary`` are ignored).

    Returns
    -------
    PackedBows
        One bag of words per unit: ``(term_id, count)`` pairs sorted by ``term_id``.

    Raises
    ------
    ValueError
        If a unit is given as a string instead of a list of tokens.

    Examples
    --------
    >>> d = build_dictionary([["招商", "项目"], ["项目", "土地"], ["招商", "土地"]], FeaturesConfig(no_above=1.0))
    >>> bows = packed_bows(d, [["项目", "项目", "招商", "园区"], []])
    >>> bows[0], bows[1]
    ([(1, 1), (2, 2)], [])
    """
    return PackedBows.from_lists(dictionary.doc2bow(list(tokens)) for tokens in _checked(token_lists))


@dataclass(frozen=True)
class Features:
    """The model vocabulary and the bags of words of the units, with their cache key.

    Attributes
    ----------
    dictionary : gensim.corpora.Dictionary
        From :func:`build_dictionary`.
    bows : PackedBows
        From :func:`packed_bows` (what :func:`to_bow` gives, as compact arrays), one per unit.
    key : str
        :func:`features_key` of the token lists and settings: what fitted models are keyed on.
    """

    dictionary: Dictionary
    bows: PackedBows
    key: str


def features_key(token_lists: Iterable[Sequence[str]], config: FeaturesConfig) -> str:
    """The cache key of the features of ``token_lists`` under ``config``.

    A hash of every token list (in order), the ``features`` settings, the gensim version and
    this module's code.

    Parameters
    ----------
    token_lists : iterable of sequence of str
        The tokens of each unit, in unit order.
    config : FeaturesConfig
        The ``features`` settings.

    Returns
    -------
    str
        A 64-character hex SHA-256 (see :func:`fingerprint`).

    Raises
    ------
    ValueError
        If a unit is given as a string instead of a list of tokens.

    Examples
    --------
    >>> a = features_key([["招商", "项目"]], FeaturesConfig())
    >>> a == features_key([["招商", "项目"]], FeaturesConfig(no_below=3))
    False
    """
    digest = hashlib.sha256()
    for position, tokens in enumerate(token_lists):
        if isinstance(tokens, str):
            raise ValueError(f"unit {position}: expected a list of tokens, got a string")
        digest.update(json.dumps(list(tokens), ensure_ascii=False).encode("utf-8"))
        digest.update(b"\n")
    return fingerprint(
        "features", _FEATURES_FORMAT, digest.hexdigest(), config.model_dump(mode="json"),
        environment_versions("gensim"), source_hash(__file__),
    )


def _write_features(folder: Path, dictionary: Dictionary, bows: Sequence[Sequence[tuple[int, int]]]) -> None:
    num_terms = len(dictionary.token2id)
    vocabulary = {
        "terms": [term for term, _ in sorted(dictionary.token2id.items(), key=lambda item: item[1])],
        "dfs": [int(dictionary.dfs.get(i, 0)) for i in range(num_terms)],
        "cfs": [int(dictionary.cfs.get(i, 0)) for i in range(num_terms)],
        "num_docs": int(dictionary.num_docs),
        "num_pos": int(dictionary.num_pos),
        "num_nnz": int(dictionary.num_nnz),
    }
    (folder / "dictionary.json").write_text(json.dumps(vocabulary, ensure_ascii=False), encoding="utf-8")
    bows = PackedBows.of(bows)
    lengths = np.diff(bows.offsets).astype(np.int64)
    with (folder / "bows.npz").open("wb") as handle:  # the arrays as they are: int32 ids and counts
        np.savez(handle, lengths=lengths, ids=bows.ids, counts=bows.counts)


def _read_features(folder: Path) -> tuple[Dictionary, PackedBows]:
    vocabulary = json.loads((folder / "dictionary.json").read_text(encoding="utf-8"))
    dictionary = _new_dictionary(
        vocabulary["terms"], vocabulary["dfs"], vocabulary["cfs"],
        vocabulary["num_docs"], vocabulary["num_pos"], vocabulary["num_nnz"],
    )
    with np.load(folder / "bows.npz", allow_pickle=False) as arrays:
        lengths, ids, counts = arrays["lengths"], arrays["ids"], arrays["counts"]
        offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        bows = PackedBows(ids, counts, offsets)
    return dictionary, bows


def corpus_features(
    token_lists: Sequence[Sequence[str]], config: FeaturesConfig, cache_dir: str | Path | None = None
) -> Features:
    """The dictionary and bags of words of ``token_lists``, read from the cache when present.

    Parameters
    ----------
    token_lists : sequence of sequence of str
        The tokens of each unit.
    config : FeaturesConfig
        The vocabulary filter (see :func:`build_dictionary`).
    cache_dir : str or Path, optional
        The cache folder; the entry goes to ``<cache_dir>/features/<key>/``. ``None``: no cache.

    Returns
    -------
    Features
        The same dictionary and bags of words as :func:`build_dictionary` and :func:`to_bow`,
        whether built or read.

    Examples
    --------
    >>> features = corpus_features([["招商", "项目"], ["项目", "土地"]], FeaturesConfig(no_above=1.0))
    >>> features.dictionary.token2id, list(features.bows)
    ({'项目': 0}, [[(0, 1)], [(0, 1)]])
    """
    key = features_key(token_lists, config)
    store = CacheStore(cache_dir, "features") if cache_dir is not None else None
    if store is not None:
        entry = store.get(key)
        if entry is not None:
            try:
                dictionary, bows = _read_features(entry)
            except (OSError, ValueError, KeyError) as error:  # checksummed, so only a format change
                logger.warning("cache: features entry %s unreadable (%s); rebuilding", key[:12], error)
            else:
                logger.info("features: vocabulary and bags of words read from the cache")
                return Features(dictionary, bows, key)
    dictionary = build_dictionary(token_lists, config)
    bows = packed_bows(dictionary, token_lists)
    if store is not None:
        store.put(key, lambda folder: _write_features(folder, dictionary, bows))
    return Features(dictionary, bows, key)
