"""The notes' convolution demo: the controls and the notes' own numbers (W1 = H1 = 5, D1 = 3, K = 2, F = 3,
S = 2, P = 1), written at build time; graphs/conv_demo.js draws the volumes and recomputes every number in
the browser with graphs/conv_demo_port.js, a port of cnnref's conv2d_naive and conv_transpose2d
(page: CNN notes, /dl/cnn/conv-layer/#convolution-demo).

Stable hooks for the browser tests (data-testid unless noted):
  conv-demo             the demo's root; demo-data: its <script type="application/json">
  select[data-param=N]  the setting: mode (conv | transposed), n (input size), D_in, D_out (input and output
                        depth), F, S, P, dilation, output_padding (transposed mode only)
  demo-size-result      the output size's formula, or the refusal (data-accepted="true" | "false"): output_size's
                        message, then what PyTorch's floor rule (exact=False) computes instead
  demo-random, demo-reset   new random numbers; back to the notes' setting and numbers
  demo-prev / demo-next / demo-play   stepping; demo-play has aria-pressed="true" while playing
  demo-position         "output n of N" (steps run depth slice k, then rows i, then columns j)
  td[data-vol]          every drawn number: data-vol "Y" (transposed mode's input), "X_pad" or "Z" (the input the
                        window slides over: zero-padded X, or Y stretched and padded), "W" (the filters drawn,
                        data-k; in transposed mode W[:, ::-1, ::-1, k]), "b" (data-k); data-i/-j/-d; an
                        editable number names its source entry in data-src ("X[1, 2, 0]", "W[0, 2, 2, 1]", "b[1]")
  demo-out-cell         the output buttons (data-i/-j/-k); the current one has aria-current="true"
  demo-current, demo-products (demo-product spans: data-x, data-w, data-d), demo-sum, demo-bias, demo-value
  demo-live             the aria-live region: it speaks on the reader's own actions, never on autoplay's steps
"""

import html
import json

import numpy as np

SEED = 231  # the input and the filters are seeded small integers, like cs231n's demo
W1, D1, K, F, S, P = 5, 3, 2, 3, 2, 1
B = (1, 0)  # biases b0 = 1, b1 = 0, as in the notes' demo
NOTES = {"mode": "conv", "n": W1, "D_in": D1, "D_out": K, "F": F, "S": S, "P": P, "dilation": 1, "output_padding": 0}

# What the reader may choose, and why these bounds:
# - the input the window slides over is drawn at most MAX_CELLS cells a side: 13 cells of 22 px (286 px)
#   fit the width a note leaves the demo on a 375 px phone (about 330 px), and so do 13 output cells of
#   24 px. In convolution mode n + 2P <= 7 + 2*3 = 13 always holds; in transposed mode the stretched input
#   S (n - 1) + 1 + 2 (dilation (F - 1) - P) + output_padding can be wider, and the demo says so instead;
# - F <= 5, S <= 3, P <= 3 and dilation <= 3 cover the cases of the convolution arithmetic guide (no, half
#   and full padding (full up to F = 4), strides, dilation 2, and their transposes), and the largest
#   dilated filter (13 cells) still fits the largest padded input;
# - depths and K <= 3: each output is F*F*D_in products (75 at most), written out next to the output cell;
# - numbers are small integers, so the port's results compare exactly with cnnref's.
OPTIONS = {
    "n": list(range(1, 8)), "D_in": [1, 2, 3], "D_out": [1, 2, 3], "F": [1, 2, 3, 4, 5], "S": [1, 2, 3],
    "P": [0, 1, 2, 3], "dilation": [1, 2, 3], "output_padding": [0, 1, 2],
}
MAX_CELLS = 13
RANDOM = {"X": (0, 2), "W": (-1, 1), "b": (-1, 1)}  # what Random draws (inclusive), the notes' ranges
EDIT = (-9, 9)  # what a reader may type into a cell: one digit and a sign keep the grids narrow
LABELS = {  # select -> (label, the notes' symbol in convolution mode, in transposed mode)
    "n": ("input size", "W1 = H1", "W2 = H2"), "D_in": ("input depth", "D1", "K"),
    "D_out": ("output depth", "K", "D1"), "F": ("filter size", "F", "F"), "S": ("stride", "S", "S"),
    "P": ("padding", "P", "P"), "dilation": ("dilation", "", ""), "output_padding": ("output_padding", "", ""),
}


