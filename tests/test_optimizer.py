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
    with pytest.raises(TypeError, match=r"params\['W'\] must be a NumPy array"):
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
