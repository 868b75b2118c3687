"""Data parallelism for the ``cpu`` faces: a batch cut into contiguous ranges of
images, one range per core, each run by serial code on its own thread.

    results = cpu_threads.over_batch(n, work)   # work(b0, b1) for ranges covering 0 … n−1

Why threads over the batch, and not parallel loops inside each kernel: on the 2-core
machines this project is measured on, Numba's ``parallel=True`` pool and OpenBLAS's
own threads spun against each other (the same conv layers 10× slower), and every
BLAS call with two threads is a barrier that a descheduled core stalls. Here each
range runs the serial Numba loops (they release the GIL) and 1-thread BLAS calls
(NumPy releases the GIL around them), so the cores never wait for each other inside
a kernel, only once at its end (``shared/PERFORMANCE.md``; measured effects in
``docs/benchmarks.md``).

* Threads: ``MINIGRAD_CPU_THREADS`` (an int ≥ 1, read at import), else the number of
  cores this process may run on. ``MINIGRAD_CPU_THREADS=1`` runs everything serially
  on the caller's thread, with BLAS left alone.
* BLAS: limited to one thread (``threadpoolctl``) while ranges run, restored after, so
  the user's own NumPy code keeps its threads.
* Results: ``work``'s return values in range order, so a reduction (a weight
  gradient, a batch sum) is added up in a fixed order: the same numbers every run
  for a given thread count (a different count may change the last bits).
* A call from inside a range (a kernel calling a kernel) runs serially instead of
  waiting on the pool it occupies.
"""
import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor, wait

import threadpoolctl


def _thread_count():
    value = os.environ.get("MINIGRAD_CPU_THREADS", "").strip()
    if not value:
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"MINIGRAD_CPU_THREADS must be a positive integer, got {value!r}")
    return int(value)


THREADS = _thread_count()
# Handing a range to another thread and limiting BLAS costs about 30–50 µs, the time
# a core needs for some 10^5 numbers of a streaming kernel: smaller calls (the
# tutorials' small nets) stay on the caller's thread.
SERIAL_BELOW = 1 << 16

_pool = None            # ThreadPoolExecutor with THREADS − 1 workers; the caller runs the first range
_blas = None            # threadpoolctl's handle on NumPy's BLAS
_limits = None          # its limit in force while ranges run
_lock = threading.Lock()
_active = 0             # ranges in flight from all callers: BLAS is restored when it falls to 0
_inside = threading.local()


def ranges(n, parts):
    """``parts`` (at most n) contiguous, non-empty (b0, b1) ranges covering 0 … n−1,
    their lengths differing by at most one: 7 in 2 → (0, 4), (4, 7)."""
    parts = max(1, min(parts, n))
    size, extra = divmod(n, parts)
    bounds = [0]
    for p in range(parts):
        bounds.append(bounds[-1] + size + (p < extra))
    return list(zip(bounds[:-1], bounds[1:]))


@contextlib.contextmanager
def one_blas_thread():
    """BLAS limited to one thread inside (counted, since several caller threads may
    be inside at once); the user's setting back when the last one leaves."""
    global _active, _blas, _limits
    with _lock:
        if _active == 0:
            if _blas is None:
                _blas = threadpoolctl.ThreadpoolController().select(user_api="blas")
            _limits = _blas.limit(limits=1)
        _active += 1
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0:
                _limits.restore_original_limits()


def _run(work, b0, b1):
    _inside.busy = True
    try:
        return work(b0, b1)
    finally:
        _inside.busy = False


def over_batch(n, work, size, threads=None):
    """[work(b0, b1) for each range of ``ranges(n, threads)``], the ranges run at once on
    ``threads`` threads (default ``THREADS``; the caller's thread runs the first).
    ``size``: how many numbers the whole call reads or writes; below ``SERIAL_BELOW``
    one range runs on the caller's thread. Every range has finished when this returns,
    also when one of them raised."""
    global _pool
    threads = THREADS if threads is None else threads
    if size < SERIAL_BELOW or getattr(_inside, "busy", False):
        threads = 1
    parts = ranges(n, threads)
    if len(parts) == 1:
        return [work(*parts[0])]
    if _pool is None:
        with _lock:
            if _pool is None:
                _pool = ThreadPoolExecutor(max(1, THREADS - 1), thread_name_prefix="minigrad-cpu")
    with one_blas_thread():
        futures = [_pool.submit(_run, work, b0, b1) for b0, b1 in parts[1:]]
        try:
            first = _run(work, *parts[0])
        finally:
            wait(futures)  # every range done (they write into shared outputs) before any error is raised
    return [first] + [f.result() for f in futures]


# OpenBLAS runs a product of M·N·K < 2^18 on the caller's thread anyway; above that it
# wakes its workers, which then spin for a while after the call (OPENBLAS_THREAD_TIMEOUT)
# on the cores the next kernel wants. The benchmark CNN's linear layer (M·N·K = 1.3·10^6,
# 0.05 ms) did exactly that before the backward pass: the convolutions after it took
# 63 instead of 37 ms (conv 32→32), the whole step 185 instead of 154 ms. Products
# up to 2^24 (≈ 0.3 ms on one core) gain less from a second thread than that costs.
_SMALL = (1 << 18, 1 << 24)


def matmul(a, b):
    """``a @ b`` for NumPy arrays of 2 or more dimensions, a mid-sized product on one
    BLAS thread (see above)."""
    if THREADS == 1 or a.size == 0 or b.size == 0:
        return a @ b
    (m, k), n = a.shape[-2:], b.shape[-1]
    work = m * k * n * max(a.size // (m * k), b.size // (k * n))  # multiply-adds, batch axes included
    if _SMALL[0] <= work < _SMALL[1]:
        with one_blas_thread():
            return a @ b
    return a @ b
