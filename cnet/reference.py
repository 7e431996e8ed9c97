"""The book's semantics in plain NumPy: the oracle and the baseline.

Every compiled path of cnet is tested against the function of the same name
here, and every benchmark measures against it. The code follows the book's
formulas line by line, written for this project; where the book is broken on
today's NumPy (``np.int``, ``np.zeros(x)`` in the Korean ``relu_grad``, ``-x`` on
a bool array) it does what the book meant. It is deliberately slow: nothing
here is optimised.
"""
import numpy as np

__all__ = [
    "identity_function", "step_function", "sigmoid", "sigmoid_grad", "relu",
    "relu_grad", "softmax", "sum_squared_error", "mean_squared_error", "squared_error",
    "cross_entropy_error", "softmax_loss", "softmax_loss_forward", "softmax_loss_backward",
    "numerical_diff", "_numerical_gradient_1d", "numerical_gradient_2d",
    "numerical_gradient", "gradient_descent",
    "TwoLayerNet", "SGD",
    "Relu", "Sigmoid", "Affine", "SoftmaxWithLoss", "Dropout", "BatchNormalization",
    "Momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam",
    "smooth_curve", "shuffle_dataset", "conv_output_size",
    "MultiLayerNet", "MultiLayerNetExtend", "Ch05TwoLayerNet", "Trainer",
    "im2col", "col2im", "Convolution", "Pooling", "SimpleConvNet", "DeepConvNet",
]


def _as_float(x):
    """x as the floating array ``np.exp(x)`` would produce, values unchanged.

    The book's ``-x`` and ``x - max`` wrap around on unsigned integers and are
    refused on bool; converting first to the float type NumPy's ufuncs pick
    (float16 for 8-bit and bool, float32 for 16-bit, float64 for wider) gives
    what the book meant with the dtype the book's code returns.
    """
    if type(x) is bool:
        x = int(x)  # the book's -x turns a Python bool into an int
    x = np.asarray(x)
    if x.dtype.kind in "biu":
        x = x.astype(np.exp(np.zeros(0, x.dtype)).dtype)
    return x


# --- common/functions.py --------------------------------------------------

def identity_function(x):
    return x


def step_function(x):
    return np.array(np.asarray(x) > 0, dtype=np.int_)


def sigmoid(x):
    x = _as_float(x)
    # The book's formula; exp(-x) overflows to inf for x < -709 and the
    # result is the correct limit 0, so the warning carries no information.
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-x))


def sigmoid_grad(x):
    return (1.0 - sigmoid(x)) * sigmoid(x)


def relu(x):
    return np.maximum(0, x)


def relu_grad(x):
    x = np.asarray(x)
    grad = np.zeros_like(x)
    grad[x >= 0] = 1
    return grad


def softmax(x):
    x = _as_float(x)
    if x.ndim == 0:
        x = x.reshape(1)[0:1]
        return (np.exp(x - x) / np.sum(np.exp(x - x)))[0]
    x = x - np.max(x, axis=-1, keepdims=True)
    return np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)


def sum_squared_error(y, t):
    # The book's y - t has the dtype np.result_type gives (Python scalars
    # weak); with two integer operands it wraps (unsigned) or is refused
    # (bool), and its result 0.5 * sum(...) is float64: compute in that dtype.
    dtype = np.result_type(y if type(y) in (int, float) else np.asarray(y),
                           t if type(t) in (int, float) else np.asarray(t))
    if dtype.kind in "biu":
        dtype = np.dtype(np.float64)
    y, t = _sse_operand(y, dtype), _sse_operand(t, dtype)
    return 0.5 * np.sum((y - t) ** 2)


def _sse_operand(v, dtype):
    if type(v) in (int, float):
        return v  # weak, as in the book: it takes the other operand's dtype
    v = np.asarray(v)
    return v.astype(dtype) if v.dtype.kind in "biu" else v


mean_squared_error = sum_squared_error
squared_error = sum_squared_error


def cross_entropy_error(y, t):
    y = _as_float(y)
    t = np.asarray(t)
    if y.ndim == 1:
        t = t.reshape(1, t.size)
        y = y.reshape(1, y.size)
    if t.size == y.size:
        t = t.argmax(axis=1)
    batch_size = y.shape[0]
    return -np.sum(np.log(y[np.arange(batch_size), t] + 1e-7)) / batch_size


