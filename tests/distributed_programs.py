"""Programs the multi-rank tests run under mpiexec (imported by them, not collected):
each asserts on every rank and prints one line per rank that the test reads."""
import textwrap

COLLECTIVES = textwrap.dedent("""
    import numpy as np
    import minigrad as mg
    import minigrad.distributed as dist
    dist.init_process_group("mpi", timeout=30)
    r, n = dist.get_rank(), dist.get_world_size()
    a = np.array([r + 1.0, -r, 2.0 ** r])
    for op, want in [(dist.ReduceOp.SUM, [n * (n + 1) / 2, -n * (n - 1) / 2, 2.0 ** n - 1]),
                     (dist.ReduceOp.AVG, [(n + 1) / 2, -(n - 1) / 2, (2.0 ** n - 1) / n]),
                     (dist.ReduceOp.MAX, [n, 0, 2.0 ** (n - 1)]), (dist.ReduceOp.MIN, [1, -(n - 1), 1])]:
        x = a.copy(); dist.all_reduce(x, op=op); assert np.allclose(x, want), (op, x, want)
        t = mg.tensor(a.astype(np.float32)); dist.all_reduce(t, op=op)
        assert t.dtype == np.float32 and np.allclose(t.numpy(), want), (op, t)
    strided = np.arange(12.0).reshape(3, 4) * (r + 1)
    dist.all_reduce(strided[:, 1])   # a non-contiguous view, reduced in place
    assert np.allclose(strided[:, 1], np.array([1.0, 5, 9]) * n * (n + 1) / 2) and strided[0, 0] == 0
    ints = np.array([r, 1]); dist.all_reduce(ints); assert ints.tolist() == [n * (n - 1) // 2, n]
    try:
        dist.all_reduce(np.array([1, 2]), op=dist.ReduceOp.AVG); raise SystemExit("AVG on ints accepted")
    except TypeError as error:
        assert "floating-point" in str(error)
    frozen = np.ones(2); frozen.setflags(write=False)
    try:
        dist.all_reduce(frozen); raise SystemExit("a read-only array accepted")
    except ValueError as error:
        assert "all_reduce: the array is read-only" in str(error)
    assert dist.is_available() and dist.is_initialized() and dist.get_backend() == "mpi"
    work = dist.all_reduce(a, async_op=True); assert work.wait() is True and work.is_completed()
    b = mg.tensor(np.full((2, 3), float(r))); dist.broadcast(b, src=n - 1); assert (b.numpy() == n - 1).all()
    out = [mg.tensor(np.zeros(2)) for _ in range(n)]; dist.all_gather(out, mg.tensor(np.array([r, 10.0 * r])))
    assert [o.tolist() for o in out] == [[q, 10.0 * q] for q in range(n)]
    if r == 0:
        dist.send_object_list([{"kind": "hi"}, 3], dst=1); y = np.zeros(4); dist.recv(y, src=1)
        assert y.tolist() == [0, 1, 2, 3]
    elif r == 1:
        got = [None, None]; dist.recv_object_list(got, src=0); assert got == [{"kind": "hi"}, 3]
        dist.send(np.arange(4.0), dst=0)
    dist.barrier()
    dist.destroy_process_group()
    print(f"rank {r} of {n}: collectives ok", flush=True)
""")

