#!/usr/bin/env python3
"""Lighthouse scores of every page of the site, served gzipped on 127.0.0.1 as a static host would serve it.

    .venv/bin/python tools/lighthouse.py              # build (properdocs build --strict), 3 runs each
    .venv/bin/python tools/lighthouse.py --site site  # measure an existing build
    .venv/bin/python tools/lighthouse.py --pages /api/ --runs 1   # one page, one run (while fixing it)
    .venv/bin/python tools/lighthouse.py --site site --pages /api/ --merge   # re-measure one page, keep the others

The pages are every page of properdocs.yml's nav, in nav order (home, the notes, the notebooks, the
API reference, Performance, and any page added later), read from the configuration at each run. For
each, desktop and mobile, it runs `npx --yes lighthouse@12.8.2` (npx fetches it into npm's cache: not
a project dependency, so CI's `npm ci` stays small; 12.8.2 is the newest release that runs on the
machine's Node 20, Lighthouse 13 needs Node 22.19) against Debian's chromium (CHROME_PATH), 3 runs
each; prints the median score per category with the audits that cost points, and writes everything,
with the machine's load average before and after each page, to benchmarks/lighthouse-results.json
(after every page, "complete": false until the last: a run stopped early keeps what it measured),
which the Performance page shows (hooks/performance.py). The targets (issue 16): desktop performance
>= 98, mobile >= 90, accessibility, best practices and SEO 100. Exit status 1 when a median misses its
target and --check is given. Scores drop on a busy machine (main-thread time counts against
performance): measure when nothing else runs, and read the recorded load.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))
from sitecheck import base_path, nav_pages  # noqa: E402
from static_server import StaticServer  # noqa: E402

LIGHTHOUSE = "lighthouse@12.8.2"
CATEGORIES = ["performance", "accessibility", "best-practices", "seo"]
METRICS = ["first-contentful-paint", "largest-contentful-paint", "total-blocking-time",
           "cumulative-layout-shift", "speed-index"]
CHROME_FLAGS = ("--headless --no-sandbox --disable-gpu --disable-background-networking "
                "--disable-component-update --disable-sync --no-first-run")
TARGETS = {
    "desktop": {"performance": 98, "accessibility": 100, "best-practices": 100, "seo": 100},
    "mobile": {"performance": 90, "accessibility": 100, "best-practices": 100, "seo": 100},
}


def free_port() -> int:
    """A free port in 8100-8999 (the range agreed for this machine)."""
    for port in random.sample(range(8100, 9000), 900):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise RuntimeError("no free port in 8100-8999")


def build(site: Path):
    cmd = [sys.executable, "-m", "properdocs", "build", "--strict", "--quiet", "--site-dir", str(site)]
    print("$", " ".join(cmd), flush=True)
    subprocess.run(cmd, cwd=ROOT, check=True)


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def run_lighthouse(url: str, form: str, out: Path, chrome: str) -> dict:
    cmd = ["npx", "--yes", LIGHTHOUSE, url, "--output=json", f"--output-path={out}", "--quiet",
           f"--chrome-flags={CHROME_FLAGS}", "--only-categories=" + ",".join(CATEGORIES)]
    if form == "desktop":
        cmd.append("--preset=desktop")
    env = {**os.environ, "CHROME_PATH": chrome}
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0 or not out.is_file():
        raise RuntimeError(f"lighthouse failed on {url} ({form}):\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return json.loads(out.read_text())


def lost_points(report: dict) -> list[dict]:
    """The scored audits below 1: what costs points in each category."""
    audits, found = report["audits"], []
    for cat in CATEGORIES:
        for ref in report["categories"][cat]["auditRefs"]:
            audit = audits[ref["id"]]
            if ref.get("weight", 0) > 0 and audit.get("score") is not None and audit["score"] < 1:
                items = (audit.get("details") or {}).get("items") or []
                nodes = [i["node"].get("selector") or i["node"].get("snippet") for i in items if isinstance(i.get("node"), dict)]
                found.append({"category": cat, "id": ref["id"], "title": audit["title"], "score": audit["score"],
                              "weight": ref["weight"], "value": audit.get("displayValue", ""), "nodes": nodes[:5]})
    # Opportunities and diagnostics do not carry weight but say what to fix for performance.
    for audit in audits.values():
        details = audit.get("details") or {}
        if details.get("type") == "opportunity" and (details.get("overallSavingsMs") or 0) >= 50:
            found.append({"category": "performance (opportunity)", "id": audit["id"], "title": audit["title"],
                          "score": audit.get("score"), "weight": 0,
                          "value": f"saves ~{details['overallSavingsMs']:.0f} ms"})
    return found


def diagnostics(report: dict) -> dict:
    """Where the main thread's time goes: what to change when performance misses its target."""
    audits = report["audits"]
    items = lambda audit: ((audits.get(audit) or {}).get("details") or {}).get("items") or []  # noqa: E731
    return {
        "dom_elements": (audits.get("dom-size") or {}).get("numericValue"),
        "main_thread_ms": {i["groupLabel"]: round(i["duration"]) for i in items("mainthread-work-breakdown")},
        "long_tasks": [f"{i['url']} {i['duration']:.0f} ms" for i in items("long-tasks")[:6]],
        "script_time_ms": {i["url"]: round(i["total"]) for i in items("bootup-time")[:4]},
        "bytes": (audits.get("total-byte-weight") or {}).get("numericValue"),
    }


