/* The convolution's matrix product (contract of cnet_conv_gemm in conv.h)
 * for one element type; included by conv.c once per type with CNET_T and
 * CNET_SFX(name). Every path computes each C[i, j] as the same chain
 * -0.0 + A[i,0]*B[0,j] + A[i,1]*B[1,j] + ..., each product rounded before it
 * is added, so the paths differ in speed only, never in bits. */

/* The plain loops (compilers without GCC vector types, and columns fewer
 * than a tile): row i of C summed over k, vectorizable across j. */
static void CNET_SFX(conv_gemm_plain)(const CNET_T *A, ptrdiff_t lda, const CNET_T *B,
                                 ptrdiff_t ldb, CNET_T *C, ptrdiff_t ldc, ptrdiff_t M,
                                 ptrdiff_t N, ptrdiff_t K)
{
    ptrdiff_t i, j, k;
    for (i = 0; i < M; i++) {
        CNET_T *c = C + i * ldc;
        for (j = 0; j < N; j++)
            c[j] = (CNET_T)-0.0;
        for (k = 0; k < K; k++) {
            const CNET_T a = A[i * lda + k];
            const CNET_T *b = B + k * ldb;
            for (j = 0; j < N; j++) {
                CNET_T p = a * b[j];
                c[j] += p;
            }
        }
    }
}

#ifdef CNET_GEMM_VECTORS
/* Baseline: 16-byte vectors (SSE2 on x86-64, NEON on aarch64), 16 registers. */
#define GEMM_NAME(name) CNET_SFX(conv_##name##_base)
#define GEMM_TARGET
#define GEMM_BYTES 16
#define GEMM_MR 4
#include "conv_gemm_path.h"
#undef GEMM_NAME
#undef GEMM_TARGET
#undef GEMM_BYTES
#undef GEMM_MR
#endif

#ifdef CNET_GEMM_WIDE
/* AVX2: 32-byte vectors, 16 registers. */
#define GEMM_NAME(name) CNET_SFX(conv_##name##_avx2)
#define GEMM_TARGET __attribute__((target("avx2")))
#define GEMM_BYTES 32
#define GEMM_MR 4
#include "conv_gemm_path.h"
#undef GEMM_NAME
#undef GEMM_TARGET
#undef GEMM_BYTES
#undef GEMM_MR

/* AVX-512: 64-byte vectors, 32 registers. */
#define GEMM_NAME(name) CNET_SFX(conv_##name##_avx512f)
#define GEMM_TARGET __attribute__((target("avx512f")))
#define GEMM_BYTES 64
#define GEMM_MR 8
#include "conv_gemm_path.h"
#undef GEMM_NAME
#undef GEMM_TARGET
#undef GEMM_BYTES
#undef GEMM_MR
#endif

#ifndef CNET_CONV_GEMM_BEST
#define CNET_CONV_GEMM_BEST
int cnet_conv_gemm_best(void)
{
#ifdef CNET_GEMM_WIDE
    if (__builtin_cpu_supports("avx512f"))
        return CNET_GEMM_AVX512F;
    if (__builtin_cpu_supports("avx2"))
        return CNET_GEMM_AVX2;
#endif
#ifdef CNET_GEMM_VECTORS
    return CNET_GEMM_BASE;
#else
    return CNET_GEMM_PLAIN;
#endif
}
#endif

int CNET_SFX(cnet_conv_gemm)(const CNET_T *A, ptrdiff_t lda, const CNET_T *B, ptrdiff_t ldb,
                             CNET_T *C, ptrdiff_t ldc, ptrdiff_t M, ptrdiff_t N, ptrdiff_t K,
                             int path)
{
    /* Columns of one tile of each path: the widest path whose tile fits in
     * N runs (a float32 dWᵀ of 16 or 30 filters is narrower than the
     * AVX-512 tile's 32 columns). */
    enum { NR512 = 128 / sizeof(CNET_T), NR256 = 64 / sizeof(CNET_T),
           NR128 = 32 / sizeof(CNET_T) };
    if (path <= 0)
        path = CNET_GEMM_AVX512F;
#ifdef CNET_GEMM_WIDE
    if (path >= CNET_GEMM_AVX512F && N >= NR512 && __builtin_cpu_supports("avx512f")) {
        CNET_SFX(conv_gemm_avx512f)(A, lda, B, ldb, C, ldc, M, N, K);
        return CNET_GEMM_AVX512F;
    }
    if (path >= CNET_GEMM_AVX2 && N >= NR256 && __builtin_cpu_supports("avx2")) {
        CNET_SFX(conv_gemm_avx2)(A, lda, B, ldb, C, ldc, M, N, K);
        return CNET_GEMM_AVX2;
    }
#endif
#ifdef CNET_GEMM_VECTORS
    if (path >= CNET_GEMM_BASE && N >= NR128) {
        CNET_SFX(conv_gemm_base)(A, lda, B, ldb, C, ldc, M, N, K);
        return CNET_GEMM_BASE;
    }
#endif
    (void)NR512;
    (void)NR256;
    (void)NR128;
    CNET_SFX(conv_gemm_plain)(A, lda, B, ldb, C, ldc, M, N, K);
    return CNET_GEMM_PLAIN;
}
