"""``minigrad.xpu``: ``torch.xpu``'s first questions (Intel GPUs), which training scripts ask
beside ``torch.cuda.is_available()``. minigrad drives NVIDIA GPUs through CuPy only."""


def is_available():
    """False: minigrad has no ``xpu`` device (``device("xpu")`` is refused)."""
    return False


def device_count():
    """0: minigrad sees no Intel GPU."""
    return 0
