/* Body of the pooling kernels for one element type; included by pooling.c
 * once per type with CNET_T and CNET_SFX(name). */

/* Max pooling of a plane without padding, a block of up to CNET_POOL_ROW
 * windows of one row at a time: for each cell of the window in the book's
 * order (ky, then kx) one pass along the block, over local arrays, so that
 * the compiler vectorizes the passes and makes the choice with masks (with
 * branches, random data mispredicted half of them: 28 ns a window). With
 * relu set, each cell is read as the book's Relu of (cell + b), the
 * convolution's epilogue. The window index is carried as a CNET_T (exact
 * for any window of < 2^24 cells) so that every lane is the same width. */
/* c ? a : b without a branch (with one, random data mispredicted half the
 * choices: 28 ns a window), by masking the bits. */
CNET_INLINE CNET_T CNET_SFX(pool_select)(int c, CNET_T a, CNET_T b)
{
    CNET_SFX(cnet_bits) ua, ub, m = (CNET_SFX(cnet_bits))0 - (CNET_SFX(cnet_bits))(c != 0);
    memcpy(&ua, &a, sizeof a);
    memcpy(&ub, &b, sizeof b);
    ua = (ua & m) | (ub & ~m);
    memcpy(&a, &ua, sizeof a);
    return a;
}

/* One cell of the window (index k) over a block of len windows whose cells
 * are s apart; inlined with s a constant so that the loads vectorize. */
CNET_INLINE void CNET_SFX(pool_cell_pass)(const CNET_T *r, ptrdiff_t s, ptrdiff_t len,
                                          CNET_T b, int relu, CNET_T k, CNET_T *best,
                                          CNET_T *arg)
{
    ptrdiff_t i;
    for (i = 0; i < len; i++) {
        CNET_T v = r[i * s], bb = best[i];
        int take;
        if (relu) {
            v = v + b;
            v = CNET_SFX(pool_select)(v <= 0, (CNET_T)0, v);
        }
        /* NaN wins over numbers, and the first NaN is kept. */
        take = (v > bb) | ((v != v) & (bb == bb));
        best[i] = CNET_SFX(pool_select)(take, v, bb);
        arg[i] = CNET_SFX(pool_select)(take, k, arg[i]);
    }
}

/* The first cell of the windows: best and arg (index 0) start from it. */
CNET_INLINE void CNET_SFX(pool_first_cell)(const CNET_T *r, ptrdiff_t s, ptrdiff_t len,
                                           CNET_T b, int relu, CNET_T *best, CNET_T *arg)
{
    ptrdiff_t i;
    for (i = 0; i < len; i++) {
        CNET_T v = r[i * s];
        if (relu) {
            v = v + b;
            v = CNET_SFX(pool_select)(v <= 0, (CNET_T)0, v);
        }
        best[i] = v;
        arg[i] = 0;
    }
}

/* The book's pooling, 2x2 windows at stride 2, over one row of OW windows
 * whose cells are r0[2i], r0[2i+1], r1[2i], r1[2i+1] (window indices 0-3):
 * the same choice as pool_cell_pass, written for that shape so that the
 * compiler vectorizes the even/odd loads and makes every choice a blend, in
 * an AVX2 and an AVX-512 clone where the CPU has them. With relu set, each
 * cell is read as the book's Relu of (cell + b). */
/* (A _Bool with || is what GCC 12 vectorizes; an int of | and & is not.) */
#define CNET_POOL2_TAKE(v, best) ((v) > (best) || ((v) != (v) && (best) == (best)))
#define CNET_POOL2_RELU(v) ((v) <= 0 ? (CNET_T)0 : (v))
/* best, k = v, kv where v is taken over best. */
#define CNET_POOL2_STEP(v, kv)                  \
    do {                                        \
        _Bool t_ = CNET_POOL2_TAKE(v, best);    \
        best = t_ ? (v) : best;                 \
        k = t_ ? (CNET_T)(kv) : k;              \
    } while (0)
CNET_DISPATCH static void CNET_SFX(pool2_row)(const CNET_T *CNET_RESTRICT r0,
                                              const CNET_T *CNET_RESTRICT r1, ptrdiff_t OW,
                                              CNET_T b, int relu, CNET_T *CNET_RESTRICT out,
                                              int32_t *CNET_RESTRICT argmax)
{
    ptrdiff_t i;
    if (relu) {
        for (i = 0; i < OW; i++) {
            CNET_T v1 = r0[2 * i + 1] + b, v2 = r1[2 * i] + b, v3 = r1[2 * i + 1] + b;
            CNET_T best = r0[2 * i] + b, k = 0;
            best = CNET_POOL2_RELU(best);
            v1 = CNET_POOL2_RELU(v1);
            v2 = CNET_POOL2_RELU(v2);
            v3 = CNET_POOL2_RELU(v3);
            CNET_POOL2_STEP(v1, 1);
            CNET_POOL2_STEP(v2, 2);
            CNET_POOL2_STEP(v3, 3);
            out[i] = best;
            argmax[i] = (int32_t)k;
        }
    } else {
        for (i = 0; i < OW; i++) {
            CNET_T v1 = r0[2 * i + 1], v2 = r1[2 * i], v3 = r1[2 * i + 1];
            CNET_T best = r0[2 * i], k = 0;
            CNET_POOL2_STEP(v1, 1);
            CNET_POOL2_STEP(v2, 2);
            CNET_POOL2_STEP(v3, 3);
            out[i] = best;
            argmax[i] = (int32_t)k;
        }
    }
}