def softmax_loss(X, t):
    y = softmax(X)
    return cross_entropy_error(y, t)


# --- common/gradient.py and chapter 4 ------------------------------------

def numerical_diff(f, x):
    h = 1e-4
    return (f(x + h) - f(x - h)) / (2 * h)


def _numerical_gradient_1d(f, x):
    h = 1e-4
    grad = np.zeros_like(x)
    for idx in range(x.size):
        tmp_val = x[idx]
        x[idx] = float(tmp_val) + h
        fxh1 = f(x)
        x[idx] = tmp_val - h
        fxh2 = f(x)
        grad[idx] = (fxh1 - fxh2) / (2 * h)
        x[idx] = tmp_val
    return grad


def numerical_gradient_2d(f, X):
    if X.ndim == 1:
        return _numerical_gradient_1d(f, X)
    grad = np.zeros_like(X)
    for idx, x in enumerate(X):
        grad[idx] = _numerical_gradient_1d(f, x)
    return grad


def numerical_gradient(f, x):
    h = 1e-4
    grad = np.zeros_like(x)
    for idx in np.ndindex(*x.shape):  # C order, as the book's nditer walk
        tmp_val = x[idx]
        x[idx] = float(tmp_val) + h
        fxh1 = f(x)
        x[idx] = tmp_val - h
        fxh2 = f(x)
        grad[idx] = (fxh1 - fxh2) / (2 * h)
        x[idx] = tmp_val
    return grad


def gradient_descent(f, init_x, lr=0.01, step_num=100):
    x = init_x
    for _ in range(step_num):
        grad = numerical_gradient(f, x)
        x -= lr * grad
    return x


# --- ch04/two_layer_net.py ------------------------------------------------

class TwoLayerNet:
    """The book's chapter-4 network, formula for formula."""

    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
        self.params = {}
        self.params["W1"] = weight_init_std * np.random.randn(input_size, hidden_size)
        self.params["b1"] = np.zeros(hidden_size)
        self.params["W2"] = weight_init_std * np.random.randn(hidden_size, output_size)
        self.params["b2"] = np.zeros(output_size)

    def predict(self, x):
        W1, W2 = self.params["W1"], self.params["W2"]
        b1, b2 = self.params["b1"], self.params["b2"]
        a1 = np.dot(x, W1) + b1
        z1 = sigmoid(a1)
        a2 = np.dot(z1, W2) + b2
        y = softmax(a2)
        return y

    def loss(self, x, t):
        y = self.predict(x)
        return cross_entropy_error(y, t)

    def accuracy(self, x, t):
        y = self.predict(x)
        y = np.argmax(y, axis=1)
        t = np.asarray(t)
        if t.ndim != 1:
            t = np.argmax(t, axis=1)
        return np.sum(y == t) / float(x.shape[0])

    def numerical_gradient(self, x, t):
        loss_W = lambda W: self.loss(x, t)  # noqa: E731 (the book's idiom)
        grads = {}
        for key in ("W1", "b1", "W2", "b2"):
            grads[key] = numerical_gradient(loss_W, self.params[key])
        return grads

    def gradient(self, x, t):
        W1, W2 = self.params["W1"], self.params["W2"]
        b1, b2 = self.params["b1"], self.params["b2"]
        grads = {}
        batch_num = x.shape[0]
        t = np.asarray(t)
        if t.ndim == 1:  # index labels, as the chapter-5 network accepts
            t = np.eye(W2.shape[1])[t]

        a1 = np.dot(x, W1) + b1
        z1 = sigmoid(a1)
        a2 = np.dot(z1, W2) + b2
        y = softmax(a2)

        dy = (y - t) / batch_num
        grads["W2"] = np.dot(z1.T, dy)
        grads["b2"] = np.sum(dy, axis=0)
        da1 = np.dot(dy, W2.T)
        dz1 = sigmoid_grad(a1) * da1
        grads["W1"] = np.dot(x.T, dz1)
        grads["b1"] = np.sum(dz1, axis=0)
        return grads


# --- common/optimizer.py ---------------------------------------------------

