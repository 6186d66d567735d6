"""Search and tables of contents: the notes' df/eg/im/nt boxes are headings with stable ids, listed in the
table of contents and indexed as sections of their own; notebook pages are small and index clean text."""

from __future__ import annotations

import re

from sitetools import ROOT, load_module, notes_boxes, notes_pages


box_headings = load_module("admonition_headings", ROOT / "hooks" / "admonition_headings.py")


BOXES_PAGE = """\
# Page

## Pooling Layer

!!! df "**Definition** (Pooling Layer)"
    Text.

??? eg "**Example** (Dice: a *Toy* Example)"
    Body.

    !!! nt "**Note** (Inside)"
        Nested.

!!! note "Not one of the notes' kinds"
    Plain.

## Stride

!!! df "**Definition** (Stride)"
    Text.
"""


def test_box_titles_become_headings_with_ids_under_their_section():
    import markdown

    md = markdown.Markdown(
        extensions=["admonition", "pymdownx.details", "toc", box_headings.BoxHeadingsExtension()],
        extension_configs={"toc": {"permalink": True}},
    )
    html = md.convert(BOXES_PAGE)
    # The h2 keeps its id; the box under it, whose words in parentheses are the same, takes its full title.
    assert '<h2 id="pooling-layer">' in html
    assert '<h3 class="admonition-title" id="definition-pooling-layer"><strong>Definition</strong> (Pooling Layer)<a class="headerlink" href="#definition-pooling-layer"' in html
    # A collapsible box keeps its <summary>, with the heading inside; a box in a box is one level down.
    # (without the permalink: a link inside the <summary> button would be a nested control).
    assert '<summary><h3 class="admonition-title" id="dice-a-toy-example"><strong>Example</strong> (Dice: a <em>Toy</em> Example)</h3></summary>' in html
    assert '<h4 class="admonition-title" id="inside">' in html
    assert '<h3 class="admonition-title" id="definition-stride">' in html  # "stride" is the h2's
    assert '<p class="admonition-title">Not one of the notes\' kinds</p>' in html  # other admonitions unchanged

    def toc(tokens):
        return [(t["id"], t["name"], toc(t["children"])) for t in tokens]

    assert toc(md.toc_tokens) == [
        ("page", "Page", [
            ("pooling-layer", "Pooling Layer", [
                ("definition-pooling-layer", "Pooling Layer", []),
                ("dice-a-toy-example", "Dice: a Toy Example", [("inside", "Inside", [])]),
            ]),
            ("stride", "Stride", [("definition-stride", "Stride", [])]),
        ]),
    ]


def test_every_box_of_the_notes_is_linkable_in_the_toc_and_in_search(built_site):
    import json

    all_ids, boxes = [], 0
    for name in notes_pages():
        html_path = built_site / "dl" / "cnn" / ("index.html" if name == "index" else f"{name}/index.html")
        page = html_path.read_text(encoding="utf-8")
        heads = re.findall(r'<h([2-6]) class="admonition-title" id="([^"]+)">(.*?)(?:<a class="headerlink" href="#\2"|</h\1></summary>)', page)
        titles = [re.sub(r"<[^>]+>", "", title).strip() for _, _, title in heads]
        assert titles == [t.replace("**", "") for t in notes_boxes(name)], name
        ids = [ident for _, ident, _ in heads]
        assert len(set(ids)) == len(ids), name
        # The page's table of contents (Material's right-hand nav) links every box.
        toc = page[page.index('data-md-component="toc"') :] if ids else ""
        assert all(f'href="#{ident}"' in toc for ident in ids), name
        all_ids += ids
        boxes += len(notes_boxes(name))
    assert boxes >= 18 and len(all_ids) == boxes  # the notes' 18 boxes, each a heading
    assert {"stride", "zero-padding", "filter-receptive-fields"} <= set(all_ids)  # the ids the reviewer asked for
    # Search: each box that is not collapsible is a section of its own, found at its anchor.
    index = json.loads((built_site / "search" / "search_index.json").read_text(encoding="utf-8"))
    sections = {d["location"]: d for d in index["docs"]}
    stride = sections["dl/cnn/conv-layer/#stride"]
    assert stride["title"] == "Definition (Stride)" and "jumps" in stride["text"]
    assert "dl/cnn/conv-layer/#zero-padding" in sections and "dl/cnn/conv-layer/#filter-receptive-fields" in sections
    # ... and its title's words are words of the index: with Material's default separator (spaces and
    # hyphens) "Definition (Stride)" indexes "(stride)", which a search for "stride" never finds.
    separator = re.compile(index["config"]["separator"])
    for location, words in [("dl/cnn/conv-layer/#stride", {"stride"}), ("dl/cnn/conv-layer/#filter-receptive-fields", {"receptive", "fields"})]:
        tokens = {t.lower() for t in separator.split(sections[location]["title"]) if t}
        assert words <= tokens, (location, tokens)


def test_notebook_pages_are_small_and_their_search_entries_clean(built_site):
    import json

    for page in sorted((built_site / "notebooks").glob("*/index.html")):
        html = page.read_text(encoding="utf-8")
        content = html[html.index('<div class="jupyter-wrapper">') :]
        assert "<style" not in content, page  # nbconvert's JupyterLab theme, ~590 KB, is dropped
        assert len(html) < 400_000, (page, len(html))
        assert 'class="jp-RenderedText jp-OutputArea-output" data-mime-type="text/plain" tabindex="0"' in html
    index = json.loads((built_site / "search" / "search_index.json").read_text(encoding="utf-8"))
    notebook_docs = [d for d in index["docs"] if d["location"].startswith("notebooks/")]
    assert notebook_docs
    for doc in notebook_docs:
        text = doc["title"] + doc["text"]
        for noise in ("Copied!", "In [", "\u00b6"):
            assert noise not in text, (doc["location"], noise)
    # mkdocs-jupyter's hidden copy of each cell's code is not indexed a second time: the longest line
    # of each page's first code cell is in the page's search text once.
    import html as html_

    def flat(text: str) -> str:
        return " ".join(html_.unescape(re.sub(r"<[^>]+>", "", text)).split())

    for page in sorted((built_site / "notebooks").glob("*/index.html")):
        cell = re.search(r'<div class="clipboard-copy-txt"[^>]*>(.*?)</div>', page.read_text(encoding="utf-8"), re.DOTALL)
        line = flat(max(cell.group(1).splitlines(), key=len))
        location = page.parent.relative_to(built_site).as_posix() + "/"
        text = flat(" ".join(d["text"] for d in notebook_docs if d["location"].startswith(location)))
        assert text.count(line) == 1, (location, line)
