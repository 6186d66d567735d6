"""The Performance page shows benchmarks/results.json as it is: table, machine and chart come from the file."""

import copy
import json
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from properdocs.exceptions import PluginError

from hooks import markers
from hooks import performance as hook

ROOT = Path(__file__).resolve().parent.parent

RESULTS = json.loads((ROOT / "benchmarks" / "results.json").read_text())
LIGHTHOUSE = json.loads((ROOT / "benchmarks" / "lighthouse-results.json").read_text())
PAGE = (ROOT / "docs" / "performance.md").read_text()


def rendered():
    page = SimpleNamespace(file=SimpleNamespace(src_uri="performance.md"))
    return hook.on_page_markdown(PAGE, page=page, config=None, files=None)


def table_rows(markdown, header_start):
    """The body rows of the Markdown table whose header starts with header_start, as lists of cells."""
    lines = markdown.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def test_every_marker_of_the_page_is_replaced():
    used = markers.INLINE_MARKER.findall(PAGE)
    assert sorted(used) == markers.known("performance")  # each of the hook's markers, once (blocks and values in sentences)
    assert "<!--" not in rendered()


def test_the_hook_renders_exactly_its_markers():
    assert sorted(hook.PARTS) == markers.known("performance")


def test_the_tuned_kernels_constants_are_rendered_from_its_module(monkeypatch):
    """16 MiB, 1 MiB and 1024 today: changing the constant in the code changes the page."""
    tuned = hook.fast_conv
    page = rendered()
    assert f"at a time: {tuned._BLOCK / 2**20:g} MiB, or one output row" in page
    assert f"\\le \\) {tuned._SMALL_WIDTH}:" in page and f"blocks of about {tuned._SMALL_BLOCK / 2**20:g} MiB" in page
    monkeypatch.setattr(tuned, "_BLOCK", 1 << 25)
    monkeypatch.setattr(tuned, "_SMALL_WIDTH", 2048)
    assert "at a time: 32 MiB, or one output row" in rendered() and "\\le \\) 2048:" in rendered()


def test_the_table_is_results_json_row_by_row():
    page = rendered()
    rows = table_rows(page, "| case | N |")
    assert len(rows) == len(RESULTS["conv"])
    for cells, r in zip(rows, RESULTS["conv"]):
        case, N, dtype, ratio, spread, target, ms, torch_ms, gflops, _, naive, one_core, matmul = cells
        assert (case, int(N), dtype) == (r["case"], r["N"], r["dtype"])
        assert ratio == f"{r['ratio']:.2f}"
        assert spread == "{:.2f}-{:.2f}".format(*r["ratio_range"])
        assert target == (f"<= {r['target']}, {'met' if r['ok'] else '**missed**'}" if "target" in r else "-")
        assert (ms, torch_ms) == (f"{r['ms']['cnnref']:.2f}", f"{r['ms']['torch']:.2f}")
        assert gflops == f"{r['gflops']['cnnref']:.1f}"
        assert naive == (f"{r['ms']['naive']:.2f}" if "naive" in r["ms"] else "-")
        assert one_core == (f"{r['one_core_ratio']:.2f}" if "one_core_ratio" in r else "-")
        assert matmul == (f"{r['matmul_ratio']:.2f}" if "matmul_ratio" in r else "-")
    shapes = {tuple(cells) for cells in table_rows(page, "| case | input |")}
    assert shapes == {(r["case"], r["input"], r["filters"], str(r["S"]), str(r["P"])) for r in RESULTS["conv"]}


def test_the_page_names_the_machine_and_how_to_rerun():
    page, machine = rendered(), RESULTS["machine"]
    facts = (machine["cpu"], machine["date"], f"NumPy {machine['numpy']}", f"PyTorch {machine['torch']}", machine["method"])
    for fact in facts:
        assert fact in page
    assert "python benchmarks/bench_conv.py" in page


