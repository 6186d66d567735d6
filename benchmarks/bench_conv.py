"""Time cnnref.conv2d against torch.nn.functional.conv2d (issue 6) and write benchmarks/results.json.

    python benchmarks/bench_conv.py            # conv2d vs torch (and conv2d_naive on a small case)
    python benchmarks/bench_conv.py --site     # also: the full site build from clean (target < 30 s)
    python benchmarks/bench_conv.py --tests    # also: the README's test command (target < 3 min)
    python benchmarks/bench_conv.py --ci       # also: CI from a fresh clone, `CI=true bash .ci/run` (target < 5 min)
    python benchmarks/bench_conv.py --skip-conv --site --tests --ci   # only those, conv2d results kept

torch is the baseline only (pip install torch==2.13.0): never a dependency of cnnref or of its tests.
Without it the script still times cnnref, but asserts nothing.

How the two are timed, in the same run (benchmarks/harness.py, shared with bench_nets.py): each
library runs in its own worker process (this script with --worker), with its default threads, so that neither meets the other's thread pools (OpenBLAS
and OpenMP threads spin for a while after each call: timed in one process, whichever runs second
pays for the other's spinning). The workers take turns, in rounds, the order alternating, with a
pause before each turn that lets the other's threads fall asleep. Each time reported is the median
of all timed calls; the ratio is cnnref's median over torch's, and `ratio_range` the smallest and
largest ratio of single rounds. cnnref runs on its layout (N, H, W, D), torch on (N, D, H, W),
converted once outside the timed region. Two cross-checks are recorded, not asserted: the same
rounds with one thread each (one core), and `matmul_ratio`, the one multiply X_col.T @ W_row.T
alone (X_col.T built beforehand, in cnnref's worker) over torch: the floor of any im2col + BLAS. Exits non-zero, naming the failures, when a target is missed.

Each run also compares itself with the run it replaces (`conv_check` in results.json, issue 11's
"within noise"): a case is within noise when either run's ratio lies inside the other's range of
single rounds.
"""

import argparse
import contextlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks.harness import (  # noqa: E402
    SETTLE, TURN, Worker, load_average, median_ms, now, one_core, pools, report, spread, time_calls, wait_until_idle,
)
from benchmarks.harness import machine as machine_info  # noqa: E402
from cnnref import conv2d_fast as conv2d, conv2d_naive, output_size  # noqa: E402  (the tuned kernel)

RESULTS = ROOT / "benchmarks" / "results.json"

# name, N, H1 (= W1), D1, K, F, S, P, target time / torch in float32 (float64: 1.2 for all)
CASES = [
    ("AlexNet conv1", 1, 227, 3, 96, 11, 4, 0, 1.5),
    ("AlexNet conv1", 8, 227, 3, 96, 11, 4, 0, 1.5),
    ("VGG 3x3", 1, 56, 64, 64, 3, 1, 1, 1.5),
    ("CIFAR batch", 64, 32, 3, 12, 3, 1, 1, 2.0),
]
FLOAT64_TARGET = 1.2
NAIVE_CASE = ("CIFAR image", 1, 32, 3, 12, 3, 1, 1, None)  # conv2d_naive: small shapes only
MEMORY_TARGET, SITE_TARGET, TESTS_TARGET, CI_TARGET = 1.5, 30.0, 180.0, 300.0
ROUNDS, ONE_CORE_ROUNDS = 7, 3  # turns of each library per case, all threads / one thread each


def torch_version():
    try:
        return importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        return None


