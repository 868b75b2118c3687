"""Kernel-backed pooling ops: the forward and the backward are ``kernels.pool``
functions on raw arrays, so these ops are first-order (``create_graph=True`` through
them raises). x: (N, C, H, W) → (N, C, Ho, Wo),
Ho = ⌊(H + 2·padding − dilation·(kernel − 1) − 1) / stride⌋ + 1.

``max_unpool2d`` puts pooled values back where their indices say: a scatter whose
gradient is the matching gather, both plain array indexing.
"""
import numpy as np

import kernels.pool
from minigrad import backend
from minigrad.ops.base import check_devices, check_index_range
from minigrad.tensor import Tensor, result


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, return_indices=False):
    """The largest value of each kh×kw window (padding counts as −∞), its taps dilation
    apart. ``stride`` defaults to ``kernel_size``; each may be an int or an (h, w) pair.
    An integer x pools too, forward only (integers carry no gradient). return_indices:
    also the winners' flat positions h·W + w in their planes, an int64 Tensor."""
    y, argmax = kernels.pool.max_forward(x.array, kernel_size, stride, padding, dilation)
    # the gradient flows only to each window's winner, recorded by the forward
    out = result(y, "max_pool2d", (x,),
                 (lambda g, out: Tensor._wrap(kernels.pool.max_backward(
                     g.array, argmax, x.shape, kernel_size, stride, padding, dilation)),),
                 first_order=True)
    return (out, Tensor._wrap(argmax)) if return_indices else out


def avg_pool2d(x, kernel_size, stride=None, padding=0):
    """The mean of each kh×kw window, zero padding included in the count (PyTorch's
    ``count_include_pad=True``): every window divides by kh·kw."""
    y = kernels.pool.avg_forward(x.array, kernel_size, stride, padding)
    return result(y, "avg_pool2d", (x,),
                  (lambda g, out: Tensor._wrap(kernels.pool.avg_backward(
                      g.array, x.shape, kernel_size, stride, padding)),),
                  first_order=True)


def max_unpool2d(x, indices, output_size):
    """x, indices: (N, C, H, W) as ``max_pool2d(..., return_indices=True)`` gives them →
    (N, C, *output_size): zeros, with x[n, c, i, j] at the flat position
    indices[n, c, i, j] of plane (n, c). Overlapping windows that picked the same input
    name it twice with the same value, so writing (not adding) is what undoes the pool.
    The gradient reads back from those positions: gx[n, c, i, j] = g[n, c].flat[indices[n, c, i, j]]."""
    op = "max_unpool2d"
    check_devices(op, x, indices)
    if indices.array.dtype != np.int64:
        raise RuntimeError(f"{op}: indices must be int64, as max_pool2d returns them, got {indices.array.dtype}")
    if tuple(indices.shape) != tuple(x.shape) or x.ndim != 4:
        raise RuntimeError(f"{op}: expects an (N, C, H, W) input and indices of its shape, got input "
                           f"{tuple(x.shape)} and indices {tuple(indices.shape)}")
    (n, c), (oh, ow) = x.shape[:2], output_size
    xp = backend.xp(x.array)
    planes = indices.array.reshape(n * c, -1)
    check_index_range(planes, oh * ow, lambda bad: RuntimeError(  # queued on a GPU: no wait here
        f"{op}: found an invalid max index {bad} (output planes are of size {oh}x{ow})"), negatives=False)
    flat = (planes + xp.arange(n * c).reshape(-1, 1) * (oh * ow)).reshape(-1)  # positions in y, flattened
    y = xp.zeros(n * c * oh * ow, dtype=x.array.dtype)
    y[flat] = x.array.reshape(-1)
    return result(y.reshape(n, c, oh, ow), op, (x,),
                  (lambda g, out: Tensor._wrap(g.array.reshape(-1)[flat].reshape(x.shape)),), first_order=True)
