"""Tokenisation: unit texts to filtered tokens, with a domain dictionary, stopwords and a cache.

In: ``Unit`` records and the ``tokenize`` section of the config. Out: one token list per
unit (same order), the (token, POS) pairs behind them, and cache statistics.

How a text becomes tokens (``Tokenizer.explain`` shows every decision):

1. segmentation and POS tagging as by jieba's ``posseg`` over a ``jieba.Tokenizer`` instance
   of our own (never the module-level functions, which change global state), with the
   development-zone dictionary (``resources/devzone_dict.txt``) and any user dictionaries
   added to it; jieba's prefix-dictionary cache lives in the project's cache folder.
   ``posseg`` itself is slow (about 60 thousand characters a second): three quarters of its
   time goes to its HMM on the short spans of characters that are not dictionary words.
   ``_FastPosseg`` runs the same algorithm on the same dictionary and tables, with each
   word's log-probability computed once, an exact Viterbi that scans only the state pairs
   that have a transition (and stops once no lower-scoring state can win), and the HMM's
   answer for every unknown span remembered; it gives exactly posseg's (word, tag) pairs,
   six to eight times faster (``tests/test_tokenize.py`` checks the pairs against posseg on
   the seed speeches). ``tokenize.backend: rjieba`` uses the Rust port jieba-rs instead,
   faster again but not identical (see ``TokenizeConfig.backend``);
2. Latin letters are lower-cased (``GDP`` and ``gdp`` are one token);
3. a token is dropped when it is punctuation or whitespace, a number, quantity, date or
   placeholder (unless ``keep_numbers``), shorter than ``min_chars``, a stopword, or of a
   POS tag outside ``keep_pos`` (dictionary terms are kept whatever their tag when
   ``keep_dictionary_terms``).

Whether a (word, tag) pair is kept depends on nothing else, so the decision is memoised per
pair. Large corpora are tokenised in worker processes (``tokenize.workers``), forked after
the parent has loaded jieba so that they share its dictionaries; the tokens do not depend on
the number of processes.

Tokens of each unit are cached on disk (SQLite, one row per unit text) under a key made of
the unit text and a fingerprint of everything that affects tokens: jieba's version, the
contents of every dictionary and stopword file, and the token settings. A rerun that only
changes model settings therefore tokenises nothing, and a changed dictionary invalidates
every unit (the fingerprint changes) but nothing else in the cache is touched.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from policytopics.config import PhrasesConfig, TokenizeConfig
from policytopics.errors import PolicytopicsError
from policytopics.workers import ForkedPool

if TYPE_CHECKING:  # pragma: no cover
    from policytopics.packed import PackedTokens

logger = logging.getLogger("policytopics")

RESOURCES = Path(__file__).parent / "resources"
DEFAULT_DICTIONARY = RESOURCES / "devzone_dict.txt"
DEFAULT_STOPWORD_FILES = (RESOURCES / "stopwords_general.txt", RESOURCES / "stopwords_speech.txt")

#: Bump when the filtering code changes in a way that changes tokens (invalidates caches).
TOKEN_RULES_VERSION = 1

_DICT_LINE_RE = re.compile(r"^(?P<word>\S+)(?:\s+(?P<freq>\d+))?(?:\s+(?P<tag>[A-Za-z]+))?$")
_HAN_OR_ALNUM_RE = re.compile(r"[\w\u4e00-\u9fff]")
_LATIN_RE = re.compile(r"[A-Za-z]")
# Numbers and quantities: "2023", "3.5%", "1-6", "3亿元", "100万平方米", "20XX年", "6月".
_NUMBER_RE = re.compile(
    r"^(?:[+\-−]?\d+(?:[.,:/\-~]\d+)*[%‰]?"
    r"|\d+(?:\.\d+)?[多余]?[十百千万亿]*[\u4e00-\u9fff]{0,4}"
    r"|20xx[\u4e00-\u9fff]?|x{2,4}[年月日]?"
    r"|[零一二两三四五六七八九十百千万亿]+[年月日号个项条次家批届位名]"
    r"|第[零一二两三四五六七八九十百千\d]+[\u4e00-\u9fff]?)$"
)


class ResourceError(PolicytopicsError):
    """A dictionary or stopword file that cannot be read or parsed."""


@dataclass(frozen=True)
class DictionaryEntry:
    """One user-dictionary word: frequency and POS tag as written (``None`` when absent)."""

    word: str
    freq: int | None
    tag: str | None


@dataclass(frozen=True)
class TokenDecision:
    """What happened to one segmented word: kept, or dropped and why."""

    word: str
    pos: str
    kept: bool
    reason: str


def read_dictionary(path: str | Path) -> list[DictionaryEntry]:
    """Parse a jieba user-dictionary file that may hold ``#`` comments and blank lines.

    Each other line is ``word [freq] [pos]``.

    Parameters
    ----------
    path : str or Path
        The dictionary file (UTF-8, a byte-order mark allowed).

    Returns
    -------
    list of DictionaryEntry
        One entry per word line, in file order; ``freq`` and ``tag`` are ``None`` where the
        line leaves them out.

    Raises
    ------
    ResourceError
        If the file cannot be read or a line is not ``word [freq] [pos]`` (the message
        gives the line number).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "d.txt"
    >>> _ = path.write_text("# zone bodies\\n党工委 20 nt\\n招大引强\\n", encoding="utf-8")
    >>> read_dictionary(path)
    [DictionaryEntry(word='党工委', freq=20, tag='nt'), DictionaryEntry(word='招大引强', freq=None, tag=None)]
    """
    entries = []
    for number, line in _content_lines(path):
        match = _DICT_LINE_RE.match(line)
        if not match:
            raise ResourceError(f"{path}:{number}: expected 'word [freq] [pos]', got {line!r}")
        freq = int(match["freq"]) if match["freq"] else None
        entries.append(DictionaryEntry(match["word"], freq, match["tag"]))
    return entries


def read_stopwords(path: str | Path) -> set[str]:
    """Read a stopword file: one word a line, ``#`` comments and blank lines ignored.

    Parameters
    ----------
    path : str or Path
        The stopword file (UTF-8, a byte-order mark allowed).

    Returns
    -------
    set of str
        The words, each stripped of surrounding whitespace.

    Raises
    ------
    ResourceError
        If the file cannot be read.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "stop.txt"
    >>> _ = path.write_text("# speech fillers\\n同志们\\n\\n我们\\n", encoding="utf-8")
    >>> sorted(read_stopwords(path))
    ['同志们', '我们']
    """
    return {line for _, line in _content_lines(path)}


def _content_lines(path: str | Path) -> Iterable[tuple[int, str]]:
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise ResourceError(f"{path}: cannot read ({error})") from None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line and not line.startswith("#"):
            yield number, line


def _file_sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


class Tokenizer:
    """Segment, tag and filter Chinese text under one ``TokenizeConfig``.

    The jieba instance and resources are loaded on first use, so constructing a
    ``Tokenizer`` is cheap; the object is picklable (worker processes rebuild it).

    Parameters
    ----------
    config : TokenizeConfig
        Dictionary, stopword and filter settings.
    cache_dir : path, default ".cache"
        Folder for jieba's prefix-dictionary cache.
    reference : bool, default False
        Segment with ``jieba.posseg`` itself, the slow path that the default one reproduces
        pair for pair (for tests and benchmarks; the tokens are the same).

    Examples
    --------
    >>> from policytopics.config import TokenizeConfig
    >>> tokenizer = Tokenizer(TokenizeConfig())
    >>> tokenizer.tokenize("党工委坚持招大引强，优化营商环境")  # doctest: +SKIP
    ['党工委', '招大引强', '营商环境']
    """

    def __init__(self, config: TokenizeConfig, cache_dir: str | Path = ".cache", *, reference: bool = False):
        self.config = config
        self.cache_dir = Path(cache_dir)
        self.reference = reference

    def __getstate__(self) -> dict[str, Any]:
        return {"config": self.config, "cache_dir": self.cache_dir, "reference": self.reference}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    # -- resources ------------------------------------------------------------------------

    @cached_property
    def dictionary_files(self) -> list[Path]:
        """User dictionaries in load order (the default first, when enabled)."""
        files = [DEFAULT_DICTIONARY] if self.config.default_dictionary else []
        return files + _existing_files(self.config.dictionaries, "tokenize.dictionaries")

    @cached_property
    def stopword_files(self) -> list[Path]:
        """Stopword files in load order (the defaults first, when enabled)."""
        files = list(DEFAULT_STOPWORD_FILES) if self.config.default_stopwords else []
        return files + _existing_files(self.config.stopword_files, "tokenize.stopword_files")

    @cached_property
    def dictionary_entries(self) -> list[DictionaryEntry]:
        """Every user-dictionary entry, later files overriding earlier ones."""
        return [entry for path in self.dictionary_files for entry in read_dictionary(path)]

    @cached_property
    def dictionary_terms(self) -> frozenset[str]:
        """The words of the user dictionaries (lower-cased like the tokens)."""
        return frozenset(entry.word.lower() for entry in self.dictionary_entries)

    @cached_property
    def stopwords(self) -> frozenset[str]:
        """Every stopword, from the files and from the config."""
        words: set[str] = set()
        for path in self.stopword_files:
            words |= read_stopwords(path)
        words |= set(self.config.stopwords)
        return frozenset(word.lower() for word in words)

    @cached_property
    def fingerprint(self) -> str:
        """Hash of everything that affects tokens; part of every cache key."""
        settings = self.config.model_dump(mode="json", exclude={"workers", "phrases"})
        settings.pop("dictionaries"), settings.pop("stopword_files")
        if settings["backend"] == "jieba":
            del settings["backend"]  # jieba's tokens, as before the option existed: caches stay valid
        payload = {
            "jieba": _version("jieba"),
            "rules": TOKEN_RULES_VERSION,
            "settings": settings,
            "dictionaries": [_file_sha256(p) for p in self.dictionary_files],
            "stopwords": [_file_sha256(p) for p in self.stopword_files],
        }
        if self.config.backend == "rjieba":
            payload["rjieba"] = _version("rjieba")
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()

    @cached_property
    def _pos_tokenizer(self) -> Any:
        return _build_pos_tokenizer(tuple(self.dictionary_entries), str(self.cache_dir))

    @cached_property
    def _segmenter(self) -> Any:
        if self.config.backend == "rjieba":
            return _build_rjieba(tuple(self.dictionary_entries))
        return _build_segmenter(tuple(self.dictionary_entries), str(self.cache_dir))

    @cached_property
    def _kept(self) -> dict[tuple[str, str], tuple[str, str] | None]:
        """Memo of ``decide`` for ``tokenize_with_pos``: (word, tag) -> kept pair, or None."""
        return {}

    def load(self) -> Tokenizer:
        """Load jieba and the dictionaries now (else on first use); returns self.

        Worker processes forked after this share the loaded dictionaries instead of
        loading their own.
        """
        if self.reference and self.config.backend == "jieba":
            self._pos_tokenizer.makesure_userdict_loaded()
        else:
            self._segmenter  # noqa: B018 (a cached property)
        self.stopwords, self.dictionary_terms  # noqa: B018
        return self

    # -- tokenisation ---------------------------------------------------------------------

    def segment(self, text: str) -> list[tuple[str, str]]:
        """Every word jieba finds in ``text`` with its POS tag, before any filtering.

        With ``backend: jieba`` the same pairs as ``jieba.posseg`` over our jieba instance,
        by a faster route (``_FastPosseg``; ``Tokenizer(..., reference=True)`` takes
        jieba's own); with ``backend: rjieba`` jieba-rs's ``tag``.
        """
        if self.reference and self.config.backend == "jieba":
            return [(pair.word, pair.flag) for pair in self._pos_tokenizer.cut(text, HMM=self.config.hmm)]
        return self._segmenter.cut(text, self.config.hmm)

    def decide(self, word: str, pos: str) -> TokenDecision:
        """Keep or drop one segmented word, with the reason."""
        token = word.strip().lower() if _LATIN_RE.search(word) else word.strip()
        config = self.config
        if not token or not _HAN_OR_ALNUM_RE.search(token):
            return TokenDecision(token, pos, False, "punctuation")
        if not config.keep_numbers and (pos == "m" or _NUMBER_RE.match(token)) and token not in self.dictionary_terms:
            return TokenDecision(token, pos, False, "number")
        if len(token) < config.min_chars:
            return TokenDecision(token, pos, False, "short")
        if token in self.stopwords:
            return TokenDecision(token, pos, False, "stopword")
        if config.keep_dictionary_terms and token in self.dictionary_terms:
            return TokenDecision(token, pos, True, "dictionary")
        if config.keep_pos and pos not in config.keep_pos:
            return TokenDecision(token, pos, False, f"pos {pos}")
        return TokenDecision(token, pos, True, f"pos {pos}")

    def explain(self, text: str) -> list[TokenDecision]:
        """The decision on every word of ``text``: what ``python -m policytopics tokens`` prints."""
        return [self.decide(word, pos) for word, pos in self.segment(text)]

    def tokenize_with_pos(self, text: str) -> list[tuple[str, str]]:
        """The kept (token, POS) pairs of ``text``.

        ``decide`` depends only on the (word, tag) pair, so its outcome is memoised per pair.
        """
        if self.reference:
            return [(d.word, d.pos) for d in self.explain(text) if d.kept]
        kept = self._kept
        out = []
        for pair in self.segment(text):
            try:
                result = kept[pair]
            except KeyError:
                if len(kept) >= 500_000:
                    kept.clear()
                decision = self.decide(*pair)
                result = kept[pair] = (decision.word, decision.pos) if decision.kept else None
            if result is not None:
                out.append(result)
        return out

    def tokenize(self, text: str) -> list[str]:
        """The kept tokens of ``text``, in reading order.

        Examples
        --------
        >>> from policytopics.config import TokenizeConfig
        >>> Tokenizer(TokenizeConfig()).tokenize("同志们，2023年完成固定资产投资3亿元")  # doctest: +SKIP
        ['固定资产投资']
        """
        return [token for token, _ in self.tokenize_with_pos(text)]


def format_decisions(decisions: Sequence[TokenDecision]) -> str:
    """A table of token decisions and a last line with the kept tokens, for the terminal.

    Parameters
    ----------
    decisions : sequence of TokenDecision
        What happened to each segmented word, in text order (e.g. from
        ``Tokenizer.explain``). Whitespace-only words get no row.

    Returns
    -------
    str
        Columns ``word``, ``pos`` and ``decision`` aligned by display width (a CJK
        character counts two), a blank line, then ``tokens:`` and the kept words.

    Examples
    --------
    >>> print(format_decisions([TokenDecision("党工委", "nt", True, "dictionary"),
    ...                         TokenDecision("的", "uj", False, "short")]))
    word    pos  decision
    党工委  nt   kept (dictionary)
    的      uj   dropped: short
    <BLANKLINE>
    tokens: 党工委
    """
    rows = [("word", "pos", "decision")]
    for d in decisions:
        if d.word.strip():
            rows.append((d.word, d.pos, f"kept ({d.reason})" if d.kept else f"dropped: {d.reason}"))
    width = [max(_display_width(row[i]) for row in rows) for i in range(2)]
    lines = [
        f"{word}{' ' * (width[0] - _display_width(word) + 2)}{pos}{' ' * (width[1] - len(pos) + 2)}{what}"
        for word, pos, what in rows
    ]
    kept = " ".join(d.word for d in decisions if d.kept)
    return "\n".join(lines) + f"\n\ntokens: {kept}"


def _display_width(text: str) -> int:
    """Terminal columns of ``text``: CJK characters take two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _existing_files(paths: Iterable[str], setting: str) -> list[Path]:
    """``paths`` as Paths, or a ResourceError naming the setting and the missing file."""
    files = [Path(p) for p in paths]
    for path in files:
        if not path.is_file():
            raise ResourceError(f"{setting}: file not found: {path}")
    return files


@lru_cache(maxsize=4)
def _build_pos_tokenizer(entries: tuple[DictionaryEntry, ...], cache_dir: str) -> Any:
    """A jieba POS tokenizer of our own with ``entries`` added.

    Memoised on the exact entries: loading jieba's prefix dictionary takes about a second,
    and the built tokenizer is never modified afterwards, so Tokenizers with the same
    dictionaries (several configs in a notebook, a test suite) can share it.
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
def _build_segmenter(entries: tuple[DictionaryEntry, ...], cache_dir: str) -> _FastPosseg:
    """The fast segmenter over the memoised POS tokenizer of ``entries`` (shared likewise)."""
    return _FastPosseg(_build_pos_tokenizer(entries, cache_dir))


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
def _build_rjieba(entries: tuple[DictionaryEntry, ...]) -> _RJieba:
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
    _build_segmenter.cache_clear()
    _build_rjieba.cache_clear()
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


def _version(package: str) -> str:
    try:
        return importlib_metadata.version(package)
    except importlib_metadata.PackageNotFoundError:
        return "unknown"


# -- cache ----------------------------------------------------------------------------------


class TokenCache:
    """Tokens of unit texts on disk, keyed by (tokenizer fingerprint, text).

    One SQLite file (``<cache_dir>/tokens.sqlite``); each row carries a checksum of its
    payload, and a row whose payload does not match it (a truncated or corrupt entry) is
    treated as a miss and rewritten. Only the parent process reads and writes it.
    """

    def __init__(self, cache_dir: str | Path):
        self.path = Path(cache_dir) / "tokens.sqlite"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS tokens (key TEXT PRIMARY KEY, payload TEXT, checksum TEXT)"
        )

    @staticmethod
    def key(fingerprint: str, text: str) -> str:
        """The cache key of ``text`` under a tokenizer fingerprint."""
        return hashlib.sha256(f"{fingerprint}\0{text}".encode()).hexdigest()

    def get_many(self, keys: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
        """The cached (token, POS) pairs of every key found intact."""
        found: dict[str, list[tuple[str, str]]] = {}
        for start in range(0, len(keys), 500):
            chunk = list(keys[start:start + 500])
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT key, payload, checksum FROM tokens WHERE key IN ({marks})", chunk
            )
            for key, payload, checksum in rows:
                if hashlib.sha256(payload.encode()).hexdigest() != checksum:
                    logger.warning("token cache: entry %s is corrupt; it will be rebuilt", key[:12])
                    continue
                found[key] = [tuple(pair) for pair in json.loads(payload)]
        return found

    def put_many(self, items: dict[str, list[tuple[str, str]]]) -> None:
        """Store (token, POS) pairs under their keys."""
        rows = []
        for key, pairs in items.items():
            payload = json.dumps(pairs, ensure_ascii=False)
            rows.append((key, payload, hashlib.sha256(payload.encode()).hexdigest()))
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO tokens VALUES (?, ?, ?)", rows)

    def close(self) -> None:
        """Close the database."""
        self._db.close()


# -- corpus ---------------------------------------------------------------------------------


@dataclass
class TokenizedCorpus:
    """Tokens of a list of texts, aligned with it.

    Attributes
    ----------
    tokens : PackedTokens
        Kept tokens per text (a read-only sequence of lists of str), phrases joined when
        collocations are enabled.
    pos : PackedTokens
        The POS tag of each token (``"phrase"`` for a joined collocation).
    cache_hits, tokenised : int
        How many texts came from the cache, and how many were tokenised.
    phrases : object or None
        The frozen gensim ``Phrases`` model when collocations are enabled.
    """

    tokens: PackedTokens
    pos: PackedTokens
    cache_hits: int = 0
    tokenised: int = 0
    phrases: Any = None


_WORKER_TOKENIZER: Tokenizer | None = None
_MIN_CHUNK_CHARS = 20_000  # smaller packages cost more in messaging than they save in balance


def _init_worker(tokenizer: Tokenizer) -> None:
    global _WORKER_TOKENIZER
    _WORKER_TOKENIZER = tokenizer


def _tokenize_chunk(texts: list[str]) -> list[list[tuple[str, str]]]:
    assert _WORKER_TOKENIZER is not None
    return [_WORKER_TOKENIZER.tokenize_with_pos(text) for text in texts]


def resolve_workers(workers: int) -> int:
    """The number of processes ``workers`` asks for (0 = one per CPU core).

    Parameters
    ----------
    workers : int
        A ``workers`` setting of the config: a positive count, or 0 (or less) for one
        process per CPU core.

    Returns
    -------
    int
        ``workers`` itself when positive, else ``os.cpu_count()`` (at least 1).

    Examples
    --------
    >>> resolve_workers(3)
    3
    >>> resolve_workers(0) >= 1
    True
    """
    return workers if workers > 0 else max(1, os.cpu_count() or 1)


class _LazyPool:
    """A process pool started on first use (only when some batch needs more than one process)."""

    def __init__(self, tokenizer: Tokenizer, workers: int) -> None:
        self.tokenizer = tokenizer
        self.workers = workers
        self.pool: ForkedPool | None = None

    def get(self) -> ForkedPool:
        if self.pool is None:
            self.tokenizer.load()  # forked workers then share the loaded dictionaries
            # ...and, with the heap frozen, the corpus (see policytopics.workers)
            self.pool = ForkedPool(self.workers, initializer=_init_worker, initargs=(self.tokenizer,))
        return self.pool

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None


def _tokenize_texts(
    tokenizer: Tokenizer,
    texts: list[str],
    workers: int,
    progress: Callable[[int], None] | None,
    chunk_chars: int = 200_000,
    pool: _LazyPool | None = None,
) -> list[list[tuple[str, str]]]:
    """Tokenise ``texts`` in order, in ``workers`` processes when that pays off.

    Work packages hold at most ``chunk_chars`` characters and, for a batch of a few
    megabytes, about an eighth of each worker's share, so that no process idles long at the
    end while another finishes a large last package. The tokenizer is loaded in this process
    before the pool starts: worker processes forked from it (the default on Linux) share its
    loaded dictionaries instead of each loading jieba again; with ``spawn`` they load their own.
    ``progress`` is called with the number of texts done so far.
    """
    total = sum(len(text) for text in texts)
    if workers > 1:
        chunk_chars = min(chunk_chars, max(_MIN_CHUNK_CHARS, -(-total // (workers * 8))))
    chunks: list[list[str]] = [[]]
    size = 0
    for text in texts:
        if size >= chunk_chars:
            chunks.append([])
            size = 0
        chunks[-1].append(text)
        size += len(text)
    results: list[list[tuple[str, str]]] = []
    if workers <= 1 or len(chunks) <= 1:
        for text in texts:
            results.append(tokenizer.tokenize_with_pos(text))
            if progress is not None and len(results) % 256 == 0:
                progress(len(results))
        if progress is not None:
            progress(len(results))
        return results
    own = pool is None
    pool = pool if pool is not None else _LazyPool(tokenizer, workers)
    try:
        for chunk_result in pool.get().map(_tokenize_chunk, chunks):  # map keeps the input order
            results.extend(chunk_result)
            if progress is not None:
                progress(len(results))
    finally:
        if own:
            pool.close()
    return results


def _batches(texts: Sequence[str], batch_chars: int) -> Iterator[range]:
    """Consecutive index ranges of ``texts`` holding about ``batch_chars`` characters each."""
    start = size = 0
    for index, text in enumerate(texts):
        if size >= batch_chars:
            yield range(start, index)
            start, size = index, 0
        size += len(text)
    if start < len(texts):
        yield range(start, len(texts))


def tokenize_texts(
    texts: Sequence[str],
    tokenizer: Tokenizer,
    *,
    cache: TokenCache | None = None,
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
    chunk_chars: int = 200_000,
    phrases: PhrasesConfig | None = None,
    batch_chars: int = 1_000_000,
) -> TokenizedCorpus:
    """Tokenise ``texts`` (cached, in parallel, in order) and optionally join collocations.

    The texts are taken in batches of about ``batch_chars`` characters: each batch is looked
    up in the cache, its missing texts are tokenised (in worker processes) and stored in the
    cache on disk, and its tokens are appended to compact arrays
    (:class:`~policytopics.packed.PackedTokens`, 4 bytes a token), so that memory holds the
    (word, tag) pairs of one batch at a time, not of the corpus.

    Parameters
    ----------
    texts : sequence of str
        Unit texts.
    tokenizer : Tokenizer
        The tokenizer (its fingerprint keys the cache).
    cache : TokenCache, optional
        Where tokens are looked up and stored; ``None`` tokenises everything.
    workers : int
        Processes for the texts not in the cache; the result does not depend on it.
    progress : callable, optional
        Called with (texts done, texts to do) as tokenisation proceeds.
    chunk_chars : int
        Characters per work package sent to a worker process.
    phrases : PhrasesConfig, optional
        When enabled, bigram collocations are learned on the tokens and joined with ``_``.
    batch_chars : int
        Characters per batch (memory holds one batch's intermediate results).

    Returns
    -------
    TokenizedCorpus

    Examples
    --------
    >>> from policytopics.config import TokenizeConfig
    >>> corpus = tokenize_texts(["招商引资取得新突破"], Tokenizer(TokenizeConfig()))  # doctest: +SKIP
    >>> corpus.tokens[0]  # doctest: +SKIP
    ['招商引资', '突破']
    """
    from policytopics.packed import TokenPacker

    token_packer, pos_packer = TokenPacker(), TokenPacker()
    hits = tokenised = 0
    pool = _LazyPool(tokenizer, workers)
    try:
        for batch in _batches(texts, batch_chars):
            batch_texts = [texts[i] for i in batch]
            pairs: list[list[tuple[str, str]] | None] = [None] * len(batch_texts)
            keys = [TokenCache.key(tokenizer.fingerprint, text) for text in batch_texts] if cache else []
            if cache is not None:
                found = cache.get_many(keys)
                for index, key in enumerate(keys):
                    if key in found:
                        pairs[index] = found[key]
            missing = [index for index, value in enumerate(pairs) if value is None]
            done_before = batch.start
            hits += len(batch_texts) - len(missing)
            if missing:
                def report(done: int, offset: int = done_before + len(batch_texts) - len(missing)) -> None:
                    if progress is not None:
                        progress(offset + done, len(texts))

                results = _tokenize_texts(
                    tokenizer, [batch_texts[i] for i in missing], workers, report, chunk_chars, pool
                )
                for index, result in zip(missing, results):
                    pairs[index] = result
                tokenised += len(missing)
                if cache is not None:
                    cache.put_many({keys[i]: pairs[i] for i in missing})  # type: ignore[misc]
            elif progress is not None:
                progress(batch.stop, len(texts))
            for unit in pairs:
                assert unit is not None
                token_packer.add([token for token, _ in unit])
                pos_packer.add([tag for _, tag in unit])
    finally:
        pool.close()
    tokens, pos = token_packer.finish(), pos_packer.finish()
    model = None
    if phrases is not None and phrases.enabled:
        tokens, pos, model = _join_phrases(tokens, pos, phrases)
    return TokenizedCorpus(tokens, pos, hits, tokenised, model)


def _join_phrases(tokens: PackedTokens, pos: PackedTokens, config: PhrasesConfig) -> tuple[PackedTokens, PackedTokens, Any]:
    from gensim.models.phrases import Phrases

    from policytopics.packed import TokenPacker

    model = Phrases(tokens, min_count=config.min_count, threshold=config.threshold, delimiter="_").freeze()
    joined_tokens, joined_pos = TokenPacker(), TokenPacker()
    for unit_tokens, unit_pos in zip(tokens, pos):
        joined = model[unit_tokens]
        tags = dict(zip(unit_tokens, unit_pos))
        joined_tokens.add(joined)
        joined_pos.add(["phrase" if "_" in t and t not in tags else tags.get(t, "x") for t in joined])
    return joined_tokens.finish(), joined_pos.finish(), model


def vocabulary_rows(corpus: TokenizedCorpus, dictionary_terms: frozenset[str]) -> list[dict[str, Any]]:
    """Rows of vocabulary.csv: every token with its document and corpus frequency.

    Sorted by corpus frequency (descending), then by term, so that the file reads from the
    most frequent term down and is byte-stable.

    Parameters
    ----------
    corpus : TokenizedCorpus
        The kept tokens of every unit and their POS tags.
    dictionary_terms : frozenset of str
        The user-dictionary words (``Tokenizer.dictionary_terms``).

    Returns
    -------
    list of dict
        One row per distinct token: ``term``, ``document_frequency`` (units it occurs in),
        ``corpus_frequency`` (occurrences), ``in_dictionary`` and ``pos`` (its most frequent
        tag, ties to the alphabetically first).

    Examples
    --------
    >>> from policytopics.packed import PackedTokens
    >>> corpus = TokenizedCorpus(PackedTokens.from_lists([["招商", "项目", "项目"], ["项目"]]),
    ...                          PackedTokens.from_lists([["v", "n", "n"], ["n"]]))
    >>> for row in vocabulary_rows(corpus, frozenset({"招商"})):
    ...     print(row)
    {'term': '项目', 'document_frequency': 2, 'corpus_frequency': 3, 'in_dictionary': False, 'pos': 'n'}
    {'term': '招商', 'document_frequency': 1, 'corpus_frequency': 1, 'in_dictionary': True, 'pos': 'v'}
    """
    corpus_frequency: Counter[str] = Counter()
    document_frequency: Counter[str] = Counter()
    tags: dict[str, Counter[str]] = {}
    for unit_tokens, unit_pos in zip(corpus.tokens, corpus.pos):
        corpus_frequency.update(unit_tokens)
        document_frequency.update(set(unit_tokens))
        for token, tag in zip(unit_tokens, unit_pos):
            tags.setdefault(token, Counter())[tag] += 1
    rows = []
    for term, count in sorted(corpus_frequency.items(), key=lambda item: (-item[1], item[0])):
        rows.append({
            "term": term,
            "document_frequency": document_frequency[term],
            "corpus_frequency": count,
            "in_dictionary": term in dictionary_terms,
            "pos": sorted(tags[term].items(), key=lambda item: (-item[1], item[0]))[0][0],
        })
    return rows
