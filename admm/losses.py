"""The objectives net1 can minimise to agree with net2 (x = net1's conv3, y = net2's
conv3′ or its target; both (N, ...), N samples)."""
import minigrad.functional as F
from minigrad.tensor import Tensor


def euclidean(x, y):
    """Eq. (10.2), Caffe's EuclideanLoss: 1/(2N) Σₙ ‖xₙ − yₙ‖². Nothing in it knows the
    labels, and it is zero when both halves output the same thing: shrinking pool2 to 0
    makes conv3 = its bias on both sides, which wins (the collapse)."""
    return F.euclidean_loss(x, y)


def normalized(x, y, eps=1e-12):
    """Eq. (10.3), as we read the report's normalised loss: the Euclidean distance per sample
    divided by the two activations' energy, 1/N Σₙ ‖xₙ − yₙ‖² / (‖xₙ‖² + ‖yₙ‖² + ε).
    It is bounded (≤ 2 when xₙ and yₙ are not opposed) but its gradient grows like 1/‖x‖
    as the activations shrink, which is how it blows up."""
    axes = tuple(range(1, x.ndim))
    distance = ((x - y) ** 2).sum(axis=axes)
    energy = (x ** 2).sum(axis=axes) + (y ** 2).sum(axis=axes) + eps
    return (distance / energy).mean()


REPORT_LOSSES = {"10.2": euclidean, "10.3": normalized}


def augmented_lagrangian(x, z, lam, beta):
    """The x-part of eq. (5.5)'s augmented Lagrangian, per sample and averaged over the
    batch: 1/N Σₙ [λₙᵀ(xₙ − zₙ) + (β/2)‖xₙ − zₙ‖²]. Its gradient in xₙ is
    (λₙ + β(xₙ − zₙ))/N. lam: an array shaped like x, like one sample of x, or None (λ = 0)."""
    r = x - z
    n = x.shape[0]
    penalty = (r ** 2).sum() * (beta / (2 * n))
    if lam is None:
        return penalty
    return penalty + (r * Tensor._wrap(lam)).sum() / n
