"""ReLU: the elementwise max(0, x) that leaves the volume's size unchanged.

Defined for the notes' section "Architecture Overview" (page: CNN notes, /dl/cnn/architecture/).
"""

import numpy as np

from cnnref import _checks


def relu(X):
    """max(0, x) elementwise, on a volume of any shape (batched or not); the shape is unchanged.

    >>> relu(np.array([-2.0, 0.0, 3.0]))
    array([0., 0., 3.])
    """
    X = _checks.as_volume(X, ndims=(1, 2, 3, 4))
    return np.maximum(X, 0)


class ReLULayer:
    """The RELU layer: no parameters, output volume = input volume.

    >>> ReLULayer().output_shape((32, 32, 12))
    (32, 32, 12)
    """

    kind = "RELU"

    def output_shape(self, input_shape):
        return tuple(input_shape)

    def n_params(self, input_shape):
        return 0

    def __call__(self, X):
        return relu(X)

    def __repr__(self):
        return "ReLULayer()"

    def forward(self, X):
        """The forward pass, keeping X for backward (training)."""
        self.X = X
        return self(X)

    def backward(self, dV):
        """dL/dX from dL/dV, for the X of the last forward()."""
        return relu_backward(dV, _checks.cached(self))


# Backward pass (beyond the notes: what training needs).


def relu_backward(dV, X):
    """Gradient through ReLU: dX = dV where X > 0, else 0 (dV and X of the same shape).

    dX = dV * [X > 0]. At X = 0 exactly, max(0, x) has no derivative; we pass 0 (the subgradient
    every library uses).

    >>> relu_backward(np.array([5.0, 6.0, 7.0]), np.array([-2.0, 0.0, 3.0]))
    array([0., 0., 7.])
    """
    X = _checks.as_volume(X, ndims=(1, 2, 3, 4))
    dV = _checks.as_volume(dV, "dV", ndims=(1, 2, 3, 4))
    if dV.shape != X.shape:
        raise ValueError(f"dV must have the shape of X {X.shape} (ReLU keeps the shape), got {dV.shape}")
    return np.where(X > 0, dV, 0).astype(_checks.float_type(dV), copy=False)
