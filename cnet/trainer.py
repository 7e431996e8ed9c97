"""The book's ``common/trainer.py``: a training loop over mini-batches."""
import numpy as np

from .optimizer import AdaGrad, Adam, Momentum, Nesterov, RMSprop, SGD

__all__ = ["Trainer"]

_OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "nesterov": Nesterov,
               "adagrad": AdaGrad, "rmsprop": RMSprop, "adam": Adam}


class Trainer:
    """Train a network with mini-batch gradient descent, printing as the book does.

    Each step draws ``np.random.choice(train_size, mini_batch_size)`` (with
    replacement, as the book), computes ``network.gradient``, lets the
    optimizer update ``network.params``, then records ``network.loss`` on the
    same batch (printed ``train loss:<loss>`` when verbose). At the start of
    every epoch it evaluates the accuracy on the first
    ``evaluate_sample_num_per_epoch`` training and test images (all when
    None) and prints ``=== epoch:<e>, train acc:<a>, test acc:<b> ===``.

    Parameters
    ----------
    network : object with params, gradient(x, t), loss(x, t), accuracy(x, t)
    x_train, t_train, x_test, t_test : ndarray
    epochs : int, default 20
    mini_batch_size : int, default 100
    optimizer : str, default 'SGD'
        'SGD', 'Momentum', 'Nesterov', 'AdaGrad', 'RMSprop' or 'Adam' (any case).
    optimizer_param : dict, default {'lr': 0.01}
        Keyword arguments of the optimizer.
    evaluate_sample_num_per_epoch : int or None, default None
    verbose : bool, default True

    Attributes
    ----------
    train_loss_list, train_acc_list, test_acc_list : list
    optimizer : the optimizer instance
    iter_per_epoch : float; max_iter : int
    """

    def __init__(self, network, x_train, t_train, x_test, t_test, epochs=20,
                 mini_batch_size=100, optimizer="SGD", optimizer_param={"lr": 0.01},
                 evaluate_sample_num_per_epoch=None, verbose=True):
        self.network = network
        self.verbose = verbose
        self.x_train = x_train
        self.t_train = t_train
        self.x_test = x_test
        self.t_test = t_test
        self.epochs = epochs
        self.batch_size = mini_batch_size
        self.evaluate_sample_num_per_epoch = evaluate_sample_num_per_epoch
        if not isinstance(optimizer, str) or optimizer.lower() not in _OPTIMIZERS:
            raise ValueError("optimizer must be one of 'SGD', 'Momentum', 'Nesterov', "
                             "'AdaGrad', 'RMSprop', 'Adam', got %r" % (optimizer,))
        self.optimizer = _OPTIMIZERS[optimizer.lower()](**optimizer_param)
        if len(x_train) != len(t_train):
            raise ValueError("x_train has %d rows but t_train has %d"
                             % (len(x_train), len(t_train)))
        if len(x_test) != len(t_test):
            raise ValueError("x_test has %d rows but t_test has %d"
                             % (len(x_test), len(t_test)))
        if isinstance(mini_batch_size, bool) or not isinstance(
                mini_batch_size, (int, np.integer)) or mini_batch_size < 1:
            raise ValueError("mini_batch_size must be a positive integer, got %r"
                             % (mini_batch_size,))
        self.train_size = x_train.shape[0]
        self.iter_per_epoch = max(self.train_size / mini_batch_size, 1)
        self.max_iter = int(epochs * self.iter_per_epoch)
        self.current_iter = 0
        self.current_epoch = 0
        self.train_loss_list = []
        self.train_acc_list = []
        self.test_acc_list = []

    def train_step(self):
        """One mini-batch update, and an evaluation when an epoch starts."""
        batch_mask = np.random.choice(self.train_size, self.batch_size)
        x_batch = self.x_train[batch_mask]
        t_batch = self.t_train[batch_mask]
        grads = self.network.gradient(x_batch, t_batch)
        self.optimizer.update(self.network.params, grads)
        loss = self.network.loss(x_batch, t_batch)
        self.train_loss_list.append(loss)
        if self.verbose:
            print("train loss:" + str(loss))
        if self.current_iter % self.iter_per_epoch == 0:
            self.current_epoch += 1
            n = self.evaluate_sample_num_per_epoch
            x_train, t_train = self.x_train, self.t_train
            x_test, t_test = self.x_test, self.t_test
            if n is not None:
                x_train, t_train = x_train[:n], t_train[:n]
                x_test, t_test = x_test[:n], t_test[:n]
            train_acc = self.network.accuracy(x_train, t_train)
            test_acc = self.network.accuracy(x_test, t_test)
            self.train_acc_list.append(train_acc)
            self.test_acc_list.append(test_acc)
            if self.verbose:
                print("=== epoch:" + str(self.current_epoch) + ", train acc:"
                      + str(train_acc) + ", test acc:" + str(test_acc) + " ===")
        self.current_iter += 1

    def train(self):
        """Run every step, then print the final test accuracy."""
        for _ in range(self.max_iter):
            self.train_step()
        test_acc = self.network.accuracy(self.x_test, self.t_test)
        if self.verbose:
            print("=============== Final Test Accuracy ===============")
            print("test acc:" + str(test_acc))
