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
