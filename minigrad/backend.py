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


class device(str):
    """PyTorch's ``torch.device``: ``device("cpu")``, ``device("cuda")``, ``device("cuda:0")``.
    A ``str`` subclass equal to its type, so ``x.device == "cpu"`` holds and a device can
    go wherever a device name is accepted; ``.type`` and ``.index`` as in PyTorch.
    minigrad drives one GPU, so the only CUDA index is 0."""

    def __new__(cls, type, index=None):
        if isinstance(type, device) and index is None:
            return type
        kind, colon, number = str(type).partition(":")
        if kind not in DEVICES:
            raise RuntimeError(f"device: expected one of {', '.join(DEVICES)} at the start of the device "
                               f"string, got {type!r}")
        if colon:
            if not number.isdigit():
                raise RuntimeError(f"device: invalid device string {type!r}")
            index = int(number)
        if index is not None and (kind == "cpu" or index != 0):
            raise RuntimeError(f"device: {type!r} with index {index}: minigrad uses the CPU and one GPU, cuda:0")
        made = super().__new__(cls, kind)
        made.type, made.index = kind, index
        return made

    def __repr__(self):
        return f"device(type='{self.type}'" + ("" if self.index is None else f", index={self.index}") + ")"


def is_cupy(array):
    return cupy is not None and isinstance(array, cupy.ndarray)


def xp(*arrays):
    """The array module (``numpy`` or ``cupy``) that owns ``arrays``: CuPy if one of them
    is a CuPy array (the others may be numbers, which CuPy takes as scalars)."""
    return cupy if any(is_cupy(a) for a in arrays) else np


_CPU, _CUDA = device("cpu"), device("cuda")


def device_of(array):
    return _CUDA if is_cupy(array) else _CPU


def check_device(name):
    """``name`` (a string or a ``device``) as a ``device``, after checking it can be used."""
    try:
        name = device(name)
    except RuntimeError as error:
        raise ValueError(f"unknown device {name!r}: expected one of {DEVICES}") from error
    if name == "cuda" and not _has_gpu:
        reason = "CuPy is not installed (pip install 'minigrad[gpu]')" if cupy is None \
            else "CuPy found no GPU"
        raise RuntimeError(f"device 'cuda' is not available: {reason}")
    return name


def to_device(array, name):
    """Copy ``array`` to device ``name`` ("cpu" or "cuda"); no copy if it is already there."""
    if check_device(name) == "cuda":
        return cupy.asarray(array)
    return cupy.asnumpy(array) if is_cupy(array) else np.asarray(array)


def to_numpy(array):
    """``array`` on the host. From a GPU this waits for the GPU, so the checks queued
    by ``defer_check`` are read first, with it."""
    if is_cupy(array):
        raise_deferred()
        return cupy.asnumpy(array)
    return np.asarray(array)


def host_array(x):
    """``x`` as an array that stays where it is: a device array as it is, anything
    else (a list, a NumPy array) through ``np.asarray``. ``np.asarray`` alone would
    copy a device array to the host (and CuPy refuses it)."""
    return x if is_cupy(x) else np.asarray(x)


# Checks of values on a GPU (a label in range) are queued, not read: reading a flag
# would stall the host until the GPU catches up, once per loss. They are read at the
# next read from the device, as CUDA reports a kernel's failed assertion at the next
# synchronisation (PyTorch's "device-side assert triggered").
_deferred = []  # (0-d or 1-d device bool array: True where a check failed, [raise ...])
_DEFERRED_FOLD = 64  # fold the queue into one array beyond this many checks


def defer_check(failed, error):
    """Queue a check on a GPU: ``failed`` a 0-d device bool array, ``error()`` the
    exception to raise when it is True (built only then). On the CPU, raise at once."""
    if not is_cupy(failed):
        if failed:
            raise error()
        return
    _deferred.append((failed.reshape(1), [error]))
    if len(_deferred) > _DEFERRED_FOLD:
        flags = cupy.concatenate([f for f, _ in _deferred])
        errors = [e for _, es in _deferred for e in es]
        _deferred[:] = [(flags, errors)]


def raise_deferred():
    """Read the queued checks (one read) and raise the first that failed."""
    read_numbers([])


def read_item(array):
    """The one value of a device ``array`` as a Python number (``.item()``), read together
    with the checks queued by ``defer_check``: one wait for the GPU, not two. The value's
    bytes travel beside the flags', so an int64 keeps every digit."""
    if not _deferred:
        return array.reshape(()).item()
    checks = _deferred[:]
    _deferred.clear()
    flags = [f.astype(np.uint8) for f, _ in checks]
    value = cupy.ascontiguousarray(array.reshape(1)).view(np.uint8)
    host = cupy.asnumpy(cupy.concatenate(flags + [value]))
    count = len(host) - value.size
    for failed, error in zip(host[:count], [e for _, es in checks for e in es]):
        if failed:
            raise error()
    return host[count:].view(array.dtype)[0].item()


def read_numbers(values):
    """``values`` (0-d arrays, Python numbers or None) as Python floats (None stays None),
    in **one** read from the device: each read stalls the host until the GPU has done
    everything queued before it, so a training loop keeps its statistics on the device
    and reads them together at its logging points. The checks queued by ``defer_check``
    travel in the same read and raise first. On the CPU, ``float`` of each."""
    on_device = [v for v in values if is_cupy(v)]
    if not on_device and not _deferred:
        return [None if v is None else float(v) for v in values]
    checks = _deferred[:]
    _deferred.clear()
    parts = [f.astype(np.float64) for f, _ in checks] + [v.astype(np.float64).reshape(1) for v in on_device]
    host = cupy.asnumpy(cupy.concatenate(parts))
    flags = host[:len(host) - len(on_device)]
    for failed, error in zip(flags, [e for _, es in checks for e in es]):
        if failed:
            raise error()
    numbers = iter(host[len(flags):].tolist())
    return [next(numbers) if is_cupy(v) else None if v is None else float(v) for v in values]


def scatter_add(target, index, values):
    """``target[index] += values`` with repeated indices summed (``np.add.at``). On a GPU,
    ``cupyx.scatter_add``, whose atomic adds take int32, uint32, uint64 and floats only:
    an int64 target is added to as uint64 (two's complement: the same bits), a narrower
    integer or bool one through int32 (cast back, it wraps as its own sum would)."""
    if not is_cupy(target):
        np.add.at(target, index, values)
        return
    import cupyx
    if target.dtype == np.int64:
        cupyx.scatter_add(target.view(np.uint64), index, cupy.asarray(values, dtype=np.int64).view(np.uint64))
    elif target.dtype.kind in "iub" and target.dtype.itemsize < 4:
        wide = target.astype(np.int32)
        cupyx.scatter_add(wide, index, cupy.asarray(values).astype(np.int32))
        target[...] = wide.astype(bool) if target.dtype.kind == "b" else wide.astype(target.dtype)
    else:
        cupyx.scatter_add(target, index, values)
