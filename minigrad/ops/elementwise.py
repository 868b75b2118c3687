"""Elementwise ops, each forward beside its VJPs.

For y = f(a, b) applied element by element, the Jacobian is diagonal, so the VJP
is a product: ga = g · ∂y/∂a. When a or b was broadcast, ``sum_to`` adds the
gradient back up to its shape. VJPs use Tensor ops (not raw arrays), so they can
be differentiated again (``create_graph=True``). ``saved=`` names the inputs a VJP
reads (only those whose partner needs a gradient, as PyTorch saves them), so an
in-place change to one of them is caught at backward.
"""
import math

import numpy as np

import kernels.relu
from minigrad import backend, dtypes
from minigrad.ops.base import binary, broadcast_shapes, lift
from minigrad.ops.shape import sum_to
from minigrad.tensor import Tensor, is_grad_enabled, result


def _scaled(b, alpha, op):
    """``alpha · b`` for add/sub's ``alpha=`` (PyTorch's signature; callers skip alpha = 1)."""
    if not isinstance(alpha, (int, float, np.number)):
        raise TypeError(f"{op}: alpha must be a number, got {type(alpha).__name__}")
    return mul(b, alpha) if isinstance(b, Tensor) else b * alpha


# ---- arithmetic ---------------------------------------------------------------------
def add(a, b, alpha=1):
    """a + alpha·b."""
    a, b = binary("add", a, b if alpha == 1 else _scaled(b, alpha, "add"))
    shape_a, shape_b = a.array.shape, b.array.shape
    return result(a.array + b.array, "add", (a, b),
                  (lambda g, y: sum_to(g, shape_a),
                   lambda g, y: sum_to(g, shape_b)))


def sub(a, b, alpha=1):
    """a − alpha·b."""
    a, b = binary("sub", a, b if alpha == 1 else _scaled(b, alpha, "sub"))
    shape_a, shape_b = a.array.shape, b.array.shape
    return result(a.array - b.array, "sub", (a, b),
                  (lambda g, y: sum_to(g, shape_a),
                   lambda g, y: sum_to(-g, shape_b)))


def mul(a, b):
    a, b = binary("mul", a, b)
    shape_a, shape_b = a.array.shape, b.array.shape
    return result(a.array * b.array, "mul", (a, b),
                  (lambda g, y: sum_to(g * b, shape_a),
                   lambda g, y: sum_to(g * a, shape_b)),
                  saved=(b,) * a.requires_grad + (a,) * b.requires_grad)


def div(a, b, rounding_mode=None):
    """True division, as PyTorch's ``/``: integer inputs give the default float dtype.
    y = a / b:  ∂y/∂a = 1/b,  ∂y/∂b = -a/b²

    ``rounding_mode="trunc"`` rounds the quotient toward zero, ``"floor"`` toward −∞; both
    keep an integer dtype, and their gradient is 0 (a step function), as PyTorch's."""
    if rounding_mode is not None:
        return _rounded_div(a, b, rounding_mode)
    a, b = binary("div", a, b)
    if a.dtype.kind != "f":
        a, b = binary("div", a, b, dtype=dtypes.get_default_dtype())
    with np.errstate(divide="ignore", invalid="ignore"):  # x/0 = ±inf and 0/0 = nan, silently, as torch
        data = a.array / b.array
    return result(data, "div", (a, b),
                  (lambda g, y: sum_to(g / b, a.shape),
                   lambda g, y: sum_to(-g * a / (b * b), b.shape)),
                  saved=(b,) * a.requires_grad + (a, b) * b.requires_grad)


def _rounded_div(a, b, rounding_mode):
    if rounding_mode not in ("trunc", "floor"):
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                           f"{rounding_mode!r}")
    a, b = binary("div", a, b)
    xp = backend.xp(a.array)
    if a.dtype.kind in "iub":
        if (b.array == 0).any():
            raise RuntimeError(f"div (rounding_mode={rounding_mode!r}): ZeroDivisionError in integer division")
        data = xp.floor_divide(a.array, b.array)
        if rounding_mode == "trunc":  # floor is one below trunc where the exact quotient is negative and not whole
            data = data + ((data < 0) & (data * b.array != a.array))
        data = data.astype(a.dtype, copy=False)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            data = xp.floor_divide(a.array, b.array) if rounding_mode == "floor" else xp.trunc(a.array / b.array)
    return result(data, "div", (a, b),
                  (lambda g, y: sum_to(g * 0, a.shape),
                   lambda g, y: sum_to(g * 0, b.shape)))


