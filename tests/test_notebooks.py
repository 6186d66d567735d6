"""The notebooks in docs/notebooks/: committed without outputs, and rendered with their outputs by the build.

The notebooks are executed once per test session, by the strict site build that tests/conftest.py's
`built_site` fixture runs (mkdocs-jupyter with execute: true and allow_errors: false, which
tests/test_site_build.py checks in properdocs.yml). A cell that raises, a failed assert in a notebook included,
fails that build, and `built_site` then fails these tests with MkDocs' output. Executing the notebooks a
second time here with nbclient would add their whole run time (~10-25 s on the 2-core machine) to the
test command for no extra guarantee; instead these tests read the built pages and check that every
notebook ran to its end and shows what it computed. Each notebook asserts its own results (score
maps equal, accuracy >= 95%, the X_col ratio); these tests add what must hold for every notebook.
"""

import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "docs" / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))
IDS = [p.stem for p in PATHS]


def test_the_three_notebooks_exist():
    assert {p.name for p in PATHS} >= {"loops-to-blas.ipynb", "sliding-convnet.ipynb", "training.ipynb"}


@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_notebook_is_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [(i, cell) for i, cell in enumerate(nb.cells) if cell.cell_type == "code"]
    dirty = [i for i, cell in code if cell.outputs or cell.execution_count is not None]
    assert not dirty, f"{path.name}: cells {dirty} have outputs or an execution count; clear them before committing"
    assert nb.metadata["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_notebook_page_shows_its_outputs(path, built_site):
    page = built_site / "notebooks" / path.stem / "index.html"
    assert page.is_file(), f"{path.name} has no page in the built site: is it in properdocs.yml's nav?"
    html = page.read_text(encoding="utf-8")
    source = "\n".join(cell.source for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code")

    # Ran, to the end, without writing to stderr (errors, tracebacks and warnings render as stderr).
    stderr = re.search(r'<div[^>]*data-mime-type="application/vnd\.jupyter\.(stderr|error)"', html)
    assert not stderr, f"{path.name} wrote to stderr (an error, a traceback or a warning)"
    assert "Traceback" not in html
    assert "Measured on:" in html, f"{path.name} does not say which machine measured it"
    assert "<strong>In short</strong>" in html, f"{path.name} did not run to its closing summary"

    # Every figure goes through show(fig, alt): an inline SVG in the page's colours (_nbutils.py), named by a
    # text alternative computed from the data. (A bare image/png output would lose its alt text in
    # mkdocs-jupyter's template, and be a white panel in the dark scheme.)
    assert not re.findall(r"<img\b[^>]*>", html), f"{path.name}: a figure shown as an image, not through show()"
    figures = re.findall(r'<div [^>]*\bclass="cnnref-plot"[^>]*>\s*<svg', html)  # (attribute order varies)
    alts = [re.search(r'\baria-label="([^"]*)"', tag) for tag in figures]
    assert all('role="img"' in tag for tag in figures), f"{path.name}: a figure that is not role=img"
    assert all(alt and len(alt.group(1)) > 40 for alt in alts), f"{path.name}: a figure without a useful alt text"
    assert len(figures) == len(re.findall(r"^\s*show\(fig", source, flags=re.M)) > 0
