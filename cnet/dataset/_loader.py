"""The one loader behind ``load_mnist`` and ``load_fashion_mnist``.

Given a ``DatasetSpec`` it returns the book's ``(x_train, t_train), (x_test,
t_test)``, taking the data from, in order: the bundled sample (``sample=True``
only), the cache, then each mirror in turn. Files from a mirror are checked
(IDX header, SHA-256 of the decompressed bytes) before they are cached.
"""
import importlib.resources
import os
import warnings

import numpy as np

from ._cache import CacheError, cache_path, read_cache, write_cache
from ._fetch import ChecksumError, FetchError, Mirror, fetch_idx
from ._progress import Progress, resolve_verbose
from ._spec import KEYS


class DatasetNotCachedError(FileNotFoundError):
    """``download=False`` and the data set is not in the cache."""


class DatasetDownloadError(OSError):
    """No source could provide a file of the data set.

    Attributes
    ----------
    attempts : list of (str, str, str)
        ``(source, filename, reason)`` for every failed try, in order.
    """

    def __init__(self, message, attempts=()):
        super().__init__(message)
        self.attempts = list(attempts)

    def __reduce__(self):
        # Keeps the attempts when copied or sent back from a worker process.
        return (type(self), (str(self), self.attempts))


def load_dataset(spec, normalize=True, flatten=True, one_hot_label=False, *,
                 data_home=None, mirror=None, download=True, sample=False, verbose=None):
    """Load an MNIST-like data set in the book's form.

    Parameters
    ----------
    spec : DatasetSpec
        The data set.
    normalize, flatten, one_hot_label, data_home, mirror, download, sample, verbose
        See ``cnet.dataset.mnist.load_mnist``.

    Returns
    -------
    (x_train, t_train), (x_test, t_test)
        See ``cnet.dataset.mnist.load_mnist``.
    """
    progress = Progress(resolve_verbose(verbose))
    if sample:
        arrays = read_sample(spec)
    else:
        arrays = _load_full(spec, data_home, mirror, download, progress)
    return to_book_form(arrays, spec, normalize, flatten, one_hot_label)


def _load_full(spec, data_home, mirror, download, progress):
    path = cache_path(spec, data_home)
    try:
        return read_cache(path, spec)
    except FileNotFoundError:
        damaged = None
    except CacheError as exc:
        damaged = str(exc)
    if not download:
        state = "is damaged (%s)" % damaged if damaged else "is not there"
        raise DatasetNotCachedError(
            "%s is not cached: %s %s, and download=False. Call %s(download=True) to "
            "fetch it once (from %s or the public mirrors), or %s"
            % (spec.title, path, state, spec.function, spec.mirror_env, _sample_hint(spec)))
    if damaged:
        progress.message("the cached %s at %s is damaged (%s); rebuilding it"
                         % (spec.title, path, damaged))
    arrays = fetch_all(spec, resolve_mirrors(spec, mirror), progress)
    try:
        write_cache(path, arrays, spec)
        progress.message("cached %s at %s" % (spec.title, path))
    except (OSError, CacheError) as exc:
        # The data are good; a read-only cache folder only costs a later re-download.
        warnings.warn("cnet could not write the %s cache %s (%s); it will be fetched "
                      "again next time" % (spec.title, path, exc), RuntimeWarning,
                      stacklevel=4)
    return arrays


def resolve_mirrors(spec, mirror=None):
    """The mirrors to try, in order.

    ``mirror`` (a URL or folder, or a list of them) when given, else
    ``$<spec.mirror_env>``, else the spec's local folders that exist followed
    by its public mirrors.

    Returns
    -------
    list of Mirror
    """
    if mirror is not None:
        if isinstance(mirror, (str, os.PathLike)):
            locations = [mirror]
        elif isinstance(mirror, (list, tuple)) and mirror and all(
                isinstance(m, (str, os.PathLike)) for m in mirror):
            locations = list(mirror)
        else:
            raise TypeError("mirror must be a URL or a folder path (str or os.PathLike), "
                            "or a non-empty list of them; got %r" % (mirror,))
    elif os.environ.get(spec.mirror_env, "").strip():
        locations = [os.environ[spec.mirror_env]]
    else:
        locations = [d for d in spec.local_folders if os.path.isdir(d)]
        locations += list(spec.public_mirrors)
    return [Mirror(loc) for loc in locations]


