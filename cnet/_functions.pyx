# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled kernels of cnet.functions (private).

Every entry point takes arrays already checked by cnet.functions: dtypes are
the ones named, shapes agree, strides are given in elements and the data is
aligned. Work is split across OpenMP threads in fixed blocks (elementwise) or
by rows, and reductions add per-block partials in block order, so results do
not depend on the thread count.

Dimension letters: R rows, C columns (the last axis); N batch rows.
"""
from cython.parallel cimport prange
from libc.stdint cimport uint16_t, int8_t, int16_t, int32_t, int64_t
from libc.stdint cimport uint8_t, uint32_t, uint64_t
from libc.stdlib cimport malloc, free
from libc.math cimport NAN

import numpy as np
cimport numpy as cnp

from cnet._config cimport cnet_threads_for

cnp.import_array()

cdef extern from "functions.h" nogil:
    int CNET_PARALLEL_MIN
    int CNET_REDUCE_BLOCK
    int CNET_LANES
    float cnet_half_to_float(uint16_t h)
    uint16_t cnet_float_to_half(float f)
    double cnet_exp_f64(double x)
    float cnet_exp_f32(float x)
    void cnet_unary_f64(int op, const double *x, Py_ssize_t xs, double *y, Py_ssize_t ys,
                        size_t n)
    void cnet_unary_f32(int op, const float *x, Py_ssize_t xs, float *y, Py_ssize_t ys,
                        size_t n)
    void cnet_unary_f16(int op, const uint16_t *x, Py_ssize_t xs, uint16_t *y,
                        Py_ssize_t ys, size_t n)
    double cnet_softmax_ce_f64(size_t R, size_t C, const double *x, Py_ssize_t xrs,
                               Py_ssize_t xcs, double *y, Py_ssize_t yrs, Py_ssize_t ycs,
                               const Py_ssize_t *lab, const double *t, Py_ssize_t trs,
                               Py_ssize_t tcs, double *dy, Py_ssize_t dyrs, Py_ssize_t dycs,
                               double N, double acc)
    double cnet_softmax_ce_f32(size_t R, size_t C, const float *x, Py_ssize_t xrs,
                               Py_ssize_t xcs, float *y, Py_ssize_t yrs, Py_ssize_t ycs,
                               const Py_ssize_t *lab, const float *t, Py_ssize_t trs,
                               Py_ssize_t tcs, float *dy, Py_ssize_t dyrs, Py_ssize_t dycs,
                               double N, double acc)
    void cnet_softmax_ce_dy_f64(size_t R, size_t C, const double *y, Py_ssize_t yrs,
                                Py_ssize_t ycs, const Py_ssize_t *lab, const double *t,
                                Py_ssize_t trs, Py_ssize_t tcs, double *dy, Py_ssize_t dyrs,
                                Py_ssize_t dycs, double N)
    void cnet_softmax_ce_dy_f32(size_t R, size_t C, const float *y, Py_ssize_t yrs,
                                Py_ssize_t ycs, const Py_ssize_t *lab, const float *t,
                                Py_ssize_t trs, Py_ssize_t tcs, float *dy, Py_ssize_t dyrs,
                                Py_ssize_t dycs, double N)
    double cnet_ce_sum_f64(size_t R, const double *p, Py_ssize_t prs, Py_ssize_t pcs,
                           const Py_ssize_t *lab, double acc)
    double cnet_ce_sum_f32(size_t R, const float *p, Py_ssize_t prs, Py_ssize_t pcs,
                           const Py_ssize_t *lab, double acc)
    double cnet_ce_sum_f16(size_t R, const uint16_t *p, Py_ssize_t prs, Py_ssize_t pcs,
                           const Py_ssize_t *lab, double acc)
    void cnet_softmax_f16(size_t R, size_t C, const uint16_t *x, Py_ssize_t xrs,
                          Py_ssize_t xcs, uint16_t *y, Py_ssize_t yrs, Py_ssize_t ycs)
    double cnet_softmax_ce_f16(size_t R, size_t C, const uint16_t *x, Py_ssize_t xrs,
                               Py_ssize_t xcs, const Py_ssize_t *lab, double acc)
    double cnet_row_max_f64(const double *x, Py_ssize_t xcs, size_t C)
    float cnet_row_max_f32(const float *x, Py_ssize_t xcs, size_t C)
    double cnet_softmax_block_f64(const double *x, Py_ssize_t xcs, double *y, Py_ssize_t ycs,
                                  size_t C, double m)
    float cnet_softmax_block_f32(const float *x, Py_ssize_t xcs, float *y, Py_ssize_t ycs,
                                 size_t C, float m)
    void cnet_row_scale_f64(double *y, Py_ssize_t ycs, size_t C, double s)
    void cnet_row_scale_f32(float *y, Py_ssize_t ycs, size_t C, float s)
    void cnet_sse_lanes_f64(size_t n, const double *y, const double *t, double *acc,
                            size_t k0)
    void cnet_sse_lanes_f32(size_t n, const float *y, const float *t, double *acc,
                            size_t k0)

# Loops that only move memory (relu, relu_grad, sums of squares, picking one
# entry per row) gain from a second thread only on much larger inputs than
# loops evaluating exp per element.
cdef size_t MEMORY_BOUND_MIN = 8 * <size_t>CNET_PARALLEL_MIN

# Per-thread minimum work (elements), exposed so tests can size inputs that
# really run on several threads.
PARALLEL_MIN = CNET_PARALLEL_MIN
PARALLEL_MIN_MEMORY_BOUND = MEMORY_BOUND_MIN

# Elementwise operations (enum cnet_unary_op in csrc/functions.h).
SIGMOID = 0
SIGMOID_GRAD = 1
RELU = 2
RELU_GRAD = 3

# float16 travels as its bit pattern.
ctypedef fused real_t:
    double
    float
    uint16_t

# A second, independent real type, for a pair of arrays of different dtypes.
ctypedef fused real2_t:
    double
    float
    uint16_t

ctypedef fused sint_t:
    int8_t
    int16_t
    int32_t
    int64_t

# Element types a label array may have: index labels (integers) or one-hot
# rows (any of these; bool arrives as uint8).
ctypedef fused label_t:
    int8_t
    int16_t
    int32_t
    int64_t
    uint8_t
    uint16_t
    uint32_t
    uint64_t
    float
    double


cdef inline char *_data(cnp.ndarray a) except NULL:
    """a's data pointer for a kernel. The callers hand over only aligned arrays
    (kernel_view copies the rest); a misaligned one would be undefined
    behaviour in C, so this last guard refuses it instead."""
    if not cnp.PyArray_ISALIGNED(a):
        raise RuntimeError("cnet._functions: a misaligned array reached a kernel "
                           "(shape %s, dtype %s); this is a bug in cnet" % ((<object>a).shape, (<object>a).dtype))
    return <char *>cnp.PyArray_DATA(a)


# --- elementwise ---------------------------------------------------------------

cdef inline Py_ssize_t _block_len(Py_ssize_t c0, Py_ssize_t C) noexcept nogil:
    """Elements of the CNET_REDUCE_BLOCK block that starts at c0 of C."""
    return C - c0 if C - c0 < CNET_REDUCE_BLOCK else CNET_REDUCE_BLOCK


cdef void _unary_real(int op, const real_t *x, Py_ssize_t xrs, Py_ssize_t xcs,
                      real_t *y, Py_ssize_t yrs, Py_ssize_t ycs,
                      Py_ssize_t R, Py_ssize_t C) noexcept nogil:
    """y[r, c] = op(x[r, c]); work split in blocks of CNET_REDUCE_BLOCK of one row,
    handed out dynamically: on a shared machine a thread whose core is busy
    takes fewer blocks (each element's result does not depend on who makes it)."""
    cdef Py_ssize_t nb = (C + CNET_REDUCE_BLOCK - 1) // CNET_REDUCE_BLOCK
    cdef Py_ssize_t task, r, c0, cnt
    cdef int nt = cnet_threads_for(<size_t>(R * C), CNET_PARALLEL_MIN if op <= 1
                                   else MEMORY_BOUND_MIN)
    for task in prange(R * nb, num_threads=nt, schedule='dynamic'):
        r = task // nb
        c0 = (task % nb) * CNET_REDUCE_BLOCK
        cnt = _block_len(c0, C)
        if real_t is double:
            cnet_unary_f64(op, x + r * xrs + c0 * xcs, xcs, y + r * yrs + c0 * ycs, ycs, cnt)
        elif real_t is float:
            cnet_unary_f32(op, x + r * xrs + c0 * xcs, xcs, y + r * yrs + c0 * ycs, ycs, cnt)
        else:
            cnet_unary_f16(op, x + r * xrs + c0 * xcs, xcs, y + r * yrs + c0 * ycs, ycs, cnt)


cdef void _relu_int(int op, const sint_t *x, Py_ssize_t xrs, Py_ssize_t xcs,
                    sint_t *y, Py_ssize_t yrs, Py_ssize_t ycs,
                    Py_ssize_t R, Py_ssize_t C) noexcept nogil:
    """relu (op RELU) or relu_grad (op RELU_GRAD) of signed integers."""
    cdef Py_ssize_t nb = (C + CNET_REDUCE_BLOCK - 1) // CNET_REDUCE_BLOCK
    cdef Py_ssize_t task, r, c0, c1, c
    cdef const sint_t *xr
    cdef sint_t *yr
    cdef sint_t v
    cdef int nt = cnet_threads_for(<size_t>(R * C), MEMORY_BOUND_MIN)
    for task in prange(R * nb, num_threads=nt, schedule='static'):
        r = task // nb
        c0 = (task % nb) * CNET_REDUCE_BLOCK
        c1 = c0 + _block_len(c0, C)
        xr = x + r * xrs
        yr = y + r * yrs
        if op == 2:  # RELU
            for c in range(c0, c1):
                v = xr[c * xcs]
                yr[c * ycs] = v if v > 0 else 0
        else:
            for c in range(c0, c1):
                yr[c * ycs] = 1 if xr[c * xcs] >= 0 else 0


def unary(int op, cnp.ndarray x, cnp.ndarray y, Py_ssize_t R, Py_ssize_t C,
          Py_ssize_t xrs, Py_ssize_t xcs, Py_ssize_t yrs, Py_ssize_t ycs):
    """y = op(x) over R rows of C elements.

    x IN and y OUT share one dtype: float64, float32, float16 (any op) or a
    signed integer (RELU, RELU_GRAD). Strides in elements.
    """
    cdef char *xp = _data(x)
    cdef char *yp = _data(y)
    cdef char kind = x.descr.kind
    cdef int size = x.descr.itemsize
    if kind == b'f' and size == 8:
        with nogil:
            _unary_real(op, <double *>xp, xrs, xcs, <double *>yp, yrs, ycs, R, C)
    elif kind == b'f' and size == 4:
        with nogil:
            _unary_real(op, <float *>xp, xrs, xcs, <float *>yp, yrs, ycs, R, C)
    elif kind == b'f' and size == 2:
        with nogil:
            _unary_real(op, <uint16_t *>xp, xrs, xcs, <uint16_t *>yp, yrs, ycs, R, C)
    elif kind == b'i' and op in (RELU, RELU_GRAD):
        if size == 1:
            with nogil:
                _relu_int(op, <int8_t *>xp, xrs, xcs, <int8_t *>yp, yrs, ycs, R, C)
        elif size == 2:
            with nogil:
                _relu_int(op, <int16_t *>xp, xrs, xcs, <int16_t *>yp, yrs, ycs, R, C)
        elif size == 4:
            with nogil:
                _relu_int(op, <int32_t *>xp, xrs, xcs, <int32_t *>yp, yrs, ycs, R, C)
        else:
            with nogil:
                _relu_int(op, <int64_t *>xp, xrs, xcs, <int64_t *>yp, yrs, ycs, R, C)
    else:
        raise TypeError("unary kernel %d has no loop for %s" % (op, x.dtype))


def unary_c(int op, object x):
    """op(x) for a C-contiguous, aligned, native float64/float32 ndarray x with
    ndim >= 1 (a new C-ordered array, as a ufunc returns); None for any other
    x, which the caller then handles in full. Saves the general checks on the
    small arrays a training loop passes."""
    cdef cnp.ndarray a, out
    cdef int typenum
    if type(x) is not np.ndarray:
        return None
    a = <cnp.ndarray>x
    typenum = cnp.PyArray_TYPE(a)
    if ((typenum != cnp.NPY_DOUBLE and typenum != cnp.NPY_FLOAT) or a.ndim == 0
            or not cnp.PyArray_ISCARRAY_RO(a) or not cnp.PyArray_ISNOTSWAPPED(a)):
        return None
    out = cnp.PyArray_EMPTY(a.ndim, a.shape, typenum, 0)
    unary(op, a, out, 1, a.size, 0, 1, 0, 1)
    return out


def softmax_c(object x):
    """softmax(x) along the last axis for x as in unary_c (with a non-empty
    last axis); None for any other x."""
    cdef cnp.ndarray a, out
    cdef int typenum
    cdef Py_ssize_t C
    if type(x) is not np.ndarray:
        return None
    a = <cnp.ndarray>x
    typenum = cnp.PyArray_TYPE(a)
    if ((typenum != cnp.NPY_DOUBLE and typenum != cnp.NPY_FLOAT) or a.ndim == 0
            or not cnp.PyArray_ISCARRAY_RO(a) or not cnp.PyArray_ISNOTSWAPPED(a)):
        return None
    C = a.shape[a.ndim - 1]
    if C == 0:
        return None
    out = cnp.PyArray_EMPTY(a.ndim, a.shape, typenum, 0)
    softmax(a, out, a.size // C, C, C, 1, C, 1)
    return out


def exp(cnp.ndarray x, cnp.ndarray y):
    """y = exp(x) with cnet's own exp, for checking it: x IN, y OUT, both
    contiguous float64 or float32 of the same size."""
    cdef Py_ssize_t i, n = x.size
    cdef double *xd
    cdef double *yd
    cdef float *xf
    cdef float *yf
    if x.dtype == np.float64:
        xd = <double *>_data(x)
        yd = <double *>_data(y)
        with nogil:
            for i in range(n):
                yd[i] = cnet_exp_f64(xd[i])
    else:
        xf = <float *>_data(x)
        yf = <float *>_data(y)
        with nogil:
            for i in range(n):
                yf[i] = cnet_exp_f32(xf[i])


def half_roundtrip(cnp.ndarray bits, cnp.ndarray floats, cnp.ndarray out_bits):
    """Expose the half <-> float conversions for checking them against NumPy:
    floats[i] = half_to_float(bits[i]); out_bits[i] = float_to_half(floats[i]) for
    the float32 input given in floats beforehand when bits is empty."""
    cdef Py_ssize_t i
    cdef uint16_t *b = <uint16_t *>_data(bits)
    cdef float *f = <float *>_data(floats)
    cdef uint16_t *o = <uint16_t *>_data(out_bits)
    if bits.size:
        for i in range(bits.size):
            f[i] = cnet_half_to_float(b[i])
    for i in range(floats.size):
        o[i] = cnet_float_to_half(f[i])


# --- softmax and the fused softmax + cross-entropy + dy -------------------------

cdef bint _softmax_long_row(const real_t *x, Py_ssize_t xcs, real_t *y, Py_ssize_t ycs,
                            Py_ssize_t C, int nt) noexcept nogil:
    """Softmax of one long row (float64 or float32), its column blocks split
    across nt threads: block maxima, then the blocks' exp sums, added in block
    order, then the division; the same bits as cnet_softmax_ce_* on the row.
    False (nothing done) when the scratch space cannot be allocated."""
    cdef Py_ssize_t nb = (C + CNET_REDUCE_BLOCK - 1) // CNET_REDUCE_BLOCK
    cdef Py_ssize_t b, c0, cnt
    cdef real_t m, s
    cdef bint nan = False
    cdef real_t *part = <real_t *>malloc(2 * nb * sizeof(real_t))
    if part == NULL:
        return False
    for b in prange(nb, num_threads=nt, schedule='static'):
        c0 = b * CNET_REDUCE_BLOCK
        cnt = _block_len(c0, C)
        if real_t is double:
            part[b] = cnet_row_max_f64(x + c0 * xcs, xcs, cnt)
        elif real_t is float:
            part[b] = cnet_row_max_f32(x + c0 * xcs, xcs, cnt)
    m = part[0]
    for b in range(nb):
        if part[b] != part[b]:
            nan = True
        elif part[b] > m:
            m = part[b]
    if nan:
        m = <real_t>NAN
    for b in prange(nb, num_threads=nt, schedule='static'):
        c0 = b * CNET_REDUCE_BLOCK
        cnt = _block_len(c0, C)
        if real_t is double:
            part[nb + b] = cnet_softmax_block_f64(x + c0 * xcs, xcs, y + c0 * ycs, ycs, cnt, m)
        elif real_t is float:
            part[nb + b] = cnet_softmax_block_f32(x + c0 * xcs, xcs, y + c0 * ycs, ycs, cnt, m)
    s = 0
    for b in range(nb):
        s = s + part[nb + b]
    for b in prange(nb, num_threads=nt, schedule='static'):
        c0 = b * CNET_REDUCE_BLOCK
        cnt = _block_len(c0, C)
        if real_t is double:
            cnet_row_scale_f64(y + c0 * ycs, ycs, cnt, s)
        elif real_t is float:
            cnet_row_scale_f32(y + c0 * ycs, ycs, cnt, s)
    free(part)
    return True


cdef inline double _softmax_ce_block(Py_ssize_t R, Py_ssize_t C,
                                     const real_t *x, Py_ssize_t xrs, Py_ssize_t xcs,
                                     real_t *y, Py_ssize_t yrs, Py_ssize_t ycs,
                                     const Py_ssize_t *lab,
                                     const real_t *t, Py_ssize_t trs, Py_ssize_t tcs,
                                     real_t *dy, Py_ssize_t dyrs, Py_ssize_t dycs,
                                     double N) noexcept nogil:
    """The fused kernel on R rows (float16: softmax, or the loss alone)."""
    if real_t is double:
        return cnet_softmax_ce_f64(R, C, x, xrs, xcs, y, yrs, ycs, lab, t, trs, tcs,
                                   dy, dyrs, dycs, N, 0.0)
    elif real_t is float:
        return cnet_softmax_ce_f32(R, C, x, xrs, xcs, y, yrs, ycs, lab, t, trs, tcs,
                                   dy, dyrs, dycs, N, 0.0)
    else:
        if y != NULL:
            cnet_softmax_f16(R, C, x, xrs, xcs, y, yrs, ycs)
            return 0.0
        return cnet_softmax_ce_f16(R, C, x, xrs, xcs, lab, 0.0)


cdef double _softmax_ce(Py_ssize_t R, Py_ssize_t C,
                        const real_t *x, Py_ssize_t xrs, Py_ssize_t xcs,
                        real_t *y, Py_ssize_t yrs, Py_ssize_t ycs,
                        const Py_ssize_t *lab,
                        const real_t *t, Py_ssize_t trs, Py_ssize_t tcs,
                        real_t *dy, Py_ssize_t dyrs, Py_ssize_t dycs,
                        double N, double *partial) noexcept nogil:
    """The fused kernel over R rows of C (arguments as cnet_softmax_ce_*), rows
    split across threads in fixed blocks. With lab, blocks of CNET_REDUCE_BLOCK
    rows, whose loss partials (partial: one per block) are added in block
    order: the blocks of _ce_sum, so that softmax_loss and
    cross_entropy_error(softmax) agree to the bit. Without lab, blocks of about
    CNET_REDUCE_BLOCK elements, or a long row's columns when there are fewer
    rows than threads. Returns the sum of the loss terms (0 without lab)."""
    cdef Py_ssize_t rows = CNET_REDUCE_BLOCK if lab != NULL else 1 + CNET_REDUCE_BLOCK // C
    cdef Py_ssize_t nb = (R + rows - 1) // rows
    cdef Py_ssize_t b, r0, cnt, r
    cdef double part, total = 0.0
    cdef int nt = cnet_threads_for(<size_t>(R * C), CNET_PARALLEL_MIN)
    if real_t is not uint16_t:
        if lab == NULL and nt > 1 and R < nt and C > CNET_REDUCE_BLOCK:
            for r in range(R):
                if not _softmax_long_row(x + r * xrs, xcs, y + r * yrs, ycs, C, nt):
                    break
            else:
                return 0.0
    # blocks handed out dynamically, as in _unary_real: a block's rows and its
    # loss partial do not depend on the thread that forms them
    for b in prange(nb, num_threads=nt, schedule='dynamic'):
        r0 = b * rows
        cnt = R - r0
        if cnt > rows:
            cnt = rows
        part = _softmax_ce_block(cnt, C, x + r0 * xrs, xrs, xcs,
                                 y + r0 * yrs if y != NULL else NULL, yrs, ycs,
                                 lab + r0 if lab != NULL else NULL,
                                 t + r0 * trs if t != NULL else NULL, trs, tcs,
                                 dy + r0 * dyrs if dy != NULL else NULL, dyrs, dycs, N)
        if lab != NULL:
            partial[b] = part
    if lab != NULL:
        for b in range(nb):
            total += partial[b]
    return total


def softmax(cnp.ndarray x, cnp.ndarray y, Py_ssize_t R, Py_ssize_t C,
            Py_ssize_t xrs, Py_ssize_t xcs, Py_ssize_t yrs, Py_ssize_t ycs):
    """y = softmax(x) along rows: x (R, C) IN, y (R, C) OUT, one float dtype,
    C >= 1; the fused kernel without a loss."""
    cdef char *xp = _data(x)
    cdef char *yp = _data(y)
    cdef int size = x.descr.itemsize
    if R == 0:
        return
    if size == 8:
        with nogil:
            _softmax_ce(R, C, <double *>xp, xrs, xcs, <double *>yp, yrs, ycs, NULL,
                        NULL, 0, 0, NULL, 0, 0, 1.0, NULL)
    elif size == 4:
        with nogil:
            _softmax_ce(R, C, <float *>xp, xrs, xcs, <float *>yp, yrs, ycs, NULL,
                        NULL, 0, 0, NULL, 0, 0, 1.0, NULL)
    else:
        with nogil:
            _softmax_ce(R, C, <uint16_t *>xp, xrs, xcs, <uint16_t *>yp, yrs, ycs, NULL,
                        NULL, 0, 0, NULL, 0, 0, 1.0, NULL)


# --- labels --------------------------------------------------------------------

cdef Py_ssize_t _labels(const label_t *t, Py_ssize_t trs, Py_ssize_t tcs, bint onehot,
                        Py_ssize_t *lab, Py_ssize_t N, Py_ssize_t C) noexcept nogil:
    """lab[i] = the class of row i, in [0, C): the argmax of one-hot row t[i, :]
    (first maximum; first NaN if any, as np.argmax), or index t[i] (negative
    counts from the end, as NumPy indexing). A label outside [-C, C) gives
    lab[i] = -1. Returns how many such rows there were."""
    cdef Py_ssize_t i, j, best_j, bad = 0
    cdef const label_t *row
    cdef label_t best, v
    cdef int nt = cnet_threads_for(<size_t>(N * (C if onehot else 1)), MEMORY_BOUND_MIN)
    for i in prange(N, num_threads=nt, schedule='static'):
        row = t + i * trs
        if onehot:
            best = row[0]
            best_j = 0
            for j in range(1, C):
                if label_t is float or label_t is double:
                    if best != best:
                        break
                v = row[j * tcs]
                if label_t is float or label_t is double:
                    if v != v:
                        best_j = j
                        break
                if v > best:
                    best = v
                    best_j = j
            lab[i] = best_j
        else:
            v = row[0]
            if label_t is float or label_t is double:
                lab[i] = -1  # index labels must be integers; checked before
                bad += 1
            elif label_t is uint8_t or label_t is uint16_t or label_t is uint32_t or label_t is uint64_t:
                if v < <uint64_t>C:
                    lab[i] = <Py_ssize_t>v
                else:
                    lab[i] = -1
                    bad += 1
            else:
                if v >= 0 and v < C:
                    lab[i] = <Py_ssize_t>v
                elif v < 0 and v >= -C:
                    lab[i] = <Py_ssize_t>v + C
                else:
                    lab[i] = -1
                    bad += 1
    return bad


def labels(cnp.ndarray t, Py_ssize_t N, Py_ssize_t C, bint onehot,
           Py_ssize_t trs, Py_ssize_t tcs):
    """Class of each of N rows: t (N, C) one-hot IN, or t (N,) indices IN (trs is
    its stride; tcs unused). Returns (lab, bad): lab (N,) intp OUT, -1 for a
    label outside [-C, C); bad counts those."""
    cdef cnp.ndarray lab = np.empty(N, dtype=np.intp)
    cdef Py_ssize_t *lp = <Py_ssize_t *>_data(lab)
    cdef char *tp = _data(t)
    cdef char kind = t.descr.kind
    cdef int size = t.descr.itemsize
    cdef Py_ssize_t bad
    if N == 0:
        return lab, 0
    with nogil:
        if kind == b'f' and size == 8:
            bad = _labels(<double *>tp, trs, tcs, onehot, lp, N, C)
        elif kind == b'f' and size == 4:
            bad = _labels(<float *>tp, trs, tcs, onehot, lp, N, C)
        elif kind == b'u' or kind == b'b':
            if size == 1:
                bad = _labels(<uint8_t *>tp, trs, tcs, onehot, lp, N, C)
            elif size == 2:
                bad = _labels(<uint16_t *>tp, trs, tcs, onehot, lp, N, C)
            elif size == 4:
                bad = _labels(<uint32_t *>tp, trs, tcs, onehot, lp, N, C)
            else:
                bad = _labels(<uint64_t *>tp, trs, tcs, onehot, lp, N, C)
        else:
            if size == 1:
                bad = _labels(<int8_t *>tp, trs, tcs, onehot, lp, N, C)
            elif size == 2:
                bad = _labels(<int16_t *>tp, trs, tcs, onehot, lp, N, C)
            elif size == 4:
                bad = _labels(<int32_t *>tp, trs, tcs, onehot, lp, N, C)
            else:
                bad = _labels(<int64_t *>tp, trs, tcs, onehot, lp, N, C)
    return lab, bad


# --- losses --------------------------------------------------------------------

cdef inline double _ce_sum_block(Py_ssize_t R, const real_t *p, Py_ssize_t prs,
                                 Py_ssize_t pcs, const Py_ssize_t *lab) noexcept nogil:
    if real_t is double:
        return cnet_ce_sum_f64(R, p, prs, pcs, lab, 0.0)
    elif real_t is float:
        return cnet_ce_sum_f32(R, p, prs, pcs, lab, 0.0)
    else:
        return cnet_ce_sum_f16(R, p, prs, pcs, lab, 0.0)


cdef double _ce_sum(const real_t *y, Py_ssize_t yrs, Py_ssize_t ycs, Py_ssize_t C,
                    const Py_ssize_t *lab, Py_ssize_t N, bint from_logits,
                    double *partial) noexcept nogil:
    """Sum over rows of the cross-entropy term of y (or of softmax(y) with
    from_logits); rows summed in blocks of CNET_REDUCE_BLOCK (partial holds one
    sum per block), blocks in order."""
    cdef Py_ssize_t nb = (N + CNET_REDUCE_BLOCK - 1) // CNET_REDUCE_BLOCK
    cdef Py_ssize_t b, i0, cnt
    cdef double total = 0.0
    cdef int nt
    if from_logits:
        return _softmax_ce(N, C, y, yrs, ycs, <real_t *>NULL, 0, 0, lab,
                           <real_t *>NULL, 0, 0, <real_t *>NULL, 0, 0, <double>N, partial)
    nt = cnet_threads_for(<size_t>N, MEMORY_BOUND_MIN)
    for b in prange(nb, num_threads=nt, schedule='static'):
        i0 = b * CNET_REDUCE_BLOCK
        cnt = N - i0
        if cnt > CNET_REDUCE_BLOCK:
            cnt = CNET_REDUCE_BLOCK
        partial[b] = _ce_sum_block(cnt, y + i0 * yrs, yrs, ycs, lab + i0)
    for b in range(nb):
        total += partial[b]
    return total


def ce_sum(cnp.ndarray y, Py_ssize_t N, Py_ssize_t C, Py_ssize_t yrs, Py_ssize_t ycs,
           cnp.ndarray lab, bint from_logits):
    """Sum over the N rows of log(p[i, lab[i]] + 1e-7), p = y (IN, (N, C)) or
    softmax(y) with from_logits; lab (N,) intp IN, every entry in [0, C)."""
    cdef Py_ssize_t nb = (N + CNET_REDUCE_BLOCK - 1) // CNET_REDUCE_BLOCK
    cdef double *partial
    cdef double total
    cdef char *yp = _data(y)
    cdef const Py_ssize_t *lp = <Py_ssize_t *>_data(lab)
    cdef int size = y.descr.itemsize
    if N == 0:
        return 0.0
    partial = <double *>malloc(nb * sizeof(double))
    if partial == NULL:
        raise MemoryError()
    with nogil:
        if size == 8:
            total = _ce_sum(<double *>yp, yrs, ycs, C, lp, N, from_logits, partial)
        elif size == 4:
            total = _ce_sum(<float *>yp, yrs, ycs, C, lp, N, from_logits, partial)
        else:
            total = _ce_sum(<uint16_t *>yp, yrs, ycs, C, lp, N, from_logits, partial)
    free(partial)
    return total


cdef inline double _load(const real_t *p) noexcept nogil:
    if real_t is uint16_t:
        return cnet_half_to_float(p[0])
    else:
        return p[0]


cdef inline double _load2(const real2_t *p) noexcept nogil:
    if real2_t is uint16_t:
        return cnet_half_to_float(p[0])
    else:
        return p[0]


cdef inline double _sq_term(const real_t *y, const real2_t *t, int work) noexcept nogil:
    """(y - t)**2 of one pair, rounded as NumPy would in the work precision
    (8: float64, 4: float32, 2: float16)."""
    cdef double d
    cdef float df
    if work == 8:
        d = _load(y) - _load2(t)
        return d * d
    elif work == 4:
        df = <float>_load(y) - <float>_load2(t)
        return df * df
    df = cnet_half_to_float(cnet_float_to_half(<float>_load(y) - <float>_load2(t)))
    return cnet_half_to_float(cnet_float_to_half(df * df))


cdef double _sse_sum(const real_t *y, Py_ssize_t yrs, Py_ssize_t ycs,
                     const real2_t *t, Py_ssize_t trs, Py_ssize_t tcs,
                     Py_ssize_t R, Py_ssize_t C, int work, double *partial) noexcept nogil:
    """Sum of (y - t)**2 over R rows of C, walked row by row: the walk is cut
    into blocks of CNET_REDUCE_BLOCK elements, each summed in the lanes of
    csrc/sum_squared.h (partial: CNET_LANES per block), the block sums added
    in order. Row pieces with both operands contiguous and of the work dtype
    take the vectorised C loop, the rest this one; the lanes are the same."""
    cdef Py_ssize_t n = R * C
    cdef Py_ssize_t nb = (n + CNET_REDUCE_BLOCK - 1) // CNET_REDUCE_BLOCK
    cdef Py_ssize_t b, i, i0, i1, r, c, j, seg, k
    cdef const real_t *yr
    cdef const real2_t *tr
    cdef double *lanes
    cdef double total = 0.0
    cdef bint fast = ycs == 1 and tcs == 1 and (
        (real_t is double and real2_t is double and work == 8)
        or (real_t is float and real2_t is float and work == 4))
    cdef int nt = cnet_threads_for(<size_t>n, MEMORY_BOUND_MIN)
    for b in prange(nb, num_threads=nt, schedule='static'):
        lanes = partial + b * CNET_LANES
        for k in range(CNET_LANES):
            lanes[k] = 0.0
        i0 = b * CNET_REDUCE_BLOCK
        i1 = i0 + CNET_REDUCE_BLOCK
        if i1 > n:
            i1 = n
        r = i0 // C
        c = i0 - r * C
        i = i0
        while i < i1:
            # the rest of row r inside this block
            seg = C - c
            if seg > i1 - i:
                seg = i1 - i
            yr = y + r * yrs + c * ycs
            tr = t + r * trs + c * tcs
            if fast:
                if real_t is double and real2_t is double:
                    cnet_sse_lanes_f64(seg, yr, tr, lanes, i - i0)
                elif real_t is float and real2_t is float:
                    cnet_sse_lanes_f32(seg, yr, tr, lanes, i - i0)
            else:
                for j in range(seg):
                    k = (i - i0 + j) % CNET_LANES
                    lanes[k] = lanes[k] + _sq_term(yr + j * ycs, tr + j * tcs, work)
            i = i + seg
            c = c + seg
            if c == C:
                c = 0
                r = r + 1
    for b in range(nb):
        lanes = partial + b * CNET_LANES
        total += (((lanes[0] + lanes[1]) + (lanes[2] + lanes[3]))
                  + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7])))
    return total


