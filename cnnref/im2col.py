"""im2col: the CONV layer's forward pass as one big matrix multiply.

Defined for the notes' important note "Implementation as Matrix Multiplication" (page: CNN notes,
/dl/cnn/conv-layer/#implementation-as-matrix-multiplication).
"""

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numpy.lib.stride_tricks import as_strided

from cnnref import _checks
from cnnref.conv_layer import _layer_inputs, output_size, zero_pad


def _windows(X_pad, F, S, H2, W2):
    """A read-only view (N, H2, W2, F, F, D) of every F x F window of X_pad (N, H, W, D) at stride S."""
    sN, sH, sW, sD = X_pad.strides
    N, D = X_pad.shape[0], X_pad.shape[3]
    return as_strided(
        X_pad, (N, H2, W2, F, F, D), (sN, sH * S, sW * S, sH, sW, sD), writeable=False
    )


def im2col(X, F, S=1, P=0):
    """Stretch every F x F x D window of X (H, W, D) into a column: X_col of shape (F*F*D, H2*W2).

    Rows are ordered like W.reshape(K, -1) for filters W (K, F, F, D); columns are the output positions
    in row-major order, so (W.reshape(K, -1) @ X_col).T.reshape(H2, W2, K) + b is the CONV layer's output.

    >>> im2col(np.zeros((227, 227, 3)), F=11, S=4).shape   # the notes' X_col: [363 x 3025]
    (363, 3025)
    >>> im2col(np.arange(9.0).reshape(3, 3, 1), F=2)
    array([[0., 1., 3., 4.],
           [1., 2., 4., 5.],
           [3., 4., 6., 7.],
           [4., 5., 7., 8.]])
    """
    X = _checks.as_volume(X, ndims=(3,))
    F = _checks.hyper(F, "F", 1)
    H2 = output_size(X.shape[0], F, S, P, name="H1")
    W2 = output_size(X.shape[1], F, S, P, name="W1")
    windows = _windows(zero_pad(X, P)[None], F, S, H2, W2)  # (1, H2, W2, F, F, D)
    return windows.reshape(H2 * W2, -1).T


_BLOCK = 1 << 24  # at most 16 MiB of X_cols per matrix multiply: bounds memory, keeps the multiplies few
# Small layers (few filters, few numbers per window, stride 1, e.g. CIFAR's first) make skinny matrix
# multiplies that the BLAS cannot spread over cores: cnnref's own threads run them instead, each on
# blocks of at most _SMALL_GEMM multiply-adds, small enough that OpenBLAS keeps each on one core.
_SMALL_GEMM = 3 << 18  # multiply-adds per block of the threaded path
_SMALL_BLOCK = 1 << 20  # bytes of X_cols per block of the threaded path: stays in a core's cache
_SMALL_WIDTH = 1024  # K * (F*F*D1 + 1) at most this: at least _SMALL_GEMM / _SMALL_WIDTH = 768 positions a block


def _threads_setting(environ=os.environ):
    """cnnref's threads: CNNREF_THREADS if set (a whole number >= 1), else the usable cores, at most 4."""
    value = environ.get("CNNREF_THREADS", "").strip()
    if not value:
        return min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"CNNREF_THREADS must be a whole number >= 1 (1 turns cnnref's threads off), got {value!r}")
    return int(value)


_THREADS = _threads_setting()
_pool, _pool_pid, _pool_lock = None, None, threading.Lock()


def _blocks(N, H2, rows):
    """(images, output rows) index pairs that cover N images of H2 output rows, about `rows` at a time."""
    if rows >= H2:  # several whole images per block
        step = rows // H2
        return [(slice(n, n + step), slice(None)) for n in range(0, N, step)]
    return [(slice(n, n + 1), slice(i, i + rows)) for n in range(N) for i in range(0, H2, rows)]


def _into(A, shape):
    """A reshaped for writing into: a view of A, never a silent copy (which would lose what is written)."""
    view = A.reshape(shape)
    if not np.may_share_memory(view, A):
        raise AssertionError(f"internal: reshaping {A.shape} (strides {A.strides}) to {shape} would copy")
    return view


def _parallel(function, items):
    """[function(item) for item in items], on _THREADS threads (NumPy's copies and multiplies release the GIL)."""
    global _pool, _pool_pid
    if _THREADS < 2 or len(items) < 2:
        return [function(item) for item in items]
    with _pool_lock:
        if _pool is None or _pool_pid != os.getpid():  # a forked child has the pool object but not its threads
            _pool, _pool_pid = ThreadPoolExecutor(_THREADS, thread_name_prefix="cnnref"), os.getpid()
        pool = _pool
    return list(pool.map(function, items))


