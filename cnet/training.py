"""The book's training recipes: build a network, train it with the book's loop,
save and load what it learned.

The loop is ``ch04/train_neuralnet.py``'s, line for line: a batch drawn with
``np.random.choice`` (with replacement), the gradient (backprop or numerical),
``params[key] -= lr * grad[key]`` for every parameter, the batch's loss, and
once per epoch the accuracy over the whole training and test sets, printed as
the book's ``train acc, test acc | ...`` line. ``cnet train`` runs it;
``cnet.benchmark`` times it.

A Ctrl-C (SIGINT) during :func:`train` in the main thread stops the loop after
the step under way, so the parameters are never left half-updated; the result
says how many steps ran. A second Ctrl-C interrupts at once.
"""
import importlib
import importlib.util
import math
import signal
import threading
import time
from dataclasses import dataclass, field

import numpy as np

__all__ = ["NETWORKS", "available_networks", "build_network", "train", "TrainingRun",
           "save_params", "load_params"]

# --net name -> (module, class, what it is). Offered only when the module is
# part of this copy of cnet (see available_networks).
NETWORKS = {
    "ch04": ("cnet.two_layer_net", "TwoLayerNet",
             "chapter 4: affine, sigmoid, affine, softmax (compiled kernels)"),
    "ch05": ("cnet.ch05_two_layer_net", "TwoLayerNet",
             "chapter 5: the same network built from layers (Affine, Relu, SoftmaxWithLoss)"),
    "multi": ("cnet.multi_layer_net", "MultiLayerNet",
              "chapter 6: MultiLayerNet, fully connected, ReLU"),
}
GRADS = ("backprop", "numerical")
_SEED_MAX = 2**32 - 1


def available_networks():
    """The keys of :data:`NETWORKS` whose module this copy of cnet holds."""
    return [name for name, (module, _, _) in NETWORKS.items()
            if importlib.util.find_spec(module) is not None]


def build_network(net="ch04", hidden=50, input_size=784, output_size=10,
                  dtype="float64", seed=0):
    """A network of the book, initialised as the book does after ``np.random.seed(seed)``.

    Parameters
    ----------
    net : str
        A key of :data:`NETWORKS`: ``"ch04"`` (default), ``"ch05"``, ``"multi"``.
    hidden : int
        Hidden units (for ``"multi"``: of each of its two hidden layers).
    input_size, output_size : int
        784 and 10 for MNIST.
    dtype : {"float64", "float32"}
        Parameter dtype; float32 only where the network supports it.
    seed : int
        Seed of NumPy's global generator, as the book's scripts use it.

    Returns
    -------
    object
        The network (``params`` dict, ``gradient``, ``numerical_gradient``,
        ``loss``, ``accuracy``).
    """
    if net not in NETWORKS:
        raise ValueError("net must be one of %s, got %r" % (", ".join(NETWORKS), net))
    if net not in available_networks():
        raise ValueError("net %r is not in this version of cnet (available: %s)"
                         % (net, ", ".join(available_networks())))
    check_seed(seed)
    module, cls_name, _ = NETWORKS[net]
    cls = getattr(importlib.import_module(module), cls_name)
    dtype = np.dtype(dtype)
    np.random.seed(seed)
    hidden_arg = [hidden, hidden] if net == "multi" else hidden
    if dtype == np.float64:
        return cls(input_size, hidden_arg, output_size)
    try:
        return cls(input_size, hidden_arg, output_size, dtype=dtype)
    except TypeError:
        raise ValueError("dtype %s is not available for net %r (float64 is)"
                         % (dtype, net)) from None


