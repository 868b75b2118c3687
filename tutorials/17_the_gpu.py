# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 17 · The GPU: CUDA's programming model, with our own kernels
#
# A GPU runs one small function, the **kernel**, on thousands of threads at
# once. minigrad's CUDA face (`kernels/*/cuda.py`) is written in Python with
# `numba.cuda` and runs on CuPy arrays. This lesson reads those kernels as a
# way into the model every CUDA program follows:
#
# 1. threads, blocks and the grid: how a thread finds its element (ReLU);
# 2. the grid-stride loop: a fixed grid for any size;
# 3. shared memory and barriers: batch norm's tree reduction of the statistics;
# 4. coalesced vs strided memory access: why neighbouring threads should touch
#    neighbouring addresses;
# 5. CuPy arrays and `.to("cuda")`: a small conv–BN–ReLU–pool block on the GPU
#    face, checked against the CPU.
#
# **It runs on a GPU when there is one** (CuPy installed, `pip install
# "minigrad[gpu]"`, and a device visible), **and under Numba's CUDA simulator
# otherwise**: the very same kernels, each thread a Python thread on NumPy
# arrays, slow but exact. The first cell says which. The simulator must be
# switched on before Numba is first imported, so in a notebook restart the
# kernel before re-running this lesson.
#
# The code it follows: grid sizing and launch in `kernels/cuda_launch.py`, the kernels in
# `kernels/relu/cuda.py`, `kernels/batchnorm/cuda.py` and `kernels/conv/cuda.py`, and
# `.to("cuda")` in `minigrad/backend.py`.

# %%
import os
import sys


def gpu_present():
    """CuPy is installed and sees a device (it raises a RuntimeError without a driver)."""
    try:
        import cupy

        return cupy.cuda.runtime.getDeviceCount() > 0
    except (ImportError, RuntimeError):
        return False


# NUMBA_ENABLE_CUDASIM=1 set by the user forces the simulator even on a GPU machine
GPU = gpu_present() and os.environ.get("NUMBA_ENABLE_CUDASIM") != "1"
if not GPU:
    if "numba" in sys.modules and os.environ.get("NUMBA_ENABLE_CUDASIM") != "1":
        raise RuntimeError("lesson 17: Numba was imported before the simulator could be switched on: "
                           "restart the kernel (or run the lesson as a script)")
    os.environ["NUMBA_ENABLE_CUDASIM"] = "1"

import math  # noqa: E402  (after the simulator switch, which must precede Numba)

import matplotlib.pyplot as plt  # noqa: E402
import numba  # noqa: E402
import numpy as np  # noqa: E402
from numba import cuda  # noqa: E402

import minigrad  # noqa: E402
from kernels import cuda_launch  # noqa: E402
from kernels.batchnorm import cuda as batchnorm_cuda  # noqa: E402
from kernels.relu import cuda as relu_cuda  # noqa: E402
from minigrad import nn  # noqa: E402
from _figures import show  # noqa: E402

QUICK = os.environ.get("MINIGRAD_QUICK") == "1"
if GPU:
    import cupy as xp

    device_name = xp.cuda.runtime.getDeviceProperties(0)["name"]
    print("ran on the GPU:", device_name.decode() if isinstance(device_name, bytes) else device_name)
else:
    xp = np
    print("ran under Numba's CUDA simulator (no GPU found): same kernels, each thread a Python thread")
assert numba.config.ENABLE_CUDASIM == (0 if GPU else 1)


def host(array):
    """A NumPy copy of a kernel's output (from the device when on a GPU)."""
    return xp.asnumpy(array) if GPU else np.asarray(array)


