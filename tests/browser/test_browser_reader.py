"""A reader's experience in Chromium (issue 18): search, the open example, tables and code that show they
scroll, figures legible on a phone and opened on purpose, figures in the dark scheme.

Pages are loaded fresh (`open_page`), since these tests type, tap, scroll and take screenshots; the
figures' text size is measured in the shared 375 px visit of every page (a probe, see sitecheck.py).
"""

from __future__ import annotations

import io

import pytest
from sitecheck import DESKTOP, PHONE, Visitor, discover_pages, probe

# The notes' terms and the section that defines each: search must list it first. (Dilation joins the
# list once the arithmetic page defines it.)
SEARCH_TERMS = {
    "stride": "dl/cnn/conv-layer/#stride",
    "padding": "dl/cnn/conv-layer/#zero-padding",
    "im2col": "dl/cnn/conv-layer/#implementation-as-matrix-multiplication",
    "pooling": "dl/cnn/pooling/#definition-pooling-layer",
    "receptive field": "dl/cnn/conv-layer/#filter-receptive-fields",
    "depth column": "dl/cnn/conv-layer/#local-connectivity-and-the-depth-column",
}

RESULTS_JS = r"""
(base) => [...document.querySelectorAll('.md-search-result__list > .md-search-result__item')].map(item =>
  [...item.querySelectorAll('a.md-search-result__link')].map(a => {
    const url = new URL(a.getAttribute('href'), location.href);
    return url.pathname.slice(base.length) + url.hash;
  }))
"""


def search(page, term: str, width: int) -> list[list[str]]:
    """Type `term` into Material's search box as a reader does; the result groups, each a list of locations."""
    if width < 960 and not page.evaluate("() => document.getElementById('__search').checked"):
        page.locator('label.md-header__button[for="__search"]').click()  # on a phone: the magnifier
    box = page.locator("input.md-search__input")
    box.click()
    box.fill("")
    box.press_sequentially(term, delay=15)
    page.wait_for_function(
        "(term) => document.querySelector('.md-search-result__meta').textContent.trim() !== ''"
        " && document.querySelector('input.md-search__input').value === term", arg=term)
    page.wait_for_timeout(300)  # results render after the meta line
    base = page.evaluate("() => new URL(__md_scope).pathname")  # the site's root, where Material scopes its storage
    return page.evaluate(RESULTS_JS, base)


SEARCH_OVERFLOW_JS = r"""
() => {
  const list = document.querySelector('.md-search-result');
  const wide = [...list.querySelectorAll('*')].filter(el => el.getBoundingClientRect().right > window.innerWidth + 0.5
    && getComputedStyle(el).overflowX === 'visible' && el.getClientRects().length);
  return wide.slice(0, 5).map(el => `${el.tagName.toLowerCase()}.${el.className}: right ${Math.round(el.getBoundingClientRect().right)}`);
}
"""


def test_search_lists_the_notes_definition_first_and_its_results_fit_a_phone(open_page):
    """The ranking is the index's, the same at any width: checked on a desktop; then the same page, narrowed to
    a phone (one load, one index built in the browser), searches again, and no result is wider than the screen."""
    page = open_page("/", DESKTOP)
    problems = []
    for term, expected in SEARCH_TERMS.items():
        groups = search(page, term, DESKTOP)
        assert groups, f"no results for {term!r}"
        first = groups[0]
        shown = first[1] if len(first) > 1 else first[0]
        if shown != expected:
            problems.append(f"{term!r}: first result {shown}, not {expected}; groups: {[g[:2] for g in groups[:4]]}")
        notes_at = next((n for n, g in enumerate(groups) if g[0].startswith("dl/")), None)
        others = [n for n, g in enumerate(groups) if g[0].startswith(("api/", "notebooks/"))]
        if notes_at is None or (others and min(others) < notes_at):
            problems.append(f"{term!r}: API or notebook results above the notes: {[g[0] for g in groups]}")
    assert not problems, "\n".join(problems)

    page.set_viewport_size({"width": PHONE, "height": 800})
    assert page.locator('label.md-header__button[for="__search"]').is_visible()  # a phone's layout: the magnifier
    for term in ["im2col", "conv2d_naive", "stride"]:
        groups = search(page, term, PHONE)
        problems += [f"{term!r}: {p}" for p in page.evaluate(SEARCH_OVERFLOW_JS)]
    assert not problems, "search results wider than a 375 px screen:\n" + "\n".join(problems)
    first = groups[0][1] if len(groups[0]) > 1 else groups[0][0]  # the phone's search ranks as the desktop's
    assert first == SEARCH_TERMS["stride"], f"'stride' on a phone: first result {first}; groups: {groups[:3]}"


