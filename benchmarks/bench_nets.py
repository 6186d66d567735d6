"""Whole networks, a training step and every operation against PyTorch and the NumPy peers (issue 19),
and the walk from the notes' conv2d to the tuned one (issue 11); writes their entries of benchmarks/results.json.

    python benchmarks/bench_nets.py                 # everything below
    python benchmarks/bench_nets.py --only ops walk # some parts (nets, training, ops, walk, memory), the others kept
    python benchmarks/bench_nets.py --quick --out /tmp/quick.json   # checks the script: one short round each

torch is the baseline only (pip install torch==2.13.0): never a dependency of cnnref or of its tests.

Timing: benchmarks/harness.py, as bench_conv.py (each library in its own worker process, alternating
rounds, medians of every timed call, the lowest and highest single-round ratio). The NumPy peers
(benchmarks/peers.py) and the walk's stops run in cnnref's worker, taking their turns with it.

- nets: the five architectures' forward pass (cnnref.architectures, float32, seeded weights; eval
  mode: batch norm with running statistics) at batch 1 and 8. PyTorch's net is built layer by layer
  from cnnref's, with cnnref's weights copied (ReLU in place, as torchvision builds them); the two
  outputs are compared before anything is timed, and a net whose outputs disagree is not timed.
- training: one step of ResNet-18 at batch 8: forward in training mode (batch statistics), softmax
  cross-entropy, backward, plain SGD; the two libraries' losses and updated weights after one step
  from the same weights are compared first.
- ops: each operation at batch 1 and 8, float32: cnnref's function as the layers call it, the notes'
  readable one where it differs, PyTorch, and every peer that computes it (outputs compared first).
- walk: conv2d_fast with its refinements (cnnref.fast_conv.STEPS) added one at a time, from the
  notes' conv2d, on bench_conv.py's float32 cases.
- memory: peak bytes NumPy allocates during the first forward pass of each new net at batch 1
  (tracemalloc), beyond the weights and the input, and what the net keeps of it for its next passes.
- floors, timed as one more variant in the same alternating rounds as the case they bound (so that
  the machine's load weighs on both alike; `floor_range` is their single-round spread): for every net
  and batch, the matrix multiplies of its CONV and FC layers alone (each layer's X_col built
  beforehand); for each convolution of the operation table, its one multiply alone; for the
  memory-bound operations (pooling, batch norm, depthwise), a copy of as many bytes as they must read
  and write. The copy bandwidth NumPy reaches on a large array is recorded beside them.
"""

import argparse
import contextlib
import importlib.metadata
import json
import math
import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks import peers  # noqa: E402
from benchmarks.harness import (  # noqa: E402
    SETTLE, Worker, load_average, machine, median_ms, now, pools, report, rounds, spread, time_calls, wait_until_idle,
)
from cnnref import conv2d, conv2d_fast, conv_transpose2d, conv_transpose2d_fast, max_pool, avg_pool  # noqa: E402
from cnnref import fast_conv  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results.json"
PARTS = ("nets", "training", "ops", "walk", "memory")

NETS = ("LeNet-5", "AlexNet", "VGG-16", "ResNet-18", "MobileNet v1")
BATCHES = (1, 8)
NET_TARGETS = {"AlexNet": 1.3, "VGG-16": 1.3, "ResNet-18": 1.8, "MobileNet v1": 3.0}  # LeNet-5: reported only
TRAINING = {"net": "ResNet-18", "N": 8, "lr": 1e-3, "target": 3.0}
OP_TARGET, DEPTHWISE_TARGET = 2.0, 3.0
PEER_SINGLE, PEER_BATCH = 1.0, 1.3  # the tuned conv2d at least as fast as the best peer; on batches 1.3x faster
NOTES_VS_CS231N = 1.25  # the notes' conv2d at most this much slower than cs231n's conv_forward_strides

# Each operation: its shapes (one image), and the libraries that compute it (besides cnnref and torch).
OPS = [
    {"op": "conv 3x3", "kind": "conv", "input": [56, 56, 64], "K": 64, "F": 3, "S": 1, "P": 1, "dilation": 1,
     "peers": ["cs231n", "numpy-ml", "sliding_window_view"]},
    {"op": "conv 1x1", "kind": "conv", "input": [28, 28, 256], "K": 256, "F": 1, "S": 1, "P": 0, "dilation": 1,
     "peers": ["cs231n", "numpy-ml", "sliding_window_view"]},
    {"op": "depthwise 3x3", "kind": "depthwise", "input": [56, 56, 256], "F": 3, "S": 1, "P": 1, "dilation": 1,
     "peers": ["sliding_window_view", "cs231n", "numpy-ml"]},
    {"op": "dilated 3x3", "kind": "conv", "input": [56, 56, 64], "K": 64, "F": 3, "S": 1, "P": 2, "dilation": 2,
     "peers": ["numpy-ml", "sliding_window_view"]},
    {"op": "transposed 4x4", "kind": "transpose", "input": [28, 28, 128], "K": 64, "F": 4, "S": 2, "P": 1,
     "peers": ["numpy-ml", "sliding_window_view"]},
    {"op": "batch norm", "kind": "batch_norm", "input": [112, 112, 64], "peers": ["cs231n", "broadcast"]},
    {"op": "max pool 3x3", "kind": "max_pool", "input": [112, 112, 64], "F": 3, "S": 2, "P": 1,
     "peers": ["sliding_window_view"]},
    {"op": "avg pool 2x2", "kind": "avg_pool", "input": [56, 56, 128], "F": 2, "S": 2, "P": 0,
     "peers": ["cs231n", "sliding_window_view"]},
]
PEER_NAMES = {  # how the page names each peer
    "cs231n": "cs231n (conv_forward_strides, max_pool_forward_reshape, spatial_batchnorm_forward)",
    "numpy-ml": "numpy-ml (conv2D, deconv2D_naive)",
    "sliding_window_view": "sliding_window_view + tensordot (einsum, max, mean)",
    "broadcast": "the formula broadcast (four passes)",
}
CONV_KINDS = ("conv", "depthwise", "transpose")  # the convolutions: the peer targets apply to them

