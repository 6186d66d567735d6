"""Issue 13's contract: every public signature as pinned, and every argument refused by its own name.

Defaults are part of the contract (S=1, P=0, dilation=1, groups=1, exact=True; pooling F=2, S=2): a
page or a caller relying on them must get them. And a bad value names its argument, on each axis of a
pair, for every function that takes it: a message that names another argument sends the reader to
the wrong place.
"""

import inspect

import numpy as np
import pytest

import cnnref
from cnnref import ReLULayer

SIGNATURES = {
    "ConvLayer": "(K, F, S=1, P=0, dilation=1, groups=1, exact=True, bias=True, W=None, b=None)",
    "FCLayer": "(K, W=None, b=None)",
    "Net": "(input_shape, layers, seed=0, dtype=<class 'numpy.float64'>)",
    "PoolLayer": "(F=2, S=2, mode='max', P=0, dilation=1, exact=True)",
    "alexnet_like": "(input_size=224, depths=(64, 128, 256, 512, 512), fc_sizes=(4096, 4096), classes=1000, seed=0)",
    "avg_pool": "(X, F=2, S=2, P=0, exact=True)",
    "avg_pool_backward": "(dV, X, F=2, S=2, P=0, exact=True)",
    "cifar10_net": "(seed=0)",
    "col2im": "(X_col, input_shape, F, S=1, P=0, dilation=1, exact=True)",
    "conv2d": "(X, W, b=None, S=1, P=0, dilation=1, groups=1, exact=True)",
    "conv2d_backward": "(dV, X, W, S=1, P=0, dilation=1, groups=1, exact=True)",
    "conv2d_fast": "(X, W, b=None, S=1, P=0, dilation=1, groups=1, exact=True, out=None)",
    "conv2d_naive": "(X, W, b=None, S=1, P=0, dilation=1, groups=1, exact=True)",
    "conv_output_shape": "(input_shape, K, F, S=1, P=0, dilation=1, groups=1, exact=True)",
    "conv_params": "(F, D1, K, groups=1, bias=True)",
    "conv_transpose2d": "(Y, W, b=None, S=1, P=0, output_padding=0, dilation=1, groups=1)",
    "conv_transpose_output_size": "(H2, F, S=1, P=0, output_padding=0, dilation=1, name='H2')",
    "convolve_continuous": "(f, g, x, lo=-10.0, hi=10.0, n=4000)",
    "crop_scores": "(net, image, stride)",
    "dice_pmf": "(faces=6, exact=False)",
    "fc_to_conv": "(W, input_shape)",
    "im2col": "(X, F, S=1, P=0, dilation=1, exact=True)",
    "max_pool": "(X, F=2, S=2, P=0, dilation=1, exact=True)",
    "max_pool_backward": "(dV, X, F=2, S=2, P=0, dilation=1, exact=True)",
    "output_size": "(W1, F, S=1, P=0, dilation=1, exact=True, name='W1')",
    "pool_output_size": "(W1, F=2, S=2, P=0, dilation=1, exact=True, name='W1')",
    "slide": "(conv_net, image, stride=None)",
    "sum_of_dice": "(n, faces=6, exact=False)",
    "window_positions": "(input_size, F, S=1, P=0, dilation=1, exact=True)",
    "zero_pad": "(X, P, value=0)",
}


@pytest.mark.parametrize("name", sorted(SIGNATURES))
def test_signature(name):
    assert str(inspect.signature(getattr(cnnref, name))) == SIGNATURES[name]


def test_the_defaults_are_what_the_functions_do():
    """Called with its defaults, each layer function computes what the contract's values give."""
    rng = np.random.default_rng(0)
    X, W = rng.standard_normal((6, 6, 2)), rng.standard_normal((2, 3, 3, 2))
    for f in (cnnref.conv2d, cnnref.conv2d_naive, cnnref.conv2d_fast):
        np.testing.assert_array_equal(f(X, W), f(X, W, None, 1, 0, 1, 1, True))
    np.testing.assert_array_equal(cnnref.max_pool(X), cnnref.max_pool(X, 2, 2, 0, 1, True))
    np.testing.assert_array_equal(cnnref.avg_pool(X), cnnref.avg_pool(X, 2, 2, 0, True))
    assert cnnref.output_size(7, 3) == cnnref.output_size(7, 3, 1, 0, 1, True) == 5
    assert cnnref.pool_output_size(8) == 4 and cnnref.conv_output_shape((6, 6, 2), 4, 3) == (4, 4, 4)
    assert cnnref.conv_params(3, 2, 4) == (72, 4) and cnnref.conv_transpose_output_size(4, 3) == 6
    assert cnnref.window_positions(5, 3).shape == (3, 3, 3, 3, 2)
    np.testing.assert_array_equal(cnnref.im2col(X, 3), cnnref.im2col(X, 3, 1, 0, 1, True))
    assert len(cnnref.dice_pmf()) == 6 and cnnref.sum_of_dice(2).start == 2
    assert cnnref.PoolLayer().output_shape((8, 8, 1)) == (4, 4, 1)
    assert cnnref.ConvLayer(K=1, F=3).output_shape((5, 5, 1)) == (3, 3, 1)
    Y, W_t = rng.standard_normal((3, 3, 2)), rng.standard_normal((2, 3, 3, 1))
    np.testing.assert_array_equal(cnnref.conv_transpose2d(Y, W_t), cnnref.conv_transpose2d(Y, W_t, None, 1, 0, 0, 1, 1))
    assert all(np.array_equal(a, b) for a, b in zip(cnnref.cifar10_net().init().params(), cnnref.cifar10_net(0).init().params()))
    assert cnnref.Net((2, 2, 1), [cnnref.FCLayer(K=1)]).seed == 0 and cnnref.alexnet_like().seed == 0


