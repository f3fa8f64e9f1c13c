"""Draw a validation sample from a run and write what coders need: coding sheets and an offline page.

:func:`draw_sample` draws units from a run folder's ``units.csv`` by a seeded
``numpy.random.default_rng`` draw without replacement: uniformly, within each value of a
document column (``group_by``), or stratified by the run's predicted theme with equal
allocation, the sampling weight of every unit recorded so that accuracy can be re-weighted
to the corpus (``validate``). It is then split once into a ``design`` and a ``heldout``
half. :func:`write_coding_package` writes the key (``sample.csv``, never given to coders),
the coding sheet (``coding_sheet.csv``: passages only), the offline coding page
(``coding.html``; :mod:`policytopics.coding_page`) and, on request, word- and
topic-intrusion tests with their answer key (:mod:`policytopics.intrusion`).
``python -m policytopics sample RUN_DIR`` does both.

In: a run folder. Out: a folder for the coders and the key to score their answers.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from policytopics import artifacts
from policytopics.errors import PolicytopicsError

logger = logging.getLogger("policytopics")

__all__ = ["SAMPLE_COLUMNS", "draw_sample", "sample_run", "write_coding_package"]

#: The key of a sample (``sample.csv``); ``stratum`` and ``weight`` describe the design.
SAMPLE_COLUMNS = ["sample_id", "unit_id", "doc_id", "split", "stratum", "weight", "n_chars", "text"]


def _allocation(sizes: pd.Series, n: int) -> dict[Any, int]:
    """Equal allocation of ``n`` over strata (capped at a stratum's size, the rest spread over
    the others, larger strata first for the remainder)."""
    allocation = {stratum: 0 for stratum in sizes.index}
    left = n
    open_strata = [s for s in sizes.index if sizes[s] > 0]
    while left > 0 and open_strata:
        share, extra = divmod(left, len(open_strata))
        by_size = sorted(open_strata, key=lambda s: (-sizes[s], str(s)))
        for rank, stratum in enumerate(by_size):
            allocation[stratum] += min(share + (rank < extra), sizes[stratum] - allocation[stratum])
        left = n - sum(allocation.values())
        open_strata = [s for s in open_strata if allocation[s] < sizes[s]]
    return allocation


def draw_sample(
    units: pd.DataFrame,
    n: int | None = None,
    random_state: int = 0,
    *,
    stratify: str | None = None,
    group_by: str | None = None,
    per_group: int | None = None,
    split: bool = True,
) -> pd.DataFrame:
    """A seeded random sample of units, with its design and a design/held-out split.

    Parameters
    ----------
    units : pandas.DataFrame
        ``units.csv`` of a run (``unit_id``, ``doc_id``, ``n_chars``, ``text`` and, to
        stratify, the column named by ``stratify``).
    n : int, optional
        Units to draw (uniformly, or in total over the strata).
    random_state : int
        The seed (one ``numpy.random.default_rng``: the draw, then the split).
    stratify : str, optional
        A column of ``units`` (e.g. ``theme``, the run's label): ``n`` is allocated equally
        over its values, and each unit's ``weight`` is its stratum's size over its draws.
    group_by : str, optional
        A column of ``units`` holding each unit's group (e.g. its document's year):
        ``per_group`` units are drawn in each.
    per_group : int, optional
        Units per group (with ``group_by``).
    split : bool
        Split the sample into a ``design`` and a ``heldout`` half by a second draw; otherwise
        every unit is ``heldout``.

    Returns
    -------
    pandas.DataFrame
        :data:`SAMPLE_COLUMNS`, in the order drawn (``sample_id`` s001, s002, ...).

    Raises
    ------
    PolicytopicsError
        More units asked for than there are, or no way of drawing given.

    Examples
    --------
    >>> units = pd.DataFrame({"unit_id": [f"d-u{i:04d}" for i in range(10)], "doc_id": "d", "n_chars": 5,
    ...                       "text": "x", "theme": ["a"] * 8 + ["b"] * 2})
    >>> sample = draw_sample(units, 4, random_state=1, stratify="theme")
    >>> sorted(zip(sample["stratum"], sample["weight"]))
    [('a', 4.0), ('a', 4.0), ('b', 1.0), ('b', 1.0)]
    """
    rng = np.random.default_rng(random_state)
    units = units.sort_values("unit_id", kind="stable").reset_index(drop=True)
    stratum = pd.Series([""] * len(units))
    weights = pd.Series(np.ones(len(units)))
    if group_by is not None:
        if per_group is None:
            raise PolicytopicsError("sample: per_group is needed with group_by")
        if group_by not in units:
            raise PolicytopicsError(f"sample: the units have no column '{group_by}' to draw within")
        picked = []
        for value, members in sorted(units.groupby(group_by), key=lambda item: item[0]):
            if len(members) < per_group:
                raise PolicytopicsError(f"sample: group {value} has {len(members)} units, fewer than {per_group}")
            picked.extend(rng.choice(members.index.to_numpy(), size=per_group, replace=False).tolist())
            stratum[members.index] = str(value)
            weights[members.index] = len(members) / per_group
    elif stratify is not None:
        if stratify not in units:
            raise PolicytopicsError(f"sample: units.csv has no column '{stratify}' to stratify by")
        if n is None or n > len(units):
            raise PolicytopicsError(f"sample: cannot draw {n} of {len(units)} units")
        labels = units[stratify].astype(str)
        sizes = labels.value_counts()
        allocation = _allocation(sizes, n)
        picked = []
        for value in sorted(sizes.index):
            members = units.index[labels == value].to_numpy()
            count = allocation[value]
            if count:
                picked.extend(rng.choice(members, size=count, replace=False).tolist())
                weights[members] = len(members) / count
            stratum[members] = value
    else:
        if n is None or n > len(units):
            raise PolicytopicsError(f"sample: cannot draw {n} of {len(units)} units")
        picked = rng.choice(len(units), size=n, replace=False).tolist()
    sample = units.loc[picked].assign(stratum=stratum[picked].to_numpy(), weight=weights[picked].to_numpy())
    sample = sample.reset_index(drop=True)
    if split:
        design = set(rng.choice(len(sample), size=len(sample) // 2, replace=False).tolist())
        sample["split"] = ["design" if i in design else "heldout" for i in range(len(sample))]
    else:
        sample["split"] = "heldout"
    sample.insert(0, "sample_id", [f"s{i + 1:03d}" for i in range(len(sample))])
    return sample[SAMPLE_COLUMNS]


def write_coding_package(
    run_dir: str | Path,
    out: str | Path,
    sample: pd.DataFrame,
    *,
    word_intrusion: int = 0,
    topic_intrusion: int = 0,
    random_state: int = 0,
    settings: dict[str, Any] | None = None,
) -> list[str]:
    """Write the key, the coding sheet, the offline coding page and any intrusion tests.

    Parameters
    ----------
    run_dir : str or Path
        The run the sample was drawn from (its codebook gives the categories).
    out : str or Path
        The folder to write (replaced as a whole).
    sample : pandas.DataFrame
        From :func:`draw_sample`.
    word_intrusion, topic_intrusion : int
        Word-intrusion items per topic, and topic-intrusion items in all (0: none).
    random_state : int
        Seeds the intrusion items.
    settings : dict, optional
        How the sample was drawn, recorded in ``sample.json``.

    Returns
    -------
    list of str
        The files written, relative to ``out``.
    """
    from policytopics.coding_page import coding_page_html
    from policytopics.validation_inputs import run_codebook

    run_dir, out = Path(run_dir), Path(out)
    codebook = run_codebook(run_dir)
    categories = [{"id": t.id, "label": t.label_zh, "description": " ".join(t.description.split())} for t in codebook.themes]
    categories.append({"id": "none", "label": "none",
                       "description": "No theme of the codebook: greetings, procedure, general declarations, "
                                      "or a policy subject outside the codebook."})
    items: list[dict[str, Any]] = [{"item_id": row.sample_id, "kind": "passage", "text": row.text}
                                   for row in sample.itertuples()]
    key_rows: list[dict[str, Any]] = []
    if word_intrusion or topic_intrusion:
        from policytopics.intrusion import topic_intrusion_items, word_intrusion_items

        if word_intrusion:
            more, keys = word_intrusion_items(run_dir, n_per_topic=word_intrusion, random_state=random_state)
            items += more
            key_rows += keys
        if topic_intrusion:
            more, keys = topic_intrusion_items(run_dir, topic_intrusion, random_state=random_state)
            items += more
            key_rows += keys
    written = ["sample.csv", "coding_sheet.csv", "coding.html", "sample.json"]
    with artifacts.atomic_run_folder(out) as staging:
        artifacts.write_csv(staging / "sample.csv", sample.to_dict("records"), SAMPLE_COLUMNS)
        artifacts.write_csv(staging / "coding_sheet.csv", sample[["sample_id", "text"]].to_dict("records"),
                            ["sample_id", "text"])
        title = f"policytopics coding: {run_dir.name}, {len(sample)} passages"
        artifacts.write_text(staging / "coding.html", coding_page_html(items, categories, title))
        if key_rows:
            columns = ["item_id", "kind", "topic", "intruder", "candidates", "shares"]
            artifacts.write_csv(staging / "intrusion_key.csv", key_rows, columns)
            written.append("intrusion_key.csv")
        artifacts.write_json(staging / "sample.json", {
            **(settings or {}), "run_dir": str(run_dir), "units": len(sample),
            "strata": {str(k): int(v) for k, v in sample["stratum"].value_counts().sort_index().items()},
            "intrusion_items": len(key_rows),
        })
    return written


def sample_run(run_dir: str | Path, n: int, *, stratify: str | None = None, seed: int | None = None,
               out: str | Path | None = None, word_intrusion: int = 0, topic_intrusion: int = 0,
               split: bool = True) -> Path:
    """Draw a sample from a run folder and write the coding package (``python -m policytopics sample``).

    Parameters
    ----------
    run_dir : str or Path
        A run folder written by ``run``.
    n : int
        Units to draw.
    stratify : str, optional
        ``theme``: stratified by the run's predicted theme, weights recorded.
    seed : int, optional
        The draw's seed (default: the run's ``seed``).
    out : str or Path, optional
        Where to write (default: ``<run_dir>-coding`` beside the run folder).
    word_intrusion, topic_intrusion : int
        Intrusion tests to add (see :func:`write_coding_package`).
    split : bool
        Split the sample into design and held-out halves.

    Returns
    -------
    Path
        The folder written.

    Examples
    --------
    >>> sample_run("results/city-2024", 240, seed=20240601)  # doctest: +SKIP
    PosixPath('results/city-2024-coding')
    """
    import yaml

    run_dir = Path(run_dir)
    if not (run_dir / "units.csv").is_file():
        raise PolicytopicsError(f"sample: {run_dir} has no units.csv: not a run folder")
    resolved = yaml.safe_load((run_dir / "config.resolved.yaml").read_text(encoding="utf-8"))
    seed = int(resolved["seed"]) if seed is None else int(seed)
    units = pd.read_csv(run_dir / "units.csv", keep_default_na=False, dtype={"unit_id": str, "doc_id": str})
    if stratify is not None and stratify not in units:
        raise PolicytopicsError(f"sample: --stratify {stratify}: units.csv has no such column (a run with models has 'theme')")
    sample = draw_sample(units, n, seed, stratify=stratify, split=split)
    out = Path(out) if out is not None else run_dir.parent / f"{run_dir.name}-coding"
    settings = {"n": n, "seed": seed, "stratify": stratify, "population": len(units), "split": split}
    write_coding_package(run_dir, out, sample, word_intrusion=word_intrusion, topic_intrusion=topic_intrusion,
                         random_state=seed, settings=settings)
    logger.info("sample: %d units of %d drawn from %s; wrote %s", len(sample), len(units), run_dir, out)
    return out
