"""`python -m minigrad`: the main job — train a small MLP and report its accuracy.

For now it learns two interleaved spirals (a dataset made here, no download) with
plain gradient descent; the training toolkit replaces it with MNIST.
"""
import numpy as np

import minigrad as mg
import minigrad.functional as F
from minigrad import nn


def spirals(n, rng):
    t = rng.uniform(0.25, 3 * np.pi, n)
    label = rng.integers(0, 2, n)
    r = t / (3 * np.pi)
    angle = t + np.pi * label
    x = np.stack([r * np.cos(angle), r * np.sin(angle)], 1) + rng.normal(0, 0.02, (n, 2))
    return x.astype(np.float32), label


def main():
    mg.manual_seed(0)
    rng = np.random.default_rng(0)
    x_train, y_train = spirals(2000, rng)
    x_test, y_test = spirals(1000, rng)
    model = nn.Sequential(nn.Linear(2, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 2))
    for step in range(1500):
        loss = F.cross_entropy(model(mg.tensor(x_train)), y_train)
        model.zero_grad()
        loss.backward()
        with mg.no_grad():
            for p in model.parameters():
                p.data -= 0.5 * p.grad.data
        if step % 300 == 0:
            print(f"step {step:4d}  loss {loss.item():.4f}")
    with mg.no_grad():
        accuracy = (model(mg.tensor(x_test)).numpy().argmax(1) == y_test).mean()
    print(f"test accuracy {accuracy:.3f}")


if __name__ == "__main__":
    main()
