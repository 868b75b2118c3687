"""``Conv2d``: a learnable 2-D convolution layer, with PyTorch's arguments, shapes,
default initialisation and state_dict names (``weight``, ``bias``)."""
import numpy as np

from kernels.geometry import pair, stride_and_padding
from minigrad import functional as F
from minigrad.nn import init
from minigrad.nn.module import Module, Parameter


class Conv2d(Module):
    """y = conv2d(x, W, b, stride, padding).

    x: (N, in_channels, H, W) → y: (N, out_channels, OH, OW).
    W: (out_channels, in_channels, kh, kw), b: (out_channels,).
    kernel_size, stride, padding: an int or a pair (height, width).
    Initialised as PyTorch does: U(−1/√fan_in, 1/√fan_in) for W and b,
    fan_in = in_channels·kh·kw (``init.default_init_``).
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True,
                 dtype=np.float32, generator=None):
        super().__init__()
        op = "Conv2d"
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"{op}: {name} must be a positive int, got {value!r}")
        self.kernel_size = pair(kernel_size, "kernel_size", op)
        if min(self.kernel_size) <= 0:
            raise ValueError(f"{op}: kernel_size must be positive, got {self.kernel_size}")
        self.stride, self.padding = stride_and_padding(op, stride, padding)
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.weight = Parameter(np.empty((self.out_channels, self.in_channels) + self.kernel_size, dtype=dtype))
        self.bias = Parameter(np.empty(self.out_channels, dtype=dtype)) if bias else None
        init.default_init_(self.weight, self.bias, generator)

    def forward(self, x):
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding)

    def extra_repr(self):
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}")
        return text if self.bias is not None else text + ", bias=False"
