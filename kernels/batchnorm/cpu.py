"""Batch norm on the CPU: fused Numba passes over each channel.

NumPy needs a pass per operation (x − μ, its square, the sum, the scale…), each
writing a full temporary, and reductions over axes (0, 2) of an (N, C, L) array
walk memory with strides. Here a channel's L-long rows are read in order and
every formula that shares a pass is computed in it: the two backward sums Σ gy
and Σ gy·x̂ in one read of gy and x, gx in one more.
Accumulators are float64, also for float32 data (a float32 sum over 128·32·32
values would lose about three digits).

Serial kernels with ``nogil=True``, each its own Python function: see
``kernels/pool/cpu.py`` and ``shared/PERFORMANCE.md`` for why.
"""
import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def _statistics(x, mean, var):
    n, c, length = x.shape
    m = n * length
    for ch in range(c):
        total = 0.0
        for b in range(n):
            for i in range(length):
                total += x[b, ch, i]
        mu = total / m
        # the second pass, Σ(x − μ)², stays accurate where E[x²] − μ² would cancel
        square = 0.0
        for b in range(n):
            for i in range(length):
                d = x[b, ch, i] - mu
                square += d * d
        mean[ch] = mu
        var[ch] = square / m


@numba.njit(cache=True, nogil=True)
def _affine(x, scale, shift, y):
    # y = γ·(x − μ)·inv_std + β = x·scale + shift, with scale and shift per channel
    n, c, length = x.shape
    for b in range(n):
        for ch in range(c):
            s, t = scale[ch], shift[ch]
            for i in range(length):
                y[b, ch, i] = x[b, ch, i] * s + t


@numba.njit(cache=True, nogil=True)
def _backward_sums(gy, x, mean, inv_std, sum_gy, sum_gy_xhat):
    n, c, length = x.shape
    for ch in range(c):
        mu, k = mean[ch], inv_std[ch]
        s1 = 0.0
        s2 = 0.0
        for b in range(n):
            for i in range(length):
                g = gy[b, ch, i]
                s1 += g
                s2 += g * (x[b, ch, i] - mu) * k
        sum_gy[ch] = s1
        sum_gy_xhat[ch] = s2


@numba.njit(cache=True, nogil=True)
def _backward_input(gy, x, mean, inv_std, weight, sum_gy, sum_gy_xhat, gx):
    # gx = (1/M)·γ·inv_std·(M·gy − Σ gy − x̂·Σ gy·x̂)
    n, c, length = x.shape
    m = n * length
    for b in range(n):
        for ch in range(c):
            mu, k = mean[ch], inv_std[ch]
            a = weight[ch] * k / m
            s1, s2 = sum_gy[ch], sum_gy_xhat[ch]
            for i in range(length):
                x_hat = (x[b, ch, i] - mu) * k
                gx[b, ch, i] = a * (m * gy[b, ch, i] - s1 - x_hat * s2)


def _inv_std(var, eps):
    return (1 / np.sqrt(var + eps)).astype(var.dtype, copy=False)


def statistics(x):
    mean = np.empty(x.shape[1], dtype=x.dtype)
    var = np.empty(x.shape[1], dtype=x.dtype)
    _statistics(x, mean, var)
    return mean, var


def normalize(x, mean, var, weight, bias, eps):
    scale = (weight * _inv_std(var, eps)).astype(x.dtype, copy=False)
    shift = (bias - mean * scale).astype(x.dtype, copy=False)
    y = np.empty_like(x)
    _affine(x, np.ascontiguousarray(scale), np.ascontiguousarray(shift), y)
    return y


def backward(gy, x, mean, var, weight, eps):
    c = x.shape[1]
    inv_std = _inv_std(np.ascontiguousarray(var), eps)
    mean = np.ascontiguousarray(mean)
    sum_gy = np.empty(c, dtype=x.dtype)
    sum_gy_xhat = np.empty(c, dtype=x.dtype)
    _backward_sums(gy, x, mean, inv_std, sum_gy, sum_gy_xhat)
    gx = np.empty_like(x)
    _backward_input(gy, x, mean, inv_std, np.ascontiguousarray(weight), sum_gy, sum_gy_xhat, gx)
    return gx, sum_gy_xhat, sum_gy
