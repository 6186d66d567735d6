"""Batch normalisation over depth: each depth slice scaled to mean 0 and variance 1, then by gamma and beta.

Beyond the notes (Ioffe & Szegedy 2015), as ResNet and MobileNet use it after every CONV layer, with
PyTorch's conventions (momentum 0.1, eps 1e-5). Page: Architectures, /architectures/#batch-normalisation.
"""

import numpy as np

from cnnref import checks
from cnnref.fast_conv import depth_affine
from cnnref.layers import Layer


def _axes(X):
    """Every axis but the last (depth): the positions and images a depth slice's statistics run over."""
    return tuple(range(X.ndim - 1))


def _inputs(X, eps, **vectors):
    """X (..., D), eps > 0 and the named (D,) vectors, checked, in the one compute dtype."""
    X = checks.as_volume(X, ndims=(1, 2, 3, 4))
    D = X.shape[-1]
    for name, v in vectors.items():
        v = checks.as_volume(v, name, ndims=(1,))
        if v.shape != (D,):
            raise ValueError(f"{name} must have one number per depth slice, shape ({D},), got shape {v.shape}")
        vectors[name] = v
    eps = checks.real(eps, "eps")
    if eps <= 0:
        raise ValueError(f"eps must be positive (it keeps 1/sqrt(var + eps) finite), got eps = {eps}")
    dtype = checks.float_type(X, *vectors.values())
    return X.astype(dtype, copy=False), eps, *(v.astype(dtype, copy=False) for v in vectors.values())


def _affine(X, gamma, beta, mean, var, eps):
    """X checked, and inference's map per depth slice: X * scale + shift."""
    X, eps, gamma, beta, mean, var = _inputs(X, eps, gamma=gamma, beta=beta, mean=mean, var=var)
    if np.any(var < 0):
        raise ValueError("var must be non-negative (a variance)")
    scale = gamma / np.sqrt(var + eps)  # (D,)
    return X, scale, beta - mean * scale


def _statistics(X):
    """Each depth slice's mean and (biased) variance over its m numbers, m >= 2 and both finite."""
    m = X.size // X.shape[-1]
    if m < 2:
        raise ValueError(f"X of shape {X.shape} has {m} number per depth slice: batch statistics need at least 2 "
                         "(more than one image, or more than one position)")
    with np.errstate(over="ignore", invalid="ignore"):
        mean, var = X.mean(axis=_axes(X)), X.var(axis=_axes(X))
    if not (np.isfinite(mean).all() and np.isfinite(var).all()) and np.isfinite(X).all():
        big = float(np.abs(X).max())
        raise ValueError(f"X's statistics overflow {X.dtype}: the variance needs the squares of numbers up to "
                         f"{big:.3g}, and {X.dtype}'s largest number is {float(np.finfo(X.dtype).max):.3g}: "
                         + ("scale X down, or pass it as float64" if X.dtype != np.float64 else "scale X down"))
    return m, mean, var


def batch_norm_eval(X, gamma, beta, mean, var, eps=1e-5):
    """Inference: Y = gamma * (X - mean) / sqrt(var + eps) + beta per depth slice, with given statistics.

    X (..., D): a volume (H, W, D), a batch (N, H, W, D) or vectors (N, D); gamma, beta, mean, var (D,).
    An affine map per depth slice (the running statistics of training are constants here).

    >>> X = np.array([[1.0, 10.0], [3.0, 30.0]])        # two vectors of depth 2
    >>> batch_norm_eval(X, gamma=np.array([2.0, 1.0]), beta=np.zeros(2), mean=np.array([2.0, 20.0]),
    ...                 var=np.array([1.0, 100.0]), eps=0.0001).round(3)
    array([[-2., -1.],
           [ 2.,  1.]])
    """
    X, scale, shift = _affine(X, gamma, beta, mean, var, eps)
    return X * scale + shift


