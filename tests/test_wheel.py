"""The wheel of `pip install .` holds the cnnref package only: graphs/ (figure code) and hooks/ (MkDocs
hooks) are the site's build code, used from the repository, never installed into site-packages."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# What a build never needs to see (and that a parallel test run may be writing to).
NOT_SOURCE = (".git", ".venv", "node_modules", "site", "build", "*.egg-info", "__pycache__", ".pytest_cache",
              ".hypothesis", ".ipynb_checkpoints")


def test_the_wheel_holds_cnnref_only(tmp_path):
    source = tmp_path / "source"  # a copy: the build writes build/ and *.egg-info next to pyproject.toml
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*NOT_SOURCE))
    # Offline: the build backend (setuptools, a test dependency) from this environment, no index.
    run = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "--quiet",
         "--wheel-dir", str(tmp_path / "dist"), str(source)],
        capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    (wheel,) = (tmp_path / "dist").glob("cnnref-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names}
    dist_info = next(t for t in top if t.endswith(".dist-info"))
    assert top == {"cnnref", dist_info}, sorted(top)
    assert dist_info.startswith("cnnref-")
    modules = {Path(name).name for name in names if name.startswith("cnnref/")}
    assert {"__init__.py", "conv_layer.py"} <= modules  # the package itself is there
    assert not [n for n in names if n.endswith((".css", ".js", ".svg", ".json"))]
