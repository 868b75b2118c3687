"""The host's work per CUDA kernel launch: what the Python around each launch costs.

    python benchmarks/launch_overhead.py                  # on a GPU: real CuPy, real launches
    NUMBA_ENABLE_CUDASIM=1 PYTHONPATH=tests/standin:$PWD \\
        python benchmarks/launch_overhead.py --quick      # without one: launches stubbed

On a GPU a small network's training step is bound by the host: the benchmark CNN at batch
64 queues a few dozen kernels whose device work takes well under a millisecond, so the
Python each kernel call runs before its launch (argument checks, shape arithmetic, the
launch configuration, output allocation, wrapping CuPy arrays for Numba, Numba's
dispatch) *is* the step's time. This tool runs the benchmark CNN's training step
(``benchmarks/workloads.caffenet_layers``, optionally with batch norm) and reports, for
each kernel entry point (``kernels.conv.forward``, ``kernels.pool.max_backward`` …):

* its calls and kernel launches per step;
* host microseconds per call and per launch: the wall time of the call. Launches are
  asynchronous and the device is synchronised only outside the timed steps, so on a
  GPU this is the host's time (the best of ``--rounds`` steps);
* function calls per call, counted with ``sys.setprofile`` in one more step: Python
  calls in ``kernels/`` itself; the array library's routines and methods that
  ``kernels/`` calls (each a CuPy call on a GPU); Python calls in Numba (its dispatcher
  and argument marshalling, on a GPU); all other Python calls — counts that do not
  depend on the machine's speed or load.

Without a GPU (``NUMBA_ENABLE_CUDASIM=1`` and the CuPy stand-in of ``tests/standin`` on the
path) every kernel launch is replaced by a no-op that only counts it: the simulated kernel
bodies would take seconds and say nothing about the host's work. The times then include
the stand-in's NumPy work (allocations, the GEMMs of a tiny batch) and Numba's simulator
is not called at all, so read the call counts of ``kernels/`` first; the GPU's own times
come from a run on a GPU (``python benchmarks/gpu.py`` runs this tool there too).

``--json PATH`` writes the table as JSON as well.
"""
import argparse
import collections
import contextlib
import functools
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

import minigrad as mg  # noqa: E402  (after the path: the repository's minigrad, not an installed one)
import minigrad.functional as F  # noqa: E402
from minigrad import nn, optim  # noqa: E402

import kernels.batchnorm  # noqa: E402
import kernels.conv  # noqa: E402
import kernels.pool  # noqa: E402
import kernels.relu  # noqa: E402
from kernels import face  # noqa: E402
from workloads import caffenet_layers  # noqa: E402

# The entry points minigrad's ops call, family by family
ENTRY_POINTS = {
    "conv": (kernels.conv, ("forward", "backward_data", "backward_weight")),
    "pool": (kernels.pool, ("max_forward", "max_backward", "avg_forward", "avg_backward")),
    "relu": (kernels.relu, ("forward", "backward")),
    "batchnorm": (kernels.batchnorm, ("statistics", "normalize", "backward")),
}
FAMILIES = {"conv": "kernels.conv.cuda", "pool": "kernels.pool.cuda", "relu": "kernels.relu.cuda",
            "batchnorm": "kernels.batchnorm.cuda"}
KERNELS_DIR = str(ROOT / "kernels") + os.sep


def on_gpu():
    """True with real CuPy and no simulator: launches are real and timed as they are."""
    return face.cupy is not None and not face.simulated() and "standin" not in (face.cupy.__file__ or "")


class Counts:
    """What the run has seen, per entry point: calls, launches, seconds, profiled Python calls."""

    def __init__(self):
        self.current = None  # the entry point now running (launches are charged to it)
        self.step = 0  # the step now running (its seconds are summed apart)
        self.rows = {}

    def row(self, name):
        return self.rows.setdefault(name, {"calls": 0, "launches": 0, "seconds": collections.defaultdict(float)})


