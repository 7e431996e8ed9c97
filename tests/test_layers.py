"""cnet.layers against the book's layers (cnet.reference) and numerical gradients.

Tolerances:
- Against the reference twin: the layers compute the book's formulas with the
  same operations, except softmax/sigmoid (cnet.functions' compiled exp is
  within 1 ulp of NumPy's) and products whose summation order may differ, so
  results agree to a few ulps: rtol 1e-12 (float64), 1e-5 (float32).
- Against numerical gradients (float64): central differences with h = 1e-5
  on smooth functions have truncation error ~h**2 * f''' ~ 1e-10 and
  rounding error ~1e-16 / h ~ 1e-11 (times the loss's magnitude, ~1), so
  rtol 1e-6 with atol 1e-8 leaves a wide margin. ReLU inputs stay 1e-2 away
  from its kink, farther than h.
"""
import numpy as np
import pytest

from cnet import layers as L
from cnet import reference as R

F32, F64 = np.float32, np.float64


def numerical_grad(f, x, h=1e-5):
    """Central differences of the scalar f() with respect to each element of x."""
    grad = np.zeros_like(x)
    for idx in np.ndindex(*x.shape):
        v = x[idx]
        x[idx] = v + h
        fp = f()
        x[idx] = v - h
        fm = f()
        x[idx] = v
        grad[idx] = (fp - fm) / (2 * h)
    return grad


def away_from_zero(rng, shape):
    x = rng.normal(size=shape)
    return np.where(np.abs(x) < 1e-2, 0.5, x)


def check_backward(layer, x, forward=None, params=()):
    """dx (and each named parameter gradient) against numerical gradients of
    L = sum(forward(x) * r) for a fixed random r."""
    forward = forward or layer.forward
    rng = np.random.default_rng(7)
    r = rng.normal(size=forward(x).shape)

    def loss():
        return np.sum(forward(x) * r)

    forward(x)
    dx = layer.backward(r.copy())
    np.testing.assert_allclose(dx, numerical_grad(loss, x), rtol=1e-6, atol=1e-8)
    for name, grad_name in params:
        forward(x)
        layer.backward(r.copy())
        got = getattr(layer, grad_name)
        np.testing.assert_allclose(got, numerical_grad(loss, getattr(layer, name)),
                                   rtol=1e-6, atol=1e-8)


# --- numerical gradients ---------------------------------------------------------

def test_relu_backward_is_the_numerical_gradient():
    check_backward(L.Relu(), away_from_zero(np.random.default_rng(0), (4, 7)))


def test_sigmoid_backward_is_the_numerical_gradient():
    check_backward(L.Sigmoid(), np.random.default_rng(1).normal(size=(3, 5)))


@pytest.mark.parametrize("shape", [(3, 6), (2, 2, 3)], ids=str)
def test_affine_backward_is_the_numerical_gradient(shape):
    rng = np.random.default_rng(2)
    I = int(np.prod(shape[1:]))
    layer = L.Affine(rng.normal(size=(I, 4)), rng.normal(size=4))
    check_backward(layer, rng.normal(size=shape), params=[("W", "dW"), ("b", "db")])


@pytest.mark.parametrize("shape", [(5, 4), (4, 2, 2, 3)], ids=str)
def test_batchnorm_backward_is_the_numerical_gradient(shape):
    rng = np.random.default_rng(3)
    D = int(np.prod(shape[1:]))
    layer = L.BatchNormalization(rng.normal(size=D) + 1, rng.normal(size=D))
    check_backward(layer, rng.normal(size=shape),
                   params=[("gamma", "dgamma"), ("beta", "dbeta")])


def test_dropout_backward_is_the_gradient_of_its_mask():
    layer = L.Dropout(0.3)
    x = np.random.default_rng(4).normal(size=(6, 5))
    np.random.seed(0)
    layer.forward(x)
    mask = layer.mask.copy()
    # With the mask fixed (reseeded before every forward) the layer is linear.
    check_backward(layer, x, forward=lambda x: (np.random.seed(0), layer.forward(x))[1])
    np.testing.assert_array_equal(layer.mask, mask)


