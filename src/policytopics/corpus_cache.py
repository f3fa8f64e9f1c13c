"""The corpus cache: a corpus's cleaned texts, documents and units, reused by a rerun.

Cleaning and segmenting take seconds on every run (about 4 s on the 143 city reports), yet a
rerun that changes only a model, theme or output setting gets the very same records. They are
kept in the on-disk cache (:class:`policytopics.cache.CacheStore`, kind ``corpus``) under
:func:`corpus_key`, the :func:`policytopics.cache.fingerprint` of everything they depend on:

* the ingested texts: each entry's name, the SHA-256 of its decoded text, its encoding,
  metadata (in order), file hash and repair note;
* the ``clean`` and ``segment`` settings (``clean.workers`` aside: each text is cleaned on its
  own, so the process count does not change the result), and the SHA-256 of the files they
  name (extra boilerplate files, an OpenCC profile given as a file);
* the package's resource files (boilerplate and segmentation patterns, ...);
* the versions of the packages that clean (OpenCC, numpy, PyYAML) and of Python;
* the source of every module that cleans or segments: :func:`corpus_sources` follows the
  imports of :mod:`policytopics.clean` and :mod:`policytopics.segment` through the package,
  so a changed algorithm is never served an old result.

Ingestion still runs on every run (it is what tells whether the corpus changed, and it costs
little). A records read from the cache equal those computed afresh, so every output is
byte-identical with or without the cache (``tests/test_pipeline.py`` checks it).
"""

from __future__ import annotations

import ast
import functools
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from policytopics.cache import CacheStore, fingerprint
from policytopics.provenance import environment_versions, sha256_bytes, sha256_file, source_hash
from policytopics.records import CleanedText, Document, SourceText, Unit

if TYPE_CHECKING:
    from policytopics.config import Config

__all__ = ["CORPUS_FILE", "corpus_key", "corpus_sources", "corpus_store", "load_corpus", "store_corpus"]

#: Bumped when the stored layout changes.
_FORMAT = 1
#: The file of a cache entry.
CORPUS_FILE = "corpus.json"
_PACKAGE = Path(__file__).resolve().parent
#: The modules whose imports (followed through the package) clean and segment a corpus;
#: ``pipeline`` is hashed too (its ``prepare_corpus`` drives them) but its imports are not followed.
_ROOTS = ("clean", "segment", "records", "corpus_cache")
_LEAVES = ("pipeline",)


def _module_file(name: str) -> Path | None:
    """The source file of ``policytopics.<name>`` (``a.b`` for a sub-module), if there is one."""
    parts = name.split(".")
    for candidate in (_PACKAGE.joinpath(*parts).with_suffix(".py"), _PACKAGE.joinpath(*parts, "__init__.py")):
        if candidate.is_file():
            return candidate
    return None


def _imported_modules(path: Path) -> set[str]:
    """The ``policytopics`` modules a source file imports, anywhere in it (function bodies too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        else:
            continue
        for name in names:
            if name == "policytopics" or name.startswith("policytopics."):
                module = name.removeprefix("policytopics").lstrip(".") or "__init__"
                if _module_file(module) is not None:
                    found.add(module)
    return found


@functools.cache
def corpus_sources() -> tuple[Path, ...]:
    """The source files whose code shapes the cleaned corpus: the import closure of
    :data:`_ROOTS` within the package, plus :data:`_LEAVES`; sorted.

    Returns
    -------
    tuple of Path
        The files (found by parsing the sources: every ``policytopics`` import, at any depth
        of a module, is followed).

    Examples
    --------
    >>> names = [path.name for path in corpus_sources()]
    >>> {"clean.py", "segment.py", "boilerplate.py", "outline.py", "pipeline.py"} <= set(names)
    True
    >>> "fitting.py" in names
    False
    """
    seen: set[str] = set()
    todo = list(_ROOTS)
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        todo.extend(_imported_modules(_module_file(module)) - seen)
    files = {_module_file(module) for module in [*seen, *_LEAVES]}
    return tuple(sorted(path for path in files if path is not None))


def _file_hashes(config: Config) -> dict[str, str]:
    """SHA-256 of the package's resources and of the files the clean settings name."""
    hashes = {
        f"policytopics/resources/{path.name}": sha256_file(path)
        for path in sorted((_PACKAGE / "resources").iterdir())
        if path.is_file()
    }
    for name in config.clean.boilerplate_files:
        hashes[name] = sha256_file(name)
    if Path(config.clean.opencc_config).is_file():
        hashes[config.clean.opencc_config] = sha256_file(config.clean.opencc_config)
    return hashes


