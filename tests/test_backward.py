"""Backward passes against numerical gradients (central differences, float64), plus bad input.

Each backward function gets L = sum(V * G) for a random G, so dL/dV = G and the analytic gradients
must match (L(A + h) - L(A - h)) / 2h entry by entry. Errors are relative: |a - n| / (|a| + |n|) over
the whole array, with the denominator floored where the gradients are too small for central
differences to resolve (see rel_error).
"""

import numpy as np
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from scipy.special import logsumexp, softmax

from gradients import numerical_gradient

from cnnref import (
    ConvLayer,
    FCLayer,
    Net,
    PoolLayer,
    ReLULayer,
    avg_pool,
    avg_pool_backward,
    col2im,
    conv2d,
    conv2d_backward,
    conv2d_backward_fast,
    fc,
    fc_backward,
    im2col,
    max_pool,
    max_pool_backward,
    max_pool_backward_fast,
    relu,
    relu_backward,
    softmax_loss,
)

TOL = 1e-6
H = 1e-6  # the central differences' step (gradients.numerical_gradient's default h)
# A loss of size about 1 is rounded to within a few eps; the central difference divides two such roundings
# by 2H, so each numerical entry carries about NOISE of noise whatever the gradient's size (measured: at
# most 1.5e-9 per entry over 4,800 softmax cases with losses up to about 13; 16 eps / H = 3.6e-9).
NOISE = 16 * np.finfo(np.float64).eps / H
SETTINGS = settings(max_examples=25, deadline=None)


def rel_error(a, n):
    """||a - n|| / (||a|| + ||n||), the denominator floored at the numerical gradient's noise / TOL.

    Below that floor the gradients are too small for central differences to resolve (a softmax gradient
    of 1e-6, from a loss of 1e-6, is read to only 4e-5 relative error): rel_error < TOL then means
    ||a - n|| < NOISE sqrt(size), an absolute check at the finite differences' resolution.
    """
    floor = NOISE * np.sqrt(np.size(a)) / TOL
    return np.linalg.norm(a - n) / max(np.linalg.norm(a) + np.linalg.norm(n), floor)


@st.composite
def conv_case(draw):
    """A random conv layer whose hyperparameters tile: pick H2, F, S, P, then H1 = (H2 - 1)S + F - 2P."""
    F, S = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    P = draw(st.integers(0, F - 1))
    H2, W2 = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    H1, W1 = (H2 - 1) * S + F - 2 * P, (W2 - 1) * S + F - 2 * P
    assume(H1 >= 1 and W1 >= 1)
    N = draw(st.sampled_from([None, 1, 2]))
    D, K = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    X = rng.standard_normal((H1, W1, D) if N is None else (N, H1, W1, D))
    W, b = rng.standard_normal((K, F, F, D)), rng.standard_normal(K)
    G = rng.standard_normal(conv2d(X, W, b, S, P).shape)
    return X, W, b, S, P, G


@SETTINGS
@given(conv_case())
def test_conv2d_backward_matches_numerical_gradients(case):
    X, W, b, S, P, G = case
    dX, dW, db = conv2d_backward(G, X, W, S, P)
    assert dX.shape == X.shape and dW.shape == W.shape and db.shape == b.shape
    assert rel_error(dX, numerical_gradient(lambda: conv2d(X, W, b, S, P), X, G)) < TOL
    assert rel_error(dW, numerical_gradient(lambda: conv2d(X, W, b, S, P), W, G)) < TOL
    assert rel_error(db, numerical_gradient(lambda: conv2d(X, W, b, S, P), b, G)) < TOL


