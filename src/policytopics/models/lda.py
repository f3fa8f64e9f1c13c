"""LDA topic models of the unit tokens: keyword-guided (seeded) and mapped, on gensim's LdaModel.

In: one token list per analysis unit (the ``tokens`` of ``tokens.jsonl``), the ``lda`` and
``features`` sections of the config, the run seed and, for guided topics, the theme keywords
(theme id -> keywords). Out: a fitted :class:`LdaTopicModel` holding the vocabulary, the
topic-term matrix (K x V, rows sum to 1), the data-only topic-term distribution
(:attr:`LdaTopicModel.topic_term_data_`), the unit-topic matrix (n_units x K, rows sum to 1),
the theme of each topic, and term lists by probability, relevance or FREX (on the data-only
distribution);
:func:`map_topics_to_themes` labels unsupervised topics with themes.

Two methods (``lda.method`` in the config):

* **guided**: topics ``0..T-1`` are the ``T`` themes, in the order given, seeded with their
  keywords; topics ``T..K-1`` are free and take what no theme explains.
* **mapped**: plain LDA (scalar ``eta``, gensim's own initialisation); afterwards each topic
  is given the theme whose keywords hold the largest share of its probability mass, or
  ``"unassigned"`` (:func:`map_topics_to_themes`).

Determinism
-----------
One ``random_state`` (an int) drives everything random: gensim's ``LdaModel`` receives it,
and the random part of the guided initialisation is drawn from the model's own
``RandomState``. Fitting is single-process (``LdaMulticore`` is not reproducible; run several
fits in parallel processes instead, see :func:`policytopics.evaluate.sweep`). The unit-topic
proportions are *not* taken from gensim's ``get_document_topics``, whose variational
inference starts from a random ``gamma`` drawn from the model's random state (so the answer
depends on how many documents were inferred before and in which batch). :meth:`transform`
runs the same fixed-point iteration as gensim's ``LdaModel.inference`` but starts every unit
from ``gamma = 1`` (the mean of gensim's ``Gamma(100, 1/100)`` start) and iterates each unit on
its own: a unit gets the same bytes alone or in a batch, before or after any other call.

Why a naive seeded prior does nothing, and what is done instead
----------------------------------------------------------------
gensim fits LDA by (online) variational Bayes. The topics are Dirichlet posteriors
``q(beta_k) = Dir(lambda_k)`` and every M-step sets ::

    lambda_kw = eta_kw + sstats_kw,    sstats_kw = sum_d n_dw * phi_dwk

where ``sstats`` are the expected counts of term ``w`` in topic ``k`` from the E-step and
``phi_dwk`` is proportional to ``exp(E[log theta_dk] + E[log beta_kw])``, with
``E[log beta_kw] = psi(lambda_kw) - psi(sum_v lambda_kv)``. With online updates
(``chunksize`` below the corpus size) ``sstats`` is a running average
``(1 - rho_t) sstats + rho_t * (N / |chunk|) * sstats_chunk`` with
``rho_t = (offset + t) ** -decay``, which is always on the scale of the *whole corpus*. Three
things therefore defeat the usual recipe "``eta = 1`` (or a few units) on the seed words":

1. the pseudo-counts are added to expected counts that are orders of magnitude larger (a
   keyword seen 100 times has ``sstats`` of order 100 spread over the topics), so ``eta``
   barely changes ``E[log beta]``;
2. gensim's first E-step ignores ``eta`` altogether: the state starts at
   ``sstats ~ Gamma(100, 1/100)`` and ``expElogbeta`` is computed from ``sstats`` alone, so
   the first partition of the corpus is random, and the first M-step (``rho = 1``) keeps it;
3. once the topics have formed in arbitrary order, a small prior cannot move a theme into
   "its" topic; the seeded topics come out as a random permutation of the themes (the tests
   show a naive ``eta`` recovering planted themes no better than chance).

The guided model therefore sets (``cf_w`` = corpus frequency of ``w``, ``s = seed_weight``,
``base = eta``):

* **prior**: ``eta[t, w] = base + s * cf_w`` for a keyword ``w`` of theme ``t``: a prior
  as strong as ``s`` times all the data for that word, so it stays on the scale of the
  counts it is added to; ``eta[k, w] = base * 1e-3`` for every other topic ``k`` (a much
  smaller prior: a keyword of theme ``t`` is not supposed to live elsewhere); ``base`` for
  every other cell. Values of ``s`` from 0.1 to 2 give much the same topics (the start
  below does most of the work); much larger values make the theme topic a keyword-only
  topic, because the prior mass also enlarges ``sum_v lambda_tv`` and so lowers
  ``E[log beta_tv]`` of every co-occurring word (on the planted test corpus ``s = 3`` lets
  the free topics take about 70 % of the units' mass, against 11 % with ``s = 1``);
* **initialisation**: instead of gensim's random ``sstats``, the state starts from a soft
  labelling of the units: every keyword token is counted in its theme's topic only (split
  evenly if the keyword belongs to several themes), and every other token of unit ``d`` is
  spread over the topics by ``r_d = 0.5 * h_d + 0.5 * u_d``, where ``h_d`` is the theme share
  of the unit's keyword tokens and ``u_d ~ Dirichlet(1, ..., 1)`` is drawn from the model's
  random state (units without a keyword use ``u_d`` alone). The first E-step then already
  sees each theme topic as "the words of units that use its keywords", and free topics as
  random mixtures that can specialise on what the themes do not cover. Because the
  keyword tokens start with zero counts outside their theme and the prior there is tiny,
  ``psi(lambda_kw)`` stays near ``psi(base * 1e-3)`` (about ``-1e5``), so the keywords
  never leak to other topics;
* **full-batch updates**: with ``chunksize >= n_units`` every M-step uses the whole corpus
  (``rho = 1`` for the first, ``(2 + pass) ** -0.5`` afterwards), so no part of the corpus
  dominates the start. A smaller ``chunksize`` still works (online updates keep ``sstats``
  on the corpus scale; on the 8,848 units of the city reports ``chunksize`` 2000 and full
  batch give the same themes) but the initialisation then only shapes the first chunk's
  E-step, so the default ``chunksize=None`` (all units in one chunk) is the safer setting.

Evidence (tests/test_lda.py): on a synthetic corpus of 4 planted themes (30 words each,
keywords = 3 mid-frequency words per theme, half of every document background words, 15 %
cross-theme noise), 6 topics, the largest theme topic of a unit is its planted theme for
95-98 % of the units with each of the seeds 0-5, while gensim with the naive prior
(``eta = 1`` on the keywords, gensim's initialisation) gets 7-47 % (chance is 25 %);
on the seed speeches the most frequent keyword of every theme is among the top terms of its
topic in the expected counts (:attr:`LdaTopicModel.topic_term_counts_`, which hold data
only, no prior).

Two topic-term distributions
----------------------------
``topic_term_`` is the posterior mean ``lambda / lambda.sum(axis=1)`` (what gensim's
``get_topics`` returns and what :meth:`transform` and the perplexity use). In a guided topic
``lambda`` holds the prior's pseudo-counts, ``s * cf_w`` for each keyword, on top of the data,
so a keyword weighs up to ``1 + s`` times what its occurrences give it: a term list or a
coherence score read from ``topic_term_`` partly echoes the codebook. Everything that
*describes* a topic -- :meth:`top_terms` (by probability, relevance and FREX), and through it
``topics.csv``, ``topic_terms.csv``, coherence, diversity, stability and the LDAvis page --
therefore reads :attr:`LdaTopicModel.topic_term_data_` instead: ``topic_term_counts_`` (the
expected counts ``sum_d n_dw phi_dwk`` of the final E-step on the training units, no prior)
plus :data:`DATA_SMOOTHING` (1e-9) in every cell, normalised per topic. The smoothing only
keeps ``log`` finite for a term with no count in a topic (relevance, FREX, LDAvis); it moves
no term that has a count. The counts are not free of the model: which topic a token is
counted in follows the fitted posterior, which the prior shaped (a keyword's tokens are all
counted in its theme's topic), but no pseudo-count is added.
"""

