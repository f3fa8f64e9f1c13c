"""LDA topic models of unit tokens on gensim's ``LdaModel``: keyword-guided (seeded) or plain.

:class:`LdaTopicModel` is a scikit-learn style estimator: ``__init__`` stores the settings,
``fit`` (token lists) or ``fit_bow`` (a dictionary and bags of words) returns the fitted
model, and the learned attributes end in ``_``: the vocabulary, the topic-term posterior
mean ``topic_term_`` and the data-only ``topic_term_data_`` (no prior pseudo-counts), the
unit-topic matrix ``doc_topic_``, each topic's theme. ``transform`` infers new units
deterministically (from ``gamma = 1``, each unit on its own). One int ``random_state``
drives everything random; fitting is single-process. How the guided prior and start are
built, and why: docs/methods.md, sections 3.1 and 3.2. Saving and loading:
:mod:`policytopics.models.persistence`; building from the config:
:mod:`policytopics.models.factories`.

In: token lists (or a dictionary and bags of words) and, for guided topics, theme keywords.
Out: a fitted :class:`LdaTopicModel`.
"""

from __future__ import annotations

import logging
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from gensim.corpora import Dictionary
from gensim.matutils import dirichlet_expectation
from gensim.models import LdaModel
from gensim.models.ldamodel import LdaState
from scipy import sparse
from scipy.stats import rankdata
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from policytopics.codebook import check_keyword_mapping
from policytopics.config import FeaturesConfig
from policytopics.features import build_dictionary, copy_dictionary, to_bow
from policytopics.models.variational import estep
from policytopics.packed import PackedBows

logger = logging.getLogger("policytopics")

