"""Compact, read-only sequences of per-unit tokens and bags of words.

A corpus of hundreds of megabytes has tens of millions of tokens. As Python lists of strings
and of ``(id, count)`` tuples they take about 90 and 70 bytes each, and several such copies
(tokens, POS tags, filtered tokens, bags of words, the copies pickled to worker processes)
made the peak memory grow much faster than the corpus. Here a corpus is a few flat numpy
arrays instead: one integer per token (an index into a vocabulary of distinct strings) and
one offset per unit, so a token costs 4 bytes, a term count 8, and pickling to a worker
copies only the arrays. Items are rebuilt on access (``tokens[i]`` is a new list each time),
so these behave like the lists they replace wherever the code only reads.

Both classes are built incrementally with a builder, unit by unit or chunk by chunk, so that
no list of all units is ever held while they are made.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, overload

import numpy as np

__all__ = ["PackedBows", "PackedTokens", "TokenPacker", "TokensByUnit"]


class PackedTokens(Sequence[list[str]]):
    """Token lists of units, stored as vocabulary indices.

    Parameters
    ----------
    vocabulary : list of str
        The distinct strings.
    ids : numpy.ndarray of int32 (or uint8 when ``vocabulary`` has at most 256 strings)
        Every unit's tokens in order, as indices into ``vocabulary``.
    offsets : numpy.ndarray of int64
        ``len(units) + 1`` positions: unit ``i`` is ``ids[offsets[i]:offsets[i + 1]]``.

    Examples
    --------
    >>> tokens = PackedTokens.from_lists([["招商", "项目"], [], ["项目"]])
    >>> len(tokens), tokens[0], tokens[2], list(tokens)[1]
    (3, ['招商', '项目'], ['项目'], [])
    >>> tokens == [["招商", "项目"], [], ["项目"]]
    True
    """

    def __init__(self, vocabulary: list[str], ids: np.ndarray, offsets: np.ndarray) -> None:
        self.vocabulary = vocabulary
        self.ids = ids
        self.offsets = offsets

    @classmethod
    def from_lists(cls, token_lists: Iterable[Sequence[str]]) -> PackedTokens:
        """Pack token lists (any iterable; consumed once)."""
        packer = TokenPacker()
        for tokens in token_lists:
            packer.add(tokens)
        return packer.finish()

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @overload
    def __getitem__(self, index: int) -> list[str]: ...
    @overload
    def __getitem__(self, index: slice) -> list[list[str]]: ...
    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        n = len(self)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError("unit index out of range")
        vocabulary = self.vocabulary
        return [vocabulary[i] for i in self.ids[self.offsets[index]:self.offsets[index + 1]].tolist()]

    def __iter__(self) -> Iterator[list[str]]:
        vocabulary = self.vocabulary
        offsets = self.offsets.tolist()
        # a block of units at a time: one ``tolist`` per block rather than per unit
        block = 4096
        for start in range(0, len(offsets) - 1, block):
            stop = min(start + block, len(offsets) - 1)
            ids = self.ids[offsets[start]:offsets[stop]].tolist()
            base = offsets[start]
            for i in range(start, stop):
                yield [vocabulary[j] for j in ids[offsets[i] - base:offsets[i + 1] - base]]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str):
            return len(self) == len(other) and all(list(a) == list(b) for a, b in zip(self, other))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def lengths(self) -> np.ndarray:
        """The number of tokens of every unit."""
        return np.diff(self.offsets)

    def restricted(self, keep: Iterable[str]) -> PackedTokens:
        """The same units with only the tokens in ``keep`` (in order; no copy of the strings).

        Examples
        --------
        >>> PackedTokens.from_lists([["a", "b", "a"], ["c"]]).restricted({"a"})[:]
        [['a', 'a'], []]
        """
        keep = set(keep)
        kept_ids = np.array([i for i, token in enumerate(self.vocabulary) if token in keep], dtype=np.int32)
        mask = np.isin(self.ids, kept_ids)
        # kept tokens per unit, summed unit by unit: a running count over every token would
        # need 8 bytes a token; reduceat over the non-empty units' starts needs none (an
        # empty unit adds nothing to the span of the non-empty unit before it)
        lengths = np.diff(self.offsets)
        nonempty = lengths > 0
        kept = np.zeros(len(lengths), dtype=np.int64)
        if nonempty.any():
            kept[nonempty] = np.add.reduceat(mask, self.offsets[:-1][nonempty], dtype=np.int64)
        offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(kept, out=offsets[1:])
        return PackedTokens(self.vocabulary, self.ids[mask], offsets)

    def __repr__(self) -> str:
        return f"PackedTokens({len(self)} units, {len(self.ids)} tokens, {len(self.vocabulary)} distinct)"


class TokenPacker:
    """Builds a :class:`PackedTokens` one unit at a time.

    Examples
    --------
    >>> packer = TokenPacker()
    >>> packer.add(["a", "b"]); packer.add(["b"])
    >>> packer.finish()[1]
    ['b']
    """

    def __init__(self) -> None:
        self._index: dict[str, int] = {}
        self._vocabulary: list[str] = []
        self._ids = array("i")
        self._offsets = array("q", [0])

    def add(self, tokens: Iterable[str]) -> None:
        """Append one unit's tokens."""
        index, vocabulary, ids = self._index, self._vocabulary, self._ids
        for token in tokens:
            position = index.get(token)
            if position is None:
                position = index[token] = len(vocabulary)
                vocabulary.append(token)
            ids.append(position)
        self._offsets.append(len(ids))

    def finish(self) -> PackedTokens:
        """The packed units added so far."""
        # a closed set such as the POS tags needs one byte a token, not four
        dtype = np.uint8 if len(self._vocabulary) <= 256 else np.int32
        return PackedTokens(
            list(self._vocabulary),
            np.frombuffer(self._ids, dtype=np.int32).astype(dtype) if len(self._ids) else np.zeros(0, dtype=dtype),
            np.frombuffer(self._offsets, dtype=np.int64).copy(),
        )


