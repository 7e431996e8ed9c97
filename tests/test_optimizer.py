"""cnet.optimizer.SGD against the book's ``params[key] -= lr * grads[key]``.

The update is exact IEEE arithmetic in both (one product rounded to the dtype
NumPy picks, one difference rounded to the parameter's dtype), so the
comparison is bit-for-bit: no tolerance.
"""
import numpy as np
import pytest

from cnet import reference
from cnet.optimizer import SGD

F32, F64 = np.float32, np.float64


def book_update(params, grads, lr):
    for key in params.keys():
        params[key] -= lr * grads[key]


def random_pair(shape, pdt, gdt, seed=0):
    rng = np.random.default_rng(seed)
    p = rng.normal(0, 1, shape).astype(pdt)
    g = (rng.normal(0, 1, shape) * 10.0 ** rng.integers(-12, 3, shape)).astype(gdt)
    return p, g


@pytest.mark.parametrize("shape", [(), (1,), (7,), (784, 50), (3, 5, 2), (2, 1, 3, 1)],
                         ids=str)
@pytest.mark.parametrize("pdt,gdt", [(F64, F64), (F32, F32), (F32, F64), (F64, F32)])
@pytest.mark.parametrize("lr", [0.1, 0.01, 1, 3.3e-5, np.float64(0.1), np.float32(0.1)],
                         ids=repr)
def test_bit_identical_to_the_book(shape, pdt, gdt, lr):
    p, g = random_pair(shape, pdt, gdt)
    want = {"W": p.copy()}
    book_update(want, {"W": g}, lr)
    params = {"W": p}
    SGD(lr=lr).update(params, {"W": g})
    assert params["W"] is p  # in place
    assert p.dtype == want["W"].dtype
    np.testing.assert_array_equal(np.atleast_1d(p).view(np.uint8),
                                  np.atleast_1d(want["W"]).view(np.uint8))


def test_matches_reference_sgd_on_a_network_dict():
    rng = np.random.default_rng(3)
    params = {"W1": rng.normal(size=(784, 50)), "b1": rng.normal(size=50),
              "W2": rng.normal(size=(50, 10)), "b2": rng.normal(size=10)}
    grads = {k: rng.normal(size=v.shape) * 1e-3 for k, v in params.items()}
    want = {k: v.copy() for k, v in params.items()}
    reference.SGD(lr=0.1).update(want, grads)
    SGD(lr=0.1).update(params, grads)
    for k in params:
        np.testing.assert_array_equal(params[k], want[k])
    assert SGD().lr == 0.01


@pytest.mark.parametrize("layout", ["F", "strided", "reversed", "transposed", "broadcast_g"])
@pytest.mark.parametrize("pdt,gdt", [(F64, F64), (F32, F64), (F32, F32)])
def test_non_contiguous_arrays_update_in_place(layout, pdt, gdt):
    p, g = random_pair((12, 9), pdt, gdt, seed=5)
    if layout == "F":
        p, g = np.asfortranarray(p), g
    elif layout == "strided":
        big = np.zeros((24, 27), dtype=pdt)
        big[::2, ::3] = p
        p = big[::2, ::3]
        gb = np.zeros((12, 18), dtype=gdt)
        gb[:, ::2] = g
        g = gb[:, ::2]
    elif layout == "reversed":
        p, g = p[::-1, ::-1], g[:, ::-1]
    elif layout == "transposed":
        p, g = p.T.copy().T, np.asfortranarray(g)
    elif layout == "broadcast_g":
        g = np.broadcast_to(g[0], p.shape)
    want = p.copy()
    want -= 0.1 * g
    base_before = p.base.copy() if layout == "strided" else None
    SGD(0.1).update({"k": p}, {"k": g})
    np.testing.assert_array_equal(p, want)
    if base_before is not None:  # the gaps between the strided elements are untouched
        mask = np.ones(base_before.shape, bool)
        mask[::2, ::3] = False
        np.testing.assert_array_equal(p.base[mask], base_before[mask])


def test_gradient_that_is_the_parameter_or_overlaps_it():
    p = np.arange(10, dtype=F64) / 7
    want = p.copy()
    want -= 0.5 * want
    SGD(0.5).update({"a": p}, {"a": p})
    np.testing.assert_array_equal(p, want)
    q = np.arange(11, dtype=F64) / 3
    want = q.copy()
    want[1:] -= 0.5 * want[:-1]  # NumPy buffers overlapping operands
    SGD(0.5).update({"a": q[1:]}, {"a": q[:-1]})
    np.testing.assert_array_equal(q, want)