def sse_sum(cnp.ndarray y, cnp.ndarray t, Py_ssize_t R, Py_ssize_t C,
            Py_ssize_t yrs, Py_ssize_t ycs, Py_ssize_t trs, Py_ssize_t tcs, int work):
    """Sum of (y - t)**2 over R rows of C elements: y, t IN, each float64,
    float32 or float16 (the two may differ), with element strides; work is the
    itemsize of the result dtype, the precision NumPy would compute in."""
    cdef Py_ssize_t n = R * C
    cdef Py_ssize_t nb = (n + CNET_REDUCE_BLOCK - 1) // CNET_REDUCE_BLOCK
    cdef double *partial
    cdef double total = 0.0
    cdef char *yp = _data(y)
    cdef char *tp = _data(t)
    cdef int ysz = y.descr.itemsize
    cdef int tsz = t.descr.itemsize
    if n == 0:
        return 0.0
    partial = <double *>malloc(nb * CNET_LANES * sizeof(double))
    if partial == NULL:
        raise MemoryError()
    with nogil:
        if ysz == 8:
            if tsz == 8:
                total = _sse_sum(<double *>yp, yrs, ycs, <double *>tp, trs, tcs, R, C, work, partial)
            elif tsz == 4:
                total = _sse_sum(<double *>yp, yrs, ycs, <float *>tp, trs, tcs, R, C, work, partial)
            else:
                total = _sse_sum(<double *>yp, yrs, ycs, <uint16_t *>tp, trs, tcs, R, C, work,
                                 partial)
        elif ysz == 4:
            if tsz == 8:
                total = _sse_sum(<float *>yp, yrs, ycs, <double *>tp, trs, tcs, R, C, work, partial)
            elif tsz == 4:
                total = _sse_sum(<float *>yp, yrs, ycs, <float *>tp, trs, tcs, R, C, work, partial)
            else:
                total = _sse_sum(<float *>yp, yrs, ycs, <uint16_t *>tp, trs, tcs, R, C, work,
                                 partial)
        else:
            if tsz == 8:
                total = _sse_sum(<uint16_t *>yp, yrs, ycs, <double *>tp, trs, tcs, R, C, work,
                                 partial)
            elif tsz == 4:
                total = _sse_sum(<uint16_t *>yp, yrs, ycs, <float *>tp, trs, tcs, R, C, work,
                                 partial)
            else:
                total = _sse_sum(<uint16_t *>yp, yrs, ycs, <uint16_t *>tp, trs, tcs, R, C, work,
                                 partial)
    free(partial)
    return total


