"""TF-IDF + KMeans clustering of analysis units, a non-probabilistic baseline for the topic model.

In: one pre-tokenised token list per unit (the ``tokens`` of ``tokens.jsonl``), the
``cluster`` section of the config and the run seed. Out: a fitted :class:`TfidfKMeans`
holding one cluster label per unit, the silhouette score of every k tried, the top terms
of each cluster and each cluster's centroid as a term distribution (rows sum to 1), so
that the theme mapping can treat a cluster like an LDA topic. :func:`agreement` compares
two labelings of the same units (e.g. cluster themes against LDA themes): adjusted Rand
index and the cross-table.

Conventions:

* Tokens are used as given: the vectoriser's analyzer is the identity on the token list
  (no re-tokenisation, no lower-casing, no vocabulary filtering; filter the tokens first
  if the model should see a reduced vocabulary).
* Units with no tokens get the label ``-1`` ("no cluster") and a zero row in ``tfidf_``.
  The vectoriser and KMeans are fitted on the non-empty units only, so adding or removing
  empty units never changes the other units' labels, the IDF weights or the centroids.
* Cluster numbers do not depend on KMeans' arbitrary numbering: after fitting, clusters
  are renumbered by size (largest first), ties broken by the position of their first
  member, and ``kmeans_`` is permuted to match (its ``predict`` gives the new numbers).
* The TF-IDF rows are L2-normalised, so Euclidean KMeans on them is close to spherical
  (cosine) KMeans, and the silhouette is measured with the cosine distance. It is computed
  in time linear in the number of units (see :meth:`TfidfKMeans._silhouettes`), not from the
  pairwise distances, and equals scikit-learn's ``silhouette_score`` up to rounding.
* KMeans runs on one OpenMP thread: its centroids then do not depend on the machine's
  number of cores (their last bits do otherwise), and it does not compete for the cores with
  the LDA fits that run in worker processes meanwhile (several threads made it several times
  slower on a shared two-core machine).
* With ``memory`` (a cache folder), the KMeans fit and silhouette of every k are stored under
  a key that hashes the TF-IDF matrix, k, ``n_init``, the seed, ``silhouette_sample``, the
  scikit-learn, numpy and scipy versions and this module's code, and read back by a later
  fit of the same units
  (e.g. a rerun that changed only LDA or theme settings, or a narrower ``k_range``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import numbers
import pickle
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import KMeans
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import adjusted_rand_score, silhouette_score
from threadpoolctl import threadpool_limits  # a dependency of scikit-learn


__all__ = ["NO_CLUSTER", "UNASSIGNED", "TfidfKMeans", "agreement"]

logger = logging.getLogger("policytopics")

#: Bump when what a cached KMeans fit holds changes (old entries are then ignored).
_KMEANS_CACHE_FORMAT = 1

#: The label of units without tokens.
NO_CLUSTER = -1
#: The theme label that :func:`agreement` puts last in its cross-table.
UNASSIGNED = "unassigned"


def identity_analyzer(tokens: Sequence[str]) -> list[str]:
    """Return the pre-tokenised unit as the vectoriser's list of features.

    A module-level function (not a lambda) so that a fitted vectoriser can be pickled.

    Examples
    --------
    >>> identity_analyzer(("开发区", "招商"))
    ['开发区', '招商']
    """
    return list(tokens)


def _check_token_lists(token_lists: Sequence[Sequence[str]]) -> tuple[Sequence[Sequence[str]], np.ndarray]:
    """``token_lists`` (not copied: it may be a compact, re-iterable sequence) and the
    positions of its units that have tokens, checking that no unit is a string."""
    if isinstance(token_lists, str):
        raise TypeError("token_lists must be a sequence of token lists, got one string")
    nonempty = []
    for i, tokens in enumerate(token_lists):
        if isinstance(tokens, str):
            raise TypeError(
                f"unit {i} is a string, not a token list: pass pre-tokenised units "
                "(e.g. [['开发区', '招商'], ...])"
            )
        if len(tokens):
            nonempty.append(i)
    return token_lists, np.array(nonempty, dtype=np.int64)


def _nonempty(token_lists: Sequence[Sequence[str]]) -> Iterator[Sequence[str]]:
    """The units that have tokens, in order, one at a time."""
    return (tokens for tokens in token_lists if len(tokens))


def _check_seed(random_state: Any) -> int:
    if isinstance(random_state, bool) or not isinstance(random_state, numbers.Integral):
        raise TypeError(
            f"random_state must be an int (the run seed), got {random_state!r}"
        )
    return int(random_state)


class TfidfKMeans(ClusterMixin, BaseEstimator):
    """Cluster pre-tokenised units: TF-IDF vectors, then KMeans with k fixed or chosen by silhouette.

    Parameters
    ----------
    k : int or None, default=None
        Number of clusters; ``None`` tries every k in ``k_range`` and keeps the one with the
        highest silhouette (cosine distance; ties go to the smaller k).
    k_range : tuple of (int, int), default=(4, 12)
        Inclusive ``(min, max)`` k tried when ``k`` is None. k values that need more
        non-empty units than there are (a silhouette needs ``k < n_units``) are skipped.
    top_n : int, default=10
        Terms listed per cluster in ``cluster_terms_``.
    random_state : int, default=0
        Seed of KMeans' initialisation (the run seed; ``None`` is refused).
    n_init : int, default=3
        KMeans initialisations (k-means++) per k; the one with the lowest inertia is kept.
        Each costs one KMeans fit. On the city reports 3 instead of 10 left the chosen k
        unchanged, and the labels of 10 differ between seeds about as much as those of 3 and
        10 do (docs/methods.md, section 5).
    memory : str or Path, optional
        A cache folder: the KMeans fit and silhouette of each k are read from
        ``<memory>/kmeans/`` when the same TF-IDF matrix was clustered with the same k,
        ``n_init`` and seed before, and stored there otherwise. Results are the same with or
        without it.
    silhouette_sample : int, default=10000
        The silhouette is computed on at most this many units: a random sample drawn with
        ``random_state`` (the same units for every k) when there are more.
    verbose : bool, default=False
        Show a progress bar over the k tried (:func:`policytopics.progress.progress_bar`:
        only on a terminal or in a notebook). It changes nothing else.

    Attributes
    ----------
    vectorizer_ : sklearn.feature_extraction.text.TfidfVectorizer
        Fitted on the non-empty units.
    tfidf_ : scipy.sparse.csr_matrix of shape (n_units, n_terms)
        L2-normalised TF-IDF rows; units without tokens have a zero row.
    kmeans_ : sklearn.cluster.KMeans
        The KMeans of the chosen k, fitted on the non-empty rows and renumbered so that its
        ``labels_``, ``cluster_centers_`` and ``predict`` use this estimator's numbering.
    k_ : int
        The number of clusters used.
    labels_ : ndarray of int of shape (n_units,)
        Cluster of each unit, ``0 .. k_-1`` (0 is the largest cluster), ``-1`` for units
        without tokens.
    silhouette_ : dict of int to float
        Silhouette (cosine) of every k fitted, in increasing k; only ``{k: score}`` when
        ``k`` was given. NaN when fewer than two distinct clusters were found.
    terms_ : ndarray of str of shape (n_terms,)
        The vocabulary (sorted), the columns of ``tfidf_`` and ``centroid_term_``.
    cluster_terms_ : list of list of (str, float)
        Per cluster, its ``top_n`` terms with their centroid TF-IDF weight, heaviest first
        (ties in vocabulary order); terms of zero weight are left out.
    centroid_term_ : ndarray of shape (k_, n_terms)
        The centroids normalised to sum 1 per row: a term distribution per cluster.
    cluster_sizes_ : ndarray of int of shape (k_,)
        Units per cluster (non-increasing).

    Examples
    --------
    >>> docs = [["招商", "项目", "投资"], ["招商", "投资"], ["环保", "污染"], ["环保", "生态"]]
    >>> model = TfidfKMeans(k=2, top_n=2, random_state=0).fit(docs)
    >>> model.labels_.tolist()
    [0, 0, 1, 1]
    >>> [term for term, _ in model.cluster_terms_[1]]
    ['环保', '污染']
    """

    def __init__(
        self,
        k: int | None = None,
        *,
        k_range: tuple[int, int] = (4, 12),
        top_n: int = 10,
        random_state: int = 0,
        n_init: int = 3,
        memory: str | Path | None = None,
        silhouette_sample: int = 10_000,
        verbose: bool = False,
    ) -> None:
        self.k = k
        self.k_range = k_range
        self.top_n = top_n
        self.random_state = random_state
        self.n_init = n_init
        self.memory = memory
        self.silhouette_sample = silhouette_sample
        self.verbose = verbose

    # ------------------------------------------------------------------ fitting

    def _candidate_ks(self, n_docs: int) -> list[int]:
        if self.k is not None:
            k = int(self.k)
            if k < 2:
                raise ValueError(f"k must be at least 2, got {k}")
            if k > n_docs:
                raise ValueError(
                    f"k={k} clusters need at least {k} units with tokens, got {n_docs}"
                )
            return [k]
        try:
            k_min, k_max = (int(v) for v in self.k_range)
        except (TypeError, ValueError):
            raise ValueError(f"k_range must be (min, max), got {self.k_range!r}") from None
        if k_min < 2 or k_max < k_min:
            raise ValueError(f"k_range must be (min, max) with 2 <= min <= max, got {self.k_range!r}")
        ks = list(range(k_min, min(k_max, n_docs - 1) + 1))
        if not ks:
            raise ValueError(
                f"cannot choose k in {list(self.k_range)} by silhouette with {n_docs} units "
                f"with tokens (a silhouette needs k < number of units)"
            )
        return ks


    @staticmethod
    def _silhouette(x: sparse.csr_matrix, labels: np.ndarray) -> float:
        n_labels = len(np.unique(labels))
        if not 2 <= n_labels <= x.shape[0] - 1:
            return math.nan
        return float(silhouette_score(x, labels, metric="cosine"))

    @classmethod
    def _silhouettes(
        cls, x: sparse.csr_matrix, labelings: dict[int, np.ndarray], sample: int | None = None, seed: int = 0
    ) -> dict[int, float]:
        """``_silhouette`` of several labelings of the same rows, in time linear in the rows.

        The silhouette of ``sklearn.metrics.silhouette_score(x, labels, metric="cosine")``
        (the mean over rows of ``(b - a) / max(a, b)``, ``a`` the mean distance to the other
        rows of its cluster, ``b`` the lowest mean distance to the rows of another cluster, 0
        for a row alone in its cluster), without the matrix of pairwise distances: once the
        rows are L2-normalised (as scikit-learn's cosine distance normalises them), the cosine
        distance of rows i and j is ``1 - x_i . x_j``, so the summed distance of row i to the
        rows of cluster c is ``n_c - x_i . S_c``, with ``S_c`` the sum of cluster c's rows;
        for its own cluster, minus its distance to itself, ``1 - x_i . x_i`` (0; 1 for a row
        of zeros, whose cosine distance to any row is 1). That is one sparse product of the
        rows with the cluster sums per labeling instead of the square of the number of rows;
        the scores equal scikit-learn's up to rounding (about 1e-15).
        With more rows than ``sample``, the scores are those of a random sample of ``sample``
        rows drawn with ``seed`` (the same rows for every labeling).

        Examples
        --------
        >>> x = sparse.csr_matrix([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9], [0.5, 0.5]])
        >>> labels = np.array([0, 0, 1, 1, 1])
        >>> score = TfidfKMeans._silhouettes(x, {2: labels})[2]
        >>> bool(abs(score - silhouette_score(x, labels, metric="cosine")) < 1e-12)
        True
        """
        from sklearn.preprocessing import normalize

        if sample is not None and x.shape[0] > sample:
            rows = np.sort(np.random.default_rng(seed).choice(x.shape[0], size=sample, replace=False))
            x = x[rows]
            labelings = {k: labels[rows] for k, labels in labelings.items()}
        x = normalize(sparse.csr_matrix(x, dtype=np.float64), norm="l2")  # a zero row stays zero
        n_rows = x.shape[0]
        positions = np.arange(n_rows)
        self_distance = 1.0 - np.asarray(x.multiply(x).sum(axis=1)).ravel()

        scores: dict[int, float] = {}
        for k, labels in labelings.items():
            clusters, codes = np.unique(labels, return_inverse=True)
            if not 2 <= len(clusters) <= n_rows - 1:
                scores[k] = math.nan
                continue
            freqs = np.bincount(codes, minlength=len(clusters)).astype(np.float64)
            members = sparse.csr_matrix((np.ones(n_rows), (codes, positions)), shape=(len(clusters), n_rows))
            sums = (members @ x).toarray()  # S_c, one row per cluster
            distances = freqs - np.asarray(x @ sums.T)  # (rows, clusters): summed cosine distances
            intra = distances[positions, codes] - self_distance  # to the other rows of its cluster
            distances[positions, codes] = np.inf
            inter = (distances / freqs).min(axis=1)
            own = freqs[codes]
            with np.errstate(divide="ignore", invalid="ignore"):
                intra /= own - 1
                samples = (inter - intra) / np.maximum(intra, inter)
            samples[own == 1] = 0.0  # alone in its cluster (scikit-learn: 0)
            scores[k] = float(np.mean(np.nan_to_num(samples, nan=0.0)))
        return scores

    def fit(self, token_lists: Sequence[Sequence[str]], y: None = None) -> TfidfKMeans:
        """Vectorise the units and cluster them.

        Parameters
        ----------
        token_lists : sequence of sequence of str
            One token list per unit (may be empty).
        y : None
            Ignored (scikit-learn convention).

        Returns
        -------
        self : TfidfKMeans

        Examples
        --------
        >>> docs = [["招商", "投资"], ["招商", "项目"], [], ["环保", "生态"], ["环保", "污染"]]
        >>> TfidfKMeans(k=2).fit(docs).labels_.tolist()
        [0, 0, -1, 1, 1]
        """
        seed = _check_seed(self.random_state)
        docs, nonempty = _check_token_lists(token_lists)
        ks = self._candidate_ks(len(nonempty))

        vectorizer = TfidfVectorizer(analyzer=identity_analyzer, token_pattern=None, lowercase=False)
        x = vectorizer.fit_transform(_nonempty(docs)).tocsr()

        scores: dict[int, float] = {}
        fits: dict[int, KMeans] = {}
        store, matrix_key = self._store(x)
        keys = {k: self._kmeans_key(matrix_key, k, seed) if store is not None else "" for k in ks}
        fitted: list[int] = []
        with self._progress(len(ks)) as bar:
            for k in ks:
                cached = self._read_kmeans(store, keys[k]) if store is not None else None
                if cached is not None:
                    fits[k], scores[k] = cached
                else:
                    # copy_x=False: scikit-learn centres only dense data, so a CSR matrix is read
                    # as it is; the default copies it (12 bytes a non-zero) for every k.
                    # One thread: centroids independent of the number of cores, no contention
                    # with the LDA worker processes (see the module docstring).
                    with threadpool_limits(limits=1):
                        fits[k] = KMeans(
                            n_clusters=k, n_init=int(self.n_init), random_state=seed, copy_x=False
                        ).fit(x)
                    fitted.append(k)
                bar.update(1)
            if fitted:
                bar.set_postfix_str("silhouettes")  # the bar stays open while they are computed
            # the silhouettes of the new fits, on the same (sampled) units
            scores.update(
                self._silhouettes(x, {k: fits[k].labels_ for k in fitted}, int(self.silhouette_sample), seed)
            )
        scores = {k: scores[k] for k in ks}
        if store is not None:
            for k in fitted:
                self._write_kmeans(store, keys[k], fits[k], scores[k])
        finite = {k: s for k, s in scores.items() if not math.isnan(s)}
        if self.k is None and finite:
            best = max(finite, key=lambda k: (finite[k], -k))  # ties: smaller k
        else:  # k given, or no k found two distinct clusters (all units identical)
            best = ks[0]
        kmeans = fits[best]

        # Renumber: by size (largest first), then by the first member's position.
        raw = kmeans.labels_
        sizes = np.bincount(raw, minlength=best)
        first = np.full(best, len(raw), dtype=np.int64)
        np.minimum.at(first, raw, np.arange(len(raw)))
        order = sorted(range(best), key=lambda c: (-sizes[c], first[c], c))
        new_of_old = np.empty(best, dtype=np.int64)
        new_of_old[order] = np.arange(best)
        kmeans.cluster_centers_ = kmeans.cluster_centers_[order]
        kmeans.labels_ = new_of_old[raw].astype(raw.dtype)

        labels = np.full(len(docs), NO_CLUSTER, dtype=np.int64)
        labels[nonempty] = kmeans.labels_
        tfidf = sparse.csr_matrix(
            (x.data, x.indices, self._expanded_indptr(x.indptr, nonempty, len(docs))),
            shape=(len(docs), x.shape[1]),
        )

        centers = np.clip(kmeans.cluster_centers_, 0.0, None)
        terms = vectorizer.get_feature_names_out()
        cluster_terms = []
        for row in centers:
            top = np.lexsort((np.arange(len(row)), -row))[: self.top_n]
            cluster_terms.append([(str(terms[j]), float(row[j])) for j in top if row[j] > 0])

        self.vectorizer_ = vectorizer
        self.tfidf_ = tfidf
        self.kmeans_ = kmeans
        self.k_ = int(best)
        self.labels_ = labels
        self.silhouette_ = scores
        self.terms_ = terms
        self.cluster_terms_ = cluster_terms
        self.centroid_term_ = centers / centers.sum(axis=1, keepdims=True)
        self.cluster_sizes_ = np.bincount(kmeans.labels_, minlength=best).astype(np.int64)
        return self

    def _progress(self, total: int) -> Any:
        """The bar over the k tried: a real one with ``verbose``, else one that shows nothing."""
        from policytopics.progress import progress_bar

        return progress_bar(total, "k-means", "fit", enabled=None if self.verbose else False)

    # ------------------------------------------------------------------ cache

    def _store(self, x: sparse.csr_matrix) -> tuple[Any, str]:
        """The cache store (or None) and a hash of the TF-IDF matrix."""
        if self.memory is None:
            return None, ""
        from policytopics.cache import CacheStore

        digest = hashlib.sha256()
        digest.update(json.dumps([list(x.shape), str(x.dtype), str(x.indices.dtype)]).encode())
        for array in (x.data, x.indices, x.indptr):
            digest.update(memoryview(np.ascontiguousarray(array)).cast("B"))  # no copy (tobytes made one)
        return CacheStore(self.memory, "kmeans"), digest.hexdigest()

    def _kmeans_key(self, matrix_key: str, k: int, seed: int) -> str:
        from policytopics.cache import fingerprint
        from policytopics.provenance import environment_versions, source_hash

        return fingerprint(
            "kmeans", _KMEANS_CACHE_FORMAT, matrix_key, int(k), int(self.n_init), int(seed),
            int(self.silhouette_sample),
            environment_versions("scikit-learn", "numpy", "scipy"), source_hash(__file__),
        )

    @staticmethod
    def _read_kmeans(store: Any, key: str) -> tuple[KMeans, float] | None:
        entry = store.get(key)
        if entry is None:
            return None
        try:
            kmeans = pickle.loads((entry / "kmeans.pkl").read_bytes())  # checksummed, written by _write_kmeans
            score = float(json.loads((entry / "silhouette.json").read_text(encoding="utf-8")))
        except Exception as error:  # noqa: BLE001 - e.g. pickled by an incompatible version
            logger.warning("cache: KMeans fit %s could not be read (%s); refitting", key[:12], error)
            return None
        return kmeans, score

    @staticmethod
    def _write_kmeans(store: Any, key: str, kmeans: KMeans, score: float) -> None:
        payload = pickle.dumps(kmeans, protocol=pickle.HIGHEST_PROTOCOL)
        text = json.dumps(score, allow_nan=True)

        def write(folder: Path) -> None:
            (folder / "kmeans.pkl").write_bytes(payload)
            (folder / "silhouette.json").write_text(text, encoding="utf-8")

        store.put(key, write)

    @staticmethod
    def _expanded_indptr(indptr: np.ndarray, rows: np.ndarray, n_rows: int) -> np.ndarray:
        """CSR row pointers of ``n_rows`` rows where only ``rows`` (sorted) hold the given rows."""
        counts = np.zeros(n_rows, dtype=np.int64)
        counts[rows] = np.diff(indptr)
        return np.concatenate([[0], np.cumsum(counts)]).astype(indptr.dtype)

    def predict(self, token_lists: Sequence[Sequence[str]]) -> np.ndarray:
        """Assign units to the nearest fitted cluster (``-1`` for units without known tokens).

        Parameters
        ----------
        token_lists : sequence of sequence of str
            One token list per unit; tokens outside the fitted vocabulary are ignored.

        Returns
        -------
        ndarray of int of shape (n_units,)

        Examples
        --------
        >>> docs = [["招商", "投资"], ["招商", "项目"], ["环保", "生态"], ["环保", "污染"]]
        >>> TfidfKMeans(k=2).fit(docs).predict([["生态", "环保"], ["新词"]]).tolist()
        [1, -1]
        """
        if not hasattr(self, "kmeans_"):
            raise AttributeError("TfidfKMeans is not fitted yet: call fit first")
        docs, _ = _check_token_lists(token_lists)
        labels = np.full(len(docs), NO_CLUSTER, dtype=np.int64)
        if not len(docs):
            return labels
        x = self.vectorizer_.transform(iter(docs)).tocsr()
        known = np.flatnonzero(np.diff(x.indptr) > 0)
        if len(known):
            with threadpool_limits(limits=1):  # as in fit
                labels[known] = self.kmeans_.predict(x[known])
        return labels


def agreement(themes_a: Sequence[str], themes_b: Sequence[str]) -> tuple[float, pd.DataFrame]:
    """Compare two labelings of the same units: adjusted Rand index and cross-table.

    Parameters
    ----------
    themes_a, themes_b : sequence of str
        One label per unit, same units in the same order (e.g. the theme of each unit by
        clustering and by LDA). ``"unassigned"`` is an ordinary label for the index.

    Returns
    -------
    ari : float
        ``sklearn.metrics.adjusted_rand_score``: 1.0 for identical partitions (whatever the
        label names), about 0 for chance agreement.
    table : pandas.DataFrame
        Unit counts, rows the labels of ``themes_a`` and columns those of ``themes_b``,
        each sorted with ``"unassigned"`` last; index named ``themes_a``, columns
        ``themes_b``.

    Examples
    --------
    >>> ari, table = agreement(["invest", "green", "unassigned"], ["invest", "green", "green"])
    >>> round(ari, 3)
    0.0
    >>> table.index.tolist(), table.columns.tolist()
    (['green', 'invest', 'unassigned'], ['green', 'invest'])
    """
    a, b = list(themes_a), list(themes_b)
    if len(a) != len(b):
        raise ValueError(f"the two labelings differ in length ({len(a)} and {len(b)} units)")

    def order(labels: list[Any]) -> list[Any]:
        return sorted(set(labels), key=lambda label: (label == UNASSIGNED, label))

    rows, cols = order(a), order(b)
    counts = np.zeros((len(rows), len(cols)), dtype=np.int64)
    row_of = {label: i for i, label in enumerate(rows)}
    col_of = {label: j for j, label in enumerate(cols)}
    for label_a, label_b in zip(a, b):
        counts[row_of[label_a], col_of[label_b]] += 1
    table = pd.DataFrame(
        counts,
        index=pd.Index(rows, name="themes_a", dtype=object),
        columns=pd.Index(cols, name="themes_b", dtype=object),
    )
    return float(adjusted_rand_score(a, b)), table
