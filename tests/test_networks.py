"""MultiLayerNet, MultiLayerNetExtend, the chapter-5 TwoLayerNet and Trainer
against the book's (cnet.reference) and numerical gradients; cnet.util.

Tolerances: seeded initial weights are drawn and scaled exactly as the book's
(bit for bit). Backprop gradients agree with the reference's to 1e-10
relative (the same formulas; softmax's exp may differ by an ulp). Against
numerical gradients (the book's h = 1e-4, float64, smooth activations or
inputs away from ReLU's kink) the truncation error is ~h**2 * f''' ~ 1e-8, so
rtol 1e-4 with atol 1e-6.
"""
import contextlib
import io
import re

import numpy as np
import pytest

from cnet import reference as R
from cnet.ch05_two_layer_net import TwoLayerNet
from cnet.multi_layer_net import MultiLayerNet
from cnet.multi_layer_net_extend import MultiLayerNetExtend
from cnet.trainer import Trainer
from cnet.util import conv_output_size, shuffle_dataset, smooth_curve


def data(n=20, d=12, classes=5, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, d)), rng.integers(0, classes, n)


def pair(make_ours, make_book, seed=1):
    np.random.seed(seed)
    ours = make_ours()
    np.random.seed(seed)
    book = make_book()
    for k in book.params:
        np.testing.assert_array_equal(ours.params[k], book.params[k])
    assert list(ours.params) == list(book.params)
    return ours, book


NETS = {
    "ch05": (lambda: TwoLayerNet(12, 7, 5, weight_init_std=1.0),
             lambda: R.Ch05TwoLayerNet(12, 7, 5, weight_init_std=1.0)),
    "mln": (lambda: MultiLayerNet(12, [7, 6], 5, activation="sigmoid",
                                  weight_init_std="xavier", weight_decay_lambda=0.1),
            lambda: R.MultiLayerNet(12, [7, 6], 5, activation="sigmoid",
                                    weight_init_std="xavier", weight_decay_lambda=0.1)),
    "extend-bn": (lambda: MultiLayerNetExtend(12, [7, 6], 5, weight_init_std=0.5,
                                              weight_decay_lambda=0.05, use_batchnorm=True),
                  lambda: R.MultiLayerNetExtend(12, [7, 6], 5, weight_init_std=0.5,
                                                weight_decay_lambda=0.05,
                                                use_batchnorm=True)),
    "extend-bn-dropout": (
        lambda: MultiLayerNetExtend(12, [7, 6], 5, activation="sigmoid", use_batchnorm=True,
                                    use_dropout=True, dropout_ration=0.3,
                                    weight_decay_lambda=0.1),
        lambda: R.MultiLayerNetExtend(12, [7, 6], 5, activation="sigmoid",
                                      use_batchnorm=True, use_dropout=True,
                                      dropout_ration=0.3, weight_decay_lambda=0.1)),
}


@pytest.mark.parametrize("labels", ["index", "one-hot"])
@pytest.mark.parametrize("net", list(NETS))
def test_gradient_matches_the_book(net, labels):
    x, t = data()
    if labels == "one-hot":
        t = np.eye(5)[t]
    ours, book = pair(*NETS[net])
    for _ in range(2):
        np.random.seed(2)
        g = ours.gradient(x, t)
        np.random.seed(2)
        gb = book.gradient(x, t)
        assert list(g) == list(gb)
        for k in g:
            np.testing.assert_allclose(g[k], gb[k], rtol=1e-10, atol=1e-14, err_msg=k)
            ours.params[k] -= 0.1 * g[k]
            book.params[k] -= 0.1 * gb[k]
    np.testing.assert_allclose(ours.loss(x, t), book.loss(x, t), rtol=1e-12)
    assert ours.accuracy(x, t) == book.accuracy(x, t)


