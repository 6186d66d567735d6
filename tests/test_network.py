"""The composable Net: shape inference, the notes' CIFAR-10 volumes, forward pass, table, seeds."""

import copy
import functools
import gc
import tracemalloc
import weakref
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cnnref import fast_conv, layers, networks
from cnnref.networks import ALL_COLUMNS
from cnnref import ConvLayer, FCLayer, Layer, Net, PoolLayer, ReLULayer, alexnet_like, cifar10_net, conv2d_naive, fc, max_pool, relu, volume
from strategies import nets, random_biases


def test_the_notes_cifar10_volumes():
    net = cifar10_net()
    assert [volume(s) for s in net.shapes()] == ["32x32x3", "32x32x12", "32x32x12", "16x16x12", "1x1x10"]
    assert [layer.kind for layer in net.layers] == ["CONV", "RELU", "POOL", "FC"]


def test_forward_equals_the_layers_composed_by_hand():
    net = cifar10_net(seed=4)
    X = np.random.default_rng(0).normal(size=(32, 32, 3))
    scores = net(X)
    conv, _, _, dense = net.layers
    expected = fc(max_pool(relu(conv2d_naive(X, conv.W, conv.b, 1, 1))), dense.W, dense.b)
    assert scores.shape == (10,)
    np.testing.assert_allclose(scores, expected, rtol=1e-10)
    batch = net(np.stack([X, X[::-1]]))
    assert batch.shape == (2, 10)
    np.testing.assert_allclose(batch[0], scores, rtol=1e-12)


def test_inference_applies_relu_in_place_on_its_own_volumes_only(monkeypatch):
    """RELU overwrites the volumes the pass made (no new activation memory), never the caller's X."""
    net = Net((6, 6, 2), [ReLULayer(), ConvLayer(3, 3, P=1), ReLULayer(), PoolLayer(), ReLULayer()], seed=1)
    X = np.random.default_rng(0).normal(size=(2, 6, 6, 2))
    kept, in_place = X.copy(), []
    call = ReLULayer.__call__
    monkeypatch.setattr(ReLULayer, "__call__", lambda self, A, out=None: in_place.append(out is A) or call(self, A, out=out))
    Y = net(X)
    assert in_place == [False, True, True]  # the first RELU met the caller's X: a new array
    np.testing.assert_array_equal(X, kept)
    conv, pool = net.layers[1], net.layers[3]
    np.testing.assert_allclose(Y, relu(pool(relu(conv2d_naive(relu(kept), conv.W, conv.b, 1, 1)))), rtol=1e-12)


# The buffers a Net keeps between inference passes (Net.__call__, infer, fast_conv.keeping)


def composed(net, X):
    """X through the net's layers one by one, each output a new array."""
    return functools.reduce(lambda A, layer: layer(A), net.layers, X)


@pytest.fixture
def every_volume(monkeypatch):
    """The buffers for volumes of any size (infer takes them from _BUFFERS_FROM bytes of input on)."""
    monkeypatch.setattr(layers, "_BUFFERS_FROM", 0)


def test_a_pass_writes_its_volumes_into_the_nets_buffers_and_returns_a_new_array(every_volume):
    net = Net((8, 8, 3), [ConvLayer(4, 3, P=1), ReLULayer(), ConvLayer(5, 3, P=1), ReLULayer(), PoolLayer(),
                          ConvLayer(6, 3, P=1), ReLULayer()], seed=2)
    rng = np.random.default_rng(0)
    X1, X2 = rng.normal(size=(2, 2, 8, 8, 3))
    Y1 = net(X1)
    first = Y1.copy()
    Y2 = net(X2)
    np.testing.assert_array_equal(Y1, first)  # the second pass wrote elsewhere
    np.testing.assert_array_equal(Y1, composed(net, X1))
    np.testing.assert_array_equal(Y2, composed(net, X2))
    buffers = networks._buffers(net)
    assert {"V0", "V1"} <= set(buffers)  # the first two CONV outputs (the last one's is the caller's)
    np.testing.assert_array_equal(layers.infer(net.layers, X1.tolist(), {}), Y1)  # nested lists, as the layers take
    assert not any(np.may_share_memory(Y, B) for Y in (Y1, Y2) for B in buffers.values())


@settings(max_examples=40, deadline=None)
@given(net=nets(), batch=st.sampled_from([None, 2]), seed=st.integers(0, 2**16),
       dtype=st.sampled_from([np.float64, np.float32, np.int16]))
