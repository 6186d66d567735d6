"""The site builds strictly and cleanly, is offline, and is configured as the README and CI say: the
strict build has no warning, no page or stylesheet fetches from another host, the 404 page and sitemap
use site_url while every other page stays relative, and CI runs the README's commands."""

from __future__ import annotations

import re

import yaml

from sitetools import CONFIG, CSS_URL, ROOT, html_pages, load_config, scan


# Not MkDocs warnings: ipykernel 7 logs this for every notebook it runs (local kernel over TCP).
KNOWN_THIRD_PARTY = ("[IPKernelApp] WARNING | Kernel is running over TCP without encryption.",)


def test_strict_build_passes_without_warnings(site_build):
    assert site_build.returncode == 0, site_build.stderr[-5000:]
    warnings = [
        line
        for line in site_build.stderr.splitlines()
        if re.search(r"\bWARNING\b", line) and not line.startswith(KNOWN_THIRD_PARTY)
    ]
    assert not warnings, "\n".join(warnings)
    assert (site_build.path / "index.html").is_file()
    # Built by ProperDocs: neither Material's nor ProperDocs' notice about "MkDocs 2" (both are printed only
    # when the mkdocs command runs them, each naming the variable that hides it).
    assert "MKDOCS_2_WARNING" not in site_build.stderr + site_build.stdout


def test_no_mkdocs_2_warning_variable_is_set_anywhere():
    """The project runs ProperDocs; nothing hides the MkDocs 2 notice (it would hide a real regression)."""
    import subprocess

    name = "NO_MKDOCS_" + "2_WARNING"
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    assert tracked
    holding = [f for f in tracked if (ROOT / f).is_file() and name in (ROOT / f).read_text(errors="replace")]
    assert not holding, holding


EXTERNAL = re.compile(r"^\s*(?:https?:)?//", re.IGNORECASE)


def test_built_site_fetches_nothing_from_another_host(built_site):
    external = []
    for page in html_pages(built_site):
        external += [f"{page.relative_to(built_site)}: <{tag}> {url}" for tag, url in scan(page).fetched if EXTERNAL.match(url)]
    for sheet in sorted(built_site.rglob("*.css")):
        for m in CSS_URL.finditer(sheet.read_text(encoding="utf-8")):
            url = m.group(1) or m.group(2)
            if EXTERNAL.match(url):
                external.append(f"{sheet.relative_to(built_site)}: {url}")
    assert not external, "\n".join(external)


def test_mkdocs_config_keeps_the_site_offline_and_strict():
    config = load_config()  # as ProperDocs validates it, plugins loaded
    assert config.theme["font"] is False  # Material fetches Google Fonts otherwise
    # The repository is a plain link: Material's own partial would call the GitHub API for its stars.
    source = (ROOT / "overrides" / "partials" / "source.html").read_text(encoding="utf-8")
    assert config.repo_url and "data-md-component" not in source.split("-#}")[-1]
    jupyter = config.plugins["mkdocs-jupyter"].config
    assert jupyter["include"] == ["*.ipynb"]  # the default also turns docs/**/*.py into pages
    assert jupyter["execute"] is True and jupyter["allow_errors"] is False


def test_ci_runs_the_readme_commands():
    """.github/workflows/docs.yml runs the README's test command and the build `make serve` uses."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^make (\w+)", readme, re.MULTILINE))
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "docs.yml").read_text(encoding="utf-8"))
    runs = [step["run"].strip() for step in workflow["jobs"]["build"]["steps"] if "run" in step]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert {"test", "serve"} <= documented
    assert runs == ["make test", "make build"]
    assert re.search(r"^serve: .*\n\t.*\$\(BIN\)/properdocs serve --strict --livereload\b", makefile, re.MULTILINE)  # as strict as `make build`
    assert re.search(r"^build: .*\n\t\$\(BIN\)/properdocs build --strict$", makefile, re.MULTILINE)
    assert CONFIG.name == "properdocs.yml" and not (ROOT / "mkdocs.yml").exists()  # ProperDocs' own file name


def test_404_page_and_sitemap_use_site_url_and_pages_stay_relative(built_site):
    from urllib.parse import urlsplit

    site_url = load_config().site_url
    assert site_url and site_url.endswith("/")
    base = urlsplit(site_url).path  # "/cnnref/" on a GitHub Pages project site
    missing = (built_site / "404.html").read_text(encoding="utf-8")
    assert f'href="{base}assets/stylesheets/' in missing  # served for any path: absolute, under the site's path
    assert all(f'href="{base}{path}"' in missing for path in ("", "dl/cnn/", "api/"))  # home, notes, API
    assert "Page not found" in missing
    sitemap = (built_site / "sitemap.xml").read_text(encoding="utf-8")
    locs = re.findall(r"<loc>([^<]+)</loc>", sitemap)
    pages_ = sorted(p for p in built_site.rglob("index.html"))
    assert len(locs) == len(pages_) and all(loc.startswith(site_url) for loc in locs)
    for page in pages_:  # any other page works from any server root or folder (offline site/)
        html = page.read_text(encoding="utf-8")
        assert not re.search(rf'(?:href|src)="{re.escape(base)}', html), page


def test_lighthouse_measures_every_page_of_the_built_site(built_site):
    """tools/lighthouse.py's default pages (the nav, read from properdocs.yml) are every page the build wrote."""
    import sys

    if str(ROOT / "tests" / "browser") not in sys.path:
        sys.path.insert(0, str(ROOT / "tests" / "browser"))
    from sitecheck import nav_pages  # the tool's own function

    pages = nav_pages()
    built = ["/" + (p.parent.relative_to(built_site).as_posix() + "/").removeprefix("./") for p in built_site.rglob("index.html")]
    assert sorted(pages) == sorted(built) and len(set(pages)) == len(pages)
    tool = (ROOT / "tools" / "lighthouse.py").read_text(encoding="utf-8")
    assert "nav = nav_pages()\n    pages = args.pages or nav\n" in tool


def test_every_page_has_the_same_palette_toggle_and_the_browser_tests_audit_it(built_site):
    """The light/dark toggle is one partial (overrides/partials/palette.html): every page, the 404 page too, holds
    it once with the same markup, so the browser tests audit its dark state with every axe rule on one page
    (sitecheck.TOGGLE_AUDIT_PAGE, which must be a page of the site), and colours only on the others."""
    import sys

    if str(ROOT / "tests" / "browser") not in sys.path:
        sys.path.insert(0, str(ROOT / "tests" / "browser"))
    from sitecheck import PALETTE, TOGGLE_AUDIT_PAGE, nav_pages

    assert PALETTE == "form[data-cnnref-palette]"
    toggles = {}
    for page in html_pages(built_site):
        found = re.findall(r"<form [^>]*data-cnnref-palette[^>]*>.*?</form>", page.read_text(encoding="utf-8"), re.S)
        assert len(found) == 1, f"{page.relative_to(built_site)}: {len(found)} palette toggles"
        toggles.setdefault(found[0], []).append(page.relative_to(built_site).as_posix())
    assert len(toggles) == 1, {markup[:200]: pages[:3] for markup, pages in toggles.items()}
    assert TOGGLE_AUDIT_PAGE in nav_pages()
