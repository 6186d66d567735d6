"""The convolution demo on the notes' Convolutional Layer page, in headless Chromium, against cnnref.

The page computes every number with conv-demo-port.js, a JavaScript port of conv2d_naive and
conv_transpose2d. These tests compare it with cnnref, exactly (the numbers are integers):
- the port itself, evaluated in the page over a grid of settings: every F, S, P, dilation and
  output_padding the demo offers, at several input sizes and depths, with random integers; each result
  against conv2d_naive / conv_transpose2d, each refusal against output_size's own message;
- the demo, driven through its controls over a sample of settings: every number the page shows (the
  input, the padded or stretched input, the filters, the biases, every output and, for each output, its
  window, products, partial sums, sum, bias and value) against cnnref and NumPy;
- the notes' numbers, the keyboard, editing, the live region, the phone layout, layout shift and axe.
"""

import json
import re

import numpy as np
import pytest
from sitecheck import AXE, AXE_TAGS, LIGHTHOUSE_RULES, settle

from cnnref import conv2d_naive, conv_transpose2d, output_size, zero_pad
from graphs.conv_demo import MAX_CELLS, NOTES, OPTIONS, notes_numbers

PAGE = "/dl/cnn/conv-layer/"  # the demo replaces <!-- cnnref:conv-demo --> on the notes' Convolutional Layer page
DEMO = '[data-testid="conv-demo"]'
PHONE = {"width": 375, "height": 667}  # a small phone (iPhone SE)


# --- Opening the page -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tab(browser, server):
    """One page at the notes for the module (the tests below start from the notes' numbers); its clock is
    the tests' (Play runs on a fake clock), requests to other hosts are refused and recorded."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    outside, errors = [], []
    context.route(lambda url: not url.startswith(server.url), lambda route: (outside.append(route.request.url), route.abort()))
    page = context.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.clock.install()
    page.goto(server.url + PAGE.lstrip("/"), wait_until="load")
    count = page.locator(DEMO).count()
    if count != 1:
        context.close()
        pytest.fail(f"{PAGE}: expected one convolution demo ({DEMO}), found {count}", pytrace=False)
    yield page
    context.close()
    assert not errors, f"{PAGE}: JavaScript errors while using the demo: {errors}"
    assert not outside, f"{PAGE}: the demo asked other hosts for {outside}"


@pytest.fixture
def demo(tab):
    """The demo at the notes' setting and numbers, nothing focused, not playing; yields (page, root)."""
    tab.locator(f'{DEMO} [data-testid="demo-reset"]').click()
    tab.evaluate("() => document.activeElement && document.activeElement.blur()")
    root = tab.locator(DEMO).element_handle()
    yield tab, root
    if tab.locator(f'{DEMO} [data-testid="demo-play"]').get_attribute("aria-pressed") == "true":
        tab.locator(f'{DEMO} [data-testid="demo-play"]').click()


CHOOSE_JS = r"""
([root, setting]) => {
  for (const [name, value] of setting) {
    const select = root.querySelector(`select[data-param="${name}"]`);
    if (![...select.options].some((o) => o.value === String(value))) throw new Error(`${name} does not offer ${value}`);
    select.value = String(value);
    select.dispatchEvent(new Event('change', {bubbles: true}));  // what a choice in the list fires
  }
}
"""


def choose(page, **setting):
    """Set the demo's selects as a reader does, one after another, mode first (switching mode maps the depths
    and the size to the other mode). One round trip: a select_option each would cost seconds per setting."""
    order = sorted(setting.items(), key=lambda item: item[0] != "mode")
    page.evaluate(CHOOSE_JS, [page.locator(DEMO).element_handle(), order])


# --- What the page shows ------------------------------------------------------------------------------------

# Everything the demo shows for its current output: read from the page.
STATE_JS = r"""
(root) => {
  const q = (s) => root.querySelector(`[data-testid="${s}"]`);
  const head = q('demo-current');
  return {
    head: [+head.dataset.i, +head.dataset.j, +head.dataset.k], text: head.textContent,
    current: [...root.querySelectorAll('[data-testid="demo-out-cell"][aria-current="true"]')].map(b => [+b.dataset.i, +b.dataset.j, +b.dataset.k]),
    window: [...root.querySelectorAll('.cnnref-vol--input td.is-window')].map(td => [+td.dataset.i, +td.dataset.j, +td.dataset.d]),
    filters: [...root.querySelectorAll('.cnnref-filter.is-active')].map(f => +f.dataset.k),
    rows: [...q('demo-products').children].map(li => ({
      products: [...li.querySelectorAll('[data-testid="demo-product"]')].map(p => p.textContent.trim()),
      part: li.querySelector('.cnnref-calc__part').textContent.trim()})),
    sum: q('demo-sum').textContent.trim(), bias: q('demo-bias').textContent.trim(),
    value: q('demo-value').textContent.trim(), position: q('demo-position').textContent.trim(),
    live: q('demo-live').textContent.trim(),
  };
}
"""

# Every number the demo shows, and its computation for every output (each chosen in turn, as a click does).
SHOWN_JS = r"""
(root) => {
  const state = %s;
  const cells = (vol) => [...root.querySelectorAll(`td[data-vol="${vol}"]`)].map(td => ({
    i: +td.dataset.i, j: +td.dataset.j, d: +td.dataset.d, k: +td.dataset.k, src: td.dataset.src || null, text: td.textContent.trim(),
    unused: td.classList.contains('is-unused')}));
  const size = root.querySelector('[data-testid="demo-size-result"]');
  const out = {size: size.textContent, accepted: size.dataset.accepted, Y: cells('Y'), X_pad: cells('X_pad'), Z: cells('Z'),
               W: cells('W'), b: cells('b'), outputs: [], steps: []};
  for (const b of root.querySelectorAll('[data-testid="demo-out-cell"]')) {
    out.outputs.push([+b.dataset.i, +b.dataset.j, +b.dataset.k, b.textContent.trim()]);
    b.click();
    out.steps.push(state(root));
  }
  return JSON.stringify(out);
}
""" % STATE_JS.strip()


