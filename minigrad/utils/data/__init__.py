"""``torch.utils.data``'s path to minigrad's data loading: the same objects as
``minigrad.data`` (``minigrad.utils.data.DataLoader is minigrad.data.DataLoader``)."""
from minigrad.data import (ArrayDataset, DataLoader, Dataset, DistributedSampler, Subset, TensorDataset,
                           default_collate, random_split)
from minigrad.utils.data import distributed

__all__ = ["ArrayDataset", "DataLoader", "Dataset", "DistributedSampler", "Subset", "TensorDataset",
           "default_collate", "distributed", "random_split"]
