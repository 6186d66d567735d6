"""Fuzzing every public function of cnnref (issue 12): the right numbers or a clear refusal, never a third thing.

Hypothesis draws hyperparameters as Python ints and as every NumPy integer type (int8 ... uint64),
inputs of every real dtype (8- to 64-bit integers, float16 to longdouble) in every layout (C and
Fortran order, strided, reversed, read-only, broadcast), and now and then a bad argument (a bool, a
float, a string, None, a negative size, a pair of the wrong length, a bool or complex array, an
array of the wrong shape). A reference written here from the definitions (loops and explicit sums in
float64, or Python ints and Fractions where the result is exact) either computes the expected result
or says which arguments are wrong. Each call must then

- return the reference's result: exactly for functions that only move numbers (zero_pad, im2col,
  max_pool, relu, fc_to_conv, output sizes: Python ints), within a tolerance set by the result dtype
  and the number of terms summed otherwise, with the dtype of the promotion rule (at least float64
  for any integer input, else np.result_type(*inputs, np.float32); see tests/test_hardening.py), or
- raise ValueError or TypeError (MemoryError for a huge request) whose message names one of the
  arguments the reference blames.

Functions and keywords of issue 13 (conv_transpose2d, conv2d_fast, dilation, groups, exact,
output_padding, padding for pooling, pairs for F/S/P) are fuzzed when cnnref has them, so this file
runs before and after that work. Budget: a few seconds each, well under 20 s in all. The long
profile runs 100 times the examples:

    CNNREF_FUZZ=long .venv/bin/pytest tests/test_fuzz.py --hypothesis-show-statistics
"""

import functools
import inspect
import math
import os
import re
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import cnnref as c

LONG = os.environ.get("CNNREF_FUZZ", "") == "long"


def fuzz(examples):
    """`examples` per test by default, 100 times as many with CNNREF_FUZZ=long."""
    return settings(
        max_examples=examples * (100 if LONG else 1),
        deadline=None,
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )


def keywords(function):
    return set(inspect.signature(function).parameters)


NEW = "dilation" in keywords(c.conv2d)  # issue 13: pairs, dilation, groups, exact, padded pooling
POOL_P = "P" in keywords(c.max_pool)
KERNELS = [name for name in ("conv2d", "conv2d_naive", "conv2d_fast") if hasattr(c, name)]
FUZZED = set()  # public names exercised here (checked against cnnref.__all__ at the end)


def covers(*names):
    FUZZED.update(names)
    return lambda test: test


# ---------------------------------------------------------------------------------------------------
# The oracle


class Invalid(Exception):
    """The reference refuses the call: it must raise ValueError/TypeError naming one of `names`."""

    def __init__(self, *names):
        super().__init__(names)
        self.names = names


GEOMETRY = ("F", "S", "P", "dilation", "H1", "W1", "W2", "H", "X", "W", "input_shape", "image", "output_padding")


def names_one_of(error, names):
    message = str(error)
    return any(re.search(rf"(?<![A-Za-z0-9_]){re.escape(n)}(?![A-Za-z0-9_])", message) for n in names)


def verify(call, reference, compare):
    """call() against reference(): the same result (compare(got, expected)) or a refusal naming the culprit."""
    try:
        expected = reference()
    except Invalid as invalid:
        try:
            got = call()
        except (ValueError, TypeError) as error:
            assert names_one_of(error, invalid.names), (
                f"{type(error).__name__} {error!r} names none of the wrong arguments {invalid.names}"
            )
            event("refused, naming the argument")
            return
        raise AssertionError(f"accepted a call that should be refused (naming one of {invalid.names}): got {got!r}")
    try:
        got = call()
    except (ValueError, TypeError, MemoryError) as error:
        raise AssertionError(f"refused a valid call: {type(error).__name__}: {error}") from error
    compare(got, expected)
    event("returned the reference's result")


def rule(*dtypes):
    """The promotion rule (checks.float_type): float64 for any integer input, else NumPy's with float32."""
    dtypes = [np.dtype(d) for d in dtypes]
    return np.result_type(*dtypes, np.float64 if any(d.kind in "iu" for d in dtypes) else np.float32)


def assert_close(got, expected, scale, terms, dtype, precision=None):
    """got (of `dtype`) equals the float64 `expected` within a few roundings of `terms` terms of size `scale`.

    The roundings are those of `precision` (a dtype computed in on the way; dtype by default).
    """
    got = np.asarray(got)
    assert got.shape == expected.shape, f"shape {got.shape}, expected {expected.shape}"
    assert got.dtype == dtype, f"dtype {got.dtype}, expected {dtype} (the promotion rule)"
    eps = max(float(np.finfo(precision or dtype).eps), 2.0**-52)  # the reference itself is float64
    bound = 4 * (terms + 2) * eps * scale + terms * float(np.finfo(dtype).smallest_normal)
    error = np.abs(got.astype(np.float64) - expected)
    assert np.all(error <= bound), f"max error {np.max(error - bound):.3g} above the bound; got {got}, expected {expected}"


def assert_exact(got, expected, dtypes):
    """got equals expected number for number (Python compares ints and floats exactly), dtype in dtypes."""
    got = np.asarray(got)
    assert got.dtype in [np.dtype(d) for d in dtypes], f"dtype {got.dtype}, expected one of {dtypes}"
    assert got.shape == expected.shape, f"shape {got.shape}, expected {expected.shape}"
    assert all(a == b for a, b in zip(got.astype(object).ravel(), expected.astype(object).ravel())), (
        f"got {got}, expected {expected}"
    )


# ---------------------------------------------------------------------------------------------------
# Strategies: integers in every spelling, arrays in every dtype and layout

INT_TYPES = [int, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64]
INTEGERS = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64]
FLOATS = [np.float16, np.float32, np.float64, np.longdouble]
REAL = INTEGERS + FLOATS
LAYOUTS = ["C", "Fortran", "strided", "reversed", "read-only", "broadcast"]


@st.composite
def spelled(draw, value):
    """The Python int `value` as a Python int or any NumPy integer type that holds it."""
    fits = [t for t in INT_TYPES if t is int or np.iinfo(t).min <= value <= np.iinfo(t).max]
    return draw(st.sampled_from(fits))(value)


class Bad:
    """A bad spelling of an argument: the reference refuses it, naming the argument."""

    def __init__(self, value):
        self.value = value

    def __repr__(self):
        return f"Bad({self.value!r})"


def bad_values(minimum, pair):
    values = [True, 2.0, np.float64(3.0), "2", None, Fraction(2, 1), minimum - 1, 1.5]
    if pair:
        values += [(1,), (1, 1, 1), (1.0, 1), [1, "1"]]
    return values


@st.composite
def hyper(draw, lo, hi, minimum=1, pair=True, bad=True):
    """(value, spelling): value an int pair (v, h) (or an int where pair=False), spelling what is passed."""
    if bad and draw(st.integers(0, 29)) == 0:
        spelling = draw(st.sampled_from(bad_values(minimum, pair and NEW)))
        return Bad(spelling), spelling
    if pair and NEW and draw(st.booleans()):
        v, h = draw(st.integers(lo, hi)), draw(st.integers(lo, hi))
        kind = draw(st.sampled_from([tuple, list]))
        return (v, h), kind([draw(spelled(v)), draw(spelled(h))])
    v = draw(st.integers(lo, hi))
    return ((v, v) if pair else v), draw(spelled(v))


def values(rng, dtype, shape, regime):
    """Random numbers of `dtype`: small integers (many ties), the whole range, or spread magnitudes."""
    dtype = np.dtype(dtype)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        lo, hi = (max(info.min, -3), min(info.max, 3)) if regime == "small" else (info.min, info.max)
        return rng.integers(lo, hi, size=shape, dtype=dtype, endpoint=True)
    if regime == "small":
        return rng.integers(-3, 3, size=shape, endpoint=True).astype(dtype)
    if regime == "normal":
        return rng.standard_normal(shape).astype(dtype)
    top = {2: 4, 4: 15}.get(dtype.itemsize, 100)  # products and sums stay finite in the result dtype
    magnitudes = 10.0 ** rng.uniform(-20, top, size=shape)
    return (rng.choice([-1.0, 1.0], size=shape) * magnitudes).astype(dtype)


def laid_out(A, layout):
    """The same numbers as A in another memory layout."""
    if layout == "Fortran":
        return np.asfortranarray(A)
    if layout == "strided":
        big = np.zeros(tuple(2 * n for n in A.shape), A.dtype)
        view = big[tuple(slice(None, None, 2) for _ in A.shape)]
        view[...] = A
        return view
    if layout == "reversed":
        flipped = A[tuple(slice(None, None, -1) for _ in A.shape)].copy()
        return flipped[tuple(slice(None, None, -1) for _ in A.shape)]
    if layout == "read-only":
        A = A.copy()
        A.flags.writeable = False
        return A
    return A


@st.composite
def array(draw, shape, dtypes=REAL, bad=True, bad_dtypes=(np.bool_, np.complex128)):
    """(A, logical): A what is passed (any dtype, layout), logical a C-ordered copy; logical is Bad for bad dtypes."""
    shape = tuple(int(n) for n in shape)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if bad and draw(st.integers(0, 39)) == 0:
        dtype = draw(st.sampled_from(bad_dtypes))
        A = rng.integers(0, 2, size=shape).astype(dtype)
        return A, Bad(A)
    dtype = draw(st.sampled_from(dtypes))
    layout = draw(st.sampled_from(LAYOUTS))
    regime = draw(st.sampled_from(["small", "normal", "wide"]))
    if layout == "broadcast":  # zero strides: the numbers repeat along some axes
        base_shape = tuple(n if draw(st.booleans()) else 1 for n in shape)
        A = np.broadcast_to(values(rng, dtype, base_shape, regime), shape)
    else:
        A = laid_out(values(rng, dtype, shape, regime), layout)
    return A, np.array(A)


def logical(*items):
    """Raise Invalid naming the arguments whose logical value is Bad; else return the logical values."""
    bad = [name for name, value in items if isinstance(value, Bad)]
    if bad:
        raise Invalid(*bad)
    return [value for _, value in items]


def gather(problems, *items):
    """The logical values of (name, value) items, None for a Bad one (whose name joins `problems`)."""
    out = []
    for name, value in items:
        if isinstance(value, Bad):
            problems.append(name)
            value = None
        out.append(value)
    return out


def refuse_if(problems):
    if problems:
        raise Invalid(*problems)


def as64(A):
    return np.asarray(A, dtype=np.float64)


# ---------------------------------------------------------------------------------------------------
# References from the definitions (Python ints for sizes, float64 loops for sums)


def ref_size(n, F, S, P, d=1, exact=True, names=GEOMETRY):
    """Output size along one axis: (n + 2P - d(F - 1) - 1)/S + 1, whole (exact) or floored."""
    span = n + 2 * P - (d * (F - 1) + 1)
    if span < 0 or (exact and span % S):
        raise Invalid(*names)
    return span // S + 1


def ref_sizes(shape, F, S, P, d, exact):
    return tuple(ref_size(n, F[a], S[a], P[a], d[a], exact) for a, n in enumerate(shape))


def taps(i, S, F, d):
    """The padded coordinates of a window's taps along one axis: i S, i S + d, ..., i S + d (F - 1)."""
    return slice(i * S, i * S + d * (F - 1) + 1, d)


def padded(X, P, fill=0.0):
    """X (N, H, W, D) with P = (PH, PW) on both sides of both spatial axes."""
    N, H, W, D = X.shape
    Xp = np.full((N, H + 2 * P[0], W + 2 * P[1], D), fill, dtype=X.dtype)
    Xp[:, P[0] : P[0] + H, P[1] : P[1] + W] = X
    return Xp


def ref_conv(X, W, b, S, P, d, groups, exact):
    """V[n, i, j, k] = sum over the window's taps and the group's channels of X_pad * W[k], + b[k] (float64)."""
    N, H, W1, D = X.shape
    K, FH, FW, Dg = W.shape
    H2, W2 = ref_sizes((H, W1), (FH, FW), S, P, d, exact)
    Xp, Kg = padded(X, P), K // groups
    V = np.empty((N, H2, W2, K))
    for i in range(H2):
        for j in range(W2):
            window = Xp[:, taps(i, S[0], FH, d[0]), taps(j, S[1], FW, d[1])]  # (N, FH, FW, D)
            for g in range(groups):
                V[:, i, j, g * Kg : (g + 1) * Kg] = np.einsum(
                    "nabc,kabc->nk", window[..., g * Dg : (g + 1) * Dg], W[g * Kg : (g + 1) * Kg]
                )
    return V + b


