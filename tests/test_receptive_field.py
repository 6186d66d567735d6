"""Receptive fields by brute force: the input pixels whose change changes one output are the computed field.

Every weight is drawn in [0.5, 1.5] and every input in [0, 1], so every activation is positive: no
RELU cuts a path, and a pixel raised by 10^4 becomes the max of every pooling window it reaches.
Each pixel of the input is raised in turn (one batch, one image per pixel); the pixels that change
output (i, j) of the last volume must fill exactly the rectangle Field.window gives (clipped to the
image), for strides, padding, dilation, pooling and residual blocks.
"""

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from strategies import nets

from cnnref import (
    BatchNormLayer,
    ConvLayer,
    Field,
    GlobalAvgPoolLayer,
    Net,
    PoolLayer,
    ReLULayer,
    ResidualBlock,
    basic_block,
    lenet5,
)


def positive(net, seed=0):
    """The net with every parameter drawn in [0.5, 1.5] (float64)."""
    rng = np.random.default_rng(seed)
    net.init()
    for p in net.params():
        p[...] = rng.uniform(0.5, 1.5, p.shape)
    return net


def changes(net, seed=1):
    """(H, W, H2, W2) booleans: does raising input pixel (h, w) change output (i, j) of the last volume?"""
    H, W, D = net.input_shape
    X0 = np.random.default_rng(seed).uniform(0, 1, (H, W, D))
    batch = np.repeat(X0[None], H * W + 1, axis=0)  # the last image stays unchanged: the baseline
    rows, cols = np.divmod(np.arange(H * W), W)
    batch[np.arange(H * W), rows, cols, :] += 1e4
    out = net(batch)  # (H*W + 1, H2, W2, K)
    base = out[-1]
    changed = (np.abs(out[:-1] - base) > 1e-9 * np.abs(base).max()).any(axis=-1)  # (H*W, H2, W2)
    return changed.reshape(H, W, *changed.shape[1:])


def influence(net, i, j):
    """(H, W) booleans: the input pixels whose change changes output (i, j)."""
    return changes(net)[:, :, i, j]


def computed(net, i, j):
    """The same (H, W) booleans from the summary's Fields: the window of output (i, j), clipped to the image."""
    H, W, _ = net.input_shape
    vertical, horizontal = net.summary().rows[-1].field
    (top, bottom), (left, right) = vertical.window(i, H), horizontal.window(j, W)
    mask = np.zeros((H, W), bool)
    if top <= bottom and left <= right:  # a window on the padding only is empty (last < first)
        mask[top : bottom + 1, left : right + 1] = True
    return mask


NETS = {
    "strides and padding": lambda: Net((23, 23, 2), [
        ConvLayer(K=2, F=3, S=2, P=1), ReLULayer(), ConvLayer(K=3, F=3, P=1), PoolLayer(F=2, S=2),
        ConvLayer(K=2, F=3, P=0)]),
    "overlapping pools, large stride": lambda: Net((40, 40, 1), [
        ConvLayer(K=2, F=7, S=3, P=2, exact=False), PoolLayer(F=3, S=2, exact=False), ReLULayer(),
        ConvLayer(K=2, F=3, S=1, P=1), PoolLayer(F=3, S=2, P=1, exact=False)]),
    "rectangular filters and strides": lambda: Net((20, 18, 1), [
        ConvLayer(K=2, F=(3, 5), S=(1, 2), P=(1, 0), exact=False), ConvLayer(K=2, F=(5, 3), S=(2, 1), P=(2, 1), exact=False)]),
    "dilation": lambda: Net((30, 30, 1), [
        ConvLayer(K=2, F=3, dilation=2, P=2), ConvLayer(K=2, F=3, P=1), ReLULayer(),
        ConvLayer(K=2, F=3, S=2, dilation=(2, 1), P=1, exact=False), ConvLayer(K=2, F=2)]),
    "average pooling and batch norm": lambda: Net((16, 16, 2), [
        ConvLayer(K=2, F=3, P=1, bias=False), BatchNormLayer(), ReLULayer(), PoolLayer(F=3, S=2, mode="avg", exact=False),
        ConvLayer(K=2, F=3)]),
    "identity residual block": lambda: Net((20, 20, 2), [
        ConvLayer(K=2, F=3, S=2, P=1, exact=False),
        ResidualBlock([ConvLayer(K=2, F=3, P=1), ReLULayer(), ConvLayer(K=2, F=5, P=2)]), ReLULayer()]),
    "projection blocks (ResNet's)": lambda: Net((24, 24, 1), [
        ConvLayer(K=2, F=3, P=1, bias=False), *basic_block(2, 2), *basic_block(2, 3, S=2), *basic_block(3, 2, S=2)]),
}


