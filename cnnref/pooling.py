"""The pooling layer: downsample every depth slice by a max (or mean) over F x F windows at stride S.

Defined for the notes' section "Pooling Layer" (page: CNN notes, /dl/cnn/pooling/).
"""

import numpy as np
from numpy.lib.stride_tricks import as_strided

from cnnref import _checks
from cnnref.conv_layer import output_size


def pool_output_size(W1, F=2, S=2, name="W1"):
    """W2 = (W1 - F)/S + 1: pooling pads nothing. ValueError when the windows do not tile.

    >>> pool_output_size(32, F=2, S=2)   # the notes' CIFAR-10 POOL: 32 -> 16
    16
    >>> pool_output_size(5, F=3, S=2)    # overlapping pooling
    2
    """
    return output_size(W1, F, S, 0, name=name)


def _pool(X, F, S, reduce):
    X = _checks.as_volume(X)
    F, S = _checks.hyper(F, "F", 1), _checks.hyper(S, "S", 1)
    X4 = X if X.ndim == 4 else X[None]
    N, H1, W1, D = X4.shape
    H2, W2 = pool_output_size(H1, F, S, name="H1"), pool_output_size(W1, F, S, name="W1")
    sN, sH, sW, sD = X4.strides
    windows = as_strided(X4, (N, H2, W2, F, F, D), (sN, sH * S, sW * S, sH, sW, sD), writeable=False)
    V = reduce(windows, axis=(3, 4))  # (N, H2, W2, D): depth unchanged
    return V if X.ndim == 4 else V[0]


def max_pool(X, F=2, S=2):
    """Max over every F x F window at stride S of each depth slice of X (H1, W1, D) or (N, H1, W1, D).

    V[i, j, d] = max(X[i*S : i*S + F, j*S : j*S + F, d]); output (H2, W2, D) with H2 = (H1 - F)/S + 1.

    >>> X = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]])[:, :, None]
    >>> max_pool(X)[:, :, 0]   # 2x2 windows, stride 2: each output is the max of 4 numbers
    array([[6, 8],
           [3, 4]])
    """
    return _pool(X, F, S, np.max)


def avg_pool(X, F=2, S=2):
    """Mean over every F x F window at stride S of each depth slice (average pooling).

    >>> X = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]])[:, :, None]
    >>> avg_pool(X)[:, :, 0]
    array([[3.25, 5.25],
           [2.  , 2.  ]])
    """
    return _pool(X, F, S, np.mean)


class PoolLayer:
    """The POOL layer: F x F windows at stride S, max (or "avg"); zero parameters; depth unchanged.

    >>> PoolLayer(F=2, S=2).output_shape((32, 32, 12))   # the notes' CIFAR-10 POOL layer
    (16, 16, 12)
    """

    kind = "POOL"

    def __init__(self, F=2, S=2, mode="max"):
        self.F, self.S = _checks.hyper(F, "F", 1), _checks.hyper(S, "S", 1)
        if mode not in ("max", "avg"):
            raise ValueError(f'mode must be "max" or "avg", got {mode!r}')
        self.mode = mode

    def output_shape(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(f"POOL needs a volume (H1, W1, D1), got shape {tuple(input_shape)}")
        H1, W1, D1 = input_shape
        return (pool_output_size(H1, self.F, self.S, "H1"), pool_output_size(W1, self.F, self.S, "W1"), D1)

    def n_params(self, input_shape):
        return 0

    def __call__(self, X):
        return (max_pool if self.mode == "max" else avg_pool)(X, self.F, self.S)

    def __repr__(self):
        return f"PoolLayer(F={self.F}, S={self.S}" + (", mode='avg')" if self.mode == "avg" else ")")

    def forward(self, X):
        """The forward pass, keeping X for backward (training)."""
        self.X = X
        return self(X)

    def backward(self, dV):
        """dL/dX from dL/dV, for the X of the last forward()."""
        backward = max_pool_backward if self.mode == "max" else avg_pool_backward
        return backward(dV, _checks.cached(self), self.F, self.S)


# Backward pass (beyond the notes: what training needs).


def _pool_backward(dV, X, F, S, route):
    """Validated inputs, then dX: route(dV, windows) -> (N, H2, W2, F*F, D) gradient per window entry."""
    X = _checks.as_volume(X)
    F, S = _checks.hyper(F, "F", 1), _checks.hyper(S, "S", 1)
    X4 = X if X.ndim == 4 else X[None]
    N, H1, W1, D = X4.shape
    H2, W2 = pool_output_size(H1, F, S, name="H1"), pool_output_size(W1, F, S, name="W1")
    dV = _checks.as_volume(dV, "dV", ndims=(X.ndim,))
    want = (N, H2, W2, D) if X.ndim == 4 else (H2, W2, D)
    if dV.shape != want:
        raise ValueError(
            f"dV must have the shape of the pooled output {want} (X {X.shape}, F = {F}, S = {S}), got {dV.shape}"
        )
    dV4 = dV if X.ndim == 4 else dV[None]
    sN, sH, sW, sD = X4.strides
    windows = as_strided(X4, (N, H2, W2, F, F, D), (sN, sH * S, sW * S, sH, sW, sD), writeable=False)
    dwin = route(dV4, windows.reshape(N, H2, W2, F * F, D))  # (N, H2, W2, F*F, D)
    dX = np.zeros(X4.shape, dtype=dwin.dtype)
    for a in range(F):  # F*F vectorised adds; overlapping windows (S < F) add up
        for c in range(F):
            dX[:, a : a + S * H2 : S, c : c + S * W2 : S, :] += dwin[:, :, :, a * F + c, :]
    return dX if X.ndim == 4 else dX[0]


def max_pool_backward(dV, X, F=2, S=2):
    """Gradient through max pooling: each window's dV goes to the position of its maximum in X.

    X (H1, W1, D) or (N, H1, W1, D) is the forward pass's input, dV the pooled output's shape.
    dX[i*S + a, j*S + c, d] += dV[i, j, d] where (a, c) = argmax of X[i*S : i*S + F, j*S : j*S + F, d];
    every other entry of the window gets 0. Ties: the first maximum in row-major order within the
    window (numpy.argmax) takes all of it. Overlapping windows (S < F) add their gradients.

    >>> X = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]])[:, :, None]
    >>> max_pool_backward(np.array([[10.0, 20.0], [30.0, 40.0]])[:, :, None], X)[:, :, 0]
    array([[ 0.,  0.,  0.,  0.],
           [ 0., 10.,  0., 20.],
           [30.,  0.,  0.,  0.],
           [ 0.,  0.,  0., 40.]])
    """

    def route(dV4, windows):
        first_max = windows.argmax(axis=3)[:, :, :, None, :]  # (N, H2, W2, 1, D): index a*F + c
        hit = np.arange(windows.shape[3])[None, None, None, :, None] == first_max
        return np.where(hit, dV4[:, :, :, None, :], 0).astype(_checks.float_type(dV4), copy=False)

    return _pool_backward(dV, X, F, S, route)


def avg_pool_backward(dV, X, F=2, S=2):
    """Gradient through average pooling: each window's dV is shared equally, dV/(F*F), by its F*F inputs.

    >>> avg_pool_backward(np.array([[4.0]])[:, :, None], np.zeros((2, 2, 1)))[:, :, 0]
    array([[1., 1.],
           [1., 1.]])
    """

    def route(dV4, windows):
        share = dV4.astype(_checks.float_type(dV4), copy=False) / (F * F)
        return np.broadcast_to(share[:, :, :, None, :], windows.shape[:3] + (F * F,) + windows.shape[4:])

    return _pool_backward(dV, X, F, S, route)