def test_integer_gradients_are_cast_as_numpy_does():
    p = np.linspace(0, 1, 6, dtype=F32)
    g = np.arange(6, dtype=np.int64)
    want = p.copy()
    want -= 0.1 * g
    SGD(0.1).update({"a": p}, {"a": g})
    np.testing.assert_array_equal(p, want)


def test_bad_arguments_raise_clear_errors():
    p = {"W": np.zeros(3), "b": np.zeros(2)}
    with pytest.raises(ValueError, match=r"missing in grads \['b'\]"):
        SGD().update(p, {"W": np.zeros(3)})
    with pytest.raises(ValueError, match=r"not in params \['c'\]"):
        SGD().update(p, {"W": np.zeros(3), "b": np.zeros(2), "c": np.zeros(1)})
    with pytest.raises(ValueError, match=r"grads\['W'\] has shape \(4,\)"):
        SGD().update(p, {"W": np.zeros(4), "b": np.zeros(2)})
    with pytest.raises(TypeError, match=r"params\['W'\] must be float32 or float64"):
        SGD().update({"W": np.zeros(3, dtype=int)}, {"W": np.zeros(3)})
    with pytest.raises(TypeError, match=r"params\['W'\] must be a NumPy array or a number"):
        SGD().update({"W": [0.0, 1.0]}, {"W": np.zeros(2)})
    ro = np.zeros(3)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        SGD().update({"W": ro}, {"W": np.zeros(3)})
    with pytest.raises(TypeError, match="lr must be a real number"):
        SGD(lr="0.1").update({"W": np.zeros(3)}, {"W": np.zeros(3)})
    with pytest.raises(TypeError, match="dicts"):
        SGD().update([np.zeros(3)], [np.zeros(3)])
    with pytest.raises(TypeError, match="only float32 and float64"):
        SGD().update({"W": np.zeros(3)}, {"W": np.zeros(3, dtype=np.float16)})
    # nothing was changed by the refused calls above
    assert not p["W"].any() and not p["b"].any()


def test_private_kernel_checks_its_arguments():
    from cnet import _optimizer
    with pytest.raises(ValueError, match="shapes differ"):
        _optimizer.sgd_update(np.zeros(3), np.zeros(4), 0.1, True)
    with pytest.raises(TypeError, match="p must be float32 or float64"):
        _optimizer.sgd_update(np.zeros(3, dtype=int), np.zeros(3), 0.1, True)
    with pytest.raises(TypeError, match="NumPy arrays"):
        _optimizer.sgd_update([0.0], np.zeros(1), 0.1, True)


# --- Momentum, Nesterov, AdaGrad, RMSprop, Adam -------------------------------------
# Each compiled pass rounds every step of the book's NumPy lines as NumPy does
# (no fused multiply-add, sqrt and division correctly rounded), and the NumPy
# fallback runs the book's lines themselves, so these comparisons are bit for
# bit too, over several steps; only mixed float32/float64 pairs (where the book
# turns float32 state into float64 and cnet keeps the parameter's dtype) are
# compared to float32 rounding.

from cnet import optimizer as O  # noqa: E402

NAMES = ["Momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam"]


def run_both(name, shapes, pdt, gdt, steps=5, kwargs=None, layout=None, seed=0):
    rng = np.random.default_rng(seed)
    kwargs = kwargs or {}
    params = {"k%d" % i: rng.normal(size=s).astype(pdt) for i, s in enumerate(shapes)}
    if layout is not None:
        params = {k: layout(v) for k, v in params.items()}
    want = {k: v.copy() for k, v in params.items()}
    ours, book = getattr(O, name)(**kwargs), getattr(reference, name)(**kwargs)
    originals = dict(params)
    for _ in range(steps):
        grads = {k: (rng.normal(size=v.shape) * 0.1).astype(gdt) for k, v in params.items()}
        ours.update(params, grads)
        book.update(want, grads)
    for k in params:
        assert params[k] is originals[k]  # in place
    return params, want, ours