def ref_conv_backward(dV, X, W, S, P, d, groups, exact):
    """(dX, dW, db) by the chain rule on ref_conv's sums, window by window (float64)."""
    N, H, W1, D = X.shape
    K, FH, FW, Dg = W.shape
    H2, W2 = dV.shape[1:3]
    Xp, Kg = padded(X, P), K // groups
    dXp, dW = np.zeros_like(Xp), np.zeros_like(W)
    for i in range(H2):
        for j in range(W2):
            rows, cols = taps(i, S[0], FH, d[0]), taps(j, S[1], FW, d[1])
            for g in range(groups):
                ks, ds = slice(g * Kg, (g + 1) * Kg), slice(g * Dg, (g + 1) * Dg)
                dW[ks] += np.einsum("nk,nabc->kabc", dV[:, i, j, ks], Xp[:, rows, cols, ds])
                dXp[:, rows, cols, ds] += np.einsum("nk,kabc->nabc", dV[:, i, j, ks], W[ks])
    dX = dXp[:, P[0] : P[0] + H, P[1] : P[1] + W1]
    return dX, dW, dV.sum(axis=(0, 1, 2))


def ref_pool(X, F, S, P, d, exact, mode):
    """Max (padding -inf, exact: on Python numbers) or mean (padding counts as zeros) of every window."""
    N, H, W1, D = X.shape
    H2, W2 = ref_sizes((H, W1), F, S, P, d, exact)
    if mode == "max":
        Xp = padded(X.astype(object), P, fill=-math.inf)
        V = np.empty((N, H2, W2, D), dtype=object)
    else:
        Xp, V = padded(as64(X), P), np.empty((N, H2, W2, D))
    for i in range(H2):
        for j in range(W2):
            window = Xp[:, taps(i, S[0], F[0], d[0]), taps(j, S[1], F[1], d[1])].reshape(N, -1, D)
            for n in range(N):
                for k in range(D):
                    column = list(window[n, :, k])
                    V[n, i, j, k] = max(column) if mode == "max" else sum(column) / (F[0] * F[1])
    return V


def ref_pool_backward(dV, X, F, S, P, d, mode):
    """dX: each window's dV to its first maximum (row-major, padding -inf) or shared equally (float64)."""
    N, H, W1, D = X.shape
    H2, W2 = dV.shape[1:3]
    Xp = padded(X.astype(object), P, fill=-math.inf)
    dXp = np.zeros(Xp.shape)
    for i in range(H2):
        for j in range(W2):
            rows, cols = taps(i, S[0], F[0], d[0]), taps(j, S[1], F[1], d[1])
            if mode == "avg":
                dXp[:, rows, cols] += dV[:, i, j][:, None, None, :] / (F[0] * F[1])
                continue
            window = Xp[:, rows, cols]  # (N, FH, FW, D)
            for n in range(N):
                for k in range(D):
                    flat = list(window[n, :, :, k].ravel())
                    a, b = divmod(flat.index(max(flat)), window.shape[2])
                    dXp[n, rows.start + a * d[0], cols.start + b * d[1], k] += dV[n, i, j, k]
    return dXp[:, P[0] : P[0] + H, P[1] : P[1] + W1]


def pool_kwargs(function, S_spell, P_spell, d_spell, exact):
    kwargs, accepted = {"S": S_spell}, keywords(function)
    for key, value in (("P", P_spell), ("dilation", d_spell), ("exact", exact)):
        if key in accepted:
            kwargs[key] = value
    return kwargs


# ---------------------------------------------------------------------------------------------------
# Geometry: sizes that tile, floor or do not fit, with every hyperparameter drawn in every spelling


@st.composite
def geometry(draw, F_max=4, S_max=3, P_max=2, dilation=True, pool=False, bad_F=True):
    """Hyperparameters (value, spelling) for F, S, P, dilation, and an input size per axis near a tiling one."""
    F = draw(hyper(1, F_max, bad=bad_F))
    S = draw(hyper(1, S_max))
    P = draw(hyper(0, P_max, minimum=0))
    d = draw(hyper(1, 2)) if NEW and dilation else ((1, 1), 1)
    exact = draw(st.booleans()) if NEW else True
    sizes = []
    for a in range(2):
        f, s, p, dd = (v[0][a] if not isinstance(v[0], Bad) else 1 for v in (F, S, P, d))
        if pool and not isinstance(P[0], Bad) and 2 * p > f:  # pooling pads at most half the window
            p = 0
        n = (draw(st.integers(1, 3)) - 1) * s + dd * (f - 1) + 1 - 2 * p + draw(st.integers(0, s - 1))
        if n < 1 or draw(st.integers(0, 7)) == 0:
            n = draw(st.integers(1, 9))
        sizes.append(n)
    return F, S, P, d, exact, tuple(sizes)


# ---------------------------------------------------------------------------------------------------
# Sizes: output_size, pool_output_size, conv_output_shape, conv_params, volume


@covers("output_size", "pool_output_size")
@fuzz(100)
@given(data=st.data())
def test_output_sizes(data):
    function = data.draw(st.sampled_from([c.output_size, c.pool_output_size]))
    W1, F = data.draw(hyper(1, 12, pair=False)), data.draw(hyper(1, 6, pair=False))
    S, P = data.draw(hyper(1, 4, pair=False)), data.draw(hyper(0, 3, minimum=0, pair=False))
    d, exact = data.draw(hyper(1, 3, pair=False)), data.draw(st.booleans())
    name = data.draw(st.sampled_from(["W1", "H1", "image height"]))
    accepted = keywords(function)
    kwargs = {"S": S[1]}
    for key, value in (("P", P[1]), ("dilation", d[1]), ("exact", exact), ("name", name)):
        if key in accepted:
            kwargs[key] = value

    def reference():
        problems = []
        n, f, s, p, dd = gather(problems, (name, W1[0]), ("F", F[0]), ("S", S[0]),
                                ("P", P[0] if "P" in accepted else 0), ("dilation", d[0] if "dilation" in accepted else 1))
        if problems and name in problems:
            problems.append("W1")
        if function is c.pool_output_size and None not in (f, p) and 2 * p > f:
            problems += ["P", "F"]
        if not problems:
            try:
                return ref_size(n, f, s, p, dd, exact if "exact" in accepted else True,
                                names=(name, "W1", "F", "S", "P", "dilation"))
            except Invalid as error:
                problems += error.names
        refuse_if(problems)

    def compare(got, expected):
        assert type(got) is int and got == expected, f"got {got!r}, expected {expected}"

    verify(lambda: function(W1[1], F[1], **kwargs), reference, compare)


@covers("conv_output_shape", "conv_params")
@fuzz(60)
@given(data=st.data())
def test_conv_output_shape_and_params(data):
    F, S, P, d, exact, (H1, W1) = data.draw(geometry())
    D1, K = data.draw(hyper(1, 4, pair=False)), data.draw(hyper(1, 4, pair=False))
    groups = data.draw(hyper(1, 2, pair=False)) if "groups" in keywords(c.conv_output_shape) else (1, 1)
    shape = (data.draw(spelled(H1)), data.draw(spelled(W1)), D1[1])
    kwargs = {"S": S[1], "P": P[1]}
    for name, value in (("dilation", d[1]), ("groups", groups[1]), ("exact", exact)):
        if name in keywords(c.conv_output_shape):
            kwargs[name] = value

    def reference():
        problems = []
        f, s, p, dd, d1, k, g = gather(problems, ("F", F[0]), ("S", S[0]), ("P", P[0]), ("dilation", d[0]),
                                       ("D1", D1[0]), ("K", K[0]), ("groups", groups[0]))
        if d1 is None:
            problems.append("input_shape")
        if None not in (d1, k, g) and (d1 % g or k % g):
            problems += ["groups", "D1", "K"]
        sizes = None
        if None not in (f, s, p, dd):
            try:
                sizes = ref_sizes((H1, W1), f, s, p, dd, exact)
            except Invalid as error:
                problems += error.names
        refuse_if(problems)
        return sizes + (k,)

    def compare(got, expected):
        assert type(got) is tuple and all(type(v) is int for v in got) and got == expected, (got, expected)

    verify(lambda: c.conv_output_shape(shape, K[1], F[1], **kwargs), reference, compare)

    params_kwargs = {"groups": groups[1]} if "groups" in keywords(c.conv_params) else {}

    def reference_params():
        problems = []
        f, d1, k, g = gather(problems, ("F", F[0]), ("D1", D1[0]), ("K", K[0]), ("groups", groups[0]))
        if None not in (d1, k, g) and (d1 % g or k % g):
            problems += ["groups", "D1", "K"]
        refuse_if(problems)
        return f[0] * f[1] * (d1 // g) * k, k

    verify(lambda: c.conv_params(F[1], D1[1], K[1], **params_kwargs), reference_params, compare)


@covers("volume")
@fuzz(50)
@given(data=st.data())
def test_volume(data):
    length = data.draw(st.sampled_from([3, 3, 1, 2, 4]))
    numbers = [data.draw(st.integers(1, 300)) for _ in range(length)]
    shape = [data.draw(spelled(n)) for n in numbers]
    bad = data.draw(st.integers(0, 4)) == 0
    if bad:
        shape[data.draw(st.integers(0, length - 1))] = data.draw(st.sampled_from([-1, 2.5, "x", None, np.float32(2)]))

    def reference():
        if bad or length not in (1, 3):
            raise Invalid("shape")
        return f"1x1x{numbers[0]}" if length == 1 else f"{numbers[1]}x{numbers[0]}x{numbers[2]}"

    def compare(got, expected):
        assert got == expected

    verify(lambda: c.volume(tuple(shape)), reference, compare)


# ---------------------------------------------------------------------------------------------------
# Moving numbers: zero_pad, im2col (exact, dtype kept), col2im (its adjoint)


@covers("zero_pad")
@fuzz(40)
@given(data=st.data())
def test_zero_pad(data):
    batch = data.draw(st.sampled_from([(), (2,)]))
    X, X_val = data.draw(array(batch + (data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4)), 2)))
    P = data.draw(hyper(0, 3, minimum=0))

    def reference():
        X4, p = logical(("X", X_val), ("P", P[0]))
        X4 = X4 if X4.ndim == 4 else X4[None]
        Xp = padded(X4, p)
        return Xp if batch else Xp[0]

    verify(lambda: c.zero_pad(X, P[1]), reference, lambda got, e: assert_exact(got, e, [X.dtype]))


@covers("im2col", "col2im", "window_positions")
@fuzz(50)
@given(data=st.data())
def test_im2col_and_col2im(data):
    F, S, P, d, exact, (H, W) = data.draw(geometry())
    D = data.draw(st.integers(1, 3))
    X, X_val = data.draw(array((H, W, D)))
    kwargs = {"S": S[1], "P": P[1]} | ({"dilation": d[1], "exact": exact} if NEW else {})

    def geometry_of(problems):
        f, s, p, dd = gather(problems, ("F", F[0]), ("S", S[0]), ("P", P[0]), ("dilation", d[0]))
        if None in (f, s, p, dd):
            return f, s, p, dd, None
        try:
            return f, s, p, dd, ref_sizes((H, W), f, s, p, dd, exact)
        except Invalid as error:
            problems += error.names
            return f, s, p, dd, None

    def reference():
        problems = []
        (Xl,) = gather(problems, ("X", X_val))
        f, s, p, dd, sizes = geometry_of(problems)
        refuse_if(problems)
        Xp = padded(Xl[None], p)[0]
        columns = [Xp[taps(i, s[0], f[0], dd[0]), taps(j, s[1], f[1], dd[1])].ravel()
                   for i in range(sizes[0]) for j in range(sizes[1])]
        return np.stack(columns, axis=1)

    verify(lambda: c.im2col(X, F[1], **kwargs), reference, lambda got, e: assert_exact(got, e, [X.dtype]))

    if hasattr(c, "window_positions"):  # the taps' (row, column) in the padded input, for figures
        size = (data.draw(spelled(H)), data.draw(spelled(W)))

        def reference_positions():
            problems = []
            f, s, p, dd, sizes = geometry_of(problems)
            refuse_if(problems)
            return np.array([[[[(i * s[0] + a * dd[0], j * s[1] + b * dd[1]) for b in range(f[1])] for a in range(f[0])]
                              for j in range(sizes[1])] for i in range(sizes[0])])  # (H2, W2, FH, FW, 2)

        verify(lambda: c.window_positions(size, F[1], **kwargs), reference_positions,
               lambda got, e: np.testing.assert_array_equal(got, e))

    # col2im: columns of the right shape (or, now and then, a wrong one) back into an (H, W, D) volume
    f, s, p, dd, sizes = geometry_of([])
    cols_shape = (f[0] * f[1] * D, sizes[0] * sizes[1]) if sizes else (2, 3)
    if data.draw(st.integers(0, 19)) == 0:
        cols_shape = (cols_shape[0] + 1, cols_shape[1])
    X_col, X_col_val = data.draw(array(cols_shape))
    input_shape = (data.draw(spelled(H)), data.draw(spelled(W)), data.draw(spelled(D)))

    def reference_col2im():
        problems = []
        (cols,) = gather(problems, ("X_col", X_col_val))
        f, s, p, dd, sizes = geometry_of(problems)
        if cols is not None and sizes and cols.shape != (f[0] * f[1] * D, sizes[0] * sizes[1]):
            problems.append("X_col")
        refuse_if(problems)
        H2, W2 = sizes
        out = []
        for values_ in (as64(cols), np.abs(as64(cols))):
            Xp = np.zeros((H + 2 * p[0], W + 2 * p[1], D))
            for i in range(H2):
                for j in range(W2):
                    Xp[taps(i, s[0], f[0], dd[0]), taps(j, s[1], f[1], dd[1])] += values_[:, i * W2 + j].reshape(f[0], f[1], D)
            out.append(Xp[p[0] : p[0] + H, p[1] : p[1] + W])
        return out[0], out[1], math.ceil(f[0] / s[0]) * math.ceil(f[1] / s[1])

    def compare(got, expected):
        value, scale, terms = expected
        assert_close(got, value, scale, terms, rule(X_col.dtype))

    verify(lambda: c.col2im(X_col, input_shape, F[1], **kwargs), reference_col2im, compare)


