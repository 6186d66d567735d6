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
NOT_FETCHED_RELS = {"canonical"}
EXTERNAL = re.compile(r"^\s*(?:https?:)?//", re.IGNORECASE)
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)|@import\s+['"]([^'"]+)""", re.IGNORECASE)
# Text a reader does not see as prose: code, scripts, and the TeX source KaTeX keeps in the MathML.
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
        # <link rel="canonical"> (from site_url) names the page's address; a browser fetches nothing.
        rels = set((attrs.get("rel") or "").split())
        not_fetched = tag == "link" and bool(rels) and rels <= NOT_FETCHED_RELS
        for name in () if not_fetched else FETCHING.get(tag, ()):
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


def test_math_is_typeset_as_katex_html_with_its_stylesheet_and_fonts(built_site):
    """KaTeX's HTML (for the eye) and MathML (for screen readers), with KaTeX's stylesheet and fonts
    shipped under assets/katex/ and linked from every page that has a formula."""
    css = built_site / "assets" / "katex" / "katex.min.css"
    fonts = set(re.findall(r"url\(fonts/([\w-]+\.woff2)\)", css.read_text(encoding="utf-8")))
    shipped = {f.name for f in (built_site / "assets" / "katex" / "fonts").iterdir()}
    assert fonts == shipped and "KaTeX_AMS-Regular.woff2" in fonts and "KaTeX_Size2-Regular.woff2" in fonts
    assert not re.search(r"url\((?!fonts/[\w-]+\.woff2\))", css.read_text(encoding="utf-8"))  # woff2 only
    with_math = 0
    for page in html_pages(built_site):
        html = page.read_text(encoding="utf-8")
        name = page.relative_to(built_site)
        # Every formula KaTeX typeset is HTML plus one <math> with its TeX kept as an annotation.
        formulas = html.count('<span class="katex">')
        assert html.count('<span class="katex-mathml"><math') == formulas == html.count('encoding="application/x-tex"'), name
        shown = re.findall(r'<katex-html [^>]*\bclass="katex-html"[^>]*>', html)  # attribute order varies
        assert len(shown) == formulas, name
        assert all('aria-hidden="true"' in tag and "data-search-exclude" in tag for tag in shown), name
        assert "katex-error" not in html and "<merror" not in html, name
        linked = re.findall(r'<link rel="stylesheet" href="([^"]*assets/katex/katex\.min\.css)">', html)
        assert len(linked) == (1 if formulas else 0), name
        if linked:
            assert (page.parent / linked[0]).resolve() == css.resolve(), name
            with_math += 1
    assert with_math >= 7  # home, the notes' pages, the notebooks


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
    # The repository is a plain link: Material's own partial would call the GitHub API for its stars.
    source = (ROOT / "overrides" / "partials" / "source.html").read_text(encoding="utf-8")
    assert config.repo_url and "data-md-component" not in source.split("-#}")[-1]
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
    assert re.search(r"^serve: .*\n\t.*\$\(BIN\)/mkdocs serve --strict\b", makefile, re.MULTILINE)  # as strict as `make build`
    assert re.search(r"^build: .*\n\t\$\(BIN\)/mkdocs build --strict$", makefile, re.MULTILINE)


# The notes' boxes are sections: ids, table of contents, search --------------------------------------

box_headings = _load("admonition_headings", ROOT / "hooks" / "admonition_headings.py")

BOXES_PAGE = """\
# Page

## Pooling Layer

!!! df "**Definition** (Pooling Layer)"
    Text.

??? eg "**Example** (Dice: a *Toy* Example)"
    Body.

    !!! nt "**Note** (Inside)"
        Nested.

!!! note "Not one of the notes' kinds"
    Plain.

## Stride

!!! df "**Definition** (Stride)"
    Text.
"""


