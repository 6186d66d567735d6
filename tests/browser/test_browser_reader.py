"""A reader's experience in Chromium (issue 18): search, the open example, tables and code that show they
scroll, figures legible on a phone and opened on purpose, figures in the dark scheme.

Pages are loaded fresh (`open_page`), since these tests type, tap, scroll and take screenshots.
"""

from __future__ import annotations

import io

import pytest
from sitecheck import DESKTOP, PHONE, discover_pages

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


@pytest.mark.parametrize("width", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_search_lists_the_notes_definition_first(open_page, width):
    page = open_page("/", width)
    problems = []
    for term, expected in SEARCH_TERMS.items():
        groups = search(page, term, width)
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


SEARCH_OVERFLOW_JS = r"""
() => {
  const list = document.querySelector('.md-search-result');
  const wide = [...list.querySelectorAll('*')].filter(el => el.getBoundingClientRect().right > window.innerWidth + 0.5
    && getComputedStyle(el).overflowX === 'visible' && el.getClientRects().length);
  return wide.slice(0, 5).map(el => `${el.tagName.toLowerCase()}.${el.className}: right ${Math.round(el.getBoundingClientRect().right)}`);
}
"""


def test_search_results_fit_a_phone(open_page):
    page = open_page("/", PHONE)
    problems = []
    for term in ["im2col", "conv2d_naive", "stride"]:
        search(page, term, PHONE)
        problems += [f"{term!r}: {p}" for p in page.evaluate(SEARCH_OVERFLOW_JS)]
    assert not problems, "search results wider than a 375 px screen:\n" + "\n".join(problems)
