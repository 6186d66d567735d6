"""The tuned kernel conv2d_fast: the same numbers as conv2d_naive, dtype kept, memory bounded. No timings here."""

import math
import tracemalloc

import numpy as np
import pytest
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st

from cnnref import conv2d_fast, conv2d_naive, output_size
from cnnref import FCLayer, fc
from cnnref import fast_conv as module
from cnnref import layers as layers_module

TOL = {np.float32: dict(rtol=1e-5, atol=1e-5), np.float64: dict(rtol=1e-12, atol=1e-12)}


@st.composite
def conv_cases(draw, general=True):
    """(X, W, b, S, P, dilation, exact): filters that fit the padded input, batched or not, float32 or float64.

    general=False keeps the notes' square F, one S and one P, and sizes that tile exactly.
    """
    axes = 2 if general else 1
    F = [draw(st.integers(1, 5)) for _ in range(axes)]
    S = [draw(st.integers(1, 3)) for _ in range(axes)]
    P = [draw(st.integers(0, 2)) for _ in range(axes)]
    dilation = [draw(st.integers(1, 3)) if general else 1 for _ in range(axes)]
    exact = draw(st.booleans()) if general else True
    spans = [d * (f - 1) + 1 for f, d in zip(F, dilation)]
    out = [draw(st.integers(1, 9)) for _ in range(2)]
    extra = [draw(st.integers(0, s - 1)) if not exact else 0 for s in S * (3 - axes)]  # rows the floor drops
    pad = P * (3 - axes)
    sizes = [(o - 1) * s + span - 2 * p + e for o, s, span, p, e in zip(out, S * (3 - axes), spans * (3 - axes), pad, extra)]
    assume(all(n >= 1 for n in sizes) and all(p < span for p, span in zip(pad, spans * (3 - axes))))
    D1, K = draw(st.integers(1, 6)), draw(st.integers(1, 5))
    batch = draw(st.sampled_from([(), (1,), (3,)]))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    X = rng.standard_normal(batch + (*sizes, D1)).astype(dtype)
    W = rng.standard_normal((K, *(F * (3 - axes)), D1)).astype(dtype)
    b = rng.standard_normal(K).astype(dtype)
    one = lambda v: v[0] if len(v) == 1 else tuple(v)  # noqa: E731
    return X, W, b, one(S), one(P), one(dilation), exact


def use_threads(patch, threads):
    """conv2d_fast on `threads` threads whatever this machine's cores (CNNREF_THREADS is capped at them)."""
    patch.setenv("CNNREF_THREADS", str(threads))
    patch.setattr(module, "_cores", lambda: 8)


@pytest.mark.parametrize("block", [module._BLOCK, 1, 200])  # the default, one row per block, a few rows
@settings(max_examples=60, deadline=None)
@given(case=conv_cases())
def test_conv2d_fast_equals_conv2d_naive_in_every_block_size(block, case):
    X, W, b, S, P, dilation, exact = case
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(module, "_BLOCK", block)
        V = conv2d_fast(X, W, b, S, P, dilation, exact=exact)
    assert V.dtype == X.dtype
    np.testing.assert_allclose(V, conv2d_naive(X, W, b, S, P, dilation, exact=exact), **TOL[X.dtype.type])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "shape, K, F, S, P",
    [
        ((2, 32, 32, 3), 12, 3, 1, 1),  # CIFAR: S = 1 and F*D1 = 9 < W2 = 32, X_col copied depth-first
        ((1, 35, 35, 3), 4, 11, 4, 0),  # AlexNet-like: stride 4, window rows of F*D1 = 33 numbers
        ((1, 12, 12, 16), 5, 3, 1, 1),  # VGG-like: F*D1 = 48 > W2 = 12
        ((3, 7, 9, 4), 6, 1, 1, 0),  # 1x1 filters: X_cols is X itself
        ((2, 7, 7, 2), 3, 7, 1, 0),  # one output position per image (FC as CONV)
    ],
)
def test_both_copy_layouts_equal_conv2d_naive(dtype, shape, K, F, S, P):
    rng = np.random.default_rng(6)
    X = rng.standard_normal(shape).astype(dtype)
    W = rng.standard_normal((K, F, F, shape[-1])).astype(dtype)
    b = rng.standard_normal(K).astype(dtype)
    V = conv2d_fast(X, W, b, S, P)
    assert V.dtype == dtype
    np.testing.assert_allclose(V, conv2d_naive(X, W, b, S, P), **TOL[dtype])
    np.testing.assert_allclose(conv2d_fast(X[0], W, b, S, P), V[0], **TOL[dtype])  # no batch axis


