"""``DistributedDataParallel``: data parallelism with torch's name and behaviour.

Every rank holds a full copy of the model and runs it on its own share of the batch;
after backward the gradients are averaged over the ranks, so every copy takes the same
optimizer step and the copies stay identical. With equal shares of a mean loss, the
average of the ranks' gradients is exactly the gradient of the whole batch's mean loss
(the lecture's data-parallel slide):

    (1/W) Σ_r (1/b) Σ_{i ∈ shard r} ∇ℓ_i  =  (1/(W b)) Σ_i ∇ℓ_i,    W ranks, b = B/W each.

How (as torch's reducer, ``torch/csrc/distributed/c10d/reducer.cpp``): the parameters
are grouped into buckets of about ``bucket_cap_mb`` in *reverse* order, since backward
produces the last layer's gradients first. A post-accumulate-grad hook on every
parameter counts the gradients that are complete; when a bucket is full, its gradients
are copied into one flat buffer and its all-reduce starts without blocking
(``MPI_Iallreduce``), so communication overlaps the rest of backward. When the last
bucket has started — the end of backward — all of them are waited for and the averages
copied back into ``.grad``, before any optimizer step can run. Buckets start in the same
order on every rank, as MPI requires of collectives.
"""
import contextlib
import time

import numpy as np

from minigrad import backend
from minigrad import distributed as dist
from minigrad.nn.module import Module


class _Bucket:
    """Parameters whose gradients travel in one all-reduce (one dtype, one device)."""

    def __init__(self, params):
        self.params = params
        self.sizes = [p.numel() for p in params]
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)]).astype(int)
        self.ready = 0           # gradients complete in this backward
        self.flat = None         # the flat buffer (allocated on first use, on the grads' device)
        self.work = None         # the all-reduce in flight

    def start(self):
        g0 = self.params[0].grad.array
        xp = backend.xp(g0)
        if self.flat is None or backend.xp(self.flat) is not xp:
            self.flat = xp.empty(int(self.offsets[-1]), dtype=g0.dtype)
        for p, a, b in zip(self.params, self.offsets[:-1], self.offsets[1:]):
            self.flat[a:b] = p.grad.array.ravel()
        self.work = dist.all_reduce(self.flat, op=dist.ReduceOp.AVG, async_op=True)

    def finish(self):
        self.work.wait()
        for p, a, b in zip(self.params, self.offsets[:-1], self.offsets[1:]):
            p.grad.array[...] = self.flat[a:b].reshape(p.shape)
        self.work, self.ready = None, 0


