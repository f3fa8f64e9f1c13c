"""Tests of the report's Comparisons section (report.py): effects.csv read into plain sentences,
the comparison figures shown once, and a page without effects.csv unchanged."""

from __future__ import annotations

import json
import shutil

import pytest
from markupsafe import escape

from policytopics.artifacts import write_csv
from policytopics.report import effect_reading, render_report, report_context

EFFECT_COLUMNS = ["analysis", "model", "theme", "term", "reference", "estimate", "std_error", "ci_low", "ci_high",
                  "p_value", "n_documents", "n_draws", "cluster"]
YEAR_COLUMNS = ["theme", "year", "share", "ci_low", "ci_high", "n_documents"]
LABELS = {"environment": "环境保护 (environment)", "unassigned": "unassigned"}
NOISE = "the interval includes zero: no difference is distinguishable from the measurement's noise."


def effect(model="ols", theme="environment", term="period[T.from_2013]", reference="before_2013",
           estimate=0.0251, ci_low=0.018, ci_high=0.032, **extra):
    """A row of effects.csv as write_csv writes it and csv reads it back (strings, 6 decimals)."""
    row = {"analysis": "period", "model": model, "theme": theme, "term": term, "reference": reference,
           "estimate": estimate, "std_error": 0.0036, "ci_low": ci_low, "ci_high": ci_high, "p_value": 0.0001,
           "n_documents": 10, "n_draws": 200, "cluster": "", **extra}
    return {key: "" if value is None else f"{value:.6f}" if isinstance(value, float) else str(value)
            for key, value in row.items()}


@pytest.mark.parametrize(("row", "expected"), [
    (effect(),
     "环境保护 (environment), from_2013 vs before_2013: 0.025 higher share [0.018, 0.032]; the 95% interval excludes zero."),
    (effect(term="C(region)[T.east]", reference="central", estimate=-0.0312, ci_low=-0.05, ci_high=-0.012),
     "环境保护 (environment), east vs central: 0.031 lower share [-0.050, -0.012]; the 95% interval excludes zero."),
    (effect(term="year", reference="", estimate=0.0012, ci_low=-0.0004, ci_high=0.0021),
     f"环境保护 (environment), per unit of year: 0.001 higher share [-0.000, 0.002]; {NOISE}"),
    (effect(model="fractional_logit", estimate=0.4012, ci_low=0.21, ci_high=0.59),
     "环境保护 (environment), from_2013 vs before_2013: 0.40 higher log-odds [0.21, 0.59]; the 95% interval excludes zero."),
    (effect(model="fractional_logit", theme="unassigned", term="year", reference="", estimate=-0.4, ci_low=-0.9, ci_high=0.1),
     f"unassigned, per unit of year: 0.40 lower log-odds [-0.90, 0.10]; {NOISE}"),
    # an interval that reaches zero does not exclude it
    (effect(term="C(region)[T.west]", reference="central", estimate=0.01, ci_low=0.0, ci_high=0.02),
     f"环境保护 (environment), west vs central: 0.010 higher share [0.000, 0.020]; {NOISE}"),
    # a theme without a label is shown by its id; numbers as computed (floats) read the same
    ({"model": "ols", "theme": "planning", "term": "year", "reference": None, "estimate": -0.02, "ci_low": -0.03,
      "ci_high": -0.01},
     "planning, per unit of year: 0.020 lower share [-0.030, -0.010]; the 95% interval excludes zero."),
    (effect(estimate=None),
     "环境保护 (environment), from_2013 vs before_2013: no estimate with a 95% interval."),
    (effect(ci_high=float("nan")),
     "环境保护 (environment), from_2013 vs before_2013: no estimate with a 95% interval."),
])
def test_effect_reading(row, expected):
    assert effect_reading(row, LABELS) == expected


def test_effect_reading_refuses_an_unknown_model():
    with pytest.raises(ValueError, match="'probit'"):
        effect_reading(effect(model="probit"), LABELS)


# --- the page ---------------------------------------------------------------------------------

COMPARISON_FILES = ("effects.csv", "theme_by_year.csv", "theme_by_group.csv")
FAKE_FIGURES = {"theme_by_year": "theme_heatmap", "effects_region_trend": "theme_flow", "effects_period": "theme_bars"}


