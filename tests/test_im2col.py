"""im2col and conv2d: the matrix-multiply forward pass equals the loops, and its contract holds."""

import re

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from cnnref import col2im, conv2d, conv2d_naive, im2col


@st.composite
def conv_cases(draw, batch=False):
    F, S, P = draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(0, 2))
    H1 = F + S * draw(st.integers(0, 4)) - 2 * P
    W1 = F + S * draw(st.integers(0, 4)) - 2 * P
    if H1 < 1 or W1 < 1:
        H1, W1, P = F, F, 0
    D, K = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    shape = ((draw(st.integers(1, 3)),) if batch else ()) + (H1, W1, D)
    return rng.normal(size=shape), rng.normal(size=(K, F, F, D)), rng.normal(size=K), S, P


@settings(max_examples=100, deadline=None)
@given(conv_cases(batch=False))
def test_conv2d_equals_conv2d_naive(case):
    X, W, b, S, P = case
    np.testing.assert_allclose(conv2d(X, W, b, S, P), conv2d_naive(X, W, b, S, P), rtol=1e-10, atol=1e-10)


@settings(max_examples=40, deadline=None)
@given(conv_cases(batch=True))
def test_conv2d_equals_conv2d_naive_with_a_batch_axis(case):
    X, W, b, S, P = case
    np.testing.assert_allclose(conv2d(X, W, b, S, P), conv2d_naive(X, W, b, S, P), rtol=1e-10, atol=1e-10)


@settings(max_examples=100, deadline=None)
@given(conv_cases(batch=False))
def test_the_im2col_contract(case):
    X, W, b, S, P = case
    K, F = W.shape[0], W.shape[1]
    V = conv2d(X, W, b, S, P)
    H2, W2 = V.shape[:2]
    X_col = im2col(X, F, S, P)
    assert X_col.shape == (F * F * X.shape[2], H2 * W2)
    np.testing.assert_allclose((W.reshape(K, -1) @ X_col).T.reshape(H2, W2, K) + b, V, rtol=1e-10, atol=1e-10)


def test_im2col_columns_are_the_stretched_windows():
    X = np.random.default_rng(0).normal(size=(7, 7, 2))
    X_col = im2col(X, F=3, S=2, P=1)
    Xp = np.pad(X, ((1, 1), (1, 1), (0, 0)))
    for i in range(4):
        for j in range(4):
            np.testing.assert_array_equal(X_col[:, i * 4 + j], Xp[2 * i : 2 * i + 3, 2 * j : 2 * j + 3].ravel())


