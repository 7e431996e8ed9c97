"""The book's ``common/layers.py``: layers with ``forward`` and ``backward``.

``from cnet.layers import *`` gives what ``from common.layers import *`` gave:
the layer classes, the functions of :mod:`cnet.functions` and ``np`` (the
book's module star-imports its functions and NumPy, and scripts rely on it).

Every layer keeps the attributes the book's scripts read (``W``, ``b``,
``dW``, ``db``, ``mask``, ``out``, ``x``, ``loss``, ``y``, ``t``, ``dgamma``,
``dbeta``, ``running_mean``, ``running_var``, ...) and holds references to
the arrays it is given, so a network's ``params`` and its layers share them.
"""
import numpy as np

from ..functions import *  # noqa: F401,F403 (the book's star import passes them on)
from ..functions import __all__ as _function_names
from .activation import Relu, Sigmoid
from .affine import Affine
from .softmax_loss import SoftmaxWithLoss
from .dropout import Dropout
from .batch_norm import BatchNormalization
from .convolution import Convolution, Pooling

__all__ = ["Relu", "Sigmoid", "Affine", "SoftmaxWithLoss", "Dropout",
           "BatchNormalization", "Convolution", "Pooling", *_function_names]
