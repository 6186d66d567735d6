"""The NumPy code learners copy, rewritten here for timing only: the peers of bench_nets.py's operation table.

Each function follows its source's algorithm and layout step by step (what a learner gets by copying
it), so that the benchmark times that algorithm on the same data as cnnref and PyTorch. None of it is
used by cnnref; the benchmark checks each peer's output against cnnref's before timing it.

- cs231n: the CS231n assignment's fast_layers.py (conv_forward_strides, max_pool_forward_reshape) and
  layers.py (spatial_batchnorm_forward at test time), on (N, C, H, W) arrays. No dilation, no groups,
  no padding for pooling.
- numpy-ml: numpy_ml/neural_nets/utils/utils.py (conv2D: im2col by fancy indexing with index arrays
  built at every call, then one multiply; deconv2D_naive: zeros inserted between the inputs, then
  conv2D with the filters rotated), on (N, H, W, C) arrays, dilation d counting the zeros between taps.
- sliding_window_view: numpy.lib.stride_tricks.sliding_window_view, the windows' view that NumPy's
  documentation suggests, then np.tensordot (or np.einsum, np.max, np.mean) over it.

Depthwise convolution has no vectorised peer but the sliding-window einsum: cs231n's and numpy-ml's
convolutions are called once per depth slice (groups separate multiplies), as a learner would.
"""

import numpy as np
from numpy.lib.stride_tricks import as_strided, sliding_window_view

# cs231n (N, C, H, W)


def cs231n_conv_forward_strides(x, w, b, stride, pad):
    """x (N, C, H, W), w (F, C, HH, WW), b (F,) -> (N, F, H2, W2): pad, a window view by as_strided,
    one copy into x_cols (C*HH*WW, N*H2*W2), one dot, plus b, back to (N, F, H2, W2) contiguous."""
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    x_padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")
    H, W = H + 2 * pad, W + 2 * pad
    out_h, out_w = (H - HH) // stride + 1, (W - WW) // stride + 1
    shape = (C, HH, WW, N, out_h, out_w)
    strides = x.itemsize * np.array((H * W, W, 1, C * H * W, stride * W, stride))
    x_cols = np.ascontiguousarray(as_strided(x_padded, shape=shape, strides=strides))
    x_cols.shape = (C * HH * WW, N * out_h * out_w)
    res = w.reshape(F, -1).dot(x_cols) + b.reshape(-1, 1)
    res.shape = (F, N, out_h, out_w)
    return np.ascontiguousarray(res.transpose(1, 0, 2, 3))