def pow(a, b):
    """y = a^b:  ∂y/∂a = b·a^(b−1),  ∂y/∂b = y·ln a.

    At the points where these formulas give 0·∞ or ln 0 PyTorch's convention
    (``pow_backward_self`` and ``pow_backward_exponent`` in its derivatives.yaml) is
    a gradient of 0: ∂y/∂a = 0 wherever b = 0 (x⁰ is the constant 1), and
    ∂y/∂b = 0 wherever a = 0 and b ≥ 0 (0^b is the constant 0, or 1 at b = 0)."""
    a, b = binary("pow", a, b)
    if a.dtype.kind != "f" and (b.array < 0).any():
        raise RuntimeError(f"pow: integers to negative integer powers are not allowed "
                           f"(base dtype {a.dtype}, smallest exponent {b.array.min()})")

    def grad_a(g, y):
        with np.errstate(divide="ignore", invalid="ignore"):  # the 0·∞ that where() discards
            return sum_to(where(b == 0, 0.0, g * b * a ** (b - 1)), a.shape)

    def grad_b(g, y):
        with np.errstate(divide="ignore", invalid="ignore"):
            return sum_to(where((a == 0) & (b >= 0), 0.0, g * y * log(a)), b.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        data = a.array ** b.array
    return result(data, "pow", (a, b), (grad_a, grad_b),
                  saved=(a, b), saves_output=b.requires_grad)


def neg(x):
    return result(-x.array, "neg", (x,), (lambda g, y: -g,))


def square(x):
    return mul(x, x)


# ---- functions of one variable --------------------------------------------------------
def _floating(x, op):
    """Functions like exp return floats for integer input, as PyTorch's do."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    if x.dtype.kind != "f":
        from minigrad.ops.shape import astype
        return astype(x, dtypes.get_default_dtype())
    return x


def exp(x):
    x = _floating(x, "exp")
    return result(backend.xp(x.array).exp(x.array), "exp", (x,), (lambda g, y: g * y,), saves_output=True)


def log(x):
    x = _floating(x, "log")
    with np.errstate(divide="ignore", invalid="ignore"):  # log 0 = −inf and log(−1) = nan, as torch
        data = backend.xp(x.array).log(x.array)
    return result(data, "log", (x,), (lambda g, y: g / x,), saved=(x,))


def sqrt(x):
    # ∂√x/∂x = 1 / (2√x)
    x = _floating(x, "sqrt")
    with np.errstate(invalid="ignore"):
        data = backend.xp(x.array).sqrt(x.array)
    return result(data, "sqrt", (x,), (lambda g, y: g / (2 * y),), saves_output=True)


def tanh(x):
    # ∂tanh(x)/∂x = 1 − tanh²(x)
    x = _floating(x, "tanh")
    return result(backend.xp(x.array).tanh(x.array), "tanh", (x,), (lambda g, y: g * (1 - y * y),),
                  saves_output=True)


def sigmoid(x):
    # σ(x) = ½(1 + tanh(x/2)): the same function, with no overflow in exp(−x) for large |x|.
    # ∂σ/∂x = σ(1 − σ)
    x = _floating(x, "sigmoid")
    data = 0.5 * (1 + backend.xp(x.array).tanh(0.5 * x.array))
    return result(data.astype(x.dtype, copy=False), "sigmoid", (x,), (lambda g, y: g * y * (1 - y),),
                  saves_output=True)


def sin(x):
    x = _floating(x, "sin")
    return result(backend.xp(x.array).sin(x.array), "sin", (x,), (lambda g, y: g * cos(x),), saved=(x,))


def cos(x):
    x = _floating(x, "cos")
    return result(backend.xp(x.array).cos(x.array), "cos", (x,), (lambda g, y: -g * sin(x),), saved=(x,))


def log1p(x):
    """log(1 + x), accurate for tiny x (NumPy's log1p); ∂/∂x = 1/(1 + x)."""
    x = _floating(x, "log1p")
    with np.errstate(divide="ignore", invalid="ignore"):
        data = backend.xp(x.array).log1p(x.array)
    return result(data, "log1p", (x,), (lambda g, y: g / (1 + x),), saved=(x,))


def expm1(x):
    """exp(x) − 1, accurate for tiny x; ∂/∂x = exp(x) = y + 1."""
    x = _floating(x, "expm1")
    return result(backend.xp(x.array).expm1(x.array), "expm1", (x,), (lambda g, y: g * (y + 1),), saves_output=True)


def reciprocal(x):
    return div(1.0, _floating(x, "reciprocal"))


def rsqrt(x):
    return div(1.0, sqrt(x))


def _step(name, function):
    """A piecewise-constant function (floor, round, sign, ...): its gradient is 0 wherever
    it exists, which is what PyTorch returns everywhere."""
    def op(x):
        data = getattr(backend.xp(x.array), function)(x.array)
        return result(data, name, (x,), (lambda g, y: g * 0,))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise {name} (its gradient is 0, as in PyTorch)."
    return op


floor = _step("floor", "floor")
ceil = _step("ceil", "ceil")
trunc = _step("trunc", "trunc")
sign = _step("sign", "sign")
round = _step("round", "round")  # halves to even, as torch.round and NumPy


def floor_divide(a, b):
    """``a // b``, rounding toward −∞ (PyTorch's ``//``); no gradient, as floor has none."""
    a, b = binary("floor_divide", a, b)
    if a.dtype.kind in "iu" and (b.array == 0).any():
        raise RuntimeError("floor_divide: integer division by zero")
    return Tensor._wrap(backend.xp(a.array).floor_divide(a.array, b.array))


def remainder(a, b):
    """``a % b`` with the sign of b (PyTorch's and Python's ``%``): a − b·⌊a/b⌋.
    Gradients: 1 for a, −⌊a/b⌋ for b."""
    a, b = binary("remainder", a, b)
    if a.dtype.kind in "iu" and (b.array == 0).any():
        raise RuntimeError("remainder: integer division by zero")
    quotient = Tensor._wrap(backend.xp(a.array).floor_divide(a.array, b.array))
    return result(backend.xp(a.array).remainder(a.array, b.array), "remainder", (a, b),
                  (lambda g, y: sum_to(g, a.shape),
                   lambda g, y: sum_to(-g * quotient, b.shape)))


def relu(x, inplace=False):
    # The forward is the kernel (kernels.relu). The mask [y > 0] is a constant, so the
    # VJP g·mask is linear in g and the second derivative is 0 almost everywhere. For a
    # plain backward the kernel applies the mask to the raw arrays; under
    # create_graph=True (recording on inside the VJP) it is composed of Tensor ops
    # instead, so relu stays differentiable to any order.
    if inplace:
        from minigrad.ops import inplace as inplace_ops
        return inplace_ops.update(x, "relu_", relu, check_cast=False)
    if x.dtype.kind != "f":
        return where(x > 0, x, 0)
    y = kernels.relu.forward(x.array)

    def vjp(g, out):
        if is_grad_enabled():
            return g * Tensor._wrap((y > 0).astype(x.dtype))
        return Tensor._wrap(kernels.relu.backward(g.array, y))
    return result(y, "relu", (x,), (vjp,), saves_output=True)


def abs(x):
    sign = Tensor._wrap(backend.xp(x.array).sign(x.array))
    return result(backend.xp(x.array).abs(x.array), "abs", (x,), (lambda g, y: g * sign,))


def clamp(x, min=None, max=None):
    """Clamp to [min, max] (numbers or tensors); the gradient passes only where x was inside,
    bounds included, as in PyTorch. A float bound on an integer tensor gives floats."""
    if min is None and max is None:
        raise RuntimeError("clamp: at least one of min or max must not be None")
    bounds = [v for v in (min, max) if v is not None]
    if any(isinstance(v, Tensor) for v in bounds):
        # tensor bounds (broadcast): torch's order, max wins where min > max; each bound gets
        # the gradient where it was picked, x where it lies inside [min, max]
        y = x if min is None else where(lt(x, min), min, x)
        return y if max is None else where(gt(y, max), max, y)
    dtype = dtypes.result_type(x, *bounds)
    if dtype != x.dtype:
        from minigrad.ops.shape import astype
        x = astype(x, dtype)
    low = -np.inf if min is None else min
    high = np.inf if max is None else max
    inside = Tensor._wrap(((x.array >= low) & (x.array <= high)).astype(x.dtype))
    data = backend.xp(x.array).minimum(backend.xp(x.array).maximum(x.array, low), high)
    return result(data.astype(x.dtype, copy=False), "clamp", (x,), (lambda g, y: g * inside,))


clip = clamp


def maximum(a, b):
    """Elementwise max. Where a = b the gradient is split in half between them, as
    PyTorch's (its derivatives.yaml: ``grad / 2`` on ties)."""
    return _pick("maximum", a, b, "greater")


def minimum(a, b):
    """Elementwise min; ties split the gradient as ``maximum`` does."""
    return _pick("minimum", a, b, "less")


def _pick(name, a, b, wins):
    a, b = binary(name, a, b)
    xp = backend.xp(a.array)
    a_wins = getattr(xp, wins)(a.array, b.array)
    share = xp.where(a_wins, 1.0, xp.where(a.array == b.array, 0.5, 0.0)).astype(a.dtype)
    share_a = Tensor._wrap(share)
    share_b = Tensor._wrap((1 - share).astype(a.dtype))
    data = xp.where(a_wins, a.array, b.array)
    # nan wins, as in PyTorch: where either input is nan the output is nan
    data = xp.where(xp.isnan(a.array), a.array, data) if a.dtype.kind == "f" else data
    return result(data, name, (a, b),
                  (lambda g, y: sum_to(g * share_a, a.shape),
                   lambda g, y: sum_to(g * share_b, b.shape)))


def where(condition, a, b):
    """Pick ``a`` where ``condition`` holds, else ``b``; each gets the gradient of its
    picks. ``a`` and ``b`` may be Python numbers (``where(cond, 4, 2)``)."""
    cond = condition.array if isinstance(condition, Tensor) else backend.host_array(condition)
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):  # two numbers: a 0-d tensor where cond is
        a = Tensor._wrap(backend.xp(cond).full((), a, dtype=dtypes.result_type(a, b)))
    a, b = binary("where", a, b)
    cond = backend.xp(a.array, b.array).asarray(cond).astype(bool)
    broadcast_shapes("where", cond.shape, a.shape, b.shape)
    picked = Tensor._wrap(cond.astype(a.dtype))
    data = backend.xp(a.array, b.array).where(cond, a.array, b.array)
    return result(data, "where", (a, b),
                  (lambda g, y: sum_to(g * picked, a.shape),
                   lambda g, y: sum_to(g * (1 - picked), b.shape)))


def _triangle(x, diagonal, keep, op):
    if x.ndim < 2:
        raise RuntimeError(f"{op}: needs a tensor with at least 2 dims, got shape {x.shape}")
    mask = keep(backend.xp(x.array).ones(x.shape[-2:], dtype=bool), diagonal)
    return where(Tensor._wrap(mask), x, lift(0, x, dtype=x.dtype))  # a bool x stays bool


def tril(x, diagonal=0):
    """The lower triangle of the last two dims (the rest zeroed), as torch.tril."""
    return _triangle(x, diagonal, backend.xp(x.array).tril, "tril")


def triu(x, diagonal=0):
    """The upper triangle of the last two dims, as torch.triu."""
    return _triangle(x, diagonal, backend.xp(x.array).triu, "triu")


def masked_fill(x, mask, value):
    """``x`` with ``value`` wherever ``mask`` holds (PyTorch's ``masked_fill``)."""
    return where(mask, lift(value, x, dtype=x.dtype, scalar=True), x)


# ---- comparisons and logic: boolean results, no gradient ------------------------------------
def _compare(name, ufunc):
    def compare(a, b):
        a, b = binary(name, a, b)
        # the array module's own ufunc: NumPy's would ask CuPy for a host copy
        return Tensor._wrap(getattr(backend.xp(a.array), ufunc.__name__)(a.array, b.array))
    compare.__name__ = compare.__qualname__ = name
    compare.__doc__ = f"Elementwise ``{name}`` (a bool tensor, no gradient)."
    return compare


lt = _compare("lt", np.less)
le = _compare("le", np.less_equal)
gt = _compare("gt", np.greater)
ge = _compare("ge", np.greater_equal)
eq = _compare("eq", np.equal)
ne = _compare("ne", np.not_equal)

def _test(name):
    def test(x):
        return Tensor._wrap(getattr(backend.xp(x.array), name)(x.array))
    test.__name__ = test.__qualname__ = name
    test.__doc__ = f"Elementwise {name} (a bool tensor)."
    return test


isnan = _test("isnan")
isinf = _test("isinf")
isfinite = _test("isfinite")


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|a − b| ≤ atol + rtol·|b| elementwise (PyTorch's defaults)."""
    a, b = binary("isclose", a, b)
    return Tensor._wrap(backend.xp(a.array).isclose(a.array, b.array, rtol=rtol, atol=atol, equal_nan=equal_nan))


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True when every element is close (a Python bool, as torch.allclose)."""
    return bool(isclose(a, b, rtol, atol, equal_nan).array.all())


def equal(a, b):
    """True when both have the same shape and elements (a Python bool, as torch.equal)."""
    return a.shape == b.shape and bool((a.array == b.array).all())


def logical(name, a, b):
    """``&``, ``|``, ``^`` on bool or integer tensors (bitwise, as in PyTorch)."""
    return {"and": bitwise_and, "or": bitwise_or, "xor": bitwise_xor}[name](a, b)


def logical_not(x):
    """True where x is zero (a bool tensor), as torch.logical_not; ``~`` is ``bitwise_not``."""
    return Tensor._wrap(x.array == 0)


def bitwise_not(x):
    """``~x``: not on a bool tensor, bitwise not on integers (torch.bitwise_not)."""
    if x.dtype.kind == "f":
        raise NotImplementedError(f'"bitwise_not" not implemented for {x.dtype} tensors: ~ needs a bool or '
                                  f"integer tensor")
    return Tensor._wrap(~x.array)


def invert(x):
    """The ``~`` operator: ``bitwise_not``, but on a float tensor Python's TypeError, as torch
    raises for ``~`` (while ``torch.bitwise_not`` raises NotImplementedError)."""
    if x.dtype.kind == "f":
        raise TypeError(f"~ (operator.invert) is only implemented on integer and Boolean-type tensors, got "
                        f"{x.dtype} (for a mask use ~(x != 0), for a negation -x)")
    return bitwise_not(x)


# ---- more functions of one variable, each with its derivative -------------------------------
def _unary(name, forward, derivative, reads="x"):
    """An elementwise op y = f(x) whose VJP is g·f'(x); ``forward`` maps the array module
    and the array to f(x), ``derivative`` maps the tensors x and y to f'(x) (Tensor ops,
    so the op can be differentiated again). ``reads``: which of x and y f' needs, the one
    saved (and version-checked) for backward, as torch saves it."""
    def op(x):
        x = _floating(x, name)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # nan/inf as torch
            data = forward(backend.xp(x.array), x.array)

        def vjp(g, y):
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                return g * derivative(x, y)
        return result(data.astype(x.dtype, copy=False), name, (x,), (vjp,), saved=(x,) if reads == "x" else (),
                      saves_output=reads == "y")
    op.__name__ = op.__qualname__ = name
    return op


def c_function(special_name, f):
    """``f`` (a function of one float from Python's ``math``, the C library's) elementwise on a
    CPU array, and ``cupyx.scipy.special``'s ``special_name`` on a GPU array: NumPy has no ufunc
    for erf and its kin. Returns ``apply(xp, array)`` for ``_unary``."""
    vectorised = np.frompyfunc(f, 1, 1)

    def apply(xp, a):
        if backend.is_cupy(a):
            import cupyx.scipy.special
            return getattr(cupyx.scipy.special, special_name)(a)
        return np.asarray(vectorised(a), dtype=a.dtype)  # asarray: a 0-d input gives a Python float
    return apply


_LN2 = math.log(2.0)
tan = _unary("tan", lambda xp, a: xp.tan(a), lambda x, y: 1 + y * y, "y")                      # 1 + tan²x
asin = _unary("asin", lambda xp, a: xp.arcsin(a), lambda x, y: rsqrt(1 - x * x))             # 1/√(1−x²)
acos = _unary("acos", lambda xp, a: xp.arccos(a), lambda x, y: -rsqrt(1 - x * x))            # −1/√(1−x²)
atan = _unary("atan", lambda xp, a: xp.arctan(a), lambda x, y: 1 / (1 + x * x))              # 1/(1+x²)
sinh = _unary("sinh", lambda xp, a: xp.sinh(a), lambda x, y: cosh(x))
cosh = _unary("cosh", lambda xp, a: xp.cosh(a), lambda x, y: sinh(x))
asinh = _unary("asinh", lambda xp, a: xp.arcsinh(a), lambda x, y: rsqrt(x * x + 1))          # 1/√(x²+1)
acosh = _unary("acosh", lambda xp, a: xp.arccosh(a), lambda x, y: rsqrt(x * x - 1))          # 1/√(x²−1)
atanh = _unary("atanh", lambda xp, a: xp.arctanh(a), lambda x, y: 1 / (1 - x * x))           # 1/(1−x²)
log2 = _unary("log2", lambda xp, a: xp.log2(a), lambda x, y: 1 / (x * _LN2))
exp2 = _unary("exp2", lambda xp, a: xp.exp2(a), lambda x, y: y * _LN2, "y")
erf = _unary("erf", c_function("erf", math.erf),
             lambda x, y: (2 / math.sqrt(math.pi)) * exp(-x * x))  # 2/√π·e^(−x²)
arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh  # torch's aliases


# ---- more functions of two variables --------------------------------------------------------
def atan2(a, b):
    """The angle of the point (b, a), in (−π, π]:  ∂/∂a = b/(a²+b²),  ∂/∂b = −a/(a²+b²)."""
    a, b = binary("atan2", a, b)
    if a.dtype.kind != "f":
        a, b = binary("atan2", a, b, dtype=dtypes.get_default_dtype())

    def grad(sign, num, shape):
        return lambda g, y: sum_to(sign * g * num / (a * a + b * b), shape)
    return result(backend.xp(a.array).arctan2(a.array, b.array), "atan2", (a, b),
                  (grad(1, b, a.shape), grad(-1, a, b.shape)), saved=(a, b))


arctan2 = atan2


def copysign(a, b):
    """|a| with the sign of b (signed zeros count, as torch.copysign). The gradient reaches
    a only, as ±1 (0 where a = 0, PyTorch's convention); b's is 0."""
    a, b = binary("copysign", a, b)
    if a.dtype.kind != "f":
        a, b = binary("copysign", a, b, dtype=dtypes.get_default_dtype())
    xp = backend.xp(a.array)
    data = xp.copysign(a.array, b.array)
    flip_sign = Tensor._wrap(xp.where(a.array == 0, 0, xp.sign(a.array) * xp.sign(data)).astype(a.dtype))
    return result(data, "copysign", (a, b),
                  (lambda g, y: sum_to(g * flip_sign, a.shape), lambda g, y: sum_to(g * 0, b.shape)))


def logaddexp(a, b):
    """log(eᵃ + eᵇ) without overflow: m + log(e^(a−m) + e^(b−m)) with m = max(a, b).
    ∂/∂a = e^(a−y),  ∂/∂b = e^(b−y)."""
    a, b = binary("logaddexp", a, b)
    if a.dtype.kind != "f":
        a, b = binary("logaddexp", a, b, dtype=dtypes.get_default_dtype())
    return result(backend.xp(a.array).logaddexp(a.array, b.array), "logaddexp", (a, b),
                  (lambda g, y: sum_to(g * exp(a - y), a.shape),
                   lambda g, y: sum_to(g * exp(b - y), b.shape)), saved=(a, b), saves_output=True)


def lerp(start, end, weight):
    """start + weight·(end − start), as torch.lerp; ``weight`` a number or a tensor."""
    return add(start, mul(weight, sub(end, start)))


def hypot(a, b):
    """√(a² + b²) elementwise."""
    return sqrt(add(mul(a, a), mul(b, b)))


def fmod(a, b):
    """C's remainder: a − b·trunc(a/b), with the sign of a (torch.fmod; ``%`` is
    ``remainder``). Gradients: 1 for a, −trunc(a/b) for b."""
    a, b = binary("fmod", a, b)
    xp = backend.xp(a.array)
    if a.dtype.kind in "iu" and (b.array == 0).any():
        raise RuntimeError("fmod: integer division by zero")
    with np.errstate(divide="ignore", invalid="ignore"):
        quotient = Tensor._wrap(xp.trunc(a.array / b.array).astype(a.dtype))
        data = xp.fmod(a.array, b.array)
    return result(data, "fmod", (a, b),
                  (lambda g, y: sum_to(g, a.shape), lambda g, y: sum_to(-g * quotient, b.shape)))


# ---- bitwise and logical ops: no gradient ---------------------------------------------------
def _bitwise(name, ufunc):
    def op(a, b):
        a, b = binary(name, a, b)
        if a.dtype.kind == "f":
            raise NotImplementedError(f'"{name}" not implemented for {a.dtype} tensors: it needs bool or '
                                      f"integer tensors")
        return Tensor._wrap(getattr(backend.xp(a.array), ufunc)(a.array, b.array))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise ``{name}`` of bool or integer tensors, as torch.{name}."
    return op


bitwise_and = _bitwise("bitwise_and", "bitwise_and")
bitwise_or = _bitwise("bitwise_or", "bitwise_or")
bitwise_xor = _bitwise("bitwise_xor", "bitwise_xor")
bitwise_left_shift = _bitwise("bitwise_left_shift", "left_shift")
bitwise_right_shift = _bitwise("bitwise_right_shift", "right_shift")


def _truth(x):
    return x if isinstance(x, Tensor) and x.dtype.kind == "b" else ne(x, 0)


def logical_and(a, b):
    """True where both are nonzero (a bool tensor), as torch.logical_and."""
    return bitwise_and(_truth(a), _truth(b))


def logical_or(a, b):
    return bitwise_or(_truth(a), _truth(b))


def logical_xor(a, b):
    return bitwise_xor(_truth(a), _truth(b))


# ---- small compositions torch names ---------------------------------------------------------
def xlogy(a, b):
    """a·log(b), 0 where a = 0 (even where b = 0), as torch.xlogy."""
    a, b = binary("xlogy", a, b)
    if a.dtype.kind != "f":
        a, b = binary("xlogy", a, b, dtype=dtypes.get_default_dtype())
    return where(eq(a, 0) & ~isnan(b), 0.0, a * log(b))


def frac(x):
    """x − trunc(x), the fractional part with x's sign."""
    return x - trunc(x)


def deg2rad(x):
    return _floating(x, "deg2rad") * (math.pi / 180)


def rad2deg(x):
    return _floating(x, "rad2deg") * (180 / math.pi)


def logit(x, eps=None):
    """log(p / (1 − p)), p = x clamped to [eps, 1 − eps] when eps is given."""
    p = _floating(x, "logit") if eps is None else clamp(_floating(x, "logit"), eps, 1 - eps)
    return log(p / (1 - p))


def signbit(x):
    """True where the sign bit is set (−0.0 included), a bool tensor."""
    return Tensor._wrap(backend.xp(x.array).signbit(x.array))


def float_power(a, b):
    """a ** b computed in float64, as torch.float_power."""
    a = a.to(dtype=np.float64) if isinstance(a, Tensor) else float(a)
    b = b.to(dtype=np.float64) if isinstance(b, Tensor) else float(b)
    return pow(a, b)


def addcmul(x, t1, t2, value=1):
    """x + value·t1·t2."""
    return add(x, mul(t1, t2) * value)


def addcdiv(x, t1, t2, value=1):
    """x + value·t1/t2."""
    return add(x, div(t1, t2) * value)


def clamp_min(x, min):
    return clamp(x, min=min)


def clamp_max(x, max):
    return clamp(x, max=max)


def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    """x with nan, +inf and −inf replaced (by 0 and the dtype's largest and smallest finite
    values unless given), as torch.nan_to_num; the gradient passes where x was finite."""
    if x.dtype.kind != "f":
        return x * 1
    info = np.finfo(x.dtype)
    xp = backend.xp(x.array)
    y = where(Tensor._wrap(xp.isnan(x.array)), lift(nan, x), x)
    y = where(Tensor._wrap(xp.isposinf(x.array)), lift(info.max if posinf is None else posinf, x), y)
    return where(Tensor._wrap(xp.isneginf(x.array)), lift(info.min if neginf is None else neginf, x), y)
