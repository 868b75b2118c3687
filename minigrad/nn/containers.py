"""``ModuleList`` and ``ModuleDict``: sub-modules held in a list or a dict, registered
so that their parameters are found, trained, moved and saved. The state_dict keys are
PyTorch's: ``layers.0.weight`` for a list, ``heads.name.weight`` for a dict.
Neither has a ``forward``: the module that holds them says how they are called."""
from collections import OrderedDict

from minigrad.nn.module import Module


def _checked(container, key, module):
    if not isinstance(module, Module):
        raise TypeError(f"{container}: entry {key!r} is a {type(module).__name__}, not a Module")
    return module


class ModuleList(Module):
    """Modules in order, named "0", "1", … (renumbered after a deletion or insertion, as PyTorch)."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _index(self, index):
        if not -len(self) <= index < len(self):
            raise IndexError(f"ModuleList: index {index} is out of range for {len(self)} modules")
        return index % len(self)

    def _renumber(self, modules):
        self._modules.clear()
        for i, module in enumerate(modules):
            self._modules[str(i)] = _checked("ModuleList", i, module)

    def __getitem__(self, index):
        modules = list(self._modules.values())
        if isinstance(index, slice):
            return ModuleList(modules[index])
        return modules[self._index(index)]

    def __setitem__(self, index, module):
        self._modules[str(self._index(index))] = _checked("ModuleList", index, module)

    def __delitem__(self, index):
        modules = list(self._modules.values())
        del modules[index if isinstance(index, slice) else self._index(index)]
        self._renumber(modules)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __iadd__(self, modules):
        return self.extend(modules)

    def __add__(self, other):
        return ModuleList(list(self) + list(other))

    def append(self, module):
        self._modules[str(len(self))] = _checked("ModuleList", len(self), module)
        return self

    def extend(self, modules):
        for module in modules:
            self.append(module)
        return self

    def insert(self, index, module):
        modules = list(self._modules.values())
        modules.insert(index, module)
        self._renumber(modules)


class ModuleDict(Module):
    """Modules by name, in insertion order (or the order of an OrderedDict / list of pairs)."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        if not isinstance(key, str) or not key or "." in key:
            raise KeyError(f"ModuleDict: keys must be non-empty strings without '.', got {key!r}")
        self._modules[key] = _checked("ModuleDict", key, module)

    def __delitem__(self, key):
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def pop(self, key):
        return self._modules.pop(key)

    def clear(self):
        self._modules.clear()

    def update(self, modules):
        pairs = modules.items() if isinstance(modules, (dict, OrderedDict, ModuleDict)) else modules
        for key, module in pairs:
            self[key] = module