def everything(page, root):
    """Every number the demo shows, and each output's computation (as JSON text: it is large)."""
    return json.loads(page.evaluate(SHOWN_JS, root))

PRODUCT = re.compile(r"^(-?\d+)×\(?(-?\d+)\)?$")
INDEX = re.compile(r"^(\w)\[([\d, ]+)\]$")


def dims(shape) -> str:
    return "×".join(map(str, shape))


def num(value) -> str:
    """How the page writes a whole number."""
    assert float(value).is_integer(), f"the demo's numbers are whole, got {value}"
    return str(int(value))


def numbers_from_sources(shown, setting):
    """X (or Y), W and b as the page holds them: each editable number names its entry in data-src."""
    t = setting
    shape_W = (t["D_out"], t["F"], t["F"], t["D_in"]) if t["mode"] == "conv" else (t["D_in"], t["F"], t["F"], t["D_out"])
    arrays = {"X": np.full((t["n"], t["n"], t["D_in"]), np.nan), "W": np.full(shape_W, np.nan), "b": np.full(t["D_out"], np.nan)}
    for cell in shown["X_pad"] + shown["Y"] + shown["W"] + shown["b"]:
        if cell["src"]:
            name, index = INDEX.match(cell["src"]).groups()
            arrays["X" if name == "Y" else name][tuple(int(v) for v in index.split(", "))] = int(cell["text"])
    for name, A in arrays.items():
        assert not np.isnan(A).any(), f"{PAGE} demo {setting}: {name} {A.shape} is not shown whole: {A}"
    return arrays["X"].astype(int), arrays["W"].astype(int), arrays["b"].astype(int)


def stretched(Y, S, pad, output_padding):
    """The guide's picture of a transposed convolution's input, built with NumPy: Y's entries S apart, a border
    of `pad` zeros (cropped when negative), output_padding more zeros at the bottom and right."""
    H2, W2, K = Y.shape
    big = max(0, -pad)
    Z = np.zeros((S * (H2 - 1) + 1 + 2 * (pad + big) + output_padding, S * (W2 - 1) + 1 + 2 * (pad + big) + output_padding, K),
                 dtype=int)
    Z[pad + big : pad + big + S * (H2 - 1) + 1 : S, pad + big : pad + big + S * (W2 - 1) + 1 : S] = Y
    return Z[big : Z.shape[0] - big, big : Z.shape[1] - big]