# ---------------------------------------------------------------------------------------------------
# The CONV layer: conv2d, conv2d_naive, conv2d_fast, conv2d_backward, conv_transpose2d


@st.composite
def conv_case(draw):
    F, S, P, d, exact, (H, W) = draw(geometry(bad_F=False))  # conv2d takes F from W
    groups = draw(hyper(1, 2, pair=False)) if NEW else (1, 1)
    g = groups[0] if not isinstance(groups[0], Bad) else 1
    Dg, Kg = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    D, K = g * Dg, g * Kg
    f = F[0] if not isinstance(F[0], Bad) else (1, 1)
    W_shape = (K, f[0], f[1], Dg + (draw(st.integers(0, 24)) == 0))  # now and then the wrong depth
    batch = draw(st.sampled_from([(), (1,), (2,)]))
    X, X_val = draw(array(batch + (H, W, D)))
    Wt, W_val = draw(array(W_shape))
    b, b_val = draw(st.one_of(st.just((None, None)), array((K + (draw(st.integers(0, 24)) == 0),))))
    kwargs = {"S": S[1], "P": P[1]} | ({"dilation": d[1], "groups": groups[1], "exact": exact} if NEW else {})
    return dict(F=F, S=S, P=P, d=d, exact=exact, groups=groups, batch=batch, X=X, X_val=X_val, W=Wt, W_val=W_val,
                b=b, b_val=b_val, kwargs=kwargs)


def conv_logical(case, with_b=True):
    """(problems, X4, W, b, S, P, dilation, groups, (H2, W2)): every wrong argument is named in problems."""
    problems = []
    X, W, b, s, p, dd, g = gather(problems, ("X", case["X_val"]), ("W", case["W_val"]),
                                  ("b", case["b_val"] if with_b else None), ("S", case["S"][0]), ("P", case["P"][0]),
                                  ("dilation", case["d"][0]), ("groups", case["groups"][0]))
    if X is not None and W is not None and g is not None:
        D, K = X.shape[-1], W.shape[0]
        if D % g or K % g:
            problems += ["groups", "W", "X", "D1", "K"]
        elif W.shape[3] * g != D:
            problems += ["W", "X", "D1", "depth", "groups"]
    if b is not None and W is not None and b.shape != (W.shape[0],):
        problems.append("b")
    sizes = None
    if X is not None and W is not None and None not in (s, p, dd):
        try:
            sizes = ref_sizes(X.shape[-3:-1], W.shape[1:3], s, p, dd, case["exact"])
        except Invalid as error:
            problems += error.names
    if X is not None:
        X = as64(X if X.ndim == 4 else X[None])
    if W is not None:
        b = np.zeros(W.shape[0]) if b is None else as64(b)
        W = as64(W)
    return problems, X, W, b, s, p, dd, g, sizes


@covers("conv2d", "conv2d_naive", "conv2d_fast")
@pytest.mark.parametrize("kernel", KERNELS)
@fuzz(40)
@given(data=st.data())
def test_conv(kernel, data):
    case = data.draw(conv_case())
    dtypes = [case["X"].dtype, case["W"].dtype] + ([case["b"].dtype] if case["b"] is not None else [])

    def reference():
        problems, X4, W, b, s, p, dd, g, _ = conv_logical(case)
        refuse_if(problems)
        V = ref_conv(X4, W, b, s, p, dd, g, case["exact"])
        scale = ref_conv(np.abs(X4), np.abs(W), np.abs(b), s, p, dd, g, case["exact"])
        if not case["batch"]:
            V, scale = V[0], scale[0]
        return V, scale, W[0].size + 1

    def compare(got, expected):
        V, scale, terms = expected
        assert_close(got, V, scale, terms, rule(*dtypes))

    verify(lambda: getattr(c, kernel)(case["X"], case["W"], case["b"], **case["kwargs"]), reference, compare)


@covers("conv2d_backward", *(["conv2d_backward_fast"] if hasattr(c, "conv2d_backward_fast") else []))
@fuzz(40)
@given(data=st.data())
def test_conv2d_backward(data):
    case = data.draw(conv_case())
    problems, X4, W, _, s, p, dd, g, sizes = conv_logical(case, with_b=False)
    dV_shape = case["batch"] + (sizes if sizes else (1, 1)) + ((W.shape[0],) if W is not None else (1,))
    if data.draw(st.integers(0, 19)) == 0:
        dV_shape = dV_shape[:-1] + (dV_shape[-1] + 1,)
    dV, dV_val = data.draw(array(dV_shape))
    kwargs = dict(case["kwargs"])

    def reference():
        (dV_l,) = gather(problems, ("dV", dV_val))
        if dV_l is not None and sizes and W is not None and dV_l.shape != case["batch"] + sizes + (W.shape[0],):
            problems.append("dV")
        refuse_if(problems)
        H2, W2 = sizes
        dV4 = as64(dV_l).reshape((-1, H2, W2, W.shape[0]))
        value = ref_conv_backward(dV4, X4, W, s, p, dd, g, case["exact"])
        scale = ref_conv_backward(np.abs(dV4), np.abs(X4), np.abs(W), s, p, dd, g, case["exact"])
        terms = dV4.shape[0] * H2 * W2 * W.shape[0]
        if not case["batch"]:
            value, scale = (value[0][0],) + value[1:], (scale[0][0],) + scale[1:]
        return value, scale, terms

    def compare(got, expected):
        value, scale, terms = expected
        assert isinstance(got, tuple) and len(got) == 3
        dtype = rule(dV.dtype, case["X"].dtype, case["W"].dtype)
        for g_, v, sc in zip(got, value, scale):
            assert_close(g_, v, sc, terms, dtype)

    verify(lambda: c.conv2d_backward(dV, case["X"], case["W"], **kwargs), reference, compare)
    if hasattr(c, "conv2d_backward_fast"):  # the layers' tuned one: the same checks and numbers
        verify(lambda: c.conv2d_backward_fast(dV, case["X"], case["W"], **kwargs), reference, compare)


if hasattr(c, "conv_transpose2d"):

    @covers("conv_transpose2d", "conv_transpose_output_size", *(["conv_transpose2d_fast"] if hasattr(c, "conv_transpose2d_fast") else []))
    @fuzz(40)
    @given(data=st.data())
    def test_conv_transpose2d(data):
        F, S, P, d, _, _ = data.draw(geometry(bad_F=False))  # F comes from W
        op = data.draw(hyper(0, 2, minimum=0))
        groups = data.draw(hyper(1, 2, pair=False))
        g = groups[0] if not isinstance(groups[0], Bad) else 1
        Dg, Kg = data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2))
        f = F[0]
        batch = data.draw(st.sampled_from([(), (2,)]))
        H2, W2 = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
        Y, Y_val = data.draw(array(batch + (H2, W2, g * Kg)))
        Wt, W_val = data.draw(array((g * Kg + (data.draw(st.integers(0, 24)) == 0), f[0], f[1], Dg)))
        b, b_val = data.draw(st.one_of(st.just((None, None)), array((g * Dg + (data.draw(st.integers(0, 24)) == 0),))))
        kwargs = dict(S=S[1], P=P[1], output_padding=op[1], dilation=d[1], groups=groups[1])

        def sizes_of(problems, s, p, dd, o):
            """H1, W1 = S (H2 - 1) + dilation (F - 1) + 1 - 2P + output_padding, or the problems."""
            if None in (s, p, dd, o):
                return None
            if any(o[a] >= max(s[a], dd[a]) for a in range(2)):
                problems += ["output_padding"]
                return None
            sizes = [s[a] * ((H2, W2)[a] - 1) + dd[a] * (f[a] - 1) + 1 - 2 * p[a] + o[a] for a in range(2)]
            if min(sizes) < 1:
                problems += ["P", "S", "output_padding", "dilation", "H2", "W2"]
                return None
            return sizes

        def reference_size():
            problems = []
            s, p, dd, o = gather(problems, ("S", S[0]), ("P", P[0]), ("dilation", d[0]), ("output_padding", op[0]))
            sizes = sizes_of(problems, s, p, dd, o)
            refuse_if(problems)
            return tuple(sizes)

        def compare_size(got, expected):
            assert type(got) is tuple and all(type(v) is int for v in got) and got == expected, (got, expected)

        verify(lambda: c.conv_transpose_output_size((H2, W2), F[1], S[1], P[1], op[1], d[1]), reference_size,
               compare_size)

        def reference():
            problems = []
            Yl, W, bl, s, p, dd, o, gg = gather(
                problems, ("Y", Y_val), ("W", W_val), ("b", b_val), ("S", S[0]), ("P", P[0]),
                ("dilation", d[0]), ("output_padding", op[0]), ("groups", groups[0]))
            if Yl is not None and W is not None and gg is not None and (W.shape[0] % gg or Yl.shape[-1] != W.shape[0]):
                problems += ["groups", "W", "Y"]
            if bl is not None and W is not None and gg is not None and bl.shape != (W.shape[3] * gg,):
                problems.append("b")
            sizes = sizes_of(problems, s, p, dd, o)
            refuse_if(problems)
            K, D = W.shape[0], W.shape[3] * gg
            Y4 = as64(Yl).reshape((-1, H2, W2, K))
            N, Kg_ = Y4.shape[0], K // gg
            out = []
            for Yv, Wv in ((Y4, as64(W)), (np.abs(Y4), np.abs(as64(W)))):
                full = [max(s[a] * ((H2, W2)[a] - 1) + dd[a] * (f[a] - 1) + 1, sizes[a] + p[a]) for a in range(2)]
                Z = np.zeros((N, full[0], full[1], D))
                for i in range(H2):
                    for j in range(W2):
                        for q in range(gg):
                            Z[:, taps(i, s[0], f[0], dd[0]), taps(j, s[1], f[1], dd[1]), q * W.shape[3] : (q + 1) * W.shape[3]] += (
                                np.einsum("nk,kabc->nabc", Yv[:, i, j, q * Kg_ : (q + 1) * Kg_], Wv[q * Kg_ : (q + 1) * Kg_]))
                out.append(Z[:, p[0] : p[0] + sizes[0], p[1] : p[1] + sizes[1]])
            if bl is not None:
                out = [out[0] + as64(bl), out[1] + np.abs(as64(bl))]
            if not batch:
                out = [o_[0] for o_ in out]
            return out[0], out[1], N * H2 * W2 * K + 1

        dtypes = [Y.dtype, Wt.dtype] + ([b.dtype] if b is not None else [])
        verify(lambda: c.conv_transpose2d(Y, Wt, b, **kwargs), reference,
               lambda got, e: assert_close(got, e[0], e[1], e[2], rule(*dtypes)))
        if hasattr(c, "conv_transpose2d_fast"):  # the tuned one: the same checks and numbers
            verify(lambda: c.conv_transpose2d_fast(Y, Wt, b, **kwargs), reference,
                   lambda got, e: assert_close(got, e[0], e[1], e[2], rule(*dtypes)))


# ---------------------------------------------------------------------------------------------------
# Pooling and its backward passes


@st.composite
def pool_case(draw):
    F, S, P, d, exact, (H, W) = draw(geometry(F_max=3, S_max=3, P_max=1, dilation="dilation" in keywords(c.max_pool),
                                              pool=True))
    if not POOL_P:
        P, exact = ((0, 0), 0), True
    batch = draw(st.sampled_from([(), (2,)]))
    X, X_val = draw(array(batch + (H, W, draw(st.integers(1, 2)))))
    mode = draw(st.sampled_from(["max", "avg"]))
    if mode == "avg":
        d = ((1, 1), 1)
    return F, S, P, d, exact, batch, X, X_val, mode


def empty_window(shape, f, s, p, dd, sizes):
    """Whether a window reads padding only: along an axis, no tap i*S + a*dilation - P lands in 0..n-1."""
    def empty(n, f, s, p, d, m):
        return any(all(not 0 <= i * s + a * d - p < n for a in range(f)) for i in range(m))
    return any(empty(shape[a], f[a], s[a], p[a], dd[a], sizes[a]) for a in range(2))


