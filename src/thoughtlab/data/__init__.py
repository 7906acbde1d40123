"""Datasets: bundled real image sets (:func:`load_dataset`) and standard file formats."""

from thoughtlab.data.datasets import Split, load_dataset
from thoughtlab.data.formats import load_cifar_batch, load_image_folder, load_mnist_idx

__all__ = ["Split", "load_dataset", "load_mnist_idx", "load_image_folder", "load_cifar_batch"]
