"""Run tutorials 09 (pooling and ReLU) and 10 (batch norm) as programs, in quick
mode, with figures redirected to a temporary folder (never the repository).
Each asserts what it teaches, so exit code 0 means its lesson still holds."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TUTORIALS = ROOT / "tutorials"

# tutorial file → the figures it must write into MINIGRAD_TUTORIAL_OUT
LESSONS = {
    "09_pooling_and_relu.py": ["09_max_pool_routing.png"],
    "10_batch_norm.py": ["10_running_statistics.png"],
}


@pytest.mark.parametrize("name", sorted(LESSONS))
def test_tutorial_runs_and_asserts(name, tmp_path):
    out = tmp_path / "figures"
    env = dict(os.environ, MINIGRAD_QUICK="1", MPLBACKEND="Agg", MINIGRAD_TUTORIAL_OUT=str(out),
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    env.pop("MINIGRAD_FACE", None)  # the lessons run the default faces
    run = subprocess.run([sys.executable, str(TUTORIALS / name)], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, f"{name} failed (exit {run.returncode}):\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    assert "all checks passed" in run.stdout
    for figure in LESSONS[name]:
        assert (out / figure).stat().st_size > 10_000, f"{name} did not write {figure} into MINIGRAD_TUTORIAL_OUT"
    assert not (tmp_path / "tutorial_output").exists(), f"{name} wrote to the default folder despite the variable"
