"""The Tensor, the Node that made it, and the switch that turns recording off.

A Tensor wraps an array (``.array``: NumPy on the CPU, CuPy on a GPU). When an op
runs on tensors that require gradients, its output gets a ``Node``: the op's name,
its input tensors (``parents``) and one vector-Jacobian product (VJP) per input.
There is no global tape: the graph is the web of nodes hanging off the output,
and ``backward()`` (in ``autograd.py``) walks it from the output down.

In-place ops (``x += 1``, ``add_``, ``x[mask] = 0``) are guarded as in PyTorch: every
tensor carries a version counter (shared with its views) that each in-place op bumps;
a node remembers the versions of the tensors its VJPs will read, and ``backward``
refuses to use one that has changed since (see ``Node.check_saved``).
"""
import builtins
import contextlib
import functools
import math
import threading

import numpy as np

from minigrad import backend, dtypes, printing
from minigrad.dtypes import float32, float64


class _GradMode(threading.local):
    """Whether ops record a graph, per thread as in PyTorch; on by default in every thread
    (the class attribute: a thread that never set it reads it, with no getattr default)."""
    enabled = True


_grad_mode = _GradMode()


def is_grad_enabled():
    return _grad_mode.enabled


class _GradModeBlock(contextlib.ContextDecorator):
    """A ``with`` block (or a decorated function) that runs with recording on or off, and
    puts the previous setting back at its end, also when it raises. A class rather than
    a generator: every optimizer step and every backward enters one."""

    def __init__(self, enabled):
        self.enabled = bool(enabled)

    def __enter__(self):
        self.previous, _grad_mode.enabled = _grad_mode.enabled, self.enabled

    def __exit__(self, *exc):
        _grad_mode.enabled = self.previous

    def _recreate_cm(self):  # a decorated function may recurse: one block per call
        return _GradModeBlock(self.enabled)


class set_grad_enabled(_GradModeBlock):
    """As ``torch.set_grad_enabled``: switches recording on or off at once, so a plain call
    changes this thread's setting; used with ``with``, the block's end puts back the setting
    from before the call; as a decorator, each call of the function runs with it."""

    def __init__(self, enabled):
        super().__init__(enabled)
        super().__enter__()  # at once, as torch

    def __enter__(self):
        pass  # switched when made

    def __call__(self, function):
        # ``@set_grad_enabled(False)``: undo the switch made when the decorator was built,
        # and switch around each call instead
        _grad_mode.enabled = self.previous
        return _GradModeBlock(self.enabled)(function)


def no_grad():
    """Context manager (or decorator): ops inside record no graph (evaluation, optimizer steps)."""
    return _GradModeBlock(False)


def enable_grad():
    return _GradModeBlock(True)


def inference_mode(mode=True):
    """PyTorch's ``inference_mode``: here the same as ``no_grad()`` (``mode=False``: grad on)."""
    return _GradModeBlock(not mode)


def is_tensor(obj):
    return isinstance(obj, Tensor)


class Version:
    """A tensor's version counter, shared with its views (PyTorch's VariableVersion):
    every in-place op on any of them bumps it, and remembers its own name for errors.
    ``recorded`` is the last version made by an in-place op that autograd recorded."""
    __slots__ = ("value", "last_op", "recorded")

    def __init__(self):
        self.value, self.last_op, self.recorded = 0, None, -1

    def bump(self, op, recorded=False):
        self.value += 1
        self.last_op = op
        if recorded:
            self.recorded = self.value


