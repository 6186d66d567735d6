"""Math is typeset at build time: no raw TeX is left on a page, and every formula is KaTeX's HTML (with
its stylesheet and fonts, shipped with the site) plus MathML for screen readers."""

from __future__ import annotations

import re

from sitetools import html_pages, scan


RAW_MATH = ("$$", "\\(", "\\)", "\\[", "\\]", "\\begin{")


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
        # The HTML copy is hidden from screen readers and from search (a <katex-html> element: see hooks/katex_math.py).
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


def test_a_page_with_formulas_preloads_the_katex_fonts_they_use(built_site):
    """KaTeX's fonts arrive before the page is laid out (no layout shift when they do): every page with a
    formula preloads KaTeX_Main-Regular, and KaTeX_Math-Italic when a formula has an italic letter; each
    preloaded font is served."""
    checked = 0
    for page in html_pages(built_site):
        html = page.read_text(encoding="utf-8")
        preloads = re.findall(r'<link rel="preload" href="([^"]+)" as="font" type="font/woff2" crossorigin>', html)
        if '<span class="katex">' not in html:
            assert not preloads, page
            continue
        names = [href.rsplit("/", 1)[1] for href in preloads]
        assert names[0] == "KaTeX_Main-Regular.woff2", page
        assert ("KaTeX_Math-Italic.woff2" in names) == ('class="mord mathnormal' in html), page
        assert all((page.parent / href).resolve().is_file() for href in preloads), page
        checked += 1
    assert checked >= 10
