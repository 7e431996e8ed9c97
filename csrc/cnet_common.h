/* Shared definitions for cnet's C kernels.
 *
 * Dimension letters used throughout csrc/ (as in the book's TwoLayerNet):
 *   B  batch rows        I  input size (784 for MNIST)
 *   H  hidden size (50)  O  output size (10)
 *   n  element count of a flat array
 */
#ifndef CNET_COMMON_H
#define CNET_COMMON_H

#include <stddef.h>
#include <stdint.h>

#if defined(_MSC_VER)
#define CNET_RESTRICT __restrict
#define CNET_INLINE static __inline
#else
#define CNET_RESTRICT __restrict__
#define CNET_INLINE static inline
#endif

/* Run-time SIMD dispatch for hot loops: GCC builds one clone per target and
 * picks at load time through an ifunc, so a wheel built for baseline x86-64
 * still uses AVX2/AVX-512 where the CPU has them. ifuncs need glibc; elsewhere
 * (musl, macOS, Windows, aarch64) the portable baseline loop is used. */
#include <stdlib.h> /* defines __GLIBC__ when glibc is the libc */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && \
    defined(__GLIBC__) && !defined(CNET_NO_DISPATCH)
#define CNET_DISPATCH __attribute__((target_clones("avx512f", "avx2", "default")))
/* The same with fused multiply-add in the AVX2 clone too (x86-64-v3 is AVX2 +
 * FMA), for kernels with no bit-for-bit contract against NumPy's separately
 * rounded multiply and add. */
#define CNET_DISPATCH_FMA \
    __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#define CNET_DISPATCH_PATHS "x86-64 baseline, AVX2, AVX-512F (GCC target_clones)"
#define CNET_DISPATCHED 1
#else
#define CNET_DISPATCH
#define CNET_DISPATCH_FMA
#define CNET_DISPATCH_PATHS "portable baseline only"
#endif

/* A hint to fetch the cache line holding p for reading soon; nothing where
 * the compiler has no such hint. */
#if defined(__GNUC__) || defined(__clang__)
#define CNET_PREFETCH(p) __builtin_prefetch((p), 0, 2)
#elif defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
#include <xmmintrin.h>
#define CNET_PREFETCH(p) _mm_prefetch((const char *)(p), _MM_HINT_T1)
#else
#define CNET_PREFETCH(p) ((void)(p))
#endif

/* Below this many elements an elementwise kernel runs on one thread: starting
 * the team costs more than it saves. */
#define CNET_PARALLEL_MIN 32768

/* Reductions are summed in fixed blocks, then the block partials in order, so
 * the result does not depend on how many threads ran. */
#define CNET_REDUCE_BLOCK 4096

/* Within a block, a reduction keeps this many interleaved partial sums (lane
 * = position % CNET_LANES), combined pairwise in a fixed order. */
#define CNET_LANES 8

#endif