def pool_logical(F, S, P, d, exact, X_val, mode):
    """(problems, X4, F, S, P, dilation, (H2, W2)): every wrong argument is named in problems."""
    problems = []
    Xl, f, s, p, dd = gather(problems, ("X", X_val), ("F", F[0]), ("S", S[0]), ("P", P[0]), ("dilation", d[0]))
    if POOL_P and None not in (f, p) and any(2 * p_ > f_ for p_, f_ in zip(p, f)):
        problems += ["P", "F"]
    sizes = None
    if Xl is not None and None not in (f, s, p, dd):
        try:
            sizes = ref_sizes(Xl.shape[-3:-1], f, s, p, dd, exact)
        except Invalid as error:
            problems += error.names
    X4 = None if Xl is None else (Xl if Xl.ndim == 4 else Xl[None])
    if mode == "max" and sizes and Xl.dtype.kind in "iu" and empty_window(X4.shape[1:3], f, s, p, dd, sizes):
        problems += ["P", "dilation"]  # max pooling: an integer window of padding only has no -inf to give
    return problems, X4, f, s, p, dd, sizes


@covers("max_pool", "avg_pool")
@fuzz(60)
@given(data=st.data())
def test_pool(data):
    F, S, P, d, exact, batch, X, X_val, mode = data.draw(pool_case())
    function = c.max_pool if mode == "max" else c.avg_pool

    def reference():
        problems, X4, f, s, p, dd, _ = pool_logical(F, S, P, d, exact, X_val, mode)
        refuse_if(problems)
        V = ref_pool(X4, f, s, p, dd, exact, mode)
        scale = ref_pool(np.abs(as64(X4)), f, s, p, dd, exact, "avg") if mode == "avg" else None
        return (V if batch else V[0]), (scale if batch or scale is None else scale[0]), f[0] * f[1]

    def compare(got, expected):
        V, scale, terms = expected
        if mode == "max":  # a selection: exact, in X's dtype
            assert_exact(got, V, [X.dtype])
        else:
            assert_close(got, V, scale, terms, rule(X.dtype))

    verify(lambda: function(X, F[1], **pool_kwargs(function, S[1], P[1], d[1], exact)), reference, compare)


@covers("max_pool_backward", "avg_pool_backward", *(["max_pool_backward_fast"] if hasattr(c, "max_pool_backward_fast") else []))
@fuzz(50)
@given(data=st.data())
def test_pool_backward(data):
    F, S, P, d, exact, batch, X, X_val, mode = data.draw(pool_case())
    tuned = hasattr(c, "max_pool_backward_fast") and data.draw(st.booleans())  # the layers' tuned one: the same checks
    function = (c.max_pool_backward_fast if tuned else c.max_pool_backward) if mode == "max" else c.avg_pool_backward
    problems, X4, f, s, p, dd, sizes = pool_logical(F, S, P, d, exact, X_val, mode)
    depth = X.shape[-1]
    dV_shape = batch + (sizes if sizes else (1, 1)) + (depth,)
    if data.draw(st.integers(0, 19)) == 0:
        dV_shape = dV_shape[:-1] + (depth + 1,)
    dV, dV_val = data.draw(array(dV_shape))

    def reference():
        (dV_l,) = gather(problems, ("dV", dV_val))
        if dV_l is not None and sizes and dV_l.shape != batch + sizes + (depth,):
            problems.append("dV")
        refuse_if(problems)
        H2, W2 = sizes
        dV4 = as64(dV_l).reshape((-1, H2, W2, depth))
        value = ref_pool_backward(dV4, X4, f, s, p, dd, mode)
        scale = ref_pool_backward(np.abs(dV4), X4, f, s, p, dd, mode)
        terms = math.ceil(f[0] / s[0]) * math.ceil(f[1] / s[1])
        return (value if batch else value[0]), (scale if batch else scale[0]), terms

    def compare(got, expected):
        value, scale, terms = expected
        got = np.asarray(got)
        allowed = [rule(dV.dtype), rule(dV.dtype, X.dtype)]  # X only routes the gradient
        assert got.dtype in allowed, f"dtype {got.dtype}, expected one of {allowed}"
        assert_close(got, value, scale, terms, got.dtype)

    verify(lambda: function(dV, X, F[1], **pool_kwargs(function, S[1], P[1], d[1], exact)), reference, compare)


# ---------------------------------------------------------------------------------------------------
# FC, ReLU, softmax loss


@st.composite
def fc_case(draw):
    form = draw(st.sampled_from(["vector", "vectors", "volume", "volumes"]))
    shape = {"vector": (), "vectors": (2,), "volume": (), "volumes": (2,)}[form]
    inner = (draw(st.integers(1, 5)),) if form in ("vector", "vectors") else tuple(draw(st.integers(1, 3)) for _ in range(3))
    K, n = draw(st.integers(1, 3)), math.prod(inner)
    X, X_val = draw(array(shape + inner))
    W, W_val = draw(array((K, n + (draw(st.integers(0, 24)) == 0))))
    b, b_val = draw(array((K + (draw(st.integers(0, 24)) == 0),)))
    return form in ("vectors", "volumes"), X, X_val, W, W_val, b, b_val


def fc_logical(problems, batched, X_val, W_val, b_val=None):
    """(x (N, n) float64, W float64) with every wrong argument named in problems (None where unusable)."""
    X, W, b = gather(problems, ("X", X_val), ("W", W_val), ("b", b_val))
    x = None if X is None else (X.reshape(X.shape[0], -1) if batched else X.reshape(1, -1))
    if x is not None and W is not None and x.shape[1] != W.shape[1]:
        problems += ["W", "X"]
    if b is not None and W is not None and b.shape != (W.shape[0],):
        problems.append("b")
    return (None if x is None else as64(x)), (None if W is None else as64(W))


@covers("fc", "fc_backward", "fc_fast")
@fuzz(60)
@given(data=st.data())
def test_fc_and_fc_backward(data):
    batched, X, X_val, W, W_val, b, b_val = data.draw(fc_case())

    def reference():
        problems = []
        x, W64 = fc_logical(problems, batched, X_val, W_val, b_val)
        refuse_if(problems)
        b64 = as64(b_val)
        V, scale = x @ W64.T + b64, np.abs(x) @ np.abs(W64).T + np.abs(b64)
        return (V if batched else V[0]), (scale if batched else scale[0]), W64.shape[1] + 1

    for function in (c.fc, c.fc_fast):  # the tuned one: the same checks, the same numbers up to rounding
        verify(lambda: function(X, W, b), reference,
               lambda got, e: assert_close(got, e[0], e[1], e[2], rule(X.dtype, W.dtype, b.dtype)))

    K = W.shape[0]
    dV, dV_val = data.draw(array(((X.shape[0],) if batched else ()) + (K + (data.draw(st.integers(0, 19)) == 0),)))

    def reference_backward():
        problems = []
        x, W64 = fc_logical(problems, batched, X_val, W_val)
        (dV_l,) = gather(problems, ("dV", dV_val))
        if dV_l is not None and dV_l.shape != ((X.shape[0],) if batched else ()) + (W.shape[0],):
            problems.append("dV")
        refuse_if(problems)
        dV2 = as64(dV_l).reshape(-1, W64.shape[0])
        shape = X_val.shape
        value = ((dV2 @ W64).reshape(shape), dV2.T @ x, dV2.sum(axis=0))
        scale = ((np.abs(dV2) @ np.abs(W64)).reshape(shape), np.abs(dV2).T @ np.abs(x), np.abs(dV2).sum(axis=0))
        return value, scale, max(W64.shape) + x.shape[0]

    def compare(got, expected):
        value, scale, terms = expected
        assert isinstance(got, tuple) and len(got) == 3
        for g_, v, s in zip(got, value, scale):
            assert_close(g_, v, s, terms, rule(dV.dtype, X.dtype, W.dtype))

    verify(lambda: c.fc_backward(dV, X, W), reference_backward, compare)


@covers("relu", "relu_backward")
@fuzz(50)
@given(data=st.data())
def test_relu_and_relu_backward(data):
    shape = tuple(data.draw(st.integers(1, 3)) for _ in range(data.draw(st.integers(1, 4))))
    X, X_val = data.draw(array(shape))

    def reference():
        (Xl,) = logical(("X", X_val))
        return np.where(Xl.astype(object) > 0, Xl.astype(object), 0)

    verify(lambda: c.relu(X), reference, lambda got, e: assert_exact(got, e, [X.dtype]))

    dV, dV_val = data.draw(array(shape if data.draw(st.integers(0, 19)) else shape + (1,)))

    def reference_backward():
        problems = []
        Xl, dVl = gather(problems, ("X", X_val), ("dV", dV_val))
        if dVl is not None and dVl.shape != X.shape:
            problems += ["dV", "X"]
        refuse_if(problems)
        return np.where(Xl > 0, as64(dVl), 0.0), np.abs(as64(dVl)), 1

    def compare(got, expected):
        got = np.asarray(got)
        allowed = [rule(dV.dtype), rule(dV.dtype, X.dtype)]
        assert got.dtype in allowed, f"dtype {got.dtype}, expected one of {allowed}"
        assert_close(got, expected[0], expected[1], 1, got.dtype)

    verify(lambda: c.relu_backward(dV, X), reference_backward, compare)


