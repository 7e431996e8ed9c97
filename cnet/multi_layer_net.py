"""The book's ``common/multi_layer_net.py``: a fully connected network of any depth.

MultiLayerNet(input_size, hidden_size_list, output_size, activation='relu',
weight_init_std='relu', weight_decay_lambda=0) builds Affine -> activation
layers for each hidden size, a last Affine and a SoftmaxWithLoss, with the
book's layer names, initial weights drawn in the book's order (so
``np.random.seed`` reproduces the book's network) and L2 weight decay.
"""
from collections import OrderedDict

import numpy as np

from . import _classify, _optimizer
from .gradient import numerical_gradient as _numerical_gradient
from .layers import Affine, BatchNormalization, Dropout, Relu, Sigmoid, SoftmaxWithLoss
from .threads import blas_held

__all__ = ["MultiLayerNet"]

_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)
_ACTIVATIONS = {"sigmoid": Sigmoid, "relu": Relu}


def _init_scale(weight_init_std, fan_in):
    """The book's initial scale: He for 'relu'/'he', Xavier for
    'sigmoid'/'xavier', else the number given."""
    name = str(weight_init_std).lower()
    if name in ("relu", "he"):
        return np.sqrt(2.0 / fan_in)
    if name in ("sigmoid", "xavier"):
        return np.sqrt(1.0 / fan_in)
    if isinstance(weight_init_std, (bool, np.bool_)) or not isinstance(
            weight_init_std, (int, float, np.integer, np.floating)):
        raise ValueError("weight_init_std must be 'relu', 'he', 'sigmoid', 'xavier' or a "
                         "number, got %r" % (weight_init_std,))
    return weight_init_std


def _sizes(input_size, hidden_size_list, output_size):
    if not isinstance(hidden_size_list, (list, tuple, np.ndarray)):
        raise TypeError("hidden_size_list must be a list of layer sizes (e.g. [100, 100]), "
                        "got %r" % (hidden_size_list,))
    sizes = [input_size, *hidden_size_list, output_size]
    for s in sizes:
        if isinstance(s, (bool, np.bool_)) or not isinstance(s, (int, np.integer)) or s < 1:
            raise ValueError("layer sizes must be positive integers, got input_size=%r, "
                             "hidden_size_list=%r, output_size=%r"
                             % (input_size, hidden_size_list, output_size))
    return sizes


def _argmax_rows(a):
    """np.argmax(a, axis=1): compiled (on cnet's threads) for float32 and
    float64 rows with unit column stride, NumPy's call for anything else."""
    if (type(a) is np.ndarray and a.ndim == 2 and a.shape[1] > 0
            and (a.dtype == _F64 or a.dtype == _F32) and a.flags.aligned
            and (a.shape[1] == 1 or a.strides[1] == a.itemsize)
            and a.strides[0] % a.itemsize == 0):
        out = np.empty(a.shape[0], np.intp)
        _classify.argmax_rows(a, out)
        return out
    return np.argmax(a, axis=1)


def _decayed(dW, lam, W):
    """dW + lam * W as NumPy computes it, in one pass when both are float64
    and contiguous; at lam = 0 dW itself when the sum would have its bits.

    dW is the array the layer's backward made in this gradient call (a new
    one each call), so handing it out is safe: the next call does not
    change it, and the layer's dW still has the values the book's has.
    """
    if (type(lam) in (int, float) and dW.dtype == _F64 and W.dtype == _F64
            and dW.shape == W.shape and dW.flags.c_contiguous and W.flags.c_contiguous):
        if lam == 0 and _optimizer.decay_keeps_gradient(dW.reshape(-1), W.reshape(-1), lam):
            return dW
        out = np.empty(dW.shape, _F64)
        _optimizer.decay_gradient(dW.reshape(-1), W.reshape(-1), lam, out.reshape(-1))
        return out
    return dW + lam * W