# Figures on a phone -------------------------------------------------------------------------------

FIGURE_TEXT_JS = r"""
async () => {
  const out = [];
  for (const img of document.querySelectorAll('article img[src$=".svg"]')) {
    const svg = await (await fetch(img.currentSrc || img.src)).text();
    const width = parseFloat(svg.match(/<svg[^>]*\bwidth="([\d.]+)pt"/)[1]);
    const sizes = [...svg.matchAll(/font-size: ([\d.]+)px/g)].map(m => parseFloat(m[1]));
    if (!sizes.length) continue;
    const shown = img.getBoundingClientRect().width;
    out.push({src: img.getAttribute('src'), shown, smallest: Math.min(...sizes) * shown / width});
  }
  return out;
}
"""


FIGURE_TEXT = probe("figure text", FIGURE_TEXT_JS, widths=(PHONE,))


def test_figure_text_is_at_least_9px_on_a_phone(visit, page_path, site_dir):
    """Measured as the desktop size is (tests/test_graphs.py), from the SVG's own font sizes, at the width shown."""
    shown = visit(page_path, "light", PHONE)
    figures = shown.measured(FIGURE_TEXT)
    html = (site_dir / page_path.lstrip("/") / ("index.html" if page_path.endswith("/") else "")).read_text()
    if 'class="cnnref-figure"' in html:
        assert figures, f"{shown.name}: the page has figures, and no SVG text was measured"
    small = [f"{fig['src']}: smallest text {fig['smallest']:.1f} px at {fig['shown']:.0f} px wide"
             for fig in figures if fig["smallest"] < 9 - 0.05]
    assert not small, f"{shown.name}: figure text under 9 CSS px at 375 px:\n" + "\n".join(small)


def test_tapping_a_figure_opens_nothing_and_a_link_says_it_opens_it_full_size(open_page):
    page = open_page("/dl/cnn/conv-layer/", PHONE)
    figure = page.locator("article figure img").first
    figure.scroll_into_view_if_needed()
    before = page.url.split("#")[0]  # (Material's navigation.tracking puts the section in the #fragment)
    figure.click()
    page.wait_for_timeout(300)
    assert page.url.split("#")[0] == before, f"tapping the figure navigated to {page.url}"
    link = page.locator("article figure a", has_text="Open full size").first
    assert link.is_visible()
    href = link.get_attribute("href")
    assert href == figure.get_attribute("src") and href.endswith(".svg")
    assert link.inner_text().strip() == f"Open full size ({href.rsplit('/', 1)[-1]})"


def test_a_figure_wider_than_a_phone_scrolls_in_a_named_region_with_a_faded_edge(open_page):
    page = open_page("/dl/cnn/conv-layer/", PHONE)
    box = page.locator(".cnnref-figure").first
    box.scroll_into_view_if_needed()
    state = box.evaluate("""b => ({scrolls: b.scrollWidth > b.clientWidth, tab: b.tabIndex, role: b.getAttribute('role'),
        label: b.getAttribute('aria-label'), more: b.getAttribute('data-more'), mask: getComputedStyle(b).maskImage})""")
    assert state["scrolls"] and state["tab"] == 0 and state["role"] == "region" and state["label"].startswith("Figure, scrolls sideways")
    assert state["more"] == "right" and "gradient" in state["mask"], state
    box.evaluate("b => { b.scrollLeft = b.scrollWidth; }")
    page.wait_for_timeout(100)
    assert box.get_attribute("data-more") == "left"