class CountingKernel:
    """Stands in a CUDA face module for one of its kernels: counts each launch
    (``kernel[grid, block, stream](*args)``) for the entry point running it, and on a
    machine without a GPU launches nothing."""

    def __init__(self, kernel, counts, stub):
        self.kernel, self.counts, self.stub = kernel, counts, stub

    def specialize(self, *args):
        return CountingKernel(self.kernel.specialize(*args), self.counts, self.stub)

    def __getitem__(self, config):
        if self.counts.current is not None:
            self.counts.row(self.counts.current)["launches"] += 1
        return (lambda *args: None) if self.stub else self.kernel[config]


def instrument(counts, stub):
    """Wrap every entry point (timing, counting) and every CUDA kernel (counting launches);
    returns a function that undoes it all."""
    undo = []
    for family, (package, names) in ENTRY_POINTS.items():
        module = __import__(FAMILIES[family], fromlist=["KERNELS"])
        dispatchers = {id(kernel) for kernel, _ in module.KERNELS}
        for attr, value in list(vars(module).items()):
            if id(value) in dispatchers:
                setattr(module, attr, CountingKernel(value, counts, stub))
                undo.append((module, attr, value))
        for name in names:
            original = getattr(package, name)
            setattr(package, name, timed_entry(f"{family}.{name}", original, counts))
            undo.append((package, name, original))

    def restore():
        for target, attr, value in reversed(undo):
            setattr(target, attr, value)
    return restore


def timed_entry(name, fn, counts):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        row = counts.row(name)
        counts.current = name
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            row["seconds"][counts.step] += time.perf_counter() - start
            row["calls"] += 1
            counts.current = None
    return wrapper


def where(filename, array_dir):
    if filename.startswith(KERNELS_DIR):
        return "kernels"
    if array_dir and filename.startswith(array_dir):
        return "array"
    if f"{os.sep}numba" in filename:
        return "numba"
    return "other"


def from_cupy(function):
    """Whether a C function (a CuPy routine or method) belongs to CuPy."""
    owner = getattr(function, "__module__", None) or type(getattr(function, "__self__", None)).__module__
    return (owner or "").startswith("cupy")


@contextlib.contextmanager
def profiled(counts):
    """Count, inside each entry point, the Python function calls of ``kernels/`` itself,
    the array library's routines and methods that ``kernels/`` calls (CuPy's, which are C
    functions, or the stand-in's; attribute reads such as ``.shape`` are not counted),
    Numba's Python calls, and all other Python calls."""
    array_dir = os.path.dirname(face.cupy.__file__) + os.sep if face.cupy is not None else None
    tallies = {}

    def hook(frame, event, arg):
        if counts.current is None or event not in ("call", "c_call"):
            return
        code = frame.f_code
        if code.co_filename == __file__:  # this tool's wrappers and launch counter
            return
        tally = tallies.setdefault(counts.current, {"kernels": 0, "array": 0, "numba": 0, "other": 0})
        if event == "c_call":  # ``frame`` is the caller's
            if code.co_filename.startswith(KERNELS_DIR) and from_cupy(arg):
                tally["array"] += 1
            return
        place = where(code.co_filename, array_dir)
        if place == "array":  # count the stand-in's routines called from kernels/, not its insides
            caller = frame.f_back.f_code.co_filename if frame.f_back is not None else ""
            if caller.startswith(KERNELS_DIR) and code.co_name not in ("<lambda>", "__getattr__"):
                tally["array"] += 1
            return
        tally[place] += 1

    sys.setprofile(hook)
    try:
        yield tallies
    finally:
        sys.setprofile(None)


def synchronize():
    if face.cupy is not None:
        face.cupy.cuda.get_current_stream().synchronize()


def build(batch, image, bn):
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.standard_normal((batch, 3, image, image)).astype(np.float32), device="cuda")
    y = mg.tensor(rng.integers(0, 10, batch), device="cuda")
    mg.manual_seed(0)
    model = nn.Sequential(caffenet_layers(nn, image_size=image, bn=bn, conv3_kernel=5)).to("cuda")
    opt = optim.SGD(model.parameters(), lr=0.01)

    def step():
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


