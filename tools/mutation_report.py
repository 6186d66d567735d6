"""The mutation score of cnnref (`make mutation`, after `mutmut run`): benchmarks/mutation.json.

Reads mutmut's results in mutants/, and the mutants judged equivalent (they compute what the original
computes, so no test can kill them) from benchmarks/mutation-equivalent.md, a table keyed by the
mutated function and the mutated line. The score counts killed mutants (timeouts included: the tests
stopped them) over all mutants but the equivalent ones. Exits 1 naming every survivor that is neither
killed nor listed, and every listed mutant that is no longer a survivor (the list stays true).
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
STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", 34: "skipped", 35: "suspicious",
          36: "timeout", 24: "timeout", -24: "timeout", 152: "timeout", 255: "timeout", None: "not checked"}


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


def main():
    sys.path.insert(0, str(ROOT))
    counts, per_module, survivors = Counter(), {}, []
    for meta in sorted((ROOT / "mutants" / "cnnref").glob("*.py.meta")):
        module = meta.name[: -len(".py.meta")]
        results = json.loads(meta.read_text())["exit_code_by_key"]
        statuses = Counter(STATUS.get(code, "suspicious") for code in results.values())
        counts.update(statuses)
        if results:
            per_module[module] = dict(statuses)
        survivors += [(name, Path("cnnref") / f"{module}.py") for name, code in results.items() if code == 0]
    if counts["not checked"]:
        sys.exit(f"{counts['not checked']} mutants not checked yet: run `make mutation` to the end")

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
    stale = [key for key in table if key not in found]

    total = sum(counts.values())
    killed = counts["killed"] + counts["timeout"]
    result = {
        "date": date.today().isoformat(),
        "tool": f"mutmut {version('mutmut')}",
        "command": "make mutation",
        "tests": "the unit and property tests (at most 5 examples each, derandomised) and the pages (Sybil), "
                 "those that reach each mutated function",
        "mutants": total,
        "killed": counts["killed"],
        "timeout": counts["timeout"],
        "survived": counts["survived"],
        "equivalent": len(equivalent),
        "no_tests": counts["no tests"],
        "suspicious": counts["suspicious"],
        "score": round(killed / (total - len(equivalent)), 4) if total > len(equivalent) else None,
        "per_module": per_module,
        "equivalent_mutants": equivalent,
        "unexplained_survivors": [u.split("  ")[0] for u in unexplained],
    }
    OUT.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"{total} mutants: {killed} killed ({counts['timeout']} by timeout), {counts['survived']} survived, "
          f"{len(equivalent)} of them equivalent; score {result['score']:.1%}; written to {OUT.relative_to(ROOT)}")
    if unexplained:
        print(f"\n{len(unexplained)} survivors neither killed nor listed in {EQUIVALENT.relative_to(ROOT)}:\n  "
              + "\n  ".join(unexplained))
    if stale:
        print(f"\nListed as equivalent but no longer surviving (remove them): {stale}")
    if unexplained or stale:
        sys.exit(1)


if __name__ == "__main__":
    main()
