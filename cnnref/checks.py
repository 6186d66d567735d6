"""Input validation shared by every public function: values checked once, at the boundary.

Every hyperparameter becomes a Python int here (NumPy's int8 arithmetic wraps; Python's does not),
every array a real numeric ndarray, and every allocation proportional to the arguments is checked
against the machine's memory before it is made. Errors name the argument.
"""

import math
import numbers
import os

import numpy as np

_DESCRIBE = {
    1: "a vector (n,)",
    2: "a batch of vectors (N, n)",
    3: "a volume (H, W, D)",
    4: "a batch of volumes (N, H, W, D)",
}


def as_volume(X, name="X", ndims=(3, 4)):
    """X as a real numeric array with one of the allowed numbers of dimensions, not empty."""
    if X is None or isinstance(X, (str, bytes)):
        raise TypeError(f"{name} must be an array of real numbers, got {type(X).__name__}")
    try:
        X = np.asarray(X)
    except (ValueError, TypeError) as err:  # ragged nested lists
        raise TypeError(f"{name} must be an array of real numbers, got {type(X).__name__}: {err}") from None
    if X.dtype.kind not in "iuf":  # signed, unsigned, floating: not bool, complex, str, object, dates
        raise TypeError(f"{name} must hold real numbers, got an array of dtype {X.dtype}")
    if X.ndim not in ndims:
        want = " or ".join(_DESCRIBE.get(n, f"{n}-D") for n in ndims)
        raise ValueError(f"{name} must be {want}, got shape {X.shape} ({X.ndim}-D)")
    if X.size == 0:
        raise ValueError(f"{name} is empty (shape {X.shape})")
    return X


def hyper(value, name, minimum=0):
    """An integer hyperparameter (F, S, P, K, ...) at least `minimum`, as a Python int."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    value = int(value)
    if value < minimum:
        rule = {0: "non-negative", 1: "at least 1"}.get(minimum, f"at least {minimum}")
        raise ValueError(f"{name} must be {rule}, got {name} = {value}")
    return value


def pair(value, name, minimum=0):
    """An int, or a pair (vertical, horizontal), as two Python ints: 3 -> (3, 3)."""
    if isinstance(value, (tuple, list, np.ndarray)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair (vertical, horizontal), got {len(value)} values: {value!r}")
        return hyper(value[0], f"{name}[0]", minimum), hyper(value[1], f"{name}[1]", minimum)
    value = hyper(value, name, minimum)
    return value, value


def shape(value, name="input_shape", ndims=(3,)):
    """A shape such as (H, W, D): a tuple of Python ints >= 1."""
    if not isinstance(value, (tuple, list)):
        raise TypeError(f"{name} must be a tuple of sizes such as (H, W, D), got {value!r}")
    if len(value) not in ndims:
        want = " or ".join({1: "(n,)", 3: "a volume (H, W, D)", 4: "(N, H, W, D)"}[n] for n in ndims)
        raise ValueError(f"{name} must be {want}, got {tuple(value)}")
    return tuple(hyper(n, f"{name}[{i}]", 1) for i, n in enumerate(value))


def filters(W, D1, groups=1):
    """Filters W (K, FH, FW, D1 // groups) for an input of depth D1, as groups of K // groups filters."""
    W = as_volume(W, "W", ndims=(4,))
    K, _, _, depth = W.shape
    if D1 % groups or K % groups:
        raise ValueError(
            f"groups = {groups} must divide the input depth D1 = {D1} and the number of filters K = {K}"
        )
    if depth * groups != D1:
        each = f" / groups = {D1 // groups}" if groups > 1 else ""
        raise ValueError(
            f"depth mismatch: the input has depth D1 = {D1}, so the filters need depth D1{each}, "
            f"but W {W.shape} has depth {depth}"
        )
    return W


def float_type(*arrays):
    """The one promotion rule of every layer function: the dtype its products and sums are computed in.

    Any integer input computes in float64 at least (so int8 products never wrap, and int64 sums stay
    exact to 2**53); otherwise NumPy's promotion with float32: float32 stays float32, float16 becomes
    float32, float64 stays float64 (and longdouble stays longdouble).
    """
    dtypes = [a.dtype if isinstance(a, np.ndarray) else np.asarray(a).dtype for a in arrays]
    floor = np.float64 if any(d.kind in "iu" for d in dtypes) else np.float32  # kind "iu": np.integer's dtypes
    return np.result_type(*dtypes, floor)


def weight_dtype(dtype, name="dtype"):
    """The dtype weights are drawn in: float64 (the default) or float32 (half the memory: VGG-16's 138M weights)."""
    try:
        value = np.dtype(dtype)
    except TypeError as err:
        raise TypeError(f"{name} must be float32 or float64, got {dtype!r}: {err}") from None
    if value not in (np.float32, np.float64):
        raise TypeError(f"{name} must be float32 or float64, got {value}")
    return value


def bias(b, K, dtype, name="b"):
    """Biases b of shape (K,) in dtype; zeros when None."""
    if b is None:
        return np.zeros(K, dtype=dtype)
    b = as_volume(b, name, ndims=(1,))
    if b.shape != (K,):
        raise ValueError(f"{name} must have one bias per filter, shape ({K},), got shape {b.shape}")
    return b.astype(dtype, copy=False)


def real(value, name, finite=True):
    """A real number (Python or NumPy scalar) as a Python float; NaN and infinities refused when finite."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r} ({type(value).__name__})")
    value = float(value)
    if finite and not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {name} = {value}")
    return value


def _memory():
    try:  # the machine's physical memory
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 1 << 40


MEMORY_LIMIT = _memory()  # bytes: no single array cnnref allocates may be larger


def allocation(what, shape, dtype):
    """Refuse, before allocating, an array of `shape` and `dtype` larger than MEMORY_LIMIT."""
    nbytes = math.prod(shape) * np.dtype(dtype).itemsize
    if nbytes > MEMORY_LIMIT:
        dims = " x ".join(map(str, shape))
        raise MemoryError(
            f"{what} ({dims} numbers of {np.dtype(dtype)}) would need {nbytes / 2**30:.1f} GiB, more than "
            f"this machine's {MEMORY_LIMIT / 2**30:.1f} GiB of memory"
        )


def output(out, shape, dtype, *inputs):
    """`out` checked as the array a function writes its result into: a NumPy array of exactly the result's `shape`
    and `dtype`, writeable, C-contiguous, sharing no memory with the `inputs` it is computed from."""
    if not isinstance(out, np.ndarray) or isinstance(out, np.ma.MaskedArray):  # a mask that writes would not honour
        raise TypeError(f"out must be a NumPy array (not masked), got {type(out).__name__}")
    if out.shape != tuple(shape) or out.dtype != dtype:
        raise ValueError(f"out must have the result's shape {tuple(shape)} and dtype {np.dtype(dtype)}, "
                         f"got shape {out.shape} and dtype {out.dtype}")
    if not (out.flags.c_contiguous and out.flags.writeable):
        raise ValueError("out must be writeable and C-contiguous (a new array from np.empty is)")
    if any(np.may_share_memory(out, a) for a in inputs if a is not None):
        raise ValueError("out must not share memory with the arrays the result is computed from")
    return out


def cached(layer):
    """What layer.forward(X) kept for backward: the input X."""
    X = getattr(layer, "X", None)
    if X is None:
        raise RuntimeError(f"{layer!r}.backward() needs the input of a forward() first: call forward(X), not layer(X)")
    return X