X, W, X_col = np.ones((5, 5, 2)), np.ones((2, 3, 3, 2)), np.ones((18, 9))
NET = cnnref.Net((4, 4, 2), [cnnref.ConvLayer(K=2, F=2, S=2), cnnref.FCLayer(K=3)])

# (function, valid keyword arguments, the integer arguments it must refuse by name, those that take a pair)
CALLS = [
    (cnnref.output_size, dict(W1=7, F=3), ["W1", "F", "S", "P", "dilation"], ["S", "P", "dilation"]),
    (cnnref.pool_output_size, dict(W1=8), ["W1", "F", "S", "P", "dilation"], ["F", "S", "P", "dilation"]),
    (cnnref.conv2d, dict(X=X, W=W), ["S", "P", "dilation", "groups"], ["S", "P", "dilation"]),
    (cnnref.conv2d_naive, dict(X=X, W=W), ["S", "P", "dilation", "groups"], ["S", "P", "dilation"]),
    (cnnref.conv2d_fast, dict(X=X, W=W), ["S", "P", "dilation", "groups"], ["S", "P", "dilation"]),
    (cnnref.conv2d_backward, dict(dV=np.ones((3, 3, 2)), X=X, W=W), ["S", "P", "dilation", "groups"], ["S", "P", "dilation"]),
    (cnnref.im2col, dict(X=X, F=3), ["F", "S", "P", "dilation"], ["F", "S", "P", "dilation"]),
    (cnnref.col2im, dict(X_col=X_col, input_shape=(5, 5, 2), F=3), ["F", "S", "P", "dilation"], ["F", "S", "P", "dilation"]),
    (cnnref.conv_transpose2d, dict(Y=np.ones((3, 3, 2)), W=W), ["S", "P", "output_padding", "dilation", "groups"],
     ["S", "P", "output_padding", "dilation"]),
    (cnnref.max_pool, dict(X=X), ["F", "S", "P", "dilation"], ["F", "S", "P", "dilation"]),
    (cnnref.avg_pool, dict(X=X), ["F", "S", "P"], ["F", "S", "P"]),
    (cnnref.max_pool_backward, dict(dV=np.ones((2, 2, 2)), X=X[:4, :4]), ["F", "S", "P", "dilation"], ["F", "S", "P"]),
    (cnnref.avg_pool_backward, dict(dV=np.ones((2, 2, 2)), X=X[:4, :4]), ["F", "S", "P"], ["F", "S", "P"]),
    (cnnref.conv_output_shape, dict(input_shape=(5, 5, 2), K=2, F=3), ["K", "F", "S", "P", "dilation", "groups"],
     ["F", "S", "P", "dilation"]),
    (cnnref.conv_params, dict(F=3, D1=2, K=2), ["F", "D1", "K", "groups"], ["F"]),
    (cnnref.conv_transpose_output_size, dict(H2=3, F=3), ["H2", "F", "S", "P", "output_padding", "dilation"],
     ["F", "S", "P", "output_padding", "dilation"]),
    (cnnref.window_positions, dict(input_size=5, F=3), ["input_size", "F", "S", "P", "dilation"],
     ["input_size", "F", "S", "P", "dilation"]),
    (cnnref.zero_pad, dict(X=X, P=1), ["P"], ["P"]),
    (cnnref.ConvLayer, dict(K=2, F=3), ["K", "F", "S", "P", "dilation", "groups"], ["F", "S", "P", "dilation"]),
    (cnnref.PoolLayer, dict(), ["F", "S", "P", "dilation"], ["F", "S", "P", "dilation"]),
    (cnnref.FCLayer, dict(K=2), ["K"], []),
    (cnnref.Net, dict(input_shape=(4, 4, 2), layers=[ReLULayer()]), ["seed"], []),
    (cnnref.crop_scores, dict(net=NET, image=np.ones((6, 6, 2)), stride=2), ["stride"], ["stride"]),
    (cnnref.slide, dict(conv_net=NET.to_conv(), image=np.ones((6, 6, 2))), ["stride"], ["stride"]),
    (cnnref.alexnet_like, dict(), ["input_size"], []),
    (cnnref.cifar10_net, dict(), ["seed"], []),
    (cnnref.convolve_continuous, dict(f=np.exp, g=np.exp, x=0.0), ["n"], []),
    (cnnref.dice_pmf, dict(), ["faces"], []),
    (cnnref.sum_of_dice, dict(n=2), ["n", "faces"], []),
]


