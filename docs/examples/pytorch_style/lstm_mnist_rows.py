"""An LSTM that reads an MNIST digit one row at a time, in the style of PyTorch's examples
of recurrent networks on MNIST.

Each 28×28 image is a sequence of 28 rows of 28 pixels; a one-layer LSTM
(``batch_first=True``) reads it, and a linear layer classifies the last hidden state.
The images are the MNIST subset shipped with minigrad, read with NumPy, so both twins
train on the same arrays (PyTorch needs no torchvision). Weights start at different
random values in the two twins, and the batches come in a different random order, so
their curves agree only loosely:
# numbers agree with PyTorch within rtol=0.3, atol=0.15

Only the import block differs from the PyTorch twin (see README.md).
MINIGRAD_QUICK=1 trains on 2,000 images for one epoch."""
import os

import numpy as np

# ---- imports: the only lines that differ from the PyTorch twin ----
import minigrad as torch  # PyTorch: import torch
from minigrad import nn  # PyTorch: from torch import nn
from minigrad.data import DataLoader, TensorDataset  # PyTorch: from torch.utils.data import DataLoader, TensorDataset
# ---- end of imports ----

QUICK = os.environ.get("MINIGRAD_QUICK") == "1"
DATA = os.environ.get("MNIST_NPZ", os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                "..", "..", "..", "minigrad", "data", "mnist.npz"))


def mnist(train, limit):
    """(images (N, 28, 28) float32 in [0, 1], labels (N,) int64) as a TensorDataset."""
    split = "train" if train else "test"
    with np.load(DATA) as archive:
        images = archive[f"x_{split}"][:limit].astype(np.float32) / 255
        labels = archive[f"y_{split}"][:limit].astype(np.int64)
    return TensorDataset(torch.from_numpy(images), torch.from_numpy(labels))


class RowLSTM(nn.Module):
    def __init__(self, hidden_size=64):
        super().__init__()
        self.lstm = nn.LSTM(input_size=28, hidden_size=hidden_size, batch_first=True)
        self.fc = nn.Linear(hidden_size, 10)

    def forward(self, images):
        output, (h_n, c_n) = self.lstm(images)  # images: (batch, 28 rows, 28 pixels)
        return self.fc(output[:, -1, :])  # the hidden state after the last row


def evaluate(model, loader):
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for images, labels in loader:
            correct += (model(images).argmax(dim=1) == labels).sum().item()
            total += labels.size(0)
    return correct / total


def main():
    torch.manual_seed(0)
    train_loader = DataLoader(mnist(True, 2000 if QUICK else 20000), batch_size=32, shuffle=True)
    test_loader = DataLoader(mnist(False, 500 if QUICK else 4000), batch_size=500)
    model = RowLSTM()
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    for epoch in range(1 if QUICK else 2):
        model.train()
        running = []
        for step, (images, labels) in enumerate(train_loader):
            optimizer.zero_grad()
            loss = criterion(model(images), labels)
            loss.backward()
            optimizer.step()
            running.append(loss.item())
            if step % 20 == 19:
                print(f"epoch {epoch + 1}, step {step + 1}: mean loss of the last 20 batches "
                      f"{sum(running[-20:]) / 20:.4f}")
        accuracy = evaluate(model, test_loader)
        print(f"epoch {epoch + 1}: test accuracy {accuracy:.4f}")
    assert accuracy > (0.35 if QUICK else 0.9), accuracy  # chance is 0.1
    print("all checks passed")


if __name__ == "__main__":
    main()
