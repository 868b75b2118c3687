"""Data parallelism for the ``cpu`` faces: a batch cut into contiguous ranges of
images, one range per core, each run by serial code on its own thread.

    results = cpu_threads.over_batch(n, work, size)   # work(b0, b1) on ranges covering 0 … n−1

Why threads over the batch, and not parallel loops inside each kernel: on the 2-core
machines this project is measured on, Numba's ``parallel=True`` pool and OpenBLAS's
own threads spun against each other (the same conv layers 10× slower), and every
BLAS call with two threads is a barrier that a descheduled core stalls. Here each
range runs the serial Numba loops (they release the GIL) and 1-thread BLAS calls
(NumPy releases the GIL around them), so the cores never wait for each other inside
a kernel, only once at its end (``shared/PERFORMANCE.md``; measured effects in
``docs/benchmarks.md``).

* Threads: ``MINIGRAD_CPU_THREADS`` (an int ≥ 1, read at import), else the number of
  cores this process may run on; ``set_num_threads(n)`` (``minigrad.set_num_threads``,
  torch's name) changes it, and BLAS's thread count with it. ``MINIGRAD_CPU_THREADS=1`` runs everything serially
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
import math
import os
import threading

import numpy as np
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

_workers = []           # _Worker threads, made as first needed; the caller runs the first range itself
_workers_busy = threading.Lock()  # held by the one caller whose ranges are on the workers
_blas = None            # threadpoolctl's handles on the BLAS libraries loaded (NumPy's)
_saved = None           # their thread counts before the limit
_lock = threading.Lock()
_active = 0             # ranges in flight from all callers: BLAS is restored when it falls to 0


# Whether this thread is running a range (a kernel called from inside one runs serially).
# False as a class attribute: getattr(threading.local(), "busy", False) raised and caught
# an AttributeError inside on every call from a thread that never ran a range, the usual
# case for small calls (0.39 µs a call against 0.06 for the class attribute).
class _Inside(threading.local):
    busy = False


_inside = _Inside()


def _blas_libraries():
    """threadpoolctl's handles on the BLAS libraries loaded (NumPy's), found once."""
    global _blas
    if _blas is None:
        _blas = threadpoolctl.ThreadpoolController().select(user_api="blas").lib_controllers
    return _blas


def set_num_threads(n):
    """Use ``n`` threads from now on: the ranges ``over_batch`` cuts a batch into, and
    BLAS's own threads outside those ranges (inside them BLAS stays at one, see
    ``one_blas_thread``). ``torch.set_num_threads``'s meaning: the intra-op threads."""
    global THREADS, _saved
    if isinstance(n, bool) or not isinstance(n, int):
        raise RuntimeError(f"set_num_threads expects an int, but got {type(n).__name__}")
    if n < 1:
        raise RuntimeError(f"set_num_threads expects a positive integer, got {n}")
    with _lock:
        THREADS = n
        if _active:  # ranges are running on one BLAS thread: the new count applies when they end
            _saved = [n] * len(_blas_libraries())
        else:
            for lib in _blas_libraries():
                lib.set_num_threads(n)


def get_num_threads():
    """The number of threads ``set_num_threads`` (or ``MINIGRAD_CPU_THREADS``, or the
    cores this process may use) asked for."""
    return THREADS


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
    be inside at once); the user's setting back when the last one leaves. Calls the
    libraries' own get/set_num_threads through threadpoolctl's handles: 1–5 µs, a
    third of its ``limit()`` context, which re-reads every library's state."""
    global _active, _saved
    with _lock:
        if _active == 0:
            _saved = [lib.get_num_threads() for lib in _blas_libraries()]
            for lib in _blas:
                lib.set_num_threads(1)
        _active += 1
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0:
                for lib, threads in zip(_blas, _saved):
                    lib.set_num_threads(threads)


def _run(work, b0, b1):
    _inside.busy = True
    try:
        return work(b0, b1)
    finally:
        _inside.busy = False


