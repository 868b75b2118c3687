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
from minigrad.ops import (abs, add, all, allclose, amax, amin, any, argmax, argmin, argsort, bmm, cat, ceil, chunk,
                          clamp, clip, clone, concatenate, cos, cumsum, div, dot, eq, equal, exp, expm1, flatten, flip,
                          floor, floor_divide, gather, ge, gt, isclose, isfinite, isinf, isnan, le, log, log1p,
                          log_softmax, logsumexp, lt, masked_fill, matmul, max, maximum, mean, min, minimum, mm, mul,
                          ne, neg, nonzero, norm, outer, permute, pow, prod, reciprocal, relu, remainder, repeat,
                          reshape, round, rsqrt, sigmoid, sign, sin, softmax, sort, split, sqrt, square, squeeze,
                          stack, std, sub, sum, swapaxes, t, tanh, topk, transpose, trunc, unsqueeze, var, where)
from minigrad.random import get_rng_state, manual_seed, set_rng_state
from minigrad.serialization import load, save
from minigrad.tensor import Tensor, enable_grad, is_grad_enabled, no_grad, set_grad_enabled, tensor

__version__ = "0.1.0"

__all__ = ["abs", "add", "all", "allclose", "amax", "amin", "any", "arange", "argmax", "argmin", "argsort",
           "as_tensor", "backward", "bmm", "bool", "cat", "ceil", "chunk", "clamp", "clip", "clone", "concatenate",
           "cos", "cuda", "cuda_available", "cumsum", "data", "device", "div", "dot", "double", "dtypes", "empty",
           "empty_like", "enable_grad", "eq", "equal", "exp", "expm1", "eye", "flatten", "flip", "float", "float16",
           "float32", "float64", "floor", "floor_divide", "from_numpy", "full", "full_like", "functional", "gather",
           "ge", "get_default_dtype", "get_rng_state", "grad", "gradcheck", "GradcheckError", "gradgradcheck", "gt",
           "half", "int", "int16", "int32", "int64", "int8", "is_grad_enabled", "isclose", "isfinite", "isinf",
           "isnan", "le", "linspace", "log", "log1p", "log_softmax", "logsumexp", "long", "lt", "manual_seed",
           "masked_fill", "matmul", "max", "maximum", "mean", "min", "minimum", "mm", "mul", "ne", "neg", "nn",
           "no_grad", "nonzero", "norm", "ones", "ones_like", "optim", "outer", "permute", "pow", "prod", "rand",
           "rand_like", "randint", "randn", "randn_like", "randperm", "reciprocal", "relu", "remainder", "repeat",
           "reshape", "round", "rsqrt", "set_grad_enabled", "set_rng_state", "short", "sigmoid", "sign", "sin",
           "softmax", "sort", "split", "sqrt", "square", "squeeze", "stack", "std", "sub", "sum", "swapaxes", "t",
           "tanh", "Tensor", "tensor", "topk", "transpose", "trunc", "uint8", "unsqueeze", "var", "where", "zeros",
           "zeros_like"]
__all__ += ["load", "save"]
