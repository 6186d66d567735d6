"""Issue 12 (hardening): one regression test per item, each with the issue's reproducer.

Every test asserts the correct behaviour: the right numbers, or a ValueError / TypeError /
MemoryError whose message names the argument. Huge requests, crashes (item 1's segfault), interpreter
shutdown (item 7) and environment variables (item 8) run in a subprocess, huge ones under an address
space limit so that a regression fails the test instead of the machine.

The promotion rule (item 4), one for every layer function (checks.float_type):

    np.result_type(*inputs, np.float64 if any input is an integer array else np.float32)

so products and sums are computed in a floating type, never in an integer type, and nothing wraps:
int8 hundreds multiply to 10000.0 and int64 sums stay exact to 2**53; float32 stays float32, float16
becomes float32, float64 stays float64. Functions that only select or move numbers (zero_pad, im2col,
max_pool, relu) keep the input dtype: they compute nothing that could overflow. The expected values
below are computed in float64 (or with Python ints) and compared within the result dtype's tolerance.
The mathematical functions (convolve, impulse_responses) may stay exact (Python ints, Fractions, or
an integer dtype wide enough) or follow the rule; they never wrap.
"""

import inspect
import json
import re
import subprocess
import sys
import textwrap
import tracemalloc
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

import cnnref as c

ROOT = Path(__file__).resolve().parent.parent


def assert_names(error, *names):
    """The exception's message names (as a word) at least one of `names`."""
    message = str(error.value if hasattr(error, "value") else error)
    assert any(re.search(rf"(?<![A-Za-z0-9_]){re.escape(n)}(?![A-Za-z0-9_])", message) for n in names), (
        f"the message {message!r} names none of {names}"
    )


def assert_same(got, expected):
    """The same arrays (or tuples of arrays, as the backward passes return)."""
    got, expected = (v if isinstance(v, tuple) else (v,) for v in (got, expected))
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        np.testing.assert_array_equal(g, e)


def run_python(code, env=None, timeout=120, limit=4 << 30):
    """Run `code` in a fresh interpreter under an address-space limit; returns the CompletedProcess."""
    preamble = f"import resource\nresource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))\n" if limit else ""
    environment = {"PATH": "/usr/bin:/bin", "OPENBLAS_NUM_THREADS": "1", **(env or {})}
    return subprocess.run(
        [sys.executable, "-c", preamble + textwrap.dedent(code)],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=timeout,
    )


# 1. Out-of-bounds read in im2col when a hyperparameter is a small NumPy integer


def test_item1_im2col_with_an_int8_stride_reads_the_right_numbers():
    X = np.arange(17.0).reshape(17, 1, 1)
    np.testing.assert_array_equal(c.im2col(X, 1, S=np.int8(16)), [[0.0, 16.0]])


def test_item1_im2col_with_an_int16_stride_does_not_crash():
    # (256, 1, 3839): a row is 3839 * 8 bytes, times S = int16(255) wraps; the process segfaulted.
    result = run_python("""
        import numpy as np, cnnref as c
        X = np.arange(256 * 3839, dtype=float).reshape(256, 1, 3839)
        X_col = c.im2col(X, 1, S=np.int16(255))
        print(X_col.shape == (3839, 2) and bool((X_col == X[[0, 255], 0, :].T).all()))
    """)
    assert result.returncode == 0, f"exit code {result.returncode}: {result.stderr[-2000:]}"
    assert result.stdout.strip() == "True"


def _strided_calls():
    """Every function taking a stride, on 17 rows with F = 1 and S = 16: two output rows, 0 and 16."""
    X, W = np.arange(17.0 * 2).reshape(17, 1, 2), np.ones((3, 1, 1, 2))
    dV_conv, dV_pool = np.ones((2, 1, 3)), np.ones((2, 1, 2))
    return {
        "im2col": lambda S: c.im2col(X, 1, S=S),
        "col2im": lambda S: c.col2im(np.arange(4.0).reshape(2, 2), (17, 1, 2), 1, S=S),
        "conv2d": lambda S: c.conv2d(X, W, S=S),
        "conv2d_naive": lambda S: c.conv2d_naive(X, W, S=S),
        "conv2d_backward": lambda S: c.conv2d_backward(dV_conv, X, W, S=S),
        "max_pool": lambda S: c.max_pool(X, F=1, S=S),
        "avg_pool": lambda S: c.avg_pool(X, F=1, S=S),
        "max_pool_backward": lambda S: c.max_pool_backward(dV_pool, X, F=1, S=S),
        "avg_pool_backward": lambda S: c.avg_pool_backward(dV_pool, X, F=1, S=S),
        "conv2d_fast": lambda S: c.conv2d_fast(X, W, S=S),
        "conv_transpose2d": lambda S: c.conv_transpose2d(dV_conv, W, S=S),
    }