class Node:
    """How a tensor was made: ``op`` applied to ``parents``.

    ``vjps[i](g, y)`` maps the gradient ``g`` of the output ``y`` to the gradient of
    ``parents[i]``: the vector-Jacobian product gᵀ·∂y/∂xᵢ, never the Jacobian itself.
    VJPs are written with Tensor ops, so with ``create_graph=True`` they record a
    graph of their own and can be differentiated again. A ``first_order`` node (a
    kernel-backed op) computes its VJPs on raw arrays and refuses that request.

    ``versions`` are the parents' versions when the op ran (which state of a tensor
    changed in place since is the input, see ``inputs``); ``saved`` lists
    (counter, version, tensor) for every tensor the VJPs will read (see ``_describe``).
    ``backward`` frees the VJPs (``vjps = None``) unless asked to retain the graph.
    """
    __slots__ = ("op", "parents", "versions", "vjps", "saved", "first_order")

    def __init__(self, op, parents, vjps, first_order=False, saved=()):
        self.op = op
        self.parents = parents
        self.versions = tuple([p._version_counter.value for p in parents])  # a list: cheaper than a generator
        self.vjps = vjps
        self.saved = saved
        self.first_order = first_order

    def inputs(self):
        """The parents as they were when the op ran: a tensor since changed in place
        under autograd is represented by the snapshot taken at that change."""
        parents = self.parents
        for p in parents:
            if p._previous:  # rare: only after an in-place op under autograd
                return [p._at_version(v) if p._previous else p for p, v in zip(parents, self.versions)]
        return parents

    def check_saved(self):
        """Raise if the graph was freed, or a tensor the VJPs read was changed in place."""
        if self.vjps is None:
            raise RuntimeError(f"{self.op}: trying to backward through the graph a second time (its "
                               f"intermediate values were freed by the first backward); pass "
                               f"retain_graph=True to the first backward() to keep them")
        for counter, version, tensor in self.saved:
            if counter.value != version:
                what = _describe(tensor, self.parents)
                raise RuntimeError(
                    f"one of the variables needed for gradient computation has been modified by an "
                    f"inplace operation: {what} of {self.op} was modified in place by {counter.last_op} "
                    f"(version {version} → {counter.value}); compute it out of place (x = x + 1, not "
                    f"x += 1), or change it only after backward()")

    def __repr__(self):
        return f"Node({self.op})"


class BackwardFunction:
    """``tensor.grad_fn``: PyTorch's view of the Node that made a tensor. Its class is named
    after the op in CamelCase + ``Backward0`` (``mul`` → ``MulBackward0``, one subclass per
    op), PyTorch's naming (``<Op>Backward<overload>``), so the common ops print exactly as in
    PyTorch and the rest are recognisable; ``name()`` and ``type(fn).__name__`` both give it.
    ``next_functions`` pairs each input with the function its gradient goes to next: its own
    ``grad_fn``, an ``AccumulateGrad`` for a leaf that requires grad, or None; the second
    element of each pair is the output index (every op here has one output, so 0).
    Everything is read from the Node: there is no second graph."""
    __slots__ = ("node",)
    _by_op = {}

    def __init__(self, node):
        self.node = node

    @classmethod
    def of(cls, node):
        """The grad_fn of ``node``, an instance of its op's subclass (made once per op)."""
        kind = cls._by_op.get(node.op)
        if kind is None:
            name = "".join(part.capitalize() for part in node.op.split("_")) + "Backward0"
            kind = cls._by_op[node.op] = type(name, (cls,), {"__slots__": ()})
        return kind(node)

    def name(self):
        return type(self).__name__

    @property
    def next_functions(self):
        return tuple((_next_function(p), 0) for p in self.node.inputs())

    def __eq__(self, other):
        return isinstance(other, BackwardFunction) and other.node is self.node

    def __hash__(self):
        return id(self.node)

    def __repr__(self):
        return f"<{self.name()} object at {id(self.node):#x}>"


class AccumulateGrad:
    """``next_functions`` entry for a leaf that requires grad: where backward adds into
    ``.grad``. ``variable`` is that leaf (PyTorch's attribute)."""
    __slots__ = ("variable",)

    def __init__(self, variable):
        self.variable = variable

    @property
    def next_functions(self):
        return ()

    def name(self):
        return "torch::autograd::AccumulateGrad"

    def __eq__(self, other):
        return isinstance(other, AccumulateGrad) and other.variable is self.variable

    def __hash__(self):
        return id(self.variable)

    def __repr__(self):
        return f"<AccumulateGrad object at {id(self.variable):#x}>"


def _next_function(t):
    if t.node is not None:
        return t.grad_fn
    return AccumulateGrad(t) if t.requires_grad else None


class Size(tuple):
    """A tensor's shape, as ``torch.Size``: a tuple that prints ``minigrad.Size([3, 4])``;
    slices and sums with tuples stay Sizes."""
    __slots__ = ()

    def __repr__(self):
        return f"minigrad.Size({list(self)})"

    __str__ = __repr__

    def __getitem__(self, index):
        got = tuple.__getitem__(self, index)
        return Size(got) if isinstance(index, slice) else got

    def __add__(self, other):
        return Size(tuple.__add__(self, tuple(other)))

    def __radd__(self, other):
        return Size(tuple(other) + tuple(self))

    def numel(self):
        return math.prod(self)