# Tables and code on a phone -------------------------------------------------------------------------

OVERFLOWING_CODE_JS = r"""
() => [...document.querySelectorAll('article pre > code, article .katex-block, article .md-typeset__scrollwrap')]
  .filter(el => el.getClientRects().length && el.scrollWidth > el.clientWidth + 1)
  .map(el => ({text: el.textContent.trim().slice(0, 50), tab: el.tabIndex, overflow: getComputedStyle(el).overflowX,
               background: getComputedStyle(el).backgroundImage, attachment: getComputedStyle(el).backgroundAttachment}))
"""


def _right_edge_colour(png: bytes) -> tuple:
    """The most common colour of the 6 px column at an element screenshot's right edge (the background)."""
    from collections import Counter

    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    w, h = image.size
    strip = image.crop((w - 6, 0, w - 2, h))
    return Counter(strip.getpixel((x, y)) for x in range(strip.width) for y in range(strip.height)).most_common(1)[0][0]


@pytest.mark.parametrize("path", ["/dl/cnn/architecture/", "/dl/cnn/fc-layer/", "/dl/cnn/conv-layer/"])
def test_output_that_does_not_fit_a_phone_shows_it_scrolls(open_page, path):
    """The notes' printed tables (cifar10_net().table(), AlexNet's) and error messages scroll in their
    block: focusable, and with a shadow on the edge where more is hidden."""
    page = open_page(path, PHONE)
    page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")
    page.wait_for_timeout(200)
    blocks = page.evaluate(OVERFLOWING_CODE_JS)
    assert blocks, f"{path}: nothing overflows at 375 px, so nothing to check"
    problems = [b["text"] for b in blocks if b["tab"] < 0 or b["overflow"] not in ("auto", "scroll")
                or b["background"].count("gradient") < 4 or "local" not in b["attachment"]]
    assert not problems, f"{path}: blocks that scroll without a cue or a tab stop: {problems}"
    # The cue is visible: the right edge of a block that scrolls differs from the same edge once scrolled to the end.
    block = page.locator("article pre > code").filter(has_text="total").first if path != "/dl/cnn/conv-layer/" \
        else page.locator("article pre > code").filter(has_text="does not tile").first
    block.scroll_into_view_if_needed()
    at_start = _right_edge_colour(block.screenshot())
    block.evaluate("c => { c.scrollLeft = c.scrollWidth; }")
    page.wait_for_timeout(100)
    at_end = _right_edge_colour(block.screenshot())
    assert at_start != at_end and sum(at_start) < sum(at_end), f"{path}: no shadow at the right edge: {at_start} vs {at_end}"


def test_the_architecture_page_shows_its_example_without_a_click(open_page):
    page = open_page("/dl/cnn/architecture/", DESKTOP)
    table = page.locator("article pre > code").filter(has_text="CONV K=12 F=3 S=1 P=1").first
    assert table.is_visible(), "the CIFAR-10 table is hidden (in a closed box?)"
    for name in ("cnn-architecture.svg", "cnn-activations.svg"):
        image = page.locator(f'article img[src$="{name}"]')
        assert image.is_visible() and image.evaluate("i => i.closest('details:not([open])') === null"), name


# Figures in the dark scheme ---------------------------------------------------------------------------

# Figures that are matplotlib plots: the notebooks' and the Performance page's (the notes' own figures are
# drawn on a light card on purpose, graphs/_style.py).
PLOTS = "article .jp-OutputArea-output img, article .cnnref-plot, article img[src*='graphs/performance/']"
PLOT_TEXT_JS = r"""
(selector) => [...document.querySelectorAll(selector)].flatMap(p => [...p.querySelectorAll('text')].slice(0, 3))
  .map(t => getComputedStyle(t).fill)
"""


