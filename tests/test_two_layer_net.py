"""cnet.TwoLayerNet against the book's NumPy network in cnet.reference.

Tolerances. The kernels compute the book's formulas but sum products in their
own order (the reference goes through BLAS), so results differ from the
reference by rounding only. A sum of n products carries a relative error of at
most about n * eps of the sum of the terms' magnitudes; with n <= 784 inputs
that is ~1e-13 in float64, so float64 results are compared with rtol=1e-10 and
an absolute floor of 1e-12 times the largest reference value (entries that
cancel to near zero keep only the absolute error). float32 weights compute in
float32 (eps 6e-8): rtol=2e-4 with a floor of 2e-5 times the largest value,
against the reference run in float64 on the same float32-rounded weights.
"""
import sys
import tracemalloc

import numpy as np
import pytest

import cnet
from cnet import reference
from cnet.optimizer import SGD
from cnet.two_layer_net import TwoLayerNet

KEYS = ("W1", "b1", "W2", "b2")


def close(got, want, dtype=np.float64):
    want = np.asarray(want, dtype=np.float64)
    scale = max(float(np.max(np.abs(want))) if want.size else 0.0, 1e-300)
    if np.dtype(dtype) == np.float32:
        np.testing.assert_allclose(got, want, rtol=2e-4, atol=2e-5 * scale)
    else:
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12 * scale)


def make_pair(I, H, O, seed=0, std=0.5, dtype=np.float64):
    """A cnet net and a reference net with the same (random, non-trivial) params."""
    np.random.seed(seed)
    net = TwoLayerNet(I, H, O, weight_init_std=std, dtype=dtype)
    ref = reference.TwoLayerNet(I, H, O)
    rng = np.random.default_rng(seed)
    net.params["b1"] = (rng.normal(0, 0.3, H)).astype(dtype)
    net.params["b2"] = (rng.normal(0, 0.3, O)).astype(dtype)
    for k in KEYS:
        ref.params[k] = net.params[k].astype(np.float64)
    return net, ref


def make_batch(B, I, O, seed=1, density=0.3, dtype=np.float32):
    rng = np.random.default_rng(seed)
    x = rng.random((B, I)) * (rng.random((B, I)) < density)
    t = rng.integers(0, O, B)
    return x.astype(dtype), t


# (B, I, H, O). H = 100 and O = 25 take several register tiles per row (12
# vectors of hidden units, 3 of outputs at a time); B = 257 several passes of
# the gradient's 128 rows. With I = 113 and 118 a block of xᵀ·dz1's 112
# columns (TL_IBLK) starts among the last few inputs, which the AVX2 scan
# leaves to its scalar loop.
SHAPES = [(1, 1, 1, 1), (1, 784, 50, 10), (3, 5, 2, 3), (7, 13, 5, 3),
          (100, 784, 50, 10), (257, 30, 17, 4), (33, 64, 33, 2), (40, 20, 100, 25),
          (9, 113, 6, 3), (11, 118, 9, 4)]


def test_init_is_the_books_bit_for_bit():
    np.random.seed(42)
    ref = reference.TwoLayerNet(784, 50, 10)
    np.random.seed(42)
    net = TwoLayerNet(784, 50, 10)
    assert list(net.params) == list(KEYS)
    for k in KEYS:
        assert net.params[k].dtype == np.float64
        np.testing.assert_array_equal(net.params[k], ref.params[k])
    after_net = np.random.rand()  # the global generator moved on as the book's does
    np.random.seed(42)
    reference.TwoLayerNet(784, 50, 10)
    assert np.random.rand() == after_net


