"""The site as a whole: no Python snippet escapes Sybil, the strict build is clean, the built site
is offline and its math is typeset, the API reference covers every public name.
"""

from __future__ import annotations

import importlib.util
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import NamedTuple

import pytest
import yaml
from sybil.evaluators.skip import Skipper

from mkdocs.config import load_config

import cnnref

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

# Snippets a page deliberately keeps out of the tests with `<!-- skip: next -->` (or skip: start /
# skip: end), per page (path under docs/, or "README.md"). A page not listed has none. Adding a skip to a page without
# declaring it here fails test_every_python_fence_is_collected_by_sybil.
DECLARED_SKIPS: dict[str, int] = {}


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The very Sybil object that collects the pages (root conftest.py), loaded under its own name.
pages = _load("cnnref_root_conftest", ROOT / "conftest.py").pages


# (a) Every fence that looks like Python is a test ----------------------------------------------------

# An opening fence after the prefixes Sybil accepts (indentation, block quotes, list markers).
OPENING = re.compile(
    r"^(?P<prefix>(?:[ \t]*>)+[ \t]*|[ \t]*(?:[-*+]|\d+[.)])[ \t]+|[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$"
)
PYTHON_INFO = re.compile(
    r"^\s*\{?\s*\.?(?:python3?|py3?|pycon|pyi|ipython3?|python2|py2)(?![\w-])", re.IGNORECASE
)
PYTHON_START = (">>>", "import ", "from ")


class Fence(NamedTuple):
    start: int  # offset of the opening line in the page
    end: int  # offset just after the closing line
    line: int  # 1-based line of the opening fence
    info: str
    body: str


def fences(text: str) -> list[Fence]:
    """Every fenced code block of a Markdown text, outermost only (CommonMark's closing rule)."""
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    found, i = [], 0
    while i < len(lines):
        m = OPENING.match(lines[i].rstrip("\r\n"))
        if m is None or (m.group("fence")[0] == "`" and "`" in m.group("info")):
            i += 1
            continue
        char, length = m.group("fence")[0], len(m.group("fence"))
        closing = re.compile(rf"^(?:[ \t>]*){re.escape(char)}{{{length},}}[ \t]*$")
        j = i + 1
        while j < len(lines) and not closing.match(lines[j].rstrip("\r\n")):
            j += 1
        body = "".join(lines[i + 1 : j])
        found.append(Fence(offsets[i], offsets[min(j + 1, len(lines))], i + 1, m.group("info"), body))
        i = j + 1
    return found


def looks_like_python(fence: Fence) -> bool:
    if PYTHON_INFO.match(fence.info):
        return True
    first = next((line.strip() for line in fence.body.splitlines() if line.strip()), "")
    return not fence.info.strip() and first.startswith(PYTHON_START)


def audit(path: Path) -> tuple[list[str], int, int]:
    """(problems, snippets Sybil runs, snippets deliberately skipped) for one Markdown page."""
    document = pages.parse(path)
    regions = sorted((region for _, region in document.regions), key=lambda r: r.start)
    # Replay Sybil's skip directives to know which examples it will skip.
    skipped, pending_next, in_block = {}, False, False
    for region in regions:
        if isinstance(region.evaluator, Skipper):
            action = region.parsed[0]
            pending_next = action == "next"
            in_block = {"start": True, "end": False}.get(action, in_block)
        else:
            skipped[region.start] = in_block or pending_next
            pending_next = False
    examples = [r for r in regions if not isinstance(r.evaluator, Skipper)]
    text = document.text
    problems, run, skips = [], 0, 0
    for fence in fences(text):
        inside = [r for r in examples if fence.start <= r.start < fence.end]
        if not looks_like_python(fence):
            continue
        where = f"{path.relative_to(DOCS) if path.is_relative_to(DOCS) else path.name}:{fence.line}: ```{fence.info.strip()}"
        if not inside:
            problems.append(f"{where} looks like Python but Sybil does not collect it (info string must be exactly `python`)")
        elif all(skipped[r.start] for r in inside):
            skips += 1
        elif any(skipped[r.start] for r in inside):
            problems.append(f"{where} is only partly skipped (`skip: next` skips one `>>>` example): use skip: start / skip: end")
        else:
            run += 1
    return problems, run, skips


