"""Pooling over the last two axes of an NCHW array: max (with argmax) and average.

    y, argmax = max_forward(x, kernel_size, stride=None, padding=0, dilation=1)
    gx = max_backward(gy, argmax, x.shape, kernel_size, stride, padding, dilation)
    y = avg_forward(x, kernel_size, stride=None, padding=0)
    gx = avg_backward(gy, x.shape, kernel_size, stride, padding)

x: (N, C, H, W); y, gy, argmax: (N, C, Ho, Wo) with
Ho = ⌊(H + 2·ph − dh·(kh − 1) − 1) / sh⌋ + 1 (and Wo alike). ``kernel_size``, ``stride``,
``padding`` and ``dilation`` are an int or an (h, w) pair; ``stride`` defaults to the
kernel (windows side by side), as in PyTorch. Dilation (max pooling only, as in
PyTorch) spaces a window's kh×kw taps dh rows and dw columns apart (Yu & Koltun 2016).

Max pooling pads with −∞ (a pad never wins); ``argmax`` holds, for every output,
the flat index h·W + w of the winning input in its (H, W) plane — PyTorch's
``return_indices`` convention, int64. It also takes integer arrays (forward only:
integers carry no gradient, as in PyTorch). Average pooling pads with zeros and divides
by kh·kw everywhere (PyTorch's ``count_include_pad=True``). As in PyTorch, padding
may be at most half the kernel, so every window holds at least one real input; with
dilation a window could still fall between the inputs, and such a geometry is refused.

These functions check their arguments and pick the face (``kernels.face``); the
faces (``reference``, ``cpu``, ``cuda``) assume checked input. Bad windows raise
``RuntimeError`` (a wrong type ``TypeError``), as PyTorch does.
"""
from kernels import face
from kernels.geometry import dilation_pair, output_size, pair, span, stride_and_padding


def window(op, kernel_size, stride=None, padding=0):
    """Check and normalise the window: ((kh, kw), (sh, sw), (ph, pw)). Used by the
    kernels and by ``nn.MaxPool2d``/``nn.AvgPool2d``, which refuse bad values at construction."""
    kernel = pair(kernel_size, "kernel_size", op)
    if min(kernel) <= 0:
        raise RuntimeError(f"{op}: kernel_size must be positive, got {kernel}")
    stride, padding = stride_and_padding(op, kernel if stride is None else stride, padding)
    if padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
        raise RuntimeError(f"{op}: padding {padding} must be at most half the kernel {kernel} "
                         f"(a window of padding alone would have nothing to pool)")
    return kernel, stride, padding


def pooled_shape(x_shape, kernel, stride, padding, dilation=(1, 1)):
    """(N, C, Ho, Wo) of pooling an (N, C, H, W) input with a valid window (no checks)."""
    n, c, h, w = x_shape
    return (n, c) + tuple(output_size(*args) for args in zip((h, w), kernel, stride, padding, dilation))


