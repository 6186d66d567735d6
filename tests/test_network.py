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
