"""Training a network, in the style of PyTorch's "Quickstart" and "Optimizing Model
Parameters" tutorials: MNIST in a ``TensorDataset``, a ``DataLoader``, Adam, a train loop
and a test loop, and the loss and accuracy as they go.

The images are the MNIST subset shipped with minigrad, read with NumPy, so both twins
train on the same arrays (PyTorch needs no torchvision). Weights start at different
random values in the two twins, and the batches come in a different random order, so
their curves agree only closely:
# numbers agree with PyTorch within rtol=0.15, atol=0.1

Only the import block differs from the PyTorch twin (see README.md).
MINIGRAD_QUICK=1 trains on 2,000 images for two epochs."""
import os

import numpy as np

# ---- imports: the only lines that differ from the PyTorch twin ----
import minigrad as torch  # PyTorch: import torch
from minigrad import nn  # PyTorch: from torch import nn
from minigrad.utils.data import DataLoader, TensorDataset  # PyTorch: from torch.utils.data import DataLoader, TensorDataset
# ---- end of imports ----

QUICK = os.environ.get("MINIGRAD_QUICK") == "1"
MNIST = os.environ.get("MNIST_NPZ", os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                 "..", "..", "..", "minigrad", "data", "mnist.npz"))


def mnist(split, limit):
    """(images float32 (N, 1, 28, 28) in [0, 1], labels int64 (N,)) as a TensorDataset."""
    with np.load(MNIST) as archive:
        images = archive[f"x_{split}"][:limit].astype(np.float32)[:, None] / 255
        labels = archive[f"y_{split}"][:limit].astype(np.int64)
    return TensorDataset(torch.from_numpy(images), torch.from_numpy(labels))


class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(28 * 28, 256), nn.ReLU(),
            nn.Linear(256, 256), nn.ReLU(),
            nn.Linear(256, 10),
        )

    def forward(self, x):
        return self.linear_relu_stack(self.flatten(x))


def train(dataloader, model, loss_fn, optimizer, device):
    size = len(dataloader.dataset)
    model.train()
    running, seen, current = 0.0, 0, 0
    for batch, (X, y) in enumerate(dataloader):
        X, y = X.to(device), y.to(device)
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        running, seen, current = running + loss.item() * len(X), seen + len(X), current + len(X)
        if (batch + 1) % 8 == 0:  # the mean loss of the last 8 batches
            print(f"loss: {running / seen:>7f}  [{current:>5d}/{size:>5d}]")
            running, seen = 0.0, 0


def test(dataloader, model, loss_fn, device):
    model.eval()
    test_loss, correct = 0.0, 0
    with torch.no_grad():
        for X, y in dataloader:
            X, y = X.to(device), y.to(device)
            pred = model(X)
            test_loss += loss_fn(pred, y).item() * len(X)
            correct += (pred.argmax(1) == y).type(torch.float).sum().item()
    size = len(dataloader.dataset)
    print(f"Test: accuracy {correct / size:>0.3f}, avg loss {test_loss / size:>8f}")
    return correct / size


torch.manual_seed(0)
device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"
training_data = mnist("train", 2000 if QUICK else 20000)
test_data = mnist("test", 1000 if QUICK else 4000)
train_dataloader = DataLoader(training_data, batch_size=64, shuffle=True)
test_dataloader = DataLoader(test_data, batch_size=256)
for X, y in test_dataloader:
    print(f"Shape of X [N, C, H, W]: {tuple(X.shape)}")
    print(f"Shape of y: {tuple(y.shape)} {y.dtype}")
    break

model = NeuralNetwork().to(device)
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
epochs = 2 if QUICK else 5
for t in range(epochs):
    print(f"Epoch {t + 1}")
    train(train_dataloader, model, loss_fn, optimizer, device)
    accuracy = test(test_dataloader, model, loss_fn, device)
assert accuracy > 0.8, accuracy  # chance is 0.1
print("Done!")
