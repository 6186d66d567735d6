"""Converting FC layers to CONV layers, and sliding the converted net over a larger image.

Defined for the notes' important note "Converting FC Layers to CONV Layers" and the example "FC-CONV
Conversion in AlexNet" (page: CNN notes, /dl/cnn/fc-layer/#converting-fc-layers-to-conv-layers).
"""

import math

import numpy as np

from cnnref import _checks
from cnnref.conv_layer import output_size


def fc_to_conv(W, input_shape):
    """FC weights W (K, H*W*D) for an input volume (H, W, D) as CONV filters (K, H, W, D), F = H = W.

    conv2d(X, fc_to_conv(W, X.shape), b) has shape (1, 1, K) and equals fc(X, W, b): the filter
    covers the whole input, so only one depth column fits. An input_shape (n,), the output of an
    earlier FC layer, is a 1 x 1 x n volume and gives F = 1.

    >>> W = np.arange(8.0).reshape(2, 4)   # 2 neurons looking at a 2x2x1 volume
    >>> fc_to_conv(W, (2, 2, 1))[1, :, :, 0]
    array([[4., 5.],
           [6., 7.]])
    """
    W = _checks.as_volume(W, "W", ndims=(2,))
    shape = tuple(input_shape)
    if len(shape) == 1:
        shape = (1, 1, shape[0])
    if len(shape) != 3:
        raise ValueError(f"input_shape must be a volume (H, W, D) or a vector (n,), got {tuple(input_shape)}")
    H, W1, D = shape
    if H != W1:
        raise ValueError(f"the CONV filters are square F x F, so the FC input must be too: got {H}x{W1}x{D}")
    if math.prod(shape) != W.shape[1]:
        raise ValueError(f"W {W.shape} expects {W.shape[1]} inputs, but {H}x{W1}x{D} = {math.prod(shape)}")
    return W.reshape(W.shape[0], H, W1, D)  # C order: the same flattening as fc


def crop_scores(net, image, stride):
    """Evaluate net on every crop of its input size, taken from image at the given stride.

    Returns a grid (n_i, n_j, K) of the net's outputs, crop (i, j) starting at (i*stride, j*stride);
    n = (image size - crop size)/stride + 1 must be whole.

    >>> from cnnref import alexnet_like
    >>> net = alexnet_like(input_size=64, depths=(2, 2, 2, 2, 2), fc_sizes=(4, 4), classes=3)
    >>> crop_scores(net, np.zeros((128, 128, 3)), stride=32).shape   # (128 - 64)/32 + 1 = 3 crops a side
    (3, 3, 3)
    """
    image = _checks.as_volume(image, "image", ndims=(3,))
    h, w, _ = net.input_shape
    n_i = output_size(image.shape[0], h, stride, name="image height")
    n_j = output_size(image.shape[1], w, stride, name="image width")
    crops = [image[i * stride : i * stride + h, j * stride : j * stride + w] for i in range(n_i) for j in range(n_j)]
    scores = net(np.stack(crops))  # one batch: (n_i * n_j, ...)
    return scores.reshape(n_i, n_j, -1)


def slide(conv_net, image, stride=None):
    """The converted net's score map over image: crop (i, j) at (i*stride, j*stride), like crop_scores.

    With stride equal to the net's total stride this is one forward pass of the converted net. A stride
    that divides the total stride T takes (T/stride)^2 passes, one per shift of the image, whose score
    maps interleave.

    >>> from cnnref import alexnet_like
    >>> net = alexnet_like(input_size=64, depths=(2, 2, 2, 2, 2), fc_sizes=(4, 4), classes=3)
    >>> image = np.random.default_rng(0).normal(size=(128, 128, 3))
    >>> np.allclose(slide(net.to_conv(), image), crop_scores(net, image, 32))   # one pass == 9 crops
    True
    >>> slide(net.to_conv(), image, stride=16).shape   # 4 shifted passes: (128 - 64)/16 + 1 = 5
    (5, 5, 3)
    """
    image = _checks.as_volume(image, "image", ndims=(3,))
    T = conv_net.total_stride
    stride = T if stride is None else _checks.hyper(stride, "stride", 1)
    if T % stride:
        raise ValueError(f"the stride {stride} must divide the net's total stride {T} (one pass per shift)")
    h, w, _ = conv_net.input_shape
    n_i = output_size(image.shape[0], h, stride, name="image height")
    n_j = output_size(image.shape[1], w, stride, name="image width")
    scores = None
    for a in range(0, T, stride):
        for c in range(0, T, stride):
            m_i = (image.shape[0] - h - a) // T + 1  # crops starting at a, a + T, a + 2T, ...
            m_j = (image.shape[1] - w - c) // T + 1
            if m_i < 1 or m_j < 1:
                continue
            shifted = image[a : a + h + (m_i - 1) * T, c : c + w + (m_j - 1) * T]
            out = conv_net(shifted)  # (m_i, m_j, K): one pass
            if scores is None:
                scores = np.empty((n_i, n_j, out.shape[-1]), dtype=out.dtype)
            scores[a // stride :: T // stride, c // stride :: T // stride] = out
    return scores
