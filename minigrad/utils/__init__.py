"""``torch.utils`` and ``torchvision.utils``'s names that training scripts reach for:

    from minigrad.utils.data import DataLoader, Dataset, TensorDataset, random_split
    minigrad.utils.make_grid(images, nrow=8)        # torchvision.utils.make_grid
    minigrad.utils.save_image(images, "grid.png")   # torchvision.utils.save_image

``minigrad.utils.data`` holds the very objects of ``minigrad.data`` (one DataLoader,
reachable by both paths), so a script written for either path works.
"""
from minigrad.utils import data
from minigrad.utils.image import make_grid, save_image

__all__ = ["data", "make_grid", "save_image"]
