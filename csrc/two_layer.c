/* The book's TwoLayerNet as fused kernels (contracts in two_layer.h).
 * The bodies live in two_layer_impl.h and are compiled here once per
 * (x type, weight type) pair. */
/* Comparisons may be turned into vector selects (the clamps in exp): cnet
 * never reads floating-point exception flags, and results do not change.
 * No contraction of a*b + c into a fused multiply-add: the AVX-512F clones
 * would then round differently from the AVX2 and baseline ones. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math", "fp-contract=off")
#else
#pragma STDC FP_CONTRACT OFF
#endif

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cnet_common.h"
#include "config.h" /* cnet_thread_num */
#include "elementwise.h" /* cnet_sigmoid_*, cnet_sigmoid_grad_y_* */
#include "exp_log.h"     /* cnet_ce_term_* */
#include "softmax_rows.h" /* cnet_sm_*: the softmax row steps */
#include "nonfinite.h"
#include "two_layer.h"

/* Vectors that may sit at any element boundary: the register tiles of the
 * kernels. 32 bytes (AVX registers, or two NEON registers of the 32 on
 * aarch64), except in x86 code built for SSE only with no AVX clones: its 16
 * registers cannot hold a tile of 32-byte vectors (each is two registers), and
 * the spills made it five times slower than 16-byte vectors. Without vector
 * types (MSVC, or CNET_NO_VECTOR_EXT) plain loops sum the same terms in the
 * same order; every width gives the same bits. */
#if (defined(__GNUC__) || defined(__clang__)) && !defined(CNET_NO_VECTOR_EXT)
#if (defined(__x86_64__) || defined(__i386__)) && !defined(__AVX__) && !defined(CNET_DISPATCHED)
#define TL_VBYTES 16
#else
#define TL_VBYTES 32
#endif
typedef double tl_vd __attribute__((vector_size(TL_VBYTES), aligned(8)));
typedef float tl_vf __attribute__((vector_size(TL_VBYTES), aligned(4)));
#define TL_HAVE_VEC 1
#endif

/* --- indices of the non-zero inputs of a row --------------------------------
 * tl_nonzero_index_f32/_f64(I, x, idx, val, starts) writes the ascending
 * indices i < I with x[i] != 0 (NaN counts as non-zero, as in C) to idx, those
 * x[i] to val, and returns their number; idx and val need I + 8 entries (the
 * vector path stores 8 at a time). Unless starts is NULL, starts[k] OUT = the
 * number of those below column k TL_IBLK, for every k TL_IBLK < I: where each
 * block of xᵀ·dz1's columns starts in the lists. On x86-64 CPUs with AVX2 it
 * compares 8 (4) inputs at once and stores their indices and values packed
 * through a table of bit positions, without a branch per input; elsewhere a
 * branch-free scalar loop (which also scans the AVX2 path's last few inputs:
 * tl_nonzero_index_portable_*(i, I, x, idx, val, n, starts) lists those >= i
 * from position n on and returns the new count). Both give the same lists. */

/* Columns of x (rows of gW1) per work unit of xᵀ·dz1: a multiple of 8, so
 * that the AVX2 scans (8 or 4 inputs a step) meet every block's first column.
 * Each row's part of a block ends in a mispredicted loop exit when the block's
 * lists are made: blocks of 112 columns made the gradient of 100 MNIST images
 * 1-4 % faster than blocks of 56 (both variants in one process, alternating
 * calls). */
#define TL_IBLK 112

/* Entries of a row's starts: one per block of I columns, then the count. */
#define TL_NSTARTS(I) (((I) + TL_IBLK - 1) / TL_IBLK + 1)

