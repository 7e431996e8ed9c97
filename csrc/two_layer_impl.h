/* Kernel bodies of two_layer.c, compiled once per (x type, weight type) pair.
 *
 * The includer defines XT (input element type), WT (weight and compute type),
 * TL(name) (appends the pair's suffix), TL_AFFINE(name) (the fully connected
 * layer's kernels of affine.h for the pair: the hidden layer is its forward
 * chunk with the sigmoid epilogue), TL_NONFINITE (cnet_any_nonfinite_* of
 * nonfinite.h for WT), TL_SIGMOID_GRAD_Y (elementwise.h for WT), TL_SM(step) (the
 * softmax row steps of softmax_rows.h for WT), TL_CE_TERM (the cross-entropy
 * term of exp_log.h for WT), TL_GRAD_B (affine_grad_b_* of affine.h for WT:
 * the bias gradients), and where the compiler has vector types TL_VL (the
 * lanes of affine.h's vectors of WT, for padding rows). The hidden layer, activations, softmax rows, loss terms and dy
 * rows are those shared operations; this file holds the other products and
 * the scheduling.
 * Dimension letters B, I, H, O as in cnet_common.h.
 *
 * Every sum over inputs or batch rows runs in ascending index order, whatever
 * path (sparse or dense) or thread computes it, so the bits never depend on
 * the thread count.
 *
 * Zero inputs are skipped only where the product they skip is zero: when W1
 * holds an inf or NaN, or dz1 does, the lists of non-zero inputs list every
 * input instead (affine_forward_chunk_*'s all), so that 0 * inf = NaN reaches the sums as in the
 * book's NumPy. W1 is checked by the threads while they work (TL_CHECK values
 * at a time, no barrier), dz1 through its column sums gb1 (a sum is finite
 * only if every term is); a call that finds an inf or NaN is run again with
 * every input listed.
 */

/* The output layer's weights laid out for vector loads, made once per call:
 * W2p (H, Op) and b2p (Op) are W2 and b2 with their rows zero-padded to Op
 * columns, Op a multiple of TL_OW (CNET_AFFINE_OV vectors, the width of one output
 * tile). For the gradient only (backward): W2T (O, H) is W2ᵀ, for da1 =
 * dy·W2ᵀ as a gather of its rows, and iota its row numbers; NULL otherwise. */
#ifdef TL_VL
#define TL_OW (CNET_AFFINE_OV * TL_VL)
#else
#define TL_OW 1
#endif

typedef struct {
    ptrdiff_t Op;
    WT *W2p, *b2p, *W2T;
    int32_t *iota; /* 0, 1, ..., O - 1: the rows of W2T, all gathered */
} TL(head);

/* Carves h from base at *off (tl_carve; with base NULL only counts) for H
 * hidden units and O outputs; head_fill then fills it. */
static void TL(head_at)(TL(head) *h, char *base, size_t *off, ptrdiff_t H, ptrdiff_t O,
                        int backward)
{
    const ptrdiff_t Op = (O + TL_OW - 1) / TL_OW * TL_OW;
    h->Op = Op;
    h->W2p = (WT *)tl_carve(base, off, sizeof(WT) * (size_t)(H + 1) * Op);
    h->b2p = base ? h->W2p + H * Op : NULL;
    h->W2T = backward ? (WT *)tl_carve(base, off, sizeof(WT) * (size_t)O * H) : NULL;
    h->iota = backward ? (int32_t *)tl_carve(base, off, sizeof(int32_t) * (size_t)O) : NULL;
}

static void TL(head_fill)(TL(head) *h, ptrdiff_t H, ptrdiff_t O, const WT *W2, const WT *b2)
{
    const ptrdiff_t Op = h->Op;
    ptrdiff_t j, k;
    for (j = 0; j < H; j++)
        for (k = 0; k < Op; k++)
            h->W2p[j * Op + k] = k < O ? W2[j * O + k] : 0;
    for (k = 0; k < Op; k++)
        h->b2p[k] = k < O ? b2[k] : 0;
    if (h->W2T) {
        for (k = 0; k < O; k++) {
            h->iota[k] = (int32_t)k;
            for (j = 0; j < H; j++)
                h->W2T[k * H + j] = W2[j * O + k];
        }
    }
}