def assert_bits(a, b):
    assert a.dtype == b.dtype
    np.testing.assert_array_equal(np.atleast_1d(a).view(np.uint8),
                                  np.atleast_1d(np.ascontiguousarray(b)).view(np.uint8)
                                  if a.flags.c_contiguous or a.ndim < 2 else
                                  np.atleast_1d(b).view(np.uint8))


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("name", NAMES)
def test_optimizers_bit_identical_to_the_book(name, dtype):
    shapes = [(), (1,), (7,), (784, 50), (3, 5, 2), (70001,)]
    params, want, opt = run_both(name, shapes, dtype, dtype)
    for k in params:
        np.testing.assert_array_equal(params[k], want[k])
        assert_bits(params[k], want[k])
    state = opt.v if name != "AdaGrad" and name != "RMSprop" else opt.h
    assert set(state) == set(params) and all(state[k].dtype == dtype for k in state)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("layout", ["F", "strided", "unaligned"])
def test_optimizers_on_other_layouts(name, layout):
    def relayout(a):
        if layout == "F":
            return np.asfortranarray(a)
        if layout == "strided":
            big = np.zeros((a.shape[0] * 2,) + a.shape[1:], a.dtype)
            big[::2] = a
            return big[::2]
        raw = np.zeros(a.nbytes + 1, np.uint8)[1:].view(a.dtype).reshape(a.shape)
        raw[...] = a
        return raw
    params, want, _ = run_both(name, [(12, 9), (5,)], F64, F64, layout=relayout)
    for k in params:
        np.testing.assert_array_equal(params[k], want[k])


