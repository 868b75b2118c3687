"""Time our convolution kernels on the benchmark CNN's four conv layers, beside PyTorch.

    python benchmarks/conv_layers.py [--batch 128] [--rounds 7] [--faces cpu,reference]

For each layer (N=128, float32): forward, backward_data (not for the first layer, whose
input needs no gradient in training) and backward_weight, for each face, then
PyTorch's conv2d forward + backward on the same shapes; rounds alternate between
them in one process and the medians are printed. Two clocks: wall time, and this
thread's CPU time (``time.thread_time``), which on a shared machine is far steadier,
and is the fair measure when BLAS is limited to one thread (``OPENBLAS_NUM_THREADS=1``
set before Python starts; PyTorch is then given one thread too). The cpu face splits
the batch over ``kernels.cpu_threads``' threads, whose CPU time this thread's clock does
not see: add ``MINIGRAD_CPU_THREADS=1`` for the thread-CPU column to mean anything.
"""
import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from kernels.conv import cpu, reference  # noqa: E402

# (C_in, C_out, H = W, kernel, padding), stride 1
LAYERS = [(3, 32, 32, 5, 2), (32, 32, 16, 5, 2), (32, 64, 8, 5, 2), (64, 64, 4, 3, 1)]


def one_pass(face_module, arrays, clock):
    """Seconds spent in each layer's three kernels, on ``clock``."""
    spent = 0.0
    for first, (x, w, b, gy, padding) in zip([True, False, False, False], arrays):
        start = clock()
        face_module.forward(x, w, b, (1, 1), padding)
        if not first:
            face_module.backward_data(gy, w, x.shape, (1, 1), padding)
        face_module.backward_weight(gy, x, w.shape, (1, 1), padding)
        spent += clock() - start
    return spent


def torch_pass(torch, tensors, clock):
    spent = 0.0
    for first, (x, w, b, gy, padding) in zip([True, False, False, False], tensors):
        x.requires_grad_(not first)
        start = clock()
        torch.nn.functional.conv2d(x, w, b, padding=padding).backward(gy)
        spent += clock() - start
        w.grad = b.grad = x.grad = None
    return spent


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--faces", default="cpu")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    arrays = [(rng.standard_normal((args.batch, c_in, hw, hw), dtype=np.float32),
               rng.standard_normal((c_out, c_in, k, k), dtype=np.float32),
               rng.standard_normal(c_out, dtype=np.float32),
               rng.standard_normal((args.batch, c_out, hw, hw), dtype=np.float32), (p, p))
              for c_in, c_out, hw, k, p in LAYERS]
    faces = {name: {"cpu": cpu, "reference": reference}[name] for name in args.faces.split(",")}
    runs = {name: (lambda m=m, clock=time.perf_counter: one_pass(m, arrays, clock)) for name, m in faces.items()}
    try:
        import torch
        if os.environ.get("OPENBLAS_NUM_THREADS") == "1":
            torch.set_num_threads(1)
        tensors = [tuple(torch.from_numpy(a).requires_grad_() for a in (x, w, b)) + (torch.from_numpy(gy), p)
                   for x, w, b, gy, p in arrays]
        runs["torch"] = lambda clock=time.perf_counter: torch_pass(torch, tensors, clock)
    except ImportError:
        print("PyTorch is not installed: timing our faces only")
    clocks = {"wall": time.perf_counter, "thread cpu": time.thread_time}
    times = {(name, c): [] for name in runs for c in clocks}
    for run in runs.values():  # warm up: Numba compiles or loads its cache, PyTorch picks algorithms
        run()
    for _ in range(args.rounds):
        for name, run in runs.items():
            for c, clock in clocks.items():
                times[name, c].append(run(clock=clock))
    print(f"conv layers of the benchmark CNN, N={args.batch}, float32, "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}; medians of {args.rounds} rounds")
    for name in runs:
        line = ", ".join(f"{c} {1e3 * np.median(times[name, c]):.1f} ms" for c in clocks)
        print(f"  {name:10s} {line}")
    if "torch" in runs and "cpu" in runs:
        for c in clocks:
            print(f"  cpu face / PyTorch ({c}): {np.median(times['cpu', c]) / np.median(times['torch', c]):.2f}")


if __name__ == "__main__":
    main()
