"""cnet._netgrad.numerical_gradient against the book's brute force.

Tolerances. The book's numerical gradient of entry k is
(f(theta + h e_k) - f(theta - h e_k)) / (2 h) with h = 1e-4, each f a full
forward pass in floating point. Each f carries rounding noise of a few eps
times the size S of what it sums: the batch loss |L| (the logs and their sum),
plus the errors of the scores the logs see, i.e. of a2 (bounded by
eps * (|z1| |W2| + |b2|), entering the loss with weight <= 2) and of a1
(eps * (|x| |W1| + |b1|), entering through sigma' <= 1/4 and |W2|). The
difference of two such evaluations divided by 2h is therefore off by about
eps * S / h: about 5e-12 for L = 2.3 in float64 -- the bound the incremental
kernel is held to against cnet.reference (with a factor C = 8 for the handful
of roundings per evaluation). Against an extended-precision brute force
(np.longdouble, eps = 2^-64) the same argument gives a bound 2048 times
tighter, which checks that the kernel's series really are exact to rounding.
"""
import numpy as np
import pytest

import cnet
from cnet import reference
from cnet._netgrad import numerical_gradient

H_STEP = 1e-4
C_ROUNDINGS = 8
KEYS = ("W1", "b1", "W2", "b2")


def _net(I, H, O, std, seed, bias_std=0.3, dtype=np.float64):
    np.random.seed(seed)
    net = reference.TwoLayerNet(I, H, O, weight_init_std=std)
    net.params["b1"] = bias_std * np.random.randn(H)
    net.params["b2"] = bias_std * np.random.randn(O)
    for k in KEYS:
        net.params[k] = net.params[k].astype(dtype)
    return net


def _batch(rng, B, I, O, scale=1.0, density=1.0, dtype=np.float64):
    x = rng.random((B, I)) * scale
    x[rng.random((B, I)) >= density] = 0.0
    t = rng.integers(0, O, B).astype(np.intp)
    return x.astype(dtype), t


def _ours(net, x, t):
    return dict(zip(KEYS, numerical_gradient(x, t, *(net.params[k] for k in KEYS))))


def _noise_scale(net, x, t):
    """S of the module docstring: the size of what one loss evaluation rounds."""
    p = {k: np.asarray(v, dtype=np.float64) for k, v in net.params.items()}
    x = np.asarray(x, dtype=np.float64)
    A1 = np.abs(x) @ np.abs(p["W1"]) + np.abs(p["b1"])              # (B, H)
    z1 = reference.sigmoid(x @ p["W1"] + p["b1"])
    A2 = np.abs(z1) @ np.abs(p["W2"]) + np.abs(p["b2"])             # (B, O)
    a1_term = 0.25 * (A1 * np.abs(p["W2"]).max(axis=1)).sum(axis=1)  # (B,)
    L = float(reference.TwoLayerNet.loss(_as_ref(p), x, t))
    return max(abs(L), 1.0) + 2.0 * A2.max() + 2.0 * a1_term.max()


def _as_ref(params):
    net = reference.TwoLayerNet.__new__(reference.TwoLayerNet)
    net.params = params
    return net


def _ref_tol(net, x, t, eps=np.finfo(np.float64).eps):
    return C_ROUNDINGS * eps * _noise_scale(net, x, t) / H_STEP


def _exact_gradient(net, x, t):
    """d/dtheta of the book's loss including its +1e-7 (backprop, float64).

    The book's gradient() drops the 1e-7: d/da2 of -log(y_t + c) is
    kappa (y - onehot) with kappa = y_t / (y_t + c), not y - onehot.
    """
    p = net.params
    a1 = x @ p["W1"] + p["b1"]
    z1 = reference.sigmoid(a1)
    y = reference.softmax(z1 @ p["W2"] + p["b2"])
    B = x.shape[0]
    yt = y[np.arange(B), t]
    dy = (yt / (yt + 1e-7))[:, None] * (y - np.eye(y.shape[1])[t]) / B
    da1 = (dy @ p["W2"].T) * z1 * (1 - z1)
    return {"W1": x.T @ da1, "b1": da1.sum(axis=0), "W2": z1.T @ dy, "b2": dy.sum(axis=0)}


