"""minigrad: a small deep-learning engine to read and to train with.

    import minigrad as mg
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    x.grad  # tensor([2., 4.])
"""
from kernels.cpu_threads import get_num_threads, set_num_threads
from minigrad import accelerator, cuda, data, dtypes, functional, nn, optim, utils
from minigrad.autograd import backward, grad
from minigrad.backend import cuda_available, device
from minigrad.creation import get_default_device, set_default_device
from minigrad.creation import (arange, as_tensor, empty, empty_like, eye, from_numpy, full, full_like, linspace,
                               ones, ones_like, rand, rand_like, randint, randn, randn_like, randperm, zeros,
                               zeros_like)
from minigrad.dtypes import (bool, double, dtype, float, float16, float32, float64, get_default_dtype, half, int,
                             int8, int16, int32, int64, long, set_default_dtype, short, uint8)
from minigrad.gradcheck import GradcheckError, gradcheck, gradgradcheck
from minigrad.ops import (abs, add, all, allclose, amax, amin, any, argmax, argmin, argsort, bmm, cat, ceil, chunk,
                          clamp, clip, clone, concatenate, cos, cumsum, div, dot, einsum, eq, equal, exp, expm1,
                          flatten, flip, floor, floor_divide, gather, ge, gt, index_select, isclose, isfinite, isinf,
                          isnan, le, log, log1p, log_softmax, logsumexp, lt, masked_fill, masked_select, matmul, max,
                          maximum, mean, min, minimum, mm, mul, narrow, ne, neg, nonzero, norm, outer, permute, pow,
                          prod, reciprocal, relu, remainder, repeat, reshape, round, rsqrt, scatter, scatter_add,
                          sigmoid, sign, sin, softmax, sort, split, sqrt, square, squeeze, stack, std, sub, sum,
                          swapaxes, t, take, tanh, topk, transpose, tril, triu, trunc, unbind, unique, unsqueeze, var,
                          where)
from minigrad.ops.base import torch_function as _torch_function
from minigrad.printing import get_printoptions, set_printoptions
from minigrad.random import Generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state
from minigrad.serialization import load, save
from minigrad.tensor import (Size, Tensor, enable_grad, inference_mode, is_grad_enabled, is_tensor, no_grad,
                             set_grad_enabled, tensor)

from minigrad.ops import (acos, acosh, arccos, arccosh, arcsin, arcsinh, arctan, arctan2, arctanh, asin,
                          asinh, atan, atan2, atanh, bitwise_and, bitwise_left_shift, bitwise_not, bitwise_or,
                          bitwise_right_shift, bitwise_xor, copysign, cosh, cummax, cummin, cumprod, diag, diag_embed,
                          diagonal, erf, exp2, fmod, hypot, lerp, log2, logaddexp, logcumsumexp, logical_and,
                          logical_not, logical_or, logical_xor, meshgrid, moveaxis, movedim, repeat_interleave, roll,
                          scatter_reduce, sinh, std_mean, swapdims, tan, trace, unflatten, var_mean)
from minigrad.ops import (addcdiv, addcmul, addmm, aminmax, argwhere, atleast_1d, atleast_2d, atleast_3d, baddbmm,
                          clamp_max, clamp_min, column_stack, count_nonzero, deg2rad, dstack, fliplr, flipud,
                          float_power, frac, hstack, logit, nan_to_num, nansum, rad2deg, signbit, take_along_dim,
                          tensordot, vstack, xlogy)
from minigrad.ops import index_add, index_copy, index_fill, kthvalue, median, nanmedian
from minigrad.ops import cdist, cross, kron, rot90, tensor_split
from minigrad.ops import bincount, bucketize, digamma, erfc, erfinv, histc, lgamma, searchsorted

# PyTorch's keyword names (input=, other=, ...) and out= on every public op and creation function
for _name, _value in list(globals().items()):
    if callable(_value) and getattr(_value, "__module__", "").startswith(("minigrad.ops", "minigrad.creation")):
        globals()[_name] = _torch_function(_value, _name)

__version__ = "0.1.0"

from minigrad import backends, xpu  # noqa: E402 (torch.backends.mps, torch.xpu: the device questions)
from minigrad import linalg  # noqa: E402 (torch.linalg: its own argument names, not wrapped above)
from minigrad.random_sampling import bernoulli, multinomial, normal  # noqa: E402 (torch's argument names already)
from minigrad import special  # noqa: E402 (torch.special's names)

