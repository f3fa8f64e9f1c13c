"""Comparisons across documents: how each theme's share depends on document metadata.

For every analysis of the config's ``effects`` section, each theme's document share is
regressed on metadata (a patsy formula: region, year, a derived period, fixed effects), with
the **method of composition** of stm's ``estimateEffect`` (Roberts, Stewart & Tingley 2019;
Treier & Jackman 2008): the documents' shares are drawn from the measurement's posterior
(:meth:`policytopics.themes.ThemeScorer.document_draws`), the regression is refitted on every
draw with ``statsmodels`` (OLS, or a fractional-logit GLM; Papke & Wooldridge 1996), one
coefficient vector is drawn from each fit's sampling distribution (cluster-robust where
documents are grouped), and the pooled draws give the estimate, its standard error and its
95% interval. The intervals so carry both the measurement's uncertainty and the sampling of
documents. Seeded by the run's ``seed``.

:func:`shares_by` gives the mean share per year (or per group) with intervals from the same
draws; :func:`write_effect_outputs` writes ``effects.csv``, ``theme_by_year.csv`` and
``theme_by_group.csv`` into a run folder.

In: ``documents.csv`` (the metadata), ``model/document_draws.npy`` (the draws), the
``effects`` settings. Out: the tables' rows.
"""

from __future__ import annotations

import ast
import logging
import re
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from policytopics import artifacts
from policytopics.config import ConfigError, EffectConfig, EffectsConfig, PeriodConfig
from policytopics.progress import progress_bar

logger = logging.getLogger("policytopics")

__all__ = [
    "DRAWS_FILE",
    "EFFECTS_COLUMNS",
    "EFFECT_OUTPUTS",
    "SHARES_BY_GROUP_COLUMNS",
    "SHARES_BY_YEAR_COLUMNS",
    "check_effects",
    "derive_columns",
    "estimate_effects",
    "shares_by",
    "term_contrast",
    "write_effect_outputs",
]

#: The posterior draws of the kept documents' shares (draws x documents x columns), in the
#: order of documents.csv's rows without a duplicate_of; written by every run with models.
DRAWS_FILE = "model/document_draws.npy"
EFFECTS_COLUMNS = [
    "analysis", "model", "theme", "term", "reference", "estimate", "std_error", "ci_low", "ci_high", "p_value",
    "n_documents", "n_draws", "cluster",
]
SHARES_BY_YEAR_COLUMNS = ["theme", "year", "share", "ci_low", "ci_high", "n_documents"]
SHARES_BY_GROUP_COLUMNS = ["group_column", "level", "theme", "share", "ci_low", "ci_high", "n_documents"]
#: Every file an effects stage may write into a run folder (removed before it writes anew).
EFFECT_OUTPUTS = ("effects.csv", "theme_by_year.csv", "theme_by_group.csv")
#: Names a formula may use besides the metadata columns: patsy's and numpy's functions.
_FORMULA_FUNCTIONS = frozenset({"C", "I", "Q", "np", "center", "standardize", "scale", "Treatment", "Sum", "Diff", "Poly"})


#: patsy's name of a categorical level: ``C(region)[T.east]``, ``period[T.from_2013]``
_LEVEL = re.compile(r"\[T\.(.*)\]$")


def term_contrast(term: str, reference: str) -> str:
    """A term of ``effects.csv`` in words: a categorical level against its reference, or the
    continuous term's name.

    Examples
    --------
    >>> term_contrast("period[T.from_2013]", "before_2013"), term_contrast("year", "")
    ('from_2013 vs before_2013', 'year')
    """
    match = _LEVEL.search(term)
    level = match.group(1) if match else term
    return f"{level} vs {reference}" if reference else level


