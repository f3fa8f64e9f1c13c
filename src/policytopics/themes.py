"""Policy themes: the codebook, keyword checks, and theme shares of units and documents.

In: a YAML codebook (themes with id, labels, description and keywords), the tokenizer and
corpus vocabulary (to check keywords), and a unit × topic matrix with the theme of each
topic. Out: a share per theme for every unit and document (plus ``unassigned``, the share
of topics that carry no theme), each one's dominant theme, and each document's ranking.

Shares are additive: a unit's share of a theme is the sum of its shares of the topics that
carry that theme, so every row sums to 1 over the themes and ``unassigned``. A document's
shares are the average of its units' shares weighted by their length in characters, so a
long passage counts for more than a one-line remark, as it does for a listener.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from policytopics.errors import PolicytopicsError

UNASSIGNED = "unassigned"


class CodebookError(PolicytopicsError):
    """A codebook that cannot be used; the message names the file and the theme or key."""


class _ThemeSchema(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label_zh: str
    label_en: str
    description: str
    keywords: list[str]


class _CodebookSchema(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = 1
    themes: list[_ThemeSchema]


@dataclass(frozen=True)
class Theme:
    """One policy theme of the codebook."""

    id: str
    label_zh: str
    label_en: str
    description: str
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class Codebook:
    """The themes in use, in codebook order, and where they came from."""

    themes: tuple[Theme, ...]
    path: str
    sha256: str

    @property
    def ids(self) -> list[str]:
        """Theme ids in codebook order."""
        return [theme.id for theme in self.themes]

    def keywords(self) -> dict[str, list[str]]:
        """Theme id to its keywords."""
        return {theme.id: list(theme.keywords) for theme in self.themes}


def load_codebook(path: str | Path, ids: Sequence[str] | None = None) -> Codebook:
    """Load and check a codebook; keep only ``ids`` (in codebook order) when given.

    Parameters
    ----------
    path : str or Path
        The YAML codebook: ``version`` and a list of ``themes``, each with ``id``,
        ``label_zh``, ``label_en``, ``description`` and ``keywords``.
    ids : sequence of str, optional
        The theme ids to keep (``themes.ids``); all themes when omitted.

    Returns
    -------
    Codebook
        The themes kept, in codebook order (keywords stripped of whitespace), the path, and
        the SHA-256 of the file's bytes.

    Raises
    ------
    CodebookError
        For a missing or malformed file, a duplicate or reserved (``unassigned``) theme id,
        a keyword in two themes, a theme without keywords, or an id in ``ids`` that the
        codebook lacks.

    Examples
    --------
    >>> codebook = load_codebook("configs/themes/devzone.yaml", ["investment", "cadre"])  # doctest: +SKIP
    >>> codebook.ids  # doctest: +SKIP
    ['investment', 'cadre']
    """
    path = Path(path)
    if not path.is_file():
        raise CodebookError(f"themes.codebook: file not found: {path}")
    raw = path.read_bytes()
    try:
        data = yaml.safe_load(raw.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise CodebookError(f"{path}: not valid YAML ({str(error).splitlines()[0]})") from None
    try:
        schema = _CodebookSchema.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"'{'.'.join(str(part) for part in item['loc'])}': {item['msg']}" for item in error.errors()
        )
        raise CodebookError(f"{path}: {problems}") from None
    themes = [
        Theme(t.id, t.label_zh, t.label_en, t.description, tuple(k.strip() for k in t.keywords))
        for t in schema.themes
    ]
    seen: dict[str, str] = {}
    for theme in themes:
        if theme.id in seen or theme.id == UNASSIGNED:
            raise CodebookError(f"{path}: theme id '{theme.id}' is used twice or reserved")
        seen[theme.id] = theme.id
    owner: dict[str, str] = {}
    for theme in themes:
        if not theme.keywords:
            raise CodebookError(f"{path}: theme '{theme.id}' has an empty keyword list")
        for keyword in theme.keywords:
            if keyword in owner and owner[keyword] != theme.id:
                raise CodebookError(
                    f"{path}: keyword '{keyword}' belongs to both '{owner[keyword]}' and '{theme.id}'"
                )
            owner[keyword] = theme.id
    if ids is not None:
        missing = [theme_id for theme_id in ids if theme_id not in seen]
        if missing:
            raise CodebookError(f"themes.ids: {', '.join(missing)} not in the codebook {path}")
        themes = [theme for theme in themes if theme.id in set(ids)]
    return Codebook(tuple(themes), str(path), hashlib.sha256(raw).hexdigest())


@dataclass(frozen=True)
class KeywordCheck:
    """How each keyword fares with the tokenizer and the corpus.

    Attributes
    ----------
    usable : dict of str to list of str
        Per theme, the keywords that are one kept token and occur in the corpus.
    split : dict of str to list of str
        Keywords the tokenizer does not return as one kept token (keyword -> its tokens).
    absent : list of str
        Keywords that are one token but never occur in the corpus tokens.
    """

    usable: dict[str, list[str]]
    split: dict[str, list[str]]
    absent: list[str]

    def rows(self, codebook: Codebook) -> list[dict[str, Any]]:
        """One row per keyword for keywords.csv: theme, keyword, status."""
        rows = []
        for theme in codebook.themes:
            for keyword in theme.keywords:
                if keyword in self.split:
                    status = "split: " + " ".join(self.split[keyword])
                elif keyword in self.absent:
                    status = "absent from corpus"
                else:
                    status = "used"
                rows.append({"theme": theme.id, "keyword": keyword, "status": status})
        return rows


def check_keywords(codebook: Codebook, tokenize: Any, vocabulary: set[str]) -> KeywordCheck:
    """Check every keyword against the tokenizer and the corpus vocabulary.

    A keyword that the tokenizer splits (or drops) cannot be counted in token lists, and a
    keyword that never occurs cannot guide anything: both are reported, and the run goes
    on. A theme left with no usable keyword is an error, since nothing would define it.

    Parameters
    ----------
    codebook : Codebook
    tokenize : callable
        ``str -> list[str]``, the run's tokenizer (``Tokenizer.tokenize``).
    vocabulary : set of str
        Every token of the corpus.

    Returns
    -------
    KeywordCheck
        The usable keywords per theme, the split keywords with their tokens, and the absent
        ones.

    Raises
    ------
    CodebookError
        If a theme has no usable keyword.

    Examples
    --------
    >>> codebook = Codebook((Theme("investment", "招商引资", "Investment", "", ("招商", "项目", "招大引强")),),
    ...                     "demo.yaml", "")
    >>> tokenize = lambda text: ["招大", "引强"] if text == "招大引强" else [text]
    >>> check_keywords(codebook, tokenize, {"招商", "土地"})
    KeywordCheck(usable={'investment': ['招商']}, split={'招大引强': ['招大', '引强']}, absent=['项目'])
    """
    usable: dict[str, list[str]] = {}
    split: dict[str, list[str]] = {}
    absent: list[str] = []
    for theme in codebook.themes:
        usable[theme.id] = []
        for keyword in theme.keywords:
            tokens = tokenize(keyword)
            if tokens != [keyword.lower() if keyword.isascii() else keyword]:
                split[keyword] = tokens
            elif tokens[0] not in vocabulary:
                absent.append(keyword)
            else:
                usable[theme.id].append(tokens[0])
        if not usable[theme.id]:
            raise CodebookError(
                f"{codebook.path}: theme '{theme.id}' has no usable keyword: each is split by "
                f"the tokenizer or absent from the corpus (see `python -m policytopics tokens`)"
            )
    return KeywordCheck(usable, split, absent)


def topic_theme_shares(doc_topic: np.ndarray, topic_themes: Sequence[str | None], theme_ids: Sequence[str]) -> np.ndarray:
    """Theme shares from topic shares: rows × (themes + unassigned), each row summing to 1.

    Parameters
    ----------
    doc_topic : numpy.ndarray
        Rows × topics, each row summing to 1 (units' or documents' topic shares).
    topic_themes : sequence of str or None
        The theme of each topic; ``None`` (or an id not in ``theme_ids``) counts as
        ``unassigned``.
    theme_ids : sequence of str
        The themes in column order.

    Returns
    -------
    numpy.ndarray
        Rows × (``len(theme_ids)`` + 1): each theme's share is the sum of the shares of its
        topics; the last column is ``unassigned``.

    Examples
    --------
    >>> topic_theme_shares(np.array([[0.5, 0.3, 0.2]]), ["a", "b", None], ["a", "b"]).tolist()
    [[0.5, 0.3, 0.2]]
    """
    columns = {theme_id: i for i, theme_id in enumerate(theme_ids)}
    projection = np.zeros((len(topic_themes), len(theme_ids) + 1))
    for topic, theme_id in enumerate(topic_themes):
        projection[topic, columns.get(theme_id, len(theme_ids)) if theme_id else len(theme_ids)] = 1.0
    return doc_topic @ projection


def keyword_theme_shares(token_lists: Sequence[Sequence[str]], keywords: Mapping[str, Sequence[str]]) -> np.ndarray:
    """The plain keyword count: per unit, each theme's share of its keyword hits.

    A unit without any hit is all ``unassigned``. This is the baseline the models must beat.

    Parameters
    ----------
    token_lists : sequence of sequence of str
        The tokens of each unit.
    keywords : mapping of str to sequence of str
        Theme id to its keywords, in theme (column) order.

    Returns
    -------
    numpy.ndarray
        Units × (themes + unassigned): each theme's share of the unit's keyword hits (every
        occurrence counts), each row summing to 1.

    Examples
    --------
    >>> keyword_theme_shares([["招商引资", "民生", "招商引资"], ["会议"]],
    ...                      {"investment": ["招商引资"], "livelihood": ["民生"]}).round(3).tolist()
    [[0.667, 0.333, 0.0], [0.0, 0.0, 1.0]]
    """
    theme_ids = list(keywords)
    owner = {keyword: i for i, theme_id in enumerate(theme_ids) for keyword in keywords[theme_id]}
    shares = np.zeros((len(token_lists), len(theme_ids) + 1))
    for row, tokens in enumerate(token_lists):
        for token in tokens:
            if token in owner:
                shares[row, owner[token]] += 1
        total = shares[row].sum()
        if total:
            shares[row] /= total
        else:
            shares[row, -1] = 1.0
    return shares


def combine_theme_shares(model_shares: np.ndarray, keyword_shares: np.ndarray, keyword_weight: float) -> np.ndarray:
    """Average the topic model's theme shares with the keyword evidence, unit by unit.

    Both inputs are rows × (themes + unassigned) and sum to 1 per row. A row with keyword
    hits becomes ``keyword_weight * keyword_shares + (1 - keyword_weight) * model_shares``; a
    row without any hit (``keyword_shares`` all ``unassigned``) keeps ``model_shares``, since
    the absence of a keyword is no evidence for "unassigned". Rows still sum to 1.

    Parameters
    ----------
    model_shares : numpy.ndarray
        The topic model's theme shares (:func:`topic_theme_shares`).
    keyword_shares : numpy.ndarray
        The keyword shares of the same rows (:func:`keyword_theme_shares`).
    keyword_weight : float
        The weight of the keyword evidence, in [0, 1].

    Returns
    -------
    numpy.ndarray
        The combined shares, of the same shape.

    Raises
    ------
    ValueError
        If ``keyword_weight`` is outside [0, 1].

    Examples
    --------
    >>> model = np.array([[0.2, 0.6, 0.2], [0.5, 0.1, 0.4]])
    >>> keywords = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    >>> combine_theme_shares(model, keywords, 0.5).round(2).tolist()
    [[0.6, 0.3, 0.1], [0.5, 0.1, 0.4]]
    """
    if not 0.0 <= keyword_weight <= 1.0:
        raise ValueError(f"keyword_weight must be in [0, 1], got {keyword_weight!r}")
    has_hits = keyword_shares[:, -1] < 1.0
    mixed = keyword_weight * keyword_shares + (1.0 - keyword_weight) * model_shares
    return np.where(has_hits[:, None], mixed, model_shares)


def dominant_themes(shares: np.ndarray, theme_ids: Sequence[str], min_share: float) -> list[str]:
    """Each row's dominant theme: the largest share, if it is a theme's and at least
    ``min_share``; otherwise ``unassigned``. Ties go to the theme listed first.

    Parameters
    ----------
    shares : numpy.ndarray
        Rows × (themes + unassigned), e.g. from :func:`combine_theme_shares`.
    theme_ids : sequence of str
        The themes in column order.
    min_share : float
        The smallest share a dominant theme may have.

    Returns
    -------
    list of str
        One theme id (or ``"unassigned"``) per row.

    Examples
    --------
    >>> dominant_themes(np.array([[0.6, 0.3, 0.1], [0.2, 0.2, 0.6]]), ["a", "b"], 0.3)
    ['a', 'unassigned']
    """
    labels = []
    for row in shares:
        best = int(np.argmax(row))
        labels.append(theme_ids[best] if best < len(theme_ids) and row[best] >= min_share else UNASSIGNED)
    return labels


def document_theme_shares(
    unit_shares: np.ndarray, unit_doc_ids: Sequence[str], unit_lengths: Sequence[int], doc_ids: Sequence[str]
) -> np.ndarray:
    """Length-weighted average of unit shares per document (a document without units: NaN).

    Parameters
    ----------
    unit_shares : numpy.ndarray
        Units × (themes + unassigned).
    unit_doc_ids : sequence of str
        The document of each unit; each must be in ``doc_ids``.
    unit_lengths : sequence of int
        The weight of each unit: its length in characters.
    doc_ids : sequence of str
        The documents, in row order of the result.

    Returns
    -------
    numpy.ndarray
        Documents × (themes + unassigned); a row of NaN for a document without units.

    Raises
    ------
    KeyError
        If a unit's document is not in ``doc_ids``.

    Examples
    --------
    >>> shares = np.array([[0.8, 0.2], [0.2, 0.8], [0.5, 0.5]])
    >>> document_theme_shares(shares, ["d1", "d1", "d2"], [30, 10, 5], ["d1", "d2", "d3"]).round(2).tolist()
    [[0.65, 0.35], [0.5, 0.5], [nan, nan]]
    """
    index = {doc_id: i for i, doc_id in enumerate(doc_ids)}
    totals = np.zeros((len(doc_ids), unit_shares.shape[1]))
    weights = np.zeros(len(doc_ids))
    for shares, doc_id, length in zip(unit_shares, unit_doc_ids, unit_lengths):
        totals[index[doc_id]] += shares * length
        weights[index[doc_id]] += length
    with np.errstate(invalid="ignore", divide="ignore"):
        return totals / weights[:, None]


def theme_ranking(shares: np.ndarray, theme_ids: Sequence[str]) -> list[str]:
    """Theme ids of one row ordered by share, largest first (``unassigned`` excluded).

    Parameters
    ----------
    shares : numpy.ndarray
        One row of shares: the themes in ``theme_ids`` order, then ``unassigned`` (ignored).
    theme_ids : sequence of str
        The themes in column order.

    Returns
    -------
    list of str
        Every theme id, by share descending; ties keep column order.

    Examples
    --------
    >>> theme_ranking(np.array([0.2, 0.5, 0.2, 0.1]), ["a", "b", "c"])
    ['b', 'a', 'c']
    """
    order = sorted(range(len(theme_ids)), key=lambda i: (-shares[i], i))
    return [theme_ids[i] for i in order]
