"""What one op costs in Python, beside PyTorch: the time an op spends before and after its
arithmetic, which is the whole time on tiny tensors — and on a GPU, where the arithmetic is
queued and the host's Python decides how fast kernels are launched.

    python benchmarks/overhead.py            # every row, written to docs/benchmarks.md
    python benchmarks/overhead.py --quick    # a few rounds, printed only (a smoke run)
    python benchmarks/overhead.py --label "before the lean path"   # names the run in the history

Rows: one ``a + b`` on 4×4 tensors without gradients; 20 small ops, a sum and ``backward()``
on 4×4 tensors; then one op at a time (add, mul, matmul, relu, sum, conv2d on tiny sizes),
forward alone and forward + backward. Each row times minigrad and PyTorch in one process,
taking turns round by round (which library goes first alternates), so a change in the
machine's speed hits both alike. Time is the thread's CPU time (both run on one
thread), which leaves out the moments another process holds the core. Reported are the medians of the per-call times and the
median of the per-round ratios minigrad / PyTorch, with its spread (the lowest and highest
round ratio).

Each row runs in a process of its own (a fresh interpreter, so no row inherits another's
caches, garbage or memory layout). A full run is appended to the history kept in
``benchmarks/results/overhead-cpu.json``, and docs/benchmarks.md shows the newest table
and every run's ratios with its date, machine, load and commit.
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
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

import minigrad as mg  # noqa: E402
from minigrad.checkpoint import write_atomically  # noqa: E402
from report import cpu_name, write_section  # noqa: E402

BEGIN, END = "<!-- overhead:begin -->", "<!-- overhead:end -->"


def chain(lib, x):
    """20 small elementwise ops, a sum and a backward: a tiny model's step, all overhead."""
    y = x
    for _ in range(4):
        y = (y * 1.5 + x).tanh() * y - x  # 5 ops a turn
    y.sum().backward()


def rows(lib, functional):
    """(name, function to time) for one library: ``lib`` is minigrad or torch, ``functional``
    its functional module."""
    gen = np.random.default_rng(0)

    def t(*shape, grad=False):
        return lib.tensor(gen.standard_normal(shape).astype(np.float32), requires_grad=grad)
    a, b = t(4, 4), t(4, 4)
    ga, gb = t(4, 4, grad=True), t(4, 4, grad=True)
    img, w = t(1, 2, 5, 5, grad=True), t(3, 2, 3, 3, grad=True)

    def forward_backward(f):
        def run():
            f().sum().backward()
        return run
    return [
        ("a + b, 4×4, no grad", lambda: a + b),
        ("20 ops + sum + backward, 4×4", lambda: chain(lib, ga)),
        ("add, forward + backward", forward_backward(lambda: ga + gb)),
        ("mul, forward + backward", forward_backward(lambda: ga * gb)),
        ("matmul, forward + backward", forward_backward(lambda: ga @ gb)),
        ("relu, forward + backward", forward_backward(lambda: functional.relu(ga))),
        ("sum, forward + backward", forward_backward(lambda: ga.sum(0))),
        ("conv2d 1×2×5×5 ⊛ 3×2×3×3, forward", lambda: functional.conv2d(img.detach(), w.detach())),
        ("conv2d, forward + backward", forward_backward(lambda: functional.conv2d(img, w))),
    ]


def per_call(fn, calls):
    """Seconds of this thread's CPU time per call: both libraries run on this one thread, and
    CPU time leaves out the moments another process holds the core (a shared machine's noise)."""
    start = time.thread_time()
    for _ in range(calls):
        fn()
    return (time.thread_time() - start) / calls


def measure(ours, theirs, rounds, seconds_per_round):
    """Per-call seconds of both (alternating who goes first) and the per-round ratios."""
    # a first call of each before the calls per round are sized: the conv rows' first call
    # loads the compiled kernels (Numba's cache, ~0.2 s), which sized their rounds at one call
    ours(), theirs()
    calls = max(1, int(seconds_per_round / max(per_call(ours, 3), 1e-7)))
    ours_times, theirs_times, ratios = [], [], []
    for r in range(rounds):
        if r % 2:
            b_time, a_time = per_call(theirs, calls), per_call(ours, calls)
        else:
            a_time, b_time = per_call(ours, calls), per_call(theirs, calls)
        ours_times.append(a_time)
        theirs_times.append(b_time)
        ratios.append(a_time / b_time)
    return {"minigrad_us": statistics.median(ours_times) * 1e6, "torch_us": statistics.median(theirs_times) * 1e6,
            "ratio": statistics.median(ratios), "ratio_low": min(ratios), "ratio_high": max(ratios)}