/* y (R, Op) OUT, first O columns = softmax(z1·W2 + b2) row by row, for
 * R <= TL_RC rows of z1 (R, H). Each a2[r, k] is summed over j ascending from
 * 0, then b2 added (the book's z1·W2 + b2); the rows' softmax is the shared
 * one (softmax_rows.h), in place. */
CNET_DISPATCH
static void TL(output_rows)(ptrdiff_t R, ptrdiff_t H, ptrdiff_t O, const TL(head) *hd,
                            const WT *CNET_RESTRICT z1, WT *CNET_RESTRICT y)
{
    const ptrdiff_t Op = hd->Op;
    ptrdiff_t r, k;
    for (r = 0; r < R; r += TL_RB) {
        const WT *zr[TL_RB];
        ptrdiff_t q;
        for (q = 0; q < TL_RB && r + q < R; q++)
            zr[q] = z1 + (r + q) * H;
        TL_AFFINE(rows_times)(q, H, zr, 1, hd->W2p, Op, y + r * Op);
    }
    for (r = 0; r < R; r++)
        for (k = 0; k < Op; k++)
            y[r * Op + k] += hd->b2p[k];
    TL_SM(softmax_rows)((size_t)R, (size_t)O, y, Op, 1, y, (size_t)Op);
}

/* H rounded up to whole vectors: the row stride of the gradient's dz1 and of
 * forward_batch's copy of W1, so that the gathers load their rows at
 * vector-aligned offsets. With rows of 50 float64 (400 bytes) a quarter of
 * the 32-byte loads straddled two cache lines: the gradient of 100 MNIST
 * images took 237 us on one thread that way, 229 us with dz1's rows padded to
 * 52; the accuracy over 60,000 images on two threads 35.2 ms, 33.1 ms with
 * W1's. */
#ifdef TL_VL
#define TL_HD(H) (((H) + TL_VL - 1) / TL_VL * TL_VL)
#else
#define TL_HD(H) (H)
#endif

/* Batches of at least this many rows read W1 through an aligned copy
 * (TL_HD): the copy costs about what the aligned loads save at 600 rows, and
 * more below. */
#define TL_PAD_ROWS 512

/* Per-thread scratch of the forward pass: y (TL_RC, Op) and the values of
 * TL_RC rows' non-zero inputs in the weights' type (val, I + 8 per row); with
 * rows, also z1 (TL_RC, H), the non-zero columns (idx) and their values
 * (xval), I + 8 per row. The gradient keeps those three for the whole pass
 * instead, so its threads carve none (NULL). */
typedef struct {
    WT *z1, *y, *val;
    int32_t *idx;
    XT *xval;
} TL(scratch);

/* Carves s from base at *off (tl_carve); with base NULL only counts. */
static void TL(scratch_at)(TL(scratch) *s, char *base, size_t *off, ptrdiff_t I, ptrdiff_t H,
                           ptrdiff_t Op, int rows)
{
    s->y = (WT *)tl_carve(base, off, sizeof(WT) * (size_t)TL_RC * ((size_t)Op + I + 8));
    s->val = base ? s->y + TL_RC * Op : NULL;
    s->z1 = rows ? (WT *)tl_carve(base, off, sizeof(WT) * TL_RC * (size_t)H) : NULL;
    s->idx = rows ? (int32_t *)tl_carve(base, off, sizeof(int32_t) * TL_RC * ((size_t)I + 8))
                  : NULL;
    s->xval = rows ? (XT *)tl_carve(base, off, sizeof(XT) * TL_RC * ((size_t)I + 8)) : NULL;
}

