/* Kernel bodies of two_layer.c, compiled once per (x type, weight type) pair.
 *
 * The includer defines XT (input element type), WT (weight and compute type),
 * TL(name) (appends the pair's suffix), TL_NZ (tl_nonzero_index_* for XT),
 * TL_EXP (the inline exp of functions.h for WT), TL_LOG (libm's log for WT),
 * and where the compiler has vector types TL_VEC (a 32-byte vector of WT that
 * may be unaligned) and TL_VL (its number of lanes).
 * Dimension letters B, I, H, O as in cnet_common.h.
 *
 * Every sum over inputs or batch rows runs in ascending index order, whatever
 * path (sparse or dense) or thread computes it, so the bits never depend on
 * the thread count.
 */

#ifdef TL_VEC
/* One register tile of the gather below: NV vectors of columns starting at
 * column j0, plus one more vector at column jt (the last, partial vector of a
 * row, read as the full vector ending at column H; its columns shared with
 * the tile get the very same sums, so storing them twice is harmless). All
 * NV + 1 accumulators stay in registers while the n rows stream by. */
#define TL_GATHER_TILE(NV)                                                          \
    CNET_ALWAYS_INLINE void TL(gather_tile_##NV)(ptrdiff_t n, const int32_t *CNET_RESTRICT idx, \
                                     const XT *CNET_RESTRICT X, ptrdiff_t xs,        \
                                     const WT *CNET_RESTRICT M, ptrdiff_t H,         \
                                     ptrdiff_t j0, ptrdiff_t jt, WT *a, int add)     \
    {                                                                                \
        TL_VEC s[NV], st;                                                            \
        ptrdiff_t k, e;                                                              \
        for (k = 0; k < NV; k++)                                                     \
            s[k] = add ? *(const TL_VEC *)(a + j0 + k * TL_VL) : (TL_VEC){0};        \
        st = add ? *(const TL_VEC *)(a + jt) : (TL_VEC){0};                          \
        for (e = 0; e < n; e++) {                                                    \
            const WT v = (WT)X[idx[e] * xs];                                         \
            const WT *CNET_RESTRICT m = M + (ptrdiff_t)idx[e] * H;                   \
            for (k = 0; k < NV; k++)                                                 \
                s[k] += v * *(const TL_VEC *)(m + j0 + k * TL_VL);                   \
            st += v * *(const TL_VEC *)(m + jt);                                     \
        }                                                                            \
        for (k = 0; k < NV; k++)                                                     \
            *(TL_VEC *)(a + j0 + k * TL_VL) = s[k];                                  \
        *(TL_VEC *)(a + jt) = st;                                                    \
    }

TL_GATHER_TILE(1)
TL_GATHER_TILE(2)
TL_GATHER_TILE(3)
TL_GATHER_TILE(4)
TL_GATHER_TILE(5)
TL_GATHER_TILE(6)
TL_GATHER_TILE(7)
TL_GATHER_TILE(8)
TL_GATHER_TILE(9)
TL_GATHER_TILE(10)
TL_GATHER_TILE(11)
TL_GATHER_TILE(12)
#undef TL_GATHER_TILE
#endif

/* a[j] (OUT, or += when add) = sum_e X[idx[e] xs] * M[idx[e], j] for j < H: a
 * weighted sum of n gathered rows of M (rows of H, C-contiguous), e ascending.
 * It is x·W1 for one row (X = that row, xs = 1, M = W1, idx = its non-zero
 * inputs) and one row of xᵀ·dz1 (X = column i of x, xs = ldx, M = dz1, idx =
 * the batch rows where x[b, i] != 0). Up to 12 vectors
 * of columns are summed in registers per pass over the rows (one pass for
 * H <= 48 in float64, 96 in float32). */
