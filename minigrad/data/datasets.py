"""Datasets as plain arrays, the embedded MNIST / Fashion-MNIST, and ``load(spec)``.

``load`` understands the same strings as the admm command line's ``--data``:

    "mnist"                    the MNIST subset shipped inside minigrad (no download)
    "fashion-mnist"            the Fashion-MNIST subset shipped inside minigrad
    "mnist:DIR"                the full set from the four IDX files in DIR
    "fashion-mnist:DIR"        the same for Fashion-MNIST (e.g. Debian's dataset-fashion-mnist
                               installs them in /usr/share/datasets/fashion-mnist)
    "cifar10:DIR"              CIFAR-10 from DIR, binary or Python layout (see cifar.py)

The shipped subsets and where they come from are described in ``PROVENANCE.md``
beside this file; ``scripts/make_embedded_mnist.py`` rebuilds them.
"""
from pathlib import Path

import numpy as np

from minigrad import backend, random
from minigrad.data.cifar import CLASSES as CIFAR10_CLASSES
from minigrad.data.cifar import read_cifar10
from minigrad.data.idx import read_mnist_folder
from minigrad.data.transforms import channel_stats
from minigrad.tensor import Tensor

_HERE = Path(__file__).resolve().parent
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
MNIST_CLASSES = tuple(str(d) for d in range(10))

# name → (embedded file or None, folder reader, class names)
DATASETS = {
    "mnist": ("mnist.npz", read_mnist_folder, MNIST_CLASSES),
    "fashion-mnist": ("fashion_mnist.npz", read_mnist_folder, FASHION_MNIST_CLASSES),
    "cifar10": (None, read_cifar10, CIFAR10_CLASSES),
}


