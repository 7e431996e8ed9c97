"""cnet.functions against cnet.reference (the book's formulas in NumPy).

Tolerances, relative to the reference value (plus a floor of the dtype's
smallest normal number, for results in the subnormal range):

* float64 1e-12: both sides evaluate the same formula with exp and log
  accurate to about 1 ulp (2.2e-16); a softmax row sum adds up to C roundings.
  1e-12 leaves room for long rows while still catching any wrong formula.
* float32 2e-6 (about 16 ulp of 1.2e-7): NumPy's float32 exp/log are its own
  SIMD versions (up to a few ulp), cnet's float32 exp is evaluated in double.
  Sums of long float32 rows are pairwise in NumPy, in 8 lanes in cnet.
* float16 2 ulp: cnet's float16 paths repeat the book's arithmetic with every
  step rounded to half as NumPy does; only the order of a float sum and a rare
  double rounding (float -> half) can differ, by at most one half ulp each.
* relu, relu_grad and the labels are exact.
"""
import warnings

import numpy as np
import pytest

import cnet
from cnet import functions as F
from cnet import reference as R
from cnet import _functions as K

FLOATS = [np.float64, np.float32, np.float16]
INTS = [np.int8, np.uint8, np.int16, np.int32, np.int64, np.uint64]
ALL_DTYPES = FLOATS + INTS + [np.bool_]
RTOL = {np.dtype(np.float64): 1e-12, np.dtype(np.float32): 2e-6}


def _reference(func, *args):
    with np.errstate(all="ignore"):
        return func(*args)


def assert_same_kind(got, ref):
    """Same Python/NumPy type, dtype, shape and memory order as the reference."""
    if isinstance(ref, np.ndarray):
        assert isinstance(got, np.ndarray), "got %r, expected an ndarray" % type(got)
        assert got.shape == ref.shape
        if ref.size > 1:
            # the memory order a ufunc gives (F in, F out; permuted in, permuted
            # out); the stride of a length-1 axis means nothing
            long = [n > 1 for n in ref.shape]
            assert np.array(got.strides)[long].tolist() == np.array(ref.strides)[long].tolist()
    else:
        assert type(got) is type(ref), "got %r, expected %r" % (type(got), type(ref))
    assert got.dtype == ref.dtype


def assert_close(got, ref):
    """Values equal to rounding, by the module's tolerances; NaN where NaN."""
    assert_same_kind(got, ref)
    g = np.asarray(got)
    r = np.asarray(ref)
    if g.dtype.kind != "f":
        np.testing.assert_array_equal(g, r)
        return
    np.testing.assert_array_equal(np.isnan(g), np.isnan(r))
    ok = ~np.isnan(r)
    g64, r64 = g[ok].astype(np.float64), r[ok].astype(np.float64)
    inf = np.isinf(r64)
    np.testing.assert_array_equal(g64[inf], r64[inf])
    g64, r64 = g64[~inf], r64[~inf]
    if g.dtype == np.float16:
        with np.errstate(over="ignore"):  # the spacing of 65504 is inf in half
            tol = 2 * np.spacing(np.abs(r[ok][~inf]).astype(np.float64).astype(
                np.float16)).astype(np.float64)
        tol[np.isinf(tol)] = 64.0
    else:
        tol = RTOL[g.dtype] * np.abs(r64) + np.finfo(g.dtype).smallest_normal
    err = np.abs(g64 - r64)
    assert np.all(err <= tol), "max excess %g at %s: got %r, want %r" % (
        np.max(err - tol), np.argmax(err - tol), g64[np.argmax(err - tol)],
        r64[np.argmax(err - tol)])


def _values(shape, dtype, rng, scale=8.0):
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return rng.random(shape) < 0.5
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        lo = max(info.min, -100)
        return rng.integers(lo, min(info.max, 100), size=shape, endpoint=True).astype(dtype)
    return (rng.standard_normal(shape) * scale).astype(dtype)


