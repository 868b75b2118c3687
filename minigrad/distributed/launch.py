"""The main job (``python -m minigrad``) on one process or data-parallel over MPI ranks.

``mpiexec -n N python -m mpi4py -m minigrad`` runs the same job on N ranks: every rank
trains on its shard of each global batch (``DistributedSampler``, global batch = the
``--batch-size`` given, split evenly), gradients are averaged by
``DistributedDataParallel``'s hooks, and rank 0 alone claims and writes the run folder.
The checkpoint holds the plain model's weights (no ``module.`` prefix), written after
each epoch, so it resumes under any number of ranks. Plain ``python -m minigrad`` takes
none of these paths: ``Job`` is then one process, rank 0 of 1.

How a multi-rank job starts and ends (the same rule as ``admm``'s dual net):

* rank 0 decides what only it can (the settings, from the command line or the run folder:
  ``from_main``); then every rank prepares its part (loads its data) and all of them meet
  in one handshake (``agree``, minigrad.distributed.handshake) that compares what must be
  the same — command line, data checksum, model structure — under the start-up deadline;
  only then does rank 0 claim the run folder;
* a failure every rank shares (a usage error, a disagreement, a rank whose data is
  missing) is printed once, by rank 0, and every rank exits with its status;
* a failure of one rank alone (a full disk on rank 0, a rank that timed out waiting for a
  dead one) is printed by that rank in one line, and the rank exits at once, without
  ``MPI_Finalize`` (which could wait for ever on the others): ``mpiexec`` then ends the
  whole job within a second or two. Ctrl-C, which ``mpiexec`` forwards to every rank, is
  rank 0's to report: the other ranks ignore it.
"""
import atexit
import contextlib
import io
import os
import shutil
import signal
import sys
import tempfile
import traceback
from pathlib import Path

from minigrad import distributed as dist
from minigrad.checkpoint import decode, encode
from minigrad.data.sampler import DistributedSampler
from minigrad.distributed.startup import launched_rank_and_size

STARTUP_SECONDS = 120.0  # MPI start-up: the ranks import and load data at their own pace


class _Together(SystemExit):
    """An exit every rank takes at the same point, with the same status (rank 0 decided)."""


