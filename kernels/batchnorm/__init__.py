"""Batch normalisation over the channel axis (axis 1) of (N, C) or (N, C, H, W) arrays.

    mean, var = statistics(x)                                   # (C,) each, var biased
    y = normalize(x, mean, var, weight, bias, eps)              # y = γ·x̂ + β
    gx, gweight, gbias = backward(gy, x, mean, var, weight, eps)

With M = N·H·W values per channel (M = N for 2-D input), μ = (1/M) Σ x,
σ² = (1/M) Σ (x − μ)² (biased: this is what normalises), inv_std = 1/√(σ² + eps),
x̂ = (x − μ)·inv_std. The backward is the lecture notes' derivation for μ and σ²
computed from the same batch (training mode):

    gβ = Σ gy          gγ = Σ gy·x̂          gx = (1/M)·γ·inv_std·(M·gy − Σ gy − x̂·Σ gy·x̂)

(sums over the M values of each channel). ``weight`` (γ) and ``bias`` (β) may be
None: no affine step (γ = 1, β = 0). ``backward`` returns Σ gy·x̂ and Σ gy even
then: gx needs both sums anyway.
Any layout goes in; the faces see C-contiguous (N, C, L) arrays, L = H·W (1 for 2-D).
"""
from kernels import face

OPS = ("batch_norm statistics", "batch_norm", "batch_norm backward")


def check_input(op, x):
    if not 2 <= x.ndim <= 4:
        raise ValueError(f"{op}: expects (N, C), (N, C, L) or (N, C, H, W) input, got shape {tuple(x.shape)}")
    if x.shape[1] == 0 or x.size == 0:
        raise ValueError(f"{op}: input of shape {tuple(x.shape)} has no values to normalise")
    face.check_float(op, x)


def _as_3d(x):
    """The (N, C, L) C-contiguous view the faces compute on."""
    return face.xp(x).ascontiguousarray(x).reshape(x.shape[0], x.shape[1], -1)


def check_channels(op, x, **vectors):
    """Each named vector is None or a (C,) array of x's dtype."""
    c = x.shape[1]
    for name, v in vectors.items():
        if v is None:
            continue
        if tuple(v.shape) != (c,):
            raise ValueError(f"{op}: {name} must have shape ({c},) for an input with {c} channels "
                             f"(shape {tuple(x.shape)}), got {tuple(v.shape)}")
        face.check_float(op, x, v)


def check_eps(op, eps):
    if not eps > 0:
        raise ValueError(f"{op}: eps must be positive, got {eps}")


def statistics(x):
    """Per-channel mean and biased variance, (C,) each, in x's dtype."""
    check_input(OPS[0], x)
    return face.module("batchnorm", OPS[0], x).statistics(_as_3d(x))


def normalize(x, mean, var, weight=None, bias=None, eps=1e-5):
    """y = γ·(x − mean)/√(var + eps) + β per channel; same shape as x. ``mean``
    and ``var`` are the batch's (training) or the running statistics (evaluation)."""
    check_input(OPS[1], x)
    check_channels(OPS[1], x, mean=mean, var=var, weight=weight, bias=bias)
    check_eps(OPS[1], eps)
    arrays = [a for a in (x, mean, var, weight, bias) if a is not None]
    faces = face.module("batchnorm", OPS[1], *arrays)
    xp = face.xp(x)
    weight = xp.ones_like(mean) if weight is None else weight
    bias = xp.zeros_like(mean) if bias is None else bias
    return faces.normalize(_as_3d(x), mean, var, weight, bias, eps).reshape(x.shape)


def backward(gy, x, mean, var, weight=None, eps=1e-5):
    """(gx, gweight, gbias) for y = normalize(x, mean, var, weight, ·, eps) with
    mean, var = statistics(x): gx like x; gweight = Σ gy·x̂ and gbias = Σ gy, (C,)."""
    check_input(OPS[2], x)
    if tuple(gy.shape) != tuple(x.shape):
        raise ValueError(f"{OPS[2]}: gradient of shape {tuple(gy.shape)} for an input of shape {tuple(x.shape)}")
    face.check_float(OPS[2], gy, x)
    check_channels(OPS[2], x, mean=mean, var=var, weight=weight)
    check_eps(OPS[2], eps)
    arrays = [a for a in (gy, x, mean, var, weight) if a is not None]
    faces = face.module("batchnorm", OPS[2], *arrays)
    weight = face.xp(x).ones_like(mean) if weight is None else weight
    gx, gweight, gbias = faces.backward(_as_3d(gy), _as_3d(x), mean, var, weight, eps)
    return gx.reshape(x.shape), gweight, gbias