def _chunks(items, parts):
    """items cut into at most `parts` consecutive runs of nearly equal length."""
    step = -(-len(items) // parts)
    return [items[i : i + step] for i in range(0, len(items), step)]


def _conv2d_small(X4, W, b, P, H2, W2, dtype):
    """conv2d at stride 1 when K * (F*F*D1 + 1) <= _SMALL_WIDTH: skinny multiplies on cnnref's threads.

    The input is stored depth-first and padded, (images, D1, H + 2P + 1, W + 2P), by each thread for
    its own images (or once for all, when blocks are rows of an image). Computed over the whole
    padded width Wp (F - 1 extra output columns per row, dropped at the end), row (a, c, d) of X_col
    for output rows i0..i1 of image n is then one run of (i1 - i0) * Wp numbers in memory, starting
    at (i0 + a) * Wp + c in channel d: a long contiguous copy per row. A row of ones (and b in W_ext)
    adds the biases inside the multiply.
    """
    (N, H1, W1, D1), K, F = X4.shape, W.shape[0], W.shape[1]
    FFD, Hp, Wp = F * F * D1, H1 + 2 * P, W1 + 2 * P
    W_ext = np.empty((K, FFD + 1), dtype)  # [W_row | b]
    W_ext[:, :FFD], W_ext[:, FFD] = W.reshape(K, -1), b
    # A block: `images` whole images, or `rows` output rows of one image; one multiply per image and
    # block (a stacked matmul: one call, no GIL between the multiplies), each below _SMALL_GEMM.
    rows = min(H2, max(1, _SMALL_GEMM // (K * (FFD + 1) * Wp)))
    whole = rows == H2  # blocks of whole images (else of rows of one image)
    images = max(1, _SMALL_BLOCK // ((FFD + 1) * H2 * Wp * np.dtype(dtype).itemsize)) if whole else 1
    blocks = [(n, min(N, n + images), i, min(H2, i + rows)) for n in range(0, N, images) for i in range(0, H2, rows)]
    V = np.empty((N, H2, W2, K), dtype)

    def padded(n):  # (n, D1, Hp + 1, Wp) zeros: one spare row, where the last windows of the last row run
        return np.zeros((n, D1, Hp + 1, Wp), dtype)

    def fill(X_t, images):  # pad and store depth-first
        X_t[:, :, P : P + H1, P : P + W1] = X4[images].transpose(0, 3, 1, 2)

    def runs(X_t):  # runs[n, a, c, d, p] = X_t[n, d].flat[a * Wp + c + p]: the rows of X_col, p = i * Wp + j
        step = X_t.itemsize
        return as_strided(X_t, (len(X_t), F, F, D1, H2 * Wp), (X_t.strides[0], Wp * step, step, X_t.strides[1], step))

    if not whole:  # blocks of rows: all images padded first (in parallel), shared by the threads
        X_all = padded(N)
        _parallel(lambda c: fill(X_all[c[0] : c[-1] + 1], slice(c[0], c[-1] + 1)), _chunks(range(N), _THREADS))
        runs_all = runs(X_all)

    def run(chunk):
        size = max((n1 - n0) * (i1 - i0) for n0, n1, i0, i1 in chunk) * Wp  # positions in the largest block
        cols, out = np.empty((FFD + 1) * size, dtype), np.empty(size * K, dtype)  # this thread's, reused
        if whole:  # each thread pads its own images, into a buffer it reuses
            X_t = padded(max(n1 - n0 for n0, n1, _, _ in chunk))
        for n0, n1, i0, i1 in chunk:
            k, length = n1 - n0, (i1 - i0) * Wp  # images, positions per image
            if whole:
                fill(X_t[:k], slice(n0, n1))
                source = runs(X_t[:k])
            else:
                source = runs_all[n0:n1, ..., i0 * Wp : i1 * Wp]
            X_cols = cols[: (FFD + 1) * k * length].reshape(FFD + 1, k, length)  # a view: contiguous
            X_cols[FFD] = 1
            np.copyto(_into(X_cols[:FFD], (F, F, D1, k, length)), source.transpose(1, 2, 3, 0, 4))
            product = out[: k * length * K].reshape(k, length, K)
            np.matmul(X_cols.transpose(1, 2, 0), W_ext.T, out=product)  # (k, length, F*F*D1 + 1) @ (F*F*D1 + 1, K)
            V[n0:n1, i0:i1] = product.reshape(k, i1 - i0, Wp, K)[:, :, :W2]

    _parallel(run, _chunks(blocks, _THREADS))
    return V


# --8<-- [start:conv2d]
def conv2d(X, W, b=None, S=1, P=0):
    """The CONV layer by im2col and one matrix multiply: the same result as conv2d_naive, fast.

    X (H1, W1, D1) or (N, H1, W1, D1), filters W (K, F, F, D1), biases b (K,) -> (H2, W2, K) or
    (N, H2, W2, K). V = X_col.T @ W_row.T + b, where X_col = im2col(X) and W_row = W.reshape(K, -1).
    X_col.T (positions, F*F*D1) is built and multiplied a block of at most 16 MiB at a time, and each
    product lands in its rows of V with no copy. 1x1 filters at stride 1 need no copy at all. Small
    layers at stride 1 (K * (F*F*D1 + 1) <= 1024, such as CIFAR's 12 filters 3x3x3) make multiplies
    too skinny for the BLAS to spread over cores; they run in blocks on cnnref's own threads instead
    (one per core, at most 4; the environment variable CNNREF_THREADS sets how many, 1 for none).

    >>> X, W = np.arange(9.0).reshape(3, 3, 1), np.arange(4.0).reshape(1, 2, 2, 1)
    >>> conv2d(X, W, b=np.ones(1))[:, :, 0]
    array([[20., 26.],
           [38., 44.]])
    """
    X4, W, b, S, P, batched, H2, W2, dtype = _layer_inputs(X, W, b, S, P)
    (N, H1, W1, D1), K, F = X4.shape, W.shape[0], W.shape[1]
    if S == 1 and F > 1 and K * (F * F * D1 + 1) <= _SMALL_WIDTH:  # skinny multiplies: on cnnref's threads
        V = _conv2d_small(X4, W.astype(dtype, copy=False), b.astype(dtype, copy=False), P, H2, W2, dtype)
        return V if batched else V[0]
    W_row = W.reshape(K, -1).astype(dtype, copy=False)  # (K, F*F*D1)
    # X_cols is copied from the windows in runs of F*D1 numbers (one window row); when an output row is
    # longer, store X depth-first and copy X_col (F*F*D1, positions) in runs of W2 numbers instead.
    depth_first = S == 1 and 1 < F and F * D1 < W2  # (1x1 filters at stride 1 need no copy at all)
    if depth_first:  # X_pad (N, H, W, D1) stored as (N, D1, H, W): padded and transposed in one copy
        X_pad = np.zeros((N, D1, H1 + 2 * P, W1 + 2 * P), dtype).transpose(0, 2, 3, 1)
        X_pad[:, P : P + H1, P : P + W1] = X4
    else:  # no copy at all when P = 0
        X_pad = zero_pad(X4.astype(dtype, copy=False), P) if P else X4.astype(dtype, copy=False)
    # Window copies get a last column of ones, so that the multiply by [W_row | b] adds the biases.
    ones = not depth_first and not (F == 1 and S == 1)
    W_mul = np.concatenate([W_row, b.astype(dtype, copy=False)[:, None]], axis=1) if ones else W_row
    windows = _windows(X_pad, F, S, H2, W2)  # (N, H2, W2, F, F, D1) view
    V = np.empty((N, H2, W2, K), dtype)
    for n, i in _blocks(N, H2, rows=max(1, _BLOCK // (W2 * W_mul[0].nbytes))):  # W_mul[0]: one row of X_cols
        block = windows[n, i]  # (images, rows, W2, F, F, D1)
        if depth_first:
            X_cols = block.transpose(3, 4, 5, 0, 1, 2).reshape(F * F * D1, -1).T  # one copy
        elif ones:  # one copy
            X_cols = np.empty(block.shape[:3] + (F * F * D1 + 1,), dtype)  # (images, rows, W2, F*F*D1 + 1)
            X_cols[..., -1] = 1
            np.copyto(_into(X_cols[..., :-1], block.shape), block)
            X_cols = X_cols.reshape(-1, F * F * D1 + 1)
        else:
            X_cols = block.reshape(-1, D1)  # 1x1 filters at stride 1: no copy, X itself
        np.matmul(X_cols, W_mul.T, out=_into(V[n, i], (-1, K)))  # (positions, K): one matrix multiply
        del X_cols  # free this block before the next one is built
    if not ones:
        V += b.astype(dtype, copy=False)
    return V if batched else V[0]
# --8<-- [end:conv2d]


# Backward pass (beyond the notes: what training needs). col2im is the adjoint of im2col.


def _col2im(X_cols, shape, F, S, P, H2, W2):
    """Sum windows X_cols (N, H2, W2, F, F, D) back into a padded volume and cut the padding off."""
    N, H, W, D = shape
    X_pad = np.zeros((N, H + 2 * P, W + 2 * P, D), dtype=X_cols.dtype)
    for a in range(F):  # F*F vectorised adds: every window position (a, c) at once
        for c in range(F):
            X_pad[:, a : a + S * H2 : S, c : c + S * W2 : S, :] += X_cols[:, :, :, a, c, :]
    return X_pad[:, P : P + H, P : P + W, :]


def col2im(X_col, input_shape, F, S=1, P=0):
    """The adjoint of im2col: add every column of X_col (F*F*D, H2*W2) back where its window came from.

    Returns a volume of input_shape (H, W, D). Where windows overlap (S < F) their values add up, and
    values that land on the zero padding are dropped, so for every X and Y of matching shapes
    sum(im2col(X, F, S, P) * Y) == sum(X * col2im(Y, X.shape, F, S, P)). This is how the gradient of
    the columns returns to the input volume.

    >>> X_col = np.ones((4, 4))        # the 4 windows 2x2 of a 3x3x1 volume at stride 1, all ones
    >>> col2im(X_col, (3, 3, 1), F=2)[:, :, 0]   # each pixel counts the windows that cover it
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]])
    """
    X_col = _checks.as_volume(X_col, "X_col", ndims=(2,))
    shape = tuple(input_shape)
    if len(shape) != 3:
        raise ValueError(f"input_shape must be a volume (H, W, D), got {shape}")
    H, W, D = (_checks.hyper(n, name, 1) for n, name in zip(shape, ("H", "W", "D")))
    F = _checks.hyper(F, "F", 1)
    S, P = _checks.hyper(S, "S", 1), _checks.hyper(P, "P", 0)
    H2, W2 = output_size(H, F, S, P, name="H1"), output_size(W, F, S, P, name="W1")
    if X_col.shape != (F * F * D, H2 * W2):
        raise ValueError(
            f"X_col must have shape (F*F*D, H2*W2) = ({F * F * D}, {H2 * W2}) for input {shape}, "
            f"F = {F}, S = {S}, P = {P}; got {X_col.shape}"
        )
    X_cols = X_col.T.reshape(1, H2, W2, F, F, D).astype(_checks.float_type(X_col), copy=False)
    return _col2im(X_cols, (1, H, W, D), F, S, P, H2, W2)[0]


def conv2d_backward(dV, X, W, S=1, P=0):
    """Gradients of a loss through the CONV layer: given dV = dL/dV, return (dX, dW, db).

    X (H1, W1, D1) or (N, H1, W1, D1) and W (K, F, F, D1) are the forward pass's inputs; dV has the
    output's shape (H2, W2, K) or (N, H2, W2, K). With V = X_col.T @ W_row.T + b (see conv2d) and
    dV_row = dV.reshape(-1, K), summing over the batch:

    dW_row = dV_row.T @ X_col.T, i.e. dW[k] = sum over positions (i, j) of dV[i, j, k] * window(i, j);
    db[k] = sum of dV[..., k]; dX = col2im(dV_row @ W_row), each window's gradient added back where it came from.

    >>> X, W = np.arange(9.0).reshape(3, 3, 1), np.ones((1, 2, 2, 1))
    >>> dX, dW, db = conv2d_backward(np.ones((2, 2, 1)), X, W)   # L = sum(V)
    >>> dX[:, :, 0]      # how many windows cover each pixel
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]])
    >>> dW[0, :, :, 0]   # e.g. dW[0, 0, 0] = 0 + 1 + 3 + 4: the top-left pixel of every window
    array([[ 8., 12.],
           [20., 24.]])
    >>> db
    array([4.])
    """
    X4, W, _, S, P, batched, H2, W2, dtype = _layer_inputs(X, W, None, S, P)
    N, K, F, D = X4.shape[0], W.shape[0], W.shape[1], X4.shape[3]
    dV = _checks.as_volume(dV, "dV", ndims=(4,) if batched else (3,))
    want = (N, H2, W2, K) if batched else (H2, W2, K)
    if dV.shape != want:
        raise ValueError(
            f"dV must have the shape of the layer's output {want} (X {X.shape}, W {W.shape}, S = {S}, P = {P}), "
            f"got {dV.shape}"
        )
    dtype = np.result_type(dtype, dV)
    dV_row = dV.reshape(N * H2 * W2, K).astype(dtype, copy=False)  # (N*H2*W2, K)
    X_pad = zero_pad(X4.astype(dtype, copy=False), P)
    X_cols = _windows(X_pad, F, S, H2, W2).reshape(N * H2 * W2, F * F * D)  # (N*H2*W2, F*F*D1)
    W_row = W.reshape(K, -1).astype(dtype, copy=False)  # (K, F*F*D1)
    dW = (dV_row.T @ X_cols).reshape(W.shape)  # (K, F, F, D1)
    db = dV_row.sum(axis=0)  # (K,)
    dX_cols = (dV_row @ W_row).reshape(N, H2, W2, F, F, D)  # each window's gradient
    dX = _col2im(dX_cols, X4.shape, F, S, P, H2, W2)  # (N, H1, W1, D1)
    return (dX if batched else dX[0]), dW, db
