"""Layers and losses as plain functions of tensors (``import minigrad.functional as F``).

Everything here is composed from the ops in ``minigrad/ops``, so gradients (and
second derivatives) come for free; the kernel-backed CNN ops are wrapped at the
bottom. Names, arguments, defaults and results are PyTorch's
(``torch.nn.functional``): a call that works there gives the same answer here or a
clear error saying what is not supported.
"""
import math
import numbers
import warnings

import numpy as np

import kernels.pool
from kernels.geometry import pair
from minigrad import backend, ops
from minigrad import random as mg_random
from minigrad.ops import logsumexp, sigmoid, tanh  # noqa: F401 (re-exported)
from minigrad.tensor import Tensor


def _constant(value, like, shape=None):
    """A constant (no-grad) tensor on ``like``'s device, of ``like``'s dtype."""
    array_module = backend.xp(like.data)
    data = array_module.asarray(value, dtype=like.dtype)
    return Tensor._wrap(data if shape is None else array_module.broadcast_to(data, shape))


# ---- activations ----------------------------------------------------------------------------
# ``inplace=True`` is accepted for PyTorch's signatures; the result is computed out of
# place and returned, which is what the caller of ``y = F.relu(x, inplace=True)`` uses.
def relu(input, inplace=False):
    return ops.relu(input)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x for x > 0, negative_slope·x otherwise (at 0 the slope is negative_slope, as in PyTorch)."""
    return ops.where(input > 0, input, input * negative_slope)


def _softmax_dim(input, dim, op):
    """PyTorch's rule for a softmax called without ``dim`` (deprecated there, with a
    warning): dim 0 for 0-, 1- and 3-d inputs, else dim 1."""
    if dim is not None:
        return dim
    warnings.warn(f"{op}: implicit dimension choice is deprecated (as in PyTorch); pass dim=",
                  UserWarning, stacklevel=3)
    return 0 if input.ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    x = input if dtype is None else input.to(dtype=dtype)
    return ops.softmax(x, _softmax_dim(x, dim, "softmax"))


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    x = input if dtype is None else input.to(dtype=dtype)
    return ops.log_softmax(x, _softmax_dim(x, dim, "log_softmax"))


def softplus(input, beta=1.0, threshold=20.0):
    """(1/β) log(1 + exp(βx)), as log Σ exp over {0, βx} (stable, exact gradient σ(βx) everywhere);
    PyTorch returns x itself where βx > threshold, which this matches to float precision."""
    zero = _constant(0, input, input.shape)
    return logsumexp(ops.stack([zero, input * beta]), 0) / beta


def linear(x, weight, bias=None):
    """y = x Wᵀ + b, with W of shape (out_features, in_features) as in PyTorch.
    x: (..., in_features) → y: (..., out_features)."""
    if x.shape[-1] != weight.shape[-1]:
        raise ValueError(f"linear: input of shape {x.shape} has {x.shape[-1]} features, "
                         f"weight of shape {weight.shape} expects {weight.shape[-1]}")
    y = x @ weight.T
    return y if bias is None else y + bias


def dropout(x, p=0.5, training=True, inplace=False, generator=None):
    """Inverted dropout: zero each element with probability p and scale the rest by
    1/(1−p), so the expected activation is unchanged and eval mode is the identity."""
    if not 0 <= p < 1:
        raise ValueError(f"dropout: p must be in [0, 1), got {p}")
    if not training or p == 0:
        return x
    keep = mg_random.get(generator).random(x.shape) >= p
    mask = backend.to_device((keep / (1 - p)).astype(x.dtype), x.device)
    return x * Tensor._wrap(mask)


# ---- padding and one-hot ------------------------------------------------------------------------
def _pad_index(n, before, after, mode):
    """The source index of every output position along one axis of length n padded
    by (before, after) in a non-constant mode (PyTorch's definitions)."""
    i = np.arange(-before, n + after)
    if mode == "replicate":
        return np.clip(i, 0, n - 1)
    if mode == "circular":
        return i % n
    period = 2 * (n - 1)  # reflect: mirror about the edges, edge not repeated
    i = np.abs(i) % period if period else np.zeros_like(i)
    return np.where(i < n, i, period - i)


def pad(input, pad, mode="constant", value=None):
    """Pad (or, with negative amounts, crop) the last len(pad)/2 dimensions.

    pad: (left, right) for the last dim, then (top, bottom) for the one before, …
    mode: "constant" (``value``, default 0; any number of dims), "reflect",
    "replicate", "circular" (the last 1–3 dims of a (batched) input, as PyTorch).
    The gradient flows through slicing and concatenation (constant) or gathering
    (the others), so it needs no rule of its own.
    """
    pad = list(pad)
    if len(pad) % 2 or not all(isinstance(p, numbers.Integral) for p in pad):
        raise ValueError(f"pad: pad must be an even-length sequence of ints, got {pad}")
    dims = len(pad) // 2
    if dims > input.ndim:
        raise ValueError(f"pad: {len(pad)} padding values pad {dims} dims, but the input of shape "
                         f"{input.shape} has {input.ndim}")
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise NotImplementedError(f"pad: mode {mode!r} is not supported "
                                  f"(constant, reflect, replicate, circular)")
    if mode != "constant":
        if value is not None:
            raise ValueError(f"pad: value={value} is only used by mode 'constant', got mode {mode!r}")
        if dims > 3 or input.ndim not in (dims + 1, dims + 2):
            raise NotImplementedError(f"pad: mode {mode!r} with {len(pad)} padding values needs a "
                                      f"{dims + 1}-d or {dims + 2}-d input, got shape {input.shape}")
    out = input
    for k in range(dims):
        axis = input.ndim - 1 - k
        before, after = pad[2 * k], pad[2 * k + 1]
        n = out.shape[axis]
        if before + n + after < 0 or (n + min(before, 0) + min(after, 0)) < 0:
            raise ValueError(f"pad: padding ({before}, {after}) of dim {axis} leaves a negative size "
                             f"from {n} (input shape {input.shape})")
        where = [slice(None)] * out.ndim
        if mode == "constant":
            # negative amounts crop first; positive ones add constant slabs
            where[axis] = slice(max(-before, 0), n - max(-after, 0))
            out = out[tuple(where)] if before < 0 or after < 0 else out
            slabs = []
            for amount in (before, after):
                shape = out.shape[:axis] + (max(amount, 0),) + out.shape[axis + 1:]
                slabs.append(_constant(0 if value is None else value, out, shape))
            out = ops.concatenate([slabs[0], out, slabs[1]], axis)
        else:
            limit = n if mode == "circular" else n - 1 if mode == "reflect" else None
            if limit is not None and max(before, after) > limit:
                raise ValueError(f"pad: mode {mode!r} needs padding at most {limit} for dim {axis} of size "
                                 f"{n}, got ({before}, {after})")
            where[axis] = backend.xp(out.data).asarray(_pad_index(n, before, after, mode))
            out = out[tuple(where)]
    return out


def one_hot(tensor, num_classes=-1):
    """Integer class indices (any shape) → int64 one-hot of shape (..., num_classes);
    ``num_classes=-1`` means max(tensor) + 1."""
    labels = tensor.data if isinstance(tensor, Tensor) else np.asarray(tensor)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expects integer class indices, got dtype {labels.dtype}")
    host = backend.to_numpy(labels)
    if host.size and host.min() < 0:
        raise ValueError(f"one_hot: class values must be non-negative, got {host.min()}")
    if num_classes == -1:
        if not host.size:
            raise ValueError("one_hot: cannot infer num_classes of an empty tensor; pass num_classes")
        num_classes = int(host.max()) + 1
    if host.size and host.max() >= num_classes:
        raise ValueError(f"one_hot: class values must be smaller than num_classes={num_classes}, "
                         f"got {host.max()}")
    array_module = backend.xp(labels)
    return Tensor._wrap(array_module.eye(num_classes, dtype=np.int64)[array_module.asarray(labels)])


# ---- losses ---------------------------------------------------------------------------------------
def _reduction(size_average, reduce, reduction, op):
    """PyTorch's deprecated ``size_average``/``reduce`` flags, mapped as PyTorch maps
    them (``torch.nn._reduction.legacy_get_string``); ``reduction`` otherwise."""
    if size_average is not None or reduce is not None:
        warnings.warn(f"{op}: size_average and reduce are deprecated (as in PyTorch); use reduction=",
                      UserWarning, stacklevel=3)
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "mean" if size_average and reduce else "sum" if reduce else "none"
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    return reduction


def _reduce(loss, reduction):
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss


def _as_tensor(value, like):
    """A target or weight as a Tensor of ``like``'s dtype (PyTorch refuses a mix, e.g. a
    float64 target for a float32 input; the cast here is differentiable)."""
    if not isinstance(value, Tensor):
        return Tensor(value, dtype=like.dtype, device=like.device)
    return value if value.dtype == like.dtype else value.to(dtype=like.dtype)


def _same_shape(a, b, op):
    if a.shape != b.shape:
        raise ValueError(f"{op}: input of shape {a.shape} and target of shape {b.shape} differ")


def _class_indices(target, input, ignore_index, op):
    """Integer labels, checked against the log-probabilities ``input``: (N, C) or (C,)
    or (N, C, d1, …) takes labels (N,), () or (N, d1, …). Returns the labels as a
    host int64 array, the mask of those that count (≠ ignore_index), and C."""
    labels = target.data if isinstance(target, Tensor) else np.asarray(target)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"{op}: target must be integers (class indices), or class probabilities of the "
                        f"input's shape {input.shape}; got dtype {labels.dtype} and shape {tuple(labels.shape)}")
    if input.ndim == 0:
        raise ValueError(f"{op}: input must have a class dimension, got a 0-d tensor")
    expected = () if input.ndim == 1 else (input.shape[0],) + input.shape[2:]
    if tuple(labels.shape) != expected:
        raise ValueError(f"{op}: input of shape {input.shape} needs labels of shape {expected}, "
                         f"got {tuple(labels.shape)}")
    classes = input.shape[0 if input.ndim == 1 else 1]
    host = backend.to_numpy(labels).astype(np.int64)
    keep = host != ignore_index
    bad = host[keep & ((host < 0) | (host >= classes))]
    if bad.size:
        raise IndexError(f"{op}: target {bad[0]} is out of bounds: labels must lie in [0, {classes}) "
                         f"(or equal ignore_index={ignore_index})")
    return host, keep, classes