@pytest.mark.parametrize("name", sorted(_strided_calls()))
def test_item1_every_strided_function_takes_an_int8_stride_as_the_number(name):
    call = _strided_calls()[name]
    assert_same(call(np.int8(16)), call(16))


# 2. crop_scores with a NumPy integer stride takes the wrong crops


def test_item2_crop_scores_with_an_int8_stride_takes_the_right_crops():
    net = c.Net((8, 8, 1), [c.FCLayer(K=1, W=np.arange(64.0).reshape(1, 64), b=np.zeros(1))])
    image = np.random.default_rng(2).normal(size=(208, 208, 1))
    scores = c.crop_scores(net, image, np.int8(100))
    assert scores.shape == (3, 3, 1)
    for i in range(3):
        for j in range(3):  # crop (i, j) starts at (100 i, 100 j): rows 200-208 for i = 2
            crop = image[100 * i : 100 * i + 8, 100 * j : 100 * j + 8].ravel()
            np.testing.assert_allclose(scores[i, j, 0], crop @ np.arange(64.0), rtol=1e-12)


# 3. sum_of_dice with a NumPy integer number of faces


def _dice_counts(n, faces):
    """counts[s - n] = number of the faces**n outcomes of n dice summing to s, in Python ints."""
    counts = [1]
    for _ in range(n):
        new = [0] * (len(counts) + faces - 1)
        for i, ways in enumerate(counts):
            for f in range(faces):
                new[i + f] += ways
        counts = new
    return counts


@pytest.mark.parametrize("n, faces", [(5, np.uint8(6)), (12, np.uint8(6)), (30, np.int64(6)), (3, np.int8(100))])
def test_item3_sum_of_dice_with_numpy_integer_faces_is_exact(n, faces):
    pmf = c.sum_of_dice(n, faces=faces, exact=True)
    total = int(faces) ** n
    assert pmf.start == n
    assert list(pmf.p) == [Fraction(k, total) for k in _dice_counts(n, int(faces))]
    assert sum(pmf.p) == 1


# 4. One promotion rule: products in a floating type, never wrapped


def rule(*arrays):
    """The promotion rule: at least float64 for any integer input, else NumPy's promotion with float32."""
    dtypes = [np.asarray(a).dtype for a in arrays]
    return np.result_type(*dtypes, np.float64 if any(d.kind in "iu" for d in dtypes) else np.float32)


def test_item4_conv2d_naive_on_int8_hundreds_gives_90000():
    X, W = np.full((3, 3, 1), 100, np.int8), np.full((1, 3, 3, 1), 100, np.int8)
    V = c.conv2d_naive(X, W)
    assert V.dtype == rule(X, W) == np.float64
    np.testing.assert_array_equal(V, [[[90000.0]]])
    np.testing.assert_array_equal(c.conv2d(X, W), V)


def test_item4_conv2d_naive_on_uint8_does_not_wrap():
    X, W = np.full((3, 3, 1), 200, np.uint8), np.full((1, 3, 3, 1), 100, np.uint8)
    V = c.conv2d_naive(X, W, b=np.array([7], np.uint8))
    assert V.dtype == np.float64
    np.testing.assert_array_equal(V, [[[9 * 200 * 100 + 7]]])


def test_item4_conv2d_naive_on_float16_computes_in_float32():
    X, W = np.full((3, 3, 1), 300, np.float16), np.full((1, 3, 3, 1), 300, np.float16)
    V = c.conv2d_naive(X, W)  # 9 * 300 * 300 = 810000 overflows float16 (max 65504)
    assert V.dtype == np.float32
    np.testing.assert_array_equal(V, [[[810000.0]]])


def test_item4_fc_on_uint8_does_not_wrap():
    X, W, b = np.full((1, 1, 2), 200, np.uint8), np.full((1, 2), 2, np.uint8), np.zeros(1, np.uint8)
    V = c.fc(X, W, b)  # 200 * 2 + 200 * 2 = 800 (64 or 32 when wrapped in uint8)
    assert V.dtype == rule(X, W, b) == np.float64
    np.testing.assert_array_equal(V, [800.0])


def test_item4_fc_on_int64_inputs_gives_floats_by_the_rule():
    big = 3_000_000_000
    X, W, b = np.full((2,), big, np.int64), np.full((1, 2), big, np.int64), np.ones(1, np.int64)
    V = c.fc(X, W, b)  # 2 * 9e18 + 1 overflows int64
    assert V.dtype == np.float64
    np.testing.assert_allclose(V, [2.0 * big * big + 1], rtol=1e-15)