def test_box_titles_become_headings_with_ids_under_their_section():
    import markdown

    md = markdown.Markdown(
        extensions=["admonition", "pymdownx.details", "toc", box_headings.BoxHeadingsExtension()],
        extension_configs={"toc": {"permalink": True}},
    )
    html = md.convert(BOXES_PAGE)
    # The h2 keeps its id; the box under it, whose words in parentheses are the same, takes its full title.
    assert '<h2 id="pooling-layer">' in html
    assert '<h3 class="admonition-title" id="definition-pooling-layer"><strong>Definition</strong> (Pooling Layer)<a class="headerlink" href="#definition-pooling-layer"' in html
    # A collapsible box keeps its <summary>, with the heading inside; a box in a box is one level down.
    # (without the permalink: a link inside the <summary> button would be a nested control).
    assert '<summary><h3 class="admonition-title" id="dice-a-toy-example"><strong>Example</strong> (Dice: a <em>Toy</em> Example)</h3></summary>' in html
    assert '<h4 class="admonition-title" id="inside">' in html
    assert '<h3 class="admonition-title" id="definition-stride">' in html  # "stride" is the h2's
    assert '<p class="admonition-title">Not one of the notes\' kinds</p>' in html  # other admonitions unchanged

    def toc(tokens):
        return [(t["id"], t["name"], toc(t["children"])) for t in tokens]

    assert toc(md.toc_tokens) == [
        ("page", "Page", [
            ("pooling-layer", "Pooling Layer", [
                ("definition-pooling-layer", "Pooling Layer", []),
                ("dice-a-toy-example", "Dice: a Toy Example", [("inside", "Inside", [])]),
            ]),
            ("stride", "Stride", [("definition-stride", "Stride", [])]),
        ]),
    ]


# The CNN notes' pages, in mkdocs.yml's nav order: `- dl/cnn/index.md` or `- Title: dl/cnn/<page>.md`.
NOTES_NAV_ENTRY = re.compile(r"^\s+- (?:[^:\n]+: )?dl/cnn/([\w-]+)\.md\s*$", re.MULTILINE)