def test_the_committed_results_are_computed_not_typed():
    """Ratios, GFLOP/s and verdicts agree with the times; the targets are issue 6's (the script asserts them)."""
    for r in RESULTS["conv"]:
        assert r["ratio"] == pytest.approx(r["ms"]["cnnref"] / r["ms"]["torch"], rel=1e-3, abs=1e-3)
        low, high = r["ratio_range"]  # single rounds' ratios around the median's
        assert low <= high and low <= r["ratio"] * 1.05 and high >= r["ratio"] * 0.95
        if "matmul_ratio" in r:
            assert r["matmul_ratio"] == pytest.approx(r["ms"]["matmul"] / r["ms"]["torch"], rel=1e-3, abs=1e-3)
        if "one_core_ratio" in r:
            one = r["one_core_ms"]
            assert r["one_core_ratio"] == pytest.approx(one["cnnref"] / one["torch"], rel=1e-3, abs=1e-3)
        assert r["gflops"]["cnnref"] == pytest.approx(r["flops"] / r["ms"]["cnnref"] / 1e6, rel=1e-3, abs=0.01)
        if "target" in r:
            assert r["ok"] == (r["ratio"] <= r["target"])
    targets = {(r["case"], r["N"], r["dtype"]): r.get("target") for r in RESULTS["conv"]}
    for case, N in [("AlexNet conv1", 1), ("AlexNet conv1", 8), ("VGG 3x3", 1), ("CIFAR batch", 64)]:
        assert targets[(case, N, "float32")] == (2.0 if case == "CIFAR batch" else 1.5)
        assert targets[(case, N, "float64")] == 1.2
    memory = RESULTS["memory"]
    assert memory["ok"] == (memory["peak_bytes"] <= memory["target"] * memory["X_col_bytes"])
    for key, target in (("site", 30), ("tests", 180), ("ci", 300)):
        if key in RESULTS:
            entry = RESULTS[key]
            assert entry["target"] == target
            assert entry["ok"] == (entry["returncode"] == 0 and entry["seconds"] < target)


def test_the_chart_has_a_bar_per_case_and_no_outside_request():
    svg = hook.chart(RESULTS)
    assert svg == hook.chart(RESULTS)  # the same bytes at every build
    for r in RESULTS["conv"]:
        if "ratio" in r:
            assert f"{r['case']}, N = {r['N']}, {r['dtype']}" in svg
    assert not re.search(r"(href|src)=\"https?://", svg)


def test_an_unknown_marker_stops_the_build():
    with pytest.raises(PluginError, match=re.escape("performance.md: <!-- cnnref:conv-tabel -->: unknown marker")):
        hook.render_page("<!-- cnnref:conv-tabel -->", RESULTS)


def test_a_marker_inside_a_box_gives_an_indented_table():
    out = hook.render_page("!!! note\n    <!-- cnnref:case-table -->\n", RESULTS)
    lines = out.splitlines()[1:]
    assert len(lines) == 2 + len({r["case"] for r in RESULTS["conv"]})
    assert all(line.startswith("    |") for line in lines)


def test_the_verdict_counts_the_targets_and_names_each_miss():
    page = rendered()
    rows = [r for r in RESULTS["conv"] if "target" in r]
    missed = [r for r in rows if not r["ok"]]
    assert f"**{len(rows) - len(missed)} of {len(rows)} targets met**" in page
    for r in missed:
        assert f"- {r['case']}, N = {r['N']}, {r['dtype']}: {r['ratio']:.2f} > {r['target']}." in page
        assert f"plain im2col alone takes {r['matmul_ratio']:.2f} x torch's time" in page
        assert f"With one thread each: {r['one_core_ratio']:.2f} x." in page
    fake = {"conv": [dict(rows[0], ratio=9.0, ok=False, matmul_ratio=2.0, target=1.5)]}
    assert "(above the target before any copy)" in hook.verdict(fake)
    fake["conv"][0]["matmul_ratio"] = 1.0
    assert "(leaving 0.50 x for building `X_col`)" in hook.verdict(fake)


