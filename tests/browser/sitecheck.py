"""Load a page of the built site in Chromium once, record everything the browser tests assert on.

A page is loaded twice per session. On a desktop it is audited in light, then every <details> is put
back as the page opened, the page is switched to dark by its own toggle and audited again (axe-core
runs every rule in light; in dark, the rules colours decide, and every rule on the toggle). And 375 px
wide (overflow). Each test then asserts one property of a recorded visit, so a
failure names the page, the property and the offending elements, and the suite stays fast. A test
module that measures something more on every page registers a probe (`probe(...)`): its script runs
in the visits it names and the result waits in `Visit.probed`, so no test loads the page again.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit
from xml.etree import ElementTree

import pytest

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# The axe rules Lighthouse 12's accessibility score weighs beyond WCAG 2.1 A/AA (its target is 100).
LIGHTHOUSE_RULES = {
    "aria-dialog-name", "aria-text", "aria-treeitem-name", "empty-heading", "heading-order",
    "identical-links-same-purpose", "image-redundant-alt", "label-content-name-mismatch",
    "landmark-one-main", "skip-link", "tabindex", "table-duplicate-name", "target-size",
}
DESKTOP, PHONE = 1280, 375


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def unavailable(reason: str):
    """Skip locally, fail in CI: a required test never skips silently on the CI machine."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: the browser tests must run here)", pytrace=False)
    pytest.skip(reason)


@dataclass(frozen=True)
class Probe:
    script: str  # a function, evaluated in the page after every <details> is opened
    arg: object = None
    schemes: tuple = ("light",)
    widths: tuple = (DESKTOP, PHONE)


PROBES: dict[str, Probe] = {}


def probe(name: str, script: str, arg=None, schemes=("light",), widths=(DESKTOP, PHONE)) -> str:
    """Register a measurement that every visit in the given settings makes; a test reads visit.probed[name]."""
    PROBES[name] = Probe(script, arg, tuple(schemes), tuple(widths))
    return name


# --- Which pages ----------------------------------------------------------------------------------


def discover_pages(site_dir: Path) -> list[str]:
    """URL paths ("/", "/dl/cnn/", "/404.html") of every HTML page of a built site."""
    pages = []
    for html in sorted(Path(site_dir).rglob("*.html")):
        rel = html.relative_to(site_dir).as_posix()
        pages.append("/" + (rel.removesuffix("index.html")))
    return pages


def sitemap_pages(site_dir: Path) -> list[str]:
    """URL paths listed in sitemap.xml, relative to the site's root ("/", "/dl/cnn/")."""
    sitemap = Path(site_dir) / "sitemap.xml"
    if not sitemap.is_file():
        return []
    locs = [urlsplit(e.text.strip()).path for e in ElementTree.parse(sitemap).iter() if e.tag.endswith("loc")]
    base = min(locs, key=len) if locs else "/"  # the home page's path is the site's base path
    return sorted("/" + loc[len(base):] for loc in locs if loc.startswith(base))


def site_pages() -> list[str]:
    """URL paths of the site's pages, for parametrize (collection happens before any build)."""
    if os.environ.get("CNNREF_SITE_DIR"):
        return discover_pages(Path(os.environ["CNNREF_SITE_DIR"]))
    config = ROOT / "properdocs.yml"
    return predict_pages(config) if config.is_file() else []


def load_site_config(config_file: Path = ROOT / "properdocs.yml"):
    """The site's configuration as ProperDocs validates it (plugins loaded), in this process."""
    import properdocs.replacement  # noqa: F401  (the plugins' mkdocs.* imports -> properdocs.*, as the command does)
    from properdocs.config import load_config

    return load_config(str(config_file))


def nav_pages(config_file: Path = ROOT / "properdocs.yml") -> list[str]:
    """URL paths of every page in the nav, in nav order ("/", "/dl/cnn/", ..., "/api/", "/performance/")."""
    config = load_site_config(config_file)
    found = []

    def walk(entries):
        for entry in entries:
            values = list(entry.values()) if isinstance(entry, dict) else [entry]
            for value in values:
                if isinstance(value, list):
                    walk(value)
                elif isinstance(value, str) and "://" not in value:
                    found.append("/" + page_url(value, config.use_directory_urls))

    walk(config.nav or [])
    return found


