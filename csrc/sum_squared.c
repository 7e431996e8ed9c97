/* sum_squared_error's lanes (contract in sum_squared.h). Compiled as part of
 * functions.c, which sets the floating-point pragmas. */
#include "cnet_common.h"
#include "exp_log.h" /* CNET_ALWAYS_INLINE */
#include "sum_squared.h"

/* The lanes of n squares from lane k0 on: the elements before lane 0 comes
 * round one by one, then whole rounds of CNET_LANES (vectorised), then the
 * rest. DIFF2(i) is the square of element i in the working type. */
#define CNET_SSE_LANES(DIFF2)                                                 \
    do {                                                                      \
        size_t i = 0, k = k0 % CNET_LANES;                                    \
        for (; k != 0 && i < n; i++, k = (k + 1) % CNET_LANES)                \
            acc[k] += (double)(DIFF2(i));                                     \
        for (; i + CNET_LANES <= n; i += CNET_LANES)                          \
            for (k = 0; k < CNET_LANES; k++)                                  \
                acc[k] += (double)(DIFF2(i + k));                             \
        for (k = 0; i < n; i++, k++)                                          \
            acc[k] += (double)(DIFF2(i));                                     \
    } while (0)

CNET_ALWAYS_INLINE double sse_diff2_f64(const double *y, const double *t, size_t i)
{
    double d = y[i] - t[i];
    return d * d;
}

CNET_ALWAYS_INLINE float sse_diff2_f32(const float *y, const float *t, size_t i)
{
    float d = y[i] - t[i];
    return d * d;
}

CNET_DISPATCH
void cnet_sse_lanes_f64(size_t n, const double *y, const double *t, double *acc, size_t k0)
{
#define SSE_D2(i) sse_diff2_f64(y, t, (i))
    CNET_SSE_LANES(SSE_D2);
#undef SSE_D2
}

CNET_DISPATCH
void cnet_sse_lanes_f32(size_t n, const float *y, const float *t, double *acc, size_t k0)
{
#define SSE_D2(i) sse_diff2_f32(y, t, (i))
    CNET_SSE_LANES(SSE_D2);
#undef SSE_D2
}

#undef CNET_SSE_LANES
