"""2-D convolution (cross-correlation, as in every deep-learning library), the Caffe way:
im2col turns every receptive field into a row, one GEMM does all the products
(Chellapilla, Puri & Simard 2006, "High performance convolutional neural networks
for document processing"; Jia et al.'s Caffe made it the standard layout).

Shapes (NCHW, as in PyTorch), with G groups:

    x: (N, C_in, H, W)      w: (C_out, C_in / G, kh, kw)      b: (C_out,) or None
    y: (N, C_out, OH, OW)   with OH = ⌊(H + 2·ph − dh·(kh − 1) − 1) / sh⌋ + 1, OW likewise

    y[n, o, i, j] = b[o] + Σ_{c,p,q} w[o, c, p, q] · x_pad[n, g·C_in/G + c, i·sh + p·dh, j·sw + q·dw]

where g = o // (C_out / G) is the group of output channel o. Dilation (dh, dw) spaces
the kernel's taps apart, so a 3×3 kernel with dilation 2 sees a 5×5 field with 9 taps
(Yu & Koltun 2016, "Multi-scale context aggregation by dilated convolutions"). Groups
split the channels into G independent convolutions, each from C_in/G input to C_out/G
output channels (Krizhevsky, Sutskever & Hinton 2012 ran AlexNet's two halves so, one
per GPU; groups = C_in is a depthwise convolution).

The three functions below are the op's forward and its two derivatives:

* ``forward``          y  = conv(x, w) + b
* ``backward_data``    gx = ∂L/∂x given gy = ∂L/∂y (a "transposed convolution" of gy by w)
* ``backward_weight``  gw = ∂L/∂w given gy and x

They check their inputs, split the channels into groups (``_per_group``: one face call,
so one GEMM, per group; the faces themselves know nothing of groups), then run the face
that ``kernels.face`` picks for the arrays (``reference``, ``cpu`` or ``cuda``). Every
face takes stride, padding and dilation as checked pairs ``(sh, sw)``, ``(ph, pw)``,
``(dh, dw)``.

gW needs the forward's im2col columns again. ``forward(..., keep_columns=True)``
returns them beside y where the face keeps them (the cuda face, while memory allows:
``kernels.conv.cuda.keeps_columns``, asked once for the whole layer), and
``backward_weight(..., columns=...)`` then skips rebuilding them; the CPU faces rebuild
them chunk by chunk, which is cheaper there than keeping a whole batch's columns
(``kernels/conv/cpu.py``). With groups the columns are one array per group, each the
im2col of that group's input channels, as its GEMM multiplied them.
"""
import functools
import numbers

from kernels import face
from kernels.geometry import dilation_pair, output_size, pair, span, stride_and_padding  # noqa: F401 (API)


def _geometry(op, x_shape, w_shape, stride, padding, dilation, groups):
    """Check shapes and hyperparameters; return (stride pair, padding pair, dilation pair,
    output shape). The mistakes PyTorch reports with RuntimeError raise it here too."""
    # Plain ints (the functional form's usual call): the whole check remembered at once,
    # 0.4 µs a call against 1.6 through the checks and their cache below. Exact ints only:
    # True and 1.0 equal 1 as cache keys too but must still raise, and a pair's elements
    # would need that test as well (pair()'s fast path), so pairs, as the layers pass
    # them, take the checks.
    if int is type(stride) is type(padding) is type(dilation) is type(groups):
        return _int_geometry(op, tuple(x_shape), tuple(w_shape), stride, padding, dilation, groups)
    return _checked_geometry(op, x_shape, w_shape, stride, padding, dilation, groups)


def _checked_geometry(op, x_shape, w_shape, stride, padding, dilation, groups):
    stride, padding = stride_and_padding(op, stride, padding)
    dilation = dilation_pair(op, dilation)
    if type(groups) is not int:
        if not isinstance(groups, numbers.Integral) or isinstance(groups, bool):
            raise TypeError(f"{op}: groups must be an int, got {groups!r}")
        groups = int(groups)
    return (stride, padding, dilation,
            _output_shape(op, tuple(x_shape), tuple(w_shape), stride, padding, dilation, groups))


# A failing check raises, and lru_cache remembers only results: a bad call is refused every time.
_int_geometry = functools.lru_cache(maxsize=512)(_checked_geometry)


