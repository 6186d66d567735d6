"""Batch normalisation over depth: eval mode is an affine map of the running statistics, train mode
normalises each depth slice and updates them as PyTorch does, backward matches numerical gradients."""

import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradients import numerical_gradient, rel_error

from cnnref import fast_conv
from cnnref import (
    BatchNormLayer,
    ConvLayer,
    FCLayer,
    Net,
    ReLULayer,
    batch_norm_backward,
    batch_norm_eval,
    batch_norm_eval_fast,
    batch_norm_train,
    softmax_loss,
)

TOL = 1e-6


def trained_layer(rng, D=3, steps=3):
    """A BN layer with drawn gamma, beta, after a few training passes (running statistics moved)."""
    layer = BatchNormLayer(gamma=rng.uniform(0.5, 2.0, D), beta=rng.standard_normal(D))
    layer.init((4, 4, D), rng)
    for _ in range(steps):
        layer.forward(rng.normal(3.0, 2.0, (5, 4, 4, D)))
    return layer


def test_eval_mode_is_the_affine_map_of_the_running_statistics():
    rng = np.random.default_rng(0)
    layer = trained_layer(rng)
    X = rng.standard_normal((2, 4, 4, 3))
    Y = layer(X)
    for d in range(3):  # per depth slice: gamma (x - mean) / sqrt(var + eps) + beta, written out
        a = layer.params["gamma"][d] / np.sqrt(layer.running_var[d] + layer.eps)
        expected = a * (X[..., d] - layer.running_mean[d]) + layer.params["beta"][d]
        np.testing.assert_allclose(Y[..., d], expected, rtol=1e-12)
    # affine: f(s X1 + t X2) = s f(X1) + t f(X2) + (1 - s - t) f(0), and each image on its own
    X2 = rng.standard_normal(X.shape)
    np.testing.assert_allclose(layer(2 * X - 3 * X2), 2 * Y - 3 * layer(X2) + 2 * layer(np.zeros_like(X)), atol=1e-10)
    np.testing.assert_allclose(layer(X[1]), Y[1], rtol=1e-12)
    before = layer.running_mean.copy()
    layer(X)
    np.testing.assert_array_equal(layer.running_mean, before)  # inference changes nothing


def test_train_mode_normalises_each_depth_slice_with_the_batch():
    rng = np.random.default_rng(1)
    X = rng.normal(5.0, 3.0, (4, 6, 6, 3)) * np.array([1.0, 10.0, 0.1])
    gamma, beta = np.array([1.0, 2.0, 0.5]), np.array([0.0, -1.0, 3.0])
    Y, mean, var = batch_norm_train(X, gamma, beta)
    np.testing.assert_allclose(mean, X.reshape(-1, 3).mean(axis=0))
    np.testing.assert_allclose(var, X.reshape(-1, 3).var(axis=0))
    np.testing.assert_allclose(Y.reshape(-1, 3).mean(axis=0), beta, atol=1e-12)
    np.testing.assert_allclose(Y.reshape(-1, 3).std(axis=0), gamma, rtol=1e-4)  # eps shrinks it a little


def test_running_statistics_follow_pytorch():
    """running = 0.9 running + 0.1 batch, the batch variance unbiased (m - 1), from zeros and ones."""
    rng = np.random.default_rng(2)
    layer = BatchNormLayer()
    layer.init((3, 3, 2), rng)
    np.testing.assert_array_equal(layer.params["gamma"], np.ones(2))
    np.testing.assert_array_equal(layer.params["beta"], np.zeros(2))
    mean, var = np.zeros(2), np.ones(2)
    for _ in range(3):
        X = rng.normal(4.0, 2.0, (2, 3, 3, 2))
        layer.forward(X)
        flat = X.reshape(-1, 2)
        mean = 0.9 * mean + 0.1 * flat.mean(axis=0)
        var = 0.9 * var + 0.1 * flat.var(axis=0, ddof=1)
    np.testing.assert_allclose(layer.running_mean, mean, rtol=1e-12)
    np.testing.assert_allclose(layer.running_var, var, rtol=1e-12)


