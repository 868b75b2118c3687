"""Convolution geometries drawn by hypothesis, shared by the conv tests (kernels,
op, CUDA face). Every draw is valid: the kernel fits in the padded input."""
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

    @property
    def x_shape(self):
        return (self.n, self.c_in, self.h, self.w)

    @property
    def w_shape(self):
        return (self.c_out, self.c_in) + self.kernel

    @property
    def y_shape(self):
        (kh, kw), (sh, sw), (ph, pw) = self.kernel, self.stride, self.padding
        return (self.n, self.c_out, (self.h + 2 * ph - kh) // sh + 1, (self.w + 2 * pw - kw) // sw + 1)

    def arrays(self, dtype, seed):
        """x, w, b and an output gradient gy, standard normal, in ``dtype``."""
        rng = np.random.default_rng(seed)
        return tuple(rng.standard_normal(shape).astype(dtype)
                     for shape in (self.x_shape, self.w_shape, (self.c_out,), self.y_shape))


@st.composite
def cases(draw, max_batch=3, max_channels=3, max_kernel=4, max_stride=3, max_padding=2, max_extra=4):
    """A geometry: any kernel (1×1 included), stride (larger than the kernel too),
    padding, and an input from "kernel = padded input" up to a few pixels larger."""
    kernel = (draw(st.integers(1, max_kernel)), draw(st.integers(1, max_kernel)))
    stride = (draw(st.integers(1, max_stride)), draw(st.integers(1, max_stride)))
    padding = (draw(st.integers(0, max_padding)), draw(st.integers(0, max_padding)))
    h, w = (draw(st.integers(max(1, k - 2 * p), k + max_extra)) for k, p in zip(kernel, padding))
    return Case(draw(st.integers(1, max_batch)), draw(st.integers(1, max_channels)),
                draw(st.integers(1, max_channels)), h, w, kernel, stride, padding)
