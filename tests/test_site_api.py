"""The API reference: every public name has its entry, docstring examples render as code, source listings
are shown but kept out of search, and every link into the reference lands on the object it names."""

from __future__ import annotations

import re

import cnnref

from sitetools import DOCS, ROOT, load_module


def test_api_reference_documents_every_public_name(built_site):
    api = (built_site / "api" / "index.html").read_text(encoding="utf-8")
    ids = {name: f"{getattr(cnnref, name).__module__}.{name}" for name in cnnref.__all__}
    missing = [ident for ident in ids.values() if f'id="{ident}"' not in api]
    assert not missing, f"not in the API reference: {missing}"
    assert "<blockquote>" not in api  # doctests must render as code, not as nested quotes


def test_api_reference_shows_every_module_in_the_package_order(built_site):
    """hooks/api.py expands docs/api.md's marker: a new module of cnnref.MODULES needs no edit of the page."""
    api = (built_site / "api" / "index.html").read_text(encoding="utf-8")
    shown = [m for m in re.findall(r'\bid="cnnref\.(\w+)"', api)]
    expected = [name for name in cnnref.MODULES if name != "checks"]
    assert shown == expected  # each module's own heading, in cnnref.MODULES' order, nothing else at that level


def test_griffe_extension_fences_doctests_and_escapes_prose():
    to_markdown = load_module("griffe_doctest", ROOT / "hooks" / "griffe_doctest.py").doctests_to_fences
    text = "Weights F*F*D, W[k].\n\n>>> 1 + 1\n2\n\nAfter."
    assert to_markdown(text) == "Weights F\\*F\\*D, W&#91;k&#93;.\n\n```pycon\n>>> 1 + 1\n2\n```\n\nAfter."


def test_api_source_listings_are_shown_but_not_searched(built_site):
    import json

    api = (built_site / "api" / "index.html").read_text(encoding="utf-8")
    assert api.count('<details class="mkdocstrings-source" data-search-exclude>') >= len(cnnref.__all__) // 2
    index = json.loads((built_site / "search" / "search_index.json").read_text(encoding="utf-8"))
    api_docs = [d for d in index["docs"] if d["location"].startswith("api/")]
    assert api_docs and not [d["location"] for d in api_docs if "Source code in" in d["text"]]
    assert all(d.get("boost", 1) < 1 for d in api_docs)  # the notes rank above the reference (docs/api.md)
    naive = next(d for d in api_docs if d["location"] == "api/#cnnref.conv_layer.conv2d_naive")
    assert "for " not in naive["text"]  # its loops are in the listing, not in the docstring


API_LINK = re.compile(r"\[([^\]]*)\]\((?P<target>(?:\.\./)*api\.md)(?:#(?P<anchor>[^)\s]+))?\)")


def test_links_to_the_api_reference_carry_an_existing_anchor(built_site):
    api = (built_site / "api" / "index.html").read_text(encoding="utf-8")
    ids = set(re.findall(r'\bid="([^"]+)"', api))
    problems, checked = [], 0
    for path in sorted(DOCS.rglob("*.md")):
        for m in API_LINK.finditer(path.read_text(encoding="utf-8")):
            text, anchor = m.group(1), m.group("anchor")
            name = re.fullmatch(r"`cnnref\.(\w+)`", text)
            where = f"{path.relative_to(DOCS)}: [{text}]({m.group('target')}{'#' + anchor if anchor else ''})"
            if name:  # a link naming an object must land on it
                obj = getattr(cnnref, name.group(1), None)
                expected = f"{obj.__module__}.{obj.__qualname__}" if obj is not None else None
                if anchor != expected:
                    problems.append(f"{where}: should be #{expected}")
            if anchor and anchor not in ids:
                problems.append(f"{where}: no such anchor in the API page")
            checked += 1
    assert checked and not problems, "\n".join(problems)


def api_article(built_site) -> str:
    """The API page's <article> as a browser builds it at load: without the source listings waiting in <template>s."""
    api = (built_site / "api" / "index.html").read_text(encoding="utf-8")
    article = api[api.index("<article"):api.index("</article>")]
    return re.sub(r"<template\b.*?</template>", "", article, flags=re.DOTALL)


def test_permalinks_are_named_without_a_title_so_no_tooltip_is_mounted_for_them(built_site):
    """Material (content.tooltips) mounts a tooltip, with a timer and listeners, for every [title] in the
    content when the page loads: 128 permalinks were 45 % of the API page's start-up task on a phone
    (hooks/html_fixes.py). Each "¶" is named by aria-label instead, on every page."""
    problems = []
    for path in sorted(built_site.rglob("*.html")):
        for link in re.findall(r'<a\b[^>]*\bclass="headerlink"[^>]*>', path.read_text(encoding="utf-8")):
            if " title=" in link:
                problems.append(f"{path.relative_to(built_site)}: {link}")
    assert not problems, "\n".join(problems[:10])
    named = re.findall(r'<a\b[^>]*\bclass="headerlink"[^>]*\baria-label="Link to this section"', api_article(built_site))
    assert len(named) >= len(cnnref.__all__)
    titled = re.findall(r"<[a-z][^>]*\stitle=\"[^\"]*\"", api_article(built_site))
    assert len(titled) <= 20, f"{len(titled)} elements with a title (a tooltip each at load) in the API page: {titled[:5]}"


def test_heading_signatures_keep_only_the_spans_that_colour(built_site):
    """Names and whitespace in the signatures of the API headings look like plain code text: their spans are
    dropped (hooks/html_fixes.py), about 440 elements fewer to style and lay out at load."""
    article = api_article(built_site)
    signatures = re.findall(r'<code class="highlight language-python">(.*?)</code>', article, flags=re.DOTALL)
    assert len(signatures) >= len(cnnref.__all__) // 2
    assert "conv2d_naive" in "".join(signatures)
    assert not [s for s in signatures if '<span class="n">' in s or '<span class="w">' in s]
