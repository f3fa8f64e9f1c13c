"""The run report: one self-contained HTML page a researcher can read, share and check.

In: a run folder whose tables are written (``documents.csv``, ``units.csv``, ``topics.csv``,
``model_selection.csv``, ``stability.csv``, ``agreement.csv``, ``summary.json``,
``cleaning_report.json``, ``config.resolved.yaml``), the figures already written into it,
the codebook's themes and the run's provenance (config hash, seed, input and resource
hashes, package versions). Out: ``report.html`` in the run folder.

The page needs no network: figures are inlined as ``data:`` URIs, the style sheet is in the
page and there is no script. Everything that comes from the corpus (titles, quoted units,
terms) is escaped by Jinja2's autoescaping, since scraped text may contain markup.

For each theme of each speech the report quotes the units that carry it most, i.e. with
the largest ``share × length``: the units whose text contributes most to the speech's share
of that theme, so a reader can check a label against the text.
"""

from __future__ import annotations

import re

import yaml

import base64
import json
from collections.abc import Mapping, Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from policytopics.fonts import font_face_css
from policytopics.codebook import UNASSIGNED, Theme
from policytopics.themes import MIXED, NONE

#: Evidence: units quoted per theme and speech, the smallest unit share quoted, and the
#: smallest document share for which a theme gets evidence at all.
EVIDENCE_UNITS = 3
EVIDENCE_MIN_UNIT_SHARE = 0.15
EVIDENCE_MIN_DOC_SHARE = 0.03
#: Characters of a unit quoted before it is cut with an ellipsis.
QUOTE_CHARS = 220

REPORT_FILE = "report.html"


def _read_csv(run_dir: Path, name: str) -> list[dict[str, str]]:
    import csv

    path = run_dir / name
    if not path.is_file():
        raise FileNotFoundError(f"report: {path} is missing; the report is written after the run's tables")
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _read_json(run_dir: Path, name: str) -> Any:
    path = run_dir / name
    if not path.is_file():
        raise FileNotFoundError(f"report: {path} is missing; the report is written after the run's tables")
    return json.loads(path.read_text(encoding="utf-8"))


