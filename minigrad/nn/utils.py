"""``torch.nn.utils``'s names for gradient clipping, so ``nn.utils.clip_grad_norm_(...)``
works as in PyTorch. The functions live with the optimizers, in ``minigrad/optim/clip.py``."""
from minigrad.optim.clip import clip_grad_norm_, clip_grad_value_

__all__ = ["clip_grad_norm_", "clip_grad_value_"]