@pytest.mark.parametrize("labels", ["one-hot", "index"])
def test_softmax_with_loss_backward_is_the_numerical_gradient(labels):
    """(y - t) / N is the gradient of the loss without the book's + 1e-7 inside
    the log; with it the gradient differs by about 1e-7 / (p * N) per entry,
    p the label's probability (>= 0.01 here), so atol is 1e-5 / N."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=(4, 6))
    t = rng.integers(0, 6, 4)
    if labels == "one-hot":
        t = np.eye(6)[t]
    layer = L.SoftmaxWithLoss()
    layer.forward(x, t)
    dx = layer.backward()
    np.testing.assert_allclose(dx, numerical_grad(lambda: layer.forward(x, t), x),
                               rtol=1e-6, atol=1e-5 / 4)


# --- against the book's layers ------------------------------------------------------

def layouts(a):
    """a in several memory layouts (same values)."""
    yield "C", a.copy()
    yield "F", np.asfortranarray(a)
    big = np.zeros((a.shape[0] * 2,) + a.shape[1:], a.dtype)
    big[::2] = a
    yield "strided", big[::2]
    ro = a.copy()
    ro.flags.writeable = False
    yield "read-only", ro
    raw = np.zeros(a.nbytes + 1, np.uint8)[1:].view(a.dtype).reshape(a.shape)
    raw[...] = a
    yield "unaligned", raw


def tol(dtype):
    return dict(rtol=1e-12, atol=1e-14) if dtype == F64 else dict(rtol=1e-5, atol=1e-6)


SHAPES = [(1, 1), (3, 7), (100, 50), (0, 5)]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", [F32, F64])
@pytest.mark.parametrize("cls", ["Relu", "Sigmoid"])
def test_activations_match_the_book(cls, shape, dtype):
    rng = np.random.default_rng(6)
    base = rng.normal(size=shape).astype(dtype)
    for name, x in layouts(base):
        ours, book = getattr(L, cls)(), getattr(R, cls)()
        out, want = ours.forward(x), book.forward(x.copy())
        assert out.dtype == want.dtype, name
        np.testing.assert_allclose(out, want, **tol(dtype), err_msg=name)
        dout = rng.normal(size=shape).astype(dtype)
        np.testing.assert_allclose(ours.backward(dout.copy()), book.backward(dout.copy()),
                                   **tol(dtype), err_msg=name)
    if cls == "Relu":
        np.testing.assert_array_equal(ours.mask, book.mask)


def test_relu_keeps_the_books_edge_cases_and_changes_dout_in_place():
    x = np.array([[-0.0, 0.0, np.nan, -np.inf, np.inf, -1.0, 2.0]])
    layer = L.Relu()
    out = layer.forward(x)
    want = R.Relu().forward(x)
    np.testing.assert_array_equal(out, want)
    assert not np.signbit(out[0, 0])
    np.testing.assert_array_equal(layer.mask, x <= 0)
    dout = np.ones_like(x)
    assert layer.backward(dout) is dout
    np.testing.assert_array_equal(dout, [[0, 0, 1, 0, 1, 0, 1]])


@pytest.mark.parametrize("shape", [(1, 1), (3, 7), (64, 784), (2, 3, 4, 5)], ids=str)
@pytest.mark.parametrize("dtype", [F32, F64])
def test_affine_matches_the_book(shape, dtype):
    rng = np.random.default_rng(8)
    I = int(np.prod(shape[1:]))
    W, b = rng.normal(size=(I, 9)), rng.normal(size=9)
    base = rng.normal(size=shape).astype(dtype)
    base[np.abs(base) < 0.8] = 0  # mostly zeros, as MNIST's pixels
    for name, x in layouts(base):
        ours, book = L.Affine(W, b), R.Affine(W, b)
        out, want = ours.forward(x), book.forward(x)
        assert out.dtype == want.dtype
        np.testing.assert_allclose(out, want, rtol=1e-12, atol=1e-12, err_msg=name)
        dout = rng.normal(size=out.shape)
        dx, dx_book = ours.backward(dout), book.backward(dout)
        assert dx.shape == x.shape
        np.testing.assert_allclose(dx, dx_book, rtol=1e-12, atol=1e-12, err_msg=name)
        np.testing.assert_allclose(ours.dW, book.dW, rtol=1e-12, atol=1e-12, err_msg=name)
        np.testing.assert_allclose(ours.db, book.db, rtol=1e-12, atol=1e-12, err_msg=name)


def test_affine_takes_an_empty_batch():
    """The book's reshape(N, -1) fails on an empty batch; cnet gives empty results."""
    layer = L.Affine(np.ones((6, 2)), np.full(2, 0.5))
    out = layer.forward(np.zeros((0, 2, 3)))
    assert out.shape == (0, 2)
    dx = layer.backward(np.zeros((0, 2)))
    assert dx.shape == (0, 2, 3)
    np.testing.assert_array_equal(layer.dW, np.zeros((6, 2)))
    np.testing.assert_array_equal(layer.db, np.zeros(2))


