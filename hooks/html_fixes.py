"""Fixes to the HTML that Material and mkdocs-jupyter emit, so every page is offline and accessible.

- Notebook pages: mkdocs-jupyter's template links MathJax and Mermaid from cdnjs.cloudflare.com;
  those scripts are removed (hooks/katex_math.py typesets the math at build time; the site has no
  Mermaid). Code cells that scroll sideways on a narrow screen get tabindex="0" so a keyboard can
  reach them (axe: scrollable-region-focusable), as nbconvert already does for outputs.
- Notebook pages, search: the In [n] / Out prompts and mkdocs-jupyter's copy button ("Copied!", and
  the hidden copy of each cell's code it copies from) are kept out of the search index
  (data-search-exclude), and its "¶" heading links are marked as permalinks (class "headerlink") so
  that Material's search leaves them out of section titles.
- API reference: the "Source code in cnnref/..." listings stay on the page (a reader sees
  conv2d_naive's loops next to its docstring) but are kept out of search: whole listings made API
  entries rank above the notes for any word of their code, and filled the results with source. Each
  listing waits in a <template> inside its closed box until the box is opened
  (docs/javascripts/source-listings.js puts it in place): the listings were two thirds of the page's
  elements, whose style and layout blocked the main thread for about a second on a phone (Lighthouse).
- Notebook pages, size: nbconvert inlines JupyterLab's whole theme (about 590 KB of <style> per page,
  three quarters of the page). Those <style> blocks are dropped; docs/stylesheets/extra.css has the
  few rules the rendered cells need, in Material's colours (light and dark), and code cells get
  Material's own syntax colours (class "highlight").
- Every page, code: Pygments wraps every token in a <span>, and pymdownx.highlight every line (its
  line_spans option, which hooks/pycon_fences.py reads). Spans that change nothing a reader sees are
  dropped once the page is rendered: names (class "n", which Material colours like the code's own
  text, in both schemes), whitespace ("w", not coloured at all), and the line wrappers. A line of
  printed output keeps its newline inside its .go span instead, so that docs/stylesheets/extra.css,
  which hides .go while the copy button copies, hides the whole line. (Lines are all wrapped or none
  is: Material lays a block with wrapped lines out as a grid once it mounts it, and a block with only
  some lines wrapped would change shape then, a layout shift.) About a third of a code block's
  elements, a sixth of the Convolutional Layer page's: fewer elements to style and lay out on a phone.
  The same name and whitespace spans go from inline highlighted code (class "highlight"): the
  signature in each of the API reference's 128 headings, about 440 elements.
- Every page, permalinks: the "¶" after each heading is named by aria-label="Link to this section"
  instead of title. With Material's content.tooltips feature, every [title] in the content gets a
  tooltip mounted at page load (a 250 ms timer and focus and hover listeners each, Material's
  tooltip2): on the API reference, 128 permalinks were 45 % of the bundle's start-up task, about
  200 ms of blocking time on a phone (Lighthouse's 4x CPU). The name is the one a screen reader
  reads (it was "¶", the title only a description); a mouse no longer shows a tooltip on the ¶.
- Every page, and 404.html: Material's search overlay is a role="dialog" without a name (axe and Lighthouse:
  aria-dialog-name); it is labelled "Search".
- Notebook pages, downloads: under the title, links to the notebook itself (mkdocs-jupyter's
  include_source copies it next to the page) and to the helper module it imports (_nbutils.py, copied
  from docs/notebooks/ as it is), with the pip line that installs what they need.
"""

from __future__ import annotations

import re

