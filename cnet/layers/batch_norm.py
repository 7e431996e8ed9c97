"""Batch normalization (http://arxiv.org/abs/1502.03167) as in the book."""
import numpy as np

from ._check import real_array, forward_done

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
        self.input_shape = x.shape
        x2 = x.reshape(x.shape[0], -1)
        D = x2.shape[1]
        for name in ("gamma", "beta"):
            p = np.shape(getattr(self, name))
            if p not in ((D,), (), (1,)):
                raise ValueError("BatchNormalization.forward: %s has shape %s but x of "
                                 "shape %s has %d features" % (name, p, x.shape, D))
        if self.running_mean is None:
            self.running_mean = np.zeros(D)
            self.running_var = np.zeros(D)
        out = self._forward(x2, train_flg)
        return out.reshape(*self.input_shape)

    def _forward(self, x, train_flg):
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
