"""Layers and losses as plain functions of tensors (``import minigrad.functional as F``).

Everything here is composed from the ops in ``minigrad/ops``, so gradients (and
second derivatives) come for free; the kernel-backed CNN ops are re-exported at
the bottom.
"""
import numpy as np

from minigrad import backend, ops
from minigrad import random as mg_random
from minigrad.ops import log_softmax, logsumexp, relu, sigmoid, softmax, tanh  # noqa: F401 (re-exported)
from minigrad.tensor import Tensor


def linear(x, weight, bias=None):
    """y = x Wᵀ + b, with W of shape (out_features, in_features) as in PyTorch.
    x: (..., in_features) → y: (..., out_features)."""
    if x.shape[-1] != weight.shape[-1]:
        raise ValueError(f"linear: input of shape {x.shape} has {x.shape[-1]} features, "
                         f"weight of shape {weight.shape} expects {weight.shape[-1]}")
    y = x @ weight.T
    return y if bias is None else y + bias


def dropout(x, p=0.5, training=True, generator=None):
    """Inverted dropout: zero each element with probability p and scale the rest by
    1/(1−p), so the expected activation is unchanged and eval mode is the identity."""
    if not 0 <= p < 1:
        raise ValueError(f"dropout: p must be in [0, 1), got {p}")
    if not training or p == 0:
        return x
    keep = mg_random.get(generator).random(x.shape) >= p
    mask = backend.to_device((keep / (1 - p)).astype(x.dtype), x.device)
    return x * Tensor._wrap(mask)


def _reduce(loss, reduction, op):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _labels(target, logits):
    """Integer class labels as an index array on the logits' device, checked."""
    labels = target.data if isinstance(target, Tensor) else np.asarray(target)
    n, classes = logits.shape
    if labels.shape != (n,):
        raise ValueError(f"cross_entropy: logits of shape {logits.shape} need labels of shape ({n},), "
                         f"got {tuple(labels.shape)}")
    if labels.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy: labels must be integers (class indices), got dtype {labels.dtype}")
    host = backend.to_numpy(labels)
    if n and (host.min() < 0 or host.max() >= classes):
        raise ValueError(f"cross_entropy: labels must lie in [0, {classes}), got values from "
                         f"{host.min()} to {host.max()}")
    return backend.xp(logits.data).asarray(labels)


def cross_entropy(logits, target, reduction="mean"):
    """Softmax cross-entropy: −log softmax(logits)[label], per sample.

    logits: (N, C) unnormalised scores; target: (N,) integer labels.
    Computed as −(xᵢ − logsumexp(x)), which never overflows.
    """
    if logits.ndim != 2:
        raise ValueError(f"cross_entropy: logits must have shape (N, C), got {logits.shape}")
    labels = _labels(target, logits)
    rows = backend.xp(logits.data).arange(logits.shape[0])
    loss = -log_softmax(logits, axis=1)[rows, labels]
    return _reduce(loss, reduction, "cross_entropy")


def _same_shape(a, b, op):
    if a.shape != b.shape:
        raise ValueError(f"{op}: input of shape {a.shape} and target of shape {b.shape} differ")


def mse_loss(input, target, reduction="mean"):
    """Mean squared error: mean of (input − target)² over every element."""
    target = target if isinstance(target, Tensor) else Tensor(target, dtype=input.dtype, device=input.device)
    _same_shape(input, target, "mse_loss")
    return _reduce((input - target) ** 2, reduction, "mse_loss")


def euclidean_loss(input, target):
    """Caffe's EuclideanLoss: 1/(2N) Σₙ ‖ŷₙ − yₙ‖², N the batch size (first axis)."""
    target = target if isinstance(target, Tensor) else Tensor(target, dtype=input.dtype, device=input.device)
    _same_shape(input, target, "euclidean_loss")
    return ((input - target) ** 2).sum() / (2 * input.shape[0])


