"""The notes' convolution demo (CONV layer, W1 = H1 = 5, D1 = 3, K = 2, F = 3, S = 2, P = 1), computed by
cnnref at build time: `demo_data()` holds every number, `demo_html()` the markup that graphs/conv_demo.js
animates (page: CNN notes, /dl/cnn/conv-layer/#convolution-demo).

Stable hooks for the browser tests (data-testid unless noted):
  conv-demo            the demo's root (one per page); demo-data: its <script type="application/json">
  demo-prev / demo-next / demo-play   buttons; demo-play has aria-pressed="true" while playing
  demo-position        "output n of 18" (steps run k = 0, 1, then rows i, then columns j)
  demo-out-cell        the 18 output buttons, data-i/-j/-k; the current one has aria-current="true"
                       and class is-current; arrow keys, Home and End move between them
  demo-current         "V[i, j, k] = ...", with data-i/-j/-k of the current activation
  demo-products        27 spans demo-product (data-x, data-w, data-d; text "x×w"), depth slice by slice
  demo-sum, demo-bias, demo-value   sum of the products, the bias b[k], V[i, j, k] (= sum + bias)
  demo-live            the aria-live region announcing the current computation
  demo-bias-0/1        the biases' cells; td[data-vol="X_pad"|"W0"|"W1"][data-i][data-j][data-d] every
                       input and weight cell (class is-window on the current input window); data-vol "W0"
                       is the filter the demo labels W[0] (W[k, :, :, d] in cnnref's (K, F, F, D1) layout)
  demo-size-F/-S/-P    the hyperparameter selects; demo-size-result the answer, data-accepted="true"|"false"
  demo-hint            the line saying the output cells can be clicked or moved through with the arrow keys

The live region speaks on the reader's own actions (Step, Back, a chosen cell, Play, Pause), never on the
steps of autoplay. Colours: the window is blue, the filter orange (Okabe-Ito vermillion), the output green.
"""

import html
import json

import numpy as np

from cnnref import conv2d_naive, output_size, zero_pad

SEED = 231  # the input and the filters are seeded small integers, like cs231n's demo
W1, D1, K, F, S, P = 5, 3, 2, 3, 2, 1
B = (1, 0)  # biases b0 = 1, b1 = 0, as in the notes' demo
# The reader may try other hyperparameters: every (F, S, P) in this grid is looked up in a table
# computed by output_size (the page's script only looks up, it never re-implements the rule).
F_CHOICES, S_CHOICES, P_CHOICES = range(1, 8), range(1, 5), range(0, 4)


def _ints(A):
    """A as nested lists of Python ints (the values are whole numbers; refuse anything else)."""
    A = np.asarray(A)
    if not np.array_equal(A, np.round(A)):
        raise ValueError("the demo shows whole numbers only")
    return np.round(A).astype(int).tolist()


def size_table(W1=W1):
    """{"F,S,P": W2 or the ValueError message of output_size} over the demo's grid of choices."""
    table = {}
    for f in F_CHOICES:
        for s in S_CHOICES:
            for p in P_CHOICES:
                try:
                    table[f"{f},{s},{p}"] = output_size(W1, f, S=s, P=p)
                except ValueError as err:
                    table[f"{f},{s},{p}"] = str(err)
    return table


def size_formula(W1, F, S, P):
    """The formula of an accepted choice, written like output_size's refusals:
    "(W1 - F + 2P)/S + 1 = (5 - 3 + 2)/2 + 1 = 3" (raises output_size's ValueError for a refused one)."""
    W2 = output_size(W1, F, S=S, P=P)
    return f"(W1 - F + 2P)/S + 1 = ({W1} - {F} + {2 * P})/{S} + 1 = {W2}"


def size_messages(W1=W1):
    """{"F,S,P": what the demo prints}: the formula for an accepted choice, output_size's message for a refused one."""
    out = {}
    for key, answer in size_table(W1).items():
        f, s, p = (int(v) for v in key.split(","))
        out[key] = size_formula(W1, f, s, p) if isinstance(answer, int) else answer
    return out


