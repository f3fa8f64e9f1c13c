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
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from gensim.corpora import Dictionary

from policytopics.config import FeaturesConfig

__all__ = ["build_dictionary", "to_bow"]


def _sorted_dictionary(dictionary: Dictionary) -> Dictionary:
    """A copy of ``dictionary`` whose ids are assigned in sorted term order."""
    terms = sorted(dictionary.token2id)
    result = Dictionary()
    result.token2id = {term: new_id for new_id, term in enumerate(terms)}
    old_ids = [dictionary.token2id[term] for term in terms]
    result.dfs = {new_id: dictionary.dfs.get(old_id, 0) for new_id, old_id in enumerate(old_ids)}
    result.cfs = {new_id: dictionary.cfs.get(old_id, 0) for new_id, old_id in enumerate(old_ids)}
    result.num_docs = dictionary.num_docs
    result.num_pos = dictionary.num_pos
    result.num_nnz = dictionary.num_nnz
    # no gensim lifecycle log: it would put the date and file names into saved files
    result.lifecycle_events = None
    return result


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
    token_lists = list(token_lists)
    for position, tokens in enumerate(token_lists):
        if isinstance(tokens, str):
            raise ValueError(f"unit {position}: expected a list of tokens, got a string")
    dictionary = Dictionary(token_lists)
    dictionary.filter_extremes(no_below=config.no_below, no_above=config.no_above, keep_n=None)
    if config.keep_n is not None and len(dictionary) > config.keep_n:
        ranked = sorted(dictionary.token2id.items(), key=lambda item: (-dictionary.dfs[item[1]], item[0]))
        dictionary.filter_tokens(good_ids=[term_id for _, term_id in ranked[: config.keep_n]])
    dictionary.compactify()
    if len(dictionary) == 0:
        raise ValueError(
            f"no term is left after filtering {len(token_lists)} units with "
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
