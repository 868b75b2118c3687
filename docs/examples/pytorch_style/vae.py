"""A variational autoencoder, in the style of PyTorch's examples (``vae/main.py``):
an encoder to a mean and log-variance, the reparameterisation trick, a decoder, and the
loss = reconstruction (binary cross-entropy) + KL divergence to N(0, I)
(Kingma and Welling, "Auto-Encoding Variational Bayes", 2014, eq. (10) and appendix B).

The MNIST subset shipped with minigrad, read with NumPy, on both twins. Random
initialisation, noise and batch order differ between the twins:
# numbers agree with PyTorch within rtol=0.1, atol=0.5

Only the import block differs from the PyTorch twin (see README.md).
MINIGRAD_QUICK=1 trains on 1,000 images for two epochs."""
import os

import numpy as np

# ---- imports: the only lines that differ from the PyTorch twin ----
import minigrad as torch  # PyTorch: import torch
from minigrad import nn, optim  # PyTorch: from torch import nn, optim
from minigrad.nn import functional as F  # PyTorch: from torch.nn import functional as F
from minigrad.utils.data import DataLoader, TensorDataset  # PyTorch: from torch.utils.data import DataLoader, TensorDataset
# ---- end of imports ----

QUICK = os.environ.get("MINIGRAD_QUICK") == "1"
MNIST = os.environ.get("MNIST_NPZ", os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                 "..", "..", "..", "minigrad", "data", "mnist.npz"))


class VAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 400)
        self.fc21 = nn.Linear(400, 20)
        self.fc22 = nn.Linear(400, 20)
        self.fc3 = nn.Linear(20, 400)
        self.fc4 = nn.Linear(400, 784)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        eps = torch.randn_like(std)
        return mu + eps * std

    def decode(self, z):
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, 784))
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar


def loss_function(recon_x, x, mu, logvar):
    BCE = F.binary_cross_entropy(recon_x, x.view(-1, 784), reduction="sum")
    KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return BCE + KLD


torch.manual_seed(1)
with np.load(MNIST) as archive:
    images = archive["x_train"][:1000 if QUICK else 20000].astype(np.float32)[:, None] / 255
train_loader = DataLoader(TensorDataset(torch.from_numpy(images)), batch_size=128, shuffle=True)
model = VAE()
optimizer = optim.Adam(model.parameters(), lr=1e-3)
for epoch in range(1, 3 if QUICK else 11):
    model.train()
    train_loss = 0.0
    for (data,) in train_loader:
        optimizer.zero_grad()
        recon_batch, mu, logvar = model(data)
        loss = loss_function(recon_batch, data, mu, logvar)
        loss.backward()
        train_loss += loss.item()
        optimizer.step()
    print(f"====> Epoch: {epoch} Average loss: {train_loss / len(train_loader.dataset):.1f}")

model.eval()
with torch.no_grad():
    sample = model.decode(torch.randn(64, 20))
    print(f"samples {tuple(sample.view(64, 1, 28, 28).shape)}, in [0, 1]: "
          f"{bool(((sample >= 0) & (sample <= 1)).all())}")
