"""``minigrad.backends``: the names of ``torch.backends`` that training scripts ask before
choosing a device (``torch.backends.mps.is_available()``, ``torch.backends.cudnn.benchmark``).

minigrad runs on NumPy (CPU) or CuPy (one NVIDIA GPU) with its own kernels: it has no Apple
``mps`` device and does not call cuDNN, so both report themselves unavailable."""
from minigrad.backends import cudnn, mps

__all__ = ["cudnn", "mps"]
