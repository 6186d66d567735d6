"""MkDocs hook (`hooks: [hooks/architectures.py]`): the Architectures pages' tables (docs/architectures/),
computed by cnnref at build time from Net.summary() (no weights drawn). Its markers (hooks/markers.py):
- `<!-- cnnref:arch-comparison -->`: the five nets side by side;
- `<!-- cnnref:arch-published -->`: the computed numbers at the published precision, next to the published ones;
- `<!-- cnnref:arch-vgg-cs231n -->`: the cs231n notes' VGG-16 walk-through, recomputed, next to its typed numbers;
- `<!-- cnnref:arch-table-SLUG -->` (lenet5, alexnet, vgg16, resnet18, mobilenet-v1): a net's summary, every column.
"""

import sys
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # hooks/ is a folder of the repository, not an installed package
    sys.path.append(str(ROOT))

from properdocs.exceptions import PluginError  # noqa: E402

from cnnref import volume  # noqa: E402
from cnnref.architectures import NETS  # noqa: E402
from cnnref.layers import BYTES  # noqa: E402
from cnnref.networks import ALL_COLUMNS  # noqa: E402
from hooks.markers import expand  # noqa: E402

SLUGS = {"lenet5": "LeNet-5", "alexnet": "AlexNet", "vgg16": "VGG-16", "resnet18": "ResNet-18", "mobilenet-v1": "MobileNet v1"}

# Published numbers, as their sources print them (the tests hold cnnref to them too: tests/test_architectures.py).
TORCHVISION = "torchvision's model documentation"
HOWARD = "Howard et al. 2017, Table"
ARAUJO = "Araujo, Norris & Sim, Distill 2019"
PUBLISHED = {  # net -> {quantity: (the published number as printed, its unit, its source)}
    "LeNet-5": {"parameters": ("61,706", 1, "the common modern variant")},
    "AlexNet": {"parameters": ("61,100,840", 1, TORCHVISION), "multiply-adds": ("0.71", 1e9, TORCHVISION),
                "receptive field": ("195", 1, ARAUJO)},
    "VGG-16": {"parameters": ("138,357,544", 1, TORCHVISION), "multiply-adds": ("15.47", 1e9, TORCHVISION),
               "receptive field": ("212", 1, ARAUJO)},
    "ResNet-18": {"parameters": ("11,689,512", 1, TORCHVISION), "multiply-adds": ("1.81", 1e9, TORCHVISION)},
    "MobileNet v1": {"parameters": ("4.2", 1e6, HOWARD), "multiply-adds": ("569", 1e6, HOWARD),
                     "receptive field": ("315", 1, ARAUJO)},
}
UNITS = {1: "", 1e6: " million", 1e9: " G"}

# The cs231n notes' "VGGNet in detail" (convolutional-networks.md), as typed there: name, memory, weights.
CS231N_VGG = [
    ("INPUT", "150K", "0"), ("CONV3-64", "3.2M", "1,728"), ("CONV3-64", "3.2M", "36,864"), ("POOL2", "800K", "0"),
    ("CONV3-128", "1.6M", "73,728"), ("CONV3-128", "1.6M", "147,456"), ("POOL2", "400K", "0"),
    ("CONV3-256", "800K", "294,912"), ("CONV3-256", "800K", "589,824"), ("CONV3-256", "800K", "589,824"),
    ("POOL2", "200K", "0"), ("CONV3-512", "400K", "1,179,648"), ("CONV3-512", "400K", "2,359,296"),
    ("CONV3-512", "400K", "2,359,296"), ("POOL2", "100K", "0"), ("CONV3-512", "100K", "2,359,296"),
    ("CONV3-512", "100K", "2,359,296"), ("CONV3-512", "100K", "2,359,296"), ("POOL2", "25K", "0"),
    ("FC", "4096", "102,760,448"), ("FC", "4096", "16,777,216"), ("FC", "1000", "4,096,000"),
]


@cache
def summaries():
    return {name: make().summary() for name, make in NETS.items()}


def _n(value):
    return f"{value:,}"


def _memory(nbytes):
    """Bytes in MB (10^6 bytes), or kB below 1 MB, to one decimal."""
    return f"{nbytes / 1e6:.1f} MB" if nbytes >= 1e6 else f"{nbytes / 1e3:.1f} kB"


