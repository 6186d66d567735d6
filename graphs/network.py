"""Figures of the Architecture Overview section (docs/dl/cnn/architecture.md): the CIFAR-10 example's volumes, and the
activations of a small ConvNet applied to a photograph that ships with matplotlib (nothing downloaded).
"""

import numpy as np
from matplotlib import cbook
from matplotlib.image import imread
from matplotlib.patches import FancyArrowPatch, Polygon

from cnnref import ConvLayer, FCLayer, Net, PoolLayer, ReLULayer, cifar10_net, volume

from ._style import BLUE, GREEN, INK, MUTED, ORANGE, RED, new_figure, tint

KIND_COLORS = {"INPUT": MUTED, "CONV": BLUE, "RELU": ORANGE, "POOL": GREEN, "FC": RED}


def _label(layer):
    """The layer's one-line description, its kind on the first line and its numbers two a line."""
    if layer is None:
        return "INPUT"
    kind, *numbers = layer.describe().split()
    return "\n".join([kind] + [", ".join(numbers[i : i + 2]) for i in range(0, len(numbers), 2)])


def _cuboid(ax, x, yc, side, width, color):
    """A volume as a box: a front face `width` wide (the depth D) and `side` high (H), centred on y = yc,
    with the receding W dimension drawn as a slant in proportion to `side`. Volumes of the same H and W get
    the same height and slant, whatever their depth."""
    y = yc - side / 2
    ox, oy = 0.3 * side, 0.25 * side  # the slant of the receding side
    front = [(x, y), (x + width, y), (x + width, y + side), (x, y + side)]
    top = [(x, y + side), (x + ox, y + side + oy), (x + width + ox, y + side + oy), (x + width, y + side)]
    right = [(x + width, y), (x + width + ox, y + oy), (x + width + ox, y + side + oy), (x + width, y + side)]
    for poly, a in ((front, 0.55), (top, 0.3), (right, 0.8)):
        ax.add_patch(Polygon(poly, closed=True, facecolor=tint(color, a), edgecolor=color, lw=1))
    return x + width + ox


def draw_architecture():
    net = cifar10_net()
    shapes = net.shapes()  # [(32, 32, 3), (32, 32, 12), ...]
    layers = [None] + net.layers
    fig = new_figure(6.8, 2.6)
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_xlim(-0.3, 21.0)
    ax.set_ylim(-3.3, 5.0)
    ax.axis("off")
    x = 0.4
    for n, (layer, shape) in enumerate(zip(layers, shapes)):
        H = shape[0] if len(shape) == 3 else 1
        D = shape[-1]
        side = 0.6 + 2.4 * H / 32  # 32 -> 3.0, 16 -> 1.8, 1 -> 0.7
        kind = "INPUT" if layer is None else layer.kind
        color = KIND_COLORS.get(kind, MUTED)
        right = _cuboid(ax, x, 0.6, side, 0.22 * D, color)
        mid = (x + right) / 2
        ax.text(mid, 3.2, _label(layer), ha="center", va="bottom", fontsize=8.5, color=INK, linespacing=1.3,
                fontweight="bold" if n == 0 else "normal")
        ax.text(mid, -1.4, f"[{volume(shape)}]", ha="center", va="top", fontsize=9, fontweight="bold")
        if n + 1 < len(layers):
            ax.add_patch(FancyArrowPatch((right + 0.2, 0.6), (right + 1.2, 0.6), arrowstyle="-|>",
                                         mutation_scale=10, color=INK, lw=1))
        x = right + 1.45
    ax.text(0.2, -3.15, "The notes' CIFAR-10 example: volumes W×H×D from cifar10_net().shapes(); "
            "box height ∝ H, width ∝ D",
            fontsize=8, color=MUTED, va="bottom")
    return fig


IMAGE_SIZE = 48  # the photograph, block-averaged to 48 x 48 x 3
SHOWN = 6  # activation maps drawn per layer


def photo(size=IMAGE_SIZE):
    """Grace Hopper's portrait from matplotlib's sample data, centre-cropped and block-averaged to (size, size, 3)."""
    with cbook.get_sample_data("grace_hopper.jpg") as fh:
        img = imread(fh, format="jpeg").astype(float) / 255.0  # (600, 512, 3)
    side = min(img.shape[:2]) // size * size
    top = (img.shape[0] - side) // 2 + 20  # a little lower: the face, not the hair
    left = (img.shape[1] - side) // 2
    img = img[top : top + side, left : left + side]
    f = side // size
    return img.reshape(size, f, size, f, 3).mean(axis=(1, 3))  # (size, size, 3)


