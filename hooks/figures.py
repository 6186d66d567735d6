"""MkDocs hook (`hooks: [hooks/figures.py]`): every figure and the convolution demo, generated at build time.

The figure code lives in graphs/ (one module per concept, each with a FIGURES and an ALT dict); graphs/
is a folder of the repository, imported from here, not an installed package.

- on_files: each draw function of a `graphs/<concept>.py` FIGURES dict becomes the site file
  graphs/dl/cnn/<name>.svg (File.generated: nothing is written into docs/), plus the demo's scripts
  and stylesheet under assets/cnnref/ (the stylesheet joins extra_css; the scripts follow the demo).
- on_page_markdown: a link to graphs/dl/cnn/<name>.svg with an unknown name stops the build; the
  `<!-- cnnref:conv-demo -->` marker (hooks/markers.py: the one marker syntax) becomes a placeholder.
- on_page_content: the placeholder becomes the demo's HTML with the notes' numbers embedded as JSON and its
  two scripts right after it (drawn before the rest of the page is laid out: nothing moves), and each
  <img> of a figure gets its width and height (no layout shift); an empty alt
  (`![](../../graphs/dl/cnn/maxpool.svg)`) is filled with the figure's ALT text, so it cannot go stale.
  Each figure never shrinks below the width at which its smallest text is 9 CSS px ("legible width",
  computed from the SVG): on a phone it scrolls sideways in its own box (docs/javascripts/
  scroll-regions.js names it and fades the edge where more is hidden), and a link under it, "Open full
  size (<name>.svg)", opens the SVG alone, to zoom (tapping the figure itself opens nothing).
  An animation (a STRIPS entry of graphs/) is a <picture> that shows its frame strip under
  prefers-reduced-motion, followed by a Pause button that shows the strip too (graphs/animations.js,
  after the page's content).
- `make serve`: mkdocs.yml watches cnnref/ and graphs/; before each rebuild the hook forgets the imported
  graphs and cnnref modules, so an edited figure or function is drawn anew.

Every error is mkdocs' PluginError naming the page (and the marker or figure).
"""

import html as html_lib
import importlib
import math
import pkgutil
import re
import sys
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _repository_on_path():
    """graphs/ and hooks/ are folders of the repository, not installed packages: import them from there.
    (MkDocs restores sys.path after loading a hook, so a later import calls this again.)"""
    if str(ROOT) not in sys.path:
        sys.path.append(str(ROOT))


_repository_on_path()

from properdocs.exceptions import PluginError  # noqa: E402
from properdocs.structure.files import File  # noqa: E402
from properdocs.utils import get_relative_url  # noqa: E402

import graphs  # noqa: E402
from graphs._style import render  # noqa: E402
from hooks.markers import expand, marker  # noqa: E402

SITE_DIR = "graphs/dl/cnn"  # the notes link their figures as ../../graphs/dl/cnn/<name>.svg
GRAPHS = ROOT / "graphs"
ASSETS = {  # site path -> source file of the demo, and of the animations' Pause buttons
    "assets/cnnref/conv-demo.css": GRAPHS / "conv_demo.css",
    "assets/cnnref/conv-demo.js": GRAPHS / "conv_demo.js",
    "assets/cnnref/animations.js": GRAPHS / "animations.js",
    "assets/cnnref/conv-demo-port.js": GRAPHS / "conv_demo_port.js",
}
REDUCED_MOTION = "(prefers-reduced-motion: reduce)"
FIGURE_REF = re.compile(re.escape(SITE_DIR) + r"/(?P<name>[^)\s\"'?#]*)")
PLACEHOLDER = "CNNREFCONVDEMOPLACEHOLDER"
IMG = re.compile(r"<img\b[^>]*>")
_SIZES = {}  # figure name -> (width, height) in CSS px, filled by on_files
_LEGIBLE = {}  # figure name -> the narrowest width (CSS px) at which its smallest text is MIN_TEXT_PX
MIN_TEXT_PX = 9


def _modules():
    """(name, module) of every graphs/<concept>.py, by name."""
    for info in sorted(pkgutil.iter_modules(graphs.__path__), key=lambda m: m.name):
        if not info.name.startswith("_"):
            yield info.name, importlib.import_module(f"graphs.{info.name}")


