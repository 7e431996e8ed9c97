/* Thread control and build facts, header-only so every extension module that
 * includes it agrees without linking against another. */
#ifndef CNET_CONFIG_H
#define CNET_CONFIG_H

#include "cnet_common.h"

#ifdef _OPENMP
#include <omp.h>
#endif

/* Most threads a cnet kernel starts: 4 per CPU OpenMP sees, at least 64
 * (and never above OpenMP's thread limit). More only slow the kernels down,
 * and far more make OpenMP fail to create them, which ends the process with
 * no Python exception; OMP_NUM_THREADS or threadpoolctl asking for more are
 * held to this. 1 without OpenMP. */
CNET_INLINE int cnet_max_threads(void)
{
#ifdef _OPENMP
    int procs = omp_get_num_procs(), limit = omp_get_thread_limit();
    int cap = procs > 16 ? 4 * (procs < 1 << 20 ? procs : 1 << 20) : 64;
    return limit >= 1 && limit < cap ? limit : cap;
#else
    return 1;
#endif
}

/* Thread count used by every parallel kernel: OpenMP's own ICV, so
 * OMP_NUM_THREADS, cnet.set_num_threads and threadpoolctl all govern it,
 * held to cnet_max_threads. OpenMP keeps it per OS thread: a new thread
 * starts from OMP_NUM_THREADS (or the CPU count), not from what another
 * thread set. 1 without OpenMP. */
CNET_INLINE int cnet_get_num_threads(void)
{
#ifdef _OPENMP
    int n = omp_get_max_threads(), cap = cnet_max_threads();
    return n < cap ? n : cap;
#else
    return 1;
#endif
}

/* This thread's number in its parallel region's team, from 0 (0 outside
 * any region and without OpenMP). */
CNET_INLINE int cnet_thread_num(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

/* Set the thread count for later parallel regions (n >= 1). No-op without OpenMP. */
CNET_INLINE void cnet_set_num_threads(int n)
{
#ifdef _OPENMP
    if (n >= 1)
        omp_set_num_threads(n);
#else
    (void)n;
#endif
}

/* Threads worth starting for n units of work when each thread should get at
 * least min_per_thread of them: never more than cnet_get_num_threads(). */
CNET_INLINE int cnet_threads_for(size_t n, size_t min_per_thread)
{
    int t = cnet_get_num_threads();
    size_t useful;
    if (min_per_thread == 0)
        min_per_thread = 1;
    useful = n / min_per_thread;
    if (useful < 1)
        useful = 1;
    if ((size_t)t > useful)
        t = (int)useful;
    return t < 1 ? 1 : t;
}

CNET_INLINE int cnet_openmp_enabled(void)
{
#ifdef _OPENMP
    return 1;
#else
    return 0;
#endif
}

CNET_INLINE const char *cnet_compiler(void)
{
#ifdef CNET_COMPILER
    return CNET_COMPILER;
#else
    return "unknown";
#endif
}

CNET_INLINE const char *cnet_dispatch_paths(void)
{
    return CNET_DISPATCH_PATHS;
}

#endif
