"""The residual block: y = main(X) + shortcut(X), its parameters shared with its layers, its gradients."""

import copy
import re

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from strategies import layers as drawn_layer

from gradients import numerical_gradient, rel_error

from cnnref import (
    Field,
    BatchNormLayer,
    ConvLayer,
    FCLayer,
    Net,
    PoolLayer,
    ReLULayer,
    ResidualBlock,
    basic_block,
    conv2d_naive,
    relu,
    residual_add,
    softmax_loss,
)

TOL = 1e-6


def close(analytic, numeric, tol=1e-6):
    """Relative error with a floor on the scale: a gradient that batch norm all but cancels (a bias before it) compares absolutely."""
    return np.linalg.norm(analytic - numeric) <= tol * max(1.0, np.linalg.norm(analytic) + np.linalg.norm(numeric))


def test_identity_block_adds_its_input():
    block = ResidualBlock([ConvLayer(K=2, F=3, P=1), ReLULayer(), ConvLayer(K=2, F=3, P=1)])
    block.init((5, 5, 2), np.random.default_rng(0))
    X = np.random.default_rng(1).standard_normal((5, 5, 2))
    conv1, _, conv2 = block.main
    expected = conv2d_naive(relu(conv2d_naive(X, conv1.W, conv1.b, 1, 1)), conv2.W, conv2.b, 1, 1) + X
    np.testing.assert_allclose(block(X), expected, rtol=1e-10)
    np.testing.assert_allclose(block.forward(X), expected, rtol=1e-10)


def test_projection_block_and_its_named_parameters():
    block, _ = basic_block(4, 8, S=2)
    net = Net((6, 6, 4), [block], seed=2).init()
    names = list(block.params)
    assert names == ["main.0.W", "main.1.gamma", "main.1.beta", "main.3.W", "main.4.gamma", "main.4.beta",
                     "shortcut.0.W", "shortcut.1.gamma", "shortcut.1.beta"]
    assert block.params["main.0.W"] is block.main[0].W  # the same arrays: an update reaches the layer
    assert [p.shape for p in net.params()] == [
        (8, 3, 3, 4), (8,), (8,), (8, 3, 3, 8), (8,), (8,), (8, 1, 1, 4), (8,), (8,)]
    assert block.n_params((6, 6, 4)) == sum(p.size for p in net.params()) == 8 * 36 + 16 + 8 * 72 + 16 + 32 + 16
    X = np.random.default_rng(3).standard_normal((6, 6, 4))
    main, short = X, X
    for layer in block.main:
        main = layer(main)
    for layer in block.shortcut:
        short = layer(short)
    np.testing.assert_allclose(net(X), main + short, rtol=1e-12)
    assert net(X).shape == (3, 3, 8)


def test_a_net_with_residual_blocks_matches_numerical_gradients():
    """CONV -> BN -> RELU -> identity block -> projection block -> POOL -> FC, train mode, a batch of 2."""
    rng = np.random.default_rng(4)
    layers = [ConvLayer(K=2, F=3, P=1, bias=False), BatchNormLayer(), ReLULayer(),
              *basic_block(2, 2), *basic_block(2, 3, S=2), PoolLayer(F=2, S=2), FCLayer(K=3)]
    net = Net((4, 4, 1), layers, seed=5).init()
    X, y = rng.standard_normal((2, 4, 4, 1)), np.array([2, 0])

    def loss():
        return np.array(softmax_loss(net.forward(X), y)[0])

    _, dscores = softmax_loss(net.forward(X), y)
    dX = net.backward(dscores)
    params, grads = net.params(), net.grads()
    assert len(params) == len(grads) == 3 + 6 + 9 + 2
    errors = [rel_error(g, numerical_gradient(loss, p, 1.0)) for p, g in zip(params, grads)]
    errors.append(rel_error(dX, numerical_gradient(loss, X, 1.0)))
    assert max(errors) < TOL, errors
    before = [p.copy() for p in params]
    net.sgd_step(lr=0.05)
    assert all(not np.array_equal(p, q) for p, q in zip(net.params(), before))
    assert net.layers[3].main[0].W is params[3]  # the step updated the block's own layer in place


