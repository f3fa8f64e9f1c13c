"""Cleaning of one text: pinyin, script, web boilerplate, garbled bytes, punctuation and spaces.

In: the decoded text of one corpus entry (a ``SourceText``, or a plain ``str``) and the
``clean`` section of the config (``CleanConfig``). Out: a ``CleanedText`` holding the cleaned
text, with ``\\n`` line structure kept (later stages read lines as paragraphs), and the number
of characters each step removed.

:func:`clean_text` makes the text well-formed, then runs the steps the config switches on, in
this order, until a round changes nothing: :func:`~policytopics.pinyin.strip_pinyin`,
:func:`to_simplified` (OpenCC; defined here), :func:`~policytopics.boilerplate.remove_boilerplate`,
:func:`~policytopics.mojibake.drop_mojibake` and :func:`~policytopics.normalisation.normalise`.
:func:`clean_sources` cleans a corpus, in worker processes when it is large. The method is
described in docs/methods.md, section 1.2.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import lru_cache
from typing import Any

from policytopics.boilerplate import (
    BoilerplateRule,
    BoilerplateRules,
    load_boilerplate_rules,
    remove_boilerplate,
)
from policytopics.characters import GARBLE_MARK, SURROGATE_RE, sanitise
from policytopics.config import CleanConfig
from policytopics.mojibake import drop_mojibake
from policytopics.normalisation import normalise
from policytopics.pinyin import strip_pinyin
from policytopics.records import CleanedText, SourceText
from policytopics.workers import process_pool, worker_context

__all__ = [
    "GARBLE_MARK",
    "BoilerplateRule",
    "BoilerplateRules",
    "clean_source",
    "clean_sources",
    "clean_text",
    "drop_mojibake",
    "load_boilerplate_rules",
    "normalise",
    "remove_boilerplate",
    "strip_pinyin",
    "to_simplified",
]

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
    text = SURROGATE_RE.sub(GARBLE_MARK, text)
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

    The text is first made well-formed (:func:`~policytopics.characters.sanitise`: lone
    surrogates become U+FFFD, every line-break form becomes ``\\n``, control and zero-width
    characters are dropped); then strip_pinyin, to_simplified, remove_boilerplate,
    drop_mojibake and normalise run in this order, and the round is repeated until it changes
    nothing (at most four rounds; the second normally only confirms), so that
    ``clean_text(clean_text(x)) == clean_text(x)``. Never raises on any ``str`` except for an
    unusable config (unknown OpenCC profile, bad rule file).

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

    sanitised = sanitise(text)
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



#: Below this many characters the texts are cleaned in this process (starting workers costs more).
_PARALLEL_MIN_CHARS = 1_000_000


def _clean_in_worker(source: SourceText) -> CleanedText:
    config, rules = worker_context()
    return clean_source(source, config, rules)


def clean_sources(
    sources: Sequence[SourceText],
    config: CleanConfig,
    rules: BoilerplateRules | None = None,
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> list[CleanedText]:
    """Clean every source text, in order, in ``workers`` processes when the corpus is large.

    Each text is cleaned on its own (:func:`clean_source`), so the result does not depend
    on the number of processes. A corpus of fewer than a million characters is cleaned in
    this process.

    Parameters
    ----------
    sources : sequence of SourceText
        The decoded texts, in corpus order.
    config : CleanConfig
        Which cleaning steps run, the OpenCC profile and the boilerplate files.
    rules : BoilerplateRules, optional
        Pre-loaded boilerplate rules (see :func:`load_boilerplate_rules`); loaded from
        ``config`` when omitted.
    workers : int
        How many processes may clean (1: this process only).
    progress : callable, optional
        Called as ``progress(done, total)`` after each text is cleaned (e.g.
        :func:`policytopics.progress.progress_callback`).

    Returns
    -------
    list of CleanedText
        One per source, in the order of ``sources``.

    Examples
    --------
    >>> sources = [SourceText(source="a.txt", text="開(kāi)發(fā)區(qū)", encoding="utf-8")]
    >>> [item.text for item in clean_sources(sources, CleanConfig(), workers=2)]
    ['开发区']
    """
    cleaned: list[CleanedText] = []

    def done(item: CleanedText) -> None:
        cleaned.append(item)
        if progress is not None:
            progress(len(cleaned), len(sources))

    if workers <= 1 or len(sources) < 2 or sum(len(s.text) for s in sources) < _PARALLEL_MIN_CHARS:
        for source in sources:
            done(clean_source(source, config, rules))
        return cleaned
    with process_pool(min(workers, len(sources)), context=(config, rules)) as pool:
        # several texts per message; map keeps the input order
        for item in pool.map(_clean_in_worker, sources, chunksize=max(1, len(sources) // (workers * 8))):
            done(item)
    return cleaned
