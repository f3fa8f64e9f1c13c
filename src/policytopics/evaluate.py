"""Topic-model evaluation: coherence, diversity, perplexity, topic alignment, stability, K sweeps,
the choice of K and the clustering check.

In: fitted :class:`~policytopics.models.lda.LdaTopicModel` objects (or their top-term lists)
and the unit tokens they were fitted on. Out: per-topic coherence scores, one diversity and
one perplexity figure per model, Hungarian matchings of the topics of two fits with their
top-term Jaccard overlap, a stability summary of refits with other seeds, a split of the
units into training and held-out units (:func:`heldout_split`), one row of figures per
(K, seed) fit of a sweep (fitted on the training units, perplexity on the held-out units),
the K chosen from those rows (:func:`choose_num_topics`) and a plain statement of whether the
TF-IDF clustering agrees with the themes (:func:`clustering_check`).

Every term list here (coherence, diversity, Jaccard) is read from a model's data-only
topic-term distribution (:attr:`~policytopics.models.lda.LdaTopicModel.topic_term_data_`),
not from its posterior, whose guided topics hold the keywords' seed pseudo-counts.

Everything is deterministic: gensim's ``CoherenceModel`` runs with ``processes=1``, the
perplexity uses the model's deterministic inference instead of gensim's random one, and the
sweep returns its rows in (K, seed) order whatever the number of worker processes; each fit
is single-process and seeded, so a row does not depend on which worker computed it.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from gensim.models.coherencemodel import CoherenceModel
from scipy.optimize import linear_sum_assignment
from scipy.special import gammaln, logsumexp, psi

from policytopics.config import FeaturesConfig
from policytopics.cache import CacheStore, fingerprint
from policytopics.features import Features, copy_dictionary, corpus_features, to_bow
from policytopics.provenance import environment_versions, source_hash
from policytopics.packed import PackedBows, PackedTokens
from policytopics.models.lda import DEFAULT_TOP_N, LdaTopicModel, fit_cache_key, load_cached_fit, save_cached_fit

logger = logging.getLogger("policytopics")

__all__ = [
    "CLUSTERING_MIN_ARI",
    "CLUSTERING_MIN_MAPPED",
    "COHERENCE_MEASURES",
    "FitEvaluation",
    "FitPool",
    "HeldoutSplit",
    "NumTopicsChoice",
    "align_topics",
    "choose_num_topics",
    "clustering_check",
    "coherence",
    "heldout_split",
    "mark_chosen",
    "perplexity",
    "selection_summary",
    "stability",
    "sweep",
    "sweep_rows",
    "topic_diversity",
]

#: Coherence measures computed by default (Röder et al. 2015 c_v and c_npmi; Mimno's u_mass).
COHERENCE_MEASURES = ("c_v", "c_npmi", "u_mass")
#: The clustering agrees with the themes when the adjusted Rand index of the two unit
#: labelings is at least this ...
CLUSTERING_MIN_ARI = 0.2
#: ... and at least this share of the units is in clusters mapped to a theme (docs/methods.md, 5).
CLUSTERING_MIN_MAPPED = 0.5
#: Label of a cluster that no theme's keywords dominate (as in policytopics.models.lda).
_UNASSIGNED = "unassigned"

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
    return _perplexity(model, to_bow(model.dictionary_, token_lists), total_units=total_units)


def _perplexity(
    model: LdaTopicModel,
    bows: Sequence[Sequence[tuple[int, int]]],
    gamma: np.ndarray | None = None,
    total_units: int | None = None,
) -> float:
    """:func:`perplexity` of bags of words; ``gamma`` = their proportions if already inferred
    (a fit's training units: the same deterministic inference gives the same array)."""
    words = sum(count for bow in bows for _, count in bow)
    if words == 0:
        raise ValueError("no token of the units is in the model's vocabulary")
    if gamma is None:
        gamma, _ = model._gamma(bows)
    ratio = 1.0 if total_units is None else float(total_units) / len(bows)
    return float(np.exp2(-_bound(model, bows, gamma, ratio) / (ratio * words)))


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


# ---------------------------------------------------------------------------- held-out split


@dataclass(frozen=True)
class HeldoutSplit:
    """The units the sweep's fits are fitted on, and those their perplexity is computed on.

    Attributes
    ----------
    train : numpy.ndarray of int
        Indices of the training units, increasing: every unit not held out (a unit without a
        term of the vocabulary included; it adds nothing to a fit).
    heldout : numpy.ndarray of int
        Indices of the held-out units, increasing; each has at least one term.
    """

    train: np.ndarray
    heldout: np.ndarray


def heldout_split(sizes: Sequence[int], fraction: float, seed: int) -> HeldoutSplit:
    """Hold out a seeded random ``fraction`` of the units that have terms.

    ``n = round(fraction * m)`` (halves rounded up, at least 1 and at most ``m - 1``) of the
    ``m`` units with ``sizes > 0`` are drawn without replacement by
    ``numpy.random.default_rng(seed).choice``; every other unit is a training unit. The same
    sizes, fraction and seed give the same split on every machine.

    Parameters
    ----------
    sizes : sequence of int
        Per unit, its number of terms in the model vocabulary (0: never held out).
    fraction : float
        The share of those units to hold out, in (0, 1).
    seed : int
        The run seed.

    Returns
    -------
    HeldoutSplit

    Raises
    ------
    ValueError
        If ``fraction`` is not in (0, 1) or fewer than 2 units have terms.

    Examples
    --------
    >>> split = heldout_split([3, 0, 2, 5, 1, 4, 2, 2, 6, 1, 3], 0.2, seed=7)
    >>> split.heldout.tolist(), len(split.train)
    ([7, 9], 9)
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"the held-out fraction must be in (0, 1), got {fraction}")
    sizes = np.asarray(sizes)
    eligible = np.flatnonzero(sizes > 0)
    if len(eligible) < 2:
        raise ValueError(
            f"cannot hold out units for the model-selection sweep: only {len(eligible)} unit(s) "
            "have a term of the model vocabulary (at least 2 are needed)"
        )
    count = min(max(int(np.floor(fraction * len(eligible) + 0.5)), 1), len(eligible) - 1)
    heldout = np.sort(np.random.default_rng(seed).choice(eligible, size=count, replace=False))
    train = np.setdiff1d(np.arange(len(sizes)), heldout)
    return HeldoutSplit(train.astype(np.int64), heldout.astype(np.int64))


def _take(bows: PackedBows, rows: np.ndarray) -> PackedBows:
    """The bags of words of ``rows`` (in that order), as compact arrays."""
    rows = np.asarray(rows, dtype=np.int64)
    starts = bows.offsets[rows]
    lengths = bows.offsets[rows + 1] - starts
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    # position j of unit i's slice is starts[i] + j: one arange, shifted per unit
    index = np.arange(offsets[-1], dtype=np.int64) + np.repeat(starts - offsets[:-1], lengths)
    return PackedBows(bows.ids[index], bows.counts[index], offsets)


def _training_features(features: Features, split: HeldoutSplit) -> tuple[Features, PackedBows]:
    """The features the sweep's fits see, and the held-out bags of words.

    The vocabulary (term ids) is the run's, so that held-out units are scored over the same
    terms; the document and corpus frequencies are recounted on the training units, because a
    guided model scales its keyword prior by the keyword's corpus frequency (which must not
    include held-out occurrences). The key hashes the run's features key and the split.
    """
    bows = features.bows if isinstance(features.bows, PackedBows) else PackedBows.from_lists(features.bows)
    train, heldout = _take(bows, split.train), _take(bows, split.heldout)
    num_terms = len(features.dictionary)
    cfs = np.bincount(train.ids, weights=train.counts.astype(np.float64), minlength=num_terms)
    dfs = np.bincount(train.ids, minlength=num_terms)
    dictionary = copy_dictionary(features.dictionary)
    dictionary.cfs = {term_id: int(value) for term_id, value in enumerate(cfs)}
    dictionary.dfs = {term_id: int(value) for term_id, value in enumerate(dfs)}
    dictionary.num_docs = len(split.train)
    dictionary.num_pos = train.num_words()
    dictionary.num_nnz = len(train.ids)
    key = fingerprint("training-units", features.key, split.heldout.tolist())
    return Features(dictionary, train, key), heldout


# ---------------------------------------------------------------------------- sweep
#
# Every fit of a run -- the run's own model and each (K, seed) of the model-selection sweep --
# is one task: fit (LdaTopicModel.fit_bow on shared features), perplexity, coherence. A task's
# fitted model, perplexity and coherence are stored in the cache under keys that hash
# everything they depend on (the sweep's fits: the training units too), so a task that was
# computed before (in an earlier run with other theme, cluster or selection settings) is read,
# not recomputed. Tasks run in worker processes, each fit single-process and seeded.


@dataclass(frozen=True)
class FitEvaluation:
    """One (K, seed) fit as the run and the sweep use it.

    Attributes
    ----------
    num_topics, seed : int
    key : str
        The fit's cache key (:func:`policytopics.models.lda.fit_cache_key`).
    coherence : dict of str to list of float
        Per measure, one value per topic (:func:`coherence`: the data-only top terms, on all
        units).
    perplexity : float
        :func:`perplexity` on the held-out units (``heldout_units`` > 0), else on the units
        the model was fitted on.
    terms : list of list of str
        Each topic's top terms by data-only probability.
    fitted : bool
        Whether this run fitted the model (``False``: read from the cache).
    heldout_units : int
        The number of held-out units the perplexity was computed on (0: no split).
    """

    num_topics: int
    seed: int
    key: str
    coherence: dict[str, list[float]]
    perplexity: float
    terms: list[list[str]]
    fitted: bool
    heldout_units: int = 0


@dataclass(frozen=True)
class _Context:
    """What every task needs: the fits' features, the held-out units and the cache folder."""

    tokens: PackedTokens | None  # all units (coherence); None in the workers
    dictionary: Any  # the fits' vocabulary (with a split: frequencies of the training units)
    bows: PackedBows  # the units the models are fitted on
    root: str
    heldout: PackedBows | None = None  # the units the perplexity is computed on (None: bows)


