"""The tuned CONV kernel: conv2d's contract and numbers, in bounded memory and faster on batches.

cnnref.conv2d is the notes' algorithm as written (im2col, one multiply). conv2d_fast computes the same
thing (tests prove both equal to conv2d_naive) with four refinements, each measured on the
Performance page (/performance/):

1. blocks: X_col is built and multiplied a few output rows at a time (_BLOCK bytes, at least one
   output row), each product written straight into its rows of V: memory stays bounded and the
   copies stay in cache;
2. long runs: when an output row is longer than a window row (stride 1) and the multiply is skinny
   (K (F F D1 + 1) <= _SMALL_WIDTH), the input is stored depth-first so that X_col is copied in runs
   of W2 numbers instead of runs of F*D1 (with more filters, the transposing copies cost more than the
   long runs save: the note under _BLOCK);
3. bias in the multiply: each block of X_col carries a column of ones, multiplied by [W_row | b], when
   the layer has many positions per weight (_bias_column); otherwise each block's product gets the
   biases added while it is still in cache. Either way, no pass over the whole output adds them;
4. threads: small layers at stride 1 (K (F F D1 + 1) <= _SMALL_WIDTH, such as CIFAR's 12 filters
   3x3x3) make matrix multiplies too skinny for the BLAS to spread over cores; cnnref's own threads
   run them instead, one per usable core (at most 4). The environment variable CNNREF_THREADS sets
   how many (1: only the caller's thread), read when the kernel runs; more than the usable cores is
   capped at their number, with a RuntimeWarning. On the other layers, the copies (padding, X_cols)
   are shared out over the same threads: NumPy copies on one core, the BLAS multiplies on all.

1x1 filters at stride 1 need no copy at all (X itself is X_col).

Depthwise convolution (groups = D1 = K: one filter per depth slice, MobileNet's) is no matrix multiply:
each output number is FH*FW products of one depth slice. It takes its own path, one vectorised pass
with no loop over groups: each thread pads the input rows of its block of output rows into a buffer
of its own (in cache: no padded copy of the whole input, no large allocation per call), stored in SW
column phases so that every tap is one contiguous run of W2*D1 numbers, and one einsum per phase
multiplies and sums all taps (with each filter repeated along the run). Other groups fall back to
the notes' conv2d (one stacked multiply, a matrix per group).

depth_affine, X * scale + shift per depth slice (batch norm at inference), fills one output array a
block of rows at a time, the add following the multiply while the block is still in cache, on
cnnref's threads: the readable X * scale + shift makes two passes over memory and two arrays.

fc_fast, the FC layer for a batch: the readable x @ W.T + b, taken _FC_ROWS rows of W (filters) at a time.

conv_transpose2d_fast multiplies a group of taps at a time, laid out as the output rows they are added to;
max_pool_backward_fast, which POOL layers train with, finds the switches tap by tap instead of in an array
of every window entry.
"""

import contextlib
import math
import os
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numpy.lib.stride_tricks import as_strided

from cnnref import checks
from cnnref.conv_layer import _conv_inputs, _transpose_inputs, _weight_gradients, conv2d, conv2d_backward, conv_transpose2d
from cnnref.fully_connected import _fc_operands
from cnnref.pooling import _backward_inputs, _lowest
from cnnref.windows import windows

