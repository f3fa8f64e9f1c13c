"""The run folder: atomic creation, deterministic writers, manifest, and comparing two runs.

Files go into a hidden sibling folder renamed into place only when the whole run has
succeeded (:func:`atomic_run_folder`); a folder made from another config is never replaced
unless forced (:func:`check_replaceable`). Writers give the same bytes for the same rows
(UTF-8, ``\\n`` line ends, fixed float precision, JSON with sorted keys). The SHA-256
listing of the manifest and its check are in :mod:`policytopics.checksums` (``hash_tree``
and ``verify_artifacts`` stay importable from here).

In: rows, JSON-able objects and texts from the stages. Out: files in a run folder, its
manifest, and the differences between two run folders.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import re
import shutil
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from policytopics.checksums import UNHASHED_FILES, hash_tree, verify_artifacts
from policytopics.errors import RunFolderConflictError
from policytopics.provenance import package_versions, sha256_bytes

__all__ = [
    "FLOAT_FORMAT",
    "LOCATION_SETTINGS",
    "UNHASHED_FILES",
    "atomic_run_folder",
    "build_manifest",
    "check_replaceable",
    "compare_run_folders",
    "hash_tree",
    "tidy_run_folder",
    "verify_artifacts",
    "write_csv",
    "write_json",
    "write_text",
]

logger = logging.getLogger("policytopics")

FLOAT_FORMAT = "{:.6f}"


def _format_cell(value: Any) -> str:
    kind = type(value)  # the common exact types first (a large table has millions of cells)
    if kind is str:
        return value
    if kind is float:
        return FLOAT_FORMAT.format(value)
    if kind is int:
        return str(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return FLOAT_FORMAT.format(value)
    return str(value)


def write_csv(path: str | Path, rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> None:
    """Write ``rows`` as a UTF-8 CSV with exactly ``columns``, in the order given.

    Fields with commas, quotes or line breaks are quoted (RFC 4180), so pandas reads the
    file back unchanged. Floats are written with 6 decimals, ``None`` as an empty field.

    Parameters
    ----------
    path : str or Path
        The CSV file to write (replaced if it exists; its folder must exist).
    rows : iterable of mapping
        One mapping per row; a column missing from a row is written empty, keys that are
        not in ``columns`` are left out. Booleans are written ``true``/``false``.
    columns : sequence of str
        The header, and the keys written from each row, in order.

    Returns
    -------
    None

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> write_csv(target, [{"id": "a", "share": 0.5}], ["id", "share"])
    >>> target.read_text()
    'id,share\\na,0.500000\\n'
    """
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_format_cell(row.get(column)) for column in columns])


def write_json(path: str | Path, data: Any) -> None:
    """Write ``data`` as indented UTF-8 JSON with sorted keys and a final newline.

    Parameters
    ----------
    path : str or Path
        The file to write (replaced if it exists; its folder must exist).
    data : JSON-able
        The value to write; non-ASCII text is written as is, not escaped.

    Returns
    -------
    None

    Raises
    ------
    TypeError
        If ``data`` holds a value that is not JSON-able.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "summary.json"
    >>> write_json(path, {"seed": 7, "name": "开发区"})
    >>> print(path.read_text(encoding="utf-8"))
    {
      "name": "开发区",
      "seed": 7
    }
    <BLANKLINE>
    """
    text = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True)
    Path(path).write_text(text + "\n", encoding="utf-8")


def write_text(path: str | Path, text: str | Iterable[str]) -> None:
    """Write UTF-8 text with ``\\n`` line ends, creating parent folders.

    ``text`` is a string or an iterable of strings written one after another (so a large
    file is never one string in memory).

    Parameters
    ----------
    path : str or Path
        The file to write (replaced if it exists); missing parent folders are created.
    text : str or iterable of str
        The content; nothing is added (no final newline, no separators between pieces).

    Returns
    -------
    None

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "cleaned" / "d1.txt"
    >>> write_text(path, ["开发区", "\\n"])
    >>> path.read_text(encoding="utf-8")
    '开发区\\n'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        if isinstance(text, str):
            handle.write(text)
        else:
            handle.writelines(text)


def _staging_path(target: Path, kind: str, pid: int | None = None) -> Path:
    """The hidden sibling of ``target`` a run of process ``pid`` writes into (``tmp``) or moves
    the previous run folder to while swapping (``old``)."""
    return target.parent / f".{target.name}.{kind}-{os.getpid() if pid is None else pid}"


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    except OSError:
        return True  # cannot tell: leave its folder alone
    return True