CNET_DISPATCH
static void TL(gather_rows)(ptrdiff_t n, const int32_t *CNET_RESTRICT idx,
                            const XT *CNET_RESTRICT X, ptrdiff_t xs, const WT *CNET_RESTRICT M,
                            ptrdiff_t H, WT *CNET_RESTRICT a, int add)
{
    ptrdiff_t j, e;
#ifdef TL_VEC
    const ptrdiff_t F = H / TL_VL; /* full vectors in a row */
    ptrdiff_t v0;
    for (v0 = 0; v0 < F; v0 += 12) {
        const ptrdiff_t nv = F - v0 < 12 ? F - v0 : 12;
        const ptrdiff_t j0 = v0 * TL_VL;
        const ptrdiff_t jt = (v0 + nv == F && H % TL_VL) ? H - TL_VL : j0 + (nv - 1) * TL_VL;
        switch (nv) {
        case 1: TL(gather_tile_1)(n, idx, X, xs, M, H, j0, jt, a, add); break;
        case 2: TL(gather_tile_2)(n, idx, X, xs, M, H, j0, jt, a, add); break;
        case 3: TL(gather_tile_3)(n, idx, X, xs, M, H, j0, jt, a, add); break;
        case 4: TL(gather_tile_4)(n, idx, X, xs, M, H, j0, jt, a, add); break;
        case 5: TL(gather_tile_5)(n, idx, X, xs, M, H, j0, jt, a, add); break;
        case 6: TL(gather_tile_6)(n, idx, X, xs, M, H, j0, jt, a, add); break;
        case 7: TL(gather_tile_7)(n, idx, X, xs, M, H, j0, jt, a, add); break;
        case 8: TL(gather_tile_8)(n, idx, X, xs, M, H, j0, jt, a, add); break;
        case 9: TL(gather_tile_9)(n, idx, X, xs, M, H, j0, jt, a, add); break;
        case 10: TL(gather_tile_10)(n, idx, X, xs, M, H, j0, jt, a, add); break;
        case 11: TL(gather_tile_11)(n, idx, X, xs, M, H, j0, jt, a, add); break;
        default: TL(gather_tile_12)(n, idx, X, xs, M, H, j0, jt, a, add); break;
        }
    }
    if (F > 0)
        return;
#endif
    for (j = 0; j < H; j++) {
        WT s0 = add ? a[j] : 0;
        for (e = 0; e < n; e++)
            s0 += (WT)X[idx[e] * xs] * M[(ptrdiff_t)idx[e] * H + j];
        a[j] = s0;
    }
}

/* Dense x·W1 for exactly TL_RB rows: a (TL_RB, H) OUT, a[r, j] = sum_i x[r, i]
 * W1[i, j], i ascending (zeros included: the same sums as gather_rows). Each
 * W1 row loaded serves the TL_RB rows. */
CNET_DISPATCH
static void TL(dense_rows)(ptrdiff_t I, ptrdiff_t H, const XT *CNET_RESTRICT x,
                           ptrdiff_t ldx, const WT *CNET_RESTRICT W1, WT *CNET_RESTRICT a)
{
    ptrdiff_t j, i, r;
#ifdef TL_VEC
    /* Vectors of columns two at a time: TL_RB x 2 accumulators in registers.
     * The last, partial vector is the full vector ending at column H (its
     * columns shared with the one before get the same sums). */
    const ptrdiff_t F = H / TL_VL;
    const ptrdiff_t nvec = F + (H % TL_VL != 0);
    ptrdiff_t v;
    for (v = 0; v < nvec && F > 0; v += 2) {
        const ptrdiff_t o0 = v < F ? v * TL_VL : H - TL_VL;
        const ptrdiff_t o1 = v + 1 < F ? (v + 1) * TL_VL : (v + 1 < nvec ? H - TL_VL : o0);
        TL_VEC s[TL_RB][2];
        for (r = 0; r < TL_RB; r++)
            s[r][0] = s[r][1] = (TL_VEC){0};
        for (i = 0; i < I; i++) {
            const TL_VEC m0 = *(const TL_VEC *)(W1 + i * H + o0);
            const TL_VEC m1 = *(const TL_VEC *)(W1 + i * H + o1);
            for (r = 0; r < TL_RB; r++) {
                const WT xv = (WT)x[r * ldx + i];
                s[r][0] += xv * m0;
                s[r][1] += xv * m1;
            }
        }
        for (r = 0; r < TL_RB; r++) {
            *(TL_VEC *)(a + r * H + o0) = s[r][0];
            *(TL_VEC *)(a + r * H + o1) = s[r][1];
        }
    }
    if (F > 0)
        return;
#endif
    for (r = 0; r < TL_RB; r++)
        for (j = 0; j < H; j++)
            a[r * H + j] = 0;
    for (i = 0; i < I; i++) {
        const WT *CNET_RESTRICT m = W1 + i * H;
        for (r = 0; r < TL_RB; r++) {
            const WT xv = (WT)x[r * ldx + i];
            for (j = 0; j < H; j++)
                a[r * H + j] += xv * m[j];
        }
    }
}

