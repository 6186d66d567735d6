"""Show doctest snippets as console sessions: ```python fences that start with `>>>` render as pycon.

Sybil runs a fence only when its info string is exactly `python`, so pages keep writing ```python;
this hook changes only what MkDocs renders (never the file Sybil reads). Pygments' pycon lexer marks
prompts (`.gp`) and printed output (`.go`), which docs/stylesheets/extra.css hides while the copy
button copies: a copied snippet is code that runs as pasted, with no prompts and no output lines.
"""

from __future__ import annotations

import re

# An opening fence: indentation (admonitions, lists), three or more backticks or tildes, `python`.
OPENING = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})python[ \t]*$")


def pycon_fences(markdown: str) -> str:
    """Relabel ```python fences whose first line starts with `>>>` as ```pycon."""
    lines = markdown.split("\n")
    i = 0
    while i < len(lines):
        m = OPENING.match(lines[i])
        if m is None:
            i += 1
            continue
        indent, fence = m.group("indent"), m.group("fence")
        closing = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        j = i + 1
        while j < len(lines) and not closing.match(lines[j]):
            j += 1
        if i + 1 < len(lines) and lines[i + 1].strip().startswith(">>>"):
            lines[i] = f"{indent}{fence}pycon"
        i = j + 1
    return "\n".join(lines)


def on_page_markdown(markdown: str, page, config, files) -> str:
    return pycon_fences(markdown)
