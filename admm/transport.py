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
with ``-m mpi4py`` an uncaught exception on one rank aborts all of them. With R replicas
of the split (the hybrid, ``admm.replicas``) there are 2R ranks: rank r holds net1 when
r is even, net2 when odd, and its partner is r ^ 1 (0↔1, 2↔3, …).
"""
import contextlib

import numpy as np

from minigrad import backend
from minigrad import distributed as dist
from admm.replicas import Replicas

NET1, NET2 = 0, 1            # each half's role: rank % 2
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


# what the handshake calls the values that are not command-line settings
_FACTS = {"weights_checksum": "initial weights (checksum)", "data_checksum": "data (checksum of the files --data names)",
          "minigrad": "minigrad version"}


def _named(config):
    """``config`` keyed as a user reads it: a setting by its flag (``batch`` → ``--batch``)."""
    return {_FACTS.get(k, "--" + str(k).replace("_", "-")): v for k, v in config.items()}


class MPILink:
    """One endpoint of a replica's two-rank link (see the module docstring).

    deadline: seconds any single wait may take before ``TransportError``.
    device: where received arrays are placed ("cpu" or "cuda").
    startup: seconds MPI start-up and the handshake may take, if longer than the deadline
        (the ranks finish importing and loading data at different moments).
    replicas: R copies of the split on 2R ranks (the hybrid); after ``handshake``,
        ``self.replicas`` is this rank's ``admm.replicas.Replicas`` (None for one replica).
    """
    name = "mpi"

    def __init__(self, deadline=120.0, device="cpu", startup=60.0, replicas=1):
        self.deadline, self.device, self.startup = float(deadline), device, float(startup)
        if not dist.is_initialized():
            dist.init_process_group("mpi", timeout=self.deadline, startup_timeout=max(self.deadline, self.startup))
        self.rank, self.size = dist.get_rank(), dist.get_world_size()
        self.role, self.peer = self.rank % 2, self.rank ^ 1
        self.count = replicas
        self.replicas = None  # set by the handshake, once every rank agrees on the layout

    @contextlib.contextmanager
    def _bounded(self):
        """minigrad.distributed's deadline error, as this transport's ``TransportError``."""
        try:
            yield
        except dist.DistTimeoutError as error:
            raise TransportError(str(error)) from error

    def send(self, message):
        # values computed on a GPU (net2's loss, its correct count) are read in one transfer
        on_device = [k for k, v in message.values.items() if backend.is_cupy(v)]
        values = dict(message.values, **dict(zip(on_device, backend.read_numbers(
            [message.values[k] for k in on_device]))))
        header = {"kind": message.kind, "values": values,
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
        if self.role == NET1:
            self.send(Message("stop"))

    def handshake(self, config, startup=None):
        """Check, before any work, that every rank was given the same ``config`` (a dict of
        plain values: settings, and checksums of the data and weights) and the same number
        of replicas, in minigrad.distributed's one start-up exchange (``agree``); then make
        the replicas' groups. The ranks reach this point at different moments (imports,
        loading data), so the exchange may wait ``startup`` seconds if that is longer than
        the deadline (default: the start-up deadline MPI was initialised with). Raises
        ``ConfigurationError`` on every rank alike when they disagree or do not fit the
        layout, so each can stop cleanly."""
        deadline = None if startup is None else max(self.deadline, startup)  # None: agree's default
        try:
            with self._bounded():
                dist.agree(_named(dict(config, replicas=self.count)), timeout=deadline)
        except (dist.MismatchError, dist.PeerFailedError) as error:
            raise ConfigurationError(str(error)) from None
        if self.size != 2 * self.count:
            raise ConfigurationError(f"the mpi transport needs 2 ranks per replica of the split (one per half): "
                                     f"{2 * self.count} for {self.count} replica(s), got {self.size}; launch with "
                                     f"mpiexec -n {2 * self.count}")
        if self.count > 1:  # only now: new_group splits the communicator, which waits for every rank
            # every rank makes both groups (new_group is collective), then keeps its half's
            halves = [dist.new_group(list(range(role, self.size, 2))) for role in (NET1, NET2)]
            self.replicas = Replicas(self.count, self.rank, halves[self.role])

    def abort(self, code=1):
        dist.abort(code)
