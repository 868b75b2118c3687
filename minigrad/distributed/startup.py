"""Starting MPI with a deadline.

``MPI_Init`` waits inside the MPI library until every rank of the job has reached it
(MPICH's process manager holds a fence there). A rank that never arrives — it crashed
while importing, was stopped, or was started without MPI, e.g. an MPMD line whose second
program runs the in-process transport — leaves the others spinning in ``MPI_Init`` for
ever, where no Python code runs and no exception can be raised. So we initialise MPI
ourselves: ``mpi4py.rc.initialize = False`` keeps ``import mpi4py.MPI`` from doing it,
and ``MPI.Init_thread`` runs while a watchdog thread waits; if the deadline passes first,
the watchdog prints one line and ends the process with ``os._exit`` (the only way out of
a C call that does not return).
"""
import atexit
import os
import sys
import threading

# The variables the common process managers set in every rank they start: MPICH's
# Hydra (PMI), Open MPI, and PMIx-based launchers (srun, prterun).
_RANK_VARS = ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK")
_SIZE_VARS = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE")

STARTUP_EXIT_CODE = 124  # timeout(1)'s status: the job ran out of time


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


def initialize(timeout, on_exit):
    """Initialise MPI (if it is not yet) within ``timeout`` seconds, else print why and
    exit with status 124. ``on_exit()`` runs at interpreter exit, before ``MPI_Finalize``
    (the process group uses it to abort instead when a wait failed). Returns ``mpi4py.MPI``."""
    MPI = import_mpi()
    if MPI.Is_initialized():
        return MPI
    rank, size = launched_rank_and_size()
    started = threading.Event()

    def watchdog():
        if not started.wait(timeout):
            sys.stderr.write(f"minigrad.distributed: rank {rank} of {size}: MPI start-up did not finish within "
                             f"{timeout:g} s: another rank never joined (it died or stalled before MPI_Init, "
                             f"or was started without MPI, e.g. with another transport); start every rank "
                             f"with the same command under mpiexec\n")
            sys.stderr.flush()
            os._exit(STARTUP_EXIT_CODE)

    threading.Thread(target=watchdog, name="mpi-startup-watchdog", daemon=True).start()
    import mpi4py
    MPI.Init_thread(getattr(MPI, "THREAD_" + mpi4py.rc.thread_level.upper()))  # what mpi4py would ask for
    started.set()

    def finalize():
        on_exit()
        if MPI.Is_initialized() and not MPI.Is_finalized():
            MPI.Finalize()

    atexit.register(finalize)
    return MPI

