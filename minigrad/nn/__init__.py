"""Neural-network layers (``minigrad.nn``) and their initialisers (``minigrad.nn.init``)."""
from minigrad.nn import init, parallel
from minigrad.nn.batchnorm import BatchNorm1d, BatchNorm2d
from minigrad.nn.conv import Conv2d
from minigrad.nn.layers import Dropout, Flatten, Identity, Linear, ReLU, Sequential, Sigmoid, Tanh
from minigrad.nn.module import Module, Parameter
from minigrad.nn.pool import AvgPool2d, MaxPool2d

__all__ = ["AvgPool2d", "BatchNorm1d", "BatchNorm2d", "Conv2d", "Dropout", "Flatten", "Identity", "Linear",
           "MaxPool2d", "Module", "Parameter", "ReLU", "Sequential", "Sigmoid", "Tanh", "init", "parallel"]