def check_demo(shown, setting, where):
    """Every number of one setting of the demo against cnnref; returns how many numbers were compared."""
    t, name = setting, f"{PAGE} demo, {where} {setting}"
    X, W, b = numbers_from_sources(shown, t)
    compared = X.size + W.size + b.size
    if t["mode"] == "conv":
        try:
            H2 = output_size(t["n"], t["F"], S=t["S"], P=t["P"], dilation=t["dilation"])
            exact = True
        except ValueError as refused:
            assert shown["accepted"] == "false" and f"Refused: {refused}." in shown["size"], (
                f"{name}: shows {shown['size']!r}; output_size refuses with {refused}")
            exact = False
            try:
                H2 = output_size(t["n"], t["F"], S=t["S"], P=t["P"], dilation=t["dilation"], exact=False)
            except ValueError:
                assert "PyTorch refuses it too" in shown["size"] and not shown["outputs"], f"{name}: {shown['size']!r}"
                return compared
            dropped = t["n"] + 2 * t["P"] - ((H2 - 1) * t["S"] + t["dilation"] * (t["F"] - 1) + 1)
            assert f"exact=False floors it to {H2}" in shown["size"] and f"the last {dropped} row" in shown["size"], (
                f"{name}: the floor rule's size {H2} (dropping {dropped}) is not in {shown['size']!r}")
            hatched = {(c["i"], c["j"]) for c in shown["X_pad"] if c["unused"]}
            N = t["n"] + 2 * t["P"]
            assert hatched == {(i, j) for i in range(N) for j in range(N) if max(i, j) >= N - dropped}, (
                f"{name}: hatched cells of X_pad {sorted(hatched)}, the floor drops the last {dropped}")
        else:
            n, F, S, P, d = t["n"], t["F"], t["S"], t["P"], t["dilation"]
            rule = (f"({n} - {F} + {2 * P})/{S} + 1" if d == 1 else f"({n} - {d} ({F} - 1) - 1 + {2 * P})/{S} + 1")
            assert shown["accepted"] == "true" and f"{rule} = {H2}, an output of {H2}×{H2}×{t['D_out']}." in shown["size"], (
                f"{name}: shows {shown['size']!r}; output_size gives {rule} = {H2}")
        V = conv2d_naive(X, W, b, S=t["S"], P=t["P"], dilation=t["dilation"], exact=exact)
        A, filters, stride = zero_pad(X, t["P"]), W, t["S"]
        drawn = shown["X_pad"]
    else:
        try:
            V = conv_transpose2d(Y := X, W, b, S=t["S"], P=t["P"], output_padding=t["output_padding"], dilation=t["dilation"])
        except ValueError as refused:
            assert shown["accepted"] == "false" and f"Refused: {refused}." in shown["size"], (
                f"{name}: shows {shown['size']!r}; conv_transpose2d refuses with {refused}")
            assert not shown["outputs"], f"{name}: outputs shown for a refused setting"
            return compared
        pad = t["dilation"] * (t["F"] - 1) - t["P"]
        A = stretched(Y, t["S"], pad, t["output_padding"])
        filters, stride, drawn = W[:, ::-1, ::-1, :].transpose(3, 1, 2, 0), 1, shown["Z"]  # (D1, F, F, K)
        if A.shape[0] > MAX_CELLS:
            assert f"Z would be {A.shape[0]} cells wide" in shown["size"] and not shown["outputs"] and not drawn, (
                f"{name}: Z is {A.shape[0]} wide, more than the demo draws ({MAX_CELLS}): {shown['size']!r}")
            return compared
        rule = f"{t['S']} ({t['n']} - 1) + {t['dilation']} ({t['F']} - 1) + 1 - {2 * t['P']} + {t['output_padding']}"
        assert shown["accepted"] == "true" and f"{rule} = {V.shape[0]}, an output of {dims(V.shape)}." in shown["size"], (
            f"{name}: shows {shown['size']!r}; conv_transpose2d gives {V.shape}")
    assert V.shape[0] == V.shape[1] and V.shape[0] <= MAX_CELLS

    # the drawn input and filters, cell by cell
    got = sorted((c["i"], c["j"], c["d"], c["text"]) for c in drawn)
    assert got == sorted((i, j, d, num(v)) for (i, j, d), v in np.ndenumerate(A)), f"{name}: the drawn input is not {A.shape}: {got}"
    got = sorted((c["k"], c["i"], c["j"], c["d"], c["text"]) for c in shown["W"])
    assert got == sorted((k, i, j, d, num(v)) for (k, i, j, d), v in np.ndenumerate(filters)), f"{name}: the drawn filters"
    compared += A.size + filters.size
    if t["mode"] == "transposed" or exact:
        assert not any(c["unused"] for c in drawn), f"{name}: hatched cells where every row and column is used"

    # every output, and for each its window, products, sums, bias and value
    want = sorted((i, j, k, num(v)) for (i, j, k), v in np.ndenumerate(V))
    assert sorted(map(tuple, shown["outputs"])) == want, f"{name}: outputs {shown['outputs']}, cnnref gives {want}"
    assert len(shown["steps"]) == V.size
    F, d = t["F"], t["dilation"]
    for (i, j, k, _), st in zip(shown["outputs"], shown["steps"], strict=True):
        at = f"{name}, V[{i}, {j}, {k}]"
        assert st["head"] == [i, j, k] and st["current"] == [[i, j, k]] and st["filters"] == [k], f"{at}: shows {st}"
        rows, cols = i * stride + d * np.arange(F), j * stride + d * np.arange(F)
        window = A[np.ix_(rows, cols)]  # (F, F, D): the taps
        taps = sorted([int(y), int(x), dd] for y in rows for x in cols for dd in range(A.shape[2]))
        assert sorted(st["window"]) == taps, f"{at}: highlighted input cells {sorted(st['window'])}, the taps are {taps}"
        assert len(st["rows"]) == A.shape[2], f"{at}: {len(st['rows'])} rows of products, expected one per depth slice"
        for dd, row in enumerate(st["rows"]):
            pairs = [PRODUCT.match(p) for p in row["products"]]
            assert all(pairs), f"{at}: unreadable products at depth {dd}: {row['products']}"
            got = [(int(m[1]), int(m[2])) for m in pairs]
            assert got == [(int(window[a, c, dd]), int(filters[k, a, c, dd])) for a in range(F) for c in range(F)], (
                f"{at}: products x×w at depth {dd}: {got}")
            assert row["part"] == f"= {num((window[:, :, dd] * filters[k, :, :, dd]).sum())}", f"{at}: depth {dd}: {row['part']}"
        assert (st["sum"], st["bias"], st["value"]) == (num(V[i, j, k] - b[k]), num(b[k]), num(V[i, j, k])), (
            f"{at}: sum {st['sum']} + bias {st['bias']} = {st['value']}; cnnref: {num(V[i, j, k] - b[k])} + {b[k]} = {V[i, j, k]}")
        compared += 2 * F * F * A.shape[2] + A.shape[2] + 3
    return compared + V.size


# --- The port, evaluated in the page over a grid of settings --------------------------------------------

# Cases go in and results come back as JSON text: Playwright's own serialisation of nested lists takes seconds.
PORT_JS = r"""
(json) => JSON.stringify(JSON.parse(json).map((c) => {
  try {
    if (c.mode === 'conv') return {V: cnnrefConv.conv2dNaive(c.X, c.W, c.b, c.S, c.P, c.dilation, c.exact)};
    return {V: cnnrefConv.convTranspose2d(c.X, c.W, c.b, c.S, c.P, c.output_padding, c.dilation)};
  } catch (e) { return {error: e.message}; }
}))
"""
SIZE_JS = r"""
(json) => JSON.stringify(JSON.parse(json).map((c) => {
  try { return {size: cnnrefConv.outputSize(...c)}; } catch (e) { return {error: e.message}; }
}))
"""


def in_page(page, script, cases):
    return json.loads(page.evaluate(script, json.dumps(cases)))


