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
- `<!-- cnnref:block-size -->`, `small-block`, `small-width`, `keep-size`: the tuned conv2d's constants, read
  from its module (the most X_col bytes multiplied at once; a block of the threaded path; its K (F F D1 + 1);
  the largest buffer a thread keeps);
- `<!-- cnnref:test-quality -->`: how strong the tests are, from benchmarks/property-coverage.json
  (`make property-coverage`) and benchmarks/mutation.json (`make mutation`);
- from benchmarks/bench_nets.py's entries: `nets-machine` (how, when, under which load), `net-table`,
  `training-table`, `op-table`, `peer-table`, `walk-table`, `net-memory` and `nets-verdict` (issue 19's
  targets, met or missed, each verdict computed here from the ratio and bench_nets.py's target, each
  miss with its measured floor); a case the file lacks is rendered "not measured";
and the charts graphs/performance/conv-vs-torch.svg and nets-vs-torch.svg are drawn (File.generated:
nothing lands in docs/).
The page shows the charts inline, in its colour scheme: it is drawn with placeholder colours that the
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

from benchmarks import bench_nets  # noqa: E402  (imported now: ProperDocs restores sys.path once hooks are loaded)

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
IMG = re.compile(r'<img alt="(?P<alt>[^"]*)" src="(?P<src>[^"]*(?P<chart>graphs/performance/[\w-]+\.svg))"\s*/?>')


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
        return themed_svg(fig)


def themed_svg(fig) -> str:
    """The figure as SVG (saved inside the caller's rc_context: its hash salt), closed; its colours the page's
    CSS variables, with the light scheme's as fall-backs."""
    import matplotlib.pyplot as plt

    out = io.StringIO()
    fig.savefig(out, format="svg", metadata={"Date": None}, transparent=True)
    plt.close(fig)
    svg = out.getvalue()
    for colour, (variable, light) in THEME.items():
        svg = svg.replace(colour, f"var({variable}, {light})")
    return svg


