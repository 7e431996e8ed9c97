"""The book's chapter-7 SimpleConvNet (ch07/simple_convnet.py), on cnet's
compiled layers.

conv - relu - pool - affine - relu - affine - softmax
"""
import os
from collections import OrderedDict

import numpy as np

from . import layer_sequence, params_io
from .gradient import numerical_gradient
from .util import _conv_output_hw
from .layers import Affine, Convolution, Pooling, Relu, SoftmaxWithLoss

__all__ = ["SimpleConvNet"]


def _float_dtype(dtype):
    dtype = np.dtype(dtype)
    if dtype not in (np.float64, np.float32):
        raise ValueError("dtype must be float64 or float32, got %s" % dtype)
    return dtype


def _accuracy(predict, x, t, batch_size):
    """The book's accuracy: whole batches of batch_size only (a remainder is
    left out, as in the book), divided by x.shape[0]."""
    if t.ndim != 1:
        t = np.argmax(t, axis=1)
    acc = 0.0
    for i in range(int(x.shape[0] / batch_size)):
        tx = x[i * batch_size:(i + 1) * batch_size]
        tt = t[i * batch_size:(i + 1) * batch_size]
        y = np.argmax(predict(tx), axis=1)
        acc += np.sum(y == tt)
    return acc / x.shape[0]


def _check_loaded(network, params, file_name):
    """Raise unless params holds exactly the network's keys, each an array of
    real numbers of the network's shape: checked before anything is replaced,
    so a wrong file leaves the network as it was."""
    where = os.fspath(file_name)
    missing = [k for k in network.params if k not in params]
    unknown = [k for k in params if k not in network.params]
    if missing or unknown:
        raise ValueError("%s does not hold this network's parameters: missing %s, "
                         "unknown %s" % (where, missing, unknown))
    for key, old in network.params.items():
        val = params[key]
        if not isinstance(val, np.ndarray) or val.dtype.kind not in "biuf":
            raise TypeError("%s[%r] must be an array of real numbers, got %s"
                            % (where, key, getattr(val, "dtype", type(val).__name__)))
        if val.shape != old.shape:
            raise ValueError("%s[%r] has shape %s, but this network's %s has shape %s"
                             % (where, key, val.shape, key, old.shape))


def _load_into(network, file_name, layer_keys):
    """Read a params file (the book's pickle, or .npz) into network.params and
    rebind the layers' W and b, as the book's load_params does."""
    params = params_io.load_params(file_name)
    _check_loaded(network, params, file_name)
    for key, val in params.items():
        if isinstance(val, np.ndarray) and val.dtype != network.dtype:
            val = val.astype(network.dtype)
        network.params[key] = val
    for i, layer in enumerate(layer_keys):
        layer.W = network.params["W" + str(i + 1)]
        layer.b = network.params["b" + str(i + 1)]