static ptrdiff_t tl_nonzero_index_portable_f32(ptrdiff_t i, ptrdiff_t I, const float *x,
                                               int32_t *idx, float *val, ptrdiff_t n,
                                               int32_t *starts)
{
    /* the first block start from i on (none when starts is NULL) */
    ptrdiff_t next = starts ? (i + TL_IBLK - 1) / TL_IBLK * TL_IBLK : I;
    for (; i < I; i++) {
        if (i == next) {
            starts[i / TL_IBLK] = (int32_t)n;
            next += TL_IBLK;
        }
        idx[n] = (int32_t)i;
        val[n] = x[i];
        n += x[i] != 0;
    }
    return n;
}

static ptrdiff_t tl_nonzero_index_portable_f64(ptrdiff_t i, ptrdiff_t I, const double *x,
                                               int32_t *idx, double *val, ptrdiff_t n,
                                               int32_t *starts)
{
    /* the first block start from i on (none when starts is NULL) */
    ptrdiff_t next = starts ? (i + TL_IBLK - 1) / TL_IBLK * TL_IBLK : I;
    for (; i < I; i++) {
        if (i == next) {
            starts[i / TL_IBLK] = (int32_t)n;
            next += TL_IBLK;
        }
        idx[n] = (int32_t)i;
        val[n] = x[i];
        n += x[i] != 0;
    }
    return n;
}

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__) && \
    !defined(CNET_NO_DISPATCH)
#include <immintrin.h>
#define TL_AVX2_COMPACT 1

