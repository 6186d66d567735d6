"""Bad input, as properties: whatever the wrong value, a clear TypeError or ValueError naming the argument.

The example tests of each module show one refusal each, with its message; these draw the wrong
values (floats, strings, bools, None, complex numbers, pairs of the wrong length, values below the
minimum; arrays of the wrong kind, rank, shape or size) and hold for all of them.
"""

import itertools
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

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
    conv2d_fast,
    conv2d_naive,
    conv_output_shape,
    conv_params,
    conv_transpose2d,
    conv_transpose_output_size,
    convolve,
    convolve_continuous,
    convolve_pmf,
    crop_scores,
    dice_pmf,
    fc,
    fc_backward,
    fc_to_conv,
    impulse_responses,
    im2col,
    max_pool,
    max_pool_backward,
    output_size,
    pool_output_size,
    relu,
    relu_backward,
    slide,
    softmax_loss,
    sum_of_dice,
    volume,
)
from cnnref import checks
from cnnref import fast_conv

X3, W3 = np.ones((5, 5, 2)), np.ones((2, 3, 3, 2))

# (argument name, call with the bad value, smallest valid integer: None where the argument takes no pair)
HYPERPARAMETERS = [
    ("W1", lambda v: output_size(v, 3), 1),
    ("F", lambda v: output_size(7, v), 1),
    ("S", lambda v: output_size(7, 3, S=v), 1),
    ("P", lambda v: output_size(7, 3, P=v), 0),
    ("dilation", lambda v: output_size(7, 3, dilation=v), 1),
    ("S", lambda v: conv2d(X3, W3, S=v), 1),
    ("P", lambda v: conv2d_fast(X3, W3, P=v), 0),
    ("dilation", lambda v: im2col(X3, 3, dilation=v), 1),
    ("F", lambda v: max_pool(X3, F=v), 1),
    ("K", lambda v: conv_output_shape((5, 5, 2), K=v, F=3), 1),
    ("groups", lambda v: conv_params(F=3, D1=2, K=2, groups=v), 1),
    ("output_padding", lambda v: conv_transpose_output_size(3, 3, S=2, output_padding=v), 0),
    ("K", lambda v: ConvLayer(K=v, F=3), 1),
    ("S", lambda v: PoolLayer(S=v), 1),
    ("K", lambda v: FCLayer(K=v), 1),
    ("seed", lambda v: Net((4, 4, 1), [ReLULayer()], seed=v), 0),
    ("input_shape[0]", lambda v: Net((v, 4, 1), [ReLULayer()]), 1),
    ("n", lambda v: convolve_continuous(np.exp, np.exp, 0.0, n=v), 1),
    ("faces", lambda v: dice_pmf(faces=v), 1),
    ("n", lambda v: sum_of_dice(v), 1),
]


def not_an_integer():
    return st.one_of(
        st.booleans(), st.floats(allow_nan=True), st.text(max_size=2), st.none(), st.complex_numbers(max_magnitude=9),
        st.sampled_from([np.float64(2.0), np.bool_(True), 2.5, "3", b"3"]),
    )


@pytest.mark.parametrize("name, call, minimum", HYPERPARAMETERS, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(HYPERPARAMETERS)])
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_a_bad_hyperparameter_is_refused_with_its_name(name, call, minimum, data):
    bad = data.draw(st.one_of(not_an_integer(), st.integers(max_value=minimum - 1), st.lists(st.integers(1, 3), min_size=3, max_size=4).map(tuple)))
    error = ValueError if isinstance(bad, int) and not isinstance(bad, bool) else (TypeError, ValueError)
    with pytest.raises(error, match=rf"^(\(\w+, )?{re.escape(name)}\)?(\[[01]\])? must be"):  # (H1, W1): a pair's name
        call(bad)


def not_a_volume(ranks=(3, 4)):
    """Values that are not a non-empty array of real numbers of one of the ranks."""
    return st.one_of(
        st.none(), st.text(max_size=3), st.just(b"abc"),
        st.lists(st.booleans(), min_size=1, max_size=4).map(np.array),
        st.lists(st.complex_numbers(max_magnitude=9), min_size=1, max_size=4).map(np.array),
        st.lists(st.text(min_size=1, max_size=2), min_size=1, max_size=4).map(np.array),
        st.just([[1.0, 2.0], [3.0]]),  # ragged
        st.tuples(st.integers(0, 2), st.integers(0, 2), st.integers(0, 2)).filter(lambda s: 0 in s).map(np.zeros),  # empty
        st.integers(0, 6).filter(lambda n: n not in ranks).map(lambda n: np.ones((2,) * n)),  # wrong rank
    )


