"""Convolution as mathematics: against numpy.convolve, closed forms, and the notes' dice."""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from cnnref import convolve, convolve_continuous, convolve_pmf, dice_pmf, impulse_responses, sum_of_dice

signals = arrays(np.float64, st.integers(1, 12), elements=st.floats(-100, 100))


@given(signals, signals)
def test_convolve_equals_numpy_convolve(f, g):
    np.testing.assert_allclose(convolve(f, g), np.convolve(f, g), rtol=1e-12, atol=1e-9)


@given(signals, signals)
def test_convolution_is_the_sum_of_shifted_scaled_impulse_responses(f, g):
    rows = impulse_responses(f, g)
    assert rows.shape == (f.size, f.size + g.size - 1)
    for m in range(f.size):  # row m: g scaled by f[m], shifted by m, zero elsewhere
        np.testing.assert_array_equal(rows[m, m : m + g.size], f[m] * g)
        assert not rows[m, :m].any() and not rows[m, m + g.size :].any()
    np.testing.assert_allclose(rows.sum(axis=0), np.convolve(f, g), rtol=1e-12, atol=1e-9)


def test_convolve_is_commutative_and_exact_on_fractions():
    f = np.array([Fraction(1, 3), Fraction(2, 3)], dtype=object)
    g = np.array([Fraction(1, 2), Fraction(1, 4), Fraction(1, 4)], dtype=object)
    assert list(convolve(f, g)) == list(convolve(g, f)) == [Fraction(1, 6), Fraction(5, 12), Fraction(1, 4), Fraction(1, 6)]


def box(t):
    return (np.abs(t) <= 0.5).astype(float)


def gaussian(t, var):
    return np.exp(-(t**2) / (2 * var)) / np.sqrt(2 * np.pi * var)


def test_box_convolved_with_box_is_a_triangle():
    x = np.linspace(-1.5, 1.5, 31)
    triangle = np.clip(1 - np.abs(x), 0, None)
    np.testing.assert_allclose(convolve_continuous(box, box, x, n=20000), triangle, atol=2e-3)


def test_gaussians_convolve_to_a_gaussian_whose_variances_add():
    x = np.linspace(-6, 6, 49)
    out = convolve_continuous(lambda t: gaussian(t, 1.0), lambda t: gaussian(t, 2.0), x, lo=-15, hi=15)
    np.testing.assert_allclose(out, gaussian(x, 3.0), atol=1e-9)


def test_convolve_continuous_is_the_midpoint_rule():
    """The midpoint rule integrates a line exactly and t^2 on [0, 1] with n cells to 1/3 - 1/(12 n^2).

    A left- or right-endpoint sum misses both by about 1/(2n) (0.375 or 0.625 for the line on 4 cells);
    with g = 1, (f * g)(x) is the integral of f over [lo, hi] for every x.
    """
    one = np.ones_like
    assert convolve_continuous(lambda t: t, one, 0.0, lo=0.0, hi=1.0, n=4) == pytest.approx(0.5, abs=1e-15)
    assert convolve_continuous(lambda t: 2 - t, one, 7.0, lo=-1.0, hi=3.0, n=5) == pytest.approx(4.0, abs=1e-14)
    for n in (1, 3, 10, 100):
        expected = 1 / 3 - 1 / (12 * n**2)
        assert convolve_continuous(np.square, one, 0.0, lo=0.0, hi=1.0, n=n) == pytest.approx(expected, abs=1e-15)


def test_continuous_convolution_flips_g():
    # f = box on [0, 1], g(t) = t on [0, 1]. With the flip: (f * g)(0.5) = integral_0^0.5 (0.5 - t) dt = 1/8.
    # Without it (cross-correlation): integral f(t) g(t + 0.5) dt = integral_0^0.5 (t + 0.5) dt = 3/8.
    f = lambda t: ((t >= 0) & (t <= 1)).astype(float)  # noqa: E731
    g = lambda t: np.where((t >= 0) & (t <= 1), t, 0.0)  # noqa: E731
    assert convolve_continuous(f, g, 0.5, n=20000) == pytest.approx(1 / 8, abs=1e-3)
    assert convolve_continuous(f, lambda t: g(-t), -0.5, n=20000) == pytest.approx(3 / 8, abs=1e-3)


def test_two_dice_sum_to_four_with_probability_3_over_36():
    two = sum_of_dice(2, exact=True)
    die = dice_pmf(exact=True)
    assert two[4] == die[1] * die[3] + die[2] * die[2] + die[3] * die[1] == Fraction(3, 36)
    assert list(two.support) == list(range(2, 13))
    assert [36 * p for p in two.p] == [1, 2, 3, 4, 5, 6, 5, 4, 3, 2, 1]
    assert two[1] == two[13] == 0