def batch_norm_eval_fast(X, gamma, beta, mean, var, eps=1e-5):
    """batch_norm_eval, tuned: the same arguments and the same numbers, bit for bit; BN layers infer with it.

    The same affine map per depth slice, X * scale + shift, computed by cnnref.fast_conv.depth_affine:
    one output array filled a cache-sized block at a time on cnnref's threads, where the readable
    version makes two passes over memory and two arrays.

    >>> X = np.array([[1.0, 10.0], [3.0, 30.0]])
    >>> batch_norm_eval_fast(X, gamma=np.array([2.0, 1.0]), beta=np.zeros(2), mean=np.array([2.0, 20.0]),
    ...                      var=np.array([1.0, 100.0]), eps=0.0001).round(3)
    array([[-2., -1.],
           [ 2.,  1.]])
    """
    return depth_affine(*_affine(X, gamma, beta, mean, var, eps))


def batch_norm_train(X, gamma, beta, eps=1e-5):
    """Training: normalise with the statistics of this batch. Returns (Y, mean, var), var the biased one.

    mean = X.mean over every axis but depth, var = ((X - mean)**2).mean (divided by m, the numbers per
    depth slice); Y = gamma * (X - mean) / sqrt(var + eps) + beta.

    >>> X = np.array([[1.0], [3.0]])                     # two numbers in one depth slice
    >>> Y, mean, var = batch_norm_train(X, gamma=np.ones(1), beta=np.zeros(1))
    >>> Y[:, 0].round(4), mean, var                       # (1 - 2)/sqrt(1 + eps) and (3 - 2)/sqrt(1 + eps)
    (array([-1.,  1.]), array([2.]), array([1.]))
    """
    X, eps, gamma, beta = _inputs(X, eps, gamma=gamma, beta=beta)
    _m, mean, var = _statistics(X)
    X_hat = (X - mean) / np.sqrt(var + eps)
    return gamma * X_hat + beta, mean, var


def batch_norm_backward(dY, X, gamma, eps=1e-5):
    """Gradients of training mode's batch_norm_train for dL/dY: (dX, dgamma, dbeta).

    With X_hat = (X - mean)/sqrt(var + eps) and m numbers per depth slice (sums over those m):
    dbeta = sum(dY), dgamma = sum(dY * X_hat), and, since mean and var depend on X too,
    dX = gamma / sqrt(var + eps) * (dY - (dbeta + X_hat * dgamma) / m).

    >>> X, dY = np.array([[1.0], [3.0]]), np.array([[1.0], [1.0]])
    >>> batch_norm_backward(dY, X, gamma=np.ones(1))[0][:, 0]   # L = sum(Y) = 2 beta: X does not matter
    array([0., 0.])
    """
    X, eps, gamma = _inputs(X, eps, gamma=gamma)
    dY = checks.as_volume(dY, "dY", ndims=(1, 2, 3, 4))
    if dY.shape != X.shape:
        raise ValueError(f"dY must have the shape of X {X.shape} (batch norm keeps the shape), got {dY.shape}")
    dtype = checks.float_type(dY, X, gamma)  # the promotion rule covers dY too: int dY sums in float64
    dY, X, gamma = (a.astype(dtype, copy=False) for a in (dY, X, gamma))
    axes = _axes(X)
    m, mean, var = _statistics(X)  # batch_norm_train's, and its refusals: no training pass, nothing to differentiate
    inv_std = 1.0 / np.sqrt(var + eps)
    X_hat = (X - mean) * inv_std
    dbeta = dY.sum(axis=axes)
    dgamma = (dY * X_hat).sum(axis=axes)
    dX = gamma * inv_std * (dY - (dbeta + X_hat * dgamma) / m)
    return dX, dgamma, dbeta