def predict_pages(config_file: Path) -> list[str]:
    """The pages a build of this properdocs.yml writes (tests are collected before the site is built).

    test_every_built_page_is_tested checks the prediction against the built site.
    """
    from properdocs.structure.files import get_files

    config = load_site_config(config_file)
    files = get_files(config)
    sources = [f.src_uri for f in files.documentation_pages()]
    if "mkdocs-jupyter" in config.plugins:  # notebooks become pages too
        sources += [f.src_uri for f in files if f.src_uri.endswith(".ipynb")]
    pages = {"/" + page_url(src, config.use_directory_urls) for src in sources}
    pages |= {"/" + t for t in config.theme.static_templates if t.endswith(".html")}
    return sorted(pages)


def page_url(src: str, directory_urls: bool) -> str:
    stem, name = src.rsplit(".", 1)[0], src.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    if name in ("index", "README"):
        return stem[: -len(name)]
    return stem + "/" if directory_urls else stem + ".html"


def base_path(site_dir: Path) -> str:
    """The path the site is published under (site_url's path, "/" for a user site), from sitemap.xml."""
    sitemap = Path(site_dir) / "sitemap.xml"
    if sitemap.is_file():
        locs = [e.text.strip() for e in ElementTree.parse(sitemap).iter() if e.tag.endswith("loc")]
        if locs and locs[0].startswith("http"):
            path = urlsplit(min(locs, key=len)).path
            return path if path.endswith("/") else path + "/"
    return "/"


# --- What a page shows ----------------------------------------------------------------------------

# describe(el): a CSS-ish name plus the heading it sits under, for failure messages.
DESCRIBE_JS = r"""
const describe = (el) => {
  let s = el.tagName.toLowerCase();
  if (el.id) s += '#' + el.id;
  else if (el.classList && el.classList.length) s += '.' + [...el.classList].slice(0, 3).join('.');
  for (const attr of ['src', 'href', 'data-testid']) {
    if (el.getAttribute && el.getAttribute(attr)) s += `[${attr}="${el.getAttribute(attr).slice(0, 80)}"]`;
  }
  let heading = null;
  for (let n = el; n && !heading; n = n.parentElement) {
    for (let p = n.previousElementSibling; p && !heading; p = p.previousElementSibling) {
      if (/^H[1-6]$/.test(p.tagName)) heading = p;
      else if (p.querySelectorAll) { const hs = p.querySelectorAll('h1,h2,h3,h4,h5,h6'); if (hs.length) heading = hs[hs.length - 1]; }
    }
  }
  const title = heading ? heading.textContent.replace('¶', '').trim().slice(0, 60) : '';
  if (title) s += ` under "${title}"`;
  return s;
};
"""

# Dark and light are told apart by the page background's luminance, not only by the attribute.
SCHEME_JS = r"""
async () => {
  await Promise.all(document.getAnimations().map(a => a.finished.catch(() => null)));
  let luminance = 1;  // transparent everywhere: the canvas is white
  for (const el of [document.body, document.documentElement]) {
    const m = getComputedStyle(el).backgroundColor.match(/[\d.]+/g);
    if (m && !(m.length === 4 && +m[3] === 0)) {
      const [r, g, b] = m.slice(0, 3).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
      luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b;
      break;
    }
  }
  return {scheme: document.body.getAttribute('data-md-color-scheme'), luminance,
          toggle: !!document.querySelector('form[data-cnnref-palette]')};  // PALETTE
}
"""
# The palette toggle (Material's, run by overrides/partials/javascripts/palette-toggle.html): the one label
# not hidden switches to the next palette.
PALETTE = "form[data-cnnref-palette]"
# The toggle is one partial, the same markup on every page (tests/test_site_build.py checks it): in dark, axe
# audits it with every rule on this page only. On the API page that audit alone took 1.9 s (axe walks the whole
# document to audit any part of it), 0.3-0.7 s on the others.
TOGGLE_AUDIT_PAGE = "/"
TOGGLE = PALETTE + " label:not([hidden])"

