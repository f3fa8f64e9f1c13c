"""Ingestion: read a corpus from disk into decoded ``SourceText`` records.

In: a ``CorpusConfig`` naming a folder of ``.txt`` files or one ``.csv``/``.jsonl`` table with
one text per row. Out: an ``IngestResult`` holding one ``SourceText`` per usable entry (the
decoded text, its encoding, metadata, the sha256 of the raw bytes, any repair) and one
``SkippedSource``, with the reason, per entry that could not be used. A corpus that cannot be
used at all raises ``CorpusError``. Bytes are decoded by :mod:`policytopics.decoding`; the
method is described in ``docs/methods.md``, section 1.1.

Examples
--------
>>> from policytopics.config import CorpusConfig
>>> result = read_corpus(CorpusConfig(path="seeds"))  # doctest: +SKIP
>>> [(t.source, t.encoding) for t in result.texts][:1]  # doctest: +SKIP
[('000_c653e3a235d9673d.txt', 'utf-8')]
"""

from __future__ import annotations

import csv
import datetime
import errno
import io
import json
import os
import stat
import unicodedata
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from policytopics.config import CorpusConfig
from policytopics.decoding import (
    MAX_REPLACED_SHARE,
    DecodeError,
    binary_kind,
    canonical_encoding,
    decode_bytes,
    decode_bytes_repairing,
    normalise_newlines,
)
from policytopics.errors import PolicytopicsError
from policytopics.provenance import sha256_bytes
from policytopics.records import IngestResult, SkippedSource, SourceText

__all__ = [
    "CorpusError",
    "DecodeError",
    "MAX_REPLACED_SHARE",
    "Manifest",
    "ManifestEntry",
    "binary_kind",
    "decode_bytes",
    "decode_bytes_repairing",
    "load_manifest",
    "read_corpus",
]

Progress = Callable[[int, int, str], None]

#: Encoding name reported for the rows of a CSV/JSONL table (see ``SourceText.encoding``).
TABLE_ENCODING = "table"

_TABLE_SUFFIXES = (".csv", ".jsonl")


class CorpusError(PolicytopicsError):
    """A corpus that cannot be read at all; the one-line message names the path."""


# --------------------------------------------------------------------------------------
# Manifest
# --------------------------------------------------------------------------------------


def _metadata_value(value: Any) -> Any:
    """Turn one YAML scalar into the string that travels as metadata."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return value
    raise ValueError(f"expected a single value (text, number, date), got {type(value).__name__}")


MetadataValue = Annotated[str, BeforeValidator(_metadata_value)]


class ManifestEntry(BaseModel):
    """One file's entry in a corpus manifest."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = ""
    source: str = ""
    metadata: dict[str, MetadataValue] = Field(default_factory=dict)


