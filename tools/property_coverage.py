"""Branch coverage of cnnref by the property tests alone (`make property-coverage`): benchmarks/property-coverage.json.

Runs the Hypothesis tests (pytest -m hypothesis: no example test, no page) under `coverage run --branch`,
and lists every statement or branch of cnnref they leave unreached. Each must have its reason in
UNREACHED below (keyed by file and the line's code, so that moving code keeps its reason); the script
exits 1 naming any that has none, and any reason whose line no longer exists or is now reached.
"""

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "property-coverage.json"

# (file, the line's code as written, stripped) -> why no property test reaches it
UNREACHED = {
    ("cnnref/checks.py", "except (ValueError, OSError, AttributeError):"):
        "only on a system without sysconf's page counts (not Linux): the memory limit falls back to 1 TiB",
    ("cnnref/checks.py", "return 1 << 40"):
        "the same fallback, run once at import",
    ("cnnref/fast_conv.py", "except RuntimeError:  # the interpreter is shutting down (atexit, a thread outliving main): no new threads"):
        "only while the interpreter shuts down (a pool refuses new work): not reachable from a test's body",
    ("cnnref/fast_conv.py", "return [function(item) for item in items]"):
        "the same shutdown fallback (the line after the except)",
    ("cnnref/fast_conv.py", "if not np.may_share_memory(view, A):"):
        "its true branch is the internal guard below",
    ("cnnref/fast_conv.py", 'raise AssertionError(f"internal: reshaping {A.shape} (strides {A.strides}) to {shape} would copy")'):
        "an internal guard correct code never trips: test_conv2d_fast.py trips it on purpose with a gapped array",
    ("cnnref/layers.py", "raise NotImplementedError"):
        "the abstract Layer's __call__ and backward: every layer overrides them (a property test of the base class would test nothing)",
}


def main():
    env = {**os.environ, "HYPOTHESIS_PROFILE": os.environ.get("HYPOTHESIS_PROFILE", "dev")}
    data = ROOT / ".coverage-properties"
    run = [sys.executable, "-m", "coverage", "run", f"--data-file={data}", "--branch", "--source=cnnref",
           "-m", "pytest", "tests", "-m", "hypothesis", "-q", "-p", "no:cacheprovider"]
    subprocess.run(run, cwd=ROOT, env=env, check=True)
    report = ROOT / ".coverage-properties.json"
    subprocess.run([sys.executable, "-m", "coverage", "json", f"--data-file={data}", "-o", str(report), "-q"], cwd=ROOT, check=True)
    cov = json.loads(report.read_text())
    data.unlink()
    report.unlink()

    uncovered, missing_reason = [], []
    for path, entry in sorted(cov["files"].items()):
        lines = (ROOT / path).read_text().splitlines()
        places = {n for n in entry["missing_lines"]} | {a for a, _ in entry["missing_branches"] if a > 0}
        for n in sorted(places):
            code = lines[n - 1].strip()
            branches = [b for a, b in entry["missing_branches"] if a == n]
            reason = UNREACHED.get((path, code))
            uncovered.append({"file": path, "line": n, "code": code, "branches_to": branches, "reason": reason})
            if reason is None:
                missing_reason.append(f"{path}:{n}: {code}")
    stale = [key for key in UNREACHED if not any((u["file"], u["code"]) == key for u in uncovered)]

    totals = cov["totals"]
    result = {
        "date": date.today().isoformat(),
        "command": "make property-coverage",
        "tests": "pytest tests -m hypothesis (the property tests alone)",
        "statements": totals["num_statements"], "statements_covered": totals["covered_lines"],
        "branches": totals["num_branches"], "branches_covered": totals["covered_branches"],
        "percent": round(totals["percent_covered"], 2),
        "uncovered": uncovered,
    }
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(f"property tests: {totals['covered_branches']} of {totals['num_branches']} branches, "
          f"{totals['covered_lines']} of {totals['num_statements']} statements of cnnref; written to {OUT.relative_to(ROOT)}")
    for u in uncovered:
        print(f"  {u['file']}:{u['line']}: {u['code']}\n      {u['reason'] or 'NO REASON GIVEN'}")
    if missing_reason or stale:
        print("\nNot reached and without a reason in tools/property_coverage.py's UNREACHED:\n  " + "\n  ".join(missing_reason)
              if missing_reason else "")
        print("\nReasons for lines that are now reached or gone:\n  " + "\n  ".join(map(str, stale)) if stale else "")
        sys.exit(1)


if __name__ == "__main__":
    main()