def grid(mode, sizes, dilations, seed):
    """Cases: every (F, S, P, dilation[, output_padding]) offered, at each input size, with random integers
    and depths."""
    rng = np.random.default_rng(seed)
    cases = []
    pads = OPTIONS["output_padding"] if mode == "transposed" else [0]
    for n in sizes:
        for F in OPTIONS["F"]:
            for S in OPTIONS["S"]:
                for P in OPTIONS["P"]:
                    for dilation in dilations:
                        for a in pads:
                            D_in, D_out = rng.choice(OPTIONS["D_in"]), rng.choice(OPTIONS["D_out"])
                            W_shape = (D_out, F, F, D_in) if mode == "conv" else (D_in, F, F, D_out)
                            cases.append({"mode": mode, "n": n, "F": F, "S": S, "P": P, "dilation": dilation,
                                          "output_padding": a, "exact": True,
                                          "X": rng.integers(-3, 4, size=(n, n, D_in)).tolist(),
                                          "W": rng.integers(-3, 4, size=W_shape).tolist(),
                                          "b": rng.integers(-3, 4, size=D_out).tolist()})
    return cases


def run_grid(page, cases):
    """Each case through the port in the page and through cnnref; returns (settings, numbers) compared."""
    results = in_page(page, PORT_JS, cases)
    wrong, numbers = [], 0
    for c, got in zip(cases, results, strict=True):
        X, W, b = (np.array(c[k]) for k in ("X", "W", "b"))
        try:
            if c["mode"] == "conv":
                want = conv2d_naive(X, W, b, S=c["S"], P=c["P"], dilation=c["dilation"], exact=c["exact"])
            else:
                want = conv_transpose2d(X, W, b, S=c["S"], P=c["P"], output_padding=c["output_padding"], dilation=c["dilation"])
        except ValueError as refused:
            if got.get("error") != str(refused):
                wrong.append(f"{ {k: c[k] for k in ('mode', 'n', 'F', 'S', 'P', 'dilation', 'output_padding', 'exact')} }: "
                             f"the port says {got}, cnnref refuses: {refused}")
            numbers += 1
            continue
        if "V" not in got or not np.array_equal(np.array(got["V"]).reshape(want.shape), want):
            wrong.append(f"{ {k: c[k] for k in ('mode', 'n', 'F', 'S', 'P', 'dilation', 'output_padding', 'exact')} }: "
                         f"the port gives {got}, cnnref {want.tolist()}")
        numbers += want.size
    assert not wrong, f"{len(wrong)} of {len(cases)} settings differ:" + "".join(f"\n  - {w}" for w in wrong[:10])
    return len(cases), numbers


def test_port_conv2d_naive_equals_cnnref_for_every_f_s_p(tab):
    settings, numbers = run_grid(tab, grid("conv", sizes=OPTIONS["n"], dilations=[1], seed=0))
    assert settings == 7 * 5 * 3 * 4 and numbers > 10_000, (settings, numbers)


def check_sizes(page, dilations, exacts):
    """Every (W1, F, S, P) the demo offers with these dilations: the port's size or refusal is output_size's."""
    args = [[n, F, S, P, d, exact] for n in OPTIONS["n"] for F in OPTIONS["F"] for S in OPTIONS["S"] for P in OPTIONS["P"]
            for d in dilations for exact in exacts]
    wrong = []
    for (n, F, S, P, d, exact), got in zip(args, in_page(page, SIZE_JS, args), strict=True):
        try:
            want = {"size": output_size(n, F, S=S, P=P, dilation=d, exact=exact)}
        except ValueError as refused:
            want = {"error": str(refused)}
        if got != want:
            wrong.append(f"W1={n} F={F} S={S} P={P} dilation={d} exact={exact}: port {got}, cnnref {want}")
    assert not wrong, f"{len(wrong)} of {len(args)} differ:" + "".join(f"\n  - {w}" for w in wrong[:10])
    return len(args)


def test_port_output_size_refuses_with_cnnrefs_words(tab):
    assert check_sizes(tab, [1], [True]) == 7 * 5 * 3 * 4


def test_port_output_size_with_dilation_and_the_floor_rule(tab):
    assert check_sizes(tab, OPTIONS["dilation"], [True, False]) == 7 * 5 * 3 * 4 * 3 * 2


def test_port_dilation_and_floor_rule_equal_cnnref(tab):
    cases = grid("conv", sizes=[1, 3, 5, 7], dilations=OPTIONS["dilation"], seed=1)
    cases += [dict(c, exact=False) for c in grid("conv", sizes=[1, 3, 5, 7], dilations=OPTIONS["dilation"], seed=2)]
    settings, numbers = run_grid(tab, cases)
    assert settings == 2 * 4 * 5 * 3 * 4 * 3 and numbers > 20_000, (settings, numbers)


def test_port_conv_transpose2d_equals_cnnref(tab):
    """Inputs up to 4 x 4 (S <= 3 stretches them to 10): larger ones are wider than the demo draws, and
    seconds of compute here."""
    settings, numbers = run_grid(tab, grid("transposed", sizes=[1, 2, 3, 4], dilations=OPTIONS["dilation"], seed=3))
    assert settings == 4 * 5 * 3 * 4 * 3 * 3 and numbers > 100_000, (settings, numbers)


# --- The demo, driven through its controls ----------------------------------------------------------------

