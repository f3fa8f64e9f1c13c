"""Where the codebook's keywords occur: seed speeches, city reports and the provincial panel.

For every keyword of every theme of a codebook (``configs/themes/devzone.yaml`` or the one
given) this script reports whether the default tokenizer returns it as one kept token, and
in how many units and documents of three corpora it occurs as a token:

``seeds``     the five seed pages in ``seeds/`` (development-zone speeches, ~2005-2015);
``city``      the 143 city government work reports of 2024
              (``../shared/corpora/city-reports-2024/``);
``province``  the 640 provincial government work reports, 31 provinces x 2003-2023
              (``../shared/corpora/province-reports-2003-2023/reports.jsonl``), also split
              into the periods 2003-2012 and 2013-2023 by the report's ``year``.

Each corpus is read, cleaned, segmented and tokenised exactly as a run does: the config
(``configs/default.yaml`` unless ``--config``) is loaded with ``corpus.path`` overridden,
and the package's own ``prepare_corpus`` and ``tokenize_units`` do the work, with the token
cache under ``.cache/`` (the first pass over the provincial panel takes about a minute on
two cores; a rerun with unchanged dictionary and stopwords reads the cache). A keyword
"occurs" in a unit when it is one of the unit's kept tokens, as the models and the keyword
count see it -- not when its characters appear in the raw text.

Writes
  ``docs/keyword_coverage.md``                  per-corpus sizes, a per-theme summary
                                                (keywords present per corpus, units with at
                                                least one keyword of the theme) and one
                                                table per theme, keyword by keyword;
  ``tests/data/codebook/keyword_coverage.csv``  the same counts, one row per keyword, and
  ``tests/data/codebook/corpus_sizes.csv``      the documents and units of each corpus and
                                                period, both read by tests/test_codebook.py.

``--probe WORD ...`` instead prints the counts of candidate words (not necessarily in the
codebook) and writes nothing: the token counts, and for comparison the number of units
whose text contains the word's characters at all.

Output is deterministic: the same codebook, dictionary, stopwords and corpora give the same
bytes.

Usage::

    .venv/bin/python scripts/keyword_coverage.py configs/themes/devzone.yaml
    .venv/bin/python scripts/keyword_coverage.py configs/themes/devzone.yaml --probe 医保 托育
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG = REPO / "configs" / "default.yaml"
DEFAULT_SEEDS = REPO / "seeds"
DEFAULT_CITY = REPO.parent / "shared" / "corpora" / "city-reports-2024"
DEFAULT_PROVINCE = REPO.parent / "shared" / "corpora" / "province-reports-2003-2023" / "reports.jsonl"
DEFAULT_MARKDOWN = REPO / "docs" / "keyword_coverage.md"
DEFAULT_CSV = REPO / "tests" / "data" / "codebook" / "keyword_coverage.csv"
SIZES_NAME = "corpus_sizes.csv"  # written beside the CSV of counts

#: The periods of the provincial panel: (name, first year, last year).
PERIODS = (("2003-2012", 2003, 2012), ("2013-2023", 2013, 2023))
#: A keyword in more than this share of a corpus's units is flagged as too common.
COMMON_SHARE = 0.10
#: The columns of the CSV fixture.
CSV_COLUMNS = (
    "theme", "keyword", "one_token",
    "units_seeds", "docs_seeds", "units_city", "docs_city", "units_province", "docs_province",
    "units_province_2003_2012", "docs_province_2003_2012",
    "units_province_2013_2023", "docs_province_2013_2023",
)

logger = logging.getLogger("keyword_coverage")


@dataclass
class Part:
    """The tokens of one corpus (or one period of it): a set of tokens per unit, with its doc."""

    name: str
    units: list[frozenset[str]] = field(default_factory=list)
    docs: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)

    @property
    def n_units(self) -> int:
        return len(self.units)

    @property
    def n_docs(self) -> int:
        return len(set(self.docs))

    def count(self, words: set[str]) -> tuple[int, int]:
        """Units and documents with at least one of ``words`` among their tokens."""
        hits = [doc for tokens, doc in zip(self.units, self.docs) if not tokens.isdisjoint(words)]
        return len(hits), len(set(hits))

    def count_text(self, word: str) -> int:
        """Units whose text contains ``word`` at all (lower-cased), token or not."""
        return sum(word in text.lower() for text in self.texts)


def _relative(path: Path) -> str:
    """A path as the command line would give it from the repository root."""
    path = Path(path).resolve()
    for base, prefix in ((REPO, ""), (REPO.parent, "../")):
        try:
            return prefix + path.relative_to(base).as_posix()
        except ValueError:
            continue
    return path.as_posix()


def load_part(config_path: Path, corpus: Path, overrides: Sequence[str], keep_text: bool) -> tuple[Part, list, object]:
    """Ingest, clean, segment and tokenise ``corpus`` as a run of ``config_path`` would.

    Returns the corpus's ``Part``, its documents (for metadata) and the run's tokenizer.
    """
    from policytopics.config import load_config
    from policytopics.pipeline import prepare_corpus, tokenize_units

    settings = [f"corpus.path={corpus}", *overrides]
    config = load_config(config_path, settings)
    if not Path(config.cache.dir).is_absolute():  # the cache of the repository, wherever we run from
        config = load_config(config_path, [*settings, f"cache.dir={REPO / config.cache.dir}"])
    timings: dict[str, float] = {}
    records = prepare_corpus(config, timings)
    documents, units = records.documents, records.units
    tokenizer, tokenized = tokenize_units(config, units, timings)
    part = Part(_relative(corpus))
    for unit, tokens in zip(units, tokenized.tokens):
        part.units.append(frozenset(tokens))
        part.docs.append(unit.doc_id)
        if keep_text:
            part.texts.append(unit.text.lower())
    logger.info("%s: %d documents, %d units (%s)", part.name, part.n_docs, part.n_units, timings)
    return part, documents, tokenizer


def split_periods(part: Part, documents: list) -> list[Part]:
    """The units of ``part`` in each period of ``PERIODS``, by their document's ``year``."""
    years = {doc.doc_id: int(doc.metadata["year"]) for doc in documents}
    periods = []
    for name, first, last in PERIODS:
        period = Part(name)
        for index, doc in enumerate(part.docs):
            if first <= years[doc] <= last:
                period.units.append(part.units[index])
                period.docs.append(doc)
                if part.texts:
                    period.texts.append(part.texts[index])
        periods.append(period)
    return periods


