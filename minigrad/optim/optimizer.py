"""The base every optimizer shares: parameter groups, per-parameter state, zero_grad,
and a state dict that can be written to JSON or to an ``.npz`` file.

Layout, as in PyTorch's ``torch.optim.Optimizer``:

- ``param_groups``: a list of dicts, each ``{"params": [Tensor, ...], "lr": ..., <other
  hyperparameters>}``. A group given without a hyperparameter takes the optimizer's
  default, so one optimizer can train, say, the last layer with a larger ``lr``.
- ``state``: ``{Tensor: {name: array or number}}``, what the algorithm remembers about
  each parameter between steps (a momentum buffer, running averages, a step count).
  It is made lazily, at the first step in which the parameter has a gradient.

A subclass declares its ``state_names``, checks its hyperparameters in
``_check_hyperparameters`` and updates one parameter in ``_update``. Updates work on
the raw arrays (NumPy or CuPy) and write the parameter IN PLACE (``theta -= ...``), so a
module that holds the parameter sees the new values; ``step`` then bumps the parameter's
version counter, so backward through a graph made before the step raises, as in PyTorch. Gradients are only read, never
written: autograd may hand two parameters the same, read-only, gradient array.
"""
import inspect
import math
import numbers

import numpy as np

from minigrad import backend
from minigrad.autograd import increment_version
from minigrad.tensor import Tensor, enable_grad


def regularized_grad(theta, g, maximize, weight_decay):
    """The gradient every algorithm below starts from (PyTorch's first two lines):
    ``g_t ← −∇f(θ_{t−1})`` when maximizing, then the L2 penalty folded into it,
    ``g_t ← g_t + λ θ_{t−1}``. Returns a new array; ``g`` itself is left as it was."""
    if maximize:
        g = -g
    if weight_decay != 0:
        g = g + weight_decay * theta
    return g


def _finite_real(value):
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)) and math.isfinite(value)


def buffer(state, name, like):
    """``state[name]``, made as zeros shaped like the parameter array ``like`` on first use."""
    if name not in state:
        state[name] = backend.xp(like).zeros_like(like)
    return state[name]


def _to_plain(value, like):
    """A value read back from a state dict, in the form ``like`` has: NumPy scalars and
    0-d arrays (what an ``.npz`` returns) become Python numbers or strings, a list or
    1-d array becomes a tuple where the optimizer keeps a tuple (Adam's ``betas``)."""
    if isinstance(value, (np.ndarray, np.generic)):
        value = value.tolist()
    if isinstance(like, tuple) and isinstance(value, list):
        value = tuple(value)
    return value


def _to_saved(value):
    """A hyperparameter as the state dict holds it: tuples become lists (JSON has no
    tuples), everything else (numbers, bools, strings) as is."""
    return list(value) if isinstance(value, tuple) else value


