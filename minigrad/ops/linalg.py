"""Matrix product. For Y = A B:  gA = G Bᵀ  and  gB = Aᵀ G  (with batch axes
broadcast as NumPy's and PyTorch's matmul do, then summed back by ``sum_to``).
``mm``, ``bmm``, ``dot`` and ``outer`` are matmul with torch's shape checks; ``einsum``
is NumPy's with a VJP that is itself an einsum."""
import string
import warnings

import numpy as np

from kernels import cpu_threads
from minigrad import backend, dtypes
from minigrad.ops.base import broadcast_shapes, check_devices, lift, normalize_dim
from minigrad.ops.shape import broadcast_to, cat, diagonal, narrow, reshape, sum_to, transpose
from minigrad.tensor import Tensor, result


def matmul(a, b):
    """torch.matmul: 1-D @ 1-D is a dot product of shape (); a 1-D operand is a row
    (left) or a column (right) whose dim is dropped afterwards; batch dims broadcast."""
    if not isinstance(a, Tensor):
        a = lift(a, b)
    b = lift(b, a)
    # the arrays' own shapes and dtypes below: every linear layer and every VJP of one
    # comes through here, and a Tensor's Size and minigrad.dtype are built per access
    x, y = a.array, b.array
    if type(x) is not type(y):
        check_devices("matmul", a, b)
    if x.dtype != y.dtype:
        dtype = dtypes.result_type(a, b)
        a, b = a.to(dtype=dtype), b.to(dtype=dtype)
        x, y = a.array, b.array
    if x.ndim == 0 or y.ndim == 0:
        raise RuntimeError(f"matmul: both arguments need at least 1 dimension, got shapes {a.shape} and {b.shape}")
    if x.ndim == 1 and y.ndim == 1:
        return reshape(matmul(reshape(a, (1, -1)), reshape(b, (-1, 1))), ())
    if x.ndim == 1:
        out = matmul(reshape(a, (1,) + x.shape), b)
        return reshape(out, out.shape[:-2] + out.shape[-1:])
    if y.ndim == 1:
        return reshape(matmul(a, reshape(b, y.shape + (1,))), x.shape[:-1])
    if x.shape[-1] != y.shape[-2]:
        raise RuntimeError(f"matmul: shapes {a.shape} and {b.shape} cannot be multiplied "
                           f"(inner dimensions {x.shape[-1]} and {y.shape[-2]} differ)")
    if (x.ndim > 2 or y.ndim > 2) and x.shape[:-2] != y.shape[:-2]:
        try:
            np.broadcast_shapes(x.shape[:-2], y.shape[:-2])
        except ValueError:
            raise RuntimeError(f"matmul: the batch dimensions {a.shape[:-2]} and {b.shape[:-2]} of shapes "
                               f"{a.shape} and {b.shape} cannot be broadcast together") from None
    product = cpu_threads.matmul(x, y) if type(x) is np.ndarray else x @ y
    shape_a, shape_b = x.shape, y.shape
    return result(product, "matmul", (a, b),
                  (lambda g, out: sum_to(matmul(g, transpose(b, -1, -2)), shape_a),
                   lambda g, out: sum_to(matmul(transpose(a, -1, -2), g), shape_b)),
                  saved=(b,) * a.requires_grad + (a,) * b.requires_grad)


def _require_dims(op, wanted, *tensors):
    for t in tensors:
        if not isinstance(t, Tensor) or t.ndim != wanted:
            shapes = " and ".join(str(getattr(u, "shape", type(u).__name__)) for u in tensors)
            raise RuntimeError(f"{op}: expects {wanted}-D tensors, got shapes {shapes}")


def mm(a, b):
    """Matrix × matrix (2-D only), as torch.mm."""
    _require_dims("mm", 2, a, b)
    return matmul(a, b)


def bmm(a, b):
    """A batch of matrix products, (B, n, k) @ (B, k, m), as torch.bmm (no broadcasting)."""
    _require_dims("bmm", 3, a, b)
    if a.shape[0] != b.shape[0]:
        raise RuntimeError(f"bmm: batch sizes differ: shapes {a.shape} and {b.shape}")
    return matmul(a, b)


def dot(a, b):
    """The dot product of two 1-D tensors of the same length (shape ()), as torch.dot."""
    _require_dims("dot", 1, a, b)
    if a.shape != b.shape:
        raise RuntimeError(f"dot: 1-D tensors of different lengths: shapes {a.shape} and {b.shape}")
    return matmul(a, b)