@pytest.mark.parametrize("net", list(NETS))
def test_gradient_is_the_numerical_gradient(net):
    x, t = data(n=6, seed=3)
    ours = NETS[net][0]()
    if "dropout" in net:
        # Reseeded before every loss, Dropout draws one mask: the loss is smooth.
        def numerical():
            grads = {}
            for key, W in ours.params.items():
                grads[key] = np.zeros_like(W)
                for idx in np.ndindex(*W.shape):
                    v = W[idx]
                    fs = []
                    for h in (1e-4, -1e-4):
                        W[idx] = v + h
                        np.random.seed(5)
                        fs.append(ours.loss(x, t, train_flg=True))
                    W[idx] = v
                    grads[key][idx] = (fs[0] - fs[1]) / 2e-4
            return grads
        num = numerical()
    else:
        num = ours.numerical_gradient(x, t)
    np.random.seed(5)
    grads = ours.gradient(x, t)
    assert sorted(grads) == sorted(num)
    for k in grads:
        np.testing.assert_allclose(grads[k], num[k], rtol=1e-4, atol=1e-6, err_msg=k)


def test_layers_share_the_params_arrays():
    net = MultiLayerNetExtend(4, [3], 2, use_batchnorm=True)
    assert net.layers["Affine1"].W is net.params["W1"]
    assert net.layers["BatchNorm1"].gamma is net.params["gamma1"]
    assert list(net.layers) == ["Affine1", "BatchNorm1", "Activation_function1", "Affine2"]
    net2 = MultiLayerNetExtend(4, [3], 2, use_dropout=True)
    assert list(net2.layers) == ["Affine1", "Activation_function1", "Dropout1", "Affine2"]
    ch05 = TwoLayerNet(4, 3, 2)
    assert list(ch05.layers) == ["Affine1", "Relu1", "Affine2"]
    assert ch05.layers["Affine2"].b is ch05.params["b2"]
    assert ch05.lastLayer is not None
    grads = ch05.gradient(np.ones((2, 4)), np.array([0, 1]))
    assert grads["W1"] is ch05.layers["Affine1"].dW  # as the book's


def _numbers_and_text(out):
    numbers = [float(v) for v in re.findall(r"-?\d+\.\d+(?:e-?\d+)?", out)]
    return numbers, re.sub(r"-?\d+\.\d+(?:e-?\d+)?", "#", out)


def test_seeded_trainer_prints_the_books_lines():
    """The same lines as the book's Trainer; numbers agree to rounding (1e-9
    relative: a short run, where cnet's exp differs from NumPy's by an ulp)."""
    x, t = data(n=30)
    outputs = []
    for make, trainer in ((NETS["extend-bn-dropout"][0], Trainer),
                          (NETS["extend-bn-dropout"][1], R.Trainer)):
        np.random.seed(1)
        net = make()
        np.random.seed(2)
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            tr = trainer(net, x, t, x[:10], t[:10], epochs=2, mini_batch_size=8,
                         optimizer="adam", optimizer_param={"lr": 0.01},
                         evaluate_sample_num_per_epoch=20)
            tr.train()
        outputs.append(buf.getvalue())
    (nums, text), (nums_b, text_b) = map(_numbers_and_text, outputs)
    assert text == text_b
    assert "=== epoch:1, train acc:#, test acc:# ===" in text
    assert text.endswith("=============== Final Test Accuracy ===============\ntest acc:#\n")
    np.testing.assert_allclose(nums, nums_b, rtol=1e-9)
    assert len(tr.train_loss_list) == tr.max_iter == 7  # int(2 * 30 / 8)


def test_trainer_and_networks_refuse_bad_arguments():
    x, t = data()
    net = MultiLayerNet(12, [4], 5)
    with pytest.raises(ValueError, match="optimizer must be one of"):
        Trainer(net, x, t, x, t, optimizer="lbfgs")
    with pytest.raises(ValueError, match="x_train has 20 rows but t_train has 19"):
        Trainer(net, x, t[:-1], x, t)
    with pytest.raises(ValueError, match="activation must be 'relu' or 'sigmoid'"):
        MultiLayerNet(12, [4], 5, activation="tanh")
    with pytest.raises(ValueError, match="weight_init_std must be"):
        MultiLayerNet(12, [4], 5, weight_init_std="glorot")
    with pytest.raises(ValueError, match="layer sizes must be positive integers"):
        MultiLayerNet(12, [0], 5)
    with pytest.raises(ValueError, match="Affine.forward: x of shape"):
        net.loss(np.zeros((3, 11)), np.zeros(3, int))
    net.params["W1"] = np.zeros((12, 4))  # a new array: the layer keeps the old one
    net.layers["Affine1"].W = np.zeros((13, 4))  # a wrong shape given to the layer
    with pytest.raises(ValueError, match=r"W of shape \(13, 4\) expects 13"):
        net.gradient(x, t)


