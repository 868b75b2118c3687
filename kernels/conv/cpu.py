"""The fast CPU face: im2col/col2im compiled with Numba, the GEMM by NumPy's BLAS.

Same layout as the reference (one im2col row per output pixel, columns in the weight's
(c, p, q) order), so ``y_rows = cols @ w_matᵀ`` is a (N·OH·OW × C_in·kh·kw) @
(C_in·kh·kw × C_out) product: tall and skinny, the "NHWC" GEMM that beat the
(C_out × K) @ (K × N·OH·OW) one in the probe of ``shared/PERFORMANCE.md``.

What the compiled loops buy over the reference: the reference pads a copy of x and
slices one receptive field per output pixel in Python; here the padding is a bounds
test inside the loop (no padded copy) and every element is one load and one store.

The Numba loops are serial on purpose. OpenBLAS already runs the GEMM on every core;
a second thread pool (``parallel=True``) spinning beside it was what made tiny kernels
take 4–10 ms in the probe (thread-pool contention, ``shared/PERFORMANCE.md``).
"""
import numba
import numpy as np

from kernels.conv import output_size


@numba.njit(cache=True)
def _im2col(x, kh, kw, sh, sw, ph, pw, cols):
    """cols[(n, i, j), (c, p, q)] = x[n, c, i·sh − ph + p, j·sw − pw + q], 0 outside x."""
    n, c, h, w = x.shape
    oh, ow = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    for b in range(n):
        for i in range(oh):
            for j in range(ow):
                row = (b * oh + i) * ow + j
                k = 0
                for ch in range(c):
                    for p in range(kh):
                        hh = i * sh - ph + p
                        for q in range(kw):
                            ww = j * sw - pw + q
                            if 0 <= hh < h and 0 <= ww < w:
                                cols[row, k] = x[b, ch, hh, ww]
                            else:
                                cols[row, k] = 0
                            k += 1


@numba.njit(cache=True)
def _col2im(cols, kh, kw, sh, sw, ph, pw, gx):
    """gx[n, c, i·sh − ph + p, j·sw − pw + q] += cols[(n, i, j), (c, p, q)]; gx starts at 0.
    Receptive fields overlap, so one input pixel collects the terms of every output
    pixel that saw it; taps that fell in the padding are dropped."""
    n, c, h, w = gx.shape
    oh, ow = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    for b in range(n):
        for i in range(oh):
            for j in range(ow):
                row = (b * oh + i) * ow + j
                k = 0
                for ch in range(c):
                    for p in range(kh):
                        hh = i * sh - ph + p
                        for q in range(kw):
                            ww = j * sw - pw + q
                            if 0 <= hh < h and 0 <= ww < w:
                                gx[b, ch, hh, ww] += cols[row, k]
                            k += 1


def im2col(x, kernel, stride, padding):
    """x: (N, C, H, W) → cols: (N·OH·OW, C·kh·kw), as ``reference.im2col``."""
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    n, c, h, w = x.shape
    rows = n * output_size(h, kh, sh, ph) * output_size(w, kw, sw, pw)
    cols = np.empty((rows, c * kh * kw), dtype=x.dtype)
    # contiguous input: one compiled variant per dtype, and row-major reads along W
    _im2col(np.ascontiguousarray(x), kh, kw, sh, sw, ph, pw, cols)
    return cols


def col2im(cols, x_shape, kernel, stride, padding):
    """cols: (N·OH·OW, C·kh·kw) → (N, C, H, W), as ``reference.col2im``."""
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    gx = np.zeros(x_shape, dtype=cols.dtype)
    _col2im(np.ascontiguousarray(cols), kh, kw, sh, sw, ph, pw, gx)
    return gx


def _gy_rows(gy):
    """(N, C_out, OH, OW) → (N·OH·OW, C_out), contiguous for BLAS."""
    return np.ascontiguousarray(gy.transpose(0, 2, 3, 1)).reshape(-1, gy.shape[1])


def forward(x, w, b, stride, padding):
    c_out, _, kh, kw = w.shape
    n, _, h, wd = x.shape
    oh, ow = output_size(h, kh, stride[0], padding[0]), output_size(wd, kw, stride[1], padding[1])
    y_rows = im2col(x, (kh, kw), stride, padding) @ w.reshape(c_out, -1).T
    # Back to NCHW in one strided pass that adds the bias on the way (no second pass over y).
    y = np.empty((n, c_out, oh, ow), dtype=x.dtype)
    pixels_last = y_rows.reshape(n, oh * ow, c_out).transpose(0, 2, 1)
    if b is None:
        np.copyto(y.reshape(n, c_out, oh * ow), pixels_last)
    else:
        np.add(pixels_last, b.reshape(1, c_out, 1), out=y.reshape(n, c_out, oh * ow))
    return y


def backward_data(gy, w, x_shape, stride, padding):
    c_out, _, kh, kw = w.shape
    g_cols = _gy_rows(gy) @ w.reshape(c_out, -1)   # gC = gY W
    return col2im(g_cols, x_shape, (kh, kw), stride, padding)


def backward_weight(gy, x, w_shape, stride, padding):
    cols = im2col(x, w_shape[2:], stride, padding)
    return (_gy_rows(gy).T @ cols).reshape(w_shape)  # gW = gYᵀ C
