"""The book's chapter-8 DeepConvNet (ch08/deep_convnet.py), on cnet's
compiled layers.

conv - relu - conv - relu - pool -
conv - relu - conv - relu - pool -
conv - relu - conv - relu - pool -
affine - relu - dropout - affine - dropout - softmax
"""
import numpy as np

from . import layer_sequence, params_io
from .layers import Affine, Convolution, Dropout, Pooling, Relu, SoftmaxWithLoss
from .simple_convnet import _accuracy, _float_dtype, _load_into

__all__ = ["DeepConvNet"]

# Positions in ``layers`` of the layers holding W1..W8, as in the book.
_WEIGHT_LAYERS = (0, 2, 5, 7, 10, 12, 15, 18)


class DeepConvNet:
    """The book's ConvNet for over 99 % test accuracy on MNIST.

    Parameters
    ----------
    input_dim : tuple (C, H, W), default (1, 28, 28)
    conv_param_1 .. conv_param_6 : dict with filter_num, filter_size, pad,
        stride (defaults: 16, 16, 32, 32, 64, 64 filters of 3x3, pad 1 except
        conv 4's pad 2)
    hidden_size : int, default 50
    output_size : int, default 10
    dtype : float64 (default, as the book) or float32 (a departure: about
        twice as fast)

    Attributes
    ----------
    params : dict W1..W8, b1..b8 (He initial scales); the layers hold the
        same arrays
    layers : list of the 21 layers, as the book's
    last_layer : SoftmaxWithLoss
    """

    def __init__(self, input_dim=(1, 28, 28),
                 conv_param_1={"filter_num": 16, "filter_size": 3, "pad": 1, "stride": 1},
                 conv_param_2={"filter_num": 16, "filter_size": 3, "pad": 1, "stride": 1},
                 conv_param_3={"filter_num": 32, "filter_size": 3, "pad": 1, "stride": 1},
                 conv_param_4={"filter_num": 32, "filter_size": 3, "pad": 2, "stride": 1},
                 conv_param_5={"filter_num": 64, "filter_size": 3, "pad": 1, "stride": 1},
                 conv_param_6={"filter_num": 64, "filter_size": 3, "pad": 1, "stride": 1},
                 hidden_size=50, output_size=10, dtype=np.float64):
        self.dtype = _float_dtype(dtype)
        conv_params = [conv_param_1, conv_param_2, conv_param_3, conv_param_4,
                       conv_param_5, conv_param_6]
        # Inputs per neuron of each layer (the book's fixed list) -> He scales.
        pre_node_nums = np.array([1 * 3 * 3, 16 * 3 * 3, 16 * 3 * 3, 32 * 3 * 3,
                                  32 * 3 * 3, 64 * 3 * 3, 64 * 4 * 4, hidden_size])
        weight_init_scales = np.sqrt(2.0 / pre_node_nums)

        self.params = {}
        pre_channel_num = input_dim[0]
        for idx, conv_param in enumerate(conv_params):
            self.params["W" + str(idx + 1)] = weight_init_scales[idx] * np.random.randn(
                conv_param["filter_num"], pre_channel_num, conv_param["filter_size"],
                conv_param["filter_size"])
            self.params["b" + str(idx + 1)] = np.zeros(conv_param["filter_num"])
            pre_channel_num = conv_param["filter_num"]
        self.params["W7"] = weight_init_scales[6] * np.random.randn(64 * 4 * 4, hidden_size)
        self.params["b7"] = np.zeros(hidden_size)
        self.params["W8"] = weight_init_scales[7] * np.random.randn(hidden_size, output_size)
        self.params["b8"] = np.zeros(output_size)
        if self.dtype != np.float64:
            self.params = {k: v.astype(self.dtype) for k, v in self.params.items()}

        p = self.params
        self.layers = []
        for idx in range(6):
            conv_param = conv_params[idx]
            self.layers.append(Convolution(p["W%d" % (idx + 1)], p["b%d" % (idx + 1)],
                                           conv_param["stride"], conv_param["pad"]))
            self.layers.append(Relu())
            if idx % 2 == 1:
                self.layers.append(Pooling(pool_h=2, pool_w=2, stride=2))
        self.layers.append(Affine(p["W7"], p["b7"]))
        self.layers.append(Relu())
        self.layers.append(Dropout(0.5))
        self.layers.append(Affine(p["W8"], p["b8"]))
        self.layers.append(Dropout(0.5))
        self.last_layer = SoftmaxWithLoss()

    def predict(self, x, train_flg=False):
        """Scores (N, output_size) before the softmax; Dropout drops units
        only when train_flg is true."""
        return layer_sequence.forward(self.layers, x, train_flg)

    def loss(self, x, t):
        """Cross-entropy loss of a training-mode forward (Dropout active)."""
        y = self.predict(x, train_flg=True)
        return self.last_layer.forward(y, t)

    def accuracy(self, x, t, batch_size=100):
        """Share of x classified as t (Dropout off), over whole batches of
        batch_size as the book."""
        return _accuracy(lambda tx: self.predict(tx, train_flg=False), x, t, batch_size)

    def gradient(self, x, t):
        """Gradients by backpropagation: dict W1..W8, b1..b8."""
        self.loss(x, t)
        dout = self.last_layer.backward(1)
        layer_sequence.backward(self.layers, dout)
        grads = {}
        for i, layer_idx in enumerate(_WEIGHT_LAYERS):
            grads["W" + str(i + 1)] = self.layers[layer_idx].dW
            grads["b" + str(i + 1)] = self.layers[layer_idx].db
        return grads

    def save_params(self, file_name="params.pkl"):
        """Write params: a pickle in the book's format, or .npz by the name."""
        params_io.save_params(self.params, file_name)

    def load_params(self, file_name="params.pkl"):
        """Read params written by this method or by the book's save_params
        (a restricted unpickler: no code in the file runs), or an .npz."""
        _load_into(self, file_name, [self.layers[i] for i in _WEIGHT_LAYERS])