def test_seeded_init_reaches_every_inner_layer_and_copies_are_independent():
    net = Net((6, 6, 4), basic_block(4, 8, S=2), seed=7)
    assert not net.initialized
    net.init()
    assert net.initialized and all(p is not None for p in net.params())
    other = Net((6, 6, 4), basic_block(4, 8, S=2), seed=7).init()
    assert all(np.array_equal(p, q) for p, q in zip(net.params(), other.params()))
    twin = copy.deepcopy(net)
    twin.params()[0][...] = 0
    assert not np.all(net.params()[0] == 0)


def test_summary_rows_follow_each_path():
    net = Net((8, 8, 4), basic_block(4, 8, S=2))
    rows = net.summary().rows
    names = [r.name for r in rows]
    assert names[1:] == ["  CONV K=8 F=3 S=2 P=1 no bias", "  BN", "  RELU", "  CONV K=8 F=3 S=1 P=1 no bias", "  BN",
                         "  shortcut: CONV K=8 F=1 S=2 P=0 no bias", "  shortcut: BN", "ADD projection shortcut", "RELU"]
    assert [r.receptive_field for r in rows[1:]] == [3, 3, 3, 7, 7, 1, 1, 7, 7]  # 3 + 2*2; the 1x1 shortcut sees 1
    assert net.summary().macs == 4 * 4 * 8 * (9 * 4 + 9 * 8 + 4)
    assert net.summary().params == 8 * 9 * 4 + 8 * 9 * 8 + 8 * 4 + 3 * 16


def test_bad_blocks_are_refused():
    with pytest.raises(TypeError, match=r"main\[1\] must be a cnnref Layer"):
        ResidualBlock([ReLULayer(), "conv"])
    with pytest.raises(TypeError, match=r"shortcut\[0\] must be a cnnref Layer"):
        ResidualBlock([ReLULayer()], [np.ones(3)])
    with pytest.raises(ValueError, match="main must hold at least one layer"):
        ResidualBlock([])
    with pytest.raises(ValueError, match=r"main path's output \(4, 4, 8\) must have the shape of the input \(identity "
                                         r"shortcut\) \(4, 4, 4\).*add a projection shortcut"):
        Net((4, 4, 4), [ResidualBlock([ConvLayer(K=8, F=1)])])
    with pytest.raises(ValueError, match=r"main path's output \(3, 3, 8\) must have the shape of the shortcut's output \(5, 5, 8\)"):
        Net((5, 5, 4), [ResidualBlock([ConvLayer(K=8, F=1, S=2)], [ConvLayer(K=8, F=1)])])
    with pytest.raises(ValueError, match=r"the main path's output \(2, 2, 1\) and the shortcut's \(2, 2, 2\)"):
        residual_add(np.ones((2, 2, 1)), np.ones((2, 2, 2)))
    block = ResidualBlock([ReLULayer()])
    with pytest.raises(RuntimeError, match="needs the input of a forward"):
        block.backward(np.ones((2, 2, 1)))
    with pytest.raises(AttributeError, match="its layers' grads"):
        block.grads = {"main.0.W": np.ones(1)}


def test_residual_add_follows_the_promotion_rule():
    """Found by fuzzing: int8 volumes added in int8 and wrapped (127 + 127 = -2); float16 stayed float16."""
    a = np.full((2, 2, 1), 127, np.int8)
    V = residual_add(a, a)
    assert V.dtype == np.float64 and np.all(V == 254.0)
    assert residual_add(np.ones((1, 1, 1), np.float16), np.ones((1, 1, 1), np.float16)).dtype == np.float32
    assert residual_add(np.ones((1, 1, 1), np.float32), np.ones((1, 1, 1), np.float32)).dtype == np.float32


def test_paths_that_are_not_lists_are_refused_by_name():
    """Found by fuzzing: ResidualBlock(ReLULayer()) raised "'ReLULayer' object is not iterable"."""
    with pytest.raises(TypeError, match=r"\bmain\b must be a list of cnnref Layers"):
        ResidualBlock(ReLULayer())
    with pytest.raises(TypeError, match=r"\bshortcut\b must be a list of cnnref Layers"):
        ResidualBlock([ReLULayer()], 3)