class Optimizer:
    """Base class: ``Optimizer(params, defaults)``.

    ``params`` is an iterable of Tensors, or of dicts ``{"params": [...], <overrides>}``
    (one per parameter group). ``defaults`` holds each hyperparameter's default value.
    """
    state_names = ()  # names of the per-parameter state entries this algorithm keeps
    scalar_state = ("step",)  # those among them that are numbers, not arrays

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self._check_group(self.defaults, "")
        self.state = {}
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError(f"{self._name}: params must be an iterable of Tensors or of dicts, "
                            f"got a single Tensor (wrap it in a list)")
        params = list(params)
        if not params:
            raise ValueError(f"{self._name}: got an empty parameter list")
        if not isinstance(params[0], dict):
            params = [{"params": params}]
        for group in params:
            self.add_param_group(group)

    @property
    def _name(self):
        return type(self).__name__

    # ---- parameter groups ---------------------------------------------------------------
    def add_param_group(self, param_group):
        """Add a group ``{"params": [...], <hyperparameter overrides>}``; hyperparameters it
        does not name take the optimizer's defaults."""
        if not isinstance(param_group, dict):
            raise TypeError(f"{self._name}.add_param_group: expected a dict, "
                            f"got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError(f"{self._name}.add_param_group: the group has no 'params' entry")
        group = dict(param_group)
        params = group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(f"{self._name}: parameters must be given in an ordered collection "
                            f"(a list), not a set: the order numbers them in state_dict()")
        params = list(params)
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"{self._name}: parameter {i} of the group is a "
                                f"{type(p).__name__}, expected a minigrad Tensor")
            if not p.is_leaf:
                raise ValueError(f"{self._name}: parameter {i} of the group is not a leaf tensor "
                                 f"(it was computed by an op); optimize the tensor it came from")
        if len({id(p) for p in params}) != len(params):
            raise ValueError(f"{self._name}: a parameter appears twice in one parameter group")
        taken = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in taken for p in params):
            raise ValueError(f"{self._name}: some parameters appear in more than one parameter group")
        group["params"] = params
        for key, value in self.defaults.items():
            group[key] = _to_plain(group[key], value) if key in group else value
        self._check_group(group, f" in parameter group {len(self.param_groups)}")
        self.param_groups.append(group)

    def _check_group(self, group, where):
        """Every hyperparameter has the kind of its default in ``__init__``'s signature — a flag is a bool, a number a finite
        real number (``lr="0.1"`` or ``lr=inf`` would fail late, or train to NaN), a pair
        a pair of them — then the algorithm's own ranges (``_check_hyperparameters``)."""
        declared = inspect.signature(type(self).__init__).parameters
        for name in self.defaults:
            value = group[name]
            default = declared[name].default if name in declared else None
            if isinstance(default, bool):
                ok, expected = isinstance(value, (bool, np.bool_)), "True or False"
            elif isinstance(default, numbers.Real):
                ok, expected = _finite_real(value), "a finite real number"
            elif isinstance(default, tuple):
                ok = isinstance(value, tuple) and all(_finite_real(v) for v in value)
                expected = "a tuple of finite real numbers"
            else:
                continue
            if not ok:
                error = TypeError if not isinstance(value, (numbers.Real, tuple)) else ValueError
                raise error(f"{self._name}: invalid {name}={value!r}{where}: expected {expected}")
        self._check_hyperparameters(group, where)

    def _check_hyperparameters(self, group, where):
        """Raise ValueError naming the first invalid hyperparameter of ``group``."""
        raise NotImplementedError

    def _require(self, ok, name, value, expected, where):
        if not ok:
            raise ValueError(f"{self._name}: invalid {name}={value!r}{where}: expected {expected}")

    # ---- one step -----------------------------------------------------------------------
    def zero_grad(self, set_to_none=True):
        """Forget the gradients: ``grad = None`` (the default, as in PyTorch), or zeros of
        the parameter's shape with ``set_to_none=False``. The zeros are a fresh array,
        since a gradient array may be shared with another tensor and read-only."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                p.grad = None if set_to_none else Tensor(backend.xp(p.array).zeros_like(p.array))

    def step(self, closure=None):
        """Update every parameter that has a gradient; parameters whose ``.grad`` is None
        are left alone. ``closure``, if given, re-evaluates the model and returns the loss
        (run with gradients on); step returns that loss."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad.array
                if g.shape != p.shape:
                    raise RuntimeError(f"{self._name}.step: a parameter of shape {p.shape} has a "
                                       f"gradient of shape {g.shape}")
                self._update(p.array, g, self.state.setdefault(p, {}), group)
                # the parameter changed in place: a graph that saved it can no longer backward
                increment_version(p, f"{self._name}.step")
        return loss

    def _update(self, theta, g, state, group):
        """Update the parameter array ``theta`` in place from its gradient ``g``."""
        raise NotImplementedError

    # ---- saving and restoring -------------------------------------------------------------
    def _numbered_params(self):
        return [p for group in self.param_groups for p in group["params"]]

    def state_dict(self):
        """``{"state": {index: {name: array or number}}, "param_groups": [{hyperparameters...,
        "params": [index, ...]}]}``, PyTorch's layout: parameters are numbered 0, 1, … in
        group order. Arrays are NumPy copies (also for CuPy parameters); other values are
        Python numbers, bools, strings and lists, so the dict goes to JSON or to an
        ``.npz`` with ``allow_pickle=False`` once flattened."""
        index = {id(p): i for i, p in enumerate(self._numbered_params())}
        groups = [{**{k: _to_saved(v) for k, v in g.items() if k != "params"},
                   "params": [index[id(p)] for p in g["params"]]} for g in self.param_groups]
        state = {index[id(p)]: {name: v if name in self.scalar_state
                                else np.array(backend.to_numpy(v)) for name, v in entries.items()}
                 for p, entries in self.state.items() if entries and id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore hyperparameters and state saved by ``state_dict()``. The saved groups must
        match this optimizer's (same number, same sizes), every saved array must have its
        parameter's shape, and every state entry must be one this algorithm keeps; on any
        mismatch a ValueError names it and nothing is changed. Arrays are copied onto each
        parameter's device and cast to its dtype. The dict may come back from an ``.npz``
        (0-d arrays for numbers, string keys for the parameter indices)."""
        where = f"{self._name}.load_state_dict"
        if not isinstance(state_dict, dict):
            raise TypeError(f"{where}: expected a dict, got {type(state_dict).__name__}")
        missing = [k for k in ("state", "param_groups") if k not in state_dict]
        if missing:
            raise ValueError(f"{where}: the state dict lacks {missing}")
        saved_groups = list(state_dict["param_groups"])
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{where}: the state dict has {len(saved_groups)} parameter groups, "
                             f"this optimizer has {len(self.param_groups)}")
        by_index, new_groups = {}, []
        for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            ids = [int(k) for k in np.asarray(saved.get("params", []), dtype=np.int64).ravel()]
            if len(ids) != len(group["params"]):
                raise ValueError(f"{where}: parameter group {i} of the state dict has {len(ids)} "
                                 f"parameters, this optimizer's has {len(group['params'])}")
            lacking = [k for k in self.defaults if k not in saved]
            if lacking:
                raise ValueError(f"{where}: parameter group {i} of the state dict lacks the "
                                 f"hyperparameters {lacking} (is it from another optimizer?)")
            by_index.update(zip(ids, group["params"]))
            new = {k: _to_plain(v, self.defaults.get(k)) for k, v in saved.items() if k != "params"}
            new["params"] = group["params"]
            self._check_group(new, f" in parameter group {i} of the state dict")
            new_groups.append(new)
        new_state = {}
        for key, entries in state_dict["state"].items():
            index = int(key)
            if index not in by_index:
                raise ValueError(f"{where}: the state dict has state for parameter {index}, "
                                 f"which no parameter group lists")
            p = by_index[index]
            unexpected = sorted(set(entries) - set(self.state_names))
            if unexpected:
                raise ValueError(f"{where}: the state of parameter {index} has unexpected entries "
                                 f"{unexpected}; {self._name} keeps {list(self.state_names)}")
            new_state[p] = {name: self._restore(name, v, p, f"{where}: state '{name}' of "
                                                              f"parameter {index}")
                            for name, v in entries.items()}
        self.param_groups = new_groups
        self.state = new_state

    def _restore(self, name, value, p, what):
        """A saved state value, ready for use: a Python number for a scalar entry, else a
        copy on ``p``'s device with ``p``'s dtype (from a NumPy/CuPy array or a list)."""
        if name in self.scalar_state:
            return _to_plain(value, None)
        array = value if backend.is_cupy(value) else np.asarray(value)
        if tuple(array.shape) != tuple(p.shape):
            raise ValueError(f"{what} has shape {tuple(array.shape)}, the parameter has {p.shape}")
        return backend.xp(p.array).array(backend.to_device(array, p.device), dtype=p.dtype)

    def __repr__(self):
        lines = [f"{self._name} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines + [")"])
