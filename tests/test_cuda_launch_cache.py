"""The CUDA face's launch caches (``kernels.cuda_launch``), keyed on everything that changes
a launch, and the launch-overhead benchmark's smoke run.

A specialised Numba kernel reads its arguments as the types it was compiled for, without
checking them, so a cache key that confused two argument types would be a silent wrong
answer: ``argument_types`` must tell apart every pair of arguments Numba types apart.
These tests need no GPU: the caches are plain Python, checked here with Numba's own
``typeof`` and with stand-ins for CuPy's streams and devices.
"""
import itertools
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

pytest.importorskip("numba.cuda")
from numba import typeof  # noqa: E402

from kernels import cuda_launch  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def readonly(a):
    a.flags.writeable = False
    return a


def samples():
    base = np.zeros((4, 6), np.float32)
    return {
        "C float32 2-D": base,
        "C float32 2-D, another shape": np.zeros((3, 5), np.float32),
        "C float64 2-D": base.astype(np.float64),
        "C float32 3-D": np.zeros((2, 3, 4), np.float32),
        "F float32 2-D": np.asfortranarray(base),
        "strided float32 2-D": base[:, ::2],
        "broadcast float32 2-D": np.broadcast_to(np.zeros(6, np.float32), (4, 6)),
        "read-only C float32 2-D": readonly(base.copy()),
        "unaligned C float32 1-D": np.frombuffer(bytearray(4 * 6 + 1), np.float32, count=6, offset=1),
        "C int64 2-D": base.astype(np.int64),
        "python int": 3,
        "python bool": True,
        "python float": 0.5,
        "float32 scalar": np.float32(0),
        "float64 scalar": np.float64(0),
    }


def test_argument_types_never_merge_two_arguments_numba_types_apart():
    values = samples()
    for (name_a, a), (name_b, b) in itertools.combinations(values.items(), 2):
        if cuda_launch.argument_types([a]) == cuda_launch.argument_types([b]):
            assert typeof(a) == typeof(b), f"{name_a} and {name_b} share a key but not a Numba type"


def test_argument_types_tell_apart_dtype_rank_layout_and_scalar_type():
    values = samples()
    key = {name: cuda_launch.argument_types([v]) for name, v in values.items()}
    # the shape is a launch-time value, not part of the type: one compilation serves every shape
    assert key["C float32 2-D"] == key["C float32 2-D, another shape"]
    others = [k for name, k in key.items() if name != "C float32 2-D, another shape"]
    assert len(set(others)) == len(others), key
    # the position of an argument matters too
    a, b = values["C float32 2-D"], values["C float64 2-D"]
    assert cuda_launch.argument_types([a, b]) != cuda_launch.argument_types([b, a])


class FakeKernel:
    """Counts ``specialize`` calls, as Numba's dispatcher would compile one per call."""

    def __init__(self):
        self.compiled = []

    def specialize(self, *args):
        self.compiled.append(cuda_launch.argument_types(args))
        return ("specialised", len(self.compiled))


@pytest.fixture
def fake_device(monkeypatch):
    """A CuPy whose current device and stream the test sets, and a Numba whose streams are
    plain objects: what ``stream`` and ``specialized`` read, without a GPU."""
    state = SimpleNamespace(device=0, ptr=0)
    runtime = SimpleNamespace(getDevice=lambda: state.device)
    cupy = SimpleNamespace(cuda=SimpleNamespace(runtime=runtime,
                                                get_current_stream=lambda: SimpleNamespace(ptr=state.ptr)))
    numba_cuda = SimpleNamespace(external_stream=lambda ptr: ("external", ptr, object()),
                                 default_stream=lambda: ("default", object()))
    monkeypatch.setattr(cuda_launch.face, "cupy", cupy)
    monkeypatch.setattr(cuda_launch, "SIMULATED", False)
    monkeypatch.setattr(cuda_launch, "cuda", numba_cuda)
    monkeypatch.setattr(cuda_launch, "_streams", {})
    monkeypatch.setattr(cuda_launch, "_specialized", {})
    return state


def specialise(kernel, *args):
    return cuda_launch.specialized(kernel, cuda_launch.device(), cuda_launch.argument_types(args), args)


