"""The run configuration: a pydantic schema, YAML loading, dotted overrides, resolved dump.

In: a YAML file (and optional ``key.path=value`` overrides). Out: a validated ``Config``.
The config is the only source of settings: every stage receives its section of it.
Unknown keys and wrong types are errors that name the key and the file.
"""

from __future__ import annotations

import codecs
import importlib.util
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from policytopics.errors import PolicytopicsError


class ConfigError(PolicytopicsError):
    """A configuration that cannot be used; the message names the key and the file."""


class _Section(BaseModel):
    # strict: YAML already gives typed values, so `seed: true` or `passes: "20"` is an error
    # rather than silently read as 1 or 20 (an int is still accepted where a float is due)
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, strict=True)


def _opencc_profiles() -> frozenset[str] | None:
    """Names of the conversion profiles OpenCC ships (``t2s``, ...), found without importing it;
    ``None`` when they cannot be listed."""
    spec = importlib.util.find_spec("opencc")
    if spec is None or not spec.submodule_search_locations:
        return None
    names = {
        path.stem
        for location in spec.submodule_search_locations
        for path in Path(location).glob("**/share/opencc/*.json")
    }
    return frozenset(names) or None


class CorpusConfig(_Section):
    """Where the corpus is and how to read it."""

    path: str = Field(
        "seeds",
        description="A folder of .txt files (searched recursively) or one .csv/.jsonl file. "
        "Relative paths are resolved against the current working directory.",
    )
    text_column: str = Field("text", description="CSV/JSONL: the column holding the text.")
    id_column: str | None = Field(
        None,
        description="CSV/JSONL: a column with a unique id per row, used in `source` instead "
        "of the row number.",
    )
    metadata_columns: list[str] | None = Field(
        None,
        description="CSV/JSONL: the columns carried to every output as metadata; "
        "null keeps every column except the text column.",
    )
    manifest: str | None = Field(
        "corpus.yaml",
        description="A YAML file inside a corpus folder that describes its files; each "
        "file's `metadata` mapping travels with its documents. null to ignore it.",
    )
    encodings: list[str] = Field(
        ["utf-8", "gb18030", "big5", "utf-16"],
        description="Candidate encodings for .txt/.csv/.jsonl files. A byte-order mark "
        "decides first; then UTF-8 wins if it decodes strictly; otherwise every other "
        "candidate that decodes strictly (UTF-16 only when the bytes contain NULs) is "
        "scored by its share of common Chinese characters and the most plausible wins. "
        "A file no candidate decodes plausibly is skipped and reported; one with a few invalid "
        "bytes (at most 1%) is repaired, each run of them replaced by U+FFFD, and reported.",
        min_length=1,
    )

    @field_validator("encodings")
    @classmethod
    def _known_encodings(cls, value: list[str]) -> list[str]:
        for name in value:
            try:
                codecs.lookup(name)
            except LookupError:
                raise ValueError(f"unknown encoding {name!r}") from None
        return value


class CleanConfig(_Section):
    """Which cleaning steps run. They always run in this order; each can be switched off."""

    strip_pinyin: bool = Field(
        True,
        description="Remove pinyin annotations after characters, 開(kāi)發(fā) -> 開發, "
        "including those left behind by a garbled character.",
    )
    to_simplified: bool = Field(True, description="Convert traditional to simplified script.")
    opencc_config: str = Field(
        "t2s",
        description="OpenCC conversion used by to_simplified (t2s, tw2s, hk2s, ...).",
    )

    @field_validator("opencc_config")
    @classmethod
    def _known_opencc_profile(cls, value: str) -> str:
        profiles = _opencc_profiles()
        name = value.removesuffix(".json")
        if profiles is not None and name not in profiles and not Path(value).is_file():
            raise ValueError(f"unknown OpenCC profile {value!r} (one of {', '.join(sorted(profiles))})")
        return value
    remove_boilerplate: bool = Field(
        True,
        description="Remove web-page boilerplate lines and fragments (breadcrumbs, spam, "
        "download notices, related-content lists, PDF page markers, ...).",
    )
    default_boilerplate: bool = Field(
        True,
        description="Use the boilerplate patterns shipped with the package.",
    )
    boilerplate_files: list[str] = Field(
        [],
        description="Extra boilerplate pattern files (same YAML format as the shipped "
        "resources/boilerplate.yaml), applied after the default ones.",
    )
    drop_mojibake: bool = Field(
        True,
        description="Drop garbled fragments (runs of ?, stray Cyrillic/Latin inside Chinese "
        "text) while keeping real Latin content such as GDP, ISO14000, 110kv.",
    )
    normalise: bool = Field(
        True,
        description="Normalise full-width letters/digits to half-width, whitespace, and "
        "placeholder years (20xx, XX年).",
    )
    workers: int = Field(
        0,
        ge=0,
        description="Cleaning processes, 0 = one per core; a corpus under a million characters is "
        "cleaned in one. Each text is cleaned on its own, so the result does not depend on it.",
    )