def test_any_net_gives_each_pass_its_own_numbers(net, batch, seed, dtype):
    """Two passes, the second on other numbers: each returns what the layers composed give, the first's result is
    untouched by the second, and (in the net's dtype) the buffers were used wherever a CONV came before the last
    new volume."""
    shape = net.shapes()[0] if batch is None else (batch, *net.shapes()[0])
    rng = np.random.default_rng(seed)
    X1, X2 = ((rng.standard_normal(shape) * 4).astype(dtype) for _ in range(2))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(layers, "_BUFFERS_FROM", 0)  # every_volume, for each example
        Y1 = net(X1)
        first = Y1.copy()
        Y2 = net(X2)
    np.testing.assert_array_equal(Y1, first)
    np.testing.assert_array_equal(Y1, composed(net, X1))
    np.testing.assert_array_equal(Y2, composed(net, X2))
    buffers = networks._buffers(net)
    if dtype == np.float64:  # the net's dtype: every layer keeps it (others are converted on the way)
        producers = [i for i, layer in enumerate(net.layers) if not layer.inplace]
        assert ("V0" in buffers) == any(net.layers[i].writes_into for i in producers[:-1])
    assert not any(np.may_share_memory(Y, B) for Y in (Y1, Y2) for B in buffers.values())


@pytest.mark.parametrize("keep", [None, 1024], ids=["thread-buffers", "keep-1KiB"])
def test_a_second_pass_allocates_its_output_and_little_else(monkeypatch, keep):
    """The volumes go in the net's buffers, and so do the kernels' scratch arrays, however large (_KEEP bounds only
    the thread's own buffers, outside a net's pass)."""
    if keep is not None:
        monkeypatch.setattr(fast_conv, "_KEEP", keep)
    net = Net((32, 32, 8), [ConvLayer(16, 3, P=1), ReLULayer(), ConvLayer(16, 3, P=1), ReLULayer(),
                            ConvLayer(16, 3, P=1), ReLULayer(), PoolLayer(), ConvLayer(8, 3, P=1)], seed=3)
    X = np.random.default_rng(1).normal(size=(4, 32, 32, 8))
    net(X)  # the buffers grow to this net's needs
    tracemalloc.start()
    Y = net(X)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    volume_bytes = 4 * 32 * 32 * 16 * 8  # one CONV output: two were alive at once before the buffers, and X_pad
    pooled = volume_bytes // 4  # the POOL's new array, and the last CONV's output, the caller's
    assert peak < Y.nbytes + pooled + volume_bytes // 4, (peak, Y.nbytes)


def test_threads_running_one_net_at_once_get_their_own_numbers(every_volume):
    net = Net((10, 10, 3), [ConvLayer(8, 3, P=1), ReLULayer(), ConvLayer(8, 3, P=1), ReLULayer(), PoolLayer(),
                            FCLayer(5)], seed=4).init()
    inputs = [np.random.default_rng(s).normal(size=(3, 10, 10, 3)) for s in range(4)]
    expected = [composed(net, X) for X in inputs]
    with ThreadPoolExecutor(4) as pool:
        for _ in range(10):
            for Y, E in zip(pool.map(net, inputs), expected):
                np.testing.assert_array_equal(Y, E)


class Crop(Layer):
    """A layer of one's own that returns a view of its input: one pixel off each border."""

    kind = "CROP"

    def output_shape(self, input_shape):
        return (input_shape[0] - 2, input_shape[1] - 2, input_shape[2])

    def __call__(self, X):
        return X[..., 1:-1, 1:-1, :]


@pytest.mark.parametrize("layers", [
    [ConvLayer(4, 3, P=1), Crop()],  # the last layer returns a view of a buffer
    [ConvLayer(4, 3, P=1, b=[0.5, -0.5, 1.0, 0.0]), ReLULayer(), ConvLayer(2, 1)],  # biases given as a list
    [],  # no layer at all: the input itself
], ids=["view-of-a-buffer", "list-biases", "no-layer"])
def test_what_a_pass_returns_is_the_callers_whatever_the_layers(every_volume, layers):
    net = Net((10, 10, 4), layers, seed=6)
    X1, X2 = np.random.default_rng(2).normal(size=(2, 3, 10, 10, 4))
    Y1 = net(X1)
    first = Y1.copy()
    Y2 = net(X2)
    np.testing.assert_array_equal(Y1, first)
    np.testing.assert_array_equal(Y2, composed(net, X2))
    assert not any(np.may_share_memory(Y, A) for Y in (Y1, Y2) for A in (X1, X2, *networks._buffers(net).values()))