class SGD:
    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        for key in params.keys():
            params[key] -= self.lr * grads[key]


# --- common/layers.py ------------------------------------------------------
# The twins of cnet.layers, cnet.optimizer, cnet.util, cnet.multi_layer_net(_extend),
# cnet.trainer and cnet.ch05_two_layer_net: the book's formulas, one per line.

class Relu:
    def __init__(self):
        self.mask = None

    def forward(self, x):
        self.mask = x <= 0
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        dout[self.mask] = 0
        return dout


class Sigmoid:
    def __init__(self):
        self.out = None

    def forward(self, x):
        self.out = sigmoid(x)
        return self.out

    def backward(self, dout):
        return dout * (1.0 - self.out) * self.out


class Affine:
    def __init__(self, W, b):
        self.W, self.b = W, b
        self.x = self.original_x_shape = self.dW = self.db = None

    def forward(self, x):
        self.original_x_shape = x.shape
        self.x = x.reshape(x.shape[0], -1)
        return np.dot(self.x, self.W) + self.b

    def backward(self, dout):
        dx = np.dot(dout, self.W.T)
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)
        return dx.reshape(*self.original_x_shape)


class SoftmaxWithLoss:
    def __init__(self):
        self.loss = self.y = self.t = None

    def forward(self, x, t):
        self.t = t
        self.y = softmax(x)
        self.loss = cross_entropy_error(self.y, self.t)
        return self.loss

    def backward(self, dout=1):
        batch_size = self.t.shape[0]
        if self.t.size == self.y.size:
            return (self.y - self.t) / batch_size
        dx = self.y.copy()
        dx[np.arange(batch_size), self.t] -= 1
        return dx / batch_size


class Dropout:
    def __init__(self, dropout_ratio=0.5):
        self.dropout_ratio = dropout_ratio
        self.mask = None

    def forward(self, x, train_flg=True):
        if train_flg:
            self.mask = np.random.rand(*x.shape) > self.dropout_ratio
            return x * self.mask
        return x * (1.0 - self.dropout_ratio)

    def backward(self, dout):
        return dout * self.mask


class BatchNormalization:
    def __init__(self, gamma, beta, momentum=0.9, running_mean=None, running_var=None):
        self.gamma, self.beta, self.momentum = gamma, beta, momentum
        self.running_mean, self.running_var = running_mean, running_var
        self.input_shape = self.batch_size = self.xc = self.xn = self.std = None
        self.dgamma = self.dbeta = None

    def forward(self, x, train_flg=True):
        self.input_shape = x.shape
        x = x.reshape(x.shape[0], -1)
        if self.running_mean is None:
            self.running_mean = np.zeros(x.shape[1])
            self.running_var = np.zeros(x.shape[1])
        if train_flg:
            mu = x.mean(axis=0)
            xc = x - mu
            var = np.mean(xc ** 2, axis=0)
            std = np.sqrt(var + 10e-7)
            xn = xc / std
            self.batch_size, self.xc, self.xn, self.std = x.shape[0], xc, xn, std
            self.running_mean = self.momentum * self.running_mean + (1 - self.momentum) * mu
            self.running_var = self.momentum * self.running_var + (1 - self.momentum) * var
        else:
            xc = x - self.running_mean
            xn = xc / np.sqrt(self.running_var + 10e-7)
        return (self.gamma * xn + self.beta).reshape(*self.input_shape)

    def backward(self, dout):
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
        self.dgamma, self.dbeta = dgamma, dbeta
        return dx.reshape(*self.input_shape)


# --- common/util.py (dense part) ---------------------------------------------

def smooth_curve(x):
    window_len = 11
    s = np.r_[x[window_len - 1:0:-1], x, x[-1:-window_len:-1]]
    w = np.kaiser(window_len, 2)
    y = np.convolve(w / w.sum(), s, mode="valid")
    return y[5:len(y) - 5]


def shuffle_dataset(x, t):
    permutation = np.random.permutation(x.shape[0])
    return x[permutation], t[permutation]


def conv_output_size(input_size, filter_size, stride=1, pad=0):
    return (input_size + 2 * pad - filter_size) / stride + 1


# --- common/optimizer.py (the five after SGD) ---------------------------------

