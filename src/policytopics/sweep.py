"""Many LDA fits at once: the held-out split, the pool of (K, seed) fits and the sweep.

:func:`heldout_split` draws the units held out of every sweep fit; :class:`FitPool` fits (or
reads from the cache) one model per (K, seed) task in worker processes, each fit
single-process and seeded, and scores it (held-out perplexity, coherence); :func:`sweep_rows`
turns the evaluations into the rows of ``model_selection.csv``. Rows come in (K, seed) order
whatever the number of workers, so they do not depend on which worker computed them.

In: unit tokens, their features and a model factory. Out: one evaluation per (K, seed) fit
(and the fitted models, through the cache).
"""

from __future__ import annotations

import logging
import tempfile
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from policytopics.cache import CacheStore, fingerprint
from policytopics.config import FeaturesConfig
from policytopics.features import Features, copy_dictionary, corpus_features
from policytopics.metrics import COHERENCE_MEASURES, align_topics, coherence_of_fits, perplexity_of_units, topic_diversity
from policytopics.models.lda import DEFAULT_TOP_N, LdaTopicModel
from policytopics.models.persistence import fit_cache_key, load_cached_fit, save_cached_fit
from policytopics.packed import PackedBows, PackedTokens
from policytopics.progress import progress_bar
from policytopics.provenance import environment_versions, source_hash
from policytopics.workers import process_pool, resolve_workers, worker_context

logger = logging.getLogger("policytopics")

__all__ = ["FitEvaluation", "FitPool", "HeldoutSplit", "heldout_split", "sweep", "sweep_rows"]


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
    bows = PackedBows.of(features.bows)
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
        The fit's cache key (:func:`policytopics.models.persistence.fit_cache_key`).
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
    context = context if context is not None else worker_context()
    num_topics, seed, make_model, topn, key, _, perplexity_key = task
    fits, scores = _stores(context.root)
    # a fit evaluated before: its perplexity and top terms are enough (the model is read later, once)
    terms_key = _score_key("top-terms", key, topn)
    value, terms = scores.get_json(perplexity_key), scores.get_json(terms_key)
    if value is not None and terms is not None and fits.path(key).is_dir():
        return _Fit(float(value), terms, False)
    model = load_cached_fit(fits, key)
    gamma = None
    fitted = model is None
    if model is None:
        model = make_model(num_topics, seed).fit_bow(context.dictionary, context.bows)
        gamma = model.train_gamma_
        save_cached_fit(fits, key, model)
    value = scores.get_json(perplexity_key)
    if value is None:
        if context.heldout is None:
            value = perplexity_of_units(model, context.bows, gamma)
        else:
            value = perplexity_of_units(model, context.heldout, total_units=len(context.bows))
        scores.put_json(perplexity_key, value)
    terms = [[term for term, _ in topic] for topic in model.top_terms(topn)]
    scores.put_json(terms_key, terms)
    return _Fit(float(value), terms, fitted)


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
    (:func:`policytopics.metrics.coherence_of_fits`). Results do not depend on the number of workers or on what
    came from the cache.

    One progress bar counts the fits: those read from the cache at once, the others as each
    finishes (in a worker or in this process); it closes when every fit is done.

    Parameters
    ----------
    token_lists : sequence of sequence of str
        The units' tokens (the reference texts of the coherence).
    features : Features
        Their vocabulary and bags of words (:func:`policytopics.features.corpus_features`),
        built with the filter settings of the models ``make_model`` makes.
    make_model : callable (num_topics, seed) -> LdaTopicModel
        A picklable factory, e.g. :func:`policytopics.models.factories.factory_from_config`.
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
    progress : tqdm.tqdm, optional
        The bar advanced by one per fit done (its ``total`` is set to the number of tasks;
        the pool closes it); by default :func:`policytopics.progress.progress_bar`, shown
        only on a terminal or in a notebook.

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
        progress: Any = None,
    ) -> None:
        if workers < 0:
            raise ValueError(f"workers must be >= 0, got {workers}")
        self._temporary = tempfile.TemporaryDirectory(prefix="policytopics-fits-") if cache_dir is None else None
        root = self._temporary.name if self._temporary is not None else str(cache_dir)
        # compact arrays: what is pickled to each worker is a few numpy arrays, not lists
        tokens = token_lists if isinstance(token_lists, PackedTokens) else PackedTokens.from_lists(token_lists)
        bows = PackedBows.of(features.bows)
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
        self._pool: Executor | None = None
        pending = [name for name, task in self._tasks.items() if not _fitted(task, root)]
        #: tasks whose fit was in the cache when the pool started
        self.cached = len(self._tasks) - len(pending)
        # the bar counts each task once: the cached ones now, the others when their fit is
        # done, from the executor's thread (worker fits) or from this one (in-process fits)
        self._bar = progress if progress is not None else progress_bar(len(self._tasks), "LDA fits", "fit")
        self._bar.total = len(self._tasks)
        self._counted = {name for name in self._tasks if name not in pending}
        self._count_lock = threading.Lock()
        self._bar.update(len(self._counted))
        workers = resolve_workers(workers)
        if workers > 1 and pending:
            # even one pending fit goes to a worker: this process clusters meanwhile
            workers = min(workers, len(pending))
            # spawn: workers start clean (no inherited threads or state), on every platform
            self._pool = process_pool(workers, context=replace(self._context, tokens=None), start="spawn")
            for name in sorted(pending, key=lambda name: (-name[0], name[1])):  # longest fits first
                future = self._pool.submit(_run_task, self._tasks[name])
                future.add_done_callback(lambda done, name=name: self._fit_done(name, done))
                self._futures[name] = future

    def _fit_done(self, name: tuple[int, int], future: Future[_Fit] | None = None) -> None:
        """Count the fit of ``name`` on the bar, once (a failed or cancelled fit is not done)."""
        if future is not None and (future.cancelled() or future.exception() is not None):
            return
        with self._count_lock:
            if name in self._counted:
                return
            self._counted.add(name)
            self._bar.update(1)

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
        self._bar.close()
        if self._temporary is not None:
            self._temporary.cleanup()
            self._temporary = None

    def _gather(self) -> None:
        """Wait for every fit, then read or compute the coherence of all of them."""
        if self._results:
            return
        fits: dict[tuple[int, int], _Fit] = {}
        for name, task in self._tasks.items():
            fits[name] = self._futures.pop(name).result() if name in self._futures else _run_task(task, self._context)
            # a worker's future can return before its callback has run: count here too (once)
            self._fit_done(name)
        self._bar.close()
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
                computed = coherence_of_fits(
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

    def unit_topics(self, model: LdaTopicModel) -> np.ndarray:
        """Every unit's topic proportions under a fit of this pool (:meth:`model`), in the run's
        unit order.

        Without a held-out split the fit's ``doc_topic_``; with one, the training units' rows
        come from the fit and the held-out units' are inferred by the fitted model (the same
        E-step), so that every unit is measured by every fit of the sweep.
        """
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