def test_small_volumes_take_no_buffer():
    """Below _BUFFERS_FROM bytes of input, a layer's output is a new array: no time spent working out its shape."""
    net = Net((8, 8, 2), [ConvLayer(3, 3, P=1), ReLULayer(), ConvLayer(2, 3, P=1)], seed=5)
    assert np.ones((8, 8, 2)).nbytes < layers._BUFFERS_FROM
    net(np.ones((8, 8, 2)))
    assert "V0" not in networks._buffers(net)


def test_the_buffers_go_with_the_net(every_volume):
    net = Net((8, 8, 2), [ConvLayer(3, 3, P=1), ReLULayer(), ConvLayer(2, 3, P=1)], seed=5)
    net(np.ones((8, 8, 2)))
    buffer = weakref.ref(networks._buffers(net)["V0"])
    del net
    gc.collect()
    assert buffer() is None


def test_seeded_weights_are_reproducible_and_differ_across_seeds():
    X = np.random.default_rng(0).normal(size=(32, 32, 3))
    np.testing.assert_array_equal(cifar10_net(seed=1)(X), cifar10_net(seed=1)(X))
    assert not np.allclose(cifar10_net(seed=1)(X), cifar10_net(seed=2)(X))


def test_table_lists_volumes_and_parameters():
    lines = cifar10_net().table().splitlines()
    assert lines[0].split() == ["layer", "output", "parameters"]
    assert lines[2].split()[-2:] == ["32x32x12", "336"]  # 3*3*3*12 + 12
    assert lines[-2].split()[-2:] == ["1x1x10", "30,730"]  # 16*16*12*10 + 10
    assert lines[-1].split() == ["total", "31,066"]
    assert repr(cifar10_net()) == cifar10_net().table()


def test_shapes_need_no_weights():
    net = Net((224, 224, 3), [ConvLayer(K=512, F=3, P=1), FCLayer(K=4096)])
    assert net.shapes()[-1] == (4096,)
    assert not net.initialized and net.layers[1].W is None  # 100M weights not allocated


def test_a_layer_that_does_not_fit_fails_at_construction_with_its_formula():
    with pytest.raises(ValueError, match=r"\(H1 - F \+ 2P\)/S \+ 1 = \(32 - 3 \+ 0\)/2 \+ 1 = 15.5"):
        Net((32, 32, 3), [ConvLayer(K=4, F=3, S=2)])
    with pytest.raises(ValueError, match=r"\(H1 - F \+ 2P\)/S \+ 1 = \(5 - 2 \+ 0\)/2 \+ 1"):
        Net((5, 5, 3), [PoolLayer()])
    with pytest.raises(ValueError, match="input_shape must be"):
        Net((32, 32), [ReLULayer()])


def test_forward_on_a_larger_image_than_the_fc_head_expects_is_refused():
    net = cifar10_net()
    with pytest.raises(ValueError, match=r"this net takes inputs of shape \(32, 32, 3\) \(H, W, D\), got X of shape \(64, 64, 3\)"):
        net(np.zeros((64, 64, 3)))


def test_weights_are_he_initialised():
    """std sqrt(2 / fan_in), fan_in = F F D1 for CONV and H W D for FC (He et al.), mean 0, biases 0.

    The sample standard deviation s of n draws from N(0, sigma^2) has standard error sigma / sqrt(2n):
    s must lie within 5 of them (here 3.7% and 1.3%), where half the scale, or fan_out for fan_in, is off
    by 50% or more.
    """
    net = Net((6, 5, 16), [ConvLayer(K=64, F=3, P=1), ReLULayer(), FCLayer(K=40)], seed=0).init()
    conv_W, conv_b, fc_W, fc_b = net.params()
    assert conv_W.shape == (64, 3, 3, 16) and fc_W.shape == (40, 6 * 5 * 64)
    for W, fan_in in ((conv_W, 3 * 3 * 16), (fc_W, 6 * 5 * 64)):
        sigma, n = np.sqrt(2 / fan_in), W.size
        assert abs(W.std() - sigma) < 5 * sigma / np.sqrt(2 * n), (W.std(), sigma)
        assert abs(W.mean()) < 5 * sigma / np.sqrt(n)
    assert not conv_b.any() and not fc_b.any()


