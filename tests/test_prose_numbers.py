"""No typed result: every number in the prose of the pages and notebooks is checked by code (issue 17).

The scanner reads docs/**/*.md and the markdown cells of docs/notebooks/*.ipynb. It skips code (fences,
inline code), HTML comments and tags, admonition titles, link targets, and the alt text of generated
figures (tests/test_graphs.py holds it equal to the ALT that graphs/ computes with the figure). Every
other number, in text or math, in digits or as a result in words ("seven times", "a third of",
"a hundred million"), must be checked in one of three ways:

1. **A snippet of its section uses or prints it.** A section runs from one top-level heading or
   admonition (`!!!`, `???`) to the next; in a notebook, from one markdown cell that starts with a
   heading to the next. The section's pool is every number in its Sybil-run code (```python fences and
   invisible code blocks, doctest outputs included; not comments, not a figure's layout) or in its
   notebook code cells (an assert in a notebook fails the build). "about 7" matches a printed 7.1 (the
   prose's rounding); "75%" matches 0.75; "1.8 million" matches 1806336 or an asserted 1.8. The first
   section (title and introduction) summarises the page: the whole page's pool counts for it. A
   paragraph that links to another page or notebook of the site may restate that page's numbers.
2. **A hook renders it from code.** Then it is not in the page's source at all (the Performance page's
   `<!-- cnnref:... -->` markers of hooks/performance.py, hooks/figures.py's figures).
3. **A test reads the page and computes it.** CLAIMS below: a phrase quoted from a page and a function
   computing the phrase's numbers in order; test_claims_hold checks both.

What is not a result goes into ALLOWED, each entry with its reason; an entry that matches nothing fails
test_every_allowed_entry_is_used, so the list stays short. A number that a snippet of its section uses
by coincidence (a 7 in a 7x7 input) passes: the scan is a net, not a proof.
"""

import functools
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from cnnref import ConvLayer, Net, PoolLayer, ReLULayer, output_size

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md"))
NOTEBOOKS = sorted(p.relative_to(DOCS).as_posix() for p in (DOCS / "notebooks").glob("*.ipynb"))

# What is not a result: (regex over the prose, reason). Every number inside a match is allowed.
ALLOWED = [
    (r"Part \d of \d of the \[CNN notes\b", "the notes' part numbers: the order of the nav, not a result"),
    (r"(?m)^ *\d+\. (?=\[)", "the item numbers of an ordered list"),
    (r"\b(?:[A-Z][a-z]+(?:, | and | et al\. )?)+(?:19|20)\d\d\b", "the year of a cited paper"),
    (r"arXiv:\d{4}\.\d{4,5}", "a cited paper's arXiv identifier"),
    (r"CIFAR-10\b", "a data set's name"),
    (r"\b[1-3]-D\b", "a number of dimensions naming a kind of signal (1-D, 2-D)"),
    (r"\b1x1 (?:convolutions?|filters?)\b|\(1x1\)", "a concept's name: the 1x1 convolution"),
    (r"\bstride 1\b|\bP = 0\b", "a hyperparameter value naming a case of the code (stride 1, P = 0): a definition"),
    (r"\b(?:Python|Node) \d+(?:\.\d+)?\+?", "required versions of tools (pyproject.toml, the CI workflow), not results"),
]
MATH_CONSTANTS = {0.0, 1.0, 2.0}  # in math only: the constants of formulas (+ 1, 2P, x^2, 1/N, n = 1): definitions

HOW_TO_FIX = """\
Each number a page states as a result (a size, count, ratio, speed, setting of a run) must be checked by code.
Fix it in one of three ways:
  1. print it in a ```python snippet of the same section (a notebook: assert it in a code cell of the same
     section, or render the sentence from the notebook's variables with summary());
  2. render it from code in a hook (performance.md: a <!-- cnnref:... --> marker of hooks/performance.py);
  3. add a Claim to CLAIMS in tests/test_prose_numbers.py: the phrase, and a function computing its numbers.
A number that is no result (a year, a section number, a name) goes into ALLOWED there, with its reason."""


