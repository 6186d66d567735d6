"""Pooling against a direct loop, the pooling formula, and its refusals."""

import numpy as np
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from cnnref import PoolLayer, avg_pool, max_pool, pool_output_size


def pool_loop(X, F, S, reduce):
    H2, W2 = (X.shape[0] - F) // S + 1, (X.shape[1] - F) // S + 1
    out = np.empty((H2, W2, X.shape[2]), dtype=np.result_type(X, np.float64) if reduce is np.mean else X.dtype)
    for i in range(H2):
        for j in range(W2):
            for d in range(X.shape[2]):
                out[i, j, d] = reduce(X[i * S : i * S + F, j * S : j * S + F, d])
    return out


@st.composite
def pool_cases(draw):
    F, S = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    H1, W1 = F + S * draw(st.integers(0, 5)), F + S * draw(st.integers(0, 5))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return rng.normal(size=(H1, W1, draw(st.integers(1, 3)))), F, S


@settings(max_examples=100, deadline=None)
@given(pool_cases())
def test_max_and_avg_pool_equal_a_direct_loop(case):
    X, F, S = case
    np.testing.assert_array_equal(max_pool(X, F, S), pool_loop(X, F, S, np.max))
    np.testing.assert_allclose(avg_pool(X, F, S), pool_loop(X, F, S, np.mean), rtol=1e-12, atol=1e-12)
    assert max_pool(X, F, S).shape[2] == X.shape[2]  # depth unchanged


def test_two_by_two_stride_two_keeps_a_quarter():
    X = np.random.default_rng(0).normal(size=(32, 32, 12))
    V = max_pool(X)
    assert V.shape == (16, 16, 12)
    assert V.size / X.size == 0.25  # 75% of the activations discarded
    assert pool_output_size(224, F=2, S=2) == 112
    assert pool_output_size(5, F=3, S=2) == 2  # overlapping pooling


def test_batch_axis():
    X = np.random.default_rng(1).normal(size=(4, 8, 8, 3))
    V = max_pool(X, F=2, S=2)
    assert V.shape == (4, 4, 4, 3)
    for n in range(4):
        np.testing.assert_array_equal(V[n], max_pool(X[n]))


def test_integer_input_keeps_its_type_for_max():
    X = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]])[:, :, None]
    np.testing.assert_array_equal(max_pool(X)[:, :, 0], [[6, 8], [3, 4]])


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: max_pool(np.ones((5, 5, 1)), F=2, S=2), ValueError, r"\(H1 - F \+ 2P\)/S \+ 1 = \(5 - 2 \+ 0\)/2 \+ 1 = 2.5"),
        (lambda: max_pool(np.ones((4, 4, 1)), F=5, S=1), ValueError, "filter F = 5 is larger"),
        (lambda: max_pool(np.ones((4, 4, 1)), F=2, S=0), ValueError, "S must be at least 1"),
        (lambda: max_pool(np.ones((4, 4)), F=2, S=2), ValueError, r"X must be a volume"),
        (lambda: max_pool(np.ones((4, 4, 1), dtype=complex)), TypeError, "real numbers"),
        (lambda: avg_pool(np.ones((4, 4, 1)), F=2.0), TypeError, "F must be an integer"),
        (lambda: PoolLayer(mode="min"), ValueError, 'mode must be "max" or "avg"'),
        (lambda: PoolLayer().output_shape((4, 4)), ValueError, r"input_shape must be a volume \(H, W, D\), got \(4, 4\)"),
    ],
)
def test_bad_input(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_pool_layer():
    layer = PoolLayer(F=2, S=2)
    assert layer.output_shape((32, 32, 12)) == (16, 16, 12)
    assert layer.n_params((32, 32, 12)) == 0
    X = np.random.default_rng(2).normal(size=(4, 4, 2))
    np.testing.assert_array_equal(layer(X), max_pool(X))
    np.testing.assert_array_equal(PoolLayer(mode="avg")(X), avg_pool(X))
    assert repr(PoolLayer(F=3, S=2)) == "<POOL F=3 S=2>"


def _reads_only_padding(n, F, S, P, dilation, n2):
    """For each of the n2 outputs along one axis: are all its F taps, dilation apart, outside the n inputs?"""
    return [all(not 0 <= i * S + k * dilation - P < n for k in range(F)) for i in range(n2)]


@settings(max_examples=60, deadline=None)
@example(H=1, W=3, F=2, S=1, dilation=2, dtype=np.int8, seed=0)  # taps -1 and 1 around one row: padding only
@given(H=st.integers(1, 5), W=st.integers(1, 5), F=st.integers(1, 3), S=st.integers(1, 3),
       dilation=st.integers(1, 3), dtype=st.sampled_from([np.int8, np.int32, np.uint8, np.float32]), seed=st.integers(0, 2**16))
def test_integer_max_pool_refuses_exactly_the_windows_of_padding_only(H, W, F, S, dilation, dtype, seed):
    """A window whose taps all fall on the padding has max -inf: floats give it, integers are refused, naming it."""
    P = F // 2  # the most padding pooling takes: windows of padding only need it
    fits = [dilation * (F - 1) + 1 <= n + 2 * P for n in (H, W)]
    assume(all(fits))
    H2, W2 = pool_output_size(H, F, S, P, dilation, exact=False), pool_output_size(W, F, S, P, dilation, exact=False)
    rows = _reads_only_padding(H, F, S, P, dilation, H2)
    cols = _reads_only_padding(W, F, S, P, dilation, W2)
    empty = np.array(rows)[:, None] | np.array(cols)[None, :]  # a window is empty if either axis reads nothing
    X = np.random.default_rng(seed).integers(0, 100, (H, W, 2)).astype(dtype)
    if np.dtype(dtype).kind == "f":
        V = max_pool(X, F, S, P, dilation, exact=False)
        np.testing.assert_array_equal(np.isneginf(V).all(axis=-1), empty)
        assert not np.isneginf(V[~empty]).any()
    elif empty.any():
        i, j = np.argwhere(empty)[0]
        with pytest.raises(ValueError, match=rf"window \({i}, {j}\) reads only padding .* integer X \({np.dtype(dtype)}\)"):
            max_pool(X, F, S, P, dilation, exact=False)
    else:
        V = max_pool(X, F, S, P, dilation, exact=False)
        assert V.dtype == dtype and (V >= X.min()).all()