ARRAYS = [  # (name, call, the ranks it takes)
    ("X", lambda v: conv2d(v, W3), (3, 4)),
    ("X", lambda v: max_pool(v), (3, 4)),
    ("X", lambda v: im2col(v, 3), (3, 4)),  # a batch (N, H, W, D) is an input too
    ("W", lambda v: conv2d(X3, v), (4,)),
    ("b", lambda v: conv2d(X3, W3, b=v), (1,)),
    ("dV", lambda v: conv2d_backward(v, X3, W3), (3,)),
    ("dV", lambda v: max_pool_backward(v, np.ones((4, 4, 1))), (3,)),
    ("dV", lambda v: avg_pool_backward(v, np.ones((4, 4, 1))), (3,)),
    ("dV", lambda v: fc_backward(v, np.ones(4), np.ones((2, 4))), (1,)),
    ("dV", lambda v: relu_backward(v, np.ones(4)), (1, 2, 3, 4)),
    ("Y", lambda v: conv_transpose2d(v, W3), (3, 4)),
    ("W", lambda v: conv_transpose2d(np.ones((3, 3, 2)), v), (4,)),
    ("b", lambda v: conv_transpose2d(np.ones((3, 3, 2)), W3, v), (1,)),
    ("X_col", lambda v: col2im(v, (5, 5, 2), 3), (2,)),
    ("scores", lambda v: softmax_loss(v, 0), (1, 2)),
]


@pytest.mark.parametrize("name, call, ranks", ARRAYS, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(ARRAYS)])
@settings(max_examples=12, deadline=None)
@given(data=st.data())
def test_a_bad_array_is_refused_with_its_name(name, call, ranks, data):
    bad = data.draw(not_a_volume(ranks).filter(lambda v: not (name == "b" and v is None)))  # b=None: no biases
    with pytest.raises((TypeError, ValueError), match=rf"^{re.escape(name)} (must|is empty)"):
        call(bad)


def other_shape(shape):
    """A shape of the same rank as shape, but another shape."""
    return st.tuples(*[st.integers(1, n + 2) for n in shape]).filter(lambda s: s != tuple(shape))


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_a_gradient_of_the_wrong_shape_is_refused(data):
    """Each backward pass needs dV of its forward's output shape: any other is a ValueError naming dV."""
    X = np.ones((2, 6, 6, 2))
    forward, backward = data.draw(st.sampled_from([
        (lambda: conv2d(X, W3, P=1), lambda dV: conv2d_backward(dV, X, W3, P=1)),
        (lambda: max_pool(X), lambda dV: max_pool_backward(dV, X)),
        (lambda: max_pool(X), lambda dV: avg_pool_backward(dV, X)),
        (lambda: relu(X), lambda dV: relu_backward(dV, X)),
        (lambda: fc(X, np.ones((3, 72)), np.zeros(3)), lambda dV: fc_backward(dV, X, np.ones((3, 72)))),
    ]))
    dV = np.ones(data.draw(other_shape(forward().shape)))
    with pytest.raises(ValueError, match="dV must have the shape"):
        backward(dV)


@settings(max_examples=40, deadline=None)
@given(H=st.integers(1, 5), W1=st.integers(1, 5), D=st.integers(1, 4), wrong=st.integers(1, 100))
def test_weights_that_do_not_fit_the_input_are_refused(H, W1, D, wrong):
    """FC weights for another number of inputs, or filters of another depth: a ValueError with both sizes."""
    n = H * W1 * D
    if wrong != n:
        with pytest.raises(ValueError, match=rf"expects {wrong} inputs"):
            fc(np.ones((H, W1, D)), np.ones((2, wrong)), np.zeros(2))
        with pytest.raises(ValueError, match=rf"expects {wrong} inputs, but {H}x{W1}x{D} = {n}"):
            fc_to_conv(np.ones((2, wrong)), (H, W1, D))
    if wrong != D and wrong <= 6:
        with pytest.raises(ValueError, match=rf"depth mismatch: the input has depth D1 = {D}"):
            conv2d(np.ones((H, W1, D)), np.ones((1, 1, 1, wrong)))
    if D % wrong:  # groups must divide the depth
        with pytest.raises(ValueError, match=rf"groups = {wrong} must divide the input depth D1 = {D}"):
            conv_output_shape((H, W1, D), K=wrong, F=1, groups=wrong)


@settings(max_examples=30, deadline=None)
@given(F=st.integers(1, 6), P=st.integers(0, 6))
def test_pooling_pads_at_most_half_a_window(F, P):
    if P <= F // 2:
        assert pool_output_size(2 * F, F, S=1, P=P) == 2 * F + 2 * P - F + 1
    else:
        with pytest.raises(ValueError, match=rf"pooling pads at most half a window: P = {P} > F // 2 = {F // 2}"):
            pool_output_size(10, F, S=1, P=P)


@settings(max_examples=40, deadline=None)
# int(t.strip()), not int(t): str.strip() takes "\x1f" for whitespace and int() does not ("0\x1f" failed CI's filter).
@given(value=st.one_of(st.text(max_size=3).filter(lambda t: not (t.strip().isascii() and t.strip().isdigit() and int(t.strip()) >= 1)),
                       st.integers(-5, 0).map(str)))
