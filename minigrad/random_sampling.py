"""Random sampling as torch names it: the in-place fills ``x.normal_()``, ``x.uniform_()``,
``x.exponential_()``, ``x.bernoulli_()``, and ``bernoulli``, ``normal`` and ``multinomial``.

Every draw comes from minigrad's generator (``minigrad.manual_seed``, or ``generator=``), made
where the tensor is: NumPy's generator on the CPU; on a GPU, CuPy's, seeded from it
(``random.device_uniform``), so nothing is copied or read back and a seed still repeats a run.
Everything is built from two draws, uniform in [0, 1) and standard normal:
exponential by the inverse CDF, Bernoulli by comparing a uniform with p, and multinomial
by inverting the cumulative distribution (with replacement) or by Efraimidis and Spirakis'
weighted keys (without).

As in torch, the samples carry no gradient: where an input requires one, the output is in
the graph with a gradient of zeros (torch's NormalBackward, BernoulliBackward).
"""
import numpy as np

from minigrad import backend, creation, dtypes
from minigrad import random as mg_random
from minigrad.ops import inplace
from minigrad.ops.base import broadcast_shapes, check_devices
from minigrad.tensor import Tensor, result


def _draw(kind, shape, dtype, like, generator):
    """``kind`` ("uniform" in [0, 1) or "normal") draws of ``shape`` in ``dtype``, made on the
    device of the array ``like``."""
    shape, exact = tuple(shape), np.float64 if np.dtype(dtype) == np.float64 else np.float32
    if backend.is_cupy(like):
        draw = mg_random.device_uniform if kind == "uniform" else mg_random.device_normal
        return draw(shape, exact, generator).astype(dtype, copy=False)
    source = mg_random.get(generator)
    made = source.random(shape, dtype=exact) if kind == "uniform" else source.standard_normal(shape, dtype=exact)
    return np.asarray(made).astype(dtype, copy=False)


def _sampled(data, op, inputs):
    """``data`` as the op's output: in the graph with zero gradients where an input needs one."""
    inputs = tuple(t for t in inputs if isinstance(t, Tensor))
    return result(data, op, inputs, tuple((lambda g, y: g * 0) for _ in inputs))


