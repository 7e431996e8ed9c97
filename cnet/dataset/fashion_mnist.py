"""Fashion-MNIST (Zalando Research), loaded exactly like MNIST.

Same four IDX files, shapes and dtypes as MNIST; the ten labels are clothing
classes (``CLASS_NAMES``). Fashion-MNIST is MIT-licensed, (c) Zalando SE.
"""
from ._loader import load_dataset
from ._spec import DatasetSpec, IdxFile

__all__ = ["load_fashion_mnist", "FASHION_MNIST", "CLASS_NAMES"]

CLASS_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")

# SHA-256 of the decompressed IDX files. Their MD5s are the ones published for
# the decompressed files (f4a8712d7a061bf5bd6d2ca38dc4d50a,
# 9018921c3c673c538a1fc5bad174d6f9, 8181f5470baa50b63fa0f6fddb340f0a,
# 15d484375f8d13e6eb1aabb0c3f46965); checksumming decompressed bytes keeps the
# Debian package's re-compressed files valid.
FASHION_MNIST = DatasetSpec(
    name="fashion-mnist",
    title="Fashion-MNIST",
    files={
        "x_train": IdxFile("train-images-idx3-ubyte.gz", (60000, 28, 28),
                           "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
        "t_train": IdxFile("train-labels-idx1-ubyte.gz", (60000,),
                           "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
        "x_test": IdxFile("t10k-images-idx3-ubyte.gz", (10000, 28, 28),
                          "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
        "t_test": IdxFile("t10k-labels-idx1-ubyte.gz", (10000,),
                          "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
    },
    mirror_env="CNET_FASHION_MNIST_MIRROR",
    public_mirrors=(
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ),
    # Debian's dataset-fashion-mnist package.
    local_folders=("/usr/share/datasets/fashion-mnist",),
    function="load_fashion_mnist",
)


def load_fashion_mnist(normalize=True, flatten=True, one_hot_label=False, *, data_home=None,
                       mirror=None, download=True, sample=False, verbose=None):
    """Load Fashion-MNIST with the book's ``load_mnist`` arguments and return values.

    Parameters
    ----------
    normalize, flatten, one_hot_label, data_home, download, verbose
        As in ``cnet.dataset.mnist.load_mnist``.
    mirror : str or os.PathLike or list of them, optional
        Where to fetch the four ``.gz`` files when they are not cached.
        Default: ``$CNET_FASHION_MNIST_MIRROR``, else
        ``/usr/share/datasets/fashion-mnist`` when it exists (Debian's
        ``dataset-fashion-mnist`` package), then the public mirrors.
    sample : bool, default False
        cnet bundles no Fashion-MNIST subset: True raises ``ValueError``.

    Returns
    -------
    (x_train, t_train), (x_test, t_test) : tuple of tuples of numpy.ndarray
        60,000 training and 10,000 test images (uint8, or float32 in [0, 1];
        ``(N, 784)`` or ``(N, 1, 28, 28)``) and labels (uint8 ``(N,)`` or
        float64 one-hot ``(N, 10)``); label ``k`` is ``CLASS_NAMES[k]``.

    Raises
    ------
    DatasetDownloadError, DatasetNotCachedError
        As in ``load_mnist``.
    """
    return load_dataset(FASHION_MNIST, normalize, flatten, one_hot_label, data_home=data_home,
                        mirror=mirror, download=download, sample=sample, verbose=verbose)