@example("0\x1f")
def test_a_bad_cnnref_threads_is_refused_with_its_name(value):
    if not value.strip():
        assert fast_conv._threads({"CNNREF_THREADS": value}) >= 1  # unset or blank: the default
    else:
        with pytest.raises(ValueError, match="CNNREF_THREADS must be a whole number >= 1"):
            fast_conv._threads({"CNNREF_THREADS": value})


@settings(max_examples=20, deadline=None)
@given(H=st.integers(10**5, 10**6), D=st.integers(1, 4))
def test_an_allocation_beyond_the_machines_memory_is_refused_before_it_is_made(H, D):
    """A broadcast view takes no memory, but its X_col would: MemoryError naming the array, nothing allocated."""
    X = np.broadcast_to(np.zeros(1), (H, H, D))
    assert H * H * D * 8 * 9 > checks.MEMORY_LIMIT or pytest.skip("a machine with that much memory")
    with pytest.raises(MemoryError, match=r"would need .* GiB, more than this machine's"):
        im2col(X, 3)


@settings(max_examples=20, deadline=None)
@given(layer=st.sampled_from([ConvLayer(K=1, F=1), ReLULayer(), PoolLayer(F=1, S=1), PoolLayer(F=1, S=1, mode="avg"), FCLayer(K=1)]))
def test_backward_before_forward_says_what_to_do(layer):
    layer.X = None
    with pytest.raises(RuntimeError, match=r"needs the input of a forward\(\) first"):
        layer.backward(np.zeros((1, 1, 1)))


@settings(max_examples=40, deadline=None)
@given(dtype=st.sampled_from([np.int8, np.int16, np.int64, np.uint8]), seed=st.integers(0, 2**16))
def test_integer_inputs_compute_in_float64_without_wrapping(dtype, seed):
    """int8 products would wrap: the layers that multiply compute integers in float64; max and ReLU keep them."""
    rng = np.random.default_rng(seed)
    X, W = rng.integers(0, 100, (5, 5, 2)).astype(dtype), rng.integers(0, 100, (2, 3, 3, 2)).astype(dtype)
    W_fc = rng.integers(0, 100, (3, 50)).astype(dtype)
    for f, args in [(conv2d, (X, W)), (conv2d_fast, (X, W)), (avg_pool, (X, 3, 1)), (fc, (X, W_fc, np.zeros(3, dtype)))]:
        V = f(*args)
        assert V.dtype == np.float64
        np.testing.assert_array_equal(V, f(*[a.astype(np.float64) if isinstance(a, np.ndarray) else a for a in args]))
    for f, args in [(max_pool, (X, 3, 1)), (relu, (X,))]:
        V = f(*args)
        assert V.dtype == dtype
        np.testing.assert_array_equal(V, f(*[a.astype(np.float64) if isinstance(a, np.ndarray) else a for a in args]))
    assert convolve(X[:, 0, 0], X[0, :, 0]).dtype == np.int64  # the discrete convolution stays exact


@settings(max_examples=30, deadline=None)
@given(shape=st.one_of(st.tuples(st.integers(1, 50)), st.tuples(st.integers(1, 50), st.integers(1, 50), st.integers(1, 50))))
def test_volume_writes_any_shape_width_first(shape):
    text = volume(shape)
    W, H, D = (int(n) for n in text.split("x"))
    assert (H, W, D) == (shape if len(shape) == 3 else (1, 1, shape[0]))


def _net():
    return Net((4, 4, 2), [ConvLayer(K=2, F=3, P=1), ReLULayer(), PoolLayer(), FCLayer(K=3)]).init()


def _trained(scale=1.0):
    net = _net()
    net.backward(np.full(net.forward(np.ones((4, 4, 2))).shape, scale))
    return net


def _overflowing_step(lr):
    net = _trained(scale=1e300)
    with np.errstate(over="ignore", invalid="ignore"):  # the overflow is the point: sgd_step must refuse it
        net.sgd_step(lr)