def test_init_float32_rounds_the_same_draws():
    np.random.seed(3)
    ref = reference.TwoLayerNet(20, 7, 3, weight_init_std=0.1)
    np.random.seed(3)
    net = TwoLayerNet(20, 7, 3, weight_init_std=0.1, dtype=np.float32)
    for k in KEYS:
        assert net.params[k].dtype == np.float32
        np.testing.assert_array_equal(net.params[k], ref.params[k].astype(np.float32))


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("xdtype", [np.float32, np.float64])
@pytest.mark.parametrize("density", [0.2, 1.0])
def test_forward_and_backward_match_reference(shape, xdtype, density):
    B, I, H, O = shape
    net, ref = make_pair(I, H, O)
    x, t = make_batch(B, I, O, density=density, dtype=xdtype)
    T = np.eye(O)[t]

    y = net.predict(x)
    assert y.shape == (B, O) and y.dtype == np.float64
    close(y, ref.predict(x))

    # With O == 1 the book's cross_entropy_error mistakes index labels for
    # one-hot ones (t.size == y.size) and fails, so only one-hot is compared.
    for labels in ((T, t) if O > 1 else (T,)):
        loss = net.loss(x, labels)
        assert type(loss) is np.float64
        close(loss, ref.loss(x, labels))
        acc = net.accuracy(x, labels)
        assert type(acc) is np.float64
        assert acc == ref.accuracy(x, labels)
        grads = net.gradient(x, labels)
        want = ref.gradient(x, labels)
        assert set(grads) == set(KEYS)
        for k in KEYS:
            assert grads[k].shape == net.params[k].shape
            assert grads[k].dtype == np.float64
            close(grads[k], want[k])


@pytest.mark.parametrize("shape", [(1, 784, 50, 10), (7, 13, 5, 3), (100, 784, 50, 10)],
                         ids=str)
def test_float32_weights(shape):
    B, I, H, O = shape
    net, ref = make_pair(I, H, O, dtype=np.float32)
    x, t = make_batch(B, I, O)
    T = np.eye(O)[t]
    y = net.predict(x)
    assert y.dtype == np.float32
    close(y, ref.predict(x), np.float32)
    loss = net.loss(x, T)
    assert type(loss) is np.float32
    close(loss, ref.loss(x, T), np.float32)
    grads = net.gradient(x, T)
    want = ref.gradient(x, T)
    for k in KEYS:
        assert grads[k].dtype == np.float32
        close(grads[k], want[k], np.float32)
    # a float64 batch computes in float64, as NumPy's promotion would
    y64 = net.predict(x.astype(np.float64))
    assert y64.dtype == np.float64
    close(y64, ref.predict(x))


def test_soft_labels_use_the_books_dy():
    # The book's gradient uses t as given: dy = (y - t) / B, for any t.
    net, ref = make_pair(12, 6, 4)
    x, _ = make_batch(9, 12, 4)
    T = np.random.default_rng(5).dirichlet(np.ones(4), size=9)
    grads, want = net.gradient(x, T), ref.gradient(x, T)
    for k in KEYS:
        close(grads[k], want[k])
    close(net.loss(x, T), ref.loss(x, T))  # argmax of t, as the book's loss


def test_fast_path_gives_the_general_paths_bits():
    # float64 params, a float32/float64 batch and float64 one-hot labels are
    # checked in C (cnet._two_layer.fast_loss, fast_accuracy, fast_gradient);
    # the same values as lists take the general path. Label rows with ties and
    # NaN: loss and accuracy take np.argmax's class (the first maximum, or the
    # first NaN).
    from cnet import _two_layer
    net, _ = make_pair(60, 12, 10)
    x, t = make_batch(40, 60, 10)
    T = np.eye(10)[t]
    T[0, [3, 7]] = 1
    T[1, [2, 5]] = np.nan
    T[2] = [0.2, 0.1, np.nan, 3, 3, 0, 0, 0, 0, np.nan]
    T[3] = [-np.inf, -1, -1, 0.5, 0.5, 0, 0, 0, 0, 0]
    for xb in (x, x.astype(np.float64)):
        assert _two_layer.fast_loss(xb, T, net.params) is not None
        assert _two_layer.fast_gradient(xb, T, net.params) is not None
        fast = net.loss(xb, T)
        assert type(fast) is np.float64
        assert fast == net.loss(xb, T.tolist())
        assert fast == net.loss(xb, np.argmax(T, axis=1))
        assert _two_layer.fast_accuracy(xb, T, net.params) is not None
        acc = net.accuracy(xb, T)
        assert type(acc) is np.float64
        assert acc == net.accuracy(xb, T.tolist()) == net.accuracy(xb, np.argmax(T, axis=1))
        fg, gg = net.gradient(xb, T), net.gradient(xb, T.tolist())
        assert list(fg) == list(gg) == ["W2", "b2", "W1", "b1"]
        for k in KEYS:
            assert type(fg[k]) is np.ndarray and fg[k].flags.c_contiguous
            np.testing.assert_array_equal(fg[k], gg[k])
    # anything else is left to the general path
    p32 = dict(net.params, W1=net.params["W1"].astype(np.float32))
    declined = [(x.astype(np.float16), T, net.params), (x[0], T[:1], net.params),
                (x, t, net.params), (x, T.astype(np.float32), net.params),
                (x, T[:-1], net.params), (x[:, :-1], T, net.params),
                (np.asfortranarray(x), T, net.params), (x, np.asfortranarray(T), net.params),
                (x.tolist(), T, net.params), (x, T, p32), (x, T, list(net.params.items())),
                (x[:0], T[:0], net.params), (x.astype(x.dtype.newbyteorder()), T, net.params),
                (x, T.astype(T.dtype.newbyteorder()), net.params),
                (x, T, dict(net.params, b2=net.params["b2"].astype(">f8" if sys.byteorder
                                                                     == "little" else "<f8")))]
    for args in declined:
        assert _two_layer.fast_loss(*args) is None
        assert _two_layer.fast_accuracy(*args) is None
        assert _two_layer.fast_gradient(*args) is None
    # the general path reads other byte orders as their values
    xs = x.astype(x.dtype.newbyteorder())
    assert net.loss(xs, T.astype(T.dtype.newbyteorder())) == net.loss(x, T)
    np.testing.assert_array_equal(net.gradient(xs, T)["W1"], net.gradient(x, T)["W1"])


