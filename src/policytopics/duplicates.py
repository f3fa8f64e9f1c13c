"""Character shingles of texts, and how similar two texts are by them.

:func:`shingle_hashes` hashes the character 5-grams of a text with a fixed polynomial hash and
a splitmix64 finaliser (not Python's salted ``hash``), so results are the same in every run;
:func:`policytopics.segment.mark_duplicates` compares documents by them, using the constants
here to find candidate pairs.
"""

from __future__ import annotations

import numpy as np

from policytopics.segment_patterns import squash

__all__ = [
    "CANDIDATE_FACTOR",
    "MIN_CONTAINMENT_SHINGLES",
    "POSTING_CAP",
    "SAMPLE_MOD",
    "SHINGLE_K",
    "hash_similarity",
    "shingle_hashes",
    "shingle_similarity",
]

#: Shingle length for near-duplicate detection.
SHINGLE_K = 5
#: Consistent sampling rate of shingles in the candidate index (power of two).
SAMPLE_MOD = 16
#: Shingles shared by more kept documents than this are ignored when looking for
#: candidates (generic phrases of the genre); exact verification still uses all shingles.
POSTING_CAP = 200
#: A pair is verified exactly when its sampled overlap estimate reaches this fraction of
#: the threshold.
CANDIDATE_FACTOR = 0.5
#: The containment rule only applies when the shorter text has at least this many
#: shingles (so that short generic fragments are not "contained" in long speeches).
MIN_CONTAINMENT_SHINGLES = 100

_BASE = np.uint64(0x100000001B3)


def _mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser (vectorised, wraps modulo 2**64)."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def shingle_hashes(text: str, k: int = SHINGLE_K) -> np.ndarray:
    """Sorted unique 64-bit hashes of the character k-grams of ``text`` (no whitespace).

    Deterministic across runs and machines (no use of Python's salted ``hash``).

    Parameters
    ----------
    text : str
        Any text; whitespace is removed first.
    k : int
        The shingle length.

    Returns
    -------
    numpy.ndarray of uint64
        The sorted distinct hashes; one for a text shorter than ``k`` (but not empty), none
        for an empty one.

    Examples
    --------
    >>> shingle_hashes("开发区经济发展").size, shingle_hashes("开 发").size, shingle_hashes(" ").size
    (3, 1, 0)
    """
    squashed = squash(text)
    if not squashed:
        return np.zeros(0, dtype=np.uint64)
    codes = np.frombuffer(squashed.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    n = max(len(codes) - k + 1, 1)
    width = min(k, len(codes))
    hashes = np.zeros(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for offset in range(width):
            hashes = hashes * _BASE + codes[offset:offset + n]
        hashes = _mix64(hashes + np.uint64(width))
    hashes.sort()
    keep = np.ones(hashes.size, dtype=bool)
    keep[1:] = hashes[1:] != hashes[:-1]
    return hashes[keep]


def hash_similarity(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Jaccard and containment of two sets of shingle hashes.

    Parameters
    ----------
    a, b : numpy.ndarray of uint64
        Sorted distinct hashes, from :func:`shingle_hashes`.

    Returns
    -------
    jaccard : float
        Size of the intersection over the size of the union.
    containment : float
        Size of the intersection over the size of the smaller set. Both are 0.0 when
        either set is empty.

    Examples
    --------
    >>> hash_similarity(shingle_hashes("开发区工作总结报告"), shingle_hashes("开发区工作总结"))
    (0.6, 1.0)
    """
    if a.size == 0 or b.size == 0:
        return 0.0, 0.0
    inter = np.intersect1d(a, b, assume_unique=True).size
    return inter / (a.size + b.size - inter), inter / min(a.size, b.size)


def shingle_similarity(a: str, b: str) -> tuple[float, float]:
    """Jaccard and containment of the character 5-gram shingle sets of two texts.

    Whitespace is removed first. Containment is the share of the smaller set found in
    the larger one.

    Parameters
    ----------
    a, b : str
        The two texts. A text shorter than five characters (but not empty) is one shingle.

    Returns
    -------
    jaccard : float
        Size of the intersection of the two shingle sets over the size of their union.
    containment : float
        Size of the intersection over the size of the smaller set. Both are 0.0 when
        either text is empty (or only whitespace).

    Examples
    --------
    >>> shingle_similarity("开发区工作总结报告", "开发区工作总结报告")
    (1.0, 1.0)
    >>> round(shingle_similarity("开发区工作总结报告", "开发区工作总结")[1], 2)
    1.0
    """
    return hash_similarity(shingle_hashes(a), shingle_hashes(b))