def derive_columns(table: pd.DataFrame, derived: Mapping[str, PeriodConfig]) -> pd.DataFrame:
    """Add each derived categorical column: the level whose [first, last] range holds the value.

    Parameters
    ----------
    table : pandas.DataFrame
        The documents' metadata.
    derived : mapping of str to PeriodConfig
        New column name -> its source column and ranges (``effects.derived``).

    Returns
    -------
    pandas.DataFrame
        A copy with the new columns, ordered categoricals whose first level is the reference;
        a value outside every range is missing.

    Raises
    ------
    ConfigError
        If a source column is missing or not numeric.

    Examples
    --------
    >>> from policytopics.config import PeriodConfig
    >>> table = pd.DataFrame({"year": [2005, 2013, 2030]})
    >>> bins = {"before": [2003, 2012], "after": [2013, 2023]}
    >>> derive_columns(table, {"period": PeriodConfig(bins=bins)})["period"].tolist()
    ['before', 'after', nan]
    """
    table = table.copy()
    for name, period in derived.items():
        if period.column not in table:
            raise ConfigError(f"effects.derived.{name}: column '{period.column}' is not in the corpus metadata "
                              f"(columns: {', '.join(map(str, table.columns))})")
        values = pd.to_numeric(table[period.column], errors="coerce")
        if values.isna().all():
            raise ConfigError(f"effects.derived.{name}: column '{period.column}' has no numeric value")
        levels = pd.Series(pd.NA, index=table.index, dtype="object")
        for level, (first, last) in period.bins.items():
            levels[(values >= first) & (values <= last) & levels.isna()] = level
        table[name] = pd.Categorical(levels.where(levels.notna(), None), categories=list(period.bins), ordered=False)
    return table


def _formula_variables(formula: str, key: str) -> tuple[str, list[str]]:
    """The right-hand side of ``theme ~ ...`` and the names of the columns it uses."""
    left, sep, right = formula.partition("~")
    if not sep or left.strip() != "theme" or not right.strip():
        raise ConfigError(f"{key}: expected 'theme ~ covariates', got '{formula}'")
    try:
        # patsy's operators are Python's but for ':' (interaction), read here as '*'
        tree = ast.parse(right.strip().replace(":", "*"), mode="eval")
    except SyntaxError:
        raise ConfigError(f"{key}: '{right.strip()}' is not a formula") from None
    names = sorted({node.id for node in ast.walk(tree) if isinstance(node, ast.Name)} - _FORMULA_FUNCTIONS)
    return right.strip(), names


def _design(
    table: pd.DataFrame, analysis: EffectConfig, key: str, usable: np.ndarray | None = None
) -> tuple[pd.DataFrame, Any, np.ndarray]:
    """The design matrix of an analysis, its patsy design info and the documents it keeps:
    those with every value it uses (and ``usable``: with shares, i.e. with units)."""
    import patsy

    right, names = _formula_variables(analysis.formula, f"{key}.formula")
    needed = [*names, *analysis.fixed_effects, *([analysis.cluster] if analysis.cluster else [])]
    for name in needed:
        if name not in table:
            raise ConfigError(f"{key}: column '{name}' is not in the corpus metadata "
                              f"(columns: {', '.join(map(str, table.columns))})")
    keep = table[needed].notna().all(axis=1).to_numpy() if needed else np.ones(len(table), dtype=bool)
    if usable is not None:
        keep = keep & usable
    data = table[keep]
    for name in [*names, *analysis.fixed_effects]:
        levels = data[name].dropna().unique()
        if len(levels) < 2:
            shown = f" ({levels[0]})" if len(levels) else ""
            raise ConfigError(f"{key}: '{name}' has one level{shown} among the {len(data)} documents analysed: "
                              "nothing to compare")
    terms = " + ".join([right, *(f"C({name})" for name in analysis.fixed_effects)])
    try:
        matrix = patsy.dmatrix(terms, data, return_type="dataframe", NA_action="raise")
    except patsy.PatsyError as error:
        raise ConfigError(f"{key}.formula: {' '.join(str(error).split())}") from None
    if len(matrix) <= matrix.shape[1]:
        raise ConfigError(f"{key}: {len(matrix)} documents for {matrix.shape[1]} parameters: "
                          "a regression needs more documents than parameters")
    return matrix, matrix.design_info, keep


def _analysed_themes(analysis: EffectConfig, columns: Sequence[str], key: str) -> list[str]:
    """The themes an analysis regresses (every theme without ``themes``), each one of ``columns``."""
    themes = analysis.themes or [column for column in columns if column != "unassigned"]
    for theme in themes:
        if theme not in columns:
            raise ConfigError(f"{key}.themes: '{theme}' is not a theme of the codebook ({', '.join(columns)})")
    return themes


