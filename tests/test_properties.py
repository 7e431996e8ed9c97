"""Property tests (Hypothesis): cnet against cnet.reference on random shapes,
dtypes, layouts (C, Fortran, strided, unaligned, byte-swapped, read-only) and
values (zeros, subnormals, +-1e300, NaN, inf, empty where the book allows).

The examples are derandomized (a fixed seed) and bounded (max_examples per
test), so the run is the same every time and takes a few seconds.

Tolerances. Where the reference gives a non-finite value, cnet must give the
same one (NaN, +inf or -inf) at the same place. Finite values: float64
results agree to rtol 1e-9 with an absolute floor of 1e-11 times the largest
finite reference value (sums of up to a few hundred products in another order:
n * eps is ~1e-13 relative to the terms' magnitudes, and cancellation leaves
only the absolute part); float32 results to rtol 2e-4 with a floor of 2e-5
times the largest value (float32 eps 6e-8 times the same n, and the reference
runs in float64). Optimizers and elementwise functions are compared bit for
bit where the module promises it and with these tolerances otherwise.
"""
import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis", reason="hypothesis is in the test extra")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import cnet.functions as F  # noqa: E402
from cnet import optimizer, reference  # noqa: E402
from cnet.two_layer_net import TwoLayerNet  # noqa: E402

SETTINGS = settings(max_examples=40, derandomize=True, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))

LAYOUTS = ("C", "F", "strided", "unaligned", "swapped", "readonly")
SPECIALS = (0.0, -0.0, 5e-324, -1e-310, 1e300, -1e300, np.inf, -np.inf, np.nan)


def relayout(a, kind):
    """The values of a in the layout kind (a new array or view)."""
    a = np.asarray(a)
    if kind == "C":
        return a.copy(order="C")  # (np.ascontiguousarray makes 0-d arrays 1-d)
    if kind == "F":
        return a.copy(order="F")
    if kind == "strided":
        big = np.zeros(tuple(2 * n + 1 for n in a.shape), a.dtype)
        view = big[tuple(slice(1, None, 2) for _ in a.shape)]
        view[...] = a
        return view
    if kind == "unaligned":
        buf = np.zeros(a.nbytes + 1, np.uint8)
        view = np.frombuffer(buf.data, a.dtype, count=a.size, offset=1).reshape(a.shape)
        view[...] = a
        assert a.itemsize == 1 or a.size == 0 or not view.flags.aligned
        return view
    if kind == "swapped":
        return a.astype(a.dtype.newbyteorder())
    if kind == "readonly":
        view = a.copy()
        view.flags.writeable = False
        return view
    raise AssertionError(kind)