@st.composite
def blocks(draw):
    """A ResidualBlock on a drawn input: a main path of drawn layers (and maybe a BN), and a shortcut that
    is the identity (when the main path keeps the shape) or a path of the same geometry as the main one."""
    shape = (draw(st.integers(3, 6)), draw(st.integers(3, 6)), draw(st.integers(1, 3)))
    main, current = [], shape
    for _ in range(draw(st.integers(1, 3))):
        layer = draw(drawn_layer(current))
        if layer is not None:
            main.append(layer)
            current = layer.output_shape(current)
    if not main or draw(st.booleans()):  # batch norm needs two numbers per depth slice (one image here)
        main.append(BatchNormLayer() if current[0] * current[1] >= 2 else ReLULayer())
    if current == shape and draw(st.booleans()):
        shortcut = []
    else:
        shortcut = copy.deepcopy(main)  # the same output shape and effective stride, its own weights
    return shape, ResidualBlock(main, shortcut)


@settings(max_examples=20, deadline=None)
@given(drawn=blocks(), N=st.sampled_from([None, 2]), seed=st.integers(0, 2**16))
def test_any_block_is_the_sum_of_its_paths_and_its_gradients_are_numerical(drawn, N, seed):
    shape, block = drawn
    rng = np.random.default_rng(seed)
    block.init(shape, rng)
    for name, value in block.params.items():  # zero biases put ReLU's kink where padding is
        if name.endswith(".b"):
            value[...] = rng.standard_normal(value.shape)
    X = rng.standard_normal(shape if N is None else (N, *shape))

    def path(layers, X, train):
        for layer in layers:
            X = layer.forward(X) if train else layer(X)
        return X

    np.testing.assert_allclose(block(X), path(block.main, X, False) + path(block.shortcut, X, False), rtol=1e-10, atol=1e-12)
    assert block(X).shape[-3:] == block.output_shape(shape)
    # the parameters are the inner layers' arrays, named path.index.name, with the shapes param_shapes gives
    assert {k: v.shape for k, v in block.params.items()} == block.param_shapes(shape)
    assert block.n_params(shape) == sum(layer.n_params(s) for layers in (block.main, block.shortcut)
                                        for layer, s in zip(layers, block._shapes(layers, shape)))
    Y = block.forward(X)
    # A max pool's window of padding only gives -inf (pooling.py, as PyTorch): a constant, whose numerical
    # gradient is inf - inf. Found by a CI seed: CONV 1x2 dilation 2 then POOL F=2 P=1 dilation 2 on a 1-wide volume.
    assume(np.isfinite(Y).all())
    G = rng.standard_normal(Y.shape)

    def f():
        return block.forward(X)

    dX = block.backward(G)
    assert sorted(block.grads) == sorted(block.params)
    grads = dict(block.grads)
    assert close(dX, numerical_gradient(f, X, G))
    for name, value in block.params.items():
        assert close(grads[name], numerical_gradient(f, value, G)), name
    # its summary: a row per inner layer, the shortcut's marked, then the addition with the block's output
    rows = block.summary(shape)
    inner = [r for r in rows if r.level == 1]
    assert len(inner) == len(block.main) + len(block.shortcut) and rows[-1].level == 0
    assert sum(r.name.startswith("  shortcut: ") for r in inner) == len(block.shortcut)
    assert rows[-1].name == ("ADD projection shortcut" if block.shortcut else "ADD identity shortcut")
    assert rows[-1].output == block.output_shape(shape) and rows[-1].params == 0
    assert block.macs(shape) == sum(r.macs for r in inner) and block.n_params(shape) == sum(r.params for r in inner)
    assert ("shortcut: identity" in block.describe()) == (not block.shortcut)
    # the field: the union of both paths' (the identity sees one pixel)
    main = inner[len(block.main) - 1].field
    for m, f, u in zip(main, rows[-1].field, (inner[-1].field if block.shortcut else (Field(), Field()))):
        assert f.stride == m.stride and f.start == min(m.start, u.start)
        assert f.start + f.size == max(m.start + m.size, u.start + u.size)