# --- Numbers in prose and in code

WORD_VALUES = {
    "a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "twenty": 20, "thirty": 30, "fifty": 50, "hundred": 100,
}
SCALES = {"hundred": 1e2, "thousand": 1e3, "million": 1e6, "billion": 1e9}
FRACTIONS = {"half": 1 / 2, "third": 1 / 3, "quarter": 1 / 4}
_WORDS = "|".join(w for w in WORD_VALUES if w != "a")
PROSE_NUMBER = re.compile(
    r"(?P<power>(?<![\w.])10\^\{?(?P<exp>-?\d+)\}?)"  # 10^{-6} in math
    r"|(?<![A-Za-wyz_\d.\\])(?<![A-Za-z]-)"  # not in a name (H1, cs231n, float32, CIFAR-10); 3x3 is two numbers
    r"(?P<digits>\d{1,3}(?:(?:,|\{,\})\d{3})+(?!\d)|\d+)(?P<decimals>\.\d+)?(?!\d)"
    rf"|(?i:\b(?P<times>{_WORDS}) times\b)"  # "about seven times"
    rf"|(?i:\b(?P<scaled>a|{_WORDS})(?P<scale>(?: (?:hundred|thousand|million|billion))+)\b)"  # "a hundred million"
    r"|(?i:\b(?:a|one) (?P<fraction>half|third|quarter) of\b)"  # "a third of a second"
)
AFTER = re.compile(r"\s*\$?\s*(?P<scale>thousand|million|billion)\b|\s*(?P<percent>\\?%)")
APPROXIMATE = re.compile(r"(?:about|around|roughly|approximately|nearly|almost|close to|~|≈|\\approx)\s*\$?\s*$", re.I)
CODE_NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+(?!\d)|\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)")
LAYOUT = re.compile(r"\b(?:figsize|fontsize|labelsize|dpi|linewidth|lw|alpha|shrink|height_ratios)\s*=\s*"
                    r"(?:\[[^\]]*\]|\([^)]*\)|[\d.]+)")


FSTRING = re.compile(r"\bf(\"[^\"\n]*\"|'[^'\n]*')")
FORMAT_SPEC = re.compile(r"(?<!:):[<>^=+ 0-9,._%a-zA-Z-]*\}")


@dataclass
class Number:
    text: str
    values: list  # what it may be printed as: [1806336, 1.8] for "1.8 million", [75, 0.75] for "75%"
    start: int
    end: int
    approximate: bool  # "about 12", "≈ 1.8": a printed value that rounds to it matches
    word: bool  # "seven times": matches a value that rounds to 7; "a third of": one within 10% of 1/3
    written: float  # the value as written: 1.8 for "1.8 million", 75 for "75%"

    @property
    def decimals(self):
        return len(self.text.split(".")[1]) if re.fullmatch(r"[\d,{}]+\.\d+", self.text) else 0


def prose_numbers(text):
    """The numbers of a prose text with the values they may stand for (scales and percentages applied)."""
    found = []
    for m in PROSE_NUMBER.finditer(text):
        end, word = m.end(), not (m["power"] or m["digits"])
        if m["power"]:
            values = [10.0 ** int(m["exp"])]
        elif m["digits"]:
            written = float(m["digits"].replace("{,}", "").replace(",", "") + (m["decimals"] or ""))
            value = written
            values = [value]
            after = AFTER.match(text, end)
            if after and after["scale"]:
                values, end = [value * SCALES[after["scale"]], value], after.end()
            elif after and after["percent"]:
                values = [value, value / 100]
        elif m["times"]:
            values = [float(WORD_VALUES[m["times"].lower()])]
        elif m["scaled"]:
            values = [WORD_VALUES[m["scaled"].lower()] * math.prod(SCALES[w] for w in m["scale"].lower().split())]
        else:
            values = [FRACTIONS[m["fraction"].lower()]]
        approximate = word or bool(APPROXIMATE.search(text[max(0, m.start() - 20) : m.start()]))
        written = written if m["digits"] else values[0]
        found.append(Number(m[0], values, m.start(), end, approximate, word, written))
    return found