def test_conv2d_backward_on_the_notes_demo_layer():
    """The notes' demo: 5x5x3 input, two 3x3x3 filters, S = 2, P = 1 (output 3x3x2), batch of 2."""
    rng = np.random.default_rng(1)
    X, W, b = rng.standard_normal((2, 5, 5, 3)), rng.standard_normal((2, 3, 3, 3)), rng.standard_normal(2)
    G = rng.standard_normal((2, 3, 3, 2))
    dX, dW, db = conv2d_backward(G, X, W, S=2, P=1)
    assert rel_error(dX, numerical_gradient(lambda: conv2d(X, W, b, 2, 1), X, G)) < TOL
    assert rel_error(dW, numerical_gradient(lambda: conv2d(X, W, b, 2, 1), W, G)) < TOL
    np.testing.assert_allclose(db, G.sum(axis=(0, 1, 2)))


@SETTINGS
@given(conv_case())
def test_col2im_is_the_adjoint_of_im2col(case):
    """<im2col(X), Y> == <X, col2im(Y)> for every X and Y: col2im is im2col's transpose."""
    X, W, _, S, P, _ = case
    X = X if X.ndim == 3 else X[0]
    F = W.shape[1]
    X_col = im2col(X, F, S, P)
    Y = np.random.default_rng(0).standard_normal(X_col.shape)
    assert np.isclose(np.sum(X_col * Y), np.sum(X * col2im(Y, X.shape, F, S, P)))


def test_col2im_counts_overlapping_windows():
    """F = 3, S = 2 on 5x5: the middle row and column are covered by two windows, the centre by four."""
    counts = col2im(np.ones((9, 4)), (5, 5, 1), F=3, S=2)[:, :, 0]
    np.testing.assert_array_equal(counts[2], [2, 2, 4, 2, 2])
    np.testing.assert_array_equal(counts[0], [1, 1, 2, 1, 1])


@SETTINGS
@given(st.integers(0, 2**32 - 1), st.sampled_from([(3,), (2, 4), (3, 3, 2), (2, 3, 3, 2)]))
def test_relu_backward_matches_numerical_gradients(seed, shape):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal(shape)
    X += np.sign(X) * 0.01  # keep away from the kink at 0, where the difference quotient is not the derivative
    G = rng.standard_normal(shape)
    assert rel_error(relu_backward(G, X), numerical_gradient(lambda: relu(X), X, G)) < TOL


def test_relu_backward_passes_zero_at_zero():
    np.testing.assert_array_equal(relu_backward(np.ones(3), np.array([-1.0, 0.0, 1.0])), [0.0, 0.0, 1.0])


@st.composite
def pool_case(draw):
    F = draw(st.integers(1, 3))
    S = draw(st.integers(1, 3))
    H2, W2 = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    N = draw(st.sampled_from([None, 1, 2]))
    D = draw(st.integers(1, 3))
    shape = ((H2 - 1) * S + F, (W2 - 1) * S + F, D)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    X = rng.standard_normal(shape if N is None else (N, *shape))
    G = rng.standard_normal(max_pool(X, F, S).shape)
    return X, F, S, G


@SETTINGS
@given(pool_case())
def test_max_pool_backward_matches_numerical_gradients(case):
    """Overlapping (S < F), adjacent (S = F) and gapped (S > F) windows; random X has no ties."""
    X, F, S, G = case
    dX = max_pool_backward(G, X, F, S)
    assert dX.shape == X.shape
    assert rel_error(dX, numerical_gradient(lambda: max_pool(X, F, S), X, G)) < TOL


@SETTINGS
@given(pool_case())
def test_avg_pool_backward_matches_numerical_gradients(case):
    X, F, S, G = case
    assert rel_error(avg_pool_backward(G, X, F, S), numerical_gradient(lambda: avg_pool(X, F, S), X, G)) < TOL


def test_max_pool_backward_ties_go_to_the_first_maximum():
    """A window of equal values: all of dV goes to its first entry in row-major order (numpy.argmax)."""
    dX = max_pool_backward(np.full((1, 1, 1), 5.0), np.ones((2, 2, 1)))
    np.testing.assert_array_equal(dX[:, :, 0], [[5.0, 0.0], [0.0, 0.0]])