#: (K, seed, make_model, topn, fit key, coherence measures, perplexity key); every key is
#: computed in the parent process, so workers (which import the code afresh) agree with it
_Task = tuple[int, int, Callable[[int, int], LdaTopicModel], int, str, tuple[str, ...], str]
_WORKER_CONTEXT: _Context | None = None


def _init_worker(context: _Context) -> None:
    global _WORKER_CONTEXT
    _WORKER_CONTEXT = context


def _score_key(kind: str, fit_key: str, *extra: Any) -> str:
    return fingerprint(kind, fit_key, *extra, environment_versions("gensim", "numpy", "scipy"), source_hash(__file__))


def _stores(root: str) -> tuple[CacheStore, CacheStore]:
    return CacheStore(root, "lda"), CacheStore(root, "scores")


def _fitted(task: _Task, root: str) -> bool:
    """Whether the fit of ``task`` and its perplexity are in the cache (no worker needed)."""
    fits, scores = _stores(root)
    return fits.get(task[4]) is not None and scores.get(task[6]) is not None


@dataclass(frozen=True)
class _Fit:
    """What a task returns from its worker: the fit's perplexity and top terms."""

    perplexity: float
    terms: list[list[str]]
    fitted: bool


def _run_task(task: _Task, context: _Context | None = None) -> _Fit:
    """Fit (or read) one model and its perplexity; store both in the cache."""
    context = context if context is not None else _WORKER_CONTEXT
    assert context is not None, "sweep worker started without its context"
    num_topics, seed, make_model, topn, key, _, perplexity_key = task
    fits, scores = _stores(context.root)
    model = load_cached_fit(fits, key)
    gamma = None
    fitted = model is None
    if model is None:
        model = make_model(num_topics, seed).fit_bow(context.dictionary, context.bows)
        gamma = model._train_gamma
        save_cached_fit(fits, key, model)
    value = scores.get_json(perplexity_key)
    if value is None:
        if context.heldout is None:
            value = _perplexity(model, context.bows, gamma)
        else:
            value = _perplexity(model, context.heldout, total_units=len(context.bows))
        scores.put_json(perplexity_key, value)
    terms = [[term for term, _ in topic] for topic in model.top_terms(topn)]
    return _Fit(float(value), terms, fitted)


