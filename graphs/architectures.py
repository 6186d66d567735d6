"""Figures of the Architectures page (docs/architectures/), drawn from each net's shapes and Net.summary()
(no weights are drawn): a diagram of each of the five nets in the style of the CIFAR-10 example's, the
receptive field layer by layer, parameters against multiply-adds, and VGG-16's memory and parameters
layer by layer.
"""

import math
from functools import cache

import numpy as np
from matplotlib.patches import FancyArrowPatch
from matplotlib.ticker import FuncFormatter

from cnnref import BatchNormLayer, ConvLayer, FCLayer, GlobalAvgPoolLayer, PoolLayer, ReLULayer, ResidualBlock, volume
from cnnref.architectures import NETS

from ._style import BLUE, GREEN, INK, MUTED, PALETTE, PURPLE, RED, new_figure
from .network import _cuboid

SLUGS = {"LeNet-5": "lenet5", "AlexNet": "alexnet", "VGG-16": "vgg16", "ResNet-18": "resnet18", "MobileNet v1": "mobilenet-v1"}
SUPERSCRIPTS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
COLORS = {"INPUT": MUTED, "CONV": BLUE, "POOL": GREEN, "FC": RED, "RESIDUAL": PURPLE}


@cache
def summaries():
    """{name: Summary} of the five nets (shapes only: nothing is allocated)."""
    return {name: make().summary() for name, make in NETS.items()}


def _size(value):
    return f"{value[0]}x{value[1]}" if isinstance(value, tuple) else str(value)


def _filter(F):
    """3 -> "3x3", (1, 7) -> "1x7"."""
    return _size(F if isinstance(F, tuple) else (F, F))


def short(layer):
    """(kind, a few characters) for a diagram's label; None for BN and RELU, which every diagram leaves out."""
    if isinstance(layer, (BatchNormLayer, ReLULayer)):
        return None
    if isinstance(layer, ConvLayer):
        name = "dw" if layer.groups > 1 and layer.groups == layer.K else "CONV"
        return "CONV", f"{name} {_filter(layer.F)}" + (f"/{_size(layer.S)}" if layer.S != 1 else "")
    if isinstance(layer, PoolLayer):
        return "POOL", ("avg " if layer.mode == "avg" else "max ") + f"{_filter(layer.F)}/{_size(layer.S)}"
    if isinstance(layer, GlobalAvgPoolLayer):
        return "POOL", "global avg"
    if isinstance(layer, FCLayer):
        return "FC", "FC"
    if isinstance(layer, ResidualBlock):
        S = layer.main[0].S if isinstance(layer.main[0], ConvLayer) else 1
        return "RESIDUAL", "block" + (f"/{_size(S)}" if S != 1 else "")
    return layer.kind, layer.kind


def columns(net):
    """[(kind, label lines, output shape)]: the input, then each run of layers that ends in one volume."""
    shapes = net.shapes()
    out = [("INPUT", ["INPUT"], shapes[0])]
    runs = []  # [(shape, [short names])]
    for layer, shape in zip(net.layers, shapes[1:]):
        name = short(layer)
        if runs and runs[-1][0] == shape:
            runs[-1][1].append(name)
        else:
            runs.append((shape, [name]))
    for shape, names in runs:
        names = [n for n in names if n is not None]
        if not names:
            continue
        out.append((names[0][0], _compress([text for _, text in names]), shape))
    return out


def _compress(texts):
    """Repeats written once: ["a", "a"] -> ["2× a"], ["a", "b", "a", "b", "a"] -> ["2× a + b", "a"]."""
    lines, i = [], 0
    while i < len(texts):
        for period in (1, 2):
            unit = texts[i : i + period]
            count = 1
            while texts[i + count * period : i + (count + 1) * period] == unit:
                count += 1
            if count > 1 and len(unit) == period:
                lines.append(f"{count}× " + " + ".join(unit))
                i += count * period
                break
        else:
            lines.append(texts[i])
            i += 1
    return lines