class Job:
    """This process's place in the main job: ``rank``, ``size``, ``is_main`` (rank 0)."""

    def __init__(self, timeout=None):
        self.rank, self.size = launched_rank_and_size()
        self.parallel = self.size > 1
        if self.parallel:
            dist.init_process_group("mpi", timeout=timeout, startup_timeout=STARTUP_SECONDS)
            self.rank, self.size = dist.get_rank(), dist.get_world_size()
            if self.rank != 0:  # Ctrl-C reaches every rank: rank 0 reports it and ends the job
                signal.signal(signal.SIGINT, signal.SIG_IGN)
        self.is_main = self.rank == 0
        self._private = []  # folders of this rank's own files, removed however it ends

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
            raise _Together(value)
        return value

    def agree(self, prepare, facts):
        """``prepare()`` run on every rank (loading its data, say), then the start-up
        handshake: ``facts(prepared)`` — a dict of what must be the same on every rank,
        keyed by how a user reads it (``"--lr"``, ``"data checksum"``) — compared across the
        ranks. Returns what ``prepare`` returned. If ``prepare`` fails on any rank, or the
        ranks disagree, every rank raises the same error naming the ranks (see ``ending``)."""
        if not self.parallel:
            return prepare()
        from minigrad.runs import EXPECTED, describe
        failure, prepared = None, None
        try:
            prepared = prepare()
            values = facts(prepared)
        except Exception as error:  # noqa: BLE001 - the others must learn of it, not wait
            if not isinstance(error, EXPECTED):
                traceback.print_exc()  # a bug: its traceback, here, on the rank it happened
            failure = (describe(error), 1)
        dist.agree(None if failure else values, failure)
        return prepared

    def batch_problem(self, batch_size):
        """Why ``batch_size`` cannot be shared by the ranks (None when it can)."""
        if self.parallel and batch_size < self.size:
            return f"a global batch of {batch_size} cannot be shared by {self.size} ranks (each needs at least one)"
        return None

    @contextlib.contextmanager
    def ending(self, program):
        """Run the job's body; how it ends when something fails (see the module docstring).
        One process: nothing changes (the caller reports, ``minigrad.runs.reported_errors``)."""
        from minigrad.runs import EXPECTED, RunFolderError, describe
        if not self.parallel:
            yield
            return
        try:
            yield
        except (_Together, dist.MismatchError, dist.PeerFailedError) as error:  # raised on every rank alike
            if self.is_main and not isinstance(error, _Together):
                print(f"{program}: {error}", file=sys.stderr, flush=True)
            code = 2 if isinstance(error, dist.MismatchError) else error.code
            with contextlib.suppress(dist.DistributedError):
                dist.barrier()  # under `python -m mpi4py` a non-zero exit aborts: rank 0's line goes out first
            raise SystemExit(code) from None
        except BaseException as error:  # noqa: BLE001 - this rank alone: end the job
            code = 1
            if isinstance(error, SystemExit):  # it has said why (main's Ctrl-C message)
                code = error.code if isinstance(error.code, int) and error.code else 1
            elif isinstance(error, KeyboardInterrupt):
                code = 130
                print(f"\n{program}: interrupted", file=sys.stderr)
            elif isinstance(error, dist.DistributedError):  # its message names this rank
                print(f"{program}: {describe(error)}", file=sys.stderr)
            elif isinstance(error, (*EXPECTED, RunFolderError)):
                code = 2 if isinstance(error, RunFolderError) else 1
                print(f"{program}: rank {self.rank}: {describe(error)}", file=sys.stderr)
            else:  # a bug: its traceback
                traceback.print_exc()
            self._leave(code)

    def _leave(self, code):
        """End this rank now with ``code``, without MPI_Finalize: a rank that exits with a
        non-zero status makes mpiexec end every other rank of the job."""
        for folder in self._private:
            shutil.rmtree(folder, ignore_errors=True)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)

    def loader_options(self, dataset, batch_size, seed):
        """``DataLoader`` keywords for this rank's share of a shuffled global batch of
        ``batch_size``: each rank takes ``batch_size // size`` examples of its shard (so
        the global batch is ``size`` times that) and augments with a seed of its own."""
        if not self.parallel:
            return dict(batch_size=batch_size, shuffle=True, seed=seed)
        problem = self.batch_problem(batch_size)
        if problem:
            raise ValueError(f"Job.loader_options: {problem}")
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

    def checkpoint(self, path, resume, loader):
        """Where this rank's ``fit`` keeps its checkpoint: ``path`` on rank 0; elsewhere a
        private file that nobody reads (on --resume, first a copy of rank 0's, sent over
        MPI so it also works across machines without a shared disk). ``loader``: this
        rank's training ``DataLoader``.

        The checkpoint holds rank 0's loader state. Another rank's differs from it only in
        the seed of its augmentation (``loader_options``: the run's seed + the rank), so
        that rank's copy gets its own seed back: a resumed run then draws exactly what the
        uninterrupted one would have (and a checkpoint of one process resumes on N ranks
        as if those N had run from the start)."""
        if self.is_main or not self.parallel:
            if self.parallel:
                dist.broadcast_object_list([Path(path).read_bytes() if resume and Path(path).exists() else None], src=0)
            return path
        folder = tempfile.mkdtemp(prefix=f"minigrad-rank{self.rank}-")
        self._private.append(folder)
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        private = Path(folder) / "checkpoint.npz"
        received = [None]
        dist.broadcast_object_list(received, src=0)
        if received[0] is not None:
            state = decode(io.BytesIO(received[0]), path)
            if isinstance(state.get("loader"), dict):
                state["loader"]["seed"] = loader.seed
            private.write_bytes(encode(state))
        return str(private)
