"""The figures and the convolution demo: they render, deterministically, with alt text, from cnnref's numbers,
and the MkDocs hook refuses references it cannot serve."""

import doctest
import html as html_lib
import json
import re
import textwrap
from functools import cache
from pathlib import Path
from xml.etree import ElementTree

import markdown
import numpy as np
import pytest
from matplotlib.figure import Figure
from properdocs.exceptions import PluginError

from cnnref import conv2d_naive, output_size, zero_pad
from graphs import arithmetic
from graphs._style import render
from graphs.conv_demo import MAX_CELLS, NOTES, OPTIONS, P, S, notes_numbers
from hooks.figures import (SITE_DIR, check_figure_links, figures, insert_demo, legible_width, on_page_markdown,
                           replace_markers, size_images, svg_size)

ROOT = Path(__file__).resolve().parents[1]
# The figure names the notes page links (COMMON.md's agreed layout).
DRAWN = {"cnn_dice", "conv-continuous", "conv-impulse-sum", "conv-stride", "conv-padding", "cnn-architecture",
         "cnn-activations", "maxpool", "im2col", "fc-to-conv",
         "arch-lenet5", "arch-alexnet", "arch-vgg16", "arch-resnet18", "arch-mobilenet-v1", "arch-receptive-fields",
         "arch-params-macs", "arch-vgg16-memory"}  # matplotlib figures
# The arithmetic pages' animations and their frame strips (graphs/arithmetic.py writes their SVG text itself).
ANIMATED = {case.name for case in arithmetic.CASES} | {f"{case.name}-frames" for case in arithmetic.CASES}
NAMES = DRAWN | ANIMATED
PLACEHOLDER_ALTS = {"", "image title", "image", "figure", "alt", "alt text", "todo", "tbd", "placeholder"}


@cache
def _svg(name):
    """The figure's SVG as this process draws it, once (each test reads it; test_figure_renders_as_the_build_wrote_it
    holds it to the build's)."""
    return render(figures()[name][0])


def test_every_agreed_figure_exists_once():
    assert set(figures()) == NAMES


@pytest.mark.parametrize("name", sorted(NAMES))
def test_figure_renders_as_the_build_wrote_it(name, built_site):
    """Byte-identical from build to build: this process draws each figure as the site build's process drew it
    (another hash salt, another order of drawing, another day), and the SVG is small, dated nowhere and
    fetches nothing."""
    draw, _alt = figures()[name]
    assert isinstance(draw(), Figure if name in DRAWN else str)
    svg = _svg(name)
    assert svg.startswith("<?xml") and "<svg" in svg and svg.rstrip().endswith("</svg>")
    assert svg == (built_site / SITE_DIR / f"{name}.svg").read_text(encoding="utf-8")
    root = ElementTree.fromstring(svg.encode())  # well-formed XML
    assert root.tag == "{http://www.w3.org/2000/svg}svg" and root.get("viewBox")
    assert len(svg.encode()) < 200_000, "keep the SVGs small: the page loads all of them"
    assert "<dc:date>" not in svg, "a date in the metadata changes every build"
    # nothing fetched from elsewhere: the only URLs are XML namespaces and the DTD
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", svg))
    assert urls <= {"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd", "http://www.w3.org/1999/xlink",
                    "http://www.w3.org/2000/svg", "http://purl.org/dc/elements/1.1/", "http://creativecommons.org/ns#",
                    "http://www.w3.org/1999/02/22-rdf-syntax-ns#", "http://purl.org/dc/dcmitype/StillImage",
                    "https://matplotlib.org/"}, urls


@pytest.mark.parametrize("name", sorted(NAMES))
def test_alt_text_says_what_the_figure_shows(name):
    _draw, alt = figures()[name]
    assert alt.strip().lower() not in PLACEHOLDER_ALTS
    assert 60 <= len(alt) <= 700, len(alt)
    assert "\n" not in alt and "](" not in alt and '"' not in alt  # pastes safely into ![alt](...)


def test_the_dice_alt_text_carries_the_notes_number():
    assert "f(1)g(3) + f(2)g(2) + f(3)g(1) = 3/36" in figures()["cnn_dice"][1]


