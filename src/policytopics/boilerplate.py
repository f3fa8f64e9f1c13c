"""Cleaning step 3: remove web-page boilerplate described by rule files.

The rules live in ``resources/boilerplate.yaml`` (plus ``clean.boilerplate_files``); that
file documents the rule kinds (``line``, ``keywords``, ``block``, ``tail``, ``inline``,
``page_marker``). :func:`load_boilerplate_rules` validates and compiles them once per run;
:func:`remove_boilerplate` applies them to one text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from policytopics.characters import ASCII_ALNUM_RE, fold, remove_spans
from policytopics.config import CleanConfig

__all__ = ["BoilerplateRule", "BoilerplateRules", "load_boilerplate_rules", "remove_boilerplate"]

_RESOURCES = "policytopics.resources"


@lru_cache(maxsize=8192)
def _fold_line(line: str) -> str:
    """``fold`` of one line, remembered: every boilerplate rule looks at every line, and
    ``str.translate`` with a mapping was most of the cleaning time (py-spy: 58%)."""
    return fold(line)


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
        result.append(remove_spans(line, spans))
    return result


def _glue(before: str, after: str) -> str:
    before, after = before.rstrip(), after.lstrip()
    if ASCII_ALNUM_RE.fullmatch(before[-1:]) and ASCII_ALNUM_RE.fullmatch(after[:1]):
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
        fields["words"] = tuple(dict.fromkeys(fold(w).lower() for w in words))
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

