"""The residual block: y = main(X) + shortcut(X), its parameters shared with its layers, its gradients."""

import copy

import numpy as np
import pytest

from gradients import numerical_gradient, rel_error

from cnnref import (
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