def inputs(N, H1, D1, K, F, dtype):
    """The case's X (N, H1, H1, D1), W (K, F, F, D1), b (K,): the same numbers in every process."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N, H1, H1, D1)).astype(dtype)
    W = rng.standard_normal((K, F, F, D1)).astype(dtype)
    b = rng.standard_normal(K).astype(dtype)
    return X, W, b


# The worker: one library per process, commands as JSON lines on stdin, answers on stdout.


def _function(library, case, dtype):
    name, N, H1, D1, K, F, S, P, _ = case
    X, W, b = inputs(N, H1, D1, K, F, dtype)
    if library == "naive":
        return lambda: conv2d_naive(X, W, b, S, P)
    if library == "cnnref":
        return lambda: conv2d(X, W, b, S, P)
    if library == "matmul":  # the floor of im2col + BLAS: the one multiply alone, X_col.T already built
        from cnnref.windows import windows, zero_pad

        X_cols = np.ascontiguousarray(windows(zero_pad(X, P), (F, F), (S, S)).reshape(-1, F * F * D1))
        W_row_T, V = W.reshape(K, -1).T, np.empty((len(X_cols), K), dtype)
        return lambda: np.matmul(X_cols, W_row_T, out=V)
    import torch

    Xt, Wt = (torch.from_numpy(np.ascontiguousarray(A.transpose(0, 3, 1, 2))) for A in (X, W))
    bt = torch.from_numpy(b)

    def run_torch():
        with torch.no_grad():
            return torch.nn.functional.conv2d(Xt, Wt, bt, stride=S, padding=P)

    return run_torch


def worker(library):
    """`--worker LIBRARY`: run and time what the main process asks for, in this process only."""
    functions = {}
    for line in sys.stdin:
        command = json.loads(line)
        if command["do"] == "info":
            answer = pools(library)
        else:
            key = (command["library"], tuple(command["case"]), command["dtype"])
            if key not in functions:
                functions[key] = _function(command["library"], command["case"], np.dtype(command["dtype"]))
            fn = functions[key]
            if command["do"] == "save":  # the output, (N, H2, W2, K), for the main process to compare
                V = fn()
                np.save(command["path"], V.numpy().transpose(0, 2, 3, 1) if library == "torch" else V)
                answer = "saved"
            else:
                with one_core(library) if command["one_core"] else contextlib.nullcontext():
                    answer = time_calls(fn, command["seconds"], command["min_runs"])
        print(json.dumps(answer), flush=True)


def rounds(workers, libraries, case, dtype, count, one_core=False, seconds=TURN, min_runs=5):
    """Times (s) of each library over `count` rounds of turns: {library: [[times of round 0], ...]}."""
    from benchmarks.harness import rounds as take_turns

    def turn(library):
        return workers[library if library in workers else "cnnref"].ask(
            do="time", library=library, case=list(case), dtype=np.dtype(dtype).name,
            one_core=one_core, seconds=seconds, min_runs=min_runs,
        )

    return take_turns(turn, libraries, count)


def conv_case(workers, case, dtype, naive=False):
    """One row of the table: times in ms, GFLOP/s, ratio to torch and whether the target is met."""
    name, N, H1, D1, K, F, S, P, target = case
    X, W, b = inputs(N, H1, D1, K, F, dtype)
    H2 = output_size(H1, F, S, P)
    flops = 2 * N * H2 * H2 * K * F * F * D1
    V = conv2d(X, W, b, S, P)
    assert V.dtype == dtype, f"{name}: conv2d returned {V.dtype} for {np.dtype(dtype)} input"
    libraries = ["cnnref"] + ["matmul"] * (not naive) + ["torch"] * ("torch" in workers)
    if naive:
        np.testing.assert_allclose(V, conv2d_naive(X, W, b, S, P), rtol=1e-4, atol=1e-4)
    if "torch" in workers:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "V.npy")
            workers["torch"].ask(do="save", library="torch", case=list(case), dtype=np.dtype(dtype).name, path=path)
            np.testing.assert_allclose(V, np.load(path), rtol=1e-3, atol=1e-3)
    idle = wait_until_idle()
    times = rounds(workers, libraries, case, dtype, ROUNDS)
    if naive:  # the loops: a few calls, in the cnnref worker
        times["naive"] = rounds({"naive": workers["cnnref"]}, ["naive"], case, dtype, 1, seconds=0.3, min_runs=3)["naive"]
    ms = median_ms(times)
    row = {
        "case": name, "N": N, "input": f"{H1}x{H1}x{D1}", "filters": f"{K} x {F}x{F}", "S": S, "P": P,
        "dtype": np.dtype(dtype).name, "runs": {k: sum(map(len, turns)) for k, turns in times.items()},
        "flops": flops, "idle_before": None if idle is None else round(idle, 2),
        "ms": {k: round(v, 6) for k, v in ms.items()},
        "gflops": {k: round(flops / v / 1e6, 2) for k, v in ms.items()},
    }
    if "torch" in times:
        row["ratio"] = round(ms["cnnref"] / ms["torch"], 3)
        row["ratio_range"] = spread(times, "cnnref", "torch")
        if "matmul" in ms:
            row["matmul_ratio"] = round(ms["matmul"] / ms["torch"], 3)
        if not naive:
            one = rounds(workers, ["cnnref", "torch"], case, dtype, ONE_CORE_ROUNDS, one_core=True)
            one_ms = median_ms(one)
            row["one_core_ms"] = {k: round(v, 6) for k, v in one_ms.items()}
            row["one_core_ratio"] = round(one_ms["cnnref"] / one_ms["torch"], 3)
        if target is not None:
            row["target"] = target if dtype == np.float32 else FLOAT64_TARGET
            row["ok"] = row["ratio"] <= row["target"]
    return row


def peak_memory():
    """Peak bytes NumPy allocates inside conv2d on AlexNet conv1, N = 8, relative to its X_col."""
    N, H1, D1, K, F, S = 8, 227, 3, 96, 11, 4
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N, H1, H1, D1)).astype(np.float32)
    W = rng.standard_normal((K, F, F, D1)).astype(np.float32)
    H2 = output_size(H1, F, S)
    X_col_bytes = F * F * D1 * N * H2 * H2 * X.itemsize  # (F*F*D1, N*H2*W2) float32
    tracemalloc.start()
    conv2d(X, W, S=S)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    ratio = peak / X_col_bytes
    return {
        "case": "AlexNet conv1, N = 8, float32", "peak_bytes": peak, "X_col_bytes": X_col_bytes,
        "ratio": round(ratio, 3), "target": MEMORY_TARGET, "ok": ratio <= MEMORY_TARGET,
    }


def timed_command(cmd, target, env=None, cwd=ROOT):
    """Wall time of a shell command run from the repository root (or cwd), against a target in seconds."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        print(proc.stdout[-3000:], proc.stderr[-3000:], sep="\n")
    return {
        "date": now(), "load_average": load_average(),
        "command": " ".join(cmd), "seconds": round(seconds, 1), "returncode": proc.returncode,
        "last_line": next((line.strip("= ") for line in reversed(proc.stdout.splitlines()) if line.strip()), ""),
        "target": target, "ok": proc.returncode == 0 and seconds < target,
    }


