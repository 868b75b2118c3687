"""Batch norm as ``numba.cuda`` kernels on (N, C, L) arrays.

The per-channel sums (the statistics, and the two backward sums) are reductions
over M = N·L values per channel. One block per channel would launch C blocks (32–64
for a small CNN) on a GPU with 100+ multiprocessors, most of which would sit idle, so
each channel is split between ``parts`` blocks (``_parts``: enough blocks in all to
fill the device) and the reduction runs in two launches:

1. ``_partial_sums`` / ``_backward_partial_sums``: block (part, channel) adds up the
   values k = part·THREADS + t, then every parts·THREADS-th one (neighbouring threads
   read neighbouring addresses, so the loads coalesce), writes each thread's sum to
   shared memory and folds the THREADS sums in half log₂(THREADS) times (a tree),
   with a barrier (``syncthreads``) between levels so no thread reads a sum another
   is still writing; thread 0 writes the block's sum to ``partial[channel, part]``.
2. ``_fold``: one block per channel adds its ``parts`` partial sums by the same tree.

No atomics: every sum is added in an order fixed by the launch shape, so a run gives
the same bits every time on a given device (a device with another multiprocessor
count may split the channels differently, and round differently in the last bits).

The sums accumulate in float64, also for float32 input: M reaches 10⁵–10⁶ values per
channel, and a float32 running sum would lose the small terms. These accumulators
are the only float64 arithmetic in the float32 kernels (``FLOAT64_ACCUMULATORS``;
``tests/test_cuda_ptx.py`` counts the rest: none). The values added are computed in
the input's dtype. The variance is a second pass over x around the mean, Σ (x − μ)²,
which stays accurate where E[x²] − μ² would cancel.

The elementwise steps (normalise, gx) use one thread per element. Each thread computes
its channel's √(σ² + eps) from var itself: a square root per element, which a
memory-bound kernel hides, where preparing per-channel scale and shift vectors first
would queue half a dozen small CuPy kernels, each costing the host more than the
device (on a GPU a small network's step is bound by the host's launches).
"""
import functools
import math

import numba
from numba import cuda

from kernels import cuda_launch, face
from kernels.cuda_launch import THREADS, divmod32

BLOCKS_PER_SM = 4  # reduction blocks to aim for per multiprocessor: enough to hide memory latency
SIMULATED_SMS = 132  # the simulator has no multiprocessors; an H100's count exercises the same split
FLOAT64_ACCUMULATORS = {
    "_partial_sums": "Σ x and Σ (x − μ)² per block",
    "_backward_partial_sums": "Σ gy and Σ gy·x̂ per block",
    "_fold": "the sum of a channel's partial sums",
}


@cuda.jit(device=True, inline="always")
def _block_sum(part, t, size):
    """Tree-reduce the block's ``part`` (``size`` values in shared memory, a power of 2)
    into part[0]. Every thread of the block must call it (it holds barriers); the
    caller has already synchronised after writing ``part``."""
    stride = size // 2
    while stride > 0:
        if t < stride:
            part[t] += part[t + stride]
        cuda.syncthreads()  # this level's sums are written before the next level reads them
        stride //= 2


@cuda.jit
def _partial_sums(x, center, squared, partial):
    """partial[ch, part] = Σ (x − center[ch]) over this block's share of channel ch,
    or Σ (x − center[ch])² when ``squared``."""
    part, ch = cuda.blockIdx.x, cuda.blockIdx.y
    t = cuda.threadIdx.x
    n, _, length = x.shape
    parts = partial.shape[1]
    acc = cuda.shared.array(THREADS, numba.float64)
    c = center[ch]
    total = 0.0
    k = part * THREADS + t
    while k < n * length:  # a while, not a range: range's trip count is a 64-bit division
        b, i = divmod32(k, length)
        d = x[b, ch, i] - c
        total += d * d if squared else d
        k += parts * THREADS
    acc[t] = total
    cuda.syncthreads()
    _block_sum(acc, t, THREADS)
    if t == 0:
        partial[ch, part] = acc[0]


