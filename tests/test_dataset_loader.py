"""The data set loader on synthetic IDX files: sources, checks, cache, progress.

Every test builds its own small MNIST-shaped IDX files (28 x 28 uint8 images,
labels 0..9) and a data set spec carrying their SHA-256, so the real parsing and
checking path runs without the real data. Network traffic goes only to an HTTP
server on 127.0.0.1 started here; every load names its mirrors explicitly.
"""
import copy
import gc
import dataclasses
import gzip
import hashlib
import http.server
import io
import json
import os
import socket
import struct
import subprocess
import sys
import textwrap
import threading
import time
import warnings
import zipfile

import numpy as np
import pytest

import cnet
import cnet.dataset.fashion_mnist as fashion_module
import cnet.dataset.mnist as mnist_module
from cnet.dataset import DatasetDownloadError, DatasetNotCachedError
from cnet.dataset._cache import (CacheError, cache_home, cache_path, default_cache_home,
                                 read_cache, write_cache)
from cnet.dataset._fetch import Mirror
from cnet.dataset._loader import load_dataset, resolve_mirrors
from cnet.dataset._progress import Progress, format_size, resolve_verbose
from cnet.dataset._spec import KEYS, DatasetSpec, IdxFile

FILENAMES = {
    "x_train": "train-images-idx3-ubyte.gz",
    "t_train": "train-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
    "t_test": "t10k-labels-idx1-ubyte.gz",
}
N_TRAIN, N_TEST = 120, 30

pytestmark = pytest.mark.usefixtures("loopback_only")


# ---------------------------------------------------------------- helpers

def idx_file(array):
    header = bytes((0, 0, 0x08, array.ndim)) + struct.pack(">%dI" % array.ndim, *array.shape)
    return header + array.tobytes()


def make_arrays(seed=0):
    rng = np.random.default_rng(seed)
    arrays = {
        "x_train": rng.integers(0, 256, size=(N_TRAIN, 28, 28), dtype=np.uint8),
        "t_train": (np.arange(N_TRAIN) % 10).astype(np.uint8),
        "x_test": rng.integers(0, 256, size=(N_TEST, 28, 28), dtype=np.uint8),
        "t_test": rng.permutation(np.arange(N_TEST) % 10).astype(np.uint8),
    }
    rng.shuffle(arrays["t_train"])
    return arrays


class Synthetic:
    """Synthetic IDX files: raw bytes, gzip bytes, and the spec that checks them."""

    def __init__(self, seed=0, name="synthetic", **spec_fields):
        self.arrays = make_arrays(seed)
        self.raw = {k: idx_file(a) for k, a in self.arrays.items()}
        self.gz = {k: gzip.compress(r, mtime=0) for k, r in self.raw.items()}
        files = {k: IdxFile(FILENAMES[k], self.arrays[k].shape,
                            hashlib.sha256(self.raw[k]).hexdigest()) for k in KEYS}
        fields = dict(name=name, title="Synthetic", files=files,
                      mirror_env="CNET_TEST_SYNTHETIC_MIRROR", sample=None,
                      function="load_synthetic")
        fields.update(spec_fields)
        self.spec = DatasetSpec(**fields)

    def write_folder(self, folder, gz=True, skip=(), replace=None):
        os.makedirs(folder, exist_ok=True)
        for key in KEYS:
            if key in skip:
                continue
            data = (replace or {}).get(key, self.gz[key] if gz else self.raw[key])
            name = FILENAMES[key] if gz else FILENAMES[key][:-3]
            with open(os.path.join(folder, name), "wb") as f:
                f.write(data)
        return str(folder)


def book_form(arrays, normalize, flatten, one_hot_label):
    """The book's dataset/mnist.py conversions, written the book's way."""
    out = {}
    for key in ("x_train", "x_test"):
        x = arrays[key].reshape(arrays[key].shape[0], 784)
        if normalize:
            x = x.astype(np.float32)
            x /= 255.0
        if not flatten:
            x = x.reshape(-1, 1, 28, 28)
        out[key] = x
    for key in ("t_train", "t_test"):
        t = arrays[key]
        if one_hot_label:
            T = np.zeros((t.size, 10))
            for idx, row in enumerate(T):
                row[t[idx]] = 1
            t = T
        out[key] = t
    return (out["x_train"], out["t_train"]), (out["x_test"], out["t_test"])


def assert_same(got, want):
    for g_pair, w_pair in zip(got, want):
        for g, w in zip(g_pair, w_pair):
            assert g.dtype == w.dtype and g.shape == w.shape
            np.testing.assert_array_equal(g, w)


def tmp_files(folder):
    return [n for n in os.listdir(folder) if n.endswith(".tmp")] if os.path.isdir(folder) else []


@pytest.fixture
def synthetic():
    return Synthetic()


@pytest.fixture(autouse=True)
def no_env_sources(monkeypatch):
    """Loads here see only the sources each test names."""
    for var in ("CNET_TEST_SYNTHETIC_MIRROR", "CNET_MNIST_MIRROR",
                "CNET_FASHION_MNIST_MIRROR", "CNET_DATA_HOME", "CNET_QUIET"):
        monkeypatch.delenv(var, raising=False)