def _reported(info: Any, fixed_effects: Sequence[str]) -> list[tuple[int, str, str]]:
    """(column, term name, reference level) of every coefficient reported: not the intercept,
    not a fixed effect's dummies."""
    hidden = {f"C({name})" for name in fixed_effects}
    reported = []
    for term, columns in info.term_name_slices.items():
        if term == "Intercept" or term in hidden:
            continue
        factors = info.terms[info.term_names.index(term)].factors
        reference = ""
        if len(factors) == 1 and info.factor_infos[factors[0]].type == "categorical":
            reference = str(info.factor_infos[factors[0]].categories[0])
        for column in range(columns.start, columns.stop):
            reported.append((column, info.column_names[column], reference))
    return reported


def estimate_effects(
    table: pd.DataFrame,
    draws: np.ndarray,
    columns: Sequence[str],
    analysis: EffectConfig,
    random_state: int,
    key: str = "effects",
    progress: Any = None,
) -> list[dict[str, Any]]:
    """One analysis by the method of composition: rows of ``effects.csv``.

    Parameters
    ----------
    table : pandas.DataFrame
        The documents' metadata, derived columns included, in the order of ``draws``' documents.
    draws : numpy.ndarray
        Draws × documents × columns of share draws (:data:`DRAWS_FILE`).
    columns : sequence of str
        The theme id of each column of ``draws`` (the themes, then ``unassigned``).
    analysis : EffectConfig
        The formula, themes, fixed effects, cluster column and model.
    random_state : int
        Seeds the coefficient draws.
    key : str
        Names the analysis in error messages (e.g. ``effects.analyses[0]``).
    progress : tqdm.tqdm, optional
        Advanced by one per theme.

    Returns
    -------
    list of dict
        One row per theme and reported term, with the columns of :data:`EFFECTS_COLUMNS`.

    Raises
    ------
    ConfigError
        A theme not in ``columns``, a column the metadata lacks, a covariate with one level,
        or no more documents than parameters.

    Examples
    --------
    >>> from policytopics.config import EffectConfig
    >>> rng = np.random.default_rng(0)
    >>> table = pd.DataFrame({"group": ["a", "b"] * 20})
    >>> shares = np.where(table["group"] == "b", 0.3, 0.1)
    >>> draws = np.clip(shares + rng.normal(0, 0.02, (30, 40)), 0, 1)[..., None]
    >>> rows = estimate_effects(table, draws, ["x"], EffectConfig(name="g", formula="theme ~ group"), 1)
    >>> rows[0]["term"], round(rows[0]["estimate"], 1), rows[0]["reference"]
    ('group[T.b]', 0.2, 'a')
    """
    import statsmodels.api as sm
    from scipy.stats import norm

    themes = _analysed_themes(analysis, columns, key)
    matrix, info, keep = _design(table, analysis, key, usable=np.isfinite(draws[0]).all(axis=1))
    reported = _reported(info, analysis.fixed_effects)
    index = [column for column, _, _ in reported]
    exog = matrix.to_numpy()
    fit_options: dict[str, Any] = {"cov_type": "HC1"}
    if analysis.cluster:
        groups = pd.factorize(table.loc[keep, analysis.cluster])[0]
        fit_options = {"cov_type": "cluster", "cov_kwds": {"groups": groups}}
    rows = []
    for number, theme in enumerate(themes):
        rng = np.random.default_rng([random_state, 3, number])
        outcome = draws[:, keep, list(columns).index(theme)]
        pooled = np.empty((len(outcome), len(index)))
        for draw, y in enumerate(outcome):
            with warnings.catch_warnings():  # fractional outcomes: statsmodels warns about non-integer counts
                warnings.simplefilter("ignore")
                if analysis.model == "ols":
                    result = sm.OLS(y, exog).fit(**fit_options)
                else:
                    result = sm.GLM(y, exog, family=sm.families.Binomial()).fit(**fit_options)
            params, cov = np.asarray(result.params)[index], np.asarray(result.cov_params())[np.ix_(index, index)]
            pooled[draw] = rng.multivariate_normal(params, cov, method="eigh")
        estimate, std_error = pooled.mean(axis=0), pooled.std(axis=0, ddof=1)
        low, high = np.quantile(pooled, [0.025, 0.975], axis=0)
        for position, (_, term, reference) in enumerate(reported):
            z = estimate[position] / std_error[position] if std_error[position] > 0 else np.inf
            rows.append({
                "analysis": analysis.name, "model": analysis.model, "theme": theme, "term": term,
                "reference": reference, "estimate": float(estimate[position]), "std_error": float(std_error[position]),
                "ci_low": float(low[position]), "ci_high": float(high[position]), "p_value": float(2 * norm.sf(abs(z))),
                "n_documents": int(keep.sum()), "n_draws": len(outcome), "cluster": analysis.cluster or "",
            })
        if progress is not None:
            progress.update(1)
    return rows


