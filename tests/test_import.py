"""`import cnnref` needs NumPy only, and the package exports every public name."""

import ast
import inspect
import json
import subprocess
import sys
from pathlib import Path


import cnnref


def test_import_cnnref_imports_nothing_beyond_numpy():
    code = (
        "import sys, json; before = set(sys.modules); import cnnref; "
        "print(json.dumps(sorted({m.split('.')[0] for m in set(sys.modules) - before})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    third_party = [m for m in json.loads(out) if m not in sys.stdlib_module_names and not m.startswith("_")]
    assert sorted(third_party) == ["cnnref", "numpy"]


def test_every_exported_name_exists_and_has_a_docstring():
    for name in cnnref.__all__:
        obj = getattr(cnnref, name)
        assert obj.__doc__ and len(obj.__doc__.strip()) > 20, name


# The package's shape (issue 11): one downward order of modules, no cycle, no name shadowing its module.

PACKAGE = Path(cnnref.__file__).parent


def cnnref_imports(path):
    """The cnnref modules a module imports (from cnnref.x import ..., from cnnref import x, import cnnref.x)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("cnnref"):
            if node.module == "cnnref":
                found |= {alias.name for alias in node.names if (PACKAGE / f"{alias.name}.py").exists()}
            else:
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {alias.name.split(".")[1] for alias in node.names if alias.name.startswith("cnnref.")}
    return found


def test_modules_import_only_modules_above_them():
    order = cnnref.MODULES  # the documented order, top to bottom
    assert sorted(order) == sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__")
    for i, name in enumerate(order):
        below = set(cnnref_imports(PACKAGE / f"{name}.py")) - set(order[:i])
        assert not below, f"cnnref/{name}.py imports {sorted(below)}, which come after it in cnnref.MODULES"


def find_cycle(graph):
    """A path that comes back to where it started in {module: modules it imports}, or None."""
    state = {}

    def visit(name, path):
        if state.get(name) == "open":
            return path + [name]
        if state.get(name) != "done":
            state[name] = "open"
            for other in sorted(graph.get(name, ())):
                if cycle := visit(other, path + [name]):
                    return cycle
            state[name] = "done"
        return None

    return next((cycle for name in sorted(graph) if (cycle := visit(name, []))), None)


def test_no_import_cycle_even_inside_functions():
    graph = {p.stem: cnnref_imports(p) - {p.stem} for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    assert find_cycle(graph) is None
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]  # the check can fail


def test_no_public_name_shadows_a_module():
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    assert not modules & set(cnnref.__all__)
    for name in modules - {"__init__"}:
        assert getattr(cnnref, name, None) is None or inspect.ismodule(getattr(cnnref, name)), name