@covers("softmax_loss")
@fuzz(50)
@given(data=st.data())
def test_softmax_loss(data):
    single = data.draw(st.booleans())
    N, K = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 4))
    scores, s_val = data.draw(array((K,) if single else (N, K)))
    labels = [data.draw(st.integers(0, K - 1)) for _ in range(1 if single else N)]
    bad = data.draw(st.integers(0, 14))
    if bad == 0:
        labels[0] = data.draw(st.sampled_from([K, -1]))  # out of range
    if single and data.draw(st.booleans()):
        y = data.draw(spelled(labels[0])) if labels[0] >= 0 else labels[0]
    else:
        y = np.array(labels, dtype=data.draw(st.sampled_from([t for t in INTEGERS if labels[0] >= 0 or np.iinfo(t).min < 0])))
    if bad == 1:
        y = np.array(labels, dtype=float)  # labels must be integers
    if bad == 2:
        y = np.array(labels + [0])  # one label too many

    def reference():
        problems = []
        (s,) = gather(problems, ("scores", s_val))
        if bad in (0, 1, 2):
            problems.append("y")
        refuse_if(problems)
        s2 = as64(s).reshape(-1, K)
        shifted = s2 - s2.max(axis=1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        rows = np.arange(len(labels))
        loss = -log_p[rows, labels].mean()
        dscores = np.exp(log_p)
        dscores[rows, labels] -= 1
        dscores /= len(labels)
        spread = float(np.max(np.abs(shifted))) + K
        return loss, (dscores[0] if single else dscores), spread

    def compare(got, expected):
        loss, dscores, spread = expected
        dtype = rule(scores.dtype)
        eps = max(float(np.finfo(dtype).eps), 2.0**-52)
        assert isinstance(got, tuple) and type(got[0]) is float
        assert abs(got[0] - loss) <= 16 * K * eps * spread, (got[0], loss)
        assert_close(got[1], dscores, np.ones_like(dscores), 4 * K * spread, dtype)

    verify(lambda: c.softmax_loss(scores, y), reference, compare)


# ---------------------------------------------------------------------------------------------------
# Convolution as mathematics: convolve, impulse_responses, convolve_continuous, dice


@st.composite
def sequence(draw, name):
    """A 1-D sequence: an array of any dtype and layout, a list of Python ints, or a list of Fractions."""
    kind = draw(st.sampled_from(["array", "array", "ints", "fractions"]))
    n = draw(st.integers(1, 5))
    if kind == "ints":
        v = [draw(st.integers(-(10**20), 10**20)) for _ in range(n)]  # int64, uint64 or object arrays
        return v, v
    if kind == "fractions":
        v = [Fraction(draw(st.integers(-9, 9)), draw(st.integers(1, 9))) for _ in range(n)]
        return v, v
    return draw(array((n,), bad_dtypes=(np.bool_,)))  # complex sequences convolve too: not fuzzed here


@covers("convolve", "impulse_responses")
@fuzz(80)
@given(data=st.data())
def test_convolve_and_impulse_responses(data):
    (f, f_val), (g, g_val) = data.draw(sequence("f")), data.draw(sequence("g"))
    function = data.draw(st.sampled_from([c.convolve, c.impulse_responses]))

    def exact_numbers(v):  # Python ints, Fractions, or the exact Fractions of floats (float16 to longdouble)
        items = list(v) if isinstance(v, np.ndarray) else v
        return [Fraction(int(x)) if isinstance(x, (int, np.integer)) else
                Fraction(x) if isinstance(x, Fraction) else Fraction(*x.as_integer_ratio()) for x in items]

    def reference():
        fl, gl = logical(("f", f_val), ("g", g_val))
        fs, gs = exact_numbers(fl), exact_numbers(gl)
        rows = [[Fraction(0)] * (len(fs) + len(gs) - 1) for _ in fs]
        for m, fm in enumerate(fs):
            for k, gk in enumerate(gs):
                rows[m][m + k] = fm * gk
        if function is c.convolve:
            value = [sum(column) for column in zip(*rows)]
            scale = [sum(abs(x) for x in column) for column in zip(*rows)]
        else:
            value, scale = rows, [[abs(x) for x in row] for row in rows]
        return np.array(value, dtype=object), np.array(scale, dtype=object), len(fs)

    def compare(got, expected):
        value, scale, terms = expected
        got = np.asarray(got)
        assert got.shape == value.shape, (got.shape, value.shape)
        inputs = [np.asarray(v) for v in (f, g)]
        if all(v.dtype.kind in "iuO" for v in inputs) and got.dtype.kind in "iuO":
            # exact inputs, an exact result: Python ints, Fractions, or an integer dtype that did not wrap
            assert all(Fraction(a) == b for a, b in zip(got.ravel().tolist(), value.ravel())), (got, value)
        elif got.dtype.kind == "O":  # Fractions times floats: floats in an object array
            assert_close(got.astype(np.float64), value.astype(np.float64), scale.astype(np.float64), terms, np.float64)
        else:
            assert not any(v.dtype == object for v in inputs), f"exact inputs gave {got.dtype}"
            assert_close(got, value.astype(np.float64), scale.astype(np.float64), terms, rule(*[v.dtype for v in inputs]))

    verify(lambda: function(f, g), reference, compare)


def _box(t):
    return (np.abs(t) <= 0.5).astype(float)


def _bump(t):
    return np.exp(-np.asarray(t, dtype=float) ** 2)


@covers("convolve_continuous")
@fuzz(50)
@given(data=st.data())
def test_convolve_continuous(data):
    f, g = data.draw(st.sampled_from([_box, _bump])), data.draw(st.sampled_from([_box, _bump]))
    form = data.draw(st.sampled_from(["scalar", "array", "bad"]))
    if form == "scalar":
        number = data.draw(st.floats(-3, 3))
        x = data.draw(st.sampled_from([float, np.float16, np.float32, np.float64, Fraction]))(number)
        x_val = float(x)
    elif form == "array":
        x, x_val = data.draw(array((data.draw(st.integers(1, 4)),), bad=False))
        x_val = as64(x_val)
    else:
        x = data.draw(st.sampled_from([None, "0.5", 1j, [1j], np.array(["1"]), object()]))
        x_val = Bad(x)
    lo = data.draw(st.sampled_from([-5.0, -10, np.float32(-4), np.int8(-6), -np.inf, np.nan, 5.0]))
    hi = data.draw(st.sampled_from([5.0, 10, np.float32(4), np.uint8(6), np.inf]))
    n = data.draw(hyper(1, 300, pair=False))

    def reference():
        problems = []
        xv, nv = gather(problems, ("x", x_val), ("n", n[0]))
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            problems += ["lo", "hi"]
        refuse_if(problems)
        dt = (float(hi) - float(lo)) / nv
        t = float(lo) + dt * (np.arange(nv) + 0.5)
        return dt * (f(t) * g(np.asarray(xv, dtype=float)[..., None] - t)).sum(axis=-1)

    def compare(got, expected):
        np.testing.assert_allclose(np.asarray(got, dtype=float), expected, rtol=1e-9, atol=1e-12)

    verify(lambda: c.convolve_continuous(f, g, x, lo=lo, hi=hi, n=n[1]), reference, compare)


def _counts(n, faces):
    counts = [1]
    for _ in range(n):
        new = [0] * (len(counts) + faces - 1)
        for i, ways in enumerate(counts):
            for k in range(faces):
                new[i + k] += ways
        counts = new
    return counts


@covers("dice_pmf", "sum_of_dice", "convolve_pmf", "Pmf")
@fuzz(40)
@given(data=st.data())
def test_dice(data):
    exact = data.draw(st.booleans())
    n = data.draw(hyper(1, 4 if exact else 8, pair=False))
    faces = data.draw(hyper(1, 300 if data.draw(st.booleans()) else 8, pair=False))
    function = data.draw(st.sampled_from(["dice_pmf", "sum_of_dice"]))
    if function == "dice_pmf" or (not isinstance(faces[0], Bad) and faces[0] > 8):
        n, function = (1, 1), "dice_pmf"

    def reference():
        nv, fv = logical(("n", n[0]), ("faces", faces[0]))
        return nv, [Fraction(k, fv**nv) for k in _counts(nv, fv)]

    def compare(got, expected):
        nv, p = expected
        assert isinstance(got, c.Pmf) and got.start == nv and type(int(got.start)) is int
        if exact:
            assert list(got.p) == p and sum(got.p) == 1
        else:
            np.testing.assert_allclose(np.asarray(got.p, dtype=float), [float(q) for q in p], rtol=1e-12, atol=1e-15)

    call = (lambda: c.dice_pmf(faces[1], exact=exact)) if function == "dice_pmf" else (
        lambda: c.sum_of_dice(n[1], faces=faces[1], exact=exact))
    verify(call, reference, compare)

    # convolve_pmf of two PMFs whose starts are spelled in any integer type, and Pmf's lookups
    starts = [data.draw(st.integers(-200, 200)) for _ in range(2)]
    masses = [[Fraction(data.draw(st.integers(0, 5)), 7) for _ in range(data.draw(st.integers(1, 4)))] for _ in range(2)]
    a, b = (c.Pmf(data.draw(spelled(s)), np.array(m, dtype=object)) for s, m in zip(starts, masses))

    def reference_pmf():
        p = [Fraction(0)] * (len(masses[0]) + len(masses[1]) - 1)
        for i, x in enumerate(masses[0]):
            for j, y in enumerate(masses[1]):
                p[i + j] += x * y
        return starts[0] + starts[1], p

    def compare_pmf(got, expected):
        start, p = expected
        assert got.start == start and list(got.p) == p
        assert [int(v) for v in got.support] == list(range(start, start + len(p)))
        assert got[start + len(p) - 1] == p[-1] and got[start - 1] == 0 and got[start + len(p)] == 0

    verify(lambda: c.convolve_pmf(a, b), reference_pmf, compare_pmf)
    value = data.draw(st.integers(-300, 300))
    spelling = data.draw(spelled(value))
    i = value - starts[0]
    assert a[spelling] == (masses[0][i] if 0 <= i < len(masses[0]) else 0)


# ---------------------------------------------------------------------------------------------------
# Layers and networks


@st.composite
def net_case(draw):
    """A small stack of layers (valid hyperparameters; given weights sometimes of the wrong shape), its plan."""
    H, W, D = draw(st.integers(2, 7)), draw(st.integers(2, 7)), draw(st.integers(1, 3))
    if not NEW:
        W = H
    layers, plan, shape, invalid = [], [], (H, W, D), None
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["conv", "relu", "pool", "fc"] if len(shape) == 3 else ["relu", "fc"]))
        if kind == "conv":
            (k, K), (f, F) = draw(hyper(1, 3, pair=False, bad=False)), draw(hyper(1, 3, bad=False))
            (s, S), (p, P) = draw(hyper(1, 2, bad=False)), draw(hyper(0, 1, minimum=0, bad=False))
            weights = {}
            if draw(st.integers(0, 4)) == 0:  # given weights, now and then contradicting K or the depth
                wrong_k, wrong_d = draw(st.integers(0, 5)) == 0, draw(st.integers(0, 5)) == 0
                Wt, _ = draw(array((k + wrong_k, f[0], f[1], shape[2] + wrong_d), dtypes=[np.float64, np.float32], bad=False))
                bt, _ = draw(array((k + wrong_k,), dtypes=[np.float64], bad=False))
                weights = {"W": Wt, "b": bt}
                if wrong_k or wrong_d:
                    invalid = invalid or ("W", "K", "b", "D1", "depth")
            layers.append(functools.partial(c.ConvLayer, K=K, F=F, S=S, P=P, **weights))
            try:
                new = ref_sizes(shape[:2], f, s, p, (1, 1), True) + (k,)
            except Invalid as error:
                invalid, new = invalid or error.names, shape
            plan.append(("conv", f, s, p, new))
        elif kind == "pool":
            (f, F), (s, S) = draw(hyper(1, 2, bad=False)), draw(hyper(1, 2, bad=False))
            mode = draw(st.sampled_from(["max", "avg"]))
            layers.append(functools.partial(c.PoolLayer, F=F, S=S, mode=mode))
            try:
                new = ref_sizes(shape[:2], f, s, (0, 0), (1, 1), True) + (shape[2],)
            except Invalid as error:
                invalid, new = invalid or error.names, shape
            plan.append((mode, f, s, (0, 0), new))
        elif kind == "fc":
            k, K = draw(hyper(1, 3, pair=False, bad=False))
            layers.append(functools.partial(c.FCLayer, K=K))
            new = (k,)
            plan.append(("fc", new))
        else:
            layers.append(c.ReLULayer)
            new = shape
            plan.append(("relu", new))
        shape = new
    return (H, W, D), layers, plan, invalid


def net_weights(layer):
    params = getattr(layer, "params", None)
    if isinstance(params, dict):
        return params.get("W"), params.get("b")
    return getattr(layer, "W", None), getattr(layer, "b", None)


def ref_net(X4, layers, plan):
    """The layers' references applied in order (float64), and the same on absolute values (the scale)."""
    V, A = X4, np.abs(X4)
    for layer, step in zip(layers, plan):
        if step[0] == "conv":
            W, b = (as64(a) for a in net_weights(layer))
            _, f, s, p, _ = step  # kind, F, S, P, output shape
            V, A = ref_conv(V, W, b, s, p, (1, 1), 1, True), ref_conv(A, np.abs(W), np.abs(b), s, p, (1, 1), 1, True)
        elif step[0] in ("max", "avg"):
            _, f, s, p, _ = step
            V = as64(ref_pool(V, f, s, p, (1, 1), True, step[0]))
            A = as64(ref_pool(A, f, s, p, (1, 1), True, step[0]))
        elif step[0] == "fc":
            W, b = (as64(a) for a in net_weights(layer))
            V, A = V.reshape(len(V), -1) @ W.T + b, A.reshape(len(A), -1) @ np.abs(W).T + np.abs(b)
        else:
            V = np.maximum(V, 0)
    return V, A


@covers("Net", "Layer", "ConvLayer", "PoolLayer", "FCLayer", "ReLULayer")
@fuzz(40)
@given(data=st.data())
def test_layers_and_net(data):
    (H, W, D), factories, plan, invalid = data.draw(net_case())
    input_shape = tuple(data.draw(spelled(n)) for n in (H, W, D))
    seed = data.draw(spelled(data.draw(st.integers(0, 1000))))

    def reference_shapes():
        if invalid:
            raise Invalid(*invalid)
        return [(H, W, D)] + [step[-1] for step in plan]

    def compare_shapes(got, expected):
        shapes = got.shapes()
        assert shapes == expected and all(type(v) is int for s in shapes for v in s), shapes

    nets = []

    def build():  # the layers' constructors check given weights against K and F, the Net against the depth
        net = c.Net(input_shape, [make() for make in factories], seed=seed)
        nets.append(net)
        return net

    verify(build, reference_shapes, compare_shapes)
    if not nets:
        return
    net = nets[0]
    layers = net.layers
    batch = data.draw(st.sampled_from([(), (2,)]))
    wrong = data.draw(st.integers(0, 9)) == 0
    X, X_val = data.draw(array(batch + (H + wrong, W, D), dtypes=[np.float64, np.float32, np.int8, np.uint16], bad=False))

    def reference_forward():
        if wrong and any(step[0] == "fc" for step in plan):
            raise Invalid("X")  # a net with an FC layer takes its input size only; a conv net slides
        net.init()
        V, A = ref_net(as64(X_val).reshape((-1, H + wrong, W, D)), layers, plan)
        return (V if batch else V[0]), (A if batch else A[0])

    def compare_forward(got, expected):
        V, A = expected
        dtype, coarsest = X.dtype, np.dtype(np.float64)  # the rule, layer by layer (ReLU and max keep the dtype)
        for layer, step in zip(layers, plan):
            if step[0] in ("conv", "fc"):
                dtype = rule(dtype, *[a.dtype for a in net_weights(layer)])
            elif step[0] == "avg":
                dtype = rule(dtype)
            if dtype.kind == "f" and np.finfo(dtype).eps > np.finfo(coarsest).eps:
                coarsest = dtype  # an earlier layer's roundings stay in the numbers
        if dtype.kind in "iu":
            assert_exact(got, V, [dtype])
        else:
            assert_close(got, V, A, 4 * (H + 1) * W * D, dtype, precision=coarsest)

    verify(lambda: net(X), reference_forward, compare_forward)