class _DenseNet:
    """What MultiLayerNet, MultiLayerNetExtend and the chapter-5 TwoLayerNet
    share: params, an OrderedDict of layers ending in an Affine, a
    SoftmaxWithLoss, weight decay, gradients by backprop or numerically.

    Subclasses build ``self.layers`` and set ``self._affine_keys`` (the
    Affine layers' names, in order, matching params W1, b1, W2, ...) and
    ``self._norm_keys`` (BatchNormalization layers' names, matching gamma1,
    beta1, ...).
    """

    _decay_in_grads = True

    def _build(self, input_size, hidden_size_list, output_size, activation,
               weight_init_std, weight_decay_lambda, use_dropout, dropout_ration,
               use_batchnorm):
        """The book's layers: per hidden layer Affine, [BatchNorm], activation,
        [Dropout]; a last Affine; SoftmaxWithLoss. Weights first, drawn in the
        book's order, then gamma and beta."""
        self.input_size = input_size
        self.output_size = output_size
        sizes = _sizes(input_size, hidden_size_list, output_size)
        self.hidden_size_list = hidden_size_list
        self.hidden_layer_num = len(hidden_size_list)
        self.weight_decay_lambda = weight_decay_lambda
        if activation not in _ACTIVATIONS:
            raise ValueError("activation must be 'relu' or 'sigmoid', got %r" % (activation,))
        self._init_weights(sizes, weight_init_std)
        self.layers = OrderedDict()
        self._affine_keys = []
        self._norm_keys = []
        for idx in range(1, self.hidden_layer_num + 1):
            self._add_affine(idx)
            if use_batchnorm:
                units = hidden_size_list[idx - 1]
                self.params["gamma%d" % idx] = np.ones(units)
                self.params["beta%d" % idx] = np.zeros(units)
                key = "BatchNorm%d" % idx
                self.layers[key] = BatchNormalization(self.params["gamma%d" % idx],
                                                      self.params["beta%d" % idx])
                self._norm_keys.append(key)
            self.layers["Activation_function%d" % idx] = _ACTIVATIONS[activation]()
            if use_dropout:
                self.layers["Dropout%d" % idx] = Dropout(dropout_ration)
        self._add_affine(self.hidden_layer_num + 1)
        self.last_layer = SoftmaxWithLoss()

    def _init_weights(self, sizes, weight_init_std):
        self.params = {}
        for idx in range(1, len(sizes)):
            scale = _init_scale(weight_init_std, sizes[idx - 1])
            self.params["W%d" % idx] = scale * np.random.randn(sizes[idx - 1], sizes[idx])
            self.params["b%d" % idx] = np.zeros(sizes[idx])

    def _add_affine(self, idx, key=None):
        key = key or "Affine%d" % idx
        self.layers[key] = Affine(self.params["W%d" % idx], self.params["b%d" % idx])
        self._affine_keys.append(key)

    def _forward(self, x, train_flg):
        # BLAS stays on one thread for the whole call (cnet.threads).
        layers = list(self.layers.values())
        i, n = 0, len(layers)
        with blas_held():
            while i < n:
                layer = layers[i]
                if (type(layer) is Affine and i + 1 < n and type(layers[i + 1]) is Relu
                        and "forward" not in layer.__dict__
                        and "forward" not in layers[i + 1].__dict__):
                    # The bias and the ReLU in one pass over the product
                    # (unless a forward was replaced on the object).
                    x = layer._forward(x, layers[i + 1])
                    i += 2
                    continue
                if isinstance(layer, (Dropout, BatchNormalization)):
                    x = layer.forward(x, train_flg)
                else:
                    x = layer.forward(x)
                i += 1
        return x

    def _weight_decay(self):
        lam = self.weight_decay_lambda
        if lam == 0:
            return 0
        decay = 0
        for idx in range(1, len(self._affine_keys) + 1):
            W = self.params["W%d" % idx]
            decay += 0.5 * lam * np.sum(W ** 2)
        return decay

    def _loss(self, x, t, train_flg):
        y = self._forward(x, train_flg)
        return self._last_layer().forward(y, t) + self._weight_decay()

    def _last_layer(self):
        return self.last_layer

    def accuracy(self, x, t):
        """Share of rows whose largest score is at the label.

        Parameters
        ----------
        x : ndarray, shape (N, input_size)
        t : ndarray, one-hot (N, output_size) or class indices (N,)

        Returns
        -------
        float
        """
        y = _argmax_rows(self._forward(x, False))
        t = np.asarray(t)
        if t.ndim != 1:
            t = _argmax_rows(t)
        return np.sum(y == t) / float(x.shape[0])

    def _numerical_gradient(self, x, t, train_flg):
        loss_W = lambda W: self._loss(x, t, train_flg)  # noqa: E731 (the book's idiom)
        grads = {}
        for idx in range(1, len(self._affine_keys) + 1):
            for key in ("W%d" % idx, "b%d" % idx):
                grads[key] = _numerical_gradient(loss_W, self.params[key])
            if idx <= len(self._norm_keys):
                for key in ("gamma%d" % idx, "beta%d" % idx):
                    grads[key] = _numerical_gradient(loss_W, self.params[key])
        return grads

    def _gradient(self, x, t, train_flg):
        with blas_held():
            return self._backprop(x, t, train_flg)

    def _backprop(self, x, t, train_flg):
        # The loss layer's forward and backward in one pass; the weight-decay
        # term of the loss is left out (the book computes it and discards it).
        dout = self._last_layer()._forward_backward(self._forward(x, train_flg), t)
        layers = list(self.layers.values())
        for layer in reversed(layers[1:]):
            dout = layer.backward(dout)
        # The first layer's dx (an input-sized product) is never read: its
        # Affine computes only dW and db.
        if isinstance(layers[0], Affine):
            layers[0]._backward_params_only(dout)
        else:
            layers[0].backward(dout)
        grads = {}
        lam = self.weight_decay_lambda
        for idx, key in enumerate(self._affine_keys, 1):
            affine = self.layers[key]
            # MultiLayerNet(Extend) hand out dW + lambda * W (dW itself when
            # that is the same bits); the chapter-5 network hands out dW.
            grads["W%d" % idx] = _decayed(affine.dW, lam, affine.W) if self._decay_in_grads \
                else affine.dW
            grads["b%d" % idx] = affine.db
            if idx <= len(self._norm_keys):
                norm = self.layers[self._norm_keys[idx - 1]]
                grads["gamma%d" % idx] = norm.dgamma
                grads["beta%d" % idx] = norm.dbeta
        return grads


