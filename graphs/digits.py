"""The digits net of the training notebook, trained here too, for the figures that show a trained ConvNet.

docs/notebooks/training.ipynb trains the notes' INPUT - CONV - RELU - POOL - FC layout on scikit-learn's
8x8 handwritten digits (they ship with scikit-learn: nothing is downloaded). The notebook writes its
training loop out, since that is what it teaches; this module runs the same loop with the same data
split, layers, seeds and settings (tests/test_graphs.py checks that the notebook's settings are these),
so a figure drawn from `trained()` shows the net the notebook trains. One BLAS thread, as in the
notebook: the small multiplies are faster so, and the weights come out the same at every build.
"""

from functools import cache

import numpy as np

from cnnref import ConvLayer, FCLayer, Net, PoolLayer, ReLULayer, softmax_loss

TEST_SIZE, SPLIT_SEED = 0.25, 0  # train_test_split(..., test_size, random_state, stratify=y)
BATCH, LR, EPOCHS = 32, 0.1, 15  # the notebook's `batch, lr, epochs`
NET_SEED, ORDER_SEED = 0, 0  # Net(..., seed), np.random.default_rng(seed) for the minibatch order


def layers():
    return [ConvLayer(K=16, F=5, S=1, P=2), ReLULayer(), PoolLayer(F=2, S=2), FCLayer(K=10)]


@cache
def data():
    """(X_train, X_test, y_train, y_test): the digits as (N, 8, 8, 1) volumes in [0, 1], split as the notebook does."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    X = (digits.images / 16.0)[:, :, :, None]
    return tuple(train_test_split(X, digits.target, test_size=TEST_SIZE, random_state=SPLIT_SEED, stratify=digits.target))


@cache
def trained():
    """The trained Net (weights as the notebook ends with them) and its first CONV layer's random start."""
    from threadpoolctl import threadpool_limits

    X_train, _, y_train, _ = data()
    net = Net((8, 8, 1), layers(), seed=NET_SEED).init()
    start = net.layers[0].W.copy()
    rng = np.random.default_rng(ORDER_SEED)
    with threadpool_limits(limits=1, user_api="blas"):
        for _ in range(EPOCHS):
            order = rng.permutation(len(X_train))
            for first in range(0, len(order) - BATCH + 1, BATCH):  # full batches only
                chosen = order[first : first + BATCH]
                _, dscores = softmax_loss(net.forward(X_train[chosen]), y_train[chosen])
                net.backward(dscores)
                net.sgd_step(LR)
    return net, start