from __future__ import annotations

import functools
import json
import logging
import numbers
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from gensim.corpora import Dictionary
from gensim.matutils import dirichlet_expectation, mean_absolute_difference
from gensim.models import LdaModel
from scipy.stats import rankdata
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from policytopics.config import FeaturesConfig, LdaConfig
from policytopics.errors import ArtifactMismatchError
from policytopics.cache import CacheStore, fingerprint
from policytopics.features import build_dictionary, copy_dictionary, to_bow
from policytopics.provenance import environment_versions, source_hash

logger = logging.getLogger("policytopics")

__all__ = [
    "DATA_SMOOTHING",
    "DEFAULT_RELEVANCE_LAMBDA",
    "DEFAULT_TOP_N",
    "FREX_WEIGHT",
    "UNASSIGNED",
    "LdaTopicModel",
    "factory_from_config",
    "fit_cache_key",
    "frex_scores",
    "load_cached_fit",
    "make_model",
    "map_topics_to_themes",
    "save_cached_fit",
]

#: Theme label of a topic that no theme's keywords dominate.
UNASSIGNED = "unassigned"
#: Terms listed per topic when ``n`` is not given.
DEFAULT_TOP_N = 10
#: lambda of the relevance ordering when not given (Sievert & Shirley 2014 found 0.6 best).
DEFAULT_RELEVANCE_LAMBDA = 0.6
#: Weight of exclusivity in FREX (Roberts et al.; 0.5 = harmonic mean of the two ranks).
FREX_WEIGHT = 0.5
#: Prior of a keyword in topics other than its theme's, as a multiple of the base eta.
OFF_THEME_ETA_FACTOR = 1e-3
#: Share of the random part in the initial topic mixture of a unit that has keywords.
INIT_RANDOM_SHARE = 0.5
#: Expected count added to every (topic, term) cell of ``topic_term_counts_`` before it is
#: normalised into :attr:`LdaTopicModel.topic_term_data_`: only keeps logs finite.
DATA_SMOOTHING = 1e-9

_DTYPE = np.float64
_SETTINGS_FILE = "settings.json"
_MODEL_FILE = "lda.gensim"
_DICTIONARY_FILE = "dictionary.gensim"
_DOC_TOPIC_FILE = "doc_topic.npy"
_COUNTS_FILE = "topic_term_counts.npy"
_FORMAT_VERSION = 1
#: Attributes gensim's ``SaveLoad.save`` leaves on the object it saved.
_GENSIM_SAVE_MARKS = ("__numpys", "__scipys", "__ignoreds", "__recursive_saveloads")
#: Bump when what a cached fit holds changes (old entries are then ignored).
_FIT_CACHE_FORMAT = 1


