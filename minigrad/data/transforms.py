"""Transforms on whole NumPy batches ``(N, C, H, W)``, applied by the DataLoader on the CPU,
and on single Tensor images ``(C, H, W)`` with torchvision's meaning (``ToTensor`` makes
them), for a map-style ``Dataset`` that transforms each example.

A transform is any callable ``t(x, generator=None) -> x``. Random ones draw from the
``numpy.random.Generator`` they are given; the DataLoader passes one derived from its
seed, epoch and batch number, so augmentation is reproducible and a resumed run sees
the same crops and flips. Called alone with no generator, they draw from minigrad's
default generator (``minigrad.random``, reset by ``manual_seed``). Inputs are never
modified in place.
"""
import inspect
import numbers

import numpy as np

from minigrad import backend, random
from minigrad.tensor import Tensor


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
    """``(x − mean[c]) / std[c]`` for every channel c.

    mean, std: numbers (all channels) or sequences of length C. On a NumPy batch
    ``(N, C, …)`` (the DataLoader's ``transform``) the channels are axis 1 and the
    result is float32 unless x is float64. On a Tensor — an image ``(C, H, W)`` from
    ``ToTensor``, or ``(…, C, H, W)`` — the channels are dim −3, as in torchvision, and
    the result is a Tensor of x's dtype.
    """

    def __init__(self, mean, std, inplace=False):  # inplace: torchvision's argument; a new array or Tensor is returned
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
        if isinstance(x, Tensor):
            return self._tensor_image(x)
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

    def _tensor_image(self, x):
        channels = len(self.mean)
        if x.dtype.kind != "f":
            raise TypeError(f"Normalize: expects a floating-point image Tensor, got dtype {x.dtype} "
                            f"(use ToTensor first)")
        if x.ndim < 3 or channels not in (1, x.shape[-3]):
            raise ValueError(f"Normalize: {channels} channel statistics do not fit a Tensor image of "
                             f"shape {x.shape} (channels at dim -3: (..., C, H, W))")
        array_module = backend.xp(x.array)
        mean = Tensor._wrap(array_module.asarray(self.mean.reshape(-1, 1, 1), dtype=x.dtype))
        std = Tensor._wrap(array_module.asarray(self.std.reshape(-1, 1, 1), dtype=x.dtype))
        return (x - mean) / std

    def __repr__(self):
        return f"Normalize(mean={self.mean.tolist()}, std={self.std.tolist()})"


class ToTensor:
    """torchvision's ``ToTensor``: an image ``(H, W, C)`` or ``(H, W)`` (a NumPy array,
    or anything ``np.asarray`` turns into one, such as a PIL image) → a Tensor ``(C, H, W)``.
    uint8 values in [0, 255] become float32 in [0, 1]; any other dtype is only
    transposed, keeping its values and dtype (as torchvision does)."""

    def __call__(self, picture, generator=None):
        array = np.asarray(picture)
        if array.ndim == 2:
            array = array[:, :, None]
        if array.ndim != 3:
            raise ValueError(f"ToTensor: expects an image (H, W, C) or (H, W), got shape {array.shape}")
        array = np.ascontiguousarray(array.transpose(2, 0, 1))
        if array.dtype == np.uint8:
            array = array.astype(np.float32) / np.float32(255)
        return Tensor(array)

    def __repr__(self):
        return "ToTensor()"


def _one_image(transform, x, generator):
    """torchvision's meaning of a random transform on a Tensor image ``(…, H, W)``: one
    draw for the whole tensor. It runs as a batch of one image whose channels are all
    the leading dims, and comes back as a Tensor of the same layout."""
    if x.ndim < 2:
        raise ValueError(f"{type(transform).__name__}: expects a Tensor image (..., H, W), got shape {x.shape}")
    data = backend.to_numpy(x.array)
    out = transform(data.reshape((1, -1) + data.shape[-2:]), generator)
    return Tensor(out.reshape(data.shape[:-2] + out.shape[-2:]), device=x.device)


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
        if isinstance(x, Tensor):
            return _one_image(self, x, generator)
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
        if isinstance(x, Tensor):
            return _one_image(self, x, generator)
        x = np.asarray(x)
        _check_batch("RandomHorizontalFlip", x)
        flip = random.get(generator).random(len(x)) < self.p
        out = x.copy()
        out[flip] = x[flip, :, :, ::-1]
        return out

    def __repr__(self):
        return f"RandomHorizontalFlip(p={self.p})"


class Lambda:
    """torchvision's ``Lambda``: a user's function as a transform, ``Lambda(lambda x: x * 2)``.
    It gets the image (or batch) alone; as a DataLoader ``transform`` the batch's
    generator is accepted and not passed on."""

    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {type(lambd).__name__!r}")
        self.lambd = lambd

    def __call__(self, x, generator=None):
        return self.lambd(x)

    def __repr__(self):
        return "Lambda()"


class Compose:
    """Apply transforms in order. Those that take a ``generator`` (this module's random
    ones) all draw from the same one; the others (e.g. a ``lambda x: …``, or a
    torchvision-style transform) are called with the image alone."""

    def __init__(self, transforms):
        self.transforms = list(transforms)
        for t in self.transforms:
            if not callable(t):
                raise TypeError(f"Compose: {t!r} is not callable")
        self._takes_generator = [_takes_generator(t) for t in self.transforms]

    def __call__(self, x, generator=None):
        rng = random.get(generator) if any(self._takes_generator) else None
        for t, takes in zip(self.transforms, self._takes_generator):
            x = t(x, rng) if takes else t(x)
        return x

    def __repr__(self):
        return "Compose([" + ", ".join(map(repr, self.transforms)) + "])"


def _takes_generator(transform):
    try:
        return "generator" in inspect.signature(transform).parameters
    except (TypeError, ValueError):  # a builtin without a signature: call it with the image alone
        return False
