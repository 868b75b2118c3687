"""``torch.special``'s names for the special functions minigrad has (the ops themselves are
``minigrad.erf``, ``minigrad.erfc``, … in ``minigrad.ops``)."""
from minigrad import ops as _ops
from minigrad.ops.base import torch_function as _torch_function

__all__ = ["digamma", "erf", "erfc", "erfinv", "expit", "gammaln", "logit", "psi"]

erf, erfc, erfinv, digamma = (_torch_function(getattr(_ops, name), name)
                              for name in ("erf", "erfc", "erfinv", "digamma"))
gammaln = _torch_function(_ops.lgamma, "gammaln")   # torch.special.gammaln is torch.lgamma
psi = digamma                                       # torch.special.psi is torch.special.digamma
expit = _torch_function(_ops.sigmoid, "expit")      # the logistic function
logit = _torch_function(_ops.logit, "logit")