@pytest.fixture()
def run_copy(seed_run, tmp_path):
    """A private copy of the seed run's folder without comparison tables, free to be edited."""
    folder = tmp_path / "run"
    shutil.copytree(seed_run.run_dir, folder)
    for name in COMPARISON_FILES:
        (folder / name).unlink(missing_ok=True)
    return folder


def provenance_of(seed_run):
    manifest = json.loads((seed_run.run_dir / "manifest.json").read_text(encoding="utf-8"))
    return {key: manifest[key] for key in ("config_sha256", "seed", "inputs", "resources", "packages")}


def run_figures(folder):
    return sorted(p.relative_to(folder).as_posix() for p in (folder / "figures").iterdir())


def add_fake_comparison_figures(folder):
    """Comparison figures (copies of the run's own PNG and SVG files) as effect_figures writes them."""
    for stem, source in FAKE_FIGURES.items():
        for suffix in (".png", ".svg"):
            shutil.copyfile(folder / "figures" / f"{source}{suffix}", folder / "figures" / f"{stem}{suffix}")


def write_comparison_tables(folder, themes):
    first = themes[0]
    rows = [
        {"analysis": "period", "model": "ols", "theme": first.id, "term": "period[T.from_2013]",
         "reference": "before_2013", "estimate": 0.0251, "std_error": 0.0036, "ci_low": 0.018, "ci_high": 0.032,
         "p_value": 0.0000002, "n_documents": 10, "n_draws": 200, "cluster": None},
        {"analysis": "region_trend", "model": "fractional_logit", "theme": "unassigned", "term": "C(region)[T.east]",
         "reference": "central", "estimate": -0.4, "std_error": 0.25, "ci_low": -0.9, "ci_high": 0.1,
         "p_value": 0.11, "n_documents": 10, "n_draws": 200, "cluster": "province"},
        {"analysis": "region_trend", "model": "ols", "theme": first.id, "term": "year", "reference": None,
         "estimate": 0.0012, "std_error": 0.0006, "ci_low": -0.0004, "ci_high": 0.0021, "p_value": 0.046,
         "n_documents": 10, "n_draws": 200, "cluster": "province"},
    ]
    write_csv(folder / "effects.csv", rows, EFFECT_COLUMNS)
    write_csv(folder / "theme_by_year.csv",
              [{"theme": theme.id, "year": year, "share": 0.2, "ci_low": 0.1, "ci_high": 0.3, "n_documents": 5}
               for theme in themes for year in (2012, 2014)], YEAR_COLUMNS)
    label = f"{first.label_zh} ({first.id})"
    return [
        f"{label}, from_2013 vs before_2013: 0.025 higher share [0.018, 0.032]; the 95% interval excludes zero.",
        f"unassigned, east vs central: 0.40 lower log-odds [-0.90, 0.10]; {NOISE}",
        f"{label}, per unit of year: 0.001 higher share [-0.000, 0.002]; {NOISE}",
    ]


def without_comparisons(html):
    """The page with the Comparisons nav link and section cut out."""
    link = '<a href="#comparisons">Comparisons</a>'
    assert html.count(link) == 1
    html = html.replace(link, "")
    start, end = html.index('\n<h2 id="comparisons">'), html.index('\n<h2 id="evidence">')
    return html[:start] + html[end:]


def test_without_effects_the_page_is_unchanged_and_with_them_only_the_section_is_added(seed_run, run_copy):
    themes, provenance = seed_run.models.codebook.themes, provenance_of(seed_run)
    figures = run_figures(run_copy)
    before = report_context(run_copy, themes, provenance, figures)
    assert before["comparisons"] is None
    page = render_report(before, embed_font=False)
    assert "comparisons" not in page.lower()

    add_fake_comparison_figures(run_copy)
    write_comparison_tables(run_copy, themes)
    with_effects = render_report(report_context(run_copy, themes, provenance, run_figures(run_copy)), embed_font=False)
    assert with_effects != page
    # the nav link and the section are all that is added: the Figures section holds the same
    # figures as before (the comparison figures are not shown there as well)
    assert without_comparisons(with_effects) == page

    # the tables removed again: the page is what it was, byte for byte
    for name in COMPARISON_FILES:
        (run_copy / name).unlink(missing_ok=True)
    for stem in FAKE_FIGURES:
        for suffix in (".png", ".svg"):
            (run_copy / "figures" / f"{stem}{suffix}").unlink()
    assert render_report(report_context(run_copy, themes, provenance, run_figures(run_copy)), embed_font=False) == page


