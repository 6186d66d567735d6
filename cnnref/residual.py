"""The residual block: the sum of a path of layers and a shortcut, y = main(X) + shortcut(X) (He et al. 2015).

Beyond the notes (their ResNet case study): the shortcut is the identity, or a 1x1 CONV with its own
batch norm (a projection) where the main path changes the depth or the size. Page: Architectures,
/architectures/#residual-block.
"""

import numpy as np

from cnnref import checks
from cnnref.layers import Layer, Row, infer
from cnnref.shapes import Field


def residual_add(main, shortcut):
    """The block's output: the main path's volume plus the shortcut's, which must have the same shape.

    Added in the promotion rule's dtype (checks.float_type): int8 volumes add in float64, never wrapping.

    >>> residual_add(np.ones((2, 2, 1)), np.full((2, 2, 1), 2.0))[:, :, 0]
    array([[3., 3.],
           [3., 3.]])
    """
    main, shortcut = checks.as_volume(main, "main"), checks.as_volume(shortcut, "shortcut")
    if main.shape != shortcut.shape:
        raise ValueError(f"the main path's output {main.shape} and the shortcut's {shortcut.shape} must have the same shape")
    return np.add(main, shortcut, dtype=checks.float_type(main, shortcut))


def _path(layers, name):
    try:
        layers = list(layers)
    except TypeError:
        raise TypeError(f"{name} must be a list of cnnref Layers, got {layers!r} ({type(layers).__name__})") from None
    for i, layer in enumerate(layers):
        if not isinstance(layer, Layer):
            raise TypeError(f"{name}[{i}] must be a cnnref Layer (ConvLayer, BatchNormLayer, ...), got {layer!r}")
    return layers


