"""FC layers: a matrix multiply on the flattened volume, and the checks on its shapes."""

import numpy as np
import pytest

from cnnref import FCLayer, fc


def test_fc_is_a_matrix_multiply_on_the_c_order_flattening():
    rng = np.random.default_rng(0)
    X, W, b = rng.normal(size=(4, 4, 3)), rng.normal(size=(10, 48)), rng.normal(size=10)
    scores = fc(X, W, b)
    assert scores.shape == (10,)
    expected = [sum(W[k, (i * 4 + j) * 3 + d] * X[i, j, d] for i in range(4) for j in range(4) for d in range(3)) + b[k] for k in range(10)]
    np.testing.assert_allclose(scores, expected, rtol=1e-12)


def test_fc_batch_axis():
    rng = np.random.default_rng(1)
    X, W, b = rng.normal(size=(5, 2, 2, 3)), rng.normal(size=(4, 12)), rng.normal(size=4)
    out = fc(X, W, b)
    assert out.shape == (5, 4)
    for n in range(5):
        np.testing.assert_allclose(out[n], fc(X[n], W, b), rtol=1e-12)
    np.testing.assert_allclose(fc(X.reshape(5, 12), W, b), out, rtol=1e-12)  # (N, n) vectors


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: fc(np.ones((2, 2, 3)), np.ones((4, 13)), np.ones(4)), ValueError, r"expects 13 inputs per example, but X has 2x2x3 = 12"),
        (lambda: fc(np.ones((2, 2, 3)), np.ones((4, 12)), np.ones(3)), ValueError, r"one bias per filter, shape \(4,\)"),
        (lambda: fc(np.ones((2, 2, 3)), np.ones(12), np.ones(1)), ValueError, r"W must be a batch of vectors \(N, n\)"),
        (lambda: fc([["a"]], np.ones((1, 1)), np.ones(1)), TypeError, "X must hold real numbers"),
    ],
)
def test_bad_input(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_fc_without_biases_adds_zero():
    W = np.arange(24.0).reshape(2, 12)
    np.testing.assert_array_equal(fc(np.ones((2, 2, 3)), W, None), W.sum(axis=1))


def test_fc_layer():
    layer = FCLayer(K=10)
    assert layer.output_shape((16, 16, 12)) == (10,)
    assert layer.n_params((16, 16, 12)) == 16 * 16 * 12 * 10 + 10 == 30_730
    assert repr(layer) == "<FC K=10>"
