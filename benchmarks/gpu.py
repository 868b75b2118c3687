"""The whole GPU check in one command, for a machine with an NVIDIA GPU, CuPy and a CUDA
build of PyTorch:

    python benchmarks/gpu.py              # at most 9 minutes; writes the GPU section of docs/benchmarks.md
    python benchmarks/gpu.py --dry-run    # every step tiny, on the CPU: proves the script itself

Five steps, each in its own Python process with its own time limit, so one that fails
or hangs is reported and the others still run:

``tests``   the CUDA face's tests (``tests/cuda``) on real CuPy arrays.
``kernels`` each kernel family (conv, pool, ReLU, batch norm; forward and backward)
            timed beside PyTorch's kernels (cuDNN where PyTorch uses it) on the benchmark
            CNN's layer shapes at batch 128, and the memory-bound kernels' bytes per
            second beside a plain device-to-device copy (the most any kernel that reads
            and writes each byte once can reach).
``step``    the benchmark CNN's training step (``benchmarks/cnn_step.py``) beside PyTorch
            at batch 64, 128 and 256, with and without batch norm; at batch 256 also with
            the forward's im2col columns kept for gW and without (time and CuPy's pool).
``launch``  the host's work per kernel launch in the benchmark CNN's step at batch 64
            (``benchmarks/launch_overhead.py``): host microseconds and function calls
            per call of each kernel entry point, the device synchronised outside the timing.
``demo``    ``python -m admm demo --device cuda``, the default demo, to the end.

The results go to the marked section ``<!-- gpu -->`` of docs/benchmarks.md (with the
device, driver, CUDA, CuPy, numba-cuda and PyTorch versions and the date) and to
``benchmarks/results/gpu.json``.

``--dry-run`` runs the same steps at tiny sizes with one repetition (the tests step only
collects tests/cuda, which the test suite runs under the simulator): the kernels under
Numba's CUDA simulator on the CuPy stand-in of ``tests/standin`` (on NumPy arrays where
that folder is absent), PyTorch on the CPU, the CNN step on the CPU, a demo of a few
iterations. It writes to a scratch file (``--doc``), never to docs/, and CI runs it
(``tests/test_gpu_benchmark.py``), so the first real run cannot fail for a trivial reason.
"""
import argparse
import datetime
import importlib.metadata
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]
STANDIN = ROOT / "tests" / "standin"
BEGIN, END = "<!-- gpu -->", "<!-- /gpu -->"
# seconds; together 9 minutes, under the 10 minutes a lent GPU machine gives one command
LIMITS = {"tests": 120, "kernels": 110, "step": 140, "launch": 50, "demo": 120}
DRY_LIMITS = {"tests": 300, "kernels": 300, "step": 120, "launch": 120, "demo": 300}  # the simulator on a shared CPU
TINY_DEMO = ["--quick", "--quiet", "--arch", "mlp", "--iters", "2", "--batch", "8", "--train-limit", "32",
             "--test-limit", "16", "--eval-every", "1"]


# --- the environment each step runs in ----------------------------------------------------


def step_environment(dry_run):
    """The real run: the environment as it is (CuPy, a GPU). The dry run: Numba's CUDA
    simulator, and the CuPy stand-in first on the path where the repository has it."""
    env = dict(os.environ)
    paths = [str(ROOT)] + ([str(STANDIN)] if dry_run and STANDIN.is_dir() else [])
    env["PYTHONPATH"] = os.pathsep.join(paths[::-1] + [p for p in [env.get("PYTHONPATH")] if p])
    if dry_run:
        env["NUMBA_ENABLE_CUDASIM"] = "1"
        env["MINIGRAD_QUICK"] = "1"
    return env


def run_step(name, dry_run, limit, scratch):
    """Run ``gpu.py --step name`` in a fresh process; its JSON result, or a failure record."""
    out = Path(scratch) / f"{name}.json"
    command = [sys.executable, str(Path(__file__).resolve()), "--step", name, "--result", str(out)]
    if dry_run:
        command.append("--dry-run")
    start = time.perf_counter()
    try:
        run = subprocess.run(command, cwd=ROOT, env=step_environment(dry_run), capture_output=True, text=True,
                             timeout=limit)
    except subprocess.TimeoutExpired as expired:
        tail = (expired.stdout or b"")[-2000:]
        return {"status": f"timed out after {limit} s", "tail": tail.decode(errors="replace")
                if isinstance(tail, bytes) else tail}
    seconds = time.perf_counter() - start
    if run.returncode != 0 or not out.exists():
        return {"status": f"failed (exit {run.returncode})", "seconds": seconds,
                "tail": (run.stdout[-1500:] + run.stderr[-2500:])}
    result = json.loads(out.read_text())
    result.setdefault("status", "ok")
    result["seconds"] = seconds
    return result


