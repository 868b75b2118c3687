# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 08 · Convolution kernels: im2col, one GEMM, col2im
#
# A convolution layer slides a small weight over an image. Written as loops it is
# six nested `for`s; written the Caffe way it is **one matrix product**, because
# every output pixel is a dot product of the weight with one receptive field.
# This lesson opens `kernels/conv/`:
#
# 1. im2col on a 4×4 image: the matrix of receptive fields, printed and drawn;
# 2. the forward pass as `cols @ w_matᵀ`, checked against the definition;
# 3. both backward passes from the matrix product: gW = gYᵀ C and gC = gY W,
#    and col2im, the adjoint of im2col, which adds overlapping fields back up;
# 4. the fast CPU face (`kernels/conv/cpu.py`), same numbers, compiled loops;
# 5. the CUDA face (`kernels/conv/cuda.py`): how each GPU thread finds its element,
#    run under Numba's CUDA simulator in a subprocess;
# 6. `F.conv2d` and `nn.Conv2d` through `gradcheck`.
#
# Shapes follow PyTorch: x `(N, C_in, H, W)`, w `(C_out, C_in, kh, kw)`, b `(C_out,)`.
# The figure goes to `$MINIGRAD_TUTORIAL_OUT` (default `tutorial_output/`).

# %%
import json
import os
import subprocess
import sys
import time

import matplotlib.pyplot as plt
import numpy as np

import kernels.conv as conv
import minigrad
import minigrad.functional as F
from kernels.conv import cpu, reference
from minigrad import nn
from _figures import show

QUICK = os.environ.get("MINIGRAD_QUICK") == "1"
np.set_printoptions(linewidth=110)
rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. im2col on a tiny image
#
# The definition (a cross-correlation, as in every deep-learning library):
#
# $$y_{n,o,i,j} = b_o + \sum_{c,p,q} w_{o,c,p,q}\; x^\text{pad}_{n,\,c,\,i s_h + p,\,j s_w + q}$$
#
# with `OH = (H + 2·ph − kh) // sh + 1` output rows (likewise OW). For each output
# pixel (n, i, j), the numbers x_pad[n, :, i·sh : i·sh+kh, j·sw : j·sw+kw] are its
# **receptive field**. im2col copies each field into one row of a matrix:
#
# $$\text{cols}_{(n,i,j),\,(c,p,q)} = x^\text{pad}_{n,\,c,\,i s_h + p,\,j s_w + q} \qquad (N \cdot OH \cdot OW) \times (C \cdot k_h \cdot k_w)$$
#
# Take one 4×4 image holding 1…16, a 3×3 kernel, stride 1, no padding: 2×2 outputs,
# so cols has 4 rows of 9 numbers.

# %%
x = np.arange(1, 17, dtype=np.float64).reshape(1, 1, 4, 4)
kernel, stride, padding = (3, 3), (1, 1), (0, 0)
cols = reference.im2col(x, kernel, stride, padding)
print("x =\n", x[0, 0])
print("cols (one row per output pixel (i, j), one column per tap (p, q)) =\n", cols)
assert cols.shape == (4, 9)
assert np.array_equal(cols[1], x[0, 0, 0:3, 1:4].reshape(-1))  # output pixel (0, 1): rows 0-2, columns 1-3

# %% [markdown]
# With stride 2 and padding 1 the fields jump two pixels and reach into the zero
# border: the zeros in cols are padding, copied like any other number.

# %%
cols_s2 = reference.im2col(x, kernel, (2, 2), (1, 1))
print("stride 2, padding 1: cols =\n", cols_s2)
assert cols_s2.shape == (4, 9) and cols_s2[0, 0] == 0 and cols_s2[0, 4] == x[0, 0, 0, 0]

# %% [markdown]
# Each pixel appears in cols as often as fields cover it. That count is what
# col2im (section 3) will compute when it adds a matrix of ones back onto the
# image: corner pixels sit in one field, the centre ones in all four. The figure
# draws the image with one receptive field, its row in cols, and the counts.

# %%
coverage = reference.col2im(np.ones_like(cols), x.shape, kernel, stride, padding)
print("how many fields cover each pixel =\n", coverage[0, 0])
assert coverage[0, 0, 0, 0] == 1 and coverage[0, 0, 1, 1] == 4 and coverage.sum() == cols.size

