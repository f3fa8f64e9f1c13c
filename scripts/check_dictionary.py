"""Check every entry of the development-zone dictionary in context.

For each entry of ``src/policytopics/resources/devzone_dict.txt`` (or ``--dictionary``)
this script finds every occurrence of the word in two real corpora -- the cleaned seed
speeches (``seeds/`` run through ingest, clean and segment with ``configs/default.yaml``)
and the 143 city government work reports in ``/work/shared/corpora/city-reports-2024``
(one text per paragraph) -- and segments the text twice, with the dictionary (the
project's ``Tokenizer``, ``default_dictionary: true``) and without it (plain jieba, the
same ``Tokenizer`` with ``default_dictionary: false``). Each occurrence is then one of:

``whole``   the entry comes out as one token (what we want);
``inside``  it is part of a longer token (fine when that token is itself a dictionary
            entry or a jieba word, e.g. 开发区 inside 经济技术开发区; flagged when the
            longer token is an HMM guess);
``split``   it is cut into pieces at its own edges: its frequency is too low;
``reread``  a token straddles its first or last character and every token across the
            span is a real word: the text reads differently there (提高新区 is 提高/新区,
            not 提/高新区; 重点项目建设 is 重点项目/建设, not 重点/项目建设). Not a problem,
            but counted, and shown with ``--show-rereads``;
``cross``   the same, but a token across the span is a fragment (a single character that
            does not stand on its own, or an HMM guess) and the tokens there differ from
            plain jieba's: the entry lost to a neighbour. (Where plain jieba reads the span
            the same way, the entry has nothing to do with it: counted as ``reread``.)

For ``whole`` occurrences the edges are compared with plain jieba: where plain jieba had a
real word (one of its dictionary, or of ours) across the entry's first or last character
and the entry broke it, the occurrence is flagged as *damage* when what is left beside the
entry is a fragment -- a single character that does not stand on its own (not a function
word, measure word or administrative unit) or a word no dictionary knows (an HMM guess).
Overriding an HMM guess of plain jieba (自贸港科创 -> 自贸港/科创) is not damage.

Output: one line per entry under its section (word, freq, tag, and for each corpus the
number of occurrences with the whole/inside/reread/split/cross/damage counts), then the
contexts of every problem (``--contexts`` per entry and kind; a problem is a split, a
cross, a damage or an HMM token around the entry), then a summary: entries that never
occur, entries with problems. A flagged context is for a person to read -- many are the
dictionary fixing an HMM guess of plain jieba -- so the exit status is 0 unless
``--strict`` is given (then 1 when any entry has a problem).

Usage::

    .venv/bin/python scripts/check_dictionary.py            # the shipped dictionary
    .venv/bin/python scripts/check_dictionary.py --contexts 5 --only 招商引资 管委会
"""

from __future__ import annotations

import argparse
import bisect
import re
import sys
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DICTIONARY = REPO / "src" / "policytopics" / "resources" / "devzone_dict.txt"
DEFAULT_CONFIG = REPO / "configs" / "default.yaml"
DEFAULT_CITY = Path("/work/shared/corpora/city-reports-2024")

#: Single characters that stand on their own beside a term without being a fragment:
#: particles, conjunctions, prepositions, measure words, localisers and the administrative
#: one-character nouns (区, 市, 省 ...) that follow or precede zone names.
FREE_CHARS = frozenset(
    "的地得了着过和与及或并且而但在是为对把将向从以于由被让使给也都又还再更最很均皆"
    "要能会可已其各每本该此这那之就才等中上下内外前后里间旁"
    "年月日时个项家座条所批类种次名位万亿元吨亩米度台套件处栋层户人级"
    "区市县镇乡村省国园港城路街一二三四五六七八九十百千两多余近超共计达约"
)
_HAN = re.compile(r"[\u4e00-\u9fff]")

Segmenter = Callable[[str], list[tuple[str, str]]]


@dataclass
class Entry:
    """One dictionary line and the section it sits in."""

    word: str
    freq: int | None
    tag: str | None
    section: str
    line: int


@dataclass
class Finding:
    """What happened to an entry in one corpus."""

    occurrences: int = 0
    kinds: Counter = field(default_factory=Counter)
    contexts: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def note(self, kind: str, context: str | None, limit: int) -> None:
        self.kinds[kind] += 1
        if context is not None and len(self.contexts[kind]) < limit:
            self.contexts[kind].append(context)


def read_entries(path: Path) -> list[Entry]:
    """The entries of a dictionary file with their sections (the ``# ---`` comment above)."""
    entries, section = [], "(no section)"
    for number, raw in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
        line = raw.strip()
        if line.startswith("# ---"):
            section = line[5:].strip().split(".")[0] or section
            continue
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        freq = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
        tag = parts[-1] if len(parts) > 1 and not parts[-1].isdigit() else None
        entries.append(Entry(parts[0], freq, tag, section, number))
    return entries


