"""Doctest snippets render as console sessions, and what the copy button copies runs as pasted: by exec,
and line by line in the interactive interpreter."""

from __future__ import annotations

from sitetools import ROOT, load_module, notes_pages


def test_doctest_fences_render_as_console_sessions():
    relabel = load_module("pycon_fences", ROOT / "hooks" / "pycon_fences.py").pycon_fences
    text = "```python\n>>> x = 1\n```\n\n    ```python\n    x = 1\n    ```\n"
    assert relabel(text) == "```pycon\n>>> x = 1\n```\n\n    ```python\n    x = 1\n    ```\n"


def copied_text(code) -> str:
    """What Material's copy button puts on the clipboard for a rendered pycon block.

    Material copies the block's innerText while [data-md-copying] is set (`.trimEnd()`); in that state
    docs/stylesheets/extra.css hides prompts (.gp) and output (.go, each line's newline inside it:
    hooks/html_fixes.py), and shows the copy-only blank lines (.cnnref-copy-blank) hooks/pycon_fences.py adds.
    """
    from bs4 import NavigableString

    def text(node) -> str:
        if isinstance(node, NavigableString):
            return str(node)
        classes = node.get("class") or []
        if "gp" in classes or "go" in classes:
            return ""
        return "".join(text(c) for c in node.children)

    return text(code).rstrip()


def _console_run(source: str, namespace: dict) -> str:
    """Push `source` line by line into code.InteractiveConsole, as a paste into the REPL; its error output."""
    import code
    import contextlib
    import io

    errors = []

    class Console(code.InteractiveConsole):
        def write(self, data):
            errors.append(data)

    console = Console(locals=namespace)
    with contextlib.redirect_stdout(io.StringIO()):
        more = False
        for line in source.split("\n"):
            more = console.push(line)
        if more:
            console.push("")  # the user presses Enter after the paste
    return "".join(errors)


def _effects(namespace: dict) -> dict:
    return {k: type(v).__name__ for k, v in namespace.items() if not k.startswith("__")}


def test_copied_doctest_snippets_run_by_exec_and_pasted_into_the_repl(built_site):
    import contextlib
    import importlib
    import io

    import matplotlib

    matplotlib.use("Agg")
    from bs4 import BeautifulSoup

    checked = 0
    notes = [f"dl/cnn/{name}/index.html" for name in notes_pages()[1:]]
    for page in ["index.html", "dl/cnn/index.html", *notes, "api/index.html"]:
        soup = BeautifulSoup((built_site / page).read_text(encoding="utf-8"), "html.parser")
        module_spaces: dict[str, tuple[dict, dict]] = {}
        page_spaces = ({}, {})
        for block in soup.select("div.language-python > pre > code, div.language-pycon > pre > code"):
            if block.find_parent("details", class_="mkdocstrings-source"):
                continue  # a module's source listing, not a snippet
            if page.startswith("api/"):  # a docstring's examples run in its module's namespace
                holder = block.find_parent(class_="doc-module")
                name = holder.find(id=True)["id"] if holder else "cnnref"
                module = importlib.import_module(name)
                spaces = module_spaces.setdefault(name, (dict(vars(module)), dict(vars(module))))
            else:
                spaces = page_spaces
            by_exec, by_console = spaces
            pycon = "language-pycon" in block.parent.parent["class"]
            source = copied_text(block) if pycon else block.get_text()
            where = f"{page}: {source[:200]!r}"
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(source + "\n", where, "exec"), by_exec)
            if not pycon:
                with contextlib.redirect_stdout(io.StringIO()):
                    exec(compile(source + "\n", where, "exec"), by_console)
                continue
            errors = _console_run(source, by_console)
            assert not errors, f"{where}\npasted into the REPL:\n{errors}"
            assert _effects(by_console) == _effects(by_exec), where
            checked += 1
    assert checked >= 20, checked


def test_copy_adds_a_blank_line_only_where_a_block_would_stay_open():
    from bs4 import BeautifulSoup

    end_blocks = load_module("pycon_fences_html", ROOT / "hooks" / "pycon_fences.py").end_blocks
    slim_code = load_module("html_fixes", ROOT / "hooks" / "html_fixes.py").slim_code  # then, as the page is written

    def line(n, prompt, code):
        gp = f'<span class="gp">{prompt}</span>' if prompt else ""
        return f'<span id="__span-0-{n}">{gp}{code}\n</span>'

    def go(n, text):
        return f'<span id="__span-0-{n}"><span class="go">{text}</span>\n</span>'

    rendered = "".join([
        line(1, "&gt;&gt;&gt; ", "def f(x):"),
        line(2, "... ", "    return x"),
        line(3, "&gt;&gt;&gt; ", "for i in range(2): print(i)"),
        go(4, "0"), go(5, "1"),
        line(6, "&gt;&gt;&gt; ", "y = f(1,"),
        line(7, "... ", "  )"),
        line(8, "&gt;&gt;&gt; ", "def g():"),
        line(9, "... ", "    return 1"),
        line(10, "... ", ""),
        line(11, "&gt;&gt;&gt; ", "if True:"),
        line(12, "... ", "    z = 1"),
    ])
    code = BeautifulSoup(f"<code>{slim_code(end_blocks(rendered))}</code>", "html.parser").code
    # After `def f` and the one-line `for`, not after the complete call, nor after a block the page
    # already ends with "...", nor at the very end (the copy is trimmed).
    assert copied_text(code) == "def f(x):\n    return x\n\nfor i in range(2): print(i)\n\ny = f(1,\n  )\ndef g():\n    return 1\n\nif True:\n    z = 1"


def test_no_code_block_keeps_line_wrappers(built_site):
    """hooks/html_fixes.py unwraps every line of every block (printed output keeps its newline in its .go span).
    A block left with some wrapped lines would change shape when Material mounts it (it lays wrapped lines
    out as a grid): a layout shift as the reader scrolls."""
    left = [str(path.relative_to(built_site)) for path in built_site.rglob("*.html")
            if "__span-" in path.read_text(encoding="utf-8")]
    assert not left, left