class ResidualBlock(Layer):
    """y = main(X) + shortcut(X): two paths of layers added; an empty shortcut is the identity.

    Its parameters are its layers' arrays (the same arrays) under prefixed names, "main.0.W",
    "main.1.gamma", ..., "shortcut.0.W", in path order: Net.params(), grads(), sgd_step and init
    work on a block as on any layer. Its receptive field is the largest over both paths (the union
    of their windows); its summary has one row per layer inside it, then the addition.

    >>> from cnnref import ConvLayer, ReLULayer
    >>> block = ResidualBlock([ConvLayer(K=4, F=3, P=1), ReLULayer(), ConvLayer(K=4, F=3, P=1)])
    >>> block.output_shape((8, 8, 4)), sorted(block.param_shapes((8, 8, 4)))
    ((8, 8, 4), ['main.0.W', 'main.0.b', 'main.2.W', 'main.2.b'])
    """

    kind = "RESIDUAL"

    def __init__(self, main, shortcut=()):
        self.main = _path(main, "main")
        if not self.main:
            raise ValueError("main must hold at least one layer (an empty main path would make y = 2 X)")
        self.shortcut = _path(shortcut or (), "shortcut")
        self.grads, self.X = {}, None

    def _paths(self):
        return (("main", self.main), ("shortcut", self.shortcut))

    def _named(self, attribute):
        """{"main.0.W": ...} from each inner layer's params or grads."""
        return {f"{path}.{i}.{name}": value for path, layers in self._paths() for i, layer in enumerate(layers)
                for name, value in getattr(layer, attribute).items()}

    @property
    def params(self):
        """The inner layers' parameters (the same arrays), named path.index.name."""
        return self._named("params")

    @property
    def grads(self):
        return self._named("grads")

    @grads.setter
    def grads(self, value):  # Layer code resets grads to {}: the inner layers hold them
        if value:
            raise AttributeError("a ResidualBlock's grads are its layers' grads: set those")

    @staticmethod
    def _shapes(layers, input_shape):
        shapes = [tuple(input_shape)]
        for layer in layers:
            layer.check_params(shapes[-1])
            shapes.append(tuple(layer.output_shape(shapes[-1])))
        return shapes

    def param_shapes(self, input_shape):
        return {f"{path}.{i}.{name}": shape for path, layers in self._paths()
                for i, (layer, before) in enumerate(zip(layers, self._shapes(layers, input_shape)))
                for name, shape in layer.param_shapes(before).items()}

    def output_shape(self, input_shape):
        main = self._shapes(self.main, input_shape)[-1]
        shortcut = self._shapes(self.shortcut, input_shape)[-1]
        if main != shortcut:
            what = "the input (identity shortcut)" if not self.shortcut else "the shortcut's output"
            raise ValueError(f"the main path's output {main} must have the shape of {what} {shortcut}, for an "
                             f"input of shape {tuple(input_shape)}: add a projection shortcut (1x1 CONV with that K and S)")
        strides = [tuple(f.stride for f in self._fields(layers, (Field(), Field()), input_shape)) for _, layers in self._paths()]
        if strides[0] != strides[1]:  # same shape by chance: output i of one path looks elsewhere than output i of the other
            raise ValueError(f"the main path's effective stride {strides[0]} must equal the shortcut's {strides[1]}, for an "
                             f"input of shape {tuple(input_shape)}: their outputs (both {main}) do not look at the same "
                             f"input positions, so adding them mixes unrelated pixels")
        return main

    def init(self, input_shape, rng, dtype=np.float64):
        for _, layers in self._paths():
            for layer, shape in zip(layers, self._shapes(layers, input_shape)):
                layer.init(shape, rng, dtype)
        return self

    def __call__(self, X):
        return residual_add(infer(self.main, X), infer(self.shortcut, X))  # never overwriting X, which both read

    def forward(self, X):
        """Training: every inner layer's forward (batch norm with batch statistics), then the sum."""
        self.X = X
        Y, Z = X, X
        for layer in self.main:
            Y = layer.forward(Y)
        for layer in self.shortcut:
            Z = layer.forward(Z)
        return residual_add(Y, Z)

    def backward(self, dV):
        """dL/dX = dL/dX through the main path + through the shortcut (dV itself for the identity)."""
        checks.cached(self)
        dY, dZ = dV, dV
        for layer in reversed(self.main):
            dY = layer.backward(dY)
        for layer in reversed(self.shortcut):
            dZ = layer.backward(dZ)
        return dY + dZ

    def macs(self, input_shape):
        return sum(layer.macs(shape) for _, layers in self._paths() for layer, shape in zip(layers, self._shapes(layers, input_shape)))

    def _fields(self, layers, field, input_shape):
        for layer, shape in zip(layers, self._shapes(layers, input_shape)):
            field = layer.receptive_field(field, shape)
        return field

    def receptive_field(self, field, input_shape):
        """The union of both paths' fields: the largest over all paths (Araujo et al.)."""
        main = self._fields(self.main, field, input_shape)
        shortcut = self._fields(self.shortcut, field, input_shape)
        return tuple(m.union(s) for m, s in zip(main, shortcut))

    def summary(self, input_shape, field=(Field(), Field()), level=0):
        """A row per inner layer (its field along its own path), then the addition with the block's output."""
        rows, indent = [], "  " * (level + 1)
        for path, layers in self._paths():
            path_field = field
            for layer, shape in zip(layers, self._shapes(layers, input_shape)):
                inner = layer.summary(shape, path_field, level + 1)
                if path == "shortcut":  # "  shortcut: CONV ...": told apart from the main path
                    inner = [r._replace(name=f"{indent}shortcut: {r.name[len(indent):]}") if r.level == level + 1 else r
                             for r in inner]
                rows += inner
                path_field = rows[-1].field
        output = self.output_shape(input_shape)
        name = "  " * level + ("ADD identity shortcut" if not self.shortcut else "ADD projection shortcut")
        rows.append(Row(name, output, 0, 0, int(np.prod(output)), self.receptive_field(field, input_shape), level))
        return rows

    def describe(self):
        inner = ", ".join(layer.describe() for layer in self.main)
        shortcut = ", ".join(layer.describe() for layer in self.shortcut) or "identity"
        return f"RESIDUAL main: {inner}; shortcut: {shortcut}"