# --- checked entries: labels, and SoftmaxWithLoss's forward and backward --------

def class_labels(y2, t, func):
    """Class index (intp, (N,)) of each row of y2 (N, C) from t: one-hot rows
    of y2's shape (the argmax of each row, first maximum, as np.argmax), or N
    integer indices (negative ones count from the end). Checks t and raises
    the errors of cnet.functions, naming func."""
    N, C = y2.shape
    t = np.asarray(t)
    if t.shape == y2.shape:
        onehot = True
        if t.dtype.kind not in "biuf" or t.dtype.itemsize > 8:
            raise TypeError("%s: one-hot t must be real numbers, got dtype %s"
                            % (func, t.dtype))
        if t.dtype.kind == "f" and t.dtype.itemsize == 2:
            t = t.astype(np.float32)  # exact; the label kernels have no half loop
    elif t.shape in ((N,), (N, 1)) or (N == 1 and t.ndim == 0):
        # A column of N indices ((N, 1), as ch07/gradient_check.py passes) is
        # read as the N labels it holds: the book's indexing broadcasts it,
        # which for N = 1 is the same and for N > 1 mixes every row's label
        # with every other row.
        t = t.reshape(N)
        onehot = False
        if t.dtype.kind not in "iu":
            raise TypeError("%s: index labels t must be integers, got dtype %s"
                            % (func, t.dtype))
    else:
        raise ValueError("%s: t of shape %s fits y of shape %s neither as one-hot "
                         "labels (shape %s) nor as class indices (shape (%d,))"
                         % (func, t.shape, y2.shape, y2.shape, N))
    t, ts = kernel_view(t)
    lab, bad = labels(t, N, C, onehot, ts[0], ts[1] if onehot else 0)
    if bad:
        i = int(np.flatnonzero(lab < 0)[0])
        raise ValueError("%s: t[%d] = %s is not a class index for y with %d columns "
                         "(expected 0 <= t < %d, or -%d <= t < 0 counted from the end)"
                         % (func, i, t[i], C, C, C))
    return lab


