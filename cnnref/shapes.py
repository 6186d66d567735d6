"""Size arithmetic: output volumes, parameter counts, and the volumes written as the notes write them.

Defined for the notes' section "Convolutional Layer" (page: CNN notes, /dl/cnn/conv-layer/) and its
generalisation in "A guide to convolution arithmetic" (Dumoulin & Visin). A size argument is an int or
a pair (vertical, horizontal); with a pair anywhere, the answer is a pair (H2, W2).
"""

from fractions import Fraction
from typing import NamedTuple

from cnnref import checks


def _axis(W1, F, S, P, dilation, exact, name):
    """The output size along one axis: (W1 + 2P - dilation (F - 1) - 1)/S + 1, whole or floored."""
    span = dilation * (F - 1) + 1  # the filter's extent on the input, gaps included
    if dilation == 1:
        filter_, formula = f"filter F = {F}", f"({name} - F + 2P)/S + 1 = ({W1} - {F} + {2 * P})/{S} + 1"
    else:
        filter_ = f"dilated filter dilation (F - 1) + 1 = {dilation} ({F} - 1) + 1 = {span}"
        formula = (
            f"({name} - dilation (F - 1) - 1 + 2P)/S + 1 = ({W1} - {dilation} ({F} - 1) - 1 + {2 * P})/{S} + 1"
        )
    if span > W1 + 2 * P:
        raise ValueError(f"{filter_} is larger than the padded input {name} + 2P = {W1} + {2 * P} = {W1 + 2 * P}")
    steps, rest = divmod(W1 + 2 * P - span, S)
    if rest and exact:
        raise ValueError(
            f"{formula} = {float(Fraction(W1 + 2 * P - span, S) + 1):g} is not a whole number: stride S = {S} does "
            f"not tile the padded input; change F, S or P (exact=False floors it to {steps + 1}, as PyTorch does)"
        )
    return steps + 1  # floors: the last rows and columns that no whole window reaches are dropped


def output_size(W1, F, S=1, P=0, dilation=1, exact=True, name="W1"):
    """Spatial output size W2 = (W1 - F + 2P)/S + 1 of a layer with filter F, stride S, zero padding P.

    P is the padding on each side. A dilated filter takes dilation (F - 1) + 1 input positions. With
    exact=True (the notes) a size that the windows do not tile is refused with the formula and its
    numbers; exact=False floors it, as PyTorch, TensorFlow and Caffe do.

    >>> output_size(227, 11, S=4)   # AlexNet's first layer
    55
    >>> output_size(224, 7, S=2, P=3, exact=False)   # ResNet's first layer: 112.5 floored
    112
    >>> output_size((32, 24), (3, 1), P=(1, 0))   # pairs: (H1, W1) -> (H2, W2)
    (32, 24)
    """
    if not any(isinstance(v, (tuple, list)) for v in (W1, F, S, P, dilation)):
        return _axis(
            checks.hyper(W1, name, 1), checks.hyper(F, "F", 1), checks.hyper(S, "S", 1),
            checks.hyper(P, "P", 0), checks.hyper(dilation, "dilation", 1), exact, name,
        )
    sizes, Fs, Ss = checks.pair(W1, "(H1, W1)", 1), checks.pair(F, "F", 1), checks.pair(S, "S", 1)
    Ps, ds = checks.pair(P, "P", 0), checks.pair(dilation, "dilation", 1)
    return tuple(_axis(*args, exact, axis) for axis, *args in zip(("H1", "W1"), sizes, Fs, Ss, Ps, ds))


def conv_output_shape(input_shape, K, F, S=1, P=0, dilation=1, groups=1, exact=True):
    """Output volume (H2, W2, K) of K filters F x F at stride S with padding P on an (H1, W1, D1) input.

    >>> conv_output_shape((32, 32, 3), K=12, F=3, S=1, P=1)   # the notes' CIFAR-10 CONV layer
    (32, 32, 12)
    """
    H1, W1, D1 = checks.shape(input_shape)
    K, groups = checks.hyper(K, "K", 1), checks.hyper(groups, "groups", 1)
    if D1 % groups or K % groups:
        raise ValueError(f"groups = {groups} must divide the input depth D1 = {D1} and the number of filters K = {K}")
    H2, W2 = output_size((H1, W1), F, S, P, dilation, exact)
    return H2, W2, K


