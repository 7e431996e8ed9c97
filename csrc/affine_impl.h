/* Affine kernels for one (input type XT, weight type WT) pair; the includer
 * defines XT, WT, AF(name) (appends the pair's suffix), AF_NZ
 * (cnet_nonzero_index_* of nonzero_index.h for XT), AF_SIGMOID
 * (cnet_sigmoid_* of elementwise.h for WT) and, with vector types, AF_VEC
 * and AF_VL. Letters NB, NI, NO as in affine.h. Strides are in elements. */

/* The shared gathers: AF(tile), AF(gather_rows). */
#define AG(name) AF(name)
#ifdef AF_VEC
#define AG_VEC AF_VEC
#define AG_VL AF_VL
#endif
#include "affine_gather_impl.h"
#undef AG
#undef AG_VEC
#undef AG_VL

/* The row's inputs listed with every column, zeros too (the lists of rows
 * whose zero inputs must meet the weights: 0 * inf is NaN in the book's
 * product): idx, val OUT as cnet_nonzero_index_* makes them, starts too
 * unless NULL (blocks of sblk columns). Returns NI. */
static ptrdiff_t AF(all_index)(ptrdiff_t NI, const XT *x, int32_t *idx, XT *val,
                               int32_t *starts, ptrdiff_t sblk)
{
    ptrdiff_t i;
    for (i = 0; i < NI; i++) {
        idx[i] = (int32_t)i;
        val[i] = x[i];
    }
    for (i = 0; starts && i < NI; i += sblk)
        starts[i / sblk] = (int32_t)i;
    return NI;
}

/* Cache lines of the next rows of x prefetched per row and block of the
 * blocked gather, and the prefetch itself: the lines of [*pf, pf_end), at
 * most AF_PF_LINES of them, *pf moved past them. Spread out so, the
 * prefetches leave the gathers' loads their ports; in a burst they waited
 * for memory like the loads they replace. */
#define AF_PF_LINES 8

CNET_ALWAYS_INLINE void AF(prefetch_some)(const char **pf, const char *pf_end)
{
    int k;
    for (k = 0; k < AF_PF_LINES && *pf < pf_end; k++, *pf += 64)
        CNET_PREFETCH(*pf);
}

/* x·W for R <= CNET_AFFINE_RC rows: a (R, NO) OUT, a[r, :] = the gather_rows
 * of row r's n[r] entries, idx + r ld (columns, ascending, each below NI) and
 * val + r ld, over W (rows ldw apart); a row with no entries gets zeros.
 * Meanwhile it prefetches the bytes [pf, pf_end) (pf NULL: none). The vector
 * tiles take the entries in blocks of W's rows (columns [0, P), [P, 2P),
 * ...), each block for all R rows in turn: at MNIST's density most of a
 * block's rows then serve the chunk's rows from L1. A row's terms are still
 * summed in ascending e. */
CNET_DISPATCH
static void AF(gather_blocked)(ptrdiff_t R, const ptrdiff_t *n, ptrdiff_t ld, ptrdiff_t NI,
                               const int32_t *CNET_RESTRICT idx, const WT *CNET_RESTRICT val,
                               const WT *CNET_RESTRICT W, ptrdiff_t ldw, ptrdiff_t NO,
                               WT *CNET_RESTRICT a, const char *pf, const char *pf_end)
{
    ptrdiff_t r;
#ifdef AF_VEC
    const ptrdiff_t F = NO / AF_VL;
    ptrdiff_t v0, i1, cur[CNET_AFFINE_RC];
    /* one row shares no block of W: its entries in one sweep (same sums) */
    for (v0 = 0; v0 < F && R > 1; v0 += 12) {
        AG_PASS(v0, F, NO, nv, jt, AF_VL);
        /* W rows per block: their columns of this pass span 48 KiB (118 rows
         * for NO = 50 in float64); bench/PROFILE_functions.md */
        const ptrdiff_t P = 49152 / (ptrdiff_t)(sizeof(WT) * AF_VL * (nv + 1));
        for (r = 0; r < R; r++)
            cur[r] = 0;
        i1 = 0;
        do {
            i1 = NI - i1 > P ? i1 + P : NI;
            for (r = 0; r < R; r++) {
                const ptrdiff_t e = cur[r];
                AF(prefetch_some)(&pf, pf_end);
                /* a row's first entries start its sums; a row with none
                 * gets zeros in the last block */
                if (e < n[r] ? idx[r * ld + e] < i1 : e == 0 && i1 == NI)
                    cur[r] = AF(tile)(nv, e, n[r], i1, idx + r * ld, val + r * ld,
                                      W + v0 * AF_VL, ldw, jt, a + r * NO + v0 * AF_VL, e > 0);
            }
        } while (i1 < NI);
    }
    if (F > 0 && R > 1)
        return;
#endif
    for (r = 0; r < R; r++) {
        AF(prefetch_some)(&pf, pf_end);
        AF(gather_rows)(n[r], idx + r * ld, val + r * ld, W, NO, ldw, a + r * NO, 0);
    }
}

