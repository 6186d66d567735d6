"""Input validation shared by every public function: clear errors, never an IndexError from deep inside."""

import numbers

import numpy as np


def as_volume(X, name="X", ndims=(3, 4)):
    """X as a real numeric array with one of the allowed numbers of dimensions."""
    X = np.asarray(X)
    if X.dtype == bool or not np.issubdtype(X.dtype, np.number) or np.issubdtype(X.dtype, np.complexfloating):
        raise TypeError(f"{name} must hold real numbers, got an array of dtype {X.dtype}")
    if X.ndim not in ndims:
        want = " or ".join(_DESCRIBE.get(n, f"{n}-D") for n in ndims)
        raise ValueError(f"{name} must be {want}, got shape {X.shape} ({X.ndim}-D)")
    if X.size == 0:
        raise ValueError(f"{name} is empty (shape {X.shape})")
    return X


_DESCRIBE = {
    1: "a vector (n,)",
    2: "a batch of vectors (N, n)",
    3: "a volume (H, W, D)",
    4: "a batch of volumes (N, H, W, D)",
}


def hyper(value, name, minimum):
    """An integer hyperparameter (F, S, P, K, ...) at least `minimum`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    value = int(value)
    if value < minimum:
        rule = {0: "non-negative", 1: "at least 1"}.get(minimum, f"at least {minimum}")
        raise ValueError(f"{name} must be {rule}, got {name} = {value}")
    return value


def filters(W, D1):
    """Filters W of shape (K, F, F, D1) matching the input depth D1."""
    W = as_volume(W, "W", ndims=(4,))
    K, F1, F2, D = W.shape
    if F1 != F2:
        raise ValueError(f"filters must be square, F x F: W has shape {W.shape}, i.e. {F1}x{F2} filters")
    if D != D1:
        raise ValueError(f"depth mismatch: the input has depth D1 = {D1} but the filters W {W.shape} have depth {D}")
    return W


def bias(b, K, dtype):
    """Biases b of shape (K,), zeros when None."""
    if b is None:
        return np.zeros(K, dtype=dtype)
    b = as_volume(b, "b", ndims=(1,))
    if b.shape != (K,):
        raise ValueError(f"b must have one bias per filter, shape ({K},), got shape {b.shape}")
    return b


def float_type(*arrays):
    """Result dtype of a layer: float32 stays float32, integers become float64."""
    return np.result_type(*arrays, np.float32)


def cached(layer):
    """The input X kept by layer.forward(X), which layer.backward(dV) needs."""
    X = getattr(layer, "X", None)
    if X is None:
        raise RuntimeError(f"{layer!r}.backward() needs the input of a forward() first: call forward(X), not layer(X)")
    return X
