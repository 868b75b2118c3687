"""Run every tutorial as a program, in quick mode (``MINIGRAD_QUICK=1``).

Each tutorial asserts what it teaches, so exit code 0 means its lesson still
holds against the current code. They run as subprocesses, as a learner would
run them, with the default faces (``MINIGRAD_FACE`` unset: a lesson picks its
faces itself) and figures redirected to a temporary folder (never the repo).
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TUTORIALS = ROOT / "tutorials"

# tutorial file → the figures it must write into MINIGRAD_TUTORIAL_OUT
LESSONS = {
    "01_autodiff_by_hand.py": [],
    "02_vector_jacobian_products.py": [],
    "03_gradient_checking.py": ["03_finite_difference_error.png"],
    "04_mlp_backprop.py": ["04_mlp_mnist.png"],
    "05_initialization.py": ["05_activation_histograms.png"],
    "06_optimizers.py": ["06_canyon.png", "06_mnist_optimizers.png"],
    "07_learning_rate_and_schedules.py": ["07_schedules.png", "07_cliff.png"],
    "08_convolution_kernels.py": ["08_im2col.png"],
    "09_pooling_and_relu.py": ["09_max_pool_routing.png"],
    "10_batch_norm.py": ["10_running_statistics.png", "10_training_with_batch_norm.png"],
    "11_regularization.py": ["11_augmentation.png", "11_early_stopping.png"],
    "12_first_cnn.py": ["12_training.png", "12_filters.png"],
    "13_dual_net_admm.py": ["13_split.png", "13_collapse.png"],
    "14_model_parallel_with_mpi.py": [],
    "15_optimizers_on_a_resnet.py": ["15_optimizers_on_a_resnet.png"],
    "16_data_parallelism.py": ["16_data_parallel_speedup.png"],
    "17_the_gpu.py": ["17_coalescing.png"],
    "18_drawing_the_graph.py": ["18_expression_graph.png", "18_mlp_graph.png", "18_expression_matplotlib.png"],
    "19_writing_your_own_op.py": ["19_custom_op_model.png"],
}


def test_every_tutorial_is_run_here():
    on_disk = {p.name for p in TUTORIALS.glob("[0-9][0-9]_*.py")}
    assert on_disk == set(LESSONS), f"tutorials not listed in LESSONS: {sorted(on_disk - set(LESSONS))}"


@pytest.mark.long(15)
@pytest.mark.parametrize("name", sorted(LESSONS))
def test_tutorial_runs_and_asserts(name, tmp_path):
    out = tmp_path / "figures"
    env = dict(os.environ, MINIGRAD_QUICK="1", MPLBACKEND="Agg", MINIGRAD_TUTORIAL_OUT=str(out),
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    env.pop("MINIGRAD_FACE", None)
    # cwd is the temp folder too, so even a tutorial that ignored the variable
    # could not write into the repository.
    run = subprocess.run([sys.executable, str(TUTORIALS / name)], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, f"{name} failed (exit {run.returncode}):\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    assert "all checks passed" in run.stdout
    for figure in LESSONS[name]:
        assert (out / figure).stat().st_size > 10_000, f"{name} did not write {figure} into MINIGRAD_TUTORIAL_OUT"
    assert not (tmp_path / "tutorial_output").exists(), f"{name} wrote to the default folder despite the variable"