def test_the_lighthouse_table_is_the_results_file_page_by_page():
    """Every page of the nav gets a row, in nav order: the file's medians (desktop / mobile), or "not measured"."""
    nav = [(path, f"src{n}.md") for n, path in enumerate(LIGHTHOUSE["results"])] + [("/new-page/", "new-page.md")]
    table = hook.lighthouse(LIGHTHOUSE, nav)
    rows = table_rows(table, "| page |")
    assert [cells[0] for cells in rows] == [f"[{path}]({src})" for path, src in nav]
    for cells, (path, _) in zip(rows, nav[:-1]):
        forms = LIGHTHOUSE["results"][path]
        for cell, cat in zip(cells[1:5], ("performance", "accessibility", "best-practices", "seo")):
            values = [forms[f]["median"][cat] for f in ("desktop", "mobile")]
            met = all(v >= LIGHTHOUSE["targets"][f][cat] for v, f in zip(values, ("desktop", "mobile")))
            text = " / ".join(f"{v:g}" for v in values)
            assert cell == (text if met else f"**{text}**"), (path, cat)
    assert rows[-1][1:5] == ["not measured"] * 4
    load = LIGHTHOUSE.get("load_average")
    assert (f"{LIGHTHOUSE['cores']} cores; load average {load['start'][0]:g} at the start" if load
            else "; load not recorded") in table
    assert ("**Every target met.**" in table) == (not LIGHTHOUSE["missed"])


def test_the_lighthouse_file_covers_the_nav_it_was_measured_on():
    """The file names the pages it measured (the nav when it ran), and has both form factors for each."""
    assert LIGHTHOUSE["pages"] == list(LIGHTHOUSE["results"]) and LIGHTHOUSE["pages"]
    for forms in LIGHTHOUSE["results"].values():
        assert set(forms) == {"desktop", "mobile"}
        for summary in forms.values():
            assert len(summary["runs"]) == LIGHTHOUSE["runs_per_setting"] == 3
    assert LIGHTHOUSE["targets"]["desktop"]["performance"] == 98 and LIGHTHOUSE["targets"]["mobile"]["performance"] == 90


def test_the_tests_strength_is_the_committed_results():
    """Coverage and mutation score as recorded: counts that add up, a score computed from them, every gap explained."""
    page = rendered()
    if not (hook.COVERAGE.is_file() and hook.MUTATION.is_file()):
        assert "Not measured yet: " in page  # says so, until both are run and committed
        return
    COVERAGE = json.loads(hook.COVERAGE.read_text())
    MUTATION = json.loads(hook.MUTATION.read_text())
    assert f"they reach {COVERAGE['branches_covered']:,} of {COVERAGE['branches']:,} branches" in page
    assert COVERAGE["branches_covered"] <= COVERAGE["branches"] and COVERAGE["statements_covered"] <= COVERAGE["statements"]
    for u in COVERAGE["uncovered"]:
        assert u["reason"] and f"| `{u['file']}:{u['line']}` | `{u['code']}` | {u['reason']} |" in page
    m = MUTATION
    assert m["killed"] + m["timeout"] + m["crashed"] + m["survived"] + m["no_tests"] + m["suspicious"] == m["mutants"]
    assert m["equivalent"] == len(m["equivalent_mutants"]) <= m["survived"] and not m["unexplained_survivors"]
    assert m["score"] == round((m["killed"] + m["timeout"] + m["crashed"]) / (m["mutants"] - m["equivalent"]), 4)
    assert f"**Score: {m['score']:.1%}**" in page
    assert sum(sum(c.values()) for c in m["per_module"].values()) == m["mutants"]
    assert all(e["reason"] for e in m["equivalent_mutants"])
    # the modules run and those not run: every module of cnnref with something to mutate is one or the other
    import cnnref

    assert list(m["per_module"]) == m["modules_run"] and not set(m["modules_run"]) & set(m["modules_not_run"])
    assert set(m["modules_run"]) | set(m["modules_not_run"]) == set(cnnref.MODULES)
    for module, counts in m["per_module"].items():
        killed = counts.get("killed", 0) + counts.get("timeout", 0) + counts.get("crashed", 0)
        assert f"| `cnnref.{module}` | {sum(counts.values()):,} | {killed:,} | {counts.get('survived', 0)} |" in page
    left = {module: e["mutants"] - e["checked"] for module, e in m["modules_not_run"].items()}
    assert m["mutants_not_run"] == sum(left.values())
    assert m["worst_case_minutes_not_run"] == sum(e["worst_case_minutes"] for e in m["modules_not_run"].values())
    if m["modules_not_run"]:
        assert f"{len(m['modules_run'])} of the {len(cnnref.MODULES)} modules of `cnnref`" in page
        assert f"**Not run yet: {len(left)} modules, {m['mutants_not_run']:,} mutants**" in page
        assert f"mutmut's worst case for them is {m['worst_case_minutes_not_run']:,} minutes on {m['workers']} workers" in page
        assert f"took {m['test_minutes_run']:,} minutes of tests against a worst case of {m['worst_case_minutes_run']:,}" in page
        for module, e in m["modules_not_run"].items():
            assert f"| `cnnref.{module}` | {e['mutants']:,} | {e['checked']:,} | {e['worst_case_minutes']:,} |" in page
    else:
        assert f"all {len(cnnref.MODULES)} modules of `cnnref`" in page and "Not run yet" not in page


