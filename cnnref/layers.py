"""The one Layer interface, and the notes' four layers: CONV, RELU, POOL and FC.

A layer knows its output shape without weights, runs forward (keeping what backward needs) and
backward (filling its grads), and names its parameters, so that a Net can build, initialise, train
and tabulate any layer without knowing its kind (micrograd's Module, numpy-ml's LayerBase).
Defined for the notes' section "Architecture Overview" (page: CNN notes, /dl/cnn/architecture/).
"""

import math
from typing import NamedTuple

import numpy as np

from cnnref import checks
from cnnref.fast_conv import conv2d_backward_fast, conv2d_fast, fc_fast, kept, max_pool_backward_fast
from cnnref.fully_connected import fc_backward
from cnnref.pooling import avg_pool, avg_pool_backward, max_pool
from cnnref.activations import relu, relu_backward
from cnnref.shapes import Field, conv_output_shape, pool_output_size

BYTES = 4  # bytes of one number in float32: the summaries' activation memory
# infer writes a layer's output into the kept buffers when its input has at least this many bytes. Smaller arrays
# come from glibc's free lists without page faults, and working out the output's shape first costs about 10 us a
# layer: LeNet-5's pass at batch 1 took 332-350 us with buffers for every CONV layer, 278-312 without.
_BUFFERS_FROM = 1 << 18


def infer(layers, X, buffers=None):
    """X through `layers` at inference, each one's output the next one's input.

    A layer that may overwrite its input (inplace: RELU, as PyTorch's nets build it; infers_in_place:
    batch norm) does so, layer(X, out=X), on the volumes made here, never on the caller's X: no new
    activation memory, and no pass writing a fresh array. With `buffers` (a dict kept between passes:
    a Net's), a layer that can write its output into a given array (writes_into: CONV) writes it
    into one of two buffers kept there, in turn, up to the last layer that makes a new volume, whose
    output is the caller's: memory reused from pass to pass, not page-faulted in again. Only from
    inputs of _BUFFERS_FROM bytes on: smaller arrays come from the allocator's free lists anyway.

    >>> infer([ReLULayer(), ReLULayer()], np.array([-1.0, 2.0]))   # the second RELU in place
    array([0., 2.])
    """
    given, turn = np.asarray(X), 0
    X = given
    last = max((i for i, layer in enumerate(layers) if not (layer.inplace or layer.infers_in_place)), default=-1)
    for i, layer in enumerate(layers):
        mine = X is not given and X.flags.writeable and not np.may_share_memory(X, given)
        if (layer.inplace or layer.infers_in_place) and mine:
            X = layer(X, out=X)
        elif buffers is not None and i < last and layer.writes_into and X.nbytes >= _BUFFERS_FROM and _keeps_dtype(layer, X):
            shape = X.shape[:-3] + tuple(layer.output_shape(X.shape[-3:]))
            X, turn = layer(X, out=kept(buffers, f"V{turn}", shape, X.dtype)), 1 - turn
        else:
            X = layer(X)
    if buffers is not None and any(np.may_share_memory(X, A) for A in (given, *buffers.values())):
        X = X.copy()  # the caller's to keep (a layer of one's own that returns a view; no layer at all)
    return X


def _keeps_dtype(layer, X):
    """Whether the layer's output has X's dtype: X float32 or float64, and every parameter of that dtype."""
    return X.dtype in (np.float32, np.float64) and all(p is None or np.asarray(p).dtype == X.dtype for p in layer.params.values())


class Row(NamedTuple):
    """One line of a Net's summary (Net.summary): a layer, its output and its cost for one image."""

    name: str  # the layer's describe(), indented two spaces per level inside a block
    output: tuple  # the output volume (H, W, D), or (n,) after an FC layer
    params: int  # parameters (weights and biases; a batch norm's gamma and beta)
    macs: int  # multiply-adds of its weighted sums (CONV, FC) for one image
    activations: int  # numbers of its output a forward pass stores (0 for a layer that works in place)
    field: tuple  # (vertical, horizontal) Field of its outputs on the net's input
    level: int = 0  # 0 for a layer of the net, 1 inside a block, ...

    @property
    def bytes(self):
        """The activations' memory in float32."""
        return BYTES * self.activations

    @property
    def receptive_field(self):
        """Input pixels one output sees: an int, or (vertical, horizontal) when they differ."""
        return _square(tuple(f.size for f in self.field))

    @property
    def stride(self):
        """Effective stride: input pixels between neighbouring outputs, an int or (vertical, horizontal)."""
        return _square(tuple(f.stride for f in self.field))


