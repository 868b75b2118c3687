"""Building a network, in the style of PyTorch's "Build the Neural Network" tutorial: an
``nn.Module`` subclass, the device from ``torch.accelerator``, the layers one by one,
and the model's parameters by name.

Both twins print the same numbers, to the last printed digit:
# numbers agree with PyTorch within rtol=1e-3, atol=1e-4

Only the import block differs from the PyTorch twin (see README.md)."""
# ---- imports: the only lines that differ from the PyTorch twin ----
import minigrad as torch  # PyTorch: import torch
from minigrad import nn  # PyTorch: from torch import nn
# ---- end of imports ----

device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"
print(f"Using {device} device")


class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(28 * 28, 512),
            nn.ReLU(),
            nn.Linear(512, 512),
            nn.ReLU(),
            nn.Linear(512, 10),
        )

    def forward(self, x):
        x = self.flatten(x)
        logits = self.linear_relu_stack(x)
        return logits


torch.manual_seed(0)
model = NeuralNetwork().to(device)
print(model)

X = torch.rand(1, 28, 28, device=device)
logits = model(X)
pred_probab = nn.Softmax(dim=1)(logits)
y_pred = pred_probab.argmax(1)
print(f"logits {tuple(logits.shape)}, probabilities sum to {pred_probab.sum().item():.4f}, "
      f"predicted class in 0..9: {0 <= y_pred.item() <= 9}")

# The layers one at a time, on a minibatch of 3 images
input_image = torch.rand(3, 28, 28)
print(input_image.size())
flat_image = nn.Flatten()(input_image)
print(flat_image.size())
layer1 = nn.Linear(in_features=28 * 28, out_features=20)
hidden1 = layer1(flat_image)
print(hidden1.size())
hidden1 = nn.ReLU()(hidden1)
print(f"after ReLU, the smallest value is {hidden1.min().item():.1f}")
seq_modules = nn.Sequential(nn.Flatten(), layer1, nn.ReLU(), nn.Linear(20, 10))
print(tuple(seq_modules(input_image).shape))

print(f"Model structure: {model}")
for name, param in model.named_parameters():
    print(f"Layer: {name} | Size: {tuple(param.size())} | requires grad: {param.requires_grad}")
print(f"parameters in all: {sum(p.numel() for p in model.parameters())}")
