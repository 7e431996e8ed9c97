"""Thread control and a description of how this copy of cnet was built."""
import os
import platform
import sys

import numpy as np

from . import _config
from ._version import __version__

__all__ = ["get_num_threads", "set_num_threads", "show_config", "config_info"]


def get_num_threads():
    """Number of threads cnet's parallel kernels use.

    It is OpenMP's own setting: ``OMP_NUM_THREADS`` at start-up, then whatever
    :func:`set_num_threads` (or threadpoolctl) sets. Always 1 when cnet was
    built without OpenMP.

    Returns
    -------
    int
    """
    return _config.get_num_threads()


def set_num_threads(n):
    """Set the number of threads for cnet's parallel kernels.

    Results do not depend on this number: every kernel combines per-thread
    work in a fixed order, so 1 and 8 threads give identical bits.

    Parameters
    ----------
    n : int
        At least 1. Ignored (with the count staying 1) when cnet was built
        without OpenMP.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError("set_num_threads: n must be an int, got %s" % type(n).__name__)
    if n < 1:
        raise ValueError("set_num_threads: n must be >= 1, got %d" % n)
    _config.set_num_threads(min(int(n), 2**31 - 1))


def config_info():
    """Dict describing this installation (what ``cnet info`` prints)."""
    info = _config.build_info()
    return {
        "cnet": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": platform.machine(),
        "numpy": np.__version__,
        "compiler": info["compiler"],
        "openmp": info["openmp"],
        "num_threads": get_num_threads(),
        "cpu_count": os.cpu_count(),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "(unset)"),
        "simd_dispatch": info["simd_dispatch"],
    }


def show_config(file=None):
    """Print version, compiler, OpenMP and thread facts of this installation."""
    info = config_info()
    width = max(len(k) for k in info)
    lines = ["%-*s : %s" % (width, k, "yes" if v is True else "no" if v is False else v)
             for k, v in info.items()]
    print("\n".join(lines), file=file or sys.stdout)