class Momentum:
    def __init__(self, lr=0.01, momentum=0.9):
        self.lr, self.momentum, self.v = lr, momentum, None

    def update(self, params, grads):
        if self.v is None:
            self.v = {key: np.zeros_like(val) for key, val in params.items()}
        for key in params.keys():
            self.v[key] = self.momentum * self.v[key] - self.lr * grads[key]
            params[key] += self.v[key]


class Nesterov:
    def __init__(self, lr=0.01, momentum=0.9):
        self.lr, self.momentum, self.v = lr, momentum, None

    def update(self, params, grads):
        if self.v is None:
            self.v = {key: np.zeros_like(val) for key, val in params.items()}
        for key in params.keys():
            params[key] += self.momentum * self.momentum * self.v[key]
            params[key] -= (1 + self.momentum) * self.lr * grads[key]
            self.v[key] *= self.momentum
            self.v[key] -= self.lr * grads[key]


class AdaGrad:
    def __init__(self, lr=0.01):
        self.lr, self.h = lr, None

    def update(self, params, grads):
        if self.h is None:
            self.h = {key: np.zeros_like(val) for key, val in params.items()}
        for key in params.keys():
            self.h[key] += grads[key] * grads[key]
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)


class RMSprop:
    def __init__(self, lr=0.01, decay_rate=0.99):
        self.lr, self.decay_rate, self.h = lr, decay_rate, None

    def update(self, params, grads):
        if self.h is None:
            self.h = {key: np.zeros_like(val) for key, val in params.items()}
        for key in params.keys():
            self.h[key] *= self.decay_rate
            self.h[key] += (1 - self.decay_rate) * grads[key] * grads[key]
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)


class Adam:
    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
        self.lr, self.beta1, self.beta2 = lr, beta1, beta2
        self.iter, self.m, self.v = 0, None, None

    def update(self, params, grads):
        if self.m is None:
            self.m = {key: np.zeros_like(val) for key, val in params.items()}
            self.v = {key: np.zeros_like(val) for key, val in params.items()}
        self.iter += 1
        lr_t = self.lr * np.sqrt(1.0 - self.beta2 ** self.iter) / (1.0 - self.beta1 ** self.iter)
        for key in params.keys():
            self.m[key] += (1 - self.beta1) * (grads[key] - self.m[key])
            self.v[key] += (1 - self.beta2) * (grads[key] ** 2 - self.v[key])
            params[key] -= lr_t * self.m[key] / (np.sqrt(self.v[key]) + 1e-7)


# --- common/multi_layer_net.py, common/multi_layer_net_extend.py -------------

def _init_scale(weight_init_std, fan_in):
    name = str(weight_init_std).lower()
    if name in ("relu", "he"):
        return np.sqrt(2.0 / fan_in)
    if name in ("sigmoid", "xavier"):
        return np.sqrt(1.0 / fan_in)
    return weight_init_std


