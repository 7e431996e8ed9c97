"""MNIST, loaded as the book's ``dataset/mnist.py`` loads it.

``from cnet.dataset.mnist import load_mnist`` replaces
``from dataset.mnist import load_mnist``: same arguments, same return values.
Unlike the book, cnet checks every downloaded file against the SHA-256 below,
keeps its cache in the user's cache folder (not beside the code), never uses
pickle, and can load a small bundled subset with no network (``sample=True``).
"""
import numpy as np

from ._loader import load_dataset
from ._spec import DatasetSpec, IdxFile

__all__ = ["load_mnist", "init_mnist", "MNIST"]

# SHA-256 of the decompressed IDX files (the MD5s commonly published for the same
# bytes: 6bbc9ace898e44ae57da46a324031adb, a25bea736e30d166cdddb491f175f624,
# 2646ac647ad5339dbf082846283269ea, 27ae3e4e09519cfbb04c329615203637).
MNIST = DatasetSpec(
    name="mnist",
    title="MNIST",
    files={
        "x_train": IdxFile("train-images-idx3-ubyte.gz", (60000, 28, 28),
                           "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
        "t_train": IdxFile("train-labels-idx1-ubyte.gz", (60000,),
                           "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
        "x_test": IdxFile("t10k-images-idx3-ubyte.gz", (10000, 28, 28),
                          "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
        "t_test": IdxFile("t10k-labels-idx1-ubyte.gz", (10000,),
                          "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
    },
    mirror_env="CNET_MNIST_MIRROR",
    public_mirrors=(
        # The book's current mirror (PyTorch's), then Google's CVDF copy.
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ),
    sample="mnist_sample.npz",
    function="load_mnist",
)

# The book's module-level constants.
key_file = {
    "train_img": MNIST.files["x_train"].filename,
    "train_label": MNIST.files["t_train"].filename,
    "test_img": MNIST.files["x_test"].filename,
    "test_label": MNIST.files["t_test"].filename,
}
train_num = 60000
test_num = 10000
img_dim = (1, 28, 28)
img_size = 784


def load_mnist(normalize=True, flatten=True, one_hot_label=False, *, data_home=None,
               mirror=None, download=True, sample=False, verbose=None):
    """Load MNIST as the book does.

    Parameters
    ----------
    normalize : bool, default True
        Images as float32 in [0, 1] (``x / 255.0``); otherwise uint8 in [0, 255].
    flatten : bool, default True
        Images as ``(N, 784)`` rows; otherwise ``(N, 1, 28, 28)``.
    one_hot_label : bool, default False
        Labels as float64 one-hot rows ``(N, 10)``; otherwise uint8 ``(N,)``.
    data_home : str or os.PathLike, optional
        Cache folder. Default: ``$CNET_DATA_HOME``, else the user cache folder
        (``~/.cache/cnet`` on Linux, ``~/Library/Caches/cnet`` on macOS,
        ``%LOCALAPPDATA%\\cnet\\Cache`` on Windows).
    mirror : str or os.PathLike or list of them, optional
        Where to fetch the four ``.gz`` files when they are not cached: an
        ``http(s)://`` URL, a ``file://`` URL or a local folder. Default:
        ``$CNET_MNIST_MIRROR``, else the public mirrors, tried in turn.
    download : bool, default True
        False raises ``DatasetNotCachedError`` instead of fetching.
    sample : bool, default False
        Load the subset bundled with cnet (6,000 training and 1,000 test
        images, stratified by digit) with no cache and no network.
    verbose : bool, optional
        Report download progress on standard error. Default: on, unless the
        environment variable ``CNET_QUIET`` is set.

    Returns
    -------
    (x_train, t_train), (x_test, t_test) : tuple of tuples of numpy.ndarray
        60,000 training and 10,000 test images and labels (fewer with
        ``sample=True``), shaped and typed as described above.

    Raises
    ------
    DatasetDownloadError
        No mirror could provide a file; the message lists every mirror tried
        and why it failed (a file whose checksum does not match is refused).
    DatasetNotCachedError
        ``download=False`` and MNIST is not cached.
    """
    return load_dataset(MNIST, normalize, flatten, one_hot_label, data_home=data_home,
                        mirror=mirror, download=download, sample=sample, verbose=verbose)


def init_mnist(*, data_home=None, mirror=None, verbose=None):
    """Fetch MNIST into the cache now (the book's ``init_mnist``)."""
    load_mnist(False, data_home=data_home, mirror=mirror, verbose=verbose)


def _change_one_hot_label(X):
    """The book's helper: uint8 labels ``(N,)`` -> float64 one-hot ``(N, 10)``."""
    T = np.zeros((X.size, 10))
    T[np.arange(X.size), X] = 1
    return T