def code_numbers(code):
    """Every number written in code or printed by it (30,730, 100_000_000 and 1e-6 included).

    Not the numbers of comments (they run nothing) nor those laying out a figure (figsize=...).
    """
    doctest = code.lstrip().startswith(">>>")
    lines = []
    for line in code.splitlines():
        is_output = doctest and not line.lstrip().startswith((">>>", "..."))
        lines.append(line if is_output else re.sub(r"#.*", "", line))
    code = re.sub(r"(?<=\d)_(?=\d)", "", LAYOUT.sub("", "\n".join(lines)))
    code = FSTRING.sub(lambda m: FORMAT_SPEC.sub("}", m[0]), code)  # f"{rate:7.2f}": 7.2 is no number
    values = set()
    for m in CODE_NUMBER.finditer(code):
        values.add(float(m[1].replace(",", "")))
        if "," in m[1]:  # also a tuple printed without spaces
            values.update(float(part) for part in m[1].split(","))
    return values


def matches(number, pool):
    """Is the number in the pool: exactly, or (approximate) as a printed value rounded the prose's way?"""
    for x in number.values:
        if any(math.isclose(x, v, rel_tol=1e-9) for v in pool):
            return True
        if number.word and any(math.isclose(x, v, rel_tol=0.1) if x < 1 else round(v) == x for v in pool):
            return True
        if number.approximate and not number.word:
            scale = x / number.written  # "1.8 million": 1e6; "75%": 0.01
            if any(round(v / scale, number.decimals) == number.written for v in pool):
                return True
    return False


# --- Pages and notebooks as sections of prose and code


@dataclass
class Section:
    source: str  # the page or notebook, relative to docs/
    raw: str  # the section's text as written (links included)
    prose: str  # the same with what is not prose blanked out: every offset is kept
    code: str  # the Sybil-run code of the section, or its notebook code cells
    where: list  # (offset, "line n" or "cell n") from which each part starts, for messages

    def locate(self, offset):
        return max((w for w in self.where if w[0] <= offset), key=lambda w: w[0])[1]


def _blank(match):
    return re.sub(r"[^\n]", " ", match[0])


def clean(text):
    """Blank out what is not prose, keeping every other character's offset."""
    for pattern in (
        r"<!--.*?-->",  # comments (markers; invisible code blocks are collected apart)
        r"!\[(?:[^\[\]]|\[[^\[\]]*\])*\]\([^)]*graphs/[^)]*\)",  # a generated figure's alt text (test_graphs.py)
        r"`[^`\n]+`",  # inline code
        r"\]\([^)\s]*\)",  # link targets
        r"<[^>\n]+>",  # HTML tags and their attributes
        r"\{:?[^{}\n]*(?:width|height|\.|#)[^{}\n]*\}",  # attribute lists { width="600" }
        r"\[\^\w+\]",  # footnote references
    ):
        text = re.sub(pattern, _blank, text, flags=re.S)
    return text


FENCE = re.compile(r"^(?P<indent> *)(?P<fence>```+|~~~+)(?P<info>[^\n]*)\n(?P<body>.*?)^(?P=indent)(?P=fence)[ \t]*$",
                   re.M | re.S)
INVISIBLE = re.compile(r"<!--\s*invisible-code-block:\s*python\s*\n(.*?)-->", re.S)
SKIP = re.compile(r"<!--\s*skip:\s*next\s*-->\s*$")
SECTION_START = re.compile(r"^(?:#{1,6} |!!!|\?\?\?)", re.M)
TITLE = re.compile(r"^((?:!!!|\?\?\?)\+?)( *\w+(?: +\"[^\"\n]*\")?)", re.M)
MATH = re.compile(r"\\\(.*?\\\)|\$\$.*?\$\$|\$[^$\n]+\$|\\\[.*?\\\]", re.S)


