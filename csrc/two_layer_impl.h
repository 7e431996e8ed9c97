/* Kernel bodies of two_layer.c, compiled once per (x type, weight type) pair.
 *
 * The includer defines XT (input element type), WT (weight and compute type),
 * TL(name) (appends the pair's suffix), TL_EXP and TL_LOG (exp and log in WT).
 * Dimension letters B, I, H, O as in cnet_common.h.
 */

/* 1 when the R rows of x (stride ldx, I columns) are at least a quarter
 * zeros, so that testing each input before multiplying saves more than it costs. */
static int TL(skip_zeros_pays)(const XT *x, ptrdiff_t ldx, ptrdiff_t R, ptrdiff_t I)
{
    ptrdiff_t r, i, zeros = 0;
    for (r = 0; r < R; r++)
        for (i = 0; i < I; i++)
            zeros += x[r * ldx + i] == 0;
    return 4 * zeros >= R * I;
}

/* a1 = x·W1 + b1 and z1 = sigmoid(a1) for R rows; x rows at stride ldx (IN),
 * W1 (I,H), b1 (H) (IN), z1 (R,H) (OUT). With skip_zeros, inputs equal to zero
 * are not multiplied: the sums are the same, MNIST is ~80% zeros. */
CNET_DISPATCH
static void TL(hidden)(ptrdiff_t R, ptrdiff_t I, ptrdiff_t H,
                       const XT *CNET_RESTRICT x, ptrdiff_t ldx,
                       const WT *CNET_RESTRICT W1, const WT *CNET_RESTRICT b1,
                       WT *CNET_RESTRICT z1, int skip_zeros)
{
    ptrdiff_t r, i, j;
    for (r = 0; r < R * H; r++)
        z1[r] = 0;
    /* i outer, rows inner: one W1 row serves all R rows while it is in L1. */
    for (i = 0; i < I; i++) {
        const WT *CNET_RESTRICT w = W1 + i * H;
        for (r = 0; r < R; r++) {
            const WT xv = (WT)x[r * ldx + i];
            WT *CNET_RESTRICT a1 = z1 + r * H;
            if (skip_zeros && xv == 0)
                continue;
            for (j = 0; j < H; j++)
                a1[j] += xv * w[j];
        }
    }
    for (r = 0; r < R; r++) {
        WT *CNET_RESTRICT a1 = z1 + r * H;
        for (j = 0; j < H; j++)
            a1[j] = 1 / (1 + TL_EXP(-(a1[j] + b1[j])));
    }
}

/* y = softmax(z1·W2 + b2) for one row: z1 (H), W2 (H,O), b2 (O) (IN), y (O) (OUT). */
CNET_DISPATCH
static void TL(output)(ptrdiff_t H, ptrdiff_t O, const WT *CNET_RESTRICT z1,
                       const WT *CNET_RESTRICT W2, const WT *CNET_RESTRICT b2,
                       WT *CNET_RESTRICT y)
{
    ptrdiff_t j, k;
    WT m, s;
    for (k = 0; k < O; k++)
        y[k] = 0;
    for (j = 0; j < H; j++) {
        const WT zj = z1[j];
        const WT *CNET_RESTRICT w = W2 + j * O;
        for (k = 0; k < O; k++)
            y[k] += zj * w[k];
    }
    m = y[0] + b2[0];
    for (k = 0; k < O; k++) {
        y[k] += b2[k];
        if (y[k] > m)
            m = y[k];
    }
    /* the book's softmax: shift by the max, exp, divide by the sum */
    s = 0;
    for (k = 0; k < O; k++) {
        y[k] = TL_EXP(y[k] - m);
        s += y[k];
    }
    for (k = 0; k < O; k++)
        y[k] = y[k] / s;
}

/* Row blocks [0, nblk) of TL_RB rows: rows of block q are [q*TL_RB, min(B, ...)). */
#define TL_ROWS(q, B) (((q) + 1) * TL_RB <= (B) ? TL_RB : (B) - (q) * TL_RB)

/* y (B,O) OUT = predict(x); see two_layer.h for the shapes. */
int TL(predict)(ptrdiff_t B, ptrdiff_t I, ptrdiff_t H, ptrdiff_t O,
                const XT *x, ptrdiff_t ldx, const WT *W1, const WT *b1,
                const WT *W2, const WT *b2, WT *y, int nthreads)
{
    const ptrdiff_t nblk = (B + TL_RB - 1) / TL_RB;
    int failed = 0;
#pragma omp parallel num_threads(nthreads) reduction(|| : failed)
    {
        WT *z1 = (WT *)malloc(sizeof(WT) * TL_RB * (size_t)H);
        ptrdiff_t q, r;
        if (!z1)
            failed = 1;
#pragma omp for schedule(static)
        for (q = 0; q < nblk; q++) {
            const ptrdiff_t R = TL_ROWS(q, B);
            const XT *xq = x + q * TL_RB * ldx;
            if (!z1)
                continue;
            TL(hidden)(R, I, H, xq, ldx, W1, b1, z1, TL(skip_zeros_pays)(xq, ldx, R, I));
            for (r = 0; r < R; r++)
                TL(output)(H, O, z1 + r * H, W2, b2, y + (q * TL_RB + r) * O);
        }
        free(z1);
    }
    return failed ? -1 : 0;
}

