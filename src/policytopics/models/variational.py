"""The variational E-step of LDA, vectorised across units: gensim's updates, many units at a time.

gensim's ``LdaModel.inference`` loops over units in Python and, for each, iterates

    gamma_d <- alpha + exp(E[log theta_d]) * (n_d / phinorm_d) @ exp(E[log beta_d]).T
    phinorm_d <- exp(E[log theta_d]) @ exp(E[log beta_d]) + eps

until the mean absolute change of ``gamma_d`` falls below ``gamma_threshold`` (or
``iterations`` are spent). :func:`estep` makes exactly these updates with the same stopping
rule per unit, but for a block of units at once with sparse matrix products: a unit leaves
the block's working set at the iteration where gensim's loop would break, and its results
are the ones of that iteration. Results agree with gensim's loop up to floating-point
rounding (the order of sums differs); the speed-up on the city reports is about 3x.

In: ``exp(E[log beta])`` (K x V), ``alpha``, the units as packed bags of words
(:class:`policytopics.packed.PackedBows`) and a start ``gamma``.
Out: ``gamma`` (n x K) and, on request, the expected counts ``sum_d n_dw phi_dwk`` (K x V).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.special import psi

from policytopics.packed import PackedBows

__all__ = ["dirichlet_expectation_rows", "estep"]

_DTYPE = np.float64
#: Entries (unit, term) processed at a time: bounds the block's arrays (a few of
#: ``BLOCK_ENTRIES x K`` floats) whatever the corpus size.
BLOCK_ENTRIES = 1 << 18
#: The working set is compacted when fewer than this share of its units are still iterating.
COMPACT_BELOW = 0.8


def dirichlet_expectation_rows(gamma: np.ndarray) -> np.ndarray:
    """``E[log theta]`` under ``Dir(gamma_d)`` for every row ``d`` of ``gamma``.

    Examples
    --------
    >>> dirichlet_expectation_rows(np.ones((1, 2))).round(3).tolist()
    [[-1.0, -1.0]]
    """
    return psi(gamma) - psi(gamma.sum(axis=1))[:, np.newaxis]


def estep(
    exp_elog_beta: np.ndarray,
    alpha: np.ndarray,
    bows: PackedBows,
    gamma_start: np.ndarray,
    iterations: int,
    gamma_threshold: float,
    collect_counts: bool = False,
) -> tuple[np.ndarray, np.ndarray | None]:
    """gensim's variational E-step for every unit of ``bows``, units processed in blocks.

    Parameters
    ----------
    exp_elog_beta : ndarray of shape (K, V)
        ``exp(E[log beta])`` of the current topics.
    alpha : ndarray of shape (K,)
        The document-topic prior.
    bows : PackedBows
        The units.
    gamma_start : ndarray of shape (n_units, K)
        Where each unit's ``gamma`` starts (gensim: random Gamma(100, 1/100) draws in
        training, ones in :meth:`LdaTopicModel.transform`); not modified.
    iterations : int
        Maximum updates per unit.
    gamma_threshold : float
        A unit stops when the mean absolute change of its ``gamma`` is below this.
    collect_counts : bool
        Also return the expected counts (gensim's ``sstats``, already multiplied by
        ``exp_elog_beta``).

    Returns
    -------
    gamma : ndarray of shape (n_units, K)
    counts : ndarray of shape (K, V) or None

    Examples
    --------
    >>> beta = np.array([[0.9, 0.1], [0.1, 0.9]])
    >>> bows = PackedBows.from_lists([[(0, 3)], [(1, 2)]])
    >>> gamma, _ = estep(beta, np.array([0.5, 0.5]), bows, np.ones((2, 2)), 100, 1e-6)
    >>> gamma.argmax(axis=1).tolist()
    [0, 1]
    """
    num_topics, num_terms = exp_elog_beta.shape
    offsets = np.asarray(bows.offsets, dtype=np.int64)
    n_units = len(offsets) - 1
    if gamma_start.shape != (n_units, num_topics):
        raise ValueError(f"gamma_start has shape {gamma_start.shape}, expected {(n_units, num_topics)}")
    beta_by_term = np.ascontiguousarray(exp_elog_beta.T, dtype=_DTYPE)
    alpha = np.asarray(alpha, dtype=_DTYPE)
    gamma = np.empty((n_units, num_topics), dtype=_DTYPE)
    counts_by_term = np.zeros((num_terms, num_topics), dtype=_DTYPE) if collect_counts else None
    start = 0
    while start < n_units:
        stop = int(np.searchsorted(offsets, offsets[start] + BLOCK_ENTRIES, side="right")) - 1
        stop = min(max(stop, start + 1), n_units)
        _estep_block(
            beta_by_term, alpha, bows, offsets, start, stop, gamma_start, iterations, gamma_threshold, gamma,
            counts_by_term,
        )
        start = stop
    if counts_by_term is None:
        return gamma, None
    return gamma, counts_by_term.T * exp_elog_beta


def _entry_dot(theta: np.ndarray, lengths: np.ndarray, beta_entries: np.ndarray) -> np.ndarray:
    """``theta[unit] . beta_entries[entry]`` for every entry, units' entries consecutive."""
    return np.einsum("ij,ij->i", np.repeat(theta, lengths, axis=0), beta_entries)