class MultiLayerNetExtend:
    """The book's MultiLayerNetExtend; MultiLayerNet is it without dropout and
    batch norm (the same layers, draws and formulas)."""

    def __init__(self, input_size, hidden_size_list, output_size, activation="relu",
                 weight_init_std="relu", weight_decay_lambda=0, use_dropout=False,
                 dropout_ration=0.5, use_batchnorm=False):
        self.hidden_layer_num = len(hidden_size_list)
        self.weight_decay_lambda = weight_decay_lambda
        self.use_batchnorm = use_batchnorm
        self.params = {}
        sizes = [input_size] + list(hidden_size_list) + [output_size]
        for idx in range(1, len(sizes)):
            scale = _init_scale(weight_init_std, sizes[idx - 1])
            self.params["W%d" % idx] = scale * np.random.randn(sizes[idx - 1], sizes[idx])
            self.params["b%d" % idx] = np.zeros(sizes[idx])
        act = {"sigmoid": Sigmoid, "relu": Relu}[activation]
        self.layers = {}
        for idx in range(1, self.hidden_layer_num + 1):
            self.layers["Affine%d" % idx] = Affine(self.params["W%d" % idx],
                                                   self.params["b%d" % idx])
            if use_batchnorm:
                self.params["gamma%d" % idx] = np.ones(hidden_size_list[idx - 1])
                self.params["beta%d" % idx] = np.zeros(hidden_size_list[idx - 1])
                self.layers["BatchNorm%d" % idx] = BatchNormalization(
                    self.params["gamma%d" % idx], self.params["beta%d" % idx])
            self.layers["Activation_function%d" % idx] = act()
            if use_dropout:
                self.layers["Dropout%d" % idx] = Dropout(dropout_ration)
        idx = self.hidden_layer_num + 1
        self.layers["Affine%d" % idx] = Affine(self.params["W%d" % idx], self.params["b%d" % idx])
        self.last_layer = SoftmaxWithLoss()

    def predict(self, x, train_flg=False):
        return self._forward(x, train_flg)

    def _forward(self, x, train_flg):
        for key, layer in self.layers.items():
            if "Dropout" in key or "BatchNorm" in key:
                x = layer.forward(x, train_flg)
            else:
                x = layer.forward(x)
        return x

    def loss(self, x, t, train_flg=False):
        y = self._forward(x, train_flg)
        weight_decay = 0
        for idx in range(1, self.hidden_layer_num + 2):
            W = self.params["W%d" % idx]
            weight_decay += 0.5 * self.weight_decay_lambda * np.sum(W ** 2)
        return self.last_layer.forward(y, t) + weight_decay

    def accuracy(self, x, t):
        y = np.argmax(self._forward(x, False), axis=1)
        if t.ndim != 1:
            t = np.argmax(t, axis=1)
        return np.sum(y == t) / float(x.shape[0])

    def _keys(self):
        for idx in range(1, self.hidden_layer_num + 2):
            yield idx, "W%d" % idx, "b%d" % idx

    def _loss(self, x, t, train_flg):
        return MultiLayerNetExtend.loss(self, x, t, train_flg)

    def numerical_gradient(self, x, t):
        loss_W = lambda W: self._loss(x, t, True)  # noqa: E731
        grads = {}
        for idx, W, b in self._keys():
            grads[W] = numerical_gradient(loss_W, self.params[W])
            grads[b] = numerical_gradient(loss_W, self.params[b])
            if self.use_batchnorm and idx != self.hidden_layer_num + 1:
                for key in ("gamma%d" % idx, "beta%d" % idx):
                    grads[key] = numerical_gradient(loss_W, self.params[key])
        return grads

    def gradient(self, x, t):
        self._loss(x, t, True)
        dout = self.last_layer.backward(1)
        for layer in reversed(list(self.layers.values())):
            dout = layer.backward(dout)
        grads = {}
        for idx, W, b in self._keys():
            affine = self.layers["Affine%d" % idx]
            grads[W] = affine.dW + self.weight_decay_lambda * self.params[W]
            grads[b] = affine.db
            if self.use_batchnorm and idx != self.hidden_layer_num + 1:
                grads["gamma%d" % idx] = self.layers["BatchNorm%d" % idx].dgamma
                grads["beta%d" % idx] = self.layers["BatchNorm%d" % idx].dbeta
        return grads


class MultiLayerNet(MultiLayerNetExtend):
    def __init__(self, input_size, hidden_size_list, output_size, activation="relu",
                 weight_init_std="relu", weight_decay_lambda=0):
        super().__init__(input_size, hidden_size_list, output_size, activation,
                         weight_init_std, weight_decay_lambda)

    def predict(self, x):
        return super().predict(x)

    def loss(self, x, t):
        return super().loss(x, t)


# --- ch05/two_layer_net.py -----------------------------------------------------

class Ch05TwoLayerNet(MultiLayerNet):
    """The chapter-5 TwoLayerNet: Affine1, Relu1, Affine2, SoftmaxWithLoss, with the
    book's weight_init_std scale (not He)."""

    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
        super().__init__(input_size, [hidden_size], output_size, "relu", weight_init_std)


# --- common/trainer.py ---------------------------------------------------------