def test_volume_writes_width_by_height():
    """The notes write W1 x H1 x D1; arrays are (H, W, D): a 4-high, 7-wide, 3-deep volume is 7x4x3."""
    assert volume((4, 7, 3)) == "7x4x3"
    assert volume(np.zeros((2, 9, 5)).shape) == "9x2x5"
    net = Net((4, 6, 3), [ConvLayer(K=2, F=3), FCLayer(K=5)])  # 4 high, 6 wide -> 2 high, 4 wide
    assert net.shapes()[1] == (2, 4, 2)
    assert net.table().splitlines()[1].split()[-2:] == ["6x4x3", "0"]
    assert net.table().splitlines()[2].split()[-2:] == ["4x2x2", "56"]  # 3*3*3*2 + 2


# Properties of any net: random stacks of every layer kind and keyword (tests/strategies.py)


@settings(max_examples=40, deadline=None)
@given(net=nets(), batch=st.sampled_from([None, 1, 3]), seed=st.integers(0, 2**16))
def test_any_net_computes_the_shapes_and_parameters_it_announces(net, batch, seed):
    shapes = net.shapes()
    net.init()
    X = np.random.default_rng(seed).standard_normal(shapes[0] if batch is None else (batch, *shapes[0]))
    out = X
    for layer, before, after in zip(net.layers, shapes, shapes[1:]):
        assert layer.param_shapes(before) == {name: p.shape for name, p in layer.params.items()}
        assert layer.n_params(before) == sum(p.size for p in layer.params.values())
        out = layer(out)
        assert out.shape == (after if batch is None else (batch, *after))
    np.testing.assert_array_equal(net(X), out)
    rows = net.table().splitlines()
    assert len(rows) == len(net.layers) + 3  # header, INPUT, the layers, total
    for row, layer, before, after in zip(rows[2:], net.layers, shapes, shapes[1:]):
        assert row.startswith(layer.describe()) and row.split()[-2:] == [volume(after), f"{layer.n_params(before):,}"]
    assert rows[-1].split() == ["total", f"{sum(layer.n_params(s) for layer, s in zip(net.layers, shapes)):,}"]
    assert repr(net) == net.table()
    drawn = [p.copy() for p in net.params()]
    net.init()  # nothing missing: nothing redrawn
    assert all(np.array_equal(a, b) for a, b in zip(drawn, net.params()))


def spot_check(loss, A, grad, rng, entries=4, h=1e-6):
    """Central differences at a few entries of A against grad; an entry whose step crosses a kink is skipped.

    The net is piecewise linear in each entry (conv, FC and average pooling are linear, ReLU and max
    pooling piecewise linear): along [A - h, A + h] the loss is a line unless a ReLU input or a max-pool
    winner changes there, which a second difference far above rounding shows.
    """
    for _ in range(entries):
        idx = tuple(int(rng.integers(0, n)) for n in A.shape)
        old = A[idx]
        A[idx] = old + h
        plus = loss()
        A[idx] = old - h
        minus = loss()
        A[idx] = old
        zero = loss()
        if abs(plus - 2 * zero + minus) > 1e-9 * max(1.0, abs(zero)):
            continue  # a kink within the step: the difference quotient is no derivative there
        numeric = (plus - minus) / (2 * h)
        assert abs(numeric - grad[idx]) <= 1e-6 * max(1.0, abs(numeric) + abs(grad[idx])), (idx, numeric, grad[idx])


@settings(max_examples=25, deadline=None)
@given(net=nets(max_size=6), seed=st.integers(0, 2**16))
def test_any_net_backward_matches_numerical_gradients(net, seed):
    """dL/dX and every dL/dparam of L = sum(net(X) * G), at random entries, for any stack of layers."""
    rng = np.random.default_rng(seed)
    random_biases(net.init(), seed)
    X = rng.standard_normal((2, *net.input_shape))
    out = net.forward(X)
    # a max-pool window of padding only outputs -inf (CI drew F=2 P=1 dilation=2 on a 1x2 input): no loss to differentiate
    assume(np.all(np.isfinite(out)))
    G = rng.standard_normal(out.shape)
    dX = net.backward(G)
    assert dX.shape == X.shape and [g.shape for g in net.grads()] == [p.shape for p in net.params()]

    def loss():
        return float(np.sum(net(X) * G))

    for A, grad in [(X, dX), *zip(net.params(), net.grads())]:
        spot_check(loss, A, grad, rng)


