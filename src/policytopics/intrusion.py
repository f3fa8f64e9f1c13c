"""Word and topic intrusion tests of a run's topics and themes, and their scores.

The validity tests of Chang et al. (2009), in the form of the R package oolong (Chan &
Sältzer 2020), generated from a run folder (``results/<name>/``) without refitting:

- :func:`word_intrusion_items`: per topic, its top terms (data-only, as ``topic_terms.csv``
  lists them) plus one *intruder*, a term high in another topic and not among this topic's
  top 20. A coherent topic lets a coder spot the intruder.
- :func:`topic_intrusion_items`: sampled units the run assigns to a theme, each with its three
  highest-share themes plus one theme with a low share. A unit whose shares mean what they
  say lets a coder spot the intruding theme.
- :func:`score_intrusion`: model precision per topic (share of answers that pick the
  intruder word) and the topic log odds per item (Chang et al. 2009).
- :func:`read_answers`: a coder's answers CSV (the coding page's download or the older
  hand-filled ``sample_id,theme,second,note`` sheet).

Items hold only what a coder sees; the answer key (``intrusion_key.csv``,
:data:`KEY_COLUMNS`) is returned separately and must never be shown with them.

In: a run folder (``topics.csv``, ``topic_terms.csv``, ``units.csv``,
``config.resolved.yaml`` and its codebook; ``model/`` when present). Out: items, key rows
and scores (plain dicts and lists, ready for CSV or JSON).
"""

from __future__ import annotations

import csv
import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from policytopics.validation_inputs import LabelsError, RunFolderError, read_coded_csv, run_codebook

__all__ = [
    "ANSWER_COLUMNS",
    "KEY_COLUMNS",
    "KINDS",
    "LEGACY_ANSWER_COLUMNS",
    "SHARE_FLOOR",
    "read_answers",
    "score_intrusion",
    "topic_intrusion_items",
    "word_intrusion_items",
]

logger = logging.getLogger("policytopics")

#: Header of an answers CSV as the coding page writes it.
ANSWER_COLUMNS = ("item_id", "kind", "answer", "second", "note")
#: Header of the older hand-filled coding sheets (every row a passage).
LEGACY_ANSWER_COLUMNS = ("sample_id", "theme", "second", "note")
#: Columns of ``intrusion_key.csv`` (``shares`` is empty for word-intrusion rows).
KEY_COLUMNS = ("item_id", "kind", "topic", "intruder", "candidates", "shares")
#: The kinds of items.
KINDS = ("passage", "word_intrusion", "topic_intrusion")
#: Shares below this (the precision of the run's tables, 6 decimals) count as this in log odds.
SHARE_FLOOR = 1e-6
#: Smoothing of the topic-term counts, as the run's data-only probabilities use it.
_DATA_SMOOTHING = 1e-9
#: Themes shown per topic-intrusion item besides the intruder.
_TOP_THEMES = 3


# --------------------------------------------------------------------------- run folder


def _read_table(path: Path, columns: Sequence[str]) -> list[dict[str, str]]:
    """Rows of a run's CSV file; ``RunFolderError`` when it is missing or lacks ``columns``."""
    if not path.is_file():
        raise RunFolderError(f"{path}: file not found (intrusion items need a finished run folder)")
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        header = list(reader.fieldnames or ())
        rows = list(reader)
    missing = [column for column in columns if column not in header]
    if missing:
        raise RunFolderError(f"{path}: missing columns {', '.join(missing)}")
    return rows