# (what the message says, a strategy of wrong values, the call): values of the right kind but wrong for the rest.
MISFITS = [
    (r"^input_shape must be a tuple", st.one_of(st.integers(), st.text(max_size=2), st.none()), lambda v: Net(v, [ReLULayer()])),
    (r"^input_shape must be a volume \(H, W, D\)", st.lists(st.integers(1, 4), max_size=5).filter(lambda s: len(s) != 3).map(tuple),
     lambda v: Net(v, [ReLULayer()])),
    (r"^layers\[0\] must be a cnnref Layer", st.one_of(st.none(), st.integers(), st.just(np.ones(2))), lambda v: Net((2, 2, 1), [v])),
    (r"^b must have one bias per filter, shape \(2,\)", st.integers(1, 6).filter(lambda n: n != 2).map(np.ones),
     lambda v: conv2d(X3, W3, v)),
    (r"^groups = \d+ must divide the input depth D1 = 2", st.integers(3, 7), lambda g: conv2d(X3, np.ones((g, 1, 1, 1)), groups=g)),
    (r"^groups = \d+ must divide the input depth D1 = 2", st.integers(3, 7), lambda g: conv_params(1, 2, g, groups=g)),
    (r"^X_col must have shape \(FH\*FW\*D, N\*H2\*W2\) = \(18, 9\)", other_shape((18, 9)).map(np.ones),
     lambda v: col2im(v, (5, 5, 2), 3)),
    (r"^W \(.*\) must have one filter per depth slice of Y \(K = 2\)", st.integers(1, 5).filter(lambda k: k != 2),
     lambda k: conv_transpose2d(np.ones((3, 3, 2)), np.ones((k, 3, 3, 1)))),
    (r"^W has shape .* but K = 2 filters of F = 3 need", other_shape((2, 3, 3, 2)).filter(lambda s: s[:3] != (2, 3, 3)).map(np.ones),
     lambda v: ConvLayer(K=2, F=3, W=v)),
    (r"^W has shape .* but an FC layer of K = 2 neurons needs", other_shape((3, 4)).filter(lambda s: s[0] != 2).map(np.ones),
     lambda v: FCLayer(K=2, W=v)),
    (r"^CONV K=2 F=1 S=1 P=0: W has shape \(2, 1, 1, \d+\), but an input of shape \(4, 4, 2\) needs", st.integers(3, 5),
     lambda d: Net((4, 4, 2), [ConvLayer(K=2, F=1, W=np.ones((2, 1, 1, d)))])),
    (r"^b was given to a layer built with bias=False", st.integers(1, 3).map(np.ones), lambda v: ConvLayer(K=1, F=1, bias=False, b=v)),
    (r'mode must be "max" or "avg"', st.text(max_size=4).filter(lambda m: m not in ("max", "avg")), lambda m: PoolLayer(mode=m)),
    (r"^dilation applies to max pooling only", st.integers(2, 4), lambda d: PoolLayer(F=3, mode="avg", dilation=d)),
    (r"^this net takes inputs of shape \(4, 4, 2\)", other_shape((4, 4, 2)).map(np.ones), lambda v: _net()(v)),
    (r"^this net takes inputs of depth 2", st.integers(3, 5), lambda d: _net().to_conv()(np.ones((6, 6, d)))),
    (r"^lr must be a real number", st.one_of(st.text(max_size=2), st.none(), st.booleans()), lambda lr: _trained().sgd_step(lr)),
    (r"^lr must be finite", st.sampled_from([np.inf, -np.inf, np.nan]), lambda lr: _trained().sgd_step(lr)),
    (r"^lr must be non-negative", st.floats(-1e9, -1e-9), lambda lr: _trained().sgd_step(lr)),
    (r"^lr = \S+ makes some parameters infinite or NaN; nothing was updated$", st.floats(1e10, 1e300),
     lambda lr: _overflowing_step(lr)),
    (r"^no gradients yet", st.just(0.1), lambda lr: _net().sgd_step(lr)),
    (r"^net must be a cnnref Net", st.one_of(st.none(), st.integers()), lambda v: crop_scores(v, np.ones((8, 8, 2)), 4)),
    (r"^the net takes depth 2, but the image has shape", st.integers(3, 4), lambda d: crop_scores(_net(), np.ones((8, 8, d)), 4)),
    (r"^slide takes the converted net", st.just(None), lambda _: slide(_net(), np.ones((8, 8, 2)))),
    (r"^the stride \d+ must divide the net's total stride 2", st.integers(3, 9).filter(lambda s: s % 2),
     lambda s: slide(_net().to_conv(), np.ones((4 + 2 * s, 4 + 2 * s, 2)), s)),
    (r"^convolve_pmf takes two Pmf objects", st.one_of(st.none(), st.lists(st.floats(0, 1), max_size=3)),
     lambda v: convolve_pmf(v, dice_pmf())),
    (r"^y must hold integer class labels", st.sampled_from([np.array([0.0, 1.0]), np.array([True, False]), np.array(["a", "b"])]),
     lambda y: softmax_loss(np.zeros((2, 3)), y)),
    (r"^y must hold one label per example, shape \(2,\)", st.lists(st.integers(0, 2), max_size=4).filter(lambda y: len(y) != 2).map(np.array),
     lambda y: softmax_loss(np.zeros((2, 3)), np.array(y, dtype=int))),
    (r"^labels y must lie in 0..K-1 = 0..2 for K = 3 classes", st.tuples(st.integers(-5, 7), st.integers(-5, 7)).filter(
        lambda y: min(y) < 0 or max(y) > 2), lambda y: softmax_loss(np.zeros((2, 3)), np.array(y))),
    (r"^\(H2, W2\) must be an int or a pair \(vertical, horizontal\), got 3 values", st.just((3, 3, 3)),
     lambda v: conv_transpose_output_size(v, 3)),
    (r"^S \(H2 - 1\) \+ dilation \(F - 1\) \+ 1 - 2P \+ output_padding = 1 \(1 - 1\) \+ 1 \(1 - 1\) \+ 1 - \d+ \+ 0 = -?\d+: "
     r"the padding P = \d+ crops away the whole output$", st.integers(1, 5), lambda P: conv_transpose_output_size((1, 3), 1, P=(P, 0))),
    (r"^S \(W2 - 1\) \+ dilation \(F - 1\) \+ 1 - 2P \+ output_padding = 1 \(1 - 1\) \+ 1 \(1 - 1\) \+ 1 - \d+ \+ 0 = -?\d+: "
     r"the padding P = \d+ crops away the whole output$", st.integers(1, 5), lambda P: conv_transpose_output_size((3, 1), 1, P=(0, P))),
    (r"^lo must be a real number", st.one_of(st.text(max_size=2), st.none(), st.complex_numbers(max_magnitude=2)),
     lambda lo: convolve_continuous(np.exp, np.exp, 0.0, lo=lo)),
    (r"^hi must be a real number", st.one_of(st.text(max_size=2), st.none(), st.complex_numbers(max_magnitude=2)),
     lambda hi: convolve_continuous(np.exp, np.exp, 0.0, hi=hi)),
    (r"^(lo|hi) must be finite, got (lo|hi) = (inf|-inf|nan)$", st.sampled_from([np.inf, -np.inf, np.nan]),
     lambda v: convolve_continuous(np.exp, np.exp, 0.0, lo=v) if np.isnan(v) or v < 0 else convolve_continuous(np.exp, np.exp, 0.0, hi=v)),
]


