"""The training workloads of ``benchmarks/suite.py``, each built twice from one
description: with minigrad and with PyTorch, the PyTorch copy loaded with minigrad's
initial weights by state_dict name, so both libraries do the same arithmetic.

A workload is a ``Pair``: two step functions (forward, loss, backward, update; each
returns the loss), and a check that both libraries compute the same thing (their first
training losses, and the outputs of a few samples in evaluation mode). The PyTorch
side is only built when torch is importable.

    caffenet   admm's network (``admm.models.caffenet``) on 3×32×32 images, optionally with a
               BatchNorm2d after every convolution; SGD lr 0.01
    resnet18   ``minigrad.models.resnet18`` (torchvision's ResNet-18 and state_dict names), 10
               classes, 3×32×32; SGD lr 0.01, momentum 0.9
    mlp        ``python -m minigrad``'s network (784-256-256-10, ReLU, dropout 0.2), Adam
               lr 2e-3, on 1×28×28 images
    dualnet    one iteration of ``admm demo``'s split run (admm mode, caffenet 1×28×28, SGD
               lr 0.01 momentum 0.9): net1 forward, net2's full step, net1's step on the
               augmented Lagrangian (``admm.modes.ADMM``), through the in-process transport
"""
import copy
from collections import OrderedDict

import numpy as np

import minigrad as mg
import minigrad.functional as F
from minigrad import models, nn, optim