/* Byte k of entry m: the position of the k-th set bit of m (0 past the last). */
static const uint64_t tl_bit_positions[256] = {
    0x0000000000000000ull, 0x0000000000000000ull, 0x0000000000000001ull, 0x0000000000000100ull,
    0x0000000000000002ull, 0x0000000000000200ull, 0x0000000000000201ull, 0x0000000000020100ull,
    0x0000000000000003ull, 0x0000000000000300ull, 0x0000000000000301ull, 0x0000000000030100ull,
    0x0000000000000302ull, 0x0000000000030200ull, 0x0000000000030201ull, 0x0000000003020100ull,
    0x0000000000000004ull, 0x0000000000000400ull, 0x0000000000000401ull, 0x0000000000040100ull,
    0x0000000000000402ull, 0x0000000000040200ull, 0x0000000000040201ull, 0x0000000004020100ull,
    0x0000000000000403ull, 0x0000000000040300ull, 0x0000000000040301ull, 0x0000000004030100ull,
    0x0000000000040302ull, 0x0000000004030200ull, 0x0000000004030201ull, 0x0000000403020100ull,
    0x0000000000000005ull, 0x0000000000000500ull, 0x0000000000000501ull, 0x0000000000050100ull,
    0x0000000000000502ull, 0x0000000000050200ull, 0x0000000000050201ull, 0x0000000005020100ull,
    0x0000000000000503ull, 0x0000000000050300ull, 0x0000000000050301ull, 0x0000000005030100ull,
    0x0000000000050302ull, 0x0000000005030200ull, 0x0000000005030201ull, 0x0000000503020100ull,
    0x0000000000000504ull, 0x0000000000050400ull, 0x0000000000050401ull, 0x0000000005040100ull,
    0x0000000000050402ull, 0x0000000005040200ull, 0x0000000005040201ull, 0x0000000504020100ull,
    0x0000000000050403ull, 0x0000000005040300ull, 0x0000000005040301ull, 0x0000000504030100ull,
    0x0000000005040302ull, 0x0000000504030200ull, 0x0000000504030201ull, 0x0000050403020100ull,
    0x0000000000000006ull, 0x0000000000000600ull, 0x0000000000000601ull, 0x0000000000060100ull,
    0x0000000000000602ull, 0x0000000000060200ull, 0x0000000000060201ull, 0x0000000006020100ull,
    0x0000000000000603ull, 0x0000000000060300ull, 0x0000000000060301ull, 0x0000000006030100ull,
    0x0000000000060302ull, 0x0000000006030200ull, 0x0000000006030201ull, 0x0000000603020100ull,
    0x0000000000000604ull, 0x0000000000060400ull, 0x0000000000060401ull, 0x0000000006040100ull,
    0x0000000000060402ull, 0x0000000006040200ull, 0x0000000006040201ull, 0x0000000604020100ull,
    0x0000000000060403ull, 0x0000000006040300ull, 0x0000000006040301ull, 0x0000000604030100ull,
    0x0000000006040302ull, 0x0000000604030200ull, 0x0000000604030201ull, 0x0000060403020100ull,
    0x0000000000000605ull, 0x0000000000060500ull, 0x0000000000060501ull, 0x0000000006050100ull,
    0x0000000000060502ull, 0x0000000006050200ull, 0x0000000006050201ull, 0x0000000605020100ull,
    0x0000000000060503ull, 0x0000000006050300ull, 0x0000000006050301ull, 0x0000000605030100ull,
    0x0000000006050302ull, 0x0000000605030200ull, 0x0000000605030201ull, 0x0000060503020100ull,
    0x0000000000060504ull, 0x0000000006050400ull, 0x0000000006050401ull, 0x0000000605040100ull,
    0x0000000006050402ull, 0x0000000605040200ull, 0x0000000605040201ull, 0x0000060504020100ull,
    0x0000000006050403ull, 0x0000000605040300ull, 0x0000000605040301ull, 0x0000060504030100ull,
    0x0000000605040302ull, 0x0000060504030200ull, 0x0000060504030201ull, 0x0006050403020100ull,
    0x0000000000000007ull, 0x0000000000000700ull, 0x0000000000000701ull, 0x0000000000070100ull,
    0x0000000000000702ull, 0x0000000000070200ull, 0x0000000000070201ull, 0x0000000007020100ull,
    0x0000000000000703ull, 0x0000000000070300ull, 0x0000000000070301ull, 0x0000000007030100ull,
    0x0000000000070302ull, 0x0000000007030200ull, 0x0000000007030201ull, 0x0000000703020100ull,
    0x0000000000000704ull, 0x0000000000070400ull, 0x0000000000070401ull, 0x0000000007040100ull,
    0x0000000000070402ull, 0x0000000007040200ull, 0x0000000007040201ull, 0x0000000704020100ull,
    0x0000000000070403ull, 0x0000000007040300ull, 0x0000000007040301ull, 0x0000000704030100ull,
    0x0000000007040302ull, 0x0000000704030200ull, 0x0000000704030201ull, 0x0000070403020100ull,
    0x0000000000000705ull, 0x0000000000070500ull, 0x0000000000070501ull, 0x0000000007050100ull,
    0x0000000000070502ull, 0x0000000007050200ull, 0x0000000007050201ull, 0x0000000705020100ull,
    0x0000000000070503ull, 0x0000000007050300ull, 0x0000000007050301ull, 0x0000000705030100ull,
    0x0000000007050302ull, 0x0000000705030200ull, 0x0000000705030201ull, 0x0000070503020100ull,
    0x0000000000070504ull, 0x0000000007050400ull, 0x0000000007050401ull, 0x0000000705040100ull,
    0x0000000007050402ull, 0x0000000705040200ull, 0x0000000705040201ull, 0x0000070504020100ull,
    0x0000000007050403ull, 0x0000000705040300ull, 0x0000000705040301ull, 0x0000070504030100ull,
    0x0000000705040302ull, 0x0000070504030200ull, 0x0000070504030201ull, 0x0007050403020100ull,
    0x0000000000000706ull, 0x0000000000070600ull, 0x0000000000070601ull, 0x0000000007060100ull,
    0x0000000000070602ull, 0x0000000007060200ull, 0x0000000007060201ull, 0x0000000706020100ull,
    0x0000000000070603ull, 0x0000000007060300ull, 0x0000000007060301ull, 0x0000000706030100ull,
    0x0000000007060302ull, 0x0000000706030200ull, 0x0000000706030201ull, 0x0000070603020100ull,
    0x0000000000070604ull, 0x0000000007060400ull, 0x0000000007060401ull, 0x0000000706040100ull,
    0x0000000007060402ull, 0x0000000706040200ull, 0x0000000706040201ull, 0x0000070604020100ull,
    0x0000000007060403ull, 0x0000000706040300ull, 0x0000000706040301ull, 0x0000070604030100ull,
    0x0000000706040302ull, 0x0000070604030200ull, 0x0000070604030201ull, 0x0007060403020100ull,
    0x0000000000070605ull, 0x0000000007060500ull, 0x0000000007060501ull, 0x0000000706050100ull,
    0x0000000007060502ull, 0x0000000706050200ull, 0x0000000706050201ull, 0x0000070605020100ull,
    0x0000000007060503ull, 0x0000000706050300ull, 0x0000000706050301ull, 0x0000070605030100ull,
    0x0000000706050302ull, 0x0000070605030200ull, 0x0000070605030201ull, 0x0007060503020100ull,
    0x0000000007060504ull, 0x0000000706050400ull, 0x0000000706050401ull, 0x0000070605040100ull,
    0x0000000706050402ull, 0x0000070605040200ull, 0x0000070605040201ull, 0x0007060504020100ull,
    0x0000000706050403ull, 0x0000070605040300ull, 0x0000070605040301ull, 0x0007060504030100ull,
    0x0000070605040302ull, 0x0007060504030200ull, 0x0007060504030201ull, 0x0706050403020100ull,
};

