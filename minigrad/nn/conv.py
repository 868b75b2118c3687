"""``Conv2d``: a learnable 2-D convolution layer, with PyTorch's arguments, shapes,
default initialisation and state_dict names (``weight``, ``bias``)."""
import numbers

import numpy as np

from kernels.geometry import dilation_pair, pair, stride_and_padding
from minigrad import functional as F
from minigrad.nn import init
from minigrad.nn.module import Module, Parameter, factory_dtype


class Conv2d(Module):
    """y = conv2d(x, W, b, stride, padding, dilation, groups).

    x: (N, in_channels, H, W) → y: (N, out_channels, OH, OW).
    W: (out_channels, in_channels / groups, kh, kw), b: (out_channels,) — PyTorch's shapes,
    so its state_dict loads. kernel_size, stride, padding, dilation: an int or a pair
    (height, width); padding may also be "same" or "valid", and padding_mode "reflect",
    "replicate" or "circular" (as PyTorch). groups must divide both channel counts.
    Initialised as PyTorch does: U(−1/√fan_in, 1/√fan_in) for W and b,
    fan_in = (in_channels / groups)·kh·kw (``init.default_init_``).
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None, generator=None):
        super().__init__()
        dtype = factory_dtype(dtype)
        op = "Conv2d"
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"{op}: {name} must be a positive int, got {value!r}")
        # PyTorch's construction errors: ValueError (the functional form raises RuntimeError)
        if not isinstance(groups, numbers.Integral) or isinstance(groups, bool) or groups <= 0:
            raise ValueError(f"{op}: groups must be a positive integer, got {groups!r}")
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            if value % groups:
                raise ValueError(f"{op}: {name}={value} must be divisible by groups={groups}")
        self.dilation, self.groups = dilation_pair(op, dilation), int(groups)
        if padding_mode not in ("zeros", "reflect", "replicate", "circular"):
            raise ValueError(f"{op}: padding_mode must be 'zeros', 'reflect', 'replicate' or 'circular', "
                             f"got {padding_mode!r}")
        self.kernel_size = pair(kernel_size, "kernel_size", op)
        if min(self.kernel_size) <= 0:
            raise ValueError(f"{op}: kernel_size must be positive, got {self.kernel_size}")
        if padding in ("same", "valid"):
            self.stride = stride_and_padding(op, stride, 0)[0]
            if padding == "same" and self.stride != (1, 1):
                raise ValueError(f"{op}: padding='same' is not supported for strided convolutions (stride={stride})")
            if padding == "same" and padding_mode != "zeros":
                raise NotImplementedError(f"{op}: padding='same' with padding_mode={padding_mode!r}")
            self.padding = padding
        else:
            self.stride, self.padding = stride_and_padding(op, stride, padding)
        self.padding_mode = padding_mode
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.weight = Parameter(np.empty((self.out_channels, self.in_channels // self.groups) + self.kernel_size,
                                         dtype=dtype))
        self.bias = Parameter(np.empty(self.out_channels, dtype=dtype)) if bias else None
        self.generator = generator
        self.reset_parameters()
        if device is not None:
            self.to(device)

    def reset_parameters(self):
        """Draw the weights afresh, as at construction (PyTorch's default init)."""
        init.default_init_(self.weight, self.bias, self.generator)

    def forward(self, x):
        if self.padding_mode == "zeros" or isinstance(self.padding, str):
            return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)
        # PyTorch's other padding modes pad the input first, then convolve with no padding
        (ph, pw) = self.padding
        return F.conv2d(F.pad(x, (pw, pw, ph, ph), mode=self.padding_mode), self.weight, self.bias, self.stride, 0,
                        self.dilation, self.groups)

    def extra_repr(self):  # PyTorch's text: defaults left out, in its order
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text