class Manifest(BaseModel):
    """A corpus manifest: what the corpus is, where it comes from, and per-file entries."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = ""
    source: str = ""
    files: dict[str, ManifestEntry] = Field(default_factory=dict)


def _format_location(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        elif str(part).isidentifier():
            parts.append(f".{part}" if parts else str(part))
        else:
            parts.append(f"[{str(part)!r}]")
    return "".join(parts) or "(top level)"


def _yaml_problem(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error).split("\n")[0] or "syntax error"
    if mark is None:
        return problem
    return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"


def load_manifest(path: str | Path) -> Manifest:
    """Load and validate a corpus manifest (``corpus.yaml``; format in the Notes).

    Parameters
    ----------
    path : str or Path
        The manifest YAML file.

    Returns
    -------
    Manifest
        The validated manifest; metadata values are strings. An empty file is an empty
        manifest.

    Raises
    ------
    CorpusError
        If the file cannot be read, is not YAML, or does not follow the format; the
        message names the file and the offending key.

    Notes
    -----
    A YAML mapping (read with ``yaml.safe_load``), every key optional, no other keys allowed::

        description: What the corpus is.
        source: Where it comes from and how it was obtained.
        files:
          000_c653e3a235d9673d.txt:        # path relative to the corpus folder, with "/"
            description: What this file is.
            source: Where this file comes from.
            metadata:                      # merged into SourceText.metadata
              genre: 年终工作会议讲话
              published: "2023-04-18"

    Metadata values must be single values (text, numbers, booleans, dates) and become strings
    (``true``/``false`` for booleans, ISO dates, ``""`` for null). ``read_corpus`` also
    rejects an entry naming a file that is not a ``.txt`` file of the corpus; files without
    an entry are fine.

    Examples
    --------
    >>> manifest = load_manifest("seeds/corpus.yaml")  # doctest: +SKIP
    >>> manifest.files["004_22f2e348fe793403.txt"].metadata["published"]  # doctest: +SKIP
    '2023-04-22'
    """
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_bytes().decode("utf-8"))
    except OSError as exc:
        raise CorpusError(f"{path}: cannot read manifest ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        reason = f"{exc.reason} at byte {exc.start}"
        raise CorpusError(f"{path}: manifest is not UTF-8 ({reason})") from None
    except yaml.YAMLError as exc:
        raise CorpusError(f"{path}: manifest is not valid YAML ({_yaml_problem(exc)})") from None
    if data is None:
        return Manifest()
    if not isinstance(data, dict):
        raise CorpusError(
            f"{path}: expected a mapping with description, source and files, "
            f"got {type(data).__name__}"
        )
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        problems = []
        for item in exc.errors():
            key = _format_location(item["loc"])
            if item["type"] == "extra_forbidden":
                problems.append(f"unknown key {key}")
            else:
                message = item["msg"].removeprefix("Value error, ")
                given = repr(item.get("input"))
                given = given if len(given) <= 60 else given[:57] + "..."
                problems.append(f"key {key}: {message} (got {given})")
        raise CorpusError(f"{path}: invalid manifest: " + "; ".join(problems)) from None


def _manifest_metadata(
    manifest_path: Path, manifest: Manifest, corpus_files: set[str], all_files: set[str]
) -> dict[str, dict[str, str]]:
    """Map each corpus file to its manifest metadata, checking every entry names one."""
    metadata: dict[str, dict[str, str]] = {}
    for key, entry in manifest.files.items():
        name = unicodedata.normalize("NFC", key)
        posix = PurePosixPath(name)
        if "\\" in name or posix.is_absolute() or ".." in posix.parts:
            raise CorpusError(
                f"{manifest_path}: key files[{key!r}]: expected a path relative to the "
                "corpus folder with '/' separators"
            )
        name = posix.as_posix()
        if name not in corpus_files:
            why = (
                "is not a .txt corpus file (hidden, or another kind of file)"
                if name in all_files
                else "names a file that does not exist in the corpus folder"
            )
            raise CorpusError(f"{manifest_path}: key files[{key!r}] {why}")
        metadata[name] = dict(entry.metadata)
    return metadata


# --------------------------------------------------------------------------------------
# Folders of .txt files
# --------------------------------------------------------------------------------------


def _relative(root: str, path: str) -> str:
    return unicodedata.normalize("NFC", Path(os.path.relpath(path, root)).as_posix())


def _has_surrogates(text: str) -> bool:
    return any(0xD800 <= ord(char) <= 0xDFFF for char in text)


def _scan_folder(root: str) -> tuple[list[tuple[str, str]], list[SkippedSource], set[str]]:
    """Find the corpus files of a folder.

    Returns the (relative path, full path) of every non-hidden ``.txt`` file, the
    entries skipped while walking (unreadable folders, folder symlinks), and the relative
    paths of every file seen (for checking the manifest).
    """
    found: list[tuple[str, str]] = []
    skipped: list[SkippedSource] = []
    seen: set[str] = set()

    def on_error(error: OSError) -> None:
        failed = error.filename if isinstance(error.filename, str) else root
        if os.path.abspath(failed) == os.path.abspath(root):
            raise CorpusError(f"{root}: cannot read corpus folder ({error.strerror})")
        reason = f"folder unreadable ({error.strerror})"
        skipped.append(SkippedSource(_relative(root, failed) + "/", reason))

    for dirpath, dirnames, filenames in os.walk(root, onerror=on_error, followlinks=False):
        kept = []
        for name in dirnames:
            full = os.path.join(dirpath, name)
            seen.add(_relative(root, full))
            if name.startswith("."):
                continue
            if os.path.islink(full):
                reason = "symbolic link to a folder; not followed (so links cannot loop)"
                skipped.append(SkippedSource(_relative(root, full) + "/", reason))
                continue
            kept.append(name)
        dirnames[:] = kept
        for name in filenames:
            full = os.path.join(dirpath, name)
            relative = _relative(root, full)
            seen.add(relative)
            if name.startswith(".") or not name.lower().endswith(".txt"):
                continue
            found.append((relative, full))
    found.sort(key=lambda item: item[0])
    return found, skipped, seen


def _read_bytes(path: str) -> bytes | str:
    """The bytes of a file, or the reason they cannot be read."""
    try:
        info = os.stat(path)  # follows symbolic links
    except FileNotFoundError:
        if os.path.islink(path):
            return f"broken symbolic link (target {os.readlink(path)!r} does not exist)"
        return "file disappeared while reading the corpus"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symbolic link loop (the link resolves to itself)"
        return f"unreadable ({exc.strerror})"
    if not stat.S_ISREG(info.st_mode):
        return "not a regular file"
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except PermissionError:
        return "unreadable (permission denied)"
    except OSError as exc:
        return f"unreadable ({exc.strerror})"


def _read_text_file(path: str, encodings: list[str]) -> tuple[str, str, str, str, int] | str:
    """Decode one corpus file: (text, encoding, sha256, repair, bytes replaced), or the reason
    it is skipped."""
    data = _read_bytes(path)
    if isinstance(data, str):
        return data
    if not data:
        return "empty file (0 bytes)"
    kind = binary_kind(data)
    if kind is not None:
        return f"binary file, not text: {kind} ({len(data)} bytes)"
    try:
        text, encoding, repair, replaced = decode_bytes_repairing(data, encodings)
    except DecodeError as exc:
        return str(exc)
    if not text.strip():
        return f"no text: only whitespace ({len(data)} bytes, {encoding})"
    return text, encoding, sha256_bytes(data), repair, replaced


def _read_folder(root: str, config: CorpusConfig, progress: Progress | None) -> IngestResult:
    found, skipped, seen = _scan_folder(root)
    if not found:
        raise CorpusError(f"{root}: no .txt files in the corpus folder (hidden ones are ignored)")

    metadata: dict[str, dict[str, str]] = {}
    if config.manifest:
        manifest_path = Path(root) / config.manifest
        if manifest_path.is_file():
            manifest = load_manifest(manifest_path)
            metadata = _manifest_metadata(
                manifest_path, manifest, {relative for relative, _ in found}, seen
            )

    texts: list[SourceText] = []
    for done, (relative, full) in enumerate(found, start=1):
        if _has_surrogates(relative):
            shown = relative.encode("utf-8", "backslashreplace").decode("ascii", "replace")
            skipped.append(SkippedSource(shown, "file name is not valid UTF-8"))
        else:
            outcome = _read_text_file(full, config.encodings)
            if isinstance(outcome, str):
                skipped.append(SkippedSource(relative, outcome))
            else:
                text, encoding, digest, repair, replaced = outcome
                texts.append(SourceText(
                    relative, text, encoding, dict(metadata.get(relative, {})), digest, repair, replaced
                ))
        if progress is not None:
            progress(done, len(found), relative)
    _require_some_texts(texts, skipped, f"{root}: all {len(found)} .txt files were skipped")
    return IngestResult(texts=texts, skipped=skipped)


# --------------------------------------------------------------------------------------
# CSV / JSONL tables
# --------------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    """A table value as metadata/text: strings as they are, JSON values as JSON, null as ""."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _csv_records(text: str, path: str) -> tuple[list[str], list[dict[str, str] | str], dict[int, str]]:
    """Columns and rows of a CSV text; a row is a mapping, or the reason it is unusable.

    The third value notes, by 0-based row index, the rows that had fewer cells than the
    header: their missing trailing cells are read as empty, and the repair is reported.
    """
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None:
            raise CorpusError(f"{path}: empty CSV file (no header row)")
        duplicated = sorted({name for name in header if header.count(name) > 1})
        if duplicated:
            raise CorpusError(f"{path}: duplicate CSV column(s) {', '.join(duplicated)}")
        rows: list[dict[str, str] | str] = []
        short: dict[int, str] = {}
        for cells in reader:
            if not cells:
                continue  # a blank line
            if len(cells) > len(header):
                rows.append(f"{len(cells)} cells but the header has {len(header)} columns")
                continue
            if len(cells) < len(header):
                missing = ", ".join(header[len(cells):])
                short[len(rows)] = (
                    f"the row has {len(cells)} of the header's {len(header)} cells (line "
                    f"{reader.line_num}); the missing cells ({missing}) were read as empty"
                )
                cells = cells + [""] * (len(header) - len(cells))
            rows.append(dict(zip(header, cells, strict=True)))
    except csv.Error as exc:
        raise CorpusError(f"{path}: not valid CSV (line {reader.line_num}: {exc})") from None
    return header, rows, short


