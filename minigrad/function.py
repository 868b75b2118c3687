"""``autograd.Function``: the public way to add an op, as ``torch.autograd.Function``.

    class Exp(minigrad.autograd.Function):
        @staticmethod
        def forward(ctx, x):            # runs under no_grad: a plain computation
            y = x.exp()
            ctx.save_for_backward(y)    # what backward will read, version-checked
            return y

        @staticmethod
        def backward(ctx, g):           # one gradient per output in, one per input out
            y, = ctx.saved_tensors
            return g * y                # a Tensor of x's shape and dtype (None: no gradient)

    y = Exp.apply(x)

``apply`` runs ``forward`` and records its outputs as one ``FunctionNode`` whose parents
are the Tensor arguments. ``backward`` runs once per backward pass, with the gradients of
all the outputs (zeros for the ones that got none), and its results are checked (one per
forward argument: a Tensor of the input's shape and dtype, or None) before they travel on.
Like the built-in VJPs, ``backward`` runs with recording on only under ``create_graph=True``,
so a backward written with Tensor ops can be differentiated again; ``@once_differentiable``
makes it first-order, and a second derivative through it raises.

The PyTorch documentation's note "Extending PyTorch" describes the same contract.
"""
import functools
import weakref

import numpy as np

from minigrad.ops.shape import sum_to
from minigrad.tensor import Node, Tensor, is_grad_enabled, no_grad, result


class FunctionCtx:
    """What ``forward`` leaves for ``backward`` (torch's ``ctx``): tensors saved with
    ``save_for_backward``, any attribute you set (``ctx.k = 3``), ``needs_input_grad``
    (one bool per forward argument), and the outputs marked non-differentiable."""

    def __init__(self, name, needs_input_grad):
        self.needs_input_grad = needs_input_grad
        self.materialize_grads = True
        self._name = name
        self._saved = ()
        self._checks = []
        self._non_differentiable = set()
        self._node = None

    def save_for_backward(self, *tensors):
        """Keep ``tensors`` (inputs, outputs or None) for ``backward``. Their versions are
        recorded now: an in-place change before backward reads them is an error."""
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"{self._name}: save_for_backward takes Tensors or None; argument {i} is a "
                                f"{type(t).__name__} (keep other values as attributes: ctx.name = value)")
        self._saved = tensors
        # (counter, version, description) entries for Node.check_saved, as the built-in ops save
        self._checks = [(t._version_counter, t._version_counter.value,
                         f"saved tensor {i} (shape {t.shape})") for i, t in enumerate(tensors) if t is not None]

    @property
    def saved_tensors(self):
        """The tensors given to ``save_for_backward``, after checking that none was changed in
        place since and that the graph was not freed by an earlier backward."""
        if self._node is not None:
            self._node.check_saved()
        return self._saved

    def mark_non_differentiable(self, *outputs):
        """Outputs that get no gradient (indices, masks): they do not require grad, and
        ``backward`` receives zeros for them."""
        self._non_differentiable.update(id(t) for t in outputs)

    def mark_dirty(self, *tensors):
        """PyTorch's mark for inputs changed in place by forward: not supported here."""
        raise NotImplementedError(f"{self._name}: mark_dirty (a Function that changes its inputs in place) is not "
                                  f"supported; return a new tensor instead")

    def set_materialize_grads(self, value):
        """With False, ``backward`` receives None (not zeros) for outputs that got no gradient."""
        self.materialize_grads = bool(value)


class FunctionNode(Node):
    """The node of a ``Function``: one node for all its outputs, so ``backward`` runs once
    with every output's gradient. ``backprop`` calls ``vjps[i](gradients, outputs)`` for
    each input i; the first call runs ``backward`` and the rest read its cached result.
    Only the VJPs hold ``ctx``, so freeing them after backward frees the saved tensors too."""
    __slots__ = ("function", "outputs", "materialize_grads")

    def __init__(self, function, ctx, parents, outputs):
        cache = {}

        def run(gradients):
            if cache.get("for") is not gradients:
                cache["for"], cache["result"] = gradients, _run_backward(function, ctx, gradients)
            return cache["result"]
        vjps = [lambda gradients, outputs, i=i: run(gradients)[i] for i in range(len(parents))]
        super().__init__(function.__name__, parents, vjps, saved=ctx._checks)
        self.function, self.materialize_grads = function, ctx.materialize_grads
        # weak: the outputs hold the node, and a node must not keep its outputs alive
        self.outputs = tuple(weakref.ref(t) for t in outputs)

    def gradients(self, t, g, grads):
        """The gradient of every output, from the walk's table (``t``'s own is ``g``); None
        when none of them got one."""
        outputs = [ref() for ref in self.outputs]
        found = [g if out is t else None if out is None else grads.get(id(out)) for out in outputs]
        if all(x is None for x in found):
            return None
        if self.materialize_grads:
            found = [x if x is not None or out is None else out.new_zeros(out.shape)
                     for x, out in zip(found, outputs)]
        return tuple(found)


def _run_backward(function, ctx, gradients):
    """``backward``'s results for the Tensor arguments, checked, in the order of the node's parents."""
    name = function.__name__
    returned = function.backward(ctx, *gradients)
    returned = returned if isinstance(returned, tuple) else (returned,)
    arguments = ctx._arguments
    extra = returned[len(arguments):]
    if len(returned) < len(arguments) or any(x is not None for x in extra):
        raise RuntimeError(f"{name}.backward returned an incorrect number of gradients (expected "
                           f"{len(arguments)}, one per argument of forward, got {len(returned)})")
    checked = []
    for i, (argument, g) in enumerate(zip(arguments, returned)):
        if not isinstance(argument, Tensor):
            if g is not None:
                raise RuntimeError(f"{name}.backward returned a gradient different from None at position {i}, "
                                   f"but forward's argument {i} is a {type(argument).__name__}, not a Tensor")
            continue
        checked.append(None if g is None else _as_input_gradient(g, argument, f"{name}.backward", i))
    return checked


