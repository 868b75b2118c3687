"""One training step of the benchmark CNN, minigrad beside PyTorch, in one process.

    python benchmarks/cnn_step.py                      # N = 32 and 128, with and without BN
    python benchmarks/cnn_step.py --batch 128 --rounds 30 --profile

The network is the CaffeNet-style CIFAR CNN of the kernels issue: conv 3→32 k5 p2,
ReLU, maxpool 2; conv 32→32 k5 p2, ReLU, maxpool 2; conv 32→64 k5 p2, ReLU, maxpool 2;
conv 64→64 k3 p1, ReLU; flatten; linear 1024→10; softmax cross-entropy; SGD lr 0.01
(``--bn`` puts a BatchNorm2d after every convolution). A step is forward, loss,
backward and update. The two libraries start from the same weights (copied by
state_dict name) and take turns, one step each per round, so a drift in the
machine's speed hits both alike; we report medians and the ratio of medians.

Results go to ``benchmarks/results/cnn_step-<device>.json`` and to the marked
section of ``docs/benchmarks.md`` (``--no-write`` to only print).
"""
import argparse
import cProfile
import datetime
import io
import json
import os
import platform
import pstats
import statistics
import sys
import time
from pathlib import Path

import numpy as np

import minigrad as mg
import minigrad.functional as F
from minigrad import nn, optim
from minigrad.checkpoint import write_atomically
# benchmarks/ is on sys.path: this file runs as a script
from report import cpu_name, write_section
from workloads import caffenet_layers

ROOT = Path(__file__).resolve().parent.parent


def minigrad_step(model, opt, x, y):
    loss = F.cross_entropy(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss.item()


def torch_step(torch, model, opt, x, y):
    loss = torch.nn.functional.cross_entropy(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss.item()


def sync(device):
    if device == "cuda":
        import cupy
        cupy.cuda.get_current_stream().synchronize()


def timed(fn, device):
    sync(device)
    start = time.perf_counter()
    value = fn()
    sync(device)
    return time.perf_counter() - start, value


def run_case(torch, n, bn, rounds, warmup, device, threads):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 3, 32, 32)).astype(np.float32)
    y = rng.integers(0, 10, n)
    mg.manual_seed(0)
    ours = nn.Sequential(caffenet_layers(nn, bn=bn, conv3_kernel=5))
    ours_opt = optim.SGD(ours.parameters(), lr=0.01)
    xm, ym = mg.tensor(x, device=device), mg.tensor(y, device=device)
    if device == "cuda":
        ours.to("cuda")
    row = {"batch": n, "batchnorm": bn}
    ours_fn = lambda: minigrad_step(ours, ours_opt, xm, ym)  # noqa: E731
    fns = {"minigrad": ours_fn}
    if torch is not None:
        torch.set_num_threads(threads)
        tdev = "cuda" if device == "cuda" else "cpu"
        theirs = torch.nn.Sequential(caffenet_layers(torch.nn, bn=bn, conv3_kernel=5)).to(tdev)
        theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
        theirs_opt = torch.optim.SGD(theirs.parameters(), lr=0.01)
        xt, yt = torch.from_numpy(x).to(tdev), torch.from_numpy(y).to(tdev)
        fns["pytorch"] = lambda: torch_step(torch, theirs, theirs_opt, xt, yt)
    times = {name: [] for name in fns}
    first_loss = {}
    for r in range(warmup + rounds):
        for name, fn in fns.items():
            seconds, loss = timed(fn, device)
            first_loss.setdefault(name, loss)
            if r >= warmup:
                times[name].append(seconds)
    for name, ts in times.items():
        row[f"{name}_median_s"] = statistics.median(ts)
        row[f"{name}_min_s"] = min(ts)
        row[f"{name}_first_loss"] = first_loss[name]
    if torch is not None:
        row["ratio"] = row["minigrad_median_s"] / row["pytorch_median_s"]
        # same weights, same batch: the first losses must agree, or we are timing different work
        assert abs(first_loss["minigrad"] - first_loss["pytorch"]) < 1e-3 * max(1.0, abs(first_loss["pytorch"])), first_loss
    return row, ours_fn


def profile(fn, steps=10):
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(steps):
        fn()
    prof.disable()
    text = io.StringIO()
    pstats.Stats(prof, stream=text).sort_stats("tottime").print_stats(15)
    return text.getvalue()


def machine(torch, device):
    facts = {"date": datetime.date.today().isoformat(), "python": platform.python_version(),
             "cpu": cpu_name() or platform.processor() or platform.machine(), "cores": os.cpu_count(),
             "numpy": np.__version__, "minigrad": mg.__version__}
    import numba
    facts["numba"] = numba.__version__
    if torch is not None:
        facts["torch"] = torch.__version__
    if device == "cuda":
        import cupy
        facts["gpu"] = cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()
        facts["cupy"] = cupy.__version__
    return facts


def markdown(facts, rows, device):
    lines = [f"Measured {facts['date']} on {facts.get('gpu', facts['cpu'])} ({facts['cores']} cores), "
             f"Python {facts['python']}, NumPy {facts['numpy']}, Numba {facts['numba']}, "
             f"PyTorch {facts.get('torch', 'absent')}; `python benchmarks/cnn_step.py --device {device}`.", "",
             "| batch | BN | minigrad s/step | PyTorch s/step | minigrad / PyTorch |",
             "|---|---|---|---|---|"]
    for r in rows:
        theirs = f"{r['pytorch_median_s']:.4f}" if "pytorch_median_s" in r else "—"
        ratio = f"**{r['ratio']:.2f}**" if "ratio" in r else "—"
        lines.append(f"| {r['batch']} | {'yes' if r['batchnorm'] else 'no'} | {r['minigrad_median_s']:.4f} | "
                     f"{theirs} | {ratio} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, nargs="+", default=[32, 128])
    parser.add_argument("--bn", choices=["no", "yes", "both"], default="both")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="PyTorch's intra-op threads")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--profile", action="store_true", help="cProfile ten minigrad steps of each case")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    try:
        import torch
    except ImportError:
        torch = None
        print("PyTorch is not installed: timing minigrad alone (pip install torch for the ratios)", file=sys.stderr)
    bns = {"no": [False], "yes": [True], "both": [False, True]}[args.bn]
    rows = []
    for bn in bns:
        for n in args.batch:
            row, fn = run_case(torch, n, bn, args.rounds, args.warmup, args.device, args.threads)
            rows.append(row)
            ratio = f"  ratio {row['ratio']:.2f}" if "ratio" in row else ""
            theirs = f"  pytorch {row['pytorch_median_s']:.4f}s" if "pytorch_median_s" in row else ""
            print(f"N={n:4d} bn={'yes' if bn else 'no '}  minigrad {row['minigrad_median_s']:.4f}s{theirs}{ratio}",
                  flush=True)
            if args.profile:
                print(profile(fn))
    facts = machine(torch, args.device)
    if not args.no_write:
        results = ROOT / "benchmarks" / "results" / f"cnn_step-{args.device}.json"
        write_atomically(results, json.dumps({"machine": facts, "rows": rows}, indent=2) + "\n")
        write_section(ROOT / "docs" / "benchmarks.md", f"<!-- cnn_step:{args.device} -->",
                      f"<!-- /cnn_step:{args.device} -->", markdown(facts, rows, args.device),
                      heading=f"Training step of the benchmark CNN ({args.device})")
    print(markdown(facts, rows, args.device))


if __name__ == "__main__":
    main()
