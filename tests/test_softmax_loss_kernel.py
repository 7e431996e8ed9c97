"""The fused softmax + cross-entropy + dy kernel (cnet._functions
softmax_loss_forward / softmax_loss_backward) against its plain twins
cnet.reference.softmax_loss_forward / softmax_loss_backward (the book's
SoftmaxWithLoss).

Tolerances: y and the loss as in test_functions.py (float64 1e-12, float32
2e-6 relative: exp and log within about an ulp, a row sum of up to C
roundings). dx = (y - t) / N inherits y's relative error, and where
y - 1 cancels (y near 1) an absolute error of that size over N, hence
rtol and atol = rtol / N. Beyond the reference, the kernel must agree to the
bit with cnet.functions: y with softmax(x), the loss with softmax_loss(x, t)
and cross_entropy_error(softmax(x), t), the fused dx with the backward's.
"""
import numpy as np
import pytest

import cnet
from cnet import functions as F
from cnet import reference as R
from cnet import _functions as K

RTOL = {np.dtype(np.float64): 1e-12, np.dtype(np.float32): 2e-6}


def _unaligned(a):
    """A copy of a whose data starts one byte past an aligned address."""
    buf = np.empty(a.nbytes + 1, np.uint8)
    out = np.frombuffer(buf.data, dtype=a.dtype, count=a.size, offset=1).reshape(a.shape)
    out[...] = a
    assert not out.flags.aligned
    return out


def _x_layouts(x):
    ro = x.copy()
    ro.flags.writeable = False
    wide = np.repeat(x, 3, axis=1)[:, 1::3]
    return [("C", x), ("F", np.asfortranarray(x)), ("strided", wide), ("readonly", ro),
            ("unaligned", _unaligned(x)), ("reversed", x[::-1, ::-1].copy()[::-1, ::-1])]


def _targets(N, C, rng):
    k = rng.integers(0, C, N)
    smooth = np.full((N, C), 0.1 / C) + 0.9 * np.eye(C)[k]  # not 0/1: dx uses t's values
    return [("index", k), ("index_neg", k - C), ("index_u8", k.astype(np.uint8)),
            ("onehot_f64", np.eye(C)[k]), ("onehot_u8", np.eye(C, dtype=np.uint8)[k]),
            ("smoothed", smooth)]


def _check(x, t, dtype):
    N, C = x.shape
    rtol = RTOL[np.dtype(dtype)]
    y = np.empty(x.shape, dtype)
    dx = np.full(x.shape, np.nan, dtype)
    loss = K.softmax_loss_forward(x, t, y, dx)
    # With one class, (N,) indices have y's size and the book takes them for
    # one-hot rows; cnet reads them as the indices they are.
    t_ref = np.eye(C)[t] if C == 1 and np.ndim(t) == 1 else t
    y_ref, loss_ref = R.softmax_loss_forward(np.array(x), t_ref)
    dx_ref = R.softmax_loss_backward(y_ref, t_ref)
    assert type(loss) is np.dtype(dtype).type
    np.testing.assert_allclose(y, y_ref, rtol=rtol, atol=np.finfo(dtype).smallest_normal)
    np.testing.assert_allclose(loss, loss_ref, rtol=rtol)
    np.testing.assert_allclose(dx, dx_ref, rtol=rtol, atol=rtol / N)
    # one implementation: the same bits as cnet.functions and as the backward
    assert y.tobytes() == F.softmax(x).tobytes()
    assert loss.tobytes() == F.softmax_loss(x, t).tobytes()
    assert loss.tobytes() == F.cross_entropy_error(F.softmax(x), t).tobytes()
    dx2 = np.empty_like(dx)
    assert K.softmax_loss_backward(y, t, dx2) is dx2
    assert dx2.tobytes() == dx.tobytes()
    return y, loss, dx


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("N,C", [(1, 1), (1, 10), (7, 3), (100, 10), (33, 1), (5, 1031)])
def test_forward_and_backward_match_the_book(dtype, N, C):
    rng = np.random.default_rng(N * 7 + C)
    x0 = (rng.standard_normal((N, C)) * 4).astype(dtype)
    for tname, t in _targets(N, C, rng):
        for lname, x in _x_layouts(x0):
            _check(x, t, dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_outputs_in_any_strides_and_in_place_backward(dtype):
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((9, 6)) * 3).astype(dtype)
    t = rng.integers(0, 6, 9)
    want_y, want_loss, want_dx = _check(x, t, dtype)
    y = np.zeros((6, 18), dtype).T[::2]  # F-ordered, every other row
    dx = np.zeros((9, 12), dtype)[:, ::2]
    loss = K.softmax_loss_forward(x, t, y, dx)
    assert loss == want_loss
    np.testing.assert_array_equal(y, want_y)
    np.testing.assert_array_equal(dx, want_dx)
    K.softmax_loss_backward(y, t, y)  # dx may be y itself
    np.testing.assert_array_equal(y, want_dx)
    y1 = np.empty(6, dtype)  # one 1-D sample: the loss of a batch of one
    loss1 = K.softmax_loss_forward(x[2], t[2], y1)
    assert loss1.tobytes() == F.softmax_loss(x[2], t[2]).tobytes()
    np.testing.assert_array_equal(y1, want_y[2])