@cache
def figures():
    """{name: (draw, alt)} over every graphs/<concept>.py module; a duplicate name or missing alt is an error."""
    found = {}
    for module_name, module in _modules():
        alts = getattr(module, "ALT", {})
        for name, draw in getattr(module, "FIGURES", {}).items():
            if name in found:
                raise PluginError(f"graphs/{module_name}.py: figure {name!r} is defined twice")
            if not str(alts.get(name, "")).strip():
                raise PluginError(f"graphs/{module_name}.py: figure {name!r} has no alt text in its ALT dict")
            found[name] = (draw, alts[name])
    return found


@cache
def animations():
    """{animation: its frame strip}, from the STRIPS dicts of graphs/ (both names are figures): the page shows
    the strip instead of the animation under prefers-reduced-motion, and while its Pause button is pressed."""
    found = {}
    for module_name, module in _modules():
        for name, strip in getattr(module, "STRIPS", {}).items():
            if name not in figures() or strip not in figures():
                raise PluginError(f"graphs/{module_name}.py: STRIPS names {name!r} -> {strip!r}, not two figures")
            found[name] = strip
    return found


_serving = False


def on_startup(command, dirty):
    global _serving
    _serving = command == "serve"


def on_config(config):
    if _serving:  # a rebuild of `make serve`: draw from the files as they are now
        _repository_on_path()
        for name in [n for n in sys.modules if n.split(".")[0] in ("graphs", "cnnref")]:
            del sys.modules[name]
        figures.cache_clear()
        animations.cache_clear()
        global graphs, render
        graphs = importlib.import_module("graphs")
        render = importlib.import_module("graphs._style").render
    for path in ASSETS:
        if path.endswith(".css") and path not in config.extra_css:
            config.extra_css.append(path)
    return config


def on_files(files, config):
    for name, (draw, _alt) in figures().items():
        svg = render(draw)
        _SIZES[name] = svg_size(svg)
        _LEGIBLE[name] = legible_width(svg)
        files.append(File.generated(config, f"{SITE_DIR}/{name}.svg", content=svg))
    for path, source in ASSETS.items():
        files.append(File.generated(config, path, abs_src_path=str(source)))
    return files


def check_figure_links(markdown, where="page"):
    """Raise PluginError for a link to graphs/dl/cnn/<x> where <x> is not <known figure>.svg."""
    known = figures()
    for m in FIGURE_REF.finditer(markdown):
        name = m["name"]
        if not (name.endswith(".svg") and name[: -len(".svg")] in known):
            raise PluginError(
                f"{where}: unknown figure {SITE_DIR}/{name}; the figures are: "
                + ", ".join(f"{n}.svg" for n in sorted(known))
            )


def replace_markers(markdown, where="page"):
    """Turn the demo's `<!-- cnnref:conv-demo -->` into a placeholder paragraph; check every marker."""
    return expand(markdown, where, "figures", lambda name: PLACEHOLDER)


def on_page_markdown(markdown, page, config, files):
    where = page.file.src_uri
    check_figure_links(markdown, where)
    return replace_markers(markdown, where)


def insert_demo(html, where="page", assets="assets/cnnref"):
    """Replace the placeholder paragraph(s) left by replace_markers with the demo's markup and its scripts
    (`assets`: the folder of the demo's files, relative to the page)."""
    if PLACEHOLDER not in html:
        return html
    from graphs.conv_demo import demo_html

    out, n = re.subn(rf"<p>\s*{PLACEHOLDER}\s*</p>", lambda m: demo_html(assets), html)
    if PLACEHOLDER in out:  # e.g. the marker ended up inside a code block or a paragraph with other text
        raise PluginError(f"{where}: {marker('conv-demo')}: the marker must be a paragraph of its own")
    return out


def svg_size(svg):
    """(width, height) in CSS px of a matplotlib SVG (its width/height are in pt: 1pt = 4/3 px)."""
    m = re.search(r'<svg[^>]*\bwidth="([\d.]+)pt" height="([\d.]+)pt"', svg)
    return round(float(m[1]) * 4 / 3), round(float(m[2]) * 4 / 3)