@pytest.mark.parametrize("message, values, call", MISFITS, ids=[str(i) for i in range(len(MISFITS))])
@settings(max_examples=8, deadline=None)
@given(data=st.data())
def test_a_value_that_does_not_fit_is_refused_saying_why(message, values, call, data):
    value = data.draw(values)
    with pytest.raises((TypeError, ValueError, RuntimeError), match=message):
        call(value)


@settings(max_examples=10, deadline=None)
@given(n=st.integers(10**12, 10**14))
def test_an_integrand_beyond_the_machines_memory_is_refused_by_name(n):
    with pytest.raises(MemoryError, match=r"^the integrand \(\d+ numbers of float64\) would need .* GiB, more than this machine's"):
        convolve_continuous(np.exp, np.exp, 0.0, n=n)


@settings(max_examples=20, deadline=None)
@given(dtype=st.sampled_from([np.float32, np.float64, np.int16]), seed=st.integers(0, 2**16))
def test_col2im_keeps_floats_and_computes_integers_in_float64(dtype, seed):
    X_col = np.random.default_rng(seed).integers(-9, 9, (18, 9)).astype(dtype)
    V = col2im(X_col, (5, 5, 2), 3)
    assert V.dtype == (np.float64 if dtype == np.int16 else dtype)
    np.testing.assert_array_equal(V, col2im(X_col.astype(np.float64), (5, 5, 2), 3))


def test_the_memory_limit_is_the_machines_memory(monkeypatch):
    """Physical memory, as the kernel counts it in /proc/meminfo (Linux); 1 TiB where sysconf cannot tell."""
    meminfo = Path("/proc/meminfo")
    if meminfo.is_file():
        total = int(re.search(r"MemTotal:\s+(\d+) kB", meminfo.read_text())[1]) * 1024
        assert total <= checks._memory() <= 1.1 * total
    assert checks.MEMORY_LIMIT == checks._memory()

    def no_sysconf(name):
        raise ValueError(f"unknown configuration name {name}")

    monkeypatch.setattr(checks.os, "sysconf", no_sysconf)
    assert checks._memory() == 2**40


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**16), N=st.sampled_from([None, 2]))
def test_col2im_with_the_floor_is_the_adjoint_of_im2col_with_the_floor(seed, N):
    """exact=False passes through: windows that the floor drops get nothing back."""
    rng = np.random.default_rng(seed)
    shape = (6, 7, 2) if N is None else (N, 6, 7, 2)
    X = rng.standard_normal(shape)
    X_col = im2col(X, 3, S=2, exact=False)  # (6 - 3)/2 + 1 = 2.5 and (7 - 3)/2 + 1 = 3: floored to 2 x 3
    Y = rng.standard_normal(X_col.shape)
    assert np.isclose(np.sum(X_col * Y), np.sum(X * col2im(Y, shape, 3, S=2, exact=False)))


DTYPES = [np.int16, np.float32, np.float64]


