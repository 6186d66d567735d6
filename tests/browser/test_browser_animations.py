"""The Convolution arithmetic pages' animations, in headless Chromium.

Each animation is an SVG image that moves by CSS keyframes (graphs/arithmetic.py), inside a <picture> whose
<source> shows its still frame strip under prefers-reduced-motion, with a Pause button that shows the strip
too (hooks/figures.py, graphs/animations.js). These tests load the pages as a phone shows them, with and
without reduced motion, and each SVG by itself: the animation runs through the layers' window positions,
stands still under reduced motion, reserves its box (no layout shift) and keeps its text at 9 px or more.
"""

import re
from pathlib import Path

import pytest
from sitecheck import PHONE, page_url

from graphs import arithmetic

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
FIGURE = re.compile(r"graphs/dl/cnn/([\w-]+)\.svg")


def animated_pages():
    """{URL path: [animation names, in page order]} of the pages that show an animation."""
    pages = {}
    for page in sorted(DOCS.rglob("*.md")):
        names = [n for n in FIGURE.findall(page.read_text(encoding="utf-8")) if n in arithmetic.STRIPS]
        if names:
            pages["/" + page_url(page.relative_to(DOCS).as_posix(), True)] = names
    return pages


PAGES = animated_pages()

SHOWN_JS = r"""
async () => {
  window.scrollTo(0, document.body.scrollHeight);  // every image in view once (none is lazy, but be sure)
  await new Promise(r => setTimeout(r, 200));
  const shift = await new Promise(resolve => {
    let total = 0;
    new PerformanceObserver(list => { for (const e of list.getEntries()) if (!e.hadRecentInput) total += e.value; })
      .observe({type: 'layout-shift', buffered: true});
    setTimeout(() => resolve(total), 100);
  });
  const pictures = [];
  for (const picture of document.querySelectorAll('picture.cnnref-animation')) {
    const img = picture.querySelector('img'), source = picture.querySelector('source');
    await img.decode().catch(() => null);
    const box = img.getBoundingClientRect();
    let button = picture.parentElement.nextElementSibling;  // after the figure's box and its "Open full size" link
    if (button && button.matches('.cnnref-figure-open')) button = button.nextElementSibling;
    pictures.push({src: img.currentSrc.split('/').pop(), natural: [img.naturalWidth, img.naturalHeight],
                   shown: [box.width, box.height], sized: [+img.getAttribute('width'), +img.getAttribute('height')],
                   sourceSized: [+source.getAttribute('width'), +source.getAttribute('height')],
                   button: button && button.matches('.cnnref-animation-toggle') ? getComputedStyle(button).display : null});
  }
  return {shift, pictures};
}
"""


def min_font(svg_text):
    """The smallest font size of an animation's SVG in its viewBox units, and the viewBox width."""
    sizes = [float(v) for v in re.findall(r"font-size: ([\d.]+)px", svg_text)]
    return min(sizes), float(re.search(r'viewBox="0 0 ([\d.]+) ', svg_text)[1])


def load(browser, server, path, reduced):
    context = browser.new_context(viewport={"width": PHONE, "height": 800},
                                  reduced_motion="reduce" if reduced else "no-preference")
    page = context.new_page()
    page.goto(server.url + path.lstrip("/"), wait_until="load")  # after every image: none is lazy
    return context, page


def test_some_page_shows_every_animation():
    shown = [name for names in PAGES.values() for name in names]
    assert sorted(shown) == sorted(arithmetic.STRIPS), "each animation on a page, once"


@pytest.mark.parametrize("reduced", [False, True], ids=["motion", "reduced-motion"])
@pytest.mark.parametrize("path", sorted(PAGES))
def test_animations_or_their_frames_are_shown_legibly_without_layout_shift(browser, server, site_dir, path, reduced):
    context, page = load(browser, server, path, reduced)
    try:
        shown = page.evaluate(SHOWN_JS)
    finally:
        context.close()
    names = PAGES[path]
    assert [p["src"] for p in shown["pictures"]] == [
        f"{arithmetic.STRIPS[n] if reduced else n}.svg" for n in names]
    assert shown["shift"] == 0, f"{path}: layout shift {shown['shift']}"
    for name, picture in zip(names, shown["pictures"]):
        file = f"{arithmetic.STRIPS[name] if reduced else name}.svg"
        width, height = picture["sourceSized"] if reduced else picture["sized"]
        # the box reserved by the width and height attributes is the picture's own shape
        assert picture["natural"][0] > 0 and abs(width / height - picture["natural"][0] / picture["natural"][1]) < 0.01
        assert abs(picture["shown"][1] - picture["shown"][0] * height / width) < 1, (file, picture)
        font, view = min_font((site_dir / "graphs/dl/cnn" / file).read_text())
        assert font * picture["shown"][0] / view >= 9, f"{file}: {font * picture['shown'][0] / view:.1f} px text"
        assert picture["button"] == ("none" if reduced else "block"), (file, picture["button"])