def demo_data(seed=SEED):
    """Every number the demo shows: X (H1, W1, D1), X_pad, W (K, F, F, D1), b (K,), V (H2, W2, K)."""
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 3, size=(W1, W1, D1))  # (5, 5, 3), values 0..2
    W = rng.integers(-1, 2, size=(K, F, F, D1))  # (2, 3, 3, 3), values -1..1
    b = np.array(B)
    V = conv2d_naive(X.astype(float), W.astype(float), b.astype(float), S=S, P=P)  # (3, 3, 2)
    return {
        "W1": W1, "H1": W1, "D1": D1, "K": K, "F": F, "S": S, "P": P,
        "W2": output_size(W1, F, S=S, P=P),
        "X": _ints(X), "X_pad": _ints(zero_pad(X, P)), "W": _ints(W), "b": _ints(b), "V": _ints(V),
        "sizes": {"W1": W1, "F": list(F_CHOICES), "S": list(S_CHOICES), "P": list(P_CHOICES),
                  "table": size_table(W1), "messages": size_messages(W1)},
    }


def _grid(A, label, cls, attrs=lambda i, j: ""):
    """A 2-D array as a table of numbers (a depth slice)."""
    rows = []
    for i, row in enumerate(A):
        cells = "".join(f'<td{attrs(i, j)}>{v}</td>' for j, v in enumerate(row))
        rows.append(f"<tr>{cells}</tr>")
    return f'<table class="cnnref-grid {cls}" aria-label="{html.escape(label)}"><tbody>{"".join(rows)}</tbody></table>'


def _slices(A, name, cls, attrs):
    """Depth slices A[:, :, d] of a volume, each with its caption: name "X_pad" gives X_pad[:, :, d], and
    "W[k, " gives W[k, :, :, d] (filter k of W, shape (K, F, F, D1)), shown as [:, :, d] under the filter's
    title (narrow enough for a phone) with the full name as the table's label."""
    A = np.asarray(A)
    out = []
    for d in range(A.shape[2]):
        cap = f"{name}:, :, {d}]" if name.endswith(", ") else f"{name}[:, :, {d}]"
        shown = f"[:, :, {d}]" if name.endswith(", ") else cap
        out.append(f'<figure class="cnnref-slice"><figcaption>{shown}</figcaption>'
                   f"{_grid(A[:, :, d], cap, cls, lambda i, j, d=d: attrs(i, j, d))}</figure>")
    return "".join(out)


