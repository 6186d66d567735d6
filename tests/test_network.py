"""The composable Net: shape inference, the notes' CIFAR-10 volumes, forward pass, table, seeds."""

import numpy as np
import pytest

from cnnref import ConvLayer, FCLayer, Net, PoolLayer, ReLULayer, cifar10_net, conv2d_naive, fc, max_pool, relu, volume


def test_the_notes_cifar10_volumes():
    net = cifar10_net()
    assert [volume(s) for s in net.shapes()] == ["32x32x3", "32x32x12", "32x32x12", "16x16x12", "1x1x10"]
    assert [layer.kind for layer in net.layers] == ["CONV", "RELU", "POOL", "FC"]


def test_forward_equals_the_layers_composed_by_hand():
    net = cifar10_net(seed=4)
    X = np.random.default_rng(0).normal(size=(32, 32, 3))
    scores = net(X)
    conv, _, _, dense = net.layers
    expected = fc(max_pool(relu(conv2d_naive(X, conv.W, conv.b, 1, 1))), dense.W, dense.b)
    assert scores.shape == (10,)
    np.testing.assert_allclose(scores, expected, rtol=1e-10)
    batch = net(np.stack([X, X[::-1]]))
    assert batch.shape == (2, 10)
    np.testing.assert_allclose(batch[0], scores, rtol=1e-12)


def test_seeded_weights_are_reproducible_and_differ_across_seeds():
    X = np.random.default_rng(0).normal(size=(32, 32, 3))
    np.testing.assert_array_equal(cifar10_net(seed=1)(X), cifar10_net(seed=1)(X))
    assert not np.allclose(cifar10_net(seed=1)(X), cifar10_net(seed=2)(X))


def test_table_lists_volumes_and_parameters():
    lines = cifar10_net().table().splitlines()
    assert lines[0].split() == ["layer", "output", "parameters"]
    assert lines[2].split()[-2:] == ["32x32x12", "336"]  # 3*3*3*12 + 12
    assert lines[-2].split()[-2:] == ["1x1x10", "30,730"]  # 16*16*12*10 + 10
    assert lines[-1].split() == ["total", "31,066"]
    assert repr(cifar10_net()) == cifar10_net().table()


def test_shapes_need_no_weights():
    net = Net((224, 224, 3), [ConvLayer(K=512, F=3, P=1), FCLayer(K=4096)])
    assert net.shapes()[-1] == (4096,)
    assert not net.initialized and net.layers[1].W is None  # 100M weights not allocated


def test_a_layer_that_does_not_fit_fails_at_construction_with_its_formula():
    with pytest.raises(ValueError, match=r"\(H1 - F \+ 2P\)/S \+ 1 = \(32 - 3 \+ 0\)/2 \+ 1 = 15.5"):
        Net((32, 32, 3), [ConvLayer(K=4, F=3, S=2)])
    with pytest.raises(ValueError, match=r"\(H1 - F \+ 2P\)/S \+ 1 = \(5 - 2 \+ 0\)/2 \+ 1"):
        Net((5, 5, 3), [PoolLayer()])
    with pytest.raises(ValueError, match="input_shape must be"):
        Net((32, 32), [ReLULayer()])


def test_forward_on_a_larger_image_than_the_fc_head_expects_is_refused():
    net = cifar10_net()
    with pytest.raises(ValueError, match=r"this net takes inputs of shape \(32, 32, 3\) \(H, W, D\), got X of shape \(64, 64, 3\)"):
        net(np.zeros((64, 64, 3)))


def test_weights_are_he_initialised():
    """std sqrt(2 / fan_in), fan_in = F F D1 for CONV and H W D for FC (He et al.), mean 0, biases 0.

    The sample standard deviation s of n draws from N(0, sigma^2) has standard error sigma / sqrt(2n):
    s must lie within 5 of them (here 3.7% and 1.3%), where half the scale, or fan_out for fan_in, is off
    by 50% or more.
    """
    net = Net((6, 5, 16), [ConvLayer(K=64, F=3, P=1), ReLULayer(), FCLayer(K=40)], seed=0).init()
    conv_W, conv_b, fc_W, fc_b = net.params()
    assert conv_W.shape == (64, 3, 3, 16) and fc_W.shape == (40, 6 * 5 * 64)
    for W, fan_in in ((conv_W, 3 * 3 * 16), (fc_W, 6 * 5 * 64)):
        sigma, n = np.sqrt(2 / fan_in), W.size
        assert abs(W.std() - sigma) < 5 * sigma / np.sqrt(2 * n), (W.std(), sigma)
        assert abs(W.mean()) < 5 * sigma / np.sqrt(n)
    assert not conv_b.any() and not fc_b.any()


def test_volume_writes_width_by_height():
    """The notes write W1 x H1 x D1; arrays are (H, W, D): a 4-high, 7-wide, 3-deep volume is 7x4x3."""
    assert volume((4, 7, 3)) == "7x4x3"
    assert volume(np.zeros((2, 9, 5)).shape) == "9x2x5"
    net = Net((4, 6, 3), [ConvLayer(K=2, F=3), FCLayer(K=5)])  # 4 high, 6 wide -> 2 high, 4 wide
    assert net.shapes()[1] == (2, 4, 2)
    assert net.table().splitlines()[1].split()[-2:] == ["6x4x3", "0"]
    assert net.table().splitlines()[2].split()[-2:] == ["4x2x2", "56"]  # 3*3*3*2 + 2