/* Dense x·W for exactly CNET_AFFINE_RB rows: a (RB, NO) OUT, a[r, j] = sum_i
 * x[r, i] W[i, j] (x's rows xs apart, W's ldw), i ascending, zeros included:
 * the same sums as gather_rows. Each W row loaded serves the RB rows. */
CNET_DISPATCH
static void AF(dense_rows)(ptrdiff_t NI, ptrdiff_t NO, const XT *CNET_RESTRICT x, ptrdiff_t xs,
                           const WT *CNET_RESTRICT W, ptrdiff_t ldw, WT *CNET_RESTRICT a)
{
    ptrdiff_t j, i, r;
#ifdef AF_VEC
    /* Vectors of columns two at a time: RB x 2 accumulators in registers.
     * The last, partial vector is the full vector ending at column NO (its
     * columns shared with the one before get the same sums). */
    const ptrdiff_t F = NO / AF_VL;
    const ptrdiff_t nvec = F + (NO % AF_VL != 0);
    ptrdiff_t v;
    for (v = 0; v < nvec && F > 0; v += 2) {
        const ptrdiff_t o0 = v < F ? v * AF_VL : NO - AF_VL;
        const ptrdiff_t o1 = v + 1 < F ? (v + 1) * AF_VL : (v + 1 < nvec ? NO - AF_VL : o0);
        AF_VEC s[CNET_AFFINE_RB][2];
        for (r = 0; r < CNET_AFFINE_RB; r++)
            s[r][0] = s[r][1] = (AF_VEC){0};
        for (i = 0; i < NI; i++) {
            const AF_VEC m0 = *(const AF_VEC *)(W + i * ldw + o0);
            const AF_VEC m1 = *(const AF_VEC *)(W + i * ldw + o1);
            for (r = 0; r < CNET_AFFINE_RB; r++) {
                const WT xv = (WT)x[r * xs + i];
                s[r][0] += xv * m0;
                s[r][1] += xv * m1;
            }
        }
        for (r = 0; r < CNET_AFFINE_RB; r++) {
            *(AF_VEC *)(a + r * NO + o0) = s[r][0];
            *(AF_VEC *)(a + r * NO + o1) = s[r][1];
        }
    }
    if (F > 0)
        return;
#endif
    for (r = 0; r < CNET_AFFINE_RB; r++)
        for (j = 0; j < NO; j++)
            a[r * NO + j] = 0;
    for (i = 0; i < NI; i++) {
        const WT *CNET_RESTRICT m = W + i * ldw;
        for (r = 0; r < CNET_AFFINE_RB; r++) {
            const WT xv = (WT)x[r * xs + i];
            for (j = 0; j < NO; j++)
                a[r * NO + j] += xv * m[j];
        }
    }
}

/* The epilogue on R rows of NO sums a (IN, OUT in place): a + b (the bias
 * added last, as the book's (x·W) + b), then per epilogue: nothing; ReLU,
 * mask (R, NO) OUT = (a + b <= 0) as the Relu layer keeps it; or the sigmoid,
 * in one flat loop over the rows so that exp runs on full vectors (a row of
 * 50 would leave two values to scalar exp). */
CNET_DISPATCH
static void AF(bias_act)(ptrdiff_t R, ptrdiff_t NO, const WT *CNET_RESTRICT b,
                         WT *CNET_RESTRICT a, unsigned char *CNET_RESTRICT mask, int epilogue)
{
    ptrdiff_t r, j, k;
    if (epilogue == CNET_AFFINE_BIAS_RELU) {
        for (k = 0, r = 0; r < R; r++)
            for (j = 0; j < NO; j++, k++) {
                const WT v = a[k] + b[j];
                const int m = v <= 0;
                mask[k] = (unsigned char)m;
                a[k] = m ? (WT)0 : v;
            }
        return;
    }
    for (r = 0; r < R; r++)
        for (j = 0; j < NO; j++)
            a[r * NO + j] += b[j];
    if (epilogue == CNET_AFFINE_BIAS_SIGMOID)
        for (k = 0; k < R * NO; k++)
            a[k] = AF_SIGMOID(a[k]);
}