CASES = [
    # I, H, O, B, weight std, input scale, input density, x dtype
    (1, 1, 2, 1, 0.5, 1.0, 1.0, np.float64),
    (1, 3, 2, 2, 0.5, 1.0, 1.0, np.float32),
    (4, 1, 2, 3, 0.5, 1.0, 1.0, np.float64),
    (7, 5, 3, 1, 0.5, 1.0, 1.0, np.float64),
    (5, 4, 3, 6, 0.5, 1.0, 0.0, np.float64),     # an all-zero batch
    (7, 5, 3, 4, 0.01, 1.0, 1.0, np.float32),
    (12, 6, 4, 9, 0.5, 1.0, 0.2, np.float64),
    (30, 13, 10, 17, 0.5, 1.0, 0.3, np.float32),
    (19, 9, 10, 16, 0.1, 1.0, 0.5, np.float64),
    (25, 7, 5, 11, 1.0, 2.0, 1.0, np.float64),
    (8, 11, 3, 13, 2.0, 3.0, 0.6, np.float32),
    (10, 5, 4, 6, 0.5, 50.0, 1.0, np.float64),   # beyond the series: libm path
    (9, 6, 3, 5, 20.0, 30.0, 1.0, np.float64),   # huge changes: softmax recomputed
]


@pytest.mark.parametrize("I,H,O,B,std,scale,density,xdt", CASES)
def test_matches_reference_brute_force(I, H, O, B, std, scale, density, xdt):
    rng = np.random.default_rng(I * 100 + B)
    net = _net(I, H, O, std, seed=I + H)
    x, t = _batch(rng, B, I, O, scale, density, xdt)
    ours = _ours(net, x, t)
    ref = net.numerical_gradient(x, t)
    tol = _ref_tol(net, x, t)
    for k in KEYS:
        assert ours[k].dtype == np.float64 and ours[k].shape == net.params[k].shape
        err = np.abs(ours[k] - ref[k]).max()
        assert err <= tol, (k, err, tol)


@pytest.mark.skipif(np.finfo(np.longdouble).eps > 1e-18,
                    reason="np.longdouble is no wider than float64 on this platform")
@pytest.mark.parametrize("std,scale", [(0.5, 1.0), (0.01, 1.0), (1.0, 2.4), (0.5, 50.0),
                                       (3.0, 3.0), (30.0, 50.0)])
def test_matches_extended_precision_brute_force(std, scale):
    """The kernel is exact to float64 rounding, far inside the reference's
    noise; at that precision its difference from the derivative (the central
    difference's O(h^2) term) stands out by orders of magnitude."""
    I, H, O, B = 7, 5, 3, 4
    rng = np.random.default_rng(5)
    net = _net(I, H, O, std, seed=3)
    x, t = _batch(rng, B, I, O, scale)
    ours = _ours(net, x, t)
    ld = np.longdouble
    params = [net.params[k].copy() for k in KEYS]

    def loss(W1, b1, W2, b2):
        a1 = x.astype(ld) @ W1.astype(ld) + b1.astype(ld)
        z1 = 1 / (1 + np.exp(-a1))
        a2 = z1 @ W2.astype(ld) + b2.astype(ld)
        e = np.exp(a2 - a2.max(axis=1, keepdims=True))
        y = e / e.sum(axis=1, keepdims=True)
        return -np.sum(np.log(y[np.arange(B), t] + ld(1e-7))) / B

    eps_ld = np.finfo(np.longdouble).eps
    # The brute force's own noise (eps_ld * S / h) plus the kernel's float64
    # rounding: its cached a1 and a2 are float64 roundings (off by up to
    # eps * S), and every entry, a first derivative of the loss, moves by that
    # times a second derivative, which the sigmoid (<= 1/4) and the softmax
    # cross-entropy (<= 1/2) keep below 1.
    S = _noise_scale(net, x, t)
    exact = _exact_gradient(net, x, t)
    tol = C_ROUNDINGS * eps_ld * S / H_STEP + 4 * np.finfo(np.float64).eps * S
    for k, P in zip(KEYS, params):
        g = np.zeros(P.shape, dtype=ld)
        for idx in np.ndindex(*P.shape):
            v = P[idx]
            P[idx] = float(v) + H_STEP
            fp = loss(*params)
            P[idx] = v - H_STEP
            fm = loss(*params)
            P[idx] = v
            g[idx] = (fp - fm) / (2 * ld(H_STEP))
        err = float(np.abs(ours[k] - g).max())
        assert err <= tol, (k, err, tol)
        if scale * H_STEP <= 2.0 ** -12 and k in ("W1", "b1"):
            # Inside the series' range the O(h^2) term (relative h^2 f''' / 6 f',
            # about 1e-9 here) is resolved: the kernel is not a derivative.
            assert np.abs(ours[k] - exact[k]).max() > 10 * tol, k


