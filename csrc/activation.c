/* The activation layers' kernels (contracts in activation.h). Contraction
 * into fused multiply-adds is off: sigmoid's backward keeps NumPy's bits. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=off")
#else
#pragma STDC FP_CONTRACT OFF
#endif

#include "cnet_common.h"
#include "activation.h"

#define ACT_KERNELS(T, SUF)                                                               \
    CNET_DISPATCH void relu_forward_##SUF(const T *x, T *out, unsigned char *mask,       \
                                          size_t n)                                      \
    {                                                                                    \
        size_t i;                                                                        \
        for (i = 0; i < n; i++) {                                                        \
            const int m = x[i] <= 0;                                                     \
            mask[i] = (unsigned char)m;                                                  \
            out[i] = m ? (T)0 : x[i];                                                    \
        }                                                                                \
    }                                                                                    \
    CNET_DISPATCH void bias_relu_forward_##SUF(T *z, const T *b, unsigned char *mask,    \
                                               size_t rows, size_t cols)                 \
    {                                                                                    \
        size_t r, c;                                                                     \
        for (r = 0; r < rows; r++, z += cols, mask += cols)                              \
            for (c = 0; c < cols; c++) {                                                 \
                const T v = z[c] + b[c];                                                 \
                const int m = v <= 0;                                                    \
                mask[c] = (unsigned char)m;                                              \
                z[c] = m ? (T)0 : v;                                                     \
            }                                                                            \
    }                                                                                    \
    CNET_DISPATCH void relu_backward_##SUF(T *dout, const unsigned char *mask, size_t n) \
    {                                                                                    \
        size_t i;                                                                        \
        for (i = 0; i < n; i++)                                                          \
            dout[i] = mask[i] ? (T)0 : dout[i];                                          \
    }                                                                                    \
    CNET_DISPATCH void sigmoid_backward_##SUF(const T *dout, const T *out, T *dx,        \
                                              size_t n)                                  \
    {                                                                                    \
        size_t i;                                                                        \
        for (i = 0; i < n; i++)                                                          \
            dx[i] = dout[i] * ((T)1 - out[i]) * out[i];                                  \
    }                                                                                    \
    CNET_DISPATCH void dropout_forward_##SUF(const T *x, const double *r, double ratio,  \
                                             T *out, unsigned char *mask, size_t n)      \
    {                                                                                    \
        size_t i;                                                                        \
        for (i = 0; i < n; i++) {                                                        \
            const int m = r[i] > ratio;                                                  \
            mask[i] = (unsigned char)m;                                                  \
            out[i] = x[i] * (T)m;                                                        \
        }                                                                                \
    }                                                                                    \
    CNET_DISPATCH void mask_multiply_##SUF(const T *dout, const unsigned char *mask,     \
                                           T *dx, size_t n)                              \
    {                                                                                    \
        size_t i;                                                                        \
        for (i = 0; i < n; i++)                                                          \
            dx[i] = dout[i] * (T)mask[i];                                                \
    }

ACT_KERNELS(double, f64)
ACT_KERNELS(float, f32)
