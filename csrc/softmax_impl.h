/* Softmax rows and the fused softmax + cross-entropy + dy for one floating
 * type (contracts in softmax.h). The includer (softmax.c) defines T (double
 * or float), SUF (f64 or f32), EXP_T (cnet_exp_inline_SUF) and CE_TERM_T
 * (cnet_ce_term_SUF).
 *
 * Each row helper is written once with its strides as arguments and called
 * with literal unit strides for contiguous rows, so that after inlining the
 * compiler vectorises that case. */

#define SM_CAT2(a, b) a##_##b
#define SM_CAT(a, b) SM_CAT2(a, b)
#define SM(name) SM_CAT(name, SUF)

/* m = max_j x[j * xcs] over j < C (C >= 1); NaN if any entry is NaN. The
 * CNET_LANES running maxima and the NaN flag let the loop vectorise. */
CNET_ALWAYS_INLINE T SM(row_max_s)(const T *x, ptrdiff_t xcs, size_t C)
{
    T mx[CNET_LANES], m;
    int nan = 0;
    size_t j = 0, k;
    for (k = 0; k < CNET_LANES; k++)
        mx[k] = x[0];
    for (; j + CNET_LANES <= C; j += CNET_LANES)
        for (k = 0; k < CNET_LANES; k++) {
            T v = x[(ptrdiff_t)(j + k) * xcs];
            mx[k] = v > mx[k] ? v : mx[k];
            nan |= v != v;
        }
    for (; j < C; j++) {
        T v = x[(ptrdiff_t)j * xcs];
        mx[0] = v > mx[0] ? v : mx[0];
        nan |= v != v;
    }
    m = mx[0];
    for (k = 1; k < CNET_LANES; k++)
        m = mx[k] > m ? mx[k] : m;
    return nan ? (T)NAN : m;
}

CNET_ALWAYS_INLINE T SM(row_max)(const T *x, ptrdiff_t xcs, size_t C)
{
    return xcs == 1 ? SM(row_max_s)(x, 1, C) : SM(row_max_s)(x, xcs, C);
}

/* s = sum of e_j = exp(x[j * xcs] - m) over one block (C <= CNET_REDUCE_BLOCK):
 * CNET_LANES interleaved partial sums combined pairwise, then the tail in
 * order. With store set, e_j is also written to y[j * ycs]. */
CNET_ALWAYS_INLINE T SM(block_sum_s)(const T *x, ptrdiff_t xcs, T *y, ptrdiff_t ycs,
                                     size_t C, T m, int store)
{
    T acc[CNET_LANES] = {0}, s;
    size_t j = 0, k;
    for (; j + CNET_LANES <= C; j += CNET_LANES)
        for (k = 0; k < CNET_LANES; k++) {
            T e = EXP_T(x[(ptrdiff_t)(j + k) * xcs] - m);
            if (store)
                y[(ptrdiff_t)(j + k) * ycs] = e;
            acc[k] += e;
        }
    s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for (; j < C; j++) {
        T e = EXP_T(x[(ptrdiff_t)j * xcs] - m);
        if (store)
            y[(ptrdiff_t)j * ycs] = e;
        s += e;
    }
    return s;
}

CNET_ALWAYS_INLINE T SM(block_sum)(const T *x, ptrdiff_t xcs, T *y, ptrdiff_t ycs,
                                   size_t C, T m)
{
    if (y == NULL)
        return xcs == 1 ? SM(block_sum_s)(x, 1, NULL, 0, C, m, 0)
                        : SM(block_sum_s)(x, xcs, NULL, 0, C, m, 0);
    if (xcs == 1 && ycs == 1)
        return SM(block_sum_s)(x, 1, y, 1, C, m, 1);
    return SM(block_sum_s)(x, xcs, y, ycs, C, m, 1);
}

/* The block sums of a whole row, added in order (y as in block_sum). */
CNET_ALWAYS_INLINE T SM(row_sum)(const T *x, ptrdiff_t xcs, T *y, ptrdiff_t ycs, size_t C,
                                 T m)
{
    T s = 0;
    size_t b0, nb;
    for (b0 = 0; b0 < C; b0 += CNET_REDUCE_BLOCK) {
        nb = C - b0 < CNET_REDUCE_BLOCK ? C - b0 : CNET_REDUCE_BLOCK;
        s += SM(block_sum)(x + (ptrdiff_t)b0 * xcs, xcs,
                           y ? y + (ptrdiff_t)b0 * ycs : NULL, ycs, nb, m);
    }
    return s;
}

/* y_j = y_j * (1 / s): a product with the reciprocal, as PyTorch's softmax
 * forms it, rather than the book's division (within an ulp of it; division
 * costs more than the whole memory traffic of a row). */