ROUNDS = {"nets": 5, "training": 5, "ops": 7, "walk": 7}  # alternating rounds per case
TURN = {"nets": 1.0, "training": 2.0, "ops": 0.3, "walk": 0.3}  # seconds of timed calls per turn (at least MIN_RUNS calls)
MIN_RUNS = {"nets": 2, "training": 1, "ops": 5, "walk": 5}
IDLE = {"threshold": 0.6, "patience": 30.0}  # before each case: wait (up to patience s) for that share of free CPU time
TOLERANCE = 1e-3  # outputs agree when max |a - b| <= TOLERANCE * max |b| (float32 through a whole net)


def torch_version():
    try:
        return importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        return None


def _rng_input(shape, seed=1):
    return np.random.default_rng(seed).standard_normal(shape, dtype=np.float32)


# --- Networks, in cnnref and as the same net in PyTorch


def cnnref_net(name):
    from cnnref import architectures

    net = architectures.NETS[name](seed=0, dtype=np.float32)
    return net.init()


def _torch_layers(layers, shape):
    """PyTorch modules computing what cnnref's layers compute on inputs of shape (H, W, D), with their weights."""
    import torch
    from torch import nn

    from cnnref.batch_norm import BatchNormLayer
    from cnnref.global_pool import GlobalAvgPoolLayer
    from cnnref.layers import ConvLayer, FCLayer, PoolLayer, ReLULayer
    from cnnref.residual import ResidualBlock

    tensor = lambda A: torch.from_numpy(np.ascontiguousarray(A))  # noqa: E731
    modules = []
    for layer in layers:
        after = tuple(layer.output_shape(shape))
        if isinstance(layer, ConvLayer):
            D1, (K, FH, FW, _) = shape[2], layer.W.shape
            conv = nn.Conv2d(D1, K, (FH, FW), layer.S, layer.P, layer.dilation, layer.groups, bias=layer.bias)
            conv.weight.data = tensor(layer.W.transpose(0, 3, 1, 2))
            if layer.bias:
                conv.bias.data = tensor(layer.b)
            modules.append(conv)
        elif isinstance(layer, BatchNormLayer):
            bn = nn.BatchNorm2d(shape[-1], eps=layer.eps, momentum=layer.momentum) if len(shape) == 3 else \
                nn.BatchNorm1d(shape[-1], eps=layer.eps, momentum=layer.momentum)
            bn.weight.data, bn.bias.data = tensor(layer.params["gamma"]), tensor(layer.params["beta"])
            bn.running_mean.data, bn.running_var.data = tensor(layer.running_mean), tensor(layer.running_var)
            modules.append(bn)
        elif isinstance(layer, ReLULayer):
            modules.append(nn.ReLU(inplace=True))  # as torchvision builds its nets
        elif isinstance(layer, GlobalAvgPoolLayer):
            modules += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        elif isinstance(layer, PoolLayer):
            ceil = False  # cnnref floors (exact=False) or tiles exactly
            pool = nn.MaxPool2d(layer.F, layer.S, layer.P, layer.dilation, ceil_mode=ceil) if layer.mode == "max" \
                else nn.AvgPool2d(layer.F, layer.S, layer.P, ceil_mode=ceil)
            modules.append(pool)
        elif isinstance(layer, FCLayer):
            W = layer.W
            if len(shape) == 3:  # cnnref flattens (H, W, D), PyTorch (D, H, W)
                H, Wd, D = shape
                W = W.reshape(len(W), H, Wd, D).transpose(0, 3, 1, 2).reshape(len(W), -1)
                modules.append(nn.Flatten())
            fc = nn.Linear(W.shape[1], W.shape[0])
            fc.weight.data, fc.bias.data = tensor(W), tensor(layer.b)
            modules.append(fc)
        elif isinstance(layer, ResidualBlock):
            modules.append(_Residual(_torch_layers(layer.main, shape), _torch_layers(layer.shortcut, shape)))
        else:
            raise TypeError(f"no PyTorch module for {layer.describe()}")
        shape = after
    return nn.Sequential(*modules)


