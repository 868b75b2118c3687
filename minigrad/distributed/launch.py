"""The main job (``python -m minigrad``) on one process or data-parallel over MPI ranks.

``mpiexec -n N python -m mpi4py -m minigrad`` runs the same job on N ranks: every rank
trains on its shard of each global batch (``DistributedSampler``, global batch = the
``--batch-size`` given, split evenly), gradients are averaged by
``DistributedDataParallel``'s hooks, and rank 0 alone claims and writes the run folder.
The checkpoint holds the plain model's weights (no ``module.`` prefix), written after
each epoch, so it resumes under any number of ranks. Plain ``python -m minigrad`` takes
none of these paths: ``Job`` is then one process, rank 0 of 1.
"""
import atexit
import shutil
import tempfile
from pathlib import Path

from minigrad import distributed as dist
from minigrad.data.sampler import DistributedSampler
from minigrad.distributed.startup import launched_rank_and_size

STARTUP_SECONDS = 120.0  # MPI start-up: the ranks import and load data at their own pace


class Job:
    """This process's place in the main job: ``rank``, ``size``, ``is_main`` (rank 0)."""

    def __init__(self, timeout=None):
        self.rank, self.size = launched_rank_and_size()
        self.parallel = self.size > 1
        if self.parallel:
            dist.init_process_group("mpi", timeout=timeout, startup_timeout=STARTUP_SECONDS)
            self.rank, self.size = dist.get_rank(), dist.get_world_size()
        self.is_main = self.rank == 0

    def from_main(self, decide):
        """``decide()`` run on rank 0 only (it may claim a folder, read files or exit with
        a usage error), its result given to every rank. If it fails, every rank stops: a
        ``SystemExit`` with the same status (the message printed once, by rank 0), any
        other error raised on rank 0 and an exit with status 1 elsewhere."""
        if not self.parallel:
            return decide()
        outcome = [None]
        failure = None
        if self.is_main:
            try:
                outcome = [("value", decide())]
            except SystemExit as error:
                outcome = [("exit", error.code)]
            except BaseException as error:  # noqa: BLE001 - the others must not wait for a result
                outcome, failure = [("exit", 1)], error
        dist.broadcast_object_list(outcome, src=0)
        if failure is not None:
            raise failure
        kind, value = outcome[0]
        if kind == "exit":
            raise SystemExit(value)
        return value

    def loader_options(self, dataset, batch_size, seed):
        """``DataLoader`` keywords for this rank's share of a shuffled global batch of
        ``batch_size``: each rank takes ``batch_size // size`` examples of its shard (so
        the global batch is ``size`` times that) and augments with a seed of its own."""
        if not self.parallel:
            return dict(batch_size=batch_size, shuffle=True, seed=seed)
        if batch_size < self.size:
            raise SystemExit(f"--batch-size {batch_size} is smaller than the {self.size} ranks")
        sampler = DistributedSampler(dataset, self.size, self.rank, shuffle=True, seed=seed)
        return dict(batch_size=batch_size // self.size, sampler=sampler, seed=seed + self.rank)

    def wrap(self, model):
        """Make backward average ``model``'s gradients over the ranks (rank 0's weights
        are copied to all at the wrap). Train ``model`` itself: the wrapper's hooks on its
        parameters do the averaging, and its checkpoint keys stay those of one process."""
        if self.parallel:
            from minigrad.nn.parallel import DistributedDataParallel
            if any(b is not None for _, b in model.named_buffers()):
                raise ValueError("Job.wrap: the model has buffers, which only a forward through the "
                                 "DistributedDataParallel wrapper keeps equal on every rank")
            self.ddp = DistributedDataParallel(model)
        return model

    def checkpoint(self, path, resume):
        """Where this rank's ``fit`` keeps its checkpoint: ``path`` on rank 0; elsewhere a
        private file that nobody reads (on --resume, first a copy of rank 0's, sent over
        MPI so it also works across machines without a shared disk)."""
        if self.is_main or not self.parallel:
            if self.parallel:
                dist.broadcast_object_list([Path(path).read_bytes() if resume and Path(path).exists() else None], src=0)
            return path
        folder = tempfile.mkdtemp(prefix=f"minigrad-rank{self.rank}-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        private = Path(folder) / "checkpoint.npz"
        received = [None]
        dist.broadcast_object_list(received, src=0)
        if received[0] is not None:
            private.write_bytes(received[0])
        return str(private)
