"""The default process group: which rank this process is, how many there are, and
waiting on MPI with a deadline.

MPI's blocking calls (``MPI_Recv``, ``MPI_Allreduce``, ...) wait inside the library for
as long as it takes: when another rank has died, that is for ever. So every operation
here is started non-blocking and its request is polled (``MPI_Test``) against a clock;
past the deadline the waiting rank raises ``DistTimeoutError`` naming what it waited
for, and at exit it aborts the job (``MPI_Abort``) instead of finalising, since
``MPI_Finalize`` could wait on the dead rank too.
"""
import datetime
import importlib.util
import math
import numbers
import os
import sys
import time

from minigrad.distributed import startup

DEFAULT_TIMEOUT = 300.0  # seconds; torch's 30 minutes is long for a job on a laptop
SPIN_SECONDS = 0.05      # how long a wait tests without sleeping (see poll)


class DistributedError(RuntimeError):
    """The ranks could not complete an operation together."""


class DistTimeoutError(DistributedError):
    """A rank waited past the deadline: another rank died, stalled or never joined."""


class _Group:
    """A communicator and its deadline: the default group's is our own duplicate of
    ``COMM_WORLD`` (so our messages never match a user's); a sub-group's (``new_group``)
    is split from it. ``ranks``: the members' ranks in the default group, in the
    sub-group's order (torch's collectives name ranks by their default-group number)."""

    def __init__(self, MPI, comm, timeout, ranks=None):
        self.MPI, self.comm, self.timeout = MPI, comm, timeout
        self.rank, self.size = comm.Get_rank(), comm.Get_size()
        self.ranks = list(range(self.size)) if ranks is None else ranks
        self.broken = False  # a wait failed: abort at exit instead of finalising
        self.startup_timeout = timeout
        query = getattr(MPI, "Query_cuda_support", None)
        self.cuda_aware = bool(query and query())  # can MPI read CuPy arrays directly?


_group = None


def seconds(timeout, what="timeout"):
    """``timeout`` (seconds as a number, or a ``datetime.timedelta`` as torch takes it)
    as a positive float; None stays None."""
    if timeout is None:
        return None
    if isinstance(timeout, datetime.timedelta):
        timeout = timeout.total_seconds()
    if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real) or not (
            math.isfinite(timeout) and timeout > 0):
        raise ValueError(f"minigrad.distributed: {what} must be a positive number of seconds "
                         f"(or a datetime.timedelta), got {timeout!r}")
    return float(timeout)


def _from_environment(name):
    """The seconds in environment variable ``name`` (None when unset or empty)."""
    text = os.environ.get(name, "").strip()
    if not text:
        return None
    try:
        return seconds(float(text), name)
    except ValueError:
        raise ValueError(f"minigrad.distributed: {name} must be a positive number of seconds, got {text!r}") from None


def _on_exit():
    if _group is not None and _group.broken:
        _group.comm.Abort(1)  # a rank is gone: MPI_Finalize could wait for it for ever


def init_process_group(backend="mpi", timeout=None, startup_timeout=None, rank=None, world_size=None):
    """Join the job: initialise MPI (if not yet) and make the default group.

    backend: "mpi", the only one (rank and world size come from ``mpiexec``).
    timeout: seconds (or a timedelta) any single wait may take; default 300 s.
    startup_timeout: seconds ``MPI_Init`` (and the handshake, ``minigrad.distributed.agree``)
        may wait for the other ranks to arrive; default ``timeout``. Past it this process
        prints why and is killed, which ends the job.
    rank, world_size: optional; when given they must be what ``mpiexec`` assigned.

    The environment variables ``MINIGRAD_DIST_TIMEOUT`` and ``MINIGRAD_DIST_STARTUP_TIMEOUT``
    (seconds), when set, replace ``timeout`` and ``startup_timeout``: a user (or a test) can
    shorten the deadlines of a program that chose its own, such as ``python -m minigrad``.
    """
    global _group
    if backend != "mpi":
        raise ValueError(f"init_process_group: backend {backend!r} is not available in minigrad; "
                         f"use backend='mpi' and launch with mpiexec")
    if _group is not None:
        raise RuntimeError("init_process_group: the default process group is already initialized "
                           "(call destroy_process_group first)")
    timeout = _from_environment("MINIGRAD_DIST_TIMEOUT") or seconds(timeout) or DEFAULT_TIMEOUT
    startup_timeout = (_from_environment("MINIGRAD_DIST_STARTUP_TIMEOUT")
                       or seconds(startup_timeout, "startup_timeout") or timeout)
    MPI = startup.initialize(startup_timeout, _on_exit)
    world = MPI.COMM_WORLD
    if rank is not None and rank != world.Get_rank() or world_size is not None and world_size != world.Get_size():
        raise ValueError(f"init_process_group: rank={rank}, world_size={world_size} given, but mpiexec "
                         f"started this process as rank {world.Get_rank()} of {world.Get_size()}")
    comm, request = world.Idup()
    _group = _Group(MPI, comm, timeout)
    _group.startup_timeout = startup_timeout  # also the handshake's (minigrad.distributed.handshake)
    wait(request, "joining the process group", startup_timeout)


