"""``cupy.cuda`` stood in: one device (0), streams and events that keep order trivially
(NumPy computes at once), a memory pool that reports what is held."""
import time

from cupy.cuda import memory, runtime  # noqa: F401
from cupy.cuda.memory import MemoryPointer, OutOfMemoryError  # noqa: F401


def is_available():
    return True


class Device:
    """``cupy.cuda.Device(0)``: the one stand-in device."""

    def __init__(self, device=None):
        device = 0 if device is None else int(device)
        if device != 0:
            raise runtime.CUDARuntimeError(f"cudaErrorInvalidDevice: invalid device ordinal {device}")
        self.id = device

    compute_capability = "90"

    @property
    def mem_info(self):
        total = runtime.getDeviceProperties(0)["totalGlobalMem"]
        return total - memory.default_pool.used_bytes(), total

    def synchronize(self):
        pass

    def use(self):
        return self

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __int__(self):
        return self.id

    def __eq__(self, other):
        return isinstance(other, Device) and other.id == self.id

    def __hash__(self):
        return hash(self.id)

    def __repr__(self):
        return f"<CUDA Device {self.id}>"


class Stream:
    """A CUDA stream: ``ptr`` (0 for the null stream), ``synchronize()``, ``use()``, and a
    context manager that makes it current."""
    null = None  # set below

    def __init__(self, null=False, non_blocking=False, ptds=False):
        self.ptr = 0 if null else id(self)
        self._previous = []

    def synchronize(self):
        pass

    def use(self):
        global _current
        _current = self
        return self

    def __enter__(self):
        self._previous.append(get_current_stream())
        return self.use()

    def __exit__(self, *exc):
        self._previous.pop().use()
        return False

    def record(self, event=None):
        event = event or Event()
        event.record(self)
        return event

    def wait_event(self, event):
        pass


Stream.null = Stream(null=True)
_current = Stream.null


def get_current_stream(device_id=None):
    return _current


class Event:
    """A CUDA event: ``record()``, ``synchronize()``; ``get_elapsed_time(start, end)`` in ms."""

    def __init__(self, block=False, disable_timing=False, interprocess=False):
        self.time = None

    def record(self, stream=None):
        self.time = time.perf_counter()

    def synchronize(self):
        pass

    @property
    def done(self):
        return True


def get_elapsed_time(start, end):
    return (end.time - start.time) * 1e3