class MultiLayerNet(_DenseNet):
    """A fully connected network: (Affine, activation) per hidden layer, Affine,
    SoftmaxWithLoss.

    Parameters
    ----------
    input_size : int
        Input features (784 for MNIST).
    hidden_size_list : list of int
        Units of each hidden layer, e.g. [100, 100, 100].
    output_size : int
        Classes (10 for MNIST).
    activation : {'relu', 'sigmoid'}, default 'relu'
    weight_init_std : {'relu', 'he', 'sigmoid', 'xavier'} or float, default 'relu'
        The initial weights' standard deviation: He's sqrt(2 / fan_in) for
        'relu'/'he', Xavier's sqrt(1 / fan_in) for 'sigmoid'/'xavier'.
    weight_decay_lambda : float, default 0
        Strength of the L2 penalty 0.5 * lambda * sum(W**2) added to the loss.

    Attributes
    ----------
    params : dict
        W1, b1, ..., W{L}, b{L} (float64), shared with the Affine layers.
    layers : OrderedDict
        'Affine1', 'Activation_function1', ..., 'Affine{L}'.
    last_layer : SoftmaxWithLoss
    """

    def __init__(self, input_size, hidden_size_list, output_size, activation="relu",
                 weight_init_std="relu", weight_decay_lambda=0):
        self._build(input_size, hidden_size_list, output_size, activation, weight_init_std,
                    weight_decay_lambda, False, 0.5, False)

    def predict(self, x):
        """The scores (N, output_size) before softmax."""
        return self._forward(x, False)

    def loss(self, x, t):
        """Cross-entropy loss of the batch plus the weight-decay penalty."""
        return self._loss(x, t, False)

    def numerical_gradient(self, x, t):
        """dict W1, b1, ... of the loss's numerical gradient (the book's
        :func:`cnet.gradient.numerical_gradient`, slow)."""
        return self._numerical_gradient(x, t, False)

    def gradient(self, x, t):
        """dict W1, b1, ... of the loss's gradient by backpropagation."""
        return self._gradient(x, t, False)