def is_initialized():
    return _group is not None


def is_available():
    """True when mpi4py is installed (torch.distributed.is_available's meaning); it is
    not imported here, since importing it can start MPI."""
    try:
        return importlib.util.find_spec("mpi4py") is not None
    except ValueError:  # mpi4py in sys.modules without a spec (a stand-in)
        return sys.modules.get("mpi4py") is not None


def group():
    """The default group, or a clear error if ``init_process_group`` was not called."""
    if _group is None:
        raise ValueError("Default process group has not been initialized, please make sure to call "
                         "minigrad.distributed.init_process_group(backend='mpi') (and launch the "
                         "program with mpiexec)")
    return _group


def new_group(ranks=None):
    """A sub-group of the default group's ``ranks`` (all of them when None), for
    ``all_reduce(..., group=g)``, ``broadcast``, ``all_gather`` and ``barrier``. As in
    torch, every rank of the default group calls it, with the same ``ranks``, even those
    not in it (they get a group they cannot use: a collective on it raises); the
    members are ordered by their rank. Its waits have the default group's deadline.

    ``MPI_Comm_split`` has no non-blocking form, so a barrier of the whole default group
    (bounded by its deadline) comes first: once every rank has reached it, the split
    does not wait on a dead one."""
    g = group()
    members = sorted(set(range(g.size) if ranks is None else ranks))
    if not members or any(not (isinstance(r, int) and 0 <= r < g.size) for r in members):
        raise ValueError(f"new_group: ranks must be ranks in [0, {g.size}), at least one, got {ranks!r}")
    wait(g.comm.Ibarrier(), f"new_group({members}): every rank to arrive")
    inside = g.rank in members
    comm = g.comm.Split(0 if inside else g.MPI.UNDEFINED, key=g.rank)
    return _Group(g.MPI, comm, g.timeout, members) if inside else _NonMember(members)


class _NonMember:
    """What ``new_group`` returns to a rank outside the group (torch's
    ``GroupMember.NON_GROUP_MEMBER``): named in errors, usable in no collective."""

    def __init__(self, ranks):
        self.ranks = ranks

    def __repr__(self):
        return f"<a group of ranks {self.ranks} that rank {get_rank()} is not in>"


def member(g, op):
    """``g`` itself (the default group when None), or a clear error when this rank is
    not in it (torch warns and does nothing there: a silent skip of a collective)."""
    if g is None:
        return group()
    if isinstance(g, _NonMember):
        raise ValueError(f"{op}: this rank ({get_rank()}) is not in the group of ranks {g.ranks}")
    if not isinstance(g, _Group):
        raise TypeError(f"{op}: group must be None or what new_group returned, got {type(g).__name__}")
    return g


def get_rank(group=None):
    """This process's rank in ``group`` (the default group when None); -1 when it is
    not a member, as in torch."""
    if isinstance(group, _NonMember):
        return -1
    return member(group, "get_rank").rank


def get_world_size(group=None):
    """The number of ranks in ``group`` (the default group when None); -1 when this rank
    is not a member, as in torch."""
    if isinstance(group, _NonMember):
        return -1
    return member(group, "get_world_size").size


def get_backend():
    group()
    return "mpi"


def thread_multiple():
    """True when MPI granted ``MPI_THREAD_MULTIPLE``: several threads of this process may
    call MPI at once (admm's pipelined schedule sends and receives from two)."""
    g = group()
    return g.MPI.Query_thread() >= g.MPI.THREAD_MULTIPLE


def destroy_process_group():
    """Leave the default group (MPI itself stays initialised until exit, as MPI requires)."""
    global _group
    g = group()
    if not g.broken:
        g.comm.Free()
    _group = None


def abort(code=1):
    """End every rank of the job now (``MPI_Abort``); not in torch, but what a rank that
    finds the job unrecoverable should do."""
    group().comm.Abort(code)


def poll(attempt, what, timeout=None):
    """Call ``attempt()`` until it returns something other than None and return that, or
    raise ``DistTimeoutError`` after ``timeout`` seconds (the group's, by default).

    MPICH moves a non-blocking operation along only inside MPI calls (here, each test),
    and a large all-reduce takes many steps: so for the first ``SPIN_SECONDS`` we test
    again at once, only yielding the core to any other runnable process; after that,
    a wait is long anyway and we test every millisecond."""
    g = group()
    limit = g.timeout if timeout is None else timeout
    started = time.monotonic()
    while True:
        done = attempt()
        if done is not None:
            return done
        waited = time.monotonic() - started
        if waited > limit:
            g.broken = True
            raise DistTimeoutError(f"rank {g.rank}: no progress on {what} within {limit:g} s; "
                                   f"another rank died or stalled")
        if waited < SPIN_SECONDS:
            os.sched_yield()
        else:
            time.sleep(0.001)


def wait(request, what, timeout=None):
    """Complete an MPI request within the deadline (see ``poll``)."""
    poll(lambda: True if request.Test() else None, what, timeout)
