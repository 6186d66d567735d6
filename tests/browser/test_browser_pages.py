"""Every page of the built site, in headless Chromium: clean, offline, linked, typeset, accessible, narrow.

Parametrized over the site's pages (page_path, see conftest.py); each page is loaded once per
setting (desktop light, desktop dark, 375 px) and every test asserts one property of what it showed.
"""

import html
import re

import pytest
from sitecheck import (
    AXE_TAGS,
    COLOUR_RULES,
    TOGGLE_AUDIT_PAGE,
    DESKTOP,
    GENERIC_ALT,
    LIGHTHOUSE_RULES,
    PHONE,
    LinkChecker,
    discover_pages,
    site_pages,
    sitemap_pages,
)

SETTINGS = [("light", DESKTOP), ("dark", DESKTOP), ("light", PHONE)]
SETTING_IDS = ["light", "dark", "phone"]


def listing(items) -> str:
    return "".join(f"\n  - {item}" for item in items)


def expect_none(found, message):
    """Fail with the message and every offending item, without pytest's repr of the whole visit."""
    if found:
        pytest.fail(f"{message}:{listing(found)}", pytrace=False)


def test_every_built_page_is_tested(site_dir):
    """The pages the tests were collected for are exactly the built site's pages, and the sitemap's."""
    built, tested = discover_pages(site_dir), site_pages()
    missing = sorted(set(built) - set(tested))
    expect_none(missing, "built pages no browser test visits")
    expect_none(sorted(set(tested) - set(built)), "tested pages that are not in the build")
    unknown = sorted(set(sitemap_pages(site_dir)) - set(built))
    expect_none(unknown, "sitemap.xml lists pages that were not built")


@pytest.mark.parametrize(("scheme", "width"), SETTINGS, ids=SETTING_IDS)
def test_no_console_or_page_errors(visit, page_path, scheme, width):
    shown = visit(page_path, scheme, width)
    expect_none(shown.page_errors, f"{shown.name}: uncaught JavaScript errors")
    expect_none(shown.console_errors, f"{shown.name}: console errors")


@pytest.mark.parametrize(("scheme", "width"), SETTINGS, ids=SETTING_IDS)
def test_no_request_leaves_the_site(visit, page_path, scheme, width):
    shown = visit(page_path, scheme, width)
    assert shown.requests, f"{shown.name}: no request was recorded at all"
    outside = sorted({url for url in shown.requests if not visit.local(url)})
    expect_none(outside, f"{shown.name}: requests to hosts other than {visit.origin}")


def test_every_request_succeeds(visit, page_path):
    shown = visit(page_path)
    expect_none(shown.failed, f"{shown.name}: failed requests to the site")


def test_no_broken_image(visit, page_path):
    shown = visit(page_path)
    broken = [f"{img['desc']} ({img['src']})" for img in shown.shown["images"] if img["naturalWidth"] == 0]
    expect_none(broken, f"{shown.name}: images that did not load (naturalWidth 0)")


def test_every_image_has_alt_text(visit, page_path):
    shown = visit(page_path)
    missing = [img["desc"] for img in shown.shown["images"] if not img["hidden"] and not (img["alt"] or "").strip()]
    expect_none(missing, f"{shown.name}: <img> without alt text")
    generic = [f"{img['desc']}: alt={img['alt']!r}" for img in shown.shown["images"]
               if GENERIC_ALT.match((img["alt"] or "").strip())]
    expect_none(generic, f"{shown.name}: alt text that does not say what the image shows")
    expect_none(shown.shown["unnamed"], f"{shown.name}: role=img without a name")


def test_internal_links_and_anchors_resolve(visit, page_path, site_dir):
    shown = visit(page_path)
    broken = LinkChecker(site_dir, visit.base_url).problems(shown)
    expect_none(broken, f"{shown.name}: broken internal links")


def test_every_formula_is_typeset(visit, page_path):
    shown = visit(page_path)
    math = shown.shown["math"]
    expect_none(math["raw"], f"{shown.name}: raw TeX in the visible text")
    expect_none(math["untypeset"], f"{shown.name}: .arithmatex left without KaTeX output")
    expect_none(math["errors"], f"{shown.name}: formulas KaTeX could not parse")


def formulas_in_html(site_dir, path) -> int:
    built = (site_dir / path.lstrip("/") / ("index.html" if path.endswith("/") else "")).read_text(encoding="utf-8")
    return len(re.findall(r'<annotation\b[^>]*\bencoding="application/x-tex"', built))


def test_every_formula_built_is_shown_typeset(visit, page_path, site_dir):
    shown = visit(page_path)
    built = formulas_in_html(site_dir, page_path)
    assert shown.shown["math"]["typeset"] == built, (
        f"{shown.name}: {shown.shown['math']['typeset']} typeset formulas shown, {built} in the built HTML")


