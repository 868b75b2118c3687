"""Reverse-mode autodiff: walk the graph from the outputs down, applying VJPs.

1. Sort the tensors that lead to the outputs so that every tensor comes after
   all the tensors it was computed from (a topological order). The walk is an
   explicit stack, never recursion, so a 20,000-op chain is fine.
2. Go through that order backwards. Each tensor's gradient is complete by the
   time we reach it (every op that used it has sent its share), so we can pass
   it through its node's VJPs to its parents. A tensor used twice (fan-out)
   receives two shares, and they are added: the multivariable chain rule.
3. Unless ``retain_graph=True``, free each node's VJPs once used (their closures hold
   the intermediate arrays), so a second backward through the graph raises, as in
   PyTorch, instead of reading values that may have changed.

An ``autograd.Function`` (``minigrad/function.py``) may return several outputs from one
node: the sort puts them side by side, after every use of any of them, so its backward
runs once, with all their gradients.
"""
from minigrad import backend
from minigrad import function  # noqa: F401  (torch's path: torch.autograd.function.once_differentiable)
from minigrad.function import Function, FunctionCtx, FunctionNode, once_differentiable  # noqa: F401 (public names)
from minigrad.tensor import Tensor, set_grad_enabled


def toposort(outputs, needing_grad=True):
    """Tensors reachable from ``outputs`` (through inputs that need gradients, unless
    ``needing_grad=False``: then every input, as ``minigrad.viz`` draws them), each
    listed after its parents."""
    order, seen = [], set()
    stack = [(t, False) for t in outputs]
    while stack:
        t, parents_done = stack.pop()
        if parents_done:
            if isinstance(t.node, FunctionNode):
                # the node's outputs all at once (they share its parents): before any tensor
                # made from one of them, so backward meets them together, all gradients complete
                siblings = [o for o in (ref() for ref in t.node.outputs)
                            if o is not None and o is not t and o.requires_grad and id(o) not in seen]
                seen.update(id(o) for o in siblings)
                order.extend(siblings)
            order.append(t)
            continue
        if id(t) in seen:
            continue
        seen.add(id(t))
        stack.append((t, True))
        if t.node is not None:
            # reversed, so the first parent (the layer's input, by the ops' convention) is
            # explored first and a layer's weights land just before its output in the order:
            # backward then completes each weight's gradient as soon as its layer is done
            # (what lets DistributedDataParallel start all-reduces early)
            for p in reversed(t.node.inputs()):  # a plain loop: every node of every backward runs it
                if (p.requires_grad or not needing_grad) and id(p) not in seen:
                    stack.append((p, False))
    return order


def increment_version(tensor, op):
    """Record that ``tensor``'s array was changed in place by ``op`` outside the in-place
    ops (an optimizer writing its arrays directly), so graphs that saved the old values
    refuse to backward through them (PyTorch's ``torch.autograd.graph.increment_version``)."""
    tensor._version_counter.bump(op)


def _check_grad(g, t, what, dtype=True):
    """Refuse a gradient that cannot be ``t``'s: not a Tensor, another shape, or (``dtype``)
    another dtype. Caught here, it names the op; let through, it would fail far away.
    (``backprop`` tests the good case inline and calls this only to raise: building ``what``
    for every VJP would cost more than the check.)"""
    if not isinstance(g, Tensor):
        raise TypeError(f"{what}: returned a {type(g).__module__}.{type(g).__qualname__}; expected a Tensor "
                        f"of shape {t.shape} and dtype {t.dtype} (wrap an array with minigrad.tensor(...))")
    if g.shape != t.shape:
        raise RuntimeError(f"{what}: gradient of shape {g.shape} for a tensor of shape {t.shape}")
    if dtype and g.dtype != t.dtype:
        raise RuntimeError(f"{what}: gradient of dtype {g.dtype} for a tensor of dtype {t.dtype}")


