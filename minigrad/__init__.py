"""minigrad: a small deep-learning engine to read and to train with.

    import minigrad as mg
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    x.grad  # tensor([2., 4.])
"""
from minigrad import cuda, data, dtypes, functional, nn, optim
from minigrad.autograd import backward, grad
from minigrad.backend import cuda_available, device
from minigrad.creation import (arange, as_tensor, empty, empty_like, eye, from_numpy, full, full_like, linspace,
                               ones, ones_like, rand, rand_like, randint, randn, randn_like, randperm, zeros,
                               zeros_like)
from minigrad.dtypes import (bool, double, float, float16, float32, float64, get_default_dtype, half, int,
                             int8, int16, int32, int64, long, short, uint8)
from minigrad.gradcheck import GradcheckError, gradcheck, gradgradcheck
from minigrad.ops import (abs, all, amax, amin, any, argmax, argmin, cat, clamp, clip, clone, concatenate, eq, exp,
                          flatten, gather, ge, gt, le, log, log_softmax, logsumexp, lt, masked_fill, matmul, max,
                          maximum, mean, min, minimum, ne, permute, relu, reshape, sigmoid, softmax, sqrt, square,
                          squeeze, stack, std, sum, swapaxes, t, tanh, transpose, unsqueeze, var, where)
from minigrad.random import get_rng_state, manual_seed, set_rng_state
from minigrad.serialization import load, save
from minigrad.tensor import Tensor, enable_grad, is_grad_enabled, no_grad, set_grad_enabled, tensor

__version__ = "0.1.0"

__all__ = ["GradcheckError", "Tensor", "abs", "all", "amax", "amin", "any", "arange", "argmax", "argmin",
           "as_tensor", "backward", "bool", "cat", "clamp", "clip", "clone", "concatenate", "cuda", "cuda_available",
           "data", "device", "double", "dtypes", "empty", "empty_like", "enable_grad", "eq", "exp", "eye", "flatten",
           "float", "float16", "float32", "float64", "from_numpy", "full", "full_like", "functional", "gather", "ge",
           "get_default_dtype", "get_rng_state", "grad", "gradcheck", "gradgradcheck", "gt", "half", "int", "int8",
           "int16", "int32", "int64", "is_grad_enabled", "le", "linspace", "log", "log_softmax", "logsumexp",
           "long", "lt", "manual_seed", "masked_fill", "matmul", "max", "maximum", "mean", "min", "minimum", "ne",
           "nn", "no_grad", "ones", "ones_like", "optim", "permute", "rand", "rand_like", "randint", "randn",
           "randn_like", "randperm", "relu", "reshape", "set_grad_enabled", "set_rng_state", "short", "sigmoid",
           "softmax", "sqrt", "square", "squeeze", "stack", "std", "sum", "swapaxes", "t", "tanh", "tensor",
           "transpose", "uint8", "unsqueeze", "var", "where", "zeros", "zeros_like"]
__all__ += ["load", "save"]
