"""cnet.threads: BLAS held to one thread inside cnet, the user's setting
given back, products split by rows with the same bits for any thread count."""
import threading

import numpy as np
import pytest
from threadpoolctl import ThreadpoolController

import cnet
from cnet import threads
from cnet.multi_layer_net import MultiLayerNet


def _blas_threads():
    libs = ThreadpoolController().select(user_api="blas").lib_controllers
    return [lib.get_num_threads() for lib in libs]


@pytest.fixture
def blas_two():
    """BLAS on two threads for the test, the previous setting restored."""
    ctl = ThreadpoolController()
    if not ctl.select(user_api="blas").lib_controllers:
        pytest.skip("threadpoolctl finds no BLAS library in this NumPy")
    with ctl.limit(limits=2, user_api="blas"):
        yield


def test_blas_held_gives_the_user_setting_back(blas_two):
    before = _blas_threads()
    assert before and all(n == 2 for n in before)
    with threads.blas_held():
        assert all(n == 1 for n in _blas_threads())
        with threads.blas_held():  # nested: still one, not restored early
            assert all(n == 1 for n in _blas_threads())
        assert all(n == 1 for n in _blas_threads())
    assert _blas_threads() == before


def test_blas_held_restores_after_an_exception(blas_two):
    before = _blas_threads()
    with pytest.raises(ZeroDivisionError):
        with threads.blas_held():
            1 / 0
    assert _blas_threads() == before


def test_network_calls_leave_the_user_blas_setting(blas_two):
    """A network's gradient and loss run with BLAS on one thread (seen from
    inside a layer) and give the user's two threads back."""
    np.random.seed(0)
    net = MultiLayerNet(20, [30, 30], 5)
    seen = []
    layer = net.layers["Affine2"]
    forward = layer.forward

    def spy(x):
        seen.append(_blas_threads())
        return forward(x)
    layer.forward = spy
    x = np.random.rand(7, 20)
    t = np.arange(7) % 5
    net.gradient(x, t)
    net.loss(x, t)
    assert seen and all(n == 1 for s in seen for n in s)
    assert all(n == 2 for n in _blas_threads())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 1, 1), (3, 5, 7), (0, 4, 3), (4, 0, 3),
                                   (37, 1500, 101), (513, 97, 90)])
def test_dot_equals_numpy(dtype, shape, restore_threads):
    """dot(a, b) equals np.dot to rounding (rtol 1e-12 float64, 1e-5 float32:
    blocks of rows may be summed by BLAS in another order) and has the same
    bits on 1 and 2 threads (blocks depend on the shapes only)."""
    M, K, N = shape
    rng = np.random.default_rng(M * 7 + K)
    a = rng.standard_normal((M, K)).astype(dtype)
    b = rng.standard_normal((K, N)).astype(dtype)
    want = np.dot(a, b)
    got = []
    for n in (1, 2):
        cnet.set_num_threads(n)
        r = threads.dot(a, b)
        assert r.dtype == want.dtype and r.shape == want.shape
        got.append(r)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(got[0], want, rtol=tol, atol=tol * np.sqrt(max(K, 1)))
    assert np.array_equal(got[0], got[1])


def test_dot_reads_strided_read_only_and_transposed_inputs(restore_threads):
    """Views as the layers pass them: xᵀ (F order), a strided slice, read-only."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((300, 2000))[:, ::2]  # (300, 1000), strided
    x.flags.writeable = False
    d = rng.standard_normal((300, 40))
    d.flags.writeable = False
    for n in (1, 2):
        cnet.set_num_threads(n)
        np.testing.assert_allclose(threads.dot(x.T, d), np.dot(x.T, d), rtol=1e-12,
                                   atol=1e-10)
        np.testing.assert_allclose(threads.dot(d.T, x), np.dot(d.T, x), rtol=1e-12,
                                   atol=1e-10)
    assert np.array_equal(threads.dot(x.T, d), (cnet.set_num_threads(1), threads.dot(x.T, d))[1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_product_into_runs_cnets_product_where_chosen_and_numpy_otherwise(dtype):
    """On a CPU where cnet's product runs its AVX-512 path, product_into is that
    product to the bit (so row blocks cannot change the bits); elsewhere, and
    for narrow or mixed-dtype products, it is np.dot to the bit."""
    from cnet import _conv
    rng = np.random.default_rng(11)
    a = rng.standard_normal((50, 70)).astype(dtype)
    b = rng.standard_normal((70, 40)).astype(dtype)
    out = np.empty((50, 40), dtype)
    threads.product_into(a, b, out)
    if threads.OWN_PRODUCT:
        want = np.empty_like(out)
        _conv.gemm(a, b, want)
    else:
        want = np.dot(a, b)
    assert np.array_equal(out, want)
    narrow = np.empty((50, 5), dtype)
    threads.product_into(a, b[:, :5], narrow)
    assert np.array_equal(narrow, np.dot(a, b[:, :5]))
    mixed = np.empty((50, 40))
    threads.product_into(a.astype(np.float32), b.astype(np.float64), mixed)
    assert np.array_equal(mixed, np.dot(a.astype(np.float32), b.astype(np.float64)))


def test_dot_of_an_empty_inner_axis_is_positive_zeros():
    """K = 0: every entry is +0.0, as np.dot gives (an empty in-order sum
    started at -0.0 would give -0.0)."""
    r = threads.dot(np.ones((5, 0)), np.ones((0, 40)))
    assert r.shape == (5, 40) and not np.signbit(r).any() and not r.any()


def test_dot_propagates_nan_and_inf():
    a = np.ones((200, 200))
    b = np.ones((200, 200))
    a[3, 5] = np.nan
    b[7, 9] = np.inf
    np.testing.assert_array_equal(threads.dot(a, b), np.dot(a, b))


def test_run_chunks_runs_every_chunk_once_and_raises_the_first_error(restore_threads):
    for n in (1, 2):
        cnet.set_num_threads(n)
        seen = []
        lock = threading.Lock()

        def work(i, buffers):
            with lock:
                seen.append(i)
        threads.run_chunks(work, 9)
        assert sorted(seen) == list(range(9))

        def bad(i, buffers):
            if i == 4:
                raise ValueError("chunk 4")
        with pytest.raises(ValueError, match="chunk 4"):
            threads.run_chunks(bad, 9)
