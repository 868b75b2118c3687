"""A new activation written as an autograd Function, in the style of PyTorch's "Defining new
autograd Functions" examples, used inside a small network.

It defines swish, x·σ(x) (Ramachandran, Zoph & Le, 2017), as a Function with a
hand-written backward, checks that backward against finite differences (gradcheck,
float64) and against the same formula left to autograd, then trains a two-layer network
using it to tell the points of a grid inside a circle from those outside. Weights start at
different random values in the two twins, so their losses agree only closely:
# numbers agree with PyTorch within rtol=0.2, atol=0.01

Only the import block differs from the PyTorch twin (see README.md).
MINIGRAD_QUICK=1 takes 150 steps instead of 500."""
import os

# ---- imports: the only lines that differ from the PyTorch twin ----
import minigrad as torch  # PyTorch: import torch
from minigrad import nn  # PyTorch: from torch import nn
from minigrad.autograd import Function, gradcheck  # PyTorch: from torch.autograd import Function, gradcheck
# ---- end of imports ----

QUICK = os.environ.get("MINIGRAD_QUICK") == "1"


class Swish(Function):
    """y = x·σ(x);  dy/dx = σ(x) + x·σ(x)(1 − σ(x)) = σ(x)(1 + x(1 − σ(x)))."""

    @staticmethod
    def forward(ctx, x):
        s = torch.sigmoid(x)
        ctx.save_for_backward(x, s)
        return x * s

    @staticmethod
    def backward(ctx, grad_output):
        x, s = ctx.saved_tensors
        return grad_output * s * (1 + x * (1 - s))


class Net(nn.Module):
    def __init__(self, hidden=32):
        super().__init__()
        self.fc1 = nn.Linear(2, hidden)
        self.fc2 = nn.Linear(hidden, 2)

    def forward(self, x):
        return self.fc2(Swish.apply(self.fc1(x)))


def main():
    torch.manual_seed(0)
    probe = torch.randn(4, 5, dtype=torch.float64, requires_grad=True)
    assert gradcheck(Swish.apply, (probe,), eps=1e-6, atol=1e-5)
    ours = Swish.apply(probe)
    ours.sum().backward()
    custom_grad = probe.grad.clone()
    probe.grad = None
    reference = probe * torch.sigmoid(probe)  # the same formula, differentiated by autograd
    reference.sum().backward()
    assert torch.allclose(ours, reference) and torch.allclose(custom_grad, probe.grad)
    print("gradcheck passes; Swish equals x * sigmoid(x), value and gradient")

    # a grid of points on [-2, 2]², labelled 1 inside the circle of radius 1.2
    side = torch.linspace(-2, 2, 30)
    x = torch.stack([side.view(30, 1).expand(30, 30).reshape(-1), side.repeat(30)], dim=1)
    labels = ((x ** 2).sum(dim=1) < 1.44).long()

    model = Net()
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    steps = 150 if QUICK else 500
    for step in range(steps):
        optimizer.zero_grad()
        loss = criterion(model(x), labels)
        loss.backward()
        optimizer.step()
        if step % 50 == 49:
            print(f"step {step + 1}: loss {loss.item():.4f}")

    with torch.no_grad():
        accuracy = (model(x).argmax(dim=1) == labels).float().mean().item()
    print(f"accuracy on the grid: {accuracy:.3f}")
    assert accuracy > 0.95, accuracy  # answering "outside" everywhere scores 0.72
    print("all checks passed")


if __name__ == "__main__":
    main()
