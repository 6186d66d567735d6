"""Math is typeset at build time: no raw TeX is left on a page, and every formula is KaTeX's HTML (with
its stylesheet and fonts, shipped with the site) plus MathML for screen readers."""

from __future__ import annotations

import base64
import re
from functools import cache

import pytest
from bs4 import BeautifulSoup
from fontTools.ttLib import TTFont
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


# KaTeX's fonts, cut down to the characters the site's formulas draw (hooks/katex_math.py, subset_font) -----------

ORIGINALS = katex_math.KATEX / "dist" / "fonts"
PAYLOAD = re.compile(r'atob\("([A-Za-z0-9+/=]*)"\)')


@cache
def _drawn(site) -> set[str]:
    """What KaTeX's fonts draw on the built site, read with an HTML parser: the text of every formula's HTML copy
    (the MathML copy is clipped away), and an equation number's parentheses and digits (KaTeX's stylesheet
    writes them)."""
    drawn = set()
    for page in html_pages(site):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        for copy in soup.find_all("katex-html"):
            drawn |= set(copy.get_text())
            if copy.find(class_="eqn-num"):
                drawn |= set("()0123456789")
    return drawn


def test_the_formulas_draw_a_few_dozen_characters(built_site):
    drawn = _drawn(built_site)
    assert {"x", "W", "2", "=", "\u2211", "\u00d7", "\u03c3"} <= drawn  # x W 2 = sum times sigma
    assert 40 <= len(drawn) <= 400, len(drawn)


@pytest.mark.parametrize("name", [font.stem for font in katex_math.fonts()])
def test_each_katex_font_keeps_exactly_the_characters_the_formulas_draw(built_site, name):
    """cmap = KaTeX's cmap restricted to the site's characters, and every glyph kept is KaTeX's own: outline,
    advance and the font's vertical metrics and names (its licence) unchanged."""
    original = TTFont(ORIGINALS / f"{name}.woff2")
    built = TTFont(built_site / "assets" / "katex" / "fonts" / f"{name}.woff2")
    assert built.flavor == "woff2"
    drawn = {ord(c) for c in _drawn(built_site)} | {ord(" ")}  # a zero-width space is drawn with the space glyph
    assert set(built.getBestCmap()) == set(original.getBestCmap()) & drawn
    for table, fields in {"head": ("unitsPerEm", "xMin", "yMin", "xMax", "yMax", "modified"),
                          "hhea": ("ascent", "descent", "lineGap"),
                          "OS/2": ("sTypoAscender", "sTypoDescender", "sTypoLineGap", "usWinAscent", "usWinDescent")}.items():
        for field in fields:
            assert getattr(built[table], field) == getattr(original[table], field), (table, field)
    assert {(r.nameID, r.toUnicode()) for r in built["name"].names} == {(r.nameID, r.toUnicode()) for r in original["name"].names}
    cmap = original.getBestCmap()
    for u, glyph in built.getBestCmap().items():
        was = cmap[u]
        assert built["hmtx"][glyph] == original["hmtx"][was], chr(u)
        new, old = built["glyf"][glyph], original["glyf"][was]
        assert new.getCoordinates(built["glyf"])[0] == old.getCoordinates(original["glyf"])[0], chr(u)


def test_font_scripts_hold_the_cut_down_fonts_and_a_page_blocks_on_half_the_bytes_or_less(built_site):
    """Each script's payload is the woff2 file the stylesheet serves, byte for byte; no script grew, and the
    notes' Convolutions page (five fonts: 110 KB of scripts before the fonts were cut down) loads less than half
    the bytes the whole fonts took."""
    sizes = {}
    for name in katex_math.LOADABLE:
        script = (built_site / katex_math.FONT_SCRIPTS / f"{name}.js").read_text(encoding="utf-8")
        woff2 = (built_site / "assets" / "katex" / "fonts" / f"{name}.woff2").read_bytes()
        assert [base64.b64decode(payload) for payload in PAYLOAD.findall(script)] == [woff2], name
        whole = katex_math.font_script(name, (ORIGINALS / f"{name}.woff2").read_bytes())
        assert len(script) <= len(whole), name
        sizes[name] = (len(script), len(whole))
    html = (built_site / "dl" / "cnn" / "convolutions" / "index.html").read_text(encoding="utf-8")
    used = katex_math.page_fonts(html)
    assert len(used) >= 4, used
    now, before = (sum(sizes[name][i] for name in used) for i in (0, 1))
    assert now <= before / 2, f"{used}: {now} bytes of font scripts, {before} with the whole fonts"


def test_fonts_are_cut_down_the_same_way_at_every_build(built_site):
    """Byte-identical from build to build (as the figures, tests/test_graphs.py): this process cuts each font down
    to the built site's characters again, and gets the build's bytes."""
    drawn = set()
    for page in html_pages(built_site):
        drawn |= katex_math.drawn_characters(page.read_text(encoding="utf-8"))
    assert drawn == _drawn(built_site)  # the hook's quick reading of the HTML agrees with an HTML parser's
    characters = "".join(sorted(drawn | set(katex_math.ALWAYS)))
    for name in [font.stem for font in katex_math.fonts()]:
        katex_math.subset_font.cache_clear()
        first = katex_math.subset_font(name, characters)
        assert (built_site / "assets" / "katex" / "fonts" / f"{name}.woff2").read_bytes() == first, name
        if name in katex_math.LOADABLE:
            script = (built_site / katex_math.FONT_SCRIPTS / f"{name}.js").read_text(encoding="utf-8")
            assert script == katex_math.font_script(name, first), name