def load_corpora(args: argparse.Namespace, keep_text: bool = False) -> tuple[dict[str, Part], object]:
    """The three corpora and the two periods of the provincial panel, keyed by name."""
    workers = [f"tokenize.workers={args.workers}", f"clean.workers={args.workers}"] if args.workers else []
    parts: dict[str, Part] = {}
    seeds, _, tokenizer = load_part(args.config, args.seeds, workers, keep_text)
    parts["seeds"] = seeds
    city, _, _ = load_part(args.config, args.city, workers, keep_text)
    parts["city"] = city
    province, documents, _ = load_part(args.config, args.province, [*workers, "corpus.id_column=id"], keep_text)
    parts["province"] = province
    for period in split_periods(province, documents):
        parts[f"province {period.name}"] = period
    return parts, tokenizer


def read_themes(codebook: Path) -> list[tuple[str, list[str]]]:
    """(theme id, keywords) in codebook order, through the package's own loader."""
    from policytopics.codebook import load_codebook

    loaded = load_codebook(codebook)
    keywords = loaded.keywords()
    return [(theme_id, list(keywords[theme_id])) for theme_id in loaded.ids]


def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _pct(n: int, total: int) -> str:
    return f"{100 * n / total:.1f}%" if total else "-"


def coverage_rows(themes, parts: dict[str, Part], tokenizer) -> list[dict[str, object]]:
    """One row per keyword: theme, keyword, one_token and units/docs per corpus and period."""
    rows = []
    for theme_id, keywords in themes:
        for keyword in keywords:
            row: dict[str, object] = {
                "theme": theme_id,
                "keyword": keyword,
                "one_token": int(tokenizer.tokenize(keyword) == [keyword]),
            }
            for name, part in parts.items():
                units, docs = part.count({keyword})
                suffix = name.replace(" ", "_").replace("-", "_")
                row[f"units_{suffix}"], row[f"docs_{suffix}"] = units, docs
            rows.append(row)
    return rows