def conv_params(F, D1, K, groups=1, bias=True):
    """Parameters of a CONV layer with parameter sharing: (FH*FW*(D1/groups)*K weights, K biases).

    >>> conv_params(F=11, D1=3, K=96)   # AlexNet's first layer: 34,848 weights and 96 biases
    (34848, 96)
    >>> conv_params(F=3, D1=32, K=32, groups=32)   # depthwise: one 3x3 filter per depth slice
    (288, 32)
    """
    (FH, FW), D1, K = checks.pair(F, "F", 1), checks.hyper(D1, "D1", 1), checks.hyper(K, "K", 1)
    groups = checks.hyper(groups, "groups", 1)
    if D1 % groups or K % groups:
        raise ValueError(f"groups = {groups} must divide the input depth D1 = {D1} and the number of filters K = {K}")
    return FH * FW * (D1 // groups) * K, (K if bias else 0)


def pool_output_size(W1, F=2, S=2, P=0, dilation=1, exact=True, name="W1"):
    """W2 = (W1 + 2P - F)/S + 1 for pooling; P at most F/2 (a window is never mostly padding), as in PyTorch.

    >>> pool_output_size(32, F=2, S=2)   # the notes' CIFAR-10 POOL: 32 -> 16
    16
    >>> pool_output_size(5, F=3, S=2)    # overlapping pooling
    2
    >>> pool_output_size(112, F=3, S=2, P=1, exact=False)   # ResNet's max pool: 56.5 floored
    56
    """
    for (f, p), axis in zip(zip(checks.pair(F, "F", 1), checks.pair(P, "P", 0)), ("", " (horizontal)")):
        if p > f // 2:
            raise ValueError(f"pooling pads at most half a window: P = {p} > F // 2 = {f // 2}{axis}")
    return output_size(W1, F, S, P, dilation, exact, name)


def conv_transpose_output_size(H2, F, S=1, P=0, output_padding=0, dilation=1, name="H2"):
    """H1 = S (H2 - 1) + dilation (F - 1) + 1 - 2P + output_padding: the input size whose conv gives H2.

    A strided convolution maps several input sizes to the same H2 (the floor drops up to S - 1 rows);
    output_padding, smaller than S or than dilation, picks which one, as in PyTorch.

    >>> conv_transpose_output_size(3, F=3, S=2, P=1)   # inverts output_size(5, 3, S=2, P=1) = 3
    5
    >>> conv_transpose_output_size(3, F=3, S=2, P=1, output_padding=1)   # and output_size(6, ...) = 3
    6
    """
    if any(isinstance(v, (tuple, list)) for v in (H2, F, S, P, output_padding, dilation)):
        values = [checks.pair(v, n, m) for v, n, m in zip(
            (H2, F, S, P, output_padding, dilation), ("(H2, W2)", "F", "S", "P", "output_padding", "dilation"),
            (1, 1, 1, 0, 0, 1))]
        return tuple(conv_transpose_output_size(*axis, name=n) for axis, n in zip(zip(*values), ("H2", "W2")))
    H2, F, S = checks.hyper(H2, name, 1), checks.hyper(F, "F", 1), checks.hyper(S, "S", 1)
    P, op = checks.hyper(P, "P", 0), checks.hyper(output_padding, "output_padding", 0)
    dilation = checks.hyper(dilation, "dilation", 1)
    if op >= max(S, dilation):
        raise ValueError(
            f"output_padding = {op} must be smaller than the stride S = {S} or the dilation = {dilation}, as in PyTorch"
        )
    H1 = S * (H2 - 1) + dilation * (F - 1) + 1 - 2 * P + op
    if H1 < 1:
        raise ValueError(
            f"S ({name} - 1) + dilation (F - 1) + 1 - 2P + output_padding = {S} ({H2} - 1) + {dilation} ({F} - 1) "
            f"+ 1 - {2 * P} + {op} = {H1}: the padding P = {P} crops away the whole output"
        )
    return H1


def volume(shape):
    """A shape written as the notes write volumes, width x height x depth; a vector (n,) is 1x1xn.

    >>> volume((32, 32, 3)), volume((10,)), volume((2, 5, 3))   # (H, W, D) = (2, 5, 3) is 5 wide, 2 high
    ('32x32x3', '1x1x10', '5x2x3')
    """
    dims = checks.shape(shape, "shape", ndims=(1, 3))
    if len(dims) == 1:
        return f"1x1x{dims[0]}"
    H, W, D = dims
    return f"{W}x{H}x{D}"


class _Field(NamedTuple):
    size: int
    stride: int
    start: int


class Field(_Field):
    """The receptive field of a layer's outputs along one axis, in input pixels (Araujo, Norris & Sim,
    "Computing Receptive Fields of Convolutional Neural Networks", Distill 2019).

    Output i of the layer sees the input pixels start + i*stride ... start + i*stride + size - 1 (a
    negative index lies in the zero padding). Field() is the input itself: each pixel sees itself.

    - size r: how many input pixels one output sees along this axis;
    - stride j: how far apart, in input pixels, neighbouring outputs look (the effective stride: the
      product of every stride so far);
    - start: where output 0 starts looking (minus the padding of every layer, in input pixels).

    The three are Python ints (size and stride at least 1), whatever integer type they are given in.
    """

    __slots__ = ()

    def __new__(cls, size=1, stride=1, start=0):
        start = checks.hyper(start, "start", minimum=-float("inf"))
        return super().__new__(cls, checks.hyper(size, "size", 1), checks.hyper(stride, "stride", 1), start)

    def grow(self, F, S=1, P=0, dilation=1):
        """The field after one more layer with filter F, stride S, padding P: the published recurrence.

        r grows by (F - 1) taps times the effective stride so far (times the dilation: the taps are
        dilation inputs apart); the effective stride is multiplied by S; the start moves back by P inputs.

        >>> Field().grow(11, S=4, P=2)   # AlexNet's first CONV layer: 11 pixels, 4 apart
        Field(size=11, stride=4, start=-2)
        >>> Field().grow(11, S=4, P=2).grow(3, S=2)   # then its first max pool: 11 + (3 - 1) * 4 = 19
        Field(size=19, stride=8, start=-2)
        >>> Field().grow(3, dilation=2).grow(3)   # a dilated 3x3 sees 5 pixels; a 3x3 after it, 7
        Field(size=7, stride=1, start=0)
        """
        F, S = checks.hyper(F, "F", 1), checks.hyper(S, "S", 1)
        P, dilation = checks.hyper(P, "P", 0), checks.hyper(dilation, "dilation", 1)
        return Field(self.size + dilation * (F - 1) * self.stride, self.stride * S, self.start - P * self.stride)

    def union(self, other):
        """The smallest field holding both (paths that are added, as in a residual block); same strides only.

        >>> Field(7, 2, -3).union(Field(1, 2, 0))   # a 1x1 shortcut inside a 3x3 path's field
        Field(size=7, stride=2, start=-3)
        """
        if not isinstance(other, Field):
            raise TypeError(f"other must be a Field, got {other!r} ({type(other).__name__})")
        if self.stride != other.stride:
            raise ValueError(
                f"paths with effective strides {self.stride} and {other.stride} cannot be added: their outputs "
                f"do not look at the same input positions (other has stride {other.stride}, not {self.stride})"
            )
        start = min(self.start, other.start)
        end = max(self.start + self.size, other.start + other.size)
        return Field(end - start, self.stride, start)

    def window(self, i, W1=None):
        """(first, last) input index seen by output i; clipped to an input of W1 pixels when given.

        >>> Field(size=19, stride=8, start=-2).window(0, W1=224)   # the padding is not in the image
        (0, 16)
        """
        i = checks.hyper(i, "i", 0)
        first, last = self.start + i * self.stride, self.start + i * self.stride + self.size - 1
        if W1 is not None:
            first, last = max(first, 0), min(last, checks.hyper(W1, "W1", 1) - 1)
        return first, last
