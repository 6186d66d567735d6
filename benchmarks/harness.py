"""The fair harness shared by the benchmarks (bench_conv.py, bench_nets.py): how two libraries are timed.

Each library runs in its own worker process (the benchmark script with --worker LIBRARY), with its
default threads, so that neither meets the other's thread pools: OpenBLAS and OpenMP threads spin for
a while after each call, and timed in one process, whichever library runs second pays for the
other's spinning (issue 6's closing note: interleaving in one process made PyTorch look several
times slower than it is). The workers take turns, in rounds, the order alternating, with a pause
before each turn that lets the other's threads fall asleep. A time is the median of all timed calls
of every turn; the spread of a ratio is the lowest and highest ratio of single rounds.

Nothing here imports torch: the workers do.
"""

import contextlib
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import numpy as np

TURN, SETTLE = 0.3, 0.25  # seconds of timed calls per turn; pause before each turn


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def load_average():
    return [round(x, 2) for x in os.getloadavg()]


def idle_fraction(seconds=0.5):
    """Share of the machine's CPU time left free over a short interval (Linux /proc/stat), else None.

    Free: idle, waiting for I/O, or running niced work (nice > 0), which yields its core to the
    benchmark's processes (a nice-19 job gets about 1.5% of a core beside one at nice 0).
    """

    def read():
        with open("/proc/stat") as f:
            values = [int(v) for v in f.readline().split()[1:]]
        return values[1] + values[3] + values[4], sum(values)  # nice + idle + iowait, total

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


def time_calls(fn, seconds, min_runs):
    """Times (s) of fn() after one warm-up call: at least min_runs calls and at least `seconds` of them."""
    fn()  # warm up: caches, thread pools, allocator
    times, start = [], time.perf_counter()
    while len(times) < min_runs or time.perf_counter() - start < seconds:
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return times


@contextlib.contextmanager
def one_core(library):
    """One thread for the library: NumPy's BLAS and cnnref's pool, or PyTorch's intra-op pool."""
    if library == "torch":
        import torch

        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            yield
        finally:
            torch.set_num_threads(threads)
    else:
        from threadpoolctl import threadpool_limits

        threads = os.environ.get("CNNREF_THREADS")
        os.environ["CNNREF_THREADS"] = "1"  # read by cnnref's tuned kernels at every call
        try:
            with threadpool_limits(1):
                yield
        finally:
            if threads is None:
                del os.environ["CNNREF_THREADS"]
            else:
                os.environ["CNNREF_THREADS"] = threads


def pools(library):
    """The thread pools the worker of `library` runs on."""
    if library == "torch":
        import torch

        return {"torch": torch.__version__, "threads": torch.get_num_threads()}
    from threadpoolctl import threadpool_info

    keys = ("internal_api", "prefix", "version", "architecture", "num_threads")
    return {"blas": [{k: pool.get(k) for k in keys} for pool in threadpool_info()]}


class Worker:
    """A worker process of `script` for one library: commands as JSON lines on stdin, answers on stdout."""

    def __init__(self, script, library):
        self.library = library
        self.process = subprocess.Popen(
            [sys.executable, str(script), "--worker", library], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )

    def ask(self, **command):
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        if not answer:
            raise RuntimeError(f"the {self.library} worker stopped (exit code {self.process.wait()})")
        answer = json.loads(answer)
        if isinstance(answer, dict) and "error" in answer:
            raise RuntimeError(f"the {self.library} worker failed on {command.get('do')}: {answer['error']}")
        return answer

    def close(self):
        self.process.stdin.close()
        self.process.wait()


def rounds(turn, libraries, count, settle=SETTLE):
    """{library: [times of round 0, times of round 1, ...]}: turn(library) gives one turn's times; the
    order alternates from round to round, with a pause before every turn."""
    times = {library: [] for library in libraries}
    for r in range(count):
        for library in libraries if r % 2 == 0 else libraries[::-1]:
            time.sleep(settle)  # the other worker's threads stop spinning
            times[library].append(turn(library))
    return times


def median_ms(times):
    """{library: median in ms of all its timed calls, every turn pooled} from rounds()' result."""
    return {k: 1e3 * statistics.median(t for turn in turns for t in turn) for k, turns in times.items()}


def spread(times, a, b):
    """[lowest, highest] ratio a / b of the medians of single rounds."""
    per_round = [statistics.median(x) / statistics.median(y) for x, y in zip(times[a], times[b])]
    return [round(min(per_round), 3), round(max(per_round), 3)]


def cpu():
    if os.path.exists("/proc/cpuinfo"):
        with open("/proc/cpuinfo") as f:
            return next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), None)
    return platform.processor()


def machine(workers, method):
    """What the numbers were measured on (the thread pools as each worker sees them), and how."""
    torch = workers["torch"].ask(do="info") if "torch" in workers else {}
    from cnnref import fast_conv

    return {
        "date": now(), "cpu": cpu(), "cores": os.cpu_count(), "load_average": load_average(),
        "python": platform.python_version(), "numpy": np.__version__,
        "torch": torch.get("torch"), "torch_threads": torch.get("threads"),
        "cnnref_threads": fast_conv._threads(),
        "blas": workers["cnnref"].ask(do="info")["blas"], "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
        "method": method,
    }


def report(failed):
    """The benchmark's last words: the missed targets, one a line, and exit code 1; or that all were met, and 0."""
    if failed:
        print("MISSED TARGETS:\n  " + "\n  ".join(failed))
        return 1
    print("all measured targets met")
    return 0