def fetch_all(spec, mirrors, progress):
    """The four checked arrays of ``spec``, each from the first mirror that has it.

    A mirror that cannot be reached at all is not asked for the remaining files.
    A mirror's failure is reported (through ``progress``) when another mirror
    then provides the file; when none does, the exception lists them all.

    Raises
    ------
    DatasetDownloadError
        A file that no mirror could provide; the message lists every failure.
    """
    arrays = {}
    attempts = []
    unreachable = set()
    for key in KEYS:
        entry = spec.files[key]
        failed = []
        for m in mirrors:
            if m.location in unreachable:
                continue
            try:
                array = fetch_idx(m, entry, progress)
                if key.startswith("t_") and array.size and int(array.max()) >= spec.num_classes:
                    raise FetchError("%s holds label %d; %s has %d classes"
                                     % (entry.filename, int(array.max()), spec.title,
                                        spec.num_classes))
                arrays[key] = array
                for text in failed:
                    progress.message(text)
                break
            except (FetchError, ChecksumError) as exc:
                reason = str(exc)
                attempts.append((m.location, entry.filename, reason))
                if getattr(exc, "unreachable", False):
                    unreachable.add(m.location)
                failed.append("%s from %s failed: %s" % (entry.filename, m, reason))
        else:
            raise DatasetDownloadError(_download_failure(spec, mirrors, attempts), attempts)
    return arrays


def _download_failure(spec, mirrors, attempts):
    if mirrors:
        lines = ["could not get %s: no source provided all its files. Tried:" % spec.title]
    else:
        lines = ["could not get %s: there is no mirror to fetch it from." % spec.title]
    for m in mirrors:
        mine = [(f, r) for loc, f, r in attempts if loc == m.location]
        if not mine:
            continue
        lines.append("  - %s" % m)
        for filename, reason in mine:
            lines.append("      %s: %s" % (filename, reason))
    names = ", ".join(spec.files[k].filename for k in KEYS)
    lines.append(
        "If these files are on this machine, put them (%s) in one folder and set "
        "%s=/path/to/that/folder, or pass mirror=\"/path/to/that/folder\"; %s"
        % (names, spec.mirror_env, _sample_hint(spec)))
    return "\n".join(lines)


def _sample_hint(spec):
    if spec.sample:
        return ("to work offline with the small subset bundled with cnet, call %s(sample=True)."
                % spec.function)
    return "cnet bundles no sample of %s." % spec.title


def read_sample(spec):
    """The bundled subset of ``spec`` (uint8 arrays with the IDX files' shapes)."""
    if not spec.sample:
        raise ValueError("cnet bundles no sample of %s; sample=True is available for "
                         "MNIST only" % spec.title)
    resource = importlib.resources.files("cnet.dataset").joinpath("data", spec.sample)
    arrays = {}
    try:
        with resource.open("rb") as f, np.load(f, allow_pickle=False) as npz:
            for key in KEYS:
                arrays[key] = npz[key]
    except (OSError, ValueError, KeyError) as exc:
        raise RuntimeError("the %s sample bundled with cnet (%s) cannot be read: %s; "
                           "reinstall cnet" % (spec.title, spec.sample, exc)) from None
    rows_cols = spec.image_shape
    for x_key, t_key in (("x_train", "t_train"), ("x_test", "t_test")):
        x, t = arrays[x_key], arrays[t_key]
        ok = (x.dtype == np.uint8 and t.dtype == np.uint8 and x.ndim == 3
              and x.shape[1:] == rows_cols and t.shape == x.shape[:1]
              and (t.size == 0 or int(t.max()) < spec.num_classes))
        if not ok:
            raise RuntimeError("the %s sample bundled with cnet (%s) holds unexpected "
                               "arrays; reinstall cnet" % (spec.title, spec.sample))
    return arrays


def to_book_form(arrays, spec, normalize, flatten, one_hot_label):
    """Turn the uint8 arrays into what the book's ``load_mnist`` returns.

    Parameters
    ----------
    arrays : dict of str to numpy.ndarray
        uint8 images ``(N, rows, cols)`` and labels ``(N,)`` under ``KEYS``.
    spec : DatasetSpec
    normalize, flatten, one_hot_label : bool
        As in the book.

    Returns
    -------
    (x_train, t_train), (x_test, t_test)
        Images: uint8, or float32 in [0, 1] (``x / 255.0``) when ``normalize``;
        ``(N, rows * cols)`` when ``flatten``, else ``(N, 1, rows, cols)``.
        Labels: uint8 ``(N,)``, or float64 ``(N, num_classes)`` one-hot.
        Every returned array is a fresh, writeable array.
    """
    rows, cols = spec.image_shape
    out = []
    for x_key, t_key in (("x_train", "t_train"), ("x_test", "t_test")):
        x, t = arrays[x_key], arrays[t_key]
        n = x.shape[0]
        if normalize:
            # The only full-size copy: uint8 -> float32 once, then divide in place
            # (float32 / 255.0, as the book's ``x /= 255.0`` computes it).
            x = x.astype(np.float32)
            np.divide(x, np.float32(255.0), out=x)
        elif not x.flags.writeable:
            x = x.copy()
        x = x.reshape(n, rows * cols) if flatten else x.reshape(n, 1, rows, cols)
        if one_hot_label:
            one_hot = np.zeros((n, spec.num_classes))
            one_hot[np.arange(n), t] = 1
            t = one_hot
        elif not t.flags.writeable:
            t = t.copy()
        out.append((x, t))
    return tuple(out)