CONV_SAMPLE = [  # convolution: accepted, floored and refused, the largest output, dilation, depth 1 and 3
    dict(n=7, D_in=2, D_out=1, F=1, S=1, P=3, dilation=1),
    dict(n=6, D_in=2, D_out=1, F=5, S=1, P=2, dilation=1),
    dict(n=4, D_in=2, D_out=2, F=2, S=2, P=0, dilation=1),
    dict(n=1, D_in=1, D_out=1, F=1, S=1, P=0, dilation=1),
    dict(n=3, D_in=3, D_out=3, F=3, S=3, P=0, dilation=1),
]
DILATED_SAMPLE = [  # dilation, the floor rule (exact=False) and what PyTorch refuses too
    dict(n=5, D_in=3, D_out=2, F=4, S=2, P=1, dilation=1),  # (5 - 4 + 2)/2 + 1 = 2.5: floored to 2
    dict(n=6, D_in=1, D_out=1, F=3, S=3, P=1, dilation=1),  # 8/3 + 1: floored, two rows dropped
    dict(n=2, D_in=1, D_out=2, F=5, S=1, P=0, dilation=1),  # the filter is larger than the padded input
    dict(n=7, D_in=3, D_out=2, F=3, S=2, P=0, dilation=2),
    dict(n=5, D_in=2, D_out=1, F=2, S=1, P=3, dilation=3),
    dict(n=6, D_in=1, D_out=2, F=3, S=3, P=1, dilation=2),  # floored
    dict(n=5, D_in=2, D_out=2, F=3, S=1, P=0, dilation=3),  # a span of 7 is larger than the padded 5
]
TRANSPOSED_SAMPLE = [
    dict(n=3, D_in=1, D_out=2, F=3, S=2, P=0, dilation=1, output_padding=1),
    dict(n=2, D_in=2, D_out=1, F=3, S=1, P=0, dilation=2, output_padding=0),
    dict(n=3, D_in=2, D_out=2, F=1, S=2, P=1, dilation=1, output_padding=0),  # pad -1: the picture is cropped
    dict(n=4, D_in=1, D_out=1, F=4, S=3, P=3, dilation=1, output_padding=2),
    dict(n=3, D_in=1, D_out=1, F=3, S=2, P=1, dilation=1, output_padding=2),  # refused: output_padding >= max(S, dilation)
    dict(n=1, D_in=1, D_out=1, F=1, S=1, P=1, dilation=1, output_padding=0),  # refused: an empty output
    dict(n=5, D_in=1, D_out=1, F=5, S=3, P=0, dilation=1, output_padding=0),  # valid, but Z is 21 cells wide
]


def drive(page, root, settings, mode):
    compared = 0
    for setting in settings:
        choose(page, mode=mode, **setting)
        page.locator(f'{DEMO} [data-testid="demo-random"]').click()
        shown = everything(page, root)
        compared += check_demo(shown, {"mode": mode, "output_padding": 0, **setting}, "after choosing")
    return compared


def test_demo_shows_cnnrefs_numbers_for_a_sample_of_settings(demo):
    page, root = demo
    assert drive(page, root, CONV_SAMPLE, "conv") > 2000


def test_demo_with_dilation_and_the_floor_rule(demo):
    page, root = demo
    assert drive(page, root, DILATED_SAMPLE, "conv") > 500


def test_demo_transposed_mode(demo):
    page, root = demo
    assert drive(page, root, TRANSPOSED_SAMPLE, "transposed") > 300


def test_transposed_mode_maps_the_notes_output_back_with_the_same_filters(demo):
    """Switching mode keeps W: the notes' 3x3x2 output size maps back to 5x5x3 (and a floored size comes back
    with output_padding)."""
    page, root = demo
    before = everything(page, root)
    page.locator(f'{DEMO} select[data-param="mode"]').select_option("transposed")  # as a reader picks it
    values = {name: int(page.locator(f'{DEMO} select[data-param="{name}"]').input_value()) for name in OPTIONS}
    assert values == dict(n=3, D_in=2, D_out=3, F=3, S=2, P=1, dilation=1, output_padding=0), values
    shown = everything(page, root)
    setting = {"mode": "transposed", **values}
    check_demo(shown, setting, "transposed, from the notes' setting")
    assert sorted((c["src"], c["text"]) for c in before["W"]) == sorted((c["src"], c["text"]) for c in shown["W"])
    assert {tuple(o[:3]) for o in shown["outputs"]} == set(np.ndindex(5, 5, 3))
    choose(page, mode="conv", F=4)
    choose(page, mode="transposed")
    assert page.locator(f'{DEMO} select[data-param="output_padding"]').input_value() == "1"
    assert page.locator(f'{DEMO} select[data-param="n"]').input_value() == "2"
    assert "an output of 5×5×3" in page.locator(f'{DEMO} [data-testid="demo-size-result"]').inner_text()


# --- The notes' numbers -------------------------------------------------------------------------------------


def test_demo_opens_on_the_notes_setting_and_numbers(demo):
    """The demo starts from the numbers the page's snippet draws (graphs.conv_demo.notes_numbers, tied to the
    snippet by tests/test_graphs.py), and shows conv2d_naive's output for them."""
    page, root = demo
    shown = everything(page, root)
    setting = {"mode": "conv", **{k: NOTES[k] for k in OPTIONS}}
    X, W, b = numbers_from_sources(shown, setting)
    X0, W0, b0 = notes_numbers()
    assert np.array_equal(X, X0) and np.array_equal(W, W0) and np.array_equal(b, b0), f"{PAGE} demo: not the notes' numbers"
    check_demo(shown, setting, "at the notes' setting")


# --- Stepping, playing, the live region -----------------------------------------------------------------


def state(page, root):
    return page.evaluate(STATE_JS, root)


def position(shown):
    m = re.search(r"(\d+) of (\d+)", shown["position"])
    assert m, f"{PAGE} demo: no 'n of N' position in {shown['position']!r}"
    return int(m[1]), int(m[2])


