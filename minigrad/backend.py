"""Which array library holds the data: NumPy on the CPU, CuPy on a GPU.

Every op calls ``xp(array)`` to get the module that owns its arrays, so one code
path serves both devices (DeZero's ``get_array_module`` habit). CuPy is optional:
when it is missing, or present without a usable GPU, everything runs on NumPy and
asking for ``"cuda"`` raises a clear error instead of an import failure.
"""
import numpy as np

try:  # CuPy is the optional `gpu` extra
    import cupy
    try:
        _has_gpu = cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # CuPy installed, but no driver or no device
        _has_gpu = False
except ImportError:  # pragma: no cover - depends on the machine
    cupy = None
    _has_gpu = False

DEVICES = ("cpu", "cuda")


def cuda_available():
    """True when CuPy is installed and sees at least one GPU."""
    return _has_gpu


def is_cupy(array):
    return cupy is not None and isinstance(array, cupy.ndarray)


def xp(array):
    """The array module (``numpy`` or ``cupy``) that owns ``array``."""
    return cupy if is_cupy(array) else np


def device_of(array):
    return "cuda" if is_cupy(array) else "cpu"


def check_device(device):
    if device not in DEVICES:
        raise ValueError(f"unknown device {device!r}: expected one of {DEVICES}")
    if device == "cuda" and not _has_gpu:
        reason = "CuPy is not installed (pip install 'minigrad[gpu]')" if cupy is None \
            else "CuPy found no GPU"
        raise RuntimeError(f"device 'cuda' is not available: {reason}")
    return device


def to_device(array, device):
    """Copy ``array`` to ``device`` ("cpu" or "cuda"); no copy if it is already there."""
    check_device(device)
    if device == "cuda":
        return cupy.asarray(array)
    return cupy.asnumpy(array) if is_cupy(array) else np.asarray(array)


def to_numpy(array):
    return cupy.asnumpy(array) if is_cupy(array) else np.asarray(array)


def scatter_add(target, index, values):
    """``target[index] += values`` with repeated indices summed (``np.add.at``)."""
    if is_cupy(target):
        import cupyx
        cupyx.scatter_add(target, index, values)
    else:
        np.add.at(target, index, values)
