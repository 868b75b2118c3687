"""A strict NumPy-backed stand-in for CuPy, for tests on a machine without a GPU.

It stands where ``import cupy`` finds CuPy, so ``minigrad.backend`` sees "CuPy and one
GPU" and every device path of the project (Tensor, losses, optimizers, savers, the
command-line jobs) runs on its arrays. It is as strict as CuPy where a program can
tell: ``numpy.asarray(device_array)``, NumPy ufuncs and functions on device arrays, and
NumPy arrays handed to a ``cupy`` function raise ``TypeError``; reductions return 0-d
device arrays. Every host↔device copy, scalar read and implicit sync is counted by the
line that asked for it (``cupy._counts``).

Activate it for a process and every subprocess it starts::

    PYTHONPATH=tests/standin:$PWD NUMBA_ENABLE_CUDASIM=1 python -m admm demo --quick --device cuda

``NUMBA_ENABLE_CUDASIM=1`` runs the project's ``numba.cuda`` kernels under Numba's
simulator; a kernel launched on a stand-in array is handed the NumPy array it wraps
(``ndarray.to_device``), so the kernel reads and writes the device buffer itself.
``CUPY_STANDIN_COUNTS=<folder>`` makes each process write its counts there at exit
(``counts-<pid>.json``). ``STANDIN = True`` tells a test it is not real CuPy.

The names below are those of CuPy's API reference (docs.cupy.dev, "Routines (NumPy)",
"The N-dimensional array", "Universal functions"), each computing with NumPy's function
of the same name on the wrapped arrays.
"""
import numpy

from cupy import _counts, _core, cuda, random  # noqa: F401  (submodules are part of the API)
from cupy._core import ndarray, wrap, unwrap, call

STANDIN = True
__version__ = "13.0.0+standin"

# --- moving data between host and device (counted) -------------------------------------


def _to_device(obj, dtype=None, copy=True, order="K", ndmin=0):
    if isinstance(obj, ndarray):
        a = numpy.array(obj._a, dtype=dtype, copy=copy or None, order=order, ndmin=ndmin)
        return obj if a is obj._a else ndarray._of(a)
    _counts.record("h2d")
    return ndarray._of(numpy.array(obj, dtype=dtype, order=order, ndmin=ndmin))


def array(obj, dtype=None, copy=True, order="K", subok=False, ndmin=0):
    """A device array from ``obj``: a copy from the host (counted) or on the device."""
    return _to_device(obj, dtype, copy, order, ndmin)


def asarray(a, dtype=None, order=None):
    """``a`` on the device: no copy when it is already there with ``dtype``."""
    return _to_device(a, dtype, False, order or "K")


asanyarray = asarray


def asnumpy(a, stream=None, order="C", out=None, blocking=True):
    """A NumPy copy of device array ``a`` (counted); NumPy input is returned as an array."""
    if isinstance(a, ndarray):
        return a.get(order=order, out=out)
    return numpy.asarray(a, order=order)


def get_array_module(*args):
    return __import__("cupy") if any(isinstance(a, ndarray) for a in args) else numpy


# --- universal functions --------------------------------------------------------------


class ufunc:
    """A CuPy ufunc: callable on device arrays and scalars, with ``reduce``,
    ``accumulate``, ``outer``, ``reduceat`` and ``at``."""

    def __init__(self, name):
        self._f = getattr(numpy, name)
        self.__name__ = name
        self.nin, self.nout, self.nargs = self._f.nin, self._f.nout, self._f.nargs

    def __call__(self, *args, **kwargs):
        return call(self._f, *args, **kwargs)

    def reduce(self, *args, **kwargs):
        return call(self._f.reduce, *args, **kwargs)

    def accumulate(self, *args, **kwargs):
        return call(self._f.accumulate, *args, **kwargs)

    def outer(self, *args, **kwargs):
        return call(self._f.outer, *args, **kwargs)

    def reduceat(self, *args, **kwargs):
        return call(self._f.reduceat, *args, **kwargs)

    def at(self, a, indices, b=None):
        self._f.at(*unwrap((a,)), _core._index(indices, a.shape), *(() if b is None else unwrap((b,))))

    def __repr__(self):
        return f"<ufunc '{self.__name__}'>"


