"""Normalisation layers. Batch norm: ``BatchNorm1d`` ((N, C) or (N, C, L)) and ``BatchNorm2d``
((N, C, H, W)), with PyTorch's arguments, defaults and state_dict names:
``weight``, ``bias`` (γ = 1, β = 0 at the start), buffers ``running_mean`` (0),
``running_var`` (1) and ``num_batches_tracked``.

In training mode the layer normalises with the batch's statistics and moves the
running ones toward them; in eval mode it uses the running ones. With
``track_running_stats=False`` there are no buffers and the batch's statistics are
used in both modes. ``momentum=None`` makes the running statistics a plain
cumulative average (factor 1/num_batches_tracked), as in PyTorch.

``LayerNorm`` normalises each example over its last dims instead, with no running
statistics: the same in training and in eval mode.
"""
import numpy as np

from minigrad import functional as F
from minigrad.nn.module import Module, Parameter, factory_dtype
from minigrad.tensor import Tensor


class _BatchNorm(Module):
    ranks = ()  # the input ranks the layer accepts

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None, bias=True):
        super().__init__()
        dtype = factory_dtype(dtype)
        name = type(self).__name__
        if not isinstance(num_features, int) or num_features <= 0:
            raise ValueError(f"{name}: num_features must be a positive int, got {num_features!r}")
        if not eps > 0:
            raise ValueError(f"{name}: eps must be positive, got {eps}")
        if momentum is not None and not 0 <= momentum <= 1:
            raise ValueError(f"{name}: momentum must be in [0, 1] or None, got {momentum}")
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.weight = Parameter(np.ones(num_features, dtype=dtype)) if affine else None
        # bias=False keeps γ and drops β (torch's keyword; affine=False drops both)
        self.bias = Parameter(np.zeros(num_features, dtype=dtype)) if affine and bias else None
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(num_features, dtype=dtype)))
            self.register_buffer("running_var", Tensor(np.ones(num_features, dtype=dtype)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, dtype=np.int64)))
        else:
            for buffer in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(buffer, None)
        if device is not None:
            self.to(device)

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean.array[...] = 0
            self.running_var.array[...] = 1
            self.num_batches_tracked.array[...] = 0

    def reset_parameters(self):
        """Back to the state at construction: running statistics reset, γ = 1, β = 0."""
        self.reset_running_stats()
        if self.affine:
            self.weight.array[...] = 1
        if self.bias is not None:
            self.bias.array[...] = 0

    def forward(self, x):
        if x.ndim not in self.ranks:
            raise ValueError(f"{type(self).__name__}: expects input with {' or '.join(map(str, self.ranks))} "
                             f"dimensions, got shape {x.shape}")
        if x.shape[1] != self.num_features:
            raise ValueError(f"{type(self).__name__}: expects {self.num_features} channels (axis 1), "
                             f"got input of shape {x.shape}")
        momentum = self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.array[...] += 1
            if momentum is None:  # cumulative moving average
                momentum = 1.0 / int(self.num_batches_tracked.item())
        use_batch_stats = self.training or not self.track_running_stats
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            use_batch_stats, 0.0 if momentum is None else momentum, self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Normalise each of C features over the batch (and the length L): (N, C) or (N, C, L)."""
    ranks = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Normalise each of C channels over the batch and the image: (N, C, H, W)."""
    ranks = (4,)


class AffineNorm(Module):
    """A normalisation layer's learned scale γ (ones) and shift β (zeros), shared by
    LayerNorm and GroupNorm (BatchNorm keeps its own, beside its running statistics)."""

    def _affine(self, shape, affine, bias, dtype, device):
        self.weight = Parameter(np.ones(shape, dtype=dtype)) if affine else None
        self.bias = Parameter(np.zeros(shape, dtype=dtype)) if affine and bias else None
        if device is not None:
            self.to(device)

    def reset_parameters(self):
        """γ = 1, β = 0, as at construction."""
        if self.weight is not None:
            self.weight.array[...] = 1
        if self.bias is not None:
            self.bias.array[...] = 0


class LayerNorm(AffineNorm):
    """Normalise each example over its last dims ``normalized_shape`` (``F.layer_norm``),
    with a learned γ (ones) and β (zeros) of that shape, as PyTorch's."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, device=None, dtype=None):
        super().__init__()
        dtype = factory_dtype(dtype)
        shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else tuple(normalized_shape)
        if not shape or not all(isinstance(n, (int, np.integer)) and n > 0 for n in shape):
            raise ValueError(f"LayerNorm: normalized_shape must be positive ints, got {normalized_shape!r}")
        self.normalized_shape, self.eps, self.elementwise_affine = shape, eps, elementwise_affine
        self._affine(shape, elementwise_affine, bias, dtype, device)

    def forward(self, x):
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")