@settings(max_examples=25, deadline=None)
@given(net=nets(), lr=st.floats(0.0, 1.0), seed=st.integers(0, 2**16))
def test_sgd_step_moves_every_parameter_against_its_gradient(net, lr, seed):
    net.init()
    X = np.random.default_rng(seed).standard_normal((2, *net.input_shape))
    G = np.ones(net.forward(X).shape)
    net.backward(G)
    expected = [p - lr * g for p, g in zip(net.params(), net.grads())]
    net.sgd_step(lr)
    for p, e in zip(net.params(), expected):
        np.testing.assert_allclose(p, e, rtol=0, atol=1e-15)


@settings(max_examples=30, deadline=None)
@given(net=nets(fc_head=True), seed=st.integers(0, 2**16))
def test_any_converted_net_computes_the_same_numbers(net, seed):
    """to_conv: every FC layer becomes a CONV layer with the same numbers; the copy trains on its own."""
    net.init()
    X = np.random.default_rng(seed).standard_normal((2, *net.input_shape))
    conv = net.to_conv()
    assert all(layer.kind != "FC" for layer in conv.layers)
    assert [s[-1:] for s in conv.shapes()[1:]] == [s[-1:] for s in net.shapes()[1:]]
    scores = conv(X)
    assert scores.shape == (2, 1, 1, net.shapes()[-1][0])
    np.testing.assert_allclose(scores[:, 0, 0], net(X), rtol=1e-10, atol=1e-10)
    for p in conv.params():
        p += 1.0  # the converted net's parameters are copies
    np.testing.assert_allclose(scores[:, 0, 0], net(X), rtol=1e-10, atol=1e-10)


@settings(max_examples=30, deadline=None)
@given(net=nets(fc_head=True))
def test_a_net_converts_before_its_weights_are_drawn(net):
    """Shapes only: the converted net's layers have no weights yet, and the same volumes, FC ones as 1x1xK."""
    conv = net.to_conv()
    assert not net.initialized and not conv.initialized
    assert all(value is None for layer in conv.layers for value in layer.params.values())
    assert [s if len(s) == 3 else (1, 1, *s) for s in net.shapes()] == conv.shapes()


@settings(max_examples=30, deadline=None)
@given(blocks=st.integers(1, 5), depths=st.lists(st.integers(1, 64), min_size=5, max_size=5),
       fc_sizes=st.lists(st.integers(1, 4096), max_size=3), classes=st.integers(1, 1000), larger=st.integers(0, 3))
def test_alexnet_like_reduces_by_32_for_any_sizes(blocks, depths, fc_sizes, classes, larger):
    """Five CONV 1x1 + RELU + POOL 2x2 blocks: any input of 32 m is m x m x depths[-1] before the head."""
    size = 32 * blocks
    net = alexnet_like(input_size=size, depths=tuple(depths), fc_sizes=tuple(fc_sizes), classes=classes)
    shapes = net.shapes()
    assert shapes[15] == (blocks, blocks, depths[-1]) and shapes[-1] == (classes,) and net.total_stride == 32
    big = net.to_conv().shapes((size + 32 * larger, size + 32 * larger, 3))
    assert big[-1] == (larger + 1, larger + 1, classes)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_the_cifar10_net_is_seeded(seed):
    first, again, other = cifar10_net(seed).init(), cifar10_net(seed).init(), cifar10_net(seed + 1).init()
    assert all(np.array_equal(a, b) for a, b in zip(first.params(), again.params()))
    assert not np.array_equal(first.params()[0], other.params()[0])
    assert sum(p.size for p in first.params()) == 31_066  # the notes' table


@settings(max_examples=25, deadline=None)
@given(net=nets(fc_head=True), seed=st.integers(0, 2**16))
def test_weights_are_drawn_on_first_use_as_init_draws_them(net, seed):
    X = np.random.default_rng(seed).standard_normal(net.input_shape)
    twin = Net(net.input_shape, [copy.deepcopy(layer) for layer in net.layers], seed=net.seed)
    np.testing.assert_array_equal(net(X), twin.init()(X))  # net: not initialised, drawn on this call