def check_seed(seed):
    """``seed`` as NumPy's legacy ``np.random.seed`` accepts it: 0 to 2**32 - 1."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError("seed must be an int, got %s" % type(seed).__name__)
    if not 0 <= seed <= _SEED_MAX:
        raise ValueError("seed must be between 0 and %d, got %d" % (_SEED_MAX, seed))
    return int(seed)


@dataclass
class TrainingRun:
    """What :func:`train` did.

    Attributes
    ----------
    iters : int
        Steps asked for.
    iters_done : int
        Steps completed (fewer than ``iters`` when interrupted).
    seconds : float
        Wall time of the loop, epoch accuracies included.
    train_loss : list of float
        The batch loss after every step (the book's ``train_loss_list``).
    train_acc, test_acc : list of float
        Accuracies at every epoch start (the book's lists).
    interrupted : bool
        The loop stopped early on Ctrl-C.
    """

    iters: int
    iters_done: int = 0
    seconds: float = 0.0
    train_loss: list = field(default_factory=list)
    train_acc: list = field(default_factory=list)
    test_acc: list = field(default_factory=list)
    interrupted: bool = False

    @property
    def iters_per_second(self):
        return self.iters_done / self.seconds if self.seconds > 0 else float("nan")


def check_hyperparameters(iters, batch_size, lr, train_size=None):
    """Refuse values the book's loop cannot use, naming the argument.

    ``batch_size`` may not exceed ``train_size``: the book draws batches with
    replacement, so a larger batch only repeats images (and a huge one
    exhausts memory).
    """
    for name, value in (("iters", iters), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError("%s must be an int, got %s" % (name, type(value).__name__))
        if value < 1:
            raise ValueError("%s must be >= 1, got %d" % (name, value))
    if train_size is not None and batch_size > train_size:
        raise ValueError("batch_size must be at most the number of training images "
                         "(%d), got %d" % (train_size, batch_size))
    try:
        lr_ok = math.isfinite(lr) and lr > 0
    except TypeError:
        raise TypeError("lr must be a number, got %s" % type(lr).__name__) from None
    if not lr_ok:
        raise ValueError("lr must be a finite number > 0, got %r" % (lr,))


class _StopOnSigint:
    """While active in the main thread, the first SIGINT only sets ``stop``."""

    def __init__(self):
        self.stop = False
        self._previous = None

    def _handler(self, signum, frame):
        if self.stop:
            raise KeyboardInterrupt
        self.stop = True

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        return False


def train(network, x_train, t_train, x_test, t_test, iters=10000, batch_size=100,
          lr=0.1, grad="backprop", seed=0, log=None, on_step=None):
    """Train ``network`` with the book's loop (``ch04/train_neuralnet.py``).

    Parameters
    ----------
    network : object
        With ``params``, ``gradient`` / ``numerical_gradient``, ``loss`` and
        ``accuracy`` (any of :data:`NETWORKS`, or the book's own classes).
    x_train, t_train, x_test, t_test : numpy.ndarray
        As ``load_mnist(normalize=True, one_hot_label=True)`` returns them.
    iters, batch_size : int
        Steps and images per step (the book: 10000 and 100).
    lr : float
        Learning rate (the book: 0.1).
    grad : {"backprop", "numerical"}
        ``network.gradient`` or ``network.numerical_gradient``.
    seed : int
        ``np.random.seed(seed)`` before the first batch is drawn, so runs
        with the same seed see the same batches.
    log : callable, optional
        Called with each epoch's ``"train acc, test acc | ..."`` line.
    on_step : callable, optional
        Called with the step's index and loss after every step (a progress bar).

    Returns
    -------
    TrainingRun
    """
    if grad not in GRADS:
        raise ValueError("grad must be one of %s, got %r" % (GRADS, grad))
    check_hyperparameters(iters, batch_size, lr, x_train.shape[0])
    check_seed(seed)
    gradient = network.numerical_gradient if grad == "numerical" else network.gradient
    np.random.seed(seed)
    train_size = x_train.shape[0]
    iter_per_epoch = max(train_size / batch_size, 1)
    run = TrainingRun(iters=iters)
    t0 = time.perf_counter()
    with _StopOnSigint() as sigint:
        for i in range(iters):
            batch_mask = np.random.choice(train_size, batch_size)
            x_batch = x_train[batch_mask]
            t_batch = t_train[batch_mask]
            g = gradient(x_batch, t_batch)
            for key in network.params:
                network.params[key] -= lr * g[key]
            loss = float(network.loss(x_batch, t_batch))
            run.train_loss.append(loss)
            if i % iter_per_epoch == 0:
                train_acc = network.accuracy(x_train, t_train)
                test_acc = network.accuracy(x_test, t_test)
                run.train_acc.append(float(train_acc))
                run.test_acc.append(float(test_acc))
                if log is not None:
                    log("train acc, test acc | " + str(train_acc) + ", " + str(test_acc))
            run.iters_done = i + 1
            if on_step is not None:
                on_step(i, loss)
            if sigint.stop:
                run.interrupted = True
                break
    run.seconds = time.perf_counter() - t0
    return run


def save_params(network, path, net=None):
    """Write ``network.params`` to ``path`` as an uncompressed ``.npz``.

    Parameters
    ----------
    network : object
        Any network with a ``params`` dict of arrays.
    path : str or os.PathLike
        Conventionally ending in ``.npz``.
    net : str, optional
        The :data:`NETWORKS` key, stored so that :func:`load_params` can
        rebuild the network without being told.
    """
    arrays = {key: np.asarray(value) for key, value in network.params.items()}
    if "net" in arrays:
        raise ValueError("a parameter may not be called 'net'")
    if net is not None:
        arrays["net"] = np.array(net)
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def load_params(path, network=None):
    """Load parameters written by :func:`save_params` (or ``cnet train --save``).

    Parameters
    ----------
    path : str or os.PathLike
    network : object, optional
        Whose ``params`` receive the arrays (copied in place, so layers that
        hold the arrays see them). Its parameters must have the saved names,
        shapes and dtypes. When omitted, a network of the saved kind and
        sizes is built (``"ch04"`` when the file does not say).

    Returns
    -------
    object
        ``network``, or the network built.
    """
    with np.load(path, allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    net = str(arrays.pop("net")) if "net" in arrays else "ch04"
    if network is None:
        if net not in ("ch04", "ch05"):
            raise ValueError("%s holds a %r network; pass network= to load it" % (path, net))
        W1, W2 = arrays.get("W1"), arrays.get("W2")
        if W1 is None or W2 is None or W1.ndim != 2 or W2.ndim != 2:
            raise ValueError("%s holds no W1 and W2 matrices" % (path,))
        network = build_network(net, hidden=W1.shape[1], input_size=W1.shape[0],
                                output_size=W2.shape[1], dtype=W1.dtype)
    params = network.params
    if set(arrays) != set(params):
        raise ValueError("%s holds parameters %s, the network has %s"
                         % (path, sorted(arrays), sorted(params)))
    for key, value in arrays.items():
        if value.shape != params[key].shape or value.dtype != params[key].dtype:
            raise ValueError("%s: %s is %s %s, the network's is %s %s" % (
                path, key, value.dtype, value.shape, params[key].dtype, params[key].shape))
    for key, value in arrays.items():
        params[key][...] = value
    return network
