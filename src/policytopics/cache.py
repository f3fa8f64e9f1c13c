"""The on-disk cache: checksummed entries under ``cache.dir``, keyed by fingerprints.

Features, fitted models and their scores are stored here so that a rerun reads what it
computed before. A key is the :func:`fingerprint` of everything an entry depends on (its
inputs, settings, the versions of the packages that computed it and the source of the code,
:func:`policytopics.provenance.source_hash`). :class:`CacheStore` keeps each entry as a folder
of files listed with their SHA-256 in ``CHECKSUMS.json``; an entry that fails the check is
deleted, reported and rebuilt, never used. ``joblib.Memory`` was considered: it keys on the
arguments of one function call and stores one pickle without checksums, while these entries
are folders in the models' own formats (gensim's and numpy's, readable without this package)
whose keys combine several stages' fingerprints and must survive a killed run.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from policytopics.provenance import sha256_file

__all__ = ["CacheStore", "fingerprint"]

logger = logging.getLogger("policytopics")


def fingerprint(*parts: Any) -> str:
    """SHA-256 of JSON-able ``parts`` (lists, dicts with string keys, str, int, float, None).

    Dict keys are sorted, so pass ordered data (e.g. theme keywords, whose order is the topic
    order) as lists of pairs.

    Parameters
    ----------
    *parts : JSON-able
        The values to hash, in order. NaN and infinities are allowed.

    Returns
    -------
    str
        The 64-character hex SHA-256 of the compact JSON text of ``parts``.

    Raises
    ------
    TypeError
        If a part is not JSON-able (e.g. a set or a numpy array).

    Examples
    --------
    >>> fingerprint({"a": 1, "b": [1, 2]}) == fingerprint({"b": [1, 2], "a": 1})
    True
    >>> fingerprint([1, 2]) == fingerprint([2, 1])
    False
    """
    text = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class CacheStore:
    """Checksummed cache entries: ``<root>/<kind>/<key>/`` folders of files.

    Every entry lists its files with their SHA-256 in ``CHECKSUMS.json`` (written last). An
    entry whose listing is missing or unreadable, or one of whose files is missing or differs
    from its checksum, is reported, deleted and treated as absent: it is rebuilt, never used.
    Entries are written into a temporary folder beside them and renamed into place, so a
    reader (another process included) never sees a half-written entry.

    Parameters
    ----------
    root : str or Path
        The cache folder (``cache.dir``).
    kind : str
        The sub-folder of this kind of entry (``features``, ``lda``, ...).

    Examples
    --------
    >>> store = CacheStore(tmp_path, "demo")  # doctest: +SKIP
    >>> store.put_json("k1", {"value": 1.5})  # doctest: +SKIP
    >>> store.get_json("k1")  # doctest: +SKIP
    {'value': 1.5}
    """

    CHECKSUMS = "CHECKSUMS.json"

    def __init__(self, root: str | Path, kind: str) -> None:
        self.root = Path(root)
        self.kind = kind
        self.folder = self.root / kind

    def path(self, key: str) -> Path:
        """Where the entry ``key`` lives (whether or not it exists)."""
        return self.folder / key

    def _valid(self, entry: Path) -> bool:
        try:
            listing = json.loads((entry / self.CHECKSUMS).read_text(encoding="utf-8"))
            if not isinstance(listing, dict) or not listing:
                return False
            return all(
                (entry / name).is_file() and sha256_file(entry / name) == checksum
                for name, checksum in listing.items()
            )
        except (OSError, ValueError):
            return False

    def get(self, key: str) -> Path | None:
        """The folder of entry ``key`` if it exists and passes its checksums, else ``None``."""
        entry = self.path(key)
        if not entry.is_dir():
            return None
        if self._valid(entry):
            return entry
        logger.warning("cache: %s entry %s is incomplete or corrupt; it will be rebuilt", self.kind, key[:12])
        shutil.rmtree(entry, ignore_errors=True)
        return None

    def put(self, key: str, write: Callable[[Path], None]) -> Path:
        """Create entry ``key``: ``write(folder)`` fills a fresh folder, which is then checksummed
        and renamed into place (replacing a previous entry of that key). Returns the entry."""
        self.folder.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".tmp-{key[:16]}-", dir=self.folder))
        try:
            write(staging)
            listing = {
                path.relative_to(staging).as_posix(): sha256_file(path)
                for path in sorted(staging.rglob("*"))
                if path.is_file()
            }
            (staging / self.CHECKSUMS).write_text(json.dumps(listing, indent=1, sort_keys=True) + "\n", encoding="utf-8")
            entry = self.path(key)
            if entry.exists():
                shutil.rmtree(entry, ignore_errors=True)
            try:
                os.rename(staging, entry)
            except OSError:  # another process put the same entry meanwhile
                if self.get(key) is None:
                    raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return entry

    def get_bytes(self, key: str, name: str) -> bytes | None:
        """The file ``name`` of entry ``key`` (stored by :meth:`put_bytes`), or ``None``."""
        entry = self.get(key)
        return None if entry is None else (entry / name).read_bytes()

    def put_bytes(self, key: str, name: str, data: bytes) -> None:
        """Store ``data`` as the file ``name`` of entry ``key``."""
        self.put(key, lambda folder: (folder / name).write_bytes(data))

    def get_json(self, key: str) -> Any:
        """The JSON value stored by :meth:`put_json` under ``key``, or ``None``."""
        entry = self.get(key)
        if entry is None:
            return None
        return json.loads((entry / "value.json").read_text(encoding="utf-8"))

    def put_json(self, key: str, value: Any) -> None:
        """Store a JSON-able value (floats round-trip exactly) under ``key``."""
        text = json.dumps(value, ensure_ascii=False, sort_keys=True, allow_nan=True)
        self.put(key, lambda folder: (folder / "value.json").write_text(text, encoding="utf-8"))
