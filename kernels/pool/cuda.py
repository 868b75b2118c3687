"""Pooling as ``numba.cuda`` kernels, one thread per array element.

The forwards give each output its own thread, which reads its window (skipping
the border, as a pad would contribute nothing). The backwards give each *input*
its own thread, which gathers from the outputs whose windows cover it: overlapping
windows (stride < kernel) then never write the same element, so there is no race
and no atomic add, and the sums come out in a fixed order (deterministic). For max
pooling a thread adds gy[o] only where argmax[o] names it; an argmax that names
no input is simply never gathered, so bad indices cannot write outside gx.

Dilation (max pooling only) spaces a window's taps dh, dw apart: the forward steps
through them, and the backward gathers from every output whose window's span
dh·(kh − 1) + 1 covers the input (a superset of those that read it; the argmax test
keeps only the one that picked it).

Every float in a kernel has the array's dtype (a float32 kernel does no float64
arithmetic, which runs at a fraction of float32's rate on most GPUs): the sums start
from ``zero`` and averages divide by ``area`` (kh·kw), both passed in that dtype, and
a maximum starts from an input of x (any one: the window's first tap replaces it)
rather than from −∞ (a Python float), which also keeps integer max pooling exact.
Divisions of indices go through ``cuda_launch.divmod32`` (32-bit).
"""
import numba
from numba import cuda

from kernels import cuda_launch
from kernels.geometry import span
from kernels.pool import pooled_shape


# Device helpers are inlined into each kernel ("always"): small index arithmetic, and
# compile_ptx can then type them without a GPU (a separately compiled device
# function asks the driver for the current device).
@cuda.jit(device=True, inline="always")
def _first_window(pos, pad, k, s):
    """The first output whose window covers input row (or column) ``pos``:
    the smallest i with i·s − pad + k > pos."""
    reach = pos + pad - k  # windows starting at or before this row end before pos
    return 0 if reach < 0 else cuda_launch.divmod32(reach, s)[0] + 1


@cuda.jit(device=True, inline="always")
def _last_window(pos, pad, s, n_out):
    """The last output whose window covers ``pos``: the largest i with i·s − pad ≤ pos."""
    return min(cuda_launch.divmod32(pos + pad, s)[0], n_out - 1)


@cuda.jit
def _max_forward(x, y, argmax, kh, kw, sh, sw, ph, pw, dh, dw):
    i = cuda.grid(1)
    n, c, ho, wo = y.shape
    if i >= n * c * ho * wo:
        return
    b, ch, oi, j = cuda_launch.unravel_nchw(i, c, ho, wo)
    h, w = x.shape[2], x.shape[3]
    top, left = oi * sh - ph, j * sw - pw
    best = x[b, ch, 0, 0]  # of x's dtype (integers too); the first tap read replaces it
    where = -1
    for p in range(kh):
        r = top + p * dh
        for t in range(kw):
            q = left + t * dw
            if 0 <= r < h and 0 <= q < w:  # taps on the padding are skipped: −∞ never wins
                v = x[b, ch, r, q]
                # the first maximum wins; the first NaN wins and stays (as the other faces)
                if where < 0 or v > best or (v != v and best == best):
                    best = v
                    where = r * w + q
    y[b, ch, oi, j] = best
    argmax[b, ch, oi, j] = where


@cuda.jit
def _max_backward(gy, argmax, gx, kh, kw, sh, sw, ph, pw, zero):
    i = cuda.grid(1)
    n, c, h, w = gx.shape
    if i >= n * c * h * w:
        return
    b, ch, r, q = cuda_launch.unravel_nchw(i, c, h, w)
    ho, wo = gy.shape[2], gy.shape[3]
    me = r * w + q
    total = zero
    for oi in range(_first_window(r, ph, kh, sh), _last_window(r, ph, sh, ho) + 1):
        for oj in range(_first_window(q, pw, kw, sw), _last_window(q, pw, sw, wo) + 1):
            if argmax[b, ch, oi, oj] == me:
                total += gy[b, ch, oi, oj]
    gx[b, ch, r, q] = total