class Trainer:
    def __init__(self, network, x_train, t_train, x_test, t_test, epochs=20,
                 mini_batch_size=100, optimizer="SGD", optimizer_param={"lr": 0.01},
                 evaluate_sample_num_per_epoch=None, verbose=True):
        self.network, self.verbose = network, verbose
        self.x_train, self.t_train, self.x_test, self.t_test = x_train, t_train, x_test, t_test
        self.epochs, self.batch_size = epochs, mini_batch_size
        self.evaluate_sample_num_per_epoch = evaluate_sample_num_per_epoch
        classes = {"sgd": SGD, "momentum": Momentum, "nesterov": Nesterov,
                   "adagrad": AdaGrad, "rmsprop": RMSprop, "adam": Adam}
        self.optimizer = classes[optimizer.lower()](**optimizer_param)
        self.train_size = x_train.shape[0]
        self.iter_per_epoch = max(self.train_size / mini_batch_size, 1)
        self.max_iter = int(epochs * self.iter_per_epoch)
        self.current_iter = self.current_epoch = 0
        self.train_loss_list, self.train_acc_list, self.test_acc_list = [], [], []

    def train_step(self):
        batch_mask = np.random.choice(self.train_size, self.batch_size)
        x_batch, t_batch = self.x_train[batch_mask], self.t_train[batch_mask]
        grads = self.network.gradient(x_batch, t_batch)
        self.optimizer.update(self.network.params, grads)
        loss = self.network.loss(x_batch, t_batch)
        self.train_loss_list.append(loss)
        if self.verbose:
            print("train loss:" + str(loss))
        if self.current_iter % self.iter_per_epoch == 0:
            self.current_epoch += 1
            x_tr, t_tr, x_te, t_te = self.x_train, self.t_train, self.x_test, self.t_test
            n = self.evaluate_sample_num_per_epoch
            if n is not None:
                x_tr, t_tr, x_te, t_te = x_tr[:n], t_tr[:n], x_te[:n], t_te[:n]
            train_acc = self.network.accuracy(x_tr, t_tr)
            test_acc = self.network.accuracy(x_te, t_te)
            self.train_acc_list.append(train_acc)
            self.test_acc_list.append(test_acc)
            if self.verbose:
                print("=== epoch:" + str(self.current_epoch) + ", train acc:" + str(train_acc)
                      + ", test acc:" + str(test_acc) + " ===")
        self.current_iter += 1

    def train(self):
        for _ in range(self.max_iter):
            self.train_step()
        test_acc = self.network.accuracy(self.x_test, self.t_test)
        if self.verbose:
            print("=============== Final Test Accuracy ===============")
            print("test acc:" + str(test_acc))


# --- the fused softmax + cross-entropy + dy (cnet._functions) ---------------
# The book's SoftmaxWithLoss (common/layers.py) as two plain functions: the
# twins of cnet._functions.softmax_loss_forward and softmax_loss_backward.

def softmax_loss_forward(x, t):
    """(y, loss): the book's SoftmaxWithLoss.forward, y = softmax(x)."""
    y = softmax(x)
    return y, cross_entropy_error(y, t)


def softmax_loss_backward(y, t):
    """dx of the book's SoftmaxWithLoss.backward with dout = 1."""
    y = np.asarray(y)
    t = np.asarray(t)
    batch_size = t.shape[0]
    if t.size == y.size:
        return (y - t) / batch_size
    dx = y.copy()
    dx[np.arange(batch_size), t] -= 1
    return dx / batch_size


# --- common/util.py im2col/col2im, common/layers.py Convolution and Pooling --

def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    N, C, H, W = input_data.shape
    out_h = (H + 2 * pad - filter_h) // stride + 1
    out_w = (W + 2 * pad - filter_w) // stride + 1
    img = np.pad(input_data, [(0, 0), (0, 0), (pad, pad), (pad, pad)], "constant")
    col = np.zeros((N, C, filter_h, filter_w, out_h, out_w))
    # one slab per filter position: every output position's (ky, kx) cell
    for ky in range(filter_h):
        y_end = ky + stride * out_h
        for kx in range(filter_w):
            x_end = kx + stride * out_w
            col[:, :, ky, kx, :, :] = img[:, :, ky:y_end:stride, kx:x_end:stride]
    # rows (n, oy, ox), columns (c, ky, kx)
    return col.transpose(0, 4, 5, 1, 2, 3).reshape(N * out_h * out_w, -1)