def _notes_pages() -> list[str]:
    """The notes' page names ("index", "conv-layer", ...) in nav order."""
    pages = NOTES_NAV_ENTRY.findall((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    assert len(pages) > 1 and pages[0] == "index", pages
    return pages


def _notes_boxes(name: str) -> list[str]:
    """The titles of the df/eg/im/nt boxes of a CNN notes page's Markdown, in order."""
    text = (DOCS / "dl" / "cnn" / f"{name}.md").read_text(encoding="utf-8")
    return re.findall(r'^\s*(?:!!!|\?\?\?\+?) (?:df|eg|im|nt) "(.*)"\s*$', text, re.MULTILINE)


def test_every_box_of_the_notes_is_linkable_in_the_toc_and_in_search(built_site):
    import json

    all_ids, boxes = [], 0
    for name in _notes_pages():
        html_path = built_site / "dl" / "cnn" / ("index.html" if name == "index" else f"{name}/index.html")
        page = html_path.read_text(encoding="utf-8")
        heads = re.findall(r'<h([2-6]) class="admonition-title" id="([^"]+)">(.*?)(?:<a class="headerlink" href="#\2"|</h\1></summary>)', page)
        titles = [re.sub(r"<[^>]+>", "", title).strip() for _, _, title in heads]
        assert titles == [t.replace("**", "") for t in _notes_boxes(name)], name
        ids = [ident for _, ident, _ in heads]
        assert len(set(ids)) == len(ids), name
        # The page's table of contents (Material's right-hand nav) links every box.
        toc = page[page.index('data-md-component="toc"') :] if ids else ""
        assert all(f'href="#{ident}"' in toc for ident in ids), name
        all_ids += ids
        boxes += len(_notes_boxes(name))
    assert boxes >= 18 and len(all_ids) == boxes  # the notes' 18 boxes, each a heading
    assert {"stride", "zero-padding", "filter-receptive-fields"} <= set(all_ids)  # the ids the reviewer asked for
    # Search: each box that is not collapsible is a section of its own, found at its anchor.
    index = json.loads((built_site / "search" / "search_index.json").read_text(encoding="utf-8"))
    sections = {d["location"]: d for d in index["docs"]}
    stride = sections["dl/cnn/conv-layer/#stride"]
    assert stride["title"] == "Definition (Stride)" and "jumps" in stride["text"]
    assert "dl/cnn/conv-layer/#zero-padding" in sections and "dl/cnn/conv-layer/#filter-receptive-fields" in sections
    # ... and its title's words are words of the index: with Material's default separator (spaces and
    # hyphens) "Definition (Stride)" indexes "(stride)", which a search for "stride" never finds.
    separator = re.compile(index["config"]["separator"])
    for location, words in [("dl/cnn/conv-layer/#stride", {"stride"}), ("dl/cnn/conv-layer/#filter-receptive-fields", {"receptive", "fields"})]:
        tokens = {t.lower() for t in separator.split(sections[location]["title"]) if t}
        assert words <= tokens, (location, tokens)


# Notebook pages: no inline theme, a clean search index ------------------------------------------


def test_notebook_pages_are_small_and_their_search_entries_clean(built_site):
    import json

    for page in sorted((built_site / "notebooks").glob("*/index.html")):
        html = page.read_text(encoding="utf-8")
        content = html[html.index('<div class="jupyter-wrapper">') :]
        assert "<style" not in content, page  # nbconvert's JupyterLab theme, ~590 KB, is dropped
        assert len(html) < 400_000, (page, len(html))
        assert 'class="jp-RenderedText jp-OutputArea-output" data-mime-type="text/plain" tabindex="0"' in html
    index = json.loads((built_site / "search" / "search_index.json").read_text(encoding="utf-8"))
    notebook_docs = [d for d in index["docs"] if d["location"].startswith("notebooks/")]
    assert notebook_docs
    for doc in notebook_docs:
        text = doc["title"] + doc["text"]
        for noise in ("Copied!", "In [", "\u00b6"):
            assert noise not in text, (doc["location"], noise)
    # mkdocs-jupyter's hidden copy of each cell's code is not indexed a second time: the longest line
    # of each page's first code cell is in the page's search text once.
    import html as html_

    def flat(text: str) -> str:
        return " ".join(html_.unescape(re.sub(r"<[^>]+>", "", text)).split())

    for page in sorted((built_site / "notebooks").glob("*/index.html")):
        cell = re.search(r'<div class="clipboard-copy-txt"[^>]*>(.*?)</div>', page.read_text(encoding="utf-8"), re.DOTALL)
        line = flat(max(cell.group(1).splitlines(), key=len))
        location = page.parent.relative_to(built_site).as_posix() + "/"
        text = flat(" ".join(d["text"] for d in notebook_docs if d["location"].startswith(location)))
        assert text.count(line) == 1, (location, line)


def test_api_source_listings_are_shown_but_not_searched(built_site):
    import json

    api = (built_site / "api" / "index.html").read_text(encoding="utf-8")
    assert api.count('<details class="mkdocstrings-source" data-search-exclude>') >= len(cnnref.__all__) // 2
    index = json.loads((built_site / "search" / "search_index.json").read_text(encoding="utf-8"))
    api_docs = [d for d in index["docs"] if d["location"].startswith("api/")]
    assert api_docs and not [d["location"] for d in api_docs if "Source code in" in d["text"]]
    assert all(d.get("boost", 1) < 1 for d in api_docs)  # the notes rank above the reference (docs/api.md)
    naive = next(d for d in api_docs if d["location"] == "api/#cnnref.conv_layer.conv2d_naive")
    assert "for " not in naive["text"]  # its loops are in the listing, not in the docstring


# site_url: the 404 page and the sitemap; every other page stays relative -----------------------------


def test_404_page_and_sitemap_use_site_url_and_pages_stay_relative(built_site):
    from urllib.parse import urlsplit

    site_url = load_config(str(ROOT / "mkdocs.yml")).site_url
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


# Links into the API reference land on the object they name -------------------------------------------

API_LINK = re.compile(r"\[([^\]]*)\]\((?P<target>(?:\.\./)*api\.md)(?:#(?P<anchor>[^)\s]+))?\)")


def test_links_to_the_api_reference_carry_an_existing_anchor(built_site):
    api = (built_site / "api" / "index.html").read_text(encoding="utf-8")
    ids = set(re.findall(r'\bid="([^"]+)"', api))
    problems, checked = [], 0
    for path in sorted(DOCS.rglob("*.md")):
        for m in API_LINK.finditer(path.read_text(encoding="utf-8")):
            text, anchor = m.group(1), m.group("anchor")
            name = re.fullmatch(r"`cnnref\.(\w+)`", text)
            where = f"{path.relative_to(DOCS)}: [{text}]({m.group('target')}{'#' + anchor if anchor else ''})"
            if name:  # a link naming an object must land on it
                obj = getattr(cnnref, name.group(1), None)
                expected = f"{obj.__module__}.{obj.__qualname__}" if obj is not None else None
                if anchor != expected:
                    problems.append(f"{where}: should be #{expected}")
            if anchor and anchor not in ids:
                problems.append(f"{where}: no such anchor in the API page")
            checked += 1
    assert checked and not problems, "\n".join(problems)


# Copied doctest code runs as pasted: by exec, and line by line in the interactive interpreter ------


def copied_text(code) -> str:
    """What Material's copy button puts on the clipboard for a rendered pycon block.

    Material copies the block's innerText while [data-md-copying] is set (`.trimEnd()`); in that state
    docs/stylesheets/extra.css hides prompts (.gp), output (.go) and every line that holds output,
    and shows the copy-only blank lines (.cnnref-copy-blank) hooks/pycon_fences.py adds.
    """
    from bs4 import NavigableString

    def text(node) -> str:
        if isinstance(node, NavigableString):
            return str(node)
        classes = node.get("class") or []
        if "gp" in classes or "go" in classes:
            return ""
        if any(not isinstance(c, NavigableString) and "go" in (c.get("class") or []) for c in node.children):
            return ""  # span:has(> .go): a line of output
        return "".join(text(c) for c in node.children)

    return text(code).rstrip()


def _console_run(source: str, namespace: dict) -> str:
    """Push `source` line by line into code.InteractiveConsole, as a paste into the REPL; its error output."""
    import code
    import contextlib
    import io

    errors = []

    class Console(code.InteractiveConsole):
        def write(self, data):
            errors.append(data)

    console = Console(locals=namespace)
    with contextlib.redirect_stdout(io.StringIO()):
        more = False
        for line in source.split("\n"):
            more = console.push(line)
        if more:
            console.push("")  # the user presses Enter after the paste
    return "".join(errors)


def _effects(namespace: dict) -> dict:
    return {k: type(v).__name__ for k, v in namespace.items() if not k.startswith("__")}


def test_copied_doctest_snippets_run_by_exec_and_pasted_into_the_repl(built_site):
    import contextlib
    import importlib
    import io

    import matplotlib

    matplotlib.use("Agg")
    from bs4 import BeautifulSoup

    checked = 0
    notes = [f"dl/cnn/{name}/index.html" for name in _notes_pages()[1:]]
    for page in ["index.html", "dl/cnn/index.html", *notes, "api/index.html"]:
        soup = BeautifulSoup((built_site / page).read_text(encoding="utf-8"), "html.parser")
        module_spaces: dict[str, tuple[dict, dict]] = {}
        page_spaces = ({}, {})
        for block in soup.select("div.language-python > pre > code, div.language-pycon > pre > code"):
            if block.find_parent("details", class_="mkdocstrings-source"):
                continue  # a module's source listing, not a snippet
            if page.startswith("api/"):  # a docstring's examples run in its module's namespace
                holder = block.find_parent(class_="doc-module")
                name = holder.find(id=True)["id"] if holder else "cnnref"
                module = importlib.import_module(name)
                spaces = module_spaces.setdefault(name, (dict(vars(module)), dict(vars(module))))
            else:
                spaces = page_spaces
            by_exec, by_console = spaces
            pycon = "language-pycon" in block.parent.parent["class"]
            source = copied_text(block) if pycon else block.get_text()
            where = f"{page}: {source[:200]!r}"
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(source + "\n", where, "exec"), by_exec)
            if not pycon:
                with contextlib.redirect_stdout(io.StringIO()):
                    exec(compile(source + "\n", where, "exec"), by_console)
                continue
            errors = _console_run(source, by_console)
            assert not errors, f"{where}\npasted into the REPL:\n{errors}"
            assert _effects(by_console) == _effects(by_exec), where
            checked += 1
    assert checked >= 20, checked


def test_copy_adds_a_blank_line_only_where_a_block_would_stay_open():
    from bs4 import BeautifulSoup

    end_blocks = _load("pycon_fences_html", ROOT / "hooks" / "pycon_fences.py").end_blocks

    def line(n, prompt, code):
        gp = f'<span class="gp">{prompt}</span>' if prompt else ""
        return f'<span id="__span-0-{n}">{gp}{code}\n</span>'

    def go(n, text):
        return f'<span id="__span-0-{n}"><span class="go">{text}</span>\n</span>'

    rendered = "".join([
        line(1, "&gt;&gt;&gt; ", "def f(x):"),
        line(2, "... ", "    return x"),
        line(3, "&gt;&gt;&gt; ", "for i in range(2): print(i)"),
        go(4, "0"), go(5, "1"),
        line(6, "&gt;&gt;&gt; ", "y = f(1,"),
        line(7, "... ", "  )"),
        line(8, "&gt;&gt;&gt; ", "def g():"),
        line(9, "... ", "    return 1"),
        line(10, "... ", ""),
        line(11, "&gt;&gt;&gt; ", "if True:"),
        line(12, "... ", "    z = 1"),
    ])
    code = BeautifulSoup(f"<code>{end_blocks(rendered)}</code>", "html.parser").code
    # After `def f` and the one-line `for`, not after the complete call, nor after a block the page
    # already ends with "...", nor at the very end (the copy is trimmed).
    assert copied_text(code) == "def f(x):\n    return x\n\nfor i in range(2): print(i)\n\ny = f(1,\n  )\ndef g():\n    return 1\n\nif True:\n    z = 1"
