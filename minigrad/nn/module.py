"""``Module``: a container of parameters, buffers and sub-modules, as in PyTorch.

Assigning a ``Parameter`` or a ``Module`` to an attribute registers it, so
``named_parameters()`` can find every weight by a dotted name (``0.weight``,
``block.conv.bias``). Those are PyTorch's names too, which is what lets a
``state_dict`` move between the two libraries.
"""
from collections import OrderedDict

import numpy as np

from minigrad import backend
from minigrad.tensor import Tensor


class Parameter(Tensor):
    """A Tensor that a Module trains: ``requires_grad`` is on by default."""

    def __init__(self, data, requires_grad=True):
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


class Module:
    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    # ---- registration ---------------------------------------------------------------
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}: call super().__init__() before assigning attributes")
        if name in self._buffers and not isinstance(value, (Parameter, Module)):
            self._buffers[name] = value  # e.g. running_mean replaced by a new tensor
            return
        for registry in (self._parameters, self._buffers, self._modules):
            registry.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        for registry in ("_parameters", "_buffers", "_modules"):
            found = self.__dict__.get(registry, {})
            if name in found:
                return found[name]
        raise AttributeError(f"'{type(self).__name__}' has no attribute '{name}'")

    def __delattr__(self, name):
        for registry in (self._parameters, self._buffers, self._modules):
            if name in registry:
                del registry[name]
                return
        object.__delattr__(self, name)

    def register_buffer(self, name, tensor):
        """A tensor that is state but not trained (running statistics, counters):
        saved in ``state_dict`` and moved by ``to()``, never given to an optimizer."""
        if tensor is not None and not isinstance(tensor, Tensor):
            tensor = Tensor(tensor)
        self.__dict__.get("_parameters", {}).pop(name, None)
        self._buffers[name] = tensor

    def register_parameter(self, name, param):
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: {name} must be a Parameter or None, got {type(param).__name__}")
        self._parameters[name] = param

    # ---- walking the tree -------------------------------------------------------------
    def named_children(self):
        return iter(self._modules.items())

    def children(self):
        return (m for _, m in self.named_children())

    def named_modules(self, prefix=""):
        """Every module in the tree (this one first) with its dotted name."""
        stack = [(prefix, self)]
        seen = set()
        while stack:
            name, module = stack.pop(0)
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            stack[0:0] = [(f"{name}.{child_name}" if name else child_name, child)
                          for child_name, child in module._modules.items() if child is not None]

    def modules(self):
        return (m for _, m in self.named_modules())

    def apply(self, fn):
        """Call ``fn(module)`` on every sub-module, children before parents (as PyTorch),
        e.g. ``model.apply(lambda m: m.reset_parameters() if hasattr(m, "reset_parameters") else None)``."""
        for child in self.children():
            if child is not None:
                child.apply(fn)
        fn(self)
        return self

    def _named(self, registry, recurse=True):
        seen = set()
        for module_name, module in (self.named_modules() if recurse else [("", self)]):
            for name, t in getattr(module, registry).items():
                if t is None or id(t) in seen:
                    continue
                seen.add(id(t))
                yield (f"{module_name}.{name}" if module_name else name), t

    def named_parameters(self, recurse=True):
        return self._named("_parameters", recurse)

    def parameters(self, recurse=True):
        return (p for _, p in self.named_parameters(recurse))

    def named_buffers(self, recurse=True):
        return self._named("_buffers", recurse)

    def buffers(self, recurse=True):
        return (b for _, b in self.named_buffers(recurse))

    # ---- modes and gradients --------------------------------------------------------------
    def train(self, mode=True):
        """Training mode (dropout drops, batch norm uses batch statistics)."""
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self):
        return self.train(False)

    def zero_grad(self, set_to_none=True):
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad.data[...] = 0

    # ---- moving and casting: in place, so optimizers keep their references -----------------
    def _apply(self, fn, floating_only):
        for t in list(self.parameters()) + list(self.buffers()):
            if floating_only and t.dtype.kind != "f":
                continue
            t.data = fn(t.data)
            if t.grad is not None:
                t.grad = Tensor._wrap(fn(t.grad.data))
        return self

    def to(self, device=None, dtype=None):
        if device is not None:
            backend.check_device(device)
            self._apply(lambda a: backend.to_device(a, device), floating_only=False)
        if dtype is not None:
            self._apply(lambda a: a.astype(dtype), floating_only=True)
        return self

    def double(self):
        return self.to(dtype=np.float64)

    def float(self):
        return self.to(dtype=np.float32)

    # ---- saving and loading -------------------------------------------------------------------
    def state_dict(self):
        """{dotted name: NumPy array} for every parameter and buffer (host copies).
        The names are PyTorch's, so ``torch_model.load_state_dict({k: torch.from_numpy(v) ...})``
        works for the same architecture, and the other way round."""
        entries = list(self.named_parameters()) + list(self.named_buffers())
        return OrderedDict((name, backend.to_numpy(t.data).copy()) for name, t in entries)

    def load_state_dict(self, state_dict, strict=True):
        """Copy values into the parameters and buffers by name. Missing, unexpected
        or mis-shaped entries are all listed in one error (nothing is changed then)."""
        own = OrderedDict(list(self.named_parameters()) + list(self.named_buffers()))
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        values = {k: np.asarray(v.numpy() if hasattr(v, "numpy") else v) for k, v in state_dict.items() if k in own}
        misshaped = [f"{k}: expected {own[k].shape}, got {values[k].shape}"
                     for k in values if values[k].shape != own[k].shape]
        problems = []
        if strict and missing:
            problems.append(f"missing keys {missing}")
        if strict and unexpected:
            problems.append(f"unexpected keys {unexpected}")
        if misshaped:
            problems.append(f"mis-shaped entries [{'; '.join(misshaped)}]")
        if problems:
            raise KeyError(f"load_state_dict into {type(self).__name__}: " + ", ".join(problems))
        for k, v in values.items():
            own[k].data[...] = backend.xp(own[k].data).asarray(v, dtype=own[k].dtype)
        return self

    # ---- calling and printing --------------------------------------------------------------------
    def forward(self, *args):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def extra_repr(self):
        """The arguments shown inside the parentheses of ``repr``."""
        return ""

    def __repr__(self):
        lines = [f"({name}): " + repr(m).replace("\n", "\n  ") for name, m in self._modules.items()]
        if not lines:
            return f"{type(self).__name__}({self.extra_repr()})"
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"