def test_pause_shows_the_frames_and_play_resumes(browser, server):
    path = sorted(PAGES)[0]
    context, page = load(browser, server, path, reduced=False)
    try:
        button = page.locator(".cnnref-animation-toggle").first
        state = "() => [document.querySelector('.cnnref-animation-toggle').getAttribute('aria-pressed'), " \
                "document.querySelector('picture.cnnref-animation img').currentSrc.split('/').pop()]"
        first = PAGES[path][0]
        assert page.evaluate(state) == ["false", f"{first}.svg"]
        button.click()
        page.wait_for_function(f"() => document.querySelector('picture.cnnref-animation img').currentSrc.endsWith('/{arithmetic.STRIPS[first]}.svg')")
        assert page.evaluate(state) == ["true", f"{arithmetic.STRIPS[first]}.svg"]
        button.focus()
        page.keyboard.press("Enter")  # a native button: the keyboard works as the mouse does
        page.wait_for_function(f"() => document.querySelector('picture.cnnref-animation img').currentSrc.endsWith('/{first}.svg')")
        assert page.evaluate(state) == ["false", f"{first}.svg"]
    finally:
        context.close()


ANIMATION_JS = r"""
([frameMs, frames]) => {
  const animations = document.getAnimations();
  const found = animations.map(a => ({name: a.animationName, state: a.playState, duration: a.effect.getTiming().duration,
                                      iterations: a.effect.getTiming().iterations === Infinity ? 'infinite' : a.effect.getTiming().iterations}));
  const transforms = frames.map(k => {  // jump a little into frame k, read where the window is drawn
    animations.forEach(a => { a.pause(); a.currentTime = k * frameMs + 5; });
    return getComputedStyle(document.querySelector('.w')).transform;
  });
  return {animations: found, transforms};
}
"""


@pytest.mark.parametrize("reduced", [False, True], ids=["motion", "reduced-motion"])
def test_every_animation_runs_through_its_windows_and_stands_still_under_reduced_motion(browser, server, site_dir,
                                                                                       reduced):
    """Each SVG by itself: two looping animations (the window, the output cell), one frame per output number;
    seeked to a frame, the window is drawn where that frame's keyframe puts it. Reduced motion: nothing moves."""
    context = browser.new_context(reduced_motion="reduce" if reduced else "no-preference")
    page = context.new_page()
    frame_ms = arithmetic.FRAME_SECONDS * 1000
    failures = []
    try:
        for case in arithmetic.CASES:
            svg = (site_dir / "graphs/dl/cnn" / f"{case.name}.svg").read_text()
            moves = re.findall(r"([\d.]+)% \{ transform: translate\((-?[\d.]+)px, (-?[\d.]+)px\); \}",
                               re.search(r"@keyframes window \{(.*?)\}\s*\n", svg)[1])[:-1]
            frames = [1, len(moves) - 1]
            page.goto(server.url + f"graphs/dl/cnn/{case.name}.svg", wait_until="load")
            shown = page.evaluate(ANIMATION_JS, [frame_ms, frames])
            if reduced:
                if shown["animations"] or set(shown["transforms"]) != {"none"}:
                    failures.append(f"{case.name}: moves under reduced motion: {shown}")
                continue
            expected = [{"name": name, "state": "running", "duration": len(moves) * frame_ms, "iterations": "infinite"}
                        for name in ("window", "output")]
            if shown["animations"] != expected:
                failures.append(f"{case.name}: animations {shown['animations']}, expected {expected}")
            for k, transform in zip(frames, shown["transforms"]):
                _percent, dx, dy = moves[k]
                if transform != f"matrix(1, 0, 0, 1, {float(dx):g}, {float(dy):g})":
                    failures.append(f"{case.name}: frame {k} shows {transform}, its keyframe moves by ({dx}, {dy})")
    finally:
        context.close()
    assert not failures, "\n".join(failures)
