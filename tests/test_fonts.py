"""Tests of fonts.py: the CJK font and its subsets for HTML pages."""

from __future__ import annotations

import io
from base64 import b64decode

import pytest
from fontTools.ttLib import TTFont

from policytopics import fonts


def test_font_is_found_in_mplfonts():
    path = fonts.cjk_font_path()
    assert path.name == "NotoSansCJKsc-Regular.otf" and path.parent.parent.name == "mplfonts"


def test_missing_font_is_a_clear_error(monkeypatch):
    fonts.cjk_font_path.cache_clear()
    monkeypatch.setattr(fonts.importlib.util, "find_spec", lambda name: None)
    try:
        with pytest.raises(fonts.FontError, match="NotoSansCJKsc-Regular.otf.*mplfonts"):
            fonts.cjk_font_path()
    finally:
        monkeypatch.undo()
        fonts.cjk_font_path.cache_clear()


def test_subset_holds_the_text_characters_and_is_reproducible():
    css = fonts.font_face_css("开发区 abc 招商")
    data = b64decode(css.split("base64,")[1].split(")")[0])
    cmap = TTFont(io.BytesIO(data)).getBestCmap()
    assert {ord(char) for char in "开发区招商"} <= set(cmap)
    assert ord("民") not in cmap
    assert fonts.font_face_css("开发区 abc 招商") == css


def test_bounds_are_computed_once_and_the_subset_is_fonttools_own():
    # the subset is what plain fontTools makes (each glyph's bounds drawn three times on save)
    from fontTools import subset
    from fontTools.ttLib import TTFont

    text = "开发区招商引资，民生。"
    options = subset.Options()
    options.hinting, options.desubroutinize, options.name_IDs = False, True, ["*"]
    font = TTFont(str(fonts.cjk_font_path()), lazy=True, recalcTimestamp=False)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=text)
    subsetter.subset(font)
    plain = io.BytesIO()
    font.save(plain)
    assert fonts._make_subset("".join(sorted(set(text))))[0] == plain.getvalue()


def test_a_subset_is_kept_in_the_cache_and_cut_from_the_largest_one(tmp_path, monkeypatch):
    made = []
    make = fonts._make_subset

    def spy(characters, source=None, known_bounds=None):
        made.append((characters, source is not None))
        return make(characters, source, known_bounds)

    monkeypatch.setattr(fonts, "_make_subset", spy)
    fonts._subset_in_memory.cache_clear()
    cache = tmp_path / "cache"
    large, small, other = "开发区招商引资民生就业教育医疗", "招商民生", "生态环保"
    css = fonts.font_face_css(f"<p>{large}</p>", cache_dir=cache)
    assert made == [("".join(sorted(large)), False)]
    # the same characters again: read from the cache, nothing is cut
    assert fonts.font_face_css(f"{large[::-1]} abc", cache_dir=cache) == css
    assert len(made) == 1
    # characters the largest subset holds are cut from it; the bytes are those cut from the font
    from_base = fonts.subset_font("".join(sorted(small)), cache)
    assert made[-1] == ("".join(sorted(small)), True)
    assert from_base == make("".join(sorted(small)))[0]
    # others are cut from the whole font, and a smaller set does not replace the base
    fonts.subset_font("".join(sorted(other)), cache)
    assert made[-1] == ("".join(sorted(other)), False)
    fonts.subset_font("".join(sorted(small[:2])), cache)
    assert made[-1] == ("".join(sorted(small[:2])), True)
    # without a cache folder nothing is written, and the bytes are the same
    fonts._subset_in_memory.cache_clear()
    assert fonts.font_face_css(large) == css
    assert sorted(path.name for path in cache.iterdir()) == ["fonts"]
    assert fonts.subset_key("开发") != fonts.subset_key("开发区")