def test_the_tests_strength_says_what_is_not_measured_yet(tmp_path):
    text = hook.strength({}, coverage_path=tmp_path / "c.json", mutation_path=hook.MUTATION)
    assert text.startswith("Not measured yet: ")


# --- Whole networks, the training step, every operation, the walk (benchmarks/bench_nets.py)

BENCH = hook._bench()
NET_PARTS = ("nets", "training", "ops", "walk", "net_memory")


def synthetic():
    """A full bench_nets.py result, every case present, some targets met and some missed, made up here."""
    rng = np.random.default_rng(0)

    def timed(libraries, ratio):
        torch_ms = float(rng.uniform(1, 100))
        ms = {k: torch_ms * (ratio if k == "cnnref" else float(rng.uniform(0.5, 6))) for k in libraries}
        ms["torch"] = torch_ms
        return {"ms": ms, "ratio": round(ms["cnnref"] / torch_ms, 3), "ratio_range": [round(0.9 * ratio, 3), round(1.1 * ratio, 3)]}

    nets = [{"net": n, "N": N, "max_error": 1e-6, "matmul_floor_ms": 1.0, "matmul_floor_ratio": float(rng.uniform(0.3, 2)),
             **timed(["cnnref"], float(rng.uniform(0.5, 3.5)))} for n in BENCH.NETS for N in BENCH.BATCHES]
    ops = []
    for spec in BENCH.OPS:
        for N in BENCH.BATCHES:
            names = ["cnnref", *spec["peers"]] + (["notes"] if spec["kind"] in ("conv", "depthwise", "batch_norm") else [])
            row = {"op": spec["op"], "kind": spec["kind"], "N": N, **timed(names, float(rng.uniform(0.5, 4)))}
            row["matmul_floor_ms" if spec["kind"] in ("conv", "transpose") else "bandwidth_floor_ms"] = 0.5
            row["matmul_floor_ratio" if spec["kind"] in ("conv", "transpose") else "bandwidth_floor_ratio"] = 2.5
            ops.append(row)
    walk = [{"case": "VGG 3x3", "N": 1, "input": "56x56x64", "filters": "64 x 3x3", "S": 1, "P": 1, "total_gain": 2.0,
             "stops": [{"stop": "the notes' conv2d", "ms": 4.0}, {"stop": "+ blocks", "ms": 2.0, "gain": 2.0, "gain_range": [1.8, 2.2]},
                       {"stop": "+ threads", "ms": 2.0, "gain": 1.0, "gain_range": [0.97, 1.04]},
                       {"stop": "+ long runs", "ms": 2.2, "gain": 0.9, "gain_range": [0.85, 0.95]}]}]
    memory = [{"net": n, "N": 1, "peak_bytes": 3 << 20, "kept_bytes": 2 << 20, "weights_bytes": 5 << 20, "input_bytes": 1 << 10,
               "largest_volume_bytes": 1 << 20} for n in BENCH.NETS]
    training = {"net": "ResNet-18", "N": 8, "max_error": 1e-6, **timed(["cnnref"], 3.5)}
    part = {"started": "2026-12-01 21:00 UTC", "seconds": 60.0, "load_average_start": [0.5, 1.0, 1.5],
            "load_average_end": [0.7, 1.0, 1.5]}
    run = {"machine": RESULTS["machine"] | {"method": "separate processes, made-up rounds"}, "copy_bandwidth_GBps": 10.0,
           "part_runs": {p: part for p in BENCH.PARTS}}
    return {"nets": nets, "training": training, "ops": ops, "walk": walk, "net_memory": memory, "nets_run": run}


FULL = synthetic()