@pytest.mark.parametrize("std,scale", [(0.5, 1.0), (0.01, 1.0), (1.0, 0.5)])
def test_agrees_with_backprop_to_order_h_squared(std, scale):
    I, H, O, B = 20, 8, 5, 10
    rng = np.random.default_rng(11)
    net = _net(I, H, O, std, seed=2)
    x, t = _batch(rng, B, I, O, scale, 0.5)
    ours = _ours(net, x, t)
    exact = _exact_gradient(net, x, t)
    book = net.gradient(x, t)
    yt = reference.TwoLayerNet.predict(net, x)[np.arange(B), t]
    for k in KEYS:
        # Central difference: error h^2 / 6 |f'''|; for inputs and weights
        # of order 1 the third derivatives stay below 10 here.
        assert np.abs(ours[k] - exact[k]).max() <= H_STEP ** 2 / 6 * 10
        # The book's backprop also ignores the 1e-7 in the log: relative
        # difference c / y_t per row on top.
        bound = H_STEP ** 2 / 6 * 10 + 2e-7 / yt.min() * np.abs(book[k]).max()
        assert np.abs(ours[k] - book[k]).max() <= bound


def test_order_h_squared_term_is_kept_for_large_inputs():
    """At large inputs the central difference differs visibly from the
    derivative; the kernel must follow the book there, not the derivative."""
    I, H, O, B = 10, 5, 4, 6
    rng = np.random.default_rng(7)
    net = _net(I, H, O, 0.5, seed=9)
    x, t = _batch(rng, B, I, O, scale=40.0)
    ours = _ours(net, x, t)
    ref = net.numerical_gradient(x, t)
    exact = _exact_gradient(net, x, t)
    tol = _ref_tol(net, x, t)
    assert np.abs(ours["W1"] - ref["W1"]).max() <= tol
    assert np.abs(ours["W1"] - exact["W1"]).max() > 10 * tol


def test_float32_weights_match_reference_in_float64():
    """float32 weights, float64 batch: the book then evaluates in float64 with
    the perturbed values stored in float32, which the kernel reproduces; only
    the final rounding of each entry to float32 is added."""
    I, H, O, B = 15, 7, 6, 8
    rng = np.random.default_rng(3)
    net = _net(I, H, O, 0.5, seed=4, dtype=np.float32)
    x, t = _batch(rng, B, I, O, 1.0, 0.6)
    ours = _ours(net, x, t)
    ref = net.numerical_gradient(x, t)
    tol = _ref_tol(net, x, t)
    for k in KEYS:
        assert ours[k].dtype == np.float32 and ref[k].dtype == np.float32
        err = np.abs(ours[k].astype(np.float64) - ref[k])
        assert np.all(err <= tol + 2 * np.spacing(np.abs(ref[k]))), k


