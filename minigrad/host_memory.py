"""Keeping freed memory inside the process, so that a training step's arrays reuse the
last step's pages instead of asking the kernel for new ones (glibc's malloc, Linux).

A training step allocates its activations and gradients afresh, megabytes each at a
CNN's batch sizes, and frees them a moment later. glibc's malloc serves a block of
128 KB or more (a threshold it raises as it sees such blocks freed, up to 32 MB) straight
from the kernel (``mmap``) and hands it back on free (``munmap``), and it gives the free
top of its heap back too; so the next step's arrays are new pages again, each one faulted
in and zeroed by the kernel on first touch. The benchmark CNN (``benchmarks/cnn_step.py``,
N = 128, two threads, 2-core AMD EPYC VM, 2026-12-07, idle) took 6,650 page faults and
27 ms of system time per step that way; with the memory kept, none, and its step went
from 116.0 to 86.7 ms (PyTorch's from 83.9 to 65.8 ms: it allocates the same way).

``keep_freed_memory()`` asks glibc (``mallopt``) to serve blocks up to 1 GB from its
heap and to keep the heap's free top: the process then holds on to the memory of its
largest step and reuses it, much as PyTorch's caching allocator does on a GPU (PyTorch's
CPU tuning guide gives the same advice as "use jemalloc or tcmalloc"). The cost: memory
freed stays with the process until it exits, so its resident size is its peak. Training
programs want that trade; a library should not make it behind its user's back, so
minigrad itself never calls this: ``python -m minigrad`` and ``python -m admm`` do, at
start. The same from the shell, for any program: ``MALLOC_MMAP_THRESHOLD_=1073741824
MALLOC_TRIM_THRESHOLD_=2147483647 python …``.
"""
import ctypes
import ctypes.util
import platform

# glibc's mallopt parameters (<malloc.h>)
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
MMAP_ABOVE = 1 << 30        # blocks this large still come from mmap (and go back on free)
TRIM_ABOVE = 2 ** 31 - 1    # mallopt takes a C int: the largest free heap top it may keep


def keep_freed_memory():
    """Keep freed memory in the process (see above). True when glibc took both settings,
    False where the C library is not glibc (macOS, Windows, musl): nothing changes there."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    return bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_ABOVE)) & bool(libc.mallopt(M_TRIM_THRESHOLD, TRIM_ABOVE))