def table(results):
    lines = ["| row | minigrad µs | PyTorch µs | minigrad / PyTorch (lowest–highest round) |",
             "|---|---|---|---|"]
    for name, r in results.items():
        lines.append(f"| {name} | {r['minigrad_us']:.1f} | {r['torch_us']:.1f} | "
                     f"**{r['ratio']:.2f}×** ({r['ratio_low']:.2f}–{r['ratio_high']:.2f}) |")
    return "\n".join(lines)


def machine():
    """What the reader needs to compare two runs: date, processor, cores, versions, commit."""
    import torch
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True, timeout=10).stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        commit = "unknown"
    return {"when": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "cpu": cpu_name() or platform.processor() or platform.machine(), "cores": os.cpu_count(),
            "python": platform.python_version(),
            "numpy": np.__version__, "torch": torch.__version__, "commit": commit}


def history_table(runs, names):
    """One line per run: when, where, the load, and each row's ratio with its spread."""
    lines = ["| run | machine | load | " + " | ".join(names) + " |",
             "|---|---|---|" + "---|" * len(names)]
    for run in runs:
        m = run["machine"]
        rows = run["rows"]
        cells = [f"{rows[n]['ratio']:.2f} ({rows[n]['ratio_low']:.2f}–{rows[n]['ratio_high']:.2f})"
                 if n in rows else "—" for n in names]
        label = f"{m['when']}, {m['commit']}" + (f": {run['label']}" if run.get("label") else "")
        lines.append(f"| {label} | {m['cpu']} ({m['cores']} cores) | {run['load']:.2f} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def run_row(index, rounds, seconds):
    """Measure row ``index`` in this process (a worker started by ``main``)."""
    import torch
    torch.set_num_threads(1)  # tiny tensors: both libraries on one thread, no pool wake-ups
    (name, ours), (_, theirs) = rows(mg, mg.functional)[index], rows(torch, torch.nn.functional)[index]
    return name, measure(ours, theirs, rounds, seconds)


def worker_row(index, rounds):
    """Row ``index`` measured in a fresh interpreter: (name, its numbers)."""
    worker = subprocess.run([sys.executable, __file__, "--row", str(index), "--rounds", str(rounds)],
                            capture_output=True, text=True)
    if worker.returncode:
        sys.exit(f"overhead.py: row {index} failed:\n{worker.stderr.strip()}")
    name, numbers = json.loads(worker.stdout.strip().splitlines()[-1])
    return name, numbers


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few short rounds, printed only")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--label", default="", help="a few words naming this run in the history")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--results", default=ROOT / "benchmarks" / "results" / "overhead-cpu.json")
    parser.add_argument("--docs", default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--row", type=int, help=argparse.SUPPRESS)  # a worker: one row, JSON on stdout
    args = parser.parse_args(argv)
    try:
        import torch  # noqa: F401
    except ImportError:
        sys.exit("overhead.py compares with PyTorch: pip install torch==2.13.0 (a CPU build) and run it again")
    rounds, seconds = (3, 0.02) if args.quick else (args.rounds, 0.2)
    if args.row is not None:
        print(json.dumps(run_row(args.row, rounds, seconds)))
        return None
    results = {}
    for index in range(len(rows(mg, mg.functional))):
        # --quick (the smoke run CI makes) stays in this process: nine interpreters with
        # PyTorch loaded would take longer than the rounds themselves
        name, r = run_row(index, rounds, seconds) if args.quick else worker_row(index, rounds)
        results[name] = r
        print(f"{name:38s} minigrad {r['minigrad_us']:8.1f} µs   torch {r['torch_us']:7.1f} µs   "
              f"ratio {r['ratio']:.2f} ({r['ratio_low']:.2f}–{r['ratio_high']:.2f})", flush=True)
    if args.quick or args.no_write:
        return results
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    run = {"machine": machine(), "load": load, "label": args.label, "rounds": rounds, "rows": results}
    path = Path(args.results)
    runs = json.loads(path.read_text())["runs"] if path.exists() else []
    runs.append(run)
    m = run["machine"]
    header = (f"Measured {m['when']} on {m['cpu']} ({m['cores']} cores, load average {load:.2f} at the "
              f"end), Python {m['python']}, NumPy {m['numpy']}, PyTorch {m['torch']}, one thread each, "
              f"commit {m['commit']}; {rounds} alternating rounds of ~0.2 s per library per row, each row "
              f"in its own process. `python benchmarks/overhead.py`.")
    history = ("Every recorded run, minigrad / PyTorch per row (lowest–highest round); the newest last:")
    write_section(args.docs, BEGIN, END, header + "\n\n" + table(results) + "\n\n" + history + "\n\n"
                  + history_table(runs, list(results)), heading="Per-op overhead")
    write_atomically(path, json.dumps({"runs": runs}, indent=1))
    return results


if __name__ == "__main__":
    main()
