# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled row argmax of class scores (private; the networks' accuracy).

Arguments arrive checked by the caller: a (rows, cols >= 1) float32 or
float64 with unit column stride, out (rows,) intp. Rows are split over
threads in fixed blocks; each row is computed alone, so the result does not
depend on the thread count.
"""
from cython.parallel cimport prange
from cython cimport floating
from libc.stdint cimport intptr_t

from cnet._config cimport cnet_threads_for

cdef extern from "classify.h" nogil:
    void argmax_rows_f64(const double *a, Py_ssize_t ld, size_t rows, size_t cols,
                         intptr_t *out)
    void argmax_rows_f32(const float *a, Py_ssize_t ld, size_t rows, size_t cols,
                         intptr_t *out)

# Entries of a per block of rows handed to a thread.
cdef Py_ssize_t BLOCK = 32768
# Entries per thread at least: a pass is about 0.5 ns an entry, so a second
# thread pays (its wake-up, and on a busy machine its wait for a core) only
# for arrays of millions of entries.
cdef Py_ssize_t PER_THREAD = 1 << 21


def argmax_rows(const floating[:, :] a, Py_ssize_t[::1] out):
    """out[r] = np.argmax(a[r]) for every row r (see classify.h).

    a : (rows, cols) with cols >= 1 and unit column stride, IN
    out : (rows,) intp, OUT
    """
    cdef Py_ssize_t rows = a.shape[0], cols = a.shape[1]
    cdef Py_ssize_t ld = a.strides[0] // sizeof(floating)
    cdef Py_ssize_t step, nb, blk, r0
    if rows == 0:
        return
    if cols < 1 or (cols > 1 and a.strides[1] != sizeof(floating)) \
            or a.strides[0] % sizeof(floating) != 0:
        raise ValueError("argmax_rows: a needs at least one column and unit column stride")
    step = max(1, BLOCK // cols)
    nb = (rows + step - 1) // step
    with nogil:
        for blk in prange(nb, num_threads=cnet_threads_for(rows * cols, PER_THREAD),
                          schedule="static"):
            r0 = blk * step
            if floating is double:
                argmax_rows_f64(&a[r0, 0], ld, min(step, rows - r0), cols,
                                <intptr_t *>&out[r0])
            else:
                argmax_rows_f32(&a[r0, 0], ld, min(step, rows - r0), cols,
                                <intptr_t *>&out[r0])
