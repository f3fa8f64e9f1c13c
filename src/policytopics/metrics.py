"""Topic-model metrics: coherence, diversity, perplexity, topic alignment and stability.

Pure functions of fitted models (or their top-term lists) and the units. Term lists are read
from a model's data-only topic-term distribution (``topic_term_data_``), not from its
posterior, whose guided topics hold the keywords' prior pseudo-counts. gensim's
``CoherenceModel`` runs with ``processes=1`` and the perplexity uses the model's
deterministic inference, so every figure is reproducible.

In: fitted models (or their top-term lists) and unit tokens. Out: per-topic coherence,
diversity, perplexity, topic matchings and stability summaries.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from gensim.models.coherencemodel import CoherenceModel
from scipy.optimize import linear_sum_assignment
from scipy.special import gammaln, logsumexp, psi

from policytopics.features import to_bow
from policytopics.models.lda import DEFAULT_TOP_N, LdaTopicModel
from policytopics.packed import PackedTokens

__all__ = [
    "COHERENCE_MEASURES",
    "align_topics",
    "coherence",
    "coherence_of_fits",
    "perplexity",
    "perplexity_of_units",
    "stability",
    "topic_diversity",
]

#: Coherence measures computed by default (Röder et al. 2015 c_v and c_npmi; Mimno's u_mass).
COHERENCE_MEASURES = ("c_v", "c_npmi", "u_mass")
TermLists = Sequence[Sequence[str]]


def _terms_only(top_terms: Sequence[Sequence[Any]]) -> list[list[str]]:
    """Top-term lists as plain terms, accepting (term, score) pairs."""
    return [[item[0] if isinstance(item, tuple) else item for item in topic] for topic in top_terms]


def coherence(
    model: LdaTopicModel,
    token_lists: Sequence[Sequence[str]],
    measures: Sequence[str] = COHERENCE_MEASURES,
    topn: int = DEFAULT_TOP_N,
) -> dict[str, list[float]]:
    """Coherence of every topic's top terms (by data-only probability) on the units' tokens.

    The terms are ``model.top_terms(topn)``: ranked by the data-only topic-term distribution
    (:attr:`~policytopics.models.lda.LdaTopicModel.topic_term_data_`), so a guided topic's
    score is not lifted by the keywords' seed pseudo-counts.

    Parameters
    ----------
    model : LdaTopicModel
        A fitted model.
    token_lists : sequence of sequence of str
        The reference texts (normally the units the model was fitted on).
    measures : sequence of str
        gensim ``CoherenceModel`` measures: ``c_v``, ``c_npmi``, ``c_uci``, ``u_mass``.
    topn : int
        Top terms per topic.

    Returns
    -------
    dict of str to list of float
        Per measure, one value per topic (gensim runs single-process: deterministic).

    Examples
    --------
    >>> from policytopics.models.lda import LdaTopicModel
    >>> units = [["规划", "土地", "道路"], ["企业", "产业", "科技"]] * 10
    >>> model = LdaTopicModel(2, passes=5, no_above=1.0, random_state=1).fit(units)
    >>> scores = coherence(model, units, measures=("u_mass",), topn=3)
    >>> len(scores["u_mass"])
    2
    """
    topics = [[term for term, _ in terms] for terms in model.top_terms(topn)]
    texts = token_lists if isinstance(token_lists, PackedTokens) else [list(tokens) for tokens in token_lists]
    result: dict[str, list[float]] = {}
    for measure in measures:
        scorer = CoherenceModel(
            topics=topics,
            texts=texts,
            dictionary=model.dictionary_,
            coherence=measure,
            topn=topn,
            processes=1,
        )
        result[measure] = [float(value) for value in scorer.get_coherence_per_topic()]
    return result


def topic_diversity(top_terms: Sequence[Sequence[Any]]) -> float:
    """Share of unique terms among all topics' top terms (Dieng et al. 2020).

    Parameters
    ----------
    top_terms : sequence of sequence of str or (str, float)
        Each topic's top terms, e.g. ``model.top_terms(25)``.

    Returns
    -------
    float
        1.0 when no term is shared, ``1 / K`` when all K topics list the same terms.

    Examples
    --------
    >>> topic_diversity([["招商", "项目"], ["干部", "项目"]])
    0.75
    """
    terms = _terms_only(top_terms)
    total = sum(len(topic) for topic in terms)
    if total == 0:
        raise ValueError("top_terms holds no term")
    return len({term for topic in terms for term in topic}) / total


def _bound(
    model: LdaTopicModel, bows: Sequence[Sequence[tuple[int, int]]], gamma: np.ndarray, subsample_ratio: float = 1.0
) -> float:
    """The variational lower bound of ``log p(units)`` that gensim's ``LdaModel.bound`` computes.

    Same terms as gensim (document likelihood, theta prior and entropy, beta prior and
    entropy; the documents' terms multiplied by ``subsample_ratio``), written out here because
    gensim 4.4's ``bound`` fails when given ``gamma`` (its Cython ``logsumexp`` wants 2-D
    input) and, for a K x V ``eta``, sums ``eta`` over all cells instead of each topic's row in
    the ``gammaln(sum eta_k)`` term.
    """
    lda = model.model_
    lam = np.asarray(lda.state.get_lambda(), dtype=np.float64)
    elog_beta = psi(lam) - psi(lam.sum(axis=1, keepdims=True))
    alpha = np.asarray(lda.alpha, dtype=np.float64)
    score = 0.0
    for d, doc in enumerate(bows):
        gammad = gamma[d]
        elog_thetad = psi(gammad) - psi(gammad.sum())
        if doc:
            ids = [term_id for term_id, _ in doc]
            cts = np.array([count for _, count in doc], dtype=np.float64)
            score += float(logsumexp(elog_thetad[:, None] + elog_beta[:, ids], axis=0) @ cts)
        score += float(np.sum((alpha - gammad) * elog_thetad))
        score += float(np.sum(gammaln(gammad) - gammaln(alpha)))
        score += float(gammaln(alpha.sum()) - gammaln(gammad.sum()))
    score *= subsample_ratio
    eta = np.broadcast_to(np.asarray(lda.eta, dtype=np.float64), lam.shape)
    score += float(np.sum((eta - lam) * elog_beta))
    score += float(np.sum(gammaln(lam) - gammaln(eta)))
    score += float(np.sum(gammaln(eta.sum(axis=1)) - gammaln(lam.sum(axis=1))))
    return score


def perplexity(
    model: LdaTopicModel, token_lists: Sequence[Sequence[str]], total_units: int | None = None
) -> float:
    """Perplexity estimate ``2 ** (-bound per word)`` as gensim's ``log_perplexity`` reports it.

    The bound is gensim's variational lower bound of the log likelihood (in nats) divided by
    the number of in-vocabulary tokens, computed with the model's deterministic inference;
    following gensim, the estimate exponentiates base 2. Lower is better; compare it only
    between models of the same units and vocabulary.

    For units the model was not fitted on (held-out units), pass ``total_units``, the number
    of units it was fitted on: as gensim's ``log_perplexity(chunk, total_docs)`` does, the
    units' own terms of the bound are scaled by ``total_units / len(units)`` before the
    topics' terms (the prior and entropy of ``beta``, one set for the whole model) are added,
    and the sum is divided by the scaled number of words. The topics' terms are so spread
    over a corpus of the training size, as in the bound of the training units, instead of
    over the few held-out words. This is the plain held-out bound: each held-out unit's topic
    proportions are inferred from all of its words (not document completion).

    Parameters
    ----------
    model : LdaTopicModel
        A fitted model.
    token_lists : sequence of sequence of str
        The units to score.
    total_units : int, optional
        The number of units the model was fitted on, for units it was not fitted on
        (default: ``len(token_lists)``, no scaling: the units are the training units).

    Returns
    -------
    float

    Examples
    --------
    >>> from policytopics.models.lda import LdaTopicModel
    >>> units = [["规划", "土地", "道路"], ["企业", "产业", "科技"]] * 10
    >>> model = LdaTopicModel(2, passes=5, no_above=1.0, random_state=1).fit(units)
    >>> 1.0 < perplexity(model, units) < 6.0
    True
    """
    return perplexity_of_units(model, to_bow(model.dictionary_, token_lists), total_units=total_units)


def perplexity_of_units(
    model: LdaTopicModel,
    bows: Sequence[Sequence[tuple[int, int]]],
    gamma: np.ndarray | None = None,
    total_units: int | None = None,
) -> float:
    """:func:`perplexity` of bags of words over the model's term ids.

    Parameters
    ----------
    model : LdaTopicModel
        A fitted model.
    bows : sequence of bags of words
        The units to score, over the model's term ids.
    gamma : numpy.ndarray, optional
        The units' variational parameters if already inferred (a fit's training units,
        ``train_gamma_``: the same deterministic inference gives the same array).
    total_units : int, optional
        As for :func:`perplexity`.

    Returns
    -------
    float

    Examples
    --------
    >>> from policytopics.models.lda import LdaTopicModel
    >>> units = [["规划", "土地", "道路"], ["企业", "产业", "科技"]] * 10
    >>> model = LdaTopicModel(2, passes=5, no_above=1.0, random_state=1).fit(units)
    >>> bows = [model.dictionary_.doc2bow(u) for u in units]
    >>> perplexity_of_units(model, bows) == perplexity(model, units)
    True
    """
    words = sum(count for bow in bows for _, count in bow)
    if words == 0:
        raise ValueError("no token of the units is in the model's vocabulary")
    if gamma is None:
        gamma = model.variational_gamma(bows)
    ratio = 1.0 if total_units is None else float(total_units) / len(bows)
    return float(np.exp2(-_bound(model, bows, gamma, ratio) / (ratio * words)))


def coherence_of_fits(
    topic_sets: Sequence[Sequence[Sequence[str]]],
    texts: Sequence[Sequence[str]],
    dictionary: Any,
    measure: str,
    topn: int,
    corpus: Sequence[Sequence[tuple[int, int]]] | None = None,
) -> list[list[float]]:
    """:func:`coherence` of the top terms of several fits, one list of per-topic values per fit.

    gensim's ``CoherenceModel`` counts word occurrences and co-occurrences (in sliding windows
    for c_v and c_npmi, in units for u_mass) for the words of the topics it is given, which is
    most of its cost. Here the counts are made once, for the words of all the fits' topics, and
    re-used for each fit (gensim keeps its counts when new topics only use counted words). A
    pair's counts do not depend on which other words are counted, so every fit gets exactly
    the values :func:`coherence` computes for it alone. ``corpus``, the bags of words of
    ``texts`` over ``dictionary``, spares gensim building them as a list (u_mass).

    Parameters
    ----------
    topic_sets : sequence of topic term lists
        Per fit, the top terms of each of its topics.
    texts : sequence of sequence of str
        The reference texts (the units' tokens).
    dictionary : gensim.corpora.Dictionary
        Their vocabulary.
    measure : str
        ``c_v``, ``c_npmi`` or ``u_mass``.
    topn : int
        Terms per topic.
    corpus : sequence of bags of words, optional
        ``texts`` as bags of words over ``dictionary``.

    Returns
    -------
    list of list of float
        Per fit, the coherence of each topic.

    Examples
    --------
    >>> from gensim.corpora import Dictionary
    >>> texts = [["规划", "土地", "道路"], ["企业", "产业", "科技"]] * 5
    >>> scores = coherence_of_fits([[["规划", "土地"]], [["企业", "产业"]]], texts, Dictionary(texts), "u_mass", 2)
    >>> [len(per_topic) for per_topic in scores]
    [1, 1]
    """
    scorer = CoherenceModel(
        topics=[list(topic) for topics in topic_sets for topic in topics],
        texts=texts,
        corpus=corpus,
        dictionary=dictionary,
        coherence=measure,
        topn=topn,
        processes=1,
    )
    scorer.estimate_probabilities()
    values = []
    for topics in topic_sets:
        scorer.topics = [list(topic) for topic in topics]
        values.append([float(value) for value in scorer.get_coherence_per_topic()])
    return values


def _jaccard(a: Sequence[str], b: Sequence[str]) -> float:
    set_a, set_b = set(a), set(b)
    union = set_a | set_b
    return len(set_a & set_b) / len(union) if union else 0.0


def align_topics(terms_a: Sequence[Sequence[Any]], terms_b: Sequence[Sequence[Any]]) -> list[tuple[int, int, float]]:
    """Match the topics of two fits one-to-one by the Jaccard overlap of their top terms.

    The Hungarian algorithm (``scipy.optimize.linear_sum_assignment``) maximises the total
    Jaccard overlap; with different numbers of topics only ``min(K_a, K_b)`` pairs are made.

    Parameters
    ----------
    terms_a, terms_b : sequence of sequence of str or (str, float)
        Each topic's top terms in fit A and fit B.

    Returns
    -------
    list of (int, int, float)
        ``(topic in A, matched topic in B, Jaccard)``, by topic in A.

    Examples
    --------
    >>> align_topics([["招商", "项目"], ["干部", "作风"]], [["作风", "干部"], ["项目", "投资"]])
    [(0, 1, 0.3333333333333333), (1, 0, 1.0)]
    """
    a, b = _terms_only(terms_a), _terms_only(terms_b)
    if not a or not b:
        raise ValueError("align_topics needs at least one topic on each side")
    similarity = np.array([[_jaccard(x, y) for y in b] for x in a], dtype=np.float64)
    rows, cols = linear_sum_assignment(similarity, maximize=True)
    return [(int(i), int(j), float(similarity[i, j])) for i, j in sorted(zip(rows, cols))]


def stability(
    models_or_term_lists: Sequence[LdaTopicModel | TermLists], topn: int = DEFAULT_TOP_N
) -> tuple[float, list[dict[str, Any]]]:
    """How well refits with other seeds reproduce the topics of a reference fit.

    Parameters
    ----------
    models_or_term_lists : sequence of LdaTopicModel or of per-topic term lists
        The reference fit first, then the refits (same K, other seeds).
    topn : int
        Top terms per topic taken from models.

    Returns
    -------
    mean_jaccard : float
        Mean top-term Jaccard of the matched topic pairs over all refits.
    table : list of dict
        One row per reference topic: ``topic``, ``terms`` (its top terms), ``matched``
        (the matched topic in each refit), ``jaccard`` (per refit), ``mean_jaccard`` and
        ``min_jaccard``.

    Examples
    --------
    >>> reference = [["招商", "项目"], ["干部", "作风"]]
    >>> mean, table = stability([reference, [["作风", "干部"], ["项目", "招商"]], [["干部", "作风"], ["项目", "投资"]]])
    >>> round(mean, 3), table[0]["jaccard"]
    (0.833, [1.0, 0.3333333333333333])
    """
    if len(models_or_term_lists) < 2:
        raise ValueError("stability needs a reference fit and at least one refit")
    term_lists = [
        _terms_only(item.top_terms(topn)) if isinstance(item, LdaTopicModel) else _terms_only(item)
        for item in models_or_term_lists
    ]
    reference, refits = term_lists[0], term_lists[1:]
    matches = [{i: (j, value) for i, j, value in align_topics(reference, refit)} for refit in refits]
    table = []
    for topic, terms in enumerate(reference):
        pairs = [match.get(topic, (None, 0.0)) for match in matches]
        values = [value for _, value in pairs]
        table.append({
            "topic": topic,
            "terms": list(terms),
            "matched": [j for j, _ in pairs],
            "jaccard": values,
            "mean_jaccard": float(np.mean(values)),
            "min_jaccard": float(np.min(values)),
        })
    all_values = [value for match in matches for _, value in match.values()]
    return float(np.mean(all_values)), table
