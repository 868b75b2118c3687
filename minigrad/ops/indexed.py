"""Writes along one dim at listed positions, as torch's ``index_add``, ``index_copy`` and
``index_fill``: the slices ``index[i]`` of x along ``dim`` receive slice ``i`` of a source
(added or copied) or one value. Their in-place forms (``x.index_add_(...)``) are these ops
done through ``ops.inplace``.

``index`` is a 1-D (or 0-d) int64/int32 tensor. Its range is checked as torch checks it: at
once on the CPU; on a GPU the check is queued (``backend.defer_check``, raised at the next
read from the device, no wait now) and the indices are clipped meanwhile, so no write lands
outside the array.
"""
from minigrad import backend
from minigrad.ops.base import check_devices, check_index_range, lift, normalize_dim
from minigrad.ops.elementwise import where
from minigrad.ops.shape import astype, index_select, reshape
from minigrad.tensor import Tensor, result


# torch's own checks of the index, op by op: (int32 accepted, class of the dtype error, of the dims error)
_INDEX_RULES = {"index_add_": (True, RuntimeError, IndexError), "index_copy_": (False, RuntimeError, IndexError),
                "index_fill_": (False, IndexError, RuntimeError)}


def _positions(x, dim, index, op, error=RuntimeError, wrap=False):
    """(d, the indices as a 1-D int64 array on x's device), range-checked against x.shape[d].
    ``wrap``: negative indices count from the end (index_fill), else they are out of range."""
    d = normalize_dim(dim, x.ndim, op)
    picks = index.array if isinstance(index, Tensor) else backend.xp(x.array).asarray(index)
    int32_ok, dtype_error, dims_error = _INDEX_RULES[op]
    if not (picks.dtype == "int64" or int32_ok and picks.dtype == "int32"):
        raise dtype_error(f"{op}(): Expected dtype {'int32/' * int32_ok}int64 for index, got {picks.dtype}")
    if picks.ndim > 1:
        raise dims_error(f"{op}(): index should be a vector or a scalar, got shape {tuple(picks.shape)}")
    if backend.device_of(picks) != x.device:
        raise RuntimeError(f"{op}(): index on {backend.device_of(picks)} and self on {x.device}: "
                           f"move them to one device")
    picks = picks.reshape(-1).astype("int64")
    size = x.shape[d] if x.ndim else 1
    if not picks.size:
        return d, picks
    xp = backend.xp(picks)
    if wrap:
        picks = xp.where(picks < 0, picks + size, picks)

    def out_of_range(bad):
        return error(f"{op}(): index {bad - size if wrap and bad < 0 else bad} is out of bounds for "
                     f"dimension {d} with size {size}")
    check_index_range(picks, size, out_of_range, negatives=False)
    return d, (xp.clip(picks, 0, size - 1) if backend.is_cupy(picks) else picks)


def _slices(d, picks):
    return (slice(None),) * d + (picks,)


def _check_source(x, d, picks, source, op, count_error=RuntimeError):
    """``source`` must be a tensor of x's dtype with x's shape except len(index) along d
    (``count_error``: torch's class when only that length is wrong)."""
    if not isinstance(source, Tensor):
        raise TypeError(f"{op}(): argument 'source' must be Tensor, not {type(source).__name__}")
    check_devices(op, x, source)
    if source.dtype != x.dtype:
        raise RuntimeError(f"{op}(): self ({x.dtype}) and source ({source.dtype}) must have the same scalar type")
    expected = x.shape[:d] + (picks.size,) + x.shape[d + 1:]
    if source.ndim == x.ndim and source.shape[:d] + source.shape[d + 1:] == x.shape[:d] + x.shape[d + 1:] \
            and source.shape[d] != picks.size:
        raise count_error(f"{op}(): Number of indices ({picks.size}) should be equal to source.size(dim) "
                          f"({source.shape[d]}), for dim {d}")
    if tuple(source.shape) != tuple(expected):
        raise RuntimeError(f"{op}(): source tensor shape must match self tensor shape, excluding the specified "
                           f"dimension, with {picks.size} indices along it. Got self.shape = {list(x.shape)} "
                           f"source.shape = {list(source.shape)} (dim {d})")


def _on_a_scalar(name, op, x, dim, index, source):
    """A 0-d x (and source) handled as 1-element 1-d tensors, as torch reads them."""
    normalize_dim(dim, 0, name)
    if source.ndim:
        raise RuntimeError(f"{name}(): source tensor shape must match self tensor shape, excluding "
                           f"the specified dimension. Got self.shape = [] source.shape = {list(source.shape)}")
    return reshape(op(reshape(x, (1,)), 0, index, reshape(source, (1,))), ())


def index_add(x, dim, index, source, *, alpha=1):
    """``out = x`` with ``out[..., index[i], ...] += alpha * source[..., i, ...]`` along ``dim``;
    repeated indices add up. x (..., n, ...), index (k,), source (..., k, ...), out like x.
    Gradients: x's is g; source's is alpha · g read back at index."""
    if x.ndim == 0:
        return _on_a_scalar("index_add_", lambda *a: index_add(*a, alpha=alpha), x, dim, index, source)
    d, picks = _positions(x, dim, index, "index_add_")
    _check_source(x, d, picks, source, "index_add_")
    data = x.array.copy()
    backend.scatter_add(data, _slices(d, picks), source.array if alpha == 1 else source.array * alpha)
    where_read = Tensor._wrap(picks)

    def grad_source(g, y):
        picked = index_select(g, d, where_read)
        return picked if alpha == 1 else picked * alpha
    return result(data, "index_add", (x, source), (lambda g, y: g, grad_source))


def index_copy(x, dim, index, source):
    """``out = x`` with ``out[..., index[i], ...] = source[..., i, ...]`` along ``dim`` (with a
    repeated index, which copy lands is not defined, as in torch). Shapes as ``index_add``.
    Gradients: x's is g with the overwritten slices zeroed; source's is g read back at index."""
    if x.ndim == 0:
        return _on_a_scalar("index_copy_", index_copy, x, dim, index, source)
    d, picks = _positions(x, dim, index, "index_copy_", error=IndexError)
    _check_source(x, d, picks, source, "index_copy_", count_error=IndexError)
    data = x.array.copy()
    data[_slices(d, picks)] = source.array
    where_read, written = Tensor._wrap(picks), _mask(x, d, picks)
    return result(data, "index_copy", (x, source),
                  (lambda g, y: where(written, 0, g), lambda g, y: index_select(g, d, where_read)))


def _mask(x, d, picks):
    """A bool tensor, True on the slices ``picks`` of dim d, shaped to broadcast against x."""
    hit = backend.xp(x.array).zeros(x.shape[d] if x.ndim else 1, dtype=bool)
    hit[picks] = True
    return Tensor._wrap(hit.reshape(tuple(hit.size if i == d else 1 for i in range(x.ndim))))


def index_fill(x, dim, index, value):
    """``out = x`` with the slices ``index`` along ``dim`` set to ``value`` (a number or a 0-d
    tensor, cast to x's dtype); negative indices count from the end. Built on ``where``,
    so x's gradient is g off those slices and value's is the sum of g on them."""
    d, picks = _positions(x, dim, index, "index_fill_", error=IndexError, wrap=True)
    if isinstance(value, Tensor) and value.ndim:
        raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                           f"{value.ndim} dimension(s).")
    value = lift(value, x, dtype=x.dtype)
    check_devices("index_fill_", x, value)
    if value.dtype != x.dtype:
        value = astype(value, x.dtype)
    return where(_mask(x, d, picks), value, x)
