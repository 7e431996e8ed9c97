# cython: language_level=3, boundscheck=False, wraparound=False
"""Thread control and build facts (private; see cnet.threads and cnet.show_config)."""


def get_num_threads():
    """Number of OpenMP threads cnet's parallel kernels use (1 without OpenMP)."""
    return cnet_get_num_threads()


def max_threads():
    """Most threads a kernel starts (cnet_max_threads in config.h)."""
    return cnet_max_threads()


def set_num_threads(int n):
    """Set the OpenMP thread count for later calls (n >= 1, checked by the caller)."""
    cnet_set_num_threads(n)


def build_info():
    """Dict of facts fixed at build time."""
    return {
        "openmp": bool(cnet_openmp_enabled()),
        "compiler": cnet_compiler().decode("utf-8", "replace"),
        "simd_dispatch": cnet_dispatch_paths().decode("utf-8", "replace"),
    }
