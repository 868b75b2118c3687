"""Cut a named ``nn.Sequential`` into the two halves of the dual net.

    parts = split(model, at="pool2")
    parts.trunk   # conv1 … pool2: net1 up to the cut (its output P travels to net2)
    parts.dual    # net1's own copy of conv3: the dual layer, reads P like conv3′ does
    parts.head    # net2: conv3′ … fc, starting at the layer right after the cut
    parts.net1    # trunk + dual, the whole of net1
    parts(x)      # inference: head(trunk(x)); the dual copy is only for consensus

conv3 (in net1) and conv3′ (the first layer of net2) are the *dual layers*: both read
pool2. By default the copy starts with conv3′'s weights, so the two halves begin in
consensus; ``dual="fresh"`` draws new weights instead, as the report's two separately
initialised networks had.
"""
import copy
from collections import OrderedDict

from minigrad import nn
from minigrad.nn import init


class Split:
    """The halves of one network (see the module docstring)."""

    def __init__(self, trunk, dual, head, at):
        self.trunk, self.dual, self.head, self.at = trunk, dual, head, at
        self.dual_name = head.names()[0]

    @property
    def net1(self):
        return nn.Sequential(OrderedDict(list(self.trunk.named_children()) + [(self.dual_name, self.dual)]))

    def __call__(self, x):
        return self.head(self.trunk(x))

    def __repr__(self):
        return (f"Split(at={self.at!r}, net1={self.trunk.names() + [self.dual_name]}, "
                f"net2={self.head.names()})")


def split(model, at="pool2", dual="copy", generator=None):
    """``model`` (an ``nn.Sequential`` with named layers) cut after the layer ``at``.

    Returns a ``Split``: trunk = the layers up to and including ``at``; head (net2) =
    the rest; dual = a copy of head's first layer, which must have parameters (it is
    the layer both halves hold). The model's own layers are used, not copied: training
    the halves trains ``model``. dual: "copy" (start equal to conv3′) or "fresh" (PyTorch's
    default initialisation drawn anew, from ``generator`` or minigrad's default one).
    """
    if dual not in ("copy", "fresh"):
        raise ValueError(f"split: dual must be 'copy' or 'fresh', got {dual!r}")
    if not isinstance(model, nn.Sequential):
        raise TypeError(f"split: expected an nn.Sequential with named layers, got {type(model).__name__}")
    names = model.names()
    if at not in names:
        raise ValueError(f"split: no layer named {at!r}; the layers are {names}")
    cut = names.index(at) + 1
    if cut == len(names):
        raise ValueError(f"split at {at!r} leaves net2 empty: {at!r} is the last layer of {names}")
    trunk, head = model[:cut], model[cut:]
    first = head[0]
    if not list(first.parameters()):
        raise ValueError(f"split at {at!r}: the layer after it, {names[cut]!r} ({type(first).__name__}), "
                         f"has no parameters, so it cannot be the dual layer both halves hold; cut just "
                         f"before a layer with weights (a convolution or a linear layer)")
    twin = copy.deepcopy(first)
    if dual == "fresh":
        if not hasattr(twin, "weight"):
            raise ValueError(f"split: dual='fresh' needs a layer with a weight, {names[cut]!r} is a "
                             f"{type(first).__name__}")
        init.default_init_(twin.weight, getattr(twin, "bias", None), generator)
    return Split(trunk, twin, head, at)
