"""Activation functions: ReLU, the elementwise max(0, x) that leaves the volume's size unchanged.

Defined for the notes' section "Architecture Overview" (page: CNN notes, /dl/cnn/architecture/).
"""

import numpy as np

from cnnref import checks


def relu(X):
    """max(0, x) elementwise, on a volume of any shape (batched or not); the shape is unchanged.

    >>> relu(np.array([-2.0, 0.0, 3.0]))
    array([0., 0., 3.])
    """
    X = checks.as_volume(X, ndims=(1, 2, 3, 4))
    return np.maximum(X, 0)


def relu_backward(dV, X):
    """Gradient through ReLU: dX = dV where X > 0, else 0 (dV and X of the same shape).

    dX = dV * [X > 0]. At X = 0 exactly, max(0, x) has no derivative; we pass 0 (the subgradient
    every library uses).

    >>> relu_backward(np.array([5.0, 6.0, 7.0]), np.array([-2.0, 0.0, 3.0]))
    array([0., 0., 7.])
    """
    X = checks.as_volume(X, ndims=(1, 2, 3, 4))
    dV = checks.as_volume(dV, "dV", ndims=(1, 2, 3, 4))
    if dV.shape != X.shape:
        raise ValueError(f"dV must have the shape of X {X.shape} (ReLU keeps the shape), got {dV.shape}")
    return np.where(X > 0, dV, 0).astype(checks.float_type(dV), copy=False)
