"""The theme codebook: themes with labels, description and keywords, read from YAML.

:func:`load_codebook` reads and validates a codebook (unknown keys, duplicate ids or
keywords are errors naming the file and theme); :func:`check_keywords` reports which
keywords the tokenizer keeps as one token and which occur in the corpus.

In: a YAML codebook, the tokenizer and the corpus vocabulary. Out: a :class:`Codebook` and a
:class:`KeywordCheck`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from policytopics.errors import PolicytopicsError
from policytopics.provenance import sha256_bytes

__all__ = [
    "UNASSIGNED",
    "Codebook",
    "CodebookError",
    "KeywordCheck",
    "Theme",
    "check_keyword_mapping",
    "check_keywords",
    "load_codebook",
]

#: The label of text, topics or clusters that carry no theme; no theme may use this id.
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
    return Codebook(tuple(themes), str(path), sha256_bytes(raw))


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


def check_keyword_mapping(seed_keywords: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """Validate a theme -> keywords mapping; return it without duplicate keywords, order kept.

    Parameters
    ----------
    seed_keywords : mapping of str to sequence of str
        Theme id to its keywords, in theme order.

    Returns
    -------
    dict of str to list of str
        The same mapping, each keyword once.

    Raises
    ------
    ValueError
        If it is not a non-empty mapping of non-empty theme ids to lists of non-empty strings.

    Examples
    --------
    >>> check_keyword_mapping({"investment": ["招商", "招商", "项目"]})
    {'investment': ['招商', '项目']}
    """
    if not isinstance(seed_keywords, Mapping):
        raise ValueError(f"seed_keywords must map theme ids to keyword lists, got {type(seed_keywords).__name__}")
    if not seed_keywords:
        raise ValueError("seed_keywords is empty: give at least one theme, or None for plain LDA")
    result: dict[str, list[str]] = {}
    for theme, words in seed_keywords.items():
        if not isinstance(theme, str) or not theme:
            raise ValueError(f"seed_keywords: theme ids must be non-empty strings, got {theme!r}")
        if isinstance(words, str) or not isinstance(words, Sequence):
            raise ValueError(f"seed_keywords[{theme!r}]: expected a list of keywords, got {words!r}")
        cleaned: list[str] = []
        for word in words:
            if not isinstance(word, str) or not word:
                raise ValueError(f"seed_keywords[{theme!r}]: keywords must be non-empty strings, got {word!r}")
            if word not in cleaned:
                cleaned.append(word)
        result[theme] = cleaned
    return result
