"""Where values fall among sorted ones, and how many fall where: ``searchsorted``,
``bucketize``, ``histc``, ``bincount``, as torch's. Integer answers, no gradients (torch has
none for them either).

They run on the device of their input without reading it back, except ``bincount``: its
output's length is the largest input value plus one, which the host must know to allocate
it (torch's CUDA bincount waits for the GPU at the same point).
"""
import numpy as np

from minigrad import backend
from minigrad.ops.base import check_devices
from minigrad.tensor import Tensor


def _array(values, like, op):
    """``values`` (a Tensor or a Python number) as an array on ``like``'s device."""
    if isinstance(values, Tensor):
        check_devices(op, like, values)
        return values.array
    return backend.xp(like.array).asarray(values)


def _side(right, side, op):
    if side is not None and side not in ("left", "right"):
        raise RuntimeError(f"{op}: side can only be 'left' or 'right', got {side!r}")
    if side is not None and right and side == "left":
        raise RuntimeError(f"{op}: side and right can't be set to opposites, got side of left while right was True")
    return "right" if right or side == "right" else "left"


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None):
    """For each value, the index where it would go in ``sorted_sequence`` to keep it sorted
    (torch.searchsorted): the first such place (side "left", the default), or after the equal
    ones (``right=True`` / side "right"). A 1-D sequence serves every value; an (…, n) one has
    a row per row of values (…, m). int64 (int32 with ``out_int32``), of input's shape."""
    op = "torch.searchsorted()"
    which = _side(right, side, op)
    sequence = sorted_sequence.array
    values = _array(input, sorted_sequence, op)
    if sorter is not None:
        sequence = backend.xp(sequence).take_along_axis(sequence, _array(sorter, sorted_sequence, op), axis=-1)
    if sequence.ndim == 0 or (sequence.ndim > 1 and sequence.shape[:-1] != values.shape[:-1]):
        raise RuntimeError(f"{op}: boundaries tensor should be 1 dimension or the first N-1 dimensions of "
                           f"boundaries tensor and input value tensor must match, but we got boundaries tensor "
                           f"{list(sequence.shape)} and input value tensor {list(values.shape)}")
    xp = backend.xp(sequence)
    if sequence.ndim == 1:
        found = xp.searchsorted(sequence, values, side=which)
    else:  # row by row: how many entries of the row lie before each value
        before = (sequence[..., None, :] <= values[..., :, None]) if which == "right" \
            else (sequence[..., None, :] < values[..., :, None])
        found = before.sum(axis=-1)
    return Tensor._wrap(xp.asarray(found).astype(np.int32 if out_int32 else np.int64))


def bucketize(input, boundaries, *, out_int32=False, right=False):
    """The bucket of each value of ``input`` among the sorted 1-D ``boundaries``
    (torch.bucketize): i with boundaries[i−1] < x ≤ boundaries[i], or boundaries[i−1] ≤ x <
    boundaries[i] with ``right=True``; searchsorted with the roles of its arguments swapped."""
    if not isinstance(boundaries, Tensor) or boundaries.ndim != 1:
        raise RuntimeError(f"bucketize: boundaries tensor must be 1 dimension, but got dim("
                           f"{getattr(boundaries, 'ndim', None)})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def histc(input, bins=100, min=0, max=0):
    """A histogram of ``input``'s elements in ``bins`` equal bins over [min, max] (torch.histc);
    with min == max, over the data's own range (widened by 1 each way if that is one point).
    Elements outside the range are not counted; max itself falls in the last bin. The counts
    have input's dtype. Bins are found on the device: index ⌊(x − min)·bins / (max − min)⌋."""
    if input.dtype.kind != "f":
        raise NotImplementedError(f'histc: "histogram_cpu" not implemented for \'{input.dtype}\' (a floating '
                                  f"dtype is needed)")
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
    if min > max:
        raise RuntimeError(f"torch.histc: max must be larger than min (got min={min}, max={max})")
    x = input.array.reshape(-1)
    xp = backend.xp(x)
    counts = xp.zeros(int(bins), dtype=x.dtype)
    if x.size == 0:
        return Tensor._wrap(counts)
    low, high = x.dtype.type(min), x.dtype.type(max)  # NumPy scalars: kernel arguments, nothing copied
    if min == max:  # the data's range, still on the device
        low, high = x.min(), x.max()
        same = low == high
        low, high = xp.where(same, low - 1, low), xp.where(same, high + 1, high)
    inside = (x >= low) & (x <= high)
    with np.errstate(invalid="ignore"):
        position = xp.where(inside, (x - low) * x.dtype.type(bins) / (high - low), 0)
    index = xp.minimum(position.astype(np.int64), int(bins) - 1)  # max itself: the last bin
    backend.scatter_add(counts, index, inside.astype(x.dtype))
    return Tensor._wrap(counts)


def bincount(input, weights=None, minlength=0):
    """How often each value 0, 1, … occurs in the 1-D non-negative integer ``input``
    (torch.bincount): int64 counts, or the sums of ``weights`` (float; other weights give
    float64) at each value; length max(input) + 1, at least ``minlength``."""
    error = "bincount only supports 1-d non-negative integral inputs."
    if input.dtype.kind == "f":
        raise NotImplementedError(f'bincount: "bincount_cpu" not implemented for \'{input.dtype}\'')
    if input.ndim != 1 or input.dtype.kind not in "iub":
        raise RuntimeError(f"{error} (got shape {input.shape} and dtype {input.dtype})")
    if isinstance(minlength, bool) or not isinstance(minlength, (int, np.integer)) or minlength < 0:
        raise RuntimeError(f"bincount: minlength should be >= 0, got {minlength}")
    x = input.array.astype(np.int64)
    if weights is not None:
        check_devices("bincount", input, weights)
        if weights.ndim != 1 or weights.shape[0] != x.shape[0]:
            raise RuntimeError(f"bincount: weights should be 1-d and have the same length as input "
                               f"(weights {weights.shape}, input {input.shape})")
    xp = backend.xp(x)
    length = int(minlength)
    if x.size:
        backend.defer_check((x < 0).any(), lambda: RuntimeError(f"{error} (the input holds a negative value)"))
        largest = backend.read_item(x.max()) if backend.is_cupy(x) else int(x.max())
        length = max(length, largest + 1)
    if weights is None or not x.size:  # an empty input gives int64 zeros, weights or not, as torch
        counts = xp.zeros(length, dtype=np.int64)
        backend.scatter_add(counts, x, xp.ones(x.shape, dtype=np.int64))
    else:
        dtype = weights.array.dtype if weights.dtype.kind == "f" else np.float64
        counts = xp.zeros(length, dtype=dtype)
        backend.scatter_add(counts, x, weights.array.astype(dtype))
    return Tensor._wrap(counts)