@st.composite
def values(draw, shape, dtype, scale=1.0, density=1.0, specials=True):
    """An array of shape: normal values times scale, a fraction (1 - density)
    of them zero, and with specials a few entries from SPECIALS."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    a = rng.normal(0, scale, shape) * (rng.random(shape) < density)
    if specials and a.size and draw(st.booleans()):
        for _ in range(draw(st.integers(1, 3))):
            a.flat[draw(st.integers(0, a.size - 1))] = draw(st.sampled_from(SPECIALS))
    with np.errstate(over="ignore"):
        return a.astype(dtype)


def same(got, want, dtype=np.float64):
    """got equals want as the module docstring says."""
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, (got.shape, want.shape)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(np.isposinf(got), np.isposinf(want))
    np.testing.assert_array_equal(np.isneginf(got), np.isneginf(want))
    fin = np.isfinite(want)
    if not fin.any():
        return
    scale = float(np.max(np.abs(want[fin])))
    if np.dtype(dtype) == np.float32:
        np.testing.assert_allclose(got[fin], want[fin], rtol=2e-4, atol=2e-5 * scale)
    else:
        np.testing.assert_allclose(got[fin], want[fin], rtol=1e-9, atol=1e-11 * scale)


# --- TwoLayerNet ---------------------------------------------------------------

@st.composite
def two_layer_case(draw):
    B = draw(st.integers(1, 20))
    I = draw(st.integers(1, 30))
    H = draw(st.integers(1, 12))
    O = draw(st.integers(2, 6))
    wdtype = draw(st.sampled_from([np.float64, np.float32]))
    xdtype = draw(st.sampled_from([np.float32, np.float64, np.uint8]))
    if xdtype == np.uint8:
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        x = (rng.integers(0, 256, (B, I)) * (rng.random((B, I)) < 0.3)).astype(np.uint8)
    else:
        x = draw(values((B, I), xdtype, density=0.3))
    params = {k: draw(values(shape, wdtype, scale=0.5, specials=draw(st.booleans())))
              for k, shape in (("W1", (I, H)), ("b1", (H,)), ("W2", (H, O)), ("b2", (O,)))}
    t = np.random.default_rng(draw(st.integers(0, 2**32 - 1))).integers(0, O, B)
    return (x, params, t, draw(st.sampled_from(LAYOUTS)), draw(st.sampled_from(LAYOUTS)),
            draw(st.sampled_from(LAYOUTS)))


def _nets(params, param_layout):
    H, O = params["W2"].shape
    I = params["W1"].shape[0]
    wdtype = params["W1"].dtype
    net = TwoLayerNet(I, H, O, dtype=wdtype)
    ref = reference.TwoLayerNet(I, H, O)
    for k, v in params.items():
        net.params[k] = relayout(v, param_layout)
        ref.params[k] = v.astype(np.float64)
    return net, ref, wdtype


@SETTINGS
@given(two_layer_case())
def test_two_layer_net_methods(case):
    """predict, loss, accuracy and gradient on any layout of x, labels and
    params, non-finite values included. float32 params with a float32 batch
    compute in float32 (TwoLayerNet's documented departure), compared with
    the float32 tolerance."""
    x, params, t, x_layout, t_layout, p_layout = case
    net, ref, wdtype = _nets(params, p_layout)
    xl = relayout(x, x_layout)
    T = np.eye(params["W2"].shape[1])[t]
    cdt = np.float32 if wdtype == np.float32 and x.dtype in (np.float32, np.uint8) else np.float64
    with np.errstate(all="ignore"):
        same(net.predict(xl), ref.predict(x), cdt)
        for labels in (relayout(T, t_layout), relayout(t, t_layout)):
            same(net.loss(xl, labels), ref.loss(x, np.asarray(labels)), cdt)
            got, want = net.gradient(xl, labels), ref.gradient(x, np.asarray(labels))
            for k in want:
                same(got[k], want[k], cdt)
        yr = ref.predict(x)
        if np.isfinite(yr).all() and cdt == np.float64:
            # ties and NaN rows aside, the classes agree
            assert net.accuracy(xl, T) == ref.accuracy(x, T)


@SETTINGS
@given(st.integers(1, 6), st.integers(1, 9), st.integers(1, 5), st.integers(2, 4),
       st.sampled_from(LAYOUTS), st.integers(0, 2**32 - 1))
def test_two_layer_numerical_gradient(B, I, H, O, layout, seed):
    """The incremental numerical gradient against the book's brute force
    (finite values: the series are exact to ~1e-15 relative, and the book's
    central difference itself carries ~1e-9 of rounding, hence rtol 1e-6
    and an absolute 1e-8)."""
    rng = np.random.default_rng(seed)
    x = (rng.random((B, I)) * (rng.random((B, I)) < 0.5)).astype(np.float32)
    params = {"W1": rng.normal(0, 0.5, (I, H)), "b1": rng.normal(0, 0.5, H),
              "W2": rng.normal(0, 0.5, (H, O)), "b2": rng.normal(0, 0.5, O)}
    net, ref, _ = _nets(params, layout)
    t = rng.integers(0, O, B)
    got = net.numerical_gradient(relayout(x, layout), t)
    want = ref.numerical_gradient(x, t)
    for k in want:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-6, atol=1e-8)


def test_kernels_never_see_unaligned_arrays(monkeypatch):
    """Item 2 of the reliability issue: TwoLayerNet passed unaligned views
    (np.frombuffer at an odd offset) to C, which reads a double through a
    misaligned pointer (undefined behaviour; UBSan flags it). Every array
    reaching cnet._two_layer must now be aligned."""
    from cnet import _two_layer, two_layer_net

    seen = []
    kernels = ("predict", "loss", "correct", "gradient")  # the fast_* entries check

    class Spy:
        def __getattr__(self, name):
            fn = getattr(_two_layer, name)
            if name not in kernels:
                return fn

            def spy(*args):
                seen.extend(a for a in args if isinstance(a, np.ndarray))
                return fn(*args)
            return spy

    monkeypatch.setattr(two_layer_net, "_two_layer", Spy())
    rng = np.random.default_rng(0)
    net = TwoLayerNet(7, 4, 3)
    for k in list(net.params):
        net.params[k] = relayout(net.params[k], "unaligned")
    x = relayout(rng.random((5, 7)), "unaligned")
    t = relayout(rng.integers(0, 3, 5), "unaligned")
    T = relayout(np.eye(3)[rng.integers(0, 3, 5)], "unaligned")
    net.predict(x)
    net.loss(x, t)
    net.accuracy(x, T)
    net.gradient(x, T)
    net.gradient(x, t)
    net.numerical_gradient(x, t)
    assert seen and all(a.flags.aligned for a in seen)


# --- optimizers ----------------------------------------------------------------

OPTIMIZERS = ("SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam")


@SETTINGS
@given(st.sampled_from(OPTIMIZERS), st.sampled_from([np.float64, np.float32]),
       st.lists(st.integers(0, 5), min_size=1, max_size=3), st.sampled_from(LAYOUTS),
       st.sampled_from(LAYOUTS), st.data())
def test_optimizers(name, dtype, shape, p_layout, g_layout, data):
    """Two updates of every optimizer on params and grads of any layout and
    values (empty arrays, NaN, inf, 1e300 included) against the book's NumPy
    lines. The update is in place, so read-only params are left out; so are
    byte-swapped params, which cnet.optimizer refuses with a TypeError where
    the book's NumPy would update them (left to that module)."""
    shape = tuple(shape)
    if p_layout in ("readonly", "swapped"):
        p_layout = "C"
    p = data.draw(values(shape, dtype))
    grads = [data.draw(values(shape, dtype)) for _ in range(2)]
    mine = {"W": relayout(p, p_layout)}
    ref_params = {"W": p.copy()}
    opt = getattr(optimizer, name)()
    ref_opt = getattr(reference, name)()
    with np.errstate(all="ignore"):
        for g in grads:
            opt.update(mine, {"W": relayout(g, g_layout)})
            ref_opt.update(ref_params, {"W": g.copy()})
    assert mine["W"].shape == shape
    same(mine["W"], ref_params["W"], dtype)


# --- cnet.functions ------------------------------------------------------------

@SETTINGS
@given(st.sampled_from(["identity_function", "step_function", "sigmoid", "sigmoid_grad",
                        "relu", "relu_grad", "softmax"]),
       st.sampled_from([np.float64, np.float32]),
       st.lists(st.integers(0, 6), min_size=0, max_size=3), st.sampled_from(LAYOUTS),
       st.data())
def test_elementwise_and_softmax(name, dtype, shape, layout, data):
    """Each function of cnet.functions on any layout and values, empty and
    0-d arrays included, against the book's NumPy."""
    shape = tuple(shape)
    x = data.draw(values(shape, dtype, scale=3.0))
    if name == "softmax" and x.ndim == 0:
        x = x.reshape(1)
    with np.errstate(all="ignore"):
        want = getattr(reference, name)(x.copy())
        got = getattr(F, name)(relayout(x, layout))
    assert np.shape(got) == np.shape(want)
    same(got, want, dtype)


@SETTINGS
@given(st.sampled_from(["cross_entropy_error", "sum_squared_error", "softmax_loss"]),
       st.sampled_from([np.float64, np.float32]), st.integers(1, 8), st.integers(2, 6),
       st.booleans(), st.sampled_from(LAYOUTS), st.data())
def test_losses(name, dtype, B, O, one_hot, layout, data):
    """The losses on any layout of y and t (one-hot or indices), against the
    book's NumPy; cross_entropy_error gets probabilities, non-finite ones
    included. O >= 2: with one class the book mistakes index labels for
    one-hot ones (t.size == y.size) and fails."""
    y = data.draw(values((B, O), dtype))
    if name == "cross_entropy_error":
        with np.errstate(all="ignore"):
            y = np.abs(y) / (1 + np.abs(y))
    t_idx = np.random.default_rng(data.draw(st.integers(0, 2**32))).integers(0, O, B)
    t = np.eye(O, dtype=dtype)[t_idx] if (one_hot or name == "sum_squared_error") else t_idx
    with np.errstate(all="ignore"):
        want = getattr(reference, name)(y.copy(), t.copy())
        got = getattr(F, name)(relayout(y, layout), relayout(t, layout))
    same(got, want, dtype)


# --- Convolution and Pooling -----------------------------------------------------

@st.composite
def image_case(draw, filters):
    """x (N, C, H, W), for a convolution (filters) W (FN, C, FH, FW) and b,
    else a pooling window; stride, pad, dout of the output's shape, and a
    layout for each array."""
    N, C = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    H, W = draw(st.integers(1, 7)), draw(st.integers(1, 7))
    pad, stride = draw(st.integers(0, 2)), draw(st.integers(1, 3))
    FH, FW = draw(st.integers(1, H + 2 * pad)), draw(st.integers(1, W + 2 * pad))
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    x = draw(values((N, C, H, W), dtype, specials=False))
    OH, OW = (H + 2 * pad - FH) // stride + 1, (W + 2 * pad - FW) // stride + 1
    if filters:
        FN = draw(st.integers(1, 4))
        weights = (draw(values((FN, C, FH, FW), dtype, scale=0.5, specials=False)),
                   draw(values((FN,), dtype, specials=False)))
    else:
        FN, weights = C, None
    dout = draw(values((N, FN, OH, OW), dtype, specials=False))
    layouts = [draw(st.sampled_from(LAYOUTS)) for _ in range(4)]
    return x, weights, (FH, FW), stride, pad, dout, layouts


@SETTINGS
@given(image_case(filters=True))
def test_convolution_on_any_layout(case):
    """Convolution forward and backward (dx, dW, db) on any layout of x, W,
    b and dout (an unaligned one reached C as it was before: UBSan's report
    in im2col) against the book's layer; float32 W computes in float32 (the
    layer's documented option), compared with the float32 tolerance."""
    from cnet.layers import Convolution
    x, (Wt, b), _, stride, pad, dout, (lx, lw, lb, ld) = case
    layer = Convolution(relayout(Wt, lw), relayout(b, lb), stride, pad)
    book = reference.Convolution(Wt.astype(np.float64), b.astype(np.float64), stride, pad)
    same(layer.forward(relayout(x, lx)), book.forward(x.astype(np.float64)), Wt.dtype)
    same(layer.backward(relayout(dout, ld)), book.backward(dout.astype(np.float64)),
         Wt.dtype)
    same(layer.dW, book.dW, Wt.dtype)
    same(layer.db, book.db, Wt.dtype)


@SETTINGS
@given(image_case(filters=False))
def test_pooling_on_any_layout(case):
    """Pooling forward and backward on any layout of x and dout against the
    book's layer (a maximum is exact: float32 too)."""
    from cnet.layers import Pooling
    x, _, (FH, FW), stride, pad, dout, (lx, _, _, ld) = case
    layer = Pooling(FH, FW, stride, pad)
    book = reference.Pooling(FH, FW, stride, pad)
    same(layer.forward(relayout(x, lx)), book.forward(x.astype(np.float64)), x.dtype)
    same(layer.backward(relayout(dout, ld)), book.backward(dout.astype(np.float64)),
         x.dtype)
