"""tools/lighthouse.py's bookkeeping, with Lighthouse itself replaced (its runs are the tool's, on a quiet
machine): --merge keeps what the file holds for the pages and forms not measured now; without it the file
is rewritten."""

import importlib.util
import json

import pytest

from sitetools import ROOT


@pytest.fixture
def tool(monkeypatch):
    spec = importlib.util.spec_from_file_location("lighthouse_tool", ROOT / "tools" / "lighthouse.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    def run(url, form, out, chrome):  # a report as far as the tool's printing reads it
        return {"form": form, "categories": {c: {"score": 1.0} for c in module.CATEGORIES}}

    monkeypatch.setattr(module, "run_lighthouse", run)
    monkeypatch.setattr(module, "nav_pages", lambda: ["/", "/api/"])  # the nav's order, which the file keeps
    monkeypatch.setattr(module, "summarize", lambda reports: {**scores(95 if reports[0]["form"] == "mobile" else 100),
                                                              "benchmark_index": [], "lost_points_in_median_run": []})
    return module


def scores(performance):
    return {"median": {"performance": performance, "accessibility": 100, "best-practices": 100, "seo": 100}}


def test_merge_replaces_only_what_it_measured_and_recounts_the_misses(tool, tmp_path):
    site = tmp_path / "site"
    (site / "api").mkdir(parents=True)
    (site / "index.html").write_text("<p>home</p>")
    (site / "api" / "index.html").write_text("<p>api</p>")
    out = tmp_path / "lighthouse.json"
    out.write_text(json.dumps({"site": "old build", "date": "2026-12-01T21:07:46+00:00", "pages": ["/", "/api/"],
                               "load_average": {"start": [1.0], "end": [2.0]}, "reruns": ["kept by hand"],
                               "missed": ["/api/ mobile performance: 84 < 90"],
                               "results": {"/": {"desktop": scores(100), "mobile": scores(97)},
                                           "/api/": {"desktop": scores(100), "mobile": scores(84)}}}))
    args = ["--site", str(site), "--pages", "/api/", "--forms", "mobile", "--runs", "1", "--out", str(out)]
    assert tool.main([*args, "--merge"]) == 0
    merged = json.loads(out.read_text())
    assert merged["results"]["/"] == {"desktop": scores(100), "mobile": scores(97)}
    assert merged["results"]["/api/"]["desktop"] == scores(100)
    api = merged["results"]["/api/"]["mobile"]
    assert api["median"]["performance"] == 95 and api["site"] == f"{site} (an existing build)" and api["date"] == merged["date"]
    assert merged["missed"] == [] and merged["pages"] == ["/", "/api/"] and merged["reruns"] == ["kept by hand"]
    assert [run["site"] for run in merged["runs"]] == ["old build", f"{site} (an existing build)"]
    assert merged["runs"][1]["pages"] == ["/api/"]

    assert tool.main(args) == 0  # without --merge: only what this run measured
    alone = json.loads(out.read_text())
    assert list(alone["results"]) == ["/api/"] and list(alone["results"]["/api/"]) == ["mobile"] and "runs" not in alone
