"""Automatic differentiation, in the style of PyTorch's "Autograd" tutorial: a one-layer
network's loss, its gradients, turning tracking off, and gradients of a non-scalar
output (a vector-Jacobian product), accumulated over calls until zeroed.

Both twins print the same numbers, to the last printed digit:
# numbers agree with PyTorch within rtol=1e-3, atol=1e-4

Only the import block differs from the PyTorch twin (see README.md)."""
# ---- imports: the only lines that differ from the PyTorch twin ----
import minigrad as torch  # PyTorch: import torch
import minigrad.nn.functional as F  # PyTorch: import torch.nn.functional as F
# ---- end of imports ----

x = torch.ones(5)  # input
y = torch.zeros(3)  # expected output
w = torch.linspace(-1, 1, 15).reshape(5, 3).requires_grad_()  # fixed weights, so both twins print the same
b = torch.tensor([0.1, -0.2, 0.3], requires_grad=True)
z = torch.matmul(x, w) + b
loss = F.binary_cross_entropy_with_logits(z, y)
print(f"loss {loss.item():.6f}, z requires grad: {z.requires_grad}, w is a leaf: {w.is_leaf}")

loss.backward()
print(f"w.grad:\n{w.grad}\nb.grad: {b.grad}")

# Tracking off: no graph is built
z = torch.matmul(x, w) + b
print(z.requires_grad)
with torch.no_grad():
    z = torch.matmul(x, w) + b
print(z.requires_grad)
z_det = (torch.matmul(x, w) + b).detach()
print(z_det.requires_grad)

# A non-scalar output: backward(v) computes vᵀ·J, and gradients add up until zeroed
inp = torch.eye(4, 5, requires_grad=True)
out = (inp + 1).pow(2).t()
out.backward(torch.ones_like(out), retain_graph=True)
print(f"First call\n{inp.grad}")
out.backward(torch.ones_like(out))
print(f"Second call\n{inp.grad}")
inp.grad.zero_()
out = (inp + 1).pow(2).t()
out.backward(torch.ones_like(out))
print(f"Call after zeroing gradients\n{inp.grad}")

# torch.autograd.grad: the gradient as a value, and a second derivative through it
s = torch.tensor(3.0, requires_grad=True)
(ds,) = torch.autograd.grad(s ** 3, s, create_graph=True)
(d2s,) = torch.autograd.grad(ds, s)
print(f"d/ds s^3 = {ds.item():.1f}, d2/ds2 s^3 = {d2s.item():.1f}")
