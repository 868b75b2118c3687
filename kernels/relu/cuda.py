"""ReLU as ``numba.cuda`` kernels: one thread per element of the flattened array."""
import numba
from numba import cuda

from kernels import cuda_launch


@cuda.jit
def _forward(x, y):
    i = cuda.grid(1)
    if i < x.size:
        v = x[i]
        y[i] = 0 if v < 0 else v  # NaN < 0 is False: a NaN passes through, as on the CPU


@cuda.jit
def _backward(gy, y, gx):
    i = cuda.grid(1)
    if i < gy.size:
        gx[i] = gy[i] if y[i] > 0 else 0


def _flat(a):
    return cuda_launch.contiguous(a).reshape(-1)


def forward(x):
    y = cuda_launch.empty(x.shape, x.dtype, like=x)
    cuda_launch.launch("relu", _forward, x.size, _flat(x), y.reshape(-1))
    return y


def backward(gy, y):
    gx = cuda_launch.empty(gy.shape, gy.dtype, like=gy)
    cuda_launch.launch("relu backward", _backward, gy.size, _flat(gy), _flat(y), gx.reshape(-1))
    return gx


KERNELS = [
    (_forward, [(real[::1], real[::1]) for real in (numba.float32, numba.float64)]),
    (_backward, [(real[::1], real[::1], real[::1]) for real in (numba.float32, numba.float64)]),
]