def cs231n_max_pool_forward_reshape(x, size):
    """Max pooling with square windows as large as the stride that tile the input: one reshape, two maxima."""
    N, C, H, W = x.shape
    x_reshaped = x.reshape(N, C, H // size, size, W // size, size)
    return x_reshaped.max(axis=3).max(axis=4)


def cs231n_avg_pool_forward_reshape(x, size):
    """The same reshape as max_pool_forward_reshape, with means: average pooling when the windows tile."""
    N, C, H, W = x.shape
    return x.reshape(N, C, H // size, size, W // size, size).mean(axis=3).mean(axis=4)


def cs231n_spatial_batchnorm_test(x, gamma, beta, running_mean, running_var, eps=1e-5):
    """spatial_batchnorm_forward at test time: (N, C, H, W) moved to (N*H*W, C), batchnorm_forward's
    x_hat = (x - mean) / sqrt(var + eps), out = gamma * x_hat + beta, moved back."""
    N, C, H, W = x.shape
    x_flat = x.transpose(0, 2, 3, 1).reshape(-1, C)
    x_hat = (x_flat - running_mean) / np.sqrt(running_var + eps)
    out = gamma * x_hat + beta
    return out.reshape(N, H, W, C).transpose(0, 3, 1, 2)


# numpy-ml (N, H, W, C), W (fr, fc, in_ch, out_ch), dilation d = zeros between taps


def _numpy_ml_pad2D(X, p):
    return np.pad(X, ((0, 0), (p, p), (p, p), (0, 0)), mode="constant", constant_values=0)


def _numpy_ml_im2col_indices(X_shape, fr, fc, p, s, d=0):
    """Index arrays k, i, j into X (N, C, H, W) of every window entry (numpy-ml, after cs231n's im2col.py)."""
    n_ex, n_in, in_rows, in_cols = X_shape
    _fr, _fc = fr * (d + 1) - d, fc * (d + 1) - d
    out_rows = (in_rows + 2 * p - _fr) // s + 1
    out_cols = (in_cols + 2 * p - _fc) // s + 1
    i0 = np.tile(np.repeat(np.arange(fr), fc), n_in) * (d + 1)
    i1 = s * np.repeat(np.arange(out_rows), out_cols)
    j0 = np.tile(np.arange(fc), fr * n_in) * (d + 1)
    j1 = s * np.tile(np.arange(out_cols), out_rows)
    i = i0.reshape(-1, 1) + i1.reshape(1, -1)
    j = j0.reshape(-1, 1) + j1.reshape(1, -1)
    k = np.repeat(np.arange(n_in), fr * fc).reshape(-1, 1)
    return k, i, j, out_rows, out_cols


def numpy_ml_conv2D(X, W, b, stride, pad, dilation=0):
    """X (N, H, W, C), W (fr, fc, C, K), b (K,) -> (N, H2, W2, K): im2col by fancy indexing
    (X_pad[:, k, i, j]), one multiply by W's columns, the result a transposed view, plus b."""
    fr, fc, in_ch, out_ch = W.shape
    n_ex = X.shape[0]
    X_pad = _numpy_ml_pad2D(X, pad).transpose(0, 3, 1, 2)
    k, i, j, out_rows, out_cols = _numpy_ml_im2col_indices((n_ex, in_ch, *X.shape[1:3]), fr, fc, pad, stride, dilation)
    X_col = X_pad[:, k, i, j].transpose(1, 2, 0).reshape(fr * fc * in_ch, -1)
    W_col = W.transpose(3, 2, 0, 1).reshape(out_ch, -1)
    Z = (W_col @ X_col).reshape(out_ch, out_rows, out_cols, n_ex).transpose(3, 1, 2, 0)
    return Z + b  # the layer's bias (numpy-ml's Conv2D.forward)


def numpy_ml_deconv2D(X, W, b, stride, pad):
    """Transposed convolution as numpy-ml's deconv2D_naive: stride - 1 zeros inserted between the
    inputs (np.insert), padded by fr - 1 - pad, then conv2D at stride 1 with the filters rotated 180 degrees.
    X (N, H, W, C), W (fr, fc, C, K) maps K to C here: W is the forward convolution's filters."""
    n_ex, in_rows, in_cols, n_in = X.shape
    if stride > 1:
        r_ix = np.repeat(np.arange(1, in_rows), stride - 1)
        c_ix = np.repeat(np.arange(1, in_cols), stride - 1)
        X = np.insert(np.insert(X, r_ix, 0, axis=1), c_ix, 0, axis=2)
    fr = W.shape[0]
    W_t = np.rot90(W, 2).transpose(0, 1, 3, 2)  # (fr, fc, K, C): the adjoint's filters
    return numpy_ml_conv2D(X, W_t, b, 1, fr - 1 - pad)


# sliding_window_view (N, H, W, C), W (K, FH, FW, C): cnnref's layout


def _windows(X, F, S, P, dilation=1, fill=0):
    X_pad = np.pad(X, ((0, 0), (P, P), (P, P), (0, 0)), constant_values=fill) if P else X
    span = dilation * (F - 1) + 1
    return sliding_window_view(X_pad, (span, span), axis=(1, 2))[:, ::S, ::S, :, ::dilation, ::dilation]  # (N, H2, W2, C, F, F)


def swv_tensordot_conv(X, W, b, S, P, dilation=1):
    """Every window by sliding_window_view, np.tensordot with the filters over (C, F, F), plus b."""
    cols = _windows(X, W.shape[1], S, P, dilation)
    return np.tensordot(cols, W, axes=([3, 4, 5], [3, 1, 2])) + b


def swv_einsum_depthwise(X, W, b, S, P, dilation=1):
    """Depthwise: every window by sliding_window_view, np.einsum of each depth slice with its own filter."""
    cols = _windows(X, W.shape[1], S, P, dilation)
    return np.einsum("nhwcab,cab->nhwc", cols, W[..., 0]) + b


def swv_tensordot_transpose(Y, W, b, S, P):
    """Transposed convolution: S - 1 zeros between the inputs, padded by F - 1 - P, then a stride-1
    convolution (sliding_window_view + tensordot) with the filters rotated and their depths swapped."""
    N, H2, W2, K = Y.shape
    F = W.shape[1]
    up = np.zeros((N, S * (H2 - 1) + 1, S * (W2 - 1) + 1, K), Y.dtype)
    up[:, ::S, ::S] = Y
    W_t = W[:, ::-1, ::-1, :].transpose(3, 1, 2, 0)  # (C, F, F, K)
    return swv_tensordot_conv(up, W_t, b, 1, F - 1 - P)


def swv_max_pool(X, F, S, P):
    return _windows(X, F, S, P, fill=-np.inf).max(axis=(4, 5))


def swv_avg_pool(X, F, S, P):
    return _windows(X, F, S, P).mean(axis=(4, 5))


def broadcast_batch_norm(X, gamma, beta, mean, var, eps=1e-5):
    """Batch norm at inference as the formula reads, broadcast over (N, H, W, C): four passes."""
    return gamma * (X - mean) / np.sqrt(var + eps) + beta
