"""Convolution as mathematics: continuous, discrete, of dice, and as a sum of impulses.

Defined for the notes' section "Convolutions" (page: CNN notes, /dl/cnn/convolutions/).
"""

from dataclasses import dataclass
from fractions import Fraction
import math
import numbers

import numpy as np

from cnnref import checks


def _signal(f, name):
    try:
        f = np.asarray(f)
    except (TypeError, ValueError) as err:  # ragged lists, a Pmf
        raise TypeError(f"{name} must be a 1-D sequence of numbers, got {type(f).__name__}: {err}") from None
    if f.ndim != 1:
        raise ValueError(f"{name} must be a 1-D sequence, got shape {f.shape}")
    if f.size == 0:
        raise ValueError(f"{name} is empty")
    if f.dtype == object:
        if not all(isinstance(v, numbers.Number) for v in f):
            raise TypeError(f"{name} must hold numbers")
    elif f.dtype == bool or not np.issubdtype(f.dtype, np.number):
        raise TypeError(f"{name} must hold numbers, got an array of dtype {f.dtype}")
    return f


def _dtype(f, g):
    """Integers convolve exactly (int64, or Python ints when a sum could pass 2**63); floats by checks.float_type."""
    if object in (f.dtype, g.dtype):
        return np.dtype(object)
    if f.dtype.kind in "iu" and g.dtype.kind in "iu":
        largest = [max(abs(int(v.min())), abs(int(v.max()))) for v in (f, g)]
        return np.dtype(np.int64 if largest[0] * largest[1] * min(f.size, g.size) < 2**63 else object)
    return checks.float_type(f, g)  # the layers' rule


def _python_numbers(v):
    """An array's numbers as Python numbers, exactly: ints, floats, or Fractions where a float is too narrow."""
    if v.dtype == object:
        return v
    if v.dtype.kind == "f" and np.finfo(v.dtype).nmant > np.finfo(float).nmant:  # longdouble
        return np.array([Fraction(*x.as_integer_ratio()) for x in v], dtype=object)
    return np.array(v.tolist(), dtype=object)


def _operands(f, g):
    """f and g as 1-D arrays of one dtype wide enough for their products (int8 * int8 never wraps)."""
    f, g = _signal(f, "f"), _signal(g, "g")
    dtype = _dtype(f, g)
    if dtype == object:  # exact numbers (Fractions, big ints): NumPy's own scalars would not mix with them
        return _python_numbers(f), _python_numbers(g), dtype
    return f.astype(dtype, copy=False), g.astype(dtype, copy=False), dtype


def impulse_responses(f, g):
    """The shifted, scaled copies of g whose sum is f * g: row m is f[m] * g shifted by m.

    f is a sum of impulses f[m] * delta[n - m]; each impulse answers with a copy of g scaled by f[m] and
    shifted by m, so by superposition (f * g)[n] = sum over m of row m.

    >>> impulse_responses([1, 2], [1, 1, 1])
    array([[1, 1, 1, 0],
           [0, 2, 2, 2]])
    """
    f, g, dtype = _operands(f, g)
    checks.allocation("the impulse responses", (f.size, f.size + g.size - 1), dtype)
    rows = np.zeros((f.size, f.size + g.size - 1), dtype=dtype)
    for m, fm in enumerate(f):
        rows[m, m : m + g.size] = fm * g  # one impulse's response
    return rows


def convolve(f, g):
    """Full discrete convolution (f * g)[n] = sum_m f[m] g[n - m], of length len(f) + len(g) - 1.

    The same values as numpy.convolve; it also works on exact numbers (fractions.Fraction).

    >>> convolve([1, 2, 3], [0, 1, 0.5])
    array([0. , 1. , 2.5, 4. , 1.5])

    The sum of impulse_responses(f, g), added up as it goes: memory len(f) + len(g), not their product.
    """
    f, g, dtype = _operands(f, g)
    if f.size > g.size:  # f * g = g * f: one response per impulse of the shorter sequence
        f, g = g, f
    checks.allocation("the convolution", (f.size + g.size - 1,), dtype)
    V = np.zeros(f.size + g.size - 1, dtype=dtype)
    for m, fm in enumerate(f):
        V[m : m + g.size] += fm * g  # impulse m's response, added in place
    return V


