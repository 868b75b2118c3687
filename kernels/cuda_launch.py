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

**The host's work per launch.** On a GPU a small network's step is bound by the Python
that runs before each launch, so ``run`` keeps it short: the Numba stream for CuPy's
current stream is made once per (device, stream) (``stream``), which also lets Numba reuse
its launch configuration for a (grid, block, stream); and each kernel is specialised
once per argument types (``specialized``), so a launch skips the type inference Numba's
dispatcher otherwise runs on every argument of every call.
"""
import math

import numba
from numba import cuda

from kernels import face

THREADS = 256  # threads per block: a multiple of the 32-thread warp, enough to hide latency
INDEX_LIMIT = 2**31  # every flat index a kernel computes is below this (see divmod32)
MAX_GRID_YZ = 65535  # CUDA's limit on gridDim.y and gridDim.z (gridDim.x may reach 2³¹ − 1)
CACHE_SIZE = 256  # entries each launch cache (streams, specialisations) holds at most: more than a network uses
# Numba settles the simulator when it is first imported (above), so reading it once here is exact
SIMULATED = face.simulated()


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


def remember(cache, key, value):
    """``cache[key] = value``, emptying ``cache`` first once it holds CACHE_SIZE entries: a
    program that meets ever new keys (streams, argument types) cannot grow it without end,
    and an entry forgotten is only made again (Numba keeps its compilations itself)."""
    if len(cache) >= CACHE_SIZE:
        cache.clear()
    cache[key] = value
    return value


_streams = {}  # (device, CuPy stream handle) → Numba stream


def device():
    """The current CUDA device's number (CuPy's), or None under the simulator."""
    return None if face.cupy is None or SIMULATED else face.cupy.cuda.runtime.getDevice()


def stream(on=None):
    """CuPy's current stream on device ``on`` (default: ``device()``) as a Numba stream,
    so our kernels queue behind (and before) CuPy's own work in order, without a
    device-wide synchronisation.

    One Numba stream per (device, stream handle), made on first use: a fresh wrapper per
    launch would cost a context lookup, and Numba caches a launch configuration by its
    stream object, so a new one per launch would defeat that cache too. A handle CUDA
    reuses for a later stream still names a stream of that device: the wrapper holds
    nothing but the handle."""
    if face.cupy is None or SIMULATED:
        return cuda.default_stream()
    ptr = face.cupy.cuda.get_current_stream().ptr  # 0: CuPy's default (null) stream
    key = (device() if on is None else on, ptr)
    found = _streams.get(key)
    if found is None:
        found = remember(_streams, key, cuda.default_stream() if ptr == 0 else cuda.external_stream(ptr))
    return found


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


def argument_types(args):
    """What Numba's dispatcher would type ``args`` as, in the few facts that decide it:
    for an array its dtype, rank, layout ("C", "F" or "A", by Numba's rule: an array
    with a zero stride, a broadcast, is "A"), whether it is writable and aligned; for
    anything else its Python type (an int is int64, a NumPy scalar its dtype, a bool a
    boolean). Two argument lists with one key have one Numba type
    (``tests/test_cuda_launch_cache.py`` checks it against ``numba.typeof``)."""
    key = []
    for a in args:
        strides = getattr(a, "strides", None)
        if strides is None:
            key.append(type(a))
            continue
        flags = a.flags
        if 0 in strides and a.size != 0:
            layout = "A"
        else:
            layout = "C" if flags.c_contiguous else "F" if flags.f_contiguous else "A"
        # NumPy's read-only or unaligned arrays are other Numba types; CuPy's are never either
        key.append((a.dtype, a.ndim, layout, getattr(flags, "writeable", True), getattr(flags, "aligned", True)))
    return tuple(key)


_specialized = {}  # (kernel, device, argument_types) → specialised kernel


def specialized(kernel, on, types, args):
    """``kernel`` compiled on device ``on`` (``device()``) for ``args``, whose
    ``argument_types`` are ``types``, looked up without typing ``args`` again.

    Numba's dispatcher types every argument of every launch to find the compiled kernel;
    ``kernel.specialize(*args)`` (Numba's API) does that once and returns a dispatcher
    bound to that one compilation. It is cached per kernel, device and ``argument_types``:
    every fact Numba's typing reads, so arguments of other types, ranks or layouts (which
    a specialised kernel would read wrongly) get their own specialisation."""
    key = (kernel, on, types)
    found = _specialized.get(key)
    return found if found is not None else remember(_specialized, key, kernel.specialize(*args))


def run(kernel, grid, block, *args):
    """Launch ``kernel[grid, block]`` on CuPy's current stream (``stream``).

    A CuPy array passed to a Numba kernel as it is goes through the CUDA Array
    Interface, whose consumer waits for the array's stream to finish (Numba's
    ``CUDA_ARRAY_INTERFACE_SYNC``): a host sync per array per launch, which would
    leave the GPU idle between our kernels. Our kernels run on that same stream, in
    order after the work that wrote their inputs, so the wait buys nothing: each
    CuPy array is wrapped without it (``cuda.as_cuda_array(a, sync=False)``)."""
    types = argument_types(args)  # of the arrays as given: CuPy's flags are cheaper to read than Numba's
    on = device()
    if not SIMULATED:
        ndarray = face.cupy.ndarray if face.cupy is not None else ()
        args = [cuda.as_cuda_array(a, sync=False) if isinstance(a, ndarray) else a for a in args]
    specialized(kernel, on, types, args)[grid, block, stream(on)](*args)


def launch(op, kernel, n, *args):
    """Run ``kernel`` with one thread per item, ``n`` items: ``ceil(n / THREADS)``
    blocks of ``THREADS`` threads; each thread checks ``i < n`` itself. ``op`` names
    the operation in the error raised when an array is too large (``check_index_range``)."""
    check_index_range(op, n, *args)
    if n == 0:
        return
    run(kernel, (n + THREADS - 1) // THREADS, THREADS, *args)


def contiguous(array):
    """C-contiguous view or copy: kernels index flat memory in row-major order."""
    return face.xp(array).ascontiguousarray(array)
