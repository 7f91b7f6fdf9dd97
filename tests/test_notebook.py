"""The analysis notebook runs, every cell, on a real pipeline run's outputs (nbclient).

The notebook (notebooks/analysis.py, jupytext "percent" text) is executed by a kernel
of this environment's Python, started from a kernel spec in a temporary folder: nothing
is registered with Jupyter, and the runtime, config and IPython folders are temporary
too. It runs in the session's pipeline repository (``pipeline_repo``: `dvc repro`
committed and tagged), once on a tag (``REV``), once on the workspace.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

from tests.conftest import PIPELINE_TAG
from tests.support.sandbox import REPO_ROOT

NOTEBOOK = REPO_ROOT / "notebooks" / "analysis.py"
KERNEL = "churn-test-venv"


@pytest.fixture
def jupyter_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Jupyter's and IPython's folders in ``tmp_path`` (the kernel inherits them)."""
    for var, name in (
        ("JUPYTER_RUNTIME_DIR", "runtime"),
        ("JUPYTER_CONFIG_DIR", "config"),
        ("JUPYTER_DATA_DIR", "data"),
        ("IPYTHONDIR", "ipython"),
    ):
        monkeypatch.setenv(var, str(tmp_path / name))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    return tmp_path


def kernel_manager(home: Path) -> KernelManager:
    """A kernel of this interpreter (the project's venv), from a spec nobody else sees."""
    spec = home / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "churn (project venv)",
                "language": "python",
            }
        )
    )
    specs = KernelSpecManager(kernel_dirs=[str(home / "kernels")])
    return KernelManager(kernel_name=KERNEL, kernel_spec_manager=specs)


def execute(cwd: Path, home: Path, **parameters) -> nbformat.NotebookNode:
    """The notebook executed in ``cwd`` with ``parameters`` set after its parameters cell."""
    nb = jupytext.read(NOTEBOOK)
    tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "the notebook needs exactly one cell tagged `parameters`"
    if parameters:
        injected = "\n".join(f"{k} = {v!r}" for k, v in parameters.items())
        nb.cells.insert(tagged[0] + 1, nbformat.v4.new_code_cell(injected))
    client = NotebookClient(
        nb,
        km=kernel_manager(home),
        timeout=120,
        allow_errors=False,
        resources={"metadata": {"path": str(cwd)}},
    )
    client.execute()
    return nb


def texts(nb: nbformat.NotebookNode) -> str:
    """Every text and markdown output of the executed cells."""
    out = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            if o.get("output_type") == "stream":
                out.append(o["text"])
            data = o.get("data", {})
            out.append(data.get("text/markdown", "") + data.get("text/plain", ""))
    return "\n".join(out)


def images(nb: nbformat.NotebookNode) -> int:
    return sum(
        "image/png" in o.get("data", {}) for cell in nb.cells for o in cell.get("outputs", [])
    )


@pytest.mark.e2e
def test_the_notebook_runs_on_a_tag_and_reads_that_revision(pipeline_repo, jupyter_home):
    root = pipeline_repo.path
    decision_file = root / "models" / "decision.json"
    committed = decision_file.read_text()
    # The workspace's threshold changes: the tag's must still be the one shown.
    decision_file.write_text(json.dumps({**json.loads(committed), "threshold": 0.987}))
    try:
        nb = execute(root / "notebooks", jupyter_home, REV=PIPELINE_TAG)
    finally:
        decision_file.write_text(committed)
    shown = texts(nb)
    threshold = json.loads(committed)["threshold"]
    assert f"Read from **revision '{PIPELINE_TAG}'**" in shown
    assert f"contact threshold **{threshold:.2f}**" in shown
    assert images(nb) >= 7  # every section draws its plots


@pytest.mark.e2e
def test_the_notebook_runs_on_the_workspace_by_default(pipeline_repo, jupyter_home):
    nb = execute(pipeline_repo.path / "notebooks", jupyter_home)
    assert "Read from **the workspace**" in texts(nb)


def test_no_notebook_with_outputs_is_committed():
    tracked = subprocess.run(
        ["git", "ls-files", "notebooks"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert "notebooks/analysis.py" in tracked
    for name in tracked:
        if name.endswith(".ipynb"):
            nb = nbformat.read(REPO_ROOT / name, as_version=4)
            outputs = [c for c in nb.cells if c.get("outputs") or c.get("execution_count")]
            assert not outputs, f"{name} holds outputs: commit the paired .py only"
