"""Shared look of the figures: a light card that reads the same in the light and the dark scheme.

Every figure is an SVG drawn on an off-white card with dark ink and Okabe-Ito colours (distinguishable
with colour-vision deficiencies), so it needs no knowledge of the page's scheme. `render` is the one
way a figure becomes bytes: same input, same SVG (fixed hash salt, no date, text kept as text).
"""

import io

import matplotlib
from matplotlib.figure import Figure

CARD = "#fbfaf7"  # figure background (a light card on both schemes)
INK = "#1f1f1f"  # text and lines
MUTED = "#6b6b6b"  # secondary text, padding cells (4.9:1 on CARD)
GRID = "#b9b9b9"  # cell borders
BLUE = "#0072B2"  # input window
RED = "#D55E00"  # filter; Okabe-Ito vermillion: it reads as orange, call it "orange" in text
GREEN = "#009E73"  # output
ORANGE = "#E69F00"
SKY = "#56B4E9"
PURPLE = "#CC79A7"
YELLOW = "#F0E442"
PALETTE = [BLUE, RED, GREEN, ORANGE, PURPLE, SKY]
# Darker shades of RED and GREEN for text on the card (>= 5:1, WCAG AA); BLUE as text is already 5:1.
RED_TEXT = "#B34E00"
GREEN_TEXT = "#007A5A"

RC = {
    "svg.hashsalt": "cnnref",  # stable clip-path and glyph ids
    "svg.fonttype": "none",  # text stays text: small files, selectable numbers
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica"],
    "font.size": 10,
    "text.color": INK,
    "axes.edgecolor": INK,
    "axes.labelcolor": INK,
    "axes.facecolor": CARD,
    "xtick.color": INK,
    "ytick.color": INK,
    "figure.facecolor": CARD,
    "savefig.facecolor": CARD,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "path.simplify": True,
    "image.interpolation": "none",
}


def new_figure(width, height):
    """A Figure of width x height inches on the card background (no pyplot, no global state)."""
    return Figure(figsize=(width, height), facecolor=CARD, layout=None)


def render(draw):
    """Call draw() and return its Figure as SVG text, byte-identical from run to run.

    A draw function may also return the SVG text itself (the animations of graphs/arithmetic.py).
    """
    with matplotlib.rc_context(RC):
        fig = draw()
        if isinstance(fig, str):
            return fig
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None}, facecolor=CARD)
    return buf.getvalue()


def grid(ax, A, x0=0.0, y0=0.0, cell=1.0, fmt="{:g}", colors=None, text_colors=None, fontsize=9, lw=0.8):
    """Draw the 2-D array A as a table of numbered cells; row 0 at the top, (x0, y0) its top-left corner.

    colors / text_colors: optional arrays (same shape as A) of fill / text colours, None for plain.
    The axes must have its y axis inverted (see `table_axes`).
    """
    from matplotlib.patches import Rectangle

    H, W = A.shape
    for i in range(H):
        for j in range(W):
            fc = colors[i][j] if colors is not None and colors[i][j] is not None else "white"
            ax.add_patch(Rectangle((x0 + j * cell, y0 + i * cell), cell, cell, facecolor=fc, edgecolor=GRID, lw=lw))
            tc = text_colors[i][j] if text_colors is not None and text_colors[i][j] is not None else INK
            ax.text(x0 + (j + 0.5) * cell, y0 + (i + 0.5) * cell, fmt.format(A[i, j]),
                    ha="center", va="center_baseline", fontsize=fontsize, color=tc)


def outline(ax, x, y, w, h, color, lw=2.2, **kw):
    """A rectangle outline (a highlighted window)."""
    from matplotlib.patches import Rectangle

    ax.add_patch(Rectangle((x, y), w, h, fill=False, edgecolor=color, lw=lw, **kw))


def table_axes(fig, rect, xlim, ylim):
    """Axes for cell drawings: no ticks or spines, equal aspect, y growing downwards like array rows."""
    ax = fig.add_axes(rect)
    ax.set_xlim(*xlim)
    ax.set_ylim(ylim[1], ylim[0])
    ax.set_aspect("equal")
    ax.axis("off")
    return ax


def tint(color, amount=0.3):
    """color mixed with white: amount=1 is the colour itself, 0 is white (a fill that keeps text legible)."""
    from matplotlib.colors import to_rgb, to_hex

    r, g, b = to_rgb(color)
    return to_hex((1 - amount + amount * r, 1 - amount + amount * g, 1 - amount + amount * b))
