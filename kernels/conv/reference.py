"""The oracle: convolution as im2col + one matrix product, in plain NumPy, written to be read.

im2col ("image to columns") copies every receptive field into one row of a matrix:

    cols[(n, i, j), (c, p, q)] = x_pad[n, c, i·sh + p·dh, j·sw + q·dw]
    cols: (N·OH·OW, C_in·kh·kw)   one row per output pixel, one column per weight tap

(dh, dw: the dilation, the spacing of the taps; 1 for an ordinary convolution)

so that the convolution becomes a single GEMM with the weight flattened to
``w_mat = w.reshape(C_out, C_in·kh·kw)``:

    y_rows = cols @ w_matᵀ                  (N·OH·OW, C_out), then back to (N, C_out, OH, OW)

Both derivatives follow from the matrix product Y = C Wᵀ (gY the output gradient):

    gW = gYᵀ C          backward_weight: one more GEMM with the same cols
    gC = gY W           backward_data:   then col2im adds every row back onto
                        the input pixels it was copied from (receptive fields overlap,
                        so pixels used by several outputs collect several terms)
"""
import numpy as np

from kernels.geometry import output_size, span


def pad(x, padding):
    """Zero-pad the two spatial axes: (N, C, H, W) → (N, C, H + 2·ph, W + 2·pw)."""
    ph, pw = padding
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))


def field(i, j, kernel, stride, dilation):
    """The (rows, columns) slices of x_pad that output pixel (i, j) reads: kh rows dh
    apart from row i·sh, kw columns dw apart from column j·sw."""
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    return (slice(i * sh, i * sh + span(kh, dh), dh), slice(j * sw, j * sw + span(kw, dw), dw))


def im2col(x, kernel, stride, padding, dilation=(1, 1)):
    """x: (N, C, H, W) → cols: (N·OH·OW, C·kh·kw); row (n, i, j) is the receptive field
    of output pixel (i, j) of image n, flattened in the weight's (c, p, q) order."""
    (kh, kw), (sh, sw) = kernel, stride
    n, c, h, w = x.shape
    oh, ow = output_size(h, kh, sh, padding[0], dilation[0]), output_size(w, kw, sw, padding[1], dilation[1])
    x_pad = pad(x, padding)
    cols = np.empty((n, oh, ow, c * kh * kw), dtype=x.dtype)
    for b in range(n):
        for i in range(oh):
            for j in range(ow):
                cols[b, i, j] = x_pad[(b, slice(None)) + field(i, j, kernel, stride, dilation)].reshape(-1)
    return cols.reshape(n * oh * ow, c * kh * kw)


def col2im(cols, x_shape, kernel, stride, padding, dilation=(1, 1)):
    """The adjoint of im2col: cols (N·OH·OW, C·kh·kw) → (N, C, H, W), each row added
    back onto the receptive field it came from (overlaps sum), then the padding cut off."""
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    n, c, h, w = x_shape
    oh, ow = output_size(h, kh, sh, ph, dilation[0]), output_size(w, kw, sw, pw, dilation[1])
    g_pad = np.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=cols.dtype)
    fields = cols.reshape(n, oh, ow, c, kh, kw)
    for b in range(n):
        for i in range(oh):
            for j in range(ow):
                g_pad[(b, slice(None)) + field(i, j, kernel, stride, dilation)] += fields[b, i, j]
    return np.ascontiguousarray(g_pad[:, :, ph:ph + h, pw:pw + w])


def rows_to_nchw(rows, n, oh, ow):
    """(N·OH·OW, C) with one row per pixel → (N, C, OH, OW)."""
    # the channel count by name, not -1: with an empty batch (N = 0) -1 cannot be inferred
    return np.ascontiguousarray(rows.reshape(n, oh, ow, rows.shape[1]).transpose(0, 3, 1, 2))


def nchw_to_rows(y):
    """(N, C, OH, OW) → (N·OH·OW, C), the layout of the GEMM's output."""
    return y.transpose(0, 2, 3, 1).reshape(-1, y.shape[1])


def forward(x, w, b, stride, padding, dilation=(1, 1)):
    c_out, _, kh, kw = w.shape
    cols = im2col(x, (kh, kw), stride, padding, dilation)
    y_rows = cols @ w.reshape(c_out, -1).T
    n, _, h, wd = x.shape
    y = rows_to_nchw(y_rows, n, output_size(h, kh, stride[0], padding[0], dilation[0]),
                     output_size(wd, kw, stride[1], padding[1], dilation[1]))
    return y if b is None else y + b.reshape(1, c_out, 1, 1)


def backward_data(gy, w, x_shape, stride, padding, dilation=(1, 1)):
    c_out, _, kh, kw = w.shape
    g_cols = nchw_to_rows(gy) @ w.reshape(c_out, -1)   # gC = gY W
    return col2im(g_cols, x_shape, (kh, kw), stride, padding, dilation)


def backward_weight(gy, x, w_shape, stride, padding, dilation=(1, 1)):
    cols = im2col(x, w_shape[2:], stride, padding, dilation)
    return (nchw_to_rows(gy).T @ cols).reshape(w_shape)  # gW = gYᵀ C
