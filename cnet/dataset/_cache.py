"""The on-disk cache: where it lives, atomic verified writes, cheap checked reads.

A data set is cached as one uncompressed ``<name>.npz`` holding the four uint8
arrays under the book's names and, under ``sha256``, the SHA-256 digests of the
IDX files they came from. A write is checked in full before it is put in place
(every array's dtype, shape and IDX SHA-256, read back from the written file);
a read checks what damage can change without hashing 55 MB again: the zip
structure, each array's ``.npy`` header (dtype and shape, before any memory is
allocated), each member's size and CRC-32 (the zip format's own checksum, which
catches flipped, lost and added bytes), and that the stored digests are the
spec's. A damaged file is reported as ``CacheError`` and rebuilt by the loader.
Writes go to a temporary file in the same folder, which is then renamed over
the target (``os.replace`` is atomic): a reader sees either no file or a whole
one, however many processes load at once or wherever one is killed.
"""
import os
import struct
import tempfile
import time
import zipfile
import zlib

import numpy as np
import platformdirs

from ._files import NotARegularFileError, open_regular
from ._idx import idx_sha256
from ._spec import KEYS

DATA_HOME_ENV = "CNET_DATA_HOME"
_APP = "cnet"
# Temporary files older than this are left-overs of killed processes.
_STALE_SECONDS = 24 * 3600
# Member holding the source files' digests, one per key of KEYS.
_DIGESTS = "sha256"
_ZIP_LOCAL_HEADER = struct.Struct("<4s22xHH")
# Bytes read into an array at a time: bounds the CRC pass's working set.
_READ_CHUNK = 1 << 22


class CacheError(ValueError):
    """A cache file that exists but cannot be trusted."""


def default_cache_home():
    """The platform's user cache folder for cnet (from platformdirs).

    ``%LOCALAPPDATA%\\cnet\\Cache`` on Windows, ``~/Library/Caches/cnet`` on
    macOS, ``$XDG_CACHE_HOME/cnet`` (default ``~/.cache/cnet``) elsewhere.
    """
    return platformdirs.user_cache_dir(_APP, appauthor=False)


def cache_home(data_home=None):
    """The cache folder: ``data_home``, else ``$CNET_DATA_HOME``, else the platform's."""
    if data_home is not None:
        return os.path.abspath(os.path.expanduser(os.fspath(data_home)))
    env = os.environ.get(DATA_HOME_ENV, "").strip()
    if env:
        return os.path.abspath(os.path.expanduser(env))
    return default_cache_home()


def cache_path(spec, data_home=None):
    """Path of the cache file of ``spec`` (it may not exist)."""
    return os.path.join(cache_home(data_home), spec.name + ".npz")


def read_cache(path, spec, verify_digests=False):
    """The four arrays of ``spec`` from the cache file at ``path``.

    Parameters
    ----------
    path : str
    spec : DatasetSpec
    verify_digests : bool
        Also recompute each array's IDX SHA-256 (what :func:`write_cache`
        does once; about 0.1 s for MNIST).

    Returns
    -------
    dict of str to numpy.ndarray
        uint8 arrays under ``KEYS`` with the IDX files' shapes: images
        ``(N, rows, cols)``, labels ``(N,)``.

    Raises
    ------
    FileNotFoundError
        No cache file.
    CacheError
        The file is damaged, incomplete or holds other data.
    """
    try:
        f = open_regular(path)
    except FileNotFoundError:
        raise
    except NotARegularFileError as exc:
        raise CacheError(str(exc)) from None
    except OSError as exc:
        raise CacheError("it cannot be opened (%s)" % exc) from None
    with f:
        try:
            with zipfile.ZipFile(f) as zf:
                want = np.array([spec.files[k].sha256 for k in KEYS])
                digests = _read_member(f, zf, _DIGESTS, want.dtype, want.shape)
                if not np.array_equal(digests, want):
                    raise CacheError("it holds other data than %s's files" % spec.title)
                arrays = {key: _read_member(f, zf, key, spec.files[key].dtype,
                                            spec.files[key].shape) for key in KEYS}
        except CacheError:
            raise
        except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError,
                struct.error) as exc:
            raise CacheError("it cannot be read (%s: %s)" % (type(exc).__name__, exc)) \
                from None
    if verify_digests:
        for key in KEYS:
            if idx_sha256(arrays[key]) != spec.files[key].sha256:
                raise CacheError("the checksum of %s does not match %s"
                                 % (key, spec.files[key].filename))
    return arrays