def test_the_net_table_is_the_file_row_by_row_with_verdicts_computed():
    rows = table_rows(hook.net_table(FULL), "| net | N |")
    assert len(rows) == len(BENCH.NETS) * len(BENCH.BATCHES) == len(FULL["nets"])
    for cells, r in zip(rows, FULL["nets"]):
        net, N, ms, torch_ms, ratio, spread, target, floor_ms, floor, apart = cells
        assert (net, int(N)) == (r["net"], r["N"])
        assert (ms, torch_ms, ratio) == (f"{r['ms']['cnnref']:.2f}", f"{r['ms']['torch']:.2f}", f"{r['ratio']:.2f}")
        assert spread == "{:.2f}-{:.2f}".format(*r["ratio_range"]) and floor == f"{r['matmul_floor_ratio']:.2f}"
        want = BENCH.NET_TARGETS.get(r["net"])
        assert target == ("reported only" if want is None else
                          f"<= {want:g}, {'met' if r['ratio'] <= want else '**missed**'}")
    assert {"met" in c[6] for c in rows} == {True, False}  # the made-up file has both


def test_a_case_missing_from_the_file_is_rendered_not_measured():
    partial = copy.deepcopy(FULL)
    del partial["nets"][3], partial["ops"][0], partial["net_memory"][1]
    net = table_rows(hook.net_table(partial), "| net | N |")[3]
    assert net[:3] == [FULL["nets"][3]["net"], str(FULL["nets"][3]["N"]), "not measured"]
    op = table_rows(hook.op_table(partial), "| operation |")[0]
    assert op[0] == BENCH.OPS[0]["op"] and op[3] == "not measured"
    assert table_rows(hook.peer_table(partial), "| operation |")[0][2] == "not measured"
    assert table_rows(hook.net_memory(partial), "| net |")[1][:2] == [BENCH.NETS[1], "not measured"]
    for name in ("net-table", "training-table", "op-table", "peer-table", "walk-table", "net-memory", "nets-verdict",
                 "nets-machine"):
        assert hook.PARTS[name]({}).startswith("Not measured yet: "), name
    svg = hook.nets_chart({})
    assert svg.count(">not measured<") == len(hook._chart_rows({}))


def test_the_operation_tables_are_the_file_row_by_row():
    rows = table_rows(hook.op_table(FULL), "| operation |")
    peers = table_rows(hook.peer_table(FULL), "| operation |")
    assert len(rows) == len(peers) == len(FULL["ops"])
    specs = {s["op"]: s for s in BENCH.OPS}
    names = list(BENCH.PEER_NAMES)
    for cells, peer_cells, r in zip(rows, peers, FULL["ops"]):
        spec = specs[r["op"]]
        op, _, N, ms, torch_ms, ratio, spread, target, floor, what = cells
        assert (op, int(N), ms, torch_ms) == (r["op"], r["N"], f"{r['ms']['cnnref']:.2f}", f"{r['ms']['torch']:.2f}")
        want = BENCH.DEPTHWISE_TARGET if spec["kind"] == "depthwise" else BENCH.OP_TARGET
        assert ratio == f"{r['ratio']:.2f}" and target == f"<= {want:g}, {'met' if r['ratio'] <= want else '**missed**'}"
        assert floor == "2.50" and what == ("its one multiply alone" if "matmul_floor_ratio" in r else "a copy of its bytes")
        best = min(spec["peers"], key=lambda p: r["ms"][p])
        times = peer_cells[4 : 4 + len(names)]
        for name, cell in zip(names, times):
            expected = f"{r['ms'][name]:.2f}" if name in r["ms"] else "-"
            assert cell == (f"**{expected}**" if name == best else expected)
        speedup, peer_target, notes, notes_target = peer_cells[4 + len(names) :]
        assert speedup == f"{r['ms'][best] / r['ms']['cnnref']:.2f}"
        if spec["kind"] in BENCH.CONV_KINDS:
            want = BENCH.PEER_SINGLE if r["N"] == 1 else BENCH.PEER_BATCH
            met = r["ms"][best] / r["ms"]["cnnref"] >= want
            assert peer_target == f">= {want:g}, {'met' if met else '**missed**'}"
        else:
            assert peer_target == "-"
        if spec["kind"] == "conv" and "cs231n" in spec["peers"]:
            value = r["ms"]["notes"] / r["ms"]["cs231n"]
            assert notes == f"{value:.2f}" and notes_target.endswith("met" if value <= BENCH.NOTES_VS_CS231N else "**missed**")
        else:
            assert (notes, notes_target) == ("-", "-")


