"""Kernel-backed pooling ops: the forward and the backward are ``kernels.pool``
functions on raw arrays, so these ops are first-order (``create_graph=True`` through
them raises). x: (N, C, H, W) → (N, C, Ho, Wo), Ho = (H + 2·padding − kernel) // stride + 1.
"""
import kernels.pool
from minigrad.tensor import Tensor, result


def max_pool2d(x, kernel_size, stride=None, padding=0):
    """The largest value of each kh×kw window (padding counts as −∞). ``stride``
    defaults to ``kernel_size``; each may be an int or an (h, w) pair."""
    y, argmax = kernels.pool.max_forward(x.array, kernel_size, stride, padding)
    # the gradient flows only to each window's winner, recorded by the forward
    return result(y, "max_pool2d", (x,),
                  (lambda g, out: Tensor._wrap(kernels.pool.max_backward(
                      g.array, argmax, x.shape, kernel_size, stride, padding)),),
                  first_order=True)


def avg_pool2d(x, kernel_size, stride=None, padding=0):
    """The mean of each kh×kw window, zero padding included in the count (PyTorch's
    ``count_include_pad=True``): every window divides by kh·kw."""
    y = kernels.pool.avg_forward(x.array, kernel_size, stride, padding)
    return result(y, "avg_pool2d", (x,),
                  (lambda g, out: Tensor._wrap(kernels.pool.avg_backward(
                      g.array, x.shape, kernel_size, stride, padding)),),
                  first_order=True)
