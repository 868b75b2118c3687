"""Run the training-toolkit tutorials (04, 06, 07, 11) as programs, in quick mode.

Each tutorial asserts what it teaches, so exit code 0 means its lesson still
holds against the current code. They run as subprocesses, as a learner would
run them, with figures redirected to a temporary folder (never the repo).
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TUTORIALS = ROOT / "tutorials"

# tutorial file → the figures it must write into MINIGRAD_TUTORIAL_OUT
TOOLKIT = {
    "04_mlp_backprop.py": ["04_mlp_mnist.png"],
    "06_optimizers.py": ["06_canyon.png", "06_mnist_optimizers.png"],
    "07_learning_rate_and_schedules.py": ["07_schedules.png", "07_cliff.png"],
    "11_regularization.py": ["11_augmentation.png", "11_early_stopping.png"],
}


@pytest.mark.parametrize("name", sorted(TOOLKIT))
def test_tutorial_runs_and_asserts(name, tmp_path):
    out = tmp_path / "figures"
    env = dict(os.environ, MINIGRAD_QUICK="1", MPLBACKEND="Agg", MINIGRAD_TUTORIAL_OUT=str(out),
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    # cwd is the temp folder too, so even a tutorial that ignored the variable
    # could not write into the repository.
    run = subprocess.run([sys.executable, str(TUTORIALS / name)], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, f"{name} failed (exit {run.returncode}):\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    assert "all checks passed" in run.stdout
    for figure in TOOLKIT[name]:
        assert (out / figure).stat().st_size > 10_000, f"{name} did not write {figure} into MINIGRAD_TUTORIAL_OUT"
    assert not (tmp_path / "tutorial_output").exists(), f"{name} wrote to the default folder despite the variable"
