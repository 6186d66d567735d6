"""Hypothesis strategies shared by the property tests: random nets built from every kind of layer."""

import numpy as np
from hypothesis import strategies as st

from cnnref import ConvLayer, FCLayer, Net, PoolLayer, ReLULayer


def _int_or_pair(draw, values):
    """An int, or a pair (vertical, horizontal) of different values: the layers take both."""
    if draw(st.booleans()):
        return draw(values)
    return draw(values), draw(values)


@st.composite
def layers(draw, shape, padding=True, exact=None):
    """A CONV, RELU or POOL layer with random keywords that fits an input of shape (H, W, D), or None."""
    _, _, D = shape
    kind = draw(st.sampled_from(["CONV", "RELU", "POOL"]))
    exact = draw(st.booleans()) if exact is None else exact
    if kind == "RELU":
        return ReLULayer()
    if kind == "CONV":
        groups = draw(st.sampled_from([g for g in (1, 2, 3) if D % g == 0]))
        layer = ConvLayer(
            K=groups * draw(st.integers(1, 2)), F=_int_or_pair(draw, st.integers(1, 3)), S=_int_or_pair(draw, st.integers(1, 2)),
            P=_int_or_pair(draw, st.integers(0, 1)) if padding else 0, dilation=_int_or_pair(draw, st.integers(1, 2)),
            groups=groups, exact=exact, bias=draw(st.booleans()),
        )
    else:
        mode = draw(st.sampled_from(["max", "avg"]))
        F = _int_or_pair(draw, st.integers(1, 3))
        half = min(np.atleast_1d(F)) // 2
        layer = PoolLayer(F=F, S=_int_or_pair(draw, st.integers(1, 2)), mode=mode, P=draw(st.integers(0, half)) if padding else 0,
                          dilation=_int_or_pair(draw, st.integers(1, 2)) if mode == "max" else 1, exact=exact)
    try:
        layer.output_shape(shape)
    except ValueError:  # does not fit (too large, or does not tile with exact=True)
        return None
    return layer


@st.composite
def nets(draw, fc_head=None, padding=True, exact=None, max_layers=4, max_size=8):
    """A Net of 1 to max_layers CONV/RELU/POOL layers on a random input, with or without an FC head."""
    shape = (draw(st.integers(2, max_size)), draw(st.integers(2, max_size)), draw(st.integers(1, 3)))
    chosen, current = [], shape
    for _ in range(draw(st.integers(1, max_layers))):
        layer = draw(layers(current, padding, exact))
        if layer is not None:
            chosen.append(layer)
            current = layer.output_shape(current)
    if fc_head if fc_head is not None else draw(st.booleans()):
        chosen += [FCLayer(K=draw(st.integers(1, 4)))]
        if draw(st.booleans()):
            chosen += [ReLULayer(), FCLayer(K=draw(st.integers(1, 3)))]
    if not chosen:
        chosen = [ReLULayer()]
    return Net(shape, chosen, seed=draw(st.integers(0, 2**16)))


def random_biases(net, seed):
    """Give every layer that has biases random ones: zero biases put ReLU's kink where padding is."""
    rng = np.random.default_rng(seed)
    for layer in net.layers:
        if layer.params.get("b") is not None:
            layer.params["b"] = rng.standard_normal(layer.params["b"].shape)
    return net


@st.composite
def strided_nets(draw, max_layers=4):
    """A Net of unpadded CONV/RELU/POOL layers with strides 1 to 3 that tile exactly, and an FC head.

    Built from the output back: after drawing the layers, the input size is the one whose every layer
    tiles, (size after - 1) S + dilation (F - 1) + 1, so strides need not be rejected as they rarely tile.
    """
    depth = input_depth = draw(st.integers(1, 3))
    specs = []
    for _ in range(draw(st.integers(1, max_layers))):
        kind = draw(st.sampled_from(["CONV", "RELU", "POOL"]))
        F, S, dilation = (tuple(draw(st.integers(lo, hi)) for _ in range(2)) for lo, hi in ((1, 3), (1, 3), (1, 2)))
        if kind == "CONV":
            groups = draw(st.sampled_from([g for g in (1, 2, 3) if depth % g == 0]))
            K = groups * draw(st.integers(1, 2))
            specs.append((lambda F=F, S=S, dilation=dilation, K=K, groups=groups:
                          ConvLayer(K=K, F=F, S=S, dilation=dilation, groups=groups), F, S, dilation))
            depth = K
        elif kind == "POOL":
            mode = draw(st.sampled_from(["max", "avg"]))
            dilation = dilation if mode == "max" else (1, 1)
            specs.append((lambda F=F, S=S, dilation=dilation, mode=mode: PoolLayer(F=F, S=S, mode=mode, dilation=dilation),
                          F, S, dilation))
        else:
            specs.append((ReLULayer, (1, 1), (1, 1), (1, 1)))
    size = [draw(st.integers(1, 2)), draw(st.integers(1, 2))]
    for _, F, S, dilation in reversed(specs):
        size = [(n - 1) * s + d * (f - 1) + 1 for n, f, s, d in zip(size, F, S, dilation)]
    layers = [make() for make, *_ in specs] + [FCLayer(K=draw(st.integers(1, 3)))]
    return Net((*size, input_depth), layers, seed=draw(st.integers(0, 2**16)))
