"""Figures of the Convolutional Layer section (docs/dl/cnn/conv-layer.md): stride and zero-padding on small grids."""

import textwrap

import numpy as np
from matplotlib.patches import FancyArrowPatch

from cnnref import conv2d_naive, output_size, zero_pad

from ._style import BLUE, GREEN, INK, MUTED, RED, grid, new_figure, outline, table_axes, tint


def _blank(n):
    return np.full((n, n), "", dtype=object)


def _stride_panel(ax, y0, W1, F, S):
    """A W1 x W1 input with the first two windows S apart, and the output grid from output_size."""
    W2 = output_size(W1, F, S=S)
    fills = [[None] * W1 for _ in range(W1)]
    for i in range(F):
        for j in range(F):
            fills[i][j] = tint(BLUE, 0.25)
    grid(ax, _blank(W1), 0, y0, fmt="{}", colors=fills)
    outline(ax, 0, y0, F, F, BLUE)
    outline(ax, S + 0.08, y0 + 0.08, F - 0.16, F - 0.16, RED, ls=(0, (3, 1.5)))
    ax.add_patch(FancyArrowPatch((0.5, y0 - 0.35), (S + 0.5, y0 - 0.35), arrowstyle="-|>", mutation_scale=9,
                                 color=INK, lw=1))
    ax.text(S / 2 + 0.5, y0 - 0.55, f"S = {S}", ha="center", va="bottom", fontsize=9)
    outs = [[None] * W2 for _ in range(W2)]
    outs[0][0], outs[0][1] = tint(BLUE, 0.45), tint(RED, 0.45)
    x0 = W1 + 2.2
    grid(ax, _blank(W2), x0, y0, fmt="{}", colors=outs)
    ax.add_patch(FancyArrowPatch((W1 + 0.3, y0 + 1.5), (x0 - 0.3, y0 + 1.5), arrowstyle="-|>",
                                 mutation_scale=12, color=INK, lw=1))
    ax.text(x0 + W2 + 0.5, y0 + W2 / 2, f"output_size({W1}, {F}, S={S}) = {W2}\n"
            f"({W1} - {F})/{S} + 1 = {W2}:  {W2} × {W2} output",
            va="center", fontsize=9.5, linespacing=1.5)
    return W2


def draw_stride():
    W1, F = 7, 3
    fig = new_figure(6.4, 5.2)
    ax = table_axes(fig, [0.01, 0.01, 0.98, 0.98], (-0.3, 21.5), (-1.4, 19.2))
    ax.text(0, -1.2, f"{F} × {F} filter on a {W1} × {W1} input: first position (blue), next one (orange, dashed)",
            fontsize=9, color=MUTED, va="top")
    _stride_panel(ax, 1, W1, F, 1)
    _stride_panel(ax, 9.8, W1, F, 2)
    try:
        output_size(W1, F, S=3)
        msg = "accepted"  # never drawn: S=3 does not tile a 7-wide input
    except ValueError as err:
        msg = str(err).split(" (exact=False")[0]  # the notes' refusal; the floor rule is the arithmetic page's
    ax.text(0, 17.6, "\n".join(textwrap.wrap(f"S = 3 is refused: {msg}", 95)), fontsize=8.5, color=INK, va="top",
            linespacing=1.4)
    return fig


PAD_SEED = 4


def _padding_data():
    rng = np.random.default_rng(PAD_SEED)
    X = rng.integers(0, 3, size=(5, 5, 1)).astype(float)  # (H1, W1, D1)
    W = rng.integers(-1, 2, size=(1, 3, 3, 1)).astype(float)  # (K, F, F, D1)
    return X, W


def draw_padding():
    X, W = _padding_data()
    P, F = 1, 3
    Xp = zero_pad(X, P)[:, :, 0]  # (7, 7)
    V = conv2d_naive(X, W, np.zeros(1), S=1, P=P)[:, :, 0]  # (5, 5)
    W2 = output_size(5, F, S=1, P=P)
    n = Xp.shape[0]
    pad = [[MUTED if min(i, j) < P or max(i, j) >= n - P else None for j in range(n)] for i in range(n)]
    fills = [["#ececec" if pad[i][j] else None for j in range(n)] for i in range(n)]
    for i in range(F):
        for j in range(F):
            fills[i][j] = tint(BLUE, 0.25) if not pad[i][j] else tint(BLUE, 0.12)
    fig = new_figure(6.4, 3.55)
    ax = table_axes(fig, [0.01, 0.01, 0.98, 0.98], (-0.3, 20.2), (-1.6, 9.1))
    grid(ax, Xp, 0, 0, fmt="{:.0f}", colors=fills, text_colors=pad)
    outline(ax, P, P, 5, 5, INK, lw=1.4)
    outline(ax, 0, 0, F, F, BLUE)
    ax.text(n / 2, -0.4, f"5 × 5 input, zero-padded with P = {P}", ha="center", fontsize=9)
    x1 = n + 1.4
    grid(ax, W[0, :, :, 0], x1, 2, fmt="{:.0f}", colors=[[tint(RED, 0.25)] * F] * F)
    ax.text(x1 + F / 2, 1.6, "filter", ha="center", fontsize=9)
    ax.text(x1 - 0.7, 3.5, "⋆", ha="center", va="center", fontsize=28)  # cross-correlation, as the page says
    x2 = x1 + F + 1.6
    ax.text(x2 - 0.8, 3.5, "=", ha="center", va="center", fontsize=14)
    outs = [[tint(GREEN, 0.5) if (i, j) == (0, 0) else None for j in range(W2)] for i in range(W2)]
    grid(ax, V, x2, 1, fmt="{:.0f}", colors=outs)
    ax.text(x2 + W2 / 2, 0.6, f"{W2} × {W2} output", ha="center", fontsize=9)
    ax.text(0, 7.75, "⋆ is cross-correlation: slide the filter over the input, multiply and sum (no flip).",
            fontsize=9, va="center")
    ax.text(0, 8.55, f"output_size(5, {F}, S=1, P={P}) = {W2}, the input's size "
            f"(without padding, output_size(5, {F}) = {output_size(5, F)}).", fontsize=9, va="center")
    return fig


FIGURES = {"conv-stride": draw_stride, "conv-padding": draw_padding}


def _alts():
    X, W = _padding_data()
    return {
        "conv-stride": (
            f"A 3 by 3 filter on a 7 by 7 input. With stride 1 its next position is one cell to the right and "
            f"output_size(7, 3, S=1) = {output_size(7, 3, S=1)}; with stride 2 it jumps two cells and "
            f"output_size(7, 3, S=2) = {output_size(7, 3, S=2)}. Stride 3 does not fit the input and is refused."),
        "conv-padding": (
            f"A 5 by 5 input surrounded by a border of zeros (P = 1) becomes 7 by 7; a 3 by 3 filter "
            f"slid over it with stride 1 gives a {output_size(5, 3, S=1, P=1)} by {output_size(5, 3, S=1, P=1)} "
            f"output, the size of the input, where without padding it would be "
            f"{output_size(5, 3)} by {output_size(5, 3)}."),
    }


ALT = _alts()
