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