_UFUNCS = """add subtract multiply matmul divide logaddexp logaddexp2 true_divide floor_divide negative
positive power float_power remainder mod fmod divmod absolute fabs rint sign heaviside conj conjugate exp
exp2 log log2 log10 expm1 log1p sqrt square cbrt reciprocal gcd lcm sin cos tan arcsin arccos arctan arctan2
hypot sinh cosh tanh arcsinh arccosh arctanh degrees radians deg2rad rad2deg bitwise_and bitwise_or
bitwise_xor invert left_shift right_shift greater greater_equal less less_equal not_equal equal
logical_and logical_or logical_xor logical_not maximum minimum fmax fmin isfinite isinf isnan signbit
copysign nextafter modf ldexp frexp floor ceil trunc""".split()
for _name in _UFUNCS:
    globals()[_name] = ufunc(_name)
abs = absolute  # noqa: A001

# --- routines: NumPy's function of the same name on the device buffers ------------------

_ROUTINES = """empty empty_like eye identity ones ones_like zeros zeros_like full full_like arange linspace
logspace meshgrid diag diagflat tri tril triu vander
copyto shape reshape ravel moveaxis rollaxis swapaxes transpose atleast_1d atleast_2d atleast_3d
broadcast_arrays broadcast_to expand_dims squeeze concatenate stack vstack hstack dstack column_stack
split array_split hsplit vsplit dsplit tile repeat append resize trim_zeros flip fliplr flipud roll rot90
packbits unpackbits
indices ix_ ravel_multi_index unravel_index diag_indices diag_indices_from tril_indices tril_indices_from
triu_indices triu_indices_from choose diagonal select place putmask
fill_diagonal
dot vdot inner outer tensordot einsum kron trace
all any iscomplex iscomplexobj isfortran isreal isrealobj isneginf isposinf allclose isclose array_equal
array_equiv isin
around round fix prod sum nanprod nansum cumprod cumsum nancumprod nancumsum diff gradient ediff1d cross
i0 sinc angle real imag convolve clip nan_to_num real_if_close interp
sort lexsort argsort sort_complex partition argpartition argmax nanargmax argmin nanargmin searchsorted
count_nonzero
amin amax min max nanmin nanmax ptp percentile quantile median average mean std var nanmedian nanmean
nanstd nanvar corrcoef correlate cov histogram histogram2d histogramdd digitize
pad intersect1d setdiff1d setxor1d union1d bartlett blackman hamming hanning kaiser apply_along_axis
piecewise polyval""".split()
# their output's size depends on the data: CuPy reads a count back (a sync)
_SYNCING = "nonzero argwhere flatnonzero unique extract compress bincount".split()
# answers about dtypes and shapes: plain NumPy, nothing on the device
_DTYPE_ROUTINES = """can_cast min_scalar_type promote_types result_type common_type dtype finfo iinfo
issubdtype mintypecode typename ndim size isscalar may_share_memory shares_memory""".split()


def _routine(name, syncs=False):
    f = getattr(numpy, name)

    def routine(*args, **kwargs):
        if syncs:
            _counts.record("sync")
        return call(f, *args, **kwargs)
    routine.__name__ = routine.__qualname__ = name
    routine.__doc__ = f"numpy.{name} on the device (CuPy stand-in)."
    return routine


for _name in _ROUTINES:
    globals()[_name] = _routine(_name)
for _name in _SYNCING:
    globals()[_name] = _routine(_name, syncs=True)


# Out-of-range indices wrap around in CuPy's indexing routines, as in its integer-array
# indexing (docs.cupy.dev, "Differences between CuPy and NumPy"): cupy.take has no mode
# (its reference: "This function does not support mode option"), cupy.put's mode defaults
# to "wrap", and take_along_axis / put_along_axis index with the arrays given.
def take(a, indices, axis=None, out=None):
    """numpy.take with mode="wrap", on the device."""
    return call(numpy.take, a, indices, axis=axis, out=out, mode="wrap")