def _residual_class():
    from torch import nn

    class Residual(nn.Module):
        def __init__(self, main, shortcut):
            super().__init__()
            self.main, self.shortcut = main, shortcut

        def forward(self, x):
            return self.main(x) + self.shortcut(x)  # an empty Sequential is the identity

    return Residual


def _Residual(main, shortcut):
    return _residual_class()(main, shortcut)


def torch_net(name):
    net = cnnref_net(name)
    return _torch_layers(net.layers, net.input_shape), net.input_shape


def conv_layers(net):
    """(layer, input shape) of every CONV and FC layer of a cnnref net, residual blocks opened."""
    from cnnref.layers import ConvLayer, FCLayer
    from cnnref.residual import ResidualBlock

    found = []

    def walk(layers, shape):
        for layer in layers:
            if isinstance(layer, ResidualBlock):
                walk(layer.main, shape)
                walk(layer.shortcut, shape)
            elif isinstance(layer, (ConvLayer, FCLayer)):
                found.append((layer, shape))
            shape = tuple(layer.output_shape(shape))

    walk(net.layers, net.input_shape)
    return found


# --- The worker: one library per process


def _to_nhwc(T):
    """A torch tensor (N, C, H, W) or (N, n) as a NumPy array in cnnref's layout."""
    A = T.detach().numpy()
    return A.transpose(0, 2, 3, 1) if A.ndim == 4 else A


def _op_data(case):
    """The operation's inputs, the same numbers in every process: X (N, H, W, D), and W, b or BN's vectors."""
    N, (H, Wd, D) = case["N"], case["input"]
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N, H, Wd, D), dtype=np.float32)
    kind = case["kind"]
    if kind in ("conv", "depthwise", "transpose"):
        K = D if kind == "depthwise" else case["K"]
        depth = 1 if kind == "depthwise" else D
        if kind == "transpose":  # W (D, F, F, K): the forward convolution's filters, from K to D depths
            W = rng.standard_normal((D, case["F"], case["F"], K), dtype=np.float32) / np.float32(case["F"] * math.sqrt(D))
            return X, W, rng.standard_normal(K, dtype=np.float32)
        W = rng.standard_normal((K, case["F"], case["F"], depth), dtype=np.float32) / np.float32(case["F"] * math.sqrt(depth))
        return X, W, rng.standard_normal(K, dtype=np.float32)
    if kind == "batch_norm":
        gamma, beta, mean = (rng.standard_normal(D, dtype=np.float32) for _ in range(3))
        var = rng.uniform(0.5, 2.0, D).astype(np.float32)
        return X, gamma, beta, mean, var
    return (X,)