# A training loop checks the same few geometries at every step (three times: forward and
# both derivatives): remembered once they pass. A failing check raises, and lru_cache
# remembers only results, so a bad geometry is refused every time.
@functools.lru_cache(maxsize=512)
def _output_shape(op, x_shape, w_shape, stride, padding, dilation, groups):
    """The output shape (N, C_out, OH, OW), once the shapes are checked against the
    (already checked) stride, padding and dilation pairs and the int ``groups``."""
    if groups <= 0:
        raise RuntimeError(f"{op}: groups must be positive, got {groups}")
    if len(x_shape) != 4:
        raise ValueError(f"{op}: input must have shape (N, C_in, H, W), got {tuple(x_shape)}")
    if len(w_shape) != 4:
        raise ValueError(f"{op}: weight must have shape (C_out, C_in / groups, kh, kw), got {tuple(w_shape)}")
    n, c, h, w = x_shape
    c_out, c_in, kh, kw = w_shape
    if min(c_out, c_in, kh, kw) <= 0 or min(c, h, w) <= 0:
        raise ValueError(f"{op}: empty input {tuple(x_shape)} or weight {tuple(w_shape)} "
                         f"(only the batch axis may be 0)")
    if c_out % groups:
        raise RuntimeError(f"{op}: groups={groups} must divide the weight's {c_out} output channels "
                           f"(weight shape {tuple(w_shape)})")
    if c != c_in * groups:
        raise RuntimeError(f"{op}: input has {c} channels (shape {tuple(x_shape)}) but the weight "
                           f"(shape {tuple(w_shape)}) with groups={groups} expects {c_in * groups}")
    (eh, ew) = span(kh, dilation[0]), span(kw, dilation[1])
    if eh > h + 2 * padding[0] or ew > w + 2 * padding[1]:
        dilated = f" (kernel {kh}x{kw} with dilation {dilation})" if dilation != (1, 1) else ""
        raise RuntimeError(f"{op}: kernel {eh}x{ew}{dilated} is larger than the padded input "
                           f"{h + 2 * padding[0]}x{w + 2 * padding[1]} (input {h}x{w}, padding {padding})")
    return (n, c_out, output_size(h, kh, stride[0], padding[0], dilation[0]),
            output_size(w, kw, stride[1], padding[1], dilation[1]))


def _split(array, axis, groups):
    """``groups`` equal slices of ``array`` along ``axis`` (views, no copy)."""
    size = array.shape[axis] // groups
    return [array[(slice(None),) * axis + (slice(g * size, (g + 1) * size),)] for g in range(groups)]


def _per_group(groups, run, arrays, along, axis):
    """Grouped convolution as ``groups`` ungrouped ones (Krizhevsky et al. 2012): group g
    reads only its slice of every input (``arrays``, each an array or None, split along
    its axis in ``along``; a list is already split, one entry per group) and writes its
    slice of the result, joined along ``axis``. One face call, hence one GEMM, per group;
    with one group the arrays go through untouched."""
    if groups == 1:
        return run(*arrays)
    slices = [array if isinstance(array, list) else [None] * groups if array is None
              else _split(array, axis_of, groups) for array, axis_of in zip(arrays, along)]
    parts = [run(*group) for group in zip(*slices)]
    return face.xp(parts[0]).concatenate(parts, axis=axis)


def _check_arrays(op, names, arrays):
    """Every argument an array (NumPy or CuPy) of float32 or float64, all of one dtype
    (``names``: what the op calls each, for the message)."""
    for name, a in zip(names, arrays):
        if not hasattr(a, "dtype") or not hasattr(a, "shape"):
            raise TypeError(f"{op}: {name} must be a NumPy or CuPy array, got {type(a).__name__}")
    face.check_float(op, *arrays)


def _check_columns(op, columns, groups, shape):
    """Kept columns must be what ``forward(keep_columns=True)`` returned for this geometry:
    one (N·OH·OW, C_in / groups · kh·kw) array per group, a list of them when groups > 1."""
    parts = columns if groups > 1 and isinstance(columns, list) else [columns]
    got = [tuple(getattr(c, "shape", ())) for c in parts]
    if len(parts) != groups or any(g != shape for g in got):
        raise ValueError(f"{op}: columns must be what forward(keep_columns=True) returned, "
                         f"{groups} array(s) of shape {shape}; got {type(columns).__name__} of shapes {got}")


def _check_gy(op, gy, y_shape):
    if tuple(gy.shape) != y_shape:
        raise ValueError(f"{op}: output gradient has shape {tuple(gy.shape)}, but the convolution's "
                         f"output has shape {y_shape}")