class SegmentConfig(_Section):
    """How cleaned texts become documents and documents become analysis units."""

    split_speeches: bool = Field(
        True,
        description="Split files holding several speeches (篇1, 第一篇:) into documents.",
    )
    deduplicate: bool = Field(
        True, description="Flag near-duplicate documents and keep only the first of each."
    )
    duplicate_threshold: float = Field(
        0.8,
        gt=0.0,
        le=1.0,
        description="Near-duplicate threshold on character 5-gram shingles: a later "
        "document is flagged a duplicate of an earlier one when their Jaccard similarity, "
        "or the share of the shorter one's shingles found in the other (containment, so "
        "that a truncated copy is caught), is at or above this value.",
    )
    max_unit_chars: int = Field(
        1500,
        ge=50,
        description="Units must be shorter than this: longer paragraphs are cut at their "
        "inner outline markers (一是, 1、) and then at sentence ends.",
    )
    min_unit_chars: int = Field(
        20,
        ge=0,
        description="Units shorter than this (stray fragments) are merged into the "
        "following unit of the same section, or the preceding one at a section end.",
    )

    @field_validator("min_unit_chars")
    @classmethod
    def _min_below_max(cls, value: int, info: ValidationInfo) -> int:
        maximum = info.data.get("max_unit_chars")
        if maximum is not None and value >= maximum:
            raise ValueError(f"must be less than segment.max_unit_chars ({maximum})")
        return value


class PhrasesConfig(_Section):
    """Collocations: gensim ``Phrases`` bigrams learned on the corpus tokens."""

    enabled: bool = Field(False, description="Learn bigram collocations and join them (A_B).")
    min_count: int = Field(5, ge=1, description="Ignore word pairs seen fewer times than this.")
    threshold: float = Field(
        10.0, gt=0.0, description="gensim Phrases score threshold (default scorer); higher "
        "means fewer phrases."
    )


class TokenizeConfig(_Section):
    """How unit texts become tokens: dictionary, stopwords, POS filter, collocations."""

    default_dictionary: bool = Field(
        True,
        description="Load the development-zone user dictionary shipped in "
        "resources/devzone_dict.txt (on top of jieba's own dictionary).",
    )
    dictionaries: list[str] = Field(
        [],
        description="Extra jieba user-dictionary files (one 'word [freq] [pos]' a line), "
        "loaded after the default one; set default_dictionary: false to use only these.",
    )
    default_stopwords: bool = Field(
        True,
        description="Use the stopword lists shipped in resources/ (a general Chinese list "
        "and a speech-filler list: forms of address, intensifiers, empty exhortation verbs).",
    )
    stopword_files: list[str] = Field(
        [], description="Extra stopword files (one word a line, '#' comments)."
    )
    stopwords: list[str] = Field([], description="Extra stopwords written in the config.")
    keep_pos: list[str] = Field(
        ["n", "nr", "ns", "nt", "nz", "nrt", "nrfg", "vn", "an", "eng"],
        description="jieba POS tags kept (ICTCLAS set): nouns (n), names of people (nr, "
        "nrt, nrfg), places (ns), organisations (nt), other proper nouns (nz), verbal nouns "
        "(vn), adjectival nouns (an) and Latin words (eng). An empty list keeps every tag.",
    )
    keep_dictionary_terms: bool = Field(
        True,
        description="Keep every word of the user dictionaries whatever its POS tag "
        "(stopwords still go).",
    )
    min_chars: int = Field(
        2, ge=1, description="Drop tokens shorter than this (1 keeps single characters)."
    )
    keep_numbers: bool = Field(
        False,
        description="Keep numbers, percentages, amounts with units (3亿元), dates, years "
        "and placeholders (20XX).",
    )
    hmm: bool = Field(
        True, description="Let jieba's HMM join characters into words it does not know."
    )
    backend: Literal["jieba", "rjieba"] = Field(
        "jieba",
        description="The segmenter. 'jieba': jieba's posseg words and tags, through a faster "
        "re-implementation that gives exactly the same pairs (about 1 MB of text a second per "
        "core). 'rjieba': the Rust port jieba-rs, about five times faster again, but it segments "
        "and tags words outside the dictionary its own way: on the 2024 city reports 1.1% of "
        "jieba's kept tokens differ (2.9% counting their tags; 4.0% of all segmented words), on "
        "the seed speeches 0.6% (5.0% counting tags).",
    )
    phrases: PhrasesConfig = Field(
        default_factory=PhrasesConfig, description="Bigram collocations (off by default)."
    )
    workers: int = Field(
        0,
        ge=0,
        description="Processes used to tokenise a large corpus (0 = one per CPU core). The "
        "tokens do not depend on it.",
    )


