"""The convolutional layer: the loops, im2col and one matrix multiply, the backward pass, the transpose.

Defined for the notes' section "Convolutional Layer" (page: CNN notes, /dl/cnn/conv-layer/) and the
"Convolution arithmetic" page (/arithmetic/): rectangular filters, per-axis stride and padding,
dilation, groups, transposed convolution and the floor rule. The tuned kernel is cnnref.fast_conv.
"""

from typing import NamedTuple

import numpy as np

from cnnref import checks
from cnnref.shapes import conv_transpose_output_size, output_size
from cnnref.windows import add_windows, windows, zero_pad


class _Conv(NamedTuple):
    """Validated arguments of a convolution: X (N, H1, W1, D1) and W, b in the compute dtype, ints."""

    X: np.ndarray
    W: np.ndarray
    b: np.ndarray
    S: tuple
    P: tuple
    dilation: tuple
    groups: int
    out: tuple  # (H2, W2)
    batched: bool


def _conv_inputs(X, W, b, S, P, dilation, groups, exact, columns=True):
    """Every conv function's arguments checked once, hyperparameters as Python ints, arrays in one dtype."""
    X = checks.as_volume(X)
    X4 = X if X.ndim == 4 else X[None]
    groups = checks.hyper(groups, "groups", 1)
    W = checks.filters(W, X4.shape[3], groups)
    S, P, dilation = checks.pair(S, "S", 1), checks.pair(P, "P", 0), checks.pair(dilation, "dilation", 1)
    H2, W2 = output_size(X4.shape[1:3], W.shape[1:3], S, P, dilation, exact)
    b = None if b is None else checks.as_volume(b, "b", ndims=(1,))
    dtype = checks.float_type(X, W, *([] if b is None else [b]))
    (N, _, _, D1), (K, FH, FW, _) = X4.shape, W.shape
    checks.allocation("the output V", (N, H2, W2, K), dtype)
    if columns:
        checks.allocation("X_col", (FH * FW * D1, N * H2 * W2), dtype)
    b = checks.bias(b, K, dtype)
    return _Conv(X4.astype(dtype, copy=False), W.astype(dtype, copy=False), b, S, P, dilation, groups, (H2, W2), X.ndim == 4)


# --8<-- [start:conv_naive]
def conv2d_naive(X, W, b=None, S=1, P=0, dilation=1, groups=1, exact=True):
    """Convolve X (H1, W1, D1) with K filters W (K, F, F, D1) plus biases b (K,), by explicit loops.

    V[i, j, k] = sum(X_pad[i*S : i*S + F, j*S : j*S + F, :] * W[k]) + b[k]

    This is cross-correlation, as in every deep-learning library: the filter is not flipped.
    A leading batch axis (N, H1, W1, D1) gives (N, H2, W2, K). Beyond the notes: F, S, P may differ
    per axis; a dilated filter reads every dilation-th position; with groups, filter k sees only the
    depth slices of its group, D1 // groups of them.

    >>> X, W = np.arange(9.0).reshape(3, 3, 1), np.arange(4.0).reshape(1, 2, 2, 1)
    >>> conv2d_naive(X, W, b=np.zeros(1))[:, :, 0]
    array([[19., 25.],
           [37., 43.]])
    """
    c = _conv_inputs(X, W, b, S, P, dilation, groups, exact, columns=False)
    X_pad, (H2, W2), (SH, SW), (dH, dW) = zero_pad(c.X, c.P), c.out, c.S, c.dilation
    K, FH, FW, Dg = c.W.shape  # Dg = D1 // groups: the depth each filter sees
    V = np.zeros((len(X_pad), H2, W2, K), dtype=c.W.dtype)
    for n in range(len(X_pad)):
        for i in range(H2):
            for j in range(W2):
                for k in range(K):
                    g = k // (K // c.groups)  # filter k's group of depth slices
                    rows = slice(i * SH, i * SH + dH * (FH - 1) + 1, dH)
                    columns = slice(j * SW, j * SW + dW * (FW - 1) + 1, dW)
                    window = X_pad[n, rows, columns, g * Dg : (g + 1) * Dg]  # (FH, FW, Dg)
                    V[n, i, j, k] = np.sum(window * c.W[k]) + c.b[k]  # elementwise product, sum, bias
    return V if c.batched else V[0]
# --8<-- [end:conv_naive]


