"""Normalisation over groups of channels: ``GroupNorm`` and ``InstanceNorm2d``, as PyTorch's.

Both standardise within one example (``F.group_norm``, ``F.instance_norm``), so unlike
batch norm they give the same result whatever the batch size, one image at a time included.
``GroupNorm`` has a per-channel γ (ones) and β (zeros) when ``affine`` (β unless ``bias=False``);
``InstanceNorm2d`` has, as in PyTorch, no γ, β (``affine=False``) and no running statistics
(``track_running_stats=False``) by default.
"""
from minigrad import functional as F
from minigrad.nn.batchnorm import AffineNorm, _BatchNorm
from minigrad.nn.module import factory_dtype


class GroupNorm(AffineNorm):
    """(N, C, *) → the same shape, each example's ``num_groups`` groups of C/num_groups
    channels standardised on their own (Wu & He, 2018)."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None, dtype=None, bias=True):
        super().__init__()
        dtype = factory_dtype(dtype)
        if num_groups <= 0 or num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels must be divisible by num_groups (got {num_channels} "
                             f"and {num_groups})")
        self.num_groups, self.num_channels, self.eps, self.affine = num_groups, num_channels, eps, affine
        self._affine(num_channels, affine, bias, dtype, device)

    def forward(self, x):
        if x.ndim < 2 or x.shape[1] != self.num_channels:
            raise ValueError(f"GroupNorm: expects (N, {self.num_channels}, *), got input of shape {x.shape}")
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class InstanceNorm2d(_BatchNorm):
    """(N, C, H, W) or (C, H, W): each channel of each image standardised over H×W
    (Ulyanov et al., 2016). Arguments, buffers and state_dict names as ``BatchNorm2d``'s,
    with PyTorch's defaults ``affine=False, track_running_stats=False``."""
    ranks = (3, 4)

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False, track_running_stats=False,
                 device=None, dtype=None, bias=True):
        F._refuse("InstanceNorm2d", "bias", bias, True)
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)

    def forward(self, x):
        if x.ndim not in self.ranks or x.shape[-3] != self.num_features:
            raise ValueError(f"InstanceNorm2d: expects (N, {self.num_features}, H, W) or ({self.num_features}, "
                             f"H, W), got input of shape {x.shape}")
        batched = x.ndim == 4
        y = F.instance_norm(x if batched else x.unsqueeze(0), self.running_mean, self.running_var, self.weight,
                            self.bias, self.training or not self.track_running_stats,
                            0.0 if self.momentum is None else self.momentum, self.eps)
        return y if batched else y.squeeze(0)

    def extra_repr(self):  # PyTorch 2's, with bias=
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")
