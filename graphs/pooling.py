"""Figure of the Pooling Layer section (docs/dl/cnn/pooling.md): max pooling with F=2, S=2 on numbers."""

import numpy as np
from matplotlib.patches import FancyArrowPatch

from cnnref import max_pool, pool_output_size

from ._style import MUTED, PALETTE, INK, new_figure, grid, table_axes, tint

# The depth slice the notes' pooling figure shows (cs231n's maxpool picture).
SLICE = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]])


def draw_maxpool():
    X = SLICE[:, :, None].astype(float)  # (4, 4, 1): one depth slice
    V = max_pool(X, F=2, S=2)[:, :, 0]  # (2, 2)
    H2 = pool_output_size(4, F=2, S=2)
    quad = [[tint(PALETTE[(i // 2) * 2 + j // 2], 0.28) for j in range(4)] for i in range(4)]
    out = [[tint(PALETTE[i * 2 + j], 0.28) for j in range(H2)] for i in range(H2)]

    fig = new_figure(5.2, 2.6)
    ax = table_axes(fig, [0, 0, 1, 1], (-0.6, 10.8), (-1.2, 4.2))
    grid(ax, SLICE, 0, 0, fontsize=12, colors=quad)
    bold = [["bold" if X[i, j, 0] == V[i // 2, j // 2] else None for j in range(4)] for i in range(4)]
    for t, b in zip(ax.texts, sum(bold, [])):
        if b:
            t.set_fontweight("bold")
    grid(ax, V, 7.5, 1, fontsize=12, colors=out)
    for t in ax.texts[16:]:
        t.set_fontweight("bold")
    ax.add_patch(FancyArrowPatch((4.4, 2), (7.1, 2), arrowstyle="-|>", mutation_scale=14, color=INK, lw=1.2))
    ax.text(5.75, 1.55, "max pool", ha="center", fontsize=9)
    ax.text(5.75, 2.55, "F = 2, S = 2", ha="center", va="top", fontsize=9)
    ax.text(2, -0.55, "one depth slice, 4 × 4", ha="center", fontsize=9, color=MUTED)
    ax.text(8.5, 0.45, f"{H2} × {H2}", ha="center", fontsize=9, color=MUTED)
    return fig


FIGURES = {"maxpool": draw_maxpool}


def _alt():
    V = max_pool(SLICE[:, :, None].astype(float), F=2, S=2)[:, :, 0].astype(int)
    rows = "; ".join(", ".join(str(v) for v in r) for r in SLICE)
    return (f"Max pooling with 2 by 2 filters and stride 2 on a 4 by 4 depth slice with rows {rows}: "
            f"each coloured 2 by 2 block keeps its largest number, giving the 2 by 2 output "
            f"{V[0, 0]}, {V[0, 1]} (top row) and {V[1, 0]}, {V[1, 1]} (bottom row).")


ALT = {"maxpool": _alt()}