def summarize(reports: list[dict]) -> dict:
    scores = [{c: round(r["categories"][c]["score"] * 100) for c in CATEGORIES} for r in reports]
    median = {c: statistics.median(s[c] for s in scores) for c in CATEGORIES}
    metrics = {m: statistics.median(r["audits"][m]["numericValue"] for r in reports) for m in METRICS}
    # The run whose performance score is the median one stands for the set (its audits are reported).
    middle = sorted(range(len(reports)), key=lambda i: scores[i]["performance"])[len(reports) // 2]
    return {
        "median": median,
        "runs": scores,
        "median_metrics": {m: round(v, 3) for m, v in metrics.items()},
        # Lighthouse's CPU benchmark of this machine (a typical desktop scores 1000-2500; lower is slower).
        "benchmark_index": [round(r["environment"]["benchmarkIndex"]) for r in reports],
        "lost_points_in_median_run": lost_points(reports[middle]),
        "diagnostics_of_median_run": diagnostics(reports[middle]),
        "warnings": sorted({w for r in reports for w in r.get("runWarnings", [])}),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, help="an existing built site (default: build one)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pages", nargs="+", help="URL paths (default: every page of the nav)")
    parser.add_argument("--forms", nargs="+", default=["desktop", "mobile"], choices=["desktop", "mobile"])
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "lighthouse-results.json")
    parser.add_argument("--check", action="store_true", help="exit 1 when a median misses its target")
    parser.add_argument("--merge", action="store_true",
                        help="keep what --out already holds for the pages and forms not measured now (each page and "
                             "form records the site and date it was measured on); without it --out is rewritten")
    args = parser.parse_args(argv)

    chrome = os.environ.get("CHROME_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                          check=False).stdout.strip()
    measured = f"{args.site} (an existing build)" if args.site else f"properdocs build --strict of commit {head}"
    nav = nav_pages()
    pages = args.pages or nav
    load_start = load_average()
    version = subprocess.run([chrome, "--version"], capture_output=True, text=True, check=False).stdout.strip()
    results, kept, runs, extra = {}, {}, [], {}
    if args.merge and args.out.is_file():
        before = json.loads(args.out.read_text())
        kept, runs = before["results"], before.get("runs") or [
            {k: before[k] for k in ("site", "date", "load_average", "pages") if k in before}]
        extra = {k: v for k, v in before.items() if k in ("reruns",)}  # kept by hand beside the results
    date = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")

    def write(complete: bool) -> list[str]:
        """Write the file (after every page: a run stopped early keeps the pages it measured); the misses."""
        merged = {page: {**kept.get(page, {}), **results.get(page, {})} for page in [*kept, *results]}
        merged = dict(sorted(merged.items(), key=lambda kv: nav.index(kv[0]) if kv[0] in nav else len(nav)))
        this = {"site": measured, "date": date, "load_average": {"start": load_start, "end": load_average()},
                "pages": list(results)}
        missed = [f"{page} {form} {cat}: {summary['median'][cat]:g} < {target}"
                  for page, forms in merged.items() for form, summary in forms.items()
                  for cat, target in TARGETS[form].items() if summary["median"][cat] < target]
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({
            "tool": LIGHTHOUSE, "chromium": version, "chrome_flags": CHROME_FLAGS, "site": measured, "date": date,
            "served": "tests/browser/static_server.py, gzip, 127.0.0.1", "runs_per_setting": args.runs,
            "cores": os.cpu_count(), "load_average": this["load_average"],
            "pages": list(merged), "complete": complete, "targets": TARGETS, "missed": missed,
            **({"runs": [*runs, this]} if args.merge else {}), **extra, "results": merged,
        }, indent=2) + "\n")
        return missed

    with tempfile.TemporaryDirectory(prefix="lighthouse-") as tmp:
        site = args.site
        if site is None:
            site = Path(tmp) / "site"
            build(site)
        with StaticServer(site, port=free_port(), gzip=True, base=base_path(site)) as server:
            print(f"serving {site} gzipped at {server.url}; {LIGHTHOUSE}, {version}", flush=True)
            for page in pages:
                for form in args.forms:
                    url = server.url + page.lstrip("/")
                    reports, load_before = [], load_average()
                    for n in range(args.runs):
                        reports.append(run_lighthouse(url, form, Path(tmp) / f"report-{len(results)}-{form}-{n}.json", chrome))
                        s = {c: round(reports[-1]["categories"][c]["score"] * 100) for c in CATEGORIES}
                        print(f"  {page} {form} run {n + 1}: {s}", flush=True)
                    summary = summarize(reports)
                    summary["load_average"] = {"before": load_before, "after": load_average()}
                    summary["site"], summary["date"] = measured, date
                    results.setdefault(page, {})[form] = summary
                write(complete=False)

    missed = write(complete=True)
    print(f"\nmedian of {args.runs} runs ({LIGHTHOUSE}, {version}):")
    print(f"  {'page':26} {'form':8} " + " ".join(f"{c:>15}" for c in CATEGORIES))
    for page, forms in results.items():
        for form, summary in forms.items():
            print(f"  {page:26} {form:8} " + " ".join(f"{summary['median'][c]:>15g}" for c in CATEGORIES))
            print(f"      benchmarkIndex of this machine: {summary['benchmark_index']}")
            if summary["median"]["performance"] < TARGETS[form]["performance"]:
                for key, value in summary["diagnostics_of_median_run"].items():
                    print(f"      {key}: {value}")
            for audit in summary["lost_points_in_median_run"]:
                print(f"      - {audit['category']}: {audit['id']} ({audit['title']}) score {audit['score']} {audit['value']}"
                      + "".join(f"\n          {node}" for node in audit.get("nodes", [])))
    print("\ntargets: " + ("all met" if not missed else "MISSED:\n  " + "\n  ".join(missed)))
    print(f"wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    return 1 if (missed and args.check) else 0


if __name__ == "__main__":
    sys.exit(main())
