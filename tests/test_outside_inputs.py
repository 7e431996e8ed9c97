"""Inputs a reader may pass that the book's NumPy code takes: strided views,
changed parameters, and user mistakes that must give one clear exception.

Results on a strided view are compared with the same call on a C-contiguous
copy of the view, bit for bit: the kernels see the same numbers in the same
order, so nothing may differ.
"""
import numpy as np
import pytest

from cnet import layers as L
from cnet import optimizer as O
from cnet import reference as R
from cnet.util import col2im, im2col


def _strided_images(shape, seed=0):
    """A view of shape `shape` strided along N and C, last axis contiguous."""
    N, C, H, W = shape
    base = np.random.default_rng(seed).standard_normal((2 * N, 3 * C, H, W))
    return base[::2, ::3]


@pytest.mark.parametrize("pad", [0, 1])
def test_im2col_takes_a_view_strided_along_n_and_c(pad):
    x = _strided_images((2, 3, 6, 5))
    assert not x.flags.c_contiguous and x.strides[3] == x.itemsize
    col = im2col(x, 3, 2, stride=1, pad=pad)
    np.testing.assert_array_equal(col, im2col(x.copy(), 3, 2, stride=1, pad=pad))
    np.testing.assert_array_equal(col, R.im2col(x, 3, 2, 1, pad))
    img = col2im(col, x.shape, 3, 2, stride=1, pad=pad)
    np.testing.assert_array_equal(img, R.col2im(col, x.shape, 3, 2, 1, pad))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_convolution_and_pooling_take_views_strided_along_n_and_c(dtype):
    x = _strided_images((3, 2, 7, 7)).astype(dtype, copy=False)
    rng = np.random.default_rng(1)
    W = rng.standard_normal((4, 2, 3, 3)).astype(dtype)
    b = rng.standard_normal(4).astype(dtype)
    conv, ref_conv = L.Convolution(W, b, pad=1), L.Convolution(W, b, pad=1)
    y = conv.forward(x)
    np.testing.assert_array_equal(y, ref_conv.forward(np.ascontiguousarray(x)))
    dout = _strided_images(y.shape, seed=2).astype(dtype)
    np.testing.assert_array_equal(conv.backward(dout),
                                  ref_conv.backward(np.ascontiguousarray(dout)))
    np.testing.assert_array_equal(conv.dW, ref_conv.dW)

    pool, ref_pool = L.Pooling(2, 2, stride=2), L.Pooling(2, 2, stride=2)
    z = pool.forward(x)
    np.testing.assert_array_equal(z, ref_pool.forward(np.ascontiguousarray(x)))
    dz = _strided_images(z.shape, seed=3).astype(dtype)
    np.testing.assert_array_equal(pool.backward(dz),
                                  ref_pool.backward(np.ascontiguousarray(dz)))


@pytest.mark.parametrize("name", ["Momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam"])
@pytest.mark.parametrize("new_shape", [(4,), (2, 3)])
def test_optimizer_names_a_parameter_whose_shape_changed(name, new_shape):
    """The state made by the first update no longer fits a parameter replaced
    by one of another shape: one ValueError naming it, nothing changed (the
    book's NumPy lines fail on broadcasting, or broadcast silently)."""
    opt = getattr(O, name)()
    params = {"W": np.ones(6 if len(new_shape) == 2 else 3), "b": np.ones(2)}
    opt.update(params, {k: np.ones_like(v) for k, v in params.items()})
    params["W"] = np.ones(new_shape)
    before = {k: v.copy() for k, v in params.items()}
    with pytest.raises(ValueError, match=r"params\['W'\] has shape .* but its state"):
        opt.update(params, {k: np.ones_like(v) for k, v in params.items()})
    for k in params:
        np.testing.assert_array_equal(params[k], before[k])


def _small_convnet():
    from cnet import SimpleConvNet
    np.random.seed(0)
    return SimpleConvNet(input_dim=(1, 8, 8), conv_param={
        "filter_num": 3, "filter_size": 3, "pad": 0, "stride": 1},
        hidden_size=4, output_size=3)


def _pickle(tmp_path, obj, name="p.pkl"):
    import pickle
    path = tmp_path / name
    with open(path, "wb") as f:
        pickle.dump(obj, f)
    return path


def _unchanged(net, before):
    for key, val in before.items():
        assert net.params[key] is val
    assert net.layers["Conv1"].W is before["W1"]


@pytest.mark.parametrize("change", ["wrong shape", "missing key", "unknown key",
                                    "strings", "one key only"])
def test_convnet_load_params_refuses_a_file_for_another_network(tmp_path, change):
    """A parameter file that does not fit the network raises one error naming
    the file and the key, and leaves the network as it was (the book's
    load_params would take it and fail, or compute garbage, later)."""
    net = _small_convnet()
    before = dict(net.params)
    params = {k: v.copy() for k, v in net.params.items()}
    if change == "wrong shape":
        params["W2"] = params["W2"].T.copy()
    elif change == "missing key":
        del params["b3"]
    elif change == "unknown key":
        params["W4"] = params["W3"]
    elif change == "strings":
        params["b1"] = np.full(params["b1"].shape, "a")
    else:
        params = {"W1": np.ones((3, 3))}
    path = _pickle(tmp_path, params)
    error = TypeError if change == "strings" else ValueError
    with pytest.raises(error, match=r"p\.pkl"):
        net.load_params(str(path))
    _unchanged(net, before)