COLLECT_JS = DESCRIBE_JS + r"""
async () => {
  const images = [];
  for (const img of document.querySelectorAll('img')) {
    img.loading = 'eager';
    await img.decode().catch(() => null);
    images.push({desc: describe(img), src: img.currentSrc || img.src, alt: img.getAttribute('alt'),
                 hidden: img.closest('[aria-hidden="true"]') !== null, naturalWidth: img.naturalWidth});
  }
  const unnamed = [];  // role="img" (svg figures) with no accessible name
  for (const el of document.querySelectorAll('[role="img"]')) {
    const label = (el.getAttribute('aria-label') || '').trim();
    const ids = (el.getAttribute('aria-labelledby') || '').split(/\s+/).filter(Boolean);
    const labelled = ids.some(id => (document.getElementById(id)?.textContent || '').trim());
    const title = [...el.children].some(c => c.tagName.toLowerCase() === 'title' && c.textContent.trim());
    if (!label && !labelled && !title) unnamed.push(describe(el));
  }
  const links = [...document.querySelectorAll('a[href]')].map(a => ({href: a.href, raw: a.getAttribute('href'), desc: describe(a)}));
  const ids = [...document.querySelectorAll('[id]')].map(e => e.id).concat([...document.querySelectorAll('a[name]')].map(e => e.name));

  // Raw TeX left in the text: outside code, scripts and rendered math.
  const skip = 'script, style, pre, code, kbd, samp, textarea, noscript, svg, math, .katex';
  const raw = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || parent.closest(skip)) continue;
    const m = node.nodeValue.match(/\$\$|\\\(|\\\)|\\\[|\\\]|\\begin\{|\\frac\{/);
    if (m) raw.push(`${describe(parent)}: ...${node.nodeValue.slice(Math.max(0, m.index - 30), m.index + 50).trim()}...`);
  }
  const arithmatex = [...document.querySelectorAll('.arithmatex')];
  // A formula is a .katex holding KaTeX's HTML (shown, in KaTeX's fonts) and one <math> (for screen
  // readers, visually hidden).
  const untypeset = arithmatex.filter(el => !el.querySelector('.katex')).map(el => `${describe(el)}: ${el.textContent.slice(0, 80)}`)
    .concat([...document.querySelectorAll('.katex')].filter(el => el.querySelectorAll(':scope > .katex-mathml > math').length !== 1).map(el => `${describe(el)}: not one <math>`))
    .concat([...document.querySelectorAll('.katex')].filter(el => !el.querySelector(':scope > .katex-html')).map(el => `${describe(el)}: no KaTeX HTML`))
    // ... laid out by KaTeX's stylesheet: the HTML shown, the MathML clipped away (clip before KaTeX 0.17,
    // clip-path since), KaTeX's font.
    .concat([...document.querySelectorAll('.katex > .katex-mathml')].filter(m => { const s = getComputedStyle(m); return s.position !== 'absolute' || (s.clip === 'auto' && s.clipPath === 'none'); }).map(m => `${describe(m)}: MathML shown (no KaTeX stylesheet)`))
    .concat([...document.querySelectorAll('.katex')].filter(el => !/KaTeX_Main/.test(getComputedStyle(el).fontFamily)).map(el => `${describe(el)}: font ${getComputedStyle(el).fontFamily}`));
  const errors = [...document.querySelectorAll('.katex-error, merror')].map(el => `${describe(el)}: ${(el.getAttribute('title') || el.textContent).slice(0, 120)}`);
  const math = {arithmatex: arithmatex.length, typeset: document.querySelectorAll('.katex > .katex-mathml > math').length, raw, untypeset, errors};
  return {images, unnamed, links, ids, math};
}
"""

