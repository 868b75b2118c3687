"""Networks by the names users know (``from minigrad import models``):

    models.resnet18(num_classes=1000)    # torchvision's ResNet-18, same state_dict keys
    models.resnet34()                    # torchvision's ResNet-34
    models.resnet_cifar(depth=20)        # He et al.'s CIFAR ResNet (6n + 2 layers)
    models.lenet5()                      # LeNet-5 for 1×28×28 or 1×32×32
    models.caffenet()                    # the report's CaffeNet-style CNN that admm splits
"""
from minigrad.models.caffenet import caffenet
from minigrad.models.lenet import lenet5
from minigrad.models.resnet import BasicBlock, ResNet, resnet18, resnet34, resnet_cifar

__all__ = ["BasicBlock", "ResNet", "caffenet", "lenet5", "resnet18", "resnet34", "resnet_cifar"]