class CacheConfig(_Section):
    """The on-disk cache (jieba's prefix dictionary, tokenised units, features, fitted models)."""

    enabled: bool = Field(
        True,
        description="Re-use tokens of units whose text and token settings are unchanged "
        "(false: nothing is cached).",
    )
    models: bool = Field(
        True,
        description="With enabled: also re-use the model vocabulary and bags of words, every "
        "LDA fit (the run's model and each fit of the model-selection sweep, with its "
        "coherence and perplexity) and the KMeans fit of every k, whenever their inputs and "
        "settings are unchanged: a rerun that changes only e.g. lda.num_topics (to a K of the "
        "sweep), themes or cluster settings refits nothing it fitted before. Entries are keyed "
        "by a hash of the tokens, every setting they depend on, the package versions and the "
        "code, and checksummed; results are byte-identical with or without them.",
    )
    dir: str = Field(
        ".cache",
        description="Cache folder (relative to the working directory); safe to delete.",
    )

    def folder(self) -> str | None:
        """``dir`` when ``enabled``, else ``None`` (what the stages that cache are given)."""
        return self.dir if self.enabled else None


class ThemesConfig(_Section):
    """The theme codebook and how themes are assigned to units and documents."""

    codebook: str = Field(
        "configs/themes/devzone.yaml",
        description="YAML codebook: themes with id, Chinese and English label, description "
        "and keywords (each keyword must come out of the tokenizer as one token).",
    )
    ids: list[str] | None = Field(
        None,
        min_length=1,
        description="Use only these theme ids of the codebook (null = every theme); an id "
        "missing from the codebook is an error.",
    )
    min_theme_mass: float = Field(
        0.4,
        ge=0.0,
        le=1.0,
        description="A unit is 'none' (no theme) when the topic model puts less than this share "
        "of it on the theme topics; its text then counts as 'unassigned' in its document's "
        "shares. See docs/methods.md.",
    )
    min_margin: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description="A unit about themes is labelled 'mixed' instead of its top theme when the "
        "top theme's share (among the themes) leads the second by less than this. 0 = never mixed.",
    )
    document_min_share: float = Field(
        0.2,
        ge=0.0,
        le=1.0,
        description="A document's dominant theme is its top-ranked theme when that theme's share "
        "is at least this; otherwise its dominant theme is 'none'.",
    )
    ensemble: Literal["sweep", "run"] = Field(
        "sweep",
        description="Which fits measure the themes. 'sweep': every fit of the model-selection "
        "sweep (each K of selection.num_topics x the run seed and the stability seeds; the "
        "held-out units inferred by each fit), averaged, so that a share does not hang on one "
        "seed or one K and its interval includes their disagreement. 'run': the run's one model "
        "(the chosen K, fitted on all units). Topic tables, LDAvis and topic_doc.csv always come "
        "from the run's model.",
    )
    draws: int = Field(
        200,
        ge=10,
        description="Draws for the 95% intervals: each draw picks one fit of the ensemble, takes "
        "every unit's theme shares from that fit's variational Dirichlet posterior and, for "
        "documents, resamples the document's units (bootstrap). Seeded by `seed`.",
    )


