# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 16 · Data parallelism
#
# Data parallelism, as Krizhevsky's "One weird trick for parallelizing convolutional neural
# networks" (2014, <https://arxiv.org/abs/1404.5997>) describes it: to train on W devices, give each one a full
# copy of the network and 1/W of every mini-batch. Each copy computes the gradients of
# *all* parameters on its share; the copies average their gradients (an
# **all-reduce**), so all of them take the same step and stay identical. Its price:
# every gradient crosses the wire every step, and the effective batch is W times the
# per-device one.
#
# This lesson makes it runnable:
#
# 1. split a batch and average the gradients, by hand: the same gradient as the whole batch;
# 2. uneven shares break that equality, which is why `DistributedSampler` pads;
# 3. the real thing on two MPI ranks with `DistributedDataParallel`, equal to one process;
# 4. what the communication costs, measured, and the speed-up it leaves;
# 5. when model parallelism (lesson 14) wins instead.
#
# The code it follows: the MPI layer in `minigrad/distributed/` (`collectives.py`,
# `group.py`), DDP in `minigrad/nn/parallel.py`, the sampler in `minigrad/data/sampler.py`,
# and the hook in `minigrad/autograd.py` that tells DDP when a gradient is complete.

# %%
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import minigrad as mg
import minigrad.functional as F
from minigrad import nn, optim
from minigrad.data import DistributedSampler
from _figures import output_dir, show

QUICK = os.environ.get("MINIGRAD_QUICK") == "1"
OUT = output_dir()
ROOT = Path(__file__).resolve().parent.parent if "__file__" in globals() else Path.cwd().parent


def small_cnn():
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(4 * 4 * 4, 10)).double()


def gradients(model, x, y):
    for p in model.parameters():
        p.grad = None
    F.cross_entropy(model(mg.tensor(x)), mg.tensor(y)).backward()
    return [p.grad.numpy().copy() for p in model.parameters()]


# %% [markdown]
# ## 1. Split the batch, average the gradients
#
# With a loss that is the *mean* over the batch, $L = \frac{1}{B}\sum_i \ell_i$, and $W$
# equal shares of $b = B/W$ examples,
#
# $$\frac{1}{W}\sum_r \nabla L_r = \frac{1}{W}\sum_r \frac{1}{b}\sum_{i \in \text{share } r} \nabla \ell_i
#   = \frac{1}{B}\sum_i \nabla \ell_i = \nabla L .$$
#
# The average of the shares' gradients *is* the whole batch's gradient — not an
# approximation. In float64 the two differ only by rounding.

# %%
mg.manual_seed(0)
model = small_cnn()
data = np.random.default_rng(0)
x, y = data.standard_normal((12, 1, 8, 8)), data.integers(0, 10, 12)
whole = gradients(model, x, y)
W = 3
shares = [gradients(model, x[r::W], y[r::W]) for r in range(W)]  # rank r takes every W-th example
averaged = [sum(parts) / W for parts in zip(*shares)]
worst = max(float(np.abs(a - b).max()) for a, b in zip(averaged, whole))
print(f"largest difference between the averaged and the whole-batch gradient: {worst:.1e}")
assert worst < 1e-14

# %% [markdown]
# ## 2. Uneven shares, and the sampler's padding
#
# With 10 examples over 3 ranks the shares would be 4, 3 and 3. Averaging their
# gradients then weighs the examples of the small shares more (1/9 each instead of
# 1/12 for the big one, against 1/10 for all in the whole batch): a silently different
# gradient. Worse, ranks with different numbers of batches would wait for each other's
# all-reduces for ever. So `DistributedSampler` makes the shares equal: it pads the
# shuffled order by repeating its first examples (torch's rule), or cuts the tail with
# `drop_last=True`.

# %%
uneven = [gradients(model, x[:10][r::W], y[:10][r::W]) for r in range(W)]
wrong = [sum(parts) / W for parts in zip(*uneven)]
right = gradients(model, x[:10], y[:10])
print(f"uneven shares, averaged: off by {max(float(np.abs(a - b).max()) for a, b in zip(wrong, right)):.2e}")
assert max(float(np.abs(a - b).max()) for a, b in zip(wrong, right)) > 1e-4

