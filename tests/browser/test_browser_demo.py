"""The convolution demo on the CNN notes page, in headless Chromium.

The page embeds the demo's inputs (X, the filters W, the biases b, S, P) as JSON; these tests compute
every output activation from those inputs with cnnref's conv2d_naive and zero_pad, then step the
demo through all of them and compare with what the page *shows*: the highlighted window, the
elementwise products written out, their sum, the bias and the value. Play/pause runs on Playwright's
fake clock, so no test waits for the demo's timer.
"""

import json
import re

import numpy as np
import pytest

from cnnref import conv2d_naive, output_size, zero_pad

PAGE = "/dl/cnn/conv-layer/"  # the demo replaces <!-- cnnref:conv-demo --> on the notes' Convolutional Layer page
DEMO = '[data-testid="conv-demo"]'

# Everything the demo shows for its current output activation, read from the page.
STATE_JS = r"""
(root) => {
  const q = (s) => root.querySelector(`[data-testid="${s}"]`);
  const qa = (s) => [...root.querySelectorAll(s)];
  const head = q('demo-current');
  return {
    head: {i: +head.dataset.i, j: +head.dataset.j, k: +head.dataset.k, text: head.textContent},
    current: qa('[data-testid="demo-out-cell"][aria-current="true"]').map(b => [+b.dataset.i, +b.dataset.j, +b.dataset.k]),
    window: qa('.cnnref-grid--input td.is-window').map(td => [+td.dataset.i, +td.dataset.j, +td.dataset.d, td.textContent.trim()]),
    filters: qa('.cnnref-vol--filter.is-active').map(f => +f.dataset.k),
    rows: qa('[data-testid="demo-products"] > li').map(li => ({
      products: [...li.querySelectorAll('[data-testid="demo-product"]')].map(p => p.textContent.trim()),
      text: li.textContent.trim()})),
    sum: q('demo-sum').textContent.trim(), bias: q('demo-bias').textContent.trim(),
    value: q('demo-value').textContent.trim(), position: q('demo-position').textContent.trim(),
    live: q('demo-live').textContent.trim(),
  };
}
"""

# The numbers the demo's grids display: the padded input, the filters, the biases, the output cells.
GRIDS_JS = r"""
(root) => ({
  input: [...root.querySelectorAll('.cnnref-grid--input td')].map(td => [+td.dataset.i, +td.dataset.j, +td.dataset.d, td.textContent.trim()]),
  filters: [...root.querySelectorAll('.cnnref-vol--filter')].flatMap(f => [...f.querySelectorAll('.cnnref-grid--filter td')].map(
    td => [+f.dataset.k, +td.dataset.i, +td.dataset.j, +td.dataset.d, td.textContent.trim()])),
  biases: [...root.querySelectorAll('[data-testid^="demo-bias-"]')].map(td => [+td.dataset.testid.slice(10), td.textContent.trim()]),
  outputs: [...root.querySelectorAll('[data-testid="demo-out-cell"]')].map(b => [+b.dataset.i, +b.dataset.j, +b.dataset.k, b.textContent.trim()]),
})
"""

FOCUS_JS = r"""
() => {
  const el = document.activeElement, style = getComputedStyle(el);
  const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
  return {testid: el.dataset.testid || el.tagName, visible: el.matches(':focus-visible') && (outline || style.boxShadow !== 'none'),
          outline: `${style.outlineStyle} ${style.outlineWidth} ${style.outlineColor}`, ij: [+el.dataset.i, +el.dataset.j, +el.dataset.k]};
}
"""

PRODUCT = re.compile(r"^(-?\d+)\s*×\s*\(?(-?\d+)\)?$")


class Reference:
    """What conv2d_naive computes from the demo's embedded inputs."""

    def __init__(self, data):
        self.data = data
        self.X = np.array(data["X"], dtype=float)  # (H1, W1, D1)
        self.W = np.array(data["W"], dtype=float)  # (K, F, F, D1)
        self.b = np.array(data["b"], dtype=float)  # (K,)
        self.S, self.P, self.F = data["S"], data["P"], self.W.shape[1]
        self.X_pad = zero_pad(self.X, self.P)
        self.V = conv2d_naive(self.X, self.W, self.b, S=self.S, P=self.P)  # (H2, W2, K)

    def window(self, i, j):
        i0, j0 = i * self.S, j * self.S
        return i0, j0, self.X_pad[i0 : i0 + self.F, j0 : j0 + self.F, :]  # (F, F, D1)