class _Worker:
    """A thread that runs one range at a time. Handing it a range is two lock
    releases (``go``, then ``done`` back): 27–54 µs a round trip here, against
    119–126 µs for ``concurrent.futures.ThreadPoolExecutor``'s submit and result,
    which a 40-kernel training step pays on every call."""

    def __init__(self, index):
        self.go, self.done = threading.Lock(), threading.Lock()
        self.go.acquire()
        self.done.acquire()
        self.job = self.outcome = None
        threading.Thread(target=self._loop, name=f"minigrad-cpu-{index}", daemon=True).start()

    def _loop(self):
        while True:
            self.go.acquire()
            work, b0, b1 = self.job
            try:
                self.outcome = (True, _run(work, b0, b1))
            except BaseException as error:  # handed to the caller, raised there
                self.outcome = (False, error)
            self.done.release()

    def start(self, work, b0, b1):
        self.job = (work, b0, b1)
        self.go.release()

    def finish(self):
        """Wait for the range; (True, result) or (False, the exception it raised). A
        Ctrl-C while waiting is handed back the same way, after the range has ended:
        returning earlier would leave the worker writing into outputs the caller
        has given up on, and its next range's "done" signalled by this one."""
        interrupted = None
        while True:
            try:
                self.done.acquire()
                break
            except KeyboardInterrupt as error:
                interrupted = error
        return (False, interrupted) if interrupted else self.outcome


def _forget_workers():
    # a forked child has none of the parent's threads: make new ones when needed
    global _workers, _workers_busy
    _workers, _workers_busy = [], threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_workers)


_scratch = threading.local()


def scratch(name, shape, dtype):
    """A work array of ``shape`` and ``dtype`` private to the calling thread, reused from
    call to call under ``name`` (its contents are whatever the last user left).

    Why: a fresh ``np.empty`` of a few hundred KB is new memory from the kernel (glibc
    maps allocations that size and unmaps them on free), so every page is faulted in
    again on first touch. The conv face's per-range buffers (padded copy, columns, GEMM
    rows) did that 3 times per range, per call: about 640 of the 7,300 page faults a
    training step of the benchmark CNN took at N = 128 on two threads (the rest are the
    step's own activations and gradients, which its caller owns). Kept per thread, each
    buffer grows to the largest size asked of it and is then reused, fault-free. A
    thread holds one buffer per name, so a name must not be asked for again while its
    array is still in use on that thread (a range's buffers live only inside the range)."""
    arrays = _scratch.__dict__
    nbytes = math.prod(shape) * dtype.itemsize
    buffer = arrays.get(name)
    if buffer is None or buffer.nbytes < nbytes:
        buffer = arrays[name] = np.empty(max(nbytes, 1), np.uint8)
    return buffer[:nbytes].view(dtype).reshape(shape)


def over_batch(n, work, size):
    """[work(b0, b1) for each range of ``ranges(n, THREADS)``], the ranges run at once on
    THREADS threads (the caller's thread runs the first). ``size``: how many numbers
    the whole call reads or writes; below ``SERIAL_BELOW`` one range runs on the
    caller's thread, and while another caller thread has the workers, all ranges do.
    Every range has finished when this returns, also when one of them raised."""
    if THREADS == 1 or n <= 1 or size < SERIAL_BELOW or _inside.busy:
        return [work(0, n)]  # one range on this thread: the usual case for small calls
    parts = ranges(n, THREADS)
    if len(parts) == 1 or not _workers_busy.acquire(blocking=False):
        return [work(b0, b1) for b0, b1 in parts]
    try:
        while len(_workers) < len(parts) - 1:
            _workers.append(_Worker(len(_workers)))
        helpers = _workers[:len(parts) - 1]
        with one_blas_thread():
            for worker, (b0, b1) in zip(helpers, parts[1:]):
                worker.start(work, b0, b1)
            try:
                first = _run(work, *parts[0])
            finally:  # every range done (they write into shared outputs) before any error is raised
                outcomes = [worker.finish() for worker in helpers]
    finally:
        _workers_busy.release()
    for ok, value in outcomes:
        if not ok:
            raise value
    return [first] + [value for _, value in outcomes]


# OpenBLAS runs a product of M·N·K < 2^18 on the caller's thread anyway; above that it
# wakes its workers, which then spin for a while after the call (OPENBLAS_THREAD_TIMEOUT)
# on the cores the next kernel wants. The benchmark CNN's linear layer (M·N·K = 1.3·10^6,
# 0.05 ms) did exactly that before the backward pass: with it on one BLAS thread the
# backward of conv 32→32 took 35 instead of 63 ms, the whole step 159 instead of 185. Products
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
