"""Weight initialisers, written from the variance argument of the lecture notes.

For y = Σᵢ wᵢ xᵢ over n inputs with independent zero-mean wᵢ, xᵢ:
Var(y) = n · Var(w) · Var(x). Keeping Var(y) = Var(x) layer after layer needs
Var(w) = 1/n. Xavier/Glorot averages the forward (n_in) and backward (n_out)
conditions: Var(w) = 2 / (n_in + n_out). He/Kaiming accounts for ReLU zeroing
half of its inputs: Var(w) = 2 / n_in. A ``gain`` rescales the standard deviation
for the nonlinearity that follows (``calculate_gain``).

Every function fills ``tensor.array`` in place and draws from ``generator`` (a
``numpy.random.Generator``), or from the default one that ``minigrad.manual_seed`` sets.
"""
import math

import numpy as np

from minigrad import backend
from minigrad import random as mg_random

_LINEAR = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d", "sigmoid", "identity")


def calculate_gain(nonlinearity, param=None):
    """The factor by which a nonlinearity shrinks the standard deviation, undone by init."""
    if nonlinearity in _LINEAR:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if not isinstance(slope, (int, float)) or isinstance(slope, bool):
            raise ValueError(f"calculate_gain: negative slope {slope!r} is not a number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def calculate_fan_in_and_fan_out(tensor):
    """fan_in = inputs per output unit, fan_out = outputs per input unit. For a Linear
    weight (out, in) that is (in, out); a conv weight (C_out, C_in, kh, kw) multiplies
    both by the kh·kw positions of its receptive field."""
    if tensor.ndim < 2:
        raise ValueError(f"fan in and fan out need a tensor with at least 2 dimensions, got shape {tensor.shape}")
    receptive = int(np.prod(tensor.shape[2:])) if tensor.ndim > 2 else 1
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _fill(tensor, values):
    tensor.array[...] = backend.xp(tensor.array).asarray(values, dtype=tensor.dtype)
    return tensor


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    if a > b:
        raise ValueError(f"uniform_: lower bound a={a} is larger than b={b}")
    return _fill(tensor, mg_random.get(generator).uniform(a, b, tensor.shape))


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    if std < 0:
        raise ValueError(f"normal_: std must be non-negative, got {std}")
    return _fill(tensor, mg_random.get(generator).normal(mean, std, tensor.shape))


def constant_(tensor, val):
    return _fill(tensor, np.full(tensor.shape, val))


def zeros_(tensor):
    return constant_(tensor, 0.0)


def ones_(tensor):
    return constant_(tensor, 1.0)


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """U(−a, a) with a = gain·√(6 / (fan_in + fan_out)): variance a²/3 = gain²·2/(fan_in + fan_out)."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """N(0, std²) with std = gain·√(2 / (fan_in + fan_out))."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def _kaiming_std(tensor, a, mode, nonlinearity):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"kaiming init: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """U(−b, b) with b = √3·gain/√fan (so that the variance is gain²/fan; for ReLU 2/fan)."""
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """N(0, gain²/fan): He initialisation (Var = 2/n_in for ReLU with mode='fan_in')."""
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity), generator)


def default_init_(weight, bias, generator=None):
    """PyTorch's default for Linear and Conv layers: kaiming_uniform_ with a = √5,
    which works out to U(−1/√fan_in, 1/√fan_in) for the weight, and the same bound
    for the bias."""
    kaiming_uniform_(weight, a=math.sqrt(5), generator=generator)
    if bias is not None:
        bound = 1 / math.sqrt(calculate_fan_in_and_fan_out(weight)[0])
        uniform_(bias, -bound, bound, generator)
