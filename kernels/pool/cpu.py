"""Pooling on the CPU: one pass over the input with Numba, no padded copy.

The reference face pads a copy of x (``np.pad``) and loops in Python over output
positions, each step slicing a strided window out of all N·C planes. Here each
(image, channel) plane is walked once in compiled code, and a window that hangs
over the border simply skips the missing rows and columns, which is what a pad of
−∞ (max) or 0 (average) would contribute.

The kernels are serial and release the GIL (``nogil=True``); each call splits its
batch over ``kernels.cpu_threads``, one range of images per core. On these 2-core
machines Numba's own thread pool fought OpenBLAS's and lost more than it gained
(``shared/PERFORMANCE.md``). Each kernel is its own Python
function, compiled once per dtype (float32, float64; max pooling's forward also for
the integer dtypes it meets) and cached on disk.

Dilation (max pooling only, as PyTorch) walks a window's rows and columns with a step
of dh and dw instead of 1; the clipping to the input is the same, on the first and
last tap that land inside it.
"""
import numba
import numpy as np

from kernels import cpu_threads
from kernels.pool import pooled_shape



# Max pooling: a plain `v > best` compare keeps the loop tight (the first maximum
# wins, as in PyTorch). NaN must win too (it propagates), but testing for it inside
# the compare made the 2×2 loop 6× slower (15 ms vs 2.5 ms at 128×32×32×32, in one
# process). Instead each window's values are also summed:
# the sum is NaN exactly when the window holds a NaN (or both +inf and −inf), and
# only then does `_first_nan` look again — the first NaN wins, as NumPy's argmax.
@numba.njit(cache=True, nogil=True)
def _first_nan(plane, r0, rows, dh, q0, cols, dw):
    """Flat index r·W + q of the first NaN among the rows r0 + p·dh (p < rows) and the
    columns q0 + t·dw (t < cols) of plane, in row-major order, or −1."""
    for p in range(rows):
        r = r0 + p * dh
        for t in range(cols):
            q = q0 + t * dw
            if plane[r, q] != plane[r, q]:
                return r * plane.shape[1] + q
    return -1