def col2im(col, input_shape, filter_h, filter_w, stride=1, pad=0):
    N, C, H, W = input_shape
    out_h = (H + 2 * pad - filter_h) // stride + 1
    out_w = (W + 2 * pad - filter_w) // stride + 1
    col = col.reshape(N, out_h, out_w, C, filter_h, filter_w).transpose(0, 3, 4, 5, 1, 2)
    img = np.zeros((N, C, H + 2 * pad + stride - 1, W + 2 * pad + stride - 1))
    for ky in range(filter_h):
        y_end = ky + stride * out_h
        for kx in range(filter_w):
            x_end = kx + stride * out_w
            img[:, :, ky:y_end:stride, kx:x_end:stride] += col[:, :, ky, kx, :, :]
    return img[:, :, pad:H + pad, pad:W + pad]


class Convolution:
    def __init__(self, W, b, stride=1, pad=0):
        self.W = W
        self.b = b
        self.stride = stride
        self.pad = pad
        self.x = None
        self.col = None
        self.col_W = None
        self.dW = None
        self.db = None

    def forward(self, x):
        FN, C, FH, FW = self.W.shape
        N, C, H, W = x.shape
        out_h = 1 + int((H + 2 * self.pad - FH) / self.stride)
        out_w = 1 + int((W + 2 * self.pad - FW) / self.stride)
        col = im2col(x, FH, FW, self.stride, self.pad)   # (N*out_h*out_w, C*FH*FW)
        col_W = self.W.reshape(FN, -1).T                  # (C*FH*FW, FN)
        out = np.dot(col, col_W) + self.b
        out = out.reshape(N, out_h, out_w, -1).transpose(0, 3, 1, 2)
        self.x = x
        self.col = col
        self.col_W = col_W
        return out

    def backward(self, dout):
        FN, C, FH, FW = self.W.shape
        dout = dout.transpose(0, 2, 3, 1).reshape(-1, FN)
        self.db = np.sum(dout, axis=0)
        self.dW = np.dot(self.col.T, dout).transpose(1, 0).reshape(FN, C, FH, FW)
        dcol = np.dot(dout, self.col_W.T)
        return col2im(dcol, self.x.shape, FH, FW, self.stride, self.pad)


class Pooling:
    def __init__(self, pool_h, pool_w, stride=2, pad=0):
        self.pool_h = pool_h
        self.pool_w = pool_w
        self.stride = stride
        self.pad = pad
        self.x = None
        self.arg_max = None

    def forward(self, x):
        N, C, H, W = x.shape
        # the book's int(1 + (H - pool_h) / stride), with the padding it meant
        out_h = (H + 2 * self.pad - self.pool_h) // self.stride + 1
        out_w = (W + 2 * self.pad - self.pool_w) // self.stride + 1
        col = im2col(x, self.pool_h, self.pool_w, self.stride, self.pad)
        col = col.reshape(-1, self.pool_h * self.pool_w)   # one window per row
        arg_max = np.argmax(col, axis=1)
        out = np.max(col, axis=1)
        out = out.reshape(N, out_h, out_w, C).transpose(0, 3, 1, 2)
        self.x = x
        self.arg_max = arg_max
        return out

    def backward(self, dout):
        dout = dout.transpose(0, 2, 3, 1)
        pool_size = self.pool_h * self.pool_w
        dmax = np.zeros((dout.size, pool_size))
        dmax[np.arange(self.arg_max.size), self.arg_max.flatten()] = dout.flatten()
        dmax = dmax.reshape(dout.shape + (pool_size,))
        dcol = dmax.reshape(dmax.shape[0] * dmax.shape[1] * dmax.shape[2], -1)
        return col2im(dcol, self.x.shape, self.pool_h, self.pool_w, self.stride, self.pad)


# --- ch07/simple_convnet.py, ch08/deep_convnet.py ----------------------------

