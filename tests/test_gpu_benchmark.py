"""``python benchmarks/gpu.py --dry-run``: the GPU run's five steps (the CUDA tests, the
kernels beside PyTorch, the CNN step, the host's work per launch, the demo) at tiny sizes
on the CPU, so the one command a GPU machine runs cannot fail for a trivial reason. The
dry run only collects the CUDA tests (tests/test_cuda_face.py runs them). It writes to the
file it is given, never to docs/benchmarks.md."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.long(40)
def test_gpu_benchmark_dry_run(tmp_path):
    docs = ROOT / "docs" / "benchmarks.md"
    before = docs.read_text()
    doc = tmp_path / "benchmarks.md"
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu.py"), "--dry-run", "--doc", str(doc)],
                         cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    text = doc.read_text()
    assert "<!-- gpu -->" in text and "<!-- /gpu -->" in text
    for step in ("tests", "kernels", "step", "launch", "demo"):
        assert f"| {step} | ok |" in text, text
    assert re.search(r"CUDA face tests \(`tests/cuda`, collected only.*\): [1-9]\d* tests collected", text), text
    for row in ("| conv | backward_weight |", "| batchnorm | backward |", "| 2 | no |", "| batchnorm.normalize |",
                "admm demo --device cuda"):
        assert row in text, row
    assert docs.read_text() == before, "a dry run must not write docs/benchmarks.md"


def test_real_run_fits_one_device_command():
    """A lent GPU machine runs one command for at most 10 minutes: the steps' limits,
    with a minute for Python's start-up and the writing, must fit."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("gpu_benchmark", ROOT / "benchmarks" / "gpu.py")
    gpu = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gpu)
    assert sum(gpu.LIMITS.values()) <= 540