__attribute__((target("avx2,popcnt")))
static ptrdiff_t tl_nonzero_index_avx2_f32(ptrdiff_t I, const float *x, int32_t *idx,
                                           float *val, int32_t *starts)
{
    /* spans of a block each when starts are wanted, else one: no test in
     * the inner loop */
    const ptrdiff_t Iv = I / 8 * 8, w = starts ? TL_IBLK : Iv;
    ptrdiff_t i = 0, n = 0;
    const __m256 zero = _mm256_setzero_ps();
    while (i < Iv) {
        const ptrdiff_t i1 = Iv - i > w ? i + w : Iv;
        if (starts)
            starts[i / TL_IBLK] = (int32_t)n;
        for (; i < i1; i += 8) {
            const __m256 v = _mm256_loadu_ps(x + i);
            const int m = _mm256_movemask_ps(_mm256_cmp_ps(v, zero, _CMP_NEQ_UQ));
            const __m256i pos = _mm256_cvtepu8_epi32(
                _mm_cvtsi64_si128((long long)tl_bit_positions[m]));
            _mm256_storeu_si256((__m256i *)(idx + n),
                                _mm256_add_epi32(pos, _mm256_set1_epi32((int)i)));
            _mm256_storeu_ps(val + n, _mm256_permutevar8x32_ps(v, pos));
            n += __builtin_popcount((unsigned)m);
        }
    }
    return tl_nonzero_index_portable_f32(i, I, x, idx, val, n, starts);
}

