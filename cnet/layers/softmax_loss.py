"""The output layer: softmax followed by the cross-entropy error."""
import numpy as np

from .. import _functions
from ..functions import softmax, cross_entropy_error
from ._check import real_array, forward_done

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _fused(x):
    """The fused kernel's entry for x, or None when it does not take x: the
    unchecked one for (N, C) float64/float32 with N, C >= 1 (x checked by the
    layer, y and dx its own), the checked one for an empty batch or class axis
    (its NaN loss and messages)."""
    if x.dtype not in _FLOATS or x.ndim != 2:
        return None
    return _functions.softmax_loss_rows if x.size else _functions.softmax_loss_forward


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
        fused = _fused(x)
        if fused is not None:
            # The fused kernel: softmax rows and the loss in one pass.
            self.y = np.empty(x.shape, x.dtype)
            self.loss = fused(x, t, self.y)
        else:
            self.y = softmax(x)
            self.loss = cross_entropy_error(self.y, self.t)
        return self.loss

    def _forward_backward(self, x, t):
        """forward(x, t), then the dx backward() would return, for a network's
        gradient: one pass of the fused kernel when it takes x and t."""
        x = real_array(x, "SoftmaxWithLoss.forward", "x")
        t = real_array(t, "SoftmaxWithLoss.forward", "t")
        fused = _fused(x)
        if fused is not None and t.shape[:1] == x.shape[:1]:
            self.t = t
            self.y = np.empty(x.shape, x.dtype)
            dx = np.empty(x.shape, x.dtype)
            self.loss = fused(x, t, self.y, dx)
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
        fused = _fused(y)
        if fused is not None and t.shape[:1] == y.shape[:1]:
            dx = np.empty(y.shape, y.dtype)
            if y.size and y.flags.c_contiguous:  # forward's own y: only t is checked
                return _functions.softmax_loss_backward_rows(y, t, dx)
            return _functions.softmax_loss_backward(y, t, dx)
        batch_size = self.t.shape[0]
        if self.t.size == self.y.size:
            return (self.y - self.t) / batch_size
        dx = self.y.copy()
        dx[np.arange(batch_size), self.t] -= 1
        return dx / batch_size