# --- timing ---------------------------------------------------------------------------------


def synchronizer(array):
    """A function that waits until the device has finished the work queued so far on
    ``array``'s device: a timer must not stop while the GPU is still computing."""
    if hasattr(array, "is_cuda"):  # a torch tensor
        import torch
        return torch.cuda.synchronize if array.is_cuda else (lambda: None)
    from kernels import face
    if face.is_cupy(array):
        return lambda: face.cupy.cuda.get_current_stream().synchronize()
    return lambda: None


def seconds_per_call(fn, sync, dry_run):
    """The best of three means over 20 calls, after two warm-up calls (the first call of
    a Numba kernel compiles it; cuDNN picks its algorithm). One call in a dry run."""
    warmup, trials, repeats = (0, 1, 1) if dry_run else (2, 3, 20)
    for _ in range(warmup):
        fn()
    sync()
    best = math.inf
    for _ in range(trials):
        start = time.perf_counter()
        for _ in range(repeats):
            fn()
        sync()
        best = min(best, (time.perf_counter() - start) / repeats)
    return best


# --- step: tests ------------------------------------------------------------------------------


def step_tests(dry_run):
    """tests/cuda with MINIGRAD_FACE=cuda: real CuPy on a GPU. The dry run only collects them
    (``--collect-only``): the test suite runs them under the simulator already
    (tests/test_cuda_face.py), and collecting proves the command and the folder."""
    env = dict(os.environ, MINIGRAD_FACE="cuda")
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          *(["--collect-only"] if dry_run else []), str(ROOT / "tests" / "cuda")],
                         cwd=ROOT, env=env, capture_output=True, text=True)
    summary = (run.stdout.strip().splitlines() or ["(no output)"])[-1]
    return {"status": "ok" if run.returncode == 0 else f"failed (exit {run.returncode})", "summary": summary,
            "tail": run.stdout[-3000:] if run.returncode else ""}


# --- step: kernels ----------------------------------------------------------------------------


def kernel_cases(dry_run):
    """Shapes (the benchmark CNN's, batch 128; tiny in the dry run): conv2's input and
    weight, the input of the first pooling, ReLU and batch norm."""
    if dry_run:
        return {"conv_x": (1, 2, 4, 4), "conv_w": (2, 2, 3, 3), "padding": 1, "act": (1, 2, 4, 4)}
    return {"conv_x": (128, 32, 16, 16), "conv_w": (32, 32, 5, 5), "padding": 2, "act": (128, 32, 32, 32)}


