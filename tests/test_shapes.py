"""Output sizes and parameter counts, as properties: what the layers compute, for every keyword."""

import re

import numpy as np
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from cnnref import (
    conv2d,
    conv_output_shape,
    conv_params,
    conv_transpose_output_size,
    im2col,
    output_size,
    pool_output_size,
    window_positions,
)


def int_or_pair(values):
    return st.one_of(values, st.tuples(values, values))


@st.composite
def conv_settings(draw):
    """An input (H1, W1, D1) and a CONV layer's K, F, S, P, dilation, groups that fit it (the floor rule)."""
    groups = draw(st.integers(1, 3))
    shape = (draw(st.integers(1, 9)), draw(st.integers(1, 9)), groups * draw(st.integers(1, 2)))
    kw = dict(K=groups * draw(st.integers(1, 2)), F=draw(int_or_pair(st.integers(1, 3))), S=draw(int_or_pair(st.integers(1, 3))),
              P=draw(int_or_pair(st.integers(0, 2))), dilation=draw(int_or_pair(st.integers(1, 2))), groups=groups)
    pairs = [np.broadcast_to(kw[k], 2) for k in ("F", "P", "dilation")]
    assume(all(d * (f - 1) + 1 <= n + 2 * p for f, p, d, n in zip(*pairs, shape[:2])))
    return shape, kw