def _jsonl_records(text: str) -> tuple[list[str], list[dict[str, str] | str]]:
    """Columns (keys in order of first appearance) and rows of a JSONL text."""
    columns: dict[str, None] = {}
    rows: list[dict[str, str] | str] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            rows.append(f"line {number} is not valid JSON ({exc.msg})")
            continue
        if not isinstance(record, dict):
            rows.append(f"line {number} is not a JSON object")
            continue
        columns.update(dict.fromkeys(record))
        rows.append({key: _cell(value) for key, value in record.items()})
    return list(columns), rows


def _read_table(path: str, config: CorpusConfig, progress: Progress | None) -> IngestResult:
    data = _read_bytes(path)
    if isinstance(data, str):
        raise CorpusError(f"{path}: {data}")
    kind = binary_kind(data)
    if kind is not None:
        raise CorpusError(f"{path}: binary file, not a {path.rsplit('.', 1)[-1].upper()} table: {kind}")
    digest = sha256_bytes(data)
    try:
        text, _ = decode_bytes(data, config.encodings)
    except DecodeError as exc:
        raise CorpusError(f"{path}: {exc}") from None
    short: dict[int, str] = {}
    if path.lower().endswith(".csv"):
        columns, rows, short = _csv_records(text, path)
    else:
        columns, rows = _jsonl_records(text)

    if not rows:
        raise CorpusError(f"{path}: the table has no rows")
    if not columns:
        raise CorpusError(f"{path}: no valid rows (first: {rows[0]})")
    if config.text_column not in columns:
        raise CorpusError(
            f"{path}: no text column {config.text_column!r} (columns: {', '.join(columns)})"
        )
    if config.id_column is not None and config.id_column not in columns:
        raise CorpusError(
            f"{path}: no id column {config.id_column!r} (columns: {', '.join(columns)})"
        )
    if config.metadata_columns is None:
        metadata_columns = [name for name in columns if name != config.text_column]
    else:
        missing = [name for name in config.metadata_columns if name not in columns]
        if missing:
            raise CorpusError(
                f"{path}: no metadata column(s) {', '.join(missing)} "
                f"(columns: {', '.join(columns)})"
            )
        metadata_columns = list(config.metadata_columns)

    name = os.path.basename(path)
    texts: list[SourceText] = []
    skipped: list[SkippedSource] = []
    ids: dict[str, int] = {}
    for number, row in enumerate(rows, start=1):
        source = f"{name}#{number}"
        if isinstance(row, dict) and config.id_column is not None:
            row_id = row.get(config.id_column, "").strip()
            if not row_id:
                raise CorpusError(f"{path}: row {number} has an empty id ({config.id_column!r})")
            if row_id in ids:
                raise CorpusError(
                    f"{path}: id {row_id!r} ({config.id_column!r}) is used by rows "
                    f"{ids[row_id]} and {number}"
                )
            ids[row_id] = number
            source = f"{name}#{row_id}"
        note = short.get(number - 1, "")
        if isinstance(row, str):
            skipped.append(SkippedSource(source, row))
        elif config.text_column not in row:
            skipped.append(SkippedSource(source, f"no {config.text_column!r} field"))
        elif not row[config.text_column].strip():
            why = f"empty text in column {config.text_column!r}"
            skipped.append(SkippedSource(source, f"{why} ({note})" if note else why))
        else:
            metadata = {key: normalise_newlines(row.get(key, "")) for key in metadata_columns}
            body = normalise_newlines(row[config.text_column])
            texts.append(SourceText(source, body, TABLE_ENCODING, metadata, digest, note))
        if progress is not None:
            progress(number, len(rows), source)
    _require_some_texts(texts, skipped, f"{path}: all {len(rows)} rows were skipped")
    return IngestResult(texts=texts, skipped=skipped)