def test_the_notes_alexnet_numbers():
    X_col = im2col(np.zeros((227, 227, 3)), F=11, S=4)
    assert X_col.shape == (11 * 11 * 3, ((227 - 11) // 4 + 1) ** 2) == (363, 3025)
    W_row = np.zeros((96, 11, 11, 3)).reshape(96, -1)
    assert W_row.shape == (96, 363)
    assert np.dot(W_row, X_col).shape == (96, 3025)
    assert conv2d(np.zeros((227, 227, 3)), np.zeros((96, 11, 11, 3)), S=4).shape == (55, 55, 96)


def test_one_by_one_convolution_is_a_matrix_multiply_over_depth():
    rng = np.random.default_rng(2)
    X, W, b = rng.normal(size=(5, 6, 8)), rng.normal(size=(3, 1, 1, 8)), rng.normal(size=3)
    V = conv2d(X, W, b)
    assert V.shape == (5, 6, 3)
    for i in range(5):
        for j in range(6):
            np.testing.assert_allclose(V[i, j], W[:, 0, 0, :] @ X[i, j] + b, rtol=1e-12)


def test_dtypes():
    X32, W32 = np.ones((5, 5, 2), np.float32), np.ones((3, 3, 3, 2), np.float32)
    assert conv2d(X32, W32).dtype == np.float32
    assert conv2d_naive(X32, W32).dtype == np.float32
    assert conv2d(X32.astype(int), W32.astype(int)).dtype == np.float64
    np.testing.assert_array_equal(conv2d(X32.astype(int), W32.astype(int))[:, :, 0], np.full((3, 3), 18.0))


BAD = [
    (lambda f: f(np.ones((5, 5)), np.ones((1, 3, 3, 1))), ValueError, r"X must be a volume \(H, W, D\) or a batch"),
    (lambda f: f(np.ones((5, 5, 2)), np.ones((3, 3, 2))), ValueError, r"W must be a batch of volumes"),
    (lambda f: f(np.ones((5, 5, 2)), np.ones((1, 3, 3, 3))), ValueError, "depth mismatch: the input has depth D1 = 2"),
    (lambda f: f(np.ones((5, 5, 2)), np.ones((2, 3, 3, 2)), np.ones(3)), ValueError, r"one bias per filter, shape \(2,\)"),
    (lambda f: f(np.ones((6, 6, 1)), np.ones((1, 3, 3, 1)), S=2), ValueError, r"\(6 - 3 \+ 0\)/2 \+ 1 = 2.5"),
    (lambda f: f(np.ones((5, 5, 1)), np.ones((1, 3, 3, 1)), S=0), ValueError, "S must be at least 1"),
    (lambda f: f(np.ones((5, 5, 1)), np.ones((1, 3, 3, 1)), P=-1), ValueError, "P must be non-negative"),
    (lambda f: f(np.ones((2, 2, 1)), np.ones((1, 3, 3, 1))), ValueError, "filter F = 3 is larger than the padded input"),
    (lambda f: f(np.array([["a"]] * 3), np.ones((1, 1, 1, 1))), TypeError, "X must hold real numbers"),
    (lambda f: f(np.ones((3, 3, 1), bool), np.ones((1, 1, 1, 1))), TypeError, "X must hold real numbers"),
    (lambda f: f(np.ones((3, 3, 1)), np.ones((1, 1, 1, 1)), S=1.5), TypeError, "S must be an integer"),
    (lambda f: f(np.ones((0, 3, 1)), np.ones((1, 1, 1, 1))), ValueError, "X is empty"),
]


@pytest.mark.parametrize("function", [conv2d, conv2d_naive])
@pytest.mark.parametrize("call, error, message", BAD)
def test_bad_input(function, call, error, message):
    with pytest.raises(error, match=message):
        call(function)


def test_im2col_bad_input():
    with pytest.raises(ValueError, match=r"X must be a volume \(H, W, D\) or a batch of volumes \(N, H, W, D\), got shape \(5, 5\)"):
        im2col(np.ones((5, 5)), F=3)
    with pytest.raises(ValueError, match=r"\(227 - 11 \+ 0\)/5 \+ 1 = 44.2 is not a whole number"):
        im2col(np.ones((227, 227, 3)), F=11, S=5)


@settings(max_examples=20, deadline=None)
@example(H=4, W=5, D=2, P=1, dtype=np.float32, slack=-1)
@example(H=4, W=5, D=2, P=0, dtype=np.float64, slack=0)
@given(H=st.integers(3, 6), W=st.integers(3, 6), D=st.integers(1, 3), P=st.integers(0, 2),
       dtype=st.sampled_from([np.float32, np.float64]), slack=st.sampled_from([-1, 0]))
def test_col2im_allocates_the_padded_volume_in_the_columns_dtype_and_says_so(H, W, D, P, dtype, slack):
    """Its one allocation: the padded volume (1, H + 2P, W + 2P, D), refused by name beyond the limit, allowed at it."""
    from cnnref import checks

    X_col = np.ones((9 * D, ((H + 2 * P - 3) // 1 + 1) * ((W + 2 * P - 3) // 1 + 1)), dtype)
    shape = (1, H + 2 * P, W + 2 * P, D)
    nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(checks, "MEMORY_LIMIT", nbytes + slack)
        if slack < 0:
            with pytest.raises(MemoryError, match=re.escape(f"the padded volume ({' x '.join(map(str, shape))} numbers of {np.dtype(dtype)})")):
                col2im(X_col, (H, W, D), 3, P=P)
        else:
            assert col2im(X_col, (H, W, D), 3, P=P).dtype == dtype


@pytest.mark.parametrize("F, S, P", [(1, 1, 0), (2, 2, 0), (3, 1, 1)])
def test_im2col_returns_a_new_writeable_array(F, S, P):
    """X_col is a copy even where the windows tile X exactly (1x1, or F = S): writing into it leaves X alone."""
    X = np.arange(48.0).reshape(4, 4, 3)
    kept = X.copy()
    X_col = im2col(X, F, S, P)
    assert X_col.flags.writeable and not np.shares_memory(X_col, X)
    X_col[...] = -1
    np.testing.assert_array_equal(X, kept)
