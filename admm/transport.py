"""How messages travel between net1 and net2.

A message is a ``kind`` (what it asks for: "train", "eval", "save", "stop"), a dict of
named arrays (activations, gradients, sample indices) and a dict of plain values
(numbers, strings). net1's side drives training: it sends a message and waits for the
reply, and net2's side answers every message it gets (``serve``).

* ``InProc``: both halves in this process; a "send" is a function call and the arrays
  are passed by reference. The default, and the reference for the numbers.
* ``MPILink``: one MPI rank per half (rank 0 = net1, rank 1 = net2), via mpi4py. The
  header (kind, values, array shapes and dtypes) is pickled; each array then goes as one
  raw buffer. CuPy arrays go directly when the MPI library is CUDA-aware and are staged
  through host memory otherwise. Every wait polls a non-blocking request against a
  deadline, so a rank that died or stalled makes the other fail with a clear error
  (``TransportError``) instead of hanging for ever.

Launch the MPI version as ``mpiexec -n 2 python -m mpi4py -m admm demo --transport mpi``:
with ``-m mpi4py`` an uncaught exception on one rank aborts all of them.
"""
import time

import numpy as np

from minigrad import backend

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
    """
    name = "mpi"

    def __init__(self, deadline=120.0, device="cpu", comm=None):
        from mpi4py import MPI
        self.MPI = MPI
        self.comm = MPI.COMM_WORLD if comm is None else comm
        self.rank, self.size = self.comm.Get_rank(), self.comm.Get_size()
        self.peer = 1 - self.rank
        self.deadline, self.device = float(deadline), device
        if self.size != 2:
            raise ConfigurationError(f"the mpi transport needs exactly 2 ranks (one per half), got {self.size}; "
                                 f"launch with mpiexec -n 2")
        query = getattr(MPI, "Query_cuda_support", None)
        self.cuda_aware = bool(query and query())

    # ---- waiting with a deadline ---------------------------------------------------------------
    def _wait(self, poll, what):
        """Call ``poll()`` until it returns something other than None, or fail at the deadline."""
        started = time.monotonic()
        pause = 0.0
        while True:
            done = poll()
            if done is not None:
                return done
            waited = time.monotonic() - started
            if waited > self.deadline:
                raise TransportError(f"rank {self.rank}: no progress on {what} from rank {self.peer} within "
                                     f"{self.deadline:g} s; the other rank died or stalled")
            time.sleep(pause)
            pause = min(0.002, pause + 0.0001)  # spin at first (replies are quick), then back off

    def _complete(self, request, what):
        self._wait(lambda: True if request.Test() else None, what)

    # ---- arrays and headers ------------------------------------------------------------------------
    def _send_buffer(self, array):
        if backend.is_cupy(array) and not self.cuda_aware:
            return np.ascontiguousarray(backend.to_numpy(array))  # staged through host memory
        return backend.xp(array).ascontiguousarray(array)

    def send(self, message):
        header = {"kind": message.kind, "values": message.values,
                  "arrays": [(k, tuple(a.shape), str(a.dtype)) for k, a in message.arrays.items()]}
        buffers = [self._send_buffer(a) for a in message.arrays.values()]
        requests = [self.comm.isend(header, dest=self.peer, tag=_HEADER)]
        requests += [self.comm.Isend(b, dest=self.peer, tag=_ARRAY) for b in buffers]
        for request in requests:
            self._complete(request, f"sending {message.kind!r}")

    def receive(self):
        # A matched probe first, so a pickled header of any size is received whole.
        probe = self._wait(lambda: self.comm.improbe(source=self.peer, tag=_HEADER), "a message header")
        header = probe.recv()
        arrays = {}
        for name, shape, dtype in header["arrays"]:
            on_gpu = self.device == "cuda" and self.cuda_aware
            buffer = (backend.cupy if on_gpu else np).empty(shape, dtype=dtype)
            self._complete(self.comm.Irecv(buffer, source=self.peer, tag=_ARRAY),
                           f"array {name!r} of {header['kind']!r}")
            arrays[name] = backend.to_device(buffer, self.device)
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

    def handshake(self, config, startup=60.0):
        """Exchange ``config`` (a dict of plain values) and check that both ranks agree.
        The ranks reach this point at different moments (imports, loading data), so this
        one exchange may wait ``startup`` seconds if that is longer than the deadline."""
        deadline, self.deadline = self.deadline, max(self.deadline, startup)
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
        self.comm.Abort(code)