class FeaturesConfig(_Section):
    """The vocabulary the models see (gensim Dictionary.filter_extremes)."""

    no_below: int = Field(2, ge=1, description="Drop terms found in fewer units than this.")
    no_above: float = Field(
        0.5, gt=0.0, le=1.0, description="Drop terms found in more than this share of units."
    )
    keep_n: int | None = Field(
        None, ge=1, description="Keep at most this many of the most frequent terms (null = all)."
    )


class LdaConfig(_Section):
    """gensim LdaModel settings and how topics become themes."""

    method: Literal["guided", "mapped"] = Field(
        "guided",
        description="guided: one topic per theme seeded with its keywords through the eta "
        "prior, plus num_topics - themes free topics; mapped: unsupervised topics, each "
        "mapped to the theme whose keywords weigh most in it (or 'unassigned').",
    )
    num_topics: int = Field(
        12, ge=2, description="Number of topics (guided: themes plus free topics, so at least "
        "the number of themes)."
    )
    alpha: Literal["symmetric", "asymmetric", "auto"] | float = Field(
        "symmetric", description="Document-topic prior (gensim alpha)."
    )

    @field_validator("alpha", mode="before")
    @classmethod
    def _alpha_name_or_positive(cls, value: Any) -> Any:
        if value in ("symmetric", "asymmetric", "auto"):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
            return float(value)
        raise ValueError("expected 'symmetric', 'asymmetric', 'auto' or a number above 0")
    eta: float = Field(0.01, gt=0.0, description="Base topic-word prior (gensim eta).")
    seed_weight: float = Field(
        1.0,
        ge=0.0,
        description="guided: prior pseudo-count added for a keyword in its theme's topic, as a "
        "multiple of the keyword's frequency in the corpus (see docs/methods.md).",
    )
    passes: int = Field(20, ge=1, description="Passes over the corpus.")
    iterations: int = Field(400, ge=1, description="Maximum E-step iterations per document.")
    chunksize: int | None = Field(
        None, ge=1, description="Units per variational update (gensim chunksize); null = all "
        "units in one chunk, so every update is full-batch, which the guided start relies on "
        "(see docs/methods.md). A smaller chunk gives online updates (Hoffman et al. 2010)."
    )
    estep: Literal["batched", "gensim"] = Field(
        "batched", description="How each pass's E-step runs; model, priors, random starts and "
        "M-step are gensim's LdaModel in both. gensim: LdaModel.update as shipped (a Python "
        "loop over units). batched: the same updates and stopping rule vectorised across units: "
        "equal to gensim up to floating-point rounding, ~3x faster (docs/methods.md 3.1)."
    )
    top_n: int = Field(10, ge=3, description="Terms listed per topic and used for coherence.")
    relevance_lambda: float = Field(
        0.6, ge=0.0, le=1.0,
        description="lambda of Sievert & Shirley's relevance for the relevance term list.",
    )
    map_min_weight: float = Field(
        0.02, ge=0.0, le=1.0,
        description="mapped: a topic maps to a theme only if the theme's keywords hold at "
        "least this share of the topic's probability mass.",
    )
    map_margin: float = Field(
        1.5, ge=1.0,
        description="mapped: ...and at least this many times the mass of the next theme.",
    )


