"""Saving and loading, in the style of PyTorch's "Save and Load the Model" tutorial: a
state_dict to a file and back into a fresh model, and a training checkpoint (model,
optimizer, epoch, loss) to resume from.

Both twins print the same numbers, to the last printed digit:
# numbers agree with PyTorch within rtol=1e-3, atol=1e-4

Only the import block differs from the PyTorch twin (see README.md)."""
import os
import tempfile

# ---- imports: the only lines that differ from the PyTorch twin ----
import minigrad as torch  # PyTorch: import torch
from minigrad import nn  # PyTorch: from torch import nn
# ---- end of imports ----


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 16)
        self.bn = nn.BatchNorm1d(16)
        self.fc2 = nn.Linear(16, 3)

    def forward(self, x):
        return self.fc2(torch.relu(self.bn(self.fc1(x))))


torch.manual_seed(0)
folder = tempfile.mkdtemp()
model = Net()
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
x, target = torch.randn(32, 8), torch.randint(0, 3, (32,))
loss_fn = nn.CrossEntropyLoss()
for step in range(5):
    optimizer.zero_grad()
    loss = loss_fn(model(x), target)
    loss.backward()
    optimizer.step()

# The weights alone: a state_dict, loaded into a fresh model
path = os.path.join(folder, "model_weights.pth")
torch.save(model.state_dict(), path)
print(sorted(model.state_dict().keys()))
restored = Net()
restored.load_state_dict(torch.load(path, weights_only=True))
model.eval()
restored.eval()
print(f"same outputs after loading: {torch.equal(model(x), restored(x))}")
print(f"running mean kept: {torch.equal(model.bn.running_mean, restored.bn.running_mean)}, "
      f"batches tracked: {int(restored.bn.num_batches_tracked)}")

# A checkpoint to resume training from: model, optimizer, epoch, loss
checkpoint = os.path.join(folder, "checkpoint.pth")
torch.save({"epoch": 5, "model_state_dict": model.state_dict(),
            "optimizer_state_dict": optimizer.state_dict(), "loss": round(loss.item(), 6)}, checkpoint)
state = torch.load(checkpoint, weights_only=True)
resumed = Net()
resumed_optimizer = torch.optim.Adam(resumed.parameters(), lr=0.5)
resumed.load_state_dict(state["model_state_dict"])
resumed_optimizer.load_state_dict(state["optimizer_state_dict"])
print(f"epoch {state['epoch']}, loss saved as a number: {isinstance(state['loss'], float)}, "
      f"learning rate restored: {resumed_optimizer.param_groups[0]['lr']}")

# One more step from the checkpoint equals one more step of the original run
model.train()
resumed.train()
for net, opt in ((model, optimizer), (resumed, resumed_optimizer)):
    opt.zero_grad()
    loss_fn(net(x), target).backward()
    opt.step()
print(f"resumed step equals the original: {torch.allclose(model.fc1.weight, resumed.fc1.weight)}")