def test_a_kernel_is_specialised_once_per_device_and_argument_types(fake_device):
    kernel, other = FakeKernel(), FakeKernel()
    x32, y32 = np.zeros((2, 3), np.float32), np.zeros((5, 7), np.float32)
    first = specialise(kernel, x32, 3)
    assert specialise(kernel, y32, 4) is first  # other shape and value, same types: no new compilation
    assert len(kernel.compiled) == 1
    specialise(kernel, x32.astype(np.float64), 3)  # dtype
    specialise(kernel, np.asfortranarray(np.zeros((2, 3), np.float32)), 3)  # layout
    specialise(kernel, x32, np.float32(3))  # a scalar's type
    assert len(kernel.compiled) == 4
    fake_device.device = 1  # another GPU may have another compute capability
    specialise(kernel, x32, 3)
    assert len(kernel.compiled) == 5
    specialise(other, x32, 3)  # another kernel, same arguments
    assert len(other.compiled) == 1


def test_one_numba_stream_per_device_and_cupy_stream(fake_device):
    default = cuda_launch.stream()
    assert default[0] == "default" and cuda_launch.stream() is default
    fake_device.ptr = 1234
    external = cuda_launch.stream()
    assert external[:2] == ("external", 1234) and cuda_launch.stream() is external
    fake_device.device = 1  # the same handle value on another device is another stream
    assert cuda_launch.stream() is not external
    fake_device.device, fake_device.ptr = 0, 0
    assert cuda_launch.stream() is default


def test_the_launch_caches_are_bounded(fake_device):
    x = np.zeros(3, np.float32)
    for _ in range(cuda_launch.CACHE_SIZE + 1):  # one more kernel than the cache holds
        specialise(FakeKernel(), x)
    assert 0 < len(cuda_launch._specialized) <= cuda_launch.CACHE_SIZE
    for ptr in range(1, cuda_launch.CACHE_SIZE + 2):
        fake_device.ptr = ptr
        assert cuda_launch.stream()[:2] == ("external", ptr)
    assert 0 < len(cuda_launch._streams) <= cuda_launch.CACHE_SIZE


def test_launch_overhead_benchmark_smoke(tmp_path):
    """``benchmarks/launch_overhead.py --quick`` without a GPU: the benchmark CNN's step with
    every launch stubbed; the table has every kernel family, and the launch counts of the
    step (a change in them is a change in the GPU step's host time)."""
    standin = ROOT / "tests" / "standin"
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1",
               PYTHONPATH=os.pathsep.join(filter(None, [str(standin), str(ROOT), os.environ.get("PYTHONPATH")])))
    env.pop("MINIGRAD_FACE", None)
    out = tmp_path / "launch.json"
    command = [sys.executable, str(ROOT / "benchmarks" / "launch_overhead.py"), "--quick", "--json", str(out)]
    run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    results = json.loads(out.read_text())
    assert [r["batchnorm"] for r in results] == [False, True]
    for result in results:
        assert not result["gpu"]
        entries = {row["entry"]: row for row in result["entries"]}
        assert {"conv.forward", "conv.backward_data", "conv.backward_weight", "pool.max_forward",
                "pool.max_backward", "relu.forward", "relu.backward"} <= set(entries)
        for row in entries.values():
            assert row["calls_per_step"] > 0 and row["host_us_per_call"] > 0
            assert row["python_calls_per_call"]["kernels"] > 0
        launches = sum(r["calls_per_step"] * r["launches_per_call"] for r in entries.values())
        assert launches == result["launches_per_step"]
    assert {"batchnorm.statistics", "batchnorm.normalize", "batchnorm.backward"} <= \
        {row["entry"] for row in results[1]["entries"]}
    # conv: im2col + transpose forward, col2im, transpose (gW's columns kept); pool, ReLU: one each;
    # batch norm: two passes of (partial sums, fold) for the statistics, one normalise, and
    # (partial sums, two folds, gx) backward — conv1 takes no backward_data
    assert [r["launches_per_step"] for r in results] == [29, 65]
    assert "| conv.forward |" in run.stdout