def test_the_notes_pages_have_formulas(site_dir):
    """Guards the checks above against passing vacuously: the CNN notes are full of formulas."""
    counts = {path: formulas_in_html(site_dir, path) for path in discover_pages(site_dir) if path.startswith("/dl/cnn/")}
    assert len(counts) > 1 and sum(counts.values()) >= 60, f"formulas per notes page: {counts}"
    assert counts.get("/dl/cnn/conv-layer/", 0) >= 20, f"formulas per notes page: {counts}"


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_wcag_a_or_aa_violation(visit, page_path, scheme):
    shown = visit(page_path, scheme)
    palette = shown.palette
    if scheme == "dark":
        light = visit(page_path, "light").palette
        assert palette["toggle"], f"{shown.name}: no palette toggle, so no dark scheme to test"
        assert palette["clicks"], f"{shown.name}: the page was dark before the toggle was clicked"
        assert palette["scheme"] != light["scheme"] and palette["luminance"] < 0.3, (
            f"{shown.name}: the dark scheme did not apply: data-md-color-scheme {palette['scheme']!r} "
            f"(light: {light['scheme']!r}), background luminance {palette['luminance']:.2f}"
        )
    else:
        assert palette["luminance"] > 0.5, f"{shown.name}: light scheme background is dark ({palette})"
    # In light every rule runs; in dark the rules a scheme can change (colours; all of them on its toggle).
    wanted = set(COLOUR_RULES) | ({"image-alt", "label", "heading-order", "target-size"} if scheme == "light" else set())
    expect_none(sorted(wanted - shown.axe_ran), f"{shown.name}: axe rules that did not run")
    wcag = [v for v in shown.axe if set(v["tags"]) & set(AXE_TAGS)]
    expect_none(axe_report(wcag), f"{shown.name}: axe-core WCAG 2.1 A/AA violations")


def test_opened_details_show_dark_colours_at_once(visit, page_path):
    """Code in a collapsed box keeps the light scheme's colours until it is opened; it must not fade from them."""
    shown = visit(page_path, "dark")
    counts = {}
    for what in shown.fading:
        counts[what] = counts.get(what, 0) + 1
    expect_none([f"{n} x {what}" for what, n in sorted(counts.items())], f"{shown.name}: fades after opening <details>")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_nothing_lighthouse_accessibility_weighs(visit, page_path, scheme):
    """Lighthouse's accessibility score (target 100) also weighs some axe best-practice and WCAG 2.2 rules
    (in dark: on the palette toggle, the one part of a page a scheme changes besides its colours; the same
    markup on every page, audited on TOGGLE_AUDIT_PAGE)."""
    shown = visit(page_path, scheme)
    if scheme == "dark" and page_path != TOGGLE_AUDIT_PAGE:
        assert shown.axe_ran == set(COLOUR_RULES), f"{shown.name}: {sorted(shown.axe_ran)}"
        return
    expect_none(sorted(LIGHTHOUSE_RULES - shown.axe_ran), f"{shown.name}: axe rules that did not run")
    extra = [v for v in shown.axe if v["id"] in LIGHTHOUSE_RULES and not set(v["tags"]) & set(AXE_TAGS)]
    expect_none(axe_report(extra), f"{shown.name}: axe-core violations Lighthouse's accessibility score counts")


@pytest.mark.parametrize("path", ["/api/"])  # the page's unit of work (its visits are loaded once: conftest.py)
def test_the_audited_source_listings_show_every_highlighting_class(visit, path, site_dir):
    """The audit opens a few of the API page's source listings (sitecheck.OPEN_DETAILS_JS): together they must
    show every class any listing is coloured by, read here from the built HTML, and the listing with the
    longest line."""
    built = (site_dir / "api" / "index.html").read_text(encoding="utf-8")
    listings = re.findall(r'<template class="cnnref-source">(.*?)</template>', built, re.S)
    classes = [{c for attr in re.findall(r'class="([^"]*)"', listing) for c in attr.split()} for listing in listings]
    code = [re.search(r'<td class="code">.*?<pre>(.*?)</pre>', listing, re.S)[1] for listing in listings]
    longest = [max(len(line) for line in html_text(text).split("\n")) for text in code]
    for scheme in ("light", "dark"):
        audited = visit(path, scheme).sources
        assert audited and audited["total"] == len(listings) > 50, f"{path} ({scheme}): {audited}"
        shown = set().union(*(classes[i] for i in audited["opened"]))
        expect_none(sorted(set().union(*classes) - shown), f"{path} ({scheme}): classes no audited listing shows")
        assert max(longest[i] for i in audited["opened"]) == max(longest), f"{path} ({scheme}): {audited['opened']}"
        assert len(audited["opened"]) <= len(listings) // 4, f"{path}: {len(audited['opened'])} listings opened"


def html_text(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]*>", "", fragment))


def axe_report(violations) -> list[str]:
    return [
        f"{v['id']} ({v['impact']}): {v['help']}"
        + "".join(f"\n      {n['target']}  {n['html']}\n        {n['summary']}" for n in v["nodes"][:8])
        + (f"\n      ... and {len(v['nodes']) - 8} more" if len(v["nodes"]) > 8 else "")
        for v in violations
    ]


def test_no_horizontal_overflow_at_375px(visit, page_path):
    shown = visit(page_path, "light", PHONE)
    overflow = shown.overflow
    assert overflow["width"] == PHONE, f"{shown.name}: viewport is {overflow['width']} px, not {PHONE}"
    assert overflow["scrollWidth"] <= overflow["width"], (
        f"{shown.name}: page is {overflow['scrollWidth']} px wide in a {overflow['width']} px viewport; "
        f"widest elements:{listing(overflow['culprits'])}"
    )