/* z1[r, :] (OUT) = sigmoid(a1[r, :] + b1) in place for R rows of H. */
CNET_DISPATCH
static void TL(bias_sigmoid)(ptrdiff_t R, ptrdiff_t H, const WT *CNET_RESTRICT b1,
                             WT *CNET_RESTRICT z1)
{
    ptrdiff_t r, j;
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
    for (k = 0; k < O; k++)
        y[k] += b2[k];
    m = y[0];
    for (k = 1; k < O; k++)
        m = y[k] > m ? y[k] : m;
    /* the book's softmax: shift by the max, exp, divide by the sum */
    for (k = 0; k < O; k++)
        y[k] = TL_EXP(y[k] - m);
    s = 0;
    for (k = 0; k < O; k++)
        s += y[k];
    for (k = 0; k < O; k++)
        y[k] = y[k] / s;
}

/* Hidden layer of R <= TL_RC rows: z1 (R,H) OUT = sigmoid(x·W1 + b1).
 * Dense groups of TL_RB rows (at least half non-zero) take dense_rows. The
 * others gather the W1 rows of their non-zero inputs, a block of W1 rows at a
 * time for all R rows, so that the block is read from L2 once and then served
 * from L1 (W1 is 313 kB for MNIST; the whole of it would stream from L2 for
 * every row). Each a1 is still summed over ascending i. idx: scratch of
 * TL_RC * (I + 8) entries. */
static void TL(hidden)(ptrdiff_t R, ptrdiff_t I, ptrdiff_t H, const XT *x, ptrdiff_t ldx,
                       const WT *W1, const WT *b1, WT *z1, int32_t *idx)
{
    ptrdiff_t r, g, n[TL_RC], cur[TL_RC], i0, ib;
    int sparse[TL_RC];
    for (r = 0; r < R; r++)
        n[r] = TL_NZ(I, x + r * ldx, idx + r * (I + 8));
    for (g = 0; g < R; g += TL_RB) {
        const ptrdiff_t G = R - g < TL_RB ? R - g : TL_RB;
        ptrdiff_t total = 0;
        for (r = g; r < g + G; r++)
            total += n[r];
        if (G == TL_RB && 2 * total >= G * I) {
            TL(dense_rows)(I, H, x + g * ldx, ldx, W1, z1 + g * H);
            for (r = g; r < g + G; r++)
                sparse[r] = 0;
        } else {
            for (r = g; r < g + G; r++)
                sparse[r] = 1;
        }
    }
    /* W1 rows per block: about 16 kB of W1, half of a typical L1 */
    ib = (ptrdiff_t)(16384 / ((size_t)H * sizeof(WT)));
    ib = ib < 8 ? 8 : ib;
    for (r = 0; r < R; r++)
        cur[r] = 0;
    for (i0 = 0; i0 < I; i0 += ib) {
        const ptrdiff_t i1 = i0 + ib < I ? i0 + ib : I;
        for (r = 0; r < R; r++) {
            const int32_t *list = idx + r * (I + 8);
            ptrdiff_t e = cur[r];
            if (!sparse[r])
                continue;
            while (e < n[r] && list[e] < i1)
                e++;
            if (e > cur[r] || i0 == 0)
                TL(gather_rows)(e - cur[r], list + cur[r], x + r * ldx, 1, W1, H, z1 + r * H,
                                i0 > 0);
            cur[r] = e;
        }
    }
    TL(bias_sigmoid)(R, H, b1, z1);
}

/* Per-thread scratch of the forward kernels: z1 (TL_RC,H), y (TL_RC,O), and the
 * non-zero lists of TL_RC rows. NULL when out of memory. */
typedef struct {
    WT *z1, *y;
    int32_t *idx;
} TL(scratch);

static int TL(scratch_alloc)(TL(scratch) *s, ptrdiff_t I, ptrdiff_t H, ptrdiff_t O)
{
    s->z1 = (WT *)malloc(sizeof(WT) * ((size_t)TL_RC * (H + O)));
    s->idx = (int32_t *)malloc(sizeof(int32_t) * TL_RC * ((size_t)I + 8));
    if (!s->z1 || !s->idx) {
        free(s->z1);
        free(s->idx);
        s->z1 = NULL;
        s->idx = NULL;
        return -1;
    }
    s->y = s->z1 + TL_RC * H;
    return 0;
}

static void TL(scratch_free)(TL(scratch) *s)
{
    free(s->z1);
    free(s->idx);
}

/* Row chunks [0, nblk) of TL_RC rows: rows of chunk q are [q*TL_RC, min(B, ...)). */
#define TL_ROWS(q, B) (((q) + 1) * TL_RC <= (B) ? TL_RC : (B) - (q) * TL_RC)