# Open every <details> so collapsed admonitions are measured and audited as a reader opens them.
# Colour transitions running inside <details> just after they are opened: content that was hidden when the
# scheme changed still has the old scheme's colours and would fade from them (a flash of light in dark).
FADING_JS = """() => new Promise(r => requestAnimationFrame(r)).then(() => document.getAnimations()
  .filter(a => a.playState === 'running' && /color/.test(a.transitionProperty || '')
          && a.effect && a.effect.target && a.effect.target.closest('details'))
  .map(a => a.transitionProperty + ' on ' + a.effect.target.tagName.toLowerCase()
          + (a.effect.target.className ? '.' + a.effect.target.className : '')))"""
# Sections that the browser renders only near the screen (content-visibility: auto, the API reference's
# entries: docs/stylesheets/extra.css) are rendered too, as a reader who scrolls to each sees it: axe
# measures colours by hit-testing, which finds nothing drawn there (a wrong background, a false contrast
# violation).
# The API reference's source listings (101 boxes, about 11,000 elements, kept in <template>s until opened:
# docs/javascripts/source-listings.js) differ only in their text and in which highlighting classes colour it:
# the boxes opened are the fewest, in page order, that together show every class any listing has, plus the
# listing with the longest line (the one likeliest to scroll sideways). The choice is made once per load and
# kept in window.cnnrefSources; tests/browser/test_browser_pages.py checks it against the built HTML.
OPEN_DETAILS_JS = """() => {
  if (!window.cnnrefSources) {
    const boxes = [...document.querySelectorAll('details.mkdocstrings-source')];
    const seen = new Set(), opened = new Set();
    let widest = null, longest = -1;
    for (const box of boxes) {
      const template = box.querySelector(':scope > template.cnnref-source');
      const root = template ? template.content : box;
      const classes = [...root.querySelectorAll('[class]')].flatMap(el => [...el.classList]);
      if (classes.some(c => !seen.has(c))) { opened.add(box); classes.forEach(c => seen.add(c)); }
      const line = Math.max(0, ...[...root.querySelectorAll('td.code pre, pre')].slice(-1)
        .flatMap(pre => pre.textContent.split('\\n').map(l => l.length)));
      if (line > longest) { longest = line; widest = box; }
    }
    if (widest) opened.add(widest);
    window.cnnrefSources = {boxes, opened};
    window.cnnrefSourcesAudited = {total: boxes.length, classes: [...seen].sort(),
                                   opened: boxes.map((b, i) => opened.has(b) ? i : -1).filter(i => i >= 0)};
  }
  const {boxes, opened} = window.cnnrefSources;
  document.querySelectorAll('details').forEach(d => { if (!boxes.includes(d) || opened.has(d)) d.open = true; });
  if (!document.getElementById('cnnref-render-all')) {
    const style = document.createElement('style');
    style.id = 'cnnref-render-all';
    style.textContent = '* { content-visibility: visible !important; }';
    document.head.append(style);
  }
}"""
# ... and back as the page opened (MARK_DETAILS_JS remembers), before the switch to dark.
MARK_DETAILS_JS = "() => { window.cnnrefOpened = [...document.querySelectorAll('details')].map(d => d.open); }"
CLOSE_DETAILS_JS = "() => document.querySelectorAll('details').forEach((d, i) => { d.open = window.cnnrefOpened[i]; })"

OVERFLOW_JS = DESCRIBE_JS + r"""
() => {
  const width = window.innerWidth, scrollWidth = document.scrollingElement.scrollWidth;
  const culprits = [];
  if (scrollWidth > width) {
    const clips = (el) => { for (let p = el.parentElement; p; p = p.parentElement) { const o = getComputedStyle(p).overflowX; if (o !== 'visible') return p !== document.body && p !== document.documentElement; } return false; };
    for (const el of document.body.querySelectorAll('*')) {
      const r = el.getBoundingClientRect();
      if (r.width && r.right > width + 0.5 && !clips(el)
          && ![...el.children].some(c => c.getBoundingClientRect().right > width + 0.5)) {
        culprits.push(`${describe(el)} (right edge ${Math.round(r.right)} px)`);
      }
    }
  }
  return {width, scrollWidth, culprits: culprits.slice(0, 10)};
}
"""