def seed_texts(config: Path = DEFAULT_CONFIG) -> list[str]:
    """The unit texts of the cleaned seed corpus (ingest, clean, segment; nothing written)."""
    from policytopics.config import load_config
    from policytopics.pipeline import prepare_corpus

    config_ = load_config(config)
    corpus = Path(config_.corpus.path)
    if not corpus.is_absolute():  # relative paths in the config mean the repository root
        config_ = load_config(config, [f"corpus.path={REPO / corpus}"])
    units = prepare_corpus(config_, {}).units
    return [unit.text for unit in units]


def city_texts(folder: Path = DEFAULT_CITY) -> list[str]:
    """One text per non-empty paragraph of every city report."""
    texts = []
    for path in sorted(folder.glob("*.txt")):
        texts.extend(p.strip() for p in path.read_text(encoding="utf-8").splitlines() if p.strip())
    return texts


def project_segmenters(dictionary: Path, cache_dir: Path) -> tuple[Segmenter, Segmenter, Callable[[str], bool]]:
    """(with dictionary, without, is-a-jieba-word) built from the project's Tokenizer."""
    from policytopics.config import TokenizeConfig
    from policytopics.tokenize import DEFAULT_DICTIONARY as SHIPPED, Tokenizer

    if dictionary.resolve() == SHIPPED.resolve():
        with_dict = Tokenizer(TokenizeConfig(), cache_dir)
    else:
        with_dict = Tokenizer(TokenizeConfig(default_dictionary=False, dictionaries=[str(dictionary)]), cache_dir)
    plain = Tokenizer(TokenizeConfig(default_dictionary=False), cache_dir)
    jieba_tokenizer = plain._pos_tokenizer.tokenizer
    jieba_tokenizer.check_initialized()  # loads jieba's own dictionary (FREQ is replaced)
    base_freq = jieba_tokenizer.FREQ
    return with_dict.segment, plain.segment, lambda word: bool(base_freq.get(word))


class Segmented:
    """A text segmented once: token start offsets, words and tags, looked up by offset."""

    def __init__(self, text: str, pairs: Sequence[tuple[str, str]]):
        self.text = text
        self.starts: list[int] = []
        self.words: list[str] = []
        offset = 0
        for word, _ in pairs:
            self.starts.append(offset)
            self.words.append(word)
            offset += len(word)
        if offset != len(text):  # jieba never drops characters; be loud if it ever does
            raise RuntimeError(f"segmentation does not cover the text: {text[:40]!r}")

    def token_at(self, position: int) -> int:
        """Index of the token covering character ``position``."""
        return bisect.bisect_right(self.starts, position) - 1

    def end(self, index: int) -> int:
        return self.starts[index] + len(self.words[index])

    def show(self, start: int, end: int, width: int = 12) -> str:
        """The tokens around [start, end) joined by '/', the span in [brackets]."""
        first = self.token_at(max(0, start - width))
        last = self.token_at(min(len(self.text) - 1, end + width))
        pieces = []
        for index in range(first, last + 1):
            word = self.words[index]
            s, e = self.starts[index], self.end(index)
            if s <= start < e or s < end <= e or start <= s < end:
                word = f"[{word}]"
            pieces.append(word)
        return "/".join(pieces)


def _is_fragment(word: str, known: Callable[[str], bool], dictionary: set[str]) -> bool:
    if not _HAN.search(word):
        return False
    if len(word) == 1:
        return word not in FREE_CHARS
    return not known(word) and word not in dictionary


def check(
    entries: Sequence[Entry],
    corpora: dict[str, list[str]],
    with_dict: Segmenter,
    plain: Segmenter,
    known: Callable[[str], bool],
    limit: int = 3,
    plain_cache: dict[str, list[list[tuple[str, str]]]] | None = None,
    dictionary_words: set[str] | None = None,
) -> dict[str, dict[str, Finding]]:
    """Findings per entry word and corpus name (see the module docstring).

    ``dictionary_words`` is every word of the dictionary (default: the entries checked),
    so that a longer dictionary word around an entry is not taken for an HMM guess.
    """
    words = {entry.word for entry in entries}
    known_words = words | (dictionary_words or set())
    pattern = re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)))
    findings: dict[str, dict[str, Finding]] = {w: {name: Finding() for name in corpora} for w in words}
    for name, texts in corpora.items():
        cached = plain_cache.get(name) if plain_cache is not None else None
        plain_pairs = cached if cached is not None else [plain(t) for t in texts]
        if plain_cache is not None:
            plain_cache[name] = plain_pairs
        for text, pairs in zip(texts, plain_pairs):
            present = {w for w in words if w in text} if pattern.search(text) else set()
            if not present:
                continue
            seg_d, seg_p = Segmented(text, with_dict(text)), Segmented(text, pairs)
            for word in present:
                finding = findings[word][name]
                start = text.find(word)
                while start != -1:
                    finding.occurrences += 1
                    _classify(word, start, seg_d, seg_p, finding, known, known_words, limit)
                    start = text.find(word, start + 1)
    return findings


