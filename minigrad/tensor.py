"""The Tensor, the Node that made it, and the switch that turns recording off.

A Tensor wraps an array (``.data``: NumPy on the CPU, CuPy on a GPU). When an op
runs on tensors that require gradients, its output gets a ``Node``: the op's name,
its input tensors (``parents``) and one vector-Jacobian product (VJP) per input.
There is no global tape: the graph is the web of nodes hanging off the output,
and ``backward()`` (in ``autograd.py``) walks it from the output down.
"""
import contextlib
import threading

import numpy as np

from minigrad import backend

float32 = np.float32
float64 = np.float64

_grad_mode = threading.local()


def is_grad_enabled():
    return getattr(_grad_mode, "enabled", True)


@contextlib.contextmanager
def set_grad_enabled(enabled):
    previous = is_grad_enabled()
    _grad_mode.enabled = bool(enabled)
    try:
        yield
    finally:
        _grad_mode.enabled = previous


def no_grad():
    """Context manager: ops inside record no graph (evaluation, optimizer steps)."""
    return set_grad_enabled(False)


def enable_grad():
    return set_grad_enabled(True)


class Node:
    """How a tensor was made: ``op`` applied to ``parents``.

    ``vjps[i](g, y)`` maps the gradient ``g`` of the output ``y`` to the gradient of
    ``parents[i]``: the vector-Jacobian product gᵀ·∂y/∂xᵢ, never the Jacobian itself.
    VJPs are written with Tensor ops, so with ``create_graph=True`` they record a
    graph of their own and can be differentiated again. A ``first_order`` node (a
    kernel-backed op) computes its VJPs on raw arrays and refuses that request.
    """
    __slots__ = ("op", "parents", "vjps", "first_order")

    def __init__(self, op, parents, vjps, first_order=False):
        self.op = op
        self.parents = parents
        self.vjps = vjps
        self.first_order = first_order

    def __repr__(self):
        return f"Node({self.op})"


def _as_array(data, dtype, device):
    """Turn user data into an array. Python numbers and lists become float32
    (PyTorch's default); an array keeps its dtype; dtype= overrides both."""
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, np.generic):  # a NumPy scalar keeps its dtype, like an array
        data = np.asarray(data)
    if not (isinstance(data, np.ndarray) or backend.is_cupy(data)):
        data = np.asarray(data)
        if dtype is None and data.dtype.kind in "fiu":
            dtype = float32
    if dtype is not None:
        data = data.astype(dtype, copy=False)
    if device is not None:
        data = backend.to_device(data, device)
    return data