def test_any_memory_layout_of_the_input():
    rng = np.random.default_rng(1)
    X, W = rng.standard_normal((9, 11, 4)), rng.standard_normal((3, 3, 3, 4))
    expected = conv2d_naive(X[::-1, :, ::-2], W[..., :2], S=2, P=1)
    np.testing.assert_allclose(conv2d_fast(X[::-1, :, ::-2], W[..., :2], S=2, P=1), expected)
    np.testing.assert_allclose(conv2d_fast(np.asfortranarray(X), W), conv2d_naive(X, W))


def test_float32_stays_float32_and_mixed_inputs_promote():
    X32, W32 = np.ones((5, 5, 2), np.float32), np.ones((3, 3, 3, 2), np.float32)
    assert conv2d_fast(X32, W32, np.zeros(3, np.float32)).dtype == np.float32
    assert conv2d_fast(X32, W32).dtype == np.float32
    assert conv2d_fast(X32, W32.astype(np.float64)).dtype == np.float64
    V = conv2d_fast(np.ones((5, 5, 2), int), np.ones((3, 3, 3, 2), int), np.arange(3))
    assert V.dtype == np.float64 and V[0, 0].tolist() == [18.0, 19.0, 20.0]


def peak_bytes(function, *args, **kwargs):
    """Peak of what NumPy allocates (it reports to tracemalloc) while function runs."""
    tracemalloc.start()
    try:
        function(*args, **kwargs)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("shape, K, F, S, P", [((16, 67, 67, 3), 16, 7, 2, 0), ((64, 28, 28, 6), 20, 3, 1, 1)])  # 2nd: depth-first, 20 * 55 > 1024