def shares_by(
    table: pd.DataFrame, draws: np.ndarray, point: np.ndarray, columns: Sequence[str], column: str, random_state: int = 0
) -> list[dict[str, Any]]:
    """The mean share of each theme per value of ``column``, with a 95% interval.

    Every draw takes the documents' shares from one posterior draw and resamples the level's
    documents with replacement (a bootstrap), so the interval carries both the measurement's
    uncertainty and the sampling of documents (a year's mean over 30 provinces is not known
    better than those 30 reports allow).

    Parameters
    ----------
    table : pandas.DataFrame
        The documents' metadata, in the order of ``draws``' documents.
    draws : numpy.ndarray
        Draws × documents × columns of share draws.
    point : numpy.ndarray
        Documents × columns: the documents' shares (documents.csv), whose mean is the estimate.
    columns : sequence of str
        The theme id of each column.
    column : str
        The grouping column (e.g. ``year``, ``region``); documents without a value are left out.
    random_state : int
        Seeds the bootstrap.

    Returns
    -------
    list of dict
        ``theme``, ``level``, ``share``, ``ci_low``, ``ci_high``, ``n_documents``, by theme
        (in ``columns`` order) then level (sorted).

    Examples
    --------
    >>> table = pd.DataFrame({"year": [2003, 2003, 2004]})
    >>> point = np.array([[0.2, 0.8], [0.4, 0.6], [0.5, 0.5]])
    >>> rows = shares_by(table, np.stack([point] * 5), point, ["a", "unassigned"], "year")
    >>> [(row["theme"], row["level"], round(row["share"], 2)) for row in rows[:2]]
    [('a', 2003, 0.3), ('a', 2004, 0.5)]
    """
    values = table[column]
    levels = sorted(values.dropna().unique().tolist())
    rng = np.random.default_rng([random_state, 4])
    picks = {}
    for level in levels:  # the same resamples for every theme
        members = np.flatnonzero((values == level).to_numpy())
        picks[level] = members[rng.integers(0, len(members), size=(len(draws), len(members)))]
    rows = []
    for position, theme in enumerate(columns):
        for level in levels:
            members = (values == level).to_numpy()
            share = float(np.mean(point[members, position]))
            means = np.take_along_axis(draws[:, :, position], picks[level], axis=1).mean(axis=1)
            low, high = np.quantile(means, [0.025, 0.975])
            if isinstance(level, (float, np.floating)) and float(level).is_integer():
                level = int(level)  # a year column with gaps is read as float
            rows.append({
                "theme": theme, "level": level.item() if hasattr(level, "item") else level, "share": share,
                "ci_low": float(min(low, share)), "ci_high": float(max(high, share)), "n_documents": int(members.sum()),
            })
    return rows


def _documents(folder: Path, n_documents: int) -> pd.DataFrame:
    """The kept documents of documents.csv (metadata and shares), in the draws' order."""
    documents = pd.read_csv(folder / "documents.csv", dtype={"doc_id": str, "duplicate_of": str})
    kept = documents[documents["duplicate_of"].isna()].reset_index(drop=True)
    if len(kept) != n_documents:
        raise ValueError(f"effects: {folder / DRAWS_FILE} has {n_documents} documents, documents.csv {len(kept)}")
    return kept