__all__ = [
    "DATA_SMOOTHING",
    "DEFAULT_RELEVANCE_LAMBDA",
    "DEFAULT_TOP_N",
    "FREX_WEIGHT",
    "LdaTopicModel",
    "frex_scores",
    "make_model",
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
#: How the E-step of a fit runs (:class:`LdaTopicModel` ``estep``).
ESTEPS = ("batched", "gensim")


def _normalise_rows(matrix: np.ndarray) -> np.ndarray:
    return matrix / matrix.sum(axis=1, keepdims=True)


def topic_term_from_state(model: LdaModel) -> np.ndarray:
    """The posterior mean topic-term matrix (K x V, rows sum to 1) of a gensim ``LdaModel``."""
    return _normalise_rows(np.asarray(model.state.get_lambda(), dtype=_DTYPE))


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
    estep : {"batched", "gensim"}, default "batched"
        How the E-step of every pass runs; the model, priors, random starts and M-step are
        gensim's in both. ``gensim``: ``LdaModel.update`` as gensim ships it (a Python loop
        over units). ``batched``: the same updates and per-unit stopping rule, vectorised
        across units (:mod:`~policytopics.models.variational`); equal to ``gensim`` up to
        floating-point rounding and about 3x faster (docs/methods.md, section 3.1).
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
    >>> sorted(term for term, _ in model.top_terms(3)[1])
    ['作风', '党建', '干部']
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
        estep: str = "batched",
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
        self.estep = estep
        self.no_below = no_below
        self.no_above = no_above
        self.keep_n = keep_n
        self.random_state = random_state

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
        if self.estep not in ESTEPS:
            raise ValueError(f"estep must be one of {', '.join(ESTEPS)}, got {self.estep!r}")
        if not self.eta > 0:
            raise ValueError(f"eta must be positive, got {self.eta!r}")
        if not self.seed_weight >= 0:
            raise ValueError(f"seed_weight must be >= 0, got {self.seed_weight!r}")
        if self.seed_keywords is None:
            return None
        keywords = check_keyword_mapping(self.seed_keywords)
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
        return self._fit_bows(dictionary, PackedBows.of(to_bow(dictionary, token_lists)), keywords)

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
        # compact arrays are read as they are (a streamed corpus); other sequences are packed
        return self._fit_bows(copy_dictionary(dictionary), PackedBows.of(bows), keywords)

    def _fit_bows(self, dictionary: Dictionary, bows: PackedBows, keywords: dict[str, list[str]] | None) -> LdaTopicModel:
        if not len(bows.ids):
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
        if self.estep == "gensim":
            model.update(bows)
        else:
            self._train(model, bows)

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
        self.train_gamma_ = gamma
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

    def _guided_start(self, model: LdaModel, bows: PackedBows, keyword_ids: list[list[int]]) -> None:
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
        counts = sparse.csr_matrix(
            (bows.counts.astype(_DTYPE), bows.ids.astype(np.int64), bows.offsets), shape=(len(bows), num_terms)
        )
        keyword_counts = counts @ sparse.diags(is_keyword.astype(_DTYPE))
        other_counts = counts - keyword_counts
        # a unit with keywords starts half random, half on its keywords' themes
        hits = np.asarray(keyword_counts @ keyword_share.T)
        hit_total = hits.sum(axis=1)
        has_keywords = hit_total > 0
        mix = random_mix.copy()
        mix[has_keywords] *= INIT_RANDOM_SHARE
        mix[has_keywords, :num_themes] += (1.0 - INIT_RANDOM_SHARE) * hits[has_keywords] / hit_total[has_keywords, None]
        # keywords count for their themes; the other terms are spread by each unit's mixture
        sstats = np.asarray((other_counts.T @ mix).T)
        sstats[:num_themes] += keyword_share * np.asarray(keyword_counts.sum(axis=0)).ravel()
        model.state.sstats[...] = sstats
        model.expElogbeta = np.exp(dirichlet_expectation(model.state.get_lambda()))

    def _train(self, model: LdaModel, bows: PackedBows) -> None:
        """gensim's ``LdaModel.update`` loop with the E-step of :func:`~policytopics.models.variational.estep`.

        Random starts, rho, the alpha update and the M-step are gensim's, in gensim's order, so
        the fit is gensim's up to floating-point rounding (``tests/test_variational.py``).
        """
        n_units = len(bows)
        chunksize = min(n_units, model.chunksize)
        model.state.numdocs += n_units
        for pass_ in range(int(self.passes)):
            for chunk_start in range(0, n_units, chunksize):
                chunk_stop = min(chunk_start + chunksize, n_units)
                # gensim's start: a random gamma for every unit of the chunk, every pass
                gamma_start = model.random_state.gamma(100.0, 1.0 / 100.0, (chunk_stop - chunk_start, model.num_topics))
                chunk = bows.slice_units(chunk_start, chunk_stop)
                gamma, sstats = estep(
                    model.expElogbeta, model.alpha, chunk, gamma_start, model.iterations, model.gamma_threshold,
                    collect_counts=True,
                )
                other = LdaState(model.eta, model.state.sstats.shape, model.dtype)
                other.sstats += sstats
                other.numdocs += chunk_stop - chunk_start
                rho = pow(model.offset + pass_ + model.num_updates / chunksize, -model.decay)
                if model.optimize_alpha:
                    model.update_alpha(gamma, rho)
                model.do_mstep(rho, other, pass_ > 0)

    def _set_topic_term(self) -> None:
        self.topic_term_ = topic_term_from_state(self.model_)

    def _gamma(self, bows: Sequence[Sequence[tuple[int, int]]], collect_counts: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
        """gensim's E-step from ``gamma = 1`` (deterministic; each unit on its own)."""
        model = self.model_
        bows = PackedBows.of(bows)
        return estep(
            np.asarray(model.expElogbeta, dtype=_DTYPE),
            np.asarray(model.alpha, dtype=_DTYPE),
            bows,
            np.ones((len(bows), model.num_topics), dtype=_DTYPE),
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

    def variational_gamma(self, bows: Sequence[Sequence[tuple[int, int]]]) -> np.ndarray:
        """The variational Dirichlet parameters ``gamma`` (n x K) of units given as bags of words.

        Each unit's posterior over topics is ``Dir(gamma)``; :meth:`transform_bow` is the
        normalised ``gamma``.

        Examples
        --------
        >>> units = [["规划", "土地"], ["企业", "产业"]] * 5
        >>> model = LdaTopicModel(2, passes=2, no_above=1.0).fit(units)
        >>> bool((model.variational_gamma([model.dictionary_.doc2bow(units[0])]) > 0).all())
        True
        """
        check_is_fitted(self, "model_")
        gamma, _ = self._gamma(bows)
        return gamma

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
        gamma, _ = self._gamma(bows)
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


def make_model(num_topics: int, seed: int, /, **params: Any) -> LdaTopicModel:
    """An unfitted :class:`LdaTopicModel` with ``num_topics`` topics and ``random_state=seed``.

    The factory :func:`policytopics.sweep.sweep` expects: bind the other settings with
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
    >>> import functools
    >>> factory = functools.partial(make_model, passes=5)
    >>> factory(8, 3).get_params()["random_state"], factory(8, 3).passes
    (3, 5)
    """
    return LdaTopicModel(num_topics, random_state=seed, **params)
