"""Which face of a kernel runs: ``reference``, ``cpu`` or ``cuda``.

The face follows the arrays: CuPy arrays run the ``cuda`` face, NumPy arrays the
``cpu`` face. The environment variable ``MINIGRAD_FACE=reference|cpu|cuda``
forces one face everywhere: ``reference`` to compare a run with the oracle,
``cuda`` on NumPy arrays to run the CUDA kernels under Numba's CUDA simulator
(``NUMBA_ENABLE_CUDASIM=1``, which must be set before Numba is first imported),
so the whole GPU path is exercised on a machine without a GPU.
"""
import importlib
import os
import sys
import tempfile

import numpy

try:  # CuPy is optional (the `gpu` extra); kernels never need it on the CPU
    import cupy
except ImportError:  # pragma: no cover - depends on the machine
    cupy = None

FACES = ("reference", "cpu", "cuda")
DTYPES = ("float32", "float64")
_FLOAT32, _FLOAT64 = numpy.dtype(numpy.float32), numpy.dtype(numpy.float64)


def _settle_numba_cache():
    """Numba's ``cache=True`` writes compiled code beside the source file. In a
    read-only install (a system site-packages, a container image) that fails, so
    point ``NUMBA_CACHE_DIR`` at a writable folder unless the user chose one."""
    if "NUMBA_CACHE_DIR" in os.environ or os.access(os.path.dirname(__file__), os.W_OK):
        return
    for folder in (os.path.join(os.path.expanduser("~"), ".cache", "minigrad-numba"),
                   os.path.join(tempfile.gettempdir(), "minigrad-numba")):
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError:
            continue
        if os.access(folder, os.W_OK):
            os.environ["NUMBA_CACHE_DIR"] = folder
            return


_settle_numba_cache()


def simulated():
    """True when Numba's CUDA simulator is on (kernels then run on NumPy arrays)."""
    return os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"


def forced():
    """The face named by ``MINIGRAD_FACE``, or None when the arrays decide."""
    name = os.environ.get("MINIGRAD_FACE", "")
    if name and name not in FACES:
        raise ValueError(f"MINIGRAD_FACE={name!r} is not a face: expected one of {FACES}")
    return name or None


def is_cupy(array):
    return cupy is not None and isinstance(array, cupy.ndarray)


def xp(array):
    """The array module (numpy or cupy) that owns ``array``."""
    return cupy if is_cupy(array) else numpy


def pick(op, *arrays):
    """The face that runs ``op`` on ``arrays``; a clear error when none can."""
    gpu = is_cupy(arrays[0])
    for a in arrays[1:]:  # a loop, not a set of answers: every kernel call passes here
        if is_cupy(a) != gpu:
            raise TypeError(f"{op}: arrays mix CPU (NumPy) and GPU (CuPy) memory; move them to one device first")
    name = forced() or ("cuda" if gpu else "cpu")
    if name == "cuda" and not gpu and not simulated():
        raise RuntimeError(f"{op}: the cuda face on NumPy arrays needs Numba's CUDA simulator: "
                           f"set NUMBA_ENABLE_CUDASIM=1 before Python starts (or pass CuPy arrays)")
    if name != "cuda" and gpu:
        raise RuntimeError(f"{op}: MINIGRAD_FACE={name} runs on NumPy arrays, but these are CuPy (GPU) arrays")
    return name


def module(family, op, *arrays):
    """The face module of ``family`` (e.g. ``kernels.conv.cpu``) chosen for ``arrays``.
    Faces are imported on first use, so the CPU path never loads ``numba.cuda``."""
    name = f"kernels.{family}.{pick(op, *arrays)}"
    # sys.modules first: every kernel call passes here, and import_module's own lookup
    # (locks, checks) costs more than the rest of this function
    found = sys.modules.get(name)
    return found if found is not None else importlib.import_module(name)


def check_float(op, *arrays):
    """All arrays float32, or all float64 (native byte order): the dtypes every face is
    written for."""
    # the usual case first, by dtype equality (0.2 µs) rather than dtype names (9 µs a
    # call, which ResNet-18's ~400 kernel calls a step paid every step); a plain loop, as
    # a generator for all() costs more than the tests (0.75 against 0.35 µs for two arrays)
    first = arrays[0].dtype
    if first == _FLOAT32 or first == _FLOAT64:
        for a in arrays[1:]:
            if a.dtype != first:
                break
        else:
            return
    dtypes = {str(a.dtype) for a in arrays}
    if not dtypes <= set(DTYPES):
        raise TypeError(f"{op}: supports float32 and float64 arrays, got {sorted(dtypes)}")
    if len(dtypes) > 1:
        raise TypeError(f"{op}: arrays must share one dtype, got {sorted(dtypes)}")