def test_pages_alt_text_is_the_figures_own():
    """A page's alt text for a figure is empty (the hook fills in ALT) or exactly ALT: it never goes stale."""
    links = []
    for page in (ROOT / "docs").rglob("*.md"):
        # alt text may hold balanced brackets, e.g. "INPUT [32x32x3]"
        links += re.findall(r"!\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\([^)]*graphs/dl/cnn/([^)\s]+)\.svg", page.read_text())
    for alt, name in links:
        assert name in NAMES
        assert alt in ("", figures()[name][1]), (
            f"{name}.svg: the page's alt text differs from ALT in graphs/; write ![](...) to get it filled in, "
            f"or update ALT there")


def _page_widths():
    """{figure name: the width in CSS px the notes display it at} (their `{ width="N" }`, else 600).

    An animation's frame strip is shown in its place (reduced motion), at the same width."""
    widths = {}
    for page in (ROOT / "docs").rglob("*.md"):
        for name, width in re.findall(r"graphs/dl/cnn/([^)\s]+)\.svg\)(?:\{\s*width=\"(\d+)\"\s*\})?", page.read_text()):
            widths[name] = min(widths.get(name, 10_000), int(width or 600))
    for name, strip in arithmetic.STRIPS.items():
        if name in widths:
            widths[strip] = widths[name]
    return widths


def _viewbox_width(svg):
    return float(re.search(r'<svg[^>]*\bviewBox="[\d.]+ [\d.]+ ([\d.]+) [\d.]+"', svg)[1])


@pytest.mark.parametrize("name", sorted(NAMES))
def test_figure_legible_width_keeps_its_text_at_9px_and_fits_the_page(name):
    """On a phone a figure is shown no narrower than legible_width: there its smallest text is 9 CSS px."""
    svg = _svg(name)
    width = float(re.search(r'<svg[^>]*\bwidth="([\d.]+)pt"', svg)[1])
    smallest = min(float(v) for v in re.findall(r"font-size: ([\d.]+)px", svg))
    least = legible_width(svg)
    assert smallest * least / width >= 9 > smallest * (least - 1) / width
    assert least <= _page_widths().get(name, 600), f"{name}: legible only from {least} px, shown at less on a desktop"


@pytest.mark.parametrize("name", sorted(NAMES))
def test_figure_text_is_at_least_9px_where_the_page_shows_it(name):
    """The SVG's font sizes are in its viewBox units; at the page's display width each must be >= 9 CSS px."""
    svg = _svg(name)
    width = _viewbox_width(svg)
    sizes = [float(v) for v in re.findall(r"font-size: ([\d.]+)px", svg)]
    assert sizes, "matplotlib wrote no text as text (svg.fonttype none)"
    shown = _page_widths().get(name, 600)
    assert min(sizes) * shown / width >= 9, f"{name}: {min(sizes)} units is {min(sizes) * shown / width:.1f} px at {shown} px"


