"""Dropout (http://arxiv.org/abs/1207.0580) as in the book."""
import numpy as np

from .. import _activation
from ._check import real_array, same_shape, forward_done
from .activation import _flat


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
        if (isinstance(dropout_ratio, (bool, np.bool_))
                or not isinstance(dropout_ratio, (int, float, np.integer, np.floating))
                or not 0 <= dropout_ratio <= 1):
            raise ValueError("dropout_ratio must be a number between 0 and 1, got %r"
                             % (dropout_ratio,))
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
            # The book's draws, so that a seeded run drops the same units.
            r = np.random.rand(*x.shape)
            flat = _flat(x)
            if (flat is None or x.ndim == 0  # np.random.rand() is then a float
                    or not isinstance(self.dropout_ratio, (float, int))):
                self.mask = r > self.dropout_ratio
                return x * self.mask
            # mask and x * mask in one compiled pass
            out = np.empty(x.shape, x.dtype)
            self.mask = np.empty(x.shape, np.bool_)
            _activation.dropout_forward(flat, r.reshape(-1), self.dropout_ratio,
                                        out.reshape(-1), self.mask.reshape(-1).view(np.uint8))
            return out
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
        flat = _flat(dout)
        if flat is None or not self.mask.flags.c_contiguous:
            return dout * self.mask
        dx = np.empty(dout.shape, dout.dtype)
        _activation.mask_multiply(flat, self.mask.reshape(-1).view(np.uint8), dx.reshape(-1))
        return dx