def draw_net(name):
    cols = columns(NETS[name]())
    H0 = cols[0][2][0]
    boxes = []
    x = 0.3
    for kind, lines, shape in cols:
        H = shape[0] if len(shape) == 3 else 1
        side = 0.4 + 2.2 * math.sqrt(H / H0)
        width = 0.12 + 0.11 * math.log2(shape[-1])
        boxes.append((x, side, width, kind, lines, shape))
        x += max(width + 0.3 * side + 0.55, 0.32 * len(lines) + 0.45)
    fig = new_figure(6.8, 3.7)
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_xlim(0, max(x, 14))
    ax.set_ylim(-5.6, 7.0)
    ax.axis("off")
    for n, (x0, side, width, kind, lines, shape) in enumerate(boxes):
        right = _cuboid(ax, x0, 0.9, side, width, COLORS.get(kind, MUTED))
        mid = (x0 + right) / 2
        ax.text(mid, 0.9 + 0.75 * side + 0.25, "\n".join(lines), ha="center", va="bottom", rotation=90, fontsize=7.5, color=INK,
                linespacing=1.15)
        ax.text(mid, -0.5, volume(shape), ha="center", va="top", rotation=90, fontsize=7.5, fontweight="bold")
        if n + 1 < len(boxes):
            ax.add_patch(FancyArrowPatch((right + 0.06, 0.9), (boxes[n + 1][0] - 0.06, 0.9), arrowstyle="-|>",
                                         mutation_scale=6, color=INK, lw=0.7))
    ax.text(0.3, -5.5, f"{name}: each box is a volume W×H×D (height ∝ √H, width ∝ log D),\nlabelled with the layers "
            "that make it; BN and RELU are not drawn", fontsize=7.5, color=MUTED, va="bottom")
    return fig


def _net_alt(name):
    cols = columns(NETS[name]())
    steps = [f"{' + '.join(lines)} [{volume(shape)}]" for _, lines, shape in cols]
    return (f"{name} drawn as a row of boxes, one per volume, each labelled with the layers that produce it "
            f"(batch norm and RELU left out): " + ", then ".join(steps) + ".")


def fields(name):
    """[(depth, receptive field)] along the net's main path: one point per CONV or POOL layer, up to the last volume."""
    points, depth = [(0, 1)], 0
    for row in summaries()[name].rows[1:]:
        if len(row.output) != 3:
            break
        if row.name.strip().startswith(("CONV", "POOL")) and "shortcut" not in row.name:
            depth += 1
            points.append((depth, row.field[0].size))
    return points


def draw_receptive_fields():
    fig = new_figure(6.8, 3.6)
    ax = fig.add_axes([0.1, 0.14, 0.66, 0.8])
    for color, name in zip(PALETTE, NETS):
        depth, size = zip(*fields(name))
        ax.step(depth, size, where="post", color=color, lw=1.6, label=name)
        ax.plot(depth[-1], size[-1], "o", color=color, ms=4)
        ax.annotate(f"{name}: {size[-1]}", (depth[-1], size[-1]), xytext=(4, 9 if size[-1] < 50 else 0),
                    textcoords="offset points", fontsize=8, va="center", color=INK, annotation_clip=False)
    ax.set_xlabel("CONV and POOL layers passed (a residual block's main path)", fontsize=9)
    ax.set_ylabel("receptive field (input pixels)", fontsize=9)
    ax.set_ylim(0, None)
    ax.set_xlim(0, None)
    ax.tick_params(labelsize=8)
    ax.grid(True, color="#dddddd", lw=0.6)
    return fig


def _fields_alt():
    parts = [f"{name} reaches {fields(name)[-1][1]} pixels after {fields(name)[-1][0]} layers" for name in NETS]
    return ("A step chart of the receptive field (input pixels one output sees) against the number of CONV and POOL "
            "layers passed, one line per net, up to each net's last volume: " + "; ".join(parts) + ".")