fig, axes = plt.subplots(1, 3, figsize=(10.5, 3.6), gridspec_kw=dict(width_ratios=[1, 2.2, 1]))
highlight = np.zeros((4, 4))
highlight[0:3, 1:4] = 1
axes[0].imshow(highlight, cmap="Blues", vmin=0, vmax=2)
for (r, c), value in np.ndenumerate(x[0, 0]):
    axes[0].text(c, r, f"{value:.0f}", ha="center", va="center")
axes[0].set_title("x (4×4); field of output (0, 1)")
row_mask = np.zeros(cols.shape)
row_mask[1] = 1
axes[1].imshow(row_mask, cmap="Blues", vmin=0, vmax=2)
for (r, c), value in np.ndenumerate(cols):
    axes[1].text(c, r, f"{value:.0f}", ha="center", va="center")
axes[1].set_yticks(range(4), [f"(0,{i},{j})" for i in range(2) for j in range(2)])
axes[1].set_xticks(range(9), [f"({p},{q})" for p in range(3) for q in range(3)], fontsize=8)
axes[1].set_title("cols = im2col(x): rows (n, i, j), columns (c, p, q)")
axes[2].imshow(coverage[0, 0], cmap="Oranges", vmin=0, vmax=5)
for (r, c), value in np.ndenumerate(coverage[0, 0]):
    axes[2].text(c, r, f"{value:.0f}", ha="center", va="center")
axes[2].set_title("col2im(ones): fields per pixel")
for ax in (axes[0], axes[2]):
    ax.set_xticks([])
    ax.set_yticks([])
show(fig, "08_im2col.png", dpi=100, bbox_inches="tight")

# %% [markdown]
# ## 2. The forward pass is one GEMM
#
# Flatten the weight to `w_mat = w.reshape(C_out, C_in·kh·kw)`, in the same
# (c, p, q) order as the columns. Row r of `cols @ w_matᵀ` is then Σ w·field for
# every output channel: the whole convolution in one BLAS call,
#
# $$y_\text{rows} = \text{cols}\; w_\text{mat}^\top \qquad (N \cdot OH \cdot OW) \times C_\text{out},$$
#
# reshaped to `(N, OH, OW, C_out)` and transposed to `(N, C_out, OH, OW)`.
# Check it on two channels in and three out against the six loops of the definition.

# %%
def direct_conv(x, w, b, stride, padding):
    """The definition, one output number at a time."""
    (sh, sw), (ph, pw) = stride, padding
    x_pad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    n, c_out, kh, kw = x.shape[0], w.shape[0], w.shape[2], w.shape[3]
    oh, ow = conv.output_size(x.shape[2], kh, sh, ph), conv.output_size(x.shape[3], kw, sw, pw)
    y = np.empty((n, c_out, oh, ow))
    for b_ in range(n):
        for o in range(c_out):
            for i in range(oh):
                for j in range(ow):
                    y[b_, o, i, j] = b[o] + np.sum(w[o] * x_pad[b_, :, i * sh:i * sh + kh, j * sw:j * sw + kw])
    return y


x2 = rng.standard_normal((2, 2, 5, 6))
w2 = rng.standard_normal((3, 2, 3, 3))
b2 = rng.standard_normal(3)
geometry = ((2, 1), (1, 1))  # stride (2, 1), padding (1, 1)
cols2 = reference.im2col(x2, (3, 3), *geometry)
y_rows = cols2 @ w2.reshape(3, -1).T
y2 = y_rows.reshape(2, 3, 6, 3).transpose(0, 3, 1, 2) + b2.reshape(1, 3, 1, 1)
print("cols:", cols2.shape, " w_matᵀ:", w2.reshape(3, -1).T.shape, " y:", y2.shape)
np.testing.assert_allclose(y2, direct_conv(x2, w2, b2, *geometry), rtol=1e-12)
np.testing.assert_allclose(reference.forward(x2, w2, b2, *geometry), y2, rtol=1e-12)

# %% [markdown]
# ## 3. Both backward passes, from the matrix product
#
# For Y = C Wᵀ (tutorial 02's matmul rule) and an output gradient gY:
#
# $$g_W = g_Y^\top C \quad \text{(backward_weight: one more GEMM with the same cols)}, \qquad
# g_C = g_Y W \quad \text{(backward_data: a GEMM, then col2im)}$$
#
# gC is the gradient of every *copy* of a pixel in cols. A pixel that was copied
# into four fields gets four contributions, and the chain rule adds them
# (fan-out, tutorial 01): that sum is col2im. Formally, col2im is the adjoint
# (transpose) of the linear map im2col, ⟨im2col(x), C⟩ = ⟨x, col2im(C)⟩ for all
# x and C — the dot-product test checks exactly that.