class Tensor:
    """An n-dimensional array that remembers how it was computed.

    Attributes: ``data`` (numpy or cupy array), ``grad`` (a Tensor or None),
    ``requires_grad``, ``node`` (the Node that made it; None for a leaf).
    """
    # Make `ndarray + Tensor` call Tensor.__radd__ instead of NumPy's own loop.
    __array_ufunc__ = None

    def __init__(self, data, requires_grad=False, dtype=None, device=None):
        self.data = _as_array(data, dtype, device)
        self.grad = None
        self.node = None
        self._retain_grad = False
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, data):
        """A Tensor around an array that is already right (no checks, no copy)."""
        t = cls.__new__(cls)
        t.data, t.grad, t.node, t._retain_grad, t.requires_grad = data, None, None, False, False
        return t

    # ---- facts about the data -------------------------------------------------
    shape = property(lambda self: self.data.shape)
    dtype = property(lambda self: self.data.dtype)
    ndim = property(lambda self: self.data.ndim)
    size = property(lambda self: self.data.size)
    device = property(lambda self: backend.device_of(self.data))
    is_leaf = property(lambda self: self.node is None)

    def __len__(self):
        return len(self.data)

    def __repr__(self):
        body = np.array2string(backend.to_numpy(self.data), separator=", ", precision=4,
                               threshold=20, edgeitems=2, prefix="tensor(")
        extras = [] if self.dtype == float32 else [f"dtype={self.dtype}"]
        if self.device != "cpu":
            extras.append(f"device='{self.device}'")
        if self.node is not None:
            extras.append(f"op={self.node.op}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body] + extras) + ")"

    __hash__ = object.__hash__  # == is elementwise, so hash by identity

    def __bool__(self):
        if self.size != 1:
            raise ValueError(f"the truth value of a tensor of shape {self.shape} is ambiguous")
        return bool(self.item())

    # ---- leaving the graph ------------------------------------------------------
    def item(self):
        """The single value of a one-element tensor as a Python number."""
        if self.size != 1:
            raise ValueError(f"item(): tensor has {self.size} elements, expected 1")
        return self.data.reshape(()).item()

    def numpy(self):
        """The data as a NumPy array (shared with the tensor on the CPU; copied from a GPU)."""
        return backend.to_numpy(self.data)

    def tolist(self):
        return self.numpy().tolist()

    def __array__(self, dtype=None, copy=None):
        array = self.numpy()
        return array if dtype is None else array.astype(dtype)

    def detach(self):
        """The same data, cut from the graph (no node, no grad)."""
        return Tensor._wrap(self.data)

    def requires_grad_(self, flag=True):
        if flag and self.dtype.kind != "f":
            raise TypeError(f"requires_grad: only floating-point tensors can have gradients, "
                            f"got dtype {self.dtype}")
        if not flag and self.node is not None:
            raise RuntimeError("requires_grad_(False) on a non-leaf tensor: use .detach()")
        self.requires_grad = bool(flag)
        return self

    def retain_grad(self):
        """Keep ``.grad`` on this non-leaf tensor after ``backward()`` (for inspection)."""
        self._retain_grad = True
        return self

    # ---- autodiff ----------------------------------------------------------------
    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(self)`` during ``backward()`` each time this leaf's ``.grad`` has just
        been accumulated (torch's name; DistributedDataParallel starts all-reduces from it)."""
        if self.node is not None:
            raise RuntimeError("register_post_accumulate_grad_hook: only leaf tensors accumulate .grad")
        self.__dict__.setdefault("_post_accumulate_grad_hooks", []).append(hook)

    def backward(self, grad=None, create_graph=False):
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``; see ``minigrad.autograd``."""
        from minigrad import autograd
        autograd.backward(self, grad, create_graph)

    # ---- moving and casting (differentiable) ------------------------------------------
    def to(self, device=None, dtype=None):
        out = self
        if dtype is not None and np.dtype(dtype) != self.dtype:
            out = ops.astype(out, dtype)
        if device is not None and device != self.device:
            out = ops.to_device(out, device)
        return out

    def cpu(self):
        return self.to("cpu")

    def cuda(self):
        return self.to("cuda")

    def float(self):
        return self.to(dtype=float32)

    def double(self):
        return self.to(dtype=float64)

    # ---- operators: each one is an op in minigrad/ops -----------------------------------
    def __add__(self, other): return ops.add(self, other)
    def __radd__(self, other): return ops.add(other, self)
    def __sub__(self, other): return ops.sub(self, other)
    def __rsub__(self, other): return ops.sub(other, self)
    def __mul__(self, other): return ops.mul(self, other)
    def __rmul__(self, other): return ops.mul(other, self)
    def __truediv__(self, other): return ops.div(self, other)
    def __rtruediv__(self, other): return ops.div(other, self)
    def __pow__(self, other): return ops.pow(self, other)
    def __rpow__(self, other): return ops.pow(other, self)
    def __matmul__(self, other): return ops.matmul(self, other)
    def __rmatmul__(self, other): return ops.matmul(other, self)
    def __neg__(self): return ops.neg(self)
    def __getitem__(self, index): return ops.getitem(self, index)
    def __lt__(self, other): return ops.compare("lt", self, other)
    def __le__(self, other): return ops.compare("le", self, other)
    def __gt__(self, other): return ops.compare("gt", self, other)
    def __ge__(self, other): return ops.compare("ge", self, other)
    def __eq__(self, other): return ops.compare("eq", self, other)
    def __ne__(self, other): return ops.compare("ne", self, other)

    def exp(self): return ops.exp(self)
    def log(self): return ops.log(self)
    def sqrt(self): return ops.sqrt(self)
    def tanh(self): return ops.tanh(self)
    def sigmoid(self): return ops.sigmoid(self)
    def relu(self): return ops.relu(self)
    def abs(self): return ops.abs(self)
    def clip(self, min=None, max=None): return ops.clip(self, min, max)
    def sum(self, axis=None, keepdims=False): return ops.sum(self, axis, keepdims)
    def mean(self, axis=None, keepdims=False): return ops.mean(self, axis, keepdims)
    def max(self, axis=None, keepdims=False): return ops.max(self, axis, keepdims)
    def min(self, axis=None, keepdims=False): return ops.min(self, axis, keepdims)
    def logsumexp(self, axis=None, keepdims=False): return ops.logsumexp(self, axis, keepdims)
    def softmax(self, axis=-1): return ops.softmax(self, axis)
    def log_softmax(self, axis=-1): return ops.log_softmax(self, axis)

    def reshape(self, *shape):
        return ops.reshape(self, shape[0] if len(shape) == 1 and not isinstance(shape[0], int) else shape)

    def transpose(self, *axes):
        return ops.transpose(self, axes[0] if len(axes) == 1 and not isinstance(axes[0], int) else (axes or None))

    def permute(self, *axes):
        return self.transpose(*axes)

    @property
    def T(self):
        return ops.transpose(self, None)

    def flatten(self, start_dim=0):
        return ops.reshape(self, self.shape[:start_dim] + (-1,))


def result(data, op, parents, vjps, first_order=False):
    """The output tensor of an op. Records a Node only when gradients are on and
    some input needs one, so inference under ``no_grad()`` builds no graph."""
    out = Tensor._wrap(data)
    if is_grad_enabled() and any(p.requires_grad for p in parents):
        out.requires_grad = True
        out.node = Node(op, parents, vjps, first_order)
    return out


def tensor(data, requires_grad=False, dtype=None, device=None):
    """Make a leaf tensor. Python numbers and lists become float32; a NumPy/CuPy
    array keeps its dtype (so float64 stays float64, int labels stay int)."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, device=device)


from minigrad import ops  # noqa: E402  (the ops need Tensor defined first)