def _columns_nbytes(x, w, y_shape):
    """The bytes of the whole layer's im2col columns, all groups together:
    (N·OH·OW) rows of C_in·kh·kw values."""
    n, _, oh, ow = y_shape
    return n * oh * ow * x.shape[1] * w.shape[2] * w.shape[3] * x.dtype.itemsize


def forward(x, w, b=None, stride=1, padding=0, dilation=1, groups=1, keep_columns=False):
    """y = conv(x, w) + b.  x: (N, C_in, H, W), w: (C_out, C_in / groups, kh, kw),
    b: (C_out,) or None → y: (N, C_out, OH, OW), a new C-contiguous array of x's dtype.
    With ``keep_columns=True``: (y, columns), columns the im2col of x for ``backward_weight``
    where the face keeps it (a list of one array per group when groups > 1), else None."""
    op = "conv2d"
    arrays = (x, w) if b is None else (x, w, b)
    _check_arrays(op, ("input", "weight", "bias"), arrays)
    stride, padding, dilation, y_shape = _geometry(op, x.shape, w.shape, stride, padding, dilation, groups)
    if b is not None and tuple(b.shape) != (w.shape[0],):
        raise ValueError(f"{op}: bias must have shape ({w.shape[0]},) for {w.shape[0]} output channels, "
                         f"got {tuple(b.shape)}")
    faces = face.module("conv", op, *arrays)
    inputs, along = (x, w, b), (1, 0, 0)
    # one decision for the whole layer: asked group by group, a depthwise layer's many small
    # groups would each pass the memory test and together take what the test meant to leave free
    keep = keep_columns and hasattr(faces, "keeps_columns") and \
        faces.keeps_columns(_columns_nbytes(x, w, y_shape), like=x)
    if not keep:
        y = _per_group(groups, lambda xg, wg, bg: faces.forward(xg, wg, bg, stride, padding, dilation),
                       inputs, along, axis=1)
        return (y, None) if keep_columns else y
    columns = []  # each group's im2col, in group order

    def run(xg, wg, bg):
        yg, cols = faces.forward_with_columns(xg, wg, bg, stride, padding, dilation)
        columns.append(cols)
        return yg
    y = _per_group(groups, run, inputs, along, axis=1)
    return y, (columns[0] if groups == 1 else columns)


def backward_data(gy, w, x_shape, stride=1, padding=0, dilation=1, groups=1):
    """gx = ∂L/∂x.  gy: (N, C_out, OH, OW), w: (C_out, C_in / groups, kh, kw) → gx of shape ``x_shape``."""
    op = "conv2d backward_data"
    _check_arrays(op, ("output_gradient", "weight"), (gy, w))
    x_shape = tuple(int(s) for s in x_shape)
    stride, padding, dilation, y_shape = _geometry(op, x_shape, w.shape, stride, padding, dilation, groups)
    _check_gy(op, gy, y_shape)
    run = face.module("conv", op, gy, w).backward_data
    group_x_shape = (x_shape[0], x_shape[1] // groups) + x_shape[2:]
    return _per_group(groups, lambda gyg, wg: run(gyg, wg, group_x_shape, stride, padding, dilation),
                      (gy, w), (1, 0), axis=1)


def backward_weight(gy, x, w_shape, stride=1, padding=0, dilation=1, groups=1, columns=None):
    """gw = ∂L/∂w.  gy: (N, C_out, OH, OW), x: (N, C_in, H, W) → gw of shape ``w_shape``.
    ``columns``: what ``forward(x, ..., keep_columns=True)`` returned beside y, or None."""
    op = "conv2d backward_weight"
    _check_arrays(op, ("output_gradient", "input"), (gy, x))
    w_shape = tuple(int(s) for s in w_shape)
    stride, padding, dilation, y_shape = _geometry(op, x.shape, w_shape, stride, padding, dilation, groups)
    _check_gy(op, gy, y_shape)
    run = face.module("conv", op, gy, x).backward_weight
    group_w_shape = (w_shape[0] // groups,) + w_shape[1:]
    if columns is None:
        return _per_group(groups, lambda gyg, xg: run(gyg, xg, group_w_shape, stride, padding, dilation),
                          (gy, x), (1, 1), axis=0)
    n, _, oh, ow = y_shape
    _check_columns(op, columns, groups, (n * oh * ow, w_shape[1] * w_shape[2] * w_shape[3]))
    return _per_group(groups, lambda gyg, xg, cols: run(gyg, xg, group_w_shape, stride, padding, dilation,
                                                        columns=cols),
                      (gy, x, columns), (1, 1, None), axis=0)
