"""The token cache: the (token, POS) pairs of each unit text, in one SQLite file on disk."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from policytopics.provenance import sha256_bytes

__all__ = ["TokenCache"]

logger = logging.getLogger("policytopics")


class TokenCache:
    """Tokens of unit texts on disk, keyed by (tokenizer fingerprint, text).

    One SQLite file (``<cache_dir>/tokens.sqlite``); each row carries a checksum of its
    payload, and a row whose payload does not match it (a truncated or corrupt entry) is
    treated as a miss and rewritten. Only the parent process reads and writes it.

    Parameters
    ----------
    cache_dir : str or Path
        The folder of ``tokens.sqlite`` (created if missing).

    Examples
    --------
    >>> import tempfile
    >>> cache = TokenCache(tempfile.mkdtemp())
    >>> key = TokenCache.key("fingerprint", "招商引资")
    >>> cache.put_many({key: [("招商引资", "n")]})
    >>> cache.get_many([key, TokenCache.key("fingerprint", "other")])[key]
    [('招商引资', 'n')]
    >>> cache.close()
    """

    def __init__(self, cache_dir: str | Path):
        self.path = Path(cache_dir) / "tokens.sqlite"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS tokens (key TEXT PRIMARY KEY, payload TEXT, checksum TEXT)"
        )

    @staticmethod
    def key(fingerprint: str, text: str) -> str:
        """The cache key of ``text`` under a tokenizer fingerprint."""
        return sha256_bytes(f"{fingerprint}\0{text}".encode())

    def get_many(self, keys: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
        """The cached (token, POS) pairs of every key found intact."""
        found: dict[str, list[tuple[str, str]]] = {}
        for start in range(0, len(keys), 500):
            chunk = list(keys[start:start + 500])
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT key, payload, checksum FROM tokens WHERE key IN ({marks})", chunk
            )
            for key, payload, checksum in rows:
                if sha256_bytes(payload.encode()) != checksum:
                    logger.warning("token cache: entry %s is corrupt; it will be rebuilt", key[:12])
                    continue
                found[key] = [tuple(pair) for pair in json.loads(payload)]
        return found

    def put_many(self, items: dict[str, list[tuple[str, str]]]) -> None:
        """Store (token, POS) pairs under their keys."""
        rows = []
        for key, pairs in items.items():
            payload = json.dumps(pairs, ensure_ascii=False)
            rows.append((key, payload, sha256_bytes(payload.encode())))
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO tokens VALUES (?, ?, ?)", rows)

    def close(self) -> None:
        """Close the database."""
        self._db.close()