def test_non_finite_rows_follow_the_book():
    x = np.array([[0.0, np.inf, 1.0], [np.nan, 0.0, 0.0], [-np.inf, 0.0, 1.0], [1e300, -1e300, 0]])
    t = np.array([1, 0, 0, 0])
    y = np.empty_like(x)
    dx = np.empty_like(x)
    with np.errstate(all="ignore"):
        y_ref, loss_ref = R.softmax_loss_forward(x, t)
        dx_ref = R.softmax_loss_backward(y_ref, t)
    loss = K.softmax_loss_forward(x, t, y, dx)
    np.testing.assert_array_equal(np.isnan(y), np.isnan(y_ref))
    np.testing.assert_allclose(y[~np.isnan(y)], y_ref[~np.isnan(y_ref)], rtol=1e-12)
    np.testing.assert_array_equal(np.isnan(dx), np.isnan(dx_ref))
    assert np.isnan(loss) and np.isnan(loss_ref)


@pytest.mark.skipif(not cnet.config.config_info()["openmp"], reason="built without OpenMP")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_one_and_two_threads_give_the_same_bits(dtype, restore_threads):
    rng = np.random.default_rng(4)
    N = 2 * K.PARALLEL_MIN // 10 + 8193  # several row blocks on two threads
    x = (rng.standard_normal((N, 10)) * 5).astype(dtype)
    t = rng.integers(0, 10, N)
    out = {}
    for n in (1, 2):
        cnet.set_num_threads(n)
        y, dx = np.empty_like(x), np.empty_like(x)
        loss = K.softmax_loss_forward(x, t, y, dx)
        dx2 = K.softmax_loss_backward(y, np.eye(10, dtype=dtype)[t], np.empty_like(x))
        out[n] = (y.tobytes(), loss.tobytes(), dx.tobytes(), dx2.tobytes())
    assert out[1] == out[2]
    np.testing.assert_allclose(K.softmax_loss_forward(x, t, np.empty_like(x)),
                               R.softmax_loss_forward(x, t)[1], rtol=RTOL[np.dtype(dtype)])


def test_empty_batch():
    x = np.zeros((0, 4))
    y = np.empty_like(x)
    assert np.isnan(K.softmax_loss_forward(x, np.zeros(0, int), y, np.empty_like(x)))
    assert K.softmax_loss_backward(y, np.zeros(0, int), np.empty_like(x)).shape == (0, 4)


def test_errors_name_the_argument():
    x = np.zeros((4, 3))
    t = np.array([0, 1, 2, 0])
    with pytest.raises(TypeError, match="softmax_loss_forward: x must be float64 or float32"):
        K.softmax_loss_forward(x.astype(np.float16), t, np.empty((4, 3), np.float16))
    with pytest.raises(TypeError, match="softmax_loss_forward: y must be float64, got dtype float32"):
        K.softmax_loss_forward(x, t, np.empty((4, 3), np.float32))
    with pytest.raises(TypeError, match="y must be a NumPy array"):
        K.softmax_loss_forward(x, t, [[0.0] * 3] * 4)
    with pytest.raises(ValueError, match="y must have x's shape"):
        K.softmax_loss_forward(x, t, np.empty((3, 4)))
    ro = np.empty_like(x)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="y is read-only"):
        K.softmax_loss_forward(x, t, ro)
    with pytest.raises(ValueError, match="dx must be aligned"):
        K.softmax_loss_forward(x, t, np.empty_like(x), _unaligned(x))
    with pytest.raises(ValueError, match="x must be 2-D .* for dx"):
        K.softmax_loss_forward(x[0], 1, np.empty(3), np.empty(3))
    with pytest.raises(ValueError, match=r"t\[1\] = 3 is not a class index"):
        K.softmax_loss_forward(x, np.array([0, 3, 0, 0]), np.empty_like(x))
    with pytest.raises(ValueError, match="neither as one-hot"):
        K.softmax_loss_backward(x, np.zeros(3, int), np.empty_like(x))
    with pytest.raises(ValueError, match="x has no classes"):
        K.softmax_loss_forward(np.zeros((2, 0)), np.zeros(2, int), np.zeros((2, 0)))
    with pytest.raises(ValueError, match="must be 2-D .* or 1-D"):
        K.softmax_loss_forward(np.zeros((2, 2, 2)), t, np.zeros((2, 2, 2)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_layers_unchecked_entries_give_the_checked_ones_bits(dtype):
    """SoftmaxWithLoss checks x itself and calls softmax_loss_rows /
    softmax_loss_backward_rows, which check only t: the same loss, y and dx
    bits as the checked entries, for every layout of x and kind of t, and
    the checked entries' messages for bad labels."""
    from cnet.layers import SoftmaxWithLoss
    rng = np.random.default_rng(31)
    x0 = (rng.normal(size=(9, 5)) * 3).astype(dtype)
    for xname, x in _x_layouts(x0):
        for tname, t in _targets(9, 5, rng):
            y, dx = np.empty(x.shape, dtype), np.empty(x.shape, dtype)
            loss = K.softmax_loss_forward(x, t, y, dx)
            layer = SoftmaxWithLoss()
            got_dx = layer._forward_backward(x, t)
            assert layer.loss.tobytes() == loss.tobytes(), (xname, tname)
            assert layer.y.tobytes() == y.tobytes() and got_dx.tobytes() == dx.tobytes()
            assert layer.forward(x, t).tobytes() == loss.tobytes()
            assert layer.backward().tobytes() == dx.tobytes(), (xname, tname)
    layer = SoftmaxWithLoss()
    with pytest.raises(ValueError, match=r"softmax_loss_forward: t\[1\] = 5 is not a class index"):
        layer.forward(x0, np.array([0, 5, 1, 2, 3, 4, 0, 1, 2]))
    with pytest.raises(ValueError, match="softmax_loss_forward: t of shape"):
        layer._forward_backward(x0, np.zeros((9, 4)))
    layer.forward(x0, np.zeros(9, int))
    layer.t = np.full(9, -6)
    with pytest.raises(ValueError, match=r"softmax_loss_backward: t\[0\] = -6 is not a class index"):
        layer.backward()