# %%
C = rng.standard_normal(cols2.shape)
lhs = np.sum(reference.im2col(x2, (3, 3), *geometry) * C)
rhs = np.sum(x2 * reference.col2im(C, x2.shape, (3, 3), *geometry))
print(f"⟨im2col(x), C⟩ = {lhs:.12f}\n⟨x, col2im(C)⟩ = {rhs:.12f}")
assert abs(lhs - rhs) < 1e-10 * abs(lhs)

gy = rng.standard_normal(y2.shape)
gy_rows = gy.transpose(0, 2, 3, 1).reshape(-1, 3)             # the layout of y_rows
gw = (gy_rows.T @ cols2).reshape(w2.shape)                     # gW = gYᵀ C
gx = reference.col2im(gy_rows @ w2.reshape(3, -1), x2.shape, (3, 3), *geometry)  # col2im(gY W)
np.testing.assert_allclose(reference.backward_weight(gy, x2, w2.shape, *geometry), gw, rtol=1e-12)
np.testing.assert_allclose(reference.backward_data(gy, w2, x2.shape, *geometry), gx, rtol=1e-12)

# the same two gradients by central differences of L = Σ gy ⊙ conv(x, w), one element each
eps = 1e-6
for array, analytic, index in ((w2, gw, (1, 0, 2, 1)), (x2, gx, (0, 1, 0, 0)), (x2, gx, (1, 0, 2, 3))):
    saved = array[index]
    array[index] = saved + eps
    plus = np.sum(gy * direct_conv(x2, w2, b2, *geometry))
    array[index] = saved - eps
    minus = np.sum(gy * direct_conv(x2, w2, b2, *geometry))
    array[index] = saved
    numeric = (plus - minus) / (2 * eps)
    print(f"∂L/∂{'w' if array is w2 else 'x'}{index}: analytic {analytic[index]:+.8f}, numeric {numeric:+.8f}")
    assert abs(analytic[index] - numeric) < 1e-6

# %% [markdown]
# The bias adds b[o] to every pixel of channel o, so gb[o] = Σ_{n,i,j} gy[n, o, i, j].
#
# ## 4. The fast CPU face
#
# `kernels/conv/reference.py` slices one field per output pixel in Python: clear,
# and slow. `kernels/conv/cpu.py` does the same GEMM with three changes, each
# measured in its docstring: it works through the batch in chunks whose columns
# fit in a core's cache; it copies each chunk into a zero-padded NHWC buffer, so a
# receptive field is kh contiguous runs of kw·C numbers (the columns come in
# (p, q, c) order and the weight is reordered to match); and its Numba loops are
# serial, leaving BLAS as the only multi-threaded part. Same numbers (up to the
# order of float additions), less time:

# %%
shape = (8, 16, 16, 16) if QUICK else (32, 32, 16, 16)
xb = rng.standard_normal(shape).astype(np.float32)
wb = rng.standard_normal((32, shape[1], 5, 5)).astype(np.float32)
for face_module in (reference, cpu):
    face_module.forward(xb, wb, None, (1, 1), (2, 2))  # the first call compiles (or loads Numba's cache)
times = {}
for face_module in (reference, cpu):
    start = time.perf_counter()
    outputs = face_module.forward(xb, wb, None, (1, 1), (2, 2))
    times[face_module.__name__] = (time.perf_counter() - start, outputs)
(t_ref, y_ref), (t_cpu, y_cpu) = times.values()
np.testing.assert_allclose(y_cpu, y_ref, rtol=1e-4, atol=1e-4)
print(f"forward of {shape} by 5×5×32: reference {1e3 * t_ref:.1f} ms, cpu face {1e3 * t_cpu:.1f} ms")

# %% [markdown]
# Which face runs is decided by `kernels.conv.forward` from the arrays (NumPy →
# `cpu`, CuPy → `cuda`), or forced with `MINIGRAD_FACE=reference|cpu|cuda`. The
# public functions check everything first, so a bad call gets an error naming
# the op and the values, never an IndexError from a kernel:

# %%
try:
    conv.forward(xb, wb[:, :3])
except RuntimeError as error:  # PyTorch's class for this mistake
    print("RuntimeError:", error)
    assert f"input has {shape[1]} channels" in str(error)

# %% [markdown]
# ## 5. The CUDA face: one thread per output element
#
# `kernels/conv/cuda.py` writes each kernel for **one thread per element of the
# array it writes**. The launcher (`kernels/cuda_launch.py`) runs
# `kernel[blocks, THREADS]` with `blocks = ceil(n / THREADS)`; inside, thread
# `t = blockIdx.x · blockDim.x + threadIdx.x` (what `cuda.grid(1)` returns) turns
# into coordinates by integer division. In `im2col_kernel`:
#
#     row, k = t // (C·kh·kw), t % (C·kh·kw)             which element of cols
#     b, i, j = row // (OH·OW), (row // OW) % OH, row % OW  which output pixel
#     c, p, q = k // (kh·kw), (k // kw) % kh, k % kw      which weight tap
#     cols[row, k] = x[b, c, i·sh − ph + p·dh, j·sw − pw + q·dw]   (0 in the padding; dh, dw: dilation)
#
# Neighbouring threads write neighbouring addresses, so the stores coalesce.
# col2im is written the other way round: one thread per *pixel of gx*, which
# gathers and sums the cols entries copied from it. No two threads write the same
# address, so no atomics are needed (Caffe's col2im does the same). The GEMM
# between them is CuPy's `@`, i.e. cuBLAS.
#
# Without a GPU, Numba's CUDA simulator runs the very same kernels thread by
# thread on NumPy arrays. It must be switched on before Numba is imported, so
# this cell runs the demo in a fresh Python with `NUMBA_ENABLE_CUDASIM=1`: it
# launches `im2col_kernel` on our 4×4 image with 8 threads per block (to see
# several blocks), records which block and thread wrote each element of cols,
# and runs all three public functions through the cuda face
# (`MINIGRAD_FACE=cuda`) against the reference.

# %%
CUDA_DEMO = r"""
import json, math
import numpy as np
from numba import cuda
import kernels.conv as conv
from kernels.conv import cuda as conv_cuda, reference

@cuda.jit
def who_wrote(cols, block, thread):
    t = cuda.grid(1)
    if t < cols.size:
        block[t // cols.shape[1], t % cols.shape[1]] = cuda.blockIdx.x
        thread[t // cols.shape[1], t % cols.shape[1]] = cuda.threadIdx.x

x = np.arange(1, 17, dtype=np.float64).reshape(1, 1, 4, 4)
cols = np.empty((4, 9))
threads = 8
blocks = math.ceil(cols.size / threads)
conv_cuda.im2col_kernel[blocks, threads](x, cols, 3, 3, 1, 1, 0, 0, 1, 1, 2, 2)  # no dilation: taps 1 apart
block, thread = np.empty((4, 9), np.int64), np.empty((4, 9), np.int64)
who_wrote[blocks, threads](cols, block, thread)

rng = np.random.default_rng(1)
x2, w2, b2 = rng.standard_normal((2, 2, 5, 6)), rng.standard_normal((3, 2, 3, 3)), rng.standard_normal(3)
args = ((2, 1), (1, 1))
y = conv.forward(x2, w2, b2, *args)
gy = rng.standard_normal(y.shape)
errors = {
    "forward": float(np.abs(y - reference.forward(x2, w2, b2, *args)).max()),
    "backward_data": float(np.abs(conv.backward_data(gy, w2, x2.shape, *args)
                                  - reference.backward_data(gy, w2, x2.shape, *args)).max()),
    "backward_weight": float(np.abs(conv.backward_weight(gy, x2, w2.shape, *args)
                                    - reference.backward_weight(gy, x2, w2.shape, *args)).max()),
}
print(json.dumps({"blocks": blocks, "cols": cols.tolist(), "block": block.tolist(),
                  "thread": thread.tolist(), "errors": errors}))
"""
env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1", MINIGRAD_FACE="cuda",
           PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
