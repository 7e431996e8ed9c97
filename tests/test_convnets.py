"""The chapter-7 SimpleConvNet and chapter-8 DeepConvNet against the book's
(cnet.reference) and against numerical gradients; their parameter files."""
import pickle

import numpy as np
import pytest

from cnet import reference as ref
from cnet.deep_convnet import DeepConvNet
from cnet.params_io import RestrictedUnpickleError
from cnet.simple_convnet import SimpleConvNet

SMALL = dict(input_dim=(1, 10, 10),
             conv_param={"filter_num": 4, "filter_size": 3, "pad": 0, "stride": 1},
             hidden_size=10, output_size=10, weight_init_std=0.01)


def _data(rng, n, shape=(1, 10, 10)):
    return rng.random((n,) + shape), np.eye(10)[rng.integers(0, 10, n)]


def test_simple_convnet_gradient_matches_numerical_gradient():
    """The book's ch07/gradient_check.py (one 10x10 image), at
    weight_init_std 0.1 so that every path carries a signal, at a seed whose
    perturbations cross no ReLU or pooling kink. Backprop differs from the
    central differences (h = 1e-4) by their O(h^2) error and by the book's
    +1e-7 inside the log, which backprop ignores: ~1e-6 of the gradient, so
    rtol 1e-5 and atol 1e-6."""
    np.random.seed(0)
    net = SimpleConvNet(**dict(SMALL, weight_init_std=0.1))
    x, t = np.random.rand(1, 1, 10, 10), np.array([1])
    num = net.numerical_gradient(x, t)
    grad = net.gradient(x, t)
    for key in ("W1", "b1", "W2", "b2", "W3", "b3"):
        np.testing.assert_allclose(grad[key], num[key], rtol=1e-5, atol=1e-6, err_msg=key)


def test_simple_convnet_matches_the_book():
    """Same seed -> the book's initial weights; loss and every gradient equal
    the book network's to 1e-10 relative (products summed in other orders:
    cnet's kernel or BLAS blocked differently; the fused ReLU changes no
    value)."""
    np.random.seed(1)
    mine = SimpleConvNet(**SMALL)
    np.random.seed(1)
    book = ref.SimpleConvNet(**SMALL)
    for key in mine.params:
        np.testing.assert_array_equal(mine.params[key], book.params[key])
    x, t = _data(np.random.default_rng(1), 7)
    np.testing.assert_allclose(mine.loss(x, t), book.loss(x, t), rtol=1e-12)
    g, gb = mine.gradient(x, t), book.gradient(x, t)
    for key in g:
        np.testing.assert_allclose(g[key], gb[key], rtol=1e-10, atol=1e-14, err_msg=key)
    assert mine.accuracy(x, t, batch_size=3) == book.accuracy(x, t, batch_size=3)


def test_deep_convnet_matches_the_book():
    """Same seed for weights and for Dropout's masks (both draw
    np.random.rand in the book's order): loss and gradients to 1e-9
    relative through six convolutions whose products sum in other orders."""
    np.random.seed(2)
    mine = DeepConvNet()
    np.random.seed(2)
    book = ref.DeepConvNet()
    x, t = _data(np.random.default_rng(2), 3, (1, 28, 28))
    np.random.seed(3)
    g = mine.gradient(x, t)
    np.random.seed(3)
    gb = book.gradient(x, t)
    for key in gb:
        np.testing.assert_allclose(g[key], gb[key], rtol=1e-9, atol=1e-12, err_msg=key)
    np.testing.assert_allclose(mine.predict(x), book.predict(x), rtol=1e-10)


def test_float32_networks():
    """dtype=float32 keeps parameters, activations and gradients float32
    (with index labels; float64 one-hot labels make the book's loss float64)."""
    net = DeepConvNet(dtype=np.float32)
    x, _ = _data(np.random.default_rng(3), 2, (1, 28, 28))
    assert all(v.dtype == np.float32 for v in net.params.values())
    grads = net.gradient(x.astype(np.float32), np.array([3, 7]))
    assert all(v.dtype == np.float32 for v in grads.values())
    with pytest.raises(ValueError, match="dtype"):
        SimpleConvNet(dtype=np.int32)


@pytest.mark.parametrize("name", ["params.pkl", "params.npz"])
def test_save_and_load_params_rebind_the_layers(tmp_path, name):
    np.random.seed(4)
    a = SimpleConvNet(**SMALL)
    a.save_params(tmp_path / name)
    b = SimpleConvNet(**SMALL)
    b.load_params(tmp_path / name)
    for key in a.params:
        np.testing.assert_array_equal(a.params[key], b.params[key])
    assert b.layers["Conv1"].W is b.params["W1"]
    assert b.layers["Affine2"].b is b.params["b3"]
    x, _ = _data(np.random.default_rng(4), 3)
    np.testing.assert_array_equal(a.predict(x), b.predict(x))


def test_load_params_refuses_code(tmp_path):
    class Exploit:
        def __reduce__(self):
            return (exec, ("raise SystemExit('ran')",))

    path = tmp_path / "params.pkl"
    with open(path, "wb") as f:
        pickle.dump({"W1": Exploit()}, f)
    with pytest.raises(RestrictedUnpickleError):
        DeepConvNet().load_params(path)