def _cases():
    for f, kwargs, names, pairs in CALLS:
        for name in names:
            yield pytest.param(f, kwargs, name, "x", rf"^{name} must be an integer", id=f"{f.__name__}-{name}")
        for name in pairs:
            for axis in (0, 1):
                bad = ("x", 1) if axis == 0 else (1, "x")
                yield pytest.param(f, kwargs, name, bad, rf"^{name}\[{axis}\] must be an integer", id=f"{f.__name__}-{name}[{axis}]")


@pytest.mark.parametrize("f, kwargs, name, bad, message", list(_cases()))
def test_a_bad_value_is_refused_by_the_arguments_own_name(f, kwargs, name, bad, message):
    with pytest.raises(TypeError, match=message):
        f(**{**kwargs, name: bad})


MINIMUM_ZERO = {"P", "output_padding", "seed"}


def _below_minimum():
    for f, kwargs, names, pairs in CALLS:
        for name in names:
            low, rule = (-1, "non-negative") if name in MINIMUM_ZERO else (0, "at least 1")
            yield pytest.param(f, kwargs, name, low, rf"^{name} must be {rule}, got {name} = {low}$", id=f"{f.__name__}-{name}")
        for name in pairs:
            low, rule = (-1, "non-negative") if name in MINIMUM_ZERO else (0, "at least 1")
            yield pytest.param(f, kwargs, name, (1, low), rf"^{name}\[1\] must be {rule}, got {name}\[1\] = {low}$",
                               id=f"{f.__name__}-{name}[1]")


@pytest.mark.parametrize("f, kwargs, name, low, message", list(_below_minimum()))
def test_a_value_below_the_minimum_is_refused_by_the_arguments_own_name(f, kwargs, name, low, message):
    with pytest.raises(ValueError, match=message):
        f(**{**kwargs, name: low})


def test_exact_is_the_default_and_dice_are_floats_by_default():
    """exact=True: a stride that does not tile is refused unless the floor is asked for; dice are floats."""
    X = np.ones((6, 6, 1))
    refusals = [
        lambda: cnnref.output_size(6, 3, S=2), lambda: cnnref.pool_output_size(5), lambda: cnnref.conv2d(X, np.ones((1, 3, 3, 1)), S=2),
        lambda: cnnref.conv2d_fast(X, np.ones((1, 3, 3, 1)), S=2), lambda: cnnref.conv2d_naive(X, np.ones((1, 3, 3, 1)), S=2),
        lambda: cnnref.im2col(X, 3, S=2), lambda: cnnref.col2im(np.ones((9, 4)), (6, 6, 1), 3, S=2),
        lambda: cnnref.window_positions(6, 3, S=2), lambda: cnnref.max_pool(X[:5, :5]), lambda: cnnref.avg_pool(X[:5, :5]),
        lambda: cnnref.conv_output_shape((6, 6, 1), 1, 3, S=2), lambda: cnnref.ConvLayer(K=1, F=3, S=2).output_shape((6, 6, 1)),
        lambda: cnnref.PoolLayer().output_shape((5, 5, 1)),
        lambda: cnnref.conv2d_backward(np.ones((2, 2, 1)), X, np.ones((1, 3, 3, 1)), S=2),
        lambda: cnnref.max_pool_backward(np.ones((2, 2, 1)), X[:5, :5]), lambda: cnnref.avg_pool_backward(np.ones((2, 2, 1)), X[:5, :5]),
    ]
    for refuse in refusals:
        with pytest.raises(ValueError, match=r"is not a whole number: stride S = 2 does not tile the padded input"):
            refuse()
    assert cnnref.dice_pmf().p.dtype == np.float64 and cnnref.sum_of_dice(2).p.dtype == np.float64
    assert cnnref.dice_pmf(exact=True).p.dtype == object
