"""Numerical gradients by central differences, shared by the gradient checks of every backward pass."""

import numpy as np


def numerical_gradient(f, A, G, h=1e-6):
    """d sum(f() * G) / dA by central differences, perturbing A in place."""
    grad = np.zeros_like(A)
    for idx in np.ndindex(A.shape):
        old = A[idx]
        A[idx] = old + h
        plus = np.sum(f() * G)
        A[idx] = old - h
        minus = np.sum(f() * G)
        A[idx] = old
        grad[idx] = (plus - minus) / (2 * h)
    return grad
