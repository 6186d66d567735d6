"""The one marker syntax of the site's pages, shared by the hooks that expand markers (not a hook itself).

A page asks a hook for generated content with a marker alone on its line (indented inside a box):

    <!-- cnnref:NAME -->

A marker named in INLINE stands for a value inside a sentence instead ("at most <!-- cnnref:block-size -->
at a time"): its hook renders a few words, never a block.

MARKERS below lists every name and the hook that expands it. A hook calls `expand` with its own name;
a marker of another hook is left for that hook, an unknown or misplaced marker stops the build with
ProperDocs' PluginError (mkdocs.exceptions.PluginError to the plugins, through ProperDocs' module
redirection) naming the page and the marker.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from properdocs.exceptions import PluginError

MARKERS = {  # name -> the hook (hooks/<hook>.py) that expands it
    "api-modules": "api",  # docs/api.md: a ::: cnnref.<module> block per module of cnnref.MODULES
    "conv-demo": "figures",  # the convolution demo (docs/dl/cnn/conv-layer.md)
    "machine": "performance",  # docs/performance.md: what measured the numbers, and when
    "case-table": "performance",  # the layer shapes of the benchmark's cases
    "conv-table": "performance",  # one row per case and dtype of benchmarks/bench_conv.py
    "verdict": "performance",  # how many targets were met; each miss with its floor
    "build-table": "performance",  # site build, test-suite and fresh-clone CI times against their targets
    "lighthouse": "performance",  # every nav page's Lighthouse medians, from benchmarks/lighthouse-results.json
    "block-size": "performance",  # the tuned conv2d's constants, from cnnref.fast_conv
    "small-block": "performance",
    "keep-size": "performance",
    "small-width": "performance",
    "test-quality": "performance",  # the tests' strength: benchmarks/property-coverage.json and mutation.json
    "nets-machine": "performance",  # how bench_nets.py measured: machine, rounds, load and duration of each part
    "net-table": "performance",  # the five nets' forward pass at each batch against PyTorch, with the multiplies alone
    "training-table": "performance",  # ResNet-18's training step against PyTorch
    "op-table": "performance",  # every operation against PyTorch, with its floor
    "peer-table": "performance",  # every operation against the notes' version and the NumPy peers
    "walk-table": "performance",  # the walk from the notes' conv2d to conv2d_fast, each refinement's gain
    "net-memory": "performance",  # peak memory of each net's forward pass at batch 1
    "nets-verdict": "performance",  # issue 19's targets met; each miss with its measured floor and reason
    "arch-comparison": "architectures",  # docs/architectures/index.md: the five nets side by side
    "arch-published": "architectures",  # the computed numbers next to the published ones
    "arch-vgg-cs231n": "architectures",  # the cs231n notes' VGG-16 walk-through, recomputed
    "arch-table-lenet5": "architectures",  # docs/architectures/<net>.md: every layer of the net
    "arch-table-alexnet": "architectures",
    "arch-table-vgg16": "architectures",
    "arch-table-resnet18": "architectures",
    "arch-table-mobilenet-v1": "architectures",
}
INLINE = {"block-size", "small-block", "small-width", "keep-size"}  # values inside a sentence, not blocks

MARKER = re.compile(r"^(?P<indent>[ \t]*)<!--\s*cnnref:(?P<name>[^\s>]*)\s*-->[ \t]*$", re.MULTILINE)
ANY_MARKER = re.compile(r"<!--\s*cnnref:(?P<name>[^\s>]*)")
INLINE_MARKER = re.compile(r"<!--\s*cnnref:(?P<name>[\w-]+)\s*-->")


def marker(name: str) -> str:
    return f"<!-- cnnref:{name} -->"


def known(hook: str | None = None) -> list[str]:
    """The marker names (of one hook, or all), sorted."""
    return sorted(n for n, h in MARKERS.items() if hook is None or h == hook)


def expand(markdown: str, where: str, hook: str, render: Callable[[str], str]) -> str:
    """Replace each marker of `hook` by render(name), indented as the marker was.

    Raises PluginError ("<page>: <!-- cnnref:NAME -->: ...") for a name no hook knows, or for a marker
    that does not stand alone on its line.
    """

    def sub(m: re.Match) -> str:
        name = m["name"]
        if name not in MARKERS:
            raise PluginError(
                f"{where}: {marker(name)}: unknown marker; the markers are: " + ", ".join(marker(n) for n in known())
            )
        if MARKERS[name] != hook:
            return m[0]
        return "\n".join(m["indent"] + line if line else line for line in render(name).split("\n"))

    alone = {m.start("name") for m in MARKER.finditer(markdown)}
    for m in ANY_MARKER.finditer(markdown):
        if m.start("name") not in alone and m["name"] not in INLINE:
            raise PluginError(f"{where}: {marker(m['name'])}: a marker must stand alone on its line")
    out = MARKER.sub(sub, markdown)
    return INLINE_MARKER.sub(lambda m: render(m["name"]) if MARKERS[m["name"]] == hook else m[0], out)
