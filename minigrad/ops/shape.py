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
from minigrad.ops.base import check_devices, check_index_range, lift, normalize_axis, normalize_dim, numpy_aliases
from minigrad.tensor import Tensor, is_grad_enabled, result


def broadcast_to(x, shape):
    shape = tuple(shape)
    if x.array.shape == shape:
        return x
    try:
        data = backend.xp(x.array).broadcast_to(x.array, shape)
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
    if x.array.shape == shape:
        return x
    x_shape = x.array.shape
    return result(_sum_to_array(x.array, shape), "sum_to", (x,), (lambda g, y: broadcast_to(g, x_shape),))


def reshape(x, shape):
    """``x`` with a new shape of as many elements (one entry may be -1); ``view`` too."""
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    try:
        data = x.array.reshape(shape)
    except ValueError:
        raise RuntimeError(f"reshape: shape {shape} is invalid for a tensor of shape {x.shape} "
                           f"({x.numel()} elements)") from None
    x_shape = x.shape
    return result(data, "reshape", (x,), (lambda g, y: reshape(g, x_shape),), view_of=x)


def view(x, shape):
    """``reshape`` that must not copy, as torch's ``view``: a tensor whose memory is not laid
    out for the new shape (a transpose, say) raises instead of silently becoming a copy
    that in-place writes would no longer reach."""
    out = reshape(x, shape)
    if x.numel() and not backend.xp(x.array).may_share_memory(out.array, x.array):
        raise RuntimeError(f"view: shape {tuple(out.shape)} is not compatible with the memory layout of the "
                           f"tensor of shape {x.shape} (it is not contiguous); use .reshape(...) or "
                           f".contiguous().view(...)")
    return out


def contiguous(x):
    """``x`` itself when its memory is laid out row by row, else a row-major copy (in the graph)."""
    return x if x.array.flags.c_contiguous else clone(x)


def permute(x, dims):
    """Reorder the dims: output dim i is input dim ``dims[i]`` (a full order, as torch)."""
    dims = tuple(dims)
    if len(dims) != x.ndim:
        raise RuntimeError(f"permute: the number of dims {len(dims)} does not match the {x.ndim} "
                           f"dims of a tensor of shape {x.shape}")
    if sorted(dims) != list(range(x.ndim)):  # negative dims, or not an order at all
        dims = tuple(normalize_dim(d, x.ndim, "permute") for d in dims)
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"permute: dims {dims} repeat a dim (shape {x.shape})")
    inverse = [0] * len(dims)
    for i, d in enumerate(dims):
        inverse[d] = i
    return result(x.array.transpose(dims), "permute", (x,), (lambda g, y: permute(g, inverse),), view_of=x)


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


def flip(x, dims):
    """Reverse the order along ``dims`` (an int or a tuple), as torch.flip; a strided view
    made by ``getitem``, so the gradient is flipped back by getitem's VJP."""
    dims = normalize_axis(dims, x.ndim, "flip")
    return getitem(x, tuple(slice(None, None, -1) if d in dims else slice(None) for d in range(x.ndim)))


def split(x, split_size_or_sections, dim=0):
    """Pieces of ``x`` along ``dim``: of ``split_size`` each (the last may be smaller), or
    of the sizes listed, as torch.split. Each piece is a slice (a view)."""
    d = normalize_dim(dim, x.ndim, "split")
    n = x.shape[d]
    if isinstance(split_size_or_sections, (int, np.integer)):
        size = int(split_size_or_sections)
        if size <= 0:
            raise RuntimeError(f"split: split_size must be positive, got {size}")
        sizes = [min(size, n - start) for start in range(0, n, size)] or [0]
    else:
        sizes = [int(k) for k in split_size_or_sections]
        if sum(sizes) != n:
            raise RuntimeError(f"split: sizes {sizes} do not add up to {n}, the length of dim {d} "
                               f"of shape {x.shape}")
    bounds = np.cumsum([0] + sizes)
    return tuple(getitem(x, (slice(None),) * d + (slice(int(bounds[i]), int(bounds[i + 1])),))
                 for i in range(len(sizes)))


