"""The run tables the figures read: reading them from a run folder and checking their columns.

Every check raises :class:`~policytopics.figure_style.FigureError` naming the table and what
is missing; documents with a non-empty ``duplicate_of`` carry no theme shares and are left out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from policytopics.figure_style import UNASSIGNED, FigureError, _labels_with_unassigned

#: Tables read from the run folder, with the columns each figure needs.
_TABLE_COLUMNS = {
    "documents.csv": ("doc_id", "title", "duplicate_of", "theme"),
    "units.csv": ("doc_id", "position", "theme", "n_chars"),
    "topics.csv": ("topic", "theme"),
    "topic_terms.csv": ("topic", "rank", "term", "weight"),
    "model_selection.csv": ("num_topics", "seed", "c_v", "c_npmi", "diversity"),
    "stability.csv": ("num_topics", "seed", "jaccard"),
}
#: Columns read as text whatever they hold (a term such as ``5G`` or a title ``NA`` stays a string).
_TEXT_COLUMNS = ("doc_id", "title", "duplicate_of", "theme", "term", "source", "unit_id", "heading", "text")
#: Tables of which the figures read only the columns they need (units.csv holds every unit's text).
_COLUMNS_ONLY = ("units.csv",)


def _require_columns(table: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    missing = [column for column in columns if column not in table.columns]
    if missing:
        raise FigureError(f"{name}: missing column(s) {', '.join(missing)}")


#: Labels of units and speeches that name no single theme (policytopics.themes.NONE and MIXED),
#: drawn in the grey of ``unassigned``.
_NOT_A_THEME = {"none": UNASSIGNED, "mixed": UNASSIGNED}
#: ``theme_*`` columns of the run tables that are not a theme's share (nor its interval bounds).
_NON_SHARE_COLUMNS = frozenset({"theme_ranking", "theme_distinct", "theme_mass"})


def _theme_columns(table: pd.DataFrame, theme_labels: Mapping[str, str], name: str) -> list[str]:
    """The ``theme_<id>`` columns of the labelled themes plus ``theme_unassigned``, checked."""
    labels = _labels_with_unassigned(theme_labels)
    columns = [f"theme_{theme}" for theme in labels]
    _require_columns(table, columns, name)
    present = [
        c for c in table.columns
        if c.startswith("theme_") and c not in _NON_SHARE_COLUMNS and not c.endswith(("_low", "_high"))
    ]
    extra = sorted(set(present) - set(columns))
    if extra:
        raise FigureError(
            f"{name}: theme column(s) {', '.join(extra)} have no label in theme_labels "
            f"(labelled: {', '.join(labels)})"
        )
    return columns


def _analysed_documents(documents: pd.DataFrame) -> pd.DataFrame:
    """Documents that carry theme shares: those without a ``duplicate_of``."""
    _require_columns(documents, ("doc_id", "title", "duplicate_of"), "documents")
    duplicate = documents["duplicate_of"].fillna("").astype(str).str.strip() != ""
    return documents.loc[~duplicate].reset_index(drop=True)


def _check_known_themes(values: pd.Series, labels: Mapping[str, str], name: str) -> None:
    unknown = sorted({str(v) for v in values.dropna()} - set(labels))
    if unknown:
        raise FigureError(f"{name}: theme(s) {', '.join(unknown)} not in theme_labels")


def _share_matrix(documents: pd.DataFrame, columns: Sequence[str], name: str) -> np.ndarray:
    shares = documents[list(columns)].to_numpy(dtype=float)
    if np.isnan(shares).any():
        row = int(np.where(np.isnan(shares).any(axis=1))[0][0])
        raise FigureError(f"{name}: document {documents['doc_id'].iloc[row]} has an empty theme share")
    return shares


def _read_table(run_dir: Path, name: str) -> pd.DataFrame:
    path = run_dir / name
    if not path.is_file():
        raise FigureError(f"figures: {path} not found (the run folder lacks {name}; was the run completed?)")
    header = pd.read_csv(path, nrows=0, encoding="utf-8").columns
    columns = [c for c in header if c in _TABLE_COLUMNS[name]] if name in _COLUMNS_ONLY else None
    dtypes = {column: str for column in header if column in _TEXT_COLUMNS}
    # only an empty field is missing: a title or term "NA" stays text
    table = pd.read_csv(path, encoding="utf-8", dtype=dtypes, keep_default_na=False, na_values=[""], usecols=columns)
    _require_columns(table, _TABLE_COLUMNS[name], str(path))
    return table


def _first_speeches(documents: pd.DataFrame, units: pd.DataFrame, max_speeches: int | None) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """The first ``max_speeches`` analysed documents and their units, and a note when that cut any."""
    analysed = _analysed_documents(documents)
    if max_speeches is None or len(analysed) <= max_speeches:
        return documents, units, ""
    shown = analysed.iloc[:max_speeches]
    note = (f"the first {max_speeches} of {len(analysed)} speeches (output.max_speeches_shown); "
            "documents.csv and units.csv have every speech")
    return shown, units.loc[units["doc_id"].isin(set(shown["doc_id"]))].reset_index(drop=True), note