def _read_member(f, zf, key, dtype, shape):
    """The array ``key`` of the open ``.npz`` (file ``f``, zip ``zf``), checked.

    Its ``.npy`` header must declare ``dtype`` and ``shape`` (checked before
    any memory is allocated, so a header declaring an absurd shape costs
    nothing) and its bytes must have the size and CRC-32 the zip records.
    """
    try:
        info = zf.getinfo(key + ".npy")
    except KeyError:
        raise CacheError("it has no array %r" % key) from None
    if info.compress_type != zipfile.ZIP_STORED:
        raise CacheError("%s is compressed; cnet writes its cache uncompressed" % key)
    f.seek(info.header_offset)
    local = f.read(_ZIP_LOCAL_HEADER.size)
    if len(local) != _ZIP_LOCAL_HEADER.size:
        raise CacheError("%s: the file ends inside its zip header" % key)
    magic, name_len, extra_len = _ZIP_LOCAL_HEADER.unpack(local)
    if magic != b"PK\x03\x04":
        raise CacheError("%s: bad zip header" % key)
    start = info.header_offset + _ZIP_LOCAL_HEADER.size + name_len + extra_len
    f.seek(start)
    version = np.lib.format.read_magic(f)
    if version == (1, 0):
        got_shape, fortran, got_dtype = np.lib.format.read_array_header_1_0(f)
    elif version == (2, 0):
        got_shape, fortran, got_dtype = np.lib.format.read_array_header_2_0(f)
    else:
        raise CacheError("%s: unknown .npy version %s" % (key, version))
    if got_dtype != dtype or tuple(got_shape) != tuple(shape) or (fortran and len(shape) > 1):
        raise CacheError("%s is %s %s, expected %s %s" % (
            key, got_dtype, tuple(got_shape), dtype, tuple(shape)))
    header_len = f.tell() - start
    array = np.empty(shape, dtype)
    data = array.reshape(-1).view(np.uint8)
    if info.file_size != header_len + data.size or info.compress_size != info.file_size:
        raise CacheError("%s: %d bytes stored, its header needs %d"
                         % (key, info.file_size, header_len + data.size))
    f.seek(start)
    crc = zlib.crc32(f.read(header_len))
    done = 0
    while done < data.size:
        n = f.readinto(data[done:done + _READ_CHUNK])
        if not n:
            raise CacheError("%s: the file ends inside its data" % key)
        crc = zlib.crc32(data[done:done + n], crc)
        done += n
    if crc != info.CRC:
        raise CacheError("%s: its bytes do not match their CRC-32" % key)
    return array


def write_cache(path, arrays, spec):
    """Write ``arrays`` (dict of name to array) of ``spec`` to ``path``, atomically.

    The data and the source files' digests go to a temporary ``.npz`` beside
    ``path``, are flushed to disk and read back in full (dtypes, shapes, every
    IDX SHA-256); only then is the file renamed over ``path``. Two processes
    writing the same data at once both succeed; the last rename wins.

    Raises
    ------
    CacheError
        The written file did not read back as written (a failing disk).
    OSError
        The folder cannot be written.
    """
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    prefix = "." + os.path.basename(path) + "."
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=prefix, suffix=".tmp")
    try:
        digests = np.array([spec.files[k].sha256 for k in KEYS])
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **{k: arrays[k] for k in KEYS}, **{_DIGESTS: digests})
            f.flush()
            os.fsync(f.fileno())
        read_cache(tmp, spec, verify_digests=True)
        # mkstemp creates the file private (0600); a cache is ordinary user data.
        os.chmod(tmp, 0o644)
        _replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _remove_stale(folder, prefix)


def _replace(tmp, path):
    # On Windows the rename fails while another process has the target open;
    # that process is reading a complete file, so waiting briefly is enough.
    for attempt in range(10):
        try:
            os.replace(tmp, path)
            return
        except PermissionError:
            if attempt == 9:
                raise
            time.sleep(0.1 * (attempt + 1))


def _remove_stale(folder, prefix):
    now = time.time()
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        if name.startswith(prefix) and name.endswith(".tmp"):
            full = os.path.join(folder, name)
            try:
                if now - os.path.getmtime(full) > _STALE_SECONDS:
                    os.unlink(full)
            except OSError:
                pass
