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
                                   CNET_T *doutT, CNET_T *db, ptrdiff_t nb, ptrdiff_t FN,
                                   ptrdiff_t P)
{
    ptrdiff_t n, p;
    CNET_T acc = *db;
    for (n = 0; n < nb; n++) {
        const CNET_T *src = dout + n * FN * P;
        CNET_T *dst = doutT + n * P;
        if (relu_out) {
            const CNET_T *out = relu_out + n * FN * P;
            for (p = 0; p < P; p++) {
                CNET_T v = out[p] <= 0 ? (CNET_T)0 : src[p];
                dst[p] = v;
                acc += v;
            }
        } else {
            for (p = 0; p < P; p++) {
                dst[p] = src[p];
                acc += src[p];
            }
        }
    }
    *db = acc;
}
