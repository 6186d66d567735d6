"""Show doctest snippets as console sessions: ```python fences that start with `>>>` render as pycon.

Sybil runs a fence only when its info string is exactly `python`, so pages keep writing ```python;
this hook changes only what MkDocs renders (never the file Sybil reads). Pygments' pycon lexer marks
prompts (`.gp`) and printed output (`.go`), which docs/stylesheets/extra.css hides while the copy
button copies: a copied snippet is code that runs as pasted, with no prompts and no output lines.

Pasted into Python's interactive interpreter (the classic REPL, Python <= 3.12, and IPython's
line mode), a `def` or `for` block only ends at a blank line: `def f(): ...` directly followed by
the next statement is a SyntaxError. After every statement the interpreter would still wait on
(codeop says "incomplete") and that is not the snippet's last, the page gets an empty line that
exists only while copying (`.cnnref-copy-blank`, hidden otherwise by docs/stylesheets/extra.css).
"""

from __future__ import annotations

import codeop
import html
import re
import warnings

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


# A rendered pycon block (pymdownx.highlight with line_spans): one <span id="__span-..."> per line.
PYCON_BLOCK = re.compile(r'(<div class="language-pycon highlight"><pre><span></span><code[^>]*>)(.*?)(</code></pre>)', re.DOTALL)
# Line ids: "__span-0-3" on a page, "cnnref.conv_layer.output_size--__span-0-3" in the API reference.
LINE = re.compile(r'<span id="(?:[^"]*--)?__span-[^"]*">.*?\n</span>(?=<span id="(?:[^"]*--)?__span-|$)', re.DOTALL)
PROMPT = re.compile(r'^<span id="[^"]*"><span class="gp">(&gt;&gt;&gt;|\.\.\.)')
TAG = re.compile(r"<[^>]+>")
COPY_BLANK = '<span class="cnnref-copy-blank">\n</span>'


def _source(line: str) -> str:
    """The code of a rendered prompt line, without its prompt."""
    text = html.unescape(TAG.sub("", line)).rstrip("\n")
    return text[4:] if text[3:4] == " " else text[3:]


def _incomplete(source: str) -> bool:
    """Whether the interactive interpreter would still wait for lines after `source`."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return codeop.compile_command(source, "<pasted>", "single") is None
    except (SyntaxError, ValueError, OverflowError):
        return False


def end_blocks(code: str) -> str:
    """Add a copy-only blank line after each statement of a rendered session that leaves a block open."""
    lines = LINE.findall(code)
    if "".join(lines) != code:  # not the markup this hook knows: leave it alone
        return code
    # Statements: (index of the last prompt line, source), in order.
    statements: list[list] = []
    for i, line in enumerate(lines):
        m = PROMPT.match(line)
        if m is None:
            continue
        if m.group(1) == "&gt;&gt;&gt;" or not statements:
            statements.append([i, [_source(line)]])
        else:
            statements[-1][0] = i
            statements[-1][1].append(_source(line))
    for last, source in statements[:-1]:
        if source[-1].strip() and _incomplete("\n".join(source)):
            lines[last] = lines[last][: -len("</span>")] + COPY_BLANK + "</span>"
    return "".join(lines)


def on_page_content(html_: str, page, config, files) -> str:
    return PYCON_BLOCK.sub(lambda m: m.group(1) + end_blocks(m.group(2)) + m.group(3), html_)