@covers("Net")
@fuzz(40)
@given(data=st.data())
def test_net_sgd_step(data):
    net = c.Net((2, 2, 1), [c.ConvLayer(K=2, F=1), c.ReLULayer(), c.FCLayer(K=2)], seed=data.draw(spelled(3)))
    net.forward(np.ones((2, 2, 1)) + np.arange(4.0).reshape(2, 2, 1))
    net.backward(np.array([1.0, -2.0]) * data.draw(st.sampled_from([1.0, 1e3])))
    before = [p.copy() for p in net.params()]
    grads = [g.copy() for g in net.grads()]
    kind = data.draw(st.sampled_from(["float", "integer", "special"]))
    if kind == "float":
        lr = data.draw(st.sampled_from([float, np.float32, np.float64]))(data.draw(st.floats(-2, 2)))
    elif kind == "integer":
        lr = data.draw(spelled(data.draw(st.integers(-2, 2))))
    else:
        lr = data.draw(st.sampled_from([float("nan"), float("inf"), -np.inf, 1e308, np.float32("nan"), "0.1", None,
                                        [0.1], np.array([0.1, 0.2]), np.array(0.5), Fraction(1, 4), True]))

    def reference():
        if isinstance(lr, (str, list, type(None), bool, np.ndarray)):  # a real number, not an array
            raise Invalid("lr")
        value = float(lr)
        if value < 0:  # a step down the gradient
            raise Invalid("lr")
        updated = [p - value * g for p, g in zip(before, grads)]
        if not math.isfinite(value) or not all(np.all(np.isfinite(u)) for u in updated):
            raise Invalid("lr")
        return updated

    def compare(got, expected):
        for p, q in zip(net.params(), expected):
            np.testing.assert_allclose(p, q, rtol=1e-6, atol=1e-6)

    verify(lambda: net.sgd_step(lr), reference, compare)
    try:
        reference()
    except Invalid:  # refused: nothing changed
        for p, q in zip(net.params(), before):
            np.testing.assert_array_equal(p, q)


@covers("ConvLayer", "PoolLayer", "FCLayer")
@fuzz(50)
@given(data=st.data())
def test_layer_constructors(data):
    kind = data.draw(st.sampled_from(["conv", "pool", "fc"]))
    K, F = data.draw(hyper(1, 3, pair=False)), data.draw(hyper(1, 3))
    S, P = data.draw(hyper(1, 2)), data.draw(hyper(0, 1, minimum=0))
    H = data.draw(st.integers(3, 6))
    input_shape = (data.draw(spelled(H)), data.draw(spelled(H)), data.draw(spelled(2)))

    def reference():
        if kind == "conv":
            k, f, s, p = logical(("K", K[0]), ("F", F[0]), ("S", S[0]), ("P", P[0]))
            return ref_sizes((H, H), f, s, p, (1, 1), True) + (k,), f[0] * f[1] * 2 * k + k
        if kind == "pool":
            f, s = logical(("F", F[0]), ("S", S[0]))
            return ref_sizes((H, H), f, s, (0, 0), (1, 1), True) + (2,), 0
        (k,) = logical(("K", K[0]))
        return (k,), (H * H * 2 + 1) * k

    def call():
        if kind == "conv":
            layer = c.ConvLayer(K=K[1], F=F[1], S=S[1], P=P[1])
        elif kind == "pool":
            layer = c.PoolLayer(F=F[1], S=S[1])
        else:
            layer = c.FCLayer(K=K[1])
        return tuple(layer.output_shape(input_shape)), layer.n_params(input_shape)

    def compare(got, expected):
        assert got == expected and all(type(v) is int for v in got[0]) and type(got[1]) is int, (got, expected)

    verify(call, reference, compare)