def num(value) -> str:
    """How the page writes a whole number."""
    assert float(value).is_integer(), f"the demo's numbers are whole, got {value}"
    return str(int(value))


@pytest.fixture
def demo(browser, server, site_dir):
    """A fresh page at the notes, its clock under the test's control; yields (page, demo root, reference)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.route(lambda url: not url.startswith(server.url), lambda route: route.abort())
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.clock.install()
    page.goto(server.url + PAGE.lstrip("/"), wait_until="load")
    root = page.locator(DEMO)
    if root.count() != 1:
        context.close()
        pytest.fail(f"{PAGE}: expected one convolution demo ({DEMO}), found {root.count()}", pytrace=False)
    root.scroll_into_view_if_needed()
    data = json.loads(page.locator(f'{DEMO} [data-testid="demo-data"]').text_content())
    yield page, root.element_handle(), Reference(data)
    context.close()
    assert not errors, f"{PAGE}: JavaScript errors while using the demo: {errors}"


def state(page, root):
    return page.evaluate(STATE_JS, root)


def check_state(ref, shown, where):
    """The demo shows the activation it names, with conv2d_naive's numbers; returns (i, j, k)."""
    i, j, k = shown["head"]["i"], shown["head"]["j"], shown["head"]["k"]
    name = f"{PAGE} demo, {where}, V[{i}, {j}, {k}]"
    H2, W2, K = ref.V.shape
    assert 0 <= i < H2 and 0 <= j < W2 and 0 <= k < K, f"{name}: not an output activation of a {ref.V.shape} volume"
    assert shown["current"] == [[i, j, k]], f"{name}: highlighted output cells {shown['current']}"
    assert shown["filters"] == [k], f"{name}: highlighted filters {shown['filters']}, expected W{k}"
    i0, j0, window = ref.window(i, j)
    expected = sorted([i0 + a, j0 + c, d, num(window[a, c, d])] for a in range(ref.F) for c in range(ref.F)
                      for d in range(ref.X.shape[2]))
    assert sorted(shown["window"]) == expected, (
        f"{name}: highlighted input cells [i, j, d, shown] {sorted(shown['window'])}, expected {expected}")
    rows = shown["rows"]
    assert len(rows) == ref.X.shape[2], f"{name}: {len(rows)} rows of products, expected one per depth slice"
    for d, row in enumerate(rows):
        pairs = [PRODUCT.match(p) for p in row["products"]]
        assert all(pairs), f"{name}: unreadable products in depth {d}: {row['products']}"
        got = [(int(m[1]), int(m[2])) for m in pairs]
        want = [(int(window[a, c, d]), int(ref.W[k, a, c, d])) for a in range(ref.F) for c in range(ref.F)]
        assert got == want, f"{name}: depth {d} products x×w {got}, expected X_pad window × W{k} {want}"
        part = num((window[:, :, d] * ref.W[k, :, :, d]).sum())
        assert row["text"].endswith(f"= {part}"), f"{name}: depth {d} written as {row['text']!r}, its sum is {part}"
    products = num((window * ref.W[k]).sum())
    assert shown["sum"] == products, f"{name}: sum of products shown {shown['sum']}, conv2d_naive's is {products}"
    assert shown["bias"] == num(ref.b[k]), f"{name}: bias shown {shown['bias']}, b[{k}] is {num(ref.b[k])}"
    assert shown["value"] == num(ref.V[i, j, k]), (
        f"{name}: value shown {shown['value']}, conv2d_naive computes {num(ref.V[i, j, k])}")
    return i, j, k


def shows_size(text, W2) -> bool:
    return re.search(rf"=\s*{W2}(?!\d)", text) is not None


def position(shown):
    m = re.search(r"(\d+) of (\d+)", shown["position"])
    assert m, f"{PAGE} demo: no 'n of N' position in {shown['position']!r}"
    return int(m[1]), int(m[2])