def kernel_pairs(torch, device, shapes):
    """[(family, op, ours, theirs or None, bytes moved or None)]: ``ours`` runs minigrad's
    kernel on device arrays, ``theirs`` PyTorch's on the same numbers; the bytes are those
    a memory-bound kernel must read and write at least (for the bandwidth table)."""
    import kernels.batchnorm as bn
    import kernels.conv as conv
    import kernels.pool as pool
    import kernels.relu as relu

    rng = np.random.default_rng(0)
    host = {name: rng.standard_normal(shape).astype(np.float32) for name, shape in
            [("x", shapes["conv_x"]), ("w", shapes["conv_w"]), ("a", shapes["act"])]}
    p = shapes["padding"]
    y_shape = conv.forward(host["x"], host["w"], None, 1, p).shape
    host["gy"] = rng.standard_normal(y_shape).astype(np.float32)
    host["ga"] = rng.standard_normal(shapes["act"]).astype(np.float32)
    pooled = pool.max_forward(host["a"], 2)[0].shape
    host["gp"] = rng.standard_normal(pooled).astype(np.float32)
    c = shapes["act"][1]
    host["gamma"], host["beta"] = np.ones(c, np.float32), np.zeros(c, np.float32)
    d = {k: on_device(v) for k, v in host.items()}
    _, argmax = pool.max_forward(d["a"], 2)
    mean, var = bn.statistics(d["a"])
    y_relu = relu.forward(d["a"])
    n_act = host["a"].size * 4  # bytes of one activation-sized float32 array
    ours = [
        ("conv", "forward", lambda: conv.forward(d["x"], d["w"], None, 1, p), None),
        ("conv", "backward_data", lambda: conv.backward_data(d["gy"], d["w"], host["x"].shape, 1, p), None),
        ("conv", "backward_weight", lambda: conv.backward_weight(d["gy"], d["x"], host["w"].shape, 1, p), None),
        ("pool", "max forward", lambda: pool.max_forward(d["a"], 2), n_act * (1 + 1 / 4 + 2 / 4)),
        ("pool", "max backward", lambda: pool.max_backward(d["gp"], argmax, host["a"].shape, 2),
         n_act * (1 + 1 / 4 + 2 / 4)),
        ("pool", "avg forward", lambda: pool.avg_forward(d["a"], 2), n_act * (1 + 1 / 4)),
        ("pool", "avg backward", lambda: pool.avg_backward(d["gp"], host["a"].shape, 2), n_act * (1 + 1 / 4)),
        ("relu", "forward", lambda: relu.forward(d["a"]), 2 * n_act),
        ("relu", "backward", lambda: relu.backward(d["ga"], y_relu), 3 * n_act),
        ("batchnorm", "statistics", lambda: bn.statistics(d["a"]), n_act),
        ("batchnorm", "normalize", lambda: bn.normalize(d["a"], mean, var, d["gamma"], d["beta"]), 2 * n_act),
        ("batchnorm", "backward", lambda: bn.backward(d["ga"], d["a"], mean, var, d["gamma"]), 3 * n_act),
    ]
    theirs = {}
    if torch is not None:
        F = torch.nn.functional
        t = {k: torch.from_numpy(v).to(device) for k, v in host.items()}
        _, t_idx = F.max_pool2d(t["a"], 2, return_indices=True)
        t_var, t_mean = torch.var_mean(t["a"], dim=(0, 2, 3), unbiased=False)
        t_invstd = 1 / torch.sqrt(t_var + 1e-5)
        t_relu = torch.relu(t["a"])
        aten = torch.ops.aten
        theirs = {
            ("conv", "forward"): lambda: F.conv2d(t["x"], t["w"], None, 1, p),
            ("conv", "backward_data"): lambda: torch.nn.grad.conv2d_input(t["x"].shape, t["w"], t["gy"], 1, p),
            ("conv", "backward_weight"): lambda: torch.nn.grad.conv2d_weight(t["x"], t["w"].shape, t["gy"], 1, p),
            ("pool", "max forward"): lambda: F.max_pool2d(t["a"], 2, return_indices=True),
            ("pool", "max backward"): lambda: aten.max_pool2d_with_indices_backward(
                t["gp"], t["a"], [2, 2], [2, 2], [0, 0], [1, 1], False, t_idx),
            ("pool", "avg forward"): lambda: F.avg_pool2d(t["a"], 2),
            ("pool", "avg backward"): lambda: aten.avg_pool2d_backward(
                t["gp"], t["a"], [2, 2], [2, 2], [0, 0], False, True, None),
            ("relu", "forward"): lambda: torch.relu(t["a"]),
            ("relu", "backward"): lambda: aten.threshold_backward(t["ga"], t_relu, 0),
            ("batchnorm", "statistics"): lambda: torch.var_mean(t["a"], dim=(0, 2, 3), unbiased=False),
            ("batchnorm", "normalize"): lambda: F.batch_norm(t["a"], t_mean, t_var, t["gamma"], t["beta"], False),
            ("batchnorm", "backward"): lambda: aten.native_batch_norm_backward(
                t["ga"], t["a"], t["gamma"], None, None, t_mean, t_invstd, True, 1e-5, [True, True, True]),
        }
    return [(family, op, fn, theirs.get((family, op)), nbytes) for family, op, fn, nbytes in ours], d["a"], \
        (t["a"] if torch is not None else None)


def on_device(array):
    """``array`` on the GPU (CuPy, or the stand-in in a dry run); with no CuPy at all (a dry
    run without tests/standin) a NumPy array that the cuda face runs on under the simulator."""
    from kernels import face
    if face.cupy is None:
        os.environ["MINIGRAD_FACE"] = "cuda"
        return np.ascontiguousarray(array)
    return face.cupy.asarray(array)


