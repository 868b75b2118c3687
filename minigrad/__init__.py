"""minigrad: a small deep-learning engine to read and to train with.

    import minigrad as mg
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    x.grad  # tensor([2., 4.])
"""
from minigrad import data, functional, nn, optim
from minigrad.autograd import backward, grad
from minigrad.backend import cuda_available
from minigrad.gradcheck import GradcheckError, gradcheck, gradgradcheck
from minigrad.ops import concatenate, stack, where
from minigrad.random import get_rng_state, manual_seed, set_rng_state
from minigrad.serialization import load, save
from minigrad.tensor import Tensor, enable_grad, float32, float64, is_grad_enabled, no_grad, set_grad_enabled, tensor

__version__ = "0.1.0"

__all__ = ["GradcheckError", "Tensor", "backward", "concatenate", "cuda_available", "data", "enable_grad", "float32",
           "float64", "functional", "get_rng_state", "grad", "gradcheck", "gradgradcheck", "is_grad_enabled",
           "manual_seed", "nn", "no_grad", "optim", "set_grad_enabled", "set_rng_state", "stack", "tensor", "where"]
__all__ += ["load", "save"]
