"""Griffe extension for the API reference: cnnref's docstrings are plain text with doctests.

mkdocstrings renders a docstring as Markdown, where the `>>>` lines of a doctest become nested
block quotes, `F*F*D` turns italic and `W[k]` looks like a link. This extension, listed under the
python handler's `extensions` in mkdocs.yml, rewrites each docstring before it is rendered:
- every doctest block (from a `>>>` line to the next blank line) becomes a ```pycon fence, which
  Pygments highlights as a console session (the copy button leaves out prompts and output);
- the prose around it is kept as written: Markdown's special characters are escaped;
- a back-reference to the notes, a site path such as /dl/cnn/conv-layer/ or
  /dl/cnn/fc-layer/#converting-fc-layers-to-conv-layers, becomes a link to that page's Markdown
  file relative to the API page (docs/api.md), which MkDocs checks (strict build: page and anchor)
  and turns into the page's URL.
"""

from __future__ import annotations

import re

from griffe import Extension

# Markdown syntax that plain-text docstrings use as ordinary characters.
SPECIAL = re.compile(r"[\\`*_\[\]<]")
ENTITIES = {"[": "&#91;", "]": "&#93;", "<": "&lt;"}


# A site path of a notes page in a docstring's prose (the module docstrings' "page: CNN notes, ...").
NOTES_PATH = re.compile(r"(?<![\w/.])/(dl(?:/[\w-]+)+)/(#[\w-]+)?")


def _escape(line: str) -> str:
    return SPECIAL.sub(lambda m: ENTITIES.get(m.group(0), "\\" + m.group(0)), line)


def _link_notes(line: str) -> str:
    """/dl/cnn/pooling/ -> [/dl/cnn/pooling/](dl/cnn/pooling.md); /dl/cnn/ -> (dl/cnn/index.md)."""
    def link(m):
        path = m.group(1) if m.group(1) != "dl/cnn" else "dl/cnn/index"
        return f"[{m.group(0)}]({path}.md{m.group(2) or ''})"

    return NOTES_PATH.sub(link, line)


def doctests_to_fences(text: str) -> str:
    """Docstring text -> Markdown: doctest blocks fenced as pycon, prose escaped (tests/test_site_api.py)."""
    out, in_doctest = [], False
    for line in text.splitlines():
        if not in_doctest and line.lstrip().startswith(">>>"):
            in_doctest = True
            out.append("```pycon")
        elif in_doctest and not line.strip():
            in_doctest = False
            out.append("```")
        out.append(line if in_doctest else _link_notes(_escape(line)))
    if in_doctest:
        out.append("```")
    return "\n".join(out)


class DoctestFences(Extension):
    """Rewrite every docstring with `doctests_to_fences` as soon as Griffe reads it."""

    def on_instance(self, *, obj, **kwargs) -> None:
        if obj.docstring is not None and not getattr(obj.docstring, "_cnnref_fenced", False):
            obj.docstring.value = doctests_to_fences(obj.docstring.value)
            obj.docstring._cnnref_fenced = True