def backprop(outputs, grad_outputs, create_graph, retain_graph, keep, on_kept=None):
    """Run the chain rule from ``outputs`` (seeded with ``grad_outputs``) and return
    {id(tensor): (tensor, gradient)} for the tensors for which ``keep(tensor)`` is true;
    ``on_kept(tensor, gradient)`` is called for each as soon as its gradient is complete."""
    grads = {}
    for out, g in zip(outputs, grad_outputs):
        grads[id(out)] = grads[id(out)] + g if id(out) in grads else g
    kept, ran = {}, set()
    # Without create_graph the VJPs run with recording off: their results are plain
    # numbers. With it, they record a graph of their own, ready for another backward.
    with set_grad_enabled(create_graph):
        for t in reversed(toposort(outputs)):
            g = grads.pop(id(t), None)
            if g is not None and keep(t):
                kept[id(t)] = (t, g)
                if on_kept is not None:
                    on_kept(t, g)
            node = t.node
            if isinstance(node, FunctionNode):
                # one backward for all the node's outputs, at the first of them met
                if id(node) in ran:
                    continue
                ran.add(id(node))
                g = node.gradients(t, g, grads)
            if g is None or node is None:
                continue
            if create_graph and node.first_order:
                raise RuntimeError(f"{node.op}: this op's backward is computed by a kernel and is "
                                   f"first-order only; create_graph=True (grad of grad) cannot pass "
                                   f"through it")
            node.check_saved()
            for i, (parent, vjp) in enumerate(zip(node.inputs(), node.vjps)):
                if not parent.requires_grad:
                    continue
                gp = vjp(g, t)
                if gp is None and isinstance(node, FunctionNode):
                    continue  # a Function's backward may return None: no gradient for that input
                if not (isinstance(gp, Tensor) and gp.array.shape == parent.array.shape
                        and gp.array.dtype == parent.array.dtype):
                    _check_grad(gp, parent, f"VJP of {node.op} for input {i}")  # raises, naming what is wrong
                previous = grads.get(id(parent))
                if previous is None:
                    grads[id(parent)] = gp
                elif create_graph:
                    grads[id(parent)] = previous + gp  # recorded: the sum is part of the new graph
                else:  # plain arrays of one shape and dtype (checked above): no op to record
                    grads[id(parent)] = Tensor._wrap(previous.array + gp.array)
            if not retain_graph:
                node.vjps = None
    return kept


def _seed(out, grad, what):
    """The starting gradient dL/d(out): 1 for a scalar output, else it must be given."""
    if grad is None:
        if out.numel() != 1:
            raise RuntimeError(f"{what}: the output has shape {out.shape}; a gradient can only be "
                               f"created implicitly for a single-element output — pass grad=")
        return Tensor._wrap(backend.xp(out.array).ones_like(out.array))
    grad = grad if isinstance(grad, Tensor) else Tensor(grad, dtype=out.dtype, device=out.device)
    _check_grad(grad, out, what, dtype=False)
    return grad


def backward(out, grad=None, retain_graph=None, create_graph=False):
    """Accumulate d(out)/d(leaf) into ``leaf.grad`` for every leaf that requires grad
    (and into tensors marked with ``retain_grad()``), as ``Tensor.backward`` does in PyTorch.
    ``retain_graph`` defaults to ``create_graph``, as in PyTorch."""
    if not out.requires_grad:
        raise RuntimeError("backward: this tensor does not require grad and has no graph "
                           "(was it made under no_grad(), or from tensors without requires_grad=True?)")
    out._check_view("backward")
    seed = _seed(out, grad, "backward")
    retain_graph = create_graph if retain_graph is None else retain_graph

    def accumulate(t, g):
        if not create_graph:
            # a fresh, writable array: VJPs may hand the same (or a read-only broadcast)
            # array to several tensors, and optimizers or clipping may edit .grad in place
            g = Tensor._wrap(g.array.copy())
        t.grad = g if t.grad is None else t.grad + g
        # during the walk, not after it, so DistributedDataParallel can start a bucket's
        # all-reduce while the rest of backward runs (torch's post-accumulate-grad hooks)
        for hook in t._post_accumulate_grad_hooks if t.node is None else ():
            hook(t)
    backprop([out], [seed], create_graph, retain_graph, keep=lambda t: t.node is None or t._retain_grad,
             on_kept=accumulate)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
    """The gradients of ``outputs`` with respect to ``inputs``, returned as a list
    (``.grad`` is left untouched), like ``torch.autograd.grad``. With
    ``create_graph=True`` the results carry a graph: differentiate them again for
    second derivatives or Hessian-vector products."""
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs] * len(outputs)
    for t in outputs:
        if not t.requires_grad:
            raise RuntimeError("grad: an output does not require grad (no graph leads to it)")
    seeds = [_seed(o, g, "grad") for o, g in zip(outputs, grad_outputs)]
    wanted = {id(t) for t in inputs}
    retain_graph = create_graph if retain_graph is None else retain_graph
    grads = backprop(outputs, seeds, create_graph, retain_graph, keep=lambda t: id(t) in wanted)
    found = []
    for i, t in enumerate(inputs):
        g = grads.get(id(t), (t, None))[1]
        if g is None and not allow_unused:
            raise RuntimeError(f"grad: input {i} (shape {t.shape}) was not used to compute the outputs; "
                               f"pass allow_unused=True to get None for it")
        found.append(g if g is None or create_graph else g.detach())
    return found


# torch.autograd's names for the checks (minigrad.gradcheck imports grad above, so it comes last)
from minigrad.gradcheck import gradcheck, gradgradcheck  # noqa: E402,F401
