"""Batch norm in plain NumPy, equation by equation: the oracle.

Arrays are (N, C, L); every sum runs over the M = N·L values of a channel,
axes (0, 2), kept as (1, C, 1) so they broadcast back over x.
"""
import numpy as np

AXES = (0, 2)


def statistics(x):
    mean = x.mean(axis=AXES)
    var = ((x - mean[:, None]) ** 2).mean(axis=AXES)  # biased: divide by M
    return mean, var


def _x_hat(x, mean, var, eps):
    inv_std = 1 / np.sqrt(var + eps)
    return (x - mean[:, None]) * inv_std[:, None], inv_std


def normalize(x, mean, var, weight, bias, eps):
    x_hat, _ = _x_hat(x, mean, var, eps)
    return (weight[:, None] * x_hat + bias[:, None]).astype(x.dtype, copy=False)


def backward(gy, x, mean, var, weight, eps):
    m = x.shape[0] * x.shape[2]
    x_hat, inv_std = _x_hat(x, mean, var, eps)
    gbias = gy.sum(axis=AXES)                       # ∂L/∂β = Σ gy
    gweight = (gy * x_hat).sum(axis=AXES)           # ∂L/∂γ = Σ gy·x̂
    # ∂L/∂x = (1/M)·γ·inv_std·(M·gy − Σ gy − x̂·Σ gy·x̂): the two sums are the paths
    # through μ and σ², which every x of the channel feeds
    gx = (weight * inv_std)[:, None] / m * (m * gy - gbias[:, None] - x_hat * gweight[:, None])
    return gx.astype(x.dtype, copy=False), gweight, gbias
