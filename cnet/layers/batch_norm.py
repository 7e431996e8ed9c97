"""Batch normalization (http://arxiv.org/abs/1502.03167) as in the book."""
import numpy as np

from .. import _batch_norm
from ._check import real_array, forward_done

_F64 = np.dtype(np.float64)


def _vec(a, D):
    """a when it is a float64 C-contiguous aligned ndarray of shape (D,), else None."""
    if (type(a) is np.ndarray and a.dtype == _F64 and a.shape == (D,)
            and a.flags.c_contiguous and a.flags.aligned):
        return a
    return None


def _rows(a):
    """a (N, D) when float64, C-contiguous and aligned with N >= 1, else None."""
    if a.dtype == _F64 and a.flags.c_contiguous and a.flags.aligned and a.shape[0] > 0:
        return a
    return None

# The book's epsilon, written as it writes it (10e-7 is 1e-6).
EPS = 10e-7


class BatchNormalization:
    """Normalise each feature over the batch, then scale by gamma and shift by beta.

    Input of shape (N, D), or (N, C, H, W) read as N rows of D = C*H*W
    features (the book normalises each of those D features separately).

    Parameters
    ----------
    gamma, beta : ndarray, shape (D,)
        Scale and shift, kept by reference (a network's params share them).
    momentum : float, default 0.9
        Weight of the old running statistics in each update.
    running_mean, running_var : ndarray, shape (D,), optional
        Statistics used when testing; zeros (float64) on the first forward
        when not given.

    Attributes
    ----------
    xc, xn, std, batch_size : the saved pieces of the last training forward.
    dgamma, dbeta : ndarray, shape (D,), set by backward.
    input_shape : tuple, forward's input shape.
    """

    def __init__(self, gamma, beta, momentum=0.9, running_mean=None, running_var=None):
        self.gamma = gamma
        self.beta = beta
        self.momentum = momentum
        self.input_shape = None
        self.running_mean = running_mean
        self.running_var = running_var
        self.batch_size = None
        self.xc = None
        self.xn = None
        self.std = None
        self.dgamma = None
        self.dbeta = None

    def forward(self, x, train_flg=True):
        """gamma * (x - mean) / sqrt(var + 10e-7) + beta.

        Training uses the batch's mean and variance and updates the running
        ones; testing uses the running ones.

        Parameters
        ----------
        x : ndarray, shape (N, D) or (N, ...) with D features per row, real
        train_flg : bool, default True

        Returns
        -------
        ndarray, x's shape.
        """
        x = real_array(x, "BatchNormalization.forward", "x")
        if x.ndim < 2:
            raise ValueError("BatchNormalization.forward: x must be (N, D) or (N, C, H, W), "
                             "got shape %s" % (x.shape,))
        if x.shape[0] == 0:
            raise ValueError("BatchNormalization.forward: x has no rows (shape %s); "
                             "a batch mean needs at least one" % (x.shape,))
        self.input_shape = x.shape
        x2 = x.reshape(x.shape[0], -1)
        D = x2.shape[1]
        if self.running_mean is None:
            self.running_mean = np.zeros(D)
            self.running_var = np.zeros(D)
        for name in ("gamma", "beta", "running_mean", "running_var"):
            p = np.shape(getattr(self, name))
            if p not in ((D,), (), (1,)):
                raise ValueError("BatchNormalization.forward: %s has shape %s but x of "
                                 "shape %s has %d features" % (name, p, x.shape, D))
        out = self._forward(x2, train_flg)
        return out.reshape(*self.input_shape)

    def _forward(self, x, train_flg):
        D = x.shape[1]
        ok = (_rows(x) is not None and _vec(self.gamma, D) is not None
              and _vec(self.beta, D) is not None and _vec(self.running_mean, D) is not None
              and _vec(self.running_var, D) is not None
              and isinstance(self.momentum, (float, int)) and D > 0)
        if ok:
            # One compiled call, the book's arithmetic in the book's order.
            out = np.empty_like(x)
            if train_flg:
                xc, xn = np.empty_like(x), np.empty_like(x)
                std, rmean, rvar = np.empty(D), np.empty(D), np.empty(D)
                _batch_norm.forward_train(x, xc, xn, out, std, self.running_mean,
                                          self.running_var, rmean, rvar, self.gamma,
                                          self.beta, EPS, self.momentum, 1 - self.momentum)
                self.batch_size = x.shape[0]
                self.xc, self.xn, self.std = xc, xn, std
                self.running_mean, self.running_var = rmean, rvar
            else:
                _batch_norm.forward_test(x, out, self.running_mean, self.running_var,
                                         self.gamma, self.beta, EPS, np.empty(D))
            return out
        if train_flg:
            mu = x.mean(axis=0)
            xc = x - mu
            var = np.mean(xc ** 2, axis=0)
            std = np.sqrt(var + EPS)
            xn = xc / std
            self.batch_size = x.shape[0]
            self.xc = xc
            self.xn = xn
            self.std = std
            self.running_mean = self.momentum * self.running_mean + (1 - self.momentum) * mu
            self.running_var = self.momentum * self.running_var + (1 - self.momentum) * var
        else:
            xc = x - self.running_mean
            xn = xc / np.sqrt(self.running_var + EPS)
        return self.gamma * xn + self.beta

    def backward(self, dout):
        """dx of the loss through the training forward; sets dgamma and dbeta.

        Parameters
        ----------
        dout : ndarray, forward's output shape

        Returns
        -------
        ndarray, forward's input shape.
        """
        forward_done(self.xn, "BatchNormalization.backward")
        dout = real_array(dout, "BatchNormalization.backward", "dout")
        if dout.shape != self.input_shape:
            raise ValueError("BatchNormalization.backward: dout has shape %s but forward's "
                             "x had shape %s" % (dout.shape, self.input_shape))
        dout = dout.reshape(dout.shape[0], -1)
        D = dout.shape[1]
        if (_rows(dout) is not None and _rows(self.xc) is not None
                and _rows(self.xn) is not None and self.xc.shape == dout.shape
                and self.xn.shape == dout.shape and self.batch_size == dout.shape[0]
                and _vec(self.std, D) is not None and _vec(self.gamma, D) is not None):
            dx = np.empty_like(dout)
            self.dgamma, self.dbeta = np.empty(D), np.empty(D)
            _batch_norm.backward(dout, self.xc, self.xn, self.std, self.gamma, dx,
                                 self.dgamma, self.dbeta, np.empty(D))
            return dx.reshape(*self.input_shape)
        dbeta = dout.sum(axis=0)
        dgamma = np.sum(self.xn * dout, axis=0)
        dxn = self.gamma * dout
        dxc = dxn / self.std
        dstd = -np.sum((dxn * self.xc) / (self.std * self.std), axis=0)
        dvar = 0.5 * dstd / self.std
        dxc += (2.0 / self.batch_size) * self.xc * dvar
        dmu = np.sum(dxc, axis=0)
        dx = dxc - dmu / self.batch_size
        self.dgamma = dgamma
        self.dbeta = dbeta
        return dx.reshape(*self.input_shape)
