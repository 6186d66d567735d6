"""How `make test` splits the work between its xdist workers (tests/conftest.py, pyproject.toml)."""

import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# A run of its own: no site build, and not taken for a worker of the run that runs this test.
ENV = {k: v for k, v in os.environ.items() if k != "CNNREF_SHARED_SITE" and not k.startswith("PYTEST_XDIST")}

# Records which worker ran which test, in order.
RECORDER = """
import os

def pytest_collection_finish(session):  # each worker collects every test, in the same order
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        with open(os.path.join(os.environ["CNNREF_RAN"], "collected-" + worker), "w") as f:
            f.write("".join(item.nodeid + "\\n" for item in session.items))


def pytest_runtest_logstart(nodeid, location):
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        with open(os.path.join(os.environ["CNNREF_RAN"], worker), "a") as f:
            f.write(nodeid + "\\n")
"""


def conftest(request):
    return request.config.pluginmanager.get_plugin(str(ROOT / "tests" / "conftest.py"))


def collected(*paths) -> list[str]:
    out = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *paths],
                         cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=120).stdout
    return [line for line in out.splitlines() if "::" in line]


def test_the_configured_distribution_is_the_one_conftest_schedules():
    addopts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]["addopts"].split()
    assert addopts[addopts.index("--dist") + 1] == "loadscope" and "--no-loadscope-reorder" in addopts


def test_each_site_page_is_a_unit_of_work_and_any_other_file_is_one(request):
    """A page's browser tests, from every file that has some, go to one worker (which loads each visit of
    it once); the other tests go a whole file at a time."""
    work_unit = conftest(request).work_unit
    files = ["tests/browser/test_browser_pages.py", "tests/browser/test_browser_math.py", "tests/test_shapes.py"]
    nodeids = [item.nodeid for item in request.session.items if item.nodeid.split("::")[0] in files]
    if {n.split("::")[0] for n in nodeids} != set(files):  # this run did not collect them all: collect them now
        nodeids = collected(*files)
    units = {}
    for nodeid in nodeids:
        units.setdefault(work_unit(nodeid), []).append(nodeid)
    pages = {unit: tests for unit, tests in units.items() if unit.startswith("page /")}
    assert {"page /", "page /404.html", "page /dl/cnn/conv-layer/", "page /api/"} <= set(pages), sorted(units)
    for unit, tests in pages.items():
        assert {t.split("::")[0] for t in tests} == set(files[:2]), unit
        assert all(f"[{unit[len('page '):]}" in t for t in tests), unit
    assert set(units) - set(pages) == set(files)  # the tests not of one page: their file
    assert all("[" not in t for t in units["tests/test_shapes.py"] + units[files[0]][:1])


def test_under_two_workers_a_file_runs_whole_and_in_order(tmp_path):
    """End to end: the scheduler conftest installs hands each file to one worker, its tests in file order."""
    (tmp_path / "recorder.py").write_text(RECORDER)
    (tmp_path / "ran").mkdir()
    files = ["docs/dl/cnn/convolutions.md", "docs/dl/cnn/pooling.md", "tests/test_shapes.py", "tests/test_im2col.py"]
    run = subprocess.run([sys.executable, "-m", "pytest", "-n", "2", "-q", "-p", "recorder", "-p", "no:cacheprovider", *files],
                         cwd=ROOT, env={**ENV, "PYTHONPATH": str(tmp_path), "CNNREF_RAN": str(tmp_path / "ran")},
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:]
    ran = {worker.name: worker.read_text().splitlines() for worker in (tmp_path / "ran").iterdir()}
    orders = [ran.pop(name) for name in sorted(ran) if name.startswith("collected-")]
    assert len(orders) == 2 and orders[0] == orders[1], "the workers collected different tests"
    order = orders[0]
    assert sorted(t for tests in ran.values() for t in tests) == sorted(order)
    for file in files:
        workers = {w for w, tests in ran.items() for t in tests if t.startswith(file + "::")}
        assert len(workers) == 1, f"{file} ran on {workers}"
        assert [t for t in ran[workers.pop()] if t.startswith(file + "::")] == [t for t in order if t.startswith(file + "::")]
    assert len(ran) == 2  # both workers had work
