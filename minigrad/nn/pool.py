"""Pooling layers: ``MaxPool2d``, ``MaxUnpool2d``, ``AvgPool2d``, the adaptive ones (and
im2col's ``Unfold``/``Fold``), with PyTorch's
arguments and defaults (``stride=None`` means the kernel size). Bad windows are refused
here, at construction, not at the first forward."""
import kernels.pool
from kernels.geometry import dilation_pair, pair
from minigrad import functional as F
from minigrad.nn.module import Module


class _Pool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False):
        super().__init__()
        kernels.pool.window(type(self).__name__, kernel_size, stride, padding)
        self.kernel_size, self.stride, self.padding = kernel_size, kernel_size if stride is None else stride, padding
        self.ceil_mode = ceil_mode

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    """(N, C, H, W) → (N, C, Ho, Wo): the largest value of each window, its taps
    ``dilation`` apart; with return_indices=True also the winners' positions, for
    ``MaxUnpool2d`` (``F.max_pool2d``)."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__(kernel_size, stride, padding, ceil_mode)
        dilation_pair("MaxPool2d", dilation)
        self.dilation, self.return_indices = dilation, return_indices

    def forward(self, x):
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                            self.return_indices)

    def extra_repr(self):  # PyTorch's text
        return super().extra_repr() + f", dilation={self.dilation}, ceil_mode={self.ceil_mode}"


class MaxUnpool2d(Module):
    """(N, C, H, W) values and their ``MaxPool2d(return_indices=True)`` indices →
    (N, C, Ho, Wo), zeros except at the indices (``F.max_unpool2d``).
    Ho = (H − 1)·stride − 2·padding + kernel_size unless ``output_size`` is given
    to ``forward`` (to undo a pool whose input size the default does not recover)."""

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        op = "MaxUnpool2d"
        self.kernel_size = pair(kernel_size, "kernel_size", op)  # pairs, as PyTorch stores (and prints) them
        self.stride = self.kernel_size if stride is None else pair(stride, "stride", op)
        self.padding = pair(padding, "padding", op)

    def forward(self, input, indices, output_size=None):
        return F.max_unpool2d(input, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(_Pool2d):
    """(N, C, H, W) → (N, C, Ho, Wo): the mean of each window; zero padding counted
    unless count_include_pad=False (``F.avg_pool2d``)."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__(kernel_size, stride, padding, ceil_mode)
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, x):
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)


class AdaptiveAvgPool2d(Module):
    """(N, C, H, W) or (C, H, W) → (…, Ho, Wo) for any H, W: ``output_size`` is an int or
    an (Ho, Wo) pair (``None`` keeps that input size). ``AdaptiveAvgPool2d((1, 1))`` is
    ResNet's global average pool, which lets one network take any image size."""

    def __init__(self, output_size):
        super().__init__()
        F._adaptive_output_size(output_size, (1, 1))  # refuse a bad size now (None → 1 is always valid)
        self.output_size = output_size

    def forward(self, x):
        return F.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(Module):
    """(N, C, H, W) or (C, H, W) → (…, Ho, Wo) by the largest value of each adaptive window
    (``F.adaptive_max_pool2d``); ``return_indices`` also gives each maximum's flat position."""

    def __init__(self, output_size, return_indices=False):
        super().__init__()
        F._adaptive_output_size(output_size, (1, 1))  # refuse a bad size now
        self.output_size, self.return_indices = output_size, return_indices

    def forward(self, x):
        return F.adaptive_max_pool2d(x, self.output_size, self.return_indices)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class Unfold(Module):
    """im2col as a layer (``F.unfold``): (N, C, H, W) → (N, C·kh·kw, L)."""

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def forward(self, x):
        return F.unfold(x, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, stride={self.stride}"


class Fold(Module):
    """col2im as a layer (``F.fold``): (N, C·kh·kw, L) → (N, C, H, W), overlaps summed."""

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, x):
        return F.fold(x, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")
