"""load_mnist on the real MNIST (from $CNET_MNIST_MIRROR), the bundled sample, and
the real Fashion-MNIST (from $CNET_FASHION_MNIST_MIRROR or Debian's folder).

Tests that need the full files skip, with the reason shown by ``pytest -ra``,
when no local copy is configured; they never use the network.
"""
import gzip
import os
import shutil
import socket
import urllib.request

import numpy as np
import pytest

import cnet
from cnet.dataset import DatasetDownloadError
from cnet.dataset._fetch import Mirror, fetch_idx
from cnet.dataset._progress import Progress
from cnet.dataset.fashion_mnist import FASHION_MNIST, load_fashion_mnist
from cnet.dataset.mnist import MNIST, load_mnist

MNIST_MIRROR = os.environ.get("CNET_MNIST_MIRROR", "")
pytestmark = pytest.mark.usefixtures("loopback_only")

FASHION_MIRROR = (os.environ.get("CNET_FASHION_MNIST_MIRROR", "")
                  or "/usr/share/datasets/fashion-mnist")
SAMPLE_PATH = os.path.join(os.path.dirname(cnet.__file__), "dataset", "data",
                           "mnist_sample.npz")


def _is_local_copy(location, spec):
    if not location:
        return False
    m = Mirror(location)
    return m.kind == "folder" and all(
        os.path.exists(os.path.join(m.base, e.filename)) for e in spec.files.values())


needs_mnist = pytest.mark.skipif(
    not _is_local_copy(MNIST_MIRROR, MNIST),
    reason="the full MNIST is not on this machine: set CNET_MNIST_MIRROR to a folder "
           "holding its four .gz files to run this test")
needs_fashion = pytest.mark.skipif(
    not _is_local_copy(FASHION_MIRROR, FASHION_MNIST),
    reason="Fashion-MNIST is not on this machine: apt-get install dataset-fashion-mnist, "
           "or set CNET_FASHION_MNIST_MIRROR to a folder holding its four .gz files")


def book_form(x, t, normalize, flatten, one_hot_label):
    """The book's conversions of uint8 (N, 784) images and uint8 labels."""
    if normalize:
        x = x.astype(np.float32)
        x /= 255.0
    if one_hot_label:
        T = np.zeros((t.size, 10))
        for idx, row in enumerate(T):
            row[t[idx]] = 1
        t = T
    if not flatten:
        x = x.reshape(-1, 1, 28, 28)
    return x, t


def check_book_combinations(loader, raw, **kwargs):
    """Every (normalize, flatten, one_hot_label) equals the book's conversion of raw."""
    (x_raw, t_raw), (xt_raw, tt_raw) = raw
    for normalize in (True, False):
        for flatten in (True, False):
            for one_hot_label in (True, False):
                got = loader(normalize, flatten, one_hot_label, **kwargs)
                want = (book_form(x_raw, t_raw, normalize, flatten, one_hot_label),
                        book_form(xt_raw, tt_raw, normalize, flatten, one_hot_label))
                for g_pair, w_pair in zip(got, want):
                    for g, w in zip(g_pair, w_pair):
                        assert g.dtype == w.dtype and g.shape == w.shape
                        np.testing.assert_array_equal(g, w)


@pytest.fixture(scope="module")
def mnist_cache(tmp_path_factory):
    return str(tmp_path_factory.mktemp("mnist-cache"))


@pytest.fixture(scope="module")
def mnist_raw(mnist_cache):
    return load_mnist(normalize=False, data_home=mnist_cache, mirror=MNIST_MIRROR,
                      verbose=False)