def _layouts(x):
    """The same batch as C, F, strided, reversed, read-only and list inputs."""
    big = np.zeros((x.shape[0] * 2, x.shape[1] * 3), dtype=x.dtype)
    big[::2, ::3] = x
    rev = x[::-1].copy()[::-1]
    ro = x.copy()
    ro.flags.writeable = False
    return {"C": x, "F": np.asfortranarray(x), "strided": big[::2, ::3],
            "row_strided": np.repeat(x, 2, axis=0)[::2], "reversed": rev,
            "readonly": ro, "list": x.tolist()}


@pytest.mark.parametrize("xdtype", [np.float32, np.float64])
def test_memory_layouts_give_identical_results(xdtype):
    net, ref = make_pair(31, 9, 5)
    x, t = make_batch(23, 31, 5, dtype=xdtype)
    T = np.eye(5)[t]
    base = (net.predict(x), net.loss(x, T), net.accuracy(x, T), net.gradient(x, T))
    close(base[0], ref.predict(x))
    for name, xv in _layouts(x).items():
        if name == "list":  # a list of Python floats is float64
            continue
        got = (net.predict(xv), net.loss(xv, T), net.accuracy(xv, T), net.gradient(xv, T))
        np.testing.assert_array_equal(got[0], base[0], err_msg=name)
        assert got[1] == base[1] and got[2] == base[2], name
        for k in KEYS:
            np.testing.assert_array_equal(got[3][k], base[3][k], err_msg=name)
    close(net.predict(_layouts(x)["list"]), ref.predict(x.astype(np.float64)))


@pytest.mark.parametrize("xdtype", [np.uint8, np.int64, np.bool_, np.float16])
def test_other_input_dtypes_promote_like_numpy(xdtype):
    net, ref = make_pair(17, 6, 3, std=0.05)
    rng = np.random.default_rng(2)
    x = (rng.random((11, 17)) * 3).astype(xdtype)
    t = rng.integers(0, 3, 11)
    close(net.predict(x), ref.predict(x))
    close(net.loss(x, t), ref.loss(x, t))
    assert net.accuracy(x, t) == ref.accuracy(x, t)
    grads, want = net.gradient(x, t), ref.gradient(x, t)
    for k in KEYS:
        close(grads[k], want[k])


