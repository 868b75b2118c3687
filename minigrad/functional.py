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

import kernels.geometry
import kernels.pool
from kernels.geometry import dilation_pair, pair, span
from minigrad import backend, ops
from minigrad import random as mg_random
from minigrad.ops import logsumexp, sigmoid, tanh  # noqa: F401 (re-exported)
from minigrad.ops.base import check_index_range
from minigrad.ops.im2col import col2im as _col2im, im2col as _im2col
from minigrad.tensor import Tensor, result


def _constant(value, like, shape=None):
    """A constant (no-grad) tensor on ``like``'s device, of ``like``'s dtype."""
    array_module = backend.xp(like.array)
    if isinstance(value, numbers.Number):  # filled where it lives: no host array copied to a GPU
        data = array_module.full((), value, dtype=like.dtype)
    else:
        data = array_module.asarray(value, dtype=like.dtype)
    return Tensor._wrap(data if shape is None else array_module.broadcast_to(data, shape))


# ---- activations ----------------------------------------------------------------------------
def _activation(fn, name, input, inplace, *args):
    """``fn(input, *args)``. With ``inplace=True`` the result is written into ``input``
    itself and ``input`` returned, under PyTorch's rules for in-place ops
    (``minigrad.ops.inplace``: the version counter guards the graph, and a leaf that
    requires grad is refused outside ``no_grad()``)."""
    if inplace:
        return ops.inplace.update(input, name + "_", fn, *args)
    return fn(input, *args)


def relu(input, inplace=False):
    return _activation(ops.relu, "relu", input, inplace)


def _leaky_relu(x, negative_slope):
    return ops.where(x > 0, x, x * negative_slope)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x for x > 0, negative_slope·x otherwise (at 0 the slope is negative_slope, as in PyTorch)."""
    return _activation(_leaky_relu, "leaky_relu", input, inplace, negative_slope)


def _elu(x, alpha):
    # the exponential sees min(x, 0): a large x cannot overflow it (inf · 0 would make the gradient NaN)
    return ops.where(x > 0, x, (ops.exp(ops.clip(x, None, 0)) - 1) * alpha)


def elu(input, alpha=1.0, inplace=False):
    """x for x > 0, α(eˣ − 1) otherwise (slope α at 0, as PyTorch)."""
    return _activation(_elu, "elu", input, inplace, alpha)


def _silu(x):
    return x * ops.sigmoid(x)


def silu(input, inplace=False):
    """x·σ(x) (the swish)."""
    return _activation(_silu, "silu", input, inplace)


def _normal_cdf(x):
    """Φ(x) = ½(1 + erf(x/√2)), the standard normal CDF (``ops.erf``, whose VJP is
    g·(2/√π)·exp(−u²), so Φ′ = φ(x) = exp(−x²/2)/√(2π) follows by the chain rule)."""
    return (ops.erf(x * (1 / math.sqrt(2))) + 1) * 0.5


def gelu(input, approximate="none"):
    """x·Φ(x) (Hendrycks & Gimpel, 2016), Φ the standard normal CDF; approximate="tanh":
    ½x(1 + tanh(√(2/π)(x + 0.044715x³))), their cheaper form."""
    if approximate == "none":
        return input * _normal_cdf(input)
    if approximate == "tanh":
        return input * 0.5 * (1 + ops.tanh((input + input ** 3 * 0.044715) * math.sqrt(2 / math.pi)))
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


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


def logsigmoid(input):
    """log σ(x) = −softplus(−x), stable for any x."""
    return -softplus(-input)


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
    return _dropout(x, p, x.shape, inplace, generator, "dropout")


def _dropout(x, p, mask_shape, inplace, generator, name):
    if backend.is_cupy(x.array):  # drawn where x is: no mask copied to the GPU at every step
        keep = mg_random.device_uniform(mask_shape, np.float32, generator) >= p
    else:
        keep = mg_random.get(generator).random(mask_shape) >= p
    mask = (keep / (1 - p)).astype(x.dtype)
    return _activation(ops.mul, name, x, inplace, Tensor._wrap(mask))


def dropout2d(input, p=0.5, training=True, inplace=False, generator=None):
    """Channel dropout: zero whole feature maps of (N, C, H, W) with probability p, scaling
    the rest by 1/(1−p) — neighbouring pixels are correlated, so dropping single ones
    regularises little (Tompson et al., 2015).

    Other ranks follow torch's ``feature_dropout`` rule, which drops along the first two
    dims whatever they are: (N, C, L) drops rows of L (torch's 3-D reading, with its
    warning), and (N, C) drops single elements, as ``dropout`` (a 2-D input, which
    torch accepts with a deprecation warning; PyTorch's ``mnist_rnn`` example does this)."""
    if not 0 <= p < 1:
        raise ValueError(f"dropout2d: p must be in [0, 1), got {p}")
    if input.ndim < 2:
        raise RuntimeError(f"dropout2d: feature dropout requires at least 2 dimensions in the input, "
                           f"got shape {input.shape}")
    if input.ndim not in (3, 4):
        warnings.warn(f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is deprecated "
                      f"(as in torch); channel-wise dropout is meant for (N, C, H, W) inputs. Use dropout "
                      f"for the element-wise behaviour", stacklevel=2)
    elif input.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
                      "dropout behavior is desired - input is interpreted as shape (N, C, L), where C is "
                      "the channel dim (as in torch)", stacklevel=2)
    if not training or p == 0:
        return input
    return _dropout(input, p, input.shape[:2] + (1,) * (input.ndim - 2), inplace, generator, "dropout2d")


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """(x − μ)/√(σ² + eps)·γ + β, with μ and σ² (biased) over the last len(normalized_shape)
    dims of each example (Ba, Kiros & Hinton, 2016). Composed of reductions, so every
    derivative, of any order, comes from theirs."""
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, numbers.Integral) \
        else tuple(normalized_shape)
    if not normalized_shape or input.shape[input.ndim - len(normalized_shape):] != normalized_shape:
        raise ValueError(f"layer_norm: normalized_shape {normalized_shape} must be the last dims of the "
                         f"input's shape {input.shape}")
    dims = tuple(range(input.ndim - len(normalized_shape), input.ndim))
    y = _standardize(input, dims, eps)
    if weight is not None:
        y = y * weight
    return y if bias is None else y + bias


def _standardize(x, dims, eps):
    """(x − μ)/√(σ² + eps), μ and the biased σ² over ``dims``: the core that layer, group and
    instance norm share (they differ only in the dims)."""
    return (x - x.mean(dims, keepdim=True)) / ops.sqrt(x.var(dims, unbiased=False, keepdim=True) + eps)


