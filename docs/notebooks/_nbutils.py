"""Helpers shared by the notebook pages: the machine, timers, figures.

Not part of cnnref, which needs only NumPy: this module uses IPython,
matplotlib and threadpoolctl. The notebooks import it from their own
folder (the kernel runs in docs/notebooks/).
"""

import base64
import html
import io
import os
import platform
import statistics
import time

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import HTML, Markdown, display
from threadpoolctl import threadpool_info, threadpool_limits

_limits = None  # the BLAS thread limit, kept for the kernel's lifetime


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            return next(
                line.split(":", 1)[1].strip()
                for line in f
                if line.startswith("model name")
            )
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def _threads(n):
    return f"{n} thread" + ("s" if n != 1 else "")


def machine(blas_threads=None):
    """Print which machine runs (and times) this page.

    With blas_threads, first limit the BLAS library to that many
    threads for the rest of the page, and say so.
    """
    global _limits
    if blas_threads is not None:
        _limits = threadpool_limits(limits=blas_threads, user_api="blas")
    cores = (
        len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count()
    )
    blas = "; ".join(
        f"{p['internal_api']} {p['version']}, {_threads(p['num_threads'])}"
        for p in threadpool_info()
        if p["user_api"] == "blas"
    )
    load = (
        ", ".join(f"{x:.1f}" for x in os.getloadavg())
        if hasattr(os, "getloadavg")
        else "n/a"
    )
    print(f"Measured on: {_cpu_model()}, {platform.system()}")
    print(f"{cores} cores available to this process "
          f"({os.cpu_count()} logical)")
    print(f"Python {platform.python_version()}, NumPy {np.__version__}")
    print(f"BLAS: {blas or 'unknown'}")
    print(f"Load average (1, 5, 15 min) when measured: {load}")
    if blas_threads is not None:
        print(f"BLAS limited to {_threads(blas_threads)} on this page")


def best_time(f, repeat=5):
    """The fastest of `repeat` runs of f(), in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return min(times)


def median_times(functions, repeat=5):
    """Median seconds per run of each function in a dict {name: f}.

    The functions take turns (one run of each per round), so a burst
    of load from other processes hits all of them alike and their
    times stay comparable.
    """
    times = {name: [] for name in functions}
    for _ in range(repeat):
        for name, f in functions.items():
            start = time.perf_counter()
            f()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def median_time(f, repeat=5):
    """Median seconds per run of f() over `repeat` runs."""
    return median_times({"f": f}, repeat)["f"]


def show(fig, alt):
    """Display fig as a PNG with a text alternative (alt)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=96, bbox_inches="tight")
    plt.close(fig)
    data = base64.b64encode(buffer.getvalue()).decode()
    display(HTML(
        f'<img src="data:image/png;base64,{data}" '
        f'alt="{html.escape(alt)}" style="max-width: 100%">'
    ))


def summary(text):
    """Show a closing paragraph, written in Markdown, as a paragraph."""
    display(Markdown(text))
