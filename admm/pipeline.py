"""The order of one split iteration over M micro-batches, and how its messages travel.

A mini-batch of N samples is cut into M micro-batches (sizes differing by at most one).
Each half accumulates the gradients of all M and updates once, at the end, with weights
nᵢ/N on the micro-batch losses, so the update equals the one of the whole mini-batch to
rounding (the network has no batch statistics: no batch norm, no dropout).

``sequential``: net1 finishes micro-batch i (forward, net2's step, its own backward)
before it starts i+1 — the report's iteration, M times over; with M = 1 exactly it.

``pipelined``: GPipe's micro-batches in the one-forward-one-backward (1F1B) order of
PipeDream-Flush (Narayanan et al., "Memory-Efficient Pipeline-Parallel DNN Training",
ICML 2021), for two stages. net1 runs  F₁ F₂ B₁ F₃ B₂ … F_M B_{M−1} B_M  while net2 runs
F₁B₁ F₂B₂ … : net1's forward of micro-batch i+1 overlaps net2's step on i, and net1
holds at most two micro-batches' activations (GPipe's all-forwards-first order would
hold M). Both halves still update once per mini-batch (a "flush"), so the gradients are
the sequential schedule's: only the time changes.

The courier moves the messages: ``post`` a micro-batch to net2, ``take`` net2's replies
in order. In one process (``InProc``), and for ``sequential``, a post is the whole call;
over MPI with ``pipelined`` two threads send and receive while the main thread computes,
so a large (rendezvous) message progresses while this rank works (MPICH moves a message
only while its sender or receiver is inside an MPI call).
"""
import collections
import queue
import threading

SCHEDULES = ("sequential", "pipelined")


class Schedule:
    """How an iteration is ordered: ``kind`` in SCHEDULES, ``micro_batches`` = M ≥ 1."""

    def __init__(self, kind="sequential", micro_batches=1):
        if kind not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, got {kind!r}")
        if not (isinstance(micro_batches, int) and micro_batches >= 1):
            raise ValueError(f"micro_batches must be an integer >= 1, got {micro_batches!r}")
        if kind == "pipelined" and micro_batches < 2:
            raise ValueError(f"the pipelined schedule needs micro_batches >= 2 (one micro-batch leaves "
                             f"nothing to overlap), got {micro_batches}")
        self.kind, self.micro_batches = kind, micro_batches
        self.overlap = kind == "pipelined"

    def parts(self, total):
        """The M micro-batches of a mini-batch of ``total`` samples, as slices (fewer when
        the batch is smaller than M, as the last batch of an epoch may be)."""
        m = min(self.micro_batches, total)
        bounds = [total * i // m for i in range(m + 1)]
        return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]

    def courier(self, link, replies):
        """What carries the ``replies`` messages of one iteration over ``link``."""
        if self.overlap and getattr(link, "name", None) == "mpi":
            return Overlapped(link, replies)
        return Immediate(link)


class Immediate:
    """``post`` makes the whole call (send, net2's step, reply) at once; ``take`` returns
    the replies in order. In one process this is the only possible order of events."""

    def __init__(self, link):
        self.link, self.replies = link, collections.deque()

    def __enter__(self):
        return self

    def __exit__(self, *error):
        return False

    def post(self, message):
        self.replies.append(self.link.call(message))

    def take(self):
        return self.replies.popleft()


class Overlapped:
    """Over MPI: a sender thread sends the posted messages in order and a receiver thread
    receives the ``replies`` replies in order, while the caller computes. A transport error
    in either thread is raised by the next ``take`` (each wait has the link's deadline)."""

    def __init__(self, link, replies):
        from minigrad import distributed as dist
        if not dist.thread_multiple():
            from admm.transport import ConfigurationError
            raise ConfigurationError("the pipelined schedule over MPI sends and receives from two threads: "
                                     "it needs MPI_THREAD_MULTIPLE, which this MPI library did not grant")
        self.link, self.replies = link, replies
        self.outbox, self.inbox = queue.Queue(), queue.Queue()

    def __enter__(self):
        self.threads = [threading.Thread(target=self._send, name="admm-send", daemon=True),
                        threading.Thread(target=self._receive, name="admm-receive", daemon=True)]
        for thread in self.threads:
            thread.start()
        return self

    def _send(self):
        while True:
            message = self.outbox.get()
            if message is None:
                return
            try:
                self.link.send(message)
            except BaseException as error:  # noqa: BLE001 - handed to the caller's next take
                self.inbox.put(error)
                return

    def _receive(self):
        try:
            for _ in range(self.replies):
                self.inbox.put(self.link.receive())
        except BaseException as error:  # noqa: BLE001 - handed to the caller's next take
            self.inbox.put(error)

    def post(self, message):
        self.outbox.put(message)

    def take(self):
        reply = self.inbox.get()
        if isinstance(reply, BaseException):
            raise reply
        return reply

    def __exit__(self, *error):
        self.outbox.put(None)
        for thread in self.threads:
            # after an error the other thread may still wait out its deadline: do not join it
            if error == (None, None, None):
                thread.join()
        return False
