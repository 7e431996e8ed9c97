/* Weighted sums of gathered rows, the inner product of the fully connected
 * layer's sparse paths: a[j] = sum_e val[e] * M[idx[e], j], e ascending.
 * Inlined into the SIMD clones of their callers (affine_impl.h, and the
 * backward products of two_layer_impl.h), so compiled in each includer.
 *
 * The includer defines WT (element type), AG(name) (appends its suffix), and
 * where the compiler has vector types AG_VEC (a vector of WT that may be
 * unaligned) and AG_VL (its lanes). Every vector width, and the plain loops,
 * sum the same terms in the same order: the same bits. */

#ifdef AG_VEC
/* One register tile: NV vectors of columns starting at Mj = M + j0 of rows
 * ldm apart (every load at a constant offset from the row pointer), plus one
 * more vector at column offset jt from j0 (the last, partial vector of a row,
 * read as the full vector ending at the row's last column; its columns shared
 * with the tile get the very same sums, so storing them twice is harmless).
 * All NV + 1 accumulators stay in registers while the entries e, e + 1, ...
 * stream by, up to the first with e == n or idx[e] >= i1; returns that e.
 * aj OUT (or += when add) receives the sums. */
#define AG_TILE(NV)                                                                 \
    CNET_ALWAYS_INLINE ptrdiff_t AG(tile_##NV)(                                     \
        ptrdiff_t e, ptrdiff_t n, ptrdiff_t i1, const int32_t *CNET_RESTRICT idx,    \
        const WT *CNET_RESTRICT val, const WT *CNET_RESTRICT Mj, ptrdiff_t ldm,      \
        ptrdiff_t jt, WT *aj, int add)                                               \
    {                                                                                \
        AG_VEC s[NV], st;                                                            \
        ptrdiff_t k;                                                                 \
        for (k = 0; k < NV; k++)                                                     \
            s[k] = add ? *(const AG_VEC *)(aj + k * AG_VL) : (AG_VEC){0};            \
        st = add ? *(const AG_VEC *)(aj + jt) : (AG_VEC){0};                         \
        for (; e < n && idx[e] < i1; e++) {                                          \
            const WT v = val[e];                                                     \
            const WT *CNET_RESTRICT m = Mj + (ptrdiff_t)idx[e] * ldm;                \
            for (k = 0; k < NV; k++)                                                 \
                s[k] += v * *(const AG_VEC *)(m + k * AG_VL);                        \
            st += v * *(const AG_VEC *)(m + jt);                                     \
        }                                                                            \
        for (k = 0; k < NV; k++)                                                     \
            *(AG_VEC *)(aj + k * AG_VL) = s[k];                                      \
        *(AG_VEC *)(aj + jt) = st;                                                   \
        return e;                                                                    \
    }

AG_TILE(1)
AG_TILE(2)
AG_TILE(3)
AG_TILE(4)
AG_TILE(5)
AG_TILE(6)
AG_TILE(7)
AG_TILE(8)
AG_TILE(9)
AG_TILE(10)
AG_TILE(11)
AG_TILE(12)
#undef AG_TILE

/* The tile of nv <= 12 vectors (see AG_TILE). */
CNET_ALWAYS_INLINE ptrdiff_t AG(tile)(ptrdiff_t nv, ptrdiff_t e, ptrdiff_t n, ptrdiff_t i1,
                                      const int32_t *idx, const WT *val, const WT *Mj,
                                      ptrdiff_t ldm, ptrdiff_t jt, WT *aj, int add)
{
    switch (nv) {
    case 1: return AG(tile_1)(e, n, i1, idx, val, Mj, ldm, jt, aj, add);
    case 2: return AG(tile_2)(e, n, i1, idx, val, Mj, ldm, jt, aj, add);
    case 3: return AG(tile_3)(e, n, i1, idx, val, Mj, ldm, jt, aj, add);
    case 4: return AG(tile_4)(e, n, i1, idx, val, Mj, ldm, jt, aj, add);
    case 5: return AG(tile_5)(e, n, i1, idx, val, Mj, ldm, jt, aj, add);
    case 6: return AG(tile_6)(e, n, i1, idx, val, Mj, ldm, jt, aj, add);
    case 7: return AG(tile_7)(e, n, i1, idx, val, Mj, ldm, jt, aj, add);
    case 8: return AG(tile_8)(e, n, i1, idx, val, Mj, ldm, jt, aj, add);
    case 9: return AG(tile_9)(e, n, i1, idx, val, Mj, ldm, jt, aj, add);
    case 10: return AG(tile_10)(e, n, i1, idx, val, Mj, ldm, jt, aj, add);
    case 11: return AG(tile_11)(e, n, i1, idx, val, Mj, ldm, jt, aj, add);
    default: return AG(tile_12)(e, n, i1, idx, val, Mj, ldm, jt, aj, add);
    }
}

/* Pass v0 over a row of H columns (F full vectors): its tile has nv vectors
 * from column v0 AG_VL, and its extra vector starts jt columns after that. */
#ifndef AG_PASS
#define AG_PASS(v0, F, H, nv, jt, VL)                                                \
    const ptrdiff_t nv = (F) - (v0) < 12 ? (F) - (v0) : 12;                          \
    const ptrdiff_t jt = (((v0) + nv == (F) && (H) % (VL)) ? (H) - (VL)              \
                                                          : ((v0) + nv - 1) * (VL)) - \
                         (v0) * (VL)
#endif
#endif

/* a[j] (OUT, or += when add) = sum_e val[e] * M[idx[e], j] for j < H: a
 * weighted sum of n gathered rows of M (H columns, ldm apart), e ascending.
 * Up to 12 vectors of columns are summed in registers per pass over the
 * entries (one pass for H <= 48 in float64, 96 in float32). */
CNET_ALWAYS_INLINE void AG(gather_rows)(ptrdiff_t n, const int32_t *CNET_RESTRICT idx,
                                        const WT *CNET_RESTRICT val, const WT *CNET_RESTRICT M,
                                        ptrdiff_t H, ptrdiff_t ldm, WT *CNET_RESTRICT a, int add)
{
    ptrdiff_t j, e;
#ifdef AG_VEC
    const ptrdiff_t F = H / AG_VL; /* full vectors in a row */
    ptrdiff_t v0;
    for (v0 = 0; v0 < F; v0 += 12) {
        AG_PASS(v0, F, H, nv, jt, AG_VL);
        AG(tile)(nv, 0, n, PTRDIFF_MAX, idx, val, M + v0 * AG_VL, ldm, jt, a + v0 * AG_VL, add);
    }
    if (F > 0)
        return;
#endif
    /* each a[j] is summed in the same order as in the vector tiles */
    if (!add)
        for (j = 0; j < H; j++)
            a[j] = 0;
    for (e = 0; e < n; e++) {
        const WT v = val[e];
        const WT *CNET_RESTRICT m = M + (ptrdiff_t)idx[e] * ldm;
        for (j = 0; j < H; j++)
            a[j] += v * m[j];
    }
}
