/* Body of the conv layout kernels for one element type; included by conv.c
 * once per type with CNET_T and CNET_SFX(name). */

void CNET_SFX(cnet_conv_bias_out)(const CNET_T *outT, CNET_T b, CNET_T *out, ptrdiff_t nb,
                                  ptrdiff_t FN, ptrdiff_t P, int relu)
{
    ptrdiff_t n, p;
    for (n = 0; n < nb; n++) {
        const CNET_T *src = outT + n * P;
        CNET_T *dst = out + n * FN * P;
        if (relu) {
            for (p = 0; p < P; p++) {
                CNET_T v = src[p] + b;
                dst[p] = v <= 0 ? (CNET_T)0 : v;
            }
        } else {
            for (p = 0; p < P; p++)
                dst[p] = src[p] + b;
        }
    }
}

void CNET_SFX(cnet_conv_dout_rows)(const CNET_T *dout, const CNET_T *relu_out,
                                   CNET_T *doutT, ptrdiff_t nb, ptrdiff_t FN, ptrdiff_t P)
{
    ptrdiff_t n, p;
    for (n = 0; n < nb; n++) {
        const CNET_T *src = dout + n * FN * P;
        CNET_T *dst = doutT + n * P;
        if (relu_out) {
            const CNET_T *out = relu_out + n * FN * P;
            /* src[p] loaded either way: a load under the condition kept the
             * loop from vectorizing, and random signs mispredicted its branch. */
            for (p = 0; p < P; p++) {
                CNET_T v = src[p];
                dst[p] = out[p] <= 0 ? (CNET_T)0 : v;
            }
        } else {
            for (p = 0; p < P; p++)
                dst[p] = src[p];
        }
    }
}

/* a[i] += r[i*ld + j] for j < M, i < 8: eight independent chains. */
CNET_INLINE void CNET_SFX(conv_sums8)(const CNET_T *r, ptrdiff_t ld, ptrdiff_t M, CNET_T *a)
{
    CNET_T a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
    CNET_T a4 = a[4], a5 = a[5], a6 = a[6], a7 = a[7];
    ptrdiff_t j;
    for (j = 0; j < M; j++) {
        a0 += r[j];
        a1 += r[ld + j];
        a2 += r[2 * ld + j];
        a3 += r[3 * ld + j];
        a4 += r[4 * ld + j];
        a5 += r[5 * ld + j];
        a6 += r[6 * ld + j];
        a7 += r[7 * ld + j];
    }
    a[0] = a0;
    a[1] = a1;
    a[2] = a2;
    a[3] = a3;
    a[4] = a4;
    a[5] = a5;
    a[6] = a6;
    a[7] = a7;
}

void CNET_SFX(cnet_conv_row_sums)(const CNET_T *doutT, ptrdiff_t ld, ptrdiff_t nf,
                                  ptrdiff_t M, CNET_T *db)
{
    CNET_T a[CNET_ROW_SUMS];
    ptrdiff_t f0, f, j, g;
    for (f0 = 0; f0 + CNET_ROW_SUMS <= nf; f0 += CNET_ROW_SUMS)
        CNET_SFX(conv_sums8)(doutT + f0 * ld, ld, M, db + f0);
    if (f0 == nf)
        return;
    if (nf >= CNET_ROW_SUMS) {
        /* The last rows as one more group of eight ending at row nf-1; the
         * rows it shares with the group before are summed again and dropped. */
        g = nf - CNET_ROW_SUMS;
        for (f = 0; f < CNET_ROW_SUMS; f++)
            a[f] = db[g + f];
        CNET_SFX(conv_sums8)(doutT + g * ld, ld, M, a);
        for (f = f0; f < nf; f++)
            db[f] = a[f - g];
        return;
    }
    for (f = 0; f < nf; f++) {
        const CNET_T *r = doutT + f * ld;
        CNET_T s = db[f];
        for (j = 0; j < M; j++)
            s += r[j];
        db[f] = s;
    }
}
