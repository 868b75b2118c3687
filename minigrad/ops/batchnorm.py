"""Batch normalisation (Ioffe & Szegedy 2015) over axis 1 of (N, C) or (N, C, H, W).

Training mode normalises with the batch's own per-channel mean and biased
variance, and is kernel-backed (``kernels.batchnorm``): one forward, and one
backward computing the lecture notes' three sums (see that module), so it is
first-order. Every x of a channel feeds μ and σ², which is why its backward is
not just γ·inv_std·gy.

Evaluation mode uses the running statistics, which are constants: the map is a
per-channel affine function of x, y = (x − μ_run)·inv_std_run·γ + β, composed
here of differentiable Tensor ops (so it needs no backward kernel of its own and
supports create_graph).

Running statistics follow PyTorch: running = (1 − momentum)·running + momentum·batch,
with the batch variance made unbiased (× M/(M − 1), M values per channel) for
running_var, updated in place during the training forward.
"""
import kernels.batchnorm
from minigrad import backend
from minigrad.ops.base import check_devices
from minigrad.tensor import Tensor, result

OP = "batch_norm"


def _check(x, running_mean, running_var, weight, bias, training, momentum, eps):
    tensors = [t for t in (x, running_mean, running_var, weight, bias) if t is not None]
    check_devices(OP, *tensors)
    kernels.batchnorm.check_input(OP, x.array)
    kernels.batchnorm.check_channels(OP, x.array, **{name: None if t is None else t.array for name, t in (
        ("running_mean", running_mean), ("running_var", running_var), ("weight", weight), ("bias", bias))})
    kernels.batchnorm.check_eps(OP, eps)
    if (running_mean is None) != (running_var is None):
        raise ValueError(f"{OP}: give both running_mean and running_var, or neither")
    if not training and running_mean is None:
        raise ValueError(f"{OP}: evaluation mode (training=False) needs running_mean and running_var")
    if training and not (isinstance(momentum, (int, float)) and 0 <= momentum <= 1):
        raise ValueError(f"{OP}: momentum must be in [0, 1], got {momentum}")
    m = x.numel() // x.shape[1]
    if training and m < 2:
        raise ValueError(f"{OP}: training needs more than 1 value per channel to estimate a variance, "
                         f"got input of shape {x.shape}")


def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """y = γ·(x − μ)/√(σ² + eps) + β per channel.

    x: (N, C), (N, C, L) or (N, C, H, W); running_mean, running_var: (C,) Tensors
    (buffers) or None; weight γ, bias β: (C,) or None. ``training=True``: μ, σ² of
    this batch (and the running statistics, if given, move toward them by
    ``momentum``); ``training=False``: μ, σ² are the running statistics.
    """
    _check(x, running_mean, running_var, weight, bias, training, momentum, eps)
    if not training:
        return _evaluate(x, running_mean, running_var, weight, bias, eps)
    mean, var = kernels.batchnorm.statistics(x.array)
    if running_mean is not None:
        _update_running(running_mean, running_var, mean, var, x.numel() // x.shape[1], momentum)
    w = None if weight is None else weight.array
    y = kernels.batchnorm.normalize(x.array, mean, var, w, None if bias is None else bias.array, eps)

    # One backward kernel call gives gx, gγ and gβ; the node asks for them one input at
    # a time with the same g, so the three are computed once per g and shared.
    computed = []

    def gradients(g):
        if not computed or computed[0] is not g:
            computed[:] = [g, kernels.batchnorm.backward(g.array, x.array, mean, var, w, eps)]
        return computed[1]

    parents, vjps = [x], [lambda g, out: Tensor._wrap(gradients(g)[0])]
    if weight is not None:
        parents.append(weight)
        vjps.append(lambda g, out: Tensor._wrap(gradients(g)[1]))
    if bias is not None:
        parents.append(bias)
        vjps.append(lambda g, out: Tensor._wrap(gradients(g)[2]))
    return result(y, OP, tuple(parents), tuple(vjps), first_order=True,
                  saved=tuple(t for t in (x, weight) if t is not None))


def _update_running(running_mean, running_var, mean, var, m, momentum):
    # PyTorch's convention: momentum is the weight of the new batch. running_var tracks
    # the unbiased variance m/(m − 1)·σ², the estimate of the population's.
    # Unlike PyTorch, a batch whose statistics hold a NaN or an infinity leaves the running
    # statistics as they were: its output is NaN anyway (so the loss says so), and the
    # running statistics are state a checkpoint keeps, which one bad batch must not spoil.
    # The choice is made on the device (``where``), with no synchronisation.
    xp = backend.xp(mean)
    finite = xp.isfinite(mean).all() & xp.isfinite(var).all()
    running_mean.array[...] = xp.where(finite, (1 - momentum) * running_mean.array + momentum * mean,
                                      running_mean.array)
    running_var.array[...] = xp.where(finite, (1 - momentum) * running_var.array + momentum * var * (m / (m - 1)),
                                     running_var.array)


def _evaluate(x, running_mean, running_var, weight, bias, eps):
    shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)  # broadcast a (C,) vector over axis 1
    xp = backend.xp(x.array)
    mean = Tensor._wrap(running_mean.array.reshape(shape))
    inv_std = Tensor._wrap((1 / xp.sqrt(running_var.array + eps)).astype(x.dtype, copy=False).reshape(shape))
    y = (x - mean) * inv_std
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y