def test_the_memory_table_is_the_file_row_by_row():
    rows = table_rows(hook.net_memory(FULL), "| net |")
    assert [c[0] for c in rows] == list(BENCH.NETS)
    for cells, m in zip(rows, FULL["net_memory"]):
        assert cells[1:] == ["3.0 MiB", "2.0 MiB", "5.0 MiB", "1.0 KiB", "1.0 MiB", f"{m['peak_bytes'] / m['largest_volume_bytes']:.2f}"]


def test_the_walk_says_which_steps_are_within_noise():
    rows = table_rows(hook.walk_table(FULL), "| case |")
    stops = FULL["walk"][0]["stops"]
    assert [c[2] for c in rows[: len(stops)]] == [s["stop"] for s in stops]
    assert [c[-1] for c in rows[: len(stops)]] == ["-", "faster", "within noise", "**slower**"]
    assert [c[4] for c in rows[1 : len(stops)]] == [f"{s['gain']:.2f} x" for s in stops[1:]]
    assert "**all refinements: 2.00 x**" in rows[len(stops)][2]


def test_the_verdict_counts_every_target_and_gives_each_miss_its_floor():
    found = hook.targets(FULL)
    nets = sum(r["net"] in BENCH.NET_TARGETS for r in FULL["nets"])
    convolutions = sum(s["kind"] in BENCH.CONV_KINDS for s in BENCH.OPS) * len(BENCH.BATCHES)
    readable = sum(s["kind"] == "conv" and "cs231n" in s["peers"] for s in BENCH.OPS) * len(BENCH.BATCHES)
    assert len(found) == nets + 1 + len(FULL["ops"]) + convolutions + readable
    text = hook.nets_verdict(FULL)
    missed = [line for _, met, line in found if not met]
    assert f"**{len(found) - len(missed)} of {len(found)} targets met**" in text
    assert all(f"- {line}" in text for line in missed) and missed
    for r in FULL["nets"]:
        target = BENCH.NET_TARGETS.get(r["net"])
        if target and r["ratio"] > target:
            floor = r["matmul_floor_ratio"]
            assert f"{r['net']}, N = {r['N']}: {hook._vs(r['ratio'], target)} x PyTorch (target <= {target:g}). Floor, the matrix multiplies" in text
            assert (f"alone: {floor:.2f} x PyTorch's time, more than cnnref's whole time" if floor > r["ratio"] else
                    f"alone: {floor:.2f} x PyTorch's time, above the target" if floor > target else
                    f"alone: {floor:.2f} x PyTorch's time, leaving {target - floor:.2f} x for the rest") in text
    assert "more than cnnref's whole time" in hook._reason(3.0, 1.3, "x", 2.0)
    assert "above the target" in hook._reason(2.0, 1.3, "x", 3.0) and "leaving 0.30 x" in hook._reason(1.0, 1.3, "x", 3.0)


def test_the_nets_chart_is_stable_and_shows_every_case():
    svg = hook.nets_chart(FULL)
    assert svg == hook.nets_chart(FULL)  # the same bytes at every build
    for label, ratio, *_ in hook._chart_rows(FULL):
        assert f">{label}<" in svg and f">{ratio:.2f}<" in svg
    assert "#0c0c0" not in svg and "var(--cnnref-plot-ink, #1f1f1f)" in svg  # dark mode: the theme's variables
    assert not re.search(r"(href|src)=\"https?://", svg)


def test_the_charts_are_inlined_in_the_page():
    svgs = {path: f'<svg width="100pt" height="10pt"><text style="font-size: 10px">{path}</text></svg>' for path in hook.CHARTS}
    html = "".join(f'<p><img alt="chart {n}" src="../{path}" /></p>' for n, path in enumerate(hook.CHARTS))
    out = hook.inline_chart(html, svgs)
    assert "<img" not in out and all(f'aria-label="chart {n}"' in out for n in range(len(hook.CHARTS)))