def _as_array(data, dtype, device, python_dtype=None):
    """Turn user data into an array with PyTorch's dtypes: Python ints (and lists of
    them) become int64, bools bool, floats float32 (or all of them ``python_dtype``);
    an array keeps its dtype; dtype= overrides all of these."""
    if isinstance(data, Tensor):
        data = data.array
    if isinstance(data, np.generic):  # a NumPy scalar keeps its dtype, like an array
        data = np.asarray(data)
    if not (isinstance(data, np.ndarray) or backend.is_cupy(data)):
        python_data, data = data, np.asarray(data)
        if dtype is None and python_dtype is not None:
            dtype = python_dtype
        creation.check_python_data(python_data, data, dtype)  # torch's overflow errors, not NumPy's silent wrap
        if dtype is None:
            kind = data.dtype.kind
            if kind not in "biuf":
                raise TypeError(f"tensor: cannot make a tensor from data of NumPy dtype {data.dtype} "
                                f"(expected numbers, bools, or nested lists of them)")
            dtype = {"b": dtypes.bool, "i": dtypes.int64, "u": dtypes.int64, "f": dtypes.get_default_dtype()}[kind]
    if dtype is not None:
        data = data.astype(dtype, copy=False)
    device = creation.default_device(device, data)  # set_default_device's, for data made on the host
    if device is not None:
        data = backend.to_device(data, device)
    return data


def to_arguments(args, device=None, dtype=None):
    """The (device, dtype) that ``.to(*args, device=, dtype=)`` asks for, read as PyTorch
    reads them: a Tensor gives both, a string is a device, anything else a dtype."""
    for arg in args:
        if isinstance(arg, Tensor):
            device, dtype = arg.device, arg.dtype
        elif isinstance(arg, str):
            device = arg
        else:
            dtype = arg
    return device, dtype


