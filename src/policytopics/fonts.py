"""The CJK font of every output: found in the ``mplfonts`` package, subset for HTML pages.

In: nothing but the installed ``mplfonts`` package, which ships Noto Sans CJK SC (SIL Open
Font License). Out: the font's path (the figures draw every label with it) and CSS
``@font-face`` rules that embed just the glyphs a page uses (``report.html``, ``lda.html``),
so Chinese text renders on a machine without any CJK font and without a download.

Subsetting the CFF font costs about a millisecond per glyph for each of several passes
(a report page holds 2,000 or more distinct characters: 3 to 4 s), so a subset is kept in
the on-disk cache (kind ``fonts``) keyed by the font file's SHA-256, the exact characters,
the fontTools version and this module's source: a rerun whose page uses the same characters
reads it back, byte for byte what fontTools makes. A page whose characters differ a little
(a rerun with another model setting) is cut from the largest subset kept so far, which is
faster and gives the same bytes (:func:`subset_font`).
"""

from __future__ import annotations

import base64
import importlib.util
import io
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from policytopics.errors import PolicytopicsError

#: The font file inside ``mplfonts/fonts/``.
FONT_FILE = "NotoSansCJKsc-Regular.otf"
#: The CSS family name under which HTML pages embed the subset.
CSS_FAMILY = "policytopics-cjk"


class FontError(PolicytopicsError):
    """The CJK font cannot be found; the message says how to install it."""


@lru_cache(maxsize=1)
def cjk_font_path() -> Path:
    """The Noto Sans CJK SC file shipped by ``mplfonts``, found without importing the package.

    Examples
    --------
    >>> cjk_font_path().name
    'NotoSansCJKsc-Regular.otf'
    """
    spec = importlib.util.find_spec("mplfonts")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        candidate = Path(location) / "fonts" / FONT_FILE
        if candidate.is_file():
            return candidate
    raise FontError(
        f"the CJK font {FONT_FILE} was not found (it ships with the 'mplfonts' package; "
        "install the pinned dependencies: pip install -c requirements.lock -e .)"
    )


def font_face_css(text: str, family: str = CSS_FAMILY, cache_dir: str | Path | None = None) -> str:
    """A CSS ``@font-face`` rule embedding the Noto Sans CJK SC glyphs that ``text`` uses.

    Only characters beyond ASCII are embedded (Latin text falls back to the page's other
    fonts). The subset is made by fontTools without hinting and with the font's own
    timestamp kept, so the same characters always give the same bytes.

    Parameters
    ----------
    text : str
        The text whose characters are embedded (e.g. the whole page).
    family : str
        The CSS family name.
    cache_dir : str or Path, optional
        The cache folder (``cache.dir``): the subset is read from its ``fonts`` entries when
        a run made it before, and stored there otherwise (``None``: not cached on disk).

    Returns
    -------
    str
        The ``@font-face`` rule, the subset inlined as a base64 ``data:`` URI.

    Examples
    --------
    >>> css = font_face_css("开发区")
    >>> css.startswith("@font-face { font-family: 'policytopics-cjk'; src: url(data:font/otf;base64,")
    True
    """
    characters = "".join(sorted(char for char in set(text) if ord(char) > 127))
    data = base64.b64encode(subset_font(characters, cache_dir)).decode("ascii")
    return f"@font-face {{ font-family: '{family}'; src: url(data:font/otf;base64,{data}) format('opentype'); }}"


#: The file of a ``fonts`` cache entry.
_SUBSET_FILE = "subset.otf"
#: Bumped when the subset options change (this module's source hash is in the key as well).
_SUBSET_FORMAT = 1


@lru_cache(maxsize=4)
def _font_sha256(path: Path, size: int, mtime_ns: int) -> str:
    from policytopics.provenance import sha256_file

    return sha256_file(path)


def subset_key(characters: str) -> str:
    """The cache key of the subset holding ``characters`` (sorted, distinct, beyond ASCII).

    Parameters
    ----------
    characters : str
        The characters of the subset.

    Returns
    -------
    str
        A 64-character hex SHA-256 of the characters and :func:`font_fingerprint`.

    Examples
    --------
    >>> subset_key("开发区") == subset_key("开发区")
    True
    >>> subset_key("开发区") == subset_key("开发")
    False
    """
    from policytopics.cache import fingerprint

    return fingerprint("font-subset", _SUBSET_FORMAT, font_fingerprint(), characters)


def font_fingerprint() -> str:
    """A hash of what every subset depends on besides its characters: the font file's SHA-256,
    the fontTools version and this module's source (cache keys of pages that embed a subset
    include it).

    Returns
    -------
    str
        A 64-character hex SHA-256.

    Examples
    --------
    >>> len(font_fingerprint())
    64
    """
    from policytopics.cache import fingerprint
    from policytopics.provenance import environment_versions, source_hash

    path = cjk_font_path()
    stat = path.stat()
    return fingerprint(
        _font_sha256(path, stat.st_size, stat.st_mtime_ns), environment_versions("fonttools"), source_hash(__file__),
    )