/* The same pooling over a block of rows output rows at once, for rows of
 * OW windows too short for pool2_row's vector loop (the book's 24-wide
 * planes give 12): a vertical pass picks each column pair's winner (the
 * upper cell unless the lower is greater, or NaN where the upper is not)
 * over contiguous rows of 2*OW cells, and a horizontal pass picks between
 * the two columns of each window over the block as one flat run (its rows
 * of 2*OW winners lie end to end). Between the columns, the right wins if
 * greater, or NaN where the left is not, or on a tie (equal, or both NaN)
 * if its window index is the lower: the first maximum in the book's order,
 * as pool_cell_pass. V, K: rows*2*OW elements of scratch. */
CNET_DISPATCH static void CNET_SFX(pool2_block)(const CNET_T *CNET_RESTRICT x, ptrdiff_t xrs,
                                                ptrdiff_t rows, ptrdiff_t OW, CNET_T b,
                                                int relu, CNET_T *CNET_RESTRICT V,
                                                CNET_T *CNET_RESTRICT K,
                                                CNET_T *CNET_RESTRICT out,
                                                int32_t *CNET_RESTRICT argmax)
{
    const ptrdiff_t w = 2 * OW;
    ptrdiff_t r, c, j;
    for (r = 0; r < rows; r++) {
        const CNET_T *r0 = x + 2 * r * xrs, *r1 = r0 + xrs;
        CNET_T *v = V + r * w, *k = K + r * w;
        if (relu) {
            for (c = 0; c < w; c++) {
                CNET_T up = r0[c] + b, lo = r1[c] + b;
                _Bool t;
                up = CNET_POOL2_RELU(up);
                lo = CNET_POOL2_RELU(lo);
                t = CNET_POOL2_TAKE(lo, up);
                v[c] = t ? lo : up;
                k[c] = t ? (CNET_T)2 : (CNET_T)0;
            }
        } else {
            for (c = 0; c < w; c++) {
                CNET_T up = r0[c], lo = r1[c];
                _Bool t = CNET_POOL2_TAKE(lo, up);
                v[c] = t ? lo : up;
                k[c] = t ? (CNET_T)2 : (CNET_T)0;
            }
        }
    }
    for (j = 0; j < rows * OW; j++) {
        CNET_T mL = V[2 * j], mR = V[2 * j + 1], kL = K[2 * j], kR = K[2 * j + 1] + 1;
        _Bool t = CNET_POOL2_TAKE(mR, mL) ||
                  ((mR == mL || (mR != mR && mL != mL)) && kR < kL);
        out[j] = t ? mR : mL;
        argmax[j] = (int32_t)(t ? kR : kL);
    }
}

#undef CNET_POOL2_TAKE
#undef CNET_POOL2_RELU
#undef CNET_POOL2_STEP