def _layouts(shape, dtype, seed=0):
    """(id, array) of one dtype in every layout the public functions must take."""
    rng = np.random.default_rng(seed)
    base = _values(shape, dtype, rng)
    out = [("C", base), ("F", np.asfortranarray(base))]
    big = _values(tuple(2 * n + 1 for n in shape), dtype, rng)
    out.append(("strided", big[tuple(slice(1, None, 2) for _ in shape)]))
    if len(shape) >= 2:
        out.append(("transposed", base.T))
        out.append(("reversed", base[::-1, ..., ::-1]))
    if len(shape) >= 3:
        # Slicing a middle axis of a permuted array leaves no single row stride.
        out.append(("tangled", big.transpose(1, 0, *range(2, len(shape)))[::2, ::2]))
    ro = base.copy()
    ro.flags.writeable = False
    out.append(("readonly", ro))
    return out


SHAPES = [(1,), (7,), (5, 9), (3, 4, 5), (2, 1, 3, 6)]
ELEMENTWISE = ["sigmoid", "sigmoid_grad", "relu", "relu_grad"]


def _cases():
    for shape in SHAPES:
        for dtype in ALL_DTYPES:
            for layout, x in _layouts(shape, dtype):
                yield pytest.param(x, id="%s-%s-%s" % (np.dtype(dtype).name,
                                                       "x".join(map(str, shape)), layout))


@pytest.mark.parametrize("name", ELEMENTWISE + ["softmax"])
@pytest.mark.parametrize("x", list(_cases()))
def test_array_inputs_match_reference(name, x):
    before = x.copy()
    got = getattr(F, name)(x)
    ref = _reference(getattr(R, name), x)
    assert_close(got, ref)
    np.testing.assert_array_equal(x, before)  # inputs are never written


SCALARS = [1.5, -2.25, 0.0, 3, -4, True, False, np.float32(-1.5), np.float64(2.5),
           np.float16(0.5), np.int8(-3), np.uint8(200), np.array(0.75),
           np.array(-1, dtype=np.int32), np.array(7.0, dtype=np.float32)]


@pytest.mark.parametrize("name", ELEMENTWISE + ["softmax"])
@pytest.mark.parametrize("x", SCALARS, ids=repr)
def test_scalar_inputs_match_reference(name, x):
    got = getattr(F, name)(x)
    ref = _reference(getattr(R, name), x)
    assert_close(got, ref)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", ELEMENTWISE + ["softmax"])
def test_special_values(name, dtype):
    fi = np.finfo(dtype)
    x = np.array([0.0, -0.0, 1.0, -1.0, 11.0, -11.0, 12.0, -12.0, 88.0, -88.0, 89.0, -89.0,
                  700.0, -700.0, 709.5, -709.5, 710.0, -710.0, 745.5, -745.5, 1e300,
                  -1e300, float(fi.max), -float(fi.max), float(fi.tiny), np.inf, -np.inf,
                  np.nan], dtype=np.float64)
    with np.errstate(over="ignore"):
        x = x.astype(dtype)
    for row in (x, x[np.isfinite(x)], x[:-1]):
        assert_close(getattr(F, name)(row), _reference(getattr(R, name), row))
    if name != "softmax":
        assert_close(getattr(F, name)(x.reshape(4, 7)),
                     _reference(getattr(R, name), x.reshape(4, 7)))


@pytest.mark.parametrize("dtype", FLOATS)
def test_sigmoid_never_warns_and_gives_the_limits(dtype):
    x = np.array([-1e308, -1e30, -1000.0, -745.2, -709.8, -100.0, -89.0, -12.0, 12.0,
                  100.0, 709.8, 1000.0, 1e308, np.inf, -np.inf, np.nan])
    with np.errstate(over="ignore"):
        x = x.astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = F.sigmoid(x)
        g = F.sigmoid_grad(x)
        F.sigmoid(x[0])
        F.softmax(x[:-3])
    assert s.dtype == dtype
    assert s[0] == 0 and s[2] == 0 and s[-2] == 0
    assert s[-3] == 1 and s[11] == 1 and s[12] == 1
    assert np.isnan(s[-1]) and np.isnan(g[-1])
    assert g[0] == 0 and g[-3] == 0


