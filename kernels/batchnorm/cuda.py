"""Batch norm as ``numba.cuda`` kernels on (N, C, L) arrays.

The per-channel sums (the statistics, and the two backward sums) are reductions:
one block of ``THREADS`` threads per channel. Each thread first adds up every
THREADS-th value of its channel (a block-stride loop: neighbouring threads read
neighbouring addresses, so the loads coalesce), writes its partial sum into
shared memory, and the block then folds the THREADS partial sums in half log₂(THREADS)
times (a tree reduction), with a barrier (``syncthreads``) between the steps so
no thread reads a partial sum another is still writing. No atomics, and the
result does not depend on thread timing. Sums are accumulated in float64.

The elementwise steps (normalise, gx) use one thread per element.
"""
import numba
from numba import cuda

from kernels import cuda_launch, face
from kernels.cuda_launch import THREADS


@cuda.jit(device=True, inline="always")
def _block_sum(part, t):
    """Tree-reduce the block's ``part`` (THREADS values in shared memory) into
    part[0]. Every thread of the block must call it (it holds barriers); the caller
    has already synchronised after writing ``part``."""
    stride = THREADS // 2
    while stride > 0:
        if t < stride:
            part[t] += part[t + stride]
        cuda.syncthreads()  # this level's sums are written before the next level reads them
        stride //= 2


@cuda.jit
def _statistics(x, mean, var):
    ch = cuda.blockIdx.x  # one block per channel
    t = cuda.threadIdx.x
    n, _, length = x.shape
    m = n * length
    part = cuda.shared.array(THREADS, numba.float64)
    mu = 0.0
    # pass 0: Σ x → μ; pass 1: Σ (x − μ)² → σ² (two passes stay accurate where
    # E[x²] − μ² would cancel)
    for phase in range(2):
        total = 0.0
        for k in range(t, m, THREADS):
            v = x[k // length, ch, k % length]
            total += v if phase == 0 else (v - mu) * (v - mu)
        part[t] = total
        cuda.syncthreads()
        _block_sum(part, t)
        result = part[0] / m
        cuda.syncthreads()  # everyone has read part[0] before the next pass overwrites part
        if phase == 0:
            mu = result
        elif t == 0:
            mean[ch] = mu
            var[ch] = result


@cuda.jit
def _backward_sums(gy, x, mean, inv_std, sum_gy, sum_gy_xhat):
    ch = cuda.blockIdx.x
    t = cuda.threadIdx.x
    n, _, length = x.shape
    part_gy = cuda.shared.array(THREADS, numba.float64)
    part_gy_xhat = cuda.shared.array(THREADS, numba.float64)
    mu, inv = mean[ch], inv_std[ch]
    s1 = 0.0
    s2 = 0.0
    for k in range(t, n * length, THREADS):
        b, i = k // length, k % length
        g = gy[b, ch, i]
        s1 += g
        s2 += g * (x[b, ch, i] - mu) * inv
    part_gy[t] = s1
    part_gy_xhat[t] = s2
    cuda.syncthreads()
    _block_sum(part_gy, t)
    _block_sum(part_gy_xhat, t)
    if t == 0:
        sum_gy[ch] = part_gy[0]
        sum_gy_xhat[ch] = part_gy_xhat[0]


@cuda.jit
def _affine(x, scale, shift, y):
    # y = x·scale + shift, with scale = γ·inv_std and shift = β − μ·scale per channel
    i = cuda.grid(1)
    n, c, length = x.shape
    if i < n * c * length:
        b, rest = i // (c * length), i % (c * length)
        ch, j = rest // length, rest % length
        y[b, ch, j] = x[b, ch, j] * scale[ch] + shift[ch]


@cuda.jit
def _backward_input(gy, x, mean, inv_std, weight, sum_gy, sum_gy_xhat, gx):
    # gx = (1/M)·γ·inv_std·(M·gy − Σ gy − x̂·Σ gy·x̂)
    i = cuda.grid(1)
    n, c, length = x.shape
    if i < n * c * length:
        m = n * length
        b, rest = i // (c * length), i % (c * length)
        ch, j = rest // length, rest % length
        k = inv_std[ch]
        x_hat = (x[b, ch, j] - mean[ch]) * k
        gx[b, ch, j] = weight[ch] * k / m * (m * gy[b, ch, j] - sum_gy[ch] - x_hat * sum_gy_xhat[ch])


def _per_channel(kernel, channels, *args):
    """One block of THREADS threads per channel (the reductions' launch shape)."""
    kernel[channels, THREADS, cuda_launch.stream()](*args)


def _inv_std(var, eps):
    xp = face.xp(var)
    return cuda_launch.contiguous((1 / xp.sqrt(var + eps)).astype(var.dtype, copy=False))


def statistics(x):
    c = x.shape[1]
    mean = cuda_launch.empty(c, x.dtype, like=x)
    var = cuda_launch.empty(c, x.dtype, like=x)
    _per_channel(_statistics, c, x, mean, var)
    return mean, var


def normalize(x, mean, var, weight, bias, eps):
    scale = (weight * _inv_std(var, eps)).astype(x.dtype, copy=False)
    shift = (bias - mean * scale).astype(x.dtype, copy=False)
    y = cuda_launch.empty(x.shape, x.dtype, like=x)
    cuda_launch.launch(_affine, x.size, x, cuda_launch.contiguous(scale), cuda_launch.contiguous(shift), y)
    return y


def backward(gy, x, mean, var, weight, eps):
    c = x.shape[1]
    inv_std = _inv_std(var, eps)
    mean = cuda_launch.contiguous(mean)
    sum_gy = cuda_launch.empty(c, x.dtype, like=x)
    sum_gy_xhat = cuda_launch.empty(c, x.dtype, like=x)
    _per_channel(_backward_sums, c, gy, x, mean, inv_std, sum_gy, sum_gy_xhat)
    gx = cuda_launch.empty(x.shape, x.dtype, like=x)
    cuda_launch.launch(_backward_input, x.size, gy, x, mean, inv_std, cuda_launch.contiguous(weight),
                       sum_gy, sum_gy_xhat, gx)
    return gx, sum_gy_xhat, sum_gy


def _signatures(*arrays):
    """float32 and float64 signatures; "3" marks an (N, C, L) array, "1" a (C,) vector."""
    return [tuple(real[:, :, ::1] if a == "3" else real[::1] for a in arrays)
            for real in (numba.float32, numba.float64)]


KERNELS = [
    (_statistics, _signatures("3", "1", "1")),
    (_backward_sums, _signatures("3", "3", "1", "1", "1", "1")),
    (_affine, _signatures("3", "1", "1", "3")),
    (_backward_input, _signatures("3", "3", "1", "1", "1", "1", "1", "3")),
]