class SimpleConvNet:
    """conv - relu - pool - affine - relu - affine - softmax, as the book's."""

    def __init__(self, input_dim=(1, 28, 28),
                 conv_param={"filter_num": 30, "filter_size": 5, "pad": 0, "stride": 1},
                 hidden_size=100, output_size=10, weight_init_std=0.01):
        from collections import OrderedDict
        filter_num = conv_param["filter_num"]
        filter_size = conv_param["filter_size"]
        conv_output_size = ((input_dim[1] - filter_size + 2 * conv_param["pad"])
                            / conv_param["stride"] + 1)
        pool_output_size = int(filter_num * (conv_output_size / 2) * (conv_output_size / 2))
        self.params = {}
        self.params["W1"] = weight_init_std * np.random.randn(
            filter_num, input_dim[0], filter_size, filter_size)
        self.params["b1"] = np.zeros(filter_num)
        self.params["W2"] = weight_init_std * np.random.randn(pool_output_size, hidden_size)
        self.params["b2"] = np.zeros(hidden_size)
        self.params["W3"] = weight_init_std * np.random.randn(hidden_size, output_size)
        self.params["b3"] = np.zeros(output_size)
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
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        return self.last_layer.forward(self.predict(x), t)

    def accuracy(self, x, t, batch_size=100):
        if t.ndim != 1:
            t = np.argmax(t, axis=1)
        acc = 0.0
        for i in range(int(x.shape[0] / batch_size)):
            tx = x[i * batch_size:(i + 1) * batch_size]
            tt = t[i * batch_size:(i + 1) * batch_size]
            acc += np.sum(np.argmax(self.predict(tx), axis=1) == tt)
        return acc / x.shape[0]

    def gradient(self, x, t):
        self.loss(x, t)
        dout = self.last_layer.backward(1)
        for layer in reversed(list(self.layers.values())):
            dout = layer.backward(dout)
        grads = {}
        for i, key in enumerate(("Conv1", "Affine1", "Affine2")):
            grads["W%d" % (i + 1)] = self.layers[key].dW
            grads["b%d" % (i + 1)] = self.layers[key].db
        return grads


class DeepConvNet:
    """Six 3x3 convolutions, three poolings, two affine layers with dropout,
    as the book's."""

    _weight_layers = (0, 2, 5, 7, 10, 12, 15, 18)

    def __init__(self, input_dim=(1, 28, 28), hidden_size=50, output_size=10):
        filters = (16, 16, 32, 32, 64, 64)
        pads = (1, 1, 1, 2, 1, 1)
        pre_node_nums = np.array([1 * 3 * 3, 16 * 3 * 3, 16 * 3 * 3, 32 * 3 * 3,
                                  32 * 3 * 3, 64 * 3 * 3, 64 * 4 * 4, hidden_size])
        scales = np.sqrt(2.0 / pre_node_nums)
        self.params = {}
        pre_channel_num = input_dim[0]
        for idx, fn in enumerate(filters):
            self.params["W%d" % (idx + 1)] = scales[idx] * np.random.randn(
                fn, pre_channel_num, 3, 3)
            self.params["b%d" % (idx + 1)] = np.zeros(fn)
            pre_channel_num = fn
        self.params["W7"] = scales[6] * np.random.randn(64 * 4 * 4, hidden_size)
        self.params["b7"] = np.zeros(hidden_size)
        self.params["W8"] = scales[7] * np.random.randn(hidden_size, output_size)
        self.params["b8"] = np.zeros(output_size)
        p = self.params
        self.layers = []
        for idx in range(6):
            self.layers.append(Convolution(p["W%d" % (idx + 1)], p["b%d" % (idx + 1)],
                                           1, pads[idx]))
            self.layers.append(Relu())
            if idx % 2 == 1:
                self.layers.append(Pooling(pool_h=2, pool_w=2, stride=2))
        self.layers += [Affine(p["W7"], p["b7"]), Relu(), Dropout(0.5),
                        Affine(p["W8"], p["b8"]), Dropout(0.5)]
        self.last_layer = SoftmaxWithLoss()

    def predict(self, x, train_flg=False):
        for layer in self.layers:
            if isinstance(layer, Dropout):
                x = layer.forward(x, train_flg)
            else:
                x = layer.forward(x)
        return x

    def loss(self, x, t):
        return self.last_layer.forward(self.predict(x, train_flg=True), t)

    def gradient(self, x, t):
        self.loss(x, t)
        dout = self.last_layer.backward(1)
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        grads = {}
        for i, idx in enumerate(self._weight_layers):
            grads["W%d" % (i + 1)] = self.layers[idx].dW
            grads["b%d" % (i + 1)] = self.layers[idx].db
        return grads
