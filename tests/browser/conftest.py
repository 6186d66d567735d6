"""Fixtures for the browser tests: the built site, served on 127.0.0.1, and one headless Chromium.

Chromium is Debian's (`make test` installs it); Playwright for Python drives it, never downloading a
browser of its own. Without a browser the tests skip locally but FAIL when CI=true.

Set CNNREF_SITE_DIR=path/to/site to test an already built site instead of building one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sitecheck import DESKTOP, Traffic, base_path, in_ci, site_pages, unavailable
from static_server import StaticServer

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str | None:
    for candidate in (os.environ.get("CHROME_PATH"), "chromium", "chromium-browser", "/usr/bin/chromium"):
        if candidate and (found := shutil.which(candidate)):
            return found
    return None


def pytest_addoption(parser):
    parser.addoption("--screenshots", action="store_true", default=False,
                     help="also run the screenshot tests (tests/browser/test_screenshots.py): every page at 1280 px "
                          "light and 375 px dark, PNGs in build/screenshots/")


def pytest_configure(config):
    config.addinivalue_line("markers", "screenshots: on-demand screenshot tests, run with --screenshots")


def pytest_collection_modifyitems(config, items):
    """The screenshot tests run on demand only: without --screenshots they are deselected, not skipped."""
    if config.getoption("--screenshots"):
        return
    kept, deselected = [], []
    for item in items:
        (deselected if item.get_closest_marker("screenshots") else kept).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


def pytest_generate_tests(metafunc):
    if "page_path" in metafunc.fixturenames:
        pages = site_pages()
        if not pages:  # keeps the failure visible instead of "no tests collected"
            pages = [pytest.param("", marks=pytest.mark.skipif(not in_ci(), reason="no properdocs.yml, no site"))]
        metafunc.parametrize("page_path", pages, ids=[p if isinstance(p, str) else "no-site" for p in pages])


@pytest.fixture(scope="session")
def site_dir(request, tmp_path_factory) -> Path:
    """The built site: CNNREF_SITE_DIR, else the suite's shared `built_site`, else a build of our own."""
    if os.environ.get("CNNREF_SITE_DIR"):
        path = Path(os.environ["CNNREF_SITE_DIR"]).resolve()
    else:
        try:
            built = request.getfixturevalue("built_site")
        except pytest.FixtureLookupError:
            built = None
        if built is not None:
            path = Path(getattr(built, "site_dir", built))
        else:
            if not (ROOT / "properdocs.yml").is_file():
                unavailable("no properdocs.yml: there is no site to test")
            path = tmp_path_factory.mktemp("site")
            build = subprocess.run(
                [sys.executable, "-m", "properdocs", "build", "--quiet", "--site-dir", str(path)],
                cwd=ROOT, capture_output=True, text=True, check=False,
            )
            assert build.returncode == 0, f"properdocs build failed:\n{build.stdout}\n{build.stderr}"
    assert (path / "index.html").is_file(), f"{path} holds no built site (no index.html)"
    return path


@pytest.fixture(scope="session")
def server(site_dir):
    with StaticServer(site_dir, base=base_path(site_dir)) as running:
        yield running


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright for Python is not installed (make .venv/bin/.installed)")
    executable = chromium_path()
    if executable is None:
        unavailable("no Chromium found (apt-get install chromium, or set CHROME_PATH)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def visit(browser, server, site_dir):
    """visit(path, scheme, width) -> what the page showed, loaded once per session and kept."""
    from sitecheck import Visitor

    return Visitor(browser, server.url, site_dir)


@pytest.fixture(scope="session")
def open_page(browser, server):
    """open_page(path, width, scheme) -> a fresh, loaded Playwright page (other hosts blocked, fonts ready), for
    tests that act on a page or measure it (the `visit` records are read-only); closed at the session's end."""
    contexts = []

    def load(path: str, width: int = DESKTOP, scheme: str = "light"):
        while len(contexts) >= 4:  # pages stay usable for a while, not for the whole session
            contexts.pop(0).close()
        # scheme "dark": the reader's system prefers dark, which Material's palette follows.
        context = browser.new_context(viewport={"width": width, "height": 800}, color_scheme=scheme)
        contexts.append(context)
        origin = server.url.split("/", 3)[:3]
        context.route(lambda url: not url.startswith("/".join(origin) + "/"), lambda route: route.abort("blockedbyclient"))
        traffic = Traffic(context)
        page = context.new_page()
        page.goto(server.url + path.lstrip("/"), wait_until="load")
        traffic.idle(page)
        page.evaluate("() => document.fonts.ready.then(() => null)")
        return page

    yield load
    for context in contexts:
        context.close()