def test_chunked_conversion_matches_direct(monkeypatch):
    # uint8 and F-ordered batches are converted CHUNK_ROWS rows at a time
    import cnet.two_layer_net as tln
    net, ref = make_pair(40, 8, 6)
    rng = np.random.default_rng(4)
    x8 = (rng.random((1000, 40)) * 255 * (rng.random((1000, 40)) < 0.3)).astype(np.uint8)
    t = rng.integers(0, 6, 1000)
    monkeypatch.setattr(tln, "CHUNK_ROWS", 97)
    xs = x8 / np.float32(255)
    direct = (net.predict(xs.astype(np.float32)), net.accuracy(xs.astype(np.float32), t))
    xf = np.asfortranarray(xs.astype(np.float32))
    assert np.array_equal(net.predict(xf), direct[0])
    assert net.accuracy(xf, t) == direct[1]
    close(net.predict(x8), ref.predict(x8))
    assert net.accuracy(x8, t) == ref.accuracy(x8, t)


def test_single_sample_as_the_book():
    net, ref = make_pair(10, 4, 3)
    x, t = make_batch(1, 10, 3)
    y = net.predict(x[0])
    assert y.shape == (3,)
    close(y, ref.predict(x[0]))
    close(net.loss(x[0], np.eye(3)[t[0]]), ref.loss(x[0], np.eye(3)[t[0]]))
    close(net.loss(x[0], t[0]), ref.loss(x[0], np.array([t[0]])))


def test_params_are_read_at_every_call():
    net, ref = make_pair(20, 5, 4)
    x, t = make_batch(8, 20, 4)
    T = np.eye(4)[t]
    net.predict(x)
    # in-place update, as the book's training loop
    g = net.gradient(x, T)
    for k in KEYS:
        net.params[k] -= 0.5 * g[k]
        ref.params[k] -= 0.5 * g[k]
    close(net.predict(x), ref.predict(x))
    # replaced arrays, including non-contiguous and float32 ones
    net.params["W1"] = np.asfortranarray(net.params["W1"] * 2)
    ref.params["W1"] = ref.params["W1"] * 2
    close(net.predict(x), ref.predict(x))
    wide = np.zeros((5, 8))
    wide[:, ::2] = net.params["W2"] + 1
    net.params["W2"] = wide[:, ::2]
    ref.params["W2"] = ref.params["W2"] + 1
    close(net.loss(x, T), ref.loss(x, T))
    for k in KEYS:
        close(net.gradient(x, T)[k], ref.gradient(x, T)[k])
    # an optimizer updating the dict
    opt = SGD(lr=0.1)
    net.params["W2"] = np.ascontiguousarray(net.params["W2"])
    opt.update(net.params, net.gradient(x, T))
    reference.SGD(lr=0.1).update(ref.params, ref.gradient(x, T))
    close(net.predict(x), ref.predict(x))
    # a new network shape assigned wholesale
    net.params = {"W1": np.ones((20, 3)) * 0.01, "b1": np.zeros(3),
                  "W2": np.ones((3, 2)), "b2": np.zeros(2)}
    assert net.predict(x).shape == (8, 2)


def test_mixed_param_dtypes_promote():
    net, ref = make_pair(9, 4, 3)
    net.params["b1"] = net.params["b1"].astype(np.float32)
    ref.params["b1"] = net.params["b1"].astype(np.float64)
    x, t = make_batch(5, 9, 3)
    assert net.predict(x).dtype == np.float64
    close(net.predict(x), ref.predict(x))


@pytest.mark.parametrize("density", [0.2, 1.0])
def test_thread_count_does_not_change_bits(restore_threads, density):
    net, _ = make_pair(784, 50, 10, std=0.1)
    x, t = make_batch(301, 784, 10, density=density)
    T = np.eye(10)[t]
    runs = []
    for n in (1, 2):
        cnet.set_num_threads(n)
        runs.append((net.predict(x), net.loss(x, T), net.accuracy(x, T),
                     net.gradient(x, T), net.gradient(x, t)))
    a, b = runs
    np.testing.assert_array_equal(a[0], b[0])
    assert a[1] == b[1] and a[2] == b[2]
    for k in KEYS:
        np.testing.assert_array_equal(a[3][k], b[3][k])
        np.testing.assert_array_equal(a[4][k], b[4][k])
        np.testing.assert_array_equal(a[3][k], a[4][k])  # one-hot == indices