def tidy_run_folder(target: str | Path) -> list[Path]:
    """Remove what killed runs of ``target`` left behind; bring back a run folder a kill took away.

    A run writes into the hidden sibling ``.<name>.tmp-<pid>`` and, while swapping it into
    place, may move the previous run folder to ``.<name>.old-<pid>`` for an instant. A run
    killed with ``SIGKILL`` (or a power loss) leaves these behind. They are never results: the
    hidden names keep them out of listings, and this function (called by every run of the
    same folder before it starts) deletes those whose process is gone. If ``target`` itself
    is missing because the kill came between the two renames of a swap, the previous run
    folder is renamed back into place first. Folders of a process still running are left
    alone.

    Parameters
    ----------
    target : str or Path
        The run folder, ``results_dir/name``.

    Returns
    -------
    list of Path
        The leftovers that were removed or restored (in the order handled).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / ".run.tmp-999999999").mkdir()
    >>> [p.name for p in tidy_run_folder(root / "run")]
    ['.run.tmp-999999999']
    >>> list(root.iterdir())
    []
    """
    target = Path(target)
    if not target.parent.is_dir():
        return []
    pattern = re.compile(rf"\.{re.escape(target.name)}\.(tmp|old)-(\d+)")
    leftovers = []
    for path in target.parent.iterdir():
        match = pattern.fullmatch(path.name)
        if match and path.is_dir() and not _process_alive(int(match.group(2))):
            leftovers.append((match.group(1), path))
    handled = []
    retired = sorted((path for kind, path in leftovers if kind == "old"), key=lambda p: p.stat().st_mtime)
    if retired and not target.exists():
        os.rename(retired[-1], target)
        logger.warning("run folder %s was restored from %s, left by a run killed while replacing it",
                       target, retired[-1].name)
        handled.append(retired[-1])
    for kind, path in leftovers:
        if path in handled:
            continue
        shutil.rmtree(path, ignore_errors=True)
        logger.info("removed %s, left behind by a killed run of %s", path.name, target.name)
        handled.append(path)
    return handled


#: Config sections computed from a run's own outputs (``python -m policytopics compare``): two
#: resolved configs that differ only in them (or where one lacks them) are the same run.
DERIVED_SECTIONS = ("effects",)


def configs_match(recorded_yaml: str, resolved_yaml: str) -> bool:
    """Whether two resolved configs are the same run, set aside where it writes and what is
    derived from its outputs (:data:`DERIVED_SECTIONS`).

    Examples
    --------
    >>> configs_match("name: a\\nseed: 1\\n", "name: a\\nseed: 1\\neffects: null\\n")
    True
    """
    import yaml

    try:
        recorded = _without_locations(recorded_yaml, LOCATION_SETTINGS)
        resolved = _without_locations(resolved_yaml, LOCATION_SETTINGS)
        for section in DERIVED_SECTIONS:
            recorded.pop(section, None)
            resolved.pop(section, None)
        return recorded == resolved
    except (yaml.YAMLError, AttributeError, TypeError):
        return False


