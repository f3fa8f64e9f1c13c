"""Word segmentation and POS tagging over jieba: a faster ``jieba.posseg``, and jieba-rs.

Each segmenter works on a ``jieba.Tokenizer`` instance of its own, never through jieba's
module-level functions (which change the jieba module's own tokenizer), with the
user-dictionary entries added, and is memoised on those entries. ``_FastPosseg`` gives
exactly ``jieba.posseg``'s (word, tag) pairs, six to eight times faster; ``_RJieba`` is the
Rust port (``tokenize.backend: rjieba``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from policytopics.token_resources import DictionaryEntry, ResourceError

__all__ = ["build_pos_tokenizer", "build_rjieba", "build_segmenter", "forget_memos"]


@lru_cache(maxsize=4)
def build_pos_tokenizer(entries: tuple[DictionaryEntry, ...], cache_dir: str) -> Any:
    """A ``jieba.posseg.POSTokenizer`` over a ``jieba.Tokenizer`` of our own with ``entries`` added.

    Memoised on the exact entries: loading jieba's prefix dictionary takes about a second,
    and the built tokenizer is never modified afterwards, so Tokenizers with the same
    dictionaries (several configs in a notebook, a test suite) can share it.

    Parameters
    ----------
    entries : tuple of DictionaryEntry
        User-dictionary words, added in order (a later entry overrides an earlier one).
    cache_dir : str
        Folder for jieba's prefix-dictionary cache (``jieba.cache``), created if missing.

    Returns
    -------
    jieba.posseg.POSTokenizer
        Not loaded yet: jieba loads its dictionary on first use.

    Examples
    --------
    >>> import tempfile
    >>> entry = DictionaryEntry("招大引强", 1000, "nz")
    >>> posseg = build_pos_tokenizer((entry,), tempfile.mkdtemp())
    >>> [(pair.word, pair.flag) for pair in posseg.cut("招大引强")]
    [('招大引强', 'nz')]
    """
    import jieba
    import jieba.posseg

    logging.getLogger("jieba").setLevel(logging.WARNING)  # jieba logs every load at INFO
    Path(cache_dir).mkdir(parents=True, exist_ok=True)
    base = jieba.Tokenizer()
    base.tmp_dir = cache_dir
    base.cache_file = "jieba.cache"  # a name relative to tmp_dir
    for entry in entries:
        base.add_word(entry.word, entry.freq, entry.tag)
    return jieba.posseg.POSTokenizer(base)


@lru_cache(maxsize=4)
def build_segmenter(entries: tuple[DictionaryEntry, ...], cache_dir: str) -> _FastPosseg:
    """The fast segmenter over the memoised POS tokenizer of ``entries`` (memoised likewise).

    Parameters
    ----------
    entries, cache_dir
        As :func:`build_pos_tokenizer`.

    Returns
    -------
    _FastPosseg
        Its ``cut(text, hmm)`` gives the (word, tag) pairs of ``jieba.posseg``.

    Examples
    --------
    >>> import tempfile
    >>> segmenter = build_segmenter((DictionaryEntry("招大引强", 1000, "nz"),), tempfile.mkdtemp())
    >>> segmenter.cut("坚持招大引强")
    [('坚持', 'v'), ('招大引强', 'nz')]
    """
    return _FastPosseg(build_pos_tokenizer(entries, cache_dir))


class _RJieba:
    """The jieba-rs segmenter (``rjieba``) with our dictionary entries added.

    A dictionary entry without a tag keeps the tag the word already has (as in jieba),
    or ``x``.
    """

    def __init__(self, entries: Sequence[DictionaryEntry]):
        try:
            import rjieba
        except ImportError:  # pragma: no cover - rjieba is a dependency
            raise ResourceError("tokenize.backend: rjieba needs the rjieba package (pip install rjieba)") from None
        self._jieba = rjieba.Jieba()
        for entry in entries:
            tag = entry.tag
            if tag is None:
                current = self._jieba.tag(entry.word, False)
                tag = current[0][1] if len(current) == 1 and current[0][0] == entry.word and current[0][1] else "x"
            self._jieba.add_word(entry.word, entry.freq, tag)

    def cut(self, text: str, hmm: bool = True) -> list[tuple[str, str]]:
        return self._jieba.tag(text, hmm)


@lru_cache(maxsize=4)
def build_rjieba(entries: tuple[DictionaryEntry, ...]) -> _RJieba:
    """The jieba-rs segmenter with ``entries`` added (memoised on them).

    Parameters
    ----------
    entries : tuple of DictionaryEntry
        User-dictionary words, added in order.

    Returns
    -------
    _RJieba
        Its ``cut(text, hmm)`` gives jieba-rs's (word, tag) pairs.

    Raises
    ------
    ResourceError
        If the ``rjieba`` package is not installed.

    Examples
    --------
    >>> build_rjieba((DictionaryEntry("招大引强", 1000, "nz"),)).cut("招大引强")
    [('招大引强', 'nz')]
    """
    return _RJieba(entries)


def forget_memos() -> None:
    """Drop the memoised segmenters and HMM tables (not jieba's loaded dictionaries).

    The fast path remembers what it worked out (log-probabilities of words, the HMM's
    answer for each unknown span); a benchmark of a cold run calls this first, and
    builds a new ``Tokenizer`` (whose own memo of filter decisions then starts empty).

    Returns
    -------
    None
        The memos are rebuilt on next use; results do not change, only the time taken.

    Examples
    --------
    >>> forget_memos()
    """
    build_segmenter.cache_clear()
    build_rjieba.cache_clear()
    _PosHmm._instance = None


# -- the fast path: jieba.posseg's algorithm, re-implemented ---------------------------------


class _PosHmm:
    """jieba.posseg's character-state HMM, indexed for a faster but identical Viterbi.

    The tables are jieba's own (``jieba.posseg.char_state_tab``, ``prob_start``, ``prob_trans``,
    ``prob_emit``); ``predecessors`` inverts ``prob_trans`` so that each state looks only at
    the previous states that can reach it, instead of at all of them.
    """

    _instance: _PosHmm | None = None

    def __init__(self, tables: tuple[dict, dict, dict, dict] | None = None) -> None:
        """jieba's tables, or ``tables`` = (char_state_tab, start, trans, emit) of another model."""
        import jieba.posseg as posseg

        if tables is None:
            tables = (posseg.char_state_tab_P, posseg.start_P, posseg.trans_P, posseg.emit_P)
        self.states, self.start, self.trans, self.emit = tables
        self.all_states = self.trans.keys()
        predecessors: dict[Any, dict[Any, float]] = {}
        for before, row in self.trans.items():
            for after, prob in row.items():
                predecessors.setdefault(after, {})[before] = prob
        self.predecessors = predecessors
        self.best_incoming = {y: max(row.values()) for y, row in predecessors.items()}
        self.reference = posseg.viterbi
        self._rows: dict[str, tuple[tuple[Any, dict[Any, float], float, float], ...]] = {}
        self._first: dict[str, dict[Any, float]] = {}  # the scores of a span's first character

    @classmethod
    def get(cls) -> _PosHmm:
        if cls._instance is None:
            cls._instance = cls()
        return cls._instance

    def rows(self, char: str) -> tuple[tuple[Any, dict[Any, float], float, float], ...]:
        """The states ``char`` may take that some state leads to, each with its predecessors
        (and their transition log-probabilities), its emission of ``char`` and its best
        incoming transition."""
        rows = self._rows.get(char)
        if rows is None:
            rows = self._rows[char] = tuple(
                (y, self.predecessors[y], self.emit[y].get(char, _MIN_FLOAT), self.best_incoming[y])
                for y in self.states.get(char, self.all_states)
                if self.predecessors.get(y)
            )
        return rows

    def viterbi(self, obs: str) -> list[Any]:
        """The most likely state sequence of ``obs``, exactly as ``jieba.posseg.viterbi``.

        jieba scores every (previous state, state) pair of the states allowed for two
        consecutive characters; a pair without a transition scores minus infinity and can
        only win when every pair does, in which case jieba's ``max`` over ``(score, state)``
        tuples returns the largest previous state. Scanning only the pairs with a transition
        and applying that rule gives the same states; the sums are formed in jieba's order,
        ``(V + trans) + emit``, so every float is the same, and ties go to the larger
        previous state as in jieba. The one case this loop does not cover (no allowed state
        reachable at all) is handed to jieba's own function.
        """
        states, emit, trans = self.states, self.emit, self.trans
        first = self._first.get(obs[0])
        if first is None:
            first = self._first[obs[0]] = {
                y: self.start[y] + emit[y].get(obs[0], _MIN_FLOAT) for y in states.get(obs[0], self.all_states)
            }
        scores = first
        backs = []
        for char in obs[1:]:
            # previous states by score, best first: once even the best transition into y
            # cannot reach the best sum found, no later (lower) state can, so the scan stops
            # (exact: rounding is monotonic, and a strictly lower sum cannot tie)
            ordered = sorted(scores.items(), key=_second, reverse=True)
            new_scores = {}
            back = {}
            for y, incoming, e, t_max in self.rows(char):
                best = best_state = None
                if len(incoming) <= 4:  # inside a word (M, E): one or two predecessors
                    for y0, t in incoming.items():
                        v = scores.get(y0)
                        if v is not None:
                            p = v + t + e
                            if best is None or p > best or (p == best and y0 > best_state):
                                best, best_state = p, y0
                else:  # a word starts (B, S): any word end may precede
                    for y0, v in ordered:
                        if best is not None and v + t_max + e < best:
                            break
                        t = incoming.get(y0)
                        if t is not None:
                            p = v + t + e
                            if best is None or p > best or (p == best and y0 > best_state):
                                best, best_state = p, y0
                if best is None:
                    continue  # no previous state leads to y: jieba leaves it out too
                if best == _NEG_INF:  # every pair scores -inf: jieba's max takes the largest state
                    best_state = max(y0 for y0 in scores if trans[y0])
                new_scores[y] = best
                back[y] = best_state
            if not new_scores:
                return self.reference(obs, states, self.start, trans, emit)[1]
            scores = new_scores
            backs.append(back)
        _, state = max((v, y) for y, v in scores.items())
        route = [state]
        for back in reversed(backs):
            state = back[state]
            route.append(state)
        route.reverse()
        return route