def copy_bandwidth(like, sync, dry_run):
    """Bytes per second of a device-to-device copy (read n bytes, write n): what a
    memory-bound kernel can reach at most."""
    from kernels import face
    xp = face.xp(like)
    n = (1 << 12) if dry_run else (256 << 20) // 4
    src = xp.ones(n, dtype=np.float32)
    dst = xp.empty_like(src)

    def copy():
        dst[...] = src

    return 2 * src.nbytes / seconds_per_call(copy, sync, dry_run)


def step_kernels(dry_run):
    torch = optional_torch()
    device = "cuda" if torch is not None and torch.cuda.is_available() and not dry_run else "cpu"
    pairs, ours_like, theirs_like = kernel_pairs(torch, device, kernel_cases(dry_run))
    sync_ours = synchronizer(ours_like)
    sync_theirs = synchronizer(theirs_like) if theirs_like is not None else (lambda: None)
    bandwidth = copy_bandwidth(ours_like, sync_ours, dry_run)
    rows = []
    for family, op, ours, theirs, nbytes in pairs:
        row = {"family": family, "op": op, "minigrad_s": seconds_per_call(ours, sync_ours, dry_run)}
        if theirs is not None:
            row["pytorch_s"] = seconds_per_call(theirs, sync_theirs, dry_run)
        if nbytes is not None:
            row["bytes_per_s"] = nbytes / row["minigrad_s"]
            row["of_copy"] = row["bytes_per_s"] / bandwidth
        rows.append(row)
    return {"rows": rows, "copy_bytes_per_s": bandwidth, "pytorch_device": device,
            "shapes": {k: list(v) if isinstance(v, tuple) else v for k, v in kernel_cases(dry_run).items()}}


# --- step: the CNN's training step ------------------------------------------------------------


def step_cnn(dry_run):
    """benchmarks/cnn_step.py's case at batch 64/128/256 (batch 2 on the CPU in the dry run:
    the simulator would take minutes for one step)."""
    import cnn_step
    torch = optional_torch()
    if dry_run:
        device, batches, bns, rounds, warmup = "cpu", [2], [False], 1, 0
    else:
        device, batches, bns, rounds, warmup = "cuda", [64, 128, 256], [False, True], 20, 3
        if torch is not None and not torch.cuda.is_available():
            print("PyTorch was built without CUDA: timing minigrad alone", file=sys.stderr)
            torch = None
    rows = []
    for bn in bns:
        for n in batches:
            row, _ = cnn_step.run_case(torch, n, bn, rounds, warmup, device, threads=1)
            rows.append(row)
    keep = []
    for choice in ("0", "1"):  # the forward's im2col columns rebuilt for gW, or kept
        os.environ["MINIGRAD_CONV_KEEP_COLUMNS"] = choice
        pool = free_pool(device)
        row, _ = cnn_step.run_case(None, batches[-1], False, rounds, warmup, device, threads=1)
        row["keep_columns"] = choice == "1"
        row["pool_bytes"] = pool.total_bytes() if pool is not None else None
        keep.append(row)
    return {"rows": rows, "keep_columns": keep, "device": device}


# --- step: the host's work per kernel launch ----------------------------------------------------


def step_launch(dry_run):
    """benchmarks/launch_overhead.py at batch 64, with and without batch norm (batch 2 with
    the launches stubbed in the dry run, where the simulator would run the kernels)."""
    import launch_overhead
    batch, image, rounds = (2, 16, 1) if dry_run else (64, 32, 20)
    results = [launch_overhead.measure(batch, image, bn, rounds) for bn in (False, True)]
    return {"results": results, "markdown": "\n\n".join(launch_overhead.markdown(r) for r in results)}


def free_pool(device):
    """CuPy's memory pool emptied (so its size afterwards is the step's peak), or None."""
    if device != "cuda":
        return None
    import cupy
    pool = cupy.get_default_memory_pool()
    pool.free_all_blocks()
    return pool


# --- step: the demo ---------------------------------------------------------------------------


