"""Global average pooling: each depth slice of a volume averaged to one number, (H, W, D) -> (D,).

Beyond the notes: what ResNet and MobileNet put before their one FC layer in place of AlexNet's and
VGG's large FC layers (the notes' GoogLeNet remark). Page: Architectures, /architectures/#global-average-pooling.
"""

import numpy as np

from cnnref import checks
from cnnref.layers import Layer


def global_avg_pool(X):
    """The mean of every depth slice of X (H, W, D) -> (D,), or of a batch (N, H, W, D) -> (N, D).

    V[d] = sum(X[:, :, d]) / (H * W): average pooling with one window as large as the volume.

    >>> X = np.arange(8.0).reshape(2, 2, 2)        # depth slice 0: 0, 2, 4, 6; slice 1: 1, 3, 5, 7
    >>> global_avg_pool(X)
    array([3., 4.])
    """
    X = checks.as_volume(X)
    return X.mean(axis=(-3, -2), dtype=checks.float_type(X))


def global_avg_pool_backward(dV, X):
    """dL/dX from dL/dV (D,) or (N, D): each of the H * W positions of slice d gets dV[d] / (H * W).

    >>> global_avg_pool_backward(np.array([4.0, 8.0]), np.zeros((2, 2, 2)))[:, :, 1]
    array([[2., 2.],
           [2., 2.]])
    """
    X = checks.as_volume(X)
    dV = checks.as_volume(dV, "dV", ndims=(1, 2))
    if dV.shape != X.shape[:-3] + X.shape[-1:]:
        raise ValueError(f"dV must have shape {X.shape[:-3] + X.shape[-1:]} (one number per depth slice of X "
                         f"{X.shape}), got {dV.shape}")
    H, W = X.shape[-3:-1]
    dtype = checks.float_type(dV)
    checks.allocation("dX", X.shape, dtype)
    return np.broadcast_to(dV.astype(dtype, copy=False)[..., None, None, :] / (H * W), X.shape).copy()


class GlobalAvgPoolLayer(Layer):
    """POOL global avg: (H, W, D) -> (D,), no parameters; its window is the whole volume (F = H, W).

    >>> GlobalAvgPoolLayer().output_shape((7, 7, 512))   # ResNet-18's last volume
    (512,)
    """

    kind = "POOL"

    def output_shape(self, input_shape):
        return (checks.shape(input_shape)[2],)

    def window(self, input_shape):
        H, W, _ = checks.shape(input_shape)
        return ((H, 1, 0, 1), (W, 1, 0, 1))

    def __call__(self, X):
        return global_avg_pool(X)

    def backward(self, dV):
        return global_avg_pool_backward(dV, checks.cached(self))

    def describe(self):
        return "POOL global avg"
