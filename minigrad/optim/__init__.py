"""Optimizers, gradient clipping and learning-rate schedules, written to read beside
PyTorch's documentation: same class names, argument names, defaults and update order.

    from minigrad import optim
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.1)
    loss.backward(); optim.clip_grad_norm_(model.parameters(), 1.0); opt.step(); opt.zero_grad()
"""
from minigrad.optim import lr_scheduler
from minigrad.optim.adadelta import Adadelta
from minigrad.optim.adagrad import Adagrad
from minigrad.optim.adam import Adam, AdamW
from minigrad.optim.adamax import Adamax
from minigrad.optim.clip import clip_grad_norm_, clip_grad_value_
from minigrad.optim.nadam import NAdam
from minigrad.optim.optimizer import Optimizer
from minigrad.optim.radam import RAdam
from minigrad.optim.rmsprop import RMSprop
from minigrad.optim.sgd import SGD

__all__ = ["Optimizer", "SGD", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW",
           "clip_grad_norm_", "clip_grad_value_", "lr_scheduler"]
__all__ += ["Adamax", "NAdam", "RAdam"]