def test_float32_weights_and_batch():
    """float32 weights and batch: the kernel still evaluates in float64, so it
    equals the book run on the same (exact) values in float64; the book's
    all-float32 run is within its float32 noise. That noise is mostly the
    float32 rounding of the loss itself (logs of size ~|L| summed over the
    batch): C eps32 |L| / h, about 2e-2 here, against errors of ~2e-3 seen."""
    I, H, O, B = 15, 7, 6, 8
    rng = np.random.default_rng(8)
    net = _net(I, H, O, 0.5, seed=5, dtype=np.float32)
    x, t = _batch(rng, B, I, O, 1.0, 0.6, np.float32)
    ours = _ours(net, x, t)
    ref64 = net.numerical_gradient(x.astype(np.float64), t)
    ref32 = net.numerical_gradient(x, t)
    tol64 = _ref_tol(net, x, t)
    L = float(reference.TwoLayerNet.loss(net, x, t))
    tol32 = C_ROUNDINGS * np.finfo(np.float32).eps * max(abs(L), 1.0) / H_STEP
    for k in KEYS:
        assert np.all(np.abs(ours[k] - ref64[k]) <= tol64 + 2 * np.spacing(np.abs(ref64[k])))
        assert np.abs(ours[k] - ref32[k]).max() <= tol32


@pytest.mark.parametrize("big", [256.0, 300.0, -1024.0])
def test_uneven_float32_perturbations(big):
    """float32 weights of large magnitude: the stored v + h and v - h are
    whole float32 steps away from v (ulp 3e-5 at 300), uneven at a power of
    two (+3 ulps above 256, -7 half-size ulps below), and the kernel must
    follow what the array stores. x[:, 0] = 1 and b1 = -W1[0] keep a1 moderate."""
    I, H, O, B = 8, 5, 4, 6
    rng = np.random.default_rng(12)
    net = _net(I, H, O, 0.5, seed=13)
    x, t = _batch(rng, B, I, O, 1.0, 0.7)
    x[:, 0] = 1.0
    net.params["W1"][0, :3] = big
    net.params["b1"][:3] = -big
    for k in KEYS:
        net.params[k] = net.params[k].astype(np.float32)
    ours = _ours(net, x, t)
    ref = net.numerical_gradient(x, t)
    tol = _ref_tol(net, x, t)
    assert np.abs(ref["W1"][0, :3]).min() > 1e-4  # the large entries do matter
    for k in KEYS:
        err = np.abs(ours[k].astype(np.float64) - ref[k])
        assert np.all(err <= tol + 2 * np.spacing(np.abs(ref[k]))), k


def test_inputs_not_modified_and_read_only_accepted():
    rng = np.random.default_rng(2)
    net = _net(9, 4, 3, 0.5, seed=1)
    x, t = _batch(rng, 5, 9, 3, 1.0, 0.5)
    arrays = [x, t] + [net.params[k] for k in KEYS]
    copies = [a.copy() for a in arrays]
    for a in arrays:
        a.setflags(write=False)
    numerical_gradient(*arrays)
    for a, c in zip(arrays, copies):
        assert np.array_equal(a, c)


@pytest.mark.parametrize("shape", [(64, 100, 20, 10, 1.0), (100, 784, 50, 10, 0.2)])
def test_bit_identical_for_any_thread_count(restore_threads, shape):
    B, I, H, O, density = shape
    rng = np.random.default_rng(4)
    net = _net(I, H, O, 0.05, seed=6)
    x, t = _batch(rng, B, I, O, 1.0, density, np.float32)
    cnet.set_num_threads(1)
    one = _ours(net, x, t)
    cnet.set_num_threads(2)
    two = _ours(net, x, t)
    for k in KEYS:
        assert one[k].tobytes() == two[k].tobytes(), k


def _good(rng=None):
    rng = rng or np.random.default_rng(0)
    net = _net(6, 4, 3, 0.5, seed=0)
    x, t = _batch(rng, 5, 6, 3)
    return [x, t] + [net.params[k] for k in KEYS]


NAMES = ["x", "t", "W1", "b1", "W2", "b2"]


