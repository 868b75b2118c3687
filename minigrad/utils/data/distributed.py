"""``torch.utils.data.distributed``'s path: ``from minigrad.utils.data.distributed import DistributedSampler``."""
from minigrad.data import DistributedSampler

__all__ = ["DistributedSampler"]
