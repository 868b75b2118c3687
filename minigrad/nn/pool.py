"""Pooling layers: ``MaxPool2d`` and ``AvgPool2d``, with PyTorch's arguments and
defaults (``stride=None`` means the kernel size). Bad windows are refused here,
at construction, not at the first forward."""
import kernels.pool
from minigrad import functional as F
from minigrad.nn.module import Module


class _Pool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        kernels.pool.window(type(self).__name__, kernel_size, stride, padding)
        self.kernel_size, self.stride, self.padding = kernel_size, kernel_size if stride is None else stride, padding

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    """(N, C, H, W) → (N, C, Ho, Wo): the largest value of each window."""

    def forward(self, x):
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding)


class AvgPool2d(_Pool2d):
    """(N, C, H, W) → (N, C, Ho, Wo): the mean of each window, zero padding counted."""

    def forward(self, x):
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding)