def _drawn_texts(fig):
    """(text, window extent) of every non-empty Text that drawing the figure actually draws."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.text import Text

    canvas = FigureCanvasAgg(fig)
    renderer = canvas.get_renderer()
    drawn, original = [], Text.draw

    def draw(self, renderer):
        if self.get_visible() and self.get_text().strip():
            drawn.append(self)
        return original(self, renderer)

    Text.draw = draw
    try:
        fig.draw(renderer)
    finally:
        Text.draw = original
    return [(t.get_text(), t.get_window_extent(renderer)) for t in drawn]


@pytest.mark.parametrize("name", sorted(DRAWN))
def test_figure_texts_neither_overlap_nor_leave_the_card(name):
    import matplotlib

    from graphs._style import RC

    with matplotlib.rc_context(RC):
        fig = figures()[name][0]()
        texts = _drawn_texts(fig)
    assert texts
    W, H = fig.bbox.width, fig.bbox.height
    for n, (text, a) in enumerate(texts):
        assert a.x0 >= 0 and a.y0 >= 0 and a.x1 <= W and a.y1 <= H, f"{name}: {text!r} leaves the figure"
        for other, b in texts[n + 1:]:
            assert not (a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1), (
                f"{name}: {text!r} overlaps {other!r}")


def test_dice_figure_prints_one_product_per_overlapping_column():
    from graphs.convolution import _dice_terms, draw_dice

    terms, total = _dice_terms()
    texts = [t for t in draw_dice().axes[0].texts]
    products = [t for t in texts if t.get_text() == str(terms[0][1] * terms[0][2])]
    assert sorted(t.get_position()[0] for t in products) == [m for m, _, _ in terms]
    assert len(products) * terms[0][1] * terms[0][2] == total


def test_architecture_boxes_of_the_same_height_are_drawn_the_same_height():
    """INPUT [32x32x3] and CONV [32x32x12]: the depth widens a box, it never makes it taller."""
    from matplotlib.patches import Polygon

    from graphs.network import draw_architecture

    from cnnref import cifar10_net

    shapes = cifar10_net().shapes()
    polys = [p.get_xy() for p in draw_architecture().axes[0].patches if isinstance(p, Polygon)]
    boxes = [np.vstack(polys[n:n + 3]) for n in range(0, len(polys), 3)]  # front, top, side of each volume
    assert len(boxes) == len(shapes)
    heights = [round(float(b[:, 1].max() - b[:, 1].min()), 6) for b in boxes]
    widths = [float(b[:, 0].max() - b[:, 0].min()) for b in boxes]
    for (s, h, w), (t, g, v) in zip(zip(shapes, heights, widths), zip(shapes[1:], heights[1:], widths[1:])):
        assert (h == g) == (s[0] == t[0]), f"{s} drawn {h} high, {t} {g} high"
        if s[0] == t[0]:
            assert (w < v) == (s[-1] < t[-1])


def test_im2col_windows_and_filters_use_different_colours():
    from matplotlib.colors import to_rgb

    from graphs.im2col import FILTER_TINT, FILTERS, WINDOWS
    from graphs._style import tint

    assert not set(WINDOWS) & set(FILTERS)
    for f in FILTERS:
        for w in WINDOWS:  # their tinted cells: clearly apart (max channel difference of 8 % or more)
            assert max(abs(a - b) for a, b in zip(to_rgb(tint(f, FILTER_TINT[f])), to_rgb(tint(w, 0.3)))) > 0.08


def test_padding_figure_writes_cross_correlation_not_convolution():
    from graphs.conv_layer import draw_padding

    texts = [t.get_text() for t in draw_padding().axes[0].texts]
    assert "⋆" in texts and "∗" not in texts


# The convolution demo -----------------------------------------------------------------------------------

NOTES_PAGE = """\
!!! im "**Important Note** (Convolution Demo)"
    Below is a running demo of a CONV layer.

    <!-- cnnref:conv-demo -->