class _Handler(http.server.BaseHTTPRequestHandler):
    routes = {}

    def do_GET(self):
        route = self.routes.get(self.path)
        if route is None:
            self.send_error(404, "Not Found")
            return
        body, declared = route
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(declared))
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def log_message(self, *args):
        pass


@pytest.fixture
def http_server(synthetic):
    """An HTTP server on 127.0.0.1 serving the synthetic files under several paths.

    /good/      the four files as they should be
    /corrupt/   the test labels with one label changed (valid gzip and IDX)
    /truncated/ the training images' gzip cut in half (Content-Length agrees)
    /short/     the training images announced whole but cut off mid-transfer
    /missing/   no training labels (404)
    """
    routes = {}
    corrupt_raw = bytearray(synthetic.raw["t_test"])
    corrupt_raw[-1] = (corrupt_raw[-1] + 1) % 10
    corrupt_gz = gzip.compress(bytes(corrupt_raw), mtime=0)
    for key in KEYS:
        name = FILENAMES[key]
        gz = synthetic.gz[key]
        routes["/good/" + name] = (gz, len(gz))
        routes["/corrupt/" + name] = ((corrupt_gz, len(corrupt_gz)) if key == "t_test"
                                      else (gz, len(gz)))
        half = gz[:len(gz) // 2]
        routes["/truncated/" + name] = (half, len(half)) if key == "x_train" else (gz, len(gz))
        routes["/short/" + name] = (half, len(gz)) if key == "x_train" else (gz, len(gz))
        if key != "t_train":
            routes["/missing/" + name] = (gz, len(gz))
    handler = type("Handler", (_Handler,), {"routes": routes})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d" % server.server_address[1]
    server.shutdown()
    server.server_close()


def closed_port_url():
    """An http URL on 127.0.0.1 where nothing listens (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return "http://127.0.0.1:%d/mnist/" % port


# ---------------------------------------------------------------- sources

@pytest.mark.parametrize("kind", ["folder", "file_url", "plain_folder", "http"])
def test_load_from_each_kind_of_mirror(kind, synthetic, tmp_path, http_server):
    if kind == "folder":
        mirror = synthetic.write_folder(tmp_path / "m")
    elif kind == "file_url":
        mirror = (tmp_path / "m").as_uri()
        synthetic.write_folder(tmp_path / "m")
    elif kind == "plain_folder":  # files already decompressed
        mirror = synthetic.write_folder(tmp_path / "m", gz=False)
    else:
        mirror = http_server + "/good/"
    got = load_dataset(synthetic.spec, data_home=tmp_path / "cache", mirror=mirror,
                       verbose=False)
    assert_same(got, book_form(synthetic.arrays, True, True, False))
    assert os.path.exists(tmp_path / "cache" / "synthetic.npz")


def test_http_mirror_without_trailing_slash(synthetic, tmp_path, http_server):
    got = load_dataset(synthetic.spec, normalize=False, data_home=tmp_path,
                       mirror=http_server + "/good", verbose=False)
    assert_same(got, book_form(synthetic.arrays, False, True, False))


@pytest.mark.parametrize("normalize", [True, False])
@pytest.mark.parametrize("flatten", [True, False])
@pytest.mark.parametrize("one_hot_label", [True, False])
def test_every_argument_combination_matches_the_book(normalize, flatten, one_hot_label,
                                                     synthetic, tmp_path):
    mirror = synthetic.write_folder(tmp_path / "m")
    want = book_form(synthetic.arrays, normalize, flatten, one_hot_label)
    for _ in range(2):  # from the mirror, then from the cache
        got = load_dataset(synthetic.spec, normalize, flatten, one_hot_label,
                           data_home=tmp_path / "c", mirror=mirror, verbose=False)
        assert_same(got, want)
        for pair in got:
            for a in pair:
                assert a.flags.writeable and a.flags.c_contiguous


def test_returned_arrays_are_independent_of_the_cache(synthetic, tmp_path):
    mirror = synthetic.write_folder(tmp_path / "m")
    (x, t), _ = load_dataset(synthetic.spec, False, data_home=tmp_path, mirror=mirror,
                             verbose=False)
    x[:] = 0
    t[:] = 0
    (x2, t2), _ = load_dataset(synthetic.spec, False, data_home=tmp_path, mirror=mirror,
                               verbose=False)
    np.testing.assert_array_equal(x2.reshape(-1, 28, 28), synthetic.arrays["x_train"])


def test_env_mirror_is_used_and_argument_wins(synthetic, tmp_path, monkeypatch):
    good = synthetic.write_folder(tmp_path / "good")
    monkeypatch.setenv("CNET_TEST_SYNTHETIC_MIRROR", good)
    assert [m.location for m in resolve_mirrors(synthetic.spec)] == [good]
    load_dataset(synthetic.spec, data_home=tmp_path / "c1", verbose=False)
    with pytest.raises(DatasetDownloadError, match="no such folder"):
        load_dataset(synthetic.spec, data_home=tmp_path / "c2",
                     mirror=str(tmp_path / "absent"), verbose=False)


def test_default_sources_local_folders_then_public(synthetic, tmp_path, http_server):
    present = synthetic.write_folder(tmp_path / "system")
    spec = Synthetic(public_mirrors=(http_server + "/good/", "https://example.invalid/"),
                     local_folders=(str(tmp_path / "nowhere"), present)).spec
    assert [m.location for m in resolve_mirrors(spec)] == [
        present, http_server + "/good/", "https://example.invalid/"]


def test_public_mirrors_tried_in_turn(synthetic, tmp_path, http_server, capsys):
    # The first default mirror lacks a file, the second has it: the load succeeds,
    # and the failure is reported.
    spec = Synthetic(public_mirrors=(http_server + "/missing/", http_server + "/good/")).spec
    got = load_dataset(spec, data_home=tmp_path, verbose=True)
    assert_same(got, book_form(synthetic.arrays, True, True, False))
    err = capsys.readouterr().err
    assert "train-labels-idx1-ubyte.gz from %s/missing/ failed: HTTP error 404" % http_server in err


def test_mirror_argument_accepts_a_list(synthetic, tmp_path):
    good = synthetic.write_folder(tmp_path / "good")
    got = load_dataset(synthetic.spec, data_home=tmp_path / "c",
                       mirror=[str(tmp_path / "absent"), tmp_path / "good"], verbose=False)
    assert_same(got, book_form(synthetic.arrays, True, True, False))
    assert good


@pytest.mark.parametrize("bad", [123, [], [1], {"a": 1}])
def test_mirror_argument_type_is_checked(bad, synthetic, tmp_path):
    with pytest.raises(TypeError, match="mirror must be"):
        load_dataset(synthetic.spec, data_home=tmp_path, mirror=bad, verbose=False)


def test_mirror_kinds_are_parsed():
    assert Mirror("https://h.example/mnist").where("a.gz") == "https://h.example/mnist/a.gz"
    assert Mirror("file:///srv/mnist").kind == "folder"
    assert Mirror("file:///srv/mnist").where("a.gz") == os.path.join(
        os.path.abspath(os.sep + os.path.join("srv", "mnist")), "a.gz")
    assert Mirror("~/data").base == os.path.expanduser("~/data")
    with pytest.raises(ValueError, match="only http"):
        Mirror("ftp://h.example/mnist/")
    with pytest.raises(ValueError, match="non-empty"):
        Mirror("  ")


# ---------------------------------------------------------------- integrity

def test_corrupted_file_is_refused_and_not_cached(synthetic, tmp_path, http_server):
    cache = tmp_path / "cache"
    source = http_server + "/corrupt/"
    with pytest.raises(DatasetDownloadError) as info:
        load_dataset(synthetic.spec, data_home=cache, mirror=source, verbose=False)
    message = str(info.value)
    assert "checksum" in message
    assert "t10k-labels-idx1-ubyte.gz" in message
    assert source in message
    assert not os.path.exists(cache / "synthetic.npz")
    assert tmp_files(cache) == []


def test_tampered_file_in_folder_is_refused(synthetic, tmp_path):
    tampered = bytearray(synthetic.raw["x_train"])
    tampered[1000] ^= 0x01
    folder = synthetic.write_folder(tmp_path / "m",
                                    replace={"x_train": gzip.compress(bytes(tampered))})
    with pytest.raises(DatasetDownloadError,
                       match=r"checksum mismatch for train-images-idx3-ubyte.gz from "):
        load_dataset(synthetic.spec, data_home=tmp_path / "c", mirror=folder, verbose=False)
    assert not os.path.exists(tmp_path / "c" / "synthetic.npz")


@pytest.mark.parametrize("route, reason", [
    ("/truncated/", "bad gzip data"),
    ("/short/", "transfer"),
    ("/missing/", "HTTP error 404"),
])
def test_broken_transfers_are_refused(route, reason, synthetic, tmp_path, http_server):
    with pytest.raises(DatasetDownloadError, match=reason):
        load_dataset(synthetic.spec, data_home=tmp_path, mirror=http_server + route,
                     verbose=False)
    assert not os.path.exists(tmp_path / "synthetic.npz")
    assert tmp_files(tmp_path) == []


def test_gzip_of_truncated_idx_is_refused(synthetic, tmp_path):
    short = gzip.compress(synthetic.raw["x_test"][:-784])
    folder = synthetic.write_folder(tmp_path / "m", replace={"x_test": short})
    with pytest.raises(DatasetDownloadError, match="malformed IDX file: IDX data is truncated"):
        load_dataset(synthetic.spec, data_home=tmp_path / "c", mirror=folder, verbose=False)


def test_wrong_shape_is_refused(synthetic, tmp_path):
    other = idx_file(np.zeros((N_TEST, 28, 27), np.uint8))
    folder = synthetic.write_folder(tmp_path / "m", replace={"x_test": gzip.compress(other)})
    with pytest.raises(DatasetDownloadError, match=r"declares shape \(30, 28, 27\)"):
        load_dataset(synthetic.spec, data_home=tmp_path / "c", mirror=folder, verbose=False)


def test_oversized_download_is_refused(synthetic, tmp_path):
    # A decompression bomb: far more data than the spec's shape allows.
    bomb = gzip.compress(synthetic.raw["t_test"] + bytes(10_000_000))
    folder = synthetic.write_folder(tmp_path / "m", replace={"t_test": bomb})
    with pytest.raises(DatasetDownloadError, match="decompresses to more than the 38 bytes expected"):
        load_dataset(synthetic.spec, data_home=tmp_path / "c", mirror=folder, verbose=False)


# ---------------------------------------------------------------- offline

def test_offline_error_lists_every_mirror_and_the_ways_out(tmp_path, monkeypatch):
    # load_mnist itself, with nothing cached and every source unreachable.
    refused = closed_port_url()
    absent = str(tmp_path / "no-such-folder")
    with pytest.raises(DatasetDownloadError) as info:
        cnet.load_mnist(data_home=tmp_path / "c", mirror=[refused, absent], verbose=False)
    message = str(info.value)
    assert "could not get MNIST" in message
    assert refused in message and "cannot reach it" in message
    assert absent in message and "no such folder" in message
    assert "CNET_MNIST_MIRROR=" in message and "sample=True" in message
    # Each unreachable mirror is tried once, not once per file.
    assert message.count("cannot reach it") == 1
    assert [a[0] for a in info.value.attempts] == [refused, absent]
    # Reconstructible from its reduce tuple (as pickling in a worker process needs).
    clone = copy.deepcopy(info.value)
    assert str(clone) == message and clone.attempts == info.value.attempts


def test_no_mirror_at_all(synthetic, tmp_path):
    spec = Synthetic(public_mirrors=()).spec
    with pytest.raises(DatasetDownloadError, match="no mirror to fetch it from"):
        load_dataset(spec, data_home=tmp_path, verbose=False)


def test_download_false(synthetic, tmp_path):
    with pytest.raises(DatasetNotCachedError, match=r"download=False") as info:
        load_dataset(synthetic.spec, data_home=tmp_path, download=False,
                     mirror=synthetic.write_folder(tmp_path / "m"), verbose=False)
    assert "is not there" in str(info.value)
    assert isinstance(info.value, FileNotFoundError)
    load_dataset(synthetic.spec, data_home=tmp_path, mirror=tmp_path / "m", verbose=False)
    got = load_dataset(synthetic.spec, data_home=tmp_path, download=False,
                       mirror=tmp_path / "absent", verbose=False)
    assert_same(got, book_form(synthetic.arrays, True, True, False))


# ---------------------------------------------------------------- cache

def test_cache_location_order(tmp_path, monkeypatch):
    monkeypatch.setenv("CNET_DATA_HOME", str(tmp_path / "env"))
    assert cache_home(tmp_path / "arg") == str(tmp_path / "arg")
    assert cache_home() == str(tmp_path / "env")
    monkeypatch.delenv("CNET_DATA_HOME")
    assert cache_home() == default_cache_home()
    assert cache_path(Synthetic().spec, tmp_path) == str(tmp_path / "synthetic.npz")


def test_platform_cache_folder(monkeypatch, tmp_path):
    # The folder is platformdirs' user cache folder for "cnet" (on Linux
    # $XDG_CACHE_HOME/cnet, else ~/.cache/cnet).
    import platformdirs
    assert default_cache_home() == platformdirs.user_cache_dir("cnet", appauthor=False)
    if sys.platform.startswith("linux"):
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
        assert default_cache_home() == str(tmp_path / "xdg" / "cnet")
        monkeypatch.delenv("XDG_CACHE_HOME")
        monkeypatch.setenv("HOME", str(tmp_path))
        assert default_cache_home() == str(tmp_path / ".cache" / "cnet")


def test_cached_load_needs_no_mirror(synthetic, tmp_path):
    load_dataset(synthetic.spec, data_home=tmp_path,
                 mirror=synthetic.write_folder(tmp_path / "m"), verbose=False)
    got = load_dataset(synthetic.spec, data_home=tmp_path, mirror=tmp_path / "absent",
                       verbose=False)
    assert_same(got, book_form(synthetic.arrays, True, True, False))
    with np.load(tmp_path / "synthetic.npz", allow_pickle=False) as npz:
        assert sorted(npz.files) == sorted(KEYS + ("sha256",))
        assert all(npz[k].dtype == np.uint8 for k in KEYS)
        assert list(npz["sha256"]) == [synthetic.spec.files[k].sha256 for k in KEYS]


def _flip_byte(path, where):
    with open(path, "r+b") as f:
        f.seek(where)
        b = f.read(1)
        f.seek(where)
        f.write(bytes([b[0] ^ 0xFF]))


@pytest.mark.parametrize("damage", ["flip_pixel", "truncate", "garbage", "wrong_arrays",
                                    "missing_array", "pickled_object"])
def test_damaged_cache_is_detected_and_rebuilt(damage, synthetic, tmp_path, capsys):
    mirror = synthetic.write_folder(tmp_path / "m")
    cache = tmp_path / "c"
    load_dataset(synthetic.spec, data_home=cache, mirror=mirror, verbose=False)
    path = str(cache / "synthetic.npz")
    size = os.path.getsize(path)
    if damage == "flip_pixel":
        # Inside x_train's data: a valid zip and .npy, one pixel changed.
        _flip_byte(path, size // 3)
    elif damage == "truncate":
        os.truncate(path, size // 2)
    elif damage == "garbage":
        with open(path, "wb") as f:
            f.write(b"not a zip file")
    elif damage == "wrong_arrays":
        arrays = dict(synthetic.arrays)
        arrays["x_test"] = arrays["x_test"][:-1]
        np.savez(path, **arrays)
    elif damage == "missing_array":
        np.savez(path, x_train=synthetic.arrays["x_train"])
    else:
        arrays = dict(synthetic.arrays)
        arrays["t_test"] = np.array([{"evil": 1}], dtype=object)
        np.savez(path, **arrays)
    with pytest.raises(CacheError):
        read_cache(path, synthetic.spec)
    with pytest.raises(DatasetNotCachedError, match="is damaged"):
        load_dataset(synthetic.spec, data_home=cache, download=False, verbose=False)
    got = load_dataset(synthetic.spec, data_home=cache, mirror=mirror, verbose=True)
    assert_same(got, book_form(synthetic.arrays, True, True, False))
    assert "is damaged" in capsys.readouterr().err
    read_cache(path, synthetic.spec)  # rebuilt and valid


def _npz_with_absurd_header(path, synthetic):
    # Every member as cnet writes it, except that x_train's .npy header
    # declares 2**40 images (about 860 TB) over a few bytes of data.
    digests = np.array([synthetic.spec.files[k].sha256 for k in KEYS])
    with zipfile.ZipFile(path, "w") as zf:
        with zf.open("sha256.npy", "w") as m:
            np.lib.format.write_array(m, digests)
        for key in KEYS:
            with zf.open(key + ".npy", "w") as m:
                if key == "x_train":
                    np.lib.format.write_array_header_1_0(
                        m, {"descr": "|u1", "fortran_order": False, "shape": (2**40, 28, 28)})
                    m.write(b"\0" * 100)
                else:
                    np.lib.format.write_array(m, synthetic.arrays[key])


def test_absurd_header_shape_is_damage_and_rebuilt(synthetic, tmp_path, capsys):
    """A .npy header declaring an absurd shape is refused before any memory is
    allocated (it used to raise MemoryError and never be rebuilt)."""
    mirror = synthetic.write_folder(tmp_path / "m")
    path = str(tmp_path / "c" / "synthetic.npz")
    os.makedirs(os.path.dirname(path))
    _npz_with_absurd_header(path, synthetic)
    with pytest.raises(CacheError, match=r"x_train is uint8 \(1099511627776, 28, 28\)"):
        read_cache(path, synthetic.spec)
    got = load_dataset(synthetic.spec, data_home=tmp_path / "c", mirror=mirror, verbose=True)
    assert_same(got, book_form(synthetic.arrays, True, True, False))
    assert "is damaged" in capsys.readouterr().err
    read_cache(path, synthetic.spec)


def _in_thread(fn, timeout=30):
    """Run fn in a daemon thread; fail (instead of hanging) if it blocks."""
    result = {}

    def run():
        try:
            result["value"] = fn()
        except BaseException as exc:  # handed to the test
            result["error"] = exc
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), "the loader blocked for %d s" % timeout
    if "error" in result:
        raise result["error"]
    return result["value"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="this platform has no FIFOs")
def test_fifo_named_like_the_cache_is_damage_not_a_hang(synthetic, tmp_path):
    mirror = synthetic.write_folder(tmp_path / "m")
    cache = tmp_path / "c"
    cache.mkdir()
    os.mkfifo(cache / "synthetic.npz")
    with pytest.raises(CacheError, match="not a regular file \\(a FIFO\\)"):
        _in_thread(lambda: read_cache(str(cache / "synthetic.npz"), synthetic.spec))
    got = _in_thread(lambda: load_dataset(synthetic.spec, data_home=cache, mirror=mirror,
                                          verbose=False))
    assert_same(got, book_form(synthetic.arrays, True, True, False))
    read_cache(str(cache / "synthetic.npz"), synthetic.spec)  # a regular file now


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="this platform has no FIFOs")
def test_fifo_named_like_an_idx_file_is_refused_not_a_hang(synthetic, tmp_path):
    mirror = synthetic.write_folder(tmp_path / "m", skip=("t_test",))
    os.mkfifo(os.path.join(mirror, FILENAMES["t_test"]))
    with pytest.raises(DatasetDownloadError, match="is not a regular file"):
        _in_thread(lambda: load_dataset(synthetic.spec, data_home=tmp_path / "c",
                                        mirror=mirror, verbose=False))


@pytest.mark.filterwarnings("error::ResourceWarning")
@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("keep", [0.5, 0.999, 10])
def test_truncated_cache_leaks_no_file_handle(keep, synthetic, tmp_path):
    path = str(tmp_path / "synthetic.npz")
    write_cache(path, synthetic.arrays, synthetic.spec)
    os.truncate(path, int(os.path.getsize(path) * keep) if keep < 1 else keep)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        with pytest.raises(CacheError):
            read_cache(path, synthetic.spec)
        gc.collect()
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []


def test_interrupted_cache_write_leaves_nothing(synthetic, tmp_path, monkeypatch):
    calls = []

    def fail_midway(f, **arrays):
        f.write(b"PK\x03\x04 partial")
        calls.append(1)
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", fail_midway)
    with pytest.raises(KeyboardInterrupt):
        load_dataset(synthetic.spec, data_home=tmp_path / "c",
                     mirror=synthetic.write_folder(tmp_path / "m"), verbose=False)
    assert calls and os.listdir(tmp_path / "c") == []


def test_unwritable_cache_still_returns_the_data(synthetic, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")
    with pytest.warns(RuntimeWarning, match="could not write the Synthetic cache"):
        got = load_dataset(synthetic.spec, data_home=blocker / "cache",
                           mirror=synthetic.write_folder(tmp_path / "m"), verbose=False)
    assert_same(got, book_form(synthetic.arrays, True, True, False))


def test_write_cache_replaces_and_cleans_up(synthetic, tmp_path):
    path = str(tmp_path / "d" / "x.npz")
    write_cache(path, synthetic.arrays, synthetic.spec)
    first = os.stat(path).st_ino
    write_cache(path, synthetic.arrays, synthetic.spec)
    assert os.stat(path).st_ino != first  # a new file renamed over the old one
    got = read_cache(path, synthetic.spec)
    for key in KEYS:
        np.testing.assert_array_equal(got[key], synthetic.arrays[key])
    assert tmp_files(tmp_path / "d") == []
    # Left-overs of killed writers are removed once stale.
    stale = tmp_path / "d" / ".x.npz.abc.tmp"
    stale.write_bytes(b"x")
    os.utime(stale, (0, 0))
    write_cache(path, synthetic.arrays, synthetic.spec)
    assert not stale.exists()


def test_write_cache_checks_what_it_wrote(synthetic, tmp_path):
    # Arrays that are not the spec's files (one pixel off) never become a cache.
    arrays = dict(synthetic.arrays)
    arrays["x_test"] = arrays["x_test"].copy()
    arrays["x_test"][0, 0, 0] ^= 1
    path = str(tmp_path / "x.npz")
    with pytest.raises(CacheError, match="checksum of x_test"):
        write_cache(path, arrays, synthetic.spec)
    assert os.listdir(tmp_path) == []


_CHILD = textwrap.dedent("""
    import json, os, sys, time, hashlib
    import numpy as np
    from cnet.dataset._spec import DatasetSpec, IdxFile
    from cnet.dataset._loader import load_dataset
    cfg = json.loads(sys.argv[1])
    files = {k: IdxFile(v[0], tuple(v[1]), v[2]) for k, v in cfg["files"].items()}
    spec = DatasetSpec(name="synthetic", title="Synthetic", files=files,
                       mirror_env="CNET_TEST_SYNTHETIC_MIRROR")
    while not os.path.exists(cfg["go"]):
        time.sleep(0.005)
    h = hashlib.sha256()
    for _ in range(cfg["rounds"]):
        (x, t), (xt, tt) = load_dataset(spec, False, data_home=cfg["cache"],
                                        mirror=cfg["mirror"], verbose=False)
        for a in (x, t, xt, tt):
            h.update(a.tobytes())
    print(h.hexdigest())
""")


def test_concurrent_loads_from_two_processes(synthetic, tmp_path, http_server):
    # Two processes fill one empty cache at the same moment, then keep reading
    # it while the other may still be replacing it: both must always get the
    # exact data, and the cache must end whole.
    cache = tmp_path / "cache"
    go = tmp_path / "go"
    cfg = {
        "files": {k: [e.filename, list(e.shape), e.sha256]
                  for k, e in synthetic.spec.files.items()},
        "cache": str(cache), "mirror": http_server + "/good/", "go": str(go), "rounds": 5,
    }
    env = dict(os.environ, CNET_QUIET="1")
    # (the children run in tmp_path, where no source checkout shadows cnet)
    procs = [subprocess.Popen([sys.executable, "-c", _CHILD, json.dumps(cfg)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                              cwd=str(tmp_path))
             for _ in range(2)]
    go.write_bytes(b"")
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err.decode()
    want = hashlib.sha256()
    for _ in range(5):
        for key in KEYS:
            want.update(synthetic.arrays[key].tobytes())
    assert [o[0].decode().strip() for o in outs] == [want.hexdigest()] * 2
    read_cache(str(cache / "synthetic.npz"), synthetic.spec)
    assert tmp_files(cache) == []


def test_reader_never_sees_a_partial_cache(synthetic, tmp_path):
    # A writer process rewrites the cache file over and over; every read here,
    # made while it runs, finds the whole, valid file.
    path = str(tmp_path / "synthetic.npz")
    write_cache(path, synthetic.arrays, synthetic.spec)
    arrays_file = tmp_path / "arrays.npz"
    np.savez(arrays_file, **synthetic.arrays)
    ready = tmp_path / "ready"
    files = {k: [e.filename, list(e.shape), e.sha256] for k, e in synthetic.spec.files.items()}
    writer = subprocess.Popen([sys.executable, "-c", textwrap.dedent("""
        import json, sys, numpy as np
        from cnet.dataset._cache import write_cache
        from cnet.dataset._spec import DatasetSpec, IdxFile
        files = {k: IdxFile(v[0], tuple(v[1]), v[2]) for k, v in json.loads(sys.argv[4]).items()}
        spec = DatasetSpec(name="synthetic", title="Synthetic", files=files, mirror_env="X")
        arrays = dict(np.load(sys.argv[1], allow_pickle=False))
        open(sys.argv[3], "w").close()
        for _ in range(100):
            write_cache(sys.argv[2], arrays, spec)
    """), str(arrays_file), path, str(ready), json.dumps(files)], cwd=str(tmp_path))
    reads = 0
    try:
        while not ready.exists() and writer.poll() is None:
            time.sleep(0.001)
        while writer.poll() is None:
            read_cache(path, synthetic.spec)
            reads += 1
    finally:
        writer.wait(timeout=120)
    assert writer.returncode == 0 and reads > 0, reads
    read_cache(path, synthetic.spec)
    assert tmp_files(tmp_path) == []


# ---------------------------------------------------------------- progress

def test_progress_one_line_per_file_when_not_a_terminal(synthetic, tmp_path, capsys,
                                                        http_server):
    load_dataset(synthetic.spec, data_home=tmp_path, mirror=http_server + "/good/",
                 verbose=True)
    err = capsys.readouterr().err
    lines = err.splitlines()
    for key in KEYS:
        assert sum(FILENAMES[key] in line and "done" in line for line in lines) == 1
    assert "\r" not in err
    assert "cached Synthetic at" in err


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_on_a_terminal():
    stream = _Terminal()
    p = Progress(True, stream)
    p.start("downloading x.gz", 1000)
    for _ in range(10):
        p.advance(100)
    p.finish("done")
    text = stream.getvalue()
    # tqdm's bar: percentage, sizes, rate and time left, redrawn with \r.
    assert "\r" in text and "%|" in text and "/1.00k [" in text and "B/s]" in text
    assert text.endswith("cnet: downloading x.gz: done (1.0 kB)\n")
    p.start("reading y.gz", None, "/some/where/y.gz")
    p.advance(5)
    p.finish("failed")
    assert stream.getvalue().endswith("cnet: reading y.gz from /some/where/y.gz: failed (5 B)\n")


def test_progress_bar_during_a_download(synthetic, tmp_path, http_server, monkeypatch):
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    load_dataset(synthetic.spec, data_home=tmp_path, mirror=http_server + "/good/")
    text = terminal.getvalue()
    for key in KEYS:
        url = http_server + "/good/" + FILENAMES[key]
        assert "cnet: downloading %s:" % FILENAMES[key] in text and "%|" in text
        assert "\r\033[Kcnet: downloading %s from %s: done (%s)\n" % (
            FILENAMES[key], url, format_size(len(synthetic.gz[key]))) in text


def test_labels_beyond_the_classes_are_refused(tmp_path):
    # Well-formed, with a matching checksum, but label 10 in a ten-class set.
    synthetic = Synthetic()
    labels = synthetic.arrays["t_test"].copy()
    labels[0] = 10
    raw = idx_file(labels)
    files = dict(synthetic.spec.files)
    files["t_test"] = IdxFile(FILENAMES["t_test"], (N_TEST,), hashlib.sha256(raw).hexdigest())
    spec = dataclasses.replace(synthetic.spec, files=files)
    folder = synthetic.write_folder(tmp_path / "m", replace={"t_test": gzip.compress(raw)})
    with pytest.raises(DatasetDownloadError, match="holds label 10; Synthetic has 10 classes"):
        load_dataset(spec, data_home=tmp_path / "c", mirror=folder, verbose=False)


def test_progress_silenced(synthetic, tmp_path, capsys, monkeypatch):
    mirror = synthetic.write_folder(tmp_path / "m")
    load_dataset(synthetic.spec, data_home=tmp_path / "a", mirror=mirror, verbose=False)
    assert capsys.readouterr().err == ""
    monkeypatch.setenv("CNET_QUIET", "1")
    load_dataset(synthetic.spec, data_home=tmp_path / "b", mirror=mirror)
    assert capsys.readouterr().err == ""
    # An explicit verbose=True wins over the environment.
    load_dataset(synthetic.spec, data_home=tmp_path / "c", mirror=mirror, verbose=True)
    assert "done" in capsys.readouterr().err


@pytest.mark.parametrize("value, verbose", [(None, True), ("", True), ("0", True),
                                            ("no", True), ("1", False), ("yes", False)])
def test_quiet_switch(value, verbose, monkeypatch):
    if value is None:
        monkeypatch.delenv("CNET_QUIET", raising=False)
    else:
        monkeypatch.setenv("CNET_QUIET", value)
    assert resolve_verbose(None) is verbose
    assert resolve_verbose(True) is True and resolve_verbose(False) is False


# ---------------------------------------------------------------- public loaders

def test_load_mnist_runs_the_generic_loader(synthetic, tmp_path, monkeypatch):
    # load_mnist with the MNIST spec's checksums swapped for the synthetic files'.
    spec = dataclasses.replace(mnist_module.MNIST, files=synthetic.spec.files)
    monkeypatch.setattr(mnist_module, "MNIST", spec)
    mirror = synthetic.write_folder(tmp_path / "m")
    monkeypatch.setenv("CNET_MNIST_MIRROR", mirror)
    monkeypatch.setenv("CNET_DATA_HOME", str(tmp_path / "home"))
    got = cnet.load_mnist(normalize=False, flatten=False, one_hot_label=True, verbose=False)
    assert_same(got, book_form(synthetic.arrays, False, False, True))
    assert os.path.exists(tmp_path / "home" / "mnist.npz")
    got = mnist_module.load_mnist(verbose=False)
    assert_same(got, book_form(synthetic.arrays, True, True, False))


def test_load_fashion_mnist_runs_the_generic_loader(synthetic, tmp_path, monkeypatch):
    spec = dataclasses.replace(fashion_module.FASHION_MNIST, files=synthetic.spec.files)
    monkeypatch.setattr(fashion_module, "FASHION_MNIST", spec)
    monkeypatch.setenv("CNET_FASHION_MNIST_MIRROR", synthetic.write_folder(tmp_path / "m"))
    got = cnet.load_fashion_mnist(normalize=True, flatten=False, data_home=tmp_path,
                                  verbose=False)
    assert_same(got, book_form(synthetic.arrays, True, False, False))
    assert os.path.exists(tmp_path / "fashion-mnist.npz")
    with pytest.raises(ValueError, match="no sample of Fashion-MNIST"):
        cnet.load_fashion_mnist(sample=True)


def test_default_mirrors_of_the_real_data_sets(monkeypatch, tmp_path):
    monkeypatch.delenv("CNET_MNIST_MIRROR", raising=False)
    mnist = [m.location for m in resolve_mirrors(mnist_module.MNIST)]
    assert mnist[0] == "https://ossci-datasets.s3.amazonaws.com/mnist/"
    assert len(mnist) >= 2 and all(m.startswith("https://") for m in mnist)
    monkeypatch.setattr(fashion_module, "FASHION_MNIST", dataclasses.replace(
        fashion_module.FASHION_MNIST, local_folders=(str(tmp_path),)))
    fashion = [m.location for m in resolve_mirrors(fashion_module.FASHION_MNIST)]
    assert fashion[0] == str(tmp_path) and len(fashion) >= 3
    monkeypatch.setenv("CNET_FASHION_MNIST_MIRROR", "/somewhere")
    assert [m.location for m in resolve_mirrors(fashion_module.FASHION_MNIST)] == ["/somewhere"]


def test_init_mnist_fills_the_cache(synthetic, tmp_path, monkeypatch):
    monkeypatch.setattr(mnist_module, "MNIST",
                        dataclasses.replace(mnist_module.MNIST, files=synthetic.spec.files))
    mnist_module.init_mnist(data_home=tmp_path, mirror=synthetic.write_folder(tmp_path / "m"),
                            verbose=False)
    read_cache(str(tmp_path / "mnist.npz"), mnist_module.MNIST)


def test_network_guard_is_active():
    with pytest.raises(AssertionError, match="name lookup attempted"):
        socket.getaddrinfo("ossci-datasets.s3.amazonaws.com", 443)


def test_book_module_helpers():
    from cnet.dataset.mnist import _change_one_hot_label, img_dim, img_size, key_file
    t = np.array([3, 0, 9], np.uint8)
    np.testing.assert_array_equal(_change_one_hot_label(t), np.eye(10)[[3, 0, 9]])
    assert img_size == 784 and img_dim == (1, 28, 28)
    assert key_file["train_img"] == "train-images-idx3-ubyte.gz"


def test_no_warnings_on_a_normal_load(synthetic, tmp_path):
    mirror = synthetic.write_folder(tmp_path / "m")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_dataset(synthetic.spec, data_home=tmp_path, mirror=mirror, verbose=False)
        load_dataset(synthetic.spec, data_home=tmp_path, mirror=mirror, verbose=False)