@SETTINGS
@given(
    st.integers(0, 2**32 - 1),
    st.sampled_from([(6,), (3, 6), (2, 2, 3), (2, 1, 3, 2)]),  # vector, batch of vectors, volume, batch of volumes
    st.integers(1, 4),
)
def test_fc_backward_matches_numerical_gradients(seed, shape, K):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal(shape)
    n = int(np.prod(shape[1:] if len(shape) in (2, 4) else shape))
    W, b = rng.standard_normal((K, n)), rng.standard_normal(K)
    G = rng.standard_normal(fc(X, W, b).shape)
    dX, dW, db = fc_backward(G, X, W)
    assert rel_error(dX, numerical_gradient(lambda: fc(X, W, b), X, G)) < TOL
    assert rel_error(dW, numerical_gradient(lambda: fc(X, W, b), W, G)) < TOL
    assert rel_error(db, numerical_gradient(lambda: fc(X, W, b), b, G)) < TOL


@SETTINGS
@given(st.integers(0, 2**32 - 1), st.integers(1, 4), st.integers(2, 5))
@example(seed=3, N=1, K=2)  # scores 6.12, -7.67, label 0: loss and gradients of 1e-6 (failed the unfloored check)
def test_softmax_loss_value_and_gradient(seed, N, K):
    rng = np.random.default_rng(seed)
    scores, y = 3 * rng.standard_normal((N, K)), rng.integers(0, K, N)
    loss, dscores = softmax_loss(scores, y)
    expected = np.mean(logsumexp(scores, axis=1) - scores[np.arange(N), y])  # independent oracle
    assert np.isclose(loss, expected)
    numeric = numerical_gradient(lambda: np.array(softmax_loss(scores, y)[0]), scores, 1.0)
    assert rel_error(dscores, numeric) < TOL
    # Entry by entry, tiny gradients included: (softmax(s) - onehot(y)) / N from SciPy's softmax.
    onehot = np.eye(K)[y]
    np.testing.assert_allclose(dscores, (softmax(scores, axis=1) - onehot) / N, rtol=1e-9, atol=1e-15)


def test_softmax_loss_does_not_overflow_and_takes_one_example():
    loss, dscores = softmax_loss(np.array([1000.0, 0.0]), 0)
    assert np.isfinite(loss) and loss < 1e-300 + 1e-12
    assert dscores.shape == (2,) and np.all(np.isfinite(dscores))


@SETTINGS
@given(st.integers(0, 2**32 - 1), st.integers(2, 6), st.data())
def test_softmax_loss_of_any_one_example_is_its_batch_of_one(seed, K, data):
    scores = 3 * np.random.default_rng(seed).standard_normal(K)
    y = data.draw(st.integers(0, K - 1))
    label = data.draw(st.sampled_from([y, np.int64(y), np.array([y])]))
    loss, dscores = softmax_loss(scores, label)
    batch_loss, batch_dscores = softmax_loss(scores[None], np.array([y]))
    assert loss == batch_loss and dscores.shape == (K,) and np.array_equal(dscores, batch_dscores[0])
    np.testing.assert_allclose(dscores, softmax(scores) - np.eye(K)[y], rtol=1e-9, atol=1e-15)


def test_softmax_loss_of_one_example_is_the_batch_of_one():
    """scores (K,) with an int label: the loss and gradient of the batch [scores], p - onehot(y) (N = 1)."""
    loss, dscores = softmax_loss(np.zeros(4), 2)  # p = 1/4 each
    assert loss == pytest.approx(np.log(4)) and dscores.shape == (4,)
    np.testing.assert_allclose(dscores, [0.25, 0.25, -0.75, 0.25])
    loss, dscores = softmax_loss(np.array([1000.0, 0.0]), 1)  # p = (1, e^-1000): all the loss on label 1
    assert loss == pytest.approx(1000.0) and np.array_equal(dscores, [1.0, -1.0])
    scores = np.random.default_rng(6).standard_normal(5)
    for y in (3, np.int64(3), np.array([3])):
        loss, dscores = softmax_loss(scores, y)
        batch_loss, batch_dscores = softmax_loss(scores[None], np.array([3]))
        assert loss == batch_loss and np.array_equal(dscores, batch_dscores[0])
    numeric = numerical_gradient(lambda: np.array(softmax_loss(scores, 3)[0]), scores, 1.0)
    assert rel_error(dscores, numeric) < TOL


