"""The convolutional layer: output volume, parameters, zero padding and the loop-by-loop forward pass.

Defined for the notes' section "Convolutional Layer" (page: CNN notes, /dl/cnn/conv-layer/).
"""

from fractions import Fraction

import numpy as np

from cnnref import _checks


def output_size(W1, F, S=1, P=0, name="W1"):
    """Spatial output size W2 = (W1 - F + 2P)/S + 1 of a layer with filter F, stride S, zero padding P.

    P is the padding on each side. Raises ValueError, quoting the formula with the numbers, when the
    filters do not tile the padded input.

    >>> output_size(227, 11, S=4)   # AlexNet's first layer
    55
    >>> output_size(5, 3, S=2, P=1)  # the notes' demo
    3
    """
    W1 = _checks.hyper(W1, name, 1)
    F = _checks.hyper(F, "F", 1)
    S = _checks.hyper(S, "S", 1)
    P = _checks.hyper(P, "P", 0)
    if F > W1 + 2 * P:
        raise ValueError(
            f"filter F = {F} is larger than the padded input {name} + 2P = {W1} + {2 * P} = {W1 + 2 * P}"
        )
    W2 = Fraction(W1 - F + 2 * P, S) + 1
    if W2.denominator != 1:
        raise ValueError(
            f"({name} - F + 2P)/S + 1 = ({W1} - {F} + {2 * P})/{S} + 1 = {float(W2):g} is not a whole number: "
            f"stride S = {S} does not tile the padded input; change F, S or P"
        )
    return int(W2)


def conv_output_shape(input_shape, K, F, S=1, P=0):
    """Output volume (H2, W2, K) of K filters F x F at stride S with padding P on an (H1, W1, D1) input.

    >>> conv_output_shape((32, 32, 3), K=12, F=3, S=1, P=1)   # the notes' CIFAR-10 CONV layer
    (32, 32, 12)
    """
    if len(input_shape) != 3:
        raise ValueError(f"input_shape must be (H1, W1, D1), got {tuple(input_shape)}")
    H1, W1, D1 = input_shape
    _checks.hyper(D1, "D1", 1)
    K = _checks.hyper(K, "K", 1)
    return (output_size(H1, F, S, P, name="H1"), output_size(W1, F, S, P, name="W1"), K)


def conv_params(F, D1, K):
    """Parameters of a CONV layer with parameter sharing: (F*F*D1*K weights, K biases).

    >>> conv_params(F=11, D1=3, K=96)   # AlexNet's first layer: 34,848 weights and 96 biases
    (34848, 96)
    """
    F, D1, K = _checks.hyper(F, "F", 1), _checks.hyper(D1, "D1", 1), _checks.hyper(K, "K", 1)
    return F * F * D1 * K, K


def zero_pad(X, P):
    """X (H, W, D) or (N, H, W, D) with a border of P zeros on each side of both spatial axes.

    >>> zero_pad(np.ones((1, 1, 1)), 1)[:, :, 0]
    array([[0., 0., 0.],
           [0., 1., 0.],
           [0., 0., 0.]])
    """
    X = _checks.as_volume(X)
    P = _checks.hyper(P, "P", 0)
    spatial = ((P, P), (P, P), (0, 0))
    return np.pad(X, spatial if X.ndim == 3 else ((0, 0),) + spatial)


def _layer_inputs(X, W, b, S, P):
    """Validated (X as (N, H, W, D), W, b, S, P, batched?, output sizes) for conv2d and conv2d_naive."""
    X = _checks.as_volume(X)
    batched = X.ndim == 4
    X4 = X if batched else X[None]
    W = _checks.filters(W, X4.shape[3])
    K, F = W.shape[0], W.shape[1]
    dtype = _checks.float_type(X, W, b if b is not None else np.float32)
    b = _checks.bias(b, K, dtype)
    H2 = output_size(X4.shape[1], F, S, P, name="H1")
    W2 = output_size(X4.shape[2], F, S, P, name="W1")
    return X4, W, b, int(S), int(P), batched, H2, W2, dtype


# --8<-- [start:conv_naive]
def conv2d_naive(X, W, b=None, S=1, P=0):
    """Convolve X (H1, W1, D1) with K filters W (K, F, F, D1) plus biases b (K,), by explicit loops.

    V[i, j, k] = sum(X_pad[i*S : i*S + F, j*S : j*S + F, :] * W[k]) + b[k]

    This is cross-correlation, as in every deep-learning library: the filter is not flipped.
    A leading batch axis (N, H1, W1, D1) gives (N, H2, W2, K).

    >>> X, W = np.arange(9.0).reshape(3, 3, 1), np.arange(4.0).reshape(1, 2, 2, 1)
    >>> conv2d_naive(X, W, b=np.zeros(1))[:, :, 0]
    array([[19., 25.],
           [37., 43.]])
    """
    X4, W, b, S, P, batched, H2, W2, dtype = _layer_inputs(X, W, b, S, P)
    X_pad = zero_pad(X4, P)
    K, F = W.shape[0], W.shape[1]
    V = np.zeros((X4.shape[0], H2, W2, K), dtype=dtype)
    for n in range(X4.shape[0]):
        for i in range(H2):
            for j in range(W2):
                window = X_pad[n, i * S : i * S + F, j * S : j * S + F, :]  # (F, F, D1)
                for k in range(K):
                    V[n, i, j, k] = np.sum(window * W[k]) + b[k]  # elementwise product, sum, bias
    return V if batched else V[0]
# --8<-- [end:conv_naive]


class ConvLayer:
    """A CONV layer of K filters F x F x D1 at stride S with zero padding P (weights drawn by a Net).

    >>> ConvLayer(K=12, F=3, S=1, P=1).output_shape((32, 32, 3))
    (32, 32, 12)
    """

    kind = "CONV"

    def __init__(self, K, F, S=1, P=0, W=None, b=None):
        self.K, self.F = _checks.hyper(K, "K", 1), _checks.hyper(F, "F", 1)
        self.S, self.P = _checks.hyper(S, "S", 1), _checks.hyper(P, "P", 0)
        self.W, self.b = W, b

    def output_shape(self, input_shape):
        return conv_output_shape(input_shape, self.K, self.F, self.S, self.P)

    def n_params(self, input_shape):
        weights, biases = conv_params(self.F, input_shape[-1], self.K)
        return weights + biases

    def init(self, input_shape, rng):
        """He-initialised weights for an input of depth D1 and zero biases."""
        D1 = input_shape[-1]
        scale = np.sqrt(2.0 / (self.F * self.F * D1))
        self.W = rng.normal(0.0, scale, (self.K, self.F, self.F, D1))
        self.b = np.zeros(self.K)

    def __call__(self, X):
        from cnnref.im2col import conv2d

        return conv2d(X, self.W, self.b, self.S, self.P)

    def __repr__(self):
        return f"ConvLayer(K={self.K}, F={self.F}, S={self.S}, P={self.P})"

    def forward(self, X):
        """The forward pass, keeping X for backward (training)."""
        self.X = X
        return self(X)

    def backward(self, dV):
        """dL/dX from dL/dV for the X of the last forward(); keeps dL/dW and dL/db in self.dW, self.db."""
        from cnnref.im2col import conv2d_backward

        dX, self.dW, self.db = conv2d_backward(dV, _checks.cached(self), self.W, self.S, self.P)
        return dX

    def params(self):
        return [self.W, self.b]

    def grads(self):
        return [getattr(self, "dW", None), getattr(self, "db", None)]