def _ranked_terms(run_dir: Path) -> dict[int, list[str]]:
    """Topic number to its listed top terms (``topic_terms.csv``) by rank, for every topic of ``topics.csv``."""
    topic_rows = _read_table(run_dir / "topics.csv", ("topic",))
    term_rows = _read_table(run_dir / "topic_terms.csv", ("topic", "rank", "term"))
    try:
        topics = sorted(int(row["topic"]) for row in topic_rows)
        ranked = sorted((int(row["topic"]), int(row["rank"]), row["term"].strip()) for row in term_rows)
    except ValueError:
        raise RunFolderError(f"{run_dir}: a topic number or rank that is not an integer") from None
    terms: dict[int, list[str]] = {topic: [] for topic in topics}
    for topic, _rank, term in ranked:
        if topic not in terms:
            raise RunFolderError(f"{run_dir / 'topic_terms.csv'}: topic {topic} is not in topics.csv")
        if any(character.isspace() for character in term) or not term:
            raise RunFolderError(
                f"{run_dir / 'topic_terms.csv'}: topic {topic} has the term {term!r} (empty or with "
                f"whitespace; the answer key joins terms with spaces)"
            )
        if term not in terms[topic]:
            terms[topic].append(term)
    return terms


def _model_rankings(run_dir: Path, depth: int) -> dict[int, list[str]] | None:
    """Each topic's ``depth`` most probable terms from ``model/`` (data-only), or None without it.

    The expected counts ``model/topic_term_counts.npy`` plus the run's 1e-9 smoothing rank
    the terms (the order of ``topic_terms.csv``, beyond its ``lda.top_n`` rows); the terms
    come from ``model/dictionary.gensim`` (a gensim pickle: load only run folders you trust).
    """
    counts_path = run_dir / "model" / "topic_term_counts.npy"
    dictionary_path = run_dir / "model" / "dictionary.gensim"
    if not (counts_path.is_file() and dictionary_path.is_file()):
        return None
    from gensim.corpora import Dictionary

    counts = np.load(counts_path, allow_pickle=False)
    dictionary = Dictionary.load(str(dictionary_path))
    if counts.ndim != 2 or counts.shape[1] != len(dictionary):
        raise RunFolderError(
            f"{counts_path}: shape {counts.shape} does not fit the {len(dictionary)} terms of {dictionary_path}"
        )
    weights = np.asarray(counts, dtype=float) + _DATA_SMOOTHING
    rankings: dict[int, list[str]] = {}
    for topic, row in enumerate(weights):
        order = np.argsort(-row, kind="stable")[:depth]
        rankings[topic] = [dictionary[int(term_id)] for term_id in order]
    return rankings


def _run_themes(run_dir: Path, codebook: str | Path | None) -> list[tuple[str, str]]:
    """The run's themes as (id, Chinese label), in codebook order (:func:`run_codebook`)."""
    return [(theme.id, theme.label_zh) for theme in run_codebook(run_dir, codebook).themes]


def _item_id(prefix: str, number: int, total: int) -> str:
    """``w001``, ``t012``: the item's number from 1, zero-padded to at least 3 digits."""
    return f"{prefix}{number:0{max(3, len(str(total)))}d}"


# --------------------------------------------------------------------------- word intrusion