@pytest.mark.parametrize("dx, dw, db", list(itertools.product(DTYPES, DTYPES, DTYPES)))
def test_every_layer_function_follows_the_one_dtype_rule(dx, dw, db):
    """checks.float_type: integers compute in float64, else NumPy's promotion with float32, for every argument."""
    X, W, b = np.ones((5, 5, 2), dx), np.ones((2, 3, 3, 2), dw), np.ones(2, db)
    want = checks.float_type(X, W, b)
    for f in (conv2d, conv2d_naive, conv2d_fast):
        assert f(X, W, b).dtype == want, f.__name__
    assert conv_transpose2d(np.ones((3, 3, 2), dx), W, b).dtype == want
    assert fc(X, np.ones((3, 50), dw), np.ones(3, db)).dtype == want
    dV = np.ones((3, 3, 2), db)
    assert all(a.dtype == checks.float_type(dV, X, W) for a in conv2d_backward(dV, X, W))
    assert all(a.dtype == checks.float_type(dV, X, W) for a in fc_backward(np.ones(3, db), X, np.ones((3, 50), dw)))
    assert col2im(np.ones((18, 9), dx), (5, 5, 2), 3).dtype == checks.float_type(np.ones(1, dx))
    X4 = X[:4, :4]
    assert avg_pool(X4).dtype == checks.float_type(X4) and avg_pool_backward(np.ones((2, 2, 2), db), X4).dtype == checks.float_type(np.ones(1, db))


# Each allocation proportional to the arguments, refused by name before it is made (broadcast views take no memory)
HUGE = 10**5
ALLOCATIONS = [
    ("the output V", lambda: conv2d(np.broadcast_to(np.zeros(1), (HUGE, HUGE, 1)), np.ones((1, 1, 1, 1)))),
    ("X_col", lambda: conv2d(np.broadcast_to(np.zeros(1, np.float32), (100, 100, 10**6)),
                             np.broadcast_to(np.ones(1, np.float32), (1, 3, 3, 10**6)))),  # a small V, a huge X_col
    ("X_col", lambda: im2col(np.broadcast_to(np.zeros(1), (HUGE, HUGE, 1)), 3)),
    ("the output", lambda: conv_transpose2d(np.broadcast_to(np.zeros(1), (HUGE, HUGE, 1)), np.ones((1, 3, 3, 1)))),
    ("the impulse responses", lambda: impulse_responses(np.broadcast_to(np.ones(1), (HUGE * 10,)), np.broadcast_to(np.ones(1), (HUGE * 10,)))),
    ("the integrand", lambda: convolve_continuous(np.exp, np.exp, np.zeros(HUGE), n=HUGE**2)),
    ("the padded input", lambda: max_pool(np.broadcast_to(np.zeros(1), (HUGE, HUGE, 1)), F=1000, S=1000, P=1, exact=False)),
    ("the pooled output", lambda: max_pool(np.broadcast_to(np.zeros(1), (HUGE, HUGE, 1)), F=3, S=1, P=1)),
]


@pytest.mark.parametrize("what, call", ALLOCATIONS, ids=[f"{w}-{i}" for i, (w, _) in enumerate(ALLOCATIONS)])
def test_each_allocation_is_refused_by_name_before_it_is_made(what, call):
    with pytest.raises(MemoryError, match=rf"^{re.escape(what)} \(\d+( x \d+)* numbers of \w+\) would need [\d.]+ GiB, more than this machine's"):
        call()


@settings(max_examples=20, deadline=None)
@given(dtype=st.sampled_from([np.float32, np.float64, "float32", "f8", np.float16, np.int64, "int8", np.complex64, bool,
                               np.longdouble, "no such type", 3.5, object()]))
def test_weights_are_float32_or_float64_and_anything_else_is_refused_by_name(dtype):
    try:
        wanted = np.dtype(dtype)
    except TypeError:
        wanted = None  # not a dtype at all: refused, saying why
    if wanted in (np.float32, np.float64):
        assert checks.weight_dtype(dtype, "dtype") == wanted
    else:
        with pytest.raises(TypeError, match=r"^dtype must be float32 or float64, got " + ("" if wanted is None else str(wanted))):
            checks.weight_dtype(dtype, "dtype")


@settings(max_examples=30, deadline=None)
@given(ndims=st.sampled_from([(3,), (1, 3), (3, 4)]), length=st.integers(0, 6))
def test_a_shape_of_the_wrong_length_is_refused_naming_every_length_allowed(ndims, length):
    """The message spells each allowed shape as the notes do: (n,), a volume (H, W, D), (N, H, W, D)."""
    words = {1: "(n,)", 3: "a volume (H, W, D)", 4: "(N, H, W, D)"}
    value = tuple(range(1, length + 1))
    if length in ndims:
        assert checks.shape(value, "input_shape", ndims) == value
    else:
        want = " or ".join(words[n] for n in ndims)
        with pytest.raises(ValueError, match=re.escape(f"input_shape must be {want}, got {value}")):
            checks.shape(value, "input_shape", ndims)
    if 4 in ndims and length not in ndims:  # col2im's input_shape takes a volume or a batch of volumes
        with pytest.raises(ValueError, match=re.escape("input_shape must be a volume (H, W, D) or (N, H, W, D)")):
            col2im(np.ones((9, 4)), value, 3)