def test_step_back_and_the_live_region(demo):
    page, root = demo
    step = page.locator(f'{DEMO} [data-testid="demo-next"]')
    first = state(page, root)
    start, total = position(first)
    seen = [tuple(first["head"])]
    for n in range(1, total + 1):
        step.click()
        shown = state(page, root)
        seen.append(tuple(shown["head"]))
        assert position(shown)[0] == (start + n - 1) % total + 1
        assert f"gives {shown['value']}." in shown["live"], f"{PAGE} demo: the live region says {shown['live']!r}"
    assert sorted(seen[:-1]) == sorted(np.ndindex(3, 3, 2)) and seen[-1] == seen[0]
    page.locator(f'{DEMO} [data-testid="demo-prev"]').click()
    assert position(state(page, root))[0] == total, f"{PAGE} demo: Back from the first output goes to the last"


def test_play_pause_and_silence_during_autoplay(demo):
    page, root = demo
    play = page.locator(f'{DEMO} [data-testid="demo-play"]')
    start = position(state(page, root))[0]
    page.clock.run_for(5000)
    assert position(state(page, root))[0] == start, f"{PAGE} demo: moved without Play"
    play.click()
    assert play.get_attribute("aria-pressed") == "true" and "pause" in play.inner_text().lower()
    said = state(page, root)["live"]
    assert "Playing" in said
    seen = set()
    for _ in range(4):
        page.clock.run_for(1500)
        shown = state(page, root)
        seen.add(tuple(shown["head"]))
        assert shown["live"] == said, f"{PAGE} demo: the live region spoke during autoplay: {shown['live']!r}"
    assert len(seen) == 4, f"{PAGE} demo: 6 s of play showed {sorted(seen)}"
    play.click()
    assert play.get_attribute("aria-pressed") == "false" and state(page, root)["live"].startswith("Paused.")
    paused = position(state(page, root))[0]
    page.clock.run_for(10_000)
    assert position(state(page, root))[0] == paused, f"{PAGE} demo: still moving after Pause"


# --- Keyboard ------------------------------------------------------------------------------------------------

FOCUS_JS = r"""
() => {
  const el = document.activeElement, style = getComputedStyle(el);
  return {nav: el.dataset.nav || null, testid: el.dataset.testid || el.tagName, src: el.dataset.src || null,
          visible: el.matches(':focus-visible') && style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
          outline: `${style.outlineStyle} ${style.outlineWidth}`};
}
"""


def focus(page):
    return page.evaluate(FOCUS_JS)


def test_each_grid_is_one_tab_stop_with_visible_focus(demo):
    page, root = demo
    page.locator(f'{DEMO} [data-testid="demo-reset"]').focus()
    stops = []
    for _ in range(4):
        page.keyboard.press("Tab")
        stops.append(focus(page))
    groups = [(s["nav"] or "").split(",")[0] or s["testid"] for s in stops]
    assert groups[:3] == ["in", "out", "W"], f"{PAGE} demo: Tab from the buttons reached {groups}, not input, output, filters"
    assert stops[3]["nav"] is None, f"{PAGE} demo: a fourth Tab stayed in a grid: {stops[3]}"
    assert all(s["visible"] for s in stops[:3]), f"{PAGE} demo: no visible focus on {stops[:3]}"
    assert stops[1]["nav"] == "out,0,0,0", "the output grid's Tab stop is the current output"
    page.keyboard.press("Shift+Tab")
    assert focus(page)["nav"].startswith("W,"), "Shift+Tab goes back into the filters"


def test_arrow_keys_move_inside_the_output_and_show_each_computation(demo):
    page, root = demo
    page.locator(f'{DEMO} [data-nav="out,0,0,0"]').focus()
    for key, (k, i, j) in [("ArrowRight", (0, 0, 1)), ("ArrowDown", (0, 1, 1)), ("End", (0, 2, 2)), ("ArrowRight", (1, 2, 0)),
                           ("ArrowUp", (1, 1, 0)), ("ArrowLeft", (0, 1, 2)), ("Home", (0, 0, 0)), ("ArrowLeft", (0, 0, 0))]:
        page.keyboard.press(key)
        f = focus(page)
        assert f["nav"] == f"out,{k},{i},{j}" and f["visible"], f"{PAGE} demo: {key} moved focus to {f}, expected V[{i}, {j}, {k}]"
        shown = state(page, root)
        assert shown["head"] == [i, j, k] and shown["current"] == [[i, j, k]], f"{PAGE} demo: after {key}: {shown['head']}"
        assert f"V[{i}, {j}, {k}]" in shown["live"], f"{PAGE} demo: {key} was not announced: {shown['live']!r}"
    page.keyboard.press("Tab")
    assert focus(page)["nav"].startswith("W,"), "one Tab leaves the output grid"


def test_arrow_keys_cross_depth_slices_of_the_input_and_filters(demo):
    page, root = demo
    page.locator(f'{DEMO} [data-nav="in,0,0,4"]').focus()
    page.keyboard.press("ArrowRight")
    assert focus(page)["src"] == "X[0, 0, 1]", "past the right edge of X's depth slice 0, its slice 1"
    page.keyboard.press("End")
    assert focus(page)["src"] == "X[4, 4, 1]"
    page.locator(f'{DEMO} [data-nav="W,2,1,2"]').focus()  # W[0, 1, 2, 2]
    page.keyboard.press("ArrowRight")
    assert focus(page)["src"] == "b[0]", "after W[0]'s last slice, its bias"
    page.keyboard.press("ArrowRight")
    assert focus(page)["src"] == "W[1, 0, 0, 0]", "after b[0], the next filter (row clamped to the bias's one row)"


