"""Math is typeset at build time: no raw TeX is left on a page, and every formula is KaTeX's HTML (with
its stylesheet and fonts, shipped with the site) plus MathML for screen readers."""

from __future__ import annotations

import base64
import re

from sitetools import html_pages, scan

from hooks import katex_math


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


def test_a_page_with_formulas_loads_the_katex_fonts_they_use_before_it_is_drawn(built_site):
    """A late font must not move the text (hooks/katex_math.py, page_fonts): every page with a formula runs,
    in <head>, a script per KaTeX font its formulas use, KaTeX_Main-Regular first and KaTeX_Math-Italic when
    a formula has an italic letter; each script is served and adds that font's bytes as a FontFace."""
    checked = 0
    for page in html_pages(built_site):
        html = page.read_text(encoding="utf-8")
        head = html[: html.index("</head>")]
        scripts = re.findall(r'<script src="([^"]*assets/katex/fontface/[^"]+)"></script>', html)
        if '<span class="katex">' not in html:
            assert not scripts, page
            continue
        assert all(f'<script src="{src}"></script>' in head for src in scripts), page
        names = [src.rsplit("/", 1)[1] for src in scripts]
        assert names[0] == "KaTeX_Main-Regular.js", page
        assert ("KaTeX_Math-Italic.js" in names) == ('class="mord mathnormal' in html), page
        for src in scripts:
            script = (page.parent / src).resolve().read_text(encoding="utf-8")
            woff2 = built_site / "assets" / "katex" / "fonts" / src.rsplit("/", 1)[1].replace(".js", ".woff2")
            assert base64.b64encode(woff2.read_bytes()).decode() in script and "new FontFace(" in script, src
        checked += 1
    assert checked >= 10


def test_every_font_class_of_a_formula_has_its_font_loaded_by_script(built_site):
    """A formula in a font the hook does not load by script (\\mathcal, \\mathsf, ...) would be laid out before
    its font arrives: KaTeX's classes that name a font of their own are all among hooks/katex_math.py's."""
    css = (built_site / "assets" / "katex" / "katex.min.css").read_text(encoding="utf-8")
    own_font = {cls for rule in re.findall(r"((?:\.katex \.[\w-]+,?)+)\{font-family:", css)
                for cls in re.findall(r"\.katex \.([\w-]+)", rule)}
    assert {"mathnormal", "mathcal", "mathbb"} <= own_font, "KaTeX's stylesheet changed: read its font rules again"
    loaded = {cls for marks in katex_math.FONT_CLASSES.values() for cls in marks} | {"textrm", "mainrm"}  # KaTeX_Main
    unloaded = {}
    for page in html_pages(built_site):
        html = page.read_text(encoding="utf-8")
        used = {cls for names in re.findall(r'class="([^"]*)"', html) for cls in names.split()}
        if missing := (used & own_font) - loaded:
            unloaded[str(page.relative_to(built_site))] = sorted(missing)
    assert not unloaded, f"formulas in fonts not loaded before the page is drawn (add them to FONT_CLASSES): {unloaded}"
