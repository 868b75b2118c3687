"""``minigrad.cuda``: the names of ``torch.cuda`` that a training script asks first."""
from minigrad import backend


def is_available():
    """True when CuPy is installed and sees a GPU (``device="cuda"`` will work)."""
    return backend.cuda_available()


def device_count():
    """How many GPUs minigrad can use: 1 or 0 (it drives one GPU)."""
    return int(backend.cuda_available())
