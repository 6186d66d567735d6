"""Convolution arithmetic beyond the notes, proved from definitions (issue 13): no library's numbers copied.

- rectangular filters and per-axis S, P: scipy.signal.correlate per channel, subsampled by the stride;
- dilation: the same as a filter with dilation - 1 zeros inserted between its taps;
- groups: the concatenation of per-group convolutions;
- the floor rule (exact=False): the output has exactly as many positions as whole windows fit, and
  exact=True refuses exactly the sizes where that count is not (W1 + 2P - span)/S + 1;
- conv_transpose2d: the adjoint of conv2d, equal to conv2d_backward's dX and to the guide's
  construction (stretch the input, pad, convolve with the flipped, channel-swapped filters);
- gradient checks by central differences for every keyword.
"""

import itertools

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.signal import correlate

from gradients import numerical_gradient

from cnnref import fast_conv
from cnnref import (
    ConvLayer,
    Net,
    PoolLayer,
    ReLULayer,
    FCLayer,
    avg_pool,
    avg_pool_backward,
    col2im,
    conv2d,
    conv2d_backward,
    conv2d_fast,
    conv2d_naive,
    conv_output_shape,
    conv_params,
    conv_transpose2d,
    conv_transpose_output_size,
    fc_to_conv,
    im2col,
    max_pool,
    max_pool_backward,
    output_size,
    pool_output_size,
    slide,
    crop_scores,
    window_positions,
)

SETTINGS = settings(max_examples=40, deadline=None)
TOL = {np.float32: dict(rtol=2e-4, atol=2e-4), np.float64: dict(rtol=1e-10, atol=1e-10)}


