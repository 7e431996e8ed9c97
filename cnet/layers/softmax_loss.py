"""The output layer: softmax followed by the cross-entropy error."""
import numpy as np

from .. import _functions
from ..functions import softmax, cross_entropy_error
from ._check import real_array, forward_done

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


class SoftmaxWithLoss:
    """loss = cross_entropy_error(softmax(x), t); dx = (y - t) / N.

    Attributes
    ----------
    loss : float
        forward's result.
    y : ndarray, x's shape
        The softmax of forward's x.
    t : ndarray
        forward's labels: one-hot (x's shape) or class indices (N,).
    """

    def __init__(self):
        self.loss = None
        self.y = None
        self.t = None

    def forward(self, x, t):
        """The book's cross-entropy error (with its ``+ 1e-7``) of softmax(x).

        Parameters
        ----------
        x : ndarray, shape (N, C) (or (C,) for one sample), real
        t : ndarray, one-hot labels of x's shape or N integer class indices

        Returns
        -------
        float, the mean loss over the batch.
        """
        x = real_array(x, "SoftmaxWithLoss.forward", "x")
        t = real_array(t, "SoftmaxWithLoss.forward", "t")
        self.t = t
        if x.dtype in _FLOATS and x.ndim == 2:
            # The fused kernel: softmax rows and the loss in one pass.
            self.y = np.empty_like(x, order="C")
            self.loss = _functions.softmax_loss_forward(x, t, self.y)
        else:
            self.y = softmax(x)
            self.loss = cross_entropy_error(self.y, self.t)
        return self.loss

    def _forward_backward(self, x, t):
        """forward(x, t), then the dx backward() would return, for a network's
        gradient: one pass of the fused kernel when it takes x and t."""
        x = real_array(x, "SoftmaxWithLoss.forward", "x")
        t = real_array(t, "SoftmaxWithLoss.forward", "t")
        if x.dtype in _FLOATS and x.ndim == 2 and t.shape[:1] == x.shape[:1]:
            self.t = t
            self.y = np.empty_like(x, order="C")
            dx = np.empty_like(self.y)
            self.loss = _functions.softmax_loss_forward(x, t, self.y, dx)
            return dx
        self.forward(x, t)
        return self.backward()

    def backward(self, dout=1):
        """dx = (y - t) / N for one-hot t; y with 1 subtracted at t, / N, else.

        N is ``t.shape[0]``, as in the book. ``dout`` is ignored, as in the
        book (the loss is the end of the network).

        Returns
        -------
        ndarray, x's shape.
        """
        forward_done(self.y, "SoftmaxWithLoss.backward")
        y, t = self.y, self.t
        if y.dtype in _FLOATS and y.ndim == 2 and t.shape[:1] == y.shape[:1]:
            return _functions.softmax_loss_backward(y, t, np.empty_like(y))
        batch_size = self.t.shape[0]
        if self.t.size == self.y.size:
            return (self.y - self.t) / batch_size
        dx = self.y.copy()
        dx[np.arange(batch_size), self.t] -= 1
        return dx / batch_size