def test_peak_memory_is_the_output_and_one_block_of_X_cols(monkeypatch, shape, K, F, S, P):
    monkeypatch.setattr(module, "_BLOCK", 1 << 20)  # blocks of 1 MiB, to keep the test small
    X = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    W = np.ones((K, F, F, shape[-1]), np.float32)
    (N, H1, W1, D1), H2, W2 = shape, output_size(shape[1], F, S, P), output_size(shape[2], F, S, P)
    X_col = F * F * D1 * N * H2 * W2 * 4  # bytes of the whole (F*F*D1, N*H2*W2) X_col
    images = (module._BLOCK // (W2 * F * F * D1 * 4)) // H2  # whole images per block in these cases
    block = images * H2 * W2 * F * F * D1 * 4
    V = N * H2 * W2 * K * 4
    X_pad = N * (H1 + 2 * P) * (W1 + 2 * P) * D1 * 4 if P else 0  # a padded (or depth-first) copy of X
    assert images >= 1 and X_col > 4 * block  # a case where a whole X_col, or two blocks, would show
    peak = peak_bytes(conv2d_fast, X, W, S=S, P=P)
    assert peak < 1.5 * X_col  # issue 6's bound
    assert peak < V + X_pad + 1.2 * block  # the output, the padded input and one block at a time


def test_one_by_one_filters_copy_nothing_even_with_few_channels():
    X = np.random.default_rng(0).standard_normal((4, 30, 30, 3)).astype(np.float32)  # D1 = 3 < W2 = 30
    W = np.ones((8, 1, 1, 3), np.float32)
    V_bytes = 4 * 30 * 30 * 8 * 4
    assert peak_bytes(conv2d_fast, X, W) < V_bytes + 2**16
    np.testing.assert_allclose(conv2d_fast(X, W), conv2d_naive(X, W), rtol=1e-5, atol=1e-5)


def test_one_by_one_filters_copy_nothing():
    X = np.random.default_rng(0).standard_normal((4, 30, 30, 64)).astype(np.float32)
    W = np.ones((8, 1, 1, 64), np.float32)
    V_bytes = 4 * 30 * 30 * 8 * 4
    assert peak_bytes(conv2d_fast, X, W) < V_bytes + 2**16  # the output and a ufunc buffer: X_cols are views of X


# The threaded path for skinny multiplies (stride 1, K * (F*F*D1 + 1) <= _SMALL_WIDTH, e.g. CIFAR's first layer)


def small_case(shape, K, F, P, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal(shape).astype(dtype)
    return X, rng.standard_normal((K, F, F, shape[-1])).astype(dtype), rng.standard_normal(K).astype(dtype)


def test_the_cifar_layer_takes_the_threaded_path(monkeypatch):
    taken = []
    monkeypatch.setattr(module, "_conv2d_small", lambda *a, f=module._conv2d_small: taken.append(a[1].shape) or f(*a))
    X, W, b = small_case((2, 32, 32, 3), 12, 3, 1)
    conv2d_fast(X, W, b, S=1, P=1)  # K * (27 + 1) = 336 <= 1024
    conv2d_fast(X, np.ones((40, 3, 3, 3)), S=1, P=1)  # 40 * 28 = 1120 > 1024: one multiply on the BLAS threads
    conv2d_fast(X, W[:, :2, :2], b, S=2)  # stride 2: the window copy
    conv2d_fast(X, np.ones((12, 1, 1, 3)))  # 1x1 filters: no copy at all
    assert taken == [(12, 3, 3, 3)]


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize(
    "shape, K, F, P, gemm, block",
    [
        ((64, 32, 32, 3), 12, 3, 1, module._SMALL_GEMM, module._SMALL_BLOCK),  # CIFAR: 8 images a block
        ((5, 32, 32, 3), 12, 3, 1, module._SMALL_GEMM, 1),  # one image a block, 5 blocks for 2 or 3 threads
        ((3, 17, 23, 2), 7, 5, 2, 7 * 51 * 27 * 4, 1),  # 4 output rows a block: 17 = 4 + 4 + 4 + 4 + 1
        ((1, 9, 9, 1), 1, 9, 0, 1, 1),  # one output position; one row a block
        ((2, 6, 40, 4), 3, 2, 0, 1, 1),  # even F, no padding, rectangular
    ],
)
def test_threaded_path_equals_conv2d_naive(monkeypatch, threads, shape, K, F, P, gemm, block):
    use_threads(monkeypatch, threads)
    monkeypatch.setattr(module, "_SMALL_GEMM", gemm)
    monkeypatch.setattr(module, "_SMALL_BLOCK", block)
    X, W, b = small_case(shape, K, F, P)
    assert K * (F * F * shape[-1] + 1) <= module._SMALL_WIDTH and F > 1
    V = conv2d_fast(X, W, b, S=1, P=P)
    assert V.flags.c_contiguous and V.dtype == np.float64
    some = sorted({0, len(X) // 2, len(X) - 1})  # the loops on a few images (they are slow), the window path on all
    np.testing.assert_allclose(V[some], conv2d_naive(X[some], W, b, S=1, P=P), **TOL[np.float64])
    V32 = conv2d_fast(X[:1].astype(np.float32), W.astype(np.float32), b.astype(np.float32), S=1, P=P)
    assert V32.dtype == np.float32
    np.testing.assert_allclose(V32, V[:1], rtol=1e-4, atol=1e-4)
    monkeypatch.setattr(module, "_SMALL_WIDTH", 0)  # now the window copy and one multiply
    np.testing.assert_allclose(V, conv2d_fast(X, W, b, S=1, P=P), **TOL[np.float64])


@settings(max_examples=60, deadline=None)
@given(case=conv_cases(general=False), threads=st.integers(1, 3), gemm=st.sampled_from([1, 50, 1 << 20]), block=st.sampled_from([1, 1 << 20]))
def test_threaded_path_on_random_cases(case, threads, gemm, block):
    X, W, b, S, P, _, _ = case
    with pytest.MonkeyPatch.context() as patch:
        use_threads(patch, threads)
        patch.setattr(module, "_SMALL_GEMM", gemm)
        patch.setattr(module, "_SMALL_BLOCK", block)
        V = conv2d_fast(X, W, b, 1, P)  # the case tiles at stride S, so at stride 1 too
    np.testing.assert_allclose(V, conv2d_naive(X, W, b, 1, P), **TOL[X.dtype.type])


def test_threaded_path_memory_is_the_output_the_input_and_a_block_per_thread(monkeypatch):
    use_threads(monkeypatch, 2)
    X, W, b = small_case((64, 32, 32, 3), 12, 3, 1, dtype=np.float32)
    V = 64 * 32 * 32 * 12 * 4
    X_t = 64 * 3 * 35 * 34 * 4  # padded, depth-first, one spare row
    per_thread = module._SMALL_BLOCK * (1 + 12 / 28)  # X_cols and its product
    X_col = 27 * 64 * 32 * 32 * 4
    peak = peak_bytes(conv2d_fast, X, W, b, S=1, P=1)
    assert peak < 1.5 * X_col  # issue 6's bound
    assert peak < V + X_t + 2 * per_thread + 2**16


def test_a_worker_error_reaches_the_caller(monkeypatch):
    use_threads(monkeypatch, 2)

    def broken(*args, **kwargs):
        raise RuntimeError("BLAS failed")

    monkeypatch.setattr(module.np, "matmul", broken)
    X, W, b = small_case((8, 32, 32, 3), 12, 3, 1)
    with pytest.raises(RuntimeError, match="BLAS failed"):
        conv2d_fast(X, W, b, S=1, P=1)


def test_a_forked_child_gets_its_own_threads():
    """A pool's threads do not survive fork: the child must start its own, not wait forever on the parent's."""
    import multiprocessing

    X, W, b = small_case((8, 32, 32, 3), 12, 3, 1)
    expected = conv2d_fast(X, W, b, S=1, P=1)  # the parent's pool now exists
    with multiprocessing.get_context("fork").Pool(1) as pool:
        V = pool.apply_async(conv2d_fast, (X, W, b, 1, 1)).get(timeout=60)
    np.testing.assert_array_equal(V, expected)


def test_a_reshape_that_would_copy_is_refused_not_written_to_a_temporary():
    B = np.zeros((4, 6))
    with pytest.raises(AssertionError, match="would copy"):
        module._into(B[:, :3], (12,))  # rows with gaps between them: flattening them needs a copy
    module._into(B[:, :3], (4, 3, 1))[...] = 1  # a view: the writes land in B
    assert B.sum() == 12 and B[:, 3:].sum() == 0


def test_cnnref_threads_from_the_environment(monkeypatch):
    monkeypatch.setattr(module, "_cores", lambda: 8)
    assert module._threads({"CNNREF_THREADS": "3"}) == 3
    assert module._threads({"CNNREF_THREADS": "1"}) == 1
    assert module._threads({"CNNREF_THREADS": "100000"}) == 8  # capped at the usable cores
    assert module._threads({}) == 4
    monkeypatch.setattr(module, "_cores", lambda: 2)
    assert module._threads({}) == 2
    for bad in ("0", "-2", "two", "1.5", "\u0663"):  # the last: ARABIC-INDIC DIGIT THREE, a digit to str.isdigit
        with pytest.raises(ValueError, match=f"CNNREF_THREADS must be a whole number >= 1 .*got '{bad}'"):
            module._threads({"CNNREF_THREADS": bad})


def test_cnnref_threads_1_runs_everything_on_the_calling_thread(monkeypatch):
    import threading

    monkeypatch.setenv("CNNREF_THREADS", "1")
    seen = set()
    original = np.copyto
    monkeypatch.setattr(module.np, "copyto", lambda *a, **k: seen.add(threading.get_ident()) or original(*a, **k))
    X, W, b = small_case((16, 32, 32, 3), 12, 3, 1)
    np.testing.assert_allclose(conv2d_fast(X, W, b, S=1, P=1), conv2d_naive(X, W, b, S=1, P=1), **TOL[np.float64])
    assert seen == {threading.get_ident()}


@settings(max_examples=40, deadline=None)
@given(case=conv_cases(), steps=st.sets(st.sampled_from(module.STEPS)), column=st.booleans(), split=st.booleans())
def test_every_combination_of_the_refinements_equals_the_loops(case, steps, column, split):
    """The Performance page's walk from the notes' conv2d to the tuned one: each stop computes the same.

    The biases ride in the multiply (a column of ones) or are added block by block, as _bias_column decides:
    both are drawn, the rule's threshold set so that every layer takes the one drawn; so are copies shared
    out over two threads (_SPLIT_COPY = 0) or left on one."""
    X, W, b, S, P, dilation, exact = case
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(module, "_steps", steps)
        patch.setattr(module, "_BLOCK", 200)  # several blocks even on small cases
        patch.setattr(module, "_BIAS_COLUMN", 0 if column else math.inf)
        patch.setattr(module, "_SPLIT_COPY", 0 if split else module._SPLIT_COPY)
        use_threads(patch, 2)
        V = conv2d_fast(X, W, b, S, P, dilation, exact=exact)
    np.testing.assert_allclose(V, conv2d_naive(X, W, b, S, P, dilation, exact=exact), **TOL[X.dtype.type])


@pytest.mark.parametrize("column", [True, False], ids=["ones-column", "per-block"])
def test_the_biases_are_added_once_whichever_way(monkeypatch, column):
    """With several blocks, the column of ones and the per-block add each give every output its bias once, and
    the rule picks the column only for layers with many positions per weight."""
    X, W, b = small_case((3, 9, 8, 2), 5, 3, 1)
    monkeypatch.setattr(module, "_BLOCK", 200)
    monkeypatch.setattr(module, "_SMALL_WIDTH", 0)  # the window copy, not the threaded path
    monkeypatch.setattr(module, "_BIAS_COLUMN", 0 if column else math.inf)
    shapes = []
    original = module.np.matmul
    monkeypatch.setattr(module.np, "matmul", lambda A, B, **k: shapes.append(A.shape[-1]) or original(A, B, **k))
    V = conv2d_fast(X, W, b, S=1, P=1)
    assert set(shapes) == {3 * 3 * 2 + column} and len(shapes) > 1, shapes
    np.testing.assert_allclose(V, conv2d_naive(X, W, b, S=1, P=1), **TOL[np.float64])


@pytest.mark.parametrize("shape, K, bias, column", [
    ((1, 224, 224, 64), 64, True, True),  # VGG-16's conv1_2: 87 positions per weight
    ((1, 28, 28, 512), 512, True, False),  # its conv4_2: the copy of 9 MiB of weights would cost more
    ((1, 56, 56, 64), 64, False, False),  # ResNet-18's, before batch norm: no bias to add
], ids=["vgg-conv1_2", "vgg-conv4_2", "resnet-no-bias"])
def test_the_biases_ride_in_the_multiply_only_where_measured_to_pay(monkeypatch, shape, K, bias, column):
    X, W = np.ones(shape, np.float32), np.full((K, 3, 3, shape[-1]), 0.5, np.float32)
    widths = []
    original = module.np.matmul
    monkeypatch.setattr(module.np, "matmul", lambda A, B, **k: widths.append(A.shape[-1]) or original(A, B, **k))
    V = conv2d_fast(X, W, np.arange(K, dtype=np.float32) if bias else None, S=1, P=1)
    assert set(widths) == {9 * shape[-1] + column}
    assert V[0, 1, 1, -1] == 9 * shape[-1] * 0.5 + (K - 1 if bias else 0)  # an inner position: its bias, once

@settings(max_examples=100, deadline=None)
@given(case=conv_cases(), path=st.sampled_from(["threaded", "depth-first", "window copy", "1x1: no copy"]))
def test_each_path_of_the_kernel_equals_conv2d_naive(case, path):
    """Each of conv2d_fast's four paths drawn on purpose, not left to the cases' luck.

    The cases' layers all have K (F F D1 + 1) <= 755 < _SMALL_WIDTH: at stride 1 every one would take
    the threaded path. Here the path is drawn first: the case is bent to it (stride 1 for the threaded
    path, 1x1 filters, a horizontal stride of 1 for the depth-first copy, which only skinny layers take,
    with the threads step off so that they do not take the threaded path instead) and _SMALL_WIDTH is 0
    for the window copy, which skinny layers would otherwise leave. The path taken is checked, not assumed.
    """
    X, W, b, S, P, dilation, exact = case
    S, P, dilation = (np.broadcast_to(v, 2).tolist() for v in (S, P, dilation))
    width, steps = module._SMALL_WIDTH, set(module.STEPS)
    if path == "threaded":
        S, dilation = [1, 1], [1, 1]
        assume(W.shape[1] * W.shape[2] > 1)
    elif path == "1x1: no copy":
        W, S, P, dilation = W[:, :1, :1], [1, 1], [0, 0], [1, 1]
    else:
        if path == "depth-first":  # window rows of FW D1 numbers shorter than an output row
            X, W, S[1] = X[..., :1], W[..., :1], 1
            steps.discard("threads")
        else:
            width = 0
        W2 = output_size(X.shape[-2], W.shape[2], S[1], P[1], dilation[1], exact=False)
        depth_first = S[1] == 1 and W.shape[1] * W.shape[2] > 1 and W.shape[2] * X.shape[-1] < W2
        one = S == [1, 1] and dilation == [1, 1] and W.shape[1] * W.shape[2] == 1
        assume(depth_first if path == "depth-first" else not one)
    event(path)
    S, P, dilation = tuple(S), tuple(P), tuple(dilation)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(module, "_SMALL_WIDTH", width)
        patch.setattr(module, "_steps", steps)
        threaded, long_runs = [], []
        patch.setattr(module, "_conv2d_small", lambda *a, f=module._conv2d_small: threaded.append(1) or f(*a))
        patch.setattr(module, "_long_runs", lambda *a, f=module._long_runs: long_runs.append(f(*a)) or long_runs[-1])
        V = conv2d_fast(X, W, b, S, P, dilation, exact=False)
    assert bool(threaded) == (path == "threaded")
    assert any(long_runs) == (path == "depth-first"), long_runs
    np.testing.assert_allclose(V, conv2d_naive(X, W, b, S, P, dilation, exact=False), **TOL[X.dtype.type])


# The depthwise path (groups = D1 = K: one filter per depth slice, MobileNet's): einsum over phases, no loop over groups


@st.composite
def depthwise_cases(draw):
    """(X, W, b or None, S, P, dilation, exact): every keyword drawn, pairs included, one filter per depth slice."""
    F = [draw(st.integers(1, 4)) for _ in range(2)]
    S = [draw(st.integers(1, 3)) for _ in range(2)]
    P = [draw(st.integers(0, 2)) for _ in range(2)]
    dilation = [draw(st.integers(1, 3)) for _ in range(2)]
    sizes = [draw(st.integers(1, 11)) for _ in range(2)]
    spans = [d * (f - 1) + 1 for f, d in zip(F, dilation)]
    assume(all(span <= n + 2 * p for span, n, p in zip(spans, sizes, P)))
    exact = draw(st.booleans())
    if exact:  # sizes that tile: drop what the floor would drop
        sizes = [n - (n + 2 * p - span) % s for n, p, span, s in zip(sizes, P, spans, S)]
        assume(min(sizes) >= 1)
    D = draw(st.integers(2, 6))  # groups = D = 1 is a plain convolution
    batch = draw(st.sampled_from([(), (1,), (3,)]))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    X = rng.standard_normal(batch + (*sizes, D)).astype(dtype)
    W = rng.standard_normal((D, *F, 1)).astype(dtype)
    b = rng.standard_normal(D).astype(dtype) if draw(st.booleans()) else None
    pair = lambda v: draw(st.sampled_from([v[0], tuple(v)])) if v[0] == v[1] else tuple(v)  # noqa: E731
    return X, W, b, pair(S), pair(P), pair(dilation), exact


@settings(max_examples=150, deadline=None)
@given(case=depthwise_cases(), threads=st.integers(1, 3), block=st.sampled_from([1, 200, module._DEPTHWISE_BLOCK]))
def test_the_depthwise_path_equals_the_loops_for_every_keyword(case, threads, block):
    X, W, b, S, P, dilation, exact = case
    D = X.shape[-1]
    with pytest.MonkeyPatch.context() as patch:
        use_threads(patch, threads)
        patch.setattr(module, "_DEPTHWISE_BLOCK", block)  # 1: a block per output row
        taken = []
        patch.setattr(module, "_depthwise", lambda *a, f=module._depthwise: taken.append(1) or f(*a))
        V = conv2d_fast(X, W, b, S, P, dilation, groups=D, exact=exact)
    assert taken and V.dtype == X.dtype and V.flags.c_contiguous
    np.testing.assert_allclose(V, conv2d_naive(X, W, b, S, P, dilation, groups=D, exact=exact), **TOL[X.dtype.type])


@pytest.mark.parametrize("S, dilation, phases", [(1, 1, 1), (2, 1, 2), (2, 2, 1), (3, 2, 3)])
def test_the_depthwise_path_has_no_loop_over_groups(monkeypatch, S, dilation, phases):
    """The einsums it makes depend on the blocks and the column phases, never on the number of depth slices."""
    monkeypatch.setenv("CNNREF_THREADS", "1")
    calls = []
    einsum = np.einsum
    monkeypatch.setattr(module.np, "einsum", lambda *a, **k: calls.append(1) or einsum(*a, **k))
    monkeypatch.setattr(module, "_DEPTHWISE_BLOCK", 1 << 40)  # one block: every output row of the image
    counts = []
    for D in (2, 64):
        X = np.random.default_rng(0).standard_normal((1, 24, 24, D))
        W = np.random.default_rng(1).standard_normal((D, 3, 3, 1))
        calls.clear()
        V = conv2d_fast(X, W, None, S, 2, dilation, groups=D, exact=False)
        np.testing.assert_allclose(V, conv2d_naive(X, W, None, S, 2, dilation, groups=D, exact=False), rtol=1e-12, atol=1e-12)
        counts.append(len(calls))
    assert counts == [phases, phases]  # one einsum per column phase that holds a tap


def test_other_groups_take_the_notes_conv2d():
    X = np.random.default_rng(0).standard_normal((2, 7, 7, 4))
    W = np.random.default_rng(1).standard_normal((8, 3, 3, 2))  # groups = 2: four filters per group
    np.testing.assert_allclose(conv2d_fast(X, W, None, 1, 1, groups=2), conv2d_naive(X, W, None, 1, 1, groups=2), rtol=1e-12)
    W1 = np.random.default_rng(2).standard_normal((8, 3, 3, 1))  # depth multiplier 2: groups = D1 = 4, K = 8
    np.testing.assert_allclose(conv2d_fast(X, W1, None, groups=4), conv2d_naive(X, W1, None, groups=4), rtol=1e-12)


@settings(max_examples=20, deadline=None)
@given(cores=st.integers(1, 16), value=st.integers(1, 64), spaces=st.sampled_from(["", " ", "\t"]))
def test_cnnref_threads_is_capped_at_the_cores_with_a_warning_beyond_them(cores, value, spaces):
    """Any whole number >= 1 is taken, at most the usable cores; asking for more says so (RuntimeWarning)."""
    import warnings

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(module, "_cores", lambda: cores)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert module._threads({"CNNREF_THREADS": f"{spaces}{value}{spaces}"}) == min(value, cores)
    said = [str(w.message) for w in caught if w.category is RuntimeWarning]
    assert said == ([f"CNNREF_THREADS = {value} is more than the {cores} usable cores: cnnref uses {cores}"]
                    if value > cores else [])


@pytest.mark.parametrize("rows", [1, 3, 7, 1024])
@pytest.mark.parametrize("shape", [(5,), (2, 5), (2, 2, 3, 2), (3, 2, 3)])
def test_fc_fast_equals_fc_in_blocks_of_filters(monkeypatch, rows, shape):
    """fc_fast computes K = 7 scores in blocks of `rows` filters (the last block shorter, or one block for all):
    the scores of cnnref.fc, within float64 rounding, batched or not, with and without biases."""
    monkeypatch.setattr(module, "_FC_ROWS", rows)
    rng = np.random.default_rng(rows)
    X = rng.normal(size=shape)
    n = int(np.prod(shape[1:] if len(shape) in (2, 4) else shape))
    W, b = rng.normal(size=(7, n)), rng.normal(size=7)
    for bias in (b, None):
        got, want = module.fc_fast(X, W, bias), fc(X, W, bias)
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    X32, W32 = X.astype(np.float32), W.astype(np.float32)
    assert module.fc_fast(X32, W32).dtype == np.float32


def test_fc_layer_infers_with_fc_fast(monkeypatch):
    calls = []
    monkeypatch.setattr(layers_module, "fc_fast", lambda *args: calls.append(args) or fc(*args))
    layer = FCLayer(3).init((2, 2, 1), np.random.default_rng(0))
    X = np.ones((4, 2, 2, 1))
    np.testing.assert_array_equal(layer(X), fc(X, layer.W, layer.b))
    assert len(calls) == 1


# out=: the output written into a given array (a Net's kept buffers, Net.__call__)

OUT_CASES = {  # every path of conv2d_fast: (X shape, K, F, keywords)
    "window copy": ((2, 9, 8, 5), 70, 3, dict(S=1, P=1)),
    "threads": ((2, 9, 8, 3), 4, 3, dict(S=1, P=1)),
    "strided": ((2, 9, 9, 5), 6, 3, dict(S=2, P=1)),
    "1x1": ((2, 5, 4, 6), 3, 1, dict()),
    "depthwise": ((2, 9, 7, 6), 6, 3, dict(S=2, P=1, groups=6)),
    "groups": ((2, 9, 8, 6), 4, 3, dict(P=1, groups=2)),
    "one image": ((9, 8, 5), 7, 3, dict(S=1, P=1, dilation=2, exact=False)),
}


@pytest.mark.parametrize("case", list(OUT_CASES))
def test_out_receives_exactly_the_output(case):
    shape, K, F, keywords = OUT_CASES[case]
    rng = np.random.default_rng(7)
    X, W, b = rng.standard_normal(shape), rng.standard_normal((K, F, F, shape[-1] // keywords.get("groups", 1))), rng.standard_normal(K)
    expected = conv2d_fast(X, W, b, **keywords)
    out = np.full(expected.shape, np.nan)  # every number must be written
    assert conv2d_fast(X, W, b, **keywords, out=out) is out
    np.testing.assert_array_equal(out, expected)


def test_a_bad_out_is_refused_naming_it():
    X, W, b = small_case((2, 6, 6, 3), 4, 3, 1)
    good = np.empty((2, 6, 6, 4))
    bad = {
        "a list": ([0.0] * 288, TypeError, "out must be a NumPy array"),
        "masked": (np.ma.masked_array(good, mask=True), TypeError, "not masked), got MaskedArray"),
        "wrong shape": (np.empty((2, 6, 6, 5)), ValueError, "shape (2, 6, 6, 4) and dtype float64, got shape (2, 6, 6, 5)"),
        "one image's shape": (np.empty((6, 6, 4)), ValueError, "got shape (6, 6, 4)"),
        "wrong dtype": (np.empty((2, 6, 6, 4), np.float32), ValueError, "got shape (2, 6, 6, 4) and dtype float32"),
        "not contiguous": (np.empty((2, 6, 6, 8))[..., ::2], ValueError, "C-contiguous"),
        "read-only": (np.lib.stride_tricks.as_strided(good, writeable=False), ValueError, "writeable"),
        "X itself": (X, ValueError, "share memory"),
    }
    for name, (out, error, message) in bad.items():
        P = 1 if name != "X itself" else 0
        W_case = W if name != "X itself" else np.ones((3, 1, 1, 3))  # X's shape and dtype: 3 filters 1x1
        with pytest.raises(error, match="^out ") as caught:
            conv2d_fast(X, W_case, None if name == "X itself" else b, S=1, P=P, out=out)
        assert message in str(caught.value), (name, str(caught.value))


# The buffers each calling thread keeps for X_pad and the blocks of X_cols (_scratch, _KEEP)


def _window_path(monkeypatch):
    monkeypatch.setattr(module, "_SMALL_WIDTH", 0)  # the window copy, which pads into and copies through the buffers
    monkeypatch.setattr(module, "_BLOCK", 2000)  # several blocks


def test_what_the_kept_buffers_held_before_never_reaches_the_output(monkeypatch):
    """Borders zeroed and every window copied at each call: buffers full of NaN from "an earlier call" change
    nothing, however the padding and the stride change."""
    _window_path(monkeypatch)
    for P, S in ((2, 1), (1, 2), (3, 1), (0, 1)):
        module._kept.X_pad = np.full(1 << 16, np.nan).view(np.uint8)
        module._kept.X_cols = np.full(1 << 16, np.nan).view(np.uint8)
        X, W, b = small_case((2, 9, 7, 3), 4, 3, P, seed=P)
        np.testing.assert_allclose(conv2d_fast(X, W, b, S=S, P=P), conv2d_naive(X, W, b, S=S, P=P), **TOL[np.float64])


def test_a_second_call_allocates_its_output_and_little_else(monkeypatch):
    _window_path(monkeypatch)
    X, W, b = small_case((2, 40, 40, 8), 16, 3, 1)
    conv2d_fast(X, W, b, S=1, P=1)  # the buffers grow to this layer's needs
    tracemalloc.start()
    V = conv2d_fast(X, W, b, S=1, P=1)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    padded = 2 * 42 * 42 * 8 * 8  # X_pad's bytes, which a new buffer would add
    assert peak < V.nbytes + padded // 4, (peak, V.nbytes)


def test_a_buffer_larger_than_keep_is_not_kept(monkeypatch):
    _window_path(monkeypatch)
    monkeypatch.setattr(module, "_KEEP", 16384)
    monkeypatch.setattr(module, "_kept", type(module._kept)())  # this test's own, empty
    X, W, b = small_case((1, 30, 30, 4), 5, 3, 1)  # X_pad: 32 x 32 x 4 float64 = 32 KiB; X_cols a row: 8.9 KiB
    np.testing.assert_allclose(conv2d_fast(X, W, b, S=1, P=1), conv2d_naive(X, W, b, S=1, P=1), **TOL[np.float64])
    assert getattr(module._kept, "X_pad", None) is None
    assert 0 < module._kept.X_cols.nbytes <= 16384


def test_threads_that_call_at_once_keep_buffers_of_their_own(monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    _window_path(monkeypatch)
    cases = [small_case((2, 12, 11, 3), 4, 3, 1, seed=s) for s in range(4)]
    expected = [conv2d_naive(X, W, b, S=1, P=1) for X, W, b in cases]
    with ThreadPoolExecutor(4) as pool:
        for _ in range(10):
            got = list(pool.map(lambda c: conv2d_fast(*c, S=1, P=1), cases))
            for V, E in zip(got, expected):
                np.testing.assert_allclose(V, E, **TOL[np.float64])


@pytest.mark.parametrize("below", [True, False], ids=["below-split", "from-split"])
def test_copies_below_split_copy_stay_on_the_calling_thread(monkeypatch, below):
    """_copy shares a copy out over cnnref's threads from _SPLIT_COPY bytes on (each part copied once, in place),
    and leaves a smaller one to the calling thread."""
    import threading

    use_threads(monkeypatch, 2)
    src = np.arange(6 * 50 * 8, dtype=np.float64).reshape(6, 50, 8)
    dst = np.zeros((6, 50, 8))
    monkeypatch.setattr(module, "_SPLIT_COPY", dst.nbytes + 1 if below else dst.nbytes)
    seen, original = set(), module.np.copyto
    monkeypatch.setattr(module.np, "copyto", lambda d, s_: seen.add(threading.get_ident()) or original(d, s_))
    module._copy(dst, src)
    np.testing.assert_array_equal(dst, src)
    assert (seen == {threading.get_ident()}) == below and len(seen) == (1 if below else 2), seen