def convolve_continuous(f, g, x, lo=-10.0, hi=10.0, n=4000):
    """(f * g)(x) = integral of f(t) g(x - t) dt, by the midpoint rule on n cells of [lo, hi].

    f and g are Python functions of a NumPy array; x is a number or an array of points.
    The integral is only as good as the grid: [lo, hi] must hold the support of f.

    >>> box = lambda t: (abs(t) <= 0.5).astype(float)
    >>> round(float(convolve_continuous(box, box, 0.0)), 3)   # box * box is a triangle of height 1
    1.0
    """
    if not (callable(f) and callable(g)):
        raise TypeError("f and g must be functions of a NumPy array")
    lo, hi, n = checks.real(lo, "lo"), checks.real(hi, "hi"), checks.hyper(n, "n", 1)
    if not hi > lo:
        raise ValueError(f"the integration interval needs lo < hi, got [{lo}, {hi}]")
    if isinstance(x, numbers.Real) and not isinstance(x, (bool, np.bool_)):  # one point: a Fraction too
        x = float(x)
    x = np.asarray(x, dtype=object if x is None or isinstance(x, (str, bytes)) else None)
    if x.dtype == bool or not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
        raise TypeError(f"x must be a real number or an array of real numbers, got {x!r}")
    x = x.astype(float)
    checks.allocation("the integrand", (*x.shape, n), float)
    dt = (hi - lo) / n
    t = lo + dt * (np.arange(n) + 0.5)  # the cells' midpoints
    values = np.asarray(f(t), dtype=float) * np.asarray(g(x[..., None] - t), dtype=float)  # (..., n)
    return dt * values.sum(axis=-1)


@dataclass(frozen=True)
class Pmf:
    """A probability mass function on the integers start, start + 1, ..., start + len(p) - 1.

    >>> die = dice_pmf(exact=True)
    >>> die[3], die[7]
    (Fraction(1, 6), 0)
    """

    start: int
    p: np.ndarray

    def __post_init__(self):  # a Python int: NumPy's int8 starts would wrap when supports add
        object.__setattr__(self, "start", checks.hyper(self.start, "start", -math.inf))

    @property
    def support(self):
        """The integers the probabilities belong to."""
        return np.arange(self.start, self.start + len(self.p))

    def __getitem__(self, value):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
            raise TypeError(f"a Pmf is indexed by an integer value, got {value!r}")
        i = int(value) - self.start
        return self.p[i] if 0 <= i < len(self.p) else 0

    def __len__(self):
        return len(self.p)

    def __iter__(self):  # else iter() would call self[0], self[1], ... forever: a Pmf is 0 off its support
        raise TypeError("a Pmf is not a sequence: its masses are .p, on the values .support")


def dice_pmf(faces=6, exact=False):
    """The PMF of one fair die: P(x) = 1/faces for x = 1..faces (exact Fractions when exact=True).

    >>> dice_pmf(exact=True)[6], float(dice_pmf()[6] * 6)
    (Fraction(1, 6), 1.0)
    """
    faces = checks.hyper(faces, "faces", 1)
    checks.allocation("the PMF", (faces,), object if exact else float)
    p = np.array([Fraction(1, faces)] * faces, dtype=object) if exact else np.full(faces, 1 / faces)
    return Pmf(1, p)


def convolve_pmf(a, b):
    """The PMF of X + Y for independent X ~ a and Y ~ b: the supports' starts add, the masses convolve.

    >>> two = convolve_pmf(dice_pmf(exact=True), dice_pmf(exact=True))
    >>> two.start, two[4], two[7]
    (2, Fraction(1, 12), Fraction(1, 6))
    """
    if not (isinstance(a, Pmf) and isinstance(b, Pmf)):
        raise TypeError("convolve_pmf takes two Pmf objects, e.g. dice_pmf()")
    return Pmf(a.start + b.start, convolve(a.p, b.p))


def sum_of_dice(n, faces=6, exact=False):
    """The PMF of the sum of n fair dice: the one-die PMF convolved with itself n - 1 times.

    >>> [int(36 * p) for p in sum_of_dice(2, exact=True).p]   # 36 P(sum = s) for s = 2..12
    [1, 2, 3, 4, 5, 6, 5, 4, 3, 2, 1]
    """
    n = checks.hyper(n, "n", 1)
    die = dice_pmf(faces, exact)
    total = die
    for _ in range(n - 1):
        total = convolve_pmf(total, die)
    return total
