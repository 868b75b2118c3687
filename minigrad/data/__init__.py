"""Data for minigrad: datasets as arrays, a seedable resumable DataLoader, batch
transforms, readers for MNIST-style IDX and CIFAR-10 files, and two datasets shipped
inside the package (subsets of MNIST and Fashion-MNIST; see PROVENANCE.md).

    train, test = load("mnist")                        # float32 (N, 1, 28, 28) in [0, 1]
    loader = DataLoader(train, batch_size=128, shuffle=True, seed=0)
    for x, y in loader: ...                            # Tensors: x float32, y int64
"""
from minigrad.data import transforms
from minigrad.data.cifar import UnsafePickleError, read_cifar10
from minigrad.data.collate import default_collate
from minigrad.data.datasets import (DATASETS, ArrayDataset, Dataset, Subset, TensorDataset, load, random_split,
                                    stratified_indices)
from minigrad.data.idx import read_idx, read_mnist_folder
from minigrad.data.loader import DataLoader
from minigrad.data.sampler import DistributedSampler
from minigrad.data.transforms import (Compose, Lambda, Normalize, RandomCrop, RandomHorizontalFlip, ToTensor,
                                      channel_stats)

__all__ = ["ArrayDataset", "Compose", "DATASETS", "DataLoader", "Dataset", "DistributedSampler", "Lambda", "Normalize",
           "RandomCrop", "RandomHorizontalFlip", "Subset", "TensorDataset", "ToTensor", "UnsafePickleError",
           "channel_stats", "default_collate", "load", "random_split", "read_cifar10", "read_idx",
           "read_mnist_folder", "stratified_indices", "transforms"]