def test_accuracy_on_a_large_set_uses_bounded_memory():
    net, ref = make_pair(784, 50, 10, std=0.1)
    x, t = make_batch(20000, 784, 10)
    T = np.eye(10)[t]
    want = ref.accuracy(x[:2000], T[:2000])
    assert net.accuracy(x[:2000], T[:2000]) == want
    xf = np.asfortranarray(x[:6000])
    tracemalloc.start()
    try:
        net.accuracy(x, T)
        net.accuracy(xf, t[:6000])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # The batch is 62.7 MB as float32 (125 MB as float64). Allowed: the (B,)
    # label indices (160 kB) and one converted chunk (1024 rows, 3.2 MB).
    assert peak < 4e6, peak


def test_bad_inputs_raise_clear_errors():
    net, _ = make_pair(6, 4, 3)
    x, t = make_batch(5, 6, 3)
    with pytest.raises(ValueError, match="x has 7 columns"):
        net.predict(np.zeros((5, 7)))
    with pytest.raises(ValueError, match="x must be a batch"):
        net.predict(np.zeros((5, 1, 6)))
    with pytest.raises(TypeError, match="x must hold real numbers"):
        net.predict(np.zeros((5, 6), dtype=complex))
    with pytest.raises(TypeError, match="x must hold real numbers"):
        net.predict(np.array([["a"] * 6]))
    with pytest.raises(ValueError, match=r"class indices must lie in \[0, 3\)"):
        net.loss(x, np.array([0, 1, 2, 3, 0]))
    with pytest.raises(ValueError, match=r"class indices must lie in \[0, 3\)"):
        net.gradient(x, np.array([0, -1, 2, 1, 0]))
    with pytest.raises(TypeError, match="class indices must be integers"):
        net.loss(x, t.astype(float))
    with pytest.raises(ValueError, match="t must be one-hot"):
        net.loss(x, np.zeros((5, 4)))
    with pytest.raises(ValueError, match="t must be one-hot"):
        net.gradient(x, t[:4])
    with pytest.raises(ValueError, match="at least one row"):
        net.loss(np.zeros((0, 6)), np.zeros(0, dtype=int))
    with pytest.raises(ValueError, match="at least one row"):
        net.accuracy(np.zeros((0, 6)), np.zeros(0, dtype=int))
    with pytest.raises(ValueError, match="x must be a batch"):
        net.gradient(x[0], t[:1])
    assert net.predict(np.zeros((0, 6))).shape == (0, 3)

    good = dict(net.params)
    net.params["W1"] = np.zeros((6, 5))
    with pytest.raises(ValueError, match="params shapes do not agree"):
        net.predict(x)
    net.params = dict(good, b1=np.zeros((1, 4)))
    with pytest.raises(ValueError, match="params must be W1"):
        net.loss(x, t)
    net.params = dict(good, W2=np.zeros((4, 3), dtype=np.int64))
    with pytest.raises(TypeError, match=r"params\['W2'\] must be float32 or float64"):
        net.gradient(x, t)
    net.params = dict(good, b2=np.zeros(3, dtype=np.float16))
    with pytest.raises(TypeError, match=r"params\['b2'\]"):
        net.accuracy(x, t)
    net.params = {k: v for k, v in good.items() if k != "b1"}
    with pytest.raises(KeyError, match="b1"):
        net.predict(x)
    net.params = dict(good, W1=np.zeros((6, 0)), b1=np.zeros(0), W2=np.zeros((0, 3)))
    with pytest.raises(ValueError, match="non-zero sizes"):
        net.predict(x)
    net.params = dict(good)
    net.predict(x)

    with pytest.raises(ValueError, match="hidden_size must be >= 1"):
        TwoLayerNet(4, 0, 2)
    with pytest.raises(TypeError, match="input_size must be an int"):
        TwoLayerNet(4.0, 3, 2)
    with pytest.raises(TypeError, match="dtype must be float32 or float64"):
        TwoLayerNet(4, 3, 2, dtype=np.int32)