def test_softmax_rows_are_distributions_and_stable():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((50, 10)) * 300  # exp would overflow without the shift
    y = F.softmax(x)
    assert np.all(np.isfinite(y))
    np.testing.assert_allclose(y.sum(axis=-1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(F.softmax(x + 1000.0), y, rtol=1e-9, atol=1e-300)


@pytest.mark.parametrize("shape", [(0,), (0, 4), (3, 0, 2)])
def test_empty_inputs(shape):
    for name in ELEMENTWISE:
        x = np.zeros(shape)
        assert_close(getattr(F, name)(x), _reference(getattr(R, name), x))
    if shape[-1]:
        assert F.softmax(np.zeros(shape)).shape == shape


def test_softmax_of_an_empty_row_is_refused():
    with pytest.raises(ValueError, match="last axis"):
        F.softmax(np.zeros((3, 0)))


@pytest.mark.parametrize("x", [np.array([1 + 2j]), np.array(["a"]), np.array([None]),
                               np.zeros(3, dtype=np.longdouble)
                               if np.dtype(np.longdouble).itemsize > 8 else
                               np.zeros(3, dtype=np.complex64)],
                         ids=["complex", "str", "object", "longdouble"])
@pytest.mark.parametrize("name", ELEMENTWISE + ["softmax"])
def test_non_real_inputs_are_refused(name, x):
    with pytest.raises(TypeError, match="%s: x must be real" % name):
        getattr(F, name)(x)


def test_byteswapped_input():
    x = np.linspace(-5, 5, 11).astype(">f8")
    for name in ELEMENTWISE + ["softmax"]:
        assert_close(getattr(F, name)(x), _reference(getattr(R, name), x.astype("<f8")))


def test_identity_and_step():
    x = np.array([[-1.0, 0.0, 2.5]], order="F")
    assert F.identity_function(x) is x
    for v in (x, x.T, 3.0, -1, np.array([True, False]), np.arange(0, 3, dtype=np.uint8)):
        got, ref = F.step_function(v), R.step_function(v)
        assert_same_kind(got, ref)
        np.testing.assert_array_equal(got, ref)
    assert F.step_function(x).dtype == np.int_


def test_relu_keeps_nan_and_negative_zero():
    x = np.array([-0.0, np.nan, -np.inf, np.inf, -1.0, 2.0])
    y = F.relu(x)
    np.testing.assert_array_equal(y, np.maximum(0, x))
    assert np.signbit(y[0])
    np.testing.assert_array_equal(F.relu_grad(x), [1, 0, 0, 1, 0, 1])


# --- exp and the half conversions under the kernels ------------------------------

def _ulp_distance_f64(a, b):
    """Units in the last place between same-signed finite doubles."""
    return np.abs(a.view(np.int64) - b.view(np.int64))


def test_exp_f64_within_one_ulp():
    rng = np.random.default_rng(2)
    x = np.concatenate([rng.uniform(-745.1, 709.7, 200_000), rng.uniform(-1, 1, 50_000),
                        np.linspace(-708.5, -745.0, 5000), [0.0, -0.0, 1e-300, -1e-300]])
    got = np.empty_like(x)
    K.exp(x, got)
    if np.finfo(np.longdouble).nmant >= 63:
        # exp in extended precision, rounded once: the correctly rounded value
        # but for rare ties.
        exact = np.exp(x.astype(np.longdouble)).astype(np.float64)
    else:
        exact = np.exp(x)  # itself within 1 ulp: allow 2 between the two
    limit = 1 if np.finfo(np.longdouble).nmant >= 63 else 2
    assert np.max(_ulp_distance_f64(got, exact)) <= limit
    specials = np.array([np.inf, -np.inf, np.nan, 710.0, 1e308, -746.0, -1e308])
    out = np.empty_like(specials)
    K.exp(specials, out)
    np.testing.assert_array_equal(out, [np.inf, 0.0, np.nan, np.inf, np.inf, 0.0, 0.0])


def test_exp_f32_within_one_ulp():
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.uniform(-103.9, 88.7, 200_000),
                        rng.uniform(-1, 1, 50_000)]).astype(np.float32)
    got = np.empty_like(x)
    K.exp(x, got)
    exact = np.exp(x.astype(np.float64)).astype(np.float32)
    d = np.abs(got.view(np.int32).astype(np.int64) - exact.view(np.int32).astype(np.int64))
    assert d.max() <= 1
    specials = np.array([np.inf, -np.inf, np.nan, 89.0, 1e30, -104.0, -1e30], np.float32)
    out = np.empty_like(specials)
    K.exp(specials, out)
    np.testing.assert_array_equal(out, [np.inf, 0.0, np.nan, np.inf, np.inf, 0.0, 0.0])


