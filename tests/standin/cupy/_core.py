"""``cupy.ndarray`` stood in by a wrapper around a NumPy array (the "device buffer").

The wrapper behaves as CuPy's array where a program can tell the difference: NumPy
cannot see through it (``__array__``, ufuncs and NumPy functions raise ``TypeError``),
reductions give 0-d arrays, not numbers, and every read back to the host is counted
in ``cupy._counts``. Under Numba's CUDA simulator a kernel launched on it receives the
wrapped NumPy array itself (``to_device`` below), so the kernel writes the same buffer.
"""
import numbers
import os

import numpy

from cupy import _counts

_REFUSE_ARRAY = ("Implicit conversion to a NumPy array is not allowed. "
                 "Please use `.get()` to construct a NumPy array explicitly.")


def _host_refused(value):
    _counts.refuse(f"Unsupported type {type(value)}: a NumPy array where a CuPy array is needed "
                   f"(copy it first with cupy.asarray)")


def unwrap(value):
    """The NumPy buffer behind ``value`` for the computation; NumPy arrays are refused
    as CuPy refuses them; Python and NumPy scalars pass as scalars; sequences are
    unwrapped item by item (``concatenate([a, b])``)."""
    if isinstance(value, ndarray):
        return value._a
    if isinstance(value, numpy.ndarray):
        _host_refused(value)
    if isinstance(value, (list, tuple)):
        return type(value)(unwrap(v) for v in value)
    return value


def wrap(value):
    """Results back on the "device": arrays wrapped, NumPy scalars (what NumPy's
    reductions return) as 0-d device arrays, as CuPy returns them."""
    if isinstance(value, numpy.ndarray):
        return ndarray._of(value)
    if isinstance(value, numpy.generic):
        return ndarray._of(numpy.asarray(value))
    if isinstance(value, tuple):
        return tuple(wrap(v) for v in value)
    if isinstance(value, list):
        return [wrap(v) for v in value]
    return value


def call(function, *args, **kwargs):
    """``function`` run on the buffers of its arguments, its results wrapped."""
    return wrap(function(*unwrap(args), **{k: unwrap(v) for k, v in kwargs.items()}))


def _index(key, shape):
    """An index on the device, for an array of ``shape``. A NumPy array or list in it is
    copied to the device first (counted); a boolean mask makes CuPy read the number of
    selected items back (counted as a sync). Integer index arrays wrap around instead of
    raising, as CuPy's do (docs.cupy.dev, "Differences between CuPy and NumPy",
    "Out-of-bounds indices": NumPy raises an error, CuPy wraps around them), so a test
    sees the silent wrong answer a GPU would give. Plain ints are checked on the host,
    as CuPy checks them."""
    parts = [_on_device(k) for k in (key if isinstance(key, tuple) else (key,))]
    spans = [0 if k is None or k is Ellipsis or isinstance(k, (bool, numpy.bool_))
             else k.ndim if isinstance(k, numpy.ndarray) and k.dtype == numpy.bool_ else 1 for k in parts]
    dim = 0
    for i, (k, span) in enumerate(zip(parts, spans)):
        if k is Ellipsis:
            dim += len(shape) - sum(spans)
            continue
        if isinstance(k, numpy.ndarray) and k.dtype.kind in "iu" and dim < len(shape) and shape[dim]:
            parts[i] = k % shape[dim]  # Python's modulo: -4 → n - 1 for n = 3, as CuPy's kernels
        dim += span
    return tuple(parts) if isinstance(key, tuple) else parts[0]


def _on_device(key):
    """One part of an index, as its device array (counting an h2d or a sync) or as it is."""
    if isinstance(key, numpy.ndarray) or (isinstance(key, list) and _has_array_items(key)):
        _counts.record("h2d")
        key = numpy.asarray(key)
    elif isinstance(key, ndarray):
        key = key._a
    if isinstance(key, numpy.ndarray) and key.dtype == numpy.bool_:
        _counts.record("sync")
    return key


