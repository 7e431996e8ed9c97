/* Lists of the non-zero inputs of a row, shared by the kernels that skip zero
 * inputs (MNIST pixels: about 81 % are zero): the chapter-4 TwoLayerNet
 * (two_layer.c) and the fully connected layer (affine.c).
 *
 * cnet_nonzero_index_f32/_f64(I, x, idx, val, starts, blk) writes the ascending
 * indices i < I with x[i] != 0 (NaN counts as non-zero, as in C) to idx, those
 * x[i] to val, and returns their number; idx and val need I + 8 entries (the
 * vector path stores 8 at a time). Unless starts is NULL, starts[k] OUT = the
 * number of those below column k * blk, for every k * blk < I: where each
 * block of blk columns starts in the lists (xᵀ·dz1's work units). On x86-64 CPUs with AVX2 it
 * compares 8 (4) inputs at once and stores their indices and values packed
 * through a table of bit positions, without a branch per input; elsewhere a
 * branch-free scalar loop (which also scans the AVX2 path's last few inputs:
 * cnet_nz_portable_*(i, I, x, idx, val, n, starts, blk) lists those >= i
 * from position n on and returns the new count). Both give the same lists. */
#ifndef CNET_NONZERO_INDEX_H
#define CNET_NONZERO_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "cnet_common.h"

CNET_INLINE ptrdiff_t cnet_nz_portable_f32(ptrdiff_t i, ptrdiff_t I, const float *x,
                                           int32_t *idx, float *val, ptrdiff_t n,
                                           int32_t *starts, ptrdiff_t blk)
{
    /* the first block start from i on (none when starts is NULL) */
    ptrdiff_t next = starts ? (i + blk - 1) / blk * blk : I;
    for (; i < I; i++) {
        if (i == next) {
            starts[i / blk] = (int32_t)n;
            next += blk;
        }
        idx[n] = (int32_t)i;
        val[n] = x[i];
        n += x[i] != 0;
    }
    return n;
}

CNET_INLINE ptrdiff_t cnet_nz_portable_f64(ptrdiff_t i, ptrdiff_t I, const double *x,
                                           int32_t *idx, double *val, ptrdiff_t n,
                                           int32_t *starts, ptrdiff_t blk)
{
    /* the first block start from i on (none when starts is NULL) */
    ptrdiff_t next = starts ? (i + blk - 1) / blk * blk : I;
    for (; i < I; i++) {
        if (i == next) {
            starts[i / blk] = (int32_t)n;
            next += blk;
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
#define CNET_NZ_AVX2 1

/* Byte k of entry m: the position of the k-th set bit of m (0 past the last). */
static const uint64_t cnet_nz_bit_positions[256] = {
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
CNET_INLINE ptrdiff_t cnet_nz_avx2_f32(ptrdiff_t I, const float *x, int32_t *idx,
                                       float *val, int32_t *starts, ptrdiff_t blk)
{
    /* spans of a block each when starts are wanted, else one: no test in
     * the inner loop */
    const ptrdiff_t Iv = I / 8 * 8, w = starts ? blk : Iv;
    ptrdiff_t i = 0, n = 0;
    const __m256 zero = _mm256_setzero_ps();
    while (i < Iv) {
        const ptrdiff_t i1 = Iv - i > w ? i + w : Iv;
        if (starts)
            starts[i / blk] = (int32_t)n;
        for (; i < i1; i += 8) {
            const __m256 v = _mm256_loadu_ps(x + i);
            const int m = _mm256_movemask_ps(_mm256_cmp_ps(v, zero, _CMP_NEQ_UQ));
            const __m256i pos = _mm256_cvtepu8_epi32(
                _mm_cvtsi64_si128((long long)cnet_nz_bit_positions[m]));
            _mm256_storeu_si256((__m256i *)(idx + n),
                                _mm256_add_epi32(pos, _mm256_set1_epi32((int)i)));
            _mm256_storeu_ps(val + n, _mm256_permutevar8x32_ps(v, pos));
            n += __builtin_popcount((unsigned)m);
        }
    }
    return cnet_nz_portable_f32(i, I, x, idx, val, n, starts, blk);
}

__attribute__((target("avx2,popcnt")))
CNET_INLINE ptrdiff_t cnet_nz_avx2_f64(ptrdiff_t I, const double *x, int32_t *idx,
                                       double *val, int32_t *starts, ptrdiff_t blk)
{
    /* spans of a block each when starts are wanted, else one: no test in
     * the inner loop */
    const ptrdiff_t Iv = I / 4 * 4, w = starts ? blk : Iv;
    ptrdiff_t i = 0, n = 0;
    const __m256d zero = _mm256_setzero_pd();
    while (i < Iv) {
        const ptrdiff_t i1 = Iv - i > w ? i + w : Iv;
        if (starts)
            starts[i / blk] = (int32_t)n;
        for (; i < i1; i += 4) {
            const __m256d v = _mm256_loadu_pd(x + i);
            const int m = _mm256_movemask_pd(_mm256_cmp_pd(v, zero, _CMP_NEQ_UQ));
            const __m128i pos = _mm_cvtepu8_epi32(
                _mm_cvtsi32_si128((int)(uint32_t)cnet_nz_bit_positions[m]));
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
    return cnet_nz_portable_f64(i, I, x, idx, val, n, starts, blk);
}
#endif

CNET_INLINE ptrdiff_t cnet_nonzero_index_f32(ptrdiff_t I, const float *x, int32_t *idx,
                                             float *val, int32_t *starts, ptrdiff_t blk)
{
#ifdef CNET_NZ_AVX2
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt"))
        return cnet_nz_avx2_f32(I, x, idx, val, starts, blk);
#endif
    return cnet_nz_portable_f32(0, I, x, idx, val, 0, starts, blk);
}

CNET_INLINE ptrdiff_t cnet_nonzero_index_f64(ptrdiff_t I, const double *x, int32_t *idx,
                                             double *val, int32_t *starts, ptrdiff_t blk)
{
#ifdef CNET_NZ_AVX2
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt"))
        return cnet_nz_avx2_f64(I, x, idx, val, starts, blk);
#endif
    return cnet_nz_portable_f64(0, I, x, idx, val, 0, starts, blk);
}

#endif
