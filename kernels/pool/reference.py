"""Pooling in plain NumPy, written to be read: the oracle for the other faces.

One loop over the output positions (i, j); each step looks at the window
x_pad[:, :, i·sh : i·sh + kh, j·sw : j·sw + kw] for every image and channel at once
(x_pad: x padded with zeros for averages; for maxima the window is clipped instead).
"""
import numpy as np

from kernels.geometry import output_size


def _padded(x, padding, value):
    ph, pw = padding
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=value)


def _taps(start, k, d, size):
    """The input indices a window's k taps read, d apart from ``start``, that lie
    inside 0 … size−1."""
    taps = start + d * np.arange(k)
    return taps[(taps >= 0) & (taps < size)]


def max_forward(x, kernel, stride, padding, dilation=(1, 1)):
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    ho, wo = output_size(h, kh, sh, ph, dh), output_size(w, kw, sw, pw, dw)
    y = np.empty((n, c, ho, wo), dtype=x.dtype)
    argmax = np.empty((n, c, ho, wo), dtype=np.int64)
    for i in range(ho):
        for j in range(wo):
            # the window's taps in input coordinates, those in the padding left out: a
            # padding of −∞ would never win, so leaving it out gives the same maximum (and
            # an argmax that always names a real input, even where x itself is −∞)
            rows, cols = _taps(i * sh - ph, kh, dh, h), _taps(j * sw - pw, kw, dw, w)
            patch = x[:, :, rows][:, :, :, cols].reshape(n, c, -1)
            k = patch.argmax(axis=2)  # first maximum in row-major window order (first NaN)
            y[:, :, i, j] = np.take_along_axis(patch, k[..., None], axis=2)[..., 0]
            argmax[:, :, i, j] = rows[k // len(cols)] * w + cols[k % len(cols)]  # h·W + w in the plane
    return y, argmax


def max_backward(gy, argmax, x_shape, kernel, stride, padding, dilation=(1, 1)):
    # y[o] = x[argmax[o]], so ∂L/∂x[m] = Σ over outputs o with argmax[o] = m of gy[o]
    n, c, h, w = x_shape
    gx = np.zeros((n, c, h * w), dtype=gy.dtype)
    for b in range(n):
        for ch in range(c):
            np.add.at(gx[b, ch], argmax[b, ch].ravel(), gy[b, ch].ravel())  # add.at sums repeats
    return gx.reshape(x_shape)


def avg_forward(x, kernel, stride, padding):
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), _ = kernel, stride, padding
    ho, wo = output_size(h, kh, sh, padding[0]), output_size(w, kw, sw, padding[1])
    xp = _padded(x, padding, 0)
    y = np.empty((n, c, ho, wo), dtype=x.dtype)
    for i in range(ho):
        for j in range(wo):
            # count_include_pad: the zeros of the padding count in the average
            y[:, :, i, j] = xp[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw].sum(axis=(2, 3)) / (kh * kw)
    return y


def avg_backward(gy, x_shape, kernel, stride, padding):
    # y[o] = (1/(kh·kw)) Σ_window x, so each input in the window gets gy[o] / (kh·kw)
    n, c, h, w = x_shape
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    gxp = np.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=gy.dtype)
    for i in range(gy.shape[2]):
        for j in range(gy.shape[3]):
            gxp[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw] += gy[:, :, i, j, None, None] / (kh * kw)
    return np.ascontiguousarray(gxp[:, :, ph:ph + h, pw:pw + w])  # the padding's share is dropped
