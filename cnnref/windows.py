"""Windows: zero padding, the strided view of every window of a volume, and its adjoint.

Convolution and pooling both read a volume through its windows: an F x F patch every S positions,
its taps `dilation` apart. One view gives them all without a copy; its adjoint adds values back
where each window read them (the backward passes and the transposed convolution). A new keyword of
the arithmetic changes these functions only. Defined for the notes' "Convolutional Layer" and
"Pooling Layer" (pages: CNN notes, /dl/cnn/conv-layer/ and /dl/cnn/pooling/).
"""

import numpy as np
from numpy.lib.stride_tricks import as_strided

from cnnref import checks
from cnnref.shapes import output_size


def zero_pad(X, P, value=0):
    """X (H, W, D) or (N, H, W, D) with a border of P zeros (or `value`) on each side of both spatial axes.

    P is an int or a pair (vertical, horizontal).

    >>> zero_pad(np.ones((1, 1, 1)), 1)[:, :, 0]
    array([[0., 0., 0.],
           [0., 1., 0.],
           [0., 0., 0.]])
    """
    X = checks.as_volume(X)
    PH, PW = checks.pair(P, "P", 0)
    if not PH and not PW:
        return X
    *N, H, W, D = X.shape
    checks.allocation("the padded input", (*N, H + 2 * PH, W + 2 * PW, D), X.dtype)
    spatial = ((PH, PH), (PW, PW), (0, 0))
    return np.pad(X, spatial if X.ndim == 3 else ((0, 0),) + spatial, constant_values=value)


def windows(X_pad, F, S=(1, 1), dilation=(1, 1)):
    """A read-only view (N, H2, W2, FH, FW, D) of every window of X_pad (N, H, W, D).

    view[n, i, j, a, c, d] = X_pad[n, i*SH + a*dH, j*SW + c*dW, d] for F = (FH, FW), S = (SH, SW) and
    dilation = (dH, dW), all pairs of ints. H2 = (H - dH (FH - 1) - 1) // SH + 1: windows that would
    run past the end are left out (the floor).
    """
    (FH, FW), (SH, SW), (dH, dW) = F, S, dilation
    N, H, W, D = X_pad.shape
    H2, W2 = (H - dH * (FH - 1) - 1) // SH + 1, (W - dW * (FW - 1) - 1) // SW + 1
    sN, sH, sW, sD = X_pad.strides
    steps = [sH * SH, sW * SW, sH * dH, sW * dW]
    steps = [0 if n == 1 else step for n, step in zip((H2, W2, FH, FW), steps)]  # unused (and maybe huge)
    return as_strided(X_pad, (N, H2, W2, FH, FW, D), (sN, *steps, sD), writeable=False)


def add_windows(cols, shape, S=(1, 1), dilation=(1, 1)):
    """The adjoint of windows(): a zero volume of `shape` (N, H, W, D) with every window added back.

    cols (N, H2, W2, FH, FW, D) holds a value per window entry; each is added where windows() read it,
    so entries of overlapping windows sum. sum(windows(X) * cols) == sum(X * add_windows(cols, X.shape)).

    >>> cols = np.ones((1, 2, 2, 2, 2, 1))   # the four 2x2 windows of a 3x3 volume, all ones
    >>> add_windows(cols, (1, 3, 3, 1))[0, :, :, 0]   # each entry counts the windows that cover it
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]])
    """
    N, H2, W2, FH, FW, D = cols.shape
    (SH, SW), (dH, dW) = S, dilation
    X_pad = np.zeros(shape, dtype=cols.dtype)
    for a in range(FH):  # FH*FW vectorised adds: tap (a, c) of every window at once
        for c in range(FW):
            rows, columns = slice(a * dH, a * dH + SH * (H2 - 1) + 1, SH), slice(c * dW, c * dW + SW * (W2 - 1) + 1, SW)
            X_pad[:, rows, columns, :] += cols[:, :, :, a, c, :]
    return X_pad


def window_positions(input_size, F, S=1, P=0, dilation=1, exact=True):
    """(row, column) in the padded input of every tap of every window: an array (H2, W2, FH, FW, 2).

    What a figure of the windows draws, from the same view the layers compute with.

    >>> window_positions(5, F=3, S=2)[0, 1, 0]   # window (0, 1): its top row of taps
    array([[0, 2],
           [0, 3],
           [0, 4]])
    """
    (H1, W1), Fs, Ss = checks.pair(input_size, "input_size", 1), checks.pair(F, "F", 1), checks.pair(S, "S", 1)
    Ps, ds = checks.pair(P, "P", 0), checks.pair(dilation, "dilation", 1)
    output_size((H1, W1), Fs, Ss, Ps, ds, exact)  # refuses what the layers refuse
    rows, columns = np.indices((H1 + 2 * Ps[0], W1 + 2 * Ps[1]))
    grid = np.stack([rows, columns], axis=-1)  # (Hp, Wp, 2): each position's own coordinates
    return np.ascontiguousarray(windows(grid[None], Fs, Ss, ds)[0])