After.
"""


@pytest.fixture(scope="module")
def demo_page():
    """The demo as the hook renders it inside an admonition, and the JSON it embeds."""
    html = markdown.markdown(replace_markers(NOTES_PAGE), extensions=["admonition"])
    html = insert_demo(html)
    blobs = re.findall(r'<script type="application/json"[^>]*data-testid="demo-data">(.*?)</script>', html, re.S)
    assert len(blobs) == 1
    return html, json.loads(blobs[0])


def test_demo_is_placed_inside_the_admonition(demo_page):
    html, _ = demo_page
    admonition = re.search(r'<div class="admonition im">(.*)</div>\s*<p>After.</p>', html, re.S)
    assert admonition and 'data-testid="conv-demo"' in admonition.group(1)
    assert "cnnref:" not in html and "PLACEHOLDER" not in html


def test_demo_embeds_the_notes_setting_and_numbers_but_no_result(demo_page):
    """The page carries the notes' inputs; every output is the browser's to compute (and the browser tests'
    to compare with cnnref)."""
    _, d = demo_page
    assert d["setting"] == {"mode": "conv", "n": 5, "D_in": 3, "D_out": 2, "F": 3, "S": 2, "P": 1, "dilation": 1,
                            "output_padding": 0}
    X, W, b = notes_numbers()
    assert d["X"] == X.tolist() and d["W"] == W.tolist() and d["b"] == b.tolist() == [1, 0]
    assert np.shape(d["X"]) == (5, 5, 3) and np.shape(d["W"]) == (2, 3, 3, 3)
    assert set(np.unique(d["X"])) <= {0, 1, 2} and set(np.unique(d["W"])) <= {-1, 0, 1}
    assert not {"V", "X_pad", "W2", "sizes"} & set(d), "no computed number is embedded"


def page_snippet_after_the_demo():
    """The doctest examples of the first ```python fence after the demo's marker on the notes' page."""
    page = (ROOT / "docs/dl/cnn/conv-layer.md").read_text()
    after = page[page.index("<!-- cnnref:conv-demo -->"):]
    fence = re.search(r"```python\n(.*?)```", after, re.S).group(1)
    return doctest.DocTestParser().get_examples(textwrap.dedent(fence))


def test_the_pages_snippet_draws_the_demos_numbers():
    """conv-layer.md says its snippet uses "the demo's own numbers": run it, and compare its X, W, b with
    the numbers the demo opens on (a new seed in graphs/conv_demo.py, or in the snippet, fails here)."""
    namespace = {}
    for example in page_snippet_after_the_demo():
        exec(example.source, namespace)  # noqa: S102 - the page's own snippet
    X, W, b = notes_numbers()
    assert np.array_equal(namespace["X"], X) and np.array_equal(namespace["W"], W) and np.array_equal(namespace["b"], b)
    assert np.array_equal(namespace["V"], conv2d_naive(X, W, b, S=S, P=P))


def test_demo_bounds_fit_a_phone():
    """The input the window slides over is at most MAX_CELLS wide in convolution mode, whatever is chosen; the
    largest filter, dilated, still fits the largest padded input; the notes' setting is on offer."""
    assert max(OPTIONS["n"]) + 2 * max(OPTIONS["P"]) <= MAX_CELLS
    assert max(OPTIONS["dilation"]) * (max(OPTIONS["F"]) - 1) + 1 <= max(OPTIONS["n"]) + 2 * max(OPTIONS["P"])
    assert all(NOTES[name] in OPTIONS[name] for name in OPTIONS)
    assert output_size(5, 3, S=2, P=1) == 3


def test_demo_markup_offers_every_choice_and_loads_its_scripts_after_itself(demo_page):
    html, d = demo_page
    for name, values in OPTIONS.items():
        options = re.search(rf'data-param="{name}"[^>]*>(.*?)</select>', html).group(1)
        assert [int(v) for v in re.findall(r'value="(\d+)"', options)] == values == d["options"][name]
        assert re.search(rf'<option value="{NOTES[name]}" selected>', options)
    assert 'data-param="mode"' in html and '<option value="transposed">' in html
    scripts = re.findall(r'<script src="([^"]+)"></script>', html)
    assert scripts == ["assets/cnnref/conv-demo-port.js", "assets/cnnref/conv-demo.js"]
    assert html.index('data-testid="demo-vols"') < html.index('<script src=')
    assert not re.search(r"(src|href)=\"https?://", html)


def test_demo_says_what_the_reader_can_do(demo_page):
    html, _ = demo_page
    hint = re.search(r'data-testid="demo-hint">(.*?)</p>', html).group(1)
    assert "click" in hint.lower() and "arrow keys" in hint and "change it" in hint
    assert 'href="assets/cnnref/conv-demo-port.js">conv-demo-port.js</a>' in html


# The hook refuses what it cannot serve --------------------------------------------------------------------

def test_hook_refuses_an_unknown_figure():
    check_figure_links("![Max pooling](../../graphs/dl/cnn/maxpool.svg)")
    with pytest.raises(PluginError, match="unknown figure graphs/dl/cnn/maxpooling.svg"):
        check_figure_links("![Max pooling](../../graphs/dl/cnn/maxpooling.svg)")
    with pytest.raises(PluginError, match="unknown figure"):
        check_figure_links("![Max pooling](../../graphs/dl/cnn/maxpool.png)")


@pytest.mark.parametrize("bad, name, why", [
    ("<!-- cnnref:conv-dem -->", "conv-dem", "unknown marker"),
    ("<!-- cnnref: -->", "", "unknown marker"),
    ("text <!-- cnnref:conv-demo -->", "conv-demo", "a marker must stand alone on its line"),
])
def test_hook_refuses_an_unknown_or_misplaced_marker_naming_page_and_marker(bad, name, why):
    with pytest.raises(PluginError, match=re.escape(f"dl/cnn/x.md: <!-- cnnref:{name} -->: {why}")):
        replace_markers(f"# Page\n\n{bad}\n", "dl/cnn/x.md")


def test_hook_leaves_the_other_hooks_markers_alone():
    page = "# Page\n\n<!-- cnnref:conv-table -->\n\n<!-- cnnref:conv-demo -->\n"
    assert replace_markers(page) == "# Page\n\n<!-- cnnref:conv-table -->\n\nCNNREFCONVDEMOPLACEHOLDER\n"


def test_hook_refuses_a_marker_that_is_not_a_paragraph_of_its_own():
    html = markdown.markdown(replace_markers("    <!-- cnnref:conv-demo -->\n"))  # an indented code block
    with pytest.raises(PluginError, match="paragraph of its own"):
        insert_demo(html)


def test_the_build_serves_every_figure_boxed_and_the_demo(built_site):
    """The site's own build (the hook's on_files, on_page_content) serves every figure from the pages that show
    it, each in its box with its full-size link, each animation with its frame strip and Pause button, and
    the demo's assets; nothing is written into docs/. (Until stop 23 a build of its own, one page holding
    every figure, checked this: it drew every figure a third time, 16 s of a test run.)"""
    pages = {path: path.read_text(encoding="utf-8") for path in built_site.rglob("*.html")}
    boxed = re.compile(r'<span class="cnnref-figure" style="--cnnref-legible: (\d+)px">(?:<picture class="cnnref-animation">'
                       r'<source [^>]*srcset="([^"]+)"[^>]*>)?<img alt="([^"]+)" src="([^"]+)"'
                       r'[^>]*>(?:</picture>)?</span><a class="cnnref-figure-open" href="([^"]+)">Open full size \(([^)]+)\)</a>')
    shown, strips = set(), {}
    for path, html in pages.items():
        for _legible, strip, alt, src, href, label in boxed.findall(html):
            name = src.rsplit("/", 1)[1][: -len(".svg")]
            assert href == src and label == f"{name}.svg", (path, name)
            assert html_lib.unescape(alt).strip().lower() not in PLACEHOLDER_ALTS, (path, name, alt)
            assert (path.parent / src).resolve().is_file(), (path, src)
            assert (path.parent / src).resolve() == (built_site / SITE_DIR / f"{name}.svg").resolve(), (path, src)
            shown.add(name)
            if strip:
                strips[name] = strip.rsplit("/", 1)[1]
                assert (path.parent / strip).resolve().is_file(), (path, strip)
        assert not re.search(r"<a [^>]*>\s*<img", html), path  # tapping a figure opens nothing unannounced
        buttons = len(re.findall(r'</picture></span><a class="cnnref-figure-open" href="[^"]+">Open full size \([^)]+\)</a>'
                                 r'<button type="button" class="cnnref-animation-toggle" aria-pressed="false">Pause</button>', html))
        assert buttons == html.count("<picture"), path  # an animation can be paused
        assert ("animations.js" in html) == bool(buttons), path  # its script, on the pages that need it only
    assert shown == NAMES - {f"{strip}" for strip in arithmetic.STRIPS.values()}, "every figure, on some page"
    assert strips == {name: f"{strip}.svg" for name, strip in arithmetic.STRIPS.items()}
    assert sum(html.count('data-testid="conv-demo"') for html in pages.values()) == 1
    for asset in ("animations.js", "conv-demo.js", "conv-demo-port.js", "conv-demo.css"):
        assert (built_site / "assets/cnnref" / asset).is_file()
    assert not list((ROOT / "docs").rglob("*.svg")), "nothing is written into docs/"


def test_a_pages_markdown_is_checked_naming_the_page():
    """The build runs on_page_markdown on every page: a bad figure link or marker fails it (PluginError: a strict
    build or not), naming the page."""
    page = type("Page", (), {"file": type("File", (), {"src_uri": "dl/cnn/x.md"})()})()
    good = "# Notes\n\n![A figure](graphs/dl/cnn/maxpool.svg)\n\n<!-- cnnref:conv-demo -->\n"
    assert on_page_markdown(good, page, None, None) == good.replace("<!-- cnnref:conv-demo -->", "CNNREFCONVDEMOPLACEHOLDER")
    with pytest.raises(PluginError, match=re.escape("dl/cnn/x.md: unknown figure graphs/dl/cnn/no-such-figure.svg")):
        on_page_markdown("# Notes\n\n![A figure](graphs/dl/cnn/no-such-figure.svg)\n", page, None, None)
    with pytest.raises(PluginError, match=re.escape("dl/cnn/x.md: <!-- cnnref:conv-demos -->: unknown marker")):
        on_page_markdown("# Notes\n\n<!-- cnnref:conv-demos -->\n", page, None, None)


def test_figure_images_get_their_size():
    sizes = {"maxpool": (500, 250)}
    html = size_images('<p><img alt="a" src="../../graphs/dl/cnn/maxpool.svg" /><img src="x.png"></p>', sizes)
    assert '<img alt="a" src="../../graphs/dl/cnn/maxpool.svg" width="500" height="250" ' \
           'decoding="async" />' in html and '<img src="x.png">' in html
    html = size_images('<img alt="a" src="../../graphs/dl/cnn/maxpool.svg" width="400" />', sizes)
    assert 'width="400" height="200" decoding="async"' in html
    html = size_images('<img alt="" src="../../graphs/dl/cnn/maxpool.svg">', sizes, {"maxpool": 321})
    assert html.startswith('<span class="cnnref-figure" style="--cnnref-legible: 321px">'
                           f'<img alt="{figures()["maxpool"][1]}" src=')
    assert html.endswith('></span><a class="cnnref-figure-open" href="../../graphs/dl/cnn/maxpool.svg">'
                         "Open full size (maxpool.svg)</a>")
    linked = '<a href="big.svg"><img alt="a" src="../../graphs/dl/cnn/maxpool.svg"></a>'  # the page's own link
    assert size_images(linked, sizes).count("<a ") == 1
    draw = figures()["maxpool"][0]
    w, h = svg_size(_svg("maxpool"))
    fig = draw()
    assert (w, h) == (round(fig.get_figwidth() * 96), round(fig.get_figheight() * 96))


# The arithmetic pages' animations ------------------------------------------------------------------------
# Each is checked against cnnref computed here, independently of graphs/arithmetic.py's own geometry: the
# frames are the layers' windows, the transposed ones slide over the guide's stretched and padded input.

from cnnref import conv_transpose_output_size, pool_output_size, window_positions  # noqa: E402

CASES = sorted(arithmetic.CASES, key=lambda case: case.name)
KEYFRAME = re.compile(r"([\d.]+)% \{ transform: translate\((-?[\d.]+)px, (-?[\d.]+)px\); \}")
RECT = re.compile(r'<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="[\d.]+" fill="([^"]+)" stroke="[^"]+"'
                  r'(?: stroke-dasharray="([^"]+)")?/>')


def _plane(svg):
    """The plane the filter slides over, as drawn: (origin x, origin y, cell size, kinds (m, m) by fill/dash)."""
    group = re.search(r'<g class="c">(.*?)</g>', svg)[1]
    cells = RECT.findall(group)
    m = int(round(len(cells) ** 0.5))
    assert m * m == len(cells)
    fills = {fill + (dash or ""): kind for kind, (fill, _stroke, dash) in arithmetic.COLOURS.items()}
    kinds = np.array([fills[fill + (dash or "")] for _x, _y, _w, fill, dash in cells], dtype=object).reshape(m, m)
    x0, y0, c = float(cells[0][0]), float(cells[0][1]), float(cells[0][2])
    return x0, y0, c, kinds


def _expected(case):
    """(output size, windows (H2, W2, F, F, 2) on the drawn plane, kinds of the plane's cells): from cnnref and the
    guide's construction, written out again here."""
    n, F, S, P, d, a = case.n, case.F, case.S, case.P, case.dilation, case.output_padding
    if case.transposed:
        out = conv_transpose_output_size(n, F, S=S, P=P, output_padding=a, dilation=d)
        Y = np.ones((n, n))
        stretched = np.zeros((S * (n - 1) + 1 + a,) * 2)
        stretched[: S * (n - 1) + 1 : S, : S * (n - 1) + 1 : S] = Y  # S - 1 zeros between the inputs, a more after
        pad = d * (F - 1) - P
        plane = np.pad(stretched, pad, constant_values=-1)  # -1: padding; 0: inserted zero; 1: input
        plane[pad + S * (n - 1) + 1 :, :][plane[pad + S * (n - 1) + 1 :, :] == 0] = -1  # the a rows: padding
        plane[:, pad + S * (n - 1) + 1 :][plane[:, pad + S * (n - 1) + 1 :] == 0] = -1  # and columns
        taps = window_positions(stretched.shape[0], F, S=1, P=pad, dilation=d)
        kinds = np.where(plane == 1, "input", np.where(plane == 0, "zero", "pad")).astype(object)
    else:
        exact = (n + 2 * P - d * (F - 1) - 1) % S == 0
        out = (pool_output_size if case.pool else output_size)(n, F, S=S, P=P, dilation=d, exact=exact)
        taps = window_positions(n, F, S=S, P=P, dilation=d, exact=exact)
        kinds = np.full((n + 2 * P,) * 2, "pad", dtype=object)
        kinds[P : P + n, P : P + n] = "input"
    read = np.zeros(kinds.shape, dtype=bool)
    for start_row in range(0, kinds.shape[0] - d * (F - 1), S if not case.transposed else 1):  # counted, no view
        for start_col in range(0, kinds.shape[1] - d * (F - 1), S if not case.transposed else 1):
            read[start_row : start_row + d * (F - 1) + 1 : d, start_col : start_col + d * (F - 1) + 1 : d] = True
    kinds[~read] = "drop"
    return out, taps, kinds


def test_the_animations_cover_every_relationship_of_the_guide():
    names = {case.name for case in arithmetic.CASES}
    assert len(names) == len(arithmetic.CASES) and set(arithmetic.STRIPS) == names
    transposed = {case.name for case in arithmetic.CASES if case.transposed}
    assert len(transposed) >= 4 and any(case.dilation == 2 for case in arithmetic.CASES)
    settings = {(case.transposed, case.S > 1, case.P > 0, case.dilation > 1, case.pool) for case in arithmetic.CASES}
    assert {(False, False, False, False, False), (False, False, True, False, False), (False, True, False, False, False),
            (False, True, True, False, False), (False, False, False, True, False), (False, False, False, False, True),
            (True, True, False, False, False), (True, True, True, False, False)} <= settings


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_animation_frames_are_the_layers_windows(case):
    """One frame per output number, in row-major order; frame k moves the first window onto window k."""
    svg = _svg(case.name)
    out, taps, kinds = _expected(case)
    x0, y0, c, drawn = _plane(svg)
    np.testing.assert_array_equal(drawn, kinds)
    window = re.search(r'@keyframes window \{(.*?)\}\s*\n', svg)[1]
    frames = KEYFRAME.findall(window)[:-1]  # the last keyframe, 100%, holds the last frame
    assert len(frames) == out * out
    for k, (percent, dx, dy) in enumerate(frames):
        i, j = divmod(k, out)
        assert float(percent) == pytest.approx(100 * k / out**2, abs=0.01)
        shift = taps[i, j, 0, 0] - taps[0, 0, 0, 0]
        assert (round(float(dy) / c, 6), round(float(dx) / c, 6)) == (shift[0], shift[1])
    moving = re.search(r'<g class="w">(.*?)</g>', svg)[1]
    first = sorted((round((float(y) - 1 - y0) / c), round((float(x) - 1 - x0) / c))
                   for x, y in re.findall(r'<rect class="tap" x="([\d.]+)" y="([\d.]+)"', moving))
    assert first == sorted(map(tuple, taps[0, 0].reshape(-1, 2).tolist()))  # dilated taps included
    output = KEYFRAME.findall(re.search(r'@keyframes output \{(.*?)\}\s*\n', svg)[1])[:-1]
    assert [(round(float(dy) / c), round(float(dx) / c)) for _p, dx, dy in output] == [
        divmod(k, out) for k in range(out * out)]
    assert f"= {out}" in svg and f"{out} by {out} output" in figures()[case.name][1]


def test_the_pooling_page_prints_the_animations_numbers():
    """docs/arithmetic/convolution.md says its max_pool snippet uses the animation's numbers: the same seed."""
    page = (ROOT / "docs/arithmetic/convolution.md").read_text()
    assert page.count(f"np.random.default_rng({arithmetic.POOL_SEED}).integers(0, 10, size=(5, 5, 1))") == 1
    X, V = arithmetic.pool_numbers(arithmetic.BY_NAME["arith-pooling"])
    assert ", ".join(f"{v:.0f}." for v in V[0]) in page  # its first row, as NumPy prints it


def test_only_the_floored_case_leaves_cells_unread():
    unread = {case.name: int((_expected(case)[2] == "drop").sum()) for case in arithmetic.CASES}
    assert {name for name, n in unread.items() if n} == {"arith-padding-strides-odd"}
    assert "row 7 and column 7" in figures()["arith-padding-strides-odd"][1]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_reduced_motion_stills_the_animation_and_the_strip_never_moves(case):
    svg, strip = _svg(case.name), _svg(f"{case.name}-frames")
    assert re.search(r"\.w \{ animation: window [\d.]+s step-end infinite; \}", svg)
    assert "@media (prefers-reduced-motion: reduce) { .w, .o { animation: none; } }" in svg
    assert "animation" not in strip and "@keyframes" not in strip
    out = _expected(case)[0]
    frames = arithmetic.shown_frames(out)
    assert frames[0] == (0, 0) and frames[-1] == (out - 1, out - 1) and len(frames) == 4
    assert strip.count('class="tap"') == len(frames) * case.F**2 and strip.count('class="cur"') == len(frames)
    for i, j in frames:
        assert f"output ({i}, {j})" in strip


def _texts(svg):
    """(text, x0, y0, x1, y1) of every <text>, its box estimated (DejaVu Sans: under 0.62 em a character)."""
    default = float(re.search(r"text \{[^}]*font-size: ([\d.]+)px", svg)[1])
    boxes = []
    for attrs, text in re.findall(r"<text([^>]*)>([^<]*)</text>", svg):
        x, y = float(re.search(r'x="([\d.]+)"', attrs)[1]), float(re.search(r'y="([\d.]+)"', attrs)[1])
        size = float(m[1]) if (m := re.search(r"font-size: ([\d.]+)px", attrs)) else default
        size += 1 if 'class="t"' in attrs else 0
        w = 0.62 * size * len(text.replace("&amp;", "&"))
        if 'class="v"' in attrs:  # centred on (x, y)
            boxes.append((text, x - w / 2, y - size / 2, x + w / 2, y + size / 2))
        else:  # from x, on the baseline y
            boxes.append((text, x, y - 0.8 * size, x + w, y + 0.25 * size))
    return boxes


@pytest.mark.parametrize("name", sorted(ANIMATED))
def test_animation_texts_neither_overlap_nor_leave_the_card(name):
    svg = _svg(name)
    W, H = (float(v) for v in re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', svg).groups())
    boxes = _texts(svg)
    assert boxes
    for n, (text, x0, y0, x1, y1) in enumerate(boxes):
        assert x0 >= 0 and y0 >= 0 and x1 <= W and y1 <= H, f"{name}: {text!r} leaves the card"
        for other, a0, b0, a1, b1 in boxes[n + 1:]:
            assert not (x0 < a1 and a0 < x1 and y0 < b1 and b0 < y1), f"{name}: {text!r} overlaps {other!r}"


@pytest.mark.parametrize("name", sorted(ANIMATED))
def test_animation_text_is_legible_on_a_phone(name):
    """At 375 px, Material's content inside a box is about 317 px wide: 300 px leaves a margin (the browser
    test measures the real width). Every text must be at least 9 CSS px there."""
    svg = _svg(name)
    sizes = [float(v) for v in re.findall(r"font-size: ([\d.]+)px", svg)]
    assert min(sizes) * 300 / _viewbox_width(svg) >= 9


def test_an_animation_becomes_a_picture_with_its_frames_under_reduced_motion_and_a_pause_button():
    name, strip = "arith-dilation", arithmetic.STRIPS["arith-dilation"]
    sizes = {name: svg_size(_svg(name)), strip: svg_size(_svg(strip))}
    html = size_images(f'<figure><img alt="" src="../graphs/dl/cnn/{name}.svg" width="300" /></figure>', sizes)
    (w, h), (sw, sh) = sizes[name], sizes[strip]
    assert html == (
        f'<figure><span class="cnnref-figure"><picture class="cnnref-animation">'
        f'<source media="(prefers-reduced-motion: reduce)" data-media="(prefers-reduced-motion: reduce)" '
        f'srcset="../graphs/dl/cnn/{strip}.svg" width="300" height="{round(300 * sh / sw)}">'
        f'<img alt="{figures()[name][1]}" src="../graphs/dl/cnn/{name}.svg" width="300" height="{round(300 * h / w)}" '
        f'decoding="async" /></picture></span>'
        f'<a class="cnnref-figure-open" href="../graphs/dl/cnn/{name}.svg">Open full size ({name}.svg)</a>'
        f'<button type="button" class="cnnref-animation-toggle" aria-pressed="false">Pause</button></figure>')
    assert svg_size(_svg(name))[0] == arithmetic.WIDTH  # written in pt, shown in px