class DistributedDataParallel(Module):
    """Wrap ``module`` for data-parallel training over ``minigrad.distributed``'s ranks.

    At wrap, rank 0's parameters and buffers are copied to every rank. Call the wrapper
    as the module; after ``loss.backward()`` every parameter's ``.grad`` is the average over
    the ranks. bucket_cap_mb: the size of one all-reduce. broadcast_buffers: copy rank 0's
    buffers (BatchNorm's running statistics) to every rank before each training forward.
    ``no_sync()``: gradients accumulate locally (for gradient accumulation); the next
    backward outside it averages the accumulated sums. ``.module``: the wrapped model.
    ``communication_seconds`` and ``reduced_bytes`` count, since the wrap, the time spent
    waiting for all-reduces at the end of backward and the bytes reduced (minigrad's own).
    """

    def __init__(self, module, device_ids=None, bucket_cap_mb=25, broadcast_buffers=True):
        super().__init__()
        if device_ids is not None:
            raise ValueError("DistributedDataParallel: device_ids must be None (one device per process: "
                             "move the module to it before wrapping)")
        if not bucket_cap_mb > 0:
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be positive, got {bucket_cap_mb!r}")
        dist.get_world_size()  # a clear error if the process group is not initialised
        self.module = module
        self.broadcast_buffers = bool(broadcast_buffers)
        self.require_backward_grad_sync = True
        self.communication_seconds, self.reduced_bytes = 0.0, 0
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        self._check_same_model(module)
        self._broadcast([p for _, p in module.named_parameters()] + self._buffers_now())
        self._buckets = self._make_buckets([p for _, p in reversed(named)], bucket_cap_mb * 2**20)
        self._next = 0           # the next bucket to start, in order
        self._seen = set()       # ids of the parameters whose gradient is complete in this backward
        self._bucket_of = {}
        for bucket in self._buckets:
            for p in bucket.params:
                self._bucket_of[id(p)] = bucket
                p.register_post_accumulate_grad_hook(self._grad_ready)
        self._names = {id(p): n for n, p in named}

    # ---- at wrap ----------------------------------------------------------------------------
    def _check_same_model(self, module):
        """Every rank must wrap the same architecture: different shapes would make the
        collectives below mismatch (an MPI error at best, a wrong answer at worst)."""
        mine = np.frombuffer(dist.structure(module).encode(), np.uint8)
        every = [np.empty_like(mine) for _ in range(dist.get_world_size())]
        dist.all_gather(every, mine)
        differ = [r for r, other in enumerate(every) if not np.array_equal(other, every[0])]
        if differ:
            raise ValueError(f"DistributedDataParallel: ranks {differ} wrap a model whose layers, parameter names, "
                             f"shapes or dtypes differ from rank 0's; every rank must build the same model")

    @staticmethod
    def _make_buckets(params, cap_bytes):
        buckets, current, size = [], [], 0
        for p in params:
            if current and (size + p.array.nbytes > cap_bytes or p.dtype != current[0].dtype
                            or p.device != current[0].device):
                buckets.append(_Bucket(current))
                current, size = [], 0
            current.append(p)
            size += p.array.nbytes
        if current:
            buckets.append(_Bucket(current))
        return buckets

    def _buffers_now(self):
        return [b for _, b in self.module.named_buffers() if b is not None]

    @staticmethod
    def _broadcast(tensors):
        works = [dist.broadcast(t, src=0, async_op=True) for t in tensors]
        for work in works:
            work.wait()

    # ---- during backward --------------------------------------------------------------------
    def _grad_ready(self, param):
        if not self.require_backward_grad_sync:
            return
        self._seen.add(id(param))
        self._bucket_of[id(param)].ready += 1
        while self._next < len(self._buckets) and \
                self._buckets[self._next].ready == len(self._buckets[self._next].params):
            self._buckets[self._next].start()
            self._next += 1
        for b in self._buckets[:self._next]:
            b.work.is_completed()  # lets MPI progress the all-reduces already started
        if self._next == len(self._buckets):  # the last gradient: the end of backward
            started = time.perf_counter()
            for b in self._buckets:
                b.finish()
                self.reduced_bytes += b.flat.nbytes
            self.communication_seconds += time.perf_counter() - started
            self._next = 0
            self._seen.clear()

    @contextlib.contextmanager
    def no_sync(self):
        """Inside: backward leaves each rank's gradients local (and accumulating)."""
        previous, self.require_backward_grad_sync = self.require_backward_grad_sync, False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    # ---- forward --------------------------------------------------------------------------------
    def forward(self, *args, **kwargs):
        if self._seen:
            missing = [n for i, n in self._names.items() if i not in self._seen]
            self._reset()
            raise RuntimeError("DistributedDataParallel: the previous backward gave no gradient to some "
                               f"parameters, so their all-reduce never ran: {missing[:20]}. Every parameter "
                               f"must take part in the loss on every rank (or be frozen with "
                               f"requires_grad=False before wrapping)")
        if self.broadcast_buffers and self.training:
            self._broadcast(self._buffers_now())
        return self.module(*args, **kwargs)

    def _reset(self):
        for b in self._buckets:
            if b.work is not None:
                b.work.wait()
            b.work, b.ready = None, 0
        self._next = 0
        self._seen.clear()