def test_affine_shares_its_arrays_with_the_caller():
    params = {"W": np.ones((3, 2)), "b": np.zeros(2)}
    layer = L.Affine(params["W"], params["b"])
    assert layer.W is params["W"] and layer.b is params["b"]
    x = np.ones((1, 3))
    np.testing.assert_array_equal(layer.forward(x), [[3.0, 3.0]])
    params["W"] -= 1.0  # an optimizer's in-place update reaches the layer
    params["b"] += 0.5
    np.testing.assert_array_equal(layer.forward(x), [[0.5, 0.5]])


@pytest.mark.parametrize("sparse", [False, True])
def test_affine_backward_sees_parameters_changed_after_forward(sparse):
    """backward reuses forward's checks only while W and b are the arrays
    forward checked, with the same shapes and dtypes; a rebound W is used
    as the book's backward uses it, a wrong one is refused by name."""
    rng = np.random.default_rng(40)
    x = mnist_like(rng, (16, 30), F32) if sparse else rng.normal(size=(16, 30))
    dout = rng.normal(size=(16, 4))
    W0, b0 = rng.normal(size=(30, 4)), rng.normal(size=4)
    W1 = rng.normal(size=(30, 4))
    ours, book = L.Affine(W0, b0), R.Affine(W0, b0)
    ours.forward(x), book.forward(x)
    ours.W = book.W = W1  # rebound between forward and backward
    np.testing.assert_allclose(ours.backward(dout), book.backward(dout), rtol=1e-13)
    np.testing.assert_allclose(ours.dW, book.dW, rtol=1e-12, atol=1e-14)
    ours.forward(x)
    W1.shape = (4, 30)  # reshaped in place: the same array, another shape
    with pytest.raises(ValueError, match=r"Affine.backward: b has shape \(4,\) but W of shape "
                                         r"\(4, 30\)"):
        ours.backward(dout)
    W1.shape = (30, 4)
    ours.forward(x)
    ours.b = np.zeros(5)
    with pytest.raises(ValueError, match=r"Affine.backward: b has shape \(5,\)"):
        ours.backward(dout)
    ours.b = b0
    ours.forward(x)
    ours.W = W1.astype(np.float32)  # another dtype: checked again, NumPy's product
    ours.backward(dout)
    np.testing.assert_array_equal(ours.dW, np.dot(ours.x.T, dout))


@pytest.mark.parametrize("labels", ["one-hot", "index"])
@pytest.mark.parametrize("shape", [(1, 10), (7, 3), (100, 10)], ids=str)
def test_softmax_with_loss_matches_the_book(labels, shape):
    rng = np.random.default_rng(9)
    x = rng.normal(size=shape) * 3
    t = rng.integers(0, shape[1], shape[0])
    if labels == "one-hot":
        t = np.eye(shape[1])[t]
    ours, book = L.SoftmaxWithLoss(), R.SoftmaxWithLoss()
    np.testing.assert_allclose(ours.forward(x, t), book.forward(x, t), rtol=1e-13)
    np.testing.assert_allclose(ours.y, book.y, rtol=1e-13, atol=1e-16)
    assert ours.t is t
    np.testing.assert_allclose(ours.backward(), book.backward(), rtol=1e-12, atol=1e-16)