/* *loss OUT = -sum_b log(y[b, t[b]] + 1e-7) / B, the book's cross-entropy of
 * predict(x); the per-row terms are summed in row order. */
int TL(loss)(ptrdiff_t B, ptrdiff_t I, ptrdiff_t H, ptrdiff_t O,
             const XT *x, ptrdiff_t ldx, const ptrdiff_t *t,
             const WT *W1, const WT *b1, const WT *W2, const WT *b2,
             WT *loss, int nthreads)
{
    const ptrdiff_t nblk = (B + TL_RB - 1) / TL_RB;
    WT *logs = (WT *)malloc(sizeof(WT) * (size_t)B);
    int failed = 0;
    ptrdiff_t b;
    WT s;
    if (!logs)
        return -1;
#pragma omp parallel num_threads(nthreads) reduction(|| : failed)
    {
        WT *z1 = (WT *)malloc(sizeof(WT) * ((size_t)TL_RB * H + O));
        ptrdiff_t q, r;
        if (!z1)
            failed = 1;
#pragma omp for schedule(static)
        for (q = 0; q < nblk; q++) {
            const ptrdiff_t R = TL_ROWS(q, B);
            const XT *xq = x + q * TL_RB * ldx;
            WT *y = z1 + TL_RB * H;
            if (!z1)
                continue;
            TL(hidden)(R, I, H, xq, ldx, W1, b1, z1, TL(skip_zeros_pays)(xq, ldx, R, I));
            for (r = 0; r < R; r++) {
                const ptrdiff_t row = q * TL_RB + r;
                TL(output)(H, O, z1 + r * H, W2, b2, y);
                logs[row] = TL_LOG(y[t[row]] + (WT)1e-7);
            }
        }
        free(z1);
    }
    s = 0;
    for (b = 0; b < B; b++)
        s += logs[b];
    free(logs);
    *loss = -s / (WT)B;
    return failed ? -1 : 0;
}

/* *count OUT = number of rows whose argmax(predict(x)) (first maximum, as
 * np.argmax) equals t[b]. */
int TL(correct)(ptrdiff_t B, ptrdiff_t I, ptrdiff_t H, ptrdiff_t O,
                const XT *x, ptrdiff_t ldx, const ptrdiff_t *t,
                const WT *W1, const WT *b1, const WT *W2, const WT *b2,
                ptrdiff_t *count, int nthreads)
{
    const ptrdiff_t nblk = (B + TL_RB - 1) / TL_RB;
    ptrdiff_t n = 0;
    int failed = 0;
#pragma omp parallel num_threads(nthreads) reduction(|| : failed) reduction(+ : n)
    {
        WT *z1 = (WT *)malloc(sizeof(WT) * ((size_t)TL_RB * H + O));
        ptrdiff_t q, r, k;
        if (!z1)
            failed = 1;
#pragma omp for schedule(static)
        for (q = 0; q < nblk; q++) {
            const ptrdiff_t R = TL_ROWS(q, B);
            const XT *xq = x + q * TL_RB * ldx;
            WT *y = z1 + TL_RB * H;
            if (!z1)
                continue;
            TL(hidden)(R, I, H, xq, ldx, W1, b1, z1, TL(skip_zeros_pays)(xq, ldx, R, I));
            for (r = 0; r < R; r++) {
                ptrdiff_t best = 0;
                TL(output)(H, O, z1 + r * H, W2, b2, y);
                for (k = 1; k < O; k++)
                    if (y[k] > y[best])
                        best = k;
                n += best == t[q * TL_RB + r];
            }
        }
        free(z1);
    }
    *count = n;
    return failed ? -1 : 0;
}

/* gW1[i,:] OUT = sum_b x[b,i] dz1[b,:] for rows i in [i0, i1), b ascending:
 * x (B,I) at stride ldx, dz1 (B,H) (IN). */
CNET_DISPATCH
static void TL(x_t_dz1)(ptrdiff_t B, ptrdiff_t H, ptrdiff_t i0, ptrdiff_t i1,
                        const XT *CNET_RESTRICT x, ptrdiff_t ldx,
                        const WT *CNET_RESTRICT dz1, WT *CNET_RESTRICT gW1)
{
    ptrdiff_t b, i, j;
    for (i = i0 * H; i < i1 * H; i++)
        gW1[i] = 0;
    for (b = 0; b < B; b++) {
        const XT *CNET_RESTRICT xb = x + b * ldx;
        const WT *CNET_RESTRICT d = dz1 + b * H;
        for (i = i0; i < i1; i++) {
            const WT xv = (WT)xb[i];
            WT *CNET_RESTRICT g = gW1 + i * H;
            if (xv == 0)
                continue;
            for (j = 0; j < H; j++)
                g[j] += xv * d[j];
        }
    }
}