/* Hidden and output layers of R <= TL_RC rows: z1 (R, H) OUT = sigmoid(x·W1
 * + b1) (W1's rows ldw apart) by the fully connected layer's forward chunk,
 * which lists row r's non-zero columns in idx + r (I + 8) (OUT, n[r] of
 * them), their values in xval + r (I + 8) (OUT), and unless starts is NULL,
 * in starts + r TL_NSTARTS(I) (OUT) where each block of TL_IBLK columns
 * starts in that list; with all set, every column is listed, zeros too. val
 * (TL_RC (I + 8)) is scratch; the gathers prefetch [pf, pf_end) (NULL:
 * nothing). y (R, Op) OUT = softmax(z1·W2 + b2) in its first O columns. */
static void TL(forward)(ptrdiff_t R, ptrdiff_t I, ptrdiff_t H, ptrdiff_t O,
                        const XT *x, ptrdiff_t ldx, const WT *W1, ptrdiff_t ldw,
                        const WT *b1, const TL(head) *hd, int32_t *idx, XT *xval, ptrdiff_t *n,
                        int32_t *starts, WT *val, WT *z1, WT *y, const char *pf,
                        const char *pf_end, int all)
{
    TL_AFFINE(forward_chunk)(R, x, ldx, W1, ldw, b1, z1, NULL, I, H, CNET_AFFINE_BIAS_SIGMOID,
                             all, idx, xval, n, starts, TL_IBLK, val, pf, pf_end);
    TL(output_rows)(R, H, O, hd, z1, y);
}

/* Row chunks [0, nblk) of TL_RC rows: rows of chunk q are [q*TL_RC, min(B, ...)). */
#define TL_ROWS(q, B) (((q) + 1) * TL_RC <= (B) ? TL_RC : (B) - (q) * TL_RC)

/* What forward_batch makes of each row's output probabilities. */
#ifndef TL_FORWARD_KINDS
#define TL_FORWARD_KINDS
enum { TL_PREDICT, TL_LOSS, TL_COUNT_CORRECT };
#endif

/* forward_batch's scratch carved from base (NULL: counted only): the head,
 * logs (B) for the loss's per-row terms, *W1p (I, TL_HD(H)) for a copy of W1
 * when B >= TL_PAD_ROWS and H is not whole vectors (else NULL), then from
 * *threads on per_thread bytes (a TL(scratch)) for each of nthreads threads.
 * Returns the bytes. */
static size_t TL(forward_layout)(char *base, ptrdiff_t B, ptrdiff_t I, ptrdiff_t H,
                                 ptrdiff_t O, int nthreads, TL(head) *hd, WT **logs, WT **W1p,
                                 size_t *threads, size_t *per_thread)
{
    size_t off = 0;
    TL(scratch) s;
    TL(head_at)(hd, base, &off, H, O, 0);
    *logs = (WT *)tl_carve(base, &off, sizeof(WT) * (size_t)B);
    *W1p = NULL;
    if (B >= TL_PAD_ROWS && TL_HD(H) != H)
        *W1p = (WT *)tl_carve(base, &off, sizeof(WT) * (size_t)I * TL_HD(H));
    *threads = off;
    *per_thread = 0;
    TL(scratch_at)(&s, NULL, per_thread, I, H, hd->Op, 1);
    return off + (size_t)nthreads * *per_thread;
}

size_t TL(forward_scratch)(ptrdiff_t B, ptrdiff_t I, ptrdiff_t H, ptrdiff_t O, int nthreads)
{
    TL(head) hd;
    WT *logs, *W1p;
    size_t threads, per_thread;
    return TL(forward_layout)(NULL, B, I, H, O, tl_threads(nthreads), &hd, &logs, &W1p, &threads,
                              &per_thread) +
           TL_ALIGN;
}

