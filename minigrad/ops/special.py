"""Special functions, as torch.special's: ``erfc``, ``erfinv``, ``lgamma``, ``digamma``.
Integer inputs give the default float dtype, as torch's do.

erfc and lgamma are the C library's (Python's ``math``, elementwise) on the CPU and
``cupyx.scipy.special``'s on a GPU. digamma and its derivative trigamma are written in array
operations only, so both devices run the same formulas: the recurrence ψ(x) = ψ(x + 1) − 1/x
lifts x to 6 or more, where the asymptotic series is accurate to double precision, and the
reflection formula covers x < 0 (Abramowitz & Stegun 6.3.5, 6.3.18, 6.3.7; 6.4.6, 6.4.12,
6.4.7 for trigamma). erfinv starts from Giles' single-precision polynomial ("Approximating
the erfinv function", GPU Computing Gems, 2011) and takes three Newton steps (on erf, or on
log erfc in the tail), which bring it to double precision.
"""
import math

import numpy as np

from minigrad import backend
from minigrad.ops.elementwise import _floating, _unary, c_function, exp
from minigrad.tensor import Tensor, result


def _lgamma_number(v):
    """log|Γ(v)|, and inf at the poles (0, −1, −2, …) where ``math.lgamma`` raises, as torch."""
    try:
        return math.lgamma(v)
    except ValueError:
        return math.inf


def _lifted(xp, x, steps_sum):
    """(z, Σ) with z = x + n ≥ 6 for the smallest n ≥ 0, and Σ = Σ_{k<n} steps_sum(x + k):
    the recurrence's terms, added as x is lifted (six steps suffice from x ≥ 0)."""
    z, total = x, xp.zeros_like(x)
    for _ in range(6):
        small = z < 6
        total = total + xp.where(small, steps_sum(xp.where(small, z, 1.0)), 0.0)
        z = xp.where(small, z + 1, z)
    return z, total


def _digamma_array(xp, a):
    """ψ(x) = d/dx log Γ(x) in float64: −inf at 0 and nan at the negative integers, as torch."""
    x = a.astype(np.float64)
    negative = x < 0
    z, lifted = _lifted(xp, xp.where(negative, 1 - x, x), lambda v: -1 / v)   # ψ(x) = ψ(x + 1) − 1/x
    w = 1 / (z * z)                                                           # A&S 6.3.18, Bernoulli terms
    series = xp.log(z) - 0.5 / z - w * (1 / 12 - w * (1 / 120 - w * (1 / 252 - w * (
        1 / 240 - w * (1 / 132 - w * (691 / 32760 - w / 12))))))
    value = series + lifted
    reflected = value - math.pi / xp.tan(math.pi * x)                         # ψ(x) = ψ(1 − x) − π cot(πx)
    pole = negative & (x == xp.floor(x))
    return xp.where(pole, xp.nan, xp.where(negative, reflected, value)).astype(a.dtype)


def _trigamma_array(xp, a):
    """ψ₁(x) = dψ/dx in float64: +inf at 0, nan at the negative integers."""
    x = a.astype(np.float64)
    negative = x < 0
    z, lifted = _lifted(xp, xp.where(negative, 1 - x, x), lambda v: 1 / (v * v))  # ψ₁(x) = ψ₁(x + 1) + 1/x²
    w = 1 / (z * z)                                                               # A&S 6.4.12
    series = 1 / z + w / 2 + (w / z) * (1 / 6 - w * (1 / 30 - w * (1 / 42 - w * (1 / 30 - w * (
        5 / 66 - w * (691 / 2730 - w * 7 / 6))))))
    value = series + lifted
    reflected = -value + (math.pi / xp.sin(math.pi * x)) ** 2   # ψ₁(1 − x) + ψ₁(x) = π²/sin²(πx)
    pole = negative & (x == xp.floor(x))
    return xp.where(pole, xp.nan, xp.where(negative, reflected, value)).astype(a.dtype)


def digamma(x):
    """ψ(x) = Γ′(x)/Γ(x), as torch.digamma (−inf at 0, nan at negative integers). Its VJP is
    g·ψ₁(x) (trigamma), computed as an array: the op is first-order."""
    x = _floating(x, "digamma")
    xp = backend.xp(x.array)
    with np.errstate(divide="ignore", invalid="ignore"):
        data = _digamma_array(xp, x.array)

    def vjp(g, y):
        with np.errstate(divide="ignore", invalid="ignore"):
            return g * Tensor._wrap(_trigamma_array(xp, x.array))
    return result(data, "digamma", (x,), (vjp,), first_order=True, saved=(x,))


_ERFINV_CENTRAL = (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
                   -0.00125372503, -0.00417768164, 0.246640727, 1.50140941)
_ERFINV_TAIL = (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
                -0.0076224613, 0.00943887047, 1.00167406, 2.83297682)
_erf_array = c_function("erf", math.erf)
_erfc_array = c_function("erfc", math.erfc)


def _horner(coefficients, w):
    p = coefficients[0]
    for c in coefficients[1:]:
        p = c + p * w
    return p


def _erfinv_array(xp, a):
    """erfinv(y): Giles' polynomial in w = −log(1 − y²) (two branches, w < 5 and above), then
    Newton steps on |y|: on erf(x) − |y| below |y| = 0.5; above, on log erfc(x) − log(1 − |y|),
    which neither cancels nor flattens in the tail, where Giles' single-precision start is
    too coarse (erfc is nearly e^(−x²), so its log is nearly quadratic: Newton converges fast).
    ±inf at ±1, nan beyond."""
    y = a.astype(np.float64)
    magnitude = xp.abs(y)
    inside = magnitude < 1
    central = magnitude < 0.5
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        w = -xp.log((1 - magnitude) * (1 + magnitude))
        start = xp.where(w < 5, _horner(_ERFINV_CENTRAL, w - 2.5),
                         _horner(_ERFINV_TAIL, xp.sqrt(xp.maximum(w, 5.0)) - 3))
        x = xp.where(inside, start * magnitude, 0.0)  # finite everywhere; the ends are set below
        log_tail = xp.log(xp.where(inside, 1 - magnitude, 1.0))
        for _ in range(3):
            slope = (2 / math.sqrt(math.pi)) * xp.exp(-x * x)           # d erf / dx
            tail = _erfc_array(xp, x)
            x = x - xp.where(central, (_erf_array(xp, x) - magnitude) / slope,
                             -(xp.log(tail) - log_tail) * tail / slope)
    x = xp.where(inside, x, xp.where(magnitude == 1, xp.inf, xp.nan))
    return (xp.sign(y) * x).astype(a.dtype)


erfc = _unary("erfc", _erfc_array, lambda x, y: (-2 / math.sqrt(math.pi)) * exp(-x * x))      # −2/√π·e^(−x²)
erfinv = _unary("erfinv", _erfinv_array, lambda x, y: (math.sqrt(math.pi) / 2) * exp(y * y), "y")  # √π/2·e^(y²)
lgamma = _unary("lgamma", c_function("gammaln", _lgamma_number), lambda x, y: digamma(x))      # d log|Γ| = ψ