def check_replaceable(target: str | Path, resolved_yaml: str, *, force: bool = False) -> None:
    """Refuse to replace a run folder that another config made, unless ``force``.

    A run of the same config (the same ``config_sha256`` in the folder's ``manifest.json``,
    or the same resolved config apart from the settings that only say where a run writes,
    ``output.results_dir`` and ``cache.dir``) is a reproduction and may replace the folder;
    so may any run when the folder does not exist or is empty. A folder whose
    ``manifest.json`` is missing or unreadable is refused too: it may not be a run folder.

    Parameters
    ----------
    target : str or Path
        The run folder about to be written.
    resolved_yaml : str
        The resolved config of the new run (``Config.to_yaml()``), whose SHA-256 is its
        config hash.
    force : bool
        Replace the folder whatever it holds.

    Raises
    ------
    RunFolderConflictError
        One line naming the folder, why it is not replaced and how to proceed (``--force``
        or another ``name``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> check_replaceable(pathlib.Path(tempfile.mkdtemp()) / "new", "name: x\\n")  # no folder: fine
    """
    target = Path(target)
    if force or not target.exists():
        return
    how = "pass --force (force=True from Python) to replace it, or set another name (--set name=...) to write beside it"
    if not target.is_dir():
        raise RunFolderConflictError(f"{target} exists and is not a run folder; refusing to replace it: {how}")
    if not any(target.iterdir()):
        return
    manifest_path = target / "manifest.json"
    try:
        recorded = json.loads(manifest_path.read_text(encoding="utf-8"))["config_sha256"]
    except (OSError, ValueError, KeyError, TypeError):
        raise RunFolderConflictError(
            f"{target} exists but has no readable manifest.json with a config hash, so it may not be "
            f"a run of this config; refusing to replace it: {how}"
        ) from None
    fresh = sha256_bytes(resolved_yaml.encode("utf-8"))
    if recorded == fresh:
        return
    try:
        recorded_yaml = (target / "config.resolved.yaml").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        recorded_yaml = None
    if (recorded_yaml is not None and sha256_bytes(recorded_yaml.encode("utf-8")) == recorded
            and configs_match(recorded_yaml, resolved_yaml)):
        return  # the same run, written through another results or cache folder
    raise RunFolderConflictError(
        f"{target} holds a run made from another config (config hash {str(recorded)[:12]} in its "
        f"manifest.json, {fresh[:12]} for this config); refusing to replace it: {how}"
    )


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths in one atomic step (Linux ``renameat2(RENAME_EXCHANGE)``).

    Returns ``False`` where the system or file system does not offer it (the caller then
    falls back to two renames).
    """
    if not sys.platform.startswith("linux"):
        return False
    import ctypes
    import errno

    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):  # no glibc >= 2.28
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    renameat2.restype = ctypes.c_int
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(first), at_fdcwd, os.fsencode(second), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(second))


def _swap_into_place(staging: Path, target: Path) -> None:
    """Make ``staging`` the folder ``target``, deleting what was there.

    Where the system can swap two folders atomically, ``target`` is at every instant either
    the previous or the new run folder. Otherwise the previous one is moved aside first; if
    that is interrupted, it is moved back (and a kill in between is repaired by
    :func:`tidy_run_folder` on the next run).
    """
    if not os.path.lexists(target):
        os.rename(staging, target)
        return
    if _exchange(staging, target):
        shutil.rmtree(staging, ignore_errors=True)  # now the previous run folder
        return
    retired = _staging_path(target, "old")
    try:
        os.replace(target, retired)
        os.replace(staging, target)
    except BaseException:
        if os.path.lexists(retired) and not os.path.lexists(target):
            os.replace(retired, target)
        raise
    shutil.rmtree(retired, ignore_errors=True)


@contextmanager
def atomic_run_folder(target: str | Path, before_replace: Callable[[], None] | None = None) -> Iterator[Path]:
    """Yield a fresh temporary folder that replaces ``target`` only if the block succeeds.

    The temporary folder is a hidden sibling of ``target``, ``.<name>.tmp-<pid>`` (same file
    system, so the final rename is atomic). On any exception, including ``KeyboardInterrupt``,
    it is removed and ``target`` is left as it was. On success it takes the place of
    ``target`` (swapped atomically where the system allows, see :func:`_swap_into_place`) and
    the previous folder is deleted. Leftovers of killed runs of ``target`` are removed first
    (:func:`tidy_run_folder`).

    Parameters
    ----------
    target : str or Path
        The run folder.
    before_replace : callable, optional
        Called after the block and before ``target`` is replaced; an exception from it (e.g.
        :func:`check_replaceable` finding that another run wrote ``target`` meanwhile)
        discards the new folder and leaves ``target`` as it is.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_run_folder(root / "run") as tmp:
    ...     _ = (tmp / "a.txt").write_text("x")
    >>> sorted(p.name for p in root.iterdir())
    ['run']
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tidy_run_folder(target)
    staging = _staging_path(target, "tmp")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir()
    try:
        yield staging
        if before_replace is not None:
            before_replace()
        _swap_into_place(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def build_manifest(
    folder: str | Path,
    *,
    config_sha256: str,
    inputs: Mapping[str, str],
    stages: Sequence[str],
    resources: Mapping[str, str] | None = None,
    seed: int | None = None,
) -> dict[str, Any]:
    """The provenance record of a run folder.

    Parameters
    ----------
    folder : path
        The (staging) run folder whose files are hashed.
    config_sha256 : str
        Hash of the resolved config YAML.
    inputs : mapping of str to str
        Input file (corpus-relative path) to the SHA-256 of its raw bytes.
    stages : sequence of str
        The pipeline stages the run went through, in order.
    resources : mapping of str to str, optional
        Resource file (dictionary, stopwords, patterns, codebook) to the SHA-256 of its bytes.
    seed : int, optional
        The run's random seed.

    Returns
    -------
    dict
        ``manifest_version``, ``config_sha256``, ``seed``, ``stages``, ``inputs`` and
        ``resources`` (sorted by path), ``packages`` (:func:`package_versions`) and
        ``artifacts`` (:func:`hash_tree` of ``folder``): what ``manifest.json`` holds.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> write_text(folder / "units.csv", "unit_id\\n")
    >>> manifest = build_manifest(folder, config_sha256="c" * 64, inputs={"b.txt": "2" * 64, "a.txt": "1" * 64},
    ...                           stages=["ingest", "clean", "segment"], seed=7)
    >>> list(manifest["inputs"]), list(manifest["artifacts"]), manifest["resources"]
    (['a.txt', 'b.txt'], ['units.csv'], {})
    """
    return {
        "manifest_version": 1,
        "config_sha256": config_sha256,
        "seed": seed,
        "stages": list(stages),
        "inputs": dict(sorted(inputs.items())),
        "resources": dict(sorted((resources or {}).items())),
        "packages": package_versions(),
        "artifacts": hash_tree(folder),
    }


#: Settings that only say where a run writes (``section.key`` of the resolved config); two
#: runs that differ in them alone are the same run.
LOCATION_SETTINGS = (("output", "results_dir"), ("cache", "dir"))

#: Files that carry the resolved config, hence the location settings, in their bytes.
_CONFIG_QUOTING_FILES = ("config.resolved.yaml", "report.html")


def _without_locations(resolved_yaml: str, locations: Sequence[tuple[str, str]]) -> dict[str, Any]:
    import yaml

    data = yaml.safe_load(resolved_yaml)
    for section, key in locations:
        data.get(section, {}).pop(key, None)
    return data


def _first_difference(fresh: bytes, expected: bytes) -> str:
    at = next((i for i, (a, b) in enumerate(zip(fresh, expected)) if a != b), min(len(fresh), len(expected)))
    return f"first differing byte {at}: {fresh[max(at - 30, 0):at + 30]!r} vs {expected[max(at - 30, 0):at + 30]!r}"


def compare_run_folders(
    reference: str | Path, fresh: str | Path, also_ignore: Sequence[tuple[str, str]] = ()
) -> list[str]:
    """Every difference between a reference run folder and a fresh run of the same config.

    The fresh run may have written elsewhere (another ``output.results_dir`` or
    ``cache.dir``): the resolved configs are compared without those settings, and in
    ``report.html``, which quotes the config and its hash, the fresh run's config text and
    hash are read as the reference's. Everything else must match byte for byte: every file of
    the reference folder (except ``timings.json`` and ``manifest.json``), and the manifest's
    seed, inputs, resources, package versions, stages and artefact hashes (which cover the
    files a reference folder may leave out, such as the model binaries).

    Parameters
    ----------
    reference, fresh : path
        Run folders; ``reference`` is usually the committed one.
    also_ignore : sequence of (section, key)
        Further settings to set aside, e.g. ``[("corpus", "path")]`` when the fresh run read
        the same files through another path (the manifest's input hashes still must agree).

    Returns
    -------
    list of str
        One line per difference, naming the file (and the first differing byte); empty
        when the runs are the same.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "manifest.json").write_text('{"artifacts": {}}')
    >>> compare_run_folders(folder, folder)
    []
    """
    from markupsafe import escape  # how Jinja2's autoescaping wrote the config into report.html

    reference, fresh = Path(reference), Path(fresh)
    problems: list[str] = []
    configs = {}
    for folder in (reference, fresh):
        path = folder / "config.resolved.yaml"
        configs[folder] = path.read_text(encoding="utf-8") if path.is_file() else ""
    locations = [*LOCATION_SETTINGS, *also_ignore]
    if _without_locations(configs[reference] or "{}", locations) != _without_locations(configs[fresh] or "{}", locations):
        ignored = ", ".join(f"{section}.{key}" for section, key in locations)
        problems.append(f"config.resolved.yaml: the configs differ (beyond {ignored})")
    manifests = {folder: json.loads((folder / "manifest.json").read_text(encoding="utf-8")) for folder in (reference, fresh)}
    for key in ("seed", "inputs", "resources", "packages", "stages"):
        if manifests[reference].get(key) != manifests[fresh].get(key):
            problems.append(f"manifest.json: '{key}' differs (installed versions, inputs or resources changed?)")
    recorded, produced = manifests[reference]["artifacts"], manifests[fresh]["artifacts"]
    for name in sorted((set(recorded) | set(produced)) - set(_CONFIG_QUOTING_FILES)):
        if recorded.get(name) != produced.get(name):
            state = "missing from the fresh run" if name not in produced else "new in the fresh run" if name not in recorded else "hash differs"
            problems.append(f"{name}: {state}")
    masks = [
        (str(escape(configs[fresh])), str(escape(configs[reference]))),
        (sha256_bytes(configs[fresh].encode("utf-8")), sha256_bytes(configs[reference].encode("utf-8"))),
    ]
    for path in sorted(reference.rglob("*")):
        relative = path.relative_to(reference).as_posix()
        if not path.is_file() or relative in ("timings.json", "manifest.json", "config.resolved.yaml"):
            continue
        twin = fresh / relative
        if not twin.is_file():
            problems.append(f"{relative}: missing from the fresh run")
            continue
        fresh_bytes, expected = twin.read_bytes(), path.read_bytes()
        if relative in _CONFIG_QUOTING_FILES and fresh_bytes != expected:
            text = fresh_bytes.decode("utf-8")
            for fresh_text, reference_text in masks:
                text = text.replace(fresh_text, reference_text)
            fresh_bytes = text.encode("utf-8")
        if fresh_bytes != expected:
            problems.append(f"{relative}: differs from the reference ({_first_difference(fresh_bytes, expected)})")
    return problems
