"""Wall-clock measurement on a shared, noisy machine: repeat and take medians."""
import statistics
import time


def measure(fn, repeats=7, warmup=1, min_seconds=0.0):
    """Time ``fn()`` several times.

    Parameters
    ----------
    fn : callable
        Called with no arguments; its result is discarded.
    repeats : int
        Timed calls (at least 1). More are made, up to 10x, while the total
        time stays under ``min_seconds``, so very fast calls get enough samples.
    warmup : int
        Untimed calls first (page faults, thread-team start, caches).

    Returns
    -------
    dict
        ``median``, ``min``, ``max`` (seconds) and ``repeats`` (timed calls).
    """
    for _ in range(warmup):
        fn()
    times = []
    total = 0.0
    while len(times) < repeats or (total < min_seconds and len(times) < 10 * repeats):
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        times.append(dt)
        total += dt
    return {"median": statistics.median(times), "min": min(times), "max": max(times),
            "repeats": len(times)}


def fmt_seconds(s):
    """Seconds in a unit a reader takes in at a glance."""
    if s is None:
        return "-"
    if s >= 3600:
        return "%.1f h" % (s / 3600)
    if s >= 60:
        return "%.1f min" % (s / 60)
    if s >= 1:
        return "%.2f s" % s
    if s >= 1e-3:
        return "%.2f ms" % (s * 1e3)
    return "%.1f us" % (s * 1e6)