def chunk(x, chunks, dim=0):
    """``chunks`` pieces of ⌈n / chunks⌉ along ``dim`` (fewer if they run out), as torch.chunk."""
    if chunks <= 0:
        raise RuntimeError(f"chunk: chunks must be positive, got {chunks}")
    n = x.shape[normalize_dim(dim, x.ndim, "chunk")]
    return split(x, max(-(-n // chunks), 1), dim)


def repeat(x, *sizes):
    """Tile ``x``: ``repeat(2, 1)`` stacks two copies along dim 0, as torch.repeat
    (np.tile). Built as reshape → expand → reshape, so the gradient sums the copies."""
    sizes = tuple(sizes[0]) if len(sizes) == 1 and not isinstance(sizes[0], (int, np.integer)) else sizes
    if len(sizes) < x.ndim:
        raise RuntimeError(f"repeat: {len(sizes)} repeat counts for a tensor of {x.ndim} dims (shape {x.shape})")
    shape = (1,) * (len(sizes) - x.ndim) + x.shape
    interleaved = reshape(x, tuple(v for n in shape for v in (1, n)))
    spread = broadcast_to(interleaved, tuple(v for r, n in zip(sizes, shape) for v in (r, n)))
    return reshape(clone(spread), tuple(r * n for r, n in zip(sizes, shape)))


def unbind(x, dim=0):
    """The slices along ``dim``, that dim removed, as a tuple (torch.unbind)."""
    d = normalize_dim(dim, x.ndim, "unbind")
    return tuple(getitem(x, (slice(None),) * d + (i,)) for i in range(x.shape[d]))


def narrow(x, dim, start, length):
    """``x`` restricted to ``start … start + length − 1`` along ``dim`` (a view)."""
    d = normalize_dim(dim, x.ndim, "narrow")
    start = start + x.shape[d] if start < 0 else start
    if not (0 <= start and length >= 0 and start + length <= x.shape[d]):
        raise RuntimeError(f"narrow: start {start} and length {length} exceed dim {d} of size {x.shape[d]}")
    return getitem(x, (slice(None),) * d + (slice(start, start + length),))


def clone(x):
    """A copy with its own memory, in the graph (the gradient passes unchanged)."""
    return result(x.array.copy(), "clone", (x,), (lambda g, y: g,))


def _index_arrays(index, data):
    """Move integer/bool index arrays (lists, NumPy, Tensors) to ``data``'s device. A 0-d
    integer tensor is a plain int, as PyTorch reads it."""
    array_module = backend.xp(data)

    def move(i):
        if isinstance(i, Tensor):
            i = i.array
        if isinstance(i, (list, np.ndarray)) or backend.is_cupy(i):
            i = array_module.asarray(i)
            return int(i) if i.ndim == 0 and i.dtype.kind in "iu" else i
        return i
    return tuple(move(i) for i in index) if isinstance(index, tuple) else move(index)


def _is_int(i):
    return isinstance(i, (int, np.integer)) and not isinstance(i, (bool, np.bool_))


def _place(data, index):
    """``(target, key)`` such that ``target[key]`` is ``data[index]`` as PyTorch reads it
    (and ``target[key] = v`` writes it into ``data``).

    The two disagree on a key that mixes ints with index arrays: PyTorch takes an int as a
    plain select (the dim goes away), then applies the index arrays to what is left; NumPy
    takes the int as one more index array, and index arrays separated by a slice send their
    dims to the front. So ``x[1, :, idx]`` of shape (2, 3, 4) is (3, len(idx)) in PyTorch,
    (len(idx), 3) in NumPy. Such a key is applied in two steps: the ints and slices first
    (basic indexing: ``target`` is a view of ``data``), then the arrays, where NumPy's rule
    on what remains is PyTorch's."""
    parts = index if isinstance(index, tuple) else (index,)
    arrays = [hasattr(p, "ndim") and not isinstance(p, np.generic) for p in parts]
    if not (any(arrays) and any(_is_int(p) for p in parts)) or any(isinstance(p, (bool, np.bool_)) for p in parts):
        return data, index
    basic, advanced = [], []
    for p, is_array in zip(parts, arrays):
        if is_array:  # a boolean mask spans as many dims as it has
            basic += [slice(None)] * (p.ndim if p.dtype.kind == "b" else 1)
            advanced.append(p)
        elif _is_int(p):
            basic.append(p)
        else:
            basic.append(p)
            advanced.append(p if p is Ellipsis else slice(None))  # a slice or None is applied already
    return data[tuple(basic)], tuple(advanced)


def _check_key(index, x, op):
    """On a GPU, check each integer index array of a key (as ``_index_arrays`` gives it)
    against the dim of x it addresses: -size ≤ i < size, PyTorch's IndexError otherwise,
    queued (``check_index_range``), since CuPy would wrap the index around. On the CPU
    NumPy checks every index itself (its IndexError is reworded by ``_reworded``)."""
    if not backend.is_cupy(x.array):
        return
    shape = x.shape
    parts = index if isinstance(index, tuple) else (index,)
    arrays = [hasattr(p, "ndim") and not isinstance(p, np.generic) for p in parts]
    spans = [0 if p is None or p is Ellipsis or isinstance(p, (bool, np.bool_))
             else p.ndim if is_array and p.dtype.kind == "b" else 1 for p, is_array in zip(parts, arrays)]
    dim = 0
    for p, is_array, span in zip(parts, arrays, spans):
        if p is Ellipsis:
            dim += len(shape) - sum(spans)
            continue
        if is_array and p.dtype.kind in "iu" and dim < len(shape):
            check_index_range(p, shape[dim], lambda bad, d=dim, size=shape[dim]: IndexError(
                f"{op}: index {bad} is out of bounds for dimension {d} with size {size}"))
        dim += span


def _reworded(error, op, x):
    """NumPy's (or CuPy's) IndexError in PyTorch's words: "dimension", not "axis"."""
    return IndexError(f"{op}: {str(error).replace(' axis ', ' dimension ')} (tensor shape {x.shape})")


def getitem(x, index):
    """``x[index]`` as PyTorch reads it: basic slicing, integer-array and boolean indexing,
    and keys that mix them (see ``_place``). Wrong keys raise IndexError, as in PyTorch;
    on a GPU an index out of range raises at the next read from the device."""
    index = _index_arrays(index, x.array)
    _check_key(index, x, "getitem")
    return _select(x, index)


def _select(x, index):
    """``getitem`` of a key whose index arrays are on x's device and checked already."""
    try:
        target, key = _place(x.array, index)
        data = target[key]
    except IndexError as error:
        raise _reworded(error, "getitem", x) from None
    x_shape = x.shape
    return result(data, "getitem", (x,), (lambda g, y: scatter_to(g, index, x_shape),), view_of=x)


def nonzero(x, as_tuple=False):
    """The indices of the nonzero elements: an (n, ndim) int64 tensor, or one index
    tensor per dim with ``as_tuple=True``, as torch.nonzero."""
    found = backend.xp(x.array).argwhere(x.array).astype(np.int64)
    if as_tuple:
        return tuple(Tensor._wrap(found[:, i].copy()) for i in range(max(x.ndim, 1)))
    return Tensor._wrap(found)


def unique(x, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct values of x, sorted (and, if asked, where each element went and how
    often each value occurs), as torch.unique over all elements; no gradient."""
    if dim is not None:
        raise NotImplementedError("unique: dim= is not implemented; unique works on all elements")
    values, inverse, counts = backend.xp(x.array).unique(x.array, return_inverse=True, return_counts=True)
    out = (Tensor._wrap(values),)
    if return_inverse:
        out += (Tensor._wrap(inverse.reshape(x.shape).astype(np.int64)),)
    if return_counts:
        out += (Tensor._wrap(counts.astype(np.int64)),)
    return out[0] if len(out) == 1 else out


def scatter_to(g, index, shape):
    """The VJP of ``getitem``: a zero tensor of ``shape`` with ``g`` added at ``index``
    (repeated indices add up, since each use of an element sends its gradient back)."""
    data = backend.xp(g.array).zeros(shape, dtype=g.dtype)
    backend.scatter_add(*_place(data, index), g.array)
    return result(data, "scatter_to", (g,), (lambda gg, y: _select(gg, index),))


def index_put(x, index, value):
    """A copy of ``x`` with ``x[index] = value`` (``value`` broadcast to the selection and
    cast to x's dtype); ``x[index] = value`` is this op done in place.
    Gradients: x's is g with the overwritten places zeroed; value's is g at those places."""
    index = _index_arrays(index, x.array)
    _check_key(index, x, "setitem")
    return _put(x, index, value)


def _put(x, index, value):
    """``index_put`` of a key whose index arrays are on x's device and checked already."""
    value = lift(value, x, dtype=x.dtype)
    check_devices("setitem", x, value)
    if value.dtype != x.dtype:
        value = astype(value, x.dtype)
    data = x.array.copy()
    try:
        target, key = _place(data, index)
        target[key] = value.array
    except IndexError as error:
        raise _reworded(error, "setitem", x) from None
    except ValueError:
        raise RuntimeError(f"setitem: a value of shape {value.shape} cannot be broadcast to the "
                           f"selection of shape {target[key].shape} (tensor shape {x.shape})") from None
    value_shape, x_shape = value.shape, x.shape

    def grad_value(g, y):
        picked = _select(g, index) * _winners(x_shape, index, backend.xp(g.array), g.dtype)
        lead = value.ndim - picked.ndim  # NumPy lets a value carry extra leading 1s
        return reshape(sum_to(picked, value_shape[lead:] if lead > 0 else value_shape), value_shape)
    return result(data, "index_put", (x, value), (lambda g, y: _put(g, index, 0), grad_value))


def _winners(shape, index, xp, dtype):
    """1 where a place of the selection ``index`` kept its value, 0 where a later repeat
    of the same index overwrote it: only the last write reaches the output, so only it
    gets a gradient (PyTorch gives every repeat the gradient; finite differences agree
    with this). The winners are found by the same assignment, so they match the forward
    on the CPU; a GPU does not promise which repeat wins."""
    parts = index if isinstance(index, tuple) else (index,)
    if not any(hasattr(p, "dtype") and p.dtype.kind in "iu" for p in parts):
        return 1.0  # slices and masks never select a place twice
    target, key = _place(xp.full(shape, -1, dtype=np.int64), index)
    selection = target[key].shape
    order = xp.arange(int(np.prod(selection))).reshape(selection)
    target[key] = order
    return Tensor._wrap((target[key] == order).astype(dtype))


def _along(x, dim, index, op, negatives=False):
    """For ``index`` with x's number of dims: the integer arrays that address
    ``x[i][index[i][j][k]][k]`` (dim=1) for every position (i, j, k) of index, as
    torch.gather and torch.scatter read it. As in torch, a 0-d index counts as 1-d, so
    ``zeros(10).scatter_(0, tensor(3), value=1)`` (a one-hot label) works, and an index
    must lie in [0, size) along ``dim`` (in [-size, size) with ``negatives``): torch's
    RuntimeError otherwise, at the next read from the device on a GPU."""
    d = normalize_dim(dim, x.ndim, op)
    picks = index.array if isinstance(index, Tensor) else backend.xp(x.array).asarray(index)
    if picks.dtype.kind not in "iu" or max(picks.ndim, 1) != x.ndim or x.ndim == 0:
        raise RuntimeError(f"{op}: index of shape {tuple(picks.shape)} and dtype {picks.dtype} must be an "
                           f"integer tensor with as many dims as the input of shape {x.shape} (at least 1)")
    if any(m > n for i, (m, n) in enumerate(zip(picks.shape, x.shape)) if i != d):
        raise RuntimeError(f"{op}: index of shape {tuple(picks.shape)} is larger than the input of shape "
                           f"{x.shape} outside dim {d}")
    size = x.shape[d]
    check_index_range(picks, size, lambda bad: RuntimeError(
        f"{op}: index {bad} is out of bounds for dimension {d} with size {size}"), negatives=negatives)
    if picks.ndim == 0:  # x is 1-d: the index alone addresses it
        return (picks,), ()
    grid = backend.xp(picks).ogrid[tuple(slice(n) for n in picks.shape)]
    return tuple(picks if i == d else grid[i] for i in range(x.ndim)), tuple(picks.shape)


def gather(x, dim, index):
    """``out[i][j][k] = x[i][index[i][j][k]][k]`` for dim=1 (torch.gather). Built on
    ``getitem`` with an integer array per dim, so its VJP is getitem's scatter."""
    return _gather(x, dim, index, "gather")


def _gather(x, dim, index, op, negatives=False):
    """``gather`` under the name ``op``, negative indices allowed with ``negatives``."""
    where, _ = _along(x, dim, index, op, negatives)
    return _select(x, where)


def _source(src, shape, like, op):
    """scatter's ``src``: a number, or a tensor whose leading corner of ``shape`` is used."""
    if not isinstance(src, Tensor):
        return lift(src, like, dtype=like.dtype)
    if src.ndim != len(shape) or any(m > n for m, n in zip(shape, src.shape)):
        raise RuntimeError(f"{op}: src of shape {src.shape} is smaller than the index of shape {shape}")
    return getitem(src, tuple(slice(n) for n in shape)) if src.shape != shape else src


def scatter(x, dim, index, src=None, value=None, *, reduce=None):
    """A copy of x with ``out[i][index[i][j]] = src[i][j]`` (dim=1), as torch.scatter;
    ``src`` may be a tensor or a number (or give ``value=``). Built on ``index_put``, so
    where an index repeats the last write wins and only it gets a gradient. reduce="add" or
    "multiply" combines instead (``scatter_reduce`` with "sum" or "prod")."""
    if (src is None) == (value is None):
        raise TypeError("scatter: give src or value")
    if reduce is not None:
        if reduce not in ("add", "multiply"):
            raise RuntimeError(f"scatter: reduce argument must be either add or multiply, got {reduce!r}")
        return scatter_reduce(x, dim, index, value if src is None else src, {"add": "sum", "multiply": "prod"}[reduce])
    where, shape = _along(x, dim, index, "scatter")
    return _put(x, where, _source(value if src is None else src, shape, x, "scatter"))


def scatter_add(x, dim, index, src):
    """A copy of x with ``src`` added at ``index`` along ``dim`` (repeated indices add
    up), as torch.scatter_add. Gradients: g for x, g read back at index for src."""
    where, shape = _along(x, dim, index, "scatter_add")
    src = broadcast_to(_source(src, shape, x, "scatter_add"), shape)
    if src.dtype != x.dtype:
        src = astype(src, x.dtype)
    data = x.array.copy()
    backend.scatter_add(data, where, src.array)
    return result(data, "scatter_add", (x, src), (lambda g, y: g, lambda g, y: _select(g, where)))


def index_select(x, dim, index):
    """The entries ``index`` (1-D integers in [0, size)) along ``dim``, as torch.index_select."""
    d = normalize_dim(dim, x.ndim, "index_select")
    picks = index.array if isinstance(index, Tensor) else backend.host_array(index)
    if picks.ndim > 1 or picks.dtype.kind not in "iu":
        raise RuntimeError(f"index_select: index must be a 1-D integer tensor, got shape {tuple(picks.shape)} "
                           f"and dtype {picks.dtype}")
    size = x.shape[d] if x.ndim else 1
    check_index_range(picks, size, lambda bad: IndexError(
        f"index_select: index {bad} is out of range for dimension {d} with size {size}"), negatives=False)
    return _select(x, _index_arrays((slice(None),) * d + (picks.reshape(-1),), x.array))


def masked_select(x, mask):
    """The elements of x where ``mask`` (broadcast with x) holds, as a 1-D tensor."""
    xp = backend.xp(x.array)
    m = xp.asarray(mask.array if isinstance(mask, Tensor) else mask).astype(bool)
    try:
        shape = np.broadcast_shapes(x.shape, m.shape)
    except ValueError:
        raise RuntimeError(f"masked_select: mask of shape {m.shape} and input of shape {x.shape} "
                           f"cannot be broadcast together") from None
    return getitem(broadcast_to(x, shape), xp.broadcast_to(m, shape))


def take(x, index):
    """x flattened, then indexed: ``take(x, index)`` has index's shape, as torch.take;
    each index must lie in [-numel, numel)."""
    picks = _index_arrays(index.array if isinstance(index, Tensor) else backend.host_array(index), x.array)
    if hasattr(picks, "dtype") and picks.dtype.kind in "iu":
        numel = x.numel()
        check_index_range(picks, numel, lambda bad: IndexError(
            f"take: index {bad} is out of range for a tensor of {numel} elements"))
    return _select(reshape(x, (-1,)), picks)


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
        data = backend.xp(tensors[0].array).concatenate([t.array for t in tensors], axis=d)
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
        return Tensor._wrap(x.array.astype(dtype))
    return result(x.array.astype(dtype), "astype", (x,), (lambda g, y: astype(g, x_dtype),))


def to_device(x, device):
    return result(backend.to_device(x.array, device), "to_device", (x,),
                  (lambda g, y: to_device(g, x.device),))


# ---- more rearrangements, each built from the ops above (so their VJPs come for free) --------
def unflatten(x, dim, sizes):
    """Split dim ``dim`` into ``sizes`` (one may be −1), as torch.unflatten."""
    d = normalize_dim(dim, x.ndim, "unflatten")
    return reshape(x, x.shape[:d] + tuple(sizes) + x.shape[d + 1:])


def movedim(x, source, destination):
    """Move dims ``source`` to places ``destination`` (ints or tuples), the others keeping
    their order, as torch.movedim."""
    src = (source,) if isinstance(source, (int, np.integer)) else tuple(source)
    dst = (destination,) if isinstance(destination, (int, np.integer)) else tuple(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(src)} dims) should "
                           f"contain the same number of dims as destination ({list(dst)} dims)")
    src = [normalize_dim(s, x.ndim, "movedim") for s in src]
    dst = [normalize_dim(t, x.ndim, "movedim") for t in dst]
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise RuntimeError(f"movedim: repeated dim in source {src} or destination {dst}")
    order = [None] * x.ndim
    for s, t in zip(src, dst):
        order[t] = s
    rest = iter(d for d in range(x.ndim) if d not in src)
    return permute(x, [o if o is not None else next(rest) for o in order])


moveaxis = movedim


def swapdims(x, dim0, dim1):
    """torch's other name for ``transpose``."""
    return transpose(x, dim0, dim1)


def repeat_interleave(x, repeats, dim=None, *, output_size=None):
    """Repeat each element ``repeats`` times along ``dim`` (the flattened tensor when None),
    as torch.repeat_interleave: [a, b] → [a, a, b, b]. ``repeats`` is an int, or one count
    per element (a 1-D integer tensor)."""
    if dim is None:
        x, d = reshape(x, (-1,)), 0
    else:
        d = normalize_dim(dim, x.ndim, "repeat_interleave")
    counts = repeats.array if isinstance(repeats, Tensor) else repeats
    if isinstance(counts, (int, np.integer)) or np.ndim(counts) == 0:
        count = int(counts)
        if count < 0:
            raise RuntimeError(f"repeat_interleave: repeats must be non-negative, got {count}")
        if x.ndim == 0:
            x, d = reshape(x, (1,)), 0
        # insert a dim after d, broadcast it to the count, merge the two: each entry repeated in place
        expanded = broadcast_to(unsqueeze(x, d + 1), x.shape[:d + 1] + (count,) + x.shape[d + 1:])
        return reshape(expanded, x.shape[:d] + (x.shape[d] * count,) + x.shape[d + 1:])
    counts = np.asarray(backend.to_numpy(counts))
    if counts.ndim != 1 or counts.shape[0] not in (1, x.shape[d]) or (counts < 0).any():
        raise RuntimeError(f"repeat_interleave: repeats must be one non-negative count per element of dim {d} "
                           f"(size {x.shape[d]}), got shape {counts.shape}")
    return index_select(x, d, Tensor._wrap(np.repeat(np.arange(x.shape[d]), counts)).to(x.device))


def roll(x, shifts, dims=None):
    """Rotate the entries along ``dims`` by ``shifts`` (those falling off one end come back at
    the other), as torch.roll; with no dims the flattened tensor is rolled."""
    shift_list = (shifts,) if isinstance(shifts, (int, np.integer)) else tuple(shifts)
    if dims is None:
        if len(shift_list) != 1:
            raise RuntimeError(f"roll: with no dims, shifts must be one number, got {list(shift_list)}")
        return reshape(roll(reshape(x, (-1,)), shift_list[0], 0), x.shape)
    dim_list = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    if len(shift_list) != len(dim_list):
        raise RuntimeError(f"roll: shifts and dimensions must align. shifts: {len(shift_list)}, "
                           f"dims: {len(dim_list)}")
    for shift, dim in zip(shift_list, dim_list):
        d = normalize_dim(dim, x.ndim, "roll")
        n = x.shape[d] if x.ndim else 1
        k = int(shift) % n if n else 0
        if k:
            x = cat([narrow(x, d, n - k, k), narrow(x, d, 0, n - k)], d)
    return x


def diagonal(x, offset=0, dim1=0, dim2=1):
    """The entries x[.., i, .., i + offset, ..] of dims ``dim1`` and ``dim2`` as a new last
    dim, as torch.diagonal (picked by integer indexing, so the gradient scatters back)."""
    d1, d2 = normalize_dim(dim1, x.ndim, "diagonal"), normalize_dim(dim2, x.ndim, "diagonal")
    if d1 == d2:
        raise RuntimeError(f"diagonal: dim1 and dim2 cannot be the same dim ({d1})")
    x = movedim(x, (d1, d2), (-2, -1))
    rows, cols = x.shape[-2], x.shape[-1]
    first_row, first_col = max(-offset, 0), max(offset, 0)
    length = max(min(rows - first_row, cols - first_col), 0)
    steps = np.arange(length)
    index_rows = Tensor._wrap(steps + first_row).to(x.device)
    index_cols = Tensor._wrap(steps + first_col).to(x.device)
    return getitem(x, (Ellipsis, index_rows, index_cols))


_diagonal_of = diagonal  # for diag, whose torch keyword ``diagonal`` hides the function


def diag_embed(x, offset=0):
    """Square matrices with x's last dim on their diagonal ``offset`` (torch.diag_embed with
    its default dims): shape (..., n) → (..., n + |offset|, n + |offset|)."""
    n = x.shape[-1]
    xp = backend.xp(x.array)
    on_diagonal = unsqueeze(x, -1) * Tensor._wrap(xp.eye(n, dtype=x.dtype))      # (..., n, n)
    k = abs(int(offset))
    if not k:
        return on_diagonal
    lead = x.shape[:-1]
    side = Tensor._wrap(xp.zeros(lead + (n, k), dtype=x.dtype))
    band = Tensor._wrap(xp.zeros(lead + (k, n + k), dtype=x.dtype))
    if offset > 0:   # x_i at (i, i + k): zero columns on the left, zero rows below
        return cat([cat([side, on_diagonal], -1), band], -2)
    return cat([band, cat([on_diagonal, side], -1)], -2)   # x_i at (i + k, i)


def diag(x, diagonal=0):
    """A 1-D x → the square matrix with x on diagonal ``diagonal``; a 2-D x → that diagonal
    of it (torch.diag)."""
    if x.ndim == 1:
        return diag_embed(x, diagonal)
    if x.ndim == 2:
        return _diagonal_of(x, diagonal)
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {x.ndim}D (shape {x.shape})")


def trace(x):
    """The sum of a matrix's main diagonal, as torch.trace."""
    if x.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {x.ndim} (shape {x.shape})")
    from minigrad.ops.reduce import sum
    return sum(diagonal(x))


def unfold(x, dimension, size, step):
    """Every window of ``size`` entries along ``dimension``, ``step`` apart, as a new last dim
    (torch.Tensor.unfold): shape (.., n, ..) → (.., (n − size) // step + 1, .., size)."""
    d = normalize_dim(dimension, x.ndim, "unfold")
    n = x.shape[d] if x.ndim else 1
    if size > n:
        raise RuntimeError(f"unfold: maximum size for tensor at dimension {d} is {n} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"unfold: step is {step} but must be > 0")
    if x.ndim == 0:
        return reshape(x, (size,))
    windows = (n - size) // step + 1
    index = Tensor._wrap(np.arange(windows)[:, None] * step + np.arange(size)[None, :]).to(x.device)
    picked = getitem(movedim(x, d, -1), (Ellipsis, index))          # (.., windows, size)
    return movedim(picked, -2, d)


def meshgrid(*tensors, indexing="ij"):
    """Coordinate grids from 1-D tensors, as torch.meshgrid: with ``indexing='ij'`` grid i
    varies along dim i; ``'xy'`` swaps the first two dims (NumPy's and MATLAB's habit)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but received: {indexing}")
    vectors = [reshape(t, (-1,)) for t in tensors]
    shape = tuple(v.shape[0] for v in vectors)
    grids = []
    for i, v in enumerate(vectors):
        grid = broadcast_to(reshape(v, (1,) * i + (-1,) + (1,) * (len(shape) - i - 1)), shape)
        grids.append(transpose(grid, 0, 1) if indexing == "xy" and len(shape) > 1 else grid)
    return tuple(grids)


_SCATTER_UFUNCS = {"sum": "add", "mean": "add", "prod": "multiply", "amax": "maximum", "amin": "minimum"}
_DEVICE_EXTREMES = ("int32", "uint32", "uint64", "float32", "float64")  # what cupyx.scatter_max/min take


def _combine(data, where, values, ufunc):
    """``data[where] (ufunc)= values`` in place, repeated places combined (NumPy's
    ``ufunc.at``). On a GPU: cupyx's scatter kernels for add (``backend.scatter_add``) and
    for maximum/minimum in the dtypes CUDA's atomics take; multiply and the other dtypes
    go through the host (one round trip each way), CuPy having no kernel for them."""
    xp = backend.xp(data)
    if ufunc == "add":
        backend.scatter_add(data, where, values)
    elif backend.is_cupy(data) and ufunc != "multiply" and data.dtype.name in _DEVICE_EXTREMES:
        import cupyx
        was_nan = xp.isnan(data) if data.dtype.kind == "f" else None
        (cupyx.scatter_max if ufunc == "maximum" else cupyx.scatter_min)(data, where, values)
        if was_nan is not None:  # a NaN wins, as in torch and NumPy, whatever the atomics make of it
            hit = xp.zeros(data.shape, dtype=np.int64)
            backend.scatter_add(hit, where, xp.isnan(values).astype(np.int64))
            data[...] = xp.where(was_nan | (hit > 0), np.nan, data)
    elif backend.is_cupy(data):
        host = backend.to_numpy(data)
        with np.errstate(invalid="ignore"):  # a NaN is an answer here, as in torch: no warning
            getattr(np, ufunc).at(host, tuple(backend.to_numpy(w) for w in where), backend.to_numpy(values))
        data[...] = backend.to_device(host, "cuda")
    else:
        with np.errstate(invalid="ignore"):
            getattr(np, ufunc).at(data, where, values)


def scatter_reduce(x, dim, index, src, reduce, *, include_self=True):
    """A copy of x where each ``src`` entry is combined into the place ``index`` sends it
    along ``dim`` with ``reduce`` ("sum", "prod", "mean", "amax", "amin"), x's own value
    taking part unless ``include_self=False``, as torch.scatter_reduce. Gradients are
    implemented for "sum" and "mean" (g back to x where it took part, g read at index
    for src, each divided by the count for "mean")."""
    if reduce not in _SCATTER_UFUNCS:
        raise RuntimeError(f"scatter_reduce: reduce argument must be either sum, prod, mean, amax or amin, "
                           f"got {reduce!r}")
    where, shape = _along(x, dim, index, "scatter_reduce")
    src = broadcast_to(_source(src, shape, x, "scatter_reduce"), shape)
    if src.dtype != x.dtype:
        raise RuntimeError(f"scatter_reduce: Expected self.dtype to be equal to src.dtype, got {x.dtype} and "
                           f"{src.dtype}")
    if reduce not in ("sum", "mean") and (x.requires_grad or src.requires_grad) and is_grad_enabled():
        raise NotImplementedError(f"scatter_reduce: the gradient of reduce={reduce!r} is not implemented; "
                                  f"call it under no_grad() or on tensors that do not require grad")
    xp = backend.xp(x.array)
    touched = xp.zeros(x.shape, dtype=np.int64)  # how many src entries land on each place
    backend.scatter_add(touched, where, xp.ones(shape, dtype=np.int64))
    data = x.array.copy()
    if not include_self:  # every touched place starts from the reduction's identity
        lowest, highest = ((-np.inf, np.inf) if x.dtype.kind == "f" else (False, True) if x.dtype.kind == "b"
                           else (np.iinfo(x.dtype).min, np.iinfo(x.dtype).max))
        identity = {"sum": 0, "mean": 0, "prod": 1, "amax": lowest, "amin": highest}[reduce]
        data = xp.where(touched > 0, identity, data).astype(x.dtype, copy=False)
    _combine(data, where, src.array, _SCATTER_UFUNCS[reduce])
    count = touched + (1 if include_self else 0)
    if reduce == "mean":  # integer means round down, as torch's
        divided = data / xp.maximum(count, 1)
        data = xp.where(touched > 0, divided if x.dtype.kind == "f" else xp.floor(divided), data).astype(x.dtype)
    # "sum"/"mean": x's entries take part where include_self or where nothing lands (1/count of a mean)
    share = xp.where(touched > 0, (1.0 if include_self else 0.0) / (xp.maximum(count, 1) if reduce == "mean" else 1),
                     1.0)
    share = Tensor._wrap(share.astype(x.dtype))
    per_src = Tensor._wrap((1.0 / xp.maximum(count, 1)).astype(x.dtype)) if reduce == "mean" else None
    return result(data, "scatter_reduce", (x, src),
                  (lambda g, y: g * share,
                   lambda g, y: _select(g if per_src is None else g * per_src, where)))


def take_along_dim(x, indices, dim=None):
    """Entries of x picked by ``indices`` along ``dim`` (the flattened x when None), the two
    broadcast against each other outside ``dim``, as torch.take_along_dim."""
    if dim is None:  # torch refuses negative indices here, and takes them with a dim
        return _gather(reshape(x, (-1,)), 0, reshape(indices, (-1,)), "take_along_dim")
    d = normalize_dim(dim, x.ndim, "take_along_dim")
    shape_x, shape_i = list(x.shape), list(indices.shape)
    shape_x[d] = shape_i[d] = 1
    common = np.broadcast_shapes(tuple(shape_x), tuple(shape_i))
    x = broadcast_to(x, common[:d] + (x.shape[d],) + common[d + 1:])
    indices = Tensor._wrap(backend.xp(indices.array).broadcast_to(indices.array,
                                                                 common[:d] + (indices.shape[d],) + common[d + 1:]))
    return _gather(x, d, indices, "take_along_dim", negatives=True)


def argwhere(x):
    """The positions of the nonzero entries, one row each: (count, ndim) int64."""
    return nonzero(x)


def atleast_1d(x):
    return reshape(x, (1,)) if x.ndim == 0 else x


def atleast_2d(x):
    return reshape(x, (1,) * (2 - x.ndim) + x.shape) if x.ndim < 2 else x


def atleast_3d(x):
    """As torch: () → (1, 1, 1), (n,) → (1, n, 1), (m, n) → (m, n, 1)."""
    if x.ndim == 0:
        return reshape(x, (1, 1, 1))
    if x.ndim == 1:
        return reshape(x, (1, x.shape[0], 1))
    return reshape(x, x.shape + (1,)) if x.ndim == 2 else x


def hstack(tensors):
    """Join along dim 1 (dim 0 for 1-D tensors)."""
    tensors = [atleast_1d(t) for t in tensors]
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors):
    """Join along dim 0, 1-D tensors as rows."""
    return cat([atleast_2d(t) for t in tensors], 0)


def dstack(tensors):
    """Join along dim 2 (depth), after atleast_3d."""
    return cat([atleast_3d(t) for t in tensors], 2)


def column_stack(tensors):
    """1-D (and 0-d) tensors as columns, the others as they are, joined along dim 1."""
    return hstack([reshape(t, (-1, 1)) if t.ndim < 2 else t for t in tensors])


def fliplr(x):
    return flip(x, 1)


def flipud(x):
    return flip(x, 0)
