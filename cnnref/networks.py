"""A small composable ConvNet: layers in order, shapes without weights, a table, training, FC -> CONV.

Defined for the notes' sections "Architecture Overview" and "Converting FC Layers to CONV Layers"
(pages: CNN notes, /dl/cnn/architecture/ and /dl/cnn/fc-layer/#converting-fc-layers-to-conv-layers).
"""

import copy

import numpy as np

from cnnref import checks
from cnnref.fully_connected import fc_to_conv
from cnnref.layers import ConvLayer, FCLayer, Layer, PoolLayer, ReLULayer
from cnnref.shapes import volume


class Net:
    """Layers applied in order to an input volume of shape input_shape = (H, W, D).

    Shapes are inferred without any weights; weights are drawn (seeded) on first use or by init().

    >>> net = cifar10_net()
    >>> [volume(s) for s in net.shapes()]
    ['32x32x3', '32x32x12', '32x32x12', '16x16x12', '1x1x10']
    """

    def __init__(self, input_shape, layers, seed=0):
        self.input_shape = checks.shape(input_shape)
        self.layers = list(layers)
        for i, layer in enumerate(self.layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"layers[{i}] must be a cnnref Layer (ConvLayer, PoolLayer, ...), got {layer!r}")
        self.seed = checks.hyper(seed, "seed", 0)
        self.shapes()  # every layer must fit the one before it, and its given weights: fail now

    def shapes(self, input_shape=None):
        """The volume entering the net, then the volume after each layer."""
        shapes = [checks.shape(input_shape or self.input_shape)]
        for layer in self.layers:
            layer.check_params(shapes[-1])
            shapes.append(tuple(layer.output_shape(shapes[-1])))
        return shapes

    @property
    def initialized(self):
        return all(layer.initialized for layer in self.layers)

    def init(self):
        """Draw every missing weight from a generator seeded with self.seed (He initialisation)."""
        rng = np.random.default_rng(self.seed)
        for layer, shape in zip(self.layers, self.shapes()):
            layer.init(shape, rng)
        return self

    def _input(self, X):
        """X checked against the input the net was built for (any size that fits, with no FC layer)."""
        X = checks.as_volume(X)
        shape = X.shape[-3:]
        if any(isinstance(layer, FCLayer) for layer in self.layers):
            if shape != self.input_shape:
                raise ValueError(f"this net takes inputs of shape {self.input_shape} (H, W, D), got X of shape {X.shape}")
        elif shape[2] != self.input_shape[2]:
            raise ValueError(f"this net takes inputs of depth {self.input_shape[2]}, got X of shape {X.shape}")
        else:
            self.shapes(shape)  # a fully convolutional net slides over any input its layers fit
        if not self.initialized:
            self.init()
        return X

    def __call__(self, X):
        """Forward X (H, W, D) or (N, H, W, D) through every layer; returns the last layer's output."""
        X = self._input(X)
        for layer in self.layers:
            X = layer(X)
        return X

    @property
    def total_stride(self):
        """Product of the layers' strides: how far the output moves per step of the output grid."""
        strides = [checks.pair(getattr(layer, "S", 1), "S", 1) for layer in self.layers]
        TH, TW = int(np.prod([s[0] for s in strides])), int(np.prod([s[1] for s in strides]))
        return TH if TH == TW else (TH, TW)

    def table(self, input_shape=None):
        """The layers with their output volumes and parameter counts, as the notes list them."""
        shapes = self.shapes(input_shape)
        rows = [("INPUT", volume(shapes[0]), 0)]
        rows += [(layer.describe(), volume(after), layer.n_params(before)) for layer, before, after in zip(self.layers, shapes, shapes[1:])]
        rows.append(("total", "", sum(r[2] for r in rows)))
        width = max(len(r[0]) for r in rows)
        lines = [f"{'layer':<{width}}  {'output':>12}  {'parameters':>12}"]
        lines += [f"{name:<{width}}  {out:>12}  {params:>12,}" for name, out, params in rows]
        return "\n".join(lines)

    def __repr__(self):
        return self.table()

    def to_conv(self):
        """The same net with every FC layer turned into a CONV layer that computes the same numbers.

        The first FC layer, looking at an H x W x D volume, becomes a CONV layer with H x W filters;
        the FC layers after it become CONV layers with 1x1 filters. Weights already drawn are
        converted with fc_to_conv (copies: training one net leaves the other alone), so the converted
        net computes the original's numbers; an FC layer without weights yet becomes a CONV layer
        without weights (shapes only: nothing is allocated for a full-size net).

        >>> [volume(s) for s in alexnet_like().to_conv().shapes((384, 384, 3))][-6:]   # the notes' 384x384
        ['12x12x512', '6x6x4096', '6x6x4096', '6x6x4096', '6x6x4096', '6x6x1000']
        """
        layers = []
        for layer, shape in zip(self.layers, self.shapes()):
            if isinstance(layer, FCLayer):
                F = shape[:2] if len(shape) == 3 else 1
                W = None if layer.W is None else fc_to_conv(layer.W, shape).copy()
                b = None if layer.b is None else np.array(layer.b, copy=True)
                layers.append(ConvLayer(K=layer.K, F=F, W=W, b=b))
            else:
                layers.append(copy.deepcopy(layer))  # parameters copied too
        return Net(self.input_shape, layers, self.seed)

    # Training (beyond the notes): forward keeps what backward needs; backward fills every layer's grads.

    def forward(self, X):
        """Like net(X), but every layer keeps its input for backward()."""
        X = self._input(X)
        for layer in self.layers:
            X = layer.forward(X)
        return X

    def backward(self, dscores):
        """Backpropagate dL/dscores through the layers of the last forward(); returns dL/dX."""
        for layer in reversed(self.layers):
            dscores = layer.backward(dscores)
        return dscores

    def params(self):
        """Every parameter array, in layer order (CONV and FC layers: W, b)."""
        return [value for layer in self.layers for value in layer.params.values()]

    def grads(self):
        """The gradients of the last backward(), in the order of params()."""
        grads = [layer.grads.get(name) for layer in self.layers for name in layer.params]
        if any(g is None for g in grads):
            raise RuntimeError("no gradients yet: call forward(X) then backward(dscores) before grads() or sgd_step()")
        return grads

    def sgd_step(self, lr):
        """One step of gradient descent: every parameter p -= lr * dL/dp (in place, all or none).

        >>> net = Net((1, 1, 2), [FCLayer(K=1, W=np.array([[1.0, 2.0]]), b=np.zeros(1))])
        >>> net.forward(np.ones((1, 1, 2)))   # 1*1 + 2*1
        array([3.])
        >>> dX = net.backward(np.array([1.0]))  # L = the score: dL/dW = x = [1, 1], dL/db = 1
        >>> net.sgd_step(lr=0.5)
        >>> net.params()
        [array([[0.5, 1.5]]), array([-0.5])]
        """
        lr = checks.real(lr, "lr")
        if lr < 0:
            raise ValueError(f"lr must be non-negative (a step down the gradient), got lr = {lr}")
        params, grads = self.params(), self.grads()
        new = [p - lr * g for p, g in zip(params, grads)]
        if not all(np.all(np.isfinite(n)) for n in new):
            raise ValueError(f"lr = {lr} makes some parameters infinite or NaN; nothing was updated")
        for p, n in zip(params, new):
            p[...] = n


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
    input_size = checks.hyper(input_size, "input_size", 1)
    layers = []
    for depth in depths:
        layers += [ConvLayer(K=depth, F=1), ReLULayer(), PoolLayer(F=2, S=2)]
    for size in fc_sizes:
        layers += [FCLayer(K=size), ReLULayer()]
    layers.append(FCLayer(K=classes))
    return Net((input_size, input_size, 3), layers, seed)