/* The lists of R rows' inputs: row r's columns, ascending, in idx + r (NI +
 * 8) OUT (n[r] of them, n (R) OUT), their values in xval + r (NI + 8) OUT,
 * zeros left out unless all is set; unless starts is NULL, starts + r S (S =
 * ceil(NI / sblk) + 1) OUT holds where each block of sblk columns starts in
 * row r's list, and n[r] last. x (R, NI) rows xs apart IN. */
void AF(row_lists)(ptrdiff_t R, const XT *x, ptrdiff_t xs, ptrdiff_t NI, int all, int32_t *idx,
                   XT *xval, ptrdiff_t *n, int32_t *starts, ptrdiff_t sblk)
{
    const ptrdiff_t S = starts ? (NI + sblk - 1) / sblk + 1 : 0;
    ptrdiff_t r;
    for (r = 0; r < R; r++) {
        int32_t *st = starts ? starts + r * S : NULL;
        n[r] = all ? AF(all_index)(NI, x + r * xs, idx + r * (NI + 8), xval + r * (NI + 8), st,
                                   sblk)
                   : AF_NZ(NI, x + r * xs, idx + r * (NI + 8), xval + r * (NI + 8), st, sblk);
        if (st)
            st[S - 1] = (int32_t)n[r];
    }
}

/* out (R, NO) C-contiguous OUT = epilogue(x·W + b) for R <= CNET_AFFINE_RC
 * rows: x (R, NI) rows xs apart IN, W (NI, NO) rows ldw >= NO apart IN, b
 * (NO,) IN, mask (R, NO) OUT for CNET_AFFINE_BIAS_RELU (else unused). Each
 * sum runs over ascending inputs. Zero inputs are left out (exact when W is
 * finite) unless all is set. Dense groups of CNET_AFFINE_RB rows (at least
 * half non-zero) take dense_rows; the other rows gather the W rows of their
 * non-zero inputs in blocks of W that stay in L1 for the chunk.
 * Row r's listed columns are idx + r (NI + 8) OUT (n[r] of them, n (R) OUT),
 * their values xval + r (NI + 8) OUT; unless starts is NULL, starts + r S
 * (S = ceil(NI / sblk) + 1) OUT holds where each block of sblk columns starts
 * in that list, and n[r] last. val (R (NI + 8)) is scratch. The gathers
 * prefetch the bytes [pf, pf_end) (pf NULL: none), the rows of x a caller
 * reads next. */
void AF(forward_chunk)(ptrdiff_t R, const XT *x, ptrdiff_t xs, const WT *W, ptrdiff_t ldw,
                       const WT *b, WT *out, unsigned char *mask, ptrdiff_t NI, ptrdiff_t NO,
                       int epilogue, int all, int32_t *idx, XT *xval, ptrdiff_t *n,
                       int32_t *starts, ptrdiff_t sblk, WT *val, const char *pf,
                       const char *pf_end)
{
    ptrdiff_t r, g, e, sparse[CNET_AFFINE_RC] = {0};
    int dense[CNET_AFFINE_RC];
    AF(row_lists)(R, x, xs, NI, all, idx, xval, n, starts, sblk);
    for (g = 0; g < R; g += CNET_AFFINE_RB) {
        const ptrdiff_t G = R - g < CNET_AFFINE_RB ? R - g : CNET_AFFINE_RB;
        ptrdiff_t total = 0;
        for (r = g; r < g + G; r++)
            total += n[r];
        for (r = g; r < g + G; r++) {
            dense[r] = G == CNET_AFFINE_RB && 2 * total >= G * NI;
            sparse[r] = dense[r] ? 0 : n[r];
            for (e = 0; e < sparse[r]; e++)
                val[r * (NI + 8) + e] = (WT)xval[r * (NI + 8) + e];
        }
    }
    /* the dense groups' rows, zeroed here, are then written whole */
    AF(gather_blocked)(R, sparse, NI + 8, NI, idx, val, W, ldw, NO, out, pf, pf_end);
    for (g = 0; g < R; g += CNET_AFFINE_RB)
        if (dense[g])
            AF(dense_rows)(NI, NO, x + g * xs, xs, W, ldw, out + g * NO);
    AF(bias_act)(R, NO, b, out, mask, epilogue);
}

