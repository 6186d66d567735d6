"""Fixtures shared by the site tests (tests/test_site_*.py) and the browser tests (tests/browser/).

- ``site_build``: runs ``mkdocs build --strict`` once per test session into a temporary directory and
  returns a ``SiteBuild`` (path, returncode, stdout, stderr), whatever the outcome.
- ``built_site``: the Path of that built site; fails the requesting test, with MkDocs' output, when
  the build failed. Use this one to test the site (serve it, read its HTML).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest

ROOT = Path(__file__).resolve().parent.parent


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
