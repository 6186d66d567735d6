"""Fixtures shared by the site tests (tests/test_site_*.py) and the browser tests (tests/browser/).

The whole site is built once per test run, whatever the number of xdist workers (`make test` runs two,
one per core): the first process that collects a test needing the site starts
`properdocs build --strict` in the background, into a folder every worker shares (the main process
makes it and names it in CNNREF_SHARED_SITE), under a file lock so that no other process starts a second
build. Test files that need the site are moved to the end of the run, so the other tests keep both cores
busy while it builds.

- ``site_build``: waits for that build and returns a ``SiteBuild`` (path, returncode, stdout, stderr),
  whatever the outcome.
- ``built_site``: the Path of that built site; fails the requesting test, with ProperDocs' output, when
  the build failed. Use this one to test the site (serve it, read its HTML).

Hypothesis profiles (README, "Other commands"), chosen here before any test module is imported:
- "dev", the default: random examples, remembered in .hypothesis/ (a failure is replayed first next time);
- "ci", when the environment sets CI (as .ci/run and GitHub do): new examples every run from a seed
  printed in the report header (rerun a failed run with HYPOTHESIS_SEED=<seed>), no database. It
  replaces Hypothesis's built-in "ci" profile, which derandomises: it ran the same examples every time,
  so CI never met the softmax case that failed locally in 2 of 11 runs.
- "mutation", for `make mutation`: derandomised, so that every mutant meets the same examples.
HYPOTHESIS_PROFILE=<name> or --hypothesis-profile=<name> picks a profile explicitly.

The test process imports ProperDocs' module redirection first, as the `properdocs` command does, so
that the plugins' `mkdocs.*` imports (Material, mkdocstrings, mkdocs-jupyter) and the hooks' share
ProperDocs' classes when a test loads the configuration or a hook in-process.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

import properdocs.replacement  # noqa: F401  (mkdocs.* -> properdocs.*, as under the properdocs command)
import pytest
from hypothesis import HealthCheck, core, settings

ROOT = Path(__file__).resolve().parent.parent
SHARED = "CNNREF_SHARED_SITE"  # the folder of the one build, made by the main process
NEEDS_SITE = {"site_build", "built_site", "site_dir"}
BUILD_TIMEOUT = 1200  # seconds


settings.register_profile("dev", deadline=None)
settings.register_profile(
    "ci", deadline=None, derandomize=False, database=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("mutation", deadline=None, derandomize=True, database=None)  # make mutation: same examples per mutant
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))


def _seed_hypothesis(config):
    """Under "ci", seed every property test from HYPOTHESIS_SEED or a fresh random seed (unless --hypothesis-seed).

    The main process draws the seed and puts it in the environment, so xdist's workers use the same one.
    """
    if settings.get_current_profile_name() == "ci" and config.getoption("hypothesis_seed") is None:
        seed = os.environ.get("HYPOTHESIS_SEED") or str(int.from_bytes(os.urandom(4), "big"))
        os.environ["HYPOTHESIS_SEED"] = seed
        config.option.hypothesis_seed = core.global_force_seed = int(seed)


MUTATION_EXAMPLES = 5  # property tests under `make mutation`: at most this many examples each, the same every time


def _fewer_examples_for_mutation(items):
    """Under the "mutation" profile: few examples per property test, and the fastest tests first.

    mutmut runs the tests that reach a mutant until one fails; its own stats (mutmut-stats.json, in
    mutants/) give each test's duration, so a mutant that a quick test kills costs only that test.
    """
    if settings.get_current_profile_name() != "mutation":
        return
    for item in items:
        test = getattr(item, "obj", None)
        given = getattr(test, "_hypothesis_internal_use_settings", None)
        if given is not None:
            test._hypothesis_internal_use_settings = settings(given, max_examples=min(given.max_examples, MUTATION_EXAMPLES))
    stats = Path("mutmut-stats.json")
    if stats.is_file():
        import json

        duration = json.loads(stats.read_text()).get("duration_by_test", {})
        items.sort(key=lambda item: duration.get(item.nodeid, 0.0))


def pytest_report_header(config):
    seed = config.getoption("hypothesis_seed")
    line = f"hypothesis profile {settings.get_current_profile_name()!r}"
    return line + (f", seed {seed} (rerun: HYPOTHESIS_SEED={seed} make test)" if seed is not None else "")


class SiteBuild(NamedTuple):
    path: Path
    returncode: int
    stdout: str
    stderr: str


def pytest_configure(config):
    _seed_hypothesis(config)
    _share_site(config)


def _share_site(config):
    """The main process (or the only one, without xdist) makes the folder of the one site build."""
    if not hasattr(config, "workerinput") and not os.environ.get(SHARED):  # the main process (or no xdist)
        folder = tempfile.mkdtemp(prefix="cnnref-site-")
        os.environ[SHARED] = folder  # xdist's workers inherit it
        config._cnnref_shared_site = folder


def pytest_unconfigure(config):
    folder = getattr(config, "_cnnref_shared_site", None)
    if folder:
        started, done = Path(folder) / "started", Path(folder) / "returncode"
        if started.is_file() and not done.exists():  # the run stopped early: stop the build it started
            with contextlib.suppress(ValueError, ProcessLookupError, PermissionError):
                os.killpg(int(started.read_text()), signal.SIGTERM)
        shutil.rmtree(folder, ignore_errors=True)
        os.environ.pop(SHARED, None)


def _needs_site(item) -> bool:
    names = set(getattr(item, "fixturenames", ()))
    if os.environ.get("CNNREF_SITE_DIR"):  # the browser tests were given a built site
        names.discard("site_dir")
    return bool(names & NEEDS_SITE)


# A browser test's page is its first parameter (tests/browser/conftest.py parametrizes page_path first):
# "test_x[/dl/cnn/pooling/-dark]", "test_y[/404.html]".
PAGE_ID = re.compile(r"\[(/(?:[^\[\]]*/)?|/[^\[\]/]*\.html)(?:-[^\[\]]*)?\]$")


def work_unit(nodeid: str) -> str:
    """What `make test` hands a worker at once: a site page's browser tests (the worker then loads each of
    its visits once, tests/browser/sitecheck.py), else a whole file, in order (Sybil runs a page's or a
    module's examples as one namespace, top to bottom; a module's fixtures are set up once)."""
    file, _, test = nodeid.partition("::")
    page = PAGE_ID.search(test) if file.startswith("tests/browser/") else None
    return f"page {page[1]}" if page else file


@pytest.hookimpl(tryfirst=True)  # before xdist's own choice of scheduler
def pytest_xdist_make_scheduler(config, log):
    """`--dist loadscope` (pyproject.toml), with work_unit as the scope. (xdist's loadgroup would do with an
    xdist_group mark, but under pytest 9.2 it silently schedules every test alone: pytest-xdist#1386.)"""
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class PagesAndFiles(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

    return PagesAndFiles(config, log)


def pytest_collection_modifyitems(session, config, items):
    """Files with a test that needs the site run last; the build starts now, in the background. Under the
    "mutation" profile, fewer examples first.

    One hook for both: a module keeps only the last function of a name, so a second
    pytest_collection_modifyitems silently replaced the first (the mutation profile then ran every
    property test's full number of examples).
    """
    _fewer_examples_for_mutation(items)
    later = {item.path for item in items if _needs_site(item)}
    if not later:
        return
    items.sort(key=lambda item: item.path in later)  # stable: collection order otherwise
    if not config.option.collectonly:  # (pytest --collect-only runs nothing)
        start_build()


def _folder() -> Path:
    return Path(os.environ[SHARED])


def start_build() -> None:
    """Start the one build unless a process already did (the lock file records it)."""
    folder = _folder()
    with open(folder / "lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if (folder / "started").exists():
                return
            # A shell writes the exit status once the build is over; any process can wait for that file.
            command = (
                f"{sys.executable} -m properdocs build --strict --site-dir {folder / 'site'} "
                f"> {folder / 'stdout'} 2> {folder / 'stderr'}; echo $? > {folder / 'returncode.tmp'}; "
                f"mv {folder / 'returncode.tmp'} {folder / 'returncode'}"
            )
            shell = subprocess.Popen(["sh", "-c", command], cwd=ROOT, stdin=subprocess.DEVNULL, start_new_session=True)
            (folder / "started").write_text(str(shell.pid))  # its process group, stopped if the run ends first
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def site_build() -> SiteBuild:
    """`properdocs build --strict` of the whole site (figures, notebooks, math), once per test run."""
    folder = _folder()
    start_build()  # a no-op unless this test was not collected with the others (e.g. a plugin reordered)
    deadline = time.monotonic() + BUILD_TIMEOUT
    while not (folder / "returncode").exists():
        if time.monotonic() > deadline:
            pytest.fail(f"the site build did not finish within {BUILD_TIMEOUT} s", pytrace=False)
        time.sleep(0.2)
    returncode = int((folder / "returncode").read_text().strip() or 1)
    read = lambda name: (folder / name).read_text(encoding="utf-8", errors="replace")
    return SiteBuild(folder / "site", returncode, read("stdout"), read("stderr"))


@pytest.fixture(scope="session")
def built_site(site_build: SiteBuild) -> Path:
    """The directory of the site built by `site_build` (index.html at its top)."""
    if site_build.returncode != 0:
        pytest.fail(
            f"properdocs build --strict failed with code {site_build.returncode}:\n{site_build.stderr[-5000:]}",
            pytrace=False,
        )
    return site_build.path
