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
