"""Making tensors by PyTorch's names: ``zeros, ones, full, empty, arange, linspace,
eye, rand, randn, randint, randperm``, the ``*_like`` forms, ``from_numpy`` and
``as_tensor``, each with torch's signature (sizes as ``zeros(2, 3)`` or
``zeros((2, 3))``; ``dtype=``, ``device=``, ``requires_grad=``) and torch's dtypes
(float32 unless a fill value or arange's bounds are all ints).

Random draws come from minigrad's seedable generator (``minigrad.manual_seed``, or
``generator=``), on the CPU, then move to the device: one seed, the same numbers
on both devices.
"""
import math
import numbers

import numpy as np

from minigrad import backend, dtypes
from minigrad import random as mg_random
from minigrad.tensor import Tensor, tensor


_default_device = None  # set_default_device's choice; None: wherever the data is (the CPU for new data)


def set_default_device(device):
    """``torch.set_default_device``: the device of tensors made without ``device=`` from
    now on — by the functions here, ``tensor()``/``Tensor()`` from Python data or NumPy
    arrays, and so every layer's parameters. None or "cpu": the CPU, the default. A
    device that cannot be used ("cuda" without a GPU) is refused here, not later."""
    global _default_device
    device = None if device is None else backend.check_device(device)
    _default_device = None if device == "cpu" else device


def get_default_device():
    """The device ``set_default_device`` chose (``device("cpu")`` unless changed)."""
    return _default_device or backend.device("cpu")


def default_device(device, array):
    """``device``, or the default device when it is None and ``array`` is not already on a GPU."""
    return _default_device if device is None and not backend.is_cupy(array) else device


