"""SHA-256 listings of a folder's files: making one, and checking the files against one.

A run's ``manifest.json`` holds such a listing under ``artifacts``; :func:`verify_artifacts`
checks a run folder (or its ``model/``) against it before anything saved there is used.
Nothing here writes files or knows the rest of the run folder's machinery.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from policytopics.errors import ArtifactMismatchError
from policytopics.provenance import sha256_file

__all__ = ["UNHASHED_FILES", "hash_tree", "verify_artifacts", "verify_checksums"]

#: Files that change from run to run by nature and are therefore not hashed.
UNHASHED_FILES = frozenset({"manifest.json", "timings.json"})


def hash_tree(folder: str | Path, exclude: frozenset[str] = UNHASHED_FILES) -> dict[str, str]:
    """SHA-256 of every file under ``folder``, keyed by POSIX relative path, sorted.

    Files named in ``exclude`` (at the top level) are left out.

    Parameters
    ----------
    folder : str or Path
        The folder to hash, e.g. a run folder.
    exclude : frozenset of str
        Relative paths to leave out; by default :data:`UNHASHED_FILES` (``manifest.json``
        and ``timings.json``).

    Returns
    -------
    dict of str to str
        Relative path (``/`` separators) to the hex SHA-256 of the file, in sorted path
        order. Folders themselves are not listed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> (folder / "tables").mkdir()
    >>> _ = (folder / "tables" / "a.txt").write_bytes("开发区\\n".encode("utf-8"))
    >>> _ = (folder / "timings.json").write_text("{}")
    >>> {path: digest[:12] for path, digest in hash_tree(folder).items()}
    {'tables/a.txt': '2918559b024d'}
    """
    folder = Path(folder)
    hashes = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        if path.is_file() and relative not in exclude:
            hashes[relative] = sha256_file(path)
    return hashes


def verify_checksums(
    root: str | Path,
    digests: Mapping[str, str],
    under: str = "",
    *,
    exclude: frozenset[str] = UNHASHED_FILES,
    listing: str = "manifest.json",
) -> dict[str, str]:
    """Check the files under ``root/under`` against a listing of SHA-256 digests.

    Every file under ``root/under`` (except those named in ``exclude``) must be listed in
    ``digests`` with its SHA-256, and every file ``digests`` lists under ``under`` must exist.

    Parameters
    ----------
    root : str or Path
        The folder the listed paths are relative to.
    digests : mapping of str to str
        POSIX path relative to ``root`` to the hex SHA-256 of the file (:func:`hash_tree`).
    under : str
        A sub-folder to check (e.g. ``"model"``); empty checks every file under ``root``.
    exclude : frozenset of str
        Paths relative to ``root`` that are never checked (not hashed by nature).
    listing : str
        What ``digests`` came from, as named in error messages.

    Returns
    -------
    dict of str to str
        The checked files (POSIX paths relative to ``root``) and their digests, sorted.

    Raises
    ------
    ArtifactMismatchError
        Naming ``root`` and every file that is unlisted, missing or differs, or that the
        listing holds no file under ``under``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "a.txt").write_text("x")
    >>> list(verify_checksums(folder, hash_tree(folder)))
    ['a.txt']
    """
    root = Path(root)
    prefix = under.strip("/") + "/" if under.strip("/") else ""
    folder = root / prefix if prefix else root
    present = {
        name: path
        for path in sorted(folder.rglob("*"))
        if path.is_file() and (name := path.relative_to(root).as_posix()) not in exclude
    }
    listed = {name: checksum for name, checksum in digests.items() if name.startswith(prefix)}
    problems = [f"{name} has no entry in {listing}" for name in sorted(set(present) - set(listed))]
    problems += [f"{name} is listed in {listing} but missing" for name in sorted(set(listed) - set(present))]
    problems += [
        f"{name} differs from the hash {listing} records (changed, or replaced by a file of another run)"
        for name in sorted(set(present) & set(listed))
        if sha256_file(present[name]) != listed[name]
    ]
    if not listed and not problems:
        problems.append(f"{listing} lists no file under {prefix or './'}")
    if problems:
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise ArtifactMismatchError(f"{root}: files do not belong to the run its {listing} describes: {shown}")
    return dict(sorted(listed.items()))


def verify_artifacts(run_dir: str | Path, under: str = "") -> dict[str, str]:
    """Check the files of a run folder against the artefact hashes of its ``manifest.json``.

    Every file under ``run_dir/under`` must be listed in the manifest and have the SHA-256
    recorded there, and every file the manifest lists under ``under`` must exist: then the
    files were written together, by the run the manifest describes (:func:`verify_checksums`
    with the manifest's ``artifacts``).

    Parameters
    ----------
    run_dir : str or Path
        The run folder (holding ``manifest.json``).
    under : str
        A sub-folder to check (e.g. ``"model"``); empty checks every hashed file.

    Returns
    -------
    dict of str to str
        The checked files (POSIX paths relative to ``run_dir``) and their hashes.

    Raises
    ------
    ArtifactMismatchError
        Naming the run folder and every file that is unlisted, missing or differs (a file
        replaced by one from another run, for instance), or a missing manifest.

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "a.txt").write_text("x")
    >>> _ = (folder / "manifest.json").write_text(json.dumps({"artifacts": hash_tree(folder)}))
    >>> list(verify_artifacts(folder))
    ['a.txt']
    """
    run_dir = Path(run_dir)
    manifest_path = run_dir / "manifest.json"
    try:
        recorded = json.loads(manifest_path.read_text(encoding="utf-8"))["artifacts"]
        if not isinstance(recorded, dict):
            raise TypeError("artifacts is not a mapping")
    except FileNotFoundError:
        raise ArtifactMismatchError(
            f"{run_dir}: no manifest.json, so its files cannot be checked to belong to one run") from None
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ArtifactMismatchError(f"{manifest_path}: unreadable artefact hashes ({error})") from None
    return verify_checksums(run_dir, recorded, under)