def markdown_sections(source, text):
    """A Markdown page as sections: its prose, and the code Sybil runs in each (fences exactly `python`)."""
    text = re.sub(r"\A---\n.*?\n---\n", _blank, text, flags=re.S)  # front matter
    codes = [(m.start(), m[1]) for m in INVISIBLE.finditer(text)]
    for m in FENCE.finditer(text):
        if m["info"].strip() == "python" and not SKIP.search(text[: m.start()]):
            codes.append((m.start(), m["body"]))
    raw = TITLE.sub(lambda m: m[1] + " " * len(m[2]), FENCE.sub(_blank, text))  # admonition titles are not scanned
    prose = clean(raw)
    starts = [0] + [m.start() for m in SECTION_START.finditer(prose) if m.start()] + [len(prose)]
    sections = []
    for a, b in zip(starts, starts[1:]):
        code = "\n".join(c for offset, c in sorted(codes) if a <= offset < b)
        first = text.count("\n", 0, a) + 1
        where = [(0, f"line {first}")] + [(m.end(), f"line {first + n}") for n, m in enumerate(re.finditer("\n", prose[a:b]), 1)]
        sections.append(Section(source, raw[a:b], prose[a:b], code, where))
    return sections


def notebook_sections(source, nb):
    """A notebook as sections: from one markdown cell that starts with a heading to the next, with the code cells."""
    groups, current = [], []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown" and cell.source.lstrip().startswith("#") and current:
            groups.append(current)
            current = []
        current.append((i, cell))
    groups.append(current)
    sections = []
    for group in groups:
        raw, where = "", []
        for i, cell in group:
            if cell.cell_type == "markdown":
                where.append((len(raw), f"cell {i}"))
                raw += cell.source + "\n\n"
        code = "\n".join(cell.source for _, cell in group if cell.cell_type == "code")
        sections.append(Section(source, raw, clean(raw), code, where or [(0, f"cell {group[0][0]}")]))
    return sections


@functools.cache
def sections_of(source):
    path = DOCS / source
    if source.endswith(".ipynb"):
        return notebook_sections(source, nbformat.read(path, as_version=4))
    return markdown_sections(source, path.read_text(encoding="utf-8"))


@functools.cache
def pool_of(source):
    return frozenset().union(*(code_numbers(s.code) for s in sections_of(source)))


LINK = re.compile(r"\]\((?P<target>[^)#\s]+\.(?:md|ipynb))(?:#[^)]*)?\)")
PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n|\n[ \t]*(?:[-*]|\d+\.) ")


def linked_pool(section, offset):
    """The pools of the site's pages and notebooks that the paragraph around offset links to."""
    starts = [m.end() for m in PARAGRAPH_BREAK.finditer(section.raw, 0, offset)]
    end = PARAGRAPH_BREAK.search(section.raw, offset)
    paragraph = section.raw[starts[-1] if starts else 0 : end.start() if end else len(section.raw)]
    pool = set()
    for m in LINK.finditer(paragraph):
        parts = []
        for part in f"{Path(section.source).parent.as_posix()}/{m['target']}".split("/"):
            if part == "..":
                parts and parts.pop()
            elif part not in ("", "."):
                parts.append(part)
        target = "/".join(parts)
        if (DOCS / target).is_file():
            pool |= pool_of(target)
    return pool


# --- Claims: phrases of a page whose numbers a test computes


@dataclass
class Claim:
    source: str
    phrase: str  # as written on the page, on one line
    compute: object  # () -> the numbers of the phrase, in order
    reason: str

    def __str__(self):
        return f"{self.source}: {self.phrase}"