@pytest.mark.parametrize("dtype", [np.int8, np.uint8])
def test_item4_convolve_and_impulse_responses_do_not_wrap(dtype):
    f, g = np.array([100, 100], dtype), np.array([100, 2], dtype)
    exact_rows = [[10000, 200, 0], [0, 10000, 200]]
    rows = c.impulse_responses(f, g)
    assert [[int(v) for v in row] for row in rows.tolist()] == exact_rows
    assert [int(v) for v in c.convolve(f, g).tolist()] == [10000, 10200, 200]
    for result in (rows, c.convolve(f, g)):  # exact (object, wide integers) or floats by the rule
        assert result.dtype == object or result.dtype.itemsize >= 4


# 5. avg_pool_backward with NumPy integer F


def test_item5_avg_pool_backward_with_int8_window():
    dX = c.avg_pool_backward(np.ones((1, 1, 1)), np.zeros((16, 16, 1)), F=np.int8(16), S=np.int8(16))
    np.testing.assert_array_equal(dX, np.full((16, 16, 1), 1 / 256))


def test_item5_avg_pool_backward_with_int64_window_keeps_float32():
    dV, X = np.full((1, 1, 1), 4, np.float32), np.zeros((2, 2, 1), np.float32)
    dX = c.avg_pool_backward(dV, X, F=np.int64(2), S=np.int64(2))
    assert dX.dtype == np.float32
    np.testing.assert_array_equal(dX, np.ones((2, 2, 1), np.float32))


# 6. Huge requests fail at once, naming the bytes needed; a huge stride is a ValueError naming S