@numba.njit(cache=True, nogil=True)
def _inside(start, k, d, size):
    """(first index, count) of a window's taps start + t·d (t = 0 … k−1) that lie inside
    0 … size−1. Undilated windows skip the divisions: with them (and a stepped range
    loop) 3×3 windows at stride 2 took 6–11 ms instead of 5–6 (128×32×16×16 float32, one
    thread's CPU time, a loaded machine); without, 5–9 against 5–9, noise."""
    if d == 1:
        first = max(start, 0)
        return first, min(start + k, size) - first
    t0 = 0 if start >= 0 else (-start + d - 1) // d  # the first tap at or after 0
    t1 = min(k - 1, (size - 1 - start) // d)  # the last tap before size
    return start + t0 * d, t1 - t0 + 1


@numba.njit(cache=True, nogil=True)
def _max_forward(x, y, argmax, kh, kw, sh, sw, ph, pw, dh, dw):
    n, c, h, w = x.shape
    ho, wo = y.shape[2], y.shape[3]
    for b in range(n):
        for ch in range(c):
            plane = x[b, ch]
            for i in range(ho):
                r0, rows = _inside(i * sh - ph, kh, dh, h)
                for j in range(wo):
                    q0, cols = _inside(j * sw - pw, kw, dw, w)
                    # start from the window's first real input (padding ≤ kernel/2
                    # guarantees one), so the loop needs no "nothing seen yet" test.
                    # With the NaN test moved out: 10 → 2.5 ms at 128×32×16×16, 2×2
                    # windows (17 → 3.7 ms for 3×3, stride 2, padding 1)
                    best = plane[r0, q0]
                    where = r0 * w + q0
                    total = 0.0
                    for p in range(rows):
                        r = r0 + p * dh
                        for t in range(cols):
                            q = q0 + t * dw
                            v = plane[r, q]
                            total += v
                            if v > best:
                                best = v
                                where = r * w + q
                    if total != total:
                        nan = _first_nan(plane, r0, rows, dh, q0, cols, dw)
                        if nan >= 0:
                            best, where = plane[nan // w, nan % w], nan
                    y[b, ch, i, j] = best
                    argmax[b, ch, i, j] = where


@numba.njit(cache=True, nogil=True)
def _max_forward_2x2(x, y, argmax):
    # The CNNs' usual pool (2×2 windows, stride 2, no padding) with the window
    # unrolled: four loads, three compares, no loop bounds to compute per output.
    # 0.6 ms instead of 2.5 ms (the general kernel) at 128×32×16×16 float32, about
    # the time of copying the input once (0.5 ms).
    n, c, h, w = x.shape
    ho, wo = y.shape[2], y.shape[3]
    for b in range(n):
        for ch in range(c):
            plane = x[b, ch]
            for i in range(ho):
                upper, lower = plane[2 * i], plane[2 * i + 1]
                y_row, argmax_row = y[b, ch, i], argmax[b, ch, i]
                start = 2 * i * w
                for j in range(wo):
                    q = 2 * j
                    v0, v1, v2, v3 = upper[q], upper[q + 1], lower[q], lower[q + 1]
                    best, where = v0, start + q
                    if v1 > best:
                        best, where = v1, start + q + 1
                    if v2 > best:
                        best, where = v2, start + w + q
                    if v3 > best:
                        best, where = v3, start + w + q + 1
                    total = (v0 + v1) + (v2 + v3)
                    if total != total:
                        nan = _first_nan(plane, 2 * i, 2, 1, q, 2, 1)
                        if nan >= 0:
                            best, where = plane[nan // w, nan % w], nan
                    y_row[j] = best
                    argmax_row[j] = where


@numba.njit(cache=True, nogil=True)
def _max_backward(gy, argmax, gx):
    # A scatter: serial, so two windows that picked the same input add up without a
    # race. Indices outside the (H, W) plane (only a hand-made argmax has them) are
    # counted and skipped, never written: the caller raises if there were any.
    n, c, ho, wo = gy.shape
    plane_size = gx.shape[2]
    bad = 0
    for b in range(n):
        for ch in range(c):
            plane = gx[b, ch]
            for i in range(ho):
                for j in range(wo):
                    m = argmax[b, ch, i, j]
                    if 0 <= m < plane_size:
                        plane[m] += gy[b, ch, i, j]
                    else:
                        bad += 1
    return bad


@numba.njit(cache=True, nogil=True)
def _avg_forward(x, y, kh, kw, sh, sw, ph, pw):
    n, c, h, w = x.shape
    ho, wo = y.shape[2], y.shape[3]
    scale = 1.0 / (kh * kw)  # count_include_pad: always the full window
    for b in range(n):
        for ch in range(c):
            for i in range(ho):
                top = i * sh - ph
                for j in range(wo):
                    left = j * sw - pw
                    total = 0.0  # a float64 accumulator, also for float32 data
                    for r in range(max(top, 0), min(top + kh, h)):
                        for q in range(max(left, 0), min(left + kw, w)):
                            total += x[b, ch, r, q]
                    y[b, ch, i, j] = total * scale


@numba.njit(cache=True, nogil=True)
def _avg_backward(gy, gx, kh, kw, sh, sw, ph, pw):
    n, c, h, w = gx.shape
    ho, wo = gy.shape[2], gy.shape[3]
    scale = 1.0 / (kh * kw)
    for b in range(n):
        for ch in range(c):
            for i in range(ho):
                top = i * sh - ph
                for j in range(wo):
                    left = j * sw - pw
                    share = gy[b, ch, i, j] * scale
                    for r in range(max(top, 0), min(top + kh, h)):
                        for q in range(max(left, 0), min(left + kw, w)):
                            gx[b, ch, r, q] += share


def max_forward(x, kernel, stride, padding, dilation=(1, 1)):
    x = np.ascontiguousarray(x)
    shape = pooled_shape(x.shape, kernel, stride, padding, dilation)
    y = np.empty(shape, dtype=x.dtype)
    argmax = np.empty(shape, dtype=np.int64)
    if kernel == stride == (2, 2) and padding == (0, 0) and dilation == (1, 1):
        work = lambda b0, b1: _max_forward_2x2(x[b0:b1], y[b0:b1], argmax[b0:b1])  # noqa: E731
    else:
        work = lambda b0, b1: _max_forward(x[b0:b1], y[b0:b1], argmax[b0:b1], *kernel, *stride, *padding,  # noqa: E731
                                           *dilation)
    cpu_threads.over_batch(x.shape[0], work, x.size)
    return y, argmax


def max_backward(gy, argmax, x_shape, kernel, stride, padding, dilation=(1, 1)):
    gy, argmax = np.ascontiguousarray(gy), np.ascontiguousarray(argmax.astype(np.int64, copy=False))
    plane = x_shape[2] * x_shape[3]
    gx = np.empty(x_shape[:2] + (plane,), dtype=gy.dtype)

    def images(b0, b1):  # each thread zeroes and fills its own images: no two write one element
        gx[b0:b1] = 0
        return _max_backward(gy[b0:b1], argmax[b0:b1], gx[b0:b1])

    bad = sum(cpu_threads.over_batch(x_shape[0], images, gx.size))
    if bad:
        raise ValueError(f"max_pool2d backward: argmax values must lie in [0, {plane}) for an input "
                         f"of shape {x_shape}; {bad} of {argmax.size} do not")
    return gx.reshape(x_shape)


def avg_forward(x, kernel, stride, padding):
    x = np.ascontiguousarray(x)
    y = np.empty(pooled_shape(x.shape, kernel, stride, padding), dtype=x.dtype)
    cpu_threads.over_batch(x.shape[0], lambda b0, b1: _avg_forward(x[b0:b1], y[b0:b1], *kernel, *stride, *padding),
                           x.size)
    return y


def avg_backward(gy, x_shape, kernel, stride, padding):
    gy = np.ascontiguousarray(gy)
    gx = np.empty(x_shape, dtype=gy.dtype)

    def images(b0, b1):
        gx[b0:b1] = 0
        _avg_backward(gy[b0:b1], gx[b0:b1], *kernel, *stride, *padding)

    cpu_threads.over_batch(x_shape[0], images, gx.size)
    return gx