def md_pages() -> list[Path]:
    """Every page of the site, and the README (its snippets are tests too)."""
    return [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]


def test_every_python_fence_is_collected_by_sybil():
    problems, total_run, counted = [], 0, {}
    for path in md_pages():
        page_problems, run, skips = audit(path)
        problems += page_problems
        total_run += run
        rel = path.relative_to(DOCS).as_posix() if path.is_relative_to(DOCS) else path.name
        if skips or rel in DECLARED_SKIPS:
            counted[rel] = skips
    declared = {page: n for page, n in DECLARED_SKIPS.items() if n}
    assert not problems, "\n".join(problems)
    assert {page: n for page, n in counted.items() if n} == declared, "skipped snippets differ from DECLARED_SKIPS"
    assert total_run > 0, "no page has a Python snippet that Sybil runs"


BAD_PAGE = '''\
# A page with every way to escape Sybil

```py
x = 1
```

``` python
x = 2
```

```python title="x.py"
x = 3
```

!!! eg "In an admonition"
    ```python3
    x = 4
    ```

```
>>> 1 + 1
2
```

```
import numpy
```

```text
import is just a word here
```

````markdown
```py
shown as text inside a four-backtick fence
```
````

```python
>>> 1 + 1
2
```

<!-- skip: next -->
```python
raise SystemExit("skipped on purpose")
```
'''


def test_audit_finds_every_escaping_fence(tmp_path):
    page = tmp_path / "bad.md"
    page.write_text(BAD_PAGE)
    problems, run, skips = audit(page)
    lines = sorted(int(p.split(":")[1]) for p in problems)
    assert lines == [3, 7, 11, 16, 20, 25], problems
    assert (run, skips) == (1, 1)


# (b) The strict build passes with no warning --------------------------------------------------------

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


# (c) The built site makes no request to another host and has no raw math -------------------------

# Attributes that make a browser fetch something.
FETCHING = {
    "script": ("src",),
    "link": ("href",),
    "img": ("src", "srcset"),
    "source": ("src", "srcset"),
    "iframe": ("src",),
    "frame": ("src",),
    "embed": ("src",),
    "object": ("data",),
    "video": ("src", "poster"),
    "audio": ("src",),
    "track": ("src",),
    "input": ("src",),
    "image": ("href", "xlink:href"),
    "use": ("href", "xlink:href"),
}
EXTERNAL = re.compile(r"^\s*(?:https?:)?//", re.IGNORECASE)
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)|@import\s+['"]([^'"]+)""", re.IGNORECASE)
# Text a reader does not see as prose: code, scripts, and the TeX source KaTeX keeps for MathML.
HIDDEN = {"script", "style", "pre", "code", "textarea", "annotation", "kbd", "samp"}
HIDDEN_CLASSES = {"clipboard-copy-txt"}  # mkdocs-jupyter's hidden copy of each code cell
RAW_MATH = ("$$", "\\(", "\\)", "\\[", "\\]", "\\begin{")


