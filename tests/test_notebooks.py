"""The notebooks in docs/notebooks/: committed without outputs, and every one runs without an error.

The site build executes them too (mkdocs-jupyter, allow_errors: false); executing them here as well, with
nbclient, makes a broken notebook fail the test command on its own, with the failing cell in the message,
whatever the site's build configuration. Each notebook asserts its own results (score maps equal,
accuracy >= 95%, the X_col ratio); these tests add what holds for every notebook.
"""

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent / "docs" / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))
IMG = re.compile(r"<img\b[^>]*>")


def test_the_three_notebooks_exist():
    assert {p.name for p in PATHS} >= {"loops-to-blas.ipynb", "sliding-convnet.ipynb", "training.ipynb"}


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_notebook_is_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)]
    assert not dirty, f"{path.name}: code cells {dirty} have outputs or an execution count; clear them before committing"
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"


@pytest.fixture(scope="module")
def executed():
    """Each notebook executed once in a fresh python3 kernel (the venv's ipykernel), errors raising."""
    cache = {}

    def run(path):
        if path not in cache:
            nb = nbformat.read(path, as_version=4)
            NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=False,
                           resources={"metadata": {"path": str(path.parent)}}).execute()
            cache[path] = nb
        return cache[path]

    return run


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_notebook_runs_without_errors_and_shows_its_figures_with_alt_text(path, executed):
    nb = executed(path)  # a cell that raises (a failed assert included) fails here, naming the cell
    outputs = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs]
    assert not [out for out in outputs if out.output_type == "error"]
    stderr = "".join(out.text for out in outputs if out.output_type == "stream" and out.name == "stderr")
    assert "Traceback" not in stderr and "Warning" not in stderr, f"{path.name} wrote to stderr:\n{stderr}"
    # Figures go through show(fig, alt): an <img> with a text alternative. A bare image/png output would
    # reach the page without alt text (mkdocs-jupyter's template drops it), so none is allowed.
    assert not [out for out in outputs if "image/png" in out.get("data", {})], f"{path.name}: a figure without alt text"
    images = [tag for out in outputs for tag in IMG.findall(out.get("data", {}).get("text/html", ""))]
    assert images, f"{path.name} shows no figure"
    for tag in images:
        alt = re.search(r'alt="([^"]*)"', tag)
        assert alt and len(alt.group(1)) > 40, f"{path.name}: a figure without a useful alt text: {tag[:120]}"
    printed = "".join(out.get("text", "") for out in outputs)
    assert "Measured on:" in printed, f"{path.name} does not say which machine measured it"
