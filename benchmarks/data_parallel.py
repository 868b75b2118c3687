"""Data parallelism on CPU cores: two MPI ranks against one process, the report's CNN.

    python benchmarks/data_parallel.py                 # 3 rounds of 12 timed steps, the CNN and the MLP
    python benchmarks/data_parallel.py --rounds 5 --steps 20 --no-write

The network is the report's CaffeNet-style CNN that admm splits (``admm.models.caffenet``,
28×28 greyscale), and the main job's MLP (``python -m minigrad``'s, to see whether it is
big enough to gain), at a global batch of 128, SGD lr 0.01; a step is forward, loss,
backward (with DistributedDataParallel's all-reduces) and update. Four set-ups, each
with every thread pool of every process held to the threads named
(``MINIGRAD_CPU_THREADS``, ``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``):

* ``1 process, 1 thread``   batch 128 on one core
* ``1 process, 2 threads``  batch 128, minigrad's kernels split over two cores
* ``2 ranks, 1 thread each`` batch 64 per rank under ``mpiexec -n 2`` + DDP
* ``2 ranks, no all-reduce`` the same without DDP: two processes that never exchange a
  byte, the bound on what data parallelism can gain on this machine

Each set-up runs in fresh processes; the rounds take turns (A, B, C, A, B, C, ...) so a
drift in the shared machine's load hits all alike, and we report medians of the
per-round medians, and the best step (the least disturbed by the machine's other load:
on a shared machine the closest to what it would do alone). Speed-ups are over
``1 process, 1 thread``. For the ranks we also report the bytes all-reduced per step and the
share of the step rank 0 spent waiting for the all-reduces at the end of backward (which
includes waiting for the other rank to get there: on a loaded machine, mostly that).
Results go to ``benchmarks/results/data_parallel-cpu.json`` and the marked section of
``docs/benchmarks.md`` (``--no-write`` to only print).
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
# minigrad from this checkout, installed or not (the children get the same through PYTHONPATH)
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]
GLOBAL_BATCH = 128
# (name, processes, threads each, gradients averaged); the last is data parallelism without
# its communication: the most two processes can gain on this machine
SETUPS = [("1 process, 1 thread", 1, 1, True), ("1 process, 2 threads", 1, 2, True),
          ("2 ranks, 1 thread each", 2, 1, True), ("2 ranks, no all-reduce (bound)", 2, 1, False)]


def build(name):
    """``cnn``: the report's CNN (admm's network); ``mlp``: the main job's
    784-256-256-10 MLP (``python -m minigrad``), to see whether it is big enough to gain."""
    if name == "cnn":
        from minigrad.models import caffenet
        return caffenet(num_classes=10, in_channels=1, image_size=28)
    from minigrad.__main__ import mlp
    return mlp(784, 256, 10, 0.0)


def worker(model_name, steps, warmup, sync=True):
    """One set-up's timed steps (run in the child processes); rank 0 prints a JSON line."""
    import minigrad as mg
    import minigrad.functional as F
    from minigrad import distributed as dist
    from minigrad import optim
    from minigrad.nn.parallel import DistributedDataParallel

    ranks = dist.launched_rank_and_size()[1]
    rank = 0
    mg.manual_seed(0)
    model = build(model_name)
    ddp = None
    if ranks > 1:
        dist.init_process_group("mpi", timeout=120, startup_timeout=120)
        rank = dist.get_rank()
        ddp = DistributedDataParallel(model) if sync else None
    data = np.random.default_rng(rank)
    batch = GLOBAL_BATCH // ranks
    x = mg.tensor(data.random((batch, 1, 28, 28), dtype=np.float32))
    y = mg.tensor(data.integers(0, 10, batch))
    optimizer = optim.SGD(model.parameters(), lr=0.01)
    forward = ddp if ddp is not None else model
    times, cpu_times = [], []
    for step in range(warmup + steps):
        if step == warmup and ranks > 1:
            dist.barrier()  # start the timed steps together
            if ddp is not None:
                ddp.communication_seconds, ddp.reduced_bytes = 0.0, 0
        started, cpu_started = time.perf_counter(), time.process_time()
        optimizer.zero_grad()
        F.cross_entropy(forward(x), y).backward()
        optimizer.step()
        times.append(time.perf_counter() - started)
        cpu_times.append(time.process_time() - cpu_started)
    timed = times[warmup:]
    if rank == 0:
        # cpu: this rank's own work per step, whatever else the machine runs (benchmarks/hybrid.py)
        report = {"step_seconds": statistics.median(timed), "best_step_seconds": min(timed),
                  "cpu_step_seconds": statistics.median(cpu_times[warmup:])}
        if ddp is not None:
            report["reduced_bytes_per_step"] = ddp.reduced_bytes / steps
            report["communication_share"] = ddp.communication_seconds / sum(timed)
            report["buckets"] = len(ddp._buckets)
        print(json.dumps(report), flush=True)


