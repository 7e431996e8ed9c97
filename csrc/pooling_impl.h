/* Body of the pooling kernels for one element type; included by pooling.c
 * once per type with CNET_T and CNET_SFX(name). */

void CNET_SFX(cnet_pool_forward_plane)(const cnet_conv_geom *g, const CNET_T *x,
                                       ptrdiff_t xrs, CNET_T *out, int32_t *argmax)
{
    const ptrdiff_t s = g->stride, pad = g->pad;
    ptrdiff_t oy, ox, ky, kx;
    if (pad == 0) {
        /* Every window lies inside the image: no bounds to test. The choice
         * is made without branches: the data decide it, at random. */
        const ptrdiff_t OH = g->OH, OW = g->OW, FH = g->FH, FW = g->FW;
        for (oy = 0; oy < OH; oy++) {
            for (ox = 0; ox < OW; ox++) {
                const CNET_T *win = x + oy * s * xrs + ox * s;
                CNET_T best = win[0];
                int32_t arg = 0, k = 0;
                for (ky = 0; ky < FH; ky++) {
                    for (kx = 0; kx < FW; kx++, k++) {
                        CNET_T v = win[ky * xrs + kx];
                        /* NaN wins over numbers, and the first NaN is kept. */
                        int take = (v > best) | ((v != v) & (best == best));
                        best = take ? v : best;
                        arg = take ? k : arg;
                    }
                }
                out[oy * OW + ox] = best;
                argmax[oy * OW + ox] = arg;
            }
        }
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

void CNET_SFX(cnet_pool_conv_rows_forward)(const cnet_conv_geom *g, CNET_T *outT, CNET_T b,
                                           CNET_T *out, int32_t *argmax, ptrdiff_t nb,
                                           ptrdiff_t FN)
{
    const ptrdiff_t P = g->H * g->W, Q = g->OH * g->OW;
    ptrdiff_t n, p;
    for (n = 0; n < nb; n++) {
        CNET_T *plane = outT + n * P;
        for (p = 0; p < P; p++) {
            CNET_T v = plane[p] + b;
            plane[p] = v <= 0 ? (CNET_T)0 : v;
        }
        CNET_SFX(cnet_pool_forward_plane)(g, plane, g->W, out + n * FN * Q,
                                          argmax + n * FN * Q);
    }
}

void CNET_SFX(cnet_pool_conv_rows_backward)(const cnet_conv_geom *g, const CNET_T *dout,
                                            const int32_t *argmax, const CNET_T *out,
                                            CNET_T *doutT, CNET_T *db, ptrdiff_t nb,
                                            ptrdiff_t FN)
{
    const ptrdiff_t P = g->H * g->W, Q = g->OH * g->OW;
    ptrdiff_t n, p, q;
    CNET_T acc = *db;
    for (n = 0; n < nb; n++) {
        CNET_T *plane = doutT + n * P;
        const CNET_T *o = out + n * FN * Q;
        const int32_t *a = argmax + n * FN * Q;
        CNET_SFX(cnet_pool_backward_plane)(g, dout + n * FN * Q, a, plane);
        /* The ReLU's backward: a window whose maximum is <= 0 had it at a
         * cell the ReLU zeroed (the maximum is that cell's value), and every
         * window routing to that cell has the same maximum. */
        for (q = 0; q < Q; q++) {
            if (o[q] <= 0) {
                ptrdiff_t oy = q / g->OW, ox = q % g->OW;
                ptrdiff_t k = a[q];
                plane[(oy * g->stride + k / g->FW) * g->W + ox * g->stride + k % g->FW] = 0;
            }
        }
        for (p = 0; p < P; p++)
            acc += plane[p];
    }
    *db = acc;
}
