"""cnnref: every concept of the CNN notes, in NumPy. Volumes are (H, W, D) arrays, depth last.

This file only re-exports. MODULES lists the modules top to bottom: each imports only from those
before it (tests/test_import.py checks it), and the API reference shows them in this order.
"""

MODULES = (
    "checks",  # validation: hyperparameters to Python ints, arrays, dtypes, memory
    "convolution",  # convolution as mathematics: functions, sequences, dice
    "shapes",  # output sizes and parameter counts
    "windows",  # padding, the window view and its adjoint, shared by convolution and pooling
    "conv_layer",  # the CONV layer: loops, im2col and one multiply, backward, transpose
    "pooling",  # max and average pooling, forward and backward
    "fully_connected",  # the FC layer and its conversion to CONV
    "activations",  # ReLU
    "loss",  # softmax cross-entropy
    "fast_conv",  # the tuned CONV kernel
    "layers",  # the Layer interface and the notes' four layers
    "batch_norm",  # batch normalisation over depth
    "global_pool",  # global average pooling
    "residual",  # the residual block
    "networks",  # Net, its summary, and the notes' example nets
    "sliding",  # a converted net slid over a larger image
    "architectures",  # LeNet-5, AlexNet, VGG-16, ResNet-18, MobileNet v1
)

from cnnref.convolution import Pmf, convolve, convolve_continuous, convolve_pmf, dice_pmf, impulse_responses, sum_of_dice
from cnnref.shapes import (
    Field,
    conv_output_shape,
    conv_params,
    conv_transpose_output_size,
    output_size,
    pool_output_size,
    volume,
)
from cnnref.windows import window_positions, zero_pad
from cnnref.conv_layer import col2im, conv2d, conv2d_backward, conv2d_naive, conv_transpose2d, im2col
from cnnref.pooling import avg_pool, avg_pool_backward, max_pool, max_pool_backward
from cnnref.fully_connected import fc, fc_backward, fc_to_conv
from cnnref.activations import relu, relu_backward
from cnnref.loss import softmax_loss
from cnnref.fast_conv import conv2d_backward_fast, conv2d_fast, conv_transpose2d_fast, fc_fast, max_pool_backward_fast
from cnnref.layers import ConvLayer, FCLayer, Layer, PoolLayer, ReLULayer, Row
from cnnref.batch_norm import BatchNormLayer, batch_norm_backward, batch_norm_eval, batch_norm_eval_fast, batch_norm_train
from cnnref.global_pool import GlobalAvgPoolLayer, global_avg_pool, global_avg_pool_backward
from cnnref.residual import ResidualBlock, residual_add
from cnnref.networks import Net, Summary, alexnet_like, cifar10_net
from cnnref.sliding import crop_scores, slide
from cnnref.architectures import alexnet, basic_block, depthwise_separable, lenet5, mobilenet_v1, resnet18, vgg16

__all__ = [
    "BatchNormLayer", "ConvLayer", "FCLayer", "Field", "GlobalAvgPoolLayer", "Layer", "Net", "Pmf",
    "PoolLayer", "ReLULayer", "ResidualBlock", "Row", "Summary",
    "alexnet", "alexnet_like", "avg_pool", "basic_block", "batch_norm_backward", "batch_norm_eval", "batch_norm_eval_fast",
    "batch_norm_train", "depthwise_separable", "global_avg_pool", "global_avg_pool_backward", "lenet5",
    "mobilenet_v1", "residual_add", "resnet18", "vgg16", "avg_pool_backward", "cifar10_net", "col2im", "conv2d", "conv2d_backward",
    "conv2d_backward_fast", "conv2d_fast", "conv2d_naive", "conv_output_shape", "conv_params", "conv_transpose2d", "conv_transpose2d_fast",
    "fc_fast",
    "conv_transpose_output_size", "convolve", "convolve_continuous", "convolve_pmf", "crop_scores", "dice_pmf",
    "fc", "fc_backward", "fc_to_conv", "im2col", "impulse_responses", "max_pool", "max_pool_backward", "max_pool_backward_fast",
    "output_size", "pool_output_size", "relu", "relu_backward", "slide", "softmax_loss", "sum_of_dice",
    "volume", "window_positions", "zero_pad",
]