def word_intrusion_items(
    run_dir: str | Path,
    n_per_topic: int = 1,
    n_words: int = 6,
    random_state: int | None = 0,
    *,
    exclude_top: int = 20,
) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """Word-intrusion items of a run's topics (Chang et al. 2009), and their answer key.

    Each item shows a topic's ``n_words - 1`` top terms (data-only, in the run's
    ``topic_terms.csv``) and one intruder, shuffled. The intruder is drawn uniformly from the
    terms among the top ``n_words - 1`` of another topic (high there) that are not among
    this topic's top ``exclude_top`` terms (low here). Those come from ``model/`` when the
    run folder has it (gensim pickle files: use only run folders you trust); otherwise only the terms ``topic_terms.csv`` lists (``lda.top_n``) can
    be excluded, and a warning says so when they are fewer than ``exclude_top``. Items come
    topic by topic; the ``n_per_topic`` items of a topic have different intruders.

    Parameters
    ----------
    run_dir : str or Path
        The run folder, ``results/<name>/``.
    n_per_topic : int
        Items per topic.
    n_words : int
        Words per item, the intruder included (at least 3).
    random_state : int or None
        Seed of ``numpy.random.default_rng``: the same seed gives the same items.
    exclude_top : int
        An intruder is never among this many top terms of the item's topic.

    Returns
    -------
    items : list of dict
        ``{"item_id": "w001", "kind": "word_intrusion", "words": [...]}`` per item.
    key_rows : list of dict of str
        The answer key, one row per item with :data:`KEY_COLUMNS`: ``topic`` (the topic
        number), ``intruder``, ``candidates`` (the words joined by a space, as shown) and an
        empty ``shares``.

    Raises
    ------
    RunFolderError
        For missing files or columns, or a topic with fewer than ``n_words - 1`` top terms.
    ValueError
        For bad arguments, or a topic for which fewer than ``n_per_topic`` intruders qualify.

    Examples
    --------
    >>> items, key = word_intrusion_items("results/default", random_state=1)  # doctest: +SKIP
    >>> items[0]["kind"], len(items[0]["words"]), key[0]["topic"]  # doctest: +SKIP
    ('word_intrusion', 6, '0')
    """
    run_dir = Path(run_dir)
    if n_words < 3:
        raise ValueError(f"n_words must be at least 3, not {n_words}")
    if n_per_topic < 1:
        raise ValueError(f"n_per_topic must be at least 1, not {n_per_topic}")
    if exclude_top < n_words - 1:
        raise ValueError(f"exclude_top ({exclude_top}) must be at least n_words - 1 ({n_words - 1})")
    listed = _ranked_terms(run_dir)
    n_shown = n_words - 1
    short = [topic for topic, terms in listed.items() if len(terms) < n_shown]
    if short:
        raise RunFolderError(
            f"{run_dir / 'topic_terms.csv'}: topic {short[0]} lists {len(listed[short[0]])} terms, "
            f"fewer than the {n_shown} an item shows (n_words={n_words})"
        )
    model = _model_rankings(run_dir, exclude_top)
    if model is not None and sorted(model) != sorted(listed):
        raise RunFolderError(f"{run_dir / 'model'}: {len(model)} topics, topics.csv {len(listed)}")
    if model is None and min(len(terms) for terms in listed.values()) < exclude_top:
        logger.warning(
            "word intrusion: %s lists %d terms per topic and has no model/ folder: intruders are only "
            "kept out of those, not out of each topic's top %d",
            run_dir / "topic_terms.csv",
            min(len(terms) for terms in listed.values()),
            exclude_top,
        )

    rng = np.random.default_rng(random_state)
    total = len(listed) * n_per_topic
    items: list[dict[str, Any]] = []
    key_rows: list[dict[str, str]] = []
    for topic, terms in listed.items():
        shown = terms[:n_shown]
        excluded = set(terms[:exclude_top]) | set(model[topic] if model is not None else ())
        pool: list[str] = []  # ordered (topic, rank): the draw does not depend on set order
        for other, other_terms in listed.items():
            if other != topic:
                pool.extend(term for term in other_terms[:n_shown] if term not in excluded and term not in pool)
        if len(pool) < n_per_topic:
            raise ValueError(
                f"topic {topic}: {len(pool)} terms of other topics' top {n_shown} are outside its top "
                f"{exclude_top}, fewer than n_per_topic={n_per_topic}"
            )
        intruders = [pool[int(index)] for index in rng.choice(len(pool), size=n_per_topic, replace=False)]
        for intruder in intruders:
            words = [*shown, intruder]
            words = [words[int(index)] for index in rng.permutation(len(words))]
            item_id = _item_id("w", len(items) + 1, total)
            items.append({"item_id": item_id, "kind": "word_intrusion", "words": words})
            key_rows.append(
                {
                    "item_id": item_id,
                    "kind": "word_intrusion",
                    "topic": str(topic),
                    "intruder": intruder,
                    "candidates": " ".join(words),
                    "shares": "",
                }
            )
    return items, key_rows


# --------------------------------------------------------------------------- topic intrusion


