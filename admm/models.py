"""The networks the dual-net trainer splits, as ``nn.Sequential`` with named layers.

``caffenet`` is the report's CaffeNet-style CNN, sized for 28×28 greyscale (the MNIST
family) or 3×32×32 colour (CIFAR-10): four convolutions, the first three followed by
ReLU and 2×2 max-pooling, then one fully connected classifier. Split at ``pool2``:
net1 = conv1 … pool2 (+ its copy of conv3), net2 = conv3′ … fc.

``mlp`` is a small stand-in with the same shape of story (a cut after the second
hidden layer, a linear layer on each side of it) that trains in seconds; the tests
use it, and ``--arch mlp`` runs it from the command line.
"""
from collections import OrderedDict

from minigrad import nn


def caffenet(in_channels=1, image_size=28, classes=10):
    """conv1 C→32 k5 p2, ReLU, pool → conv2 32→32 k5 p2, ReLU, pool (= pool2) →
    conv3 32→64 k3 p1, ReLU, pool → conv4 64→64 k3 p1, ReLU → fc 64·s·s→classes,
    where s = image_size // 8 (each 2×2 pool halves the size, rounding down:
    28 → 14 → 7 → 3, 32 → 16 → 8 → 4). Input (N, C, H, W) → logits (N, classes)."""
    side = image_size // 2 // 2 // 2
    return nn.Sequential(OrderedDict([
        ("conv1", nn.Conv2d(in_channels, 32, 5, padding=2)), ("relu1", nn.ReLU()), ("pool1", nn.MaxPool2d(2)),
        ("conv2", nn.Conv2d(32, 32, 5, padding=2)), ("relu2", nn.ReLU()), ("pool2", nn.MaxPool2d(2)),
        ("conv3", nn.Conv2d(32, 64, 3, padding=1)), ("relu3", nn.ReLU()), ("pool3", nn.MaxPool2d(2)),
        ("conv4", nn.Conv2d(64, 64, 3, padding=1)), ("relu4", nn.ReLU()),
        ("flatten", nn.Flatten()), ("fc", nn.Linear(64 * side * side, classes)),
    ]))


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
    "caffenet": (lambda shape, classes: caffenet(shape[0], shape[1], classes), "pool2"),
    "mlp": (lambda shape, classes: mlp(shape[0] * shape[1] * shape[2], 64, classes), "relu2"),
}


def build(arch, image_shape, classes=10):
    """The network called ``arch`` for images of ``image_shape`` (C, H, W) → (model, default cut)."""
    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {arch!r}; expected one of {sorted(ARCHITECTURES)}")
    builder, cut = ARCHITECTURES[arch]
    return builder(tuple(image_shape), classes), cut
