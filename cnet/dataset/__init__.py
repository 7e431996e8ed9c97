"""Data sets of the book: ``cnet.dataset.mnist`` replaces the book's ``dataset/mnist.py``.

``cnet.dataset.mnist.load_mnist`` and ``cnet.dataset.fashion_mnist.load_fashion_mnist``
return the book's ``(x_train, t_train), (x_test, t_test)``; both download once,
check every file's SHA-256 and keep a cache (see ``load_mnist`` for where).
"""
from ._loader import DatasetDownloadError, DatasetNotCachedError
from .fashion_mnist import load_fashion_mnist
from .mnist import load_mnist

__all__ = ["load_mnist", "load_fashion_mnist", "DatasetDownloadError",
           "DatasetNotCachedError"]