def check_effects(effects: EffectsConfig, table: pd.DataFrame, theme_ids: Sequence[str]) -> None:
    """Check every analysis against the documents' metadata before any model is fitted.

    Parameters
    ----------
    effects : EffectsConfig
        The config's ``effects`` section.
    table : pandas.DataFrame
        The kept documents' metadata, typed as ``documents.csv`` reads.
    theme_ids : sequence of str
        The codebook's theme ids in use.

    Returns
    -------
    None

    Raises
    ------
    ConfigError
        What :func:`estimate_effects` would raise: a column the corpus lacks, a covariate with
        one level, a theme not in the codebook, no more documents than parameters.

    Examples
    --------
    >>> from policytopics.config import EffectConfig
    >>> bad = EffectsConfig(analyses=[EffectConfig(name="r", formula="theme ~ region")])
    >>> check_effects(bad, pd.DataFrame({"year": [2003, 2004, 2005]}), ["environment"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    policytopics.config.ConfigError: effects.analyses[0]: column 'region' is not in the corpus metadata ...
    """
    columns = [*theme_ids, "unassigned"]
    table = derive_columns(table, effects.derived)
    for number, analysis in enumerate(effects.analyses):
        key = f"effects.analyses[{number}]"
        _analysed_themes(analysis, columns, key)
        _design(table, analysis, key)
    for column, name in ((effects.time_column, "time_column"), (effects.group_column, "group_column")):
        if column is not None and column not in table and not (name == "time_column" and column == "year"):
            raise ConfigError(f"effects.{name}: column '{column}' is not in the corpus metadata")


def write_effect_outputs(folder: str | Path, effects: EffectsConfig, seed: int, theme_ids: Sequence[str]) -> list[str]:
    """Write ``effects.csv`` and, where the settings ask, ``theme_by_year.csv`` and
    ``theme_by_group.csv`` into a run folder (removing older ones first).

    Parameters
    ----------
    folder : str or Path
        A run folder with ``documents.csv`` and :data:`DRAWS_FILE`.
    effects : EffectsConfig
        The config's ``effects`` section.
    seed : int
        The run's seed.
    theme_ids : sequence of str
        The codebook's theme ids in use (the draws' columns are these, then ``unassigned``).

    Returns
    -------
    list of str
        The files written, relative to ``folder``.

    Raises
    ------
    ConfigError
        A bad analysis (see :func:`estimate_effects`), or more draws than the run saved.

    Examples
    --------
    >>> write_effect_outputs("results/province-panel", config.effects, config.seed, codebook.ids)  # doctest: +SKIP
    ['effects.csv', 'theme_by_year.csv']
    """
    folder = Path(folder)
    for name in EFFECT_OUTPUTS:
        (folder / name).unlink(missing_ok=True)
    draws = np.load(folder / DRAWS_FILE)
    if effects.draws > len(draws):
        raise ConfigError(f"effects.draws: {effects.draws} is more than the run's {len(draws)} draws (themes.draws)")
    draws = draws[: effects.draws]
    columns = [*theme_ids, "unassigned"]
    if len(columns) != draws.shape[2]:
        raise ValueError(f"effects: {len(columns)} themes with unassigned, but {DRAWS_FILE} has {draws.shape[2]} columns")
    table = _documents(folder, draws.shape[1])
    check_effects(effects, table, theme_ids)
    table = derive_columns(table, effects.derived)
    point = table[[f"theme_{column}" for column in columns]].to_numpy(dtype=float)
    rows: list[dict[str, Any]] = []
    total = sum(len(_analysed_themes(analysis, columns, "effects")) for analysis in effects.analyses)
    with progress_bar(total, "effects", "regression") as bar:
        for number, analysis in enumerate(effects.analyses):
            rows += estimate_effects(table, draws, columns, analysis, seed + number, f"effects.analyses[{number}]", bar)
    artifacts.write_csv(folder / "effects.csv", rows, EFFECTS_COLUMNS)
    written = ["effects.csv"]
    for column, name in ((effects.time_column, "theme_by_year.csv"), (effects.group_column, "theme_by_group.csv")):
        if column is None:
            continue
        if column not in table:  # only the default time column may be missing (check_effects)
            logger.info("effects: no '%s' column in the corpus metadata: %s is not written", column, name)
            continue
        by = shares_by(table, draws, point, columns, column, seed)
        if name == "theme_by_year.csv":
            artifacts.write_csv(folder / name, [{**row, "year": row.pop("level")} for row in by], SHARES_BY_YEAR_COLUMNS)
        else:
            artifacts.write_csv(folder / name, [{"group_column": column, **row} for row in by], SHARES_BY_GROUP_COLUMNS)
        written.append(name)
    logger.info("effects: %d analyses, %d estimates (%d draws each)", len(effects.analyses), len(rows), len(draws))
    return written