def _quote(text: str, limit: int = QUOTE_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _units_of(run_dir: Path, doc_ids: set[str]) -> dict[str, list[dict[str, str]]]:
    """The units of ``doc_ids`` from ``units.csv``, read row by row, their text cut to the quote
    (a large corpus's units.csv holds every unit's text: only the quoted ones are kept)."""
    import csv

    path = run_dir / "units.csv"
    if not path.is_file():
        raise FileNotFoundError(f"report: {path} is missing; the report is written after the run's tables")
    units_of: dict[str, list[dict[str, str]]] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for unit in csv.DictReader(handle):
            if unit["doc_id"] in doc_ids:
                unit["text"] = _quote(unit["text"])
                units_of.setdefault(unit["doc_id"], []).append(unit)
    return units_of


def _speeches(
    documents: list[dict[str, str]], units_of: Mapping[str, list[dict[str, str]]], theme_ids: list[str]
) -> list[dict[str, Any]]:
    speeches = []
    for doc in documents:
        if doc.get("duplicate_of"):
            continue
        shares = {theme: float(doc[f"theme_{theme}"]) for theme in theme_ids}
        # "a > b ≈ c": ">" where the difference's 95% interval excludes 0, "≈" where it does not
        parts = re.split(r" ([>≈]) ", doc.get("theme_ranking") or "")
        ranking = parts[::2] if parts != [""] else []
        separators = ["", *parts[1::2]]
        evidence = []
        for theme in ranking if doc["doc_id"] in units_of else ():
            if shares[theme] < EVIDENCE_MIN_DOC_SHARE:
                continue
            carriers = [u for u in units_of.get(doc["doc_id"], []) if float(u[f"theme_{theme}"]) >= EVIDENCE_MIN_UNIT_SHARE]
            carriers.sort(key=lambda u: (-float(u[f"theme_{theme}"]) * int(u["n_chars"]), int(u["position"])))
            evidence.append({
                "theme": theme,
                "share": shares[theme],
                "units": [
                    {"position": int(u["position"]), "share": float(u[f"theme_{theme}"]), "n_chars": int(u["n_chars"]),
                     "unit_theme": u["theme"], "quote": u["text"], "unit_id": u["unit_id"]}
                    for u in carriers[:EVIDENCE_UNITS]
                ],
            })
        speeches.append({
            "doc_id": doc["doc_id"],
            "title": doc["title"],
            "n_chars": int(doc["n_chars"]),
            "n_units": int(doc["n_units"]),
            "theme": doc["theme"],
            "ranking": [
                {"theme": theme, "share": shares[theme], "low": float(doc[f"theme_{theme}_low"]),
                 "high": float(doc[f"theme_{theme}_high"]), "separator": separator}
                for theme, separator in zip(ranking, separators)
            ],
            "distinct": doc.get("theme_distinct") == "true",
            "unassigned": float(doc[f"theme_{UNASSIGNED}"]),
            "unassigned_low": float(doc[f"theme_{UNASSIGNED}_low"]),
            "unassigned_high": float(doc[f"theme_{UNASSIGNED}_high"]),
            "evidence": evidence,
            "has_evidence": doc["doc_id"] in units_of,
        })
    return speeches


def _model_quality(run_dir: Path) -> list[dict[str, Any]]:
    """Per swept K: the means over its fits, and whether it is the chosen K (the ``chosen``
    column of ``model_selection.csv``, written when the run chose its K)."""
    selection = _read_csv(run_dir, "model_selection.csv")
    stability = _read_csv(run_dir, "stability.csv")
    rows = []
    for k in sorted({int(row["num_topics"]) for row in selection}):
        fits = [row for row in selection if int(row["num_topics"]) == k]
        chosen = any(fit["chosen"] == "true" for fit in fits)
        row: dict[str, Any] = {"num_topics": k, "fits": len(fits), "chosen": chosen}
        for measure in ("c_v", "c_npmi", "u_mass", "diversity", "perplexity"):
            row[measure] = _mean([float(fit[measure]) for fit in fits if fit.get(measure)])
        row["stability"] = _mean([float(s["jaccard"]) for s in stability if int(s["num_topics"]) == k and s["jaccard"]])
        rows.append(row)
    return rows


def _selection(run_dir: Path, run_num_topics: int) -> dict[str, Any]:
    """How the run's K was chosen: the rule the run applied
    (:func:`policytopics.selection.choose_num_topics`) re-applied to ``model_selection.csv``
    and the resolved config's ``selection`` and ``lda.num_topics`` (the rule reads the values
    as the file holds them, so it gives the run's choice; ``summary.json`` holds the same)."""
    import yaml

    from policytopics.config import SelectionConfig
    from policytopics.selection import choose_num_topics

    settings = yaml.safe_load((run_dir / "config.resolved.yaml").read_text(encoding="utf-8")) or {}
    rows = _read_csv(run_dir, "model_selection.csv")
    choice = choose_num_topics(rows, SelectionConfig(**settings.get("selection", {})), int(settings["lda"]["num_topics"]))
    if choice.num_topics != run_num_topics:
        raise ValueError(
            f"report: model_selection.csv and config.resolved.yaml choose K = {choice.num_topics}, "
            f"but the run's model has K = {run_num_topics} (summary.json): the files are not of one run"
        )
    return {"choice": choice.choose, "reason": choice.reason, "heldout_units": choice.heldout_units}


def _ensemble(ensemble: dict[str, Any]) -> dict[str, Any]:
    """The fits that measured the themes, and the K sensitivity, as the report shows them."""
    fits = ensemble.get("fits", [])
    ks = sorted({int(fit["num_topics"]) for fit in fits})
    sensitivity = ensemble.get("unassigned_by_num_topics", {})
    shown = None
    if len(ks) > 1 and sensitivity.get("document"):
        by_k = ", ".join(f"K = {k}: {value:.3f}" for k, value in zip(sensitivity["groups"], sensitivity["document"]["unassigned"]))
        shown = {"max_spread": sensitivity["max_spread"], "median_spread": sensitivity["median_spread"],
                 "doc_id": sensitivity["document"]["doc_id"], "by_k": by_k}
    return {"fits": len(fits), "ks": ", ".join(str(k) for k in ks), "sensitivity": shown}


def _clustering(ari: float, agreement_rows: list[dict[str, str]]) -> dict[str, Any]:
    """Whether the clustering agrees with the themes (:func:`policytopics.selection.clustering_check`),
    from the adjusted Rand index and ``agreement.csv``, the units' cross-table."""
    from policytopics.selection import clustering_check

    cluster_themes = [row["cluster_theme"] for row in agreement_rows for _ in range(int(row["units"]))]
    check = clustering_check(ari, cluster_themes)
    return {"agrees": check["clustering_agrees"], "statement": check["clustering_statement"]}


def _agreement_table(rows: list[dict[str, str]]) -> dict[str, Any]:
    lda_themes = sorted({row["lda_theme"] for row in rows})
    cluster_themes = sorted({row["cluster_theme"] for row in rows})
    counts = {(row["lda_theme"], row["cluster_theme"]): int(row["units"]) for row in rows}
    return {
        "columns": cluster_themes,
        "rows": [(theme, [counts.get((theme, other), 0) for other in cluster_themes]) for theme in lda_themes],
    }


def _figure(run_dir: Path, relative: str) -> dict[str, str]:
    data = (run_dir / relative).read_bytes()
    return {
        "name": Path(relative).stem,
        "src": "data:image/png;base64," + base64.b64encode(data).decode("ascii"),
        "svg": Path(relative).with_suffix(".svg").as_posix(),
    }


#: Captions of the figures written by :mod:`policytopics.figures`, by file stem.
FIGURE_CAPTIONS = {
    "theme_heatmap": "Theme emphasis per speech: each row is a speech, each cell its share of a theme.",
    "theme_bars": "Theme shares per speech, ordered by the dominant theme.",
    "theme_flow": "Theme flow: the dominant theme of each unit of a speech, in reading order.",
    "topic_terms": "Top terms of each topic, with the theme it carries.",
    "model_selection": "Model selection over K: coherence, diversity and stability; the chosen K is marked.",
}


def _figure_order(path: str) -> tuple[int, str]:
    """Known figures in the order of :data:`FIGURE_CAPTIONS` (the reading order), others last."""
    stems = list(FIGURE_CAPTIONS)
    stem = Path(path).stem
    return (stems.index(stem) if stem in stems else len(stems), path)


#: The comparisons' table (``policytopics.effects``): its presence puts the Comparisons section in the page.
EFFECTS_FILE = "effects.csv"

#: Captions of the comparison figures written by :mod:`policytopics.effect_figures`, by file
#: stem, in reading order; an ``effects_<analysis>`` figure is captioned by :func:`_figure_caption`.
COMPARISON_FIGURE_CAPTIONS = {
    "theme_by_year": "Theme shares over the years: one panel per theme (and unassigned), the mean share of "
                     "that year's documents with its 95% interval.",
    "theme_by_group": "Theme shares by group: for each theme, the mean share of each level's documents "
                      "with its 95% interval.",
}
_EFFECTS_FIGURE_PREFIX = "effects_"


def _is_comparison_figure(path: str) -> bool:
    stem = Path(path).stem
    return stem in COMPARISON_FIGURE_CAPTIONS or stem.startswith(_EFFECTS_FIGURE_PREFIX)


def _figure_caption(stem: str) -> str:
    if stem in COMPARISON_FIGURE_CAPTIONS:
        return COMPARISON_FIGURE_CAPTIONS[stem]
    if stem.startswith(_EFFECTS_FIGURE_PREFIX):
        analysis = stem[len(_EFFECTS_FIGURE_PREFIX):]
        return f"Effects of analysis {analysis}: each theme's estimate with its 95% interval (method of composition)."
    return FIGURE_CAPTIONS.get(stem, "")


def _comparison_figure_order(path: str) -> tuple[int, str]:
    """Over the years, by group, then the analyses' effects (by name), others last."""
    stems = list(COMPARISON_FIGURE_CAPTIONS)
    stem = Path(path).stem
    if stem in stems:
        return (stems.index(stem), path)
    return (len(stems) + (0 if stem.startswith(_EFFECTS_FIGURE_PREFIX) else 1), path)


#: Decimals of an effect's numbers, by model: a share's difference, or log-odds.
_EFFECT_DECIMALS = {"ols": 3, "fractional_logit": 2}
_EFFECT_UNITS = {"ols": "share", "fractional_logit": "log-odds"}


def _effect_number(value: Any) -> float | None:
    """A cell of ``effects.csv`` as a finite float (``None`` for an empty, unparsable or non-finite cell)."""
    import math

    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _effect_contrast(term: str, reference: str) -> str:
    """``period[T.from_2013]`` against ``before_2013``: "from_2013 vs before_2013"; ``year``: "per unit of year"."""
    from policytopics.effects import term_contrast  # only for a run with comparisons (pandas)

    words = term_contrast(term, reference)
    return words if reference or words != term else f"per unit of {term}"


def effect_reading(row: Mapping[str, Any], theme_labels: Mapping[str, str]) -> str:
    """One plain-language sentence for a row of ``effects.csv``.

    The sentence names the theme, the contrast (a categorical term's level against its
    reference, or "per unit of" a continuous term), the estimate's size and direction
    (a difference in share for ``ols``, in log-odds for ``fractional_logit``), its 95%
    interval, and whether that interval excludes zero.

    Parameters
    ----------
    row : mapping
        A row of ``effects.csv`` as read (strings) or as computed (numbers): ``model``,
        ``theme``, ``term``, ``reference``, ``estimate``, ``ci_low`` and ``ci_high``.
    theme_labels : mapping
        Theme id to the name shown (a theme id without a label is shown as it is).

    Returns
    -------
    str
        The sentence.

    Raises
    ------
    ValueError
        If the row's model is neither ``ols`` nor ``fractional_logit``.

    Examples
    --------
    >>> row = {"model": "ols", "theme": "environment", "term": "period[T.from_2013]", "reference": "before_2013",
    ...        "estimate": "0.025100", "ci_low": "0.018000", "ci_high": "0.032000"}
    >>> effect_reading(row, {"environment": "环境保护 (environment)"})
    '环境保护 (environment), from_2013 vs before_2013: 0.025 higher share [0.018, 0.032]; the 95% interval excludes zero.'
    >>> row = {"model": "fractional_logit", "theme": "unassigned", "term": "year", "reference": "",
    ...        "estimate": "-0.4", "ci_low": "-0.9", "ci_high": "0.1"}
    >>> effect_reading(row, {"unassigned": "unassigned"})  # doctest: +NORMALIZE_WHITESPACE
    "unassigned, per unit of year: 0.40 lower log-odds [-0.90, 0.10]; the interval includes zero:
    no difference is distinguishable from the measurement's noise."
    """
    model = row.get("model") or ""
    if model not in _EFFECT_DECIMALS:
        raise ValueError(f"report: effects.csv has model {model!r}; known models: {', '.join(_EFFECT_DECIMALS)}")
    theme = row.get("theme") or ""
    subject = f"{theme_labels.get(theme, theme)}, {_effect_contrast(row.get('term') or '', row.get('reference') or '')}"
    estimate, low, high = (_effect_number(row.get(key)) for key in ("estimate", "ci_low", "ci_high"))
    if estimate is None or low is None or high is None:
        return f"{subject}: no estimate with a 95% interval."
    decimals = _EFFECT_DECIMALS[model]
    size = f"{abs(estimate):.{decimals}f} {'lower' if estimate < 0 else 'higher'} {_EFFECT_UNITS[model]}"
    verdict = ("the 95% interval excludes zero." if low > 0 or high < 0
               else "the interval includes zero: no difference is distinguishable from the measurement's noise.")
    return f"{subject}: {size} [{low:.{decimals}f}, {high:.{decimals}f}]; {verdict}"


def _p_value(value: Any) -> str:
    number = _effect_number(value)
    if number is None:
        return ""
    return "< 0.001" if number < 0.001 else f"{number:.3f}"


def _comparisons(run_dir: Path, theme_labels: Mapping[str, str], figures: Sequence[str]) -> dict[str, Any] | None:
    """The Comparisons section from ``effects.csv`` (``None`` without it), with ``figures``
    (PNG files relative to ``run_dir``) inlined in the order of :func:`_comparison_figure_order`."""
    if not (run_dir / EFFECTS_FILE).is_file():
        return None
    effects = _read_csv(run_dir, EFFECTS_FILE)
    rows = []
    for row in effects:
        model = row.get("model") or ""
        decimals = _EFFECT_DECIMALS.get(model, 3)
        shown = {key: _effect_number(row.get(key)) for key in ("estimate", "ci_low", "ci_high")}
        rows.append({
            "analysis": row.get("analysis") or "",
            "model": model,
            "theme": theme_labels.get(row.get("theme") or "", row.get("theme") or ""),
            "contrast": _effect_contrast(row.get("term") or "", row.get("reference") or ""),
            **{key: "" if value is None else f"{value:.{decimals}f}" for key, value in shown.items()},
            "p_value": _p_value(row.get("p_value")),
            "n_documents": row.get("n_documents") or "",
            "n_draws": row.get("n_draws") or "",
            "cluster": row.get("cluster") or "",
            "reading": effect_reading(row, theme_labels),
        })
    return {
        "effects": effects,
        "rows": rows,
        "readings": [row["reading"] for row in rows],
        "clusters": sorted({row["cluster"] for row in rows if row["cluster"]}),
        "theme_by_year": (run_dir / "theme_by_year.csv").is_file(),
        "theme_by_group": (run_dir / "theme_by_group.csv").is_file(),
        "figures": [
            {**_figure(run_dir, path), "caption": _figure_caption(Path(path).stem)}
            for path in sorted(figures, key=_comparison_figure_order)
        ],
    }


def report_context(
    run_dir: str | Path,
    themes: Sequence[Theme],
    provenance: Mapping[str, Any],
    figures: Sequence[str] = (),
    num_topics: int | None = None,
    name: str | None = None,
    max_speeches: int | None = None,
) -> dict[str, Any]:
    """Everything ``report.html`` shows, gathered from a run folder (plain values, unescaped).

    Parameters
    ----------
    run_dir : str or Path
        A run folder whose tables are written.
    themes : sequence of Theme
        The codebook's themes in use, in codebook order.
    provenance : mapping
        ``config_sha256``, ``seed``, ``inputs``, ``resources`` and ``packages``, as in
        ``manifest.json`` (whose artefact hashes cannot include the report itself).
    figures : sequence of str
        Figure files relative to ``run_dir``; the PNGs are inlined, known figures in the
        order of :data:`FIGURE_CAPTIONS` (speeches first, model selection last). When the
        run folder has ``effects.csv``, the comparison figures (``theme_by_year``,
        ``theme_by_group``, ``effects_<analysis>``) are shown in the Comparisons section
        instead of the Figures section.
    num_topics : int, optional
        Not used (kept for existing callers): the run's K is ``summary.json``'s
        ``num_topics``. The model-quality table marks the rows of ``model_selection.csv``'s
        ``chosen`` column and says how K was chosen (the run's rule re-applied to that file
        and the resolved config: ``summary.json``'s ``num_topics_reason``); the clustering
        check is re-derived from ``summary.json``'s ``agreement_ari`` and ``agreement.csv``
        (``summary.json``'s ``clustering_statement``).
    name : str, optional
        The run name shown (default: the folder's name; the pipeline passes ``config.name``
        because it writes into a staging folder).
    max_speeches : int, optional
        Quote evidence for the first this many speeches only (``None``: all); the speeches
        table lists every speech.

    Returns
    -------
    dict
        The template's context. Its ``comparisons`` is ``None`` without ``effects.csv`` (the
        page is then what it was before comparisons existed); otherwise a dict with
        ``effects`` (the rows of ``effects.csv`` as read), ``rows`` (the same rows as the
        table shows them, each with its ``reading``, see :func:`effect_reading`),
        ``readings``, ``clusters`` (the cluster columns used), ``theme_by_year`` and
        ``theme_by_group`` (whether those tables exist) and ``figures`` (the comparison
        figures, inlined).

    Examples
    --------
    >>> context = report_context("results/default", codebook.themes, provenance)  # doctest: +SKIP
    >>> context["speeches"][0]["ranking"][:2]  # doctest: +SKIP
    [{'theme': 'planning', 'share': 0.20057, 'low': 0.15, 'high': 0.25, 'separator': ''}, ...]
    """
    run_dir = Path(run_dir)
    summary = _read_json(run_dir, "summary.json")
    cleaning = _read_json(run_dir, "cleaning_report.json")
    theme_ids = [theme.id for theme in themes]
    documents = _read_csv(run_dir, "documents.csv")
    analysed = [doc["doc_id"] for doc in documents if not doc.get("duplicate_of")]
    quoted = analysed if max_speeches is None else analysed[:max_speeches]
    units_of = _units_of(run_dir, set(quoted))
    topics = _read_csv(run_dir, "topics.csv")
    for topic in topics:
        topic["coherence"] = {m: topic[m] for m in ("c_v", "c_npmi", "u_mass") if m in topic}
    keywords = _read_csv(run_dir, "keywords.csv")
    agreement_rows = _read_csv(run_dir, "agreement.csv")
    config_path = run_dir / "config.resolved.yaml"
    theme_settings = (yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}).get("themes", {}) if config_path.is_file() else {}
    theme_label = {**{t.id: f"{t.label_zh} ({t.id})" for t in themes}, UNASSIGNED: "unassigned", NONE: "none (no theme reaches the threshold)", MIXED: "mixed"}
    pngs = [path for path in figures if path.endswith(".png")]
    # with effects.csv, the comparison figures are shown in the Comparisons section only
    compared = [path for path in pngs if _is_comparison_figure(path)] if (run_dir / EFFECTS_FILE).is_file() else []
    return {
        "name": name or run_dir.name,
        "summary": summary,
        "themes": [{"id": t.id, "label_zh": t.label_zh, "label_en": t.label_en, "description": t.description} for t in themes],
        "theme_label": theme_label,
        "cleaning": {
            "steps": cleaning["steps"],
            "files": [
                {"source": source, **{k: v for k, v in info.items() if k != "removed"},
                 "removed": sorted(info.get("removed", {}).items(), key=lambda item: (-item[1], item[0]))}
                for source, info in sorted(cleaning["files"].items())
            ],
            "totals": sorted(cleaning["totals"].items(), key=lambda item: (-item[1], item[0])),
            "duplicates": cleaning["duplicates"],
            "skipped": cleaning["skipped"],
            "n_documents": cleaning["n_documents"],
            "n_units": cleaning["n_units"],
        },
        "unit_theme_counts": [(theme, summary["unit_themes"].get(theme, 0)) for theme in [*theme_ids, MIXED, NONE]],
        "speeches": _speeches(documents, units_of, theme_ids),
        "evidence_note": (f"Evidence is quoted for the first {len(quoted)} of {len(analysed)} speeches "
                          "(output.max_speeches_shown); units.csv has every unit." if len(quoted) < len(analysed) else ""),
        "topics": topics,
        "quality": _model_quality(run_dir),
        "selection": _selection(run_dir, int(summary["num_topics"])),
        "clustering": _clustering(float(summary["agreement_ari"]), agreement_rows),
        "agreement_ari": summary.get("agreement_ari"),
        "agreement": _agreement_table(agreement_rows),
        "keywords_absent": [row["keyword"] for row in keywords if row["status"] == "absent"],
        "keywords_split": [row["keyword"] for row in keywords if row["status"] == "split"],
        "figures": [
            {**_figure(run_dir, path), "caption": _figure_caption(Path(path).stem)}
            for path in sorted((p for p in pngs if p not in compared), key=_figure_order)
        ],
        "comparisons": _comparisons(run_dir, theme_label, compared),
        "has_ldavis": (run_dir / "lda.html").is_file(),
        "config_yaml": (run_dir / "config.resolved.yaml").read_text(encoding="utf-8"),
        # sorted, so the page does not depend on the order the caller built them in
        "provenance": {
            "config_sha256": provenance["config_sha256"],
            "seed": provenance["seed"],
            "inputs": dict(sorted(provenance["inputs"].items())),
            "resources": dict(sorted(provenance["resources"].items())),
            "packages": dict(sorted(provenance["packages"].items(), key=lambda item: item[0].lower())),
        },
        "ensemble": _ensemble(summary.get("theme_ensemble", {})),
        "evidence_min_share": EVIDENCE_MIN_DOC_SHARE,
        "min_theme_mass": float(theme_settings.get("min_theme_mass", 0.0)),
        "document_min_share": float(theme_settings.get("document_min_share", 0.0)),
    }


