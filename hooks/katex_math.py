"""Typeset every formula of the site at build time with KaTeX: no request leaves the site.

pymdownx.arithmatex (generic mode) wraps the math of Markdown pages in
``<span class="arithmatex">\\(...\\)</span>`` and ``<div class="arithmatex">\\[...\\]</div>``;
mkdocs-jupyter leaves notebook math raw (``$...$``, ``$$...$$``, mkdocs-jupyter issue 227) for a
MathJax it links from a CDN (hooks/html_fixes.py removes that link). This hook:

- collects the formulas of each page and has one Node process per build (tools/katex_render.js,
  KaTeX from node_modules, installed by ``npm ci``) render them all, HTML plus MathML;
- fails the build, naming the page and the formula, when KaTeX cannot parse a formula;
- in notebook pages, typesets the math of Markdown cells, Markdown outputs and LaTeX outputs;
- ships KaTeX's stylesheet and its woff2 fonts with the site (assets/katex/, from the same npm
  package) and links the stylesheet from every page that has a formula: the HTML is laid out with
  KaTeX's own fonts whatever fonts the reader's machine has, and nothing is fetched from elsewhere;
- has each such page load the fonts its formulas use before it is laid out (a script per font,
  assets/katex/fontface/), so no formula changes width once the page is drawn (see page_fonts);
- once every page is written, cuts each font down to the characters the site's formulas draw (see
  subset_font): the scripts block the first paint (the Convolutions page's five: 111 KB whole, 45 KB cut down).

Search indexes a formula once, as the text of its MathML: the HTML copy (for the eye) and the TeX
source (kept in the MathML) are marked data-search-exclude. The HTML copy's wrapper is renamed from
<span> to the custom element <katex-html> (same class, so KaTeX's stylesheet applies): Material's
search parser compares elements by tag name only, so an excluded <span> stopped being excluded as
soon as the first <span> inside it closed, and "the stride S" was indexed as "the stride SS".
"""

from __future__ import annotations

import base64
import html
import io
import json
import logging
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path

from bs4 import BeautifulSoup, NavigableString
from fontTools import subset
from fontTools.ttLib import TTFont
from properdocs.exceptions import PluginError
from properdocs.plugins import event_priority

log = logging.getLogger("mkdocs.hooks.katex_math")

ROOT = Path(__file__).resolve().parent.parent
RENDERER = ROOT / "tools" / "katex_render.js"
KATEX = ROOT / "node_modules" / "katex"

# pymdownx.arithmatex output (generic mode); the TeX inside is HTML-escaped text.
ARITHMATEX = re.compile(r'<(span|div) class="arithmatex">(.*?)</\1>', re.DOTALL)
# Raw math in notebook Markdown: display forms first, then inline; \$ is a literal dollar.
RAW_MATH = re.compile(
    r"(?<!\\)\$\$(?P<dd>.+?)(?<!\\)\$\$"
    r"|\\\[(?P<sq>.+?)\\\]"
    r"|(?P<env>\\begin\{(?P<name>[a-zA-Z*]+)\}.+?\\end\{(?P=name)\})"
    r"|\\\((?P<rd>.+?)\\\)"
    r"|(?<![\\$])\$(?P<d>[^\s$](?:[^$]*?[^\s\\$])?)\$(?!\$)",
    re.DOTALL,
)
# The TeX source KaTeX keeps inside the MathML, and the HTML copy of the formula: search indexes the
# formula's text once (the MathML's), not its source nor its HTML.
ANNOTATION = '<annotation encoding="application/x-tex">'
KATEX_HTML = '<span class="katex-html" aria-hidden="true">'
# KaTeX's stylesheet and fonts, shipped under this site path; the stylesheet keeps only the woff2
# sources (every browser that runs the site reads woff2: no .woff or .ttf to ship).
ASSETS = "assets/katex"
FONT_FALLBACKS = re.compile(r',url\(fonts/[\w-]+\.(?:woff|ttf)\) format\("(?:woff|truetype)"\)')
FONT_URL = re.compile(r"url\(fonts/([\w-]+\.woff2)\)")
NOTEBOOK_MATH = ("jp-RenderedMarkdown", "jp-RenderedLatex")
SKIP_TAGS = {"code", "pre", "script", "style", "kbd", "samp"}


