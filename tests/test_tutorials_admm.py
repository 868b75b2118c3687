"""Run tutorials 12 (dual net and ADMM) and 13 (model parallel with MPI) as programs,
in quick mode, as a learner would; each asserts what it teaches."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TUTORIALS = {"12_dual_net_admm.py": ["12_collapse.png"], "13_model_parallel_with_mpi.py": []}


@pytest.mark.parametrize("name", sorted(TUTORIALS))
def test_tutorial_runs_and_asserts(name, tmp_path):
    out = tmp_path / "figures"
    env = dict(os.environ, MINIGRAD_QUICK="1", MPLBACKEND="Agg", MINIGRAD_TUTORIAL_OUT=str(out),
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    run = subprocess.run([sys.executable, str(ROOT / "tutorials" / name)], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, f"{name} failed (exit {run.returncode}):\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    assert "all checks passed" in run.stdout
    for figure in TUTORIALS[name]:
        assert (out / figure).stat().st_size > 10_000, figure
    assert not (tmp_path / "tutorial_output").exists()