def _op_task(variant, case):
    """(run, output): run() computes the operation; output(result) gives it as (N, H2, W2, K) NumPy."""
    kind, data = case["kind"], _op_data(case)
    X = data[0]
    F, S, P, dilation = case.get("F"), case.get("S"), case.get("P"), case.get("dilation", 1)
    same = lambda V: V  # noqa: E731
    nchw = lambda A: np.ascontiguousarray(A.transpose(0, 3, 1, 2))  # noqa: E731
    to_nhwc = lambda V: np.asarray(V).transpose(0, 2, 3, 1)  # noqa: E731
    if variant == "torch":
        import torch
        import torch.nn.functional as tf

        x = torch.from_numpy(nchw(X))
        if kind in ("conv", "depthwise"):
            w, b = torch.from_numpy(np.ascontiguousarray(data[1].transpose(0, 3, 1, 2))), torch.from_numpy(data[2])
            groups = X.shape[3] if kind == "depthwise" else 1
            fn = lambda: tf.conv2d(x, w, b, S, P, dilation, groups)  # noqa: E731
        elif kind == "transpose":
            w, b = torch.from_numpy(np.ascontiguousarray(data[1].transpose(0, 3, 1, 2))), torch.from_numpy(data[2])
            fn = lambda: tf.conv_transpose2d(x, w, b, S, P)  # noqa: E731
        elif kind == "batch_norm":
            gamma, beta, mean, var = (torch.from_numpy(v) for v in data[1:])
            fn = lambda: tf.batch_norm(x, mean, var, gamma, beta, training=False, eps=1e-5)  # noqa: E731
        elif kind == "max_pool":
            fn = lambda: tf.max_pool2d(x, F, S, P)  # noqa: E731
        else:
            fn = lambda: tf.avg_pool2d(x, F, S, P)  # noqa: E731

        def run():
            with torch.no_grad():
                return fn()

        return run, lambda V: _to_nhwc(V)
    if variant in ("cnnref", "notes"):
        tuned = variant == "cnnref"
        if kind in ("conv", "depthwise"):
            W, b = data[1], data[2]
            groups = X.shape[3] if kind == "depthwise" else 1
            conv = conv2d_fast if tuned else conv2d
            return (lambda: conv(X, W, b, S, P, dilation, groups)), same
        if kind == "transpose":  # the tuned one; the readable one is the "notes" variant
            transpose = conv_transpose2d_fast if tuned else conv_transpose2d
            return (lambda: transpose(X, data[1], data[2], S, P)), same
        if kind == "batch_norm":  # the layers infer with the tuned one; the readable one is the "notes" variant
            from cnnref.batch_norm import batch_norm_eval, batch_norm_eval_fast

            evaluate = batch_norm_eval_fast if tuned else batch_norm_eval
            return (lambda: evaluate(X, *data[1:])), same
        pool = max_pool if kind == "max_pool" else avg_pool
        return (lambda: pool(X, F, S, P, exact=False)), same
    # the peers
    if kind == "conv" and variant == "cs231n":
        x, w = nchw(X), nchw(data[1])
        return (lambda: peers.cs231n_conv_forward_strides(x, w, data[2], S, P)), to_nhwc
    if kind == "conv" and variant == "numpy-ml":
        W_ml = np.ascontiguousarray(data[1].transpose(1, 2, 3, 0))  # (fr, fc, C, K)
        return (lambda: peers.numpy_ml_conv2D(X, W_ml, data[2], S, P, dilation - 1)), same
    if kind == "conv" and variant == "sliding_window_view":
        return (lambda: peers.swv_tensordot_conv(X, data[1], data[2], S, P, dilation)), same
    if kind == "depthwise":  # one call per depth slice for the convolutions; einsum for sliding_window_view
        W, b, D = data[1], data[2], X.shape[3]
        if variant == "sliding_window_view":
            return (lambda: peers.swv_einsum_depthwise(X, W, b, S, P, dilation)), same
        if variant == "cs231n":
            x, w = nchw(X), nchw(W)

            def run():
                return np.concatenate([peers.cs231n_conv_forward_strides(x[:, d : d + 1], w[d : d + 1], b[d : d + 1], S, P)
                                       for d in range(D)], axis=1)

            return run, to_nhwc
        W_ml = np.ascontiguousarray(W.transpose(1, 2, 3, 0))  # (fr, fc, 1, D)

        def run():
            return np.concatenate([peers.numpy_ml_conv2D(X[..., d : d + 1], W_ml[..., d : d + 1], b[d : d + 1], S, P, dilation - 1)
                                   for d in range(D)], axis=3)

        return run, same
    if kind == "transpose":
        if variant == "numpy-ml":
            W_ml = np.ascontiguousarray(data[1].transpose(1, 2, 3, 0))  # the forward conv's (fr, fc, K, D)
            return (lambda: peers.numpy_ml_deconv2D(X, W_ml, data[2], S, P)), same
        return (lambda: peers.swv_tensordot_transpose(X, data[1], data[2], S, P)), same
    if kind == "batch_norm":
        if variant == "cs231n":
            x = nchw(X)
            return (lambda: peers.cs231n_spatial_batchnorm_test(x, *data[1:])), to_nhwc
        return (lambda: peers.broadcast_batch_norm(X, *data[1:])), same
    if kind == "max_pool":
        return (lambda: peers.swv_max_pool(X, F, S, P)), same
    if variant == "cs231n":
        x = nchw(X)
        return (lambda: peers.cs231n_avg_pool_forward_reshape(x, F)), to_nhwc
    return (lambda: peers.swv_avg_pool(X, F, S, P)), same


def _walk_task(variant, case):
    """A stop of the walk: "notes" (cnnref.conv2d), or conv2d_fast with the first k refinements of STEPS."""
    from benchmarks.bench_conv import inputs

    _, N, H1, D1, K, F, S, P, _ = case["case"]
    X, W, b = inputs(N, H1, D1, K, F, np.float32)
    if variant == "notes":
        return (lambda: conv2d(X, W, b, S, P)), None
    steps = set(fast_conv.STEPS[: int(variant)])

    def run():
        saved, fast_conv._steps = fast_conv._steps, steps
        try:
            return conv2d_fast(X, W, b, S, P)
        finally:
            fast_conv._steps = saved

    return run, None


def _net_task(library, case):
    """The forward pass of a net (nets), or one training step (training)."""
    name, N = case["net"], case["N"]
    training = case["part"] == "training"
    if library == "torch":
        import torch

        model, shape = torch_net(name)
        x = torch.from_numpy(np.ascontiguousarray(_rng_input((N, *shape)).transpose(0, 3, 1, 2)))
        if not training:
            model.eval()

            def run():
                with torch.no_grad():
                    return model(x)

            return run, _to_nhwc
        model.train()
        y = torch.from_numpy(np.random.default_rng(2).integers(0, 1000, N))
        optimizer = torch.optim.SGD(model.parameters(), lr=case["lr"])

        def step():
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            return float(loss)

        def first_conv():
            return next(m for m in model.modules() if isinstance(m, torch.nn.Conv2d)).weight.detach().numpy().transpose(0, 2, 3, 1)

        return step, first_conv
    from cnnref import softmax_loss

    net = cnnref_net(name)
    X = _rng_input((N, *net.input_shape))
    if not training:
        return (lambda: net(X)), (lambda V: V)
    y = np.random.default_rng(2).integers(0, 1000, N)

    def step():
        loss, dscores = softmax_loss(net.forward(X), y)
        net.backward(dscores)
        net.sgd_step(case["lr"])
        return loss

    return step, lambda: conv_layers(net)[0][0].W