def site_build():
    """The full site build (figures and notebooks included) into a fresh temporary directory."""
    with tempfile.TemporaryDirectory() as site_dir:
        properdocs = str(Path(sys.executable).parent / "properdocs")
        return timed_command([properdocs, "build", "--strict", "--site-dir", site_dir], SITE_TARGET)


def test_suite():
    """The README's test command: `make test` (every test, browser ones included)."""
    return timed_command(["make", "test"] if shutil.which("make") else [sys.executable, "-m", "pytest"], TESTS_TARGET)


def fresh_clone_ci():
    """CI as it runs: a fresh clone of this repository's HEAD, then `CI=true bash .ci/run` (its own .venv and
    node_modules from the registries, every test)."""
    with tempfile.TemporaryDirectory(prefix="cnnref-ci-") as tmp:
        clone = Path(tmp) / "clone"
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
        result = timed_command(["bash", ".ci/run"], CI_TARGET, env=dict(os.environ, CI="true"), cwd=clone)
        result["commit"] = subprocess.run(["git", "-C", str(clone), "rev-parse", "--short", "HEAD"],
                                          capture_output=True, text=True).stdout.strip()
        result["command"] = "git clone && CI=true bash .ci/run"
        return result


def machine(workers):
    """What the numbers were measured on (the thread pools as each worker sees them)."""
    return machine_info(workers, f"separate processes, {ROUNDS} alternating rounds of {TURN} s after {SETTLE} s pauses")


def within_noise(before, rows, before_date=None):
    """The tuned kernel against the previous committed run (issue 11: "within noise of results.json").

    For each case of both runs: the ratio to torch then and now, and each run's lowest and highest
    single-round ratio. A case is within noise when either run's ratio lies inside the other run's
    range of single rounds (what a repeat of the same code gives on this machine).
    """
    old = {(r["case"], r["N"], r["dtype"]): r for r in before if "ratio_range" in r}
    cases = []
    for r in rows:
        b = old.get((r["case"], r["N"], r["dtype"]))
        if b is None or "ratio_range" not in r:
            continue
        inside = lambda x, span: span[0] <= x <= span[1]  # noqa: E731
        cases.append({
            "case": r["case"], "N": r["N"], "dtype": r["dtype"],
            "ratio_before": b["ratio"], "range_before": b["ratio_range"],
            "ratio_now": r["ratio"], "range_now": r["ratio_range"],
            "within_noise": inside(r["ratio"], b["ratio_range"]) or inside(b["ratio"], r["ratio_range"]),
        })
    return {"before": before_date, "cases": cases, "within_noise": sum(c["within_noise"] for c in cases)}


