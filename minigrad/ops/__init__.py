"""Every differentiable op, grouped by family. Each file declares an op's forward
and its vector-Jacobian products side by side. conv, pool and batchnorm are
kernel-backed (their arithmetic lives in ``kernels/``) and first-order only."""
from minigrad.ops.batchnorm import batch_norm
from minigrad.ops.conv import conv2d
from minigrad.ops.elementwise import (abs, add, clip, compare, div, exp, log, mul, neg, pow, relu,
                                      sigmoid, sqrt, sub, tanh, where)
from minigrad.ops.linalg import matmul
from minigrad.ops.pool import avg_pool2d, max_pool2d
from minigrad.ops.reduce import log_softmax, logsumexp, max, mean, min, softmax, sum
from minigrad.ops.shape import (astype, broadcast_to, concatenate, getitem, reshape, scatter_add,
                                stack, sum_to, to_device, transpose)

__all__ = ["abs", "add", "astype", "avg_pool2d", "batch_norm", "broadcast_to", "clip", "compare", "concatenate",
           "conv2d", "div", "exp", "getitem", "log", "log_softmax", "logsumexp", "matmul", "max", "max_pool2d",
           "mean", "min", "mul", "neg", "pow", "relu", "reshape", "scatter_add", "sigmoid", "softmax", "sqrt",
           "stack", "sub", "sum", "sum_to", "tanh", "to_device", "transpose", "where"]
