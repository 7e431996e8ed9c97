"""The book's chapter-4 training recipe on the real MNIST.

Needs the four MNIST files: set CNET_MNIST_MIRROR to the folder holding them
(CI does). Without it these tests are skipped, saying why.
"""
import os
import subprocess
import sys

import numpy as np
import pytest

from cnet.two_layer_net import TwoLayerNet

MIRROR = os.environ.get("CNET_MNIST_MIRROR", "")
FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
         "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
HAVE_MNIST = bool(MIRROR) and all(os.path.isfile(os.path.join(MIRROR, f)) for f in FILES)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not HAVE_MNIST, reason="the full MNIST is not on this machine: set "
                       "CNET_MNIST_MIRROR to a folder holding its four .gz files"),
]

EXAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir,
                       "examples", "ch04_train_neuralnet.py")


@pytest.fixture(scope="module")
def mnist():
    from cnet.dataset.mnist import load_mnist
    return load_mnist(normalize=True, one_hot_label=True, mirror=MIRROR, verbose=False)


def train(network, data, iters, grad_fn, batches=None, seed=0):
    """The book's ch04/train_neuralnet.py loop; returns (train accs, test accs, losses)."""
    (x_train, t_train), (x_test, t_test) = data
    train_size = x_train.shape[0]
    batch_size, learning_rate = 100, 0.1
    iter_per_epoch = max(train_size / batch_size, 1)
    rng = np.random.RandomState(seed)
    train_acc_list, test_acc_list, train_loss_list = [], [], []
    for i in range(iters):
        batch_mask = rng.choice(train_size, batch_size) if batches is None else batches[i]
        x_batch = x_train[batch_mask]
        t_batch = t_train[batch_mask]
        grad = grad_fn(network)(x_batch, t_batch)
        for key in ("W1", "b1", "W2", "b2"):
            network.params[key] -= learning_rate * grad[key]
        train_loss_list.append(network.loss(x_batch, t_batch))
        if i % iter_per_epoch == 0 or i == iters - 1:
            train_acc_list.append(network.accuracy(x_train, t_train))
            test_acc_list.append(network.accuracy(x_test, t_test))
    return train_acc_list, test_acc_list, train_loss_list


def test_backprop_recipe_reaches_the_books_accuracy(mnist):
    # The book ends near 0.945 train / 0.944 test after 10,000 iterations.
    np.random.seed(0)
    network = TwoLayerNet(784, 50, 10)
    train_acc, test_acc, losses = train(network, mnist, 10000, lambda n: n.gradient)
    assert test_acc[-1] >= 0.94, test_acc
    assert train_acc[-1] >= 0.94, train_acc
    assert np.mean(losses[-500:]) < 0.3 < np.mean(losses[:100])
    assert all(type(v) is np.float64 for v in train_acc + test_acc + losses[:5])


def test_numerical_gradient_training_follows_backprop(mnist):
    # The same seed and batches: numerical_gradient (the central difference
    # of the loss including its +1e-7) and backprop (the exact gradient
    # without the 1e-7) differ per step by ~1e-7 relative, so after 300 SGD
    # steps the two weight trajectories stay within a small fraction of how
    # far the weights moved.
    (x_train, _), _ = mnist
    steps = 300
    batches = np.random.RandomState(1).choice(x_train.shape[0], (steps, 100))
    nets = []
    for method in ("gradient", "numerical_gradient"):
        np.random.seed(3)
        net = TwoLayerNet(784, 50, 10)
        start = {k: v.copy() for k, v in net.params.items()}
        _, test_acc, losses = train(net, mnist, steps, lambda n: getattr(n, method),
                                    batches=batches)
        nets.append((net, test_acc, losses))
    (bp, bp_acc, bp_loss), (num, num_acc, num_loss) = nets
    for k in ("W1", "b1", "W2", "b2"):
        moved = np.abs(bp.params[k] - start[k]).max()
        apart = np.abs(num.params[k] - bp.params[k]).max()
        assert moved > 0.01
        assert apart <= 1e-4 * moved, (k, apart, moved)
    np.testing.assert_allclose(num_loss, bp_loss, rtol=1e-5)
    assert abs(num_acc[-1] - bp_acc[-1]) <= 0.002
    assert bp_acc[-1] > 0.4 > bp_acc[0]  # it learned (the book is near 0.78 at 600)


def test_example_script_prints_the_books_lines(tmp_path):
    # Seeded through a wrapper (the book's script is not seeded), run as a
    # reader would, with the plot drawn off-screen when matplotlib is there.
    code = ("import numpy, runpy, sys; numpy.random.seed(0); "
            "runpy.run_path(sys.argv[1], run_name='__main__')")
    env = dict(os.environ, MPLBACKEND="Agg", CNET_DATA_HOME=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", code, EXAMPLE], env=env, cwd=str(tmp_path),
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("train acc, test acc | ")]
    assert len(lines) == 17, out.stdout  # iterations 0, 600, ..., 9600
    train_acc, test_acc = (float(v) for v in lines[-1].split("|")[1].split(","))
    assert train_acc >= 0.94 and test_acc >= 0.94, lines[-1]
