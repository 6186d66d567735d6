"""The notes' boxes (df, eg, im, nt admonitions) are sections: their title is a heading with an id.

Almost all of the CNN notes sit in these boxes, so a box is what a reader links to, looks up in the
table of contents and finds with search. This hook adds a Markdown tree processor (priority 6: after
inline markup, just before `toc`) that turns each box title into the heading one level below the
section it is in, e.g. `!!! df "**Definition** (Stride)"` under an h2 becomes

    <div class="admonition df"><h3 class="admonition-title" id="stride">Definition (Stride) ¶</h3>

The title itself becomes the heading: nothing is duplicated or hidden. From there the existing
machinery does the rest: `toc` adds the permalink and lists the box under its h2 (labelled by the
words in parentheses, "Stride"), MkDocs records the id for `validation.anchors`, and Material's search
indexes the box as its own section (dl/cnn/conv-layer/#stride). A collapsible `???` box keeps its <summary>
(the click target) and gets the heading inside it, which HTML allows, without the permalink (a link
inside the <summary> button is a nested control: axe's nested-interactive); the table of contents
links it, and docs/javascripts/open-target.js opens it when its anchor is navigated to. Search cannot
split these two boxes off: Material's search ends a section where the element holding its heading
ends (here the <summary>), so their text stays in the section above them.

Ids come from the words in parentheses (`Stride` -> `stride`); when that id is already taken (the
"Pooling Layer" definition under the "Pooling Layer" h2), from the whole title
(`definition-pooling-layer`).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as etree

from markdown import Extension, Markdown
from markdown.extensions.toc import slugify, unique
from markdown.treeprocessors import Treeprocessor

KINDS = {"df", "eg", "im", "nt"}
HEADING = re.compile(r"^h([1-6])$")
PARENTHESISED = re.compile(r"\(([^()]*)\)\s*$")


def _text(el: etree.Element) -> str:
    return re.sub(r"\s+", " ", "".join(el.itertext())).strip()


def _box_title(el: etree.Element) -> etree.Element | None:
    """The title element of a df/eg/im/nt box (admonition <p class="admonition-title"> or <summary>)."""
    classes = set((el.get("class") or "").split())
    if not classes & KINDS:
        return None
    if el.tag == "div" and "admonition" in classes:
        first = el[0] if len(el) else None
        if first is not None and first.tag == "p" and "admonition-title" in (first.get("class") or "").split():
            return first
    if el.tag == "details" and len(el) and el[0].tag == "summary":
        return el[0]
    return None


class BoxHeadings(Treeprocessor):
    def run(self, root: etree.Element) -> None:
        used = {el.get("id") for el in root.iter() if el.get("id")}
        # Ids `toc` will give the page's own headings (it runs next): reserve them.
        used |= {slugify(_text(el), "-") for el in root.iter() if isinstance(el.tag, str) and HEADING.match(el.tag) and not el.get("id")}
        counters: dict[str, int] = {}
        self._walk(root, used, counters, level=1)

    def _walk(self, parent: etree.Element, used: set[str], counters: dict[str, int], level: int) -> int:
        """Visit children in document order; `level` is the level of the last heading seen."""
        for child in list(parent):
            if not isinstance(child.tag, str):
                continue
            m = HEADING.match(child.tag)
            if m:
                level = int(m.group(1))
                continue
            title = _box_title(child)
            if title is not None:
                box_level = min(level + 1, 6)
                self._make_heading(child, title, box_level, used, counters)
                # Boxes inside this box sit one level further down; the section level resumes after it.
                self._walk(child, used, counters, box_level)
                continue
            level = self._walk(child, used, counters, level)
        return level

    @staticmethod
    def _make_heading(box: etree.Element, title: etree.Element, level: int, used: set[str], counters: dict[str, int]) -> None:
        text = _text(title)
        m = PARENTHESISED.search(text)
        label = m.group(1).strip() if m else text
        ident = slugify(label, "-")
        if not ident or ident in used:
            ident = slugify(text, "-")
        ident = unique(ident, used, counters) if ident in used else ident
        used.add(ident)
        if title.tag == "p":
            heading = title
            heading.tag = f"h{level}"
        else:  # <summary>: the heading goes inside it, with the title's content
            heading = etree.Element(f"h{level}")
            heading.text, title.text = title.text, None
            for child in list(title):
                title.remove(child)
                heading.append(child)
            title.append(heading)
            heading.set("class", "admonition-title")
        heading.set("id", ident)
        heading.set("data-toc-label", label)


class NoLinkInSummary(Treeprocessor):
    """Runs after `toc` (priority 4): drops the permalink it added to a heading inside a <summary>."""

    def run(self, root: etree.Element) -> None:
        for summary in root.iter("summary"):
            for heading in summary:
                for link in [a for a in heading if a.tag == "a" and a.get("class") == "headerlink"]:
                    link_tail = link.tail
                    heading.remove(link)
                    if link_tail:
                        heading.text = (heading.text or "") + link_tail


class BoxHeadingsExtension(Extension):
    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 (Markdown's API)
        md.treeprocessors.register(BoxHeadings(md), "cnnref_box_headings", 6)
        md.treeprocessors.register(NoLinkInSummary(md), "cnnref_no_link_in_summary", 4)


def on_config(config):
    config.markdown_extensions.append(BoxHeadingsExtension())
    return config
