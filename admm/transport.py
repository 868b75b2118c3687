"""How messages travel between net1 and net2.

A message is a ``kind`` (what it asks for: "train", "eval", "save", "stop"), a dict of
named arrays (activations, gradients, sample indices) and a dict of plain values
(numbers, strings). net1's side drives training: it sends a message and waits for the
reply, and net2's side answers every message it gets (``serve``).

* ``InProc``: both halves in this process; a "send" is a function call and the arrays
  are passed by reference. The default, and the reference for the numbers.
* ``MPILink``: one MPI rank per half (rank 0 = net1, rank 1 = net2), over
  ``minigrad.distributed`` (the project's one MPI layer). The header (kind, values, array
  shapes and dtypes) is pickled; each array then goes as one raw buffer. CuPy arrays go
  directly when the MPI library is CUDA-aware and are staged through host memory
  otherwise. Every wait, MPI start-up included, is bounded by a deadline, so a rank that
  died, stalled or never started makes the other fail with a clear error
  (``TransportError``) instead of hanging for ever.

Launch the MPI version as ``mpiexec -n 2 python -m mpi4py -m admm demo --transport mpi``:
with ``-m mpi4py`` an uncaught exception on one rank aborts all of them.
"""
import contextlib

import numpy as np

from minigrad import backend
from minigrad import distributed as dist

NET1, NET2 = 0, 1            # the rank that holds each half
_HEADER, _ARRAY = 11, 12     # MPI tags: a pickled header, then the raw array buffers


class TransportError(RuntimeError):
    """The other half did not answer in time, or the two halves disagree."""


class ConfigurationError(TransportError):
    """The ranks cannot work together (wrong number, different settings). Every rank
    finds this out by itself, so each can stop cleanly: nobody is left waiting."""


class Message:
    """``kind`` + named ``arrays`` + plain ``values``."""
    __slots__ = ("kind", "arrays", "values")

    def __init__(self, kind, arrays=None, values=None):
        self.kind, self.arrays, self.values = kind, dict(arrays or {}), dict(values or {})

    def __repr__(self):
        shapes = {k: tuple(a.shape) for k, a in self.arrays.items()}
        return f"Message({self.kind!r}, arrays={shapes}, values={self.values})"


class InProc:
    """Both halves in one process: ``call`` hands the message straight to net2's handler."""
    name = "inproc"

    def __init__(self, handler):
        self.handler = handler

    def call(self, message):
        return self.handler(message)

    def close(self):
        self.handler(Message("stop"))


def check_configs(configs):
    """Raise ``TransportError`` naming every setting on which the ranks' ``configs`` (a
    list of dicts, one per rank) differ; the two halves must agree on all of them."""
    keys = sorted(set().union(*configs))
    differ = [f"{k}: " + ", ".join(f"rank {r} has {c.get(k)!r}" for r, c in enumerate(configs))
              for k in keys if any(c.get(k) != configs[0].get(k) for c in configs)]
    if differ:
        raise ConfigurationError("the MPI ranks were started with different settings; "
                             "start them with the same command. " + "; ".join(differ))


class MPILink:
    """One endpoint of the two-rank link (see the module docstring).

    deadline: seconds any single wait may take before ``TransportError``.
    device: where received arrays are placed ("cpu" or "cuda").
    startup: seconds MPI start-up and the handshake may take, if longer than the deadline
        (the ranks finish importing and loading data at different moments).
    """
    name = "mpi"

    def __init__(self, deadline=120.0, device="cpu", startup=60.0):
        self.deadline, self.device, self.startup = float(deadline), device, float(startup)
        if not dist.is_initialized():
            dist.init_process_group("mpi", timeout=self.deadline, startup_timeout=max(self.deadline, self.startup))
        self.rank, self.size = dist.get_rank(), dist.get_world_size()
        self.peer = 1 - self.rank
        if self.size != 2:
            raise ConfigurationError(f"the mpi transport needs exactly 2 ranks (one per half), got {self.size}; "
                                     f"launch with mpiexec -n 2")

    @contextlib.contextmanager
    def _bounded(self):
        """minigrad.distributed's deadline error, as this transport's ``TransportError``."""
        try:
            yield
        except dist.DistTimeoutError as error:
            raise TransportError(str(error)) from error

    def send(self, message):
        header = {"kind": message.kind, "values": message.values,
                  "arrays": [(k, tuple(a.shape), str(a.dtype)) for k, a in message.arrays.items()]}
        with self._bounded():
            dist.send_object_list([header], dst=self.peer, tag=_HEADER, timeout=self.deadline)
            works = [dist.isend(a, dst=self.peer, tag=_ARRAY) for a in message.arrays.values()]
            for work in works:
                work.wait(self.deadline)

    def receive(self):
        received = [None]
        with self._bounded():
            dist.recv_object_list(received, src=self.peer, tag=_HEADER, timeout=self.deadline,
                                  what=f"a message header from rank {self.peer}")
            header, arrays = received[0], {}
            xp = backend.cupy if self.device == "cuda" else np
            for name, shape, dtype in header["arrays"]:
                arrays[name] = xp.empty(shape, dtype=dtype)
                dist.recv(arrays[name], src=self.peer, tag=_ARRAY, timeout=self.deadline)
        return Message(header["kind"], arrays, header["values"])

    # ---- the two roles ---------------------------------------------------------------------------------
    def call(self, message):
        """net1's side: send and wait for net2's reply."""
        self.send(message)
        return self.receive()

    def serve(self, handler):
        """net2's side: answer every message with ``handler(message)`` until "stop"."""
        while True:
            message = self.receive()
            reply = handler(message)
            if message.kind == "stop":
                return reply
            self.send(reply)

    def close(self):
        if self.rank == NET1:
            self.send(Message("stop"))

    def handshake(self, config, startup=None):
        """Exchange ``config`` (a dict of plain values: settings, and checksums of the data
        and weights) and check that both ranks agree. The ranks reach this point at
        different moments (imports, loading data), so this one exchange may wait
        ``startup`` seconds (default: the link's) if that is longer than the deadline."""
        deadline, self.deadline = self.deadline, max(self.deadline, self.startup if startup is None else startup)
        try:
            self.send(Message("config", values=config))
            other = self.receive()
        finally:
            self.deadline = deadline
        if other.kind != "config":
            raise TransportError(f"rank {self.rank}: expected rank {self.peer}'s configuration first, "
                                 f"got a {other.kind!r} message")
        configs = [config, other.values] if self.rank == 0 else [other.values, config]
        check_configs(configs)

    def abort(self, code=1):
        dist.abort(code)