@cuda.jit
def _avg_forward(x, y, kh, kw, sh, sw, ph, pw, zero, area):
    i = cuda.grid(1)
    n, c, ho, wo = y.shape
    if i >= n * c * ho * wo:
        return
    b, ch, oi, j = cuda_launch.unravel_nchw(i, c, ho, wo)
    h, w = x.shape[2], x.shape[3]
    top, left = oi * sh - ph, j * sw - pw
    total = zero
    for r in range(max(top, 0), min(top + kh, h)):
        for q in range(max(left, 0), min(left + kw, w)):
            total += x[b, ch, r, q]
    y[b, ch, oi, j] = total / area  # count_include_pad: the full window


@cuda.jit
def _avg_backward(gy, gx, kh, kw, sh, sw, ph, pw, zero, area):
    i = cuda.grid(1)
    n, c, h, w = gx.shape
    if i >= n * c * h * w:
        return
    b, ch, r, q = cuda_launch.unravel_nchw(i, c, h, w)
    ho, wo = gy.shape[2], gy.shape[3]
    total = zero
    for oi in range(_first_window(r, ph, kh, sh), _last_window(r, ph, sh, ho) + 1):
        for oj in range(_first_window(q, pw, kw, sw), _last_window(q, pw, sw, wo) + 1):
            total += gy[b, ch, oi, oj]
    gx[b, ch, r, q] = total / area


def _zero_and_area(like, kernel):
    """0 and kh·kw in ``like``'s dtype: NumPy scalars, so Numba types them float32 or float64."""
    real = like.dtype.type
    return real(0), real(kernel[0] * kernel[1])


def max_forward(x, kernel, stride, padding, dilation=(1, 1)):
    x = cuda_launch.contiguous(x)
    shape = pooled_shape(x.shape, kernel, stride, padding, dilation)
    y = cuda_launch.empty(shape, x.dtype, like=x)
    argmax = cuda_launch.empty(shape, "int64", like=x)
    cuda_launch.launch("max_pool2d", _max_forward, y.size, x, y, argmax, *kernel, *stride, *padding, *dilation)
    return y, argmax


def max_backward(gy, argmax, x_shape, kernel, stride, padding, dilation=(1, 1)):
    gx = cuda_launch.empty(x_shape, gy.dtype, like=gy)
    argmax = cuda_launch.contiguous(argmax.astype("int64", copy=False))
    # the window's span stands for the kernel: the outputs it names cover every one that read the input
    spans = (span(kernel[0], dilation[0]), span(kernel[1], dilation[1]))
    cuda_launch.launch("max_pool2d backward", _max_backward, gx.size, cuda_launch.contiguous(gy), argmax, gx,
                       *spans, *stride, *padding, gy.dtype.type(0))
    return gx


def avg_forward(x, kernel, stride, padding):
    x = cuda_launch.contiguous(x)
    y = cuda_launch.empty(pooled_shape(x.shape, kernel, stride, padding), x.dtype, like=x)
    cuda_launch.launch("avg_pool2d", _avg_forward, y.size, x, y, *kernel, *stride, *padding, *_zero_and_area(x, kernel))
    return y


def avg_backward(gy, x_shape, kernel, stride, padding):
    gx = cuda_launch.empty(x_shape, gy.dtype, like=gy)
    cuda_launch.launch("avg_pool2d backward", _avg_backward, gx.size, cuda_launch.contiguous(gy), gx,
                       *kernel, *stride, *padding, *_zero_and_area(gy, kernel))
    return gx


def _signatures(arrays, ints=6, scalars=0):
    """The float32 and float64 signatures of a kernel taking ``arrays``, ``ints`` ints (kh, kw, sh, sw,
    ph, pw[, dh, dw]), then ``scalars`` floats of the pooled dtype; "f" marks a float array of that
    dtype, "i" an int64 array (all 4-D, C order)."""
    out = []
    for real in (numba.float32, numba.float64):
        kinds = {"f": real[:, :, :, ::1], "i": numba.int64[:, :, :, ::1]}
        out.append(tuple(kinds[a] for a in arrays) + (numba.int64,) * ints + (real,) * scalars)
    return out


KERNELS = [
    (_max_forward, _signatures("ffi", ints=8)),
    (_max_backward, _signatures("fif", scalars=1)),
    (_avg_forward, _signatures("ff", scalars=2)),
    (_avg_backward, _signatures("ff", scalars=2)),
]
