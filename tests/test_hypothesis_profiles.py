"""The Hypothesis profiles of tests/conftest.py: CI explores new examples every run, reproducibly."""

import os
import re
import subprocess
import sys
from pathlib import Path

from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
from hypothesis import given, settings, strategies as st

@settings(max_examples=5)
@given(st.integers(0, 10**9))
def test_probe(x):
    print("drawn", x)
"""


def drawn(tmp_path, probe_text=PROBE, **env):
    """The examples one probe test draws under tests/conftest.py with the given environment, and the seed."""
    probe = ROOT / "tests" / f"_probe_{tmp_path.name}_test.py"
    probe.write_text(probe_text)
    try:
        out = subprocess.run(
            [sys.executable, "-m", "pytest", str(probe), "-s", "-p", "no:cacheprovider"],
            cwd=ROOT, env={**os.environ, "CI": "", "HYPOTHESIS_PROFILE": "", "HYPOTHESIS_SEED": "", **env},
            capture_output=True, text=True, timeout=120,
        ).stdout
    finally:
        probe.unlink()
    seed = re.search(r"hypothesis profile 'ci', seed (\d+) \(rerun: HYPOTHESIS_SEED=\1 make test\)", out)
    return [line for line in out.splitlines() if line.startswith("drawn")], seed and seed[1]


def test_ci_profile_explores_and_is_not_derandomised():
    ci = settings.get_profile("ci")
    assert ci.derandomize is False and ci.database is None and ci.print_blob and ci.deadline is None
    assert settings.get_profile("dev").deadline is None


def test_ci_runs_differ_and_the_printed_seed_reruns_one(tmp_path):
    (first, seed), (second, _) = drawn(tmp_path, CI="true"), drawn(tmp_path, CI="true")
    assert seed and first and second and first != second  # new examples every CI run
    assert drawn(tmp_path, CI="true", HYPOTHESIS_SEED=seed) == (first, seed)


def test_the_mutation_profile_draws_few_examples_the_same_every_run(tmp_path):
    """make mutation: at most MUTATION_EXAMPLES per property test (conftest's collection hook), the same ones each run."""
    MUTATION_EXAMPLES = int(re.search(r"^MUTATION_EXAMPLES = (\d+)", (ROOT / "tests" / "conftest.py").read_text(), re.M)[1])
    many = PROBE.replace("max_examples=5", f"max_examples={4 * MUTATION_EXAMPLES}")
    first, _ = drawn(tmp_path, many, HYPOTHESIS_PROFILE="mutation")
    assert 0 < len(first) <= MUTATION_EXAMPLES
    assert drawn(tmp_path, many, HYPOTHESIS_PROFILE="mutation")[0] == first
