"""A small composable ConvNet: layers in order, shapes without weights, a table, training, FC -> CONV.

Defined for the notes' sections "Architecture Overview" and "Converting FC Layers to CONV Layers"
(pages: CNN notes, /dl/cnn/architecture/ and /dl/cnn/fc-layer/#converting-fc-layers-to-conv-layers).
"""

import copy
import math
import threading
import weakref

import numpy as np

from cnnref import checks, fast_conv
from cnnref.fully_connected import fc_to_conv
from cnnref.layers import BYTES, ConvLayer, FCLayer, Layer, PoolLayer, ReLULayer, Row, infer
from cnnref.shapes import Field, volume


def _count(n):
    return f"{n:,}"


def _size(value):
    return f"{value[0]}x{value[1]}" if isinstance(value, tuple) else str(value)


# Columns of Summary.table: name -> (header, the row's value as text)
COLUMNS = {
    "output": ("output", lambda r: volume(r.output)),
    "parameters": ("parameters", lambda r: _count(r.params)),
    "multiply-adds": ("multiply-adds", lambda r: _count(r.macs)),
    "activations": ("activations", lambda r: _count(r.activations)),
    "bytes": ("bytes", lambda r: _count(r.bytes)),
    "receptive field": ("receptive field", lambda r: _size(r.receptive_field)),
    "stride": ("stride", lambda r: _size(r.stride)),
}
ALL_COLUMNS = tuple(COLUMNS)


class Summary:
    """A Net's layers with what each costs for one image, as data (rows, totals) and as a table.

    rows[0] is the INPUT; then one Row per layer (a block's layers indented inside it, its output
    last). Totals: parameters, multiply-adds, and the activations a forward pass stores, the input
    included, with their bytes in float32 (a RELU works in place: it stores nothing new, as the
    cs231n notes count). The receptive field and effective stride are those of the last volume.
    """

    def __init__(self, rows):
        try:
            self.rows = list(rows)
        except TypeError:
            raise TypeError(f"rows must be a list of Rows, got {rows!r} ({type(rows).__name__})") from None
        for i, row in enumerate(self.rows):
            if not isinstance(row, Row):
                raise TypeError(f"rows[{i}] must be a Row, got {row!r} ({type(row).__name__})")
        if not self.rows:
            raise ValueError("rows is empty: a summary starts with the INPUT row")

    params = property(lambda self: sum(r.params for r in self.rows), doc="Parameters of the whole net.")
    macs = property(lambda self: sum(r.macs for r in self.rows), doc="Multiply-adds of one forward pass of one image.")
    activations = property(lambda self: sum(r.activations for r in self.rows), doc="Numbers stored by a forward pass.")
    bytes = property(lambda self: BYTES * self.activations, doc="The activations' bytes in float32.")
    @property
    def feature_row(self):
        """The row of the last volume (H, W, D): the net's last feature map, before global pooling or FC."""
        return next(r for r in reversed(self.rows) if len(r.output) == 3)

    @property
    def receptive_field(self):
        """The receptive field of one position of the last volume (the layers after it see the whole input)."""
        return self.feature_row.receptive_field

    @property
    def stride(self):
        """The effective stride of the last volume: input pixels between neighbouring positions."""
        return self.feature_row.stride

    def _cells(self, columns):
        unknown = [c for c in columns if c not in COLUMNS]
        if unknown:
            raise ValueError(f"columns: unknown {unknown}; the columns are {list(COLUMNS)}")
        body = [[r.name] + [COLUMNS[c][1](r) for c in columns] for r in self.rows]
        sums = {"parameters": self.params, "multiply-adds": self.macs, "activations": self.activations, "bytes": self.bytes}
        total = ["total"] + [_count(sums[c]) if c in sums else "" for c in columns]
        return ["layer"] + [COLUMNS[c][0] for c in columns], body, total

    def table(self, columns=("output", "parameters")):
        """The rows as text, one line each, a total last (the notes' CIFAR-10 table by default)."""
        header, body, total = self._cells(columns)
        lines = [header, *body, total]
        widths = [max(len(line[0]) for line in lines)] + [
            max(12, *(len(line[i]) for line in lines)) for i in range(1, len(header))
        ]
        return "\n".join(
            "  ".join([line[0].ljust(widths[0])] + [cell.rjust(w) for cell, w in zip(line[1:], widths[1:])]).rstrip()
            for line in lines
        )

    def markdown(self, columns=ALL_COLUMNS):
        """The rows as a Markdown table (numbers right-aligned), for the pages."""
        header, body, total = self._cells(columns)
        lines = ["| " + " | ".join(header) + " |", "|---|" + "--:|" * len(columns)]
        for row, cells in zip(self.rows, body):
            name = "&emsp;" * row.level + cells[0].strip()
            lines.append("| " + " | ".join([name, *cells[1:]]) + " |")
        lines.append("| " + " | ".join(f"**{c}**" if c else "" for c in total) + " |")
        return "\n".join(lines)

    def __repr__(self):
        return self.table(ALL_COLUMNS)