@pytest.mark.parametrize("mode", ["max", "avg"])
def test_net_backward_matches_numerical_gradients_of_the_loss(mode):
    """INPUT 6x6x2 -> CONV 3 filters 3x3 P=1 -> RELU -> POOL 2x2 -> FC 4, softmax loss, a batch of 3."""
    rng = np.random.default_rng(2)
    layers = [ConvLayer(K=3, F=3, S=1, P=1), ReLULayer(), PoolLayer(mode=mode), FCLayer(K=4)]
    net = Net((6, 6, 2), layers, seed=3).init()
    X, y = rng.standard_normal((3, 6, 6, 2)), np.array([0, 3, 1])

    def loss():
        return np.array(softmax_loss(net(X), y)[0])

    _, dscores = softmax_loss(net.forward(X), y)
    dX = net.backward(dscores)
    errors = [rel_error(g, numerical_gradient(loss, p, 1.0)) for p, g in zip(net.params(), net.grads())]
    errors.append(rel_error(dX, numerical_gradient(loss, X, 1.0)))
    assert len(errors) == 5 and max(errors) < TOL


def test_float32_stays_float32():
    """Training in float32 halves the memory: no backward pass silently promotes to float64."""
    rng = np.random.default_rng(5)
    X, W = rng.standard_normal((2, 5, 5, 3)).astype(np.float32), rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    dX, dW, db = conv2d_backward(np.ones((2, 3, 3, 4), np.float32), X, W)
    assert dX.dtype == dW.dtype == db.dtype == np.float32
    assert max_pool_backward(np.ones((2, 2, 2, 3), np.float32), X[:, :4, :4]).dtype == np.float32
    assert relu_backward(np.ones_like(X), X).dtype == np.float32
    dX, dW, db = fc_backward(np.ones((2, 4), np.float32), X, rng.standard_normal((4, 75)).astype(np.float32))
    assert dX.dtype == dW.dtype == db.dtype == np.float32


def test_sgd_steps_lower_the_loss():
    rng = np.random.default_rng(4)
    net = Net((4, 4, 1), [ConvLayer(K=2, F=3, P=1), ReLULayer(), PoolLayer(), FCLayer(K=3)], seed=0)
    X, y = rng.standard_normal((8, 4, 4, 1)), rng.integers(0, 3, 8)
    losses = []
    for _ in range(20):
        loss, dscores = softmax_loss(net.forward(X), y)
        net.backward(dscores)
        net.sgd_step(lr=0.1)
        losses.append(loss)
    assert losses[-1] < 0.5 * losses[0]


# Bad input: a clear error that names the problem.


def test_conv2d_backward_rejects_dV_of_the_wrong_shape():
    X, W = np.zeros((5, 5, 3)), np.zeros((2, 3, 3, 3))
    with pytest.raises(ValueError, match=r"dV must have the shape of the layer's output \(3, 3, 2\).*got \(5, 5, 2\)"):
        conv2d_backward(np.zeros((5, 5, 2)), X, W, S=1, P=0)
    with pytest.raises(ValueError, match=r"dV must be a batch of volumes \(N, H, W, D\)"):
        conv2d_backward(np.zeros((3, 3, 2)), X[None], W)
    with pytest.raises(TypeError, match="dV must hold real numbers"):
        conv2d_backward(np.full((3, 3, 2), "a"), X, W)
    with pytest.raises(ValueError, match="depth mismatch"):
        conv2d_backward(np.zeros((3, 3, 2)), X, np.zeros((2, 3, 3, 1)))
    with pytest.raises(ValueError, match=r"\(H1 - F \+ 2P\)/S \+ 1 = \(5 - 3 \+ 0\)/3 \+ 1 = 1.66667 is not"):
        conv2d_backward(np.zeros((1, 1, 2)), X, W, S=3)