class Dataset:
    """PyTorch's map-style dataset (``torch.utils.data.Dataset``): subclass it and define
    ``__len__`` and ``__getitem__(i)``, which returns example ``i`` (an int from 0 to
    len − 1), e.g. an ``(image, label)`` pair. The DataLoader asks for the examples of
    a batch one by one and stacks them (``collate``)."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(index)")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__()")


class ArrayDataset(Dataset):
    """Inputs ``x`` and targets ``y`` held as two arrays with the same first axis.

    ``dataset[i]`` gives ``(x[i], y[i])`` for an int, a slice or an index array, so a
    loader takes a whole batch with one fancy-indexing step (``get_batch``). ``classes``
    optionally names the labels (``classes[y[i]]``).
    """

    def __init__(self, x, y, classes=None):
        x, y = np.asarray(x), np.asarray(y)
        if x.ndim == 0 or y.ndim == 0 or len(x) != len(y):
            raise ValueError(f"ArrayDataset: x has shape {x.shape} and y has shape "
                             f"{y.shape}; they need the same length along axis 0")
        self.x, self.y = x, y
        self.classes = None if classes is None else tuple(classes)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, index):
        return self.x[index], self.y[index]

    def get_batch(self, indices):
        """The batch ``(x[indices], y[indices])`` in one step; integer labels as int64."""
        y = self.y[indices]
        return self.x[indices], (y.astype(np.int64, copy=False) if y.dtype.kind in "iu" else y)

    def __repr__(self):
        return (f"ArrayDataset(x: {self.x.dtype} {self.x.shape}, "
                f"y: {self.y.dtype} {self.y.shape})")


class TensorDataset(Dataset):
    """PyTorch's ``TensorDataset(*tensors)``: example i is ``(t[i] for t in tensors)``.
    Tensors (or arrays) with the same first dimension; their dtypes are kept."""

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: needs at least one tensor")
        self.tensors = tuple(t if isinstance(t, Tensor) else Tensor(np.asarray(t), dtype=np.asarray(t).dtype)
                             for t in tensors)
        lengths = [t.shape[0] if t.ndim else None for t in self.tensors]
        if None in lengths or len(set(lengths)) > 1:
            raise ValueError(f"TensorDataset: size mismatch between tensors: shapes "
                             f"{[t.shape for t in self.tensors]} need the same first dimension")

    def __len__(self):
        return self.tensors[0].shape[0]

    def __getitem__(self, index):
        return tuple(Tensor._wrap(backend.xp(t.array).asarray(t.array[index])) for t in self.tensors)

    def get_batch(self, indices):
        """The batch of every tensor at ``indices`` in one step (as arrays)."""
        return tuple(t.array[backend.xp(t.array).asarray(indices)] for t in self.tensors)

    def __repr__(self):
        return "TensorDataset(" + ", ".join(f"{t.dtype} {t.shape}" for t in self.tensors) + ")"


class Subset(Dataset):
    """The examples of ``dataset`` at ``indices``, in that order (PyTorch's ``Subset``)."""

    def __init__(self, dataset, indices):
        self.dataset, self.indices = dataset, np.asarray(indices, dtype=np.int64)
        if self.indices.ndim != 1 or (self.indices.size and not
                                      (-len(dataset) <= self.indices.min() and self.indices.max() < len(dataset))):
            raise IndexError(f"Subset: indices must be a 1-d sequence of positions in a dataset of "
                             f"{len(dataset)} examples")
        if hasattr(dataset, "get_batch"):  # the parent's one-step batches serve the subset too
            self.get_batch = lambda indices: dataset.get_batch(self.indices[np.asarray(indices)])

    def __len__(self):
        return len(self.indices)

    def __getitem__(self, index):
        return self.dataset[int(self.indices[index])]


def random_split(dataset, lengths, generator=None):
    """Split ``dataset`` at random into non-overlapping ``Subset``s of the given lengths
    (counts that add up to len(dataset), or fractions that add up to 1: each gets
    floor(fraction·N), and the remainder goes one by one to the first ones, as PyTorch).
    Draws from ``generator`` (a NumPy Generator), else from minigrad's default one."""
    n = len(dataset)
    lengths = list(lengths)
    if lengths and all(0 <= f <= 1 for f in lengths) and np.isclose(sum(lengths), 1) and sum(lengths) != n:
        counts = [int(np.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if sum(lengths) != n or any(not float(k).is_integer() or k < 0 for k in lengths):
        raise ValueError(f"random_split: lengths {lengths} must be non-negative counts adding up to the "
                         f"dataset's {n} examples, or fractions adding up to 1")
    order = random.get(generator).permutation(n)
    bounds = np.cumsum([0] + [int(k) for k in lengths])
    return [Subset(dataset, order[start:end]) for start, end in zip(bounds[:-1], bounds[1:])]


def stratified_indices(labels, per_class, generator=None):
    """Pick ``per_class`` indices of every label value, at random, in shuffled order.

    labels: integer ``(N,)``; per_class: an int, or a dict ``{label: count}``. Returns
    int64 ``(Σ counts,)`` of distinct indices into ``labels``, classes interleaved
    (so an unshuffled pass still sees every class). Draws from ``generator``, else from
    minigrad's default generator; the same generator state gives the same indices.
    """
    labels = np.asarray(labels)
    rng = random.get(generator)
    values = np.unique(labels)
    counts = per_class if isinstance(per_class, dict) else dict.fromkeys(values.tolist(), per_class)
    picked = []
    for value in values.tolist():
        pool = np.flatnonzero(labels == value)
        want = counts.get(value, 0)
        if not 0 <= want <= len(pool):
            raise ValueError(f"stratified_indices: asked for {want} examples of label "
                             f"{value}, which has {len(pool)}")
        picked.append(rng.choice(pool, size=want, replace=False))
    return rng.permutation(np.concatenate(picked)).astype(np.int64)


def _parse(spec):
    """``"name"`` or ``"name:DIR"`` → (name, DIR or None). Only the first ':' splits,
    so DIR may itself hold colons (``C:\\data``)."""
    name, sep, directory = str(spec).partition(":")
    name = name.strip().lower()
    if name not in DATASETS:
        raise ValueError(f"load: unknown dataset {name!r} in {spec!r}; expected one of "
                         f"'mnist', 'fashion-mnist', 'mnist:DIR', 'fashion-mnist:DIR', "
                         f"'cifar10:DIR'")
    if sep and not directory:
        raise ValueError(f"load: {spec!r} ends with ':' but names no folder")
    if not sep and DATASETS[name][0] is None:
        raise ValueError(f"load: {name} is not shipped with minigrad; give its folder, "
                         f"as in '{name}:DIR' (DIR holding cifar-10-batches-bin or "
                         f"cifar-10-batches-py)")
    return name, (Path(directory).expanduser() if sep else None)


def _read_embedded(filename):
    with np.load(_HERE / filename, allow_pickle=False) as f:
        return f["x_train"], f["y_train"], f["x_test"], f["y_test"]


def load(spec, flatten=False, normalize=False):
    """Load a dataset by name → ``(train, test)``, two ``ArrayDataset``s.

    spec: see the module docstring (``"mnist"``, ``"fashion-mnist[:DIR]"``,
    ``"mnist:DIR"``, ``"cifar10:DIR"``).

    Images come as float32 ``(N, C, H, W)`` scaled to [0, 1] (``uint8 / 255``):
    ``(N, 1, 28, 28)`` for the MNIST family, ``(N, 3, 32, 32)`` for CIFAR-10. Labels
    are int64 ``(N,)``.

    normalize: if True, standardise each channel with the mean and standard deviation
        of the *training* images (``transforms.channel_stats``), applied to both splits
        so no test statistic leaks into training.
    flatten: if True, images become ``(N, C·H·W)`` rows, ready for an MLP
        (applied after ``normalize``).
    """
    name, directory = _parse(spec)
    filename, read_folder, classes = DATASETS[name]
    if directory is None:
        x_train, y_train, x_test, y_test = _read_embedded(filename)
    else:
        x_train, y_train, x_test, y_test = read_folder(directory)
    splits = []
    for x, y in ((x_train, y_train), (x_test, y_test)):
        if x.ndim == 3:  # (N, H, W) greyscale → one channel
            x = x[:, None]
        splits.append([x.astype(np.float32) / np.float32(255), y.astype(np.int64)])
    if normalize:
        mean, std = channel_stats(splits[0][0])
        for split in splits:
            split[0] = (split[0] - mean[:, None, None]) / std[:, None, None]
    if flatten:
        for split in splits:
            split[0] = split[0].reshape(len(split[0]), -1)
    return tuple(ArrayDataset(x, y, classes) for x, y in splits)
