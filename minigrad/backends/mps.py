"""``torch.backends.mps``: Apple's Metal device, which minigrad does not have."""


def is_available():
    """False: minigrad has no ``mps`` device (``device("mps")`` is refused)."""
    return False


def is_built():
    """False: minigrad is not built with Metal support."""
    return False
