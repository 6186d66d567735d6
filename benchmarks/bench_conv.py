"""Time cnnref.conv2d against torch.nn.functional.conv2d (issue 6) and write benchmarks/results.json.

    python benchmarks/bench_conv.py            # conv2d vs torch (and conv2d_naive on a small case)
    python benchmarks/bench_conv.py --site     # also: the full site build from clean (target < 30 s)
    python benchmarks/bench_conv.py --tests    # also: the README's test command (target < 3 min)
    python benchmarks/bench_conv.py --skip-conv --site --tests   # only those two, conv2d results kept

torch is the baseline only (pip install torch==2.13.0): never a dependency of cnnref or of its tests.
Without it the script still times cnnref, but asserts nothing. Both libraries keep their default
thread counts (reported). cnnref runs on its native layout (N, H, W, D); torch on (N, D, H, W), made
outside the timed region. Runs of the two alternate, and each time is the median of its runs.
The targets are asserted on those wall times. As a cross-check that load on a shared machine cannot
skew, each case is also timed in CPU time with one thread each (`one_thread_cpu_ratio`, not asserted).
Exits non-zero, naming the failures, when a measured target is missed.
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from cnnref import conv2d, conv2d_naive, output_size  # noqa: E402

try:
    import torch
except ImportError:  # the baseline is optional
    torch = None

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
MEMORY_TARGET, SITE_TARGET, TESTS_TARGET = 1.5, 30.0, 180.0


def idle_fraction(seconds=0.5):
    """Share of the machine's CPU time left idle over a short interval (Linux /proc/stat), else None."""
    def read():
        with open("/proc/stat") as f:
            values = [int(v) for v in f.readline().split()[1:]]
        return values[3] + values[4], sum(values)  # idle + iowait, total

    try:
        idle0, total0 = read()
        time.sleep(seconds)
        idle1, total1 = read()
    except OSError:
        return None
    return (idle1 - idle0) / max(1, total1 - total0)


def wait_until_idle(threshold=0.6, patience=30.0):
    """Other work on the machine skews both timings: wait (up to `patience` s) for idle cores. Returns the idle share."""
    deadline = time.monotonic() + patience
    while True:
        idle = idle_fraction()
        if idle is None or idle >= threshold or time.monotonic() > deadline:
            return idle
        time.sleep(2.0)


def median_times(fns, seconds=1.0, min_runs=15, max_runs=300, clock=time.perf_counter):
    """Median time (s) of each function, called in turn so that both see the same machine load."""
    for fn in fns:  # warm up: caches, thread pools, allocator
        fn()
    times = [[] for _ in fns]
    start = time.perf_counter()
    while len(times[0]) < min_runs or (time.perf_counter() - start < seconds and len(times[0]) < max_runs):
        for fn, ts in zip(fns, times):
            t = clock()
            fn()
            ts.append(clock() - t)
    return [statistics.median(ts) for ts in times], len(times[0])


def one_thread_cpu_times(fns, seconds):
    """Median CPU time (s) of each function with one thread each: what a busy machine cannot skew."""
    from threadpoolctl import threadpool_limits

    threads = torch.get_num_threads() if torch else None
    try:
        if torch:
            torch.set_num_threads(1)
        with threadpool_limits(1):
            return median_times(fns, seconds=seconds, min_runs=7, clock=time.thread_time)[0]
    finally:
        if torch:
            torch.set_num_threads(threads)


def conv_case(name, N, H1, D1, K, F, S, P, target, dtype, naive=False):
    """One row of the table: times in ms, GFLOP/s, ratio to torch and whether the target is met."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N, H1, H1, D1)).astype(dtype)
    W = rng.standard_normal((K, F, F, D1)).astype(dtype)
    b = rng.standard_normal(K).astype(dtype)
    H2 = output_size(H1, F, S, P)
    flops = 2 * N * H2 * H2 * K * F * F * D1
    fns = {"cnnref": lambda: conv2d(X, W, b, S, P)}
    V = fns["cnnref"]()
    assert V.dtype == dtype, f"{name}: conv2d returned {V.dtype} for {np.dtype(dtype)} input"
    if naive:
        fns["naive"] = lambda: conv2d_naive(X, W, b, S, P)
        np.testing.assert_allclose(V, fns["naive"](), rtol=1e-4, atol=1e-4)
    if torch is not None:  # NCHW copies, made once, outside the timed region
        Xt, Wt = (torch.from_numpy(np.ascontiguousarray(A.transpose(0, 3, 1, 2))) for A in (X, W))
        bt = torch.from_numpy(b)

        def run_torch():
            with torch.no_grad():
                return torch.nn.functional.conv2d(Xt, Wt, bt, stride=S, padding=P)

        fns["torch"] = run_torch
        np.testing.assert_allclose(V, run_torch().numpy().transpose(0, 2, 3, 1), rtol=1e-3, atol=1e-3)
    seconds = 0.3 if naive else 3.0
    idle = wait_until_idle()
    medians, runs = median_times(list(fns.values()), seconds=seconds, min_runs=3 if naive else 15)
    ms = dict(zip(fns, (1e3 * t for t in medians)))
    cpu_ms = {} if naive else dict(zip(fns, (1e3 * t for t in one_thread_cpu_times(list(fns.values()), seconds / 2))))
    row = {
        "case": name, "N": N, "input": f"{H1}x{H1}x{D1}", "filters": f"{K} x {F}x{F}", "S": S, "P": P,
        "dtype": np.dtype(dtype).name, "runs": runs, "flops": flops,
        "idle_before": None if idle is None else round(idle, 2),
        "ms": {k: round(v, 4) for k, v in ms.items()},
        "gflops": {k: round(flops / v / 1e6, 2) for k, v in ms.items()},
    }
    if cpu_ms:
        row["one_thread_cpu_ms"] = {k: round(v, 4) for k, v in cpu_ms.items()}
    if "torch" in cpu_ms:
        row["one_thread_cpu_ratio"] = round(cpu_ms["cnnref"] / cpu_ms["torch"], 3)
    if "torch" in ms:
        row["ratio"] = round(ms["cnnref"] / ms["torch"], 3)
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


def timed_command(cmd, target, env=None):
    """Wall time of a shell command run from the repository root, against a target in seconds."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        print(proc.stdout[-3000:], proc.stderr[-3000:], sep="\n")
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "command": " ".join(cmd), "seconds": round(seconds, 1), "returncode": proc.returncode,
        "last_line": next((line.strip("= ") for line in reversed(proc.stdout.splitlines()) if line.strip()), ""),
        "target": target, "ok": proc.returncode == 0 and seconds < target,
    }