def test_demo_is_the_notes_setting_and_shows_conv2d_naive_numbers(demo):
    page, root, ref = demo
    assert (ref.X.shape, ref.W.shape, ref.S, ref.P) == ((5, 5, 3), (2, 3, 3, 3), 2, 1), (
        f"{PAGE} demo: X {ref.X.shape}, W {ref.W.shape}, S={ref.S}, P={ref.P}; the notes' demo is "
        "W1 = H1 = 5, D1 = 3, K = 2, F = 3, S = 2, P = 1")
    assert ref.V.shape == (3, 3, 2)
    grids = page.evaluate(GRIDS_JS, root)
    want = sorted([i, j, d, num(v)] for (i, j, d), v in np.ndenumerate(ref.X_pad))
    assert sorted(grids["input"]) == want, f"{PAGE} demo: the input grid does not show zero_pad(X, {ref.P})"
    want = sorted([k, i, j, d, num(v)] for (k, i, j, d), v in np.ndenumerate(ref.W))
    assert sorted(grids["filters"]) == want, f"{PAGE} demo: the filter grids do not show W"
    assert sorted(grids["biases"]) == [[k, num(v)] for k, v in enumerate(ref.b)], f"{PAGE} demo: biases shown"
    want = sorted([i, j, k, num(v)] for (i, j, k), v in np.ndenumerate(ref.V))
    assert sorted(grids["outputs"]) == want, (
        f"{PAGE} demo: output cells [i, j, k, shown] {sorted(grids['outputs'])}, conv2d_naive gives {want}")


def test_stepping_visits_every_output_activation_with_its_numbers(demo):
    page, root, ref = demo
    step = page.locator(f'{DEMO} [data-testid="demo-next"]')
    first = state(page, root)
    seen = [check_state(ref, first, "initially")]
    start, total = position(first)
    assert total == ref.V.size, f"{PAGE} demo: position says {total} activations, the output has {ref.V.size}"
    for n in range(1, total + 1):
        step.click()
        shown = state(page, root)
        seen.append(check_state(ref, shown, f"after {n} steps"))
        assert position(shown)[0] == (start + n - 1) % total + 1, f"{PAGE} demo: position after {n} steps: {shown['position']}"
        assert shown["value"] in shown["live"], f"{PAGE} demo: the live region does not announce the value: {shown['live']!r}"
    assert sorted(seen[:-1]) == sorted(np.ndindex(ref.V.shape)), f"{PAGE} demo: {total} steps visited {seen[:-1]}"
    assert seen[-1] == seen[0], f"{PAGE} demo: stepping past the last activation did not wrap to the first"


def test_back_and_choosing_a_cell(demo):
    page, root, ref = demo
    first = check_state(ref, state(page, root), "initially")
    page.locator(f'{DEMO} [data-testid="demo-prev"]').click()
    before = state(page, root)
    check_state(ref, before, "after Back")
    assert position(before)[0] == position(before)[1], f"{PAGE} demo: Back from the first goes to the last: {before['position']}"
    page.locator(f'{DEMO} [data-testid="demo-next"]').click()
    assert check_state(ref, state(page, root), "after Back, Step") == first
    H2, W2, K = ref.V.shape
    for i, j, k in [(H2 - 1, 1, K - 1), (1, W2 - 1, 0)]:
        page.locator(f'{DEMO} [data-testid="demo-out-cell"][data-i="{i}"][data-j="{j}"][data-k="{k}"]').click()
        assert check_state(ref, state(page, root), f"after clicking V[{i}, {j}, {k}]") == (i, j, k)


def test_play_and_pause(demo):
    page, root, ref = demo
    play = page.locator(f'{DEMO} [data-testid="demo-play"]')
    assert play.get_attribute("aria-pressed") == "false", f"{PAGE} demo: playing before Play was pressed"
    start = position(state(page, root))[0]
    page.clock.run_for(5000)
    assert position(state(page, root))[0] == start, f"{PAGE} demo: moved without Play"
    play.click()
    assert play.get_attribute("aria-pressed") == "true", f"{PAGE} demo: Play did not set aria-pressed"
    assert "pause" in play.inner_text().lower(), f"{PAGE} demo: the Play button reads {play.inner_text()!r} while playing"
    seen = set()
    for _ in range(4):
        page.clock.run_for(2000)
        shown = state(page, root)
        seen.add(check_state(ref, shown, "while playing"))
    assert len(seen) >= 3, f"{PAGE} demo: 8 s of play showed only {sorted(seen)}"
    play.click()
    assert play.get_attribute("aria-pressed") == "false", f"{PAGE} demo: Pause did not clear aria-pressed"
    paused = position(state(page, root))[0]
    page.clock.run_for(10_000)
    assert position(state(page, root))[0] == paused, f"{PAGE} demo: still moving after Pause"