_passes = threading.local()  # each thread's buffers for each Net it runs (Net.__call__), going with the Net


def _buffers(net):
    """This thread's buffers for `net`'s inference passes: a dict, kept while both the net and the thread live."""
    by_net = getattr(_passes, "by_net", None)
    if by_net is None:
        by_net = _passes.by_net = weakref.WeakKeyDictionary()
    return by_net.setdefault(net, {})


class Net:
    """Layers applied in order to an input volume of shape input_shape = (H, W, D).

    Shapes are inferred without any weights; weights are drawn (seeded, in dtype: float64 or float32)
    on first use or by init().

    >>> net = cifar10_net()
    >>> [volume(s) for s in net.shapes()]
    ['32x32x3', '32x32x12', '32x32x12', '16x16x12', '1x1x10']
    """

    def __init__(self, input_shape, layers, seed=0, dtype=np.float64):
        self.input_shape = checks.shape(input_shape)
        self.layers = list(layers)
        for i, layer in enumerate(self.layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"layers[{i}] must be a cnnref Layer (ConvLayer, PoolLayer, ...), got {layer!r}")
        self.seed = checks.hyper(seed, "seed", 0)
        self.dtype = checks.weight_dtype(dtype)
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
        """Draw every missing weight from a generator seeded with self.seed (He initialisation), in self.dtype."""
        rng = np.random.default_rng(self.seed)
        for layer, shape in zip(self.layers, self.shapes()):
            layer.init(shape, rng, self.dtype)
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
        """Forward X (H, W, D) or (N, H, W, D) through every layer; returns the last layer's output, a new array.

        RELU and batch norm work in place on the volumes the pass makes. The volumes between layers and the
        kernels' scratch arrays go in buffers this net keeps for each calling thread, reused by its next pass
        (infer, fast_conv.keeping); they go with the net (or the thread).
        """
        buffers = _buffers(self)
        with fast_conv.keeping(buffers):
            return infer(self.layers, self._input(X), buffers)

    @property
    def total_stride(self):
        """Product of the layers' strides: how far the output moves per step of the output grid."""
        return self.summary().stride

    def summary(self, input_shape=None):
        """Per layer: output volume, parameters, multiply-adds, activations, receptive field (a Summary).

        The receptive field follows Field.grow layer by layer (the published recurrence), over every
        path of a block; it is counted on the padded input, so it may exceed the image. An FC layer
        sees its whole input volume (a filter as large as the volume).

        >>> s = cifar10_net().summary()
        >>> s.params, s.macs, s.activations, s.receptive_field
        (31066, 362496, 18442, 4)
        """
        shapes = self.shapes(input_shape)
        field = (Field(), Field())
        rows = [Row("INPUT", shapes[0], 0, 0, math.prod(shapes[0]), field)]
        for layer, shape in zip(self.layers, shapes):
            rows += layer.summary(shape, rows[-1].field)
        return Summary(rows)

    def table(self, input_shape=None, columns=("output", "parameters")):
        """The layers with their output volumes and parameter counts, as the notes list them.

        columns picks others among Summary's: output, parameters, multiply-adds, activations, bytes,
        receptive field, stride.
        """
        return self.summary(input_shape).table(columns)

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
        return Net(self.input_shape, layers, self.seed, self.dtype)

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
