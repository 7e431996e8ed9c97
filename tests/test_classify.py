"""The compiled row argmax behind the dense networks' accuracy
(cnet._classify, through cnet.multi_layer_net._argmax_rows) against
np.argmax(a, axis=1), the book's call.

Tolerance: none. An argmax is an index, so every case must give NumPy's
exact indices: ties (the first largest wins), -0.0 beside 0.0, inf, -inf
and NaN (the first NaN of a row wins, as np.argmax treats NaN as the
largest), on float32 and float64, C, Fortran, strided, reversed, read-only
and unaligned layouts (the last ones take NumPy's own call), one and many
blocks of rows, one and two threads.
"""
import numpy as np
import pytest

import cnet
from cnet import _classify
from cnet import reference as R
from cnet.ch05_two_layer_net import TwoLayerNet
from cnet.multi_layer_net import MultiLayerNet, _argmax_rows


def scores(rng, shape, dtype):
    """Small integers (many ties) with -0.0, inf, -inf and NaN sprinkled in."""
    a = rng.integers(-3, 4, size=shape).astype(dtype)
    a[a == 0] = np.where(rng.random(int((a == 0).sum())) < 0.5, -0.0, 0.0)
    for value, share in ((np.inf, 0.02), (-np.inf, 0.02), (np.nan, 0.03)):
        a[rng.random(shape) < share] = value
    return a


def layouts(a):
    yield "C", a
    yield "Fortran", np.asfortranarray(a)
    yield "every other row", a[::2]
    yield "reversed rows", a[::-1]
    yield "columns after the first", a[:, 1:]
    ro = a.copy()
    ro.flags.writeable = False
    yield "read-only", ro
    buf = np.zeros(a.size * a.itemsize + 1, np.uint8)
    un = buf[1:].view(a.dtype).reshape(a.shape)
    un[...] = a
    yield "unaligned", un


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(0, 10), (1, 1), (7, 1), (5, 2), (33, 10), (9000, 10),
                                   (40, 257)])
def test_argmax_rows_matches_numpy(dtype, shape):
    rng = np.random.default_rng(shape[0] * 1000 + shape[1])
    for name, a in layouts(scores(rng, shape, dtype)):
        if a.shape[1] == 0:
            continue
        got = _argmax_rows(a)
        assert got.dtype == np.intp, name
        np.testing.assert_array_equal(got, np.argmax(a, axis=1), err_msg=name)


def test_argmax_rows_rules():
    a = np.array([[1.0, 3.0, 3.0, 2.0],          # tie: the first
                  [-0.0, 0.0, -1.0, -2.0],       # -0.0 == 0.0: the first
                  [1.0, np.nan, 5.0, np.nan],    # the first NaN
                  [np.nan, 1.0, 2.0, 3.0],       # a NaN first
                  [-np.inf, -np.inf, -np.inf, -np.inf],
                  [np.nan, np.nan, np.nan, np.nan],
                  [1.0, 2.0, np.inf, np.inf]])
    for dtype in (np.float32, np.float64):
        np.testing.assert_array_equal(_argmax_rows(a.astype(dtype)), [1, 0, 1, 0, 0, 0, 2])
        np.testing.assert_array_equal(_argmax_rows(a.astype(dtype)),
                                      np.argmax(a.astype(dtype), axis=1))


def test_argmax_rows_other_inputs_take_numpy():
    # Integers, a 0-column array (NumPy's own error) and a list.
    a = np.array([[1, 5, 5], [7, 0, 7]], np.int16)
    np.testing.assert_array_equal(_argmax_rows(a), [1, 0])
    with pytest.raises(ValueError):
        _argmax_rows(np.zeros((3, 0)))
    np.testing.assert_array_equal(_argmax_rows([[0.0, 1.0], [2.0, 1.0]]), [1, 0])


def test_argmax_rows_kernel_refuses_bad_strides():
    with pytest.raises(ValueError, match="unit column stride"):
        _classify.argmax_rows(np.zeros((4, 3))[:, ::2], np.empty(4, np.intp))
    with pytest.raises(ValueError, match="at least one column"):
        _classify.argmax_rows(np.zeros((4, 0)), np.empty(4, np.intp))


def test_argmax_rows_same_for_one_and_two_threads(restore_threads):
    # Past 2 x 2**21 entries: two threads take part.
    a = np.random.default_rng(5).integers(-50, 50, size=(430000, 10)).astype(np.float32)
    results = []
    for n in (1, 2):
        cnet.set_num_threads(n)
        results.append(_argmax_rows(a))
    np.testing.assert_array_equal(results[0], results[1])
    np.testing.assert_array_equal(results[0], np.argmax(a, axis=1))


@pytest.mark.parametrize("labels", ["one-hot float64", "one-hot float32", "indices"])
def test_accuracy_equals_the_books(labels):
    rng = np.random.default_rng(8)
    x = rng.random((500, 12))
    idx = rng.integers(0, 5, 500)
    t = {"one-hot float64": np.eye(5)[idx], "one-hot float32": np.eye(5, dtype=np.float32)[idx],
         "indices": idx}[labels]
    nets = ((lambda: TwoLayerNet(12, 7, 5), lambda: R.Ch05TwoLayerNet(12, 7, 5)),
            (lambda: MultiLayerNet(12, [9, 9], 5), lambda: R.MultiLayerNet(12, [9, 9], 5)))
    for make_ours, make_book in nets:
        np.random.seed(3)
        ours = make_ours()
        np.random.seed(3)
        book = make_book()
        got, want = ours.accuracy(x, t), book.accuracy(x, t)
        assert type(got) is type(want) and got == want
        # Scores with NaN rows: the first NaN's index, as the book's argmax.
        ours.params["b2"][1] = np.nan
        book.params["b2"][1] = np.nan
        assert ours.accuracy(x, t) == book.accuracy(x, t)
