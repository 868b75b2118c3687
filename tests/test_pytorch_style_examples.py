"""docs/examples/pytorch_style/: every program there runs with minigrad, and — made into its
PyTorch twin by swapping its import block for PyTorch's lines — under PyTorch (when
installed), printing the same lines with the same count of numbers on each, and numbers
that agree within the tolerance the program declares (to the printed digit for the
deterministic ones; loosely where initial weights and batch order are random). Each
program is discovered, not listed: a new file in the folder is tested the same way.
Short form: MINIGRAD_QUICK=1."""
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
FOLDER = ROOT / "docs" / "examples" / "pytorch_style"
PROGRAMS = sorted(p for p in FOLDER.glob("*.py") if not p.name.startswith("_"))
BLOCK = re.compile(r"^# ---- imports:.*?\n(.*?)^# ---- end of imports ----\n", re.S | re.M)
TWIN_LINE = re.compile(r"^(?P<code>[^#\n]*?)\s*# PyTorch: (?P<torch>.*)$")
TOLERANCE = re.compile(r"# numbers agree with PyTorch within rtol=(?P<rtol>[\d.e-]+), atol=(?P<atol>[\d.e-]+)")
RENAMES = (("minigrad.data", "torch.utils.data"), ("minigrad.functional", "torch.nn.functional"),
           ("minigrad", "torch"))
NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|[-+]?inf|nan")


def torch_line(line):
    """The PyTorch line for one line of the import block: the one its ``# PyTorch: ...``
    comment names, or else the same import from torch's module of that name
    (``minigrad.data`` is ``torch.utils.data``, ``minigrad.functional`` ``torch.nn.functional``)."""
    match = TWIN_LINE.match(line)
    if match:
        return match["torch"]
    if line.strip() == "import minigrad as torch":
        return "import torch"
    for ours, theirs in RENAMES:
        if re.search(rf"\b{re.escape(ours)}\b", line):
            return re.sub(rf"\b{re.escape(ours)}\b", theirs, line)
    return line


def twin(source):
    """The PyTorch twin of a program: each line of its import block replaced by its
    PyTorch line (``torch_line``); every other line as it is."""
    block = BLOCK.search(source)
    assert block, "no '# ---- imports: ...' / '# ---- end of imports ----' block"
    lines = [torch_line(line) for line in block.group(1).splitlines()]
    return source[:block.start(1)] + "".join(f"{line}\n" for line in lines) + source[block.end(1):]


def run(path, tmp_path):
    env = dict(os.environ, MINIGRAD_QUICK="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", MPLBACKEND="Agg",
               MNIST_NPZ=str(ROOT / "minigrad" / "data" / "mnist.npz"),
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    done = subprocess.run([sys.executable, str(path)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, f"{path.name} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def numbers(line):
    return [float(n) for n in NUMBER.findall(line)]


@pytest.fixture(scope="module")
def torch_available():
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def test_the_folder_has_the_programs():
    names = {p.stem for p in PROGRAMS}
    assert {"tensors", "autograd", "module", "training", "save_load", "vae"} <= names


@pytest.mark.parametrize("program", PROGRAMS, ids=[p.stem for p in PROGRAMS])
def test_program_differs_from_its_twin_only_in_imports(program):
    source = program.read_text()
    theirs = twin(source)
    imports = [line for line in BLOCK.search(source).group(1).splitlines() if line.strip()]
    assert imports and all(re.match(r"(import|from) minigrad\b", line) for line in imports)
    assert "minigrad" not in BLOCK.search(theirs).group(1)
    outside = BLOCK.sub("", source).splitlines()
    assert outside == BLOCK.sub("", theirs).splitlines()
    assert not any(re.match(r"\s*(import|from)\s+minigrad", line) for line in outside)


@pytest.mark.parametrize("program", PROGRAMS, ids=[p.stem for p in PROGRAMS])
def test_program_runs_and_agrees_with_pytorch(program, tmp_path, torch_available):
    source = program.read_text()
    for side in ("minigrad", "torch"):
        (tmp_path / side).mkdir()
    ours = run(program, tmp_path / "minigrad")
    assert ours.strip(), f"{program.name} printed nothing"
    if not torch_available:
        pytest.skip("torch is not installed: the minigrad program ran; there is no twin to compare with")
    path = tmp_path / "torch" / program.name
    path.write_text(twin(source))
    theirs = run(path, tmp_path / "torch")
    tolerance = TOLERANCE.search(source)
    ours_lines, their_lines = ours.strip().splitlines(), theirs.strip().splitlines()
    assert len(ours_lines) == len(their_lines), f"minigrad:\n{ours}\nPyTorch:\n{theirs}"
    for mine, other in zip(ours_lines, their_lines):
        a, b = numbers(mine), numbers(other)
        assert len(a) == len(b), f"minigrad: {mine!r}\nPyTorch:  {other!r}"
        if tolerance:  # undeclared: the same lines and numbers of numbers (random runs, say), not their values
            np.testing.assert_allclose(a, b, rtol=float(tolerance["rtol"]), atol=float(tolerance["atol"]),
                                       err_msg=f"\nminigrad: {mine}\nPyTorch:  {other}")