# A <script> whose src, or whose code, loads something from another host.
SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.DOTALL | re.IGNORECASE)
EXTERNAL = re.compile(r"""(?:src\s*=\s*["']|import\(\s*["'])\s*(?:https?:)?//""", re.IGNORECASE)
MATHJAX_CONFIG = re.compile(r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->", re.DOTALL)
STYLE = re.compile(r"<style\b[^>]*>.*?</style>\s*", re.DOTALL | re.IGNORECASE)
CODE_CELL = re.compile(r'<div class="(highlight-ipynb[^"]*)">')
PROMPT = re.compile(r'<div class="(jp-(?:Input|Output)Prompt[^"]*)"')
COPY_BUTTON = '<div class="zeroclipboard-container">'
COPY_TEXT = '<div class="clipboard-copy-txt"'
ANCHOR_LINK = '<a class="anchor-link" href="#'
SOURCE_BOX = re.compile(r'<details class="mkdocstrings-source">(\s*<summary>.*?</summary>)(.*?)(\s*</details>)', re.DOTALL)
SEARCH_DIALOG = '<div class="md-search" data-md-component="search" role="dialog"'
PERMALINK_TITLE = re.compile(r'(<a\b[^>]*\bclass="headerlink"[^>]*?) title="')
# A code block's text; a line of it (pymdownx.highlight's line span: text and flat token spans); a
# line of printed output; a token that looks like plain code text.
PRE = re.compile(r"(<pre\b[^>]*>)(.*?)(</pre>)", re.DOTALL)
LINE = re.compile(r'<span id="(?:[^"]*--)?__span-[^"]*">((?:[^<]|<span class="[^"]*">[^<]*</span>)*)</span>')
OUTPUT_LINE = re.compile(r'<span class="go">([^<]*)</span>\n')
PLAIN_TOKEN = re.compile(r'<span class="[nw]">([^<]*)</span>')
INLINE_CODE = re.compile(r'(<code class="highlight(?: language-[\w-]+)?">)(.*?)(</code>)', re.DOTALL)


HELPER = "_nbutils.py"  # the module every notebook imports, next to it in docs/notebooks/
FIRST_TITLE = re.compile(r"</h1>")


def download_links(page, config) -> str:
    """The paragraph under a notebook page's title: the .ipynb and its helper, both as downloads."""
    from properdocs.utils import get_relative_url

    folder, name = page.file.src_uri.rpartition("/")[::2]
    helper = get_relative_url(f"{folder}/{HELPER}" if folder else HELPER, page.url)
    return (
        '<p class="cnnref-downloads" data-search-exclude>Run it yourself: download '
        f'<a href="{name}" download>the notebook, {name}</a>, and <a href="{helper}" download>its helper '
        f"module, {HELPER}</a>, into one folder; <code>pip install \"cnnref[docs] @ git+{config.repo_url}\"</code> "
        "installs what they import.</p>"
    )


def on_page_content(content: str, page, config, files) -> str:
    if not page.file.src_uri.endswith(".ipynb"):
        return SOURCE_BOX.sub(
            r'<details class="mkdocstrings-source" data-search-exclude>\1<template class="cnnref-source">\2</template>\3',
            content,
        )
    content = FIRST_TITLE.sub(lambda m: m.group(0) + download_links(page, config), content, count=1)
    content = MATHJAX_CONFIG.sub("", content)
    content = STYLE.sub("", content)
    content = PROMPT.sub(r'<div class="\1" data-search-exclude', content)
    content = content.replace(COPY_BUTTON, '<div class="zeroclipboard-container" data-search-exclude>')
    content = content.replace(COPY_TEXT, '<div class="clipboard-copy-txt" data-search-exclude')
    content = content.replace(ANCHOR_LINK, '<a class="headerlink" href="#')
    content = SCRIPT.sub(lambda m: "" if EXTERNAL.search(m.group(0)) else m.group(0), content)
    return CODE_CELL.sub(r'<div class="\1 highlight" tabindex="0">', content)


def slim_code(code: str) -> str:
    """A code block without the spans that change nothing on screen (or in what its copy button copies)."""
    code = LINE.sub(lambda m: OUTPUT_LINE.sub('<span class="go">\\1\n</span>', m.group(1)), code)
    return PLAIN_TOKEN.sub(r"\1", code)


def on_post_page(output: str, page, config) -> str:
    output = PRE.sub(lambda m: m.group(1) + slim_code(m.group(2)) + m.group(3), output)
    output = INLINE_CODE.sub(lambda m: m.group(1) + PLAIN_TOKEN.sub(r"\1", m.group(2)) + m.group(3), output)
    output = PERMALINK_TITLE.sub(r'\1 aria-label="', output)
    return output.replace(SEARCH_DIALOG, f'{SEARCH_DIALOG} aria-label="Search"', 1)


def on_post_template(output: str, template_name: str, config) -> str:
    """404.html is a template, not a page: it gets the same search dialog, so the same name."""
    return on_post_page(output, None, config) if template_name == "404.html" else output