def _intruder_pool(order: Sequence[int], shares: Sequence[float]) -> list[int]:
    """Theme indices an intruder is drawn from: the lower half (by share) of the themes outside
    the top three, with every theme tied with the highest share of that half."""
    rest = sorted(order[_TOP_THEMES:], key=lambda index: (shares[index], index))
    size = max(1, math.ceil(len(rest) / 2))
    ceiling = shares[rest[size - 1]]
    return [index for index in rest if shares[index] <= ceiling]


def topic_intrusion_items(
    run_dir: str | Path,
    n_items: int,
    random_state: int | None = 0,
    *,
    codebook: str | Path | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """Topic-intrusion items of a run's units (Chang et al. 2009), and their answer key.

    Draws ``n_items`` units, uniformly without replacement, from the units that
    ``units.csv`` assigns to a theme (``theme`` is a theme id, not ``mixed`` or ``none``).
    Each item shows the unit's text and four themes, shuffled: its three highest-share themes
    (``theme_<id>`` columns; ties by codebook order) and an intruder drawn uniformly from the
    lower half, by share, of the other themes. When a unit is carried by one or two themes,
    the third option may share the intruder's (lowest) share; choosing it then scores log
    odds 0, like the intruder.

    Parameters
    ----------
    run_dir : str or Path
        The run folder, ``results/<name>/``.
    n_items : int
        Number of items (units).
    random_state : int or None
        Seed of ``numpy.random.default_rng``: the same seed gives the same items.
    codebook : str or Path, optional
        The codebook; by default ``themes.codebook`` of the run's ``config.resolved.yaml``
        (from the working directory, else relative to the run folder or the two folders
        above it), restricted to ``themes.ids``.

    Returns
    -------
    items : list of dict
        ``{"item_id": "t001", "kind": "topic_intrusion", "text": ..., "options": [{"id":
        ..., "label": ...}, ...]}`` per item, the label being the theme's Chinese label.
    key_rows : list of dict of str
        The answer key with :data:`KEY_COLUMNS`: ``topic`` (the unit_id), ``intruder`` (a
        theme id), ``candidates`` (the option ids joined by a space, as shown) and
        ``shares`` (the unit's shares of those themes as ``units.csv`` gives them, same order).

    Raises
    ------
    RunFolderError
        For missing files, a codebook not found or with other themes than the run's
        ``summary.json``, or a theme without its ``theme_<id>`` column.
    ValueError
        For fewer than four themes, or more items than units assigned to a theme.

    Examples
    --------
    >>> items, key = topic_intrusion_items("results/default", 20, random_state=1)  # doctest: +SKIP
    >>> len(items[0]["options"]), key[0]["intruder"] in key[0]["candidates"].split()  # doctest: +SKIP
    (4, True)
    """
    run_dir = Path(run_dir)
    themes = _run_themes(run_dir, codebook)
    if len(themes) < _TOP_THEMES + 1:
        raise ValueError(f"topic intrusion needs at least {_TOP_THEMES + 1} themes; the run has {len(themes)}")
    ids = [theme_id for theme_id, _ in themes]
    labels = dict(themes)
    columns = [f"theme_{theme_id}" for theme_id in ids]
    units = _read_table(run_dir / "units.csv", ("unit_id", "text", "theme", *columns))
    assigned = sorted((row for row in units if row["theme"].strip() in labels), key=lambda row: row["unit_id"])
    if n_items < 1 or n_items > len(assigned):
        raise ValueError(f"n_items must be between 1 and {len(assigned)} (the units assigned to a theme), not {n_items}")

    rng = np.random.default_rng(random_state)
    chosen = rng.choice(len(assigned), size=n_items, replace=False)
    items: list[dict[str, Any]] = []
    key_rows: list[dict[str, str]] = []
    for number, index in enumerate(chosen, start=1):
        row = assigned[int(index)]
        try:
            shares = [float(row[column]) for column in columns]
        except ValueError:
            raise RunFolderError(f"{run_dir / 'units.csv'}: unit {row['unit_id']} has a share that is not a number") from None
        order = sorted(range(len(ids)), key=lambda theme: (-shares[theme], theme))
        pool = _intruder_pool(order, shares)
        intruder = pool[int(rng.integers(len(pool)))]
        options = [*order[:_TOP_THEMES], intruder]
        options = [options[int(position)] for position in rng.permutation(len(options))]
        item_id = _item_id("t", number, n_items)
        items.append(
            {
                "item_id": item_id,
                "kind": "topic_intrusion",
                "text": row["text"],
                "options": [{"id": ids[option], "label": labels[ids[option]]} for option in options],
            }
        )
        key_rows.append(
            {
                "item_id": item_id,
                "kind": "topic_intrusion",
                "topic": row["unit_id"],
                "intruder": ids[intruder],
                "candidates": " ".join(ids[option] for option in options),
                "shares": " ".join(row[columns[option]].strip() for option in options),
            }
        )
    return items, key_rows


# --------------------------------------------------------------------------- answers


def read_answers(path: str | Path) -> list[dict[str, str]]:
    """A coder's answers CSV, in the coding page's format or the older hand-filled one.

    Parameters
    ----------
    path : str or Path
        A UTF-8 CSV with the columns ``item_id,kind,answer`` (``second`` and ``note``
        optional), or the older ``sample_id,theme`` (``second``, ``note`` optional; every row
        a passage).

    Returns
    -------
    list of dict of str
        One dict per row, in file order, with the keys ``item_id``, ``kind``, ``answer``,
        ``second`` and ``note`` (ids and answers stripped of surrounding whitespace). An
        empty ``answer`` is kept: the item counts as unanswered.

    Raises
    ------
    LabelsError
        For a missing or unreadable file, missing columns, an empty item id, an unknown
        ``kind``, or an item id on two rows.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "coder_a.csv")
    >>> with open(path, "w", encoding="utf-8") as handle:
    ...     _ = handle.write("sample_id,theme,second,note\\ns001,planning,,\\ns002,none,industry,farms\\n")
    >>> [(row["item_id"], row["kind"], row["answer"], row["second"]) for row in read_answers(path)]
    [('s001', 'passage', 'planning', ''), ('s002', 'passage', 'none', 'industry')]
    """
    path = Path(path)
    header, rows = read_coded_csv(path, "answers")
    if "item_id" in header:
        missing = [column for column in ("item_id", "kind", "answer") if column not in header]
        legacy = False
    elif "sample_id" in header:
        missing = [column for column in ("sample_id", "theme") if column not in header]
        legacy = True
    else:
        missing, legacy = ["item_id"], False
    if missing:
        raise LabelsError(
            f"{path}: missing columns {', '.join(missing)} (expected {','.join(ANSWER_COLUMNS)} "
            f"or {','.join(LEGACY_ANSWER_COLUMNS)})"
        )
    answers: list[dict[str, str]] = []
    seen: dict[str, int] = {}
    for number, row in rows:
        if not any((value or "").strip() for value in row.values() if isinstance(value, str)):
            continue  # a blank line of a spreadsheet
        item_id = (row.get("sample_id" if legacy else "item_id") or "").strip()
        kind = "passage" if legacy else (row.get("kind") or "").strip()
        if not item_id:
            raise LabelsError(f"{path}:{number}: empty item id")
        if kind not in KINDS:
            raise LabelsError(f"{path}:{number}: item {item_id} has kind {kind!r}, not one of {', '.join(KINDS)}")
        if item_id in seen:
            raise LabelsError(f"{path}:{number}: item {item_id} is answered again (first on row {seen[item_id]})")
        seen[item_id] = number
        answers.append(
            {
                "item_id": item_id,
                "kind": kind,
                "answer": (row.get("theme" if legacy else "answer") or "").strip(),
                "second": (row.get("second") or "").strip(),
                "note": row.get("note") or "",
            }
        )
    return answers


# --------------------------------------------------------------------------- scores


def _answers_by_item(answers: Iterable[Mapping[str, Any]], coder: str, kinds: Mapping[str, str]) -> dict[str, str]:
    """One coder's non-empty intrusion answers by item id, checked against the key's items."""
    found: dict[str, str] = {}
    for row in answers:
        item_id = str(row.get("item_id") or "").strip()
        kind = str(row.get("kind") or "").strip()
        if kind == "passage":
            continue
        if item_id not in kinds:
            raise ValueError(f"{coder}: item {item_id!r} ({kind or 'no kind'}) is not in the answer key")
        if kind and kind != kinds[item_id]:
            raise ValueError(f"{coder}: item {item_id} is answered as {kind}, but the key has it as {kinds[item_id]}")
        if item_id in found:
            raise ValueError(f"{coder}: item {item_id} is answered twice")
        answer = str(row.get("answer") or "").strip()
        if answer:
            found[item_id] = answer
    return found


def score_intrusion(
    key_rows: Sequence[Mapping[str, Any]],
    answers: Sequence[Mapping[str, Any]] | Mapping[str, Sequence[Mapping[str, Any]]],
) -> dict[str, Any]:
    """Model precision and topic log odds of coders' answers to intrusion items.

    - Model precision of a topic (Chang et al. 2009): the share of the answers to its
      word-intrusion items that pick the intruder; overall: the mean over answered items of
      the share of their answers that pick it.
    - Topic log odds of an answer: ``log(share of the intruder) - log(share of the chosen
      theme)`` in the unit's shares (0 when the intruder is chosen; more negative = worse;
      shares below :data:`SHARE_FLOOR` count as it). Per item the mean over its answers;
      overall the mean over answered items.

    Unanswered items (no row, or an empty answer) are counted as missing, not as wrong.
    Passage answers in the same file are ignored.

    Parameters
    ----------
    key_rows : sequence of dict
        The answer key (:func:`word_intrusion_items`, :func:`topic_intrusion_items`, or the
        rows of ``intrusion_key.csv``).
    answers : sequence of dict, or mapping of str to sequence of dict
        One coder's answer rows (``item_id``, ``kind``, ``answer``; :func:`read_answers`),
        or several coders' rows by coder name, pooled.

    Returns
    -------
    dict
        ``n_coders``, and per kind:

        - ``word_intrusion``: ``n_items``, ``n_answered``, ``missing`` (item ids without any
          answer), ``model_precision`` (overall; None without answers) and ``by_topic``:
          per topic (as in the key) ``n_items``, ``n_answered``, ``n_answers`` and
          ``model_precision``.
        - ``topic_intrusion``: ``n_items``, ``n_answered``, ``missing``,
          ``mean_log_odds`` (None without answers) and ``by_item``: per item ``unit_id``,
          ``n_answers``, ``log_odds`` (None when unanswered).

    Raises
    ------
    ValueError
        For an answer that is not one of its item's candidates (naming the item), an answer
        to an item not in the key, an item answered twice by one coder, or a malformed key.

    Examples
    --------
    >>> key = [
    ...     {"item_id": "w001", "kind": "word_intrusion", "topic": "0", "intruder": "污染",
    ...      "candidates": "项目 污染 招商 投资 园区 企业", "shares": ""},
    ...     {"item_id": "t001", "kind": "topic_intrusion", "topic": "u1", "intruder": "reform",
    ...      "candidates": "cadre reform economy planning", "shares": "0.5 0.01 0.2 0.1"},
    ... ]
    >>> answers = [{"item_id": "w001", "kind": "word_intrusion", "answer": "污染"},
    ...            {"item_id": "t001", "kind": "topic_intrusion", "answer": "cadre"}]
    >>> scores = score_intrusion(key, answers)
    >>> scores["word_intrusion"]["model_precision"], round(scores["topic_intrusion"]["mean_log_odds"], 4)
    (1.0, -3.912)
    """
    by_coder = dict(answers) if isinstance(answers, Mapping) else {"coder": answers}
    kinds: dict[str, str] = {}
    key: dict[str, tuple[str, str, str, list[str], list[float] | None]] = {}
    for row in key_rows:
        item_id = str(row.get("item_id") or "").strip()
        kind = str(row.get("kind") or "").strip()
        if kind not in ("word_intrusion", "topic_intrusion") or not item_id or item_id in key:
            raise ValueError(f"answer key: item {item_id!r} of kind {kind!r} is not a new intrusion item")
        candidates = str(row.get("candidates") or "").split()
        intruder = str(row.get("intruder") or "").strip()
        if intruder not in candidates:
            raise ValueError(f"answer key: item {item_id}: the intruder {intruder!r} is not among its candidates")
        shares = None
        if kind == "topic_intrusion":
            try:
                shares = [max(float(value), SHARE_FLOOR) for value in str(row.get("shares") or "").split()]
            except ValueError:
                raise ValueError(f"answer key: item {item_id}: shares that are not numbers") from None
            if len(shares) != len(candidates):
                raise ValueError(f"answer key: item {item_id}: {len(shares)} shares for {len(candidates)} candidates")
        kinds[item_id] = kind
        key[item_id] = (kind, str(row.get("topic") or "").strip(), intruder, candidates, shares)

    chosen: dict[str, list[str]] = {item_id: [] for item_id in key}
    for coder, rows in by_coder.items():
        for item_id, answer in _answers_by_item(rows, str(coder), kinds).items():
            candidates = key[item_id][3]
            if answer not in candidates:
                raise ValueError(
                    f"{coder}: item {item_id}: the answer {answer!r} is not one of its candidates ({' '.join(candidates)})"
                )
            chosen[item_id].append(answer)

    topics: dict[str, dict[str, Any]] = {}
    word_scores: list[float] = []
    word_missing: list[str] = []
    log_odds_items: dict[str, dict[str, Any]] = {}
    topic_scores: list[float] = []
    topic_missing: list[str] = []
    for item_id, (kind, topic, intruder, candidates, shares) in key.items():
        picks = chosen[item_id]
        if kind == "word_intrusion":
            entry = topics.setdefault(topic, {"n_items": 0, "n_answered": 0, "n_answers": 0, "hits": 0})
            entry["n_items"] += 1
            if not picks:
                word_missing.append(item_id)
                continue
            hits = sum(pick == intruder for pick in picks)
            entry["n_answered"] += 1
            entry["n_answers"] += len(picks)
            entry["hits"] += hits
            word_scores.append(hits / len(picks))
        else:
            assert shares is not None
            share_of = dict(zip(candidates, shares, strict=True))
            if not picks:
                topic_missing.append(item_id)
                log_odds_items[item_id] = {"unit_id": topic, "n_answers": 0, "log_odds": None}
                continue
            values = [math.log(share_of[intruder]) - math.log(share_of[pick]) for pick in picks]
            mean = float(np.mean(values))
            log_odds_items[item_id] = {"unit_id": topic, "n_answers": len(picks), "log_odds": mean}
            topic_scores.append(mean)

    by_topic = {
        topic: {
            "n_items": entry["n_items"],
            "n_answered": entry["n_answered"],
            "n_answers": entry["n_answers"],
            "model_precision": entry["hits"] / entry["n_answers"] if entry["n_answers"] else None,
        }
        for topic, entry in topics.items()
    }
    n_word = sum(entry["n_items"] for entry in topics.values())
    return {
        "n_coders": len(by_coder),
        "word_intrusion": {
            "n_items": n_word,
            "n_answered": len(word_scores),
            "missing": word_missing,
            "model_precision": float(np.mean(word_scores)) if word_scores else None,
            "by_topic": by_topic,
        },
        "topic_intrusion": {
            "n_items": len(log_odds_items),
            "n_answered": len(topic_scores),
            "missing": topic_missing,
            "mean_log_odds": float(np.mean(topic_scores)) if topic_scores else None,
            "by_item": log_odds_items,
        },
    }
