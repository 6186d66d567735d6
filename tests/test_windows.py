"""The window view shared by convolution and pooling: every window by its definition, read-only."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cnnref.windows import windows


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
