/* The class a network picks for each row of its scores: the row's argmax, as
 * the book's accuracy takes it with np.argmax(y, axis=1). Rows are computed
 * one at a time, so results do not depend on how the caller splits them
 * across threads. */
#ifndef CNET_CLASSIFY_H
#define CNET_CLASSIFY_H

#include <stddef.h>
#include <stdint.h>

/* out[r] OUT = the index of the first largest entry of row r of a (rows, cols
 * >= 1; rows ld elements apart, unit column stride) IN; a NaN counts as the
 * largest, so a row holding one gives its first NaN's index (np.argmax's
 * rule); -0.0 and 0.0 are equal, so the first of them stands. */
void argmax_rows_f64(const double *a, ptrdiff_t ld, size_t rows, size_t cols, intptr_t *out);
void argmax_rows_f32(const float *a, ptrdiff_t ld, size_t rows, size_t cols, intptr_t *out);

#endif