def subset_font(characters: str, cache_dir: str | Path | None = None) -> bytes:
    """The OpenType subset of Noto Sans CJK SC holding ``characters`` (sorted, distinct).

    With ``cache_dir`` the subset is kept in its ``fonts`` entries: one per set of characters
    (:func:`subset_key`), read back as it is, and a *base*: the largest subset made so far,
    with the bounds of its glyphs. A set of characters that the base holds is cut from the
    base rather than from the whole font (about a third faster: the glyphs are already
    desubroutinised and without hints, and their bounds are known). The result is byte for
    byte the subset cut from the whole font (tests/test_fonts.py checks it): the subsetter
    keeps the font's glyph order, names and layout rules, so cutting a subset again with the
    same options gives what cutting the font once gives.

    Parameters
    ----------
    characters : str
        The characters to embed, sorted and distinct (as :func:`font_face_css` passes them).
    cache_dir : str or Path, optional
        The cache folder (``None``: nothing is read or written there).

    Returns
    -------
    bytes
        The OpenType (CFF) font file.

    Examples
    --------
    >>> subset_font("开发区")[:4]
    b'OTTO'
    """
    if cache_dir is None:
        return _subset_in_memory(characters)
    from policytopics.cache import CacheStore

    store = CacheStore(cache_dir, "fonts")
    key = subset_key(characters)
    cached = store.get_bytes(key, _SUBSET_FILE)
    if cached is not None:
        return cached
    base = _read_base(store)
    if base is not None and set(characters) <= base[0]:
        data, _ = _make_subset(characters, base[1], base[2])
    else:
        data, bounds = _make_subset(characters)
        if base is None or len(characters) > len(base[0]):
            _write_base(store, characters, data, bounds)
    store.put_bytes(key, _SUBSET_FILE, data)
    return data


#: Files of the base entry: the subset, its characters and its glyphs' bounds.
_BASE_FILES = ("base.otf", "characters.txt", "bounds.json")


def _base_key() -> str:
    from policytopics.cache import fingerprint

    return fingerprint("font-base", _SUBSET_FORMAT, font_fingerprint())


def _read_base(store: Any) -> tuple[set[str], bytes, dict[str, Any]] | None:
    entry = store.get(_base_key())
    if entry is None:
        return None
    font_file, characters_file, bounds_file = (entry / name for name in _BASE_FILES)
    bounds = {name: None if box is None else tuple(box) for name, box in json.loads(bounds_file.read_text(encoding="utf-8")).items()}
    return set(characters_file.read_text(encoding="utf-8")), font_file.read_bytes(), bounds


def _write_base(store: Any, characters: str, data: bytes, bounds: dict[str, Any]) -> None:
    def write(folder: Path) -> None:
        font_file, characters_file, bounds_file = (folder / name for name in _BASE_FILES)
        font_file.write_bytes(data)
        characters_file.write_text(characters, encoding="utf-8")
        bounds_file.write_text(json.dumps(bounds, sort_keys=True), encoding="utf-8")

    store.put(_base_key(), write)


@lru_cache(maxsize=4)
def _subset_in_memory(characters: str) -> bytes:
    """The subset, made once per process for the same characters."""
    return _make_subset(characters)[0]


class _KnownBounds:
    """A glyph's bounds, computed once: replaces ``calcBounds`` on one charstring object, which
    ``TTFont.save`` otherwise draws three times (for ``hhea``, ``vhea`` and the CFF FontBBox)."""

    __slots__ = ("bounds",)

    def __init__(self, bounds: tuple[float, ...] | None) -> None:
        self.bounds = bounds

    def __call__(self, glyph_set: object = None) -> tuple[float, ...] | None:
        return self.bounds


def _make_subset(
    characters: str, source: bytes | None = None, known_bounds: dict[str, Any] | None = None
) -> tuple[bytes, dict[str, Any]]:
    """The subset of the whole font (or of ``source``, a subset of it made here) holding
    ``characters``, and the bounds of its glyphs by name (``known_bounds``: those known)."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.hinting = False
    options.desubroutinize = True
    options.name_IDs = ["*"]
    font = TTFont(io.BytesIO(source) if source is not None else str(cjk_font_path()), lazy=True, recalcTimestamp=False)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=characters)
    subsetter.subset(font)
    bounds: dict[str, Any] = {}
    if "CFF " in font:  # the bounds fontTools computes, once per glyph instead of three times
        char_strings = font["CFF "].cff.topDictIndex[0].CharStrings
        known = known_bounds or {}
        for name in font.getGlyphOrder():
            glyph = char_strings[name]
            bounds[name] = known[name] if name in known else glyph.calcBounds(char_strings)
            glyph.calcBounds = _KnownBounds(bounds[name])
    buffer = io.BytesIO()
    font.save(buffer)
    return buffer.getvalue(), bounds