_MIN_FLOAT = -3.14e100  # jieba.posseg.viterbi.MIN_FLOAT: the log-probability of an unseen emission
_NEG_INF = float("-inf")
_NOT_A_PREFIX = object()


def _second(item: tuple[Any, float]) -> float:
    return item[1]


class _FastPosseg:
    """``jieba.posseg.POSTokenizer.cut`` over one ``jieba.Tokenizer``, six to eight times faster.

    The same algorithm step by step, so the (word, tag) pairs are identical
    (``tests/test_tokenize.py`` checks it against ``jieba.posseg`` on the seed speeches):

    * text is split into runs of Han, Latin, digits and ``+#&._`` (posseg's own pattern,
      which differs from plain ``jieba.cut``'s) and the characters between them;
    * each run is segmented over the prefix dictionary with jieba's DAG and maximum-
      probability route, computed in one backward pass with each word's log-probability
      looked up once (jieba builds the DAG, then calls ``log`` for every edge of every call);
      ties go to the longer word, as in jieba;
    * a dictionary word takes its tag from the dictionary's tag table (jieba's dict.txt
      plus our dictionaries), ``x`` when it has none;
    * runs of single characters that are not a word together (the unknown spans) go to
      posseg's HMM, which segments and tags them jointly; its Viterbi is
      ``_PosHmm.viterbi`` and its output for a span is memoised (the same short spans
      recur: 如, 的新, 推进了 ...).

    The tokenizer must not be modified after this is built (ours never is).
    """

    def __init__(self, pos_tokenizer: Any):
        import jieba.posseg as posseg

        pos_tokenizer.makesure_userdict_loaded()  # what posseg does at every call
        base = pos_tokenizer.tokenizer
        base.check_initialized()
        self._freq: dict[str, int] = base.FREQ
        self._log_total = math.log(base.total)
        self._tags: dict[str, str] = pos_tokenizer.word_tag_tab
        self._log_prob: dict[str, float | None] = {}  # word: log(freq / total); a mere prefix: None
        self._spans: dict[str, list[tuple[str, str]]] = {}
        self._hmm = _PosHmm.get()
        self._re_block = posseg.re_han_internal
        self._re_skip = posseg.re_skip_internal
        self._re_han = posseg.re_han_detail
        self._re_skip_detail = posseg.re_skip_detail
        self._re_num = posseg.re_num
        self._re_eng = posseg.re_eng
        self._re_eng1 = posseg.re_eng1

    def cut(self, text: str, hmm: bool = True) -> list[tuple[str, str]]:
        """Every (word, tag) of ``text``: ``list(POSTokenizer.cut(text, HMM=hmm))`` as pairs."""
        out: list[tuple[str, str]] = []
        append = out.append
        cut_block = self._cut_block if hmm else self._cut_block_no_hmm
        re_skip, re_num, re_eng = self._re_skip, self._re_num, self._re_eng
        # re.split with one group alternates: text between runs (even), a run (odd).
        for index, block in enumerate(self._re_block.split(text)):
            if index % 2:
                cut_block(block, out)
            elif block:
                for x in re_skip.split(block):
                    if re_skip.match(x):
                        append((x, "x"))
                    else:
                        for xx in x:
                            if re_num.match(xx):
                                append((xx, "m"))
                            elif re_eng.match(x):
                                append((xx, "eng"))
                            else:
                                append((xx, "x"))
        return out

    def _route(self, sentence: str) -> list[int]:
        """For each position, the last index of the word that starts there on the best route.

        jieba's ``get_DAG`` + ``calc``: the score of a word is ``log(freq) - log(total)``
        plus the score of the rest; the largest wins, ties to the larger end.
        """
        freq, log_prob, log_total = self._freq, self._log_prob, self._log_total
        n = len(sentence)
        score = [0.0] * (n + 1)
        ends = [0] * n
        for k in range(n - 1, -1, -1):
            best = None
            best_end = k
            i = k
            fragment = sentence[k]
            while True:
                lp = log_prob.get(fragment, _NOT_A_PREFIX)
                if lp is _NOT_A_PREFIX:
                    if fragment not in freq:
                        break
                    count = freq[fragment]
                    lp = log_prob[fragment] = math.log(count) - log_total if count else None
                if lp is not None:
                    value = lp + score[i + 1]
                    if best is None or value >= best:
                        best, best_end = value, i
                i += 1
                if i >= n:
                    break
                fragment = sentence[k:i + 1]
            if best is None:  # no word starts here: the character alone, frequency 0 -> log(1)
                best = (0.0 - log_total) + score[k + 1]
            score[k] = best
            ends[k] = best_end
        return ends

    def _cut_block(self, block: str, out: list[tuple[str, str]]) -> None:
        ends = self._route(block)
        tags = self._tags
        n = len(block)
        x = 0
        start = -1  # start of the pending run of single characters
        while x < n:
            y = ends[x] + 1
            if y - x == 1:
                if start < 0:
                    start = x
            else:
                if start >= 0:
                    self._flush(block[start:x], out)
                    start = -1
                word = block[x:y]
                out.append((word, tags.get(word, "x")))
            x = y
        if start >= 0:
            self._flush(block[start:], out)

    def _flush(self, run: str, out: list[tuple[str, str]]) -> None:
        """A run of single characters: a tagged character, an unknown span, or known characters."""
        tags = self._tags
        if len(run) == 1:
            out.append((run, tags.get(run, "x")))
        elif not self._freq.get(run):
            pairs = self._spans.get(run)
            if pairs is None:
                if len(self._spans) >= 200_000:
                    self._spans.clear()
                pairs = self._spans[run] = self._cut_unknown(run)
            out.extend(pairs)
        else:
            out.extend((char, tags.get(char, "x")) for char in run)

    def _cut_unknown(self, run: str) -> list[tuple[str, str]]:
        """posseg's ``__cut_detail``: Han stretches through the HMM, the rest by character class."""
        pairs: list[tuple[str, str]] = []
        re_han = self._re_han
        for block in re_han.split(run):
            if re_han.match(block):
                pairs.extend(self._cut_hmm(block))
            else:
                for x in self._re_skip_detail.split(block):
                    if x:
                        if self._re_num.match(x):
                            pairs.append((x, "m"))
                        elif self._re_eng.match(x):
                            pairs.append((x, "eng"))
                        else:
                            pairs.append((x, "x"))
        return pairs

    def _cut_hmm(self, sentence: str) -> list[tuple[str, str]]:
        """posseg's ``__cut``: words and tags from the Viterbi states (B, M, E, S; tag)."""
        route = self._hmm.viterbi(sentence)
        pairs = []
        begin = next_index = 0
        for i, char in enumerate(sentence):
            position, tag = route[i]
            if position == "B":
                begin = i
            elif position == "E":
                pairs.append((sentence[begin:i + 1], tag))
                next_index = i + 1
            elif position == "S":
                pairs.append((char, tag))
                next_index = i + 1
        if next_index < len(sentence):
            pairs.append((sentence[next_index:], route[next_index][1]))
        return pairs

    def _cut_block_no_hmm(self, block: str, out: list[tuple[str, str]]) -> None:
        """posseg's ``__cut_DAG_NO_HMM``: dictionary words, runs of Latin letters and digits as eng."""
        ends = self._route(block)
        tags, re_eng1 = self._tags, self._re_eng1
        n = len(block)
        x = 0
        buffer = ""
        while x < n:
            y = ends[x] + 1
            word = block[x:y]
            if re_eng1.match(word):
                buffer += word
            else:
                if buffer:
                    out.append((buffer, "eng"))
                    buffer = ""
                out.append((word, tags.get(word, "x")))
            x = y
        if buffer:
            out.append((buffer, "eng"))

