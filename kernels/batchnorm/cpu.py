"""Batch norm on the CPU: fused Numba passes over each channel.

NumPy needs a pass per operation (x − μ, its square, the sum, the scale…), each
writing a full temporary, and reductions over axes (0, 2) of an (N, C, L) array
walk memory with strides. Here a channel's L-long rows are read in order and
every formula that shares a pass is computed in it: the two backward sums Σ gy
and Σ gy·x̂ in one read of gy and x, gx in one more.
Accumulators are float64, also for float32 data (a float32 sum over 128·32·32
values would lose about three digits).

Serial kernels with ``nogil=True``, each its own Python function, run on ranges
of the batch by ``kernels.cpu_threads``: the per-channel sums come back from each
range as float64 partials and are added in range order; see ``kernels/pool/cpu.py``
and ``shared/PERFORMANCE.md`` for why.
"""
import numba
import numpy as np

from kernels import cpu_threads


# The sums may be added in any order (fastmath "reassoc" only: NaN and inf still
# behave). A strict left-to-right float64 sum is one long chain of dependent adds,
# 4 cycles each; reordered, LLVM vectorises it. On the benchmark's largest input
# (128×32×32×32 float32, one thread): Σx 5.0 → 0.9 ms, Σ(x − μ)² 5.6 → 1.4 ms, the
# two backward sums 6.1 → 2.6 ms. Still the same result every run for a given
# build: the order is fixed at compile time.
@numba.njit(cache=True, nogil=True, fastmath={"reassoc"})
def _sums(x, mean, out):
    """out[ch] = Σ x (mean None) or Σ (x − mean[ch])² over images and pixels of x."""
    n, c, length = x.shape
    for ch in range(c):
        total = 0.0
        if mean is None:
            for b in range(n):
                for i in range(length):
                    total += x[b, ch, i]
        else:
            mu = mean[ch]
            for b in range(n):
                for i in range(length):
                    d = x[b, ch, i] - mu
                    total += d * d
        out[ch] = total


@numba.njit(cache=True, nogil=True)
def _affine(x, scale, shift, y):
    # y = γ·(x − μ)·inv_std + β = x·scale + shift, with scale and shift per channel
    n, c, length = x.shape
    for b in range(n):
        for ch in range(c):
            s, t = scale[ch], shift[ch]
            for i in range(length):
                y[b, ch, i] = x[b, ch, i] * s + t


@numba.njit(cache=True, nogil=True, fastmath={"reassoc"})
def _backward_sums(gy, x, mean, inv_std, sums):
    """sums[0, ch] = Σ gy, sums[1, ch] = Σ gy·x̂, in one read of gy and x."""
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
        sums[0, ch] = s1
        sums[1, ch] = s2


@numba.njit(cache=True, nogil=True)
def _backward_input(gy, x, mean, inv_std, weight, m, sum_gy, sum_gy_xhat, gx):
    # gx = (1/M)·γ·inv_std·(M·gy − Σ gy − x̂·Σ gy·x̂), M values per channel in the whole batch
    n, c, length = x.shape
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


def _summed_over_batch(x, work):
    """Σ work(b0, b1) over ranges of x's images run on ``kernels.cpu_threads``' threads,
    the partial sums added in range order (the same result every run)."""
    parts = cpu_threads.over_batch(x.shape[0], work, x.size)
    total = parts[0]
    for part in parts[1:]:
        total = total + part
    return total


def _channel_sums(x, mean=None):
    def images(b0, b1):
        out = np.empty(x.shape[1])  # float64
        _sums(x[b0:b1], mean, out)
        return out
    return _summed_over_batch(x, images)


def statistics(x):
    m = x.shape[0] * x.shape[2]
    mean = _channel_sums(x) / m
    # the second pass, Σ(x − μ)², stays accurate where E[x²] − μ² would cancel
    var = _channel_sums(x, mean) / m
    return mean.astype(x.dtype), var.astype(x.dtype)


def normalize(x, mean, var, weight, bias, eps):
    scale = np.ascontiguousarray((weight * _inv_std(var, eps)).astype(x.dtype, copy=False))
    shift = np.ascontiguousarray((bias - mean * scale).astype(x.dtype, copy=False))
    y = np.empty_like(x)
    cpu_threads.over_batch(x.shape[0], lambda b0, b1: _affine(x[b0:b1], scale, shift, y[b0:b1]), x.size)
    return y


def backward(gy, x, mean, var, weight, eps):
    inv_std = _inv_std(np.ascontiguousarray(var), eps)
    mean, weight = np.ascontiguousarray(mean), np.ascontiguousarray(weight)

    def sums(b0, b1):
        out = np.empty((2, x.shape[1]))  # float64
        _backward_sums(gy[b0:b1], x[b0:b1], mean, inv_std, out)
        return out

    sum_gy, sum_gy_xhat = _summed_over_batch(x, sums).astype(x.dtype)
    gx = np.empty_like(x)
    m = x.shape[0] * x.shape[2]
    cpu_threads.over_batch(x.shape[0], lambda b0, b1: _backward_input(
        gy[b0:b1], x[b0:b1], mean, inv_std, weight, m, sum_gy, sum_gy_xhat, gx[b0:b1]), x.size)
    return gx, sum_gy_xhat, sum_gy