def test_n_dice_against_counting_every_outcome():
    for n in (1, 2, 3, 4):
        outcomes = np.array(np.meshgrid(*[np.arange(1, 7)] * n)).reshape(n, -1).sum(axis=0)
        counts = np.bincount(outcomes)[n:]
        pmf = sum_of_dice(n, exact=True)
        assert pmf.start == n
        assert [p * 6**n for p in pmf.p] == list(counts)
        assert sum(pmf.p) == 1


def test_float_dice_match_exact_dice():
    np.testing.assert_allclose(sum_of_dice(3).p.astype(float), sum_of_dice(3, exact=True).p.astype(float))


def test_convolve_pmf_shifts_the_support():
    coin = convolve_pmf(dice_pmf(faces=2), dice_pmf(faces=6))
    assert coin.start == 2 and len(coin) == 7


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: convolve([], [1.0]), ValueError, "f is empty"),
        (lambda: convolve([[1.0]], [1.0]), ValueError, "1-D"),
        (lambda: convolve(["a"], [1.0]), TypeError, "numbers"),
        (lambda: convolve([True], [1.0]), TypeError, "numbers"),
        (lambda: convolve_continuous(1.0, box, 0.0), TypeError, "functions"),
        (lambda: convolve_continuous(box, box, 0.0, lo=1, hi=1), ValueError, "lo < hi"),
        (lambda: convolve_continuous(box, box, 0.0, n=0), ValueError, "n must be at least 1"),
        (lambda: dice_pmf(faces=0), ValueError, "faces"),
        (lambda: sum_of_dice(0), ValueError, "n must be at least 1"),
        (lambda: convolve_pmf([1.0], dice_pmf()), TypeError, "Pmf"),
    ],
)
def test_bad_input(call, error, message):
    with pytest.raises(error, match=message):
        call()


@settings(max_examples=30)
@given(st.integers(1, 6), st.integers(1, 6))
def test_pmf_of_two_dice_sums_to_one(a, b):
    assert sum(convolve_pmf(dice_pmf(a, exact=True), dice_pmf(b, exact=True)).p) == 1


# Properties: the midpoint rule, dice against counting, exact integers, bad signals


@settings(max_examples=60, deadline=None)
@given(a=st.floats(-5, 5), c=st.floats(-5, 5), lo=st.floats(-5, 5), width=st.floats(0.1, 10), n=st.integers(1, 50),
       x=st.floats(-20, 20))
def test_the_midpoint_rule_integrates_lines_exactly_and_parabolas_to_its_known_error(a, c, lo, width, n, x):
    """With g = 1, (f * g)(x) is the integral of f over [lo, hi] whatever x: a t + c exactly, t^2 short by
    (hi - lo) dt^2 / 12 (the midpoint rule's error); a left- or right-endpoint sum misses both."""
    hi, one = lo + width, np.ones_like
    line = a * (hi**2 - lo**2) / 2 + c * width
    assert convolve_continuous(lambda t: a * t + c, one, x, lo=lo, hi=hi, n=n) == pytest.approx(line, rel=1e-9, abs=1e-9)
    dt = width / n
    parabola = (hi**3 - lo**3) / 3 - width * dt**2 / 12
    assert convolve_continuous(np.square, one, x, lo=lo, hi=hi, n=n) == pytest.approx(parabola, rel=1e-9, abs=1e-9)
    xs = np.array([x, x + 1.0])  # an array of points: one value each
    assert convolve_continuous(np.square, one, xs, lo=lo, hi=hi, n=n) == pytest.approx([parabola] * 2, rel=1e-9, abs=1e-9)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 3), faces=st.integers(1, 6), value=st.integers(-3, 25))
def test_the_sum_of_n_dice_counts_every_outcome(n, faces, value):
    outcomes = np.array(np.meshgrid(*[np.arange(1, faces + 1)] * n)).reshape(n, -1).sum(axis=0)
    pmf = sum_of_dice(n, faces, exact=True)
    assert list(pmf.support) == list(range(n, n * faces + 1)) and len(pmf) == n * (faces - 1) + 1
    assert pmf[value] == Fraction(int(np.sum(outcomes == value)), faces**n)  # 0 outside the support
    assert float(sum_of_dice(n, faces)[value]) == pytest.approx(float(pmf[value]))
    with pytest.raises(TypeError, match="a Pmf is indexed by an integer value"):
        pmf[float(value)]


