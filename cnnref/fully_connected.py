"""The fully connected layer, and its conversion to a CONV layer that computes the same numbers.

Defined for the notes' section "Fully Connected (FC) Layer" and the important note "Converting FC
Layers to CONV Layers" (page: CNN notes, /dl/cnn/fc-layer/).
"""

import math

import numpy as np

from cnnref import checks


def _fc_inputs(X, W):
    """Validated X, W (K, n), whether X is a batch, and X's shape per example."""
    X = checks.as_volume(X, ndims=(1, 2, 3, 4))
    W = checks.as_volume(W, "W", ndims=(2,))
    batched = X.ndim in (2, 4)
    shape = X.shape[1:] if batched else X.shape
    if math.prod(shape) != W.shape[1]:
        raise ValueError(
            f"W {W.shape} expects {W.shape[1]} inputs per example, but X has {'x'.join(map(str, shape))} = "
            f"{math.prod(shape)}"
        )
    return X, W, batched


def fc(X, W, b):
    """Scores W @ x + b of the volume X flattened in C order: W (K, H*W*D), b (K,) -> (K,).

    X may be a volume (H, W, D) or a vector (n,); a leading batch axis, (N, H, W, D) or (N, n),
    gives (N, K).

    >>> fc(np.ones((2, 2, 1)), np.arange(8.0).reshape(2, 4), np.array([0.0, 1.0]))
    array([ 6., 23.])
    """
    x, W, b, batched = _fc_operands(X, W, b)  # x (N, n): each example flattened
    scores = x @ W.T + b  # (N, K)
    return scores if batched else scores[0]


def _fc_operands(X, W, b):
    """fc's operands, validated, in the compute dtype: x (N, n) (each example flattened), W (K, n), b (K,), and
    whether X is a batch (cnnref.fast_conv.fc_fast takes the same)."""
    X, W, batched = _fc_inputs(X, W)
    b = None if b is None else checks.as_volume(b, "b", ndims=(1,))
    dtype = checks.float_type(X, W, *([] if b is None else [b]))
    b = checks.bias(b, W.shape[0], dtype)
    x = X.reshape(len(X) if batched else 1, -1).astype(dtype, copy=False)
    return x, W.astype(dtype, copy=False), b, batched


def fc_backward(dV, X, W):
    """Gradients of a loss through the FC layer: given dV = dL/dV, return (dX, dW, db).

    X and W are the forward pass's inputs (see fc), dV has its output's shape, (K,) or (N, K). With x
    the flattened input and V = x @ W.T + b:
    dX = dV @ W (reshaped to X's shape), dW = dV.T @ x, db = sum of dV over the batch.

    >>> dX, dW, db = fc_backward(np.array([1.0, 2.0]), np.ones((2, 2, 1)), np.arange(8.0).reshape(2, 4))
    >>> dX[:, :, 0]   # 1 * W[0] + 2 * W[1] = [0 + 8, 1 + 10, 2 + 12, 3 + 14]
    array([[ 8., 11.],
           [14., 17.]])
    >>> dW            # outer product of dV and x
    array([[1., 1., 1., 1.],
           [2., 2., 2., 2.]])
    >>> db
    array([1., 2.])
    """
    X, W, batched = _fc_inputs(X, W)
    K = W.shape[0]
    dV = checks.as_volume(dV, "dV", ndims=(2,) if batched else (1,))
    want = (len(X), K) if batched else (K,)
    if dV.shape != want:
        raise ValueError(f"dV must have the shape of the FC output {want} (X {X.shape}, W {W.shape}), got {dV.shape}")
    dtype = checks.float_type(X, W, dV)
    x = X.reshape(-1, W.shape[1]).astype(dtype, copy=False)  # (N, n)
    dV2 = dV.reshape(-1, K).astype(dtype, copy=False)  # (N, K)
    dX = (dV2 @ W.astype(dtype, copy=False)).reshape(X.shape)
    return dX, dV2.T @ x, dV2.sum(axis=0)


def fc_to_conv(W, input_shape):
    """FC weights W (K, H*W*D) for an input volume (H, W, D) as CONV filters (K, H, W, D).

    conv2d(X, fc_to_conv(W, X.shape), b) has shape (1, 1, K) and equals fc(X, W, b): the filter
    covers the whole input, so only one depth column fits. An input_shape (n,), the output of an
    earlier FC layer, is a 1 x 1 x n volume and gives 1x1 filters.

    >>> W = np.arange(8.0).reshape(2, 4)   # 2 neurons looking at a 2x2x1 volume
    >>> fc_to_conv(W, (2, 2, 1))[1, :, :, 0]
    array([[4., 5.],
           [6., 7.]])
    >>> fc_to_conv(np.zeros((10, 60)), (4, 5, 3)).shape   # any H x W x D: a 4x5 filter
    (10, 4, 5, 3)
    """
    W = checks.as_volume(W, "W", ndims=(2,))
    shape = checks.shape(input_shape, ndims=(1, 3))
    H, W1, D = (1, 1, shape[0]) if len(shape) == 1 else shape
    if H * W1 * D != W.shape[1]:
        raise ValueError(f"W {W.shape} expects {W.shape[1]} inputs, but {H}x{W1}x{D} = {H * W1 * D}")
    return W.reshape(W.shape[0], H, W1, D)  # C order: the same flattening as fc