def _classes_last(x):
    """(N, C, d1, …) → (N·d1·…, C); (C,) → (1, C); (N, C) unchanged."""
    if x.ndim == 1:
        return x.reshape(1, -1)
    if x.ndim == 2:
        return x
    return x.permute(0, *range(2, x.ndim), 1).reshape(-1, x.shape[1])


def _picked(logp, target, weight, ignore_index, op):
    """The negative log-likelihood of each label, weighted: −w[yᵢ]·logp[i, yᵢ], and the
    weights w[yᵢ] themselves (0 where yᵢ = ignore_index), both of the labels' shape."""
    labels, keep, classes = _class_indices(target, logp, ignore_index, op)
    if weight is not None and tuple(weight.shape) != (classes,):
        raise ValueError(f"{op}: weight must have one entry per class, shape ({classes},), got {weight.shape}")
    array_module = backend.xp(logp.data)
    safe = array_module.asarray(np.where(keep, labels, 0).reshape(-1))
    flat = _classes_last(logp)
    mask = _constant(keep.reshape(-1), logp)
    w = mask if weight is None else weight[safe] * mask
    loss = -flat[array_module.arange(flat.shape[0]), safe] * w
    return loss.reshape(labels.shape), w.reshape(labels.shape)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """Negative log-likelihood of integer labels under log-probabilities ``input``.

    input: (N, C), (C,) or (N, C, d1, …); target: (N,), () or (N, d1, …) integers.
    loss_i = −w[y_i] · input[i, y_i]; labels equal to ignore_index count for nothing.
    reduction 'mean' divides by Σ w[y_i] over the labels that count (PyTorch's weighted mean).
    """
    reduction = _reduction(size_average, reduce, reduction, "nll_loss")
    weight = None if weight is None else _as_tensor(weight, input)
    loss, w = _picked(input, target, weight, ignore_index, "nll_loss")
    return loss.sum() / w.sum() if reduction == "mean" else _reduce(loss, reduction)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """Softmax cross-entropy, PyTorch's ``F.cross_entropy``.

    input: (N, C) unnormalised scores (or (C,), or (N, C, d1, …)).
    target: integer labels (N,) (or (), (N, d1, …)), as an int Tensor or array; or class
    probabilities of the input's shape (floating point).
    weight: (C,) per-class weights; ignore_index: a label that contributes nothing;
    label_smoothing ε: the target becomes (1 − ε)·onehot + ε/C.

    With labels, loss = (1 − ε)·nll + ε/C · Σ_c −w_c log p_c, both reduced as
    ``nll_loss`` reduces (PyTorch's cross_entropy_loss_label_smoothing). log p is
    x − logsumexp(x), which never overflows.
    """
    op = "cross_entropy"
    reduction = _reduction(size_average, reduce, reduction, op)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be in [0, 1], got {label_smoothing}")
    if input.ndim == 0:
        raise ValueError(f"{op}: input must have a class dimension, got a 0-d tensor")
    class_dim = 0 if input.ndim == 1 else 1
    classes = input.shape[class_dim]
    weight = None if weight is None else _as_tensor(weight, input)
    if weight is not None and tuple(weight.shape) != (classes,):
        raise ValueError(f"{op}: weight must have one entry per class, shape ({classes},), got {weight.shape}")
    logp = ops.log_softmax(input, class_dim)
    w_shape = (classes,) + (1,) * (input.ndim - 1 - class_dim)  # broadcasts along the class dim
    labels = target.data if isinstance(target, Tensor) else np.asarray(target)
    if labels.dtype.kind == "f" and tuple(labels.shape) == input.shape:  # class probabilities
        if ignore_index != -100:
            raise ValueError(f"{op}: ignore_index is only for integer labels, not class probabilities")
        target = _as_tensor(target, input)
        if label_smoothing:
            target = target * (1 - label_smoothing) + label_smoothing / classes
        weighted = logp if weight is None else logp * weight.reshape(w_shape)
        loss = -(weighted * target).sum(class_dim)
        return _reduce(loss, reduction)
    loss, w = _picked(logp, target, weight, ignore_index, op)
    if reduction == "mean":
        loss, total = loss.sum(), w.sum()
        loss = loss / total
    else:
        loss = _reduce(loss, reduction)
    if not label_smoothing:
        return loss
    weighted = logp if weight is None else logp * weight.reshape(w_shape)
    mask = _constant((labels != ignore_index), input)
    smooth = -weighted.sum(class_dim) * mask
    smooth = smooth.sum() / total if reduction == "mean" else _reduce(smooth, reduction)
    return loss * (1 - label_smoothing) + smooth * (label_smoothing / classes)


