"""What describes an MNIST-like data set: its four IDX files and where they live."""
from dataclasses import dataclass, field

import numpy as np

# The book's names for the four arrays, in the order the loaders return them.
KEYS = ("x_train", "t_train", "x_test", "t_test")


@dataclass(frozen=True)
class IdxFile:
    """One IDX file of a data set.

    Attributes
    ----------
    filename : str
        Name at the mirrors, e.g. ``"train-images-idx3-ubyte.gz"``.
    shape : tuple of int
        Declared dimensions, e.g. ``(60000, 28, 28)``.
    sha256 : str
        SHA-256 (hex) of the decompressed IDX bytes, header included.
    """

    filename: str
    shape: tuple
    sha256: str
    dtype: np.dtype = field(default=np.dtype(np.uint8))

    @property
    def idx_length(self):
        """Length in bytes of the decompressed file."""
        count = 1
        for n in self.shape:
            count *= n
        return 4 + 4 * len(self.shape) + count * self.dtype.itemsize


@dataclass(frozen=True)
class DatasetSpec:
    """An MNIST-like data set: images and labels, split into train and test.

    Attributes
    ----------
    name : str
        File-system friendly name; the cache file is ``<name>.npz``.
    title : str
        Name shown in messages, e.g. ``"MNIST"``.
    files : dict of str to IdxFile
        The IDX file behind each of ``KEYS`` (x_train, t_train, x_test, t_test).
    mirror_env : str
        Environment variable naming a mirror that replaces the defaults.
    public_mirrors : tuple of str
        Default download locations, tried in turn.
    local_folders : tuple of str
        Folders tried before the public mirrors when they exist (e.g. a
        system package's data folder).
    sample : str or None
        File name in ``cnet/dataset/data`` of the bundled subset, if any.
    function : str
        Name of the public loader, for messages (``"load_mnist"``).
    num_classes : int
        Labels are ``0 .. num_classes - 1``; one-hot rows have this length.
    """

    name: str
    title: str
    files: dict
    mirror_env: str
    public_mirrors: tuple = ()
    local_folders: tuple = ()
    sample: str = None
    function: str = "load_dataset"
    num_classes: int = 10

    @property
    def image_shape(self):
        """``(rows, cols)`` of one image."""
        return tuple(self.files["x_train"].shape[1:])
