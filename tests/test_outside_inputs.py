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
