"""Does a page move when its fonts arrive late? Layout shifts of pages loaded with woff2 responses delayed.

Serves a built site on 127.0.0.1 (tests/browser/static_server.py), opens each page in Debian's chromium
(headless, Playwright) with every response whose URL matches --delay-pattern (default: the woff2 fonts)
held back --delay seconds, and records the page's layout-shift entries (PerformanceObserver, buffered):
value, hadRecentInput, time and the moved nodes with their rects before and after. Prints one line per
load and a summary; --json writes every entry.

    .venv/bin/python tools/late_fonts.py --site site --delay 0.4 1.0 --widths 375 1280 --loads 3
"""

from __future__ import annotations

import argparse
import asyncio
import fnmatch
import json
import shutil
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))
from static_server import StaticServer  # noqa: E402

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

OBSERVE_JS = r"""
window.__shifts = [];
new PerformanceObserver((list) => {
  const name = (n) => {
    if (!n) return null;
    const text = '"' + (n.textContent || '').replace(/\s+/g, ' ').trim().slice(0, 40) + '"';
    if (n.nodeType !== 1) return '#text ' + text;
    return n.tagName.toLowerCase() + (n.id ? '#' + n.id : '') +
      (n.classList.length ? '.' + [...n.classList].slice(0, 2).join('.') : '') + ' ' + text;
  };
  const rect = (r) => [Math.round(r.x), Math.round(r.y), Math.round(r.width), Math.round(r.height)];
  for (const e of list.getEntries()) {
    window.__shifts.push({value: e.value, hadRecentInput: e.hadRecentInput, time: Math.round(e.startTime),
      sources: (e.sources || []).map(s => ({node: name(s.node), before: rect(s.previousRect), after: rect(s.currentRect)}))});
  }
}).observe({type: 'layout-shift', buffered: true});
"""

SETTLE_JS = r"""
async () => {
  await document.fonts.ready;
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  await new Promise(r => setTimeout(r, 300));
  const paint = performance.getEntriesByType('paint').find(p => p.name === 'first-contentful-paint');
  const fonts = [...document.fonts].filter(f => f.status !== 'unloaded').map(f => `${f.family} ${f.style} ${f.weight} ${f.status}`);
  const fetched = performance.getEntriesByType('resource').map(r => r.name.split('/').pop()).filter(n => /\.woff2$/.test(n));
  const parsed = Math.round(performance.getEntriesByType('navigation')[0].domInteractive);  // the parser's end
  return {shifts: window.__shifts, fcp: paint ? Math.round(paint.startTime) : null, parsed, fonts, fetched};
}
"""


def math_pages(site: Path) -> list[str]:
    """URL paths of the built pages that have a KaTeX formula."""
    pages = []
    for html in sorted(site.rglob("index.html")):
        if '<span class="katex">' in html.read_text(encoding="utf-8"):
            rel = html.relative_to(site).as_posix()
            pages.append("/" + rel.removesuffix("index.html"))
    return pages


async def load(browser, url: str, width: int, delay: float, pattern: str, scheme: str, throttle: float = 1) -> dict:
    context = await browser.new_context(viewport={"width": width, "height": 800}, color_scheme=scheme)
    origin = "/".join(url.split("/", 3)[:3]) + "/"

    async def handle(route):
        request_url = route.request.url
        if not request_url.startswith(origin):
            await route.abort("blockedbyclient")
            return
        if delay and fnmatch.fnmatch(request_url, pattern):
            await asyncio.sleep(delay)
        await route.continue_()

    await context.route("**/*", handle)
    page = await context.new_page()
    await page.add_init_script(OBSERVE_JS)
    if throttle > 1:  # a slower phone: the parser yields, and the page is painted, more often while it is parsed
        cdp = await context.new_cdp_session(page)
        await cdp.send("Emulation.setCPUThrottlingRate", {"rate": throttle})
    try:
        await page.goto(url, wait_until="load")
        return await page.evaluate(SETTLE_JS)
    finally:
        await context.close()


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=ROOT / "site", help="a built site (default: site/)")
    parser.add_argument("--pages", nargs="+", help="URL paths (default: every page with a formula)")
    parser.add_argument("--widths", nargs="+", type=int, default=[375])
    parser.add_argument("--delay", nargs="+", type=float, default=[0.4], help="seconds each matching response waits")
    parser.add_argument("--delay-pattern", default="*.woff2", help="fnmatch pattern of the URLs to delay")
    parser.add_argument("--loads", type=int, default=3, help="loads per page, width and delay")
    parser.add_argument("--scheme", default="light", choices=["light", "dark"])
    parser.add_argument("--cpu-throttle", type=float, default=1, help="CPU slowdown (Lighthouse's mobile: 4)")
    parser.add_argument("--json", type=Path, help="write every load's entries here")
    parser.add_argument("--verbose", action="store_true", help="print each shift's moved nodes")
    args = parser.parse_args()

    from playwright.async_api import async_playwright

    site = args.site.resolve()
    pages = args.pages or math_pages(site)
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    results, shifted, total = [], 0, 0
    with StaticServer(site) as server:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=executable, args=ARGS)
            for path in pages:
                for width in args.widths:
                    for delay in args.delay:
                        values = []
                        for i in range(args.loads):
                            got = await load(browser, server.url + path.lstrip("/"), width, delay, args.delay_pattern, args.scheme, args.cpu_throttle)
                            cls = sum(e["value"] for e in got["shifts"] if not e["hadRecentInput"])
                            values.append(cls)
                            total += 1
                            shifted += cls > 0
                            results.append({"page": path, "width": width, "delay": delay, "load": i, "cls": cls, **got})
                            if args.verbose and got["shifts"]:
                                for e in got["shifts"]:
                                    print(f"    {e['value']:.4f} at {e['time']} ms (fcp {got['fcp']} ms, parsed {got['parsed']} ms):",
                                          "; ".join(f"{s['node']} {s['before']}->{s['after']}" for s in e["sources"]))
                        print(f"{path:32} {width:5} px  delay {delay:.1f} s  layout shift per load: "
                              f"{' '.join(f'{v:.4f}' for v in values)}  (max {max(values):.4f})", flush=True)
            await browser.close()
    print(f"{shifted} of {total} loads shifted")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