/* The forward pass over B rows in chunks of TL_RC rows split over nthreads
 * threads (every input listed when all is set; else W1 is checked and 1
 * returned, with the outputs not to be used, when it holds an inf or NaN),
 * then per row: TL_PREDICT: out (B, O) OUT = y; TL_LOSS: *out OUT =
 * -sum_b log(y[b, t[b]] + 1e-7) / B, the per-row terms summed in row order;
 * TL_COUNT_CORRECT: *count OUT = the rows whose argmax of y (the first
 * maximum, as np.argmax) is t[b]. scratch: tl_forward_scratch bytes. */
static int TL(forward_batch)(int what, ptrdiff_t B, ptrdiff_t I, ptrdiff_t H, ptrdiff_t O,
                             const XT *x, ptrdiff_t ldx, const ptrdiff_t *t,
                             const WT *W1, const WT *b1, const WT *W2, const WT *b2,
                             WT *out, ptrdiff_t *count, int nthreads, void *scratch, int all)
{
    const ptrdiff_t nblk = (B + TL_RC - 1) / TL_RC;
    /* x larger than a core's cache: accuracy over 60,000 MNIST images on
     * two threads 34.3 -> 32.8 ms with the prefetch (bench/kernel_ab.py
     * --mode accuracy); a loss of 100 images, whose x was just copied,
     * 60 -> 62 us */
    const int prefetch = (size_t)B * I * sizeof(XT) > CNET_AFFINE_PF_BYTES;
    const size_t nW1 = (size_t)I * (size_t)H;
    const ptrdiff_t nchk = all ? 0 : (ptrdiff_t)((nW1 + TL_CHECK - 1) / TL_CHECK);
    char *base = tl_aligned(scratch);
    ptrdiff_t n = 0, b;
    int w1_bad = 0;
    size_t threads, per_thread;
    TL(head) hd;
    WT *logs, *W1p, sum = 0;
    nthreads = tl_threads(nthreads);
    TL(forward_layout)(base, B, I, H, O, nthreads, &hd, &logs, &W1p, &threads, &per_thread);
    TL(head_fill)(&hd, H, O, W2, b2);
#pragma omp parallel num_threads(nthreads) reduction(+ : n) reduction(| : w1_bad)
    {
        TL(scratch) s;
        ptrdiff_t q, r, k, j, nz[TL_RC];
        size_t off = threads + (size_t)cnet_thread_num() * per_thread;
        const WT *W = W1p ? W1p : W1;
        const ptrdiff_t ldw = W1p ? TL_HD(H) : H;
        TL(scratch_at)(&s, base, &off, I, H, hd.Op, 1);
        /* W1's check, read by no one before the region ends */
#pragma omp for schedule(static) nowait
        for (q = 0; q < nchk; q++)
            w1_bad |= TL_NONFINITE(nW1 - (size_t)q * TL_CHECK < TL_CHECK
                                       ? nW1 - (size_t)q * TL_CHECK : TL_CHECK,
                                   W1 + (size_t)q * TL_CHECK);
        if (W1p) {
            /* (the barrier at the loop's end: all of it copied before use) */
#pragma omp for schedule(static)
            for (q = 0; q < I; q++)
                for (j = 0; j < ldw; j++)
                    W1p[q * ldw + j] = j < H ? W1[q * H + j] : 0;
        }
        /* dynamic: a thread that starts late (woken from sleep, or its core
         * busy elsewhere) takes fewer chunks; every row is still computed
         * whole by one thread, so the bits stay the same */
#pragma omp for schedule(dynamic)
        for (q = 0; q < nblk; q++) {
            const ptrdiff_t R = TL_ROWS(q, B);
            /* the chunk this thread most likely takes next, while the
             * threads keep pace: in a large batch its rows of x come from
             * memory, so they are prefetched during this chunk's gathers */
            const ptrdiff_t qn = q + nthreads;
            const XT *xn = x + qn * TL_RC * ldx;
            const int pf = prefetch && qn < nblk;
            TL(forward)(R, I, H, O, x + q * TL_RC * ldx, ldx, W, ldw, b1, &hd, s.idx, s.xval,
                        nz, NULL, s.val, s.z1, s.y, pf ? (const char *)xn : NULL,
                        pf ? (const char *)(xn + (TL_ROWS(qn, B) - 1) * ldx + I) : NULL, all);
            for (r = 0; r < R; r++) {
                const ptrdiff_t row = q * TL_RC + r;
                const WT *yr = s.y + r * hd.Op;
                ptrdiff_t best = 0;
                switch (what) {
                case TL_PREDICT:
                    memcpy(out + row * O, yr, sizeof(WT) * (size_t)O);
                    break;
                case TL_LOSS:
                    logs[row] = TL_CE_TERM(yr[t[row]]);
                    break;
                default:
                    for (k = 1; k < O; k++)
                        if (yr[k] > yr[best])
                            best = k;
                    n += best == t[row];
                }
            }
        }
    }
    if (w1_bad)
        return 1;
    if (what == TL_LOSS) {
        for (b = 0; b < B; b++)
            sum += logs[b];
        *out = -sum / (WT)B;
    }
    if (count)
        *count = n;
    return 0;
}