def test_col2im_rejects_columns_that_do_not_fit():
    with pytest.raises(ValueError, match=r"X_col must have shape \(FH\*FW\*D, N\*H2\*W2\) = \(4, 4\).*got \(4, 5\)"):
        col2im(np.zeros((4, 5)), (3, 3, 1), F=2)
    with pytest.raises(ValueError, match=r"input_shape must be a volume \(H, W, D\)"):
        col2im(np.zeros((4, 4)), (3, 3), F=2)
    with pytest.raises(TypeError, match="S must be an integer"):
        col2im(np.zeros((4, 4)), (3, 3, 1), F=2, S=1.0)


def test_relu_backward_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match=r"dV must have the shape of X \(3,\).*got \(4,\)"):
        relu_backward(np.zeros(4), np.zeros(3))
    with pytest.raises(TypeError, match="X must hold real numbers"):
        relu_backward(np.zeros(2), np.array([True, False]))


def test_max_pool_backward_rejects_bad_input():
    with pytest.raises(ValueError, match=r"dV must have the shape of the pooled output \(2, 2, 1\).*got \(4, 4, 1\)"):
        max_pool_backward(np.zeros((4, 4, 1)), np.zeros((4, 4, 1)))
    with pytest.raises(ValueError, match=r"\(H1 - F \+ 2P\)/S \+ 1 = \(5 - 2 \+ 0\)/2 \+ 1 = 2.5 is not"):
        max_pool_backward(np.zeros((2, 2, 1)), np.zeros((5, 5, 1)))
    with pytest.raises(ValueError, match="S must be at least 1"):
        max_pool_backward(np.zeros((2, 2, 1)), np.zeros((4, 4, 1)), S=0)


def test_fc_backward_rejects_bad_input():
    with pytest.raises(ValueError, match=r"dV must have the shape of the FC output \(3, 2\).*got \(3, 4\)"):
        fc_backward(np.zeros((3, 4)), np.zeros((3, 5)), np.zeros((2, 5)))
    with pytest.raises(ValueError, match=r"W \(2, 5\) expects 5 inputs per example, but X has 2x2x1 = 4"):
        fc_backward(np.zeros(2), np.zeros((2, 2, 1)), np.zeros((2, 5)))