def test_keyboard_controls_with_visible_focus(demo):
    page, root, ref = demo
    page.locator(f'{DEMO} [data-testid="demo-prev"]').focus()
    page.keyboard.press("Tab")
    focus = page.evaluate(FOCUS_JS)
    assert focus["testid"] == "demo-play", f"{PAGE} demo: Tab from Back reached {focus['testid']}, not Play"
    assert focus["visible"], f"{PAGE} demo: Play has no visible keyboard focus (outline {focus['outline']})"
    page.keyboard.press("Space")
    assert page.locator(f'{DEMO} [data-testid="demo-play"]').get_attribute("aria-pressed") == "true", "Space did not play"
    page.keyboard.press("Enter")
    assert page.locator(f'{DEMO} [data-testid="demo-play"]').get_attribute("aria-pressed") == "false", "Enter did not pause"
    page.keyboard.press("Tab")
    assert page.evaluate(FOCUS_JS)["testid"] == "demo-next", f"{PAGE} demo: Tab from Play did not reach Step"
    before = position(state(page, root))
    page.keyboard.press("Enter")
    page.keyboard.press("Space")
    after = state(page, root)
    check_state(ref, after, "after Enter and Space on Step")
    assert position(after)[0] == (before[0] + 1) % before[1] + 1, f"{PAGE} demo: Enter, Space on Step moved {before} -> {after['position']}"

    H2, W2, K = ref.V.shape
    page.locator(f'{DEMO} [data-testid="demo-out-cell"][data-i="0"][data-j="0"][data-k="{K - 1}"]').focus()
    for key, (i, j) in [("ArrowRight", (0, 1)), ("ArrowDown", (1, 1)), ("End", (H2 - 1, W2 - 1)),
                        ("ArrowLeft", (H2 - 1, W2 - 2)), ("ArrowUp", (H2 - 2, W2 - 2)), ("Home", (0, 0))]:
        page.keyboard.press(key)
        focus = page.evaluate(FOCUS_JS)
        assert focus["ij"] == [i, j, K - 1], f"{PAGE} demo: {key} moved focus to {focus['ij']}, expected {[i, j, K - 1]}"
        assert focus["visible"], f"{PAGE} demo: output cell V[{i}, {j}, {K - 1}] has no visible focus ({focus['outline']})"
        assert check_state(ref, state(page, root), f"after {key}") == (i, j, K - 1)


def test_choosing_f_s_p_asks_output_size(demo):
    """Every (F, S, P) the reader can pick is accepted or refused exactly as output_size decides."""
    page, root, ref = demo
    W1 = ref.X.shape[1]
    result = page.locator(f'{DEMO} [data-testid="demo-size-result"]')
    page.locator(f'{DEMO} [data-testid="demo-size-F"]').select_option("4")
    with pytest.raises(ValueError) as refused:
        output_size(W1, 4, S=ref.S, P=ref.P)
    assert result.get_attribute("data-accepted") == "false" and str(refused.value) in result.inner_text(), (
        f"{PAGE} demo: F=4, S={ref.S}, P={ref.P} shows {result.inner_text()!r}; output_size says {refused.value}")
    page.locator(f'{DEMO} [data-testid="demo-size-F"]').select_option(str(ref.F))
    W2 = output_size(W1, ref.F, S=ref.S, P=ref.P)
    assert result.get_attribute("data-accepted") == "true" and shows_size(result.inner_text(), W2), (
        f"{PAGE} demo: the notes' setting shows {result.inner_text()!r}; output_size gives {W2}")

    shown = page.evaluate(r"""(root) => {
      const pick = (n) => root.querySelector(`[data-testid="demo-size-${n}"]`);
      const values = (n) => [...pick(n).options].map(o => o.value);
      const out = [];
      for (const f of values('F')) for (const s of values('S')) for (const p of values('P')) {
        for (const [n, v] of [['F', f], ['S', s], ['P', p]]) { pick(n).value = v; pick(n).dispatchEvent(new Event('change', {bubbles: true})); }
        const r = root.querySelector('[data-testid="demo-size-result"]');
        out.push([+f, +s, +p, r.dataset.accepted, r.textContent]);
      }
      return out;
    }""", root)
    assert len(shown) >= 20, f"{PAGE} demo: only {len(shown)} hyperparameter choices"
    wrong = []
    for F, S, P, accepted, text in shown:
        try:
            W2 = output_size(W1, F, S=S, P=P)
        except ValueError as error:
            if accepted != "false" or str(error) not in text:
                wrong.append(f"F={F} S={S} P={P}: shows {text!r}, output_size refuses: {error}")
        else:
            if accepted != "true" or not shows_size(text, W2):
                wrong.append(f"F={F} S={S} P={P}: shows {text!r}, output_size gives {W2}")
    assert not wrong, f"{PAGE} demo disagrees with output_size:" + "".join(f"\n  - {w}" for w in wrong)
