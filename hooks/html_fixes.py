"""Fixes to the HTML that Material and mkdocs-jupyter emit, so every page is offline and accessible.

- Notebook pages: mkdocs-jupyter's template links MathJax and Mermaid from cdnjs.cloudflare.com;
  those scripts are removed (hooks/katex_math.py typesets the math at build time; the site has no
  Mermaid). Code cells that scroll sideways on a narrow screen get tabindex="0" so a keyboard can
  reach them (axe: scrollable-region-focusable), as nbconvert already does for outputs.
- Every page: Material's search overlay is a role="dialog" without a name (axe and Lighthouse:
  aria-dialog-name); it is labelled "Search".
"""

from __future__ import annotations

import re

# A <script> whose src, or whose code, loads something from another host.
SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.DOTALL | re.IGNORECASE)
EXTERNAL = re.compile(r"""(?:src\s*=\s*["']|import\(\s*["'])\s*(?:https?:)?//""", re.IGNORECASE)
MATHJAX_CONFIG = re.compile(r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->", re.DOTALL)
CODE_CELL = re.compile(r'<div class="(highlight-ipynb[^"]*)">')
SEARCH_DIALOG = '<div class="md-search" data-md-component="search" role="dialog"'


def on_page_content(content: str, page, config, files) -> str:
    if not page.file.src_uri.endswith(".ipynb"):
        return content
    content = MATHJAX_CONFIG.sub("", content)
    content = SCRIPT.sub(lambda m: "" if EXTERNAL.search(m.group(0)) else m.group(0), content)
    return CODE_CELL.sub(r'<div class="\1" tabindex="0">', content)


def on_post_page(output: str, page, config) -> str:
    return output.replace(SEARCH_DIALOG, f'{SEARCH_DIALOG} aria-label="Search"', 1)
