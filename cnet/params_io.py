"""Reading and writing a network's parameters without running pickled code.

The book's networks save their ``params`` dict with ``pickle.dump`` and load
it with ``pickle.load``, which runs whatever code the file names. cnet writes
the same format (so the book's own ``load_params`` reads cnet's files), and
reads it with an unpickler that admits only what such a file holds: NumPy
arrays of numbers, NumPy scalars and plain containers. Any other object in
the stream is refused before it is created. ``.npz`` files are read and
written with NumPy's own format, which holds no code at all.
"""
import io
import os
import pickle
import zipfile

import numpy as np

__all__ = ["load_params", "save_params", "RestrictedUnpickleError"]


class RestrictedUnpickleError(pickle.UnpicklingError):
    """The file names something other than NumPy arrays and plain containers."""


def _multiarray():
    core = getattr(np, "_core", None)  # NumPy 2 renamed numpy.core to numpy._core
    if core is None:  # pragma: no cover - NumPy 1.x
        core = np.core
    return core.multiarray


# (module, name) in the stream -> the object it may stand for. Pickles written
# by NumPy 1.x name numpy.core, NumPy 2 names numpy._core.
_ALLOWED = {}
for _module in ("numpy.core.multiarray", "numpy._core.multiarray"):
    _ALLOWED[(_module, "_reconstruct")] = _multiarray()._reconstruct
    _ALLOWED[(_module, "scalar")] = _multiarray().scalar
for _module in ("numpy", "numpy.core.multiarray", "numpy._core.multiarray"):
    _ALLOWED[(_module, "ndarray")] = np.ndarray
    _ALLOWED[(_module, "dtype")] = np.dtype
_ALLOWED[("collections", "OrderedDict")] = dict
_ALLOWED[("builtins", "dict")] = dict
_ALLOWED[("builtins", "list")] = list
_ALLOWED[("builtins", "tuple")] = tuple


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise RestrictedUnpickleError(
                "refusing to load %s.%s: a parameter file may hold only NumPy "
                "arrays and plain containers" % (module, name)) from None

    def persistent_load(self, pid):
        raise RestrictedUnpickleError("refusing a persistent reference in a "
                                      "parameter file")


def _check_plain(obj, where="the file"):
    """Raise unless obj is made of plain containers, numbers, strings and
    numeric NumPy arrays/scalars (object arrays could hold anything)."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            _check_plain(k, where)
            _check_plain(v, "%s[%r]" % (where, k))
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            _check_plain(v, where)
    elif isinstance(obj, (np.ndarray, np.generic)):
        if obj.dtype.hasobject:
            raise RestrictedUnpickleError("%s holds an object array; only arrays of "
                                          "numbers are accepted" % where)
    elif obj is not None and not isinstance(obj, (str, bytes, bool, int, float, complex)):
        raise RestrictedUnpickleError("%s holds a %s" % (where, type(obj).__name__))


def load_params(file_name):
    """Read a parameter dict written by the book's ``save_params`` (a pickled
    dict of arrays) or by ``np.savez``.

    Parameters
    ----------
    file_name : str or path-like
        A pickle, or an ``.npz`` file (recognised by its content).

    Returns
    -------
    params : dict of str -> ndarray

    Raises
    ------
    RestrictedUnpickleError
        When the pickle names anything but NumPy arrays and plain containers;
        nothing it names is created or run.
    """
    with open(file_name, "rb") as f:
        data = f.read()
    if data[:4] == b"PK\x03\x04":
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as npz:
                return {k: npz[k] for k in npz.files}
        except (zipfile.BadZipFile, ValueError, OSError, EOFError) as e:
            # damaged zip, object arrays (refused: no pickles), bad headers
            raise ValueError("%s is not a readable .npz parameter file: %s"
                             % (os.fspath(file_name), e)) from e
    try:
        params = _RestrictedUnpickler(io.BytesIO(data)).load()
    except RestrictedUnpickleError:
        raise
    except Exception as e:
        # A truncated or damaged file fails anywhere inside pickle (EOFError,
        # UnpicklingError, ValueError, ...): one error naming the file.
        raise pickle.UnpicklingError("%s is not a complete parameter pickle "
                                     "(truncated or damaged): %s: %s"
                                     % (os.fspath(file_name), type(e).__name__, e)) from e
    _check_plain(params, os.fspath(file_name))
    if not isinstance(params, dict):
        raise RestrictedUnpickleError("%s holds a %s, not a dict of parameters"
                                      % (os.fspath(file_name), type(params).__name__))
    return params


def save_params(params, file_name):
    """Write a parameter dict: ``.npz`` when file_name ends so, else a pickle
    in the book's format (a plain dict of arrays).

    Parameters
    ----------
    params : dict of str -> ndarray
    file_name : str or path-like
    """
    plain = {key: np.asarray(val) for key, val in params.items()}
    if os.fspath(file_name).endswith(".npz"):
        np.savez(file_name, **plain)
    else:
        with open(file_name, "wb") as f:
            pickle.dump(plain, f)
