"""What every op does before it computes: turn numbers into tensors of the result
dtype (PyTorch's promotion rules, ``minigrad.dtypes``), refuse inputs that live on
different devices or whose shapes cannot broadcast, and read dims as PyTorch does."""
import functools
import inspect
import warnings

import numpy as np

from minigrad import backend, dtypes
from minigrad.creation import as_tensor
from minigrad.tensor import Tensor, is_grad_enabled


def lift(x, like, dtype=None, scalar=False):
    """``x`` as a Tensor on ``like``'s device. A Python number becomes a 0-d tensor of
    ``dtype`` (default: the dtype PyTorch gives it next to ``like``, so
    ``float32_tensor * 2.0`` stays float32 and ``int_tensor * 2.5`` is float32).
    With ``scalar=True``, next to a GPU tensor the number's array is a NumPy scalar of
    that dtype, which CuPy passes to its kernels as an argument: no device array is
    allocated and filled for it (a 0-d CPU tensor may meet a GPU tensor, as in PyTorch).
    Only for an operand that comes second (``x * 2.0``): NumPy's scalar on the left of an
    operator would hand the GPU array to a NumPy ufunc."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (int, float, bool, np.number, np.bool_)):
        if dtype is None:  # a number never raises a float tensor's dtype: skip the full rule
            dtype = like.array.dtype if like.array.dtype.kind == "f" else dtypes.result_type(like, x)
        if scalar and backend.is_cupy(like.array):
            return Tensor._wrap(np.dtype(dtype).type(x))
        return Tensor._wrap(backend.xp(like.array).asarray(x, dtype=dtype))
    return as_tensor(x, dtype=dtype, device=like.device)


def check_devices(op, *tensors):
    kind = type(tensors[0].array)
    # the usual case, without building device names; a plain loop, since a generator for
    # all() costs more than the test itself (0.34 against 0.82 µs for two tensors)
    for t in tensors:
        if type(t.array) is not kind:
            break
    else:
        return
    devices = {t.device for t in tensors if not isinstance(t.array, np.generic)}  # a lifted number: anywhere
    if len(devices) > 1:
        shown = ", ".join(f"{t.shape} on {t.device}" for t in tensors)
        raise RuntimeError(f"{op}: inputs are on different devices ({shown}); "
                           f"move them with .to('cpu') or .to('cuda')")


def check_index_range(indices, size, error, negatives=True):
    """Check that the integer array ``indices`` lies in [-size, size) (``negatives=True``,
    as indexing reads them) or in [0, size) (gather, scatter, index_select, labels);
    a failure raises ``error(bad)`` for an offending value ``bad``. On the CPU it is
    raised at once. On a GPU the check is queued (``backend.defer_check``: raised at the
    next read from the device, no wait now), because nothing else would catch it: CuPy
    does not check integer-array indices, an out-of-range one wraps around and picks a
    wrong element in silence (CuPy's documentation, "Differences between CuPy and
    NumPy", "Out-of-bounds indices")."""
    if not indices.size:
        return
    # compared as int64: an int8 or uint64 index beside a size or -size it cannot hold
    low, high = indices.min().astype(np.int64), indices.max().astype(np.int64)
    backend.defer_check((low < (-size if negatives else 0)) | (high >= size),
                        lambda: error(int(high) if int(high) >= size else int(low)))


def broadcast_shapes(op, *shapes):
    """The broadcast shape, or PyTorch's RuntimeError naming the op and the shapes."""
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        shown = " and ".join(str(tuple(s)) for s in shapes)
        raise RuntimeError(f"{op}: shapes {shown} cannot be broadcast together") from None


def binary(op, a, b, dtype=None):
    """Lift a pair of operands to tensors of one dtype (PyTorch's result type, or
    ``dtype``) and check they can meet: same device, broadcastable shapes."""
    if dtype is None and isinstance(a, Tensor):
        # The common cases, kept cheap because every op pays for them. Two tensors of one
        # dtype on one device (the same array type): nothing to lift or cast; only shapes
        # that differ need the broadcasting check.
        x = a.array
        if isinstance(b, Tensor):
            y = b.array
            if x.dtype == y.dtype and type(x) is type(y):
                if x.shape != y.shape and x.ndim and y.ndim:  # a 0-d operand broadcasts to anything
                    broadcast_shapes(op, x.shape, y.shape)
                return a, b
        elif (type(b) is float or type(b) is int) and x.dtype.kind == "f":
            # a float tensor and a Python number (``y * 1.5``): the number takes the tensor's
            # dtype (PyTorch's rule), and a 0-d operand broadcasts against any shape
            return a, lift(b, a, x.dtype, scalar=True)
    elif dtype is None and (type(a) is float or type(a) is int) and isinstance(b, Tensor) \
            and b.array.dtype.kind == "f":
        return lift(a, b, b.array.dtype), b  # the same with the number on the left (``1 - y``)
    like = a if isinstance(a, Tensor) else b
    if not isinstance(like, Tensor):
        raise TypeError(f"{op}: expected at least one Tensor, got {type(a).__name__} and {type(b).__name__}")
    a, b = lift(a, like), lift(b, like, scalar=True)
    if dtype is None:  # the common case first: one dtype already, nothing to promote
        # the arrays' NumPy dtypes and shapes: cheaper than the Tensor's minigrad.dtype and Size
        dtype = a.array.dtype if a.array.dtype == b.array.dtype else dtypes.result_type(a, b)
    a, b = a.to(dtype=dtype), b.to(dtype=dtype)  # differentiable casts; no-ops when already dtype
    check_devices(op, a, b)
    broadcast_shapes(op, a.array.shape, b.array.shape)
    return a, b


def normalize_dim(dim, ndim, op):
    """One dim as a non-negative int; out of range is PyTorch's IndexError. A 0-d
    tensor accepts 0 and -1, as in PyTorch."""
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"{op}: dim must be an int, got {dim!r}")
    size = max(ndim, 1)
    if not -size <= dim < size:
        raise IndexError(f"{op}: Dimension out of range (expected to be in range of "
                         f"[{-size}, {size - 1}], but got {dim})")
    return int(dim) % size