CNET_ALWAYS_INLINE void SM(row_scale_s)(T *y, ptrdiff_t ycs, size_t C, T s)
{
    T inv = (T)1 / s;
    size_t j;
    for (j = 0; j < C; j++)
        y[(ptrdiff_t)j * ycs] = y[(ptrdiff_t)j * ycs] * inv;
}

CNET_ALWAYS_INLINE void SM(row_scale)(T *y, ptrdiff_t ycs, size_t C, T s)
{
    if (ycs == 1)
        SM(row_scale_s)(y, 1, C, s);
    else
        SM(row_scale_s)(y, ycs, C, s);
}

/* s = the sum of the stored e_j of one packed row (C <= CNET_REDUCE_BLOCK), in
 * block_sum's order, so that the two give the same bits. */
CNET_ALWAYS_INLINE T SM(stored_sum)(const T *e, size_t C)
{
    T acc[CNET_LANES] = {0}, s;
    size_t j = 0, k;
    for (; j + CNET_LANES <= C; j += CNET_LANES)
        for (k = 0; k < CNET_LANES; k++)
            acc[k] += e[j + k];
    s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for (; j < C; j++)
        s += e[j];
    return s;
}

/* Softmax of R short rows (C <= CNET_SOFTMAX_SHORT) into packed rows y (R, C)
 * OUT (row r at y + r * C): x - m of every row first, then exp over all R * C
 * entries in one flat loop (whole vectors, where a row of 10 would leave most
 * lanes idle), then each row's sum and scale. */
CNET_ALWAYS_INLINE void SM(softmax_packed)(size_t R, size_t C, const T *x, ptrdiff_t xrs,
                                           ptrdiff_t xcs, T *CNET_RESTRICT y)
{
    size_t r, j, n = R * C;
    for (r = 0; r < R; r++) {
        const T *xr = x + (ptrdiff_t)r * xrs;
        T *yr = y + r * C;
        T m = SM(row_max)(xr, xcs, C);
        if (xcs == 1)
            for (j = 0; j < C; j++)
                yr[j] = xr[j] - m;
        else
            for (j = 0; j < C; j++)
                yr[j] = xr[(ptrdiff_t)j * xcs] - m;
    }
    for (j = 0; j < n; j++)
        y[j] = EXP_T(y[j]);
    for (r = 0; r < R; r++)
        SM(row_scale_s)(y + r * C, 1, C, SM(stored_sum)(y + r * C, C));
}

/* One row of dy = (y - t) / n: t's row when t is given, else the one-hot of
 * class k (y_k - 1, as the book's dx[k] -= 1 before dx /= n). */
CNET_ALWAYS_INLINE void SM(dy_row_s)(const T *y, ptrdiff_t ycs, ptrdiff_t k, const T *t,
                                     ptrdiff_t tcs, T *dy, ptrdiff_t dycs, size_t C, T n)
{
    size_t j;
    if (t != NULL)
        for (j = 0; j < C; j++)
            dy[(ptrdiff_t)j * dycs] = (y[(ptrdiff_t)j * ycs] - t[(ptrdiff_t)j * tcs]) / n;
    else
        for (j = 0; j < C; j++)
            dy[(ptrdiff_t)j * dycs] = (y[(ptrdiff_t)j * ycs] - (T)((ptrdiff_t)j == k)) / n;
}

CNET_ALWAYS_INLINE void SM(dy_row)(const T *y, ptrdiff_t ycs, ptrdiff_t k, const T *t,
                                   ptrdiff_t tcs, T *dy, ptrdiff_t dycs, size_t C, T n)
{
    if (ycs == 1 && dycs == 1 && (t == NULL || tcs == 1))
        SM(dy_row_s)(y, 1, k, t, 1, dy, 1, C, n);
    else
        SM(dy_row_s)(y, ycs, k, t, tcs, dy, dycs, C, n);
}

/* The fused kernel for rows of C <= CNET_SOFTMAX_SHORT: chunks of rows go
 * through softmax_packed, straight into y when its rows are packed, else into
 * a chunk buffer on the stack (copied to y, or only picked from). */
