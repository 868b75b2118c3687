"""Counting the memory a training step holds.

On the CPU there is no allocator to ask that sees every library, so the bytes are
*accounted*: at the end of the forward pass, every array the backward pass will read
is reachable from the loss — the tensors of the graph and the arrays its VJPs keep
(saved inputs, pooling argmaxes, im2col columns) — and a step also holds the
parameters, their gradients and SGD's momentum buffers (3 × the parameters). Views
count once, by the buffer they share. On a GPU, ``fits_on_gpu`` asks CuPy instead:
its memory pool is capped and the step either runs or raises OutOfMemoryError.
"""
import numpy as np

from minigrad import backend


def _root(array):
    while getattr(array, "base", None) is not None and hasattr(array.base, "nbytes"):
        array = array.base
    return array


def _arrays_in(value, found):
    """Collect the arrays held by ``value``: an array, a Tensor, or a container of them."""
    if isinstance(value, np.ndarray) or backend.is_cupy(value):
        found.append(value)
    elif hasattr(value, "data") and hasattr(value, "requires_grad"):
        found.append(value.array)
    elif isinstance(value, (tuple, list)):
        for item in value:
            _arrays_in(item, found)


def graph_bytes(loss):
    """Bytes of the distinct buffers reachable from ``loss``'s graph (see the module docstring)."""
    arrays, seen_nodes, stack = [loss.array], set(), [loss]
    while stack:
        tensor = stack.pop()
        node = tensor.node
        if node is None or id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        for parent in node.parents:
            arrays.append(parent.array)
            stack.append(parent)
        for vjp in node.vjps:
            for cell in getattr(vjp, "__closure__", None) or ():
                try:
                    _arrays_in(cell.cell_contents, arrays)
                except ValueError:  # an empty cell
                    pass
    buffers = {id(_root(a)): _root(a).nbytes for a in arrays}
    return int(sum(buffers.values()))


def step_bytes(loss, modules):
    """A training step's bytes: the graph of ``loss`` + 3 × the parameters of ``modules``
    (weights, gradients, momentum), parameters counted once."""
    params = {id(p): p.array.nbytes for m in modules for p in m.parameters()}
    return graph_bytes(loss) + 3 * int(sum(params.values()))


def linear_fit(batch_bytes):
    """{batch: bytes} at two or more batches → (bytes per sample, fixed bytes): memory is
    linear in the batch (every activation has the batch as its first axis)."""
    batches = np.array(sorted(batch_bytes), dtype=np.float64)
    values = np.array([batch_bytes[b] for b in sorted(batch_bytes)], dtype=np.float64)
    slope, intercept = np.polyfit(batches, values, 1)
    return float(slope), float(intercept)


def largest_batch(per_sample, fixed, cap):
    """The largest batch whose accounted bytes fit under ``cap`` (0 if none does)."""
    return max(0, int((cap - fixed) // per_sample))


def fits_on_gpu(step, batch, cap):
    """Run ``step(batch)`` with CuPy's memory pool capped at ``cap`` bytes → True if it fit."""
    import cupy
    pool = cupy.get_default_memory_pool()
    pool.free_all_blocks()
    pool.set_limit(size=int(cap))
    try:
        step(batch)
        cupy.cuda.Device().synchronize()
        return True
    except cupy.cuda.memory.OutOfMemoryError:
        return False
    finally:
        pool.free_all_blocks()
        pool.set_limit(size=0)  # 0 = no limit


def largest_batch_on_gpu(step, cap, start=64):
    """Doubling, then bisection, on ``fits_on_gpu``: the largest batch that runs under ``cap``."""
    low, high = 0, start
    while fits_on_gpu(step, high, cap):
        low, high = high, high * 2
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if fits_on_gpu(step, middle, cap) else (low, middle)
    return low
