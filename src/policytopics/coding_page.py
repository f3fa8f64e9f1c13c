"""The offline coding page: one HTML file on which a coder hand-codes passages and answers intrusion tests.

In: the items a coder sees, in presentation order (passages, word-intrusion and
topic-intrusion items, as the coding contract defines them), the passage categories (the
codebook's themes in codebook order, then ``none``) and a title. Out: one HTML page (a
string) that shows one item at a time, with the codebook's descriptions beside a passage,
keyboard shortcuts, answers kept in the browser's ``localStorage`` (keyed by the title) and
a button that downloads them as ``answers.csv`` (``item_id,kind,answer,second,note``).

The page needs no network: the style sheet and the script are in the page, a
Content-Security-Policy forbids every other source, and the items travel as a JSON block
whose ``<`` are written ``\\u003c``, so corpus text such as ``</script>`` cannot end it. Only
the fields a coder should see are embedded: an item's other keys (an intruder, a model's
label) never reach the page. The page logic lives in ``templates/coding_page.html.j2``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from functools import lru_cache
from importlib import resources
from typing import Any

from policytopics.errors import PolicytopicsError

#: The fields of each kind of item that the page shows (anything else stays out of the page).
ITEM_FIELDS = {
    "passage": ("item_id", "kind", "text"),
    "word_intrusion": ("item_id", "kind", "words"),
    "topic_intrusion": ("item_id", "kind", "text", "options"),
}


@lru_cache(maxsize=1)
def _template() -> Any:
    import jinja2

    source = (resources.files("policytopics") / "templates" / "coding_page.html.j2").read_text(encoding="utf-8")
    env = jinja2.Environment(
        autoescape=True, keep_trailing_newline=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True
    )
    return env.from_string(source)


def _page_item(item: Mapping[str, Any]) -> dict[str, Any]:
    kind = item.get("kind")
    if kind not in ITEM_FIELDS:
        raise PolicytopicsError(f"coding page: item {item.get('item_id')!r} has kind {kind!r}, not one of {sorted(ITEM_FIELDS)}")
    missing = [name for name in ITEM_FIELDS[kind] if name not in item]
    if missing or not str(item["item_id"]):
        raise PolicytopicsError(f"coding page: {kind} item {item.get('item_id')!r} lacks {missing or ['an item_id']}")
    page_item = {name: item[name] for name in ITEM_FIELDS[kind]}
    page_item["item_id"] = str(item["item_id"])
    if kind == "word_intrusion":
        page_item["words"] = [str(word) for word in item["words"]]
    if kind == "topic_intrusion":
        page_item["options"] = [{"id": str(o["id"]), "label": str(o["label"])} for o in item["options"]]
    return page_item


def _json_block(data: Any) -> str:
    """JSON that is safe inside ``<script type="application/json">``: no ``<``, ``>`` or ``&``."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def coding_page_html(
    items: Sequence[Mapping[str, Any]],
    categories: Sequence[Mapping[str, Any]],
    title: str,
    protocol_note: str = "",
) -> str:
    """The offline coding page for ``items`` (a self-contained HTML string).

    Parameters
    ----------
    items : sequence of mapping
        The items in presentation order: ``{"item_id", "kind": "passage", "text"}``,
        ``{"item_id", "kind": "word_intrusion", "words"}`` or
        ``{"item_id", "kind": "topic_intrusion", "text", "options": [{"id", "label"}, ...]}``.
        Other keys are left out of the page.
    categories : sequence of mapping
        A passage's categories, ``{"id", "label", "description"}``, in codebook order (then
        ``none``); digits 1..9 and 0 choose the first ten.
    title : str
        The page's title; also the key under which the browser keeps the answers, so two
        sheets need two titles.
    protocol_note : str, optional
        Instructions shown above the items (plain text).

    Returns
    -------
    str
        The HTML page.

    Raises
    ------
    PolicytopicsError
        If an item has an unknown kind or lacks a field, or two items or two categories
        share an id.

    Examples
    --------
    >>> page = coding_page_html(
    ...     [{"item_id": "s001", "kind": "passage", "text": "加快建设现代化产业体系。"}],
    ...     [{"id": "industry", "label": "产业", "description": "industrial policy"},
    ...      {"id": "none", "label": "none", "description": "no theme of the codebook"}],
    ...     title="coder A, city-2024",
    ... )
    >>> page.startswith("<!DOCTYPE html>"), "Download answers (CSV)" in page
    (True, True)
    """
    page_items = [_page_item(item) for item in items]
    page_categories = [
        {"id": str(c["id"]), "label": str(c["label"]), "description": str(c.get("description", ""))} for c in categories
    ]
    for what, ids in (("item", [i["item_id"] for i in page_items]), ("category", [c["id"] for c in page_categories])):
        repeated = sorted(i for i, n in Counter(ids).items() if n > 1)
        if repeated:
            raise PolicytopicsError(f"coding page: repeated {what} ids {repeated}")
    data = {"title": title, "items": page_items, "categories": page_categories}
    return _template().render(title=title, protocol_note=protocol_note, data_json=_json_block(data))
