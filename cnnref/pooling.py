"""Pooling: downsample every depth slice by a max (or mean) over F x F windows at stride S.

Defined for the notes' section "Pooling Layer" (page: CNN notes, /dl/cnn/pooling/). Beyond the notes,
as in PyTorch: padding P (at most F/2; minus infinity for the max, zeros counted in the mean),
dilation for the max, and the floor rule (exact=False).
"""

import numpy as np

from cnnref import checks
from cnnref.shapes import pool_output_size
from cnnref.windows import add_windows, windows, zero_pad


def _windows(X, F, S, P, dilation, exact, fill):
    """Validated X (N, H, W, D) padded with fill(dtype), its pooling windows (a view), and the pairs."""
    X = checks.as_volume(X)
    X4 = X if X.ndim == 4 else X[None]
    F, S, P = checks.pair(F, "F", 1), checks.pair(S, "S", 1), checks.pair(P, "P", 0)
    dilation = checks.pair(dilation, "dilation", 1)
    pool_output_size(X4.shape[1:3], F, S, P, dilation, exact)  # refuses what the notes refuse
    return X4, windows(zero_pad(X4, P, fill(X4.dtype)), F, S, dilation), (F, S, P, dilation)


def _lowest(dtype):
    """Padding for the max: minus infinity, or the smallest integer of an integer type."""
    return -np.inf if np.issubdtype(dtype, np.floating) else np.iinfo(dtype).min


def max_pool(X, F=2, S=2, P=0, dilation=1, exact=True):
    """Max over every F x F window at stride S of each depth slice of X (H1, W1, D) or (N, H1, W1, D).

    V[i, j, d] = max(X[i*S : i*S + F, j*S : j*S + F, d]); output (H2, W2, D) with H2 = (H1 - F)/S + 1.

    >>> X = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]])[:, :, None]
    >>> max_pool(X)[:, :, 0]   # 2x2 windows, stride 2: each output is the max of 4 numbers
    array([[6, 8],
           [3, 4]])
    """
    _, cols, _ = _windows(X, F, S, P, dilation, exact, _lowest)
    V = cols.max(axis=(3, 4))  # (N, H2, W2, D): depth unchanged
    return V if np.ndim(X) == 4 else V[0]


def avg_pool(X, F=2, S=2, P=0, exact=True):
    """Mean over every F x F window at stride S of each depth slice (average pooling).

    Padding counts as zeros in the mean (PyTorch's default, count_include_pad=True).

    >>> X = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]])[:, :, None]
    >>> avg_pool(X)[:, :, 0]
    array([[3.25, 5.25],
           [2.  , 2.  ]])
    """
    X = checks.as_volume(X)
    _, cols, _ = _windows(X.astype(checks.float_type(X), copy=False), F, S, P, 1, exact, lambda dtype: 0)
    V = cols.mean(axis=(3, 4))
    return V if X.ndim == 4 else V[0]


# Backward pass (beyond the notes: what training needs).


def _pool_backward(dV, X, F, S, P, dilation, exact, fill, route):
    """dX: route(dV (N, H2, W2, D), windows) gives each window entry's gradient, added back where it was read."""
    X4, cols, (F, S, P, dilation) = _windows(X, F, S, P, dilation, exact, fill)
    (N, H2, W2, *_), D = cols.shape, X4.shape[3]
    dV = checks.as_volume(dV, "dV", ndims=(np.ndim(X),))
    want = (N, H2, W2, D) if np.ndim(X) == 4 else (H2, W2, D)
    if dV.shape != want:
        raise ValueError(
            f"dV must have the shape of the pooled output {want} (X {np.shape(X)}, F = {F}, S = {S}, P = {P}), "
            f"got {dV.shape}"
        )
    dV4 = (dV if dV.ndim == 4 else dV[None]).astype(checks.float_type(dV), copy=False)
    dX_pad = add_windows(route(dV4, cols), (N, X4.shape[1] + 2 * P[0], X4.shape[2] + 2 * P[1], D), S, dilation)
    dX = dX_pad[:, P[0] : P[0] + X4.shape[1], P[1] : P[1] + X4.shape[2]]  # the padding's share is dropped
    return dX if np.ndim(X) == 4 else dX[0]


def max_pool_backward(dV, X, F=2, S=2, P=0, dilation=1, exact=True):
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

    def route(dV4, cols):  # the "switches": where each window's maximum was
        N, H2, W2, FH, FW, D = cols.shape
        first_max = cols.reshape(N, H2, W2, FH * FW, D).argmax(axis=3)  # (N, H2, W2, D): index a*FW + c
        hit = np.arange(FH * FW)[:, None] == first_max[:, :, :, None, :]  # (N, H2, W2, FH*FW, D)
        return np.where(hit, dV4[:, :, :, None, :], 0).astype(dV4.dtype, copy=False).reshape(cols.shape)

    return _pool_backward(dV, X, F, S, P, dilation, exact, _lowest, route)


def avg_pool_backward(dV, X, F=2, S=2, P=0, exact=True):
    """Gradient through average pooling: each window's dV is shared equally, dV/(F*F), by its F*F inputs.

    >>> avg_pool_backward(np.array([[4.0]])[:, :, None], np.zeros((2, 2, 1)))[:, :, 0]
    array([[1., 1.],
           [1., 1.]])
    """

    def route(dV4, cols):
        FH, FW = cols.shape[3:5]
        return np.broadcast_to((dV4 / (FH * FW))[:, :, :, None, None, :], cols.shape)

    return _pool_backward(dV, X, F, S, P, 1, exact, lambda dtype: 0, route)
