"""Math is typeset at build time: no raw TeX is left on a page, and every formula is KaTeX's MathML."""

from __future__ import annotations

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


def test_math_is_typeset_as_mathml(built_site):
    """KaTeX's MathML only: the browser lays it out, so no KaTeX stylesheet, font or HTML rendering."""
    for page in html_pages(built_site):
        html = page.read_text(encoding="utf-8")
        name = page.relative_to(built_site)
        assert "katex.min.css" not in html and "katex-html" not in html, name
        # Every formula KaTeX typeset is one <math> element with its TeX kept as an annotation.
        formulas = html.count('<span class="katex">')
        assert html.count("<math") == formulas == html.count('encoding="application/x-tex"'), name
        assert "katex-error" not in html and "<merror" not in html, name
    home = (built_site / "index.html").read_text(encoding="utf-8")
    assert '<span class="katex"><math' in home  # the home page's formula
    assert not (built_site / "assets" / "katex").exists()
