"""The CUDA face: im2col and col2im as ``numba.cuda`` kernels, the GEMM by CuPy (cuBLAS).

The forward uses the reference's layout (one im2col row per output pixel, columns
in the weight's (c, p, q) order). Every im2col/col2im kernel runs one thread per
element of the array it writes (``kernels.cuda_launch.launch``): thread t finds its
(row, column) or (n, c, h, w) by integer division of t (``cuda_launch.divmod32``),
so neighbouring threads write neighbouring addresses (coalesced stores).

* ``im2col_kernel``    one thread per element of cols: a gather from x (0 in the padding).
* ``col2im_kernel``    one thread per pixel of gx: it *gathers* the column entries that
                       were copied from its pixel and sums them, so no two threads
                       write the same address and no atomics are needed (Caffe's col2im).
                       It reads the columns image by image, (N, C_in·kh·kw, OH·OW), the
                       layout in which neighbouring threads (neighbouring w) read
                       neighbouring addresses when the stride is 1.
* ``transpose_kernel`` (N, A, B) → (N, B, A) through shared-memory tiles: the GEMM's
                       (N·OH·OW, C_out) rows into (N, C_out, OH, OW) with the bias added
                       on the way, and gy the other way round for gW's GEMM.

Where the GEMMs read gy: gW = gYᵀ C needs gy as rows (one transposed copy, by
``transpose_kernel``); gC = gY W is computed per image as Wᵀ gy[n] straight from the
NCHW gy, whose (C_out, OH·OW) planes are already the matrices cuBLAS needs, giving
the columns in col2im's (N, K, OH·OW) layout, so backward_data copies no gy at all
(CuPy's batched matmul copies only the small Wᵀ to make it contiguous).

gW needs the forward's columns again: ``forward_with_columns`` hands them back for
``backward_weight`` where ``kernels.conv`` keeps them (``keeps_columns``), trading memory held
from forward to backward for one im2col launch per layer and step. For the benchmark
CNN (``benchmarks/cnn_step.py``) at batch 256 in float32 the four layers' columns
take 75, 200, 50 and 9 MiB: 334 MiB held through a step, where rebuilding needs at
most the largest, 200 MiB, at a time.

On a GPU the arrays are CuPy's and ``@`` is cuBLAS; under Numba's CUDA simulator
(``NUMBA_ENABLE_CUDASIM=1``) the same kernels run thread by thread on NumPy arrays
and ``@`` is NumPy's.
"""
import math
import os

import numba
from numba import cuda

from kernels import cuda_launch
from kernels.conv import output_size
from kernels.cuda_launch import divmod32

KEEP_COLUMNS_SHARE = 0.25  # "auto" keeps columns taking at most this share of the free device memory
TILE = 32  # a transpose tile is TILE × TILE values: one warp reads (or writes) one of its rows, 128 bytes
TILE_ROWS = 8  # a block is TILE × TILE_ROWS threads; each moves TILE / TILE_ROWS values of its tile
TILE_PITCH = TILE + 1  # one spare column in shared memory (see transpose_kernel)


