"""ResNets: torchvision's ``resnet18`` and ``resnet34``, and the small CIFAR ResNets of
He et al. (2016), all built from one ``BasicBlock``.

The module names are torchvision's (``conv1, bn1, relu, maxpool, layer1 … layer4,
avgpool, fc``; in a block ``conv1, bn1, conv2, bn2, downsample.0, downsample.1``), so
``model.state_dict()`` has torchvision's keys and shapes, and a torchvision state_dict
(as NumPy arrays: ``{k: v.numpy() for k, v in sd.items()}``) loads and gives
torchvision's outputs.

A residual block learns F(x) and outputs relu(F(x) + x) (He, Zhang, Ren and Sun, "Deep
Residual Learning for Image Recognition", CVPR 2016, eq. (1)); where F changes the
shape (stride 2, more channels) the shortcut is a 1×1 convolution with batch norm,
the paper's projection shortcut (eq. (2), option B).
"""
from minigrad import nn
from minigrad.models.weights import check_no_pretrained
from minigrad.nn import init


class BasicBlock(nn.Module):
    """Two 3×3 convolutions with batch norm and a shortcut:
    relu(bn2(conv2(relu(bn1(conv1(x))))) + downsample(x)), downsample = identity if None.
    (N, inplanes, H, W) → (N, planes, H/stride, W/stride)."""
    expansion = 1  # torchvision's name: output channels = planes · expansion

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class ResNet(nn.Module):
    """A stem, one stage (``layer1``, ``layer2``, …) per entry of ``layers`` (that many
    BasicBlocks of ``widths[i]`` channels; every stage after the first halves the image
    with stride 2), a global average pool and a linear classifier.

    ``small_images=False`` is torchvision's ImageNet stem: 7×7 stride-2 convolution and
    3×3 stride-2 max pool (224×224 → 56×56). ``small_images=True`` is the CIFAR stem of
    He et al. §4.2: one 3×3 stride-1 convolution and no pooling (``maxpool`` is then
    ``nn.Identity``, which holds no weights). Initialised as torchvision does: convolutions
    kaiming_normal_(mode="fan_out", nonlinearity="relu"), batch norm γ = 1, β = 0,
    the classifier PyTorch's Linear default; ``zero_init_residual=True`` starts every
    block's bn2 at γ = 0, so each block starts as the identity (Goyal et al. 2017).
    Input (N, in_channels, H, W) → logits (N, num_classes)."""

    def __init__(self, layers, num_classes=1000, zero_init_residual=False, widths=(64, 128, 256, 512),
                 in_channels=3, small_images=False):
        super().__init__()
        layers, widths = tuple(layers), tuple(widths)
        if not layers or len(layers) != len(widths):
            raise ValueError(f"ResNet: layers {layers} and widths {widths} need the same, non-zero length")
        if any(not isinstance(n, int) or n <= 0 for n in layers + widths):
            raise ValueError(f"ResNet: block counts {layers} and widths {widths} must be positive ints")
        if small_images:
            self.conv1 = nn.Conv2d(in_channels, widths[0], 3, padding=1, bias=False)
        else:
            self.conv1 = nn.Conv2d(in_channels, widths[0], 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU()
        self.maxpool = nn.Identity() if small_images else nn.MaxPool2d(3, stride=2, padding=1)
        self.inplanes = widths[0]
        self.stages = len(layers)
        for i, (blocks, width) in enumerate(zip(layers, widths)):
            setattr(self, f"layer{i + 1}", self._make_layer(width, blocks, stride=1 if i == 0 else 2))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(widths[-1] * BasicBlock.expansion, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                init.constant_(m.weight, 1)
                init.constant_(m.bias, 0)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, BasicBlock):
                    init.constant_(m.bn2.weight, 0)

    def _make_layer(self, planes, blocks, stride):
        downsample = None
        if stride != 1 or self.inplanes != planes * BasicBlock.expansion:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes * BasicBlock.expansion, 1, stride=stride, bias=False),
                nn.BatchNorm2d(planes * BasicBlock.expansion))
        stage = [BasicBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * BasicBlock.expansion
        stage += [BasicBlock(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*stage)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for i in range(1, self.stages + 1):
            x = getattr(self, f"layer{i}")(x)
        x = self.avgpool(x)
        return self.fc(x.reshape(x.shape[0], -1))


def _torchvision(name, layers, weights, pretrained, progress, kwargs):
    check_no_pretrained(name, weights, pretrained, progress)
    return ResNet(layers, **kwargs)


def resnet18(weights=None, progress=True, *, pretrained=False, **kwargs):
    """torchvision's ResNet-18: stages of 2, 2, 2, 2 BasicBlocks (64, 128, 256, 512 channels),
    11.7 M weights for 1000 classes. ``kwargs``: ``num_classes``, ``zero_init_residual``,
    ``in_channels`` (see ``ResNet``). (N, 3, H, W), H, W ≥ 32 → (N, num_classes).
    ``weights=None``/``pretrained=False`` only (see ``models.weights``)."""
    return _torchvision("resnet18", (2, 2, 2, 2), weights, pretrained, progress, kwargs)


def resnet34(weights=None, progress=True, *, pretrained=False, **kwargs):
    """torchvision's ResNet-34: stages of 3, 4, 6, 3 BasicBlocks, 21.8 M weights for 1000 classes."""
    return _torchvision("resnet34", (3, 4, 6, 3), weights, pretrained, progress, kwargs)


def resnet_cifar(depth=20, num_classes=10, in_channels=3, *, weights=None, pretrained=False):
    """The CIFAR-10 ResNet of He et al. §4.2: a 3×3 stem of 16 channels, then three stages
    of n BasicBlocks with 16, 32 and 64 channels on 32×32, 16×16 and 8×8 maps, global
    average pool, fc: 6n + 2 weighted layers (depth 8, 20, 32, 44, 56, 110). Projection
    shortcuts where the shape changes (the paper used zero-padding there, option A).
    depth 8: 78 k weights, depth 20: 272 k. (N, in_channels, H, W) → (N, num_classes)."""
    check_no_pretrained("resnet_cifar", weights, pretrained)
    if not isinstance(depth, int) or depth < 8 or (depth - 2) % 6:
        raise ValueError(f"resnet_cifar: depth must be 6n + 2 with n ≥ 1 (8, 14, 20, 32, …), got {depth!r}")
    n = (depth - 2) // 6
    return ResNet((n, n, n), num_classes, widths=(16, 32, 64), in_channels=in_channels, small_images=True)