class SelectionConfig(_Section):
    """Model selection: a sweep over num_topics with refits, and how the run's K is chosen."""

    num_topics: list[Annotated[int, Field(ge=2)]] = Field(
        [10, 12, 15], min_length=1, description="K values swept (held-out perplexity, coherence, "
        "diversity, stability); with choose: auto the run's K is one of them."
    )
    stability_seeds: int = Field(
        3, ge=0, description="Refits with other seeds (seed + 1, seed + 2, ...) per K for the "
        "stability report and the standard error of the held-out perplexity (0 = none)."
    )
    workers: int = Field(
        0, ge=0, description="Processes for the sweep (0 = one per core); each fit is "
        "single-process and deterministic."
    )
    heldout_fraction: float = Field(
        0.1, gt=0.0, le=0.5,
        description="Share of the units (those with a term of the model vocabulary) held out of "
        "every sweep fit, drawn once with the run seed; the sweep's perplexity is computed on "
        "them. The run's own model is fitted on all units.",
    )
    choose: Literal["auto", "fixed"] = Field(
        "auto",
        description="auto: the run's K is chosen from the sweep by the rule of docs/methods.md "
        "(section 6): stability at least min_stability, held-out perplexity within perplexity_se "
        "standard errors of the lowest, then the highest coherence, ties to the smaller K. "
        "fixed: the run's K is lda.num_topics.",
    )
    min_stability: float = Field(
        0.5, ge=0.0, le=1.0,
        description="auto: a K is eligible only if the mean top-term Jaccard overlap of its "
        "refits with the run seed's fit is at least this (0.5: matched topics share about two "
        "thirds of their top terms). Not applied without refits (stability_seeds: 0).",
    )
    perplexity_se: float = Field(
        1.0, ge=0.0,
        description="auto: an eligible K fits as well as the best if its mean held-out perplexity "
        "is at most the lowest mean plus this many standard errors (over seeds) of that lowest "
        "mean (the one-standard-error rule; 0 keeps only the lowest).",
    )
    coherence: Literal["c_npmi", "c_v"] = Field(
        "c_npmi",
        description="auto: the coherence measure (mean over topics, on data-only top terms) that "
        "picks among the K that fit as well as the best.",
    )


class ClusterConfig(_Section):
    """TF-IDF + KMeans clustering of units (scikit-learn)."""

    k: int | None = Field(
        None, ge=2, description="Number of clusters; null chooses k in k_range by silhouette."
    )
    k_range: list[Annotated[int, Field(ge=2)]] = Field(
        [4, 12], min_length=2, max_length=2, description="[min, max] k tried."
    )

    @field_validator("k_range")
    @classmethod
    def _min_not_above_max(cls, value: list[int]) -> list[int]:
        if value[0] > value[1]:
            raise ValueError("expected [min, max] with min <= max")
        return value
    top_n: int = Field(10, ge=3, description="Terms listed per cluster (from its centroid).")
    n_init: int = Field(
        3,
        ge=1,
        description="KMeans initialisations (k-means++) per k; the fit with the lowest inertia "
        "is kept. Each costs one KMeans fit: 10 (the former default) takes about three times "
        "as long as 3. On the city reports both chose the same k, and the labels of 3 and 10 "
        "agree about as well as those of 10 with two seeds (adjusted Rand index about 0.55; "
        "docs/methods.md, section 5).",
    )
    silhouette_sample: int = Field(
        10_000,
        ge=100,
        description="The silhouette that chooses k is computed on at most this many units: on "
        "a larger corpus, on a random sample of this many (drawn with the run seed, the same "
        "units for every k).",
    )


class OutputConfig(_Section):
    """Where runs are written."""

    results_dir: str = Field(
        "results",
        description="Folder that receives one run folder per run name: results_dir/name/.",
    )
    figures: bool = Field(
        True, description="Write the figures (PNG and SVG) into results_dir/name/figures/."
    )
    report: bool = Field(
        True, description="Write report.html, one self-contained page (figures inlined if written)."
    )
    max_speeches_shown: int = Field(
        40, ge=1,
        description="The per-speech figures (theme_heatmap, theme_bars, theme_flow) and the "
        "report's evidence quotes show at most this many speeches, the first in documents.csv "
        "order, and say so; every speech stays in the tables. A figure of thousands of rows "
        "cannot be read, and drawing it takes gigabytes.",
    )
    embed_font: bool = Field(
        True,
        description="Embed in report.html and lda.html the Noto Sans CJK SC glyphs each page "
        "uses (a subset: about 0.5 MB for the seed corpus), so Chinese renders on a machine "
        "without a CJK font; false relies on the reader's system fonts.",
    )


class PeriodConfig(_Section):
    """A categorical column derived from a numeric one by ranges, e.g. periods of years."""

    column: str = Field("year", description="The numeric metadata column the ranges apply to.")
    bins: dict[str, Annotated[list[int | float], Field(min_length=2, max_length=2)]] = Field(
        ..., min_length=2, description="Level name -> [first, last] (both included), e.g. "
        "{before_2013: [2003, 2012], from_2013: [2013, 2023]}. The first level is the reference "
        "of the contrasts; a document outside every range is left out of the analyses that use it.",
    )


