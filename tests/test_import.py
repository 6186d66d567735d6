"""`import cnnref` needs NumPy only, and the package exports every public name."""

import json
import subprocess
import sys

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
