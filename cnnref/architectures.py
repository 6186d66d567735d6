"""Five real ConvNets from cnnref layers: LeNet-5, AlexNet, VGG-16, ResNet-18 and MobileNet v1.

The notes' "Case studies", built at their standard input sizes with seeded weights (nothing is
downloaded), so that Net.summary() computes each one's volumes, parameters, multiply-adds, memory and
receptive fields. Page: Architectures, /architectures/.

Weights (to copy them into another library, e.g. PyTorch): Net.params() lists every array in layer
order, a residual block's as its "main.0.W", ..., "shortcut.0.W" (Layer.params names them). A CONV W
is (K, FH, FW, D1 / groups): PyTorch's weight is W.transpose(0, 3, 1, 2). An FC W is (K, n) with
the input flattened in (H, W, D) order: the first FC after a volume is, in PyTorch's (D, H, W) order,
W.reshape(K, H, W, D).transpose(0, 3, 1, 2).reshape(K, -1). A BN layer's gamma and beta are PyTorch's
weight and bias; its running_mean and running_var are attributes of the layer. Dropout, which has
no parameters and is the identity at inference, is left out, as are torchvision's adaptive average
pools before the FC layers of AlexNet and VGG-16 (the identity at 224 x 224).
"""

import numpy as np

from cnnref import checks
from cnnref.batch_norm import BatchNormLayer
from cnnref.global_pool import GlobalAvgPoolLayer
from cnnref.layers import ConvLayer, FCLayer, PoolLayer, ReLULayer
from cnnref.networks import Net
from cnnref.residual import ResidualBlock


def lenet5(seed=0, dtype=np.float32):
    """LeNet-5 as it is commonly built today: 6 and 16 filters 5x5, max pooling, RELU, FC 120-84-10.

    On 32x32x1 images (LeCun et al. 1998 used tanh-like units and subsampling; the sizes are theirs).

    >>> [layer.describe() for layer in lenet5().layers][:3]
    ['CONV K=6 F=5 S=1 P=0', 'RELU', 'POOL F=2 S=2']
    """
    layers = [ConvLayer(K=6, F=5), ReLULayer(), PoolLayer(F=2, S=2),
              ConvLayer(K=16, F=5), ReLULayer(), PoolLayer(F=2, S=2),
              FCLayer(K=120), ReLULayer(), FCLayer(K=84), ReLULayer(), FCLayer(K=10)]
    return Net((32, 32, 1), layers, seed, dtype)


def alexnet(seed=0, dtype=np.float32):
    """AlexNet as torchvision builds it (the one-GPU variant): 64-192-384-256-256 filters, FC 4096-4096-1000.

    The first layer, 11x11 at stride 4 with padding 2 on 224x224x3, gives (224 - 11 + 4)/4 + 1 = 55.25,
    floored to 55 (exact=False), as PyTorch does; every max pool is 3x3 at stride 2 (overlapping).

    >>> [layer.describe() for layer in alexnet().layers][:3]
    ['CONV K=64 F=11 S=4 P=2', 'RELU', 'POOL F=3 S=2']
    """
    layers = [ConvLayer(K=64, F=11, S=4, P=2, exact=False), ReLULayer(), PoolLayer(F=3, S=2),
              ConvLayer(K=192, F=5, P=2), ReLULayer(), PoolLayer(F=3, S=2),
              ConvLayer(K=384, F=3, P=1), ReLULayer(),
              ConvLayer(K=256, F=3, P=1), ReLULayer(),
              ConvLayer(K=256, F=3, P=1), ReLULayer(), PoolLayer(F=3, S=2),
              FCLayer(K=4096), ReLULayer(), FCLayer(K=4096), ReLULayer(), FCLayer(K=1000)]
    return Net((224, 224, 3), layers, seed, dtype)


VGG16 = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M")  # configuration D


def vgg16(seed=0, dtype=np.float32):
    """VGG-16 (configuration D of Simonyan & Zisserman): 13 CONV 3x3 (S = 1, P = 1), 5 max pools 2x2, 3 FC.

    >>> [layer.describe() for layer in vgg16().layers][-5:]
    ['FC K=4096', 'RELU', 'FC K=4096', 'RELU', 'FC K=1000']
    """
    layers = []
    for item in VGG16:
        layers += [PoolLayer(F=2, S=2)] if item == "M" else [ConvLayer(K=item, F=3, P=1), ReLULayer()]
    layers += [FCLayer(K=4096), ReLULayer(), FCLayer(K=4096), ReLULayer(), FCLayer(K=1000)]
    return Net((224, 224, 3), layers, seed, dtype)


