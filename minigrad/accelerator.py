"""``torch.accelerator``'s questions, answered for minigrad's one optional GPU (CuPy):

    device = mg.accelerator.current_accelerator().type if mg.accelerator.is_available() else "cpu"

PyTorch's tutorials open with that line; here the accelerator is ``cuda`` when CuPy is
installed and sees a GPU, and there is none otherwise (``current_accelerator()`` is
then None and ``device_count()`` 0, as in torch on a CPU-only machine).
"""
from minigrad import backend


def is_available():
    """True when an accelerator (a CUDA GPU through CuPy) can be used."""
    return backend.cuda_available()


def current_accelerator(check_available=False):
    """The accelerator's ``device`` (``device("cuda")``), or None without a usable one
    (CuPy missing or seeing no GPU), whatever ``check_available`` says."""
    if backend.cuda_available():
        return backend.device("cuda")
    return None


def device_count():
    """How many accelerator devices minigrad drives: 1 with a GPU (minigrad uses one), else 0."""
    return 1 if backend.cuda_available() else 0


def current_device_index():
    """The index of the accelerator device in use: 0 (minigrad drives ``cuda:0``); -1 without one."""
    return 0 if backend.cuda_available() else -1


def set_device_index(device):
    """Choose the accelerator device: only index 0 exists here (``cuda:0``)."""
    index = getattr(device, "index", device)
    if not backend.cuda_available():
        raise RuntimeError("accelerator.set_device_index: there is no accelerator (CuPy found no GPU)")
    if index not in (None, 0):
        raise RuntimeError(f"accelerator.set_device_index: minigrad drives one GPU, cuda:0; got index {index}")


def synchronize(device=None):
    """Wait until the GPU has finished the work queued on minigrad's stream (nothing to
    wait for without one)."""
    if backend.cuda_available():
        backend.cupy.cuda.get_current_stream().synchronize()


__all__ = ["current_accelerator", "current_device_index", "device_count", "is_available", "set_device_index",
           "synchronize"]
