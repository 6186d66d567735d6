"""The figures and the convolution demo: they render, deterministically, with alt text, from cnnref's numbers,
and the MkDocs hook refuses references it cannot serve."""

import hashlib
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from xml.etree import ElementTree

import markdown
import numpy as np
import pytest
from matplotlib.figure import Figure
from mkdocs.exceptions import PluginError

from cnnref import conv2d_naive, output_size, zero_pad
from graphs._style import render
from hooks.figures import (check_figure_links, figures, insert_demo, legible_width, replace_markers, size_images,
                           svg_size)

ROOT = Path(__file__).resolve().parents[1]
# The figure names the notes page links (COMMON.md's agreed layout).
NAMES = {"cnn_dice", "conv-continuous", "conv-impulse-sum", "conv-stride", "conv-padding", "cnn-architecture",
         "cnn-activations", "maxpool", "im2col", "fc-to-conv"}
PLACEHOLDER_ALTS = {"", "image title", "image", "figure", "alt", "alt text", "todo", "tbd", "placeholder"}


def test_every_agreed_figure_exists_once():
    assert set(figures()) == NAMES


@pytest.mark.parametrize("name", sorted(NAMES))
def test_figure_renders_to_the_same_svg_twice(name):
    draw, _alt = figures()[name]
    assert isinstance(draw(), Figure)
    first, second = render(draw), render(draw)
    assert first.startswith("<?xml") and "<svg" in first and first.rstrip().endswith("</svg>")
    assert first == second
    root = ElementTree.fromstring(first.encode())  # well-formed XML
    assert root.tag == "{http://www.w3.org/2000/svg}svg" and root.get("viewBox")
    assert len(first.encode()) < 200_000, "keep the SVGs small: the page loads all of them"
    assert "<dc:date>" not in first, "a date in the metadata changes every build"
    # nothing fetched from elsewhere: the only URLs are XML namespaces and the DTD
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", first))
    assert urls <= {"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd", "http://www.w3.org/1999/xlink",
                    "http://www.w3.org/2000/svg", "http://purl.org/dc/elements/1.1/", "http://creativecommons.org/ns#",
                    "http://www.w3.org/1999/02/22-rdf-syntax-ns#", "http://purl.org/dc/dcmitype/StillImage",
                    "https://matplotlib.org/"}, urls