def outer(a, b):
    """a bᵀ for 1-D a and b: shape (len a, len b)."""
    _require_dims("outer", 1, a, b)
    return reshape(a, (-1, 1)) * reshape(b, (1, -1))



def _einsum_terms(equation, count):
    """The input subscripts and the output subscripts of an einsum equation; without
    "->", the output is the letters used once, sorted (NumPy's and PyTorch's rule)."""
    inputs, arrow, output = equation.partition("->")
    terms = inputs.split(",")
    if len(terms) != count:
        raise RuntimeError(f"einsum: the equation {equation!r} has {len(terms)} operands, got {count} tensors")
    letters = "".join(terms)
    if not arrow:
        output = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    return terms, output


def _name_ellipses(equation, operands):
    """The equation with each "..." replaced by letters of its own (the broadcast dims,
    aligned on the right as torch does), and the operands broadcast along them. Without
    "->" the output puts those dims first, then the letters used once, sorted."""
    equation = equation.replace(" ", "")
    inputs, arrow, output = equation.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(operands):
        raise RuntimeError(f"einsum: the equation {equation!r} has {len(terms)} operands, got {len(operands)} tensors")
    if "." not in equation:
        return equation, operands
    spare = [c for c in string.ascii_letters if c not in equation]
    counts = []
    for term, t in zip(terms, operands):
        if term.count("...") > 1 or term.replace("...", "").count("."):
            raise RuntimeError(f"einsum(): found more than one ellipsis ('...') in the operand {term!r}")
        counts.append(t.ndim - (len(term) - 3) if "..." in term else 0)
    width = max(counts)
    letters = "".join(spare[:width])
    sizes = broadcast_shapes("einsum", *[t.shape[term.index("..."):term.index("...") + k]
                                         for term, t, k in zip(terms, operands, counts) if "..." in term])
    named, broadcast = [], []
    for term, t, k in zip(terms, operands, counts):
        if "..." in term:
            start = term.index("...")
            shape = t.shape[:start] + tuple(sizes[width - k:]) + t.shape[start + k:]
            t = broadcast_to(t, shape) if shape != t.shape else t
            term = term.replace("...", letters[width - k:])
        named.append(term)
        broadcast.append(t)
    if arrow:
        output = output.replace("...", letters)
    else:
        used = "".join(named)
        output = letters + "".join(sorted(c for c in set(used) if used.count(c) == 1 and c not in letters))
    return ",".join(named) + "->" + output, tuple(broadcast)


def _take_diagonals(terms, operands):
    """A letter repeated within one operand ("ii") means its diagonal: take it (``diagonal``,
    so the gradient scatters back) until every operand names each dim once."""
    terms, operands = list(terms), list(operands)
    for i, term in enumerate(terms):
        while len(set(term)) != len(term):
            letter = next(c for c in term if term.count(c) > 1)
            first, second = term.index(letter), term.index(letter, term.index(letter) + 1)
            if operands[i].shape[first] != operands[i].shape[second]:
                raise RuntimeError(f"einsum(): subscript {letter} is repeated for operand {i} but the sizes "
                                   f"don't match, {operands[i].shape[first]} != {operands[i].shape[second]}")
            operands[i] = diagonal(operands[i], 0, first, second)
            term = "".join(c for j, c in enumerate(term) if j not in (first, second)) + letter
        terms[i] = term
    return terms, tuple(operands)