def _as_input_gradient(g, x, what, i):
    """``g`` as the gradient of input ``x``, following PyTorch's checks on a backward's result:
    a gradient of a shape that ``x`` broadcasts to is summed down to ``x``'s shape, and a
    floating-point one of another precision is cast to ``x``'s dtype; anything else is an error."""
    if not isinstance(g, Tensor):
        raise TypeError(f"{what} returned a {type(g).__module__}.{type(g).__qualname__} for input {i}; expected a "
                        f"Tensor of shape {x.shape} and dtype {x.dtype}, or None (wrap an array with "
                        f"minigrad.tensor(...))")
    if g.shape != x.shape:
        try:
            broadcasts = np.broadcast_shapes(x.shape, g.shape) == g.shape
        except ValueError:
            broadcasts = False
        if not broadcasts:
            raise RuntimeError(f"{what} returned a gradient of shape {g.shape} for input {i} of shape "
                               f"{x.shape}; the gradient of an input has the input's shape")
        g = sum_to(g, x.shape)
    if g.dtype != x.dtype:
        if g.dtype.kind != "f" or x.dtype.kind != "f":
            raise RuntimeError(f"{what} returned a gradient of dtype {g.dtype} for input {i} of dtype "
                               f"{x.dtype}; the gradient of an input has the input's dtype")
        g = g.to(dtype=x.dtype)
    return g


class Function:
    """Subclass with ``@staticmethod forward(ctx, *args, **kwargs)`` and
    ``@staticmethod backward(ctx, *grad_outputs)``, then call ``YourFunction.apply(...)``
    (PyTorch's ``torch.autograd.Function``). ``forward`` may instead take only the
    arguments, with a ``setup_context(ctx, inputs, output)`` that fills ``ctx``
    (PyTorch 2's split form)."""

    def __init__(self, *args, **kwargs):
        raise RuntimeError(f"{type(self).__name__}: call {type(self).__name__}.apply(...) instead of making "
                           f"an instance (a Function's forward and backward are static methods)")

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("a Function subclass must define @staticmethod forward(ctx, *args)")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("a Function subclass must define @staticmethod backward(ctx, *grad_outputs)")

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **kwargs):
        name = cls.__name__
        tensors = [a for a in args if isinstance(a, Tensor)]
        recording = is_grad_enabled() and any(t.requires_grad for t in tensors)
        ctx = FunctionCtx(name, tuple(recording and isinstance(a, Tensor) and a.requires_grad for a in args))
        ctx._arguments = args
        with no_grad():  # forward is a plain computation: the node below stands for all of it
            if cls.setup_context is Function.setup_context:
                outputs = cls.forward(ctx, *args, **kwargs)
            else:
                outputs = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, outputs)
        single = not isinstance(outputs, tuple)
        outputs = (outputs,) if single else outputs
        for k, out in enumerate(outputs):
            if not isinstance(out, Tensor) and hasattr(out, "__array__"):
                raise TypeError(f"{name}.forward returned a {type(out).__module__}.{type(out).__qualname__} "
                                f"as output {k}; return Tensors (wrap an array with minigrad.tensor(...))")
        differentiable = [isinstance(out, Tensor) and out.dtype.kind == "f" and id(out) not in ctx._non_differentiable
                          for out in outputs]
        # an output forward did not make (an input, or a tensor with a graph of its own, such as
        # a parameter) becomes a new tensor on the same memory, so that it can carry this node
        # without changing that tensor's own history
        outputs = tuple(Tensor._wrap(out.array, out._version_counter)
                        if isinstance(out, Tensor) and (out.requires_grad or any(out is a for a in tensors))
                        else out for out in outputs)
        if recording:
            for t in tensors:
                t._check_view(name)
            node = FunctionNode(cls, ctx, tensors, [out for out in outputs if isinstance(out, Tensor)])
            ctx._node = node
            for out, recorded in zip(outputs, differentiable):
                if recorded:
                    out.node, out.requires_grad = node, True
        return outputs[0] if single else outputs


def once_differentiable(backward):
    """Decorate a ``backward`` computed outside autograd (on arrays, by a kernel): it runs
    under ``no_grad``, and under ``create_graph=True`` its results carry a node that refuses
    to be differentiated again, so a second derivative raises instead of being silently 0."""
    @functools.wraps(backward)
    def wrapper(ctx, *grad_outputs):
        with no_grad():
            returned = backward(ctx, *grad_outputs)
        if not is_grad_enabled():
            return returned
        single = not isinstance(returned, tuple)
        marked = tuple(_refuses_second_order(g, ctx._name) for g in ((returned,) if single else returned))
        return marked[0] if single else marked
    return wrapper


def _refuses_second_order(g, name):
    if not isinstance(g, Tensor) or g.dtype.kind != "f":
        return g

    def refuse(gg, y):
        raise RuntimeError(f"{name}: trying to differentiate twice a function that was marked with "
                           f"@once_differentiable (its backward is first-order only)")
    stand_in = Tensor._wrap(g.array).requires_grad_(True)  # gives the node a parent to refuse through
    return result(g.array, f"{name} (once_differentiable)", (stand_in,), (refuse,))


__all__ = ["Function", "FunctionCtx", "FunctionNode", "once_differentiable"]
