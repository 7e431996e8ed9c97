"""Thread control and a description of how this copy of cnet was built."""
import os
import platform
import sys

import numpy as np

from . import _config
from ._version import __version__

__all__ = ["get_num_threads", "set_num_threads", "max_threads", "show_config",
           "config_info"]


def max_threads():
    """Most threads cnet's kernels start: 4 per CPU that OpenMP sees, and at
    least 64 (1 without OpenMP).

    More threads than CPUs only slow compute-bound kernels down, and far more
    make OpenMP fail to create them, which ends the process without a Python
    exception. :func:`set_num_threads` refuses more; ``OMP_NUM_THREADS`` or
    threadpoolctl asking for more are held to it.

    Returns
    -------
    int
    """
    return _config.max_threads()


def get_num_threads():
    """Number of threads cnet's parallel kernels use in the calling thread.

    It is OpenMP's own setting: ``OMP_NUM_THREADS`` at start-up, then whatever
    :func:`set_num_threads` (or threadpoolctl) sets, at most
    :func:`max_threads`. Always 1 when cnet was built without OpenMP. It is
    also the number of threads over which cnet splits its large BLAS products
    (BLAS itself on one thread meanwhile, see :func:`set_num_threads`).

    OpenMP keeps this setting per thread: a Python thread started later sees
    ``OMP_NUM_THREADS`` (or, unset, the CPU count), not what the main thread
    set. Call :func:`set_num_threads` in each thread that should use another
    count (so two Python threads can each run kernels on one thread).

    Returns
    -------
    int
    """
    return _config.get_num_threads()


def set_num_threads(n):
    """Set the number of threads for cnet's parallel kernels.

    Results do not depend on this number: every kernel combines per-thread
    work in a fixed order, so 1 and 8 threads give identical bits.

    The count also governs the dense products cnet hands to NumPy's BLAS
    (hidden Affine layers, convolutions): while a cnet network or layer call
    runs, BLAS is held to one thread and cnet splits large products by rows
    over its own threads (:mod:`cnet.threads`), so the two thread pools never
    compete for the cores; the user's BLAS setting is restored when the call
    returns. Set BLAS's own thread count (threadpoolctl,
    ``OPENBLAS_NUM_THREADS``) for your own NumPy code.

    The setting applies to the calling Python thread and to kernels it runs
    from then on (OpenMP's rule, which threadpoolctl follows too); threads
    started later begin with ``OMP_NUM_THREADS`` or the CPU count.

    Parameters
    ----------
    n : int
        From 1 to :func:`max_threads`. Ignored (with the count staying 1)
        when cnet was built without OpenMP.

    Raises
    ------
    ValueError
        n is below 1 or above :func:`max_threads`.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError("set_num_threads: n must be an int, got %s" % type(n).__name__)
    if n < 1:
        raise ValueError("set_num_threads: n must be >= 1, got %d" % n)
    cap = max_threads()
    if n > cap and _config.build_info()["openmp"]:
        raise ValueError(
            "set_num_threads: n must be <= %d (4 per CPU, at least 64: more threads "
            "only slow the kernels down, and far more cannot be created), got %d"
            % (cap, n))
    _config.set_num_threads(min(int(n), cap))


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
