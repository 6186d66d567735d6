"""Fixtures shared by the site tests (tests/test_site_*.py) and the browser tests (tests/browser/).

- ``site_build``: runs ``mkdocs build --strict`` once per test session into a temporary directory and
  returns a ``SiteBuild`` (path, returncode, stdout, stderr), whatever the outcome.
- ``built_site``: the Path of that built site; fails the requesting test, with MkDocs' output, when
  the build failed. Use this one to test the site (serve it, read its HTML).

Hypothesis profiles (README, "Other commands"), chosen here before any test module is imported:
- "dev", the default: random examples, remembered in .hypothesis/ (a failure is replayed first next time);
- "ci", when the environment sets CI (as .ci/run and GitHub do): new examples every run from a seed
  printed in the report header (rerun a failed run with HYPOTHESIS_SEED=<seed>), no database. It
  replaces Hypothesis's built-in "ci" profile, which derandomises: it ran the same examples every time,
  so CI never met the softmax case that failed locally in 2 of 11 runs.
HYPOTHESIS_PROFILE=<name> or --hypothesis-profile=<name> picks a profile explicitly.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest
from hypothesis import HealthCheck, core, settings

ROOT = Path(__file__).resolve().parent.parent


settings.register_profile("dev", deadline=None)
settings.register_profile(
    "ci", deadline=None, derandomize=False, database=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))


def pytest_configure(config):
    """Under "ci", seed every property test from HYPOTHESIS_SEED or a fresh random seed (unless --hypothesis-seed)."""
    if settings.get_current_profile_name() == "ci" and config.getoption("hypothesis_seed") is None:
        seed = os.environ.get("HYPOTHESIS_SEED") or str(int.from_bytes(os.urandom(4), "big"))
        config.option.hypothesis_seed = core.global_force_seed = int(seed)


def pytest_report_header(config):
    seed = config.getoption("hypothesis_seed")
    line = f"hypothesis profile {settings.get_current_profile_name()!r}"
    return line + (f", seed {seed} (rerun: HYPOTHESIS_SEED={seed} make test)" if seed is not None else "")


class SiteBuild(NamedTuple):
    path: Path
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture(scope="session")
def site_build(tmp_path_factory) -> SiteBuild:
    """`mkdocs build --strict` of the whole site (figures, notebooks, math), once per session."""
    site_dir = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site_dir)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    return SiteBuild(site_dir, proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture(scope="session")
def built_site(site_build: SiteBuild) -> Path:
    """The directory of the site built by `site_build` (index.html at its top)."""
    if site_build.returncode != 0:
        pytest.fail(
            f"mkdocs build --strict failed with code {site_build.returncode}:\n{site_build.stderr[-5000:]}",
            pytrace=False,
        )
    return site_build.path
