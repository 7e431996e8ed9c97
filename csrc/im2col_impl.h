/* Body of the im2col kernels for one element type; included by im2col.c once
 * per type with CNET_T (the type) and CNET_SFX(name) (the suffixed name). */

/* First and one-past-last output column ox whose input column
 * ox*stride + kx - pad lies inside [0, W). */
CNET_INLINE void CNET_SFX(valid_range)(ptrdiff_t kx, ptrdiff_t stride, ptrdiff_t pad,
                                       ptrdiff_t W, ptrdiff_t OW, ptrdiff_t *lo,
                                       ptrdiff_t *hi)
{
    ptrdiff_t first = pad - kx, last;
    *lo = first <= 0 ? 0 : (first + stride - 1) / stride;
    last = W - 1 + pad - kx; /* ox*stride <= last */
    *hi = last < 0 ? 0 : last / stride + 1;
    if (*hi > OW)
        *hi = OW;
    if (*lo > *hi)
        *lo = *hi;
}

void CNET_SFX(cnet_im2col_plane)(const cnet_conv_geom *g, const CNET_T *x, ptrdiff_t xrs,
                                 CNET_T *col, ptrdiff_t ks, ptrdiff_t ms)
{
    const ptrdiff_t s = g->stride, OW = g->OW;
    ptrdiff_t ky, kx, oy, ox, lo, hi;
    for (ky = 0; ky < g->FH; ky++) {
        for (kx = 0; kx < g->FW; kx++) {
            CNET_T *row = col + (ky * g->FW + kx) * ks;
            CNET_SFX(valid_range)(kx, s, g->pad, g->W, OW, &lo, &hi);
            for (oy = 0; oy < g->OH; oy++) {
                ptrdiff_t y = oy * s + ky - g->pad;
                CNET_T *out = row + oy * OW * ms;
                if (y < 0 || y >= g->H) {
                    for (ox = 0; ox < OW; ox++)
                        out[ox * ms] = 0;
                    continue;
                }
                /* in[j] is the cell read by output column lo + j */
                const CNET_T *in = x + y * xrs + lo * s + kx - g->pad;
                CNET_T *valid = out + lo * ms;
                for (ox = 0; ox < lo; ox++)
                    out[ox * ms] = 0;
                if (ms == 1 && s == 1) {
                    for (ox = 0; ox < hi - lo; ox++)
                        valid[ox] = in[ox];
                } else {
                    for (ox = 0; ox < hi - lo; ox++)
                        valid[ox * ms] = in[ox * s];
                }
                for (ox = hi; ox < OW; ox++)
                    out[ox * ms] = 0;
            }
        }
    }
}

void CNET_SFX(cnet_col2im_plane)(const cnet_conv_geom *g, const CNET_T *col, ptrdiff_t ks,
                                 ptrdiff_t ms, CNET_T *dx)
{
    const ptrdiff_t s = g->stride, OW = g->OW, W = g->W;
    ptrdiff_t ky, kx, oy, ox, lo, hi, i;
    for (i = 0; i < g->H * W; i++)
        dx[i] = 0;
    for (ky = 0; ky < g->FH; ky++) {
        for (kx = 0; kx < g->FW; kx++) {
            const CNET_T *row = col + (ky * g->FW + kx) * ks;
            CNET_SFX(valid_range)(kx, s, g->pad, W, OW, &lo, &hi);
            for (oy = 0; oy < g->OH; oy++) {
                ptrdiff_t y = oy * s + ky - g->pad;
                if (y < 0 || y >= g->H)
                    continue;
                const CNET_T *in = row + (oy * OW + lo) * ms;
                CNET_T *out = dx + y * W + lo * s + kx - g->pad;
                if (ms == 1 && s == 1) {
                    for (ox = 0; ox < hi - lo; ox++)
                        out[ox] += in[ox];
                } else {
                    for (ox = 0; ox < hi - lo; ox++)
                        out[ox * s] += in[ox * ms];
                }
            }
        }
    }
}