_BLOCK = 1 << 24  # bytes of X_cols per matrix multiply (at least one output row): bounds memory, few multiplies
# The long runs pay only on skinny multiplies, which the threads step takes over (K (F F D1 + 1) <= _SMALL_WIDTH);
# with more filters the depth-first input and its transposed X_cols cost more than the runs save. Measured
# 2026-12-02 (3x3, P = 1, float32, median of 7, long runs on / off): VGG-16's conv1_2 (224x224x64, K = 64)
# 66.5 / 52.8 ms, its conv1_1 (224x224x3) 5.2 / 4.4 ms. Of 23 cases with K (9 D1 + 1) > 1024 (D1 1-64, 32-224
# wide, 1-64 images, K 64 and 128), 22 ran 0.69-0.96x as fast with long runs (one, 112x112x3, 1.05x); of 15
# skinnier ones (K 12-64), 0.89-1.75x.
# Small layers (few filters, few numbers per window, stride 1, e.g. CIFAR's first) make skinny matrix
# multiplies that the BLAS cannot spread over cores: cnnref's own threads run them instead, each on
# blocks of at most _SMALL_GEMM multiply-adds. OpenBLAS's sgemm runs m n k <= 65536 *
# GEMM_MULTITHREAD_THRESHOLD (4 by default) = 2^18 on the calling thread and spreads anything larger over
# its own threads (interface/gemm.c; measured: 64 x 64 x 64 stays on the caller, 64 x 64 x 128 does not),
# so these blocks may be threaded by OpenBLAS too; blocks of 2^18 were slower all the same (the walk's
# CIFAR case, 64 images: "+ threads" 0.71x the stop before, against 1.57x with 3 << 18): CIFAR's layer
# then takes blocks of rows of one image instead of whole images, three times as many multiplies.
# The column of ones costs a copy of the weights, [W_row | b], at every call, and one more number per window; adding
# the biases to each block's product while it is in cache costs a pass over that block. The copy pays only when the
# layer has many positions per weight: at least _BIAS_COLUMN F F D1 positions (N H2 W2), with a bias to add.
# Measured 2026-12-02 (one process, float32, median of 11 alternating rounds, ones / per block): VGG-16's 224x224x64
# 0.97, 112x112x128 0.985 (87 and 11 positions per weight); its 56x56x256 1.006 (1.4), 28x28x512 1.10, 14x14x512
# 1.20; AlexNet's conv2 1.10 and conv3 1.17 at batch 1 (0.3, 0.1), conv1 0.93 at batch 8 (67); without a bias
# (ResNet-18's CONV layers, before batch norm) the column was pure cost: 1.07-1.38 at batch 1.
_BIAS_COLUMN = 8
_SMALL_GEMM = 3 << 18  # multiply-adds per block of the threaded path
# X_pad and the blocks of X_cols (and the transposed convolution's products) go in buffers each calling thread keeps,
# up to this many bytes each (so at most 3 _KEEP a thread). Allocated afresh at every call, they were page-faulted in
# afresh whenever glibc had handed the freed memory back to the system, which depends on what else the process
# allocates: in VGG-16's forward pass at batch 1, conv1_2 took 33-59 ms with 1,653 page faults a call, 27-28 ms with
# none (alone, or with these buffers). In a Net's inference pass (keeping, Net.__call__) they go in the net's buffers
# instead, of any size, and the CONV outputs into two volumes the net keeps (out=): no fault at all after the first
# pass. Measured 2026-12-02, VGG-16, one process each, 5 passes, faults counted by getrusage: at batch 8, 1.59-1.96 s
# a pass with 2,165 faults (NumPy asks for 2 MiB pages on arrays of 4 MiB and more; with 4 KiB pages, 101,260
# faults and 1.50-1.74 s), against 1.37-1.46 s with 1 fault; at batch 1, 198-267 ms against 191-215.
_KEEP = _BLOCK
_SMALL_BLOCK = 1 << 20  # bytes of X_cols per block of the threaded path: stays in a core's cache
_SMALL_WIDTH = 1024  # K * (F*F*D1 + 1) at most this: at least _SMALL_GEMM / _SMALL_WIDTH = 768 positions a block
_MAX_THREADS = 4
_AFFINE_BLOCK = 1 << 19  # bytes of output per multiply and add of depth_affine: stays in a core's cache
_AFFINE_WIDTH = 16384  # numbers per row of depth_affine's loops, at most (D at least): NumPy pays per row
# depth_affine's output is shared out over cnnref's threads from this many bytes on; below, the hand-off costs more
# than the second core gives. Measured 2026-12-02 (float32, D = 64, median of 3 x 9 rounds, one thread's time over
# two threads'): 0.8 MiB 0.35, 3.1 MiB 0.70 (ResNet-18's and MobileNet's batch norms at batch 1), 6.1 MiB 1.40-1.58,
# 12.2 MiB 1.27, 24.5 MiB 1.40.
_AFFINE_SPLIT = 1 << 22
# A copy (padding, X_cols) or the transposed convolution's adds of at least this many bytes are shared out over
# cnnref's threads. Smaller ones stay on one core: between two multiplies the BLAS's own threads are still busy-waiting
# for work, and a copy split over the cores took longer than on one. Measured 2026-12-02, one process, alternating
# (1 MiB / 16 MiB): whole forward passes at batch 1, VGG-16 210.3 / 202.9 ms, ResNet-18 43.6 / 41.4, AlexNet
# 19.9 / 18.9; the transposed 4x4 case at batch 8 13.15 / 12.41 ms; the walk's "+ threads" step had cost 4-8% on
# AlexNet's conv1 and a VGG 3x3 at batch 1 in two runs. Larger copies, into memory not yet touched, gain from it.
_SPLIT_COPY = 1 << 24
# Rows of W (filters) per multiply of fc_fast. A batch of a few examples against large FC weights, x (8, n) @ W.T:
# OpenBLAS ran it at 1/2-1/3 of the memory's speed (AlexNet's 4096 x 9216: 16.8-18.5 ms; W @ x.T 14.0 ms), while
# blocks of 1024 rows of W, each W_block @ x.T, took 9.9-10.5 ms (512: 10.6, 2048: 11.5; VGG-16's 4096 x 25088:
# 49-61 ms, blocked 31-34 ms). One example: the same time either way. Measured quiet, benchmarks/results.json.
_FC_ROWS = 1024
_DEPTHWISE_BLOCK = 1 << 19  # bytes of output per einsum of the depthwise path: with its padded input, in a core's L2
# The refinements, in the order the Performance page adds them to the notes' conv2d. The benchmark
# switches them off to measure each one's gain (tests/test_conv2d_fast.py: every combination equals
# the loops); nothing else changes this set.
STEPS = ("blocks", "long runs", "bias in the multiply", "threads")
_steps = set(STEPS)


def _cores():
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _threads(environ=os.environ):
    """cnnref's threads: CNNREF_THREADS if set (a whole number >= 1, at most the usable cores), else the cores, at most 4."""
    value = environ.get("CNNREF_THREADS", "").strip()
    if not value:
        return min(_MAX_THREADS, _cores())
    if not (value.isascii() and value.isdigit()) or int(value) < 1:
        raise ValueError(f"CNNREF_THREADS must be a whole number >= 1 (1 turns cnnref's threads off), got {value!r}")
    threads, cores = int(value), _cores()
    if threads > cores:  # more threads than cores only wait for each other
        warnings.warn(f"CNNREF_THREADS = {threads} is more than the {cores} usable cores: cnnref uses {cores}",
                      RuntimeWarning, stacklevel=3)
    return min(threads, cores)


