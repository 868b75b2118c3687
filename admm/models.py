"""The networks the dual-net trainer splits, as ``nn.Sequential`` with named layers.

``caffenet`` is the report's CaffeNet-style CNN, which lives in ``minigrad.models``
(admm imports it; see ``minigrad/models/caffenet.py``). It is split at ``pool2``:
net1 = conv1 … pool2 (+ its copy of conv3), net2 = conv3′ … fc.

``mlp`` is a small stand-in with the same shape of story (a cut after the second
hidden layer, a linear layer on each side of it) that trains in seconds; the tests
use it, and ``--arch mlp`` runs it from the command line.
"""
from collections import OrderedDict

from minigrad import nn
from minigrad.models import caffenet


def mlp(in_features=784, hidden=64, classes=10):
    """flatten → fc1 → relu1 → fc2 → relu2 (the cut) → fc3 (the dual layer) → relu3 → fc4.
    Input (N, ...) with in_features values per sample → logits (N, classes)."""
    return nn.Sequential(OrderedDict([
        ("flatten", nn.Flatten()),
        ("fc1", nn.Linear(in_features, hidden)), ("relu1", nn.ReLU()),
        ("fc2", nn.Linear(hidden, hidden)), ("relu2", nn.ReLU()),
        ("fc3", nn.Linear(hidden, hidden)), ("relu3", nn.ReLU()),
        ("fc4", nn.Linear(hidden, classes)),
    ]))


# name → (builder taking the image shape (C, H, W) and the class count, default cut)
ARCHITECTURES = {
    "caffenet": (lambda shape, classes: caffenet(classes, in_channels=shape[0], image_size=shape[1]), "pool2"),
    "mlp": (lambda shape, classes: mlp(shape[0] * shape[1] * shape[2], 64, classes), "relu2"),
}


def build(arch, image_shape, classes=10):
    """The network called ``arch`` for images of ``image_shape`` (C, H, W) → (model, default cut)."""
    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {arch!r}; expected one of {sorted(ARCHITECTURES)}")
    builder, cut = ARCHITECTURES[arch]
    return builder(tuple(image_shape), classes), cut