def _task(library, variant, case):
    part = case["part"]
    if variant == "floor":
        return _op_floor_task(case) if part == "ops" else _net_floor_task(case)
    if part == "ops":
        return _op_task(variant, case)
    if part == "walk":
        return _walk_task(variant, case)
    return _net_task(library, case)


def _net_floor_task(case):
    """The matrix multiplies of a net's CONV (groups = 1) and FC layers alone, one after the other, each
    layer's X_col and output built beforehand (in this task, once per case: timed in the rounds); an FC
    layer's as fc_fast makes them, a block of filters at a time."""
    from cnnref.layers import FCLayer
    from cnnref.windows import windows, zero_pad

    from cnnref.fast_conv import _filters_times

    net, N, products, blocked = cnnref_net(case["net"]), case["N"], [], []
    for layer, shape in conv_layers(net):
        if isinstance(layer, FCLayer):  # as fc_fast multiplies: a block of filters at a time
            x_T, W = np.ascontiguousarray(_rng_input((N, math.prod(shape))).T), layer.W
            blocked.append((x_T, W, np.empty((len(W), N), np.float32)))
            continue
        else:
            if layer.groups != 1:
                continue  # depthwise: no multiply (its own floor is the operation table's)
            X = _rng_input((N, *shape))
            (K, FH, FW, D1), S = layer.W.shape, layer.S
            pair = lambda v: v if isinstance(v, tuple) else (v, v)  # noqa: E731
            cols = windows(zero_pad(X, layer.P), (FH, FW), pair(S), pair(layer.dilation))
            X_cols, W_row = np.ascontiguousarray(cols).reshape(-1, FH * FW * D1), layer.W.reshape(K, -1)
        products.append((X_cols, W_row.T, np.empty((len(X_cols), len(W_row)), np.float32)))

    def run():
        for X_cols, W_T, V in products:
            np.matmul(X_cols, W_T, out=V)
        for x_T, W, V in blocked:
            _filters_times(W, x_T, V)

    return run, None


