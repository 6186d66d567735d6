"""The mutation score of cnnref (`make mutation`, after `mutmut run`): benchmarks/mutation.json.

Reads mutmut's results in mutants/, and the mutants judged equivalent (they compute what the original
computes, so no test can kill them) from benchmarks/mutation-equivalent.md, a table keyed by the
mutated function and the mutated line. The score counts killed mutants (timeouts included: the tests
stopped them) over all mutants but the equivalent ones. Exits 1 naming every survivor that is neither
killed nor listed, and every listed mutant that is no longer a survivor (the list stays true).

A run may cover some modules only (`make mutation MODULES="checks shapes"`: a whole run takes hours on
two cores). The score counts the modules whose every mutant was checked; the file lists the others
with their number of mutants (mutmut generates every module's) and mutmut's own worst case for them:
every mutant running every test that reaches its function (as a survivor does; a killed mutant stops
at its first failing test), from the test durations of mutants/mutmut-stats.json, on WORKERS workers.
For the modules run, the file gives the test time mutmut recorded against that same worst case.
"""

import json
import re
import sys
from collections import Counter
from datetime import date
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "mutation.json"
EQUIVALENT = ROOT / "benchmarks" / "mutation-equivalent.md"

def status(code):
    """mutmut's own reading of a worker's exit code, in the report's six kinds (a crash, -11 or -9: the tests stopped it too)."""
    from mutmut.stats import status_by_exit_code

    kind = status_by_exit_code[code]
    return {"segfault": "crashed"}.get(kind, kind if kind in ("killed", "timeout", "survived", "no tests", "not checked") else "suspicious")


def mutation(name, path):
    """(function, the mutated line) of a mutant: what the equivalent list is keyed by."""
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    diff = get_diff_for_mutant(name, path=path)
    added = [line[1:].strip() for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")]
    removed = [line[1:].strip() for line in diff.splitlines() if line.startswith("-") and not line.startswith("---")]
    return function_of(name), " / ".join(added), " / ".join(removed)


def function_of(name):
    """cnnref.shapes.x_output_size__mutmut_3 -> cnnref.shapes.output_size; xǁNetǁsgd_step -> Net.sgd_step."""
    module, _, mangled = name.partition("__mutmut_")[0].rpartition(".")
    if mangled.startswith("xǁ"):
        cls, _, method = mangled[2:].partition("ǁ")
        return f"{module}.{cls}.{method}"
    return f"{module}.{mangled[2:]}"


def listed():
    """{(function, mutated line): reason} from the table in benchmarks/mutation-equivalent.md."""
    table = {}
    for line in EQUIVALENT.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("| `") else []
        if len(cells) == 3:
            function, mutated, reason = (c.strip("`") for c in cells)
            table[(function, mutated.replace("\\|", "|"))] = reason
    return table


WORKERS = 2  # make mutation's --max-children: the estimate of a module not run divides its test time by this


def main():
    sys.path.insert(0, str(ROOT))
    counts, per_module, survivors, not_run = Counter(), {}, [], {}
    seconds, worst_run = 0.0, 0.0
    stats = json.loads((ROOT / "mutants" / "mutmut-stats.json").read_text())
    tests, duration = stats["tests_by_mangled_function_name"], stats["duration_by_test"]

    def worst(name):  # seconds of every test that reaches the mutated function
        return sum(duration.get(t, 0.0) for t in tests.get(name.partition("__mutmut_")[0], ()))
    for meta in sorted((ROOT / "mutants" / "cnnref").glob("*.py.meta")):
        module = meta.name[: -len(".py.meta")]
        data = json.loads(meta.read_text())
        results = data["exit_code_by_key"]
        if not results:
            continue  # __init__.py: re-exports only, nothing to mutate
        statuses = Counter(status(code) for code in results.values())
        if statuses["not checked"]:  # not run, or stopped part way: left out of the score
            left = sum(worst(name) for name, code in results.items() if code is None)
            not_run[module] = {"mutants": len(results), "checked": len(results) - statuses["not checked"],
                               "worst_case_minutes": round(left / WORKERS / 60)}
            continue
        counts.update(statuses)
        per_module[module] = dict(statuses)
        durations = data.get("durations_by_key", {})
        seconds += sum(durations.get(name, 0.0) for name in results)
        worst_run += sum(worst(name) for name in results)
        survivors += [(name, Path("cnnref") / f"{module}.py") for name, code in results.items() if code == 0]
    if not per_module:
        sys.exit("no module has all its mutants checked: run `make mutation` (or with MODULES=...) to the end")

    equivalent, unexplained, found = [], [], set()
    table = listed()
    for name, path in survivors:
        function, added, removed = mutation(name, path)
        reason = table.get((function, added))
        if reason:
            found.add((function, added))
            equivalent.append({"mutant": name, "function": function, "from": removed, "to": added, "reason": reason})
        else:
            unexplained.append(f"{name}  ({function}: {removed!r} -> {added!r})")
    # a listed mutant of a module run that no longer survives (those of modules not run wait for their run)
    stale = [key for key in table if key not in found and key[0].split(".")[1] in per_module]

    total = sum(counts.values())
    killed = counts["killed"] + counts["timeout"] + counts["crashed"]
    result = {
        "date": date.today().isoformat(),
        "tool": f"mutmut {version('mutmut')}",
        "command": "make mutation",
        "tests": "the unit and property tests (at most 5 examples each, derandomised) and the pages (Sybil, "
                 "a page as one test), those that reach each mutated function",
        "mutants": total,
        "killed": counts["killed"],
        "timeout": counts["timeout"],
        "crashed": counts["crashed"],
        "survived": counts["survived"],
        "equivalent": len(equivalent),
        "no_tests": counts["no tests"],
        "suspicious": counts["suspicious"],
        "score": round(killed / (total - len(equivalent)), 4) if total > len(equivalent) else None,
        "modules_run": list(per_module),
        "per_module": per_module,
        "workers": WORKERS,
        "test_minutes_run": round(seconds / WORKERS / 60),  # what mutmut recorded for the modules run
        "worst_case_minutes_run": round(worst_run / WORKERS / 60),
        "modules_not_run": not_run,
        "mutants_not_run": sum(e["mutants"] - e["checked"] for e in not_run.values()),
        "worst_case_minutes_not_run": sum(e["worst_case_minutes"] for e in not_run.values()),
        "equivalent_mutants": equivalent,
        "unexplained_survivors": [u.split("  ")[0] for u in unexplained],
    }
    OUT.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"{len(per_module)} modules, {total} mutants: {killed} killed ({counts['timeout']} by timeout, {counts['crashed']} by a crash), {counts['survived']} "
          f"survived, {len(equivalent)} of them equivalent; score {result['score']:.1%}; written to {OUT.relative_to(ROOT)}")
    if not_run:
        print(f"not run: {', '.join(not_run)} ({result['mutants_not_run']} mutants, at most "
              f"{result['worst_case_minutes_not_run']} minutes on {WORKERS} workers; the modules run took "
              f"{result['test_minutes_run']} of their worst case {result['worst_case_minutes_run']})")
    if unexplained:
        print(f"\n{len(unexplained)} survivors neither killed nor listed in {EQUIVALENT.relative_to(ROOT)}:\n  "
              + "\n  ".join(unexplained))
    if stale:
        print(f"\nListed as equivalent but no longer surviving (remove them): {stale}")
    if unexplained or stale:
        sys.exit(1)


if __name__ == "__main__":
    main()