def test_util_matches_the_book():
    curve = np.random.default_rng(0).random(50)
    np.testing.assert_array_equal(smooth_curve(curve), R.smooth_curve(curve))
    np.testing.assert_array_equal(smooth_curve(list(curve)), R.smooth_curve(curve))
    x, t = np.arange(24.0).reshape(6, 4), np.arange(6)
    np.random.seed(0)
    xs, ts = shuffle_dataset(x, t)
    np.random.seed(0)
    xb, tb = R.shuffle_dataset(x, t)
    np.testing.assert_array_equal(xs, xb)
    np.testing.assert_array_equal(ts, tb)
    x4 = np.arange(48.0).reshape(6, 2, 2, 2)
    np.random.seed(1)
    xs4, _ = shuffle_dataset(x4, t)
    np.random.seed(1)
    np.testing.assert_array_equal(xs4, R.shuffle_dataset(x4, t)[0])
    assert conv_output_size(28, 5) == 24.0
    assert conv_output_size(7, 3, stride=2, pad=1) == R.conv_output_size(7, 3, 2, 1)
    with pytest.raises(ValueError, match="same first axis"):
        shuffle_dataset(x, t[:5])


def test_network_gradients_same_bits_on_one_and_two_threads(restore_threads):
    """MultiLayerNetExtend with batch norm, dropout and weight decay on an
    MNIST-like batch (sparse first layer, dense hidden products held to one
    BLAS thread and large enough to split over threads, 300 x 400 x 40): every
    gradient and the loss have the same bits on 1 and 2 threads."""
    import cnet
    rng = np.random.default_rng(30)
    x = rng.random((300, 700)).astype(np.float32)
    x[x < 0.8] = 0
    t = rng.integers(0, 10, 300)
    got = []
    for n in (1, 2):
        cnet.set_num_threads(n)
        np.random.seed(4)
        net = MultiLayerNetExtend(700, [400, 40], 10, use_batchnorm=True, use_dropout=True,
                                  weight_decay_lambda=0.1)
        grads = net.gradient(x, t)
        got.append((grads, net.loss(x, t)))
    for k in got[0][0]:
        assert got[0][0][k].tobytes() == got[1][0][k].tobytes(), k
    assert got[0][1] == got[1][1]


@pytest.mark.parametrize("wdtype", [np.float64, np.float32])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "mnist-like"])
def test_affine_relu_pairs_in_one_pass_give_the_layer_by_layer_bits(wdtype, sparse):
    """A network runs each Affine -> Relu pair as one pass (bias and ReLU on
    the product in place, Relu.mask set): its scores, every Relu's mask and
    the gradient equal those of calling the layers one by one, bit for bit,
    with NaN, inf and -0.0 among the inputs and an odd batch of 37 rows."""
    rng = np.random.default_rng(31)
    x = rng.normal(size=(37, 50))
    if sparse:
        x[rng.random(x.shape) < 0.85] = 0
    x[0, :3] = (np.nan, np.inf, -0.0)
    x = x.astype(np.float32) if sparse else x
    t = rng.integers(0, 10, 37)
    np.random.seed(5)
    net = MultiLayerNet(50, [30, 20], 10, weight_decay_lambda=0.01)
    for k in net.params:
        net.params[k] = net.params[k].astype(wdtype)
        net.params[k][...] = rng.normal(size=net.params[k].shape)
    for i, key in enumerate(net._affine_keys, 1):
        net.layers[key].W, net.layers[key].b = net.params["W%d" % i], net.params["b%d" % i]
    net.params["b1"][0] = -np.inf
    relus = [layer for layer in net.layers.values() if hasattr(layer, "mask")]
    got = net.predict(x)
    masks = [relu.mask.copy() for relu in relus]
    want = _by_layers(net, x)
    assert got.dtype == want.dtype and got.tobytes() == want.tobytes()
    assert all(np.array_equal(m, relu.mask) for m, relu in zip(masks, relus))
    x = np.nan_to_num(x)
    grads = net.gradient(x, t)
    dout = net.last_layer._forward_backward(_by_layers(net, x), t)
    for layer in reversed(list(net.layers.values())):
        dout = layer.backward(dout)
    for i, key in enumerate(net._affine_keys, 1):
        layer = net.layers[key]
        want_W = layer.dW + net.weight_decay_lambda * layer.W
        assert grads["W%d" % i].tobytes() == want_W.tobytes()
        assert grads["b%d" % i].tobytes() == layer.db.tobytes()


