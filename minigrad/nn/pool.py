"""Pooling layers: ``MaxPool2d`` and ``AvgPool2d``, with PyTorch's arguments and
defaults (``stride=None`` means the kernel size). Bad windows are refused here,
at construction, not at the first forward."""
import kernels.pool
from kernels.geometry import pair
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
    """(N, C, H, W) → (N, C, Ho, Wo): the largest value of each window. dilation other
    than 1 and return_indices are refused (``F.max_pool2d``)."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__(kernel_size, stride, padding, ceil_mode)
        F._refuse("MaxPool2d", "dilation", pair(dilation, "dilation", "MaxPool2d"), (1, 1))
        F._refuse("MaxPool2d", "return_indices", return_indices, False)

    def forward(self, x):
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding, ceil_mode=self.ceil_mode)

    def extra_repr(self):  # PyTorch's text
        return super().extra_repr() + f", dilation=1, ceil_mode={self.ceil_mode}"


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