class Layer:
    """A layer of a Net: forward keeps what backward needs; parameters are named arrays.

    Subclasses set `kind`, and override output_shape, __call__ and backward; a layer with parameters
    also overrides param_shapes (and draw, if He initialisation of "W" and zeros elsewhere don't fit).
    For Net.summary, a layer with a weighted sum overrides macs, and one whose outputs look at windows
    of its input overrides window (the receptive-field recurrence needs F, S, P and dilation per axis).
    """

    kind = "LAYER"
    inplace = False  # True when the output may overwrite the input (RELU): no new activation memory; such a
    # layer takes layer(X, out=X), which a Net's inference uses on the volumes it made itself
    infers_in_place = False  # True when only inference may overwrite the input (BN: training keeps X for
    # backward): layer(X, out=X) in a Net's inference as for inplace, but summaries count its output
    writes_into = False  # True when layer(X, out=V) writes the output into a given array V (CONV): a Net's
    # inference gives it one of the buffers it keeps between passes

    def __init__(self, **params):
        self.params = dict(params)  # {"W": array or None, "b": ...}: None until drawn by init()
        self.grads = {}  # the same names, filled by backward()
        self.X = None  # the input of the last forward()

    def param_shapes(self, input_shape):
        """{name: shape} of the parameters for an input of input_shape; {} for a layer without any."""
        return {}

    def n_params(self, input_shape):
        """The number of parameters for an input of input_shape (no weights needed)."""
        return sum(math.prod(shape) for shape in self.param_shapes(input_shape).values())

    def check_params(self, input_shape):
        """Raise ValueError if a given parameter does not have the shape this layer needs for input_shape."""
        for name, shape in self.param_shapes(input_shape).items():
            value = self.params.get(name)
            if value is not None and np.shape(value) != shape:
                raise ValueError(
                    f"{self.describe()}: {name} has shape {np.shape(value)}, but an input of shape "
                    f"{tuple(input_shape)} needs {name} of shape {shape}"
                )

    @property
    def initialized(self):
        return all(value is not None for value in self.params.values())

    def init(self, input_shape, rng, dtype=np.float64):
        """Draw every missing parameter for an input of input_shape from the generator rng, in dtype."""
        dtype = checks.weight_dtype(dtype)
        for name, shape in self.param_shapes(input_shape).items():
            if self.params.get(name) is None:
                self.params[name] = self.draw(name, shape, rng, dtype)
        return self

    def draw(self, name, shape, rng, dtype=np.float64):
        """He initialisation for weights "W" (variance 2 / fan-in, the inputs of one output), zeros otherwise.

        float64 weights are rng.normal(0, std, shape); float32 weights are drawn in float32 directly
        (rng.standard_normal(shape, dtype=np.float32) * std: another stream, no float64 copy).
        """
        checks.allocation(f"{name} of {self.describe()}", shape, dtype)
        if name != "W":
            return np.zeros(shape, dtype)
        std = np.sqrt(2.0 / math.prod(shape[1:]))
        if dtype == np.float64:
            return rng.normal(0.0, std, shape)
        W = rng.standard_normal(shape, dtype=dtype)
        W *= dtype.type(std)
        return W

    def output_shape(self, input_shape):
        """The shape of the output for an input of input_shape: unchanged unless overridden."""
        return tuple(input_shape)

    def __call__(self, X):
        raise NotImplementedError

    def forward(self, X):
        """The forward pass of training: keeps X for backward()."""
        self.X = X
        return self(X)

    def backward(self, dV):
        """dL/dX from dL/dV for the X of the last forward(); fills self.grads."""
        raise NotImplementedError

    def describe(self):
        """One line for tables and figures, e.g. "CONV K=12 F=3 S=1 P=1"."""
        return self.kind

    def __repr__(self):
        return f"<{self.describe()}>"

    # What Net.summary asks of each layer; the defaults fit a layer that maps each position to itself.

    def macs(self, input_shape):
        """Multiply-adds of the layer's weighted sums for one image: 0 unless it has weights (CONV, FC).

        This counts what torchvision's "GFLOPS" column and the MobileNet paper count: the weights'
        multiply-adds. Batch norm (folded into the CONV before it at inference), pooling, RELU and the
        residual addition are not counted.
        """
        return 0

    def window(self, input_shape):
        """How an output position reads its input, per axis: ((F, S, P, dilation) vertical, (...) horizontal)."""
        return ((1, 1, 0, 1), (1, 1, 0, 1))

    def receptive_field(self, field, input_shape):
        """The (vertical, horizontal) Fields of the outputs, from those of the input (Field.grow per axis)."""
        return tuple(f.grow(*w) for f, w in zip(field, self.window(input_shape)))

    def summary(self, input_shape, field=(Field(), Field()), level=0):
        """[Row] of this layer for an input of input_shape whose positions have receptive fields `field`.

        One row; a block of layers (ResidualBlock) returns one per layer inside it, its output last.
        """
        output = tuple(self.output_shape(input_shape))
        return [Row("  " * level + self.describe(), output, self.n_params(input_shape), self.macs(input_shape),
                    0 if self.inplace else math.prod(output), self.receptive_field(field, input_shape), level)]


