"""Screenshots of every page, 1280 px in the light scheme and 375 px in the dark one, checked for what a reader
would see cut off: run on demand, not in the default run (it takes a few minutes).

    .venv/bin/pytest tests/browser/test_screenshots.py --screenshots

Each page is opened with every collapsible box open, then:
- no element of the page's content is wider than the box that clips it, unless that box scrolls and a
  keyboard can reach it (a formula, a table, a code block or a figure that scrolls sideways in its region);
- no text is smaller than 9 CSS px: the page's own text, the text of every SVG figure (from its font
  sizes and the width it is shown at), inline plots included;
- the full-page screenshots are written to build/screenshots/ (ignored by git), to look at.
"""

from __future__ import annotations

import re

import pytest
from sitecheck import DESKTOP, PHONE

pytestmark = pytest.mark.screenshots

OUT = "build/screenshots"
SETTINGS = [("light", DESKTOP), ("dark", PHONE)]

CUT_OFF_JS = r"""
() => {
  const content = document.querySelector('.md-content');
  const describe = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (el.classList.length ? '.' + [...el.classList].slice(0, 2).join('.') : '') + ' "' + (el.textContent || '').trim().slice(0, 40) + '"';
  const clipper = (el) => { for (let p = el.parentElement; p; p = p.parentElement) { if (getComputedStyle(p).overflowX !== 'visible') return p; } return null; };
  const hidden = (el) => el.closest('.katex-mathml, [hidden], .md-tooltip, .md-clipboard, .clipboard-copy-txt, .md-code__nav');
  const problems = [];
  for (const el of content.querySelectorAll('*')) {
    if (hidden(el) || !el.getClientRects().length) continue;
    if (el.closest('svg') && el.tagName.toLowerCase() !== 'text') continue;  // in a figure: what is read, its text
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height) continue;
    const box = clipper(el);
    const limit = box ? box.getBoundingClientRect() : {left: 0, right: window.innerWidth};
    const slack = el.closest('svg') ? 2 : 1;  // glyph boxes of a figure's edge labels round up
    if (r.right <= limit.right + slack && r.left >= limit.left - slack) continue;
    if (box && el.parentElement && clipper(el.parentElement) === box && (() => {  // report the outermost only
      const p = el.parentElement.getBoundingClientRect(); return p.right > limit.right + 1 || p.left < limit.left - 1; })()) continue;
    const overflow = box ? getComputedStyle(box).overflowX : 'visible';
    const scrolls = ['auto', 'scroll'].includes(overflow);
    if (scrolls && box.tabIndex >= 0 && (box.getAttribute('aria-label') || box.tagName === 'CODE' || box.tagName === 'PRE' ||
        box.closest('.jupyter-wrapper'))) continue;  // in a scroll region a keyboard reaches
    problems.push(`${describe(el)}: right ${Math.round(r.right)} > ${Math.round(limit.right)} in ${box ? describe(box) + ' (overflow ' + overflow + ', tabindex ' + box.tabIndex + ')' : 'the page'}`);
  }
  return problems.slice(0, 20);
}
"""

SMALL_TEXT_JS = r"""
async () => {
  const content = document.querySelector('.md-content');
  const small = [];
  const walker = document.createTreeWalker(content, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!node.nodeValue.replace(/[\u200b\s]/g, '') || !el || el.closest('svg, .katex-mathml, .md-tooltip, [hidden], .clipboard-copy-txt')) continue;
    if (!el.getClientRects().length) continue;
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (size === 0) continue;  // text hidden on purpose (Material replaces it with an icon)
    if (size < 9) small.push(`${el.tagName.toLowerCase()}.${el.className} "${node.nodeValue.trim().slice(0, 30)}": ${size.toFixed(1)} px`);
  }
  const svgText = (svg, width) => {
    const viewBox = svg.viewBox && svg.viewBox.baseVal;
    if (!viewBox || !viewBox.width) return [];
    const sizes = [...svg.querySelectorAll('text')].map(t => parseFloat(getComputedStyle(t).fontSize)).filter(Boolean);
    return sizes.length ? [Math.min(...sizes) * width / viewBox.width] : [];
  };
  for (const svg of content.querySelectorAll('svg')) {  // inline figures (plots)
    const width = svg.getBoundingClientRect().width;
    for (const px of svgText(svg, width)) if (px < 9 - 0.05) small.push(`inline svg in ${svg.parentElement.className}: ${px.toFixed(1)} px`);
  }
  for (const img of content.querySelectorAll('img[src$=".svg"]')) {  // figures as images
    const text = await (await fetch(img.currentSrc || img.src)).text();
    const doc = new DOMParser().parseFromString(text, 'image/svg+xml').documentElement;
    const vb = (doc.getAttribute('viewBox') || '').split(/\s+/).map(Number);
    const sizes = [...text.matchAll(/font-size: ?([\d.]+)px/g)].map(m => parseFloat(m[1]));
    if (vb.length === 4 && sizes.length) {
      const px = Math.min(...sizes) * img.getBoundingClientRect().width / vb[2];
      if (px < 9 - 0.05) small.push(`${img.getAttribute('src')}: ${px.toFixed(1)} px`);
    }
  }
  return small.slice(0, 20);
}
"""


def _name(path: str) -> str:
    return re.sub(r"[^\w-]+", "_", path.strip("/")) or "home"


@pytest.mark.parametrize(("scheme", "width"), SETTINGS, ids=["1280-light", "375-dark"])
def test_screenshot_shows_nothing_cut_off_or_too_small(open_page, page_path, scheme, width):
    from pathlib import Path

    page = open_page(page_path, width, scheme)
    page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")
    page.wait_for_timeout(300)
    out = Path(__file__).resolve().parents[2] / OUT
    out.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(out / f"{_name(page_path)}-{width}-{scheme}.png"), full_page=True, timeout=180_000)
    cut = page.evaluate(CUT_OFF_JS)
    small = page.evaluate(SMALL_TEXT_JS)
    problems = [f"cut off: {c}" for c in cut] + [f"text under 9 px: {s}" for s in small]
    assert not problems, f"{page_path} ({scheme}, {width} px):\n  " + "\n  ".join(problems)