def einsum(equation, *operands):
    """torch.einsum, e.g. ``einsum("bij,bjk->bik", a, b)``. The VJP of operand i is
    another einsum: g contracted with the other operands onto i's letters; letters that
    only i has (summed away at once) get g broadcast along them."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    check_devices("einsum", *operands)
    equation, operands = _name_ellipses(equation, operands)
    for term, t in zip(equation.partition("->")[0].split(","), operands):
        if len(term) != t.ndim:
            raise RuntimeError(f"einsum: {term!r} names {len(term)} dims for an operand of shape {t.shape}")
    terms, output = _einsum_terms(equation, len(operands))
    terms, operands = _take_diagonals(terms, operands)
    dtype = dtypes.result_type(*operands)
    operands = tuple(t.to(dtype=dtype) for t in operands)
    for term, t in zip(terms, operands):
        if len(term) != t.ndim:
            raise RuntimeError(f"einsum: {term!r} names {len(term)} dims for an operand of shape {t.shape}")
    try:
        data = backend.xp(operands[0].array).einsum(f"{','.join(terms)}->{output}", *[t.array for t in operands])
    except ValueError as error:
        raise RuntimeError(f"einsum: {error} (shapes {[t.shape for t in operands]})") from None

    def vjp(i):
        others = [j for j in range(len(operands)) if j != i]
        elsewhere = set(output).union(*(terms[j] for j in others))
        kept = "".join(c for c in terms[i] if c in elsewhere)
        shape = operands[i].shape

        def grad(g, y):
            gi = einsum(",".join([output] + [terms[j] for j in others]) + "->" + kept,
                        g, *[operands[j] for j in others])
            gi = reshape(gi, tuple(n if c in elsewhere else 1 for c, n in zip(terms[i], shape)))
            return broadcast_to(gi, shape)
        return grad
    return result(data, "einsum", operands, tuple(vjp(i) for i in range(len(operands))),
                  saved=tuple(operands) if len(operands) > 1 else ())


def tensordot(a, b, dims=2):
    """Contract the last ``dims`` dims of a with the first of b (an int), or the listed
    pairs (``([1, 0], [0, 1])``), as torch.tensordot; an einsum, so its VJP is one too."""
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        dims_a, dims_b = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        dims_a, dims_b = ([d] if isinstance(d, int) else list(d) for d in dims)
    if len(dims_a) != len(dims_b):
        raise RuntimeError(f"tensordot: both dimension lists should have same length, got {dims_a} and {dims_b}")
    dims_a, dims_b = [d % a.ndim for d in dims_a], [d % b.ndim for d in dims_b]
    letters = iter(string.ascii_letters)
    term_a = [next(letters) for _ in range(a.ndim)]
    term_b = [next(letters) for _ in range(b.ndim)]
    for i, j in zip(dims_a, dims_b):
        term_b[j] = term_a[i]
    output = [c for i, c in enumerate(term_a) if i not in dims_a] + [c for j, c in enumerate(term_b)
                                                                      if j not in dims_b]
    return einsum(f"{''.join(term_a)},{''.join(term_b)}->{''.join(output)}", a, b)


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """beta·input + alpha·(mat1 @ mat2), as torch.addmm (input broadcast to the product)."""
    product = mm(mat1, mat2)
    return (input * beta if beta != 1 else input) + (product * alpha if alpha != 1 else product)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta·input + alpha·(batch1 @ batch2) for batches of matrices, as torch.baddbmm."""
    product = bmm(batch1, batch2)
    return (input * beta if beta != 1 else input) + (product * alpha if alpha != 1 else product)


def _cross(a, b, dim, op):
    """a × b along ``dim`` (of size 3) of the broadcast inputs:
    (a₂b₃ − a₃b₂, a₃b₁ − a₁b₃, a₁b₂ − a₂b₁). Built from slices, products and cat, so each
    input's gradient is b × g or g × a, through those ops."""
    if a.dtype != b.dtype:
        raise RuntimeError(f"{op}: expected both inputs to have the same dtype, got {a.dtype} and {b.dtype}")
    if a.ndim != b.ndim:
        raise RuntimeError(f"{op}: inputs must have the same number of dimensions (shapes {a.shape} and {b.shape})")
    check_devices(op, a, b)
    shape = broadcast_shapes(op, a.shape, b.shape)
    if dim is None:  # torch.cross's old default: the first dim of size 3
        dim = next((i for i, n in enumerate(shape) if n == 3), None)
        if dim is None:
            raise RuntimeError(f"{op}: no dimension of size 3 in input (shapes {a.shape} and {b.shape})")
    d = normalize_dim(dim, len(shape), op)
    sizes = [a.shape[d], b.shape[d]]
    if sizes != [3, 3]:
        raise RuntimeError(f"{op}: inputs dimension {dim} must have length 3. Got {sizes[0]} and {sizes[1]}")
    a, b = broadcast_to(a, shape), broadcast_to(b, shape)
    a1, a2, a3 = (narrow(a, d, i, 1) for i in range(3))
    b1, b2, b3 = (narrow(b, d, i, 1) for i in range(3))
    return cat([a2 * b3 - a3 * b2, a3 * b1 - a1 * b3, a1 * b2 - a2 * b1], d)


def cross(a, b, dim=None):
    """The cross product along ``dim`` (torch.cross). Without ``dim``, torch's deprecated
    default: the first dim of size 3 (``linalg.cross`` takes the last), with torch's warning."""
    if dim is None:
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated. Please either pass the "
                      "dim explicitly or simply use linalg.cross.", UserWarning, stacklevel=2)
    return _cross(a, b, dim, "cross")