def im2col(X, F, S=1, P=0, dilation=1, exact=True):
    """Stretch every F x F x D window of X (H, W, D) into a column: X_col of shape (F*F*D, H2*W2).

    Rows are ordered like W.reshape(K, -1) for filters W (K, F, F, D); columns are the output positions
    in row-major order, so (W.reshape(K, -1) @ X_col).T.reshape(H2, W2, K) + b is the CONV layer's output.
    A batch (N, H, W, D) gives N*H2*W2 columns, image after image.

    >>> im2col(np.zeros((227, 227, 3)), F=11, S=4).shape   # the notes' X_col: [363 x 3025]
    (363, 3025)
    >>> im2col(np.arange(9.0).reshape(3, 3, 1), F=2)
    array([[0., 1., 3., 4.],
           [1., 2., 4., 5.],
           [3., 4., 6., 7.],
           [4., 5., 7., 8.]])
    """
    X = checks.as_volume(X)
    X4 = X if X.ndim == 4 else X[None]
    F, S, dilation = checks.pair(F, "F", 1), checks.pair(S, "S", 1), checks.pair(dilation, "dilation", 1)
    H2, W2 = output_size(X4.shape[1:3], F, S, P, dilation, exact)
    checks.allocation("X_col", (F[0] * F[1] * X4.shape[3], len(X4) * H2 * W2), X4.dtype)
    cols = windows(zero_pad(X4, P), F, S, dilation)  # (N, H2, W2, FH, FW, D): a view
    # The one copy, a window per row: each window's numbers lie in runs of D in X (depth last), so the copy
    # reads and writes in order. X_col, a window per column, is its transpose: a view, and matmul reads it
    # as it is (copying column by column instead took 1.4-1.6x as long).
    return cols.copy().reshape(-1, F[0] * F[1] * X4.shape[3]).T


def _by_group(X_col, FH, FW, groups):
    """Rows of X_col (FH*FW*D1, M) regrouped as (groups, FH*FW*D1/groups, M): each group's own im2col."""
    return X_col.reshape(FH, FW, groups, -1, X_col.shape[-1]).transpose(2, 0, 1, 3, 4).reshape(groups, -1, X_col.shape[-1])


