"""The lecture's table (Yadan et al., "Multi-GPU Training of ConvNets": 1 GPU 10.5 days;
2 GPUs model-parallel 6.6, data-parallel 7.0; 4 GPUs data-parallel 7.2, model + data
4.8) measured on this machine's CPU cores with the report's CNN:

    python benchmarks/hybrid.py                    # 2 rounds of 40 iterations, batch 128
    python benchmarks/hybrid.py --rounds 1 --iters 20

Five set-ups, one thread per process (``MINIGRAD_CPU_THREADS=1``, ``OMP_NUM_THREADS=1``),
all at the same global batch:

* ``1 unit``: the single net, trained by ``admm demo`` on rank 0 after its split runs
  (rank 1 has finished by then);
* ``2 units, model-parallel``: the split on 2 ranks (``admm demo --transport mpi``);
* ``2 units, data-parallel`` and ``4 units, data-parallel``: ``DistributedDataParallel``
  on 2 and 4 ranks (``benchmarks/data_parallel.py``'s timed steps, random images);
* ``4 units, model + data``: the hybrid, 2 replicas of the split on 4 ranks
  (``--replicas 2``).

Seconds per iteration (wall, median over the rounds; the rounds take turns so a drift in
the shared machine's load hits all alike) and each rank's CPU seconds per iteration (its
own work, whatever else the machine runs). Accuracy: test accuracy after the iterations;
the data-parallel runs compute the single net's gradients (the global batch's mean,
tests/test_distributed.py) and the hybrid the split's (tests/test_admm_hybrid.py), so
their accuracy is the single net's and the split's by construction, not measured again.
Prints a Markdown table for docs/admm.md (nothing is written).
"""
import argparse
import csv
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MPIEXEC = Path(sys.executable).parent / "mpiexec"


def environment():
    return dict(os.environ, MINIGRAD_CPU_THREADS="1", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
                MKL_NUM_THREADS="1", MPIEXEC_TIMEOUT="900", MPLBACKEND="Agg",
                PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))


def _run(command):
    done = subprocess.run([str(c) for c in command], capture_output=True, text=True, env=environment(),
                          timeout=1200, check=False, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, command))} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def split(ranks, iters, batch):
    """The demo on ``ranks`` ranks (2: the split; 4: the hybrid) → its summary and the
    mean CPU seconds per iteration of each half (replica 0's) and of the single net."""
    with tempfile.TemporaryDirectory() as out:
        extra = ["--replicas", ranks // 2] if ranks > 2 else []
        _run([MPIEXEC, "-n", ranks, sys.executable, "-m", "mpi4py", "-m", "admm", "demo", "--transport", "mpi",
              "--quiet", "--iters", iters, "--batch", batch, "--eval-every", 10 ** 6, "--test-limit", 1000,
              *extra, "--out", f"{out}/run"])
        summary = json.loads(Path(out, "run", "summary.json").read_text())
        with open(Path(out, "run", "history.csv")) as f:
            rows = [r for r in csv.DictReader(f) if r.get("step_seconds")]
    mode = summary["mode"]

    def mean(run, key):
        return statistics.mean(float(r[key]) for r in rows if r["run"] == run)
    return summary, {"net1": mean(mode, "net1_seconds"), "net2": mean(mode, "net2_seconds"),
                     "single": mean("single", "step_cpu_seconds")}


def data_parallel(ranks, iters, batch):
    if batch != 128:
        raise ValueError("benchmarks/data_parallel.py's global batch is 128: run with --batch 128")
    out = _run([MPIEXEC, "-n", ranks, sys.executable, "-m", "mpi4py", ROOT / "benchmarks" / "data_parallel.py",
                "--worker", "cnn", "--steps", iters, "--warmup", 3])
    return json.loads(out.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--iters", type=int, default=40)
    parser.add_argument("--batch", type=int, default=128)
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    rows = {name: [] for name in ("1 unit", "2 units, model-parallel", "2 units, data-parallel",
                                  "4 units, data-parallel", "4 units, model + data")}
    for r in range(args.rounds):
        two, two_cpu = split(2, args.iters, args.batch)
        rows["1 unit"].append((two["seconds_per_iteration"]["single"], two_cpu["single"], two["single_test_acc"], ""))
        rows["2 units, model-parallel"].append((two["seconds_per_iteration"][two["mode"]],
                                                f"net1 {two_cpu['net1']:.3f}, net2 {two_cpu['net2']:.3f}",
                                                two["dual_test_acc"], ""))
        for ranks in (2, 4):
            dp = data_parallel(ranks, args.iters, args.batch)
            rows[f"{ranks} units, data-parallel"].append((dp["step_seconds"], dp["cpu_step_seconds"],
                                                          two["single_test_acc"], "= 1 unit's"))
        four, four_cpu = split(4, args.iters, args.batch)
        rows["4 units, model + data"].append((four["seconds_per_iteration"][four["mode"]],
                                              f"net1 {four_cpu['net1']:.3f}, net2 {four_cpu['net2']:.3f}",
                                              four["dual_test_acc"], ""))
        print(f"round {r + 1}: " + ", ".join(f"{k} {v[-1][0]:.3f} s" for k, v in rows.items()), flush=True)
    base = statistics.median(v[0] for v in rows["1 unit"])
    print(f"Measured {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
          f"{os.cpu_count()} cores; load average {load_before[0]:.2f} before, {os.getloadavg()[0]:.2f} after; "
          f"{args.rounds} round(s) × {args.iters} iterations, global batch {args.batch}, one thread per process.\n")
    print("| set-up | s / iteration (wall) | speed-up | CPU s / iteration per rank | test accuracy |")
    print("|---|---:|---:|---|---:|")
    for name, values in rows.items():
        wall = statistics.median(v[0] for v in values)
        cpu = values[-1][1]
        cpu = f"{statistics.median(v[1] for v in values):.3f}" if isinstance(cpu, float) else cpu
        accuracy = f"{100 * values[-1][2]:.2f}%" + (f" ({values[-1][3]})" if values[-1][3] else "")
        print(f"| {name} | {wall:.3f} | {base / wall:.2f}× | {cpu} | {accuracy} |")


if __name__ == "__main__":
    sys.exit(main())
