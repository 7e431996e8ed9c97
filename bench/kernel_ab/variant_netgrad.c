/* One variant of the numerical-gradient kernel for kernel_ab: csrc/netgrad.c
 * compiled with its public names prefixed by VARIANT (A or B), in its own
 * object so that it keeps its own floating-point options. */
#define KAB_CAT2(a, b) a##b
#define KAB_CAT(a, b) KAB_CAT2(a, b)
#define cnet_numgrad_two_layer KAB_CAT(VARIANT, _numgrad_two_layer)
#define cnet_numgrad_new KAB_CAT(VARIANT, _numgrad_new)
#define cnet_numgrad_run KAB_CAT(VARIANT, _numgrad_run)
#define cnet_numgrad_free KAB_CAT(VARIANT, _numgrad_free)
#define cnet_numgrad_scratch KAB_CAT(VARIANT, _numgrad_scratch)
#include "netgrad.c"

#ifdef CNET_NUMGRAD_CALLER_SCRATCH
/* The one-call form kernel_ab times, as cnet._netgrad calls the steps: the
 * non-zeros counted, the scratch allocated for the call, one run. */
int cnet_numgrad_two_layer(const void *x, int x_f32, const intptr_t *t, ptrdiff_t B,
                           ptrdiff_t I, ptrdiff_t H, ptrdiff_t O, const double *W1,
                           const double *b1, const double *W2, const double *b2,
                           int params_f32, double *gW1, double *gb1, double *gW2,
                           double *gb2)
{
    ptrdiff_t nnz = 0, k;
    int nt = cnet_get_num_threads();
    cnet_numgrad *n;
    void *scratch;
    for (k = 0; k < B * I; k++)
        nnz += x_f32 ? ((const float *)x)[k] != 0 : ((const double *)x)[k] != 0;
    scratch = malloc(cnet_numgrad_scratch(B, I, H, O, nnz, x_f32, nt));
    if (!scratch)
        return -1;
    n = cnet_numgrad_new(x, x_f32, t, B, I, H, O, nnz, W1, b1, W2, b2, params_f32, nt,
                         scratch);
    if (n)
        cnet_numgrad_run(n, 0, B, 0, I + 1, 0, H + 1, gW1, gb1, gW2, gb2);
    free(scratch);
    return n ? 0 : -1;
}
#endif
