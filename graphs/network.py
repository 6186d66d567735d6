"""Figures of the Architecture Overview section (docs/dl/cnn/architecture.md): the CIFAR-10 example's volumes, and the
activations of the trained digits net of the training notebook (graphs/digits.py) on one of its test digits. The
photograph that ships with matplotlib (nothing downloaded) is used by the FC-to-CONV figure.
"""

import numpy as np
from matplotlib import cbook
from matplotlib.image import imread
from matplotlib.patches import FancyArrowPatch, Polygon

from cnnref import ConvLayer, FCLayer, PoolLayer, cifar10_net, volume

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


def activations():
    """The trained digits net, a test digit it reads correctly, and that digit's volume after every layer."""
    from .digits import data, trained

    net, _ = trained()
    _, X_test, _, y_test = data()
    scores = net(X_test)
    n = int(np.flatnonzero(scores.argmax(axis=1) == y_test)[0])  # the first test digit it reads correctly
    outs, A = [X_test[n]], X_test[n]
    for layer in net.layers:
        A = layer(A)
        outs.append(A)
    return net, outs, int(y_test[n])


def _grid(maps, rows, gap=1):
    """Depth slices (H, W, D) laid out rows x (D / rows) in one image, NaN gaps between."""
    H, W, D = maps.shape
    cols = -(-D // rows)
    out = np.full((rows * H + (rows - 1) * gap, cols * W + (cols - 1) * gap), np.nan)
    for d in range(D):
        r, c = divmod(d, cols)
        out[r * (H + gap) : r * (H + gap) + H, c * (W + gap) : c * (W + gap) + W] = maps[:, :, d]
    return out


GRID_ROWS = 4  # 16 depth slices as 4 x 4


def draw_activations():
    from matplotlib.colors import ListedColormap

    net, outs, label = activations()
    layers = [None] + net.layers
    fig = new_figure(6.8, 3.5)
    grey = ListedColormap(np.linspace(0, 1, 256)[:, None].repeat(3, axis=1)).with_extremes(bad=tint(MUTED, 0.15))
    widths = [0.11, 0.17, 0.17, 0.17, 0.2]
    x0 = 0.02
    for layer, A, w in zip(layers, outs, widths):
        kind = "INPUT" if layer is None else layer.kind
        fig.text(x0 + w / 2, 0.955, kind, ha="center", va="center", fontsize=9, fontweight="bold", color=INK)
        fig.text(x0 + w / 2, 0.895, volume(A.shape), ha="center", va="center", fontsize=9, color=MUTED)
        if A.ndim == 3:
            top = float(np.abs(A).max()) or 1.0
            # One scale per layer: 0 is mid-grey where values can be negative (CONV), black where they cannot.
            low = -top if A.min() < 0 else 0.0
            image = _grid(A, GRID_ROWS) if A.shape[2] > 1 else A[:, :, 0]
            ax = fig.add_axes([x0, 0.26, w, 0.6])
            ax.imshow(image, cmap=grey, vmin=low, vmax=top, interpolation="none", aspect="equal")
            ax.axis("off")
            note = "the digit" if layer is None else f"{A.shape[2]} depth slices"
            fig.text(x0 + w / 2, 0.2, note, ha="center", va="center", fontsize=9, color=MUTED)
        else:  # the class scores
            ax = fig.add_axes([x0 + 0.045, 0.26, w - 0.05, 0.6])
            ys = np.arange(len(A))
            best = int(A.argmax())
            ax.barh(ys, A, color=[RED if k == best else tint(MUTED, 0.45) for k in ys], height=0.7)
            ax.axvline(0, color=INK, lw=0.8)
            ax.set_ylim(len(A) - 0.5, -0.5)
            span = float(np.abs(A).max()) * 1.15
            ax.set_xlim(-span, span)
            ax.set_yticks(ys, [str(k) for k in ys])
            ax.tick_params(labelsize=9, length=2, pad=1)
            ax.set_xticks([])
            ax.spines["bottom"].set_visible(False)
            ax.spines["left"].set_visible(False)
            fig.text(x0 + w / 2, 0.2, f"class scores: {best}", ha="center", va="center", fontsize=9, color=INK)
        x0 += w + 0.025
    fig.text(0.02, 0.025, f"The trained digits net of the training notebook, on a test digit {label}. One grey scale\n"
             "per layer: mid-grey is 0 where values can be negative (CONV), black is 0 after RELU.",
             fontsize=8.5, color=MUTED, va="bottom", linespacing=1.3)
    return fig


FIGURES = {"cnn-architecture": draw_architecture, "cnn-activations": draw_activations}


def _alts():
    net = cifar10_net()
    vols = [volume(s) for s in net.shapes()]
    names = ["INPUT"] + [layer.kind for layer in net.layers]
    digits, outs, label = activations()
    svols = [volume(a.shape) for a in outs]
    snames = ["INPUT"] + [layer.kind for layer in digits.layers]
    best = int(outs[-1].argmax())
    return {
        "cnn-architecture": (
            "The CIFAR-10 example ConvNet as a row of boxes whose size follows each volume: "
            + ", then ".join(f"{n} [{v}]" for n, v in zip(names, vols)) + "."),
        "cnn-activations": (
            f"A handwritten test digit {label}, {svols[0]} pixels, passed through the ConvNet trained on the training "
            "notebook's page. Each column shows one layer's output, every depth slice as a small grey image: "
            + ", ".join(f"{n} [{v}]" for n, v in zip(snames, svols))
            + f". RELU keeps only the positive part of each CONV map, POOL halves their size, and of the 10 class "
            f"scores, drawn as bars labelled 0 to 9, the highest is the one for {best}."),
    }


ALT = _alts()
