"""``Module``: a container of parameters, buffers and sub-modules, as in PyTorch.

Assigning a ``Parameter`` or a ``Module`` to an attribute registers it, so
``named_parameters()`` can find every weight by a dotted name (``0.weight``,
``block.conv.bias``). Those are PyTorch's names too, which is what lets a
``state_dict`` move between the two libraries.
"""
from collections import OrderedDict, namedtuple
from collections.abc import Mapping

import numpy as np

from minigrad import backend, dtypes
from minigrad.tensor import Tensor, to_arguments


def _cast(name, value, dtype):
    """``value`` as ``dtype``, or a message naming ``name`` when the cast would change it
    silently: a finite float that overflows to ±inf, or a non-integer or out-of-range
    value for an integer buffer (NumPy would wrap or truncate it)."""
    with np.errstate(over="ignore", invalid="ignore"):
        cast = value.astype(dtype)
    if dtype.kind == "f":
        overflow = np.isinf(cast) & np.isfinite(value)
        if overflow.any():
            return f"{name}: {value[overflow].flat[0].item()!r} overflows {dtype}"
    elif value.dtype.kind != "b" and not np.array_equal(cast, value):
        return f"{name}: {value[cast != value].flat[0].item()!r} is not a {dtype} value"
    return cast


class StateDictError(RuntimeError, KeyError):
    """What ``load_state_dict`` raises for missing, unexpected or mis-shaped entries: a
    ``RuntimeError``, as PyTorch raises, and a ``KeyError``, as minigrad's own callers
    (resuming a checkpoint) catch."""


class IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns, as PyTorch's ``_IncompatibleKeys``."""

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()


