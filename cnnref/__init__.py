"""cnnref: every concept of the CNN notes, in NumPy. Volumes are (H, W, D) arrays, depth last."""

from cnnref.conv_layer import ConvLayer, conv2d_naive, conv_output_shape, conv_params, output_size, zero_pad
from cnnref.convolution import (
    Pmf,
    convolve,
    convolve_continuous,
    convolve_pmf,
    dice_pmf,
    impulse_responses,
    sum_of_dice,
)
from cnnref.fc_to_conv import crop_scores, fc_to_conv, slide
from cnnref.fully_connected import FCLayer, fc
from cnnref.im2col import conv2d, im2col
from cnnref.network import Net, alexnet_like, cifar10_net, volume
from cnnref.pooling import PoolLayer, avg_pool, max_pool, pool_output_size
from cnnref.relu import ReLULayer, relu

__all__ = [
    "ConvLayer", "FCLayer", "Net", "Pmf", "PoolLayer", "ReLULayer",
    "alexnet_like", "avg_pool", "cifar10_net", "conv2d", "conv2d_naive", "conv_output_shape",
    "conv_params", "convolve", "convolve_continuous", "convolve_pmf", "crop_scores", "dice_pmf",
    "fc", "fc_to_conv", "im2col", "impulse_responses", "max_pool", "output_size", "pool_output_size",
    "relu", "slide", "sum_of_dice", "volume", "zero_pad",
]

# Backward passes and the loss: training (beyond the notes' forward pass)
from cnnref.fully_connected import fc_backward  # noqa: E402
from cnnref.im2col import col2im, conv2d_backward  # noqa: E402
from cnnref.loss import softmax_loss  # noqa: E402
from cnnref.pooling import avg_pool_backward, max_pool_backward  # noqa: E402
from cnnref.relu import relu_backward  # noqa: E402

__all__ += [
    "avg_pool_backward", "col2im", "conv2d_backward", "fc_backward", "max_pool_backward", "relu_backward",
    "softmax_loss",
]
