"""Animations of the Convolution arithmetic pages (docs/arithmetic/): every relationship of Dumoulin & Visin's
guide, drawn from cnnref's own window positions.

Each case is a filter sliding over a grid, as in the guide's animations. The grid and every position of the
filter come from `window_positions` (the same strided view the layers compute with), the number of positions
from `output_size` or `conv_transpose_output_size`, so the picture cannot disagree with the formula beside it.
A transposed convolution is drawn as the guide draws it: the equivalent direct convolution at stride 1 over
its input stretched (S - 1 zeros between inputs), padded by dilation (F - 1) - P and, for output_padding a,
a more zeros at the bottom and right.

Each case gives two SVG files, written here as text (no matplotlib: a few hundred rectangles and CSS):

- `<name>.svg`: the animation. One group of filter taps and one output cell, moved by CSS keyframes,
  one frame per output position (FRAME_SECONDS each), looping; under prefers-reduced-motion it stands
  still on the first frame.
- `<name>-frames.svg`: the static frame strip shown instead under prefers-reduced-motion (and by the
  page's pause button): four frames, as the guide's figures print them (the first position, the next
  one along the row, the first of the next row, the last).

Both are WIDTH px wide (written in pt, as matplotlib writes the other figures: 1 px = 0.75 pt; the viewBox
is in px) with text of at least FONT px, on the light card the other figures use (they read the same in the
light and the dark scheme).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from html import escape

import numpy as np

from cnnref import conv_transpose_output_size, max_pool, output_size, pool_output_size, window_positions

from ._style import BLUE, CARD, GREEN, GREEN_TEXT, GRID, INK, MUTED, RED, RED_TEXT, tint

WIDTH = 360  # px: the figures' width; a phone shows them at about 320 px
FONT = 12  # px: the smallest text (at 320 of 360 px it is still above 10 px)
MARGIN = 10
FRAME_SECONDS = 0.8
MAX_CELL = 30
POOL_SEED = 29  # the pooling animation's numbers (five different maxima among the nine)

COLOURS = {  # cell kind -> (fill, stroke, dash); "drop": a cell no window reads (the floor drops it)
    "input": (tint(BLUE, 0.35), GRID, ""),
    "pad": ("#ececec", GRID, ""),
    "zero": ("#ffffff", MUTED, "2 2"),
    "drop": ("#f7dccd", RED_TEXT, "3 2"),
    "out": (tint(GREEN, 0.22), GRID, ""),
}
LEGEND = {
    "input": "input",
    "pad": "zero padding",
    "zero": "inserted zero",
    "drop": "never read",
}


@dataclass(frozen=True)
class Case:
    """One relationship's setting: a convolution (or pooling) of an n x n input, or a transposed convolution of
    an n x n input (then n is the size of the convolution's output, the guide's i')."""

    name: str
    title: str
    n: int
    F: int
    S: int = 1
    P: int = 0
    dilation: int = 1
    output_padding: int = 0
    transposed: bool = False
    pool: bool = False


CASES = [
    Case("arith-no-padding", "No zero padding, unit strides", n=4, F=3),
    Case("arith-padding", "Zero padding, unit strides", n=5, F=4, P=2),
    Case("arith-half-padding", "Half (same) padding", n=5, F=3, P=1),
    Case("arith-full-padding", "Full padding", n=5, F=3, P=2),
    Case("arith-strides", "No zero padding, stride 2", n=5, F=3, S=2),
    Case("arith-padding-strides", "Zero padding, stride 2", n=5, F=3, S=2, P=1),
    Case("arith-padding-strides-odd", "Zero padding, stride 2, floored", n=6, F=3, S=2, P=1),
    Case("arith-pooling", "Max pooling, 3 × 3 windows, stride 1", n=5, F=3, pool=True),
    Case("arith-no-padding-transposed", "Transposed: no padding, unit strides", n=2, F=3, transposed=True),
    Case("arith-padding-transposed", "Transposed: zero padding, unit strides", n=6, F=4, P=2, transposed=True),
    Case("arith-half-padding-transposed", "Transposed: half padding", n=5, F=3, P=1, transposed=True),
    Case("arith-full-padding-transposed", "Transposed: full padding", n=7, F=3, P=2, transposed=True),
    Case("arith-strides-transposed", "Transposed: no padding, stride 2", n=2, F=3, S=2, transposed=True),
    Case("arith-padding-strides-transposed", "Transposed: zero padding, stride 2", n=3, F=3, S=2, P=1,
         transposed=True),
    Case("arith-padding-strides-odd-transposed", "Transposed: zero padding, stride 2, a = 1", n=3, F=3, S=2, P=1,
         output_padding=1, transposed=True),
    Case("arith-dilation", "Dilation 2", n=7, F=3, dilation=2),
]
BY_NAME = {case.name: case for case in CASES}


@dataclass(frozen=True)
class Geometry:
    """What a case draws: the plane the filter slides over (kinds of its cells), every tap of every window on
    it (H2, W2, F, F, 2), and the output size with the formula that gives it."""

    kinds: np.ndarray  # (m, m) of str: input, pad, zero (inserted by the stretch), drop (read by no window)
    taps: np.ndarray  # (H2, W2, F, F, 2): (row, column) on the plane of every tap of every window
    out: int  # output size per axis
    formula: str  # the size formula with the case's numbers
    plane: str  # what the plane is, in words


@cache
def geometry(case: Case) -> Geometry:
    F, S, P, d, a = case.F, case.S, case.P, case.dilation, case.output_padding
    span = d * (F - 1) + 1
    if not case.transposed:
        exact = (case.n + 2 * P - span) % S == 0
        taps = window_positions(case.n, F, S=S, P=P, dilation=d, exact=exact)
        size = pool_output_size if case.pool else output_size
        out = size(case.n, F, S=S, P=P, dilation=d, exact=exact)
        m = case.n + 2 * P
        kinds = np.full((m, m), "pad", dtype=object)
        kinds[P : P + case.n, P : P + case.n] = "input"
        top = f"{case.n} − {F} + {2 * P}" if d == 1 else f"{case.n} − {span} + {2 * P}"
        formula = (f"W2 = ({top})/{S} + 1 = {out}" if exact else f"W2 = ⌊({top})/{S}⌋ + 1 = {out}")
        if d > 1:
            formula = f"dilated filter {d}·({F} − 1) + 1 = {span}\n{formula}"
        plane = f"{case.n} × {case.n} input" + (f", padded by {P}" if P else "")
    else:
        # The guide's equivalent direct convolution: stretch, pad by d (F - 1) - P, add a at the bottom and right.
        pad = d * (F - 1) - P
        if pad < 0:
            raise ValueError(f"{case.name}: P = {P} > dilation (F - 1): no equivalent direct convolution to draw")
        stretched = S * (case.n - 1) + 1
        taps = window_positions(stretched + a, F, S=1, P=pad, dilation=d)
        out = conv_transpose_output_size(case.n, F, S=S, P=P, output_padding=a, dilation=d)
        m = stretched + a + 2 * pad
        kinds = np.full((m, m), "pad", dtype=object)
        inside = slice(pad, pad + stretched)
        kinds[inside, inside] = "zero"
        kinds[pad : pad + stretched : S, pad : pad + stretched : S] = "input"
        formula = f"W1 = {S}·({case.n} − 1) + {span} − {2 * P}" + (f" + {a}" if a else "") + f" = {out}"
        plane = f"{case.n} × {case.n} input" + (f", stretched to {stretched} × {stretched}" if S > 1 else "")
        plane += f", padded by {pad}" if pad else ""
        plane += f", plus {a} at the bottom and right" if a else ""
    if taps.shape[:2] != (out, out):
        raise AssertionError(f"{case.name}: {taps.shape[:2]} windows for an output of {out} × {out}")
    read = np.zeros(kinds.shape, dtype=bool)
    read[taps[..., 0].ravel(), taps[..., 1].ravel()] = True
    kinds[~read] = "drop"
    return Geometry(kinds, taps, out, formula, plane)


def pool_numbers(case: Case):
    """The pooling animation's input (small integers from a seeded generator) and max_pool's output."""
    X = np.random.default_rng(POOL_SEED).integers(0, 10, size=(case.n, case.n, 1)).astype(float)
    return X[:, :, 0], max_pool(X, F=case.F, S=case.S, P=case.P)[:, :, 0]


def shown_frames(out):
    """The frames of the static strip, as output positions: the first, the next along the row, the first of
    the next row, the last (all four positions of a 2 x 2 output)."""
    frames = [(0, 0), (0, 1), (1, 0), (out - 1, out - 1)]
    return list(dict.fromkeys(f for f in frames if max(f) < out))


# --- SVG text ------------------------------------------------------------------------------------------------


def _f(x):
    """A coordinate as short, deterministic text."""
    return f"{x:.2f}".rstrip("0").rstrip(".")


STYLE = f"""
text {{ font-family: "DejaVu Sans", Arial, Helvetica, sans-serif; font-size: {FONT}px; fill: {INK}; }}
.t {{ font-size: {FONT + 1}px; font-weight: bold; }}
.v {{ text-anchor: middle; dominant-baseline: central; }}
.c rect {{ stroke-width: 1; }}
.tap {{ fill: {RED}; fill-opacity: 0.4; stroke: {RED_TEXT}; stroke-width: 2; }}
.cur {{ fill: {GREEN}; fill-opacity: 0.55; stroke: {GREEN_TEXT}; stroke-width: 2.5; }}
""".strip()


def _cells(kinds, x0, y0, c, extra=""):
    rows = []
    for i in range(kinds.shape[0]):
        for j in range(kinds.shape[1]):
            fill, stroke, dash = COLOURS[kinds[i, j]]
            dash = f' stroke-dasharray="{dash}"' if dash else ""
            rows.append(f'<rect x="{_f(x0 + j * c)}" y="{_f(y0 + i * c)}" width="{_f(c)}" height="{_f(c)}" '
                        f'fill="{fill}" stroke="{stroke}"{dash}/>')
    return f'<g class="c"{extra}>' + "".join(rows) + "</g>"


def _numbers(A, x0, y0, c, fmt="{:.0f}", size=None):
    style = f' style="font-size: {_f(size)}px"' if size else ""
    return "".join(f'<text class="v" x="{_f(x0 + (j + 0.5) * c)}" y="{_f(y0 + (i + 0.5) * c)}"{style}>'
                   f"{fmt.format(A[i, j])}</text>" for i in range(A.shape[0]) for j in range(A.shape[1]))


def _taps(pattern, x0, y0, c, cls="tap"):
    """Rectangles on the taps of one window: pattern (F, F, 2) of plane (row, column)."""
    return "".join(f'<rect class="{cls}" x="{_f(x0 + col * c + 1)}" y="{_f(y0 + row * c + 1)}" width="{_f(c - 2)}" '
                   f'height="{_f(c - 2)}"/>' for row, col in pattern.reshape(-1, 2))


def _layout(m, out, width):
    """Cell size and x of the plane and of the output grid, side by side in `width` px."""
    gap = 28
    c = min(MAX_CELL, int(100 * (width - gap) / (m + out)) / 100)  # whole hundredths: moves are exact multiples
    x_plane = (width - (m + out) * c - gap) / 2
    return c, x_plane, x_plane + m * c + gap


def _arrow(x, y):
    return (f'<path d="M{_f(x - 9)} {_f(y)}h14m-5 -5l5 5l-5 5" fill="none" stroke="{INK}" stroke-width="1.5"/>')


def _legend(kinds, y, pool=False):
    """Swatches of the cell kinds this case shows, then the filter and the output, wrapped to the width."""
    items = [(COLOURS[k][0], COLOURS[k][1], COLOURS[k][2], LEGEND[k]) for k in LEGEND if (kinds == k).any()]
    items += [(RED, RED_TEXT, "", "window" if pool else "filter"), (GREEN, GREEN_TEXT, "", "output")]
    parts, x, line = [], MARGIN, 0
    for fill, stroke, dash, label in items:
        w = 16 + 0.62 * FONT * len(label) + 12
        if x + w > WIDTH - MARGIN:
            x, line = MARGIN, line + 1
        yy = y + line * 18
        opacity = ' fill-opacity="0.5"' if fill in (RED, GREEN) else ""
        dash = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(f'<rect x="{_f(x)}" y="{_f(yy - 10)}" width="12" height="12" fill="{fill}"{opacity} '
                     f'stroke="{stroke}"{dash}/><text x="{_f(x + 16)}" y="{_f(yy)}">{escape(label)}</text>')
        x += w
    return "".join(parts), line + 1


def _document(height, body, title, style_extra=""):
    return (f'<?xml version="1.0" encoding="utf-8"?>\n'
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{_f(WIDTH * 0.75)}pt" height="{_f(height * 0.75)}pt" '
            f'viewBox="0 0 {WIDTH} {_f(height)}">\n<title>{escape(title)}</title>\n'
            f"<style>\n{STYLE}\n{style_extra}</style>\n"
            f'<rect width="{WIDTH}" height="{_f(height)}" fill="{CARD}"/>\n{body}\n</svg>\n')


def _panel(case, g, x0, y0, width, frame=None):
    """The plane, its output grid and (for a frame of the strip) the window of output position `frame`.

    Returns (cells, numbers on top, cell size, x of the plane, x and y of the output grid, height)."""
    m = g.kinds.shape[0]
    c, xp, xo = _layout(m, g.out, width)
    xp, xo = x0 + xp, x0 + xo
    yo = y0 + (m - g.out) * c / 2
    parts = [_cells(g.kinds, xp, y0, c), _cells(np.full((g.out, g.out), "out", dtype=object), xo, yo, c),
             _arrow(xo - 14, y0 + m * c / 2)]
    numbers = ""
    if case.pool:
        X, V = pool_numbers(case)
        size = max(FONT, min(FONT + 5, c * 0.55))
        numbers = _numbers(X, xp, y0, c, size=size) + _numbers(V, xo, yo, c, size=size)
    if frame is not None:
        i, j = frame
        parts += [_taps(g.taps[i, j], xp, y0, c),
                  f'<rect class="cur" x="{_f(xo + j * c + 1)}" y="{_f(yo + i * c + 1)}" width="{_f(c - 2)}" '
                  f'height="{_f(c - 2)}"/>']
    return "".join(parts), numbers, c, xp, xo, yo, m * c


def _wrap(text, width=WIDTH - 2 * MARGIN, size=FONT):
    """Lines of at most `width` px of text (DejaVu Sans averages about 0.6 em a character; 0.62 to be safe)."""
    lines, line = [], ""
    for word in text.split(" "):
        if line and 0.62 * size * len(line + " " + word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return lines + [line]


def _lines(text, y, cls=""):
    """Wrapped text from baseline y; returns the SVG and the baseline of the next line."""
    out = []
    for line in (wrapped for part in text.split("\n") for wrapped in _wrap(part)):
        out.append(f'<text{cls} x="{MARGIN}" y="{_f(y)}">{escape(line)}</text>')
        y += 18
    return "".join(out), y


def _header(case, g):
    params = [f"F = {case.F}"] + [f"{k} = {v}" for k, v in (("S", case.S), ("P", case.P)) if v or k == "S"]
    if case.dilation > 1:
        params.append(f"dilation = {case.dilation}")
    if case.output_padding:
        params.append(f"a = {case.output_padding}")
    title, y = _lines(case.title, MARGIN + 12, ' class="t"')
    plane, y = _lines(g.plane[0].upper() + g.plane[1:], y)
    params, y = _lines(", ".join(params), y)
    return title + plane + params, y - 4


def _keyframes(name, steps):
    """CSS keyframes holding each (dx, dy) for one frame (step-end: no sliding between positions)."""
    n = len(steps)
    lines = [f"{_f(100 * k / n)}% {{ transform: translate({_f(dx)}px, {_f(dy)}px); }}" for k, (dx, dy) in
             enumerate(steps)]
    lines.append(f"100% {{ transform: translate({_f(steps[-1][0])}px, {_f(steps[-1][1])}px); }}")
    return f"@keyframes {name} {{ " + " ".join(lines) + " }"


def animation_svg(case: Case) -> str:
    g = geometry(case)
    header, y = _header(case, g)
    panel, numbers, c, xp, xo, yo, h = _panel(case, g, MARGIN, y, WIDTH - 2 * MARGIN)
    base = g.taps[0, 0]
    moves, outs = [], []
    for i in range(g.out):
        for j in range(g.out):
            shift = g.taps[i, j] - base  # the same shift for every tap: a window is the first one, moved
            if not (shift == shift[0, 0]).all():
                raise AssertionError(f"{case.name}: window ({i}, {j}) is not a translate of window (0, 0)")
            moves.append((shift[0, 0, 1] * c, shift[0, 0, 0] * c))
            outs.append((j * c, i * c))
    seconds = _f(FRAME_SECONDS * len(moves))
    style = (f"{_keyframes('window', moves)}\n{_keyframes('output', outs)}\n"
             f".w {{ animation: window {seconds}s step-end infinite; }}\n"
             f".o {{ animation: output {seconds}s step-end infinite; }}\n"
             "@media (prefers-reduced-motion: reduce) { .w, .o { animation: none; } }\n")
    moving = (f'<g class="w">{_taps(base, xp, y, c)}</g>'
              f'<g class="o"><rect class="cur" x="{_f(xo + 1)}" y="{_f(yo + 1)}" width="{_f(c - 2)}" '
              f'height="{_f(c - 2)}"/></g>')
    text, y = _lines(g.formula, y + h + 22)
    legend, lines = _legend(g.kinds, y + 6, case.pool)
    height = y + 6 + 18 * (lines - 1) + 12
    return _document(height, header + panel + moving + numbers + text + legend, ALT[case.name], style)


def frames_svg(case: Case) -> str:
    g = geometry(case)
    header, y = _header(case, g)
    frames = shown_frames(g.out)
    columns = 1 if case.pool else 2  # numbers in the cells need the whole width to stay legible
    width = (WIDTH - 2 * MARGIN) / columns
    body, row_height = [header], 0
    for k, frame in enumerate(frames):
        col, row = k % columns, k // columns
        y_label = y + 6 + row * row_height
        panel, numbers, c, xp, xo, yo, h = _panel(case, g, MARGIN + col * width, y_label + 8, width - 8, frame)
        row_height = max(row_height, h + 34)
        body.append(f'<text x="{_f(MARGIN + col * width)}" y="{_f(y_label)}">'
                    f"{k + 1}. output ({frame[0]}, {frame[1]})</text>" + panel + numbers)
    text, y = _lines(g.formula, y + 6 + row_height * -(-len(frames) // columns))
    legend, lines = _legend(g.kinds, y + 6, case.pool)
    body += [text, legend]
    height = y + 6 + 18 * (lines - 1) + 12
    return _document(height, "".join(body), ALT[case.name] + " Frames shown: " + ", ".join(
        f"output ({i}, {j})" for i, j in frames) + ".")


# --- Alt text, from the same numbers ----------------------------------------------------------------------------


def _alt(case: Case) -> str:
    g = geometry(case)
    F, o = case.F, g.out
    what = f"A {F} by {F} max-pooling window" if case.pool else f"A {F} by {F} filter"
    if case.dilation > 1:
        what += f" with dilation {case.dilation} (its taps {case.dilation} cells apart)"
    dropped = g.kinds == "drop"
    if case.transposed:
        text = (f"Animation of a transposed convolution drawn as the guide draws it: the {g.plane}. "
                f"{what} slides over it at stride 1 and stops at {o} by {o} positions, one per cell of the "
                f"{o} by {o} output: {g.formula}.")
    else:
        text = (f"Animation: {what[0].lower() + what[1:]} slides over a {g.plane}, stride {case.S}, and stops at "
                f"{o} by {o} positions, "
                f"one per cell of the {o} by {o} output: {g.formula}.")
    if case.pool:
        X, V = pool_numbers(case)
        rows = "; ".join(", ".join(f"{v:.0f}" for v in row) for row in V)
        text += f" Each output cell is the largest input number under the window: the output rows are {rows}."
    if dropped.any():
        rows, columns = (", ".join(str(k) for k in np.flatnonzero(dropped.all(axis=axis))) for axis in (1, 0))
        text += (f" No window reads row {rows} and column {columns} of the padded input (counted from 0): the floor "
                 f"drops them.")
    return text.replace("\n", "; ").replace("−", "-").replace("⌊", "floor(").replace("⌋", ")").replace("·", " x ").replace("×", "by")


ALT = {case.name: _alt(case) for case in CASES}
FIGURES = {case.name: (lambda case=case: animation_svg(case)) for case in CASES}
FIGURES.update({f"{case.name}-frames": (lambda case=case: frames_svg(case)) for case in CASES})
ALT.update({f"{case.name}-frames": ALT[case.name] for case in CASES})
# The hook shows `<name>-frames.svg` instead of `<name>.svg` under prefers-reduced-motion (and when paused).
STRIPS = {case.name: f"{case.name}-frames" for case in CASES}