@pytest.mark.parametrize("shape", [(3, 2, 2, 3), (4, 3, 2), (5, 3)])
def test_train_mode_backward_matches_numerical_gradients(shape):
    rng = np.random.default_rng(3)
    X, G = rng.standard_normal(shape), rng.standard_normal(shape)
    gamma, beta = rng.uniform(0.5, 2.0, shape[-1]), rng.standard_normal(shape[-1])

    def f():
        return batch_norm_train(X, gamma, beta)[0]

    dX, dgamma, dbeta = batch_norm_backward(G, X, gamma)
    assert rel_error(dX, numerical_gradient(f, X, G)) < TOL
    assert rel_error(dgamma, numerical_gradient(f, gamma, G)) < TOL
    assert rel_error(dbeta, numerical_gradient(f, beta, G)) < TOL
    assert np.abs(dX).max() > 1e-3  # not vacuous


def test_a_net_with_batch_norm_trains_in_train_mode_and_infers_in_eval_mode():
    rng = np.random.default_rng(4)
    layers = [ConvLayer(K=3, F=3, P=1, bias=False), BatchNormLayer(), ReLULayer(), FCLayer(K=4)]
    net = Net((5, 5, 2), layers, seed=1).init()
    X, y = rng.standard_normal((3, 5, 5, 2)), np.array([0, 3, 1])
    assert [p.shape for p in net.params()] == [(3, 3, 3, 2), (3,), (3,), (4, 75), (4,)]

    def loss():
        return np.array(softmax_loss(net.forward(X), y)[0])  # train mode: the batch's statistics

    _, dscores = softmax_loss(net.forward(X), y)
    dX = net.backward(dscores)
    errors = [rel_error(g, numerical_gradient(loss, p, 1.0)) for p, g in zip(net.params(), net.grads())]
    errors.append(rel_error(dX, numerical_gradient(loss, X, 1.0)))
    assert len(errors) == 6 and max(errors) < TOL
    assert not np.allclose(net(X), net.forward(X))  # eval (running statistics) differs from train
    before = [p.copy() for p in net.params()]
    net.sgd_step(lr=0.1)
    assert all(not np.array_equal(p, q) for p, q in zip(net.params(), before))


def test_float32_stays_float32():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((2, 3, 3, 4)).astype(np.float32)
    layer = BatchNormLayer().init((3, 3, 4), rng, np.float32)
    assert layer.params["gamma"].dtype == layer.running_var.dtype == np.float32
    assert layer(X).dtype == layer.forward(X).dtype == layer.backward(np.ones_like(X)).dtype == np.float32
    assert all(g.dtype == np.float32 for g in layer.grads.values())


def test_bad_input_is_refused_with_the_argument_named():
    X, ones, zeros = np.ones((2, 2, 2, 3)), np.ones(3), np.zeros(3)
    with pytest.raises(ValueError, match=r"gamma must have one number per depth slice, shape \(3,\), got shape \(2,\)"):
        batch_norm_train(X, np.ones(2), zeros)
    with pytest.raises(ValueError, match="var must have one number per depth slice"):
        batch_norm_eval(X, ones, zeros, zeros, np.ones(4))
    with pytest.raises(ValueError, match="var must be non-negative"):
        batch_norm_eval(X, ones, zeros, zeros, -ones)
    with pytest.raises(ValueError, match="eps must be positive"):
        batch_norm_train(X, ones, zeros, eps=0)
    with pytest.raises(TypeError, match="beta must be an array of real numbers"):
        batch_norm_train(X, ones, None)
    with pytest.raises(TypeError, match="X must hold real numbers"):
        batch_norm_train(np.array([["a"]]), ones, zeros)
    with pytest.raises(ValueError, match="1 number per depth slice: batch statistics need at least 2"):
        batch_norm_train(np.ones((1, 3)), ones, zeros)
    with pytest.raises(ValueError, match=r"dY must have the shape of X \(2, 2, 2, 3\)"):
        batch_norm_backward(np.ones((2, 2, 3)), X, ones)
    with pytest.raises(ValueError, match="momentum must be between 0 and 1"):
        BatchNormLayer(momentum=1.5)
    with pytest.raises(ValueError, match="eps must be positive"):
        BatchNormLayer(eps=-1e-5)
    with pytest.raises(TypeError, match="momentum must be a real number"):
        BatchNormLayer(momentum="0.1")
    with pytest.raises(RuntimeError, match="no running statistics yet"):
        BatchNormLayer(gamma=ones, beta=zeros)(X)
    with pytest.raises(RuntimeError, match="needs the input of a forward"):
        BatchNormLayer().init((2, 2, 3), None).backward(X)
    with pytest.raises(ValueError, match=r"gamma has shape \(3,\), but an input of shape \(4, 4, 5\) needs gamma of shape \(5,\)"):
        Net((4, 4, 5), [BatchNormLayer(gamma=ones)])


