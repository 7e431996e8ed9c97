"""Wall-clock measurement on a shared, noisy machine: repeat and take medians."""
import statistics
import time

# Seconds to wait before each timed call in alternate(): after a threaded call
# NumPy's OpenBLAS keeps a worker spinning for about 0.1 s and PyTorch's pool
# for about 10 ms (process CPU time during a sleep), and on a 2-core machine
# the next implementation would pay for it (cnet's chapter-5 gradient took
# 1.47 ms right after a block of the book's code, 0.35 ms alone).
SETTLE_SECONDS = 0.15


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


def alternate(fns, rounds, warmup=1, settle=SETTLE_SECONDS):
    """Time several implementations of one piece of work, taking turns.

    Each round calls every function once, in order, so a burst of load on a
    shared machine falls on all of them alike; each waits ``settle`` seconds
    (untimed) first, so that no thread pool of the one before is still
    spinning on a core.

    Parameters
    ----------
    fns : dict
        Name -> callable with no arguments. It may return the number of
        iterations it ran (an int >= 1); times are then per iteration.
    rounds : int
        Timed calls of each function.
    warmup : int
        Untimed rounds first (page faults, thread-team start, caches).
    settle : float
        Seconds of rest before each timed call.

    Returns
    -------
    dict
        Name -> (wall, cpu): median seconds per iteration by the wall clock
        and by this process's CPU time (all its threads). On a busy machine
        the CPU time is the steadier of the two when everything runs on one
        thread: time spent waiting for a core is not in it.
    """
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    wall = {name: [] for name in fns}
    cpu = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            if settle > 0:
                time.sleep(settle)
            t0, c0 = time.perf_counter(), time.process_time()
            n = fn()
            n = n if isinstance(n, int) and n >= 1 else 1
            wall[name].append((time.perf_counter() - t0) / n)
            cpu[name].append((time.process_time() - c0) / n)
    return {name: (statistics.median(wall[name]), statistics.median(cpu[name]))
            for name in fns}


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
