"""docs/from_pytorch.md's promise: a typical PyTorch script runs on minigrad with only its
imports changed. The PyTorch script is the one printed in the document; the minigrad one is
docs/examples/port_from_pytorch.py. Both run in quick mode (MINIGRAD_QUICK=1, seconds)."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "from_pytorch.md"
SCRIPT = ROOT / "docs" / "examples" / "port_from_pytorch.py"
IMPORTS = re.compile(r"# ---- imports:.*?# ---- end of imports ----\n", re.S)


def torch_script():
    """The Python block under the document's "## The PyTorch script" heading."""
    section = DOC.read_text().split("## The PyTorch script", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def run(path, tmp_path):
    env = dict(os.environ, MINIGRAD_QUICK="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               FASHION_MNIST_NPZ=str(ROOT / "minigrad" / "data" / "fashion_mnist.npz"),
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    done = subprocess.run([sys.executable, str(path)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "all checks passed" in done.stdout
    assert (tmp_path / "fashion_cnn.pt").exists()
    return done.stdout


def test_the_two_scripts_differ_only_in_their_imports():
    ours, theirs = SCRIPT.read_text(), torch_script()
    our_imports, their_imports = IMPORTS.search(ours).group(0), IMPORTS.search(theirs).group(0)
    code = [[line for line in block.splitlines() if not line.startswith("#")] for block in (our_imports, their_imports)]
    assert all("minigrad" in line for line in code[0]) and not any("minigrad" in line for line in code[1])
    assert len(code[0]) == len(code[1]) == 4
    assert IMPORTS.sub("", ours) == IMPORTS.sub("", theirs)


def test_the_minigrad_script_runs(tmp_path):
    print(run(SCRIPT, tmp_path))


def test_the_pytorch_script_runs_under_pytorch(tmp_path):
    pytest.importorskip("torch")
    path = tmp_path / "pytorch_script.py"
    path.write_text(torch_script())
    print(run(path, tmp_path))