@pytest.mark.parametrize("pos,bad,exc,match", [
    (0, lambda a: a.tolist(), TypeError, "x must be a numpy.ndarray"),
    (0, lambda a: a.astype(np.int64), TypeError, "x must have dtype"),
    (0, lambda a: a[0], ValueError, r"x must be 2-D"),
    (0, lambda a: np.asfortranarray(a), ValueError, "x must be C-contiguous"),
    (0, lambda a: a[:0], ValueError, "x must hold at least one row"),
    (0, lambda a: np.hstack([a, a]), ValueError, "W1 must have shape"),
    (1, lambda a: a.astype(np.float64), TypeError, "t must have dtype"),
    (1, lambda a: a.astype(np.int32), TypeError, "t must have dtype"),
    (1, lambda a: np.eye(3, dtype=np.intp)[a], ValueError, "t must be 1-D"),
    (1, lambda a: a[:-1], ValueError, r"t must have shape \(5,\)"),
    (1, lambda a: np.repeat(a, 2)[::2], ValueError, "t must be C-contiguous"),
    (1, lambda a: np.where(np.arange(5) == 2, 3, a), ValueError, r"t\[2\] = 3"),
    (1, lambda a: np.where(np.arange(5) == 4, -1, a), ValueError, r"t\[4\] = -1"),
    (2, lambda a: a.astype(np.float16), TypeError, "W1 must have dtype"),
    (2, lambda a: np.asfortranarray(a), ValueError, "W1 must be C-contiguous"),
    (3, lambda a: a.astype(np.float32), TypeError, "b1 must have dtype float64"),
    (3, lambda a: a[:-1], ValueError, "b1 must have shape"),
    (4, lambda a: a[:-1], ValueError, "W2 must have shape"),
    (4, lambda a: a.astype(np.float32), TypeError, "W2 must have dtype float64"),
    (5, lambda a: np.append(a, 0.0), ValueError, "b2 must have shape"),
    (5, lambda a: a.reshape(1, -1), ValueError, "b2 must be 1-D"),
])
def test_bad_inputs_raise(pos, bad, exc, match):
    args = _good()
    args[pos] = bad(args[pos])
    with pytest.raises(exc, match=match):
        numerical_gradient(*args)


@pytest.mark.parametrize("xdt", [np.float32, np.float64])
def test_nan_and_negative_zero_inputs(xdt):
    """The scratch is sized by np.count_nonzero(x) and the kernel's column
    lists count x != 0 the same way: a NaN is a non-zero, -0.0 is a zero.
    -0.0 inputs give the brute force's gradient (tolerance as above); a NaN
    input makes its row's loss NaN, hence the book's batch loss with any
    parameter moved, hence every entry of the gradient (as the brute force)."""
    rng = np.random.default_rng(7)
    net = _net(6, 4, 3, 0.5, seed=3)
    x, t = _batch(rng, 5, 6, 3, dtype=xdt)
    x[1, 3] = -0.0
    x[:, 5] = -0.0
    ours = _ours(net, x, t)
    ref = net.numerical_gradient(x, t)
    tol = _ref_tol(net, x, t)
    for k in KEYS:
        assert np.abs(ours[k] - ref[k]).max() <= tol, k
    x[0, 2] = np.nan
    ours = _ours(net, x, t)
    ref = net.numerical_gradient(x, t)
    for k in KEYS:
        assert np.isnan(ref[k]).all() and np.isnan(ours[k]).all(), k


def test_two_layer_net_calls_the_same_kernel():
    """TwoLayerNet.numerical_gradient (checked once, in Python) and the checked
    entry of cnet._netgrad give the same bits."""
    from cnet import TwoLayerNet
    rng = np.random.default_rng(3)
    net = TwoLayerNet(12, 5, 4)
    x, t = _batch(rng, 7, 12, 4, density=0.4, dtype=np.float32)
    got = net.numerical_gradient(x, t)
    want = numerical_gradient(x, t.astype(np.intp), *(net.params[k] for k in KEYS))
    for k, w in zip(KEYS, want):
        assert got[k].tobytes() == w.tobytes(), k