def _size(size, op):
    """``f(2, 3)``, ``f((2, 3))`` and ``f([2, 3])`` all mean the shape (2, 3)."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for n in size:
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
            raise RuntimeError(f"{op}: sizes must be non-negative ints, got {size}")
    return tuple(int(n) for n in size)


def overflows(value, dtype):
    """Whether the number ``value`` cannot be stored in ``dtype``: PyTorch's
    ``c10::overflows`` (``c10/util/TypeCast.h``), the check behind its "value cannot be
    converted to type ... without overflow". A float target overflows only for a finite
    value beyond its largest (inf and nan pass); an integer target for a value outside
    its range, nan or inf; an unsigned target also accepts −max … −1, which wrap
    (two's complement, so ``full((2,), -1, dtype=uint8)`` is 255 as in PyTorch)."""
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return False
    if dtype.kind == "f":
        try:
            value = float(value)
        except OverflowError:  # an int beyond float64's range
            return True
        return math.isfinite(value) and abs(value) > float(np.finfo(dtype).max)
    if isinstance(value, (float, np.floating)) and not math.isfinite(value):
        return True
    info = np.iinfo(dtype)
    lowest = -info.max if dtype.kind == "u" else info.min
    return not lowest <= value <= info.max


def check_fits(value, dtype, op):
    """Refuse a fill value or bound that ``dtype`` cannot hold, as PyTorch does
    (RuntimeError), instead of NumPy's silent wrap (uint8 300 → 44) or inf."""
    if overflows(value, dtype):
        raise RuntimeError(f"{op}: value {value!r} cannot be converted to type {np.dtype(dtype)} without overflow")


def check_python_data(data, array, dtype, op="tensor"):
    """Refuse Python numbers that overflow the tensor made from them, as torch.tensor:
    ints beyond int64 when the dtype is inferred (``tensor([2**63])``; NumPy would
    make them uint64, objects or float64) are torch's ValueError, and values outside an
    explicit integer dtype (``tensor([300], dtype=uint8)``) its RuntimeError. Floats
    into a float dtype become inf there, as in torch. ``array`` is ``np.asarray(data)``."""
    if array.size == 0 or array.dtype.kind not in "iufO":
        return
    if dtype is None:
        # torch infers int64 unless a float is present; NumPy has already gone elsewhere
        # exactly when an int is that big, so the Python values are read only then
        big = array.dtype.kind in "uO" or (array.dtype.kind == "f" and float(np.abs(array).max()) >= 2**63)
        values = np.asarray(data, dtype=object).reshape(-1).tolist() if big else ()
        if not any(isinstance(v, float) for v in values) and any(
                isinstance(v, numbers.Integral) and not -2**63 <= v < 2**63 for v in values):
            raise ValueError(f"{op}: Overflow when unpacking long long (a Python int outside int64's range "
                             f"[-2**63, 2**63 - 1]; pass dtype=minigrad.float64 to keep it as a float)")
        return
    if np.dtype(dtype).kind in "iu" and array.dtype != object:
        for value in (array.min().item(), array.max().item()):
            check_fits(value, dtype, op)


def _make(array, dtype, device, requires_grad):
    """A leaf tensor from a fresh NumPy array."""
    if dtype is not None:
        array = array.astype(dtype, copy=False)
    return Tensor(array, requires_grad=requires_grad, device=device)


def zeros(*size, dtype=None, device=None, requires_grad=False):
    return _make(np.zeros(_size(size, "zeros"), dtype or dtypes.get_default_dtype()), None, device, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False):
    return _make(np.ones(_size(size, "ones"), dtype or dtypes.get_default_dtype()), None, device, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False):
    """Like torch.empty, values not set (here they are zeros: an educational library
    has no reason to hand out whatever was left in memory)."""
    return _make(np.zeros(_size(size, "empty"), dtype or dtypes.get_default_dtype()), None, device, requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    """A tensor of ``size`` filled with ``fill_value``; its dtype follows the value
    (int → int64, bool → bool, float → float32), as in PyTorch."""
    dtype = dtype or dtypes.scalar_dtype(fill_value)
    check_fits(fill_value, dtype, "full")
    fill = np.asarray(fill_value).astype(dtype)  # −1 into uint8 wraps to 255, as in torch (NumPy refuses)
    return _make(np.full(_size((size,), "full"), fill, dtype), None, device, requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """[start, end) by ``step`` (``arange(n)`` is 0…n−1): int64 when every bound is an
    int, float32 otherwise, as in PyTorch. The count is ⌈(end − start)/step⌉."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    for bound in (start, end, step):  # each bound is read as an int64 or a double first, as in torch
        if isinstance(bound, numbers.Integral) and not -2**63 <= bound < 2**64:
            raise OverflowError(f"arange: {bound} is too big to convert (outside int64)")
        check_fits(bound, dtypes.int64 if isinstance(bound, numbers.Integral) else dtypes.float64, "arange")
        if not math.isfinite(bound):
            raise RuntimeError(f"arange: unsupported range: {start} -> {end} (step {step})")
    if dtype is None:
        dtype = dtypes.result_type(start, end, step)
        dtype = dtypes.int64 if dtype.kind in "biu" else dtype
    count = max(math.ceil((end - start) / step), 0)
    if count * np.dtype(dtype).itemsize >= 2**63:
        raise RuntimeError(f"arange: invalid size, possible overflow? ({count} elements from {start} to {end} "
                           f"by {step})")
    return _make(start + step * np.arange(count, dtype=np.float64 if dtype.kind == "f" else np.int64),
                 dtype, device, requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    """``steps`` evenly spaced values from start to end, both included (float32)."""
    if not isinstance(steps, (int, np.integer)) or steps < 0:
        raise RuntimeError(f"linspace: steps must be a non-negative int, got {steps!r}")
    for bound in (start, end):
        check_fits(bound, dtype or dtypes.get_default_dtype(), "linspace")
    return _make(np.linspace(start, end, int(steps)), dtype or dtypes.get_default_dtype(), device, requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    """The n×m identity (m defaults to n)."""
    return _make(np.eye(n, n if m is None else m), dtype or dtypes.get_default_dtype(), device, requires_grad)


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Uniform on [0, 1)."""
    draw = mg_random.get(generator).random(_size(size, "rand"))
    return _make(draw, dtype or dtypes.get_default_dtype(), device, requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Standard normal."""
    draw = mg_random.get(generator).standard_normal(_size(size, "randn"))
    return _make(draw, dtype or dtypes.get_default_dtype(), device, requires_grad)


def randint(*args, size=None, generator=None, dtype=None, device=None, requires_grad=False):
    """Integers uniform on [low, high): ``randint(high, size)`` or ``randint(low, high,
    size)``, as torch (``size`` a tuple, positional or by keyword); int64."""
    if size is None:
        if len(args) < 2:
            raise TypeError("randint: give randint(high, size) or randint(low, high, size)")
        *args, size = args
    if len(args) not in (1, 2):
        raise TypeError(f"randint: expected (high, size) or (low, high, size), got {len(args) + 1} arguments")
    low, high = (0, args[0]) if len(args) == 1 else args
    if not low < high:
        raise RuntimeError(f"randint: low ({low}) must be less than high ({high})")
    draw = mg_random.get(generator).integers(low, high, _size((size,), "randint"))
    return _make(draw, dtype or dtypes.int64, device, requires_grad)


def randperm(n, generator=None, dtype=None, device=None, requires_grad=False):
    """A random permutation of 0…n−1 (int64)."""
    return _make(mg_random.get(generator).permutation(n), dtype or dtypes.int64, device, requires_grad)


def _like(source, dtype, device):
    return source.dtype if dtype is None else dtype, source.device if device is None else device


def zeros_like(input, dtype=None, device=None, requires_grad=False):
    dtype, device = _like(input, dtype, device)
    return zeros(input.shape, dtype=dtype, device=device, requires_grad=requires_grad)


def ones_like(input, dtype=None, device=None, requires_grad=False):
    dtype, device = _like(input, dtype, device)
    return ones(input.shape, dtype=dtype, device=device, requires_grad=requires_grad)


def empty_like(input, dtype=None, device=None, requires_grad=False):
    dtype, device = _like(input, dtype, device)
    return empty(input.shape, dtype=dtype, device=device, requires_grad=requires_grad)


def full_like(input, fill_value, dtype=None, device=None, requires_grad=False):
    dtype, device = _like(input, dtype, device)
    return full(input.shape, fill_value, dtype=dtype, device=device, requires_grad=requires_grad)


def rand_like(input, generator=None, dtype=None, device=None, requires_grad=False):
    dtype, device = _like(input, dtype, device)
    return rand(input.shape, generator=generator, dtype=dtype, device=device, requires_grad=requires_grad)


def randn_like(input, generator=None, dtype=None, device=None, requires_grad=False):
    dtype, device = _like(input, dtype, device)
    return randn(input.shape, generator=generator, dtype=dtype, device=device, requires_grad=requires_grad)


def from_numpy(array):
    """A tensor sharing ``array``'s memory and dtype: a change to one shows in the other."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    return Tensor._wrap(array)


def as_tensor(data, dtype=None, device=None):
    """``data`` as a tensor, sharing memory when it already is an array (or a tensor)
    of that dtype on that device; otherwise a copy, as ``tensor()`` makes."""
    if isinstance(data, Tensor):
        return data.to(device=device, dtype=dtype)
    if isinstance(data, np.ndarray) or backend.is_cupy(data):
        return Tensor(data, dtype=dtype, device=device)
    return tensor(data, dtype=dtype, device=device)
