"""ReLU on arrays of any shape: y = max(x, 0), and its gradient gx = gy · [y > 0].

    y = forward(x)
    gx = backward(gy, y)

The backward reads the output y, not the input: y > 0 exactly where x > 0, so a
caller keeps one array alive instead of two. At x = 0 the gradient is 0 (PyTorch's
choice of subgradient). NaN passes through the forward unchanged, as in PyTorch.
"""
from kernels import face


def forward(x):
    """y = max(x, 0), same shape and dtype as x."""
    face.check_float("relu", x)
    return face.module("relu", "relu", x).forward(x)


def backward(gy, y):
    """gx = gy where y > 0, else 0; gy and y of one shape."""
    face.check_float("relu backward", gy, y)
    if gy.shape != y.shape:
        raise ValueError(f"relu backward: gradient of shape {tuple(gy.shape)} for an output of shape {tuple(y.shape)}")
    return face.module("relu", "relu backward", gy, y).backward(gy, y)