# axe.run(context, options) -> {violations, ran}: `ran` names every rule that ran, so a test can tell
# "no violation" from "not audited".
AXE_JS = r"""
async ([context, options]) => {
  const result = await axe.run(context || document, {...options, resultTypes: ['violations']});
  const ran = [...new Set(['violations', 'passes', 'incomplete', 'inapplicable'].flatMap(k => result[k].map(r => r.id)))];
  return {ran, violations: result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, tags: v.tags,
    nodes: v.nodes.map(n => ({target: n.target.join(' '), html: n.html.replace(/\s+/g, ' ').slice(0, 160),
                              summary: (n.failureSummary || '').replace(/\s+/g, ' ').slice(0, 300)}))}))};
}
"""
# A scheme changes colours and the palette toggle, nothing else: in dark, axe runs the rules colours decide
# on the whole page, and every rule on the toggle. (Layout, names, roles, headings: audited once, in light.)
AUDIT_TAGS = [*AXE_TAGS, "wcag22aa", "best-practice"]
AUDIT = {"runOnly": {"type": "tag", "values": AUDIT_TAGS},  # + the one Lighthouse rule these tags leave out (AAA)
         "rules": {rule: {"enabled": True} for rule in sorted(LIGHTHOUSE_RULES)}}
COLOUR_RULES = ["color-contrast", "link-in-text-block"]


@dataclass
class Visit:
    """What one page showed in one browser setting."""

    path: str
    scheme: str
    width: int
    url: str
    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    palette: dict = field(default_factory=dict)
    shown: dict = field(default_factory=dict)  # images, links, ids, math (light visits)
    overflow: dict = field(default_factory=dict)  # how wide the page is against the viewport (light visits)
    sources: dict | None = None  # the source listings opened for the audit (OPEN_DETAILS_JS), if the page has any
    fading: list = field(default_factory=list)  # what still animates just after every <details> is opened
    axe: list | None = None  # axe-core's violations (desktop only)
    axe_ran: set = field(default_factory=set)  # the rules axe ran: every one in light; in dark, COLOUR_RULES (and on TOGGLE_AUDIT_PAGE the toggle's)
    probed: dict = field(default_factory=dict)  # name -> what the registered probe returned

    def __repr__(self) -> str:
        return f"<Visit {self.name}>"

    @property
    def name(self) -> str:
        return f"{self.path} ({self.scheme}, {self.width} px)"

    def measured(self, probe_name: str):
        """What the probe of that name returned in this visit."""
        if probe_name not in self.probed:
            pytest.fail(f"{self.name}: probe {probe_name!r} was not registered for this setting", pytrace=False)
        return self.probed[probe_name]


