"""Transforms on whole NumPy batches ``(N, C, H, W)``, applied by the DataLoader on the CPU.

A transform is any callable ``t(x, generator=None) -> x``. Random ones draw from the
``numpy.random.Generator`` they are given; the DataLoader passes one derived from its
seed, epoch and batch number, so augmentation is reproducible and a resumed run sees
the same crops and flips. Called alone with no generator, they draw from minigrad's
default generator (``minigrad.random``, reset by ``manual_seed``). Inputs are never
modified in place.
"""
import numbers

import numpy as np

from minigrad import random


def channel_stats(x):
    """Per-channel mean and standard deviation of images ``(N, C, H, W)`` → two float32
    ``(C,)`` arrays (computed in float64), e.g. for ``Normalize(*channel_stats(train.x))``."""
    x = np.asarray(x)
    if x.ndim != 4:
        raise ValueError(f"channel_stats: expected images (N, C, H, W), got shape {x.shape}")
    axes = (0, 2, 3)
    return (x.mean(axis=axes, dtype=np.float64).astype(np.float32),
            x.std(axis=axes, dtype=np.float64).astype(np.float32))


def _check_batch(name, x):
    if x.ndim != 4:
        raise ValueError(f"{name}: expected a batch of images (N, C, H, W), got shape {x.shape}")


def _pair(name, value, minimum):
    """An int or a pair of ints → (h, w), each ≥ minimum."""
    pair = (value, value) if isinstance(value, numbers.Integral) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, numbers.Integral) and v >= minimum for v in pair):
        raise ValueError(f"{name} must be an int ≥ {minimum} or a pair of them, got {value!r}")
    return int(pair[0]), int(pair[1])


class Normalize:
    """``(x − mean[c]) / std[c]`` for every channel c (channels on axis 1).

    mean, std: numbers (all channels) or sequences of length C. Works on
    ``(N, C, H, W)`` and on any ``(N, C, …)``; the result is float32 unless x is float64.
    """

    def __init__(self, mean, std):
        self.mean = np.atleast_1d(np.asarray(mean, dtype=np.float64))
        self.std = np.atleast_1d(np.asarray(std, dtype=np.float64))
        if self.mean.ndim != 1 or self.std.ndim != 1 or len(self.mean) != len(self.std):
            raise ValueError(f"Normalize: mean {mean!r} and std {std!r} must be numbers or "
                             f"1-d sequences of the same length (one per channel)")
        if not np.all(np.isfinite(self.mean)) or not np.all(self.std > 0) \
                or not np.all(np.isfinite(self.std)):
            raise ValueError(f"Normalize: std must be positive and finite and mean finite, "
                             f"got mean {mean!r}, std {std!r}")

    def __call__(self, x, generator=None):
        x = np.asarray(x)
        channels = len(self.mean)
        if x.ndim < 2 or channels not in (1, x.shape[1]):
            raise ValueError(f"Normalize: {channels} channel statistics do not fit a batch of "
                             f"shape {x.shape} (channels on axis 1)")
        dtype = np.float64 if x.dtype == np.float64 else np.float32
        shape = (1, -1) + (1,) * (x.ndim - 2)
        mean = self.mean.astype(dtype).reshape(shape)
        std = self.std.astype(dtype).reshape(shape)
        return (x.astype(dtype, copy=False) - mean) / std

    def __repr__(self):
        return f"Normalize(mean={self.mean.tolist()}, std={self.std.tolist()})"


class RandomCrop:
    """Pad every image by ``padding`` pixels of ``fill`` on each side, then cut a
    ``size`` window at a random place, drawn independently for each image.

    size: int or (h, w); padding: int or (pad_h, pad_w), ≥ 0. With padding p and
    size equal to the image size, each image moves by up to p pixels each way
    (the CIFAR-10 augmentation of He et al., 2016: 32×32, p = 4).
    """

    def __init__(self, size, padding=0, fill=0):
        self.size = _pair("RandomCrop size", size, 1)
        self.padding = _pair("RandomCrop padding", padding, 0)
        self.fill = fill

    def __call__(self, x, generator=None):
        x = np.asarray(x)
        _check_batch("RandomCrop", x)
        (h, w), (ph, pw) = self.size, self.padding
        padded = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=self.fill)
        rows, cols = padded.shape[2] - h + 1, padded.shape[3] - w + 1
        if rows < 1 or cols < 1:
            raise ValueError(f"RandomCrop: window {h}×{w} is larger than the padded image "
                             f"{padded.shape[2]}×{padded.shape[3]}")
        rng = random.get(generator)
        top = rng.integers(0, rows, size=len(x))
        left = rng.integers(0, cols, size=len(x))
        # windows[n, c, i, j] is the h×w window whose top-left corner is (i, j): a view,
        # so picking one corner per image is one fancy-indexing step, no loop.
        windows = np.lib.stride_tricks.sliding_window_view(padded, (h, w), axis=(2, 3))
        return windows[np.arange(len(x)), :, top, left]

    def __repr__(self):
        return f"RandomCrop(size={self.size}, padding={self.padding}, fill={self.fill})"


class RandomHorizontalFlip:
    """Mirror each image left–right with probability ``p``, independently."""

    def __init__(self, p=0.5):
        if not (isinstance(p, numbers.Real) and 0 <= p <= 1):
            raise ValueError(f"RandomHorizontalFlip: p must be a probability in [0, 1], got {p!r}")
        self.p = float(p)

    def __call__(self, x, generator=None):
        x = np.asarray(x)
        _check_batch("RandomHorizontalFlip", x)
        flip = random.get(generator).random(len(x)) < self.p
        out = x.copy()
        out[flip] = x[flip, :, :, ::-1]
        return out

    def __repr__(self):
        return f"RandomHorizontalFlip(p={self.p})"


class Compose:
    """Apply transforms in order, all drawing from the same generator."""

    def __init__(self, transforms):
        self.transforms = list(transforms)
        for t in self.transforms:
            if not callable(t):
                raise TypeError(f"Compose: {t!r} is not callable")

    def __call__(self, x, generator=None):
        rng = random.get(generator)
        for t in self.transforms:
            x = t(x, rng)
        return x

    def __repr__(self):
        return "Compose([" + ", ".join(map(repr, self.transforms)) + "])"