CNET_INLINE void CNET_SFX(pool_rows_nopad)(const cnet_conv_geom *g, const CNET_T *x,
                                           ptrdiff_t xrs, CNET_T b, int relu, CNET_T *out,
                                           int32_t *argmax)
{
    const ptrdiff_t s = g->stride, OH = g->OH, OW = g->OW, FH = g->FH, FW = g->FW;
    /* (Scratch for pool2_block too.) */
    CNET_T best[CNET_POOL2_CELLS], arg[CNET_POOL2_CELLS];
    ptrdiff_t oy, ox0, i, ky, kx, len;
    if (FH == 2 && FW == 2 && s == 2) {
        /* Rows of 16 windows and more vectorize as they are; shorter ones
         * in blocks of rows. */
        ptrdiff_t rows = OW >= 16 ? 0 : CNET_POOL2_CELLS / (2 * OW);
        if (rows == 0) {
            for (oy = 0; oy < OH; oy++)
                CNET_SFX(pool2_row)(x + 2 * oy * xrs, x + (2 * oy + 1) * xrs, OW, b, relu,
                                    out + oy * OW, argmax + oy * OW);
            return;
        }
        for (oy = 0; oy < OH; oy += rows) {
            ptrdiff_t n = OH - oy < rows ? OH - oy : rows;
            CNET_SFX(pool2_block)(x + 2 * oy * xrs, xrs, n, OW, b, relu, best, arg,
                                  out + oy * OW, argmax + oy * OW);
        }
        return;
    }
    for (oy = 0; oy < OH; oy++) {
        for (ox0 = 0; ox0 < OW; ox0 += CNET_POOL_ROW) {
            const CNET_T *row = x + oy * s * xrs + ox0 * s;
            CNET_T k = 0;
            len = OW - ox0 < CNET_POOL_ROW ? OW - ox0 : CNET_POOL_ROW;
            if (s == 2)
                CNET_SFX(pool_first_cell)(row, 2, len, b, relu, best, arg);
            else if (s == 1)
                CNET_SFX(pool_first_cell)(row, 1, len, b, relu, best, arg);
            else
                CNET_SFX(pool_first_cell)(row, s, len, b, relu, best, arg);
            for (ky = 0; ky < FH; ky++) {
                for (kx = 0; kx < FW; kx++, k++) {
                    const CNET_T *r = row + ky * xrs + kx;
                    if (k == 0)
                        continue;
                    if (s == 2)  /* the book's pooling */
                        CNET_SFX(pool_cell_pass)(r, 2, len, b, relu, k, best, arg);
                    else if (s == 1)
                        CNET_SFX(pool_cell_pass)(r, 1, len, b, relu, k, best, arg);
                    else
                        CNET_SFX(pool_cell_pass)(r, s, len, b, relu, k, best, arg);
                }
            }
            for (i = 0; i < len; i++) {
                out[oy * OW + ox0 + i] = best[i];
                argmax[oy * OW + ox0 + i] = (int32_t)arg[i];
            }
        }
    }
}

void CNET_SFX(cnet_pool_forward_plane)(const cnet_conv_geom *g, const CNET_T *x,
                                       ptrdiff_t xrs, CNET_T *out, int32_t *argmax)
{
    const ptrdiff_t s = g->stride, pad = g->pad;
    ptrdiff_t oy, ox, ky, kx;
    if (pad == 0) {
        CNET_SFX(pool_rows_nopad)(g, x, xrs, 0, 0, out, argmax);
        return;
    }
    for (oy = 0; oy < g->OH; oy++) {
        for (ox = 0; ox < g->OW; ox++) {
            CNET_T best = 0;
            int32_t arg = 0, k = 0;
            for (ky = 0; ky < g->FH; ky++) {
                ptrdiff_t y = oy * s + ky - pad;
                int row_ok = y >= 0 && y < g->H;
                for (kx = 0; kx < g->FW; kx++, k++) {
                    ptrdiff_t xx = ox * s + kx - pad;
                    CNET_T v = (row_ok && xx >= 0 && xx < g->W) ? x[y * xrs + xx] : (CNET_T)0;
                    /* NaN wins over numbers, and the first NaN is kept. */
                    if (k == 0 || v > best || (v != v && best == best)) {
                        best = v;
                        arg = k;
                    }
                }
            }
            out[oy * g->OW + ox] = best;
            argmax[oy * g->OW + ox] = arg;
        }
    }
}

void CNET_SFX(cnet_pool_backward_plane)(const cnet_conv_geom *g, const CNET_T *dout,
                                        const int32_t *argmax, CNET_T *dx)
{
    const ptrdiff_t s = g->stride, pad = g->pad, W = g->W;
    ptrdiff_t i, oy, ox;
    for (i = 0; i < g->H * W; i++)
        dx[i] = 0;
    if (pad == 0 && g->FH * g->FW <= CNET_POOL_TABLE) {
        /* Every window lies inside the image; the cell of window index k is
         * looked up instead of divided out. */
        ptrdiff_t offset[CNET_POOL_TABLE];
        int32_t k;
        for (k = 0; k < g->FH * g->FW; k++)
            offset[k] = (k / g->FW) * W + k % g->FW;
        for (oy = g->OH - 1; oy >= 0; oy--) {
            CNET_T *row = dx + oy * s * W;
            for (ox = g->OW - 1; ox >= 0; ox--)
                row[ox * s + offset[argmax[oy * g->OW + ox]]] += dout[oy * g->OW + ox];
        }
        return;
    }
    for (oy = g->OH - 1; oy >= 0; oy--) {
        for (ox = g->OW - 1; ox >= 0; ox--) {
            int32_t k = argmax[oy * g->OW + ox];
            ptrdiff_t y = oy * s + k / g->FW - pad, xx = ox * s + k % g->FW - pad;
            if (y >= 0 && y < g->H && xx >= 0 && xx < W)
                dx[y * W + xx] += dout[oy * g->OW + ox];
        }
    }
}