def _estep_block(
    beta_by_term: np.ndarray,
    alpha: np.ndarray,
    bows: PackedBows,
    offsets: np.ndarray,
    start: int,
    stop: int,
    gamma_start: np.ndarray,
    iterations: int,
    gamma_threshold: float,
    gamma_out: np.ndarray,
    counts_by_term: np.ndarray | None,
) -> None:
    """The E-step of units ``start:stop``: results into ``gamma_out`` and ``counts_by_term``."""
    num_terms, num_topics = beta_by_term.shape
    epsilon = np.finfo(_DTYPE).eps
    first, last = int(offsets[start]), int(offsets[stop])
    n = stop - start
    indptr = offsets[start:stop + 1] - first
    terms = np.asarray(bows.ids[first:last], dtype=np.int64)
    term_counts = np.asarray(bows.counts[first:last], dtype=_DTYPE)
    lengths = np.diff(indptr)
    # what each unit's last iteration left: its theta and its entries' phinorm
    final_theta = np.empty((n, num_topics), dtype=_DTYPE)
    final_phinorm = np.empty(last - first, dtype=_DTYPE)

    # the working set: units still iterating (and, between compactions, some that stopped)
    units = np.arange(n)
    entries = np.arange(last - first)
    w_indptr, w_terms, w_counts = indptr, terms, term_counts
    w_lengths = lengths
    w_beta = beta_by_term[terms]  # entries x K, fixed during the E-step
    w_gamma = np.array(gamma_start[start:stop], dtype=_DTYPE)
    w_theta = np.exp(dirichlet_expectation_rows(w_gamma))
    w_phinorm = _entry_dot(w_theta, w_lengths, w_beta) + epsilon
    iterating = np.ones(n, dtype=bool)
    for iteration in range(iterations):
        ratio = sparse.csr_matrix((w_counts / w_phinorm, w_terms, w_indptr), shape=(len(units), num_terms))
        new_gamma = alpha + w_theta * (ratio @ beta_by_term)
        new_theta = np.exp(dirichlet_expectation_rows(new_gamma))
        new_phinorm = _entry_dot(new_theta, w_lengths, w_beta) + epsilon
        if iteration == iterations - 1:
            stopped = iterating
        else:
            stopped = iterating & (np.abs(new_gamma - w_gamma).mean(axis=1) < gamma_threshold)
        if stopped.any():
            done = units[stopped]
            gamma_out[start + done] = new_gamma[stopped]
            final_theta[done] = new_theta[stopped]
            done_entries = np.repeat(stopped, w_lengths)
            final_phinorm[entries[done_entries]] = new_phinorm[done_entries]
            iterating &= ~stopped
        w_gamma, w_theta, w_phinorm = new_gamma, new_theta, new_phinorm
        still = int(iterating.sum())
        if still == 0:
            break
        if still < COMPACT_BELOW * len(units):
            keep = np.flatnonzero(iterating)
            keep_entries = np.repeat(iterating, w_lengths)
            units = units[keep]
            entries = entries[keep_entries]
            w_terms, w_counts = w_terms[keep_entries], w_counts[keep_entries]
            w_beta = w_beta[keep_entries]
            w_lengths = lengths[units]
            w_indptr = np.concatenate([[0], np.cumsum(w_lengths)])
            w_gamma, w_theta, w_phinorm = w_gamma[keep], w_theta[keep], w_phinorm[keep_entries]
            iterating = np.ones(len(units), dtype=bool)
    if counts_by_term is not None:
        ratio = sparse.csr_matrix((term_counts / final_phinorm, terms, indptr), shape=(n, num_terms))
        counts_by_term += ratio.T @ final_theta
