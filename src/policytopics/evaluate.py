"""Topic-model evaluation: coherence, diversity, perplexity, topic alignment, stability, K sweeps.

In: fitted :class:`~policytopics.models.lda.LdaTopicModel` objects (or their top-term lists)
and the unit tokens they were fitted on. Out: per-topic coherence scores, one diversity and
one perplexity figure per model, Hungarian matchings of the topics of two fits with their
top-term Jaccard overlap, a stability summary of refits with other seeds, and one row of
figures per (K, seed) fit of a sweep.

Everything is deterministic: gensim's ``CoherenceModel`` runs with ``processes=1``, the
perplexity uses the model's deterministic inference instead of gensim's random one, and the
sweep returns its rows in (K, seed) order whatever the number of worker processes; each fit
is single-process and seeded, so a row does not depend on which worker computed it.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np
from gensim.models.coherencemodel import CoherenceModel
from scipy.optimize import linear_sum_assignment
from scipy.special import gammaln, logsumexp, psi

from policytopics.features import to_bow
from policytopics.models.lda import DEFAULT_TOP_N, LdaTopicModel

__all__ = [
    "COHERENCE_MEASURES",
    "align_topics",
    "coherence",
    "perplexity",
    "stability",
    "sweep",
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
    """Coherence of every topic's top terms (by probability) on the units' tokens.

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
    texts = [list(tokens) for tokens in token_lists]
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


def _bound(model: LdaTopicModel, bows: list[list[tuple[int, int]]], gamma: np.ndarray) -> float:
    """The variational lower bound of ``log p(units)`` that gensim's ``LdaModel.bound`` computes.

    Same terms as gensim (document likelihood, theta prior and entropy, beta prior and
    entropy), written out here because gensim 4.4's ``bound`` fails when given ``gamma`` (its
    Cython ``logsumexp`` wants 2-D input) and, for a K x V ``eta``, sums ``eta`` over all cells
    instead of each topic's row in the ``gammaln(sum eta_k)`` term.
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
    eta = np.broadcast_to(np.asarray(lda.eta, dtype=np.float64), lam.shape)
    score += float(np.sum((eta - lam) * elog_beta))
    score += float(np.sum(gammaln(lam) - gammaln(eta)))
    score += float(np.sum(gammaln(eta.sum(axis=1)) - gammaln(lam.sum(axis=1))))
    return score


def perplexity(model: LdaTopicModel, token_lists: Sequence[Sequence[str]]) -> float:
    """Perplexity estimate ``2 ** (-bound per word)`` as gensim's ``log_perplexity`` reports it.

    The bound is gensim's variational lower bound of the log likelihood (in nats) divided by
    the number of in-vocabulary tokens, computed with the model's deterministic inference;
    following gensim, the estimate exponentiates base 2. Lower is better; compare it only
    between models of the same units and vocabulary.

    Parameters
    ----------
    model : LdaTopicModel
        A fitted model.
    token_lists : sequence of sequence of str
        The units to score.

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
    bows = to_bow(model.dictionary_, token_lists)
    words = sum(count for bow in bows for _, count in bow)
    if words == 0:
        raise ValueError("no token of the units is in the model's vocabulary")
    gamma, _ = model._gamma(bows)
    return float(np.exp2(-_bound(model, bows, gamma) / words))


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


# ---------------------------------------------------------------------------- sweep
_WORKER_TOKENS: list[list[str]] | None = None


def _init_sweep_worker(token_lists: list[list[str]]) -> None:
    global _WORKER_TOKENS
    _WORKER_TOKENS = token_lists


def _evaluate_fit(
    task: tuple[int, int, Callable[[int, int], LdaTopicModel], int],
    token_lists: list[list[str]] | None = None,
) -> tuple[dict[str, Any], list[list[str]]]:
    num_topics, seed, make_model, topn = task
    tokens = token_lists if token_lists is not None else _WORKER_TOKENS
    assert tokens is not None, "sweep worker started without tokens"
    model = make_model(num_topics, seed).fit(tokens)
    scores = coherence(model, tokens, COHERENCE_MEASURES, topn)
    terms = [[term for term, _ in topic] for topic in model.top_terms(topn)]
    row: dict[str, Any] = {"num_topics": num_topics, "seed": seed}
    for measure in COHERENCE_MEASURES:
        row[measure] = float(np.mean(scores[measure]))
    row["diversity"] = topic_diversity(terms)
    row["perplexity"] = perplexity(model, tokens)
    return row, terms


def sweep(
    token_lists: Sequence[Sequence[str]],
    num_topics: list[int],
    seeds: list[int],
    make_model: Callable[[int, int], LdaTopicModel],
    workers: int,
    topn: int = DEFAULT_TOP_N,
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
        topics are matched to it (stability).
    make_model : callable (num_topics, seed) -> LdaTopicModel
        An unfitted-model factory; must be picklable (a module-level function or a
        ``functools.partial`` of one, e.g. of :func:`policytopics.models.lda.make_model`).
    workers : int
        Worker processes (0 = one per CPU core; 1 = in this process). The rows do not
        depend on it.
    topn : int
        Top terms per topic for coherence, diversity and the Jaccard matching.

    Returns
    -------
    list of dict
        One row per fit, K-major then in seed order: ``num_topics``, ``seed``, ``c_v``,
        ``c_npmi``, ``u_mass`` (means over topics), ``diversity``, ``perplexity`` and
        ``jaccard``: the mean top-term Jaccard of the Hungarian-matched topics to the
        reference seed's fit (``None`` for the reference itself).

    Examples
    --------
    >>> import functools
    >>> from policytopics.models.lda import make_model
    >>> units = [["规划", "土地", "道路"], ["企业", "产业", "科技"]] * 10
    >>> rows = sweep(units, [2, 3], [1, 2], functools.partial(make_model, passes=3, no_above=1.0), workers=1)
    >>> [(row["num_topics"], row["seed"], row["jaccard"] is None) for row in rows]
    [(2, 1, True), (2, 2, False), (3, 1, True), (3, 2, False)]
    """
    if not num_topics or not seeds:
        raise ValueError("sweep needs at least one num_topics value and one seed")
    if len(set(seeds)) != len(seeds) or len(set(num_topics)) != len(num_topics):
        raise ValueError(f"sweep num_topics and seeds must be distinct, got {num_topics} and {seeds}")
    if workers < 0:
        raise ValueError(f"workers must be >= 0, got {workers}")
    tokens = [list(tokens) for tokens in token_lists]
    tasks = [(int(k), int(seed), make_model, int(topn)) for k in num_topics for seed in seeds]
    if workers == 0:
        workers = os.cpu_count() or 1
    workers = min(workers, len(tasks))
    if workers == 1:
        results = [_evaluate_fit(task, tokens) for task in tasks]
    else:
        # spawn: workers start clean (no inherited threads or state), on every platform
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_sweep_worker, initargs=(tokens,)) as pool:
            results = list(pool.map(_evaluate_fit, tasks))

    reference_terms = {
        row["num_topics"]: terms for row, terms in results if row["seed"] == seeds[0]
    }
    rows = []
    for row, terms in results:
        if row["seed"] == seeds[0]:
            row["jaccard"] = None
        else:
            matches = align_topics(reference_terms[row["num_topics"]], terms)
            row["jaccard"] = float(np.mean([value for _, _, value in matches]))
        rows.append(row)
    return rows