@cuda.jit
def _backward_partial_sums(gy, x, mean, var, eps, partial_gy, partial_gy_xhat):
    """This block's share of Σ gy and Σ gy·x̂ for channel ch, x̂ = (x − μ)/√(σ² + eps)."""
    part, ch = cuda.blockIdx.x, cuda.blockIdx.y
    t = cuda.threadIdx.x
    n, _, length = x.shape
    parts = partial_gy.shape[1]
    acc_gy = cuda.shared.array(THREADS, numba.float64)
    acc_gy_xhat = cuda.shared.array(THREADS, numba.float64)
    mu, sd = mean[ch], math.sqrt(var[ch] + eps)
    s1 = 0.0
    s2 = 0.0
    k = part * THREADS + t
    while k < n * length:
        b, i = divmod32(k, length)
        g = gy[b, ch, i]
        s1 += g
        s2 += g * ((x[b, ch, i] - mu) / sd)
        k += parts * THREADS
    acc_gy[t] = s1
    acc_gy_xhat[t] = s2
    cuda.syncthreads()
    _block_sum(acc_gy, t, THREADS)
    _block_sum(acc_gy_xhat, t, THREADS)
    if t == 0:
        partial_gy[ch, part] = acc_gy[0]
        partial_gy_xhat[ch, part] = acc_gy_xhat[0]


@cuda.jit
def _fold(partial, scale, out):
    """out[ch] = scale · Σ partial[ch, :]: one block per channel, one thread per part
    (blockDim a power of 2, at most THREADS; threads past the last part add 0)."""
    ch, t = cuda.blockIdx.x, cuda.threadIdx.x
    acc = cuda.shared.array(THREADS, numba.float64)
    acc[t] = partial[ch, t] if t < partial.shape[1] else 0.0
    cuda.syncthreads()
    _block_sum(acc, t, cuda.blockDim.x)
    if t == 0:
        out[ch] = acc[0] * scale


@cuda.jit
def _normalize(x, mean, var, weight, bias, eps, y):
    # y = γ·(x − μ)/√(σ² + eps) + β; eps in x's dtype, so a float32 kernel stays in float32
    i = cuda.grid(1)
    n, c, length = x.shape
    if i < n * c * length:
        rest, j = divmod32(i, length)
        b, ch = divmod32(rest, c)
        y[b, ch, j] = weight[ch] * ((x[b, ch, j] - mean[ch]) / math.sqrt(var[ch] + eps)) + bias[ch]


@cuda.jit
def _backward_input(gy, x, mean, var, eps, weight, sum_gy, sum_gy_xhat, m, gx):
    # gx = (1/M)·γ·inv_std·(M·gy − Σ gy − x̂·Σ gy·x̂), inv_std = 1/sd; m is M in x's dtype
    i = cuda.grid(1)
    n, c, length = x.shape
    if i < n * c * length:
        rest, j = divmod32(i, length)
        b, ch = divmod32(rest, c)
        sd = math.sqrt(var[ch] + eps)
        x_hat = (x[b, ch, j] - mean[ch]) / sd
        gx[b, ch, j] = weight[ch] / sd / m * (m * gy[b, ch, j] - sum_gy[ch] - x_hat * sum_gy_xhat[ch])


def _multiprocessors():
    if cuda_launch.SIMULATED:
        return SIMULATED_SMS
    return _multiprocessors_of(face.cupy.cuda.runtime.getDevice())


@functools.lru_cache(maxsize=None)
def _multiprocessors_of(device):
    # asked once per device: CuPy's ``attributes`` queries every attribute of the device
    return face.cupy.cuda.Device(device).attributes["MultiProcessorCount"]


def _parts(channels, m):
    """Blocks per channel: about BLOCKS_PER_SM per multiprocessor in all, but no block
    without a value to add (at most ⌈M / THREADS⌉) and at most THREADS (``_fold`` is one block)."""
    want = math.ceil(BLOCKS_PER_SM * _multiprocessors() / channels)
    return max(1, min(want, math.ceil(m / THREADS), THREADS))


