"""The CUDA face: im2col and col2im as ``numba.cuda`` kernels, the GEMM by CuPy (cuBLAS).

Same layout as the reference (one im2col row per output pixel, columns in the
weight's (c, p, q) order). Every kernel runs one thread per element of the array it
writes (``kernels.cuda_launch.launch``): thread t finds its (row, column) or
(n, c, h, w) by integer division of t, so neighbouring threads write neighbouring
addresses (coalesced stores).

* ``im2col_kernel``    one thread per element of cols: a gather from x (0 in the padding).
* ``col2im_kernel``    one thread per pixel of gx: it *gathers* the cols entries that
                       were copied from its pixel and sums them, so no two threads
                       write the same address and no atomics are needed (Caffe's col2im).
* ``rows_to_nchw_kernel``  the GEMM's (N·OH·OW, C_out) result into (N, C_out, OH, OW),
                       adding the bias in the same pass.

On a GPU the arrays are CuPy's and ``@`` is cuBLAS; under Numba's CUDA simulator
(``NUMBA_ENABLE_CUDASIM=1``) the same kernels run thread by thread on NumPy arrays
and ``@`` is NumPy's.
"""
import numba
from numba import cuda

from kernels import cuda_launch
from kernels.conv import output_size


@cuda.jit
def im2col_kernel(x, cols, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    t = cuda.grid(1)
    rows, k_total = cols.shape
    if t >= rows * k_total:
        return
    row, k = t // k_total, t % k_total
    b, i, j = row // (oh * ow), (row // ow) % oh, row % ow
    ch, p, q = k // (kh * kw), (k // kw) % kh, k % kw
    hh, ww = i * sh - ph + p * dh, j * sw - pw + q * dw  # taps dh, dw apart (dilation)
    if 0 <= hh < x.shape[2] and 0 <= ww < x.shape[3]:
        cols[row, k] = x[b, ch, hh, ww]
    else:
        cols[row, k] = 0


@cuda.jit
def col2im_kernel(cols, gx, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, zero):
    """gx[n, c, h, w] = Σ cols[(n, i, j), (c, p, q)] over the taps with i·sh − ph + p·dh = h
    and j·sw − pw + q·dw = w. ``zero`` is 0 in gx's dtype, so a float32 kernel adds in float32."""
    t = cuda.grid(1)
    n, c, h, w = gx.shape
    if t >= n * c * h * w:
        return
    b, ch, hh, ww = cuda_launch.unravel_nchw(t, c, h, w)
    total = zero
    for p in range(kh):
        hp = hh + ph - p * dh  # = i·sh for the output row i whose tap p lands on hh
        if hp < 0 or hp % sh != 0 or hp // sh >= oh:
            continue
        i = hp // sh
        for q in range(kw):
            wq = ww + pw - q * dw
            if wq < 0 or wq % sw != 0 or wq // sw >= ow:
                continue
            total += cols[(b * oh + i) * ow + wq // sw, (ch * kh + p) * kw + q]
    gx[b, ch, hh, ww] = total


@cuda.jit
def rows_to_nchw_kernel(y_rows, bias, y):
    """y[n, o, i, j] = y_rows[(n, i, j), o] + bias[o]."""
    t = cuda.grid(1)
    n, c_out, oh, ow = y.shape
    if t >= n * c_out * oh * ow:
        return
    b, o, pixel = t // (c_out * oh * ow), (t // (oh * ow)) % c_out, t % (oh * ow)
    y[b, o, pixel // ow, pixel % ow] = y_rows[b * oh * ow + pixel, o] + bias[o]


def _signatures(*layouts):
    """One signature per dtype: ``layouts`` maps each argument to an array rank or,
    for 0, to an int64 (a size) or to a scalar of the dtype ("scalar")."""
    def one(dtype):
        types = []
        for layout in layouts:
            if layout == "scalar":
                types.append(dtype)
            elif layout == 0:
                types.append(numba.int64)
            else:
                types.append(dtype[(slice(None),) * (layout - 1) + (slice(None, None, 1),)])
        return tuple(types)
    return [one(numba.float32), one(numba.float64)]


# (kernel, [float32 signature, float64 signature]) for tests/test_cuda_ptx.py
KERNELS = [
    (im2col_kernel, _signatures(4, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)),
    (col2im_kernel, _signatures(2, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, "scalar")),
    (rows_to_nchw_kernel, _signatures(2, 1, 4)),
]


def im2col(x, kernel, stride, padding, dilation):
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    n, c, h, w = x.shape
    oh, ow = output_size(h, kh, sh, ph, dh), output_size(w, kw, sw, pw, dw)
    cols = cuda_launch.empty((n * oh * ow, c * kh * kw), x.dtype, like=x)
    cuda_launch.launch(im2col_kernel, cols.size, cuda_launch.contiguous(x), cols, kh, kw, sh, sw, ph, pw, dh, dw,
                       oh, ow)
    return cols


def col2im(cols, x_shape, kernel, stride, padding, dilation):
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    _, _, h, w = x_shape
    oh, ow = output_size(h, kh, sh, ph, dh), output_size(w, kw, sw, pw, dw)
    gx = cuda_launch.empty(x_shape, cols.dtype, like=cols)
    cuda_launch.launch(col2im_kernel, gx.size, cuda_launch.contiguous(cols), gx, kh, kw, sh, sw, ph, pw, dh, dw,
                       oh, ow, cols.dtype.type(0))
    return gx


def _gy_rows(gy):
    """(N, C_out, OH, OW) → (N·OH·OW, C_out), contiguous for cuBLAS (CuPy's transpose copy)."""
    return cuda_launch.contiguous(gy.transpose(0, 2, 3, 1)).reshape(-1, gy.shape[1])


def forward(x, w, b, stride, padding, dilation=(1, 1)):
    c_out, _, kh, kw = w.shape
    n, _, h, wd = x.shape
    oh, ow = output_size(h, kh, stride[0], padding[0], dilation[0]), output_size(wd, kw, stride[1], padding[1],
                                                                                 dilation[1])
    y_rows = im2col(x, (kh, kw), stride, padding, dilation) @ w.reshape(c_out, -1).T
    bias = cuda_launch.zeros((c_out,), x.dtype, like=x) if b is None else cuda_launch.contiguous(b)
    y = cuda_launch.empty((n, c_out, oh, ow), x.dtype, like=x)
    cuda_launch.launch(rows_to_nchw_kernel, y.size, cuda_launch.contiguous(y_rows), bias, y)
    return y


def backward_data(gy, w, x_shape, stride, padding, dilation=(1, 1)):
    c_out, _, kh, kw = w.shape
    g_cols = _gy_rows(gy) @ w.reshape(c_out, -1)   # gC = gY W
    return col2im(g_cols, x_shape, (kh, kw), stride, padding, dilation)


def backward_weight(gy, x, w_shape, stride, padding, dilation=(1, 1)):
    cols = im2col(x, w_shape[2:], stride, padding, dilation)
    return (_gy_rows(gy).T @ cols).reshape(w_shape)  # gW = gYᵀ C
