/* Softmax rows and the fused softmax + cross-entropy + dy for one floating
 * type (contracts in softmax.h), composed of the row steps of softmax_rows.h.
 * The includer (softmax.c) defines T (double or float), SUF (f64 or f32) and
 * CE_TERM_T (cnet_ce_term_SUF). */

#define SM_CAT2(a, b) a##_##b
#define SM_CAT(a, b) SM_CAT2(a, b)
#define SM(name) SM_CAT(name, SUF)
#define SMR_CAT2(a, b) cnet_sm_##a##_##b
#define SMR_CAT(a, b) SMR_CAT2(a, b)
#define SMR(name) SMR_CAT(name, SUF) /* the row steps of softmax_rows.h */

/* The fused kernel for rows of C <= CNET_SOFTMAX_SHORT: chunks of rows go
 * through softmax_rows, straight into y when its rows are packed, else into
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
        SMR(softmax_rows)(n, C, x + (ptrdiff_t)r0 * xrs, xrs, xcs, yc, C);
        if (y != NULL && !packed)
            for (r = 0; r < n; r++)
                for (j = 0; j < C; j++)
                    y[(ptrdiff_t)(r0 + r) * yrs + (ptrdiff_t)j * ycs] = yc[r * C + j];
        if (lab != NULL)
            for (r = 0; r < n; r++)
                acc += CE_TERM_T(yc[r * C + (size_t)lab[r0 + r]]);
        if (dy != NULL)
            for (r = 0; r < n; r++)
                SMR(dy_row)(yc + r * C, 1, lab ? lab[r0 + r] : -1,
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
        T m = SMR(row_max)(xr, xcs, C);
        if (y != NULL) {
            T *yr = y + (ptrdiff_t)r * yrs;
            SMR(row_scale)(yr, ycs, C, SMR(row_sum)(xr, xcs, yr, ycs, C, m));
            if (lab != NULL)
                acc += CE_TERM_T(yr[lab[r] * ycs]);
            if (dy != NULL)
                SMR(dy_row)(yr, ycs, lab ? lab[r] : -1, t ? t + (ptrdiff_t)r * trs : NULL, tcs,
                           dy + (ptrdiff_t)r * dyrs, dycs, C, (T)N);
        } else if (lab != NULL) {
            acc += SMR(ce_row)(xr, xcs, C, lab[r]);
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
        SMR(dy_row)(y + (ptrdiff_t)r * yrs, ycs, t ? -1 : lab[r],
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
    return SMR(row_max)(x, xcs, C);
}

CNET_DISPATCH
T SM(cnet_softmax_block)(const T *x, ptrdiff_t xcs, T *y, ptrdiff_t ycs, size_t C, T m)
{
    return SMR(block_sum)(x, xcs, y, ycs, C, m);
}

CNET_DISPATCH
void SM(cnet_row_scale)(T *y, ptrdiff_t ycs, size_t C, T s)
{
    SMR(row_scale)(y, ycs, C, s);
}

#undef SM
#undef SMR
#undef SMR_CAT
#undef SMR_CAT2
#undef SM_CAT
#undef SM_CAT2