def test_private_kernels_check_shapes():
    # The compiled layer re-checks what it reads, so a wrong call cannot read
    # out of bounds.
    from cnet import _two_layer
    W1, b1, W2, b2 = np.zeros((6, 4)), np.zeros(4), np.zeros((4, 3)), np.zeros(3)
    x = np.zeros((5, 7))
    with pytest.raises(ValueError, match="shapes do not agree"):
        _two_layer.predict(x, W1, b1, W2, b2, np.zeros((5, 3)))
    with pytest.raises(ValueError, match="y must have shape"):
        _two_layer.predict(np.zeros((5, 6)), W1, b1, W2, b2, np.zeros((4, 3)))
    with pytest.raises(ValueError, match="one label per row"):
        _two_layer.loss(np.zeros((5, 6)), np.zeros(4, dtype=np.intp), W1, b1, W2, b2)
    with pytest.raises(TypeError, match="float64 batch needs float64 weights"):
        _two_layer.predict(np.zeros((5, 6)), *(a.astype(np.float32) for a in (W1, b1, W2, b2)),
                           np.zeros((5, 3), dtype=np.float32))


# --- numerical_gradient ------------------------------------------------------

H_STEP = 1e-4


def _brute_force_noise(net, x, t):
    """Rounding noise of a brute-force central difference: each loss evaluation
    is off by a few eps times the magnitudes it sums (|loss| and the scores
    |a2| it sees), so (f+ - f-) / 2h is off by ~eps * S / h. A factor 8 covers
    the handful of roundings per evaluation."""
    p = {k: np.asarray(v, dtype=np.float64) for k, v in net.params.items()}
    xa = np.abs(np.asarray(x, dtype=np.float64))
    A1 = xa @ np.abs(p["W1"]) + np.abs(p["b1"])
    A2 = np.ones_like(A1) @ np.abs(p["W2"]) + np.abs(p["b2"])
    S = (max(abs(float(net.loss(x, t))), 1.0) + 2 * A2.max()
         + 0.5 * A1.max() * np.abs(p["W2"]).max())
    return 8 * np.finfo(np.float64).eps * S / H_STEP


def test_numerical_gradient_is_the_compiled_central_difference():
    from cnet import _netgrad
    net, _ = make_pair(30, 7, 4, std=0.3)
    x, t = make_batch(9, 30, 4)
    want = dict(zip(KEYS, _netgrad.numerical_gradient(x, t.astype(np.intp),
                                                      *(net.params[k] for k in KEYS))))
    T = np.eye(4)[t]
    # one-hot labels (argmax, as the book's loss), non-contiguous batch and params
    net.params["W1"] = np.asfortranarray(net.params["W1"])
    for xv in _layouts(x).values():
        if isinstance(xv, list):
            continue
        for labels in (t, T, t.astype(np.uint8)):
            got = net.numerical_gradient(xv, labels)
            assert list(got) == list(KEYS)
            for k in KEYS:
                assert got[k].shape == net.params[k].shape and got[k].dtype == np.float64
                np.testing.assert_array_equal(got[k], want[k])
    single = net.numerical_gradient(x[0], T[0])
    want1 = _netgrad.numerical_gradient(x[:1], t[:1].astype(np.intp),
                                        *(np.ascontiguousarray(net.params[k]) for k in KEYS))
    for k, w in zip(KEYS, want1):
        np.testing.assert_array_equal(single[k], w)
    with pytest.raises(ValueError, match="class indices"):
        net.numerical_gradient(x, t + 4)


@pytest.mark.parametrize("xdtype", [np.float32, np.float64])
def test_numerical_gradient_matches_the_books_brute_force(xdtype):
    net, ref = make_pair(12, 5, 3, std=0.5)
    x, t = make_batch(6, 12, 3, density=0.5, dtype=xdtype)
    T = np.eye(3)[t]
    got = net.numerical_gradient(x, T)
    want = ref.numerical_gradient(x, T)
    tol = _brute_force_noise(net, x, T)
    for k in KEYS:
        np.testing.assert_allclose(got[k], want[k], rtol=0, atol=tol)


def test_the_books_idiom_reads_the_perturbed_params():
    # f ignores its argument: it works because net.loss reads the very array
    # numerical_gradient perturbs in place.
    from cnet.gradient import numerical_gradient
    net, _ = make_pair(10, 4, 3, std=0.5)
    x, t = make_batch(5, 10, 3, density=0.6)
    T = np.eye(3)[t]
    fast = net.numerical_gradient(x, T)
    tol = _brute_force_noise(net, x, T)
    for k in KEYS:
        before = net.params[k].copy()
        slow = numerical_gradient(lambda W: net.loss(x, T), net.params[k])
        np.testing.assert_array_equal(net.params[k], before)  # restored
        np.testing.assert_allclose(slow, fast[k], rtol=0, atol=tol)