class Visitor:
    """visit(path, scheme, width): load the page once per setting and keep what it showed."""

    def __init__(self, browser, base_url: str, site_dir: Path):
        self.browser, self.base_url, self.site_dir = browser, base_url, Path(site_dir)
        self.origin = "{0.scheme}://{0.netloc}".format(urlsplit(base_url))
        self.visits: dict[tuple, Visit | Exception] = {}
        self._axe: str | None = None

    def local(self, url: str) -> bool:
        return url.startswith((self.origin + "/", "data:", "blob:", "about:"))

    def url(self, path: str) -> str:
        return self.base_url + path.lstrip("/")

    def axe_source(self) -> str:
        if self._axe is None:
            if not AXE.is_file():
                unavailable(f"{AXE.relative_to(ROOT)} is missing: run npm ci")
            self._axe = AXE.read_text()
        return self._axe

    def __call__(self, path: str, scheme: str = "light", width: int = DESKTOP) -> Visit:
        key = (path, scheme, width)
        if key not in self.visits:
            # On a desktop, one load serves both schemes: audited in light, then switched to dark by its toggle.
            keys = [(path, s, width) for s in (("light", "dark") if width == DESKTOP else (scheme,))]
            try:
                self.visits.update(zip(keys, self.load(path, [s for _, s, _ in keys], width)))
            except Exception as error:  # a page that cannot load fails every test of it, once each
                self.visits.update((k, error) for k in keys)
        visit = self.visits[key]
        if isinstance(visit, Exception):
            pytest.fail(f"{path} ({scheme}, {width} px) could not be checked: {visit}", pytrace=False)
        return visit

    def load(self, path: str, schemes: list[str], width: int) -> list[Visit]:
        visits = [Visit(path, scheme, width, self.url(path)) for scheme in schemes]
        first = visits[0]
        for later in visits[1:]:  # one page: one record of its requests and errors
            later.requests, later.console_errors, later.page_errors, later.failed = (
                first.requests, first.console_errors, first.page_errors, first.failed)
        # The system prefers light; the dark visit switches with the page's own toggle.
        context = self.browser.new_context(viewport={"width": width, "height": 800}, color_scheme="light")
        try:
            context.on("request", lambda r: first.requests.append(r.url))
            traffic = Traffic(context)
            context.route(lambda url: not self.local(url), lambda route: route.abort("blockedbyclient"))
            page = context.new_page()
            page.set_default_timeout(60_000)
            page.on("console", lambda m: m.type == "error" and first.console_errors.append(
                f"{m.text} (at {m.location.get('url', '?')}:{m.location.get('lineNumber', '?')})"))
            page.on("pageerror", lambda e: first.page_errors.append(str(e)))
            page.on("response", lambda r: r.status >= 400 and first.failed.append(f"HTTP {r.status} {r.url}"))
            page.on("requestfailed", lambda r: self.local(r.url) and first.failed.append(f"{r.failure} {r.url}"))
            response = page.goto(first.url, wait_until="load")
            if response is None or (response.status >= 400 and not path.endswith("404.html")):
                first.failed.append(f"HTTP {response and response.status} for the page itself")
            traffic.idle(page)
            page.evaluate("() => document.fonts.ready.then(() => null)")
            page.evaluate(MARK_DETAILS_JS)
            for visit in visits:
                if visit is not first:  # as the page opened, so FADING_JS means what it did on a fresh load
                    page.evaluate(CLOSE_DETAILS_JS)
                self.record(page, visit)
            traffic.idle(page)  # a request the page made meanwhile is recorded too
        finally:
            context.close()
        return visits

    def record(self, page, visit: Visit):
        """Switch to the visit's scheme, then record what the page shows, every <details> opened (of the source
        listings, the few that show every highlighting class: OPEN_DETAILS_JS)."""
        visit.palette = self.switch_scheme(page, dark=visit.scheme == "dark")
        if visit.scheme == "light":  # dark changes colours only: the images, links, math and width are light's
            visit.shown = page.evaluate(COLLECT_JS)
        page.evaluate(OPEN_DETAILS_JS)
        visit.sources = page.evaluate("() => window.cnnrefSourcesAudited")
        visit.fading = page.evaluate(FADING_JS)
        if visit.scheme == "light":
            visit.overflow = page.evaluate(OVERFLOW_JS)
        for name, wanted in PROBES.items():
            if visit.scheme in wanted.schemes and visit.width in wanted.widths:
                visit.probed[name] = page.evaluate(wanted.script, wanted.arg)
        if visit.width == DESKTOP:
            settle(page)  # opened <details> mount their code blocks, whose colours fade in too
            if not page.evaluate("() => typeof axe === 'object'"):
                page.add_script_tag(content=self.axe_source())
            audits = [(None, AUDIT)]
            if visit.scheme == "dark":
                audits = [(None, {"runOnly": {"type": "rule", "values": COLOUR_RULES}})]
                if visit.path == TOGGLE_AUDIT_PAGE and page.locator(PALETTE).count():
                    audits.append(({"include": [[PALETTE]]}, AUDIT))
            visit.axe = []
            for context, options in audits:
                result = page.evaluate(AXE_JS, [context, options])
                visit.axe += result["violations"]
                visit.axe_ran |= set(result["ran"])

    @staticmethod
    def switch_scheme(page, dark: bool) -> dict:
        """Click the palette toggle until the page is dark (or light): a click event on its label, as a pointer's or a
        keyboard's would send, with no pointer over it. A pointer's click shows the toggle's tooltip, which
        fades in, then out after a delay, while axe would sample its colours: moving the pointer away and
        waiting for the fade took about 0.6 s per page. The pointer and Enter are test_browser_palette.py's."""
        palette, clicks = page.evaluate(SCHEME_JS), []
        while palette["toggle"] and (palette["luminance"] < 0.3) != dark and len(clicks) < 4:
            toggle = page.locator(TOGGLE).first
            clicks.append(toggle.get_attribute("title") or toggle.inner_text())
            toggle.dispatch_event("click")
            palette = page.evaluate(SCHEME_JS)
        if clicks:
            settle(page)
        return {**palette, "clicks": clicks}


