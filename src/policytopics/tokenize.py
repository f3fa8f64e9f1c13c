"""Tokenisation: unit texts to filtered tokens, with a domain dictionary, stopwords and a cache.

In: unit texts and the ``tokenize`` section of the config. Out: one list of kept tokens per
text (same order), the POS tag of each, and cache statistics. ``Tokenizer.explain`` shows
the decision on every word. Segmentation is in :mod:`policytopics.jieba_segmenter`, the
dictionary and stopword files in :mod:`policytopics.token_resources`; the method is
described in ``docs/methods.md``, section 1.4.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor
from contextlib import ExitStack
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from policytopics.config import PhrasesConfig, TokenizeConfig
from policytopics.jieba_segmenter import build_pos_tokenizer, build_rjieba, build_segmenter, forget_memos
from policytopics.provenance import sha256_bytes, sha256_file
from policytopics.token_cache import TokenCache
from policytopics.token_resources import (
    DEFAULT_DICTIONARY,
    DEFAULT_STOPWORD_FILES,
    DictionaryEntry,
    ResourceError,
    existing_files,
    read_dictionary,
    read_stopwords,
)
from policytopics.workers import process_pool, worker_context

#: What other modules import from here (some of it defined in the modules imported above).
__all__ = [
    "DEFAULT_DICTIONARY",
    "DEFAULT_STOPWORD_FILES",
    "TOKEN_RULES_VERSION",
    "DictionaryEntry",
    "CachedTokenize",
    "ResourceError",
    "TokenCache",
    "TokenDecision",
    "TokenizedCorpus",
    "Tokenizer",
    "forget_memos",
    "format_decisions",
    "read_dictionary",
    "read_stopwords",
    "tokenize_texts",
    "vocabulary_rows",
]

if TYPE_CHECKING:  # pragma: no cover
    from policytopics.packed import PackedTokens

#: Bump when the filtering code changes in a way that changes tokens (invalidates caches).
TOKEN_RULES_VERSION = 1

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


@dataclass(frozen=True)
class TokenDecision:
    """What happened to one segmented word: kept, or dropped and why."""

    word: str
    pos: str
    kept: bool
    reason: str


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
        return files + existing_files(self.config.dictionaries, "tokenize.dictionaries")

    @cached_property
    def stopword_files(self) -> list[Path]:
        """Stopword files in load order (the defaults first, when enabled)."""
        files = list(DEFAULT_STOPWORD_FILES) if self.config.default_stopwords else []
        return files + existing_files(self.config.stopword_files, "tokenize.stopword_files")

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
            "dictionaries": [sha256_file(p) for p in self.dictionary_files],
            "stopwords": [sha256_file(p) for p in self.stopword_files],
        }
        if self.config.backend == "rjieba":
            payload["rjieba"] = _version("rjieba")
        return sha256_bytes(json.dumps(payload, sort_keys=True).encode())

    @cached_property
    def _pos_tokenizer(self) -> Any:
        return build_pos_tokenizer(tuple(self.dictionary_entries), str(self.cache_dir))

    @cached_property
    def _segmenter(self) -> Any:
        if self.config.backend == "rjieba":
            return build_rjieba(tuple(self.dictionary_entries))
        return build_segmenter(tuple(self.dictionary_entries), str(self.cache_dir))

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

class CachedTokenize:
    """``Tokenizer.tokenize`` through the token cache: short texts (the codebook's keywords).

    A rerun whose units all come from the cache never builds jieba's POS tokenizer (about
    1.5 s); checking the keywords through this callable keeps it that way. Tokens are the
    tokenizer's, whether they come from the cache or not.

    Parameters
    ----------
    tokenizer : Tokenizer
        The run's tokenizer (its fingerprint keys the cache).
    cache_dir : str or Path, optional
        The cache folder (``tokens.sqlite``); ``None`` tokenises every call.

    Examples
    --------
    >>> import tempfile
    >>> from policytopics.config import TokenizeConfig
    >>> tokenize = CachedTokenize(Tokenizer(TokenizeConfig()), tempfile.mkdtemp())  # doctest: +SKIP
    >>> tokenize("招商引资"), tokenize("招商引资")  # the second from the cache  # doctest: +SKIP
    (['招商引资'], ['招商引资'])
    """

    def __init__(self, tokenizer: Tokenizer, cache_dir: str | Path | None = None) -> None:
        self.tokenizer = tokenizer
        self.cache_dir = cache_dir

    def __call__(self, text: str) -> list[str]:
        if self.cache_dir is None:
            return self.tokenizer.tokenize(text)
        cache = TokenCache(self.cache_dir)
        try:
            key = TokenCache.key(self.tokenizer.fingerprint, text)
            pairs = cache.get_many([key]).get(key)
            if pairs is None:
                pairs = self.tokenizer.tokenize_with_pos(text)
                cache.put_many({key: pairs})
        finally:
            cache.close()
        return [token for token, _ in pairs]


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



def _version(package: str) -> str:
    try:
        return importlib_metadata.version(package)
    except importlib_metadata.PackageNotFoundError:
        return "unknown"


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


_MIN_CHUNK_CHARS = 20_000  # smaller packages cost more in messaging than they save in balance


def _tokenize_chunk(texts: list[str]) -> list[list[tuple[str, str]]]:
    """One work package, in a worker process whose context is the tokenizer."""
    tokenizer: Tokenizer = worker_context()
    return [tokenizer.tokenize_with_pos(text) for text in texts]


def _lazy_pool(tokenizer: Tokenizer, workers: int, stack: ExitStack) -> Callable[[], Executor]:
    """A function that starts a pool of ``workers`` processes when first called (only when
    some batch needs more than one process) and returns that pool; ``stack`` shuts it down."""

    @cache
    def pool() -> Executor:
        tokenizer.load()  # forked workers then share the loaded dictionaries
        # ...and, with the heap frozen, the corpus (see policytopics.workers)
        executor = process_pool(workers, context=tokenizer)
        stack.callback(executor.shutdown, wait=True, cancel_futures=True)
        return executor

    return pool


def _tokenize_texts(
    tokenizer: Tokenizer,
    texts: list[str],
    workers: int,
    progress: Callable[[int], None] | None,
    chunk_chars: int = 200_000,
    pool: Callable[[], Executor] | None = None,
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
    with ExitStack() as stack:
        executor = (pool if pool is not None else _lazy_pool(tokenizer, workers, stack))()
        for chunk_result in executor.map(_tokenize_chunk, chunks):  # map keeps the input order
            results.extend(chunk_result)
            if progress is not None:
                progress(len(results))
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
    with ExitStack() as stack:
        pool = _lazy_pool(tokenizer, workers, stack)
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