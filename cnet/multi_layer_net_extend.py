"""The book's ``common/multi_layer_net_extend.py``: MultiLayerNet with weight
decay, Dropout and Batch Normalization."""
from .multi_layer_net import _DenseNet

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
        self.use_dropout = use_dropout
        self.use_batchnorm = use_batchnorm
        self._build(input_size, hidden_size_list, output_size, activation, weight_init_std,
                    weight_decay_lambda, use_dropout, dropout_ration, use_batchnorm)

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
