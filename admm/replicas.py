"""The hybrid: the split (model parallelism) × data parallelism over R replicas of it.

On 2R MPI ranks, replica k is the pair of ranks (2k, 2k+1): net1 on the even rank, net2
on the odd one, linked as in the two-rank split. Every rank draws the same global batches
(same seed); replica k takes the k-th of R slices of each. After its backward, each half
combines its gradients with the same half of the other replicas — net1 over the even
ranks {0, 2, …}, net2 over the odd ranks {1, 3, …} — and only then updates, so every
replica holds the same weights at every step: those of the two-rank split trained on the
whole global batch (to rounding; tests/test_admm_hybrid.py). This is Krizhevsky's "one
weird trick" layout (model parallelism inside a group of units, data parallelism across
groups) that Yadan et al. measured on four GPUs.
"""
import numpy as np

from minigrad import backend
from minigrad import distributed as dist
from minigrad.tensor import Tensor


class Replicas:
    """This rank's place in the hybrid: ``count`` replicas, this rank's replica ``index``,
    and ``group``, the ranks holding the same half in every replica."""

    def __init__(self, count, rank, group):
        self.count, self.index, self.group = count, rank // 2, group

    def shard(self, total):
        """This replica's slice of a global batch of ``total`` samples (sizes differing by
        at most one)."""
        if total < self.count:
            raise ValueError(f"hybrid: a global batch of {total} samples cannot be shared by {self.count} "
                             f"replicas (each needs at least one)")
        return slice(total * self.index // self.count, total * (self.index + 1) // self.count)

    def combine_gradients(self, optimizer, share):
        """Replace the gradient of each of ``optimizer``'s parameters by Σₖ shareₖ gₖ over
        the replicas, in one all-reduce. gₖ is the gradient of replica k's mean loss over its nₖ samples and
        shareₖ = nₖ/N, so the sum is the gradient of the mean loss over the global batch
        of N: a weighted average, exact also when N does not split evenly."""
        params = [p for group in optimizer.param_groups for p in group["params"]]
        for p in params:
            if p.grad is None:   # a parameter this replica's batch did not reach: its gradient is 0
                p.grad = Tensor._wrap(backend.xp(p.array).zeros_like(p.array))
        grads = [p.grad.array for p in params]
        flat = np.concatenate([backend.to_numpy(g).ravel() for g in grads]) * np.asarray(share, grads[0].dtype)
        dist.all_reduce(flat, group=self.group)
        offset = 0
        for g in grads:
            g[...] = backend.xp(g).asarray(flat[offset:offset + g.size].reshape(g.shape))
            offset += g.size

    def sum(self, values):
        """``values`` (floats, or 0-d arrays: read from a GPU in one transfer) summed over the replicas."""
        array = np.asarray(backend.read_numbers(values), dtype=np.float64)
        dist.all_reduce(array, group=self.group)
        return array.tolist()


def check(config, train_size):
    """Refuse, on every rank before any work, what the hybrid does not support."""
    count = config["replicas"]
    if not (isinstance(count, int) and count >= 1):
        raise ValueError(f"replicas must be an integer >= 1, got {count!r}")
    if count == 1:
        return
    if config["multiplier"] != "none":
        # a per-sample λ lives on the replica that saw the sample, and a shared one would need
        # its own all-reduce: neither is built, and training without would be silently different
        raise ValueError(f"--replicas {count}: the hybrid supports only --multiplier none, got "
                         f"{config['multiplier']!r}")
    last = train_size % config["batch"]
    if config["batch"] < count or 0 < last < count:
        raise ValueError(f"--replicas {count}: every global batch must give each replica at least one sample; "
                         f"--batch {config['batch']} over {train_size} training images leaves a batch of "
                         f"{last or config['batch']}")