@pytest.fixture
def offline(monkeypatch):
    """Any attempt to open a network connection fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(urllib.request, "urlopen", refuse)


# ---------------------------------------------------------------- real MNIST

@needs_mnist
def test_real_mnist_shapes_dtypes_and_first_labels(mnist_raw):
    (x, t), (xt, tt) = mnist_raw
    assert x.shape == (60000, 784) and x.dtype == np.uint8
    assert t.shape == (60000,) and t.dtype == np.uint8
    assert xt.shape == (10000, 784) and xt.dtype == np.uint8
    assert tt.shape == (10000,) and tt.dtype == np.uint8
    assert t[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert tt[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert np.bincount(t).tolist() == [5923, 6742, 5958, 6131, 5842,
                                       5421, 5918, 6265, 5851, 5949]
    assert int(x.max()) == 255 and int(x.min()) == 0


@needs_mnist
def test_real_mnist_equals_the_book_on_all_arguments(mnist_raw, mnist_cache):
    check_book_combinations(load_mnist, mnist_raw, data_home=mnist_cache,
                            mirror=MNIST_MIRROR, verbose=False)


@needs_mnist
def test_real_mnist_cached_load_uses_no_source(mnist_raw, mnist_cache, offline):
    (x, t), _ = load_mnist(normalize=False, data_home=mnist_cache, download=False,
                           verbose=False)
    np.testing.assert_array_equal(x, mnist_raw[0][0])


@needs_mnist
def test_real_mnist_from_the_env_mirror(mnist_raw, tmp_path, monkeypatch):
    monkeypatch.setenv("CNET_DATA_HOME", str(tmp_path))
    (x, t), (xt, tt) = cnet.load_mnist(normalize=False, verbose=False)
    np.testing.assert_array_equal(tt, mnist_raw[1][1])
    assert os.path.exists(tmp_path / "mnist.npz")


@needs_mnist
def test_tampered_real_file_is_refused(tmp_path):
    # One label changed in an otherwise perfect copy of the mirror.
    src = Mirror(MNIST_MIRROR).base
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    for e in MNIST.files.values():
        if e.filename != "t10k-labels-idx1-ubyte.gz":
            os.symlink(os.path.join(src, e.filename), mirror / e.filename)
    with gzip.open(os.path.join(src, "t10k-labels-idx1-ubyte.gz")) as f:
        labels = bytearray(f.read())
    labels[8] = (labels[8] + 1) % 10
    (mirror / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(bytes(labels)))
    cache = tmp_path / "cache"
    with pytest.raises(DatasetDownloadError) as info:
        load_mnist(data_home=cache, mirror=str(mirror), verbose=False)
    message = str(info.value)
    assert "checksum" in message
    assert "t10k-labels-idx1-ubyte.gz" in message and str(mirror) in message
    assert not (cache / "mnist.npz").exists()


# ---------------------------------------------------------------- bundled sample

def test_sample_offline_with_the_book_arguments(tmp_path, monkeypatch, offline):
    monkeypatch.setenv("CNET_DATA_HOME", str(tmp_path))
    monkeypatch.setenv("CNET_MNIST_MIRROR", str(tmp_path / "absent"))
    raw = load_mnist(normalize=False, sample=True)
    (x, t), (xt, tt) = raw
    assert x.dtype == np.uint8 and x.shape[1:] == (784,) and x.shape[0] >= 5000
    assert xt.dtype == np.uint8 and xt.shape[1:] == (784,) and xt.shape[0] >= 1000
    assert t.shape == x.shape[:1] and tt.shape == xt.shape[:1]
    assert set(t.tolist()) == set(range(10)) and set(tt.tolist()) == set(range(10))
    check_book_combinations(load_mnist, raw, sample=True)
    assert os.listdir(tmp_path) == []  # no cache written, no source used


def test_sample_is_stratified_and_small():
    assert os.path.getsize(SAMPLE_PATH) <= 2_000_000
    with np.load(SAMPLE_PATH, allow_pickle=False) as npz:
        for split, full_size in (("train", 60000), ("test", 10000)):
            t = npz["t_" + split]
            index = npz[split + "_index"]
            assert index.shape == t.shape
            assert np.all(np.diff(index) > 0) and index[0] >= 0 and index[-1] < full_size
            # Every digit within one image of its share of the full split, the
            # shares of MNIST's digits being between 8.9% and 11.3%.
            counts = np.bincount(t, minlength=10)
            assert counts.min() >= 0.085 * t.size and counts.max() <= 0.12 * t.size


@needs_mnist
def test_sample_is_real_mnist_and_rebuilds_identically(mnist_raw, tmp_path):
    (x, t), (xt, tt) = mnist_raw
    with np.load(SAMPLE_PATH, allow_pickle=False) as npz:
        sample = {k: npz[k] for k in npz.files}
    np.testing.assert_array_equal(sample["x_train"].reshape(-1, 784), x[sample["train_index"]])
    np.testing.assert_array_equal(sample["t_train"], t[sample["train_index"]])
    np.testing.assert_array_equal(sample["x_test"].reshape(-1, 784), xt[sample["test_index"]])
    np.testing.assert_array_equal(sample["t_test"], tt[sample["test_index"]])
    # The committed script, run on the full files, rebuilds the shipped arrays,
    # and byte-identical files run after run.
    tool = _load_tool()
    outs = [tmp_path / "a.npz", tmp_path / "b.npz"]
    for out in outs:
        assert tool.main([MNIST_MIRROR, "--out", str(out)]) == 0
    assert outs[0].read_bytes() == outs[1].read_bytes()
    with np.load(outs[0], allow_pickle=False) as npz:
        assert sorted(npz.files) == sorted(sample)
        for key, array in sample.items():
            np.testing.assert_array_equal(npz[key], array)
            assert npz[key].dtype == array.dtype


def _load_tool():
    import importlib.util
    script = os.path.join(os.path.dirname(__file__), os.pardir, "tools",
                          "make_mnist_sample.py")
    if not os.path.exists(script):
        pytest.skip("tools/make_mnist_sample.py is not beside the tests")
    spec = importlib.util.spec_from_file_location("make_mnist_sample", script)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


def test_stratified_indices_keep_every_share():
    tool = _load_tool()
    labels = np.repeat(np.arange(10), [5, 10, 15, 20, 25, 30, 35, 40, 45, 75]).astype(np.uint8)
    np.random.default_rng(1).shuffle(labels)
    index = tool.stratified_indices(labels, 60)
    assert index.size == 60 and np.all(np.diff(index) > 0)
    counts = np.bincount(labels[index], minlength=10)
    exact = np.bincount(labels, minlength=10) * 60 / labels.size
    assert np.all(np.abs(counts - exact) < 1)


# ---------------------------------------------------------------- Fashion-MNIST

@needs_fashion
def test_real_fashion_mnist(tmp_path):
    raw = load_fashion_mnist(normalize=False, data_home=tmp_path, mirror=FASHION_MIRROR,
                             verbose=False)
    (x, t), (xt, tt) = raw
    assert x.shape == (60000, 784) and x.dtype == np.uint8
    assert xt.shape == (10000, 784) and tt.dtype == np.uint8
    assert t[:10].tolist() == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]
    assert tt[:10].tolist() == [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]
    assert np.bincount(t).tolist() == [6000] * 10
    check_book_combinations(load_fashion_mnist, raw, data_home=tmp_path, download=False,
                            verbose=False)


@needs_fashion
def test_fashion_checksums_differ_from_mnist_and_refuse_mnist_files(tmp_path):
    # The MNIST files are well-formed IDX of the same shapes: only the
    # checksums tell them apart.
    if not _is_local_copy(MNIST_MIRROR, MNIST):
        pytest.skip("the full MNIST is not on this machine (CNET_MNIST_MIRROR)")
    with pytest.raises(DatasetDownloadError, match="checksum mismatch"):
        load_fashion_mnist(data_home=tmp_path, mirror=MNIST_MIRROR, verbose=False)
    entry = FASHION_MNIST.files["t_test"]
    array = fetch_idx(Mirror(FASHION_MIRROR), entry, Progress(False))
    assert array.shape == (10000,)


def test_real_checksums_are_well_formed():
    for spec in (MNIST, FASHION_MNIST):
        for entry in spec.files.values():
            assert len(entry.sha256) == 64 and int(entry.sha256, 16) >= 0
    assert {e.sha256 for e in MNIST.files.values()}.isdisjoint(
        {e.sha256 for e in FASHION_MNIST.files.values()})


@needs_mnist
def test_real_mnist_folder_without_gz_suffix(tmp_path):
    # A folder where the files were already decompressed works the same.
    src = Mirror(MNIST_MIRROR).base
    for e in MNIST.files.values():
        if e.filename.startswith("t10k"):
            with gzip.open(os.path.join(src, e.filename)) as f, \
                    open(tmp_path / e.filename[:-3], "wb") as g:
                shutil.copyfileobj(f, g)
        else:
            os.symlink(os.path.join(src, e.filename), tmp_path / e.filename)
    (_, _), (xt, tt) = load_mnist(normalize=False, data_home=tmp_path / "c",
                                  mirror=str(tmp_path), verbose=False)
    assert tt[:3].tolist() == [7, 2, 1]
