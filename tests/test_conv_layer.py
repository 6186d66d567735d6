"""The CONV layer: output sizes, parameter counts, padding, and conv2d_naive against scipy."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.signal import correlate

from cnnref import ConvLayer, conv2d_naive, conv_output_shape, conv_params, output_size, zero_pad


@pytest.mark.parametrize(
    "W1, F, S, P, W2",
    [
        (7, 3, 1, 0, 5),  # cs231n: 7x7 input, 3x3 filter, stride 1
        (7, 3, 2, 0, 3),  # stride 2
        (5, 3, 2, 1, 3),  # the notes' demo: (5 - 3 + 2)/2 + 1
        (227, 11, 4, 0, 55),  # AlexNet conv1
        (32, 3, 1, 1, 32),  # F = 3, S = 1, P = 1 keeps the size
        (7, 7, 1, 0, 1),  # FC as CONV: one position fits
        (12, 7, 1, 0, 6),  # the converted AlexNet on 384x384
    ],
)
def test_output_size_worked_numbers(W1, F, S, P, W2):
    assert output_size(W1, F, S, P) == W2


@pytest.mark.parametrize(
    "args, message",
    [
        ((10, 3, 2, 0), r"\(W1 - F \+ 2P\)/S \+ 1 = \(10 - 3 \+ 0\)/2 \+ 1 = 4.5 is not a whole number"),
        ((6, 3, 2, 0), r"\(6 - 3 \+ 0\)/2 \+ 1 = 2.5 is not a whole number"),
        ((5, 7, 1, 0), r"filter F = 7 is larger than the padded input W1 \+ 2P = 5 \+ 0 = 5"),
        ((5, 3, 0, 0), r"S must be at least 1, got S = 0"),
        ((5, 3, 1, -1), r"P must be non-negative, got P = -1"),
        ((5, 0, 1, 0), r"F must be at least 1, got F = 0"),
        ((0, 1, 1, 0), r"W1 must be at least 1, got W1 = 0"),
    ],
)
def test_output_size_refuses_with_the_formula(args, message):
    with pytest.raises(ValueError, match=message):
        output_size(*args)


@pytest.mark.parametrize("bad", [2.0, "3", True, None])
def test_output_size_wants_integers(bad):
    with pytest.raises(TypeError, match="must be an integer"):
        output_size(5, 3, S=bad)


@settings(max_examples=200)
@given(st.integers(1, 60), st.integers(1, 12), st.integers(1, 5), st.integers(0, 4))
def test_output_size_counts_the_window_positions(W1, F, S, P):
    positions = [i for i in range(0, W1 + 2 * P - F + 1) if i % S == 0]  # left edges that fit
    tiles = F <= W1 + 2 * P and (W1 + 2 * P - F) % S == 0
    if tiles:
        assert output_size(W1, F, S, P) == len(positions)
    else:
        with pytest.raises(ValueError):
            output_size(W1, F, S, P)


def test_conv_output_shape_and_parameter_counts():
    assert conv_output_shape((32, 32, 3), K=12, F=3, S=1, P=1) == (32, 32, 12)
    assert conv_output_shape((5, 5, 3), K=2, F=3, S=2, P=1) == (3, 3, 2)  # the notes' demo
    assert conv_output_shape((227, 227, 3), K=96, F=11, S=4) == (55, 55, 96)
    weights, biases = conv_params(F=11, D1=3, K=96)
    assert (weights, biases, weights + biases) == (34_848, 96, 34_944)
    assert conv_params(F=3, D1=3, K=12) == (324, 12)
    with pytest.raises(ValueError, match=r"\(H1 - F \+ 2P\)/S \+ 1 = \(32 - 3 \+ 0\)/2"):
        conv_output_shape((32, 33, 3), K=1, F=3, S=2)
    with pytest.raises(ValueError, match="input_shape must be"):
        conv_output_shape((32, 32), K=1, F=3)


def test_zero_pad_is_p_zeros_on_each_side():
    X = np.arange(1.0, 13.0).reshape(2, 3, 2)
    Xp = zero_pad(X, 2)
    assert Xp.shape == (6, 7, 2)
    np.testing.assert_array_equal(Xp[2:4, 2:5], X)
    assert Xp.sum() == X.sum()
    assert zero_pad(X[None], 1).shape == (1, 4, 5, 2)  # batch axis untouched
    np.testing.assert_array_equal(zero_pad(X, 0), X)


def scipy_conv(X, W, b, S, P):
    """Independent oracle: scipy.signal.correlate (no flip) over the padded volume, then subsample."""
    Xp = np.pad(X, ((P, P), (P, P), (0, 0)))
    maps = [correlate(Xp, w, mode="valid")[:, :, 0] for w in W]  # (H1 + 2P - F + 1, ...) each
    return np.stack(maps, axis=-1)[::S, ::S] + b


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 4), st.integers(1, 3), st.integers(1, 3), st.integers(0, 2), st.integers(1, 3),
    st.integers(0, 4), st.integers(0, 4), st.integers(0, 10**6),
)
def test_conv2d_naive_equals_scipy_correlate(F, S, D, P, K, extra_h, extra_w, seed):
    H1, W1 = F + S * extra_h - 2 * P, F + S * extra_w - 2 * P  # sizes that tile
    assume(H1 >= 1 and W1 >= 1)  # (a return here checked nothing in about a quarter of the cases)
    rng = np.random.default_rng(seed)
    X, W, b = rng.normal(size=(H1, W1, D)), rng.normal(size=(K, F, F, D)), rng.normal(size=K)
    np.testing.assert_allclose(conv2d_naive(X, W, b, S, P), scipy_conv(X, W, b, S, P), rtol=1e-10, atol=1e-10)


def test_conv2d_naive_is_cross_correlation_not_convolution():
    X = np.zeros((3, 3, 1))
    X[0, 0, 0] = 1.0  # an impulse in the top-left corner
    W = np.arange(9.0).reshape(1, 3, 3, 1)
    out = conv2d_naive(X, W, P=2)[:, :, 0]  # 5x5: the impulse response
    np.testing.assert_array_equal(out[:3, :3], W[0, ::-1, ::-1, 0])  # flipped copy: no flip in the layer
    assert out[2, 2] == W[0, 0, 0, 0]


def test_conv2d_naive_demo_setting_by_hand():
    rng = np.random.default_rng(5)
    X = rng.integers(0, 3, size=(5, 5, 3)).astype(float)
    W = rng.integers(-1, 2, size=(2, 3, 3, 3)).astype(float)
    b = np.array([1.0, 0.0])
    V = conv2d_naive(X, W, b, S=2, P=1)
    assert V.shape == (3, 3, 2)
    Xp = zero_pad(X, 1)
    for i in range(3):
        for j in range(3):
            for k in range(2):
                expected = sum(
                    Xp[i * 2 + a, j * 2 + c, d] * W[k, a, c, d] for a in range(3) for c in range(3) for d in range(3)
                ) + b[k]
                assert V[i, j, k] == expected


def test_batch_axis_equals_one_volume_at_a_time():
    rng = np.random.default_rng(0)
    X, W, b = rng.normal(size=(3, 6, 6, 2)), rng.normal(size=(4, 3, 3, 2)), rng.normal(size=4)
    V = conv2d_naive(X, W, b, S=1, P=1)
    assert V.shape == (3, 6, 6, 4)
    for n in range(3):
        np.testing.assert_array_equal(V[n], conv2d_naive(X[n], W, b, S=1, P=1))


def test_conv_layer_class():
    layer = ConvLayer(K=12, F=3, S=1, P=1)
    assert repr(layer) == "<CONV K=12 F=3 S=1 P=1>"
    assert layer.output_shape((32, 32, 3)) == (32, 32, 12)
    assert layer.n_params((32, 32, 3)) == 3 * 3 * 3 * 12 + 12
    layer.init((32, 32, 3), np.random.default_rng(0))
    assert layer.W.shape == (12, 3, 3, 3) and layer.b.shape == (12,)
    X = np.random.default_rng(1).normal(size=(32, 32, 3))
    np.testing.assert_allclose(layer(X), conv2d_naive(X, layer.W, layer.b, 1, 1), atol=1e-12)
    with pytest.raises(ValueError, match="K must be at least 1"):
        ConvLayer(K=0, F=3)
