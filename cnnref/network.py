"""A small composable ConvNet: layers with a forward pass, output-shape inference and a table of shapes.

Defined for the notes' sections "Architecture Overview" and "Converting FC Layers to CONV Layers"
(pages: CNN notes, /dl/cnn/architecture/ and
/dl/cnn/fc-layer/#converting-fc-layers-to-conv-layers).
"""

import copy

import numpy as np

from cnnref import _checks
from cnnref.conv_layer import ConvLayer
from cnnref.fully_connected import FCLayer
from cnnref.pooling import PoolLayer
from cnnref.relu import ReLULayer


def volume(shape):
    """A shape written as the notes write volumes, width x height x depth; a vector (n,) is 1x1xn.

    >>> volume((32, 32, 3)), volume((10,))
    ('32x32x3', '1x1x10')
    """
    if len(shape) == 1:
        return f"1x1x{shape[0]}"
    H, W, D = shape
    return f"{W}x{H}x{D}"


class Net:
    """Layers applied in order to an input volume of shape input_shape = (H, W, D).

    Shapes are inferred without any weights; weights are drawn (seeded) on first use or by init().

    >>> net = cifar10_net()
    >>> [volume(s) for s in net.shapes()]
    ['32x32x3', '32x32x12', '32x32x12', '16x16x12', '1x1x10']
    """

    def __init__(self, input_shape, layers, seed=0):
        input_shape = tuple(input_shape)
        if len(input_shape) != 3:
            raise ValueError(f"input_shape must be (H, W, D), got {input_shape}")
        for n, name in zip(input_shape, ("H", "W", "D")):
            _checks.hyper(n, name, 1)
        self.input_shape, self.layers, self.seed = input_shape, list(layers), seed
        self.shapes()  # every layer must fit the one before it: fail now, with the layer's own message

    def shapes(self, input_shape=None):
        """The volume entering the net, then the volume after each layer."""
        shapes = [tuple(input_shape or self.input_shape)]
        for layer in self.layers:
            shapes.append(tuple(layer.output_shape(shapes[-1])))
        return shapes

    @property
    def initialized(self):
        return all(getattr(layer, "W", 0) is not None for layer in self.layers)

    def init(self):
        """Draw every missing weight from a generator seeded with self.seed (He initialisation)."""
        rng = np.random.default_rng(self.seed)
        for layer, shape in zip(self.layers, self.shapes()):
            if getattr(layer, "W", 0) is None:
                layer.init(shape, rng)
        return self

    def __call__(self, X):
        """Forward X (H, W, D) or (N, H, W, D) through every layer; returns the last layer's output."""
        if not self.initialized:
            self.init()
        for layer in self.layers:
            X = layer(X)
        return X

    @property
    def total_stride(self):
        """Product of the CONV and POOL strides: how far the output moves per step of the output grid."""
        stride = 1
        for layer in self.layers:
            stride *= getattr(layer, "S", 1)
        return stride

    def table(self, input_shape=None):
        """The layers with their output volumes and parameter counts, as the notes list them."""
        shapes = self.shapes(input_shape)
        rows = [("INPUT", volume(shapes[0]), 0)]
        for layer, before, after in zip(self.layers, shapes, shapes[1:]):
            rows.append((_describe(layer), volume(after), layer.n_params(before)))
        rows.append(("total", "", sum(r[2] for r in rows)))
        width = max(len(r[0]) for r in rows)
        lines = [f"{'layer':<{width}}  {'output':>12}  {'parameters':>12}"]
        lines += [f"{name:<{width}}  {out:>12}  {params:>12,}" for name, out, params in rows]
        return "\n".join(lines)

    def __repr__(self):
        return self.table()

    def to_conv(self):
        """The same net with every FC layer turned into a CONV layer that computes the same numbers.

        The first FC layer, looking at an H x H x D volume, becomes a CONV layer with F = H; the FC layers
        after it become CONV layers with F = 1. Weights already drawn are converted with fc_to_conv, so
        the converted net computes the original's numbers; an FC layer without weights yet becomes a
        CONV layer without weights (shapes only: nothing is allocated for a full-size net).

        >>> [volume(s) for s in alexnet_like().to_conv().shapes((384, 384, 3))][-6:]   # the notes' 384x384
        ['12x12x512', '6x6x4096', '6x6x4096', '6x6x4096', '6x6x4096', '6x6x1000']
        """
        from cnnref.fc_to_conv import fc_to_conv

        layers = []
        for layer, shape in zip(self.layers, self.shapes()):
            if isinstance(layer, FCLayer):
                F = shape[0] if len(shape) == 3 else 1
                W = None if layer.W is None else fc_to_conv(layer.W, shape)
                b = None if layer.b is None else layer.b.copy()
                layers.append(ConvLayer(K=layer.K, F=F, W=W, b=b))
            else:
                layers.append(copy.copy(layer))  # the weights are shared, the layer objects are not
        return Net(self.input_shape, layers, self.seed)

    # Training (beyond the notes): forward keeps what backward needs; backward fills every layer's grads.

    def forward(self, X):
        """Like net(X), but every layer keeps its input for backward()."""
        if not self.initialized:
            self.init()
        for layer in self.layers:
            X = layer.forward(X)
        return X

    def backward(self, dscores):
        """Backpropagate dL/dscores through the layers of the last forward(); returns dL/dX."""
        for layer in reversed(self.layers):
            dscores = layer.backward(dscores)
        return dscores

    def params(self):
        """Every weight and bias array, in layer order (CONV and FC layers: W, b)."""
        return [p for layer in self.layers if hasattr(layer, "params") for p in layer.params()]

    def grads(self):
        """dL/dW and dL/db of the last backward(), in the order of params()."""
        grads = [g for layer in self.layers if hasattr(layer, "grads") for g in layer.grads()]
        if any(g is None for g in grads):
            raise RuntimeError("no gradients yet: call forward(X) then backward(dscores) before grads() or sgd_step()")
        return grads

    def sgd_step(self, lr):
        """One step of gradient descent: every parameter p -= lr * dL/dp (in place).

        >>> from cnnref import FCLayer
        >>> net = Net((1, 1, 2), [FCLayer(K=1, W=np.array([[1.0, 2.0]]), b=np.zeros(1))])
        >>> net.forward(np.ones((1, 1, 2)))   # 1*1 + 2*1
        array([3.])
        >>> dX = net.backward(np.array([1.0]))  # L = the score: dL/dW = x = [1, 1], dL/db = 1
        >>> net.sgd_step(lr=0.5)
        >>> net.params()
        [array([[0.5, 1.5]]), array([-0.5])]
        """
        for p, g in zip(self.params(), self.grads()):
            p -= lr * g