def test_the_comparisons_section_shows_the_figures_the_table_and_a_reading_per_effect(seed_run, run_copy):
    themes, provenance = seed_run.models.codebook.themes, provenance_of(seed_run)
    add_fake_comparison_figures(run_copy)
    readings = write_comparison_tables(run_copy, themes)
    context = report_context(run_copy, themes, provenance, run_figures(run_copy))

    comparisons = context["comparisons"]
    assert comparisons["readings"] == readings
    assert [row["term"] for row in comparisons["effects"]] == ["period[T.from_2013]", "C(region)[T.east]", "year"]
    assert comparisons["effects"][0]["estimate"] == "0.025100"  # the rows as read
    assert (comparisons["theme_by_year"], comparisons["theme_by_group"]) == (True, False)
    assert comparisons["clusters"] == ["province"]
    assert [figure["name"] for figure in comparisons["figures"]] == ["theme_by_year", "effects_period", "effects_region_trend"]
    assert not {figure["name"] for figure in context["figures"]} & set(FAKE_FIGURES)
    assert [figure["name"] for figure in context["figures"]] == [
        "theme_heatmap", "theme_bars", "theme_flow", "topic_terms", "model_selection"]  # the known order kept

    html = render_report(context, embed_font=False)
    nav = html[html.index("<nav>"):html.index("</nav>")]
    assert nav.index('href="#figures"') < nav.index('href="#comparisons"') < nav.index('href="#evidence"')
    section_start = html.index('<h2 id="comparisons">Comparisons</h2>')
    assert html.index('<h2 id="figures">') < section_start < html.index('<h2 id="evidence">')
    section = html[section_start:html.index('<h2 id="evidence">')]
    for reading in readings:
        assert f"<li>{escape(reading)}</li>" in section
    for stem in FAKE_FIGURES:
        assert html.count(f'id="figure-{stem}"') == 1 and f'id="figure-{stem}"' in section
    assert "Effects of analysis period: each theme&#39;s estimate with its 95% interval (method of composition)." in section
    assert "theme_by_year.csv" in section and "theme_by_group.csv" not in section
    assert "method of composition" in section and "cluster-robust" in section and "province" in section
    # the table: one row per effect, with the contrast, the interval and the p-value as shown
    assert section.count("<tr><td>") == 3
    assert "<td>east vs central</td>" in section and "<td>per unit of year</td>" in section
    assert '<td class="num">[-0.90, 0.10]</td><td class="num">0.110</td>' in section
    assert '<td class="num">0.025</td>' in section and '<td class="num">&lt; 0.001</td>' in section


def test_comparison_figures_stay_in_the_figures_section_without_effects_csv(seed_run, run_copy):
    add_fake_comparison_figures(run_copy)
    context = report_context(run_copy, seed_run.models.codebook.themes, provenance_of(seed_run), run_figures(run_copy))
    assert context["comparisons"] is None
    shown = {figure["name"]: figure["caption"] for figure in context["figures"]}
    assert set(FAKE_FIGURES) <= set(shown)  # not lost
    assert shown["effects_period"].startswith("Effects of analysis period:")


def test_effects_text_is_escaped(seed_run, run_copy):
    themes = seed_run.models.codebook.themes
    write_csv(run_copy / "effects.csv", [{
        "analysis": "<b>a</b>", "model": "ols", "theme": themes[0].id, "term": 'C(region)[T.<script>"x"</script>]',
        "reference": "central & co", "estimate": 0.1, "std_error": 0.01, "ci_low": 0.08, "ci_high": 0.12,
        "p_value": 0.0, "n_documents": 3, "n_draws": 10, "cluster": "<i>province</i>"}], EFFECT_COLUMNS)
    html = render_report(report_context(run_copy, themes, provenance_of(seed_run)), embed_font=False)
    assert "<script" not in html and "<b>a</b>" not in html and "<i>province</i>" not in html
    assert "&lt;script&gt;&#34;x&#34;&lt;/script&gt; vs central &amp; co" in html
