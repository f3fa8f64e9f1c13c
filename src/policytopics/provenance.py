"""Provenance: SHA-256 digests and the versions of installed packages.

The run folder's manifest (:mod:`policytopics.artifacts`) records both, and cache keys
(:mod:`policytopics.cache`) include them, so a changed input, package or algorithm is seen.
"""

from __future__ import annotations

import functools
import hashlib
import platform
from collections.abc import Iterable
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

__all__ = [
    "RECORDED_PACKAGES", "array_digest", "environment_versions", "package_versions", "sha256_bytes", "sha256_file",
    "source_hash",
]

#: Packages whose versions are recorded in every manifest.
RECORDED_PACKAGES = (
    "policytopics",
    "gensim",
    "jieba",
    "scikit-learn",
    "numpy",
    "scipy",
    "pandas",
    "pyLDAvis",
    "opencc",
    "pydantic",
    "PyYAML",
    "matplotlib",
    "mplfonts",
    "Jinja2",
)

def array_digest(array: Any) -> list[Any]:
    """``[dtype, shape, SHA-256 of the values]`` of a numpy array: a JSON-able part of a cache key.

    Examples
    --------
    >>> import numpy as np
    >>> array_digest(np.zeros(2))[:2], array_digest(np.zeros(2)) == array_digest(np.ones(2))
    (['float64', [2]], False)
    """
    import numpy as np

    values = np.ascontiguousarray(array)
    return [str(values.dtype), list(values.shape), sha256_bytes(values.tobytes())]


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of ``data``.

    Parameters
    ----------
    data : bytes
        The bytes to hash.

    Returns
    -------
    str
        The 64-character lower-case hex digest.

    Examples
    --------
    >>> sha256_bytes(b"")[:12]
    'e3b0c44298fc'
    """
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes, read in chunks.

    Parameters
    ----------
    path : str or Path
        The file to hash (read in 1 MiB chunks, so a large file is never all in memory).

    Returns
    -------
    str
        The 64-character lower-case hex digest, as :func:`sha256_bytes` of its bytes.

    Raises
    ------
    OSError
        If the file cannot be read.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "empty.txt"
    >>> _ = path.write_bytes(b"")
    >>> sha256_file(path) == sha256_bytes(b"")
    True
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def package_versions(names: Iterable[str] = RECORDED_PACKAGES) -> dict[str, str]:
    """Installed versions of ``names`` plus the Python version ("not installed" if absent).

    Parameters
    ----------
    names : iterable of str
        Distribution names; by default :data:`RECORDED_PACKAGES`, the packages every
        manifest records.

    Returns
    -------
    dict of str to str
        ``python`` first, then each name in the order given, to its version string.

    Examples
    --------
    >>> versions = package_versions(["numpy", "no-such-package"])
    >>> list(versions), versions["no-such-package"]
    (['python', 'numpy', 'no-such-package'], 'not installed')
    """
    versions = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


@functools.cache
def _versions(names: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    versions = {name: importlib_metadata.version(name) for name in names}
    versions["python"] = platform.python_version()
    versions["machine"] = platform.machine()
    return tuple(versions.items())


def environment_versions(*names: str) -> dict[str, str]:
    """Installed versions of ``names`` plus the Python version and machine (for cache keys).

    Examples
    --------
    >>> sorted(environment_versions("numpy"))
    ['machine', 'numpy', 'python']
    """
    return dict(_versions(tuple(names)))


@functools.cache
def source_hash(path: str | Path) -> str:
    """SHA-256 of a source file: cache keys include the code that computed an entry, so a
    changed algorithm never reads an old result.

    Examples
    --------
    >>> len(source_hash(__file__))
    64
    """
    return sha256_file(path)
