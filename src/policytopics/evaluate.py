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

import logging
import multiprocessing
import os
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from gensim.models.coherencemodel import CoherenceModel
from scipy.optimize import linear_sum_assignment
from scipy.special import gammaln, logsumexp, psi

from policytopics.config import FeaturesConfig
from policytopics.features import CacheStore, Features, corpus_features, fingerprint, package_versions, source_hash, to_bow
from policytopics.packed import PackedBows, PackedTokens
from policytopics.models.lda import DEFAULT_TOP_N, LdaTopicModel, fit_cache_key, load_cached_fit, save_cached_fit

logger = logging.getLogger("policytopics")

__all__ = [
    "COHERENCE_MEASURES",
    "FitEvaluation",
    "FitPool",
    "align_topics",
    "coherence",
    "perplexity",
    "stability",
    "sweep",
    "sweep_rows",
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


def _bound(model: LdaTopicModel, bows: Sequence[Sequence[tuple[int, int]]], gamma: np.ndarray) -> float:
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
    return _perplexity(model, to_bow(model.dictionary_, token_lists))


def _perplexity(model: LdaTopicModel, bows: Sequence[Sequence[tuple[int, int]]], gamma: np.ndarray | None = None) -> float:
    """:func:`perplexity` of bags of words; ``gamma`` = their proportions if already inferred
    (a fit's training units: the same deterministic inference gives the same array)."""
    words = sum(count for bow in bows for _, count in bow)
    if words == 0:
        raise ValueError("no token of the units is in the model's vocabulary")
    if gamma is None:
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
#
# Every fit of a run -- the run's own model and each (K, seed) of the model-selection sweep --
# is one task: fit (LdaTopicModel.fit_bow on the shared features), perplexity, coherence. A
# task's fitted model, perplexity and coherence are stored in the cache under keys that hash
# everything they depend on, so a task that was computed before (in this run: the run's own
# model is the sweep's (K, run seed) fit; in an earlier run with other model settings) is read,
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
        Per measure, one value per topic (:func:`coherence`).
    perplexity : float
        :func:`perplexity` on the training units.
    terms : list of list of str
        Each topic's top terms by probability.
    fitted : bool
        Whether this run fitted the model (``False``: read from the cache).
    """

    num_topics: int
    seed: int
    key: str
    coherence: dict[str, list[float]]
    perplexity: float
    terms: list[list[str]]
    fitted: bool


@dataclass(frozen=True)
class _Context:
    """What every task needs: the units' tokens and features, and the cache folder."""

    tokens: PackedTokens | None  # None in the workers: a fit needs the bags of words only
    dictionary: Any
    bows: PackedBows
    root: str


#: (K, seed, make_model, topn, fit key, coherence measures, perplexity key); every key is
#: computed in the parent process, so workers (which import the code afresh) agree with it
_Task = tuple[int, int, Callable[[int, int], LdaTopicModel], int, str, tuple[str, ...], str]
_WORKER_CONTEXT: _Context | None = None


def _init_worker(context: _Context) -> None:
    global _WORKER_CONTEXT
    _WORKER_CONTEXT = context


def _score_key(kind: str, fit_key: str, *extra: Any) -> str:
    return fingerprint(kind, fit_key, *extra, package_versions("gensim", "numpy", "scipy"), source_hash(__file__))


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
        value = _perplexity(model, context.bows, gamma)
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
    ) -> None:
        if workers < 0:
            raise ValueError(f"workers must be >= 0, got {workers}")
        self._temporary = tempfile.TemporaryDirectory(prefix="policytopics-fits-") if cache_dir is None else None
        root = self._temporary.name if self._temporary is not None else str(cache_dir)
        # compact arrays: what is pickled to each worker is a few numpy arrays, not lists
        tokens = token_lists if isinstance(token_lists, PackedTokens) else PackedTokens.from_lists(token_lists)
        bows = features.bows if isinstance(features.bows, PackedBows) else PackedBows.from_lists(features.bows)
        self._context = _Context(tokens, features.dictionary, bows, root)
        self._topn = int(topn)
        self._measures = tuple(measures)
        self._tasks: dict[tuple[int, int], _Task] = {}
        for num_topics, seed in tasks:
            num_topics, seed = int(num_topics), int(seed)
            key = fit_cache_key(make_model(num_topics, seed), features.key)
            self._tasks[(num_topics, seed)] = (
                num_topics, seed, make_model, self._topn, key, self._measures, _score_key("perplexity", key)
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
                    [fits[name].terms for name in missing], self._context.tokens, self._context.dictionary,
                    measure, self._topn, corpus=self._context.bows,
                )
                for name, per_topic in zip(missing, computed):
                    scores.put_json(_score_key("coherence", self._tasks[name][4], self._topn, measure), per_topic)
                    values[name][measure] = per_topic
        for name, task in self._tasks.items():
            fit = fits[name]
            self._results[name] = FitEvaluation(
                name[0], name[1], task[4], values[name], fit.perplexity, fit.terms, fit.fitted
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
        ``diversity``, ``perplexity`` and ``jaccard`` (``None`` for the reference seed).

    Raises
    ------
    KeyError
        If a ``(num_topics, seed)`` pair has no evaluation.

    Examples
    --------
    >>> measures = {"c_v": [0.5, 0.7], "c_npmi": [0.1, 0.3], "u_mass": [-1.0, -2.0]}
    >>> evaluations = {
    ...     (2, 1): FitEvaluation(2, 1, "k1", measures, 120.0, [["土地", "规划"], ["企业", "产业"]], True),
    ...     (2, 2): FitEvaluation(2, 2, "k2", measures, 118.0, [["企业", "产业"], ["土地", "园区"]], True)}
    >>> rows = sweep_rows(evaluations, [2], [1, 2])
    >>> rows[0]["c_v"], rows[0]["jaccard"], round(rows[1]["jaccard"], 3)
    (0.6, None, 0.667)
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
    cache_dir : str or Path, optional
        The cache folder: fits, features and scores computed before are read from it, new
        ones stored in it. ``None``: nothing is re-used.

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
    params = make_model(int(num_topics[0]), int(seeds[0])).get_params()
    features = corpus_features(
        token_lists, FeaturesConfig(no_below=params["no_below"], no_above=params["no_above"], keep_n=params["keep_n"]),
        cache_dir,
    )
    tasks = [(int(k), int(seed)) for k in num_topics for seed in seeds]
    with FitPool(token_lists, features, make_model, tasks, workers, topn, cache_dir) as pool:
        evaluations = {task: pool.result(*task) for task in tasks}
    return sweep_rows(evaluations, [int(k) for k in num_topics], [int(seed) for seed in seeds])
