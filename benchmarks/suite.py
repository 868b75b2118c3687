"""Every training workload minigrad ships, side by side with PyTorch, in one command.

    python benchmarks/suite.py                 # the full suite (a few minutes on 2 cores)
    python benchmarks/suite.py --quick         # tiny sizes, a smoke run of the machinery
    python benchmarks/suite.py --only resnet   # the workloads whose name contains "resnet"

Workloads (``benchmarks/workloads.py``): admm's CaffeNet-style CNN on 3×32×32 at N = 64,
128, 256 without and with BatchNorm; ResNet-18 at N = 256 on 3×32×32; the MLP of
``python -m minigrad``; one iteration of the dual-net demo. A step is forward, loss,
backward and update. For each workload the two libraries start from the same weights
and take turns, one step each per round, the first of the two alternating from round
to round, so a drift in the machine's speed (other users, the hypervisor's steal) hits
both alike. Reported: medians of the rounds, the median of the per-round ratios
minigrad / PyTorch (the headline), the step's floating-point work as PyTorch's
``torch.utils.flop_counter`` counts it (convolutions and matrix products, forward and
backward), the GFLOP/s each library achieves on it, and that as a fraction of the
machine's matrix-multiply peak, measured just before each workload (the faster of
NumPy's and PyTorch's float32 ``matmul`` of two square matrices): on a shared machine
the peak moves with the load, so each workload is compared with the peak of its minutes.

Beside the numbers: the date, machine, versions, thread counts, OpenBLAS's kernel set
and the environment variables that steer it, the load average before and after, and
the share of CPU time the hypervisor stole during the run (``/proc/stat``). Written to
``benchmarks/results/suite-cpu-<threads>-<kernels>.json`` and between the markers of
that configuration in ``docs/benchmarks.md`` (``--no-write`` to only print).

    python benchmarks/suite.py --threads 1                          # per-core efficiency, CPU time
    OPENBLAS_CORETYPE=SkylakeX python benchmarks/suite.py           # OpenBLAS's AVX-512 kernels
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
# run from anywhere, installed or not: minigrad and admm from this checkout, workloads.py beside this file
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

import minigrad as mg  # noqa: E402
from minigrad.checkpoint import write_atomically  # noqa: E402
from kernels import cpu_threads  # noqa: E402
import workloads  # noqa: E402
from report import cpu_name, write_section  # noqa: E402

CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
# glibc's allocator and OpenBLAS read these at start-up; they change the timings, so the report names them
ENVIRONMENT = ("OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MINIGRAD_CPU_THREADS",
               "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")


def markers(threads, architecture):
    """The docs section of one configuration: each thread count and OpenBLAS kernel set has its own."""
    name = f"suite:cpu-{threads}-thread{'s' * (threads > 1)}-openblas-{architecture.lower()}"
    return f"<!-- {name} -->", f"<!-- /{name} -->"


def cases(quick):
    """(name, builder(torch) → Pair, rounds, warmup) of every workload; ``quick``: tiny sizes."""
    if quick:
        return [("caffenet N=4", lambda t: workloads.caffenet(4, False, t), 1, 0),
                ("caffenet+bn N=4", lambda t: workloads.caffenet(4, True, t), 1, 0),
                # N=4: batch norm over 2 values per channel (N=2 on the 1×1 last stage) is so ill-conditioned
                # that the two libraries' rounding already differs in the loss's second digit
                ("resnet18 N=4 16×16", lambda t: workloads.resnet(4, t, size=16), 1, 0),
                ("mlp N=8", lambda t: workloads.mlp(8, t), 1, 0),
                ("dualnet N=4", lambda t: workloads.dualnet(4, t), 1, 0)]
    out = []
    for bn in (False, True):
        for n in (64, 128, 256):
            out.append((f"caffenet{'+bn' if bn else ''} N={n}",
                        lambda t, n=n, bn=bn: workloads.caffenet(n, bn, t), max(5, 2560 // n), 3))
    out.append(("resnet18 N=256", lambda t: workloads.resnet(256, t), 7, 2))
    out.append(("mlp N=128", lambda t: workloads.mlp(128, t), 200, 20))
    out.append(("dualnet N=128", lambda t: workloads.dualnet(128, t), 30, 3))
    return out


def cpu_times():
    """(steal, total) jiffies of all CPUs from /proc/stat, or None where there is none."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except OSError:
        return None
    # user nice system idle iowait irq softirq steal [guest guest_nice, already in user]
    return fields[7], sum(fields[:8])


