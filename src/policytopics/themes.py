"""Theme shares of units and documents: the one place where topics become themes.

In: topic models' unit-topic posteriors with the theme of each topic (guided LDA: its theme
topics; mapped LDA and TF-IDF clusters: :func:`map_topics_to_themes`). Out: every unit's and
document's theme shares with 95% intervals, labels (a theme, ``mixed`` or ``none``) and
rankings (:class:`ThemeScorer`), and the baselines that ``validate`` compares the run with
(the keyword count, the old keyword mixing). The codebook itself: :mod:`policytopics.codebook`.
Method: docs/methods.md, section 4.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from policytopics.codebook import UNASSIGNED, check_keyword_mapping


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
    phi = np.asarray(topic_term, dtype=np.float64)
    if phi.ndim != 2 or phi.shape[1] != len(vocabulary):
        raise ValueError(f"topic_term has shape {phi.shape}, expected (K, {len(vocabulary)}) for the vocabulary")
    themes = check_keyword_mapping(keywords)
    index = {term: i for i, term in enumerate(vocabulary)}
    theme_ids = list(themes)
    mass = np.zeros((phi.shape[0], len(theme_ids)), dtype=np.float64)
    for j, theme in enumerate(theme_ids):
        ids = sorted({index[w] for w in themes[theme] if w in index})
        if ids:
            mass[:, j] = phi[:, ids].sum(axis=1)
    share = mass / phi.sum(axis=1, keepdims=True)
    result = []
    for row in share:
        order = np.argsort(-row, kind="stable")  # ties: the first theme
        best = row[order[0]]
        runner_up = row[order[1]] if len(order) > 1 else 0.0
        if best > 0 and best >= min_weight and best >= margin * runner_up and best > runner_up:
            result.append(theme_ids[order[0]])
        else:
            result.append(UNASSIGNED)
    return result


def topic_theme_shares(doc_topic: np.ndarray, topic_themes: Sequence[str | None], theme_ids: Sequence[str]) -> np.ndarray:
    """Theme shares from topic shares: rows × (themes + unassigned), each row summing to 1.

    Parameters
    ----------
    doc_topic : numpy.ndarray
        Rows × topics, each row summing to 1 (units' or documents' topic shares).
    topic_themes : sequence of str or None
        The theme of each topic; ``None`` (or an id not in ``theme_ids``) counts as
        ``unassigned``.
    theme_ids : sequence of str
        The themes in column order.

    Returns
    -------
    numpy.ndarray
        Rows × (``len(theme_ids)`` + 1): each theme's share is the sum of the shares of its
        topics; the last column is ``unassigned``.

    Examples
    --------
    >>> topic_theme_shares(np.array([[0.5, 0.3, 0.2]]), ["a", "b", None], ["a", "b"]).tolist()
    [[0.5, 0.3, 0.2]]
    """
    columns = {theme_id: i for i, theme_id in enumerate(theme_ids)}
    projection = np.zeros((len(topic_themes), len(theme_ids) + 1))
    for topic, theme_id in enumerate(topic_themes):
        projection[topic, columns.get(theme_id, len(theme_ids)) if theme_id else len(theme_ids)] = 1.0
    return doc_topic @ projection


def keyword_theme_shares(token_lists: Sequence[Sequence[str]], keywords: Mapping[str, Sequence[str]]) -> np.ndarray:
    """The plain keyword count: per unit, each theme's share of its keyword hits.

    A unit without any hit is all ``unassigned``. This is the baseline the models must beat.

    Parameters
    ----------
    token_lists : sequence of sequence of str
        The tokens of each unit.
    keywords : mapping of str to sequence of str
        Theme id to its keywords, in theme (column) order.

    Returns
    -------
    numpy.ndarray
        Units × (themes + unassigned): each theme's share of the unit's keyword hits (every
        occurrence counts), each row summing to 1.

    Examples
    --------
    >>> keyword_theme_shares([["招商引资", "民生", "招商引资"], ["会议"]],
    ...                      {"investment": ["招商引资"], "livelihood": ["民生"]}).round(3).tolist()
    [[0.667, 0.333, 0.0], [0.0, 0.0, 1.0]]
    """
    theme_ids = list(keywords)
    owner = {keyword: i for i, theme_id in enumerate(theme_ids) for keyword in keywords[theme_id]}
    shares = np.zeros((len(token_lists), len(theme_ids) + 1))
    for row, tokens in enumerate(token_lists):
        for token in tokens:
            if token in owner:
                shares[row, owner[token]] += 1
        total = shares[row].sum()
        if total:
            shares[row] /= total
        else:
            shares[row, -1] = 1.0
    return shares


def combine_theme_shares(model_shares: np.ndarray, keyword_shares: np.ndarray, keyword_weight: float) -> np.ndarray:
    """Average the topic model's theme shares with the keyword evidence, unit by unit.

    Both inputs are rows × (themes + unassigned) and sum to 1 per row. A row with keyword
    hits becomes ``keyword_weight * keyword_shares + (1 - keyword_weight) * model_shares``; a
    row without any hit (``keyword_shares`` all ``unassigned``) keeps ``model_shares``, since
    the absence of a keyword is no evidence for "unassigned". Rows still sum to 1.

    Parameters
    ----------
    model_shares : numpy.ndarray
        The topic model's theme shares (:func:`topic_theme_shares`).
    keyword_shares : numpy.ndarray
        The keyword shares of the same rows (:func:`keyword_theme_shares`).
    keyword_weight : float
        The weight of the keyword evidence, in [0, 1].

    Returns
    -------
    numpy.ndarray
        The combined shares, of the same shape.

    Raises
    ------
    ValueError
        If ``keyword_weight`` is outside [0, 1].

    Examples
    --------
    >>> model = np.array([[0.2, 0.6, 0.2], [0.5, 0.1, 0.4]])
    >>> keywords = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    >>> combine_theme_shares(model, keywords, 0.5).round(2).tolist()
    [[0.6, 0.3, 0.1], [0.5, 0.1, 0.4]]
    """
    if not 0.0 <= keyword_weight <= 1.0:
        raise ValueError(f"keyword_weight must be in [0, 1], got {keyword_weight!r}")
    has_hits = keyword_shares[:, -1] < 1.0
    mixed = keyword_weight * keyword_shares + (1.0 - keyword_weight) * model_shares
    return np.where(has_hits[:, None], mixed, model_shares)


def dominant_themes(shares: np.ndarray, theme_ids: Sequence[str], min_share: float) -> list[str]:
    """Each row's dominant theme: the largest share, if it is a theme's and at least
    ``min_share``; otherwise ``unassigned``. Ties go to the theme listed first.

    Parameters
    ----------
    shares : numpy.ndarray
        Rows × (themes + unassigned), e.g. from :func:`combine_theme_shares`.
    theme_ids : sequence of str
        The themes in column order.
    min_share : float
        The smallest share a dominant theme may have.

    Returns
    -------
    list of str
        One theme id (or ``"unassigned"``) per row.

    Examples
    --------
    >>> dominant_themes(np.array([[0.6, 0.3, 0.1], [0.2, 0.2, 0.6]]), ["a", "b"], 0.3)
    ['a', 'unassigned']
    """
    labels = []
    for row in shares:
        best = int(np.argmax(row))
        labels.append(theme_ids[best] if best < len(theme_ids) and row[best] >= min_share else UNASSIGNED)
    return labels


def document_theme_shares(
    unit_shares: np.ndarray, unit_doc_ids: Sequence[str], unit_lengths: Sequence[int], doc_ids: Sequence[str]
) -> np.ndarray:
    """Length-weighted average of unit shares per document (a document without units: NaN).

    Parameters
    ----------
    unit_shares : numpy.ndarray
        Units × (themes + unassigned).
    unit_doc_ids : sequence of str
        The document of each unit; each must be in ``doc_ids``.
    unit_lengths : sequence of int
        The weight of each unit: its length in characters.
    doc_ids : sequence of str
        The documents, in row order of the result.

    Returns
    -------
    numpy.ndarray
        Documents × (themes + unassigned); a row of NaN for a document without units.

    Raises
    ------
    KeyError
        If a unit's document is not in ``doc_ids``.

    Examples
    --------
    >>> shares = np.array([[0.8, 0.2], [0.2, 0.8], [0.5, 0.5]])
    >>> document_theme_shares(shares, ["d1", "d1", "d2"], [30, 10, 5], ["d1", "d2", "d3"]).round(2).tolist()
    [[0.65, 0.35], [0.5, 0.5], [nan, nan]]
    """
    index = {doc_id: i for i, doc_id in enumerate(doc_ids)}
    totals = np.zeros((len(doc_ids), unit_shares.shape[1]))
    weights = np.zeros(len(doc_ids))
    for shares, doc_id, length in zip(unit_shares, unit_doc_ids, unit_lengths):
        totals[index[doc_id]] += shares * length
        weights[index[doc_id]] += length
    with np.errstate(invalid="ignore", divide="ignore"):
        return totals / weights[:, None]


def theme_ranking(shares: np.ndarray, theme_ids: Sequence[str]) -> list[str]:
    """Theme ids of one row ordered by share, largest first (``unassigned`` excluded).

    Parameters
    ----------
    shares : numpy.ndarray
        One row of shares: the themes in ``theme_ids`` order, then ``unassigned`` (ignored).
    theme_ids : sequence of str
        The themes in column order.

    Returns
    -------
    list of str
        Every theme id, by share descending; ties keep column order.

    Examples
    --------
    >>> theme_ranking(np.array([0.2, 0.5, 0.2, 0.1]), ["a", "b", "c"])
    ['b', 'a', 'c']
    """
    order = sorted(range(len(theme_ids)), key=lambda i: (-shares[i], i))
    return [theme_ids[i] for i in order]


# -- theme measurement ------------------------------------------------------------------------

#: Unit label when the themes explain too little of a unit (its text counts as unassigned).
NONE = "none"
#: Unit label when the top two themes of a unit are too close to name one.
MIXED = "mixed"


def theme_dirichlet(doc_topic: np.ndarray, alpha_sum: float, n_tokens: np.ndarray, topic_themes: Sequence[str | None],
                    theme_ids: Sequence[str]) -> np.ndarray:
    """Each row's variational Dirichlet posterior aggregated to themes + one "other" column.

    gensim's variational E-step gives every unit a Dirichlet posterior ``q(theta) = Dir(gamma)``
    whose parameters sum to ``sum(alpha) + n`` (``n``: the unit's tokens in the vocabulary), so
    ``gamma = doc_topic * (sum(alpha) + n)``. Summing the parameters of the topics of a theme
    gives the exact posterior of that theme's share (the aggregation property of the
    Dirichlet); every topic without a theme goes to the last column.

    Parameters
    ----------
    doc_topic : numpy.ndarray
        Units × topics, rows summing to 1 (``LdaTopicModel.doc_topic_``).
    alpha_sum : float
        The sum of the model's document-topic prior ``alpha``.
    n_tokens : numpy.ndarray
        Each unit's number of tokens in the model's vocabulary.
    topic_themes : sequence of str or None
        The theme of each topic (None or an unknown id: no theme).
    theme_ids : sequence of str
        The themes, in column order.

    Returns
    -------
    numpy.ndarray
        Units × (themes + 1) Dirichlet parameters; a unit without tokens has all of
        ``alpha_sum`` in the last column (no evidence of any theme).

    Examples
    --------
    >>> theme_dirichlet(np.array([[0.5, 0.25, 0.25]]), 1.0, np.array([3]), ["a", None, "a"], ["a"]).tolist()
    [[3.0, 1.0]]
    """
    n_tokens = np.asarray(n_tokens, dtype=float)
    dirichlet = topic_theme_shares(doc_topic * (alpha_sum + n_tokens)[:, None], list(topic_themes), theme_ids)
    # a unit without a token of the vocabulary has only the prior: no evidence of any theme
    dirichlet[n_tokens == 0, :-1] = 0.0
    dirichlet[n_tokens == 0, -1] = alpha_sum
    return dirichlet


@dataclass(frozen=True)
class UnitThemes:
    """Theme measurement of units (rows) by :meth:`ThemeScorer.score_units`.

    Attributes
    ----------
    theme_ids : list of str
        The themes, in column order.
    dirichlet : numpy.ndarray
        Fits × units × (themes + other): every fit's posterior Dirichlet parameters.
    theme_mass : numpy.ndarray
        The posterior mean share of each unit on the theme topics together, averaged over
        the fits.
    shares : numpy.ndarray
        Units × (themes + unassigned), averaged over the fits: in a fit where a unit is about
        themes it has its theme shares among the themes (summing to 1) and 0 unassigned; in a
        fit where it is ``none``, 1 unassigned. The unassigned share is thus the fraction of
        fits in which the unit is ``none``.
    low, high : numpy.ndarray
        The 95% interval of every share (the same shape), over fits and posterior draws.
    labels : list of str
        A theme id, ``mixed`` or ``none`` per unit.
    fit_assigned : numpy.ndarray
        Fits × units, True where the fit finds the unit about themes.
    fit_shares : numpy.ndarray
        Fits × units × (themes + unassigned): each fit's shares (their mean is ``shares``).
    """

    theme_ids: list[str]
    dirichlet: np.ndarray
    theme_mass: np.ndarray
    shares: np.ndarray
    low: np.ndarray
    high: np.ndarray
    labels: list[str]
    fit_assigned: np.ndarray
    fit_shares: np.ndarray

    @property
    def assigned(self) -> np.ndarray:
        """True for the units about themes (labelled a theme or ``mixed``)."""
        return np.array([label != NONE for label in self.labels], dtype=bool)


@dataclass(frozen=True)
class DocumentThemes:
    """Theme shares of documents with intervals, by :meth:`ThemeScorer.score_documents`.

    Attributes
    ----------
    doc_ids : list of str
    shares, low, high : numpy.ndarray
        Documents × (themes + unassigned); NaN for a document without units.
    labels : list of str
        The dominant theme: the top theme when its share reaches the threshold; otherwise
        ``mixed`` (spread over several themes) or ``none`` (at least half of the text
        unassigned, or no units).
    rankings : list of str
        Theme ids by share, ``>`` between two themes whose difference is distinguishable
        (its 95% interval excludes 0), ``≈`` where it is not; empty without units.
    distinct : list of bool
        Whether the top theme's lead over the second is distinguishable.
    """

    doc_ids: list[str]
    shares: np.ndarray
    low: np.ndarray
    high: np.ndarray
    labels: list[str]
    rankings: list[str]
    distinct: list[bool]


class ThemeScorer:
    """Theme shares of units and documents from topic models' posteriors, with intervals.

    The one place where topic shares become theme shares. The codebook has already entered the
    models (guided LDA: the prior and the start of the theme topics); the scorer uses no
    keyword again. Each fit gives every unit a variational Dirichlet posterior over topics,
    aggregated to themes (:func:`theme_dirichlet`). In a fit, a unit is ``none`` when the
    themes together hold less than ``min_theme_mass`` of it (greetings, procedure, content
    outside the codebook); otherwise its theme shares are its posterior among the themes.
    With several fits (an ensemble: the model-selection sweep's K and seeds), a unit's shares
    are the average over the fits, so its unassigned share is the fraction of fits that find
    it ``none``; its label is ``none`` when at least half do, otherwise the top theme, or
    ``mixed`` when the lead over the second is below ``min_margin``. A document's shares
    average its units' shares weighted by their length in characters. Intervals: every draw
    picks one fit at random (for all units together: fits differ as wholes), takes each
    unit's theme shares from that fit's Dirichlet posterior and, for documents, resamples the
    document's units with replacement (bootstrap); the 2.5% and 97.5% quantiles of the draws
    bound the 95% interval (widened to contain the estimate where a skewed mixture of fits
    would leave it just outside).

    Parameters
    ----------
    theme_ids : sequence of str
        The themes, in codebook order.
    min_theme_mass, min_margin, document_min_share : float
        See ``themes`` in the config (docs/configuration.md).
    draws : int
        Draws for the intervals.
    random_state : int
        The seed of the draws.

    Examples
    --------
    >>> scorer = ThemeScorer(["a", "b"], draws=50, random_state=0)
    >>> units = scorer.score_units(np.array([[9.0, 1.0, 1.0], [0.5, 0.5, 9.0]]))
    >>> units.labels
    ['a', 'none']
    >>> docs = scorer.score_documents(units, ["d", "d"], [10, 10], ["d"])
    >>> docs.shares.round(2).tolist(), docs.labels
    ([[0.45, 0.05, 0.5]], ['a'])
    """

    def __init__(self, theme_ids: Sequence[str], *, min_theme_mass: float = 0.3, min_margin: float = 0.0,
                 document_min_share: float = 0.2, draws: int = 200, random_state: int = 0) -> None:
        self.theme_ids = list(theme_ids)
        self.min_theme_mass = min_theme_mass
        self.min_margin = min_margin
        self.document_min_share = document_min_share
        self.draws = draws
        self.random_state = random_state

    @classmethod
    def from_config(cls, config: Any, theme_ids: Sequence[str]) -> ThemeScorer:
        """The scorer of a run: the ``themes`` settings and the run ``seed``.

        Examples
        --------
        >>> from policytopics.config import Config
        >>> ThemeScorer.from_config(Config(), ["a"]).min_theme_mass
        0.4
        """
        section = config.themes
        return cls(theme_ids, min_theme_mass=section.min_theme_mass, min_margin=section.min_margin,
                   document_min_share=section.document_min_share, draws=section.draws, random_state=config.seed)

    def _fit_shares(self, dirichlet: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per fit: theme mass, whether each unit is about themes, and its shares."""
        totals = dirichlet.sum(axis=-1)
        theme_totals = dirichlet[..., :-1].sum(axis=-1)
        theme_mass = np.divide(theme_totals, totals, out=np.zeros_like(totals), where=totals > 0)
        assigned = (theme_mass >= self.min_theme_mass) & (theme_totals > 0)
        shares = np.zeros(dirichlet.shape)
        np.divide(dirichlet[..., :-1], theme_totals[..., None], out=shares[..., :-1], where=assigned[..., None])
        shares[..., -1] = np.where(assigned, 0.0, 1.0)
        return theme_mass, assigned, shares

    def _draw_shares(self, dirichlet: np.ndarray, assigned: np.ndarray, shares: np.ndarray, fits: np.ndarray,
                     rng: np.random.Generator) -> np.ndarray:
        """Draws × units × (themes + unassigned): draw ``d`` takes fit ``fits[d]``; a unit the
        fit assigns gets theme shares drawn from its Dirichlet posterior, the others 1 unassigned."""
        out = shares[fits].copy()  # draws x units x columns
        gamma = np.maximum(dirichlet[fits][..., :-1], 1e-12)
        samples = rng.standard_gamma(gamma)
        totals = samples.sum(axis=-1, keepdims=True)  # 0 only where every parameter is ~0 (masked below)
        np.divide(samples, totals, out=samples, where=totals > 0)
        mask = assigned[fits]
        out[..., :-1] = np.where(mask[..., None], samples, 0.0)
        return out

    def score_units(self, dirichlet: np.ndarray) -> UnitThemes:
        """Shares, intervals and labels of units from their Dirichlet posteriors.

        Parameters
        ----------
        dirichlet : numpy.ndarray
            Units × (themes + other) from :func:`theme_dirichlet` (one fit), or fits × units ×
            (themes + other) (an ensemble of fits).

        Returns
        -------
        UnitThemes

        Examples
        --------
        >>> ThemeScorer(["a", "b"], min_margin=0.2).score_units(np.array([[5.0, 4.0, 1.0]])).labels
        ['mixed']
        >>> two_fits = np.array([[[9.0, 1.0, 1.0]], [[1.0, 1.0, 9.0]]])  # the fits disagree
        >>> ThemeScorer(["a", "b"]).score_units(two_fits).shares.round(2).tolist()
        [[0.45, 0.05, 0.5]]
        """
        dirichlet = np.asarray(dirichlet, dtype=float)
        if dirichlet.ndim == 2:
            dirichlet = dirichlet[None]
        n_themes = len(self.theme_ids)
        if dirichlet.ndim != 3 or dirichlet.shape[2] != n_themes + 1 or not len(dirichlet):
            raise ValueError(f"expected (fits x) units x {n_themes + 1} Dirichlet parameters, got shape {dirichlet.shape}")
        fit_mass, fit_assigned, fit_shares = self._fit_shares(dirichlet)
        shares = fit_shares.mean(axis=0)
        theme_mass = fit_mass.mean(axis=0)
        low, high = shares.copy(), shares.copy()
        rng = np.random.default_rng(self.random_state)
        fits = rng.integers(0, len(dirichlet), size=self.draws)
        rows = np.flatnonzero(fit_assigned.any(axis=0))  # a unit no fit assigns: exactly 1 unassigned
        for start in range(0, len(rows), 2048):  # bounded memory: draws x 2048 x themes
            batch = rows[start:start + 2048]
            draws = self._draw_shares(dirichlet[:, batch], fit_assigned[:, batch], fit_shares[:, batch], fits, rng)
            low[batch], high[batch] = np.quantile(draws, [0.025, 0.975], axis=0)
        low, high = np.minimum(low, shares), np.maximum(high, shares)
        labels = []
        for row in shares:
            if row[-1] >= 0.5:  # at least half of the fits find no theme in the unit
                labels.append(NONE)
                continue
            order = np.argsort(-row[:-1], kind="stable")
            among = row[:-1] / row[:-1].sum()
            lead = among[order[0]] - (among[order[1]] if n_themes > 1 else 0.0)
            labels.append(MIXED if self.min_margin > 0 and lead < self.min_margin else self.theme_ids[order[0]])
        return UnitThemes(self.theme_ids, dirichlet, theme_mass, shares, low, high, labels, fit_assigned, fit_shares)

    def document_draws(self, units: UnitThemes, unit_doc_ids: Sequence[str], unit_lengths: Sequence[int],
                       doc_ids: Sequence[str], draws: int | None = None, chunk: int = 8) -> np.ndarray:
        """Joint posterior draws of every document's shares: draws × documents × (themes + unassigned).

        Draw ``d`` picks one fit of the ensemble for all units (seeded), draws every unit's
        theme shares from that fit's posterior as :meth:`score_units` does for its intervals,
        and gives each document the length-weighted mean of its units, so that one draw is one
        coherent version of the corpus's measurement: what the method of composition refits a
        regression on (``policytopics.effects``). Units are not resampled (a speech's text is
        what was said, not a sample of it). A document without units is NaN.

        Parameters
        ----------
        units : UnitThemes
            From :meth:`score_units`.
        unit_doc_ids, unit_lengths, doc_ids
            As for :meth:`score_documents`.
        draws : int, optional
            How many (default: ``self.draws``).
        chunk : int
            Draws computed at once (memory: ``chunk`` × units × columns floats).

        Returns
        -------
        numpy.ndarray

        Examples
        --------
        >>> scorer = ThemeScorer(["a", "b"], draws=20)
        >>> units = scorer.score_units(np.array([[9.0, 1.0, 1.0], [1.0, 9.0, 1.0]]))
        >>> scorer.document_draws(units, ["d", "d"], [1, 3], ["d"]).shape
        (20, 1, 3)
        """
        from scipy import sparse

        draws = self.draws if draws is None else int(draws)
        index = {doc_id: row for row, doc_id in enumerate(doc_ids)}
        rows = np.array([index[doc_id] for doc_id in unit_doc_ids], dtype=np.int64)
        lengths = np.asarray(unit_lengths, dtype=float)
        totals = np.bincount(rows, weights=lengths, minlength=len(doc_ids))
        weights = sparse.csr_matrix(
            (lengths / totals[rows], (rows, np.arange(len(rows)))), shape=(len(doc_ids), len(rows))
        )
        rng = np.random.default_rng([self.random_state, 2])
        fits = rng.integers(0, len(units.dirichlet), size=draws)
        out = np.empty((draws, len(doc_ids), len(self.theme_ids) + 1))
        for start in range(0, draws, chunk):
            unit_draws = self._draw_shares(units.dirichlet, units.fit_assigned, units.fit_shares, fits[start:start + chunk], rng)
            for offset, one in enumerate(unit_draws):
                out[start + offset] = weights @ one
        out[:, totals == 0] = np.nan
        return out

    def score_documents(self, units: UnitThemes, unit_doc_ids: Sequence[str], unit_lengths: Sequence[int],
                        doc_ids: Sequence[str]) -> DocumentThemes:
        """Length-weighted document shares with bootstrap-and-posterior intervals.

        Parameters
        ----------
        units : UnitThemes
            From :meth:`score_units`.
        unit_doc_ids : sequence of str
            The document of each unit (each in ``doc_ids``).
        unit_lengths : sequence of int
            Each unit's length in characters (its weight).
        doc_ids : sequence of str
            The documents, in row order of the result.

        Returns
        -------
        DocumentThemes

        Examples
        --------
        >>> scorer = ThemeScorer(["a", "b"], draws=50)
        >>> units = scorer.score_units(np.array([[9.0, 1.0, 1.0]]))
        >>> scorer.score_documents(units, ["d"], [5], ["d", "empty"]).labels
        ['a', 'none']
        """
        n_columns = len(self.theme_ids) + 1
        members: dict[str, list[int]] = {doc_id: [] for doc_id in doc_ids}
        for row, doc_id in enumerate(unit_doc_ids):
            members[doc_id].append(row)
        lengths = np.asarray(unit_lengths, dtype=float)
        shape = (len(doc_ids), n_columns)
        shares, low, high = np.full(shape, np.nan), np.full(shape, np.nan), np.full(shape, np.nan)
        labels, rankings, distinct = [], [], []
        rng = np.random.default_rng([self.random_state, 1])
        for index, doc_id in enumerate(doc_ids):
            rows = np.asarray(members[doc_id], dtype=int)
            if not len(rows):
                labels.append(NONE)
                rankings.append("")
                distinct.append(False)
                continue
            weights = lengths[rows]
            point = weights @ units.shares[rows] / weights.sum()
            # every draw: one fit, the units' theme shares from its posteriors, then a
            # bootstrap resample of the document's units
            fits = rng.integers(0, len(units.dirichlet), size=self.draws)
            draws = self._draw_shares(units.dirichlet[:, rows], units.fit_assigned[:, rows], units.fit_shares[:, rows], fits, rng)
            picks = rng.integers(0, len(rows), size=(self.draws, len(rows)))
            picked_weights = weights[picks]
            picked = np.take_along_axis(draws, picks[:, :, None], axis=1)
            doc_draws = (picked * picked_weights[:, :, None]).sum(axis=1) / picked_weights.sum(axis=1, keepdims=True)
            shares[index] = point
            low[index] = np.minimum(np.quantile(doc_draws, 0.025, axis=0), point)
            high[index] = np.maximum(np.quantile(doc_draws, 0.975, axis=0), point)
            order = sorted(range(len(self.theme_ids)), key=lambda i: (-point[i], i))
            parts = [self.theme_ids[order[0]]]
            separable = []
            for previous, current in zip(order, order[1:]):
                difference = doc_draws[:, previous] - doc_draws[:, current]
                separable.append(bool(np.quantile(difference, 0.025) > 0))
                parts.append((" > " if separable[-1] else " ≈ ") + self.theme_ids[current])
            rankings.append("".join(parts))
            distinct.append(separable[0] if separable else True)
            top = order[0]
            if point[top] >= self.document_min_share:
                labels.append(self.theme_ids[top])
            else:  # spread over several themes, or mostly unassigned text
                labels.append(NONE if point[-1] >= 0.5 else MIXED)
        return DocumentThemes(list(doc_ids), shares, low, high, labels, rankings, distinct)


def unassigned_by_fit_group(units: UnitThemes, groups: Sequence[Any], unit_doc_ids: Sequence[str],
                            unit_lengths: Sequence[int], doc_ids: Sequence[str]) -> dict[str, Any]:
    """How much a document's unassigned share would move if only one group of fits measured it.

    The sensitivity of the ensemble's measurement to K: ``groups`` gives each fit's group (its
    K); for each group, the documents' unassigned shares from that group's fits alone.

    Parameters
    ----------
    units : UnitThemes
        From :meth:`ThemeScorer.score_units` on an ensemble of fits.
    groups : sequence
        The group (e.g. K) of each fit, in the ensemble's order.
    unit_doc_ids, unit_lengths, doc_ids
        As for :meth:`ThemeScorer.score_documents`.

    Returns
    -------
    dict
        ``groups`` (sorted), ``max_spread`` (the largest difference, over documents, between
        the groups' unassigned shares), ``document`` (where it is largest, with its share per
        group) and ``median_spread``; spreads are 0 with one group.

    Examples
    --------
    >>> fits = np.array([[[9.0, 1.0, 1.0]], [[1.0, 1.0, 9.0]]])
    >>> units = ThemeScorer(["a", "b"]).score_units(fits)
    >>> unassigned_by_fit_group(units, [10, 15], ["d"], [5], ["d"])["max_spread"]
    1.0
    """
    labels = sorted(set(groups))
    lengths = np.asarray(unit_lengths, dtype=float)
    index = {doc_id: row for row, doc_id in enumerate(doc_ids)}
    rows = np.array([index[doc_id] for doc_id in unit_doc_ids], dtype=int)
    weight = np.bincount(rows, weights=lengths, minlength=len(doc_ids))
    per_group = np.zeros((len(labels), len(doc_ids)))
    for position, label in enumerate(labels):
        members = [fit for fit, group in enumerate(groups) if group == label]
        unassigned = 1.0 - units.fit_assigned[members].mean(axis=0)
        per_group[position] = np.divide(np.bincount(rows, weights=lengths * unassigned, minlength=len(doc_ids)), weight,
                                        out=np.zeros(len(doc_ids)), where=weight > 0)
    spread = per_group.max(axis=0) - per_group.min(axis=0)
    worst = int(np.argmax(spread)) if len(doc_ids) else 0
    return {
        "groups": [int(label) if isinstance(label, (int, np.integer)) else label for label in labels],
        "max_spread": round(float(spread.max()), 6) if len(doc_ids) else 0.0,
        "median_spread": round(float(np.median(spread)), 6) if len(doc_ids) else 0.0,
        "document": {"doc_id": doc_ids[worst], "unassigned": [round(float(v), 6) for v in per_group[:, worst]]}
        if len(doc_ids) else {},
    }