CNET_ALWAYS_INLINE double SM(softmax_ce_short)(size_t R, size_t C, const T *x, ptrdiff_t xrs,
                                               ptrdiff_t xcs, T *y, ptrdiff_t yrs,
                                               ptrdiff_t ycs, const ptrdiff_t *lab,
                                               const T *t, ptrdiff_t trs, ptrdiff_t tcs,
                                               T *dy, ptrdiff_t dyrs, ptrdiff_t dycs,
                                               double N, double acc)
{
    T buf[CNET_SOFTMAX_CHUNK];
    size_t rows = CNET_SOFTMAX_CHUNK / C, r0, r, j, n;
    int packed = y != NULL && ycs == 1 && (size_t)yrs == C;
    for (r0 = 0; r0 < R; r0 += rows) {
        T *yc = packed ? y + r0 * C : buf;
        n = R - r0 < rows ? R - r0 : rows;
        SM(softmax_packed)(n, C, x + (ptrdiff_t)r0 * xrs, xrs, xcs, yc);
        if (y != NULL && !packed)
            for (r = 0; r < n; r++)
                for (j = 0; j < C; j++)
                    y[(ptrdiff_t)(r0 + r) * yrs + (ptrdiff_t)j * ycs] = yc[r * C + j];
        if (lab != NULL)
            for (r = 0; r < n; r++)
                acc += CE_TERM_T(yc[r * C + (size_t)lab[r0 + r]]);
        if (dy != NULL)
            for (r = 0; r < n; r++)
                SM(dy_row)(yc + r * C, 1, lab ? lab[r0 + r] : -1,
                           t ? t + (ptrdiff_t)(r0 + r) * trs : NULL, tcs,
                           dy + (ptrdiff_t)(r0 + r) * dyrs, dycs, C, (T)N);
    }
    return acc;
}

CNET_DISPATCH
double SM(cnet_softmax_ce)(size_t R, size_t C, const T *x, ptrdiff_t xrs, ptrdiff_t xcs,
                           T *y, ptrdiff_t yrs, ptrdiff_t ycs, const ptrdiff_t *lab,
                           const T *t, ptrdiff_t trs, ptrdiff_t tcs, T *dy, ptrdiff_t dyrs,
                           ptrdiff_t dycs, double N, double acc)
{
    size_t r;
    if (C <= CNET_SOFTMAX_SHORT)
        return SM(softmax_ce_short)(R, C, x, xrs, xcs, y, yrs, ycs, lab, t, trs, tcs, dy,
                                    dyrs, dycs, N, acc);
    for (r = 0; r < R; r++) {
        const T *xr = x + (ptrdiff_t)r * xrs;
        T m = SM(row_max)(xr, xcs, C);
        if (y != NULL) {
            T *yr = y + (ptrdiff_t)r * yrs;
            SM(row_scale)(yr, ycs, C, SM(row_sum)(xr, xcs, yr, ycs, C, m));
            if (lab != NULL)
                acc += CE_TERM_T(yr[lab[r] * ycs]);
            if (dy != NULL)
                SM(dy_row)(yr, ycs, lab ? lab[r] : -1, t ? t + (ptrdiff_t)r * trs : NULL, tcs,
                           dy + (ptrdiff_t)r * dyrs, dycs, C, (T)N);
        } else if (lab != NULL) {
            T s = SM(row_sum)(xr, xcs, NULL, 0, C, m);
            acc += CE_TERM_T(EXP_T(xr[lab[r] * xcs] - m) * ((T)1 / s));
        }
    }
    return acc;
}

CNET_DISPATCH
void SM(cnet_softmax_ce_dy)(size_t R, size_t C, const T *y, ptrdiff_t yrs, ptrdiff_t ycs,
                            const ptrdiff_t *lab, const T *t, ptrdiff_t trs, ptrdiff_t tcs,
                            T *dy, ptrdiff_t dyrs, ptrdiff_t dycs, double N)
{
    size_t r;
    for (r = 0; r < R; r++)
        SM(dy_row)(y + (ptrdiff_t)r * yrs, ycs, t ? -1 : lab[r],
                   t ? t + (ptrdiff_t)r * trs : NULL, tcs, dy + (ptrdiff_t)r * dyrs, dycs,
                   C, (T)N);
}

double SM(cnet_ce_sum)(size_t R, const T *p, ptrdiff_t prs, ptrdiff_t pcs,
                       const ptrdiff_t *lab, double acc)
{
    size_t r;
    for (r = 0; r < R; r++)
        acc += CE_TERM_T(p[(ptrdiff_t)r * prs + lab[r] * pcs]);
    return acc;
}

/* The pieces of one long row, for splitting it across threads. */
CNET_DISPATCH
T SM(cnet_row_max)(const T *x, ptrdiff_t xcs, size_t C)
{
    return SM(row_max)(x, xcs, C);
}

CNET_DISPATCH
T SM(cnet_softmax_block)(const T *x, ptrdiff_t xcs, T *y, ptrdiff_t ycs, size_t C, T m)
{
    return SM(block_sum)(x, xcs, y, ycs, C, m);
}

CNET_DISPATCH
void SM(cnet_row_scale)(T *y, ptrdiff_t ycs, size_t C, T s)
{
    SM(row_scale)(y, ycs, C, s);
}

#undef SM
#undef SM_CAT
#undef SM_CAT2