def test_softmax_loss_rejects_bad_labels():
    with pytest.raises(ValueError, match=r"labels y must lie in 0..K-1 = 0..2 for K = 3 classes, got values 0..3"):
        softmax_loss(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(TypeError, match="y must hold integer class labels"):
        softmax_loss(np.zeros((2, 3)), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"y must hold one label per example, shape \(2,\), got shape \(3,\)"):
        softmax_loss(np.zeros((2, 3)), np.array([0, 1, 2]))


def test_backward_before_forward_says_what_to_do():
    layer = ConvLayer(K=1, F=1)
    with pytest.raises(RuntimeError, match=r"needs the input of a forward\(\) first"):
        layer.backward(np.zeros((1, 1, 1)))
    net = Net((2, 2, 1), [FCLayer(K=2)]).init()
    with pytest.raises(RuntimeError, match="no gradients yet"):
        net.sgd_step(0.1)


@settings(max_examples=150, deadline=None)
@given(F=st.tuples(st.integers(1, 4), st.integers(1, 4)), S=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       P=st.tuples(st.integers(0, 2), st.integers(0, 2)), dilation=st.tuples(st.integers(1, 2), st.integers(1, 2)),
       size=st.tuples(st.integers(1, 9), st.integers(1, 9)), N=st.sampled_from([None, 1, 3]),
       dtype=st.sampled_from([np.float64, np.float32, np.int16]), levels=st.sampled_from([3, 1000]),
       nan=st.booleans(), low=st.booleans(), seed=st.integers(0, 999))
def test_the_layers_max_pool_backward_is_the_readable_one(F, S, P, dilation, size, N, dtype, levels, nan, low, seed):
    """max_pool_backward_fast, which POOL layers train with, gives max_pool_backward's numbers: ties (three
    levels: many), NaN windows (their dV to the first tap), padding that never takes a gradient even where it
    ties with X (X's lowest value: -inf, or an integer type's smallest), integer X."""
    assume(all(p <= f // 2 for p, f in zip(P, F)))  # the pooling contract: padding at most F/2
    assume(all(d * (f - 1) + 1 <= n + 2 * p for d, f, n, p in zip(dilation, F, size, P)))
    rng = np.random.default_rng(seed)
    X = rng.integers(0, levels, (N or 1, *size, 2)).astype(dtype)
    if nan and dtype != np.int16:
        X[rng.random(X.shape) < 0.1] = np.nan
    if low:  # what the padding holds
        X[rng.random(X.shape) < 0.5] = -np.inf if dtype != np.int16 else np.iinfo(np.int16).min
    X = X if N else X[0]
    try:
        V = max_pool(X, F, S, P, dilation, exact=False)
    except ValueError:  # an integer window of padding only: refused by both, as the fuzz tests check
        return
    dV = rng.standard_normal(V.shape)
    got = max_pool_backward_fast(dV, X, F, S, P, dilation, exact=False)
    want = max_pool_backward(dV, X, F, S, P, dilation, exact=False)
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


def test_pool_layers_train_with_the_tuned_backward(monkeypatch):
    import cnnref.layers as layers_module

    calls = []
    monkeypatch.setattr(layers_module, "max_pool_backward_fast", lambda *a, **k: calls.append(1) or max_pool_backward(*a, **k))
    layer = PoolLayer(F=3, S=2, P=1)
    X = np.random.default_rng(0).standard_normal((2, 9, 9, 3))
    layer.forward(X)
    layer.backward(np.ones((2, *layer.output_shape(X.shape[1:]))))
    assert calls == [1]


@settings(max_examples=100, deadline=None)
@given(F=st.tuples(st.integers(1, 4), st.integers(1, 4)), S=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       P=st.tuples(st.integers(0, 2), st.integers(0, 2)), dilation=st.tuples(st.integers(1, 2), st.integers(1, 2)),
       size=st.tuples(st.integers(1, 9), st.integers(1, 9)), N=st.sampled_from([None, 1, 2]),
       depths=st.tuples(st.integers(1, 5), st.integers(1, 5)), groups=st.sampled_from([1, 1, 2]), seed=st.integers(0, 999))
def test_the_layers_conv_backward_is_the_readable_one(F, S, P, dilation, size, N, depths, groups, seed):
    """conv2d_backward_fast, which CONV layers train with: the readable version's dX, dW and db up to rounding,
    over the floor rule's uncovered rows (the transposed convolution's output padding), dilation, stride and
    groups (the readable version itself)."""
    rng = np.random.default_rng(seed)
    D1, K = depths[0] * groups, depths[1] * groups
    X = rng.standard_normal((N or 1, *size, D1))[slice(None) if N else 0]
    W = rng.standard_normal((K, *F, D1 // groups))
    try:
        V = conv2d(X, W, None, S, P, dilation, groups, exact=False)
    except ValueError:  # no window fits
        return
    dV = rng.standard_normal(V.shape)
    got = conv2d_backward_fast(dV, X, W, S, P, dilation, groups, exact=False)
    want = conv2d_backward(dV, X, W, S, P, dilation, groups, exact=False)
    for g, w in zip(got, want):
        assert g.shape == w.shape and g.dtype == w.dtype
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)


def test_conv_layers_train_with_the_tuned_backward(monkeypatch):
    import cnnref.layers as layers_module

    calls = []
    monkeypatch.setattr(layers_module, "conv2d_backward_fast", lambda *a: calls.append(1) or conv2d_backward(*a))
    layer = ConvLayer(K=2, F=3, S=1, P=1).init((5, 5, 3), np.random.default_rng(0))
    X = np.random.default_rng(1).standard_normal((2, 5, 5, 3))
    layer.forward(X)
    layer.backward(np.ones((2, 5, 5, 2)))
    assert calls == [1]