def _fill(x, op, make, check_cast=True):
    """x ← make() in place, through ``ops.inplace`` (version counter, leaf and view rules); the
    new values do not depend on the old, so what flows back through x is zero, as in torch."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    return inplace.update(x, op, lambda old: _sampled(make(), op, (old,)), check_cast=check_cast)


def _floating(x, op, kernel):
    if x.dtype.kind != "f":
        raise NotImplementedError(f'{op}: "{kernel}" not implemented for \'{x.dtype}\' (a floating dtype is needed)')


def normal_(x, mean=0.0, std=1.0, *, generator=None):
    """Fill x with draws from N(mean, std²), in place (Tensor.normal_)."""
    _floating(x, "normal_", "normal_kernel_cpu")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    return _fill(x, "normal_", lambda: _draw("normal", x.shape, x.array.dtype, x.array, generator)
                 * x.array.dtype.type(std) + x.array.dtype.type(mean))


def uniform_(x, *bounds, generator=None, **named):
    """Fill x with draws from U[from, to), in place: ``x.uniform_(a, b)`` or
    ``x.uniform_(**{"from": a, "to": b})`` (Tensor.uniform_; default [0, 1))."""
    _floating(x, "uniform_", "check_uniform_bounds")
    unknown = set(named) - {"from", "to"}
    if unknown or len(bounds) > 2:
        raise TypeError(f"uniform_: takes from and to, got {len(bounds)} positional and {sorted(named)}")
    low, high = (list(bounds) + [0.0, 1.0][len(bounds):])
    low, high = named.get("from", low), named.get("to", high)
    if low > high:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={low} > to={high}")
    return _fill(x, "uniform_", lambda: _draw("uniform", x.shape, x.array.dtype, x.array, generator)
                 * x.array.dtype.type(high - low) + x.array.dtype.type(low))


def exponential_(x, lambd=1.0, *, generator=None):
    """Fill x with draws from Exp(λ) (density λ e^(−λx)), in place: −log(1 − u) / λ for u
    uniform in [0, 1), the inverse of the CDF 1 − e^(−λx)."""
    if x.dtype.kind != "f":
        raise RuntimeError(f"Exponential distribution is a continuous probability distribution. dtype must be "
                           f"a floating point but you specified {x.dtype}")
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    xp = backend.xp(x.array)
    return _fill(x, "exponential_", lambda: -xp.log1p(-_draw("uniform", x.shape, x.array.dtype, x.array, generator))
                 / x.array.dtype.type(lambd))


def _probabilities(p, x, op):
    """p (a number or a tensor broadcastable to x) as an array on x's device, checked in [0, 1]
    (at once on the CPU; on a GPU queued, as ``backend.defer_check`` does)."""
    if isinstance(p, Tensor):
        check_devices(op, x, p)
        broadcast_shapes(op, p.shape, x.shape)
        values = p.array
        backend.defer_check(((values < 0) | (values > 1)).any(),
                            lambda: RuntimeError(f"{op}: Expected p_in >= 0 && p_in <= 1 to be true, but got false "
                                                 f"(p holds a value outside [0, 1])"))
        return values
    if not 0 <= p <= 1:
        raise RuntimeError(f"{op} expects p to be in [0, 1], but got p={p}")
    return p


def bernoulli_(x, p=0.5, *, generator=None):
    """Fill x with 1 (probability p) or 0, in x's dtype, in place (Tensor.bernoulli_); p a
    number or a tensor of probabilities broadcast to x."""
    chance = _probabilities(p, x, "bernoulli_")
    return _fill(x, "bernoulli_", lambda: (_draw("uniform", x.shape, np.float64 if x.array.dtype == np.float64
                                                 else np.float32, x.array, generator) < chance).astype(x.dtype),
                 check_cast=False)


def bernoulli(input, p=None, *, generator=None):
    """A tensor of input's shape and dtype holding 1 with probability input[i] (or ``p``), else 0
    (torch.bernoulli)."""
    if p is None:
        if input.dtype.kind != "f":
            raise RuntimeError(f"bernoulli: expected a floating point tensor of probabilities, got {input.dtype}")
        chance = _probabilities(input, input, "bernoulli")
    else:
        chance = _probabilities(p, input, "bernoulli")
    draws = _draw("uniform", input.shape, np.float64 if input.array.dtype == np.float64 else np.float32, input.array,
                  generator)
    return _sampled((draws < chance).astype(input.dtype), "bernoulli", (input,))


def normal(mean, std=1.0, size=None, *, generator=None, dtype=None, device=None):
    """Draws from N(mean, std²) (torch.normal): ``mean`` and ``std`` tensors (broadcast
    together) or numbers; with two numbers, ``size`` gives the shape (and ``dtype``,
    ``device`` as ``torch.randn``'s)."""
    tensors = [t for t in (mean, std) if isinstance(t, Tensor)]
    if not tensors:
        if size is None:
            raise TypeError("normal: with a number for both mean and std, give size=")
        if std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
        made = creation.randn(*((size,) if isinstance(size, int) else size), generator=generator, dtype=dtype,
                              device=device)
        return made * std + mean
    if size is not None:
        raise TypeError("normal: size= goes with a number for both mean and std")
    if len(tensors) == 2:
        check_devices("normal", mean, std)
    like = tensors[0]
    if any(t.dtype.kind != "f" for t in tensors):
        raise NotImplementedError(f'normal: "normal_kernel_cpu" not implemented for '
                                  f"'{[t.dtype for t in tensors if t.dtype.kind != 'f'][0]}'")
    dtype = dtypes.result_type(*tensors)
    shape = broadcast_shapes("normal", *(t.shape for t in tensors))
    if isinstance(std, Tensor):
        backend.defer_check((std.array < 0).any(), lambda: RuntimeError("normal expects all elements of std >= 0.0"))
    elif std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    numbers = [t.array if isinstance(t, Tensor) else t for t in (mean, std)]
    draws = _draw("normal", shape, np.dtype(dtype), like.array, generator)
    return _sampled((draws * numbers[1] + numbers[0]).astype(dtype, copy=False), "normal", tuple(tensors))


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """Category indices (int64) drawn from the rows of ``input`` (k non-negative weights, or
    (n, k)), ``num_samples`` per row (torch.multinomial): shape (num_samples,) or
    (n, num_samples). With replacement: a uniform u picks the first category whose cumulative
    weight exceeds u (inverse CDF). Without: the categories with the largest keys
    log(u)/w, a weighted sample without replacement (Efraimidis & Spirakis, "Weighted random
    sampling with a reservoir", 2006); a weight of 0 is taken only when nothing else is left."""
    if input.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: prob_dist must be 1 or 2 dim, got shape {input.shape}")
    if input.dtype.kind != "f":
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: {input.dtype}")
    if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)) or num_samples <= 0:
        raise RuntimeError(f"multinomial: cannot sample n_sample <= 0 samples (got {num_samples!r})")
    k = input.shape[-1]
    if not replacement and num_samples > k:
        raise RuntimeError(f"multinomial: cannot sample n_sample > prob_dist.size(-1) samples without "
                           f"replacement ({num_samples} > {k})")
    xp = backend.xp(input.array)
    weights = input.array.reshape(-1, k).astype(np.float64)
    backend.defer_check((~xp.isfinite(weights) | (weights < 0)).any(), lambda: RuntimeError(
        "multinomial: probability tensor contains either `inf`, `nan` or element < 0"))
    totals = weights.sum(axis=1, keepdims=True)
    backend.defer_check((totals <= 0).any(), lambda: RuntimeError(
        "multinomial: invalid multinomial distribution (sum of probabilities <= 0)"))
    rows = weights.shape[0]
    if replacement:
        cumulative = xp.cumsum(weights, axis=1)
        cumulative = cumulative / xp.where(cumulative[:, -1:] > 0, cumulative[:, -1:], 1)  # ends at exactly 1
        u = _draw("uniform", (rows, num_samples), np.float64, weights, generator)
        picks = (u[:, :, None] >= cumulative[:, None, :]).sum(axis=2)  # how many categories u has passed
        picks = xp.minimum(picks, k - 1)
    else:
        u = _draw("uniform", (rows, k), np.float64, weights, generator)
        with np.errstate(divide="ignore", invalid="ignore"):
            keys = xp.where(weights > 0, xp.log1p(-u) / xp.where(weights > 0, weights, 1), -xp.inf)
        picks = xp.argsort(-keys, axis=1, kind="stable")[:, :num_samples]
    picks = picks.astype(np.int64)
    return Tensor._wrap(picks.reshape(num_samples) if input.ndim == 1 else picks)
