"""Shape ops: they move numbers around without changing them, so each VJP just
moves the gradient back: reshape ↔ reshape, permute ↔ inverse permute,
broadcast ↔ sum, indexing ↔ scatter-add, concatenate ↔ slice. The results of
reshape, permute, expand and basic indexing may share the input's memory, so they
share its version counter too (``view_of=``), as PyTorch's views do.

``broadcast_to`` and ``sum_to`` are the pair that undoes broadcasting: every op
whose inputs were broadcast sums its gradient back with ``sum_to`` — the one place
where that happens (tinygrad's and DeZero's habit).
"""
import numpy as np

from minigrad import backend, dtypes
from minigrad.ops.base import check_devices, lift, normalize_axis, normalize_dim, numpy_aliases
from minigrad.tensor import Tensor, result


def broadcast_to(x, shape):
    shape = tuple(shape)
    if x.shape == shape:
        return x
    try:
        data = backend.xp(x.data).broadcast_to(x.data, shape)
    except ValueError:
        raise RuntimeError(f"expand: cannot broadcast a tensor of shape {x.shape} to {shape}") from None
    x_shape = x.shape
    return result(data, "broadcast_to", (x,), (lambda g, y: sum_to(g, x_shape),), view_of=x)


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
    x_shape = x.shape
    return result(_sum_to_array(x.data, shape), "sum_to", (x,), (lambda g, y: broadcast_to(g, x_shape),))


def reshape(x, shape):
    """``x`` with a new shape of as many elements (one entry may be -1); ``view`` too."""
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    try:
        data = x.data.reshape(shape)
    except ValueError:
        raise RuntimeError(f"reshape: shape {shape} is invalid for a tensor of shape {x.shape} "
                           f"({x.numel()} elements)") from None
    x_shape = x.shape
    return result(data, "reshape", (x,), (lambda g, y: reshape(g, x_shape),), view_of=x)


def permute(x, dims):
    """Reorder the dims: output dim i is input dim ``dims[i]`` (a full order, as torch)."""
    dims = tuple(dims)
    if len(dims) != x.ndim:
        raise RuntimeError(f"permute: the number of dims {len(dims)} does not match the {x.ndim} "
                           f"dims of a tensor of shape {x.shape}")
    dims = tuple(normalize_dim(d, x.ndim, "permute") for d in dims)
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"permute: dims {dims} repeat a dim (shape {x.shape})")
    inverse = tuple(int(i) for i in np.argsort(dims))
    return result(x.data.transpose(dims), "permute", (x,), (lambda g, y: permute(g, inverse),), view_of=x)


def transpose(x, dim0, dim1):
    """Swap two dims, as ``torch.transpose``. (NumPy's ``transpose(axes)``, a full
    order, is ``permute`` here: where NumPy and PyTorch disagree, PyTorch wins.)"""
    dims = list(range(x.ndim))
    d0, d1 = normalize_dim(dim0, x.ndim, "transpose"), normalize_dim(dim1, x.ndim, "transpose")
    if x.ndim == 0:
        return x
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return permute(x, dims)


swapaxes = transpose


def t(x):
    """The transpose of a matrix (a 0-d or 1-d tensor is returned as it is), as torch."""
    if x.ndim > 2:
        raise RuntimeError(f"t: expects a tensor with <= 2 dimensions, got shape {x.shape}; "
                           f"use transpose(dim0, dim1) or mT")
    return transpose(x, 0, -1) if x.ndim == 2 else x


def flatten(x, start_dim=0, end_dim=-1):
    """Merge dims start_dim..end_dim (inclusive) into one, as torch.flatten."""
    if x.ndim == 0:
        return reshape(x, (1,))
    start, end = normalize_dim(start_dim, x.ndim, "flatten"), normalize_dim(end_dim, x.ndim, "flatten")
    if start > end:
        raise RuntimeError(f"flatten: start_dim {start_dim} cannot come after end_dim {end_dim}")
    return reshape(x, x.shape[:start] + (-1 if x.numel() else int(np.prod(x.shape[start:end + 1])),)
                   + x.shape[end + 1:])


@numpy_aliases
def unsqueeze(x, dim):
    """Insert a dim of size 1 at ``dim`` (in [-ndim-1, ndim], as torch)."""
    d = normalize_dim(dim, x.ndim + 1, "unsqueeze")
    return reshape(x, x.shape[:d] + (1,) + x.shape[d:])


@numpy_aliases
def squeeze(x, dim=None):
    """Drop dims of size 1: all of them, or only those named by ``dim`` (an int or a
    tuple) that have size 1; naming a larger dim is not an error, as in torch."""
    dims = normalize_axis(dim, x.ndim, "squeeze") if dim is not None else tuple(range(x.ndim))
    return reshape(x, tuple(n for i, n in enumerate(x.shape) if not (i in dims and n == 1)))


def expand(x, shape):
    """Broadcast ``x`` to ``shape`` without copying; -1 keeps a dim as it is (torch.expand)."""
    shape = tuple(shape)
    lead = len(shape) - x.ndim
    if lead < 0:
        raise RuntimeError(f"expand: the number of sizes {len(shape)} is less than the {x.ndim} dims "
                           f"of a tensor of shape {x.shape}")
    return broadcast_to(x, tuple(x.shape[i - lead] if n == -1 and i >= lead else n
                                 for i, n in enumerate(shape)))


