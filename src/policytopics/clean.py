"""Cleaning of one text: pinyin, script, web boilerplate, garbled bytes, punctuation and spaces.

In: the decoded text of one corpus entry (a ``SourceText``, or a plain ``str``) and the
``clean`` section of the config (``CleanConfig``). Out: a ``CleanedText`` holding the cleaned
text, with ``\\n`` line structure kept (later stages read lines as paragraphs), and the number
of characters each step removed.

The steps are small pure functions, run by :func:`clean_text` in this fixed order; each can be
switched off in the config:

1. :func:`strip_pinyin` -- ``開(kāi)發(fā)區(qū)`` -> ``開發區``, and marks the spots where an
   annotation shows that a character was garbled.
2. :func:`to_simplified` -- traditional to simplified script with OpenCC.
3. :func:`remove_boilerplate` -- web-page furniture described by the rules in
   ``resources/boilerplate.yaml`` (plus ``config.boilerplate_files``).
4. :func:`drop_mojibake` -- fragments garbled by lost GBK bytes.
5. :func:`normalise` -- character widths, Chinese punctuation, spaces, blank lines and
   placeholder years.

Garbled spots
-------------
The scraped sites stored GBK bytes and lost single bytes; from a lost byte on, the byte stream
decodes shifted by one (wrong CJK characters, kana, Cyrillic, private-use code points) until an
ASCII byte realigns it. Undecodable pairs were written as a half-width ``?``, which often
swallowed the ``(`` of a pinyin annotation (``?yún)``). Pinyin stripping removes exactly the
evidence that tells garble apart from text, so :func:`strip_pinyin` leaves U+FFFD (the Unicode
replacement character, :data:`GARBLE_MARK`) where an annotation reveals a garbled spot, and
:func:`drop_mojibake` treats U+FFFD as certain garble. When a lost lead byte left its trail byte
as an ASCII letter followed by the annotation of the lost character (``r(shí)``), the
character is recovered: the text's own annotations list the characters read ``shí``, and the
one whose GBK trail byte is ``r`` is ``時``.

Before step 1 the driver makes the text well-formed (counted as ``sanitise`` when it changes
anything): lone surrogates become U+FFFD, every line-break form becomes ``\\n``, control and
zero-width characters are dropped; no step adds or removes line breaks except the boilerplate
rules. Because the steps feed each other (dropping a garbled character can complete a
boilerplate line), the driver repeats them until a round changes nothing, so cleaning is
idempotent: ``clean_text(clean_text(x)) == clean_text(x)``.
"""

from __future__ import annotations

import bisect
import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from policytopics.config import CleanConfig
from policytopics.records import CleanedText, SourceText

__all__ = [
    "GARBLE_MARK",
    "BoilerplateRule",
    "BoilerplateRules",
    "clean_source",
    "clean_text",
    "drop_mojibake",
    "load_boilerplate_rules",
    "normalise",
    "remove_boilerplate",
    "strip_pinyin",
    "to_simplified",
]

GARBLE_MARK = "\ufffd"
"""Left by :func:`strip_pinyin` where a character was garbled; removed by :func:`drop_mojibake`."""

_RESOURCES = "policytopics.resources"

# --- character classes ---------------------------------------------------------------------

_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ"
_TONE_BASE = str.maketrans(_TONED, "aaaaeeeeiiiioooouuuuüüüü")
_PINYIN_LETTERS = f"a-zü{_TONED}"

# Full-width ASCII forms -> ASCII, ideographic space -> space. One character for one, so spans
# found in the folded text are spans of the original text.
_FOLD = {**{cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}, 0x3000: 0x20}


def _fold(text: str) -> str:
    return text.translate(_FOLD)


@lru_cache(maxsize=8192)
def _fold_line(line: str) -> str:
    """``_fold`` of one line, remembered: every boilerplate rule looks at every line, and
    ``str.translate`` with a mapping was most of the cleaning time (py-spy: 58%)."""
    return line.translate(_FOLD)