def test_numerical_gradient_agrees_with_backprop():
    # Backprop drops the +1e-7 in the log, which scales each row's dy by
    # y_t / (y_t + 1e-7) (relative effect <= 1e-7 / min y_t), and the central
    # difference carries h^2/6 times the third derivative (|f'''| of a few
    # units here: ~2e-8, covered by the 1e-7 floor).
    net, _ = make_pair(40, 8, 5, std=0.3)
    x, t = make_batch(20, 40, 5)
    yt_min = net.predict(x)[np.arange(20), t].min()
    num, bp = net.numerical_gradient(x, t), net.gradient(x, t)
    for k in KEYS:
        bound = 2e-7 / yt_min * np.abs(bp[k]).max() + 1e-7
        np.testing.assert_allclose(num[k], bp[k], rtol=0, atol=bound)


@pytest.mark.parametrize("H", [7, 50, 100])
@pytest.mark.parametrize("wdtype", [np.float64, np.float32])
def test_blocked_hidden_layer_keeps_each_rows_bits(H, wdtype):
    # The hidden layer gathers a chunk's W1 rows block by block of inputs
    # (all rows of the chunk per block). Rows whose inputs lie in one block,
    # in none, at both ends, or that take the dense path share chunks here:
    # each must get the bits it gets alone, and the reference's values.
    I, O = 784, 10
    net, ref = make_pair(I, H, O, std=0.1, dtype=wdtype)
    x, t = make_batch(24, I, O, density=0.2)
    x[1] = 0.0
    x[2] = 0.0
    x[2, 0] = 0.5
    x[3] = 0.0
    x[3, I - 1] = 0.25
    x[4] = 0.0
    x[4, 100:130] = 0.75
    x[5, ::2] = 0.0
    x[9] = 0.0
    x[12:16] = np.where(x[12:16] == 0, 0.5, x[12:16])  # a dense group of 4
    x[17] = 0.0
    x[17, [0, I - 1]] = 1.0
    T = np.eye(O)[t]
    y = net.predict(x)
    close(y, ref.predict(x), wdtype)
    close(net.loss(x, T), ref.loss(x, T), wdtype)
    grads, want = net.gradient(x, T), ref.gradient(x, T)
    for k in KEYS:
        close(grads[k], want[k], wdtype)
    for b in range(x.shape[0]):
        np.testing.assert_array_equal(net.predict(x[b:b + 1]), y[b:b + 1])


def test_dense_and_sparse_paths_give_the_same_bits():
    # Blocks of 4 rows that are at least half non-zero take the dense path
    # (zeros multiplied), others skip zero inputs: adding 0 * w changes no sum,
    # so a row gives the same bits alone (sparse path) and in a dense block.
    net, _ = make_pair(50, 13, 4, std=0.3)
    x, t = make_batch(12, 50, 4, density=0.9)
    x[5] = 0.0
    x[6, ::3] = 0.0
    together = net.predict(x)
    for b in range(12):
        np.testing.assert_array_equal(net.predict(x[b:b + 1]), together[b:b + 1])


@pytest.mark.parametrize("H", [7, 50, 48])
@pytest.mark.parametrize("wdtype", [np.float64, np.float32])
def test_large_batches_keep_each_rows_bits(H, wdtype):
    # From 512 rows on, the forward pass reads W1 through a copy whose rows
    # are padded to whole vectors (aligned loads); smaller batches read W1
    # itself. Every row must give the same bits either way, dense groups
    # included.
    net, _ = make_pair(784, H, 10, std=0.1, dtype=wdtype)
    x, t = make_batch(1100, 784, 10, density=0.2)
    x[40:44] = np.random.default_rng(5).random((4, 784))
    T = np.eye(10)[t]
    whole = net.predict(x)
    parts = np.concatenate([net.predict(x[b:b + 100]) for b in range(0, 1100, 100)])
    np.testing.assert_array_equal(whole, parts)
    assert net.loss(x, T) == net.loss(x, t)
    assert net.accuracy(x, T) == np.mean(np.argmax(parts, axis=1) == t)


