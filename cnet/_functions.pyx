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
    void cnet_softmax_f64(const double *x, Py_ssize_t xrs, Py_ssize_t xcs, double *y,
                          Py_ssize_t yrs, Py_ssize_t ycs, size_t R, size_t C)
    void cnet_softmax_f32(const float *x, Py_ssize_t xrs, Py_ssize_t xcs, float *y,
                          Py_ssize_t yrs, Py_ssize_t ycs, size_t R, size_t C)
    void cnet_softmax_f16(const uint16_t *x, Py_ssize_t xrs, Py_ssize_t xcs, uint16_t *y,
                          Py_ssize_t yrs, Py_ssize_t ycs, size_t R, size_t C)
    double cnet_row_max_f64(const double *x, Py_ssize_t xcs, size_t C)
    float cnet_row_max_f32(const float *x, Py_ssize_t xcs, size_t C)
    double cnet_softmax_block_f64(const double *x, Py_ssize_t xcs, double *y, Py_ssize_t ycs,
                                  size_t C, double m)
    float cnet_softmax_block_f32(const float *x, Py_ssize_t xcs, float *y, Py_ssize_t ycs,
                                 size_t C, float m)
    void cnet_row_div_f64(double *y, Py_ssize_t ycs, size_t C, double s)
    void cnet_row_div_f32(float *y, Py_ssize_t ycs, size_t C, float s)
    double cnet_softmax_ce_sum_f64(const double *x, Py_ssize_t xrs, Py_ssize_t xcs,
                                   const Py_ssize_t *lab, size_t R, size_t C)
    double cnet_softmax_ce_sum_f32(const float *x, Py_ssize_t xrs, Py_ssize_t xcs,
                                   const Py_ssize_t *lab, size_t R, size_t C)
    double cnet_softmax_ce_sum_f16(const uint16_t *x, Py_ssize_t xrs, Py_ssize_t xcs,
                                   const Py_ssize_t *lab, size_t R, size_t C)
    double cnet_ce_term_f64(double p)
    float cnet_ce_term_f32(float p)
    float cnet_ce_term_f16(float p)

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


cdef inline char *_data(cnp.ndarray a):
    return <char *>cnp.PyArray_DATA(a)


# --- elementwise ---------------------------------------------------------------

cdef inline Py_ssize_t _block_len(Py_ssize_t c0, Py_ssize_t C) noexcept nogil:
    """Elements of the CNET_REDUCE_BLOCK block that starts at c0 of C."""
    return C - c0 if C - c0 < CNET_REDUCE_BLOCK else CNET_REDUCE_BLOCK


cdef void _unary_real(int op, const real_t *x, Py_ssize_t xrs, Py_ssize_t xcs,
                      real_t *y, Py_ssize_t yrs, Py_ssize_t ycs,
                      Py_ssize_t R, Py_ssize_t C) noexcept nogil:
    """y[r, c] = op(x[r, c]); work split in blocks of CNET_REDUCE_BLOCK of one row."""
    cdef Py_ssize_t nb = (C + CNET_REDUCE_BLOCK - 1) // CNET_REDUCE_BLOCK
    cdef Py_ssize_t task, r, c0, cnt
    cdef int nt = cnet_threads_for(<size_t>(R * C), CNET_PARALLEL_MIN if op <= 1
                                   else MEMORY_BOUND_MIN)
    for task in prange(R * nb, num_threads=nt, schedule='static'):
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


# --- softmax -------------------------------------------------------------------

cdef bint _softmax_long_row(const real_t *x, Py_ssize_t xcs, real_t *y, Py_ssize_t ycs,
                            Py_ssize_t C, int nt) noexcept nogil:
    """Softmax of one long row (float64 or float32), its column blocks split
    across nt threads: block maxima, then the blocks' exp sums, added in block
    order, then the division; the same bits as cnet_softmax_* on the row.
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
            cnet_row_div_f64(y + c0 * ycs, ycs, cnt, s)
        elif real_t is float:
            cnet_row_div_f32(y + c0 * ycs, ycs, cnt, s)
    free(part)
    return True


cdef void _softmax_real(const real_t *x, Py_ssize_t xrs, Py_ssize_t xcs,
                        real_t *y, Py_ssize_t yrs, Py_ssize_t ycs,
                        Py_ssize_t R, Py_ssize_t C) noexcept nogil:
    """Softmax of each of R rows: rows split across threads in blocks, or,
    when there are fewer rows than threads, each row's columns."""
    cdef Py_ssize_t rows = 1 + CNET_REDUCE_BLOCK // (C if C > 0 else 1)
    cdef Py_ssize_t nb = (R + rows - 1) // rows
    cdef Py_ssize_t b, r0, cnt, r
    cdef int nt = cnet_threads_for(<size_t>(R * C), CNET_PARALLEL_MIN)
    if real_t is not uint16_t:
        if nt > 1 and R < nt and C > CNET_REDUCE_BLOCK:
            for r in range(R):
                if not _softmax_long_row(x + r * xrs, xcs, y + r * yrs, ycs, C, nt):
                    break
            else:
                return
    for b in prange(nb, num_threads=nt, schedule='static'):
        r0 = b * rows
        cnt = R - r0
        if cnt > rows:
            cnt = rows
        if real_t is double:
            cnet_softmax_f64(x + r0 * xrs, xrs, xcs, y + r0 * yrs, yrs, ycs, cnt, C)
        elif real_t is float:
            cnet_softmax_f32(x + r0 * xrs, xrs, xcs, y + r0 * yrs, yrs, ycs, cnt, C)
        else:
            cnet_softmax_f16(x + r0 * xrs, xrs, xcs, y + r0 * yrs, yrs, ycs, cnt, C)


