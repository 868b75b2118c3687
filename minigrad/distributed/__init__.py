"""``minigrad.distributed``: torch.distributed's names on MPI (mpi4py), the project's one
MPI layer. Launch the program with ``mpiexec -n N python -m mpi4py program.py``, then

    import minigrad.distributed as dist
    dist.init_process_group(backend="mpi", timeout=60)     # rank and size from mpiexec
    dist.all_reduce(grad, op=dist.ReduceOp.AVG)           # in place, on every rank
    dist.broadcast(weights, src=0)
    evens = dist.new_group([0, 2])                        # every rank calls it; then on 0 and 2:
    dist.all_reduce(grad, op=dist.ReduceOp.AVG, group=evens)

Every wait — start-up included — is bounded by a deadline: a rank that died or stalled
makes the others raise ``DistTimeoutError`` (or, in start-up, print why and exit) instead
of hanging. ``nn.parallel.DistributedDataParallel`` and ``data.DistributedSampler`` build
data-parallel training on it; docs/distributed.md has the whole story.
"""
from minigrad.distributed.checksum import checksum, structure
from minigrad.distributed.collectives import (ReduceOp, Work, all_gather, all_reduce, barrier, broadcast,
                                              broadcast_object_list)
from minigrad.distributed.group import (DistributedError, DistTimeoutError, abort, destroy_process_group,
                                        get_backend, get_rank, get_world_size, init_process_group,
                                        is_available, is_initialized, new_group, thread_multiple)
from minigrad.distributed.handshake import MismatchError, PeerFailedError, agree
from minigrad.distributed.p2p import irecv, isend, recv, recv_object_list, send, send_object_list
from minigrad.distributed.startup import launched_rank_and_size

__all__ = ["DistTimeoutError", "DistributedError", "MismatchError", "PeerFailedError", "ReduceOp", "Work", "abort",
           "agree", "all_gather", "all_reduce",
           "barrier", "broadcast", "broadcast_object_list", "checksum", "destroy_process_group", "get_backend", "get_rank",
           "get_world_size", "init_process_group", "irecv", "is_available", "is_initialized", "isend",
           "launched_rank_and_size", "new_group", "recv", "recv_object_list", "send", "send_object_list",
           "structure", "thread_multiple"]