@pytest.mark.parametrize("running", [np.zeros(2, int), [0.0, 0.0], "read-only"])
def test_given_running_statistics_become_the_layers_own_float_arrays(running):
    """Found by fuzzing: int, list or read-only running statistics crashed forward() inside NumPy
    (UFuncTypeError, "can't multiply sequence", "output array is read-only"), and a given array was
    updated in place behind its owner's back."""
    if isinstance(running, str):
        running = np.zeros(2)
        running.flags.writeable = False
    given = np.array(running, copy=True)
    layer = BatchNormLayer(gamma=np.ones(2), beta=np.zeros(2), running_mean=running, running_var=np.ones(2, int))
    X = np.arange(8.0).reshape(4, 2)
    layer.forward(X)
    np.testing.assert_allclose(layer.running_mean, 0.1 * X.mean(axis=0))
    np.testing.assert_allclose(layer.running_var, 0.9 + 0.1 * X.var(axis=0, ddof=1))
    np.testing.assert_array_equal(running, given)  # the caller's array is left alone


def test_given_parameters_and_statistics_are_checked_against_the_input_depth():
    """Found by fuzzing: running_mean of the wrong depth was accepted by Net and refused at the first call as
    "mean must have one number per depth slice" (not the argument's name); a list gamma broke sgd_step."""
    with pytest.raises(ValueError, match=r"running_mean has shape \(3,\), but an input of shape \(2, 2, 2\) needs running_mean"):
        Net((2, 2, 2), [BatchNormLayer(running_mean=np.zeros(3))])
    with pytest.raises(ValueError, match="running_var must be non-negative"):
        BatchNormLayer(running_var=-np.ones(2))
    net = Net((1, 2, 2), [BatchNormLayer(gamma=[1.0, 2.0], beta=[0.0, 0.0])])
    net.forward(np.arange(8.0).reshape(2, 1, 2, 2))
    net.backward(np.arange(8.0).reshape(2, 1, 2, 2))
    net.sgd_step(0.1)
    assert isinstance(net.params()[0], np.ndarray)


def test_backward_refuses_what_the_training_pass_refuses():
    """Found by fuzzing: with one number per depth slice batch_norm_train refuses X, but its backward returned 0."""
    with pytest.raises(ValueError, match="1 number per depth slice"):
        batch_norm_backward(np.ones((1, 3)), np.ones((1, 3)), np.ones(3))