@settings(max_examples=80, deadline=None)
@given(case=conv_settings(), bias=st.booleans())
def test_conv_output_shape_and_params_are_what_conv2d_computes_and_needs(case, bias):
    shape, kw = case
    K, F, groups = kw["K"], np.broadcast_to(kw["F"], 2), kw["groups"]
    W = np.ones((K, *F, shape[2] // groups))
    V = conv2d(np.ones(shape), W, np.zeros(K), kw["S"], kw["P"], kw["dilation"], groups, exact=False)
    assert conv_output_shape(shape, **kw, exact=False) == V.shape
    assert conv_params(kw["F"], shape[2], K, groups=groups, bias=bias) == (W.size, K if bias else 0)


@settings(max_examples=80, deadline=None)
@given(H1=int_or_pair(st.integers(1, 12)), F=int_or_pair(st.integers(1, 4)), S=int_or_pair(st.integers(1, 3)),
       P=int_or_pair(st.integers(0, 2)), d=int_or_pair(st.integers(1, 2)))
def test_conv_transpose_output_size_inverts_output_size(H1, F, S, P, d):
    """The output_padding that picks H1 among the sizes a strided conv maps to the same H2 gives H1 back."""
    H1s, Fs, Ss, Ps, ds = (tuple(np.broadcast_to(v, 2).tolist()) for v in (H1, F, S, P, d))
    assume(all(dd * (f - 1) + 1 <= h + 2 * p for h, f, p, dd in zip(H1s, Fs, Ps, ds)))
    H2 = output_size(H1s, Fs, Ss, Ps, ds, exact=False)
    op = tuple((h + 2 * p - dd * (f - 1) - 1) % s for h, f, s, p, dd in zip(H1s, Fs, Ss, Ps, ds))
    assert conv_transpose_output_size(H2, F, S, P, op, d) == H1s  # pairs: one size per axis
    if not any(isinstance(v, tuple) for v in (H1, F, S, P, d)):
        assert conv_transpose_output_size(H2[0], F, S, P, op[0], d) == H1  # ints: one size
    too_large = tuple(max(s, dd) for s, dd in zip(Ss, ds))  # output_padding must stay below the stride or dilation
    with pytest.raises(ValueError, match=r"output_padding = \d+ must be smaller than the stride"):
        conv_transpose_output_size(H2, Fs, Ss, Ps, too_large, ds)


@settings(max_examples=40, deadline=None)
@given(H2=st.integers(1, 4), F=st.integers(1, 4), S=st.integers(1, 3), P=st.integers(0, 12))
def test_conv_transpose_output_size_refuses_a_padding_that_crops_everything(H2, F, S, P):
    H1 = S * (H2 - 1) + F - 2 * P
    if H1 >= 1:
        assert conv_transpose_output_size(H2, F, S, P) == H1
    else:
        message = (rf"^S \(H2 - 1\) \+ dilation \(F - 1\) \+ 1 - 2P \+ output_padding = {S} \({H2} - 1\) \+ 1 \({F} - 1\) "
                   rf"\+ 1 - {2 * P} \+ 0 = {H1}: the padding P = {P} crops away the whole output$")
        with pytest.raises(ValueError, match=message):
            conv_transpose_output_size(H2, F, S, P)


@settings(max_examples=60, deadline=None)
@given(case=conv_settings(), seed=st.integers(0, 2**16))
def test_window_positions_are_where_im2col_reads(case, seed):
    """im2col's row (a, c, d) and column (i, j) is X_pad at window (i, j)'s tap (a, c), channel d."""
    shape, kw = case
    X = np.random.default_rng(seed).standard_normal(shape)
    F, S, P, dilation = (kw[k] for k in ("F", "S", "P", "dilation"))
    positions = window_positions(shape[:2], F, S, P, dilation, exact=False)  # (H2, W2, FH, FW, 2)
    X_col = im2col(X, F, S, P, dilation, exact=False)
    PH, PW = np.broadcast_to(P, 2)
    X_pad = np.pad(X, ((PH, PH), (PW, PW), (0, 0)))
    H2, W2, FH, FW, _ = positions.shape
    taps = X_pad[positions[..., 0], positions[..., 1]]  # (H2, W2, FH, FW, D)
    np.testing.assert_array_equal(X_col, taps.reshape(H2 * W2, FH * FW * shape[2]).T)


@settings(max_examples=20, deadline=None)
@given(W1=st.integers(4, 9), F=st.integers(2, 4), name=st.sampled_from(["H1", "W1", "input height"]))
def test_pool_output_size_names_the_size_it_refuses_and_checks_F_before_the_padding(W1, F, name):
    """Its refusals quote the formula with the caller's name for the size; F < 1 is refused as F even with padding."""
    S = W1 + 1  # one window, the rest not tiled unless W1 - F is a multiple of S: never, as W1 - F < S
    if (W1 - F) % S:
        with pytest.raises(ValueError, match=re.escape(f"({name} - F + 2P)/S + 1 = ({W1} - {F} + 0)/{S} + 1")):
            pool_output_size(W1, F, S, name=name)
    assert pool_output_size(W1, F, S, exact=False, name=name) == 1
    with pytest.raises(ValueError, match=r"^F must be at least 1, got F = 0"):
        pool_output_size(W1, 0, S, P=1)


@settings(max_examples=40, deadline=None)
@example(W1=6, F=3, S=2, P=1, dilation=2)  # (6 - 2 (3 - 1) - 1 + 2)/2 + 1 = 2.5: not whole
@example(W1=2, F=3, S=1, P=1, dilation=2)  # a dilated filter of 5 on a padded input of 4
@given(W1=st.integers(1, 9), F=st.integers(1, 4), S=st.integers(1, 3), P=st.integers(0, 2), dilation=st.integers(1, 3))
def test_a_refusal_quotes_the_formula_with_the_numbers_that_make_it_fail(W1, F, S, P, dilation):
    """The message's arithmetic, read back with the numbers it quotes, gives the size that was refused."""
    span = dilation * (F - 1) + 1
    if span > W1 + 2 * P:
        with pytest.raises(ValueError, match=re.escape(f"larger than the padded input W1 + 2P = {W1} + {2 * P} = {W1 + 2 * P}")):
            output_size(W1, F, S, P, dilation)
        return
    W2 = (W1 + 2 * P - span) / S + 1
    if W2 != int(W2):
        quoted = (f"({W1} - {F} + {2 * P})/{S} + 1" if dilation == 1 else f"({W1} - {dilation} ({F} - 1) - 1 + {2 * P})/{S} + 1")
        with pytest.raises(ValueError, match=re.escape(f"{quoted} = {W2:g} is not a whole number")):
            output_size(W1, F, S, P, dilation)
        # the quoted expression, evaluated as written (juxtaposition is a product), is the refused size
        assert eval(quoted.replace(" (", " * (")) == W2  # noqa: S307 (our own message, digits and operators only)
    else:
        assert output_size(W1, F, S, P, dilation) == W2


@settings(max_examples=20, deadline=None)
@example(H1=3, W1=4, P=(1, 2), slack=-1)
@example(H1=3, W1=4, P=(2, 0), slack=0)
@given(H1=st.integers(3, 6), W1=st.integers(3, 6), P=st.tuples(st.integers(0, 2), st.integers(0, 2)), slack=st.sampled_from([-1, 0]))
def test_window_positions_allocates_one_position_per_padded_pixel_and_says_so(H1, W1, P, slack):
    """Its one allocation: (H1 + 2P, W1 + 2P, 2) integers, refused by name beyond the memory limit, allowed at it."""
    from cnnref import checks

    shape = (H1 + 2 * P[0], W1 + 2 * P[1], 2)
    nbytes = shape[0] * shape[1] * 2 * np.dtype(np.intp).itemsize
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(checks, "MEMORY_LIMIT", nbytes + slack)
        if slack < 0:
            with pytest.raises(MemoryError, match=re.escape(f"the positions ({shape[0]} x {shape[1]} x 2 numbers of {np.dtype(np.intp)})")):
                window_positions((H1, W1), 3, P=P, exact=False)
        else:
            assert window_positions((H1, W1), 3, P=P, exact=False).shape[-1] == 2


def test_output_size_refuses_a_size_of_zero_in_a_pair_whatever_the_padding():
    """(0, 4) is no image, even where the padding would leave room for a window."""
    with pytest.raises(ValueError, match=re.escape("(H1, W1)[0] must be at least 1, got (H1, W1)[0] = 0")):
        output_size((0, 4), 1, P=1)
