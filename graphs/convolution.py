"""Figures of the Convolutions page (docs/dl/cnn/convolutions.md): the dice example, box * box, the impulse sum."""


import numpy as np
from matplotlib.patches import Rectangle

from cnnref import convolve, convolve_continuous, dice_pmf, impulse_responses, sum_of_dice

from ._style import BLUE, GREEN, GREEN_TEXT, INK, MUTED, ORANGE, PURPLE, RED, RED_TEXT, new_figure, table_axes, tint

X_DICE = 4  # the notes' example: the probability that two dice sum to 4


def _dice_terms(x=X_DICE):
    """[(m, f(m), g(x - m))] for the m where both dice have a face, and (f * g)(x) from sum_of_dice."""
    f = g = dice_pmf(exact=True)
    terms = [(m, f[m], g[x - m]) for m in f.support if g[x - m] != 0]
    return terms, sum_of_dice(2, exact=True)[x]


def draw_dice():
    f = dice_pmf(exact=True)
    terms, total = _dice_terms()
    two = sum_of_dice(2, exact=True)  # PMF of the sum, 2..12
    x = X_DICE

    fig = new_figure(6.4, 5.0)
    ax = table_axes(fig, [0.02, 0.47, 0.96, 0.52], (-4.3, 8.2), (-1.4, 4.6))
    overlap = [m for m, _, _ in terms]
    ax.add_patch(Rectangle((min(overlap) - 0.5, -0.25), len(overlap), 3.2, facecolor=tint(GREEN, 0.22),
                           edgecolor=GREEN, lw=1.5))
    for m in f.support:  # die 1, f(m)
        ax.add_patch(Rectangle((m - 0.4, 0), 0.8, 0.8, facecolor=tint(BLUE, 0.3), edgecolor=BLUE, lw=1))
        ax.text(m, 0.4, str(m), ha="center", va="center_baseline", fontsize=10)
    for face in f.support:  # die 2 flipped and shifted by x: face g sits at m = x - face
        m = x - face
        ax.add_patch(Rectangle((m - 0.4, 1.2), 0.8, 0.8, facecolor=tint(RED, 0.3), edgecolor=RED, lw=1))
        ax.text(m, 1.6, str(face), ha="center", va="center_baseline", fontsize=10)
    ax.text(-4.2, 0.4, "f(m)", va="center", fontsize=9.5, color=BLUE)
    ax.text(-4.2, 1.6, f"g({x} − m)", va="center", fontsize=9.5, color=RED_TEXT)
    ax.text(-4.2, 2.5, "product", va="center", fontsize=9.5, color=GREEN_TEXT)
    for m, fm, gm in terms:  # one product per column: f(m)·g(x − m) = 1/6 · 1/6
        ax.text(m, 2.5, f"{fm * gm}", ha="center", va="center", fontsize=9.5)
    for m in range(-2, 7):
        ax.text(m, -0.6, str(m), ha="center", va="center", fontsize=9, color=MUTED)
    ax.text(6.6, -0.6, "m", ha="left", va="center", fontsize=9, color=MUTED, style="italic")
    ax.text(-4.2, -1.0, f"Flip g, shift it by {x}, and add the products where the two overlap:", fontsize=9,
            va="bottom")
    sum_text = " + ".join(f"f({m})g({x - m})" for m, _, _ in terms)
    ax.text(-4.2, 3.6, f"(f ∗ g)({x}) = {sum_text} = {int(total * 36)}/36 = {total}", fontsize=10,
            va="center", fontweight="bold")
    ax.text(-4.2, 4.35, f"Each face has probability {f[1]}, so each product is {f[1]} · {f[1]} = "
            f"{f[1] * f[1]}; die 2 reads right to left.", fontsize=9, color=INK, va="center")

    bx = fig.add_axes([0.1, 0.09, 0.86, 0.3])
    s = two.support
    heights = np.array([float(p) for p in two.p])
    colors = [GREEN if v == x else tint(BLUE, 0.55) for v in s]
    bx.bar(s, heights, color=colors, edgecolor=[GREEN if v == x else BLUE for v in s], lw=1, width=0.7)
    for v, p in zip(s, two.p):
        bx.text(v, float(p) + 0.004, f"{int(p * 36)}/36", ha="center", va="bottom", fontsize=8,
                fontweight="bold" if v == x else "normal")
    bx.set_xticks(s)
    bx.set_yticks([])
    bx.spines["left"].set_visible(False)
    bx.set_ylim(0, float(max(two.p)) * 1.3)
    bx.set_xlabel("sum of the two dice", fontsize=9)
    bx.set_title("f ∗ g: the whole distribution of the sum", fontsize=9.5, loc="left")
    return fig