def _every_kernel(net, x, t, T, fill=False):
    """predict, loss (labels and the fast path's one-hot), accuracy and both
    gradients of net on (x, t): every kernel that takes scratch. With fill,
    the kept scratch block is filled with NaN bytes before each call."""
    from cnet import _two_layer

    def call(f, *args):
        if fill:
            _two_layer._kept_scratch(fill=0xFF)
        return f(*args)
    return (call(net.predict, x), call(net.loss, x, T), call(net.loss, x, t),
            call(net.accuracy, x, T), call(net.gradient, x, T), call(net.gradient, x, t))


def _assert_same_bits(a, b):
    np.testing.assert_array_equal(a[0], b[0])
    assert a[1] == b[1] and a[2] == b[2] and a[3] == b[3]
    for k in KEYS:
        np.testing.assert_array_equal(a[4][k], b[4][k])
        np.testing.assert_array_equal(a[5][k], b[5][k])


def test_kept_scratch_gives_each_calls_own_bits(restore_threads):
    # The kernels' scratch is one block kept from call to call
    # (cnet._two_layer._kept_scratch). Filled with NaN bytes before every
    # call, and met in any order of shapes, dtypes and thread counts, every
    # result must keep the bits it has when computed first, and match the
    # reference. A kernel that read scratch it had not written, or a block
    # reused when too small, would show here.
    from cnet import _two_layer
    cases = []
    for (B, I, H, O), wdtype, xdtype in [((100, 784, 50, 10), np.float64, np.float32),
                                         ((300, 784, 50, 10), np.float64, np.float64),
                                         ((5, 30, 17, 4), np.float32, np.float32),
                                         ((257, 64, 100, 25), np.float64, np.float32),
                                         ((1, 784, 50, 10), np.float64, np.float32)]:
        net, ref = make_pair(I, H, O, std=0.1, dtype=wdtype)
        x, t = make_batch(B, I, O, density=0.25, dtype=xdtype)
        cases.append((net, ref, x, t, np.eye(O)[t]))
    first = [_every_kernel(net, x, t, T) for net, _, x, t, T in cases]
    for net, ref, x, t, T in cases:
        want = ref.gradient(x.astype(np.float64), T)
        got = net.gradient(x, T)
        for k in KEYS:
            close(got[k], want[k], net.params[k].dtype)
    for n in (2, 1):
        cnet.set_num_threads(n)
        for i in (3, 0, 4, 1, 2, 0, 1):
            net, _, x, t, T = cases[i]
            assert _two_layer._kept_scratch() > 0
            _assert_same_bits(_every_kernel(net, x, t, T, fill=True), first[i])


def test_kept_scratch_is_bounded():
    # A batch whose gradient needs more than the kept block's bound (16 MiB)
    # gets its own block, freed after the call; the next smaller call keeps its
    # own again.
    from cnet import _two_layer
    net, _ = make_pair(784, 800, 10, std=0.05)
    x, t = make_batch(1400, 784, 10, density=0.2)
    net.gradient(x, t)
    assert _two_layer._kept_scratch() <= 16 << 20
    small = x[:100]
    want = net.gradient(small.copy(), t[:100])
    _two_layer._kept_scratch(fill=0xFF)
    got = net.gradient(small, t[:100])
    for k in KEYS:
        np.testing.assert_array_equal(got[k], want[k])
    assert 0 < _two_layer._kept_scratch() <= 16 << 20


def test_threads_calling_at_once_get_their_own_scratch():
    # Python threads run the kernels at the same time (the GIL is released):
    # at most one of them has the kept block, the others allocate their own.
    import threading
    cases = []
    for seed, (B, H) in enumerate([(100, 50), (64, 30), (200, 50), (17, 80)]):
        net, _ = make_pair(784, H, 10, seed=seed, std=0.1)
        x, t = make_batch(B, 784, 10, seed=seed, density=0.25)
        cases.append((net, x, t, np.eye(10)[t]))
    want = [_every_kernel(*c) for c in cases]
    errors = []
    start = threading.Barrier(len(cases))

    def work(i):
        try:
            start.wait()
            for _ in range(15):
                _assert_same_bits(_every_kernel(*cases[i]), want[i])
        except BaseException as e:  # the test thread reports it
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(cases))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors[0]
