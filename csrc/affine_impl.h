/* Affine kernels for one (input type XT, weight type WT) pair; the includer
 * defines XT, WT, AF(name) (appends the pair's suffix) and AF_NZ
 * (cnet_nonzero_index_* of nonzero_index.h for XT). Letters NB, NI, NO as
 * in affine.h (NB, NI, NO). Strides are in elements. */

/* Inputs tested together for being all zero before the row's list is made. */
#ifndef AF_SCAN
#define AF_SCAN 16
#endif

#ifdef AF_VEC
/* One register tile of a row's gather: NV vectors of columns from Wj (rows
 * ldw apart), plus, when jt >= 0, the vector at column offset jt (a row's
 * last, partial vector read as the full vector ending at its last column:
 * the columns it shares with the tile get the very same sums). All
 * accumulators stay in registers while the list's n entries stream by once;
 * s OUT receives the sums. */
#define AF_GATHER_TILE(NV)                                                               \
    CNET_ALWAYS_INLINE void AF(gather_##NV)(ptrdiff_t n, const int *CNET_RESTRICT idx,   \
                                            const XT *CNET_RESTRICT val, const WT *Wj,   \
                                            ptrdiff_t ldw, ptrdiff_t jt, WT *s)          \
    {                                                                                    \
        AF_VEC a[NV], t = {0};                                                           \
        ptrdiff_t e, q;                                                                  \
        for (q = 0; q < NV; q++)                                                         \
            a[q] = (AF_VEC){0};                                                          \
        if (jt >= 0) {                                                                   \
            for (e = 0; e < n; e++) {                                                    \
                const AF_VEC v = (AF_VEC){0} + (WT)val[e];                               \
                const WT *w = Wj + (ptrdiff_t)idx[e] * ldw;                              \
                for (q = 0; q < NV; q++)                                                 \
                    a[q] += v * *(const AF_VEC *)(w + q * AF_VL);                        \
                t += v * *(const AF_VEC *)(w + jt);                                      \
            }                                                                            \
            *(AF_VEC *)(s + jt) = t;                                                     \
        } else {                                                                         \
            for (e = 0; e < n; e++) {                                                    \
                const AF_VEC v = (AF_VEC){0} + (WT)val[e];                               \
                const WT *w = Wj + (ptrdiff_t)idx[e] * ldw;                              \
                for (q = 0; q < NV; q++)                                                 \
                    a[q] += v * *(const AF_VEC *)(w + q * AF_VL);                        \
            }                                                                            \
        }                                                                                \
        for (q = 0; q < NV; q++)                                                         \
            *(AF_VEC *)(s + q * AF_VL) = a[q];                                           \
    }

AF_GATHER_TILE(1)
AF_GATHER_TILE(2)
AF_GATHER_TILE(3)
AF_GATHER_TILE(4)
AF_GATHER_TILE(5)
AF_GATHER_TILE(6)
AF_GATHER_TILE(7)
AF_GATHER_TILE(8)
AF_GATHER_TILE(9)
AF_GATHER_TILE(10)
AF_GATHER_TILE(11)
AF_GATHER_TILE(12)
#undef AF_GATHER_TILE
#endif

/* s[j] OUT = sum over the list's entries e (ascending) of val[e] * W[idx[e], j]
 * for every column j < NO: W (., NO) C-contiguous IN, idx and val (n) IN. */
CNET_ALWAYS_INLINE void AF(gather_row)(ptrdiff_t n, const int *idx, const XT *val,
                                       const WT *W, ptrdiff_t NO, WT *s)
{
    ptrdiff_t j = 0;
#ifdef AF_VEC
    /* Twelve vectors (and a partial one) fit the sixteen vector registers. */
    while (NO - j >= (ptrdiff_t)AF_VL) {
        ptrdiff_t nv = (NO - j) / (ptrdiff_t)AF_VL, jt = -1;
        if (nv > 12)
            nv = 12;
        else if ((NO - j) % (ptrdiff_t)AF_VL)
            jt = NO - j - (ptrdiff_t)AF_VL;
        switch (nv) {
        case 1: AF(gather_1)(n, idx, val, W + j, NO, jt, s + j); break;
        case 2: AF(gather_2)(n, idx, val, W + j, NO, jt, s + j); break;
        case 3: AF(gather_3)(n, idx, val, W + j, NO, jt, s + j); break;
        case 4: AF(gather_4)(n, idx, val, W + j, NO, jt, s + j); break;
        case 5: AF(gather_5)(n, idx, val, W + j, NO, jt, s + j); break;
        case 6: AF(gather_6)(n, idx, val, W + j, NO, jt, s + j); break;
        case 7: AF(gather_7)(n, idx, val, W + j, NO, jt, s + j); break;
        case 8: AF(gather_8)(n, idx, val, W + j, NO, jt, s + j); break;
        case 9: AF(gather_9)(n, idx, val, W + j, NO, jt, s + j); break;
        case 10: AF(gather_10)(n, idx, val, W + j, NO, jt, s + j); break;
        case 11: AF(gather_11)(n, idx, val, W + j, NO, jt, s + j); break;
        default: AF(gather_12)(n, idx, val, W + j, NO, jt, s + j); break;
        }
        j = jt >= 0 ? NO : j + nv * (ptrdiff_t)AF_VL;
    }
#endif
    /* Rows narrower than a vector (all of them without vector types). */
    for (; j < NO; j++) {
        WT a = 0;
        ptrdiff_t e;
        for (e = 0; e < n; e++)
            a += (WT)val[e] * W[(ptrdiff_t)idx[e] * NO + j];
        s[j] = a;
    }
}

