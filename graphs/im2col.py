"""Figure of "Implementation as Matrix Multiplication" (docs/dl/cnn/conv-layer.md): im2col's X_col and W_row."""

import numpy as np
from matplotlib.patches import FancyArrowPatch

from cnnref import conv2d_naive, im2col, output_size

from ._style import BLUE, GREEN, INK, MUTED, PURPLE, RED, YELLOW, grid, new_figure, outline, table_axes, tint

SEED = 7
W1, D1, F, S, K = 5, 1, 3, 2, 2
# Windows and filters never share a colour (tinted cells of X_col and W_row must not look alike):
WINDOWS = [BLUE, GREEN, PURPLE, MUTED]  # one colour per window / column of X_col
FILTERS = [RED, YELLOW]  # one colour per filter / row of W_row, of the product and slice of the output
FILTER_TINT = {RED: 0.35, YELLOW: 0.55}  # pale yellow needs more colour to show


def _data():
    rng = np.random.default_rng(SEED)
    X = rng.integers(0, 4, size=(W1, W1, D1)).astype(float)  # (H1, W1, D1)
    W = rng.integers(-1, 2, size=(K, F, F, D1)).astype(float)  # (K, F, F, D1)
    return X, W


def _arrow(ax, a, b, **kw):
    ax.add_patch(FancyArrowPatch(a, b, arrowstyle="-|>", mutation_scale=11, color=INK, lw=1, **kw))


def draw_im2col():
    X, W = _data()
    W2 = output_size(W1, F, S=S)  # 2
    X_col = im2col(X, F, S=S)  # (F*F*D1, W2*W2) = (9, 4)
    W_row = W.reshape(K, -1)  # (K, F*F*D1) = (2, 9)
    V = conv2d_naive(X, W, np.zeros(K), S=S)  # (W2, W2, K)
    prod = W_row @ X_col  # (K, W2*W2)

    fig = new_figure(7.0, 6.2)
    ax = table_axes(fig, [0.005, 0.005, 0.99, 0.99], (-0.4, 24.4), (-1.6, 19.6))
    # the input and its windows
    c0 = 1.4  # cell size of the input drawing
    grid(ax, X[:, :, 0], 0, 1.5, cell=c0, fmt="{:.0f}", fontsize=9)
    for n, c in enumerate(WINDOWS):
        i, j = divmod(n, W2)
        d = 0.09 * (n + 1)
        outline(ax, j * S * c0 + d, 1.5 + i * S * c0 + d, F * c0 - 2 * d, F * c0 - 2 * d, c, lw=2)
    ax.text(3.5, 1.0, f"X: {W1} × {W1} × {D1}, F = {F}, S = {S}", ha="center", fontsize=8.5)
    # X_col above the product
    a = 12.5
    cols = [[tint(c, 0.3) for c in WINDOWS] for _ in range(X_col.shape[0])]
    grid(ax, X_col, a, 0, fmt="{:.0f}", colors=cols, fontsize=8)
    ax.text(a + 4.3, 4.5, f"X_col\n{X_col.shape[0]} × {X_col.shape[1]}\none window\nper column",
            va="center", fontsize=8.5)
    _arrow(ax, (7.4, 4.0), (a - 0.4, 4.0))
    ax.text((7.4 + a) / 2, 3.7, "im2col: stretch\neach window", ha="center", va="bottom", fontsize=8)
    # W_row left of the product, the filters below it
    rows = [[tint(c, FILTER_TINT[c])] * W_row.shape[1] for c in FILTERS]
    grid(ax, W_row, a - 9.5, 10, fmt="{:.0f}", colors=rows, fontsize=8)
    ax.text(a - 5, 12.6, f"W_row: {K} × {W_row.shape[1]}, one filter per row", ha="center", va="top",
            fontsize=8.5)
    for k, c in enumerate(FILTERS):
        x = 0.5 + k * 4.5
        grid(ax, W[k, :, :, 0], x, 15.5, fmt="{:.0f}", colors=[[tint(c, FILTER_TINT[c])] * F] * F, fontsize=8)
        ax.text(x + 1.5, 19.1, f"filter W[{k}]", ha="center", va="top", fontsize=8.5)
    _arrow(ax, (5.0, 15.1), (5.0, 13.6))
    # the product and its reshape
    grid(ax, prod, a, 10, fmt="{:.0f}", colors=[[tint(c, FILTER_TINT[c])] * prod.shape[1] for c in FILTERS],
         fontsize=8)
    ax.text(a + 2, 12.6, f"np.dot(W_row, X_col)\n{K} × {prod.shape[1]}", ha="center", va="top", fontsize=8.5)
    b = a + 6.5
    _arrow(ax, (a + 4.2, 11), (b - 0.3, 11))
    ax.text((a + 4.2 + b) / 2, 10.7, "reshape", ha="center", fontsize=8)
    for k, c in enumerate(FILTERS):
        grid(ax, V[:, :, k], b + k * 2.7, 10, fmt="{:.0f}", colors=[[tint(c, FILTER_TINT[c])] * W2] * W2, fontsize=8)
    ax.text(b + 2.3, 12.6, f"output\n{W2} × {W2} × {K}", ha="center", va="top", fontsize=8.5)
    ax.text(0, -1.2, "Each window of X becomes a column of X_col; each filter a row of W_row.",
            fontsize=8.5, color=MUTED, va="top")
    return fig


FIGURES = {"im2col": draw_im2col}


def _alt():
    X, W = _data()
    X_col = im2col(X, F, S=S)
    return (f"im2col on a {W1} by {W1} by {D1} input with {K} filters of size {F} by {F}, stride {S}: "
            f"each of the {X_col.shape[1]} coloured {F} by {F} windows of the input is stretched into one column "
            f"of X_col ({X_col.shape[0]} by {X_col.shape[1]}), each filter into one row of W_row "
            f"({K} by {X_col.shape[0]}); their product np.dot(W_row, X_col) ({K} by {X_col.shape[1]}) reshaped "
            f"is the {output_size(W1, F, S=S)} by {output_size(W1, F, S=S)} by {K} output of the convolution.")


ALT = {"im2col": _alt()}