def elem_strides(a):
    """Strides of ndarray a in elements, or None when a kernel cannot walk a
    directly (misaligned data, or strides that are not whole elements)."""
    size = a.dtype.itemsize
    if not a.flags.aligned or any(s % size for s in a.strides):
        return None
    return [s // size for s in a.strides]


def kernel_view(a):
    """(a, strides): ndarray a, or when a kernel cannot read it in place
    (misaligned, byte-swapped, strides not whole elements) an aligned native
    C-ordered copy, with its element strides."""
    if not a.dtype.isnative:
        a = a.astype(a.dtype.newbyteorder("="))
    s = elem_strides(a)
    if s is None:
        a = np.array(a, order="C")  # a fresh array is aligned
        s = elem_strides(a)
    return a, s


def _float_rows(a, name, func, dtype=None, writeable=False):
    """a checked as an (N, C) or (C,) float64/float32 ndarray (of dtype, when
    given) that a kernel may read (and write, with writeable) in place."""
    if not isinstance(a, np.ndarray):
        raise TypeError("%s: %s must be a NumPy array, got %s" % (func, name, type(a).__name__))
    want = "float64 or float32" if dtype is None else str(dtype)
    if a.dtype.kind != "f" or a.dtype.itemsize not in (4, 8) or (
            dtype is not None and a.dtype != dtype):
        raise TypeError("%s: %s must be %s, got dtype %s" % (func, name, want, a.dtype))
    if a.ndim not in (1, 2):
        raise ValueError("%s: %s must be 2-D (batch, classes) or 1-D (one sample), got "
                         "shape %s" % (func, name, a.shape))
    if writeable:
        if not a.flags.writeable:
            raise ValueError("%s: %s is read-only; it must be a writeable output array"
                             % (func, name))
        if not a.dtype.isnative or elem_strides(a) is None:
            raise ValueError("%s: %s must be aligned, in native byte order, with strides "
                             "of whole elements, to be written in place" % (func, name))
        return a, elem_strides(a)
    return kernel_view(a)


def _loss_target(x2, t, func, want_values):
    """(lab, tv, ts): the classes of t for the rows of x2 (N, C), and, when
    want_values and t is one-hot, t's values in x2's dtype with their strides
    (the book's dx uses them), else None."""
    t = np.asarray(t)
    lab = class_labels(x2, t, func)
    if want_values and t.shape == x2.shape:
        tv, ts = kernel_view(np.asarray(t, dtype=x2.dtype))
        return lab, tv, ts
    return lab, None, None


def _two_dim(a, name, func):
    # The book's backward divides by t.shape[0], which for one 1-D sample is
    # its class count: cnet asks for the (1, C) batch rather than guess.
    if a.ndim != 2:
        raise ValueError("%s: %s must be 2-D (batch, classes) for dx, got shape %s; "
                         "pass one sample as shape (1, C)" % (func, name, a.shape))


def _same_shape(a, name, x, xname, func):
    if a.shape != x.shape:
        raise ValueError("%s: %s must have %s's shape %s, got %s"
                         % (func, name, xname, x.shape, a.shape))


def softmax_loss_forward(x, t, y, dx=None):
    """The book's SoftmaxWithLoss.forward (and, with dx, its backward) in one
    pass over the rows: the fused softmax + cross-entropy (+ 1e-7) + dy kernel.

    Parameters
    ----------
    x : ndarray, (N, C) or (C,), float64 or float32, IN
        Scores, any strides.
    t : array_like, IN
        One-hot labels of x's shape (the class is each row's argmax, first
        maximum, as np.argmax) or class indices: (N,) integers (a scalar when
        x is 1-D); negative indices count from the end.
    y : ndarray, x's shape and dtype, OUT
        softmax(x) along rows, written in place (any strides, aligned).
    dx : ndarray or None, x's shape and dtype, OUT
        When given (x 2-D only), also ``(y - t) / N`` as the book's backward:
        t's values (in x's dtype) for one-hot t, ``y`` with 1 subtracted at
        the class for indices.

    Returns
    -------
    NumPy scalar of x's dtype: ``-sum_i log(y[i, t_i] + 1e-7) / N``, the
    book's loss (NaN for N = 0, without the book's warning).
    """
    func = "softmax_loss_forward"
    x, xs = _float_rows(x, "x", func)
    y, ys = _float_rows(y, "y", func, x.dtype, writeable=True)
    _same_shape(y, "y", x, "x", func)
    if dx is not None:
        dx, ds = _float_rows(dx, "dx", func, x.dtype, writeable=True)
        _same_shape(dx, "dx", x, "x", func)
        _two_dim(x, "x", func)
    if x.ndim == 1:
        x, y = x.reshape(1, -1), y.reshape(1, -1)
        xs, ys = [0] + xs, [0] + ys
        t = np.asarray(t)
        if t.size == x.size:
            t = t.reshape(x.shape)
    N, C = x.shape
    if C == 0:
        raise ValueError("%s: x has no classes (shape %s)" % (func, x.shape))
    lab, tv, ts = _loss_target(x, t, func, dx is not None)
    if N == 0:
        return x.dtype.type(np.nan)
    total = _softmax_ce_entry(x, xs, y, ys, lab, tv, ts, dx, ds if dx is not None else None)
    return x.dtype.type(-total / N)


def softmax_loss_backward(y, t, dx):
    """The book's SoftmaxWithLoss.backward (dout = 1): dx = (y - t) / N.

    Parameters
    ----------
    y : ndarray, (N, C), float64 or float32, IN
        The softmax rows the forward pass wrote.
    t : array_like, IN
        The labels given to the forward pass: one-hot rows (their values are
        used, in y's dtype) or class indices (1 is subtracted at the class).
    dx : ndarray, y's shape and dtype, OUT (may be y itself)

    Returns
    -------
    dx
    """
    func = "softmax_loss_backward"
    y, ys = _float_rows(y, "y", func)
    dx, ds = _float_rows(dx, "dx", func, y.dtype, writeable=True)
    _same_shape(dx, "dx", y, "y", func)
    _two_dim(y, "y", func)
    N, C = y.shape
    lab, tv, ts = _loss_target(y, t, func, True)
    if N and C:
        _softmax_ce_dy_entry(y, ys, lab, tv, ts, dx, ds)
    return dx


def softmax_loss_rows(x, t, y, dx=None):
    """softmax_loss_forward for a caller that already checked its arguments:
    x an (N, C) float64/float32 ndarray with N, C >= 1 (any strides), y (and
    dx) fresh C-ordered arrays of x's shape and dtype. Only t is checked (its
    labels against x, with softmax_loss_forward's messages). Returns the loss
    as softmax_loss_forward, the same bits."""
    x, xs = kernel_view(x)
    lab, tv, ts = _loss_target(x, t, "softmax_loss_forward", dx is not None)
    cs = [x.shape[1], 1]
    total = _softmax_ce_entry(x, xs, y, cs, lab, tv, ts, dx, cs)
    return x.dtype.type(-total / x.shape[0])


def softmax_loss_backward_rows(y, t, dx):
    """softmax_loss_backward for a caller that already checked its arguments:
    y and dx C-ordered (N, C) arrays of one float dtype, N, C >= 1 (dx may be
    y). Only t is checked, with softmax_loss_backward's messages."""
    lab, tv, ts = _loss_target(y, t, "softmax_loss_backward", True)
    cs = [y.shape[1], 1]
    _softmax_ce_dy_entry(y, cs, lab, tv, ts, dx, cs)
    return dx


cdef double _softmax_ce_entry(cnp.ndarray x, xs, cnp.ndarray y, ys, cnp.ndarray lab,
                              object tv, object ts, object dx, object ds) except? -1.0:
    """The fused kernel on checked arrays (element strides xs, ys, ts, ds);
    tv None for index labels, dx None for no dy. Returns the loss sum."""
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1]
    cdef Py_ssize_t nb = (N + CNET_REDUCE_BLOCK - 1) // CNET_REDUCE_BLOCK
    cdef Py_ssize_t xrs = xs[0], xcs = xs[1], yrs = ys[0], ycs = ys[1]
    cdef Py_ssize_t trs = 0, tcs = 0, drs = 0, dcs = 0
    cdef char *xp = _data(x)
    cdef char *yp = _data(y)
    cdef char *tp = NULL
    cdef char *dp = NULL
    cdef const Py_ssize_t *lp = <Py_ssize_t *>_data(lab)
    cdef double total = 0.0
    cdef double *partial
    cdef bint f64 = x.descr.itemsize == 8
    if tv is not None:
        tp, trs, tcs = _data(tv), ts[0], ts[1]
    if dx is not None:
        dp, drs, dcs = _data(dx), ds[0], ds[1]
    partial = <double *>malloc(nb * sizeof(double))
    if partial == NULL:
        raise MemoryError()
    with nogil:
        if f64:
            total = _softmax_ce(N, C, <double *>xp, xrs, xcs, <double *>yp, yrs, ycs, lp,
                                <double *>tp, trs, tcs, <double *>dp, drs, dcs, <double>N,
                                partial)
        else:
            total = _softmax_ce(N, C, <float *>xp, xrs, xcs, <float *>yp, yrs, ycs, lp,
                                <float *>tp, trs, tcs, <float *>dp, drs, dcs, <double>N,
                                partial)
    free(partial)
    return total


