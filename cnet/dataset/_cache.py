"""The on-disk cache: where it lives, atomic writes, verified reads.

A data set is cached as one uncompressed ``<name>.npz`` holding the four uint8
arrays under the book's names. Reads check each array's dtype, shape and the
SHA-256 of the IDX file it came from (recomputed from the array, see
``_idx.idx_sha256``), so a damaged cache is noticed and rebuilt rather than
returned. Writes go to a temporary file in the same folder, which is then
renamed over the target (``os.replace`` is atomic): a reader sees either no file
or a whole one, however many processes load at once or wherever one is killed.
"""
import os
import sys
import tempfile
import time
import zipfile

import numpy as np

from ._idx import idx_sha256
from ._spec import KEYS

DATA_HOME_ENV = "CNET_DATA_HOME"
_APP = "cnet"
# Temporary files older than this are left-overs of killed processes.
_STALE_SECONDS = 24 * 3600


class CacheError(ValueError):
    """A cache file that exists but cannot be trusted."""


def default_cache_home():
    """The platform's user cache folder for cnet.

    ``%LOCALAPPDATA%\\cnet\\Cache`` on Windows, ``~/Library/Caches/cnet`` on
    macOS, ``$XDG_CACHE_HOME/cnet`` (default ``~/.cache/cnet``) elsewhere.
    """
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or os.path.join(
            os.path.expanduser("~"), "AppData", "Local")
        return os.path.join(base, _APP, "Cache")
    if sys.platform == "darwin":
        return os.path.join(os.path.expanduser("~"), "Library", "Caches", _APP)
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    # The XDG spec says relative paths are invalid and must be ignored.
    base = xdg if os.path.isabs(xdg) else os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, _APP)


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


def read_cache(path, spec):
    """The four arrays of ``spec`` from the cache file at ``path``.

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
    arrays = {}
    try:
        with np.load(path, allow_pickle=False) as npz:
            for key in KEYS:
                if key not in npz.files:
                    raise CacheError("it has no array %r" % key)
                arrays[key] = npz[key]
    except FileNotFoundError:
        raise
    except CacheError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        raise CacheError("it cannot be read (%s: %s)" % (type(exc).__name__, exc)) from None
    for key in KEYS:
        entry = spec.files[key]
        array = arrays[key]
        if array.dtype != entry.dtype or array.shape != entry.shape:
            raise CacheError("%s is %s %s, expected %s %s" % (
                key, array.dtype, array.shape, entry.dtype, entry.shape))
        if idx_sha256(array) != entry.sha256:
            raise CacheError("the checksum of %s does not match %s" % (key, entry.filename))
    return arrays


def write_cache(path, arrays):
    """Write ``arrays`` (dict of name to array) to ``path`` as ``.npz``, atomically.

    The data go to a temporary file beside ``path``, are flushed to disk, and
    the file is renamed over ``path``. Two processes writing the same data at
    once both succeed; the last rename wins.
    """
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    prefix = "." + os.path.basename(path) + "."
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=prefix, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
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
