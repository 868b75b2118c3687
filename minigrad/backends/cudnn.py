"""``torch.backends.cudnn``: minigrad's GPU convolutions are its own numba.cuda kernels and
im2col + CuPy GEMM, not cuDNN, so cuDNN is never available.

The flags scripts set are kept so the assignments work, and mean what they mean for
minigrad's kernels: ``benchmark`` has nothing to choose between (one algorithm per op), and
``deterministic`` changes nothing either: the convolution, pooling and batch-norm kernels
already sum in a fixed order on the CPU and on the GPU (no atomic adds)."""
enabled = True
benchmark = False
deterministic = False


def is_available():
    """False: minigrad does not use cuDNN."""
    return False


def version():
    """None, as torch answers when cuDNN is not available."""
    return None