shards = [list(DistributedSampler(range(10), num_replicas=3, rank=r, shuffle=True, seed=0)) for r in range(3)]
for r, shard in enumerate(shards):
    print(f"rank {r}: examples {shard}")
everything = sum(shards, [])
assert sorted(set(everything)) == list(range(10)) and len(everything) == 12  # all of them, 2 repeated
assert {len(s) for s in shards} == {4}                                      # equal shares

# %% [markdown]
# ## 3. Two MPI ranks, and one process on the same batches
#
# `DistributedDataParallel` does step 1 during backward. A hook on every parameter
# (`Tensor.register_post_accumulate_grad_hook`, torch's name) fires as soon as that
# parameter's gradient is complete. The parameters are grouped in *buckets*, last layer
# first — backward finishes the last layer first — and when a bucket is complete its
# gradients are copied into one flat array whose all-reduce starts without waiting
# (`MPI_Iallreduce`), while backward goes on with the earlier layers. At the end of
# backward, DDP waits for every bucket and writes the averages back into `.grad`.
#
# The program below is what a user writes (`mpiexec -n 2 python -m mpi4py program.py`);
# rank 0 saves its final weights and the per-step timings. Then this process trains the
# same network, from the same start, on the concatenation of both ranks' batches.

# %%
PROGRAM = textwrap.dedent('''
    import json, sys, time
    import numpy as np
    import minigrad as mg
    import minigrad.distributed as dist
    import minigrad.functional as F
    from minigrad import nn, optim
    from minigrad.data import ArrayDataset, DataLoader, DistributedSampler
    from minigrad.nn.parallel import DistributedDataParallel as DDP

    out, steps = sys.argv[1], int(sys.argv[2])
    dist.init_process_group("mpi", timeout=120)
    rank, world = dist.get_rank(), dist.get_world_size()
    data = np.random.default_rng(1)
    dataset = ArrayDataset(data.standard_normal((64, 1, 8, 8)), data.integers(0, 10, 64))
    mg.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(4 * 4 * 4, 10)).double()
    start = model.state_dict()
    ddp = DDP(model)
    optimizer = optim.SGD(ddp.parameters(), lr=0.1)
    loader = DataLoader(dataset, batch_size=8, sampler=DistributedSampler(dataset, seed=2), seed=0)
    for epoch in range(steps):
        for x, y in loader:
            optimizer.zero_grad()
            F.cross_entropy(ddp(x), y).backward()
            optimizer.step()
    # what communication costs: all-reduces of the gradient size, timed
    gradient = np.zeros(sum(p.numel() for p in model.parameters()), np.float32)
    big = np.zeros(1_000_000, np.float32)
    timings = {}
    for name, array in (("gradient", gradient), ("4 MB", big)):
        dist.barrier()
        started = time.perf_counter()
        for _ in range(20):
            dist.all_reduce(array)
        timings[name] = (time.perf_counter() - started) / 20
    if rank == 0:
        np.savez(out + "/weights.npz", **model.state_dict())
        np.savez(out + "/start.npz", **start)
        with open(out + "/timings.json", "w") as f:
            json.dump(dict(timings, world=world, bytes=int(gradient.nbytes)), f)
''')

beside = Path(sys.executable).parent / "mpiexec"
mpiexec = str(beside) if beside.exists() else shutil.which("mpiexec")
try:
    import mpi4py  # noqa: F401  (only whether it is there)
except ImportError:
    mpiexec = None
work = Path(tempfile.mkdtemp(dir=OUT))
(work / "program.py").write_text(PROGRAM)
epochs = 1 if QUICK else 3
timings = None
if mpiexec is None:
    print("skipping the two-rank run: mpiexec or mpi4py not found (pip install 'minigrad[mpi]')")