def comparison():
    lines = ["| net | input | parameters | multiply-adds | activations | memory, float32 | receptive field | stride |",
             "|---|---|--:|--:|--:|--:|--:|--:|"]
    for name, s in summaries().items():
        lines.append(f"| {name} | {volume(s.rows[0].output)} | {_n(s.params)} | {_n(s.macs)} | {_n(s.activations)} "
                     f"| {_memory(s.bytes)} | {s.receptive_field} | {s.stride} |")
    lines += ["", f"Memory: {BYTES} bytes a number; 1 kB = 10<sup>3</sup> bytes, 1 MB = 10<sup>6</sup> bytes."]
    return "\n".join(lines)


def _at(value, printed, unit):
    """value (a count) written with the published number's unit and decimals: 714188480 -> "0.71" for "0.71" G."""
    digits = len(printed.split(".")[1]) if "." in printed else 0
    if unit == 1:
        return f"{value:,.{digits}f}"
    return f"{value / unit:.{digits}f}"


def published():
    lines = ["| net | quantity | computed | published | agree | source |", "|---|---|--:|--:|---|---|"]
    for name, quantities in PUBLISHED.items():
        s = summaries()[name]
        values = {"parameters": s.params, "multiply-adds": s.macs, "receptive field": s.receptive_field}
        for quantity, (printed, unit, source) in quantities.items():
            mine = _at(values[quantity], printed, unit)
            agree = "yes" if mine == printed else "**no**"
            lines.append(f"| {name} | {quantity} | {mine}{UNITS[unit]} | {printed}{UNITS[unit]} | {agree} | {source} |")
    return "\n".join(lines)


def _cs231n_name(name):
    """The notes' name of a layer: "CONV K=64 F=3 S=1 P=1" -> "CONV3-64", "POOL F=2 S=2" -> "POOL2"."""
    words = dict(w.split("=") for w in name.split()[1:] if "=" in w)
    kind = name.split()[0]
    return {"CONV": f"CONV{words.get('F')}-{words.get('K')}", "POOL": f"POOL{words.get('F')}"}.get(kind, kind)


def vgg_cs231n():
    """cs231n's walk-through recomputed: every row but RELU (it works in place), with the notes' typed numbers."""
    rows = [r for r in summaries()["VGG-16"].rows if not r.name.startswith("RELU")]
    if len(rows) != len(CS231N_VGG):
        raise PluginError(f"VGG-16 has {len(rows)} rows without RELU, the cs231n walk-through {len(CS231N_VGG)}")
    lines = ["| layer | volume | memory (numbers) | cs231n | weights | cs231n | biases |", "|---|---|--:|--:|--:|--:|--:|"]
    for r, (typed, memory, weights) in zip(rows, CS231N_VGG):
        name = _cs231n_name(r.name)
        if name != typed:
            raise PluginError(f"VGG-16's layer {r.name!r} is {name} in the notes' terms, but the walk-through has {typed} there")
        biases = r.output[-1] if r.params else 0
        lines.append(f"| {name} | {volume(r.output)} | {_n(r.activations)} | {memory} | {_n(r.params - biases)} "
                     f"| {weights} | {_n(biases)} |")
    s = summaries()["VGG-16"]
    biases = sum(r.output[-1] for r in rows if r.params)
    lines.append(f"| **total** | | **{_n(s.activations)}** | 24M | **{_n(s.params - biases)}** | 138M | **{_n(biases)}** |")
    return "\n".join(lines)


def render(name):
    if name == "arch-comparison":
        return comparison()
    if name == "arch-published":
        return published()
    if name == "arch-vgg-cs231n":
        return f'<div class="cnnref-summary" markdown>\n\n{vgg_cs231n()}\n\n</div>'
    table = summaries()[SLUGS[name.removeprefix("arch-table-")]].markdown(ALL_COLUMNS)
    return f'<div class="cnnref-summary" markdown>\n\n{table}\n\n</div>'


def on_page_markdown(markdown, page, config, files):
    return expand(markdown, page.file.src_uri, "architectures", render)