def run_setup(model, ranks, threads, sync, steps, warmup):
    env = dict(os.environ, MINIGRAD_CPU_THREADS=str(threads), OMP_NUM_THREADS=str(threads),
               OPENBLAS_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads), MPIEXEC_TIMEOUT="600",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    command = [sys.executable, __file__, "--worker", model, "--steps", str(steps), "--warmup", str(warmup)]
    command += [] if sync else ["--no-sync"]
    if ranks > 1:
        mpiexec = Path(sys.executable).parent / "mpiexec"
        command = [str(mpiexec), "-n", str(ranks), sys.executable, "-m", "mpi4py"] + command[1:]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def load_average():
    return os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3


TITLES = {"cnn": "the report's CNN (admm's, 87,658 parameters)",
          "mlp": "the main job's 784-256-256-10 MLP (269,322 parameters)"}


def section(result):
    lines = [f"Measured {result['date']} on {result['machine']}; load average "
             f"{result['load_before'][0]:.2f} before and {result['load_after'][0]:.2f} after (1 min); "
             f"{result['rounds']} rounds × {result['steps']} steps, medians of the round medians; "
             f"global batch {result['global_batch']}."]
    for model, rows in result["setups"].items():
        base = rows["1 process, 1 thread"]["step_seconds"]
        lines += ["", f"**{TITLES[model]}**", "",
                  "| set-up | median step (ms) | speed-up | best step (ms) | speed-up |", "|---|---:|---:|---:|---:|"]
        best = rows["1 process, 1 thread"]["best_step_seconds"]
        for name, row in rows.items():
            lines.append(f"| {name} | {1000 * row['step_seconds']:.1f} | {base / row['step_seconds']:.2f}× | "
                         f"{1000 * row['best_step_seconds']:.1f} | {best / row['best_step_seconds']:.2f}× |")
        ranks = rows["2 ranks, 1 thread each"]
        lines += ["", f"Two ranks all-reduce {ranks['reduced_bytes_per_step'] / 1e6:.3f} MB of gradients per "
                  f"step in {ranks['buckets']} bucket(s); rank 0 waits for them "
                  f"{100 * ranks['communication_share']:.1f}% of the step (the transfer, and any lateness of "
                  f"the other rank, e.g. when the machine's load deschedules it). Two ranks against one process with "
                  f"two threads: {rows['1 process, 2 threads']['step_seconds'] / ranks['step_seconds']:.2f}×."]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--models", default="cnn,mlp", help="cnn (the report's CNN), mlp (the main job's); "
                                                             "default %(default)s")
    parser.add_argument("--worker", metavar="MODEL", help=argparse.SUPPRESS)
    parser.add_argument("--no-sync", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args.worker, args.steps, args.warmup, sync=not args.no_sync)
    load_before = load_average()
    models = args.models.split(",")
    per_round = {(m, name): [] for m in models for name, _, _, _ in SETUPS}
    for r in range(args.rounds):
        for m in models:
            for name, ranks, threads, sync in SETUPS:
                report = run_setup(m, ranks, threads, sync, args.steps, args.warmup)
                per_round[m, name].append(report)
                print(f"round {r + 1}: {m}, {name}: {1000 * report['step_seconds']:.1f} ms/step", flush=True)
    setups = {m: {} for m in models}
    for (m, name), reports in per_round.items():
        setups[m][name] = {key: (min if key.startswith("best") else statistics.median)(rep[key] for rep in reports)
                           for key in reports[0]}
    result = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
              "machine": f"{platform.machine()}, {os.cpu_count()} cores ({platform.processor() or 'cpu'})",
              "load_before": load_before, "load_after": load_average(), "rounds": args.rounds,
              "steps": args.steps, "global_batch": GLOBAL_BATCH, "setups": setups}
    text = section(result)
    print(text)
    if not args.no_write:
        out = ROOT / "benchmarks" / "results" / "data_parallel-cpu.json"
        # imported here, not at the top: this process only launches and reads the ranks
        from minigrad.checkpoint import write_atomically
        from report import write_section
        write_atomically(out, json.dumps(result, indent=1))
        write_section(ROOT / "docs" / "benchmarks.md", "<!-- data_parallel:cpu -->", "<!-- /data_parallel:cpu -->",
                      text, heading="Data parallelism: two ranks against one process")


if __name__ == "__main__":
    main()