def small_net():
    """INPUT 48x48x3 -> [CONV 6 -> RELU -> POOL] x 2 -> FC 10, seeded (untrained) weights."""
    return Net((IMAGE_SIZE, IMAGE_SIZE, 3),
               [ConvLayer(K=6, F=3, S=1, P=1), ReLULayer(), PoolLayer(F=2, S=2),
                ConvLayer(K=6, F=3, S=1, P=1), ReLULayer(), PoolLayer(F=2, S=2), FCLayer(K=10)], seed=1)


def activations():
    """The input and the output of every layer of small_net on the photograph (mean-subtracted input)."""
    net = small_net().init()
    X = photo()
    outs = [X]
    A = X - X.mean(axis=(0, 1))  # centre each channel
    for layer in net.layers:
        A = layer(A)
        outs.append(A)
    return net, outs


def _montage(maps, gap=1):
    """Depth slices (H, W, n) stacked vertically into one image, each scaled to [0, 1], NaN gaps between."""
    H, W, n = maps.shape
    out = np.full((n * H + (n - 1) * gap, W), np.nan)
    for d in range(n):
        m = maps[:, :, d]
        lo, hi = m.min(), m.max()
        out[d * (H + gap) : d * (H + gap) + H] = (m - lo) / (hi - lo) if hi > lo else 0.0
    return out


def draw_activations():
    net, outs = activations()
    layers = [None] + net.layers
    cols = len(layers)
    fig = new_figure(6.8, 5.0)
    w = 0.86 / cols
    for c, (layer, A) in enumerate(zip(layers, outs)):
        x0 = 0.01 + c * (w + 0.14 / cols)
        kind = "INPUT" if layer is None else layer.kind
        fig.text(x0 + w / 2, 0.965, kind, ha="center", va="center", fontsize=8.5, fontweight="bold", color=INK)
        fig.text(x0 + w / 2, 0.93, volume(A.shape), ha="center", va="center", fontsize=7.5, color=MUTED)
        if layer is None:
            ax = fig.add_axes([x0, 0.91 - w * 6.8 / 5.0, w, w * 6.8 / 5.0])
            ax.imshow(np.clip(A, 0, 1), interpolation="none")
            ax.axis("off")
        elif A.ndim == 3:
            ax = fig.add_axes([x0, 0.03, w, 0.86])
            ax.imshow(_montage(A[:, :, :SHOWN]), cmap="gray", interpolation="none", aspect="equal",
                      vmin=0, vmax=1)
            ax.axis("off")
        else:  # the class scores
            ax = fig.add_axes([x0 + 0.03, 0.07, w - 0.04, 0.82])  # inside the card, room for the labels
            ys = np.arange(len(A))
            ax.barh(ys, A, color=[tint(RED, 0.75) if v >= 0 else tint(BLUE, 0.6) for v in A], height=0.7)
            ax.axvline(0, color=INK, lw=0.8)
            ax.set_ylim(len(A) - 0.5, -0.5)
            top = float(np.abs(A).max()) * 1.15  # a margin: the longest bar does not touch the edge
            ax.set_xlim(-top, top)
            ax.set_yticks(ys)
            ax.tick_params(labelsize=7.5, length=2, pad=1)
            ax.annotate("class", (0, 1), xycoords="axes fraction", xytext=(-1, 3), textcoords="offset points",
                        ha="right", va="bottom", fontsize=7.5)
            ax.set_xticks([])
            ax.set_xlabel("score", fontsize=7.5, labelpad=3)
            ax.spines["bottom"].set_visible(False)
            ax.spines["left"].set_visible(False)
    fig.text(0.012, 0.7, f"one ConvNet\nwith seeded,\nuntrained\nweights\n(seed={net.seed});\nthe first {SHOWN}\ndepth slices\nof each layer", fontsize=7.5, color=MUTED, va="top", linespacing=1.35)
    return fig


FIGURES = {"cnn-architecture": draw_architecture, "cnn-activations": draw_activations}


def _alts():
    net = cifar10_net()
    vols = [volume(s) for s in net.shapes()]
    names = ["INPUT"] + [layer.kind for layer in net.layers]
    small, outs = activations()
    svols = [volume(a.shape) for a in outs]
    snames = ["INPUT"] + [layer.kind for layer in small.layers]
    return {
        "cnn-architecture": (
            "The CIFAR-10 example ConvNet as a row of boxes whose size follows each volume: "
            + ", then ".join(f"{n} [{v}]" for n, v in zip(names, vols)) + "."),
        "cnn-activations": (
            f"A photograph of Grace Hopper, reduced to {svols[0]}, passed through a small ConvNet with untrained, "
            "seeded weights. Each column shows the first few depth slices of one layer's output as grey images: "
            + ", ".join(f"{n} [{v}]" for n, v in zip(snames, svols))
            + "; the last column is the 10 class scores as bars. The CONV maps respond to edges and colours of the "
            "face, RELU keeps only their positive parts, POOL halves their size."),
    }


ALT = _alts()
