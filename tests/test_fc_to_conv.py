"""FC layers as CONV layers, and the converted net slid over a larger image equals the crops."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnref import alexnet_like, conv2d, crop_scores, fc, fc_to_conv, output_size, slide
from strategies import strided_nets


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 7), st.integers(1, 4), st.integers(1, 6), st.integers(0, 2**32 - 1))
def test_fc_equals_conv_with_the_converted_filters(H, D, K, seed):
    rng = np.random.default_rng(seed)
    X, W, b = rng.normal(size=(H, H, D)), rng.normal(size=(K, H * H * D)), rng.normal(size=K)
    V = conv2d(X, fc_to_conv(W, X.shape), b)
    assert V.shape == (1, 1, K)  # only one depth column fits
    np.testing.assert_allclose(V[0, 0], fc(X, W, b), rtol=1e-10, atol=1e-10)


def test_the_notes_fc_4096_on_7x7x512_is_a_conv_with_F_7():
    W = np.zeros((4096, 7 * 7 * 512), dtype=np.float32)
    filters = fc_to_conv(W, (7, 7, 512))
    assert filters.shape == (4096, 7, 7, 512)
    assert np.shares_memory(filters, W)  # a reshape, no copy
    assert fc_to_conv(np.zeros((1000, 4096)), (4096,)).shape == (1000, 1, 1, 4096)  # F = 1 after an FC


@pytest.mark.parametrize(
    "W, shape, message",
    [
        (np.ones((2, 13)), (2, 2, 3), r"expects 13 inputs, but 2x2x3 = 12"),
        (np.ones((2, 12)), (2, 2, 3, 1), r"input_shape must be \(n,\) or a volume"),
        (np.ones(12), (2, 2, 3), "W must be a batch of vectors"),
    ],
)
def test_fc_to_conv_bad_input(W, shape, message):
    with pytest.raises(ValueError, match=message):
        fc_to_conv(W, shape)


def small_alexnet():
    return alexnet_like(input_size=64, depths=(3, 4, 4, 5, 6), fc_sizes=(8, 7), classes=5, seed=3)


def test_the_notes_shapes_for_224_and_384():
    net = alexnet_like()
    assert net.shapes()[15] == (7, 7, 512) and net.total_stride == 32
    conv = net.to_conv()
    shapes = conv.shapes((384, 384, 3))
    assert shapes[15] == (12, 12, 512)  # 384 / 32 = 12
    assert shapes[-1] == (6, 6, 1000)  # (12 - 7)/1 + 1 = 6
    assert output_size(384, 224, S=32) ** 2 == 36  # 36 crops
    assert [layer.F for layer in conv.layers if getattr(layer, "F", None) and layer.kind == "CONV"][-3:] == [7, 1, 1]


def test_converted_net_on_the_original_input_equals_the_original():
    net = small_alexnet()
    X = np.random.default_rng(0).normal(size=(64, 64, 3))
    scores = net(X)
    converted = net.to_conv()(X)
    assert scores.shape == (5,) and converted.shape == (1, 1, 5)
    np.testing.assert_allclose(converted[0, 0], scores, rtol=1e-10, atol=1e-12)


def test_one_pass_equals_every_crop_at_the_total_stride():
    net = small_alexnet()
    image = np.random.default_rng(1).normal(size=(128, 160, 3))
    crops = crop_scores(net, image, 32)  # (3, 4, 5): the original net on every 64x64 crop
    assert crops.shape == (3, 4, 5)
    one_pass = net.to_conv()(image)
    assert one_pass.shape == (3, 4, 5)
    np.testing.assert_allclose(one_pass, crops, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(slide(net.to_conv(), image), crops, rtol=1e-10, atol=1e-12)
    # and crop (i, j) really is the net on image[32i : 32i + 64, 32j : 32j + 64]
    np.testing.assert_allclose(crops[2, 1], net(image[64:128, 32:96]), rtol=1e-12)


@pytest.mark.parametrize("stride", [16, 8])
def test_a_smaller_stride_takes_several_shifted_passes(stride):
    net = small_alexnet()
    image = np.random.default_rng(2).normal(size=(112, 96, 3))
    crops = crop_scores(net, image, stride)
    assert crops.shape == ((112 - 64) // stride + 1, (96 - 64) // stride + 1, 5)
    np.testing.assert_allclose(slide(net.to_conv(), image, stride), crops, rtol=1e-10, atol=1e-12)


def test_slide_refusals():
    conv = small_alexnet().to_conv()
    image = np.zeros((128, 128, 3))
    with pytest.raises(ValueError, match="the stride 12 must divide the net's total stride 32"):
        slide(conv, image, 12)
    with pytest.raises(ValueError, match=r"\(image height - F \+ 2P\)/S \+ 1 = \(100 - 64 \+ 0\)/32 \+ 1"):
        slide(conv, np.zeros((100, 128, 3)))
    with pytest.raises(ValueError, match=r"\(image width - F \+ 2P\)/S \+ 1"):
        crop_scores(small_alexnet(), np.zeros((128, 100, 3)), 32)


def test_padding_breaks_exact_equality_at_the_crop_borders():
    # Why alexnet_like's blocks use 1x1 CONV layers: with P = 1 the crops see zeros where the image has pixels.
    from cnnref import ConvLayer, FCLayer, Net, PoolLayer, ReLULayer

    net = Net((8, 8, 1), [ConvLayer(K=2, F=3, P=1), ReLULayer(), PoolLayer(), FCLayer(K=3)], seed=0)
    image = np.random.default_rng(3).normal(size=(16, 16, 1))
    assert not np.allclose(slide(net.to_conv(), image, 2), crop_scores(net, image, 2))


@settings(max_examples=30, deadline=None)
@given(net=strided_nets(), data=st.data())
def test_any_unpadded_net_slid_at_any_dividing_stride_equals_its_crops(net, data):
    """slide(net.to_conv(), image, s) == crop_scores(net, image, s) for every s dividing the total stride."""
    net.init()
    conv = net.to_conv()
    T = conv.total_stride if isinstance(conv.total_stride, tuple) else (conv.total_stride,) * 2
    s = tuple(data.draw(st.sampled_from([d for d in range(1, t + 1) if t % d == 0])) for t in T)
    extra = [data.draw(st.integers(0, 3)) for _ in s]
    h, w, d = net.input_shape
    image = np.random.default_rng(data.draw(st.integers(0, 2**16))).standard_normal((h + s[0] * extra[0], w + s[1] * extra[1], d))
    crops = crop_scores(net, image, s)
    assert crops.shape[:2] == (extra[0] + 1, extra[1] + 1)
    np.testing.assert_allclose(slide(conv, image, s), crops, rtol=1e-10, atol=1e-10)
    if s == T:
        np.testing.assert_allclose(slide(conv, image), crops, rtol=1e-10, atol=1e-10)  # one pass
