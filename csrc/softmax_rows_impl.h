/* The row steps of softmax_rows.h for one floating type: the includer defines
 * T (double or float), SUF (f64 or f32), EXP_T (cnet_exp_inline_SUF) and
 * CE_TERM_T (cnet_ce_term_SUF). Names are cnet_sm_<step>_SUF.
 *
 * Each step is written once with its strides as arguments and called with
 * literal unit strides for contiguous rows, so that after inlining the
 * compiler vectorises that case. */

#define SMR_CAT2(a, b) cnet_sm_##a##_##b
#define SMR_CAT(a, b) SMR_CAT2(a, b)
#define SMR(name) SMR_CAT(name, SUF)

/* m = max_j x[j * xcs] over j < C (C >= 1), NaN entries passed over unless
 * x[0] is one: a NaN anywhere in the row makes its exp sum NaN, and so every
 * entry of its softmax and its loss NaN, as in the book's NumPy, whatever m
 * is. CNET_LANES running maxima, so that the loop becomes vector maxima; a
 * row shorter than two rounds of lanes (10 classes) takes one, which costs a
 * third of the instructions there. Either gives the same maximum (a zero's
 * sign aside, which no x - m then shows). */
CNET_ALWAYS_INLINE T SMR(row_max_s)(const T *x, ptrdiff_t xcs, size_t C)
{
    T mx[CNET_LANES], m = x[0];
    size_t j, k;
    if (C < 2 * CNET_LANES) {
        for (j = 1; j < C; j++) {
            T v = x[(ptrdiff_t)j * xcs];
            m = v > m ? v : m;
        }
        return m;
    }
    for (k = 0; k < CNET_LANES; k++)
        mx[k] = m;
    for (j = 0; j + CNET_LANES <= C; j += CNET_LANES)
        for (k = 0; k < CNET_LANES; k++) {
            T v = x[(ptrdiff_t)(j + k) * xcs];
            mx[k] = v > mx[k] ? v : mx[k];
        }
    for (; j < C; j++) {
        T v = x[(ptrdiff_t)j * xcs];
        mx[0] = v > mx[0] ? v : mx[0];
    }
    m = mx[0];
    for (k = 1; k < CNET_LANES; k++)
        m = mx[k] > m ? mx[k] : m;
    return m;
}

CNET_ALWAYS_INLINE T SMR(row_max)(const T *x, ptrdiff_t xcs, size_t C)
{
#ifdef CNET_SM_VEC
    if (xcs == 1 && C >= 2 * CNET_LANES) {
        const size_t VL = sizeof(SMR(vec)) / sizeof(T);
        SMR(vec) mx = *(const SMR(vec) *)x, v;
        SMR(mask) g;
        T m;
        size_t j, k;
        for (j = VL; j + VL <= C; j += VL) {
            v = *(const SMR(vec) *)(x + j);
            g = v > mx;
            mx = (SMR(vec))(((SMR(mask))v & g) | ((SMR(mask))mx & ~g));
        }
        m = mx[0];
        for (k = 1; k < VL; k++)
            m = mx[k] > m ? mx[k] : m;
        for (; j < C; j++)
            m = x[j] > m ? x[j] : m;
        return m;
    }
#endif
    return xcs == 1 ? SMR(row_max_s)(x, 1, C) : SMR(row_max_s)(x, xcs, C);
}

/* s = sum of e_j = exp(x[j * xcs] - m) over one block (C <= CNET_REDUCE_BLOCK):
 * CNET_LANES interleaved partial sums combined pairwise, then the tail in
 * order. With store set, e_j is also written to y[j * ycs]. */
