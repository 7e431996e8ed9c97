/* One SIMD path of the convolution's matrix product (contract of
 * cnet_conv_gemm in conv.h), for one element type; included by
 * conv_gemm_impl.h once per path with:
 *   GEMM_NAME(name)  the path's function names
 *   GEMM_TARGET      the path's target attribute (empty for the baseline)
 *   GEMM_BYTES       bytes of one vector of the path
 *   GEMM_MR          rows of C per register tile (8 at most)
 * A register tile is GEMM_MR rows by two vectors of columns of C, summed
 * over all of K before it is stored. */

typedef CNET_T GEMM_NAME(vec) __attribute__((vector_size(GEMM_BYTES), aligned(sizeof(CNET_T))));

/* C[i, j] for i < mr, j < 2 vectors: the tile at A's row 0 and B's column 0. */
static inline __attribute__((always_inline)) GEMM_TARGET void
GEMM_NAME(tile)(int mr, const CNET_T *A, ptrdiff_t lda, const CNET_T *B, ptrdiff_t ldb,
                CNET_T *C, ptrdiff_t ldc, ptrdiff_t K)
{
    enum { LANES = GEMM_BYTES / sizeof(CNET_T) };
    GEMM_NAME(vec) c0[8], c1[8];
    GEMM_NAME(vec) zero = -(GEMM_NAME(vec)){0}; /* -0.0: a plain sum */
    ptrdiff_t k;
    int i;
    for (i = 0; i < mr; i++) {
        c0[i] = zero;
        c1[i] = zero;
    }
    for (k = 0; k < K; k++) {
        GEMM_NAME(vec) b0 = *(const GEMM_NAME(vec) *)(B + k * ldb);
        GEMM_NAME(vec) b1 = *(const GEMM_NAME(vec) *)(B + k * ldb + LANES);
        for (i = 0; i < mr; i++) {
            CNET_T a = A[i * lda + k];
            GEMM_NAME(vec) p0 = a * b0, p1 = a * b1;
            c0[i] += p0;
            c1[i] += p1;
        }
    }
    for (i = 0; i < mr; i++) {
        *(GEMM_NAME(vec) *)(C + i * ldc) = c0[i];
        *(GEMM_NAME(vec) *)(C + i * ldc + LANES) = c1[i];
    }
}

/* The tiles of the columns j0 .. j0 + 2 vectors, all rows. */
static GEMM_TARGET void
GEMM_NAME(columns)(const CNET_T *A, ptrdiff_t lda, const CNET_T *B, ptrdiff_t ldb,
                   CNET_T *C, ptrdiff_t ldc, ptrdiff_t M, ptrdiff_t K)
{
    ptrdiff_t i0;
    for (i0 = 0; i0 + GEMM_MR <= M; i0 += GEMM_MR)
        GEMM_NAME(tile)(GEMM_MR, A + i0 * lda, lda, B, ldb, C + i0 * ldc, ldc, K);
    A += i0 * lda;
    C += i0 * ldc;
    /* The last M mod GEMM_MR rows: a copy of the tile for each count (a
     * constant mr keeps the tile in registers). */
    switch (M - i0) {
    case 1: GEMM_NAME(tile)(1, A, lda, B, ldb, C, ldc, K); break;
    case 2: GEMM_NAME(tile)(2, A, lda, B, ldb, C, ldc, K); break;
    case 3: GEMM_NAME(tile)(3, A, lda, B, ldb, C, ldc, K); break;
    case 4: GEMM_NAME(tile)(4, A, lda, B, ldb, C, ldc, K); break;
    case 5: GEMM_NAME(tile)(5, A, lda, B, ldb, C, ldc, K); break;
    case 6: GEMM_NAME(tile)(6, A, lda, B, ldb, C, ldc, K); break;
    case 7: GEMM_NAME(tile)(7, A, lda, B, ldb, C, ldc, K); break;
    default: break;
    }
}

/* The whole product; N at least one tile's columns (the caller checks). */
static GEMM_TARGET void
GEMM_NAME(gemm)(const CNET_T *A, ptrdiff_t lda, const CNET_T *B, ptrdiff_t ldb,
                CNET_T *C, ptrdiff_t ldc, ptrdiff_t M, ptrdiff_t N, ptrdiff_t K)
{
    enum { NR = 2 * (GEMM_BYTES / sizeof(CNET_T)) };
    ptrdiff_t j0, j;
    for (j0 = 0; j0 < N; j0 += NR) {
        /* A last tile that would pass column N overlaps the one before: its
         * shared columns are computed again, to the same bits. */
        j = j0 + NR <= N ? j0 : N - NR;
        GEMM_NAME(columns)(A, lda, B + j, ldb, C + j, ldc, M, K);
    }
}
