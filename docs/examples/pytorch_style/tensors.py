"""Tensors, in the style of PyTorch's "Tensors" tutorial: making them, their attributes,
indexing, joining, arithmetic, in-place changes and the bridge to NumPy.

Both twins print the same numbers, to the last printed digit:
# numbers agree with PyTorch within rtol=1e-3, atol=1e-4

Only the import block differs from the PyTorch twin (see README.md)."""
import numpy as np

# ---- imports: the only lines that differ from the PyTorch twin ----
import minigrad as torch  # PyTorch: import torch
# ---- end of imports ----

# From data, from NumPy, from another tensor
data = [[1, 2], [3, 4]]
x_data = torch.tensor(data)
np_array = np.array(data)
x_np = torch.from_numpy(np_array)
print(f"From data:\n{x_data}\nFrom NumPy:\n{x_np}")
x_ones = torch.ones_like(x_data)
print(f"Ones Tensor:\n{x_ones}")
x_rand = torch.rand_like(x_data, dtype=torch.float)
print(f"Random Tensor shape: {x_rand.shape}, all in [0, 1): {bool(((x_rand >= 0) & (x_rand < 1)).all())}")

shape = (2, 3)
print(f"Ones:\n{torch.ones(shape)}\nZeros:\n{torch.zeros(shape)}")
print(f"arange: {torch.arange(0, 10, 3)}  linspace: {torch.linspace(0, 1, 5)}")

# Attributes
tensor = torch.ones(3, 4)
print(f"Shape of tensor: {tensor.shape}")
print(f"Datatype of tensor: {tensor.dtype}")
print(f"Device tensor is stored on: {tensor.device}")

# Indexing and slicing
tensor = torch.ones(4, 4)
print(f"First row: {tensor[0]}")
print(f"First column: {tensor[:, 0]}")
print(f"Last column: {tensor[..., -1]}")
tensor[:, 1] = 0
print(tensor)

# Joining
t1 = torch.cat([tensor, tensor, tensor], dim=1)
print(f"cat: {t1.shape}, stack: {torch.stack([tensor, tensor]).shape}")

# Arithmetic
y1 = tensor @ tensor.T
y2 = tensor.matmul(tensor.T)
print(f"matrix product:\n{y1}\nsame both ways: {torch.equal(y1, y2)}")
z1 = tensor * tensor
z2 = tensor.mul(tensor)
print(f"element-wise product:\n{z1}\nsame both ways: {torch.equal(z1, z2)}")
agg = tensor.sum()
agg_item = agg.item()
print(agg_item, type(agg_item))
print(f"mean {tensor.mean().item():.4f}, max per row {tensor.max(dim=1).values}, argmax {tensor.argmax(dim=1)}")

# In place: a trailing underscore
print(f"{tensor}\n")
tensor.add_(5)
print(tensor)

# The bridge to NumPy: the two share memory
t = torch.ones(5)
n = t.numpy()
t.add_(1)
print(f"t: {t}\nn: {n}")
n = np.ones(5)
t = torch.from_numpy(n)
np.add(n, 1, out=n)
print(f"t: {t}\nn: {n}")
