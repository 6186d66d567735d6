"""The softmax cross-entropy loss on class scores, and its gradient: what turns scores into training.

Beyond the notes (they stop at the forward pass); used by the training notebook (page: /notebooks/training/).
"""

import numbers

import numpy as np

from cnnref import checks


def softmax_loss(scores, y):
    """Mean cross-entropy of softmax(scores) against labels y, and its gradient dL/dscores.

    scores (N, K) (or (K,) for one example), integer labels y (N,) (or one int) in 0..K-1.
    p = exp(s) / sum(exp(s)) per row, L = mean over examples of -log p[y], dL/ds = (p - onehot(y)) / N.
    Returns (L as a float, dscores of the shape of scores).

    >>> loss, dscores = softmax_loss(np.zeros((1, 4)), np.array([0]))   # 4 equal scores: p = 1/4 each
    >>> round(loss, 4)   # -log(1/4) = log 4
    1.3863
    >>> dscores
    array([[-0.75,  0.25,  0.25,  0.25]])
    """
    scores = checks.as_volume(scores, "scores", ndims=(1, 2))
    single = scores.ndim == 1
    s = scores[None] if single else scores
    N, K = s.shape
    if single and isinstance(y, numbers.Integral) and not isinstance(y, bool):
        y = np.array([y])
    y = np.asarray(y)
    if y.dtype == bool or not np.issubdtype(y.dtype, np.integer):
        raise TypeError(f"y must hold integer class labels, got an array of dtype {y.dtype}")
    if y.shape != (N,):
        raise ValueError(
            f"y must hold one label per example, shape ({N},), got shape {y.shape} for scores {scores.shape}"
        )
    if y.min() < 0 or y.max() >= K:
        raise ValueError(
            f"labels y must lie in 0..K-1 = 0..{K - 1} for K = {K} classes, got values {y.min()}..{y.max()}"
        )
    s = s.astype(checks.float_type(s), copy=False)
    shifted = s - s.max(axis=1, keepdims=True)  # same softmax, no overflow in exp
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))  # (N, K)
    loss = -log_p[np.arange(N), y].mean()
    dscores = np.exp(log_p)
    dscores[np.arange(N), y] -= 1
    dscores /= N
    return float(loss), (dscores[0] if single else dscores)
