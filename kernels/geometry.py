"""The sliding-window arithmetic that convolution and pooling share: arguments given
as an int or an (h, w) pair, checked once, and the output length they give.

A bad value raises ``RuntimeError`` (a wrong type ``TypeError``), PyTorch's classes for
the same mistakes, with a message naming the op and the value."""
import numbers


def pair(value, name, op):
    """An int or a pair of ints as a pair of Python ints (``3`` → ``(3, 3)``)."""
    if type(value) is int:  # the usual argument, without the abstract-class checks below (every call pays them)
        return value, value
    if type(value) is tuple and len(value) == 2 and type(value[0]) is int and type(value[1]) is int:
        return value
    values = (value, value) if isinstance(value, numbers.Integral) else tuple(value) \
        if isinstance(value, (tuple, list)) else None
    if values is None or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in values):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    if len(values) != 2:  # ints, but not two of them: PyTorch's RuntimeError
        raise RuntimeError(f"{op}: {name} must be an int or a pair of ints, got {len(values)} values {value!r}")
    return int(values[0]), int(values[1])


def stride_and_padding(op, stride, padding):
    """Checked (sh, sw), (ph, pw): stride positive, padding non-negative. Also used by
    the layers (``nn.Conv2d``, ``nn.MaxPool2d`` …), which refuse bad values at construction."""
    stride, padding = pair(stride, "stride", op), pair(padding, "padding", op)
    if min(stride) <= 0:
        raise RuntimeError(f"{op}: stride must be positive, got {stride}")
    if min(padding) < 0:
        raise RuntimeError(f"{op}: padding must be non-negative, got {padding}")
    return stride, padding


def dilation_pair(op, dilation):
    """Checked (dh, dw), both positive: the spacing between a window's taps."""
    dilation = pair(dilation, "dilation", op)
    if min(dilation) <= 0:
        raise RuntimeError(f"{op}: dilation must be positive, got {dilation}")
    return dilation


def span(kernel, dilation=1):
    """How many input rows (or columns) one window covers: k taps, d apart, reach
    d·(k − 1) + 1 (the "effective kernel" of a dilated convolution, Yu & Koltun 2016)."""
    return dilation * (kernel - 1) + 1


def output_size(size, kernel, stride, padding, dilation=1):
    """Output length along one axis: how many windows, ``stride`` apart, fit in the
    padded input of length ``size + 2·padding`` — PyTorch's
    ⌊(size + 2·padding − dilation·(kernel − 1) − 1) / stride⌋ + 1."""
    return (size + 2 * padding - span(kernel, dilation)) // stride + 1
