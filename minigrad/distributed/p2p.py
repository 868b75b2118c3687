"""Point-to-point messages with torch.distributed's names: ``send``/``recv`` (and the
non-blocking ``isend``/``irecv``) move one tensor into a same-shaped one on another rank;
``send_object_list``/``recv_object_list`` move picklable Python objects. Every wait is
bounded by the group's deadline (or the ``timeout`` given, in seconds: minigrad's own
argument); ``admm``'s MPI transport is built on these.
"""
from minigrad.distributed.collectives import as_array, run, staged
from minigrad.distributed.group import group, poll, wait


def _peer(g, rank, op, name):
    if not (isinstance(rank, int) and 0 <= rank < g.size and rank != g.rank):
        raise ValueError(f"{op}: {name} must be another rank in [0, {g.size}), got {rank!r} (this is rank {g.rank})")
    return rank


def isend(tensor, dst, tag=0):
    """Start sending ``tensor`` to rank ``dst``; returns a ``Work`` (keep the tensor
    unchanged until its ``wait()``)."""
    g = group()
    buffer, _ = staged(as_array(tensor, "isend"), "isend", writes=False)
    request = g.comm.Isend(buffer, dest=_peer(g, dst, "isend", "dst"), tag=tag)
    return run(request, f"sending {buffer.size} values to rank {dst}", None, async_op=True)


def irecv(tensor, src, tag=0):
    """Start receiving into ``tensor`` (its shape and dtype must match what rank ``src``
    sends); returns a ``Work``: the values are there after its ``wait()``."""
    g = group()
    buffer, write_back = staged(as_array(tensor, "irecv"), "irecv")
    request = g.comm.Irecv(buffer, source=_peer(g, src, "irecv", "src"), tag=tag)
    return run(request, f"receiving {buffer.size} values from rank {src}", write_back, async_op=True)


def send(tensor, dst, tag=0, timeout=None):
    isend(tensor, dst, tag).wait(timeout)


def recv(tensor, src, tag=0, timeout=None):
    """Receive into ``tensor`` from rank ``src``; returns ``src`` (as torch does)."""
    irecv(tensor, src, tag).wait(timeout)
    return src


def send_object_list(object_list, dst, tag=0, timeout=None):
    """Send a list of picklable objects to rank ``dst`` (pickled as one message)."""
    g = group()
    wait(g.comm.isend(list(object_list), dest=_peer(g, dst, "send_object_list", "dst"), tag=tag),
         f"sending objects to rank {dst}", timeout)


def recv_object_list(object_list, src, tag=0, timeout=None, what=None):
    """Fill ``object_list`` in place with the objects rank ``src`` sent (as many as it has
    entries); returns ``src``. ``what`` names the message in a timeout error."""
    g = group()
    _peer(g, src, "recv_object_list", "src")
    # a matched probe first, so a pickled message of any size is received whole
    message = poll(lambda: g.comm.improbe(source=src, tag=tag), what or f"objects from rank {src}", timeout)
    received = message.recv()
    if len(received) != len(object_list):
        raise ValueError(f"recv_object_list: rank {src} sent {len(received)} objects into a list of "
                         f"{len(object_list)}")
    object_list[:] = received
    return src