def load_average():
    return [round(v, 2) for v in os.getloadavg()] if hasattr(os, "getloadavg") else None


def matmul_peak(torch, size, repeats, clock):
    """GFLOP/s of a float32 (size × size) @ (size × size), median of ``repeats``, for NumPy
    and (where installed) PyTorch: the machine's practical peak for dense arithmetic."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, size, size)).astype(np.float32)
    products = {"numpy": lambda: a @ b}
    if torch is not None:
        at, bt = torch.from_numpy(a), torch.from_numpy(b)
        products["pytorch"] = lambda: at @ bt
    out = {}
    for name, fn in products.items():
        fn()
        times = []
        for _ in range(repeats):
            start = clock()
            fn()
            times.append(clock() - start)
        out[name] = 2 * size ** 3 / statistics.median(times) / 1e9
    return out


def step_flops(torch, pair):
    """Floating-point operations of one PyTorch step of ``pair``, as counted by
    ``torch.utils.flop_counter`` (convolutions, matrix products; forward and backward)."""
    from torch.utils.flop_counter import FlopCounterMode
    with FlopCounterMode(display=False) as counter:
        pair.torch_step()
    return counter.get_total_flops()


def measure(pair, rounds, warmup, clock):
    """Alternating rounds: {library: [seconds per step]} and the per-round ratios."""
    steps = {"minigrad": pair.minigrad_step}
    if pair.torch_step is not None:
        steps["pytorch"] = pair.torch_step
    order = list(steps)
    times = {name: [] for name in steps}
    for r in range(warmup + rounds):
        for name in (order if r % 2 == 0 else order[::-1]):
            start = clock()
            steps[name]()
            seconds = clock() - start
            if r >= warmup:
                times[name].append(seconds)
    ratios = [m / t for m, t in zip(times["minigrad"], times["pytorch"])] if "pytorch" in times else []
    return times, ratios


def machine(torch, threads):
    import numba
    import threadpoolctl
    facts = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
             "python": platform.python_version(), "cpu": cpu_name() or platform.processor() or platform.machine(),
             "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
             "numpy": np.__version__, "numba": numba.__version__, "minigrad": mg.__version__,
             "minigrad_threads": cpu_threads.THREADS,
             "blas": [f"{lib['internal_api']} {lib.get('version')} {lib.get('architecture')} kernels"
                      for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas"],
             "blas_architecture": next((lib.get("architecture") or "unknown" for lib in threadpoolctl.threadpool_info()
                                        if lib["user_api"] == "blas"), "none"),
             "environment": {k: os.environ[k] for k in ENVIRONMENT if k in os.environ}}
    if torch is not None:
        facts["torch"] = torch.__version__
        facts["torch_threads"] = threads
    return facts


def markdown(report):
    facts = report["machine"]
    steal = report["steal_fraction"]
    lines = [
        f"Measured {facts['date']} on {facts['cpu']} ({facts['cores']} cores); Python {facts['python']}, "
        f"NumPy {facts['numpy']} ({', '.join(facts['blas'])}), Numba {facts['numba']}, "
        f"PyTorch {facts.get('torch', 'not installed')}; minigrad {facts['minigrad_threads']} threads, "
        f"PyTorch {facts.get('torch_threads', '-')} threads; environment {facts['environment'] or 'none set'}; "
        f"timed by {report['clock']}. Load average {report['load_before']} before, "
        f"{report['load_after']} after; hypervisor steal "
        f"{'unknown' if steal is None else f'{100 * steal:.0f}%'} of CPU time during the run. "
        f"Peak: the faster float32 {report['matmul_size']}² matrix product of NumPy and PyTorch, measured "
        f"just before each workload. `{report['command']}`.",
        "",
        "| workload | rounds | GFLOP/step | minigrad ms | PyTorch ms | **minigrad / PyTorch** (range) | "
        "peak GFLOP/s | minigrad GFLOP/s (% peak) | PyTorch GFLOP/s (% peak) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in report["rows"]:
        def rate(lib):
            g = row.get(f"{lib}_gflops_per_s")
            return "-" if g is None else f"{g:.0f} ({100 * row[f'{lib}_peak_fraction']:.0f}%)"
        gflop = "-" if row.get("gflop_per_step") is None else f"{row['gflop_per_step']:.2f}"
        torch_ms = "-" if "pytorch_median_s" not in row else f"{1e3 * row['pytorch_median_s']:.1f}"
        ratio = "-" if "ratio" not in row else f"**{row['ratio']:.2f}** ({row['ratio_range'][0]:.2f}–{row['ratio_range'][1]:.2f})"
        peak = max(row["matmul_peak_gflops"].values())
        lines.append(f"| {row['name']} | {row['rounds']} | {gflop} | {1e3 * row['minigrad_median_s']:.1f} | "
                     f"{torch_ms} | {ratio} | {peak:.0f} | {rate('minigrad')} | {rate('pytorch')} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one round: checks the machinery only")
    parser.add_argument("--only", nargs="+", default=[], metavar="TEXT",
                        help="run only the workloads whose name contains one of these")
    parser.add_argument("--rounds", type=float, default=1.0, help="scale every workload's number of rounds")
    parser.add_argument("--threads", type=int, default=CORES,
                        help="threads for both libraries (default: the cores this process may use); with fewer "
                             "than that, BLAS is held to one thread and steps are timed by CPU time, which "
                             "other users of a shared machine disturb less than the wall clock")
    parser.add_argument("--results", help="the JSON file (default: benchmarks/results/suite-cpu-<threads>-<kernels>.json)")
    parser.add_argument("--docs", default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    try:
        import torch
    except ImportError:
        torch = None
        print("PyTorch is not installed: timing minigrad alone (pip install torch for the ratios)", file=sys.stderr)
    if args.threads < 1:
        parser.error(f"--threads must be at least 1, got {args.threads}")
    if torch is not None:
        torch.set_num_threads(args.threads)
    clock, clock_name = time.perf_counter, "the wall clock"
    if args.threads < CORES:
        import threadpoolctl
        cpu_threads.THREADS = args.threads  # read at every call; 1: everything on the caller's thread
        threadpoolctl.threadpool_limits(1, user_api="blas")
        clock, clock_name = time.process_time, "the process's CPU time"

    report = {"quick": args.quick, "machine": machine(torch, args.threads), "load_before": load_average(),
              "clock": clock_name, "command": " ".join(["python benchmarks/suite.py"] + list(argv or sys.argv[1:]))}
    stat_before = cpu_times()
    report["matmul_size"] = 128 if args.quick else 1024
    rows = []
    for name, build, rounds, warmup in cases(args.quick):
        if args.only and not any(text in name for text in args.only):
            continue
        rounds = max(1, round(rounds * args.rounds))
        pair = build(torch)
        pair.check()
        row = {"name": name, "batch": pair.batch, "rounds": rounds, "warmup": warmup,
               "matmul_peak_gflops": matmul_peak(torch, report["matmul_size"], 3 if args.quick else 9, clock)}
        peak = max(row["matmul_peak_gflops"].values())
        if torch is not None:
            row["gflop_per_step"] = step_flops(torch, pair) / 1e9
        times, ratios = measure(pair, rounds, warmup, clock)
        for lib, ts in times.items():
            row[f"{lib}_median_s"] = statistics.median(ts)
            row[f"{lib}_min_s"] = min(ts)
            if "gflop_per_step" in row:
                row[f"{lib}_gflops_per_s"] = row["gflop_per_step"] / row[f"{lib}_median_s"]
                row[f"{lib}_peak_fraction"] = row[f"{lib}_gflops_per_s"] / peak
        if ratios:
            row["ratio"] = statistics.median(ratios)
            row["ratio_range"] = [min(ratios), max(ratios)]
        rows.append(row)
        print(f"{name:18s} peak {peak:4.0f} GFLOP/s  minigrad {1e3 * row['minigrad_median_s']:8.1f} ms"
              + (f"  pytorch {1e3 * row['pytorch_median_s']:8.1f} ms  ratio {row['ratio']:.2f}" if ratios else ""),
              flush=True)
    stat_after = cpu_times()
    report["load_after"] = load_average()
    report["steal_fraction"] = None
    if stat_before and stat_after and stat_after[1] > stat_before[1]:
        report["steal_fraction"] = (stat_after[0] - stat_before[0]) / (stat_after[1] - stat_before[1])
    report["rows"] = rows
    text = markdown(report)
    if not args.no_write:
        results = args.results or (ROOT / "benchmarks" / "results" /
                                   f"suite-cpu-{args.threads}-{report['machine']['blas_architecture'].lower()}.json")
        write_atomically(results, json.dumps(report, indent=2) + "\n")
        write_section(args.docs, *markers(args.threads, report["machine"]["blas_architecture"]), text)
    print(text)
    return report


if __name__ == "__main__":
    main()