class PageScan(HTMLParser):
    """Collects the URLs a page fetches and its visible text."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.fetched, self.text, self.stack = [], [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in FETCHING.get(tag, ()):
            value = attrs.get(name) or ""
            urls = [part.split()[0] for part in value.split(",") if part.strip()] if name == "srcset" else [value]
            self.fetched += [(tag, url) for url in urls if url]
        self.fetched += [(f"{tag}[style]", m.group(1) or m.group(2)) for m in CSS_URL.finditer(attrs.get("style") or "")]
        if tag not in self.VOID:
            classes = set((attrs.get("class") or "").split())
            self.stack.append(tag in HIDDEN or bool(classes & HIDDEN_CLASSES))

    def handle_startendtag(self, tag, attrs):
        before = len(self.stack)
        self.handle_starttag(tag, attrs)
        del self.stack[before:]

    def handle_endtag(self, tag):
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if self.lasttag in ("style",):
            self.fetched += [("style", m.group(1) or m.group(2)) for m in CSS_URL.finditer(data)]
        if not any(self.stack):
            self.text.append(data)


def scan(path: Path) -> PageScan:
    parser = PageScan()
    parser.feed(path.read_text(encoding="utf-8"))
    parser.close()
    return parser


def html_pages(site: Path) -> list[Path]:
    pages_ = sorted(site.rglob("*.html"))
    assert pages_, f"no HTML page in {site}"
    return pages_


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


def test_built_site_has_no_raw_math(built_site):
    raw = []
    for page in html_pages(built_site):
        html = page.read_text(encoding="utf-8")
        if 'class="arithmatex"' in html:
            raw.append(f"{page.relative_to(built_site)}: an arithmatex formula was not typeset")
        text = "".join(scan(page).text)
        for delimiter in RAW_MATH:
            i = text.find(delimiter)
            if i >= 0:
                raw.append(f"{page.relative_to(built_site)}: {delimiter!r} in {text[max(0, i - 60) : i + 60]!r}")
    assert not raw, "\n".join(raw)


def test_math_is_typeset_with_self_hosted_katex(built_site):
    home = (built_site / "index.html").read_text(encoding="utf-8")
    assert 'class="katex"' in home and "<math" in home  # the home page's formula, HTML + MathML
    assert 'href="assets/katex/katex.min.css"' in home
    css = (built_site / "assets" / "katex" / "katex.min.css").read_text(encoding="utf-8")
    fonts = {m.group(1) for m in re.finditer(r"url\((fonts/[^)]+)\)", css)}
    missing = sorted(f for f in fonts if not (built_site / "assets" / "katex" / f).is_file())
    assert fonts and not missing, missing


# The API reference and the configuration ------------------------------------------------------------


def test_api_reference_documents_every_public_name(built_site):
    api = (built_site / "api" / "index.html").read_text(encoding="utf-8")
    ids = {name: f"{getattr(cnnref, name).__module__}.{name}" for name in cnnref.__all__}
    missing = [ident for ident in ids.values() if f'id="{ident}"' not in api]
    assert not missing, f"not in the API reference: {missing}"
    assert "<blockquote>" not in api  # doctests must render as code, not as nested quotes


def test_mkdocs_config_keeps_the_site_offline_and_strict():
    config = load_config(str(ROOT / "mkdocs.yml"))  # as MkDocs validates it, plugins loaded
    assert config.theme["font"] is False  # Material fetches Google Fonts otherwise
    assert not config.repo_url  # Material would call the GitHub API for the repository's stars
    jupyter = config.plugins["mkdocs-jupyter"].config
    assert jupyter["include"] == ["*.ipynb"]  # the default also turns docs/**/*.py into pages
    assert jupyter["execute"] is True and jupyter["allow_errors"] is False


def test_griffe_extension_fences_doctests_and_escapes_prose():
    to_markdown = _load("griffe_doctest", ROOT / "hooks" / "griffe_doctest.py").doctests_to_fences
    text = "Weights F*F*D, W[k].\n\n>>> 1 + 1\n2\n\nAfter."
    assert to_markdown(text) == "Weights F\\*F\\*D, W&#91;k&#93;.\n\n```pycon\n>>> 1 + 1\n2\n```\n\nAfter."


def test_doctest_fences_render_as_console_sessions():
    relabel = _load("pycon_fences", ROOT / "hooks" / "pycon_fences.py").pycon_fences
    text = "```python\n>>> x = 1\n```\n\n    ```python\n    x = 1\n    ```\n"
    assert relabel(text) == "```pycon\n>>> x = 1\n```\n\n    ```python\n    x = 1\n    ```\n"


def test_ci_runs_the_readme_commands():
    """.github/workflows/docs.yml runs the README's test command and the build `make serve` uses."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^make (\w+)", readme, re.MULTILINE))
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "docs.yml").read_text(encoding="utf-8"))
    runs = [step["run"].strip() for step in workflow["jobs"]["build"]["steps"] if "run" in step]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert {"test", "serve"} <= documented
    assert runs == ["make test", "make build"]
    assert re.search(r"^serve: build\b", makefile, re.MULTILINE)  # `make serve` serves what `make build` checks
    assert re.search(r"^build: .*\n\t\$\(BIN\)/mkdocs build --strict$", makefile, re.MULTILINE)
