"""Helpers shared by the site tests (tests/test_site_*.py): where things are, loading a hook by path,
scanning a built page, and the CNN notes' pages in nav order."""

from __future__ import annotations

import importlib.util
import re
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def load_module(name: str, path: Path):
    """Import the Python file at path as a module called name (hooks are files, not a package's modules)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# Scanning a built page: what it fetches, and the text a reader sees ----------------------------------

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

CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)|@import\s+['"]([^'"]+)""", re.IGNORECASE)

# Text a reader does not see as prose: code, scripts, and the TeX source KaTeX keeps in the MathML.
HIDDEN = {"script", "style", "pre", "code", "textarea", "annotation", "kbd", "samp"}

HIDDEN_CLASSES = {"clipboard-copy-txt"}  # mkdocs-jupyter's hidden copy of each code cell


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


# The CNN notes' pages ------------------------------------------------------------------------------

# The CNN notes' pages, in mkdocs.yml's nav order: `- dl/cnn/index.md` or `- Title: dl/cnn/<page>.md`.
NOTES_NAV_ENTRY = re.compile(r"^\s+- (?:[^:\n]+: )?dl/cnn/([\w-]+)\.md\s*$", re.MULTILINE)


def notes_pages() -> list[str]:
    """The notes' page names ("index", "conv-layer", ...) in nav order."""
    pages = NOTES_NAV_ENTRY.findall((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    assert len(pages) > 1 and pages[0] == "index", pages
    return pages


def notes_boxes(name: str) -> list[str]:
    """The titles of the df/eg/im/nt boxes of a CNN notes page's Markdown, in order."""
    text = (DOCS / "dl" / "cnn" / f"{name}.md").read_text(encoding="utf-8")
    return re.findall(r'^\s*(?:!!!|\?\?\?\+?) (?:df|eg|im|nt) "(.*)"\s*$', text, re.MULTILINE)