class PackedBows(Sequence[list[tuple[int, int]]]):
    """Bags of words of units (gensim's ``[(term_id, count), ...]``) as three flat arrays.

    A gensim corpus: iterating yields each unit's bag of words as a fresh list, so
    ``LdaModel`` and ``CoherenceModel`` read it like a list of lists, without it being one.

    Parameters
    ----------
    ids, counts : numpy.ndarray of int32
        Term ids and their counts, unit after unit (4 bytes each: a count in one unit never
        comes near 2**31).
    offsets : numpy.ndarray of int64
        ``len(units) + 1`` positions into ``ids`` and ``counts``.

    Examples
    --------
    >>> bows = PackedBows.from_lists([[(0, 2), (3, 1)], []])
    >>> len(bows), bows[0], bows[1], bows.num_words()
    (2, [(0, 2), (3, 1)], [], 3)
    """

    def __init__(self, ids: np.ndarray, counts: np.ndarray, offsets: np.ndarray) -> None:
        self.ids = ids
        self.counts = counts
        self.offsets = offsets

    @classmethod
    def from_lists(cls, bows: Iterable[Sequence[tuple[int, int]]]) -> PackedBows:
        """Pack bags of words (any iterable; consumed once)."""
        ids, counts, offsets = array("i"), array("i"), array("q", [0])
        for bow in bows:
            for term_id, count in bow:
                ids.append(term_id)
                counts.append(count)
            offsets.append(len(ids))
        return cls(
            np.array(ids, dtype=np.int32), np.array(counts, dtype=np.int32), np.array(offsets, dtype=np.int64)
        )

    @classmethod
    def of(cls, bows: Iterable[Sequence[tuple[int, int]]]) -> PackedBows:
        """``bows`` as a :class:`PackedBows`: returned as it is if it is one, packed otherwise.

        Examples
        --------
        >>> packed = PackedBows.from_lists([[(0, 2)]])
        >>> PackedBows.of(packed) is packed, PackedBows.of([[(0, 2)], []]).offsets.tolist()
        (True, [0, 1, 1])
        """
        return bows if isinstance(bows, PackedBows) else cls.from_lists(bows)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @overload
    def __getitem__(self, index: int) -> list[tuple[int, int]]: ...
    @overload
    def __getitem__(self, index: slice) -> list[list[tuple[int, int]]]: ...
    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        n = len(self)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError("unit index out of range")
        start, stop = self.offsets[index], self.offsets[index + 1]
        return list(zip(self.ids[start:stop].tolist(), self.counts[start:stop].tolist()))

    def slice_units(self, start: int, stop: int) -> PackedBows:
        """Units ``start:stop`` as a :class:`PackedBows` (views of these arrays, no copy).

        Examples
        --------
        >>> PackedBows.from_lists([[(0, 2)], [(1, 1), (2, 1)], []]).slice_units(1, 3)[0]
        [(1, 1), (2, 1)]
        """
        first = self.offsets[start]
        return PackedBows(
            self.ids[first:self.offsets[stop]], self.counts[first:self.offsets[stop]], self.offsets[start:stop + 1] - first
        )

    def token_counts(self) -> np.ndarray:
        """The number of tokens (sum of counts) of every unit."""
        totals = np.concatenate([[0], np.cumsum(self.counts, dtype=np.int64)])
        return totals[self.offsets[1:]] - totals[self.offsets[:-1]]

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        offsets = self.offsets.tolist()
        block = 4096
        for start in range(0, len(offsets) - 1, block):
            stop = min(start + block, len(offsets) - 1)
            ids = self.ids[offsets[start]:offsets[stop]].tolist()
            counts = self.counts[offsets[start]:offsets[stop]].tolist()
            base = offsets[start]
            for i in range(start, stop):
                a, b = offsets[i] - base, offsets[i + 1] - base
                yield list(zip(ids[a:b], counts[a:b]))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str):
            return len(self) == len(other) and all(list(a) == list(b) for a, b in zip(self, other))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def num_words(self) -> int:
        """The total count of all terms of all units."""
        return int(self.counts.sum(dtype=np.int64))

    def __repr__(self) -> str:
        return f"PackedBows({len(self)} units, {len(self.ids)} distinct terms by unit)"


class TokensByUnit(Mapping[str, list[str]]):
    """Read-only mapping of unit id to its tokens, over :class:`PackedTokens` (no dict of lists).

    Examples
    --------
    >>> tokens = TokensByUnit(["u1", "u2"], PackedTokens.from_lists([["招商"], []]))
    >>> tokens["u1"], len(tokens), dict(tokens)
    (['招商'], 2, {'u1': ['招商'], 'u2': []})
    """

    def __init__(self, unit_ids: Sequence[str], tokens: PackedTokens) -> None:
        if len(unit_ids) != len(tokens):
            raise ValueError(f"{len(unit_ids)} unit ids for {len(tokens)} token lists")
        self._position = {unit_id: index for index, unit_id in enumerate(unit_ids)}
        self.tokens = tokens

    def __getitem__(self, unit_id: str) -> list[str]:
        return self.tokens[self._position[unit_id]]

    def __iter__(self) -> Iterator[str]:
        return iter(self._position)

    def __len__(self) -> int:
        return len(self._position)