# %% [markdown]
# ## 1. Threads, blocks, the grid
#
# A launch `kernel[blocks, threads_per_block](args)` starts `blocks` blocks of
# `threads_per_block` threads each: the **grid**. Every thread runs the same
# function and tells itself apart by its coordinates: `cuda.threadIdx.x` (its
# place in its block), `cuda.blockIdx.x` (its block's place in the grid) and
# `cuda.blockDim.x` (threads per block). Its global index is
#
# $$i = \text{blockIdx.x} \cdot \text{blockDim.x} + \text{threadIdx.x},$$
#
# which is what `cuda.grid(1)` returns. The hardware runs a block's threads in
# groups of 32 consecutive threads, the **warps**, each of which executes one
# instruction at a time for all its threads. A block may have any number of
# threads up to 1024: it is split into ⌈threads / 32⌉ warps, the last one
# partly empty when the count is not a multiple of 32 (NVIDIA's *CUDA C++
# Programming Guide*, "Thread Hierarchy" and "SIMT Architecture"). A multiple of
# 32 wastes no lane, which is why the *CUDA C++ Best Practices Guide* recommends
# it ("Thread and Block Heuristics") and why `kernels/cuda_launch.py` uses
# `THREADS = 256`; it is advice, not a rule, and the launches below use blocks of
# 8 and 4. `launch` sizes the grid to ⌈n / 256⌉ blocks, so the last block has
# spare threads: each kernel starts with `if i < n`. ReLU's forward in
# `kernels/relu/cuda.py` is the whole pattern:
#
#     i = cuda.grid(1)
#     if i < x.size:
#         y[i] = 0 if x[i] < 0 else x[i]
#
# We launch that very kernel ourselves on 20 elements with blocks of 8 threads
# (to see several blocks: each is one warp with 24 of its 32 lanes idle; real
# launches use 256), and a second kernel records which block and thread handled
# each element.

# %%
@cuda.jit
def who_ran(block, thread):
    i = cuda.grid(1)
    if i < block.size:
        block[i] = cuda.blockIdx.x
        thread[i] = cuda.threadIdx.x


n, per_block = 20, 8
blocks = math.ceil(n / per_block)
x = xp.asarray(np.linspace(-1, 1, n))
y = xp.empty_like(x)
relu_cuda._forward[blocks, per_block](x, y)
block, thread = xp.empty(n, dtype=np.int64), xp.empty(n, dtype=np.int64)
who_ran[blocks, per_block](block, thread)
cuda.synchronize()  # a launch returns at once on a GPU; wait before reading the results
print(f"{blocks} blocks × {per_block} threads = {blocks * per_block} threads for {n} elements")
print("block  :", host(block))
print("thread :", host(thread))
np.testing.assert_array_equal(host(y), np.maximum(host(x), 0))
np.testing.assert_array_equal(host(block) * per_block + host(thread), np.arange(n))

# %% [markdown]
# ## 2. The grid-stride loop
#
# One thread per element needs a grid as large as the array. The other common
# shape is a **grid-stride loop**: launch a fixed grid (a few blocks per
# streaming multiprocessor is enough to fill a GPU) and let each thread step
# through the array by the size of the whole grid, `cuda.gridsize(1)`:
#
#     start, stride = cuda.grid(1), cuda.gridsize(1)
#     for i in range(start, n, stride):
#         y[i] = a * x[i] + y[i]
#
# The kernel works for any n with the same launch, and at every sweep the grid's
# threads touch consecutive elements (section 4 says why that matters). Batch
# norm's reductions use the same idea within a channel: a channel's M values are
# shared by `parts` blocks of 256 threads, and thread t of block `part` adds up
# values part·256 + t, then every (parts·256)-th one after it (the `while k < n *
# length` loop of `_partial_sums` in `kernels/batchnorm/cuda.py`).

# %%
@cuda.jit
def axpy_grid_stride(a, x, y, owner):
    start = cuda.grid(1)
    stride = cuda.gridsize(1)
    for i in range(start, x.size, stride):
        y[i] = a * x[i] + y[i]
        owner[i] = start


x = xp.asarray(np.arange(n, dtype=np.float64))
y = xp.ones(n)
owner = xp.empty(n, dtype=np.int64)
axpy_grid_stride[2, 4](2.0, x, y, owner)  # 8 threads for 20 elements
cuda.synchronize()
print("thread that computed each element:", host(owner))
np.testing.assert_array_equal(host(owner), np.arange(n) % 8)
np.testing.assert_array_equal(host(y), 2 * np.arange(n) + 1)