# --- Editing -------------------------------------------------------------------------------------------------


def test_editing_a_number_recomputes_every_output(demo):
    page, root = demo
    cell = page.locator(f'{DEMO} td[data-src="X[1, 1, 0]"]')
    cell.click()
    editor = page.locator(f'{DEMO} [data-testid="demo-editor"]')
    assert editor.is_visible() and editor.evaluate("e => e === document.activeElement")
    assert editor.get_attribute("aria-label").startswith("X[1, 1, 0]")
    editor.fill("-7")
    page.keyboard.press("Enter")
    assert editor.is_hidden() and focus(page)["src"] == "X[1, 1, 0]", "Enter closes the field and returns to the cell"
    assert cell.inner_text() == "-7"
    assert "X[1, 1, 0] is now -7" in state(page, root)["live"]
    # the keyboard: type a digit on a focused weight, Escape leaves a number as it was
    page.locator(f'{DEMO} td[data-src="W[1, 2, 0, 2]"]').focus()
    page.keyboard.press("5")
    page.keyboard.press("Enter")
    assert page.locator(f'{DEMO} td[data-src="W[1, 2, 0, 2]"]').inner_text() == "5"
    page.locator(f'{DEMO} td[data-src="b[1]"]').focus()
    page.keyboard.press("Enter")
    page.keyboard.type("12")  # out of range: kept to 9
    page.keyboard.press("Tab")
    assert page.locator(f'{DEMO} td[data-src="b[1]"]').inner_text() == "9"
    page.locator(f'{DEMO} td[data-src="b[0]"]').focus()
    page.keyboard.press("Enter")
    page.keyboard.type("3")
    page.keyboard.press("Escape")
    assert page.locator(f'{DEMO} td[data-src="b[0]"]').inner_text() == "1"
    shown = everything(page, root)
    X, W, b = numbers_from_sources(shown, {"mode": "conv", **{k: NOTES[k] for k in OPTIONS}})
    assert X[1, 1, 0] == -7 and W[1, 2, 0, 2] == 5 and b[1] == 9 and b[0] == 1
    check_demo(shown, {"mode": "conv", **{k: NOTES[k] for k in OPTIONS}}, "after editing")


# --- Phone, layout shift, axe ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def phone(browser, server):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    context.route(lambda url: not url.startswith(server.url), lambda route: route.abort())
    page = context.new_page()
    page.clock.install()
    page.goto(server.url + PAGE.lstrip("/"), wait_until="load")
    yield page
    context.close()


VISIBLE_JS = r"""
([root, cell]) => {
  const top = document.querySelector('.md-header').getBoundingClientRect().bottom, bottom = window.innerHeight;
  const inside = (el) => { const r = el.getBoundingClientRect(); return r.top >= top - 1 && r.bottom <= bottom + 1; };
  const win = [...root.querySelectorAll('.cnnref-vol--input td.is-window')];
  const last = win.filter(td => td.dataset.d === win[win.length - 1].dataset.d);
  return {cell: inside(cell), calc: inside(root.querySelector('.cnnref-calc')), window: win.filter(inside).length,
          lastSlice: last.every(inside), whole: win.every(inside)};
}
"""


def test_on_a_phone_the_sum_and_the_window_are_on_screen_with_the_tapped_cell(phone):
    page = phone
    root = page.locator(DEMO).element_handle()
    results = {}
    for start, (i, j, k) in [("top", (0, 0, 0)), ("bottom", (2, 2, 1)), ("top", (1, 2, 1))]:
        page.locator(f'{DEMO} [data-testid="demo-settings"]').scroll_into_view_if_needed()  # the reader scrolled to the demo
        if start == "bottom":
            page.locator(f'{DEMO} .cnnref-vol--filters').scroll_into_view_if_needed()
        cell = page.locator(f'{DEMO} [data-testid="demo-out-cell"][data-i="{i}"][data-j="{j}"][data-k="{k}"]')
        cell.tap()
        page.wait_for_timeout(50)
        results[(i, j, k)] = shown = page.evaluate(VISIBLE_JS, [root, cell.element_handle()])
        assert shown["cell"] and shown["calc"] and shown["lastSlice"], f"{PAGE} demo at 375 px, after tapping V[{i}, {j}, {k}]: {shown}"


SIZES_JS = r"""
(root) => {
  const box = (el) => el.getBoundingClientRect();
  const px = (el) => parseFloat(getComputedStyle(el).fontSize);
  const input = [...root.querySelectorAll('.cnnref-vol--input td, .cnnref-grid--filter td')];
  const outs = [...root.querySelectorAll('.cnnref-out')];
  const slices = [...root.querySelectorAll('.cnnref-filter .cnnref-slice')].map(box);
  let gap = Infinity;  // the smallest horizontal gap between two filter slices side by side
  for (const a of slices) for (const b of slices) if (a !== b && Math.abs(a.top - b.top) < 2 && b.left >= a.right) gap = Math.min(gap, b.left - a.right);
  return {cell: Math.min(...input.map(td => Math.min(box(td).width, box(td).height))), digits: Math.min(...input.map(px)),
          target: Math.min(...outs.map(b => Math.min(box(b).width, box(b).height))), gap,
          filtersBordered: [...root.querySelectorAll('.cnnref-filter')].every(f => parseFloat(getComputedStyle(f).borderTopWidth) >= 2),
          scrollWidth: document.scrollingElement.scrollWidth, width: window.innerWidth,
          // the volumes clip what overflows them (content-visibility: auto): nothing may reach past their edge
          right: Math.max(...[...root.querySelectorAll('.cnnref-vols table, .cnnref-calc')].map(el => box(el).right)),
          edge: Math.min(box(root.querySelector('.cnnref-vols')).right, window.innerWidth)};
}
"""


