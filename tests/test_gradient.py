"""cnet.gradient against cnet.reference.

cnet's compiled loop repeats the book's arithmetic exactly (the same
perturbed values, the same f calls, the same difference quotient), so the
gradients must equal the reference's to the bit, not just to a tolerance.
"""
import numpy as np
import pytest

from cnet import gradient as G
from cnet import reference as R


def _layouts(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    base = rng.standard_normal(shape).astype(dtype)
    out = [("C", base), ("F", np.asfortranarray(base))]
    if not shape:
        return out[:1]
    big = rng.standard_normal(tuple(2 * n + 1 for n in shape)).astype(dtype)
    out.append(("strided", big[tuple(slice(1, None, 2) for _ in shape)]))
    if len(shape) >= 2:
        out.append(("transposed", np.ascontiguousarray(base.T).T))
        out.append(("reversed", base.copy()[::-1, ..., ::-1]))
    return out


def _network_like_loss(x):
    """A loss that ignores its argument and reads x itself, as TwoLayerNet's
    ``lambda W: self.loss(x, t)`` reads self.params."""
    weights = np.linspace(-1.0, 2.0, x.size).reshape(x.shape)

    def loss(_):
        return float(np.sum(np.sin(x) * weights) + 0.5 * np.sum(x ** 2))
    return loss


def _argument_loss(W):
    return np.sum(np.tanh(W) * np.cos(W)) + W.ravel()[0] ** 3


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(), (1,), (5,), (3, 4), (2, 3, 4), (2, 1, 3, 2)])
def test_numerical_gradient_equals_reference(shape, dtype):
    for layout, x in _layouts(shape, dtype):
        for make_f in (_network_like_loss, lambda x: _argument_loss):
            x_ref = x.copy(order="K")
            original = x.copy(order="K")
            got = G.numerical_gradient(make_f(x), x)
            want = R.numerical_gradient(make_f(x_ref), x_ref)
            assert got.dtype == x.dtype and got.shape == x.shape
            assert got.flags.f_contiguous == np.zeros_like(x).flags.f_contiguous
            np.testing.assert_array_equal(got, want)
            assert x.tobytes() == original.tobytes()  # restored exactly


def test_float32_losses_keep_the_books_float32_arithmetic():
    x = np.linspace(-1, 1, 12).astype(np.float32).reshape(3, 4)
    f = lambda W: np.float32(np.sum(W * W, dtype=np.float32))  # noqa: E731
    np.testing.assert_array_equal(G.numerical_gradient(f, x),
                                  R.numerical_gradient(f, x.copy()))
    y = np.linspace(-1, 1, 12).reshape(3, 4)
    np.testing.assert_array_equal(G.numerical_gradient(f, y),
                                  R.numerical_gradient(f, y.copy()))


def test_elements_are_visited_in_c_order_in_place():
    base = np.arange(24.0).reshape(2, 3, 4)
    x = np.asfortranarray(base)[:, ::-1, 1:]  # non-contiguous, F-based, reversed
    seen = []

    def f(arg):
        assert arg is x
        moved = np.argwhere(x != np.asfortranarray(base)[:, ::-1, 1:])
        assert len(moved) == 1
        seen.append(tuple(moved[0]))
        return 0.0
    G.numerical_gradient(f, x)
    order = [idx for idx in np.ndindex(*x.shape) for _ in (0, 1)]
    assert seen == order


@pytest.mark.parametrize("fail_at", [0, 1, 2, 7])
@pytest.mark.parametrize("exc", [KeyboardInterrupt, ValueError])
def test_f_raising_restores_the_element(fail_at, exc):
    x = np.random.default_rng(1).standard_normal((3, 4))
    original = x.copy()
    calls = []

    def f(_):
        calls.append(x.copy())
        if len(calls) == fail_at + 1:
            raise exc("stop")
        return float(np.sum(x))
    with pytest.raises(exc):
        G.numerical_gradient(f, x)
    assert x.tobytes() == original.tobytes()
    assert not np.array_equal(calls[-1], original)  # it was perturbed when f raised


def test_gradient_helpers_equal_reference():
    X = np.random.default_rng(2).standard_normal((3, 5))
    f = lambda row: np.sum(row ** 3)  # noqa: E731 (the book's style)
    np.testing.assert_array_equal(G.numerical_gradient_2d(f, X.copy()),
                                  R.numerical_gradient_2d(f, X.copy()))
    np.testing.assert_array_equal(G.numerical_gradient_2d(f, X[0].copy()),
                                  R.numerical_gradient_2d(f, X[0].copy()))
    np.testing.assert_array_equal(G._numerical_gradient_1d(f, X[1].copy()),
                                  R._numerical_gradient_1d(f, X[1].copy()))
    rows = []
    G.numerical_gradient_2d(lambda r: rows.append(r.shape) or 0.0, X)
    assert set(rows) == {(5,)}

    def function_1(x):
        return 0.01 * x ** 2 + 0.1 * x
    for x in (5, 10, 5.0, np.float32(3.0)):
        assert G.numerical_diff(function_1, x) == R.numerical_diff(function_1, x)
    assert G.numerical_diff(function_1, 5) == pytest.approx(0.2, rel=1e-9)


def test_gradient_descent_mutates_and_returns_init_x():
    def function_2(x):
        return x[0] ** 2 + x[1] ** 2
    init_x = np.array([-3.0, 4.0])
    ref = R.gradient_descent(function_2, init_x.copy(), lr=0.1, step_num=100)
    out = G.gradient_descent(function_2, init_x, lr=0.1, step_num=100)
    assert out is init_x
    np.testing.assert_array_equal(out, ref)
    assert np.all(np.abs(out) < 1e-8)  # the book: close to (0, 0)
    x32 = np.array([-3.0, 4.0], dtype=np.float32)
    np.testing.assert_array_equal(G.gradient_descent(function_2, x32, lr=0.01, step_num=5),
                                  R.gradient_descent(function_2, np.array([-3.0, 4.0],
                                                     dtype=np.float32), lr=0.01, step_num=5))


def test_bad_arguments():
    f = lambda x: 0.0  # noqa: E731
    for x in (np.arange(3), np.arange(3, dtype=np.uint8), np.array([True])):
        with pytest.raises(TypeError, match="integers is meaningless"):
            G.numerical_gradient(f, x)
    with pytest.raises(TypeError, match="float16"):
        G.numerical_gradient(f, np.zeros(3, np.float16))
    with pytest.raises(TypeError, match="NumPy array"):
        G.numerical_gradient(f, [1.0, 2.0])
    with pytest.raises(TypeError, match="float32 or float64"):
        G.numerical_gradient(f, np.zeros(3, ">f8"))
    ro = np.zeros(3)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        G.numerical_gradient(f, ro)
    with pytest.raises(ValueError, match="must return a scalar"):
        G.numerical_gradient(lambda x: x * 2, np.zeros(3))
    with pytest.raises(ValueError, match="1-D or 2-D"):
        G.numerical_gradient_2d(f, np.zeros((2, 2, 2)))
    assert G.numerical_gradient(f, np.zeros((0, 3))).shape == (0, 3)


def test_size_one_array_results_are_accepted():
    # f returning a one-element array (as np.dot of 1-element vectors does);
    # today's NumPy refuses to store it in grad[idx], cnet takes its value.
    x = np.array([1.0, 2.0])
    f = lambda x: np.array([np.sum(x ** 2)])  # noqa: E731
    np.testing.assert_array_equal(G.numerical_gradient(f, x),
                                  R.numerical_gradient(lambda x: f(x)[0], x.copy()))
