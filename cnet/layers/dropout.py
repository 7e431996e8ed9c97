"""Dropout (http://arxiv.org/abs/1207.0580) as in the book."""
import numpy as np

from ._check import real_array, same_shape, forward_done


class Dropout:
    """Training: zero each unit with probability ``dropout_ratio``; testing:
    scale by ``1 - dropout_ratio``.

    The mask is drawn with ``np.random.rand(*x.shape)``, as the book draws it,
    so a run seeded with ``np.random.seed`` drops the same units.

    Parameters
    ----------
    dropout_ratio : float, default 0.5

    Attributes
    ----------
    mask : ndarray of bool, x's shape
        True for the units kept by the last training forward.
    """

    def __init__(self, dropout_ratio=0.5):
        self.dropout_ratio = dropout_ratio
        self.mask = None

    def forward(self, x, train_flg=True):
        """x * mask (training) or x * (1 - dropout_ratio) (testing).

        Parameters
        ----------
        x : ndarray, any shape, real
        train_flg : bool, default True

        Returns
        -------
        ndarray, x's shape, a new array.
        """
        x = real_array(x, "Dropout.forward", "x")
        if train_flg:
            self.mask = np.random.rand(*x.shape) > self.dropout_ratio
            return x * self.mask
        return x * (1.0 - self.dropout_ratio)

    def backward(self, dout):
        """dx = dout * mask.

        Parameters
        ----------
        dout : ndarray, the shape forward returned

        Returns
        -------
        ndarray, a new array.
        """
        forward_done(self.mask, "Dropout.backward")
        dout = real_array(dout, "Dropout.backward", "dout")
        same_shape(dout, self.mask, "Dropout.backward", "dout", "forward's x")
        return dout * self.mask