class Traffic:
    """The requests a browser context has in flight; `idle(page)` waits until the network has been quiet.

    Playwright's "networkidle" waits for 500 ms without a request; a page of this site makes its last ones
    (the search index, the favicon) within about 100 ms of the load event, so 150 ms of quiet does.
    """

    def __init__(self, context, quiet: float = 0.15):
        self.quiet, self.pending, self.last = quiet, set(), time.monotonic()
        context.on("request", self._started)
        context.on("requestfinished", self._ended)
        context.on("requestfailed", self._ended)

    def _started(self, request):
        self.pending.add(request)
        self.last = time.monotonic()

    def _ended(self, request):
        self.pending.discard(request)
        self.last = time.monotonic()

    def idle(self, page, timeout: float = 60.0):
        deadline = time.monotonic() + timeout
        while self.pending or time.monotonic() - self.last < self.quiet:
            if time.monotonic() > deadline:
                raise TimeoutError(f"requests still in flight after {timeout} s: {[r.url for r in self.pending][:5]}")
            page.wait_for_timeout(25)  # lets Playwright deliver the events


def settle(page):
    """Wait until no CSS transition runs: Material fades colours over 125 ms, and axe must not sample them halfway."""
    page.wait_for_function(
        "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
        ".then(() => document.getAnimations().every(a => a.playState !== 'running'))"
    )


# --- Links ----------------------------------------------------------------------------------------


class _Anchors(HTMLParser):
    def __init__(self):
        super().__init__()
        self.names: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("id", "name") if tag == "a" else ("id",):
            if attrs.get(key):
                self.names.add(attrs[key])


class LinkChecker:
    """Is an internal href a file of the built site, and its #fragment an id on that page?"""

    def __init__(self, site_dir: Path, base_url: str):
        self.site_dir, self.base_url = Path(site_dir).resolve(), base_url
        self.base = urlsplit(base_url)
        self.anchors: dict[Path, set[str]] = {}

    def target(self, url_path: str) -> Path | None:
        prefix = self.base.path
        if not url_path.startswith(prefix) and url_path + "/" != prefix:
            return None
        path = (self.site_dir / unquote(url_path[len(prefix):])).resolve()
        if path.is_dir():
            path = path / "index.html"
        return path if path.is_file() and path.is_relative_to(self.site_dir) else None

    def ids(self, path: Path) -> set[str]:
        if path not in self.anchors:
            parser = _Anchors()
            parser.feed(path.read_text(encoding="utf-8", errors="replace"))
            self.anchors[path] = parser.names
        return self.anchors[path]

    def problems(self, visit: Visit) -> list[str]:
        here = urlsplit(visit.url)
        live_ids = set(visit.shown["ids"])
        found = []
        for link in visit.shown["links"]:
            url = urlsplit(link["href"])
            if url.scheme not in ("http", "https") or url.netloc != self.base.netloc:
                continue  # mailto:, external sites: not the site's own files
            target = self.target(url.path)
            if target is None:
                found.append(f"{link['desc']}: {link['raw']!r} -> no file for {url.path}")
                continue
            fragment = unquote(url.fragment)
            if not fragment or target.suffix != ".html":
                continue
            same_page = url.path == here.path
            ids = live_ids if same_page else self.ids(target)
            if fragment not in ids:
                found.append(f"{link['desc']}: {link['raw']!r} -> no id {fragment!r} on {url.path}")
        return found


GENERIC_ALT = re.compile(r"^(image( title)?|img|picture|photo|figure|graph|alt|todo|\S+\.(svg|png|jpe?g|gif))$", re.IGNORECASE)
