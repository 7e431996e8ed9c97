"""Parameter files: the book's pickle format read without running code, .npz."""
import os
import pickle

import numpy as np
import pytest

from cnet.params_io import RestrictedUnpickleError, load_params, save_params


def _params():
    rng = np.random.default_rng(0)
    return {"W1": rng.standard_normal((3, 1, 2, 2)), "b1": np.zeros(3),
            "W2": rng.standard_normal((4, 5)).astype(np.float32)}


def test_reads_the_books_save_params_format(tmp_path):
    """The book's save_params: pickle.dump of a plain dict of arrays."""
    path = tmp_path / "params.pkl"
    with open(path, "wb") as f:
        pickle.dump(_params(), f)
    got = load_params(path)
    for key, val in _params().items():
        assert got[key].dtype == val.dtype
        np.testing.assert_array_equal(got[key], val)


def test_reads_numpy_1_pickles(tmp_path):
    """The book's shipped files were written by NumPy 1.x, naming
    numpy.core.multiarray (protocol 3 writes module names as text lines)."""
    data = pickle.dumps(_params(), protocol=3)
    if b"numpy._core" in data:
        data = data.replace(b"numpy._core.multiarray\n", b"numpy.core.multiarray\n")
    path = tmp_path / "old.pkl"
    path.write_bytes(data)
    np.testing.assert_array_equal(load_params(path)["W1"], _params()["W1"])


def test_refuses_a_pickle_that_would_run_code(tmp_path):
    class Exploit:
        def __reduce__(self):
            return (os.system, ("echo pwned > %s" % (tmp_path / "pwned"),))

    path = tmp_path / "evil.pkl"
    with open(path, "wb") as f:
        pickle.dump({"W1": Exploit()}, f)
    with pytest.raises(RestrictedUnpickleError, match="refusing to load .*system"):
        load_params(path)
    assert not (tmp_path / "pwned").exists()


def test_refuses_object_arrays_and_non_dicts(tmp_path):
    path = tmp_path / "obj.pkl"
    with open(path, "wb") as f:
        pickle.dump({"W1": np.array([1, "a"], dtype=object)}, f)
    with pytest.raises(RestrictedUnpickleError, match="object array"):
        load_params(path)
    with open(path, "wb") as f:
        pickle.dump([np.zeros(2)], f)
    with pytest.raises(RestrictedUnpickleError, match="not a dict"):
        load_params(path)


@pytest.mark.parametrize("name", ["params.pkl", "params.npz"])
def test_save_then_load(tmp_path, name):
    save_params(_params(), tmp_path / name)
    got = load_params(tmp_path / name)
    for key, val in _params().items():
        np.testing.assert_array_equal(got[key], val)
    if name.endswith(".pkl"):  # the book's pickle.load reads it too
        with open(tmp_path / name, "rb") as f:
            assert set(pickle.load(f)) == set(_params())
