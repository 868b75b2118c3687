"""LeNet-5 (LeCun, Bottou, Bengio and Haffner, "Gradient-based learning applied to
document recognition", Proc. IEEE 1998, §II.B), with the paper's layer names.

C1: 6 feature maps, 5×5 convolution, 32×32 → 28×28; S2: 2×2 subsampling → 14×14;
C3: 16 maps, 5×5 → 10×10; S4: subsampling → 5×5; C5: 120 maps, 5×5 → 1×1;
F6: 84 units; output: one unit per class. A 28×28 image (MNIST as distributed) is
padded by 2 in C1, which is what the paper's 32×32 frame did around the 20×20 digit.

Kept from the paper: the sizes, tanh (the paper's scaled tanh 1.7159·tanh(2a/3) without
its scale) and average subsampling. Changed, as every modern version does: S2 and S4
have no trainable coefficient and bias, C3 connects to all six S2 maps (the paper's
table I left some out), and the output is a linear layer for softmax cross-entropy
instead of the Euclidean RBF units.
"""
from collections import OrderedDict

from minigrad import nn
from minigrad.models.weights import check_no_pretrained


def lenet5(num_classes=10, in_channels=1, image_size=28, *, weights=None, pretrained=False):
    """Input (N, in_channels, image_size, image_size), image_size 28 or 32 → logits (N, num_classes)."""
    check_no_pretrained("lenet5", weights, pretrained)
    if image_size not in (28, 32):
        raise ValueError(f"lenet5: image_size must be 28 (padded to 32 in C1) or 32, got {image_size!r}")
    return nn.Sequential(OrderedDict([
        ("c1", nn.Conv2d(in_channels, 6, 5, padding=2 if image_size == 28 else 0)), ("tanh1", nn.Tanh()),
        ("s2", nn.AvgPool2d(2)),
        ("c3", nn.Conv2d(6, 16, 5)), ("tanh3", nn.Tanh()),
        ("s4", nn.AvgPool2d(2)),
        ("c5", nn.Conv2d(16, 120, 5)), ("tanh5", nn.Tanh()),
        ("flatten", nn.Flatten()),
        ("f6", nn.Linear(120, 84)), ("tanh6", nn.Tanh()),
        ("output", nn.Linear(84, num_classes)),
    ]))