@pytest.mark.parametrize("setting", [
    {},  # the notes' setting
    {"n": 7, "D_in": 3, "D_out": 3, "F": 1, "S": 1, "P": 3},  # the widest output: 13 x 13
    {"n": 7, "D_in": 3, "D_out": 3, "F": 5, "S": 1, "P": 3},  # the widest input with the widest filters
    {"mode": "transposed", "n": 4, "F": 2, "S": 3, "P": 0, "dilation": 1, "output_padding": 0},  # Z 12 wide
])
def test_on_a_phone_cells_are_large_and_nothing_runs_off_the_screen(phone, setting):
    page = phone
    page.locator(f'{DEMO} [data-testid="demo-reset"]').click()
    choose(page, **setting)
    page.locator(f'{DEMO} [data-testid="demo-random"]').click()
    m = page.evaluate(SIZES_JS, page.locator(DEMO).element_handle())
    assert m["scrollWidth"] <= m["width"], f"{PAGE} demo {setting}: the page is {m['scrollWidth']} px wide at 375 px"
    assert m["right"] <= m["edge"] + 0.5, f"{PAGE} demo {setting}: a grid reaches {m['right']} px, past {m['edge']} px"
    assert m["cell"] >= 20 and m["digits"] >= 11.5, f"{PAGE} demo {setting}: number cells {m['cell']} px, digits {m['digits']} px"
    assert m["target"] >= 24, f"{PAGE} demo {setting}: output cells are {m['target']} px: a target is at least 24 px"
    assert m["filtersBordered"] and m["gap"] >= 6, f"{PAGE} demo {setting}: filter slices {m['gap']} px apart"


SHIFTS_JS = r"""
() => new Promise((done) => {
  const shifts = [];
  new PerformanceObserver((list) => { for (const e of list.getEntries()) if (!e.hadRecentInput) shifts.push(e.value); })
    .observe({type: 'layout-shift', buffered: true});
  requestAnimationFrame(() => requestAnimationFrame(() => done(shifts)));
})
"""


@pytest.mark.parametrize("viewport", [PHONE, {"width": 1280, "height": 900}], ids=["phone", "desktop"])
def test_no_layout_shift_when_the_page_opens_at_the_demo_or_while_it_plays(browser, server, viewport):
    context = browser.new_context(viewport=viewport)
    try:
        page = context.new_page()
        page.clock.install()
        page.goto(server.url + PAGE.lstrip("/") + "#convolution-demo", wait_until="load")
        at_load = page.evaluate(SHIFTS_JS)
        said = page.locator(f'{DEMO} [data-testid="demo-live"]').inner_text()
        assert said == "", f"{PAGE} demo: the live region spoke before the reader did anything: {said!r}"
        assert not at_load, f"{PAGE}#convolution-demo ({viewport['width']} px): layout shifts while it opened: {at_load}"
        page.locator(f'{DEMO} [data-testid="demo-play"]').click()
        page.clock.run_for(1600)  # past the 500 ms after the click that layout shift leaves out
        before = len(page.evaluate(SHIFTS_JS))
        page.clock.run_for(1500 * 20)
        played = page.evaluate(SHIFTS_JS)[before:]
        assert not played, f"{PAGE} demo ({viewport['width']} px): layout shifts while it played: {played}"
    finally:
        context.close()


AXE_DEMO_JS = r"""
async ([tags, rules]) => {
  const result = await axe.run(document.querySelector('[data-testid="conv-demo"]'), {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  return result.violations.filter(v => tags.slice(0, 4).some(t => v.tags.includes(t)) || rules.includes(v.id))
    .map(v => `${v.id}: ${v.help}: ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')}`);
}
"""


@pytest.mark.parametrize(("scheme", "states"), [
    ("light", {"floored": {"F": 4}}),  # a refusal, hatched cells, the floor rule's output
    ("dark", {"transposed": {"mode": "transposed"}}),  # Y, the stretched Z, the flipped filters
], ids=["light", "dark"])
def test_axe_finds_nothing_in_the_demos_other_states(browser, server, scheme, states):
    """The page tests run axe on the demo as it opens, in both schemes; here two other states (one per
    scheme: an axe run takes seconds)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme=scheme)
    try:
        page = context.new_page()
        page.goto(server.url + PAGE.lstrip("/"), wait_until="load")
        dark = page.evaluate("() => document.body.getAttribute('data-md-color-scheme')") == "slate"
        assert dark == (scheme == "dark"), f"{PAGE}: the {scheme} scheme did not apply"
        page.add_script_tag(content=AXE.read_text())
        found = {}
        for name, setting in states.items():
            page.locator(f'{DEMO} [data-testid="demo-reset"]').click()
            choose(page, **setting)
            cells = page.locator(f'{DEMO} [data-testid="demo-out-cell"]')
            if cells.count():
                cells.last.click()
            page.mouse.move(0, 0)
            settle(page)
            found[name] = page.evaluate(AXE_DEMO_JS, [[*AXE_TAGS, "wcag22aa", "best-practice"], sorted(LIGHTHOUSE_RULES)])
        assert not any(found.values()), f"{PAGE} demo ({scheme}): axe violations {found}"
    finally:
        context.close()