def test_figures_are_identical_in_a_fresh_process():
    """Byte-identical from build to build, not only within one process (hash salt, no date, fixed seeds)."""
    here = {name: hashlib.sha256(render(draw).encode()).hexdigest() for name, (draw, _) in figures().items()}
    code = ("import hashlib, json; from hooks.figures import figures; from graphs._style import render; "
            "print(json.dumps({n: hashlib.sha256(render(d).encode()).hexdigest() for n, (d, _) in figures().items()}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert json.loads(out.stdout) == here


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
    """{figure name: the width in CSS px the notes display it at} (their `{ width="N" }`, else 600)."""
    widths = {}
    for page in (ROOT / "docs").rglob("*.md"):
        for name, width in re.findall(r"graphs/dl/cnn/([^)\s]+)\.svg\)(?:\{\s*width=\"(\d+)\"\s*\})?", page.read_text()):
            widths[name] = min(widths.get(name, 10_000), int(width or 600))
    return widths


@pytest.mark.parametrize("name", sorted(NAMES))
def test_figure_legible_width_keeps_its_text_at_9px_and_fits_the_page(name):
    """On a phone a figure is shown no narrower than legible_width: there its smallest text is 9 CSS px."""
    svg = render(figures()[name][0])
    width = float(re.search(r'<svg[^>]*\bwidth="([\d.]+)pt"', svg)[1])
    smallest = min(float(v) for v in re.findall(r"font-size: ([\d.]+)px", svg))
    least = legible_width(svg)
    assert smallest * least / width >= 9 > smallest * (least - 1) / width
    assert least <= _page_widths().get(name, 600), f"{name}: legible only from {least} px, shown at less on a desktop"


@pytest.mark.parametrize("name", sorted(NAMES))
def test_figure_text_is_at_least_9px_where_the_page_shows_it(name):
    """The SVG's font sizes are in its viewBox units; at the page's display width each must be >= 9 CSS px."""
    svg = render(figures()[name][0])
    width = float(re.search(r'<svg[^>]*\bwidth="([\d.]+)pt"', svg)[1])
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


@pytest.mark.parametrize("name", sorted(NAMES))
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


def test_demo_is_the_notes_setting(demo_page):
    _, d = demo_page
    assert (d["W1"], d["H1"], d["D1"], d["K"], d["F"], d["S"], d["P"]) == (5, 5, 3, 2, 3, 2, 1)
    assert np.shape(d["X"]) == (5, 5, 3) and np.shape(d["W"]) == (2, 3, 3, 3) and np.shape(d["b"]) == (2,)
    assert np.shape(d["V"]) == (3, 3, 2) and d["W2"] == output_size(5, 3, S=2, P=1) == 3
    assert set(np.unique(d["X"])) <= {0, 1, 2} and set(np.unique(d["W"])) <= {-1, 0, 1}


def test_demo_numbers_equal_conv2d_naive(demo_page):
    _, d = demo_page
    X, W, b = (np.array(d[k], dtype=float) for k in ("X", "W", "b"))
    np.testing.assert_array_equal(np.array(d["V"]), conv2d_naive(X, W, b, S=d["S"], P=d["P"]))
    np.testing.assert_array_equal(np.array(d["X_pad"]), zero_pad(X, d["P"]))


def test_demo_markup_shows_the_embedded_numbers(demo_page):
    html, d = demo_page
    V = np.array(d["V"])
    cells = re.findall(r'data-testid="demo-out-cell" data-i="(\d)" data-j="(\d)" data-k="(\d)"[^>]*>(-?\d+)</button>',
                       html)
    assert len(cells) == V.size
    for i, j, k, v in cells:
        assert int(v) == V[int(i), int(j), int(k)]
    X_pad = np.array(d["X_pad"])
    inputs = re.findall(r'<td data-vol="X_pad" data-i="(\d)" data-j="(\d)" data-d="(\d)"(?: class="is-pad")?>(-?\d+)</td>',
                        html)
    assert len(inputs) == X_pad.size
    assert all(int(v) == X_pad[int(i), int(j), int(dd)] for i, j, dd, v in inputs)
    W = np.array(d["W"])
    weights = re.findall(r'<td data-vol="W(\d)" data-i="(\d)" data-j="(\d)" data-d="(\d)">(-?\d+)</td>', html)
    assert len(weights) == W.size
    assert all(int(v) == W[int(k), int(i), int(j), int(dd)] for k, i, j, dd, v in weights)
    for k, bias in enumerate(d["b"]):
        assert f'data-testid="demo-bias-{k}">{bias}<' in html
    assert not re.search(r"(src|href)=\"https?://", html)


def test_demo_size_table_is_output_size_over_every_choice(demo_page):
    html, d = demo_page
    sizes = d["sizes"]
    for name in ("F", "S", "P"):
        options = re.search(rf'data-param="{name}">(.*?)</select>', html).group(1)
        assert [int(v) for v in re.findall(r'value="(\d+)"', options)] == sizes[name]
    assert len(sizes["table"]) == len(sizes["F"]) * len(sizes["S"]) * len(sizes["P"])
    for f in sizes["F"]:
        for s in sizes["S"]:
            for p in sizes["P"]:
                answer = sizes["table"][f"{f},{s},{p}"]
                try:
                    assert answer == output_size(sizes["W1"], f, S=s, P=p)
                except ValueError as err:
                    assert answer == str(err)
    accepted = {k for k, v in sizes["table"].items() if isinstance(v, int)}
    assert "3,2,1" in accepted and "3,3,0" not in accepted and "7,1,0" not in accepted


def test_demo_size_messages_are_output_sizes_own_words(demo_page):
    """Accepted and refused choices print one format: "(W1 - F + 2P)/S + 1 = (5 - 3 + 2)/2 + 1 = 3", the
    refusal being output_size's own message (written the same way, ending in its verdict)."""
    _, d = demo_page
    sizes = d["sizes"]
    assert set(sizes["messages"]) == set(sizes["table"])
    W1 = sizes["W1"]
    for key, answer in sizes["table"].items():
        f, s, p = (int(v) for v in key.split(","))
        message = sizes["messages"][key]
        if isinstance(answer, int):
            assert message == f"(W1 - F + 2P)/S + 1 = ({W1} - {f} + {2 * p})/{s} + 1 = {answer}"
        else:
            assert message == answer
    refused = sizes["messages"]["4,2,1"]
    assert refused.startswith("(W1 - F + 2P)/S + 1 = (5 - 4 + 2)/2 + 1 = 2.5 ")
    assert sizes["messages"]["3,2,1"] == "(W1 - F + 2P)/S + 1 = (5 - 3 + 2)/2 + 1 = 3"


def test_demo_says_what_the_reader_can_do_and_names_things_once(demo_page):
    html, d = demo_page
    hint = re.search(r'data-testid="demo-hint">(.*?)</p>', html).group(1)
    assert "click" in hint.lower() and "arrow keys" in hint and str(np.size(d["V"])) in hint
    legend = re.search(r"<legend>(.*?)</fieldset>", html, re.S).group(1)
    assert f"stays at F = {d['F']}, S = {d['S']}, P = {d['P']}" in legend
    n = len(d["X_pad"])
    assert f"Input {d['W1']}×{d['H1']}×{d['D1']}, zero-padded (P = {d['P']}) to {n}×{n}×{d['D1']}" in html
    # the filters are W[0], W[1] (W1 is the input's width in the legend and the formula)
    assert "Filter W[0]: 3×3×3" in html and "Filter W[1]: 3×3×3" in html
    assert not re.search(r"Filter W\d|bias b\d|\bW[01]\[:", html)
    assert 'aria-label="W[1, :, :, 2]"' in html and 'aria-label="bias b[1]"' in html


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


def _build(tmp_path, page):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text(page)
    (tmp_path / "mkdocs.yml").write_text(textwrap.dedent(f"""\
        site_name: figures test
        theme: {{name: mkdocs}}
        hooks: [{ROOT / "hooks" / "figures.py"}]
        markdown_extensions: [admonition]
        """))
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q"], cwd=tmp_path, env=env,
                          capture_output=True, text=True)


