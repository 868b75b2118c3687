"""Every differentiable op, grouped by family. Each file declares an op's forward
and its vector-Jacobian products side by side. conv, pool and batchnorm are
kernel-backed (their arithmetic lives in ``kernels/``) and first-order only.
``inplace`` turns an op into its in-place form (``add_``, ``x[i] = v``)."""
from minigrad.ops import inplace
from minigrad.ops.batchnorm import batch_norm
from minigrad.ops.conv import conv2d
from minigrad.ops.elementwise import (abs, add, clamp, clip, div, eq, exp, ge, gt, le, log, logical, logical_not,
                                      lt, masked_fill, maximum, minimum, mul, ne, neg, pow, relu, sigmoid, sqrt,
                                      square, sub, tanh, where)
from minigrad.ops.linalg import matmul
from minigrad.ops.pool import avg_pool2d, max_pool2d
from minigrad.ops.reduce import (all, amax, amin, any, argmax, argmin, log_softmax, logsumexp, max, mean, min,
                                 softmax, std, sum, var)
from minigrad.ops.shape import (astype, broadcast_to, cat, clone, concatenate, expand, flatten, gather, getitem,
                                index_put, permute, reshape, scatter_add, squeeze, stack, sum_to, swapaxes, t,
                                to_device, transpose, unsqueeze)

__all__ = ["abs", "add", "all", "amax", "amin", "any", "argmax", "argmin", "astype", "avg_pool2d", "batch_norm",
           "broadcast_to", "cat", "clamp", "clip", "clone", "concatenate", "conv2d", "div", "eq", "exp", "expand",
           "flatten", "gather", "ge", "getitem", "gt", "index_put", "inplace", "le", "log", "log_softmax",
           "logical", "logical_not", "logsumexp", "lt", "masked_fill", "matmul", "max", "max_pool2d", "maximum",
           "mean", "min", "minimum", "mul", "ne", "neg", "permute", "pow", "relu", "reshape", "scatter_add",
           "sigmoid", "softmax", "sqrt", "square", "squeeze", "stack", "std", "sub", "sum", "sum_to", "swapaxes",
           "t", "tanh", "to_device", "transpose", "unsqueeze", "var", "where"]
