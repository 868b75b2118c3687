"""Launching ``numba.cuda`` kernels on CuPy's arrays and CuPy's stream.

Every CUDA face uses these three helpers, so grid sizing, allocation and stream
choice live in one place. Under Numba's CUDA simulator the same kernels run on
NumPy arrays (each simulated thread is a Python thread: keep shapes small there).
"""
import math

from numba import cuda

from kernels import face

THREADS = 256  # threads per block: a multiple of the 32-thread warp, enough to hide latency


# Inlined ("always") so that compile_ptx can type it without a GPU: a separately
# compiled device function asks the driver for the current device.
@cuda.jit(device=True, inline="always")
def unravel_nchw(i, c, h, w):
    """The (n, c, h, w) coordinates of flat index ``i`` in a row-major (N, C, H, W)
    array: what a one-thread-per-element kernel computes first."""
    return i // (c * h * w), (i // (h * w)) % c, (i // w) % h, i % w


def stream():
    """CuPy's current stream as a Numba stream, so our kernels queue behind (and
    before) CuPy's own work in order, without a device-wide synchronisation."""
    if face.cupy is None or face.simulated():
        return cuda.default_stream()
    ptr = face.cupy.cuda.get_current_stream().ptr
    return cuda.default_stream() if ptr == 0 else cuda.external_stream(ptr)


def empty(shape, dtype, like):
    """An uninitialised output on ``like``'s device (CuPy on a GPU, NumPy in the simulator)."""
    return face.xp(like).empty(shape, dtype=dtype)


def zeros(shape, dtype, like):
    return face.xp(like).zeros(shape, dtype=dtype)


def launch(kernel, n, *args):
    """Run ``kernel`` with one thread per item, ``n`` items: ``ceil(n / THREADS)``
    blocks of ``THREADS`` threads; each thread checks ``i < n`` itself."""
    if n == 0:
        return
    blocks = math.ceil(n / THREADS)
    kernel[blocks, THREADS, stream()](*args)


def contiguous(array):
    """C-contiguous view or copy: kernels index flat memory in row-major order."""
    return face.xp(array).ascontiguousarray(array)