class Renderer:
    """One `node tools/katex_render.js` process: formulas in, HTML out, a page at a time."""

    def __init__(self) -> None:
        node = shutil.which("node")
        if node is None:
            raise PluginError("katex_math: `node` not found; install Node 20 (the site renders math with KaTeX at build time)")
        if not (KATEX / "package.json").is_file():
            raise PluginError(f"katex_math: {KATEX} is missing; run `npm ci` (or `make build`)")
        self.process = subprocess.Popen(
            [node, str(RENDERER)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )

    def render(self, formulas: list[tuple[str, bool]]) -> list[dict]:
        request = json.dumps([{"tex": tex, "display": display} for tex, display in formulas])
        self.process.stdin.write(request + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        if not answer:
            raise PluginError(f"katex_math: {RENDERER.name} exited with code {self.process.wait()}")
        return json.loads(answer)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


_renderer: Renderer | None = None


def _typeset(formulas: list[tuple[str, bool]], page) -> list[str]:
    """KaTeX's HTML and MathML for each (tex, display) formula of `page`; a formula that fails stops the build."""
    global _renderer
    if not formulas:
        return []
    if _renderer is None:
        _renderer = Renderer()
    results = _renderer.render(formulas)
    errors = [f"  {tex!r}: {r['error']}" for (tex, _), r in zip(formulas, results) if "error" in r]
    if errors:
        raise PluginError(f"katex_math: cannot typeset {len(errors)} formula(s) in {page.file.src_uri}:\n" + "\n".join(errors))
    out = []
    for (_, display), result in zip(formulas, results):
        result["html"] = _exclude_html_copy(result["html"].replace(ANNOTATION, ANNOTATION[:-1] + " data-search-exclude>", 1))
        if display:
            # A wide formula scrolls inside its own box, not the page (375 px screens);
            # docs/javascripts/scroll-regions.js makes the box focusable and names it while it scrolls.
            out.append(f'<div class="katex-block">{result["html"]}</div>')
        else:
            out.append(result["html"])
    return out


SPAN_TAG = re.compile(r"<span\b|</span>")


def _exclude_html_copy(formula: str) -> str:
    """KaTeX's <span class="katex-html" ...>...</span> -> <katex-html class="katex-html" ... data-search-exclude>...</katex-html>."""
    start = formula.find(KATEX_HTML)
    if start < 0:
        return formula
    depth = 0
    for m in SPAN_TAG.finditer(formula, start):
        depth += 1 if m.group(0) == "<span" else -1
        if depth == 0:
            inner = formula[start + len(KATEX_HTML) : m.start()]
            return (formula[:start] + '<katex-html class="katex-html" aria-hidden="true" data-search-exclude>'
                    + inner + "</katex-html>" + formula[m.end():])
    raise PluginError(f"katex_math: unbalanced <span> in KaTeX's output: {formula[:200]}")


def _strip_delimiters(tex: str) -> tuple[str, bool]:
    """arithmatex's body -> (TeX, display?)."""
    tex = html.unescape(tex).strip()
    if tex.startswith("\\(") and tex.endswith("\\)"):
        return tex[2:-2].strip(), False
    if tex.startswith("\\[") and tex.endswith("\\]"):
        return tex[2:-2].strip(), True
    return tex, True  # a bare \begin{...}...\end{...} environment


def _markdown_page(content: str, page) -> str:
    matches = list(ARITHMATEX.finditer(content))
    if not matches:
        return content
    formulas = []
    for m in matches:
        tex, display = _strip_delimiters(m.group(2))
        formulas.append((tex, display or m.group(1) == "div"))
    rendered = iter(_typeset(formulas, page))
    return ARITHMATEX.sub(lambda m: next(rendered), content)


def _raw_formulas(text: str) -> list[tuple[re.Match, str, bool]]:
    found = []
    for m in RAW_MATH.finditer(text):
        if m.group("dd") is not None:
            found.append((m, m.group("dd"), True))
        elif m.group("sq") is not None:
            found.append((m, m.group("sq"), True))
        elif m.group("env") is not None:
            found.append((m, m.group("env"), True))
        elif m.group("rd") is not None:
            found.append((m, m.group("rd"), False))
        else:
            found.append((m, m.group("d"), False))
    return found


def _notebook_page(content: str, page) -> str:
    soup = BeautifulSoup(content, "html.parser")
    targets = []  # (text node, [(match, tex, display)])
    for cls in NOTEBOOK_MATH:
        for block in soup.find_all(class_=cls):
            for node in block.find_all(string=True):
                if any(parent.name in SKIP_TAGS for parent in node.parents):
                    continue
                found = _raw_formulas(str(node))
                if found:
                    targets.append((node, found))
    if not targets:
        return str(soup)
    formulas = [(tex.strip(), display) for _, found in targets for _, tex, display in found]
    rendered = iter(_typeset(formulas, page))
    for node, found in targets:
        text, pieces, end = str(node), [], 0
        for m, _, _ in found:
            pieces.append(html.escape(text[end : m.start()], quote=False))
            pieces.append(next(rendered))
            end = m.end()
        pieces.append(html.escape(text[end:], quote=False))
        parent = node.parent
        only_display = all(display for _, _, display in found) and not RAW_MATH.sub("", text).strip()
        if parent.name == "p" and len(parent.contents) == 1 and only_display:
            node = parent  # a paragraph that is only display math: no <div> inside a <p>
        node.replace_with(BeautifulSoup("".join(pieces), "html.parser"))
    return str(soup)


# MkDocs events ------------------------------------------------------------------------------------


def on_page_content(content: str, page, config, files) -> str:
    if page.file.src_uri.endswith(".ipynb"):
        return _notebook_page(content, page)
    return _markdown_page(content, page)


@cache
def stylesheet() -> str:
    """KaTeX's stylesheet from the npm package, its fonts as woff2 only (read once: fonts() and every font's
    script read it too)."""
    css = (KATEX / "dist" / "katex.min.css").read_text(encoding="utf-8")
    return FONT_FALLBACKS.sub("", css)


def fonts() -> list[Path]:
    """The woff2 files the stylesheet names."""
    return [KATEX / "dist" / "fonts" / name for name in sorted(set(FONT_URL.findall(stylesheet())))]


def on_files(files, config):
    from properdocs.structure.files import File

    if not (KATEX / "package.json").is_file():
        raise PluginError(f"katex_math: {KATEX} is missing; run `npm ci` (or `make build`)")
    files.append(File.generated(config, f"{ASSETS}/katex.min.css", content=stylesheet()))
    return files  # the fonts and their scripts are written once the pages are (on_post_build)


# A page must not be laid out before the fonts its formulas use are ready. KaTeX's @font-face rules
# (font-display: block) let Chromium lay a page out, and paint it, with the formulas' glyphs measured in a
# fallback font while the woff2 files are still on their way (even preloaded: a preload does not hold the
# first paint); when they arrive, every inline formula changes width, a paragraph rewraps and everything below
# it moves (layout shift 0.12 on the dilation page at 375 px, 0.03 on the Convolutions page on a desktop;
# tools/late_fonts.py measures it with the fonts held back). A stylesheet cannot prevent it: a font it names,
# even as a data: URL, is decoded after the first layout. A FontFace made from the font's bytes is ready as
# soon as it is constructed, so each font a page uses is a small script holding the woff2 file (base64), run
# in <head> before anything is drawn: the first layout already uses KaTeX's fonts. The scripts are
# parser-blocking and cached across pages; without JavaScript, KaTeX's own @font-face rules still apply.
# The fonts a page needs: KaTeX_Main-Regular always, the others by the classes KaTeX gives the characters they
# draw.
FONT_CLASSES = {
    "KaTeX_Math-Italic": ("mathnormal",),
    "KaTeX_Main-Bold": ("mathbf", "boldsymbol"),  # \boldsymbol: digits and symbols in Main bold, letters in Math bold italic
    "KaTeX_Math-BoldItalic": ("boldsymbol",),
    "KaTeX_Main-Italic": ("mathit",),
    "KaTeX_AMS-Regular": ("amsrm", "mathbb"),
    "KaTeX_Size1-Regular": ("small-op",),
    "KaTeX_Size2-Regular": ("large-op",),
}
# Large delimiters name their font by size: class="delimsizing size3" (one glyph) or "delim-size4" (stacked).
# (A bare "size3" is a text size, as in "sizing reset-size6 size3": no font of its own.)
DELIMITER = re.compile(r'class="(?:delimsizing size|[^"]*\bdelim-size)([1-4])\b')
FONT_SCRIPTS = f"{ASSETS}/fontface"
LOADABLE = ["KaTeX_Main-Regular", *FONT_CLASSES, *(f"KaTeX_Size{n}-Regular" for n in range(1, 5))]
FONT_FACE = re.compile(r"@font-face\{([^}]*)\}")


def page_fonts(html: str) -> list[str]:
    """The KaTeX fonts the page's formulas use (by their classes), KaTeX_Main-Regular first."""
    used = set(re.findall(r'class="([^"]*)"', html))
    classes = {c for names in used for c in names.split()}
    fonts = ["KaTeX_Main-Regular"] + [font for font, marks in FONT_CLASSES.items() if classes & set(marks)]
    return fonts + [f"KaTeX_Size{n}-Regular" for n in sorted(set(DELIMITER.findall(html))) if f"KaTeX_Size{n}-Regular" not in fonts]


def font_script(name: str, woff2: bytes) -> str:
    """A script that adds KaTeX's font `name` (the woff2 file's bytes, `woff2`) to the page's fonts, ready at
    once, with the descriptors of its @font-face rule in KaTeX's stylesheet."""
    for rule in FONT_FACE.findall(stylesheet()):
        if f"fonts/{name}.woff2" in rule:
            break
    else:
        raise PluginError(f"katex_math: no @font-face for {name} in KaTeX's stylesheet")
    descriptor = dict(part.split(":", 1) for part in rule.split(";") if ":" in part and not part.startswith("src"))
    family = descriptor["font-family"].strip('"')
    data = base64.b64encode(woff2).decode("ascii")
    options = json.dumps({"style": descriptor["font-style"], "weight": descriptor["font-weight"], "display": "block"})
    return (
        f"// {name}.woff2 (KaTeX {katex_version()}, the site's characters), ready before the page is laid out:"
        " hooks/katex_math.py says why.\n"
        "(function () {\n"
        "  if (!window.FontFace || !document.fonts) return;\n"
        f'  var text = atob("{data}");\n'
        "  var bytes = new Uint8Array(text.length);\n"
        "  for (var i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);\n"
        f"  document.fonts.add(new FontFace({json.dumps(family)}, bytes, {options}));\n"
        "})();\n"
    )


def katex_version() -> str:
    return json.loads((KATEX / "package.json").read_text(encoding="utf-8"))["version"]


def on_post_page(output: str, page, config) -> str:
    """Load the fonts and link KaTeX's stylesheet from a page that has a formula (before the site's own extra.css)."""
    if '<span class="katex">' not in output:
        return output
    from properdocs.utils import get_relative_url

    href = get_relative_url(f"{ASSETS}/katex.min.css", page.url)
    scripts = get_relative_url(FONT_SCRIPTS, page.url)
    link = "".join(f'<script src="{scripts}/{name}.js"></script>\n    ' for name in page_fonts(output))
    link += f'<link rel="stylesheet" href="{href}">'
    anchor = output.find('<link rel="stylesheet" href="', output.find("stylesheets/main."))
    at = output.find("</head>") if anchor < 0 else anchor
    return output[:at] + link + "\n    " + output[at:]


# The site's formulas draw some 90 characters; KaTeX's fonts have 20 to 290 glyphs each. Once every page is
# written, each font (the woff2 file KaTeX's @font-face rule names, and its script) keeps only the glyphs of
# the characters the formulas' HTML copies hold: one set for the whole site, so a font keeps every character
# it has that any formula draws, in whatever font KaTeX puts it (a page's fonts are cached across pages; a
# set per page would change the files from page to page). The MathML copy is never drawn (KaTeX's stylesheet
# clips it to a 1 px box); the only text KaTeX's stylesheet adds is an equation number's "(n)". Every font
# keeps its space too: Chromium draws a zero-width space (KaTeX puts one in each vlist-s) with the font's space
# glyph, and without one it looks for the character in other fonts.
KATEX_HTML_COPY = re.compile(r"<katex-html\b[^>]*>(.*?)</katex-html>", re.DOTALL)
TAG = re.compile(r"<[^>]*>")
EQUATION_NUMBER = "()0123456789"  # .eqn-num:before{content:"(" counter(katexEqnNo) ")"}
ALWAYS = " "


def drawn_characters(page_html: str) -> set[str]:
    """The characters the HTML copies of a page's formulas draw."""
    drawn = set()
    for m in KATEX_HTML_COPY.finditer(page_html):
        drawn |= set(html.unescape(TAG.sub("", m.group(1))))
        if "eqn-num" in m.group(1):
            drawn |= set(EQUATION_NUMBER)
    return drawn


@cache  # `properdocs serve` rebuilds after each change: most leave the characters as they were
def subset_font(name: str, characters: str) -> bytes:
    """KaTeX's font `name` (woff2) with the glyphs of `characters` only: cmap = its cmap restricted to them; glyph
    outlines, advances, hinting, vertical metrics and names (its licence included) as they were. The same
    characters give the same bytes: no timestamp, no recomputed bounding box."""
    font = TTFont(KATEX / "dist" / "fonts" / f"{name}.woff2", recalcBBoxes=False, recalcTimestamp=False)
    unicodes = sorted({ord(c) for c in characters})
    options = subset.Options(notdef_outline=True, name_IDs=["*"], name_languages=["*"], recalc_bounds=False,
                             recalc_timestamp=False)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=unicodes)
    subsetter.subset(font)
    kept = set(unicodes)
    for table in font["cmap"].tables:  # the subsetter also maps glyphs kept as parts of others ("<" is drawn from ">")
        table.cmap = {u: glyph for u, glyph in table.cmap.items() if u in kept}
    out = io.BytesIO()
    font.save(out)  # woff2, as read
    return out.getvalue()


def write_fonts(site_dir: Path) -> None:
    """Write KaTeX's fonts and their scripts into the built site, cut down to the characters its formulas draw."""
    drawn = set()
    for page in sorted(site_dir.rglob("*.html")):
        drawn |= drawn_characters(page.read_text(encoding="utf-8"))
    characters = "".join(sorted(drawn | set(ALWAYS)))
    (site_dir / FONT_SCRIPTS).mkdir(parents=True, exist_ok=True)
    (site_dir / ASSETS / "fonts").mkdir(parents=True, exist_ok=True)
    for font in fonts():
        (site_dir / ASSETS / "fonts" / font.name).write_bytes(subset_font(font.stem, characters))
    for name in LOADABLE:
        script = font_script(name, subset_font(name, characters))
        (site_dir / FONT_SCRIPTS / f"{name}.js").write_text(script, encoding="utf-8")
    log.debug("katex_math: %d characters drawn by the formulas", len(drawn))


def _shutdown(*args, **kwargs) -> None:
    global _renderer
    if _renderer is not None:
        _renderer.close()
        _renderer = None


@event_priority(-50)  # after the plugins that might still rewrite a page
def on_post_build(config) -> None:
    _shutdown()
    write_fonts(Path(config.site_dir))


on_build_error = _shutdown
on_shutdown = _shutdown