def _per_channel_sums(op, kernel, args, outputs):
    """Launch ``kernel(*args, *partials)`` on (parts, C) blocks, args[0] an (N, C, L) array,
    each partial a (C, parts) array of sums; then fold each partial into its ``outputs``
    entry, an (out, scale) pair: out[c] = scale · Σ partial[c, :]."""
    n, c, length = args[0].shape
    cuda_launch.check_index_range(op, *args)
    if c > cuda_launch.MAX_GRID_YZ:
        raise RuntimeError(f"{op}: {c} channels are more than one CUDA grid holds ({cuda_launch.MAX_GRID_YZ})")
    parts = _parts(c, n * length)
    partials = [cuda_launch.empty((c, parts), "float64", like=args[0]) for _ in outputs]
    cuda_launch.run(kernel, (parts, c), THREADS, *args, *partials)
    fold_threads = max(32, 1 << (parts - 1).bit_length())  # a power of 2 ≥ parts, a warp at least
    for partial, (out, scale) in zip(partials, outputs):
        cuda_launch.run(_fold, c, fold_threads, partial, scale, out)


def statistics(x):
    n, c, length = x.shape
    mean = cuda_launch.empty(c, x.dtype, like=x)
    var = cuda_launch.empty(c, x.dtype, like=x)
    op = "batch_norm statistics"
    _per_channel_sums(op, _partial_sums, (x, cuda_launch.zeros(c, x.dtype, like=x), False),
                      outputs=[(mean, 1 / (n * length))])
    _per_channel_sums(op, _partial_sums, (x, mean, True), outputs=[(var, 1 / (n * length))])
    return mean, var


def normalize(x, mean, var, weight, bias, eps):
    y = cuda_launch.empty(x.shape, x.dtype, like=x)
    vectors = [cuda_launch.contiguous(v) for v in (mean, var, weight, bias)]
    cuda_launch.launch("batch_norm", _normalize, x.size, x, *vectors, x.dtype.type(eps), y)
    return y


def backward(gy, x, mean, var, weight, eps):
    n, c, length = x.shape
    real = x.dtype.type
    mean, var = cuda_launch.contiguous(mean), cuda_launch.contiguous(var)
    sum_gy = cuda_launch.empty(c, x.dtype, like=x)
    sum_gy_xhat = cuda_launch.empty(c, x.dtype, like=x)
    _per_channel_sums("batch_norm backward", _backward_partial_sums, (gy, x, mean, var, real(eps)),
                      outputs=[(sum_gy, 1.0), (sum_gy_xhat, 1.0)])
    gx = cuda_launch.empty(x.shape, x.dtype, like=x)
    cuda_launch.launch("batch_norm backward", _backward_input, x.size, gy, x, mean, var, real(eps),
                       cuda_launch.contiguous(weight), sum_gy, sum_gy_xhat, real(n * length), gx)
    return gx, sum_gy_xhat, sum_gy


def _signatures(*arrays):
    """float32 and float64 signatures; "3" marks an (N, C, L) array, "1" a (C,) vector,
    "s" a scalar, all of the kernel's dtype; "P" a (C, parts) float64 array of partial
    sums, "d" a float64 scalar, "b" a boolean."""
    def one(real):
        kinds = {"3": real[:, :, ::1], "1": real[::1], "s": real, "P": numba.float64[:, ::1],
                 "d": numba.float64, "b": numba.boolean}
        return tuple(kinds[a] for a in arrays)
    return [one(numba.float32), one(numba.float64)]


KERNELS = [
    (_partial_sums, _signatures("3", "1", "b", "P")),
    (_backward_partial_sums, _signatures("3", "3", "1", "1", "s", "P", "P")),
    (_fold, _signatures("P", "d", "1")),
    (_normalize, _signatures("3", "1", "1", "1", "1", "s", "3")),
    (_backward_input, _signatures("3", "3", "1", "1", "s", "1", "1", "1", "s", "3")),
]
