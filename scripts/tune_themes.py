"""Choose the unit thresholds of the theme measurement on the DESIGN half of a labelled sample.

Reads a finished run folder (units.csv: theme shares among the themes and ``theme_mass``) and a
labels file with a ``split`` column, keeps only ``--split design`` (default), and prints the
accuracy of every (``themes.min_theme_mass``, ``themes.min_margin``) pair of a grid, with the
unit labels re-derived exactly as :class:`policytopics.themes.ThemeScorer` derives them. The
held-out half is never read. The chosen values go into configs/default.yaml by hand, with the
grid's output recorded in validation/README.md.

The re-derivation is exact for a run measured by one fit (``themes.ensemble: run``). For a run
measured by an ensemble of fits (``sweep``, the default) units.csv holds the fits' averages,
so the grid labels a unit by its average theme mass, not by the majority of the fits: an
approximation (the thresholds in the config were chosen on one fit, before the ensemble).

Example
-------
    python scripts/tune_themes.py results/city-2024 validation/city-2024/labels.csv
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from policytopics.themes import ThemeScorer

MASSES = [0.2, 0.3, 0.4, 0.5, 0.6, 0.7]
MARGINS = [0.0, 0.05, 0.1, 0.2]


def relabel(units: pd.DataFrame, theme_ids: list[str], min_theme_mass: float, min_margin: float) -> pd.Series:
    """Unit labels under other thresholds, by :meth:`ThemeScorer.score_units` itself: the
    labels depend on a unit's theme mass and its shares among the themes only, so the
    posterior mean ``(shares x mass, 1 - mass)`` stands in for its Dirichlet. Units that were
    ``none`` in the run carry no theme shares and stay ``none``."""
    shares = units[[f"theme_{t}" for t in theme_ids]].to_numpy(float)
    mass = units["theme_mass"].to_numpy(float)
    dirichlet = np.column_stack([shares * mass[:, None], 1.0 - mass])
    scorer = ThemeScorer(theme_ids, min_theme_mass=min_theme_mass, min_margin=min_margin, draws=10)
    return pd.Series(scorer.score_units(dirichlet).labels, index=units.index)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("labels", type=Path)
    parser.add_argument("--split", default="design")
    args = parser.parse_args()
    theme_ids = json.loads((args.run_dir / "summary.json").read_text(encoding="utf-8"))["themes"]
    units = pd.read_csv(args.run_dir / "units.csv", keep_default_na=False).set_index("unit_id")
    labels = pd.read_csv(args.labels, keep_default_na=False)
    labels = labels[labels["split"] == args.split]
    if args.split == "heldout":
        raise SystemExit("tune_themes: tuning on the held-out half is not allowed")
    units = units.loc[labels["unit_id"]]
    truth = labels.set_index("unit_id")["theme"].where(lambda s: s.isin(theme_ids), "none")
    print(f"{len(truth)} {args.split} units; accuracy by min_theme_mass (rows) x min_margin (columns)")
    table = pd.DataFrame(index=MASSES, columns=MARGINS, dtype=float)
    for mass in MASSES:
        for margin in MARGINS:
            guess = relabel(units, theme_ids, mass, margin).where(lambda s: s.isin(theme_ids), "none")
            table.loc[mass, margin] = float((guess == truth).mean())
    print(table.round(3).to_string())


if __name__ == "__main__":
    main()