@pytest.mark.parametrize("cut", [0, 1, 100, -1])
def test_convnet_load_params_names_a_truncated_file(tmp_path, cut):
    import pickle
    net = _small_convnet()
    before = dict(net.params)
    whole = pickle.dumps({k: v for k, v in net.params.items()})
    path = tmp_path / "p.pkl"
    path.write_bytes(whole[:cut])
    with pytest.raises(pickle.UnpicklingError, match=r"p\.pkl is not a complete"):
        net.load_params(str(path))
    _unchanged(net, before)


def test_convnet_load_params_still_reads_its_own_file_in_either_format(tmp_path):
    net = _small_convnet()
    for name in ("p.pkl", "p.npz"):
        net.save_params(str(tmp_path / name))
        other = _small_convnet()
        for val in other.params.values():
            val += 1.0
        other.load_params(str(tmp_path / name))
        for key in net.params:
            np.testing.assert_array_equal(other.params[key], net.params[key])
        assert other.layers["Affine2"].W is other.params["W3"]


@pytest.mark.parametrize("data", [b"PK\x03\x04garbage", "object array"])
def test_load_params_names_a_damaged_npz(tmp_path, data):
    from cnet import params_io
    path = tmp_path / "p.npz"
    if data == "object array":
        np.savez(path, W1=np.array([object()], dtype=object))
    else:
        path.write_bytes(data)
    with pytest.raises(ValueError, match=r"p\.npz is not a readable \.npz"):
        params_io.load_params(str(path))


@pytest.mark.parametrize("conv_param, message", [
    ({"filter_num": 3, "filter_size": 3, "pad": 0, "stride": 0}, "stride must be >= 1"),
    ({"filter_num": 3, "filter_size": 9, "pad": 0, "stride": 1},
     r"the filter \(9 x 9\) is larger than the padded input \(8 x 8"),
    ({"filter_num": 3, "filter_size": 3, "pad": -1, "stride": 1}, "pad must be >= 0"),
])
def test_simple_convnet_refuses_a_conv_param_that_cannot_fit(conv_param, message):
    """The book's sizes divide by the stride (ZeroDivisionError) or go
    negative (W2 of a nonsense shape, an error only at the first forward)."""
    from cnet import SimpleConvNet
    with pytest.raises(ValueError, match=message):
        SimpleConvNet(input_dim=(1, 8, 8), conv_param=conv_param, hidden_size=4)


def test_multi_layer_net_names_a_hidden_size_list_that_is_not_a_list():
    from cnet import MultiLayerNet, MultiLayerNetExtend
    for cls in (MultiLayerNet, MultiLayerNetExtend):
        with pytest.raises(TypeError, match=r"hidden_size_list must be a list .* got 100"):
            cls(784, 100, 10)
    assert MultiLayerNet(4, (3, 2), 2).hidden_layer_num == 2


@pytest.mark.parametrize("ratio", [-0.5, 1.5, float("nan"), "0.5", None, True])
def test_dropout_ratio_outside_0_1_is_refused(ratio):
    """The book's Dropout takes any ratio and silently zeroes everything
    (1.5) or scales by a negative factor (-0.5)."""
    from cnet import MultiLayerNetExtend
    with pytest.raises(ValueError, match="dropout_ratio must be a number between 0 and 1"):
        L.Dropout(ratio)
    with pytest.raises(ValueError, match="dropout_ratio"):
        MultiLayerNetExtend(4, [3], 2, use_dropout=True, dropout_ration=ratio)
    for ok in (0, 0.0, 0.5, np.float32(0.25), 1):
        L.Dropout(ok)


@pytest.mark.parametrize("name", ["running_mean", "running_var"])
def test_batch_norm_names_running_statistics_of_the_wrong_size(name):
    """The book's layer broadcasts them against x and fails with NumPy's
    'operands could not be broadcast' (or, for (N, 1)-shaped ones, broadcasts)."""
    kwargs = {"running_mean": np.zeros(3), "running_var": np.ones(3), name: np.zeros(4)}
    bn = L.BatchNormalization(np.ones(3), np.zeros(3), **kwargs)
    x = np.random.default_rng(0).standard_normal((5, 3))
    for train_flg in (True, False):
        with pytest.raises(ValueError, match="%s has shape \\(4,\\) but x of shape "
                           "\\(5, 3\\) has 3 features" % name):
            bn.forward(x, train_flg)


def test_batch_norm_names_an_empty_batch():
    bn = L.BatchNormalization(np.ones(12), np.zeros(12))
    with pytest.raises(ValueError, match="x has no rows"):
        bn.forward(np.zeros((0, 3, 2, 2)))
    assert bn.forward(np.ones((1, 3, 2, 2))).shape == (1, 3, 2, 2)
