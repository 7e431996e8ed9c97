"""The book's ``common/multi_layer_net_extend.py``: MultiLayerNet with weight
decay, Dropout and Batch Normalization."""
from collections import OrderedDict

import numpy as np

from .layers import BatchNormalization, Dropout, SoftmaxWithLoss
from .multi_layer_net import _ACTIVATIONS, _DenseNet, _sizes

__all__ = ["MultiLayerNetExtend"]


class MultiLayerNetExtend(_DenseNet):
    """A fully connected network with optional Batch Normalization and Dropout.

    Each hidden layer is Affine, [BatchNormalization], activation, [Dropout];
    then a last Affine and SoftmaxWithLoss.

    Parameters
    ----------
    input_size, hidden_size_list, output_size, activation, weight_init_std,
    weight_decay_lambda : as :class:`cnet.multi_layer_net.MultiLayerNet`.
    use_dropout : bool, default False
    dropout_ration : float, default 0.5
        The dropout ratio (the book spells the keyword this way).
    use_batchnorm : bool, default False

    Attributes
    ----------
    params : dict
        W1, b1, ..., and gamma1, beta1, ... (one per hidden layer) with batch norm.
    layers : OrderedDict
        'Affine1', ['BatchNorm1'], 'Activation_function1', ['Dropout1'], ...
    last_layer : SoftmaxWithLoss
    """

    def __init__(self, input_size, hidden_size_list, output_size, activation="relu",
                 weight_init_std="relu", weight_decay_lambda=0, use_dropout=False,
                 dropout_ration=0.5, use_batchnorm=False):
        self.input_size = input_size
        self.output_size = output_size
        self.hidden_size_list = hidden_size_list
        self.hidden_layer_num = len(hidden_size_list)
        self.use_dropout = use_dropout
        self.weight_decay_lambda = weight_decay_lambda
        self.use_batchnorm = use_batchnorm
        sizes = _sizes(input_size, hidden_size_list, output_size)
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

    def predict(self, x, train_flg=False):
        """The scores (N, output_size); ``train_flg`` switches Dropout and
        BatchNormalization to their training behaviour."""
        return self._forward(x, train_flg)

    def loss(self, x, t, train_flg=False):
        """Cross-entropy loss of the batch plus the weight-decay penalty."""
        return self._loss(x, t, train_flg)

    def numerical_gradient(self, x, t):
        """dict W1, b1, ... (gamma1, beta1, ... with batch norm) of the numerical
        gradient of the training loss (Dropout draws new masks on every call,
        as in the book)."""
        return self._numerical_gradient(x, t, True)

    def gradient(self, x, t):
        """dict W1, b1, ... (gamma1, beta1, ...) of the training loss's gradient
        by backpropagation."""
        return self._gradient(x, t, True)
