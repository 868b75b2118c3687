"""Dtypes by PyTorch's names, and PyTorch's rules for the dtype of a result.

NumPy and PyTorch disagree on promotion, and PyTorch wins here (see DESIGN.md):

- a Python list of ints is int64, of bools bool, of floats float32 (the default dtype);
- an int tensor with a Python float gives float32, not NumPy's float64;
- int64 with float32 gives float32 (NumPy: float64): a float dtype beats any int dtype;
- a 0-d tensor or a Python number only changes the result's dtype when it is of a
  higher *category* (bool < integer < floating) than the tensors with dimensions:
  ``float32_tensor * float64_scalar_tensor`` stays float32.

The rule is PyTorch's ``at::native::result_type`` (``c10/core/ScalarType.h``,
``ATen/native/TypeProperties.cpp``): three running results (tensors with dimensions,
0-d tensors, Python numbers) combined by category, highest tier first.
"""
import numpy as np


class dtype:
    """A dtype as PyTorch shows it (``minigrad.float32``) around the NumPy dtype that does
    the work. It *is* that NumPy dtype to everything that asks: it compares and hashes
    equal to it (``t.dtype == np.float32``, ``t.dtype == mg.float32``, dict keys), NumPy
    accepts it wherever it takes a dtype (NumPy reads an object's ``.dtype`` attribute:
    ``np.dtype(t.dtype)``, ``array.astype(mg.int64)``), and it answers NumPy's questions
    (``kind``, ``itemsize``, ``name``, ``type``). One object per NumPy dtype (``of``), so
    ``t.dtype is mg.float32`` holds too. NumPy dtypes cannot be subclassed, hence a wrapper."""
    __slots__ = ("dtype", "kind", "itemsize", "name", "type", "char", "is_floating_point",
                 "is_complex", "is_signed")

    def __init__(self, numpy_dtype):
        numpy_dtype = np.dtype(numpy_dtype)
        self.dtype = numpy_dtype  # the attribute NumPy reads when given this object as a dtype
        self.kind, self.itemsize, self.name = numpy_dtype.kind, numpy_dtype.itemsize, numpy_dtype.name
        self.type, self.char = numpy_dtype.type, numpy_dtype.char
        self.is_floating_point = numpy_dtype.kind == "f"  # torch.dtype's attributes
        self.is_complex = numpy_dtype.kind == "c"
        self.is_signed = numpy_dtype.kind in "fic"

    def __eq__(self, other):
        if other is self:
            return True
        if other is None:  # np.dtype(None) would be float64
            return False
        try:
            return self.dtype == np.dtype(other)
        except TypeError:
            return NotImplemented

    def __hash__(self):
        return hash(self.dtype)

    def __repr__(self):
        return "minigrad." + self.name

    def __reduce__(self):  # pickles (and copies) as the one object of its NumPy dtype
        return of, (self.name,)


_BY_NUMPY = {}


def of(numpy_dtype):
    """The one ``minigrad.dtype`` of a NumPy dtype (what ``Tensor.dtype`` returns)."""
    found = _BY_NUMPY.get(numpy_dtype)
    if found is None:
        numpy_dtype = np.dtype(numpy_dtype)
        found = _BY_NUMPY.get(numpy_dtype)
        if found is None:
            found = _BY_NUMPY[numpy_dtype] = dtype(numpy_dtype)
    return found


float16 = half = of(np.float16)
float32 = float = of(np.float32)
float64 = double = of(np.float64)
uint8 = of(np.uint8)
int8 = of(np.int8)
int16 = short = of(np.int16)
int32 = int = of(np.int32)
int64 = long = of(np.int64)
bool = of(np.bool_)

_default_float = float32


def get_default_dtype():
    """The dtype of Python floats and float lists turned into tensors (float32)."""
    return _default_float


def set_default_dtype(dtype):
    """Make Python floats, float lists and new float tensors ``dtype`` (float32 or float64)."""
    global _default_float
    chosen = of(dtype)
    if chosen not in (float32, float64):
        raise TypeError(f"set_default_dtype: only float32 and float64 are supported, got {chosen}")
    _default_float = chosen


def category(dtype):
    """0 for bool, 1 for integers, 2 for floating point: the order of promotion."""
    return {"b": 0, "i": 1, "u": 1, "f": 2}[np.dtype(dtype).kind]


def promote_types(a, b):
    """PyTorch's promote_types: within a category the wider dtype (as NumPy), across
    categories the higher one wins outright (int64 with float32 → float32)."""
    a, b = np.dtype(a), np.dtype(b)
    if category(a) != category(b):
        return a if category(a) > category(b) else b
    return np.promote_types(a, b)


def scalar_dtype(value):
    """The dtype a Python number would become as a tensor: bool, int64 or float32."""
    if isinstance(value, (np.bool_, type(True))):
        return bool
    if isinstance(value, (np.integer, type(1))):
        return int64
    if isinstance(value, (np.floating, type(1.0))):
        return _default_float
    raise TypeError(f"expected a number, got {type(value).__name__}")


def _combine(higher, lower):
    """c10's combine_categories: keep the higher tier's dtype unless the lower tier
    brings a higher category (or the higher tier is only bool)."""
    if higher is None:
        return lower
    if lower is None or category(higher) == 2:
        return higher
    if category(higher) == 0 or category(lower) == 2:
        return promote_types(higher, lower)
    return higher


def result_type(*operands):
    """The dtype of an elementwise op on ``operands`` (Tensors and Python numbers)."""
    tiers = [None, None, None]  # tensors with dimensions, 0-d tensors, Python numbers
    for x in operands:
        if hasattr(x, "dtype") and hasattr(x, "ndim") and not isinstance(x, np.generic):
            tier, dtype = (0 if x.ndim else 1), x.dtype
        else:
            tier, dtype = 2, scalar_dtype(x)
        tiers[tier] = dtype if tiers[tier] is None else promote_types(tiers[tier], dtype)
    return _combine(tiers[0], _combine(tiers[1], tiers[2]))


def can_cast(source, target):
    """PyTorch's canCast for in-place results: no float into an integer tensor, no
    number into a bool tensor (``int_tensor += 0.5`` raises instead of truncating)."""
    return category(source) <= category(target)