def step_demo(dry_run):
    """The default demo on the GPU; in the dry run a few iterations of the small MLP split, on
    the stand-in's device (on the CPU where there is no stand-in)."""
    from kernels import face
    device = "cuda" if face.cupy is not None or not dry_run else "cpu"
    args = ["--device", device] + (TINY_DEMO if dry_run else [])
    out = Path(tempfile.mkdtemp(prefix="minigrad-gpu-demo-")) / "run"
    command = [sys.executable, "-m", "admm", "demo", *args, "--out", str(out)]
    start = time.perf_counter()
    run = subprocess.run(command, cwd=ROOT, env=dict(os.environ), capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if run.returncode != 0:
        return {"status": f"failed (exit {run.returncode})", "tail": run.stdout[-1500:] + run.stderr[-2500:]}
    summary = json.loads((out / "summary.json").read_text())
    keys = ("device", "single_test_acc", "dual_test_acc", "frozen_net1_test_acc")
    return {"command": " ".join(["python", "-m", "admm", "demo", *args]),
            "demo_seconds": seconds, "summary": {k: summary.get(k) for k in keys}}


# --- facts and the report ---------------------------------------------------------------------


def optional_torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


def version(package):
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "absent"


def facts(dry_run):
    """Device, driver and versions, asked of the libraries (nvidia-smi for the driver's release)."""
    out = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
           "python": platform.python_version(), "numpy": np.__version__, "numba": version("numba"),
           "numba-cuda": version("numba-cuda"), "cupy": "absent", "torch": "absent"}
    try:
        import cupy
        runtime = cupy.cuda.runtime
        out["cupy"] = cupy.__version__
        out["device"] = runtime.getDeviceProperties(0)["name"].decode()
        out["cuda_driver_api"] = runtime.driverGetVersion()
        out["cuda_runtime"] = runtime.runtimeGetVersion()
    except Exception as error:  # no CuPy, or no GPU: say so in the report
        out["device"] = f"none ({type(error).__name__}: {error})"
    try:
        smi = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=30)
        out["driver"] = smi.stdout.strip().splitlines()[0] if smi.returncode == 0 and smi.stdout.strip() else "unknown"
    except (OSError, subprocess.TimeoutExpired):
        out["driver"] = "unknown (no nvidia-smi)"
    torch = optional_torch()
    if torch is not None:
        out["torch"] = torch.__version__
        out["torch_cuda"] = torch.version.cuda or "none (a CPU build)"
        out["cudnn"] = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else "none"
    if dry_run:  # this process has neither CuPy nor the stand-in: the steps had the stand-in
        out["device"] = "a dry run on the CPU (the CuPy stand-in and Numba's CUDA simulator)"
    return out


def ms(seconds):
    return f"{seconds * 1e3:.3f}"


def cuda_version(code):
    return f"{code // 1000}.{code % 1000 // 10}" if isinstance(code, int) else "?"