# --------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------


def _require_some_texts(texts: list[SourceText], skipped: list[SkippedSource], message: str) -> None:
    """Raise ``CorpusError(message + first skip reason)`` when nothing usable was found."""
    if not texts:
        first = skipped[0]
        raise CorpusError(f"{message} (first: {first.source}: {first.reason})")


def read_corpus(config: CorpusConfig, progress: Progress | None = None) -> IngestResult:
    """Read a corpus folder of ``.txt`` files, or a ``.csv``/``.jsonl`` table, into texts.

    Parameters
    ----------
    config : CorpusConfig
        Where the corpus is (``path``) and how to read it (``encodings``, ``manifest``,
        and for tables ``text_column``, ``id_column``, ``metadata_columns``).
    progress : callable, optional
        Called after each entry (file or table row) as ``progress(done, total, source)``.

    Returns
    -------
    IngestResult
        The usable texts in deterministic order (sorted relative paths, or row order), and
        the skipped entries with their reasons.

    Raises
    ------
    CorpusError
        If the corpus cannot be used at all: a missing path, a path that is neither a folder
        nor a .csv/.jsonl file, a table without the text column, a folder without .txt
        files, a malformed manifest, or a corpus whose every entry was skipped. The one-line
        message names the path.

    Notes
    -----
    A folder is searched recursively for ``.txt`` files; hidden files and folders are
    skipped, other files ignored, and symbolic links to folders are not followed (reported
    as skipped). Files are read in the order of their relative POSIX paths (NFC), and a file
    is skipped, with the reason, when it is binary, undecodable, empty or whitespace-only,
    unreadable, not a regular file, a broken symbolic link or a link loop. A table row is
    named ``<file name>#<id>`` by ``id_column``, else by its 1-based row number
    (``speeches.csv#3``); its ``metadata_columns`` (or every other column) travel with it as
    strings, a missing value becoming ``""``. Line ends become ``\\n``.

    Examples
    --------
    >>> from policytopics.config import CorpusConfig
    >>> result = read_corpus(CorpusConfig(path="seeds"))  # doctest: +SKIP
    >>> len(result.texts), result.texts[0].metadata["genre"]  # doctest: +SKIP
    (5, '年终工作会议讲话')
    """
    path = config.path
    if not config.encodings:
        raise CorpusError(f"{path}: corpus.encodings is empty; give at least one encoding")
    for name in config.encodings:
        try:
            canonical_encoding(name)
        except ValueError:
            raise CorpusError(f"{path}: corpus.encodings: unknown encoding {name!r}") from None
    if os.path.isdir(path):
        return _read_folder(path, config, progress)
    if not os.path.lexists(path):
        raise CorpusError(f"{path}: corpus not found (no such file or folder)")
    if not os.path.isfile(path):
        raise CorpusError(f"{path}: corpus is not a folder or a regular file")
    if not path.lower().endswith(_TABLE_SUFFIXES):
        raise CorpusError(f"{path}: corpus must be a folder of .txt files or a .csv/.jsonl file")
    return _read_table(path, config, progress)