def test_statistics_that_overflow_are_refused_not_returned_as_zeros():
    """float32 squares overflow past 1.8e19: the variance would be inf and every normalised number 0."""
    X = np.array([[1e19], [3e19], [-2e19]], dtype=np.float32)
    one, zero = np.ones(1, np.float32), np.zeros(1, np.float32)
    for call in (lambda: batch_norm_train(X, one, zero), lambda: batch_norm_backward(np.ones_like(X), X, one),
                 lambda: BatchNormLayer(gamma=one, beta=zero).forward(X)):
        with pytest.raises(ValueError, match=r"X's statistics overflow float32: .* numbers up to 3e\+19, and float32's "
                                             r"largest number is 3\.4e\+38: scale X down, or pass it as float64"):
            call()
    Y, mean, var = batch_norm_train(X.astype(np.float64), one, zero)  # in float64 they fit: the definition's numbers
    assert np.allclose(Y[:, 0], (X[:, 0] - mean) / np.sqrt(var + 1e-5)) and np.isclose(var[0], np.var([1e19, 3e19, -2e19]))
    with pytest.raises(ValueError, match=r"overflow float64: .* up to 1e\+200, .* 1\.8e\+308: scale X down$"):
        batch_norm_train(np.array([[1e200], [-1e200]]), np.ones(1), np.zeros(1))


def test_backward_follows_the_promotion_rule_for_dY():
    """Found by fuzzing: an integer dY was summed in its own dtype (dbeta int64, int64 sums wrapping)."""
    X, gamma = np.array([[1.0], [3.0]], np.float32), np.ones(1, np.float32)
    dY = np.array([[2**62], [2**62]], np.int64)
    dX, dgamma, dbeta = batch_norm_backward(dY, X, gamma)
    assert dX.dtype == dgamma.dtype == dbeta.dtype == np.float64
    assert dbeta[0] == 2.0**63


# Properties over drawn shapes (vectors, a volume, a batch), statistics and hyperparameters: they reach
# every branch of batch_norm.py (make property-coverage).

SHAPES = st.sampled_from([(5, 3), (3, 2, 2), (2, 3, 2, 2), (4, 1)])