def _elementwise_loss(loss, weight, reduction):
    """An elementwise loss, optionally weighted (weight broadcasts against it), reduced."""
    if weight is not None:
        loss = loss * _as_tensor(weight, loss)
    return _reduce(loss, reduction)


def _weighted_mean_loss(loss, weight, reduction, op):
    """mse_loss and l1_loss with ``weight``: as PyTorch, the weight has the input's shape
    and 'mean' is the weighted mean Σ wᵢ·lossᵢ / Σ wᵢ."""
    if weight is None:
        return _reduce(loss, reduction)
    weight = _as_tensor(weight, loss)
    if weight.shape != loss.shape:
        raise ValueError(f"{op}: weight of shape {weight.shape} must have the input's shape {loss.shape}")
    loss = loss * weight
    return loss.sum() / weight.sum() if reduction == "mean" else _reduce(loss, reduction)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error: mean of (input − target)² over every element. Unlike PyTorch,
    which warns and broadcasts, different shapes are refused (the broadcast is nearly
    always a bug, e.g. (N, 1) against (N,))."""
    reduction = _reduction(size_average, reduce, reduction, "mse_loss")
    target = _as_tensor(target, input)
    _same_shape(input, target, "mse_loss")
    return _weighted_mean_loss((input - target) ** 2, weight, reduction, "mse_loss")


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error |input − target| (gradient sign(input − target), 0 at a tie)."""
    reduction = _reduction(size_average, reduce, reduction, "l1_loss")
    target = _as_tensor(target, input)
    _same_shape(input, target, "l1_loss")
    return _weighted_mean_loss(ops.abs(input - target), weight, reduction, "l1_loss")