def demo_html(data=None):
    """The demo's markup: controls, a hint, the computation right under them, the three volumes, a live
    region, the output-size chooser and the data."""
    d = demo_data() if data is None else data
    n_pad = len(d["X_pad"])
    P_ = d["P"]

    def x_attrs(i, j, dd):
        pad = min(i, j) < P_ or max(i, j) >= n_pad - P_
        return f' data-vol="X_pad" data-i="{i}" data-j="{j}" data-d="{dd}"' + (' class="is-pad"' if pad else "")

    vols = [
        f'<div class="cnnref-vol cnnref-vol--input"><p class="cnnref-vol__title">Input {d["W1"]}×{d["H1"]}×{d["D1"]}, '
        f'zero-padded (P = {P_}) to {n_pad}×{n_pad}×{d["D1"]}</p><div class="cnnref-vol__slices">'
        + _slices(d["X_pad"], "X_pad", "cnnref-grid--input", x_attrs) + "</div></div>"
    ]
    for k in range(d["K"]):
        Wk = np.asarray(d["W"][k])  # (F, F, D1)
        vols.append(
            f'<div class="cnnref-vol cnnref-vol--filter" data-k="{k}"><p class="cnnref-vol__title">Filter W[{k}]: '
            f'{d["F"]}×{d["F"]}×{d["D1"]}</p><div class="cnnref-vol__slices">'
            + _slices(Wk, f"W[{k}, ", "cnnref-grid--filter",
                      lambda i, j, dd, k=k: f' data-vol="W{k}" data-i="{i}" data-j="{j}" data-d="{dd}"')
            + f'<figure class="cnnref-slice"><figcaption>b[{k}]</figcaption>'
            f'<table class="cnnref-grid cnnref-grid--bias" aria-label="bias b[{k}]"><tbody><tr>'
            f'<td data-testid="demo-bias-{k}">{d["b"][k]}</td></tr></tbody></table></figure></div></div>'
        )
    V = np.asarray(d["V"])  # (H2, W2, K)
    outs = []
    for k in range(d["K"]):
        rows = []
        for i in range(V.shape[0]):
            cells = "".join(
                f'<td><button type="button" class="cnnref-out" data-testid="demo-out-cell" data-i="{i}" '
                f'data-j="{j}" data-k="{k}" aria-label="output V[{i}, {j}, {k}] = {V[i, j, k]}">{V[i, j, k]}</button></td>'
                for j in range(V.shape[1]))
            rows.append(f"<tr>{cells}</tr>")
        cap = f"V[:, :, {k}]"
        outs.append(f'<figure class="cnnref-slice"><figcaption>{cap}</figcaption><table class="cnnref-grid '
                    f'cnnref-grid--output" aria-label="{cap}"><tbody>{"".join(rows)}</tbody></table></figure>')
    vols.append(f'<div class="cnnref-vol cnnref-vol--output"><p class="cnnref-vol__title">Output volume: '
                f'{d["W2"]}×{d["W2"]}×{d["K"]}</p><div class="cnnref-vol__slices">{"".join(outs)}</div></div>')

    opts = lambda name: "".join(  # noqa: E731
        f'<option value="{v}"{" selected" if v == d[name] else ""}>{v}</option>' for v in d["sizes"][name])
    sizes = (
        '<fieldset class="cnnref-sizes" data-testid="demo-sizes"><legend>Output size for other hyperparameters '
        f'(W1 = {d["W1"]})</legend><p class="cnnref-sizes__note">These choices only compute the output size with '
        f'output_size; the demo above stays at F = {d["F"]}, S = {d["S"]}, P = {d["P"]}.</p>'
        + "".join(f'<label>{n} <select data-testid="demo-size-{n}" data-param="{n}">{opts(n)}</select></label>'
                  for n in ("F", "S", "P"))
        + '<p class="cnnref-sizes__result" data-testid="demo-size-result" aria-live="polite"></p></fieldset>'
    )
    controls = (
        '<div class="cnnref-controls" role="group" aria-label="Demo controls">'
        '<button type="button" class="md-button" data-action="prev" data-testid="demo-prev">'
        '<span aria-hidden="true">◀ </span>Back</button>'
        '<button type="button" class="md-button md-button--primary" data-action="play" data-testid="demo-play" '
        'aria-pressed="false">Play</button>'
        '<button type="button" class="md-button" data-action="next" data-testid="demo-next">'
        'Step<span aria-hidden="true"> ▶</span></button>'
        '<span class="cnnref-controls__pos" data-testid="demo-position"></span></div>'
    )
    calc = (
        '<div class="cnnref-calc" data-testid="demo-calc">'
        '<p class="cnnref-calc__head" data-testid="demo-current"></p>'
        '<ol class="cnnref-calc__products" data-testid="demo-products"></ol>'
        '<p class="cnnref-calc__total">sum of products <strong data-testid="demo-sum"></strong> '
        '+ bias <strong data-testid="demo-bias"></strong> = '
        '<strong class="cnnref-calc__value" data-testid="demo-value"></strong></p></div>'
    )
    n_out = int(V.size)
    hint = (f'<p class="cnnref-demo__hint" data-testid="demo-hint">Click any of the {n_out} output cells (or use '
            "the arrow keys on them) to see how it is computed; Play steps through them all.</p>")
    payload = json.dumps(d, separators=(",", ":")).replace("<", "\\u003c")  # never ends the <script>
    return (
        '<div class="cnnref-demo" data-testid="conv-demo" data-search-exclude>'
        f'<script type="application/json" class="cnnref-demo__data" data-testid="demo-data">{payload}</script>'
        f'{controls}{hint}{calc}<div class="cnnref-vols">{"".join(vols)}</div>'
        '<p class="cnnref-visually-hidden" aria-live="polite" data-testid="demo-live"></p>'
        f"{sizes}</div>"
    )