# %% [markdown]
# ## 3. Shared memory, barriers, and a tree reduction
#
# Batch norm needs, per channel c, the mean and variance over the M = N·L values
# of that channel (lesson 10):
#
# $$\mu_c = \frac{1}{M} \sum_{k=1}^{M} x_k, \qquad
# \sigma_c^2 = \frac{1}{M} \sum_{k=1}^{M} (x_k - \mu_c)^2 .$$
#
# A sum is a **reduction**: many inputs, one output. `_partial_sums` in
# `kernels/batchnorm/cuda.py` gives each channel several blocks: one block per
# channel would launch only C blocks (16–64 in our networks) on a GPU with over a
# hundred multiprocessors, most of them idle, so `_parts` picks enough blocks per
# channel to give every multiprocessor about four. Each thread adds its share
# (the loop of section 2) and writes its sum into **shared memory**, a small fast
# memory that the threads of one block share (`cuda.shared.array(THREADS,
# float64)`). Then the block folds the sums in half, log₂(256) = 8 times: thread
# t adds `part[t + stride]` into `part[t]` for stride = 128, 64, …, 1. Between the
# levels, `cuda.syncthreads()` is a **barrier**: no thread goes on until all
# threads of the block reach it, so no thread reads a sum that another is still
# writing. Each block writes its one sum to a (C, parts) array, and a second,
# small launch (`_fold`, one block per channel) folds each channel's `parts` sums
# the same way. No atomics: the order of the additions is fixed by the launch
# shape, so the result does not depend on which thread ran first.
#
# The kernel below is that reduction (the same code as `_block_sum`) with 8
# threads, recording `part` after every level.

# %%
DEMO_THREADS = 8  # a shared array's size must be a compile-time constant


@cuda.jit
def tree_sum_traced(x, levels):
    t = cuda.threadIdx.x
    part = cuda.shared.array(DEMO_THREADS, numba.float64)
    total = 0.0
    for k in range(t, x.size, DEMO_THREADS):  # block-stride loop: this thread's share
        total += x[k]
    part[t] = total
    cuda.syncthreads()
    levels[0, t] = part[t]
    stride, level = DEMO_THREADS // 2, 1
    while stride > 0:
        if t < stride:
            part[t] += part[t + stride]
        cuda.syncthreads()  # this level written before the next one reads it
        levels[level, t] = part[t]
        stride //= 2
        level += 1


values = np.arange(1.0, 21.0)
levels = xp.zeros((4, DEMO_THREADS))
tree_sum_traced[1, DEMO_THREADS](xp.asarray(values), levels)
cuda.synchronize()
levels = host(levels)
for level, row in enumerate(levels):
    live = DEMO_THREADS >> level
    print(f"level {level}: " + "  ".join(f"{v:5.0f}" for v in row[:live]))
expected = np.array([values[t::DEMO_THREADS].sum() for t in range(DEMO_THREADS)])
np.testing.assert_array_equal(levels[0], expected)
for level in range(1, 4):  # each level adds the upper half onto the lower half
    half = DEMO_THREADS >> level
    expected = expected[:half] + expected[half:2 * half]
    np.testing.assert_array_equal(levels[level, :half], expected)
assert levels[3, 0] == values.sum() == 210

# %% [markdown]
# The real kernels, two passes (the mean, then the squared deviations from it,
# which stays accurate where E[x²] − μ² would cancel), each a `_partial_sums`
# launch and a `_fold`, against NumPy:

# %%
shape = (2, 2, 300) if not GPU else (64, 16, 28 * 28)
batch = np.random.default_rng(0).standard_normal(shape) * 3 + 5
mean, var = batchnorm_cuda.statistics(xp.asarray(batch))
np.testing.assert_allclose(host(mean), batch.mean(axis=(0, 2)), rtol=1e-12)
np.testing.assert_allclose(host(var), batch.var(axis=(0, 2)), rtol=1e-12)
parts = batchnorm_cuda._parts(shape[1], shape[0] * shape[2])
assert parts > 1
print(f"batch-norm statistics of a {shape} batch: {shape[1]} channels × {parts} blocks of "
      f"{cuda_launch.THREADS} threads, then a fold per channel; equal to NumPy's mean and var to 1e-12")