@settings(max_examples=20, deadline=None)
@given(shape=SHAPES, seed=st.integers(0, 2**16), eps=st.sampled_from([1e-5, 1e-3, 0.5]))
def test_train_mode_is_eval_mode_with_the_batchs_own_statistics(shape, seed, eps):
    """Y = batch_norm_eval(X, ..., mean, var) with the mean and biased variance that train mode returns."""
    rng = np.random.default_rng(seed)
    X = rng.normal(2.0, 3.0, shape)
    gamma, beta = rng.uniform(0.5, 2.0, shape[-1]), rng.standard_normal(shape[-1])
    Y, mean, var = batch_norm_train(X, gamma, beta, eps)
    flat = X.reshape(-1, shape[-1])
    np.testing.assert_allclose(mean, flat.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(var, flat.var(axis=0), rtol=1e-12)
    np.testing.assert_allclose(Y, batch_norm_eval(X, gamma, beta, mean, var, eps), rtol=1e-10, atol=1e-12)
    # each depth slice has mean beta and standard deviation gamma * sqrt(var / (var + eps))
    np.testing.assert_allclose(Y.reshape(-1, shape[-1]).mean(axis=0), beta, atol=1e-10)
    np.testing.assert_allclose(Y.reshape(-1, shape[-1]).std(axis=0), gamma * np.sqrt(var / (var + eps)), rtol=1e-8)


@settings(max_examples=15, deadline=None)
@given(shape=SHAPES, seed=st.integers(0, 2**16), eps=st.sampled_from([1e-5, 0.1]))
def test_backward_is_the_numerical_gradient_for_any_shape_and_eps(shape, seed, eps):
    rng = np.random.default_rng(seed)
    X, G = rng.standard_normal(shape), rng.standard_normal(shape)
    gamma, beta = rng.uniform(0.5, 2.0, shape[-1]), rng.standard_normal(shape[-1])

    def f():
        return batch_norm_train(X, gamma, beta, eps)[0]

    dX, dgamma, dbeta = batch_norm_backward(G, X, gamma, eps)
    assert rel_error(dX, numerical_gradient(f, X, G)) < TOL
    assert rel_error(dgamma, numerical_gradient(f, gamma, G)) < TOL
    assert rel_error(dbeta, numerical_gradient(f, beta, G)) < TOL


@settings(max_examples=15, deadline=None)
@given(shape=SHAPES, seed=st.integers(0, 2**16), momentum=st.sampled_from([0.0, 0.1, 0.5, 1.0]),
       eps=st.sampled_from([1e-5, 1e-3]), given_params=st.booleans(), steps=st.integers(1, 3))
def test_the_layer_trains_on_batch_statistics_and_infers_on_running_ones(shape, seed, momentum, eps, given_params, steps):
    """forward: running = (1 - momentum) running + momentum batch (variance unbiased); layer(X) uses the running ones."""
    rng = np.random.default_rng(seed)
    D = shape[-1]
    gamma, beta = rng.uniform(0.5, 2.0, D), rng.standard_normal(D)
    layer = BatchNormLayer(momentum, eps, gamma=gamma, beta=beta) if given_params else BatchNormLayer(momentum, eps)
    mean, var = np.zeros(D), np.ones(D)
    if given_params and seed % 2:  # running statistics given too: init() and forward() keep them
        mean, var = rng.standard_normal(D), rng.uniform(0.5, 2.0, D)
        layer = BatchNormLayer(momentum, eps, gamma=gamma, beta=beta, running_mean=mean.copy(), running_var=var.copy())
        layer.init(shape[-3:] if len(shape) >= 3 else shape[-1:], rng)
        np.testing.assert_array_equal(layer.running_mean, mean)
        np.testing.assert_array_equal(layer.running_var, var)
    if not given_params:
        with pytest.raises(RuntimeError, match="no running statistics yet"):
            layer(np.ones(shape))
        layer.init(shape[-3:] if len(shape) >= 3 else shape[-1:], rng)
        gamma, beta = np.ones(D), np.zeros(D)
        np.testing.assert_array_equal(layer.params["gamma"], gamma)
    assert layer.n_params(shape[-3:] if len(shape) >= 3 else shape[-1:]) == 2 * D
    for _ in range(steps):
        X = rng.normal(1.0, 2.0, shape)
        Y = layer.forward(X)
        np.testing.assert_allclose(Y, batch_norm_train(X, gamma, beta, eps)[0], rtol=1e-12)
        flat = X.reshape(-1, D)
        mean = (1 - momentum) * mean + momentum * flat.mean(axis=0)
        var = (1 - momentum) * var + momentum * flat.var(axis=0, ddof=1)
    np.testing.assert_allclose(layer.running_mean, mean, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(layer.running_var, var, rtol=1e-12)
    np.testing.assert_allclose(layer(X), batch_norm_eval(X, gamma, beta, mean, var, eps), rtol=1e-10, atol=1e-12)
    G = rng.standard_normal(shape)
    dX = layer.backward(G)
    expected = batch_norm_backward(G, X, gamma, eps)
    np.testing.assert_array_equal(dX, expected[0])
    np.testing.assert_array_equal(layer.grads["gamma"], expected[1])
    np.testing.assert_array_equal(layer.grads["beta"], expected[2])
    words = layer.describe().split()
    assert words[0] == "BN" and ("momentum=" + f"{momentum:g}" in words) == (momentum != 0.1)
    assert ("eps=" + f"{eps:g}" in words) == (eps != 1e-5) and len(words) == 1 + (momentum != 0.1) + (eps != 1e-5)


BAD = ["gamma shape", "var shape", "negative var", "eps", "one number", "dY shape", "momentum", "layer eps",
       "running_var", "string X"]


@pytest.mark.parametrize("bad", BAD)  # each refusal every run, over drawn shapes and values
@settings(max_examples=5, deadline=None)
@given(shape=SHAPES, scale=st.sampled_from([-1.0, 0.0, 2.0]))
def test_each_bad_argument_is_refused_by_its_name(bad, shape, scale):
    X, D = np.ones(shape), shape[-1]
    ones, zeros = np.ones(D), np.zeros(D)
    calls = {
        "gamma shape": (ValueError, "gamma must have one number per depth slice", lambda: batch_norm_train(X, np.ones(D + 1), zeros)),
        "var shape": (ValueError, "var must have one number per depth slice", lambda: batch_norm_eval(X, ones, zeros, zeros, np.ones(D + 1))),
        "negative var": (ValueError, "var must be non-negative", lambda: batch_norm_eval(X, ones, zeros, zeros, -ones - abs(scale))),
        "eps": (ValueError, "eps must be positive", lambda: batch_norm_backward(X, X, ones, eps=min(scale, 0.0))),
        "one number": (ValueError, "batch statistics need at least 2", lambda: batch_norm_train(X[(0,) * (X.ndim - 1)][None], ones, zeros)),
        "dY shape": (ValueError, "dY must have the shape of X", lambda: batch_norm_backward(X[..., :1] if D > 1 else X[:1], X, ones)),
        "momentum": (ValueError, "momentum must be between 0 and 1", lambda: BatchNormLayer(momentum=1.5 + abs(scale))),
        "layer eps": (ValueError, "eps must be positive", lambda: BatchNormLayer(eps=min(scale, 0.0))),
        "running_var": (ValueError, "running_var must be a vector", lambda: BatchNormLayer(running_var=np.ones((D, 2)))),
        "string X": (TypeError, "X must hold real numbers", lambda: batch_norm_eval(np.array([["a"]]), ones, zeros, zeros, ones)),
    }
    error, message, call = calls[bad]
    with pytest.raises(error, match=message):
        call()


@settings(max_examples=60, deadline=None)
@given(shape=st.lists(st.integers(1, 6), min_size=1, max_size=4), seed=st.integers(0, 2**16),
       dtype=st.sampled_from([np.float32, np.float64, np.int16]), threads=st.integers(1, 3),
       block=st.sampled_from([1, 40, fast_conv._AFFINE_BLOCK]), split=st.sampled_from([0, fast_conv._AFFINE_SPLIT]))
def test_the_tuned_eval_is_the_readable_one_bit_for_bit(shape, seed, dtype, threads, block, split):
    """Any shape and dtype, one to three threads (from any size on, or only from the default size: these
    small arrays then stay on the caller), a block per row or a few rows or the default: the same numbers."""
    rng = np.random.default_rng(seed)
    X = (rng.standard_normal(shape) * 10).astype(dtype)
    if rng.integers(2):
        X = X.swapaxes(0, -1).copy().swapaxes(0, -1) if X.ndim > 1 else X  # not C-contiguous
    D = shape[-1]
    gamma, beta, mean = (rng.standard_normal(D).astype(np.float32) for _ in range(3))
    var = rng.uniform(0, 3, D).astype(np.float32)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CNNREF_THREADS", str(threads))
        patch.setattr(fast_conv, "_cores", lambda: 8)
        patch.setattr(fast_conv, "_AFFINE_BLOCK", block)
        patch.setattr(fast_conv, "_AFFINE_SPLIT", split)
        Y = batch_norm_eval_fast(X, gamma, beta, mean, var, eps=1e-3)
    want = batch_norm_eval(X, gamma, beta, mean, var, eps=1e-3)
    assert Y.dtype == want.dtype and Y.shape == want.shape
    np.testing.assert_array_equal(Y, want)


@pytest.mark.parametrize("nbytes", [fast_conv._AFFINE_SPLIT // 2, fast_conv._AFFINE_SPLIT])
def test_depth_affine_hands_work_to_a_thread_only_from_its_split_size_on(monkeypatch, nbytes):
    """Below _AFFINE_SPLIT bytes of output the caller's thread does it all; from there on, every thread works."""
    monkeypatch.setenv("CNNREF_THREADS", "2")
    monkeypatch.setattr(fast_conv, "_cores", lambda: 2)
    X = np.ones((nbytes // (4 * 64), 64), np.float32)
    seen, multiply = set(), np.multiply
    monkeypatch.setattr(fast_conv.np, "multiply", lambda *a, **k: seen.add(threading.get_ident()) or multiply(*a, **k))
    Y = fast_conv.depth_affine(X, np.full(64, 2, np.float32), np.ones(64, np.float32))
    assert Y.nbytes == nbytes and np.all(Y == 3)
    assert (seen == {threading.get_ident()}) == (nbytes < fast_conv._AFFINE_SPLIT), seen


def test_the_layer_infers_with_the_tuned_eval(monkeypatch):
    layer = trained_layer(np.random.default_rng(0))
    called = []
    monkeypatch.setattr("cnnref.batch_norm.depth_affine", lambda *a, f=fast_conv.depth_affine, **k: called.append(1) or f(*a, **k))
    layer(np.ones((2, 4, 4, 3)))
    assert called


def test_a_net_infers_batch_norm_in_place_on_its_own_volumes_only(monkeypatch):
    """BN, like RELU, overwrites a volume the pass made (the CONV's output), never the caller's X; same numbers."""
    from cnnref import conv2d_fast

    rng = np.random.default_rng(0)
    net = Net((5, 5, 3), [trained_layer(rng), ConvLayer(3, 3, P=1), trained_layer(rng), ReLULayer()], seed=1).init()
    X = rng.normal(3.0, 2.0, (2, 5, 5, 3))
    kept, in_place = X.copy(), []
    call = BatchNormLayer.__call__
    monkeypatch.setattr(BatchNormLayer, "__call__", lambda self, A, out=None: in_place.append(out is A) or call(self, A, out=out))
    Y = net(X)
    assert in_place == [False, True]  # the first BN met the caller's X: a new array
    np.testing.assert_array_equal(X, kept)
    first, conv, second = net.layers[:3]
    expected = [first.params["gamma"], first.params["beta"], first.running_mean, first.running_var]
    V = conv2d_fast(batch_norm_eval(kept, *expected), conv.W, conv.b, 1, 1)
    stats = [second.params["gamma"], second.params["beta"], second.running_mean, second.running_var]
    np.testing.assert_array_equal(Y, np.maximum(batch_norm_eval(V, *stats), 0))


def test_the_layer_writes_into_out_only_in_its_compute_dtype():
    layer = trained_layer(np.random.default_rng(0))
    X = np.random.default_rng(1).normal(size=(2, 4, 4, 3))
    want = layer(X)
    out = X.copy()
    assert layer(out, out=out) is not None and np.array_equal(out, want)  # in place: out holds the result
    X32 = X.astype(np.float32)  # promoted to the float64 statistics: a new float64 array, X32 untouched
    Y = layer(X32, out=X32)
    assert Y.dtype == np.float64 and np.array_equal(X32, X.astype(np.float32))
    with pytest.raises(ValueError, match="out must be a contiguous array of X's shape"):
        fast_conv.depth_affine(X, np.ones(3), np.zeros(3), out=np.empty((2, 4, 4, 2)))


def test_the_layer_given_a_view_as_out_returns_a_new_array_with_the_same_numbers():
    """A volume a pass made may be a view (a grouped convolution's output, a slice): BN cannot write into it as
    one block, so it returns a new array, and the numbers are those of a contiguous copy (found by
    test_residual: groups=2, 1x1, then BN, inside a block)."""
    layer = trained_layer(np.random.default_rng(0))
    X = np.random.default_rng(1).normal(size=(2, 4, 4, 6))[..., ::2]  # depth 3, not contiguous
    want = layer(np.ascontiguousarray(X))
    kept = X.copy()
    Y = layer(X, out=X)
    np.testing.assert_array_equal(Y, want)
    np.testing.assert_array_equal(X, kept)
    with pytest.raises(ValueError, match="contiguous False"):
        fast_conv.depth_affine(np.ascontiguousarray(X), np.ones(3), np.zeros(3), out=X)