def _classify(word, start, seg_d, seg_p, finding, known, dictionary, limit) -> None:
    end = start + len(word)
    first, last = seg_d.token_at(start), seg_d.token_at(end - 1)
    context = f"{seg_d.show(start, end)}    (plain: {seg_p.show(start, end)})"
    if first == last:
        token = seg_d.words[first]
        if token == word:
            damage = []
            for index, edge in ((first - 1, start), (first + 1, end)):
                if not 0 <= index < len(seg_d.words):
                    continue
                # the plain token holding the characters on both sides of this edge, if any
                p = seg_p.token_at(edge - 1)
                straddles = seg_p.starts[p] < edge < seg_p.end(p)
                broken = seg_p.words[p]
                if straddles and (known(broken) or broken in dictionary):
                    neighbour = seg_d.words[index]
                    if _is_fragment(neighbour, known, dictionary):
                        damage.append(neighbour)
            finding.note("damage" if damage else "whole", context if damage else None, limit)
            if damage:
                finding.kinds["whole"] += 1
        elif known(token) or token in dictionary:
            finding.note("inside", None, limit)
        else:
            finding.note("inside-hmm", context, limit)
        return
    clean_edges = seg_d.starts[first] == start and seg_d.end(last) == end
    p_first, p_last = seg_p.token_at(start), seg_p.token_at(end - 1)
    same_as_plain = (
        seg_p.starts[p_first] == seg_d.starts[first]
        and seg_p.words[p_first:p_last + 1] == seg_d.words[first:last + 1]
    )
    if clean_edges:
        finding.note("split", context, limit)
    elif same_as_plain:  # jieba reads it so with or without the entry: not the entry's doing
        finding.note("reread", context, limit)
    elif any(_is_fragment(seg_d.words[i], known, dictionary) for i in range(first, last + 1)):
        finding.note("cross", context, limit)
    else:  # every token across the span is a real word: the text reads differently there
        finding.note("reread", context, limit)


def report(
    entries: Sequence[Entry],
    findings,
    corpus_names: Iterable[str],
    only_problems: bool,
    show_rereads: bool = False,
    out=sys.stdout,
):
    """Print the per-entry table, the problem contexts and the summary; return problem words."""
    names = list(corpus_names)
    problems, absent = [], []
    section = None
    for entry in entries:
        if entry.section != section:
            section = entry.section
            print(f"\n## {section}", file=out)
        cells = []
        bad = False
        total = 0
        for name in names:
            f = findings[entry.word][name]
            total += f.occurrences
            k = f.kinds
            issue = k["split"] + k["cross"] + k["damage"] + k["inside-hmm"]
            bad |= issue > 0
            cells.append(
                f"{name} {f.occurrences:>4} (whole {k['whole']}, inside {k['inside'] + k['inside-hmm']}, "
                f"reread {k['reread']}, split {k['split']}, cross {k['cross']}, damage {k['damage']})"
            )
        if total == 0:
            absent.append(entry)
        if bad:
            problems.append(entry)
        if only_problems and not bad and total:
            continue
        flag = "  <-- check" if bad else ("  <-- absent" if total == 0 else "")
        print(f"{entry.word}\t{entry.freq}\t{entry.tag}\t" + "\t".join(cells) + flag, file=out)
    if problems:
        print("\n## contexts of problems  ([term] with dictionary; plain jieba in parentheses)", file=out)
        for entry in problems:
            for name in names:
                for kind, contexts in findings[entry.word][name].contexts.items():
                    if kind == "reread" and not show_rereads:
                        continue
                    for context in contexts:
                        print(f"{entry.word}\t{name}\t{kind}\t{context}", file=out)
    print("\n## summary", file=out)
    print(f"entries: {len(entries)}; with a problem: {len(problems)}; occurring in neither corpus: {len(absent)}", file=out)
    if absent:
        print("absent: " + " ".join(e.word for e in absent), file=out)
    if problems:
        print("problems: " + " ".join(e.word for e in problems), file=out)
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dictionary", type=Path, default=DEFAULT_DICTIONARY)
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="config whose corpus is the seed corpus")
    parser.add_argument("--city", type=Path, default=DEFAULT_CITY, help="folder of city reports (.txt)")
    parser.add_argument("--contexts", type=int, default=3, help="contexts shown per entry and kind of problem")
    parser.add_argument("--only", nargs="*", help="check only these words")
    parser.add_argument("--only-problems", action="store_true", help="list only entries with a problem")
    parser.add_argument("--show-rereads", action="store_true", help="also show contexts read differently")
    parser.add_argument("--strict", action="store_true", help="exit 1 when an entry has a problem")
    args = parser.parse_args(argv)

    all_entries = read_entries(args.dictionary)
    entries = [e for e in all_entries if e.word in set(args.only)] if args.only else all_entries
    corpora = {"seed": seed_texts(args.config)}
    if args.city.is_dir():
        corpora["city"] = city_texts(args.city)
    else:
        print(f"note: {args.city} not found; checking the seed corpus only", file=sys.stderr)
    cache_dir = Path(tempfile.gettempdir()) / "policytopics-check-dictionary"
    with_dict, plain, known = project_segmenters(args.dictionary, cache_dir)
    findings = check(entries, corpora, with_dict, plain, known, args.contexts,
                     dictionary_words={e.word for e in all_entries})
    problems = report(entries, findings, corpora, args.only_problems, args.show_rereads)
    return 1 if problems and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