/* out[r, :] = x[r, :]·W + b for rows r0 <= r < r1 (ReLU applied when relu):
 * x (NB, NI) rows xs apart IN, W (NI, NO) C-contiguous IN, b (NO,) IN,
 * out (NB, NO) C-contiguous OUT. Each sum runs over ascending k, the bias added
 * last, as the book's (x·W) + b. With skip_zeros the inputs equal to 0 are
 * left out (exact when W is finite). idx (NI + 8 ints), val (NI + 8) and sums
 * (NO) are scratch. */
CNET_DISPATCH_FMA void AF(forward_rows)(const XT *x, ptrdiff_t xs, const WT *W, const WT *b,
                                        WT *out, ptrdiff_t r0, ptrdiff_t r1, ptrdiff_t NI,
                                        ptrdiff_t NO, int skip_zeros, int relu, int *idx,
                                        XT *val, WT *sums)
{
    ptrdiff_t r, k, j, n;
    for (r = r0; r < r1; r++) {
        const XT *xr = x + r * xs;
        WT *outr = out + r * NO;
        /* The row's inputs as a list of (index, value), zeros left out. */
        if (skip_zeros) {
            n = AF_NZ(NI, xr, idx, val, NULL, NI);
        } else {
            for (k = 0; k < NI; k++) {
                idx[k] = (int)k;
                val[k] = xr[k];
            }
            n = NI;
        }
        AF(gather_row)(n, idx, val, W, NO, sums);
        for (j = 0; j < NO; j++) {
            const WT a = sums[j] + b[j];
            outr[j] = relu && !(a > 0) && a == a ? 0 : a;
        }
    }
}

/* dW[k, :] = sum over r of x[r, k] * dout[r, :] for columns k0 <= k < k1:
 * x (NB, NI) rows xs apart IN, dout (NB, NO) C-contiguous IN, dW (NI, NO)
 * C-contiguous OUT (rows k0..k1-1 written). Sums over ascending r. With
 * skip_zeros the inputs equal to 0 are left out (exact when dout is finite). */
CNET_DISPATCH_FMA void AF(grad_w_cols)(const XT *x, ptrdiff_t xs, const WT *dout, WT *dW,
                                       ptrdiff_t NB, ptrdiff_t k0, ptrdiff_t k1, ptrdiff_t NO,
                                       int skip_zeros)
{
    ptrdiff_t r, k, j;
    for (k = k0; k < k1; k++)
        for (j = 0; j < NO; j++)
            dW[k * NO + j] = 0;
    /* Four rows at a time: each row of dW read and written once for four
     * rows of x, their terms added in ascending r. */
    for (r = 0; r + 4 <= NB; r += 4) {
        const XT *x0 = x + r * xs, *x1 = x0 + xs, *x2 = x1 + xs, *x3 = x2 + xs;
        const WT *CNET_RESTRICT d0 = dout + r * NO;
        const WT *CNET_RESTRICT d1 = d0 + NO, *CNET_RESTRICT d2 = d1 + NO;
        const WT *CNET_RESTRICT d3 = d2 + NO;
        for (k = k0; k < k1; k += AF_SCAN) {
            const ptrdiff_t m = k1 - k < AF_SCAN ? k1 - k : AF_SCAN;
            ptrdiff_t i;
            int any = !skip_zeros;
            for (i = k; i < k + m; i++)
                any |= (x0[i] != 0) | (x1[i] != 0) | (x2[i] != 0) | (x3[i] != 0);
            if (!any)
                continue; /* MNIST's borders: whole runs of zeros */
            for (i = k; i < k + m; i++) {
                const WT v0 = (WT)x0[i], v1 = (WT)x1[i], v2 = (WT)x2[i], v3 = (WT)x3[i];
                WT *CNET_RESTRICT dk = dW + i * NO;
                if (skip_zeros && v0 == 0 && v1 == 0 && v2 == 0 && v3 == 0)
                    continue;
                for (j = 0; j < NO; j++)
                    dk[j] = dk[j] + v0 * d0[j] + v1 * d1[j] + v2 * d2[j] + v3 * d3[j];
            }
        }
    }
    for (; r < NB; r++) {
        const XT *xr = x + r * xs;
        const WT *CNET_RESTRICT dr = dout + r * NO;
        for (k = k0; k < k1; k++) {
            const WT v = (WT)xr[k];
            WT *CNET_RESTRICT dk = dW + k * NO;
            if (skip_zeros && v == 0)
                continue;
            for (j = 0; j < NO; j++)
                dk[j] += v * dr[j];
        }
    }
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

/* dW[k, :] OUT = sum over input k's list (ascending rows r) of x[r, k] *
 * dout[r, :], for k0 <= k < k1: the column lists (cstart, crow, cval) IN,
 * dout (NB, NO) C-contiguous IN, dW (NI, NO) C-contiguous. */
CNET_DISPATCH_FMA void AF(grad_w_lists)(const int *cstart, const int *crow, const XT *cval,
                                        const WT *dout, WT *dW, ptrdiff_t k0, ptrdiff_t k1,
                                        ptrdiff_t NO)
{
    ptrdiff_t k;
    for (k = k0; k < k1; k++)
        AF(gather_row)(cstart[k + 1] - cstart[k], crow + cstart[k], cval + cstart[k], dout,
                       NO, dW + k * NO);
}

/* db[j] = sum over r of dout[r, j] (ascending r): dout (NB, NO) rows ldd apart
 * (ldd >= NO) IN, db (NO,) OUT. */
CNET_DISPATCH_FMA void AF(grad_b)(const WT *dout, ptrdiff_t ldd, WT *db, ptrdiff_t NB,
                                  ptrdiff_t NO)
{
    ptrdiff_t r, j;
    for (j = 0; j < NO; j++)
        db[j] = 0;
    for (r = 0; r < NB; r++)
        for (j = 0; j < NO; j++)
            db[j] += dout[r * ldd + j];
}