cdef int _softmax_ce_dy_entry(cnp.ndarray y, ys, cnp.ndarray lab, object tv, object ts,
                              cnp.ndarray dx, ds) except -1:
    """dx = (y - t) / N on checked arrays; rows split across threads."""
    cdef Py_ssize_t N = y.shape[0], C = y.shape[1]
    cdef Py_ssize_t yrs = ys[0], ycs = ys[1], drs = ds[0], dcs = ds[1]
    cdef Py_ssize_t trs = 0, tcs = 0
    cdef Py_ssize_t rows = 1 + CNET_REDUCE_BLOCK // C
    cdef Py_ssize_t nb = (N + rows - 1) // rows
    cdef Py_ssize_t b, r0, cnt
    cdef char *yp = _data(y)
    cdef char *dp = _data(dx)
    cdef char *tp = NULL
    cdef const Py_ssize_t *lp = <Py_ssize_t *>_data(lab)
    cdef bint f64 = y.descr.itemsize == 8
    cdef int nt = cnet_threads_for(<size_t>(N * C), MEMORY_BOUND_MIN)
    if tv is not None:
        tp, trs, tcs = _data(tv), ts[0], ts[1]
    with nogil:
        for b in prange(nb, num_threads=nt, schedule='static'):
            r0 = b * rows
            cnt = N - r0
            if cnt > rows:
                cnt = rows
            if f64:
                cnet_softmax_ce_dy_f64(cnt, C, <double *>yp + r0 * yrs, yrs, ycs, lp + r0,
                                       <double *>tp + r0 * trs if tp != NULL else NULL,
                                       trs, tcs, <double *>dp + r0 * drs, drs, dcs, <double>N)
            else:
                cnet_softmax_ce_dy_f32(cnt, C, <float *>yp + r0 * yrs, yrs, ycs, lp + r0,
                                       <float *>tp + r0 * trs if tp != NULL else NULL,
                                       trs, tcs, <float *>dp + r0 * drs, drs, dcs, <double>N)
    return 0
