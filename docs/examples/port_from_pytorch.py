"""A typical PyTorch training script, run by minigrad: only the import block differs.

docs/from_pytorch.md shows the PyTorch original beside this file, and
tests/test_port_from_pytorch.py runs both (this one with minigrad, the original
with PyTorch when it is installed). A small CNN learns Fashion-MNIST (the subset
shipped inside minigrad, read with NumPy, so PyTorch needs no torchvision).
MINIGRAD_QUICK=1 trains on 2,000 images for one epoch (seconds).
"""
import os

import numpy as np

# ---- imports: the only lines that differ between the PyTorch and the minigrad script ----
import minigrad as torch
import minigrad.functional as F
from minigrad import nn
from minigrad.data import DataLoader, Dataset
# ---- end of imports ----

QUICK = os.environ.get("MINIGRAD_QUICK") == "1"
DATA = os.environ.get("FASHION_MNIST_NPZ", os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                        "..", "..", "minigrad", "data", "fashion_mnist.npz"))
MEAN, STD = 0.2860, 0.3530  # of the training images


class FashionMNIST(Dataset):
    """(image (1, 28, 28) float32, standardised; label int) by index."""

    def __init__(self, path, train=True, limit=None):
        split = "train" if train else "test"
        with np.load(path) as archive:
            self.images = archive[f"x_{split}"][:limit]
            self.labels = archive[f"y_{split}"][:limit]

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, index):
        image = torch.tensor(self.images[index], dtype=torch.float32).unsqueeze(0) / 255
        return (image - MEAN) / STD, int(self.labels[index])


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.dropout = nn.Dropout(0.25)
        self.fc1 = nn.Linear(32 * 7 * 7, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = self.dropout(F.relu(self.fc1(x)))
        return self.fc2(x)


def evaluate(model, loader, device):
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for images, labels in loader:
            outputs = model(images.to(device))
            predicted = outputs.argmax(dim=1)
            correct += (predicted == labels.to(device)).sum().item()
            total += labels.size(0)
    return correct / total


def main():
    torch.manual_seed(0)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    train_set = FashionMNIST(DATA, train=True, limit=2000 if QUICK else None)
    test_set = FashionMNIST(DATA, train=False, limit=500 if QUICK else None)
    train_loader = DataLoader(train_set, batch_size=64, shuffle=True)
    test_loader = DataLoader(test_set, batch_size=256)

    model = Net().to(device)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    for epoch in range(1 if QUICK else 3):
        model.train()
        running_loss = 0.0
        for images, labels in train_loader:
            images, labels = images.to(device), labels.to(device)
            optimizer.zero_grad()
            loss = criterion(model(images), labels)
            loss.backward()
            optimizer.step()
            running_loss += loss.item() * labels.size(0)
        accuracy = evaluate(model, test_loader, device)
        print(f"epoch {epoch + 1}: train loss {running_loss / len(train_set):.4f}, test accuracy {accuracy:.4f}")

    torch.save(model.state_dict(), "fashion_cnn.pt")
    restored = Net().to(device)
    restored.load_state_dict(torch.load("fashion_cnn.pt"))
    assert evaluate(restored, test_loader, device) == accuracy  # the saved weights are the trained ones
    assert accuracy > 0.6, accuracy  # chance is 0.1
    print("all checks passed")


if __name__ == "__main__":
    main()
