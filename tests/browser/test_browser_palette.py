"""The light/dark toggle (overrides/partials/palette.html, its script in partials/javascripts/palette-toggle.html):
Material's behaviour, done while the header is parsed rather than after the whole page is.

A reader's system preference picks the first palette, a click or Enter switches it, the choice follows the
reader to the next page; and the page's colours are settled before its content is parsed, so that no
element of the content needs a second style (what Material's own mount cost: benchmarks/lighthouse-notes.md).
"""

from __future__ import annotations

import pytest
from sitecheck import DESKTOP, PHONE

PAGE = "/dl/cnn/conv-layer/"

# Every change to <body>'s palette attributes and to the colour <meta>s, with how many elements the
# document had when it happened (the header has a few hundred; the Convolutional Layer page, thousands).
WATCH_JS = r"""
window.__palette_changes = [];
new MutationObserver(records => {
  for (const r of records) {
    const name = r.attributeName || (r.addedNodes[0] && r.addedNodes[0].getAttribute && r.addedNodes[0].getAttribute('name'));
    if (!name || !/^(data-md-color-|theme-color|color-scheme|content)/.test(name)) continue;
    window.__palette_changes.push({name, target: r.target.tagName, elements: document.getElementsByTagName('*').length});
  }
}).observe(document, {subtree: true, childList: true, attributes: true});
"""

STATE_JS = r"""
() => ({
  scheme: document.body.getAttribute('data-md-color-scheme'),
  switching: document.body.hasAttribute('data-md-color-switching'),
  // the shown label switches to the palette its radio button stands for (Material's tooltips take its title)
  label: (document.querySelector('form[data-cnnref-palette] label:not([hidden])') || {}).htmlFor,
  theme: (document.querySelector('meta[name="theme-color"]') || {}).content,
  colorScheme: (document.querySelector('meta[name="color-scheme"]') || {}).content,
  header: getComputedStyle(document.querySelector('.md-header')).backgroundColor,
})
"""


def hex_of(rgb: str) -> str:
    return "#" + "".join(f"{int(v):02x}" for v in rgb[rgb.index("(") + 1 : rgb.index(")")].split(",")[:3])


@pytest.mark.parametrize(("scheme", "expected", "label"), [("light", "default", "__palette_1"),
                                                           ("dark", "slate", "__palette_0")])
def test_the_readers_system_preference_picks_the_palette_before_the_content_is_parsed(browser, server, scheme, expected, label):
    context = browser.new_context(viewport={"width": PHONE, "height": 800}, color_scheme=scheme)
    try:
        context.add_init_script(WATCH_JS)
        page = context.new_page()
        page.goto(server.url + PAGE.lstrip("/"), wait_until="load")
        page.wait_for_timeout(300)
        state = page.evaluate(STATE_JS)
        assert state["scheme"] == expected and state["label"] == label and not state["switching"], state
        assert state["theme"] == hex_of(state["header"]), state
        assert state["colorScheme"] == ("dark" if scheme == "dark" else "light"), state
        changes = page.evaluate("window.__palette_changes")
        total = page.evaluate("document.getElementsByTagName('*').length")
        late = [c for c in changes if c["elements"] > 1000]
        assert changes and total > 3000 and not late, f"palette changed after the content was parsed: {late}"
    finally:
        context.close()


def test_the_toggle_switches_by_click_and_by_enter_and_the_next_page_keeps_the_choice(browser, server):
    context = browser.new_context(viewport={"width": DESKTOP, "height": 800}, color_scheme="light")
    try:
        page = context.new_page()
        page.goto(server.url + PAGE.lstrip("/"), wait_until="load")
        page.locator("form[data-cnnref-palette] label:not([hidden])").click()
        state = page.evaluate(STATE_JS)
        assert state["scheme"] == "slate" and state["label"] == "__palette_0", state
        assert state["colorScheme"] == "dark" and state["theme"] == hex_of(state["header"]), state
        page.wait_for_function("() => !document.body.hasAttribute('data-md-color-switching')")

        page.goto(server.url + "api/", wait_until="load")
        assert page.evaluate(STATE_JS)["scheme"] == "slate", "the dark choice did not follow the reader"

        page.locator("form[data-cnnref-palette] input").first.focus()
        page.keyboard.press("Enter")
        state = page.evaluate(STATE_JS)
        assert state["scheme"] == "default" and state["label"] == "__palette_1", state
        page.reload(wait_until="load")
        assert page.evaluate(STATE_JS)["scheme"] == "default"
    finally:
        context.close()
