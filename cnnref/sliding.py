"""Sliding a net over a larger image: every crop evaluated alone, or the converted net in one pass.

Defined for the notes' example "FC-CONV Conversion in AlexNet" (page: CNN notes,
/dl/cnn/fc-layer/#converting-fc-layers-to-conv-layers).
"""

import numpy as np

from cnnref import checks
from cnnref.networks import Net
from cnnref.shapes import output_size


def _net_and_image(net, image):
    if not isinstance(net, Net):
        raise TypeError(f"net must be a cnnref Net, got {net!r}")
    image = checks.as_volume(image, "image", ndims=(3,))
    if image.shape[2] != net.input_shape[2]:
        raise ValueError(f"the net takes depth {net.input_shape[2]}, but the image has shape {image.shape}")
    return net, image


def crop_scores(net, image, stride):
    """Evaluate net on every crop of its input size, taken from image at the given stride.

    Returns a grid (n_i, n_j, K) of the net's outputs, crop (i, j) starting at (i*stride, j*stride);
    n = (image size - crop size)/stride + 1 must be whole.

    >>> from cnnref import alexnet_like
    >>> net = alexnet_like(input_size=64, depths=(2, 2, 2, 2, 2), fc_sizes=(4, 4), classes=3)
    >>> crop_scores(net, np.zeros((128, 128, 3)), stride=32).shape   # (128 - 64)/32 + 1 = 3 crops a side
    (3, 3, 3)
    """
    net, image = _net_and_image(net, image)
    (h, w, _), (si, sj) = net.input_shape, checks.pair(stride, "stride", 1)
    n_i = output_size(image.shape[0], h, si, name="image height")
    n_j = output_size(image.shape[1], w, sj, name="image width")
    crops = [image[i * si : i * si + h, j * sj : j * sj + w] for i in range(n_i) for j in range(n_j)]
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
    conv_net, image = _net_and_image(conv_net, image)
    if any(layer.kind == "FC" for layer in conv_net.layers):
        raise ValueError("slide takes the converted net, with no FC layer: pass net.to_conv()")
    T = checks.pair(conv_net.total_stride, "total stride", 1)
    si, sj = T if stride is None else checks.pair(stride, "stride", 1)
    if T[0] % si or T[1] % sj:
        raise ValueError(f"the stride {stride} must divide the net's total stride {conv_net.total_stride} (one pass per shift)")
    h, w, _ = conv_net.input_shape
    n_i = output_size(image.shape[0], h, si, name="image height")
    n_j = output_size(image.shape[1], w, sj, name="image width")
    scores = None
    for a in range(0, T[0], si):
        for c in range(0, T[1], sj):
            m_i = (image.shape[0] - h - a) // T[0] + 1  # crops starting at a, a + T, a + 2T, ...
            m_j = (image.shape[1] - w - c) // T[1] + 1
            if m_i < 1 or m_j < 1:
                continue
            shifted = image[a : a + h + (m_i - 1) * T[0], c : c + w + (m_j - 1) * T[1]]
            out = conv_net(shifted)  # (m_i, m_j, K): one pass
            if scores is None:
                scores = np.empty((n_i, n_j, out.shape[-1]), dtype=out.dtype)
            scores[a // si :: T[0] // si, c // sj :: T[1] // sj] = out
    return scores
