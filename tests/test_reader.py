"""What a reader gets from the notes' Markdown (issue 18): the explanations of the cs231n page the notes
had skipped, exercises with checked answers, links that say where they go, the example open.

The snippets themselves run under Sybil (conftest.py); these tests check that the boxes and exercises
are there, each with a snippet whose printed output is compared (a `>>>` line followed by output).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTES = ROOT / "docs" / "dl" / "cnn"
NAV_ENTRY = re.compile(r"^\s+- (?:[^:\n]+: )?dl/cnn/([\w-]+)\.md\s*$", re.MULTILINE)
BOX = re.compile(r'^(?P<fence>!!!|\?\?\?\+?) (?P<kind>\w+) "(?P<title>[^"]*)"\s*$', re.MULTILINE)

# The cs231n explanations the notes had condensed away: page, box title, what its text and snippet must hold.
CS231N = [
    ("architecture", "Why Not Fully Connected Layers?", ["3,072", "120,000", "(3072, 120000)", "width, height and depth"]),
    ("conv-layer", "Local Connectivity and the Depth Column",
     ["local", "full in depth", "[32x32x3]", "(75, 1)", "[16x16x20]", "(180, 1)", "_depth column_"]),
    ("conv-layer", "Padding That Keeps the Size", ["P = (F - 1)/2", "[32, 32, 32, 32]"]),
    ("conv-layer", "When Parameter Sharing Is Not Reasonable", ["faces", "_locally connected layer_", "conv2d(X, W))\n    True"]),
    ("conv-layer", "Backpropagation: a Convolution with Flipped Filters",
     ["conv2d_backward(dV, X, W)", "conv2d_naive(zero_pad(dV, 2), flipped))\n    True", "W[:, ::-1, ::-1, :]"]),
    ("pooling", "Backpropagation: the Switches", ["_switches_", "max_pool_backward"]),
    ("architecture", "Prefer a Stack of Small Filters to One Large Filter",
     ["49 C^2", "27 C^2", "conv_params(F=3", "conv_params(F=7", "27.0 49.0", "5 5\n    7 7"]),
]


def notes_pages() -> list[str]:
    pages = NAV_ENTRY.findall((ROOT / "properdocs.yml").read_text(encoding="utf-8"))
    assert len(pages) > 1 and pages[0] == "index", pages
    return pages


def boxes(text: str) -> dict[str, str]:
    """{box title without its bold label: its indented body} of a page."""
    found = {}
    for m in BOX.finditer(text):
        body = []
        for line in text[m.end():].split("\n")[1:]:
            if line.strip() and not line.startswith("    "):
                break
            body.append(line)
        title = re.sub(r"^\*\*[^*]+\*\* \((.*)\)$", r"\1", m["title"])
        found[title] = "\n".join(body)
    return found


def checked_snippets(body: str) -> int:
    """How many ```python fences of a box print something that Sybil compares (a >>> line, then output)."""
    count = 0
    for fence in re.findall(r"```python\n(.*?)```", body, re.DOTALL):
        lines = [line.strip() for line in fence.splitlines()]
        count += any(a.startswith((">>>", "...")) and b and not b.startswith((">>>", "...")) for a, b in zip(lines, lines[1:]))
    return count


@pytest.mark.parametrize(("page", "title", "contents"), CS231N, ids=[t for _, t, _ in CS231N])
def test_cs231n_explanations_are_boxes_with_a_checked_snippet(page, title, contents):
    text = (NOTES / f"{page}.md").read_text(encoding="utf-8")
    found = boxes(text)
    assert title in found, f"{page}.md has no box titled {title!r}; its boxes: {sorted(found)}"
    body = found[title]
    assert checked_snippets(body) >= 1, f"{title!r} has no snippet with checked output"
    missing = [c for c in contents if c not in body]
    assert not missing, f"{title!r} does not say {missing}"
    kind = re.search(rf'^(?:!!!|\?\?\?\+?) (\w+) "[^"]*\({re.escape(title)}\)"', text, re.MULTILINE)[1]
    assert kind in {"df", "eg", "im", "nt"}, f"{title!r} is a {kind!r} box, not one of the notes' kinds"


def test_the_depth_column_is_defined_before_the_pages_that_use_it():
    order = notes_pages()
    defined = order.index("conv-layer")
    for page in order:
        text = (NOTES / f"{page}.md").read_text(encoding="utf-8")
        if "depth column" in text and page != "conv-layer":
            assert order.index(page) > defined or "conv-layer.md#local-connectivity-and-the-depth-column" in text, page


@pytest.mark.parametrize("page", ["index", "convolutions", "architecture", "conv-layer", "pooling", "fc-layer"])
def test_every_notes_page_ends_with_exercises_and_checked_answers(page):
    """Each exercise is a box: the question, then its answer collapsed inside it, with a snippet whose output
    the tests compare (the question's numbers are checked in its section: tests/test_prose_numbers.py)."""
    assert page in notes_pages()
    text = (NOTES / f"{page}.md").read_text(encoding="utf-8")
    heads = re.findall(r"^## (.+)$", text, re.MULTILINE)
    assert heads and heads[-1] == "Exercises", f"{page}.md: the last section is {heads[-1:]}, not Exercises"
    section = text[text.index("\n## Exercises\n"):]
    questions = re.findall(r'^!!! question "Exercise (\d+)"$', section, re.MULTILINE)
    assert questions and questions == [str(n) for n in range(1, len(questions) + 1)], questions
    parts = re.split(r'^!!! question "Exercise \d+"\n', section, flags=re.MULTILINE)[1:]
    for n, part in enumerate(parts, 1):
        box = part.split("\n!!! ")[0]
        question, _, answer = box.partition('    ??? success "Answer"\n')
        assert question.strip() and "?" in question, f"{page}.md exercise {n}: no question before the answer"
        assert answer, f"{page}.md exercise {n}: no collapsed answer (??? success \"Answer\") inside the box"
        assert checked_snippets(answer) >= 1, f"{page}.md exercise {n}: no checked number in the answer"


LINK = re.compile(r"(?<!!)\[(?P<text>[^\]]*)\]\((?P<target>[^)\s]+)\)")  # not images


def test_links_that_say_above_or_below_stay_on_their_page():
    """'definition above' linking to another page sends a reader somewhere they did not expect."""
    wrong = []
    for path in sorted((ROOT / "docs").rglob("*.md")):
        for m in LINK.finditer(path.read_text(encoding="utf-8")):
            if re.search(r"\b(above|below|earlier|later)\b", m["text"], re.IGNORECASE) and not m["target"].startswith("#"):
                wrong.append(f"{path.relative_to(ROOT)}: [{m['text']}]({m['target']})")
    for path in sorted((ROOT / "docs").rglob("*.ipynb")):
        for m in LINK.finditer(path.read_text(encoding="utf-8")):
            if re.search(r"\b(above|below|earlier|later)\b", m["text"], re.IGNORECASE) and not m["target"].startswith("#"):
                wrong.append(f"{path.relative_to(ROOT)}: [{m['text']}]({m['target']})")
    assert not wrong, "links that say above/below but lead to another page:\n" + "\n".join(wrong)


def test_the_architecture_example_is_open_by_default():
    """The CIFAR-10 example is the page's content: not hidden in a closed box."""
    text = (NOTES / "architecture.md").read_text(encoding="utf-8")
    box = re.search(r'^(\S+) eg "\*\*Example\*\* \(ConvNet Architecture for CIFAR-10 Classification\)"', text, re.MULTILINE)
    assert box and box[1] in ("!!!", "???+"), box and box[1]


# The code one click away: the built site --------------------------------------------------------------


def _config():
    from sitetools import load_config

    return load_config()


def test_every_page_links_the_repository_without_asking_github_for_stars(built_site):
    repo = _config().repo_url
    assert repo and repo.startswith("https://")
    for page in sorted(built_site.rglob("*.html")):
        html = page.read_text(encoding="utf-8")
        links = re.findall(r'<a href="([^"]*)" title="[^"]*" class="md-source"([^>]*)>', html)
        assert links, f"{page.relative_to(built_site)}: no repository link in the header"
        # data-md-component="source" makes Material's script fetch api.github.com for stars and forks.
        assert all(href == repo and "data-md-component" not in rest for href, rest in links), (page, links)


def test_no_page_is_drawn_before_its_header_and_palette_script_are_parsed(built_site):
    """overrides/main.html: a render-blocking <link rel="expect"> names a marker placed after the header and the
    palette toggle's script, so a page drawn while still parsing never shows a half header that moves later
    (test_browser_demo's layout-shift test caught the search box moving 262 px on a loaded machine)."""
    expect = re.compile(r'<link rel="expect" href="#([\w-]+)" blocking="render">')
    for page in sorted(built_site.rglob("*.html")):
        html = page.read_text(encoding="utf-8")
        head, _, body = html.partition("</head>")
        found = expect.findall(head)
        assert len(found) == 1, f"{page.relative_to(built_site)}: render-blocking expect links in <head>: {found}"
        assert body.count(f'id="{found[0]}"') == 1, f"{page.relative_to(built_site)}: not one element #{found[0]} to wait for"
        palette = body.find("form[data-cnnref-palette]")  # the toggle's script, right after the header
        assert 0 <= body.find("</header>") < palette < body.find(f'id="{found[0]}"'), (
            f"{page.relative_to(built_site)}: #{found[0]} is not after them")


def test_home_page_says_how_to_install_and_clone(built_site):
    repo = _config().repo_url
    from bs4 import BeautifulSoup

    soup = BeautifulSoup((built_site / "index.html").read_text(encoding="utf-8"), "html.parser")
    code = "\n".join(block.get_text() for block in soup.select("pre code"))
    assert f'pip install "cnnref @ git+{repo}"' in code
    assert f"git clone {repo}" in code


def test_the_footer_credits_cs231n_with_a_link(built_site):
    from bs4 import BeautifulSoup

    soup = BeautifulSoup((built_site / "index.html").read_text(encoding="utf-8"), "html.parser")
    credit = soup.select_one(".md-copyright__highlight")
    links = [a for a in credit.find_all("a") if "cs231n" in a.get_text()]
    assert links and links[0]["href"].startswith("https://cs231n.github.io/"), credit


def test_notebook_pages_offer_the_notebook_and_its_helper_for_download(built_site):
    import ast
    import json

    from bs4 import BeautifulSoup

    notebooks = sorted((ROOT / "docs" / "notebooks").glob("*.ipynb"))
    assert notebooks
    helper = ROOT / "docs" / "notebooks" / "_nbutils.py"
    tree = ast.parse(helper.read_text(encoding="utf-8"))
    defined = {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    defined |= {target.id for node in tree.body if isinstance(node, ast.Assign) for target in ast.walk(node.targets[0])
                if isinstance(target, ast.Name)}
    for source in notebooks:
        page = built_site / "notebooks" / source.stem / "index.html"
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        downloads = {a["href"]: a for a in soup.select("article a[download]")}
        assert source.name in downloads and "../_nbutils.py" in downloads, (source.name, sorted(downloads))
        assert (page.parent / source.name).read_bytes() == source.read_bytes()  # the notebook as committed
        assert (page.parent / "../_nbutils.py").resolve().read_bytes() == helper.read_bytes()
        code = "\n".join("".join(c["source"]) for c in json.loads(source.read_text())["cells"] if c["cell_type"] == "code")
        imported = {alias.name for node in ast.walk(ast.parse(code))
                    if isinstance(node, ast.ImportFrom) and node.module == "_nbutils" for alias in node.names}
        assert imported, f"{source.name} imports nothing from _nbutils"
        missing = imported - defined
        assert not missing, f"{source.name} imports {missing} that _nbutils.py does not define"
        assert re.search(r'pip install "cnnref\[docs\] @ git\+', soup.select_one(".cnnref-downloads").get_text())


def test_api_back_references_to_the_notes_are_links(built_site):
    from bs4 import BeautifulSoup

    page = built_site / "api" / "index.html"
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    mentions = [t for t in soup.find_all(string=re.compile(r"/dl/cnn/")) if not t.find_parent(["code", "pre"])]
    assert len(mentions) >= 5
    for text in mentions:
        link = text.find_parent("a")
        assert link is not None, f"a back-reference that is not a link: {text!r}"
        path, _, anchor = link["href"].partition("#")
        target = (page.parent / path / "index.html").resolve()
        assert target.is_file(), link["href"]
        assert not anchor or f'id="{anchor}"' in target.read_text(encoding="utf-8"), link["href"]


def test_griffe_extension_links_back_references_to_the_notes_pages():
    import importlib.util

    spec = importlib.util.spec_from_file_location("griffe_doctest_links", ROOT / "hooks" / "griffe_doctest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text = "Defined for (page: CNN notes,\n/dl/cnn/fc-layer/#converting-fc-layers-to-conv-layers), see /dl/cnn/.\n\n>>> '/dl/cnn/x/'\n'/dl/cnn/x/'"
    assert module.doctests_to_fences(text) == (
        "Defined for (page: CNN notes,\n"
        "[/dl/cnn/fc-layer/#converting-fc-layers-to-conv-layers](dl/cnn/fc-layer.md#converting-fc-layers-to-conv-layers)),"
        " see [/dl/cnn/](dl/cnn/index.md).\n\n```pycon\n>>> '/dl/cnn/x/'\n'/dl/cnn/x/'\n```"
    )


def test_search_indexes_each_formula_once_and_tags_the_notes_terms(built_site):
    import json

    index = json.loads((built_site / "search" / "search_index.json").read_text(encoding="utf-8"))
    docs = {d["location"]: d for d in index["docs"]}
    stride = docs["dl/cnn/conv-layer/#stride"]
    assert "The stride S is" in stride["text"], stride["text"][:80]  # not "SS": the HTML copy is not indexed
    assert "stride" in stride.get("tags", []) and stride["boost"] > docs["dl/cnn/conv-layer/#why-stride-1"]["boost"]
    assert "im2col" in docs["dl/cnn/conv-layer/#implementation-as-matrix-multiplication"].get("tags", [])
    assert all(d.get("boost", 1) < 1 for loc, d in docs.items() if loc.startswith(("api/", "notebooks/")))


def test_search_ranking_tags_a_term_where_the_notes_introduce_it():
    import importlib.util

    spec = importlib.util.spec_from_file_location("search_ranking", ROOT / "hooks" / "search_ranking.py")
    ranking = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ranking)
    page = ('<h1 id="p">P</h1><p>intro <em>1x1</em></p><h2 id="a">A</h2><p>The <em>stride</em> S</p>'
            '<h2 id="b">B</h2><p>again the <em>stride</em>, and <em>Zero-padding</em> and <em>im2col</em></p>')
    introduced = ranking.section_terms(page, "dl/x/")
    assert introduced == {"dl/x/#a": ["stride"], "dl/x/#b": ["stride", "zero-padding", "im2col"]}
    index = {"docs": [{"location": "dl/x/", "title": "P"}, {"location": "dl/x/#a", "title": "Definition (Stride)"},
                      {"location": "dl/x/#b", "title": "B"}, {"location": "notebooks/n/", "title": "N"},
                      {"location": "api/", "title": "API", "boost": 0.5}]}
    docs = {d["location"]: d for d in ranking.rank(index, introduced)["docs"]}
    assert docs["dl/x/#a"]["tags"] == ["stride"] and docs["dl/x/#b"]["tags"] == ["zero-padding", "im2col"]
    assert (docs["dl/x/"]["boost"], docs["dl/x/#a"]["boost"], docs["dl/x/#b"]["boost"]) == (2.0, 4.0, 2.0)
    assert docs["notebooks/n/"]["boost"] == 0.5 and docs["api/"]["boost"] == 0.5 and "tags" not in docs["api/"]


# The trained digits net drives the figures that show a trained net -------------------------------------


def _notebook_code(name: str) -> str:
    import json

    nb = json.loads((ROOT / "docs" / "notebooks" / f"{name}.ipynb").read_text(encoding="utf-8"))
    return "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")


def test_the_figures_train_the_digits_net_as_the_training_notebook_does():
    import sys

    sys.path.insert(0, str(ROOT))
    from graphs import digits

    code = _notebook_code("training")
    assert f"batch, lr, epochs = {digits.BATCH}, {digits.LR}, {digits.EPOCHS}" in code
    assert f"test_size={digits.TEST_SIZE}, random_state={digits.SPLIT_SEED}, stratify=y" in code.replace("\n", " ").replace("    ", "")
    assert f"net = Net((8, 8, 1), layers, seed={digits.NET_SEED})" in code
    assert f"rng = np.random.default_rng({digits.ORDER_SEED})\nbatch, lr, epochs" in code
    from cnnref import ConvLayer, FCLayer, PoolLayer, ReLULayer

    listed = re.search(r"^layers = (\[.*?\])\n", code, re.DOTALL | re.MULTILINE)[1]
    namespace = {"ConvLayer": ConvLayer, "FCLayer": FCLayer, "PoolLayer": PoolLayer, "ReLULayer": ReLULayer}
    assert [layer.describe() for layer in eval(listed, namespace)] == [layer.describe() for layer in digits.layers()]


def test_the_activations_figure_shows_the_trained_net_with_labelled_classes():
    import sys

    import matplotlib

    sys.path.insert(0, str(ROOT))
    from graphs import digits, network
    from graphs._style import RC

    net, outs, label = network.activations()
    assert net is digits.trained()[0]
    _, X_test, _, y_test = digits.data()
    assert (net(X_test).argmax(axis=1) == y_test).mean() >= 0.95  # trained, not random
    assert int(outs[-1].argmax()) == label
    with matplotlib.rc_context(RC):
        fig = network.draw_activations()
    scores = fig.axes[-1]
    assert [t.get_text() for t in scores.get_yticklabels()] == [str(k) for k in range(10)]
    images = [im for ax in fig.axes for im in ax.get_images()]
    assert images and all(im.get_cmap().N == 256 and im.get_cmap()(0.5)[:3] == (im.get_cmap()(0.5)[0],) * 3
                          for im in images), "grey scale"
    alt = network.ALT["cnn-activations"]
    assert f"test digit {label}" in alt and "trained" in alt and "untrained" not in alt and "0 to 9" in alt


def test_the_training_page_says_whose_blas_each_version_is(built_site):
    import html

    page = html.unescape(re.sub(r"<[^>]+>", "", (built_site / "notebooks" / "training" / "index.html").read_text(encoding="utf-8")))
    line = re.search(r"BLAS: (.*)", page)[1]
    versions = re.findall(r"(\w+) ([\d.]+) \(([^)]+)\)", line)
    assert len(versions) >= 1 and all(owner.endswith("'s") for _, _, owner in versions), line
    assert any(owner == "NumPy's" for _, _, owner in versions), line


NOISE = re.compile(r"\b(nois\w*|busy|shared|burst|interrupt\w*|load from other)\b", re.IGNORECASE)


@pytest.mark.parametrize("name", ["loops-to-blas", "sliding-convnet", "training"])
def test_notebook_prose_spends_little_on_timing_noise(name):
    """The notebooks teach convolutions: caveats about timing on a shared machine get two sentences at most
    (the first cell prints the machine and its load for whoever wants more)."""
    import json

    nb = json.loads((ROOT / "docs" / "notebooks" / f"{name}.ipynb").read_text(encoding="utf-8"))
    prose = " ".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    about_noise = [s for s in re.split(r"(?<=[.!?])\s+", prose) if NOISE.search(s)]
    assert len(about_noise) <= 2, "\n".join(about_noise)
