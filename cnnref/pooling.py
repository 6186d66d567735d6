"""Pooling: downsample every depth slice by a max (or mean) over F x F windows at stride S.

Defined for the notes' section "Pooling Layer" (page: CNN notes, /dl/cnn/pooling/). Beyond the notes,
as in PyTorch: padding P (at most F/2; minus infinity for the max, zeros counted in the mean),
dilation for the max, and the floor rule (exact=False).
"""

import numpy as np

from cnnref import checks
from cnnref.shapes import pool_output_size
from cnnref.windows import add_windows, windows, zero_pad


def _windows(X, F, S, P, dilation, exact, fill, dtype=None):
    """Validated X (N, H, W, D) padded with fill(dtype), its pooling windows (a view), and the pairs.

    The output (N, H2, W2, D), of `dtype` (X's by default), is checked to fit in memory.
    """
    X = checks.as_volume(X)
    X4 = X if X.ndim == 4 else X[None]
    F, S, P = checks.pair(F, "F", 1), checks.pair(S, "S", 1), checks.pair(P, "P", 0)
    dilation = checks.pair(dilation, "dilation", 1)
    H2, W2 = pool_output_size(X4.shape[1:3], F, S, P, dilation, exact)  # refuses what the notes refuse
    checks.allocation("the pooled output", (len(X4), H2, W2, X4.shape[3]), dtype or X4.dtype)
    return X4, windows(zero_pad(X4, P, fill(X4.dtype)), F, S, dilation), (F, S, P, dilation)


def _lowest(dtype):
    """Padding for the max: minus infinity, or the smallest integer of an integer type."""
    return -np.inf if np.issubdtype(dtype, np.floating) else np.iinfo(dtype).min


def _inside(X4, F, S, P, dilation):
    """A view (1, H2, W2, FH, FW, 1) of the windows' taps: True where a tap reads X, False on the padding."""
    ones = np.ones((1, *X4.shape[1:3], 1), np.int8)
    return windows(zero_pad(ones, P), F, S, dilation) > 0


def _max_padding(X4, F, S, P, dilation):
    """Where the max may read padding: the taps inside X, after refusing an integer window of padding only.

    Floats pad with -inf, and a window of padding only gives -inf; integers have none (their padding
    is the smallest integer), so such a window is refused for them. None when nothing is padded.
    """
    if not any(P):
        return None
    inside = _inside(X4, F, S, P, dilation)
    empty = ~inside.any(axis=(3, 4))[0, :, :, 0]  # (H2, W2)
    if empty.any() and X4.dtype.kind in "iu":
        i, j = np.argwhere(empty)[0]
        raise ValueError(
            f"window ({i}, {j}) reads only padding (P = {P}, dilation = {dilation}): its max is -inf, which an "
            f"integer X ({X4.dtype}) cannot hold; reduce P or dilation, or pass floats"
        )
    return inside


def max_pool(X, F=2, S=2, P=0, dilation=1, exact=True):
    """Max over every F x F window at stride S of each depth slice of X (H1, W1, D) or (N, H1, W1, D).

    V[i, j, d] = max(X[i*S : i*S + F, j*S : j*S + F, d]); output (H2, W2, D) with H2 = (H1 - F)/S + 1.
    Padding counts as minus infinity (a window of padding only gives -inf); an integer X, which has
    none, keeps its dtype, padded with its smallest integer, and a window of padding only is refused.

    >>> X = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]])[:, :, None]
    >>> max_pool(X)[:, :, 0]   # 2x2 windows, stride 2: each output is the max of 4 numbers
    array([[6, 8],
           [3, 4]])
    """
    X4, cols, (F, S, P, dilation) = _windows(X, F, S, P, dilation, exact, _lowest)
    _max_padding(X4, F, S, P, dilation)
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
    dtype = checks.float_type(X)
    _, cols, _ = _windows(X, F, S, P, 1, exact, lambda _: 0, dtype)
    V = cols.mean(axis=(3, 4), dtype=dtype)  # summed in dtype: no converted copy of X
    return V if X.ndim == 4 else V[0]


# Backward pass (beyond the notes: what training needs).


def _backward_inputs(dV, X, F, S, P, dilation, exact, fill):
    """X4, its windows, the pairs (F, S, P, dilation), the taps inside X (max pooling with padding) or None, and
    dV (N, H2, W2, D) in its float type, after checking that dV has the pooled output's shape."""
    X4, cols, (F, S, P, dilation) = _windows(X, F, S, P, dilation, exact, fill)
    inside = _max_padding(X4, F, S, P, dilation) if fill is _lowest else None
    (N, H2, W2, *_), D = cols.shape, X4.shape[3]
    dV = checks.as_volume(dV, "dV", ndims=(np.ndim(X),))
    want = (N, H2, W2, D) if np.ndim(X) == 4 else (H2, W2, D)
    if dV.shape != want:
        raise ValueError(
            f"dV must have the shape of the pooled output {want} (X {np.shape(X)}, F = {F}, S = {S}, P = {P}), "
            f"got {dV.shape}"
        )
    dV4 = (dV if dV.ndim == 4 else dV[None]).astype(checks.float_type(dV), copy=False)
    return X4, cols, (F, S, P, dilation), inside, dV4


def _pool_backward(dV, X, F, S, P, dilation, exact, fill, route):
    """dX: route(dV (N, H2, W2, D), windows, taps inside X or None) gives each window entry's gradient, added
    back where it was read."""
    X4, cols, (F, S, P, dilation), inside, dV4 = _backward_inputs(dV, X, F, S, P, dilation, exact, fill)
    N, D = len(X4), X4.shape[3]
    dX_pad = add_windows(route(dV4, cols, inside), (N, X4.shape[1] + 2 * P[0], X4.shape[2] + 2 * P[1], D), S, dilation)
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

    def route(dV4, cols, inside):  # the "switches": where each window's maximum was
        N, H2, W2, FH, FW, D = cols.shape
        checks.allocation("the gradient of every window entry", cols.shape, dV4.dtype)
        taps = cols.reshape(N, H2, W2, FH * FW, D)
        hit = taps == taps.max(axis=3, keepdims=True)
        if inside is not None:  # the padding ties with X's smallest integer: it never takes the gradient
            hit &= inside.reshape(1, H2, W2, FH * FW, 1)
        first_max = hit.argmax(axis=3)  # (N, H2, W2, D): index a*FW + c of the first maximum inside X
        hit = np.arange(FH * FW)[:, None] == first_max[:, :, :, None, :]  # (N, H2, W2, FH*FW, D)
        return np.where(hit, dV4[:, :, :, None, :], 0).astype(dV4.dtype, copy=False).reshape(cols.shape)

    return _pool_backward(dV, X, F, S, P, dilation, exact, _lowest, route)


def avg_pool_backward(dV, X, F=2, S=2, P=0, exact=True):
    """Gradient through average pooling: each window's dV is shared equally, dV/(F*F), by its F*F inputs.

    >>> avg_pool_backward(np.array([[4.0]])[:, :, None], np.zeros((2, 2, 1)))[:, :, 0]
    array([[1., 1.],
           [1., 1.]])
    """

    def route(dV4, cols, inside):
        FH, FW = cols.shape[3:5]
        return np.broadcast_to((dV4 / (FH * FW))[:, :, :, None, None, :], cols.shape)

    return _pool_backward(dV, X, F, S, P, 1, exact, lambda dtype: 0, route)