__attribute__((target("avx2,popcnt")))
static ptrdiff_t tl_nonzero_index_avx2_f64(ptrdiff_t I, const double *x, int32_t *idx,
                                           double *val, int32_t *starts)
{
    /* spans of a block each when starts are wanted, else one: no test in
     * the inner loop */
    const ptrdiff_t Iv = I / 4 * 4, w = starts ? TL_IBLK : Iv;
    ptrdiff_t i = 0, n = 0;
    const __m256d zero = _mm256_setzero_pd();
    while (i < Iv) {
        const ptrdiff_t i1 = Iv - i > w ? i + w : Iv;
        if (starts)
            starts[i / TL_IBLK] = (int32_t)n;
        for (; i < i1; i += 4) {
            const __m256d v = _mm256_loadu_pd(x + i);
            const int m = _mm256_movemask_pd(_mm256_cmp_pd(v, zero, _CMP_NEQ_UQ));
            const __m128i pos = _mm_cvtepu8_epi32(
                _mm_cvtsi32_si128((int)(uint32_t)tl_bit_positions[m]));
            /* double p is float lanes 2p and 2p + 1 */
            const __m256i p2 = _mm256_slli_epi64(_mm256_cvtepu32_epi64(pos), 1);
            const __m256i lanes = _mm256_or_si256(
                p2, _mm256_slli_epi64(_mm256_add_epi64(p2, _mm256_set1_epi64x(1)), 32));
            _mm_storeu_si128((__m128i *)(idx + n), _mm_add_epi32(pos, _mm_set1_epi32((int)i)));
            _mm256_storeu_pd(val + n, _mm256_castps_pd(_mm256_permutevar8x32_ps(
                                          _mm256_castpd_ps(v), lanes)));
            n += __builtin_popcount((unsigned)m);
        }
    }
    return tl_nonzero_index_portable_f64(i, I, x, idx, val, n, starts);
}
#endif

static ptrdiff_t tl_nonzero_index_f32(ptrdiff_t I, const float *x, int32_t *idx, float *val,
                                    int32_t *starts)
{
#ifdef TL_AVX2_COMPACT
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt"))
        return tl_nonzero_index_avx2_f32(I, x, idx, val, starts);
#endif
    return tl_nonzero_index_portable_f32(0, I, x, idx, val, 0, starts);
}

static ptrdiff_t tl_nonzero_index_f64(ptrdiff_t I, const double *x, int32_t *idx, double *val,
                                    int32_t *starts)
{
#ifdef TL_AVX2_COMPACT
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt"))
        return tl_nonzero_index_avx2_f64(I, x, idx, val, starts);
#endif
    return tl_nonzero_index_portable_f64(0, I, x, idx, val, 0, starts);
}

/* tl_nonzero_index_*'s lists with every column listed, zeros too: the lists
 * of rows whose products with zero inputs must be kept, because a zero input
 * times an inf or NaN weight (or dz1) is NaN in the book's dense products.
 * Taken only when cnet_any_nonfinite_* (nonfinite.h) finds such a value. */
static ptrdiff_t tl_all_index_f32(ptrdiff_t I, const float *x, int32_t *idx, float *val,
                                  int32_t *starts)
{
    ptrdiff_t i;
    for (i = 0; i < I; i++) {
        idx[i] = (int32_t)i;
        val[i] = x[i];
    }
    for (i = 0; starts && i < I; i += TL_IBLK)
        starts[i / TL_IBLK] = (int32_t)i;
    return I;
}

static ptrdiff_t tl_all_index_f64(ptrdiff_t I, const double *x, int32_t *idx, double *val,
                                  int32_t *starts)
{
    ptrdiff_t i;
    for (i = 0; i < I; i++) {
        idx[i] = (int32_t)i;
        val[i] = x[i];
    }
    for (i = 0; starts && i < I; i += TL_IBLK)
        starts[i / TL_IBLK] = (int32_t)i;
    return I;
}

/* W1 is checked for inf and NaN (nonfinite.h) once per call, in blocks of
 * TL_CHECK values shared by the threads. */
#define TL_CHECK 4096

/* --- scratch memory ----------------------------------------------------------
 * Each kernel takes its scratch as one block from the caller, who keeps it
 * from call to call (two_layer.h); the kernel carves its arrays from it. */

/* Bytes a kernel asks for beyond its arrays, to align the block's start. */
#define TL_ALIGN 64

/* The first TL_ALIGN-aligned address in a block at p. */
static char *tl_aligned(void *p)
{
    return (char *)(((uintptr_t)p + (TL_ALIGN - 1)) & ~(uintptr_t)(TL_ALIGN - 1));
}

/* The thread count a kernel and its scratch size use: nthreads, at least 1. */
static int tl_threads(int nthreads)
{
    return nthreads < 1 ? 1 : nthreads;
}