class EffectConfig(_Section):
    """One regression of each theme's document share on document metadata."""

    name: str = Field(..., pattern=r"^[A-Za-z0-9_]+$", description="Names the analysis in "
                      "effects.csv and its figure (letters, digits, underscores).")
    formula: str = Field(..., description="A patsy formula with `theme` on the left, e.g. "
                         "'theme ~ period' or 'theme ~ C(region) + year'; strings are categorical.")
    themes: list[str] | None = Field(None, description="Theme ids (or 'unassigned') to analyse; null = every theme.")
    fixed_effects: list[str] = Field([], description="Categorical columns entered as fixed effects "
                                     "(dummies; their coefficients are not reported), e.g. [province].")
    cluster: str | None = Field(None, description="Cluster-robust standard errors by this column "
                                "(e.g. province: its reports are not independent); null = heteroskedasticity-robust (HC1).")
    model: Literal["ols", "fractional_logit"] = Field("ols", description="ols: the share itself "
                                                      "(estimates in share points); fractional_logit: a binomial GLM with logit link "
                                                      "on the share (Papke & Wooldridge 1996; estimates in log-odds).")


class EffectsConfig(_Section):
    """How theme shares depend on document metadata (docs/methods.md, "Comparisons")."""

    analyses: list[EffectConfig] = Field(..., min_length=1, description="The regressions to run.")
    derived: dict[str, PeriodConfig] = Field({}, description="New categorical columns from numeric ranges, by name.")
    draws: int = Field(100, ge=10, description="Posterior draws of every document's shares (method "
                       "of composition); at most themes.draws.")
    time_column: str | None = Field("year", description="theme_by_year.csv and its figure: the "
                                    "mean share per value of this column (null = none).")
    group_column: str | None = Field(None, description="theme_by_group.csv and its figure: the "
                                     "mean share per level of this column, e.g. region (null = none).")


class Config(_Section):
    """A whole run: corpus, cleaning, segmentation and output settings."""

    name: str = Field(
        "default",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
        description="Run name; the run is written to results_dir/name/.",
    )
    seed: int = Field(
        20240601,
        ge=0,
        description="The one random seed, passed as random_state to every random component.",
    )
    corpus: CorpusConfig = Field(default_factory=CorpusConfig, description="Where the corpus is and how to read it.")
    clean: CleanConfig = Field(default_factory=CleanConfig, description="Which cleaning steps run.")
    segment: SegmentConfig = Field(
        default_factory=SegmentConfig,
        description="How cleaned texts become documents, and documents analysis units.",
    )
    tokenize: TokenizeConfig = Field(
        default_factory=TokenizeConfig,
        description="How units become tokens: dictionary, stopwords, POS filter, collocations.",
    )
    themes: ThemesConfig = Field(default_factory=ThemesConfig, description="The theme codebook.")
    features: FeaturesConfig = Field(default_factory=FeaturesConfig, description="The model vocabulary.")
    lda: LdaConfig = Field(default_factory=LdaConfig, description="The LDA topic model.")
    selection: SelectionConfig = Field(default_factory=SelectionConfig, description="Model selection.")
    cluster: ClusterConfig = Field(default_factory=ClusterConfig, description="TF-IDF clustering.")
    output: OutputConfig = Field(default_factory=OutputConfig, description="Where runs are written.")
    cache: CacheConfig = Field(default_factory=CacheConfig, description="The on-disk cache.")
    effects: EffectsConfig | None = Field(None, description="Comparisons across documents' "
                                          "metadata (run by `run` when present, and by `compare`); null = none.")

    @model_validator(mode="after")
    def _effects_draws_within_the_runs(self) -> Config:
        if self.effects is not None and self.effects.draws > self.themes.draws:
            raise ValueError(f"effects.draws: {self.effects.draws} is more than themes.draws "
                             f"({self.themes.draws}), the draws a run saves")
        return self

    def to_yaml(self) -> str:
        """The resolved config as YAML (every field, defaults included), keys in schema order."""
        return yaml.safe_dump(
            self.model_dump(mode="json"), allow_unicode=True, sort_keys=False, width=100
        )