def clone(x):
    """A copy with its own memory, in the graph (the gradient passes unchanged)."""
    return result(x.data.copy(), "clone", (x,), (lambda g, y: g,))


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
    x_shape = x.shape
    return result(data, "getitem", (x,), (lambda g, y: scatter_add(g, index, x_shape),), view_of=x)


def scatter_add(g, index, shape):
    """The VJP of ``getitem``: a zero tensor of ``shape`` with ``g`` added at ``index``
    (repeated indices add up, since each use of an element sends its gradient back)."""
    data = backend.xp(g.data).zeros(shape, dtype=g.dtype)
    backend.scatter_add(data, index, g.data)
    return result(data, "scatter_add", (g,), (lambda gg, y: getitem(gg, index),))


def index_put(x, index, value):
    """A copy of ``x`` with ``x[index] = value`` (``value`` broadcast to the selection and
    cast to x's dtype); ``x[index] = value`` is this op done in place.
    Gradients: x's is g with the overwritten places zeroed; value's is g at those places."""
    index = _index_arrays(index, x.data)
    value = lift(value, x, dtype=x.dtype)
    check_devices("setitem", x, value)
    if value.dtype != x.dtype:
        value = astype(value, x.dtype)
    data = x.data.copy()
    try:
        data[index] = value.data
    except IndexError as error:
        raise IndexError(f"setitem: {error} (tensor shape {x.shape})") from None
    except ValueError:
        raise RuntimeError(f"setitem: a value of shape {value.shape} cannot be broadcast to the "
                           f"selection of shape {x.data[index].shape} (tensor shape {x.shape})") from None
    value_shape = value.shape

    def grad_value(g, y):
        picked = getitem(g, index)
        lead = value.ndim - picked.ndim  # NumPy lets a value carry extra leading 1s
        return reshape(sum_to(picked, value_shape[lead:] if lead > 0 else value_shape), value_shape)
    return result(data, "index_put", (x, value), (lambda g, y: index_put(g, index, 0), grad_value))


def gather(x, dim, index):
    """``out[i][j][k] = x[i][index[i][j][k]][k]`` for dim=1 (torch.gather): pick along
    ``dim`` by ``index``, which has x's number of dims. Built on ``getitem`` with an
    integer array per dim, so its VJP is getitem's scatter-add."""
    d = normalize_dim(dim, x.ndim, "gather")
    picks = index.data if isinstance(index, Tensor) else backend.xp(x.data).asarray(index)
    if picks.ndim != max(x.ndim, 1):
        raise RuntimeError(f"gather: index of shape {tuple(picks.shape)} must have as many dims as "
                           f"the input of shape {x.shape}")
    if x.ndim == 0:
        return getitem(x, ...) if picks.size == 0 else reshape(x, picks.shape)
    grid = backend.xp(picks).ogrid[tuple(slice(n) for n in picks.shape)]
    return getitem(x, tuple(picks if i == d else grid[i] for i in range(x.ndim)))


@numpy_aliases
def cat(tensors, dim=0):
    """Join tensors along an existing dim (torch.cat)."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("cat: expected a non-empty list of Tensors")
    check_devices("cat", *tensors)
    dtype = dtypes.result_type(*tensors)
    tensors = [t if t.dtype == dtype else astype(t, dtype) for t in tensors]
    d = normalize_dim(dim, tensors[0].ndim, "cat")
    try:
        data = backend.xp(tensors[0].data).concatenate([t.data for t in tensors], axis=d)
    except ValueError:
        raise RuntimeError(f"cat: shapes {[t.shape for t in tensors]} differ outside dim {d}") from None
    bounds = np.cumsum([0] + [t.shape[d] for t in tensors])

    def piece(i):  # gradient of tensors[i] = its slab of g
        where = (slice(None),) * d + (slice(int(bounds[i]), int(bounds[i + 1])),)
        return lambda g, y: getitem(g, where)
    return result(data, "cat", tuple(tensors), tuple(piece(i) for i in range(len(tensors))))


concatenate = cat


@numpy_aliases
def stack(tensors, dim=0):
    """Join same-shaped tensors along a new dim (torch.stack)."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack: expected a non-empty list of Tensors")
    if len({t.shape for t in tensors}) > 1:
        raise RuntimeError(f"stack: all tensors need the same shape, got {[t.shape for t in tensors]}")
    return cat([unsqueeze(t, dim) for t in tensors], dim)


def astype(x, dtype):
    """``x`` in another dtype. Casting to an integer or bool dtype leaves the graph
    (the result has no gradient), as in PyTorch."""
    dtype = np.dtype(dtype)
    x_dtype = x.dtype
    if dtype.kind != "f":
        return Tensor._wrap(x.data.astype(dtype))
    return result(x.data.astype(dtype), "astype", (x,), (lambda g, y: astype(g, x_dtype),))


def to_device(x, device):
    return result(backend.to_device(x.data, device), "to_device", (x,),
                  (lambda g, y: to_device(g, x.device),))