def _has_array_items(items):
    return any(isinstance(i, (list, numbers.Number, numpy.ndarray)) for i in items)


def _binary(name):
    op = getattr(numpy.ndarray, name)

    def method(self, other):
        if isinstance(other, numpy.ndarray):
            _host_refused(other)
        if not isinstance(other, (ndarray, numbers.Number, numpy.generic)):
            return NotImplemented
        return wrap(op(self._a, unwrap(other)))
    method.__name__ = name
    return method


def _unary(name):
    op = getattr(numpy.ndarray, name)

    def method(self):
        return wrap(op(self._a))
    method.__name__ = name
    return method


def _scalar(name):
    op = getattr(numpy.ndarray, name)

    def method(self, *args):
        _counts.record("scalar")
        return op(self._a, *args)
    method.__name__ = name
    return method


# ndarray methods of CuPy's reference (docs.cupy.dev, "cupy.ndarray") that compute on
# the device and return device arrays
_METHODS = """all any argmax argmin argpartition argsort astype clip compress conj conjugate copy cumprod
cumsum diagonal dot fill flatten max mean min nonzero partition prod ptp put ravel repeat reshape round
scatter_add scatter_max scatter_min searchsorted sort squeeze std sum swapaxes take trace transpose var
view""".split()
_SYNCING = {"nonzero", "compress"}  # their output size depends on the data


if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
    # the simulator passes an ArgHint's to_device() result to the kernel
    from numba.cuda.simulator.args import ArgHint as _Base
else:
    _Base = object