@covers("fc_to_conv", "crop_scores", "slide")
@fuzz(25)
@given(data=st.data())
def test_fc_to_conv_crop_scores_and_slide(data):
    h = data.draw(st.integers(2, 4)) * 2
    w = data.draw(st.integers(2, 4)) * 2 if NEW else h
    net = c.Net((h, w, 2), [c.ConvLayer(K=2, F=1), c.ReLULayer(), c.PoolLayer(F=2, S=2), c.FCLayer(K=3)],
                seed=data.draw(st.integers(0, 99)))
    net.init()

    # fc_to_conv: the FC weights as one filter per neuron over the whole input volume
    Wfc, W_val = data.draw(array((3, (h // 2) * (w // 2) * 2 + (data.draw(st.integers(0, 14)) == 0))))
    shape = tuple(data.draw(spelled(n)) for n in (h // 2, w // 2, 2))

    def reference_fc_to_conv():
        (Wl,) = logical(("W", W_val))
        if Wl.shape[1] != (h // 2) * (w // 2) * 2:
            raise Invalid("W", "input_shape")
        return Wl.reshape(3, h // 2, w // 2, 2)

    verify(lambda: c.fc_to_conv(Wfc, shape), reference_fc_to_conv, lambda got, e: assert_exact(got, e, [Wfc.dtype]))

    # crop_scores and slide over a larger image, the stride in any integer type
    T = 2  # the net's total stride
    stride_value = data.draw(st.sampled_from([1, 2, 2, 3, 4]))
    stride = data.draw(spelled(stride_value))
    extra = (data.draw(st.integers(0, 2)), data.draw(st.integers(0, 2)))
    image_shape = (h + extra[0] * stride_value + (data.draw(st.integers(0, 9)) == 0), w + extra[1] * stride_value, 2)
    image, image_val = data.draw(array(image_shape, dtypes=[np.float64, np.float32, np.int16], bad=False))

    def reference_crops():
        rows = [ref_size(image_shape[0], h, stride_value, 0, names=("stride", "image", "image height", "h"))]
        cols = [ref_size(image_shape[1], w, stride_value, 0, names=("stride", "image", "image width", "w"))]
        scores = np.array([[net(image_val[i * stride_value : i * stride_value + h, j * stride_value : j * stride_value + w])
                            for j in range(cols[0])] for i in range(rows[0])])
        return scores

    def compare(got, expected):
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9)

    verify(lambda: c.crop_scores(net, image, stride), reference_crops, compare)

    def reference_slide():
        if T % stride_value:
            raise Invalid("stride")
        return reference_crops()

    verify(lambda: c.slide(net.to_conv(), image, stride), reference_slide, compare)


@covers("cifar10_net", "alexnet_like")
@fuzz(15)
@given(data=st.data())
def test_network_builders(data):
    seed = data.draw(st.integers(0, 200))
    net, twin = c.cifar10_net(seed=data.draw(spelled(seed))), c.cifar10_net(seed=seed)
    X = np.random.default_rng(seed).normal(size=(32, 32, 3))
    np.testing.assert_array_equal(net(X), twin(X))

    size = data.draw(st.sampled_from([32, 64, 48]))
    depths = [data.draw(st.integers(1, 2)) for _ in range(5)]
    fc_sizes = [data.draw(st.integers(1, 3)) for _ in range(data.draw(st.integers(0, 2)))]
    classes = data.draw(st.integers(1, 3))
    args = dict(input_size=data.draw(spelled(size)), depths=tuple(data.draw(spelled(d)) for d in depths),
                fc_sizes=tuple(data.draw(spelled(n)) for n in fc_sizes), classes=data.draw(spelled(classes)),
                seed=data.draw(spelled(seed)))

    def reference():
        if size % 32:
            raise Invalid(*GEOMETRY, "input_size")
        shapes, s = [(size, size, 3)], size
        for d in depths:
            shapes += [(s, s, d), (s, s, d), (s // 2, s // 2, d)]
            s //= 2
        for n in fc_sizes:
            shapes += [(n,), (n,)]
        return shapes + [(classes,)]

    def compare(got, expected):
        assert got.shapes() == expected and all(type(v) is int for s in got.shapes() for v in s)
        scores = got(np.zeros((size, size, 3)))
        assert scores.shape == (classes,) and np.all(np.isfinite(scores))

    verify(lambda: c.alexnet_like(**args), reference, compare)


# ---------------------------------------------------------------------------------------------------
# Issue 14: batch norm, global average pooling, residual blocks, summaries, the five architectures

OMIT = object()  # a keyword left out: its default is used
EPS = [OMIT, 1e-5, 1e-3, 0.5, 1, np.float32(1e-3), np.float16(0.01)]
BAD_EPS = [0, -1e-5, "1e-5", None, math.nan, math.inf, True, [1e-5]]


def ref_eps(eps):
    """eps as a Python float, or Invalid("eps"): a positive finite real number, not a bool."""
    if eps is OMIT:
        return 1e-5
    if isinstance(eps, (bool, str, list, type(None))) or not math.isfinite(eps) or eps <= 0:
        raise Invalid("eps")
    return float(eps)


def slices(X):
    """The depth slices of X (..., D) as float64 vectors of the m numbers each (positions and images)."""
    return [as64(X[..., d]).ravel() for d in range(X.shape[-1])]


def ref_statistics(x, eps):
    """mean, var (biased, divided by m), sigma and the conditioning factor of the statistics' roundings.

    A rounding of the mean or of the sum of squares moves var by about eps * mean((|x| + |mean|)^2),
    relative to var + eps: kappa = 1 + mean((|x| + |mean|)^2) / (var + eps) scales every bound below
    (a constant slice of large numbers normalises rounding noise: kappa is huge there, rightly).
    The mean and variance are exact (fractions), each rounded once: a float64 mean of three equal numbers
    can round to a neighbour, and their variance, exactly 0, came out as (1 ulp)^2 > eps, which made
    the reference's gradient 0 where the exact one (cnnref's, in float128) is gamma / sqrt(eps) (dY - mean dY).
    """
    m = len(x)
    exact = [Fraction(float(v)) for v in x]
    mean_exact = sum(exact) / m
    mean = float(mean_exact)
    var = float(sum((v - mean_exact) ** 2 for v in exact) / m)
    A = math.fsum((np.abs(x) + abs(mean)) ** 2) / m
    return mean, var, math.sqrt(var + eps), 1 + A / (var + eps), A


@covers("batch_norm_eval", "batch_norm_eval_fast", "batch_norm_train", "batch_norm_backward")
@fuzz(40)
@given(data=st.data())
def test_batch_norm(data):
    D = data.draw(st.integers(1, 3))
    lead = tuple(data.draw(st.integers(1, 3)) for _ in range(data.draw(st.sampled_from([0, 1, 1, 2, 2, 3]))))
    if data.draw(st.integers(0, 29)) == 0:
        lead = (2, 1, 1, 2)  # 5-D: refused
    X, X_val = data.draw(array(lead + (D,)))
    vectors = []
    for _ in range(4):  # gamma, beta, mean, var: one number per depth slice (now and then one too many)
        vectors.append(data.draw(array((D + (data.draw(st.integers(0, 59)) == 0),), bad=data.draw(st.integers(0, 3)) == 0)))
    (gamma, g_val), (beta, b_val), (mean, m_val), (var, v_val) = vectors
    if not isinstance(v_val, Bad) and data.draw(st.integers(0, 9)):
        var = np.abs(var)  # a variance (int8's -128 stays negative: refused)
        v_val = np.array(var)
    eps = data.draw(st.sampled_from(EPS + BAD_EPS if data.draw(st.integers(0, 9)) == 0 else EPS))
    kw = {} if eps is OMIT else {"eps": eps}

    def common(problems, **named):
        """X, eps and the (D,) vectors checked; every wrong one named in problems."""
        Xl, *vs = gather(problems, ("X", X_val), *named.items())
        if Xl is not None and Xl.ndim > 4:
            problems.append("X")
        depth = X.shape[-1]
        for name, v in zip(named, vs):
            if v is not None and v.shape != (depth,):
                problems.append(name)
        try:
            e = ref_eps(eps)
        except Invalid:
            problems.append("eps")
            e = None
        return Xl, e, vs

    def reference_eval():
        problems = []
        Xl, e, (g, b, mu, v) = common(problems, gamma=g_val, beta=b_val, mean=m_val, var=v_val)
        if v is not None and np.any(as64(v) < 0):
            problems.append("var")
        refuse_if(problems)
        Y, scale = np.empty(Xl.shape), np.empty(Xl.shape)
        for d in range(D):
            s = math.sqrt(float(v[d]) + e)
            Y[..., d] = float(g[d]) * (as64(Xl[..., d]) - float(mu[d])) / s + float(b[d])
            scale[..., d] = abs(float(g[d])) * (np.abs(as64(Xl[..., d])) + abs(float(mu[d]))) / s + abs(float(b[d]))
        return Y, scale, 4

    for evaluate in (c.batch_norm_eval, c.batch_norm_eval_fast):
        verify(lambda: evaluate(X, gamma, beta, mean, var, **kw), reference_eval,
               lambda got, e: assert_close(got, e[0], e[1], e[2], rule(X.dtype, gamma.dtype, beta.dtype, mean.dtype, var.dtype)))

    def train_statistics(with_beta=True):
        problems = []
        Xl, e, (g, b) = common(problems, gamma=g_val, beta=b_val if with_beta else np.zeros(D))
        if Xl is not None and Xl.size // D < 2:
            problems.append("X")  # batch statistics need two numbers per depth slice
        refuse_if(problems)
        return Xl, e, as64(g), as64(b), [ref_statistics(x, e) for x in slices(Xl)]

    def reference_train():
        Xl, e, g, b, stats = train_statistics()
        m = Xl.size // D
        Y, Y_scale = np.empty(Xl.shape), np.empty(Xl.shape)
        for d, (mu, v, s, kappa, _) in enumerate(stats):
            x = as64(Xl[..., d])
            Y[..., d] = g[d] * (x - mu) / s + b[d]
            Y_scale[..., d] = abs(g[d]) * (np.abs(x) + abs(mu)) / s * kappa + abs(b[d])
        means, variances = (np.array([st_[i] for st_ in stats]) for i in (0, 1))
        mean_scale = np.array([math.fsum(np.abs(x)) / m for x in slices(Xl)])
        return (Y, means, variances), (Y_scale, mean_scale, np.array([st_[4] for st_ in stats])), m + 2

    def compare_three(*operands):
        """Three results, each close to its reference, all in the dtype the operands promote to."""
        def compare(got, expected):
            value, scale, terms = expected
            assert isinstance(got, tuple) and len(got) == 3
            for g_, v_, s_ in zip(got, value, scale):
                assert_close(g_, v_, s_, terms, rule(*(o.dtype for o in operands)))
        return compare

    verify(lambda: c.batch_norm_train(X, gamma, beta, **kw), reference_train, compare_three(X, gamma, beta))

    wrong = data.draw(st.integers(0, 19)) == 0
    dY, dY_val = data.draw(array(X.shape + ((1,) if wrong else ())))

    def reference_backward():
        problems = []
        (dYl,) = gather(problems, ("dY", dY_val))
        if wrong:
            problems.append("dY")
        try:
            Xl, e, g, _, stats = train_statistics(with_beta=False)
        except Invalid as error:
            problems += error.names
        refuse_if(problems)
        m = Xl.size // D
        dX, dX_scale = np.empty(Xl.shape), np.empty(Xl.shape)
        dgamma, dbeta, dgamma_scale, dbeta_scale = (np.empty(D) for _ in range(4))
        for d, (mu, v, s, kappa, _) in enumerate(stats):
            x, dy = as64(Xl[..., d]).ravel(), as64(dYl[..., d]).ravel()
            x_hat = (x - mu) / s
            # dY_i/dx_j = gamma/sigma (delta_ij - 1/m - x_hat_i x_hat_j / m): the Jacobian, entry by entry
            J = g[d] / s * (np.eye(m) - 1.0 / m - np.outer(x_hat, x_hat) / m)
            J_abs = abs(g[d]) / s * (np.eye(m) + 1.0 / m + np.outer(np.abs(x_hat), np.abs(x_hat)) / m)
            dX[..., d] = (dy @ J).reshape(Xl.shape[:-1])
            dX_scale[..., d] = (np.abs(dy) @ J_abs).reshape(Xl.shape[:-1]) * kappa
            dgamma[d], dbeta[d] = math.fsum(dy * x_hat), math.fsum(dy)
            dgamma_scale[d] = math.fsum(np.abs(dy) * (np.abs(x) + abs(mu)) / s) * kappa
            dbeta_scale[d] = math.fsum(np.abs(dy))
        return (dX, dgamma, dbeta), (dX_scale, dgamma_scale, dbeta_scale), 2 * m + 4

    verify(lambda: c.batch_norm_backward(dY, X, gamma, **kw), reference_backward, compare_three(dY, X, gamma))


@covers("global_avg_pool", "global_avg_pool_backward")
@fuzz(40)
@given(data=st.data())
def test_global_avg_pool(data):
    batch = data.draw(st.sampled_from([(), (2,), (1,)]))
    H, W, D = (data.draw(st.integers(1, 4)) for _ in range(3))
    shape = batch + (H, W, D)
    if data.draw(st.integers(0, 29)) == 0:
        shape = data.draw(st.sampled_from([(H, D), (1, 1, H, W, D)]))  # not a volume: refused
    X, X_val = data.draw(array(shape))

    def reference():
        (Xl,) = logical(("X", X_val))
        if Xl.ndim not in (3, 4):
            raise Invalid("X")
        X4 = as64(Xl).reshape((-1, H, W, D))
        V, scale = np.zeros((len(X4), D)), np.zeros((len(X4), D))
        for n in range(len(X4)):
            for d in range(D):
                V[n, d] = math.fsum(X4[n, :, :, d].ravel()) / (H * W)
                scale[n, d] = math.fsum(np.abs(X4[n, :, :, d]).ravel()) / (H * W)
        return (V if batch else V[0]), (scale if batch else scale[0]), H * W

    verify(lambda: c.global_avg_pool(X), reference, lambda got, e: assert_close(got, e[0], e[1], e[2], rule(X.dtype)))

    dV, dV_val = data.draw(array(batch + (D + (data.draw(st.integers(0, 19)) == 0),)))

    def reference_backward():
        problems = []
        Xl, dVl = gather(problems, ("X", X_val), ("dV", dV_val))
        if Xl is not None and Xl.ndim not in (3, 4):
            problems.append("X")
        if dVl is not None and dVl.shape != batch + (D,):
            problems.append("dV")
        refuse_if(problems)
        dV2 = as64(dVl).reshape(-1, D)
        dX = np.zeros((len(dV2), H, W, D))
        for n in range(len(dV2)):
            for i in range(H):
                for j in range(W):
                    dX[n, i, j] = dV2[n] / (H * W)  # each position's share of its slice's mean
        return (dX if batch else dX[0]), np.abs(dX if batch else dX[0]), 1

    def compare_backward(got, expected):
        value, scale, terms = expected
        got = np.asarray(got)
        allowed = [rule(dV.dtype), rule(dV.dtype, X.dtype)]  # X gives only the shape
        assert got.dtype in allowed, f"dtype {got.dtype}, expected one of {allowed}"
        assert_close(got, value, scale, terms, got.dtype)
        if got.dtype == np.float64 and X.dtype == np.float64:  # the adjoint identity <pool(X), dV> = <X, dX>
            left, right = np.sum(as64(c.global_avg_pool(X)) * as64(dV)), np.sum(as64(X) * got)
            bound = 1e-12 * (np.sum(np.abs(as64(X)) * np.abs(got)) + 1e-300)
            assert abs(left - right) <= bound, (left, right)

    verify(lambda: c.global_avg_pool_backward(dV, X), reference_backward, compare_backward)


@covers("residual_add")
@fuzz(40)
@given(data=st.data())
def test_residual_add(data):
    shape = data.draw(st.sampled_from([(2, 2, 1), (1, 3, 2, 2), (3, 1, 2)]))
    main, main_val = data.draw(array(shape))
    other = shape if data.draw(st.integers(0, 14)) else shape[:-1] + (shape[-1] + 1,)
    if data.draw(st.integers(0, 29)) == 0:
        other = (4,)  # a vector: not a volume
    shortcut, s_val = data.draw(array(other))

    def reference():
        problems = []
        a, b = gather(problems, ("main", main_val), ("shortcut", s_val))
        if b is not None and b.ndim not in (3, 4):
            problems.append("shortcut")
        if a is not None and b is not None and a.shape != b.shape:
            problems += ["main", "shortcut"]
        refuse_if(problems)
        return as64(a) + as64(b), np.abs(as64(a)) + np.abs(as64(b)), 1

    verify(lambda: c.residual_add(main, shortcut), reference,
           lambda got, e: assert_close(got, e[0], e[1], e[2], rule(main.dtype, shortcut.dtype)))


def pair_of(value):
    return tuple(value) if isinstance(value, tuple) else (value, value)


def ref_layers(layers, V):
    """The layers' definitions applied in order to a batch V (N, H, W, D) or (N, n), in float64 (inference)."""
    for layer in layers:
        V = ref_layer(layer, V)
    return V


def ref_layer(layer, V):
    if isinstance(layer, c.ResidualBlock):
        return ref_layers(layer.main, V) + ref_layers(layer.shortcut, V)
    if isinstance(layer, c.ConvLayer):
        W = as64(layer.W)
        b = as64(layer.b) if layer.bias else np.zeros(len(W))
        return ref_conv(V, W, b, pair_of(layer.S), pair_of(layer.P), pair_of(layer.dilation), layer.groups, layer.exact)
    if isinstance(layer, c.BatchNormLayer):
        g, b, mu, var = (as64(a) for a in (layer.params["gamma"], layer.params["beta"], layer.running_mean, layer.running_var))
        out = np.empty(V.shape)
        for d in range(V.shape[-1]):
            out[..., d] = g[d] * (V[..., d] - mu[d]) / math.sqrt(var[d] + layer.eps) + b[d]
        return out
    if isinstance(layer, c.ReLULayer):
        return np.maximum(V, 0.0)
    if isinstance(layer, c.PoolLayer):
        d = pair_of(layer.dilation)
        return as64(ref_pool(V, pair_of(layer.F), pair_of(layer.S), pair_of(layer.P), d, layer.exact, layer.mode))
    if isinstance(layer, c.FCLayer):
        return V.reshape(len(V), -1) @ as64(layer.W).T + as64(layer.b)
    if isinstance(layer, c.GlobalAvgPoolLayer):
        return V.sum(axis=(1, 2)) / (V.shape[1] * V.shape[2])
    raise AssertionError(f"no reference for {layer!r}")


def ref_param_count(layer, shape):
    """Parameters by the layer's formula: CONV K FH FW D/groups (+ K), BN 2 D, FC (n + 1) K; blocks add theirs."""
    if isinstance(layer, c.ResidualBlock):
        total = 0
        for path in (layer.main, layer.shortcut):
            s = shape
            for inner in path:
                total += ref_param_count(inner, s)
                s = inner.output_shape(s)
        return total
    if isinstance(layer, c.ConvLayer):
        FH, FW = pair_of(layer.F)
        return layer.K * FH * FW * (shape[2] // layer.groups) + (layer.K if layer.bias else 0)
    if isinstance(layer, c.BatchNormLayer):
        return 2 * shape[-1]
    if isinstance(layer, c.FCLayer):
        return (math.prod(shape) + 1) * layer.K
    return 0


def randomise(net, rng):
    """Draw every parameter and BN's running statistics at random (float64): no zero bias, no unit variance."""
    net.init()
    for p in net.params():
        p[...] = rng.standard_normal(p.shape)

    def walk(layers):
        for layer in layers:
            if isinstance(layer, c.ResidualBlock):
                walk(layer.main + layer.shortcut)
            elif isinstance(layer, c.BatchNormLayer):
                D = len(layer.params["gamma"])
                layer.running_mean, layer.running_var = rng.standard_normal(D), rng.uniform(0.25, 4.0, D)

    walk(net.layers)
    return net


def directional_check(net, X, rng):
    """Training mode: backward's dL/dX and dL/dparams against central differences along random directions."""
    G = rng.standard_normal(net.forward(X).shape)
    dX = net.backward(G)

    def relus(layers):
        for layer in layers:
            if isinstance(layer, c.ResidualBlock):
                yield from relus(layer.main + layer.shortcut)
            elif isinstance(layer, c.ReLULayer):
                yield layer

    if min((np.min(np.abs(r.X)) for r in relus(net.layers)), default=1.0) < 1e-4:
        event("a RELU input within 1e-4 of its kink: no central difference")
        return  # a step of 1e-6 along U may cross it: the difference quotient is not the derivative there
    grads = [g.copy() for g in net.grads()]
    loss = lambda: float(np.sum(net.forward(X) * G))
    U, h = rng.standard_normal(X.shape), 1e-6
    numeric = (float(np.sum(net.forward(X + h * U) * G)) - float(np.sum(net.forward(X - h * U) * G))) / (2 * h)
    analytic = float(np.sum(dX * U))
    assert abs(numeric - analytic) <= 1e-5 * (1 + abs(analytic)), ("dX", numeric, analytic)
    params = net.params()
    directions = [rng.standard_normal(p.shape) for p in params]
    for p, u in zip(params, directions):
        p += h * u
    plus = loss()
    for p, u in zip(params, directions):
        p -= 2 * h * u
    minus = loss()
    for p, u in zip(params, directions):
        p += h * u
    numeric = (plus - minus) / (2 * h)
    analytic = sum(float(np.sum(g * u)) for g, u in zip(grads, directions))
    assert abs(numeric - analytic) <= 1e-5 * (1 + abs(analytic)), ("params", numeric, analytic)


@covers("basic_block", "depthwise_separable", "ResidualBlock", "BatchNormLayer", "GlobalAvgPoolLayer")
@fuzz(20)
@given(data=st.data())
def test_blocks(data):
    builder = data.draw(st.sampled_from(["basic_block", "depthwise_separable"]))
    D1, K = data.draw(hyper(1, 3, pair=False)), data.draw(hyper(1, 3, pair=False))
    S = data.draw(hyper(1, 2))
    H, W = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))
    head = data.draw(st.booleans())  # global average pooling and an FC layer after the block

    def reference():
        d1, k, s = logical(("D1", D1[0]), ("K", K[0]), ("S", S[0]))
        sizes = tuple((n - 1) // s[a] + 1 for a, n in enumerate((H, W)))  # 3x3, P = 1, floored
        if builder == "basic_block":
            projection = s != (1, 1) or d1 != k
            params = 9 * d1 * k + 2 * k + 9 * k * k + 2 * k + (d1 * k + 2 * k if projection else 0)
        else:
            params, projection = 9 * d1 + 2 * d1 + d1 * k + 2 * k, None
        return sizes + (k,), params, projection

    nets = []

    def build():
        layers = getattr(c, builder)(D1[1], K[1], S[1])
        net = c.Net((H, W, D1[0]), layers + ([c.GlobalAvgPoolLayer(), c.FCLayer(K=2)] if head else []))
        nets.append(net)
        block_shape = net.shapes()[len(layers)]
        shortcut = None if builder != "basic_block" else bool(layers[0].shortcut)
        return block_shape, sum(layer.n_params(shape) for layer, shape in zip(layers, net.shapes())), shortcut

    def compare(got, expected):
        assert got == expected and all(type(v) is int for v in got[0]) and type(got[1]) is int, (got, expected)

    verify(build, reference, compare)
    if not nets:
        return
    net = nets[0]
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    randomise(net, rng)
    X = rng.standard_normal((2, H, W, D1[0]))
    np.testing.assert_allclose(net(X), ref_layers(net.layers, X), rtol=1e-10, atol=1e-10)
    params = net.summary().params
    assert params == sum(ref_param_count(layer, shape) for layer, shape in zip(net.layers, net.shapes()))
    assert params == sum(p.size for p in net.params())
    directional_check(net, X, rng)


# Summaries: every number of Net.summary() counted by brute force on small random nets


def brute_force(net, X):
    """Run net's layers on one image X, counting what the summary claims: (params, macs, activations)."""
    counts = {"params": 0, "macs": 0, "activations": X.size}

    def run(layers, V):
        for layer in layers:
            if isinstance(layer, c.ResidualBlock):
                V = c.residual_add(run(layer.main, V), run(layer.shortcut, V))
                counts["activations"] += V.size  # the sum is a new volume
                continue
            counts["params"] += sum(np.size(p) for p in layer.params.values())
            out = layer(V)
            if isinstance(layer, c.ConvLayer):
                counts["macs"] += out.size * math.prod(layer.W.shape[1:])  # one product per tap of each output
            elif isinstance(layer, c.FCLayer):
                counts["macs"] += out.size * layer.W.shape[1]
            if not isinstance(layer, c.ReLULayer):  # RELU overwrites its input
                counts["activations"] += out.size
            V = out
        return V

    run(net.layers, X)
    return counts


def reads(layer, shape):
    """Per axis, how output position o reads its input: taps o S - P + a dilation, a < F (whole input for FC, GAP)."""
    if isinstance(layer, (c.ConvLayer, c.PoolLayer)):
        return tuple(zip(pair_of(layer.F), pair_of(layer.S), pair_of(layer.P), pair_of(layer.dilation)))
    if isinstance(layer, (c.FCLayer, c.GlobalAvgPoolLayer)) and len(shape) == 3:
        return ((shape[0], 1, 0, 1), (shape[1], 1, 0, 1))
    return ((1, 1, 0, 1), (1, 1, 0, 1))


def positions(layers, shapes, axis, seen):
    """The input coordinates (padding negative or past the end) that output positions `seen` depend on."""
    for layer, shape in reversed(list(zip(layers, shapes))):
        if isinstance(layer, c.ResidualBlock):
            paths = []
            for path in (layer.main, layer.shortcut):
                inner = [shape]
                for l_ in path:
                    inner.append(l_.output_shape(inner[-1]))
                paths.append(positions(path, inner, axis, seen))
            seen = paths[0] | paths[1]
            continue
        F, S, P, d = reads(layer, shape)[axis]
        seen = {o * S - P + a * d for o in seen for a in range(F)}
    return seen


def ref_field(layers, shapes, axis):
    """The Field of the last of `layers` along axis: from the coordinates its outputs 0 and 1 depend on."""
    zero, one = positions(layers, shapes, axis, {0}), positions(layers, shapes, axis, {1})
    return min(zero), max(zero) - min(zero) + 1, min(one) - min(zero)  # start, size, stride


@st.composite
def summary_nets(draw):
    """A random net of CONV/RELU/POOL layers, then now and then BN, a residual block, global pooling, FC."""
    from strategies import nets

    base = draw(nets(fc_head=False, max_layers=3, max_size=7))
    layers, shape = list(base.layers), base.shapes()[-1]
    H, W, D = shape
    if draw(st.booleans()):
        layers.append(c.BatchNormLayer())
    kind = draw(st.sampled_from(["none", "identity", "projection"]))
    if kind == "identity":
        F = draw(st.sampled_from([1, 3]))
        layers.append(c.ResidualBlock([c.ConvLayer(K=D, F=F, P=F // 2), c.ReLULayer()]))
    elif kind == "projection":
        K = draw(st.integers(1, 3))
        layers.append(c.ResidualBlock([c.ConvLayer(K=K, F=3, S=2, P=1, exact=False, bias=False), c.BatchNormLayer()],
                                      [c.ConvLayer(K=K, F=1, S=2, exact=False), c.BatchNormLayer()]))
    tail = draw(st.sampled_from(["none", "gap", "fc", "gap+fc"]))
    if "gap" in tail:
        layers.append(c.GlobalAvgPoolLayer())
    if "fc" in tail:
        layers += [c.FCLayer(K=draw(st.integers(1, 3)))]
    return c.Net(base.input_shape, layers, seed=draw(st.integers(0, 99)))


@covers("Summary", "Row", "Field")
@fuzz(30)
@given(net=summary_nets(), data=st.data())
def test_summary(net, data):
    shapes = net.shapes()
    summary = net.summary()
    assert isinstance(summary, c.Summary) and all(isinstance(r, c.Row) for r in summary.rows)
    top = [r for r in summary.rows if r.level == 0]  # the INPUT, then one row per layer of the net (a block's ADD)
    assert len(top) == len(net.layers) + 1 and [r.output for r in top] == shapes
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    randomise(net, rng)
    counts = brute_force(net, rng.standard_normal(net.input_shape))
    assert (summary.params, summary.macs, summary.activations) == (counts["params"], counts["macs"], counts["activations"])
    assert summary.bytes == 4 * counts["activations"] and all(type(v) is int for v in (summary.params, summary.macs))
    for r in summary.rows:
        assert r.bytes == 4 * r.activations and all(type(v) is int for v in (r.params, r.macs, r.activations))
    for i, row in enumerate(top):  # every level-0 row's field: the span of input coordinates it depends on
        fields = [ref_field(net.layers[:i], shapes[:i], axis) for axis in range(2)]
        assert tuple(row.field) == tuple(c.Field(size, stride, start) for start, size, stride in fields), (i, row.field, fields)
        sizes, strides = tuple(f[1] for f in fields), tuple(f[2] for f in fields)
        assert row.receptive_field == (sizes[0] if sizes[0] == sizes[1] else sizes)
        assert row.stride == (strides[0] if strides[0] == strides[1] else strides)
    last_volume = max(i for i, s in enumerate(shapes) if len(s) == 3)
    assert summary.receptive_field == top[last_volume].receptive_field and summary.stride == top[last_volume].stride
    text = summary.table(("parameters", "multiply-adds"))
    assert text.splitlines()[-1].split() == ["total", f"{counts['params']:,}", f"{counts['macs']:,}"]
    assert f"**{counts['activations']:,}**" in summary.markdown()
    bad = data.draw(st.sampled_from([("flops",), "output", ("output", "parameter")]))
    verify(lambda: summary.table(bad), lambda: (_ for _ in ()).throw(Invalid("columns")), None)


@covers("Field")
@fuzz(60)
@given(data=st.data())
def test_field(data):
    size, stride = data.draw(hyper(1, 30, pair=False)), data.draw(hyper(1, 8, pair=False))
    start = data.draw(st.integers(-20, 5))
    start = (start, data.draw(spelled(start))) if data.draw(st.integers(0, 29)) else (Bad(0.5), 0.5)
    F, S = data.draw(hyper(1, 5, pair=False)), data.draw(hyper(1, 3, pair=False))
    P, d = data.draw(hyper(0, 2, minimum=0, pair=False)), data.draw(hyper(1, 3, pair=False))
    fields = []

    def reference_field():
        r, j, s0 = logical(("size", size[0]), ("stride", stride[0]), ("start", start[0]))
        return r, j, s0

    def make():
        fields.append(c.Field(size[1], stride[1], start[1]))
        return fields[-1]

    def exact_ints(got, expected):
        assert tuple(got) == tuple(expected) and all(type(v) is int for v in got), (got, expected)

    verify(make, reference_field, exact_ints)
    if not fields:
        return
    field = fields[0]

    def reference_grow():
        r, j, s0 = reference_field()
        f, s, p, dd = logical(("F", F[0]), ("S", S[0]), ("P", P[0]), ("dilation", d[0]))
        taps = [s0 + a * dd * j for a in range(f)]  # the inputs of the first output's taps, in input pixels
        return r + taps[-1] - taps[0], j * s, s0 - p * j

    verify(lambda: field.grow(F[1], S=S[1], P=P[1], dilation=d[1]), reference_grow, exact_ints)

    i, W1 = data.draw(hyper(0, 5, minimum=0, pair=False)), data.draw(hyper(1, 40, pair=False))
    clip = data.draw(st.booleans())

    def reference_window():
        r, j, s0 = reference_field()
        (iv,) = logical(("i", i[0]))
        first, last = s0 + iv * j, s0 + iv * j + r - 1
        if clip and W1[1] is not None:  # W1=None: no image to clip to (the default)
            (w,) = logical(("W1", W1[0]))
            first, last = max(first, 0), min(last, w - 1)
        return first, last

    verify(lambda: field.window(i[1], W1[1]) if clip else field.window(i[1]), reference_window, exact_ints)

    other_stride = data.draw(st.sampled_from([stride[0] if not isinstance(stride[0], Bad) else 1, 2]))
    other = c.Field(data.draw(st.integers(1, 9)), other_stride, data.draw(st.integers(-5, 5)))
    other = data.draw(st.sampled_from([other, other, other, (1, 1, 0), None]))

    def reference_union():
        r, j, s0 = reference_field()
        if not isinstance(other, c.Field) or other.stride != j:
            raise Invalid("other", "stride")
        first, end = min(s0, other.start), max(s0 + r, other.start + other.size)
        return end - first, j, first

    verify(lambda: field.union(other), reference_union, exact_ints)


ARCHITECTURES = {"lenet5": ((32, 32, 1), 10), "alexnet": ((224, 224, 3), 1000), "vgg16": ((224, 224, 3), 1000),
                 "resnet18": ((224, 224, 3), 1000), "mobilenet_v1": ((224, 224, 3), 1000)}


@covers("lenet5", "alexnet", "vgg16", "resnet18", "mobilenet_v1")
@fuzz(15)
@given(data=st.data())
def test_architectures(data):
    """Built at 224 x 224 (shapes and counts only: no weights drawn); LeNet-5 also runs, against the references."""
    name = data.draw(st.sampled_from(sorted(ARCHITECTURES)))
    seed = data.draw(hyper(0, 2**40, minimum=0, pair=False))
    dtypes = {np.float32: np.float32, np.float64: np.float64, "float32": np.float32, "float64": np.float64,
              float: np.float64, None: np.float64}
    bad_dtypes = [np.int8, "float16", "x", np.complex64, int]
    dtype = data.draw(st.sampled_from(list(dtypes) + (bad_dtypes if data.draw(st.integers(0, 5)) == 0 else [])))

    def reference():
        problems = []
        (s,) = gather(problems, ("seed", seed[0]))
        if dtype in bad_dtypes:
            problems.append("dtype")
        refuse_if(problems)
        input_shape, classes = ARCHITECTURES[name]
        return s, np.dtype(dtypes[dtype]), input_shape, (classes,)

    nets = []

    def build():
        net = getattr(c, name)(seed=seed[1], dtype=dtype)
        nets.append(net)
        shapes = net.shapes()
        assert all(type(v) is int for s in shapes for v in s)
        return net.seed, net.dtype, shapes[0], shapes[-1]

    def compare(got, expected):
        assert got == expected and type(got[0]) is int, (got, expected)

    verify(build, reference, compare)
    if not nets:
        return
    net, shapes = nets[0], nets[0].shapes()
    summary = net.summary()
    by_shapes = sum(math.prod(s) for layer, shape in zip(net.layers, shapes) for s in layer.param_shapes(shape).values())
    assert summary.params == by_shapes == sum(ref_param_count(layer, shape) for layer, shape in zip(net.layers, shapes))
    assert [r.output for r in summary.rows if r.level == 0] == shapes
    if name == "lenet5" and data.draw(st.integers(0, 2)) == 0:  # the one small enough to run here
        X = np.random.default_rng(seed[0] % 2**32).standard_normal((1, 32, 32, 1)).astype(net.dtype)
        eps = float(np.finfo(net.dtype).eps)
        got, expected = net(X), ref_layers(net.layers, as64(X))
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e4 * eps * (1 + np.max(np.abs(expected))))
        assert got.dtype == net.dtype and got.shape == (1, 10)


def test_every_public_name_is_fuzzed():
    missing = sorted(set(c.__all__) - FUZZED)
    assert not missing, f"public names without a fuzz test here: {missing}"
