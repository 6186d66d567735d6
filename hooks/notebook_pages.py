"""Notebook pages (mkdocs-jupyter) made offline and accessible like the rest of the site.

mkdocs-jupyter's template links MathJax and Mermaid from cdnjs.cloudflare.com: this hook removes
those scripts (hooks/katex_math.py typesets the math at build time; the site has no Mermaid). It also
makes code cells that scroll sideways on a narrow screen reachable from the keyboard (tabindex="0",
axe's scrollable-region-focusable), as nbconvert already does for outputs.
"""

from __future__ import annotations

import re

# A <script> whose src, or whose code, loads something from another host.
SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.DOTALL | re.IGNORECASE)
EXTERNAL = re.compile(r"""(?:src\s*=\s*["']|import\(\s*["'])\s*(?:https?:)?//""", re.IGNORECASE)
MATHJAX_CONFIG = re.compile(r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->", re.DOTALL)
CODE_CELL = re.compile(r'<div class="(highlight-ipynb[^"]*)">')


def on_page_content(content: str, page, config, files) -> str:
    if not page.file.src_uri.endswith(".ipynb"):
        return content
    content = MATHJAX_CONFIG.sub("", content)
    content = SCRIPT.sub(lambda m: "" if EXTERNAL.search(m.group(0)) else m.group(0), content)
    return CODE_CELL.sub(r'<div class="\1" tabindex="0">', content)