/* Column lists of x's inputs: cstart[k] OUT (NI + 1 entries) = where input k's
 * list starts, cstart[NI] = total. With skip_zeros only the rows r with
 * x[r, k] != 0 are counted, else all NB rows. x (NB, NI) rows xs apart IN. */
CNET_DISPATCH void AF(column_counts)(const XT *x, ptrdiff_t xs, ptrdiff_t NB, ptrdiff_t NI,
                                     int skip_zeros, int *cstart)
{
    ptrdiff_t r, k;
    int total = 0;
    for (k = 0; k < NI; k++)
        cstart[k] = skip_zeros ? 0 : (int)NB;
    if (skip_zeros)
        for (r = 0; r < NB; r++) {
            const XT *xr = x + r * xs;
            for (k = 0; k < NI; k++)
                cstart[k] += xr[k] != 0;
        }
    for (k = 0; k < NI; k++) {
        const int c = cstart[k];
        cstart[k] = total;
        total += c;
    }
    cstart[NI] = total;
}

/* The column lists counted by column_counts: crow[cstart[k] ..] OUT = the rows
 * of input k's list in ascending order, cval OUT = their x[r, k]. x as for
 * column_counts, cstart IN; pos (NI ints), idx (NI + 8 ints) and val (NI + 8)
 * scratch. */
CNET_DISPATCH void AF(column_lists)(const XT *x, ptrdiff_t xs, ptrdiff_t NB, ptrdiff_t NI,
                                    int skip_zeros, const int *cstart, int *crow, XT *cval,
                                    int *pos, int *idx, XT *val)
{
    ptrdiff_t r, k, e, n;
    for (k = 0; k < NI; k++)
        pos[k] = cstart[k];
    for (r = 0; r < NB; r++) {
        const XT *xr = x + r * xs;
        if (skip_zeros) {
            n = AF_NZ(NI, xr, idx, val, NULL, NI);
            for (e = 0; e < n; e++) {
                const int p = pos[idx[e]]++;
                crow[p] = (int)r;
                cval[p] = val[e];
            }
        } else {
            for (k = 0; k < NI; k++) {
                const int p = pos[k]++;
                crow[p] = (int)r;
                cval[p] = xr[k];
            }
        }
    }
}

/* xᵀ·dout for the columns i of block q, [q sblk, (q + 1) sblk) and below
 * NI: dW[i, :] OUT (or += when add) = sum over the G rows b, ascending, of
 * x[b, i] dout[b, :]; dout (G, NO) rows ldd apart IN, dW (NI, NO)
 * C-contiguous. The rows' lists are row_lists' (rl, rv, rs for the G rows,
 * with starts), so x is not read again: they are first turned into lists per
 * column (lidx, lval: sblk lists of cap >= G entries, scratch), then each
 * column gathers its rows of dout. sblk <= CNET_AFFINE_MAX_SBLK. */
CNET_DISPATCH void AF(grad_w_rows)(ptrdiff_t G, ptrdiff_t NI, ptrdiff_t NO, ptrdiff_t q,
                                   ptrdiff_t sblk, const int32_t *rl, const XT *rv,
                                   const int32_t *rs, const WT *dout, ptrdiff_t ldd, WT *dW,
                                   int32_t *lidx, WT *lval, ptrdiff_t cap, int add)
{
    const ptrdiff_t i0 = q * sblk, w = NI - i0 < sblk ? NI - i0 : sblk;
    const ptrdiff_t S = (NI + sblk - 1) / sblk + 1;
    ptrdiff_t b, c, e, m[CNET_AFFINE_MAX_SBLK];
    for (c = 0; c < w; c++)
        m[c] = c * cap;
    for (b = 0; b < G; b++) {
        const int32_t *CNET_RESTRICT list = rl + b * (NI + 8);
        const XT *CNET_RESTRICT vals = rv + b * (NI + 8);
        const ptrdiff_t e1 = rs[b * S + q + 1];
        for (e = rs[b * S + q]; e < e1; e++) {
            const ptrdiff_t p = m[list[e] - i0]++;
            lidx[p] = (int32_t)b;
            lval[p] = (WT)vals[e];
        }
    }
    for (c = 0; c < w; c++)
        AF(gather_rows)(m[c] - c * cap, lidx + c * cap, lval + c * cap, dout, NO, ldd,
                        dW + (i0 + c) * NO, add);
}

