"""The five architectures: the published numbers, per-layer counts by independent formulas, a forward pass each.

Published numbers (issue 14): parameters from torchvision's model documentation (batch norm's weights
and biases included) and the MobileNet paper; multiply-adds from torchvision's "GFLOPS" column (which
counts multiply-adds of CONV and FC layers) and the MobileNet paper; receptive fields from Araujo,
Norris & Sim (Distill 2019), of the last volume: after AlexNet's and VGG-16's last max pool, after
MobileNet's last CONV layer.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnref import (
    BatchNormLayer,
    ConvLayer,
    FCLayer,
    GlobalAvgPoolLayer,
    Net,
    PoolLayer,
    ReLULayer,
    ResidualBlock,
    alexnet,
    cifar10_net,
    lenet5,
    mobilenet_v1,
    resnet18,
    vgg16,
    volume,
)
from cnnref.architectures import NETS

PARAMETERS = {"LeNet-5": 61_706, "AlexNet": 61_100_840, "VGG-16": 138_357_544, "ResNet-18": 11_689_512}
MILLIONS_OF_PARAMETERS = {"MobileNet v1": "4.2"}  # Howard et al., Table: "4.2 Million"
GIGA_MULTIPLY_ADDS = {"AlexNet": "0.71", "VGG-16": "15.47", "ResNet-18": "1.81"}  # torchvision, 2 decimals
MILLIONS_OF_MULTIPLY_ADDS = {"MobileNet v1": "569"}  # Howard et al.: "569 Million"
RECEPTIVE_FIELDS = {"AlexNet": 195, "VGG-16": 212, "MobileNet v1": 315}


@pytest.fixture(scope="module")
def summaries():
    return {name: make().summary() for name, make in NETS.items()}


@pytest.mark.parametrize("name", PARAMETERS)
def test_parameters(summaries, name):
    assert summaries[name].params == PARAMETERS[name]


def test_mobilenet_parameters_and_multiply_adds_to_the_papers_precision(summaries):
    s = summaries["MobileNet v1"]
    assert f"{s.params / 1e6:.1f}" == MILLIONS_OF_PARAMETERS["MobileNet v1"]
    assert f"{s.macs / 1e6:.0f}" == MILLIONS_OF_MULTIPLY_ADDS["MobileNet v1"]


@pytest.mark.parametrize("name", GIGA_MULTIPLY_ADDS)
def test_multiply_adds_to_torchvisions_precision(summaries, name):
    assert f"{summaries[name].macs / 1e9:.2f}" == GIGA_MULTIPLY_ADDS[name]


@pytest.mark.parametrize("name", RECEPTIVE_FIELDS)
def test_receptive_fields(summaries, name):
    assert summaries[name].receptive_field == RECEPTIVE_FIELDS[name]
    assert summaries[name].stride == 32


def test_resnet18_receptive_field_is_the_largest_over_its_paths(summaries):
    """Every block's main path (two 3x3) is larger than its 1x1 shortcut: 11 after the max pool,
    then 16 3x3 layers at strides 4, 4, 4, 4, 8, 8, 8, 8, 16, ... (+2 * stride each)."""
    strides = [4] * 4 + [8] * 4 + [16] * 4 + [32] * 4
    strides[4], strides[8], strides[12] = 4, 8, 16  # each stage's first CONV (stride 2) grows by the old stride
    assert summaries["ResNet-18"].receptive_field == 11 + sum(2 * s for s in strides) == 435


# Per-layer counts by an independent formula: walk the layers with their hyperparameters.

def walk(net):
    """[(output, params, macs)] per summary row (a block: its main path, its shortcut, then the addition),
    from floor((H + 2P - dilation (F - 1) - 1) / S) + 1 and the parameter-sharing counts."""
    rows, shape = [], net.input_shape

    def one(layer, shape):
        H1, W1, D1 = shape if len(shape) == 3 else (1, 1, shape[0])
        if isinstance(layer, (ConvLayer, PoolLayer)):
            (FH, FW), (SH, SW) = np.broadcast_to(layer.F, 2), np.broadcast_to(layer.S, 2)
            (PH, PW), (dH, dW) = np.broadcast_to(layer.P, 2), np.broadcast_to(layer.dilation, 2)
            H2, W2 = int((H1 + 2 * PH - dH * (FH - 1) - 1) // SH + 1), int((W1 + 2 * PW - dW * (FW - 1) - 1) // SW + 1)
            if isinstance(layer, PoolLayer):
                return (H2, W2, D1), 0, 0
            per_filter = int(FH * FW) * D1 // layer.groups
            return (H2, W2, layer.K), layer.K * (per_filter + layer.bias), H2 * W2 * layer.K * per_filter
        if isinstance(layer, FCLayer):
            return (layer.K,), (H1 * W1 * D1 + 1) * layer.K, H1 * W1 * D1 * layer.K
        if isinstance(layer, BatchNormLayer):
            return shape, 2 * D1, 0
        if isinstance(layer, GlobalAvgPoolLayer):
            return (D1,), 0, 0
        assert isinstance(layer, ReLULayer), layer
        return shape, 0, 0

    def path(layers, shape):
        for layer in layers:
            if isinstance(layer, ResidualBlock):
                main = path(layer.main, shape)
                path(layer.shortcut, shape)
                rows.append((main, 0, 0))
                shape = main
            else:
                row = one(layer, shape)
                rows.append(row)
                shape = row[0]
        return shape

    path(net.layers, shape)
    return rows


@pytest.mark.parametrize("name", NETS)
def test_every_rows_parameters_and_multiply_adds_by_an_independent_formula(summaries, name):
    rows = summaries[name].rows[1:]
    expected = walk(NETS[name]())
    assert [(r.output, r.params, r.macs) for r in rows] == expected
    assert summaries[name].params == sum(e[1] for e in expected)
    assert summaries[name].activations == math.prod(NETS[name]().input_shape) + sum(
        math.prod(r.output) for r in rows if not r.name.strip().startswith("RELU"))


def test_cifar10_summary_by_hand():
    s = cifar10_net().summary()
    assert [r.macs for r in s.rows] == [0, 32 * 32 * 12 * 27, 0, 0, 16 * 16 * 12 * 10]
    assert s.activations == 32 * 32 * 3 + 32 * 32 * 12 + 16 * 16 * 12 + 10 and s.bytes == 4 * s.activations
    assert [r.receptive_field for r in s.rows] == [1, 3, 3, 4, 4 + 15 * 2]  # FC: a 16x16 filter at stride 2
    assert s.receptive_field == 4 and s.stride == 2  # of the last volume, the POOL's


# A forward pass of each net at batch 1: the volumes agree with the tables, the weights with the counts.

@pytest.mark.parametrize("make", [lenet5, alexnet, vgg16, resnet18, mobilenet_v1], ids=list(NETS))
def test_forward_pass_at_batch_1_agrees_with_the_table(make):
    net = make().init()
    summary = net.summary()
    params = net.params()
    assert all(p.dtype == np.float32 for p in params)
    assert sum(p.size for p in params) == summary.params
    X = np.random.default_rng(0).random((1, *net.input_shape), dtype=np.float32)
    shapes = []
    for layer in net.layers:
        X = layer(X)
        shapes.append(X.shape[1:])
    table = [r.output for r in summary.rows[1:] if r.level == 0]
    assert shapes == table
    assert X.shape == (1, summary.rows[-1].output[0]) and X.dtype == np.float32 and np.isfinite(X).all()
    assert np.std(X) > 0


def test_weights_are_seeded_and_exportable():
    a, b, c = lenet5(seed=3).init(), lenet5(seed=3).init(), lenet5(seed=4).init()
    assert all(np.array_equal(p, q) for p, q in zip(a.params(), b.params()))
    assert not np.array_equal(a.params()[0], c.params()[0])
    assert [p.shape for p in a.params()] == [(6, 5, 5, 1), (6,), (16, 5, 5, 6), (16,), (120, 400), (120,),
                                             (84, 120), (84,), (10, 84), (10,)]
    # MobileNet's depthwise filters: one 3x3x1 filter per depth slice, (K, FH, FW, D1 / groups)
    mobile = mobilenet_v1()
    assert mobile.layers[3].param_shapes((112, 112, 32)) == {"W": (32, 3, 3, 1)}
    assert lenet5(dtype=np.float64).init().params()[0].dtype == np.float64


def test_tables_print_every_column_and_the_totals(summaries):
    s = summaries["VGG-16"]
    text = s.table(("output", "parameters", "multiply-adds", "activations", "bytes", "receptive field", "stride"))
    lines = text.splitlines()
    assert lines[0].split()[:4] == ["layer", "output", "parameters", "multiply-adds"]
    assert lines[1].split() == ["INPUT", "224x224x3", "0", "0", "150,528", "602,112", "1", "1"]
    assert lines[-1].split() == ["total", f"{s.params:,}", f"{s.macs:,}", f"{s.activations:,}", f"{s.bytes:,}"]
    assert len(lines) == len(s.rows) + 2
    pool5 = [r for r in s.rows if volume(r.output) == "7x7x512"][-1]
    assert pool5.name == "POOL F=2 S=2" and pool5.receptive_field == 212
    markdown = s.markdown().splitlines()
    assert len(markdown) == len(s.rows) + 3 and markdown[-1].startswith("| **total** |")
    assert cifar10_net().table().splitlines()[0].split() == ["layer", "output", "parameters"]  # the notes' table


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"columns: unknown \['flops'\]"):
        lenet5().summary().table(("output", "flops"))
    with pytest.raises(TypeError, match="dtype must be float32 or float64, got int64"):
        lenet5(dtype=np.int64)
    with pytest.raises(TypeError, match="dtype must be float32 or float64"):
        Net((4, 4, 1), [ReLULayer()], dtype="float16")
    with pytest.raises(ValueError, match=r"this net takes inputs of shape \(224, 224, 3\)"):
        resnet18()(np.zeros((1, 32, 32, 3), np.float32))


def test_block_builders_check_their_arguments():
    """Found by fuzzing: basic_block never checked D1 ("64", -1 and 2.5 all built a projection block),
    S=(1, 1) built a projection where the identity fits, and depthwise_separable's bad D1 was reported
    as a bad K or groups."""
    from cnnref import basic_block, depthwise_separable

    for D1, error in (("64", TypeError), (-1, ValueError), (2.5, TypeError), (True, TypeError)):
        with pytest.raises(error, match=r"\bD1\b"):
            basic_block(D1, 64)
        with pytest.raises(error, match=r"\bD1\b"):
            depthwise_separable(D1, 64)
    block, _ = basic_block(np.int8(8), np.uint16(8), S=(1, 1))
    assert block.shortcut == [] and block.n_params((4, 4, 8)) == 2 * (9 * 8 * 8 + 2 * 8)
    block, _ = basic_block(8, 8, S=(2, 1))
    assert [layer.describe() for layer in block.shortcut] == ["CONV K=8 F=1 S=2x1 P=0 no bias", "BN"]


def test_a_summary_is_made_of_rows():
    """Found by fuzzing: Summary(5) or Summary([1, 2]) failed later with "'int' object is not iterable" or an
    AttributeError."""
    from cnnref import Summary

    with pytest.raises(TypeError, match=r"\brows\b must be a list of Rows"):
        Summary(5)
    with pytest.raises(TypeError, match=r"rows\[1\] must be a Row"):
        Summary([lenet5().summary().rows[0], (1, 2)])
    with pytest.raises(ValueError, match=r"\brows\b is empty"):
        Summary([])


@pytest.mark.parametrize("name", NETS)  # every architecture every run
@settings(max_examples=3, deadline=None)
@given(seed=st.integers(0, 2**32), dtype=st.sampled_from([np.float32, np.float64, "float32"]))
def test_any_seed_and_dtype_builds_the_same_architecture_without_drawing_weights(name, seed, dtype):
    """The seed and dtype are the net's; the shapes and counts do not depend on them; nothing is drawn until init()."""
    net = NETS[name](seed=seed, dtype=dtype)
    assert net.seed == seed and net.dtype == np.dtype(dtype) and not net.initialized
    summary = net.summary()
    rows = [r for r in summary.rows[1:]]
    assert [(r.output, r.params, r.macs) for r in rows] == walk(NETS[name]())
    assert summary.params == sum(layer.n_params(shape) for layer, shape in zip(net.layers, net.shapes()))
    assert net.shapes()[-1] == ((10,) if name == "LeNet-5" else (1000,))
    assert net.shapes()[0] == ((32, 32, 1) if name == "LeNet-5" else (224, 224, 3))