/* y (B,O) OUT = predict(x); see two_layer.h for the shapes. */
int TL(predict)(ptrdiff_t B, ptrdiff_t I, ptrdiff_t H, ptrdiff_t O,
                const XT *x, ptrdiff_t ldx, const WT *W1, const WT *b1,
                const WT *W2, const WT *b2, WT *y, int nthreads)
{
    const ptrdiff_t nblk = (B + TL_RC - 1) / TL_RC;
    int failed = 0;
#pragma omp parallel num_threads(nthreads) reduction(|| : failed)
    {
        TL(scratch) s;
        ptrdiff_t q, r;
        const int ok = TL(scratch_alloc)(&s, I, H, O) == 0;
        failed = !ok;
#pragma omp for schedule(static)
        for (q = 0; q < nblk; q++) {
            const ptrdiff_t R = TL_ROWS(q, B);
            if (!ok)
                continue;
            TL(hidden)(R, I, H, x + q * TL_RC * ldx, ldx, W1, b1, s.z1, s.idx);
            for (r = 0; r < R; r++)
                TL(output)(H, O, s.z1 + r * H, W2, b2, y + (q * TL_RC + r) * O);
        }
        if (ok)
            TL(scratch_free)(&s);
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
    const ptrdiff_t nblk = (B + TL_RC - 1) / TL_RC;
    WT *logs = (WT *)malloc(sizeof(WT) * (size_t)B);
    int failed = 0;
    ptrdiff_t b;
    WT sum;
    if (!logs)
        return -1;
#pragma omp parallel num_threads(nthreads) reduction(|| : failed)
    {
        TL(scratch) s;
        ptrdiff_t q, r;
        const int ok = TL(scratch_alloc)(&s, I, H, O) == 0;
        failed = !ok;
#pragma omp for schedule(static)
        for (q = 0; q < nblk; q++) {
            const ptrdiff_t R = TL_ROWS(q, B);
            if (!ok)
                continue;
            TL(hidden)(R, I, H, x + q * TL_RC * ldx, ldx, W1, b1, s.z1, s.idx);
            for (r = 0; r < R; r++) {
                const ptrdiff_t row = q * TL_RC + r;
                TL(output)(H, O, s.z1 + r * H, W2, b2, s.y);
                logs[row] = TL_LOG(s.y[t[row]] + (WT)1e-7);
            }
        }
        if (ok)
            TL(scratch_free)(&s);
    }
    sum = 0;
    for (b = 0; b < B; b++)
        sum += logs[b];
    free(logs);
    *loss = -sum / (WT)B;
    return failed ? -1 : 0;
}

/* *count OUT = number of rows whose argmax(predict(x)) (first maximum, as
 * np.argmax) equals t[b]. */
int TL(correct)(ptrdiff_t B, ptrdiff_t I, ptrdiff_t H, ptrdiff_t O,
                const XT *x, ptrdiff_t ldx, const ptrdiff_t *t,
                const WT *W1, const WT *b1, const WT *W2, const WT *b2,
                ptrdiff_t *count, int nthreads)
{
    const ptrdiff_t nblk = (B + TL_RC - 1) / TL_RC;
    ptrdiff_t n = 0;
    int failed = 0;
#pragma omp parallel num_threads(nthreads) reduction(|| : failed) reduction(+ : n)
    {
        TL(scratch) s;
        ptrdiff_t q, r, k;
        const int ok = TL(scratch_alloc)(&s, I, H, O) == 0;
        failed = !ok;
#pragma omp for schedule(static)
        for (q = 0; q < nblk; q++) {
            const ptrdiff_t R = TL_ROWS(q, B);
            if (!ok)
                continue;
            TL(hidden)(R, I, H, x + q * TL_RC * ldx, ldx, W1, b1, s.z1, s.idx);
            for (r = 0; r < R; r++) {
                ptrdiff_t best = 0;
                TL(output)(H, O, s.z1 + r * H, W2, b2, s.y);
                for (k = 1; k < O; k++)
                    if (s.y[k] > s.y[best])
                        best = k;
                n += best == t[q * TL_RC + r];
            }
        }
        if (ok)
            TL(scratch_free)(&s);
    }
    *count = n;
    return failed ? -1 : 0;
}

/* Columns of x (rows of gW1) per work unit of xᵀ·dz1, and batch rows listed
 * at a time per column (bounds the per-thread lists at any batch size). */
#define TL_IBLK 16
#define TL_BCHUNK 128

/* gW1[i, :] OUT = sum_b x[b, i] dz1[b, :] for i in [i0, i0 + w), w <= TL_IBLK,
 * b ascending: x (B,I) at stride ldx, dz1 (B,H) (IN). The batch rows where
 * x[b, i] != 0 are listed per column (lidx: TL_IBLK x TL_BCHUNK scratch)
 * and their dz1 rows gathered. */
static void TL(x_t_dz1)(ptrdiff_t B, ptrdiff_t H, ptrdiff_t i0, ptrdiff_t w,
                        const XT *x, ptrdiff_t ldx, const WT *dz1, WT *gW1,
                        int32_t *lidx)
{
    ptrdiff_t b0, b, c;
    ptrdiff_t n[TL_IBLK];
    for (b0 = 0; b0 < B; b0 += TL_BCHUNK) {
        const ptrdiff_t b1 = b0 + TL_BCHUNK < B ? b0 + TL_BCHUNK : B;
        for (c = 0; c < w; c++)
            n[c] = 0;
        for (b = b0; b < b1; b++) {
            const XT *xs = x + b * ldx + i0;
            int any = 0;
            for (c = 0; c < w; c++)
                any |= xs[c] != 0;
            if (!any)
                continue;
            for (c = 0; c < w; c++) { /* branch-free append */
                lidx[c * TL_BCHUNK + n[c]] = (int32_t)b;
                n[c] += xs[c] != 0;
            }
        }
        for (c = 0; c < w; c++)
            TL(gather_rows)(n[c], lidx + c * TL_BCHUNK, x + i0 + c, ldx, dz1, H,
                            gW1 + (i0 + c) * H, b0 > 0);
    }
}

/* Backpropagation (the book's gradient): gW1 (I,H), gb1 (H), gW2 (H,O),
 * gb2 (O) OUT. Labels: t_dense (B,O) when not NULL (dy = (y - t) / B exactly
 * as the book with any t), else class indices t (B) (one-hot rows implied). */
int TL(gradient)(ptrdiff_t B, ptrdiff_t I, ptrdiff_t H, ptrdiff_t O,
                 const XT *x, ptrdiff_t ldx, const ptrdiff_t *t,
                 const WT *t_dense, const WT *W1, const WT *b1,
                 const WT *W2, const WT *b2, WT *gW1, WT *gb1, WT *gW2,
                 WT *gb2, int nthreads)
{
    const ptrdiff_t nblk = (B + TL_RC - 1) / TL_RC;
    const ptrdiff_t niblk = (I + TL_IBLK - 1) / TL_IBLK;
    /* z1 (B,H), dz1 (B,H), dy (B,O) */
    WT *z1 = (WT *)malloc(sizeof(WT) * ((size_t)B * (2 * H + O)));
    WT *dz1 = z1 + B * H;
    WT *dy = dz1 + B * H;
    const WT batch_num = (WT)B;
    int failed = 0;
    if (!z1)
        return -1;
#pragma omp parallel num_threads(nthreads) reduction(|| : failed)
    {
        TL(scratch) s;
        int32_t *lidx = (int32_t *)malloc(sizeof(int32_t) * TL_IBLK * TL_BCHUNK);
        ptrdiff_t q, r, j, k, b;
        const int s_ok = TL(scratch_alloc)(&s, I, H, O) == 0;
        const int ok = s_ok && lidx;
        failed = !ok;
        /* forward, dy and dz1: each row by one thread */
#pragma omp for schedule(static)
        for (q = 0; q < nblk; q++) {
            const ptrdiff_t R = TL_ROWS(q, B);
            if (!ok)
                continue;
            TL(hidden)(R, I, H, x + q * TL_RC * ldx, ldx, W1, b1, z1 + q * TL_RC * H,
                       s.idx);
            for (r = 0; r < R; r++) {
                const ptrdiff_t row = q * TL_RC + r;
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
        /* gW1 = xᵀ·dz1, split over rows of gW1 */
#pragma omp for schedule(static) nowait
        for (q = 0; q < niblk; q++) {
            const ptrdiff_t i0 = q * TL_IBLK;
            if (!ok)
                continue;
            TL(x_t_dz1)(B, H, i0, I - i0 < TL_IBLK ? I - i0 : TL_IBLK, x, ldx, dz1, gW1,
                        lidx);
        }
        /* gW2 = z1ᵀ·dy, split over rows of gW2 */
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
        if (s_ok)
            TL(scratch_free)(&s);
        free(lidx);
    }
    free(z1);
    return failed ? -1 : 0;
}

#undef TL_ROWS
#undef TL_IBLK
#undef TL_BCHUNK