/* y (B,O) OUT = predict(x); see two_layer.h for the shapes. */
void TL(predict)(ptrdiff_t B, ptrdiff_t I, ptrdiff_t H, ptrdiff_t O,
                 const XT *x, ptrdiff_t ldx, const WT *W1, const WT *b1,
                 const WT *W2, const WT *b2, WT *y, int nthreads, void *scratch)
{
    if (TL(forward_batch)(TL_PREDICT, B, I, H, O, x, ldx, NULL, W1, b1, W2, b2, y, NULL,
                          nthreads, scratch, 0))
        TL(forward_batch)(TL_PREDICT, B, I, H, O, x, ldx, NULL, W1, b1, W2, b2, y, NULL,
                          nthreads, scratch, 1);
}

/* *loss OUT = -sum_b log(y[b, t[b]] + 1e-7) / B, the book's cross-entropy of
 * predict(x). */
void TL(loss)(ptrdiff_t B, ptrdiff_t I, ptrdiff_t H, ptrdiff_t O,
              const XT *x, ptrdiff_t ldx, const ptrdiff_t *t,
              const WT *W1, const WT *b1, const WT *W2, const WT *b2,
              WT *loss, int nthreads, void *scratch)
{
    if (TL(forward_batch)(TL_LOSS, B, I, H, O, x, ldx, t, W1, b1, W2, b2, loss, NULL, nthreads,
                          scratch, 0))
        TL(forward_batch)(TL_LOSS, B, I, H, O, x, ldx, t, W1, b1, W2, b2, loss, NULL, nthreads,
                          scratch, 1);
}

/* *count OUT = number of rows whose argmax(predict(x)) equals t[b]. */
void TL(correct)(ptrdiff_t B, ptrdiff_t I, ptrdiff_t H, ptrdiff_t O,
                 const XT *x, ptrdiff_t ldx, const ptrdiff_t *t,
                 const WT *W1, const WT *b1, const WT *W2, const WT *b2,
                 ptrdiff_t *count, int nthreads, void *scratch)
{
    if (TL(forward_batch)(TL_COUNT_CORRECT, B, I, H, O, x, ldx, t, W1, b1, W2, b2, NULL,
                          count, nthreads, scratch, 0))
        TL(forward_batch)(TL_COUNT_CORRECT, B, I, H, O, x, ldx, t, W1, b1, W2, b2, NULL,
                          count, nthreads, scratch, 1);
}

/* Batch rows per pass of the gradient (bounds its lists at any batch size). */
#define TL_GCHUNK 128

/* Per-thread scratch of xᵀ·dz1: for each of TL_IBLK columns the batch rows
 * (lidx) where x is non-zero and those values (lval), TL_GCHUNK each. */