def _box(t):
    return (np.abs(t) <= 0.5).astype(float)


CONT_X = (-0.5, 0.0, 0.5)  # the shifts drawn in the top row


def draw_continuous():
    fig = new_figure(6.4, 4.4)
    t = np.linspace(-1.6, 1.6, 321)
    for n, x in enumerate(CONT_X):
        ax = fig.add_axes([0.06 + n * 0.32, 0.54, 0.27, 0.31])
        area = float(convolve_continuous(_box, _box, x, lo=-1, hi=1, n=2000))
        ax.fill_between(t, np.minimum(_box(t), _box(x - t)), color=tint(GREEN, 0.55), lw=0)
        ax.plot(t, _box(t), color=BLUE, lw=1.6)
        ax.plot(t, _box(x - t), color=RED, lw=1.6, ls=(0, (4, 2)))
        ax.set_ylim(0, 1.35)
        ax.set_xlim(-1.6, 1.6)
        ax.set_xticks([-1, 0, 1])
        ax.set_yticks([0, 1])
        ax.tick_params(labelsize=7.5)
        ax.set_title(f"x = {x:g}: overlap area {area:.2f}", fontsize=8.5)
        ax.set_xlabel("t", fontsize=8, labelpad=1)
    fig.text(0.06, 0.985, "f(t) (blue) and the flipped box shifted by x, g(x − t) (orange, dashed);\n"
             "their overlap f(t)g(x − t) (green)", fontsize=8.5, va="top", linespacing=1.4)
    bx = fig.add_axes([0.06, 0.1, 0.9, 0.3])
    xs = np.linspace(-1.5, 1.5, 121)
    bx.plot(xs, convolve_continuous(_box, _box, xs, lo=-1, hi=1, n=2000), color=GREEN, lw=2)
    ys = [float(convolve_continuous(_box, _box, x, lo=-1, hi=1, n=2000)) for x in CONT_X]
    bx.plot(CONT_X, ys, "o", color=INK, ms=5)
    for x, y in zip(CONT_X, ys):
        bx.annotate(f"{y:.2f}", (x, y), textcoords="offset points", xytext=(8, -2), fontsize=8)
    bx.set_ylim(0, 1.25)
    bx.set_xlim(-1.6, 1.6)
    bx.set_yticks([0, 1])
    bx.tick_params(labelsize=7.5)
    bx.set_xlabel("x", fontsize=8, labelpad=1)
    bx.set_title("(f ∗ g)(x), the overlap area at every shift: a triangle", fontsize=9, loc="left")
    return fig


IMPULSE_F = [2, 1, 3]  # input: three impulses of heights 2, 1, 3
IMPULSE_G = [3, 2, 1]  # impulse response: how the system answers one unit impulse
IMPULSE_COLORS = [BLUE, ORANGE, PURPLE]


