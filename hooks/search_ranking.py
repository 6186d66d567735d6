"""Search finds the notes first: a reader searching a term of the notes lands on the box that defines it.

Material's search (lunr, built into the site) ranks by where a word occurs: a match in a title weighs
1000 times one in the text, and a match in a page's tags a million times. Left alone it ranked the
API reference's signatures (`im2col(X, F, S=1, P=0)`) and the notebooks' code above the notes, and
the notes' "Why Stride 1" above the definition of the stride. After Material's search plugin has
written search/search_index.json, this hook sets, per entry (each section of a page is one):

- boosts: the CNN notes (dl/) x 2, their definitions (titles "Definition (...)") x 2 again; the
  notebooks and the Performance page (code and timings that mention every term) x 0.5 (the API
  reference already has 0.5 in docs/api.md's front matter);
- tags: a term the notes introduce in italics (`The _stride_ S is ...`, `_Zero-padding_ surrounds`,
  `its _receptive field_`) is a tag of the section that introduces it first, in the nav's order:
  searching the term then finds that section first, whatever else mentions it. Material shows the
  tag under the result. (The index's text has lost the italics, so each page's HTML is read for
  them as it is built: a section is what follows a heading with an id, as Material splits it.)

tests/browser/test_browser_reader.py types the notes' terms into the search box and checks the order.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from properdocs.plugins import event_priority

INDEX = "search/search_index.json"
NOTES = "dl/"
BOOSTS = [  # (location prefix, factor)
    (NOTES, 2.0),
    ("notebooks/", 0.5),
    ("performance/", 0.5),
]
DEFINITION = re.compile(r"^Definition \(")
DEFINITION_BOOST = 2.0
TERM = re.compile(r"<em>(.*?)</em>", re.DOTALL)
MAX_WORDS = 4
NUMBER = re.compile(r"[\d\sx×.,]*\d[\d\sx×.,]*")  # 1x1, 3 x 3, 0.5


def terms(text: str) -> list[str]:
    """The terms a section introduces: its italic words (a few words, not a number like 1x1), lower case."""
    found = []
    for raw in TERM.findall(text):
        term = " ".join(html.unescape(re.sub(r"<[^>]+>", "", raw)).split()).lower()
        if term and len(term.split()) <= MAX_WORDS and not NUMBER.fullmatch(term) and term not in found:
            found.append(term)
    return found


HEADING_OR_TERM = re.compile(r'<h[1-6][^>]*\sid="(?P<id>[^"]+)"|<em>(?P<term>.*?)</em>', re.DOTALL)
_introduced: dict[str, list[str]] = {}  # search location -> italic terms of that section, filled per page


def section_terms(content: str, url: str) -> dict[str, list[str]]:
    """{location: italic terms} of a page's HTML, each em under the last heading with an id before it."""
    found, location = {}, url
    for m in HEADING_OR_TERM.finditer(content):
        if m["id"] is not None:
            location = f"{url}#{m['id']}"
        elif new := terms(f"<em>{m['term']}</em>"):
            found.setdefault(location, []).extend(new)
    return found


def on_page_content(content: str, page, config, files) -> str:
    if page.url.startswith(NOTES):
        _introduced.update(section_terms(content, page.url))
    return content


def rank(index: dict, introduced: dict[str, list[str]] | None = None) -> dict:
    """The search index with the notes' boosts and tags (see the module's docstring); changed in place."""
    introduced = _introduced if introduced is None else introduced
    tagged = set()
    for doc in index["docs"]:
        location = doc["location"]
        for prefix, factor in BOOSTS:
            if location.startswith(prefix):
                doc["boost"] = doc.get("boost", 1.0) * factor
        if not location.startswith(NOTES) or "#" not in location:
            continue
        if DEFINITION.match(doc.get("title", "")):
            doc["boost"] = doc.get("boost", 1.0) * DEFINITION_BOOST
        new = [term for term in introduced.get(location, []) if term not in tagged]
        if new:
            doc["tags"] = [*doc.get("tags", []), *new]
            tagged.update(new)
    return index


@event_priority(-100)  # after Material's search plugin has written the index
def on_post_build(config) -> None:
    path = Path(config.site_dir) / INDEX
    if not path.is_file():
        return
    index = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps(rank(index), separators=(",", ":")), encoding="utf-8")
