"""Global average pooling: average pooling with one window as large as the volume, its gradient, bad input."""

import numpy as np
import pytest

from gradients import numerical_gradient

from cnnref import GlobalAvgPoolLayer, Net, avg_pool, global_avg_pool, global_avg_pool_backward


def test_equals_average_pooling_with_the_whole_volume_as_window():
    X = np.random.default_rng(0).standard_normal((2, 7, 5, 3))
    np.testing.assert_allclose(global_avg_pool(X), avg_pool(X, F=(7, 5), S=1).reshape(2, 3), rtol=1e-12)
    np.testing.assert_allclose(global_avg_pool(X[1]), X[1].sum(axis=(0, 1)) / 35, rtol=1e-12)


@pytest.mark.parametrize("shape", [(3, 4, 2), (2, 3, 3, 4)])
def test_backward_matches_numerical_gradients(shape):
    rng = np.random.default_rng(1)
    X = rng.standard_normal(shape)
    G = rng.standard_normal(shape[:-3] + shape[-1:])
    n = numerical_gradient(lambda: global_avg_pool(X), X, G)
    np.testing.assert_allclose(global_avg_pool_backward(G, X), n, atol=1e-8)
    layer = GlobalAvgPoolLayer()
    layer.forward(X)
    np.testing.assert_allclose(layer.backward(G), n, atol=1e-8)


def test_the_layer_sees_the_whole_volume():
    layer = GlobalAvgPoolLayer()
    assert layer.output_shape((7, 7, 1024)) == (1024,) and layer.n_params((7, 7, 1024)) == 0
    row = Net((7, 5, 3), [layer]).summary().rows[-1]
    assert row.receptive_field == (7, 5) and row.output == (3,)
    assert global_avg_pool(np.ones((2, 2, 1), np.float32)).dtype == np.float32


def test_bad_input():
    with pytest.raises(ValueError, match=r"X must be a volume \(H, W, D\) or a batch of volumes"):
        global_avg_pool(np.ones(3))
    with pytest.raises(ValueError, match=r"dV must have shape \(2, 4\)"):
        global_avg_pool_backward(np.ones(4), np.ones((2, 3, 3, 4)))
    with pytest.raises(RuntimeError, match="needs the input of a forward"):
        GlobalAvgPoolLayer().backward(np.ones(3))