def _bright_share(png: bytes) -> float:
    """The share of an element screenshot's pixels that are near white (relative luminance > 0.8)."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("L")
    pixels = [image.getpixel((x, y)) for x in range(0, image.width, 2) for y in range(0, image.height, 2)]
    return sum(v > 230 for v in pixels) / len(pixels)


def _luminance(css: str) -> float:
    import re

    r, g, b = (int(v) / 255 for v in re.findall(r"[\d.]+", css)[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


@pytest.mark.parametrize("path", ["/notebooks/loops-to-blas/", "/notebooks/sliding-convnet/", "/notebooks/training/",
                                  "/performance/"])
def test_plots_take_the_dark_scheme(open_page, path):
    page = open_page(path, DESKTOP, "dark")
    assert page.evaluate("() => document.body.getAttribute('data-md-color-scheme')") == "slate"
    plots = page.locator(PLOTS)
    assert plots.count() >= 1, f"{path}: no plot found"
    bright = []
    for n in range(plots.count()):
        plot = plots.nth(n)
        plot.scroll_into_view_if_needed()
        share = _bright_share(plot.screenshot())
        if share > 0.25:
            bright.append(f"plot {n + 1}: {share:.0%} of it near white")
    assert not bright, f"{path}: bright panels in the dark scheme: {bright}"
    fills = page.evaluate(PLOT_TEXT_JS, PLOTS)
    assert fills and all(_luminance(f) > 0.5 for f in fills), f"{path}: plot text not light on dark: {fills}"
    Visitor.switch_scheme(page, dark=False)  # the reader's toggle, back to light
    fills = page.evaluate(PLOT_TEXT_JS, PLOTS)
    assert fills and all(_luminance(f) < 0.2 for f in fills), f"{path}: plot text not dark on light: {fills}"


API_ENTRIES_JS = r"""
() => {
  const boxes = [...document.querySelectorAll('.doc-function > .doc-contents, .doc-attribute > .doc-contents')];
  const drawn = boxes.filter(box => box.firstElementChild && box.firstElementChild.checkVisibility({contentVisibilityAuto: true}));
  const headings = [...document.querySelectorAll('.doc-function > .doc-heading[id]')];
  return {boxes: boxes.length, drawn: drawn.length, middle: headings[Math.floor(headings.length / 2)].id,
          code: boxes.filter(box => !drawn.includes(box)).flatMap(box => [...box.querySelectorAll('pre > code')])
                .filter(code => !code.hasAttribute('tabindex')).length};
}
"""


def test_api_entries_far_from_the_screen_wait_unrendered_and_links_still_land_on_them(open_page):
    """docs/stylesheets/extra.css: an API entry's contents are styled and laid out only near the screen, and
    no script of ours measures them all at load (scroll-regions.js measures each code block when it is laid
    out): at load on a phone, a few of the ~100 entries are drawn. A link to the last entry lands on its
    heading, which stays put while the entries around it are drawn."""
    page = open_page("/api/", PHONE)
    state = page.evaluate(API_ENTRIES_JS)
    assert state["boxes"] >= 90 and state["drawn"] <= 10, f"entries drawn at load: {state['drawn']} of {state['boxes']}"
    assert state["code"] == 0, "a code block not yet measured must be focusable (it may scroll)"
    url = page.url.split("#")[0]
    page.goto("about:blank")
    page.goto(f"{url}#{state['middle']}", wait_until="load")
    top = f"() => document.getElementById({state['middle']!r}).getBoundingClientRect().top"
    page.wait_for_timeout(1200)  # open-target.js follows the target for a second while the entries around it are drawn
    first = page.evaluate(top)
    page.wait_for_timeout(500)
    assert 0 <= first <= 200 and abs(page.evaluate(top) - first) < 1, (first, page.evaluate(top))