def write_csv(rows: list[dict[str, object]], columns: Sequence[str], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")


def size_rows(parts: dict[str, Part]) -> list[dict[str, object]]:
    """One row per corpus or period: its name (as in the CSV's column suffixes), documents, units."""
    return [{"corpus": name.replace(" ", "_").replace("-", "_"), "documents": part.n_docs, "units": part.n_units}
            for name, part in parts.items()]


def _keyword_flags(row: dict[str, object], parts: dict[str, Part]) -> str:
    flags = []
    if not row["one_token"]:
        flags.append("not one token")
    main = ("seeds", "city", "province")
    if not any(row[f"units_{name}"] for name in main):
        flags.append("in no corpus")
    common = [name for name in main
              if parts[name].n_units and int(row[f"units_{name}"]) > COMMON_SHARE * parts[name].n_units]
    if common:
        flags.append(f"> {COMMON_SHARE:.0%} of units: {', '.join(common)}")
    return "; ".join(flags)


def render_markdown(command: str, codebook: Path, themes, rows, parts: dict[str, Part], tokenizer, csv_path: Path) -> str:
    """docs/keyword_coverage.md: provenance, corpus sizes, the per-theme summary, one table per theme."""
    names = list(parts)
    main = ("seeds", "city", "province")
    periods = [name for name in names if name.startswith("province ")]
    out = [
        "# Keyword coverage of the theme codebook",
        "",
        "Generated by (from the repository root; do not edit by hand):",
        "",
        "```sh",
        command,
        "```",
        "",
        "For every keyword of every theme: whether the default tokenizer returns it as one kept",
        "token, and in how many units and documents of each corpus it occurs as a token (`units / docs`).",
        "Each corpus is read, cleaned, segmented and tokenised exactly as a run of",
        "`configs/default.yaml` with `corpus.path` set to it (`scripts/keyword_coverage.py`).",
        f"The counts are also in `{_relative(csv_path)}` (corpus sizes in `{SIZES_NAME}` beside it),",
        "which `tests/test_codebook.py` checks against the codebook: re-run the command above",
        "after changing a keyword, the dictionary or the stopwords.",
        "",
        f"- codebook: `{_relative(codebook)}` (sha256 `{_sha256(codebook)[:16]}`)",
        f"- dictionary: `src/policytopics/resources/devzone_dict.txt` (sha256 "
        f"`{_sha256(tokenizer.dictionary_files[0])[:16]}`)" if tokenizer.dictionary_files else "- dictionary: none",
        f"- tokenizer fingerprint: `{tokenizer.fingerprint[:16]}`",
        "",
        "## Corpora",
        "",
        "| corpus | source | documents | units |",
        "|---|---|---:|---:|",
    ]
    for name in names:
        part = parts[name]
        source = f"`{part.name}`" if name in main else f"the province panel, years {name.split(' ')[1]}"
        out.append(f"| {name} | {source} | {part.n_docs:,} | {part.n_units:,} |")
    out += [
        "",
        "## Summary per theme",
        "",
        "*present*: keywords that occur as a token in at least one unit of the corpus (*any*: of",
        "seeds, city or province). *units covered*: units with at least one keyword of the theme",
        "among their tokens, and their share of the corpus's units.",
        "",
        "| theme | keywords | one token | present: seeds | city | province | "
        + " | ".join(periods) + " | any | units covered: seeds | city | province | "
        + " | ".join(periods) + " |",
        "|---|" + "---:|" * (3 + len(main) + 2 * len(periods) + len(main)),
    ]
    by_theme: dict[str, list[dict[str, object]]] = {}
    for row in rows:
        by_theme.setdefault(str(row["theme"]), []).append(row)
    for theme_id, keywords in themes:
        theme_rows = by_theme[theme_id]
        cells = [f"`{theme_id}`", str(len(keywords)), str(sum(int(r["one_token"]) for r in theme_rows))]
        for name in [*main, *periods]:
            key = "units_" + name.replace(" ", "_").replace("-", "_")
            cells.append(str(sum(1 for r in theme_rows if r[key])))
        cells.append(str(sum(1 for r in theme_rows if any(r[f"units_{n}"] for n in main))))
        for name in [*main, *periods]:
            units, _ = parts[name].count(set(keywords))
            cells.append(f"{units:,} ({_pct(units, parts[name].n_units)})")
        out.append("| " + " | ".join(cells) + " |")
    all_keywords = {k for _, keywords in themes for k in keywords}
    cells = ["all themes", str(len(all_keywords)), str(sum(int(r["one_token"]) for r in rows))]
    for name in [*main, *periods]:
        key = "units_" + name.replace(" ", "_").replace("-", "_")
        cells.append(str(sum(1 for r in rows if r[key])))
    cells.append(str(sum(1 for r in rows if any(r[f"units_{n}"] for n in main))))
    for name in [*main, *periods]:
        units, _ = parts[name].count(all_keywords)
        cells.append(f"{units:,} ({_pct(units, parts[name].n_units)})")
    out.append("| " + " | ".join(cells) + " |")
    out += [
        "",
        "## Keywords per theme",
        "",
        f"Cells are `units / docs`. *flags*: not one kept token; in no corpus; in more than "
        f"{COMMON_SHARE:.0%} of a corpus's units (too common to mark one theme; in the seeds, "
        f"{parts['seeds'].n_units} units of development-zone speeches, a flag is for information "
        "only: `tests/test_codebook.py` checks the rule on the city and provincial reports).",
    ]
    for theme_id, _ in themes:
        out += [
            "",
            f"### `{theme_id}`",
            "",
            "| keyword | one token | seeds | city | province | " + " | ".join(periods) + " | flags |",
            "|---|:-:|" + "---:|" * (len(main) + len(periods)) + "---|",
        ]
        for row in by_theme[theme_id]:
            cells = [str(row["keyword"]), "yes" if row["one_token"] else "**no**"]
            for name in [*main, *periods]:
                suffix = name.replace(" ", "_").replace("-", "_")
                cells.append(f"{row[f'units_{suffix}']:,} / {row[f'docs_{suffix}']:,}")
            cells.append(_keyword_flags(row, parts))
            out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def probe(words: Sequence[str], parts: dict[str, Part], tokenizer, owners: dict[str, str]) -> str:
    """A plain-text table of candidate words: one token?, units as token (and %) and as text."""
    names = list(parts)
    lines = ["word\ttheme\tone_token\t" + "\t".join(f"{n} tok/text (%tok)" for n in names)]
    for word in words:
        token = word.lower() if word.isascii() else word
        cells = [word, owners.get(token, "-"), "yes" if tokenizer.tokenize(word) == [token] else
                 "NO " + "/".join(tokenizer.tokenize(word))]
        for name in names:
            part = parts[name]
            units, _ = part.count({token})
            cells.append(f"{units}/{part.count_text(token)} ({_pct(units, part.n_units)})")
        lines.append("\t".join(cells))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("codebook", type=Path, help="the theme codebook (YAML)")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="config whose tokenizer is used")
    parser.add_argument("--seeds", type=Path, default=DEFAULT_SEEDS)
    parser.add_argument("--city", type=Path, default=DEFAULT_CITY)
    parser.add_argument("--province", type=Path, default=DEFAULT_PROVINCE)
    parser.add_argument("--markdown", type=Path, default=DEFAULT_MARKDOWN)
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--workers", type=int, default=0, help="processes for cleaning and tokenising (0: the config's)")
    parser.add_argument("--probe", nargs="+", metavar="WORD", help="print counts of these words; write nothing")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(name)s: %(message)s")

    for path in (args.codebook, args.seeds, args.city, args.province):
        if not path.exists():
            parser.error(f"not found: {path}")
    themes = read_themes(args.codebook)
    parts, tokenizer = load_corpora(args, keep_text=bool(args.probe))
    if args.probe:
        owners = {k: theme_id for theme_id, keywords in themes for k in keywords}
        print(probe(args.probe, parts, tokenizer, owners))
        return 0
    rows = coverage_rows(themes, parts, tokenizer)
    command = " ".join([".venv/bin/python", "scripts/keyword_coverage.py", *argv])
    args.markdown.parent.mkdir(parents=True, exist_ok=True)
    args.markdown.write_text(render_markdown(command, args.codebook, themes, rows, parts, tokenizer, args.csv), encoding="utf-8")
    write_csv(rows, CSV_COLUMNS, args.csv)
    write_csv(size_rows(parts), ("corpus", "documents", "units"), args.csv.parent / SIZES_NAME)
    print(f"wrote {_relative(args.markdown)}, {_relative(args.csv)} and {_relative(args.csv.parent / SIZES_NAME)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