def test_half_conversions_match_numpy():
    bits = np.arange(65536, dtype=np.uint16)
    floats = np.empty(65536, np.float32)
    back = np.empty(65536, np.uint16)
    K.half_roundtrip(bits, floats, back)
    want = bits.view(np.float16).astype(np.float32)
    same = (floats.view(np.uint32) == want.view(np.uint32)) | (np.isnan(floats) & np.isnan(want))
    assert same.all()
    nan = np.isnan(want)
    np.testing.assert_array_equal(back[~nan], bits[~nan])  # every half round-trips
    assert np.isnan(back.view(np.float16)[nan]).all()
    # float -> half rounding: random bit patterns, and the halfway cases.
    rng = np.random.default_rng(4)
    fb = rng.integers(0, 2**32, 300_000, dtype=np.uint64).astype(np.uint32)
    halves = bits[~nan].view(np.float16).astype(np.float32)
    nxt = np.nextafter(halves, np.float32(np.inf))
    with np.errstate(over="ignore", invalid="ignore"):
        step = np.spacing(bits[~nan].view(np.float16)).astype(np.float64)
    step[~np.isfinite(step)] = 32.0  # the half step above 65504 (to inf)
    mid = (halves.astype(np.float64) + step / 2).astype(np.float32)
    f = np.concatenate([fb.view(np.float32), halves, nxt, mid, -mid,
                        np.nextafter(mid, np.float32(0)), np.nextafter(mid, np.float32(9e9))])
    out = np.empty(f.size, np.uint16)
    K.half_roundtrip(np.empty(0, np.uint16), f, out)
    with np.errstate(over="ignore"):
        want = f.astype(np.float16)
    ok = np.isnan(f)
    np.testing.assert_array_equal(out[~ok], want[~ok].view(np.uint16))
    assert np.isnan(out[ok].view(np.float16)).all()


# --- losses ----------------------------------------------------------------------

def _probs(N, C, dtype, rng):
    return R.softmax(rng.standard_normal((N, C))).astype(dtype)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("N,C", [(1, 1), (1, 10), (7, 3), (100, 10), (33, 1)])
@pytest.mark.parametrize("labels", ["onehot_f64", "onehot_f32", "onehot_u8", "onehot_bool",
                                    "index_i64", "index_u8", "index_i32", "index_neg"])
def test_cross_entropy_error_matches_reference(dtype, N, C, labels, restore_threads):
    rng = np.random.default_rng(N * 100 + C)
    y = _probs(N, C, dtype, rng)
    k = rng.integers(0, C, N)
    if labels.startswith("onehot"):
        t = np.eye(C)[k].astype({"f64": np.float64, "f32": np.float32, "u8": np.uint8,
                                 "bool": np.bool_}[labels.split("_")[1]])
    elif labels == "index_neg":
        t = k - C
    else:
        t = k.astype({"i64": np.int64, "u8": np.uint8, "i32": np.int32}[labels.split("_")[1]])
    # With one class, (N,) index labels have y's size, and the book's code
    # takes them for one-hot and fails; cnet reads them as the indices they
    # are, which the one-hot reference checks.
    t_ref = np.eye(C)[t] if C == 1 and t.ndim == 1 else t
    assert_close(F.cross_entropy_error(y, t), _reference(R.cross_entropy_error, y, t_ref))
    for layout, yy in (("F", np.asfortranarray(y)), ("strided", np.repeat(y, 2, axis=1)[:, ::2])):
        assert_close(F.cross_entropy_error(yy, t), _reference(R.cross_entropy_error, y, t_ref))
    if labels.startswith("onehot"):
        tt = np.asfortranarray(t)
        assert_close(F.cross_entropy_error(y, tt), _reference(R.cross_entropy_error, y, t))
    # softmax_loss is cross_entropy_error(softmax(X), t) in one pass: same bits.
    X = (rng.standard_normal((N, C)) * 3).astype(dtype)
    fused = F.softmax_loss(X, t)
    assert_close(fused, _reference(R.softmax_loss, X, t_ref))
    two_pass = F.cross_entropy_error(F.softmax(X), t)
    assert fused.tobytes() == two_pass.tobytes()