def draw_impulse_sum():
    f, g = IMPULSE_F, IMPULSE_G
    rows = impulse_responses(f, g)  # (len f, len f + len g - 1): row m is f[m]·g[n - m]
    total = convolve(f, g)
    n = np.arange(rows.shape[1])
    k = len(f)
    fig = new_figure(6.4, 6.4)
    axes = fig.subplots(k + 3, 1, sharex=True, gridspec_kw={"height_ratios": [1, 1] + [1.4] * k + [2.2],
                        "hspace": 0.95, "left": 0.05, "right": 0.98, "top": 0.95, "bottom": 0.07})

    def stems(ax, xs, ys, color, top, title):
        xs, ys = np.asarray(xs), np.asarray(ys)
        on = ys != 0
        ax.vlines(xs[on], 0, ys[on], color=color, lw=2.2)
        ax.plot(xs[on], ys[on], "o", color=color, ms=4.5)
        for xv, yv in zip(xs[on], ys[on]):
            ax.text(xv + 0.1, yv, f"{yv:g}", fontsize=8, va="center")
        ax.set_ylim(0, top * 1.15)
        ax.set_title(title, fontsize=8.5, loc="left", pad=3)

    for ax in axes:
        ax.set_yticks([])
        ax.spines["left"].set_visible(False)
        ax.tick_params(labelsize=7.5, length=2, labelbottom=True)
        ax.set_xlim(-0.6, n[-1] + 0.6)
        ax.set_xticks(n)
    small = max(max(f), max(g))
    for m, fm in enumerate(f):
        stems(axes[0], [m], [fm], IMPULSE_COLORS[m], small, "input f[m]: a sum of impulses f[m]·δ[n − m]")
    stems(axes[1], np.arange(len(g)), g, MUTED, small, "impulse response g[n]: the answer to one unit impulse")
    for m in range(k):
        stems(axes[m + 2], n, rows[m], IMPULSE_COLORS[m], rows.max(),
              f"f[{m}]·g[n − {m}]: impulse {m} answers with g scaled by {f[m]} and shifted by {m}")
    ax = axes[-1]
    bottom = np.zeros(len(n))
    for m in range(k):
        ax.bar(n, rows[m], bottom=bottom, color=tint(IMPULSE_COLORS[m], 0.7), edgecolor=IMPULSE_COLORS[m],
               width=0.5, lw=1)
        bottom += rows[m]
    for xv, yv in zip(n, total):
        ax.text(xv, yv + 0.3, f"{yv:g}", ha="center", va="bottom", fontsize=8, fontweight="bold")
    ax.set_ylim(0, total.max() * 1.3)
    ax.set_xlabel("n", fontsize=8, labelpad=1)
    ax.set_title("(f ∗ g)[n]: the sum of the shifted, scaled responses (stacked)", fontsize=8.5, loc="left", pad=3)
    return fig


FIGURES = {"cnn_dice": draw_dice, "conv-continuous": draw_continuous, "conv-impulse-sum": draw_impulse_sum}


def _alts():
    terms, total = _dice_terms()
    two = sum_of_dice(2, exact=True)
    dist = ", ".join(f"{int(p * 36)}" for p in two.p)
    box = [float(convolve_continuous(_box, _box, x, lo=-1, hi=1, n=2000)) for x in CONT_X]
    total_fg = convolve(IMPULSE_F, IMPULSE_G)
    return {
        "cnn_dice": (
            f"Two rows of dice faces: die 1's faces 1 to 6 in order, and die 2's faces flipped and shifted by "
            f"{X_DICE}, so that faces 3, 2, 1 sit under faces 1, 2, 3. Only those {len(terms)} pairs overlap, so "
            f"(f * g)({X_DICE}) = f(1)g(3) + f(2)g(2) + f(3)g(1) = {int(total * 36)}/36. Below, the whole "
            f"distribution of the sum of two dice from 2 to 12, in 36ths: {dist}."),
        "conv-continuous": (
            "Convolution of two unit boxes: the box g is flipped and slid across the box f; at shifts x = "
            + ", ".join(f"{x:g}" for x in CONT_X) + " the shaded overlap areas are "
            + ", ".join(f"{a:.2f}" for a in box)
            + ". Plotted against x the overlap area is a triangle, zero outside -1 to 1 and peaking at 1 at x = 0."),
        "conv-impulse-sum": (
            f"Convolution as a sum of impulse responses: the input f = {IMPULSE_F} is three impulses; each one "
            f"produces a copy of the impulse response g = {IMPULSE_G} scaled by its height and shifted to its "
            f"position; stacking the three copies gives f * g = {[int(v) for v in total_fg]}."),
    }


ALT = _alts()