@pytest.mark.parametrize("name", NETS)
def test_the_pixels_that_change_an_output_are_its_computed_receptive_field(name):
    net = positive(NETS[name]())
    H2, W2, _ = net.shapes()[-1]
    found = changes(net)
    read = found.any(axis=(2, 3))  # the pixels some output reads: all but those the floor rule drops
    for i, j in {(0, 0), (H2 // 2, W2 // 2), (H2 - 1, W2 - 1), (0, W2 - 1)}:
        expected = computed(net, i, j) & read
        assert found[:, :, i, j].any() and not found[:, :, i, j].all() or expected.all()
        np.testing.assert_array_equal(found[:, :, i, j], expected, err_msg=f"{name}: output ({i}, {j})")
    if name != "rectangular filters and strides":
        assert read.all()


def test_the_recurrence_counts_padding_where_the_floor_dropped_pixels():
    """(18 - 5)/2 + 1 = 7.5 floors to 7: no window reads column 17, yet the next layer's padding puts it
    inside the recurrence's window of the last column: the field (its size) counts padding, not pixels."""
    net = positive(NETS["rectangular filters and strides"]())
    found = changes(net)
    assert not found[:, 17].any() and found[:, :17].any(axis=(0, 2, 3)).all()
    assert computed(net, 0, net.shapes()[-1][1] - 1)[:, 17].any()


def test_lenet5_by_brute_force():
    """LeNet-5's last volume (5x5x16): each position sees 16x16 pixels, 4 apart."""
    net = lenet5(dtype=np.float64)
    net.layers = net.layers[:6]  # up to its last POOL: the FC layers see everything
    positive(net)
    assert net.summary().receptive_field == 16 and net.summary().stride == 4
    for i, j in ((0, 0), (2, 3), (4, 4)):
        np.testing.assert_array_equal(influence(net, i, j), computed(net, i, j))


def test_a_residual_block_takes_the_larger_path():
    """Main path 5x5 and a shortcut 1x1: the block's field is the main path's (the union of both)."""
    block = ResidualBlock([ConvLayer(K=1, F=5, P=2)], [ConvLayer(K=1, F=1)])
    assert Net((9, 9, 1), [block]).summary().receptive_field == 5
    net = positive(Net((9, 9, 1), [ResidualBlock([ConvLayer(K=1, F=1)], [ConvLayer(K=1, F=5, P=2)])]))
    assert net.summary().receptive_field == 5  # whichever path is larger
    np.testing.assert_array_equal(influence(net, 4, 4), computed(net, 4, 4))


def test_dilation_leaves_gaps_inside_the_field():
    """A dilated filter alone skips pixels: the changed pixels span the field, with gaps between them."""
    net = positive(Net((11, 11, 1), [ConvLayer(K=1, F=3, dilation=3)]))
    found = influence(net, 2, 2)
    rows, cols = np.nonzero(found)
    assert net.summary().receptive_field == 7
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (2, 8, 2, 8)  # the window of Field.window
    assert found.sum() == 9 and computed(net, 2, 2).sum() == 49


def test_the_recurrence():
    assert Field().grow(3).grow(3).grow(3) == Field(7, 1, 0)  # three 3x3: one 7x7 (the notes' VGG remark)
    assert Field().grow(11, 4, 2).grow(3, 2).grow(5, 1, 2) == Field(51, 8, -18)
    assert Field().grow(3, dilation=4) == Field(9, 1, 0)
    assert Field(5, 2, -1).window(3) == (5, 9) and Field(5, 2, -1).window(0, W1=3) == (0, 2)
    assert Net((7, 5, 2), [GlobalAvgPoolLayer()]).summary().rows[-1].receptive_field == (7, 5)


def test_bad_fields():
    with pytest.raises(ValueError, match="effective strides 2 and 1 cannot be added"):
        Field(3, 2, 0).union(Field(1, 1, 0))
    with pytest.raises(ValueError, match="F must be at least 1"):
        Field().grow(0)
    with pytest.raises(TypeError, match="S must be an integer"):
        Field().grow(3, S=1.5)
    with pytest.raises(ValueError, match="i must be non-negative"):
        Field().window(-1)


def test_a_field_holds_python_ints():
    """Found by fuzzing: Field(np.int8(100), np.int8(100)).grow(3, S=2) wrapped in int8 (stride -56), and
    Field("a").grow(3) or Field().union(3) failed inside the arithmetic, naming no argument."""
    field = Field(np.int8(100), np.int8(100), np.int16(-3)).grow(3, S=2)
    assert field == Field(300, 200, -3) and all(type(v) is int for v in field)
    with pytest.raises(TypeError, match="size must be an integer"):
        Field("a")
    with pytest.raises(ValueError, match="stride must be at least 1"):
        Field(3, 0)
    with pytest.raises(TypeError, match="start must be an integer"):
        Field(3, 1, 0.5)
    with pytest.raises(TypeError, match="other must be a Field"):
        Field().union(3)


@settings(max_examples=15, deadline=None)
@given(net=nets(fc_head=False, max_size=9), seed=st.integers(0, 2**16))
# Found by Hypothesis: the last CONV's padded column reads only zeros, yet its field (the pool's window one
# column further) overlaps the image's column 1.
@example(net=Net((2, 2, 1), [PoolLayer(F=(1, 2), S=1, mode="avg"), ConvLayer(K=1, F=1, P=(0, 1), bias=False)]), seed=0)
def test_any_nets_fields_are_the_pixels_that_change_its_outputs(net, seed):
    """The brute force above over drawn nets (pairs, padding, dilation, both pools, the floor), corner and centre outputs.

    Without dilation an output reads its whole field; with it, the field is the rectangle around taps
    with gaps between them (test_dilation_leaves_gaps_inside_the_field): it holds every pixel read. An
    output that sits on some layer's padding reads nothing, while a field is geometry only and may still
    cover pixels of the image: it is held to reading nothing outside its field.
    """
    net = positive(net, seed)
    H2, W2, _ = net.shapes()[-1]
    found = changes(net, seed)
    read = found.any(axis=(2, 3))
    gaps = any(getattr(layer, "dilation", 1) != 1 for layer in net.layers)
    for i, j in {(0, 0), (H2 // 2, W2 // 2), (H2 - 1, W2 - 1)}:
        field = computed(net, i, j)
        assert not (found[:, :, i, j] & ~field).any()  # (an output on the padding only reads nothing)
        if not gaps and found[:, :, i, j].any():
            np.testing.assert_array_equal(found[:, :, i, j], field & read)
    summary = net.summary()
    assert summary.receptive_field == summary.rows[-1].receptive_field
    assert summary.stride == summary.rows[-1].stride == net.total_stride


@settings(max_examples=30, deadline=None)
@given(a=st.tuples(st.integers(1, 20), st.integers(1, 4), st.integers(-5, 5)),
       b=st.tuples(st.integers(1, 20), st.integers(1, 4), st.integers(-5, 5)),
       i=st.integers(0, 6), W1=st.sampled_from([None, 1, 4, 30]))
def test_a_union_holds_both_fields_and_a_window_is_the_field_of_one_output(a, b, i, W1):
    A, B = Field(*a), Field(*b)
    if A.stride != B.stride:
        with pytest.raises(ValueError, match=f"effective strides {A.stride} and {B.stride} cannot be added: their outputs "
                                             "do not look at the same input positions"):
            A.union(B)
    else:
        U = A.union(B)
        covered = set(range(U.start, U.start + U.size))
        assert set(range(A.start, A.start + A.size)) | set(range(B.start, B.start + B.size)) <= covered
        assert {U.start, U.start + U.size - 1} <= set(range(A.start, A.start + A.size)) | set(range(B.start, B.start + B.size))
        assert U.stride == A.stride and U == B.union(A)
    first, last = A.window(i, W1)
    unclipped = (A.start + i * A.stride, A.start + i * A.stride + A.size - 1)
    if W1 is None:
        assert (first, last) == unclipped and last - first + 1 == A.size
    else:
        assert (first, last) == (max(unclipped[0], 0), min(unclipped[1], W1 - 1))


@pytest.mark.parametrize("field", [Field(), Field(19, 8, -2), Field(3, 1, 0)])
def test_a_window_is_clipped_to_an_image_of_at_least_one_pixel(field):
    """W1 = 1: the one pixel 0 (or nothing, when the window lies on the padding); W1 = 0 or an index < 0 is refused."""
    first, last = field.window(0, W1=1)
    assert first == max(field.start, 0) and last == min(field.start + field.size - 1, 0)
    with pytest.raises(ValueError, match=r"^W1 must be at least 1, got W1 = 0"):
        field.window(0, W1=0)
    with pytest.raises(ValueError, match=r"^i must be non-negative, got i = -1"):
        field.window(-1)


@pytest.mark.parametrize("name, minimum", [("F", 1), ("S", 1), ("P", 0), ("dilation", 1)])
def test_grow_refuses_each_hyperparameter_below_its_minimum_by_name(name, minimum):
    rule = "non-negative" if minimum == 0 else "at least 1"
    args = {"F": 3, "S": 1, "P": 0, "dilation": 1, name: minimum - 1}
    with pytest.raises(ValueError, match=rf"^{name} must be {rule}, got {name} = {minimum - 1}"):
        Field(5, 2, -1).grow(**args)
    args[name] = minimum  # the minimum itself is taken
    assert Field(5, 2, -1).grow(**args) == Field(5 + args["dilation"] * (args["F"] - 1) * 2, 2 * args["S"], -1 - args["P"] * 2)