void CNET_SFX(cnet_pool_conv_rows_forward)(const cnet_conv_geom *g, const CNET_T *outT,
                                           CNET_T b, CNET_T *out, int32_t *argmax,
                                           ptrdiff_t nb, ptrdiff_t FN)
{
    const ptrdiff_t P = g->H * g->W, Q = g->OH * g->OW;
    ptrdiff_t n;
    for (n = 0; n < nb; n++)
        CNET_SFX(pool_rows_nopad)(g, outT + n * P, g->W, b, 1, out + n * FN * Q,
                                  argmax + n * FN * Q);
}

/* The backward of pool2_row after a fused ReLU: input rows r0, r1 of one
 * row of OW windows written whole, each window's d at its argmax cell and 0
 * elsewhere; d counts as 0 where the pooled maximum o is <= 0 (see below). */
CNET_DISPATCH static void CNET_SFX(pool2_back_row)(const CNET_T *CNET_RESTRICT d,
                                                   const CNET_T *CNET_RESTRICT o,
                                                   const int32_t *CNET_RESTRICT a, ptrdiff_t OW,
                                                   CNET_T *CNET_RESTRICT r0,
                                                   CNET_T *CNET_RESTRICT r1)
{
    typedef CNET_SFX(cnet_bits) bits_t;
    ptrdiff_t i;
    /* Each cell is v's bits masked by (k == cell), the index as wide as v:
     * that is what GCC 12 vectorizes (a choice among doubles made by
     * comparing int32s it compiles to branches). */
    for (i = 0; i < OW; i++) {
        CNET_T v = d[i];
        bits_t b, k = (bits_t)a[i], w0, w1, w2, w3;
        /* + 0: a -0.0 lands as +0.0, as when added to a zeroed plane; and
         * 0 where o <= 0, by a mask too (a ?: became a branch). */
        v = v + (CNET_T)0;
        memcpy(&b, &v, sizeof b);
        b &= (bits_t)0 - (bits_t)!(o[i] <= 0);
        w0 = b & ((bits_t)0 - (bits_t)(k == 0));
        w1 = b & ((bits_t)0 - (bits_t)(k == 1));
        w2 = b & ((bits_t)0 - (bits_t)(k == 2));
        w3 = b & ((bits_t)0 - (bits_t)(k == 3));
        memcpy(r0 + 2 * i, &w0, sizeof w0);
        memcpy(r0 + 2 * i + 1, &w1, sizeof w1);
        memcpy(r1 + 2 * i, &w2, sizeof w2);
        memcpy(r1 + 2 * i + 1, &w3, sizeof w3);
    }
}

void CNET_SFX(cnet_pool_conv_rows_backward)(const cnet_conv_geom *g, const CNET_T *dout,
                                            const int32_t *argmax, const CNET_T *out,
                                            CNET_T *doutT, CNET_T *masked, ptrdiff_t nb,
                                            ptrdiff_t FN)
{
    const ptrdiff_t H = g->H, W = g->W, OH = g->OH, OW = g->OW, P = H * W, Q = OH * OW;
    const int pool2 = g->FH == 2 && g->FW == 2 && g->stride == 2;
    ptrdiff_t n, q, q0, oy, y, x;
    for (n = 0; n < nb; n++) {
        CNET_T *plane = doutT + n * P;
        const CNET_T *o = out + n * FN * Q;
        const int32_t *a = argmax + n * FN * Q;
        const CNET_T *d = dout + n * FN * Q;
        /* The ReLU's backward: a window whose maximum is <= 0 had it at a
         * cell the ReLU zeroed (the maximum is that cell's value), and every
         * window routing to that cell has the same maximum, so its gradient
         * is routed as 0. */
        if (pool2) {
            /* The book's 2x2 windows at stride 2 tile the plane but for a
             * last row and column when H or W is odd: those get 0. */
            for (oy = 0; oy < OH; oy++) {
                CNET_SFX(pool2_back_row)(d + oy * OW, o + oy * OW, a + oy * OW, OW,
                                         plane + 2 * oy * W, plane + (2 * oy + 1) * W);
                for (x = 2 * OW; x < W; x++) {
                    plane[2 * oy * W + x] = 0;
                    plane[(2 * oy + 1) * W + x] = 0;
                }
            }
            for (y = 2 * OH; y < H; y++)
                for (x = 0; x < W; x++)
                    plane[y * W + x] = 0;
            continue;
        }
        /* Blocks of a local array keep the choice a mask. */
        for (q0 = 0; q0 < Q; q0 += CNET_POOL_ROW) {
            ptrdiff_t len = Q - q0 < CNET_POOL_ROW ? Q - q0 : CNET_POOL_ROW;
            for (q = 0; q < len; q++)
                masked[q0 + q] = CNET_SFX(pool_select)(o[q0 + q] <= 0, (CNET_T)0, d[q0 + q]);
        }
        CNET_SFX(cnet_pool_backward_plane)(g, masked, a, plane);
    }
}
