"""MkDocs hook (`hooks: [hooks/performance.py]`): the Performance page's tables and chart, from benchmarks/results.json.

Nothing on docs/performance.md is typed by hand: at build time its markers (hooks/markers.py) become
- `<!-- cnnref:machine -->`: what measured the numbers, and when;
- `<!-- cnnref:case-table -->`: the layer shapes of the benchmark's cases;
- `<!-- cnnref:conv-table -->`: one row per case of benchmarks/bench_conv.py and dtype;
- `<!-- cnnref:verdict -->`: how many targets were met, and the missed ones with their floor;
- `<!-- cnnref:build-table -->`: the site build, test-suite and fresh-clone CI times with their targets;
- `<!-- cnnref:lighthouse -->`: the Lighthouse medians of every page of the nav, from
  benchmarks/lighthouse-results.json (tools/lighthouse.py), with the machine's load; a page of the nav
  that the file does not cover is listed as not measured;
- `<!-- cnnref:block-size -->`, `small-block`, `small-width`: the tuned conv2d's constants, read from
  its module (the most X_col bytes multiplied at once; a block of the threaded path; its K (F F D1 + 1));
- `<!-- cnnref:test-quality -->`: how strong the tests are, from benchmarks/property-coverage.json
  (`make property-coverage`) and benchmarks/mutation.json (`make mutation`);
and the chart graphs/performance/conv-vs-torch.svg is drawn (File.generated: nothing lands in docs/).
The page shows the chart inline, in its colour scheme: it is drawn with placeholder colours that the
SVG turns into CSS variables the site sets for its light and dark schemes (docs/stylesheets/extra.css;
the same convention as the notebooks' figures, docs/notebooks/_nbutils.py), the light colours as
fallback where no stylesheet sets them (the SVG opened alone).
"""

import io
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # hooks/ is a folder of the repository, not an installed package
    sys.path.append(str(ROOT))

from properdocs.exceptions import PluginError  # noqa: E402
from properdocs.structure.files import File  # noqa: E402

from hooks.markers import expand, marker  # noqa: E402

from cnnref import fast_conv  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results.json"
LIGHTHOUSE = ROOT / "benchmarks" / "lighthouse-results.json"
_NAV = []  # (URL path, source file) of every page in the nav, in order: filled by on_nav
CHART = "graphs/performance/conv-vs-torch.svg"
# Placeholder colour -> (CSS variable, light value): see the module's docstring.
THEME = {
    "#0c0c01": ("--cnnref-plot-ink", "#1f1f1f"),
    "#0c0c02": ("--cnnref-plot-muted", "#6e7781"),
    "#0c0c06": ("--cnnref-plot-green", "#1a7f37"),
    "#0c0c07": ("--cnnref-plot-red", "#cf222e"),
    "#0c0c05": ("--cnnref-plot-grey", "#5f6368"),
}
INK, MUTED, GREEN, RED, GREY = THEME
IMG = re.compile(r'<img alt="(?P<alt>[^"]*)" src="(?P<src>[^"]*' + re.escape(CHART) + r')"\s*/?>')


def load(path=RESULTS):
    return json.loads(Path(path).read_text())


def _ms(row, key):
    return f"{row['ms'][key]:.2f}" if key in row["ms"] else "-"


def case_table(results):
    """The layer shapes of the benchmark's cases, once each."""
    lines = ["| case | input | filters | S | P |", "|---|---|---|--:|--:|"]
    seen = set()
    for r in results["conv"]:
        if r["case"] not in seen:
            seen.add(r["case"])
            lines.append(f"| {r['case']} | {r['input']} | {r['filters']} | {r['S']} | {r['P']} |")
    return "\n".join(lines)


def _ratio(row, key):
    return f"{row[key]:.2f}" if key in row else "-"


