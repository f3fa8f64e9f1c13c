"""The CJK font of every output: found in the ``mplfonts`` package, subset for HTML pages.

In: nothing but the installed ``mplfonts`` package, which ships Noto Sans CJK SC (SIL Open
Font License). Out: the font's path (the figures draw every label with it) and CSS
``@font-face`` rules that embed just the glyphs a page uses (``report.html``, ``lda.html``),
so Chinese text renders on a machine without any CJK font and without a download.
"""

from __future__ import annotations

import base64
import importlib.util
import io
from functools import lru_cache
from pathlib import Path

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


def font_face_css(text: str, family: str = CSS_FAMILY) -> str:
    """A CSS ``@font-face`` rule embedding the Noto Sans CJK SC glyphs that ``text`` uses.

    Only characters beyond ASCII are embedded (Latin text falls back to the page's other
    fonts). The subset is made by fontTools without hinting and with the font's own
    timestamp kept, so the same characters always give the same bytes.

    Examples
    --------
    >>> css = font_face_css("开发区")
    >>> css.startswith("@font-face { font-family: 'policytopics-cjk'; src: url(data:font/otf;base64,")
    True
    """
    from fontTools import subset
    from fontTools.ttLib import TTFont

    characters = "".join(sorted({char for char in text if ord(char) > 127}))
    options = subset.Options()
    options.hinting = False
    options.desubroutinize = True
    options.name_IDs = ["*"]
    font = TTFont(str(cjk_font_path()), lazy=True, recalcTimestamp=False)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=characters)
    subsetter.subset(font)
    buffer = io.BytesIO()
    font.save(buffer)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f"@font-face {{ font-family: '{family}'; src: url(data:font/otf;base64,{data}) format('opentype'); }}"
