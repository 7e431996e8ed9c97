/* Row argmax of class scores (contracts in classify.h). */
#include "cnet_common.h"
#include "classify.h"

#define ARGMAX_ROWS(T, SUF)                                                              \
    CNET_DISPATCH void argmax_rows_##SUF(const T *a, ptrdiff_t ld, size_t rows,         \
                                         size_t cols, intptr_t *out)                    \
    {                                                                                    \
        size_t r, c;                                                                     \
        for (r = 0; r < rows; r++, a += ld) {                                            \
            T m = a[0];                                                                  \
            size_t best = 0;                                                             \
            /* !(v <= m) is true for a larger v and for a NaN v; m == m is false  \
             * once m is a NaN, which ends the row at it. */                             \
            for (c = 1; c < cols && m == m; c++)                                         \
                if (!(a[c] <= m)) {                                                      \
                    m = a[c];                                                            \
                    best = c;                                                            \
                }                                                                        \
            out[r] = (intptr_t)best;                                                     \
        }                                                                                \
    }

ARGMAX_ROWS(double, f64)
ARGMAX_ROWS(float, f32)
