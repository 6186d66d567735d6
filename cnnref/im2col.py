"""im2col: the CONV layer's forward pass as one big matrix multiply.

Defined for the notes' important note "Implementation as Matrix Multiplication" (page: CNN notes, /dl/cnn/).
"""

import numpy as np
from numpy.lib.stride_tricks import as_strided

from cnnref import _checks
from cnnref.conv_layer import _layer_inputs, output_size, zero_pad


def _windows(X_pad, F, S, H2, W2):
    """A read-only view (N, H2, W2, F, F, D) of every F x F window of X_pad (N, H, W, D) at stride S."""
    sN, sH, sW, sD = X_pad.strides
    N, D = X_pad.shape[0], X_pad.shape[3]
    return as_strided(
        X_pad, (N, H2, W2, F, F, D), (sN, sH * S, sW * S, sH, sW, sD), writeable=False
    )


def im2col(X, F, S=1, P=0):
    """Stretch every F x F x D window of X (H, W, D) into a column: X_col of shape (F*F*D, H2*W2).

    Rows are ordered like W.reshape(K, -1) for filters W (K, F, F, D); columns are the output positions
    in row-major order, so (W.reshape(K, -1) @ X_col).T.reshape(H2, W2, K) + b is the CONV layer's output.

    >>> im2col(np.zeros((227, 227, 3)), F=11, S=4).shape   # the notes' X_col: [363 x 3025]
    (363, 3025)
    >>> im2col(np.arange(9.0).reshape(3, 3, 1), F=2)
    array([[0., 1., 3., 4.],
           [1., 2., 4., 5.],
           [3., 4., 6., 7.],
           [4., 5., 7., 8.]])
    """
    X = _checks.as_volume(X, ndims=(3,))
    F = _checks.hyper(F, "F", 1)
    H2 = output_size(X.shape[0], F, S, P, name="H1")
    W2 = output_size(X.shape[1], F, S, P, name="W1")
    windows = _windows(zero_pad(X, P)[None], F, S, H2, W2)  # (1, H2, W2, F, F, D)
    return windows.reshape(H2 * W2, -1).T


# --8<-- [start:conv2d]
def conv2d(X, W, b=None, S=1, P=0):
    """The CONV layer by im2col and one matrix multiply: the same result as conv2d_naive, fast.

    X (H1, W1, D1) or (N, H1, W1, D1), filters W (K, F, F, D1), biases b (K,) -> (H2, W2, K) or
    (N, H2, W2, K). V = X_col.T @ W_row.T + b, where X_col = im2col(X) and W_row = W.reshape(K, -1).

    >>> X, W = np.arange(9.0).reshape(3, 3, 1), np.arange(4.0).reshape(1, 2, 2, 1)
    >>> conv2d(X, W, b=np.ones(1))[:, :, 0]
    array([[20., 26.],
           [38., 44.]])
    """
    X4, W, b, S, P, batched, H2, W2, dtype = _layer_inputs(X, W, b, S, P)
    N, K, F = X4.shape[0], W.shape[0], W.shape[1]
    X_pad = zero_pad(X4.astype(dtype, copy=False), P)
    X_cols = _windows(X_pad, F, S, H2, W2).reshape(N * H2 * W2, F * F * X4.shape[3])  # one copy
    W_row = W.reshape(K, -1).astype(dtype, copy=False)  # (K, F*F*D1)
    V = X_cols @ W_row.T  # (N*H2*W2, K): one matrix multiply
    V += b.astype(dtype, copy=False)
    V = V.reshape(N, H2, W2, K)
    return V if batched else V[0]
# --8<-- [end:conv2d]