def test_strict_build_serves_every_figure_and_the_demo(tmp_path):
    page = "# Notes\n\n![](graphs/dl/cnn/maxpool.svg)\n\n" + "\n\n".join(
        f"![{n} figure](graphs/dl/cnn/{n}.svg)" for n in sorted(NAMES))
    run = _build(tmp_path, page + "\n\n" + NOTES_PAGE)
    assert run.returncode == 0, run.stderr
    site = tmp_path / "site"
    for name in NAMES:
        assert (site / "graphs/dl/cnn" / f"{name}.svg").read_text() == render(figures()[name][0])
    assert not list((tmp_path / "docs").rglob("*.svg")), "nothing is written into docs/"
    html = (site / "index.html").read_text()
    assert html.count('data-testid="conv-demo"') == 1
    assert '<img alt="maxpool figure"' in html  # a page's own alt text is kept
    assert f'<img alt="{figures()["maxpool"][1]}"' in html  # an empty one is filled in
    # each figure sits in a box that keeps it legible, followed by a link that says it opens the SVG full size
    figures_ = re.findall(r'<span class="cnnref-figure" style="--cnnref-legible: (\d+)px"><img alt="([^"]+)" src="([^"]+)"'
                          r'[^>]*></span><a class="cnnref-figure-open" href="([^"]+)">Open full size \(([^)]+)\)</a>', html)
    assert len(figures_) == len(NAMES) + 1
    assert all(href == src and (site / href).is_file() and alt and src.endswith("/" + label)
               for _, alt, src, href, label in figures_)
    assert not re.search(r"<a [^>]*>\s*<img", html)  # tapping a figure opens nothing unannounced
    for asset in ("assets/cnnref/conv-demo.js", "assets/cnnref/conv-demo.css"):
        assert (site / asset).is_file() and asset in html


def test_strict_build_fails_on_an_unknown_figure(tmp_path):
    run = _build(tmp_path, "# Notes\n\n![A figure](graphs/dl/cnn/no-such-figure.svg)\n")
    assert run.returncode != 0
    assert "index.md: unknown figure graphs/dl/cnn/no-such-figure.svg" in run.stderr + run.stdout


def test_strict_build_fails_on_an_unknown_marker_naming_page_and_marker(tmp_path):
    run = _build(tmp_path, "# Notes\n\n<!-- cnnref:conv-demos -->\n")
    assert run.returncode != 0
    assert "index.md: <!-- cnnref:conv-demos -->: unknown marker" in run.stderr + run.stdout


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
    w, h = svg_size(render(draw))
    fig = draw()
    assert (w, h) == (round(fig.get_figwidth() * 96), round(fig.get_figheight() * 96))