def factory_dtype(dtype):
    """A layer's ``dtype=`` argument: None means the default float dtype
    (``minigrad.set_default_dtype``), as in torch."""
    return dtypes.get_default_dtype() if dtype is None else dtype


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
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())

    # ---- registration ---------------------------------------------------------------
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}: call super().__init__() before assigning attributes")
        if name in self._buffers and not isinstance(value, (Parameter, Module)):
            self._buffers[name] = value  # e.g. running_mean replaced by a new tensor
            return
        for registry in (self._parameters, self._buffers, self._modules):
            registry.pop(name, None)
        if isinstance(value, (Parameter, Module)):
            # a plain attribute of that name (``self.head = None`` first) would shadow the
            # registry, since __getattr__ is only asked when normal lookup fails
            self.__dict__.pop(name, None)
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

    def add_module(self, name, module):
        """Register ``module`` under ``name`` (PyTorch's spelling of ``setattr``)."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} must be a Module or None, got {type(module).__name__}")
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"add_module: module names must be non-empty strings without '.', got {name!r}")
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target):
        """The sub-module at a dotted path (``"layer1.0.conv1"``); "" is this module."""
        module = self
        for name in target.split(".") if target else []:
            if name not in module._modules:
                raise AttributeError(f"{type(module).__name__} has no sub-module {name!r} (looking for {target!r})")
            module = module._modules[name]
        return module

    def register_parameter(self, name, param):
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: {name} must be a Parameter or None, got {type(param).__name__}")
        self._parameters[name] = param

    # ---- walking the tree -------------------------------------------------------------
    def named_children(self):
        return ((name, m) for name, m in self._modules.items() if m is not None)

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
            child.apply(fn)
        fn(self)
        return self

    def _named(self, registries, recurse=True):
        """(dotted name, tensor) module by module, each module's ``registries`` in turn
        (PyTorch's order: a module's parameters, then its buffers, then its children's)."""
        seen = set()
        for module_name, module in (self.named_modules() if recurse else [("", self)]):
            for registry in registries:
                for name, t in getattr(module, registry).items():
                    if t is None or id(t) in seen:
                        continue
                    seen.add(id(t))
                    yield (f"{module_name}.{name}" if module_name else name), t

    def named_parameters(self, recurse=True):
        return self._named(("_parameters",), recurse)

    def parameters(self, recurse=True):
        return (p for _, p in self.named_parameters(recurse))

    def named_buffers(self, recurse=True):
        return self._named(("_buffers",), recurse)

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
                p.grad.array[...] = 0

    # ---- moving and casting: in place, so optimizers keep their references -----------------
    def _apply(self, fn, floating_only):
        for t in list(self.parameters()) + list(self.buffers()):
            if floating_only and t.dtype.kind != "f":
                continue
            t.array = fn(t.array)
            if t.grad is not None:
                t.grad = Tensor._wrap(fn(t.grad.array))
        return self

    def to(self, *args, device=None, dtype=None, non_blocking=False):
        """``to(device)``, ``to(dtype)``, ``to(tensor)`` (its device and dtype) or by keyword,
        as PyTorch; a dtype applies to the floating-point parameters and buffers only."""
        device, dtype = to_arguments(args, device, dtype)
        if device is not None:
            device = backend.check_device(device)
            self._apply(lambda a: backend.to_device(a, device), floating_only=False)
        if dtype is not None:
            if np.dtype(dtype).kind != "f":
                raise TypeError(f"{type(self).__name__}.to: only floating-point dtypes are accepted, got {dtype}")
            self._apply(lambda a: a.astype(dtype), floating_only=True)
        return self

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        """To the GPU; ``device`` as PyTorch's (None, an index, "cuda:0" or a device)."""
        return self.to("cuda" if device is None else f"cuda:{device}" if isinstance(device, int) else device)

    def double(self):
        return self.to(dtype=np.float64)

    def float(self):
        return self.to(dtype=np.float32)

    def requires_grad_(self, requires_grad=True):
        """Switch gradients on or off for every parameter (e.g. to freeze a part of a model)."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    # ---- saving and loading -------------------------------------------------------------------
    def state_dict(self):
        """{dotted name: NumPy array} for every parameter and buffer (host copies).
        The names are PyTorch's, so ``torch_model.load_state_dict({k: torch.from_numpy(v) ...})``
        works for the same architecture, and the other way round."""
        entries = self._named(("_parameters", "_buffers"))
        return OrderedDict((name, backend.to_numpy(t.array).copy()) for name, t in entries)

    def load_state_dict(self, state_dict, strict=True):
        """Copy values (arrays, or Tensors of either library: anything with ``.numpy()``)
        into the parameters and buffers by name. As PyTorch: with ``strict`` a missing or
        unexpected key is an error; a mis-shaped entry always is (``StateDictError``, a
        ``RuntimeError`` and a ``KeyError``). Values that are not real numbers raise
        ``TypeError``; values the parameter's dtype cannot hold — a float beyond its range, a
        fraction into an integer buffer — ``ValueError``. Every entry is checked before any is
        copied, every problem is named in one error, and nothing is changed then. Returns
        ``(missing_keys, unexpected_keys)`` as a named tuple."""
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"load_state_dict into {type(self).__name__}: expected a dict of "
                            f"{{name: array}}, got a {type(state_dict).__name__}")
        own = OrderedDict(list(self.named_parameters()) + list(self.named_buffers()))
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        values, not_numbers = {}, []
        for k, v in state_dict.items():
            if k not in own:
                continue
            try:
                values[k] = np.asarray(backend.to_numpy(v) if backend.is_cupy(v) else
                                       v.numpy() if hasattr(v, "numpy") else v)
            except (TypeError, ValueError) as error:  # ragged lists and the like
                not_numbers.append(f"{k}: {error}")
                continue
            if values[k].dtype.kind not in "biuf":
                not_numbers.append(f"{k}: {values[k].dtype} values")
                del values[k]
        misshaped = [f"{k}: expected {tuple(own[k].shape)}, got {tuple(values[k].shape)}"
                     for k in values if values[k].shape != own[k].shape]
        problems = []
        if strict and missing:
            problems.append(f"missing keys {missing}")
        if strict and unexpected:
            problems.append(f"unexpected keys {unexpected}")
        if misshaped:
            problems.append(f"mis-shaped entries [{'; '.join(misshaped)}]")
        if problems:
            raise StateDictError(f"load_state_dict into {type(self).__name__}: " + ", ".join(problems))
        if not_numbers:
            raise TypeError(f"load_state_dict into {type(self).__name__}: entries that are not real "
                            f"numbers [{'; '.join(not_numbers)}]")
        cast = {k: _cast(k, v, own[k].dtype) for k, v in values.items()}
        unfit = [message for message in cast.values() if isinstance(message, str)]
        if unfit:
            raise ValueError(f"load_state_dict into {type(self).__name__}: values the parameters "
                             f"cannot hold [{'; '.join(unfit)}]")
        for k, v in cast.items():
            own[k].array[...] = backend.xp(own[k].array).asarray(v)
        return IncompatibleKeys(missing, unexpected)

    # ---- calling and printing --------------------------------------------------------------------
    def forward(self, *args):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args, **kwargs):
        for hook in list(self._forward_pre_hooks.values()):
            changed = hook(self, args)
            if changed is not None:  # a hook may replace the input, as in PyTorch
                args = changed if isinstance(changed, tuple) else (changed,)
        out = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            changed = hook(self, args, out)
            if changed is not None:  # … and the output
                out = changed
        return out

    def register_forward_pre_hook(self, hook):
        """``hook(module, inputs)`` before each forward; it may return new inputs.
        Returns a handle whose ``remove()`` takes the hook away."""
        return _HookHandle(self._forward_pre_hooks, hook)

    def register_forward_hook(self, hook):
        """``hook(module, inputs, output)`` after each forward (e.g. to keep a layer's
        feature maps); it may return a new output. Returns a handle with ``remove()``."""
        return _HookHandle(self._forward_hooks, hook)

    def extra_repr(self):
        """The arguments shown inside the parentheses of ``repr``."""
        return ""

    def __repr__(self):
        lines = [f"({name}): " + repr(m).replace("\n", "\n  ") for name, m in self._modules.items()]
        if not lines:
            return f"{type(self).__name__}({self.extra_repr()})"
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"


class _HookHandle:
    """What ``register_forward_hook`` returns: ``handle.remove()`` unregisters the hook."""
    _next_id = 0

    def __init__(self, hooks, hook):
        if not callable(hook):
            raise TypeError(f"register hook: {hook!r} is not callable")
        _HookHandle._next_id += 1
        self.hooks, self.id = hooks, _HookHandle._next_id
        hooks[self.id] = hook

    def remove(self):
        self.hooks.pop(self.id, None)