@pytest.mark.parametrize("bad", ["not a layer in main", "not a layer in shortcut", "empty main", "identity of another shape",
                                 "shortcut of another shape", "added volumes differ", "grads set"])
@settings(max_examples=5, deadline=None)
@given(D=st.integers(1, 3), H=st.integers(3, 5), index=st.integers(0, 2))
def test_each_bad_block_is_refused_saying_what_is_wrong(bad, D, H, index):
    layers = [ReLULayer() for _ in range(index)]
    if bad == "not a layer in main":
        with pytest.raises(TypeError, match=rf"main\[{index}\] must be a cnnref Layer"):
            ResidualBlock([*layers, np.ones(D)])
    elif bad == "not a layer in shortcut":
        with pytest.raises(TypeError, match=rf"shortcut\[{index}\] must be a cnnref Layer"):
            ResidualBlock([ReLULayer()], [*layers, "CONV"])
    elif bad == "empty main":
        with pytest.raises(ValueError, match="main must hold at least one layer"):
            ResidualBlock([], layers)
    elif bad == "identity of another shape":
        with pytest.raises(ValueError, match=re.escape(f"main path's output ({H}, {H}, {D + 1}) must have the shape of the "
                                                       f"input (identity shortcut) ({H}, {H}, {D})")):
            ResidualBlock([*layers, ConvLayer(K=D + 1, F=1)]).output_shape((H, H, D))
    elif bad == "shortcut of another shape":
        with pytest.raises(ValueError, match=re.escape(f"main path's output ({H - 2}, {H - 2}, {D}) must have the shape of "
                                                       f"the shortcut's output ({H}, {H}, {D})")):
            ResidualBlock([ConvLayer(K=D, F=3)], [*layers, ConvLayer(K=D, F=1)]).output_shape((H, H, D))
    elif bad == "added volumes differ":
        with pytest.raises(ValueError, match=re.escape(f"the main path's output ({H}, {H}, {D}) and the shortcut's ({H}, {H}, {D + 1})")):
            residual_add(np.ones((H, H, D)), np.ones((H, H, D + 1)))
    else:
        block = ResidualBlock([ConvLayer(K=D, F=1)])
        block.grads = {}  # what Layer code does: allowed, the inner layers keep theirs
        with pytest.raises(AttributeError, match="its layers' grads"):
            block.grads = {"main.0.W": np.ones(1)}


def test_inference_overwrites_no_volume_both_paths_read():
    """RELU works in place inside a path, on what the path made: never on the block's input, which the shortcut adds."""
    block = ResidualBlock([ReLULayer(), ConvLayer(2, 3, P=1), ReLULayer()], [])
    block.init((5, 5, 2), np.random.default_rng(0))
    X = np.random.default_rng(1).normal(size=(2, 5, 5, 2))
    kept = X.copy()
    Y = block(X)
    np.testing.assert_array_equal(X, kept)
    conv = block.main[1]
    np.testing.assert_allclose(Y, relu(conv2d_naive(relu(kept), conv.W, conv.b, 1, 1)) + kept, rtol=1e-12)


def test_paths_of_the_same_shape_but_different_strides_are_refused_by_the_block_and_its_net():
    """On a 3x3 input a 3x3 CONV at stride 2 (padding 1) and a 2x2 CONV at stride 1 both give 2x2 outputs, by
    chance: output i of one starts at input 2i - 1, of the other at i, so on any larger input the sum would add
    pixels from different places. output_shape (which a Net's init and summary call) refuses it, naming both
    strides, as summary() did alone until now (forward added them)."""
    block = ResidualBlock([ConvLayer(2, 3, S=2, P=1)], [ConvLayer(2, 2, S=1, P=0)])
    with pytest.raises(ValueError, match=re.escape("effective stride (2, 2) must equal the shortcut's (1, 1)")):
        block.output_shape((3, 3, 2))
    with pytest.raises(ValueError, match="effective stride"):
        Net((3, 3, 2), [block]).init()
    same = ResidualBlock([ConvLayer(2, 3, S=2, P=1)], [ConvLayer(2, 1, S=2, P=0)])  # a projection at the same stride
    assert same.output_shape((3, 3, 2)) == (2, 2, 2)