/* An array of the given bytes at base + *off, and *off moved past it, rounded
 * up to whole cache lines: every array starts aligned, and no two threads'
 * arrays share a line. With base NULL, only *off moves (the sizes are
 * counted by the same code that carves). */
static void *tl_carve(char *base, size_t *off, size_t bytes)
{
    void *p = base ? base + *off : NULL;
    *off += (bytes + TL_ALIGN - 1) & ~(size_t)(TL_ALIGN - 1);
    return p;
}

/* Batch rows handled together by one register tile (the dense path's x·W1,
 * where each W1 row loaded serves them all, and the output layer), and rows
 * per chunk of work handed to a thread (each block of W1 the hidden layer
 * reads into L1 serves a chunk's rows: 16 rows gave a 100-image gradient
 * on two threads in 136 us, 8 rows in 138 us). */
#define TL_RB 4
#define TL_RC 16

#define XT float
#define WT float
#define TL(name) tl_##name##_xf_wf
#define TL_NZ tl_nonzero_index_f32
#define TL_ALL tl_all_index_f32
#define TL_NONFINITE cnet_any_nonfinite_f32
#define TL_SIGMOID cnet_sigmoid_f32
#define TL_SIGMOID_GRAD_Y cnet_sigmoid_grad_y_f32
#define TL_SM(step) cnet_sm_##step##_f32
#define TL_CE_TERM cnet_ce_term_f32
#ifdef TL_HAVE_VEC
#define TL_VEC tl_vf
#define TL_VL (TL_VBYTES / 4)
#endif
#include "two_layer_impl.h"
#undef XT
#undef WT
#undef TL
#undef TL_NZ
#undef TL_ALL
#undef TL_NONFINITE
#undef TL_SIGMOID
#undef TL_SIGMOID_GRAD_Y
#undef TL_SM
#undef TL_CE_TERM
#undef TL_VEC
#undef TL_VL

#define XT float
#define WT double
#define TL(name) tl_##name##_xf_wd
#define TL_NZ tl_nonzero_index_f32
#define TL_ALL tl_all_index_f32
#define TL_NONFINITE cnet_any_nonfinite_f64
#define TL_SIGMOID cnet_sigmoid_f64
#define TL_SIGMOID_GRAD_Y cnet_sigmoid_grad_y_f64
#define TL_SM(step) cnet_sm_##step##_f64
#define TL_CE_TERM cnet_ce_term_f64
#ifdef TL_HAVE_VEC
#define TL_VEC tl_vd
#define TL_VL (TL_VBYTES / 8)
#endif
#include "two_layer_impl.h"
#undef XT
#undef WT
#undef TL
#undef TL_NZ
#undef TL_ALL
#undef TL_NONFINITE
#undef TL_SIGMOID
#undef TL_SIGMOID_GRAD_Y
#undef TL_SM
#undef TL_CE_TERM
#undef TL_VEC
#undef TL_VL

#define XT double
#define WT double
#define TL(name) tl_##name##_xd_wd
#define TL_NZ tl_nonzero_index_f64
#define TL_ALL tl_all_index_f64
#define TL_NONFINITE cnet_any_nonfinite_f64
#define TL_SIGMOID cnet_sigmoid_f64
#define TL_SIGMOID_GRAD_Y cnet_sigmoid_grad_y_f64
#define TL_SM(step) cnet_sm_##step##_f64
#define TL_CE_TERM cnet_ce_term_f64
#ifdef TL_HAVE_VEC
#define TL_VEC tl_vd
#define TL_VL (TL_VBYTES / 8)
#endif
#include "two_layer_impl.h"
#undef XT
#undef WT
#undef TL
#undef TL_NZ
#undef TL_ALL
#undef TL_NONFINITE
#undef TL_SIGMOID
#undef TL_SIGMOID_GRAD_Y
#undef TL_SM
#undef TL_CE_TERM
#undef TL_VEC
#undef TL_VL