def _square(pair):
    """(3, 3) -> 3, (1, 7) stays (1, 7): the notes' single number when both axes agree."""
    return pair[0] if pair[0] == pair[1] else pair


def _text(value):
    return f"{value[0]}x{value[1]}" if isinstance(value, tuple) else str(value)


def _window(F, S, P, dilation):
    """((F, S, P, dilation) vertical, (...) horizontal) from ints or pairs."""
    return tuple(zip(checks.pair(F, "F", 1), checks.pair(S, "S", 1), checks.pair(P, "P", 0), checks.pair(dilation, "dilation", 1)))


class ConvLayer(Layer):
    """A CONV layer of K filters F x F x D1 at stride S with zero padding P (weights drawn by a Net).

    >>> ConvLayer(K=12, F=3, S=1, P=1).output_shape((32, 32, 3))
    (32, 32, 12)
    """

    kind = "CONV"

    def __init__(self, K, F, S=1, P=0, dilation=1, groups=1, exact=True, bias=True, W=None, b=None):
        self.K, self.groups = checks.hyper(K, "K", 1), checks.hyper(groups, "groups", 1)
        self.F, self.S = _square(checks.pair(F, "F", 1)), _square(checks.pair(S, "S", 1))
        self.P, self.dilation = _square(checks.pair(P, "P", 0)), _square(checks.pair(dilation, "dilation", 1))
        self.exact, self.bias = bool(exact), bool(bias)
        if not bias and b is not None:
            raise ValueError("b was given to a layer built with bias=False")
        super().__init__(**({"W": W, "b": b} if bias else {"W": W}))
        if W is not None:
            W = checks.as_volume(W, "W", ndims=(4,))
            if W.shape[:3] != (self.K, *checks.pair(F, "F", 1)):
                raise ValueError(f"W has shape {W.shape}, but K = {self.K} filters of F = {_text(self.F)} need (K, FH, FW, depth)")
            self.params["W"] = W

    W = property(lambda self: self.params["W"], lambda self, value: self.params.__setitem__("W", value))
    b = property(lambda self: self.params.get("b"), lambda self, value: self.params.__setitem__("b", value))

    def param_shapes(self, input_shape):
        (FH, FW), D1 = checks.pair(self.F, "F"), checks.shape(input_shape)[2]
        shapes = {"W": (self.K, FH, FW, D1 // self.groups)}
        return {**shapes, "b": (self.K,)} if self.bias else shapes

    def output_shape(self, input_shape):
        return conv_output_shape(input_shape, self.K, self.F, self.S, self.P, self.dilation, self.groups, self.exact)

    writes_into = True

    def __call__(self, X, out=None):
        return conv2d_fast(X, self.W, self.b, self.S, self.P, self.dilation, self.groups, self.exact, out=out)

    def macs(self, input_shape):
        """H2 * W2 * K outputs, each a sum of FH * FW * (D1 / groups) products."""
        H2, W2, K = self.output_shape(input_shape)
        return H2 * W2 * math.prod(self.param_shapes(input_shape)["W"])

    def window(self, input_shape):
        return _window(self.F, self.S, self.P, self.dilation)

    def backward(self, dV):
        dX, dW, db = conv2d_backward_fast(dV, checks.cached(self), self.W, self.S, self.P, self.dilation, self.groups, self.exact)
        self.grads = {"W": dW, "b": db} if self.bias else {"W": dW}
        return dX

    def describe(self):
        extra = [f"dilation={_text(self.dilation)}"] if self.dilation != 1 else []
        extra += [f"groups={self.groups}"] if self.groups != 1 else []
        extra += ["no bias"] if not self.bias else []
        return " ".join([f"CONV K={self.K} F={_text(self.F)} S={_text(self.S)} P={_text(self.P)}", *extra])


class ReLULayer(Layer):
    """The RELU layer: no parameters, output volume = input volume.

    >>> ReLULayer().output_shape((32, 32, 12))
    (32, 32, 12)
    """

    kind = "RELU"
    inplace = True  # relu(X) may overwrite X (PyTorch's inplace=True): summaries count no new activations

    def __call__(self, X, out=None):
        return relu(X) if out is None else np.maximum(X, 0, out=out)  # out=X: in place

    def backward(self, dV):
        return relu_backward(dV, checks.cached(self))


class PoolLayer(Layer):
    """The POOL layer: F x F windows at stride S, max (or "avg"); zero parameters; depth unchanged.

    >>> PoolLayer(F=2, S=2).output_shape((32, 32, 12))   # the notes' CIFAR-10 POOL layer
    (16, 16, 12)
    """

    kind = "POOL"

    def __init__(self, F=2, S=2, mode="max", P=0, dilation=1, exact=True):
        if mode not in ("max", "avg"):
            raise ValueError(f'mode must be "max" or "avg", got {mode!r}')
        self.F, self.S = _square(checks.pair(F, "F", 1)), _square(checks.pair(S, "S", 1))
        self.P, self.dilation = _square(checks.pair(P, "P", 0)), _square(checks.pair(dilation, "dilation", 1))
        if mode == "avg" and self.dilation != 1:
            raise ValueError("dilation applies to max pooling only (as in PyTorch), got dilation with mode='avg'")
        self.mode, self.exact = mode, bool(exact)
        super().__init__()

    def output_shape(self, input_shape):
        H1, W1, D1 = checks.shape(input_shape)
        return (*pool_output_size((H1, W1), self.F, self.S, self.P, self.dilation, self.exact), D1)

    def window(self, input_shape):
        return _window(self.F, self.S, self.P, self.dilation)

    def _args(self):
        return (self.F, self.S, self.P, self.dilation, self.exact) if self.mode == "max" else (self.F, self.S, self.P, self.exact)

    def __call__(self, X):
        return (max_pool if self.mode == "max" else avg_pool)(X, *self._args())

    def backward(self, dV):
        backward = max_pool_backward_fast if self.mode == "max" else avg_pool_backward  # max_pool_backward's numbers
        return backward(dV, checks.cached(self), *self._args())

    def describe(self):
        extra = [f"P={_text(self.P)}"] if self.P != 0 else []
        extra += [f"dilation={_text(self.dilation)}"] if self.dilation != 1 else []
        extra += ["avg"] if self.mode == "avg" else []
        return " ".join([f"POOL F={_text(self.F)} S={_text(self.S)}", *extra])


class FCLayer(Layer):
    """An FC layer of K neurons, each seeing the whole input volume: (H*W*D + 1) * K parameters.

    >>> FCLayer(K=10).n_params((16, 16, 12))   # the notes' CIFAR-10 FC layer
    30730
    """

    kind = "FC"

    def __init__(self, K, W=None, b=None):
        self.K = checks.hyper(K, "K", 1)
        super().__init__(W=W, b=b)
        if W is not None:
            W = checks.as_volume(W, "W", ndims=(2,))
            if W.shape[0] != self.K:
                raise ValueError(f"W has shape {W.shape}, but an FC layer of K = {self.K} neurons needs (K, inputs)")
            self.params["W"] = W

    W = ConvLayer.W
    b = ConvLayer.b

    def param_shapes(self, input_shape):
        n = math.prod(checks.shape(input_shape, ndims=(1, 3)))
        return {"W": (self.K, n), "b": (self.K,)}

    def output_shape(self, input_shape):
        self.check_params(input_shape)  # the input must fit given weights
        return (self.K,)

    def macs(self, input_shape):
        """K outputs, each a sum of H * W * D products."""
        return math.prod(self.param_shapes(input_shape)["W"])

    def window(self, input_shape):
        """Each neuron sees the whole input: a filter as large as the volume (F = H, W), or 1 after a vector."""
        shape = checks.shape(input_shape, ndims=(1, 3))
        return ((shape[0], 1, 0, 1), (shape[1], 1, 0, 1)) if len(shape) == 3 else super().window(input_shape)

    def __call__(self, X):
        """Inference: cnnref.fast_conv.fc_fast's scores (fc's, up to rounding)."""
        return fc_fast(X, self.W, self.b)

    def backward(self, dV):
        dX, dW, db = fc_backward(dV, checks.cached(self), self.W)
        self.grads = {"W": dW, "b": db}
        return dX

    def describe(self):
        return f"FC K={self.K}"
