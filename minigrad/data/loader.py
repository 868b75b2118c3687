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
import warnings

import numpy as np

from minigrad import backend, random
from minigrad.data.collate import default_collate
from minigrad.tensor import Tensor


def _to_tensors(batch, device):
    """Every array or Tensor in the (nested) batch as a Tensor on ``device``."""
    if isinstance(batch, (tuple, list)):
        return type(batch)(_to_tensors(field, device) for field in batch)
    if isinstance(batch, dict):
        return {key: _to_tensors(field, device) for key, field in batch.items()}
    if isinstance(batch, Tensor):
        return batch if batch.device == device else batch.to(device)
    if isinstance(batch, np.ndarray) or backend.is_cupy(batch):
        return Tensor(batch, device=device)  # the batch is already a fresh array: no copy
    return batch


def _sampled_indices(sampler):
    """The indices ``sampler`` yields, as int64 ``(N,)``; anything that is not an integer
    (1.5, "3", a float tensor) is refused, naming it, instead of being truncated to
    another example. Python and NumPy ints and integer 0-d Tensors are integers."""
    indices = []
    for position, index in enumerate(sampler):
        if isinstance(index, Tensor) and index.ndim == 0 and index.dtype.kind in "iu":
            index = index.item()
        if not isinstance(index, numbers.Integral) or isinstance(index, (bool, np.bool_)):
            raise TypeError(f"DataLoader: the sampler yielded {index!r} ({type(index).__name__}) at position "
                            f"{position}; a sampler must yield int indices into the dataset")
        indices.append(int(index))
    return np.array(indices, dtype=np.int64)


class DataLoader:
    """Iterate over ``dataset`` in batches of Tensors.

    dataset: a ``Dataset`` — anything with ``len()`` and ``dataset[i]`` → example i, whose
        examples are stacked by ``collate_fn`` (``default_collate``: PyTorch's). A dataset
        with ``get_batch(indices)`` (``ArrayDataset``, ``TensorDataset``) serves a whole
        batch of arrays in one fancy-indexing step instead. Either way a batch of
        ``(x, y)`` examples comes as a list ``[x, y]`` of Tensors, as in PyTorch.
    batch_size: examples per batch; the last batch is smaller unless ``drop_last``.
    shuffle: a fresh random order every epoch (every ``iter(loader)``).
    seed / generator: where the randomness comes from — an int seed, or a NumPy
        Generator to draw the seed from; with neither, the seed is drawn from minigrad's
        default generator (so ``minigrad.manual_seed`` fixes it). Not both.
    transform: ``transform(x, generator) -> x`` on the NumPy array of the batch's first
        field (the inputs) before it becomes a Tensor (see ``transforms``); it gets a
        generator private to this batch.
    device: "cpu" or "cuda".
    num_workers, pin_memory: PyTorch's arguments, accepted so its scripts run. There are
        no worker processes: batches are made in this process (num_workers > 0 says so
        once, with a warning), and the batches are the same either way.
    collate_fn: ``collate_fn(list of examples) -> batch``, yielded as it returns it.
    sampler: where the example indices come from instead, e.g. a ``DistributedSampler``
        (not with ``shuffle``, as in torch); the loader calls its ``set_epoch(epoch)``
        before each epoch, so a resumed run gets the same order.

    From ``get_batch`` datasets: ``x`` as a Tensor of the dataset's dtype (float32 from
    ``load``) and ``y`` as int64 when the labels are integers (``ArrayDataset``).
    ``len(loader)`` is the number of batches in one epoch.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, seed=None,
                 generator=None, transform=None, device="cpu", *, sampler=None, num_workers=0, collate_fn=None,
                 pin_memory=False):
        if not isinstance(batch_size, numbers.Integral) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive int, got {batch_size!r}")
        if seed is not None and generator is not None:
            raise ValueError("DataLoader: give seed or generator, not both")
        if seed is not None and not (isinstance(seed, numbers.Integral) and seed >= 0):
            raise ValueError(f"DataLoader: seed must be a non-negative int, got {seed!r}")
        if transform is not None and not callable(transform):
            raise TypeError(f"DataLoader: transform {transform!r} is not callable")
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"DataLoader: collate_fn {collate_fn!r} is not callable")
        if collate_fn is not None and transform is not None:
            raise ValueError("DataLoader: give transform or collate_fn, not both (apply the transform "
                             "inside your collate_fn)")
        if not isinstance(num_workers, numbers.Integral) or num_workers < 0:
            raise ValueError(f"DataLoader: num_workers must be a non-negative int, got {num_workers!r}")
        if num_workers > 0:
            warnings.warn(f"DataLoader: num_workers={num_workers}: minigrad has no worker processes; "
                          f"batches are loaded in this process (the same batches, not overlapped "
                          f"with training)", UserWarning, stacklevel=2)
        self.num_workers, self.pin_memory, self.collate_fn = int(num_workers), bool(pin_memory), collate_fn
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
            return _sampled_indices(self.sampler)
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
            yield self._batch(order[b * self.batch_size:(b + 1) * self.batch_size], epoch, b)
        self._position = None

    def _batch(self, indices, epoch, b):
        if self.collate_fn is None and hasattr(self.dataset, "get_batch"):
            batch = list(self.dataset.get_batch(indices))  # a list, as PyTorch's default_collate gives
        else:
            examples = [self.dataset[int(i)] for i in indices]
            if self.collate_fn is not None:
                return self.collate_fn(examples)
            batch = default_collate(examples)
        if self.transform is not None:
            inputs = batch[0] if isinstance(batch, (tuple, list)) else batch
            inputs = self.transform(np.asarray(inputs), self._generator(epoch, 1 + b))
            batch = type(batch)([inputs, *batch[1:]]) if isinstance(batch, (tuple, list)) else inputs
        return _to_tensors(batch, self.device)

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