def normalize_axis(dim, ndim, op):
    """``dim`` (None for all, an int, or a tuple of ints) as a sorted tuple of
    non-negative dims. On a 0-d tensor dim 0 or -1 is the empty tuple: nothing to reduce."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    out = [normalize_dim(d, ndim, op) for d in dims]
    if len(set(out)) != len(out):
        raise RuntimeError(f"{op}: dim {dim} names a dimension more than once")
    return tuple(sorted(out)) if ndim else ()


def numpy_aliases(fn):
    """Accept NumPy's ``axis=``/``keepdims=`` as aliases of ``dim=``/``keepdim=``, as
    PyTorch does; the meaning is always PyTorch's."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        for alias, name in (("axis", "dim"), ("keepdims", "keepdim")):
            if alias in kwargs:
                if name in kwargs:
                    raise TypeError(f"{fn.__name__}: got both {name}= and its alias {alias}=")
                kwargs[name] = kwargs.pop(alias)
        return fn(*args, **kwargs)
    return wrapper


# PyTorch's keyword names for the operands that minigrad's functions call x, a and b
# (``torch.add(input, other)``), and where PyTorch names the second one otherwise.
_TORCH_NAMES = {"x": "input", "a": "input", "b": "other"}
_SECOND_OPERAND = {"pow": "exponent", "mm": "mat2", "bmm": "mat2", "dot": "tensor", "outer": "vec2"}