def _alexnet():
    """AlexNet's CONV and POOL layers (Krizhevsky et al.) on 227x227x3, sized by cnnref."""
    layers = [ConvLayer(K=96, F=11, S=4), ReLULayer(), PoolLayer(F=3, S=2),
              ConvLayer(K=256, F=5, P=2), ReLULayer(), PoolLayer(F=3, S=2),
              ConvLayer(K=384, F=3, P=1), ConvLayer(K=384, F=3, P=1), ConvLayer(K=256, F=3, P=1), PoolLayer(F=3, S=2)]
    return Net((227, 227, 3), layers)


def _results():
    return json.loads((ROOT / "benchmarks" / "results.json").read_text())


def _case(name):
    """The benchmark case's K, F, H1, W1, D1, from benchmarks/results.json."""
    row = next(r for r in _results()["conv"] if r["case"] == name)
    H, W, D = (int(n) for n in row["input"].split("x"))
    K, F = (int(n) for n in re.fullmatch(r"(\d+) x (\d+)x\d+", row["filters"]).groups())
    return K, F, H, W, D


def _multiply_adds(r):
    K, F, H, W, D = _case(r["case"])
    return r["N"] * output_size(H, F, S=r["S"], P=r["P"]) * output_size(W, F, S=r["S"], P=r["P"]) * K * F * F * D


CLAIMS = [
    Claim("dl/cnn/fc-layer.md", "AlexNet's own last POOL volume is 6x6x256",
          lambda: (lambda H, W, D: [W, H, D])(*_alexnet().shapes()[-1]), "AlexNet's layers, sized by cnnref.Net"),
    Claim("dl/cnn/fc-layer.md", "would become a CONV layer with \\( F = 6 \\)",
          lambda: [_alexnet().shapes()[-1][0]], "the first FC layer sees the whole last POOL volume: F is its size"),
    Claim("performance.md", "CIFAR's 12 filters of 3x3x3",
          lambda: (lambda K, F, H, W, D: [K, F, F, D])(*_case("CIFAR batch")), "the CIFAR case of results.json"),
    Claim("performance.md", "CIFAR's 32x32x3 input",
          lambda: (lambda K, F, H, W, D: [W, H, D])(*_case("CIFAR batch")), "the CIFAR case of results.json"),
    Claim("performance.md", "GFLOP/s counts 2 N H2 W2 K F F D1",
          lambda: {r["flops"] / _multiply_adds(r) for r in _results()["conv"]},
          "results.json's flops over each case's multiply-adds"),
]


# --- The scan


def unchecked(sections, claims=()):
    """[(where, number, context)] for every number of the sections' prose that nothing checks."""
    problems = []
    whole = set().union(*(code_numbers(s.code) for s in sections))
    for i, section in enumerate(sections):
        pool = whole if i == 0 else code_numbers(section.code)
        prose = section.prose
        allowed = [m.span() for pattern, _ in ALLOWED for m in re.finditer(pattern, prose)]
        allowed += [m.span() for c in claims for m in re.finditer(re.escape(clean(c.phrase)), prose)]
        maths = [m.span() for m in MATH.finditer(prose)]
        for number in prose_numbers(prose):
            if any(a <= number.start and number.end <= b for a, b in allowed):
                continue
            in_math = any(a <= number.start < b for a, b in maths)
            if in_math and not number.word and number.values[0] in MATH_CONSTANTS and len(number.values) == 1:
                continue
            if matches(number, pool) or matches(number, linked_pool(section, number.start)):
                continue
            context = " ".join(prose[max(0, number.start - 50) : number.end + 30].split())
            problems.append((section.locate(number.start), number.text, context))
    return problems


@pytest.mark.parametrize("source", PAGES + NOTEBOOKS)
def test_no_typed_result(source):
    problems = unchecked(sections_of(source), [c for c in CLAIMS if c.source == source])
    if problems:
        listing = "\n".join(f"  docs/{source}, {where}: {text!r} in \"...{context}...\"" for where, text, context in problems)
        pytest.fail(f"numbers in prose that no code checks:\n{listing}\n\n{HOW_TO_FIX}", pytrace=False)


