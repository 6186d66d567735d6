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


def test_backward_divides_in_the_result_dtype():
    """Found by fuzzing: a float16 dV was divided by H * W in float16, then cast to float32 (error 2e-4)."""
    dX = global_avg_pool_backward(np.array([1.0], np.float16), np.zeros((3, 1, 1)))
    assert dX.dtype == np.float32 and np.all(dX == np.float32(1.0) / np.float32(3.0))


def test_backward_checks_the_memory_it_allocates():
    """Found by fuzzing: X may be a broadcast view of a huge shape; dX is allocated at that shape."""
    X = np.broadcast_to(np.zeros(1), (2**20, 2**20, 2**10, 1))
    with pytest.raises(MemoryError, match="dX"):
        global_avg_pool_backward(np.ones((2**20, 1)), X)
