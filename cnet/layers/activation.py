"""Activation layers: Relu and Sigmoid (the book's ``common/layers.py``)."""
import numpy as np

from .. import _activation
from ..functions import sigmoid
from ._check import real_array, same_shape, forward_done

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _flat(a):
    """A flat view of a for the kernels (C-contiguous, aligned, float32 or
    float64), else None."""
    if a.dtype in _FLOATS and a.flags.c_contiguous and a.flags.aligned:
        return a.reshape(-1)
    return None


class Relu:
    """y = x where x > 0, else 0; the gradient passes where x > 0.

    Attributes
    ----------
    mask : ndarray of bool, x's shape
        True where ``x <= 0`` (set by forward; NaN is not masked, as in the book).
    """

    def __init__(self):
        self.mask = None

    def forward(self, x):
        """out = x with the entries ``x <= 0`` set to 0.

        Parameters
        ----------
        x : ndarray, any shape, real

        Returns
        -------
        ndarray, x's shape and dtype (a new array; x is not changed).
        """
        x = real_array(x, "Relu.forward", "x")
        flat = _flat(x)
        if flat is None:
            self.mask = x <= 0
            out = x.copy()
            out[self.mask] = 0
            return out
        out = np.empty_like(x)
        self.mask = np.empty(x.shape, np.bool_)
        _activation.relu_forward(flat, out.reshape(-1), self.mask.reshape(-1).view(np.uint8))
        return out

    def backward(self, dout):
        """dx = dout with the entries masked by forward set to 0.

        As in the book, dout is changed in place and returned.

        Parameters
        ----------
        dout : ndarray, the shape forward returned, writeable, IN/OUT

        Returns
        -------
        ndarray, dout itself.
        """
        forward_done(self.mask, "Relu.backward")
        dout = real_array(dout, "Relu.backward", "dout")
        same_shape(dout, self.mask, "Relu.backward", "dout", "forward's x")
        flat = _flat(dout)
        if flat is not None and dout.flags.writeable and self.mask.flags.c_contiguous:
            _activation.relu_backward(flat, self.mask.reshape(-1).view(np.uint8))
        else:
            dout[self.mask] = 0
        return dout


class Sigmoid:
    """y = 1 / (1 + exp(-x)); dx = dout * (1 - y) * y.

    Attributes
    ----------
    out : ndarray
        forward's result, kept for backward.
    """

    def __init__(self):
        self.out = None

    def forward(self, x):
        """out = sigmoid(x), see :func:`cnet.functions.sigmoid`.

        Parameters
        ----------
        x : ndarray, any shape, real

        Returns
        -------
        ndarray, x's shape, float (float32 stays float32).
        """
        self.out = sigmoid(real_array(x, "Sigmoid.forward", "x"))
        return self.out

    def backward(self, dout):
        """dx = dout * (1.0 - out) * out.

        Parameters
        ----------
        dout : ndarray, the shape forward returned

        Returns
        -------
        ndarray, a new array.
        """
        forward_done(self.out, "Sigmoid.backward")
        dout = real_array(dout, "Sigmoid.backward", "dout")
        same_shape(dout, self.out, "Sigmoid.backward", "dout", "forward's output")
        out = self.out
        fd, fo = _flat(dout), _flat(out)
        if fd is None or fo is None or dout.dtype != out.dtype:
            return dout * (1.0 - out) * out
        dx = np.empty_like(out)
        _activation.sigmoid_backward(fd, fo, dx.reshape(-1))
        return dx