def basic_block(D1, K, S=1):
    """ResNet's basic block on a volume of depth D1, then its RELU: CONV 3x3 (stride S) - BN - RELU -
    CONV 3x3 - BN, plus the shortcut: the identity, or a 1x1 CONV at stride S and a BN (a projection)
    when the depth or the size changes. CONV layers without bias (the BN after each has its own beta).

    >>> block, relu = basic_block(64, 128, S=2)
    >>> block.output_shape((56, 56, 64)), [layer.describe() for layer in block.shortcut]
    ((28, 28, 128), ['CONV K=128 F=1 S=2 P=0 no bias', 'BN'])
    """
    D1, K, S = checks.hyper(D1, "D1", 1), checks.hyper(K, "K", 1), checks.pair(S, "S", 1)
    main = [ConvLayer(K=K, F=3, S=S, P=1, exact=False, bias=False), BatchNormLayer(), ReLULayer(),
            ConvLayer(K=K, F=3, P=1, bias=False), BatchNormLayer()]
    projection = S != (1, 1) or D1 != K
    shortcut = [ConvLayer(K=K, F=1, S=S, exact=False, bias=False), BatchNormLayer()] if projection else []
    return [ResidualBlock(main, shortcut), ReLULayer()]


def resnet18(seed=0, dtype=np.float32):
    """ResNet-18 as torchvision builds it: CONV 7x7/2 - BN - RELU - max pool 3x3/2, four stages of two
    basic blocks (64, 128, 256, 512 filters; the last three stages start at stride 2), global average
    pooling and FC 1000. Sizes floor (exact=False): (224 + 6 - 7)/2 + 1 = 112.5 -> 112.

    >>> [layer.describe() for layer in resnet18().layers][:4]
    ['CONV K=64 F=7 S=2 P=3 no bias', 'BN', 'RELU', 'POOL F=3 S=2 P=1']
    """
    layers = [ConvLayer(K=64, F=7, S=2, P=3, exact=False, bias=False), BatchNormLayer(), ReLULayer(),
              PoolLayer(F=3, S=2, P=1, exact=False)]
    D1 = 64
    for K, S in ((64, 1), (128, 2), (256, 2), (512, 2)):
        layers += basic_block(D1, K, S) + basic_block(K, K, 1)
        D1 = K
    layers += [GlobalAvgPoolLayer(), FCLayer(K=1000)]
    return Net((224, 224, 3), layers, seed, dtype)


MOBILENET_V1 = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
                (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1))  # (K, S) per block


def depthwise_separable(D1, K, S=1):
    """MobileNet's block: a depthwise CONV 3x3 (groups = D1: one filter per depth slice) - BN - RELU,
    then a pointwise CONV 1x1 with K filters - BN - RELU.

    >>> [layer.describe() for layer in depthwise_separable(32, 64)][::3]
    ['CONV K=32 F=3 S=1 P=1 groups=32 no bias', 'CONV K=64 F=1 S=1 P=0 no bias']
    """
    D1 = checks.hyper(D1, "D1", 1)
    return [ConvLayer(K=D1, F=3, S=S, P=1, groups=D1, exact=False, bias=False), BatchNormLayer(), ReLULayer(),
            ConvLayer(K=K, F=1, bias=False), BatchNormLayer(), ReLULayer()]


def mobilenet_v1(seed=0, dtype=np.float32):
    """MobileNet v1 (Howard et al. 2017), width multiplier 1.0 on 224x224x3: CONV 3x3/2 with 32 filters,
    13 depthwise separable blocks up to 1024 filters, global average pooling (7x7) and FC 1000.

    >>> [layer.describe() for layer in mobilenet_v1().layers][-2:]
    ['POOL global avg', 'FC K=1000']
    """
    layers = [ConvLayer(K=32, F=3, S=2, P=1, exact=False, bias=False), BatchNormLayer(), ReLULayer()]
    D1 = 32
    for K, S in MOBILENET_V1:
        layers += depthwise_separable(D1, K, S)
        D1 = K
    layers += [GlobalAvgPoolLayer(), FCLayer(K=1000)]
    return Net((224, 224, 3), layers, seed, dtype)


# The five by name, in the order of the pages: {name: constructor}.
NETS = {"LeNet-5": lenet5, "AlexNet": alexnet, "VGG-16": vgg16, "ResNet-18": resnet18, "MobileNet v1": mobilenet_v1}
