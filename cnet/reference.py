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
    "cross_entropy_error", "softmax_loss",
    "numerical_diff", "_numerical_gradient_1d", "numerical_gradient_2d",
    "numerical_gradient", "gradient_descent",
    "TwoLayerNet", "SGD",
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