def conv_table(results):
    """The benchmark's table in Markdown: one row per case and dtype."""
    lines = [
        "| case | N | dtype | conv2d / torch | rounds: lowest-highest | target | conv2d ms | torch ms "
        "| conv2d GFLOP/s | torch GFLOP/s | conv2d_naive ms | one core: conv2d / torch | one matmul alone / torch |",
        "|---|--:|---|--:|--:|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in results["conv"]:
        target = f"<= {r['target']}, {'met' if r['ok'] else '**missed**'}" if "target" in r else "-"
        torch_gflops = f"{r['gflops']['torch']:.1f}" if "torch" in r["gflops"] else "-"
        spread = "{:.2f}-{:.2f}".format(*r["ratio_range"]) if "ratio_range" in r else "-"
        lines.append(
            f"| {r['case']} | {r['N']} | {r['dtype']} | {_ratio(r, 'ratio')} | {spread} | {target} "
            f"| {_ms(r, 'cnnref')} | {_ms(r, 'torch')} | {r['gflops']['cnnref']:.1f} | {torch_gflops} "
            f"| {_ms(r, 'naive')} | {_ratio(r, 'one_core_ratio')} | {_ratio(r, 'matmul_ratio')} |"
        )
    return "\n".join(lines)


def verdict(results):
    """How many targets the committed run met, and for each missed one how far the one multiply alone already is."""
    rows = [r for r in results["conv"] if "target" in r]
    missed = [r for r in rows if not r["ok"]]
    lines = [f"**{len(rows) - len(missed)} of {len(rows)} targets met** in this run." + (" Missed:" if missed else ""), ""]
    if missed:
        for r in missed:
            line = f"- {r['case']}, N = {r['N']}, {r['dtype']}: {r['ratio']:.2f} > {r['target']}."
            floor = r.get("matmul_ratio")
            if floor is not None:
                room = ("above the target before any copy" if floor > r["target"]
                        else f"leaving {r['target'] - floor:.2f} x for building `X_col`")
                line += f" The one multiply of plain im2col alone takes {floor:.2f} x torch's time ({room})."
            if "one_core_ratio" in r:
                line += f" With one thread each: {r['one_core_ratio']:.2f} x."
            lines.append(line)
    return "\n".join(lines)


def _load(entry):
    """" (load 2.1 at the start)": how busy the machine was when the measure started (1-minute load average)."""
    load = entry.get("load_average")
    return f" (load {load[0]:g} at the start)" if load else ""


def build_table(results):
    """Peak memory, site build and test-suite times against their targets, as a Markdown table."""
    lines = ["| measure | value | target | met |", "|---|--:|--:|---|"]
    m = results.get("memory")
    if m:
        lines.append(
            f"| peak memory of conv2d, {m['case']} | {m['peak_bytes'] / 2**20:.1f} MiB = {m['ratio']:.2f} x X_col "
            f"({m['X_col_bytes'] / 2**20:.1f} MiB) | <= {m['target']} x X_col | {'yes' if m['ok'] else '**no**'} |"
        )
    for key, what in (("site", "full site build from clean"), ("tests", "every test (the README's command)"),
                      ("ci", "CI from a fresh clone, set-up included")):
        if key in results:
            r = results[key]
            command = r["command"] if key == "ci" else f"{Path(r['command'].split()[0]).name} {' '.join(r['command'].split()[1:3])}"
            lines.append(
                f"| {what}: `{command}` "
                f"| {r['seconds']:.1f} s{_load(r)} | < {r['target']:g} s | {'yes' if r['ok'] else '**no**'} |"
            )
    return "\n".join(lines)


def machine(results):
    """One paragraph naming the machine, the libraries, the thread counts and the date."""
    m = results["machine"]
    pools = "; ".join(
        " ".join(str(b[k]) for k in ("internal_api", "version") if b.get(k))
        + (f" with {b['architecture']} kernels" if b.get("architecture") else "")
        + f", {b['num_threads']} threads"
        for b in m["blas"]
    )
    torch = f"PyTorch {m['torch']} ({m['torch_threads']} threads)" if m.get("torch") else "no PyTorch"
    return (
        f"Measured on {m['date']}, CPU: {m['cpu']}, {m['cores']} cores (load average "
        f"{', '.join(map(str, m['load_average']))} at the start); Python {m['python']}, NumPy {m['numpy']}, "
        f"{torch}; cnnref's threads: {m['cnnref_threads']}; NumPy's thread pools (threadpoolctl): {pools}. "
        f"Timing: {m['method']}."
    )


def chart(results):
    """SVG: time of conv2d relative to torch per case, with each case's target."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    rows = [r for r in results["conv"] if "ratio" in r]
    labels = [f"{r['case']}, N = {r['N']}, {r['dtype']}" for r in rows]
    theme = {"text.color": INK, "axes.edgecolor": INK, "axes.labelcolor": INK, "xtick.color": INK,
             "ytick.color": INK, "figure.facecolor": "none", "axes.facecolor": "none", "savefig.facecolor": "none"}
    with matplotlib.rc_context({"svg.hashsalt": "cnnref-performance", "svg.fonttype": "none", "font.size": 10, **theme}):
        fig, ax = plt.subplots(figsize=(7.5, 0.45 * len(rows) + 1.2))
        y = range(len(rows))
        kinds = {"met": GREEN, "missed": RED, "no target": GREY}
        kind = ["no target" if "ok" not in r else "met" if r["ok"] else "missed" for r in rows]
        ax.barh(y, [r["ratio"] for r in rows], color=[kinds[k] for k in kind])
        for i, r in enumerate(rows):
            if "target" in r:
                ax.plot([r["target"]] * 2, [i - 0.4, i + 0.4], color=INK, lw=2)
            ax.text(max(r["ratio"], r.get("target", 0)) + 0.03, i, f"{r['ratio']:.2f}", va="center")  # clear of the mark
        handles = [Patch(color=kinds[k], label=k) for k in kinds if k in kind]
        handles.append(Line2D([], [], color=INK, lw=2, label="target"))
        ax.axvline(1.0, color=MUTED, ls=":", lw=1)
        ax.set_yticks(list(y), labels)
        ax.invert_yaxis()
        ax.set_xlabel("time of cnnref.conv2d / time of torch.nn.functional.conv2d (lower is faster)")
        ax.set_xlim(0, max([2.2] + [r["ratio"] * 1.15 for r in rows]))
        ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=len(handles), frameon=False, title="conv2d time / torch time")
        fig.tight_layout()
        out = io.StringIO()
        fig.savefig(out, format="svg", metadata={"Date": None}, transparent=True)
        plt.close(fig)
    svg = out.getvalue()
    for colour, (variable, light) in THEME.items():
        svg = svg.replace(colour, f"var({variable}, {light})")
    return svg


def inline_chart(html, svg):
    """The page's <img> of the chart -> the chart's SVG itself, so that it takes the page's colour scheme."""
    def inline(m):
        body = svg[svg.index("<svg"):]
        width = float(re.search(r'<svg[^>]*\bwidth="([\d.]+)pt"', body)[1])
        smallest = min(float(v) for v in re.findall(r"font-size: ?([\d.]+)px", body))
        legible = -(-9 * width // smallest)  # the width at which its smallest text is 9 CSS px
        return (f'<div class="cnnref-plot" role="img" aria-label="{m["alt"]}" style="--cnnref-legible: {legible:.0f}px"'
                f' data-search-exclude>{body}</div>')

    return IMG.sub(inline, html, count=1)


COVERAGE = ROOT / "benchmarks" / "property-coverage.json"
MUTATION = ROOT / "benchmarks" / "mutation.json"


def strength(_results, coverage_path=COVERAGE, mutation_path=MUTATION):
    """Branch coverage of cnnref by the property tests alone, and the mutation score, with what they leave out."""
    missing = [f"`benchmarks/{Path(path).name}` (`make {what}`)" for path, what in
               ((Path(coverage_path), "property-coverage"), (Path(mutation_path), "mutation")) if not Path(path).is_file()]
    if missing:
        return "Not measured yet: " + " and ".join(missing) + " must be run and committed first."
    cov, mut = load(coverage_path), load(mutation_path)
    lines = [
        f"**Property tests.** Run alone ({cov['tests']}), they reach {cov['branches_covered']:,} of "
        f"{cov['branches']:,} branches and {cov['statements_covered']:,} of {cov['statements']:,} statements of "
        f"`cnnref` (`{cov['command']}`, {cov['date']}). What they leave unreached, and why:",
        "",
        "| where | code | why no property test reaches it |",
        "|---|---|---|",
    ]
    lines += [f"| `{u['file']}:{u['line']}` | `{u['code']}` | {u['reason']} |" for u in cov["uncovered"]]
    killed = mut["killed"] + mut["timeout"] + mut["crashed"]
    run, not_run = mut["modules_run"], mut.get("modules_not_run", {})
    scope = (f"all {len(run)} modules of `cnnref`" if not not_run else
             f"{len(run)} of the {len(run) + len(not_run)} modules of `cnnref` ({', '.join(f'`{m}`' for m in run)})")
    lines += [
        "",
        f"**Mutation testing.** {mut['tool']} changed {scope} in {mut['mutants']:,} ways, one small change "
        f"each (an operator, a constant, a default, an argument dropped), and ran against each the tests that "
        f"reach the changed function: {mut['tests']}. {killed:,} mutants were killed ({mut['timeout']} by a "
        f"timeout, {mut['crashed']} by crashing the tests' process); {mut['survived']} survived, {mut['equivalent']} of which compute exactly what the original "
        f"computes (equivalent mutants, each listed with its reason in `benchmarks/mutation-equivalent.md`); "
        f"{mut['no_tests']} were reached by no test. **Score: {mut['score']:.1%}** of the mutants that are "
        f"not equivalent were killed, in the modules run (`{mut['command']}`, {mut['date']}).",
        "",
        "| module | mutants | killed | survived |",
        "|---|--:|--:|--:|",
    ]
    for module, counts in mut["per_module"].items():
        caught = counts.get("killed", 0) + counts.get("timeout", 0) + counts.get("crashed", 0)
        lines.append(f"| `cnnref.{module}` | {sum(counts.values()):,} | {caught:,} "
                     f"| {counts.get('survived', 0)} |")
    if not_run:
        lines += [
            "",
            f"**Not run yet: {len(not_run)} modules, {mut['mutants_not_run']:,} mutants** (a whole run takes hours on "
            f"this machine's two shared cores; `make mutation MODULES=\"...\"` runs some). mutmut's worst case for "
            f"them is {mut['worst_case_minutes_not_run']:,} minutes on {mut['workers']} workers: every mutant running "
            f"every test that reaches its function, as a survivor does. A killed mutant stops at its first failing "
            f"test: the modules run here took {mut['test_minutes_run']:,} minutes of tests against a worst case of "
            f"{mut['worst_case_minutes_run']:,}.",
            "",
            "| module not run | mutants | checked (left out of the score) | worst case, minutes |",
            "|---|--:|--:|--:|",
        ]
        for module, entry in not_run.items():
            lines.append(f"| `cnnref.{module}` | {entry['mutants']:,} | {entry['checked']:,} | {entry['worst_case_minutes']:,} |")
    return "\n".join(lines)


def mib(n_bytes):
    return f"{n_bytes / 2**20:g} MiB"


def lighthouse(lh, nav):
    """The Lighthouse medians of each page of the nav (desktop / mobile), against the targets, as Markdown."""
    cats = [("performance", "performance"), ("accessibility", "accessibility"),
            ("best-practices", "best practices"), ("seo", "SEO")]
    targets = lh["targets"]
    want = ", ".join(f"{what} {targets['desktop'][c]:g} / {targets['mobile'][c]:g}" for c, what in cats)
    load = lh.get("load_average")
    busy = (f"; load average {load['start'][0]:g} at the start, {load['end'][0]:g} at the end" if load
            else "; load not recorded")
    lines = [
        f"Measured on {lh['date'][:10]} with {lh['tool']} and {lh['chromium']}, median of "
        f"{lh['runs_per_setting']} runs per page and form factor, the site served gzipped from this machine "
        f"({lh.get('cores', '?')} cores{busy}: a busy machine lowers performance). Targets (desktop / mobile): {want}. "
        + (f"**Missed: {len(lh['missed'])}.**" if lh["missed"] else "**Every target met.**"),
        "",
        "| page | " + " | ".join(what for _, what in cats) + " | load before (desktop / mobile) |",
        "|---|" + "--:|" * (len(cats) + 1),
    ]
    for path, src in nav:
        forms = lh["results"].get(path)
        link = f"[{path}]({src})"
        if not forms or not {"desktop", "mobile"} <= set(forms):
            lines.append(f"| {link} | " + " | ".join("not measured" for _ in cats) + " | - |")
            continue

        def cell(cat):
            scores = [forms[f]["median"][cat] for f in ("desktop", "mobile")]
            text = " / ".join(f"{v:g}" for v in scores)
            met = all(v >= targets[f][cat] for v, f in zip(scores, ("desktop", "mobile")))
            return text if met else f"**{text}**"

        load = " / ".join(f"{forms[f]['load_average']['before'][0]:g}" if "load_average" in forms[f] else "-"
                          for f in ("desktop", "mobile"))
        lines.append(f"| {link} | " + " | ".join(cell(c) for c, _ in cats) + f" | {load} |")
    return "\n".join(lines)


PARTS = {  # marker name -> Markdown from the results (the tuned kernel's constants from its module)
    "machine": machine, "case-table": case_table, "conv-table": conv_table, "verdict": verdict,
    "build-table": build_table,
    "lighthouse": lambda results: lighthouse(results["lighthouse"], _NAV),
    "block-size": lambda _: mib(fast_conv._BLOCK),
    "small-block": lambda _: mib(fast_conv._SMALL_BLOCK),
    "small-width": lambda _: str(fast_conv._SMALL_WIDTH),
    "test-quality": strength,
}


def render_page(markdown, results, where="performance.md"):
    """The page with every marker of this hook replaced by Markdown from `results`; an unknown or misplaced
    marker is a PluginError."""
    return expand(markdown, where, "performance", lambda name: PARTS[name](results))


def on_nav(nav, config, files):
    _NAV[:] = [("/" + page.url, page.file.src_uri) for page in nav.pages]
    return nav


_chart = {}  # the chart's SVG, drawn once per build


def on_files(files, config):
    _chart["svg"] = chart(load())
    files.append(File.generated(config, CHART, content=_chart["svg"]))
    return files


def on_page_content(html, page, config, files):
    return inline_chart(html, _chart["svg"]) if "svg" in _chart and CHART in html else html


def on_page_markdown(markdown, page, config, files):
    where = page.file.src_uri
    results = {}

    def render(name):  # results.json is read only by a page that has a marker of this hook
        if not results:
            for key, path in (("", RESULTS), ("lighthouse", LIGHTHOUSE)):
                try:
                    data = load(path)
                except (OSError, ValueError) as err:
                    raise PluginError(f"{where}: {marker(name)}: cannot read {path.relative_to(ROOT)}: {err}") from err
                results.update({key: data} if key else data)
        return PARTS[name](results)

    return expand(markdown, where, "performance", render)