def corpus_key(config: Config, texts: Sequence[SourceText]) -> str:
    """The cache key of the records cleaning and segmenting ``texts`` under ``config`` give.

    Parameters
    ----------
    config : Config
        The run's config (``clean`` and ``segment`` are used).
    texts : sequence of SourceText
        The ingested texts, in corpus order.

    Returns
    -------
    str
        A 64-character hex SHA-256.

    Examples
    --------
    >>> from policytopics.config import Config
    >>> texts = [SourceText("a.txt", "開發區", "utf-8")]
    >>> corpus_key(Config(), texts) == corpus_key(Config(clean={"workers": 3}), texts)
    True
    >>> corpus_key(Config(), texts) == corpus_key(Config(segment={"min_unit_chars": 5}), texts)
    False
    """
    sources = [
        [text.source, sha256_bytes(text.text.encode("utf-8", "surrogatepass")), text.encoding,
         [[key, value] for key, value in text.metadata.items()], text.sha256, text.repair, text.bytes_replaced]
        for text in texts
    ]
    return fingerprint(
        "corpus", _FORMAT, sources,
        config.clean.model_dump(mode="json", exclude={"workers"}), config.segment.model_dump(mode="json"),
        _file_hashes(config),
        environment_versions("opencc", "numpy", "PyYAML"),
        [[path.name, source_hash(path)] for path in corpus_sources()],
    )


def corpus_store(config: Config) -> CacheStore | None:
    """The corpus cache of ``config`` (``None`` when ``cache.enabled`` is off).

    Parameters
    ----------
    config : Config
        The run's config (``cache.enabled`` and ``cache.dir`` are used).

    Returns
    -------
    CacheStore or None
        The entries of kind ``corpus`` under ``cache.dir``.

    Examples
    --------
    >>> from policytopics.config import Config
    >>> corpus_store(Config(cache={"enabled": False})) is None
    True
    """
    folder = config.cache.folder()
    return CacheStore(folder, "corpus") if folder is not None else None


def _pairs(mapping: dict[str, Any]) -> list[list[Any]]:
    return [[key, value] for key, value in mapping.items()]


def store_corpus(
    store: CacheStore, key: str, cleaned: Sequence[CleanedText], documents: Sequence[Document], units: Sequence[Unit]
) -> None:
    """Keep the records of one corpus under ``key`` (units must be spans of their documents' texts).

    Parameters
    ----------
    store : CacheStore
        The corpus cache (:func:`corpus_store`).
    key : str
        :func:`corpus_key` of the texts the records were made from.
    cleaned, documents, units : sequence
        The records of ``prepare_corpus``: one cleaned text per ingested text, in corpus order;
        every document; the units, each a span of its document's text. Records that do not
        fit that layout are not kept.

    Returns
    -------
    None

    Examples
    --------
    >>> store_corpus(store, key, corpus.cleaned, corpus.documents, corpus.units)  # doctest: +SKIP
    """
    index = {doc.doc_id: i for i, doc in enumerate(documents)}
    value = {
        "cleaned": [[item.text, _pairs(item.removed), item.chars_in] for item in cleaned],
        "documents": [
            [doc.doc_id, doc.source, doc.title, doc.text, _pairs(doc.metadata), doc.duplicate_of, doc.duplicate_reason]
            for doc in documents
        ],
        "units": [],
    }
    for unit in units:
        document = documents[index[unit.doc_id]]
        if unit.document_text is not document.text and unit.document_text != document.text:
            return  # not a span of its document's text: not kept (never the case for segment's units)
        value["units"].append([unit.unit_id, index[unit.doc_id], unit.position, unit.heading, unit.start, unit.end])
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    data = text.encode("utf-8", "surrogatepass")
    store.put(key, lambda folder: (folder / CORPUS_FILE).write_bytes(data))


def load_corpus(
    store: CacheStore, key: str, texts: Sequence[SourceText]
) -> tuple[list[CleanedText], list[Document], list[Unit]] | None:
    """The records stored under ``key`` for ``texts`` (the texts they were made from), or ``None``.

    Each cleaned text's ``source`` is the ingested one with its text emptied, as
    :func:`policytopics.clean.clean_source` leaves it.

    Parameters
    ----------
    store : CacheStore
        The corpus cache (:func:`corpus_store`).
    key : str
        :func:`corpus_key` of ``texts``.
    texts : sequence of SourceText
        The ingested texts, in corpus order.

    Returns
    -------
    tuple or None
        ``(cleaned, documents, units)`` equal to what cleaning and segmenting ``texts`` give,
        or ``None`` when the cache has no intact entry of ``key``.

    Examples
    --------
    >>> cleaned, documents, units = load_corpus(store, key, ingested.texts)  # doctest: +SKIP
    """
    from dataclasses import replace

    entry = store.get(key)
    if entry is None:
        return None
    value = json.loads((entry / CORPUS_FILE).read_bytes().decode("utf-8", "surrogatepass"))
    if len(value["cleaned"]) != len(texts):
        return None
    cleaned = [
        CleanedText(source=replace(source, text=""), text=text, removed=dict(removed), chars_in=chars_in)
        for source, (text, removed, chars_in) in zip(texts, value["cleaned"])
    ]
    documents = [
        Document(doc_id, source, title, text, dict(metadata), duplicate_of, reason)
        for doc_id, source, title, text, metadata, duplicate_of, reason in value["documents"]
    ]
    units = [
        Unit(unit_id, documents[doc].doc_id, position, heading, documents[doc].text, start, end)
        for unit_id, doc, position, heading, start, end in value["units"]
    ]
    return cleaned, documents, units
