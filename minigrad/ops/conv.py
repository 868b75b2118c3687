"""2-D convolution, backed by our own kernels (``kernels.conv``).

    y = conv(x, w) + b       x: (N, C_in, H, W), w: (C_out, C_in / groups, kh, kw), b: (C_out,)

Its three derivatives are named kernels too (as in Chainer's convolution_2d):

    gx = backward_data(gy, w)      the transposed convolution of gy by w
    gw = backward_weight(gy, x)    the correlation of x with gy
    gb = Σ_{n,h,w} gy              each bias element is added to every pixel of its channel

The VJPs compute on raw arrays, so the node is first-order: asking for
``create_graph=True`` through it raises a clear error instead of a wrong answer.
When gw will be needed, the forward asks the kernels to keep its im2col columns for
backward_weight (kept on a GPU while memory allows; ``kernels.conv``).
"""
import kernels.conv
from minigrad.ops.base import check_devices
from minigrad.tensor import Tensor, is_grad_enabled, result


def conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """y: (N, C_out, OH, OW), OH = ⌊(H + 2·ph − dh·(kh − 1) − 1) / sh⌋ + 1 (likewise OW).
    w: (C_out, C_in / groups, kh, kw). stride, padding and dilation: an int or a pair
    (height, width); groups: how many independent channel groups (``kernels.conv``)."""
    tensors = (x, w) if b is None else (x, w, b)
    for name, t in zip(("input", "weight", "bias"), tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"conv2d: {name} must be a Tensor, got {type(t).__name__}")
    check_devices("conv2d", *tensors)
    geometry = (stride, padding, dilation, groups)
    arrays = (x.array, w.array, None if b is None else b.array, *geometry)
    if w.requires_grad and is_grad_enabled():
        y, columns = kernels.conv.forward(*arrays, keep_columns=True)
    else:
        y, columns = kernels.conv.forward(*arrays), None
    vjps = (lambda g, y: Tensor._wrap(kernels.conv.backward_data(g.array, w.array, x.shape, *geometry)),
            lambda g, y: Tensor._wrap(kernels.conv.backward_weight(g.array, x.array, w.shape, *geometry,
                                                                   columns=columns)),
            lambda g, y: Tensor._wrap(g.array.sum(axis=(0, 2, 3))))
    return result(y, "conv2d", tensors, vjps[:len(tensors)], first_order=True,
                  saved=(w,) * x.requires_grad + (x,) * w.requires_grad)