def _format_location(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


def _one_line(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _format_validation_error(error: ValidationError, source: str) -> str:
    lines: list[str] = []
    for item in error.errors():
        key = _format_location(item["loc"])
        kind: str = item["type"]
        if kind == "extra_forbidden":
            line = f"{source}: unknown key '{key}'"
        elif kind == "missing":
            line = f"{source}: missing key '{key}'"
        else:
            message = _one_line(item["msg"].removeprefix("Value error, "), 200)
            line = f"{source}: key '{key}': {message} (got {_one_line(repr(item.get('input')))})"
        if line not in lines:
            lines.append(line)
    return "; ".join(lines)


class _ConfigLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` (no Python objects) that also refuses a key given twice in a mapping,
    which YAML would otherwise resolve silently to the last value."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
            line = key_node.start_mark.line + 1
            if isinstance(key, (str, int, float, bool)) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key '{key}' is given twice (lines {seen[key]} and {line})",
                    key_node.start_mark,
                )
            seen.setdefault(key, line)
        return super().construct_mapping(node, deep=deep)


def _yaml_problem(error: yaml.YAMLError) -> str:
    """One line for a YAML error: where it is and what is wrong (an unsafe tag said so)."""
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or _one_line(str(error), 200) or "syntax error"
    if "could not determine a constructor for the tag" in problem:
        tag = problem.split("for the tag", 1)[1].strip(" '").replace("tag:yaml.org,2002:", "!!")
        problem = f"the tag {tag} is refused: config YAML is loaded safely (no Python objects)"
    elif getattr(error, "context", None):
        problem = f"{error.context}: {problem}"  # type: ignore[attr-defined]
    problem = _one_line(problem, 200)
    if mark is None:
        return problem
    return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"


def parse_override(text: str) -> tuple[list[str], Any]:
    """Parse one ``dotted.key=value`` override; the value is read as YAML.

    Examples
    --------
    >>> parse_override("segment.max_unit_chars=800")
    (['segment', 'max_unit_chars'], 800)
    """
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"override '{text}': expected key.path=value")
    try:
        value = yaml.load(raw, Loader=_ConfigLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise ConfigError(f"override '{text}': value is not valid YAML ({_yaml_problem(exc)})") from None
    return key.strip().split("."), value


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Return a copy of ``data`` with each ``dotted.key=value`` override set in it."""
    result = _deep_copy(data)
    for text in overrides:
        path, value = parse_override(text)
        node = result
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"override '{text}': '{part}' is not a section")
            node = child
        node[path[-1]] = value
    return result


def _deep_copy(data: dict[str, Any]) -> dict[str, Any]:
    return {k: _deep_copy(v) if isinstance(v, dict) else v for k, v in data.items()}


def config_from_dict(data: dict[str, Any], source: str = "<dict>") -> Config:
    """Validate a mapping into a ``Config``; errors name the key and ``source``.

    Examples
    --------
    >>> config_from_dict({"name": "trial", "segment": {"max_unit_chars": 800}}).segment.max_unit_chars
    800
    """
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_validation_error(exc, source)) from None


def load_config(path: str | Path, overrides: list[str] | None = None) -> Config:
    """Load and validate a YAML config file, applying ``key.path=value`` overrides.

    YAML is read with a ``yaml.SafeLoader`` (no Python objects are ever constructed: a
    ``!!python/...`` tag is refused) that also refuses a key given twice.

    Examples
    --------
    >>> cfg = load_config("configs/default.yaml", ["name=trial"])  # doctest: +SKIP
    >>> cfg.name  # doctest: +SKIP
    'trial'
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found")
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    try:
        data = yaml.load(text, Loader=_ConfigLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({_yaml_problem(exc)})") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings, got {type(data).__name__}")
    data = apply_overrides(data, overrides or [])
    source = f"{path} (with --set {', '.join(overrides)})" if overrides else str(path)
    config = config_from_dict(data, source=source)
    for name in config.clean.boilerplate_files:  # read by every run, so checked here, early
        if not Path(name).is_file():
            raise ConfigError(f"{source}: key 'clean.boilerplate_files': file not found: {name}")
    return config