def test_the_method_names_rounds_and_load_of_every_part():
    text = hook.nets_method(FULL)
    run = FULL["nets_run"]
    assert run["machine"]["method"] in text and f"{run['copy_bandwidth_GBps']:g} GB/s" in text
    for part, p in run["part_runs"].items():
        assert f"{part}: {p['started']}, {p['seconds']:g} s, load average {p['load_average_start'][0]:g}" in text
    assert "A --quick run" in hook.nets_method({**FULL, "nets_run": {**run, "quick": True}})


def test_the_committed_network_results_are_a_full_run_computed_not_typed():
    """Not a --quick run; every ratio is its times' ratio; every part ran with its load recorded; the page shows them."""
    if not all(k in RESULTS for k in NET_PARTS):
        assert "Not measured yet: `python benchmarks/bench_nets.py" in rendered()  # says so, until committed
        return
    run = RESULTS["nets_run"]
    assert not run.get("quick") and set(run["part_runs"]) == set(BENCH.PARTS)
    for p in run["part_runs"].values():
        assert len(p["load_average_start"]) == len(p["load_average_end"]) == 3 and p["seconds"] > 0
    for r in RESULTS["nets"] + [RESULTS["training"]] + RESULTS["ops"]:
        if "ratio" in r:
            assert r["ratio"] == pytest.approx(r["ms"]["cnnref"] / r["ms"]["torch"], rel=1e-3, abs=1e-3)
            low, high = r["ratio_range"]
            assert low <= high
    assert RESULTS["training"]["max_error"] <= BENCH.TOLERANCE
    for w in RESULTS["walk"]:
        for before, stop in zip(w["stops"], w["stops"][1:]):
            assert stop["gain"] == pytest.approx(before["ms"] / stop["ms"], rel=1e-3, abs=1e-3)
    page = rendered()
    for r in RESULTS["nets"]:
        assert f"| {r['net']} | {r['N']} | {r['ms']['cnnref']:.2f} | {r['ms']['torch']:.2f} | {r['ratio']:.2f} |" in page
    for m in RESULTS["net_memory"]:
        assert f"| {m['net']} | {hook._bytes(m['peak_bytes'])} |" in page
    assert "not measured" not in hook.net_table(RESULTS) + hook.op_table(RESULTS)


def test_a_miss_says_what_its_kind_spends_beyond_the_floor_and_dilation_meets_its_undilated_twin():
    results = json.loads(json.dumps(FULL))
    for r in results["ops"]:  # every operation missed, its floor below the target
        r["ratio"], r.get("ms")["cnnref"] = 9.0, 9.0 * r["ms"]["torch"]
        r["matmul_floor_ratio" if "matmul_floor_ratio" in r else "bandwidth_floor_ratio"] = 0.5
    text = hook.nets_verdict(results)
    assert "rest (the add after the multiply: NumPy has no fused multiply-add" in text  # batch norm
    assert "rest (col2im's adds)" in text and "rest (building X_col, padding, the biases)" in text
    plain = {r["N"]: r["ms"] for r in results["ops"] if r["op"] == "conv 3x3"}
    for r in results["ops"]:
        if r["op"] == "dilated 3x3":
            p, d = plain[r["N"]], r["ms"]
            assert (f"dilated 3x3, N = {r['N']}: 9.00 x PyTorch" in text and f"undilated (conv 3x3, same input and filters): "
                    f"PyTorch {p['torch']:.3g} ms against {d['torch']:.3g} ms dilated, cnnref {p['cnnref']:.3g} ms") in text
    assert text.count("undilated") == len(BENCH.BATCHES)  # the dilated case only


def test_a_ratio_that_rounds_onto_its_target_shows_which_side_it_is_on():
    assert hook._vs(1.303, 1.3) == "1.303" and hook._vs(1.297, 1.3) == "1.297" and hook._vs(1.3, 1.3) == "1.30"
    assert hook._vs(1.349, 1.3) == "1.35" and hook._vs(2.575, 2.0) == "2.58"
    results = json.loads(json.dumps(FULL))
    net = next(r for r in results["nets"] if r["net"] in BENCH.NET_TARGETS)
    target = BENCH.NET_TARGETS[net["net"]]
    net["ratio"] = target + 0.003  # a miss that two decimals would print as the target itself
    assert f"{net['net']}, N = {net['N']}: {target + 0.003:.3f} x PyTorch (target <= {target:g})" in hook.nets_verdict(results)