/* dx = dout·Wᵀ for R rows: dx (R, NI) rows ldx apart OUT, dout (R, NO) rows
 * ldd apart IN, Wt (NO, NI) = Wᵀ rows ldt apart IN, iota (NO) = 0, 1, ...,
 * NO - 1 IN. Each dx[r, i] is summed over ascending k, a gather of all of
 * Wt's rows weighted by dout's row. */
CNET_DISPATCH void AF(dx_rows)(ptrdiff_t R, ptrdiff_t NI, ptrdiff_t NO, const WT *dout,
                               ptrdiff_t ldd, const WT *Wt, ptrdiff_t ldt, const int32_t *iota,
                               WT *dx, ptrdiff_t ldx)
{
    ptrdiff_t r;
    for (r = 0; r < R; r++)
        AF(gather_rows)(NO, iota, dout + r * ldd, Wt, NI, ldt, dx + r * ldx, 0);
}

/* out[q * Op + k] OUT = sum_s a[q][s as] V[s Op + k] for q < nq <= CNET_AFFINE_RB,
 * k < Op, s from 0 to n - 1 in order: nq rows of a product with V (n, Op),
 * the rows of the left factor read at stride as from a[q], Op a multiple of
 * CNET_AFFINE_OV vectors (CNET_AFFINE_VBYTES wide; 1 without vector types).
 * The chapter-4 output layer's z1·W2 (rows of z1, V = W2 padded) and its
 * z1ᵀ·dy (columns of z1, V = dy) are this. Up to CNET_AFFINE_RB
 * rows times CNET_AFFINE_OV vectors of V are summed in registers; a short tile repeats
 * its first row rather than branch. */
CNET_DISPATCH void AF(rows_times)(ptrdiff_t nq, ptrdiff_t n, const WT *const *a, ptrdiff_t as,
                                  const WT *CNET_RESTRICT V, ptrdiff_t Op, WT *CNET_RESTRICT out)
{
    ptrdiff_t q, s, k;
#ifdef AF_VEC
    const WT *aq[CNET_AFFINE_RB];
    ptrdiff_t v0;
    for (q = 0; q < CNET_AFFINE_RB; q++)
        aq[q] = a[q < nq ? q : 0];
    for (v0 = 0; v0 < Op; v0 += CNET_AFFINE_OV * AF_VL) {
        AF_VEC acc[CNET_AFFINE_RB][CNET_AFFINE_OV];
        for (q = 0; q < CNET_AFFINE_RB; q++)
            for (k = 0; k < CNET_AFFINE_OV; k++)
                acc[q][k] = (AF_VEC){0};
        for (s = 0; s < n; s++) {
            const WT *v = V + s * Op + v0;
            for (q = 0; q < CNET_AFFINE_RB; q++) {
                const WT w = aq[q][s * as];
                for (k = 0; k < CNET_AFFINE_OV; k++)
                    acc[q][k] += w * *(const AF_VEC *)(v + k * AF_VL);
            }
        }
        for (q = 0; q < nq; q++)
            for (k = 0; k < CNET_AFFINE_OV; k++)
                *(AF_VEC *)(out + q * Op + v0 + k * AF_VL) = acc[q][k];
    }
#else
    for (q = 0; q < nq; q++) {
        WT *o = out + q * Op;
        for (k = 0; k < Op; k++)
            o[k] = 0;
        for (s = 0; s < n; s++)
            for (k = 0; k < Op; k++)
                o[k] += a[q][s * as] * V[s * Op + k];
    }
#endif
}

/* db[j] = sum over r of dout[r, j] (ascending r): dout (NB, NO) rows ldd apart
 * (ldd >= NO) IN, db (NO,) OUT. */
CNET_DISPATCH void AF(grad_b)(const WT *dout, ptrdiff_t ldd, WT *db, ptrdiff_t NB,
                                  ptrdiff_t NO)
{
    ptrdiff_t r, j;
    for (j = 0; j < NO; j++)
        db[j] = 0;
    for (r = 0; r < NB; r++)
        for (j = 0; j < NO; j++)
            db[j] += dout[r * ldd + j];
}
