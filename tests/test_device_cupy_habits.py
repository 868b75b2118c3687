"""PyTorch's habits hold on the device: the cases of ``tests/test_torch_habits.py`` (its
dtype rules, its functions by torch's names, its in-place ops), run with every tensor made
on the device, give the CPU's values, shapes and dtypes, and their results stay on the
device. (The CPU's are checked against torch there.) Runs where ``import cupy`` finds CuPy
or the stand-in (``tests/test_device_standin.py`` arranges the stand-in)."""
import functools

import numpy as np
import pytest

import cupy
import minigrad as mg
import test_torch_habits as habits

STANDIN = getattr(cupy, "STANDIN", False)


class OnDevice:
    """``minigrad`` with its factories making tensors on the device: the ``lib`` of a case."""
    FACTORIES = ("tensor", "as_tensor", "zeros", "ones", "full", "arange", "linspace", "empty", "eye")

    def __getattr__(self, name):
        thing = getattr(mg, name)
        return functools.partial(thing, device="cuda") if name in self.FACTORIES else thing


def same_on_both(case, rtol=0.0):
    cpu, gpu = case(mg), case(OnDevice())
    cpu, gpu = (list(r) if isinstance(r, tuple) else [r] for r in (cpu, gpu))
    assert len(cpu) == len(gpu)
    for c, g in zip(cpu, gpu):
        assert isinstance(g, mg.Tensor) and g.device == "cuda", g
        assert g.dtype == c.dtype and g.shape == c.shape
        np.testing.assert_allclose(g.numpy(), c.numpy(), rtol=rtol)
    if STANDIN:
        assert cupy._counts.totals()["refused"] == 0


# on the CPU by definition, as in torch: the class constructor, and from_numpy (shares the array)
ON_THE_HOST = {"Tensor class", "Tensor class bool", "from_numpy"}


@pytest.mark.parametrize("name", sorted(set(habits.DTYPE_CASES) - ON_THE_HOST))
def test_dtype_rules_on_the_device(name):
    same_on_both(habits.DTYPE_CASES[name])


@pytest.mark.parametrize("name", sorted(set(habits.FUNCTIONS) - ON_THE_HOST))
def test_functions_by_torch_names_on_the_device(name):
    same_on_both(habits.FUNCTIONS[name], rtol=1e-6)


def test_in_place_ops_on_the_device():
    def ops(lib):
        x = lib.tensor(habits.X)
        x.add_(1).sub_(lib.tensor([1.0, 2.0, 3.0]), alpha=2).mul_(0.5).div_(2).clamp_(-1.0, 0.8)
        y = lib.tensor(habits.X)
        y[y > 0] = 0.0
        y[:, 1] = lib.tensor([7.0, 8.0])
        return x, y, lib.zeros(2, 3).fill_(3.0), lib.ones(2).zero_()
    same_on_both(ops)


def test_saved_input_changed_in_place_is_caught_on_the_device():
    a = mg.tensor([1.0, 2.0], requires_grad=True, device="cuda")
    b = a * 1.0
    c = b * b
    b.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        c.sum().backward()
