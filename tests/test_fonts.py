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