def caffenet_layers(lib, in_channels=3, image_size=32, bn=False, classes=10, conv3_kernel=3):
    """``minigrad.models.caffenet``'s layers as an OrderedDict of ``lib`` (minigrad.nn or
    torch.nn) modules, with a BatchNorm2d ``bn{i}`` after conv{i} when ``bn``.
    ``conv3_kernel=5`` gives the kernels issue's benchmark CNN (``cnn_step.py``), whose
    conv3 is 5×5 (padding 2) instead of 3×3."""
    side = image_size // 8
    spec = [("conv1", in_channels, 32, 5, 2, True), ("conv2", 32, 32, 5, 2, True),
            ("conv3", 32, 64, conv3_kernel, conv3_kernel // 2, True), ("conv4", 64, 64, 3, 1, False)]
    out = OrderedDict()
    for i, (name, cin, cout, k, p, pool) in enumerate(spec, 1):
        out[name] = lib.Conv2d(cin, cout, k, padding=p)
        if bn:
            out[f"bn{i}"] = lib.BatchNorm2d(cout)
        out[f"relu{i}"] = lib.ReLU()
        if pool:
            out[f"pool{i}"] = lib.MaxPool2d(2)
    out["flatten"] = lib.Flatten()
    out["fc"] = lib.Linear(64 * side * side, classes)
    return out


def torch_resnet18(lib, classes=10):
    """``minigrad.models.resnet18`` in ``torch.nn`` (torchvision is no dependency of ours):
    BasicBlock ×[2, 2, 2, 2], a 7×7 stride-2 stem and a 3×3 max-pool, torchvision's
    state_dict names. The global average pool is a mean over (H, W), which is what
    AdaptiveAvgPool2d(1) computes."""

    class BasicBlock(lib.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = lib.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = lib.BatchNorm2d(cout)
            self.relu = lib.ReLU()
            self.conv2 = lib.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = lib.BatchNorm2d(cout)
            needed = stride != 1 or cin != cout
            self.downsample = lib.Sequential(lib.Conv2d(cin, cout, 1, stride, 0, bias=False),
                                             lib.BatchNorm2d(cout)) if needed else None

        def forward(self, x):
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            identity = x if self.downsample is None else self.downsample(x)
            return self.relu(out + identity)

    class ResNet(lib.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = lib.Conv2d(3, 64, 7, 2, 3, bias=False)
            self.bn1 = lib.BatchNorm2d(64)
            self.relu = lib.ReLU()
            self.maxpool = lib.MaxPool2d(3, 2, 1)
            widths, cin = (64, 128, 256, 512), 64
            for i, cout in enumerate(widths, 1):
                stride = 1 if i == 1 else 2
                setattr(self, f"layer{i}", lib.Sequential(BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1)))
                cin = cout
            self.fc = lib.Linear(512, classes)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(x.mean((2, 3)))

    return ResNet()


def mlp_layers(lib):
    """``minigrad.__main__.mlp(784, 256, 10, 0.2)``: Flatten → [Linear → ReLU → Dropout] × 2 → Linear."""
    return [lib.Flatten(), lib.Linear(784, 256), lib.ReLU(), lib.Dropout(0.2),
            lib.Linear(256, 256), lib.ReLU(), lib.Dropout(0.2), lib.Linear(256, 10)]


class Pair:
    """A workload's two step functions (``torch_step`` None without PyTorch); ``check()``
    raises when the two libraries disagree (it runs one step of each)."""

    def __init__(self, name, batch, minigrad_step, torch_step=None, check=None):
        self.name, self.batch = name, batch
        self.minigrad_step, self.torch_step = minigrad_step, torch_step
        self._check = check

    def check(self):
        if self._check is not None:
            self._check()


def _agree(name, what, ours, theirs, rtol=2e-3):
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    scale = max(1.0, float(np.abs(theirs).max()))
    worst = float(np.abs(ours - theirs).max())
    if not worst <= rtol * scale:
        raise AssertionError(f"{name}: minigrad and PyTorch disagree on {what} (largest difference {worst:.3g}, "
                             f"scale {scale:.3g}): the two sides are not timing the same work")


def _copy_weights(torch, ours, theirs):
    theirs.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in ours.state_dict().items()})


def _data(batch, shape, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((batch,) + shape).astype(np.float32), rng.integers(0, 10, batch)


def _supervised(name, batch, shape, ours, theirs, make_opt, make_torch_opt, torch, deterministic=True):
    """A Pair for a plain classifier: cross-entropy on a fixed random batch."""
    x, y = _data(batch, shape)
    xm, ym = mg.tensor(x), mg.tensor(y)
    ours_opt = make_opt(ours.parameters())

    def ours_step():
        loss = F.cross_entropy(ours(xm), ym)
        ours_opt.zero_grad()
        loss.backward()
        ours_opt.step()
        return loss.item()

    if torch is None:
        return Pair(name, batch, ours_step)
    _copy_weights(torch, ours, theirs)
    theirs_opt = make_torch_opt(theirs.parameters())
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def theirs_step():
        loss = torch.nn.functional.cross_entropy(theirs(xt), yt)
        theirs_opt.zero_grad()
        loss.backward()
        theirs_opt.step()
        return loss.item()

    def check():
        few = slice(0, min(batch, 8))
        ours.eval()
        theirs.eval()
        with mg.no_grad(), torch.no_grad():
            _agree(name, "evaluation-mode outputs", ours(mg.tensor(x[few])).array, theirs(xt[few]).numpy())
        ours.train()
        theirs.train()
        # the first training step from the same weights: the same loss (dropout draws differ)
        if deterministic:
            _agree(name, "the first training loss", ours_step(), theirs_step())

    return Pair(name, batch, ours_step, theirs_step, check)


def caffenet(batch, bn, torch):
    mg.manual_seed(0)
    ours = nn.Sequential(caffenet_layers(nn, bn=bn))
    theirs = torch.nn.Sequential(caffenet_layers(torch.nn, bn=bn)) if torch else None
    sgd = (lambda p: optim.SGD(p, lr=0.01)), (lambda p: torch.optim.SGD(p, lr=0.01))
    return _supervised(f"caffenet{'+bn' if bn else ''} N={batch}", batch, (3, 32, 32), ours, theirs, *sgd, torch)


def resnet(batch, torch, size=32):
    mg.manual_seed(0)
    ours = models.resnet18(num_classes=10)
    theirs = torch_resnet18(torch.nn) if torch else None
    sgd = ((lambda p: optim.SGD(p, lr=0.01, momentum=0.9)),
           (lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9)))
    return _supervised(f"resnet18 N={batch}", batch, (3, size, size), ours, theirs, *sgd, torch)


def mlp(batch, torch):
    mg.manual_seed(0)
    ours = nn.Sequential(*mlp_layers(nn))
    theirs = torch.nn.Sequential(*mlp_layers(torch.nn)) if torch else None
    adam = (lambda p: optim.Adam(p, lr=2e-3)), (lambda p: torch.optim.Adam(p, lr=2e-3))
    return _supervised(f"mlp N={batch}", batch, (1, 28, 28), ours, theirs, *adam, torch, deterministic=False)


def dualnet(batch, torch):
    """admm's split iteration, minigrad through ``admm`` itself and PyTorch mirrored
    line by line (admm.halves.SplitRun.step, Net2.step, ADMM.reply and update)."""
    from admm.halves import Net2
    from admm.session import configure, net1_side, net2_side
    from admm.transport import InProc

    # the demo's settings at a constant rate (no warm-up or cosine: a step costs the same
    # at any rate, and the PyTorch mirror below then needs no schedule)
    config = configure(batch=batch, lr_schedule="constant", warmup=0.0)
    shape = (1, 28, 28)
    x, labels = _data(batch, shape)
    prep = dict(image_shape=shape, train=range(batch), labels={"train": labels}, iterations=1)
    net2 = net2_side(config, "admm", prep)
    run = net1_side(config, "admm", prep, InProc(net2.handle))
    assert isinstance(net2, Net2)
    xm = mg.tensor(x)
    ym = mg.tensor(np.stack([labels, np.arange(batch)], axis=1))

    def ours_step():
        return run.step(xm, ym)["loss_net2"]

    if torch is None:
        return Pair(f"dualnet N={batch}", batch, ours_step)
    tn = torch.nn
    beta, eta, n = config["beta"], config["eta"], batch
    trunk = tn.Sequential(OrderedDict((k, v) for k, v in caffenet_layers(tn, 1, 28).items()
                                      if k in run.trunk.names()))
    head = tn.Sequential(OrderedDict((k, v) for k, v in caffenet_layers(tn, 1, 28).items()
                                     if k in net2.head.names()))
    _copy_weights(torch, run.trunk, trunk)
    _copy_weights(torch, net2.head, head)
    dual = copy.deepcopy(head[0])
    _copy_weights(torch, run.dual, dual)
    sgd = dict(lr=config["lr"], momentum=config["momentum"], nesterov=config["nesterov"])
    opt1 = torch.optim.SGD(list(trunk.parameters()) + list(dual.parameters()), **sgd)
    opt2 = torch.optim.SGD(head.parameters(), **sgd)
    xt, yt = torch.from_numpy(x), torch.from_numpy(labels)
    last_loss1 = [None]

    def theirs_step():
        p = trunk(xt)                                    # (1) net1 forward to the cut
        x3 = dual(p)
        y = head[0](p.detach())                          # (2) net2's full step
        y.retain_grad()
        loss2 = torch.nn.functional.cross_entropy(head[1:](y), yt)
        opt2.zero_grad()
        loss2.backward()
        target = y.detach() - eta * (y.grad * n)         # ADMM.reply: the z-step
        opt2.step()
        opt1.zero_grad()                                 # (3) net1's x-step, λ = 0
        loss1 = ((x3 - target) ** 2).sum() * (beta / (2 * n))
        loss1.backward()
        opt1.step()
        last_loss1[0] = loss1.item()
        return loss2.item()

    def check():
        ours = run.step(xm, ym)
        _agree(f"dualnet N={batch}", "the first net2 loss", ours["loss_net2"], theirs_step())
        _agree(f"dualnet N={batch}", "the first net1 loss", ours["loss_net1"], last_loss1[0])

    return Pair(f"dualnet N={batch}", batch, ours_step, theirs_step, check)
