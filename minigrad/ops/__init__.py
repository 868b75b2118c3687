"""Every differentiable op, grouped by family. Each file declares an op's forward
and its vector-Jacobian products side by side."""
from minigrad.ops.elementwise import (abs, add, clip, compare, div, exp, log, mul, neg, pow, relu,
                                      sigmoid, sqrt, sub, tanh, where)
from minigrad.ops.batchnorm import batch_norm
from minigrad.ops.linalg import matmul
from minigrad.ops.pool import avg_pool2d, max_pool2d
from minigrad.ops.reduce import log_softmax, logsumexp, max, mean, min, softmax, sum
from minigrad.ops.shape import (astype, broadcast_to, concatenate, getitem, reshape, scatter_add,
                                stack, sum_to, to_device, transpose)

__all__ = ["abs", "add", "astype", "broadcast_to", "clip", "compare", "concatenate", "div", "exp",
           "getitem", "log", "log_softmax", "logsumexp", "matmul", "max", "mean", "min", "mul", "neg",
           "pow", "relu", "reshape", "scatter_add", "sigmoid", "softmax", "sqrt", "stack", "sub", "sum",
           "sum_to", "tanh", "to_device", "transpose", "where"]
__all__ += ["avg_pool2d", "batch_norm", "max_pool2d"]  # kernel-backed
