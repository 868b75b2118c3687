"""Check analytic gradients against finite differences.

For a function f of tensors, pick a fixed random v and look at the scalar
L(x) = Σ v ⊙ f(x); its gradient is exactly the VJP vᵀ·∂f/∂x that backward computes.
Compare it with central differences, (L(x + εe) − L(x − εe)) / 2ε, whose error is
O(ε²) (one-sided differences are only O(ε)). Do it in float64: in float32 the
rounding error of L, about 1e-7·|L|/ε, swamps the difference for any useful ε.

Two ways to perturb:
* element-wise: e runs over every element of every input — exact, but one pair of
  evaluations per element, so only for small inputs;
* directional: e is a random direction u, and ⟨∇L, u⟩ must equal the numerical
  derivative along u — one pair of evaluations per direction, for large inputs.
"""
import numpy as np

from minigrad import backend
from minigrad.autograd import grad
from minigrad.tensor import Tensor, enable_grad, no_grad


class GradcheckError(AssertionError):
    """Raised when an analytic gradient disagrees with finite differences."""


def _float64_copies(inputs):
    if isinstance(inputs, Tensor):
        inputs = [inputs]
    copies = []
    for i, x in enumerate(inputs):
        if not isinstance(x, Tensor):
            raise TypeError(f"gradcheck: input {i} is a {type(x).__name__}, expected a Tensor")
        data = x.array.astype(np.float64) if x.dtype.kind == "f" else x.array
        copies.append(Tensor(data, requires_grad=x.requires_grad))
    if not any(x.requires_grad for x in copies):
        raise ValueError("gradcheck: no input has requires_grad=True, so there is nothing to check")
    return copies


def _projected_loss(fn, xs, rng):
    """L(x) = Σ v ⊙ fn(x) with v drawn once; returns (L as a function, v)."""
    out = fn(*xs)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
    v = Tensor(rng.standard_normal(out.shape), dtype=np.float64, device=out.device)

    def loss(*args):
        return (fn(*args) * v).sum()
    return loss


def _report(i, where, analytic, numeric, atol, rtol):
    raise GradcheckError(
        f"gradcheck: input {i}, {where}: analytic {analytic:.8g} vs numeric {numeric:.8g} "
        f"(gradient of L = Σ v⊙fn(x) for a fixed random v) "
        f"(difference {abs(analytic - numeric):.3g} > atol {atol:g} + rtol {rtol:g}·|numeric|)")


def _close(a, n, atol, rtol):
    return abs(a - n) <= atol + rtol * abs(n)


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, mode="auto", max_elementwise=1000,
              directions=3, seed=0):
    """Compare ``fn``'s gradients with central differences, in float64.

    fn: takes the inputs (Tensors) and returns a Tensor of any shape.
    inputs: a Tensor or a list of Tensors; those with ``requires_grad`` are checked
        (float copies are made in float64, so the originals are not touched).
    mode: "elementwise", "directional", or "auto" (element-wise for inputs of at
        most ``max_elementwise`` elements, directional above).
    Returns True, or raises ``GradcheckError`` naming the input, the element (or
    direction) and both values.
    """
    if mode not in ("auto", "elementwise", "directional"):
        raise ValueError(f"gradcheck: mode must be 'auto', 'elementwise' or 'directional', got {mode!r}")
    rng = np.random.default_rng(seed)
    xs = _float64_copies(inputs)
    loss = _projected_loss(fn, xs, rng)
    checked = [i for i, x in enumerate(xs) if x.requires_grad]
    total = loss(*xs)
    # An output that does not depend on the inputs through the graph has zero gradient.
    analytic = grad(total, [xs[i] for i in checked], allow_unused=True) if total.requires_grad \
        else [None] * len(checked)

    def numeric_along(x, step):
        """(L(x + step) − L(x − step)) / 2ε, perturbing x in place and restoring it."""
        saved = x.array.copy()
        with no_grad():
            x.array = saved + step
            plus = loss(*xs).item()
            x.array = saved - step
            minus = loss(*xs).item()
        x.array = saved
        return (plus - minus) / (2 * eps)

    for i, g in zip(checked, analytic):
        x = xs[i]
        g = np.zeros(x.shape) if g is None else backend.to_numpy(g.array)
        array_module = backend.xp(x.array)
        if mode == "elementwise" or (mode == "auto" and x.numel() <= max_elementwise):
            numeric = np.zeros(x.numel())
            for flat in range(x.numel()):
                step = array_module.zeros(x.shape)
                step.reshape(-1)[flat] = eps
                numeric[flat] = numeric_along(x, step)
            # report the worst element: the one furthest outside its tolerance
            excess = np.abs(g.reshape(-1) - numeric) - (atol + rtol * np.abs(numeric))
            excess[np.isnan(excess)] = np.inf  # a nan on either side is a failure, never a pass
            worst = int(np.argmax(excess)) if x.numel() else 0
            if x.numel() and excess[worst] > 0:
                where = f"element {tuple(int(k) for k in np.unravel_index(worst, x.shape))} of shape {x.shape}"
                _report(i, where, g.reshape(-1)[worst], numeric[worst], atol, rtol)
        else:
            for k in range(directions):
                u = rng.standard_normal(x.shape)
                u /= np.linalg.norm(u)
                numeric = numeric_along(x, eps * array_module.asarray(u))
                projected = float((g * u).sum())
                if not _close(projected, numeric, atol, rtol):
                    _report(i, f"random direction {k} (shape {x.shape})", projected, numeric, atol, rtol)
    return True


def gradgradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, mode="auto", seed=0):
    """Check second derivatives: gradcheck the function x ↦ ⟨∇L(x), w⟩ (a
    Hessian-vector product), whose own gradient needs the VJPs to be differentiable."""
    rng = np.random.default_rng(seed + 1)
    xs = _float64_copies(inputs)
    loss = _projected_loss(fn, xs, rng)
    ws = [Tensor(rng.standard_normal(x.shape), dtype=np.float64, device=x.device) for x in xs]

    def directional_grad(*args):
        wanted = [i for i, a in enumerate(args) if a.requires_grad]
        with enable_grad():  # gradcheck evaluates this under no_grad, but it needs a graph inside
            grads = grad(loss(*args), [args[i] for i in wanted], create_graph=True, allow_unused=True)
        total = Tensor(np.zeros(()), device=args[0].device)
        for i, g in zip(wanted, grads):
            if g is not None:
                total = total + (g * ws[i]).sum()
        return total
    return gradcheck(directional_grad, xs, eps=eps, atol=atol, rtol=rtol, mode=mode, seed=seed)