def site_build():
    """The full site build (figures and notebooks included) into a fresh temporary directory."""
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    with tempfile.TemporaryDirectory() as site_dir:
        mkdocs = str(Path(sys.executable).parent / "mkdocs")
        return timed_command([mkdocs, "build", "--strict", "--site-dir", site_dir], SITE_TARGET, env)


def test_suite():
    """The README's test command: `make test` (every test, browser ones included)."""
    return timed_command(["make", "test"] if shutil.which("make") else [sys.executable, "-m", "pytest"], TESTS_TARGET)


def machine():
    """What the numbers were measured on."""
    from threadpoolctl import threadpool_info

    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), None) \
        if os.path.exists("/proc/cpuinfo") else platform.processor()
    blas = [
        {k: pool.get(k) for k in ("internal_api", "prefix", "version", "architecture", "num_threads")}
        for pool in threadpool_info()
    ]
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu, "cores": os.cpu_count(), "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(), "numpy": np.__version__,
        "torch": torch.__version__ if torch else None,
        "torch_threads": torch.get_num_threads() if torch else None,
        "blas": blas, "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
    }


def print_table(rows):
    header = f"{'case':14} {'N':>3} {'dtype':7} {'naive ms':>9} {'cnnref ms':>9} {'torch ms':>9} " \
             f"{'GFLOP/s':>8} {'torch GFLOP/s':>13} {'ratio':>6} {'target':>6} {'1-thread CPU ratio':>18}"
    print(header, flush=True)
    for r in rows:
        ms, gf = r["ms"], r["gflops"]
        cell = lambda d, k, f: format(d[k], f) if k in d else "-"  # noqa: E731
        ok = "" if "ok" not in r else ("ok" if r["ok"] else "MISSED")
        print(f"{r['case']:14} {r['N']:>3} {r['dtype']:7} {cell(ms, 'naive', '9.2f'):>9} {ms['cnnref']:9.2f} "
              f"{cell(ms, 'torch', '9.2f'):>9} {gf['cnnref']:8.1f} {cell(gf, 'torch', '13.1f'):>13} "
              f"{r.get('ratio', float('nan')):6.2f} {r.get('target', ''):>6} "
              f"{r.get('one_thread_cpu_ratio', float('nan')):18.2f} {ok}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--site", action="store_true", help="also time the full site build from clean")
    parser.add_argument("--tests", action="store_true", help="also time the README's test command")
    parser.add_argument("--skip-conv", action="store_true", help="keep the recorded conv2d results (with --site/--tests)")
    args = parser.parse_args(argv)

    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    rows, measured = [], []
    if not args.skip_conv:
        results["machine"] = machine()
        print(json.dumps(results["machine"], indent=1))
        rows = [conv_case(*NAIVE_CASE, np.float32, naive=True)]
        rows += [conv_case(*case, dtype) for dtype in (np.float32, np.float64) for case in CASES]
        results["conv"] = rows
        results["memory"] = peak_memory()
        measured.append("memory")
        print_table(rows)
        m = results["memory"]
        print(f"peak memory of conv2d on {m['case']}: {m['peak_bytes'] / 2**20:.1f} MiB = {m['ratio']:.2f} x X_col "
              f"({m['X_col_bytes'] / 2**20:.1f} MiB), target <= {m['target']}")
    if args.site:
        results["site"] = site_build()
        print(f"site build: {results['site']['seconds']} s (target < {SITE_TARGET} s)")
    if args.tests:
        results["tests"] = test_suite()
        print(f"tests: {results['tests']['seconds']} s (target < {TESTS_TARGET} s)")
    RESULTS.write_text(json.dumps(results, indent=1) + "\n")

    failed = [f"{r['case']} N={r['N']} {r['dtype']}: {r['ratio']} > {r['target']}" for r in rows if r.get("ok") is False]
    measured += ["site"] * args.site + ["tests"] * args.tests  # entries not measured now stay as they were
    failed += [f"{k}: {results[k]}" for k in measured if not results[k]["ok"]]
    if torch is None:
        print("torch is not installed: times recorded, ratios not asserted")
    if failed:
        print("MISSED TARGETS:\n  " + "\n  ".join(failed))
        return 1
    print("all measured targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