# Data-parallel training against one process that sees the same global batches: every
# rank trains its shard with DDP (its own random initial weights, which the wrap
# replaces with rank 0's); rank 0 then trains a copy from the same start on the
# concatenation of all ranks' batches and compares. The last step of each epoch is
# three micro-batches, two under no_sync (gradient accumulation).
DDP_EQUALS_ONE_PROCESS = textwrap.dedent("""
    import contextlib
    import sys
    import numpy as np
    import minigrad as mg
    import minigrad.distributed as dist
    import minigrad.functional as F
    from minigrad import nn, optim
    from minigrad.data import ArrayDataset, DataLoader, DistributedSampler
    from minigrad.nn.parallel import DistributedDataParallel as DDP

    dist.init_process_group("mpi", timeout=60)
    r, n = dist.get_rank(), dist.get_world_size()
    examples, per_rank, epochs = int(sys.argv[1]), int(sys.argv[2]), 2
    data = np.random.default_rng(7)
    dataset = ArrayDataset(data.standard_normal((examples, 1, 6, 6)), data.integers(0, 3, examples))

    def net():
        return nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                             nn.Linear(27, 8), nn.Tanh(), nn.Linear(8, 3)).double()

    mg.manual_seed(100 + r)          # different on every rank: the wrap must copy rank 0's
    model = net()
    start = {k: v.copy() for k, v in model.state_dict().items()}
    ddp = DDP(model, bucket_cap_mb=0.0005)   # ~500 bytes: several buckets
    assert len(ddp._buckets) > 2
    opt = optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)

    def loader(rank):  # the loader calls the sampler's set_epoch at each epoch
        return DataLoader(dataset, per_rank, sampler=DistributedSampler(dataset, n, rank, seed=3), seed=0)

    def step(model, optimizer, batches, no_sync=None):
        # the first len(batches) - 1 micro-batches inside no_sync(), when it is given
        optimizer.zero_grad()
        for i, (x, y) in enumerate(batches):
            with no_sync() if no_sync is not None and i < len(batches) - 1 else contextlib.nullcontext():
                F.cross_entropy(model(x), y).backward()
        optimizer.step()

    mine_loader = loader(r)
    for epoch in range(epochs):
        mine = list(mine_loader)
        for batch in mine[:-3]:
            step(ddp, opt, [batch])
        step(ddp, opt, mine[-3:], ddp.no_sync)

    # every rank holds the same weights
    final = model.state_dict()
    every = [np.empty(1) for _ in range(n)]
    dist.all_gather(every, np.array([sum(float(np.abs(v).sum()) for v in final.values())]))
    assert all(e[0] == every[0][0] for e in every), every

    if r == 0:
        mg.manual_seed(100)
        single = net(); single.load_state_dict(start)
        sopt = optim.SGD(single.parameters(), lr=0.1, momentum=0.9)
        loaders = [loader(q) for q in range(n)]
        for epoch in range(epochs):
            per = [list(each) for each in loaders]   # the same epochs again: every rank's batches
            both = [(mg.tensor(np.concatenate([p[s][0].numpy() for p in per])),
                     mg.tensor(np.concatenate([p[s][1].numpy() for p in per]))) for s in range(len(per[0]))]
            for batch in both[:-3]:
                step(single, sopt, [batch])
            # each rank sums its three micro-batch gradients under no_sync, and the synced
            # backward averages the sums over the ranks: the sum of the three global ones
            step(single, sopt, both[-3:])
        worst = max(float(np.abs(final[k] - v).max()) for k, v in single.state_dict().items())
        moved = max(float(np.abs(final[k] - start[k]).max()) for k in final)
        assert worst < 1e-10 and moved > 1e-2, (worst, moved)
        print(f"ddp equals one process: worst difference {worst:.2e} after moving {moved:.2f}", flush=True)
    dist.barrier()
""")

# A rank that dies (argv "die") or stalls ("stall") in the middle of training: the job
# ends; with a stalled rank, rank 0's next all-reduce fails at the deadline with a message.
FAULTY_RANK = textwrap.dedent("""
    import os, sys, time
    import numpy as np
    import minigrad as mg
    import minigrad.distributed as dist
    import minigrad.functional as F
    from minigrad import nn
    from minigrad.nn.parallel import DistributedDataParallel as DDP
    dist.init_process_group("mpi", timeout=3, startup_timeout=60)
    ddp = DDP(nn.Linear(4, 2).double())
    x = mg.tensor(np.ones((2, 4))); y = np.array([0, 1])
    F.cross_entropy(ddp(x), y).backward()
    if dist.get_rank() == 1:
        if sys.argv[1] == "die":
            os._exit(3)
        time.sleep(120)
    started = time.monotonic()
    try:
        F.cross_entropy(ddp(x), y).backward()
    except dist.DistTimeoutError as error:
        print(f"rank 0 caught after {time.monotonic() - started:.1f} s: {error}", flush=True)
        raise SystemExit(1)
""")

# A rank that never reaches MPI start-up within a short deadline.
MISSING_RANK = textwrap.dedent("""
    import time
    import minigrad.distributed as dist
    if dist.launched_rank_and_size()[0] == 1:
        time.sleep(120)
    dist.init_process_group("mpi", timeout=3, startup_timeout=3)
    print("joined", flush=True)
""")