def _per_channel(y, weight, bias):
    """y·γ + β with γ, β of shape (C,) applied along axis 1 of (N, C, *)."""
    shape = (-1,) + (1,) * (y.ndim - 2)
    if weight is not None:
        y = y * weight.reshape(shape)
    return y if bias is None else y + bias.reshape(shape)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Group norm (Wu & He, 2018): split the C channels of (N, C, *) into ``num_groups``
    groups and standardise each example's group over its channels and positions; then a
    per-channel γ, β. One group is layer norm over (C, *); C groups is instance norm."""
    if input.ndim < 2 or input.shape[1] % num_groups:
        raise RuntimeError(f"group_norm: expected an input (N, C, *) with C divisible by num_groups="
                           f"{num_groups}, got shape {input.shape}")
    grouped = input.reshape(input.shape[0], num_groups, -1)
    return _per_channel(_standardize(grouped, 2, eps).reshape(input.shape), weight, bias)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    """Instance norm (Ulyanov, Vedaldi & Lempitsky, 2016): standardise each channel of each
    example of (N, C, *) over its positions, then a per-channel γ, β. With running statistics
    and ``use_input_stats``, they move toward the batch's average of the per-example mean and
    unbiased variance (PyTorch's rule); without ``use_input_stats`` they are used instead."""
    if input.ndim < 3:
        raise ValueError(f"instance_norm: expected an input (N, C, *) with positions, got shape {input.shape}")
    dims = tuple(range(2, input.ndim))
    if not use_input_stats:
        shape = (-1,) + (1,) * len(dims)
        y = (input - running_mean.reshape(shape)) / ops.sqrt(running_var.reshape(shape) + eps)
        return _per_channel(y, weight, bias)
    if running_mean is not None:  # buffers, updated in place outside the graph
        running_mean.array[...] = (1 - momentum) * running_mean.array + momentum * input.array.mean(dims).mean(0)
        running_var.array[...] = (1 - momentum) * running_var.array + momentum * input.array.var(dims, ddof=1).mean(0)
    return _per_channel(_standardize(input, dims, eps), weight, bias)


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    """Rows of ``weight`` (num_embeddings, dim) picked by the integer ``input`` (any shape)
    → (*input.shape, dim). The gradient adds up into the rows picked (indexing's VJP);
    the row ``padding_idx`` gets none, as in PyTorch. max_norm, scale_grad_by_freq and
    sparse are refused."""
    _refuse("embedding", "max_norm", max_norm, None)
    _refuse("embedding", "scale_grad_by_freq", scale_grad_by_freq, False)
    _refuse("embedding", "sparse", sparse, False)
    indices = input.array if isinstance(input, Tensor) else backend.host_array(input)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got dtype {indices.dtype}")
    rows = weight.shape[0]
    indices = _checked_indices(indices, rows, lambda bad: IndexError(
        f"embedding: index {bad} is out of range for {rows} embeddings"))
    indices = backend.xp(weight.array).asarray(indices)
    out = weight[indices]
    if padding_idx is None:
        return out
    padding_idx = padding_idx % rows
    return ops.where(_constant(indices != padding_idx, out)[..., None], out, weight.detach()[indices])


def _checked_indices(indices, size, error):
    """Integer ``indices`` checked to lie in [0, size) (``ops.base.check_index_range``:
    ``error(bad)`` raised at once on the CPU, at the next read from a GPU). On a GPU they
    are also clipped into range, so the gather they feed never reads outside its array
    in the meantime."""
    check_index_range(indices, size, error, negatives=False)
    return backend.xp(indices).clip(indices, 0, size - 1) if backend.is_cupy(indices) and indices.size else indices


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
        raise RuntimeError(f"pad: pad must be an even-length sequence of ints, got {pad}")
    dims = len(pad) // 2
    if dims > input.ndim:
        raise RuntimeError(f"pad: {len(pad)} padding values pad {dims} dims, but the input of shape "
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
        if n + min(before, 0) + min(after, 0) < 0:
            raise RuntimeError(f"pad: padding ({before}, {after}) of dim {axis} crops more than its {n} "
                             f"elements (input shape {input.shape})")
        where = [slice(None)] * out.ndim
        if mode == "constant":
            if before < 0 or after < 0:  # negative amounts crop
                where[axis] = slice(max(-before, 0), n - max(-after, 0))
                out = out[tuple(where)]
            sides = [_constant(0 if value is None else value, out, out.shape[:axis] + (amount,) + out.shape[axis + 1:])
                     if amount > 0 else None for amount in (before, after)]
            pieces = [piece for piece in (sides[0], out, sides[1]) if piece is not None]
            out = ops.concatenate(pieces, axis) if len(pieces) > 1 else out
        else:
            limit = n if mode == "circular" else n - 1 if mode == "reflect" else None
            if limit is not None and max(before, after) > limit:
                raise RuntimeError(f"pad: mode {mode!r} needs padding at most {limit} for dim {axis} of size "
                                 f"{n}, got ({before}, {after})")
            where[axis] = backend.xp(out.array).asarray(_pad_index(n, before, after, mode))
            out = out[tuple(where)]
    return out


def one_hot(tensor, num_classes=-1):
    """Integer class indices (any shape) → int64 one-hot of shape (..., num_classes);
    ``num_classes=-1`` means max(tensor) + 1."""
    labels = tensor.array if isinstance(tensor, Tensor) else backend.host_array(tensor)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expects integer class indices, got dtype {labels.dtype}")
    if num_classes == -1:
        if not labels.size:
            raise ValueError("one_hot: cannot infer num_classes of an empty tensor; pass num_classes")
        num_classes = max(int(labels.max()) + 1, 0)  # the width is in the data: read (a GPU waits, as in PyTorch)

    def error(bad):
        if bad < 0:
            return ValueError(f"one_hot: class values must be non-negative, got {bad}")
        return ValueError(f"one_hot: class values must be smaller than num_classes={num_classes}, got {bad}")
    labels = _checked_indices(labels, num_classes, error)
    return Tensor._wrap(backend.xp(labels).eye(num_classes, dtype=np.int64)[labels])


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
    or (N, C, d1, …) takes labels (N,), () or (N, d1, …). Returns the labels as an
    int64 array on the labels' device, the mask of those that count (≠ ignore_index;
    None when all do), and C. On a GPU the labels are never read: the mask is always
    made and the range check is queued (``backend.defer_check``)."""
    labels = backend.host_array(target.array if isinstance(target, Tensor) else target)
    if labels.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: target must be integers (class indices), or class probabilities of the "
                        f"input's shape {input.shape}; got dtype {labels.dtype} and shape {tuple(labels.shape)}")
    if input.ndim == 0:
        raise ValueError(f"{op}: input must have a class dimension, got a 0-d tensor")
    expected = () if input.ndim == 1 else (input.shape[0],) + input.shape[2:]
    if tuple(labels.shape) != expected:
        # torch: a wrong batch size is its ValueError, a wrong number of dims its RuntimeError
        error = ValueError if labels.ndim == len(expected) or labels.ndim == 0 else RuntimeError
        raise error(f"{op}: input of shape {input.shape} needs labels of shape {expected}, "
                         f"got {tuple(labels.shape)}")
    classes = input.shape[0 if input.ndim == 1 else 1]
    if backend.is_cupy(labels) or backend.is_cupy(input.array):
        return _class_indices_on_device(labels, input, ignore_index, classes, op)
    host = labels.astype(np.int64, copy=False)
    if not host.size or (0 <= host.min() and host.max() < classes and not host.min() <= ignore_index <= host.max()):
        return host, None, classes  # the common case, checked with two reductions
    keep = host != ignore_index
    bad = host[keep & ((host < 0) | (host >= classes))]
    if bad.size:
        raise _label_error(op, bad[0], classes, ignore_index)
    return host, keep, classes


def _label_error(op, label, classes, ignore_index):
    return IndexError(f"{op}: target {label} is out of bounds: labels must lie in [0, {classes}) "
                      f"(or equal ignore_index={ignore_index})")


def _class_indices_on_device(labels, input, ignore_index, classes, op):
    """The GPU's ``_class_indices``: labels moved to the input's device (a copy only when
    they come from the host), every label masked, out-of-range ones replaced by 0 (so
    indexing stays inside the array) and reported at the next read from the device."""
    if not backend.is_cupy(input.array):
        raise RuntimeError(f"{op}: input of shape {input.shape} is on cpu but the labels are on cuda; "
                           f"move them with .to('cpu') or .to('cuda')")
    array_module = backend.xp(input.array)
    labels = array_module.asarray(labels).astype(np.int64, copy=False)
    keep = labels != ignore_index
    out_of_range = keep & ((labels < 0) | (labels >= classes))

    def error():
        host = backend.to_numpy(labels)
        return _label_error(op, host[backend.to_numpy(out_of_range)][0], classes, ignore_index)
    backend.defer_check(out_of_range.any(), error)
    return array_module.where(out_of_range, 0, labels), keep, classes


def _classes_last(x):
    """(N, C, d1, …) → (N·d1·…, C); (C,) → (1, C); (N, C) unchanged."""
    if x.ndim == 1:
        return x.reshape(1, -1)
    if x.ndim == 2:
        return x
    return x.permute(0, *range(2, x.ndim), 1).reshape(-1, x.shape[1])


def _picked(logp, target, weight, ignore_index, op):
    """The negative log-likelihood of each label, weighted: −w[yᵢ]·logp[i, yᵢ], and the
    weights w[yᵢ] themselves (0 where yᵢ = ignore_index), both of the labels' shape.
    In the common case (no weight, no ignored label) every w is 1 and None is returned
    for them, which spares the graph two ops a step."""
    labels, keep, classes = _class_indices(target, logp, ignore_index, op)
    if weight is not None and tuple(weight.shape) != (classes,):
        raise ValueError(f"{op}: weight must have one entry per class, shape ({classes},), got {weight.shape}")
    array_module = backend.xp(logp.array)
    safe = array_module.asarray((labels if keep is None else array_module.where(keep, labels, 0)).reshape(-1))
    flat = _classes_last(logp)
    loss = -flat[array_module.arange(flat.shape[0]), safe]
    if weight is None and keep is None:
        return _shaped(loss, labels.shape), None
    w = weight[safe] if weight is not None else None
    if keep is not None:
        mask = _constant(keep.reshape(-1), logp)
        w = mask if w is None else w * mask
    return _shaped(loss * w, labels.shape), _shaped(w, labels.shape)


def _shaped(x, shape):
    return x if x.shape == shape else x.reshape(shape)  # no reshape node in the common (N,) case


def _weighted_reduce(loss, w, reduction):
    """PyTorch's reduction of a per-label loss: 'mean' divides by Σ w (the count of the
    labels that count when there is no weight)."""
    if reduction == "mean":
        if w is None:
            return loss.mean()
        total = w.sum()
        if backend.is_cupy(total.array):  # the same, without reading total back from the GPU
            none = _constant(total.array == 0, loss)
            return ops.where(none, _constant(np.nan, loss, ()), loss.sum() / (total + none))
        if not total.item():  # every label ignored: the mean is 0/0 = nan, its gradient 0 (as PyTorch)
            return loss.sum() + _constant(np.nan, loss, ())
        return loss.sum() / total
    return _reduce(loss, reduction)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """Negative log-likelihood of integer labels under log-probabilities ``input``.

    input: (N, C), (C,) or (N, C, d1, …); target: (N,), () or (N, d1, …) integers.
    loss_i = −w[y_i] · input[i, y_i]; labels equal to ignore_index count for nothing.
    reduction 'mean' divides by Σ w[y_i] over the labels that count (PyTorch's weighted mean).
    """
    reduction = _reduction(size_average, reduce, reduction, "nll_loss")
    weight = None if weight is None else _as_tensor(weight, input)
    loss, w = _picked(input, target, weight, ignore_index, "nll_loss")
    return _weighted_reduce(loss, w, reduction)


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
    labels = backend.host_array(target.array if isinstance(target, Tensor) else target)
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
    if not label_smoothing:
        return _weighted_reduce(loss, w, reduction)
    weighted = logp if weight is None else logp * weight.reshape(w_shape)
    smooth = -weighted.sum(class_dim)
    if w is not None:  # ignored labels smooth nothing either
        smooth = smooth * _constant(labels != ignore_index, input)
    return (_weighted_reduce(loss, w, reduction) * (1 - label_smoothing)
            + _weighted_reduce(smooth, w, reduction) * (label_smoothing / classes))


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


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """0.5·d²/β where |d| < β, else |d| − 0.5·β, for d = input − target (Girshick's Fast
    R-CNN loss; β = 0 is the L1 loss). Quadratic near 0, so its gradient d/β is 0 there."""
    reduction = _reduction(size_average, reduce, reduction, "smooth_l1_loss")
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    target = _as_tensor(target, input)
    _same_shape(input, target, "smooth_l1_loss")
    d = input - target
    if beta == 0:
        return _reduce(ops.abs(d), reduction)
    return _reduce(ops.where(ops.abs(d) < beta, d * d * (0.5 / beta), ops.abs(d) - 0.5 * beta), reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """0.5·d² where |d| < δ, else δ·(|d| − 0.5·δ): δ times ``smooth_l1_loss`` with β = δ.
    With ``weight`` (the input's shape) 'mean' is the plain mean of the weighted losses, as PyTorch."""
    if not delta > 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    loss = smooth_l1_loss(input, target, reduction="none", beta=delta) * delta
    if weight is not None and _as_tensor(weight, loss).shape != loss.shape:
        raise ValueError(f"huber_loss: weight of shape {_as_tensor(weight, loss).shape} must have the input's "
                         f"shape {loss.shape}")
    return _elementwise_loss(loss, weight, _reduction(None, None, reduction, "huber_loss"))


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """Kullback–Leibler divergence of ``target`` from the log-probabilities ``input``,
    elementwise: t·(log t − input), 0 where t = 0 (PyTorch's xlogy); with log_target,
    exp(t)·(t − input). reduction 'batchmean' divides the sum by the batch size (the
    true KL divergence per example); 'mean' divides by every element, as PyTorch does."""
    if reduction == "batchmean":
        loss = kl_div(input, target, size_average, reduce, "sum", log_target)
        return loss / input.shape[0] if input.ndim else loss
    reduction = _reduction(size_average, reduce, reduction, "kl_div")
    target = _as_tensor(target, input)
    _same_shape(input, target, "kl_div")
    if log_target:
        return _reduce(ops.exp(target) * (target - input), reduction)
    positive = target > 0
    t_log_t = ops.where(positive, target * ops.log(ops.where(positive, target, 1.0)), 0.0)
    return _reduce(t_log_t - target * input, reduction)


def euclidean_loss(input, target):
    """Caffe's EuclideanLoss: 1/(2N) Σₙ ‖ŷₙ − yₙ‖², N the batch size (first axis)."""
    target = _as_tensor(target, input)
    _same_shape(input, target, "euclidean_loss")
    return ((input - target) ** 2).sum() / (2 * input.shape[0])


def _binary_cross_entropy(p, y):
    """ℓ = −[y·max(log p, −100) + (1 − y)·max(log(1 − p), −100)], element by element, with
    PyTorch's gradients (``binary_cross_entropy_backward``, ATen/native/Loss.cpp):
    ∂ℓ/∂p = (p − y) / max(p(1 − p), 1e−12), finite at p = 0 and p = 1, where a float32
    sigmoid lands above |x| ≈ 17 and the clamped logs' own derivatives would give NaN;
    ∂ℓ/∂y = log(1 − p) − log p (−logit p, unclamped, as torch)."""
    xp = backend.xp(p.array)
    with np.errstate(divide="ignore"):  # log 0 = −inf is expected here, and clamped
        log_p = xp.maximum(xp.log(p.array), -100)
        log_not_p = xp.maximum(xp.log1p(-p.array), -100)

    def gy(g, out):
        with np.errstate(divide="ignore"):
            return g * (ops.log1p(-p) - ops.log(p))
    return result(-(y.array * log_p + (1 - y.array) * log_not_p), "binary_cross_entropy", (p, y),
                  (lambda g, out: g * (p - y) / ops.clamp(p * (1 - p), min=1e-12), gy), saved=(p, y))


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """−w·[y log p + (1 − y) log(1 − p)] for probabilities p in [0, 1]. Each log is
    clamped at −100, as in PyTorch, so p = 0 or 1 gives a large finite loss, not inf,
    and a finite gradient (see ``_binary_cross_entropy``)."""
    reduction = _reduction(size_average, reduce, reduction, "binary_cross_entropy")
    target = _as_tensor(target, input)
    _same_shape(input, target, "binary_cross_entropy")
    host = backend.to_numpy(input.array)
    if host.size and (host.min() < 0 or host.max() > 1):
        raise ValueError(f"binary_cross_entropy: input must be probabilities in [0, 1], got values from "
                         f"{host.min():.4g} to {host.max():.4g} (apply sigmoid first, or use "
                         f"binary_cross_entropy_with_logits)")
    return _elementwise_loss(_binary_cross_entropy(input, target), weight, reduction)


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
from minigrad.ops.pool import max_unpool2d as _max_unpool2d  # noqa: E402


def _one_image(fn, input, *args, **kwargs):
    """PyTorch's conv and pooling also take one unbatched image (C, H, W): run it as a
    batch of one and drop that axis again (from each result, when there are several)."""
    y = fn(input.reshape((1,) + input.shape), *args, **kwargs)
    return tuple(t.reshape(t.shape[1:]) for t in y) if isinstance(y, tuple) else y.reshape(y.shape[1:])


def _refuse(op, name, value, default):
    if value != default:
        raise NotImplementedError(f"{op}: {name}={value!r} is not supported (only {default!r})")


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (``minigrad.ops.conv2d``) with PyTorch's signature.
    weight: (C_out, C_in / groups, kh, kw). padding: an int, a pair, or "valid" (0) /
    "same" (output size = input size, stride 1: a total of dilation·(k − 1) rows, an odd
    total putting the extra row/column at the bottom/right, as PyTorch does)."""
    if input.ndim == 3:
        return _one_image(conv2d, input, weight, bias, stride, padding, dilation, groups)
    if input.ndim != 4:
        raise RuntimeError(f"conv2d: Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of "
                           f"size: {list(input.shape)}")
    if isinstance(padding, str):
        if padding == "valid":
            padding = 0
        elif padding == "same":
            if pair(stride, "stride", "conv2d") != (1, 1):
                raise ValueError(f"conv2d: padding='same' is not supported for strided convolutions "
                                 f"(stride={stride})")
            totals = [span(k, d) - 1 for k, d in zip(weight.shape[2:], dilation_pair("conv2d", dilation))]
            (top, left) = (total // 2 for total in totals)
            (bottom, right) = (total - before for total, before in zip(totals, (top, left)))
            if (top, left) != (bottom, right):
                input = pad(input, (left, right, top, bottom))
                top = left = 0
            padding = (top, left)
        else:
            raise ValueError(f"conv2d: padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
    return ops.conv2d(input, weight, bias, stride, padding, dilation, groups)


def _ceil_extra(size, kernel, stride, padding, dilation=1):
    """The rows (or columns) of padding to add at the bottom (right) so that floor-mode
    pooling gives ceil mode's output length. PyTorch's rule: round the window count up,
    but drop a last window that would start past the input and its left padding."""
    reach = span(kernel, dilation)
    room = size + 2 * padding - reach
    if room < 0:
        return 0  # the kernel does not fit: the pooling op reports it
    count = -(-room // stride) + 1
    if (count - 1) * stride >= size + padding:
        count -= 1
    return max((count - 1) * stride + reach - (size + 2 * padding), 0)  # < 0: floor's windows already fit


def _pool_geometry(op, input, kernel_size, stride, padding, ceil_mode, dilation=(1, 1)):
    kernel, stride, padding = kernels.pool.window(op, kernel_size, stride, padding)
    if input.ndim != 4:
        raise RuntimeError(f"{op}: expects an (N, C, H, W) or (C, H, W) input, got shape {input.shape}")
    extra = (0, 0)
    if ceil_mode:
        extra = tuple(_ceil_extra(*args) for args in zip(input.shape[2:], kernel, stride, padding, dilation))
    return kernel, stride, padding, extra


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """The largest value of each kh×kw window (``minigrad.ops.max_pool2d``; padding is −∞),
    its taps ``dilation`` apart. ceil_mode: extra windows at the bottom/right cover the
    leftover rows/columns (PyTorch's rule), by padding those with −∞ (an integer input:
    its dtype's smallest value) first. return_indices: also each winner's flat position
    h·W + w in its input plane (an int64 Tensor, for ``max_unpool2d``). Integer inputs
    pool too, without gradient, as in PyTorch."""
    if input.ndim == 3:
        return _one_image(max_pool2d, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)
    dilation = dilation_pair("max_pool2d", dilation)
    kernel, stride, padding, (extra_h, extra_w) = _pool_geometry("max_pool2d", input, kernel_size, stride,
                                                                   padding, ceil_mode, dilation)
    width = input.shape[3]
    if extra_h or extra_w:
        kind = np.dtype(input.array.dtype)
        lowest = np.iinfo(kind).min if kind.kind in "iu" else -math.inf
        input = pad(input, (0, extra_w, 0, extra_h), value=lowest)
    pooled = ops.max_pool2d(input, kernel, stride, padding, dilation, return_indices)
    if not (return_indices and extra_w):
        return pooled
    y, indices = pooled  # positions in the widened plane: back to the input's h·W + w
    wide = width + extra_w
    return y, Tensor._wrap(indices.array // wide * width + indices.array % wide)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Max pooling's partial inverse (``minigrad.ops.max_unpool2d``): (N, C, H, W) values and
    the indices ``max_pool2d(..., return_indices=True)`` gave → (N, C, Ho, Wo), each value
    back at its index, zeros elsewhere. Ho = (H − 1)·stride − 2·padding + kernel (PyTorch's
    default; stride defaults to the kernel); an ``output_size`` (Ho, Wo) or (N, C, Ho, Wo)
    must lie strictly within one stride of it, which chooses among the input sizes that
    pool to H (as in PyTorch)."""
    op = "max_unpool2d"
    if input.ndim == 3:
        y = max_unpool2d(input.reshape((1,) + input.shape), indices.reshape((1,) + indices.shape), kernel_size,
                         stride, padding, output_size)
        return y.reshape(y.shape[1:])
    kernel = pair(kernel_size, "kernel_size", op)
    stride, padding = kernel if stride is None else pair(stride, "stride", op), pair(padding, "padding", op)
    default = tuple((n - 1) * s - 2 * p + k for n, k, s, p in zip(input.shape[-2:], kernel, stride, padding))
    if output_size is None:
        return _max_unpool2d(input, indices, default)
    size = tuple(int(v) for v in output_size)
    size = size[2:] if len(size) == 4 else size
    if len(size) != 2:
        raise ValueError(f"{op}: output_size should hold 2 or 4 sizes, got {len(size)}: {tuple(output_size)}")
    for axis in range(2):
        low, high = default[axis] - stride[axis], default[axis] + stride[axis]
        if not low < size[axis] < high:
            raise ValueError(f"{op}: invalid output_size {tuple(output_size)} (dim {axis} must be between "
                             f"{low} and {high}, exclusive)")
    return _max_unpool2d(input, indices, size)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """The mean of each kh×kw window (``minigrad.ops.avg_pool2d`` divides by kh·kw).

    count_include_pad=False divides by the input cells in the window instead of kh·kw,
    ceil_mode adds windows at the bottom/right over the leftover cells (never counting
    cells past the padding), divisor_override divides by that number: each is the
    kernel's average rescaled by kh·kw / count, count being the kernel's own pooling of
    a mask of the cells PyTorch counts (its avg_pool2d divide_factor).

    An int64 input is pooled as torch pools it: each mean truncated toward zero, int64 out
    (no gradient); other integer dtypes are refused, as torch refuses them.
    """
    if input.dtype.kind != "f":
        if input.dtype != np.int64:
            raise NotImplementedError(f'"avg_pool2d" not implemented for {input.dtype} tensors (torch pools '
                                      f"float and int64 tensors)")
        means = avg_pool2d(input.detach().double(), kernel_size, stride, padding, ceil_mode, count_include_pad,
                           divisor_override).array
        # an exact mean is a multiple of 1/divisor: a nudge of a fraction of that away from zero
        # undoes float rounding (6.9999… for 7) before truncating
        divisor = max(math.prod(pair(kernel_size, "kernel_size", "avg_pool2d")), divisor_override or 1)
        xp = backend.xp(means)
        return Tensor._wrap(xp.trunc(means + xp.sign(means) * (0.25 / divisor)).astype(np.int64))
    if input.ndim == 3:
        return _one_image(avg_pool2d, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                          divisor_override)
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
    array_module = backend.xp(input.array)
    mask = array_module.zeros((1, 1, h + 2 * ph, w + 2 * pw), dtype=input.dtype)
    if count_include_pad:  # every cell of the input and its symmetric padding
        mask[..., :h + 2 * ph - extra_h, :w + 2 * pw - extra_w] = 1
    else:  # the input's own cells only
        mask[..., ph:ph + h - extra_h, pw:pw + w - extra_w] = 1
    count = kernels.pool.avg_forward(mask, kernel, stride, 0) * area
    return y * Tensor._wrap(area / count)


# ---- more activations, composed from the ops (torch.nn.functional's names and defaults) -------
_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def selu(input, inplace=False):
    """scale·elu(x, α) with Klambauer et al.'s (2017) self-normalising constants."""
    return _activation(lambda x: _elu(x, _SELU_ALPHA) * _SELU_SCALE, "selu", input, inplace)


def _celu(x, alpha):
    return ops.where(x > 0, x, (ops.exp(ops.clip(x, None, 0) / alpha) - 1) * alpha)


def celu(input, alpha=1.0, inplace=False):
    """x for x > 0, α(e^(x/α) − 1) otherwise (Barron, 2017)."""
    return _activation(_celu, "celu", input, inplace, alpha)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """x clamped to [min_val, max_val]."""
    return _activation(ops.clamp, "hardtanh", input, inplace, min_val, max_val)


def relu6(input, inplace=False):
    """min(max(x, 0), 6)."""
    return hardtanh(input, 0.0, 6.0, inplace)


def hardsigmoid(input, inplace=False):
    """The piecewise-linear σ of MobileNetV3: clamp(x/6 + ½, 0, 1)."""
    return _activation(lambda x: ops.clamp(x / 6 + 0.5, 0.0, 1.0), "hardsigmoid", input, inplace)


def hardswish(input, inplace=False):
    """x·hardsigmoid(x) (MobileNetV3)."""
    return _activation(lambda x: x * ops.clamp(x + 3, 0.0, 6.0) / 6, "hardswish", input, inplace)


def softsign(input):
    """x / (1 + |x|)."""
    return input / (ops.abs(input) + 1)


def mish(input, inplace=False):
    """x·tanh(softplus(x)) (Misra, 2019)."""
    return _activation(lambda x: x * ops.tanh(softplus(x)), "mish", input, inplace)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(−x)."""
    return softmax(-input, _softmax_dim(input, dim, "softmin"), dtype=dtype)


def glu(input, dim=-1):
    """a·σ(b) for the two halves a, b of ``input`` along ``dim`` (Dauphin et al., 2017)."""
    if input.shape[dim] % 2:
        raise RuntimeError(f"glu: Halving dimension must be even, but dimension {dim} is size {input.shape[dim]}")
    a, b = ops.chunk(input, 2, dim)
    return a * ops.sigmoid(b)


def threshold(input, threshold, value, inplace=False):
    """x where x > threshold, else ``value``."""
    return _activation(lambda x: ops.where(x > threshold, x, value), "threshold", input, inplace)


def softshrink(input, lambd=0.5):
    """x − λ above λ, x + λ below −λ, 0 between."""
    return ops.where(input > lambd, input - lambd, ops.where(input < -lambd, input + lambd, 0.0))


def hardshrink(input, lambd=0.5):
    """x where |x| > λ, else 0."""
    return ops.where(ops.abs(input) > lambd, input, 0.0)


def tanhshrink(input):
    """x − tanh(x)."""
    return input - ops.tanh(input)


def prelu(input, weight):
    """x for x > 0, a·x otherwise, with one learned slope per channel (dim 1) or one for all."""
    slope = weight if input.ndim < 2 or weight.numel() == 1 else weight.reshape((-1,) + (1,) * (input.ndim - 2))
    return ops.where(input > 0, input, input * slope)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Leaky ReLU with slope (lower + upper)/2 in evaluation (the randomised training form
    is not implemented)."""
    if training:
        raise NotImplementedError("rrelu: training=True (random slopes) is not supported; use training=False")
    return leaky_relu(input, (lower + upper) / 2, inplace)


# ---- distances and normalisation -----------------------------------------------------------
def _p_norm(x, p, dim, keepdim):
    return ops.sum(ops.abs(x) ** p, dim, keepdim) ** (1.0 / p)


def normalize(input, p=2.0, dim=1, eps=1e-12):
    """x / max(‖x‖_p, eps) along ``dim``."""
    return input / ops.clamp(_p_norm(input, p, dim, True), eps)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """x1·x2 / (max(‖x1‖, eps)·max(‖x2‖, eps)) along ``dim``."""
    return ops.sum(normalize(x1, 2.0, dim, eps) * normalize(x2, 2.0, dim, eps), dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """‖x1 − x2 + eps‖_p along the last dim."""
    return _p_norm(x1 - x2 + eps, p, -1, keepdim)


# ---- attention --------------------------------------------------------------------------------
def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """softmax(Q Kᵀ · scale + mask) V (Vaswani et al., 2017), as torch's: query (..., L, E),
    key (..., S, E), value (..., S, Ev) → (..., L, Ev). scale defaults to 1/√E; a bool mask
    keeps the True places, a float mask is added; is_causal keeps j ≤ i; enable_gqa lets
    key/value have fewer heads (dim −3) than query, each shared by a group of query heads."""
    if is_causal and attn_mask is not None:
        raise RuntimeError("scaled_dot_product_attention: _scaled_dot_product_attention: Explicit attn_mask "
                           "should not be set when is_causal=True")
    if enable_gqa and key.shape[-3] != query.shape[-3]:
        groups, rest = divmod(query.shape[-3], key.shape[-3])
        if rest:
            raise RuntimeError(f"scaled_dot_product_attention: {query.shape[-3]} query heads are not a multiple "
                               f"of {key.shape[-3]} key/value heads")
        key, value = ops.repeat_interleave(key, groups, -3), ops.repeat_interleave(value, groups, -3)
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = ops.matmul(query, ops.transpose(key, -2, -1)) * scale
    if is_causal:
        length, source = scores.shape[-2:]
        attn_mask = Tensor._wrap(backend.xp(scores.array).tril(backend.xp(scores.array).ones((length, source),
                                                                                             dtype=bool)))
    if attn_mask is not None:
        if attn_mask.dtype.kind == "b":
            scores = ops.where(attn_mask, scores, -math.inf)
        else:
            scores = scores + attn_mask
    weights = ops.softmax(scores, -1)
    if dropout_p > 0:
        weights = dropout(weights, dropout_p, training=True)
    return ops.matmul(weights, value)


# ---- resampling ---------------------------------------------------------------------------
_LINEAR_MODES = {"linear": 1, "bilinear": 2, "trilinear": 3}


def _source_positions(size_in, size_out, mode, align_corners, scale):
    """Where each output position reads the input (torch's coordinate rules): ``scale`` is
    in/out, or 1/scale_factor when the caller gave one."""
    out = np.arange(size_out, dtype=np.float64)
    if mode == "nearest":
        return np.minimum(np.floor(out * scale).astype(np.int64), size_in - 1)
    if mode == "nearest-exact":
        return np.minimum(np.floor((out + 0.5) * scale).astype(np.int64), size_in - 1)
    if align_corners:
        return out * ((size_in - 1) / (size_out - 1) if size_out > 1 else 0.0)
    return np.maximum((out + 0.5) * scale - 0.5, 0.0)


def _on_device(array, like):
    """A host array (indices, weights) as a Tensor on ``like``'s device."""
    return Tensor._wrap(array).to(like.device)


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial dims of (N, C, *spatial) as torch.nn.functional.interpolate:
    modes "nearest", "nearest-exact", "linear"/"bilinear"/"trilinear" (1/2/3 spatial
    dims; ``align_corners`` as torch). Each spatial axis is resampled in turn by
    index_select (and a lerp of two neighbours for the linear modes), so the gradient
    flows back through those ops."""
    spatial = input.ndim - 2
    if spatial < 1:
        raise ValueError(f"interpolate: expected an input (N, C, *spatial), got shape {input.shape}")
    if mode not in ("nearest", "nearest-exact") and mode not in _LINEAR_MODES:
        raise NotImplementedError(f"interpolate: mode {mode!r} is not supported "
                                  f"(nearest, nearest-exact, linear, bilinear, trilinear)")
    if mode in _LINEAR_MODES and _LINEAR_MODES[mode] != spatial:
        raise NotImplementedError(f"interpolate: mode {mode!r} needs {_LINEAR_MODES[mode] + 2}-d input, "
                                  f"got {input.ndim}-d")
    if align_corners is not None and mode not in _LINEAR_MODES:
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported")
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: only one of size or scale_factor should be defined")
    sizes_in = input.shape[2:]
    if size is not None:
        sizes_out = (size,) * spatial if isinstance(size, numbers.Integral) else tuple(size)
        scales = [n_in / n_out for n_in, n_out in zip(sizes_in, sizes_out)]
    else:
        factors = (scale_factor,) * spatial if isinstance(scale_factor, numbers.Number) else tuple(scale_factor)
        sizes_out = tuple(int(math.floor(n * f)) for n, f in zip(sizes_in, factors))
        scales = [n_in / n_out if recompute_scale_factor else 1.0 / f
                  for n_in, n_out, f in zip(sizes_in, sizes_out, factors)]
    if len(sizes_out) != spatial:
        raise ValueError(f"interpolate: size {size} must give {spatial} spatial sizes")
    out = input if input.dtype.kind == "f" or mode not in _LINEAR_MODES else input.float()
    for axis, (n_in, n_out, scale) in enumerate(zip(sizes_in, sizes_out, scales), start=2):
        where = _source_positions(n_in, n_out, mode, bool(align_corners), scale)
        if mode not in _LINEAR_MODES:
            out = ops.index_select(out, axis, _on_device(where, input))
            continue
        low = np.minimum(np.floor(where).astype(np.int64), n_in - 1)
        high = np.minimum(low + 1, n_in - 1)
        weight = _on_device((where - low).astype(out.dtype).reshape((-1,) + (1,) * (out.ndim - axis - 1)), input)
        below = ops.index_select(out, axis, _on_device(low, input))
        out = below + (ops.index_select(out, axis, _on_device(high, input)) - below) * weight
    return out if out.dtype == input.dtype else out.to(dtype=input.dtype)


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """torch's older name for ``interpolate``."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def pixel_shuffle(input, upscale_factor):
    """(N, C·r², H, W) → (N, C, H·r, W·r), as torch (Shi et al., 2016)."""
    r = upscale_factor
    (c, h, w), lead = input.shape[-3:], input.shape[:-3]
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square "
                           f"of upscale_factor, but input.size(-3)={c} is not divisible by {r * r}")
    x = input.reshape(lead + (c // (r * r), r, r, h, w))
    k = len(lead)
    x = ops.permute(x, tuple(range(k)) + (k, k + 3, k + 1, k + 4, k + 2))
    return x.reshape(lead + (c // (r * r), h * r, w * r))


# ---- 1-d and transposed convolution, built on conv2d --------------------------------------------
def _single(value, op, name):
    if isinstance(value, str):
        return value
    values = (value,) if isinstance(value, numbers.Integral) else tuple(value)
    if len(values) != 1:
        raise RuntimeError(f"{op}: expected {name} to be a single integer value or a list of 1 values to match "
                           f"the convolution dimensions, but got {name}={list(values)}")
    return values[0]


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution: input (N, C_in, L) or (C_in, L), weight (C_out, C_in / groups, k),
    run as conv2d on images of height 1."""
    if input.ndim not in (2, 3):
        raise RuntimeError(f"conv1d: Expected 2D (unbatched) or 3D (batched) input to conv1d, but got input of "
                           f"size: {list(input.shape)}")
    padding = _single(padding, "conv1d", "padding")
    y = conv2d(ops.unsqueeze(input, -2), ops.unsqueeze(weight, -2), bias, (1, _single(stride, "conv1d", "stride")),
               padding if isinstance(padding, str) else (0, padding), (1, _single(dilation, "conv1d", "dilation")),
               groups)
    return ops.squeeze(y, -2)


def _spread(x, stride, axis):
    """Insert stride − 1 zeros between neighbours along ``axis`` (a transposed conv's input)."""
    if stride == 1 or x.shape[axis] == 0:
        return x
    zeros = _constant(0, x, x.shape[:axis + 1] + (stride - 1,) + x.shape[axis + 1:])
    spread = ops.cat([ops.unsqueeze(x, axis + 1), zeros], axis + 1)               # (.., n, s, ..)
    spread = spread.reshape(x.shape[:axis] + (x.shape[axis] * stride,) + x.shape[axis + 1:])
    return ops.narrow(spread, axis, 0, (x.shape[axis] - 1) * stride + 1)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """The transpose (adjoint) of conv2d, as torch's: input (N, C_in, H, W), weight
    (C_in, C_out / groups, kh, kw) → (N, C_out, (H−1)s − 2p + d(kh−1) + output_padding + 1, …).
    Built as the textbook equivalent (Dumoulin & Visin, 2016, §4): spread the input with
    s − 1 zeros, pad it by d(k − 1) − p (plus output_padding at the bottom/right) and run
    conv2d with the kernel flipped and its in/out channels swapped."""
    if input.ndim == 3:
        return _one_image(conv_transpose2d, input, weight, bias, stride, padding, output_padding, groups, dilation)
    if input.ndim != 4:
        raise RuntimeError(f"conv_transpose2d: Expected 3D (unbatched) or 4D (batched) input, but got input of "
                           f"size: {list(input.shape)}")
    stride, padding = pair(stride, "stride", "conv_transpose2d"), pair(padding, "padding", "conv_transpose2d")
    output_padding = pair(output_padding, "output_padding", "conv_transpose2d")
    dilation = dilation_pair("conv_transpose2d", dilation)
    c_in, c_out_group, kh, kw = weight.shape
    if input.shape[1] != c_in or c_in % groups:
        raise RuntimeError(f"conv_transpose2d: weight of shape {weight.shape} expects {c_in} input channels "
                           f"(a multiple of groups={groups}), got input of shape {input.shape}")
    x = _spread(_spread(input, stride[0], 2), stride[1], 3)
    edges = []
    for k, d, p, extra in zip((kw, kh), dilation[::-1], padding[::-1], output_padding[::-1]):
        before = d * (k - 1) - p
        edges += [before, before + extra]
    x = pad(x, edges)
    # (C_in, C_out/g, kh, kw) → (C_out, C_in/g, kh, kw), spatially flipped
    w = weight.reshape((groups, c_in // groups, c_out_group, kh, kw))
    w = ops.transpose(w, 1, 2).reshape((groups * c_out_group, c_in // groups, kh, kw))
    return conv2d(x, ops.flip(w, (2, 3)), bias, 1, 0, dilation, groups)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """1-D transposed convolution, run as conv_transpose2d on images of height 1."""
    y = conv_transpose2d(ops.unsqueeze(input, -2), ops.unsqueeze(weight, -2), bias,
                         (1, _single(stride, "conv_transpose1d", "stride")),
                         (0, _single(padding, "conv_transpose1d", "padding")),
                         (0, _single(output_padding, "conv_transpose1d", "output_padding")), groups,
                         (1, _single(dilation, "conv_transpose1d", "dilation")))
    return ops.squeeze(y, -2)


# ---- 1-d pooling (on images of height 1) and 3-d pooling (from windows) -------------------------
def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """Average pooling over the last dim of (N, C, L) or (C, L), run as avg_pool2d."""
    stride = kernel_size if stride is None else stride
    y = avg_pool2d(ops.unsqueeze(input, -2), (1, _single(kernel_size, "avg_pool1d", "kernel_size")),
                   (1, _single(stride, "avg_pool1d", "stride")), (0, _single(padding, "avg_pool1d", "padding")),
                   ceil_mode, count_include_pad)
    return ops.squeeze(y, -2)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max pooling over the last dim of (N, C, L) or (C, L), run as max_pool2d (the indices
    of a height-1 image are the positions along L)."""
    stride = kernel_size if stride is None else stride
    y = max_pool2d(ops.unsqueeze(input, -2), (1, _single(kernel_size, "max_pool1d", "kernel_size")),
                   (1, _single(stride, "max_pool1d", "stride")), (0, _single(padding, "max_pool1d", "padding")),
                   (1, _single(dilation, "max_pool1d", "dilation")), ceil_mode, return_indices)
    return tuple(ops.squeeze(t, -2) for t in y) if return_indices else ops.squeeze(y, -2)


def _triple(value, name, op):
    values = (value,) * 3 if isinstance(value, numbers.Integral) else tuple(value)
    if len(values) != 3:
        raise RuntimeError(f"{op}: {name} must be an int or three ints, got {value!r}")
    return values


def _windows3d(input, kernel_size, stride, padding, fill, op):
    """Every pooling window of the last three dims of (N, C, D, H, W) (or (C, D, H, W)) as
    trailing dims: (…, D', H', W', kd, kh, kw), the input padded with ``fill`` first."""
    if input.ndim not in (4, 5):
        raise RuntimeError(f"{op}: expects an (N, C, D, H, W) or (C, D, H, W) input, got shape {input.shape}")
    kernel = _triple(kernel_size, "kernel_size", op)
    stride = kernel if stride is None else _triple(stride, "stride", op)
    padding = _triple(padding, "padding", op)
    if any(2 * p > k for p, k in zip(padding, kernel)):
        raise RuntimeError(f"{op}: pad should be at most half of effective kernel size, got padding={padding} "
                           f"and kernel_size={kernel}")
    x = pad(input, [p for p in padding[::-1] for _ in (0, 1)], value=fill) if any(padding) else input
    for axis, (k, s) in enumerate(zip(kernel, stride), start=x.ndim - 3):
        x = x.unfold(axis, k, s)
    return x


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """The mean of each kd×kh×kw window of (N, C, D, H, W), as torch's avg_pool3d (floor mode).
    count_include_pad=False divides by the input cells in the window."""
    if ceil_mode:
        raise NotImplementedError("avg_pool3d: ceil_mode=True is not supported")
    sums = ops.sum(_windows3d(input, kernel_size, stride, padding, 0.0, "avg_pool3d"), (-3, -2, -1))
    if divisor_override is not None:
        return sums / divisor_override
    if count_include_pad or not any(_triple(padding, "padding", "avg_pool3d")):
        return sums / math.prod(_triple(kernel_size, "kernel_size", "avg_pool3d"))
    cells = _constant(1, input, input.shape[-3:])
    counts = ops.sum(_windows3d(ops.unsqueeze(ops.unsqueeze(cells, 0), 0), kernel_size, stride, padding, 0.0,
                                "avg_pool3d"), (-3, -2, -1))
    return sums / counts.reshape(counts.shape[2:])


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """The largest value of each kd×kh×kw window of (N, C, D, H, W), as torch's max_pool3d
    (floor mode, no dilation; ties share the gradient)."""
    if dilation not in (1, (1, 1, 1)) or ceil_mode or return_indices:
        raise NotImplementedError("max_pool3d: dilation, ceil_mode and return_indices are not supported")
    return ops.amax(_windows3d(input, kernel_size, stride, padding, -math.inf, "max_pool3d"), (-3, -2, -1))


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D convolution: input (N, C_in, D, H, W) or (C_in, D, H, W), weight
    (C_out, C_in / groups, kd, kh, kw). Each depth tap of the kernel is a conv2d over the
    depth slices it meets (folded into the batch); the taps' outputs are summed."""
    if input.ndim == 4:
        return _one_image(conv3d, input, weight, bias, stride, padding, dilation, groups)
    if input.ndim != 5:
        raise RuntimeError(f"conv3d: Expected 4D (unbatched) or 5D (batched) input to conv3d, but got input of "
                           f"size: {list(input.shape)}")
    (sd, sh, sw), (pd, ph, pw) = _triple(stride, "stride", "conv3d"), _triple(padding, "padding", "conv3d")
    (dd, dh, dw) = _triple(dilation, "dilation", "conv3d")
    x = pad(input, (0, 0, 0, 0, pd, pd)) if pd else input
    n, depth, taps = x.shape[0], x.shape[2], weight.shape[2]
    out_depth = (depth - dd * (taps - 1) - 1) // sd + 1
    if out_depth < 1:
        raise RuntimeError(f"conv3d: kernel depth {taps} (dilation {dd}) is larger than the padded input depth "
                           f"{depth}")
    total = None
    for k in range(taps):
        slices = x[:, :, k * dd:k * dd + (out_depth - 1) * sd + 1:sd]                     # (N, C, D', H, W)
        batch = ops.movedim(slices, 2, 1).reshape((n * out_depth,) + slices.shape[1:2] + slices.shape[3:])
        y = conv2d(batch, weight[:, :, k], None, (sh, sw), (ph, pw), (dh, dw), groups)     # (N·D', C_out, H', W')
        total = y if total is None else total + y
    total = ops.movedim(total.reshape((n, out_depth) + total.shape[1:]), 1, 2)
    return total if bias is None else total + bias.reshape((-1, 1, 1, 1))


# ---- im2col as torch names it, and adaptive max pooling -----------------------------------------
def _block_geometry(op, kernel_size, dilation, padding, stride):
    kernel = pair(kernel_size, "kernel_size", op)
    if min(kernel) <= 0:
        raise RuntimeError(f"{op}: kernel size should be greater than zero, but got kernel_height: {kernel[0]} "
                           f"kernel_width: {kernel[1]}")
    stride, padding = kernels.geometry.stride_and_padding(op, stride, padding)
    return kernel, dilation_pair(op, dilation), padding, stride


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """im2col (torch's F.unfold): (N, C, H, W) or (C, H, W) → (N, C·kh·kw, L) or (C·kh·kw, L),
    one column per sliding window, L windows (``minigrad.ops.im2col``); with the gradient."""
    if input.ndim == 3:
        return _one_image(unfold, input, kernel_size, dilation, padding, stride)
    if input.ndim != 4:
        raise NotImplementedError(f"unfold: Input Error: Only 3D or 4D input Tensors are supported (got "
                                  f"{input.ndim}D)")
    kernel, dilation, padding, stride = _block_geometry("unfold", kernel_size, dilation, padding, stride)
    blocks = [kernels.geometry.output_size(n, k, s, p, d)
              for n, k, s, p, d in zip(input.shape[2:], kernel, stride, padding, dilation)]
    if min(blocks) < 1:
        raise RuntimeError(f"unfold: Given input with spatial size {tuple(input.shape[2:])}, kernel_size={kernel}, "
                           f"dilation={dilation}, padding={padding}, calculated shape of the array of sliding "
                           f"blocks as {tuple(blocks)}, but its components must be at least one.")
    return _im2col(input, kernel, dilation, padding, stride)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """col2im (torch's F.fold), the adjoint of ``unfold``: (N, C·kh·kw, L) or (C·kh·kw, L) →
    (N, C, H, W) or (C, H, W) for (H, W) = ``output_size``, overlapping windows summed."""
    if input.ndim == 2:
        return _one_image(fold, input, output_size, kernel_size, dilation, padding, stride)
    if input.ndim != 3:
        raise RuntimeError(f"fold: Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch size and "
                           f"non-zero dimensions for input, but got: {list(input.shape)}")
    size = pair(output_size, "output_size", "fold")
    kernel, dilation, padding, stride = _block_geometry("fold", kernel_size, dilation, padding, stride)
    if input.shape[1] % (kernel[0] * kernel[1]):
        raise RuntimeError(f"fold: Expected size of input's dimension 1 to be divisible by the product of "
                           f"kernel_size, but got input.size(1)={input.shape[1]} and kernel_size={kernel}.")
    blocks = [kernels.geometry.output_size(n, k, s, p, d)
              for n, k, s, p, d in zip(size, kernel, stride, padding, dilation)]
    if min(blocks) < 1 or blocks[0] * blocks[1] != input.shape[2]:
        raise RuntimeError(f"fold: Given output_size={size}, kernel_size={kernel}, dilation={dilation}, "
                           f"padding={padding}, stride={stride}, expected size of input's dimension 2 to match the "
                           f"calculated number of sliding blocks {blocks[0]} * {blocks[1]} = {blocks[0] * blocks[1]}, "
                           f"but got input.size(2)={input.shape[2]}.")
    return _col2im(input, size, kernel, dilation, padding, stride)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max pooling to a fixed output size (torch's adaptive_max_pool2d): (N, C, H, W) or (C, H, W)
    → (…, Ho, Wo), window (i, j) spanning rows ⌊i·H/Ho⌋ … ⌈(i+1)·H/Ho⌉ − 1 and the columns alike.
    ``return_indices``: also each maximum's flat position h·W + w in its input plane (int64).
    Every window is gathered at once, padded to the largest window by repeating its last row
    and column (a repeat never changes a maximum or moves the first one); the gradient goes to
    the position returned, as torch's."""
    if input.ndim not in (3, 4):
        raise RuntimeError(f"adaptive_max_pool2d(): Expected 3D or 4D tensor, but got: {list(input.shape)}")
    if input.dtype.kind != "f":
        raise NotImplementedError(f'"adaptive_max_pool2d" not implemented for \'{input.dtype}\'')
    height, width = input.shape[-2:]
    if min(height, width) == 0:
        raise RuntimeError(f"adaptive_max_pool2d(): Expected input to have non-zero size for non-batch dimensions, "
                           f"but input has sizes {list(input.shape)}")
    out_h, out_w = _adaptive_output_size(output_size, (height, width))
    xp = backend.xp(input.array)

    def spans(length, size):  # (size, longest) positions of each window along one axis, on the device
        i = xp.arange(size)
        start, stop = i * length // size, -(-(i + 1) * length // size)
        longest = max(-(-(k + 1) * length // size) - k * length // size for k in range(size))
        return xp.minimum(start[:, None] + xp.arange(longest)[None, :], stop[:, None] - 1)
    rows, columns = spans(height, out_h), spans(width, out_w)                     # (Ho, kh), (Wo, kw)
    kh, kw = rows.shape[1], columns.shape[1]
    windows = input[..., rows[:, :, None, None], columns[None, None, :, :]]      # (…, Ho, kh, Wo, kw)
    lead = input.ndim - 2
    windows = ops.permute(windows, tuple(range(lead)) + (lead, lead + 2, lead + 1, lead + 3))
    values, picked = ops.max(windows.reshape(windows.shape[:-2] + (kh * kw,)), -1)
    if not return_indices:
        return values
    at = picked.array
    row = rows[xp.arange(out_h)[:, None], at // kw]           # the window's row of each maximum
    column = columns[xp.arange(out_w)[None, :], at % kw]
    return values, Tensor._wrap((row * width + column).astype(np.int64))
