"""im2col/col2im, Convolution and Pooling against the book's NumPy code
(cnet.reference), against numerical gradients, and on bad input."""
import itertools

import numpy as np
import pytest

import cnet
from cnet import reference as ref
from cnet.gradient import numerical_gradient
from cnet.layers import Convolution, Pooling
from cnet.util import col2im, im2col

# (N, C, H, W), (FH, FW), stride, pad: sizes 1, odd, even, larger; windows
# that overlap (stride < filter), tile, and skip cells (stride > filter);
# padding wider than the filter.
GEOMETRIES = [
    ((1, 1, 1, 1), (1, 1), 1, 0),
    ((1, 1, 5, 5), (5, 5), 1, 0),
    ((2, 3, 7, 9), (3, 3), 1, 0),
    ((2, 3, 7, 9), (2, 4), 2, 1),
    ((1, 2, 5, 5), (5, 5), 3, 2),
    ((3, 2, 8, 8), (3, 3), 2, 1),
    ((2, 1, 6, 11), (1, 3), 3, 0),
    ((1, 2, 4, 4), (2, 2), 1, 3),
    ((2, 4, 13, 6), (4, 2), 1, 2),
    ((0, 2, 5, 5), (3, 3), 1, 1),
]


def _layouts(x):
    """x as C-ordered, F-ordered, strided, read-only and unaligned arrays."""
    yield x
    yield np.asfortranarray(x)
    big = np.zeros(x.shape[:3] + (2 * x.shape[3],), x.dtype)
    big[..., ::2] = x
    yield big[..., ::2]
    ro = x.copy()
    ro.flags.writeable = False
    yield ro
    raw = np.zeros(x.nbytes + 1, np.uint8)[1:].view(x.dtype).reshape(x.shape)
    raw[...] = x
    yield raw


@pytest.mark.parametrize("shape,filt,stride,pad", GEOMETRIES)
def test_im2col_col2im_equal_the_book(shape, filt, stride, pad):
    """im2col copies and col2im adds in the book's order (ky, then kx, from
    0), so both equal the book's results exactly, for every layout and input
    dtype (the book returns float64 for any input)."""
    rng = np.random.default_rng(1)
    FH, FW = filt
    for dtype in (np.float64, np.float32):
        x = rng.standard_normal(shape).astype(dtype)
        if shape[0] == 0:  # the book's reshape(N*out_h*out_w, -1) fails on N = 0
            assert im2col(x, FH, FW, stride, pad).shape == (0, shape[1] * FH * FW)
            assert col2im(np.zeros((0, shape[1] * FH * FW)), shape, FH, FW, stride,
                          pad).shape == shape
            continue
        want = ref.im2col(x, FH, FW, stride, pad)
        for xv in _layouts(x):
            got = im2col(xv, FH, FW, stride, pad)
            assert got.dtype == np.float64 and got.shape == want.shape
            np.testing.assert_array_equal(got, want)
        c = rng.standard_normal(want.shape).astype(dtype)
        np.testing.assert_array_equal(col2im(c, shape, FH, FW, stride, pad),
                                      ref.col2im(c, shape, FH, FW, stride, pad))


@pytest.mark.parametrize("shape,filt,stride,pad", GEOMETRIES)
def test_col2im_is_the_adjoint_of_im2col(shape, filt, stride, pad):
    """<im2col(x), c> == <x, col2im(c)>: both sides sum the same products
    x_i * c_j, in different orders, so they agree to rounding: 1e-12 relative
    to the sum of |products| covers a few hundred float64 roundings."""
    rng = np.random.default_rng(2)
    FH, FW = filt
    x = rng.standard_normal(shape)
    c = rng.standard_normal(im2col(x, FH, FW, stride, pad).shape)
    lhs = np.sum(im2col(x, FH, FW, stride, pad) * c)
    rhs = np.sum(x * col2im(c, shape, FH, FW, stride, pad))
    scale = np.sum(np.abs(im2col(x, FH, FW, stride, pad) * c)) + 1e-300
    assert abs(lhs - rhs) <= 1e-12 * scale