# What DistributedDataParallel does besides averaging: buckets start during backward,
# buffers come from rank 0, an unused parameter and a different model are named.
DDP_DETAILS = textwrap.dedent("""
    import numpy as np
    import minigrad as mg
    import minigrad.distributed as dist
    import minigrad.functional as F
    from minigrad import nn
    from minigrad.nn import parallel
    dist.init_process_group("mpi", timeout=30)
    r = dist.get_rank()
    mg.manual_seed(r)
    x = mg.tensor(np.random.default_rng(r).standard_normal((4, 3)))
    y = np.array([0, 1, 0, 1])

    # 1. the first bucket (the last layer) starts while earlier gradients are still missing
    model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 2)).double()
    ddp = parallel.DistributedDataParallel(model, bucket_cap_mb=0.0003)
    missing_at_start = []
    real_start = parallel._Bucket.start
    def start(bucket):
        missing_at_start.append(sum(p.grad is None for p in model.parameters()))
        real_start(bucket)
    parallel._Bucket.start = start
    F.cross_entropy(ddp(x), y).backward()
    parallel._Bucket.start = real_start
    assert len(missing_at_start) == len(ddp._buckets) >= 3 and missing_at_start[0] >= 2, missing_at_start
    assert missing_at_start[-1] == 0 and ddp.reduced_bytes == 8 * sum(p.numel() for p in model.parameters())

    # 2. buffers: BatchNorm's running statistics are rank 0's after every training forward
    bn = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)).double()
    ddp = parallel.DistributedDataParallel(bn)
    ddp(x)                      # each rank updates its running mean with its own batch
    ddp(x)                      # ... after first taking rank 0's
    every = [np.empty(4) for _ in range(2)]
    dist.all_gather(every, bn[1].running_mean.numpy().copy())
    assert not np.array_equal(every[0], every[1])      # rank 1 moved its copy with its own batch
    ddp.eval(); ddp(x); ddp.train()                    # no broadcast in eval mode
    ddp(x)
    # after the broadcast in this forward every rank started from rank 0's statistics
    expected = 0.9 * every[0] + 0.1 * (bn[0](x).numpy().mean(axis=0))
    assert np.allclose(bn[1].running_mean.numpy(), expected), (r, bn[1].running_mean, expected)

    # 3. a parameter that takes no part in the loss is named at the next forward
    unused = nn.Sequential(nn.Linear(3, 2), nn.Linear(3, 2)).double()
    ddp = parallel.DistributedDataParallel(unused)
    F.cross_entropy(ddp.module[0](x), y).backward()
    try:
        ddp(x)
        raise SystemExit("no error for an unused parameter")
    except RuntimeError as error:
        assert "'1.weight', '1.bias'" in str(error) and "take part in the loss" in str(error), error

    # 4. ranks that wrap different models are told so
    try:
        parallel.DistributedDataParallel(nn.Linear(3, 2 + r).double())
        raise SystemExit("no error for different models")
    except ValueError as error:
        assert "ranks [1] wrap a model whose layers, parameter names, shapes or dtypes differ" in str(error), error
    print(f"rank {r}: ddp details ok", flush=True)
""")

# Sub-groups (new_group) on 4 ranks: the evens and the odds each reduce, broadcast (src
# named by its default-group rank), gather and pass objects among themselves alone; a
# rank outside a group is refused by name.
GROUPS = textwrap.dedent("""
    import numpy as np
    import minigrad.distributed as dist
    dist.init_process_group("mpi", timeout=30)
    r, n = dist.get_rank(), dist.get_world_size()
    assert n == 4, n
    evens, odds = dist.new_group([2, 0]), dist.new_group([1, 3])   # the ranks in any order
    mine, other = (evens, odds) if r % 2 == 0 else (odds, evens)
    assert dist.get_rank(mine) == r // 2 and dist.get_world_size(mine) == 2 and dist.get_rank(other) == -1
    assert dist.get_world_size(other) == -1 and dist.get_world_size() == 4
    x = np.array([float(r), 1.0]); dist.all_reduce(x, op=dist.ReduceOp.AVG, group=mine)
    assert x.tolist() == [(r % 2) + 1.0, 1.0], x                  # (0+2)/2 or (1+3)/2
    b = np.full(3, float(r)); dist.broadcast(b, src=2 + r % 2, group=mine)
    assert (b == 2 + r % 2).all(), b
    out = [np.zeros(1), np.zeros(1)]; dist.all_gather(out, np.array([10.0 * r]), group=mine)
    assert [o[0] for o in out] == [10.0 * (r % 2), 10.0 * (r % 2 + 2)], out
    objects = [None]; objects[0] = {"from": r}; dist.broadcast_object_list(objects, src=r % 2, group=mine)
    assert objects == [{"from": r % 2}], objects
    for call in (lambda: dist.all_reduce(np.ones(1), group=other), lambda: dist.barrier(group=other)):
        try:
            call(); raise SystemExit("a collective on a group without this rank ran")
        except ValueError as error:
            assert f"this rank ({r}) is not in the group of ranks" in str(error), error
    for bad in ([], [0, 4], [-1]):
        try:
            dist.new_group(bad); raise SystemExit(f"new_group({bad}) accepted")
        except ValueError as error:
            assert "new_group: ranks must be ranks in [0, 4)" in str(error), error
    try:
        dist.broadcast(np.ones(1), src=1 - r % 2, group=mine); raise SystemExit("a src outside the group accepted")
    except ValueError as error:
        assert "broadcast: src must be a rank of the group" in str(error), error
    dist.barrier(group=mine)
    dist.barrier()
    print(f"rank {r} of {n}: groups ok", flush=True)
""")