def put(a, ind, v, mode="wrap"):
    """numpy.put on the device; out-of-range indices wrap unless mode says otherwise."""
    call(numpy.put, a, ind, v, mode=mode)


def _wrapped_along(a, indices, axis):
    size = a.size if axis is None else a.shape[axis]
    return indices % size if size else indices


def take_along_axis(a, indices, axis):
    return call(numpy.take_along_axis, a, _wrapped_along(a, indices, axis), axis)


def put_along_axis(arr, indices, values, axis):
    call(numpy.put_along_axis, arr, _wrapped_along(arr, indices, axis), values, axis)


def where(condition, *xy):
    """Three arguments: elementwise choice, on the device. One: ``nonzero`` (a sync)."""
    if not xy:
        _counts.record("sync")
    return call(numpy.where, condition, *xy)


def ascontiguousarray(a, dtype=None):
    if not isinstance(a, ndarray):  # CuPy's is typed: it takes its own arrays only
        _core._host_refused(a)
    return ndarray._of(numpy.ascontiguousarray(a._a, dtype=dtype))


def asfortranarray(a, dtype=None):
    if not isinstance(a, ndarray):
        _core._host_refused(a)
    return ndarray._of(numpy.asfortranarray(a._a, dtype=dtype))


def copy(a, order="K"):
    if not isinstance(a, ndarray):
        _core._host_refused(a)
    return ndarray._of(numpy.array(a._a, order=order, copy=True))


def _dtype_routine(name):
    f = getattr(numpy, name)

    def routine(*args, **kwargs):
        return f(*unwrap(args), **{k: unwrap(v) for k, v in kwargs.items()})
    routine.__name__ = name
    return routine


for _name in _DTYPE_ROUTINES:
    globals()[_name] = _dtype_routine(_name)


class _Grid:
    """``mgrid``/``ogrid``/``r_``/``c_``: NumPy's index tricks, results on the device."""

    def __init__(self, trick):
        self._trick = trick

    def __getitem__(self, key):
        return wrap(self._trick[unwrap(key) if isinstance(key, tuple) else key])


mgrid, ogrid, r_, c_ = (_Grid(numpy.mgrid), _Grid(numpy.ogrid), _Grid(numpy.r_), _Grid(numpy.c_))


class _Submodule:
    """``cupy.linalg`` / ``cupy.fft``: NumPy's submodule of the same name on the device."""

    def __init__(self, module, names):
        for name in names:
            setattr(self, name, _wrapped(getattr(module, name)))


def _wrapped(f):
    def routine(*args, **kwargs):
        return call(f, *args, **kwargs)
    routine.__name__ = f.__name__
    return routine


linalg = _Submodule(numpy.linalg, """cholesky qr svd eig eigh eigvals eigvalsh norm det matrix_rank slogdet solve
tensorsolve lstsq inv pinv tensorinv matrix_power""".split())
linalg.LinAlgError = numpy.linalg.LinAlgError
fft = _Submodule(numpy.fft, """fft ifft fft2 ifft2 fftn ifftn rfft irfft rfft2 irfft2 rfftn irfftn hfft ihfft
fftfreq rfftfreq fftshift ifftshift""".split())

# --- dtypes and constants: NumPy's own ---------------------------------------------------
for _name in """bool_ int8 int16 int32 int64 uint8 uint16 uint32 uint64 intp uintp float16 float32 float64
complex64 complex128 generic number integer signedinteger unsignedinteger inexact floating complexfloating
byte ubyte short ushort intc uintc int_ uint longlong ulonglong half single double csingle cdouble
newaxis inf nan pi e euler_gamma""".split():
    globals()[_name] = getattr(numpy, _name)
bool = numpy.bool_  # noqa: A001  (cupy.bool, as NumPy 2's numpy.bool)


# --- memory pools ------------------------------------------------------------------------
def get_default_memory_pool():
    return cuda.memory.default_pool


def get_default_pinned_memory_pool():
    return cuda.memory.default_pinned_pool


def show_config():
    print("CuPy stand-in: NumPy", numpy.__version__, "(no GPU)")