def print_table(rows):
    header = f"{'case':14} {'N':>3} {'dtype':7} {'naive ms':>9} {'cnnref ms':>9} {'torch ms':>9} " \
             f"{'GFLOP/s':>8} {'torch GFLOP/s':>13} {'ratio':>6} {'rounds':>11} {'target':>6} {'one core':>8} {'matmul':>6}"
    print(header, flush=True)
    for r in rows:
        ms, gf = r["ms"], r["gflops"]
        cell = lambda d, k, f: format(d[k], f) if k in d else "-"  # noqa: E731
        ok = "" if "ok" not in r else ("ok" if r["ok"] else "MISSED")
        spread = "{:.2f}-{:.2f}".format(*r["ratio_range"]) if "ratio_range" in r else "-"
        print(f"{r['case']:14} {r['N']:>3} {r['dtype']:7} {cell(ms, 'naive', '9.2f'):>9} {ms['cnnref']:9.2f} "
              f"{cell(ms, 'torch', '9.2f'):>9} {gf['cnnref']:8.1f} {cell(gf, 'torch', '13.1f'):>13} "
              f"{r.get('ratio', float('nan')):6.2f} {spread:>11} {r.get('target', ''):>6} "
              f"{r.get('one_core_ratio', float('nan')):8.2f} {r.get('matmul_ratio', float('nan')):6.2f} {ok}", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--site", action="store_true", help="also time the full site build from clean")
    parser.add_argument("--tests", action="store_true", help="also time the README's test command")
    parser.add_argument("--ci", action="store_true", help="also time CI from a fresh clone (CI=true bash .ci/run)")
    parser.add_argument("--skip-conv", action="store_true", help="keep the recorded conv2d results (with --site/--tests)")
    parser.add_argument("--worker", choices=["cnnref", "torch"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args.worker)

    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    rows, measured = [], []
    before, before_date = results.get("conv", []), results.get("machine", {}).get("date")
    if not args.skip_conv:
        workers = {"cnnref": Worker(__file__, "cnnref")} | ({"torch": Worker(__file__, "torch")} if torch_version() else {})
        try:
            results["machine"] = machine(workers)
            print(json.dumps(results["machine"], indent=1))
            rows = [conv_case(workers, NAIVE_CASE, np.float32, naive=True)]
            print_table(rows)
            for dtype in (np.float32, np.float64):
                for case in CASES:
                    rows.append(conv_case(workers, case, dtype))
                    print_table(rows[-1:])
        finally:
            for w in workers.values():
                w.close()
        results["conv"] = rows
        results["conv_check"] = within_noise(before, rows, before_date)
        check = results["conv_check"]
        print(f"within noise of the run of {check['before']}: {check['within_noise']} of {len(check['cases'])} cases")
        results["memory"] = peak_memory()
        measured.append("memory")
        print_table(rows)
        m = results["memory"]
        print(f"peak memory of conv2d on {m['case']}: {m['peak_bytes'] / 2**20:.1f} MiB = {m['ratio']:.2f} x X_col "
              f"({m['X_col_bytes'] / 2**20:.1f} MiB), target <= {m['target']}")
        RESULTS.write_text(json.dumps(results, indent=1) + "\n")  # before --tests, whose page tests read it
    if args.site:
        results["site"] = site_build()
        print(f"site build: {results['site']['seconds']} s (target < {SITE_TARGET} s)")
    if args.tests:
        results["tests"] = test_suite()
        print(f"tests: {results['tests']['seconds']} s (target < {TESTS_TARGET} s)")
    if args.ci:
        results["ci"] = fresh_clone_ci()
        print(f"fresh-clone CI: {results['ci']['seconds']} s (target < {CI_TARGET} s)")
    RESULTS.write_text(json.dumps(results, indent=1) + "\n")

    failed = [f"{r['case']} N={r['N']} {r['dtype']}: {r['ratio']} > {r['target']}" for r in rows if r.get("ok") is False]
    measured += ["site"] * args.site + ["tests"] * args.tests + ["ci"] * args.ci  # entries not measured now stay as they were
    failed += [f"{k}: {results[k]}" for k in measured if not results[k]["ok"]]
    if rows and not torch_version():
        print("torch is not installed: times recorded, ratios not asserted")
    return report(failed)


if __name__ == "__main__":
    sys.exit(main())
