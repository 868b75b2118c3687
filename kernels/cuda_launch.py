"""Launching ``numba.cuda`` kernels on CuPy's arrays and CuPy's stream.

Every CUDA face uses these helpers, so grid sizing, allocation, stream choice and
the index-range check live in one place. Under Numba's CUDA simulator the same
kernels run on NumPy arrays (each simulated thread is a Python thread: keep shapes
small there).

**32-bit indices.** A thread finds its (n, c, h, w) by integer division of its flat
index. Numba types integers as 64-bit, and a 64-bit division is a software routine
on a GPU (dozens of instructions; the compiler adds a run-time test that falls back
to the 32-bit instruction when both operands happen to fit). Every kernel therefore
divides through ``divmod32``, in unsigned 32-bit arithmetic, which is only exact
while every index stays below 2³¹: ``check_index_range`` refuses larger arrays
before a kernel runs (PyTorch's kernels make the same test, ``canUse32BitIndexMath``).
"""
import math

import numba
from numba import cuda

from kernels import face

THREADS = 256  # threads per block: a multiple of the 32-thread warp, enough to hide latency
INDEX_LIMIT = 2**31  # every flat index a kernel computes is below this (see divmod32)
MAX_GRID_YZ = 65535  # CUDA's limit on gridDim.y and gridDim.z (gridDim.x may reach 2³¹ − 1)


# Device helpers are inlined ("always") so that compile_ptx can type them without a
# GPU: a separately compiled device function asks the driver for the current device.
@cuda.jit(device=True, inline="always")
def divmod32(a, b):
    """(a // b, a % b) for 0 ≤ a < 2³¹ and 0 < b < 2³¹, divided in unsigned 32-bit
    arithmetic (one hardware division, where int64 operands would call a software
    routine). The results come back as int64, so the index arithmetic that follows
    may go negative (a window hanging over the padding) without wrapping around."""
    a, b = numba.uint32(a), numba.uint32(b)
    return numba.int64(a // b), numba.int64(a % b)


@cuda.jit(device=True, inline="always")
def unravel_nchw(i, c, h, w):
    """The (n, c, h, w) coordinates of flat index ``i`` in a row-major (N, C, H, W)
    array: what a one-thread-per-element kernel computes first."""
    rest, j = divmod32(i, w)
    rest, r = divmod32(rest, h)
    b, ch = divmod32(rest, c)
    return b, ch, r, j


def check_index_range(op, *arrays):
    """Refuse arrays too large for the kernels' 32-bit index arithmetic (``divmod32``):
    a clear error naming the op and the size, instead of indices that wrap around."""
    for a in arrays:
        size = a if isinstance(a, int) else getattr(a, "size", None)
        if size is not None and size >= INDEX_LIMIT:
            raise RuntimeError(f"{op}: an array of {size:,} elements is too large for the CUDA kernels, "
                               f"which index in 32 bits (at most {INDEX_LIMIT - 1:,} elements); "
                               f"split the batch into smaller ones")


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


def free_bytes(like):
    """Device memory still free for ``like``'s device: the driver's free memory plus the
    blocks CuPy's pool holds unused (infinite under the simulator, which has no device)."""
    if not face.is_cupy(like):
        return math.inf
    free, _ = face.cupy.cuda.runtime.memGetInfo()
    pool = face.cupy.get_default_memory_pool()
    return free + pool.total_bytes() - pool.used_bytes()


def run(kernel, grid, block, *args):
    """Launch ``kernel[grid, block]`` on CuPy's current stream (``stream``).

    A CuPy array passed to a Numba kernel as it is goes through the CUDA Array
    Interface, whose consumer waits for the array's stream to finish (Numba's
    ``CUDA_ARRAY_INTERFACE_SYNC``): a host sync per array per launch, which would
    leave the GPU idle between our kernels. Our kernels run on that same stream, in
    order after the work that wrote their inputs, so the wait buys nothing: each
    CuPy array is wrapped without it (``cuda.as_cuda_array(a, sync=False)``)."""
    if not face.simulated():
        args = [cuda.as_cuda_array(a, sync=False) if face.is_cupy(a) else a for a in args]
    kernel[grid, block, stream()](*args)


def launch(op, kernel, n, *args):
    """Run ``kernel`` with one thread per item, ``n`` items: ``ceil(n / THREADS)``
    blocks of ``THREADS`` threads; each thread checks ``i < n`` itself. ``op`` names
    the operation in the error raised when an array is too large (``check_index_range``)."""
    check_index_range(op, n, *args)
    if n == 0:
        return
    run(kernel, math.ceil(n / THREADS), THREADS, *args)


def contiguous(array):
    """C-contiguous view or copy: kernels index flat memory in row-major order."""
    return face.xp(array).ascontiguousarray(array)