def test_cross_entropy_error_one_sample():
    y = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
    t_onehot = np.array([0, 0, 1, 0, 0, 0, 0, 0, 0, 0])
    for t in (t_onehot, 2, np.array(2), np.array([2]), np.int8(-8)):
        assert_close(F.cross_entropy_error(y, t), _reference(R.cross_entropy_error, y, t))
        assert_close(F.softmax_loss(y, t), _reference(R.softmax_loss, y, t))
    # the book's worked example: 0.510825457099338 = -log(0.6 + 1e-7)
    assert F.cross_entropy_error(y, t_onehot) == pytest.approx(0.510825457099338, rel=1e-12)
    # a 0 probability hits the + 1e-7: -log(1e-7)
    assert F.cross_entropy_error(y, 3) == pytest.approx(-np.log(1e-7), rel=1e-12)


def test_cross_entropy_one_row_batch_with_a_scalar_index():
    y = _probs(1, 5, np.float64, np.random.default_rng(9))
    for t in (3, np.array(3), np.array([3])):
        assert_close(F.cross_entropy_error(y, t), _reference(R.cross_entropy_error, y, t))
        assert_close(F.softmax_loss(y, t), _reference(R.softmax_loss, y, t))


@pytest.mark.parametrize("dtype", [np.int64, np.uint8, np.bool_, np.int8])
def test_cross_entropy_of_integer_y(dtype):
    y = np.eye(4, dtype=dtype)[[0, 2, 3]]
    t = np.array([0, 1, 3])
    for func in ("cross_entropy_error", "softmax_loss"):
        assert_close(getattr(F, func)(y, t), _reference(getattr(R, func), y, t))


def test_cross_entropy_layouts_of_y_and_t():
    rng = np.random.default_rng(11)
    y = _probs(20, 6, np.float64, rng)
    k = rng.integers(0, 6, 40)
    y_ro = y.copy()
    y_ro.flags.writeable = False
    t_ro = k[::2].copy()
    t_ro.flags.writeable = False
    cases = [(y_ro, t_ro), (y, k[::2]), (y, k[::-2]), (y, k[::2].astype(">i4")),
             (y[::-1, ::-1], np.eye(6)[k[:20]][::-1, ::-1]),
             (np.asfortranarray(y), np.eye(6, dtype=np.float16)[k[:20]]),
             (y[3, ::-1], np.eye(6)[k[0]]), (y[3, ::2], 1)]
    for yy, tt in cases:
        for func in ("cross_entropy_error", "softmax_loss"):
            assert_close(getattr(F, func)(yy, tt),
                         _reference(getattr(R, func), np.array(yy), np.array(tt)))


def test_cross_entropy_validates_labels():
    y = _probs(4, 3, np.float64, np.random.default_rng(5))
    for func in (F.cross_entropy_error, F.softmax_loss):
        for bad, row in (([0, 1, 3, 0], 2), ([0, -4, 1, 1], 1), ([2**40, 0, 0, 0], 0)):
            with pytest.raises(ValueError, match=r"t\[%d\] = %d is not a class index"
                               % (row, bad[row])):
                func(y, np.array(bad))
        with pytest.raises(ValueError, match=r"t\[3\] = 255"):
            func(y, np.array([0, 1, 2, 255], dtype=np.uint8))
        with pytest.raises(ValueError, match="neither as one-hot"):
            func(y, np.array([0, 1, 2]))  # one label short
        with pytest.raises(ValueError, match="neither as one-hot"):
            func(y, np.zeros((4, 4)))
        with pytest.raises(ValueError, match="neither as one-hot"):
            func(y, np.zeros((12,)))  # y's size, not its shape
        with pytest.raises(ValueError, match="neither as one-hot"):
            func(y, np.zeros((4, 2), dtype=int))  # (4, 1) is a column of labels
        with pytest.raises(TypeError, match="index labels t must be integers"):
            func(y, np.array([0.0, 1.0, 2.0, 0.0]))
        with pytest.raises(TypeError, match="index labels t must be integers"):
            func(y, np.array([True, False, True, True]))
        with pytest.raises(ValueError, match="1-D .* or 2-D"):
            func(np.zeros((2, 2, 2)), np.zeros((2, 2, 2)))
        with pytest.raises(ValueError, match="single class index"):
            func(np.full(3, 1 / 3), np.array([0, 1]))
        with pytest.raises(TypeError, match="must be real"):
            func(y.astype(complex), np.array([0, 1, 2, 0]))


def test_cross_entropy_nan_and_ties_follow_argmax():
    y = _probs(3, 4, np.float64, np.random.default_rng(6))
    t = np.array([[0.5, 0.5, 0.0, 0.0], [0.0, np.nan, 1.0, np.nan], [0, 0, 0, 0]])
    assert_close(F.cross_entropy_error(y, t), _reference(R.cross_entropy_error, y, t))