@lru_cache(maxsize=1)
def _template() -> Any:
    import jinja2

    source = (resources.files("policytopics") / "templates" / "report.html.j2").read_text(encoding="utf-8")
    env = jinja2.Environment(
        autoescape=True, keep_trailing_newline=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True
    )
    env.filters["share"] = lambda value: "" if value is None else f"{value:.3f}"
    env.filters["pct"] = lambda value: f"{100 * value:.1f}%"
    return env.from_string(source)


def render_report(context: Mapping[str, Any], embed_font: bool = True, font_cache_dir: str | Path | None = None) -> str:
    """The report page from :func:`report_context`'s output (every corpus string escaped).

    With ``embed_font`` the page carries the CJK glyphs it uses
    (:func:`policytopics.fonts.font_face_css`), so
    it renders the same on a machine without a Chinese font.

    Parameters
    ----------
    context : mapping
        The template's context, from :func:`report_context`.
    embed_font : bool
        Embed a subset of the CJK font holding the glyphs the page uses (``False``: the
        page relies on the reader's fonts, and is smaller).
    font_cache_dir : str or Path, optional
        The cache folder where that font subset is kept for a rerun (``None``: not kept).

    Returns
    -------
    str
        The HTML page.

    Raises
    ------
    FontError
        If ``embed_font`` and the CJK font file cannot be found.

    Examples
    --------
    >>> html = render_report(report_context("results/default", codebook.themes, provenance))  # doctest: +SKIP
    """
    if not embed_font:
        return _template().render(**context, font_face="")
    # rendered once, with an ASCII mark where the font goes: the page's characters beyond
    # ASCII are those of the page without the font, which the subset holds
    page = _template().render(**context, font_face=_FONT_MARK)
    if page.count(_FONT_MARK) != 1:  # the corpus text holds the mark: render the page twice
        page = _template().render(**context, font_face="")
        return _template().render(**context, font_face=font_face_css(page, cache_dir=font_cache_dir))
    before, after = page.split(_FONT_MARK)
    return before + font_face_css(before + after, cache_dir=font_cache_dir) + after


