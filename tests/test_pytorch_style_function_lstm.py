"""docs/examples/pytorch_style/custom_autograd_function.py and lstm_mnist_rows.py: each runs
with minigrad in quick mode, and its PyTorch twin — the same file with only the import block
swapped — runs under PyTorch when it is installed (both programs assert what they show)."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "docs" / "examples" / "pytorch_style"
PROGRAMS = ["custom_autograd_function.py", "lstm_mnist_rows.py"]
IMPORTS = re.compile(r"# ---- imports:.*?\n(.*?)# ---- end of imports ----\n", re.S)
TORCH_IMPORTS = {  # each minigrad import line and the PyTorch line it stands for
    "import minigrad as torch": "import torch",
    "from minigrad import nn": "from torch import nn",
    "from minigrad.autograd import Function, gradcheck": "from torch.autograd import Function, gradcheck",
    "from minigrad.data import DataLoader, TensorDataset": "from torch.utils.data import DataLoader, TensorDataset",
}


def torch_twin(source):
    block = IMPORTS.search(source).group(1)
    lines = block.splitlines()
    assert lines and all(line in TORCH_IMPORTS for line in lines), f"unexpected import lines: {lines}"
    return source.replace(block, "".join(TORCH_IMPORTS[line] + "\n" for line in lines))


def run(path, cwd):
    env = dict(os.environ, MINIGRAD_QUICK="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               MNIST_NPZ=str(ROOT / "minigrad" / "data" / "mnist.npz"),
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    done = subprocess.run([sys.executable, str(path)], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "all checks passed" in done.stdout
    return done.stdout


@pytest.mark.parametrize("name", PROGRAMS)
def test_the_minigrad_program_runs(name, tmp_path):
    code = IMPORTS.sub("", (EXAMPLES / name).read_text())
    code = re.sub(r'""".*?"""', "", code, count=1, flags=re.S)  # the docstring may say "minigrad"
    assert "minigrad" not in code.replace("MINIGRAD_QUICK", "").replace('"minigrad", "data"', ""), \
        "outside its imports the program must be the PyTorch program"
    print(run(EXAMPLES / name, tmp_path))


@pytest.mark.parametrize("name", PROGRAMS)
def test_the_pytorch_twin_runs_under_pytorch(name, tmp_path):
    pytest.importorskip("torch")
    twin = tmp_path / name
    twin.write_text(torch_twin((EXAMPLES / name).read_text()))
    assert "minigrad" not in IMPORTS.search(twin.read_text()).group(1)
    print(run(twin, tmp_path))