def _op_floor_task(case):
    """What no NumPy version of an operation beats: a convolution's one matrix multiply (a transposed one's:
    every input position times the filters, before col2im), its operands built beforehand; for the others
    (pooling, batch norm, depthwise), a copy moving as many bytes as the operation must read and write."""
    from cnnref.windows import windows, zero_pad

    kind, data = case["kind"], _op_data(case)
    X, W = data[0], data[1] if len(data) > 1 else None
    if kind in ("conv", "transpose"):
        if kind == "conv":
            (K, F, _, D1), S, d = W.shape, case["S"], case["dilation"]
            cols = windows(zero_pad(X, (case["P"], case["P"])), (F, F), (S, S), (d, d))
            A, B = np.ascontiguousarray(cols).reshape(-1, F * F * D1), np.ascontiguousarray(W.reshape(K, -1).T)
        else:  # W (D, F, F, K) takes the D input depths to K: (N H1 W1, D) @ (D, F F K), then col2im
            D = W.shape[0]
            A, B = X.reshape(-1, D), W.reshape(D, -1)
        out = np.empty((len(A), B.shape[1]), np.float32)
        return (lambda: np.matmul(A, B, out=out)), None
    source = np.ones(_op_bytes(case) // 8, np.float32)  # read n numbers, write n: the operation's bytes
    target = np.empty_like(source)
    return (lambda: np.copyto(target, source)), None


def _bandwidth(megabytes=256):
    """GB/s of NumPy copying a large float32 array (read + write counted), the best of a few copies."""
    src = np.ones(megabytes * 2**20 // 4, np.float32)
    dst = np.empty_like(src)
    best = min(time_calls(lambda: np.copyto(dst, src), 0.5, 3))
    return 2 * src.nbytes / best / 1e9


def _peak_forward(case):
    """Peak bytes NumPy allocates during the first forward pass at batch 1 of a new net (weights drawn), beyond what
    exists before it: the buffers the net keeps for its next passes included (kept_bytes, held after the pass)."""
    from cnnref import networks

    net = cnnref_net(case["net"])
    X = _rng_input((1, *net.input_shape))
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        net(X)
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    shapes = net.shapes()
    return {
        "peak_bytes": int(peak), "kept_bytes": int(sum(B.nbytes for B in networks._buffers(net).values())),
        "weights_bytes": int(sum(p.nbytes for p in net.params())),
        "input_bytes": int(X.nbytes), "largest_volume_bytes": int(4 * max(math.prod(s) for s in shapes)),
    }


def worker(library):
    """`--worker LIBRARY`: build, check and time what the main process asks for, in this process only."""
    tasks, current = {}, None  # {variant: (run, output)} of the current case
    for line in sys.stdin:
        command = json.loads(line)
        try:
            do = command["do"]
            if do == "info":
                answer = pools(library)
            elif do == "bandwidth":
                answer = _bandwidth()
            elif do == "memory":
                answer = _peak_forward(command["case"])
            else:
                case = json.dumps(command["case"], sort_keys=True)
                if case != current:  # one case at a time: a net's weights are freed before the next is built
                    tasks.clear()
                    current = case
                if command["variant"] not in tasks:  # every variant of the case kept for its rounds
                    tasks[command["variant"]] = _task(library, command["variant"], command["case"])
                run, output = tasks[command["variant"]]
                if do == "save":  # the result, in cnnref's layout, for the main process to compare
                    if command["case"]["part"] == "training":
                        loss = run()
                        np.save(command["path"], output())
                        answer = loss
                    else:
                        np.save(command["path"], (output or (lambda V: V))(run()))
                        answer = "saved"
                else:
                    answer = time_calls(run, command["seconds"], command["min_runs"])
        except Exception as err:  # reported to the main process, which stops with it
            answer = {"error": f"{type(err).__name__}: {err}"}
        print(json.dumps(answer), flush=True)


# --- The main process


def _agree(a, b):
    """max |a - b| / max |b|: how far two outputs are apart, relative to the reference's scale."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        return math.inf
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-30))


def _outputs(workers, routes, case):
    """{variant: output} of each variant, saved by its worker (routes: variant -> worker name)."""
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for variant, who in routes.items():
            path = os.path.join(tmp, f"{len(out)}.npy")
            answer = workers[who].ask(do="save", variant=variant, case=case, path=path)
            out[variant] = (np.load(path), answer)
    return out


def _time(workers, routes, case, part):
    """Rounds of turns over the variants: (times, ms)."""
    idle = wait_until_idle(IDLE["threshold"], IDLE["patience"])

    def turn(variant):
        return workers[routes[variant]].ask(do="time", variant=variant, case=case, seconds=TURN[part], min_runs=MIN_RUNS[part])

    times = rounds(turn, list(routes), ROUNDS[part])
    return times, median_ms(times), idle


def _row_times(times, ms):
    return {"runs": {k: sum(map(len, v)) for k, v in times.items()}, "ms": {k: round(v, 6) for k, v in ms.items()}}


def net_case(workers, name, N):
    """One row of the network table: cnnref's and PyTorch's forward pass of a net at batch N."""
    case = {"part": "nets", "net": name, "N": N}
    routes = {"cnnref": "cnnref", "torch": "torch"}
    outputs = _outputs(workers, routes, case)
    error = _agree(outputs["cnnref"][0], outputs["torch"][0])
    row = {"net": name, "N": N, "max_error": error}
    if error > TOLERANCE:
        raise SystemExit(f"{name} N={N}: cnnref's and PyTorch's outputs disagree (relative error {error:.2e}): not timed")
    times, ms, idle = _time(workers, routes | {"floor": "cnnref"}, case, "nets")
    row |= _row_times(times, ms) | {"idle_before": idle and round(idle, 2)}
    row["ratio"], row["ratio_range"] = round(ms["cnnref"] / ms["torch"], 3), spread(times, "cnnref", "torch")
    row["matmul_floor_ms"] = round(ms["floor"], 6)  # timed in the same rounds
    row["matmul_floor_ratio"], row["floor_range"] = round(ms["floor"] / ms["torch"], 3), spread(times, "floor", "torch")
    if name in NET_TARGETS:
        row["target"] = NET_TARGETS[name]
        row["ok"] = row["ratio"] <= row["target"]
    return row


def training_case(workers):
    """ResNet-18's training step at batch 8: forward, softmax cross-entropy, backward, SGD."""
    case = {"part": "training", "net": TRAINING["net"], "N": TRAINING["N"], "lr": TRAINING["lr"]}
    routes = {"cnnref": "cnnref", "torch": "torch"}
    outputs = _outputs(workers, routes, case)
    (W_c, loss_c), (W_t, loss_t) = outputs["cnnref"], outputs["torch"]
    loss_error, weight_error = abs(loss_c - loss_t) / abs(loss_t), _agree(W_c, W_t)
    if loss_error > TOLERANCE or weight_error > TOLERANCE:
        raise SystemExit(f"training step: losses {loss_c} vs {loss_t}, first weights {weight_error:.2e} apart: not timed")
    times, ms, idle = _time(workers, routes, case, "training")
    row = {"net": case["net"], "N": case["N"], "lr": case["lr"], "loss": {"cnnref": loss_c, "torch": loss_t},
           "max_error": max(loss_error, weight_error)} | _row_times(times, ms) | {"idle_before": idle and round(idle, 2)}
    row["ratio"], row["ratio_range"] = round(ms["cnnref"] / ms["torch"], 3), spread(times, "cnnref", "torch")
    row["target"], row["ok"] = TRAINING["target"], row["ratio"] <= TRAINING["target"]
    return row


def _op_bytes(case):
    """Bytes an operation must read and write at least: its input, output and parameters, float32."""
    N, (H, Wd, D), kind = case["N"], case["input"], case["kind"]
    if kind in ("max_pool", "avg_pool", "depthwise"):
        F, S, P, d = case["F"], case["S"], case["P"], case.get("dilation", 1)
        H2, W2 = (H + 2 * P - d * (F - 1) - 1) // S + 1, (Wd + 2 * P - d * (F - 1) - 1) // S + 1
        return 4 * N * (H * Wd * D + H2 * W2 * D)  # depthwise: its weights (F F D numbers) stay in cache
    if kind == "batch_norm":
        return 4 * 2 * N * H * Wd * D
    return None


def op_case(workers, spec, N):
    """One row of the operation table: cnnref (and the notes' version), PyTorch and the peers."""
    case = {"part": "ops", **{k: v for k, v in spec.items() if k != "peers"}, "N": N}
    routes = {"cnnref": "cnnref"} | ({"notes": "cnnref"} if spec["kind"] in ("conv", "depthwise", "transpose", "batch_norm") else {})
    routes |= {p: "cnnref" for p in spec["peers"]} | ({"torch": "torch"} if "torch" in workers else {})
    outputs = _outputs(workers, routes, case)
    reference = outputs["cnnref"][0]
    errors = {k: _agree(v[0], reference) for k, v in outputs.items() if k != "cnnref"}
    wrong = {k: e for k, e in errors.items() if e > TOLERANCE}
    if wrong:
        raise SystemExit(f"{spec['op']} N={N}: outputs disagree with cnnref's: {wrong}: not timed")
    timed_routes = routes | ({"floor": "cnnref"} if "torch" in workers else {})  # the floor: in the same rounds
    times, ms, idle = _time(workers, timed_routes, case, "ops")
    row = {"op": spec["op"], "kind": spec["kind"], "N": N, "input": "x".join(map(str, spec["input"]))}
    row |= {k: spec[k] for k in ("K", "F", "S", "P", "dilation") if k in spec}
    row |= {"max_error": errors} | _row_times(times, ms) | {"idle_before": idle and round(idle, 2)}
    if "torch" in ms:
        row["ratio"], row["ratio_range"] = round(ms["cnnref"] / ms["torch"], 3), spread(times, "cnnref", "torch")
        row["target"] = DEPTHWISE_TARGET if spec["kind"] == "depthwise" else OP_TARGET
        row["ok"] = row["ratio"] <= row["target"]
    best = min(spec["peers"], key=lambda p: ms[p])
    row["best_peer"], row["peer_speedup"] = best, round(ms[best] / ms["cnnref"], 3)
    if spec["kind"] in CONV_KINDS:
        row["peer_target"] = PEER_SINGLE if N == 1 else PEER_BATCH
        row["peer_ok"] = row["peer_speedup"] >= row["peer_target"]
    if "notes" in ms and "cs231n" in ms and spec["kind"] == "conv":
        row["notes_vs_cs231n"] = round(ms["notes"] / ms["cs231n"], 3)
        row["notes_target"], row["notes_ok"] = NOTES_VS_CS231N, row["notes_vs_cs231n"] <= NOTES_VS_CS231N
    if "floor" in ms:
        key = "matmul_floor" if spec["kind"] in ("conv", "transpose") else "bandwidth_floor"  # a multiply, or a copy
        if key == "bandwidth_floor":
            row["bytes"] = _op_bytes(case)
        row[f"{key}_ms"], row[f"{key}_ratio"] = round(ms["floor"], 6), round(ms["floor"] / ms["torch"], 3)
        row["floor_range"] = spread(times, "floor", "torch")
    return row


def walk_case(workers, case):
    """The walk on one of bench_conv.py's cases: the notes' conv2d, then each refinement added."""
    from benchmarks.bench_conv import inputs

    name, N, H1, D1, K, F, S, P, _ = case
    variants = ["notes"] + [str(k) for k in range(len(fast_conv.STEPS) + 1)]
    job = {"part": "walk", "case": list(case)}
    X, W, b = inputs(N, H1, D1, K, F, np.float32)
    reference = conv2d(X, W, b, S, P)
    outputs = _outputs(workers, {v: "cnnref" for v in variants}, job)
    errors = {v: _agree(outputs[v][0], reference) for v in variants}
    if max(errors.values()) > TOLERANCE:
        raise SystemExit(f"walk {name} N={N}: a stop disagrees with the notes' conv2d: {errors}")
    times, ms, idle = _time(workers, {v: "cnnref" for v in variants}, job, "walk")
    stops = []
    for i, v in enumerate(variants):
        label = "the notes' conv2d" if v == "notes" else (
            "conv2d_fast, no refinement" if v == "0" else f"+ {fast_conv.STEPS[int(v) - 1]}")
        stop = {"stop": label, "ms": round(ms[v], 6)}
        if i:
            stop["gain"] = round(ms[variants[i - 1]] / ms[v], 3)  # times faster than the stop before
            stop["gain_range"] = spread(times, variants[i - 1], v)
        stops.append(stop)
    return {"case": name, "N": N, "input": f"{H1}x{H1}x{D1}", "filters": f"{K} x {F}x{F}", "S": S, "P": P,
            "dtype": "float32", "runs": {k: sum(map(len, t)) for k, t in times.items()}, "idle_before": idle and round(idle, 2),
            "stops": stops, "total_gain": round(ms["notes"] / ms[variants[-1]], 3)}


def memory_case(workers, name):
    m = workers["cnnref"].ask(do="memory", case={"net": name})
    return {"net": name, "N": 1, **m, "peak_over_largest_volume": round(m["peak_bytes"] / m["largest_volume_bytes"], 3)}


@contextlib.contextmanager
def timed(run, part):
    """Record in run["part_runs"] when the part ran, how long it took and under which load (1-minute average)."""
    start, record = time.monotonic(), {"started": now(), "load_average_start": load_average()}
    yield
    record |= {"seconds": round(time.monotonic() - start, 1), "load_average_end": load_average()}
    run["part_runs"][part] = record


def print_rows(title, rows, columns):
    print(f"\n{title}", flush=True)
    for r in rows:
        print("  " + "  ".join(f"{c}={r.get(c)}" for c in columns), flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="+", choices=PARTS, default=list(PARTS), help="the parts to measure")
    parser.add_argument("--quick", action="store_true", help="one short round per case: checks the script, times nothing worth keeping")
    parser.add_argument("--out", type=Path, help="write the results there instead of benchmarks/results.json "
                        "(a --quick run writes only there, marked quick)")
    parser.add_argument("--rounds", type=int, help="rounds per case in every part (fewer: a shorter run, said in "
                        "the method the page shows)")
    parser.add_argument("--worker", choices=["cnnref", "torch"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args.worker)
    if args.quick:
        for part in ROUNDS:
            ROUNDS[part], TURN[part], MIN_RUNS[part] = 1, 0.01, 1
        IDLE["patience"] = 0.0
    if args.rounds:
        for part in ROUNDS:
            ROUNDS[part] = args.rounds

    from benchmarks.bench_conv import CASES

    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    workers = {"cnnref": Worker(__file__, "cnnref")}
    if torch_version():
        workers["torch"] = Worker(__file__, "torch")
    elif {"nets", "training"} & set(args.only):
        raise SystemExit("torch is not installed (pip install torch==2.13.0): the nets and the training step need it")
    failed = []
    try:
        previous = results.get("nets_run", {}).get("part_runs", {})  # the parts not measured again keep their record
        run = {"started": now(), "load_average_start": load_average(), "parts": args.only,
               "part_runs": {p: previous[p] for p in PARTS if p in previous and p not in args.only}}
        run["machine"] = machine(workers, "separate processes, alternating rounds: " + ", ".join(
            f"{part} {ROUNDS[part]} rounds of {TURN[part]} s (at least {MIN_RUNS[part]} calls)" for part in ROUNDS
        ) + f", after {SETTLE} s pauses")
        run["copy_bandwidth_GBps"] = round(workers["cnnref"].ask(do="bandwidth"), 2)
        if "ops" in args.only:
            with timed(run, "ops"):
                rows = []
                for spec in OPS:
                    for N in BATCHES:
                        rows.append(op_case(workers, spec, N))
                        print_rows("op", rows[-1:], ["op", "N", "ms", "ratio", "ratio_range", "best_peer", "peer_speedup"])
                results["ops"] = rows
                failed += [f"{r['op']} N={r['N']}: {r['ratio']} > {r['target']}" for r in rows if r.get("ok") is False]
                failed += [f"{r['op']} N={r['N']}: best peer {r['best_peer']} only {r['peer_speedup']}x slower"
                           for r in rows if r.get("peer_ok") is False]
                failed += [f"{r['op']} N={r['N']}: the notes' conv2d {r['notes_vs_cs231n']}x cs231n's time > {r['notes_target']}"
                           for r in rows if r.get("notes_ok") is False]
        if "walk" in args.only:
            with timed(run, "walk"):
                results["walk"] = [walk_case(workers, case) for case in CASES]
                for w in results["walk"]:
                    print_rows(f"walk {w['case']} N={w['N']}", w["stops"], ["stop", "ms", "gain", "gain_range"])
        if "memory" in args.only:
            with timed(run, "memory"):
                results["net_memory"] = [memory_case(workers, name) for name in NETS]
                print_rows("peak memory, batch 1", results["net_memory"], ["net", "peak_bytes", "largest_volume_bytes"])
        if "nets" in args.only:
            with timed(run, "nets"):
                rows = []
                for name in NETS:
                    for N in BATCHES:
                        rows.append(net_case(workers, name, N))
                        print_rows("net", rows[-1:], ["net", "N", "ms", "ratio", "ratio_range", "matmul_floor_ratio"])
                results["nets"] = rows
                failed += [f"{r['net']} N={r['N']}: {r['ratio']} > {r['target']}" for r in rows if r.get("ok") is False]
        if "training" in args.only:
            with timed(run, "training"):
                results["training"] = training_case(workers)
                print_rows("training step", [results["training"]], ["net", "N", "ms", "ratio", "ratio_range"])
                if not results["training"]["ok"]:
                    failed.append(f"training step: {results['training']['ratio']} > {results['training']['target']}")
        run["finished"], run["load_average_end"] = now(), load_average()
        results["nets_run"] = run
    finally:
        for w in workers.values():
            w.close()
    if args.quick:
        run["quick"] = True  # one short round per case: not a result (the page's tests refuse it)
    if args.out:
        args.out.write_text(json.dumps(results, indent=1) + "\n")
    elif args.quick:
        print("--quick: results not written (give --out PATH to keep them apart)")
    else:
        RESULTS.write_text(json.dumps(results, indent=1) + "\n")
    return report(failed)


if __name__ == "__main__":
    sys.exit(main())
