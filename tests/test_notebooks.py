"""The notebooks in notebooks/: stored clean, named by step, and runnable top to bottom.

Every notebook is executed with nbclient in a kernel of this interpreter (the venv's), from
``notebooks/`` as Jupyter would run it, with its results and token cache redirected to
temporary folders through ``POLICYTOPICS_RESULTS_DIR`` and ``POLICYTOPICS_CACHE_DIR`` (so the
committed ``results/`` is never touched). The notebooks share one cache, so the seed corpus
is tokenised once, and one results folder, so 03 can read the run 02 wrote. 04 (the province
panel) would take minutes on the whole corpus: it runs with ``POLICYTOPICS_PROVINCE_SUBSET``
(:data:`NOTEBOOK_ENV`), a subset of 4 provinces with light models (about a minute).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from conftest import REPO_ROOT

NOTEBOOK_DIR = REPO_ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
REQUIRED = {
    "01-corpus-and-cleaning.ipynb", "02-topics-and-themes.ipynb", "03-model-selection.ipynb", "04-province-panel.ipynb",
}
#: Environment variables set for one notebook only: 04 runs on 4 provinces with light models.
NOTEBOOK_ENV = {"04-province-panel.ipynb": {"POLICYTOPICS_PROVINCE_SUBSET": "4"}}
NAME = re.compile(r"^\d{2}-[a-z0-9]+(?:-[a-z0-9]+)*\.ipynb$")
KERNEL = "policytopics-test"
CELL_TIMEOUT = 600


def _code_cells(path):
    return [cell for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"]


def test_the_notebooks_exist():
    assert REQUIRED <= {path.name for path in NOTEBOOKS}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_named_by_step(path):
    assert NAME.match(path.name), f"{path.name}: name notebooks NN-description.ipynb (lower case, hyphens)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_without_outputs(path):
    raw = json.loads(path.read_text(encoding="utf-8"))
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert raw["metadata"].get("kernelspec", {}).get("name") == "python3"
    for index, cell in enumerate(_code_cells(path)):
        assert cell.execution_count is None, f"{path.name} cell {index}: execution count stored"
        assert cell.outputs == [], f"{path.name} cell {index}: outputs stored"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_copies_no_pipeline_code(path):
    """Notebooks call the package; a function defined in a notebook is code that belongs in it."""
    for index, cell in enumerate(_code_cells(path)):
        assert not re.search(r"^\s*(?:async\s+)?def\s|^\s*class\s", cell.source, re.M), (
            f"{path.name} cell {index}: defines a function or class; call policytopics instead"
        )
        for line in cell.source.splitlines():
            match = re.match(r"\s*(?:from|import)\s+([\w.]+)", line)
            if match:
                top = match.group(1).split(".")[0]
                assert top in {"policytopics", "pandas", "IPython", "pathlib", "os", "json", "html"}, (
                    f"{path.name} cell {index}: imports {match.group(1)}"
                )


@pytest.fixture(scope="module")
def kernel_spec_manager(tmp_path_factory):
    """A kernelspec that starts ipykernel with this very interpreter (the venv's), whatever
    other ``python3`` kernels the machine has."""
    kernels = tmp_path_factory.mktemp("kernels")
    spec_dir = kernels / KERNEL
    spec_dir.mkdir()
    (spec_dir / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "policytopics test kernel",
        "language": "python",
    }), encoding="utf-8")
    manager = KernelSpecManager(kernel_dirs=[str(kernels)])
    assert manager.get_kernel_spec(KERNEL).argv[0] == sys.executable
    return manager


@pytest.fixture(scope="module")
def notebook_env(tmp_path_factory, kernel_spec_manager):
    """Results and cache folders shared by the notebooks of one test session."""
    return {
        "POLICYTOPICS_RESULTS_DIR": str(tmp_path_factory.mktemp("notebook-results")),
        "POLICYTOPICS_CACHE_DIR": str(tmp_path_factory.mktemp("notebook-cache")),
    }


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_top_to_bottom(path, notebook_env, kernel_spec_manager, monkeypatch):
    for key, value in {**notebook_env, **NOTEBOOK_ENV.get(path.name, {})}.items():
        monkeypatch.setenv(key, value)  # the kernel inherits this process's environment
    nb = nbformat.read(path, as_version=4)
    km = KernelManager(kernel_name=KERNEL, kernel_spec_manager=kernel_spec_manager)
    client = NotebookClient(
        nb, km=km, timeout=CELL_TIMEOUT, allow_errors=False,
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    try:
        client.execute()
    except CellExecutionError as error:
        message = re.sub(r"\x1b\[[0-9;]*m", "", str(error))  # IPython colours the traceback
        pytest.fail(f"{path.name}: a cell failed\n{message}", pytrace=False)
    finally:
        if km.has_kernel:  # a kernel manager passed in is ours to stop, not nbclient's
            km.shutdown_kernel(now=True)
    outputs = [output for cell in nb.cells if cell.cell_type == "code" for output in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    # the setup cell found the repository from notebooks/ and took the results folder from the environment
    printed = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert f"repository: {REPO_ROOT}" in printed
    assert f"results:    {Path(notebook_env['POLICYTOPICS_RESULTS_DIR']).resolve()}" in printed
    for key, value in NOTEBOOK_ENV.get(path.name, {}).items():
        assert f"{key}={value}:" in printed, f"{path.name}: no printed line says it ran with {key}={value}"