def binary_cross_entropy(input, target, reduction="mean"):
    """−[y log p + (1 − y) log(1 − p)] for probabilities p in [0, 1]. Each log is
    clamped at −100, as in PyTorch, so p = 0 or 1 gives a large finite loss, not inf."""
    target = target if isinstance(target, Tensor) else Tensor(target, dtype=input.dtype, device=input.device)
    _same_shape(input, target, "binary_cross_entropy")
    host = backend.to_numpy(input.data)
    if host.size and (host.min() < 0 or host.max() > 1):
        raise ValueError(f"binary_cross_entropy: input must be probabilities in [0, 1], got values from "
                         f"{host.min():.4g} to {host.max():.4g} (apply sigmoid first)")
    with np.errstate(divide="ignore"):  # log 0 = −inf is expected here, and clamped just below
        log_p = ops.clip(ops.log(input), -100, None)
        log_not_p = ops.clip(ops.log(1 - input), -100, None)
    return _reduce(-(target * log_p + (1 - target) * log_not_p), reduction, "binary_cross_entropy")


def _adaptive_output_size(output_size, input_hw):
    """torch's ``output_size``: an int, or an (h, w) pair whose ``None`` keeps that input size."""
    sizes = (output_size, output_size) if not isinstance(output_size, (tuple, list)) else tuple(output_size)
    if len(sizes) != 2:
        raise ValueError(f"adaptive_avg_pool2d: output_size must be an int or a pair, got {output_size!r}")
    sizes = tuple(n if s is None else s for s, n in zip(sizes, input_hw))
    for s in sizes:
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool) or s <= 0:
            raise ValueError(f"adaptive_avg_pool2d: output_size must hold positive ints (or None), "
                             f"got {output_size!r}")
    return tuple(int(s) for s in sizes)


def _adaptive_mean(x, axis, size):
    """Average ``x`` along ``axis`` (length L) into ``size`` bins; bin i spans the inputs
    ⌊i·L/size⌋ … ⌈(i+1)·L/size⌉ − 1 (PyTorch's start and end index formula, so bins may
    overlap by one when size does not divide L)."""
    length = x.shape[axis]
    if length % size == 0:  # equal bins side by side: one reshape and one mean
        shape = x.shape[:axis] + (size, length // size) + x.shape[axis + 1:]
        return ops.mean(ops.reshape(x, shape), axis + 1)
    index = [slice(None)] * x.ndim
    bins = []
    for i in range(size):
        index[axis] = slice(i * length // size, -(-(i + 1) * length // size))
        bins.append(ops.mean(x[tuple(index)], axis, True))
    return ops.concatenate(bins, axis)


def adaptive_avg_pool2d(x, output_size):
    """Average pooling to a fixed output size: (N, C, H, W) or (C, H, W) → (…, Ho, Wo).

    The window of output (i, j) is rows ⌊i·H/Ho⌋ … ⌈(i+1)·H/Ho⌉ − 1 and the columns
    alike, as in PyTorch. A window is a rectangle, so its mean is the mean over its
    rows of the means over its columns: pooling the height, then the width, gives the
    same answer with Ho + Wo slices instead of Ho·Wo. Output 1×1 (ResNet's global
    average pool) is the plain mean over H and W. Composed of differentiable ops, so
    its gradient (and second derivative) comes from theirs."""
    if x.ndim not in (3, 4):
        raise ValueError(f"adaptive_avg_pool2d: expects a (N, C, H, W) or (C, H, W) input, got shape {x.shape}")
    if min(x.shape[-2:]) == 0:
        raise ValueError(f"adaptive_avg_pool2d: input of shape {x.shape} has an empty image")
    out_h, out_w = _adaptive_output_size(output_size, x.shape[-2:])
    return _adaptive_mean(_adaptive_mean(x, x.ndim - 2, out_h), x.ndim - 1, out_w)


# ---- kernel-backed CNN ops (minigrad/ops/conv.py, pool.py, batchnorm.py) ----
from minigrad.ops import avg_pool2d, batch_norm, conv2d, max_pool2d  # noqa: E402,F401 (re-exported)