_UNITS = {"": 1, "b": 1, "byte": 1, "bytes": 1, "kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12, "pb": 1e15, "eb": 1e18,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40, "pib": 2**50, "eib": 2**60}


def bytes_named(message):
    """The largest amount of memory the message names ("3.2e15 bytes", "2.84 PiB", "307,200,000 bytes")."""
    amounts = re.findall(r"(\d[\d,_]*(?:\.\d+)?(?:[eE][+-]?\d+)?)\s*(bytes|byte|[KMGTPE]i?B|B)\b", message)
    return max((float(n.replace(",", "").replace("_", "")) * _UNITS[u.lower()] for n, u in amounts), default=0)


def huge_call(call, setup="", timeout=20):
    """Run `call` in a subprocess under a 4 GiB address-space limit; its outcome, time and traced peak."""
    try:
        result = run_python(f"""
        import json, time, tracemalloc
        import numpy as np, cnnref as c
        {setup}
        tracemalloc.start()
        start = time.perf_counter()
        try:
            value = {call}
            outcome = {{"error": None, "value": np.asarray(value).tolist() if np.size(value) < 100 else None}}
        except BaseException as e:
            outcome = {{"error": type(e).__name__, "message": str(e)}}
        outcome["seconds"] = time.perf_counter() - start
        outcome["peak"] = tracemalloc.get_traced_memory()[1]
        print(json.dumps(outcome))
        """, timeout=timeout)
    except subprocess.TimeoutExpired:
        result = None
    if result is None:
        pytest.fail(f"{call}: still running after {timeout} s")
    assert result.returncode == 0, f"{call}: exit code {result.returncode}: {result.stderr[-2000:]}"
    return json.loads(result.stdout.strip().splitlines()[-1])


def assert_fails_fast(outcome, needed):
    """MemoryError within 1 s, nothing big allocated, the message naming at least `needed` bytes."""
    assert outcome["error"] == "MemoryError", outcome
    assert outcome["seconds"] < 1.0, outcome
    assert outcome["peak"] < 64 << 20, outcome
    named = bytes_named(outcome["message"])  # rounded, e.g. to 0.1 GiB
    assert named >= 0.99 * needed, f"the message names fewer than {needed:.3g} bytes: {outcome}"


def test_item6_conv2d_with_huge_padding_fails_fast():
    outcome = huge_call("c.conv2d(np.ones((1, 1, 1)), np.ones((1, 3, 3, 1)), P=10**7)")
    assert_fails_fast(outcome, needed=(2 * 10**7 - 1) ** 2 * 8)  # the output (H2, W2, 1) in float64


def test_item6_conv2d_on_a_20000_square_input_fails_before_padding():
    # A broadcast input takes no memory; K = 96 filters 11x11x3 with P = 5 make a 286 GiB output.
    outcome = huge_call("c.conv2d(X, np.zeros((96, 11, 11, 3)), P=5)",
                        setup="X = np.broadcast_to(np.zeros((1, 1, 1)), (20000, 20000, 3))")
    assert_fails_fast(outcome, needed=20000 * 20000 * 96 * 8)


def _huge_requests():
    """(call, setup, bytes needed at least) for every function that allocates in proportion to its arguments."""
    one, big = "np.ones((1, 1, 1))", (2 * 10**7 - 1) ** 2 * 8
    cases = {
        "conv2d_naive": ("c.conv2d_naive(np.ones((1, 1, 1)), np.ones((1, 3, 3, 1)), P=10**7)", "", big),
        "im2col": (f"c.im2col({one}, 3, P=10**7)", "", 9 * big),
        "zero_pad": (f"c.zero_pad({one}, 10**7)", "", big),
        "conv2d_backward": ("c.conv2d_backward(dV, np.ones((1, 1, 1)), np.ones((1, 3, 3, 1)), P=10**7)",
                            "dV = np.broadcast_to(1.0, (2 * 10**7 - 1, 2 * 10**7 - 1, 1))", big),
        "col2im": ("c.col2im(X_col, (1, 1, 1), 3, P=10**7)",
                   "X_col = np.broadcast_to(1.0, (9, (2 * 10**7 - 1) ** 2))", big),
        "max_pool": ("c.max_pool(X, F=1, S=1)", "X = np.broadcast_to(1.0, (10**6, 10**6, 1))", 8e12),
        "avg_pool": ("c.avg_pool(X, F=1, S=1)", "X = np.broadcast_to(1.0, (10**6, 10**6, 1))", 8e12),
        "impulse_responses": ("c.impulse_responses(f, f)", "f = np.broadcast_to(1.0, 10**6)", 8 * 10**6 * (2 * 10**6 - 1)),
        "convolve": ("c.convolve(f, [1.0])", "f = np.broadcast_to(1.0, 10**12)", 8e12),
        "dice_pmf": ("c.dice_pmf(10**12)", "", 8e12),
        "dice_pmf exact": ("c.dice_pmf(10**12, exact=True)", "", 8e12),
        "Net.init": ("c.Net((8, 8, 3), [c.ConvLayer(K=10**9, F=3)]).init()", "", 10**9 * 27 * 8),
        "conv2d_fast": ("c.conv2d_fast(np.ones((1, 1, 1)), np.ones((1, 3, 3, 1)), P=10**7)", "", big),
        "conv_transpose2d": ("c.conv_transpose2d(np.ones((2, 2, 1)), np.ones((1, 3, 3, 1)), S=10**7)", "",
                             (10**7 + 3) ** 2 * 8),
        "window_positions": ("c.window_positions(10**6, 3)", "", 2 * (10**6) ** 2 * 8),
        "crop_scores": ("c.crop_scores(net, image, 1)",
                        "net = c.alexnet_like(32, (1,) * 5, (2,), 2)\n"
                        "        image = np.broadcast_to(np.zeros((1, 1, 1)), (10**4, 10**4, 3))",
                        (10**4 - 31) ** 2 * 32 * 32 * 3 * 8),
    }
    return cases


@pytest.mark.parametrize("name", sorted(_huge_requests()))
def test_item6_every_allocating_function_fails_fast_on_a_huge_request(name):
    call, setup, needed = _huge_requests()[name]
    assert_fails_fast(huge_call(call, setup), needed)


def _one_window_calls():
    """Calls whose only window fits, at a stride of 10**18: F equals the input size."""
    X, W, dV = np.ones((3, 3, 2)), np.ones((1, 3, 3, 2)), np.ones((1, 1, 1))
    return {
        "max_pool": lambda S: c.max_pool(X, F=3, S=S),
        "avg_pool": lambda S: c.avg_pool(X, F=3, S=S),
        "max_pool_backward": lambda S: c.max_pool_backward(np.ones((1, 1, 2)), X, F=3, S=S),
        "avg_pool_backward": lambda S: c.avg_pool_backward(np.ones((1, 1, 2)), X, F=3, S=S),
        "conv2d": lambda S: c.conv2d(X, W, S=S),
        "conv2d_naive": lambda S: c.conv2d_naive(X, W, S=S),
        "conv2d_backward": lambda S: c.conv2d_backward(dV, X, W, S=S),
        "im2col": lambda S: c.im2col(X, 3, S=S),
        "col2im": lambda S: c.col2im(np.ones((18, 1)), (3, 3, 2), 3, S=S),
        "conv2d_fast": lambda S: c.conv2d_fast(X, W, S=S),
    }


@pytest.mark.parametrize("name", sorted(_one_window_calls()))
def test_item6_a_stride_of_10_to_the_18_is_the_one_window_or_a_value_error_naming_S(name):
    call = _one_window_calls()[name]
    expected = call(3)  # one window: the stride does not matter
    try:
        got = call(10**18)
    except ValueError as error:
        assert_names(error, "S")
        return
    assert_same(got, expected)


# 7. The threaded path after interpreter shutdown

_THREADED_CASE = """
import numpy as np, cnnref as c
rng = np.random.default_rng(7)
X, W, b = rng.normal(size=(8, 64, 64, 3)), rng.normal(size=(12, 3, 3, 3)), rng.normal(size=12)
def check():  # CIFAR-like: stride 1, K (F F D1 + 1) <= 1024, several blocks per image: the threaded path
    V = c.conv2d_fast(X, W, b, P=1)
    ok = np.allclose(V, c.conv2d(X, W, b, P=1), rtol=1e-10, atol=1e-10)  # conv2d: the notes' one multiply
    print("ok" if ok else "wrong numbers", flush=True)
"""


@pytest.mark.parametrize("warm", [False, True], ids=["first-use", "pool-warm"])
def test_item7_threaded_path_in_an_atexit_handler(warm):
    code = _THREADED_CASE + ("check()\n" if warm else "") + "import atexit\natexit.register(check)\n"
    result = run_python(code, env={"CNNREF_THREADS": "2"})
    assert result.returncode == 0 and result.stdout.split() == ["ok"] * (1 + warm), result.stdout + result.stderr[-2000:]


def test_item7_threaded_path_from_a_thread_still_running_after_main_returns():
    code = _THREADED_CASE + textwrap.dedent("""
        import threading, time
        def late():
            while threading.main_thread().is_alive():
                time.sleep(0.01)
            time.sleep(0.3)  # the interpreter is shutting down: concurrent.futures refuses new work
            check()
        threading.Thread(target=late).start()  # non-daemon: the interpreter waits for it
    """)
    result = run_python(code, env={"CNNREF_THREADS": "2"})
    assert result.returncode == 0 and result.stdout.split() == ["ok"], result.stdout + result.stderr[-2000:]


# 8. CNNREF_THREADS: capped at the usable cores (and said so); a bad value names the variable


def test_item8_cnnref_threads_is_capped_at_the_usable_cores():
    code = """
        import os
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one usable core
        import threading, warnings
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
    """ + textwrap.indent(_THREADED_CASE, " " * 12) + """
            check()
        print(threading.active_count() - 1)  # threads besides the main one
        print(any("CNNREF_THREADS" in str(w.message) for w in caught))
    """
    result = run_python(code, env={"CNNREF_THREADS": "100000"}, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    ok, threads, warned = result.stdout.split()
    assert ok == "ok"
    assert int(threads) <= 1, f"{threads} threads started on one usable core"
    assert warned == "True", "no warning says that CNNREF_THREADS was capped"


@pytest.mark.parametrize("value", ["²", "①", "abc", "0"])
def test_item8_a_bad_cnnref_threads_is_a_value_error_naming_it(value):
    code = _THREADED_CASE.replace("import numpy as np, cnnref as c", "import numpy as np") + """
try:
    import cnnref as c
    check()
except ValueError as error:
    print("ValueError:", error)
"""
    result = run_python(code, env={"CNNREF_THREADS": value, "PYTHONIOENCODING": "utf-8"})
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("ValueError:") and "CNNREF_THREADS" in result.stdout, result.stdout


# 9. Unclear errors (seven cases)


def test_item9_a_list_of_biases_in_conv2d_and_conv_layer():
    X, W = np.arange(4.0).reshape(2, 2, 1), np.ones((2, 1, 1, 1))
    expected = np.stack([X[:, :, 0] + 0.5, X[:, :, 0] + 1.0], axis=-1)
    np.testing.assert_array_equal(c.conv2d(X, W, b=[0.5, 1.0]), expected)
    np.testing.assert_array_equal(c.conv2d_naive(X, W, b=[0.5, 1.0]), expected)
    np.testing.assert_array_equal(c.ConvLayer(K=2, F=1, W=W, b=[0.5, 1.0])(X), expected)


def test_item9_conv2d_backward_with_a_list_input_and_a_wrong_dV():
    with pytest.raises(ValueError) as error:
        c.conv2d_backward(np.ones((5, 5, 1)), [[[1.0]]], np.ones((1, 1, 1, 1)))
    assert_names(error, "dV")


def test_item9_a_pmf_at_a_non_integer():
    die = c.dice_pmf(exact=True)
    try:
        assert die[3.5] == 0  # a die never shows 3.5
    except (TypeError, ValueError) as error:
        assert "3.5" in str(error)
    assert die[np.int8(3)] == Fraction(1, 6) and die[np.uint64(7)] == 0


def test_item9_net_with_a_layer_that_is_none():
    with pytest.raises(TypeError) as error:
        c.Net((8, 8, 3), [None])
    assert_names(error, "layers", "layer")


@pytest.mark.parametrize("function", [c.slide, c.crop_scores])
def test_item9_slide_and_crop_scores_without_a_net(function):
    argument = next(iter(inspect.signature(function).parameters))  # conv_net, net
    with pytest.raises(TypeError) as error:
        function(None, np.zeros((8, 8, 3)), *([4] if function is c.crop_scores else []))
    assert_names(error, argument)


def test_item9_volume_of_a_shape_that_is_not_one():
    with pytest.raises((TypeError, ValueError)) as error:
        c.volume((-1, 2.5, "x"))
    assert_names(error, "shape")


# 10. Net.sgd_step: a bad learning rate changes nothing and names lr


def trained_net():
    net = c.Net((1, 1, 2), [c.FCLayer(K=1, W=np.array([[1.0, 2.0]]), b=np.zeros(1))])
    net.forward(np.ones((1, 1, 2)))
    net.backward(np.array([1000.0]))  # dW = [[1000, 1000]], db = [1000]
    return net


@pytest.mark.parametrize("lr", [float("nan"), float("inf"), 1e308, np.array([0.1, 0.2]), "0.1", None],
                         ids=["nan", "inf", "1e308", "array", "str", "None"])
def test_item10_a_bad_learning_rate_changes_nothing(lr):
    net = trained_net()
    before = [p.copy() for p in net.params()]
    with pytest.raises((TypeError, ValueError)) as error:
        net.sgd_step(lr)
    assert_names(error, "lr")
    for p, q in zip(net.params(), before):
        np.testing.assert_array_equal(p, q)


@pytest.mark.parametrize("lr", [0.5, np.float32(0.5), np.float64(0.5), Fraction(1, 2), 1])
def test_item10_a_good_learning_rate_steps(lr):
    net = trained_net()
    net.sgd_step(lr)
    W, b = net.params()
    np.testing.assert_array_equal(W, [[1 - float(lr) * 1000, 2 - float(lr) * 1000]])
    np.testing.assert_array_equal(b, [-float(lr) * 1000])


# 11. Layers that contradict their weights; Net checks its input; to_conv on non-square inputs


def test_item11_conv_layer_weights_that_contradict_K_and_F():
    with pytest.raises(ValueError) as error:
        c.Net((8, 8, 3), [c.ConvLayer(K=2, F=3, P=1, W=np.ones((5, 1, 1, 3)))])
    assert_names(error, "W")


def test_item11_conv_layer_weights_of_the_wrong_depth():
    with pytest.raises(ValueError) as error:
        c.Net((8, 8, 3), [c.ConvLayer(K=2, F=1, W=np.ones((2, 1, 1, 4)))])
    assert_names(error, "W")


def test_item11_fc_layer_weights_that_contradict_K_or_the_input():
    with pytest.raises(ValueError) as error:
        c.Net((2, 2, 1), [c.FCLayer(K=10, W=np.ones((3, 4)))])
    assert_names(error, "W")
    with pytest.raises(ValueError) as error:
        c.Net((2, 2, 3), [c.FCLayer(K=3, W=np.ones((3, 4)))])  # 2x2x3 = 12 inputs, W takes 4
    assert_names(error, "W")


@pytest.mark.parametrize("shape", [(16, 64, 3), (2, 16, 64, 3), (32, 32, 4), (32, 32)])
def test_item11_net_refuses_an_input_of_another_shape(shape):
    net = c.cifar10_net()
    for run in (net, net.forward):
        with pytest.raises(ValueError) as error:
            run(np.zeros(shape))
        assert_names(error, "X")


@pytest.mark.parametrize("weights", [False, True], ids=["shapes-only", "with-weights"])
def test_item11_to_conv_on_a_non_square_input(weights):
    net = c.Net((4, 8, 1), [c.FCLayer(K=2)])
    if weights:
        net.init()
    conv = net.to_conv()
    assert conv.shapes()[-1] == (1, 1, 2)
    if weights:
        X = np.random.default_rng(11).normal(size=(4, 8, 1))
        np.testing.assert_allclose(conv(X).reshape(2), net(X), rtol=1e-12)


def test_item11_training_the_converted_net_treats_every_shared_array_alike():
    net = c.Net((4, 4, 2), [c.ConvLayer(K=3, F=3, P=1), c.ReLULayer(), c.FCLayer(K=2), c.ReLULayer(), c.FCLayer(K=2)])
    net.init()
    before = [p.copy() for p in net.params()]
    conv = net.to_conv()
    X = np.random.default_rng(11).normal(size=(4, 4, 2))
    conv.forward(X)
    conv.backward(np.ones((1, 1, 2)))
    conv.sgd_step(0.1)
    untouched = all(np.array_equal(p, q) for p, q in zip(net.params(), before))
    # Either the converted net is independent (the original unchanged), or it shares every array (the
    # original trained alike, so both still compute the same scores); not some arrays and not others.
    if not untouched:
        np.testing.assert_allclose(net(X), conv(X).reshape(2), rtol=1e-12)


# 12. convolve_continuous: finite bounds, real x


def box(t):
    return (abs(t) <= 0.5).astype(float)


@pytest.mark.parametrize("bounds", [(-np.inf, 10.0), (-10.0, np.inf), (-np.inf, np.inf), (np.nan, 1.0)])
def test_item12_an_infinite_bound_is_a_value_error(bounds):
    lo, hi = bounds
    with pytest.raises(ValueError) as error:
        c.convolve_continuous(box, box, 0.0, lo=lo, hi=hi)
    assert_names(error, "lo", "hi")


@pytest.mark.parametrize("x", [None, "0.5", 1j, [1j]])
def test_item12_x_must_be_real_numbers(x):
    with pytest.raises(TypeError) as error:
        c.convolve_continuous(box, box, x)
    assert_names(error, "x")


# 13. Docs that overstate: the tuned kernel's memory bound; the wheel holds cnnref only


def _tuned_module():
    return c.conv2d_fast, sys.modules[c.conv2d_fast.__module__]


def documented_bound(X, W, S, P, dtype, block):
    """The bound the tuned kernel's docstring states: V, a copy of X, a copy of [W_row | b], one block."""
    (N, H1, W1, D1), (K, FH, FW, _), size = X.shape, W.shape, np.dtype(dtype).itemsize
    H2, W2 = (H1 + 2 * P - FH) // S + 1, (W1 + 2 * P - FW) // S + 1
    V = N * H2 * W2 * K * size
    X_copy = N * (H1 + 2 * P + 1) * (W1 + 2 * P) * D1 * size  # padded, depth-first (a spare row) or converted
    weights = K * (FH * FW * D1 + 1) * size
    return V, X_copy + weights + max(block, W2 * (FH * FW * D1 + 1) * size)


def peak_bytes(function, *args, **kwargs):
    """What `function` returns and the peak of what NumPy allocates meanwhile (NumPy reports to tracemalloc)."""
    tracemalloc.start()
    try:
        result = function(*args, **kwargs)
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


MEMORY_CASES = {  # each needs a term of the bound
    "one output row above 16 MiB": ((1, 3, 1200, 512), 1, 3, 1, 0, np.float64),
    "weights larger than a block": ((1, 7, 7, 256), 512, 7, 1, 0, np.float64),
    "a padded, depth-first copy": ((1, 112, 112, 64), 64, 3, 1, 1, np.float64),
    "the threaded path": ((64, 64, 64, 3), 12, 3, 1, 1, np.float32),
    "an integer input converted": ((2, 60, 60, 8), 16, 3, 1, 0, np.int16),
    "AlexNet's first layer": ((2, 227, 227, 3), 96, 11, 4, 0, np.float32),
}


@pytest.mark.parametrize("case", sorted(MEMORY_CASES))
def test_item13_the_tuned_kernels_memory_stays_within_its_documented_bound(case):
    shape, K, F, S, P, dtype = MEMORY_CASES[case]
    kernel, module = _tuned_module()
    rng = np.random.default_rng(13)
    X = rng.integers(-9, 9, size=shape).astype(dtype)
    W = rng.standard_normal((K, F, F, shape[-1])).astype(np.float32 if dtype == np.float32 else np.float64)
    V, peak = peak_bytes(kernel, X, W, S=S, P=P)
    V_bytes, temporaries = documented_bound(X, W, S, P, V.dtype, getattr(module, "_BLOCK", 1 << 24))
    assert V.nbytes == V_bytes
    assert peak <= V_bytes + temporaries, f"{(peak - V_bytes) / 2**20:.1f} MiB > {temporaries / 2**20:.1f} MiB"


def test_item13_the_docs_state_the_real_bound():
    kernel, module = _tuned_module()
    block = getattr(module, "_BLOCK", 1 << 24)
    shape, K, F, S, P, dtype = MEMORY_CASES["one output row above 16 MiB"]
    V, peak = peak_bytes(kernel, np.ones(shape), np.ones((K, F, F, shape[-1])), S=S, P=P)
    assert peak - V.nbytes > 2 * block  # the premise: a flat "at most 16 MiB" per block is not true
    doc = " ".join((kernel.__doc__ or "").split())
    page = " ".join((ROOT / "docs" / "performance.md").read_text().split())
    for text in (doc, page):
        assert not re.search(r"at most (16 MiB|<!-- cnnref:block-size -->)", text), "a flat 16 MiB bound is claimed"
    for term in ("one output row", "copy of the weights", "copy of X"):
        assert term in doc, f"the docstring does not state the bound's term {term!r}"


# The wheel holding cnnref only (the other half of item 13) is tests/test_wheel.py's, which builds it.


# Found while fuzzing, beyond the items


def test_convolve_takes_memory_in_proportion_to_its_length():
    f, g = np.random.default_rng(0).normal(size=10**6), np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(c.convolve(f, g), np.convolve(f, g), rtol=1e-12, atol=1e-12)  # was a 7 TiB matrix


def test_a_pmf_starting_at_a_numpy_integer():
    a, b = c.Pmf(np.int8(100), np.array([0.5, 0.5])), c.Pmf(np.uint64(0), np.array([1.0]))
    total = c.convolve_pmf(a, a)
    assert total.start == 200 and type(total.start) is int  # int8 wrapped to -56
    assert b[np.int8(0)] == 1.0 and list(c.convolve_pmf(a, b).support) == [100, 101]  # int8 + uint64 was a float


def test_convolve_continuous_at_a_fraction_and_with_float32_bounds():
    box = lambda t: (np.abs(t) <= 0.5).astype(float)  # noqa: E731
    assert c.convolve_continuous(box, box, Fraction(1, 2)) == c.convolve_continuous(box, box, 0.5)
    assert c.convolve_continuous(box, box, 0.0, lo=np.float32(-4), hi=np.uint8(6)) == c.convolve_continuous(
        box, box, 0.0, lo=-4.0, hi=6.0)  # the bounds were float32 (or wrapped uint8) arithmetic


def test_the_promotion_rule_keeps_longdouble():
    X, W = np.ones((3, 3, 1), np.longdouble), np.ones((1, 3, 3, 1), np.int64)
    assert c.conv2d(X, W).dtype == np.longdouble  # was float64: integers forced float64
    assert c.convolve(np.ones(2, np.longdouble), np.ones(2, np.int8)).dtype == np.longdouble


def test_max_pool_of_integers_never_returns_or_routes_to_the_padding():
    with pytest.raises(ValueError) as error:  # the window's taps, at -1 and 1, all miss the one pixel
        c.max_pool(np.full((1, 1, 1), -1, np.int8), F=2, S=1, P=1, dilation=2, exact=False)  # was -128
    assert_names(error, "P", "dilation")
    assert c.max_pool(np.full((1, 1, 1), -1.0), F=2, S=1, P=1, dilation=2, exact=False)[0, 0, 0] == -np.inf
    X, dV = np.zeros((2, 2, 1), np.uint8), np.ones((3, 3, 1))
    dX = c.max_pool_backward(dV, X, F=2, S=1, P=1)  # the padding (0) tied with X's zeros and came first
    assert dX.sum() == dV.sum()


def test_the_module_covers_every_item():
    items = {int(m) for m in re.findall(r"^def test_item(\d+)_", Path(__file__).read_text(), re.M)}
    assert items == set(range(1, 14))


def test_a_pmf_passed_as_an_array_is_refused_not_iterated_forever():
    """Found in this stop: a Pmf is 0 off its support, so Python's old iteration protocol (self[0], self[1],
    ...) never ended, and np.asarray(pmf) inside conv2d or convolve filled the memory (4.9 GB when seen)."""
    die = c.dice_pmf()
    with pytest.raises(TypeError, match="a Pmf is not a sequence"):
        iter(die)  # first: without it, the calls below would hang instead of failing
    for call, name in [(lambda: c.convolve([1, 2], die), "g"), (lambda: c.impulse_responses(die, [1]), "f"),
                       (lambda: c.conv2d(die, np.ones((1, 1, 1, 1))), "X"), (lambda: c.relu(die), "X")]:
        with pytest.raises(TypeError, match=rf"^{name} must be .*, got Pmf"):
            call()
    assert c.convolve(die.p, die.p).sum() == pytest.approx(1.0)  # its masses, as the message says