@settings(max_examples=25, deadline=None)
@given(shape=st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(1, 3)), K=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_given_weights_are_kept_and_used(shape, K, seed):
    rng = np.random.default_rng(seed)
    X, b = rng.standard_normal(shape), rng.standard_normal(K)
    W_fc, W_conv = rng.standard_normal((K, X.size)), rng.standard_normal((K, 1, 1, shape[2]))
    fc_net = Net(shape, [FCLayer(K=K, W=W_fc, b=b)]).init()
    conv_net = Net(shape, [ConvLayer(K=K, F=1, W=W_conv, b=b)]).init()
    assert np.array_equal(fc_net.params()[0], W_fc) and np.array_equal(conv_net.params()[0], W_conv)
    np.testing.assert_allclose(fc_net(X), W_fc @ X.ravel() + b, rtol=1e-12)
    np.testing.assert_allclose(conv_net(X), X @ W_conv[:, 0, 0, :].T + b, rtol=1e-12)


@settings(max_examples=20, deadline=None)
@given(net=nets(), columns=st.lists(st.sampled_from(ALL_COLUMNS), min_size=1, max_size=7, unique=True))
def test_any_summary_prints_its_rows_and_totals_in_both_tables(net, columns):
    """table() and markdown(): a line per row with its values in the chosen columns, totals that are the rows' sums."""
    summary = net.summary()
    rows = summary.rows
    assert summary.params == sum(r.params for r in rows) == sum(layer.n_params(s) for layer, s in zip(net.layers, net.shapes()))
    assert summary.bytes == 4 * summary.activations == sum(r.bytes for r in rows)

    def text(row, column):
        value = {"output": volume(row.output), "parameters": f"{row.params:,}", "multiply-adds": f"{row.macs:,}",
                 "activations": f"{row.activations:,}", "bytes": f"{4 * row.activations:,}"}.get(column)
        if value is None:  # receptive field, stride: an int, or VxH when the axes differ
            sizes = [f.size if column == "receptive field" else f.stride for f in row.field]
            value = str(sizes[0]) if sizes[0] == sizes[1] else f"{sizes[0]}x{sizes[1]}"
        return value

    lines = summary.table(columns).splitlines()
    assert len(lines) == len(rows) + 2 and lines[0].split()[0] == "layer"
    for row, line in zip(rows, lines[1:]):
        assert line.startswith(row.name) and line.split()[-len(columns):] == [text(row, c) for c in columns]
    sums = {"parameters": summary.params, "multiply-adds": summary.macs, "activations": summary.activations, "bytes": summary.bytes}
    assert lines[-1].split() == ["total"] + [f"{sums[c]:,}" for c in columns if c in sums]
    markdown = summary.markdown(columns).splitlines()
    assert len(markdown) == len(rows) + 3 and markdown[1] == "|---|" + "--:|" * len(columns)
    for row, line in zip(rows, markdown[2:]):
        assert line == "| " + " | ".join([row.name.strip(), *(text(row, c) for c in columns)]) + " |"
    assert markdown[-1] == "| " + " | ".join(["**total**"] + [f"**{sums[c]:,}**" if c in sums else "" for c in columns]) + " |"
    assert repr(summary) == summary.table(ALL_COLUMNS) and net.table(columns=columns) == summary.table(columns)
    with pytest.raises(ValueError, match=r"columns: unknown \['flops'\]"):
        summary.markdown((*columns, "flops"))


@settings(max_examples=15, deadline=None)
@given(K=st.integers(8, 32), F=st.integers(3, 5), D=st.integers(8, 16), dtype=st.sampled_from([np.float32, np.float64]),
       seed=st.integers(0, 2**16))
def test_weights_are_drawn_in_their_dtype_with_he_scale(K, F, D, dtype, seed):
    """W ~ N(0, 2 / fan-in) (He), fan-in F F D, in the net's dtype; biases zero; the same seed, the same weights."""
    net = Net((F, F, D), [ConvLayer(K=K, F=F)], seed=seed, dtype=dtype).init()
    W, b = net.params()
    assert W.dtype == b.dtype == dtype and W.shape == (K, F, F, D) and not b.any()
    n = W.size  # >= 8 * 9 * 8 = 576 draws: the sample std is within 5 of its standard errors (1 / sqrt(2 n))
    assert abs(W.std() / np.sqrt(2.0 / (F * F * D)) - 1) < 5 / np.sqrt(2 * n)
    assert abs(W.mean()) < 5 * np.sqrt(2.0 / (F * F * D)) / np.sqrt(n)
    np.testing.assert_array_equal(Net((F, F, D), [ConvLayer(K=K, F=F)], seed=seed, dtype=dtype).init().params()[0], W)