# %% [markdown]
# ## 4. Coalesced and strided access
#
# Global memory moves in aligned **sectors of 32 bytes**: the loads of a warp
# are served by as many sectors as their addresses touch (the *CUDA C++ Best
# Practices Guide*, "Coalesced Access to Global Memory"; the *CUDA C++
# Programming Guide*, "Device Memory Accesses"). When the 32 threads of a warp
# load 32 consecutive float32 values, 128 bytes, the warp needs **4** sectors and
# uses every byte of them: the access is *coalesced*. When each thread reads an
# address `s` elements after its neighbour's, the warp touches more sectors for
# the same 32 useful values; from s = 8 floats (32 bytes) on, every thread has a
# sector of its own: 32 sectors, of which 4 bytes in 32 are used, so about **8
# times** the memory traffic of the coalesced load (not 32: the unit is the
# 32-byte sector, not a 128-byte line). The count is plain arithmetic on the
# addresses:

# %%
SECTOR = 32  # bytes


def sectors(byte_addresses):
    """How many 32-byte sectors one warp's loads touch."""
    return len({int(a) // SECTOR for a in byte_addresses})


lanes = np.arange(32)
strides = [1, 2, 4, 8, 16, 32, 64]
per_warp = [sectors(4 * s * lanes) for s in strides]
for s, count in zip(strides, per_warp):
    print(f"stride {s:2d} floats: {count:2d} sectors per warp, {32 * 4 / (count * SECTOR):.1%} of the bytes used")
assert per_warp[0] == 4 and per_warp[-1] == 32 and per_warp[-1] / per_warp[0] == 8

# %% [markdown]
# Our kernels, checked with the same count (float32, the index arithmetic of
# each kernel for the first warp):
#
# * ReLU: thread i reads `x[i]`, consecutive: 4 sectors.
# * Batch norm's partial sums over an (N, C, L) array: thread t reads
#   `x[t // L, c, t % L]`, consecutive as long as L ≥ 32 (L is H·W).
# * im2col writes `cols[row, k]` with k = t fastest: consecutive (4 sectors),
#   while its reads from the image jump by a row every kw taps (lesson 08's
#   index formulas): more sectors per warp, which the GPU's caches absorb
#   because neighbouring windows overlap.
# * The convolution's GEMM leaves one row of C_out values per output pixel, and
#   the output is NCHW. Read straight, a warp writing 32 neighbouring pixels of
#   one channel would read 32 values C_out apart: 32 sectors. `transpose_kernel`
#   in `kernels/conv/cuda.py` instead stages a 32 × 32 tile in shared memory, read
#   along the rows and written along the pixels: 4 sectors each way.

# %%
relu_reads = sectors(4 * lanes)
channels, length, ch = 16, 28 * 28, 0  # an (N, 16, 784) batch, the block of channel 0
bn_reads = sectors(4 * ((lanes // length) * channels * length + ch * length + lanes % length))
C, H, W, kh, kw, pad = 8, 14, 14, 3, 3, 1  # a 3×3 convolution, padding 1, on 8 channels of 14×14
OW = W
row, k = lanes // (C * kh * kw), lanes % (C * kh * kw)  # the first warp's elements of cols
i_out, j_out = row // OW, row % OW
channel, p, q = k // (kh * kw), (k // kw) % kh, k % kw
i_in, j_in = i_out - pad + p, j_out - pad + q
inside = (i_in >= 0) & (i_in < H) & (j_in >= 0) & (j_in < W)  # taps in the padding read nothing
im2col_writes = sectors(4 * lanes)
im2col_reads = sectors(4 * (channel * H * W + i_in * W + j_in)[inside])
c_out = 32  # the GEMM's rows: pixel-major, C_out values each; the first warp writes channel 0's pixels 0-31
straight_reads = sectors(4 * (lanes * c_out + 0))
tiled_reads = sectors(4 * lanes)  # a warp reads 32 channels of one pixel's row into the tile
print(f"sectors per warp: ReLU read {relu_reads}, batch-norm partial sums read {bn_reads}, "
      f"im2col write {im2col_writes}, im2col read {im2col_reads}, rows → NCHW read straight "
      f"{straight_reads}, through the tile {tiled_reads}")
assert relu_reads == bn_reads == im2col_writes == tiled_reads == 4 and im2col_reads > 4 and straight_reads == 32

# %% [markdown]
# On a GPU the effect is measured below: a copy kernel that reads with stride s
# (`y[i] = x[(i·s) mod n]`), timed with CUDA events. Under the simulator
# threads are Python threads with no memory system to speak of, so only the
# counts above are shown.

# %%
@cuda.jit
def strided_copy(x, y, stride):
    i = cuda.grid(1)
    if i < y.size:
        y[i] = x[(i * stride) % x.size]


measured = {}
if GPU:
    size = 1 << 24
    source, target = xp.arange(size, dtype=np.float32), xp.empty(size, dtype=np.float32)
    for s in strides:
        blocks = math.ceil(size / cuda_launch.THREADS)
        strided_copy[blocks, cuda_launch.THREADS](source, target, s)  # compile and warm up
        start, end = cuda.event(), cuda.event()
        start.record()
        for _ in range(10):
            strided_copy[blocks, cuda_launch.THREADS](source, target, s)
        end.record()
        end.synchronize()
        seconds = cuda.event_elapsed_time(start, end) / 1e3 / 10
        measured[s] = 2 * 4 * size / seconds / 1e9  # bytes read + written per second, GB/s
        print(f"stride {s:2d}: {measured[s]:7.1f} GB/s")
    assert measured[1] > 2 * measured[32], measured
else:
    print("under the simulator: no timing (see the sector counts above)")

figure, ax = plt.subplots(figsize=(7, 3.6))
ax.bar([str(s) for s in strides], per_warp, color="C0", label="32-byte sectors per warp load (count)")
ax.set(xlabel="stride between neighbouring threads (float32 elements)", ylabel="sectors per warp",
       title="Coalescing: one warp's 32 loads")
if measured:
    twin = ax.twinx()
    twin.plot([str(s) for s in strides], [measured[s] for s in strides], "o-", color="C1", label="measured GB/s")
    twin.set_ylabel("copy bandwidth, GB/s")
    twin.legend(loc="center right")
ax.legend(loc="upper left")
figure.tight_layout()
show(figure, "17_coalescing.png")

# %% [markdown]
# ## 5. CuPy arrays and `.to("cuda")`
#
# On a GPU, a tensor's `.array` is a CuPy array (CuPy is NumPy's interface on the
# GPU) and `.to("cuda")` copies it there; `nn.Module.to("cuda")` moves every
# parameter and buffer. The kernels' dispatcher sees CuPy arrays and runs the
# cuda face: our Numba kernels launched on CuPy's current stream
# (`kernels/cuda_launch.py`), with the convolution's GEMM done by cuBLAS through
# CuPy. Without a GPU, `.to("cuda")` says why it cannot, and
# `MINIGRAD_FACE=cuda` runs the same cuda face on NumPy arrays under the
# simulator instead. Either way the result must equal the CPU face's:

# %%
minigrad.manual_seed(0)
layers = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2))
images = np.random.default_rng(1).standard_normal((2, 1, 8, 8)).astype(np.float32)


def forward_backward(model, inputs):
    out = model(inputs)
    (out * out).sum().backward()
    grads = {name: p.grad.numpy() for name, p in model.named_parameters()}
    model.zero_grad()
    return out.numpy(), grads


cpu_out, cpu_grads = forward_backward(layers, minigrad.tensor(images))
if GPU:
    on_gpu = layers.to("cuda")
    inputs = minigrad.tensor(images).to("cuda")
    assert inputs.device == "cuda" and type(inputs.array).__module__.startswith("cupy")
    gpu_out, gpu_grads = forward_backward(on_gpu, inputs)
    layers.to("cpu")
    print("the block ran on the GPU through .to('cuda')")
else:
    try:
        minigrad.tensor(images).to("cuda")
        raise AssertionError("expected .to('cuda') to refuse without a GPU")
    except RuntimeError as error:
        print("without a GPU:", error)
    os.environ["MINIGRAD_FACE"] = "cuda"  # the cuda face on NumPy arrays, under the simulator
    try:
        gpu_out, gpu_grads = forward_backward(layers, minigrad.tensor(images))
    finally:
        del os.environ["MINIGRAD_FACE"]
    print("the block ran through the cuda face under the simulator")
np.testing.assert_allclose(gpu_out, cpu_out, rtol=1e-4, atol=1e-5)
for name in cpu_grads:
    np.testing.assert_allclose(gpu_grads[name], cpu_grads[name], rtol=1e-3, atol=1e-4, err_msg=name)
print(f"cuda face == cpu face: output {cpu_out.shape} and the gradients of {len(cpu_grads)} parameters")

# %% [markdown]
# ## 6. What a host sync costs: counting transfers
#
# A GPU runs kernels in the order the host queued them, while the host runs ahead
# queueing more. Any read of a value back to Python (`loss.item()`, `float(acc)`,
# `bool(...)`) makes the host *wait* until the GPU has finished everything queued
# before it: the queue drains, the GPU idles while Python decides what to do next.
# One such read per step can cost more than the step's kernels on a small network.
#
# The repository's tests carry a stand-in for CuPy (`tests/standin`: NumPy arrays
# behind CuPy's interface, refusing implicit copies to the host as CuPy does) that
# *counts* every copy and every scalar read by the line that asked for it. It is a
# test tool, not a GPU: nothing here is timed. Below, a small MLP trains ten steps
# on it twice, in a child process (the stand-in must be on the import path before
# minigrad starts). First the habit of printing the loss and accuracy every step;
# then the same statistics summed on the device and read once, at the end: the
# arithmetic is the same, the host waits ten times less. Last, minigrad's own loop,
# `minigrad.train.fit`, which keeps each step's numbers on the device until a logging
# point (`log_every` steps) and reads them there in one copy.

# %%
import json  # noqa: E402
import subprocess  # noqa: E402
from pathlib import Path  # noqa: E402

STEPS = """
import json, numpy as np, cupy, minigrad, minigrad.functional as F
from minigrad import nn, optim
rng = np.random.default_rng(0)
x = minigrad.tensor(rng.standard_normal((10, 32, 20)).astype(np.float32)).to("cuda")  # ten batches, one copy
y = minigrad.tensor(rng.integers(0, 4, (10, 32))).to("cuda")
runs = {}
for every_step in (True, False):
    minigrad.manual_seed(0)  # the same network both times
    model = nn.Sequential(nn.Linear(20, 16), nn.ReLU(), nn.Linear(16, 4)).to("cuda")
    opt = optim.SGD(model.parameters(), lr=0.1)
    cupy._counts.reset()
    total_loss, total_correct = 0.0, 0
    for i in range(10):
        logits = model(x[i])
        loss = F.cross_entropy(logits, y[i])
        opt.zero_grad(); loss.backward(); opt.step()
        correct = (logits.argmax(1) == y[i]).sum()
        if every_step:   # the habit: read the statistics at every step
            total_loss += loss.item(); total_correct += int(correct)
        else:            # sum on the device, read once
            total_loss = loss.detach() + total_loss; total_correct = correct + total_correct
    if not every_step:
        total_loss, total_correct = total_loss.item(), int(total_correct)
    runs["every step" if every_step else "once"] = dict(cupy._counts.counts(), result=[total_loss, total_correct])
from minigrad.data import ArrayDataset, DataLoader
from minigrad.train import fit
data = ArrayDataset(rng.standard_normal((320, 20)).astype(np.float32), rng.integers(0, 4, 320))
reads = {}
for log_every in (1, 10):
    minigrad.manual_seed(0)
    model = nn.Sequential(nn.Linear(20, 16), nn.ReLU(), nn.Linear(16, 4)).to("cuda")
    cupy._counts.reset()
    fit(model, optim.SGD(model.parameters(), lr=0.1), F.cross_entropy, DataLoader(data, 32, device="cuda"), 1,
        progress=False, log_every=log_every)
    reads[log_every] = sum(n for kind in ("d2h", "scalar", "sync") for n in cupy._counts.counts()[kind].values())
print(json.dumps(dict(runs, fit=reads)))
"""

standin = Path("tests/standin").resolve() if Path("tests/standin").exists() else Path("../tests/standin").resolve()
if standin.exists():
    root = standin.parent.parent
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1",
               PYTHONPATH=os.pathsep.join([str(standin), str(root)] + [os.environ.get("PYTHONPATH", "")]))
    env.pop("MINIGRAD_FACE", None)
    child = subprocess.run([sys.executable, "-c", STEPS], env=env, capture_output=True, text=True, timeout=300)
    assert child.returncode == 0, child.stderr[-2000:]
    runs = json.loads(child.stdout.splitlines()[-1])
    fit_reads = runs.pop("fit")
    syncs = {}
    for name, counts in runs.items():
        syncs[name] = sum(counts["scalar"].values()) + sum(counts["d2h"].values()) + sum(counts["sync"].values())
        print(f"statistics read {name:>10}: {syncs[name]:2d} host syncs in 10 steps "
              f"({', '.join(f'{site} ×{n}' for site, n in counts['scalar'].items())}); "
              f"{sum(counts['h2d'].values())} copies to the device, {len(counts['refused'])} refused; "
              f"loss sum {counts['result'][0]:.4f}, correct {counts['result'][1]}")
    assert runs["every step"]["result"][1] == runs["once"]["result"][1]  # the same training
    assert syncs["every step"] >= 20 and syncs["once"] <= syncs["every step"] - 18, syncs
    for log_every, n in fit_reads.items():  # one read per logging point, one for the weights' check
        print(f"minigrad.train.fit, log_every={log_every:>2}: {n:2d} host syncs in 10 steps")
    assert fit_reads["10"] == 2 and fit_reads["1"] == 11, fit_reads
else:
    print("tests/standin is not here (an installed copy of minigrad): the counts need the repository")

# %% [markdown]
# ## Exercises
#
# 1. In section 1, launch ReLU with 7 threads per block. What goes wrong if you
#    delete the `if i < x.size` test? (Under the simulator you get an
#    IndexError; on a GPU, a silent write past the end of the array.)
# 2. Remove the `cuda.syncthreads()` inside the loop of `tree_sum_traced`. Why
#    can the simulator still give the right answer, while a GPU may not?
# 3. Rewrite `_partial_sums` so that thread t handles a contiguous chunk of its
#    block's share instead of every (parts·256)-th value. Count the sectors of a
#    warp's first load with `sectors`: what happens to coalescing?


# %% [markdown]
# ## References
#
# * NVIDIA, *CUDA C++ Programming Guide*, <https://docs.nvidia.com/cuda/cuda-c-programming-guide/> —
#   threads, blocks, grids, memory spaces.
# * NVIDIA, *CUDA C++ Best Practices Guide*, <https://docs.nvidia.com/cuda/cuda-c-best-practices-guide/> —
#   coalesced access, occupancy.
# * Numba, "CUDA Python" and "The CUDA simulator", <https://numba.readthedocs.io/en/stable/cuda/index.html>.
# * CuPy, <https://docs.cupy.dev/>.
# * K. Chellapilla, S. Puri, P. Simard, "High Performance Convolutional Neural Networks for
#   Document Processing", IWFHR 2006, <https://inria.hal.science/inria-00112631> — im2col.
#
# Every source the lessons cite is listed in `docs/references.md`.

# %%
print("lesson 17: all checks passed")
