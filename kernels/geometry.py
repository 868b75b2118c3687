"""The sliding-window arithmetic that convolution and pooling share: arguments given
as an int or an (h, w) pair, checked once, and the output length they give."""
import numbers


def pair(value, name, op):
    """An int or a pair of ints as a pair of Python ints (``3`` → ``(3, 3)``)."""
    values = (value, value) if isinstance(value, numbers.Integral) else tuple(value) \
        if isinstance(value, (tuple, list)) else None
    if values is None or len(values) != 2 or \
            not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in values):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    return int(values[0]), int(values[1])


def stride_and_padding(op, stride, padding):
    """Checked (sh, sw), (ph, pw): stride positive, padding non-negative. Also used by
    the layers (``nn.Conv2d``, ``nn.MaxPool2d`` …), which refuse bad values at construction."""
    stride, padding = pair(stride, "stride", op), pair(padding, "padding", op)
    if min(stride) <= 0:
        raise ValueError(f"{op}: stride must be positive, got {stride}")
    if min(padding) < 0:
        raise ValueError(f"{op}: padding must be non-negative, got {padding}")
    return stride, padding


def output_size(size, kernel, stride, padding):
    """Output length along one axis: how many kernel positions, ``stride`` apart,
    fit in the padded input of length ``size + 2·padding``."""
    return (size + 2 * padding - kernel) // stride + 1