def _conv_case(rng, shape, filt, stride, pad, FN=4):
    x = rng.standard_normal(shape)
    W = rng.standard_normal((FN, shape[1]) + filt) * 0.3
    b = rng.standard_normal(FN)
    return x, W, b


@pytest.fixture(params=[True, False], ids=["cnet-products", "blas-products"])
def products(request, monkeypatch):
    """The layer's products on cnet's kernel (cnet._conv.gemm, the default
    where it has AVX-512) and on NumPy's BLAS (the default elsewhere): both
    branches run on every machine."""
    import cnet.layers.convolution as conv
    monkeypatch.setattr(conv, "_own_product", request.param)
    return request.param


@pytest.mark.parametrize("shape,filt,stride,pad", GEOMETRIES)
def test_convolution_matches_the_book(shape, filt, stride, pad, products):
    """Forward and backward against the book's layer. The matrix products
    (cnet's kernel or NumPy's BLAS here, NumPy's BLAS in the book's) sum in
    different orders, so outputs, dx and dW agree to 1e-12 relative to the
    sum of |terms| of each entry (K <= 32 terms here, a few float64 roundings
    each); db likewise (NumPy's sum may pair terms)."""
    rng = np.random.default_rng(3)
    x, W, b = _conv_case(rng, shape, filt, stride, pad)
    mine, book = Convolution(W, b, stride, pad), ref.Convolution(W, b, stride, pad)
    if shape[0] == 0:  # the book's im2col fails on N = 0
        assert mine.forward(x).shape[:2] == (0, W.shape[0])
        return
    out, want = mine.forward(x), book.forward(x)
    assert out.shape == want.shape and out.dtype == np.float64
    scale = ref.Convolution(np.abs(W), np.abs(b), stride, pad).forward(np.abs(x))
    assert np.all(np.abs(out - want) <= 1e-12 * scale + 1e-300)
    dout = rng.standard_normal(out.shape)
    dx, dx_want = mine.backward(dout), book.backward(dout)
    np.testing.assert_allclose(dx, dx_want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(mine.dW, book.dW, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(mine.db, book.db, rtol=1e-12, atol=1e-12)
    # the book's attributes
    np.testing.assert_array_equal(mine.col, book.col)
    np.testing.assert_array_equal(mine.col_W, book.col_W)
    assert mine.x is x and mine.W is W and mine.b is b


def test_convolution_float32_and_scalar_bias():
    """float32 W computes in float32 (the documented option): 1e-5 relative
    to the scale of the terms is ~100 float32 roundings. A scalar bias (the
    book's ch07/apply_filter.py passes b = 0) broadcasts as in the book."""
    rng = np.random.default_rng(4)
    x, W, b = _conv_case(rng, (3, 2, 9, 8), (3, 3), 1, 1)
    out32 = Convolution(W.astype(np.float32), b.astype(np.float32), 1, 1).forward(x)
    assert out32.dtype == np.float32
    want = ref.Convolution(W, b, 1, 1).forward(x)
    scale = ref.Convolution(np.abs(W), np.abs(b), 1, 1).forward(np.abs(x))
    assert np.all(np.abs(out32 - want) <= 1e-5 * scale)
    np.testing.assert_allclose(Convolution(W[:1], 0).forward(x[:, :2]),
                               ref.Convolution(W[:1], 0).forward(x[:, :2]), rtol=1e-12)


def test_convolution_spans_several_chunks(monkeypatch):
    """A batch split into many chunks gives the whole-batch results (dW and
    db are summed chunk by chunk, in another order: 1e-12 relative)."""
    import cnet.layers.convolution as conv
    rng = np.random.default_rng(5)
    x, W, b = _conv_case(rng, (7, 3, 10, 10), (3, 3), 1, 1)
    dout = rng.standard_normal((7, 4, 10, 10))
    whole = Convolution(W, b, 1, 1)
    out = whole.forward(x)
    dx = whole.backward(dout)
    monkeypatch.setattr(conv, "CHUNK_BYTES", 1)  # one image per chunk
    split = Convolution(W, b, 1, 1)
    np.testing.assert_array_equal(split.forward(x), out)
    np.testing.assert_array_equal(split.backward(dout), dx)
    np.testing.assert_allclose(split.dW, whole.dW, rtol=1e-12)
    np.testing.assert_allclose(split.db, whole.db, rtol=1e-12)


@pytest.mark.parametrize("stride,pad", [(1, 0), (2, 1)])
def test_convolution_backward_matches_numerical_gradient(stride, pad):
    """Central differences (h = 1e-4) of L = sum(out * r) are exact for a
    function linear in W, b and x up to cancellation: ~1e-16 * |L| / 1e-4,
    well inside 1e-6."""
    rng = np.random.default_rng(6)
    x, W, b = _conv_case(rng, (2, 2, 6, 5), (3, 3), stride, pad, FN=3)
    layer = Convolution(W, b, stride, pad)
    r = rng.standard_normal(layer.forward(x).shape)
    loss = lambda _: np.sum(layer.forward(x) * r)  # noqa: E731
    layer.forward(x)
    dx = layer.backward(r)
    dW, db = layer.dW.copy(), layer.db.copy()
    np.testing.assert_allclose(dW, numerical_gradient(loss, W), atol=1e-6)
    np.testing.assert_allclose(db, numerical_gradient(loss, b), atol=1e-6)
    np.testing.assert_allclose(dx, numerical_gradient(loss, x), atol=1e-6)


@pytest.mark.parametrize("shape,filt,stride,pad", GEOMETRIES)
def test_pooling_matches_the_book(shape, filt, stride, pad):
    """Max, argmax and the backward scatter are exact operations done in the
    book's order (overlapping windows sum in col2im's order): equal exactly.
    float32 input stays float32 (the book's float64 holds the same values);
    its backward sums overlapping windows in float32, where the book sums in
    float64: up to 9 terms here, 1e-6 relative."""
    rng = np.random.default_rng(7)
    FH, FW = filt
    for dtype in (np.float64, np.float32):
        if shape[0] == 0:  # the book's im2col fails on N = 0
            continue
        x = rng.standard_normal(shape).astype(dtype)
        x.flat[::7] = 0.0  # ties with the padding's zeros
        book = ref.Pooling(FH, FW, stride, pad)
        want = book.forward(x)
        for xv in _layouts(x):
            mine = Pooling(FH, FW, stride, pad)
            out = mine.forward(xv)
            assert out.dtype == dtype
            np.testing.assert_array_equal(out, want)
            np.testing.assert_array_equal(mine.arg_max, book.arg_max)
        dout = rng.standard_normal(want.shape).astype(dtype)
        np.testing.assert_allclose(mine.backward(dout), book.backward(dout),
                                   rtol=0 if dtype == np.float64 else 1e-6,
                                   atol=0 if dtype == np.float64 else 1e-6)


def test_pooling_nan_and_inf_as_the_book():
    """np.argmax/np.max pick the first NaN of a window; inf is a number."""
    x = np.array([[[[1.0, np.nan, np.inf, 2.0], [np.nan, 3.0, -np.inf, -1.0]]]])
    mine, book = Pooling(2, 2), ref.Pooling(2, 2)
    np.testing.assert_array_equal(mine.forward(x), book.forward(x))
    np.testing.assert_array_equal(mine.arg_max, book.arg_max)


@pytest.mark.parametrize("shape", [(1, 1, 2, 2), (2, 3, 7, 9), (3, 2, 8, 40), (1, 2, 9, 35)])
def test_the_books_pooling_on_ties_nan_and_signed_zeros(shape):
    """2x2 windows at stride 2 (the book's networks' pooling, which has its
    own kernel): values from a few numbers, so that windows tie, with
    -0.0, NaN (two in some windows) and inf; odd sizes leave a last row or
    column out; rows of up to 20 windows. Max, argmax and the scatter are
    exact: equal to the book's, for every layout and both dtypes."""
    rng = np.random.default_rng(12)
    for dtype in (np.float64, np.float32):
        x = rng.choice([-1.0, -0.0, 0.0, 0.5, 2.0], size=shape).astype(dtype)
        x.flat[::11] = np.nan
        x.flat[1::11] = np.nan
        x.flat[5::13] = np.inf
        book = ref.Pooling(2, 2, 2, 0)
        want = book.forward(x)
        dout = rng.choice([-1.5, -0.0, 0.0, 3.0], size=want.shape).astype(dtype)
        for xv in _layouts(x):
            mine = Pooling(2, 2, 2, 0)
            np.testing.assert_array_equal(mine.forward(xv), want)
            np.testing.assert_array_equal(mine.arg_max, book.arg_max)
            np.testing.assert_array_equal(mine.backward(dout), book.backward(dout))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("OH,OW", [(8, 40), (9, 7), (2, 2)])
def test_fused_pooling_kernels_give_the_books_bits(dtype, OH, OW):
    """The fused bias + ReLU + 2x2 pooling kernels on a product's rows,
    against the book's Relu and Pooling: the same values, argmax and
    gradient rows bit for bit, signs of zeros included (the book's col2im
    adds a -0.0 gradient to a zero: +0.0)."""
    from cnet import _pooling
    rng = np.random.default_rng(14)
    nb, FN = 3, 2
    outT = rng.choice([-1.0, -0.0, 0.0, 0.5, 2.0], size=(FN, nb * OH * OW)).astype(dtype)
    outT[0, ::9] = np.nan
    b = np.array([0.0, -0.5], dtype)
    PH, PW = OH // 2, OW // 2
    out = np.empty((nb, FN, PH * PW), dtype)
    argmax = np.empty((nb, FN, PH * PW), np.int32)
    _pooling.conv_rows_forward(outT, b, OH, OW, 2, 2, 2, out, argmax, 1)
    a = outT.reshape(FN, nb, OH, OW).transpose(1, 0, 2, 3) + b[:, None, None]
    relu, pool = ref.Relu(), ref.Pooling(2, 2, 2)
    want = pool.forward(relu.forward(a.copy()))
    np.testing.assert_array_equal(out.reshape(want.shape), want)
    dout = rng.choice([-1.5, -0.0, 0.0, 3.0], size=want.shape).astype(dtype)
    doutT = np.empty_like(outT)
    _pooling.conv_rows_backward(dout.reshape(out.shape), argmax, out, OH, OW, 2, 2, 2, doutT,
                                np.empty((FN, PH * PW), dtype), 1)
    wantT = relu.backward(pool.backward(dout)).transpose(1, 0, 2, 3).reshape(FN, -1)
    np.testing.assert_array_equal(doutT, wantT)
    assert np.array_equal(np.signbit(doutT), np.signbit(wantT))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_row_sums_add_in_order(restore_threads, dtype):
    """cnet._conv.row_sums (a convolution's db) adds each row left to right
    from db's value, as the book's np.sum over the gradient's rows: equal,
    bit for bit, to a running sum (np.cumsum is one), for row counts that
    fill groups of eight and that do not, -0.0 and NaN among the entries,
    1 and 2 threads."""
    from cnet import _conv
    rng = np.random.default_rng(13)
    for FN, M in ((1, 5), (5, 17), (8, 100), (13, 33), (30, 1000), (4, 0)):
        rows = rng.standard_normal((FN, M)).astype(dtype)
        rows[:, ::4] = -0.0
        if FN > 2 and M > 2:
            rows[2, 1] = np.nan
        start = rng.standard_normal(FN).astype(dtype)
        start[0] = -0.0
        want = np.array([np.cumsum(np.concatenate(([start[f]], rows[f])), dtype=dtype)[-1]
                         for f in range(FN)], dtype=dtype)
        for threads in (1, 2):
            db = start.copy()
            _conv.row_sums(rows, db, threads)
            np.testing.assert_array_equal(db, want)
            assert np.array_equal(np.signbit(db), np.signbit(want))


def test_pooling_backward_matches_numerical_gradient():
    """With distinct values the max is locally linear: central differences
    are exact to ~1e-12; atol 1e-6."""
    rng = np.random.default_rng(8)
    x = rng.permutation(2 * 3 * 7 * 6).reshape(2, 3, 7, 6) / 10.0
    layer = Pooling(3, 2, stride=2, pad=1)
    r = rng.standard_normal(layer.forward(x).shape)
    loss = lambda _: np.sum(layer.forward(x) * r)  # noqa: E731
    layer.forward(x)
    np.testing.assert_allclose(layer.backward(r), numerical_gradient(loss, x), atol=1e-6)


def test_same_bits_for_one_and_two_threads(restore_threads, monkeypatch, products):
    """cnet's own kernels give the same bits for any thread count. The
    convolution's chunks (several here) run on one thread or spread over two;
    each chunk's product runs on the thread that took the chunk (cnet's
    kernel, or BLAS held to one thread) either way, and the partial sums of
    dW and db are added in chunk order, so the bits are the same too (and the
    same run to run: each case runs twice)."""
    import cnet.layers.convolution as conv
    monkeypatch.setattr(conv, "CHUNK_BYTES", 1 << 14)
    rng = np.random.default_rng(9)
    x, W, b = _conv_case(rng, (4, 3, 24, 24), (3, 3), 1, 1, FN=8)
    dout = rng.standard_normal((4, 8, 24, 24))
    results = []
    for threads in (1, 2, 1, 2):
        cnet.set_num_threads(threads)
        conv, pool = Convolution(W, b, 1, 1), Pooling(2, 2)
        out = conv.forward(x)
        dx = conv.backward(dout)
        p = pool.forward(out)
        results.append([im2col(x, 3, 3, 1, 1), col2im(dout, (4, 8, 24, 24), 1, 1), out, dx,
                        conv.dW, conv.db, p, pool.backward(p)])
    for other in results[1:]:
        for a, b_ in zip(results[0], other):
            np.testing.assert_array_equal(a, b_)


@pytest.mark.parametrize("make,message", [
    (lambda: Convolution(np.ones((2, 3, 3, 3)), np.zeros(2)).forward(np.ones((1, 2, 5, 5))),
     "channels"),
    (lambda: Convolution(np.ones((2, 1, 7, 7)), np.zeros(2), pad=1).forward(
        np.ones((1, 1, 4, 4))), "larger than the padded input"),
    (lambda: Convolution(np.ones((2, 1, 3, 3)), np.zeros(2), stride=0), "stride"),
    (lambda: Convolution(np.ones((2, 1, 3, 3)), np.zeros(2), pad=-1), "pad"),
    (lambda: Convolution(np.ones((2, 1, 3, 3)), np.zeros(3)).forward(np.ones((1, 1, 5, 5))),
     "b must"),
    (lambda: Convolution(np.ones((2, 1, 3, 3)), np.zeros(2)).forward(np.ones((5, 5))),
     "4 dimensions"),
    (lambda: Pooling(2, 2, stride=0), "stride"),
    (lambda: Pooling(3, 3).forward(np.ones((1, 1, 2, 2))), "larger than the padded input"),
    (lambda: im2col(np.ones((1, 1, 3, 3)), 4, 4), "larger than the padded input"),
    (lambda: im2col(np.ones((1, 1, 3, 3)), 2, 2, stride=0), "stride"),
    (lambda: col2im(np.ones((3, 4)), (1, 1, 3, 3), 2, 2), "col has 12 elements"),
])
def test_bad_input_gives_one_clear_error(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_backward_before_forward_and_wrong_dout():
    with pytest.raises(RuntimeError, match="before forward"):
        Convolution(np.ones((2, 1, 3, 3)), np.zeros(2)).backward(np.ones((1, 2, 3, 3)))
    layer = Convolution(np.ones((2, 1, 3, 3)), np.zeros(2))
    layer.forward(np.ones((1, 1, 5, 5)))
    with pytest.raises(ValueError, match="dout must have shape"):
        layer.backward(np.ones((1, 2, 2, 2)))


def test_float16_and_integer_inputs_compute_in_float64_as_the_book():
    """The book's im2col copies any input into float64 (ch08/half_float_network.py
    feeds float16 images): Convolution and Pooling do the same, so outputs
    are float64 and equal the book's to BLAS rounding (convolution) or
    exactly (pooling)."""
    rng = np.random.default_rng(10)
    x16 = rng.standard_normal((3, 2, 7, 7)).astype(np.float16)
    xi = rng.integers(-5, 5, (3, 2, 7, 7))
    W = rng.standard_normal((4, 2, 3, 3))
    b = rng.standard_normal(4)
    for x in (x16, xi):
        out = Convolution(W, b, 1, 1).forward(x)
        assert out.dtype == np.float64
        np.testing.assert_allclose(out, ref.Convolution(W, b, 1, 1).forward(x), rtol=1e-12,
                                   atol=1e-12)
        pooled = Pooling(2, 2).forward(x)
        assert pooled.dtype == np.float64
        np.testing.assert_array_equal(pooled, ref.Pooling(2, 2).forward(x))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape,filt,pad,pool", [
    ((5, 2, 12, 12), (3, 3), 0, (2, 2, 2)),     # tiles
    ((3, 1, 11, 10), (2, 3), 1, (3, 3, 2)),     # overlapping windows, a ragged edge
    ((2, 3, 7, 7), (3, 3), 1, (2, 2, 1)),       # stride 1
    ((2, 2, 9, 8), (3, 3), 0, (1, 2, 3)),       # skipped cells
    ((2, 2, 14, 44), (3, 3), 0, (2, 2, 2)),     # the book's pooling, rows of 21 windows
    ((2, 1, 9, 10), (2, 2), 0, (2, 2, 2)),      # the book's pooling, odd width
    ((2, 1, 10, 9), (2, 2), 0, (2, 2, 2)),      # the book's pooling, odd height
])
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # inf - inf in dW, as the book
def test_fused_relu_and_pooling_change_no_bit(restore_threads, monkeypatch, dtype, shape,
                                              filt, pad, pool, products):
    """A network's Convolution -> Relu -> Pooling runs as one pass
    (cnet.layer_sequence); its output, dx, dW and db equal those of the three
    layers run one by one, bit for bit, for 1 and 2 threads and several
    chunks, with NaN, inf and exact zeros among the inputs and gradients."""
    import cnet.layers.convolution as conv
    from cnet import layer_sequence
    from cnet.layers import Relu
    monkeypatch.setattr(conv, "CHUNK_BYTES", 1 << 11)
    rng = np.random.default_rng(11)
    x, W, b = _conv_case(rng, shape, filt, 1, pad, FN=4)
    x, W, b = x.astype(dtype), W.astype(dtype), b.astype(dtype)
    x[0, 0, :3, :3] = 0.0            # all-zero windows: ties at 0
    x[-1, -1, 2, 2] = np.nan
    x[-1, 0, 1, 1] = np.inf
    ph, pw, ps = pool
    results = []
    for threads in (1, 2):
        cnet.set_num_threads(threads)
        layers = [Convolution(W, b, 1, pad), Relu(), Pooling(ph, pw, ps)]
        out = layer_sequence.forward(layers, x)
        assert layers[0]._pool is not None
        dout = rng.standard_normal(out.shape).astype(dtype) if threads == 1 else dout
        if threads == 1:
            dout.flat[3::5] = -0.0
            dout[0, 0, 0, 0] = np.nan
            dout[-1, 1, 0, 0] = -0.0
        dx = layer_sequence.backward(layers, dout.copy(), need_dx=True)
        results.append((out, dx, layers[0].dW, layers[0].db))
        plain = [Convolution(W, b, 1, pad), Relu(), Pooling(ph, pw, ps)]
        o = x
        for layer in plain:
            o = layer.forward(o)
        d = dout.copy()
        for layer in plain[::-1]:
            d = layer.backward(d)
        results.append((o, d, plain[0].dW, plain[0].db))
    for other in results[1:]:
        for a, b_ in zip(results[0], other):
            assert a.dtype == dtype
            np.testing.assert_array_equal(a, b_)
            assert np.array_equal(np.signbit(a), np.signbit(b_))


@pytest.mark.parametrize("N,K,P", [(100, 25, 576), (100, 9, 784), (100, 576, 64), (5, 25, 576),
                                   (1, 25, 576), (7, 1, 1), (13, 4096, 256), (0, 25, 576)])
def test_chunks_are_even_and_fit(N, K, P):
    """The images are shared out over a multiple of CHUNK_GROUP chunks (or N
    chunks of one image) whose sizes differ by one at most, none above the
    cache-sized limit, covering 0..N in order."""
    import cnet.layers.convolution as conv
    starts = conv._chunk_starts(N, K, P, 8)
    sizes = np.diff(starts)
    assert starts[0] == 0 and starts[-1] == N
    if N == 0:
        assert starts == [0]
        return
    assert sizes.min() >= 1
    assert sizes.max() - sizes.min() <= 1
    assert sizes.max() <= conv._chunk_images(N, K, P, 8)
    assert len(sizes) == 1 or len(sizes) == N or len(sizes) % conv.CHUNK_GROUP == 0


def _gemm_twin(A, B):
    """C = A·B summed over k in order from -0.0, each product rounded before
    it is added: the chain every path of cnet._conv.gemm computes."""
    C = np.full((A.shape[0], B.shape[1]), -0.0, dtype=A.dtype)
    with np.errstate(all="ignore"):
        for k in range(A.shape[1]):
            C += A[:, k:k + 1] * B[k]
    return C


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("M,K,N", [(1, 1, 1), (3, 5, 7), (8, 25, 16), (30, 25, 576),
                                   (7, 3, 33), (17, 40, 100), (9, 0, 20), (64, 9, 37),
                                   (13, 2, 15), (2, 1, 64), (5, 7, 20), (6, 9, 8)])
def test_gemm_paths_give_the_twin_bits(dtype, M, K, N):
    """Every SIMD path of the convolution's product (those this build and CPU
    have) gives exactly the bits of the plain chain of rounded products added
    in order of k, signs of zeros, inf and NaN included: the paths differ in
    speed only. Shapes cover partial register tiles in rows and columns and
    fewer columns than a tile (a narrower path, or the plain loops, then run:
    32 columns are enough for every path)."""
    from cnet import _conv
    rng = np.random.default_rng(12)
    A = rng.standard_normal((M, K)).astype(dtype)
    B = rng.standard_normal((K, N)).astype(dtype)
    if K > 1 and N > 2:
        A[0, 0], B[1, 2], B[0, 1] = np.inf, np.nan, 0.0
        A[-1, :] = -0.0
    expected = _gemm_twin(A, B)
    best = _conv.gemm_best()
    for path in sorted(_conv.GEMM_PATHS.values()):
        C = np.full((M, N), 7.0, dtype=dtype)
        ran = _conv.gemm(A, B, C, path)
        assert ran <= min(path, best) and (N < 32 or ran == min(path, best))
        np.testing.assert_array_equal(C, expected)
        assert np.array_equal(np.signbit(C), np.signbit(expected))


def test_gemm_checks_shapes_and_layout():
    """Shapes that do not chain are refused with the shapes in the message;
    a view that is not C-contiguous is refused (the layer passes its own
    contiguous buffers)."""
    from cnet import _conv
    rng = np.random.default_rng(13)
    A, B, C = rng.standard_normal((9, 27)), rng.standard_normal((27, 33)), np.empty((9, 33))
    with pytest.raises(ValueError, match=r"\(9, 27\)"):
        _conv.gemm(A, B[:5], C[:, :])
    with pytest.raises(ValueError, match="contiguous"):
        _conv.gemm(A, B[:, :20], C[:, :20])