typedef struct {
    int32_t *lidx;
    WT *lval;
} TL(lists);

/* Carves L from base at *off (tl_carve; with base NULL only counts). */
static void TL(lists_at)(TL(lists) *L, char *base, size_t *off)
{
    L->lidx = (int32_t *)tl_carve(base, off, sizeof(int32_t) * TL_IBLK * TL_GCHUNK);
    L->lval = (WT *)tl_carve(base, off, sizeof(WT) * TL_IBLK * TL_GCHUNK);
}

/* The backward pass of R rows from their forward pass's y (R, Op) and z1
 * (R, H): dy (R, Op) OUT = (y - t) / batch_num in the first O columns, zeros
 * past them, where t is rows of t_dense (R, O) when not NULL, else the one-hot
 * rows of the class indices t (R); dz1 (R, TL_HD(H)) OUT = sigmoid_grad(a1)
 * * da1, da1 = dy·W2ᵀ (the fully connected layer's dx rows). */
CNET_DISPATCH
static void TL(backward_rows)(ptrdiff_t R, ptrdiff_t H, ptrdiff_t O, const TL(head) *hd,
                              const WT *y, const WT *z1, const WT *t_dense, const ptrdiff_t *t,
                              WT batch_num, WT *dy, WT *dz1)
{
    const ptrdiff_t Op = hd->Op;
    ptrdiff_t r, j, k;
    for (r = 0; r < R; r++) {
        WT *dyr = dy + r * Op;
        TL_SM(dy_row_s)(y + r * Op, 1, t_dense ? -1 : t[r], t_dense ? t_dense + r * O : NULL, 1,
                        dyr, 1, (size_t)O, batch_num);
        for (k = O; k < Op; k++)
            dyr[k] = 0;
    }
    TL_AFFINE(dx_rows)(R, H, O, dy, Op, hd->W2T, H, hd->iota, dz1, TL_HD(H));
    for (r = 0; r < R; r++) {
        const WT *zr = z1 + r * H;
        WT *dr = dz1 + r * TL_HD(H);
        for (j = 0; j < H; j++)
            dr[j] = TL_SIGMOID_GRAD_Y(zr[j]) * dr[j];
    }
}

/* The gradient's scratch carved from base (NULL: counted only): the head;
 * z1 (B,H), dy (B,Op), gW2p (H,Op) in one array (*z1); dz1 (B, TL_HD(H))
 * (*dz1, its rows vector-aligned); the non-zero columns of the G1 rows of a
 * pass and their values: *rl and *rv (G1, I + 8), where their column blocks
 * start: *rs (G1, TL_NSTARTS(I)); then from *threads on per_thread bytes (a
 * TL(scratch) without rows, and TL(lists)) for each of nthreads threads.
 * Returns the bytes. */
static size_t TL(gradient_layout)(char *base, ptrdiff_t B, ptrdiff_t I, ptrdiff_t H,
                                  ptrdiff_t O, int nthreads, TL(head) *hd, WT **z1, WT **dz1,
                                  int32_t **rl, XT **rv, int32_t **rs, size_t *threads,
                                  size_t *per_thread)
{
    const ptrdiff_t G1 = B < TL_GCHUNK ? B : TL_GCHUNK; /* rows in the largest pass */
    size_t off = 0;
    TL(scratch) s;
    TL(lists) L;
    TL(head_at)(hd, base, &off, H, O, 1);
    *z1 = (WT *)tl_carve(base, &off,
                         sizeof(WT) * ((size_t)B * (H + hd->Op) + (size_t)H * hd->Op));
    *dz1 = (WT *)tl_carve(base, &off, sizeof(WT) * (size_t)B * TL_HD(H));
    *rl = (int32_t *)tl_carve(base, &off, sizeof(int32_t) * (size_t)G1 * ((size_t)I + 8));
    *rv = (XT *)tl_carve(base, &off, sizeof(XT) * (size_t)G1 * ((size_t)I + 8));
    *rs = (int32_t *)tl_carve(base, &off, sizeof(int32_t) * (size_t)G1 * TL_NSTARTS(I));
    *threads = off;
    *per_thread = 0;
    TL(scratch_at)(&s, NULL, per_thread, I, H, hd->Op, 0);
    TL(lists_at)(&L, NULL, per_thread);
    return off + (size_t)nthreads * *per_thread;
}

