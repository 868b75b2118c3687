"""Every differentiable op, grouped by family. Each file declares an op's forward
and its vector-Jacobian products side by side. conv, pool and batchnorm are
kernel-backed (their arithmetic lives in ``kernels/``) and first-order only.
``inplace`` turns an op into its in-place form (``add_``, ``x[i] = v``)."""
from minigrad.ops import inplace
from minigrad.ops.batchnorm import batch_norm
from minigrad.ops.conv import conv2d
from minigrad.ops.elementwise import (abs, add, allclose, ceil, clamp, clip, cos, div, eq, equal, exp, expm1, floor,
                                      floor_divide, ge, gt, isclose, isfinite, isinf, isnan, le, log, log1p,
                                      logical, logical_not, lt, masked_fill, maximum, minimum, mul, ne, neg, pow,
                                      reciprocal, relu, remainder, round, rsqrt, sigmoid, sign, sin, sqrt, square,
                                      sub, tanh, tril, triu, trunc, where)
from minigrad.ops.elementwise import (acos, acosh, arccos, arccosh, arcsin, arcsinh, arctan, arctan2, arctanh, asin,
                                      asinh, atan, atan2, atanh, bitwise_and, bitwise_left_shift, bitwise_not,
                                      bitwise_or, bitwise_right_shift, bitwise_xor, copysign, cosh, erf, exp2, fmod,
                                      hypot, lerp, log2, logaddexp, logical_and, logical_or, logical_xor, sinh, tan)
from minigrad.ops.reduce import cummax, cummin, cumprod, logcumsumexp, std_mean, var_mean
from minigrad.ops.shape import (diag, diag_embed, diagonal, meshgrid, moveaxis, movedim, repeat_interleave, roll,
                                scatter_reduce, swapdims, trace, unflatten, unfold)
from minigrad.ops.linalg import bmm, dot, einsum, matmul, mm, outer
from minigrad.ops.pool import avg_pool2d, max_pool2d
from minigrad.ops.reduce import (all, amax, amin, any, argmax, argmin, argsort, cumsum, log_softmax, logsumexp, max,
                                 mean, min, norm, prod, softmax, sort, std, sum, topk, var)
from minigrad.ops.shape import (astype, broadcast_to, cat, chunk, clone, concatenate, contiguous, expand, flatten,
                                flip, gather, getitem, index_put, index_select, masked_select, narrow, nonzero,
                                permute, repeat, reshape, scatter, scatter_add, scatter_to, split, squeeze, stack,
                                sum_to, swapaxes, t, take, to_device, transpose, unbind, unique, unsqueeze, view)

__all__ = ["abs", "add", "all", "allclose", "amax", "amin", "any", "argmax", "argmin", "argsort", "astype",
           "avg_pool2d", "batch_norm", "bmm", "broadcast_to", "cat", "ceil", "chunk", "clamp", "clip", "clone",
           "concatenate", "contiguous", "conv2d", "cos", "cumsum", "div", "dot", "einsum", "eq", "equal", "exp",
           "expand", "expm1", "flatten", "flip", "floor", "floor_divide", "gather", "ge", "getitem", "gt",
           "index_put", "index_select", "inplace", "isclose", "isfinite", "isinf", "isnan", "le", "log", "log1p",
           "log_softmax", "logical", "logical_not", "logsumexp", "lt", "masked_fill", "masked_select", "matmul",
           "max", "max_pool2d", "maximum", "mean", "min", "minimum", "mm", "mul", "narrow", "ne", "neg", "nonzero",
           "norm", "outer", "permute", "pow", "prod", "reciprocal", "relu", "remainder", "repeat", "reshape",
           "round", "rsqrt", "scatter", "scatter_add", "scatter_to", "sigmoid", "sign", "sin", "softmax", "sort",
           "split", "sqrt", "square", "squeeze", "stack", "std", "sub", "sum", "sum_to", "swapaxes", "t", "take",
           "tanh", "to_device", "topk", "transpose", "tril", "triu", "trunc", "unbind", "unique", "unsqueeze",
           "var", "view", "where"]
__all__ += ["acos", "acosh", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctan2", "arctanh", "asin", "asinh",
            "atan", "atan2", "atanh", "bitwise_and", "bitwise_left_shift", "bitwise_not", "bitwise_or",
            "bitwise_right_shift", "bitwise_xor", "copysign", "cosh", "erf", "exp2", "fmod", "hypot", "lerp", "log2",
            "logaddexp", "logical_and", "logical_or", "logical_xor", "sinh", "tan", "cummax", "cummin", "cumprod",
            "logcumsumexp", "std_mean", "var_mean", "diag", "diag_embed", "diagonal", "meshgrid", "moveaxis",
            "movedim", "repeat_interleave", "roll", "scatter_reduce", "swapdims", "trace", "unflatten", "unfold"]
from minigrad.ops.elementwise import (addcdiv, addcmul, clamp_max, clamp_min, deg2rad, float_power, frac, logit,
                                      nan_to_num, rad2deg, signbit, xlogy)
from minigrad.ops.reduce import (aminmax, count_nonzero, nansum)
from minigrad.ops.shape import (argwhere, atleast_1d, atleast_2d, atleast_3d, column_stack, dstack, fliplr, flipud,
                                hstack, take_along_dim, vstack)
from minigrad.ops.linalg import (addmm, baddbmm, tensordot)
__all__ += ["addcdiv", "addcmul", "addmm", "aminmax", "argwhere", "atleast_1d", "atleast_2d", "atleast_3d", "baddbmm",
            "clamp_max", "clamp_min", "column_stack", "count_nonzero", "deg2rad", "dstack", "fliplr", "flipud",
            "float_power", "frac", "hstack", "logit", "nan_to_num", "nansum", "rad2deg", "signbit", "take_along_dim",
            "tensordot", "vstack", "xlogy"]
from minigrad.ops.indexed import index_add, index_copy, index_fill
from minigrad.ops.reduce import kthvalue, median, nanmedian
__all__ += ["index_add", "index_copy", "index_fill", "kthvalue", "median", "nanmedian"]
from minigrad.ops.linalg import cross
from minigrad.ops.norms import cdist
from minigrad.ops.rearrange import kron, rot90, tensor_split
__all__ += ["cdist", "cross", "kron", "rot90", "tensor_split"]
from minigrad.ops.binning import bincount, bucketize, histc, searchsorted
from minigrad.ops.special import digamma, erfc, erfinv, lgamma
__all__ += ["bincount", "bucketize", "digamma", "erfc", "erfinv", "histc", "lgamma", "searchsorted"]
