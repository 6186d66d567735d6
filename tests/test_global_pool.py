"""Global average pooling: average pooling with one window as large as the volume, its gradient, bad input."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


@settings(max_examples=20, deadline=None)
@given(H=st.integers(1, 5), W=st.integers(1, 5), D=st.integers(1, 3), N=st.sampled_from([None, 1, 3]),
       dtype=st.sampled_from([np.float64, np.float32, np.int16]), seed=st.integers(0, 2**16))
def test_any_volume_is_averaged_and_its_gradient_is_the_adjoint(H, W, D, N, dtype, seed):
    """global_avg_pool is avg_pool with F = (H, W); its backward is its adjoint: <g(X), dV> = <X, g*(dV)>."""
    rng = np.random.default_rng(seed)
    shape = (H, W, D) if N is None else (N, H, W, D)
    X = rng.integers(-9, 9, shape).astype(dtype)
    V = global_avg_pool(X)
    assert V.shape == shape[:-3] + (D,) and V.dtype == (np.float32 if dtype == np.float32 else np.float64)
    np.testing.assert_allclose(V, avg_pool(X.astype(np.float64), F=(H, W), S=1).reshape(V.shape), rtol=1e-6)
    dV = rng.standard_normal(V.shape)
    dX = global_avg_pool_backward(dV, X)
    assert dX.shape == X.shape and dX.flags.writeable
    assert np.isclose(np.sum(global_avg_pool(X.astype(np.float64)) * dV), np.sum(X * dX), rtol=1e-9, atol=1e-9)
    layer = GlobalAvgPoolLayer()
    assert layer.output_shape((H, W, D)) == (D,) and layer.describe() == "POOL global avg"
    assert [f.size for f in Net((H, W, D), [layer]).summary().rows[-1].field] == [H, W]
    np.testing.assert_array_equal(layer.forward(X), V)
    np.testing.assert_array_equal(layer.backward(dV), dX)
    with pytest.raises(ValueError, match=r"dV must have shape"):
        global_avg_pool_backward(np.ones(D + 1), X)