# torch's constants, as tutorials write torch.linspace(-torch.pi, torch.pi, ...); they stay out of
# __all__, like the builtins' names, so `from minigrad import *` cannot shadow a user's own e.
from math import e, inf, nan, pi  # noqa: E402

numel = Tensor.numel  # torch.numel(x) is x.numel()

# Names that would shadow Python's builtins (max, sum, int, ...) stay out of __all__, so
# `from minigrad import *` cannot replace them; use them as mg.max, mg.sum, mg.int.
__all__ = ["add", "allclose", "amax", "amin", "arange", "argmax", "argmin", "argsort", "as_tensor", "backward",
           "backends", "numel", "xpu",
           "bmm", "cat", "ceil", "chunk", "clamp", "clip", "clone", "concatenate", "cos", "cuda", "cuda_available",
           "cumsum", "data", "device", "div", "dot", "double", "dtypes", "einsum", "empty", "empty_like",
           "enable_grad", "eq", "equal", "exp", "expm1", "eye", "flatten", "flip", "float16", "float32", "float64",
           "floor", "floor_divide", "from_numpy", "full", "full_like", "functional", "gather", "ge",
           "get_default_dtype", "get_rng_state", "grad", "gradcheck", "GradcheckError", "gradgradcheck", "gt",
           "half", "index_select", "inference_mode", "int16", "int32", "int64", "int8", "is_grad_enabled",
           "is_tensor", "isclose", "isfinite", "isinf", "isnan", "le", "linspace", "log", "log1p", "log_softmax",
           "logsumexp", "long", "lt", "manual_seed", "masked_fill", "masked_select", "matmul", "maximum", "mean",
           "minimum", "mm", "mul", "narrow", "ne", "neg", "nn", "no_grad", "nonzero", "norm", "ones", "ones_like",
           "optim", "outer", "permute", "prod", "rand", "rand_like", "randint", "randn", "randn_like", "randperm",
           "reciprocal", "relu", "remainder", "repeat", "reshape", "rsqrt", "scatter", "scatter_add",
           "set_default_dtype", "set_grad_enabled", "set_rng_state", "short", "sigmoid", "sign", "sin", "softmax",
           "sort", "split", "sqrt", "square", "squeeze", "stack", "std", "sub", "swapaxes", "t", "take", "tanh",
           "Tensor", "tensor", "topk", "transpose", "tril", "triu", "trunc", "uint8", "unbind", "unique",
           "unsqueeze", "var", "where", "zeros", "zeros_like"]
__all__ += ["load", "save", "Size", "dtype", "get_printoptions", "set_printoptions", "initial_seed", "seed",
            "Generator"]
__all__ += ["accelerator", "get_default_device", "get_num_threads", "set_default_device", "set_num_threads",
            "utils"]
__all__ += ["acos", "acosh", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctan2", "arctanh", "asin", "asinh",
            "atan", "atan2", "atanh", "bitwise_and", "bitwise_left_shift", "bitwise_not", "bitwise_or",
            "bitwise_right_shift", "bitwise_xor", "copysign", "cosh", "cummax", "cummin", "cumprod", "diag",
            "diag_embed", "diagonal", "erf", "exp2", "fmod", "hypot", "lerp", "log2", "logaddexp", "logcumsumexp",
            "logical_and", "logical_not", "logical_or", "logical_xor", "meshgrid", "moveaxis", "movedim",
            "repeat_interleave", "roll", "scatter_reduce", "sinh", "std_mean", "swapdims", "tan", "trace", "unflatten", "var_mean"]
__all__ += ["addcdiv", "addcmul", "addmm", "aminmax", "argwhere", "atleast_1d", "atleast_2d", "atleast_3d", "baddbmm",
            "clamp_max", "clamp_min", "column_stack", "count_nonzero", "deg2rad", "dstack", "fliplr", "flipud",
            "float_power", "frac", "hstack", "logit", "nan_to_num", "nansum", "rad2deg", "signbit", "take_along_dim",
            "tensordot", "vstack", "xlogy"]
__all__ += ["index_add", "index_copy", "index_fill", "kthvalue", "median", "nanmedian"]
__all__ += ["cdist", "cross", "kron", "linalg", "rot90", "tensor_split"]
__all__ += ["bernoulli", "multinomial", "normal"]
__all__ += ["bincount", "bucketize", "digamma", "erfc", "erfinv", "histc", "lgamma", "searchsorted", "special"]
