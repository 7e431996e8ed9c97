"""The chapter-5 two-layer network (the book's ``ch05/two_layer_net.py``).

Chapter 5 rebuilds chapter 4's TwoLayerNet from layers, with ReLU in place of
sigmoid: Affine1, Relu1, Affine2 and a SoftmaxWithLoss ``lastLayer``. It has
the same class name as chapter 4's network (:class:`cnet.TwoLayerNet`), so it
lives in its own module: ``from cnet.ch05_two_layer_net import TwoLayerNet``.
"""
from collections import OrderedDict

from .layers import Relu, SoftmaxWithLoss
from .multi_layer_net import _DenseNet, _sizes

__all__ = ["TwoLayerNet"]


class TwoLayerNet(_DenseNet):
    """Affine -> ReLU -> Affine -> softmax with cross-entropy loss.

    Parameters
    ----------
    input_size, hidden_size, output_size : int
    weight_init_std : float, default 0.01
        W1 and W2 are ``weight_init_std * np.random.randn(...)``, drawn in the
        book's order (W1 then W2); b1 and b2 are zeros.

    Attributes
    ----------
    params : dict
        W1 (input_size, hidden_size), b1, W2 (hidden_size, output_size), b2:
        float64, shared with the Affine layers.
    layers : OrderedDict
        'Affine1', 'Relu1', 'Affine2'.
    lastLayer : SoftmaxWithLoss
    """

    weight_decay_lambda = 0
    _decay_in_grads = False

    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
        sizes = _sizes(input_size, [hidden_size], output_size)
        self._init_weights(sizes, weight_init_std)
        self.layers = OrderedDict()
        self._affine_keys = []
        self._norm_keys = []
        self._add_affine(1)
        self.layers["Relu1"] = Relu()
        self._add_affine(2)
        self.lastLayer = SoftmaxWithLoss()

    def _last_layer(self):
        return self.lastLayer

    def predict(self, x):
        """The scores (N, output_size) before softmax."""
        return self._forward(x, False)

    def loss(self, x, t):
        """The cross-entropy loss of softmax(predict(x)) against t (one-hot or indices)."""
        return self._loss(x, t, False)

    def numerical_gradient(self, x, t):
        """dict W1, b1, W2, b2 of the loss's numerical gradient (slow)."""
        return self._numerical_gradient(x, t, False)

    def gradient(self, x, t):
        """dict W1, b1, W2, b2 of the loss's gradient by backpropagation."""
        return self._gradient(x, t, False)
