"""ReLU: max(0, x) elementwise; the volume's size is unchanged."""

import numpy as np
import pytest

from cnnref import ReLULayer, relu


def test_relu_thresholds_at_zero_and_keeps_the_shape():
    X = np.random.default_rng(0).normal(size=(2, 32, 32, 12))
    V = relu(X)
    assert V.shape == X.shape
    np.testing.assert_array_equal(V, np.where(X > 0, X, 0.0))
    assert (V >= 0).all()
    assert ReLULayer().output_shape((32, 32, 12)) == (32, 32, 12)
    assert ReLULayer().n_params((32, 32, 12)) == 0


def test_relu_bad_input():
    with pytest.raises(TypeError, match="real numbers"):
        relu(np.array(["x"]))
    with pytest.raises(ValueError, match="5-D"):
        relu(np.ones((1, 1, 1, 1, 1)))