@settings(max_examples=20, deadline=None)
@given(value=st.sampled_from(["0.1", None, True, np.bool_(False), 1j, [0.5], b"1"]))
def test_a_bad_real_number_is_refused_naming_its_type(value):
    with pytest.raises(TypeError, match=re.escape(f"lr must be a real number, got {value!r} ({type(value).__name__})")):
        checks.real(value, "lr")


def test_a_layer_that_never_set_X_still_says_to_call_forward_first():
    """A new layer whose __init__ skips Layer's (so it has no X at all) gets the same advice, not an AttributeError."""
    from cnnref import Layer

    class Doubler(Layer):
        def __init__(self):  # no super().__init__(): no params, grads or X attributes
            pass

        def __call__(self, X):
            return 2 * X

        def backward(self, dV):
            checks.cached(self)
            return 2 * dV

    with pytest.raises(RuntimeError, match=r"needs the input of a forward\(\) first"):
        Doubler().backward(np.ones((1, 1, 1)))
    layer = Doubler()
    layer.forward(np.ones((1, 1, 1)))
    np.testing.assert_array_equal(layer.backward(np.ones((1, 1, 1))), 2 * np.ones((1, 1, 1)))


@settings(max_examples=30, deadline=None)
@example(groups=2, per_group=2, K_per_group=1, off=1)  # grouped, too deep: "D1 / groups = 2", not 2.0
@example(groups=1, per_group=3, K_per_group=1, off=-1)  # ungrouped, too shallow: "D1" alone
@given(groups=st.integers(1, 4), per_group=st.integers(1, 3), K_per_group=st.integers(1, 2), off=st.sampled_from([-1, 0, 1]))
def test_filters_of_the_wrong_depth_are_refused_with_the_depth_each_group_needs(groups, per_group, K_per_group, off):
    """W (K, FH, FW, D1 / groups): the message gives the depth needed, D1 / groups as a whole number when grouped."""
    D1, K = groups * per_group, groups * K_per_group
    depth = per_group + off
    if depth < 1:
        depth = per_group + 1
    W = np.ones((K, 2, 2, depth))
    if depth == per_group:
        assert checks.filters(W, D1, groups) is not None
        if groups == 1:
            assert checks.filters(W, D1).shape == W.shape  # groups defaults to 1: every filter sees every depth slice
    else:
        need = f"D1 / groups = {D1 // groups}" if groups > 1 else "D1"
        with pytest.raises(ValueError, match=re.escape(f"so the filters need depth {need}, but W {W.shape} has depth {depth}")):
            checks.filters(W, D1, groups)


@settings(max_examples=20, deadline=None)
@given(length=st.sampled_from([1, 3]), where=st.integers(0, 2))
def test_a_shape_with_a_size_of_zero_is_refused_naming_that_size(length, where):
    value = tuple(0 if i == min(where, length - 1) else 4 for i in range(length))
    with pytest.raises(ValueError, match=re.escape(f"input_shape[{min(where, length - 1)}] must be at least 1, got")):
        checks.shape(value, ndims=(1, 3))


@settings(max_examples=20, deadline=None)
@given(layer=st.sampled_from(["conv2d", "conv2d_naive", "conv2d_fast", "conv_transpose2d", "fc"]),
       bad=st.sampled_from([np.ones((2, 1)), np.ones(()), "b", np.array([True, False]), [[1.0, 2.0]]]))
def test_a_bias_that_is_not_a_vector_is_refused_as_b(layer, bad):
    """Every layer function with biases names them b when they are not a vector of real numbers."""
    X, W = np.ones((4, 4, 2)), np.ones((2, 3, 3, 2))
    call = {"conv2d": lambda: conv2d(X, W, bad), "conv2d_naive": lambda: conv2d_naive(X, W, bad),
            "conv2d_fast": lambda: conv2d_fast(X, W, bad), "conv_transpose2d": lambda: conv_transpose2d(np.ones((2, 2, 2)), W, bad),
            "fc": lambda: fc(X, np.ones((2, 32)), bad)}[layer]
    with pytest.raises((ValueError, TypeError), match=r"^b (must|is)"):
        call()


@settings(max_examples=20, deadline=None)
@given(name=st.sampled_from(["b", "beta", "bias of layer 3"]), bad=st.sampled_from([np.ones((2, 1)), np.ones(()), "b"]),
       K=st.integers(1, 3), dtype=st.sampled_from([np.float32, np.float64]))