@settings(max_examples=40, deadline=None)
@given(f=st.lists(st.integers(-(2**62), 2**62), min_size=1, max_size=4), g=st.lists(st.integers(-(2**62), 2**62), min_size=1, max_size=4))
def test_integers_convolve_exactly_even_past_int64(f, g):
    """int64 while no sum can pass 2**63, Python ints beyond: the exact sums either way."""
    exact = [sum(f[m] * g[k - m] for m in range(len(f)) if 0 <= k - m < len(g)) for k in range(len(f) + len(g) - 1)]
    out = convolve(np.array(f, dtype=np.int64), np.array(g, dtype=np.int64))
    assert [int(v) for v in out] == exact
    largest = max(map(abs, f)) * max(map(abs, g)) * min(len(f), len(g))
    assert out.dtype == (np.int64 if largest < 2**63 else object)


@settings(max_examples=40, deadline=None)
@given(bad=st.one_of(st.just([]), st.just([[1.0]]), st.just(["a"]), st.just([True]), st.just(np.array([None, 1], dtype=object)),
                     st.lists(st.booleans(), min_size=1, max_size=3).map(np.array)),
       first=st.booleans())
def test_a_signal_that_is_not_a_sequence_of_numbers_is_refused_with_its_name(bad, first):
    name, args = ("f", (bad, [1.0])) if first else ("g", ([1.0], bad))
    with pytest.raises((TypeError, ValueError), match=rf"^{name} "):
        convolve(*args)


@settings(max_examples=40, deadline=None)
@given(lo=st.floats(-5, 5), shorter=st.floats(0, 5), x=st.one_of(st.none(), st.text(max_size=2), st.booleans(), st.complex_numbers(max_magnitude=2)))
def test_convolve_continuous_refuses_an_empty_interval_a_bad_point_and_a_non_function(lo, shorter, x):
    with pytest.raises(ValueError, match=r"the integration interval needs lo < hi"):
        convolve_continuous(box, box, 0.0, lo=lo, hi=lo - shorter)
    with pytest.raises(TypeError, match=r"x must be a real number or an array of real numbers"):
        convolve_continuous(box, box, x)
    with pytest.raises(TypeError, match="^f and g must be functions of a NumPy array$"):
        convolve_continuous(lo, box, 0.0)
    with pytest.raises(TypeError, match="^f and g must be functions of a NumPy array$"):
        convolve_continuous(box, lo, 0.0)


@settings(max_examples=20, deadline=None)
@given(value=st.integers(12, 127), x=st.one_of(st.integers(-3, 3), st.just(np.int64(1)), st.just(np.arange(3))))
def test_convolve_continuous_computes_in_float_whatever_the_functions_and_points_return(value, x):
    """int8 functions would wrap (value**2 > 127) if multiplied as they come; integer points are points."""
    f = lambda t: np.full(np.shape(t), value, dtype=np.int8)  # noqa: E731
    out = convolve_continuous(f, f, x, lo=0.0, hi=1.0, n=4)
    np.testing.assert_allclose(out, np.full(np.shape(x), float(value) ** 2), rtol=1e-12)
    assert np.asarray(out).dtype == np.float64


def test_convolve_continuous_computes_in_float_whatever_either_function_returns():
    """Exact numbers (an object array of Fractions) from f or from g: the integral is still a float."""
    half = lambda t: np.array([Fraction(1, 2)] * np.size(t), dtype=object).reshape(np.shape(t))  # noqa: E731
    for f, g in ((half, np.ones_like), (np.ones_like, half)):
        out = convolve_continuous(f, g, 0.0, lo=0.0, hi=1.0, n=4)
        assert np.asarray(out).dtype == np.float64 and out == pytest.approx(0.5)


@settings(max_examples=20, deadline=None)
@given(f=st.lists(st.fractions(-5, 5, max_denominator=7), min_size=1, max_size=4),
       g=st.lists(st.floats(-4, 4, allow_nan=False, width=32), min_size=1, max_size=4))
def test_fractions_with_longdouble_convolve_exactly(f, g):
    """Fractions and longdouble floats (wider than a Python float): every longdouble taken exactly, as a Fraction."""
    g_long = np.array(g, dtype=np.longdouble) / np.longdouble(3)  # thirds: digits beyond float64's 52 bits
    exact = [Fraction(*x.as_integer_ratio()) for x in g_long]
    expected = [sum(f[m] * exact[n - m] for m in range(len(f)) if 0 <= n - m < len(exact)) for n in range(len(f) + len(g) - 1)]
    result = convolve(np.array(f, dtype=object), g_long)
    assert list(result) == expected and all(isinstance(v, Fraction) for v in result)
