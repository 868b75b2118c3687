"""Collectives with torch.distributed's names: ``all_reduce``, ``broadcast``,
``all_gather``, ``barrier`` — on minigrad Tensors, NumPy arrays and CuPy arrays, in place.

Each one starts the non-blocking MPI operation (``MPI_Iallreduce``, ``MPI_Ibcast``, ...)
and returns a ``Work`` with ``async_op=True``; without it, the call waits on that Work
itself. Either way the wait is bounded by the group's deadline. ``group=``: the default
group when None, else a sub-group from ``new_group`` (ranks still named by their
default-group number, as torch names them). CuPy arrays are copied to
host memory first and back after the wait (the MPICH wheel is not CUDA-aware).
"""
import enum
import pickle

import numpy as np

from minigrad import backend
from minigrad.distributed.group import group as default_group, member, wait
from minigrad.tensor import Tensor


class ReduceOp(enum.Enum):
    SUM = "sum"
    AVG = "avg"       # MPI has no average: a sum, then divided by the world size
    MAX = "max"
    MIN = "min"


def as_array(tensor, op):
    if isinstance(tensor, Tensor):
        return tensor.array
    if isinstance(tensor, np.ndarray) or backend.is_cupy(tensor):
        return tensor
    raise TypeError(f"{op}: expected a minigrad Tensor, a NumPy or a CuPy array, got {type(tensor).__name__}")


class Work:
    """A started operation; ``wait()`` completes it (within the deadline) and runs
    ``finish`` (copying results back into the caller's array). Like torch's Work."""

    def __init__(self, request, what, finish=None):
        self.request, self.what, self.finish = request, what, finish
        self._done = False

    def is_completed(self):
        """True once the operation has finished (a test that also advances MPI's progress)."""
        if not self._done and self.request.Test():
            self._complete()
        return self._done

    def wait(self, timeout=None):
        """Block until the operation is complete, at most ``timeout`` seconds (the group's
        deadline by default), then return True."""
        if not self._done:
            wait(self.request, self.what, timeout)
            self._complete()
        return True

    def _complete(self):
        self._done = True
        if self.finish is not None:
            self.finish()


def staged(array, op, writes=True):
    """A buffer MPI can use for ``array`` and a function that writes it back into
    ``array`` (None when the buffer is ``array`` itself): a contiguous host copy for a
    strided array, and for a CuPy array unless MPI is CUDA-aware. ``writes``: whether the
    operation changes ``array`` (then it must be writable)."""
    if writes and not array.flags.writeable:
        raise ValueError(f"{op}: the array is read-only, and {op} writes its result into it; pass a writable copy")
    on_gpu = backend.is_cupy(array)
    if (not on_gpu or default_group().cuda_aware) and array.flags.c_contiguous:
        if on_gpu:  # MPI reads device memory directly: the kernels that write it must be done
            backend.cupy.cuda.get_current_stream().synchronize()
        return array, None
    host = np.ascontiguousarray(backend.to_numpy(array))

    def write_back():
        array[...] = backend.xp(array).asarray(host)
    return host, write_back


def run(request, what, finish, async_op):
    work = Work(request, what, finish)
    if async_op:
        return work
    work.wait()
    return None