#: Stands for the font's CSS in the page while its characters are collected.
_FONT_MARK = "/* policytopics: the font subset goes here */"


def write_report(
    run_dir: str | Path,
    themes: Sequence[Theme],
    provenance: Mapping[str, Any],
    figures: Sequence[str] = (),
    num_topics: int | None = None,
    embed_font: bool = True,
    name: str | None = None,
    max_speeches: int | None = None,
    cache_dir: str | Path | None = None,
) -> Path:
    """Write ``report.html`` into ``run_dir`` (see :func:`report_context` and :func:`render_report`).

    Parameters
    ----------
    run_dir : str or Path
        A run folder whose tables are written.
    themes : sequence of Theme
        The codebook's themes in use, in codebook order.
    provenance : mapping
        ``config_sha256``, ``seed``, ``inputs``, ``resources`` and ``packages``, as in
        ``manifest.json``.
    figures : sequence of str
        Figure files relative to ``run_dir`` to inline.
    num_topics : int, optional
        Not used (see :func:`report_context`).
    embed_font : bool
        Embed the CJK glyphs the page uses (see :func:`render_report`).
    name : str, optional
        The run name shown (default: the folder's name).
    max_speeches : int, optional
        Quote evidence for the first this many speeches only (``None``: all).
    cache_dir : str or Path, optional
        The cache folder (``cache.dir``) where the font subset is kept; ``None``: not kept.

    Returns
    -------
    Path
        The report file, ``run_dir/report.html`` (replaced if it exists).

    Notes
    -----
    With ``cache_dir`` (the run's ``cache.dir``) the embedded font subset is kept there, so a
    rerun whose page uses the same characters reads it back.

    Examples
    --------
    >>> write_report("results/default", codebook.themes, provenance, figures)  # doctest: +SKIP
    PosixPath('results/default/report.html')
    """
    path = Path(run_dir) / REPORT_FILE
    context = report_context(run_dir, themes, provenance, figures, num_topics, name, max_speeches)
    path.write_text(render_report(context, embed_font, cache_dir), encoding="utf-8")
    return path