@pytest.mark.parametrize("name", NAMES)
def test_optimizers_with_numpy_scalars_and_mixed_dtypes(name):
    """A NumPy float64 lr widens float32 arithmetic to float64 (NumPy 2): the book's
    in-place lines round as cnet's fallback does (bit for bit), but the book's
    Momentum rebinds v to a float64 array where cnet keeps v float32, so there
    the two agree to float32 rounding only."""
    kw = {"lr": np.float64(0.01)}
    params, want, _ = run_both(name, [(6, 4)], F32, F32, kwargs=kw)
    for k in params:
        if name == "Momentum":
            np.testing.assert_allclose(params[k], want[k], rtol=1e-6, atol=1e-7)
        else:
            np.testing.assert_array_equal(params[k], want[k])
    params, want, _ = run_both(name, [(6, 4)], F64, F64, kwargs={"lr": np.float32(0.01)})
    for k in params:
        np.testing.assert_array_equal(params[k], want[k])
    params, want, _ = run_both(name, [(6, 4)], F32, F64)
    for k in params:
        np.testing.assert_allclose(params[k], want[k], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", NAMES)
def test_optimizers_same_bits_for_one_and_two_threads(name, restore_threads):
    import cnet
    results = []
    for n in (1, 2):
        cnet.set_num_threads(n)
        params, _, _ = run_both(name, [(300, 400)], F64, F64, steps=2, seed=4)
        results.append(params["k0"])
    assert_bits(results[0], results[1])


def test_optimizer_defaults_and_lazy_state():
    assert (O.Momentum().lr, O.Momentum().momentum) == (0.01, 0.9)
    assert (O.Nesterov().lr, O.Nesterov().momentum) == (0.01, 0.9)
    assert O.AdaGrad().lr == 0.01
    assert (O.RMSprop().lr, O.RMSprop().decay_rate) == (0.01, 0.99)
    adam = O.Adam()
    assert (adam.lr, adam.beta1, adam.beta2, adam.iter, adam.m, adam.v) == (
        0.001, 0.9, 0.999, 0, None, None)
    adam.update({"W": np.ones(3)}, {"W": np.ones(3)})
    assert adam.iter == 1 and adam.m["W"].shape == (3,)
    ns = {}
    exec("from cnet.optimizer import *", ns)
    assert ns["np"] is np and all(n in ns for n in NAMES + ["SGD"])


@pytest.mark.parametrize("name", NAMES)
def test_optimizers_refuse_bad_arguments_before_changing_anything(name):
    p = {"W": np.ones(3), "b": np.ones(2)}
    opt = getattr(O, name)()
    with pytest.raises(ValueError, match=r"grads\['b'\] has shape \(3,\)"):
        opt.update(p, {"W": np.ones(3), "b": np.ones(3)})
    with pytest.raises(ValueError, match=r"missing in grads \['b'\]"):
        opt.update(p, {"W": np.ones(3)})
    opt.lr = "fast"
    with pytest.raises(TypeError, match="lr must be a real number"):
        opt.update(p, {"W": np.ones(3), "b": np.ones(2)})
    assert (p["W"] == 1).all() and (p["b"] == 1).all()


def test_sgd_on_unaligned_arrays():
    def unaligned(a):
        raw = np.zeros(a.nbytes + 1, np.uint8)[1:].view(a.dtype).reshape(a.shape)
        raw[...] = a
        return raw
    for pdt, gdt in [(F64, F64), (F32, F32), (F32, F64)]:
        p, g = random_pair((13, 5), pdt, gdt, seed=9)
        want = p.copy()
        want -= 0.1 * g
        pu, gu = unaligned(p), unaligned(g)
        assert not pu.flags.aligned and not gu.flags.aligned
        SGD(0.1).update({"k": pu}, {"k": gu})
        np.testing.assert_array_equal(pu, want)


@pytest.mark.parametrize("name", ["SGD"] + NAMES)
def test_all_keys_call_and_per_key_path_agree(name):
    """The one compiled call over all keys (usual case) and the per-key path
    (taken when a NumPy scalar hyperparameter or an F-ordered state forces it)
    give the same bits; the all-keys call declines, changing nothing, when any
    key is outside its case; Adam counts a refused update not at all."""
    from cnet import _optimizer
    rng = np.random.default_rng(3)
    start = {"W": rng.normal(size=(40, 30)), "b": rng.normal(size=30)}
    grads = {k: rng.normal(size=v.shape) for k, v in start.items()}
    fast, slow = {k: v.copy() for k, v in start.items()}, {k: v.copy() for k, v in start.items()}
    o_fast, o_slow = getattr(O, name)(), getattr(O, name)()
    o_slow.lr = np.float64(o_slow.lr)  # a NumPy scalar: the per-key path
    for _ in range(3):
        o_fast.update(fast, grads)
        o_slow.update(slow, grads)
    for k in start:
        assert_bits(fast[k], slow[k])
    before = {k: v.copy() for k, v in fast.items()}
    odd = dict(grads, b=grads["b"][::-1])  # reversed strides: not the usual case
    op = _optimizer.SGD_OP if name == "SGD" else o_fast._op
    states = (None, None) if name == "SGD" else o_fast._state_dicts()
    assert _optimizer.update_all(op, {k: v.copy() for k, v in fast.items()}, grads, *states,
                                 0.1, 0.1, 0.1, 1e-7, False)  # the usual case runs
    assert not _optimizer.update_all(op, fast, odd, *states, 0.1, 0.1, 0.1, 1e-7, False)
    assert not _optimizer.update_all(op, fast, {"W": grads["W"]}, *states, 0.1, 0.1, 0.1,
                                     1e-7, False)
    for k in fast:
        assert_bits(fast[k], before[k])
    if name == "Adam":
        with pytest.raises(ValueError, match="grads"):
            o_fast.update(fast, dict(grads, b=np.ones(3)))
        assert o_fast.iter == 3


@pytest.mark.parametrize("name", ["SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam"])
def test_number_parameters_follow_the_book(name):
    """ch06/optimizer_compare_naive.py optimizes a dict of two Python floats:
    the book's augmented assignments replace each entry by the new number.
    cnet runs the same lines on the same float64 numbers: bit for bit."""
    import cnet.optimizer as O

    def df(x, y):
        return x / 10.0, 2.0 * y

    ours, book = getattr(O, name)(), getattr(reference, name)()
    p_ours, p_book = {"x": -7.0, "y": 2.0}, {"x": -7.0, "y": 2.0}
    for _ in range(30):
        ours.update(p_ours, dict(zip("xy", df(p_ours["x"], p_ours["y"]))))
        book.update(p_book, dict(zip("xy", df(p_book["x"], p_book["y"]))))
    assert p_ours == p_book
    assert all(isinstance(v, float) for v in p_ours.values())
    with pytest.raises(ValueError, match=r"grads\['x'\] has shape \(2,\), params\['x'\] is a number"):
        getattr(O, name)().update({"x": 1.0}, {"x": np.zeros(2)})
    with pytest.raises(TypeError, match=r"params\['x'\] must be a NumPy array or a number"):
        getattr(O, name)().update({"x": "1.0"}, {"x": 0.5})