def markdown(info, results, dry_run):
    lines = [f"Measured {info['date']} on **{info['device']}**, driver {info.get('driver', '?')}, "
             f"CUDA {cuda_version(info.get('cuda_driver_api'))} (driver API) / "
             f"{cuda_version(info.get('cuda_runtime'))} (runtime), CuPy {info['cupy']}, numba-cuda "
             f"{info['numba-cuda']} (Numba {info['numba']}), PyTorch {info['torch']} (CUDA "
             f"{info.get('torch_cuda', '—')}, cuDNN {info.get('cudnn', '—')}), NumPy {info['numpy']}, "
             f"Python {info['python']}; `python benchmarks/gpu.py{' --dry-run' if dry_run else ''}`.", ""]
    lines.append("| step | status | seconds |")
    lines.append("|---|---|---|")
    for name, r in results.items():
        seconds = f"{r['seconds']:.0f}" if "seconds" in r else "—"
        lines.append(f"| {name} | {r['status']} | {seconds} |")
    tests = results["tests"]
    if "summary" in tests:
        which = "collected only, on the stand-in" if dry_run else "real CuPy"
        lines += ["", f"CUDA face tests (`tests/cuda`, {which}): {tests['summary']}"]
    kernels = results["kernels"]
    if kernels.get("rows"):
        lines += ["", f"Kernels, float32, ms per call (minigrad's launched from Python; PyTorch on "
                      f"{kernels['pytorch_device']}); shapes {kernels['shapes']}. Memory-bound kernels: "
                      f"bytes read and written per second beside a device copy "
                      f"({kernels['copy_bytes_per_s'] / 1e9:.0f} GB/s).", "",
                  "| family | op | minigrad ms | PyTorch ms | minigrad / PyTorch | GB/s | of copy |",
                  "|---|---|---|---|---|---|---|"]
        for r in kernels["rows"]:
            theirs = r.get("pytorch_s")
            compared = f"{ms(theirs)} | {r['minigrad_s'] / theirs:.2f}" if theirs else "— | —"
            bandwidth = f"{r['bytes_per_s'] / 1e9:.0f} | {r['of_copy']:.0%}" if "bytes_per_s" in r else "— | —"
            lines.append(f"| {r['family']} | {r['op']} | {ms(r['minigrad_s'])} | {compared} | {bandwidth} |")
    step = results["step"]
    if step.get("rows"):
        lines += ["", f"The benchmark CNN's training step ({step['device']}), seconds per step, medians:", "",
                  "| batch | BN | minigrad | PyTorch | minigrad / PyTorch |", "|---|---|---|---|---|"]
        for r in step["rows"]:
            theirs = f"{r['pytorch_median_s']:.4f}" if "pytorch_median_s" in r else "—"
            ratio = f"**{r['ratio']:.2f}**" if "ratio" in r else "—"
            lines.append(f"| {r['batch']} | {'yes' if r['batchnorm'] else 'no'} | {r['minigrad_median_s']:.4f} | "
                         f"{theirs} | {ratio} |")
        lines += ["", "im2col columns for gW (`MINIGRAD_CONV_KEEP_COLUMNS`), no BN:", "",
                  "| batch | columns | minigrad s/step | CuPy pool after the run |", "|---|---|---|---|"]
        for r in step["keep_columns"]:
            pool = f"{r['pool_bytes'] / 2**20:.0f} MiB" if r.get("pool_bytes") is not None else "—"
            lines.append(f"| {r['batch']} | {'kept' if r['keep_columns'] else 'rebuilt'} | "
                         f"{r['minigrad_median_s']:.4f} | {pool} |")
    launch = results.get("launch", {})
    if launch.get("markdown"):
        lines += ["", "The host's work per kernel launch (`benchmarks/launch_overhead.py`), the benchmark "
                      "CNN's step; host µs: the best step, the device synchronised outside the timing:", "",
                  launch["markdown"]]
    demo = results["demo"]
    if "summary" in demo:
        s = demo["summary"]
        lines += ["", f"`{demo['command']}`: {demo['demo_seconds']:.0f} s; test accuracy single "
                      f"{s['single_test_acc']}, dual-net {s['dual_test_acc']}, "
                      f"net1 frozen {s['frozen_net1_test_acc']}."]
    for name, r in results.items():
        if r["status"] != "ok" and r.get("tail"):
            lines += ["", f"{name} ended with:", "", "```", r["tail"].strip()[-1500:], "```"]
    return "\n".join(lines)


STEPS = {"tests": step_tests, "kernels": step_kernels, "step": step_cnn, "launch": step_launch, "demo": step_demo}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dry-run", action="store_true", help="every step tiny, on the CPU, to a scratch file")
    parser.add_argument("--doc", type=Path, help="the Markdown file to write the section to (default: "
                        "docs/benchmarks.md; in a dry run a scratch file in the temporary folder)")
    parser.add_argument("--only", nargs="+", choices=list(STEPS), help="run these steps alone")
    parser.add_argument("--step", choices=list(STEPS), help=argparse.SUPPRESS)  # one step, in its own process
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.step:
        from minigrad.checkpoint import write_atomically
        write_atomically(args.result, json.dumps(STEPS[args.step](args.dry_run)))
        return 0
    from minigrad.checkpoint import write_atomically
    from report import write_section
    limits = DRY_LIMITS if args.dry_run else LIMITS
    results = {}
    with tempfile.TemporaryDirectory(prefix="minigrad-gpu-") as scratch:
        for name in args.only or STEPS:
            print(f"{name} (at most {limits[name]} s) ...", flush=True)
            results[name] = run_step(name, args.dry_run, limits[name], scratch)
            print(f"  {results[name]['status']}", flush=True)
    for name in STEPS:
        results.setdefault(name, {"status": "not run (--only)"})
    info = facts(args.dry_run)
    text = markdown(info, results, args.dry_run)
    if args.dry_run:
        doc = args.doc or Path(tempfile.gettempdir()) / "minigrad-gpu-dry-run" / "benchmarks.md"
    else:
        doc = args.doc or ROOT / "docs" / "benchmarks.md"
        write_atomically(ROOT / "benchmarks" / "results" / "gpu.json",
                         json.dumps({"machine": info, "steps": results}, indent=2) + "\n")
    doc.parent.mkdir(parents=True, exist_ok=True)
    write_section(doc, BEGIN, END, text, heading="On a GPU")
    print(text)
    print(f"\nwritten to {doc}")
    return 0 if all(r["status"] in ("ok", "not run (--only)") for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