def inline_chart(html, svgs):
    """Each <img> of a chart of this hook ({path: SVG}) -> the chart's SVG itself, so that it takes the page's
    colour scheme."""
    def inline(m):
        if m["chart"] not in svgs:
            return m[0]
        svg = svgs[m["chart"]]
        body = svg[svg.index("<svg"):]
        width = float(re.search(r'<svg[^>]*\bwidth="([\d.]+)pt"', body)[1])
        smallest = min(float(v) for v in re.findall(r"font-size: ?([\d.]+)px", body))
        legible = -(-9 * width // smallest)  # the width at which its smallest text is 9 CSS px
        return (f'<div class="cnnref-plot" role="img" aria-label="{m["alt"]}" style="--cnnref-legible: {legible:.0f}px"'
                f' data-search-exclude>{body}</div>')

    return IMG.sub(inline, html)


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
    dates = sorted({run["date"][:10] for run in lh.get("runs", [lh])})  # tools/lighthouse.py --merge: several runs
    when = f"on {dates[0]}" if len(dates) == 1 else f"between {dates[0]} and {dates[-1]} ({len(lh['runs'])} runs)"
    lines = [
        f"Measured {when} with {lh['tool']} and {lh['chromium']}, median of "
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


# --- Whole networks, the training step, every operation, the walk (benchmarks/bench_nets.py, issue 19 and 11)

NOT_MEASURED = "not measured"
NETS_CHART = "graphs/performance/nets-vs-torch.svg"


def _bench():
    """benchmarks/bench_nets.py: the cases it measures and the targets it holds them to."""
    return bench_nets


def _f(x, digits=2):
    return f"{x:.{digits}f}"


def _range(row, key="ratio_range"):
    return "{:.2f}-{:.2f}".format(*row[key]) if key in row else "-"


def _target(ratio, target, at_most=True):
    """'<= 1.3, met' or '<= 1.3, **missed**', computed from the ratio (never the file's verdict)."""
    if target is None:
        return "reported only"
    ok = ratio <= target if at_most else ratio >= target
    return f"{'<=' if at_most else '>='} {target:g}, {'met' if ok else '**missed**'}"


def _not_measured(columns, lead):
    """A table row's cells saying so, for a case the file lacks."""
    return lead + [NOT_MEASURED] + ["-"] * (columns - len(lead) - 1)


def _table(columns, rows):
    """A Markdown table: columns is [(header, align)], align "-" (text, to the left) or ":" (numbers, to the
    right); rows are lists of cells, one per column."""
    lines = ["| " + " | ".join(header for header, _ in columns) + " |",
             "|" + "|".join("--:" if align == ":" else "---" for _, align in columns) + "|"]
    for cells in rows:
        if len(cells) != len(columns):
            raise ValueError(f"internal: a row of {len(cells)} cells in a table of {len(columns)} columns: {cells}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cases(rows, names, batches, key):
    """(name, N, row or None) for every case of the benchmark, in its order: rows of the file by (row[key], N)."""
    found = {(r[key], r["N"]): r for r in rows}
    return [(name, N, found.get((name, N))) for name in names for N in batches]


def _rerun(part):
    return f"`python benchmarks/bench_nets.py --only {part}`"


def _missing(results, key, part):
    return None if results.get(key) else f"Not measured yet: {_rerun(part)} must be run and committed first."


def nets_method(results):
    """How the network, training, operation and walk numbers were measured: run, machine, rounds, load per part."""
    run = results.get("nets_run")
    if not run:
        return "Not measured yet: `python benchmarks/bench_nets.py` must be run and committed first."
    lines = []
    if run.get("quick"):
        lines += ["!!! warning \"A --quick run\"", "    One short round per case: these numbers check the script, they are no result.", ""]
    parts = run.get("part_runs", {})
    loads = "; ".join(
        f"{part}: {p['started']}, {p['seconds']:g} s, load average {p['load_average_start'][0]:g} at the start and "
        f"{p['load_average_end'][0]:g} at the end" for part, p in parts.items())
    lines.append(
        f"{machine({'machine': run['machine']})} NumPy's copy bandwidth on this machine: "
        f"{run['copy_bandwidth_GBps']:g} GB/s (read and write counted). Parts: {loads or NOT_MEASURED}."
    )
    return "\n".join(lines)


def net_table(results):
    """One row per net and batch: cnnref, PyTorch, their ratio against the target, and the multiplies alone."""
    b = _bench()
    missing = _missing(results, "nets", "nets")
    if missing:
        return missing
    columns = [("net", "-"), ("N", ":"), ("cnnref ms", ":"), ("PyTorch ms", ":"), ("cnnref / PyTorch", ":"),
               ("rounds: lowest-highest", ":"), ("target", "-"), ("multiplies alone ms", ":"),
               ("multiplies alone / PyTorch", ":"), ("outputs apart", ":")]
    rows = []
    for name, N, r in _cases(results["nets"], b.NETS, b.BATCHES, "net"):
        rows.append(_not_measured(len(columns), [name, str(N)]) if r is None else [
            name, str(N), _f(r["ms"]["cnnref"]), _f(r["ms"]["torch"]), _f(r["ratio"]), _range(r),
            _target(r["ratio"], b.NET_TARGETS.get(name)), _f(r["matmul_floor_ms"]), _f(r["matmul_floor_ratio"]),
            f"{r['max_error']:.1e}"])
    return _table(columns, rows)


def training_table(results):
    """ResNet-18's training step: forward, loss, backward, SGD, against PyTorch."""
    b = _bench()
    r = results.get("training")
    if not r:
        return _missing(results, "training", "training")
    columns = [("net", "-"), ("N", ":"), ("cnnref ms", ":"), ("PyTorch ms", ":"), ("cnnref / PyTorch", ":"),
               ("rounds: lowest-highest", ":"), ("target", "-"), ("losses apart", ":")]
    return _table(columns, [[r["net"], str(r["N"]), _f(r["ms"]["cnnref"]), _f(r["ms"]["torch"]), _f(r["ratio"]),
                             _range(r), _target(r["ratio"], b.TRAINING["target"]), f"{r['max_error']:.1e}"]])


def _op_target(b, spec):
    return b.DEPTHWISE_TARGET if spec["kind"] == "depthwise" else b.OP_TARGET


def _op_floor(r):
    """(floor / PyTorch, what the floor is) of an operation's row, or (None, None)."""
    if "matmul_floor_ratio" in r:
        return r["matmul_floor_ratio"], "its one multiply alone"
    if "bandwidth_floor_ratio" in r:
        return r["bandwidth_floor_ratio"], "a copy of its bytes"
    return None, None


def _shape(spec):
    (H, W, D), kind = spec["input"], spec["kind"]
    what = f"{H}x{W}x{D}"
    if kind in ("conv", "transpose"):
        what += f", {spec['K']} filters"
    for key, name in (("S", "S"), ("P", "P"), ("dilation", "dilation")):
        if key in spec and not (key == "dilation" and spec[key] == 1):
            what += f", {name} = {spec[key]}"
    return what


def op_table(results):
    """One row per operation and batch, against PyTorch, with the operation's floor."""
    b = _bench()
    missing = _missing(results, "ops", "ops")
    if missing:
        return missing
    columns = [("operation", "-"), ("input", "-"), ("N", ":"), ("cnnref ms", ":"), ("PyTorch ms", ":"),
               ("cnnref / PyTorch", ":"), ("rounds: lowest-highest", ":"), ("target", "-"), ("floor / PyTorch", ":"),
               ("floor", "-")]
    specs, rows = {spec["op"]: spec for spec in b.OPS}, []
    for op, N, r in _cases(results["ops"], specs, b.BATCHES, "op"):
        spec = specs[op]
        if r is None or "ratio" not in r:
            rows.append(_not_measured(len(columns), [op, _shape(spec), str(N)]))
            continue
        floor, what = _op_floor(r)
        rows.append([op, _shape(spec), str(N), _f(r["ms"]["cnnref"]), _f(r["ms"]["torch"]), _f(r["ratio"]), _range(r),
                     _target(r["ratio"], _op_target(b, spec)), _f(floor) if floor is not None else "-", what or "-"])
    return _table(columns, rows)


def peer_table(results):
    """One row per operation and batch: cnnref, the notes' version, and every NumPy peer that computes it."""
    b = _bench()
    missing = _missing(results, "ops", "ops")
    if missing:
        return missing
    peers = list(b.PEER_NAMES)
    columns = ([("operation", "-"), ("N", ":"), ("cnnref ms", ":"), ("the notes' ms", ":")]
               + [(f"{p} ms", ":") for p in peers]
               + [("best peer / cnnref", ":"), ("target", "-"), ("the notes' / cs231n", ":"), ("target", "-")])
    specs, rows = {spec["op"]: spec for spec in b.OPS}, []
    for op, N, r in _cases(results["ops"], specs, b.BATCHES, "op"):
        spec = specs[op]
        if r is None:
            rows.append(_not_measured(len(columns), [op, str(N)]))
            continue
        ms = r["ms"]
        best = min(spec["peers"], key=lambda p: ms[p])
        speedup = ms[best] / ms["cnnref"]
        cells = [op, str(N), _f(ms["cnnref"]), _f(ms["notes"]) if "notes" in ms else "-"]
        cells += [(f"**{_f(ms[p])}**" if p == best else _f(ms[p])) if p in ms else "-" for p in peers]
        convolution = spec["kind"] in b.CONV_KINDS
        cells += [_f(speedup), _target(speedup, b.PEER_SINGLE if N == 1 else b.PEER_BATCH, at_most=False)
                  if convolution else "-"]
        if spec["kind"] == "conv" and "notes" in ms and "cs231n" in ms:
            notes = ms["notes"] / ms["cs231n"]
            cells += [_f(notes), _target(notes, b.NOTES_VS_CS231N)]
        else:
            cells += ["-", "-"]
        rows.append(cells)
    lines = [_table(columns, rows)]
    lines += ["", "The peers: " + "; ".join(f"**{p}**: {name}" for p, name in b.PEER_NAMES.items())
              + ". The best peer of each row is in bold."]
    return "\n".join(lines)


def _noise(stop):
    """'within noise' when the single rounds' gains straddle 1, else 'faster' or 'slower'."""
    low, high = stop["gain_range"]
    if low <= 1.0 <= high:
        return "within noise"
    return "faster" if stop["gain"] > 1 else "**slower**"


def walk_table(results):
    """The walk from the notes' conv2d to conv2d_fast: each refinement's gain, case by case."""
    missing = _missing(results, "walk", "walk")
    if missing:
        return missing
    columns = [("case", "-"), ("N", ":"), ("stop", "-"), ("ms", ":"), ("gain over the stop before", ":"),
               ("rounds: lowest-highest", ":"), ("verdict", "-")]
    rows = []
    for w in results["walk"]:
        for i, stop in enumerate(w["stops"]):
            case = f"{w['case']} ({w['input']}, {w['filters']}, S = {w['S']}, P = {w['P']})" if i == 0 else ""
            if "gain" in stop:
                gain, spread, verdict = f"{stop['gain']:.2f} x", _range(stop, "gain_range"), _noise(stop)
            else:
                gain = spread = verdict = "-"
            rows.append([case, str(w["N"]) if i == 0 else "", stop["stop"], _f(stop["ms"]), gain, spread, verdict])
        rows.append(["", "", f"**all refinements: {w['total_gain']:.2f} x**", "", "", "", ""])
    return _table(columns, rows)


def _bytes(n):
    """1.5 MiB, or 18.4 KiB below a MiB."""
    return f"{n / 2**20:.1f} MiB" if n >= 2**20 else f"{n / 2**10:.1f} KiB"


def net_memory(results):
    """Peak memory of each net's forward pass at batch 1, beside its weights and its largest volume."""
    missing = _missing(results, "net_memory", "memory")
    if missing:
        return missing
    b = _bench()
    found = {m["net"]: m for m in results["net_memory"]}
    columns = [("net", "-"), ("peak memory of a first forward pass, batch 1", ":"), ("kept for the next pass", ":"),
               ("weights", ":"), ("input", ":"), ("largest volume", ":"), ("peak / largest volume", ":")]
    rows = []
    for name in b.NETS:
        m = found.get(name)
        rows.append(_not_measured(len(columns), [name]) if m is None else [
            name, _bytes(m["peak_bytes"]), _bytes(m["kept_bytes"]), _bytes(m["weights_bytes"]), _bytes(m["input_bytes"]),
            _bytes(m["largest_volume_bytes"]), f"{m['peak_bytes'] / m['largest_volume_bytes']:.2f}"])
    return _table(columns, rows)


REST = {  # what a kind of case spends beyond its floor
    "net": "im2col's copies, padding, pooling, the layers that multiply nothing",
    "conv": "building X_col, padding, the biases",
    "transpose": "col2im's adds",
    "batch_norm": "the add after the multiply: NumPy has no fused multiply-add, so X * scale + shift is two passes",
}


def _reason(floor, target, what, ratio, rest="the rest"):
    """Why a miss: the floor's share of the target (a floor above cnnref's own whole time bounds nothing)."""
    if floor is None:
        return "No floor measured."
    if floor > ratio:
        return (f"Floor, {what}: {floor:.2f} x PyTorch's time, more than cnnref's whole time (in the same rounds): "
                f"cnnref's blocks, which stay in cache, beat the whole unblocked operands, so this floor bounds nothing here.")
    if floor > target:
        return (f"Floor, {what}: {floor:.2f} x PyTorch's time, above the target before anything "
                f"else runs, so under the NumPy-only rule no rewrite meets it.")
    return (f"Floor, {what}: {floor:.2f} x PyTorch's time, leaving {target - floor:.2f} x for the "
            f"rest ({rest}): the miss is cnnref's own overhead.")


def _dilated_note(results, r, specs):
    """For a dilated case: PyTorch's time and cnnref's against their own undilated case of the same input and
    filters (the same multiply-adds), if the run measured one."""
    spec = specs[r["op"]]
    same = [s["op"] for s in specs.values() if s["kind"] == spec["kind"] and s.get("dilation", 1) == 1
            and (s["input"], s.get("K"), s.get("F")) == (spec["input"], spec.get("K"), spec.get("F"))]
    plain = next((o for o in results.get("ops", []) if o["op"] in same and o["N"] == r["N"]), None)
    if spec.get("dilation", 1) == 1 or plain is None:
        return ""
    d, p = r["ms"], plain["ms"]
    return (f" The same multiply-adds undilated ({plain['op']}, same input and filters): PyTorch {p['torch']:.3g} ms "
            f"against {d['torch']:.3g} ms dilated, cnnref {p['cnnref']:.3g} ms against {d['cnnref']:.3g} ms.")


def _vs(ratio, target):
    """ratio to two decimals, or three where two would round it onto its target and hide which side it is on."""
    return f"{ratio:.2f}" if round(ratio, 2) != target or ratio == target else f"{ratio:.3f}"


def targets(results):
    """[(what, met, miss line or None)] for every issue-19 target the file has a number for."""
    b = _bench()
    found = []
    for r in results.get("nets", []):
        target = b.NET_TARGETS.get(r["net"])
        if target is not None:
            what = f"{r['net']}, N = {r['N']}: {_vs(r['ratio'], target)} x PyTorch (target <= {target:g})"
            met = r["ratio"] <= target
            found.append((what, met, None if met else f"{what}. " + _reason(
                r["matmul_floor_ratio"], target, "the matrix multiplies of its CONV and FC layers alone", r["ratio"], REST["net"])))
    r = results.get("training")
    if r:
        target = b.TRAINING["target"]
        what = f"{r['net']} training step, N = {r['N']}: {_vs(r['ratio'], target)} x PyTorch (target <= {target:g})"
        met = r["ratio"] <= target
        found.append((what, met, None if met else f"{what}. Backward passes make two multiplies per CONV layer "
                      f"(dX and dW) besides col2im's scatter-add; no floor is measured for them."))
    specs = {s["op"]: s for s in b.OPS}
    for r in results.get("ops", []):
        spec = specs[r["op"]]
        if "ratio" in r:
            target = _op_target(b, spec)
            what = f"{r['op']}, N = {r['N']}: {_vs(r['ratio'], target)} x PyTorch (target <= {target:g})"
            met = r["ratio"] <= target
            floor, how = _op_floor(r)
            found.append((what, met, None if met else f"{what}. " + _reason(floor, target, how or "", r["ratio"],
                                                                            REST.get(spec["kind"], "the rest"))
                          + _dilated_note(results, r, specs)))
        ms = r["ms"]
        if spec["kind"] in b.CONV_KINDS:
            best = min(spec["peers"], key=lambda p: ms[p])
            target, speedup = (b.PEER_SINGLE if r["N"] == 1 else b.PEER_BATCH), ms[best] / ms["cnnref"]
            what = f"{r['op']}, N = {r['N']}: {_vs(speedup, target)} x as fast as the best peer, {best} (target >= {target:g})"
            met = speedup >= target
            share = (f" The one multiply alone takes {r['matmul_floor_ms'] / ms['cnnref']:.0%} of cnnref's time "
                     f"and {r['matmul_floor_ms'] / ms[best]:.0%} of the peer's: both spend it in the same BLAS call."
                     if "matmul_floor_ms" in r else "")
            found.append((what, met, None if met else what + "." + share))
        if spec["kind"] == "conv" and "notes" in ms and "cs231n" in ms:
            ratio = ms["notes"] / ms["cs231n"]
            what = f"{r['op']}, N = {r['N']}: the notes' conv2d takes {_vs(ratio, b.NOTES_VS_CS231N)} x cs231n's time (target <= {b.NOTES_VS_CS231N:g})"
            met = ratio <= b.NOTES_VS_CS231N
            share = (f" The one multiply alone takes {r['matmul_floor_ms'] / ms['notes']:.0%} of the notes' time."
                     if "matmul_floor_ms" in r else "")
            found.append((what, met, None if met else what + "." + share))
    return found


def nets_verdict(results):
    """How many of issue 19's targets the committed run met; each miss with its measured floor and the reason."""
    found = targets(results)
    if not found:
        return "Not measured yet: `python benchmarks/bench_nets.py` must be run and committed first."
    missed = [line for _, met, line in found if not met]
    lines = [f"**{len(found) - len(missed)} of {len(found)} targets met** in this run."
             + (" Missed, each with its measured floor:" if missed else ""), ""]
    lines += [f"- {line}" for line in missed]
    return "\n".join(lines)


def _chart_rows(results):
    """(label, ratio or None, target or None, floor or None) per bar of the networks' chart, in the tables' order."""
    b = _bench()
    rows = []
    nets = {(r["net"], r["N"]): r for r in results.get("nets", [])}
    for name in b.NETS:
        for N in b.BATCHES:
            r = nets.get((name, N))
            rows.append((f"{name}, N = {N}", r and r["ratio"], b.NET_TARGETS.get(name), r and r["matmul_floor_ratio"]))
    t = results.get("training")
    rows.append((f"{b.TRAINING['net']} training step, N = {b.TRAINING['N']}", t and t["ratio"], b.TRAINING["target"], None))
    ops = {(r["op"], r["N"]): r for r in results.get("ops", [])}
    for spec in b.OPS:
        for N in b.BATCHES:
            r = ops.get((spec["op"], N))
            ratio = r.get("ratio") if r else None
            rows.append((f"{spec['op']}, N = {N}", ratio, _op_target(b, spec), _op_floor(r)[0] if r else None))
    return rows


def nets_chart(results):
    """SVG: time of cnnref relative to PyTorch for every net, the training step and every operation, with each
    target and floor; a case the file lacks is labelled "not measured"."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    rows = _chart_rows(results)
    theme = {"text.color": INK, "axes.edgecolor": INK, "axes.labelcolor": INK, "xtick.color": INK,
             "ytick.color": INK, "figure.facecolor": "none", "axes.facecolor": "none", "savefig.facecolor": "none"}
    with matplotlib.rc_context({"svg.hashsalt": "cnnref-performance-nets", "svg.fonttype": "none", "font.size": 10, **theme}):
        fig, ax = plt.subplots(figsize=(7.5, 0.3 * len(rows) + 1.4))
        kinds = {"met": GREEN, "missed": RED, "no target": GREY}
        kind = ["no target" if t is None else "met" if ratio is not None and ratio <= t else "missed"
                for _, ratio, t, _ in rows]
        measured = [ratio for _, ratio, _, _ in rows if ratio is not None]
        right = max([3.4] + [1.15 * v for v in measured] + [1.15 * f for *_, f in rows if f is not None])
        for i, ((label, ratio, target, floor), k) in enumerate(zip(rows, kind)):
            if ratio is None:
                ax.text(0.05, i, NOT_MEASURED, va="center", color=MUTED, style="italic")
            else:
                ax.barh(i, ratio, color=kinds[k], height=0.7)
                ax.text(max(ratio, target or 0) + 0.04 * right / 3.4, i, f"{ratio:.2f}", va="center")
            if target is not None:
                ax.plot([target] * 2, [i - 0.4, i + 0.4], color=INK, lw=2)
            if floor is not None:
                ax.plot([floor], [i], marker="D", ms=4.5, color=MUTED, mec=INK, mew=0.6, ls="none")
        for edge in (len(_bench().NETS) * len(_bench().BATCHES) - 0.5, len(_bench().NETS) * len(_bench().BATCHES) + 0.5):
            ax.axhline(edge, color=MUTED, lw=0.6)
        handles = [Patch(color=kinds[k], label=k) for k in kinds if k in kind]
        handles += [Line2D([], [], color=INK, lw=2, label="target"),
                    Line2D([], [], color=MUTED, marker="D", mec=INK, mew=0.6, ls="none", label="floor")]
        ax.axvline(1.0, color=MUTED, ls=":", lw=1)
        ax.set_yticks(range(len(rows)), [label for label, *_ in rows])
        ax.set_ylim(len(rows) - 0.5, -0.5)
        ax.set_xlabel("time of cnnref / time of PyTorch (lower is faster)")
        ax.set_xlim(0, right)
        ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=len(handles), frameon=False,
                  title="cnnref time / PyTorch time: networks, training step, operations")
        fig.tight_layout()
        return themed_svg(fig)


PARTS = {  # marker name -> Markdown from the results (the tuned kernel's constants from its module)
    "machine": machine, "case-table": case_table, "conv-table": conv_table, "verdict": verdict,
    "build-table": build_table,
    "lighthouse": lambda results: lighthouse(results["lighthouse"], _NAV),
    "block-size": lambda _: mib(fast_conv._BLOCK),
    "small-block": lambda _: mib(fast_conv._SMALL_BLOCK),
    "keep-size": lambda _: mib(fast_conv._KEEP),
    "small-width": lambda _: str(fast_conv._SMALL_WIDTH),
    "test-quality": strength,
    "nets-machine": nets_method, "net-table": net_table, "training-table": training_table, "op-table": op_table,
    "peer-table": peer_table, "walk-table": walk_table, "net-memory": net_memory, "nets-verdict": nets_verdict,
}


def render_page(markdown, results, where="performance.md"):
    """The page with every marker of this hook replaced by Markdown from `results`; an unknown or misplaced
    marker is a PluginError."""
    return expand(markdown, where, "performance", lambda name: PARTS[name](results))


def on_nav(nav, config, files):
    _NAV[:] = [("/" + page.url, page.file.src_uri) for page in nav.pages]
    return nav


CHARTS = {CHART: chart, NETS_CHART: nets_chart}  # path -> draw(results)
_charts = {}  # each chart's SVG, drawn once per build


def on_files(files, config):
    results = load()
    for path, draw in CHARTS.items():
        _charts[path] = draw(results)
        files.append(File.generated(config, path, content=_charts[path]))
    return files


def on_page_content(html, page, config, files):
    return inline_chart(html, _charts) if any(path in html for path in _charts) else html


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
