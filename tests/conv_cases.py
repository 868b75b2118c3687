"""Convolution geometries drawn by hypothesis, shared by the conv tests (kernels,
op, CUDA face). Every draw is valid: the (dilated) kernel fits in the padded input."""
from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st


@dataclass(frozen=True)
class Case:
    n: int
    c_in: int
    c_out: int
    h: int
    w: int
    kernel: tuple
    stride: tuple
    padding: tuple
    dilation: tuple = (1, 1)
    groups: int = 1

    @property
    def geometry(self):
        """(stride, padding, dilation, groups), the trailing arguments of every conv function."""
        return self.stride, self.padding, self.dilation, self.groups

    @property
    def x_shape(self):
        return (self.n, self.c_in, self.h, self.w)

    @property
    def w_shape(self):
        return (self.c_out, self.c_in // self.groups) + self.kernel

    @property
    def y_shape(self):
        sizes = [(size + 2 * p - d * (k - 1) - 1) // s + 1
                 for size, k, s, p, d in zip((self.h, self.w), self.kernel, self.stride, self.padding, self.dilation)]
        return (self.n, self.c_out) + tuple(sizes)

    def arrays(self, dtype, seed):
        """x, w, b and an output gradient gy, standard normal, in ``dtype``."""
        rng = np.random.default_rng(seed)
        return tuple(rng.standard_normal(shape).astype(dtype)
                     for shape in (self.x_shape, self.w_shape, (self.c_out,), self.y_shape))


@st.composite
def cases(draw, max_batch=3, max_channels=3, max_kernel=4, max_stride=3, max_padding=2, max_extra=4,
          max_dilation=1, max_groups=1):
    """A geometry: any kernel (1×1 included), stride (larger than the kernel too),
    padding, dilation up to ``max_dilation``, groups up to ``max_groups`` (each group
    1 … max_channels channels in and out), and an input from "kernel = padded input"
    up to a few pixels larger."""
    kernel = (draw(st.integers(1, max_kernel)), draw(st.integers(1, max_kernel)))
    stride = (draw(st.integers(1, max_stride)), draw(st.integers(1, max_stride)))
    padding = (draw(st.integers(0, max_padding)), draw(st.integers(0, max_padding)))
    dilation = (draw(st.integers(1, max_dilation)), draw(st.integers(1, max_dilation)))
    groups = draw(st.integers(1, max_groups))
    spans = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    h, w = (draw(st.integers(max(1, s - 2 * p), s + max_extra)) for s, p in zip(spans, padding))
    return Case(draw(st.integers(1, max_batch)), groups * draw(st.integers(1, max_channels)),
                groups * draw(st.integers(1, max_channels)), h, w, kernel, stride, padding, dilation, groups)