# ids without backslashes: pytest escapes them in node ids, which then name no test on a command line (mutmut's)
@pytest.mark.parametrize("claim", CLAIMS, ids=lambda claim: str(claim).replace("\\", ""))
def test_claims_hold(claim):
    text = (DOCS / claim.source).read_text(encoding="utf-8")
    assert claim.phrase in text, f"docs/{claim.source} no longer says {claim.phrase!r}: update or remove its Claim"
    stated = [n.values[0] for n in prose_numbers(clean(claim.phrase))]
    computed = [float(v) for v in claim.compute()]
    assert stated == computed, f"docs/{claim.source} says {claim.phrase!r}, but {claim.reason} gives {computed}"


def test_every_allowed_entry_is_used():
    texts = [s.prose for source in PAGES + NOTEBOOKS for s in sections_of(source)]
    for pattern, reason in ALLOWED:
        assert any(re.search(pattern, t) for t in texts), f"ALLOWED entry {pattern!r} ({reason}) matches nothing"


# --- The scanner itself: it flags typed numbers, and only them


def scan(markdown):
    return [number for _, number, _ in unchecked(markdown_sections("dl/cnn/example.md", markdown))]


def fence(*lines):
    return "\n".join(["```python", *lines, "```"])


def test_a_number_passes_when_a_snippet_of_its_section_prints_it():
    snippet = fence(">>> from cnnref import output_size", ">>> output_size(227, 11, S=4)", "55")
    assert scan(f"# T\n\n## A\n\nThe output is 55 wide.\n\n{snippet}\n") == []
    assert scan(f"# T\n\n## A\n\nThe output is 54 wide.\n\n{snippet}\n") == ["54"]  # a typo, or a stale page
    assert scan(f"# T\n\n## A\n\n{snippet}\n\n## B\n\nThe output is 55 wide.\n") == ["55"]  # another section's
    assert scan(f"# T\n\n## A\n\nabout 7 times the input\n\n{fence('>>> 7.1', '7.1')}\n") == []
    assert scan(f"# T\n\n## A\n\nabout 7 times the input\n\n{fence('>>> 9.3', '9.3')}\n") == ["7"]
    assert scan(f"# T\n\n## A\n\nIt drops 75% of them.\n\n{fence('>>> 0.75', '0.75')}\n") == []


def test_the_scanner_reads_prose_only():
    comment_only = fence(">>> x = 1  # 3072 numbers", ">>> x", "1")
    assert scan(f"# T\n\n## A\n\nIt sees 3072 numbers.\n\n{comment_only}\n") == ["3072"]
    page = ("# T\n\n!!! df \"**Definition** (3x3 filters)\"\n    A `conv2d(X, W, S=4)` call, <!-- 16 MiB --> and\n"
            "    ![a 5 by 5 input](../../graphs/dl/cnn/x.svg) in CIFAR-10 (Lin, 2013).\n\n"
            "```py\n>>> 1 + 1\n2\n```\n")
    assert scan(page) == []
    assert scan("# T\n\n## A\n\nRounds of a third of a second, a hundred million, seven times.\n") == [
        "a third of", "a hundred million", "seven times"]
    assert scan("# T\n\n## A\n\nA ```py``` fence does not run:\n\n```py\n>>> 12\n12\n```\n\nso 12 is typed.\n") == ["12"]


def test_a_notebook_setting_is_checked_by_the_code_that_uses_it():
    """The issue's case: the training notebook's prose said 15 epochs; the code must say so too."""
    def notebook(code):
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_markdown_cell("# T"), nbformat.v4.new_markdown_cell("## Training\n\n15 epochs."),
                    nbformat.v4.new_code_cell(code)]
        return [n for _, n, _ in unchecked(notebook_sections("notebooks/x.ipynb", nb))]

    assert notebook("batch, lr, epochs = 32, 0.1, 15") == []
    assert notebook("batch, lr, epochs = 32, 0.1, 20") == ["15"]