def legible_width(svg, min_text_px=MIN_TEXT_PX):
    """The narrowest display width (CSS px) at which the SVG's smallest text is min_text_px high.

    Font sizes and the width are in the SVG's own units (matplotlib writes pt for both)."""
    width = float(re.search(r'<svg[^>]*\bwidth="([\d.]+)pt"', svg)[1])
    smallest = min(float(v) for v in re.findall(r"font-size: ([\d.]+)px", svg))
    return math.ceil(min_text_px * width / smallest)


def size_images(html, sizes, legible=None):
    """Give each <img> of a figure its intrinsic size (a page's own width= is kept, height follows), async
    decoding, and its ALT text when the page left the alt empty. Unless the page made it a link itself,
    the image goes into a box that scrolls sideways once the screen is narrower than the figure's legible
    width (`legible`: name -> CSS px, from legible_width), followed by a link that says it opens the
    figure full size.

    Not loading="lazy": the figures are small once gzipped, and a lazy image that was never scrolled
    into view reports naturalWidth 0, which a broken-image check cannot tell from a missing file."""
    def sub(m):
        tag = m[0]
        name = re.search(re.escape(SITE_DIR) + r'/([^"/]+)\.svg"', tag)
        if not name or name[1] not in sizes:
            return tag
        alt = html_lib.escape(figures()[name[1]][1], quote=True)
        if re.search(r'\salt=""', tag):
            tag = re.sub(r'\salt=""', f' alt="{alt}"', tag, count=1)
        elif not re.search(r"\salt=", tag):
            tag = tag.replace("<img", f'<img alt="{alt}"', 1)
        w, h = sizes[name[1]]
        own = re.search(r'\swidth="(\d+)"', tag)
        extra = ""
        if own:
            if "height=" not in tag:
                extra += f' height="{round(int(own[1]) * h / w)}"'
        elif "height=" not in tag:
            extra += f' width="{w}" height="{h}"'
        if "decoding=" not in tag:
            extra += ' decoding="async"'
        tag = tag[:-2].rstrip() + extra + " />" if tag.endswith("/>") else tag[:-1] + extra + ">"
        src = re.search(r'\ssrc="([^"]+)"', tag)[1]
        shown = tag
        strip = animations().get(name[1])
        if strip:  # the frame strip in the same place, at the same width, under reduced motion
            width = int(re.search(r'\swidth="(\d+)"', tag)[1])
            sw, sh = sizes[strip]
            strip_src = src[: -len(f"{name[1]}.svg")] + f"{strip}.svg"
            shown = (f'<picture class="cnnref-animation"><source media="{REDUCED_MOTION}" data-media="{REDUCED_MOTION}" '
                     f'srcset="{strip_src}" width="{width}" height="{round(width * sh / sw)}">{tag}</picture>')
        before = html[: m.start()]
        if before.rfind("<a ") > before.rfind("</a>") or before.rfind("<a>") > before.rfind("</a>"):
            return shown  # the page already made it a link (and an animation's button cannot go inside it)
        least = (legible or {}).get(name[1])
        style = f' style="--cnnref-legible: {least}px"' if least else ""
        boxed = (f'<span class="cnnref-figure"{style}>{shown}</span>'
                 f'<a class="cnnref-figure-open" href="{src}">Open full size ({name[1]}.svg)</a>')
        if strip:  # WCAG 2.2.2: an animation that loops can be paused (graphs/animations.js)
            boxed += '<button type="button" class="cnnref-animation-toggle" aria-pressed="false">Pause</button>'
        return boxed

    return IMG.sub(sub, html)


def on_page_content(html, page, config, files):
    assets = get_relative_url("assets/cnnref", page.url)
    html = size_images(insert_demo(html, page.file.src_uri, assets), _SIZES, _LEGIBLE)
    if "cnnref-animation-toggle" in html:  # the Pause buttons' script, on the pages that have them only
        html += f'<script src="{assets}/animations.js"></script>'
    return html


if __name__ == "__main__":  # python hooks/figures.py DIR: write every figure to DIR (to look at them without a build)
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "figures")
    out.mkdir(parents=True, exist_ok=True)
    for name, (draw, alt) in figures().items():
        (out / f"{name}.svg").write_text(render(draw))
        print(f"{out / name}.svg: {alt}")
