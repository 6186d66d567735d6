"""Helpers shared by the notebook pages: the machine, timers, figures.

Not part of cnnref, which needs only NumPy: this module uses IPython,
matplotlib and threadpoolctl. The notebooks import it from their own
folder (the kernel runs in docs/notebooks/); each notebook page links it
for download, next to the notebook.

Figures follow the page's colour scheme: importing this module makes
matplotlib draw on a transparent background with placeholder colours
(INK, MUTED, BLUE, ORANGE, GREY), and `show` puts the figure on the page
as SVG whose placeholders read CSS variables the site sets for its light
and dark schemes (docs/stylesheets/extra.css), with the light colours as
fallback (in Jupyter, say). Images drawn with imshow keep their pixels.
"""

import hashlib
import html
import io
import math
import os
import platform
import re
import statistics
import time

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import HTML, Markdown, display
from threadpoolctl import threadpool_info, threadpool_limits

_limits = None  # the BLAS thread limit, kept for the kernel's lifetime

# Placeholder colour -> (CSS variable, its light value). The placeholders
# are near-black colours no figure uses for its own sake.
THEME = {
    "#0c0c01": ("--cnnref-plot-ink", "#1f1f1f"),  # text, axes, ticks
    "#0c0c02": ("--cnnref-plot-muted", "#6e7781"),  # secondary lines
    "#0c0c03": ("--cnnref-plot-blue", "#1f5f8b"),
    "#0c0c04": ("--cnnref-plot-orange", "#b3541e"),
    "#0c0c05": ("--cnnref-plot-grey", "#5f6368"),
}
INK, MUTED, BLUE, ORANGE, GREY = THEME
plt.rcParams.update({
    "text.color": INK,
    "axes.edgecolor": INK,
    "axes.labelcolor": INK,
    "xtick.color": INK,
    "ytick.color": INK,
    "legend.edgecolor": MUTED,
    "legend.facecolor": "none",
    "figure.facecolor": "none",
    "axes.facecolor": "none",
    "savefig.facecolor": "none",
    "svg.fonttype": "none",  # text stays text, in the page's font
    "svg.hashsalt": "cnnref-notebooks",
})
MIN_TEXT_PX = 9  # no figure text smaller than this, on any screen


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


def _owner(path):
    """The package a shared library came with: '.../numpy.libs/x.so' -> 'NumPy's'."""
    names = {"numpy": "NumPy's", "scipy": "SciPy's", "torch": "PyTorch's"}
    found = re.search(r"site-packages[/\\]([A-Za-z0-9_]+?)(?:\.libs)?[/\\]", path)
    package = found.group(1) if found else os.path.basename(path)
    return names.get(package, f"{package}'s")


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
    # Each library ships its own BLAS (NumPy's does cnnref's multiplies;
    # SciPy's, loaded with scikit-learn, can be another version).
    blas = "; ".join(
        f"{p['internal_api']} {p['version']} ({_owner(p['filepath'])}), "
        f"{_threads(p['num_threads'])}"
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


def themed_svg(fig):
    """fig as SVG text whose placeholder colours read the page's CSS
    variables, its ids unique on the page (several figures share one)."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight",
                metadata={"Date": None}, transparent=True)
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg"):]  # no XML prologue inside HTML
    for colour, (variable, light) in THEME.items():
        svg = svg.replace(colour, f"var({variable}, {light})")
    # Keep only the ids something refers to, made unique to this figure.
    used = set(re.findall(r'(?:url\(#|href="#)([^")]+)', svg))
    prefix = "f" + hashlib.sha1(svg.encode()).hexdigest()[:8] + "-"
    svg = re.sub(r'\sid="([^"]+)"', lambda m: (
        f' id="{prefix}{m.group(1)}"' if m.group(1) in used else ""), svg)
    svg = re.sub(r'(url\(#|href="#)', lambda m: m.group(1) + prefix, svg)
    return svg


def legible_width(svg, min_text_px=MIN_TEXT_PX):
    """The narrowest width (CSS px) at which the SVG's text is legible."""
    width = float(re.search(r'<svg[^>]*\bwidth="([\d.]+)pt"', svg).group(1))
    sizes = [float(v) for v in re.findall(r"font-size: ?([\d.]+)px", svg)]
    return math.ceil(min_text_px * width / min(sizes)) if sizes else 0


def show(fig, alt):
    """Display fig, in the page's colour scheme, with a text alternative.

    On a screen narrower than its legible width the figure scrolls
    sideways instead of shrinking its text below MIN_TEXT_PX.
    """
    svg = themed_svg(fig)
    plt.close(fig)
    display(HTML(
        f'<div class="cnnref-plot" role="img" aria-label="{html.escape(alt)}"'
        f' style="--cnnref-legible: {legible_width(svg)}px"'
        f' data-search-exclude>{svg}</div>'
    ))


def summary(text):
    """Show a closing paragraph, written in Markdown, as a paragraph."""
    display(Markdown(text))