def _check_keywords(seed_keywords: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """Validate theme keywords; return theme -> keywords without duplicates, order kept."""
    if not isinstance(seed_keywords, Mapping):
        raise ValueError(f"seed_keywords must map theme ids to keyword lists, got {type(seed_keywords).__name__}")
    if not seed_keywords:
        raise ValueError("seed_keywords is empty: give at least one theme, or None for plain LDA")
    result: dict[str, list[str]] = {}
    for theme, words in seed_keywords.items():
        if not isinstance(theme, str) or not theme:
            raise ValueError(f"seed_keywords: theme ids must be non-empty strings, got {theme!r}")
        if isinstance(words, str) or not isinstance(words, Sequence):
            raise ValueError(f"seed_keywords[{theme!r}]: expected a list of keywords, got {words!r}")
        cleaned: list[str] = []
        for word in words:
            if not isinstance(word, str) or not word:
                raise ValueError(f"seed_keywords[{theme!r}]: keywords must be non-empty strings, got {word!r}")
            if word not in cleaned:
                cleaned.append(word)
        result[theme] = cleaned
    return result


def _infer(
    exp_elog_beta: np.ndarray,
    alpha: np.ndarray,
    bows: Sequence[Sequence[tuple[int, int]]],
    iterations: int,
    gamma_threshold: float,
    collect_counts: bool = False,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Variational E-step of gensim's ``LdaModel.inference`` from a fixed start (gamma = 1).

    Returns the Dirichlet parameters ``gamma`` (n x K) and, with ``collect_counts``, the
    expected counts ``sum_d n_dw phi_dwk`` (K x V).
    """
    num_topics = exp_elog_beta.shape[0]
    gamma = np.empty((len(bows), num_topics), dtype=_DTYPE)
    counts = np.zeros_like(exp_elog_beta) if collect_counts else None
    epsilon = np.finfo(_DTYPE).eps
    for d, doc in enumerate(bows):
        ids = [int(term_id) for term_id, _ in doc]
        cts = np.fromiter((cnt for _, cnt in doc), dtype=_DTYPE, count=len(doc))
        gammad = np.ones(num_topics, dtype=_DTYPE)
        exp_elog_thetad = np.exp(dirichlet_expectation(gammad))
        exp_elog_betad = exp_elog_beta[:, ids]
        phinorm = np.dot(exp_elog_thetad, exp_elog_betad) + epsilon
        for _ in range(iterations):
            last = gammad
            gammad = alpha + exp_elog_thetad * np.dot(cts / phinorm, exp_elog_betad.T)
            exp_elog_thetad = np.exp(dirichlet_expectation(gammad))
            phinorm = np.dot(exp_elog_thetad, exp_elog_betad) + epsilon
            if mean_absolute_difference(gammad, last) < gamma_threshold:
                break
        gamma[d] = gammad
        if counts is not None and ids:
            counts[:, ids] += np.outer(exp_elog_thetad, cts / phinorm)
    if counts is not None:
        counts *= exp_elog_beta
    return gamma, counts


def _normalise_rows(matrix: np.ndarray) -> np.ndarray:
    return matrix / matrix.sum(axis=1, keepdims=True)


def _stable_order(scores: np.ndarray) -> np.ndarray:
    """Indices by decreasing score; ties in increasing index (= sorted term) order."""
    return np.argsort(-scores, kind="stable")


class LdaTopicModel(BaseEstimator):
    """LDA on unit tokens, keyword-guided (seeded) or plain, fitted with gensim's ``LdaModel``.

    Parameters
    ----------
    num_topics : int, default 10
        Number of topics ``K``; with ``seed_keywords``, at least the number of themes.
    seed_keywords : mapping of str to sequence of str, optional
        Theme id -> keywords. Given: guided model, topic ``t`` is the ``t``-th theme (see the
        module docstring for the seeding). ``None``: plain LDA.
    alpha : {"symmetric", "asymmetric", "auto"} or float, default "symmetric"
        Document-topic prior (gensim ``alpha``).
    eta : float, default 0.01
        Base topic-term prior (gensim ``eta``).
    seed_weight : float, default 1.0
        Guided: prior pseudo-count of a keyword in its theme's topic, as a multiple of the
        keyword's corpus frequency.
    passes, iterations : int
        gensim ``passes`` over the corpus and maximum E-step ``iterations`` per unit.
    chunksize : int or None, default None
        Units per update; None = all units, so every update is full-batch.
    no_below, no_above, keep_n
        Vocabulary filter, see :func:`policytopics.features.build_dictionary`.
    random_state : int, default 0
        The seed of every random step.

    Attributes
    ----------
    dictionary_ : gensim.corpora.Dictionary
        The vocabulary (ids in sorted term order).
    model_ : gensim.models.LdaModel
        The fitted gensim model.
    vocabulary_ : list of str
        The terms by id.
    topic_term_ : ndarray of shape (K, V)
        Posterior mean topic-term probabilities (data plus the prior's pseudo-counts, which in
        guided topics include the keywords' seed counts); rows sum to 1. What inference uses.
    topic_term_counts_ : ndarray of shape (K, V)
        Expected counts of each term in each topic on the training units (no prior).
    topic_term_data_ : ndarray of shape (K, V)
        ``topic_term_counts_`` plus :data:`DATA_SMOOTHING`, normalised per topic: the data-only
        topic-term distribution that :meth:`top_terms` ranks terms by; rows sum to 1.
    doc_topic_ : ndarray of shape (n_units, K)
        Topic proportions of the training units (deterministic inference); rows sum to 1.
    term_frequency_ : ndarray of shape (V,)
        Corpus frequency of each term in the training units.
    topic_theme_ : list of (str or None)
        The theme id of each seeded topic, ``None`` for free topics (all ``None`` in plain LDA).
    seed_keywords_used_, seed_keywords_missing_ : dict of str to list of str
        Per theme, the keywords found / not found in the vocabulary (empty dicts in plain LDA).

    Examples
    --------
    >>> units = [["招商", "项目", "投资"], ["干部", "作风", "党建"]] * 10
    >>> model = LdaTopicModel(2, seed_keywords={"investment": ["招商"], "cadre": ["干部"]},
    ...                       passes=5, no_above=1.0, random_state=1).fit(units)
    >>> model.topic_theme_
    ['investment', 'cadre']
    >>> [term for term, _ in model.top_terms(3)[1]]
    ['干部', '作风', '党建']
    >>> model.transform([["投资", "招商"]]).argmax(axis=1)
    array([0])
    """

    def __init__(
        self,
        num_topics: int = 10,
        *,
        seed_keywords: Mapping[str, Sequence[str]] | None = None,
        alpha: str | float = "symmetric",
        eta: float = 0.01,
        seed_weight: float = 1.0,
        passes: int = 20,
        iterations: int = 400,
        chunksize: int | None = None,
        no_below: int = 2,
        no_above: float = 0.5,
        keep_n: int | None = None,
        random_state: int = 0,
    ) -> None:
        self.num_topics = num_topics
        self.seed_keywords = seed_keywords
        self.alpha = alpha
        self.eta = eta
        self.seed_weight = seed_weight
        self.passes = passes
        self.iterations = iterations
        self.chunksize = chunksize
        self.no_below = no_below
        self.no_above = no_above
        self.keep_n = keep_n
        self.random_state = random_state

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_config(
        cls,
        config: LdaConfig,
        features: FeaturesConfig,
        seed: int,
        seed_keywords: Mapping[str, Sequence[str]] | None = None,
    ) -> LdaTopicModel:
        """An unfitted model with the settings of the ``lda`` and ``features`` config sections.

        Parameters
        ----------
        config : LdaConfig
            ``method``, ``num_topics``, priors and training settings.
        features : FeaturesConfig
            The vocabulary filter.
        seed : int
            The run seed, used as ``random_state``.
        seed_keywords : mapping of str to sequence of str, optional
            Theme keywords: required by ``method: guided``; with ``method: mapped`` they are
            not used for fitting (map the topics with :func:`map_topics_to_themes`).

        Returns
        -------
        LdaTopicModel

        Examples
        --------
        >>> from policytopics.config import FeaturesConfig, LdaConfig
        >>> model = LdaTopicModel.from_config(LdaConfig(method="mapped"), FeaturesConfig(), 7)
        >>> model.num_topics, model.random_state, model.seed_keywords
        (12, 7, None)
        """
        return cls(**_params_from_config(config, features, seed_keywords), random_state=seed)

    # ------------------------------------------------------------------ validation
    def _check_params(self) -> dict[str, list[str]] | None:
        if not isinstance(self.num_topics, numbers.Integral) or isinstance(self.num_topics, bool) or self.num_topics < 1:
            raise ValueError(f"num_topics must be a positive integer, got {self.num_topics!r}")
        if not isinstance(self.random_state, numbers.Integral) or isinstance(self.random_state, bool):
            raise ValueError(f"random_state must be an int, got {self.random_state!r}")
        for name in ("passes", "iterations", "chunksize"):
            value = getattr(self, name)
            if name == "chunksize" and value is None:
                continue
            if not isinstance(value, numbers.Integral) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not self.eta > 0:
            raise ValueError(f"eta must be positive, got {self.eta!r}")
        if not self.seed_weight >= 0:
            raise ValueError(f"seed_weight must be >= 0, got {self.seed_weight!r}")
        if self.seed_keywords is None:
            return None
        keywords = _check_keywords(self.seed_keywords)
        if self.num_topics < len(keywords):
            raise ValueError(
                f"num_topics={self.num_topics} is smaller than the number of themes "
                f"({len(keywords)}: {', '.join(keywords)}); guided LDA needs one topic per theme"
            )
        return keywords

    # ------------------------------------------------------------------ fitting
    def fit(self, token_lists: Sequence[Sequence[str]], y: None = None) -> LdaTopicModel:
        """Build the vocabulary and fit the topics on the units' tokens.

        Parameters
        ----------
        token_lists : sequence of sequence of str
            The tokens of each unit.
        y : None
            Ignored (scikit-learn convention).

        Returns
        -------
        LdaTopicModel
            ``self``, fitted.

        Examples
        --------
        >>> units = [["规划", "土地"], ["企业", "产业"]] * 5
        >>> LdaTopicModel(2, passes=2, no_above=1.0).fit(units).doc_topic_.shape
        (10, 2)
        """
        keywords = self._check_params()
        token_lists = [list(tokens) for tokens in token_lists]
        if not token_lists:
            raise ValueError("cannot fit a topic model on no units")
        features = FeaturesConfig(no_below=self.no_below, no_above=self.no_above, keep_n=self.keep_n)
        dictionary = build_dictionary(token_lists, features)
        return self._fit_bows(dictionary, to_bow(dictionary, token_lists), keywords)

    def fit_bow(self, dictionary: Dictionary, bows: Sequence[Sequence[tuple[int, int]]]) -> LdaTopicModel:
        """Fit on a prepared vocabulary and bags of words; the same model as :meth:`fit`.

        For a caller that builds the features once for many fits (the model-selection sweep)
        or reads them from the cache (:func:`policytopics.features.corpus_features`). The
        dictionary must come from :func:`~policytopics.features.build_dictionary` with this
        model's ``no_below``, ``no_above`` and ``keep_n`` (they are not re-applied) and the bags
        of words from :func:`~policytopics.features.to_bow`; the model gets its own copy of
        the dictionary.

        Parameters
        ----------
        dictionary : gensim.corpora.Dictionary
            The vocabulary, ids in sorted term order.
        bows : sequence of list of (int, int)
            One bag of words per unit.

        Returns
        -------
        LdaTopicModel
            ``self``, fitted.

        Examples
        --------
        >>> from policytopics.features import build_dictionary, to_bow
        >>> units = [["规划", "土地"], ["企业", "产业"]] * 5
        >>> d = build_dictionary(units, FeaturesConfig(no_above=1.0))
        >>> a = LdaTopicModel(2, passes=2, no_above=1.0).fit_bow(d, to_bow(d, units))
        >>> b = LdaTopicModel(2, passes=2, no_above=1.0).fit(units)
        >>> bool((a.doc_topic_ == b.doc_topic_).all())
        True
        """
        keywords = self._check_params()
        if not len(bows):
            raise ValueError("cannot fit a topic model on no units")
        from policytopics.packed import PackedBows

        # compact arrays are read as they are (a streamed corpus); other sequences are packed
        bows = bows if isinstance(bows, PackedBows) else PackedBows.from_lists(bows)
        return self._fit_bows(copy_dictionary(dictionary), bows, keywords)

    def _fit_bows(
        self, dictionary: Dictionary, bows: Sequence[Sequence[tuple[int, int]]], keywords: dict[str, list[str]] | None
    ) -> LdaTopicModel:
        if not any(bows):
            raise ValueError("no unit has a term of the vocabulary")
        num_terms = len(dictionary)
        term_frequency = np.array([dictionary.cfs.get(i, 0) for i in range(num_terms)], dtype=np.int64)

        theme_ids: list[str] = []
        used: dict[str, list[str]] = {}
        missing: dict[str, list[str]] = {}
        keyword_ids: list[list[int]] = []
        if keywords is not None:
            for theme, words in keywords.items():
                theme_ids.append(theme)
                used[theme] = [w for w in words if w in dictionary.token2id]
                missing[theme] = [w for w in words if w not in dictionary.token2id]
                keyword_ids.append(sorted(dictionary.token2id[w] for w in used[theme]))
                if not used[theme]:
                    logger.warning("lda: no keyword of theme %r is in the vocabulary; its topic is unseeded", theme)
            eta = self._guided_eta(keyword_ids, term_frequency, num_terms)
        else:
            eta = float(self.eta)

        model = LdaModel(
            corpus=None,
            id2word=dictionary,
            num_topics=int(self.num_topics),
            alpha=self.alpha,
            eta=eta,
            passes=int(self.passes),
            iterations=int(self.iterations),
            chunksize=len(bows) if self.chunksize is None else int(self.chunksize),
            eval_every=None,
            random_state=int(self.random_state),
            dtype=_DTYPE,
        )
        # gensim's lifecycle logs record dates and file names: saved files would differ
        model.lifecycle_events = None
        model.state.lifecycle_events = None
        if keywords is not None:
            self._guided_start(model, bows, keyword_ids)
        model.update(bows)

        self.dictionary_ = dictionary
        self.model_ = model
        self.vocabulary_ = [dictionary[i] for i in range(num_terms)]
        self.term_frequency_ = term_frequency
        self.topic_theme_ = theme_ids + [None] * (int(self.num_topics) - len(theme_ids))
        self.seed_keywords_used_ = used
        self.seed_keywords_missing_ = missing
        self._set_topic_term()
        gamma, counts = self._gamma(bows, collect_counts=True)
        self.doc_topic_ = _normalise_rows(gamma)
        self.topic_term_counts_ = counts
        # the unnormalised proportions of the training units, for the perplexity (not saved)
        self._train_gamma = gamma
        return self

    def _guided_eta(self, keyword_ids: list[list[int]], term_frequency: np.ndarray, num_terms: int) -> np.ndarray:
        """The K x V prior: strong on a theme's keywords in its topic, tiny in the others."""
        base = float(self.eta)
        eta = np.full((int(self.num_topics), num_terms), base, dtype=_DTYPE)
        seeded = sorted({i for ids in keyword_ids for i in ids})
        eta[:, seeded] = base * OFF_THEME_ETA_FACTOR
        for topic, ids in enumerate(keyword_ids):
            eta[topic, ids] = base + float(self.seed_weight) * term_frequency[ids]
        return eta

    def _guided_start(self, model: LdaModel, bows: Sequence[Sequence[tuple[int, int]]], keyword_ids: list[list[int]]) -> None:
        """Replace gensim's random start by a soft labelling of the units (see module docstring)."""
        num_topics, num_terms = model.num_topics, model.num_terms
        num_themes = len(keyword_ids)
        membership = np.zeros((num_themes, num_terms), dtype=_DTYPE)
        for topic, ids in enumerate(keyword_ids):
            membership[topic, ids] = 1.0
        is_keyword = membership.sum(axis=0) > 0
        # theme share of each keyword (split evenly when a keyword belongs to several themes)
        keyword_share = np.divide(membership, membership.sum(axis=0), out=np.zeros_like(membership), where=is_keyword)
        random_mix = model.random_state.dirichlet(np.ones(num_topics), size=len(bows))
        sstats = np.zeros((num_topics, num_terms), dtype=_DTYPE)
        for d, doc in enumerate(bows):
            if not doc:
                continue
            ids = np.fromiter((term_id for term_id, _ in doc), dtype=np.int64, count=len(doc))
            cts = np.fromiter((cnt for _, cnt in doc), dtype=_DTYPE, count=len(doc))
            kw = is_keyword[ids]
            mix = random_mix[d]
            if kw.any():
                hits = keyword_share[:, ids[kw]] @ cts[kw]
                mix = INIT_RANDOM_SHARE * mix
                mix[:num_themes] += (1.0 - INIT_RANDOM_SHARE) * hits / hits.sum()
                sstats[:num_themes, ids[kw]] += keyword_share[:, ids[kw]] * cts[kw]
            other = ~kw
            sstats[:, ids[other]] += np.outer(mix, cts[other])
        model.state.sstats[...] = sstats
        model.expElogbeta = np.exp(dirichlet_expectation(model.state.get_lambda()))

    def _set_topic_term(self) -> None:
        lam = np.asarray(self.model_.state.get_lambda(), dtype=_DTYPE)
        self.topic_term_ = _normalise_rows(lam)

    def _gamma(self, bows: Sequence[Sequence[tuple[int, int]]], collect_counts: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
        model = self.model_
        return _infer(
            np.asarray(model.expElogbeta, dtype=_DTYPE),
            np.asarray(model.alpha, dtype=_DTYPE),
            bows,
            int(model.iterations),
            float(model.gamma_threshold),
            collect_counts=collect_counts,
        )

    # ------------------------------------------------------------------ use
    def transform(self, token_lists: Sequence[Sequence[str]]) -> np.ndarray:
        """Topic proportions of (new) units, deterministic and independent of batching.

        Parameters
        ----------
        token_lists : sequence of sequence of str
            The tokens of each unit; terms outside the vocabulary are ignored (a unit with
            none gets the normalised ``alpha``).

        Returns
        -------
        ndarray of shape (n_units, K)
            Rows sum to 1.

        Examples
        --------
        >>> units = [["规划", "土地"], ["企业", "产业"]] * 5
        >>> model = LdaTopicModel(2, passes=2, no_above=1.0).fit(units)
        >>> model.transform([["土地"], ["企业"]]).sum(axis=1)
        array([1., 1.])
        """
        check_is_fitted(self, "model_")
        gamma, _ = self._gamma(to_bow(self.dictionary_, token_lists))
        return _normalise_rows(gamma)

    def transform_bow(self, bows: Sequence[Sequence[tuple[int, int]]]) -> np.ndarray:
        """Topic proportions of units given as bags of words over the model's term ids.

        The same E-step as :meth:`transform` (and as ``doc_topic_`` after a fit).

        Examples
        --------
        >>> units = [["规划", "土地"], ["企业", "产业"]] * 5
        >>> model = LdaTopicModel(2, passes=2, no_above=1.0).fit(units)
        >>> model.transform_bow(model.dictionary_.doc2bow(u) for u in units[:2]).shape
        (2, 2)
        """
        check_is_fitted(self, "model_")
        gamma, _ = self._gamma(list(bows))
        return _normalise_rows(gamma)

    def fit_transform(self, token_lists: Sequence[Sequence[str]], y: None = None) -> np.ndarray:
        """Fit, then return ``doc_topic_`` (identical to ``transform`` on the same units).

        Examples
        --------
        >>> units = [["规划", "土地"], ["企业", "产业"]] * 5
        >>> LdaTopicModel(2, passes=2, no_above=1.0).fit_transform(units).shape
        (10, 2)
        """
        return self.fit(token_lists).doc_topic_.copy()

    @property
    def topic_term_data_(self) -> np.ndarray:
        """The data-only topic-term distribution, K x V, rows sum to 1.

        ``(topic_term_counts_ + DATA_SMOOTHING) / row sums``: the expected counts of the
        training units in each topic, without the prior's pseudo-counts (see the module
        docstring, "Two topic-term distributions"). :attr:`topic_term_` stays the model's
        posterior, used for inference.

        Examples
        --------
        >>> units = [["规划", "土地"], ["企业", "产业"]] * 5
        >>> model = LdaTopicModel(2, passes=2, no_above=1.0).fit(units)
        >>> model.topic_term_data_.sum(axis=1).round(12).tolist()
        [1.0, 1.0]
        """
        check_is_fitted(self, "topic_term_counts_")
        return _normalise_rows(np.asarray(self.topic_term_counts_, dtype=_DTYPE) + DATA_SMOOTHING)

    def top_terms(
        self,
        n: int | None = None,
        by: str = "probability",
        lambda_: float | None = None,
        weights: str = "data",
    ) -> list[list[tuple[str, float]]]:
        """The top terms of every topic with their score.

        Parameters
        ----------
        n : int, optional
            Terms per topic (default :data:`DEFAULT_TOP_N`).
        by : {"probability", "relevance", "frex"}
            ``phi_kw`` below is the topic-term distribution chosen by ``weights``.
            ``probability``: ``phi_kw``. ``relevance`` (Sievert & Shirley 2014):
            ``lambda * log(phi_kw) + (1 - lambda) * log(phi_kw / p_w)`` with ``p_w`` the
            term's share of the training units (from ``topic_term_counts_`` plus
            :data:`DATA_SMOOTHING`); lower ``lambda`` favours terms specific to the topic.
            ``frex`` (Roberts et al., STM): the weighted harmonic mean
            ``1 / (w / ECDF(excl_kw) + (1 - w) / ECDF(phi_kw))``, ``w`` = :data:`FREX_WEIGHT`,
            where ``excl_kw = phi_kw / sum_j phi_jw`` and ECDF is the rank of the value among
            the topic's terms divided by ``V`` (ties averaged).
        lambda_ : float, optional
            Relevance weight in [0, 1] (default :data:`DEFAULT_RELEVANCE_LAMBDA`).
        weights : {"data", "posterior"}
            ``data`` (the default, used for every output): :attr:`topic_term_data_`, what the
            units put in each topic, without the prior's pseudo-counts. ``posterior``:
            :attr:`topic_term_`, whose guided topics also hold the keywords' seed counts (for
            comparison only: its term lists partly echo the codebook).

        Returns
        -------
        list of list of (str, float)
            Per topic, ``n`` (term, score) pairs by decreasing score, ties in term order.

        Examples
        --------
        >>> units = [["规划", "土地", "城市"], ["企业", "产业", "城市"]] * 5
        >>> model = LdaTopicModel(2, passes=5, no_above=1.0, random_state=3).fit(units)
        >>> [len(terms) for terms in model.top_terms(3, by="relevance", lambda_=0.4)]
        [3, 3]
        """
        check_is_fitted(self, "model_")
        n = DEFAULT_TOP_N if n is None else int(n)
        if n < 1:
            raise ValueError(f"n must be positive, got {n}")
        if weights == "data":
            phi = self.topic_term_data_
        elif weights == "posterior":
            phi = self.topic_term_
        else:
            raise ValueError(f"weights must be 'data' or 'posterior', got {weights!r}")
        if by == "probability":
            scores = phi
        elif by == "relevance":
            lam = DEFAULT_RELEVANCE_LAMBDA if lambda_ is None else float(lambda_)
            if not 0.0 <= lam <= 1.0:
                raise ValueError(f"lambda_ must be in [0, 1], got {lambda_}")
            # the term's share of the training units, from the smoothed counts: equal to
            # term_frequency_ / its sum for every term with a count, and never 0 (a vocabulary
            # term can be absent from the training units of a sweep fit)
            marginal = np.asarray(self.topic_term_counts_, dtype=_DTYPE).sum(axis=0) + DATA_SMOOTHING
            p_w = marginal / marginal.sum()
            log_phi = np.log(phi)
            scores = lam * log_phi + (1.0 - lam) * (log_phi - np.log(p_w))
        elif by == "frex":
            scores = frex_scores(phi, FREX_WEIGHT)
        else:
            raise ValueError(f"by must be 'probability', 'relevance' or 'frex', got {by!r}")
        result = []
        for row in scores:
            order = _stable_order(row)[:n]
            result.append([(self.vocabulary_[i], float(row[i])) for i in order])
        return result

    # ------------------------------------------------------------------ persistence
    def save(self, folder: str | Path) -> Path:
        """Write the fitted model to ``folder`` (created if needed).

        Files: ``lda.gensim*`` (gensim's ``LdaModel.save``), ``dictionary.gensim``,
        ``doc_topic.npy``, ``topic_term_counts.npy`` and ``settings.json`` (the parameters
        and the keyword/theme attributes). The same fit saved twice, anywhere, gives the same
        bytes (gensim's lifecycle logs, which hold dates and paths, are switched off). gensim
        files are pickles: load only folders you trust.

        Returns
        -------
        Path
            The folder.

        Examples
        --------
        >>> model = LdaTopicModel(2, passes=2, no_above=1.0).fit([["规划", "土地"], ["企业", "产业"]] * 5)
        >>> folder = model.save(tmp_path / "lda")  # doctest: +SKIP
        >>> LdaTopicModel.load(folder).num_topics  # doctest: +SKIP
        2
        """
        check_is_fitted(self, "model_")
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        # ignore=() makes gensim use its fixed list ['state', 'dispatcher', 'id2word'] (the
        # same attributes as the default) instead of a set, whose order varies with the hash seed
        self.model_.save(str(folder / _MODEL_FILE), ignore=())
        self.dictionary_.save(str(folder / _DICTIONARY_FILE))
        # gensim's save leaves its bookkeeping attributes on the dictionary, which the next
        # save would pickle into lda.gensim.id2word: remove them, so a second save is identical
        for name in _GENSIM_SAVE_MARKS:
            self.dictionary_.__dict__.pop(name, None)
        np.save(folder / _DOC_TOPIC_FILE, self.doc_topic_, allow_pickle=False)
        np.save(folder / _COUNTS_FILE, self.topic_term_counts_, allow_pickle=False)
        params = self.get_params()
        if params["seed_keywords"] is not None:
            params["seed_keywords"] = {theme: list(words) for theme, words in params["seed_keywords"].items()}
        settings = {
            "format_version": _FORMAT_VERSION,
            "params": params,
            "topic_theme": self.topic_theme_,
            "seed_keywords_used": self.seed_keywords_used_,
            "seed_keywords_missing": self.seed_keywords_missing_,
        }
        (folder / _SETTINGS_FILE).write_text(json.dumps(settings, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        return folder

    @classmethod
    def load(cls, folder: str | Path, *, check_manifest: bool | None = None) -> LdaTopicModel:
        """Read a model written by :meth:`save`; ``transform`` gives the same bytes as before.

        A model saved with a run lives in the run folder's ``model/``, and the run's
        ``manifest.json`` records the SHA-256 of each of its files. Before anything is
        unpickled, every file of the folder is checked against those hashes
        (:func:`policytopics.artifacts.verify_artifacts`): a model or dictionary file replaced
        by one of another run, a file the manifest does not list, or a listed file that is
        missing is an error, not a silently mixed model. Whatever the folder, the model, its
        dictionary and its matrices must then agree in their numbers of topics and terms.

        Parameters
        ----------
        folder : str or Path
            The model folder (e.g. ``results/default/model``), or a run folder holding one
            in ``model/``.
        check_manifest : bool, optional
            Check the files against the run's ``manifest.json`` (in the folder above).
            ``None`` (the default) checks whenever the folder is part of a run folder (the
            folder above holds ``manifest.json`` or ``config.resolved.yaml``); ``True``
            requires a manifest; ``False`` skips the check (cache entries, which carry their
            own checksums, and folders written by :meth:`save` alone).

        Returns
        -------
        LdaTopicModel
            The fitted model.

        Raises
        ------
        ArtifactMismatchError
            If the files do not belong to the run their manifest describes (naming the
            files), the manifest is missing from a run folder, or the model, dictionary and
            matrices disagree.
        FileNotFoundError
            If the folder holds no saved model.

        Examples
        --------
        >>> model = LdaTopicModel.load("results/default/model")  # doctest: +SKIP
        """
        folder = Path(folder)
        if not (folder / _SETTINGS_FILE).is_file() and (folder / "model" / _SETTINGS_FILE).is_file():
            folder = folder / "model"  # a run folder
        settings_path = folder / _SETTINGS_FILE
        if not settings_path.is_file():
            raise FileNotFoundError(f"{folder}: no {_SETTINGS_FILE}, not a saved LdaTopicModel")
        run_dir = folder.resolve().parent
        if check_manifest is None:
            check_manifest = (run_dir / "manifest.json").is_file() or (run_dir / "config.resolved.yaml").is_file()
        if check_manifest:
            from policytopics.artifacts import verify_artifacts

            verify_artifacts(run_dir, folder.resolve().name)
        settings = json.loads(settings_path.read_text(encoding="utf-8"))
        if settings.get("format_version") != _FORMAT_VERSION:
            raise ValueError(f"{settings_path}: unsupported format_version {settings.get('format_version')!r}")
        model = cls(**settings["params"])
        model.model_ = LdaModel.load(str(folder / _MODEL_FILE))
        model.dictionary_ = Dictionary.load(str(folder / _DICTIONARY_FILE))
        num_terms = len(model.dictionary_)
        model.vocabulary_ = [model.dictionary_[i] for i in range(num_terms)]
        model.term_frequency_ = np.array([model.dictionary_.cfs.get(i, 0) for i in range(num_terms)], dtype=np.int64)
        model.topic_theme_ = settings["topic_theme"]
        model.seed_keywords_used_ = settings["seed_keywords_used"]
        model.seed_keywords_missing_ = settings["seed_keywords_missing"]
        model.doc_topic_ = np.load(folder / _DOC_TOPIC_FILE, allow_pickle=False)
        model.topic_term_counts_ = np.load(folder / _COUNTS_FILE, allow_pickle=False)
        model._check_loaded(folder)
        model._set_topic_term()
        return model

    def _check_loaded(self, folder: Path) -> None:
        """Raise ``ArtifactMismatchError`` unless the loaded parts describe one model."""
        num_topics, num_terms = int(self.model_.num_topics), int(self.model_.num_terms)
        problems = []
        if num_topics != self.num_topics:
            problems.append(f"{_MODEL_FILE} has {num_topics} topics, {_SETTINGS_FILE} {self.num_topics}")
        if len(self.dictionary_) != num_terms:
            problems.append(f"{_DICTIONARY_FILE} has {len(self.dictionary_)} terms, {_MODEL_FILE} {num_terms}")
        id2word = getattr(self.model_, "id2word", None)
        if id2word is not None and dict(id2word.token2id) != dict(self.dictionary_.token2id):
            problems.append(f"{_DICTIONARY_FILE} holds other terms than the vocabulary saved with {_MODEL_FILE}")
        if len(self.topic_theme_) != num_topics:
            problems.append(f"{_SETTINGS_FILE} names {len(self.topic_theme_)} topic themes for {num_topics} topics")
        if self.doc_topic_.ndim != 2 or self.doc_topic_.shape[1] != num_topics:
            problems.append(f"{_DOC_TOPIC_FILE} has shape {self.doc_topic_.shape}, not (units, {num_topics})")
        if self.topic_term_counts_.shape != (num_topics, num_terms):
            problems.append(f"{_COUNTS_FILE} has shape {self.topic_term_counts_.shape}, not ({num_topics}, {num_terms})")
        if problems:
            raise ArtifactMismatchError(f"{folder}: the saved model's files do not belong together: " + "; ".join(problems))


def frex_scores(topic_term: np.ndarray, weight: float = FREX_WEIGHT) -> np.ndarray:
    """FREX of every term in every topic (Roberts et al.; ``weight`` on exclusivity).

    Parameters
    ----------
    topic_term : ndarray of shape (K, V)
        Topic-term probabilities.
    weight : float
        Weight of exclusivity in the harmonic mean.

    Returns
    -------
    ndarray of shape (K, V)
        ``1 / (weight / ECDF(excl) + (1 - weight) / ECDF(phi))``, ECDFs within each topic.

    Examples
    --------
    >>> phi = np.array([[0.4, 0.3, 0.2, 0.1], [0.4, 0.05, 0.15, 0.4]])
    >>> frex_scores(phi).argmax(axis=1)  # term 0, frequent in both topics, is nowhere FREX-top
    array([1, 3])
    """
    phi = np.asarray(topic_term, dtype=_DTYPE)
    num_terms = phi.shape[1]
    exclusivity = phi / phi.sum(axis=0, keepdims=True)
    freq_rank = np.vstack([rankdata(row, method="average") for row in phi]) / num_terms
    excl_rank = np.vstack([rankdata(row, method="average") for row in exclusivity]) / num_terms
    return 1.0 / (weight / excl_rank + (1.0 - weight) / freq_rank)


def map_topics_to_themes(
    topic_term: np.ndarray,
    vocabulary: Sequence[str],
    keywords: Mapping[str, Sequence[str]],
    min_weight: float,
    margin: float,
) -> list[str]:
    """Give each topic the theme whose keywords hold most of its probability mass.

    Parameters
    ----------
    topic_term : ndarray of shape (K, V)
        Topic-term probabilities (rows sum to 1), e.g. ``LdaTopicModel.topic_term_``.
    vocabulary : sequence of str
        The term of each column.
    keywords : mapping of str to sequence of str
        Theme id -> keywords (keywords outside the vocabulary count for nothing).
    min_weight : float
        The best theme's share of the topic's mass must be at least this...
    margin : float
        ...and at least ``margin`` times the runner-up's share (a tie is never a winner).

    Returns
    -------
    list of str
        The theme id of each topic, or :data:`UNASSIGNED`.

    Examples
    --------
    >>> phi = np.array([[0.6, 0.1, 0.3], [0.3, 0.3, 0.4], [0.05, 0.05, 0.9]])
    >>> map_topics_to_themes(phi, ["招商", "干部", "开发区"], {"investment": ["招商"], "cadre": ["干部"]}, 0.1, 1.5)
    ['investment', 'unassigned', 'unassigned']
    """
    phi = np.asarray(topic_term, dtype=_DTYPE)
    if phi.ndim != 2 or phi.shape[1] != len(vocabulary):
        raise ValueError(f"topic_term has shape {phi.shape}, expected (K, {len(vocabulary)}) for the vocabulary")
    themes = _check_keywords(keywords)
    index = {term: i for i, term in enumerate(vocabulary)}
    theme_ids = list(themes)
    mass = np.zeros((phi.shape[0], len(theme_ids)), dtype=_DTYPE)
    for j, theme in enumerate(theme_ids):
        ids = sorted({index[w] for w in themes[theme] if w in index})
        if ids:
            mass[:, j] = phi[:, ids].sum(axis=1)
    share = mass / phi.sum(axis=1, keepdims=True)
    result = []
    for row in share:
        order = _stable_order(row)
        best = row[order[0]]
        runner_up = row[order[1]] if len(order) > 1 else 0.0
        if best > 0 and best >= min_weight and best >= margin * runner_up and best > runner_up:
            result.append(theme_ids[order[0]])
        else:
            result.append(UNASSIGNED)
    return result


def make_model(num_topics: int, seed: int, /, **params: Any) -> LdaTopicModel:
    """An unfitted :class:`LdaTopicModel` with ``num_topics`` topics and ``random_state=seed``.

    The factory :func:`policytopics.evaluate.sweep` expects: bind the other settings with
    ``functools.partial`` (picklable, so it can run in worker processes).

    Parameters
    ----------
    num_topics : int
        The number of topics K.
    seed : int
        The random seed (``random_state``).
    **params
        Any other keyword argument of :class:`LdaTopicModel` (``seed_keywords``, ``alpha``,
        ``eta``, ``passes``, ...).

    Returns
    -------
    LdaTopicModel
        The unfitted model.

    Examples
    --------
    >>> factory = functools.partial(make_model, passes=5)
    >>> factory(8, 3).get_params()["random_state"], factory(8, 3).passes
    (3, 5)
    """
    return LdaTopicModel(num_topics, random_state=seed, **params)


def _params_from_config(
    config: LdaConfig, features: FeaturesConfig, seed_keywords: Mapping[str, Sequence[str]] | None
) -> dict[str, Any]:
    if config.method == "guided":
        if not seed_keywords:
            raise ValueError("lda.method is 'guided' but no theme keywords were given")
        keywords: Mapping[str, Sequence[str]] | None = seed_keywords
    else:
        keywords = None
    return {
        "num_topics": config.num_topics,
        "seed_keywords": keywords,
        "alpha": config.alpha,
        "eta": config.eta,
        "seed_weight": config.seed_weight,
        "passes": config.passes,
        "iterations": config.iterations,
        "chunksize": config.chunksize,
        "no_below": features.no_below,
        "no_above": features.no_above,
        "keep_n": features.keep_n,
    }


def factory_from_config(
    config: LdaConfig,
    features: FeaturesConfig,
    seed_keywords: Mapping[str, Sequence[str]] | None = None,
) -> functools.partial[LdaTopicModel]:
    """A picklable ``(num_topics, seed) -> LdaTopicModel`` factory with the config's settings.

    Parameters
    ----------
    config : LdaConfig
        The ``lda`` settings: method, priors, ``seed_weight`` and training settings
        (``num_topics`` is left to the factory's caller).
    features : FeaturesConfig
        The ``features`` settings (``no_below``, ``no_above``, ``keep_n``) the model's
        vocabulary is built with.
    seed_keywords : mapping of str to sequence of str, optional
        Theme id to its keywords, in theme order; used only when ``config.method`` is
        ``"guided"``, which requires them.

    Returns
    -------
    functools.partial
        :func:`make_model` with every setting but the number of topics and the seed bound.

    Raises
    ------
    ValueError
        If ``config.method`` is ``"guided"`` and no ``seed_keywords`` are given.

    Examples
    --------
    >>> from policytopics.config import FeaturesConfig, LdaConfig
    >>> factory = factory_from_config(LdaConfig(method="mapped", passes=3), FeaturesConfig())
    >>> model = factory(8, 11)
    >>> model.num_topics, model.random_state, model.passes
    (8, 11, 3)
    """
    params = _params_from_config(config, features, seed_keywords)
    params.pop("num_topics")
    if params["seed_keywords"] is not None:
        params["seed_keywords"] = {theme: list(words) for theme, words in params["seed_keywords"].items()}
    return functools.partial(make_model, **params)


# ---------------------------------------------------------------------------- fit cache


def fit_cache_key(model: LdaTopicModel, features_key: str) -> str:
    """The cache key of fitting the (unfitted) ``model`` on the features of ``features_key``.

    A hash of the features' key (itself a hash of the token lists and the ``features``
    settings), every parameter of the model (number of topics, seed, priors, training
    settings, the guided keywords in theme order and ``seed_weight``), the versions of gensim,
    numpy and scipy, and this module's code: a cached fit is only ever used for exactly the
    fit it stands for.

    Parameters
    ----------
    model : LdaTopicModel
        The model to fit (only its parameters are read).
    features_key : str
        :func:`policytopics.features.features_key` of the units it is fitted on.

    Returns
    -------
    str
        A 64-character hex SHA-256.

    Examples
    --------
    >>> a = fit_cache_key(LdaTopicModel(8, random_state=1), "f" * 64)
    >>> a == fit_cache_key(LdaTopicModel(8, random_state=2), "f" * 64)
    False
    """
    params = model.get_params()
    keywords = params.pop("seed_keywords")
    # theme order is topic order: keywords as ordered pairs, not a mapping (whose keys are sorted)
    params["seed_keywords"] = None if keywords is None else [[theme, list(words)] for theme, words in keywords.items()]
    return fingerprint(
        "lda-fit", _FIT_CACHE_FORMAT, features_key, params,
        environment_versions("gensim", "numpy", "scipy"), source_hash(__file__),
    )


def load_cached_fit(store: CacheStore, key: str) -> LdaTopicModel | None:
    """The fitted model stored under ``key`` (checksums verified), or ``None``.

    A model read back gives the same arrays, terms and saved bytes as the fit that was stored.

    Parameters
    ----------
    store : CacheStore
        The cache of fitted models.
    key : str
        The fit's cache key (:func:`fit_cache_key`).

    Returns
    -------
    LdaTopicModel or None
        The fitted model; ``None`` when there is no valid entry under ``key`` (a corrupt
        entry is deleted) or the entry cannot be read (a warning is logged), so that the
        caller fits the model again.

    Examples
    --------
    >>> import tempfile
    >>> store = CacheStore(tempfile.mkdtemp(), "lda")
    >>> load_cached_fit(store, "0" * 64) is None
    True
    >>> model = LdaTopicModel(2, passes=2, no_above=1.0).fit([["规划", "土地"], ["企业", "产业"]] * 5)
    >>> save_cached_fit(store, "k1", model)
    >>> bool((load_cached_fit(store, "k1").doc_topic_ == model.doc_topic_).all())
    True
    """
    entry = store.get(key)
    if entry is None:
        return None
    try:
        return LdaTopicModel.load(entry, check_manifest=False)  # checksummed by the store
    except Exception as error:  # noqa: BLE001 - checksummed, so only an incompatible format
        logger.warning("cache: fitted model %s could not be read (%s); refitting", key[:12], error)
        return None


def save_cached_fit(store: CacheStore, key: str, model: LdaTopicModel) -> None:
    """Store a fitted model under ``key`` (see :meth:`LdaTopicModel.save`).

    Parameters
    ----------
    store : CacheStore
        The cache of fitted models.
    key : str
        The fit's cache key (:func:`fit_cache_key`); an entry of that key is replaced.
    model : LdaTopicModel
        A fitted model.

    Returns
    -------
    None

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If ``model`` is not fitted.

    Examples
    --------
    >>> import tempfile
    >>> store = CacheStore(tempfile.mkdtemp(), "lda")
    >>> model = LdaTopicModel(2, passes=2, no_above=1.0).fit([["规划", "土地"], ["企业", "产业"]] * 5)
    >>> save_cached_fit(store, "k1", model)
    >>> load_cached_fit(store, "k1").num_topics
    2
    """
    store.put(key, model.save)
