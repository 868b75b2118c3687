"""Neural-network layers (``minigrad.nn``) and their initialisers (``minigrad.nn.init``)."""
from minigrad.nn import init, parallel, utils
from minigrad.nn import functional  # torch's path to minigrad.functional (the same module)
from minigrad.nn.batchnorm import BatchNorm1d, BatchNorm2d, LayerNorm
from minigrad.nn.containers import ModuleDict, ModuleList
from minigrad.nn.conv import Conv2d
from minigrad.nn.layers import (ELU, GELU, Dropout, Dropout2d, Embedding, Flatten, Identity, LeakyReLU, Linear,
                                LogSoftmax, ReLU, Sequential, Sigmoid, SiLU, Softmax, Softplus, Tanh)
from minigrad.nn.loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, KLDivLoss, L1Loss, MSELoss,
                               NLLLoss, SmoothL1Loss)
from minigrad.nn.module import Module, Parameter
from minigrad.nn.normalization import GroupNorm, InstanceNorm2d
from minigrad.nn.pool import AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool2d, Fold, MaxPool2d, MaxUnpool2d, Unfold
from minigrad.nn.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell

__all__ = ["AdaptiveAvgPool2d", "AvgPool2d", "BCELoss", "BCEWithLogitsLoss", "BatchNorm1d", "BatchNorm2d", "Conv2d", "CrossEntropyLoss",
           "Dropout", "Dropout2d", "ELU", "Embedding", "Flatten", "GELU", "HuberLoss", "Identity", "KLDivLoss",
           "L1Loss", "LayerNorm", "LeakyReLU", "Linear", "LogSoftmax", "MSELoss", "MaxPool2d", "MaxUnpool2d", "Module", "ModuleDict",
           "ModuleList", "NLLLoss", "Parameter", "ReLU", "Sequential", "Sigmoid", "SiLU", "SmoothL1Loss", "Softmax",
           "Softplus", "Tanh", "init", "parallel", "utils"]
__all__ += ["GRU", "GRUCell", "GroupNorm", "InstanceNorm2d", "LSTM", "LSTMCell", "RNN", "RNNCell"]
__all__ += ["AdaptiveMaxPool2d", "Fold", "Unfold"]