else:
    env = dict(os.environ, OMP_NUM_THREADS="1", MPIEXEC_TIMEOUT="300",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    run = subprocess.run([mpiexec, "-n", "2", sys.executable, "-m", "mpi4py", str(work / "program.py"), str(work),
                          str(epochs)], env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    timings = json.loads((work / "timings.json").read_text())

    # one process: the same start, the same global batches (rank 0's 4 + rank 1's 4)
    from minigrad.data import ArrayDataset, DataLoader
    data = np.random.default_rng(1)
    dataset = ArrayDataset(data.standard_normal((64, 1, 8, 8)), data.integers(0, 10, 64))
    single = small_cnn()
    single.load_state_dict(dict(np.load(work / "start.npz")))
    optimizer = optim.SGD(single.parameters(), lr=0.1)
    loaders = [DataLoader(dataset, 8, sampler=DistributedSampler(dataset, 2, r, seed=2), seed=0) for r in (0, 1)]
    for epoch in range(epochs):
        for (x0, y0), (x1, y1) in zip(*loaders):
            optimizer.zero_grad()
            F.cross_entropy(single(mg.concatenate([x0, x1])), mg.concatenate([y0, y1])).backward()
            optimizer.step()
    ranks = np.load(work / "weights.npz")
    worst = max(float(np.abs(ranks[k] - v).max()) for k, v in single.state_dict().items())
    print(f"two ranks vs one process after {epochs * len(loaders[0])} steps: largest weight difference {worst:.1e}")
    assert worst < 1e-12

# %% [markdown]
# ## 4. What the communication costs
#
# Per step, every rank sends and receives about the size of the gradients: an
# all-reduce of $n$ bytes over $W$ ranks moves $2\frac{W-1}{W}n$ per rank in the ring
# algorithm (a reduce-scatter, then an all-gather). For the report's CNN that is 4 bytes ×
# its parameters — whatever the batch size. The step time of $W$ ranks is then about
#
# $$T_W \approx \frac{T_\text{compute}}{W} + T_\text{all-reduce}(n),$$
#
# so the speed-up $T_1 / T_W$ stays near $W$ while the all-reduce is small next to the
# computation. `benchmarks/data_parallel.py` measures it for the report's CNN on this
# machine's two cores (docs/benchmarks.md); here, the model with our measured numbers.

# %%
from minigrad.models import caffenet

parameters = sum(p.numel() for p in caffenet(num_classes=10, in_channels=1, image_size=28).parameters())
gradient_bytes = 4 * parameters
print(f"the report's CNN: {parameters:,} parameters, {gradient_bytes / 1e6:.2f} MB of float32 gradients a step")
if timings is not None:
    per_byte = timings["4 MB"] / 4e6
    print(f"measured all-reduce on {timings['world']} ranks: {1e6 * timings['gradient']:.0f} µs for this "
          f"lesson's {timings['bytes']} bytes, {1e3 * timings['4 MB']:.2f} ms for 4 MB "
          f"(≈ {1 / per_byte / 1e9:.2f} GB/s)")
else:
    per_byte = 1 / 2e9          # a typical shared-memory all-reduce, when we cannot measure it
cnn = caffenet(num_classes=10, in_channels=1, image_size=28)
images, labels = mg.tensor(np.random.rand(128, 1, 28, 28).astype(np.float32)), np.random.randint(0, 10, 128)
durations = []
for _ in range(2):  # forward and backward at the global batch of 128, in this process
    started = time.perf_counter()
    F.cross_entropy(cnn(images), labels).backward()
    durations.append(time.perf_counter() - started)
compute = min(durations)
print(f"forward and backward of the CNN at batch 128 here: {1e3 * compute:.0f} ms")
workers = np.arange(1, 17)
step = compute / workers + np.where(workers > 1, gradient_bytes * per_byte * 2 * (workers - 1) / workers, 0)
speedup = compute / step
print("predicted speed-up on 2, 4, 8, 16 ranks:", ", ".join(f"{speedup[w - 1]:.2f}×" for w in (2, 4, 8, 16)))
assert speedup[1] > 1.8  # the gradients are small next to the computation

slow = compute / workers + gradient_bytes / 12.5e6 * 2 * (workers - 1) / workers * (workers > 1)  # 100 Mbit/s
fig, ax = plt.subplots(figsize=(5.5, 3.5))
ax.plot(workers, workers, "k:", label="ideal")
ax.plot(workers, speedup, "o-", label="shared memory (measured rate)")
ax.plot(workers, compute / slow, "s-", label="100 Mbit/s network")
ax.set_xlabel("ranks W")
ax.set_ylabel("speed-up T₁ / T_W")
ax.set_title("data parallelism: the report's CNN, global batch 128")
ax.legend()
fig.tight_layout()
assert (compute / slow)[15] < speedup[15]
show(fig, "16_data_parallel_speedup.png", dpi=120)

# %% [markdown]
# In the model, one thing bends the line away from the ideal: the all-reduce does not
# shrink with W (each rank still moves ≈ 2n bytes) while each rank's computation does.
# On a slow network it dominates early. Reality adds a second: the per-rank batch
# shrinks too (128/16 = 8 images), and a core works less efficiently on small batches,
# so the measured speed-ups fall below the model's (docs/benchmarks.md has ours).
#
# ## 5. When model parallelism wins instead
#
# Lesson 14 counted what a split network sends: the activations at the cut, forward,
# and a gradient or target of the same size back — proportional to the *batch*, not
# to the parameters. Data parallelism sends the *parameters'* gradients, whatever the
# batch. So model parallelism moves fewer bytes when
#
# $$\text{batch} \times \text{(activations at the cut, both ways)} < 2 \times \text{parameter bytes},$$
#
# i.e. for networks whose weights are large next to their activations (the huge fully
# connected layers of AlexNet-era networks, or today's language models) and for small
# batches; and it is the only option when one copy of the network does not fit on one
# device. For the report's CNN the activations outweigh the weights at the batch sizes
# it trains with (the demo's 64, the benchmark's 128):

# %%
from admm.session import configure, fresh_model
from admm.split import split

parts = split(*fresh_model(configure(), (1, 28, 28)))
with mg.no_grad():                   # one image through net1: the sizes at the pool2 cut
    p = parts.trunk(mg.zeros((1, 1, 28, 28)))
    cut = 4 * (p.numel() + parts.dual(p).numel())  # bytes per image: pool2 forward, the conv3 target back
crossover = 2 * gradient_bytes / cut
print(f"report's CNN: model parallelism moves fewer bytes only below a batch of {crossover:.1f} images")
assert crossover < 64
wide = 4 * (9216 * 4096 + 4096 * 4096)   # AlexNet's fc6 (256·6·6 = 9216 → 4096) and fc7 (4096 → 4096) after the cut
print(f"with AlexNet's fc6 and fc7 ({wide / 1e6:.0f} MB of weights) the crossover is a batch of "
      f"{2 * wide / cut:,.0f}")
assert 2 * wide / cut > 1024

# %% [markdown]
# Hybrids use both: model parallelism inside a group of devices (for the layers that
# do not fit, or whose weights are huge) and data parallelism across the groups.
#
# **References.** A. Krizhevsky, I. Sutskever, G. Hinton, "ImageNet Classification with
# Deep Convolutional Neural Networks", NeurIPS 2012 (AlexNet's fc6 and fc7, and its
# split over two GPUs); S. Li et al., "PyTorch Distributed: Experiences on Accelerating
# Data Parallel Training", VLDB 2020, <https://arxiv.org/abs/2006.15704> (DDP's buckets
# and overlap); P. Patarasuk, X. Yuan, "Bandwidth optimal all-reduce algorithms for
# clusters of workstations", JPDC 2009 (the ring all-reduce's ≈ 2n bytes per rank).
#
# **Exercises.** (1) Run the program of section 3 with `-n 3`: the 64 examples no
# longer split into equal shares of 8 — what does `DistributedSampler` do, and does the
# equality with one process still hold? (2) Wrap the model with `bucket_cap_mb=0.001`
# and count the buckets (`len(ddp._buckets)`); why does the number not change the
# result? (3) Put a `BatchNorm2d` in the network: why do the ranks' weights now differ
# from one process's even though DDP broadcasts rank 0's running statistics?

# %%
print("all checks passed")