CNET_ALWAYS_INLINE T SMR(block_sum_s)(const T *x, ptrdiff_t xcs, T *y, ptrdiff_t ycs,
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

/* s = the sum of the stored e_j of one packed row (C <= CNET_REDUCE_BLOCK), in
 * block_sum's order, so that the two give the same bits. */
CNET_ALWAYS_INLINE T SMR(stored_sum)(const T *e, size_t C)
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

/* block_sum_s with y NULL meaning: sum only. Contiguous rows are exponentiated
 * in one flat loop first and summed from y (stored_sum, the same bits): the
 * compiler vectorises a plain loop of exps, not one interleaved with the sums. */
CNET_ALWAYS_INLINE T SMR(block_sum)(const T *x, ptrdiff_t xcs, T *y, ptrdiff_t ycs,
                                    size_t C, T m)
{
    size_t j;
    if (y == NULL)
        return xcs == 1 ? SMR(block_sum_s)(x, 1, NULL, 0, C, m, 0)
                        : SMR(block_sum_s)(x, xcs, NULL, 0, C, m, 0);
    if (xcs == 1 && ycs == 1) {
        for (j = 0; j < C; j++)
            y[j] = EXP_T(x[j] - m);
        return SMR(stored_sum)(y, C);
    }
    return SMR(block_sum_s)(x, xcs, y, ycs, C, m, 1);
}

/* The block sums of a whole row, added in order (y as in block_sum). */
CNET_ALWAYS_INLINE T SMR(row_sum)(const T *x, ptrdiff_t xcs, T *y, ptrdiff_t ycs, size_t C,
                                  T m)
{
    T s = 0;
    size_t b0, nb;
    for (b0 = 0; b0 < C; b0 += CNET_REDUCE_BLOCK) {
        nb = C - b0 < CNET_REDUCE_BLOCK ? C - b0 : CNET_REDUCE_BLOCK;
        s += SMR(block_sum)(x + (ptrdiff_t)b0 * xcs, xcs,
                            y ? y + (ptrdiff_t)b0 * ycs : NULL, ycs, nb, m);
    }
    return s;
}

/* y_j = y_j * (1 / s): a product with the reciprocal, as PyTorch's softmax
 * forms it, rather than the book's division (within an ulp of it; division
 * costs more than the whole memory traffic of a row). */
CNET_ALWAYS_INLINE void SMR(row_scale_s)(T *y, ptrdiff_t ycs, size_t C, T s)
{
    T inv = (T)1 / s;
    size_t j;
    for (j = 0; j < C; j++)
        y[(ptrdiff_t)j * ycs] = y[(ptrdiff_t)j * ycs] * inv;
}

CNET_ALWAYS_INLINE void SMR(row_scale)(T *y, ptrdiff_t ycs, size_t C, T s)
{
    if (ycs == 1)
        SMR(row_scale_s)(y, 1, C, s);
    else
        SMR(row_scale_s)(y, ycs, C, s);
}

/* Softmax of R short rows (C <= CNET_REDUCE_BLOCK) into y (R, ld) OUT, row r
 * at y + r ld, ld >= C: x - m of every row first, then exp over all R ld
 * entries in one flat loop (whole vectors, where a row of 10 would leave most
 * lanes idle), then each row's sum and scale. Columns C..ld-1 of y are
 * scratch: they are exponentiated too, their values never read. x may be y
 * itself (xrs == ld, xcs == 1): the rows are then shifted in place. */
CNET_ALWAYS_INLINE void SMR(softmax_rows)(size_t R, size_t C, const T *x, ptrdiff_t xrs,
                                          ptrdiff_t xcs, T *y, size_t ld)
{
    size_t r, j, n = R * ld;
    for (r = 0; r < R; r++) {
        const T *xr = x + (ptrdiff_t)r * xrs;
        T *yr = y + r * ld;
        T m = SMR(row_max)(xr, xcs, C);
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
        SMR(row_scale_s)(y + r * ld, 1, C, SMR(stored_sum)(y + r * ld, C));
}

/* The book's cross-entropy term log(y[k] + 1e-7) of y = softmax(x) for one
 * row (C,) without storing y: the picked e_k scaled as row_scale would, so
 * the bits are those of the stored row's entry. */
CNET_ALWAYS_INLINE T SMR(ce_row)(const T *x, ptrdiff_t xcs, size_t C, ptrdiff_t k)
{
    T m = SMR(row_max)(x, xcs, C);
    T s = SMR(row_sum)(x, xcs, NULL, 0, C, m);
    return CE_TERM_T(EXP_T(x[k * xcs] - m) * ((T)1 / s));
}

/* One row of dy = (y - t) / n: t's row when t is given, else the one-hot of
 * class k (y_k - 1, as the book's dx[k] -= 1 before dx /= n). */
CNET_ALWAYS_INLINE void SMR(dy_row_s)(const T *y, ptrdiff_t ycs, ptrdiff_t k, const T *t,
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

CNET_ALWAYS_INLINE void SMR(dy_row)(const T *y, ptrdiff_t ycs, ptrdiff_t k, const T *t,
                                    ptrdiff_t tcs, T *dy, ptrdiff_t dycs, size_t C, T n)
{
    if (ycs == 1 && dycs == 1 && (t == NULL || tcs == 1))
        SMR(dy_row_s)(y, 1, k, t, 1, dy, 1, C, n);
    else
        SMR(dy_row_s)(y, ycs, k, t, tcs, dy, dycs, C, n);
}

#undef SMR
#undef SMR_CAT
#undef SMR_CAT2