def softmax(cnp.ndarray x, cnp.ndarray y, Py_ssize_t R, Py_ssize_t C,
            Py_ssize_t xrs, Py_ssize_t xcs, Py_ssize_t yrs, Py_ssize_t ycs):
    """y = softmax(x) along rows: x (R, C) IN, y (R, C) OUT, one float dtype."""
    cdef char *xp = _data(x)
    cdef char *yp = _data(y)
    cdef int size = x.descr.itemsize
    if size == 8:
        with nogil:
            _softmax_real(<double *>xp, xrs, xcs, <double *>yp, yrs, ycs, R, C)
    elif size == 4:
        with nogil:
            _softmax_real(<float *>xp, xrs, xcs, <float *>yp, yrs, ycs, R, C)
    else:
        with nogil:
            _softmax_real(<uint16_t *>xp, xrs, xcs, <uint16_t *>yp, yrs, ycs, R, C)


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

cdef inline double _ce_term(const real_t *y, Py_ssize_t ycs, Py_ssize_t k) noexcept nogil:
    """log(y[k] + 1e-7) of one row y, in y's precision."""
    if real_t is double:
        return cnet_ce_term_f64(y[k * ycs])
    elif real_t is float:
        return cnet_ce_term_f32(y[k * ycs])
    else:
        return cnet_ce_term_f16(cnet_half_to_float(y[k * ycs]))


cdef inline double _softmax_ce_rows(const real_t *x, Py_ssize_t xrs, Py_ssize_t xcs,
                                    const Py_ssize_t *lab, Py_ssize_t R,
                                    Py_ssize_t C) noexcept nogil:
    if real_t is double:
        return cnet_softmax_ce_sum_f64(x, xrs, xcs, lab, R, C)
    elif real_t is float:
        return cnet_softmax_ce_sum_f32(x, xrs, xcs, lab, R, C)
    else:
        return cnet_softmax_ce_sum_f16(x, xrs, xcs, lab, R, C)


cdef double _ce_sum(const real_t *y, Py_ssize_t yrs, Py_ssize_t ycs, Py_ssize_t C,
                    const Py_ssize_t *lab, Py_ssize_t N, bint from_logits,
                    double *partial) noexcept nogil:
    """Sum over rows of the cross-entropy term; rows summed in blocks of
    CNET_REDUCE_BLOCK (partial holds one sum per block), blocks in order."""
    cdef Py_ssize_t nb = (N + CNET_REDUCE_BLOCK - 1) // CNET_REDUCE_BLOCK
    cdef Py_ssize_t b, i, i1
    cdef double acc, total = 0.0
    cdef int nt = cnet_threads_for(<size_t>N * C, CNET_PARALLEL_MIN) if from_logits \
        else cnet_threads_for(<size_t>N, MEMORY_BOUND_MIN)
    for b in prange(nb, num_threads=nt, schedule='static'):
        acc = 0.0
        i1 = (b + 1) * CNET_REDUCE_BLOCK
        if i1 > N:
            i1 = N
        if from_logits:
            acc = _softmax_ce_rows(y + b * CNET_REDUCE_BLOCK * yrs, yrs, ycs,
                                   lab + b * CNET_REDUCE_BLOCK,
                                   i1 - b * CNET_REDUCE_BLOCK, C)
        else:
            for i in range(b * CNET_REDUCE_BLOCK, i1):
                acc = acc + _ce_term(y + i * yrs, ycs, lab[i])
        partial[b] = acc
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
    into blocks of CNET_REDUCE_BLOCK elements, block sums added in order."""
    cdef Py_ssize_t n = R * C
    cdef Py_ssize_t nb = (n + CNET_REDUCE_BLOCK - 1) // CNET_REDUCE_BLOCK
    cdef Py_ssize_t b, i, i0, i1, r, c, j, seg
    cdef const real_t *yr
    cdef const real2_t *tr
    cdef double acc, total = 0.0
    cdef int nt = cnet_threads_for(<size_t>n, MEMORY_BOUND_MIN)
    for b in prange(nb, num_threads=nt, schedule='static'):
        acc = 0.0
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
            for j in range(seg):
                acc = acc + _sq_term(yr + j * ycs, tr + j * tcs, work)
            i = i + seg
            c = c + seg
            if c == C:
                c = 0
                r = r + 1
        partial[b] = acc
    for b in range(nb):
        total += partial[b]
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
    partial = <double *>malloc(nb * sizeof(double))
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