SSE_PAIRS = [(np.float64, np.float64), (np.float32, np.float32), (np.float32, np.float64),
             (np.float64, np.float32), (np.float16, np.float16), (np.float16, np.float32),
             (np.uint8, np.float32), (np.int64, np.int64), (np.uint8, np.uint8),
             (np.bool_, np.bool_), (np.int16, np.float16)]


@pytest.mark.parametrize("ydt,tdt", SSE_PAIRS, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", [(1,), (10,), (7, 5), (3, 4, 5)])
def test_sum_squared_error_matches_reference(ydt, tdt, shape):
    rng = np.random.default_rng(7)
    for (_, y), (_, t) in zip(_layouts(shape, ydt, 1), _layouts(shape, tdt, 2)):
        for func in (F.sum_squared_error, F.mean_squared_error, F.squared_error):
            assert_close(func(y, t), _reference(R.sum_squared_error, y, t))
    y = _values(shape, ydt, rng)
    t = np.asfortranarray(_values(shape, tdt, rng))
    assert_close(F.sum_squared_error(y, t), _reference(R.sum_squared_error, y, t))


def test_sum_squared_error_scalars_broadcast_and_errors():
    y = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
    t = np.array([0, 0, 1, 0, 0, 0, 0, 0, 0, 0])
    assert F.sum_squared_error(y, t) == pytest.approx(0.0975, rel=1e-12)  # the book's value
    cases = [(1.5, 0.5), (2, 3), (True, 0.25), (1.0, np.float32([0.5, 2.0])),
             (np.float32([0.5, 2.0]), 3), (y.reshape(2, 5), t[:5]), ([1, 2], [0.5, 0.5])]
    for a, b in cases:
        assert_close(F.sum_squared_error(a, b), _reference(R.sum_squared_error, a, b))
    with pytest.raises(ValueError, match="do not match"):
        F.sum_squared_error(np.zeros(3), np.zeros(4))
    with pytest.raises(TypeError, match="t must be real"):
        F.sum_squared_error(np.zeros(3), np.array(["a", "b", "c"]))


# --- threads -----------------------------------------------------------------------

def _bits(v):
    return np.asarray(v).tobytes()


def _large_cases():
    """Inputs that run on 2 threads: at least twice the per-thread minimum."""
    rng = np.random.default_rng(8)
    n_exp = 2 * K.PARALLEL_MIN + 1001           # loops evaluating exp per element
    n_mem = 2 * K.PARALLEL_MIN_MEMORY_BOUND + 1001  # loops that only move memory
    wide = rng.standard_normal((n_exp // 997 + 1, 997)) * 10
    flat = rng.standard_normal(n_mem) * 10
    tall = rng.standard_normal((n_exp // 10 + 1, 10)) * 5
    t_tall = rng.integers(0, 10, tall.shape[0])
    many = rng.standard_normal((n_mem // 2 + 1, 2))
    t_many = rng.integers(0, 2, many.shape[0])
    p_many = F.softmax(many)
    return [
        ("sigmoid", (wide,)), ("sigmoid", (wide.astype(np.float32),)),
        ("sigmoid", (wide.astype(np.float16),)), ("sigmoid", (wide.T,)),
        ("sigmoid", (wide[:, ::3],)), ("sigmoid_grad", (wide,)),
        ("relu", (flat,)), ("relu_grad", (flat.astype(np.float32),)),
        ("relu", ((flat * 10).astype(np.int32),)), ("relu_grad", (flat[::-1],)),
        ("softmax", (wide,)), ("softmax", (tall.astype(np.float32),)),
        ("softmax", (np.asfortranarray(tall),)), ("softmax", (tall.astype(np.float16),)),
        # one long row: its column blocks are split across the threads
        ("softmax", (flat,)), ("softmax", (flat[::-2].astype(np.float32),)),
        ("softmax", (flat.reshape(1, -1)[:, 1:],)),
        ("cross_entropy_error", (p_many, t_many)),
        ("cross_entropy_error", (p_many, np.eye(2)[t_many])),
        ("cross_entropy_error", (p_many.astype(np.float32), t_many.astype(np.uint8))),
        ("softmax_loss", (tall, t_tall)), ("softmax_loss", (tall.astype(np.float32),
                                                           np.eye(10)[t_tall])),
        ("sum_squared_error", (flat, flat[::-1])),
        ("sum_squared_error", (flat.astype(np.float32), flat * 0.5)),
    ]


@pytest.mark.skipif(not cnet.config.config_info()["openmp"], reason="built without OpenMP")
def test_results_do_not_depend_on_thread_count(restore_threads):
    for name, args in _large_cases():
        cnet.set_num_threads(1)
        one = getattr(F, name)(*args)
        cnet.set_num_threads(2)
        assert cnet.get_num_threads() == 2
        two = getattr(F, name)(*args)
        assert _bits(one) == _bits(two), name
        assert_close(two, _reference(getattr(R, name), *args))


@pytest.mark.parametrize("threads", [1, 2])
def test_softmax_loss_of_a_long_row_equals_the_two_pass_loss(threads, restore_threads):
    # softmax splits a long row across threads; softmax_loss walks it on one
    # thread: the block structure of the sum makes them agree to the bit.
    cnet.set_num_threads(threads)
    x = np.random.default_rng(10).standard_normal(2 * K.PARALLEL_MIN + 4097) * 4
    for X in (x, x.astype(np.float32), x[::-3]):
        k = int(np.argmax(X))
        assert F.softmax_loss(X, k).tobytes() == F.cross_entropy_error(F.softmax(X), k).tobytes()
        assert_close(F.softmax_loss(X, k), _reference(R.softmax_loss, X, k))


# --- valid but unusual arrays: unaligned, packed record fields, empty views -------

def _unaligned(a):
    """a copied to memory that starts one byte past an aligned address, as
    np.frombuffer(buf, offset=1) gives (0-d arrays too)."""
    a = np.asarray(a)
    buf = np.zeros(a.nbytes + 1, np.uint8)
    out = np.frombuffer(buf.data, dtype=a.dtype, count=a.size, offset=1).reshape(a.shape)
    out[...] = a
    assert not out.flags.aligned or a.dtype.itemsize == 1
    return out


def _packed_field(a):
    """a as the field of a packed record array (a uint8 before it): strides
    that are not a multiple of the item size, misaligned data."""
    a = np.asarray(a)
    rec = np.zeros(a.shape, dtype=np.dtype([("tag", "u1"), ("v", a.dtype)], align=False))
    rec["v"] = a
    return rec["v"]


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16, np.int32])
@pytest.mark.parametrize("shape", [(), (1,), (7,), (3, 5)])
@pytest.mark.parametrize("make", [_unaligned, _packed_field], ids=["unaligned", "packed"])
def test_unaligned_inputs_match_reference(dtype, shape, make):
    """No misaligned pointer reaches C: cnet._functions refuses one with a
    RuntimeError, so each public function must hand over an aligned view or
    copy and still give the reference's result."""
    rng = np.random.default_rng(12)
    x = make(_values(shape, dtype, rng))
    for name in ELEMENTWISE + ["softmax"]:
        assert_close(getattr(F, name)(x), _reference(getattr(R, name), np.array(x)))
    y = make(_values(shape, dtype, rng))
    assert_close(F.sum_squared_error(x, y), _reference(R.sum_squared_error, np.array(x),
                                                       np.array(y)))
    if len(shape) == 2 and dtype != np.int32:
        p = make(_probs(*shape, dtype, rng))
        k = rng.integers(0, shape[1], shape[0])
        for t in (make(k), make(np.eye(shape[1])[k]), k):
            assert_close(F.cross_entropy_error(p, t),
                         _reference(R.cross_entropy_error, np.array(p), np.array(t)))
            assert_close(F.softmax_loss(x, t),
                         _reference(R.softmax_loss, np.array(x), np.array(t)))


def test_misaligned_arrays_are_refused_by_the_kernels():
    x = _unaligned(np.zeros(4))
    with pytest.raises(RuntimeError, match="misaligned array reached a kernel"):
        K.unary(K.SIGMOID, x, np.empty(4), 1, 4, 0, 1, 0, 1)


@pytest.mark.parametrize("view", [(slice(0), slice(0)), (slice(None), slice(0)),
                                  (slice(0), slice(None), slice(None, None, 2))])
def test_empty_views_match_reference(view):
    """Empty views with strides that nest no rows (the book's NumPy code
    returns 0.0 for their sum of squares, empty arrays elementwise)."""
    base = np.random.default_rng(13).standard_normal((3, 3, 3))
    x = base[view]
    assert x.size == 0
    for func in (F.sum_squared_error, F.mean_squared_error):
        got = func(x, base.copy()[view])
        assert got == 0.0 and type(got) is np.float64
    assert_close(F.sum_squared_error(x, 1.5), _reference(R.sum_squared_error, x, 1.5))
    for name in ELEMENTWISE:
        assert_close(getattr(F, name)(x), _reference(getattr(R, name), x))
    if x.shape[-1]:
        assert_close(F.softmax(x), _reference(R.softmax, x))


def test_labels_in_a_column_are_the_labels():
    """ch07/gradient_check.py passes t of shape (1, 1): the book's indexing
    reads it as the one label it holds (same value, bit for bit). A column of
    N > 1 labels is read as those N labels (the book's broadcast would mix
    every row with every label); SoftmaxWithLoss takes the same."""
    from cnet import reference
    from cnet.layers import SoftmaxWithLoss
    rng = np.random.default_rng(7)
    y1 = rng.random((1, 10))
    t1 = np.array([[3]])
    assert cnet.functions.cross_entropy_error(y1, t1) == reference.cross_entropy_error(y1, t1)
    y = rng.random((5, 10))
    t = rng.integers(0, 10, 5)
    assert cnet.functions.cross_entropy_error(y, t[:, None]) == \
        cnet.functions.cross_entropy_error(y, t)
    layer, flat = SoftmaxWithLoss(), SoftmaxWithLoss()
    assert layer.forward(y, t[:, None]) == flat.forward(y, t)
    np.testing.assert_array_equal(layer.backward(), flat.backward())


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("pos", [0, 1, 7, 8, 15, 16, 998, 999])
def test_softmax_long_rows_nan_and_inf_anywhere(dtype, pos):
    """Rows of 10 and 1000 (the vectorised maximum takes rows of 16 or more):
    a NaN or +inf at any position makes the whole row NaN and a -inf entry
    gives 0, as the book's NumPy; the other rows are untouched and equal to
    the reference within test_functions' tolerance. Contiguous and strided
    rows (the plain loop) give the same bits."""
    rng = np.random.default_rng(pos)
    for C in (10, 1000):
        if pos >= C:
            continue
        x = (rng.standard_normal((4, C)) * 4).astype(dtype)
        x[0, pos], x[1, pos], x[2, pos] = np.nan, np.inf, -np.inf
        y = F.softmax(x)
        assert np.isnan(y[0]).all() and np.isnan(y[1]).all()
        assert y[2, pos] == 0 and np.isfinite(y[2]).all() and np.isfinite(y[3]).all()
        assert_close(y[2:], _reference(R.softmax, x[2:]))
        wide = np.repeat(x, 2, axis=1)[:, ::2]
        assert F.softmax(wide).tobytes() == y.tobytes()
        assert F.softmax(np.asfortranarray(x)).tobytes() == np.asfortranarray(y).tobytes()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sum_squared_error_same_bits_in_every_layout(dtype):
    """The vectorised lanes (contiguous operands of the result dtype) and the
    plain loop (strided operands, or t of the other dtype) put each square of
    a walk in the same lane of the same block: the same bits for the same
    walk (an F-ordered y is walked in its memory order, so only within
    tolerance); all equal to the reference within test_functions'
    tolerance."""
    rng = np.random.default_rng(5)
    y = rng.standard_normal((37, 1001)).astype(dtype)
    t = rng.standard_normal((37, 1001)).astype(dtype)
    other = np.float32 if dtype == np.float64 else np.float64
    want = F.sum_squared_error(y, t)
    assert_close(want, _reference(R.sum_squared_error, y, t))
    for yy, tt in ((np.repeat(y, 2, axis=1)[:, ::2], t), (y, np.repeat(t, 3, axis=1)[:, ::3]),
                   (y.ravel(), t.ravel())):
        assert F.sum_squared_error(yy, tt).tobytes() == want.tobytes()
    for yy, tt in ((np.asfortranarray(y), t), (y[:, :500], t[:, :500]), (y, t.astype(other))):
        assert_close(F.sum_squared_error(yy, tt), _reference(R.sum_squared_error, yy, tt))
