"""Every fence of every page that looks like Python is a test: Sybil collects it (its info string is
exactly `python`) or the page declares the skip."""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

from sybil.evaluators.skip import Skipper

from sitetools import DOCS, ROOT, load_module


# Snippets a page deliberately keeps out of the tests with `<!-- skip: next -->` (or skip: start /
# skip: end), per page (path under docs/, or "README.md"). A page not listed has none. Adding a skip to a page without
# declaring it here fails test_every_python_fence_is_collected_by_sybil.
DECLARED_SKIPS: dict[str, int] = {}


# The very Sybil object that collects the pages (root conftest.py), loaded under its own name.
pages = load_module("cnnref_root_conftest", ROOT / "conftest.py").pages


# An opening fence after the prefixes Sybil accepts (indentation, block quotes, list markers).
OPENING = re.compile(
    r"^(?P<prefix>(?:[ \t]*>)+[ \t]*|[ \t]*(?:[-*+]|\d+[.)])[ \t]+|[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$"
)

PYTHON_INFO = re.compile(
    r"^\s*\{?\s*\.?(?:python3?|py3?|pycon|pyi|ipython3?|python2|py2)(?![\w-])", re.IGNORECASE
)

PYTHON_START = (">>>", "import ", "from ")


class Fence(NamedTuple):
    start: int  # offset of the opening line in the page
    end: int  # offset just after the closing line
    line: int  # 1-based line of the opening fence
    info: str
    body: str


def fences(text: str) -> list[Fence]:
    """Every fenced code block of a Markdown text, outermost only (CommonMark's closing rule)."""
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    found, i = [], 0
    while i < len(lines):
        m = OPENING.match(lines[i].rstrip("\r\n"))
        if m is None or (m.group("fence")[0] == "`" and "`" in m.group("info")):
            i += 1
            continue
        char, length = m.group("fence")[0], len(m.group("fence"))
        closing = re.compile(rf"^(?:[ \t>]*){re.escape(char)}{{{length},}}[ \t]*$")
        j = i + 1
        while j < len(lines) and not closing.match(lines[j].rstrip("\r\n")):
            j += 1
        body = "".join(lines[i + 1 : j])
        found.append(Fence(offsets[i], offsets[min(j + 1, len(lines))], i + 1, m.group("info"), body))
        i = j + 1
    return found


def looks_like_python(fence: Fence) -> bool:
    if PYTHON_INFO.match(fence.info):
        return True
    first = next((line.strip() for line in fence.body.splitlines() if line.strip()), "")
    return not fence.info.strip() and first.startswith(PYTHON_START)


def audit(path: Path) -> tuple[list[str], int, int]:
    """(problems, snippets Sybil runs, snippets deliberately skipped) for one Markdown page."""
    document = pages.parse(path)
    regions = sorted((region for _, region in document.regions), key=lambda r: r.start)
    # Replay Sybil's skip directives to know which examples it will skip.
    skipped, pending_next, in_block = {}, False, False
    for region in regions:
        if isinstance(region.evaluator, Skipper):
            action = region.parsed[0]
            pending_next = action == "next"
            in_block = {"start": True, "end": False}.get(action, in_block)
        else:
            skipped[region.start] = in_block or pending_next
            pending_next = False
    examples = [r for r in regions if not isinstance(r.evaluator, Skipper)]
    text = document.text
    problems, run, skips = [], 0, 0
    for fence in fences(text):
        inside = [r for r in examples if fence.start <= r.start < fence.end]
        if not looks_like_python(fence):
            continue
        where = f"{path.relative_to(DOCS) if path.is_relative_to(DOCS) else path.name}:{fence.line}: ```{fence.info.strip()}"
        if not inside:
            problems.append(f"{where} looks like Python but Sybil does not collect it (info string must be exactly `python`)")
        elif all(skipped[r.start] for r in inside):
            skips += 1
        elif any(skipped[r.start] for r in inside):
            problems.append(f"{where} is only partly skipped (`skip: next` skips one `>>>` example): use skip: start / skip: end")
        else:
            run += 1
    return problems, run, skips


def md_pages() -> list[Path]:
    """Every page of the site, and the README (its snippets are tests too)."""
    return [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]


def test_every_python_fence_is_collected_by_sybil():
    problems, total_run, counted = [], 0, {}
    for path in md_pages():
        page_problems, run, skips = audit(path)
        problems += page_problems
        total_run += run
        rel = path.relative_to(DOCS).as_posix() if path.is_relative_to(DOCS) else path.name
        if skips or rel in DECLARED_SKIPS:
            counted[rel] = skips
    declared = {page: n for page, n in DECLARED_SKIPS.items() if n}
    assert not problems, "\n".join(problems)
    assert {page: n for page, n in counted.items() if n} == declared, "skipped snippets differ from DECLARED_SKIPS"
    assert total_run > 0, "no page has a Python snippet that Sybil runs"


BAD_PAGE = '''\
# A page with every way to escape Sybil

```py
x = 1
```

``` python
x = 2
```

```python title="x.py"
x = 3
```

!!! eg "In an admonition"
    ```python3
    x = 4
    ```

```
>>> 1 + 1
2
```

```
import numpy
```

```text
import is just a word here
```

````markdown
```py
shown as text inside a four-backtick fence
```
````

```python
>>> 1 + 1
2
```

<!-- skip: next -->
```python
raise SystemExit("skipped on purpose")
```
'''


def test_audit_finds_every_escaping_fence(tmp_path):
    page = tmp_path / "bad.md"
    page.write_text(BAD_PAGE)
    problems, run, skips = audit(page)
    lines = sorted(int(p.split(":")[1]) for p in problems)
    assert lines == [3, 7, 11, 16, 20, 25], problems
    assert (run, skips) == (1, 1)