_pool, _pool_key, _pool_lock = None, None, threading.Lock()


def _parallel(function, items):
    """[function(item) for item in items], on cnnref's threads (NumPy's copies and multiplies release the GIL)."""
    global _pool, _pool_key
    threads = _threads()
    if threads < 2 or len(items) < 2:
        return [function(item) for item in items]
    with _pool_lock:
        if _pool is None or _pool_key != (os.getpid(), threads):  # a forked child has the pool but not its threads
            _pool, _pool_key = ThreadPoolExecutor(threads, thread_name_prefix="cnnref"), (os.getpid(), threads)
        pool = _pool
    try:
        futures = [pool.submit(function, item) for item in items[1:]]
    except RuntimeError:  # the interpreter is shutting down (atexit, a thread outliving main): no new threads
        return [function(item) for item in items]
    first = function(items[0])  # the caller takes the first item: one hand-off fewer, no thread idle
    return [first] + [future.result() for future in futures]


def _chunks(items, parts):
    """items cut into at most `parts` consecutive runs of nearly equal length."""
    step = -(-len(items) // parts)
    return [items[i : i + step] for i in range(0, len(items), step)]


def _copy(dst, src):
    """np.copyto(dst, src), cut along dst's longest axis but the last (the runs stay whole) over cnnref's
    threads when dst has at least _SPLIT_COPY bytes and the "threads" step is on: NumPy's copy runs on one
    core, while the multiply that follows runs on all of them."""
    axes = [a for a in range(dst.ndim - 1) if dst.shape[a] > 1]
    if "threads" not in _steps or dst.nbytes < _SPLIT_COPY or not axes or _threads() < 2:
        np.copyto(dst, src)
        return
    src = np.broadcast_to(src, dst.shape)
    axis = max(axes, key=lambda a: dst.shape[a])
    cut = lambda part: (slice(None),) * axis + (slice(part[0], part[-1] + 1),)  # noqa: E731
    _parallel(lambda part: np.copyto(dst[cut(part)], src[cut(part)]), _chunks(range(dst.shape[axis]), _threads()))


def _into(A, shape):
    """A reshaped for writing into: a view of A, never a silent copy (which would lose what is written)."""
    view = A.reshape(shape)
    if not np.may_share_memory(view, A):
        raise AssertionError(f"internal: reshaping {A.shape} (strides {A.strides}) to {shape} would copy")
    return view


def _blocks(N, H2, rows):
    """(images, output rows) index pairs that cover N images of H2 output rows, about `rows` at a time."""
    if rows >= H2:  # several whole images per block
        step = rows // H2
        return [(slice(n, n + step), slice(None)) for n in range(0, N, step)]
    return [(slice(n, n + 1), slice(i, i + rows)) for n in range(N) for i in range(0, H2, rows)]


def _skinny(K, FH, FW, D1):
    """A multiply too thin for the BLAS to spread over cores: K (FH FW D1 + 1) <= _SMALL_WIDTH."""
    return K * (FH * FW * D1 + 1) <= _SMALL_WIDTH


def _long_runs(K, FH, FW, D1, SW, W2):
    """Store the input depth-first and copy X_col in runs of W2 numbers? At stride 1, when a window row (FW D1
    numbers) is shorter than an output row and the multiply is skinny (the note under _BLOCK)."""
    return "long runs" in _steps and SW == 1 and FH * FW > 1 and FW * D1 < W2 and _skinny(K, FH, FW, D1)


_kept = threading.local()  # each calling thread's buffers (X_pad, X_cols, Z), kept between calls


def kept(buffers, name, shape, dtype):
    """An uninitialised array of `shape` and `dtype` in buffers[name], a buffer kept in the dict `buffers` and grown
    to the largest array asked of it: memory that is already the process's, reused, not page-faulted in again."""
    n = math.prod(shape) * np.dtype(dtype).itemsize
    buffer = buffers.get(name)
    if buffer is None or buffer.nbytes < n:
        buffer = buffers[name] = np.empty(n, np.uint8)
    return buffer[:n].view(dtype).reshape(shape)


@contextlib.contextmanager
def keeping(buffers):
    """Within, this thread's kernels keep their scratch arrays (X_pad, X_cols, Z) in the dict `buffers`, of any size
    (a Net's pass, whose buffers go with the Net); outside, in the thread's own, up to _KEEP bytes each."""
    saved, _kept.net = getattr(_kept, "net", None), buffers
    try:
        yield buffers
    finally:
        _kept.net = saved


def _scratch(name, shape, dtype):
    """An uninitialised array of `shape`: in the buffers `keeping` gave this thread, or in the thread's own kept
    buffer `name` when it takes at most _KEEP bytes, else a new one (see _KEEP)."""
    if getattr(_kept, "net", None) is not None:
        return kept(_kept.net, name, shape, dtype)
    if math.prod(shape) * np.dtype(dtype).itemsize > _KEEP:
        return np.empty(shape, dtype)
    return kept(_kept.__dict__, name, shape, dtype)


def _bias_column(positions, FH, FW, D1):
    """Whether the biases ride in the multiply (a column of ones): many positions per weight (_BIAS_COLUMN)."""
    return positions >= _BIAS_COLUMN * FH * FW * D1


def _conv2d_small(X4, W, b, P, V):
    """conv2d at stride 1 when K * (FH*FW*D1 + 1) <= _SMALL_WIDTH: skinny multiplies on cnnref's threads.

    The input is stored depth-first and padded, (images, D1, H + 2PH + 1, W + 2PW), by each thread for
    its own images (or once for all, when blocks are rows of an image). Computed over the whole
    padded width Wp (FW - 1 extra output columns per row, dropped at the end), row (a, c, d) of X_col
    for output rows i0..i1 of image n is then one run of (i1 - i0) * Wp numbers in memory, starting
    at (i0 + a) * Wp + c in channel d: a long contiguous copy per row. A row of ones (and b in W_ext)
    adds the biases inside the multiply.
    """
    (N, H1, W1, D1), (K, FH, FW, _), (PH, PW), dtype, (H2, W2) = X4.shape, W.shape, P, W.dtype, V.shape[1:3]
    FFD, Hp, Wp = FH * FW * D1, H1 + 2 * PH, W1 + 2 * PW
    W_ext = np.empty((K, FFD + 1), dtype)  # [W_row | b]
    W_ext[:, :FFD], W_ext[:, FFD] = W.reshape(K, -1), b
    # A block: `images` whole images, or `rows` output rows of one image; one multiply per image and
    # block (a stacked matmul: one call, no GIL between the multiplies), each below _SMALL_GEMM.
    rows = min(H2, max(1, _SMALL_GEMM // (K * (FFD + 1) * Wp)))
    whole = rows == H2  # blocks of whole images (else of rows of one image)
    images = max(1, _SMALL_BLOCK // ((FFD + 1) * H2 * Wp * np.dtype(dtype).itemsize)) if whole else 1
    blocks = [(n, min(N, n + images), i, min(H2, i + rows)) for n in range(0, N, images) for i in range(0, H2, rows)]
    threads = _threads()

    def padded(n):  # (n, D1, Hp + 1, Wp) zeros: one spare row, where the last windows of the last row run
        return np.zeros((n, D1, Hp + 1, Wp), dtype)

    def fill(X_t, images):  # pad and store depth-first
        X_t[:, :, PH : PH + H1, PW : PW + W1] = X4[images].transpose(0, 3, 1, 2)

    def runs(X_t):  # runs[n, a, c, d, p] = X_t[n, d].flat[a * Wp + c + p]: the rows of X_col, p = i * Wp + j
        step = X_t.itemsize
        return as_strided(X_t, (len(X_t), FH, FW, D1, H2 * Wp), (X_t.strides[0], Wp * step, step, X_t.strides[1], step))

    if not whole:  # blocks of rows: all images padded first (in parallel), shared by the threads
        X_all = padded(N)
        _parallel(lambda c: fill(X_all[c[0] : c[-1] + 1], slice(c[0], c[-1] + 1)), _chunks(range(N), threads))
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
            np.copyto(_into(X_cols[:FFD], (FH, FW, D1, k, length)), source.transpose(1, 2, 3, 0, 4))
            product = out[: k * length * K].reshape(k, length, K)
            np.matmul(X_cols.transpose(1, 2, 0), W_ext.T, out=product)  # (k, length, FFD + 1) @ (FFD + 1, K)
            V[n0:n1, i0:i1] = product.reshape(k, i1 - i0, Wp, K)[:, :, :W2]

    _parallel(run, _chunks(blocks, threads))


def _fill_phases(Xb, X4, images, r0, P, SW):
    """Xb (SW, images, rows, Wq, D) <- rows r0, r0 + 1, ... of the zero-padded X4 (N, H, W, D), split by column
    into SW phases: Xb[q, n, r - r0, m] = X_pad[n, r, m*SW + q]. In each phase, the columns a stride-SW window
    row reads from one output row to the next sit side by side."""
    (_, H1, W1, _), (PH, PW), (_, _, rows, Wq, _) = X4.shape, P, Xb.shape
    top = min(H1, max(0, r0 - PH))  # the input rows inside the block: top to bottom
    bottom = max(top, min(H1, r0 + rows - PH))
    inside = slice(top + PH - r0, bottom + PH - r0)
    Xb[:, :, : inside.start] = 0
    Xb[:, :, inside.stop :] = 0
    for q in range(SW):
        m0 = max(0, -(-(PW - q) // SW))  # the first phase column that holds an input column
        x0 = m0 * SW + q - PW
        columns = X4[images, top:bottom, x0::SW]
        m1 = m0 + columns.shape[2]
        Xb[q, :, inside, :m0] = 0
        Xb[q, :, inside, m1:] = 0
        Xb[q, :, inside, m0:m1] = columns


def _depthwise(X4, W, b, S, P, dilation, V):
    """Depthwise convolution (groups = D1 = K): V[n, i, j, d] = sum over a, c of
    X_pad[n, i*SH + a*dH, j*SW + c*dW, d] * W[d, a, c, 0], plus b[d] when b is not None.

    Tap c of the window reads padded column j*SW + c*dW = (j + (c*dW) // SW)*SW + (c*dW) % SW: phase
    (c*dW) % SW, from column j + (c*dW) // SW on. The taps of one phase are every (SW/g)-th, g = gcd(SW, dW),
    their starts dW/g columns apart: one strided view (images, rows, FH, taps, W2*D) per phase, each tap's
    W2*D numbers contiguous, and one einsum per phase and block of output rows multiplies them by the
    filters repeated W2 times and sums over the taps. Each thread pads and splits the input rows of its
    block into a buffer of its own, reused (in cache; no padded copy of the whole input).
    """
    (N, H1, W1, D), (_, FH, FW, _), (SH, SW), (dH, dW), (H2, W2) = X4.shape, W.shape, S, dilation, V.shape[1:3]
    dtype, g, Wq = W.dtype, math.gcd(SW, dW), -(-(W1 + 2 * P[1]) // SW)
    item = np.dtype(dtype).itemsize
    phases, tiles = [], []  # (phase, first column, taps) and the filters of its taps, repeated along a row
    for q in range(SW):
        taps = [c for c in range(FW) if c * dW % SW == q]  # every (SW // g)-th tap, from taps[0] on
        if not taps:
            continue
        phases.append((q, taps[0] * dW // SW, len(taps)))
        filters = W[:, :, taps[0] :: SW // g, 0].transpose(1, 2, 0)  # (FH, taps, D)
        tiles.append(np.ascontiguousarray(np.broadcast_to(filters[:, :, None], (FH, len(taps), W2, D))).reshape(FH, len(taps), -1))
    V = _into(V, (N, H2, W2 * D))
    rows = max(1, _DEPTHWISE_BLOCK // (W2 * D * item))
    span = lambda i: (i.stop - i.start - 1) * SH + dH * (FH - 1) + 1  # noqa: E731  (padded input rows of output rows i)
    blocks = [(range(N)[n], range(H2)[i]) for n, i in _blocks(N, H2, rows)]

    def run(chunk):
        buffer = np.empty(max(SW * len(n) * span(i) * Wq * D for n, i in chunk), dtype)
        extra = np.empty(max(len(n) * len(i) * W2 * D for n, i in chunk), dtype) if len(phases) > 1 else None
        for n, i in chunk:
            images, i = slice(n.start, n.stop), slice(i.start, i.stop)
            Xb = buffer[: SW * len(n) * span(i) * Wq * D].reshape(SW, len(n), span(i), Wq, D)
            _fill_phases(Xb, X4, images, i.start * SH, P, SW)
            block = V[images, i]  # (images, rows, W2*D)
            for p, ((q, first, taps), tile) in enumerate(zip(phases, tiles)):
                start = Xb[q, :, :, first:]
                sN, sR = start.strides[:2]
                view = as_strided(start, (len(n), i.stop - i.start, FH, taps, W2 * D),
                                  (sN, SH * sR, dH * sR, dW // g * D * item, item))
                if p == 0:
                    np.einsum("nrack,ack->nrk", view, tile, out=block)
                else:  # the taps of another phase, added
                    more = extra[: block.size].reshape(block.shape)
                    np.einsum("nrack,ack->nrk", view, tile, out=more)
                    block += more
            if b is not None:
                _into(block, (-1, D))[...] += b

    _parallel(run, _chunks(blocks, _threads()))


def depth_affine(X, scale, shift, out=None):
    """X * scale + shift, X (..., D) and scale, shift (D,) of X's dtype: the same numbers, one output array
    (out, if given: X's shape and dtype, contiguous; out=X overwrites X, with no new array).

    X is seen as rows of r depth vectors (r D numbers, r the most that divides the positions with r D <=
    _AFFINE_WIDTH), scale and shift repeated r times: NumPy's loops then run over long rows, not D numbers
    at a time. The output is filled a block of rows at a time (_AFFINE_BLOCK bytes), the add following the
    multiply while the block is in cache, the blocks shared out over cnnref's threads when the output has
    at least _AFFINE_SPLIT bytes.

    >>> depth_affine(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([2.0, 10.0]), np.array([0.5, 0.0]))
    array([[ 2.5, 20. ],
           [ 6.5, 40. ]])
    """
    D = X.shape[-1]
    positions = X.size // D
    r = next(r for r in range(max(1, _AFFINE_WIDTH // D), 0, -1) if positions % r == 0)
    X2 = X.reshape(-1, r * D)  # a view when X is contiguous
    scale, shift = np.tile(scale, r), np.tile(shift, r)
    dtype = np.result_type(X, scale, shift)
    if out is None:
        Y = np.empty(X2.shape, dtype)
    elif out.shape != X.shape or out.dtype != dtype or not out.flags.c_contiguous:
        raise ValueError(f"out must be a contiguous array of X's shape {X.shape} and dtype {dtype}, "
                         f"got shape {out.shape}, dtype {out.dtype}, contiguous {out.flags.c_contiguous}")
    else:
        Y = _into(out, X2.shape)
    rows = max(1, _AFFINE_BLOCK // (r * D * Y.itemsize))

    def run(starts):
        for i in starts:
            block = Y[i : i + rows]
            np.multiply(X2[i : i + rows], scale, out=block)
            block += shift

    _parallel(run, _chunks(range(0, len(X2), rows), _threads() if Y.nbytes >= _AFFINE_SPLIT else 1))
    return Y.reshape(X.shape)


def fc_fast(X, W, b=None):
    """cnnref.fc, tuned: the same arguments, and the same numbers up to rounding (each score is the same dot
    product; the BLAS may add its terms in another order). FC layers infer with it.

    The scores of the N examples, W @ x.T, are computed _FC_ROWS filters (rows of W) at a time, each block
    of W times all of x.T written into its rows of the (K, N) result: a few examples against large weights
    ran at a fraction of the memory's speed as one multiply (see _FC_ROWS).

    >>> fc_fast(np.ones((2, 2, 1)), np.arange(8.0).reshape(2, 4), np.array([0.0, 1.0]))
    array([ 6., 23.])
    """
    x, W, b, batched = _fc_operands(X, W, b)  # x (N, n)
    V = np.empty((len(W), len(x)), x.dtype)  # (K, N)
    scores = _filters_times(W, x.T, V).T + b  # (N, K)
    return scores if batched else scores[0]


def _filters_times(W, x_T, V):
    """V = W @ x_T, _FC_ROWS rows of W (filters) at a time, each block written into its rows of V (fc_fast's
    multiply; the benchmark's floor times it alone)."""
    for i in range(0, len(W), _FC_ROWS):
        np.matmul(W[i : i + _FC_ROWS], x_T, out=V[i : i + _FC_ROWS])
    return V


# --8<-- [start:conv2d_fast]
def conv2d_fast(X, W, b=None, S=1, P=0, dilation=1, groups=1, exact=True, out=None):
    """conv2d, tuned: the same arguments and numbers, a block of output rows at a time (module docstring).
    With out (an array of the output's shape and dtype, not X), the output is written there and out returned.

    X (H1, W1, D1) or (N, H1, W1, D1), filters W (K, F, F, D1 // groups), biases b (K,) -> (H2, W2, K) or
    (N, H2, W2, K). X_cols, the transposed im2col (positions, F*F*D1), is built and multiplied a block
    of output rows at a time, each product landing in its rows of V with no copy.

    Memory, besides X and V: a copy of X when it is padded (P > 0), stored depth-first (long runs) or
    converted to the compute dtype; a copy of the weights with the bias column, [W_row | b], as large
    as W, when the biases ride in the multiply (only layers with many positions per weight: an FC
    layer as CONV never copies its weights); and one block of X_cols: 16 MiB,
    or one output row of X_cols, W2 (F*F*D1 + 1) numbers, when that is larger (the threaded path's
    blocks are about 1 MiB a thread). tests/test_hardening.py measures this bound. The padded copy
    and the block of X_cols stay allocated between calls, in buffers of the calling thread, when
    neither is larger than _KEEP (16 MiB), or in a Net's during its pass (keeping), of any size: no
    page faults for memory just handed back to the system.

    >>> X, W = np.arange(9.0).reshape(3, 3, 1), np.arange(4.0).reshape(1, 2, 2, 1)
    >>> conv2d_fast(X, W, b=np.ones(1))[:, :, 0]
    array([[20., 26.],
           [38., 44.]])
    """
    c = _conv_inputs(X, W, b, S, P, dilation, groups, exact, columns=False)
    (N, H1, W1, D1), (K, FH, FW, _), (H2, W2) = c.X.shape, c.W.shape, c.out
    shape = (N, H2, W2, K)
    V = np.empty(shape, c.X.dtype) if out is None else \
        checks.output(out, shape if c.batched else shape[1:], c.X.dtype, X, W, b).reshape(shape)
    result = lambda: out if out is not None else V if c.batched else V[0]  # noqa: E731
    if c.groups > 1 and c.groups == D1 == K:  # depthwise: one filter per depth slice, no multiply
        _depthwise(c.X, c.W, None if b is None else c.b, c.S, c.P, c.dilation, V)
        return result()
    if c.groups > 1:  # the notes' conv2d: one stacked multiply, a matrix per group (copied into out, if given)
        grouped = conv2d(c.X, c.W, c.b, c.S, c.P, c.dilation, c.groups, exact)
        if out is None:
            return grouped if c.batched else grouped[0]
        V[...] = grouped
        return out
    one = c.S == (1, 1) and c.dilation == (1, 1)
    if "threads" in _steps and one and FH * FW > 1 and _skinny(K, FH, FW, D1):  # on cnnref's threads
        _conv2d_small(c.X, c.W, c.b, c.P, V)
        return result()
    W_row = c.W.reshape(K, -1)  # (K, FH*FW*D1)
    # X_cols is copied from the windows in runs of FW*D1 numbers (one window row); when an output row is
    # longer and the multiply skinny (_long_runs), store X depth-first and copy X_col (FH*FW*D1, positions)
    # in runs of W2 numbers instead.
    depth_first = _long_runs(K, FH, FW, D1, c.S[1], W2)
    (PH, PW), dtype = c.P, c.X.dtype
    if depth_first or PH or PW:  # zero_pad's numbers, the copy on cnnref's threads
        padded = (H1 + 2 * PH, W1 + 2 * PW)
        if depth_first:  # X_pad (N, H, W, D1) stored as (N, D1, H, W): padded and transposed in one copy
            X_pad = _scratch("X_pad", (N, D1, *padded), dtype).transpose(0, 2, 3, 1)
        else:
            X_pad = _scratch("X_pad", (N, *padded, D1), dtype)
        for border in (X_pad[:, :PH], X_pad[:, PH + H1 :], X_pad[:, PH : PH + H1, :PW], X_pad[:, PH : PH + H1, PW + W1 :]):
            border[...] = 0
        _copy(X_pad[:, PH : PH + H1, PW : PW + W1], c.X)
    else:  # no copy at all when P = 0
        X_pad = c.X
    # Window copies get a last column of ones, so that the multiply by [W_row | b] adds the biases, where that
    # copy of the weights pays (_bias_column); elsewhere each block's product gets them while in cache.
    fused = "bias in the multiply" in _steps and b is not None  # else one pass at the end, if any biases
    ones = fused and not depth_first and not (FH * FW == 1 and one) and _bias_column(N * H2 * W2, FH, FW, D1)
    W_mul = np.concatenate([W_row, c.b[:, None]], axis=1) if ones else W_row
    cols = windows(X_pad, (FH, FW), c.S, c.dilation)  # (N, H2, W2, FH, FW, D1) view
    rows = max(1, _BLOCK // (W2 * W_mul[0].nbytes)) if "blocks" in _steps else N * H2  # W_mul[0]: a row of X_cols
    for n, i in _blocks(N, H2, rows):
        block = cols[n, i]  # (images, rows, W2, FH, FW, D1)
        if depth_first:  # one copy, (FH, FW, D1, images, rows, W2), multiplied transposed
            X_cols = np.empty((FH, FW, D1) + block.shape[:3], c.X.dtype)
            _copy(X_cols, block.transpose(3, 4, 5, 0, 1, 2))
            X_cols = X_cols.reshape(FH * FW * D1, -1).T
        elif FH * FW == 1 and one:
            X_cols = block.reshape(-1, D1)  # 1x1 filters at stride 1: no copy, X itself
        else:  # one copy, with a last column of ones when the multiply adds the biases
            X_cols = _scratch("X_cols", block.shape[:3] + (FH * FW * D1 + ones,), c.X.dtype)  # (images, rows, W2, F*F*D1 [+ 1])
            X_cols[..., FH * FW * D1 :] = 1
            _copy(_into(X_cols[..., : FH * FW * D1], block.shape), block)
            X_cols = X_cols.reshape(-1, FH * FW * D1 + ones)
        np.matmul(X_cols, W_mul.T, out=_into(V[n, i], (-1, K)))  # (positions, K): one matrix multiply
        del X_cols  # the next block is built in the same buffer (or a new one, past _KEEP)
        if fused and not ones:  # the biases, while this block's product is in cache
            V[n, i] += c.b
    if not fused and b is not None:  # no biases (a CONV before batch norm): no pass adding zeros
        V += c.b
    return result()
# --8<-- [end:conv2d_fast]


def conv_transpose2d_fast(Y, W, b=None, S=1, P=0, output_padding=0, dilation=1, groups=1):
    """conv_transpose2d, tuned: the same arguments, and the same numbers up to rounding (each product is
    the same dot product; the BLAS may add its terms in another order for a narrower multiply). On
    any number of threads, the same numbers bit for bit.

    The products of the readable version's one multiply, Y_row.T @ W_row, but a group of taps at
    a time: at dilation 1, the SW taps of a window row whose columns follow each other, c = u SW + v for
    0 <= v < SW, land on columns (j + u) SW + v, so that input row i's products for the group fill
    W2 SW D numbers of an output row side by side. Each group's multiply (the weights W[:, a, u SW :
    (u + 1) SW]) lays them out in that order, and one add of long contiguous runs puts them in place
    (col2im's adds, in the same order for every number: tap row a, then tap column c). The adds of a
    group are shared out over cnnref's threads by input rows, which land on distinct output rows.
    Dilated columns take one tap per group. Groups > 1 take the readable version.

    >>> W = np.ones((1, 2, 2, 1))
    >>> conv_transpose2d_fast(np.array([[1.0, 2.0], [3.0, 4.0]])[:, :, None], W, S=2)[:, :, 0]
    array([[1., 1., 2., 2.],
           [1., 1., 2., 2.],
           [3., 3., 4., 4.],
           [3., 3., 4., 4.]])
    """
    c = _transpose_inputs(Y, W, b, S, P, output_padding, dilation, groups)
    if c.groups > 1:
        return conv_transpose2d(Y, W, b, S, P, output_padding, dilation, groups)
    (N, H2, W2, K), (_, FH, FW, D), (SH, SW), (dH, dW), (PH, PW), (H1, W1) = c.X.shape, c.W.shape, c.S, c.dilation, c.P, c.out
    dtype = np.result_type(c.X, c.W)
    run = SW if dW == 1 else 1  # taps per group; a group's columns: (j + u) SW + v, or j SW + c dW when dilated
    # one spare run of columns: the last group may hold fewer than SW taps, and its view reaches past the last column
    X_pad = _scratch("X_pad", (N, H1 + 2 * PH, W1 + 2 * PW + SW, D), dtype)
    X_pad[...] = 0
    Y_row = c.X.reshape(-1, K)
    for a in range(FH):
        rows = X_pad[:, a * dH : a * dH + SH * (H2 - 1) + 1 : SH]  # (N, H2, ..., D): where input row i lands
        for c0 in range(0, FW, run):
            n = min(run, FW - c0)
            Z = _scratch("Z", (N, H2, W2, n, D), dtype)
            np.matmul(Y_row, c.W[:, a, c0 : c0 + n].reshape(K, n * D), out=_into(Z, (-1, n * D)))
            if dW == 1:  # (N, H2, W2, SW, D): columns (j + u) SW + v, the group's taps v < n
                to = _into(rows[:, :, c0 : c0 + SW * W2], (N, H2, W2, SW, D))[:, :, :, :n]
            else:
                to = rows[:, :, c0 * dW : c0 * dW + SW * (W2 - 1) + 1 : SW, None]

            def add(rows, to=to, Z=Z):  # input rows rows[0]..rows[-1], which land on output rows of their own
                i = slice(rows[0], rows[-1] + 1)
                to[:, i] += Z[:, i]

            parts = _threads() if "threads" in _steps and Z.nbytes >= _SPLIT_COPY else 1
            _parallel(add, _chunks(range(H2), parts))
    X = X_pad[:, PH : PH + H1, PW : PW + W1] + c.b
    return X if c.batched else X[0]


def max_pool_backward_fast(dV, X, F=2, S=2, P=0, dilation=1, exact=True):
    """max_pool_backward, tuned: the same arguments and the same numbers; POOL layers train with it.

    The same switches, found tap by tap instead of in an array of every window entry (F F times dV's
    size, several times over): V, the max of every window; then for each tap in row-major order, the
    windows whose max it reads and no earlier tap read (or, for the first tap, whose max is NaN, which
    numpy.argmax gives to the first entry) route dV there. The taps of one phase of the padded input
    (rows a dH mod SH, columns c dW mod SW) land on one grid, so each tap's share is added to that
    phase's own contiguous array, in the readable version's order (tap after tap), and the phases are
    laid back into place at the end.

    >>> X = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]])[:, :, None]
    >>> max_pool_backward_fast(np.array([[10.0, 20.0], [30.0, 40.0]])[:, :, None], X)[:, :, 0]
    array([[ 0.,  0.,  0.,  0.],
           [ 0., 10.,  0., 20.],
           [30.,  0.,  0.,  0.],
           [ 0.,  0.,  0., 40.]])
    """
    X4, cols, (F, S, P, dilation), inside, dV4 = _backward_inputs(dV, X, F, S, P, dilation, exact, _lowest)
    N, H2, W2, FH, FW, D = cols.shape
    (SH, SW), (dH, dW) = S, dilation
    taps = [(a, c) for a in range(FH) for c in range(FW)]
    V = cols[:, :, :, 0, 0].copy()  # the max of every window, tap by tap
    for a, c in taps[1:]:
        np.maximum(V, cols[:, :, :, a, c], out=V)
    # phase (a dH % SH, c dW % SW): its grid's row i + a dH // SH holds padded row a dH + SH i
    spread = (dH * (FH - 1) // SH, dW * (FW - 1) // SW)
    phases = {}
    free, hit, share = np.ones(V.shape, bool), np.empty(V.shape, bool), np.empty(V.shape, dV4.dtype)
    for a, c in taps:
        np.equal(cols[:, :, :, a, c], V, out=hit)
        if inside is not None:  # the padding never takes the gradient (ties with an integer X's smallest value)
            hit &= inside[:, :, :, a, c]
        if (a, c) == (0, 0) and V.dtype.kind == "f":
            hit |= np.isnan(V)
        hit &= free
        free ^= hit  # hit is within free: the windows still without their switch
        np.multiply(dV4, hit, out=share)
        (pa, oa), (pc, oc) = divmod(a * dH, SH)[::-1], divmod(c * dW, SW)[::-1]
        if (pa, pc) not in phases:
            phases[pa, pc] = np.zeros((N, H2 + spread[0], W2 + spread[1], D), dV4.dtype)
        phases[pa, pc][:, oa : oa + H2, oc : oc + W2] += share
    dX_pad = np.zeros((N, X4.shape[1] + 2 * P[0], X4.shape[2] + 2 * P[1], D), dV4.dtype)
    for (pa, pc), grid in phases.items():  # each padded number belongs to one phase: a copy, no add
        target = dX_pad[:, pa::SH, pc::SW]
        h, w = min(target.shape[1], grid.shape[1]), min(target.shape[2], grid.shape[2])  # past the grid: zeros
        target[:, :h, :w] = grid[:, :h, :w]
    dX = dX_pad[:, P[0] : P[0] + X4.shape[1], P[1] : P[1] + X4.shape[2]]
    return dX if np.ndim(X) == 4 else dX[0]


def conv2d_backward_fast(dV, X, W, S=1, P=0, dilation=1, groups=1, exact=True):
    """conv2d_backward, tuned: the same arguments, and the same numbers up to rounding; CONV layers train with it.

    dW and db are the readable version's. dX, col2im of every window's gradient, is the transposed
    convolution of dV with the same filters (conv_transpose2d's own definition), computed by
    conv_transpose2d_fast: a group of taps multiplied at a time and added in long runs, instead of a
    column per window added back tap by tap. The rows and columns of X that no window reaches (the floor
    rule) are the output padding. Groups > 1 take the readable version.

    >>> X, W = np.arange(9.0).reshape(3, 3, 1), np.ones((1, 2, 2, 1))
    >>> conv2d_backward_fast(np.ones((2, 2, 1)), X, W)[0][:, :, 0]   # how many windows cover each pixel
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]])
    """
    if groups != 1:
        return conv2d_backward(dV, X, W, S, P, dilation, groups, exact)
    c, dV, dtype, dW, db = _weight_gradients(dV, X, W, S, P, dilation, groups, exact)
    (_, H1, W1, _), (_, FH, FW, _) = c.X.shape, c.W.shape
    (H2, W2), (SH, SW), (PH, PW), (dH, dW_) = c.out, c.S, c.P, c.dilation
    output_padding = (H1 + 2 * PH - (SH * (H2 - 1) + dH * (FH - 1) + 1), W1 + 2 * PW - (SW * (W2 - 1) + dW_ * (FW - 1) + 1))
    dX = conv_transpose2d_fast(dV, c.W.astype(dtype, copy=False), None, c.S, c.P, output_padding, c.dilation)
    return (dX if c.batched else dX[0]), dW, db