def _window_between_inputs(size, k, s, p, d, out):
    """The first output position whose k taps, d apart from i·s − p, all miss the input
    0 … size−1 (a window of padding alone), or None. Only dilation can make one."""
    for i in range(out):
        start = i * s - p
        first = max(0, -(-(-start) // d))  # the first tap at or after index 0
        if first >= k or start + first * d >= size:
            return i
    return None


def output_shape(op, x_shape, kernel, stride, padding, dilation=(1, 1)):
    """``pooled_shape`` after checking the rank, that the window fits in the padded input,
    and (with dilation) that every window holds an input."""
    if len(x_shape) != 4:
        raise ValueError(f"{op}: expects an (N, C, H, W) input, got shape {tuple(x_shape)}")
    n, c, h, w = x_shape
    spans = (span(kernel[0], dilation[0]), span(kernel[1], dilation[1]))
    if spans[0] > h + 2 * padding[0] or spans[1] > w + 2 * padding[1]:
        dilated = f" (dilation {dilation})" if dilation != (1, 1) else ""
        raise RuntimeError(f"{op}: kernel {kernel}{dilated} spanning {spans} is larger than the padded input "
                           f"({h} + 2·{padding[0]}, {w} + 2·{padding[1]}) of shape {tuple(x_shape)}")
    shape = pooled_shape(x_shape, kernel, stride, padding, dilation)
    if dilation != (1, 1):
        for axis, args in enumerate(zip((h, w), kernel, stride, padding, dilation, shape[2:])):
            i = _window_between_inputs(*args)
            if i is not None:
                raise RuntimeError(f"{op}: with kernel {kernel}, stride {stride}, padding {padding} and dilation "
                                   f"{dilation}, window {i} along the {('height', 'width')[axis]} reads only "
                                   f"padding (input of shape {tuple(x_shape)}): it has nothing to pool")
    return shape


def _check_max_input(op, x):
    """Max pooling takes float32/float64, and integers (its forward only) as PyTorch does."""
    if hasattr(x, "dtype") and x.dtype.kind in "iu" and x.dtype.isnative:
        return
    face.check_float(op, x)


def _check_gradient(op, gy, x_shape, geometry):
    expected = output_shape(op, tuple(x_shape), *geometry)
    if tuple(gy.shape) != expected:
        raise ValueError(f"{op}: gradient of shape {tuple(gy.shape)} does not match the pooled "
                         f"shape {expected} of an input of shape {tuple(x_shape)}")


def max_forward(x, kernel_size, stride=None, padding=0, dilation=1):
    """Max pooling: (y, argmax), both (N, C, Ho, Wo); argmax is int64, h·W + w.
    x may be float32, float64 or an integer dtype; y has x's dtype."""
    geometry = window("max_pool2d", kernel_size, stride, padding) + (dilation_pair("max_pool2d", dilation),)
    _check_max_input("max_pool2d", x)
    output_shape("max_pool2d", x.shape, *geometry)
    return face.module("pool", "max_pool2d", x).max_forward(x, *geometry)


def max_backward(gy, argmax, x_shape, kernel_size, stride=None, padding=0, dilation=1):
    """Gradient of max pooling: each gy goes to the input its window picked
    (summed where overlapping windows picked the same input). Returns (N, C, H, W)."""
    op = "max_pool2d backward"
    geometry = window(op, kernel_size, stride, padding) + (dilation_pair(op, dilation),)
    face.check_float("max_pool2d backward", gy)
    _check_gradient("max_pool2d backward", gy, x_shape, geometry)
    if tuple(argmax.shape) != tuple(gy.shape) or argmax.dtype.kind != "i":
        raise ValueError(f"max_pool2d backward: argmax must be integers of the gradient's shape "
                         f"{tuple(gy.shape)}, got {argmax.dtype} of shape {tuple(argmax.shape)}")
    return face.module("pool", "max_pool2d backward", gy, argmax).max_backward(gy, argmax, tuple(x_shape), *geometry)


def avg_forward(x, kernel_size, stride=None, padding=0):
    """Average pooling with zero padding counted in the average: (N, C, Ho, Wo)."""
    geometry = window("avg_pool2d", kernel_size, stride, padding)
    face.check_float("avg_pool2d", x)
    output_shape("avg_pool2d", x.shape, *geometry)
    return face.module("pool", "avg_pool2d", x).avg_forward(x, *geometry)


def avg_backward(gy, x_shape, kernel_size, stride=None, padding=0):
    """Gradient of average pooling: each gy spread evenly, gy / (kh·kw), over its
    window (padding's share dropped). Returns (N, C, H, W)."""
    geometry = window("avg_pool2d backward", kernel_size, stride, padding)
    face.check_float("avg_pool2d backward", gy)
    _check_gradient("avg_pool2d backward", gy, x_shape, geometry)
    return face.module("pool", "avg_pool2d backward", gy).avg_backward(gy, tuple(x_shape), *geometry)
