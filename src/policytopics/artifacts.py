"""The run folder: atomic creation, deterministic writers, manifest and hashes.

In: tables (lists of row dicts), JSON-able objects and texts produced by the stages.
Out: files under ``results/<name>/``, written into a temporary sibling folder that is
renamed into place only when the whole run has succeeded, so a failed or interrupted
run never leaves a half-written run folder behind.

Every writer is deterministic: UTF-8, ``\\n`` line ends, rows in the order given (the
caller sorts by id), floats with a fixed precision, JSON with sorted keys. Two runs of
the same config on the same inputs therefore give byte-identical files, except
``timings.json``, which records wall-clock times and is left out of the manifest hashes.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import platform
import shutil
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

FLOAT_FORMAT = "{:.6f}"

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

#: Files that change from run to run by nature and are therefore not hashed.
UNHASHED_FILES = frozenset({"manifest.json", "timings.json"})


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of ``data``.

    Examples
    --------
    >>> sha256_bytes(b"")[:12]
    'e3b0c44298fc'
    """
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _format_cell(value: Any) -> str:
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
    """Write ``data`` as indented UTF-8 JSON with sorted keys and a final newline."""
    text = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True)
    Path(path).write_text(text + "\n", encoding="utf-8")


def write_text(path: str | Path, text: str | Iterable[str]) -> None:
    """Write UTF-8 text with ``\\n`` line ends, creating parent folders.

    ``text`` is a string or an iterable of strings written one after another (so a large
    file is never one string in memory).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        if isinstance(text, str):
            handle.write(text)
        else:
            handle.writelines(text)


def package_versions(names: Iterable[str] = RECORDED_PACKAGES) -> dict[str, str]:
    """Installed versions of ``names`` plus the Python version ("not installed" if absent)."""
    versions = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def hash_tree(folder: str | Path, exclude: frozenset[str] = UNHASHED_FILES) -> dict[str, str]:
    """SHA-256 of every file under ``folder``, keyed by POSIX relative path, sorted.

    Files named in ``exclude`` (at the top level) are left out.
    """
    folder = Path(folder)
    hashes = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        if path.is_file() and relative not in exclude:
            hashes[relative] = sha256_file(path)
    return hashes


@contextmanager
def atomic_run_folder(target: str | Path) -> Iterator[Path]:
    """Yield a fresh temporary folder that replaces ``target`` only if the block succeeds.

    The temporary folder is a hidden sibling of ``target`` (same file system, so the final
    rename is atomic). On any exception, including ``KeyboardInterrupt``, it is removed
    and ``target`` is left as it was. On success an existing ``target`` is moved aside,
    the new folder renamed into place, and the old one deleted.

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
    staging = target.parent / f".{target.name}.tmp-{os.getpid()}"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir()
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    retired = target.parent / f".{target.name}.old-{os.getpid()}"
    if target.exists():
        os.replace(target, retired)
    os.replace(staging, target)
    if retired.exists():
        shutil.rmtree(retired, ignore_errors=True)


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