def _describe(layer):
    if isinstance(layer, ConvLayer):
        return f"CONV K={layer.K} F={layer.F} S={layer.S} P={layer.P}"
    if isinstance(layer, PoolLayer):
        return f"POOL F={layer.F} S={layer.S}" + (" avg" if layer.mode == "avg" else "")
    if isinstance(layer, FCLayer):
        return f"FC K={layer.K}"
    return layer.kind


def cifar10_net(seed=0):
    """The notes' CIFAR-10 example: INPUT 32x32x3 -> CONV 12 filters -> RELU -> POOL -> FC 10 scores.

    >>> print(cifar10_net().table())
    layer                        output    parameters
    INPUT                       32x32x3             0
    CONV K=12 F=3 S=1 P=1      32x32x12           336
    RELU                       32x32x12             0
    POOL F=2 S=2               16x16x12             0
    FC K=10                      1x1x10        30,730
    total                                      31,066
    """
    return Net((32, 32, 3), [ConvLayer(K=12, F=3, S=1, P=1), ReLULayer(), PoolLayer(F=2, S=2), FCLayer(K=10)], seed)


def alexnet_like(input_size=224, depths=(64, 128, 256, 512, 512), fc_sizes=(4096, 4096), classes=1000, seed=0):
    """An AlexNet-style net: 5 blocks of CONV + RELU + POOL 2x2 halve the input 5 times (a reduction by
    32: 224 -> 7x7x512), then FC 4096 -> FC 4096 -> FC 1000 class scores, as in the notes' example.

    The blocks' CONV layers are 1x1 (F = 1, P = 0) so that no layer pads: then the converted net slid
    over a larger image equals the original net on every crop exactly. (With zero padding a crop sees
    zeros at its border where the larger image has pixels, so the scores would differ near the borders.)
    Defaults are the notes' sizes (shapes only: weights are drawn only when used); tests and notebooks
    pass smaller depths.

    >>> [volume(s) for s in alexnet_like().shapes()][-6:]
    ['7x7x512', '1x1x4096', '1x1x4096', '1x1x4096', '1x1x4096', '1x1x1000']
    """
    layers = []
    for depth in depths:
        layers += [ConvLayer(K=depth, F=1), ReLULayer(), PoolLayer(F=2, S=2)]
    for size in fc_sizes:
        layers += [FCLayer(K=size), ReLULayer()]
    layers.append(FCLayer(K=classes))
    return Net((input_size, input_size, 3), layers, seed)