def test_checks_bias_names_its_argument_and_casts_without_copying(name, bad, K, dtype):
    """checks.bias on its own (the layer functions check b before calling it): errors name the argument;
    a good b comes back in dtype, the same array when it already is; None gives zeros."""
    with pytest.raises((ValueError, TypeError), match=rf"^{re.escape(name)} (must|is)"):
        checks.bias(bad, K, dtype, name)
    with pytest.raises(ValueError, match=rf"^{re.escape(name)} must have one bias per filter, shape \({K + 1},\)"):
        checks.bias(np.ones(K), K + 1, dtype, name)
    b = np.arange(K, dtype=dtype)
    assert checks.bias(b, K, dtype, name) is b
    assert checks.bias(b.astype(np.float16), K, dtype, name).dtype == dtype
    zeros = checks.bias(None, K, dtype, name)
    assert zeros.dtype == dtype and zeros.shape == (K,) and not zeros.any()


@settings(max_examples=40, deadline=None)
@example(shape=(4, 4), dtype=np.float32, slack=0)  # exactly the limit: allowed
@example(shape=(4, 4), dtype=np.float32, slack=-1)  # one byte over: refused
@given(shape=st.lists(st.integers(1, 6), min_size=1, max_size=4).map(tuple), dtype=st.sampled_from([np.int8, np.float32, np.float64]),
       slack=st.integers(-3, 3))
def test_an_allocation_is_refused_exactly_when_its_bytes_in_its_dtype_exceed_the_limit(shape, dtype, slack):
    import math

    nbytes = math.prod(shape) * np.dtype(dtype).itemsize
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(checks, "MEMORY_LIMIT", nbytes + slack)
        if slack >= 0:
            checks.allocation("the output V", shape, dtype)
        else:
            with pytest.raises(MemoryError, match=r"^the output V \(" + re.escape(" x ".join(map(str, shape))) +
                               rf" numbers of {np.dtype(dtype)}\) would need"):
                checks.allocation("the output V", shape, dtype)
    # in GiB, one decimal: a 3 GiB float32 array against a 2 GiB limit
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(checks, "MEMORY_LIMIT", 2 * 2**30)
        with pytest.raises(MemoryError, match=re.escape("would need 3.0 GiB, more than this machine's 2.0 GiB of memory")):
            checks.allocation("X_col", (3 * 2**28,), np.float32)


@settings(max_examples=40, deadline=None)
@given(value=st.one_of(st.integers(-3, 3), st.tuples(st.integers(-3, 3), st.integers(-3, 3))), minimum=st.sampled_from([None, 0, 1, 2]))
def test_hyper_and_pair_take_ints_at_least_the_minimum_zero_by_default(value, minimum):
    """pair: each of the two values refused by its own name, name[0] or name[1]; minimum 0 unless given."""
    low = 0 if minimum is None else minimum
    args = () if minimum is None else (minimum,)
    rule = {0: "non-negative", 1: "at least 1"}.get(low, f"at least {low}")
    pairs = value if isinstance(value, tuple) else (value, value)
    names = ("S[0]", "S[1]") if isinstance(value, tuple) else ("S", "S")
    bad = [(n, v) for n, v in zip(names, pairs) if v < low]
    if bad:
        name, v = bad[0]
        with pytest.raises(ValueError, match=re.escape(f"{name} must be {rule}, got {name} = {v}")):
            checks.pair(value, "S", *args)
    else:
        assert checks.pair(value, "S", *args) == pairs
    if not isinstance(value, tuple):
        if value < low:
            with pytest.raises(ValueError, match=re.escape(f"S must be {rule}, got S = {value}")):
                checks.hyper(value, "S", *args)
        else:
            assert checks.hyper(value, "S", *args) == value


@settings(max_examples=20, deadline=None)
@given(bad=st.sampled_from([None, "X", b"X", 3, 2.5, [[1, 2], [3]]]))
def test_something_that_is_not_an_array_is_refused_naming_what_it_is(bad):
    if isinstance(bad, (str, bytes)) or bad is None:
        with pytest.raises(TypeError, match=re.escape(f"V must be an array of real numbers, got {type(bad).__name__}")):
            checks.as_volume(bad, "V")
    elif isinstance(bad, list):
        with pytest.raises(TypeError, match="V must be an array of real numbers, got "):
            checks.as_volume(bad, "V")
    else:  # a number is a 0-D array: refused for its shape, each allowed number of dimensions spelled out
        with pytest.raises(ValueError, match=re.escape("V must be a volume (H, W, D) or a batch of volumes (N, H, W, D), got shape () (0-D)")):
            checks.as_volume(bad, "V")
        with pytest.raises(ValueError, match=re.escape("V must be 5-D or a vector (n,), got shape () (0-D)")):
            checks.as_volume(bad, "V", ndims=(5, 1))


@settings(max_examples=20, deadline=None)
@given(bad=st.sampled_from([2.0, "3", None, True, np.bool_(True), np.float32(1), 1 + 0j]))
def test_a_hyperparameter_that_is_not_an_integer_is_refused_naming_its_type(bad):
    with pytest.raises(TypeError, match=re.escape(f"K must be an integer, got {bad!r} ({type(bad).__name__})")):
        checks.hyper(bad, "K")