def measure(batch, image, bn, rounds):
    """Per entry point: calls and launches per step, host µs per call and per launch
    (best step of ``rounds``), Python calls per call. Also the whole step's host time."""
    stub = not on_gpu()
    step = build(batch, image, bn)
    with np.errstate(all="ignore"):  # stubbed launches leave outputs uninitialised: NaNs are expected
        counts = Counts()
        restore = instrument(counts, stub)  # first: a simulated kernel body takes seconds
        try:
            step()  # compiles the kernels on a GPU; warms caches everywhere
            synchronize()
            counts.rows.clear()
            steps = []
            for counts.step in range(rounds):
                start = time.perf_counter()
                step()
                steps.append(time.perf_counter() - start)
                synchronize()  # outside the timed region
            counts.step = rounds  # the profiled step: counted, not timed
            with profiled(counts) as tallies:
                step()
            synchronize()
        finally:
            restore()
    table = []
    for name, row in counts.rows.items():
        calls = row["calls"] // (rounds + 1)
        launches = row["launches"] // (rounds + 1)
        best = min(row["seconds"][k] for k in range(rounds))
        tally = tallies.get(name, {})
        table.append({"entry": name, "calls_per_step": calls, "launches_per_call": launches / max(calls, 1),
                      "host_us_per_call": 1e6 * best / max(calls, 1),
                      "host_us_per_launch": 1e6 * best / launches if launches else None,
                      "python_calls_per_call": {k: v / max(calls, 1) for k, v in tally.items()}})
    return {"gpu": not stub, "batch": batch, "image": image, "batchnorm": bn, "rounds": rounds,
            "step_host_ms": 1e3 * min(steps),
            "launches_per_step": sum(r["launches"] for r in counts.rows.values()) // (rounds + 1),
            "entries": table}


def markdown(result):
    where_ = "GPU, real launches" if result["gpu"] else "no GPU: stand-in arrays, launches stubbed"
    lines = [f"batch {result['batch']}, {result['image']}×{result['image']} images, "
             f"batch norm {'on' if result['batchnorm'] else 'off'} ({where_}): "
             f"{result['launches_per_step']} launches, host {result['step_host_ms']:.2f} ms per step",
             "",
             "| entry point | calls/step | launches/call | host µs/call | host µs/launch "
             "| per call: kernels/ calls | array-library calls | Numba calls | other calls |",
             "|---|---|---|---|---|---|---|---|---|"]
    for row in result["entries"]:
        pc = row["python_calls_per_call"]
        per_launch = "—" if row["host_us_per_launch"] is None else f"{row['host_us_per_launch']:.0f}"
        lines.append(f"| {row['entry']} | {row['calls_per_step']} | {row['launches_per_call']:.1f} "
                     f"| {row['host_us_per_call']:.0f} | {per_launch} | {pc.get('kernels', 0):.0f} "
                     f"| {pc.get('array', 0):.0f} | {pc.get('numba', 0):.0f} | {pc.get('other', 0):.0f} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, help="images per step (default 64 on a GPU, 2 without one)")
    parser.add_argument("--image", type=int, default=None,
                        help="image side, a multiple of 8 (default 32; 16 without a GPU)")
    parser.add_argument("--rounds", type=int, default=None, help="timed steps, best one reported (default 20)")
    parser.add_argument("--quick", action="store_true", help="3 rounds: a smoke run")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args(argv)
    if face.cupy is None:
        print("launch_overhead: needs CuPy, or the CuPy stand-in with the simulator: run it as "
              "NUMBA_ENABLE_CUDASIM=1 PYTHONPATH=tests/standin:$PWD python benchmarks/launch_overhead.py")
        return 2
    if not on_gpu() and not face.simulated():
        print("launch_overhead: the CuPy stand-in needs Numba's CUDA simulator: set NUMBA_ENABLE_CUDASIM=1")
        return 2
    gpu = on_gpu()
    batch = args.batch or (64 if gpu else 2)
    image = args.image or (32 if gpu else 16)
    rounds = args.rounds or (3 if args.quick else 20)
    results = [measure(batch, image, bn, rounds) for bn in (False, True)]
    print("\n\n".join(markdown(r) for r in results))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
