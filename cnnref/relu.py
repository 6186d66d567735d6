"""ReLU: the elementwise max(0, x) that leaves the volume's size unchanged.

Defined for the notes' section "Architecture Overview" (page: CNN notes, /dl/cnn/#architecture-overview).
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
