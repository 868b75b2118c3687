"""Shape ops: they move numbers around without changing them, so each VJP just
moves the gradient back: reshape ↔ reshape, transpose ↔ inverse transpose,
broadcast ↔ sum, indexing ↔ scatter-add, concatenate ↔ slice.

``broadcast_to`` and ``sum_to`` are the pair that undoes broadcasting: every op
whose inputs were broadcast sums its gradient back with ``sum_to`` — the one place
where that happens (tinygrad's and DeZero's habit).
"""
import numpy as np

from minigrad import backend
from minigrad.ops.base import check_devices, normalize_axis
from minigrad.tensor import Tensor, result


def broadcast_to(x, shape):
    shape = tuple(shape)
    if x.shape == shape:
        return x
    try:
        data = backend.xp(x.data).broadcast_to(x.data, shape)
    except ValueError:
        raise ValueError(f"broadcast_to: cannot broadcast shape {x.shape} to {shape}") from None
    return result(data, "broadcast_to", (x,), (lambda g, y: sum_to(g, x.shape),))


def _sum_to_array(data, shape):
    """Sum ``data`` down to ``shape``: add up the leading axes broadcasting created,
    and the axes where ``shape`` has a 1."""
    lead = data.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and data.shape[lead + i] != 1)
    if axes:
        data = data.sum(axis=axes, keepdims=True)
    return data.reshape(shape)


def sum_to(x, shape):
    """The VJP of broadcasting: sum ``x`` to ``shape`` (``x.shape`` broadcasts from it)."""
    shape = tuple(shape)
    if x.shape == shape:
        return x
    return result(_sum_to_array(x.data, shape), "sum_to", (x,), (lambda g, y: broadcast_to(g, x.shape),))


def reshape(x, shape):
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    try:
        data = x.data.reshape(shape)
    except ValueError:
        raise ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} "
                         f"({x.size} elements) into {shape}") from None
    return result(data, "reshape", (x,), (lambda g, y: reshape(g, x.shape),))


def transpose(x, axes=None):
    """Permute the axes (reverse them when ``axes`` is None)."""
    axes = tuple(reversed(range(x.ndim))) if axes is None else tuple(int(a) % max(x.ndim, 1) for a in axes)
    if sorted(axes) != list(range(x.ndim)):
        raise ValueError(f"transpose: axes {axes} are not a permutation of the {x.ndim} axes of shape {x.shape}")
    inverse = tuple(np.argsort(axes))
    return result(x.data.transpose(axes), "transpose", (x,), (lambda g, y: transpose(g, inverse),))


def _index_arrays(index, data):
    """Move integer/bool index arrays (lists, NumPy, Tensors) to ``data``'s device."""
    array_module = backend.xp(data)

    def move(i):
        if isinstance(i, Tensor):
            i = i.data
        if isinstance(i, (list, np.ndarray)) or backend.is_cupy(i):
            return array_module.asarray(i)
        return i
    return tuple(move(i) for i in index) if isinstance(index, tuple) else move(index)


def getitem(x, index):
    """``x[index]`` for basic slicing and integer-array (or boolean) indexing."""
    index = _index_arrays(index, x.data)
    try:
        data = x.data[index]
    except IndexError as error:
        raise IndexError(f"getitem: {error} (tensor shape {x.shape})") from None
    return result(data, "getitem", (x,), (lambda g, y: scatter_add(g, index, x.shape),))


def scatter_add(g, index, shape):
    """The VJP of ``getitem``: a zero tensor of ``shape`` with ``g`` added at ``index``
    (repeated indices add up, since each use of an element sends its gradient back)."""
    data = backend.xp(g.data).zeros(shape, dtype=g.dtype)
    backend.scatter_add(data, index, g.data)
    return result(data, "scatter_add", (g,), (lambda gg, y: getitem(gg, index),))


def concatenate(tensors, axis=0):
    tensors = list(tensors)
    if not tensors:
        raise ValueError("concatenate: needs at least one tensor")
    check_devices("concatenate", *tensors)
    axis = normalize_axis(axis, tensors[0].ndim, "concatenate")[0]
    try:
        data = backend.xp(tensors[0].data).concatenate([t.data for t in tensors], axis=axis)
    except ValueError:
        raise ValueError(f"concatenate: shapes {[t.shape for t in tensors]} differ "
                         f"outside axis {axis}") from None
    bounds = np.cumsum([0] + [t.shape[axis] for t in tensors])

    def piece(i):  # gradient of tensors[i] = its slab of g
        where = (slice(None),) * axis + (slice(int(bounds[i]), int(bounds[i + 1])),)
        return lambda g, y: getitem(g, where)
    return result(data, "concatenate", tuple(tensors), tuple(piece(i) for i in range(len(tensors))))


def stack(tensors, axis=0):
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: needs at least one tensor")
    if len({t.shape for t in tensors}) > 1:
        raise ValueError(f"stack: all tensors need the same shape, got {[t.shape for t in tensors]}")
    axis = normalize_axis(axis, tensors[0].ndim + 1, "stack")[0]
    expanded = [reshape(t, t.shape[:axis] + (1,) + t.shape[axis:]) for t in tensors]
    return concatenate(expanded, axis)


def astype(x, dtype):
    dtype = np.dtype(dtype)
    if dtype.kind != "f" and x.requires_grad:
        raise TypeError(f"astype: cannot cast a tensor that requires grad to {dtype}")
    return result(x.data.astype(dtype), "astype", (x,), (lambda g, y: astype(g, x.dtype),))


def to_device(x, device):
    return result(backend.to_device(x.data, device), "to_device", (x,),
                  (lambda g, y: to_device(g, x.device),))