def _chain(*steps):
    steps = [s for s in steps if s is not None]
    return (lambda: [s() for s in steps]) if steps else None


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce ``tensor`` over the group's ranks, in place, so every rank ends with the result.

    op: ``ReduceOp.SUM`` (default), ``AVG`` (floating-point only), ``MAX`` or ``MIN``.
    Returns None, or a ``Work`` to ``wait()`` on with ``async_op=True`` (the tensor must not
    be read or changed until then).
    """
    g = member(group, "all_reduce")
    array = as_array(tensor, "all_reduce")
    if not isinstance(op, ReduceOp):
        raise ValueError(f"all_reduce: op must be a ReduceOp (SUM, AVG, MAX, MIN), got {op!r}")
    if op is ReduceOp.AVG and array.dtype.kind not in "fc":
        raise TypeError(f"all_reduce: ReduceOp.AVG needs a floating-point tensor, got dtype {array.dtype}")
    buffer, write_back = staged(array, "all_reduce")
    mpi_op = {ReduceOp.SUM: g.MPI.SUM, ReduceOp.AVG: g.MPI.SUM, ReduceOp.MAX: g.MPI.MAX,
              ReduceOp.MIN: g.MPI.MIN}[op]
    request = g.comm.Iallreduce(g.MPI.IN_PLACE, buffer, op=mpi_op)

    def average():
        buffer[...] /= g.size
    finish = _chain(average if op is ReduceOp.AVG else None, write_back)
    return run(request, f"all_reduce of {buffer.size} values", finish, async_op)


def broadcast(tensor, src, group=None, async_op=False):
    """Copy rank ``src``'s ``tensor`` into every other rank's ``tensor`` (same shape and
    dtype on every rank), in place."""
    g = member(group, "broadcast")
    root = _root(g, src, "broadcast")
    buffer, write_back = staged(as_array(tensor, "broadcast"), "broadcast", writes=g.rank != root)
    request = g.comm.Ibcast(buffer, root=root)
    return run(request, f"broadcast of {buffer.size} values from rank {src}",
               None if g.rank == root else write_back, async_op)


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """Fill ``tensor_list`` (one tensor per rank, each shaped like ``tensor``) with every
    rank's ``tensor``: afterwards ``tensor_list[r]`` holds rank r's."""
    g = member(group, "all_gather")
    array = as_array(tensor, "all_gather")
    if len(tensor_list) != g.size:
        raise ValueError(f"all_gather: tensor_list has {len(tensor_list)} entries; expected one per rank ({g.size})")
    outputs = [as_array(t, "all_gather") for t in tensor_list]
    for r, out in enumerate(outputs):
        if out.shape != array.shape or out.dtype != array.dtype:
            raise ValueError(f"all_gather: tensor_list[{r}] has shape {out.shape} and dtype {out.dtype}; "
                             f"expected {array.shape} and {array.dtype} like the input")
    send = np.ascontiguousarray(backend.to_numpy(array))
    gathered = np.empty((g.size,) + send.shape, dtype=send.dtype)

    def scatter_back():
        for r, out in enumerate(outputs):
            out[...] = backend.xp(out).asarray(gathered[r])
    request = g.comm.Iallgather(send, gathered)
    return run(request, f"all_gather of {send.size} values", scatter_back, async_op)


def broadcast_object_list(object_list, src=0, group=None):
    """Replace ``object_list``'s entries on every rank with rank ``src``'s (picklable
    objects; the lists must have the same length on every rank)."""
    g = member(group, "broadcast_object_list")
    sender = g.rank == _root(g, src, "broadcast_object_list")
    payload = pickle.dumps(list(object_list)) if sender else b""
    size = np.array([len(payload)], dtype=np.int64)
    broadcast(size, src, group)  # first the length, so every rank can make room for the bytes
    buffer = np.frombuffer(payload, np.uint8).copy() if sender else np.empty(int(size[0]), np.uint8)
    broadcast(buffer, src, group)
    if not sender:
        received = pickle.loads(buffer.tobytes())  # from a rank of this very job
        if len(received) != len(object_list):
            raise ValueError(f"broadcast_object_list: rank {src} sent {len(received)} objects into a list of "
                             f"{len(object_list)}")
        object_list[:] = received


def barrier(group=None, async_op=False):
    """Wait until every rank has reached this call (within the deadline)."""
    g = member(group, "barrier")
    return run(g.comm.Ibarrier(), "barrier", None, async_op)


def _root(g, src, op):
    """``src`` (a rank of the default group, as torch names it) as its rank in ``g``."""
    if not (isinstance(src, int) and src in g.ranks):
        raise ValueError(f"{op}: src must be a rank of the group {g.ranks}, got {src!r}")
    return g.ranks.index(src)