def euclidean_loss(input, target):
    """Caffe's EuclideanLoss: 1/(2N) Σₙ ‖ŷₙ − yₙ‖², N the batch size (first axis)."""
    target = _as_tensor(target, input)
    _same_shape(input, target, "euclidean_loss")
    return ((input - target) ** 2).sum() / (2 * input.shape[0])


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """−w·[y log p + (1 − y) log(1 − p)] for probabilities p in [0, 1]. Each log is
    clamped at −100, as in PyTorch, so p = 0 or 1 gives a large finite loss, not inf."""
    reduction = _reduction(size_average, reduce, reduction, "binary_cross_entropy")
    target = _as_tensor(target, input)
    _same_shape(input, target, "binary_cross_entropy")
    host = backend.to_numpy(input.data)
    if host.size and (host.min() < 0 or host.max() > 1):
        raise ValueError(f"binary_cross_entropy: input must be probabilities in [0, 1], got values from "
                         f"{host.min():.4g} to {host.max():.4g} (apply sigmoid first, or use "
                         f"binary_cross_entropy_with_logits)")
    with np.errstate(divide="ignore"):  # log 0 = −inf is expected here, and clamped just below
        log_p = ops.clip(ops.log(input), -100, None)
        log_not_p = ops.clip(ops.log(1 - input), -100, None)
    return _elementwise_loss(-(target * log_p + (1 - target) * log_not_p), weight, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """Binary cross-entropy of σ(x) against y, from the logits x, in the stable form
    (PyTorch's): loss = (1 − y)·x + (1 + (pos_weight − 1)·y)·softplus(−x), since
    −log σ(x) = softplus(−x) and −log(1 − σ(x)) = x + softplus(−x). softplus is a
    logsumexp over {0, −x}: no overflow for any x, and the gradient σ(x) − y is exact
    even at x = 0. pos_weight (broadcast along the last dim) weighs the positive term.
    """
    reduction = _reduction(size_average, reduce, reduction, "binary_cross_entropy_with_logits")
    target = _as_tensor(target, input)
    _same_shape(input, target, "binary_cross_entropy_with_logits")
    log_weight = 1 if pos_weight is None else 1 + (_as_tensor(pos_weight, input) - 1) * target
    loss = (1 - target) * input + log_weight * softplus(-input)
    return _elementwise_loss(loss, weight, reduction)


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
    return ops.cat(bins, axis)


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed output size: (N, C, H, W) or (C, H, W) → (…, Ho, Wo).

    The window of output (i, j) is rows ⌊i·H/Ho⌋ … ⌈(i+1)·H/Ho⌉ − 1 and the columns
    alike, as in PyTorch. A window is a rectangle, so its mean is the mean over its
    rows of the means over its columns: pooling the height, then the width, gives the
    same answer with Ho + Wo slices instead of Ho·Wo. Output 1×1 (ResNet's global
    average pool) is the plain mean over H and W. Composed of differentiable ops, so
    its gradient (and second derivative) comes from theirs."""
    if input.ndim not in (3, 4):
        raise ValueError(f"adaptive_avg_pool2d: expects a (N, C, H, W) or (C, H, W) input, got shape {input.shape}")
    if min(input.shape[-2:]) == 0:
        raise ValueError(f"adaptive_avg_pool2d: input of shape {input.shape} has an empty image")
    out_h, out_w = _adaptive_output_size(output_size, input.shape[-2:])
    return _adaptive_mean(_adaptive_mean(input, input.ndim - 2, out_h), input.ndim - 1, out_w)


# ---- kernel-backed CNN ops (minigrad/ops/conv.py, pool.py, batchnorm.py) ------------------------
from minigrad.ops import batch_norm  # noqa: E402,F401 (re-exported)


def _refuse(op, name, value, default):
    if value != default:
        raise NotImplementedError(f"{op}: {name}={value!r} is not supported (only {default!r})")


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (``minigrad.ops.conv2d``) with PyTorch's signature.
    padding: an int, a pair, or "valid" (0) / "same" (output size = input size, stride 1;
    an odd total padding puts the extra row/column at the bottom/right, as PyTorch does).
    dilation and groups other than 1 are refused."""
    _refuse("conv2d", "dilation", pair(dilation, "dilation", "conv2d"), (1, 1))
    _refuse("conv2d", "groups", groups, 1)
    if isinstance(padding, str):
        if padding == "valid":
            padding = 0
        elif padding == "same":
            if pair(stride, "stride", "conv2d") != (1, 1):
                raise ValueError(f"conv2d: padding='same' is not supported for strided convolutions "
                                 f"(stride={stride})")
            (top, left) = ((k - 1) // 2 for k in weight.shape[2:])
            (bottom, right) = (k - 1 - before for k, before in zip(weight.shape[2:], (top, left)))
            if (top, left) != (bottom, right):
                input = pad(input, (left, right, top, bottom))
                top = left = 0
            padding = (top, left)
        else:
            raise ValueError(f"conv2d: padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
    return ops.conv2d(input, weight, bias, stride, padding)


def _ceil_extra(size, kernel, stride, padding):
    """The rows (or columns) of padding to add at the bottom (right) so that floor-mode
    pooling gives ceil mode's output length. PyTorch's rule: round the window count up,
    but drop a last window that would start past the input and its left padding."""
    span = size + 2 * padding - kernel
    if span < 0:
        return 0  # the kernel does not fit: the pooling op reports it
    count = -(-span // stride) + 1
    if (count - 1) * stride >= size + padding:
        count -= 1
    return max((count - 1) * stride + kernel - (size + 2 * padding), 0)  # < 0: floor's windows already fit


def _pool_geometry(op, input, kernel_size, stride, padding, ceil_mode):
    kernel, stride, padding = kernels.pool.window(op, kernel_size, stride, padding)
    if input.ndim != 4:
        raise ValueError(f"{op}: expects an (N, C, H, W) input, got shape {input.shape}")
    extra = (0, 0)
    if ceil_mode:
        extra = tuple(_ceil_extra(n, k, s, p) for n, k, s, p in zip(input.shape[2:], kernel, stride, padding))
    return kernel, stride, padding, extra


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """The largest value of each kh×kw window (``minigrad.ops.max_pool2d``; padding is −∞).
    ceil_mode: extra windows at the bottom/right cover the leftover rows/columns
    (PyTorch's rule), by padding those with −∞ first. dilation other than 1 and
    return_indices are refused."""
    _refuse("max_pool2d", "dilation", pair(dilation, "dilation", "max_pool2d"), (1, 1))
    _refuse("max_pool2d", "return_indices", return_indices, False)
    kernel, stride, padding, (extra_h, extra_w) = _pool_geometry("max_pool2d", input, kernel_size, stride,
                                                                   padding, ceil_mode)
    if extra_h or extra_w:
        input = pad(input, (0, extra_w, 0, extra_h), value=-math.inf)
    return ops.max_pool2d(input, kernel, stride, padding)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """The mean of each kh×kw window (``minigrad.ops.avg_pool2d`` divides by kh·kw).

    count_include_pad=False divides by the input cells in the window instead of kh·kw,
    ceil_mode adds windows at the bottom/right over the leftover cells (never counting
    cells past the padding), divisor_override divides by that number: each is the
    kernel's average rescaled by kh·kw / count, count being the kernel's own pooling of
    a mask of the cells PyTorch counts (its avg_pool2d divide_factor).
    """
    kernel, stride, padding, (extra_h, extra_w) = _pool_geometry("avg_pool2d", input, kernel_size, stride,
                                                                   padding, ceil_mode)
    if divisor_override is not None and not (isinstance(divisor_override, numbers.Integral)
                                             and divisor_override > 0):
        raise ValueError(f"avg_pool2d: divisor_override must be a positive int, got {divisor_override!r}")
    simple = count_include_pad or padding == (0, 0)
    if not (extra_h or extra_w) and simple and divisor_override is None:
        return ops.avg_pool2d(input, kernel, stride, padding)
    if extra_h or extra_w:
        input = pad(input, (0, extra_w, 0, extra_h))
    y = ops.avg_pool2d(input, kernel, stride, padding)
    area = kernel[0] * kernel[1]
    if divisor_override is not None:
        return y * (area / divisor_override)
    (h, w), (ph, pw) = input.shape[2:], padding
    array_module = backend.xp(input.data)
    mask = array_module.zeros((1, 1, h + 2 * ph, w + 2 * pw), dtype=input.dtype)
    if count_include_pad:  # every cell of the input and its symmetric padding
        mask[..., :h + 2 * ph - extra_h, :w + 2 * pw - extra_w] = 1
    else:  # the input's own cells only
        mask[..., ph:ph + h - extra_h, pw:pw + w - extra_w] = 1
    count = kernels.pool.avg_forward(mask, kernel, stride, 0) * area
    return y * Tensor._wrap(area / count)