def notes_numbers(seed=SEED):
    """The notes' demo numbers, drawn exactly as the page's snippet draws them: X (5, 5, 3) in 0..2,
    W (2, 3, 3, 3) in -1..1, b = (1, 0)."""
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 3, size=(W1, W1, D1))
    W = rng.integers(-1, 2, size=(K, F, F, D1))
    return X, W, np.array(B)


def demo_data(seed=SEED):
    """What the page embeds: the notes' setting and numbers, the choices, the limits. No result: the
    browser computes every output, and the tests compare it with cnnref."""
    X, W, b = notes_numbers(seed)
    return {"setting": NOTES, "X": X.tolist(), "W": W.tolist(), "b": b.tolist(), "options": OPTIONS,
            "max_cells": MAX_CELLS, "random": RANDOM, "edit": EDIT, "labels": LABELS}


def _select(name, chosen):
    label, symbol, _ = LABELS[name]
    options = "".join(f'<option value="{v}"{" selected" if v == chosen else ""}>{v}</option>' for v in OPTIONS[name])
    hidden = " hidden" if name == "output_padding" else ""  # transposed mode only
    return (f'<label class="cnnref-setting"{hidden}><span>{label} <span class="cnnref-sym" data-sym="{name}">{symbol}'
            f'</span></span><select data-param="{name}" data-testid="demo-{name}">{options}</select></label>')


def demo_html(assets="assets/cnnref", data=None):
    """The demo's markup: the setting, the size line, the controls, a hint, the place the script draws into, and
    the scripts (`assets`: their folder, relative to the page), placed right after it: the demo is drawn
    before the rest of the page is laid out, so nothing below it moves when it appears."""
    d = demo_data() if data is None else data
    mode = ('<label class="cnnref-setting cnnref-setting--mode"><span>mode</span><select data-param="mode" '
            'data-testid="demo-mode"><option value="conv" selected>convolution</option>'
            '<option value="transposed">transposed convolution</option></select></label>')
    settings = ('<fieldset class="cnnref-settings" data-testid="demo-settings"><legend>Setting</legend>' + mode
                + "".join(_select(name, NOTES[name]) for name in OPTIONS) + "</fieldset>")
    controls = (
        '<div class="cnnref-controls" role="group" aria-label="Step through the outputs">'
        '<button type="button" class="md-button" data-action="prev" data-testid="demo-prev">'
        '<span aria-hidden="true">◀ </span>Back</button>'
        '<button type="button" class="md-button md-button--primary" data-action="play" data-testid="demo-play" '
        'aria-pressed="false">Play</button>'
        '<button type="button" class="md-button" data-action="next" data-testid="demo-next">'
        'Step<span aria-hidden="true"> ▶</span></button>'
        '<span class="cnnref-controls__pos" data-testid="demo-position"></span></div>'
        '<div class="cnnref-controls" role="group" aria-label="Numbers">'
        '<button type="button" class="md-button" data-action="random" data-testid="demo-random">Random numbers</button>'
        '<button type="button" class="md-button" data-action="reset" data-testid="demo-reset">Notes\' numbers</button>'
        "</div>"
    )
    hint = ('<p class="cnnref-demo__hint" data-testid="demo-hint">Choose an output cell (click it, or use the arrow '
            "keys on the output) to see how it is computed. Click a number of the input, a filter or a bias, or press "
            "Enter on it, to change it.</p>")
    source = (f'<p class="cnnref-demo__source">Every number is computed in your browser by <a href="{html.escape(assets)}'
              '/conv-demo-port.js">conv-demo-port.js</a>, a port of cnnref\'s conv2d_naive and conv_transpose2d.</p>')
    payload = json.dumps(d, separators=(",", ":")).replace("<", "\\u003c")  # never ends the <script>
    return (
        '<div class="cnnref-demo" data-testid="conv-demo" data-search-exclude>'
        f'<script type="application/json" class="cnnref-demo__data" data-testid="demo-data">{payload}</script>'
        f'{settings}<p class="cnnref-size" data-testid="demo-size-result"></p>{controls}{hint}'
        '<div class="cnnref-vols" data-testid="demo-vols"></div>'
        '<input class="cnnref-editor" type="number" inputmode="numeric" hidden data-testid="demo-editor" '
        f'min="{d["edit"][0]}" max="{d["edit"][1]}" step="1">'
        '<p class="cnnref-visually-hidden" aria-live="polite" data-testid="demo-live"></p>'
        f"{source}<noscript><p>The demo computes its numbers with JavaScript, which is turned off.</p></noscript></div>"
        + "".join(f'<script src="{html.escape(assets)}/{js}"></script>' for js in ("conv-demo-port.js", "conv-demo.js"))
    )

