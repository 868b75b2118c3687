"""Run tutorial 08 (convolution kernels) as a program, in quick mode, with figures
redirected to a temporary folder; it asserts what it teaches, so exit 0 means the
lesson still holds (its CUDA section runs the kernels under the simulator)."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_tutorial_08_runs_and_asserts(tmp_path):
    out = tmp_path / "figures"
    env = dict(os.environ, MINIGRAD_QUICK="1", MPLBACKEND="Agg", MINIGRAD_TUTORIAL_OUT=str(out),
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    env.pop("MINIGRAD_FACE", None)  # the lesson picks its faces itself
    run = subprocess.run([sys.executable, str(ROOT / "tutorials" / "08_convolution_kernels.py")], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, f"exit {run.returncode}:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    assert "all checks passed" in run.stdout
    assert (out / "08_im2col.png").stat().st_size > 10_000
    assert not (tmp_path / "tutorial_output").exists()
