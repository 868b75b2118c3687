"""``DistributedSampler``: each rank's share of a dataset, as torch.utils.data's.

Every rank draws the same permutation (seeded with ``seed + epoch``, so ``set_epoch``
changes it and all ranks agree without talking), pads it by repeating its first indices
until its length divides by the number of ranks (or, with ``drop_last``, cuts the tail),
and takes every ``num_replicas``-th index starting at its ``rank``. So the shards are
disjoint, the same length on every rank (a collective step needs every rank to take
part), and together they cover the dataset once — plus the few padded repeats.
"""
import math
import numbers

import numpy as np


class DistributedSampler:
    """The indices of rank ``rank``'s share of ``dataset`` (anything with ``len()``).

    num_replicas, rank: default to ``minigrad.distributed``'s world size and rank.
    shuffle: a new order every epoch (call ``set_epoch(e)`` before each epoch, as in torch).
    seed: the same on every rank.  drop_last: cut the tail instead of padding it.
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        if num_replicas is None or rank is None:
            from minigrad import distributed as dist
            num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
            rank = dist.get_rank() if rank is None else rank
        for name, value, least in (("num_replicas", num_replicas, 1), ("rank", rank, 0), ("seed", seed, 0)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < least:
                raise ValueError(f"DistributedSampler: {name} must be an integer >= {least}, got {value!r}")
        if rank >= num_replicas:
            raise ValueError(f"DistributedSampler: invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset, self.num_replicas, self.rank = dataset, int(num_replicas), int(rank)
        self.shuffle, self.seed, self.drop_last = bool(shuffle), int(seed), bool(drop_last)
        self.epoch = 0
        n = len(dataset)
        if self.drop_last and n % self.num_replicas:
            self.num_samples = n // self.num_replicas
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def set_epoch(self, epoch):
        """Use the order of ``epoch`` (the same on every rank) from the next ``iter``."""
        if isinstance(epoch, bool) or not isinstance(epoch, numbers.Integral) or epoch < 0:
            raise ValueError(f"DistributedSampler.set_epoch: epoch must be an integer >= 0, got {epoch!r}")
        self.epoch = int(epoch)

    def indices(self):
        """This rank's indices for the current epoch, int64 ``(num_samples,)``."""
        n = len(self.dataset)
        if self.shuffle:
            order = np.random.default_rng(self.seed + self.epoch).permutation(n)
        else:
            order = np.arange(n)
        if self.total_size > n:  # pad by repeating from the start (as often as needed)
            order = np.resize(order, self.total_size)
        order = order[:self.total_size]
        return order[self.rank:self.total_size:self.num_replicas].astype(np.int64)

    def __iter__(self):
        return iter(self.indices().tolist())

    def __len__(self):
        return self.num_samples