def test_dropout_draws_the_books_masks():
    x = np.random.default_rng(10).normal(size=(5, 8))
    ours, book = L.Dropout(0.3), R.Dropout(0.3)
    np.random.seed(3)
    out = ours.forward(x)
    np.random.seed(3)
    want = book.forward(x)
    np.testing.assert_array_equal(out, want)
    np.testing.assert_array_equal(ours.mask, book.mask)
    dout = np.ones_like(x)
    np.testing.assert_array_equal(ours.backward(dout), book.backward(dout))
    np.testing.assert_array_equal(ours.forward(x, train_flg=False), x * 0.7)
    assert L.Dropout().dropout_ratio == 0.5


@pytest.mark.parametrize("shape", [(1, 3), (10, 7), (4, 2, 3, 3)], ids=str)
def test_batchnorm_matches_the_book(shape):
    rng = np.random.default_rng(11)
    D = int(np.prod(shape[1:]))
    gamma, beta = rng.normal(size=D), rng.normal(size=D)
    ours, book = L.BatchNormalization(gamma, beta), R.BatchNormalization(gamma, beta)
    assert ours.gamma is gamma and ours.momentum == 0.9
    for step in range(3):
        x = rng.normal(size=shape) * 2 + 1
        np.testing.assert_allclose(ours.forward(x), book.forward(x), rtol=1e-12, atol=1e-12)
        dout = rng.normal(size=shape)
        np.testing.assert_allclose(ours.backward(dout), book.backward(dout), rtol=1e-10,
                                   atol=1e-12)
        np.testing.assert_allclose(ours.dgamma, book.dgamma, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(ours.dbeta, book.dbeta, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(ours.running_mean, book.running_mean, rtol=1e-12)
        np.testing.assert_allclose(ours.running_var, book.running_var, rtol=1e-12)
    x = rng.normal(size=shape)
    np.testing.assert_allclose(ours.forward(x, train_flg=False),
                               book.forward(x, train_flg=False), rtol=1e-12, atol=1e-12)


def test_batchnorm_uses_given_running_statistics():
    mean, var = np.full(3, 2.0), np.full(3, 4.0)
    layer = L.BatchNormalization(np.ones(3), np.zeros(3), running_mean=mean, running_var=var)
    out = layer.forward(np.full((2, 3), 4.0), train_flg=False)
    np.testing.assert_allclose(out, 2.0 / np.sqrt(4.0 + 10e-7))


# --- bad input -------------------------------------------------------------------------

def test_bad_input_names_the_argument():
    layer = L.Affine(np.zeros((4, 3)), np.zeros(3))
    with pytest.raises(ValueError, match=r"Affine.forward: x of shape \(2, 5\) has 5 features"):
        layer.forward(np.zeros((2, 5)))
    layer.W = np.zeros((5, 3, 1))  # a parameter replaced with the wrong shape
    with pytest.raises(ValueError, match="W must be 2-D"):
        layer.forward(np.zeros((2, 5)))
    layer.W, layer.b = np.zeros((4, 3)), np.zeros(4)
    with pytest.raises(ValueError, match=r"b has shape \(4,\)"):
        layer.forward(np.zeros((2, 4)))
    with pytest.raises(RuntimeError, match="call forward before backward"):
        L.Affine(np.zeros((4, 3)), np.zeros(3)).backward(np.zeros((2, 3)))
    with pytest.raises(TypeError, match="x must be an array of real numbers"):
        L.Relu().forward(np.array(["a"]))
    relu = L.Relu()
    relu.forward(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"dout has shape \(3, 2\)"):
        relu.backward(np.zeros((3, 2)))
    loss = L.SoftmaxWithLoss()
    with pytest.raises(ValueError, match="t"):
        loss.forward(np.zeros((2, 3)), np.array([0, 3]))  # label out of range
    with pytest.raises(ValueError, match="t of shape"):
        loss.forward(np.zeros((2, 3)), np.zeros((2, 4)))
    bn = L.BatchNormalization(np.ones(3), np.zeros(3))
    with pytest.raises(ValueError, match=r"gamma has shape \(3,\) but x of shape \(2, 4\)"):
        bn.forward(np.zeros((2, 4)))


def test_star_import_gives_the_books_names():
    ns = {}
    exec("from cnet.layers import *", ns)
    for name in ("Relu", "Sigmoid", "Affine", "SoftmaxWithLoss", "Dropout",
                 "BatchNormalization", "softmax", "cross_entropy_error", "sigmoid"):
        assert callable(ns[name]), name
    assert ns["np"] is np


# --- the compiled kernels behind Affine, Relu and Sigmoid ----------------------------

def mnist_like(rng, shape, dtype):
    """Mostly zeros, as MNIST's pixels (and runs of them)."""
    x = rng.random(shape).astype(dtype)
    x[x < 0.75] = 0
    x[:, :16] = 0
    return x


@pytest.mark.parametrize("dtypes", [(F32, F64), (F64, F64), (F32, F32), (F64, F32)], ids=str)
@pytest.mark.parametrize("O", [1, 3, 4, 8, 10, 50, 53, 100, 130])
def test_affine_kernels_match_numpy(dtypes, O):
    """Every output width (below, at and between vector widths, more than one
    register tile) and every (x, W) dtype pair, against np.dot: sums in another
    order, so rtol 1e-12 (float64) / 1e-5 (float32)."""
    xdt, wdt = dtypes
    rng = np.random.default_rng(O)
    x = mnist_like(rng, (37, 61), xdt)
    W, b = rng.normal(size=(61, O)).astype(wdt), rng.normal(size=O).astype(wdt)
    layer = L.Affine(W, b)
    out = layer.forward(x)
    want = np.dot(x, W) + b
    assert out.dtype == want.dtype
    t = dict(rtol=1e-12, atol=1e-12) if want.dtype == F64 else dict(rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(out, want, **t)
    dout = rng.normal(size=out.shape).astype(out.dtype)
    layer.backward(dout)
    np.testing.assert_allclose(layer.dW, np.dot(x.T, dout), **t)
    np.testing.assert_allclose(layer.db, dout.sum(axis=0), **t)


def test_affine_non_finite_values_propagate_as_in_the_book():
    """Zero inputs are left out of the products only when that cannot change the
    result: an inf or NaN in W (forward) or dout (dW) makes 0 * inf = NaN in the
    book's dense product, and so in cnet's."""
    x = np.zeros((3, 4))
    x[0, 1] = 1.0
    W = np.ones((4, 2))
    W[2, 0] = np.inf
    W[3, 1] = np.nan
    layer, book = L.Affine(W, np.zeros(2)), R.Affine(W, np.zeros(2))
    with np.errstate(invalid="ignore"):
        want = book.forward(x)
        np.testing.assert_array_equal(layer.forward(x), want)
        assert np.isnan(want).all()
        dout = np.ones((3, 2))
        dout[1, 0] = np.inf
        layer.backward(dout)
        book.backward(dout)
    np.testing.assert_array_equal(layer.dW, book.dW)
    x2 = np.array([[np.nan, 0.0, np.inf, 1.0]])
    W2 = np.arange(8.0).reshape(4, 2)
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(L.Affine(W2, np.zeros(2)).forward(x2),
                                      R.Affine(W2, np.zeros(2)).forward(x2))


def test_affine_same_bits_for_one_and_two_threads(restore_threads):
    import cnet
    rng = np.random.default_rng(12)
    x = mnist_like(rng, (300, 784), F32)
    W, b = rng.normal(size=(784, 50)), rng.normal(size=50)
    dout = rng.normal(size=(300, 50))
    results = []
    for n in (1, 2):
        cnet.set_num_threads(n)
        layer = L.Affine(W, b)
        results.append((layer.forward(x), layer.backward(dout), layer.dW, layer.db))
    for a, c in zip(*results):
        assert a.tobytes() == c.tobytes()


@pytest.mark.parametrize("dtype", [F32, F64])
def test_activation_kernels_match_the_book_bit_for_bit(dtype):
    rng = np.random.default_rng(13)
    x = rng.normal(size=(70001,)).astype(dtype)
    x[::7] = 0
    x[1] = -0.0
    x[2] = np.nan
    relu, book = L.Relu(), R.Relu()
    np.testing.assert_array_equal(relu.forward(x), book.forward(x.copy()))
    np.testing.assert_array_equal(relu.mask, book.mask)
    dout = rng.normal(size=x.shape).astype(dtype)
    np.testing.assert_array_equal(relu.backward(dout.copy()), book.backward(dout.copy()))
    sig, sbook = L.Sigmoid(), R.Sigmoid()
    sig.forward(x)
    sbook.out = sig.out  # the same forward, so the backward's bits can be compared
    got, want = sig.backward(dout), sbook.backward(dout)
    assert got.tobytes() == want.tobytes()


# --- compiled BatchNormalization and Dropout -----------------------------------------

@pytest.mark.parametrize("shape", [(1, 1), (2, 3), (7, 65), (100, 100), (3, 2, 5, 7)],
                         ids=str)
@pytest.mark.parametrize("dtype", [F32, F64])
def test_batchnorm_same_bits_as_the_book(shape, dtype):
    """float64 input runs the compiled kernels, which do the book's NumPy
    operations in the book's order: every output, saved array and running
    statistic equals the book's bit for bit (float32 input takes NumPy's path,
    equal too), in every memory layout, three training steps and a test step,
    NaN and inf included."""
    rng = np.random.default_rng(21)
    D = int(np.prod(shape[1:]))
    gamma, beta = rng.normal(size=D) + 1, rng.normal(size=D)
    base = (rng.normal(size=shape) * 2 + 1).astype(dtype)
    if base.size > 4:
        base.reshape(-1)[3] = np.nan
        base.reshape(-1)[-1] = np.inf
    for name, x in layouts(base):
        ours, book = L.BatchNormalization(gamma, beta), R.BatchNormalization(gamma, beta)
        with np.errstate(invalid="ignore", over="ignore"):
            for step in range(3):
                np.testing.assert_array_equal(ours.forward(x), book.forward(x), err_msg=name)
                for attr in ("xc", "xn", "std", "running_mean", "running_var"):
                    np.testing.assert_array_equal(getattr(ours, attr), getattr(book, attr),
                                                  err_msg=name + " " + attr)
                dout = rng.normal(size=shape).astype(dtype)
                np.testing.assert_array_equal(ours.backward(dout), book.backward(dout),
                                              err_msg=name)
                np.testing.assert_array_equal(ours.dgamma, book.dgamma, err_msg=name)
                np.testing.assert_array_equal(ours.dbeta, book.dbeta, err_msg=name)
            np.testing.assert_array_equal(ours.forward(x, False), book.forward(x, False),
                                          err_msg=name)


def test_batchnorm_same_bits_for_one_and_two_threads(restore_threads):
    import cnet
    rng = np.random.default_rng(22)
    x = rng.normal(size=(300, 3, 30, 10))
    gamma, beta = rng.normal(size=900), rng.normal(size=900)
    dout = rng.normal(size=x.shape)
    got = []
    for n in (1, 2):
        cnet.set_num_threads(n)
        layer = L.BatchNormalization(gamma, beta)
        got.append((layer.forward(x), layer.backward(dout), layer.dgamma,
                    layer.forward(x, False)))
    for a, b in zip(*got):
        assert a.tobytes() == b.tobytes()


@pytest.mark.parametrize("dtype", [F32, F64])
@pytest.mark.parametrize("shape", [(1,), (3, 7), (100, 100), (2, 3, 4, 5)], ids=str)
def test_dropout_same_bits_and_masks_as_the_book(shape, dtype, restore_threads):
    """Seeded, cnet draws the book's np.random.rand masks; outputs and dx equal
    the book's bit for bit (0 * inf = NaN, -x * 0 = -0.0 as NumPy's product
    with a bool mask), in every layout, 1 and 2 threads."""
    import cnet
    rng = np.random.default_rng(23)
    base = rng.normal(size=shape).astype(dtype)
    base.reshape(-1)[0] = np.inf
    for name, x in layouts(base):
        for n in (1, 2):
            cnet.set_num_threads(n)
            ours, book = L.Dropout(0.4), R.Dropout(0.4)
            with np.errstate(invalid="ignore"):
                np.random.seed(5)
                out = ours.forward(x)
                np.random.seed(5)
                want = book.forward(x)
            assert out.dtype == want.dtype
            assert out.tobytes() == want.tobytes(), name
            np.testing.assert_array_equal(ours.mask, book.mask)
            dout = rng.normal(size=shape).astype(dtype)
            dx, dx_book = ours.backward(dout), book.backward(dout)
            assert dx.dtype == dx_book.dtype and dx.tobytes() == dx_book.tobytes(), name


def test_affine_weight_gradient_of_a_large_batch(restore_threads):
    """dW = xᵀ·dout of an MNIST-like batch larger than the column lists take
    (B * I above 2**22 entries: the kernel that walks x by rows) equals
    np.dot to rounding (rtol 1e-12), as the listed batches do, with the same
    bits on 1 and 2 threads."""
    import cnet
    rng = np.random.default_rng(24)
    x = mnist_like(rng, (5400, 784), F32)
    W, b = rng.normal(size=(784, 7)), rng.normal(size=7)
    dout = rng.normal(size=(5400, 7))
    got = []
    for n in (1, 2):
        cnet.set_num_threads(n)
        layer = L.Affine(W, b)
        layer.forward(x)
        layer.backward(dout)
        got.append(layer.dW)
    np.testing.assert_allclose(got[0], np.dot(x.T.astype(F64), dout), rtol=1e-12, atol=1e-9)
    assert got[0].tobytes() == got[1].tobytes()


@pytest.mark.parametrize("dtype", [F32, F64])
@pytest.mark.parametrize("onehot", [True, False])
def test_softmax_loss_forward_backward_in_one_pass_equals_the_two_calls(dtype, onehot):
    """A network's gradient asks SoftmaxWithLoss for forward and backward in
    one pass: the same loss, y and dx bits as forward then backward, for
    one-hot and index labels, odd shapes, NaN and inf scores."""
    rng = np.random.default_rng(25)
    for N, C in ((1, 1), (7, 3), (100, 10)):
        x = (rng.normal(size=(N, C)) * 3).astype(dtype)
        if x.size > 2:
            x[0, 0], x[-1, -1] = np.nan, np.inf
        labels = rng.integers(0, C, N)
        t = np.eye(C, dtype=dtype)[labels] if onehot else labels
        a, b = L.SoftmaxWithLoss(), L.SoftmaxWithLoss()
        with np.errstate(invalid="ignore", divide="ignore"):
            dx = a._forward_backward(x, t)
            loss = b.forward(x, t)
            want = b.backward()
        assert np.array_equal(a.loss, loss, equal_nan=True)
        assert a.y.tobytes() == b.y.tobytes() and dx.tobytes() == want.tobytes()


def test_dropout_of_a_scalar_array_is_the_books():
    """A 0-d input: np.random.rand() draws a float, as in the book."""
    x = np.array(2.5)
    ours, book = L.Dropout(0.3), R.Dropout(0.3)
    np.random.seed(6)
    out = ours.forward(x)
    np.random.seed(6)
    want = book.forward(x)
    assert np.array_equal(out, want) and np.array_equal(ours.mask, book.mask)