# --8<-- [start:conv2d]
def conv2d(X, W, b=None, S=1, P=0, dilation=1, groups=1, exact=True):
    """The CONV layer by im2col and one matrix multiply: V = W_row @ X_col + b, the notes' algorithm.

    X (H1, W1, D1) or (N, H1, W1, D1), filters W (K, F, F, D1), biases b (K,) -> (H2, W2, K) or
    (N, H2, W2, K), the same numbers as conv2d_naive. With groups, each group of K/groups filters is
    one multiply with its own rows of X_col. cnnref.conv2d_fast computes the same, faster and in
    bounded memory.

    >>> X, W = np.arange(9.0).reshape(3, 3, 1), np.arange(4.0).reshape(1, 2, 2, 1)
    >>> conv2d(X, W, b=np.ones(1))[:, :, 0]
    array([[20., 26.],
           [38., 44.]])
    """
    c = _conv_inputs(X, W, b, S, P, dilation, groups, exact)
    (N, (H2, W2)), (K, FH, FW, _) = (len(c.X), c.out), c.W.shape
    X_col = im2col(c.X, (FH, FW), c.S, c.P, c.dilation, exact)  # (FH*FW*D1, N*H2*W2): a window per column
    X_col = _by_group(X_col, FH, FW, c.groups)  # (groups, FH*FW*D1/groups, N*H2*W2)
    W_row = c.W.reshape(c.groups, K // c.groups, -1)  # (groups, K/groups, FH*FW*D1/groups): a filter per row
    V = W_row @ X_col  # (groups, K/groups, N*H2*W2): every filter with every window
    V = V.reshape(K, N, H2, W2).transpose(1, 2, 3, 0) + c.b  # (N, H2, W2, K), plus the biases
    return V if c.batched else V[0]
# --8<-- [end:conv2d]


def _add_columns(X_col, shape, F, S, P, dilation, out):
    """The adjoint of im2col: columns (FH*FW*D, N*H2*W2) added back into a volume (N, H, W, D)."""
    (N, H, W, D), (FH, FW), (PH, PW), (H2, W2) = shape, F, P, out
    cols = X_col.reshape(FH, FW, D, N, H2, W2).transpose(3, 4, 5, 0, 1, 2)  # (N, H2, W2, FH, FW, D)
    X_pad = add_windows(cols, (N, H + 2 * PH, W + 2 * PW, D), S, dilation)
    return X_pad[:, PH : PH + H, PW : PW + W]


def col2im(X_col, input_shape, F, S=1, P=0, dilation=1, exact=True):
    """The adjoint of im2col: add every column of X_col (F*F*D, H2*W2) back where its window came from.

    Returns a volume of input_shape (H, W, D) (or (N, H, W, D)). Where windows overlap (S < F) their
    values add up, and values that land on the zero padding are dropped, so for every X and Y of
    matching shapes sum(im2col(X, F, S, P) * Y) == sum(X * col2im(Y, X.shape, F, S, P)). This is how
    the gradient of the columns returns to the input volume.

    >>> X_col = np.ones((4, 4))        # the 4 windows 2x2 of a 3x3x1 volume at stride 1, all ones
    >>> col2im(X_col, (3, 3, 1), F=2)[:, :, 0]   # each pixel counts the windows that cover it
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]])
    """
    X_col = checks.as_volume(X_col, "X_col", ndims=(2,))
    shape = checks.shape(input_shape, ndims=(3, 4))
    shape4 = shape if len(shape) == 4 else (1, *shape)
    F, S, P = checks.pair(F, "F", 1), checks.pair(S, "S", 1), checks.pair(P, "P", 0)
    dilation = checks.pair(dilation, "dilation", 1)
    H2, W2 = output_size(shape4[1:3], F, S, P, dilation, exact)
    want = (F[0] * F[1] * shape4[3], shape4[0] * H2 * W2)
    if X_col.shape != want:
        raise ValueError(
            f"X_col must have shape (FH*FW*D, N*H2*W2) = {want} for input {shape}, F = {F}, S = {S}, P = {P}, "
            f"dilation = {dilation}; got {X_col.shape}"
        )
    X = _add_columns(X_col.astype(checks.float_type(X_col), copy=False), shape4, F, S, P, dilation, (H2, W2))
    return X if len(shape) == 4 else X[0]


def _ungroup(X_col, FH, FW, groups):
    """The inverse of _by_group: (groups, FH*FW*D1/groups, M) -> rows of one X_col (FH*FW*D1, M)."""
    M = X_col.shape[-1]
    return X_col.reshape(groups, FH, FW, -1, M).transpose(1, 2, 0, 3, 4).reshape(-1, M)


def _weight_gradients(dV, X, W, S, P, dilation, groups, exact):
    """conv2d_backward's checked inputs and its dW, db: (c, dV (N, H2, W2, K) in dtype, dtype, dW, db)."""
    c = _conv_inputs(X, W, None, S, P, dilation, groups, exact)
    (N, (H2, W2)), (K, FH, FW, _), G = (len(c.X), c.out), c.W.shape, c.groups
    dV = checks.as_volume(dV, "dV", ndims=(4,) if c.batched else (3,))
    want = (N, H2, W2, K) if c.batched else (H2, W2, K)
    if dV.shape != want:
        raise ValueError(
            f"dV must have the shape of the layer's output {want} (X {c.X.shape if c.batched else c.X.shape[1:]}, "
            f"W {c.W.shape}, S = {c.S}, P = {c.P}), got {dV.shape}"
        )
    dtype = np.result_type(c.W.dtype, checks.float_type(dV))
    dV = dV.astype(dtype, copy=False).reshape(N, H2, W2, K)
    dV_row = dV.reshape(-1, G, K // G).transpose(1, 2, 0)  # (G, K/G, N*H2*W2)
    X_col = _by_group(im2col(c.X, (FH, FW), c.S, c.P, c.dilation, exact).astype(dtype, copy=False), FH, FW, G)
    dW = (dV_row @ X_col.transpose(0, 2, 1)).reshape(c.W.shape)  # every window, weighted by its dV
    db = dV_row.sum(axis=2).reshape(K)
    return c, dV, dtype, dW, db


def conv2d_backward(dV, X, W, S=1, P=0, dilation=1, groups=1, exact=True):
    """Gradients of a loss through the CONV layer: given dV = dL/dV, return (dX, dW, db).

    X (H1, W1, D1) or (N, H1, W1, D1) and W (K, F, F, D1) are the forward pass's inputs; dV has the
    output's shape (H2, W2, K) or (N, H2, W2, K). With V = W_row @ X_col + b (see conv2d) and
    dV_row = dV.reshape(-1, K).T, summing over the batch:

    dW_row = dV_row @ X_col.T, i.e. dW[k] = sum over positions (i, j) of dV[i, j, k] * window(i, j);
    db[k] = sum of dV[..., k]; dX = col2im(W_row.T @ dV_row), each window's gradient added back where it came from.

    >>> X, W = np.arange(9.0).reshape(3, 3, 1), np.ones((1, 2, 2, 1))
    >>> dX, dW, db = conv2d_backward(np.ones((2, 2, 1)), X, W)   # L = sum(V)
    >>> dX[:, :, 0]      # how many windows cover each pixel
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]])
    >>> dW[0, :, :, 0]   # e.g. dW[0, 0, 0] = 0 + 1 + 3 + 4: the top-left pixel of every window
    array([[ 8., 12.],
           [20., 24.]])
    >>> db
    array([4.])
    """
    c, dV, dtype, dW, db = _weight_gradients(dV, X, W, S, P, dilation, groups, exact)
    (K, FH, FW, _), G = c.W.shape, c.groups
    dV_row = dV.reshape(-1, G, K // G).transpose(1, 2, 0)  # (G, K/G, N*H2*W2)
    W_row = c.W.reshape(G, K // G, -1).astype(dtype, copy=False)  # (G, K/G, FH*FW*D1/G)
    # (FH*FW*D1, N*H2*W2): each window's gradient, W_row.T @ dV_row computed as (dV_row.T @ W_row).T, the same
    # numbers stored window by window, so that _add_columns reads each window's D1 numbers in one run
    dX_col = _ungroup((dV_row.transpose(0, 2, 1) @ W_row).transpose(0, 2, 1), FH, FW, G)
    dX = _add_columns(dX_col, c.X.shape, (FH, FW), c.S, c.P, c.dilation, c.out)
    return (dX if c.batched else dX[0]), dW, db


def conv_transpose2d(Y, W, b=None, S=1, P=0, output_padding=0, dilation=1, groups=1):
    """The transposed convolution: the adjoint of conv2d with the same filters, plus biases b (D,).

    Y (H2, W2, K) or (N, H2, W2, K) and W (K, FH, FW, D // groups) -> (H1, W1, D) or (N, H1, W1, D),
    H1 = S (H2 - 1) + dilation (FH - 1) + 1 - 2P + output_padding. Each input number spreads its filter,
    scaled, over the window it would have come from; overlaps add up. It is conv2d_backward's dX, and
    the upsampling layer of U-Net and GAN generators. sum(conv2d(X, W) * Y) == sum(X * conv_transpose2d(Y, W)).

    >>> W = np.ones((1, 2, 2, 1))
    >>> conv_transpose2d(np.array([[1.0, 2.0], [3.0, 4.0]])[:, :, None], W, S=2)[:, :, 0]
    array([[1., 1., 2., 2.],
           [1., 1., 2., 2.],
           [3., 3., 4., 4.],
           [3., 3., 4., 4.]])
    """
    c = _transpose_inputs(Y, W, b, S, P, output_padding, dilation, groups)
    (N, H2, W2, K), (_, FH, FW, Dg), groups = c.X.shape, c.W.shape, c.groups
    Y_row = c.X.reshape(-1, groups, K // groups).transpose(1, 2, 0)  # (G, K/G, N*H2*W2)
    W_row = c.W.reshape(groups, K // groups, -1)  # (G, K/G, FH*FW*Dg)
    # (FH*FW*D, N*H2*W2): a window each, W_row.T @ Y_row computed as (Y_row.T @ W_row).T (as in conv2d_backward)
    X_col = _ungroup((Y_row.transpose(0, 2, 1) @ W_row).transpose(0, 2, 1), FH, FW, groups)
    X = _add_columns(X_col, (N, *c.out, Dg * groups), (FH, FW), c.S, c.P, c.dilation, (H2, W2)) + c.b
    return X if c.batched else X[0]


def _transpose_inputs(Y, W, b, S, P, output_padding, dilation, groups):
    """conv_transpose2d's arguments checked: a _Conv whose X is Y (N, H2, W2, K) and whose out is (H1, W1)."""
    Y = checks.as_volume(Y, "Y")
    Y4 = Y if Y.ndim == 4 else Y[None]
    groups = checks.hyper(groups, "groups", 1)
    W = checks.as_volume(W, "W", ndims=(4,))
    (N, H2, W2, K), (_, FH, FW, Dg) = Y4.shape, W.shape
    if W.shape[0] != K or K % groups:
        raise ValueError(
            f"W {W.shape} must have one filter per depth slice of Y (K = {K}), in groups = {groups} that divide K"
        )
    S, P, dilation = checks.pair(S, "S", 1), checks.pair(P, "P", 0), checks.pair(dilation, "dilation", 1)
    H1, W1 = conv_transpose_output_size((H2, W2), (FH, FW), S, P, output_padding, dilation)
    b = None if b is None else checks.as_volume(b, "b", ndims=(1,))
    dtype = checks.float_type(Y, W, *([] if b is None else [b]))
    checks.allocation("the output", (N, H1, W1, Dg * groups), dtype)
    b = checks.bias(b, Dg * groups, dtype)
    return _Conv(Y4.astype(dtype, copy=False), W.astype(dtype, copy=False), b, S, P, dilation, groups, (H1, W1), Y.ndim == 4)
