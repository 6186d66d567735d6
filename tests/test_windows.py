"""The window view shared by convolution and pooling: every window by its definition, read-only."""

import re

import numpy as np
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from cnnref import checks
from cnnref.windows import windows, zero_pad


@settings(max_examples=30, deadline=None)
@given(N=st.integers(1, 2), H=st.integers(1, 7), W=st.integers(1, 7), D=st.integers(1, 2), FH=st.integers(1, 3),
       FW=st.integers(1, 3), SH=st.integers(1, 3), SW=st.integers(1, 3), dH=st.integers(1, 2), dW=st.integers(1, 2))
def test_the_view_is_every_window_by_its_definition_and_read_only(N, H, W, D, FH, FW, SH, SW, dH, dW):
    """view[n, i, j, a, c, d] = X_pad[n, i SH + a dH, j SW + c dW, d], the windows that fit; writing to it is refused
    (a write through one window would change every window that shares the number)."""
    X_pad = np.arange(N * H * W * D, dtype=float).reshape(N, H, W, D)
    assume(dH * (FH - 1) + 1 <= H and dW * (FW - 1) + 1 <= W)  # a whole window fits (the layers refuse the rest first)
    view = windows(X_pad, (FH, FW), (SH, SW), (dH, dW))
    H2, W2 = (H - dH * (FH - 1) - 1) // SH + 1, (W - dW * (FW - 1) - 1) // SW + 1
    assert view.shape == (N, H2, W2, FH, FW, D)
    for n, i, j, a, c, d in np.ndindex(view.shape):
        assert view[n, i, j, a, c, d] == X_pad[n, i * SH + a * dH, j * SW + c * dW, d]
    assert not view.flags.writeable and np.shares_memory(view, X_pad)
    with pytest.raises(ValueError, match="read-only"):
        view[(0,) * 6] = -1.0


@settings(max_examples=30, deadline=None)
@example(N=None, H=2, W=3, D=1, P=(1, 2), dtype=np.float32, slack=-1)
@example(N=2, H=2, W=3, D=2, P=(2, 0), dtype=np.int8, slack=0)
@given(N=st.sampled_from([None, 1, 2]), H=st.integers(1, 4), W=st.integers(1, 4), D=st.integers(1, 2),
       P=st.tuples(st.integers(0, 2), st.integers(0, 2)), dtype=st.sampled_from([np.int8, np.float32, np.float64]),
       slack=st.sampled_from([-1, 0]))
def test_zero_pad_borders_X_and_allocates_exactly_the_padded_input(N, H, W, D, P, dtype, slack):
    """X in the middle, P zeros on each side of each spatial axis, in X's dtype: the one array it allocates,
    (N, H + 2 PH, W + 2 PW, D), refused by name beyond the memory limit and allowed at it."""
    shape = (H, W, D) if N is None else (N, H, W, D)
    X = (np.arange(np.prod(shape)).reshape(shape) % 7 + 1).astype(dtype)
    padded = shape[:-3] + (H + 2 * P[0], W + 2 * P[1], D)
    nbytes = int(np.prod(padded)) * np.dtype(dtype).itemsize
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(checks, "MEMORY_LIMIT", nbytes + slack)
        if slack < 0 and any(P):
            with pytest.raises(MemoryError, match=re.escape(f"the padded input ({' x '.join(map(str, padded))} numbers of {np.dtype(dtype)})")):
                zero_pad(X, P)
            return
        V = zero_pad(X, P)
    assert V.shape == padded and V.dtype == dtype
    inner = V[..., P[0] : P[0] + H, P[1] : P[1] + W, :]
    np.testing.assert_array_equal(inner, X)
    assert V.sum() == X.sum()  # the border is zeros (X is positive)