@st.composite
def conv_cases(draw, max_size=8):
    """(X, W, b, kwargs) with every keyword drawn: pairs, dilation, groups, floor; batch or not."""
    F = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    S = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    P = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    D1, K = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    H1, W1 = draw(st.integers(1, max_size)), draw(st.integers(1, max_size))
    spans = [d * (f - 1) + 1 for f, d in zip(F, dilation)]
    assume(all(span <= n + 2 * p for span, n, p in zip(spans, (H1, W1), P)))
    exact = draw(st.booleans())
    if exact:  # make the sizes tile: drop what the floor would drop
        H1, W1 = [n - (n + 2 * p - span) % s for n, p, span, s in zip((H1, W1), P, spans, S)]
        assume(H1 >= 1 and W1 >= 1)
    batch = draw(st.sampled_from([(), (2,)]))
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    X = rng.standard_normal(batch + (H1, W1, D1)).astype(dtype)
    W = rng.standard_normal((K, *F, D1 // groups)).astype(dtype)
    b = rng.standard_normal(K).astype(dtype)
    return X, W, b, dict(S=S, P=P, dilation=dilation, groups=groups, exact=exact)


def by_definition(X, W, b, S, P, dilation, groups, exact):
    """The layer from scipy.signal.correlate: zeros inserted for dilation, one correlation per filter and channel."""
    X4 = X if X.ndim == 4 else X[None]
    K, FH, FW, Dg = W.shape
    Wd = np.zeros((K, dilation[0] * (FH - 1) + 1, dilation[1] * (FW - 1) + 1, Dg))
    Wd[:, :: dilation[0], :: dilation[1]] = W  # the dilated filter: dilation - 1 zeros between taps
    X_pad = np.pad(X4.astype(np.float64), ((0, 0), (P[0], P[0]), (P[1], P[1]), (0, 0)))
    H2, W2 = output_size(X4.shape[1:3], (FH, FW), S, P, dilation, exact)
    V = np.zeros((len(X4), H2, W2, K))
    per_group = K // groups
    for n, k in itertools.product(range(len(X4)), range(K)):
        g = k // per_group
        full = sum(correlate(X_pad[n, :, :, g * Dg + d], Wd[k, :, :, d], mode="valid") for d in range(Dg))
        V[n, :, :, k] = full[:: S[0], :: S[1]][:H2, :W2] + b[k]  # stride: every S-th position; floor: whole windows
    return V if X.ndim == 4 else V[0]


@SETTINGS
@given(case=conv_cases())
def test_conv2d_naive_is_the_definition(case):
    X, W, b, kw = case
    np.testing.assert_allclose(conv2d_naive(X, W, b, **kw), by_definition(X, W, b, **kw), **TOL[X.dtype.type])


@SETTINGS
@given(case=conv_cases())
def test_conv2d_and_the_tuned_kernel_equal_the_loops(case):
    X, W, b, kw = case
    expected = conv2d_naive(X, W, b, **kw)
    for function in (conv2d, conv2d_fast):
        V = function(X, W, b, **kw)
        assert V.shape == expected.shape and V.dtype == X.dtype
        np.testing.assert_allclose(V, expected, **TOL[X.dtype.type])


def test_groups_are_separate_convolutions_side_by_side():
    rng = np.random.default_rng(1)
    X, W, b = rng.standard_normal((6, 7, 6)), rng.standard_normal((4, 3, 2, 3)), rng.standard_normal(4)
    V = conv2d(X, W, b, P=1, groups=2)
    first = conv2d(X[:, :, :3], W[:2], b[:2], P=1)  # filters 0, 1 on depth slices 0..2
    second = conv2d(X[:, :, 3:], W[2:], b[2:], P=1)  # filters 2, 3 on depth slices 3..5
    np.testing.assert_allclose(V, np.concatenate([first, second], axis=2), atol=1e-12)


def test_depthwise_is_one_filter_per_depth_slice():
    rng = np.random.default_rng(2)
    X, W = rng.standard_normal((5, 5, 4)), rng.standard_normal((4, 3, 3, 1))
    V = conv2d(X, W, P=1, groups=4)
    for d in range(4):
        np.testing.assert_allclose(V[:, :, d], conv2d(X[:, :, d : d + 1], W[d : d + 1], P=1)[:, :, 0], atol=1e-12)
    assert conv_params(F=3, D1=4, K=4, groups=4) == (36, 4)  # 9 weights per slice instead of 36


# The floor rule


def count_windows(W1, F, S, P, dilation):
    """How many window positions fit: start at 0, S, 2S, ... while the whole dilated window is inside."""
    span = dilation * (F - 1) + 1
    return sum(1 for start in range(0, W1 + 2 * P) if start % S == 0 and start + span <= W1 + 2 * P)


@given(W1=st.integers(1, 40), F=st.integers(1, 7), S=st.integers(1, 5), P=st.integers(0, 3), dilation=st.integers(1, 3))
def test_floor_counts_windows_and_exact_refuses_exactly_the_rest(W1, F, S, P, dilation):
    span = dilation * (F - 1) + 1
    if span > W1 + 2 * P:
        for exact in (True, False):
            with pytest.raises(ValueError, match="larger than the padded input"):
                output_size(W1, F, S, P, dilation, exact)
        return
    n = count_windows(W1, F, S, P, dilation)
    assert output_size(W1, F, S, P, dilation, exact=False) == n
    if (W1 + 2 * P - span) % S == 0:
        assert output_size(W1, F, S, P, dilation) == n
    else:
        with pytest.raises(ValueError, match=rf"is not a whole number.*exact=False floors it to {n}, as PyTorch does"):
            output_size(W1, F, S, P, dilation)


def test_the_floor_drops_the_last_rows_and_columns():
    X = np.arange(36.0).reshape(6, 6, 1)
    W = np.ones((1, 3, 3, 1))
    V = conv2d(X, W, S=2, exact=False)  # (6 - 3)/2 + 1 = 2.5: two positions a side, row and column 5 unused
    np.testing.assert_array_equal(V, conv2d(X[:5, :5], W, S=2))
    assert output_size(224, 7, S=2, P=3, exact=False) == 112  # ResNet's first layer
    assert pool_output_size(112, F=3, S=2, P=1, exact=False) == 56  # and its max pool


def test_window_positions_are_the_windows_the_layer_reads():
    X = np.arange(49.0).reshape(7, 7, 1)
    positions = window_positions(7, F=3, S=2, P=1, dilation=2, exact=False)  # (H2, W2, 3, 3, 2)
    X_pad = np.pad(X[:, :, 0], 1)
    W = np.zeros((1, 3, 3, 1))
    for a, c in itertools.product(range(3), range(3)):  # a filter that picks one tap reads X_pad at that tap
        W[...] = 0
        W[0, a, c, 0] = 1
        picked = conv2d(X, W, S=2, P=1, dilation=2, exact=False)[:, :, 0]
        np.testing.assert_array_equal(picked, X_pad[positions[:, :, a, c, 0], positions[:, :, a, c, 1]])


# The transposed convolution


@st.composite
def transpose_cases(draw):
    X, W, b, kw = draw(conv_cases())
    kw = dict(kw)
    exact = kw.pop("exact")
    K = W.shape[0]
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    shape = conv2d_naive(X, W, **kw, exact=exact).shape
    Y = rng.standard_normal(shape).astype(X.dtype)
    (H1, W1), span = X.shape[-3:-1], [d * (f - 1) + 1 for f, d in zip(W.shape[1:3], kw["dilation"])]
    op = tuple((n + 2 * p - s) % st_ for n, p, s, st_ in zip((H1, W1), kw["P"], span, kw["S"]))  # rows the floor dropped
    bias = rng.standard_normal(X.shape[-1]).astype(X.dtype)
    return X, W, Y, bias, dict(kw, output_padding=op), K


@SETTINGS
@given(case=transpose_cases())
def test_conv_transpose2d_is_the_adjoint_of_conv2d(case):
    X, W, Y, _, kw, _ = case
    X, W, Y = X.astype(np.float64), W.astype(np.float64), Y.astype(np.float64)
    conv_kw = {k: v for k, v in kw.items() if k != "output_padding"}
    T = conv_transpose2d(Y, W, **kw)
    assert T.shape == X.shape  # output_padding gives back the rows the floor dropped
    lhs, rhs = np.sum(conv2d(X, W, **conv_kw, exact=False) * Y), np.sum(X * T)
    assert abs(lhs - rhs) <= 1e-10 * max(1.0, abs(lhs))
    dX, _, _ = conv2d_backward(Y, X, W, **conv_kw, exact=False)
    np.testing.assert_allclose(T, dX, atol=1e-12)


def guide_construction(Y, W, b, S, P, output_padding, dilation, groups):
    """Dumoulin & Visin's construction: S - 1 zeros between inputs, dilation (F - 1) - P zeros around
    (cropping where negative), output_padding more at the bottom and right, then the flipped,
    channel-swapped filters at stride 1."""
    Y4 = Y if Y.ndim == 4 else Y[None]
    N, H2, W2, K = Y4.shape
    _, FH, FW, Dg = W.shape
    stretched = np.zeros((N, S[0] * (H2 - 1) + 1, S[1] * (W2 - 1) + 1, K))
    stretched[:, :: S[0], :: S[1]] = Y4
    edges = [dilation[i] * ((FH, FW)[i] - 1) - P[i] for i in range(2)]
    padded = np.pad(stretched, [(0, 0)] + [(max(e, 0), max(e, 0) + o) for e, o in zip(edges, output_padding)] + [(0, 0)])
    padded = padded[:, max(-edges[0], 0) : padded.shape[1] - max(-edges[0], 0) or None,
                    max(-edges[1], 0) : padded.shape[2] - max(-edges[1], 0) or None]
    per_group = K // groups
    # flipped in space; filter k's slice d becomes filter g*Dg + d's slice k within its group
    swapped = np.zeros((groups * Dg, FH, FW, per_group))
    for g, k, d in itertools.product(range(groups), range(per_group), range(Dg)):
        swapped[g * Dg + d, :, :, k] = W[g * per_group + k, ::-1, ::-1, d]
    X = conv2d_naive(padded, swapped, b, dilation=dilation, groups=groups)
    return X if Y.ndim == 4 else X[0]


@SETTINGS
@given(case=transpose_cases())
def test_conv_transpose2d_is_the_guides_construction(case):
    X, W, Y, bias, kw, _ = case
    Y, W = Y.astype(np.float64), W.astype(np.float64)
    np.testing.assert_allclose(conv_transpose2d(Y, W, bias, **kw), guide_construction(Y, W, bias, **kw), atol=1e-10)


@SETTINGS
@given(case=transpose_cases(), threads=st.integers(2, 3), split=st.sampled_from([0, fast_conv._SPLIT_COPY]))
def test_the_tuned_transpose_is_the_readable_one_on_any_number_of_threads(case, threads, split):
    """conv_transpose2d_fast: the readable version's numbers up to rounding (a group of taps multiplied at a
    time), and on two or three threads exactly its numbers on one: the threads add to distinct output rows."""
    _, W, Y, bias, kw, _ = case

    def tuned(threads):
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("CNNREF_THREADS", str(threads))
            patch.setattr(fast_conv, "_cores", lambda: 8)
            patch.setattr(fast_conv, "_SPLIT_COPY", split)  # 0: every case shared out over the threads
            return fast_conv.conv_transpose2d_fast(Y, W, bias, **kw)

    T, want = tuned(threads), conv_transpose2d(Y, W, bias, **kw)
    assert T.dtype == want.dtype and T.shape == want.shape
    np.testing.assert_allclose(T, want, **TOL[want.dtype.type])
    np.testing.assert_array_equal(T, tuned(1))


@pytest.mark.parametrize("S, F, dilation", [(2, 4, 1), (2, 3, 1), (3, 2, 1), (2, 4, 2), (1, 3, 1)],
                         ids=["runs", "runs-and-a-single-tap", "single-taps", "dilated", "stride-1"])
def test_the_tuned_transpose_adds_taps_in_runs(S, F, dilation):
    """At dilation 1, S taps of a window row land side by side and are added as one run: the numbers stay the
    readable version's, whatever the kept buffers held before (NaN here)."""
    rng = np.random.default_rng(S * 10 + F)
    Y, W, bias = rng.standard_normal((2, 5, 6, 3)), rng.standard_normal((3, F, F, 4)), rng.standard_normal(4)
    fast_conv._kept.Z = np.full(1 << 14, np.nan).view(np.uint8)
    fast_conv._kept.X_pad = np.full(1 << 14, np.nan).view(np.uint8)
    T = fast_conv.conv_transpose2d_fast(Y, W, bias, S=S, P=1, dilation=dilation)
    np.testing.assert_allclose(T, conv_transpose2d(Y, W, bias, S=S, P=1, dilation=dilation), rtol=1e-12, atol=1e-12)


def test_conv_transpose2d_sizes_invert_output_size():
    for H1, F, S, P, d in itertools.product(range(1, 12), range(1, 5), range(1, 4), range(0, 3), range(1, 3)):
        if d * (F - 1) + 1 > H1 + 2 * P:
            continue
        H2 = output_size(H1, F, S, P, d, exact=False)
        op = (H1 + 2 * P - d * (F - 1) - 1) % S
        assert conv_transpose_output_size(H2, F, S, P, op, d) == H1


# Pooling with padding, dilation and the floor


def pool_by_definition(X, F, S, P, dilation, exact, mode):
    """Loops over windows of the explicitly padded input: -inf for the max, zeros counted in the mean."""
    X_pad = np.pad(X.astype(np.float64), ((P, P), (P, P), (0, 0)), constant_values=-np.inf if mode == "max" else 0)
    H2, W2 = output_size(X.shape[:2], F, S, P, dilation, exact)
    V = np.zeros((H2, W2, X.shape[2]))
    for i, j in itertools.product(range(H2), range(W2)):
        window = X_pad[i * S : i * S + dilation * (F - 1) + 1 : dilation, j * S : j * S + dilation * (F - 1) + 1 : dilation]
        V[i, j] = window.max(axis=(0, 1)) if mode == "max" else window.mean(axis=(0, 1))
    return V


@settings(max_examples=60, deadline=None)
@given(H1=st.integers(2, 9), W1=st.integers(2, 9), F=st.integers(1, 4), S=st.integers(1, 3), P=st.integers(0, 2),
       dilation=st.integers(1, 2), seed=st.integers(0, 999), mode=st.sampled_from(["max", "avg"]))
def test_pooling_with_padding_dilation_and_floor_is_the_loop(H1, W1, F, S, P, dilation, seed, mode):
    assume(P <= F // 2 and dilation * (F - 1) + 1 <= min(H1, W1) + 2 * P)
    dilation = dilation if mode == "max" else 1
    X = np.random.default_rng(seed).standard_normal((H1, W1, 2))
    args = (X, F, S, P, dilation, False) if mode == "max" else (X, F, S, P, False)
    V = (max_pool if mode == "max" else avg_pool)(*args)
    np.testing.assert_allclose(V, pool_by_definition(X, F, S, P, dilation, False, mode), atol=1e-12)


def test_pooling_padding_is_at_most_half_a_window():
    with pytest.raises(ValueError, match=r"pooling pads at most half a window: P = 2 > F // 2 = 1"):
        max_pool(np.ones((8, 8, 1)), F=3, S=2, P=2)
    with pytest.raises(ValueError, match="dilation applies to max pooling only"):
        PoolLayer(F=3, S=2, mode="avg", dilation=2)


def test_integer_max_pool_pads_with_the_smallest_integer():
    X = -np.ones((3, 3, 1), dtype=np.int16)
    V = max_pool(X, F=3, S=1, P=1)
    assert V.dtype == np.int16 and (V == -1).all()  # the padding never wins


# Gradient checks (central differences, float64) for every keyword


def close(analytic, numeric):
    """Relative error over the whole array, with a floor on the scale: gradients near 0 compare absolutely."""
    return np.linalg.norm(analytic - numeric) <= 1e-7 * max(1.0, np.linalg.norm(analytic) + np.linalg.norm(numeric))


@settings(max_examples=15, deadline=None)
@given(case=conv_cases(max_size=6))
def test_conv2d_backward_with_every_keyword(case):
    X, W, b, kw = case
    X, W, b = X.astype(np.float64), W.astype(np.float64), b.astype(np.float64)
    G = np.random.default_rng(0).standard_normal(conv2d(X, W, b, **kw).shape)
    dX, dW, db = conv2d_backward(G, X, W, **kw)
    assert close(dX, numerical_gradient(lambda: conv2d(X, W, b, **kw), X, G))
    assert close(dW, numerical_gradient(lambda: conv2d(X, W, b, **kw), W, G))
    assert close(db, numerical_gradient(lambda: conv2d(X, W, b, **kw), b, G))


@settings(max_examples=10, deadline=None)
@given(case=transpose_cases())
def test_conv_transpose2d_gradients(case):
    X, W, Y, bias, kw, _ = case
    W, Y, bias = W.astype(np.float64), Y.astype(np.float64), bias.astype(np.float64)
    G = np.random.default_rng(1).standard_normal(X.shape)
    conv_kw = {k: v for k, v in kw.items() if k != "output_padding"}
    # L = sum(conv_transpose2d(Y) * G): dL/dY = conv2d(G) (the adjoint's adjoint), cropped to Y's positions
    dY = conv2d(G, W, **conv_kw, exact=False)
    assert close(dY, numerical_gradient(lambda: conv_transpose2d(Y, W, bias, **kw), Y, G))
    assert close(G.sum(axis=tuple(range(G.ndim - 1))), numerical_gradient(lambda: conv_transpose2d(Y, W, bias, **kw), bias, G))


@settings(max_examples=20, deadline=None)
@given(H1=st.integers(3, 7), F=st.integers(2, 3), S=st.integers(1, 2), P=st.integers(0, 1), dilation=st.integers(1, 2),
       seed=st.integers(0, 999))
def test_pool_backward_with_padding_dilation_and_floor(H1, F, S, P, dilation, seed):
    assume(dilation * (F - 1) + 1 <= H1 + 2 * P)
    X = np.random.default_rng(seed).permutation(H1 * H1 * 2).reshape(H1, H1, 2).astype(np.float64)  # no ties
    G = np.random.default_rng(seed + 1).standard_normal(max_pool(X, F, S, P, dilation, exact=False).shape)
    dX = max_pool_backward(G, X, F, S, P, dilation, exact=False)
    assert close(dX, numerical_gradient(lambda: max_pool(X, F, S, P, dilation, exact=False), X, G, h=1e-3))
    G = np.random.default_rng(seed + 2).standard_normal(avg_pool(X, F, S, P, exact=False).shape)
    dX = avg_pool_backward(G, X, F, S, P, exact=False)
    assert close(dX, numerical_gradient(lambda: avg_pool(X, F, S, P, exact=False), X, G))


def test_im2col_and_col2im_with_every_keyword_are_adjoint():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((2, 7, 6, 3))
    kw = dict(F=(3, 2), S=(2, 1), P=(1, 0), dilation=(1, 2), exact=False)
    X_col = im2col(X, **kw)
    W = rng.standard_normal((4, 3, 2, 3))
    V = (W.reshape(4, -1) @ X_col).T.reshape(2, 4, 4, 4)  # rows ordered like W.reshape(K, -1)
    np.testing.assert_allclose(V, conv2d_naive(X, W, S=(2, 1), P=(1, 0), dilation=(1, 2), exact=False), atol=1e-12)
    Y = rng.standard_normal(X_col.shape)
    assert np.isclose(np.sum(X_col * Y), np.sum(X * col2im(Y, X.shape, **kw)))


# Rectangular inputs through the layers and the FC -> CONV conversion


def test_fc_to_conv_and_sliding_on_a_non_square_input():
    net = Net((8, 12, 2), [ConvLayer(K=3, F=(3, 1)), ReLULayer(), PoolLayer(F=2, S=2), FCLayer(K=4)], seed=2)  # no padding
    image = np.random.default_rng(4).standard_normal((12, 20, 2))
    converted = net.to_conv()
    assert converted.layers[-1].F == (3, 6)  # the FC input 3x6x3 becomes a 3x6 filter
    np.testing.assert_allclose(slide(converted, image), crop_scores(net, image, 2), atol=1e-12)
    assert fc_to_conv(np.zeros((5, 4 * 6 * 3)), (4, 6, 3)).shape == (5, 4, 6, 3)


def test_layers_take_the_new_keywords():
    layer = ConvLayer(K=8, F=3, S=2, P=1, dilation=2, groups=4, exact=False)
    assert layer.output_shape((15, 15, 8)) == conv_output_shape((15, 15, 8), 8, 3, 2, 1, 2, 4, exact=False) == (7, 7, 8)
    assert layer.n_params((15, 15, 8)) == sum(conv_params(3, 8, 8, groups=4))
    assert layer.describe() == "CONV K=8 F=3 S=2 P=1 dilation=2 groups=4"
    assert PoolLayer(F=3, S=2, P=1, exact=False).output_shape((112, 112, 64)) == (56, 56, 64)


# Bad input: every new argument named


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: conv2d(np.ones((5, 5, 4)), np.ones((3, 3, 3, 2)), groups=2), ValueError, "groups = 2 must divide"),
        (lambda: conv2d(np.ones((5, 5, 6)), np.ones((3, 3, 3, 3)), groups=3), ValueError, "need depth D1 / groups = 2"),
        (lambda: conv2d(np.ones((5, 5, 1)), np.ones((1, 3, 3, 1)), dilation=0), ValueError, "dilation must be at least 1"),
        (lambda: conv2d(np.ones((5, 5, 1)), np.ones((1, 3, 3, 1)), S=(1, 2, 3)), ValueError, "S must be an int or a pair"),
        (lambda: conv2d(np.ones((5, 5, 1)), np.ones((1, 3, 3, 1)), P=(1, -1)), ValueError, r"P\[1\] must be non-negative"),
        (lambda: conv2d(np.ones((5, 5, 1)), np.ones((1, 3, 3, 1)), groups=1.0), TypeError, "groups must be an integer"),
        (lambda: conv2d(np.ones((5, 5, 1)), np.ones((1, 3, 3, 1)), dilation=3), ValueError,
         r"dilated filter dilation \(F - 1\) \+ 1 = 3 \(3 - 1\) \+ 1 = 7 is larger than the padded input"),
        (lambda: conv_transpose2d(np.ones((3, 3, 1)), np.ones((1, 3, 3, 1)), S=2, output_padding=2), ValueError,
         "output_padding = 2 must be smaller than the stride S = 2 or the dilation = 1"),
        (lambda: conv_transpose2d(np.ones((3, 3, 2)), np.ones((1, 3, 3, 1))), ValueError, r"one filter per depth slice of Y \(K = 2\)"),
        (lambda: conv_transpose2d(np.ones((1, 1, 1)), np.ones((1, 1, 1, 1)), P=1), ValueError, "crops away the whole output"),
        (lambda: im2col(np.ones((5, 5, 1)), F=(2, 2, 2)), ValueError, "F must be an int or a pair"),
        (lambda: max_pool(np.ones((5, 5, 1)), F=2, S=2, dilation=0), ValueError, "dilation must be at least 1"),
        (lambda: avg_pool(np.ones((5, 5, 1)), F=2, S=2, P=(0, 2)), ValueError, r"P = 2 > F // 2 = 1 \(horizontal\)"),
        (lambda: conv_params(F=3, D1=6, K=4, groups=4), ValueError, "groups = 4 must divide"),
    ],
)
def test_bad_new_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()
