"""The report's CaffeNet-style CNN, the network the dual-net trainer (``admm``) splits.

Sized for 28×28 greyscale (the MNIST family) or 3×32×32 colour (CIFAR-10): four
convolutions, the first three followed by ReLU and 2×2 max-pooling, then one fully
connected classifier. ``admm`` splits it at ``pool2``: net1 = conv1 … pool2 (+ its copy
of conv3), net2 = conv3′ … fc; its layers are named so that the split can find them.
"""
from collections import OrderedDict

from minigrad import nn
from minigrad.models.weights import check_no_pretrained


def caffenet(num_classes=10, *, in_channels=1, image_size=28, weights=None, pretrained=False):
    """conv1 C→32 k5 p2, ReLU, pool → conv2 32→32 k5 p2, ReLU, pool (= pool2) →
    conv3 32→64 k3 p1, ReLU, pool → conv4 64→64 k3 p1, ReLU → fc 64·s·s→num_classes,
    where s = image_size // 8 (each 2×2 pool halves the size, rounding down:
    28 → 14 → 7 → 3, 32 → 16 → 8 → 4). Input (N, C, H, W) → logits (N, num_classes)."""
    check_no_pretrained("caffenet", weights, pretrained)
    if image_size < 8:
        raise ValueError(f"caffenet: image_size must be at least 8 (three 2×2 pools), got {image_size}")
    side = image_size // 2 // 2 // 2
    return nn.Sequential(OrderedDict([
        ("conv1", nn.Conv2d(in_channels, 32, 5, padding=2)), ("relu1", nn.ReLU()), ("pool1", nn.MaxPool2d(2)),
        ("conv2", nn.Conv2d(32, 32, 5, padding=2)), ("relu2", nn.ReLU()), ("pool2", nn.MaxPool2d(2)),
        ("conv3", nn.Conv2d(32, 64, 3, padding=1)), ("relu3", nn.ReLU()), ("pool3", nn.MaxPool2d(2)),
        ("conv4", nn.Conv2d(64, 64, 3, padding=1)), ("relu4", nn.ReLU()),
        ("flatten", nn.Flatten()), ("fc", nn.Linear(64 * side * side, num_classes)),
    ]))