@cuda.jit
def im2col_kernel(x, cols, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    t = cuda.grid(1)
    rows, k_total = cols.shape
    if t >= rows * k_total:
        return
    row, k = divmod32(t, k_total)
    rest, j = divmod32(row, ow)
    b, i = divmod32(rest, oh)
    rest, q = divmod32(k, kw)
    ch, p = divmod32(rest, kh)
    hh, ww = i * sh - ph + p * dh, j * sw - pw + q * dw  # taps dh, dw apart (dilation)
    if 0 <= hh < x.shape[2] and 0 <= ww < x.shape[3]:
        cols[row, k] = x[b, ch, hh, ww]
    else:
        cols[row, k] = 0


@cuda.jit
def col2im_kernel(cols, gx, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, zero):
    """gx[n, c, h, w] = Σ cols[n, (c, p, q), (i, j)] over the taps with i·sh − ph + p·dh = h
    and j·sw − pw + q·dw = w. ``zero`` is 0 in gx's dtype, so a float32 kernel adds in float32."""
    t = cuda.grid(1)
    n, c, h, w = gx.shape
    if t >= n * c * h * w:
        return
    b, ch, hh, ww = cuda_launch.unravel_nchw(t, c, h, w)
    total = zero
    for p in range(kh):
        hp = hh + ph - p * dh  # = i·sh for the output row i whose tap p lands on hh
        if hp < 0:
            continue
        i, off = divmod32(hp, sh)
        if off != 0 or i >= oh:
            continue
        for q in range(kw):
            wq = ww + pw - q * dw
            if wq < 0:
                continue
            j, off = divmod32(wq, sw)
            if off != 0 or j >= ow:
                continue
            total += cols[b, (ch * kh + p) * kw + q, i * ow + j]
    gx[b, ch, hh, ww] = total


@cuda.jit
def transpose_kernel(src, bias, add_bias, dst):
    """dst[n, i, j] = src[n, j, i] (+ bias[i] when ``add_bias``).

    Read straight, one of the two sides would be strided: each warp touching 32
    different 32-byte sectors for 32 useful values. So a block stages a TILE × TILE
    tile in shared memory: it reads the tile along src's rows and writes it along
    dst's rows, both coalesced (NVIDIA's "An Efficient Matrix Transpose in CUDA C/C++").
    The tile has one spare column so that a warp reading a column of it touches 32
    different shared-memory banks instead of one."""
    tile = cuda.shared.array((TILE, TILE_PITCH), dst.dtype)
    n = cuda.blockIdx.z
    i0, j0 = cuda.blockIdx.x * TILE, cuda.blockIdx.y * TILE  # the tile's corner in dst
    tx, ty = cuda.threadIdx.x, cuda.threadIdx.y
    size_i, size_j = dst.shape[1], dst.shape[2]
    for k in range(ty, TILE, TILE_ROWS):  # neighbouring tx read neighbouring i: src's last axis
        if j0 + k < size_j and i0 + tx < size_i:
            tile[k, tx] = src[n, j0 + k, i0 + tx]
    cuda.syncthreads()  # the whole tile is in shared memory before anyone reads it across
    for k in range(ty, TILE, TILE_ROWS):  # neighbouring tx write neighbouring j: dst's last axis
        i, j = i0 + k, j0 + tx
        if i < size_i and j < size_j:
            v = tile[tx, k]
            dst[n, i, j] = v + bias[i] if add_bias else v


def _signatures(*layouts):
    """One signature per dtype: ``layouts`` maps each argument to an array rank or,
    for 0, to an int64 (a size), to a scalar of the dtype ("scalar") or to a boolean ("bool")."""
    def one(dtype):
        types = []
        for layout in layouts:
            if layout == "scalar":
                types.append(dtype)
            elif layout == "bool":
                types.append(numba.boolean)
            elif layout == 0:
                types.append(numba.int64)
            else:
                types.append(dtype[(slice(None),) * (layout - 1) + (slice(None, None, 1),)])
        return tuple(types)
    return [one(numba.float32), one(numba.float64)]


# (kernel, [float32 signature, float64 signature]) for tests/test_cuda_ptx.py
KERNELS = [
    (im2col_kernel, _signatures(4, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)),
    (col2im_kernel, _signatures(3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, "scalar")),
    (transpose_kernel, _signatures(3, 1, "bool", 3)),
]


def transpose(src, bias=None):
    """(N, A, B) → a new C-contiguous (N, B, A), ``bias`` (B,) added along the new axis 1."""
    n, a, b = src.shape
    if n > cuda_launch.MAX_GRID_YZ or math.ceil(a / TILE) > cuda_launch.MAX_GRID_YZ:
        raise RuntimeError(f"conv2d: transposing an array of shape {tuple(src.shape)} takes more blocks than "
                           f"a CUDA grid holds (at most {cuda_launch.MAX_GRID_YZ} images, and "
                           f"{cuda_launch.MAX_GRID_YZ * TILE} along the second axis); split the batch")
    dst = cuda_launch.empty((n, b, a), src.dtype, like=src)
    if dst.size == 0:  # an empty batch: CUDA refuses a grid with no blocks
        return dst
    add_bias = bias is not None
    # without a bias the kernel never reads one: any (1,) array of the dtype will do, and
    # empty, unlike zeros, queues no fill kernel
    bias = cuda_launch.contiguous(bias) if add_bias else cuda_launch.empty((1,), src.dtype, like=src)
    cuda_launch.check_index_range("conv2d", src, dst)
    grid = (math.ceil(b / TILE), math.ceil(a / TILE), n)
    cuda_launch.run(transpose_kernel, grid, (TILE, TILE_ROWS), cuda_launch.contiguous(src), bias, add_bias, dst)
    return dst


def im2col(x, kernel, stride, padding, dilation):
    """(N, C, H, W) → cols (N·OH·OW, C·kh·kw): one row per output pixel."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    n, c, h, w = x.shape
    oh, ow = output_size(h, kh, sh, ph, dh), output_size(w, kw, sw, pw, dw)
    cuda_launch.check_index_range("conv2d", n * oh * ow * c * kh * kw)  # before allocating it
    cols = cuda_launch.empty((n * oh * ow, c * kh * kw), x.dtype, like=x)
    cuda_launch.launch("conv2d", im2col_kernel, cols.size, cuda_launch.contiguous(x), cols,
                       kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)
    return cols


def col2im(cols, x_shape, kernel, stride, padding, dilation):
    """cols (N, C·kh·kw, OH·OW), image by image → gx (N, C, H, W), overlapping taps summed."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    _, _, h, w = x_shape
    oh, ow = output_size(h, kh, sh, ph, dh), output_size(w, kw, sw, pw, dw)
    gx = cuda_launch.empty(x_shape, cols.dtype, like=cols)
    cuda_launch.launch("conv2d backward_data", col2im_kernel, gx.size, cuda_launch.contiguous(cols), gx,
                       kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, cols.dtype.type(0))
    return gx


def _planes(a):
    """(N, C, H, W) → the (N, C, H·W) view: one (C, H·W) matrix per image."""
    n, c, h, w = a.shape
    return cuda_launch.contiguous(a).reshape(n, c, h * w)


def keeps_columns(nbytes, like):
    """Whether to keep ``nbytes`` of columns from forward to backward, by
    ``MINIGRAD_CONV_KEEP_COLUMNS``: ``1`` always, ``0`` never, ``auto`` (the default)
    while they take at most KEEP_COLUMNS_SHARE of the memory still free on the
    device (the driver's free memory plus what CuPy's pool holds unused)."""
    choice = os.environ.get("MINIGRAD_CONV_KEEP_COLUMNS", "auto")
    if choice not in ("0", "1", "auto"):
        raise ValueError(f"MINIGRAD_CONV_KEEP_COLUMNS={choice!r}: expected 0, 1 or auto")
    if choice != "auto":
        return choice == "1"
    return nbytes <= KEEP_COLUMNS_SHARE * cuda_launch.free_bytes(like)


def forward_with_columns(x, w, b, stride, padding, dilation=(1, 1)):
    """(y, cols): the convolution and the im2col it multiplied, which ``backward_weight``
    takes back as ``columns`` (``kernels.conv`` asks ``keeps_columns`` first)."""
    c_out, _, kh, kw = w.shape
    n, _, h, wd = x.shape
    oh, ow = (output_size(h, kh, stride[0], padding[0], dilation[0]),
              output_size(wd, kw, stride[1], padding[1], dilation[1]))
    cols = im2col(x, (kh, kw), stride, padding, dilation)
    y_rows = cols @ w.reshape(c_out, -1).T  # (N·OH·OW, C_out)
    return transpose(y_rows.reshape(n, oh * ow, c_out), b).reshape(n, c_out, oh, ow), cols  # b None: no bias added


def forward(x, w, b, stride, padding, dilation=(1, 1)):
    return forward_with_columns(x, w, b, stride, padding, dilation)[0]


def backward_data(gy, w, x_shape, stride, padding, dilation=(1, 1)):
    c_out, _, kh, kw = w.shape
    g_cols = w.reshape(c_out, -1).T @ _planes(gy)  # gC = gY W, image by image: (K, C_out) @ (C_out, OH·OW)
    return col2im(g_cols, x_shape, (kh, kw), stride, padding, dilation)


def backward_weight(gy, x, w_shape, stride, padding, dilation=(1, 1), columns=None):
    cols = im2col(x, w_shape[2:], stride, padding, dilation) if columns is None else columns
    n, c_out, oh, ow = gy.shape
    gy_rows = transpose(_planes(gy)).reshape(n * oh * ow, c_out)
    return (gy_rows.T @ cols).reshape(w_shape)  # gW = gYᵀ C