/* Rows of W1 per work unit of the xᵀ·dz1 product. */
#define TL_IBLK 16

/* Backpropagation (the book's gradient): gW1 (I,H), gb1 (H), gW2 (H,O),
 * gb2 (O) OUT. Labels: t_dense (B,O) when not NULL (dy = (y - t) / B exactly
 * as the book with any t), else class indices t (B) (one-hot rows implied). */
int TL(gradient)(ptrdiff_t B, ptrdiff_t I, ptrdiff_t H, ptrdiff_t O,
                 const XT *x, ptrdiff_t ldx, const ptrdiff_t *t,
                 const WT *t_dense, const WT *W1, const WT *b1,
                 const WT *W2, const WT *b2, WT *gW1, WT *gb1, WT *gW2,
                 WT *gb2, int nthreads)
{
    const ptrdiff_t nblk = (B + TL_RB - 1) / TL_RB;
    const ptrdiff_t niblk = (I + TL_IBLK - 1) / TL_IBLK;
    /* z1 (B,H), dz1 (B,H), dy (B,O) */
    WT *z1 = (WT *)malloc(sizeof(WT) * ((size_t)B * (2 * H + O)));
    WT *dz1 = z1 + B * H;
    WT *dy = dz1 + B * H;
    const WT batch_num = (WT)B;
    if (!z1)
        return -1;
#pragma omp parallel num_threads(nthreads)
    {
        ptrdiff_t q, r, j, k, b;
        /* forward, dy and dz1: each row by one thread */
#pragma omp for schedule(static)
        for (q = 0; q < nblk; q++) {
            const ptrdiff_t R = TL_ROWS(q, B);
            const XT *xq = x + q * TL_RB * ldx;
            TL(hidden)(R, I, H, xq, ldx, W1, b1, z1 + q * TL_RB * H,
                       TL(skip_zeros_pays)(xq, ldx, R, I));
            for (r = 0; r < R; r++) {
                const ptrdiff_t row = q * TL_RB + r;
                const WT *zr = z1 + row * H;
                WT *yr = dy + row * O;
                WT *dr = dz1 + row * H;
                TL(output)(H, O, zr, W2, b2, yr);
                if (t_dense) {
                    for (k = 0; k < O; k++)
                        yr[k] = (yr[k] - t_dense[row * O + k]) / batch_num;
                } else {
                    for (k = 0; k < O; k++)
                        yr[k] = (yr[k] - (k == t[row] ? (WT)1 : (WT)0)) / batch_num;
                }
                /* da1 = dy·W2ᵀ; dz1 = sigmoid_grad(a1) * da1 */
                for (j = 0; j < H; j++) {
                    const WT *w = W2 + j * O;
                    WT da1 = 0;
                    for (k = 0; k < O; k++)
                        da1 += yr[k] * w[k];
                    dr[j] = ((1 - zr[j]) * zr[j]) * da1;
                }
            }
        }
        /* gW1 = xᵀ·dz1, split over rows of W1 */
#pragma omp for schedule(static) nowait
        for (q = 0; q < niblk; q++) {
            const ptrdiff_t i0 = q * TL_IBLK;
            const ptrdiff_t i1 = i0 + TL_IBLK < I ? i0 + TL_IBLK : I;
            TL(x_t_dz1)(B, H, i0, i1, x, ldx, dz1, gW1);
        }
        /* gW2 = z1ᵀ·dy, split over rows of W2 */
#pragma omp for schedule(static) nowait
        for (j = 0; j < H; j++) {
            WT *g = gW2 + j * O;
            for (k = 0; k < O; k++)
                g[k] = 0;
            for (b = 0; b < B; b++) {
                const WT zj = z1[b * H + j];
                const WT *d = dy + b * O;
                for (k = 0; k < O; k++)
                    g[k] += zj * d[k];
            }
        }
#pragma omp single nowait
        {
            for (k = 0; k < O; k++)
                gb2[k] = 0;
            for (b = 0; b < B; b++)
                for (k = 0; k < O; k++)
                    gb2[k] += dy[b * O + k];
            for (j = 0; j < H; j++)
                gb1[j] = 0;
            for (b = 0; b < B; b++)
                for (j = 0; j < H; j++)
                    gb1[j] += dz1[b * H + j];
        }
    }
    free(z1);
    return 0;
}

#undef TL_ROWS
#undef TL_IBLK
