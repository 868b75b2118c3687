"""Starting MPI with a deadline.

``MPI_Init`` waits inside the MPI library until every rank of the job has reached it
(MPICH's process manager holds a fence there). A rank that never arrives — it crashed
while importing, was stopped, or was started without MPI, e.g. an MPMD line whose second
program runs the in-process transport — leaves the others spinning in ``MPI_Init`` for
ever, where no Python code runs and no exception can be raised. So we initialise MPI
ourselves (``mpi4py.rc.initialize = False`` keeps ``import mpi4py.MPI`` from doing it)
under a watchdog. The watchdog is a forked process, not a thread: mpi4py's
``Init_thread`` holds the GIL, so a watchdog thread would not run until MPI_Init returned.
If the deadline passes first, the watchdog prints one line and kills this process with
SIGKILL: MPICH's ``mpiexec`` waits for ranks that exit with a status, but ends the whole
job when one is killed by a signal, and SIGKILL needs no handler in the stuck process.
"""
import atexit
import os
import select
import signal
import sys

# The variables the common process managers set in every rank they start: MPICH's
# Hydra (PMI), Open MPI, and PMIx-based launchers (srun, prterun).
_RANK_VARS = ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK")
_SIZE_VARS = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE")


def launched_rank_and_size():
    """``(rank, size)`` as the launcher (``mpiexec``) announced them in the environment,
    before MPI is initialised; ``(0, 1)`` for a process not started by an MPI launcher."""
    rank = next((int(os.environ[v]) for v in _RANK_VARS if v in os.environ), 0)
    size = next((int(os.environ[v]) for v in _SIZE_VARS if v in os.environ), 1)
    return rank, size


def import_mpi():
    """``mpi4py.MPI`` without initialising MPI (unless someone already imported it and so
    initialised it). Raises ``ImportError`` naming the extra that installs it."""
    try:
        import mpi4py
    except ImportError as error:
        raise ImportError("minigrad.distributed needs mpi4py and an MPI library: "
                          "pip install 'minigrad[mpi]' (mpi4py + the mpich wheel)") from error
    if "mpi4py.MPI" not in sys.modules:
        mpi4py.rc.initialize = False   # we call Init_thread ourselves, under the watchdog
        mpi4py.rc.finalize = False     # and Finalize at exit (see initialize)
    from mpi4py import MPI
    return MPI


def _watch(parent, ready, timeout, message):
    """The watchdog process: wait for a byte (or end of file, if the parent died) on
    ``ready``; at the deadline print ``message`` and kill the parent. Only os-level calls,
    since a fork of a threaded process must not touch locks another thread may hold."""
    readable, _, _ = select.select([ready], [], [], timeout)
    if not readable:
        os.write(2, message.encode())
        os.kill(parent, signal.SIGKILL)
    os._exit(0)


def initialize(timeout, on_exit):
    """Initialise MPI (if it is not yet) within ``timeout`` seconds, else print why and
    kill this process (so that ``mpiexec`` ends the job). ``on_exit()`` runs at interpreter
    exit, before ``MPI_Finalize`` (the process group aborts there when a wait failed).
    Returns ``mpi4py.MPI``."""
    MPI = import_mpi()
    if MPI.Is_initialized():
        return MPI
    import mpi4py
    rank, size = launched_rank_and_size()
    message = (f"minigrad.distributed: rank {rank} of {size}: MPI start-up did not finish within {timeout:g} s: "
               f"another rank never joined (it died or stalled before MPI_Init, or was started without MPI, "
               f"e.g. with another transport); start every rank with the same command under mpiexec\n")
    parent = os.getpid()  # taken before the fork: after it, getppid() of an orphan is init's
    ready, done = os.pipe()
    watchdog = os.fork()
    if watchdog == 0:
        os.close(done)
        _watch(parent, ready, timeout, message)
    os.close(ready)
    MPI.Init_thread(getattr(MPI, "THREAD_" + mpi4py.rc.thread_level.upper()))  # what mpi4py would ask for
    os.write(done, b"1")
    os.close(done)
    os.waitpid(watchdog, 0)

    def finalize():
        on_exit()
        if MPI.Is_initialized() and not MPI.Is_finalized():
            MPI.Finalize()

    atexit.register(finalize)
    return MPI