class BatchNormLayer(Layer):
    """BN: batch normalisation over depth, with learnt scale gamma and shift beta (2 D parameters).

    forward(X), the training pass, normalises with the batch's statistics and updates the running
    ones: running = (1 - momentum) * running + momentum * batch, the variance unbiased (m / (m - 1)),
    as PyTorch does. layer(X), inference, uses the running statistics. gamma is drawn as ones and
    beta as zeros; the running mean and variance start at zeros and ones (they are not parameters:
    no gradient, not in Net.params()).

    >>> BatchNormLayer().n_params((56, 56, 64))   # gamma and beta: one each per depth slice
    128
    """

    kind = "BN"
    infers_in_place = True  # layer(X, out=X): inference writes over a volume the pass made (layers.infer)

    def __init__(self, momentum=0.1, eps=1e-5, gamma=None, beta=None, running_mean=None, running_var=None):
        self.momentum, self.eps = checks.real(momentum, "momentum"), checks.real(eps, "eps")
        if not 0 <= self.momentum <= 1:
            raise ValueError(f"momentum must be between 0 and 1, got momentum = {self.momentum}")
        if self.eps <= 0:
            raise ValueError(f"eps must be positive (it keeps 1/sqrt(var + eps) finite), got eps = {self.eps}")
        gamma, beta = (None if v is None else checks.as_volume(v, name, ndims=(1,)) for name, v in (("gamma", gamma), ("beta", beta)))
        super().__init__(gamma=gamma, beta=beta)
        running = {}
        for name, value in (("running_mean", running_mean), ("running_var", running_var)):
            if value is not None:  # the layer's own float copy: forward() updates it in place
                value = checks.as_volume(value, name, ndims=(1,))
                value = np.array(value, dtype=checks.float_type(value))
            running[name] = value
        if running["running_var"] is not None and np.any(running["running_var"] < 0):
            raise ValueError("running_var must be non-negative (a variance)")
        self.running_mean, self.running_var = running["running_mean"], running["running_var"]

    def param_shapes(self, input_shape):
        D = checks.shape(input_shape, ndims=(1, 3))[-1]
        return {"gamma": (D,), "beta": (D,)}

    def check_params(self, input_shape):
        super().check_params(input_shape)
        D = self.param_shapes(input_shape)["gamma"][0]
        for name in ("running_mean", "running_var"):
            value = getattr(self, name)
            if value is not None and value.shape != (D,):
                raise ValueError(f"{self.describe()}: {name} has shape {value.shape}, but an input of shape "
                                 f"{tuple(input_shape)} needs {name} of shape ({D},)")

    def draw(self, name, shape, rng, dtype=np.float64):
        return np.ones(shape, dtype) if name == "gamma" else np.zeros(shape, dtype)

    def init(self, input_shape, rng, dtype=np.float64):
        super().init(input_shape, rng, dtype)
        D = self.param_shapes(input_shape)["gamma"][0]
        if self.running_mean is None:
            self.running_mean = np.zeros(D, self.params["gamma"].dtype)
        if self.running_var is None:
            self.running_var = np.ones(D, self.params["gamma"].dtype)
        return self

    def __call__(self, X, out=None):
        """Inference with the running statistics: batch_norm_eval_fast's numbers, written into out (out=X: in
        place) when out has the compute dtype and is contiguous (otherwise a new array: a volume promoted to the
        parameters' dtype, or a view such as a grouped convolution's output)."""
        if self.running_mean is None or self.running_var is None:
            raise RuntimeError("BN has no running statistics yet: init() it (a Net does) or give running_mean, running_var")
        X, scale, shift = _affine(X, self.params["gamma"], self.params["beta"], self.running_mean, self.running_var, self.eps)
        usable = out is not None and out.dtype == X.dtype and out.flags.c_contiguous
        return depth_affine(X, scale, shift, out=out if usable else None)

    def forward(self, X):
        """Training: batch statistics, and the running statistics updated in place."""
        Y, mean, var = batch_norm_train(X, self.params["gamma"], self.params["beta"], self.eps)
        if self.running_mean is None or self.running_var is None:
            self.init((X.shape[-1],), None, Y.dtype)  # no drawing: gamma and beta are given
        m = np.size(X) // np.shape(X)[-1]
        self.running_mean *= 1 - self.momentum
        self.running_mean += self.momentum * mean
        self.running_var *= 1 - self.momentum
        self.running_var += self.momentum * var * (m / (m - 1))
        self.X = X
        return Y

    def backward(self, dV):
        dX, dgamma, dbeta = batch_norm_backward(dV, checks.cached(self), self.params["gamma"], self.eps)
        self.grads = {"gamma": dgamma, "beta": dbeta}
        return dX

    def describe(self):
        extra = [f"momentum={self.momentum:g}"] if self.momentum != 0.1 else []
        extra += [f"eps={self.eps:g}"] if self.eps != 1e-5 else []
        return " ".join(["BN", *extra])
