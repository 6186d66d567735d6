"""The fully connected layer: every neuron sees every activation of the previous volume.

Defined for the notes' section "Fully Connected (FC) Layer" (page: CNN notes, /dl/cnn/fc-layer/).
"""

import math

import numpy as np

from cnnref import _checks


def fc(X, W, b):
    """Scores W @ x + b of the volume X flattened in C order: W (K, H*W*D), b (K,) -> (K,).

    X may be a volume (H, W, D) or a vector (n,); a leading batch axis, (N, H, W, D) or (N, n),
    gives (N, K).

    >>> fc(np.ones((2, 2, 1)), np.arange(8.0).reshape(2, 4), np.array([0.0, 1.0]))
    array([ 6., 23.])
    """
    X = _checks.as_volume(X, ndims=(1, 2, 3, 4))
    W = _checks.as_volume(W, "W", ndims=(2,))
    K, n = W.shape
    b = _checks.bias(b, K, _checks.float_type(X, W))
    batched = X.ndim in (2, 4)
    inputs = math.prod(X.shape[1:] if batched else X.shape)
    if inputs != n:
        shape = X.shape[1:] if batched else X.shape
        raise ValueError(
            f"W {W.shape} expects {n} inputs per example, but X has {'x'.join(map(str, shape))} = {inputs}"
        )
    x = X.reshape(X.shape[0], n) if batched else X.reshape(n)
    return x @ W.T + b


class FCLayer:
    """An FC layer of K neurons, each seeing the whole input volume: (H*W*D + 1) * K parameters.

    >>> FCLayer(K=10).n_params((16, 16, 12))   # the notes' CIFAR-10 FC layer
    30730
    """

    kind = "FC"

    def __init__(self, K, W=None, b=None):
        self.K = _checks.hyper(K, "K", 1)
        self.W, self.b = W, b

    def output_shape(self, input_shape):
        return (self.K,)

    def n_params(self, input_shape):
        return (math.prod(input_shape) + 1) * self.K

    def init(self, input_shape, rng):
        n = math.prod(input_shape)
        self.W = rng.normal(0.0, np.sqrt(2.0 / n), (self.K, n))
        self.b = np.zeros(self.K)

    def __call__(self, X):
        return fc(X, self.W, self.b)

    def __repr__(self):
        return f"FCLayer(K={self.K})"

    def forward(self, X):
        """The forward pass, keeping X for backward (training)."""
        self.X = X
        return self(X)

    def backward(self, dV):
        """dL/dX from dL/dV for the X of the last forward(); keeps dL/dW and dL/db in self.dW, self.db."""
        dX, self.dW, self.db = fc_backward(dV, _checks.cached(self), self.W)
        return dX

    def params(self):
        return [self.W, self.b]

    def grads(self):
        return [getattr(self, "dW", None), getattr(self, "db", None)]


# Backward pass (beyond the notes: what training needs).


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
    X = _checks.as_volume(X, ndims=(1, 2, 3, 4))
    W = _checks.as_volume(W, "W", ndims=(2,))
    K, n = W.shape
    batched = X.ndim in (2, 4)
    shape = X.shape[1:] if batched else X.shape
    if math.prod(shape) != n:
        inputs = f"{'x'.join(map(str, shape))} = {math.prod(shape)}"
        raise ValueError(f"W {W.shape} expects {n} inputs per example, but X has {inputs}")
    dV = _checks.as_volume(dV, "dV", ndims=(2,) if batched else (1,))
    want = (X.shape[0], K) if batched else (K,)
    if dV.shape != want:
        raise ValueError(f"dV must have the shape of the FC output {want} (X {X.shape}, W {W.shape}), got {dV.shape}")
    dtype = _checks.float_type(X, W, dV)
    x = X.reshape(-1, n).astype(dtype, copy=False)  # (N, n)
    dV2 = dV.reshape(-1, K).astype(dtype, copy=False)  # (N, K)
    dX = (dV2 @ W.astype(dtype, copy=False)).reshape(X.shape)
    return dX, dV2.T @ x, dV2.sum(axis=0)