def _coherence_of_fits(
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


class FitPool:
    """Fit and evaluate LDA models for (K, seed) tasks in worker processes, through the cache.

    With ``heldout``, every task is fitted on the training units of the split only and its
    perplexity is computed on the held-out units (the model-selection sweep); without it,
    on all units (the run's own model). Coherence always takes all units as its reference
    texts, and the data-only top terms of each fit.

    On entering, every task whose fit or perplexity is not in the cache is submitted to a pool
    of ``workers`` processes (the largest K first, so that the pool finishes together); the
    caller can do other work (e.g. clustering) meanwhile and then ask for results with
    :meth:`result` and for fitted models with :meth:`model`. The first result waits for every
    fit; then the coherence of all fits that lack it is computed at once, in this process
    (:func:`_coherence_of_fits`). Results do not depend on the number of workers or on what
    came from the cache.

    Parameters
    ----------
    token_lists : sequence of sequence of str
        The units' tokens (the reference texts of the coherence).
    features : Features
        Their vocabulary and bags of words (:func:`policytopics.features.corpus_features`),
        built with the filter settings of the models ``make_model`` makes.
    make_model : callable (num_topics, seed) -> LdaTopicModel
        A picklable factory, e.g. :func:`policytopics.models.lda.factory_from_config`.
    tasks : sequence of (int, int)
        The (K, seed) pairs.
    workers : int
        Worker processes (0 = one per CPU core; 1 = compute in this process when asked).
    topn : int
        Top terms per topic (coherence, diversity, Jaccard).
    cache_dir : str or Path, optional
        The cache folder (entries under ``lda/`` and ``scores/``); ``None`` uses a temporary
        folder removed on exit, so nothing is re-used between runs.
    measures : sequence of str
        Coherence measures (gensim ``CoherenceModel`` names).
    heldout : HeldoutSplit, optional
        Fit on ``heldout.train`` only and compute the perplexity on ``heldout.heldout``
        (:func:`heldout_split`); the fits' cache keys cover the split.

    Examples
    --------
    >>> with FitPool(tokens, features, factory, [(8, 1), (10, 1)], workers=2) as pool:  # doctest: +SKIP
    ...     model = pool.model(8, 1)
    ...     rows = sweep_rows({t: pool.result(*t) for t in [(8, 1), (10, 1)]}, [8, 10], [1])
    """

    def __init__(
        self,
        token_lists: Sequence[Sequence[str]],
        features: Features,
        make_model: Callable[[int, int], LdaTopicModel],
        tasks: Sequence[tuple[int, int]],
        workers: int,
        topn: int = DEFAULT_TOP_N,
        cache_dir: str | Path | None = None,
        measures: Sequence[str] = COHERENCE_MEASURES,
        heldout: HeldoutSplit | None = None,
    ) -> None:
        if workers < 0:
            raise ValueError(f"workers must be >= 0, got {workers}")
        self._temporary = tempfile.TemporaryDirectory(prefix="policytopics-fits-") if cache_dir is None else None
        root = self._temporary.name if self._temporary is not None else str(cache_dir)
        # compact arrays: what is pickled to each worker is a few numpy arrays, not lists
        tokens = token_lists if isinstance(token_lists, PackedTokens) else PackedTokens.from_lists(token_lists)
        bows = features.bows if isinstance(features.bows, PackedBows) else PackedBows.from_lists(features.bows)
        # coherence: all units are the reference texts, over the run's vocabulary
        self._reference = (features.dictionary, bows)
        if heldout is None:
            fit_features, heldout_bows, scored = replace(features, bows=bows), None, "training"
        else:
            fit_features, heldout_bows = _training_features(replace(features, bows=bows), heldout)
            scored = "heldout"
        self._heldout_units = 0 if heldout is None else len(heldout.heldout)
        self._split = heldout
        self._context = _Context(tokens, fit_features.dictionary, fit_features.bows, root, heldout_bows)
        self._topn = int(topn)
        self._measures = tuple(measures)
        self._tasks: dict[tuple[int, int], _Task] = {}
        for num_topics, seed in tasks:
            num_topics, seed = int(num_topics), int(seed)
            key = fit_cache_key(make_model(num_topics, seed), fit_features.key)
            self._tasks[(num_topics, seed)] = (
                num_topics, seed, make_model, self._topn, key, self._measures, _score_key("perplexity", key, scored)
            )
        self._results: dict[tuple[int, int], FitEvaluation] = {}
        self._futures: dict[tuple[int, int], Future[_Fit]] = {}
        self._pool: ProcessPoolExecutor | None = None
        pending = [name for name, task in self._tasks.items() if not _fitted(task, root)]
        #: tasks whose fit was in the cache when the pool started
        self.cached = len(self._tasks) - len(pending)
        if workers == 0:
            workers = os.cpu_count() or 1
        if workers > 1 and pending:
            # even one pending fit goes to a worker: this process clusters meanwhile
            workers = min(workers, len(pending))
            # spawn: workers start clean (no inherited threads or state), on every platform
            self._pool = ProcessPoolExecutor(
                workers, mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker, initargs=(replace(self._context, tokens=None),),
            )
            for name in sorted(pending, key=lambda name: (-name[0], name[1])):  # longest fits first
                self._futures[name] = self._pool.submit(_run_task, self._tasks[name])

    def __enter__(self) -> FitPool:
        return self

    def __exit__(self, exc_type: Any, exc: Any, traceback: Any) -> None:
        self.close(cancel=exc_type is not None)

    def close(self, cancel: bool = False) -> None:
        """Stop the workers (at once with ``cancel``) and remove a temporary cache folder."""
        if self._pool is not None:
            if cancel:
                for process in list(getattr(self._pool, "_processes", {}).values()):
                    process.terminate()
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._temporary is not None:
            self._temporary.cleanup()
            self._temporary = None

    def _gather(self) -> None:
        """Wait for every fit, then read or compute the coherence of all of them."""
        if self._results:
            return
        fits = {
            name: self._futures.pop(name).result() if name in self._futures else _run_task(task, self._context)
            for name, task in self._tasks.items()
        }
        scores = _stores(self._context.root)[1]
        values: dict[tuple[int, int], dict[str, list[float]]] = {name: {} for name in self._tasks}
        for measure in self._measures:
            missing = []
            for name, task in self._tasks.items():
                cached = scores.get_json(_score_key("coherence", task[4], self._topn, measure))
                if cached is None:
                    missing.append(name)
                else:
                    values[name][measure] = [float(value) for value in cached]
            if missing:
                computed = _coherence_of_fits(
                    [fits[name].terms for name in missing], self._context.tokens, self._reference[0],
                    measure, self._topn, corpus=self._reference[1],
                )
                for name, per_topic in zip(missing, computed):
                    scores.put_json(_score_key("coherence", self._tasks[name][4], self._topn, measure), per_topic)
                    values[name][measure] = per_topic
        for name, task in self._tasks.items():
            fit = fits[name]
            self._results[name] = FitEvaluation(
                name[0], name[1], task[4], values[name], fit.perplexity, fit.terms, fit.fitted, self._heldout_units
            )

    def result(self, num_topics: int, seed: int) -> FitEvaluation:
        """The evaluation of the (K, seed) task (the first call waits for every fit)."""
        self._gather()
        return self._results[(int(num_topics), int(seed))]

    def model(self, num_topics: int, seed: int) -> LdaTopicModel:
        """The fitted model of the (K, seed) task, read from the cache (so a model fitted now
        and one fitted by an earlier run are the same object down to their saved bytes)."""
        evaluation = self.result(num_topics, seed)
        fits = _stores(self._context.root)[0]
        model = load_cached_fit(fits, evaluation.key)
        if model is None:  # removed or damaged since it was written: fit it again
            _run_task(self._tasks[(evaluation.num_topics, evaluation.seed)], self._context)
            model = load_cached_fit(fits, evaluation.key)
        if model is None:
            raise RuntimeError(f"the fit of K={num_topics}, seed={seed} could not be read back from {self._context.root}")
        return model

    def unit_topics(self, num_topics: int, seed: int) -> np.ndarray:
        """Every unit's topic proportions under the (K, seed) fit, in the run's unit order.

        Without a held-out split the fit's ``doc_topic_``; with one, the training units' rows
        come from the fit and the held-out units' are inferred by the fitted model (the same
        E-step), so that every unit is measured by every fit of the sweep.
        """
        model = self.model(num_topics, seed)
        if self._split is None:
            return model.doc_topic_
        split = self._split
        doc_topic = np.empty((len(split.train) + len(split.heldout), model.doc_topic_.shape[1]), dtype=model.doc_topic_.dtype)
        doc_topic[split.train] = model.doc_topic_
        doc_topic[split.heldout] = model.transform_bow(self._context.heldout)
        return doc_topic

    @property
    def fitted(self) -> int:
        """How many models this pool fitted (not read from the cache)."""
        self._gather()
        return sum(result.fitted for result in self._results.values())


def sweep_rows(
    evaluations: dict[tuple[int, int], FitEvaluation], num_topics: Sequence[int], seeds: Sequence[int]
) -> list[dict[str, Any]]:
    """The rows of :func:`sweep` from the evaluation of every (K, seed) fit.

    Parameters
    ----------
    evaluations : dict of (int, int) to FitEvaluation
        The evaluation of each ``(num_topics, seed)`` fit; every pair of ``num_topics`` and
        ``seeds`` must be present.
    num_topics : sequence of int
        The values of K, in row order.
    seeds : sequence of int
        The seeds, in row order; the first is the reference the others are matched to.

    Returns
    -------
    list of dict
        One row per fit, K-major then in seed order, as :func:`sweep` returns them:
        ``num_topics``, ``seed``, the mean over topics of each coherence measure,
        ``diversity``, ``perplexity``, ``heldout_units`` (the units the perplexity is computed
        on; 0: the training units) and ``jaccard`` (``None`` for the reference seed).

    Raises
    ------
    KeyError
        If a ``(num_topics, seed)`` pair has no evaluation.

    Examples
    --------
    >>> measures = {"c_v": [0.5, 0.7], "c_npmi": [0.1, 0.3], "u_mass": [-1.0, -2.0]}
    >>> evaluations = {
    ...     (2, 1): FitEvaluation(2, 1, "k1", measures, 120.0, [["土地", "规划"], ["企业", "产业"]], True, 5),
    ...     (2, 2): FitEvaluation(2, 2, "k2", measures, 118.0, [["企业", "产业"], ["土地", "园区"]], True, 5)}
    >>> rows = sweep_rows(evaluations, [2], [1, 2])
    >>> rows[0]["c_v"], rows[0]["heldout_units"], rows[0]["jaccard"], round(rows[1]["jaccard"], 3)
    (0.6, 5, None, 0.667)
    """
    rows = []
    for k in num_topics:
        reference = evaluations[(k, seeds[0])].terms
        for seed in seeds:
            evaluation = evaluations[(k, seed)]
            row: dict[str, Any] = {"num_topics": int(k), "seed": int(seed)}
            for measure in COHERENCE_MEASURES:
                row[measure] = float(np.mean(evaluation.coherence[measure]))
            row["diversity"] = topic_diversity(evaluation.terms)
            row["perplexity"] = evaluation.perplexity
            row["heldout_units"] = int(evaluation.heldout_units)
            if seed == seeds[0]:
                row["jaccard"] = None
            else:
                matches = align_topics(reference, evaluation.terms)
                row["jaccard"] = float(np.mean([value for _, _, value in matches]))
            rows.append(row)
    return rows


def sweep(
    token_lists: Sequence[Sequence[str]],
    num_topics: list[int],
    seeds: list[int],
    make_model: Callable[[int, int], LdaTopicModel],
    workers: int,
    topn: int = DEFAULT_TOP_N,
    cache_dir: str | Path | None = None,
    heldout_fraction: float | None = None,
) -> list[dict[str, Any]]:
    """Fit and score a model for every (K, seed), in parallel processes.

    Parameters
    ----------
    token_lists : sequence of sequence of str
        The units' tokens.
    num_topics : list of int
        The K values.
    seeds : list of int
        The seeds; the first is the reference fit of each K, the others are refits whose
        topics are matched to it (stability). The first also draws the held-out units.
    make_model : callable (num_topics, seed) -> LdaTopicModel
        An unfitted-model factory; must be picklable (a module-level function or a
        ``functools.partial`` of one, e.g. of :func:`policytopics.models.lda.make_model`).
    workers : int
        Worker processes (0 = one per CPU core; 1 = in this process). The rows do not
        depend on it.
    topn : int
        Top terms per topic for coherence, diversity and the Jaccard matching.
    cache_dir : str or Path, optional
        The cache folder: fits, features and scores computed before are read from it, new
        ones stored in it. ``None``: nothing is re-used.
    heldout_fraction : float, optional
        Hold out this share of the units (:func:`heldout_split` with ``seeds[0]``): every fit
        sees the others only and the perplexity is computed on them. ``None``: every fit sees
        all units and the perplexity is computed on them.

    Returns
    -------
    list of dict
        One row per fit, K-major then in seed order: ``num_topics``, ``seed``, ``c_v``,
        ``c_npmi``, ``u_mass`` (means over topics), ``diversity``, ``perplexity``,
        ``heldout_units`` and ``jaccard``: the mean top-term Jaccard of the Hungarian-matched
        topics to the reference seed's fit (``None`` for the reference itself).

    Examples
    --------
    >>> import functools
    >>> from policytopics.models.lda import make_model
    >>> units = [["规划", "土地", "道路"], ["企业", "产业", "科技"]] * 10
    >>> rows = sweep(units, [2, 3], [1, 2], functools.partial(make_model, passes=3, no_above=1.0), workers=1,
    ...              heldout_fraction=0.1)
    >>> [(row["num_topics"], row["seed"], row["heldout_units"], row["jaccard"] is None) for row in rows]
    [(2, 1, 2, True), (2, 2, 2, False), (3, 1, 2, True), (3, 2, 2, False)]
    """
    if not num_topics or not seeds:
        raise ValueError("sweep needs at least one num_topics value and one seed")
    if len(set(seeds)) != len(seeds) or len(set(num_topics)) != len(num_topics):
        raise ValueError(f"sweep num_topics and seeds must be distinct, got {num_topics} and {seeds}")
    if workers < 0:
        raise ValueError(f"workers must be >= 0, got {workers}")
    params = make_model(int(num_topics[0]), int(seeds[0])).get_params()
    features = corpus_features(
        token_lists, FeaturesConfig(no_below=params["no_below"], no_above=params["no_above"], keep_n=params["keep_n"]),
        cache_dir,
    )
    split = None
    if heldout_fraction is not None:
        split = heldout_split(np.diff(features.bows.offsets), heldout_fraction, int(seeds[0]))
    tasks = [(int(k), int(seed)) for k in num_topics for seed in seeds]
    with FitPool(token_lists, features, make_model, tasks, workers, topn, cache_dir, heldout=split) as pool:
        evaluations = {task: pool.result(*task) for task in tasks}
    return sweep_rows(evaluations, [int(k) for k in num_topics], [int(seed) for seed in seeds])


# ---------------------------------------------------------------------------- the choice of K


@dataclass(frozen=True)
class NumTopicsChoice:
    """The run's K and why (:func:`choose_num_topics`).

    Attributes
    ----------
    num_topics : int
        The chosen K.
    choose : {"auto", "fixed"}
        How it was chosen (``selection.choose``).
    reason : str
        One paragraph a reader can check against ``model_selection.csv``.
    heldout_units : int
        The units the sweep's perplexity was computed on.
    """

    num_topics: int
    choose: str
    reason: str
    heldout_units: int

    def summary(self) -> dict[str, Any]:
        """The ``summary.json`` keys: ``num_topics_choice``, ``num_topics_reason``, ``heldout_units``."""
        return {"num_topics_choice": self.choose, "num_topics_reason": self.reason, "heldout_units": self.heldout_units}


def _per_k(rows: Sequence[Mapping[str, Any]], measure: str) -> dict[int, dict[str, Any]]:
    """Per K: mean and standard error of the perplexity over seeds, mean coherence, stability.

    Row values are rounded to 6 decimals first, as ``model_selection.csv`` holds them, so that
    the choice can be re-derived from the file.
    """
    table: dict[int, dict[str, Any]] = {}
    for k in sorted({int(row["num_topics"]) for row in rows}):
        fits = [row for row in rows if int(row["num_topics"]) == k]
        perplexities = np.array([round(float(row["perplexity"]), 6) for row in fits])
        jaccards = [round(float(row["jaccard"]), 6) for row in fits if row.get("jaccard") not in (None, "")]
        se = float(np.std(perplexities, ddof=1) / np.sqrt(len(perplexities))) if len(perplexities) > 1 else 0.0
        table[k] = {
            "perplexity": float(np.mean(perplexities)),
            "se": se,
            "coherence": float(np.mean([round(float(row[measure]), 6) for row in fits])),
            "stability": float(np.mean(jaccards)) if jaccards else None,
            "fits": len(fits),
        }
    return table


def _ks(values: Sequence[int]) -> str:
    return ", ".join(str(k) for k in values)


def choose_num_topics(rows: Sequence[Mapping[str, Any]], selection: Any, fixed_num_topics: int) -> NumTopicsChoice:
    """The run's K: ``lda.num_topics`` (``selection.choose: fixed``) or chosen from the sweep.

    The rule of ``selection.choose: auto`` (docs/methods.md, section 6), on the means over
    seeds of each K's rows:

    1. **Stable.** A K is eligible if its mean top-term Jaccard overlap with the run seed's
       fit is at least ``selection.min_stability`` (Greene et al. 2014). Without refits every
       K is eligible; if no K reaches the threshold, only the most stable K is.
    2. **Fits as well as the best.** Among the eligible K, those whose mean held-out
       perplexity is at most the lowest mean plus ``selection.perplexity_se`` standard errors
       (over seeds) of that lowest mean: the one-standard-error rule (Breiman et al. 1984;
       Hastie, Tibshirani & Friedman 2009, 7.10).
    3. **Most coherent.** Of those, the K with the highest mean ``selection.coherence``
       (data-only top terms); ties go to the smaller K.

    Parameters
    ----------
    rows : sequence of mapping
        The sweep's rows (:func:`sweep_rows`, or ``model_selection.csv`` read as text).
    selection : SelectionConfig
        ``choose``, ``min_stability``, ``perplexity_se`` and ``coherence``.
    fixed_num_topics : int
        ``lda.num_topics``, the K of ``choose: fixed``.

    Returns
    -------
    NumTopicsChoice

    Examples
    --------
    >>> from policytopics.config import SelectionConfig
    >>> rows = [{"num_topics": k, "seed": s, "perplexity": p, "c_npmi": c, "jaccard": j, "heldout_units": 3}
    ...         for k, s, p, c, j in [(8, 1, 100.0, 0.02, None), (8, 2, 102.0, 0.04, 0.9),
    ...                               (10, 1, 101.0, 0.05, None), (10, 2, 101.5, 0.07, 0.7),
    ...                               (12, 1, 99.0, 0.09, None), (12, 2, 99.5, 0.10, 0.3)]]
    >>> choice = choose_num_topics(rows, SelectionConfig(), 12)
    >>> choice.num_topics, choice.choose
    (10, 'auto')
    >>> choose_num_topics(rows, SelectionConfig(choose="fixed"), 12).num_topics
    12
    """
    heldout_units = max((int(row.get("heldout_units") or 0) for row in rows), default=0)
    swept = sorted({int(row["num_topics"]) for row in rows})
    if selection.choose == "fixed":
        where = "it is one of the swept K" if fixed_num_topics in swept else "it is not one of the swept K"
        reason = f"K = {fixed_num_topics}, lda.num_topics (selection.choose: fixed; {where})."
        return NumTopicsChoice(int(fixed_num_topics), "fixed", reason, heldout_units)
    if not swept:
        raise ValueError("choose_num_topics: the sweep has no rows")
    measure = selection.coherence
    table = _per_k(rows, measure)
    if len(swept) == 1:
        reason = f"K = {swept[0]}, the only K swept (selection.num_topics; selection.choose: auto)."
        return NumTopicsChoice(swept[0], "auto", reason, heldout_units)
    parts = [f"selection.choose: auto, over K = {_ks(swept)}."]
    if all(table[k]["stability"] is None for k in swept):
        eligible = swept
        parts.append("Step 1 (stability) is skipped: no refits (selection.stability_seeds: 0).")
    else:
        threshold = float(selection.min_stability)
        eligible = [k for k in swept if table[k]["stability"] >= threshold]
        if eligible:
            parts.append(f"Step 1: the K with mean stability (Jaccard) >= {threshold:g}: {_ks(eligible)}.")
        else:
            best = max(table[k]["stability"] for k in swept)
            eligible = [min(k for k in swept if table[k]["stability"] == best)]
            parts.append(
                f"Step 1: no K reaches mean stability (Jaccard) {threshold:g}; only the most stable, "
                f"K = {eligible[0]} ({best:.3f}), stays."
            )
    best_k = min(eligible, key=lambda k: (table[k]["perplexity"], k))
    limit = round(table[best_k]["perplexity"] + float(selection.perplexity_se) * table[best_k]["se"], 6)
    fits_well = [k for k in eligible if round(table[k]["perplexity"], 6) <= limit]
    parts.append(
        f"Step 2: the lowest mean held-out perplexity among them is K = {best_k}'s, "
        f"{table[best_k]['perplexity']:.3f} (standard error {table[best_k]['se']:.3f} over "
        f"{table[best_k]['fits']} seeds); within {float(selection.perplexity_se):g} standard "
        f"error(s) of it (<= {limit:.3f}): {_ks(fits_well)}."
    )
    chosen = max(fits_well, key=lambda k: (round(table[k]["coherence"], 6), -k))
    if len(fits_well) > 1:
        others = ", ".join(f"K = {k}: {table[k]['coherence']:.3f}" for k in fits_well if k != chosen)
        parts.append(
            f"Step 3: the highest mean {measure} of those is K = {chosen}'s, "
            f"{table[chosen]['coherence']:.3f} ({others})."
        )
    else:
        parts.append(f"Step 3 has one K left: K = {chosen}.")
    return NumTopicsChoice(chosen, "auto", f"K = {chosen}. " + " ".join(parts), heldout_units)


def mark_chosen(rows: Sequence[Mapping[str, Any]], num_topics: int) -> list[dict[str, Any]]:
    """The sweep's rows with a last column ``chosen``: whether the row's K is the run's K.

    Parameters
    ----------
    rows : sequence of mapping
        The rows of ``model_selection.csv`` (each with ``num_topics``).
    num_topics : int
        The run's K.

    Returns
    -------
    list of dict
        Copies of the rows with ``chosen`` added.

    Examples
    --------
    >>> [row["chosen"] for row in mark_chosen([{"num_topics": 8}, {"num_topics": 10}], 10)]
    [False, True]
    """
    return [{**row, "chosen": int(row["num_topics"]) == int(num_topics)} for row in rows]


def selection_summary(rows: Sequence[Mapping[str, Any]], selection: Any, fixed_num_topics: int) -> dict[str, Any]:
    """The ``summary.json`` keys of the choice of K (:meth:`NumTopicsChoice.summary`), from
    the sweep's rows and the settings; the same choice :func:`choose_num_topics` made.

    Parameters
    ----------
    rows : sequence of mapping
        The rows of ``model_selection.csv``.
    selection : SelectionConfig
        The ``selection`` settings.
    fixed_num_topics : int
        ``lda.num_topics`` (the K of ``choose: fixed``).

    Returns
    -------
    dict
        ``num_topics_choice``, ``num_topics_reason`` and the other keys of the choice.

    Examples
    --------
    >>> from policytopics.config import SelectionConfig
    >>> rows = [{"num_topics": 12, "seed": 1, "perplexity": 99.0, "c_npmi": 0.1, "jaccard": None, "heldout_units": 3}]
    >>> selection_summary(rows, SelectionConfig(), 12)["num_topics_choice"]
    'auto'
    """
    return choose_num_topics(rows, selection, fixed_num_topics).summary()


# ---------------------------------------------------------------------------- the clustering check


def clustering_check(
    ari: float,
    cluster_themes: Sequence[str],
    min_ari: float = CLUSTERING_MIN_ARI,
    min_mapped: float = CLUSTERING_MIN_MAPPED,
) -> dict[str, Any]:
    """Whether the TF-IDF clustering agrees with the themes, in figures and in plain words.

    The clustering agrees when the adjusted Rand index of the unit themes and the cluster
    themes is at least ``min_ari`` and at least ``min_mapped`` of the units are in clusters
    that map to a theme (the rest are in ``unassigned`` clusters, or have no term).

    Parameters
    ----------
    ari : float
        Adjusted Rand index of the unit themes and the cluster themes.
    cluster_themes : sequence of str
        The theme of each unit's cluster (``"unassigned"`` for none).
    min_ari, min_mapped : float
        The thresholds (:data:`CLUSTERING_MIN_ARI`, :data:`CLUSTERING_MIN_MAPPED`).

    Returns
    -------
    dict
        The ``summary.json`` keys: ``clustering_agrees`` (bool), ``clustering_mapped_share``
        (share of units in clusters mapped to a theme), ``clustering_unassigned_share`` (the
        rest) and ``clustering_statement`` (two or three sentences for the report).

    Examples
    --------
    >>> check = clustering_check(0.049, ["cadre"] * 110 + ["unassigned"] * 119)
    >>> check["clustering_agrees"], round(check["clustering_mapped_share"], 3)
    (False, 0.48)
    """
    units = len(cluster_themes)
    mapped = sum(theme != _UNASSIGNED for theme in cluster_themes)
    share = mapped / units if units else 0.0
    agrees = bool(ari >= min_ari and share >= min_mapped)
    figures = (
        f"adjusted Rand index {ari:.3f} (agreement needs at least {min_ari:g}; 0 is chance); "
        f"{mapped} of {units} units ({share:.1%}) are in clusters mapped to a theme and "
        f"{units - mapped} ({1 - share if units else 0.0:.1%}) in clusters mapped to none "
        f"(agreement needs at least {min_mapped:.0%} mapped)."
    )
    if agrees:
        statement = (
            f"The TF-IDF clustering agrees with the themes: {figures} A clustering fitted "
            "without the codebook finds much of the same grouping of the units, which supports "
            "the themes without proving them."
        )
    else:
        statement = (
            f"The TF-IDF clustering does not agree with the themes: {figures} The clustering, "
            "which is fitted without the codebook's keywords, does not recover the codebook's "
            "themes; the theme shares rest on the guided model and its validation against hand "
            "codes, not on this check."
        )
    return {
        "clustering_agrees": agrees,
        "clustering_mapped_share": round(share, 6),
        "clustering_unassigned_share": round(1.0 - share, 6) if units else 0.0,
        "clustering_statement": statement,
    }