class SimpleConvNet:
    """A simple ConvNet: conv - relu - pool - affine - relu - affine - softmax.

    Parameters
    ----------
    input_dim : tuple (C, H, W), default (1, 28, 28)
    conv_param : dict with filter_num, filter_size, pad, stride
    hidden_size : int, default 100
    output_size : int, default 10
    weight_init_std : float, default 0.01
    dtype : float64 (default, as the book) or float32
        float32 is a departure from the book: parameters and every layer's
        arithmetic in float32, about twice as fast.

    Attributes
    ----------
    params : dict W1 (FN, C, FS, FS), b1, W2, b2, W3, b3; the layers hold the
        same arrays
    layers : OrderedDict Conv1, Relu1, Pool1, Affine1, Relu2, Affine2
    last_layer : SoftmaxWithLoss
    """

    def __init__(self, input_dim=(1, 28, 28),
                 conv_param={"filter_num": 30, "filter_size": 5, "pad": 0, "stride": 1},
                 hidden_size=100, output_size=10, weight_init_std=0.01,
                 dtype=np.float64):
        self.dtype = _float_dtype(dtype)
        filter_num = conv_param["filter_num"]
        filter_size = conv_param["filter_size"]
        filter_pad = conv_param["pad"]
        filter_stride = conv_param["stride"]
        # The book's sizes below divide by the stride and go negative for a
        # filter larger than the padded input: refuse those here, by name.
        _conv_output_hw(input_dim[1], input_dim[2], filter_size, filter_size,
                        filter_stride, filter_pad)
        input_size = input_dim[1]
        conv_output_size = (input_size - filter_size + 2 * filter_pad) / filter_stride + 1
        pool_output_size = int(filter_num * (conv_output_size / 2) * (conv_output_size / 2))

        # Drawn from np.random in the book's order, so np.random.seed gives
        # the book's initial weights.
        self.params = {}
        self.params["W1"] = weight_init_std * np.random.randn(
            filter_num, input_dim[0], filter_size, filter_size)
        self.params["b1"] = np.zeros(filter_num)
        self.params["W2"] = weight_init_std * np.random.randn(pool_output_size, hidden_size)
        self.params["b2"] = np.zeros(hidden_size)
        self.params["W3"] = weight_init_std * np.random.randn(hidden_size, output_size)
        self.params["b3"] = np.zeros(output_size)
        if self.dtype != np.float64:
            self.params = {k: v.astype(self.dtype) for k, v in self.params.items()}

        self.layers = OrderedDict()
        self.layers["Conv1"] = Convolution(self.params["W1"], self.params["b1"],
                                           conv_param["stride"], conv_param["pad"])
        self.layers["Relu1"] = Relu()
        self.layers["Pool1"] = Pooling(pool_h=2, pool_w=2, stride=2)
        self.layers["Affine1"] = Affine(self.params["W2"], self.params["b2"])
        self.layers["Relu2"] = Relu()
        self.layers["Affine2"] = Affine(self.params["W3"], self.params["b3"])
        self.last_layer = SoftmaxWithLoss()

    def predict(self, x):
        """Scores (N, output_size) before the softmax."""
        return layer_sequence.forward(list(self.layers.values()), x)

    def loss(self, x, t):
        """Cross-entropy loss of softmax(predict(x)) against t (one-hot or labels)."""
        y = self.predict(x)
        return self.last_layer.forward(y, t)

    def accuracy(self, x, t, batch_size=100):
        """Share of x classified as t, over whole batches of batch_size as the
        book (a remainder batch is not counted but the divisor is x.shape[0])."""
        return _accuracy(self.predict, x, t, batch_size)

    def numerical_gradient(self, x, t):
        """Gradients by central differences (slow; for checking), as the book's."""
        loss_w = lambda w: self.loss(x, t)  # noqa: E731 (the book's idiom)
        grads = {}
        for idx in (1, 2, 3):
            grads["W" + str(idx)] = numerical_gradient(loss_w, self.params["W" + str(idx)])
            grads["b" + str(idx)] = numerical_gradient(loss_w, self.params["b" + str(idx)])
        return grads

    def gradient(self, x, t):
        """Gradients by backpropagation: dict W1, b1, W2, b2, W3, b3."""
        self.loss(x, t)
        dout = self.last_layer.backward(1)
        layer_sequence.backward(list(self.layers.values()), dout)
        grads = {}
        grads["W1"], grads["b1"] = self.layers["Conv1"].dW, self.layers["Conv1"].db
        grads["W2"], grads["b2"] = self.layers["Affine1"].dW, self.layers["Affine1"].db
        grads["W3"], grads["b3"] = self.layers["Affine2"].dW, self.layers["Affine2"].db
        return grads

    def save_params(self, file_name="params.pkl"):
        """Write params: a pickle in the book's format, or .npz by the name."""
        params_io.save_params(self.params, file_name)

    def load_params(self, file_name="params.pkl"):
        """Read params written by this method or by the book's save_params
        (a restricted unpickler: no code in the file runs), or an .npz."""
        _load_into(self, file_name,
                   [self.layers[key] for key in ("Conv1", "Affine1", "Affine2")])