class ndarray(_Base):
    """A device array: ``shape``, ``dtype``, ``strides``, arithmetic, indexing and the
    methods of CuPy's ``ndarray``, computing on the wrapped NumPy array."""

    __array_priority__ = 100  # NumPy defers binary operators to us (which then refuse)
    __hash__ = None

    def __init__(self, shape, dtype=float, memptr=None, strides=None, order="C"):
        self._a = numpy.empty(shape, dtype=dtype, order=order)

    @classmethod
    def _of(cls, array):
        made = cls.__new__(cls)
        made._a = array
        return made

    # --- what NumPy may not do with it -----------------------------------------------
    def __array__(self, *args, **kwargs):
        _counts.refuse(_REFUSE_ARRAY)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        _counts.refuse(f"numpy.{ufunc.__name__} on a CuPy array: use the cupy function "
                       f"(minigrad: backend.xp(array).{ufunc.__name__})")

    def __array_function__(self, function, types, args, kwargs):
        _counts.refuse(f"numpy.{function.__name__} on a CuPy array: use the cupy function "
                       f"(minigrad: backend.xp(array).{function.__name__})")

    # --- reading back to the host (counted) --------------------------------------------
    def get(self, stream=None, order="C", out=None, blocking=True):
        _counts.record("d2h")
        copy = numpy.array(self._a, order=order)
        if out is not None:
            out[...] = copy
            return out
        return copy

    def set(self, array, stream=None):
        if not isinstance(array, numpy.ndarray):
            raise TypeError(f"Only numpy.ndarray can be set to cupy.ndarray, got {type(array)}")
        _counts.record("h2d")
        self._a[...] = array

    def tolist(self):
        _counts.record("d2h")
        return self._a.tolist()

    def item(self, *args):
        _counts.record("scalar")
        return self._a.item(*args)

    __float__ = _scalar("__float__")
    __int__ = _scalar("__int__")
    __complex__ = _scalar("__complex__")
    __bool__ = _scalar("__bool__")
    __index__ = _scalar("__index__")

    def __format__(self, spec):
        _counts.record("scalar")
        return format(self._a.item() if self._a.ndim == 0 else self._a, spec)

    def __repr__(self):
        _counts.record("d2h")
        return repr(self._a)

    def __str__(self):
        _counts.record("d2h")
        return str(self._a)

    def __reduce__(self):  # pickling copies to the host, as CuPy's does
        _counts.record("d2h")
        from cupy import array
        return array, (self._a.copy(),)

    # --- Numba's CUDA simulator: hand the kernel the buffer itself ---------------------
    def to_device(self, retr, stream=0):
        """Called by Numba's simulator for an argument that is an ``ArgHint`` (this class
        is one under the simulator): the kernel gets the wrapped NumPy array, no copy."""
        from numba.cuda.simulator.args import InOut
        return InOut(self._a).to_device(retr, stream) if self._a.ndim else self._a

    # --- attributes ------------------------------------------------------------------
    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    itemsize = property(lambda self: self._a.itemsize)
    nbytes = property(lambda self: self._a.nbytes)
    strides = property(lambda self: self._a.strides)
    flags = property(lambda self: self._a.flags)
    T = property(lambda self: ndarray._of(self._a.T))
    mT = property(lambda self: ndarray._of(numpy.swapaxes(self._a, -1, -2)))
    real = property(lambda self: ndarray._of(self._a.real))
    imag = property(lambda self: ndarray._of(self._a.imag))
    base = property(lambda self: None if self._a.base is None else ndarray._of(self._a.base))

    @property
    def device(self):
        from cupy.cuda import Device
        return Device(0)

    @property
    def data(self):
        from cupy.cuda import MemoryPointer
        return MemoryPointer(self._a.__array_interface__["data"][0])

    @property
    def __cuda_array_interface__(self):
        face = dict(self._a.__array_interface__)
        face["version"] = 3
        face["stream"] = None
        return face

    @shape.setter
    def shape(self, value):
        self._a.shape = value

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        return (wrap(row) for row in self._a)

    def __getitem__(self, key):
        return wrap(self._a[_index(key, self._a.shape)])

    def __setitem__(self, key, value):
        if isinstance(value, numpy.ndarray):  # CuPy copies it over first
            _counts.record("h2d")
        elif isinstance(value, (list, tuple)):
            _counts.record("h2d")
            value = numpy.asarray(value)
        else:
            value = unwrap(value)
        self._a[_index(key, self._a.shape)] = value

    def __copy__(self):
        return ndarray._of(self._a.copy())

    def __deepcopy__(self, memo):
        return ndarray._of(self._a.copy())

    def __getattr__(self, name):
        if name not in _METHODS:
            raise AttributeError(f"'cupy.ndarray' object has no attribute {name!r}")
        if name.startswith("scatter_"):
            import cupyx
            return lambda *args: getattr(cupyx, name)(self, *args)
        if name in ("take", "put"):  # CuPy's wrap out-of-range indices (see cupy.take)
            import cupy
            return lambda *args, **kwargs: getattr(cupy, name)(self, *args, **kwargs)
        function = getattr(self._a, name)

        def method(*args, **kwargs):
            if name in _SYNCING:
                _counts.record("sync")
            return call(function, *args, **kwargs)
        return method


for _name in ("__add__ __radd__ __sub__ __rsub__ __mul__ __rmul__ __truediv__ __rtruediv__ __floordiv__ "
              "__rfloordiv__ __mod__ __rmod__ __pow__ __rpow__ __matmul__ __rmatmul__ __and__ __rand__ "
              "__or__ __ror__ __xor__ __rxor__ __lshift__ __rlshift__ __rshift__ __rrshift__ __divmod__ "
              "__rdivmod__ __eq__ __ne__ __lt__ __le__ __gt__ __ge__").split():
    setattr(ndarray, _name, _binary(_name))


def _inplace(name):
    op = getattr(numpy.ndarray, name)

    def method(self, other):
        if isinstance(other, numpy.ndarray):
            _host_refused(other)
        op(self._a, unwrap(other))
        return self
    method.__name__ = name
    return method


for _name in ("__iadd__ __isub__ __imul__ __itruediv__ __ifloordiv__ __imod__ __ipow__ __iand__ __ior__ "
              "__ixor__ __ilshift__ __irshift__ __imatmul__").split():
    setattr(ndarray, _name, _inplace(_name))

for _name in "__neg__ __pos__ __abs__ __invert__".split():
    setattr(ndarray, _name, _unary(_name))
