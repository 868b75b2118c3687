"""DataLoader: batches of a dataset as minigrad Tensors, reproducible and resumable.

Every random choice of the loader is a pure function of ``(seed, epoch, batch)``:
epoch e is shuffled by a generator seeded with ``SeedSequence(seed, spawn_key=(e, 0))``
and batch b of it is augmented with ``SeedSequence(seed, spawn_key=(e, 1 + b))``. So
the whole state of a loader is three integers — ``state_dict()`` — and a run restored
from them, even in the middle of an epoch, draws exactly the batches the uninterrupted
run would have drawn, without replaying the ones before.
"""
import math
import numbers

import numpy as np

from minigrad import backend, random
from minigrad.tensor import tensor


class DataLoader:
    """Iterate over ``dataset`` in batches of ``(x, y)`` Tensors.

    dataset: anything with ``len()`` whose ``dataset[index_array]`` returns the batch
        ``(x, y)`` as arrays, e.g. ``ArrayDataset`` (one fancy-indexing step a batch).
    batch_size: examples per batch; the last batch is smaller unless ``drop_last``.
    shuffle: a fresh random order every epoch (every ``iter(loader)``).
    seed / generator: where the randomness comes from — an int seed, or a NumPy
        Generator to draw the seed from; with neither, the seed is drawn from minigrad's
        default generator (so ``minigrad.manual_seed`` fixes it). Not both.
    transform: ``transform(x, generator) -> x`` on the NumPy batch before it becomes a
        Tensor (see ``transforms``); it gets a generator private to this batch.
    device: "cpu" or "cuda".
    sampler: where the example indices come from instead, e.g. a ``DistributedSampler``
        (not with ``shuffle``, as in torch); the loader calls its ``set_epoch(epoch)``
        before each epoch, so a resumed run gets the same order.

    Yields ``x`` as a Tensor of the dataset's dtype (float32 from ``load``) and ``y`` as
    an int64 Tensor when the labels are integers (they keep their dtype otherwise).
    ``len(loader)`` is the number of batches in one epoch.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, seed=None,
                 generator=None, transform=None, device="cpu", *, sampler=None):
        if not isinstance(batch_size, numbers.Integral) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive int, got {batch_size!r}")
        if seed is not None and generator is not None:
            raise ValueError("DataLoader: give seed or generator, not both")
        if seed is not None and not (isinstance(seed, numbers.Integral) and seed >= 0):
            raise ValueError(f"DataLoader: seed must be a non-negative int, got {seed!r}")
        if transform is not None and not callable(transform):
            raise TypeError(f"DataLoader: transform {transform!r} is not callable")
        backend.check_device(device)
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        self.sampler = sampler
        self.dataset, self.batch_size = dataset, int(batch_size)
        self.shuffle, self.drop_last = bool(shuffle), bool(drop_last)
        self.transform, self.device = transform, device
        if seed is None:
            seed = int(random.get(generator).integers(2**63))
        self.seed = int(seed)
        self._epoch = 0          # the epoch the next fresh iter() runs
        self._position = None    # (epoch, next batch) while an epoch is being iterated
        self._resume = None      # (epoch, next batch) restored by load_state_dict

    def __len__(self):
        n = len(self.dataset if self.sampler is None else self.sampler)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def _generator(self, *key):
        return np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=key))

    def order(self, epoch):
        """The example indices of ``epoch`` in the order they are served, int64 ``(N,)``."""
        if self.sampler is not None:
            if hasattr(self.sampler, "set_epoch"):
                self.sampler.set_epoch(epoch)
            return np.fromiter(iter(self.sampler), dtype=np.int64)
        n = len(self.dataset)
        if self.shuffle:
            return self._generator(epoch, 0).permutation(n)
        return np.arange(n)

    def __iter__(self):
        if self._resume is not None:
            epoch, start = self._resume
            self._resume = None
        else:
            epoch, start = self._epoch, 0
        self._epoch = epoch + 1
        order, batches = self.order(epoch), len(self)
        for b in range(start, batches):
            self._position = (epoch, b + 1)
            x, y = self.dataset[order[b * self.batch_size:(b + 1) * self.batch_size]]
            if self.transform is not None:
                x = self.transform(x, self._generator(epoch, 1 + b))
            y = np.asarray(y)
            if y.dtype.kind in "iu":
                y = y.astype(np.int64, copy=False)
            yield tensor(x, device=self.device), tensor(y, device=self.device)
        self._position = None

    def state_dict(self):
        """Where the loader stands: ``{"seed", "epoch", "batch"}`` (plain ints), meaning
        the next batch served is batch ``batch`` of epoch ``epoch``."""
        if self._resume is not None:
            epoch, batch = self._resume
        elif self._position is not None and self._position[1] < len(self):
            epoch, batch = self._position
        else:  # between epochs, or the last batch of an epoch was already served
            epoch, batch = self._epoch, 0
        return {"seed": self.seed, "epoch": int(epoch), "batch": int(batch)}

    def load_state_dict(self, state):
        """Continue from ``state_dict()``: the next ``iter(loader)`` starts at that batch."""
        missing = {"seed", "epoch", "batch"} - set(state)
        if missing:
            raise KeyError(f"DataLoader.load_state_dict: missing keys {sorted(missing)}")
        epoch, batch = int(state["epoch"]), int(state["batch"])
        if epoch < 0 or not 0 <= batch <= len(self):
            raise ValueError(f"DataLoader.load_state_dict: epoch {epoch}, batch {batch} out "
                             f"of range for a loader of {len(self)} batches")
        self.seed = int(state["seed"])
        self._position = None
        self._epoch, self._resume = epoch, (epoch, batch)