def _remove_spans(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` without the characters of ``spans`` (sorted, non-overlapping (start, end))."""
    if not spans:
        return text
    pieces, done = [], 0
    for start, end in spans:
        pieces.append(text[done:start])
        done = end
    pieces.append(text[done:])
    return "".join(pieces)


def _is_han(char: str) -> bool:
    if len(char) != 1:
        return False
    code = ord(char)
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0xF900 <= code <= 0xFAFF
        or 0x20000 <= code <= 0x3134F
        or code == 0x3007
    )


# --- sanitising ----------------------------------------------------------------------------

_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_LINE_BREAK_RE = re.compile("\r\n|[\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
# C0/C1 controls except \n and \t, and invisible format characters (zero-width spaces and
# joiners, word joiner, BOM, bidi controls, soft hyphen).
_INVISIBLE_RE = re.compile(
    "[\x00-\x08\x0e-\x1b\x1f\x7f-\x84\x86-\x9f\u00ad\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u2069\ufeff]"
)


def _sanitise(text: str) -> str:
    text = _SURROGATE_RE.sub(GARBLE_MARK, text)
    text = _LINE_BREAK_RE.sub("\n", text)
    return _INVISIBLE_RE.sub("", text)


# --- step 1: pinyin ------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _pinyin_syllables() -> frozenset[str]:
    text = resources.files(_RESOURCES).joinpath("pinyin_syllables.txt").read_text("utf-8")
    syllables: set[str] = set()
    for line in text.splitlines():
        syllables.update(line.split("#", 1)[0].split())
    return frozenset(syllables)


def _is_syllable(token: str, *, need_tone: bool) -> bool:
    """Is ``token`` one pinyin syllable? At most one tone mark; toneless needs 2+ letters."""
    tones = sum(char in _TONED for char in token)
    if tones > 1 or (tones == 0 and (need_tone or len(token) < 2)):
        return False
    return token.translate(_TONE_BASE) in _pinyin_syllables()


# A `?` that swallowed the "(" of an annotation ("?yún)"), or a run of annotations with the
# character before them when that character could be a GBK trail byte turned ASCII.
_PINYIN_RE = re.compile(
    rf"(?P<orphan>\?(?P<orphan_syllable>[{_PINYIN_LETTERS}]{{1,6}})\))"
    rf"|(?P<trail>[@-~])?(?P<run>(?:\([{_PINYIN_LETTERS}]{{1,6}}\))+)"
)
_ANNOTATION_RE = re.compile(rf"\(([{_PINYIN_LETTERS}]{{1,6}})\)")
_ASCII_ALNUM_RE = re.compile("[0-9A-Za-z]")


def _reading_table(folded: str) -> dict[str, set[str]]:
    """Characters annotated with each (toned) syllable in this text: ``{"shí": {"時", "實"}}``."""
    table: dict[str, set[str]] = {}
    for match in _ANNOTATION_RE.finditer(folded):
        start = match.start()
        if start and _is_han(folded[start - 1]) and _is_syllable(match[1], need_tone=True):
            table.setdefault(match[1], set()).add(folded[start - 1])
    return table


def _recover(trail: str, syllable: str, table: dict[str, set[str]]) -> str | None:
    """The one character read ``syllable`` whose GBK trail byte is the ASCII ``trail``."""
    found = []
    for char in table.get(syllable, ()):
        try:
            encoded = char.encode("gbk")
        except UnicodeEncodeError:
            continue
        if len(encoded) == 2 and encoded[1] == ord(trail):
            found.append(char)
    return found[0] if len(found) == 1 else None


def strip_pinyin(text: str) -> str:
    """Remove pinyin annotations that follow characters; mark garbled spots with U+FFFD.

    An annotation is a bracketed lowercase pinyin syllable (``(kāi)``, ``（fā）``, or toneless
    with two or more letters, ``(men)``) right after a Han character; runs of them are removed
    together. A syllable is valid when, tone mark removed, it is listed in
    ``resources/pinyin_syllables.txt``, so ``(一)``, ``(GDP)``, ``(含增资)`` and ``(a)`` stay.

    Annotations that betray a garbled character are replaced by :data:`GARBLE_MARK`:
    ``?yún)`` (a ``?`` swallowed the bracket) and a toned annotation after a non-Han character.
    When that character is a lone ASCII letter or symbol (a GBK trail byte whose lead byte was
    lost) and exactly one character of this text is annotated with the same syllable and has
    that trail byte, the character is restored after the mark: ``袝r(shí)候`` ->
    ``袝\\ufffd時候``.

    Parameters
    ----------
    text : str
        Text, possibly annotated.

    Returns
    -------
    str
        The text without annotations.

    Examples
    --------
    >>> strip_pinyin("開(kāi)發(fā)區(qū)(一)GDP(GDP)")
    '開發區(一)GDP(GDP)'
    >>> strip_pinyin("入?yún)^(qū)區(qū)") == "入\\ufffd\\ufffd區區"
    True
    """
    folded = _fold(text)
    if "(" not in folded and ")" not in folded:
        return text
    table: dict[str, set[str]] | None = None
    parts: list[str] = []
    done = 0
    for match in _PINYIN_RE.finditer(folded):
        start, end = match.span()
        if match["orphan"]:
            if not _is_syllable(match["orphan_syllable"], need_tone=True):
                continue
            replacement = GARBLE_MARK
        else:
            trail = match["trail"] or ""
            run_start = match.start("run")
            before = folded[run_start - 1] if run_start else ""
            syllables = _ANNOTATION_RE.findall(match["run"])
            after_han = not trail and _is_han(before)
            valid = 0  # leading annotations that are pinyin; the rest of the run stays
            need_tone = not after_han
            while valid < len(syllables) and _is_syllable(syllables[valid], need_tone=need_tone):
                valid += 1
            if not valid:
                continue
            end = run_start + sum(len(s) + 2 for s in syllables[:valid])
            first = syllables[0]
            if after_han:
                replacement = ""
            else:
                replacement = text[start:run_start] + GARBLE_MARK
                lone = bool(trail) and not (start and _ASCII_ALNUM_RE.match(folded[start - 1]))
                if lone:
                    if table is None:
                        table = _reading_table(folded)
                    recovered = _recover(trail, first, table)
                    if recovered:
                        replacement = GARBLE_MARK + recovered
        parts.append(text[done:start])
        parts.append(replacement)
        done = end
    parts.append(text[done:])
    return "".join(parts)


# --- step 2: script ------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _opencc_converter(opencc_config: str) -> Any:
    import opencc

    try:
        return opencc.OpenCC(opencc_config)
    except Exception as exc:  # OpenCC raises RuntimeError for an unknown profile
        raise ValueError(f"OpenCC config {opencc_config!r} cannot be loaded: {exc}") from None


def to_simplified(text: str, opencc_config: str = "t2s") -> str:
    """Convert traditional characters to simplified ones with OpenCC.

    The converter is created once per profile. Conversion is repeated until the text stops
    changing (at most three times), so the result is a fixed point of the profile and
    ``to_simplified(to_simplified(x)) == to_simplified(x)``. Lone surrogates, which OpenCC
    cannot take, become U+FFFD.

    Parameters
    ----------
    text : str
        Text in any script.
    opencc_config : str
        OpenCC profile: ``t2s`` (generic), ``tw2s`` (Taiwan), ``hk2s`` (Hong Kong), ...

    Returns
    -------
    str
        The converted text.

    Raises
    ------
    ValueError
        When OpenCC has no such profile.

    Examples
    --------
    >>> to_simplified("開發區經濟")
    '开发区经济'
    """
    converter = _opencc_converter(opencc_config)
    text = _SURROGATE_RE.sub(GARBLE_MARK, text)
    for _ in range(3):
        converted = converter.convert(text)
        if converted == text:
            break
        text = converted
    return text


def _changed_chars(before: str, after: str) -> int:
    if len(before) == len(after):
        return sum(a != b for a, b in zip(before, after))
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    return sum(
        max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"
    )


# --- step 3: boilerplate -------------------------------------------------------------------

_KIND_ORDER = ("tail", "block", "line", "keywords", "inline", "page_marker")
_KIND_KEYS: dict[str, tuple[set[str], set[str]]] = {  # kind -> (required keys, optional keys)
    "line": ({"pattern"}, {"max_length"}),
    "keywords": ({"words"}, {"min_count", "max_length"}),
    "block": ({"start", "item"}, {"max_length"}),
    "tail": ({"start"}, {"next", "max_length"}),
    "inline": ({"pattern"}, set()),
    "page_marker": ({"pattern"}, {"join"}),
}
_COMMON_KEYS = {"id", "kind", "category"}
_CATEGORY_RE = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class BoilerplateRule:
    """One compiled boilerplate rule (see ``resources/boilerplate.yaml`` for the kinds)."""

    id: str
    kind: str
    category: str
    source: str
    pattern: re.Pattern[str] | None = None
    start: re.Pattern[str] | None = None
    item: re.Pattern[str] | None = None
    next: re.Pattern[str] | None = None
    words: tuple[str, ...] = ()
    min_count: int = 1
    max_length: int | None = None
    join: bool = False
    unless_prev: re.Pattern[str] | None = None
    unless_next: re.Pattern[str] | None = None
    #: page_marker: the patterns of the other page-marker rules loaded with this one
    peers: tuple[re.Pattern[str], ...] = ()

    def apply(self, lines: list[str]) -> list[str]:
        """Return ``lines`` with what this rule matches removed (``lines`` is not changed)."""
        return _APPLY[self.kind](self, lines)

    def _fits(self, line: str) -> bool:
        return self.max_length is None or len(line.strip()) <= self.max_length

    def _matches(self, regex: re.Pattern[str] | None, line: str) -> bool:
        return regex is not None and self._fits(line) and regex.fullmatch(_fold_line(line)) is not None


@dataclass(frozen=True)
class BoilerplateRules:
    """The compiled rules of one or more boilerplate files, in the order they are applied.

    Attributes
    ----------
    rules : tuple of BoilerplateRule
        Sorted by kind (tail, block, line, keywords, inline, page_marker), file order within.
    sources : tuple of str
        The files the rules were read from.
    """

    rules: tuple[BoilerplateRule, ...]
    sources: tuple[str, ...]

    @property
    def categories(self) -> tuple[str, ...]:
        """The distinct categories, in rule order."""
        return tuple(dict.fromkeys(rule.category for rule in self.rules))


def _apply_line(rule: BoilerplateRule, lines: list[str]) -> list[str]:
    return [line for line in lines if not rule._matches(rule.pattern, line)]


def _apply_keywords(rule: BoilerplateRule, lines: list[str]) -> list[str]:
    def is_spam(line: str) -> bool:
        if not rule._fits(line):
            return False
        lowered = _fold_line(line).lower()
        return sum(word in lowered for word in rule.words) >= rule.min_count

    return [line for line in lines if not is_spam(line)]


def _apply_block(rule: BoilerplateRule, lines: list[str]) -> list[str]:
    kept: list[str] = []
    index = 0
    while index < len(lines):
        if not rule._matches(rule.start, lines[index]):
            kept.append(lines[index])
            index += 1
            continue
        index += 1
        blanks: list[str] = []
        while index < len(lines):
            line = lines[index]
            if not line.strip():
                blanks.append(line)
            elif rule._matches(rule.item, line):
                kept.extend(blanks)
                blanks = []
            else:
                break
            index += 1
        kept.extend(blanks)
    return kept


def _next_content(lines: list[str], index: int) -> int | None:
    for other in range(index, len(lines)):
        if lines[other].strip():
            return other
    return None


def _apply_tail(rule: BoilerplateRule, lines: list[str]) -> list[str]:
    for index, line in enumerate(lines):
        if not rule._matches(rule.start, line):
            continue
        if rule.next is not None:
            following = _next_content(lines, index + 1)
            if following is None or not rule.next.fullmatch(_fold_line(lines[following])):
                continue
        return lines[:index]
    return lines


def _apply_inline(rule: BoilerplateRule, lines: list[str]) -> list[str]:
    assert rule.pattern is not None
    result = []
    for line in lines:
        spans = [m.span() for m in rule.pattern.finditer(_fold_line(line)) if m.end() > m.start()]
        result.append(_remove_spans(line, spans))
    return result


def _glue(before: str, after: str) -> str:
    before, after = before.rstrip(), after.lstrip()
    if _ASCII_ALNUM_RE.fullmatch(before[-1:]) and _ASCII_ALNUM_RE.fullmatch(after[:1]):
        return f"{before} {after}"  # English words cut by the page break
    return before + after


def _is_peer_marker(rule: BoilerplateRule, line: str) -> bool:
    folded = _fold_line(line)
    return any(peer.fullmatch(folded) for peer in rule.peers)


def _apply_page_marker(rule: BoilerplateRule, lines: list[str]) -> list[str]:
    assert rule.pattern is not None
    is_marker = [rule._matches(rule.pattern, line) for line in lines]
    kept: list[str] = []
    index = 0
    while index < len(lines):
        if not is_marker[index]:
            kept.append(lines[index])
            index += 1
            continue
        following = index + 1
        while following < len(lines) and (is_marker[following] or not lines[following].strip()):
            following += 1
        previous = next((k for k in range(len(kept) - 1, -1, -1) if kept[k].strip()), None)
        # Next to a marker of another rule ("第2页 共3页" above "- 3 -"), only this marker goes:
        # the rule that removes the last marker of the run joins the text around the run.
        if (
            rule.join
            and previous is not None
            and following < len(lines)
            and not (rule.unless_prev and rule.unless_prev.search(_fold_line(kept[previous])))
            and not (rule.unless_next and rule.unless_next.search(_fold_line(lines[following])))
            and not _is_peer_marker(rule, kept[previous])
            and not _is_peer_marker(rule, lines[following])
        ):
            joined = _glue(kept[previous], lines[following])
            del kept[previous:]
            kept.append(joined)
            index = following + 1
        else:
            index += 1
    return kept


_APPLY: dict[str, Callable[[BoilerplateRule, list[str]], list[str]]] = {
    "line": _apply_line,
    "keywords": _apply_keywords,
    "block": _apply_block,
    "tail": _apply_tail,
    "inline": _apply_inline,
    "page_marker": _apply_page_marker,
}


def _compile(source: str, rule_id: str, key: str, value: Any) -> re.Pattern[str]:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{source}: rule '{rule_id}': '{key}' must be a non-empty regex string")
    try:
        return re.compile(value)
    except re.error as exc:
        raise ValueError(f"{source}: rule '{rule_id}': bad regex in '{key}': {exc}") from None


def _positive_int(source: str, rule_id: str, key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{source}: rule '{rule_id}': '{key}' must be a positive integer")
    return value


def _parse_rule(entry: Any, source: str, position: int) -> BoilerplateRule:
    if not isinstance(entry, dict):
        raise ValueError(f"{source}: rule #{position} must be a mapping")
    rule_id = entry.get("id")
    if not isinstance(rule_id, str) or not rule_id.strip():
        raise ValueError(f"{source}: rule #{position} has no 'id'")
    kind = entry.get("kind")
    if kind not in _KIND_KEYS:
        raise ValueError(
            f"{source}: rule '{rule_id}': unknown kind {kind!r} "
            f"(expected one of {', '.join(_KIND_ORDER)})"
        )
    category = entry.get("category")
    if not isinstance(category, str) or not _CATEGORY_RE.fullmatch(category):
        raise ValueError(
            f"{source}: rule '{rule_id}': 'category' must be a lowercase name such as 'date'"
        )
    required, optional = _KIND_KEYS[kind]
    unknown = set(entry) - _COMMON_KEYS - required - optional
    if unknown:
        raise ValueError(
            f"{source}: rule '{rule_id}': unknown key(s) {', '.join(sorted(unknown))} "
            f"for kind '{kind}'"
        )
    missing = required - set(entry)
    if missing:
        raise ValueError(
            f"{source}: rule '{rule_id}': missing key(s) {', '.join(sorted(missing))} "
            f"for kind '{kind}'"
        )
    fields: dict[str, Any] = {}
    for key in ("pattern", "start", "item", "next"):
        if key in entry:
            fields[key] = _compile(source, rule_id, key, entry[key])
    if "max_length" in entry:
        fields["max_length"] = _positive_int(source, rule_id, "max_length", entry["max_length"])
    if kind == "keywords":
        words = entry["words"]
        if not (isinstance(words, list) and words and all(isinstance(w, str) and w for w in words)):
            raise ValueError(f"{source}: rule '{rule_id}': 'words' must be a list of strings")
        fields["words"] = tuple(dict.fromkeys(_fold(w).lower() for w in words))
        fields["min_count"] = _positive_int(source, rule_id, "min_count", entry.get("min_count", 1))
        if fields["min_count"] > len(fields["words"]):
            raise ValueError(f"{source}: rule '{rule_id}': 'min_count' exceeds the number of words")
    if "join" in entry:
        join = entry["join"]
        if not isinstance(join, dict) or set(join) - {"unless_prev", "unless_next"}:
            raise ValueError(
                f"{source}: rule '{rule_id}': 'join' must be a mapping with unless_prev "
                "and/or unless_next"
            )
        fields["join"] = True
        for key in ("unless_prev", "unless_next"):
            if key in join:
                fields[key] = _compile(source, rule_id, f"join.{key}", join[key])
    return BoilerplateRule(id=rule_id, kind=kind, category=category, source=source, **fields)


def _parse_rules_file(text: str, source: str) -> list[BoilerplateRule]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(f"{source}: not valid YAML ({first_line})") from None
    if data is None:
        return []
    if not isinstance(data, dict) or set(data) - {"rules"}:
        raise ValueError(f"{source}: expected a mapping with one key, 'rules'")
    entries = data.get("rules") or []
    if not isinstance(entries, list):
        raise ValueError(f"{source}: 'rules' must be a list")
    return [_parse_rule(entry, source, position) for position, entry in enumerate(entries, 1)]


@lru_cache(maxsize=16)
def _load_rules(default: bool, files: tuple[tuple[str, int, int], ...]) -> BoilerplateRules:
    loaded: list[BoilerplateRule] = []
    sources: list[str] = []
    if default:
        shipped = resources.files(_RESOURCES).joinpath("boilerplate.yaml")
        sources.append(str(shipped))
        loaded.extend(_parse_rules_file(shipped.read_text("utf-8"), str(shipped)))
    for path, _mtime, _size in files:
        sources.append(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"{path}: cannot read boilerplate file ({exc})") from None
        loaded.extend(_parse_rules_file(text, path))
    seen: dict[str, str] = {}
    for rule in loaded:
        if rule.id in seen:
            raise ValueError(f"{rule.source}: rule '{rule.id}': id already used in {seen[rule.id]}")
        seen[rule.id] = rule.source
    ordered = sorted(loaded, key=lambda rule: _KIND_ORDER.index(rule.kind))
    markers = [rule for rule in ordered if rule.kind == "page_marker"]
    ordered = [
        replace(rule, peers=tuple(other.pattern for other in markers if other is not rule))
        if rule.kind == "page_marker" else rule
        for rule in ordered
    ]
    return BoilerplateRules(rules=tuple(ordered), sources=tuple(sources))


def load_boilerplate_rules(config: CleanConfig) -> BoilerplateRules:
    """Load, validate and compile the boilerplate rules a config asks for.

    The shipped ``resources/boilerplate.yaml`` (when ``config.default_boilerplate``) comes
    first, then each of ``config.boilerplate_files`` (relative paths are resolved against the
    current working directory). Compiled rules are cached per file list and file version.

    Parameters
    ----------
    config : CleanConfig
        The ``clean`` section of the run configuration.

    Returns
    -------
    BoilerplateRules
        The compiled rules, sorted into the order they are applied.

    Raises
    ------
    ValueError
        Naming the file (and the rule id) for a missing or unreadable file, invalid YAML, an
        unknown rule kind or key, a missing key, a bad regex, or a duplicate id.

    Examples
    --------
    >>> rules = load_boilerplate_rules(CleanConfig())
    >>> "breadcrumb" in rules.categories
    True
    """
    files = []
    for name in config.boilerplate_files:
        path = Path(name).resolve()
        try:
            stat = path.stat()
        except OSError:
            raise ValueError(f"{name}: boilerplate file not found") from None
        files.append((str(path), stat.st_mtime_ns, stat.st_size))
    return _load_rules(config.default_boilerplate, tuple(files))


def _length(lines: list[str]) -> int:
    return sum(map(len, lines)) + max(len(lines) - 1, 0)


def remove_boilerplate(text: str, rules: BoilerplateRules) -> tuple[str, dict[str, int]]:
    """Remove web-page boilerplate described by ``rules``.

    Every rule is applied in turn (see :class:`BoilerplateRules` for the order) and the set is
    re-applied until nothing changes, so the result is a fixed point.

    Parameters
    ----------
    text : str
        Text in simplified script, lines separated by ``\\n``.
    rules : BoilerplateRules
        From :func:`load_boilerplate_rules`.

    Returns
    -------
    text : str
        The text without boilerplate.
    removed : dict of str to int
        Characters removed per ``"boilerplate.<category>"`` (categories that removed nothing
        are left out).

    Examples
    --------
    >>> rules = load_boilerplate_rules(CleanConfig())
    >>> remove_boilerplate("首页 > 范文大全 > 演讲稿\\n同志们:", rules)
    ('同志们:', {'boilerplate.breadcrumb': 16})
    """
    lines = text.split("\n")
    removed: dict[str, int] = {}
    for _ in range(10):
        changed = False
        for rule in rules.rules:
            after = rule.apply(lines)
            if after != lines:
                key = f"boilerplate.{rule.category}"
                removed[key] = removed.get(key, 0) + _length(lines) - _length(after)
                lines, changed = after, True
        if not changed:
            break
    return "\n".join(lines), removed


# --- step 4: mojibake ----------------------------------------------------------------------

_MAX_GAP = 10  # characters of apparently normal text a garbled run may span between two clues
_SHORT_GAP = 2  # ... and across ASCII punctuation (a realigned byte stream)
# Tab and every Unicode space separator (Zs) but the ideographic space, which _fold makes " ".
_SPACES = " \t\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f"
_BLOCKING = frozenset("\n。、“”‘’《》【】〔〕「」『』…—〝〞")
_ASCII_PUNCT = frozenset(",.;:!()\"'")
_TOKEN_RE = re.compile(rf"[0-9A-Za-z@\\^_`|~\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f]+")
_STRAY_ASCII = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz@\\^_`|~")
_ORPHAN_RE = re.compile(rf"\?([{_PINYIN_LETTERS}]{{1,6}})\)")
_DOUBLE_MARK_RE = re.compile(r"\?[?!]")


def _script(char: str) -> str | None:
    """The class of a character that garbled GBK produces but Chinese prose does not use."""
    code = ord(char)
    if code == 0xFFFD:
        return "replacement"
    if 0xE000 <= code <= 0xF8FF or code >= 0xF0000:
        return "private"
    if 0x0400 <= code <= 0x052F:
        return "cyrillic"
    if (0x3041 <= code <= 0x30FF and code not in (0x306E, 0x30FB)) or 0x31F0 <= code <= 0x31FF:
        return "kana"  # の (see "symbol") and the middle dot ・ are used in Chinese writing
    if 0x3100 <= code <= 0x312F or 0x31A0 <= code <= 0x31BF:
        return "bopomofo"
    if 0x2500 <= code <= 0x257F:
        return "box"
    if 0x0370 <= code <= 0x03FF:
        return "greek"
    if 0x2160 <= code <= 0x217F or 0x2460 <= code <= 0x24FF or 0xFE50 <= code <= 0xFE6F:
        return "symbol"  # Roman numerals, enclosed numbers, small-form punctuation
    if code == 0x306E:
        return "symbol"  # の, which Chinese brand names borrow
    return None


_STRONG_SCRIPTS = frozenset({"replacement", "private", "cyrillic", "kana", "bopomofo", "box"})


@dataclass(frozen=True)
class _Clue:
    start: int
    end: int
    strong: bool
    kind: str


def _neighbour(text: str, index: int, step: int) -> str:
    """The nearest character before (step -1) or after (step 1) ``index`` on the same line,
    skipping spaces; "" at a line end."""
    index += step
    while 0 <= index < len(text):
        char = text[index]
        if char == "\n":
            return ""
        if char not in _SPACES:
            return char
        index += step
    return ""


def _is_wide(char: str) -> bool:
    return bool(char) and not char.isascii() and not char.isspace()


def _is_anchor_context(char: str) -> bool:
    """Is ``char`` Chinese text, a ``?`` or an already certain clue (U+FFFD, private use)?"""
    if _is_han(char) or char == "?":
        return True
    return len(char) == 1 and _script(char) in ("replacement", "private")


def _clues(text: str, folded: str) -> list[_Clue]:
    clues: list[_Clue] = []
    covered: set[int] = set()
    for match in _ORPHAN_RE.finditer(folded):
        if _is_syllable(match[1], need_tone=True):
            clues.append(_Clue(match.start(), match.end(), True, "orphan"))
            covered.update(range(match.start(), match.end()))
    for match in _DOUBLE_MARK_RE.finditer(text):
        for index in range(match.start(), match.end()):
            if index not in covered:
                clues.append(_Clue(index, index + 1, True, "double_mark"))
                covered.add(index)
    for match in _TOKEN_RE.finditer(folded):
        if match.end() - match.start() != 1 or match.start() in covered:
            continue
        index, char = match.start(), match[0]
        left, right = _neighbour(folded, index, -1), _neighbour(folded, index, 1)
        if char in _STRAY_ASCII and (_is_wide(left) or _is_wide(right)):
            clues.append(_Clue(index, index + 1, False, "stray"))
        elif not char.isascii() and (_is_anchor_context(left) or _is_anchor_context(right)):
            clues.append(_Clue(index, index + 1, True, "latin"))  # e.g. a lone tone-marked vowel
    run_start = run_end = 0  # the run of one script the current character belongs to
    for index, char in enumerate(folded):
        if index in covered:
            continue
        if char == "?":  # "？" too: the text is width-folded
            clues.append(_Clue(index, index + 1, False, "question"))
            continue
        if char.isascii():
            continue
        script = _script(char)
        if script is None:
            continue
        if script in ("replacement", "private"):
            clues.append(_Clue(index, index + 1, True, script))
            continue
        # A real word in these scripts is a run; garble leaves one or two characters. The
        # run is measured once, at its first character (per character was quadratic).
        if not run_start <= index < run_end:
            run_start, run_end = index, index + 1
            while run_start > 0 and _script(folded[run_start - 1]) == script:
                run_start -= 1
            while run_end < len(folded) and _script(folded[run_end]) == script:
                run_end += 1
        if run_end - run_start > 2:
            continue
        left, right = _neighbour(folded, run_start, -1), _neighbour(folded, run_end - 1, 1)
        if script == "symbol":
            if _is_anchor_context(left) and _is_anchor_context(right):
                clues.append(_Clue(index, index + 1, False, "symbol"))
        elif _is_anchor_context(left) or _is_anchor_context(right):
            clues.append(_Clue(index, index + 1, script in _STRONG_SCRIPTS, script))
    return sorted(clues, key=lambda clue: clue.start)


def _bridgeable(gap: str) -> bool:
    """May one garbled run span ``gap``, the text between two clues?"""
    if any(char in _BLOCKING for char in gap):
        return False
    size = sum(1 for char in gap if char not in _SPACES)
    if size > _MAX_GAP:
        return False
    return size <= _SHORT_GAP or not any(char in _ASCII_PUNCT for char in gap)


def _garbled_spans(text: str) -> list[tuple[int, int]]:
    folded = _fold(text)
    clues = _clues(text, folded)
    spans: list[tuple[int, int]] = []
    cluster: list[_Clue] = []

    def close() -> None:
        if not cluster:
            return
        # A "?" only widens a cluster: question marks and Latin letters are both real text.
        weak_kinds = {clue.kind for clue in cluster if not clue.strong} - {"question"}
        if any(clue.strong for clue in cluster) or len(weak_kinds) >= 2:
            spans.append((cluster[0].start, max(clue.end for clue in cluster)))

    for clue in clues:
        if cluster and (
            clue.start < cluster[-1].end or _bridgeable(folded[cluster[-1].end : clue.start])
        ):
            cluster.append(clue)
            continue
        close()
        cluster = [clue]
    close()
    return spans


def drop_mojibake(text: str) -> str:
    """Drop fragments garbled by lost GBK bytes, keeping real Latin content.

    Clues of garble are collected first. Certain ones: U+FFFD (left by :func:`strip_pinyin`
    or by a decoder), private-use code points, kana, bopomofo, Cyrillic or box-drawing
    characters standing alone (one or two) next to Chinese, a leftover pinyin fragment
    (``?yún)``), ``??`` or ``?!``, and a lone accented Latin letter next to Chinese. Weak ones:
    a ``?`` (real questions use it too), a lone ASCII letter or ``@\\^_`|~`` glued to Chinese
    (a GBK trail byte), a lone Greek letter, and enclosed numbers or small-form symbols glued
    between Chinese characters. Clues at most 10 characters apart on the same line, with no
    Chinese punctuation between them (and ASCII punctuation only in a gap of two or less), form
    a cluster, which is one garbled run. A cluster holding a certain clue, or weak clues of two
    different kinds other than ``?``, is dropped from its first to its last clue; other clusters
    are kept (``行不行?能不能?``, ``A股和B股``, ``是A股?还是B股?``). Latin words of two or more
    characters (``GDP``, ``ISO14000``, ``110kv``, ``M6``, ``ab集团``) are never clues. A few
    garbled characters outside any clue may stay (``增强信心?傊,``); real text between two
    clues of one run goes with it.

    Parameters
    ----------
    text : str
        Text, ideally after :func:`strip_pinyin` and :func:`to_simplified`.

    Returns
    -------
    str
        The text without the garbled fragments.

    Examples
    --------
    >>> drop_mojibake("人居环境?朔\\ue49d刂乩щy,大力加强ISO14000和GDP")
    '人居环境,大力加强ISO14000和GDP'
    >>> drop_mojibake("能否保持?在宏观经济不确定")
    '能否保持?在宏观经济不确定'
    """
    for _ in range(5):
        spans = _garbled_spans(text)
        if not spans:
            break
        text = _remove_spans(text, spans)
    return text


# --- step 5: normalise ---------------------------------------------------------------------

_SPACE_RUN_RE = re.compile(f"[{_SPACES}]+")
_QUOTE_VARIANTS = str.maketrans({"〝": "“", "〞": "”"})
_TO_FULL_WIDTH = {",": "，", ":": "：", ";": "；", "!": "！", "?": "？", "(": "（", ")": "）"}
_CJK_PUNCT = "，。：；！？（）、“”‘’《》【】…—"
_SPACE_AROUND_PUNCT_RE = re.compile(f" *([{_CJK_PUNCT}]) *")
_PLACEHOLDER_YEAR_RE = re.compile(r"(?<![0-9A-Za-z])(?:20[xX]{2}|20\*{1,2}|[xX]{2,4})(?=年)")
_PLACEHOLDER_20XX_RE = re.compile(r"(?<![0-9A-Za-z])20[xX]{2}(?![0-9A-Za-z])")
_PAREN_PAIR_RE = re.compile(r"\(([^()\n]*)\)")
_BLANK_LINES_RE = re.compile(r"\n{3,}")


def _is_chinese(char: str) -> bool:
    """Is ``char`` Chinese text or Chinese punctuation (the context for full-width marks)?"""
    if not char:
        return False
    code = ord(char)
    return (
        _is_han(char)
        or 0x3000 <= code <= 0x303F
        or 0xFF00 <= code <= 0xFFEF
        or char in "“”‘’…—"
        or 0x3040 <= code <= 0x30FF
    )


# Runs of the characters _context_table looks across: spaces and the ASCII marks that may
# become full width (every character it is asked about lies in such a run).
_CONTEXT_SKIP_RUN_RE = re.compile("[%s]+" % re.escape(" ." + "".join(_TO_FULL_WIDTH)))


def _context_table(text: str) -> dict[int, tuple[str, str]]:
    """For every space or convertible ASCII mark of ``text``: the nearest character before
    and after it on its line that is not a space, a ``.`` or a convertible mark ("" at a line
    end). All characters of one run of such characters share it, so the table is built in
    one pass (looking outwards from every mark was quadratic on long runs such as ``()()()``
    or a long Latin line)."""
    table: dict[int, tuple[str, str]] = {}
    for run in _CONTEXT_SKIP_RUN_RE.finditer(text):
        start, end = run.span()
        before = text[start - 1] if start and text[start - 1] != "\n" else ""
        after = text[end] if end < len(text) and text[end] != "\n" else ""
        for index in range(start, end):
            table[index] = (before, after)
    return table


def _chinese_punctuation(text: str) -> str:
    chars = list(text)
    # Full stop: an ASCII "." after a Han character and not followed by a letter or digit.
    for index, char in enumerate(chars):
        if char == ".":
            before, after = _neighbour(text, index, -1), _neighbour(text, index, 1)
            if _is_han(before) and not (after.isascii() and after.isalnum()):
                chars[index] = "。"
    text = "".join(chars)
    # Bracket pairs, innermost first: full width when the content or the context is Chinese.
    table = _context_table(text)  # of the current text: rebuilt after every pass

    def chinese_context(index: int) -> bool:
        before, after = table[index]
        return _is_chinese(before) or _is_chinese(after)

    def pair(match: re.Match[str]) -> str:
        inner = match[1]
        chinese = (
            any(_is_chinese(c) for c in inner)
            or chinese_context(match.start())
            or chinese_context(match.end() - 1)
        )
        return f"（{inner}）" if chinese else f"\x00{inner}\x01"

    while True:
        converted = _PAREN_PAIR_RE.sub(pair, text)
        if converted == text:
            break
        text = converted
        table = _context_table(text)
    line_starts = [0, *(match.end() for match in re.finditer("\n", text))]
    han_lines: dict[int, bool] = {}

    def line_has_han(index: int) -> bool:
        number = bisect.bisect_right(line_starts, index) - 1
        if number not in han_lines:
            end = line_starts[number + 1] - 1 if number + 1 < len(line_starts) else len(text)
            han_lines[number] = any(_is_han(c) for c in text[line_starts[number]:end])
        return han_lines[number]

    chars = list(text)
    for index, char in enumerate(chars):
        if char in _TO_FULL_WIDTH and not _keeps_ascii(
            text, index, char, table[index], line_has_han
        ):
            chars[index] = _TO_FULL_WIDTH[char]
    return "".join(chars).replace("\x00", "(").replace("\x01", ")")


# A thousands separator is a digit, a comma, then exactly three digits ("1,000", "12,345.6").
_THOUSANDS_GROUP_RE = re.compile(r"\d{3}(?!\d)")


def _keeps_ascii(
    text: str,
    index: int,
    char: str,
    context: tuple[str, str],
    line_has_han: Callable[[int], bool],
) -> bool:
    """Does the ASCII mark at ``index`` stay ASCII? Yes for a thousands separator, a colon
    between digits (``09:47``, ``1:2``), and marks with no Chinese on their line or Latin
    letters on both sides (``CAD,CAXA``); no otherwise, so that ``80%,99%`` and ``第3,7个``
    in a Chinese sentence get their Chinese comma. ``context`` is the mark's entry of
    :func:`_context_table`."""
    before, after = context
    if char == "," and before.isdigit() and _THOUSANDS_GROUP_RE.match(text, index + 1):
        return True
    if char == ":" and before.isdigit() and after.isdigit():
        return True
    if _is_chinese(before) or _is_chinese(after):
        return False
    if not line_has_han(index):
        return True
    return before.isascii() and before.isalpha() and after.isascii() and after.isalpha()


def normalise(text: str) -> str:
    """Normalise widths, punctuation, spaces, blank lines and placeholder years.

    Conventions:

    * Full-width letters, digits and symbols become ASCII (``ＧＤＰ２０`` -> ``GDP20``).
    * Chinese punctuation is full width: ``,:;!?()`` become ``，：；！？（）`` when the nearest
      letter or character beside them is Chinese (not between digits: ``1,000``, ``09:47``),
      bracket pairs are converted together, and a ``.`` after a Han character that does not
      precede a letter or digit becomes ``。``. Marks in Latin context stay ASCII, so later
      stages can split sentences on ``。！？；``. ``〝〞`` become ``“”``.
    * Placeholder years ``20xx年``, ``XX年``, ``XXX年``, ``20*年`` become ``20XX年``, and
      ``20xx`` becomes ``20XX``.
    * Runs of spaces, tabs and ideographic spaces become one space; spaces next to Chinese
      punctuation are dropped (a space between two Han characters is kept: pages use it to
      separate a title from ``篇1``); every line is stripped; at most one blank line is kept
      between paragraphs, none at the start or end. Line breaks are never added or joined.
    * Control and zero-width characters are dropped, line-break variants become ``\\n``.

    Parameters
    ----------
    text : str
        Text in any state.

    Returns
    -------
    str
        The normalised text.

    Examples
    --------
    >>> normalise("  今天,我们召开２０xx年总结会(GDP)!\\n\\n\\n\\n  同志们:  ")
    '今天，我们召开20XX年总结会（GDP）！\\n\\n同志们：'
    """
    text = _sanitise(text)
    text = _fold(text).translate(_QUOTE_VARIANTS)
    text = _SPACE_RUN_RE.sub(" ", text)
    text = _chinese_punctuation(text)
    text = _PLACEHOLDER_YEAR_RE.sub("20XX", text)
    text = _PLACEHOLDER_20XX_RE.sub("20XX", text)
    text = _SPACE_AROUND_PUNCT_RE.sub(r"\1", text)
    lines = [line.strip(" \t") for line in text.split("\n")]
    text = _BLANK_LINES_RE.sub("\n\n", "\n".join(lines))
    return text.strip("\n")


# --- driver --------------------------------------------------------------------------------

# The steps interact: dropping a garbled character can complete a boilerplate line or put a
# Han character before an annotation, and normalising spaces can do the same. The driver
# therefore repeats the steps until a round changes nothing (the second round normally only
# confirms), which is what makes cleaning idempotent.
_MAX_ROUNDS = 4


def clean_text(
    text: str, config: CleanConfig, rules: BoilerplateRules | None = None
) -> tuple[str, dict[str, int]]:
    """Run the cleaning steps the config switches on, in their fixed order.

    The text is first made well-formed (see the module docstring); then strip_pinyin,
    to_simplified, remove_boilerplate, drop_mojibake and normalise run in this order, and the
    round is repeated until it changes nothing (at most four rounds; the second normally only
    confirms), so that ``clean_text(clean_text(x)) == clean_text(x)``. Never raises on any
    ``str`` except for an unusable config (unknown OpenCC profile, bad rule file).

    Parameters
    ----------
    text : str
        The decoded text.
    config : CleanConfig
        Which steps run, the OpenCC profile and the boilerplate files.
    rules : BoilerplateRules, optional
        Pre-loaded rules (load once per run with :func:`load_boilerplate_rules`); loaded from
        ``config`` when omitted.

    Returns
    -------
    text : str
        The cleaned text.
    removed : dict of str to int
        Per step that ran, summed over rounds: ``strip_pinyin``, ``drop_mojibake`` and
        ``normalise`` count the characters they removed (net: normalise can be negative when it
        writes 20XX年 for XX年), ``to_simplified`` the characters it changed, and each
        boilerplate category ``boilerplate.<category>`` that removed something its characters.
        ``sanitise`` appears when the input held control characters, zero-width characters,
        lone surrogates or unusual line breaks.

    Examples
    --------
    >>> text, removed = clean_text("首頁(yè) > 范文\\n開(kāi)發(fā)區(qū)", CleanConfig())
    >>> text
    '开发区'
    >>> removed["strip_pinyin"], removed["to_simplified"], removed["boilerplate.breadcrumb"]
    (17, 4, 8)
    """
    removed: dict[str, int] = {}

    def count(key: str, before: str, after: str) -> str:
        removed[key] = removed.get(key, 0) + len(before) - len(after)
        return after

    sanitised = _sanitise(text)
    if sanitised != text:
        count("sanitise", text, sanitised)
    text = sanitised
    if config.remove_boilerplate and rules is None:
        rules = load_boilerplate_rules(config)
    for _ in range(_MAX_ROUNDS):
        start = text
        if config.strip_pinyin:
            text = count("strip_pinyin", text, strip_pinyin(text))
        if config.to_simplified:
            converted = to_simplified(text, config.opencc_config)
            changed = _changed_chars(text, converted)
            removed["to_simplified"] = removed.get("to_simplified", 0) + changed
            text = converted
        if config.remove_boilerplate:
            assert rules is not None
            text, by_category = remove_boilerplate(text, rules)
            for key, value in by_category.items():
                removed[key] = removed.get(key, 0) + value
        if config.drop_mojibake:
            text = count("drop_mojibake", text, drop_mojibake(text))
        if config.normalise:
            text = count("normalise", text, normalise(text))
        if text == start:
            break
    return text, removed


def clean_source(
    source: SourceText, config: CleanConfig, rules: BoilerplateRules | None = None
) -> CleanedText:
    """Clean one source text; see :func:`clean_text`.

    Parameters
    ----------
    source : SourceText
        The decoded text of one corpus entry.
    config : CleanConfig
        Which cleaning steps run, the OpenCC profile and the boilerplate files.
    rules : BoilerplateRules, optional
        Pre-loaded boilerplate rules (see :func:`load_boilerplate_rules`); loaded from
        ``config`` when omitted.

    Returns
    -------
    CleanedText
        The cleaned text, the characters each step removed, and ``source`` without its
        text (``chars_in`` counts it).

    Raises
    ------
    ValueError
        If the config cannot be used (an unknown OpenCC profile, a bad boilerplate file).

    Examples
    --------
    >>> source = SourceText(source="a.txt", text="開(kāi)發(fā)區(qū)", encoding="utf-8")
    >>> clean_source(source, CleanConfig()).text
    '开发区'
    """
    text, removed = clean_text(source.text, config, rules)
    # the raw text is not kept: a run would hold the whole raw corpus until it ends (and a
    # cleaning worker would send it back to the parent)
    return CleanedText(source=replace(source, text=""), text=text, removed=removed, chars_in=len(source.text))


_WORKER_SETTINGS: tuple[CleanConfig, BoilerplateRules | None] | None = None
#: Below this many characters the texts are cleaned in this process (starting workers costs more).
_PARALLEL_MIN_CHARS = 1_000_000


def _init_clean_worker(config: CleanConfig, rules: BoilerplateRules | None) -> None:
    global _WORKER_SETTINGS
    _WORKER_SETTINGS = (config, rules)


def _clean_in_worker(source: SourceText) -> CleanedText:
    assert _WORKER_SETTINGS is not None, "cleaning worker started without its settings"
    return clean_source(source, *_WORKER_SETTINGS)


def clean_sources(
    sources: Sequence[SourceText],
    config: CleanConfig,
    rules: BoilerplateRules | None = None,
    workers: int = 1,
) -> list[CleanedText]:
    """Clean every source text, in order, in ``workers`` processes when the corpus is large.

    Each text is cleaned on its own (:func:`clean_source`), so the result does not depend
    on the number of processes. A corpus of fewer than a million characters is cleaned in
    this process.

    Examples
    --------
    >>> sources = [SourceText(source="a.txt", text="開(kāi)發(fā)區(qū)", encoding="utf-8")]
    >>> [item.text for item in clean_sources(sources, CleanConfig(), workers=2)]
    ['开发区']
    """
    if workers <= 1 or len(sources) < 2 or sum(len(s.text) for s in sources) < _PARALLEL_MIN_CHARS:
        return [clean_source(source, config, rules) for source in sources]
    from policytopics.workers import ForkedPool

    with ForkedPool(min(workers, len(sources)), initializer=_init_clean_worker, initargs=(config, rules)) as pool:
        # several texts per message; map keeps the input order
        return list(pool.map(_clean_in_worker, sources, chunksize=max(1, len(sources) // (workers * 8))))