# The functions PyTorch documents with ``out=`` (checked against torch in tests/test_torch_keywords.py).
TAKES_OUT = {"abs", "add", "all", "amax", "amin", "any", "arange", "argmax", "argmin", "bmm", "cat", "ceil",
             "clamp", "clip", "concatenate", "cos", "cumsum", "div", "dot", "empty", "eq", "exp", "expm1", "eye",
             "floor", "floor_divide", "full", "gather", "ge", "gt", "index_select", "le", "linspace", "log",
             "log1p", "log_softmax", "logsumexp", "lt", "masked_select", "matmul", "max", "maximum", "mean",
             "min", "minimum", "mm", "mul", "ne", "neg", "nonzero", "norm", "ones", "outer", "pow", "prod",
             "rand", "randint", "randn", "randperm", "reciprocal", "remainder", "round", "rsqrt", "scatter",
             "scatter_add", "sigmoid", "sign", "sin", "softmax", "sort", "sqrt", "square", "stack", "std", "sub",
             "sum", "take", "tanh", "topk", "tril", "triu", "trunc", "var", "where", "zeros"}


def torch_function(fn, name=None, method=False):
    """``fn`` answering to PyTorch's keywords: ``input=``/``other=`` (or the second operand's
    own name, ``exponent=``, ``mat2=``…) for the operands minigrad calls x, a, b, and ``out=``
    where PyTorch documents it (not on methods, as PyTorch's). A call without keywords goes
    straight to ``fn`` (one extra call, no other work), so ops stay cheap."""
    name = name or fn.__name__
    aliases = {}
    for own in inspect.signature(fn).parameters:
        torch_name = _SECOND_OPERAND.get(name, "other") if own == "b" else _TORCH_NAMES.get(own)
        if torch_name is not None:
            aliases[torch_name] = own
    takes_out = name in TAKES_OUT and not method
    if not aliases and not takes_out:
        return fn

    @functools.wraps(fn)
    def with_torch_keywords(*args, **kwargs):
        if not kwargs:
            return fn(*args)
        for torch_name, own in aliases.items():
            if torch_name in kwargs:
                if own in kwargs:
                    raise TypeError(f"{name}: got both {torch_name}= and its alias {own}=")
                kwargs[own] = kwargs.pop(torch_name)
        out = kwargs.pop("out", None) if takes_out else None
        made = fn(*args, **kwargs)
        return made if out is None else write_out(name, made, out)
    return with_torch_keywords


def write_out(op, made, out):
    """PyTorch's ``out=``: copy the result ``made`` into the tensor ``out`` (or each result
    into each of a tuple) and return ``out``. As in PyTorch: ``out`` keeps its dtype (the
    result must be castable to it), an ``out`` of another shape is resized (with a warning
    unless it was empty), and no graph is recorded, so an input that requires grad is refused
    under autograd."""
    if isinstance(made, tuple):
        if not isinstance(out, (tuple, list)) or len(out) != len(made):
            raise TypeError(f"{op}(): out= must be a tuple of {len(made)} Tensors, got {type(out).__name__}")
        return type(made)(*(write_out(op, m, o) for m, o in zip(made, out)))
    if not isinstance(out, Tensor):
        raise TypeError(f"{op}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if is_grad_enabled() and (made.requires_grad or out.requires_grad):
        raise RuntimeError(f"{op}(): functions with out=... arguments don't support automatic differentiation, "
                           f"but one of the arguments requires grad.")
    if not dtypes.can_cast(made.dtype, out.dtype):
        raise RuntimeError(f"{op}(): result type {made.dtype} can't be cast to the desired output type {out.dtype}")
    check_devices(op, made, out)
    if out.array.shape != made.array.shape:
        if out.array.size:
            warnings.warn(f"{op}(): an output with one or more elements was resized since it had shape "
                          f"{list(out.shape)}, which does not match the required output shape {list(made.shape)}; "
                          f"pass an empty out (or one of the right shape) to avoid this", UserWarning, stacklevel=3)
        out.array = backend.xp(out.array).empty(made.array.shape, dtype=out.array.dtype)
    backend.xp(out.array).copyto(out.array, made.array, casting="unsafe")
    out._version_counter.bump(op)
    return out
