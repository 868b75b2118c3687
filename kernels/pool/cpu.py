"""Pooling on the CPU: one pass over the input with Numba, no padded copy.

The reference face pads a copy of x (``np.pad``) and loops in Python over output
positions, each step slicing a strided window out of all N·C planes. Here each
(image, channel) plane is walked once in compiled code, and a window that hangs
over the border simply skips the missing rows and columns, which is what a pad of
−∞ (max) or 0 (average) would contribute.

The kernels are serial (``nogil=True`` so a caller may run batch halves on two
threads): on these 2-core machines Numba's own thread pool fought OpenBLAS's and
lost more than it gained (``shared/PERFORMANCE.md``). Each kernel is its own Python
function, compiled once per dtype (float32, float64) and cached on disk.
"""
import numba
import numpy as np

from kernels.pool import pooled_shape



@numba.njit(cache=True, nogil=True)
def _max_forward(x, y, argmax, kh, kw, sh, sw, ph, pw):
    n, c, h, w = x.shape
    ho, wo = y.shape[2], y.shape[3]
    for b in range(n):
        for ch in range(c):
            for i in range(ho):
                top = i * sh - ph
                for j in range(wo):
                    left = j * sw - pw
                    best = -np.inf
                    where = -1
                    for r in range(max(top, 0), min(top + kh, h)):
                        for q in range(max(left, 0), min(left + kw, w)):
                            v = x[b, ch, r, q]
                            # the first maximum wins; the first NaN wins and stays (NumPy's argmax)
                            if where < 0 or v > best or (v != v and best == best):
                                best, where = v, r * w + q
                    y[b, ch, i, j] = best
                    argmax[b, ch, i, j] = where


@numba.njit(cache=True, nogil=True)
def _max_backward(gy, argmax, gx):
    # a scatter: serial, so two windows that picked the same input add up without a race
    n, c, ho, wo = gy.shape
    for b in range(n):
        for ch in range(c):
            plane = gx[b, ch]
            for i in range(ho):
                for j in range(wo):
                    plane[argmax[b, ch, i, j]] += gy[b, ch, i, j]


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


def max_forward(x, kernel, stride, padding):
    x = np.ascontiguousarray(x)
    shape = pooled_shape(x.shape, kernel, stride, padding)
    y = np.empty(shape, dtype=x.dtype)
    argmax = np.empty(shape, dtype=np.int64)
    _max_forward(x, y, argmax, *kernel, *stride, *padding)
    return y, argmax


def max_backward(gy, argmax, x_shape, kernel, stride, padding):
    # the scatter writes where argmax says: refuse indices outside the (H, W) plane
    # (only a hand-made argmax can have them) rather than write outside gx
    plane = x_shape[2] * x_shape[3]
    if argmax.size and (argmax.min() < 0 or argmax.max() >= plane):
        raise ValueError(f"max_pool2d backward: argmax values must lie in [0, {plane}) for an input "
                         f"of shape {x_shape}, got {argmax.min()} to {argmax.max()}")
    gx = np.zeros(x_shape, dtype=gy.dtype)
    _max_backward(np.ascontiguousarray(gy), np.ascontiguousarray(argmax.astype(np.int64, copy=False)), gx.reshape(x_shape[:2] + (plane,)))
    return gx


def avg_forward(x, kernel, stride, padding):
    x = np.ascontiguousarray(x)
    y = np.empty(pooled_shape(x.shape, kernel, stride, padding), dtype=x.dtype)
    _avg_forward(x, y, *kernel, *stride, *padding)
    return y


def avg_backward(gy, x_shape, kernel, stride, padding):
    gx = np.zeros(x_shape, dtype=gy.dtype)
    _avg_backward(np.ascontiguousarray(gy), gx, *kernel, *stride, *padding)
    return gx
