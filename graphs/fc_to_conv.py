"""Figure of "Converting FC Layers to CONV Layers" (docs/dl/cnn/fc-layer.md): the converted net's 6x6 score map over a
384x384 image equals the original net evaluated on the 36 crops of 224x224 at stride 32.
"""

from functools import cache

import numpy as np

from cnnref import alexnet_like, crop_scores, slide, volume

from ._style import BLUE, GREEN, INK, MUTED, ORANGE, PURPLE, grid, new_figure, outline, table_axes, tint
from .network import photo

IMAGE = 384  # the notes' larger image
DEPTHS = (4, 4, 4, 4, 4)  # AlexNet-like blocks with few filters, so the build stays fast
FC_SIZES, CLASSES, SEED = (16, 16), 5, 0
SHOW = [((0, 0), BLUE), ((0, 5), ORANGE), ((5, 0), GREEN), ((5, 5), PURPLE)]  # crops marked in the figure
DISPLAY = 4  # the photo is drawn block-averaged by 4 (96x96) to keep the SVG small


@cache
def scores():
    """(net, converted net, image, crop scores (6, 6, K), score map (6, 6, K))."""
    net = alexnet_like(input_size=224, depths=DEPTHS, fc_sizes=FC_SIZES, classes=CLASSES, seed=SEED).init()
    conv = net.to_conv()
    image = photo(IMAGE)  # (384, 384, 3)
    X = image - image.mean(axis=(0, 1))
    T = conv.total_stride  # 32
    return net, conv, image, crop_scores(net, X, T), slide(conv, X)


def draw_fc_to_conv():
    net, conv, image, crops, smap = scores()
    T = conv.total_stride
    crop = net.input_shape[0]
    n = smap.shape[0]
    fig = new_figure(6.8, 3.7)
    ax = fig.add_axes([0.01, 0.16, 0.34, 0.7])
    small = image.reshape(IMAGE // DISPLAY, DISPLAY, IMAGE // DISPLAY, DISPLAY, 3).mean(axis=(1, 3))
    ax.imshow(np.clip(small, 0, 1), interpolation="none", extent=(0, IMAGE, IMAGE, 0))
    for (i, j), c in SHOW:
        d = 3 + 3 * SHOW.index(((i, j), c))
        outline(ax, j * T + d, i * T + d, crop - 2 * d, crop - 2 * d, c, lw=2)
    ax.set_xlim(0, IMAGE)
    ax.set_ylim(IMAGE, 0)
    ax.axis("off")
    ax.set_title(f"{IMAGE}×{IMAGE} image, {crop}×{crop} crops\nevery {T} pixels: 4 of the {n * n} marked",
                 fontsize=8.5)

    tx = fig.add_axes([0.36, 0.16, 0.25, 0.7])
    tx.axis("off")
    tx.set_xlim(0, 1)
    tx.set_ylim(1, 0)
    tx.text(0, 0.0, "original net (FC head)\non each crop, class 0:", fontsize=8.5, va="top")
    for r, ((i, j), c) in enumerate(SHOW):
        tx.text(0, 0.26 + r * 0.15, f"crop ({i}, {j}):  {crops[i, j, 0]:.3f}", fontsize=9, va="center", color=INK)
        tx.plot([-0.06], [0.26 + r * 0.15], "s", color=c, ms=7, clip_on=False)
    diff = float(np.abs(crops - smap).max())
    tx.text(0, 0.92, f"all {n * n} crops, all {smap.shape[2]} classes:\n"
            f"max |crop score − map|\n= {diff:.1g}", fontsize=8, va="center", color=INK)  # 0, or 3e-16: room for both

    mx = table_axes(fig, [0.61, 0.08, 0.38, 0.8], (-0.2, n + 0.2), (-0.2, n + 0.2))
    colors = [[None] * n for _ in range(n)]
    for (i, j), c in SHOW:
        colors[i][j] = tint(c, 0.35)
    grid(mx, smap[:, :, 0], 0, 0, fmt="{:.3f}", colors=colors, fontsize=7.4)
    for (i, j), c in SHOW:
        outline(mx, j + 0.04, i + 0.04, 0.92, 0.92, c, lw=1.8)
    mx.set_title(f"converted net (CONV only), one pass:\n{n}×{n} score map, class 0", fontsize=8.5)
    shapes = conv.shapes((IMAGE, IMAGE, 3))
    fig.text(0.01, 0.03, f"alexnet_like(depths={DEPTHS}).to_conv() on {volume(shapes[0])}: "
             f"… {volume(shapes[-len(FC_SIZES) * 2 - 2])} → … → {volume(shapes[-1])}",
             fontsize=7.5, color=MUTED)
    return fig


FIGURES = {"fc-to-conv": draw_fc_to_conv}


def _alt():
    net, conv, image, crops, smap = scores()
    n, T, crop = smap.shape[0], conv.total_stride, net.input_shape[0]
    return (f"Left, a {IMAGE} by {IMAGE} photograph with four of its {n * n} crops of {crop} by {crop} pixels, taken "
            f"every {T} pixels, outlined in colour. Middle, the original network with fully connected layers "
            f"scores each marked crop. Right, the {n} by {n} score map the converted, all-convolutional network "
            f"computes in one pass over the whole image: its cell (i, j) holds the same score as crop (i, j), "
            f"and the four marked cells repeat the four crop scores.")


ALT = {"fc-to-conv": _alt()}