def draw_params_macs():
    fig = new_figure(6.8, 3.6)
    ax = fig.add_axes([0.12, 0.15, 0.84, 0.8])
    for color, (name, s) in zip(PALETTE, summaries().items()):
        area = 30 + 400 * s.bytes / max(t.bytes for t in summaries().values())
        ax.scatter(s.macs, s.params, s=area, color=color, alpha=0.85, edgecolor=INK, lw=0.6, zorder=3)
        ax.annotate(name, (s.macs, s.params), xytext=(9, -3), textcoords="offset points", fontsize=8.5, color=INK)
    ax.set_xscale("log")
    ax.set_yscale("log")
    for axis in (ax.xaxis, ax.yaxis):  # 10⁶ in plain text: matplotlib's math superscripts are drawn too small
        axis.set_major_formatter(FuncFormatter(lambda v, _: "10" + str(round(math.log10(v))).translate(SUPERSCRIPTS)))
    ax.set_xlabel("multiply-adds for one 224x224 image (LeNet-5: 32x32), log scale", fontsize=9)
    ax.set_ylabel("parameters, log scale", fontsize=9)
    ax.tick_params(labelsize=8)
    ax.grid(True, which="major", color="#dddddd", lw=0.6)
    x0, x1 = ax.get_xlim()
    ax.set_xlim(x0, x1 * 8)  # room for the labels
    ax.text(0.02, 0.96, "disc area ∝ activation memory of one forward pass", transform=ax.transAxes, fontsize=8,
            color=MUTED, va="top")
    return fig


def _params_macs_alt():
    parts = [f"{name} {s.params / 1e6:.2f} million parameters and {s.macs / 1e9:.3f} billion multiply-adds"
             for name, s in summaries().items()]
    return ("A log-log scatter plot of parameters against multiply-adds, one disc per net, its area proportional to "
            "the activation memory of a forward pass: " + "; ".join(parts) + ".")


def draw_vgg_memory():
    """VGG-16 layer by layer: where the activations are, and where the parameters are (the cs231n remark)."""
    rows = [r for r in summaries()["VGG-16"].rows if not r.name.startswith("RELU")]
    fig = new_figure(6.8, 4.4)
    names = ["INPUT" if r.name == "INPUT" else r.name.split()[0] + (f" {r.output[-1]}" if r.name.startswith("CONV") else "")
             for r in rows]
    for i, (key, label, color) in enumerate((("activations", "activations (numbers)", BLUE),
                                             ("params", "parameters", RED))):
        ax = fig.add_axes([0.11, 0.6 - 0.4 * i, 0.87, 0.34])
        values = np.array([getattr(r, key) for r in rows], float)
        ax.bar(np.arange(len(rows)), values / 1e6, color=color, width=0.75)
        ax.set_ylabel(f"{label}\n(millions)", fontsize=8)
        ax.set_xlim(-0.6, len(rows) - 0.4)
        ax.tick_params(labelsize=7.5)
        ax.set_xticks(np.arange(len(rows)))
        ax.set_xticklabels(names if i else [], rotation=90, fontsize=7.5)
        share = values[: len(rows) // 2].sum() / values.sum() if key == "activations" else values[-3:].sum() / values.sum()
        where = "first half of the layers" if key == "activations" else "three FC layers"
        ax.text(0.99, 0.9, f"{share:.0%} in the {where}", transform=ax.transAxes, ha="right", va="top", fontsize=8)
    return fig


def _vgg_memory_alt():
    rows = [r for r in summaries()["VGG-16"].rows if not r.name.startswith("RELU")]
    acts = np.array([r.activations for r in rows], float)
    params = np.array([r.params for r in rows], float)
    return ("Two bar charts over VGG-16's layers (RELU left out, it works in place): the activations stored, "
            f"{acts[: len(rows) // 2].sum() / acts.sum():.0%} of them in the first half of the layers; and the "
            f"parameters, {params[-3:].sum() / params.sum():.0%} of them in the three FC layers.")


FIGURES = {f"arch-{slug}": (lambda name=name: draw_net(name)) for name, slug in SLUGS.items()}
FIGURES |= {"arch-receptive-fields": draw_receptive_fields, "arch-params-macs": draw_params_macs,
            "arch-vgg16-memory": draw_vgg_memory}
ALT = {f"arch-{slug}": _net_alt(name) for name, slug in SLUGS.items()}
ALT |= {"arch-receptive-fields": _fields_alt(), "arch-params-macs": _params_macs_alt(),
        "arch-vgg16-memory": _vgg_memory_alt()}
