"""im2col and col2im, the rearrangements under a convolution (the Caffe way): ``im2col``
lays every kh×kw window of an image out as one column, ``col2im`` adds the columns back into
an image (overlapping taps summed). They are torch's ``F.unfold`` and ``F.fold``, and each
is the other's adjoint, so each one's VJP is the other.

Shapes: images (N, C, H, W); columns (N, C·kh·kw, L) with L = OH·OW windows, the column
entries ordered channel, then kernel row, then kernel column, as torch's.
"""
from kernels.geometry import output_size
from minigrad import backend
from minigrad.ops.shape import getitem, permute, reshape, unfold
from minigrad.tensor import result


def _zero_pad(x, ph, pw):
    """x (N, C, H, W) with ph zero rows above and below and pw zero columns on each side."""
    if not (ph or pw):
        return x
    data = backend.xp(x.array).pad(x.array, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    h, w = x.shape[2], x.shape[3]
    return result(data, "pad", (x,), (lambda g, y: getitem(g, (slice(None), slice(None), slice(ph, ph + h),
                                                                 slice(pw, pw + w))),))


def im2col(x, kernel, dilation, padding, stride):
    """(N, C, H, W) → (N, C·kh·kw, OH·OW): each window, its taps ``dilation`` apart, as a
    column. Built from padding, ``unfold`` (strided windows) and a transpose, so its
    gradient (col2im) and second derivative come from those ops."""
    (kh, kw), (dh, dw), (ph, pw), (sh, sw) = kernel, dilation, padding, stride
    n, c = x.shape[0], x.shape[1]
    windows = unfold(unfold(_zero_pad(x, ph, pw), 2, dh * (kh - 1) + 1, sh), 3, dw * (kw - 1) + 1, sw)
    taps = getitem(windows, (Ellipsis, slice(None, None, dh), slice(None, None, dw)))  # (N, C, OH, OW, kh, kw)
    oh, ow = taps.shape[2], taps.shape[3]
    return reshape(permute(taps, (0, 1, 4, 5, 2, 3)), (n, c * kh * kw, oh * ow))


def col2im(cols, image_size, kernel, dilation, padding, stride):
    """(N, C·kh·kw, OH·OW) → (N, C, H, W) for H, W = ``image_size``: every column added back
    where its window lies (the sum over overlapping windows), padding cut off. Its VJP is
    im2col of the gradient."""
    (h, w), (kh, kw), (dh, dw), (ph, pw), (sh, sw) = image_size, kernel, dilation, padding, stride
    n, rows, _ = cols.shape
    c = rows // (kh * kw)
    oh, ow = output_size(h, kh, sh, ph, dh), output_size(w, kw, sw, pw, dw)
    blocks = cols.array.reshape(n, c, kh, kw, oh, ow)
    image = backend.xp(cols.array).zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=cols.array.dtype)
    for p in range(kh):
        for q in range(kw):  # tap (p, q) of window (i, j) lands on row i·sh + p·dh, column j·sw + q·dw
            image[:, :, p * dh:p * dh + sh * (oh - 1) + 1:sh, q * dw:q * dw + sw * (ow - 1) + 1:sw] += \
                blocks[:, :, p, q]
    image = image[:, :, ph:ph + h, pw:pw + w]
    return result(backend.xp(image).ascontiguousarray(image), "col2im", (cols,),
                  (lambda g, y: im2col(g, kernel, dilation, padding, stride),))
