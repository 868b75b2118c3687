"""2-D convolution (cross-correlation, as in every deep-learning library), the Caffe way:
im2col turns every receptive field into a row, one GEMM does all the products.

Shapes (NCHW, as in PyTorch):

    x: (N, C_in, H, W)      w: (C_out, C_in, kh, kw)      b: (C_out,) or None
    y: (N, C_out, OH, OW)   with OH = (H + 2·ph − kh) // sh + 1, OW likewise

    y[n, o, i, j] = b[o] + Σ_{c,p,q} w[o, c, p, q] · x_pad[n, c, i·sh + p, j·sw + q]

The three functions below are the op's forward and its two derivatives:

* ``forward``          y  = conv(x, w) + b
* ``backward_data``    gx = ∂L/∂x given gy = ∂L/∂y (a "transposed convolution" of gy by w)
* ``backward_weight``  gw = ∂L/∂w given gy and x

They check their inputs, then run the face that ``kernels.face`` picks for the
arrays (``reference``, ``cpu`` or ``cuda``). Every face takes stride and padding
as checked pairs ``(sh, sw)``, ``(ph, pw)``.

gW needs the forward's im2col columns again. ``forward(..., keep_columns=True)``
returns them beside y where the face keeps them (the cuda face, while memory allows:
``kernels.conv.cuda.keeps_columns``), and ``backward_weight(..., columns=...)`` then
skips rebuilding them; the CPU faces rebuild them chunk by chunk, which is cheaper
there than keeping a whole batch's columns (``kernels/conv/cpu.py``).
"""
from kernels import face
from kernels.geometry import output_size, pair, stride_and_padding  # noqa: F401 (part of this API)


def _geometry(op, x_shape, w_shape, stride, padding):
    """Check shapes and hyperparameters; return (stride pair, padding pair, output shape)."""
    stride, padding = stride_and_padding(op, stride, padding)
    if len(x_shape) != 4:
        raise ValueError(f"{op}: input must have shape (N, C_in, H, W), got {tuple(x_shape)}")
    if len(w_shape) != 4:
        raise ValueError(f"{op}: weight must have shape (C_out, C_in, kh, kw), got {tuple(w_shape)}")
    n, c, h, w = x_shape
    c_out, c_in, kh, kw = w_shape
    if min(c_out, c_in, kh, kw) <= 0 or min(c, h, w) <= 0:
        raise ValueError(f"{op}: empty input {tuple(x_shape)} or weight {tuple(w_shape)} "
                         f"(only the batch axis may be 0)")
    if c != c_in:
        raise ValueError(f"{op}: input has {c} channels (shape {tuple(x_shape)}) but the weight "
                         f"expects {c_in} (shape {tuple(w_shape)})")
    if kh > h + 2 * padding[0] or kw > w + 2 * padding[1]:
        raise ValueError(f"{op}: kernel {kh}x{kw} is larger than the padded input "
                         f"{h + 2 * padding[0]}x{w + 2 * padding[1]} (input {h}x{w}, padding {padding})")
    y_shape = (n, c_out, output_size(h, kh, stride[0], padding[0]), output_size(w, kw, stride[1], padding[1]))
    return stride, padding, y_shape


def _check_arrays(op, **arrays):
    """Every argument an array (NumPy or CuPy) of float32 or float64, all of one dtype."""
    for name, a in arrays.items():
        if not hasattr(a, "dtype") or not hasattr(a, "shape"):
            raise TypeError(f"{op}: {name} must be a NumPy or CuPy array, got {type(a).__name__}")
    face.check_float(op, *arrays.values())


def _check_gy(op, gy, y_shape):
    if tuple(gy.shape) != y_shape:
        raise ValueError(f"{op}: output gradient has shape {tuple(gy.shape)}, but the convolution's "
                         f"output has shape {y_shape}")


def forward(x, w, b=None, stride=1, padding=0, keep_columns=False):
    """y = conv(x, w) + b.  x: (N, C_in, H, W), w: (C_out, C_in, kh, kw), b: (C_out,) or None
    → y: (N, C_out, OH, OW), a new C-contiguous array of x's dtype.
    With ``keep_columns=True``: (y, columns), columns the im2col of x for ``backward_weight``
    where the face keeps it, else None."""
    op = "conv2d"
    arrays = (x, w) if b is None else (x, w, b)
    _check_arrays(op, **dict(zip(("input", "weight", "bias"), arrays)))
    stride, padding, _ = _geometry(op, x.shape, w.shape, stride, padding)
    if b is not None and tuple(b.shape) != (w.shape[0],):
        raise ValueError(f"{op}: bias must have shape ({w.shape[0]},) for {w.shape[0]} output channels, "
                         f"got {tuple(b.shape)}")
    faces = face.module("conv", op, *arrays)
    if not keep_columns:
        return faces.forward(x, w, b, stride, padding)
    if hasattr(faces, "forward_keeping_columns"):
        return faces.forward_keeping_columns(x, w, b, stride, padding)
    return faces.forward(x, w, b, stride, padding), None


def backward_data(gy, w, x_shape, stride=1, padding=0):
    """gx = ∂L/∂x.  gy: (N, C_out, OH, OW), w: (C_out, C_in, kh, kw) → gx of shape ``x_shape``."""
    op = "conv2d backward_data"
    _check_arrays(op, output_gradient=gy, weight=w)
    x_shape = tuple(int(s) for s in x_shape)
    stride, padding, y_shape = _geometry(op, x_shape, w.shape, stride, padding)
    _check_gy(op, gy, y_shape)
    return face.module("conv", op, gy, w).backward_data(gy, w, x_shape, stride, padding)


def backward_weight(gy, x, w_shape, stride=1, padding=0, columns=None):
    """gw = ∂L/∂w.  gy: (N, C_out, OH, OW), x: (N, C_in, H, W) → gw of shape ``w_shape``.
    ``columns``: what ``forward(x, ..., keep_columns=True)`` returned beside y, or None."""
    op = "conv2d backward_weight"
    _check_arrays(op, output_gradient=gy, input=x)
    w_shape = tuple(int(s) for s in w_shape)
    stride, padding, y_shape = _geometry(op, x.shape, w_shape, stride, padding)
    _check_gy(op, gy, y_shape)
    faces = face.module("conv", op, gy, x)
    if columns is None:
        return faces.backward_weight(gy, x, w_shape, stride, padding)
    return faces.backward_weight(gy, x, w_shape, stride, padding, columns=columns)
