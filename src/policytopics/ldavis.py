"""A self-contained, reproducible LDAvis page (pyLDAvis) for a fitted topic model.

In: a topic-term matrix, a document-topic matrix, document lengths, the vocabulary and the
corpus term frequencies (any topic model: gensim LDA, or clusters as term distributions), or
a fitted :class:`~policytopics.models.lda.LdaTopicModel` (:func:`model_ldavis_html`). Out:
one HTML page (a string, or a file) that works offline and is byte-identical for identical
inputs.

Which topic-term distribution a run's page shows: :func:`model_ldavis_html`, which the run
uses, takes the model's data-only distribution
(:attr:`~policytopics.models.lda.LdaTopicModel.topic_term_data_`: the units' expected counts
per topic plus a 1e-9 smoothing, normalised), not its posterior ``topic_term_``, in which a
guided topic's keywords carry the prior's pseudo-counts (as many again as their corpus
count). The bars, the relevance ranking and the distances between topics then show what the
units put in each topic, like ``topics.csv``, rather than partly echo the codebook.

How the page differs from ``pyLDAvis.save_html``:

* **Self-contained.** pyLDAvis' own templates load d3 and LDAvis from CDNs
  (``d3js.org``, ``cdn.jsdelivr.net``). Here the copies shipped inside the installed
  pyLDAvis package are inlined: ``js/d3.v5.min.js``, ``js/ldavis.v3.0.0.js`` and
  ``js/ldavis.v1.0.0.css`` (the files ``pyLDAvis.urls`` selects for pyLDAvis 3.x), plus the
  prepared data, into ``templates/ldavis.html.j2``. The two footnote hyperlinks that
  LDAvis draws (to the Termite and LDAvis papers) are removed from the inlined script; the
  page lists both references as plain text instead. What remains of ``http(s)://`` text
  is never loaded: URLs inside JavaScript/CSS comments (licence header, source
  attributions) and d3's XML namespace identifiers such as
  ``http://www.w3.org/2000/svg``.
* **Works from a file.** LDAvis records its state in the address (``#topic=..``) with
  ``history.replaceState(location.origin + location.pathname + ..)``; ``location.origin``
  is ``"null"`` for ``file://`` pages in some browsers, so the inlined script uses
  ``location.href`` without its fragment instead.
* **Deterministic.** A fixed element id (:data:`VIS_ID`; pyLDAvis draws a random one),
  topics kept in model order (``sort_topics=False``), a single process (``n_jobs=1``), a
  Jensen-Shannon principal-coordinate layout computed with a symmetric eigensolver and a
  fixed sign per axis, and every float of the data rounded to 6 significant digits before
  it is written (so last-bit noise cannot change the bytes). Dictionary order in the data
  is the fixed order of ``PreparedData.to_dict``.
* **Chinese terms** are written as UTF-8 (``<meta charset="utf-8">``), not as ``\\u``
  escapes; ``<``, ``>``, ``&`` and U+2028/U+2029 inside terms are escaped so that no term
  can end the ``<script>`` element.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from functools import lru_cache
from importlib import metadata as importlib_metadata
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from policytopics.fonts import font_face_css

__all__ = ["VIS_ID", "ldavis_data", "ldavis_html", "model_ldavis_html", "write_ldavis_html"]

#: The fixed HTML id of the visualisation element.
VIS_ID = "policytopics-ldavis"
#: pyLDAvis files inlined into the page (those pyLDAvis 3.x's own templates reference).
D3_FILE = "d3.v5.min.js"
LDAVIS_JS_FILE = "ldavis.v3.0.0.js"
LDAVIS_CSS_FILE = "ldavis.v1.0.0.css"
#: Significant digits kept for every float of the page data.
FLOAT_DIGITS = 6

# LDAvis draws its two footnotes as SVG links to the papers; drop the link targets.
_EXTERNAL_LINK_ATTR = re.compile(
    r"""\.attr\(\s*(["'])(?:xlink:)?href\1\s*,\s*(["'])(?:https?:)?//[^"']*\2\s*\)"""
)
_STATE_URL_OLD = "location.origin + location.pathname"
_STATE_URL_NEW = 'location.href.split("#")[0]'
_SCRIPT_END = re.compile(r"</script|<!--", re.IGNORECASE)
_STYLE_END = re.compile(r"</style", re.IGNORECASE)
_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


@lru_cache(maxsize=1)
def _assets() -> dict[str, str]:
    """The inlined d3, LDAvis script and CSS, read from the installed pyLDAvis package."""
    js_dir = resources.files("pyLDAvis") / "js"
    d3_js = (js_dir / D3_FILE).read_text(encoding="utf-8")
    ldavis_js = (js_dir / LDAVIS_JS_FILE).read_text(encoding="utf-8")
    css = (js_dir / LDAVIS_CSS_FILE).read_text(encoding="utf-8")
    ldavis_js = _EXTERNAL_LINK_ATTR.sub("", ldavis_js)
    ldavis_js = ldavis_js.replace(_STATE_URL_OLD, _STATE_URL_NEW)
    for name, text in ((D3_FILE, d3_js), (LDAVIS_JS_FILE, ldavis_js)):
        if _SCRIPT_END.search(text):
            raise RuntimeError(f"pyLDAvis/js/{name} contains '</script' or '<!--': cannot inline it")
    if _STYLE_END.search(css):
        raise RuntimeError(f"pyLDAvis/js/{LDAVIS_CSS_FILE} contains '</style': cannot inline it")
    return {"d3_js": d3_js, "ldavis_js": ldavis_js, "ldavis_css": css}


@lru_cache(maxsize=1)
def _template() -> Any:
    import jinja2

    source = (resources.files("policytopics") / "templates" / "ldavis.html.j2").read_text(
        encoding="utf-8"
    )
    env = jinja2.Environment(autoescape=True, keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    return env.from_string(source)


def _jensen_shannon_pcoa(distributions: Any) -> np.ndarray:
    """Two principal coordinates of the topics' Jensen-Shannon divergences (pyLDAvis' layout).

    Same distances as ``pyLDAvis.js_PCoA`` (natural-log JS divergence, classical scaling),
    but with ``numpy.linalg.eigh`` on the symmetrised matrix (real output) and each axis'
    sign fixed so that its largest-magnitude coordinate is positive.
    """
    p = np.asarray(distributions, dtype=np.float64)
    p = p / p.sum(axis=1, keepdims=True)
    k = p.shape[0]

    def kl(a: np.ndarray, b: np.ndarray) -> float:
        mask = a > 0
        return float(np.sum(a[mask] * np.log(a[mask] / b[mask])))

    dist = np.zeros((k, k))
    for i in range(k):
        for j in range(i + 1, k):
            m = 0.5 * (p[i] + p[j])
            dist[i, j] = dist[j, i] = 0.5 * (kl(p[i], m) + kl(p[j], m))
    centre = np.eye(k) - np.ones((k, k)) / k
    b = -centre @ (dist**2) @ centre / 2
    b = (b + b.T) / 2
    eigvals, eigvecs = np.linalg.eigh(b)
    order = np.argsort(eigvals, kind="stable")[::-1][:2]
    eigvals, eigvecs = eigvals[order], eigvecs[:, order]
    eigvals = np.where(np.isclose(eigvals, 0) | (eigvals < 0), 0.0, eigvals)
    coords = np.sqrt(eigvals) * eigvecs
    for axis in range(coords.shape[1]):
        column = coords[:, axis]
        if column.size and column[np.argmax(np.abs(column))] < 0:
            coords[:, axis] = -column
    if coords.shape[1] < 2:  # a single topic
        coords = np.pad(coords, ((0, 0), (0, 2 - coords.shape[1])))
    return coords + 0.0  # no negative zeros


def _as_rows(matrix: Any, name: str) -> np.ndarray:
    array = np.asarray(matrix, dtype=np.float64)
    if array.ndim != 2 or 0 in array.shape:
        raise ValueError(f"{name} must be a non-empty 2-D array, got shape {array.shape}")
    if not np.all(np.isfinite(array)) or np.any(array < 0):
        raise ValueError(f"{name} must hold finite non-negative probabilities")
    sums = array.sum(axis=1, keepdims=True)
    if np.any(sums <= 0):
        raise ValueError(f"{name} has a row that sums to 0 (rows must be distributions)")
    return array / sums


def _round(value: Any) -> Any:
    """numpy scalars to Python, floats to FLOAT_DIGITS significant digits, recursively."""
    if isinstance(value, dict):
        return {str(key): _round(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_round(item) for item in value]
    if isinstance(value, np.ndarray):
        return [_round(item) for item in value.tolist()]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if not math.isfinite(value):
            return value
        return float(f"{value:.{FLOAT_DIGITS}g}") + 0.0
    return value


def ldavis_data(
    topic_term: Any,
    doc_topic: Any,
    doc_lengths: Sequence[float],
    vocabulary: Sequence[str],
    term_frequency: Sequence[float],
    *,
    lambda_step: float = 0.01,
    R: int = 30,
) -> dict[str, Any]:
    """The LDAvis data (``pyLDAvis.prepare`` output as a dict), rounded for stable bytes.

    Parameters are those of :func:`ldavis_html`.

    Returns
    -------
    dict
        Keys ``mdsDat``, ``tinfo``, ``token.table``, ``R``, ``lambda.step``,
        ``plot.opts``, ``topic.order``, as LDAvis reads them.

    Examples
    --------
    >>> data = ldavis_data([[0.7, 0.2, 0.1], [0.1, 0.2, 0.7]], [[0.9, 0.1], [0.2, 0.8]],
    ...                    [10, 12], ["招商", "服务", "生态"], [8, 5, 9], R=3)
    >>> data["topic.order"], sorted(set(data["tinfo"]["Term"]))
    ([1, 2], ['招商', '服务', '生态'])
    """
    import pyLDAvis

    topic_term = _as_rows(topic_term, "topic_term")
    doc_topic = _as_rows(doc_topic, "doc_topic")
    vocabulary = [str(term) for term in vocabulary]
    n_topics, n_terms = topic_term.shape
    if doc_topic.shape[1] != n_topics:
        raise ValueError(
            f"doc_topic has {doc_topic.shape[1]} topics, topic_term has {n_topics}"
        )
    if len(vocabulary) != n_terms:
        raise ValueError(f"vocabulary has {len(vocabulary)} terms, topic_term has {n_terms}")
    if len(set(vocabulary)) != n_terms:
        raise ValueError("vocabulary terms must be unique")
    doc_lengths = np.asarray(doc_lengths, dtype=np.float64)
    term_frequency = np.asarray(term_frequency, dtype=np.float64)
    if doc_lengths.shape != (doc_topic.shape[0],):
        raise ValueError(f"doc_lengths has {doc_lengths.size} entries, doc_topic has {doc_topic.shape[0]} rows")
    if term_frequency.shape != (n_terms,):
        raise ValueError(f"term_frequency has {term_frequency.size} entries, vocabulary {n_terms}")
    if not (0 < lambda_step <= 1):
        raise ValueError(f"lambda_step must be in (0, 1], got {lambda_step}")

    prepared = pyLDAvis.prepare(
        topic_term,
        doc_topic,
        doc_lengths,
        vocabulary,
        term_frequency,
        R=int(R),
        lambda_step=float(lambda_step),
        mds=_jensen_shannon_pcoa,
        n_jobs=1,
        sort_topics=False,
        start_index=1,
    )
    return _round(prepared.to_dict())


def _data_js(data: dict[str, Any]) -> str:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=True)
    return "".join(_JSON_ESCAPES.get(char, char) for char in text)


def ldavis_html(
    topic_term: Any,
    doc_topic: Any,
    doc_lengths: Sequence[float],
    vocabulary: Sequence[str],
    term_frequency: Sequence[float],
    *,
    lambda_step: float = 0.01,
    R: int = 30,
    title: str = "policytopics: topic model (LDAvis)",
    embed_font: bool = True,
    cache_dir: str | Path | None = None,
) -> str:
    """Render a self-contained, deterministic LDAvis page.

    Parameters
    ----------
    topic_term : array-like of shape (n_topics, n_terms)
        Term distribution of each topic (rows are renormalised to sum 1).
    doc_topic : array-like of shape (n_docs, n_topics)
        Topic distribution of each document (rows are renormalised to sum 1).
    doc_lengths : sequence of float, length n_docs
        Tokens per document (in the model's vocabulary).
    vocabulary : list of str, length n_terms
        The terms, in the column order of ``topic_term``.
    term_frequency : sequence of float, length n_terms
        Corpus frequency of each term.
    lambda_step : float, default=0.01
        Step of the relevance-lambda grid (pyLDAvis ``lambda_step``).
    R : int, default=30
        Terms shown per bar chart.
    title : str
        Page title and header line (HTML-escaped).
    embed_font : bool, default True
        Embed the CJK glyphs of the shown terms (:func:`policytopics.fonts.font_face_css`),
        so the page renders Chinese on a machine without a CJK font.
    cache_dir : str or Path, optional
        The cache folder (``cache.dir``; ``None``: nothing is cached): the page is kept there
        (kind ``ldavis``) under a hash of every input above, the package versions, the
        font and the code, so a rerun with the same model reads it back instead of preparing
        it again; so is its font subset.

    Returns
    -------
    str
        The HTML page; topics are numbered from 1 in the order of ``topic_term``'s rows.

    Examples
    --------
    >>> page = ldavis_html([[0.7, 0.2, 0.1], [0.1, 0.2, 0.7]], [[0.9, 0.1], [0.2, 0.8]],
    ...                    [10, 12], ["招商", "服务", "生态"], [8, 5, 9], R=3)
    >>> 'id="policytopics-ldavis"' in page and "招商" in page and 'src="http' not in page
    True
    """
    store = key = None
    if cache_dir is not None:
        from policytopics.cache import CacheStore

        store = CacheStore(cache_dir, "ldavis")
        key = _page_key(topic_term, doc_topic, doc_lengths, vocabulary, term_frequency,
                        lambda_step=lambda_step, R=R, title=title, embed_font=embed_font)
        data = store.get_bytes(key, _PAGE_FILE)
        if data is not None:
            return data.decode("utf-8")
    page = _render_page(topic_term, doc_topic, doc_lengths, vocabulary, term_frequency,
                        lambda_step=lambda_step, R=R, title=title, embed_font=embed_font, cache_dir=cache_dir)
    if store is not None:
        store.put_bytes(key, _PAGE_FILE, page.encode("utf-8"))
    return page


#: The file of an ``ldavis`` cache entry; bump the format when the page's inputs change.
_PAGE_FILE = "lda.html"
_PAGE_FORMAT = 1


def _page_key(
    topic_term: Any, doc_topic: Any, doc_lengths: Sequence[float], vocabulary: Sequence[str],
    term_frequency: Sequence[float], *, lambda_step: float, R: int, title: str, embed_font: bool,
) -> str:
    """The cache key of a page: its exact inputs, the versions of what renders it, the code
    (this module, its template) and, with ``embed_font``, the font."""
    from policytopics.cache import fingerprint
    from policytopics.fonts import font_fingerprint
    from policytopics.provenance import array_digest, environment_versions, sha256_bytes, source_hash

    def digest(values: Any) -> list[Any]:
        return array_digest(np.asarray(values, dtype=np.float64))

    template = Path(str(resources.files("policytopics") / "templates" / "ldavis.html.j2"))
    return fingerprint(
        "ldavis", _PAGE_FORMAT, digest(topic_term), digest(doc_topic), digest(doc_lengths),
        sha256_bytes(json.dumps([str(term) for term in vocabulary], ensure_ascii=False).encode("utf-8", "surrogatepass")),
        digest(term_frequency), float(lambda_step), int(R), title, bool(embed_font),
        environment_versions("pyLDAvis", "pandas", "numpy", "scipy", "Jinja2", "MarkupSafe"),
        [source_hash(__file__), source_hash(template)], font_fingerprint() if embed_font else None,
    )


def _render_page(
    topic_term: Any, doc_topic: Any, doc_lengths: Sequence[float], vocabulary: Sequence[str],
    term_frequency: Sequence[float], *, lambda_step: float, R: int, title: str, embed_font: bool,
    cache_dir: str | Path | None,
) -> str:
    data = ldavis_data(
        topic_term, doc_topic, doc_lengths, vocabulary, term_frequency,
        lambda_step=lambda_step, R=R,
    )
    from markupsafe import Markup

    assets = _assets()
    return _template().render(
        title=title,
        vis_id=VIS_ID,
        n_topics=len(data["topic.order"]),
        n_terms=len(vocabulary),
        n_docs=len(doc_lengths),
        start_index=1,
        pyldavis_version=importlib_metadata.version("pyLDAvis"),
        ldavis_css=Markup(assets["ldavis_css"]),
        d3_js=Markup(assets["d3_js"]),
        ldavis_js=Markup(assets["ldavis_js"]),
        data_js=Markup(_data_js(data)),
        font_face=Markup(font_face_css(title + "".join(data["tinfo"]["Term"]), cache_dir=cache_dir)) if embed_font else "",
    )


def write_ldavis_html(
    path: str | Path,
    topic_term: Any,
    doc_topic: Any,
    doc_lengths: Sequence[float],
    vocabulary: Sequence[str],
    term_frequency: Sequence[float],
    **kwargs: Any,
) -> Path:
    """Write :func:`ldavis_html` to ``path`` as UTF-8 (LF line ends) and return the path.

    Parameters
    ----------
    path : str or Path
        The HTML file to write; its folder must exist.
    topic_term, doc_topic, doc_lengths, vocabulary, term_frequency, **kwargs
        As for :func:`ldavis_html`.

    Returns
    -------
    Path

    Examples
    --------
    >>> write_ldavis_html("results/x/ldavis.html", topics, doc_topics, lengths,  # doctest: +SKIP
    ...                   vocab, freqs, title="seed corpus")
    PosixPath('results/x/ldavis.html')
    """
    path = Path(path)
    page = ldavis_html(topic_term, doc_topic, doc_lengths, vocabulary, term_frequency, **kwargs)
    path.write_bytes(page.encode("utf-8"))
    return path


def model_ldavis_html(model: Any, doc_lengths: Sequence[float], **kwargs: Any) -> str:
    """The LDAvis page of a fitted :class:`~policytopics.models.lda.LdaTopicModel`.

    Shows the model's data-only topic-term distribution (``model.topic_term_data_``, no
    prior pseudo-counts; see the module docstring), its units' topic proportions
    (``model.doc_topic_``), its vocabulary and term frequencies. Units of length 0 are left
    out (LDAvis needs every length above 0).

    Parameters
    ----------
    model : LdaTopicModel
        A fitted model.
    doc_lengths : sequence of float
        Tokens per unit, one per row of ``model.doc_topic_``.
    **kwargs
        As for :func:`ldavis_html` (``title``, ``R``, ``lambda_step``, ``embed_font``, ``cache_dir``).

    Returns
    -------
    str
        The HTML page.

    Examples
    --------
    >>> from policytopics.models.lda import LdaTopicModel
    >>> units = [["招商", "项目", "投资"], ["生态", "环保", "污染"]] * 5
    >>> model = LdaTopicModel(2, passes=3, no_above=1.0, random_state=1).fit(units)
    >>> page = model_ldavis_html(model, [3] * 10, R=3, embed_font=False)
    >>> "招商" in page
    True
    """
    lengths = np.asarray(doc_lengths, dtype=np.float64)
    if lengths.shape != (model.doc_topic_.shape[0],):
        raise ValueError(f"doc_lengths has {lengths.size} entries, the model has {model.doc_topic_.shape[0]} units")
    keep = np.flatnonzero(lengths > 0)
    return ldavis_html(
        model.topic_term_data_, model.doc_topic_[keep], lengths[keep].tolist(),
        list(model.vocabulary_), model.term_frequency_, **kwargs,
    )