run = subprocess.run([sys.executable, "-c", CUDA_DEMO], env=env, capture_output=True, text=True, timeout=300)
assert run.returncode == 0, run.stderr[-3000:]
demo = json.loads(run.stdout.strip().splitlines()[-1])
print(f"{demo['blocks']} blocks of 8 threads for the 36 elements of cols (4 threads idle: t ≥ n returns)")
print("block that wrote each element of cols =\n", np.array(demo["block"]))
print("thread within its block =\n", np.array(demo["thread"]))
np.testing.assert_array_equal(np.array(demo["cols"]), cols)  # the GPU kernel's cols = the reference's
assert demo["block"][1][0] == 1 and demo["thread"][1][0] == 1  # element (1, 0) is t = 9: block 1, thread 1
print("cuda face vs reference, largest differences:", demo["errors"])
assert max(demo["errors"].values()) < 1e-12

# %% [markdown]
# On a machine with a GPU and CuPy, pass CuPy arrays (or use tensors on
# `device="cuda"`) and the same kernels run on the device, on CuPy's current
# stream, with no simulator. `tests/test_cuda_ptx.py` compiles every kernel to
# PTX for a real GPU in CI, so typing errors that the simulator cannot see
# (it runs Python) still surface.
#
# ## 6. The op and the layer, gradient-checked
#
# `F.conv2d(x, w, b, stride, padding)` calls `forward` and records a node whose
# three VJPs are `backward_data`, `backward_weight` and the bias sum. They compute
# on raw arrays, so the node is *first-order*: a second derivative through it is
# refused with a clear error rather than silently wrong. `gradcheck` compares all
# three with central differences in float64:

# %%
xt = minigrad.tensor(rng.standard_normal((2, 2, 5, 4)), requires_grad=True)
wt = minigrad.tensor(rng.standard_normal((3, 2, 3, 2)), requires_grad=True)
bt = minigrad.tensor(rng.standard_normal(3), requires_grad=True)
assert minigrad.gradcheck(lambda x, w, b: F.conv2d(x, w, b, stride=(1, 2), padding=1), [xt, wt, bt])
print("gradcheck of conv2d w.r.t. x, w and b: passed")
try:
    minigrad.grad(F.conv2d(xt, wt).sum(), [xt], create_graph=True)
except RuntimeError as error:
    print("create_graph=True:", error)
    assert "first-order" in str(error)

layer = nn.Conv2d(3, 8, 5, padding=2)
print(layer, "weight", layer.weight.shape, "bias", layer.bias.shape)
assert layer(minigrad.tensor(np.zeros((4, 3, 32, 32), np.float32))).shape == (4, 8, 32, 32)
bound = 1 / np.sqrt(3 * 5 * 5)  # PyTorch's default: U(−1/√fan_in, 1/√fan_in)
assert np.abs(layer.weight.numpy()).max() <= bound

# %% [markdown]
# ## Exercises
#
# 1. The reference im2col loops over output pixels. Rewrite it to loop over the
#    kh·kw taps instead (each tap is one strided slice of x_pad for all pixels at
#    once). Which loop is shorter for a 5×5 kernel on a 32×32 image?
# 2. For a 1×1 kernel with stride 1 and no padding, what is cols? Show that the
#    convolution is then a plain matrix product over channels.
# 3. Count the memory: for the benchmark's second layer (N=128, 32 channels,
#    16×16, 5×5 kernel), how many bytes does cols take in float32? Why do fast
#    implementations process the batch in chunks?
# 4. Write col2im as a *scatter* kernel (one thread per cols element, adding into
#    gx). Why does it need `cuda.atomic.add`, and why is the gather version better?


# %% [markdown]
# ## References
#
# * K. Chellapilla, S. Puri, P. Simard, "High Performance Convolutional Neural Networks for
#   Document Processing", IWFHR 2006, <https://inria.hal.science/inria-00112631> — im2col.
# * Y. Jia et al., "Caffe: Convolutional Architecture for Fast Feature Embedding", ACM
#   Multimedia 2014, <https://arxiv.org/abs/1408.5093> — im2col + one GEMM, as Caffe does it.
# * V. Dumoulin, F. Visin, "A guide to convolution arithmetic for deep learning", 2016,
#   <https://arxiv.org/abs/1603.07285> — output sizes, stride and padding.
# * Numba, "CUDA Python" and "The CUDA simulator", <https://numba.readthedocs.io/en/stable/cuda/index.html>.
#
# Every source the lessons cite is listed in `docs/references.md`.

# %%
print("lesson 08: all checks passed")
