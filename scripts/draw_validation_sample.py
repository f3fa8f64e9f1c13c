"""Draw a random validation sample of units from a run folder, and split it once.

The sample is drawn from the ``units.csv`` of a ``python -m policytopics clean`` run, by a
``numpy.random.default_rng(seed)`` draw without replacement: uniformly over all units, or
(``--per-group N --group-by COLUMN``) N units uniformly within each value of a document
column such as ``year``. It is then split, by a second draw of the same generator, into a
``design`` half (for choosing settings) and a ``heldout`` half (for the figures that are
published), or marked all ``heldout`` (``--all-heldout``).

Writes ``sample.csv`` (sample_id, unit_id, doc_id, split, n_chars, text, plus the group
column) and ``coding_sheet.csv`` (sample_id and text only: what the coders see).

Example
-------
    python scripts/draw_validation_sample.py /tmp/runs/sample-city validation/city-2024 --n 240 --seed 20240601
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd


def draw(units: pd.DataFrame, documents: pd.DataFrame, n: int | None, per_group: int | None,
         group_by: str | None, seed: int, all_heldout: bool) -> pd.DataFrame:
    """The sample, in the order drawn, with a ``split`` column (and the group column):
    :func:`policytopics.sampling.draw_sample`, the draw ``python -m policytopics sample`` makes."""
    from policytopics.sampling import draw_sample

    if group_by:
        units = units.assign(**{group_by: units["doc_id"].map(documents.set_index("doc_id")[group_by])})
    sample = draw_sample(units, n, seed, group_by=group_by, per_group=per_group, split=not all_heldout)
    if group_by:
        sample[group_by] = sample["stratum"]
    return sample


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir", type=Path, help="a run folder with units.csv and documents.csv")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--n", type=int, help="units to draw uniformly")
    parser.add_argument("--per-group", type=int, help="units to draw within each group")
    parser.add_argument("--group-by", help="document column to draw within (e.g. year)")
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--all-heldout", action="store_true", help="no design half")
    args = parser.parse_args()
    units = pd.read_csv(args.run_dir / "units.csv", keep_default_na=False)
    documents = pd.read_csv(args.run_dir / "documents.csv", keep_default_na=False)
    sample = draw(units, documents, args.n, args.per_group, args.group_by, args.seed, args.all_heldout)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    columns = ["sample_id", "unit_id", "doc_id", "split", "n_chars", "text"] + ([args.group_by] if args.group_by else [])
    sample[columns].to_csv(args.out_dir / "sample.csv", index=False)
    sample[["sample_id", "text"]].to_csv(args.out_dir / "coding_sheet.csv", index=False)
    print(f"{len(sample)} units -> {args.out_dir} ({sample['split'].value_counts().to_dict()})")


if __name__ == "__main__":
    main()