class Tensor:
    """An n-dimensional array that remembers how it was computed.

    Attributes: ``array`` (the numpy or cupy array), ``data`` (PyTorch's detached view of
    it), ``grad`` (a Tensor or None), ``requires_grad``, ``node`` (the Node that made it;
    None for a leaf) and ``grad_fn`` (PyTorch's view of that node), ``shape`` (a ``Size``),
    ``dtype`` (a ``minigrad.dtype``).
    Most methods are the functions of ``minigrad/ops`` (``x.sum(1)`` is
    ``minigrad.sum(x, 1)``); they are attached at the bottom of this file.
    """
    # Make `ndarray + Tensor` call Tensor.__radd__ instead of NumPy's own loop.
    __array_ufunc__ = None

    # What a new tensor starts with, as class attributes: an instance sets only what differs,
    # so making one (every op does) is a few assignments.
    node = None
    requires_grad = False
    _grad = None           # behind the ``grad`` property, which checks what is assigned
    _retain_grad = False
    _is_view = False       # shares its version counter (and memory) with another tensor
    _view_version = 0      # the counter's value when the view was taken
    _previous = ()         # snapshots kept by in-place ops under autograd (ops/inplace.py)
    _post_accumulate_grad_hooks = ()  # register_post_accumulate_grad_hook's, per tensor

    def __init__(self, data, requires_grad=False, dtype=None, device=None):
        # As torch.Tensor(...): Python numbers and lists become the default float dtype
        # (torch.tensor(...), minigrad.tensor here, infers int64 and bool instead).
        self.array = _as_array(data, dtype, device, python_dtype=dtypes.get_default_dtype())
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, data, version_counter=None):
        """A Tensor around an array that is already right (no checks, no copy); with
        ``version_counter``, a view sharing that counter."""
        t = cls.__new__(cls)
        t.array = data
        if version_counter is not None:
            t._version_counter, t._is_view = version_counter, True
            t._view_version = version_counter.value  # a view's data matches its node until this changes
        return t

    def __getattr__(self, name):
        # Only for attributes not found the usual way. A tensor's version counter is made the
        # first time it is asked for (by an op that records a node, an in-place op, a view):
        # most tensors — results under no_grad(), the gradients backward() computes — never
        # are, and they skip making one.
        if name == "_version_counter":
            counter = self._version_counter = Version()
            return counter
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    # ``array`` is the engine's own name for the NumPy/CuPy array a tensor wraps: every op
    # reads and writes it. ``data`` is PyTorch's escape hatch, a Tensor view of the same memory.
    @property
    def data(self):
        """This tensor's memory as a new leaf Tensor, detached from the graph, as in PyTorch:
        in-place edits of it (``p.data.add_(...)``) change this tensor without bumping its
        autograd version. Assigning (``p.data = t``, a Tensor or an array) swaps the memory
        this tensor wraps, invisibly to autograd."""
        return Tensor._wrap(self.array)

    @data.setter
    def data(self, value):
        if isinstance(value, Tensor):
            value = value.array
        elif isinstance(value, np.generic):  # what arithmetic on 0-d arrays returns
            value = np.asarray(value)
        elif not (isinstance(value, np.ndarray) or backend.is_cupy(value)):
            raise TypeError(f"data: expected a Tensor or a NumPy/CuPy array, got {type(value).__name__}")
        self.array = value

    @property
    def grad(self):
        """The gradient backward() accumulated (a Tensor of this shape and dtype), or None."""
        return self._grad

    @grad.setter
    def grad(self, value):
        # PyTorch's checks (torch/csrc/autograd/python_variable.cpp, THPVariable_set_grad)
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type "
                                f"{type(value).__name__}")
            if value.array.shape != self.array.shape:
                raise RuntimeError(f"attempting to assign a gradient of size '{list(value.shape)}' to a "
                                   f"tensor of size '{list(self.shape)}'. Please ensure that the gradient "
                                   f"and the tensor are the same size")
            if value.array.dtype != self.array.dtype:
                raise RuntimeError(f"attempting to assign a gradient with dtype '{value.dtype}' to a tensor "
                                   f"with dtype '{self.dtype}': the gradient must match the tensor's dtype")
            if type(value.array) is not type(self.array) and value.device != self.device:
                raise RuntimeError(f"assigned grad has data located on a different device: the gradient "
                                   f"is on {value.device}, the tensor on {self.device}")
        self._grad = value

    @grad.deleter
    def grad(self):
        self._grad = None

    @property
    def grad_fn(self):
        """The function backward() goes through from here (see ``BackwardFunction``); None
        for a leaf and for a tensor made without autograd."""
        return None if self.node is None else BackwardFunction.of(self.node)

    # ---- facts about the data -------------------------------------------------
    shape = property(lambda self: Size(self.array.shape))
    dtype = property(lambda self: dtypes.of(self.array.dtype))
    ndim = property(lambda self: self.array.ndim)
    device = property(lambda self: backend.device_of(self.array))
    is_leaf = property(lambda self: self.node is None)
    is_cuda = property(lambda self: backend.is_cupy(self.array))
    _version = property(lambda self: self._version_counter.value)

    def size(self, dim=None):
        """The shape (``size()``, a ``Size``) or the length of one dimension (``size(dim)``), as torch."""
        if dim is None:
            return self.shape
        return self.array.shape[ops.base.normalize_dim(dim, self.ndim, "size")]

    def dim(self):
        return self.ndim

    ndimension = dim

    def is_floating_point(self):
        return self.dtype.kind == "f"

    def numel(self):
        return self.array.size

    nelement = numel

    def __iter__(self):
        """The sub-tensors along dim 0, as torch (a 0-d tensor cannot be iterated)."""
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.array)

    def __repr__(self):
        return printing.tensor_repr(self)

    def __format__(self, spec):
        """A 0-d tensor formats as its number (``f"{loss:.3f}"``, ``f"{label}"`` → ``1``),
        as in PyTorch; any other tensor as its repr."""
        if self.ndim == 0:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    __hash__ = object.__hash__  # == is elementwise, so hash by identity

    # ---- leaving the graph ------------------------------------------------------
    def item(self):
        """The single value of a one-element tensor as a Python number."""
        if self.array.size != 1:
            raise RuntimeError(f"item(): a Tensor with {self.array.size} elements cannot be converted "
                               f"to a Python number (shape {self.shape})")
        if backend.is_cupy(self.array):
            return backend.read_item(self.array)  # with the queued device checks: one read
        return self.array.reshape(()).item()

    def __bool__(self):
        if self.array.size != 1:
            raise RuntimeError(f"bool(): the truth value of a tensor of shape {self.shape} is ambiguous")
        return builtins.bool(self.item())

    def __float__(self):
        return builtins.float(self.item())

    def __int__(self):
        return builtins.int(self.item())

    def __index__(self):
        if self.dtype.kind not in "iu" or self.array.size != 1:
            raise TypeError(f"only integer tensors of a single element can be converted to an index "
                            f"(got dtype {self.dtype}, shape {self.shape})")
        return builtins.int(self.item())

    def numpy(self):
        """The data as a NumPy array (shared with the tensor on the CPU; copied from a GPU)."""
        return backend.to_numpy(self.array)

    def tolist(self):
        return backend.to_numpy(self.array).tolist()

    def __array__(self, dtype=None, copy=None):
        array = backend.to_numpy(self.array)
        return array if dtype is None else array.astype(dtype)

    def detach(self):
        """The same data (and version counter, as torch), cut from the graph."""
        return Tensor._wrap(self.array, self._version_counter)

    def requires_grad_(self, flag=True):
        if flag and self.dtype.kind != "f":
            raise RuntimeError(f"requires_grad_: only floating point tensors can require gradients, "
                               f"got dtype {self.dtype}")
        if not flag and self.node is not None:
            raise RuntimeError("requires_grad_(False) on a non-leaf tensor: use .detach()")
        self.requires_grad = builtins.bool(flag)
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

    def backward(self, gradient=None, retain_graph=None, create_graph=False):
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``; see ``minigrad.autograd``."""
        from minigrad import autograd
        autograd.backward(self, gradient, retain_graph, create_graph)

    def _check_view(self, op):
        """Refuse to use, in ``op`` under autograd, a view whose memory an in-place op under
        autograd changed after the view was taken: its values now depend on that op's
        inputs but its node does not know it (PyTorch would rebuild the view's graph)."""
        if self._is_view and self.requires_grad and self._version_counter.recorded > self._view_version:
            raise RuntimeError(
                f"{op}: an input (shape {self.shape}) is a view whose memory was modified in place by "
                f"{self._version_counter.last_op} under autograd after the view was taken (version "
                f"{self._view_version} → {self._version_counter.value}); take the view again after the change")

    def _at_version(self, version):
        """This tensor as it was at ``version``: itself, or the snapshot an in-place op
        under autograd kept of an earlier state (``ops.inplace``)."""
        for last_version, snapshot in self._previous:
            if version <= last_version:
                return snapshot
        return self

    # ---- moving and casting (differentiable) ------------------------------------------
    def to(self, *args, device=None, dtype=None, non_blocking=False):
        """``to(device)``, ``to(dtype)``, ``to(other_tensor)`` or both by keyword, as torch
        (``non_blocking`` is accepted and has no effect: copies here are synchronous)."""
        device, dtype = to_arguments(args, device, dtype)
        out = self
        if dtype is not None and np.dtype(dtype) != self.array.dtype:
            out = ops.astype(out, dtype)
        if device is not None and backend.device(device) != self.device:
            out = ops.to_device(out, backend.device(device))
        return out

    def type(self, dtype):
        return self.to(dtype=dtype)

    def cpu(self):
        return self.to("cpu")

    def cuda(self):
        return self.to("cuda")

    def float(self):
        return self.to(dtype=float32)

    def double(self):
        return self.to(dtype=float64)

    def half(self):
        return self.to(dtype=dtypes.float16)

    def long(self):
        return self.to(dtype=dtypes.int64)

    def int(self):
        return self.to(dtype=dtypes.int32)

    def bool(self):
        return self.to(dtype=dtypes.bool)

    def type_as(self, other):
        return self.to(dtype=other.dtype)

    # ---- operators: each one is an op in minigrad/ops -----------------------------------
    # The binary ones (+ - * / ** @ // %, their reflected forms, < <= > >= == !=, & | ^) are
    # made below the class by _operator, once minigrad/ops is imported.
    def __neg__(self): return ops.neg(self)
    def __abs__(self): return ops.abs(self)
    def __getitem__(self, index): return ops.getitem(self, index)
    def __invert__(self): return ops.elementwise.invert(self)

    # In-place: `x += y` changes x itself (and every view of it), as in PyTorch, so
    # `with no_grad(): p -= lr * p.grad` updates the parameter a module holds.
    def __iadd__(self, other): return ops.inplace.update(self, "add_", ops.add, other)
    def __isub__(self, other): return ops.inplace.update(self, "sub_", ops.sub, other)
    def __imul__(self, other): return ops.inplace.update(self, "mul_", ops.mul, other)
    def __itruediv__(self, other): return ops.inplace.update(self, "div_", ops.div, other)
    def __setitem__(self, index, value):
        ops.inplace.update(self, "setitem", ops.index_put, index, value, check_cast=False)

    def add_(self, other, alpha=1): return ops.inplace.update(self, "add_", ops.add, other, alpha)
    def sub_(self, other, alpha=1): return ops.inplace.update(self, "sub_", ops.sub, other, alpha)
    def mul_(self, other): return ops.inplace.update(self, "mul_", ops.mul, other)
    def div_(self, other, rounding_mode=None):
        return ops.inplace.update(self, "div_", ops.div, other, rounding_mode)
    def pow_(self, other): return ops.inplace.update(self, "pow_", ops.pow, other)
    def clamp_(self, min=None, max=None): return ops.inplace.update(self, "clamp_", ops.clamp, min, max)

    def scatter_(self, dim, index, src=None, value=None):
        return ops.inplace.update(self, "scatter_", ops.scatter, dim, index, src, value, check_cast=False)

    def scatter_add_(self, dim, index, src):
        return ops.inplace.update(self, "scatter_add_", ops.scatter_add, dim, index, src)

    def masked_fill_(self, mask, value):
        return ops.inplace.update(self, "masked_fill_", ops.masked_fill, mask, value, check_cast=False)

    def fill_(self, value):
        return ops.inplace.update(self, "fill_", ops.index_put, Ellipsis, value, check_cast=False)

    def zero_(self):
        return self.fill_(0)

    def copy_(self, src):
        """Copy ``src`` (broadcast to this shape, cast to this dtype) into this tensor."""
        return ops.inplace.update(self, "copy_", ops.index_put, Ellipsis, src, check_cast=False)

    # new_*: a tensor with this one's dtype and device unless told otherwise, as torch
    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        return tensor(data, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        return creation.zeros(*size, dtype=dtype or self.dtype, device=device or self.device,
                              requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        return creation.ones(*size, dtype=dtype or self.dtype, device=device or self.device,
                             requires_grad=requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
        return creation.full(size, fill_value, dtype=dtype or self.dtype, device=device or self.device,
                             requires_grad=requires_grad)

    def add(self, other, alpha=1): return ops.add(self, other, alpha)
    def sub(self, other, alpha=1): return ops.sub(self, other, alpha)

    def sum_to_size(self, *size):
        """This tensor summed down to ``size`` (which must broadcast to its shape), as torch:
        the gradient-side twin of ``expand``."""
        size = _shape_args(size)
        try:
            fits = np.broadcast_shapes(size, self.array.shape) == self.array.shape
        except ValueError:
            fits = False
        if not fits:
            raise RuntimeError(f"sum_to_size: size {list(size)} is not expandable to size {list(self.shape)}")
        return ops.sum_to(self, tuple(size))

    # ---- shapes, the PyTorch way ----------------------------------------------------------
    def reshape(self, *shape): return ops.reshape(self, _shape_args(shape))
    def view(self, *shape): return ops.view(self, _shape_args(shape))
    def view_as(self, other): return ops.view(self, other.shape)
    def reshape_as(self, other): return ops.reshape(self, other.shape)
    def expand_as(self, other): return ops.expand(self, other.shape)
    def expand(self, *sizes): return ops.expand(self, _shape_args(sizes))
    def permute(self, *dims): return ops.permute(self, _shape_args(dims))
    def t(self): return ops.t(self)

    T = property(lambda self: ops.permute(self, tuple(reversed(range(self.ndim)))))
    mT = property(lambda self: ops.transpose(self, -2, -1))


def _shape_args(args):
    """``f(2, 3)`` and ``f((2, 3))`` both mean the shape (2, 3), as in PyTorch."""
    return tuple(args[0]) if len(args) == 1 and not isinstance(args[0], (builtins.int, np.integer)) else args


def result(data, op, parents, vjps, first_order=False, saved=(), saves_output=False, view_of=None):
    """The output tensor of an op. Records a Node only when gradients are on and
    some input needs one, so inference under ``no_grad()`` builds no graph.

    saved: the input tensors the VJPs will read (their versions are checked at
    backward); saves_output: the VJPs read the output y. view_of: an input whose
    array the output may share, so the two share a version counter (as torch's views)."""
    shares = view_of is not None and backend.xp(data).may_share_memory(data, view_of.array)
    out = Tensor._wrap(data, view_of._version_counter if shares else None)
    # which input needs a gradient first: the cheaper test, and false in most inference code
    # (a plain loop: a generator for any() costs more than the test on two inputs)
    for p in parents:
        if p.requires_grad:
            break
    else:
        return out
    if _grad_mode.enabled:
        for p in parents:
            if p._is_view:
                p._check_view(op)
        out.requires_grad = True
        if not shares:  # a recorded output is an input of the next op: its counter now, not by __getattr__
            out._version_counter = Version()
        # (counter, version, tensor): the message naming the tensor is built only if it is raised
        checks = [(t._version_counter, t._version_counter.value, t) for t in saved]
        if saves_output:
            checks.append((out._version_counter, out._version_counter.value, out.array.shape))
        out.node = Node(op, parents, vjps, first_order, checks)
    return out


def _describe(t, parents):
    """How an error message names a saved tensor: by its place among the op's inputs
    (the op's output is saved as its shape: holding the tensor would be a cycle; an
    ``autograd.Function``'s ctx saves its own description)."""
    if isinstance(t, str):
        return t
    if isinstance(t, tuple):
        return f"the output (shape {t})"
    for i, p in enumerate(parents):
        if p is t:
            return f"the input {i} (shape {t.array.shape})"
    return f"a tensor of shape {t.array.shape}"


def tensor(data, requires_grad=False, dtype=None, device=None):
    """Make a leaf tensor (a copy of ``data``), with PyTorch's dtypes: int lists become
    int64, bool lists bool, float lists float32; a NumPy/CuPy array keeps its dtype."""
    if isinstance(data, Tensor) or isinstance(data, np.ndarray) or backend.is_cupy(data):
        data = (data.array if isinstance(data, Tensor) else data).copy()
    made = Tensor._wrap(_as_array(data, dtype, device))
    return made.requires_grad_(True) if requires_grad else made


from minigrad import creation, ops  # noqa: E402  (they need Tensor defined first)

# What an operator takes beside a tensor: a number, a NumPy or CuPy array, a list or tuple.
_OPERANDS = (Tensor, int, float, complex, np.ndarray, np.generic, list, tuple) + \
    ((backend.cupy.ndarray,) if backend.cupy is not None else ())


def _operator(op, reflected=False):
    """A binary operator of Tensor: ``op(self, other)``, or ``op(other, self)`` for the
    reflected form (``2 - t`` is ``t.__rsub__(2)``). Any other operand gets NotImplemented,
    as in PyTorch, so Python asks the other side: its reflected method (``t + obj`` runs
    ``obj.__radd__``), or for == and != identity (``t == None`` is False, and
    ``t == pytest.approx(...)`` asks approx)."""
    if reflected:
        def method(self, other):
            return op(other, self) if isinstance(other, _OPERANDS) else NotImplemented
    else:
        def method(self, other):
            return op(self, other) if isinstance(other, _OPERANDS) else NotImplemented
    return method


for _name, _op in (("add", ops.add), ("sub", ops.sub), ("mul", ops.mul), ("truediv", ops.div), ("pow", ops.pow),
                   ("matmul", ops.matmul), ("floordiv", ops.floor_divide), ("mod", ops.remainder)):
    setattr(Tensor, f"__{_name}__", _operator(_op))
    setattr(Tensor, f"__r{_name}__", _operator(_op, reflected=True))
for _name, _op in (("lt", ops.lt), ("le", ops.le), ("gt", ops.gt), ("ge", ops.ge), ("eq", ops.eq), ("ne", ops.ne),
                   ("and", functools.partial(ops.logical, "and")), ("or", functools.partial(ops.logical, "or")),
                   ("xor", functools.partial(ops.logical, "xor"))):
    setattr(Tensor, f"__{_name}__", _operator(_op))

# The methods that are the functions of minigrad/ops themselves (x.sum(1) is ops.sum(x, 1)),
# so a function and its method can never drift apart.
for _name in ("exp", "log", "sqrt", "tanh", "sigmoid", "relu", "abs", "clamp", "clip", "maximum", "minimum",
              "sum", "mean", "max", "min", "amax", "amin", "argmax", "argmin", "logsumexp", "softmax",
              "log_softmax", "var", "std", "flatten", "unsqueeze", "squeeze", "transpose", "swapaxes", "matmul",
              "mul", "div", "pow", "neg", "eq", "ne", "lt", "le", "gt", "ge", "clone", "gather", "square", "all",
              "any", "masked_fill", "sin", "cos", "log1p", "expm1", "reciprocal", "rsqrt", "floor", "ceil", "trunc",
              "sign", "round", "isnan", "isinf", "isfinite", "isclose", "allclose", "equal", "flip", "split",
              "chunk", "repeat", "norm", "cumsum", "prod", "sort", "argsort", "topk", "nonzero", "mm", "bmm", "dot",
              "outer", "unbind", "narrow", "tril", "triu", "scatter", "scatter_add", "index_select", "masked_select",
              "take", "unique", "contiguous",
              "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh", "arcsin", "arccos", "arctan",
              "arcsinh", "arccosh", "arctanh", "log2", "exp2", "erf", "atan2", "arctan2", "copysign", "logaddexp",
              "lerp", "hypot", "fmod", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_left_shift",
              "bitwise_right_shift", "logical_and", "logical_or", "logical_xor", "logical_not", "cumprod", "cummax",
              "cummin", "logcumsumexp", "unflatten", "movedim", "moveaxis", "swapdims", "repeat_interleave", "roll",
              "diagonal", "diag", "diag_embed", "trace", "unfold", "scatter_reduce", "xlogy", "frac", "deg2rad",
              "rad2deg", "logit", "signbit", "float_power", "addcmul", "addcdiv", "clamp_min", "clamp_max",
              "nan_to_num", "aminmax", "count_nonzero", "nansum", "take_along_dim", "argwhere", "fliplr", "flipud",
              "addmm", "baddbmm", "median", "nanmedian", "kthvalue", "index_add", "index_copy", "index_fill",
              "rot90", "tensor_split", "kron", "cross", "erfc", "erfinv", "lgamma", "digamma", "histc", "bincount"):
    setattr(Tensor, _name, ops.base.torch_function(getattr(ops, _name), _name, method=True))


def _inplace_method(name):
    def method(self):
        return ops.inplace.update(self, name + "_", getattr(ops, name))
    method.__name__ = method.__qualname__ = name + "_"
    method.__doc__ = f"``{name}`` in place (see ``minigrad.ops.inplace``)."
    return method


for _name in ("exp", "log", "sqrt", "tanh", "sigmoid", "relu", "abs", "neg", "sin", "cos", "floor", "ceil", "trunc",
              "sign", "round", "reciprocal", "square"):
    setattr(Tensor, _name + "_", _inplace_method(_name))


# The bitwise operators with a number on the left (``0x1337 ^ t``) and the shifts, torch's dunders.
Tensor.__rand__ = lambda self, other: ops.bitwise_and(other, self)
Tensor.__ror__ = lambda self, other: ops.bitwise_or(other, self)
Tensor.__rxor__ = lambda self, other: ops.bitwise_xor(other, self)
Tensor.__lshift__ = lambda self, other: ops.bitwise_left_shift(self, other)
Tensor.__rshift__ = lambda self, other: ops.bitwise_right_shift(self, other)
Tensor.__rlshift__ = lambda self, other: ops.bitwise_left_shift(other, self)
Tensor.__rrshift__ = lambda self, other: ops.bitwise_right_shift(other, self)
# torch's method form of where: x.where(condition, y) keeps x where condition holds, else y
Tensor.where = lambda self, condition, other: ops.where(condition, self, other)
# torch's in-place index writes: x.index_add_(dim, index, source, alpha=1) and its kin
Tensor.index_add_ = lambda self, dim, index, source, *, alpha=1: ops.inplace.update(
    self, "index_add_", lambda x, src: ops.index_add(x, dim, index, src, alpha=alpha), source)
Tensor.index_copy_ = lambda self, dim, index, source: ops.inplace.update(
    self, "index_copy_", ops.index_copy, dim, index, source)
Tensor.index_fill_ = lambda self, dim, index, value: ops.inplace.update(
    self, "index_fill_", ops.index_fill, dim, index, value)
# torch's random fills and samplers as methods: x.normal_(), x.uniform_(a, b), x.bernoulli(), ...
from minigrad import random_sampling  # noqa: E402
for _name in ("normal_", "uniform_", "exponential_", "bernoulli_", "bernoulli", "multinomial"):
    setattr(Tensor, _name, getattr(random_sampling, _name))
