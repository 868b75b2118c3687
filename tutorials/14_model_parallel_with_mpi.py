# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 14 · Model parallelism with MPI
#
# Two ways to train one network on two devices:
#
# * **Data parallelism**: each device holds the *whole* network and a different half
#   of the batch; after the backward pass the devices average their gradients
#   (an all-reduce of every parameter), then take the same step. The traffic per
#   iteration is the size of the parameters, whatever the batch.
# * **Model parallelism**: each device holds *part* of the network. Activations go
#   forward across the cut and something (a gradient, or a target) comes back. The
#   traffic is proportional to the batch × the size of the activations at the cut,
#   whatever the parameters. Each device stores only its part's activations, so a split
#   *can* fit a bigger batch — but only when the activations are spread evenly. The
#   report found a bigger batch with its CaffeNet; for our CNN the first block holds most
#   of the activations, and the largest batch the split fits is 0.97× the single net's
#   (measured by `python -m admm batch`, in `docs/admm.md`).
#
# The dual net is model parallel: net1 (conv1 … pool2) on rank 0, net2 (conv3′ … fc)
# on rank 1. This lesson counts the traffic of both schemes for our network, then
# runs the *same* training in one process and in two MPI ranks and compares the
# numbers. The code it follows: both transports and their deadlines in
# `admm/transport.py`, who does what on which rank in `admm/demo.py`.

# %%
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import minigrad
from admm.session import configure, fresh_model
from admm.split import split
from _figures import output_dir

QUICK = os.environ.get("MINIGRAD_QUICK") == "1"
OUT = output_dir()
ROOT = Path(__file__).resolve().parent.parent if "__file__" in globals() else Path.cwd().parent

# %% [markdown]
# ## 1. What travels, per iteration

# %%
config = configure()
model, cut = fresh_model(config, (1, 28, 28))
parts = split(model, cut)
parameters = sum(p.numel() for p in model.parameters())
with minigrad.no_grad():                 # one image through net1 gives the sizes at the cut
    p = parts.trunk(minigrad.zeros((1, 1, 28, 28)))
    pool2 = p.numel()                    # the activations at the cut, per image
    conv3 = parts.dual(p).numel()        # what admm mode sends back: the target z for conv3
print(f"per image: {pool2} numbers of {parts.at} {tuple(p.shape[1:])} forward, {conv3} of the target z back")
batch = config["batch"]
data_parallel = 2 * 4 * parameters       # an all-reduce moves about 2× the gradients (ring), float32
model_parallel = 4 * batch * (pool2 + conv3)
print(f"parameters {parameters:,}: data parallel moves ≈ {data_parallel / 1e6:.2f} MB per iteration")
print(f"batch {batch}: model parallel moves {model_parallel / 1e6:.2f} MB (pool2 forward, z back)")
assert model_parallel > data_parallel  # a small CNN with a big batch: activations outweigh weights

# %% [markdown]
# For this small CNN, the activations outweigh the weights: model parallelism moves
# more bytes. It pays when the *memory* of the activations is the problem (the
# report's case: a batch that did not fit), or when the weights are huge.
#
# ## 2. The same run, one process and two ranks
#
# `python -m admm demo --transport inproc` keeps both halves in one process: a
# "send" is a function call. `mpiexec -n 2 python -m mpi4py -m admm demo
# --transport mpi` puts net1 on rank 0 and net2 on rank 1; the arrays travel as raw
# MPI buffers. The ranks first exchange their settings (and a checksum of their
# initial weights) and refuse to start if they differ; every receive waits with a
# deadline. Both runs use one BLAS thread, since the thread count can change the
# rounding of a matrix product.

# %%
# quick: the MLP stand-in, a few iterations; otherwise the CNN for long enough to learn
size = ["--arch", "mlp", "--quick"] if QUICK else ["--iters", "40", "--batch", "64", "--train-limit", "2560",
                                                  "--test-limit", "500"]
common = ["demo", "--quiet", *size]
env = dict(os.environ, OMP_NUM_THREADS="1", MPIEXEC_TIMEOUT="300", MPLBACKEND="Agg",
           PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
work = Path(tempfile.mkdtemp(dir=OUT))


def shown(stdout):
    """The run's report, with the (temporary) folder it wrote into named by its role."""
    return stdout.replace(str(work), "<run folder>")


one = subprocess.run([sys.executable, "-m", "admm", *common, "--out", str(work / "inproc")],
                     env=env, capture_output=True, text=True, timeout=600)
assert one.returncode == 0, one.stderr
print(shown(one.stdout))
inproc = json.loads((work / "inproc" / "summary.json").read_text())

# %%
beside = Path(sys.executable).parent / "mpiexec"
mpiexec = str(beside) if beside.exists() else shutil.which("mpiexec")
try:
    import mpi4py  # noqa: F401  (only whether it is there)
except ImportError:
    mpiexec = None
if mpiexec is None:
    print("skipping the two-rank run: mpiexec or mpi4py not found (pip install 'minigrad[mpi]')")
else:
    two = subprocess.run([mpiexec, "-n", "2", sys.executable, "-m", "mpi4py", "-m", "admm", *common,
                          "--transport", "mpi", "--out", str(work / "mpi")],
                         env=env, capture_output=True, text=True, timeout=600)
    assert "(mpi transport)" in two.stdout, two.stdout + two.stderr   # rank 0 reported
    print(shown(two.stdout))
    mpi = json.loads((work / "mpi" / "summary.json").read_text())
    for key in ("single_test_acc", "dual_test_acc", "frozen_net1_test_acc", "consensus_rel_error",
                "conv3_norm_ratio"):
        print(f"{key:22} inproc {inproc[key]:.10g}   mpi {mpi[key]:.10g}")
        assert inproc[key] == mpi[key], key
    print(f"identical numbers; wall time {inproc['seconds']:.1f} s in one process, {mpi['seconds']:.1f} s "
          f"in two ranks (the halves wait for each other: this schedule is sequential)")

# %% [markdown]
# The numbers are identical, not just close: both transports run the same
# operations on the same bytes in the same order. The two ranks are not faster:
# in this schedule net1 waits while net2 steps and the other way round. The pipelined
# schedule (`--schedule pipelined --micro-batches M`, `admm/pipeline.py`) cuts the
# mini-batch into M micro-batches so that net1 works on micro-batch i+1 while net2 works
# on i; each half still updates once per mini-batch, so its gradients equal this
# schedule's (nothing is stale). How much it can gain is bounded by the cut: with
# shares $s_1$ and $s_2$ of a step's compute, at most $1/\max(s_1, s_2)$ — `python -m admm cost`
# prints that bound for every cut, and `docs/admm.md` what it measured.
#
# ## References
#
# * W. Dziwulski, *Distributed Neural Network Training*, final-year project report
#   (not published): the dual net and its two-GPU split.
# * Message Passing Interface Forum, *MPI: A Message-Passing Interface Standard*,
#   version 4.1, 2023, <https://www.mpi-forum.org/docs/>; mpi4py, <https://mpi4py.readthedocs.io/>.
# * Y. Huang et al., "GPipe: Efficient Training of Giant Neural Networks using Pipeline
#   Parallelism", NeurIPS 2019, <https://arxiv.org/abs/1811.06965> — micro-batches in a pipeline.

# %%
print("all checks passed")
