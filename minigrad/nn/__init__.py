"""Neural-network layers (``minigrad.nn``) and their initialisers (``minigrad.nn.init``)."""
from minigrad.nn import init
from minigrad.nn.conv import Conv2d
from minigrad.nn.layers import Dropout, Flatten, Identity, Linear, ReLU, Sequential, Sigmoid, Tanh
from minigrad.nn.module import Module, Parameter

__all__ = ["Conv2d", "Dropout", "Flatten", "Identity", "Linear", "Module", "Parameter", "ReLU", "Sequential",
           "Sigmoid", "Tanh", "init"]