def _by_layers(net, x):
    for layer in net.layers.values():
        x = layer.forward(x)
    return x


@pytest.mark.parametrize("case", ["finite", "W inf", "W nan", "dW nan", "-0.0 beside +W",
                                  "-0.0 beside -W", "-0.0 beside -0.0", "lambda -0.0"])
def test_weight_decay_at_zero_hands_out_dW_when_the_bits_are_the_same(case):
    """At lambda = 0, dW + 0 * W is dW bit for bit unless W holds inf or NaN
    (0 * inf is NaN), dW holds NaN, or dW holds -0.0 beside a W of sign +
    (-0.0 + 0.0 is 0.0); lambda = -0.0 flips the signs; a NaN in dW comes
    back as it is where the CPU keeps its payload. dW itself is handed out
    exactly when the sum would have its bits, else NumPy's sum."""
    from cnet.multi_layer_net import _decayed
    rng = np.random.default_rng(33)
    dW, W = rng.normal(size=(40, 9)), rng.normal(size=(40, 9))
    lam = 0
    cell = (17, 5)
    if case == "W inf":
        W[cell] = -np.inf
    elif case == "W nan":
        W[cell] = np.nan
    elif case == "dW nan":
        dW[cell] = np.nan
    elif case.startswith("-0.0"):
        dW[cell] = -0.0
        W[cell] = {"+W": 0.25, "-W": -0.25, "-0.0": -0.0}[case.split()[-1]]
    elif case == "lambda -0.0":
        lam = -0.0
    with np.errstate(invalid="ignore"):
        want = dW + lam * W
    got = _decayed(dW, lam, W)
    assert got.tobytes() == want.tobytes()
    same = want.tobytes() == dW.tobytes()
    assert (got is dW) == same
    if case in ("finite", "-0.0 beside -W", "-0.0 beside -0.0"):
        assert same
    elif case in ("W inf", "W nan", "-0.0 beside +W"):
        assert not same


def test_gradients_handed_out_do_not_change_at_the_next_call():
    """The book's gradient returns new arrays each call; so does cnet's,
    weight decay 0 included (where the layers' own dW are handed out)."""
    x, t = data(n=30, d=12)
    for net in (MultiLayerNet(12, [8, 8], 5), MultiLayerNet(12, [8], 5, weight_decay_lambda=0.1),
                TwoLayerNet(12, 8, 5)):
        first = net.gradient(x, t)
        kept = {k: v.copy() for k, v in first.items()}
        x2, t2 = data(n=30, d=12, seed=5)
        second = net.gradient(x2, t2)
        for k in first:
            assert first[k] is not second[k]
            np.testing.assert_array_equal(first[k], kept[k])


@pytest.mark.parametrize("lam", [0, 0.1, 3, 1e-300])
def test_weight_decay_gradient_is_numpys_bit_for_bit(lam):
    """MultiLayerNet hands out dW + lam * W (one compiled pass for float64):
    the same bits as NumPy's expression, -0.0, inf and NaN included, for int
    and float lambdas; float32 arrays take NumPy's expression itself."""
    from cnet.multi_layer_net import _decayed
    rng = np.random.default_rng(32)
    dW, W = rng.normal(size=(61, 7)), rng.normal(size=(61, 7))
    dW[0, :4] = (-0.0, -0.0, np.inf, np.nan)
    W[0, :4] = (0.5, -0.5, -np.inf, 1.0)
    W[1, :2] = (np.inf, np.nan)
    for a, b in ((dW, W), (dW.astype(np.float32), W.astype(np.float32)), (dW[:, :3], W[:, :3])):
        with np.errstate(invalid="ignore"):
            got, want = _decayed(a, lam, b), a + lam * b
        assert got.dtype == want.dtype and got.tobytes() == want.tobytes()