size_t TL(gradient_scratch)(ptrdiff_t B, ptrdiff_t I, ptrdiff_t H, ptrdiff_t O, int nthreads)
{
    TL(head) hd;
    WT *z1, *dz1;
    int32_t *rl, *rs;
    XT *rv;
    size_t threads, per_thread;
    return TL(gradient_layout)(NULL, B, I, H, O, tl_threads(nthreads), &hd, &z1, &dz1, &rl, &rv,
                               &rs, &threads, &per_thread) +
           TL_ALIGN;
}

/* TL(gradient) with every input listed when all is set; else 1 is
 * returned, with the outputs not to be used, when W1 or dz1 holds an inf or
 * NaN. */
static int TL(gradient_pass)(ptrdiff_t B, ptrdiff_t I, ptrdiff_t H, ptrdiff_t O,
                             const XT *x, ptrdiff_t ldx, const ptrdiff_t *t,
                             const WT *t_dense, const WT *W1, const WT *b1,
                             const WT *W2, const WT *b2, WT *gW1, WT *gb1, WT *gW2,
                             WT *gb2, int nthreads, void *scratch, int all)
{
    const ptrdiff_t niblk = (I + TL_IBLK - 1) / TL_IBLK;
    const ptrdiff_t njblk = (H + TL_RB - 1) / TL_RB;
    const WT batch_num = (WT)B;
    const size_t nW1 = (size_t)I * (size_t)H;
    const ptrdiff_t nchk = all ? 0 : (ptrdiff_t)((nW1 + TL_CHECK - 1) / TL_CHECK);
    int w1_bad = 0;
    char *base = tl_aligned(scratch);
    ptrdiff_t Op, j;
    WT *z1, *dz1, *dy, *gW2p;
    int32_t *rl, *rs;
    XT *rv;
    size_t threads, per_thread;
    TL(head) hd;
    nthreads = tl_threads(nthreads);
    TL(gradient_layout)(base, B, I, H, O, nthreads, &hd, &z1, &dz1, &rl, &rv, &rs, &threads,
                        &per_thread);
    TL(head_fill)(&hd, H, O, W2, b2);
    Op = hd.Op;
    dy = z1 + B * H;
    gW2p = dy + B * Op;
#pragma omp parallel num_threads(nthreads) reduction(| : w1_bad)
    {
        TL(scratch) s;
        TL(lists) L;
        ptrdiff_t c0, q, r, nz[TL_RC];
        size_t off = threads + (size_t)cnet_thread_num() * per_thread;
        TL(scratch_at)(&s, base, &off, I, H, Op, 0);
        TL(lists_at)(&L, base, &off);
        /* W1's check, read by no one before the region ends */
#pragma omp for schedule(static) nowait
        for (q = 0; q < nchk; q++)
            w1_bad |= TL_NONFINITE(nW1 - (size_t)q * TL_CHECK < TL_CHECK
                                       ? nW1 - (size_t)q * TL_CHECK : TL_CHECK,
                                   W1 + (size_t)q * TL_CHECK);
        /* TL_GCHUNK rows at a time: their forward pass, dy and dz1 (each row
         * by one thread), then their share of gW1 = xᵀ·dz1 (each row of gW1
         * by one thread) */
        for (c0 = 0; c0 < B; c0 += TL_GCHUNK) {
            const ptrdiff_t G = B - c0 < TL_GCHUNK ? B - c0 : TL_GCHUNK;
            const ptrdiff_t nblk = (G + TL_RC - 1) / TL_RC;
            /* rows dynamically, as in forward_batch */
#pragma omp for schedule(dynamic)
            for (q = 0; q < nblk; q++) {
                const ptrdiff_t R = TL_ROWS(q, G);
                const ptrdiff_t row0 = c0 + q * TL_RC;
                TL(forward)(R, I, H, O, x + row0 * ldx, ldx, W1, H, b1, &hd,
                            rl + q * TL_RC * (I + 8), rv + q * TL_RC * (I + 8), nz,
                            rs + q * TL_RC * TL_NSTARTS(I), s.val, z1 + row0 * H, s.y, NULL,
                            NULL, all);
                TL(backward_rows)(R, H, O, &hd, s.y, z1 + row0 * H,
                                  t_dense ? t_dense + row0 * O : NULL, t ? t + row0 : NULL,
                                  batch_num, dy + row0 * Op, dz1 + row0 * TL_HD(H));
            }
            /* column blocks dynamically too: a digit's ink is not spread
             * evenly over the image, and with half of the blocks each, one
             * thread waited for the other (PROFILE) */
#pragma omp for schedule(dynamic)
            for (q = 0; q < niblk; q++)
                TL_AFFINE(grad_w_rows)(G, I, H, q, TL_IBLK, rl, rv, rs, dz1 + c0 * TL_HD(H),
                                       TL_HD(H), gW1, L.lidx, L.lval, TL_GCHUNK, c0 > 0);
        }
        /* gW2 = z1ᵀ·dy, split over rows of gW2 */
#pragma omp for schedule(static) nowait
        for (q = 0; q < njblk; q++) {
            const WT *zc[TL_RB];
            const ptrdiff_t j0 = q * TL_RB;
            for (r = 0; r < TL_RB && j0 + r < H; r++)
                zc[r] = z1 + j0 + r;
            TL_AFFINE(rows_times)(r, B, zc, H, dy, Op, gW2p + j0 * Op);
        }
        /* gb2, gb1: the column sums of dy and dz1 (the layers' bias gradient) */
#pragma omp single nowait
        {
            TL_GRAD_B(dy, Op, gb2, B, O);
            TL_GRAD_B(dz1, TL_HD(H), gb1, B, H);
        }
    }
    /* dz1 held an inf or NaN if gb1 does (or a sum overflowed: a needless,
     * harmless second pass) */
    if (w1_bad || (!all && TL_NONFINITE((size_t)H, gb1)))
        return 1;
    for (j = 0; j < H; j++)
        memcpy(gW2 + j * O, gW2p + j * Op, sizeof(WT) * (size_t)O);
    return 0;
}

/* Backpropagation (the book's gradient): gW1 (I,H), gb1 (H), gW2 (H,O),
 * gb2 (O) OUT. Labels: t_dense (B,O) when not NULL (dy = (y - t) / B exactly
 * as the book with any t), else class indices t (B) (one-hot rows implied).
 * scratch: tl_gradient_scratch bytes. */
void TL(gradient)(ptrdiff_t B, ptrdiff_t I, ptrdiff_t H, ptrdiff_t O,
                  const XT *x, ptrdiff_t ldx, const ptrdiff_t *t,
                  const WT *t_dense, const WT *W1, const WT *b1,
                  const WT *W2, const WT *b2, WT *gW1, WT *gb1, WT *gW2,
                  WT *gb2, int nthreads, void *scratch)
{
    if (TL(gradient_pass)(B, I, H, O, x, ldx, t, t_dense, W1, b1, W2, b2, gW1, gb1, gW2, gb2,
                          nthreads, scratch, 0))
        TL(gradient_pass)(B, I, H, O, x, ldx, t, t_dense, W1, b1, W2, b2, gW1, gb1, gW2, gb2,
                          nthreads, scratch, 1);
}

#undef TL_ROWS
#undef TL_HD
#undef TL_GCHUNK
#undef TL_OW
